-- State-vector and suspension invariants over ALL rows after every step of
-- lifecycles that suspend, buffer, resume, time out, escalate and end:
--   * the foundation's: public_state derived, terminal iff an outcome, leases
--     held only by the current attempt of an active + leased execution
--   * an execution has an open suspension exactly while it is suspended
--   * a suspended execution is unowned / not_applicable / attempt_interrupted
--     and its current attempt is parked (attempt_lifecycle suspended, no lease)
--   * active waitpoints belong to the open suspension of their execution;
--     pending ones to no suspension; a closed suspension has no open waitpoint
--   * a terminal execution has no open suspension and no open waitpoint
--   * satisfier signals belong to a suspension
BEGIN;
SELECT plan(30);

DELETE FROM ff_waitpoint_hmac;
SELECT ff_seed_waitpoint_hmac_secret('kid-1', repeat('ab', 32));

CREATE FUNCTION pg_temp.violations() RETURNS text[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(v ORDER BY v), '{}') FROM (
        SELECT 'public_state not derived: ' || execution_id
          FROM ff_execution
         WHERE public_state IS DISTINCT FROM ff_derive_public_state(lifecycle_phase, eligibility_state, terminal_outcome)
        UNION ALL
        SELECT 'terminal phase / outcome mismatch: ' || execution_id
          FROM ff_execution WHERE (lifecycle_phase = 'terminal') <> (terminal_outcome <> 'none')
        UNION ALL
        SELECT 'lease held outside an active+leased current attempt: ' || a.execution_id
          FROM ff_attempt a JOIN ff_execution e USING (partition_key, execution_id)
         WHERE a.lease_expires_at_ms IS NOT NULL
           AND NOT (e.lifecycle_phase = 'active' AND e.ownership_state = 'leased' AND e.attempt_index = a.attempt_index)
        UNION ALL
        SELECT 'active+leased without a lease: ' || e.execution_id
          FROM ff_execution e
         WHERE e.lifecycle_phase = 'active' AND e.ownership_state = 'leased'
           AND NOT EXISTS (SELECT 1 FROM ff_attempt a WHERE a.partition_key = e.partition_key AND a.execution_id = e.execution_id
                              AND a.attempt_index = e.attempt_index AND a.lease_expires_at_ms IS NOT NULL
                              AND a.lease_epoch = e.lease_epoch)
        UNION ALL
        SELECT 'suspended without exactly one open suspension: ' || e.execution_id
          FROM ff_execution e
         WHERE e.lifecycle_phase = 'suspended'
           AND (SELECT count(*) FROM ff_suspension s WHERE s.partition_key = e.partition_key
                   AND s.execution_id = e.execution_id AND s.closed_at_ms IS NULL) <> 1
        UNION ALL
        SELECT 'open suspension of an execution that is not suspended: ' || s.execution_id
          FROM ff_suspension s JOIN ff_execution e USING (partition_key, execution_id)
         WHERE s.closed_at_ms IS NULL AND e.lifecycle_phase <> 'suspended'
        UNION ALL
        SELECT 'suspended vector wrong: ' || e.execution_id
          FROM ff_execution e
         WHERE e.lifecycle_phase = 'suspended'
           AND (e.ownership_state, e.eligibility_state, e.attempt_state, e.terminal_outcome)
               <> ('unowned', 'not_applicable', 'attempt_interrupted', 'none')
        UNION ALL
        SELECT 'suspended execution whose attempt is not parked: ' || e.execution_id
          FROM ff_execution e JOIN ff_attempt a ON a.partition_key = e.partition_key
                                               AND a.execution_id = e.execution_id AND a.attempt_index = e.attempt_index
         WHERE e.lifecycle_phase = 'suspended'
           AND (a.attempt_lifecycle <> 'suspended' OR a.lease_expires_at_ms IS NOT NULL)
        UNION ALL
        SELECT 'open suspension of another attempt: ' || s.execution_id
          FROM ff_suspension s JOIN ff_execution e USING (partition_key, execution_id)
         WHERE s.closed_at_ms IS NULL AND s.attempt_index <> e.attempt_index
        UNION ALL
        SELECT 'active waitpoint outside the open suspension: ' || w.waitpoint_id
          FROM ff_waitpoint w
         WHERE w.state = 'active'
           AND NOT EXISTS (SELECT 1 FROM ff_suspension s WHERE s.partition_key = w.partition_key
                              AND s.execution_id = w.execution_id AND s.suspension_id = w.suspension_id
                              AND s.closed_at_ms IS NULL)
        UNION ALL
        SELECT 'pending waitpoint bound to a suspension: ' || w.waitpoint_id
          FROM ff_waitpoint w WHERE w.state = 'pending' AND (w.suspension_id IS NOT NULL OR w.binding_index IS NOT NULL)
        UNION ALL
        SELECT 'closed suspension with an open waitpoint: ' || w.waitpoint_id
          FROM ff_waitpoint w JOIN ff_suspension s ON s.partition_key = w.partition_key
                                                 AND s.execution_id = w.execution_id AND s.suspension_id = w.suspension_id
         WHERE s.closed_at_ms IS NOT NULL AND w.state <> 'closed'
        UNION ALL
        SELECT 'terminal execution with an open waitpoint: ' || w.waitpoint_id
          FROM ff_waitpoint w JOIN ff_execution e USING (partition_key, execution_id)
         WHERE e.lifecycle_phase = 'terminal' AND w.state <> 'closed'
        UNION ALL
        SELECT 'satisfier outside a suspension: ' || g.signal_id
          FROM ff_signal g WHERE g.satisfier AND g.suspension_id IS NULL
    ) s(v)
$$;

CREATE FUNCTION pg_temp.deliver(wp_table text, idx int, name text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    EXECUTE format('SELECT effect FROM ff_deliver_signal(''{fp:58}:00000000-0000-4000-8000-000000005801'',
                        (SELECT waitpoint_id FROM %I WHERE waitpoint_index = %s), (SELECT waitpoint_token FROM %I WHERE waitpoint_index = %s), %L)',
                   wp_table, idx, wp_table, idx, name) INTO r;
    RETURN r;
END $$;

------------------------------------------------------------------------------
-- one execution through many suspensions
------------------------------------------------------------------------------
SELECT ff_create_execution('tap57', execution_id => '{fp:58}:00000000-0000-4000-8000-000000005801');
SELECT is(pg_temp.violations(), '{}'::text[], 'after create');
CREATE TEMP TABLE h1 AS SELECT * FROM ff_claim('tap57', 'w1', 'wi-1', lease_ttl_ms => 6000000);
SELECT is(pg_temp.violations(), '{}'::text[], 'after claim');
CREATE TEMP TABLE p1 AS SELECT * FROM ff_create_waitpoint((SELECT handle FROM h1), 'wpk:early', 600000);
SELECT is(pg_temp.violations(), '{}'::text[], 'after create_waitpoint');
SELECT ff_deliver_signal('{fp:58}:00000000-0000-4000-8000-000000005801', (SELECT waitpoint_id FROM p1),
                         (SELECT waitpoint_token FROM p1), 'first');
SELECT is(pg_temp.violations(), '{}'::text[], 'after a buffered signal');
CREATE TEMP TABLE s1 AS SELECT * FROM ff_suspend((SELECT handle FROM h1),
    jsonb_build_array(jsonb_build_object('use_pending', (SELECT waitpoint_id FROM p1)), 'wpk:b'));
SELECT is((SELECT outcome FROM s1 LIMIT 1), 'suspended', 'suspended on a pending and a fresh waitpoint');
SELECT is(pg_temp.violations(), '{}'::text[], 'after suspend');
SELECT is(pg_temp.deliver('s1', 1, 'second'), 'resume_condition_satisfied', 'the buffered signal counted; the second completes it');
SELECT is(pg_temp.violations(), '{}'::text[], 'after the satisfying signal');
CREATE TEMP TABLE h2 AS SELECT * FROM ff_claim_resumed_execution('{fp:58}:00000000-0000-4000-8000-000000005801', 'w1', 'wi-1', 'tap57',
                                                                 lease_ttl_ms => 6000000);
SELECT is(pg_temp.violations(), '{}'::text[], 'after claim_resumed');
CREATE TEMP TABLE s2 AS SELECT * FROM ff_suspend((SELECT handle FROM h2), '["wpk:c"]',
    timeout_at => ff_server_time_ms() + 1000, timeout_behavior => 'auto_resume_with_timeout_signal');
SELECT is(pg_temp.violations(), '{}'::text[], 'after the second suspend');
SET LOCAL flowfabric.clock_offset_ms = 2000;
SELECT is(ff_reconcile_suspension_timeout(), 1, 'auto-resumed by its timeout');
SELECT is(pg_temp.violations(), '{}'::text[], 'after the auto-resume');
CREATE TEMP TABLE h3 AS SELECT * FROM ff_claim('tap57', 'w2', 'wi-2', lease_ttl_ms => 6000000);
SELECT is((SELECT attempt_index FROM h3), 0, 'a plain claim resumes the same attempt');
SELECT is(pg_temp.violations(), '{}'::text[], 'after the claim');
CREATE TEMP TABLE s3 AS SELECT * FROM ff_suspend((SELECT handle FROM h3), '["wpk:d"]',
    timeout_at => ff_server_time_ms() + 1000, timeout_behavior => 'escalate');
SET LOCAL flowfabric.clock_offset_ms = 4000;
SELECT is(ff_reconcile_suspension_timeout(), 1, 'escalated by its timeout');
SELECT is(pg_temp.violations(), '{}'::text[], 'after the escalation');
SELECT is(ff_resume_execution('{fp:58}:00000000-0000-4000-8000-000000005801', resume_delay_ms => 1000), 'delayed', 'an operator resumes it with a delay');
SELECT is(pg_temp.violations(), '{}'::text[], 'after the operator resume');
SET LOCAL flowfabric.clock_offset_ms = 6000;
SELECT is(ff_reconcile_delayed_promotion(), 1, 'promoted');
CREATE TEMP TABLE h4 AS SELECT * FROM ff_claim('tap57', 'w3', 'wi-3', lease_ttl_ms => 6000000);
SELECT is(pg_temp.violations(), '{}'::text[], 'after promotion and claim');
CREATE TEMP TABLE p4 AS SELECT * FROM ff_create_waitpoint((SELECT handle FROM h4), 'wpk:later', 600000);
CREATE TEMP TABLE s4 AS SELECT * FROM ff_suspend((SELECT handle FROM h4), '["wpk:e"]');
SELECT is(pg_temp.violations(), '{}'::text[], 'suspended again, with another pending waitpoint left unbound');
UPDATE ff_execution SET deadline_at_ms = ff_server_time_ms() WHERE execution_id = '00000000-0000-4000-8000-000000005801';
SELECT is(ff_reconcile_execution_deadline(), 1, 'the execution deadline ends it');
SELECT is(pg_temp.violations(), '{}'::text[], 'after the deadline (suspension and both waitpoints closed)');
RESET flowfabric.clock_offset_ms;

------------------------------------------------------------------------------
-- already_satisfied, a pending waitpoint at completion, timeouts
------------------------------------------------------------------------------
SELECT ff_create_execution('tap57-b', execution_id => '{fp:58}:00000000-0000-4000-8000-000000005802');
CREATE TEMP TABLE h5 AS SELECT * FROM ff_claim('tap57-b', 'w', 'wi', lease_ttl_ms => 6000000);
CREATE TEMP TABLE p5 AS SELECT * FROM ff_create_waitpoint((SELECT handle FROM h5), 'wpk:x', 600000);
SELECT ff_deliver_signal('{fp:58}:00000000-0000-4000-8000-000000005802', (SELECT waitpoint_id FROM p5), (SELECT waitpoint_token FROM p5), 'go');
SELECT is((SELECT outcome FROM ff_suspend((SELECT handle FROM h5), jsonb_build_array(jsonb_build_object('use_pending', (SELECT waitpoint_id FROM p5))))),
          'already_satisfied', 'already satisfied');
SELECT is(pg_temp.violations(), '{}'::text[], 'after already_satisfied (the lease is kept)');
CREATE TEMP TABLE p5b AS SELECT * FROM ff_create_waitpoint((SELECT handle FROM h5), 'wpk:y', 600000);
SELECT ff_complete((SELECT handle FROM h5));
SELECT is(pg_temp.violations(), '{}'::text[], 'after completing with a pending waitpoint (it closed)');
SELECT is((SELECT close_reason FROM ff_waitpoint WHERE waitpoint_id = (SELECT waitpoint_id FROM p5b)), 'execution_success',
          'closed by the completion');

SELECT ff_create_execution('tap57-c', execution_id => '{fp:58}:00000000-0000-4000-8000-000000005803');
CREATE TEMP TABLE h6 AS SELECT * FROM ff_claim('tap57-c', 'w', 'wi', lease_ttl_ms => 6000000);
SELECT ff_suspend((SELECT handle FROM h6), '["wpk:z"]', timeout_at => ff_server_time_ms() + 1000, timeout_behavior => 'cancel');
SET LOCAL flowfabric.clock_offset_ms = 2000;
SELECT is(ff_reconcile_suspension_timeout(), 1, 'a cancel timeout');
SELECT is(pg_temp.violations(), '{}'::text[], 'after a terminal timeout');
SELECT is((SELECT count(*) FROM ff_list_suspended('{fp:58}')), 0::bigint, 'nothing is listed as suspended at the end');

SELECT * FROM finish();
ROLLBACK;

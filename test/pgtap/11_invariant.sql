-- State-vector invariants, checked over ALL rows after every operation of
-- a full lifecycle (create, claim, progress, renew, fail -> retry, promote,
-- claim, delay, promote, resume, complete), a cancel path, a lease-expiry /
-- reclaim path, an attempt-timeout path and a deadline path:
--   * public_state = ff_derive_public_state(lifecycle_phase, eligibility_state, terminal_outcome)
--   * (lifecycle_phase = 'terminal') = (terminal_outcome <> 'none')
--   * at most one attempt per execution holds a lease (lease_expires_at_ms
--     not NULL), and only the current attempt of an active + leased execution;
--     conversely an active + leased execution's current attempt holds one
--   * total_attempt_count = number of attempt rows; lease_epoch = highest
--     epoch any attempt was given
BEGIN;
SELECT plan(38);

CREATE FUNCTION pg_temp.violations() RETURNS text[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(v ORDER BY v), '{}') FROM (
        SELECT 'public_state not derived: ' || execution_id
          FROM ff_execution
         WHERE public_state IS DISTINCT FROM ff_derive_public_state(lifecycle_phase, eligibility_state, terminal_outcome)
        UNION ALL
        SELECT 'terminal phase / outcome mismatch: ' || execution_id
          FROM ff_execution
         WHERE (lifecycle_phase = 'terminal') <> (terminal_outcome <> 'none')
        UNION ALL
        SELECT 'several leased attempts: ' || execution_id
          FROM ff_attempt WHERE lease_expires_at_ms IS NOT NULL
         GROUP BY partition_key, execution_id HAVING count(*) > 1
        UNION ALL
        SELECT 'lease held outside an active+leased current attempt: ' || a.execution_id || '/' || a.attempt_index
          FROM ff_attempt a JOIN ff_execution e USING (partition_key, execution_id)
         WHERE a.lease_expires_at_ms IS NOT NULL
           AND NOT (e.lifecycle_phase = 'active' AND e.ownership_state = 'leased' AND e.attempt_index = a.attempt_index)
        UNION ALL
        SELECT 'active+leased without a lease on the current attempt: ' || e.execution_id
          FROM ff_execution e
         WHERE e.lifecycle_phase = 'active' AND e.ownership_state = 'leased'
           AND NOT EXISTS (SELECT 1 FROM ff_attempt a
                            WHERE a.partition_key = e.partition_key AND a.execution_id = e.execution_id
                              AND a.attempt_index = e.attempt_index AND a.lease_expires_at_ms IS NOT NULL
                              AND a.lease_epoch = e.lease_epoch)
        UNION ALL
        SELECT 'attempt count or epoch out of step: ' || e.execution_id
          FROM ff_execution e
          LEFT JOIN (SELECT partition_key, execution_id, count(*) AS n, max(lease_epoch) AS epoch
                       FROM ff_attempt GROUP BY 1, 2) a USING (partition_key, execution_id)
         WHERE e.total_attempt_count <> coalesce(a.n, 0) OR e.lease_epoch <> coalesce(a.epoch, 0)
    ) s(v)
$$;

-- a fixture row that the invariants must hold for too: created delayed
SELECT ff_create_execution('tap11-delayed', delay_until => ff_server_time_ms() + 3600000);

------------------------------------------------------------------------------
-- the main lifecycle
------------------------------------------------------------------------------
SELECT ff_create_execution('tap11-main', execution_id => '{fp:110}:00000000-0000-4000-8000-000000001101',
        policy => '{"retry_policy": {"max_retries": 2, "backoff": {"type": "fixed", "delay_ms": 1000}}}');
SELECT is(pg_temp.violations(), '{}'::text[], 'after create');
CREATE TEMP TABLE h1 AS SELECT * FROM ff_claim('tap11-main', 'w1', 'wi-1');
SELECT is(pg_temp.violations(), '{}'::text[], 'after claim');
SELECT ff_progress((SELECT handle FROM h1), 30, 'working');
SELECT is(pg_temp.violations(), '{}'::text[], 'after progress');
SELECT ff_renew((SELECT handle FROM h1));
SELECT is(pg_temp.violations(), '{}'::text[], 'after renew');
SELECT is((SELECT outcome FROM ff_fail((SELECT handle FROM h1), 'flaky')), 'retry_scheduled', 'fail schedules a retry');
SELECT is(pg_temp.violations(), '{}'::text[], 'after fail -> retry');
SET LOCAL flowfabric.clock_offset_ms = 2000;
SELECT is(ff_reconcile_delayed_promotion(), 1, 'the retry is promoted');
SELECT is(pg_temp.violations(), '{}'::text[], 'after promotion');
CREATE TEMP TABLE h2 AS SELECT * FROM ff_claim('tap11-main', 'w2', 'wi-2');
SELECT is(pg_temp.violations(), '{}'::text[], 'after the retry claim');
SELECT ff_delay((SELECT handle FROM h2), ff_server_time_ms() + 1000);
SELECT is(pg_temp.violations(), '{}'::text[], 'after delay');
SET LOCAL flowfabric.clock_offset_ms = 4000;
SELECT is(ff_reconcile_delayed_promotion(), 1, 'the delayed execution is promoted');
SELECT is(pg_temp.violations(), '{}'::text[], 'after the second promotion');
CREATE TEMP TABLE h3 AS SELECT * FROM ff_claim('tap11-main', 'w3', 'wi-3');
SELECT is(pg_temp.violations(), '{}'::text[], 'after the resume claim');
SELECT ff_complete((SELECT handle FROM h3), '\x11'::bytea);
SELECT is(pg_temp.violations(), '{}'::text[], 'after complete');
SELECT ff_complete((SELECT handle FROM h3), '\x11'::bytea);
SELECT is(pg_temp.violations(), '{}'::text[], 'after the complete replay');
SELECT results_eq(
    $$SELECT public_state, total_attempt_count, lease_epoch, retry_count FROM ff_execution
       WHERE execution_id = '00000000-0000-4000-8000-000000001101'$$,
    $$VALUES ('completed'::text, 2, 3::bigint, 1)$$,
    'the main path really went through: completed after 2 attempts and 3 leases');

------------------------------------------------------------------------------
-- cancel path
------------------------------------------------------------------------------
SELECT ff_create_execution('tap11-cancel', execution_id => '{fp:110}:00000000-0000-4000-8000-000000001102');
SELECT is(pg_temp.violations(), '{}'::text[], 'cancel path: after create');
CREATE TEMP TABLE c1 AS SELECT * FROM ff_claim('tap11-cancel', 'w1', 'wi-1');
SELECT is(pg_temp.violations(), '{}'::text[], 'cancel path: after claim');
SELECT ff_cancel((SELECT handle FROM c1), 'stop');
SELECT is(pg_temp.violations(), '{}'::text[], 'cancel path: after cancel');
SELECT is(ff_read_execution_state('{fp:110}:00000000-0000-4000-8000-000000001102'), 'cancelled', 'cancel path really cancelled');

------------------------------------------------------------------------------
-- expiry path: lease expires, reconciled, reclaimed, fails terminally
------------------------------------------------------------------------------
SELECT ff_create_execution('tap11-expiry', execution_id => '{fp:110}:00000000-0000-4000-8000-000000001103');
CREATE TEMP TABLE x1 AS SELECT * FROM ff_claim('tap11-expiry', 'w1', 'wi-1', lease_ttl_ms => 1000);
SELECT is(pg_temp.violations(), '{}'::text[], 'expiry path: after claim');
SET LOCAL flowfabric.clock_offset_ms = 6000;
SELECT is(pg_temp.violations(), '{}'::text[], 'expiry path: lease time passed, not yet reconciled');
SELECT is(ff_reconcile_lease_expiry(), 1, 'expiry path: the lease is marked expired');
SELECT is(pg_temp.violations(), '{}'::text[], 'expiry path: after the lease expiry reconciler');
CREATE TEMP TABLE x2 AS SELECT * FROM ff_claim('tap11-expiry', 'w2', 'wi-2');
SELECT is(pg_temp.violations(), '{}'::text[], 'expiry path: after the reclaim');
SELECT ff_fail((SELECT handle FROM x2), 'gave up', 'permanent');
SELECT is(pg_temp.violations(), '{}'::text[], 'expiry path: after the terminal failure');
SELECT results_eq(
    $$SELECT public_state, total_attempt_count, reclaim_count FROM ff_execution
       WHERE execution_id = '00000000-0000-4000-8000-000000001103'$$,
    $$VALUES ('failed'::text, 2, 1)$$, 'expiry path really went through: reclaimed once, then failed');

------------------------------------------------------------------------------
-- attempt timeout and execution deadline paths
------------------------------------------------------------------------------
SELECT ff_create_execution('tap11-timeout', execution_id => '{fp:110}:00000000-0000-4000-8000-000000001104',
        policy => '{"timeout_policy": {"attempt_timeout_ms": 500}, "retry_policy": {"max_retries": 1, "backoff": {"type": "fixed", "delay_ms": 0}}}');
CREATE TEMP TABLE t1 AS SELECT * FROM ff_claim('tap11-timeout', 'w1', 'wi-1', lease_ttl_ms => 600000);
SET LOCAL flowfabric.clock_offset_ms = 7000;
SELECT is(ff_reconcile_attempt_timeout(), 1, 'timeout path: first timeout');
SELECT is(pg_temp.violations(), '{}'::text[], 'timeout path: after the retrying timeout');
CREATE TEMP TABLE t2 AS SELECT * FROM ff_claim('tap11-timeout', 'w2', 'wi-2', lease_ttl_ms => 600000);
SET LOCAL flowfabric.clock_offset_ms = 8000;
SELECT is(ff_reconcile_attempt_timeout(), 1, 'timeout path: second timeout');
SELECT is(pg_temp.violations(), '{}'::text[], 'timeout path: after the expiring timeout');

SELECT ff_create_execution('tap11-deadline', execution_id => '{fp:110}:00000000-0000-4000-8000-000000001105',
                           execution_deadline_at => ff_server_time_ms() + 500);
CREATE TEMP TABLE dl1 AS SELECT * FROM ff_claim('tap11-deadline', 'w1', 'wi-1', lease_ttl_ms => 600000);
SELECT is(pg_temp.violations(), '{}'::text[], 'deadline path: after claim');
SET LOCAL flowfabric.clock_offset_ms = 9000;
SELECT is(ff_reconcile_execution_deadline(), 1, 'deadline path: the deadline passes');
SELECT is(pg_temp.violations(), '{}'::text[], 'deadline path: after the deadline reconciler');

SELECT results_eq(
    $$SELECT lane_id, public_state FROM ff_execution WHERE lane_id LIKE 'tap11-%' ORDER BY lane_id$$,
    $$VALUES ('tap11-cancel'::text, 'cancelled'::text), ('tap11-deadline', 'expired'), ('tap11-delayed', 'delayed'),
             ('tap11-expiry', 'failed'), ('tap11-main', 'completed'), ('tap11-timeout', 'expired')$$,
    'every path ended where intended');
SELECT is((SELECT count(*) FROM ff_attempt a JOIN ff_execution e USING (partition_key, execution_id)
            WHERE e.lane_id LIKE 'tap11-%' AND a.lease_expires_at_ms IS NOT NULL), 0::bigint,
          'no lease survives on any finished execution');

-- the checker itself is able to fail: plant violations and roll them back
SAVEPOINT plant;
UPDATE ff_attempt SET lease_expires_at_ms = 1
 WHERE execution_id IN ('00000000-0000-4000-8000-000000001102', '00000000-0000-4000-8000-000000001101');
UPDATE ff_execution SET total_attempt_count = 5 WHERE execution_id = '00000000-0000-4000-8000-000000001105';
SELECT is(pg_temp.violations(),
          ARRAY['attempt count or epoch out of step: 00000000-0000-4000-8000-000000001105',
                'lease held outside an active+leased current attempt: 00000000-0000-4000-8000-000000001101/0',
                'lease held outside an active+leased current attempt: 00000000-0000-4000-8000-000000001101/1',
                'lease held outside an active+leased current attempt: 00000000-0000-4000-8000-000000001102/0',
                'several leased attempts: 00000000-0000-4000-8000-000000001101'],
          'the checker reports planted violations');
ROLLBACK TO SAVEPOINT plant;
SELECT is(pg_temp.violations(), '{}'::text[], 'and is clean again once they are rolled back');

SELECT * FROM finish();
ROLLBACK;

-- ff_claim_resumed_execution honours claim grants as ff_claim does: while a
-- live grant (claim or reclaim kind) reserves a resumed execution for
-- another worker instance, claiming it by name is refused with YFC05
-- invalid_claim_grant (retryable; the detail says when the grant expires)
-- and nothing changes - not even a budget hold-back is stored. The grant
-- holder claims it, which uses the grant up; once a grant has expired,
-- any worker claims it. Invariants are checked at the end.
BEGIN;
SELECT plan(40);
\ir 75_budget_helpers.inc
CREATE FUNCTION pg_temp.eid(n int) RETURNS text LANGUAGE sql AS
$$ SELECT '{fp:89}:00000000-0000-4000-8000-' || lpad((8900 + n)::text, 12, '0') $$;
CREATE FUNCTION pg_temp.uid(n int) RETURNS uuid LANGUAGE sql AS
$$ SELECT split_part(pg_temp.eid(n), '}:', 2)::uuid $$;
-- the SQLSTATE, message and detail of a statement, or 'no error'
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    d text;
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    RETURN SQLSTATE || ' ' || SQLERRM || ' | ' || coalesce(d, '');
END $$;
-- execution n on lane, claimed by w1, suspended on a waitpoint and resumed
-- by the operator: runnable / eligible_now / attempt_interrupted (the resume
-- raises YFS04 if the claim did not hand out this execution)
CREATE FUNCTION pg_temp.resumed(n int, lane text, policy jsonb DEFAULT NULL) RETURNS text
    LANGUAGE sql AS $$
    SELECT ff_create_execution(lane, execution_id => pg_temp.eid(n), policy => policy);
    SELECT ff_suspend(c.handle, '["wpk:r"]')
      FROM ff_claim(lane, 'w1', 'w1/1', lease_ttl_ms => 600000) c WHERE c.execution_id = pg_temp.eid(n);
    SELECT ff_resume_execution(pg_temp.eid(n), 'operator');
$$;
-- the handles claim_resumed returned, newest last
CREATE TEMP TABLE handles (n int, handle bytea, seq serial);
CREATE FUNCTION pg_temp.cr(n int, lane text, w text, wi text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    k bigint;
BEGIN
    INSERT INTO handles (n, handle)
    SELECT n, c.handle
      FROM ff_claim_resumed_execution(pg_temp.eid(n), w, wi, lane, lease_ttl_ms => 600000) c;
    GET DIAGNOSTICS k = ROW_COUNT;
    RETURN k;
END $$;
CREATE FUNCTION pg_temp.h(n int) RETURNS bytea LANGUAGE sql AS
$$ SELECT handle FROM handles h WHERE h.n = $1 ORDER BY seq DESC LIMIT 1 $$;
-- attempt_state/attempt_index/lease_epoch/worker of the current attempt
CREATE FUNCTION pg_temp.attempt(n int) RETURNS text LANGUAGE sql AS $$
    SELECT concat_ws('/', e.attempt_state, e.attempt_index, e.lease_epoch, a.worker_instance_id)
      FROM ff_execution e JOIN ff_attempt a USING (partition_key, execution_id, attempt_index)
     WHERE e.execution_id = pg_temp.uid(n)
$$;
CREATE FUNCTION pg_temp.grants(n int) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(kind || ':' || worker_instance_id, ',' ORDER BY kind), '')
      FROM ff_claim_grant WHERE execution_id = pg_temp.uid(n)
$$;
CREATE FUNCTION pg_temp.lease_events(n int) RETURNS bigint LANGUAGE sql AS
$$ SELECT count(*) FROM ff_lease_event WHERE execution_id = pg_temp.uid(n) $$;
CREATE FUNCTION pg_temp.msg(n int, kind text) RETURNS text LANGUAGE sql AS
$$ SELECT 'invalid_claim_grant: execution ' || pg_temp.eid(n) ||
          ' is reserved for another worker by a live ' || kind || ' grant' $$;
-- claim grants are signed with the waitpoint keystore
DELETE FROM ff_waitpoint_hmac;
SELECT ff_seed_waitpoint_hmac_secret('kid-89', repeat('ef', 32));

------------------------------------------------------------------------------
-- A live claim grant of another worker reserves the resumed execution
------------------------------------------------------------------------------
SELECT is(pg_temp.resumed(1, 'tap89-a'), 'waiting', 'setup: 1 suspended and resumed (waiting)');
SELECT is(pg_temp.attempt(1), 'attempt_interrupted/0/1/w1/1', '... its attempt is interrupted (epoch 1)');
CREATE TEMP TABLE g1 AS SELECT * FROM ff_issue_claim_grant(pg_temp.eid(1), 'wA', 'wA/1', grant_ttl_ms => 30000);
SELECT is(pg_temp.grants(1), 'claim:wA/1', 'a claim grant reserves it for wA/1');
SELECT throws_ok($$SELECT * FROM ff_claim_resumed_execution(pg_temp.eid(1), 'wB', 'wB/1', 'tap89-a')$$,
                 'YFC05', pg_temp.msg(1, 'claim'),
                 'another worker: claim_resumed -> YFC05 invalid_claim_grant');
SELECT is(split_part(pg_temp.err($$SELECT * FROM ff_claim_resumed_execution(pg_temp.eid(1), 'wB', 'wB/1', 'tap89-a')$$),
                     ' | ', 2),
          'The grant expires at ' || (SELECT expires_at_ms FROM g1) || ' (engine clock).',
          '... the detail says when the grant expires');
SELECT throws_ok($$SELECT * FROM ff_claim_resumed_execution(pg_temp.eid(1), 'wA', 'wA/2', 'tap89-a')$$,
                 'YFC05', pg_temp.msg(1, 'claim'),
                 'the same worker id, another instance -> YFC05 too (a grant is for one instance)');
SELECT is(pg_temp.vec(pg_temp.eid(1)), 'runnable/unowned/eligible_now/waiting_for_worker/waiting',
          '... the execution is untouched (still waiting)');
SELECT is(pg_temp.attempt(1), 'attempt_interrupted/0/1/w1/1', '... its attempt too (no new lease, same epoch)');
SELECT is(pg_temp.lease_events(1), 2::bigint, '... no lease event (acquired, released only)');
SELECT is(pg_temp.grants(1), 'claim:wA/1', '... and the grant is still there');
SELECT is((SELECT count(*) FROM ff_claim('tap89-a', 'wB', 'wB/1')), 0::bigint,
          'consistent with ff_claim: it hands the execution to no other worker either');
SELECT is((SELECT granted FROM ff_scan_eligible_executions('tap89-a') WHERE execution_id = pg_temp.eid(1)), true,
          '... and the scan shows it granted');
SELECT is(pg_temp.cr(1, 'tap89-a', 'wA', 'wA/1'), 1::bigint, 'the grant holder claims it with claim_resumed');
SELECT is(pg_temp.attempt(1), 'running_attempt/0/2/wA/1', '... the same attempt continues, epoch 2, wA/1');
SELECT is(pg_temp.grants(1), '', '... the grant is used up');
SELECT is((SELECT reason FROM ff_lease_event WHERE execution_id = pg_temp.uid(1) ORDER BY event_id DESC LIMIT 1),
          'claim_resumed', '... lease event acquired / claim_resumed');
SELECT throws_ok($$SELECT * FROM ff_claim_execution(pg_temp.eid(1), (SELECT grant_key FROM g1), 'wA', 'wA/1')$$,
                 'YFC05', NULL, '... so the grant key no longer claims anything (YFC05, already used)');
SELECT ff_complete(pg_temp.h(1));
SELECT is(pg_temp.st(pg_temp.eid(1)), 'completed', 'the holder''s handle completes it');

------------------------------------------------------------------------------
-- An expired grant reserves nothing
------------------------------------------------------------------------------
SELECT is(pg_temp.resumed(2, 'tap89-b'), 'waiting', 'setup: 2 suspended and resumed');
SELECT is((SELECT count(*) FROM ff_issue_claim_grant(pg_temp.eid(2), 'wA', 'wA/1', grant_ttl_ms => 1000)), 1::bigint,
          'a one-second grant for wA/1');
SET LOCAL flowfabric.clock_offset_ms = 5000;
SELECT is(pg_temp.cr(2, 'tap89-b', 'wB', 'wB/1'), 1::bigint, 'after it expired another worker claims it');
SET LOCAL flowfabric.clock_offset_ms = 0;
SELECT is(pg_temp.attempt(2), 'running_attempt/0/2/wB/1', '... the same attempt, epoch 2, wB/1');
SELECT is(pg_temp.grants(2), '', '... and the expired grant row is gone with the claim');

------------------------------------------------------------------------------
-- A live reclaim grant reserves it too (ff_claim skips any live grant)
------------------------------------------------------------------------------
SELECT ff_create_execution('tap89-c', execution_id => pg_temp.eid(3));
CREATE TEMP TABLE h3 AS SELECT handle FROM ff_claim('tap89-c', 'w1', 'w1/1', lease_ttl_ms => 1000);
SET LOCAL flowfabric.clock_offset_ms = 2000;
SELECT ff_reconcile_lease_expiry();
SET LOCAL flowfabric.clock_offset_ms = 0;
SELECT is((SELECT outcome FROM ff_issue_reclaim_grant(pg_temp.eid(3), 'wA', 'wA/1', grant_ttl_ms => 30000)),
          'granted', 'setup: the lease of 3 ran out; a reclaim grant for wA/1');
CREATE TEMP TABLE h3b AS SELECT handle FROM ff_claim('tap89-c', 'wA', 'wA/1', lease_ttl_ms => 600000);
SELECT is((SELECT count(*) FROM h3b), 1::bigint, '... the holder reclaims it with ff_claim (the grant stays)');
SELECT is((SELECT outcome FROM ff_suspend((SELECT handle FROM h3b), '["wpk:r3"]')), 'suspended',
          '... suspends');
SELECT is(ff_resume_execution(pg_temp.eid(3), 'operator'), 'waiting', '... and is resumed');
SELECT is(pg_temp.grants(3), 'reclaim:wA/1', '... with the reclaim grant still live');
SELECT throws_ok($$SELECT * FROM ff_claim_resumed_execution(pg_temp.eid(3), 'wB', 'wB/1', 'tap89-c')$$,
                 'YFC05', pg_temp.msg(3, 'reclaim'),
                 'another worker: claim_resumed -> YFC05 (a live reclaim grant)');
SELECT is((SELECT count(*) FROM ff_claim('tap89-c', 'wB', 'wB/1')), 0::bigint, '... as ff_claim skips it');
SELECT is(pg_temp.cr(3, 'tap89-c', 'wA', 'wA/1'), 1::bigint, 'the holder claims it');
SELECT is(pg_temp.attempt(3), 'running_attempt/1/3/wA/1', '... its reclaim attempt (index 1) continues, epoch 3');

------------------------------------------------------------------------------
-- The reservation is checked before admission: nothing is stored blocked
------------------------------------------------------------------------------
SELECT ff_create_budget('b8900000-0000-4000-8000-000000000001', '{tokens}', '{10}', '{0}');
SELECT is(pg_temp.resumed(4, 'tap89-d', '{"budget_ids": ["b8900000-0000-4000-8000-000000000001"]}'),
          'waiting', 'setup: 4, attached to a budget, suspended and resumed');
SELECT is((SELECT outcome FROM ff_report_usage_admin('b8900000-0000-4000-8000-000000000001', '{tokens}', '{10}')),
          'ok', 'the budget reaches its hard limit');
SELECT is((SELECT count(*) FROM ff_issue_claim_grant(pg_temp.eid(4), 'wA', 'wA/1', grant_ttl_ms => 30000)), 1::bigint,
          'a claim grant for wA/1');
SELECT throws_ok($$SELECT * FROM ff_claim_resumed_execution(pg_temp.eid(4), 'wB', 'wB/1', 'tap89-d')$$,
                 'YFC05', pg_temp.msg(4, 'claim'), 'another worker -> YFC05');
SELECT is(pg_temp.vec(pg_temp.eid(4)), 'runnable/unowned/eligible_now/waiting_for_worker/waiting',
          '... and it is not stored blocked by the other worker''s attempt');
SELECT is(pg_temp.cr(4, 'tap89-d', 'wA', 'wA/1'), 0::bigint, 'the holder: the breached budget holds it back (no row)');
SELECT is(pg_temp.vec(pg_temp.eid(4)), 'runnable/unowned/blocked_by_budget/waiting_for_budget/rate_limited',
          '... stored blocked, as ff_claim would');

SELECT is(pg_temp.violations(), '{}'::text[], 'invariants hold');

SELECT * FROM finish();
ROLLBACK;

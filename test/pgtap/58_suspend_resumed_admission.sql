-- ff_claim_resumed_execution hands out work under ff_claim's rules: a paused
-- lane hands out nothing (YFC03, the execution untouched), a draining lane
-- lets a resumed attempt through (it is started work), and budgets and
-- quotas hold it back exactly as ff_claim does: stored blocked_by_budget /
-- blocked_by_quota (attempt still interrupted), recorded where a reset or a
-- freed slot releases it, and no row returned; once released, the same
-- attempt is claimed. Invariants are checked after every step.
BEGIN;
SELECT plan(41);
\ir 75_budget_helpers.inc

DELETE FROM ff_waitpoint_hmac;
SELECT ff_seed_waitpoint_hmac_secret('kid-58', repeat('cd', 32));

CREATE FUNCTION pg_temp.eid(n int) RETURNS text LANGUAGE sql AS
$$ SELECT '{fp:58}:00000000-0000-4000-8000-' || lpad((5800 + n)::text, 12, '0') $$;
CREATE FUNCTION pg_temp.b(n int) RETURNS text LANGUAGE sql AS
$$ SELECT 'b5800000-0000-4000-8000-' || lpad(n::text, 12, '0') $$;
CREATE FUNCTION pg_temp.q(n int) RETURNS text LANGUAGE sql AS
$$ SELECT 'a5800000-0000-4000-8000-' || lpad(n::text, 12, '0') $$;
CREATE TEMP TABLE handles (n int, handle bytea);
-- create execution n on a lane, claim it with ff_claim, suspend it and
-- resume it (operator): runnable / eligible_now / attempt_interrupted
CREATE FUNCTION pg_temp.resumed(n int, lane text, policy jsonb DEFAULT NULL, resume boolean DEFAULT true)
    RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    h bytea;
BEGIN
    PERFORM ff_create_execution(lane, execution_id => pg_temp.eid(n), policy => policy);
    SELECT c.handle INTO h FROM ff_claim(lane, 'w1', 'w1/1', lease_ttl_ms => 600000) c
     WHERE c.execution_id = pg_temp.eid(n);
    IF h IS NULL THEN
        RAISE EXCEPTION 'setup: % was not claimed', pg_temp.eid(n);
    END IF;
    PERFORM * FROM ff_suspend(h, '["wpk:r"]');
    IF NOT resume THEN
        RETURN pg_temp.st(pg_temp.eid(n));
    END IF;
    RETURN ff_resume_execution(pg_temp.eid(n), 'operator');
END $$;
-- claim_resumed of execution n: the number of rows it returned (handle kept)
CREATE FUNCTION pg_temp.cr(n int, lane text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    k bigint;
BEGIN
    WITH c AS (SELECT * FROM ff_claim_resumed_execution(pg_temp.eid(n), 'w2', 'w2/1', lane,
                                                        lease_ttl_ms => 600000)),
         i AS (INSERT INTO handles SELECT n, handle FROM c RETURNING 1)
    SELECT count(*) INTO k FROM i;
    RETURN k;
END $$;
CREATE FUNCTION pg_temp.h(n int) RETURNS bytea LANGUAGE sql AS
$$ SELECT handle FROM handles WHERE n = $1 ORDER BY ctid DESC LIMIT 1 $$;
CREATE FUNCTION pg_temp.attempt(n int) RETURNS text LANGUAGE sql AS $$
    SELECT concat_ws('/', e.attempt_state, e.attempt_index, e.lease_epoch, a.worker_id)
      FROM ff_execution e JOIN ff_attempt a USING (partition_key, execution_id, attempt_index)
     WHERE e.execution_id = split_part(pg_temp.eid(n), '}:', 2)::uuid
$$;
CREATE FUNCTION pg_temp.lease_events(n int) RETURNS bigint LANGUAGE sql AS
$$ SELECT count(*) FROM ff_lease_event WHERE execution_id = split_part(pg_temp.eid(n), '}:', 2)::uuid $$;

------------------------------------------------------------------------------
-- Lane state: paused hands out nothing, draining lets started work through
------------------------------------------------------------------------------
SELECT is(pg_temp.resumed(1, 'tap58-lane'), 'waiting', 'setup: 1 suspended and resumed');
SELECT is(pg_temp.attempt(1), 'attempt_interrupted/0/1/w1', '... its attempt is interrupted (epoch 1)');
SELECT ff_pause_lane('tap58-lane', 'maintenance');
SELECT throws_ok($$SELECT * FROM ff_claim_resumed_execution(pg_temp.eid(1), 'w2', 'w2/1', 'tap58-lane')$$,
                 'YFC03', 'execution_not_leaseable: lane tap58-lane is paused',
                 'paused lane: claim_resumed -> YFC03 execution_not_leaseable');
SELECT is(pg_temp.vec(pg_temp.eid(1)), 'runnable/unowned/eligible_now/waiting_for_worker/waiting',
          '... the execution is untouched (still waiting)');
SELECT is(pg_temp.attempt(1), 'attempt_interrupted/0/1/w1', '... and its attempt too (no new lease)');
SELECT is((SELECT count(*) FROM ff_claim('tap58-lane', 'w3', 'w3/1')), 0::bigint,
          '... as ff_claim hands out nothing on the paused lane');
SELECT ff_drain_lane('tap58-lane', 'winding down');
SELECT is(pg_temp.cr(1, 'tap58-lane'), 1::bigint, 'draining lane: the resumed attempt (started work) is claimed');
SELECT is(pg_temp.attempt(1), 'running_attempt/0/2/w2', '... same attempt, epoch 2, the new worker');
SELECT is(pg_temp.st(pg_temp.eid(1)), 'active', '... active');
SELECT ff_complete(pg_temp.h(1));
SELECT is(pg_temp.st(pg_temp.eid(1)), 'completed', '... and the new handle completes it');
SELECT ff_resume_lane('tap58-lane');
SELECT is(pg_temp.resumed(2, 'tap58-lane'), 'waiting', 'setup: 2 suspended and resumed on the active lane again');
SELECT ff_pause_lane('tap58-lane');
SELECT ff_resume_lane('tap58-lane');
SELECT is(pg_temp.cr(2, 'tap58-lane'), 1::bigint, 'paused then resumed lane: claimed');
SELECT is(pg_temp.violations(), '{}'::text[], 'invariants hold after the lane cases');

------------------------------------------------------------------------------
-- A breached budget holds the resumed execution back; a reset releases it
------------------------------------------------------------------------------
SELECT ff_create_budget(pg_temp.b(1), '{tokens}', '{10}', '{0}');
SELECT is(pg_temp.resumed(3, 'tap58-budget', jsonb_build_object('budget_ids', jsonb_build_array(pg_temp.b(1)))),
          'waiting', 'setup: 3 (attached to a budget) claimed while the budget had room, suspended, resumed');
SELECT is((SELECT outcome FROM ff_report_usage_admin(pg_temp.b(1), '{tokens}', '{10}')), 'ok',
          'usage reaches the hard limit: the budget is breached');
SELECT is(pg_temp.cr(3, 'tap58-budget'), 0::bigint, 'breached budget: claim_resumed returns no row');
SELECT is(pg_temp.vec(pg_temp.eid(3)), 'runnable/unowned/blocked_by_budget/waiting_for_budget/rate_limited',
          '... held back as ff_claim holds it: blocked_by_budget / waiting_for_budget, rate_limited');
SELECT is(pg_temp.attempt(3), 'attempt_interrupted/0/1/w1', '... its attempt still interrupted, no new lease');
SELECT is(pg_temp.lease_events(3), 2::bigint, '... no lease event (acquired, released only)');
SELECT results_eq($$SELECT kind, id, status FROM ff_read_admission(pg_temp.eid(3))$$,
                  $$VALUES ('budget'::text, pg_temp.b(1), 'blocked'::text)$$,
                  '... recorded on the budget');
SELECT throws_ok($$SELECT * FROM ff_claim_resumed_execution(pg_temp.eid(3), 'w2', 'w2/1', 'tap58-budget')$$,
                 'YFC03', NULL, 'claiming it again while held back -> YFC03 (not eligible)');
SELECT is(pg_temp.violations(), '{}'::text[], 'invariants hold while it is held back');
SELECT is((SELECT unblocked FROM ff_reset_budget(pg_temp.b(1))), 1, 'the reset releases it');
SELECT is(pg_temp.st(pg_temp.eid(3)), 'waiting', '... waiting again');
SELECT is(pg_temp.cr(3, 'tap58-budget'), 1::bigint, 'claim_resumed after the reset: claimed');
SELECT is(pg_temp.attempt(3), 'running_attempt/0/2/w2', '... the same attempt continues, epoch 2');

-- with on_hard_limit fail the budget tracks admitted work, as ff_claim does
SELECT ff_create_budget(pg_temp.b(2), '{tokens}', '{10}', '{0}', on_hard_limit => 'fail');
SELECT is(pg_temp.resumed(4, 'tap58-budget', jsonb_build_object('budget_ids', jsonb_build_array(pg_temp.b(2)))),
          'waiting', 'setup: 4 attached to an on_hard_limit=fail budget, resumed');
SELECT is(pg_temp.cr(4, 'tap58-budget'), 1::bigint, 'claimed under a budget with room');
SELECT results_eq($$SELECT kind, id, status FROM ff_read_admission(pg_temp.eid(4))$$,
                  $$VALUES ('budget'::text, pg_temp.b(2), 'admitted'::text)$$,
                  '... recorded as admitted on the budget, as ff_claim records it');
SELECT is(pg_temp.violations(), '{}'::text[], 'invariants hold after the budget cases');

------------------------------------------------------------------------------
-- A quota's concurrency cap holds it back; a freed slot releases it
------------------------------------------------------------------------------
SELECT ff_create_quota_policy(pg_temp.q(1), 60, 0, 1);
SELECT is(pg_temp.resumed(5, 'tap58-quota', jsonb_build_object('quota_policy_id', pg_temp.q(1)), false),
          'suspended', 'setup: 5 (quota with one slot) claimed, then suspended (slot freed)');
SELECT ff_create_execution('tap58-quota', execution_id => pg_temp.eid(6),
                           policy => jsonb_build_object('quota_policy_id', pg_temp.q(1)));
INSERT INTO handles SELECT 6, handle FROM ff_claim('tap58-quota', 'w1', 'w1/1', lease_ttl_ms => 600000)
 WHERE execution_id = pg_temp.eid(6);
SELECT is((SELECT active_concurrency FROM ff_read_quota_policy_limits(pg_temp.q(1))), 1::bigint,
          'setup: 6 claimed and holds the only slot');
SELECT is(ff_resume_execution(pg_temp.eid(5), 'operator'), 'waiting', 'setup: 5 resumed');
SELECT is(pg_temp.cr(5, 'tap58-quota'), 0::bigint, 'quota cap reached: claim_resumed returns no row');
SELECT is(pg_temp.vec(pg_temp.eid(5)), 'runnable/unowned/blocked_by_quota/waiting_for_quota/rate_limited',
          '... held back: blocked_by_quota / waiting_for_quota, rate_limited');
SELECT is(pg_temp.attempt(5), 'attempt_interrupted/0/1/w1', '... its attempt still interrupted');
SELECT is((SELECT count(*) FROM ff_quota_blocked WHERE execution_id = split_part(pg_temp.eid(5), '}:', 2)::uuid),
          1::bigint, '... waiting for a slot of its quota');
SELECT ff_complete(pg_temp.h(6));
SELECT is(pg_temp.st(pg_temp.eid(5)), 'waiting', 'the freed slot releases it in the same transaction');
SELECT is(pg_temp.cr(5, 'tap58-quota'), 1::bigint, 'claim_resumed: claimed');
SELECT is((SELECT active_concurrency FROM ff_read_quota_policy_limits(pg_temp.q(1))), 1::bigint,
          '... and it holds the slot now');
SELECT is(pg_temp.violations(), '{}'::text[], 'invariants hold after the quota cases');

SELECT * FROM finish();
ROLLBACK;

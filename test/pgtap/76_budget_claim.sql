-- Budgets hold work back: ff_claim blocks executions attached to a breached
-- budget (blocked_by_budget / waiting_for_budget, public state rate_limited)
-- and a reset, a raised limit or a release lets them be claimed again in the
-- same transaction; on_hard_limit fail / cancel end started work; the
-- policy's budget_ids / quota_policy_id are validated at create;
-- ff_block_execution_for_admission and ff_read_admission. The state-vector
-- and admission invariants are checked after every step.
BEGIN;
SELECT plan(88);
\ir 75_budget_helpers.inc

CREATE FUNCTION pg_temp.b(n int) RETURNS text LANGUAGE sql AS
$$ SELECT 'b7600000-0000-4000-8000-' || lpad(n::text, 12, '0') $$;
CREATE FUNCTION pg_temp.eid(n int) RETURNS text LANGUAGE sql AS
$$ SELECT '{fp:76}:00000000-0000-4000-8000-' || lpad((7600 + n)::text, 12, '0') $$;
CREATE FUNCTION pg_temp.mk(n int, lane text, policy jsonb DEFAULT NULL) RETURNS text LANGUAGE sql AS $$
    SELECT execution_id FROM ff_create_execution(lane, execution_id => pg_temp.eid(n), policy => policy)
$$;
CREATE FUNCTION pg_temp.bp(VARIADIC ns int[]) RETURNS jsonb LANGUAGE sql AS
$$ SELECT jsonb_build_object('budget_ids', (SELECT jsonb_agg(pg_temp.b(n)) FROM unnest(ns) n)) $$;
CREATE TEMP TABLE claims (execution_id text, handle bytea);
-- claim from a lane; the claimed executions' numbers, comma-separated
CREATE FUNCTION pg_temp.claim(lane text, n int DEFAULT 10, ttl bigint DEFAULT 30000) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    r text;
BEGIN
    WITH c AS (SELECT * FROM ff_claim(lane, 'w', 'w/1', lease_ttl_ms => ttl, max_claims => n)),
         i AS (INSERT INTO claims SELECT execution_id, handle FROM c RETURNING execution_id)
    SELECT string_agg((right(execution_id, 4)::int - 7600)::text, ',' ORDER BY execution_id) INTO r FROM i;
    RETURN coalesce(r, '');
END $$;
CREATE FUNCTION pg_temp.h(n int) RETURNS bytea LANGUAGE sql AS
$$ SELECT handle FROM claims WHERE execution_id = pg_temp.eid(n) ORDER BY ctid DESC LIMIT 1 $$;
CREATE FUNCTION pg_temp.report(n int, dim text, delta bigint) RETURNS text LANGUAGE sql AS
$$ SELECT outcome FROM ff_report_usage_admin(pg_temp.b(n), ARRAY[dim], ARRAY[delta]) $$;

------------------------------------------------------------------------------
-- The policy attaches budgets and a quota; bad shapes are rejected at create
------------------------------------------------------------------------------
SELECT is(pg_temp.state($$SELECT ff_create_execution('tap76', policy => '{"budget_ids": 5}')$$), 'YFV04',
          'budget_ids not an array or string -> YFV04');
SELECT is(pg_temp.state($$SELECT ff_create_execution('tap76', policy => '{"budget_ids": [5]}')$$), 'YFV04',
          'budget_ids with a non-string -> YFV04');
SELECT is(pg_temp.state($$SELECT ff_create_execution('tap76', policy => '{"budget_ids": ["x"]}')$$), 'YFV04',
          'budget_ids with a non-UUID -> YFV04');
SELECT is(pg_temp.state($$SELECT ff_create_execution('tap76', policy => '{"budget_ids": [""]}')$$), 'YFV04',
          'budget_ids with an empty string -> YFV04');
SELECT is(pg_temp.state($$SELECT ff_create_execution('tap76', policy => '{"budget_ids": "b7600000-0000-4000-8000-000000000001,zz"}')$$),
          'YFV04', 'a comma-separated budget_ids with a non-UUID -> YFV04');
SELECT is(pg_temp.state(format('SELECT ff_create_execution(%L, policy => %L)', 'tap76',
                               pg_temp.bp(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17))), 'YFV04',
          'more than 16 budgets -> YFV04');
SELECT is(pg_temp.state($$SELECT ff_create_execution('tap76', policy => '{"quota_policy_id": 7}')$$), 'YFV04',
          'quota_policy_id not a string -> YFV04');
SELECT is(pg_temp.state($$SELECT ff_create_execution('tap76', policy => '{"quota_policy_id": "q"}')$$), 'YFV04',
          'quota_policy_id not a UUID -> YFV04');
SELECT is((SELECT count(*) FROM ff_execution WHERE lane_id = 'tap76'), 0::bigint, 'nothing created by the rejected calls');

------------------------------------------------------------------------------
-- A hard breach stops claims; a reset lets them through again
------------------------------------------------------------------------------
SELECT ff_create_budget(pg_temp.b(1), '{tokens}', '{100}', '{0}');
SELECT pg_temp.mk(1, 'tap76a', pg_temp.bp(1));
SELECT pg_temp.mk(2, 'tap76a', pg_temp.bp(1));
SELECT pg_temp.mk(3, 'tap76a');
SELECT is(pg_temp.claim('tap76a', 1), '1', 'budget not breached: the attached execution is claimed');
SELECT is((SELECT count(*) FROM ff_budget_execution), 0::bigint, 'on_hard_limit block records nothing for started work');
SELECT is(pg_temp.report(1, 'tokens', 100), 'ok', 'usage reaches the hard limit exactly');
SELECT is((SELECT breached FROM ff_get_budget_status(pg_temp.b(1))), true, '... the budget is breached');
SELECT is(pg_temp.claim('tap76a'), '3', 'claim: only the execution without budgets; the attached one is held back');
SELECT is(pg_temp.vec(pg_temp.eid(2)), 'runnable/unowned/blocked_by_budget/waiting_for_budget/rate_limited',
          'held back: runnable / unowned / blocked_by_budget / waiting_for_budget, public state rate_limited');
SELECT is((SELECT blocking_detail FROM ff_execution WHERE execution_id = split_part(pg_temp.eid(2), '}:', 2)::uuid),
          'budget ' || pg_temp.b(1) || ': tokens 100/100', 'blocking_detail names the budget and dimension');
SELECT results_eq($$SELECT kind, id, status, retry_at_ms FROM ff_read_admission(pg_temp.eid(2))$$,
                  $$VALUES ('budget'::text, pg_temp.b(1), 'blocked'::text, NULL::bigint)$$,
                  'ff_read_admission: recorded on the budget');
SELECT is((SELECT blocked_executions FROM ff_get_budget_status(pg_temp.b(1))), 1::bigint, 'status counts it');
SELECT is(pg_temp.st(pg_temp.eid(1)), 'active', 'work already running is not touched (on_hard_limit block)');
SELECT is(pg_temp.claim('tap76a'), '', 'claiming again: still nothing');
SELECT is(pg_temp.violations(), '{}', 'invariants hold after the block');
SELECT results_eq($$SELECT unblocked FROM ff_reset_budget(pg_temp.b(1))$$, $$VALUES (1)$$,
                  'ff_reset_budget releases it in the same transaction');
SELECT is(pg_temp.vec(pg_temp.eid(2)), 'runnable/unowned/eligible_now/waiting_for_worker/waiting', '... eligible again');
SELECT is((SELECT count(*) FROM ff_budget_execution), 0::bigint, '... and no longer recorded');
SELECT is(pg_temp.claim('tap76a'), '2', '... and claimed');
SELECT is(pg_temp.violations(), '{}', 'invariants hold after the reset and claim');

------------------------------------------------------------------------------
-- A rejected report breaches; a raised limit releases
------------------------------------------------------------------------------
SELECT ff_create_budget(pg_temp.b(2), '{tokens}', '{100}', '{0}');
SELECT count(*) FROM pg_temp.report(2, 'tokens', 90);
SELECT pg_temp.mk(4, 'tap76b', pg_temp.bp(2));
SELECT is(pg_temp.report(2, 'tokens', 20), 'hard_breach', 'a report over the limit is rejected');
SELECT is(pg_temp.claim('tap76b'), '', '... and the budget holds attached work back (90/100 used)');
SELECT is(pg_temp.st(pg_temp.eid(4)), 'rate_limited', '... rate_limited');
SELECT results_eq($$SELECT breached, unblocked FROM ff_update_budget_limits(pg_temp.b(2), '{tokens}', '{200}', '{0}')$$,
                  $$VALUES (false, 1)$$, 'raising the limit releases it');
SELECT is(pg_temp.claim('tap76b'), '4', '... claimed');
SELECT is(pg_temp.violations(), '{}', 'invariants hold');

------------------------------------------------------------------------------
-- ff_release_budget makes room
------------------------------------------------------------------------------
SELECT ff_create_budget(pg_temp.b(3), '{tokens}', '{10}', '{0}');
SELECT ff_record_spend(pg_temp.b(3), pg_temp.eid(99), '{"tokens": 10}');
SELECT pg_temp.mk(5, 'tap76c', pg_temp.bp(3));
SELECT is(pg_temp.claim('tap76c'), '', 'spend reached the limit: held back');
SELECT results_eq($$SELECT released_dimensions, unblocked FROM ff_release_budget(pg_temp.b(3), pg_temp.eid(99))$$,
                  $$VALUES (1, 1)$$, 'releasing the spend releases the held-back execution');
SELECT is(pg_temp.claim('tap76c'), '5', '... claimed');

------------------------------------------------------------------------------
-- Several budgets; warn mode and notify do not hold back; the string form
------------------------------------------------------------------------------
SELECT ff_create_budget(pg_temp.b(4), '{tokens}', '{10}', '{0}');
SELECT ff_create_budget(pg_temp.b(5), '{tokens}', '{10}', '{0}');
SELECT count(*) FROM pg_temp.report(5, 'tokens', 10);
SELECT pg_temp.mk(6, 'tap76d', pg_temp.bp(4, 5));
SELECT is(pg_temp.claim('tap76d'), '', 'one of two budgets breached: held back');
SELECT results_eq($$SELECT id FROM ff_read_admission(pg_temp.eid(6))$$, $$VALUES (pg_temp.b(5))$$,
                  '... recorded on the breached one only');
SELECT ff_reset_budget(pg_temp.b(5));
SELECT is(pg_temp.claim('tap76d'), '6', 'its reset lets it through');

SELECT ff_create_budget(pg_temp.b(6), '{tokens}', '{1}', '{0}', enforcement_mode => 'warn');
SELECT ff_create_budget(pg_temp.b(7), '{tokens}', '{1}', '{0}', on_hard_limit => 'notify');
SELECT count(*) FROM pg_temp.report(6, 'tokens', 1);
SELECT count(*) FROM pg_temp.report(7, 'tokens', 1);
SELECT results_eq($$SELECT breached FROM ff_get_budget_status(pg_temp.b(6)) UNION ALL
                    SELECT breached FROM ff_get_budget_status(pg_temp.b(7))$$, $$VALUES (true), (true)$$,
                  'warn and notify budgets are breached too');
SELECT pg_temp.mk(7, 'tap76e', pg_temp.bp(6));
SELECT pg_temp.mk(8, 'tap76e', pg_temp.bp(7));
SELECT is(pg_temp.claim('tap76e'), '7,8', '... but hold nothing back');

SELECT ff_create_budget(pg_temp.b(8), '{tokens}', '{1}', '{0}');
SELECT count(*) FROM pg_temp.report(8, 'tokens', 1);
SELECT pg_temp.mk(9, 'tap76f', jsonb_build_object('budget_ids', ' ' || pg_temp.b(4) || ' ,, ' || pg_temp.b(8)));
SELECT is(pg_temp.claim('tap76f'), '', 'upstream''s comma-separated budget_ids are honoured');
SELECT is(pg_temp.violations(), '{}', 'invariants hold');

------------------------------------------------------------------------------
-- on_hard_limit fail: started work fails when the budget breaches
------------------------------------------------------------------------------
SELECT ff_create_budget(pg_temp.b(9), '{tokens}', '{10}', '{0}', on_hard_limit => 'fail');
SELECT pg_temp.mk(10, 'tap76g', pg_temp.bp(9));
SELECT pg_temp.mk(11, 'tap76g', pg_temp.bp(9));
SELECT is(pg_temp.claim('tap76g', 1), '10', 'claimed under a fail budget');
SELECT results_eq($$SELECT kind, status FROM ff_read_admission(pg_temp.eid(10))$$,
                  $$VALUES ('budget'::text, 'admitted'::text)$$, '... recorded as admitted (breach actions act on it)');
SELECT is((SELECT outcome FROM ff_report_usage(pg_temp.h(10), pg_temp.b(9), '{"tokens": 10}')), 'ok',
          'the worker''s report exhausts the budget');
SELECT results_eq(
    $$SELECT public_state, last_failure_message, last_failure_category FROM ff_execution
       WHERE execution_id = split_part(pg_temp.eid(10), '}:', 2)::uuid$$,
    $$VALUES ('failed'::text, 'budget_exceeded: budget ' || pg_temp.b(9) || ': tokens 10/10', 'permanent'::text)$$,
    'the started execution failed in the same transaction (no retry)');
SELECT results_eq(
    $$SELECT attempt_lifecycle, end_reason, lease_expires_at_ms FROM ff_attempt
       WHERE execution_id = split_part(pg_temp.eid(10), '}:', 2)::uuid$$,
    $$VALUES ('ended_failure'::text, 'budget_exceeded'::text, NULL::bigint)$$, '... its attempt ended, lease released');
SELECT results_eq(
    $$SELECT event_type, reason FROM ff_lease_event WHERE execution_id = split_part(pg_temp.eid(10), '}:', 2)::uuid
       ORDER BY event_id DESC LIMIT 1$$,
    $$VALUES ('revoked'::text, 'budget_exceeded'::text)$$, '... lease event revoked / budget_exceeded');
SELECT results_eq(
    $$SELECT outcome FROM ff_completion_event WHERE execution_id = split_part(pg_temp.eid(10), '}:', 2)::uuid$$,
    $$VALUES ('failed'::text)$$, '... completion event failed');
SELECT is(pg_temp.state(format('SELECT ff_complete(%L::bytea)', pg_temp.h(10))), 'YFC11',
          'the worker''s next call: execution_not_active');
SELECT is(pg_temp.claim('tap76g'), '', 'the one not started yet is held back, not failed');
SELECT is(pg_temp.st(pg_temp.eid(11)), 'rate_limited', '... rate_limited');
SELECT is((SELECT count(*) FROM ff_budget_execution WHERE execution_id = split_part(pg_temp.eid(10), '}:', 2)::uuid),
          0::bigint, 'the failed execution is forgotten by the budget');
SELECT is(pg_temp.violations(), '{}', 'invariants hold after the fail action');

------------------------------------------------------------------------------
-- on_hard_limit cancel, triggered by a rejected report
------------------------------------------------------------------------------
SELECT ff_create_budget(pg_temp.b(10), '{tokens}', '{10}', '{0}', on_hard_limit => 'cancel');
SELECT pg_temp.mk(12, 'tap76h', pg_temp.bp(10));
SELECT is(pg_temp.claim('tap76h'), '12', 'claimed under a cancel budget');
SELECT is(pg_temp.report(10, 'tokens', 5), 'ok', '+5: ok, nothing happens');
SELECT is(pg_temp.st(pg_temp.eid(12)), 'active', '... still active');
SELECT is(pg_temp.report(10, 'tokens', 20), 'hard_breach', '+20: rejected');
SELECT results_eq(
    $$SELECT public_state, cancelled_by, cancellation_reason FROM ff_execution
       WHERE execution_id = split_part(pg_temp.eid(12), '}:', 2)::uuid$$,
    $$VALUES ('cancelled'::text, 'budget'::text, 'budget_exceeded: budget ' || pg_temp.b(10) || ': tokens 5/10')$$,
    '... the started execution is cancelled by the budget');
SELECT results_eq(
    $$SELECT outcome FROM ff_completion_event WHERE execution_id = split_part(pg_temp.eid(12), '}:', 2)::uuid$$,
    $$VALUES ('cancelled'::text)$$, '... completion event cancelled');
SELECT is(pg_temp.violations(), '{}', 'invariants hold after the cancel action');

------------------------------------------------------------------------------
-- A reclaim (the lease of admitted work expired) is not held back
------------------------------------------------------------------------------
SELECT ff_create_budget(pg_temp.b(11), '{tokens}', '{10}', '{0}');
SELECT pg_temp.mk(13, 'tap76i', pg_temp.bp(11));
SELECT is(pg_temp.claim('tap76i', 1, 1000), '13', 'claimed with a 1 s lease');
SELECT count(*) FROM pg_temp.report(11, 'tokens', 10);
SET LOCAL flowfabric.clock_offset_ms = 5000;
SELECT ok(ff_reconcile_lease_expiry() >= 1, 'the lease expires');
SELECT is(pg_temp.claim('tap76i'), '13', 'the reclaim goes through although the budget is breached');
SET LOCAL flowfabric.clock_offset_ms = 0;

------------------------------------------------------------------------------
-- ff_block_execution_for_admission
------------------------------------------------------------------------------
SELECT ff_create_budget(pg_temp.b(12), '{tokens}', '{10}', '{0}');
SELECT pg_temp.mk(14, 'tap76j', pg_temp.bp(12));
SELECT results_eq(
    $$SELECT * FROM ff_block_execution_for_admission(pg_temp.eid(14), 'waiting_for_budget', 'scheduler: no room')$$,
    $$VALUES ('blocked'::text, 'blocked_by_budget'::text, 'waiting_for_budget'::text, 'rate_limited'::text)$$,
    'waiting_for_budget -> blocked_by_budget, rate_limited');
SELECT results_eq($$SELECT blocking_detail FROM ff_execution WHERE execution_id = split_part(pg_temp.eid(14), '}:', 2)::uuid$$,
                  $$VALUES ('scheduler: no room'::text)$$, '... with the detail');
SELECT results_eq($$SELECT id, status FROM ff_read_admission(pg_temp.eid(14))$$,
                  $$VALUES (pg_temp.b(12), 'blocked'::text)$$, '... recorded on its budget');
SELECT is(pg_temp.violations(), '{}', 'invariants hold');
SELECT results_eq(
    $$SELECT * FROM ff_block_execution_for_admission(pg_temp.eid(14), 'waiting_for_capable_worker')$$,
    $$VALUES ('blocked'::text, 'blocked_by_route'::text, 'waiting_for_capable_worker'::text, 'waiting'::text)$$,
    'blocking a blocked execution again changes the reason (route: public state waiting)');
SELECT results_eq(
    $$SELECT eligibility_state FROM ff_block_execution_for_admission(pg_temp.eid(14), 'waiting_for_budget')$$,
    $$VALUES ('blocked_by_budget'::text)$$, '... and back');
SELECT results_eq($$SELECT unblocked FROM ff_reset_budget(pg_temp.b(12))$$, $$VALUES (1)$$,
                  'the budget''s reset releases it');
SELECT is(pg_temp.st(pg_temp.eid(14)), 'waiting', '... waiting');
SELECT pg_temp.mk(15, 'tap76j', '{"quota_policy_id": "b7600000-0000-4000-8000-0000000000aa"}');
SELECT results_eq(
    $$SELECT eligibility_state, public_state FROM ff_block_execution_for_admission(pg_temp.eid(15), 'waiting_for_quota')$$,
    $$VALUES ('blocked_by_quota'::text, 'rate_limited'::text)$$, 'waiting_for_quota -> blocked_by_quota');
SELECT results_eq($$SELECT kind, status FROM ff_read_admission(pg_temp.eid(15))$$,
                  $$VALUES ('quota'::text, 'blocked_concurrency'::text)$$, '... waiting for a slot of its quota');
SELECT ok(ff_reconcile_quota_unblock() >= 1, 'the quota reconciler finds room (no such policy: unlimited)');
SELECT is(pg_temp.st(pg_temp.eid(15)), 'waiting', '... and releases it');
SELECT is(pg_temp.violations(), '{}', 'invariants hold');

SELECT is(pg_temp.state(format('SELECT ff_block_execution_for_admission(%L, %L)', pg_temp.eid(15), 'paused_by_operator')),
          'YFV14', 'a reason that is not an admission reason -> YFV14 invalid_blocking_reason');
SELECT is(pg_temp.state(format('SELECT ff_block_execution_for_admission(%L, NULL)', pg_temp.eid(15))), 'YFV01',
          'null reason -> YFV01');
SELECT is(pg_temp.state(format('SELECT ff_block_execution_for_admission(%L, %L, repeat(%L, 1025))', pg_temp.eid(15),
                               'waiting_for_quota', 'x')), 'YFV01', 'reason_detail over 1024 bytes -> YFV01');
SELECT is(pg_temp.state(format('SELECT ff_block_execution_for_admission(%L, %L)', pg_temp.eid(77), 'waiting_for_quota')),
          'YFN01', 'unknown execution -> YFN01');
SELECT is(pg_temp.state($$SELECT ff_block_execution_for_admission('{fp:1}:x', 'waiting_for_quota')$$), 'YFV01',
          'malformed execution id -> YFV01');
SELECT is(pg_temp.state(format('SELECT ff_block_execution_for_admission(%L, %L)', pg_temp.eid(2), 'waiting_for_quota')),
          'YFC12', 'an active execution -> YFC12 execution_not_eligible');
SELECT is(pg_temp.state(format('SELECT ff_block_execution_for_admission(%L, %L)', pg_temp.eid(10), 'waiting_for_quota')),
          'YFC11', 'a terminal execution -> YFC11 execution_not_active');
SELECT ff_create_execution('tap76j', execution_id => pg_temp.eid(16), delay_until => ff_server_time_ms() + 60000);
SELECT is(pg_temp.state(format('SELECT ff_block_execution_for_admission(%L, %L)', pg_temp.eid(16), 'waiting_for_budget')),
          'YFC12', 'a delayed execution -> YFC12');

------------------------------------------------------------------------------
-- Finishing a held-back execution forgets it
------------------------------------------------------------------------------
SELECT is((SELECT count(*) FROM ff_budget_execution WHERE execution_id = split_part(pg_temp.eid(11), '}:', 2)::uuid),
          1::bigint, 'execution 11 is held back by its budget');
SELECT ff_cancel_execution(pg_temp.eid(11), 'no longer needed');
SELECT is((SELECT count(*) FROM ff_budget_execution WHERE execution_id = split_part(pg_temp.eid(11), '}:', 2)::uuid),
          0::bigint, 'cancelled: the budget forgets it in the same transaction');
SELECT is(pg_temp.violations(), '{}', 'invariants hold at the end');

SELECT * FROM finish();
ROLLBACK;

-- The budget and quota reconcilers, one-shot from SQL: ff_reconcile_budget_reset
-- (spec D 11.1 budget_reset_reconciler_zeroes_counters_and_advances),
-- ff_reconcile_budget_counters (repairs deliberately corrupted counters from
-- the ledger, fixes the breach state), ff_reconcile_budget_executions
-- (stragglers and breach actions left undone), ff_reconcile_quota_counters,
-- ff_reconcile_quota_unblock, ff_reconcile_admission_cleanup.
BEGIN;
SELECT plan(69);
\ir 75_budget_helpers.inc

CREATE FUNCTION pg_temp.b(n int) RETURNS text LANGUAGE sql AS
$$ SELECT 'b7800000-0000-4000-8000-' || lpad(n::text, 12, '0') $$;
CREATE FUNCTION pg_temp.q(n int) RETURNS text LANGUAGE sql AS
$$ SELECT 'a7800000-0000-4000-8000-' || lpad(n::text, 12, '0') $$;
CREATE FUNCTION pg_temp.eid(n int) RETURNS text LANGUAGE sql AS
$$ SELECT '{fp:78}:00000000-0000-4000-8000-' || lpad((7800 + n)::text, 12, '0') $$;
CREATE FUNCTION pg_temp.usage(n int, dim text) RETURNS bigint LANGUAGE sql AS
$$ SELECT current_value FROM ff_budget_usage WHERE budget_id = pg_temp.b(n)::uuid AND dimension = dim $$;
CREATE FUNCTION pg_temp.mk(n int, lane text, policy jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT execution_id FROM ff_create_execution(lane, execution_id => pg_temp.eid(n), policy => policy)
$$;
CREATE TEMP TABLE claims (execution_id text, handle bytea);
CREATE FUNCTION pg_temp.claim(lane text, n int DEFAULT 10) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r text;
BEGIN
    WITH c AS (SELECT * FROM ff_claim(lane, 'w', 'w/1', max_claims => n)),
         i AS (INSERT INTO claims SELECT execution_id, handle FROM c RETURNING execution_id)
    SELECT string_agg((right(execution_id, 4)::int - 7800)::text, ',' ORDER BY execution_id) INTO r FROM i;
    RETURN coalesce(r, '');
END $$;
CREATE FUNCTION pg_temp.spend(n int, e int, v bigint) RETURNS text LANGUAGE sql AS
$$ SELECT outcome FROM ff_record_spend(pg_temp.b(n), pg_temp.eid(e), jsonb_build_object('tokens', v)) $$;

------------------------------------------------------------------------------
-- batch_size
------------------------------------------------------------------------------
SELECT is(pg_temp.state('SELECT ff_reconcile_budget_reset(0)'), 'YFV01', 'budget_reset: batch_size 0 -> YFV01');
SELECT is(pg_temp.state('SELECT ff_reconcile_budget_counters(100001)'), 'YFV01', 'budget_counters: batch_size 100001 -> YFV01');
SELECT is(pg_temp.state('SELECT ff_reconcile_budget_executions(-1)'), 'YFV01', 'budget_executions: batch_size -1 -> YFV01');
SELECT is(pg_temp.state('SELECT ff_reconcile_quota_counters(0)'), 'YFV01', 'quota_counters: batch_size 0 -> YFV01');
SELECT is(pg_temp.state('SELECT ff_reconcile_quota_unblock(0)'), 'YFV01', 'quota_unblock: batch_size 0 -> YFV01');
SELECT is(pg_temp.state('SELECT ff_reconcile_admission_cleanup(0)'), 'YFV01', 'admission_cleanup: batch_size 0 -> YFV01');

------------------------------------------------------------------------------
-- ff_reconcile_budget_reset
------------------------------------------------------------------------------
SELECT count(*) FROM ff_create_budget(pg_temp.b(1), '{tokens}', '{100}', '{0}', 60000);
SELECT count(*) FROM ff_create_budget(pg_temp.b(2), '{tokens}', '{100}', '{0}', 60000);
SELECT count(*) FROM ff_report_usage_admin(pg_temp.b(1), '{tokens}', '{25}');
SELECT count(*) FROM ff_report_usage_admin(pg_temp.b(2), '{tokens}', '{25}');
SELECT is(ff_reconcile_budget_reset(), 0, 'no reset due: nothing');
UPDATE ff_budget_policy SET next_reset_at_ms = ff_server_time_ms() - 1 WHERE budget_id = pg_temp.b(1)::uuid;
CREATE TEMP TABLE before1 AS SELECT next_reset_at_ms FROM ff_budget_policy WHERE budget_id = pg_temp.b(1)::uuid;
SELECT is(ff_reconcile_budget_reset(), 1, 'one reset due: processed 1');
SELECT is(pg_temp.usage(1, 'tokens'), 0::bigint, '... usage 0');
SELECT ok((SELECT next_reset_at_ms > (SELECT next_reset_at_ms FROM before1) + 59000
             FROM ff_budget_policy WHERE budget_id = pg_temp.b(1)::uuid), '... next_reset_at advanced by the interval');
SELECT is(pg_temp.usage(2, 'tokens'), 25::bigint, 'the budget not due is untouched');
SET LOCAL flowfabric.clock_offset_ms = 61000;
SELECT is(ff_reconcile_budget_reset(1), 1, 'batch_size 1: one of the two due budgets');
SELECT is(ff_reconcile_budget_reset(), 1, '... then the other');
SET LOCAL flowfabric.clock_offset_ms = 0;
-- a scheduled reset releases held-back work like a manual one
SELECT count(*) FROM ff_create_budget(pg_temp.b(3), '{tokens}', '{10}', '{0}', 60000);
SELECT count(*) FROM ff_report_usage_admin(pg_temp.b(3), '{tokens}', '{10}');
SELECT pg_temp.mk(1, 'tap78a', jsonb_build_object('budget_ids', jsonb_build_array(pg_temp.b(3))));
SELECT is(pg_temp.claim('tap78a'), '', 'held back by the exhausted budget');
SET LOCAL flowfabric.clock_offset_ms = 61000;
SELECT ok(ff_reconcile_budget_reset() >= 1, 'the scheduled reset runs');
SELECT is(pg_temp.st(pg_temp.eid(1)), 'waiting', '... and releases it');
SET LOCAL flowfabric.clock_offset_ms = 0;
SELECT is(pg_temp.violations(), '{}', 'invariants hold');

------------------------------------------------------------------------------
-- ff_reconcile_budget_counters: drift is repaired from the ledger
------------------------------------------------------------------------------
SELECT count(*) FROM ff_create_budget(pg_temp.b(4), '{tokens}', '{100}', '{0}');
SELECT count(*) FROM pg_temp.spend(4, 10, 30);
SELECT count(*) FROM pg_temp.spend(4, 11, 10);
SELECT count(*) FROM ff_report_usage_admin(pg_temp.b(4), '{tokens}', '{2}');
SELECT is(ff_reconcile_budget_counters(), 0, 'no drift: nothing to repair');
UPDATE ff_budget_usage SET current_value = 999 WHERE budget_id = pg_temp.b(4)::uuid;
SELECT is(pg_temp.usage(4, 'tokens'), 999::bigint, 'the counter is corrupted to 999');
SELECT ok(ff_reconcile_budget_counters() >= 1, 'the reconciler repairs it');
SELECT is(pg_temp.usage(4, 'tokens'), 42::bigint, '... back to 42 = 30 + 10 + 2 from the ledger');
DELETE FROM ff_budget_usage WHERE budget_id = pg_temp.b(4)::uuid;
SELECT ok(ff_reconcile_budget_counters() >= 1, 'a lost usage row');
SELECT is(pg_temp.usage(4, 'tokens'), 42::bigint, '... is rebuilt from the ledger');
SELECT count(*) FROM ff_reset_budget(pg_temp.b(4));
SELECT count(*) FROM pg_temp.spend(4, 10, 5);
UPDATE ff_budget_usage SET current_value = 77 WHERE budget_id = pg_temp.b(4)::uuid;
SELECT count(*) FROM ff_reconcile_budget_counters();
SELECT is(pg_temp.usage(4, 'tokens'), 5::bigint, 'only the ledger of the current reset epoch counts');
-- the breach state follows the repaired counter
UPDATE ff_budget_usage SET current_value = 100 WHERE budget_id = pg_temp.b(4)::uuid;
UPDATE ff_budget_policy SET breached_at_ms = ff_server_time_ms() WHERE budget_id = pg_temp.b(4)::uuid;
SELECT pg_temp.mk(2, 'tap78b', jsonb_build_object('budget_ids', jsonb_build_array(pg_temp.b(4))));
SELECT is(pg_temp.claim('tap78b'), '', 'the corrupted counter (at the limit) held work back');
SELECT ok(ff_reconcile_budget_counters() >= 2, 'the counter and the breach state are repaired');
SELECT results_eq($$SELECT usage, breached FROM ff_get_budget_status(pg_temp.b(4))$$,
                  $$VALUES ('{"tokens": 5}'::jsonb, false)$$, '... 5 used, not breached');
SELECT is(pg_temp.st(pg_temp.eid(2)), 'waiting', '... and the held-back execution is released');
-- a budget at its limit whose breach was lost becomes breached (and holds back)
UPDATE ff_budget_usage SET current_value = 100 WHERE budget_id = pg_temp.b(4)::uuid;
SELECT count(*) FROM ff_update_budget_limits(pg_temp.b(4), '{tokens}', '{5}', '{0}');
UPDATE ff_budget_policy SET breached_at_ms = NULL WHERE budget_id = pg_temp.b(4)::uuid;
SELECT ok(ff_reconcile_budget_counters() >= 1, 'a budget at its limit but not marked breached');
SELECT is((SELECT breached FROM ff_get_budget_status(pg_temp.b(4))), true, '... is marked breached');
-- a breach by a rejected report stands
SELECT count(*) FROM ff_create_budget(pg_temp.b(5), '{tokens}', '{10}', '{0}');
SELECT count(*) FROM ff_report_usage_admin(pg_temp.b(5), '{tokens}', '{20}');
SELECT is(ff_reconcile_budget_counters(), 0, 'a budget breached by a rejected report is left breached');
SELECT is((SELECT breached FROM ff_get_budget_status(pg_temp.b(5))), true, '... breached');

------------------------------------------------------------------------------
-- ff_reconcile_budget_executions: stragglers and breach actions
------------------------------------------------------------------------------
SELECT count(*) FROM ff_create_budget(pg_temp.b(6), '{tokens}', '{10}', '{0}');
SELECT count(*) FROM ff_report_usage_admin(pg_temp.b(6), '{tokens}', '{10}');
SELECT pg_temp.mk(3, 'tap78c', jsonb_build_object('budget_ids', jsonb_build_array(pg_temp.b(6))));
SELECT is(pg_temp.claim('tap78c'), '', 'held back');
SELECT is(ff_reconcile_budget_executions(), 0, 'the budget still holds it back: nothing to do');
-- simulate a reset that skipped the execution (it was locked elsewhere)
UPDATE ff_budget_policy SET breached_at_ms = NULL WHERE budget_id = pg_temp.b(6)::uuid;
SELECT is(ff_reconcile_budget_executions(), 1, 'a straggler of a budget with room');
SELECT is(pg_temp.st(pg_temp.eid(3)), 'waiting', '... is released');
SELECT is((SELECT count(*) FROM ff_budget_execution WHERE budget_id = pg_temp.b(6)::uuid), 0::bigint, '... and forgotten');
-- a breach action left undone
SELECT count(*) FROM ff_create_budget(pg_temp.b(7), '{tokens}', '{10}', '{0}', on_hard_limit => 'cancel');
SELECT pg_temp.mk(4, 'tap78d', jsonb_build_object('budget_ids', jsonb_build_array(pg_temp.b(7))));
SELECT is(pg_temp.claim('tap78d'), '4', 'claimed under a cancel budget');
UPDATE ff_budget_policy SET breached_at_ms = ff_server_time_ms() WHERE budget_id = pg_temp.b(7)::uuid;
SELECT is(pg_temp.st(pg_temp.eid(4)), 'active', 'breached behind the engine''s back: still active');
SELECT is(ff_reconcile_budget_executions(), 1, 'the reconciler carries out the action');
SELECT results_eq($$SELECT public_state, cancelled_by FROM ff_execution WHERE execution_id = split_part(pg_temp.eid(4), '}:', 2)::uuid$$,
                  $$VALUES ('cancelled'::text, 'budget'::text)$$, '... cancelled by the budget');
-- rows of executions that are gone
INSERT INTO ff_budget_execution VALUES (ff_budget_partition(pg_temp.b(7)), pg_temp.b(7)::uuid, 78,
                                        '00000000-0000-4000-8000-000000007899', 'blocked', 0);
SELECT is(ff_reconcile_budget_executions(), 1, 'a row of a missing execution');
SELECT is((SELECT count(*) FROM ff_budget_execution WHERE budget_id = pg_temp.b(7)::uuid), 0::bigint, '... is deleted');
SELECT is(pg_temp.violations(), '{}', 'invariants hold');

------------------------------------------------------------------------------
-- ff_reconcile_quota_counters
------------------------------------------------------------------------------
SELECT count(*) FROM ff_create_quota_policy(pg_temp.q(1), 60, 0, 2);
SELECT pg_temp.mk(n, 'tap78e', jsonb_build_object('quota_policy_id', pg_temp.q(1))) FROM generate_series(5, 7) n;
SELECT is(pg_temp.claim('tap78e'), '5,6', 'cap 2: two claimed, one waits');
SELECT is(ff_reconcile_quota_counters(), 0, 'counter right: nothing');
UPDATE ff_quota_policy SET active_concurrency = 7 WHERE quota_policy_id = pg_temp.q(1)::uuid;
SELECT is(ff_reconcile_quota_counters(), 1, 'a corrupted counter');
SELECT is((SELECT active_concurrency FROM ff_quota_policy WHERE quota_policy_id = pg_temp.q(1)::uuid), 2::bigint,
          '... is set to the slots held');
-- a leaked slot: a slot row of an execution that does not exist
INSERT INTO ff_quota_admitted VALUES (ff_budget_partition(pg_temp.q(1)), pg_temp.q(1)::uuid,
                                      pg_temp.eid(99), 0, NULL, true);
UPDATE ff_quota_policy SET active_concurrency = 3 WHERE quota_policy_id = pg_temp.q(1)::uuid;
SELECT is(ff_reconcile_quota_counters(), 1, 'a leaked slot (its execution does not exist)');
SELECT is((SELECT active_concurrency FROM ff_quota_policy WHERE quota_policy_id = pg_temp.q(1)::uuid), 2::bigint,
          '... is dropped: two slots');
SELECT is((SELECT count(*) FROM ff_quota_admitted WHERE execution_id = pg_temp.eid(99)), 0::bigint, '... the row is gone');
SELECT is(pg_temp.st(pg_temp.eid(7)), 'rate_limited', '... the cap is still full: 7 waits');

------------------------------------------------------------------------------
-- ff_reconcile_quota_unblock
------------------------------------------------------------------------------
SELECT is(ff_reconcile_quota_unblock(), 0, 'no room: the waiter waits');
UPDATE ff_quota_policy SET active_concurrency_cap = 3 WHERE quota_policy_id = pg_temp.q(1)::uuid;
SELECT is(ff_reconcile_quota_unblock(), 1, 'room (the cap was raised): released');
SELECT is(pg_temp.st(pg_temp.eid(7)), 'waiting', '... waiting');
SELECT is(pg_temp.claim('tap78e'), '7', 'claimed');
SELECT pg_temp.mk(8, 'tap78e', jsonb_build_object('quota_policy_id', pg_temp.q(1)));
SELECT is(pg_temp.claim('tap78e'), '', 'the cap holds');
SELECT is(ff_reconcile_quota_unblock(), 0, 'no room: nothing');
INSERT INTO ff_quota_blocked VALUES (ff_budget_partition(pg_temp.q(1)), pg_temp.q(1)::uuid, 78,
                                     split_part(pg_temp.eid(7), '}:', 2)::uuid, 'rate', 0, 0);
SELECT is(ff_reconcile_quota_unblock(), 1, 'a wait row of an execution not held back');
SELECT is((SELECT count(*) FROM ff_quota_blocked WHERE execution_id = split_part(pg_temp.eid(7), '}:', 2)::uuid),
          0::bigint, '... is deleted');
SELECT is(pg_temp.st(pg_temp.eid(7)), 'active', '... and the execution is untouched');
SELECT is(pg_temp.violations(), '{}', 'invariants hold');

------------------------------------------------------------------------------
-- ff_reconcile_admission_cleanup
------------------------------------------------------------------------------
SELECT count(*) FROM ff_create_budget(pg_temp.b(8), '{tokens}', '{100}', '{0}');
SELECT count(*) FROM ff_report_usage_admin(pg_temp.b(8), '{tokens}', '{1}', 'dk');
SELECT count(*) FROM ff_create_quota_policy(pg_temp.q(2), 10, 5, 1);
SELECT count(*) FROM ff_check_admission(pg_temp.q(2), pg_temp.eid(20));
SELECT is(ff_reconcile_admission_cleanup(), 0, 'nothing expired');
SET LOCAL flowfabric.clock_offset_ms = 10000;
SELECT is(ff_reconcile_admission_cleanup(), 2, 'after the window: the admission guard and its window entry');
SELECT results_eq($$SELECT active_concurrency FROM ff_quota_policy WHERE quota_policy_id = pg_temp.q(2)::uuid$$,
                  $$VALUES (0::bigint)$$, '... the guard''s slot is freed');
SELECT is((SELECT count(*) FROM ff_quota_window WHERE quota_policy_id = pg_temp.q(2)::uuid), 0::bigint, '... the window is empty');
SET LOCAL flowfabric.clock_offset_ms = 86400000;
SELECT is(ff_reconcile_admission_cleanup(), 1, 'after 24 hours: the dedup key');
SELECT is((SELECT count(*) FROM ff_budget_usage_dedup WHERE budget_id = pg_temp.b(8)::uuid), 0::bigint, '... is deleted');
SET LOCAL flowfabric.clock_offset_ms = 0;
SELECT is(pg_temp.violations(), '{}', 'invariants hold at the end');

SELECT * FROM finish();
ROLLBACK;

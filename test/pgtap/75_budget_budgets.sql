-- Budgets: ff_create_budget, ff_get_budget_status, ff_report_usage_admin,
-- ff_report_usage, ff_record_spend, ff_release_budget, ff_reset_budget,
-- ff_update_budget_limits, ff_read_budget_usage_and_limits,
-- ff_budget_partition: every success and error path, dedup keys and their
-- expiry, the spec D 11.1 / 11.2 / 11.3 acceptance cases.
BEGIN;
SELECT plan(117);

CREATE FUNCTION pg_temp.state(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;
CREATE FUNCTION pg_temp.b(n int) RETURNS text LANGUAGE sql AS
$$ SELECT 'b7500000-0000-4000-8000-' || lpad(n::text, 12, '0') $$;
CREATE FUNCTION pg_temp.eid(n int) RETURNS text LANGUAGE sql AS
$$ SELECT '{fp:75}:00000000-0000-4000-8000-' || lpad((7500 + n)::text, 12, '0') $$;
CREATE FUNCTION pg_temp.usage(n int, dim text) RETURNS bigint LANGUAGE sql AS
$$ SELECT current_value FROM ff_budget_usage WHERE budget_id = pg_temp.b(n)::uuid AND dimension = dim $$;
CREATE FUNCTION pg_temp.ledger(n int, e int) RETURNS jsonb LANGUAGE sql AS $$
    SELECT coalesce(jsonb_object_agg(dimension, delta_total), '{}') FROM ff_budget_usage_by_exec
     WHERE budget_id = pg_temp.b(n)::uuid AND execution_id = split_part(pg_temp.eid(e), '}:', 2)::uuid
$$;
CREATE FUNCTION pg_temp.report(n int, dims text[], deltas bigint[], key text DEFAULT NULL)
    RETURNS text LANGUAGE sql AS $$
    SELECT concat_ws(' ', outcome, dimension, current_usage, limit_value, first_outcome)
      FROM ff_report_usage_admin(pg_temp.b(n), dims, deltas, key)
$$;
CREATE FUNCTION pg_temp.spend(n int, e int, deltas jsonb, key text DEFAULT NULL)
    RETURNS text LANGUAGE sql AS $$
    SELECT concat_ws(' ', outcome, dimension, current_usage, limit_value, first_outcome)
      FROM ff_record_spend(pg_temp.b(n), pg_temp.eid(e), deltas, key)
$$;

------------------------------------------------------------------------------
-- ff_create_budget
------------------------------------------------------------------------------
SELECT results_eq(
    $$SELECT outcome, budget_id, next_reset_at_ms FROM ff_create_budget(pg_temp.b(1), '{tokens}', '{100}', '{80}',
                                                                        scope_type => 'flow', scope_id => 'flow-1')$$,
    $$VALUES ('created'::text, pg_temp.b(1), NULL::bigint)$$,
    'create_budget: created (spec 11.1)');
SELECT results_eq(
    $$SELECT outcome FROM ff_create_budget(pg_temp.b(1), '{tokens}', '{5}', '{1}')$$,
    $$VALUES ('already_satisfied'::text)$$,
    'the same id again: already_satisfied');
SELECT is((SELECT policy_json->'hard_limits' FROM ff_budget_policy WHERE budget_id = pg_temp.b(1)::uuid),
          '{"tokens": 100}'::jsonb, '... and the definition is not changed');
SELECT ok((SELECT budget_id IS NOT NULL AND outcome = 'created' FROM ff_create_budget()),
          'no id: a new budget is minted');
SELECT is((SELECT partition_key::int FROM ff_budget_policy WHERE budget_id = pg_temp.b(1)::uuid),
          ff_budget_partition(pg_temp.b(1)), 'rows live in the budget partition');
SELECT is(ff_budget_partition(pg_temp.b(1)),
          ff_crc16(uuid_send(pg_temp.b(1)::uuid)) % 32, 'the partition is CRC-16 of the UUID bytes mod 32');
SELECT is(pg_temp.state($$SELECT ff_budget_partition('nope')$$), 'YFV01', 'ff_budget_partition: not a UUID -> YFV01');

CREATE TEMP TABLE t0 AS SELECT ff_server_time_ms() AS ms;
SELECT ok((SELECT next_reset_at_ms BETWEEN (SELECT ms FROM t0) + 3600000 AND (SELECT ms FROM t0) + 3700000
             FROM ff_create_budget(pg_temp.b(2), '{tokens,cents}', '{100,0}', '{0,500}', 3600000)),
          'reset_interval_ms: next_reset_at_ms = now + interval');
SELECT is((SELECT policy_json FROM ff_budget_policy WHERE budget_id = pg_temp.b(2)::uuid),
          '{"hard_limits": {"cents": 0, "tokens": 100}, "soft_limits": {"cents": 500, "tokens": 0},
            "reset_interval_ms": 3600000, "on_hard_limit": "block", "on_soft_limit": "notify"}'::jsonb,
          'policy_json: hard_limits, soft_limits, reset_interval_ms, the actions');

SELECT is(pg_temp.state($$SELECT ff_create_budget('nope')$$), 'YFV01', 'budget_id not a UUID -> YFV01');
SELECT is(pg_temp.state($$SELECT ff_create_budget(NULL, '{a,b}', '{1}', '{1,1}')$$), 'YFV01',
          'dimensions / hard_limits / soft_limits length mismatch -> YFV01');
SELECT is(pg_temp.state($$SELECT ff_create_budget(NULL, '{a}', '{-1}', '{0}')$$), 'YFV01', 'negative limit -> YFV01');
SELECT is(pg_temp.state($$SELECT ff_create_budget(NULL, '{a}', '{10}', '{11}')$$), 'YFV01',
          'soft limit above the hard limit -> YFV01');
SELECT is(pg_temp.state($$SELECT ff_create_budget(NULL, '{""}', '{1}', '{0}')$$), 'YFV01', 'empty dimension -> YFV01');
SELECT is(pg_temp.state($$SELECT ff_create_budget(NULL, '{_init}', '{1}', '{0}')$$), 'YFV01', 'reserved _init -> YFV01');
SELECT is(pg_temp.state($$SELECT ff_create_budget(NULL, ARRAY[E'a\tb'], '{1}', '{0}')$$), 'YFV01',
          'control character in a dimension -> YFV01');
SELECT is(pg_temp.state($$SELECT ff_create_budget(NULL, '{a}', ARRAY[NULL::bigint], '{0}')$$), 'YFV01', 'null limit -> YFV01');
SELECT is(pg_temp.state($$SELECT ff_create_budget(NULL, reset_interval_ms => -1)$$), 'YFV01',
          'negative reset_interval_ms -> YFV01');
SELECT is(pg_temp.state($$SELECT ff_create_budget(NULL, scope_type => 'Flow')$$), 'YFV17',
          'scope_type not ^[a-z][a-z0-9_]*$ -> YFV17 invalid_budget_scope');
SELECT is(pg_temp.state($$SELECT ff_create_budget(NULL, scope_id => 'x')$$), 'YFV17',
          'scope_id without scope_type -> YFV17');
SELECT is(pg_temp.state($$SELECT ff_create_budget(NULL, scope_type => 'flow', scope_id => E'a\nb')$$), 'YFV17',
          'control character in scope_id -> YFV17');
SELECT is(pg_temp.state($$SELECT ff_create_budget(NULL, scope_type => 'flow', scope_id => repeat('x', 257))$$), 'YFV17',
          'scope_id over 256 bytes -> YFV17');
SELECT is(pg_temp.state($$SELECT ff_create_budget(NULL, enforcement_mode => 'lax')$$), 'YFV01', 'unknown enforcement_mode -> YFV01');
SELECT is(pg_temp.state($$SELECT ff_create_budget(NULL, on_hard_limit => 'explode')$$), 'YFV01', 'unknown on_hard_limit -> YFV01');
SELECT is(pg_temp.state($$SELECT ff_create_budget(NULL, on_soft_limit => 'fail')$$), 'YFV01', 'unknown on_soft_limit -> YFV01');
SELECT is((SELECT count(*) FROM ff_budget_policy), 3::bigint, 'no row left behind by a rejected create');

------------------------------------------------------------------------------
-- ff_get_budget_status (spec 11.1 get_budget_status_happy_and_not_found)
------------------------------------------------------------------------------
SELECT is(pg_temp.state(format('SELECT ff_get_budget_status(%L)', pg_temp.b(99))), 'YFN04',
          'status of an unknown budget -> YFN04 budget_not_found');
SELECT is(pg_temp.state($$SELECT ff_get_budget_status('x')$$), 'YFV01', 'status: malformed id -> YFV01');
SELECT results_eq(
    $$SELECT budget_id, scope_type, scope_id, enforcement_mode, on_hard_limit, on_soft_limit, usage, hard_limits,
             soft_limits, breach_count, soft_breach_count, last_breach_at_ms, last_breach_dim, breached,
             reset_count, next_reset_at_ms, blocked_executions, created_at_ms IS NOT NULL
        FROM ff_get_budget_status(pg_temp.b(1))$$,
    $$VALUES (pg_temp.b(1), 'flow'::text, 'flow-1'::text, 'strict'::text, 'block'::text, 'notify'::text, '{}'::jsonb,
              '{"tokens": 100}'::jsonb, '{"tokens": 80}'::jsonb, 0::bigint, 0::bigint, NULL::bigint, NULL::text, false,
              0::bigint, NULL::bigint, 0::bigint, true)$$,
    'status after create: scope, mode, limits, zero counters, no schedule');

------------------------------------------------------------------------------
-- ff_report_usage_admin (spec 11.1)
------------------------------------------------------------------------------
SELECT ff_create_budget(pg_temp.b(3), '{tokens}', '{100}', '{50}');
SELECT is(pg_temp.report(3, '{tokens}', '{60}'), 'soft_breach tokens 60 50', '+60 over soft 50: soft_breach with the new value');
SELECT results_eq($$SELECT soft_breach_count, breach_count, usage FROM ff_get_budget_status(pg_temp.b(3))$$,
                  $$VALUES (1::bigint, 0::bigint, '{"tokens": 60}'::jsonb)$$, 'soft_breach_count 1, usage 60');
SELECT is(pg_temp.report(3, '{tokens}', '{60}'), 'hard_breach tokens 60 100',
          '+60 more over hard 100: hard_breach with the value before');
SELECT results_eq($$SELECT soft_breach_count, breach_count, usage, last_breach_dim, last_breach_at_ms IS NOT NULL, breached
                      FROM ff_get_budget_status(pg_temp.b(3))$$,
                  $$VALUES (1::bigint, 1::bigint, '{"tokens": 60}'::jsonb, 'tokens'::text, true, true)$$,
                  'hard breach: breach_count 1, nothing applied, last_breach_dim tokens, breached');

SELECT ff_create_budget(pg_temp.b(4), '{a,b}', '{10,100}', '{0,0}');
SELECT is(pg_temp.report(4, '{b,a}', '{5,11}'), 'hard_breach a 0 10', 'two dimensions, one over: hard_breach names it');
SELECT is(pg_temp.usage(4, 'b'), NULL, '... and no dimension is applied (b has no row yet: a comes first)');
SELECT is(pg_temp.report(4, '{a,b,a}', '{9,5,3}'), 'ok', 'a repeated dimension keeps its last delta');
SELECT results_eq($$SELECT pg_temp.usage(4, 'a'), pg_temp.usage(4, 'b')$$, $$VALUES (3::bigint, 5::bigint)$$,
                  '... a = 3, b = 5');
SELECT is(pg_temp.report(4, '{}', '{}'), 'ok', 'no dimensions: ok');
SELECT is(pg_temp.report(4, '{a}', '{7}'), 'ok', 'reaching the hard limit exactly is ok');
SELECT is((SELECT breached FROM ff_get_budget_status(pg_temp.b(4))), true, '... but the budget is now exhausted');
SELECT is(pg_temp.state(format('SELECT ff_report_usage_admin(%L, %L, %L)', pg_temp.b(4), '{a,b}', '{1}')), 'YFV01',
          'dimensions and deltas length mismatch -> YFV01');
SELECT is(pg_temp.state(format('SELECT ff_report_usage_admin(%L, %L, %L)', pg_temp.b(4), '{a}', '{-1}')), 'YFV01',
          'negative delta -> YFV01');
SELECT is(pg_temp.state(format('SELECT ff_report_usage_admin(%L, NULL, %L)', pg_temp.b(4), '{1}')), 'YFV01',
          'null dimensions -> YFV01');
SELECT is(pg_temp.state($$SELECT ff_report_usage_admin('nope', '{a}', '{1}')$$), 'YFV01', 'malformed budget id -> YFV01');
SELECT is(pg_temp.state(format('SELECT ff_report_usage_admin(%L, %L, %L)', pg_temp.b(4), '{_init}', '{1}')), 'YFV01',
          'reserved dimension -> YFV01');

-- dedup keys (spec 11.1 report_usage_admin_dedup_key_is_idempotent, 11.2 no double increment)
SELECT ff_create_budget(pg_temp.b(5), '{tokens}', '{100}', '{0}');
SELECT is(pg_temp.report(5, '{tokens}', '{10}', 'k1'), 'ok', 'first call with a dedup key: ok');
SELECT is(pg_temp.report(5, '{tokens}', '{10}', 'k1'), 'already_applied ok', 'the replay: already_applied, the first was ok');
SELECT is(pg_temp.usage(5, 'tokens'), 10::bigint, '... applied once');
SELECT is((SELECT count(*) FROM ff_budget_usage_dedup WHERE budget_id = pg_temp.b(5)::uuid), 1::bigint, 'one dedup row');
SELECT is((SELECT outcome_json FROM ff_budget_usage_dedup WHERE budget_id = pg_temp.b(5)::uuid),
          '{"kind": "Ok"}'::jsonb, 'the stored outcome uses upstream''s encoding');
SELECT is(pg_temp.report(5, '{tokens}', '{95}', 'k2'), 'hard_breach tokens 10 100', 'a keyed report that hard-breaches');
SELECT is((SELECT count(*) FROM ff_budget_usage_dedup WHERE dedup_key = 'k2'), 0::bigint,
          '... does not keep its key (nothing was applied)');
SELECT is(pg_temp.report(5, '{tokens}', '{5}', 'k3'), 'ok', 'k3 applied');
SELECT ff_create_budget(pg_temp.b(6), '{tokens}', '{100}', '{0}');
SELECT is(pg_temp.report(6, '{tokens}', '{5}', 'k3'), 'ok', 'dedup keys are per budget: k3 on another budget applies');
SELECT ff_create_budget(pg_temp.b(7), '{tokens}', '{100}', '{20}');
SELECT is(pg_temp.report(7, '{tokens}', '{30}', 'ks'), 'soft_breach tokens 30 20', 'a keyed soft breach');
SELECT is(pg_temp.report(7, '{tokens}', '{30}', 'ks'), 'already_applied tokens 30 20 soft_breach',
          '... replays as already_applied carrying the first outcome');
-- the key expires after 24 hours
SET LOCAL flowfabric.clock_offset_ms = 86400000;
SELECT is(pg_temp.report(5, '{tokens}', '{10}', 'k1'), 'ok', 'after 24 h the key is free again');
SELECT is(pg_temp.usage(5, 'tokens'), 25::bigint, '... and the report applies');
RESET flowfabric.clock_offset_ms;
SET LOCAL flowfabric.clock_offset_ms = 0;

-- no policy: usage is counted anyway (spec 11.2 report_usage_admit_happy_path)
SELECT is(pg_temp.report(8, '{tokens}', '{10}'), 'ok', 'a budget without a definition: ok');
SELECT is(pg_temp.usage(8, 'tokens'), 10::bigint, '... usage row 10');
-- policy_upsert_roundtrip_visible_in_report_usage
SELECT is(pg_temp.report(9, '{tokens}', '{10000}'), 'ok', '+10000 with no policy: ok');
SELECT ff_create_budget(pg_temp.b(9), '{tokens}', '{1}', '{0}');
SELECT is(pg_temp.report(9, '{tokens}', '{1}'), 'hard_breach tokens 10000 1', 'defined with hard 1, +1: hard_breach');

------------------------------------------------------------------------------
-- ff_report_usage (the worker's call)
------------------------------------------------------------------------------
SELECT ff_create_execution('tap75', execution_id => pg_temp.eid(1));
CREATE TEMP TABLE c1 AS SELECT * FROM ff_claim('tap75', 'w', 'w/1');
SELECT ff_create_budget(pg_temp.b(10), '{in,out}', '{1000,1000}', '{0,100}');
SELECT results_eq(
    $$SELECT outcome, dimension, current_usage, limit_value FROM ff_report_usage((SELECT handle FROM c1), pg_temp.b(10),
                                                                                 '{"in": 20, "out": 150}')$$,
    $$VALUES ('soft_breach'::text, 'out'::text, 150::bigint, 100::bigint)$$,
    'ff_report_usage: {"dim": delta} -> soft_breach on out');
SELECT is(pg_temp.ledger(10, 1), '{"in": 20, "out": 150}'::jsonb, 'the usage is attributed to the handle''s execution');
SELECT is((SELECT outcome FROM ff_report_usage((SELECT handle FROM c1), pg_temp.b(10),
                                               '{"custom": {"in": 5}, "dedup_key": "u1", "input_tokens": 7}')),
          'ok', 'upstream''s UsageDimensions shape: custom counts, input_tokens is ignored');
SELECT is((SELECT outcome || ' ' || first_outcome FROM ff_report_usage((SELECT handle FROM c1), pg_temp.b(10),
                                               '{"custom": {"in": 5}, "dedup_key": "u1"}')),
          'already_applied ok', '... its dedup_key dedups');
SELECT is((SELECT outcome FROM ff_report_usage((SELECT handle FROM c1), pg_temp.b(10), '{"in": 5}', 'u1')),
          'already_applied', 'the dedup_key argument dedups too');
SELECT is(pg_temp.usage(10, 'in'), 25::bigint, 'in = 20 + 5');
SELECT is(pg_temp.state(format('SELECT ff_report_usage(%L::bytea, %L, %L)', '\x0102', pg_temp.b(10), '{"in": 1}')),
          'YFV25', 'malformed handle -> YFV25');
SELECT is(pg_temp.state(format('SELECT ff_report_usage(NULL, %L, %L)', pg_temp.b(10), '{"in": 1}')), 'YFV01', 'null handle -> YFV01');
SELECT is(pg_temp.state(format('SELECT ff_report_usage(%L::bytea, %L, %L)', (SELECT handle FROM c1), pg_temp.b(10), '[1]')),
          'YFV01', 'dimensions not an object -> YFV01');
SELECT is(pg_temp.state(format('SELECT ff_report_usage(%L::bytea, %L, %L)', (SELECT handle FROM c1), pg_temp.b(10), '{"in": 1.5}')),
          'YFV01', 'fractional delta -> YFV01');
SELECT is(pg_temp.state(format('SELECT ff_report_usage(%L::bytea, %L, %L)', (SELECT handle FROM c1), pg_temp.b(10), '{"in": -1}')),
          'YFV01', 'negative delta -> YFV01');
SELECT is(pg_temp.state(format('SELECT ff_report_usage(%L::bytea, %L, %L)', (SELECT handle FROM c1), pg_temp.b(10), '{"in": "1"}')),
          'YFV01', 'string delta -> YFV01');
SELECT is(pg_temp.state(format('SELECT ff_report_usage(%L::bytea, %L, NULL)', (SELECT handle FROM c1), pg_temp.b(10))),
          'YFV01', 'null dimensions -> YFV01');
SELECT is(pg_temp.state(format('SELECT ff_report_usage(%L::bytea, %L, %L, repeat(%L, 1025))', (SELECT handle FROM c1),
                               pg_temp.b(10), '{"in": 1}', 'k')), 'YFV01', 'dedup key over 1024 bytes -> YFV01');

------------------------------------------------------------------------------
-- ff_record_spend (spec 11.3)
------------------------------------------------------------------------------
SELECT ff_create_budget(pg_temp.b(11), '{tokens,cost_cents}', '{100,1000}', '{50,500}');
SELECT is(pg_temp.spend(11, 2, '{"tokens": 10, "cost_cents": 20}'), 'ok', 'record_spend_ok_path: ok');
SELECT is(pg_temp.ledger(11, 2), '{"tokens": 10, "cost_cents": 20}'::jsonb, '... ledger rows 10 and 20');
SELECT is(pg_temp.spend(11, 3, '{"tokens": 7}', 'idem-1'), 'ok', 'record_spend_idempotent_replay: ok');
SELECT is(pg_temp.spend(11, 3, '{"tokens": 7}', 'idem-1'), 'already_applied ok', '... then already_applied');
SELECT is(pg_temp.ledger(11, 3), '{"tokens": 7}'::jsonb, '... ledger 7');
SELECT ff_create_budget(pg_temp.b(12), '{tokens}', '{100}', '{50}');
SELECT is(pg_temp.spend(12, 4, '{"tokens": 60}'), 'soft_breach tokens 60 50', 'record_spend_soft_breach');
SELECT is(pg_temp.ledger(12, 4), '{"tokens": 60}'::jsonb, '... ledger 60');
SELECT ff_create_budget(pg_temp.b(13), '{tokens}', '{100}', '{0}');
SELECT count(*) FROM pg_temp.spend(13, 5, '{"tokens": 40}');
SELECT is(pg_temp.spend(13, 5, '{"tokens": 80}'), 'hard_breach tokens 40 100', 'record_spend_hard_breach: seed 40, +80');
SELECT is(pg_temp.ledger(13, 5), '{"tokens": 40}'::jsonb, '... ledger stays 40');
SELECT is(pg_temp.state(format('SELECT ff_record_spend(%L, %L, %L)', pg_temp.b(13), 'fp:1:x', '{"a": 1}')), 'YFV01',
          'malformed execution id -> YFV01');
SELECT is(pg_temp.state(format('SELECT ff_record_spend(%L, %L, NULL)', pg_temp.b(13), pg_temp.eid(5))), 'YFV01',
          'null deltas -> YFV01');

------------------------------------------------------------------------------
-- ff_release_budget (spec 11.3)
------------------------------------------------------------------------------
SELECT ff_create_budget(pg_temp.b(14), '{tokens}', '{100}', '{0}');
SELECT count(*) FROM pg_temp.spend(14, 6, '{"tokens": 5}');
SELECT results_eq($$SELECT released_dimensions, unblocked FROM ff_release_budget(pg_temp.b(14), pg_temp.eid(6))$$,
                  $$VALUES (1, 0)$$, 'release_after_record: one dimension released');
SELECT results_eq($$SELECT pg_temp.usage(14, 'tokens'), pg_temp.ledger(14, 6)$$, $$VALUES (0::bigint, '{}'::jsonb)$$,
                  '... aggregate 0, ledger rows 0');
SELECT count(*) FROM pg_temp.spend(14, 7, '{"tokens": 3}');
SELECT count(*) FROM pg_temp.spend(14, 7, '{"tokens": 7}');
SELECT count(*) FROM pg_temp.spend(14, 7, '{"tokens": 2}');
SELECT is(pg_temp.usage(14, 'tokens'), 12::bigint, 'release_reverses_accumulated_spends: aggregate 12');
SELECT ff_release_budget(pg_temp.b(14), pg_temp.eid(7));
SELECT results_eq($$SELECT pg_temp.usage(14, 'tokens'), pg_temp.ledger(14, 7)$$, $$VALUES (0::bigint, '{}'::jsonb)$$,
                  '... 0 and the ledger is empty');
SELECT count(*) FROM pg_temp.spend(14, 8, '{"tokens": 9}');
SELECT results_eq($$SELECT released_dimensions FROM ff_release_budget(pg_temp.b(14), pg_temp.eid(9))$$, $$VALUES (0)$$,
                  'release_without_prior_record_is_noop');
SELECT is(pg_temp.usage(14, 'tokens'), 9::bigint, '... the other execution''s 9 stays');
SELECT ff_release_budget(pg_temp.b(14), pg_temp.eid(8));
SELECT count(*) FROM pg_temp.spend(14, 10, '{"tokens": 4}');
SELECT ff_release_budget(pg_temp.b(14), pg_temp.eid(10));
SELECT results_eq($$SELECT released_dimensions FROM ff_release_budget(pg_temp.b(14), pg_temp.eid(10))$$, $$VALUES (0)$$,
                  'release_is_idempotent: the second release changes nothing');
SELECT is(pg_temp.usage(14, 'tokens'), 0::bigint, '... aggregate 0 both times');
SELECT count(*) FROM pg_temp.spend(14, 11, '{"tokens": 5}');
SELECT count(*) FROM pg_temp.spend(14, 12, '{"tokens": 8}');
SELECT ff_release_budget(pg_temp.b(14), pg_temp.eid(11));
SELECT results_eq($$SELECT pg_temp.usage(14, 'tokens'), pg_temp.ledger(14, 11), pg_temp.ledger(14, 12)$$,
                  $$VALUES (8::bigint, '{}'::jsonb, '{"tokens": 8}'::jsonb)$$,
                  'release_isolated_between_executions: aggregate 8, e1 ledger gone, e2 kept');
SELECT results_eq($$SELECT released_dimensions, unblocked FROM ff_release_budget(pg_temp.b(98), pg_temp.eid(1))$$,
                  $$VALUES (0, 0)$$, 'release on a budget that does not exist: nothing to do');
SELECT is(pg_temp.state(format('SELECT ff_release_budget(%L, %L)', pg_temp.b(14), 'nope')), 'YFV01',
          'release: malformed execution id -> YFV01');
SELECT is(pg_temp.state(format('SELECT ff_release_budget(%L, NULL)', pg_temp.b(14))), 'YFV01', 'release: null execution id -> YFV01');

------------------------------------------------------------------------------
-- ff_reset_budget (spec 11.1) and ff_update_budget_limits
------------------------------------------------------------------------------
SELECT ff_create_budget(pg_temp.b(15), '{tokens}', '{50}', '{0}', 3600000);
SELECT count(*) FROM pg_temp.report(15, '{tokens}', '{40}');
SELECT count(*) FROM pg_temp.report(15, '{tokens}', '{40}');
CREATE TEMP TABLE r15 AS SELECT * FROM ff_reset_budget(pg_temp.b(15));
SELECT ok((SELECT outcome = 'reset' AND next_reset_at_ms >= (SELECT ms FROM t0) + 3600000 FROM r15),
          'reset_budget_zeroes_usage_and_advances_next_reset: next_reset_at >= now + interval');
SELECT results_eq($$SELECT usage, last_breach_at_ms, last_breach_dim, breached, breach_count, reset_count,
                           last_reset_at_ms IS NOT NULL, next_reset_at_ms = (SELECT next_reset_at_ms FROM r15)
                      FROM ff_get_budget_status(pg_temp.b(15))$$,
                  $$VALUES ('{"tokens": 0}'::jsonb, NULL::bigint, NULL::text, false, 1::bigint, 1::bigint, true, true)$$,
                  '... usage 0, breach marks cleared, breach_count kept, reset_count 1');
SELECT is(pg_temp.report(15, '{tokens}', '{50}'), 'ok', 'the full limit is available again');
SELECT is(pg_temp.state(format('SELECT ff_reset_budget(%L)', pg_temp.b(97))), 'YFN04',
          'reset_budget_not_found_returns_notfound: YFN04');
SELECT is(pg_temp.state($$SELECT ff_reset_budget(NULL)$$), 'YFV01', 'reset: null id -> YFV01');
SELECT results_eq($$SELECT next_reset_at_ms FROM ff_reset_budget(pg_temp.b(3))$$, $$VALUES (NULL::bigint)$$,
                  'reset without an interval: no next reset');

SELECT ff_create_budget(pg_temp.b(16), '{tokens,cents}', '{100,10}', '{0,0}');
SELECT count(*) FROM pg_temp.report(16, '{tokens}', '{90}');
SELECT is(pg_temp.report(16, '{tokens}', '{20}'), 'hard_breach tokens 90 100', 'a rejected report breaches');
SELECT results_eq($$SELECT breached, unblocked FROM ff_update_budget_limits(pg_temp.b(16), '{tokens}', '{200}', '{150}')$$,
                  $$VALUES (false, 0)$$, 'ff_update_budget_limits: raised, no longer breached');
SELECT results_eq($$SELECT hard_limits, soft_limits, breached FROM ff_get_budget_status(pg_temp.b(16))$$,
                  $$VALUES ('{"cents": 10, "tokens": 200}'::jsonb, '{"cents": 0, "tokens": 150}'::jsonb, false)$$,
                  '... limits merged per dimension');
SELECT is(pg_temp.report(16, '{tokens}', '{20}'), 'ok', '... and the report applies now');
SELECT results_eq($$SELECT breached FROM ff_update_budget_limits(pg_temp.b(16), '{tokens}', '{110}', '{0}')$$,
                  $$VALUES (true)$$, 'lowered to the usage: breached');
SELECT results_eq($$SELECT hard_limits FROM ff_update_budget_limits(pg_temp.b(16), '{cents}', '{0}', '{0}'),
                           ff_get_budget_status(pg_temp.b(16))$$,
                  $$VALUES ('{"tokens": 110}'::jsonb)$$, '0 and 0 drops a dimension''s limits');
SELECT is(pg_temp.state(format('SELECT ff_update_budget_limits(%L, %L, %L, %L)', pg_temp.b(96), '{a}', '{1}', '{0}')),
          'YFN04', 'update limits of an unknown budget -> YFN04');
SELECT is(pg_temp.state(format('SELECT ff_update_budget_limits(%L, %L, %L, %L)', pg_temp.b(16), '{a}', '{1,2}', '{0}')),
          'YFV01', 'update limits: length mismatch -> YFV01');

------------------------------------------------------------------------------
-- ff_read_budget_usage_and_limits
------------------------------------------------------------------------------
SELECT results_eq($$SELECT limits, usage FROM ff_read_budget_usage_and_limits(pg_temp.b(95))$$,
                  $$VALUES ('{}'::jsonb, '{}'::jsonb)$$, 'unknown budget: empty limits and usage');
SELECT results_eq($$SELECT limits, usage FROM ff_read_budget_usage_and_limits(pg_temp.b(2))$$,
                  $$VALUES ('{"hard:tokens": "100", "soft:cents": "500"}'::jsonb, '{"tokens": 0}'::jsonb)$$,
                  'hard:/soft: limits as decimal strings (zero ones left out), usage of the hard-limited dimensions');
SELECT results_eq($$SELECT usage FROM ff_read_budget_usage_and_limits(pg_temp.b(3))$$,
                  $$VALUES ('{"tokens": 0}'::jsonb)$$, '... after a reset');
SELECT is(pg_temp.state($$SELECT ff_read_budget_usage_and_limits('zz')$$), 'YFV01', 'malformed id -> YFV01');

SELECT * FROM finish();
ROLLBACK;

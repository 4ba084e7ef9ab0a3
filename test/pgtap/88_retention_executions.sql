-- Retention of finished executions (ff_reconcile_retention): an execution
-- terminal for flowfabric.retention_ms is deleted with every row that
-- belongs to it (attempts, streams, suspensions, waitpoints, signals, dedup
-- keys, idempotency keys, replay count, every outbox's events) and nothing
-- else; live executions of any age and recent ones stay; oldest first,
-- batch_size per call; 0 / -1 keep everything; the budget ledger stays; a
-- deleted execution's idempotency key no longer dedups; settings, errors,
-- privileges.
BEGIN;
SELECT plan(49);

DELETE FROM ff_waitpoint_hmac;
SELECT ff_seed_waitpoint_hmac_secret('tap88-kid', repeat('8e', 32));

CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;
-- q run as role r (in a subtransaction, so the role goes back)
CREATE FUNCTION pg_temp.err_as(r text, q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', r);
    EXECUTE q;
    RAISE EXCEPTION USING ERRCODE = 'ZZ998', MESSAGE = 'ran';
EXCEPTION WHEN OTHERS THEN
    RETURN CASE WHEN SQLSTATE = 'ZZ998' THEN 'ok' ELSE SQLSTATE END;
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.err_as(text, text) TO PUBLIC;
CREATE FUNCTION pg_temp.id(n integer) RETURNS text LANGUAGE sql AS
$$ SELECT format('{fp:88}:00000000-0000-4000-8000-%s', lpad((8800 + n)::text, 12, '0')) $$;
CREATE FUNCTION pg_temp.u(n integer) RETURNS uuid LANGUAGE sql AS
$$ SELECT (ff_split_execution_id(pg_temp.id(n))).execution_uuid $$;
CREATE TEMP TABLE h (n integer, handle bytea);
GRANT ALL ON h TO PUBLIC;
CREATE FUNCTION pg_temp.make(n integer, policy jsonb DEFAULT NULL, idem text DEFAULT NULL,
                             delay_until bigint DEFAULT NULL) RETURNS void LANGUAGE sql AS $$
    SELECT ff_create_execution('tap88-' || n, execution_id => pg_temp.id(n), namespace => 'ns88',
                               policy => policy, idempotency_key => idem, delay_until => delay_until);
$$;
CREATE FUNCTION pg_temp.claim(n integer) RETURNS bytea LANGUAGE sql AS $$
    INSERT INTO h SELECT n, handle FROM ff_claim('tap88-' || n, 'w', 'wi', lease_ttl_ms => 604800000)
    RETURNING handle;
$$;
CREATE FUNCTION pg_temp.hd(n integer) RETURNS bytea LANGUAGE sql AS
$$ SELECT handle FROM h WHERE h.n = hd.n ORDER BY ctid DESC LIMIT 1 $$;
-- every table holding rows of execution n, with its row count
CREATE FUNCTION pg_temp.footprint(n integer) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    t text;
    c bigint;
    acc text := '';
BEGIN
    FOREACH t IN ARRAY ARRAY['ff_execution', 'ff_attempt', 'ff_idempotency_key', 'ff_completion_event',
                             'ff_lease_event', 'ff_signal_event', 'ff_operator_event', 'ff_suspension',
                             'ff_waitpoint', 'ff_signal', 'ff_signal_dedup', 'ff_suspend_dedup',
                             'ff_stream_meta', 'ff_stream_frame', 'ff_stream_summary', 'ff_claim_grant',
                             'ff_execution_replay'] LOOP
        EXECUTE format('SELECT count(*) FROM %I WHERE partition_key = 88 AND execution_id = $1', t)
           INTO c USING pg_temp.u(n);
        IF c > 0 THEN
            acc := acc || CASE WHEN acc = '' THEN '' ELSE ' ' END || t || ':' || c;
        END IF;
    END LOOP;
    RETURN acc;
END $$;

-- whatever else is already due is cleared first, so the counts below are ours
SET LOCAL flowfabric.retention_ms = 1;
SELECT ff_reconcile_retention(100000);
SET LOCAL flowfabric.retention_ms = '1h';

------------------------------------------------------------------------------
-- At clock 0: A completed (idempotency key, streamed output, budget usage),
-- B failed after a suspension resumed by a signal, C cancelled by an
-- operator, replayed and completed; D running, E waiting, F delayed,
-- H suspended: all live. G completes 30 minutes later.
------------------------------------------------------------------------------
SELECT ff_create_budget('b8800000-0000-4000-8000-000000000001', '{tokens}', '{1000}', '{0}');
SELECT pg_temp.make(1, '{"budget_ids": ["b8800000-0000-4000-8000-000000000001"]}', 'tap88-key-a');
SELECT pg_temp.claim(1);
SELECT ff_append_frame(pg_temp.hd(1), 'log', 'line 1'), ff_append_frame(pg_temp.hd(1), 'log', 'line 2');
SELECT ff_append_frame(pg_temp.hd(1), 'summary', '{"done": true}', 'summary');
SELECT outcome = 'ok' AS reported FROM ff_report_usage(pg_temp.hd(1), 'b8800000-0000-4000-8000-000000000001', '{"tokens": 40}');
SELECT ff_complete(pg_temp.hd(1), 'result a');

SELECT pg_temp.make(2);
SELECT pg_temp.claim(2);
CREATE TEMP TABLE wp2 AS SELECT * FROM ff_suspend(pg_temp.hd(2), '["wpk:go"]',
    '{"Single": {"waitpoint_key": "wpk:go", "matcher": {"ByName": "go"}}}', idempotency_key => 'susp-2');
SELECT effect FROM ff_deliver_signal(pg_temp.id(2), (SELECT waitpoint_id FROM wp2),
                                     (SELECT waitpoint_token FROM wp2), 'go', idempotency_key => 'sig-2');
SELECT pg_temp.claim(2);
SELECT ff_fail(pg_temp.hd(2), 'boom', 'permanent');

SELECT pg_temp.make(3);
SELECT outcome FROM ff_cancel_execution(pg_temp.id(3), 'not now');
SELECT public_state FROM ff_replay_execution(pg_temp.id(3), 'now');
SELECT pg_temp.claim(3);
SELECT ff_complete(pg_temp.hd(3));

SELECT pg_temp.make(4);
SELECT pg_temp.claim(4);
SELECT pg_temp.make(5);
SELECT pg_temp.make(6, delay_until => ff_server_time_ms() + 30 * 86400000::bigint);
SELECT pg_temp.make(8);
SELECT pg_temp.claim(8);
SELECT count(*) FROM ff_suspend(pg_temp.hd(8), '["wpk:never"]');
SELECT pg_temp.make(7);
SELECT pg_temp.claim(7);

SELECT is((SELECT string_agg(n || ':' || e.public_state, ' ' ORDER BY n) FROM generate_series(1, 8) n
             JOIN ff_execution e ON e.partition_key = 88 AND e.execution_id = pg_temp.u(n)),
          '1:completed 2:failed 3:completed 4:active 5:waiting 6:delayed 7:active 8:suspended',
          'the executions are as set up');
SELECT is(pg_temp.footprint(1),
          'ff_execution:1 ff_attempt:1 ff_idempotency_key:1 ff_completion_event:1 ff_lease_event:2 '
          'ff_stream_meta:1 ff_stream_frame:3 ff_stream_summary:1',
          'A: attempt, idempotency key, events, stream');
SELECT is(pg_temp.footprint(2),
          'ff_execution:1 ff_attempt:1 ff_completion_event:1 ff_lease_event:4 ff_signal_event:1 ff_suspension:1 '
          'ff_waitpoint:1 ff_signal:1 ff_signal_dedup:1 ff_suspend_dedup:1',
          'B: suspension, waitpoint, signal, dedup keys, signal event');
SELECT is(pg_temp.footprint(3),
          'ff_execution:1 ff_attempt:1 ff_completion_event:2 ff_lease_event:2 ff_operator_event:2 ff_execution_replay:1',
          'C: two completion events (cancel, then the replay''s completion), operator events, replay count');
SELECT results_eq($$SELECT execution_id, created FROM ff_create_execution('tap88-dup', execution_id => pg_temp.id(99),
                                                                          namespace => 'ns88', idempotency_key => 'tap88-key-a')$$,
                  $$VALUES (pg_temp.id(1), false)$$,
                  'the idempotency key dedups while A exists (another id on its partition gets A''s)');

SET LOCAL flowfabric.clock_offset_ms = 1800000;
SELECT ff_complete(pg_temp.hd(7));
CREATE TEMP TABLE before AS SELECT n, pg_temp.footprint(n) AS fp FROM generate_series(1, 8) n;

SET LOCAL flowfabric.clock_offset_ms = 3540000;
SELECT is(ff_reconcile_retention(), 0, '59 minutes after A, B and C finished: nothing is due');

SET LOCAL flowfabric.clock_offset_ms = 3660000;
SELECT is(ff_reconcile_retention(), 3, '61 minutes after: A, B and C are deleted');
SELECT is(pg_temp.footprint(1), '', 'nothing of A is left (attempt, key, events, stream)');
SELECT is(pg_temp.footprint(2), '', 'nothing of B is left (suspension, waitpoint, signals, dedup keys, signal event)');
SELECT is(pg_temp.footprint(3), '', 'nothing of C is left (operator events, replay count)');
SELECT is((SELECT array_agg(b.n ORDER BY b.n) FROM before b WHERE b.fp IS DISTINCT FROM pg_temp.footprint(b.n)),
          ARRAY[1, 2, 3], 'the other executions keep every row');
SELECT is((SELECT count(*) FROM ff_check_invariants()), 0::bigint, 'ff_check_invariants: every invariant holds');
SELECT is((SELECT sum(delta_total) FROM ff_budget_usage_by_exec WHERE execution_id = pg_temp.u(1)), 40::numeric,
          'the budget ledger row of A stays');
SELECT is((SELECT current_value FROM ff_budget_usage WHERE budget_id = 'b8800000-0000-4000-8000-000000000001'
             AND dimension = 'tokens'), 40::bigint, 'and so does the budget''s usage');
SELECT is(ff_read_execution_state(pg_temp.id(1)), NULL, 'A reads as unknown');
SELECT is((SELECT count(*) FROM ff_completion_events(0, 10000) WHERE execution_id = pg_temp.id(1)), 0::bigint,
          'no completion event of A is left for a subscriber');
SELECT results_eq($$SELECT execution_id, created FROM ff_create_execution('tap88-dup', execution_id => pg_temp.id(99),
                                                                          namespace => 'ns88', idempotency_key => 'tap88-key-a')$$,
                  $$VALUES (pg_temp.id(99), true)$$,
                  'A''s idempotency key went with it: the same key creates a new execution');
SELECT is(ff_reconcile_retention(), 0, 'a second run finds nothing');
SELECT is((SELECT count(*) FROM ff_execution WHERE partition_key = 88 AND execution_id = pg_temp.u(7)), 1::bigint,
          'G, terminal for 31 minutes, stays');

SET LOCAL flowfabric.clock_offset_ms = 5460000;
SELECT is(ff_reconcile_retention(), 1, 'an hour after G finished: G is deleted');
SELECT is(pg_temp.footprint(7), '', 'nothing of G is left');

-- live executions of any age stay
SET LOCAL flowfabric.clock_offset_ms = 1728000000;
SELECT is(ff_reconcile_retention(), 0, '20 days later: nothing else is due');
SELECT is((SELECT string_agg(n || ':' || e.public_state, ' ' ORDER BY n) FROM generate_series(1, 8) n
             JOIN ff_execution e ON e.partition_key = 88 AND e.execution_id = pg_temp.u(n)),
          '4:active 5:waiting 6:delayed 8:suspended', 'running, waiting, delayed and suspended executions stay');
SELECT is((SELECT array_agg(b.n ORDER BY b.n) FROM before b WHERE b.n IN (4, 5, 6, 8)
             AND b.fp IS DISTINCT FROM pg_temp.footprint(b.n)), NULL, '... with all their rows');

------------------------------------------------------------------------------
-- batch_size, oldest first
------------------------------------------------------------------------------
SELECT pg_temp.make(n) FROM generate_series(11, 15) n;
SELECT pg_temp.claim(n) FROM generate_series(11, 15) n;
-- finished in the order 13, 11, 15, 12, 14, one second apart
SELECT set_config('flowfabric.clock_offset_ms', (1728000000 + o * 1000)::text, true), ff_complete(pg_temp.hd(n))
  FROM (VALUES (13, 1), (11, 2), (15, 3), (12, 4), (14, 5)) v(n, o) ORDER BY o;
SET LOCAL flowfabric.clock_offset_ms = 1736000000;
CREATE FUNCTION pg_temp.remaining() RETURNS integer[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(n ORDER BY n), '{}') FROM generate_series(11, 15) n
     WHERE EXISTS (SELECT 1 FROM ff_execution WHERE partition_key = 88 AND execution_id = pg_temp.u(n))
$$;
SELECT is(ff_reconcile_retention(2), 2, 'batch_size 2: two executions');
SELECT is(pg_temp.remaining(), ARRAY[12, 14, 15], '... the two that finished first (13, 11)');
SELECT is(ff_reconcile_retention(2), 2, 'the next two');
SELECT is(pg_temp.remaining(), ARRAY[14], '... 15 and 12');
SELECT is(ff_reconcile_retention(2), 1, 'the last one');
SELECT is(ff_reconcile_retention(2), 0, 'then none');

------------------------------------------------------------------------------
-- retention disabled, the settings
------------------------------------------------------------------------------
SELECT pg_temp.make(20);
SELECT pg_temp.claim(20);
SELECT ff_complete(pg_temp.hd(20));
SET LOCAL flowfabric.clock_offset_ms = 1743000000;   -- 2 hours after it finished
SET LOCAL flowfabric.retention_ms = 0;
SELECT is(ff_reconcile_retention(), 0, 'retention_ms 0 keeps finished executions forever');
SET LOCAL flowfabric.retention_ms = -1;
SELECT is(ff_reconcile_retention(), 0, 'so does -1');
SELECT is(pg_temp.footprint(20) LIKE 'ff_execution:1 %', true, 'the execution is still there');
RESET flowfabric.retention_ms;
SELECT is(current_setting('flowfabric.retention_ms'), '7d', 'flowfabric.retention_ms defaults to 7 days');
SELECT is(ff_reconcile_retention(), 0, '... which a 2-hour-old execution is within');
SET LOCAL flowfabric.retention_ms = '1h';
SELECT is(ff_reconcile_retention(), 1, 'with 1 h it goes');
SELECT is(current_setting('flowfabric.event_retention_ms'), '1d', 'flowfabric.event_retention_ms defaults to 1 day');
SELECT is(current_setting('flowfabric.retention_interval_ms') || ' ' || current_setting('flowfabric.event_retention_interval_ms'),
          '1min 1min', 'both are background reconcilers ("retention", "event_retention"), every minute by default');
SELECT is((SELECT context FROM pg_settings WHERE name = 'flowfabric.retention_ms') || ' '
          || (SELECT context FROM pg_settings WHERE name = 'flowfabric.event_retention_ms'),
          'superuser superuser', 'the retention settings are superuser-only');
SELECT is(pg_temp.err_as('ff_admin', 'SET flowfabric.retention_ms = 1'), '42501',
          'an administrator cannot shorten the retention for its own session');

------------------------------------------------------------------------------
-- errors and privileges
------------------------------------------------------------------------------
SELECT is(pg_temp.err('SELECT ff_reconcile_retention(0)'), 'YFV01', 'batch_size 0 -> YFV01');
SELECT is(pg_temp.err('SELECT ff_reconcile_retention(100001)'), 'YFV01', 'batch_size 100001 -> YFV01');
SELECT is(pg_temp.err('SELECT ff_reconcile_retention(-1)'), 'YFV01', 'batch_size -1 -> YFV01');
SELECT is(ff_reconcile_retention(NULL), 0, 'batch_size NULL is the default (1000)');
SELECT is(pg_temp.err('SET LOCAL flowfabric.retention_ms = 0; SELECT ff_reconcile_retention(0)'), 'YFV01',
          'a bad batch_size is an error even with retention off');
SELECT is(pg_temp.err_as('ff_admin', 'SELECT ff_reconcile_retention()'), 'ok', 'ff_admin runs it');
SELECT is(pg_temp.err_as('ff_worker', 'SELECT ff_reconcile_retention()'), '42501', 'ff_worker may not');
SELECT is(pg_temp.err_as('ff_signaler', 'SELECT ff_reconcile_retention()'), '42501', 'nor ff_signaler');
SELECT ok(NOT has_table_privilege('ff_admin', 'ff_retention_state', 'SELECT')
          AND NOT has_table_privilege('public', 'ff_retention_state', 'SELECT'),
          'ff_retention_state is not readable by the roles');

SELECT * FROM finish();
ROLLBACK;

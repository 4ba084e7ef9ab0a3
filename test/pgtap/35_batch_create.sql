-- ff_create_executions: one row per input element in input order, the single
-- call's validation / idempotency / partition rules, duplicates inside one
-- batch, shared and per-element arguments, and every bad input (rejecting
-- the whole call with its SQLSTATE and leaving no row behind).
BEGIN;
SELECT plan(43);

CREATE FUNCTION pg_temp.leftovers() RETURNS bigint LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM ff_execution WHERE lane_id = 'tap35-bad')
         + (SELECT count(*) FROM ff_lane WHERE lane_id = 'tap35-bad')
         + (SELECT count(*) FROM ff_idempotency_key WHERE idempotency_key LIKE 'tap35-bad%')
$$;

------------------------------------------------------------------------------
-- results line up with the inputs
------------------------------------------------------------------------------
CREATE TEMP TABLE r1 AS
SELECT * FROM ff_create_executions('tap35-a',
    ARRAY['\x00', '\x01', NULL, '\x03', '\x04']::bytea[],
    execution_ids => ARRAY[NULL, '{fp:7}:00000000-0000-4000-8000-000000003501', NULL, NULL,
                           '{fp:008}:00000000-0000-4000-8000-00000000350A'],
    priorities => ARRAY[1, 2, NULL, 4, 9999],
    tags => ARRAY['{"app.n": "0"}', NULL, '{"app.n": "2"}', NULL, NULL]::jsonb[],
    namespace => 'ns35', execution_kind => 'k35', creator_identity => 'tap35');

SELECT results_eq($$SELECT item FROM r1 ORDER BY item$$, $$VALUES (1), (2), (3), (4), (5)$$,
                  'one row per input element, items numbered from 1');
SELECT results_eq($$SELECT item FROM ff_create_executions('tap35-order', ARRAY['\x01', '\x02', '\x03']::bytea[])$$,
                  $$VALUES (1), (2), (3)$$, 'rows come back in input order');
SELECT ok((SELECT bool_and(created AND public_state = 'waiting') FROM r1),
          'every element created, waiting');
SELECT is((SELECT count(DISTINCT execution_id) FROM r1), 5::bigint, 'five distinct executions');
SELECT results_eq(
    $$SELECT r.item, e.input_payload, e.priority, e.tags
        FROM r1 r JOIN ff_execution e
          ON ff_format_execution_id(e.partition_key, e.execution_id) = r.execution_id ORDER BY r.item$$,
    $$VALUES (1, '\x00'::bytea, 1, '{"app.n": "0"}'::jsonb), (2, '\x01', 2, '{}'), (3, NULL, 0, '{"app.n": "2"}'),
             (4, '\x03', 4, '{}'), (5, '\x04', 9000, '{}')$$,
    'each row is the execution of its element: payload, priority (clamped, NULL = 0), tags (NULL = {})');
SELECT is((SELECT execution_id FROM r1 WHERE item = 2), '{fp:7}:00000000-0000-4000-8000-000000003501',
          'an element with an execution id keeps it');
SELECT is((SELECT execution_id FROM r1 WHERE item = 5), '{fp:8}:00000000-0000-4000-8000-00000000350a',
          'ids are canonicalised as by ff_create_execution');
SELECT ok((SELECT bool_and(ff_execution_partition(execution_id) = ff_solo_partition('tap35-a'))
             FROM r1 WHERE item IN (1, 3, 4)),
          'minted ids are in the lane''s solo partition');
SELECT is((SELECT count(*) FROM ff_execution
            WHERE lane_id = 'tap35-a' AND namespace = 'ns35' AND execution_kind = 'k35'
              AND creator_identity = 'tap35'),
          5::bigint, 'namespace, kind and creator apply to every element');
SELECT is((SELECT count(*) FROM ff_lane WHERE lane_id = 'tap35-a'), 1::bigint, 'the lane is registered once');
SELECT is((SELECT count(*) FROM ff_create_executions('tap35-empty', '{}'::bytea[])), 0::bigint,
          'an empty batch returns no rows');
SELECT is((SELECT count(*) FROM ff_lane WHERE lane_id = 'tap35-empty'), 0::bigint,
          '... and registers nothing');

------------------------------------------------------------------------------
-- idempotency keys and execution ids repeated inside one batch
------------------------------------------------------------------------------
CREATE TEMP TABLE r2 AS
SELECT * FROM ff_create_executions('tap35-idem', ARRAY['\x0a', '\x0b', '\x0c', '\x0d']::bytea[],
    idempotency_keys => ARRAY['tap35-k1', 'tap35-k2', 'tap35-k1', NULL]);
SELECT results_eq($$SELECT item, created FROM r2 ORDER BY item$$,
                  $$VALUES (1, true), (2, true), (3, false), (4, true)$$,
                  'a key repeated inside the batch: the repeat is not created');
SELECT is((SELECT execution_id FROM r2 WHERE item = 3), (SELECT execution_id FROM r2 WHERE item = 1),
          'the repeat returns the first element''s execution');
SELECT is((SELECT public_state FROM r2 WHERE item = 3), 'waiting', '... with its public_state');
SELECT is((SELECT count(*) FROM ff_execution WHERE lane_id = 'tap35-idem'), 3::bigint,
          'three executions for four elements');
SELECT is((SELECT input_payload FROM ff_execution
            WHERE ff_format_execution_id(partition_key, execution_id) = (SELECT execution_id FROM r2 WHERE item = 1)),
          '\x0a'::bytea, 'the first element''s payload won');
SELECT results_eq(
    $$SELECT created, execution_id = (SELECT execution_id FROM r2 WHERE item = 2)
        FROM ff_create_executions('tap35-idem', ARRAY['\xff']::bytea[], idempotency_keys => ARRAY['tap35-k2'])$$,
    $$VALUES (false, true)$$, 'a later batch with a used key gets the existing execution');
SELECT results_eq(
    $$SELECT created, execution_id FROM ff_create_execution('tap35-idem', idempotency_key => 'tap35-k1')$$,
    $$SELECT false, execution_id FROM r2 WHERE item = 1$$,
    'batch keys and single-call keys share one scope');
SELECT results_eq(
    $$SELECT item, created FROM ff_create_executions('tap35-dupid', ARRAY['\x01', '\x02']::bytea[],
        execution_ids => ARRAY['{fp:9}:00000000-0000-4000-8000-000000003502',
                               '{fp:9}:00000000-0000-4000-8000-000000003502'])$$,
    $$VALUES (1, true), (2, false)$$, 'an execution id repeated inside the batch: created once');
SELECT is((SELECT input_payload FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000003502'),
          '\x01'::bytea, '... with the first element''s payload');
SELECT results_eq(
    $$SELECT created FROM ff_create_executions('tap35-ns', ARRAY['\x01', '\x02']::bytea[],
        idempotency_keys => ARRAY['tap35-k1', 'tap35-k1'], namespace => 'other')$$,
    $$VALUES (true), (false)$$, 'keys are scoped by namespace (and partition), as for the single call');

------------------------------------------------------------------------------
-- shared policy, capabilities, delay and deadline
------------------------------------------------------------------------------
CREATE TEMP TABLE r3 AS
SELECT * FROM ff_create_executions('tap35-shared', ARRAY['\x01', '\x02']::bytea[],
    required_capabilities => ARRAY['gpu', 'asr'],
    policy => '{"retry_policy": {"max_retries": 2}, "routing_requirements": {"required_capabilities": ["llm"]}}',
    delay_until => ff_server_time_ms() + 60000,
    execution_deadline_at => ff_server_time_ms() + 3600000);
SELECT ok((SELECT bool_and(public_state = 'delayed' AND created) FROM r3), 'a future delay_until: every element delayed');
SELECT is((SELECT count(*) FROM ff_execution
            WHERE lane_id = 'tap35-shared' AND required_capabilities = ARRAY['asr', 'gpu', 'llm']
              AND policy @> '{"retry_policy": {"max_retries": 2}}' AND deadline_at_ms IS NOT NULL
              AND eligibility_state = 'not_eligible_until_time' AND blocking_reason = 'waiting_for_delay'),
          2::bigint, 'policy, merged sorted capabilities, deadline and the delayed vector on every element');
SELECT ok(NOT EXISTS (SELECT 1 FROM ff_claim('tap35-shared', 'w', 'wi', ARRAY['asr', 'gpu', 'llm'])),
          'delayed elements are not claimable');

------------------------------------------------------------------------------
-- bad input rejects the whole call and leaves nothing behind
------------------------------------------------------------------------------
SELECT throws_ok($$SELECT * FROM ff_create_executions('tap35-bad', ARRAY['\x01', '\x02']::bytea[],
                       execution_ids => ARRAY[NULL, 'not-an-id'])$$,
                 'YFV01', NULL, 'a malformed execution id in element 2 -> YFV01');
SELECT is(pg_temp.leftovers(), 0::bigint, '... element 1 was not written either');
SELECT throws_ok($$SELECT * FROM ff_create_executions('tap35-bad', ARRAY['\x01', '\x02']::bytea[],
                       tags => ARRAY['{"app.x": "1"}', '{"Bad": "1"}']::jsonb[],
                       idempotency_keys => ARRAY['tap35-bad-1', 'tap35-bad-2'])$$,
                 'YFV23', NULL, 'a bad tag key in element 2 -> YFV23');
SELECT is(pg_temp.leftovers(), 0::bigint, '... no execution, lane or idempotency key left behind');
SET LOCAL flowfabric.max_payload_bytes = 4;
SELECT throws_ok($$SELECT * FROM ff_create_executions('tap35-bad', ARRAY['\x01', '\x0102030405']::bytea[])$$,
                 'YFV05', NULL, 'a payload over flowfabric.max_payload_bytes -> YFV05');
RESET flowfabric.max_payload_bytes;
SELECT throws_ok($$SELECT * FROM ff_create_executions('tap35-bad', ARRAY['\x01']::bytea[], policy => '{"retry_policy": 3}')$$,
                 'YFV04', NULL, 'a bad shared policy -> YFV04');
SELECT throws_ok($$SELECT * FROM ff_create_executions('tap35-bad', ARRAY['\x01']::bytea[],
                       required_capabilities => ARRAY['has space'])$$,
                 'YFV03', NULL, 'bad shared capabilities -> YFV03');
SELECT throws_ok($$SELECT * FROM ff_create_executions('tap35 bad' || chr(1), ARRAY['\x01']::bytea[])$$,
                 'YFV01', NULL, 'a bad lane -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_create_executions(NULL, ARRAY['\x01']::bytea[])$$,
                 'YFV01', 'invalid_input: lane_id must not be null', 'no lane -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_create_executions('tap35-bad', NULL)$$,
                 'YFV01', 'invalid_input: input_payloads must not be null', 'no input_payloads -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_create_executions('tap35-bad', ARRAY['\x01', '\x02']::bytea[],
                       priorities => ARRAY[1, 2, 3])$$,
                 'YFV01', 'invalid_input: priorities has 3 elements, input_payloads has 2',
                 'a per-element array of another length -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_create_executions('tap35-bad', ARRAY['\x01', '\x02']::bytea[],
                       idempotency_keys => ARRAY['tap35-bad-1'])$$,
                 'YFV01', NULL, 'a shorter idempotency_keys -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_create_executions('tap35-bad', ARRAY[['\x01'], ['\x02']]::bytea[])$$,
                 'YFV01', 'invalid_input: input_payloads must be a one-dimensional array',
                 'a two-dimensional array -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_create_executions('tap35-bad', array_fill('\x01'::bytea, ARRAY[10001]))$$,
                 'YFV01', 'invalid_input: input_payloads has 10001 elements, a batch takes at most 10000',
                 'more than 10000 elements -> YFV01');
SELECT is(pg_temp.leftovers(), 0::bigint, 'no rejected batch left anything behind');

-- the error names the element that failed
CREATE FUNCTION pg_temp.error_context(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    ctx text;
BEGIN
    EXECUTE sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS ctx = PG_EXCEPTION_CONTEXT;
    RETURN ctx;
END
$$;
SELECT matches(pg_temp.error_context($$SELECT * FROM ff_create_executions('tap35-bad', ARRAY['\x01', '\x02', '\x03']::bytea[],
                       execution_ids => ARRAY[NULL, NULL, 'bad'])$$),
               'ff_create_executions, element 3', 'the error context names element 3');

------------------------------------------------------------------------------
-- minted ids are version 7 UUIDs that follow input order, so a batch's rows
-- go to the end of its partition's range in the primary key
------------------------------------------------------------------------------
CREATE TEMP TABLE r7 AS
SELECT item, (ff_split_execution_id(execution_id)).* FROM ff_create_executions('tap35-v7', array_fill(NULL::bytea, ARRAY[300]));
SELECT ok((SELECT bool_and(substr(execution_uuid::text, 15, 1) = '7' AND partition_key = ff_solo_partition('tap35-v7')) FROM r7),
          'minted ids: version 7 UUIDs in the lane''s partition');
SELECT results_eq($$SELECT item FROM r7 ORDER BY execution_uuid$$, $$SELECT item FROM r7 ORDER BY item$$,
                  'minted ids increase in input order');

SELECT * FROM finish();
ROLLBACK;

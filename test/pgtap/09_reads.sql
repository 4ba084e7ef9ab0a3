-- Read functions: describe, info, state, result, context, attempt counters,
-- list_executions / list_lanes pagination, tags, namespace, ping, clock,
-- capabilities.
BEGIN;
SELECT plan(75);

SELECT ff_create_execution('tap09-r', input_payload => '\x09'::bytea,
        execution_id => '{fp:90}:00000000-0000-4000-8000-000000000901', namespace => 'tenant-1',
        execution_kind => 'kind9', priority => 3, tags => '{"cairn.task_id": "abc"}');
SELECT ff_create_execution('tap09-bare', execution_id => '{fp:90}:00000000-0000-4000-8000-000000000902');

------------------------------------------------------------------------------
-- fresh execution
------------------------------------------------------------------------------
SELECT results_eq(
    $$SELECT execution_id, flow_id, lane_id, namespace, public_state, blocking_reason, blocking_detail,
             current_attempt_index, current_attempt_id, lease_id, lease_epoch, worker_instance_id,
             lease_expires_at_ms, lease_renewed_at_ms, total_attempt_count, tags
        FROM ff_describe_execution('{fp:90}:00000000-0000-4000-8000-000000000901')$$,
    $$VALUES ('{fp:90}:00000000-0000-4000-8000-000000000901'::text, NULL::uuid, 'tap09-r'::text, 'tenant-1'::text,
              'waiting'::text, 'waiting_for_worker'::text, NULL::text, NULL::integer, NULL::uuid, NULL::uuid,
              NULL::bigint, NULL::text, NULL::bigint, NULL::bigint, 0, '{"cairn.task_id": "abc"}'::jsonb)$$,
    'describe a fresh execution: lane, namespace, waiting, no attempt or lease, 0 attempts, tags');
SELECT results_eq(
    $$SELECT d.created_at_ms, d.last_mutation_at_ms FROM ff_describe_execution('{fp:90}:00000000-0000-4000-8000-000000000901') d$$,
    $$SELECT created_at_ms, last_mutation_at_ms FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000901'$$,
    'describe reports created_at_ms and last_mutation_at_ms');
SELECT is((SELECT count(*) FROM ff_describe_execution('{fp:90}:00000000-0000-4000-8000-0000000009ff')), 0::bigint,
          'describe of an unknown id: no row');
SELECT is((SELECT count(*) FROM ff_describe_execution('{fp:91}:00000000-0000-4000-8000-000000000901')), 0::bigint,
          'describe of the right uuid in the wrong partition: no row');
SELECT throws_ok($$SELECT * FROM ff_describe_execution('00000000-0000-4000-8000-000000000901')$$, 'YFV01', NULL,
                 'describe of a malformed id (bare uuid) -> YFV01');
SELECT is((SELECT execution_id FROM ff_describe_execution('{fp:090}:00000000-0000-4000-8000-000000000901')),
          '{fp:90}:00000000-0000-4000-8000-000000000901', 'describe accepts a non-canonical spelling and answers canonically');

SELECT results_eq(
    $$SELECT execution_id, namespace, lane_id, priority, execution_kind, lifecycle_phase, ownership_state,
             eligibility_state, blocking_reason, terminal_outcome, attempt_state, public_state,
             started_at_ms, completed_at_ms, current_attempt_index, flow_id, blocking_detail
        FROM ff_read_execution_info('{fp:90}:00000000-0000-4000-8000-000000000901')$$,
    $$VALUES ('{fp:90}:00000000-0000-4000-8000-000000000901'::text, 'tenant-1'::text, 'tap09-r'::text, 3, 'kind9'::text,
              'runnable'::text, 'unowned'::text, 'eligible_now'::text, 'waiting_for_worker'::text, 'none'::text,
              'pending_first_attempt'::text, 'waiting'::text, NULL::bigint, NULL::bigint, 0, NULL::uuid, NULL::text)$$,
    'read_execution_info of a fresh execution: full state vector, no start or completion');
SELECT is((SELECT count(*) FROM ff_read_execution_info('{fp:90}:00000000-0000-4000-8000-0000000009ff')), 0::bigint,
          'read_execution_info of an unknown id: no row');
SELECT throws_ok($$SELECT * FROM ff_read_execution_info('{fp:90}:nope')$$, 'YFV01', NULL, 'read_execution_info of a malformed id -> YFV01');

SELECT is(ff_read_execution_state('{fp:90}:00000000-0000-4000-8000-000000000901'), 'waiting', 'read_execution_state: waiting');
SELECT is(ff_read_execution_state('{fp:90}:00000000-0000-4000-8000-0000000009ff'), NULL, 'read_execution_state of an unknown id: NULL');
SELECT throws_ok($$SELECT ff_read_execution_state('fp:90:00000000-0000-4000-8000-000000000901')$$, 'YFV01', NULL,
                 'read_execution_state of a malformed id -> YFV01');

SELECT is(ff_get_execution_result('{fp:90}:00000000-0000-4000-8000-000000000901'), NULL, 'get_execution_result before completion: NULL');
SELECT is(ff_get_execution_result('{fp:90}:00000000-0000-4000-8000-0000000009ff'), NULL, 'get_execution_result of an unknown id: NULL');
SELECT throws_ok($$SELECT ff_get_execution_result('{fp:256}:00000000-0000-4000-8000-000000000901')$$, 'YFV01', NULL,
                 'get_execution_result of a malformed id -> YFV01');

SELECT results_eq($$SELECT * FROM ff_read_execution_context('{fp:90}:00000000-0000-4000-8000-000000000901')$$,
                  $$VALUES ('\x09'::bytea, 'kind9'::text, '{"cairn.task_id": "abc"}'::jsonb)$$,
                  'read_execution_context: payload, kind and tags');
SELECT results_eq($$SELECT * FROM ff_read_execution_context('{fp:90}:00000000-0000-4000-8000-000000000902')$$,
                  $$VALUES (''::bytea, ''::text, '{}'::jsonb)$$,
                  'read_execution_context without payload or kind: empty payload, empty kind, empty tags');
SELECT is((SELECT count(*) FROM ff_read_execution_context('{fp:90}:00000000-0000-4000-8000-0000000009ff')), 0::bigint,
          'read_execution_context of an unknown id: no row');

SELECT is(ff_read_current_attempt_index('{fp:90}:00000000-0000-4000-8000-000000000901'), 0, 'current attempt index of a fresh execution: 0');
SELECT is(ff_read_total_attempt_count('{fp:90}:00000000-0000-4000-8000-000000000901'), 0, 'total attempt count of a fresh execution: 0');
SELECT is(ff_read_total_attempt_count('{fp:90}:00000000-0000-4000-8000-0000000009ff'), NULL, 'total attempt count of an unknown id: NULL');
SELECT throws_ok($$SELECT ff_read_current_attempt_index('x')$$, 'YFV01', NULL, 'current attempt index of a malformed id -> YFV01');

------------------------------------------------------------------------------
-- claimed, renewed, completed
------------------------------------------------------------------------------
CREATE TEMP TABLE c1 AS SELECT * FROM ff_claim('tap09-r', 'w1', 'wi-1', lease_ttl_ms => 30000);
SELECT results_eq(
    $$SELECT d.public_state, d.blocking_reason, d.current_attempt_index, d.current_attempt_id, d.lease_id,
             d.lease_epoch, d.worker_instance_id, d.lease_expires_at_ms, d.lease_renewed_at_ms, d.total_attempt_count
        FROM ff_describe_execution('{fp:90}:00000000-0000-4000-8000-000000000901') d$$,
    $$SELECT 'active'::text, 'none'::text, 0, a.attempt_id, a.lease_id, 1::bigint, 'wi-1'::text,
             c1.lease_expires_at_ms, NULL::bigint, 1
        FROM ff_attempt a, c1 WHERE a.execution_id = '00000000-0000-4000-8000-000000000901'$$,
    'describe after claim: active, current attempt 0 and its live lease');
SET LOCAL flowfabric.clock_offset_ms = 1000;
CREATE TEMP TABLE r1 AS SELECT * FROM ff_renew((SELECT handle FROM c1));
SELECT results_eq(
    $$SELECT d.lease_expires_at_ms, d.lease_renewed_at_ms
        FROM ff_describe_execution('{fp:90}:00000000-0000-4000-8000-000000000901') d$$,
    $$SELECT lease_expires_at_ms, lease_expires_at_ms - 30000 FROM r1$$,
    'describe after renew: new expiry and last renewal time');
SELECT results_eq(
    $$SELECT i.lifecycle_phase, i.public_state, i.started_at_ms, i.completed_at_ms, i.current_attempt_index
        FROM ff_read_execution_info('{fp:90}:00000000-0000-4000-8000-000000000901') i$$,
    $$SELECT 'active'::text, 'active'::text, started_at_ms, NULL::bigint, 0 FROM ff_execution
       WHERE execution_id = '00000000-0000-4000-8000-000000000901'$$,
    'read_execution_info after claim: active, started_at_ms set');
SELECT ok((SELECT started_at_ms IS NOT NULL FROM ff_read_execution_info('{fp:90}:00000000-0000-4000-8000-000000000901')),
          'started_at_ms is reported once claimed');
SELECT is(ff_read_execution_state('{fp:90}:00000000-0000-4000-8000-000000000901'), 'active', 'read_execution_state: active');
SELECT is(ff_read_total_attempt_count('{fp:90}:00000000-0000-4000-8000-000000000901'), 1, 'total attempt count after claim: 1');

SELECT ff_complete((SELECT handle FROM c1), '\x99'::bytea);
SELECT results_eq(
    $$SELECT i.lifecycle_phase, i.terminal_outcome, i.attempt_state, i.public_state, i.completed_at_ms, i.started_at_ms
        FROM ff_read_execution_info('{fp:90}:00000000-0000-4000-8000-000000000901') i$$,
    $$SELECT 'terminal'::text, 'success'::text, 'attempt_terminal'::text, 'completed'::text, terminal_at_ms, started_at_ms
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000901'$$,
    'read_execution_info after completion: terminal/success/completed, completed_at_ms = terminal_at_ms');
SELECT is(ff_get_execution_result('{fp:90}:00000000-0000-4000-8000-000000000901'), '\x99'::bytea, 'get_execution_result after completion');
SELECT results_eq(
    $$SELECT d.public_state, d.current_attempt_index, d.current_attempt_id IS NOT NULL, d.lease_id, d.lease_epoch,
             d.worker_instance_id, d.lease_expires_at_ms
        FROM ff_describe_execution('{fp:90}:00000000-0000-4000-8000-000000000901') d$$,
    $$VALUES ('completed'::text, 0, true, NULL::uuid, NULL::bigint, NULL::text, NULL::bigint)$$,
    'describe after completion: the attempt is still reported, no live lease');

-- counters after a retry
SELECT ff_create_execution('tap09-retry', execution_id => '{fp:90}:00000000-0000-4000-8000-000000000903',
        policy => '{"retry_policy": {"max_retries": 1, "backoff": {"type": "fixed", "delay_ms": 0}}}');
SELECT ff_fail((SELECT handle FROM ff_claim('tap09-retry', 'w', 'wi')), 'x');
SELECT is(ff_read_total_attempt_count('{fp:90}:00000000-0000-4000-8000-000000000903'), 1, 'after one failed attempt: total 1');
SELECT count(*) FROM ff_claim('tap09-retry', 'w', 'wi');
SELECT results_eq(
    $$SELECT ff_read_current_attempt_index('{fp:90}:00000000-0000-4000-8000-000000000903'),
             ff_read_total_attempt_count('{fp:90}:00000000-0000-4000-8000-000000000903'),
             (SELECT total_attempt_count FROM ff_describe_execution('{fp:90}:00000000-0000-4000-8000-000000000903'))$$,
    $$VALUES (1, 2, 2)$$,
    'after the retry claim: current attempt 1, total 2 (describe agrees)');

------------------------------------------------------------------------------
-- list_executions
------------------------------------------------------------------------------
SELECT ff_create_execution('tap09-list', execution_id => '{fp:199}:00000000-0000-4000-8000-0000000009a' || n)
  FROM unnest(ARRAY[3, 1, 5, 2, 4]) n;
SELECT results_eq(
    $$SELECT execution_id FROM ff_list_executions('{fp:199}', NULL, 2)$$,
    $$VALUES ('{fp:199}:00000000-0000-4000-8000-0000000009a1'::text), ('{fp:199}:00000000-0000-4000-8000-0000000009a2')$$,
    'page 1: the first two ids in uuid order');
SELECT results_eq(
    $$SELECT execution_id FROM ff_list_executions('{fp:199}', '{fp:199}:00000000-0000-4000-8000-0000000009a2', 2)$$,
    $$VALUES ('{fp:199}:00000000-0000-4000-8000-0000000009a3'::text), ('{fp:199}:00000000-0000-4000-8000-0000000009a4')$$,
    'page 2 (cursor = last id of page 1)');
SELECT results_eq(
    $$SELECT execution_id FROM ff_list_executions('{fp:199}', '{fp:199}:00000000-0000-4000-8000-0000000009a4', 2)$$,
    $$VALUES ('{fp:199}:00000000-0000-4000-8000-0000000009a5'::text)$$,
    'page 3: the one left');
SELECT is((SELECT count(*) FROM ff_list_executions('{fp:199}', '{fp:199}:00000000-0000-4000-8000-0000000009a5', 2)), 0::bigint,
          'page 4: empty');
SELECT results_eq(
    $$SELECT count(*), count(DISTINCT execution_id) FROM (
        SELECT execution_id FROM ff_list_executions('{fp:199}', NULL, 2)
        UNION ALL SELECT execution_id FROM ff_list_executions('{fp:199}', '{fp:199}:00000000-0000-4000-8000-0000000009a2', 2)
        UNION ALL SELECT execution_id FROM ff_list_executions('{fp:199}', '{fp:199}:00000000-0000-4000-8000-0000000009a4', 2)) p$$,
    $$VALUES (5::bigint, 5::bigint)$$,
    'the pages 2, 2, 1 see every id exactly once');
SELECT results_eq(
    $$SELECT lane_id, public_state, created_at_ms FROM ff_list_executions('{fp:199}', NULL, 1)$$,
    $$SELECT lane_id, public_state, created_at_ms FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-0000000009a1'$$,
    'list rows carry lane, public_state and created_at_ms');
SELECT is((SELECT count(*) FROM ff_list_executions('{fp:199}')), 5::bigint, 'default page size returns all five');
SELECT is((SELECT count(*) FROM ff_list_executions('{fp:199}', NULL, 0)), 0::bigint, 'max_results 0: empty page');
SELECT is((SELECT count(*) FROM ff_list_executions('{fp:198}')), 0::bigint, 'an empty partition: no rows');
SELECT throws_ok($$SELECT * FROM ff_list_executions('{fp:300}')$$, 'YFV01', NULL, 'partition key {fp:300} -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_list_executions('x')$$, 'YFV01', NULL, 'partition key x -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_list_executions('{fp:}')$$, 'YFV01', NULL, 'partition key {fp:} -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_list_executions('{b:1}')$$, 'YFV01', NULL, 'a budget partition key {b:1} -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_list_executions('{fp:199}', 'garbage', 2)$$, 'YFV01', NULL, 'a malformed cursor -> YFV01');

------------------------------------------------------------------------------
-- list_lanes: byte-wise order, cursor pagination
------------------------------------------------------------------------------
SELECT ff_create_execution(l) FROM unnest(ARRAY['tap09-lane-c', 'tap09-lane-a', 'tap09-lane-b']) l;
SELECT results_eq(
    $$SELECT lane_id FROM ff_list_lanes('tap09-lane-', 3)$$,
    $$VALUES ('tap09-lane-a'::text), ('tap09-lane-b'), ('tap09-lane-c')$$,
    'lanes created c, a, b are listed a, b, c');
SELECT results_eq(
    $$SELECT lane_id FROM ff_list_lanes('tap09-lane-', 2)$$,
    $$VALUES ('tap09-lane-a'::text), ('tap09-lane-b')$$,
    'page of two');
SELECT results_eq(
    $$SELECT lane_id FROM ff_list_lanes('tap09-lane-b', 1)$$,
    $$VALUES ('tap09-lane-c'::text)$$,
    'the next page starts after the cursor');
SELECT ff_create_execution('tap09-lane-Z');
SELECT is((SELECT lane_id FROM ff_list_lanes('tap09-lane-', 1)), 'tap09-lane-Z',
          'byte-wise order: uppercase Z sorts before lowercase a');
SELECT is((SELECT count(*) FROM ff_list_lanes(NULL, 0)), 0::bigint, 'max_results 0: no lanes');
SELECT results_eq(
    $$SELECT lane_id FROM ff_list_lanes() WHERE lane_id LIKE 'tap09-%'$$,
    $$VALUES ('tap09-bare'::text), ('tap09-lane-Z'), ('tap09-lane-a'), ('tap09-lane-b'), ('tap09-lane-c'),
             ('tap09-list'), ('tap09-r'), ('tap09-retry')$$,
    'all of this file''s lanes, in byte order');

------------------------------------------------------------------------------
-- tags and namespace
------------------------------------------------------------------------------
SELECT is(ff_get_execution_tag('{fp:90}:00000000-0000-4000-8000-000000000901', 'cairn.task_id'), 'abc', 'get a tag set at create');
SELECT is(ff_get_execution_tag('{fp:90}:00000000-0000-4000-8000-000000000901', 'app.missing'), NULL, 'a missing tag is NULL');
CREATE TEMP TABLE m0 AS SELECT last_mutation_at_ms AS ms FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000902';
SET LOCAL flowfabric.clock_offset_ms = 5000;
SELECT lives_ok($$SELECT ff_set_execution_tag('{fp:90}:00000000-0000-4000-8000-000000000902', 'app.owner', 'bob')$$, 'set a tag');
SELECT is(ff_get_execution_tag('{fp:90}:00000000-0000-4000-8000-000000000902', 'app.owner'), 'bob', 'get the tag back');
SELECT ok((SELECT last_mutation_at_ms >= (SELECT ms FROM m0) + 5000 FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000902'),
          'setting a tag bumps last_mutation_at_ms');
SELECT ff_set_execution_tag('{fp:90}:00000000-0000-4000-8000-000000000902', 'app.owner', 'carol');
SELECT ff_set_execution_tag('{fp:90}:00000000-0000-4000-8000-000000000902', 'app.team.sub_1', 'x');
SELECT is((SELECT tags FROM ff_describe_execution('{fp:90}:00000000-0000-4000-8000-000000000902')),
          '{"app.owner": "carol", "app.team.sub_1": "x"}'::jsonb, 'overwrite and add: describe shows both tags');
SELECT throws_ok($$SELECT ff_set_execution_tag('{fp:90}:00000000-0000-4000-8000-000000000902', 'Owner', 'x')$$, 'YFV23', NULL,
                 'set with an invalid key -> YFV23');
SELECT throws_ok($$SELECT ff_get_execution_tag('{fp:90}:00000000-0000-4000-8000-000000000902', 'nodot')$$, 'YFV23', NULL,
                 'get with an invalid key -> YFV23');
SELECT throws_ok($$SELECT ff_get_execution_tag('{fp:90}:00000000-0000-4000-8000-0000000009ff', 'nodot')$$, 'YFV23', NULL,
                 'get with an invalid key is rejected even for an unknown execution -> YFV23');
SELECT is(ff_get_execution_tag('{fp:90}:00000000-0000-4000-8000-0000000009ff', 'app.owner'), NULL, 'get from an unknown execution: NULL');
SELECT throws_ok($$SELECT ff_set_execution_tag('{fp:90}:00000000-0000-4000-8000-0000000009ff', 'app.owner', 'x')$$, 'YFN01', NULL,
                 'set on an unknown execution -> YFN01');
SELECT throws_ok($$SELECT ff_set_execution_tag('{fp:90}:00000000-0000-4000-8000-000000000902', 'app.owner', NULL)$$, 'YFV01', NULL,
                 'set a NULL value -> YFV01');
SELECT throws_ok($$SELECT ff_set_execution_tag('garbage', 'app.owner', 'x')$$, 'YFV01', NULL, 'set on a malformed id -> YFV01');
SELECT is(ff_get_execution_tag('{fp:90}:00000000-0000-4000-8000-000000000902', 'app.owner'), 'carol', 'rejected sets changed nothing');

SELECT is(ff_get_execution_namespace('{fp:90}:00000000-0000-4000-8000-000000000901'), 'tenant-1', 'get_execution_namespace');
SELECT is(ff_get_execution_namespace('{fp:90}:00000000-0000-4000-8000-000000000902'), NULL, 'no namespace: NULL');
SELECT is(ff_get_execution_namespace('{fp:90}:00000000-0000-4000-8000-0000000009ff'), NULL, 'unknown execution: NULL');

------------------------------------------------------------------------------
-- ping, clock, capabilities
------------------------------------------------------------------------------
SELECT is(ff_ping(), true, 'ff_ping');
SET LOCAL flowfabric.clock_offset_ms = 0;
SELECT ok(abs(ff_server_time_ms() - (extract(epoch FROM clock_timestamp()) * 1000)::bigint) < 1000,
          'without an offset ff_server_time_ms is the wall clock in epoch ms');
CREATE TEMP TABLE clk AS SELECT ff_server_time_ms() AS ms;
SET LOCAL flowfabric.clock_offset_ms = 3600000;
SELECT ok((SELECT ff_server_time_ms() - ms BETWEEN 3600000 AND 3605000 FROM clk),
          'flowfabric.clock_offset_ms = 1 h moves ff_server_time_ms forward by 1 h');
SET LOCAL flowfabric.clock_offset_ms = 0;
SELECT results_eq(
    $$SELECT ff_capabilities() -> 'identity' ->> 'family',
             (ff_capabilities() -> 'supports' -> 'read_execution_state')::boolean,
             (ff_capabilities() -> 'supports' -> 'read_execution_info')::boolean,
             (ff_capabilities() -> 'supports' -> 'get_execution_result')::boolean,
             (ff_capabilities() -> 'supports' -> 'subscribe_instance_tags')::boolean$$,
    $$VALUES ('postgres'::text, true, true, true, false)$$,
    'ff_capabilities: family postgres; read_execution_state/info and get_execution_result true; subscribe_instance_tags false');
SELECT is((SELECT count(*) FROM jsonb_each(ff_capabilities() -> 'supports') WHERE jsonb_typeof(value) <> 'boolean'),
          0::bigint, 'every supports flag is a boolean');

SELECT * FROM finish();
ROLLBACK;

-- Flows: ff_create_flow, ff_add_execution_to_flow, flow tags, ff_describe_flow
-- of a fresh flow, ff_list_flows pagination, ff_resolve_execution_flow_id,
-- and every error path of those (with nothing half-written).
BEGIN;
SELECT plan(63);

-- F1 lives on partition 33 (spec C §1.2 vector), F2 on 24; P0a..P0f share partition 0,
-- P1a/P1b partition 1.

CREATE FUNCTION pg_temp.id(f uuid, n int) RETURNS text LANGUAGE sql AS
$$ SELECT ff_new_flow_execution_id(f, ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid) $$;
CREATE FUNCTION pg_temp.exec(f uuid, n int) RETURNS text LANGUAGE sql AS
$$ SELECT execution_id FROM ff_create_execution('tap60', execution_id => pg_temp.id(f, n)) $$;

------------------------------------------------------------------------------
-- ff_create_flow
------------------------------------------------------------------------------
SELECT results_eq($$SELECT flow_id, outcome FROM ff_create_flow('00000000-0000-0000-0000-000000000001', 'dag', 'test')$$,
                  $$VALUES ('00000000-0000-0000-0000-000000000001'::uuid, 'created'::text)$$, 'create_flow: created');
SELECT results_eq(
    $$SELECT partition_key, flow_kind, namespace, public_flow_state, graph_revision, node_count,
             edge_count, created_at_ms = last_mutation_at_ms, created_at_ms > 0, terminal_at_ms,
             tags
        FROM ff_flow WHERE flow_id = '00000000-0000-0000-0000-000000000001'$$,
    $$VALUES (33::smallint, 'dag'::text, 'test'::text, 'open'::text, 0::bigint, 0, 0, true, true,
              NULL::bigint, '{}'::jsonb)$$,
    'the flow row sits on the flow partition (33 for ...0001), open, revision 0, no nodes or edges');
SELECT results_eq($$SELECT flow_id, outcome FROM ff_create_flow('00000000-0000-0000-0000-000000000001', 'graph', 'other')$$,
                  $$VALUES ('00000000-0000-0000-0000-000000000001'::uuid, 'already_satisfied'::text)$$,
                  'create_flow again: already_satisfied');
SELECT results_eq($$SELECT flow_kind, namespace, (SELECT count(*) FROM ff_flow) FROM ff_flow WHERE flow_id = '00000000-0000-0000-0000-000000000001'$$,
                  $$VALUES ('dag'::text, 'test'::text, 1::bigint)$$,
                  'the existing flow is untouched (kind and namespace kept), no second row');
SELECT results_eq($$SELECT outcome FROM ff_create_flow('550e8400-e29b-41d4-a716-446655440000')$$, $$VALUES ('created'::text)$$,
                  'create_flow with defaults');
SELECT results_eq($$SELECT partition_key, flow_kind, namespace FROM ff_flow WHERE flow_id = '550e8400-e29b-41d4-a716-446655440000'$$,
                  $$VALUES (24::smallint, 'dag'::text, 'default'::text)$$,
                  'defaults: kind dag, namespace default; 550e8400-... is on partition 24');
SELECT throws_ok($$SELECT * FROM ff_create_flow(NULL)$$, 'YFV01', NULL, 'create_flow: NULL flow_id -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_create_flow('f6000000-0000-4000-8000-0000000000ac', '')$$, 'YFV01', NULL, 'create_flow: empty flow_kind -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_create_flow('f6000000-0000-4000-8000-0000000000ac', 'dag', NULL)$$, 'YFV01', NULL, 'create_flow: NULL namespace -> YFV01');
SELECT is((SELECT count(*) FROM ff_flow WHERE flow_id = 'f6000000-0000-4000-8000-0000000000ac'), 0::bigint, 'rejected creates wrote nothing');

------------------------------------------------------------------------------
-- ff_describe_flow of a fresh flow
------------------------------------------------------------------------------
SELECT results_eq(
    $$SELECT flow_id, flow_kind, namespace, public_flow_state, graph_revision, node_count, edge_count,
             created_at_ms > 0, last_mutation_at_ms = created_at_ms, cancelled_at_ms, cancel_reason,
             cancellation_policy, tags, edge_groups
        FROM ff_describe_flow('00000000-0000-0000-0000-000000000001')$$,
    $$VALUES ('00000000-0000-0000-0000-000000000001'::uuid, 'dag'::text, 'test'::text, 'open'::text, 0::bigint, 0, 0, true, true,
              NULL::bigint, NULL::text, NULL::text, '{}'::jsonb, '[]'::jsonb)$$,
    'describe_flow of a fresh flow: open, revision/nodes/edges 0, no cancel fields, no tags or groups');
SELECT is_empty($$SELECT * FROM ff_describe_flow('00000000-0000-0000-0000-0000000000ff')$$,
                'describe_flow of an unknown flow: no row');

------------------------------------------------------------------------------
-- ff_add_execution_to_flow
------------------------------------------------------------------------------
SELECT pg_temp.exec('00000000-0000-0000-0000-000000000001', 1);
SELECT pg_temp.exec('00000000-0000-0000-0000-000000000001', 2);
CREATE TEMP TABLE t0 AS SELECT ff_server_time_ms() AS ms;
SELECT results_eq($$SELECT execution_id, outcome, node_count FROM ff_add_execution_to_flow('00000000-0000-0000-0000-000000000001', pg_temp.id('00000000-0000-0000-0000-000000000001', 1))$$,
                  $$VALUES (pg_temp.id('00000000-0000-0000-0000-000000000001', 1), 'added'::text, 1)$$, 'add: added, node_count 1');
SELECT results_eq($$SELECT graph_revision, node_count, last_mutation_at_ms >= (SELECT ms FROM t0) FROM ff_flow WHERE flow_id = '00000000-0000-0000-0000-000000000001'$$,
                  $$VALUES (1::bigint, 1, true)$$, 'add bumps graph_revision and node_count, stamps last_mutation_at_ms');
SELECT is((SELECT flow_id FROM ff_execution_by_id(pg_temp.id('00000000-0000-0000-0000-000000000001', 1))), '00000000-0000-0000-0000-000000000001'::uuid, 'the execution now points at its flow');
SELECT results_eq($$SELECT execution_id, outcome, node_count FROM ff_add_execution_to_flow('00000000-0000-0000-0000-000000000001', pg_temp.id('00000000-0000-0000-0000-000000000001', 1))$$,
                  $$VALUES (pg_temp.id('00000000-0000-0000-0000-000000000001', 1), 'already_member'::text, 1)$$, 'add again: already_member, node_count 1');
SELECT is((SELECT graph_revision FROM ff_flow WHERE flow_id = '00000000-0000-0000-0000-000000000001'), 1::bigint, 're-adding bumps nothing');
SELECT results_eq($$SELECT execution_id, outcome, node_count
                      FROM ff_add_execution_to_flow('00000000-0000-0000-0000-000000000001', '{fp:33}:' || upper(split_part(pg_temp.id('00000000-0000-0000-0000-000000000001', 2), '}:', 2)))$$,
                  $$VALUES (pg_temp.id('00000000-0000-0000-0000-000000000001', 2), 'added'::text, 2)$$,
                  'a second member (id given in upper case): canonical id back, node_count 2');
SELECT is((SELECT graph_revision FROM ff_flow WHERE flow_id = '00000000-0000-0000-0000-000000000001'), 2::bigint, 'graph_revision 2');

SELECT throws_ok($$SELECT * FROM ff_add_execution_to_flow('00000000-0000-0000-0000-0000000000ff', pg_temp.id('00000000-0000-0000-0000-000000000001', 1))$$,
                 'YFN02', NULL, 'add to an unknown flow -> YFN02 flow_not_found');
CREATE TEMP TABLE solo AS SELECT execution_id FROM ff_create_execution('tap60');
SELECT throws_like($$SELECT * FROM ff_add_execution_to_flow('00000000-0000-0000-0000-000000000001', (SELECT execution_id FROM solo))$$,
                   'invalid_input: execution {fp:%}:% is on partition %, not on flow %s partition 33',
                   'an execution minted for another partition (a solo id) is rejected clearly');
SELECT throws_ok($$SELECT * FROM ff_add_execution_to_flow('00000000-0000-0000-0000-000000000001', (SELECT execution_id FROM solo))$$, 'YFV01', NULL,
                 '... with YFV01');
SELECT throws_ok($$SELECT * FROM ff_add_execution_to_flow('00000000-0000-0000-0000-000000000001', pg_temp.id('00000000-0000-0000-0000-000000000001', 9))$$, 'YFN01', NULL,
                 'an id on the right partition that does not exist -> YFN01 execution_not_found');
SELECT throws_ok($$SELECT * FROM ff_add_execution_to_flow('00000000-0000-0000-0000-000000000001', 'not-an-id')$$, 'YFV01', NULL,
                 'malformed execution id -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_add_execution_to_flow('00000000-0000-0000-0000-000000000001', NULL)$$, 'YFV01', NULL, 'NULL execution id -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_add_execution_to_flow(NULL, pg_temp.id('00000000-0000-0000-0000-000000000001', 1))$$, 'YFV01', NULL, 'NULL flow id -> YFV01');

-- P1a and P1b share partition 1: a member of one cannot join the other
SELECT ff_create_flow('f6000000-0000-4000-8000-0000000000ac');
SELECT ff_create_flow('f6000000-0000-4000-8000-0000000001bc');
SELECT pg_temp.exec('f6000000-0000-4000-8000-0000000000ac', 1);
SELECT ff_add_execution_to_flow('f6000000-0000-4000-8000-0000000000ac', pg_temp.id('f6000000-0000-4000-8000-0000000000ac', 1));
SELECT is(pg_temp.id('f6000000-0000-4000-8000-0000000000ac', 1), pg_temp.id('f6000000-0000-4000-8000-0000000001bc', 1), 'P1a and P1b mint the same member ids (same partition)');
SELECT throws_ok($$SELECT * FROM ff_add_execution_to_flow('f6000000-0000-4000-8000-0000000001bc', pg_temp.id('f6000000-0000-4000-8000-0000000000ac', 1))$$, 'YFK04', NULL,
                 'a member of another flow -> YFK04 execution_already_in_flow');
SELECT results_eq($$SELECT graph_revision, node_count FROM ff_flow WHERE flow_id = 'f6000000-0000-4000-8000-0000000001bc'$$,
                  $$VALUES (0::bigint, 0)$$, 'the rejected add changed nothing');
SELECT is((SELECT flow_id FROM ff_execution_by_id(pg_temp.id('f6000000-0000-4000-8000-0000000000ac', 1))), 'f6000000-0000-4000-8000-0000000000ac'::uuid, 'the member still belongs to P1a');

-- a cancelled flow takes no members
SELECT pg_temp.exec('f6000000-0000-4000-8000-0000000001bc', 2);
SELECT ff_cancel_flow('f6000000-0000-4000-8000-0000000001bc', 'flow_only');
SELECT throws_ok($$SELECT * FROM ff_add_execution_to_flow('f6000000-0000-4000-8000-0000000001bc', pg_temp.id('f6000000-0000-4000-8000-0000000001bc', 2))$$, 'YFS19', NULL,
                 'add to a cancelled flow -> YFS19 flow_already_terminal');
SELECT is((SELECT flow_id FROM ff_execution_by_id(pg_temp.id('f6000000-0000-4000-8000-0000000001bc', 2))), NULL, 'the execution did not join');

------------------------------------------------------------------------------
-- Flow tags
------------------------------------------------------------------------------
SELECT is(ff_get_flow_tag('00000000-0000-0000-0000-000000000001', 'cairn.task_id'), NULL, 'get_flow_tag before any set: NULL');
UPDATE ff_flow SET last_mutation_at_ms = 1 WHERE flow_id = '00000000-0000-0000-0000-000000000001';
SELECT lives_ok($$SELECT ff_set_flow_tag('00000000-0000-0000-0000-000000000001', 'cairn.task_id', 'abc')$$, 'set_flow_tag');
SELECT lives_ok($$SELECT ff_set_flow_tag('00000000-0000-0000-0000-000000000001', 'cairn.project', 'p9')$$, 'set a second tag');
SELECT is(ff_get_flow_tag('00000000-0000-0000-0000-000000000001', 'cairn.task_id'), 'abc', 'get_flow_tag returns the value');
SELECT ok((SELECT last_mutation_at_ms > 1 FROM ff_flow WHERE flow_id = '00000000-0000-0000-0000-000000000001'), 'set_flow_tag stamps last_mutation_at_ms');
SELECT lives_ok($$SELECT ff_set_flow_tag('00000000-0000-0000-0000-000000000001', 'cairn.task_id', 'def')$$, 'overwrite a tag');
SELECT is((SELECT tags FROM ff_describe_flow('00000000-0000-0000-0000-000000000001')), '{"cairn.project": "p9", "cairn.task_id": "def"}'::jsonb,
          'describe_flow shows both tags');
SELECT is(ff_get_flow_tag('00000000-0000-0000-0000-000000000001', 'cairn.other'), NULL, 'an unset key: NULL');
SELECT is(ff_get_flow_tag('00000000-0000-0000-0000-0000000000ff', 'cairn.task_id'), NULL, 'an unknown flow: NULL');
SELECT throws_ok($$SELECT ff_set_flow_tag('00000000-0000-0000-0000-0000000000ff', 'cairn.task_id', 'x')$$,
                 'YFN02', NULL, 'set_flow_tag on an unknown flow -> YFN02');
SELECT throws_ok($$SELECT ff_set_flow_tag('00000000-0000-0000-0000-000000000001', 'cairn.task_id', NULL)$$, 'YFV01', NULL, 'NULL tag value -> YFV01');
SELECT throws_ok(format($$SELECT ff_set_flow_tag(%L, %L, 'x')$$, '00000000-0000-0000-0000-000000000001', k), 'YFV23', NULL,
                 format('set_flow_tag: invalid key %L -> YFV23', k))
  FROM unnest(ARRAY['', 'Cairn.x', 'cairn', 'cairn.', 'cairn..x', '1cairn.x']) AS k;
SELECT throws_ok($$SELECT ff_get_flow_tag('00000000-0000-0000-0000-000000000001', 'Cairn.x')$$, 'YFV23', NULL, 'get_flow_tag: invalid key -> YFV23');

------------------------------------------------------------------------------
-- ff_list_flows: six flows on partition 0, pages by flow id
------------------------------------------------------------------------------
SELECT ff_create_flow(u::uuid)
  FROM unnest(ARRAY['f6000000-0000-4000-8000-0000000005df', 'f6000000-0000-4000-8000-00000000008f',
                    'f6000000-0000-4000-8000-0000000003bf', 'f6000000-0000-4000-8000-0000000002af',
                    'f6000000-0000-4000-8000-0000000004cf', 'f6000000-0000-4000-8000-00000000019f']) u;
SELECT ff_cancel_flow('f6000000-0000-4000-8000-0000000003bf', 'flow_only');
SELECT results_eq($$SELECT flow_id::text, status, public_flow_state FROM ff_list_flows('{fp:0}', NULL, 2)$$,
                  $$VALUES ('f6000000-0000-4000-8000-00000000008f', 'active', 'open'),
                           ('f6000000-0000-4000-8000-00000000019f', 'active', 'open')$$,
                  'list_flows: first page of 2, in flow id order, status active');
SELECT results_eq($$SELECT flow_id::text, status FROM ff_list_flows('{fp:0}', 'f6000000-0000-4000-8000-00000000019f', 2)$$,
                  $$VALUES ('f6000000-0000-4000-8000-0000000002af', 'active'),
                           ('f6000000-0000-4000-8000-0000000003bf', 'cancelled')$$,
                  'the cursor is exclusive; a cancelled flow lists as cancelled');
SELECT results_eq($$SELECT flow_id::text FROM ff_list_flows('{fp:0}', 'f6000000-0000-4000-8000-0000000003bf', 10)$$,
                  $$VALUES ('f6000000-0000-4000-8000-0000000004cf'), ('f6000000-0000-4000-8000-0000000005df')$$,
                  'the last page');
SELECT is((SELECT count(*) FROM ff_list_flows('{fp:0}')), 6::bigint, 'all six flows with the default page size');
SELECT is_empty($$SELECT * FROM ff_list_flows('{fp:0}', NULL, 0)$$, 'max_results 0: empty page');
SELECT is_empty($$SELECT * FROM ff_list_flows('{fp:7}')$$, 'an empty partition: empty page');
SELECT ok((SELECT created_at_ms > 0 FROM ff_list_flows('{fp:24}')), 'list_flows returns created_at_ms');
SELECT throws_ok($$SELECT * FROM ff_list_flows('fp:0')$$, 'YFV01', NULL, 'malformed partition key -> YFV01');

------------------------------------------------------------------------------
-- ff_resolve_execution_flow_id (uses the execution id's own partition)
------------------------------------------------------------------------------
SELECT is(ff_resolve_execution_flow_id(pg_temp.id('00000000-0000-0000-0000-000000000001', 1)), '00000000-0000-0000-0000-000000000001'::uuid, 'resolve: a member -> its flow');
SELECT is(ff_resolve_execution_flow_id((SELECT execution_id FROM solo)), NULL, 'resolve: a solo execution -> NULL');
SELECT is(ff_resolve_execution_flow_id(pg_temp.id('00000000-0000-0000-0000-000000000001', 9)), NULL, 'resolve: an unknown execution -> NULL');
SELECT throws_ok($$SELECT ff_resolve_execution_flow_id('{fp:1}')$$, 'YFV01', NULL, 'resolve: malformed id -> YFV01');

------------------------------------------------------------------------------
-- capabilities
------------------------------------------------------------------------------
SELECT results_eq(
    $$SELECT (ff_capabilities() -> 'supports' ->> 'cancel_flow_header')::boolean,
             (ff_capabilities() -> 'supports' ->> 'ack_cancel_member')::boolean,
             (ff_capabilities() -> 'supports' ->> 'cancel_flow_wait_timeout')::boolean,
             (ff_capabilities() -> 'supports' ->> 'cancel_flow_wait_indefinite')::boolean$$,
    $$VALUES (true, true, true, true)$$, 'ff_capabilities advertises the flow-cancel operations');

SELECT * FROM finish();
ROLLBACK;

-- The flow listings check their arguments before reading any row:
-- ff_list_flows (partition key) and ff_list_edges (direction, node) raise
-- YFV01 on empty tables and for a flow without edges, not only when a row
-- would have been compared with them. A NULL flow_id lists nothing.
BEGIN;
SELECT plan(14);

------------------------------------------------------------------------------
-- Empty tables
------------------------------------------------------------------------------
DELETE FROM ff_execution;
DELETE FROM ff_flow;
SELECT is((SELECT count(*) FROM ff_flow) + (SELECT count(*) FROM ff_edge), 0::bigint,
          'precondition: no flow and no edge at all');
SELECT throws_ok($$SELECT * FROM ff_list_flows('fp:67')$$, 'YFV01', NULL,
                 'ff_list_flows, empty: a malformed partition key -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_list_flows('{fp:-1}', max_results => 0)$$, 'YFV01', NULL,
                 '... even with max_results 0');
SELECT is((SELECT count(*) FROM ff_list_flows('{fp:67}')), 0::bigint, 'ff_list_flows, empty: valid key -> no row');
SELECT throws_ok($$SELECT * FROM ff_list_edges('f6700000-0000-4000-8000-000000000001', 'sideways',
                                                '{fp:1}:00000000-0000-4000-8000-000000006701')$$,
                 'YFV01', NULL, 'ff_list_edges, empty: an unknown direction -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_list_edges('f6700000-0000-4000-8000-000000000001', 'outgoing', 'not-an-id')$$,
                 'YFV01', NULL, 'ff_list_edges, empty: a malformed execution id -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_list_edges('f6700000-0000-4000-8000-000000000001', 'incoming', NULL)$$,
                 'YFV01', NULL, 'ff_list_edges, empty: a NULL execution id -> YFV01');
SELECT is((SELECT count(*) FROM ff_list_edges(NULL, NULL, NULL)), 0::bigint,
          'ff_list_edges with a NULL flow_id lists nothing');

------------------------------------------------------------------------------
-- A flow exists, without edges; another flow has one
------------------------------------------------------------------------------
SELECT ff_create_flow('f6700000-0000-4000-8000-000000000001');
SELECT ff_create_flow('f6700000-0000-4000-8000-000000000002');
CREATE FUNCTION pg_temp.id(n int) RETURNS text LANGUAGE sql AS
$$ SELECT ff_new_flow_execution_id('f6700000-0000-4000-8000-000000000002', ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid) $$;
SELECT ff_create_execution('tap67', execution_id => pg_temp.id(1));
SELECT ff_create_execution('tap67', execution_id => pg_temp.id(2));
SELECT ff_add_execution_to_flow('f6700000-0000-4000-8000-000000000002', pg_temp.id(1));
SELECT ff_add_execution_to_flow('f6700000-0000-4000-8000-000000000002', pg_temp.id(2));
SELECT ff_stage_dependency_edge('f6700000-0000-4000-8000-000000000002', 'e6700000-0000-4000-8000-000000000001',
                                pg_temp.id(1), pg_temp.id(2),
                                (SELECT graph_revision FROM ff_flow WHERE flow_id = 'f6700000-0000-4000-8000-000000000002'));
SELECT is((SELECT count(*) FROM ff_edge), 1::bigint, 'setup: one edge, in the second flow');
SELECT throws_ok($$SELECT * FROM ff_list_edges('f6700000-0000-4000-8000-000000000001', 'both', pg_temp.id(1))$$,
                 'YFV01', NULL, 'a flow without edges: an unknown direction -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_list_edges('f6700000-0000-4000-8000-000000000002', 'outgoing', '{fp:1}')$$,
                 'YFV01', NULL, 'a flow with edges: a malformed execution id -> YFV01');
SELECT is((SELECT downstream_execution_id FROM ff_list_edges('f6700000-0000-4000-8000-000000000002', 'outgoing', pg_temp.id(1))),
          pg_temp.id(2), 'valid arguments list the edge');
SELECT throws_ok(format('SELECT * FROM ff_list_flows(%L)', '{fp:' || ff_flow_partition('f6700000-0000-4000-8000-000000000002')),
                 'YFV01', NULL, 'ff_list_flows with flows present: a malformed key -> YFV01');
SELECT is((SELECT count(*) FROM ff_list_flows('{fp:' || ff_flow_partition('f6700000-0000-4000-8000-000000000002') || '}')
             WHERE flow_id = 'f6700000-0000-4000-8000-000000000002'),
          1::bigint, 'ff_list_flows with a valid key lists the flow');

SELECT * FROM finish();
ROLLBACK;

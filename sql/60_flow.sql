--
-- 60_flow: a flow end to end in autocommit mode, so the outbox readers see
-- every hop: a diamond whose root fails (the skips are published as
-- completion events), an any_of race whose loser's lease is revoked, and the
-- flow reads.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS flowfabric;
RESET client_min_messages;

\set F '60000000-0000-4000-8000-000000000001'
\set G '60000000-0000-4000-8000-000000000002'
CREATE FUNCTION pg_temp.m(f uuid, n int) RETURNS text LANGUAGE sql
    RETURN ff_new_flow_execution_id(f, ('00000000-0000-4000-8000-00000000006' || n)::uuid);
CREATE FUNCTION pg_temp.e(f uuid, u int, d int) RETURNS uuid LANGUAGE sql
    RETURN md5(f::text || u || d)::uuid;

SELECT coalesce(max(event_id), 0) AS c0 FROM ff_completion_event \gset
SELECT coalesce(max(event_id), 0) AS l0 FROM ff_lease_event \gset

-- The diamond: 1 -> 2, 1 -> 3, 2 -> 4, 3 -> 4.
SELECT * FROM ff_create_flow(:'F', 'dag', 'regress');
SELECT c.execution_id, c.public_state, a.outcome, a.node_count
  FROM generate_series(1, 4) n,
       LATERAL ff_create_execution('regress-flow', execution_id => pg_temp.m(:'F', n),
                                   priority => 10 - n) c,
       LATERAL ff_add_execution_to_flow(:'F', pg_temp.m(:'F', n)) a;
SELECT * FROM ff_stage_dependency_edge(:'F', pg_temp.e(:'F', 1, 2), pg_temp.m(:'F', 1), pg_temp.m(:'F', 2), 4);
SELECT * FROM ff_stage_dependency_edge(:'F', pg_temp.e(:'F', 1, 3), pg_temp.m(:'F', 1), pg_temp.m(:'F', 3), 5);
SELECT * FROM ff_stage_dependency_edge(:'F', pg_temp.e(:'F', 2, 4), pg_temp.m(:'F', 2), pg_temp.m(:'F', 4), 6);
SELECT * FROM ff_stage_dependency_edge(:'F', pg_temp.e(:'F', 3, 4), pg_temp.m(:'F', 3), pg_temp.m(:'F', 4), 7);
-- a stale revision, a cycle
\set VERBOSITY sqlstate
SELECT * FROM ff_stage_dependency_edge(:'F', pg_temp.e(:'F', 4, 1), pg_temp.m(:'F', 4), pg_temp.m(:'F', 1), 7);
SELECT * FROM ff_stage_dependency_edge(:'F', pg_temp.e(:'F', 4, 1), pg_temp.m(:'F', 4), pg_temp.m(:'F', 1), 8);
\set VERBOSITY default
SELECT a.outcome, a.unsatisfied_count
  FROM (VALUES (1, 2), (1, 3), (2, 4), (3, 4)) v(u, d),
       LATERAL ff_apply_dependency_to_child(:'F', pg_temp.e(:'F', u, d), pg_temp.m(:'F', d)) a;
SELECT flow_kind, namespace, public_flow_state, graph_revision, node_count, edge_count,
       jsonb_path_query_array(edge_groups, '$[*].group_state') AS groups
  FROM ff_describe_flow(:'F');
SELECT upstream_execution_id, downstream_execution_id, edge_state
  FROM ff_list_edges(:'F', 'incoming', pg_temp.m(:'F', 4)) ORDER BY 1;
SELECT execution_id, ff_evaluate_flow_eligibility(execution_id)
  FROM (SELECT pg_temp.m(:'F', n) AS execution_id FROM generate_series(1, 4) n) x;

-- Only the root is claimable; it fails for good.
SELECT handle, execution_id FROM ff_claim('regress-flow', 'w', 'w-1', max_claims => 10) \gset
\echo :execution_id
SELECT * FROM ff_fail(:'handle', 'no input', 'permanent');

-- The failure skipped everything downstream in the same transaction; each
-- hop has its completion event.
SELECT execution_id, flow_id, outcome, namespace, attempt_index
  FROM ff_completion_events(:c0) ORDER BY event_id;
SELECT right(execution_id::text, 1) AS n, public_state, attempt_state
  FROM ff_execution WHERE flow_id = :'F' ORDER BY 1;
SELECT public_flow_state, jsonb_path_query_array(edge_groups, '$[*].group_state') AS groups
  FROM ff_describe_flow(:'F');
SELECT projected, total_members, members_failed, members_skipped, public_flow_state
  FROM ff_project_flow_summary(:'F');

-- An any_of race: both parents run, the first success wins and the other's
-- lease is revoked.
SELECT flow_id, outcome FROM ff_create_flow(:'G');
SELECT count(*) FROM generate_series(1, 3) n,
       LATERAL ff_create_execution('regress-flow-' || n, execution_id => pg_temp.m(:'G', n)) c,
       LATERAL ff_add_execution_to_flow(:'G', pg_temp.m(:'G', n)) a;
SELECT ff_set_edge_group_policy(:'G', pg_temp.m(:'G', 3), '{"kind": "any_of", "on_satisfied": "cancel_remaining"}');
SELECT a.outcome, a.unsatisfied_count
  FROM generate_series(1, 2) u,
       LATERAL ff_stage_dependency_edge(:'G', pg_temp.e(:'G', u, 3), pg_temp.m(:'G', u), pg_temp.m(:'G', 3), 2 + u) s,
       LATERAL ff_apply_dependency_to_child(:'G', pg_temp.e(:'G', u, 3), pg_temp.m(:'G', 3)) a;
SELECT handle AS h1 FROM ff_claim('regress-flow-1', 'w', 'w-1') \gset
SELECT handle AS h2 FROM ff_claim('regress-flow-2', 'w', 'w-2') \gset
SELECT ff_complete(:'h1', 'first'::bytea);
\set VERBOSITY sqlstate
SELECT ff_complete(:'h2', 'second'::bytea);
\set VERBOSITY default
SELECT right(execution_id, 1) AS n, event_type, reason
  FROM ff_lease_events(:l0) WHERE execution_id LIKE '%06_' AND execution_id IN (SELECT pg_temp.m(:'G', n) FROM generate_series(1, 3) n)
 ORDER BY event_id;
SELECT right(execution_id::text, 1) AS n, public_state, cancelled_by, cancellation_reason
  FROM ff_execution WHERE flow_id = :'G' ORDER BY 1;
SELECT g->>'group_state' AS group_state, g->'cancel_siblings_fired' AS fired, g->>'cancel_siblings_reason' AS reason
  FROM ff_describe_flow(:'G'), jsonb_array_elements(edge_groups) g;

-- Cancel it: the child is the only member left to cancel.
SELECT outcome, cancellation_policy, member_execution_ids = ARRAY[pg_temp.m(:'G', 3)] AS the_child
  FROM ff_cancel_flow(:'G');
SELECT flow_id, status, public_flow_state FROM ff_list_flows('{fp:' || ff_flow_partition(:'G') || '}')
 WHERE flow_id = :'G';
SELECT outcome, count(*) FROM ff_completion_events(:c0) WHERE flow_id = :'G' GROUP BY 1 ORDER BY 1;

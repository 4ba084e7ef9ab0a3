-- Flows: ff_stage_dependency_edge (revision check, self edges, cycles,
-- membership, duplicates), ff_apply_dependency_to_child (blocking the child,
-- upstreams already finished), ff_set_edge_group_policy validation,
-- ff_describe_edge, ff_list_edges and ff_evaluate_flow_eligibility.
BEGIN;
SELECT plan(114);

-- helpers: member n of flow f is on lane '<last 12 of f>/<n>'
CREATE FUNCTION pg_temp.id(f uuid, n int) RETURNS text LANGUAGE sql AS
$$ SELECT ff_new_flow_execution_id(f, ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid) $$;
CREATE FUNCTION pg_temp.lane(f uuid, n int) RETURNS text LANGUAGE sql AS $$ SELECT right(f::text, 12) || '/' || n $$;
CREATE FUNCTION pg_temp.member(f uuid, n int, delay_until bigint DEFAULT NULL) RETURNS text LANGUAGE sql AS $$
    SELECT ff_create_execution(pg_temp.lane(f, n), execution_id => pg_temp.id(f, n), delay_until => delay_until);
    SELECT execution_id FROM ff_add_execution_to_flow(f, pg_temp.id(f, n));
$$;
CREATE FUNCTION pg_temp.eid(f uuid, up int, down int, tag text DEFAULT '') RETURNS uuid LANGUAGE sql AS
$$ SELECT md5(f::text || up || '>' || down || tag)::uuid $$;
CREATE FUNCTION pg_temp.rev(f uuid) RETURNS bigint LANGUAGE sql AS
$$ SELECT graph_revision FROM ff_flow WHERE flow_id = f $$;
CREATE FUNCTION pg_temp.stage(f uuid, up int, down int, tag text DEFAULT '') RETURNS bigint LANGUAGE sql AS
$$ SELECT new_graph_revision FROM ff_stage_dependency_edge(f, pg_temp.eid(f, up, down, tag), pg_temp.id(f, up),
                                                            pg_temp.id(f, down), pg_temp.rev(f)) $$;
CREATE FUNCTION pg_temp.apply(f uuid, up int, down int, tag text DEFAULT '') RETURNS text LANGUAGE sql AS
$$ SELECT outcome || '/' || unsatisfied_count FROM ff_apply_dependency_to_child(f, pg_temp.eid(f, up, down, tag), pg_temp.id(f, down)) $$;
CREATE FUNCTION pg_temp.st(f uuid, n int) RETURNS text LANGUAGE sql AS
$$ SELECT public_state FROM ff_execution_by_id(pg_temp.id(f, n)) $$;
CREATE FUNCTION pg_temp.done(f uuid, n int) RETURNS void LANGUAGE sql AS
$$ SELECT ff_complete(handle) FROM ff_claim(pg_temp.lane(f, n), 'w', 'w-1') $$;
CREATE FUNCTION pg_temp.fails(f uuid, n int) RETURNS void LANGUAGE sql AS
$$ SELECT ff_fail(handle, 'boom', 'permanent') FROM ff_claim(pg_temp.lane(f, n), 'w', 'w-1') $$;
CREATE FUNCTION pg_temp.err_detail(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE d text;
BEGIN
    EXECUTE q;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    RETURN d;
END $$;

-- F: members 1..6
SELECT ff_create_flow('f6100000-0000-4000-8000-000000000001');
SELECT pg_temp.member('f6100000-0000-4000-8000-000000000001', n) FROM generate_series(1, 6) n;

------------------------------------------------------------------------------
-- stage
------------------------------------------------------------------------------
SELECT results_eq(
    $$SELECT * FROM ff_stage_dependency_edge('f6100000-0000-4000-8000-000000000001',
            pg_temp.eid('f6100000-0000-4000-8000-000000000001', 1, 2),
            pg_temp.id('f6100000-0000-4000-8000-000000000001', 1), pg_temp.id('f6100000-0000-4000-8000-000000000001', 2), 6)$$,
    $$VALUES (pg_temp.eid('f6100000-0000-4000-8000-000000000001', 1, 2), 7::bigint)$$,
    'stage 1 -> 2 against revision 6 (six members): staged, new revision 7');
SELECT results_eq(
    $$SELECT edge_id, flow_id, upstream_execution_id, downstream_execution_id, dependency_kind,
             satisfaction_condition, data_passing_ref, edge_state, created_at_ms > 0, created_by,
             applied_at_ms, resolution
        FROM ff_describe_edge('f6100000-0000-4000-8000-000000000001', pg_temp.eid('f6100000-0000-4000-8000-000000000001', 1, 2))$$,
    $$VALUES (pg_temp.eid('f6100000-0000-4000-8000-000000000001', 1, 2), 'f6100000-0000-4000-8000-000000000001'::uuid,
              pg_temp.id('f6100000-0000-4000-8000-000000000001', 1), pg_temp.id('f6100000-0000-4000-8000-000000000001', 2),
              'success_only'::text, 'all_required'::text, NULL::text, 'pending'::text, true, 'engine'::text,
              NULL::bigint, NULL::text)$$,
    'describe_edge: endpoints, success_only, all_required, pending, created by the engine');
SELECT results_eq($$SELECT graph_revision, edge_count FROM ff_flow WHERE flow_id = 'f6100000-0000-4000-8000-000000000001'$$,
                  $$VALUES (7::bigint, 1)$$, 'stage bumps graph_revision and edge_count');
SELECT results_eq(
    $$SELECT policy_kind, staged_count, applied_count, group_state FROM ff_edge_group
       WHERE downstream_execution_id = (ff_split_execution_id(pg_temp.id('f6100000-0000-4000-8000-000000000001', 2))).execution_uuid$$,
    $$VALUES ('all_of'::text, 1, 0, 'pending'::text)$$,
    'the downstream gets an all_of edge group counting the staged edge');
SELECT is(pg_temp.st('f6100000-0000-4000-8000-000000000001', 2), 'waiting', 'staging alone does not block the downstream');
SELECT is_empty($$SELECT * FROM ff_describe_edge('f6100000-0000-4000-8000-000000000001', '00000000-0000-0000-0000-000000000000')$$,
                'describe_edge of an unknown edge: no row');

SELECT throws_ok($$SELECT * FROM ff_stage_dependency_edge('f6100000-0000-4000-8000-000000000001', gen_random_uuid(),
                     pg_temp.id('f6100000-0000-4000-8000-000000000001', 2), pg_temp.id('f6100000-0000-4000-8000-000000000001', 3), 6)$$,
                 'YFC10', NULL, 'a stale expected_graph_revision -> YFC10 stale_graph_revision');
SELECT throws_ok($$SELECT * FROM ff_stage_dependency_edge('f6100000-0000-4000-8000-000000000001', gen_random_uuid(),
                     pg_temp.id('f6100000-0000-4000-8000-000000000001', 3), pg_temp.id('f6100000-0000-4000-8000-000000000001', 3), 7)$$,
                 'YFK03', NULL, 'an edge from an execution to itself -> YFK03 self_referencing_edge');
SELECT throws_ok($$SELECT * FROM ff_stage_dependency_edge('f6100000-0000-4000-8000-000000000001', gen_random_uuid(),
                     pg_temp.id('f6100000-0000-4000-8000-000000000001', 3),
                     '{fp:' || ff_flow_partition('f6100000-0000-4000-8000-000000000001') || '}:' ||
                         upper(split_part(pg_temp.id('f6100000-0000-4000-8000-000000000001', 3), '}:', 2)), 7)$$,
                 'YFK03', NULL, '... also when the same id is spelled differently');
SELECT throws_ok($$SELECT * FROM ff_stage_dependency_edge('00000000-0000-0000-0000-0000000000ff', gen_random_uuid(),
                     pg_temp.id('f6100000-0000-4000-8000-000000000001', 2), pg_temp.id('f6100000-0000-4000-8000-000000000001', 3), 7)$$,
                 'YFN02', NULL, 'an unknown flow -> YFN02');
SELECT ff_create_execution('tap61-x', execution_id => pg_temp.id('f6100000-0000-4000-8000-000000000001', 50));
SELECT throws_ok($$SELECT * FROM ff_stage_dependency_edge('f6100000-0000-4000-8000-000000000001', gen_random_uuid(),
                     pg_temp.id('f6100000-0000-4000-8000-000000000001', 50), pg_temp.id('f6100000-0000-4000-8000-000000000001', 3), 7)$$,
                 'YFS18', NULL, 'an upstream that is not a member -> YFS18 execution_not_in_flow');
SELECT throws_ok($$SELECT * FROM ff_stage_dependency_edge('f6100000-0000-4000-8000-000000000001', gen_random_uuid(),
                     pg_temp.id('f6100000-0000-4000-8000-000000000001', 3), pg_temp.id('f6100000-0000-4000-8000-000000000001', 51), 7)$$,
                 'YFS18', NULL, 'a downstream that does not exist -> YFS18');
SELECT throws_ok($$SELECT * FROM ff_stage_dependency_edge('f6100000-0000-4000-8000-000000000001', gen_random_uuid(),
                     pg_temp.id('f6100000-0000-4000-8000-000000000001', 3), ff_new_execution_id('tap61'), 7)$$,
                 'YFS18', NULL, 'an id on another partition -> YFS18');
SELECT throws_ok($$SELECT * FROM ff_stage_dependency_edge('f6100000-0000-4000-8000-000000000001', gen_random_uuid(),
                     'nope', pg_temp.id('f6100000-0000-4000-8000-000000000001', 3), 7)$$,
                 'YFV01', NULL, 'a malformed id -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_stage_dependency_edge('f6100000-0000-4000-8000-000000000001', gen_random_uuid(),
                     pg_temp.id('f6100000-0000-4000-8000-000000000001', 2), pg_temp.id('f6100000-0000-4000-8000-000000000001', 3), NULL)$$,
                 'YFV01', NULL, 'a NULL expected_graph_revision -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_stage_dependency_edge('f6100000-0000-4000-8000-000000000001', NULL,
                     pg_temp.id('f6100000-0000-4000-8000-000000000001', 2), pg_temp.id('f6100000-0000-4000-8000-000000000001', 3), 7)$$,
                 'YFV01', NULL, 'a NULL edge_id -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_stage_dependency_edge('f6100000-0000-4000-8000-000000000001',
                     pg_temp.eid('f6100000-0000-4000-8000-000000000001', 1, 2),
                     pg_temp.id('f6100000-0000-4000-8000-000000000001', 2), pg_temp.id('f6100000-0000-4000-8000-000000000001', 3), 7)$$,
                 'YFK01', NULL, 'an existing edge id -> YFK01 dependency_already_exists');
SELECT is(pg_temp.err_detail(format($$SELECT * FROM ff_stage_dependency_edge(%L, %L, %L, %L, 7)$$,
              'f6100000-0000-4000-8000-000000000001', pg_temp.eid('f6100000-0000-4000-8000-000000000001', 1, 2),
              pg_temp.id('f6100000-0000-4000-8000-000000000001', 2), pg_temp.id('f6100000-0000-4000-8000-000000000001', 3)))::jsonb
              - 'created_at_ms',
          jsonb_build_object('edge_id', pg_temp.eid('f6100000-0000-4000-8000-000000000001', 1, 2),
                             'flow_id', 'f6100000-0000-4000-8000-000000000001',
                             'upstream_execution_id', pg_temp.id('f6100000-0000-4000-8000-000000000001', 1),
                             'downstream_execution_id', pg_temp.id('f6100000-0000-4000-8000-000000000001', 2),
                             'dependency_kind', 'success_only', 'data_passing_ref', NULL, 'edge_state', 'pending'),
          'its detail is the existing edge as JSON');
SELECT results_eq($$SELECT graph_revision, edge_count, (SELECT count(*) FROM ff_edge) FROM ff_flow WHERE flow_id = 'f6100000-0000-4000-8000-000000000001'$$,
                  $$VALUES (7::bigint, 1, 1::bigint)$$, 'the rejected stages changed nothing');

-- cycles: 1 -> 2 -> 3 exists; 3 -> 1 and 2 -> 1 would close cycles
SELECT is(pg_temp.stage('f6100000-0000-4000-8000-000000000001', 2, 3), 8::bigint, 'stage 2 -> 3');
SELECT throws_ok($$SELECT pg_temp.stage('f6100000-0000-4000-8000-000000000001', 3, 1)$$, 'YFK02', NULL,
                 '3 -> 1 closes 1 -> 2 -> 3 -> 1: YFK02 cycle_detected');
SELECT throws_ok($$SELECT pg_temp.stage('f6100000-0000-4000-8000-000000000001', 2, 1)$$, 'YFK02', NULL,
                 '2 -> 1 reverses an edge: YFK02');
SELECT throws_ok($$SELECT pg_temp.stage('f6100000-0000-4000-8000-000000000001', 3, 2)$$, 'YFK02', NULL,
                 '3 -> 2 reverses an edge: YFK02');
SELECT is(pg_temp.stage('f6100000-0000-4000-8000-000000000001', 1, 3), 9::bigint, '1 -> 3 (a shortcut, no cycle) is fine');
SELECT is((SELECT count(*) FROM ff_edge), 3::bigint, 'only the three acyclic edges exist');

-- duplicate pair under another edge id; dependency_kind and data_passing_ref are kept
SELECT is((SELECT new_graph_revision FROM ff_stage_dependency_edge('f6100000-0000-4000-8000-000000000001',
              pg_temp.eid('f6100000-0000-4000-8000-000000000001', 4, 5),
              pg_temp.id('f6100000-0000-4000-8000-000000000001', 4), pg_temp.id('f6100000-0000-4000-8000-000000000001', 5),
              9, dependency_kind => 'success_only', data_passing_ref => 'result')), 10::bigint,
          'stage 4 -> 5 with a data_passing_ref');
SELECT is((SELECT new_graph_revision FROM ff_stage_dependency_edge('f6100000-0000-4000-8000-000000000001',
              pg_temp.eid('f6100000-0000-4000-8000-000000000001', 4, 5, 'b'),
              pg_temp.id('f6100000-0000-4000-8000-000000000001', 4), pg_temp.id('f6100000-0000-4000-8000-000000000001', 5),
              10, data_passing_ref => '')), 11::bigint,
          'the same pair again under another edge id is accepted');
SELECT results_eq(
    $$SELECT data_passing_ref FROM ff_list_edges('f6100000-0000-4000-8000-000000000001', 'incoming',
             pg_temp.id('f6100000-0000-4000-8000-000000000001', 5)) ORDER BY data_passing_ref NULLS LAST$$,
    $$VALUES ('result'::text), (NULL)$$, 'data_passing_ref kept; an empty one is stored as NULL');
SELECT is((SELECT staged_count FROM ff_edge_group WHERE downstream_execution_id =
              (ff_split_execution_id(pg_temp.id('f6100000-0000-4000-8000-000000000001', 5))).execution_uuid),
          2, 'both edges count in the group');

------------------------------------------------------------------------------
-- apply
------------------------------------------------------------------------------
SELECT is(pg_temp.apply('f6100000-0000-4000-8000-000000000001', 1, 2), 'applied/1', 'apply 1 -> 2: applied, 1 unsatisfied');
SELECT results_eq(
    $$SELECT lifecycle_phase, ownership_state, eligibility_state, blocking_reason, terminal_outcome,
             attempt_state, public_state, blocking_detail LIKE 'waiting for dependencies%'
        FROM ff_execution_by_id(pg_temp.id('f6100000-0000-4000-8000-000000000001', 2))$$,
    $$VALUES ('runnable'::text, 'unowned'::text, 'blocked_by_dependencies'::text, 'waiting_for_children'::text,
              'none'::text, 'pending_first_attempt'::text, 'waiting_children'::text, true)$$,
    'the child is blocked: runnable/unowned/blocked_by_dependencies/waiting_for_children/none -> waiting_children');
SELECT is((SELECT count(*) FROM ff_claim(pg_temp.lane('f6100000-0000-4000-8000-000000000001', 2), 'w', 'w-1')), 0::bigint,
          'a blocked child is not claimable');
SELECT results_eq($$SELECT edge_state, applied_at_ms > 0 FROM ff_describe_edge('f6100000-0000-4000-8000-000000000001', pg_temp.eid('f6100000-0000-4000-8000-000000000001', 1, 2))$$,
                  $$VALUES ('applied'::text, true)$$, 'describe_edge: applied');
SELECT is(pg_temp.apply('f6100000-0000-4000-8000-000000000001', 1, 2), 'already_applied/1', 'apply again: already_applied');
SELECT is((SELECT applied_count FROM ff_edge_group WHERE downstream_execution_id =
              (ff_split_execution_id(pg_temp.id('f6100000-0000-4000-8000-000000000001', 2))).execution_uuid),
          1, 're-applying counted nothing');
SELECT results_eq($$SELECT * FROM ff_apply_dependency_to_child('f6100000-0000-4000-8000-000000000001',
                       pg_temp.eid('f6100000-0000-4000-8000-000000000001', 2, 3), pg_temp.id('f6100000-0000-4000-8000-000000000001', 3),
                       upstream_execution_id => pg_temp.id('f6100000-0000-4000-8000-000000000001', 2))$$,
                  $$VALUES ('applied'::text, 1)$$, 'apply with the matching upstream_execution_id');
SELECT throws_ok($$SELECT * FROM ff_apply_dependency_to_child('f6100000-0000-4000-8000-000000000001',
                       pg_temp.eid('f6100000-0000-4000-8000-000000000001', 1, 3), pg_temp.id('f6100000-0000-4000-8000-000000000001', 2))$$,
                 'YFV01', NULL, 'apply naming another downstream than the edge''s -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_apply_dependency_to_child('f6100000-0000-4000-8000-000000000001',
                       pg_temp.eid('f6100000-0000-4000-8000-000000000001', 1, 3), pg_temp.id('f6100000-0000-4000-8000-000000000001', 3),
                       upstream_execution_id => pg_temp.id('f6100000-0000-4000-8000-000000000001', 2))$$,
                 'YFV01', NULL, 'apply naming another upstream than the edge''s -> YFV01');
SELECT throws_like($$SELECT * FROM ff_apply_dependency_to_child('f6100000-0000-4000-8000-000000000001',
                       gen_random_uuid(), pg_temp.id('f6100000-0000-4000-8000-000000000001', 3))$$,
                   'not_found: edge % does not exist in flow f6100000-0000-4000-8000-000000000001',
                   'apply of an unknown edge: not_found (entity edge) ...');
SELECT throws_ok($$SELECT * FROM ff_apply_dependency_to_child('f6100000-0000-4000-8000-000000000001',
                       gen_random_uuid(), pg_temp.id('f6100000-0000-4000-8000-000000000001', 3))$$,
                 'YFN00', NULL, '... with YFN00');
SELECT throws_ok($$SELECT * FROM ff_apply_dependency_to_child('00000000-0000-0000-0000-0000000000ff',
                       pg_temp.eid('f6100000-0000-4000-8000-000000000001', 1, 3), pg_temp.id('f6100000-0000-4000-8000-000000000001', 3))$$,
                 'YFN02', NULL, 'apply in an unknown flow -> YFN02');
SELECT throws_ok($$SELECT * FROM ff_apply_dependency_to_child('f6100000-0000-4000-8000-000000000001',
                       pg_temp.eid('f6100000-0000-4000-8000-000000000001', 1, 3), ff_new_execution_id('tap61'))$$,
                 'YFS18', NULL, 'apply naming a downstream on another partition -> YFS18');
SELECT throws_ok($$SELECT * FROM ff_apply_dependency_to_child('f6100000-0000-4000-8000-000000000001',
                       pg_temp.eid('f6100000-0000-4000-8000-000000000001', 1, 3), 'x')$$,
                 'YFV01', NULL, 'apply with a malformed id -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_apply_dependency_to_child('f6100000-0000-4000-8000-000000000001', NULL,
                       pg_temp.id('f6100000-0000-4000-8000-000000000001', 3))$$,
                 'YFV01', NULL, 'apply with a NULL edge_id -> YFV01');
SELECT is(pg_temp.apply('f6100000-0000-4000-8000-000000000001', 1, 3), 'applied/2', 'apply 1 -> 3: 2 unsatisfied into 3');

-- an upstream already finished when its edge is applied counts at once
SELECT pg_temp.done('f6100000-0000-4000-8000-000000000001', 4);
SELECT is(pg_temp.apply('f6100000-0000-4000-8000-000000000001', 4, 5), 'applied/0',
          'apply 4 -> 5 after 4 completed: resolved at once, 0 unsatisfied');
SELECT is(pg_temp.st('f6100000-0000-4000-8000-000000000001', 5), 'waiting_children',
          '5 still waits for its second (unapplied) edge from 4');
SELECT is(pg_temp.apply('f6100000-0000-4000-8000-000000000001', 4, 5, 'b'), 'applied/0', 'apply the second 4 -> 5 edge');
SELECT results_eq($$SELECT group_state, success_count FROM ff_edge_group WHERE downstream_execution_id =
                       (ff_split_execution_id(pg_temp.id('f6100000-0000-4000-8000-000000000001', 5))).execution_uuid$$,
                  $$VALUES ('satisfied'::text, 2)$$, 'both edges resolved: the group is satisfied');
SELECT is(pg_temp.st('f6100000-0000-4000-8000-000000000001', 5), 'waiting', '5 is claimable');
SELECT is((SELECT resolution FROM ff_describe_edge('f6100000-0000-4000-8000-000000000001', pg_temp.eid('f6100000-0000-4000-8000-000000000001', 4, 5))),
          'success', 'the edge is resolved success');

-- an upstream that already failed makes the all_of group impossible at once: the child is skipped
SELECT pg_temp.fails('f6100000-0000-4000-8000-000000000001', 6);
SELECT ff_create_flow('f6100000-0000-4000-8000-000000000002');
SELECT pg_temp.member('f6100000-0000-4000-8000-000000000002', n) FROM generate_series(1, 3) n;
SELECT pg_temp.fails('f6100000-0000-4000-8000-000000000002', 1);
SELECT pg_temp.stage('f6100000-0000-4000-8000-000000000002', 1, 2);
SELECT is(pg_temp.apply('f6100000-0000-4000-8000-000000000002', 1, 2), 'applied/0', 'apply after the upstream failed');
SELECT results_eq($$SELECT public_state, attempt_state FROM ff_execution_by_id(pg_temp.id('f6100000-0000-4000-8000-000000000002', 2))$$,
                  $$VALUES ('skipped'::text, 'pending_first_attempt'::text)$$,
                  'the child is skipped (it never ran, so its attempt state is kept)');
SELECT is((SELECT outcome FROM ff_completion_event WHERE execution_id =
              (ff_split_execution_id(pg_temp.id('f6100000-0000-4000-8000-000000000002', 2))).execution_uuid),
          'skipped', 'with a skipped completion event');
-- an active child is not blocked by a new edge
CREATE TEMP TABLE h3 AS SELECT * FROM ff_claim(pg_temp.lane('f6100000-0000-4000-8000-000000000002', 3), 'w', 'w-1');
SELECT pg_temp.stage('f6100000-0000-4000-8000-000000000002', 2, 3);
SELECT is(pg_temp.apply('f6100000-0000-4000-8000-000000000002', 2, 3), 'applied/0', 'apply into an active child whose upstream was skipped');
SELECT is(pg_temp.st('f6100000-0000-4000-8000-000000000002', 3), 'skipped',
          'the active child is skipped as well (its group is impossible)');
SELECT throws_ok($$SELECT ff_complete(handle) FROM h3$$, 'YFC11', NULL, 'its worker''s next call fails: YFC11');
SELECT is((SELECT string_agg(event_type || ':' || coalesce(reason, ''), ',' ORDER BY event_id) FROM ff_lease_event
            WHERE execution_id = (ff_split_execution_id(pg_temp.id('f6100000-0000-4000-8000-000000000002', 3))).execution_uuid),
          'acquired:,revoked:dependency_impossible', 'its lease was revoked (reason dependency_impossible)');
SELECT is((SELECT attempt_lifecycle FROM ff_attempt WHERE execution_id =
              (ff_split_execution_id(pg_temp.id('f6100000-0000-4000-8000-000000000002', 3))).execution_uuid),
          'ended_cancelled', 'and its attempt ended');
-- an active child with a pending dependency keeps running
SELECT ff_create_flow('f6100000-0000-4000-8000-000000000003');
SELECT pg_temp.member('f6100000-0000-4000-8000-000000000003', n) FROM generate_series(1, 2) n;
SELECT ff_claim(pg_temp.lane('f6100000-0000-4000-8000-000000000003', 2), 'w', 'w-1');
SELECT pg_temp.stage('f6100000-0000-4000-8000-000000000003', 1, 2);
SELECT is(pg_temp.apply('f6100000-0000-4000-8000-000000000003', 1, 2), 'applied/1', 'apply into an active child');
SELECT is(pg_temp.st('f6100000-0000-4000-8000-000000000003', 2), 'active', 'the active child is not blocked');

------------------------------------------------------------------------------
-- set_edge_group_policy
------------------------------------------------------------------------------
SELECT is(ff_set_edge_group_policy('f6100000-0000-4000-8000-000000000001', pg_temp.id('f6100000-0000-4000-8000-000000000001', 6),
                                   '{"kind": "any_of"}'), 'set', 'a fresh any_of policy: set');
SELECT results_eq($$SELECT policy_kind, quorum_k, on_satisfied, staged_count FROM ff_edge_group
                    WHERE downstream_execution_id = (ff_split_execution_id(pg_temp.id('f6100000-0000-4000-8000-000000000001', 6))).execution_uuid$$,
                  $$VALUES ('any_of'::text, NULL::integer, 'cancel_remaining'::text, 0)$$,
                  'stored: any_of, on_satisfied defaults to cancel_remaining');
SELECT is(ff_set_edge_group_policy('f6100000-0000-4000-8000-000000000001', pg_temp.id('f6100000-0000-4000-8000-000000000001', 6),
                                   '{"kind": "any_of", "on_satisfied": "cancel_remaining"}'), 'already_set', 'the same policy again: already_set');
SELECT is(ff_set_edge_group_policy('f6100000-0000-4000-8000-000000000001', pg_temp.id('f6100000-0000-4000-8000-000000000001', 6),
                                   '{"kind": "quorum", "k": 2, "on_satisfied": "let_run"}'), 'set', 'another policy: set');
SELECT results_eq($$SELECT policy_kind, quorum_k, on_satisfied FROM ff_edge_group
                    WHERE downstream_execution_id = (ff_split_execution_id(pg_temp.id('f6100000-0000-4000-8000-000000000001', 6))).execution_uuid$$,
                  $$VALUES ('quorum'::text, 2, 'let_run'::text)$$, 'stored: quorum 2, let_run');
SELECT is(ff_set_edge_group_policy('f6100000-0000-4000-8000-000000000001', pg_temp.id('f6100000-0000-4000-8000-000000000001', 6),
                                   '{"kind": "quorum", "k": 3, "on_satisfied": "let_run"}'), 'set', 'a different k is a change: set');
SELECT is(ff_set_edge_group_policy('f6100000-0000-4000-8000-000000000001', pg_temp.id('f6100000-0000-4000-8000-000000000001', 1),
                                   '{"kind": "all_of"}'), 'set', 'all_of on a member without a group: set');
SELECT is(ff_set_edge_group_policy('f6100000-0000-4000-8000-000000000001', pg_temp.id('f6100000-0000-4000-8000-000000000001', 1),
                                   '{"kind": "all_of"}'), 'already_set', 'all_of again: already_set');
SELECT throws_like($$SELECT ff_set_edge_group_policy('f6100000-0000-4000-8000-000000000001', pg_temp.id('f6100000-0000-4000-8000-000000000001', 2),
                                   '{"kind": "any_of"}')$$,
                   '%edge_group_policy_already_fixed%', 'a downstream with staged edges: edge_group_policy_already_fixed ...');
SELECT throws_ok($$SELECT ff_set_edge_group_policy('f6100000-0000-4000-8000-000000000001', pg_temp.id('f6100000-0000-4000-8000-000000000001', 2),
                                   '{"kind": "any_of"}')$$, 'YFV01', NULL, '... YFV01');
SELECT throws_ok(format($$SELECT ff_set_edge_group_policy('f6100000-0000-4000-8000-000000000001', pg_temp.id('f6100000-0000-4000-8000-000000000001', 6), %L)$$, p),
                 'YFV01', NULL, format('invalid policy %s -> YFV01', p))
  FROM unnest(ARRAY['[]', '"all_of"', '{}', '{"kind": "some_of"}', '{"kind": "all_of", "k": 1}',
                    '{"kind": "all_of", "on_satisfied": "let_run"}', '{"kind": "any_of", "k": 1}',
                    '{"kind": "quorum"}', '{"kind": "quorum", "k": 0}', '{"kind": "quorum", "k": -1}',
                    '{"kind": "quorum", "k": 1.5}', '{"kind": "quorum", "k": "2"}',
                    '{"kind": "quorum", "k": 4294967296}', '{"kind": "any_of", "on_satisfied": "stop"}',
                    '{"kind": "any_of", "extra": 1}', '{"kind": 1}']) AS p;
SELECT throws_like($$SELECT ff_set_edge_group_policy('f6100000-0000-4000-8000-000000000001', pg_temp.id('f6100000-0000-4000-8000-000000000001', 6),
                                   '{"kind": "quorum", "k": 4294967296}')$$,
                   '%quorum k exceeds supported maximum%', 'a huge k: quorum k exceeds supported maximum');
SELECT throws_ok($$SELECT ff_set_edge_group_policy('f6100000-0000-4000-8000-000000000001', pg_temp.id('f6100000-0000-4000-8000-000000000001', 6), NULL)$$,
                 'YFV01', NULL, 'NULL policy -> YFV01');
SELECT throws_ok($$SELECT ff_set_edge_group_policy('00000000-0000-0000-0000-0000000000ff', pg_temp.id('f6100000-0000-4000-8000-000000000001', 6), '{"kind": "all_of"}')$$,
                 'YFN02', NULL, 'unknown flow -> YFN02');
SELECT throws_ok($$SELECT ff_set_edge_group_policy('f6100000-0000-4000-8000-000000000001', pg_temp.id('f6100000-0000-4000-8000-000000000001', 50), '{"kind": "all_of"}')$$,
                 'YFS18', NULL, 'a non-member downstream -> YFS18');
SELECT results_eq($$SELECT policy_kind, quorum_k FROM ff_edge_group
                    WHERE downstream_execution_id = (ff_split_execution_id(pg_temp.id('f6100000-0000-4000-8000-000000000001', 6))).execution_uuid$$,
                  $$VALUES ('quorum'::text, 3)$$, 'the rejected policies changed nothing');

------------------------------------------------------------------------------
-- list_edges
------------------------------------------------------------------------------
SELECT results_eq($$SELECT downstream_execution_id FROM ff_list_edges('f6100000-0000-4000-8000-000000000001', 'outgoing',
                        pg_temp.id('f6100000-0000-4000-8000-000000000001', 1)) ORDER BY 1$$,
                  $$SELECT pg_temp.id('f6100000-0000-4000-8000-000000000001', n) FROM generate_series(2, 3) n$$,
                  'outgoing from 1: the edges to 2 and 3');
SELECT results_eq($$SELECT upstream_execution_id FROM ff_list_edges('f6100000-0000-4000-8000-000000000001', 'incoming',
                        pg_temp.id('f6100000-0000-4000-8000-000000000001', 3)) ORDER BY 1$$,
                  $$SELECT pg_temp.id('f6100000-0000-4000-8000-000000000001', n) FROM generate_series(1, 2) n$$,
                  'incoming to 3: the edges from 1 and 2');
SELECT ok((SELECT array_agg(edge_id) = array_agg(edge_id ORDER BY edge_id)
             FROM ff_list_edges('f6100000-0000-4000-8000-000000000001', 'outgoing', pg_temp.id('f6100000-0000-4000-8000-000000000001', 1))),
          'list_edges orders by edge_id');
SELECT is_empty($$SELECT * FROM ff_list_edges('f6100000-0000-4000-8000-000000000001', 'outgoing', pg_temp.id('f6100000-0000-4000-8000-000000000001', 6))$$,
                'an isolated member: no edges');
SELECT is_empty($$SELECT * FROM ff_list_edges('00000000-0000-0000-0000-0000000000ff', 'outgoing', pg_temp.id('f6100000-0000-4000-8000-000000000001', 1))$$,
                'an unknown flow: no edges');
SELECT throws_ok($$SELECT * FROM ff_list_edges('f6100000-0000-4000-8000-000000000001', 'sideways', pg_temp.id('f6100000-0000-4000-8000-000000000001', 1))$$,
                 'YFV01', NULL, 'an unknown direction -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_list_edges('f6100000-0000-4000-8000-000000000001', 'outgoing', 'x}:y')$$,
                 'YFV01', NULL, 'a malformed id -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_list_edges('f6100000-0000-4000-8000-000000000001', 'outgoing', NULL)$$,
                 'YFV01', NULL, 'a NULL id -> YFV01');

------------------------------------------------------------------------------
-- evaluate_flow_eligibility
------------------------------------------------------------------------------
CREATE TEMP TABLE solo AS SELECT execution_id FROM ff_create_execution('tap61-solo');
SELECT is(ff_evaluate_flow_eligibility((SELECT execution_id FROM solo)), 'eligible',
          'a standalone runnable execution: eligible');
SELECT is(ff_evaluate_flow_eligibility(pg_temp.id('f6100000-0000-4000-8000-000000000001', 77)), 'not_found', 'no row: not_found');
SELECT is(ff_evaluate_flow_eligibility(pg_temp.id('f6100000-0000-4000-8000-000000000003', 2)), 'not_runnable', 'an active member: not_runnable');
SELECT is(ff_evaluate_flow_eligibility(pg_temp.id('f6100000-0000-4000-8000-000000000001', 2)), 'blocked_by_dependencies',
          'a member waiting on its upstream: blocked_by_dependencies');
SELECT is(ff_evaluate_flow_eligibility(pg_temp.id('f6100000-0000-4000-8000-000000000001', 5)), 'eligible',
          'a member whose dependencies are satisfied: eligible');
SELECT is(ff_evaluate_flow_eligibility(pg_temp.id('f6100000-0000-4000-8000-000000000001', 1)), 'eligible',
          'a member without dependencies: eligible');
SELECT is(ff_evaluate_flow_eligibility(pg_temp.id('f6100000-0000-4000-8000-000000000002', 2)), 'not_runnable',
          'a skipped member: not_runnable');
UPDATE ff_edge_group SET group_state = 'impossible'
 WHERE downstream_execution_id = (ff_split_execution_id(pg_temp.id('f6100000-0000-4000-8000-000000000001', 2))).execution_uuid;
SELECT is(ff_evaluate_flow_eligibility(pg_temp.id('f6100000-0000-4000-8000-000000000001', 2)), 'impossible',
          'a runnable member whose group is impossible: impossible');
SELECT throws_ok($$SELECT ff_evaluate_flow_eligibility('{fp:x}:y')$$, 'YFV01', NULL, 'a malformed id -> YFV01');

------------------------------------------------------------------------------
-- graph changes in a cancelled flow
------------------------------------------------------------------------------
SELECT ff_cancel_flow('f6100000-0000-4000-8000-000000000003', 'flow_only');
SELECT throws_ok($$SELECT * FROM ff_stage_dependency_edge('f6100000-0000-4000-8000-000000000003', gen_random_uuid(),
                     pg_temp.id('f6100000-0000-4000-8000-000000000003', 2), pg_temp.id('f6100000-0000-4000-8000-000000000003', 1),
                     pg_temp.rev('f6100000-0000-4000-8000-000000000003'))$$,
                 'YFS19', NULL, 'stage in a cancelled flow -> YFS19');
SELECT throws_ok($$SELECT pg_temp.apply('f6100000-0000-4000-8000-000000000003', 1, 2)$$, 'YFS19', NULL,
                 'apply in a cancelled flow -> YFS19');
SELECT throws_ok($$SELECT ff_set_edge_group_policy('f6100000-0000-4000-8000-000000000003', pg_temp.id('f6100000-0000-4000-8000-000000000003', 1), '{"kind": "all_of"}')$$,
                 'YFS19', NULL, 'set_edge_group_policy in a cancelled flow -> YFS19');

------------------------------------------------------------------------------
-- the cycle check gives up (and rejects) past 1000 reachable executions
------------------------------------------------------------------------------
SELECT ff_create_flow('f6100000-0000-4000-8000-000000000004');
SELECT pg_temp.member('f6100000-0000-4000-8000-000000000004', n) FROM generate_series(1, 1003) n;
SELECT ff_stage_dependency_edge('f6100000-0000-4000-8000-000000000004', pg_temp.eid('f6100000-0000-4000-8000-000000000004', 2, n),
                                pg_temp.id('f6100000-0000-4000-8000-000000000004', 2), pg_temp.id('f6100000-0000-4000-8000-000000000004', n),
                                pg_temp.rev('f6100000-0000-4000-8000-000000000004'))
  FROM generate_series(3, 1003) n;
SELECT is((SELECT edge_count FROM ff_flow WHERE flow_id = 'f6100000-0000-4000-8000-000000000004'), 1001, '2 fans out to 1001 executions');
SELECT throws_like($$SELECT pg_temp.stage('f6100000-0000-4000-8000-000000000004', 1, 2)$$,
                   'cycle_detected: % could not be checked for cycles',
                   '1 -> 2 would need a search past 1000 executions: rejected as cycle_detected');

SELECT * FROM finish();
ROLLBACK;

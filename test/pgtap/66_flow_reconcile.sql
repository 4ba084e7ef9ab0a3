-- Flows: the one-shot reconcilers (dependency resolution for completions
-- whose cascade did not run, pending sibling cancels) and
-- ff_project_flow_summary.
BEGIN;
SELECT plan(30);
\ir 60_flow_helpers.inc

-- undo(f, up): make it look as if up's terminal transition had committed
-- without its cascade (a crash, or a downstream held by another transaction)
CREATE FUNCTION pg_temp.undo(f uuid, downs int[]) RETURNS void LANGUAGE sql AS $$
    UPDATE ff_edge SET resolution = NULL, resolved_at_ms = NULL
     WHERE flow_id = f AND downstream_execution_id IN (SELECT pg_temp.uid(f, d) FROM unnest(downs) d);
    UPDATE ff_edge_group SET success_count = 0, failed_count = 0, skipped_count = 0, group_state = 'pending',
                             state_changed_at_ms = NULL
     WHERE flow_id = f AND downstream_execution_id IN (SELECT pg_temp.uid(f, d) FROM unnest(downs) d);
    DELETE FROM ff_completion_event
     WHERE flow_id = f AND execution_id IN (SELECT pg_temp.uid(f, d) FROM unnest(downs) d);
    UPDATE ff_execution SET lifecycle_phase = 'runnable', eligibility_state = 'blocked_by_dependencies',
                            blocking_reason = 'waiting_for_children', terminal_outcome = 'none',
                            public_state = 'waiting_children', terminal_at_ms = NULL
     WHERE flow_id = f AND execution_id IN (SELECT pg_temp.uid(f, d) FROM unnest(downs) d);
$$;

------------------------------------------------------------------------------
-- ff_reconcile_dependencies
------------------------------------------------------------------------------
SELECT ff_create_flow('f6600000-0000-4000-8000-000000000001');
SELECT pg_temp.member('f6600000-0000-4000-8000-000000000001', n) FROM generate_series(1, 2) n;
SELECT pg_temp.edge('f6600000-0000-4000-8000-000000000001', 1, 2);
SELECT pg_temp.done('f6600000-0000-4000-8000-000000000001', 1);
SELECT pg_temp.undo('f6600000-0000-4000-8000-000000000001', ARRAY[2]);
SELECT is(pg_temp.states('f6600000-0000-4000-8000-000000000001'), '1:completed 2:waiting_children',
          'seeded: the upstream completed but its cascade never ran');
SELECT is(ff_reconcile_dependencies(), 1, 'the reconciler resolves the one edge');
SELECT is(pg_temp.states('f6600000-0000-4000-8000-000000000001'), '1:completed 2:waiting', 'the downstream is claimable');
SELECT is(pg_temp.group_of('f6600000-0000-4000-8000-000000000001', 2), 'satisfied s1 f0 k0 n1', 'its group is satisfied');
SELECT is(ff_reconcile_dependencies(), 0, 'a second run finds nothing');

-- a failure whose skips never propagated: the reconciler cascades on through the chain
SELECT ff_create_flow('f6600000-0000-4000-8000-000000000002');
SELECT pg_temp.member('f6600000-0000-4000-8000-000000000002', n) FROM generate_series(1, 4) n;
SELECT pg_temp.edge('f6600000-0000-4000-8000-000000000002', n, n + 1) FROM generate_series(1, 3) n;
SELECT pg_temp.fails('f6600000-0000-4000-8000-000000000002', 1);
SELECT pg_temp.undo('f6600000-0000-4000-8000-000000000002', ARRAY[2, 3, 4]);
SELECT is(pg_temp.states('f6600000-0000-4000-8000-000000000002'), '1:failed 2:waiting_children 3:waiting_children 4:waiting_children',
          'seeded: a failure whose cascade never ran');
SELECT is(ff_reconcile_dependencies(), 3, 'one run resolves the failed edge and the two skip hops after it');
SELECT is(pg_temp.states('f6600000-0000-4000-8000-000000000002'), '1:failed 2:skipped 3:skipped 4:skipped', 'the whole chain is skipped');
SELECT is(pg_temp.events('f6600000-0000-4000-8000-000000000002'), '1:failed 2:skipped 3:skipped 4:skipped', 'with a skipped event per hop');

-- batch_size counts upstreams
SELECT ff_create_flow('f6600000-0000-4000-8000-000000000003');
SELECT pg_temp.member('f6600000-0000-4000-8000-000000000003', n) FROM generate_series(1, 4) n;
SELECT pg_temp.edge('f6600000-0000-4000-8000-000000000003', u, d) FROM (VALUES (1, 2), (3, 4)) v(u, d);
SELECT pg_temp.done('f6600000-0000-4000-8000-000000000003', n) FROM (VALUES (1), (3)) v(n);
SELECT pg_temp.undo('f6600000-0000-4000-8000-000000000003', ARRAY[2, 4]);
SELECT is(ff_reconcile_dependencies(batch_size => 1), 1, 'batch_size 1: one upstream per run');
SELECT is(ff_reconcile_dependencies(batch_size => 1), 1, 'the next run takes the other');
SELECT is(pg_temp.states('f6600000-0000-4000-8000-000000000003'), '1:completed 2:waiting 3:completed 4:waiting', 'both downstreams claimable');
SELECT throws_ok($$SELECT ff_reconcile_dependencies(0)$$, 'YFV01', NULL, 'batch_size 0 -> YFV01');
SELECT throws_ok($$SELECT ff_reconcile_dependencies(100001)$$, 'YFV01', NULL, 'batch_size above 100000 -> YFV01');

------------------------------------------------------------------------------
-- ff_reconcile_sibling_cancel: siblings a cascade could not cancel at once
------------------------------------------------------------------------------
SELECT ff_create_flow('f6600000-0000-4000-8000-000000000004');
SELECT pg_temp.member('f6600000-0000-4000-8000-000000000004', n) FROM generate_series(1, 5) n;
SELECT ff_set_edge_group_policy('f6600000-0000-4000-8000-000000000004', pg_temp.id('f6600000-0000-4000-8000-000000000004', 5),
                                '{"kind": "any_of", "on_satisfied": "let_run"}');
SELECT pg_temp.edge('f6600000-0000-4000-8000-000000000004', n, 5) FROM generate_series(1, 4) n;
SELECT pg_temp.claim('f6600000-0000-4000-8000-000000000004', 3);
SELECT pg_temp.done('f6600000-0000-4000-8000-000000000004', n) FROM generate_series(1, 2) n;
-- seed: the cancel fired but siblings 2 (finished meanwhile), 3 (running) and 4 (waiting) were held elsewhere
UPDATE ff_edge_group
   SET on_satisfied = 'cancel_remaining', siblings_cancel_fired = true,
       siblings_cancel_reason = 'sibling_quorum_satisfied',
       siblings_cancel_pending = ARRAY[pg_temp.uid('f6600000-0000-4000-8000-000000000004', 2),
                                       pg_temp.uid('f6600000-0000-4000-8000-000000000004', 3),
                                       pg_temp.uid('f6600000-0000-4000-8000-000000000004', 4)]
 WHERE flow_id = 'f6600000-0000-4000-8000-000000000004';
SELECT is((SELECT jsonb_array_length(g->'cancel_siblings_pending') FROM ff_describe_flow('f6600000-0000-4000-8000-000000000004'),
                  jsonb_array_elements(edge_groups) g), 3, 'describe_flow shows three pending sibling cancels');
SELECT is(ff_reconcile_sibling_cancel(), 3, 'the reconciler settles all three');
SELECT is(pg_temp.states('f6600000-0000-4000-8000-000000000004'), '1:completed 2:completed 3:cancelled 4:cancelled 5:waiting',
          'the finished sibling is left alone, the running and the waiting one are cancelled');
SELECT is((SELECT reason FROM ff_lease_event WHERE event_type = 'revoked'
              AND execution_id = pg_temp.uid('f6600000-0000-4000-8000-000000000004', 3)),
          'sibling_quorum_satisfied', 'the running sibling''s lease is revoked');
SELECT throws_ok($$SELECT ff_complete(pg_temp.h('f6600000-0000-4000-8000-000000000004', 3))$$, 'YFC11', NULL,
                 'its worker gets YFC11');
SELECT is((SELECT cardinality(siblings_cancel_pending) FROM ff_edge_group WHERE flow_id = 'f6600000-0000-4000-8000-000000000004'), 0,
          'nothing pending any more');
SELECT is(ff_reconcile_sibling_cancel(), 0, 'a second run finds nothing');
SELECT throws_ok($$SELECT ff_reconcile_sibling_cancel(0)$$, 'YFV01', NULL, 'batch_size 0 -> YFV01');

------------------------------------------------------------------------------
-- ff_project_flow_summary
------------------------------------------------------------------------------
SELECT ff_create_flow('f6600000-0000-4000-8000-000000000005');
SELECT pg_temp.member('f6600000-0000-4000-8000-000000000005', n) FROM generate_series(1, 6) n;
SELECT pg_temp.edge('f6600000-0000-4000-8000-000000000005', 1, 2);
SELECT pg_temp.edge('f6600000-0000-4000-8000-000000000005', 3, 4);
SELECT pg_temp.done('f6600000-0000-4000-8000-000000000005', 5);
SELECT pg_temp.fails('f6600000-0000-4000-8000-000000000005', 3);
SELECT pg_temp.claim('f6600000-0000-4000-8000-000000000005', 6);
SELECT results_eq(
    $$SELECT projected, total_members, members_completed, members_failed, members_cancelled, members_expired,
             members_skipped, members_active, members_suspended, members_waiting, members_delayed,
             members_rate_limited, members_waiting_children, public_flow_state
        FROM ff_project_flow_summary('f6600000-0000-4000-8000-000000000005')$$,
    $$VALUES (true, 6::bigint, 1, 1, 0, 0, 1, 1, 0, 1, 0, 0, 1, 'running'::text)$$,
    'summary: counts by public state; derived state running');
SELECT results_eq($$SELECT total_members, sampled_members, members_skipped, public_flow_state, last_summary_update_at > 0
                      FROM ff_flow_summary WHERE flow_id = 'f6600000-0000-4000-8000-000000000005'$$,
                  $$VALUES (6::bigint, 6, 1, 'running'::text, true)$$, 'and stored in ff_flow_summary');
SELECT ff_cancel_flow('f6600000-0000-4000-8000-000000000005');
SELECT results_eq($$SELECT members_cancelled, members_active, public_flow_state
                      FROM ff_project_flow_summary('f6600000-0000-4000-8000-000000000005')$$,
                  $$VALUES (3, 0, 'cancelled'::text)$$, 'projected again after a cancel: updated');
SELECT is((SELECT public_flow_state FROM ff_flow_summary WHERE flow_id = 'f6600000-0000-4000-8000-000000000005'), 'cancelled',
          'the stored row is updated');
SELECT ff_create_flow('f6600000-0000-4000-8000-000000000006');
SELECT results_eq($$SELECT projected, total_members, public_flow_state FROM ff_project_flow_summary('f6600000-0000-4000-8000-000000000006')$$,
                  $$VALUES (false, 0::bigint, 'open'::text)$$, 'a memberless flow: not projected');
SELECT is((SELECT count(*) FROM ff_flow_summary WHERE flow_id = 'f6600000-0000-4000-8000-000000000006'), 0::bigint, '... nothing stored');
SELECT throws_ok($$SELECT * FROM ff_project_flow_summary('00000000-0000-0000-0000-0000000000ff')$$, 'YFN02', NULL,
                 'an unknown flow -> YFN02');

SELECT is_empty($$SELECT * FROM pg_temp.violations()$$, 'invariants hold after the reconcilers');
SELECT * FROM finish();
ROLLBACK;

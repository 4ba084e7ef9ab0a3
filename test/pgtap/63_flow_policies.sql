-- Flows: edge-group policies. any_of and quorum with cancel_remaining (the
-- still-running siblings are cancelled, their leases revoked) and let_run,
-- once-fired groups, impossible quorums (the downstream is skipped, survivors
-- cancelled with reason sibling_quorum_impossible), quorums larger than the
-- edge count, and a quorum of 1 among 50.
BEGIN;
SELECT plan(41);
\ir 60_flow_helpers.inc

CREATE FUNCTION pg_temp.policy(f uuid, n int, p jsonb) RETURNS text LANGUAGE sql AS
$$ SELECT ff_set_edge_group_policy(f, pg_temp.id(f, n), p) $$;
-- build: members 1..n, policy on member n, edges 1..n-1 -> n
CREATE FUNCTION pg_temp.fan_in(f uuid, n int, p jsonb) RETURNS void LANGUAGE sql AS $$
    SELECT ff_create_flow(f);
    SELECT pg_temp.member(f, i) FROM generate_series(1, n) i;
    SELECT pg_temp.policy(f, n, p);
    SELECT pg_temp.edge(f, i, n) FROM generate_series(1, n - 1) i;
$$;
CREATE FUNCTION pg_temp.siblings(f uuid, n int) RETURNS text LANGUAGE sql AS $$
    SELECT siblings_cancel_fired || ' ' || coalesce(siblings_cancel_reason, '-') || ' ' || cardinality(siblings_cancel_pending)
      FROM ff_edge_group WHERE flow_id = f AND downstream_execution_id = pg_temp.uid(f, n) $$;

------------------------------------------------------------------------------
-- any_of, cancel_remaining: the first success wins, the others are cancelled
------------------------------------------------------------------------------
SELECT pg_temp.fan_in('f6300000-0000-4000-8000-000000000001', 4, '{"kind": "any_of", "on_satisfied": "cancel_remaining"}');
SELECT pg_temp.member('f6300000-0000-4000-8000-000000000001', 5);
SELECT pg_temp.edge('f6300000-0000-4000-8000-000000000001', 2, 5);
SELECT pg_temp.claim('f6300000-0000-4000-8000-000000000001', 2);
SELECT pg_temp.done('f6300000-0000-4000-8000-000000000001', 1);
SELECT is(pg_temp.states('f6300000-0000-4000-8000-000000000001'),
          '1:completed 2:cancelled 3:cancelled 4:waiting 5:skipped',
          'any_of cancel_remaining: the winner frees the join; the running and the waiting sibling are cancelled, and the cancelled sibling''s own downstream is skipped');
SELECT results_eq($$SELECT cancelled_by, cancellation_reason, attempt_state FROM ff_execution
                     WHERE flow_id = 'f6300000-0000-4000-8000-000000000001' AND execution_id IN
                           (pg_temp.uid('f6300000-0000-4000-8000-000000000001', 2), pg_temp.uid('f6300000-0000-4000-8000-000000000001', 3))
                     ORDER BY execution_id$$,
                  $$VALUES ('flow_cascade'::text, 'sibling_quorum_satisfied'::text, 'attempt_terminal'::text),
                           ('flow_cascade', 'sibling_quorum_satisfied', 'pending_first_attempt')$$,
                  'siblings cancelled by flow_cascade with reason sibling_quorum_satisfied');
SELECT is((SELECT string_agg(event_type || ':' || coalesce(reason, ''), ',' ORDER BY event_id) FROM ff_lease_event
            WHERE execution_id = pg_temp.uid('f6300000-0000-4000-8000-000000000001', 2)),
          'acquired:,revoked:sibling_quorum_satisfied', 'the running sibling''s lease is revoked');
SELECT is((SELECT attempt_lifecycle FROM ff_attempt WHERE execution_id = pg_temp.uid('f6300000-0000-4000-8000-000000000001', 2)),
          'ended_cancelled', 'and its attempt ended');
SELECT throws_ok($$SELECT ff_complete(pg_temp.h('f6300000-0000-4000-8000-000000000001', 2))$$, 'YFC11', NULL,
                 'the cancelled sibling''s worker gets YFC11 on its next call');
SELECT throws_ok($$SELECT * FROM ff_renew(pg_temp.h('f6300000-0000-4000-8000-000000000001', 2))$$, 'YFC11', NULL,
                 '... renew too');
SELECT is(pg_temp.siblings('f6300000-0000-4000-8000-000000000001', 4), 'true sibling_quorum_satisfied 0',
          'the group fired its sibling cancel once, nothing left pending');
SELECT is(pg_temp.group_of('f6300000-0000-4000-8000-000000000001', 4), 'satisfied s1 f2 k0 n3',
          'the cancelled siblings resolve as failures; the group stays satisfied');
SELECT is(pg_temp.events('f6300000-0000-4000-8000-000000000001'), '1:success 2:cancelled 3:cancelled 5:skipped',
          'a completion event per hop');

------------------------------------------------------------------------------
-- any_of, let_run: fires once, siblings run on, later outcomes do not re-transition
------------------------------------------------------------------------------
SELECT pg_temp.fan_in('f6300000-0000-4000-8000-000000000002', 4, '{"kind": "any_of", "on_satisfied": "let_run"}');
SELECT pg_temp.done('f6300000-0000-4000-8000-000000000002', 1);
SELECT is(pg_temp.states('f6300000-0000-4000-8000-000000000002'), '1:completed 2:waiting 3:waiting 4:waiting',
          'any_of let_run: the join is claimable, siblings untouched');
SELECT is(pg_temp.siblings('f6300000-0000-4000-8000-000000000002', 4), 'false - 0', 'no sibling cancel');
SELECT pg_temp.claim('f6300000-0000-4000-8000-000000000002', 4);
SELECT pg_temp.done('f6300000-0000-4000-8000-000000000002', 2);
SELECT pg_temp.fails('f6300000-0000-4000-8000-000000000002', 3);
SELECT is(pg_temp.st('f6300000-0000-4000-8000-000000000002', 4), 'active',
          'later successes and failures do not touch the (claimed) join: the group fired once');
SELECT is(pg_temp.group_of('f6300000-0000-4000-8000-000000000002', 4), 'satisfied s2 f1 k0 n3', 'but they are counted');
SELECT lives_ok($$SELECT ff_complete(pg_temp.h('f6300000-0000-4000-8000-000000000002', 4))$$, 'the join completes normally');

------------------------------------------------------------------------------
-- quorum 2 of 3, let_run
------------------------------------------------------------------------------
SELECT pg_temp.fan_in('f6300000-0000-4000-8000-000000000003', 4, '{"kind": "quorum", "k": 2, "on_satisfied": "let_run"}');
SELECT pg_temp.done('f6300000-0000-4000-8000-000000000003', 1);
SELECT is(pg_temp.st('f6300000-0000-4000-8000-000000000003', 4), 'waiting_children', 'quorum 2: one success is not enough');
SELECT pg_temp.fails('f6300000-0000-4000-8000-000000000003', 2);
SELECT is(pg_temp.st('f6300000-0000-4000-8000-000000000003', 4), 'waiting_children', 'one failure: two successes are still possible');
SELECT pg_temp.done('f6300000-0000-4000-8000-000000000003', 3);
SELECT is(pg_temp.st('f6300000-0000-4000-8000-000000000003', 4), 'waiting', 'the second success satisfies the quorum');
SELECT is(pg_temp.group_of('f6300000-0000-4000-8000-000000000003', 4), 'satisfied s2 f1 k0 n3', 'group satisfied 2/3');

------------------------------------------------------------------------------
-- quorum 3 of 5, cancel_remaining: satisfied at k, the stragglers are cancelled
------------------------------------------------------------------------------
SELECT pg_temp.fan_in('f6300000-0000-4000-8000-000000000004', 6, '{"kind": "quorum", "k": 3, "on_satisfied": "cancel_remaining"}');
SELECT pg_temp.claim('f6300000-0000-4000-8000-000000000004', 5);
SELECT pg_temp.done('f6300000-0000-4000-8000-000000000004', n) FROM generate_series(1, 2) n;
SELECT is(pg_temp.st('f6300000-0000-4000-8000-000000000004', 6), 'waiting_children', 'quorum 3: two successes wait');
SELECT pg_temp.done('f6300000-0000-4000-8000-000000000004', 3);
SELECT is(pg_temp.states('f6300000-0000-4000-8000-000000000004'),
          '1:completed 2:completed 3:completed 4:cancelled 5:cancelled 6:waiting',
          'the third success fires: the join is claimable, the two stragglers (one running) cancelled');
SELECT is(pg_temp.siblings('f6300000-0000-4000-8000-000000000004', 6), 'true sibling_quorum_satisfied 0', 'sibling cancel recorded');

------------------------------------------------------------------------------
-- impossible quorum, cancel_remaining: the join is skipped, survivors cancelled
------------------------------------------------------------------------------
SELECT pg_temp.fan_in('f6300000-0000-4000-8000-000000000005', 6, '{"kind": "quorum", "k": 3, "on_satisfied": "cancel_remaining"}');
SELECT pg_temp.fails('f6300000-0000-4000-8000-000000000005', n) FROM generate_series(1, 2) n;
SELECT is(pg_temp.st('f6300000-0000-4000-8000-000000000005', 6), 'waiting_children', 'two failures of five: 3 successes still possible');
SELECT pg_temp.fails('f6300000-0000-4000-8000-000000000005', 3);
SELECT is(pg_temp.states('f6300000-0000-4000-8000-000000000005'),
          '1:failed 2:failed 3:failed 4:cancelled 5:cancelled 6:skipped',
          'the third failure makes the quorum impossible: the join is skipped, the survivors cancelled');
SELECT is((SELECT count(*) FROM ff_completion_event WHERE flow_id = 'f6300000-0000-4000-8000-000000000005'
              AND outcome = 'skipped'), 1::bigint, 'exactly one skipped completion event');
SELECT is(pg_temp.siblings('f6300000-0000-4000-8000-000000000005', 6), 'true sibling_quorum_impossible 0',
          'the sibling cancel reason is sibling_quorum_impossible');
SELECT is((SELECT cancellation_reason FROM ff_execution WHERE flow_id = 'f6300000-0000-4000-8000-000000000005'
              AND execution_id = pg_temp.uid('f6300000-0000-4000-8000-000000000005', 4)),
          'sibling_quorum_impossible', 'and so is the survivors'' cancellation_reason');

-- the same with let_run: skipped, nobody cancelled
SELECT pg_temp.fan_in('f6300000-0000-4000-8000-000000000006', 6, '{"kind": "quorum", "k": 3, "on_satisfied": "let_run"}');
SELECT pg_temp.fails('f6300000-0000-4000-8000-000000000006', n) FROM generate_series(1, 3) n;
SELECT is(pg_temp.states('f6300000-0000-4000-8000-000000000006'),
          '1:failed 2:failed 3:failed 4:waiting 5:waiting 6:skipped', 'impossible quorum, let_run: skipped, survivors run on');
SELECT is(pg_temp.siblings('f6300000-0000-4000-8000-000000000006', 6), 'false - 0', 'no sibling cancel');

------------------------------------------------------------------------------
-- any_of: every upstream fails -> impossible; a skipped upstream counts as a non-success
------------------------------------------------------------------------------
SELECT pg_temp.fan_in('f6300000-0000-4000-8000-000000000007', 3, '{"kind": "any_of", "on_satisfied": "let_run"}');
SELECT pg_temp.fails('f6300000-0000-4000-8000-000000000007', 1);
SELECT is(pg_temp.st('f6300000-0000-4000-8000-000000000007', 3), 'waiting_children', 'any_of: one failure of two waits');
SELECT pg_temp.fails('f6300000-0000-4000-8000-000000000007', 2);
SELECT is(pg_temp.st('f6300000-0000-4000-8000-000000000007', 3), 'skipped', 'any_of: all failed -> skipped');

SELECT pg_temp.fan_in('f6300000-0000-4000-8000-000000000008', 3, '{"kind": "any_of", "on_satisfied": "let_run"}');
SELECT pg_temp.member('f6300000-0000-4000-8000-000000000008', 9);
SELECT pg_temp.edge('f6300000-0000-4000-8000-000000000008', 9, 1);
SELECT pg_temp.fails('f6300000-0000-4000-8000-000000000008', 9);
SELECT is(pg_temp.group_of('f6300000-0000-4000-8000-000000000008', 3), 'pending s0 f0 k1 n2',
          'an upstream skipped by its own upstream''s failure counts as skipped');
SELECT pg_temp.done('f6300000-0000-4000-8000-000000000008', 2);
SELECT is(pg_temp.st('f6300000-0000-4000-8000-000000000008', 3), 'waiting', 'the other upstream''s success still satisfies any_of');

------------------------------------------------------------------------------
-- a quorum larger than the staged edges: impossible once every edge resolved
------------------------------------------------------------------------------
SELECT pg_temp.fan_in('f6300000-0000-4000-8000-000000000009', 3, '{"kind": "quorum", "k": 3, "on_satisfied": "let_run"}');
SELECT pg_temp.done('f6300000-0000-4000-8000-000000000009', 1);
SELECT is(pg_temp.st('f6300000-0000-4000-8000-000000000009', 3), 'waiting_children',
          'quorum 3 over 2 edges: pending while an edge is unresolved (more edges may come)');
SELECT pg_temp.done('f6300000-0000-4000-8000-000000000009', 2);
SELECT is(pg_temp.st('f6300000-0000-4000-8000-000000000009', 3), 'skipped', 'all edges resolved short of k: skipped');

------------------------------------------------------------------------------
-- a quorum of 1 among 50 cancels the other 49
------------------------------------------------------------------------------
SELECT pg_temp.fan_in('f6300000-0000-4000-8000-000000000010', 51, '{"kind": "quorum", "k": 1, "on_satisfied": "cancel_remaining"}');
SELECT pg_temp.claim('f6300000-0000-4000-8000-000000000010', n) FROM generate_series(2, 26) n;
SELECT pg_temp.done('f6300000-0000-4000-8000-000000000010', 1);
SELECT is((SELECT count(*) FROM ff_execution WHERE flow_id = 'f6300000-0000-4000-8000-000000000010' AND public_state = 'cancelled'
              AND cancellation_reason = 'sibling_quorum_satisfied'), 49::bigint, 'quorum(1 of 50): 49 siblings cancelled');
SELECT is((SELECT count(*) FROM ff_lease_event l JOIN ff_execution e USING (partition_key, execution_id)
            WHERE e.flow_id = 'f6300000-0000-4000-8000-000000000010' AND l.event_type = 'revoked'),
          25::bigint, '... the 25 running ones with their leases revoked');
SELECT is(pg_temp.st('f6300000-0000-4000-8000-000000000010', 51), 'waiting', 'the join is claimable');
SELECT is(pg_temp.group_of('f6300000-0000-4000-8000-000000000010', 51), 'satisfied s1 f49 k0 n50', 'all 50 edges resolved');

------------------------------------------------------------------------------
-- describe_flow reports policy and state per group
------------------------------------------------------------------------------
SELECT is((SELECT g FROM ff_describe_flow('f6300000-0000-4000-8000-000000000005'), jsonb_array_elements(edge_groups) g)
              - 'state_changed_at_ms',
          jsonb_build_object('downstream_execution_id', pg_temp.id('f6300000-0000-4000-8000-000000000005', 6),
                             'policy', '{"kind": "quorum", "k": 3, "on_satisfied": "cancel_remaining"}'::jsonb,
                             'group_state', 'impossible', 'k_target', 3, 'total_deps', 5, 'applied_count', 5,
                             'satisfied_count', 0, 'failed_count', 5, 'skipped_count', 0, 'running_count', 0,
                             'cancel_siblings_fired', true, 'cancel_siblings_reason', 'sibling_quorum_impossible',
                             'cancel_siblings_pending', '[]'::jsonb),
          'describe_flow: an impossible quorum group with its counters and sibling cancel');
SELECT is((SELECT g->'policy' FROM ff_describe_flow('f6300000-0000-4000-8000-000000000002'), jsonb_array_elements(edge_groups) g),
          '{"kind": "any_of", "on_satisfied": "let_run"}'::jsonb, 'describe_flow: any_of let_run');

SELECT is_empty($$SELECT * FROM pg_temp.violations()$$, 'invariants hold after all policy cascades');
SELECT * FROM finish();
ROLLBACK;

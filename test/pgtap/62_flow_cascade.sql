-- Flows: the completion cascade. Diamond, fan-out 100 and fan-in 100, a
-- 10-level chain where a failure skips every descendant, every terminal
-- outcome as an upstream (complete, fail, cancel, expire, skip), delayed
-- children, data passing, replays counted once, and the invariants that must
-- hold after every cascade.
BEGIN;
SELECT plan(55);
\ir 60_flow_helpers.inc

------------------------------------------------------------------------------
-- Diamond: 1 -> 2, 1 -> 3, 2 -> 4, 3 -> 4
------------------------------------------------------------------------------
SELECT ff_create_flow('f6200000-0000-4000-8000-000000000001');
SELECT pg_temp.member('f6200000-0000-4000-8000-000000000001', n) FROM generate_series(1, 4) n;
SELECT pg_temp.edge('f6200000-0000-4000-8000-000000000001', u, d) FROM (VALUES (1, 2), (1, 3), (2, 4), (3, 4)) v(u, d);
SELECT is(pg_temp.states('f6200000-0000-4000-8000-000000000001'),
          '1:waiting 2:waiting_children 3:waiting_children 4:waiting_children', 'diamond built: only the root is claimable');
SELECT is((SELECT public_flow_state FROM ff_describe_flow('f6200000-0000-4000-8000-000000000001')), 'blocked',
          'flow state blocked (members waiting for children, none active)');
SELECT pg_temp.claim('f6200000-0000-4000-8000-000000000001', 1);
SELECT is((SELECT public_flow_state FROM ff_describe_flow('f6200000-0000-4000-8000-000000000001')), 'running',
          'flow state running once a member is active');
SELECT ff_complete(pg_temp.h('f6200000-0000-4000-8000-000000000001', 1));
SELECT is(pg_temp.states('f6200000-0000-4000-8000-000000000001'),
          '1:completed 2:waiting 3:waiting 4:waiting_children', 'root completed: both branches claimable in the same transaction');
SELECT results_eq($$SELECT lifecycle_phase, ownership_state, eligibility_state, blocking_reason, attempt_state, blocking_detail
                      FROM ff_execution WHERE execution_id = pg_temp.uid('f6200000-0000-4000-8000-000000000001', 2)$$,
                  $$VALUES ('runnable'::text, 'unowned'::text, 'eligible_now'::text, 'waiting_for_worker'::text,
                            'pending_first_attempt'::text, NULL::text)$$,
                  'a promoted child: runnable/unowned/eligible_now/waiting_for_worker, attempt state kept');
SELECT is(pg_temp.group_of('f6200000-0000-4000-8000-000000000001', 2), 'satisfied s1 f0 k0 n1', 'its group is satisfied');
SELECT pg_temp.done('f6200000-0000-4000-8000-000000000001', 2);
SELECT is(pg_temp.st('f6200000-0000-4000-8000-000000000001', 4), 'waiting_children', 'one of two parents done: the join still waits');
SELECT is(pg_temp.group_of('f6200000-0000-4000-8000-000000000001', 4), 'pending s1 f0 k0 n2', 'its group: 1 of 2');
SELECT pg_temp.done('f6200000-0000-4000-8000-000000000001', 3);
SELECT is(pg_temp.st('f6200000-0000-4000-8000-000000000001', 4), 'waiting', 'both parents done: the join is claimable');
SELECT pg_temp.done('f6200000-0000-4000-8000-000000000001', 4);
SELECT is(pg_temp.events('f6200000-0000-4000-8000-000000000001'), '1:success 2:success 3:success 4:success',
          'one success completion event per member');
SELECT is((SELECT public_flow_state FROM ff_describe_flow('f6200000-0000-4000-8000-000000000001')), 'completed',
          'the flow is completed');
SELECT is((SELECT jsonb_agg(g->>'group_state') FROM ff_describe_flow('f6200000-0000-4000-8000-000000000001'), jsonb_array_elements(edge_groups) g),
          '["satisfied", "satisfied", "satisfied"]'::jsonb, 'describe_flow: every group satisfied');

-- the same diamond where one branch fails: the join is skipped, the other branch runs on
SELECT ff_create_flow('f6200000-0000-4000-8000-000000000002');
SELECT pg_temp.member('f6200000-0000-4000-8000-000000000002', n) FROM generate_series(1, 4) n;
SELECT pg_temp.edge('f6200000-0000-4000-8000-000000000002', u, d) FROM (VALUES (1, 2), (1, 3), (2, 4), (3, 4)) v(u, d);
SELECT pg_temp.done('f6200000-0000-4000-8000-000000000002', 1);
SELECT pg_temp.fails('f6200000-0000-4000-8000-000000000002', 2);
SELECT is(pg_temp.states('f6200000-0000-4000-8000-000000000002'), '1:completed 2:failed 3:waiting 4:skipped',
          'a failed branch skips the join at once; the other branch is unaffected');
SELECT results_eq($$SELECT lifecycle_phase, ownership_state, eligibility_state, blocking_reason, terminal_outcome,
                           attempt_state, terminal_at_ms > 0
                      FROM ff_execution WHERE execution_id = pg_temp.uid('f6200000-0000-4000-8000-000000000002', 4)$$,
                  $$VALUES ('terminal'::text, 'unowned'::text, 'not_applicable'::text, 'none'::text, 'skipped'::text,
                            'pending_first_attempt'::text, true)$$,
                  'skipped: terminal/unowned/not_applicable/none/skipped (never ran: attempt state kept)');
SELECT is(pg_temp.group_of('f6200000-0000-4000-8000-000000000002', 4), 'impossible s0 f1 k0 n2', 'the join''s group is impossible');
SELECT pg_temp.done('f6200000-0000-4000-8000-000000000002', 3);
SELECT is(pg_temp.group_of('f6200000-0000-4000-8000-000000000002', 4), 'impossible s1 f1 k0 n2',
          'a later success still counts, the group stays impossible');
SELECT is(pg_temp.events('f6200000-0000-4000-8000-000000000002'), '1:success 2:failed 4:skipped 3:success',
          'events: the skip is published in the failing transaction');
SELECT is((SELECT public_flow_state FROM ff_describe_flow('f6200000-0000-4000-8000-000000000002')), 'failed',
          'all members terminal with a failure: the flow is failed');

------------------------------------------------------------------------------
-- Fan-out 100 and fan-in 100
------------------------------------------------------------------------------
SELECT ff_create_flow('f6200000-0000-4000-8000-000000000003');
SELECT pg_temp.member('f6200000-0000-4000-8000-000000000003', n) FROM generate_series(1, 102) n;
SELECT count(pg_temp.edge('f6200000-0000-4000-8000-000000000003', 1, n)) FROM generate_series(2, 101) n;
SELECT count(pg_temp.edge('f6200000-0000-4000-8000-000000000003', n, 102)) FROM generate_series(2, 101) n;
SELECT is((SELECT count(*) FROM ff_execution WHERE flow_id = 'f6200000-0000-4000-8000-000000000003' AND public_state = 'waiting_children'),
          101::bigint, 'fan-out/fan-in built: 101 members wait');
SELECT pg_temp.done('f6200000-0000-4000-8000-000000000003', 1);
SELECT is((SELECT count(*) FROM ff_execution WHERE flow_id = 'f6200000-0000-4000-8000-000000000003'
              AND public_state = 'waiting' AND eligibility_state = 'eligible_now'),
          100::bigint, 'the root completed: all 100 children claimable in the same transaction');
SELECT is((SELECT count(*) FROM ff_edge WHERE flow_id = 'f6200000-0000-4000-8000-000000000003' AND resolution = 'success'),
          100::bigint, '100 edges resolved success');
SELECT count(pg_temp.done('f6200000-0000-4000-8000-000000000003', n)) FROM generate_series(2, 100) n;
SELECT is(pg_temp.group_of('f6200000-0000-4000-8000-000000000003', 102), 'pending s99 f0 k0 n100', 'fan-in: 99 of 100 done');
SELECT is(pg_temp.st('f6200000-0000-4000-8000-000000000003', 102), 'waiting_children', 'the sink still waits');
SELECT pg_temp.done('f6200000-0000-4000-8000-000000000003', 101);
SELECT is(pg_temp.st('f6200000-0000-4000-8000-000000000003', 102), 'waiting', 'the 100th completes: the sink is claimable');
SELECT is((SELECT count(*) FROM ff_completion_event WHERE flow_id = 'f6200000-0000-4000-8000-000000000003'), 101::bigint,
          '101 completion events (no duplicates)');

------------------------------------------------------------------------------
-- A 10-level chain: the root fails, all nine descendants are skipped in one transaction
------------------------------------------------------------------------------
SELECT ff_create_flow('f6200000-0000-4000-8000-000000000004');
SELECT pg_temp.member('f6200000-0000-4000-8000-000000000004', n) FROM generate_series(1, 10) n;
SELECT pg_temp.edge('f6200000-0000-4000-8000-000000000004', n, n + 1) FROM generate_series(1, 9) n;
SELECT pg_temp.fails('f6200000-0000-4000-8000-000000000004', 1);
SELECT is(pg_temp.states('f6200000-0000-4000-8000-000000000004'),
          '1:failed 2:skipped 3:skipped 4:skipped 5:skipped 6:skipped 7:skipped 8:skipped 9:skipped 10:skipped',
          'the failure skips every descendant');
SELECT is(pg_temp.events('f6200000-0000-4000-8000-000000000004'),
          '1:failed 2:skipped 3:skipped 4:skipped 5:skipped 6:skipped 7:skipped 8:skipped 9:skipped 10:skipped',
          'one completion event per hop, in chain order');
SELECT results_eq($$SELECT resolution, count(*) FROM ff_edge WHERE flow_id = 'f6200000-0000-4000-8000-000000000004'
                     GROUP BY 1 ORDER BY 1$$,
                  $$VALUES ('failed'::text, 1::bigint), ('skipped', 8)$$,
                  'the first edge resolved failed, the other eight skipped');
SELECT is((SELECT count(*) FROM ff_edge_group WHERE flow_id = 'f6200000-0000-4000-8000-000000000004' AND group_state = 'impossible'),
          9::bigint, 'nine impossible groups');

------------------------------------------------------------------------------
-- Every terminal outcome resolves the edge: cancel by the holder, expiry, timeout
------------------------------------------------------------------------------
SELECT ff_create_flow('f6200000-0000-4000-8000-000000000005');
SELECT pg_temp.member('f6200000-0000-4000-8000-000000000005', n) FROM generate_series(1, 6) n;
SELECT pg_temp.edge('f6200000-0000-4000-8000-000000000005', u, d) FROM (VALUES (1, 2), (3, 4), (5, 6)) v(u, d);
SELECT ff_cancel(pg_temp.claim('f6200000-0000-4000-8000-000000000005', 1), 'no longer needed');
SELECT is(pg_temp.st('f6200000-0000-4000-8000-000000000005', 2), 'skipped', 'an upstream cancelled by its holder: downstream skipped');
UPDATE ff_execution SET deadline_at_ms = 1 WHERE execution_id = pg_temp.uid('f6200000-0000-4000-8000-000000000005', 3);
SELECT ok(ff_reconcile_execution_deadline() >= 1, 'the deadline reconciler expires the upstream');
SELECT results_eq($$SELECT pg_temp.st('f6200000-0000-4000-8000-000000000005', 3), pg_temp.st('f6200000-0000-4000-8000-000000000005', 4)$$,
                  $$VALUES ('expired'::text, 'skipped'::text)$$, 'an expired upstream: downstream skipped in the reconciler''s transaction');
UPDATE ff_execution SET policy = '{"timeout_policy": {"attempt_timeout_ms": 1}}'
 WHERE execution_id = pg_temp.uid('f6200000-0000-4000-8000-000000000005', 5);
SELECT pg_temp.claim('f6200000-0000-4000-8000-000000000005', 5);
SET LOCAL flowfabric.clock_offset_ms = 10000;
SELECT ok(ff_reconcile_attempt_timeout() >= 1, 'the attempt-timeout reconciler expires the running upstream');
RESET flowfabric.clock_offset_ms;
SELECT results_eq($$SELECT pg_temp.st('f6200000-0000-4000-8000-000000000005', 5), pg_temp.st('f6200000-0000-4000-8000-000000000005', 6)$$,
                  $$VALUES ('expired'::text, 'skipped'::text)$$, 'a timed-out upstream: downstream skipped');
SELECT is(pg_temp.events('f6200000-0000-4000-8000-000000000005'),
          '1:cancelled 2:skipped 3:expired 4:skipped 5:expired 6:skipped', 'the events of each hop');

------------------------------------------------------------------------------
-- A delayed child keeps its delay; a retry in backoff is not a terminal outcome
------------------------------------------------------------------------------
SELECT ff_create_flow('f6200000-0000-4000-8000-000000000006');
SELECT pg_temp.member('f6200000-0000-4000-8000-000000000006', 1,
                      policy => '{"retry_policy": {"max_retries": 1, "backoff": {"type": "fixed", "delay_ms": 0}}}');
SELECT pg_temp.member('f6200000-0000-4000-8000-000000000006', 2, delay_until => ff_server_time_ms() + 60000);
SELECT is(pg_temp.st('f6200000-0000-4000-8000-000000000006', 2), 'delayed', 'the child starts delayed');
SELECT pg_temp.edge('f6200000-0000-4000-8000-000000000006', 1, 2);
SELECT results_eq($$SELECT public_state, delay_until_ms > ff_server_time_ms() FROM ff_execution
                     WHERE execution_id = pg_temp.uid('f6200000-0000-4000-8000-000000000006', 2)$$,
                  $$VALUES ('waiting_children'::text, true)$$, 'a delayed child is blocked too; its delay is remembered');
SELECT is(ff_reconcile_delayed_promotion(), 0, 'the promotion reconciler leaves a blocked child alone');
SELECT ff_fail(pg_temp.claim('f6200000-0000-4000-8000-000000000006', 1), 'flaky', 'transient');
SELECT results_eq($$SELECT pg_temp.st('f6200000-0000-4000-8000-000000000006', 1), pg_temp.st('f6200000-0000-4000-8000-000000000006', 2),
                           (SELECT count(*) FROM ff_edge WHERE flow_id = 'f6200000-0000-4000-8000-000000000006' AND resolution IS NOT NULL)$$,
                  $$VALUES ('waiting'::text, 'waiting_children'::text, 0::bigint)$$,
                  'a failure that schedules a retry resolves nothing');
SELECT pg_temp.done('f6200000-0000-4000-8000-000000000006', 1);
SELECT is(pg_temp.st('f6200000-0000-4000-8000-000000000006', 2), 'delayed', 'the upstream completed: the child goes back to its delay');
SET LOCAL flowfabric.clock_offset_ms = 61000;
SELECT is(ff_reconcile_delayed_promotion(), 1, 'after the delay the promotion reconciler releases it');
RESET flowfabric.clock_offset_ms;
SELECT is(pg_temp.st('f6200000-0000-4000-8000-000000000006', 2), 'waiting', 'the child is claimable');

------------------------------------------------------------------------------
-- Data passing: an edge with data_passing_ref hands the upstream's result on
------------------------------------------------------------------------------
SELECT ff_create_flow('f6200000-0000-4000-8000-000000000007');
SELECT pg_temp.member('f6200000-0000-4000-8000-000000000007', n) FROM generate_series(1, 3) n;
SELECT ff_stage_dependency_edge('f6200000-0000-4000-8000-000000000007', pg_temp.eid('f6200000-0000-4000-8000-000000000007', 1, 2),
                                pg_temp.id('f6200000-0000-4000-8000-000000000007', 1), pg_temp.id('f6200000-0000-4000-8000-000000000007', 2),
                                3, data_passing_ref => 'result');
SELECT ff_apply_dependency_to_child('f6200000-0000-4000-8000-000000000007', pg_temp.eid('f6200000-0000-4000-8000-000000000007', 1, 2),
                                    pg_temp.id('f6200000-0000-4000-8000-000000000007', 2));
SELECT pg_temp.edge('f6200000-0000-4000-8000-000000000007', 1, 3);
SELECT pg_temp.done('f6200000-0000-4000-8000-000000000007', 1, 'the answer'::bytea);
SELECT is((SELECT convert_from(input_payload, 'UTF8') FROM ff_read_execution_context(pg_temp.id('f6200000-0000-4000-8000-000000000007', 2))),
          'the answer', 'the child of a data-passing edge gets the upstream''s result as its input');
SELECT is((SELECT input_payload FROM ff_read_execution_context(pg_temp.id('f6200000-0000-4000-8000-000000000007', 3))),
          ''::bytea, 'a plain edge passes nothing');

------------------------------------------------------------------------------
-- Replays: the same completion applied twice counts once
------------------------------------------------------------------------------
SELECT ff_create_flow('f6200000-0000-4000-8000-000000000008');
SELECT pg_temp.member('f6200000-0000-4000-8000-000000000008', n) FROM generate_series(1, 3) n;
SELECT pg_temp.edge('f6200000-0000-4000-8000-000000000008', u, 3) FROM generate_series(1, 2) u;
SELECT pg_temp.claim('f6200000-0000-4000-8000-000000000008', 1);
SELECT ff_complete(pg_temp.h('f6200000-0000-4000-8000-000000000008', 1));
SELECT lives_ok($$SELECT ff_complete(pg_temp.h('f6200000-0000-4000-8000-000000000008', 1))$$,
                'the worker completes again with the same handle (a lost reply)');
SELECT is(pg_temp.group_of('f6200000-0000-4000-8000-000000000008', 3), 'pending s1 f0 k0 n2', 'counted once');
SELECT is(ff_reconcile_dependencies(), 0, 'the dependency reconciler finds nothing left to resolve');
SELECT is(pg_temp.group_of('f6200000-0000-4000-8000-000000000008', 3), 'pending s1 f0 k0 n2', 'still counted once');
SELECT is(ff_reconcile_dependencies(), 0, 'running it again changes nothing');
SELECT is(pg_temp.events('f6200000-0000-4000-8000-000000000008'), '1:success', 'one completion event');
SELECT pg_temp.done('f6200000-0000-4000-8000-000000000008', 2);
SELECT is(pg_temp.group_of('f6200000-0000-4000-8000-000000000008', 3), 'satisfied s2 f0 k0 n2', 'the second parent makes it');
SELECT is(pg_temp.st('f6200000-0000-4000-8000-000000000008', 3), 'waiting', 'the child is claimable');

------------------------------------------------------------------------------
-- Invariants over everything above
------------------------------------------------------------------------------
SELECT is_empty($$SELECT * FROM pg_temp.violations()$$, 'state-vector and cascade invariants hold after all cascades');
SELECT is((SELECT count(*) FROM ff_execution WHERE flow_id IS NOT NULL AND eligibility_state = 'blocked_by_dependencies'
              AND NOT EXISTS (SELECT 1 FROM ff_edge e WHERE e.downstream_execution_id = ff_execution.execution_id
                                 AND e.resolution IS NULL)),
          0::bigint, 'no execution is blocked without an unresolved edge');
SELECT is((SELECT count(*) FROM ff_execution WHERE public_state = 'skipped' AND flow_id IS NULL), 0::bigint,
          'only flow members are ever skipped');

SELECT * FROM finish();
ROLLBACK;

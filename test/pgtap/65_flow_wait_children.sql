-- Flows: ff_wait_children. The lease holder parks its attempt until the
-- children it depends on resolve; it then resumes the same attempt under a
-- new lease. Already-satisfied and childless waits, failing children, and
-- the error paths.
BEGIN;
SELECT plan(36);
\ir 60_flow_helpers.inc

-- parent 1 spawns children 2 and 3 (edges 2 -> 1, 3 -> 1) while it runs
SELECT ff_create_flow('f6500000-0000-4000-8000-000000000001');
SELECT pg_temp.member('f6500000-0000-4000-8000-000000000001', 1);
SELECT pg_temp.claim('f6500000-0000-4000-8000-000000000001', 1);
SELECT pg_temp.member('f6500000-0000-4000-8000-000000000001', n) FROM generate_series(2, 3) n;
SELECT pg_temp.edge('f6500000-0000-4000-8000-000000000001', n, 1) FROM generate_series(2, 3) n;
SELECT is(pg_temp.st('f6500000-0000-4000-8000-000000000001', 1), 'active', 'the parent keeps running while it spawns children');
SELECT is(ff_wait_children(pg_temp.h('f6500000-0000-4000-8000-000000000001', 1)), 'waiting_children', 'wait_children: waiting_children');
SELECT results_eq($$SELECT lifecycle_phase, ownership_state, eligibility_state, blocking_reason, terminal_outcome,
                           attempt_state, public_state, blocking_detail
                      FROM ff_execution WHERE execution_id = pg_temp.uid('f6500000-0000-4000-8000-000000000001', 1)$$,
                  $$VALUES ('runnable'::text, 'unowned'::text, 'blocked_by_dependencies'::text, 'waiting_for_children'::text,
                            'none'::text, 'attempt_interrupted'::text, 'waiting_children'::text,
                            'waiting for child executions to complete'::text)$$,
                  'runnable/unowned/blocked_by_dependencies/waiting_for_children/none/attempt_interrupted -> waiting_children');
SELECT results_eq($$SELECT attempt_lifecycle, lease_expires_at_ms, end_reason FROM ff_attempt
                     WHERE execution_id = pg_temp.uid('f6500000-0000-4000-8000-000000000001', 1)$$,
                  $$VALUES ('suspended'::text, NULL::bigint, 'waiting_children'::text)$$, 'the attempt is parked, its lease released');
SELECT is((SELECT string_agg(event_type || ':' || coalesce(reason, ''), ',' ORDER BY event_id) FROM ff_lease_event
            WHERE execution_id = pg_temp.uid('f6500000-0000-4000-8000-000000000001', 1)),
          'acquired:,released:waiting_children', 'lease events: acquired, released (waiting_children)');
SELECT throws_ok($$SELECT ff_complete(pg_temp.h('f6500000-0000-4000-8000-000000000001', 1))$$, 'YFC11', NULL,
                 'the released handle can no longer complete');
SELECT throws_ok($$SELECT ff_wait_children(pg_temp.h('f6500000-0000-4000-8000-000000000001', 1))$$, 'YFC11', NULL,
                 '... nor wait again');
SELECT is((SELECT count(*) FROM ff_claim(pg_temp.lane('f6500000-0000-4000-8000-000000000001', 1), 'w', 'w-2')), 0::bigint,
          'the waiting parent is not claimable');
SELECT is(ff_evaluate_flow_eligibility(pg_temp.id('f6500000-0000-4000-8000-000000000001', 1)), 'blocked_by_dependencies',
          'evaluate_flow_eligibility: blocked_by_dependencies');
SELECT pg_temp.done('f6500000-0000-4000-8000-000000000001', 2);
SELECT is(pg_temp.st('f6500000-0000-4000-8000-000000000001', 1), 'waiting_children', 'one child done: still waiting');
SELECT pg_temp.done('f6500000-0000-4000-8000-000000000001', 3);
SELECT results_eq($$SELECT public_state, eligibility_state, attempt_state FROM ff_execution
                     WHERE execution_id = pg_temp.uid('f6500000-0000-4000-8000-000000000001', 1)$$,
                  $$VALUES ('waiting'::text, 'eligible_now'::text, 'attempt_interrupted'::text)$$,
                  'both children done: the parent is claimable, its attempt still interrupted');
CREATE TEMP TABLE first_attempt AS SELECT attempt_id FROM ff_attempt WHERE execution_id = pg_temp.uid('f6500000-0000-4000-8000-000000000001', 1);
SELECT pg_temp.claim('f6500000-0000-4000-8000-000000000001', 1);
SELECT results_eq($$SELECT d.attempt_index, d.lease_epoch, a.attempt_id = (SELECT attempt_id FROM first_attempt), a.attempt_lifecycle,
                           (SELECT count(*) FROM ff_attempt WHERE execution_id = pg_temp.uid('f6500000-0000-4000-8000-000000000001', 1))
                      FROM ff_handle_describe(pg_temp.h('f6500000-0000-4000-8000-000000000001', 1)) d
                      JOIN ff_attempt a ON a.execution_id = pg_temp.uid('f6500000-0000-4000-8000-000000000001', 1)$$,
                  $$VALUES (0::bigint, 2::bigint, true, 'started'::text, 1::bigint)$$,
                  'the claim resumes the same attempt (index 0, same attempt id) under epoch 2');
-- a second generation: the satisfied group re-opens for a new child
SELECT pg_temp.member('f6500000-0000-4000-8000-000000000001', 4);
SELECT pg_temp.edge('f6500000-0000-4000-8000-000000000001', 4, 1);
SELECT is(pg_temp.group_of('f6500000-0000-4000-8000-000000000001', 1), 'pending s2 f0 k0 n3',
          'the resumed parent adds a child: its group is pending again');
SELECT is(ff_wait_children(pg_temp.h('f6500000-0000-4000-8000-000000000001', 1)), 'waiting_children', 'and it waits again');
SELECT pg_temp.done('f6500000-0000-4000-8000-000000000001', 4);
SELECT is(pg_temp.st('f6500000-0000-4000-8000-000000000001', 1), 'waiting', 'the new child done: claimable again');
SELECT pg_temp.claim('f6500000-0000-4000-8000-000000000001', 1);
SELECT is((SELECT attempt_index || '/' || lease_epoch FROM ff_handle_describe(pg_temp.h('f6500000-0000-4000-8000-000000000001', 1))),
          '0/3', 'still attempt 0, epoch 3');
SELECT lives_ok($$SELECT ff_complete(pg_temp.h('f6500000-0000-4000-8000-000000000001', 1))$$, 'the resumed parent completes');
SELECT is(pg_temp.states('f6500000-0000-4000-8000-000000000001'), '1:completed 2:completed 3:completed 4:completed', 'the family is done');

------------------------------------------------------------------------------
-- children already done, or none at all: claimable at once
------------------------------------------------------------------------------
SELECT ff_create_flow('f6500000-0000-4000-8000-000000000002');
SELECT pg_temp.member('f6500000-0000-4000-8000-000000000002', n) FROM generate_series(1, 3) n;
SELECT pg_temp.claim('f6500000-0000-4000-8000-000000000002', 1);
SELECT pg_temp.edge('f6500000-0000-4000-8000-000000000002', 2, 1);
SELECT pg_temp.done('f6500000-0000-4000-8000-000000000002', 2);
SELECT is(pg_temp.group_of('f6500000-0000-4000-8000-000000000002', 1), 'satisfied s1 f0 k0 n1', 'the child finished before the parent waits');
SELECT is(ff_wait_children(pg_temp.h('f6500000-0000-4000-8000-000000000002', 1)), 'waiting', 'wait_children: claimable at once');
SELECT results_eq($$SELECT eligibility_state, blocking_reason, attempt_state FROM ff_execution
                     WHERE execution_id = pg_temp.uid('f6500000-0000-4000-8000-000000000002', 1)$$,
                  $$VALUES ('eligible_now'::text, 'waiting_for_worker'::text, 'attempt_interrupted'::text)$$,
                  'eligible_now, attempt interrupted');
SELECT pg_temp.claim('f6500000-0000-4000-8000-000000000002', 1);
SELECT is((SELECT attempt_index FROM ff_handle_describe(pg_temp.h('f6500000-0000-4000-8000-000000000002', 1))), 0::bigint,
          'and it resumes attempt 0');
SELECT is(ff_wait_children(pg_temp.h('f6500000-0000-4000-8000-000000000002', 1)), 'waiting',
          'waiting again with nothing pending: claimable at once');
SELECT pg_temp.claim('f6500000-0000-4000-8000-000000000002', 3);
SELECT is(ff_wait_children(pg_temp.h('f6500000-0000-4000-8000-000000000002', 3)), 'waiting',
          'a member without any dependencies: claimable at once');

------------------------------------------------------------------------------
-- a failing child
------------------------------------------------------------------------------
SELECT ff_create_flow('f6500000-0000-4000-8000-000000000003');
SELECT pg_temp.member('f6500000-0000-4000-8000-000000000003', n) FROM generate_series(1, 4) n;
SELECT pg_temp.claim('f6500000-0000-4000-8000-000000000003', 1);
SELECT pg_temp.edge('f6500000-0000-4000-8000-000000000003', n, 1) FROM generate_series(2, 3) n;
SELECT ff_wait_children(pg_temp.h('f6500000-0000-4000-8000-000000000003', 1));
SELECT pg_temp.fails('f6500000-0000-4000-8000-000000000003', 2);
SELECT is(pg_temp.st('f6500000-0000-4000-8000-000000000003', 1), 'skipped', 'a failing child skips the waiting parent');
SELECT results_eq($$SELECT attempt_lifecycle, end_reason FROM ff_attempt WHERE execution_id = pg_temp.uid('f6500000-0000-4000-8000-000000000003', 1)$$,
                  $$VALUES ('ended_cancelled'::text, 'dependency_impossible'::text)$$, 'its parked attempt ends (dependency_impossible)');
SELECT is((SELECT count(*) FROM ff_lease_event WHERE execution_id = pg_temp.uid('f6500000-0000-4000-8000-000000000003', 1)
              AND event_type = 'revoked'), 0::bigint, 'no lease to revoke: it was already released');
-- a child failing while the parent still runs skips the running parent
SELECT pg_temp.claim('f6500000-0000-4000-8000-000000000003', 4);
SELECT pg_temp.member('f6500000-0000-4000-8000-000000000003', 5);
SELECT pg_temp.edge('f6500000-0000-4000-8000-000000000003', 5, 4);
SELECT pg_temp.fails('f6500000-0000-4000-8000-000000000003', 5);
SELECT is(pg_temp.st('f6500000-0000-4000-8000-000000000003', 4), 'skipped', 'a child failing before the wait skips the running parent');
SELECT is((SELECT reason FROM ff_lease_event WHERE execution_id = pg_temp.uid('f6500000-0000-4000-8000-000000000003', 4)
              AND event_type = 'revoked'), 'dependency_impossible', 'its lease is revoked');
SELECT throws_ok($$SELECT ff_wait_children(pg_temp.h('f6500000-0000-4000-8000-000000000003', 4))$$, 'YFC11', NULL,
                 'the parent''s handle then gets YFC11');

------------------------------------------------------------------------------
-- errors
------------------------------------------------------------------------------
SELECT ff_create_execution('tap65-solo');
CREATE TEMP TABLE solo AS SELECT handle FROM ff_claim('tap65-solo', 'w', 'w-1');
SELECT throws_ok($$SELECT ff_wait_children((SELECT handle FROM solo))$$, 'YFS18', NULL,
                 'an execution outside any flow -> YFS18 execution_not_in_flow');
SELECT is((SELECT public_state FROM ff_execution WHERE lane_id = 'tap65-solo'), 'active', 'and it keeps its lease');
SELECT throws_ok($$SELECT ff_wait_children(NULL)$$, 'YFV01', NULL, 'NULL handle -> YFV01');
SELECT throws_ok($$SELECT ff_wait_children('\x00'::bytea)$$, 'YFV25', NULL, 'a malformed handle -> YFV25');
SET LOCAL flowfabric.clock_offset_ms = 60000;
SELECT throws_ok($$SELECT ff_wait_children((SELECT handle FROM solo))$$, 'YFS02', NULL, 'an expired lease -> YFS02');
RESET flowfabric.clock_offset_ms;

SELECT is_empty($$SELECT * FROM pg_temp.violations()$$, 'invariants hold');
SELECT * FROM finish();
ROLLBACK;

-- Flows: ff_cancel_flow under cancel_all, cancel_pending and flow_only with
-- members in every state, its wait modes and errors; ff_cancel_flow_header,
-- ff_ack_cancel_member and the cancel backlog reconciler.
BEGIN;
SELECT plan(76);
\ir 60_flow_helpers.inc

-- zoo(f): one member in every state
--   1 completed, 2 failed, 3 waiting, 4 delayed (start delay), 5 waiting_children (edge 3 -> 5),
--   6 active, 7 parked by ff_wait_children on 8 (edge 8 -> 7), 8 waiting,
--   9 active with an expired (reclaimable) lease, 10 delayed in retry backoff
CREATE FUNCTION pg_temp.zoo(f uuid) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ff_create_flow(f);
    PERFORM pg_temp.member(f, n) FROM generate_series(1, 3) n;
    PERFORM pg_temp.member(f, 4, delay_until => ff_server_time_ms() + 600000);
    PERFORM pg_temp.member(f, n) FROM generate_series(5, 9) n;
    PERFORM pg_temp.member(f, 10, policy => '{"retry_policy": {"max_retries": 3, "backoff": {"type": "fixed", "delay_ms": 600000}}}');
    PERFORM pg_temp.done(f, 1);
    PERFORM pg_temp.fails(f, 2);
    PERFORM pg_temp.edge(f, 3, 5);
    PERFORM pg_temp.claim(f, 6);
    PERFORM pg_temp.claim(f, 7);
    PERFORM pg_temp.edge(f, 8, 7);
    PERFORM ff_wait_children(pg_temp.h(f, 7));
    INSERT INTO pg_temp.handles SELECT f, 9, handle FROM ff_claim(pg_temp.lane(f, 9), 'w', 'w-1', lease_ttl_ms => 1000);
    PERFORM ff_fail(pg_temp.claim(f, 10), 'flaky', 'transient');
END $$;
CREATE FUNCTION pg_temp.expire_leases() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE n integer;
BEGIN
    SET LOCAL flowfabric.clock_offset_ms = 5000;
    n := ff_reconcile_lease_expiry();
    SET LOCAL flowfabric.clock_offset_ms = 0;
    RETURN n;
END $$;

SELECT pg_temp.zoo('f6400000-0000-4000-8000-000000000001');
SELECT pg_temp.zoo('f6400000-0000-4000-8000-000000000002');
SELECT pg_temp.zoo('f6400000-0000-4000-8000-000000000003');
SELECT is(pg_temp.expire_leases(), 3, 'the three members 9 lose their leases');
SELECT is(pg_temp.states('f6400000-0000-4000-8000-000000000001'),
          '1:completed 2:failed 3:waiting 4:delayed 5:waiting_children 6:active 7:waiting_children 8:waiting 9:active 10:delayed',
          'a flow with members in every state');
SELECT is((SELECT ownership_state || '/' || attempt_state FROM ff_execution
            WHERE execution_id = pg_temp.uid('f6400000-0000-4000-8000-000000000001', 9)),
          'lease_expired_reclaimable/attempt_interrupted', 'member 9 is active with a reclaimable lease');

------------------------------------------------------------------------------
-- cancel_all
------------------------------------------------------------------------------
CREATE TEMP TABLE t0 AS SELECT ff_server_time_ms() AS ms;
SELECT results_eq(
    $$SELECT outcome, cancellation_policy, member_execution_ids, pending_execution_ids
        FROM ff_cancel_flow('f6400000-0000-4000-8000-000000000001', 'cancel_all')$$,
    $$SELECT 'cancelled'::text, 'cancel_all'::text,
             ARRAY(SELECT pg_temp.id('f6400000-0000-4000-8000-000000000001', n) FROM generate_series(3, 10) n ORDER BY 1),
             '{}'::text[]$$,
    'cancel_all: cancelled, every non-terminal member listed, nothing pending');
SELECT is(pg_temp.states('f6400000-0000-4000-8000-000000000001'),
          '1:completed 2:failed 3:cancelled 4:cancelled 5:cancelled 6:cancelled 7:cancelled 8:cancelled 9:cancelled 10:cancelled',
          'every non-terminal member is cancelled (downstreams cancelled, not skipped); finished members untouched');
SELECT results_eq($$SELECT DISTINCT cancelled_by, cancellation_reason, terminal_at_ms >= (SELECT ms FROM t0)
                      FROM ff_execution WHERE flow_id = 'f6400000-0000-4000-8000-000000000001' AND public_state = 'cancelled'$$,
                  $$VALUES ('cancel_flow'::text, 'operator_requested'::text, true)$$,
                  'cancelled_by cancel_flow, reason operator_requested');
SELECT results_eq(
    $$SELECT public_flow_state, cancelled_at_ms >= (SELECT ms FROM t0), cancel_reason, cancellation_policy
        FROM ff_describe_flow('f6400000-0000-4000-8000-000000000001')$$,
    $$VALUES ('cancelled'::text, true, 'operator_requested'::text, 'cancel_all'::text)$$,
    'describe_flow: cancelled, cancelled_at, reason, policy');
SELECT is(pg_temp.events('f6400000-0000-4000-8000-000000000001'),
          '1:success 2:failed 3:cancelled 4:cancelled 5:cancelled 6:cancelled 7:cancelled 8:cancelled 9:cancelled 10:cancelled',
          'a cancelled completion event per cancelled member');
SELECT is((SELECT string_agg(right(execution_id::text, 3)::int || ':' || reason, ' ' ORDER BY event_id) FROM ff_lease_event
            WHERE event_type = 'revoked' AND execution_id IN (SELECT execution_id FROM ff_execution WHERE flow_id = 'f6400000-0000-4000-8000-000000000001')),
          '6:flow_cancelled', 'the one live lease (member 6) is revoked');
SELECT results_eq($$SELECT right(execution_id::text, 3)::int, attempt_lifecycle, lease_expires_at_ms FROM ff_attempt
                     WHERE execution_id IN (SELECT execution_id FROM ff_execution WHERE flow_id = 'f6400000-0000-4000-8000-000000000001')
                       AND right(execution_id::text, 3)::int IN (6, 7, 9, 10) ORDER BY 1$$,
                  $$VALUES (6, 'ended_cancelled'::text, NULL::bigint), (7, 'ended_cancelled', NULL),
                           (9, 'interrupted_reclaimed', NULL), (10, 'ended_failure', NULL)$$,
                  'attempts: running and parked ones ended cancelled; already ended ones kept');
SELECT throws_ok($$SELECT ff_complete(pg_temp.h('f6400000-0000-4000-8000-000000000001', 6))$$, 'YFC11', NULL,
                 'the running member''s worker gets YFC11');
SELECT throws_ok($$SELECT ff_complete(pg_temp.h('f6400000-0000-4000-8000-000000000001', 9))$$, 'YFC11', NULL,
                 'the expired lease''s worker gets YFC11 too');
SELECT is((SELECT count(*) FROM ff_claim(pg_temp.lane('f6400000-0000-4000-8000-000000000001', 9), 'w', 'w-2')), 0::bigint,
          'a cancelled member is no longer reclaimable');
SELECT is((SELECT count(*) FROM ff_cancel_backlog), 0::bigint, 'no backlog: every member was cancelled in the call');
SELECT results_eq($$SELECT outcome, member_execution_ids FROM ff_cancel_flow('f6400000-0000-4000-8000-000000000001', 'cancel_all')$$,
                  $$VALUES ('cancelled'::text, '{}'::text[])$$, 'cancelling again: cancelled, nothing left to cancel');
SELECT is((SELECT count(*) FROM ff_completion_event WHERE flow_id = 'f6400000-0000-4000-8000-000000000001'), 10::bigint,
          'and no second event for anyone');
SELECT is_empty($$SELECT * FROM pg_temp.violations()$$, 'invariants hold after cancel_all');

------------------------------------------------------------------------------
-- cancel_pending: everything but the members running under a lease
------------------------------------------------------------------------------
SELECT results_eq(
    $$SELECT outcome, member_execution_ids FROM ff_cancel_flow('f6400000-0000-4000-8000-000000000002', 'cancel_pending',
                                                                reason => 'shutting down')$$,
    $$SELECT 'cancelled'::text,
             ARRAY(SELECT pg_temp.id('f6400000-0000-4000-8000-000000000002', n) FROM unnest(ARRAY[3, 4, 5, 7, 8, 10]) n ORDER BY 1)$$,
    'cancel_pending: the waiting, delayed, blocked and parked members');
SELECT is(pg_temp.states('f6400000-0000-4000-8000-000000000002'),
          '1:completed 2:failed 3:cancelled 4:cancelled 5:cancelled 6:active 7:cancelled 8:cancelled 9:active 10:cancelled',
          'the active members are left to drain');
SELECT is((SELECT DISTINCT cancellation_reason FROM ff_execution WHERE flow_id = 'f6400000-0000-4000-8000-000000000002' AND public_state = 'cancelled'),
          'shutting down', 'the given reason is recorded');
SELECT lives_ok($$SELECT ff_complete(pg_temp.h('f6400000-0000-4000-8000-000000000002', 6))$$, 'a running member completes normally');
SELECT is(pg_temp.st('f6400000-0000-4000-8000-000000000002', 6), 'completed', 'completed');
SELECT is((SELECT cancellation_policy FROM ff_describe_flow('f6400000-0000-4000-8000-000000000002')), 'cancel_pending', 'policy recorded');

------------------------------------------------------------------------------
-- flow_only: the flow is cancelled, its members run on
------------------------------------------------------------------------------
SELECT results_eq($$SELECT outcome, cancellation_policy, member_execution_ids FROM ff_cancel_flow('f6400000-0000-4000-8000-000000000003', 'flow_only')$$,
                  $$VALUES ('cancelled'::text, 'flow_only'::text, '{}'::text[])$$, 'flow_only: no member cancelled');
SELECT is(pg_temp.states('f6400000-0000-4000-8000-000000000003'),
          '1:completed 2:failed 3:waiting 4:delayed 5:waiting_children 6:active 7:waiting_children 8:waiting 9:active 10:delayed',
          'every member keeps its state');
SELECT pg_temp.done('f6400000-0000-4000-8000-000000000003', 3);
SELECT is(pg_temp.st('f6400000-0000-4000-8000-000000000003', 5), 'waiting', 'the cascade still runs in a flow_only-cancelled flow');
SELECT is((SELECT public_flow_state FROM ff_describe_flow('f6400000-0000-4000-8000-000000000003')), 'cancelled', 'the flow is cancelled');
SELECT results_eq($$SELECT outcome FROM ff_cancel_flow('f6400000-0000-4000-8000-000000000003', 'cancel_flow_only')$$,
                  $$VALUES ('cancelled'::text)$$, 'upstream''s spelling cancel_flow_only is accepted');

------------------------------------------------------------------------------
-- wait modes (all members free: the same answer) and errors
------------------------------------------------------------------------------
SELECT ff_create_flow('f6400000-0000-4000-8000-000000000004');
SELECT pg_temp.member('f6400000-0000-4000-8000-000000000004', n) FROM generate_series(1, 2) n;
SELECT results_eq($$SELECT outcome, cardinality(member_execution_ids) FROM ff_cancel_flow('f6400000-0000-4000-8000-000000000004', 'cancel_all',
                                                   wait => 'wait_timeout', wait_timeout_ms => 500)$$,
                  $$VALUES ('cancelled'::text, 2)$$, 'wait_timeout: cancelled');
SELECT ff_create_flow('f6400000-0000-4000-8000-000000000005');
SELECT results_eq($$SELECT outcome, member_execution_ids FROM ff_cancel_flow('f6400000-0000-4000-8000-000000000005', 'cancel_all', wait => 'wait_indefinite')$$,
                  $$VALUES ('cancelled'::text, '{}'::text[])$$, 'wait_indefinite on a memberless flow: cancelled');
SELECT is((SELECT public_flow_state FROM ff_describe_flow('f6400000-0000-4000-8000-000000000005')), 'cancelled', 'and it is cancelled');
SELECT throws_ok($$SELECT * FROM ff_cancel_flow('00000000-0000-0000-0000-0000000000ff')$$, 'YFN02', NULL, 'unknown flow -> YFN02');
SELECT throws_ok($$SELECT * FROM ff_cancel_flow(NULL)$$, 'YFV01', NULL, 'NULL flow -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_cancel_flow('f6400000-0000-4000-8000-000000000005', 'cancel_some')$$, 'YFV01', NULL, 'unknown policy -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_cancel_flow('f6400000-0000-4000-8000-000000000005', wait => 'forever')$$, 'YFV01', NULL, 'unknown wait mode -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_cancel_flow('f6400000-0000-4000-8000-000000000005', wait => 'wait_timeout')$$, 'YFV01', NULL,
                 'wait_timeout without wait_timeout_ms -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_cancel_flow('f6400000-0000-4000-8000-000000000005', wait => 'wait_timeout', wait_timeout_ms => 0)$$,
                 'YFV01', NULL, 'wait_timeout_ms 0 -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_cancel_flow('f6400000-0000-4000-8000-000000000005', wait => 'wait_timeout', wait_timeout_ms => 300001)$$,
                 'YFV01', NULL, 'wait_timeout_ms above 300000 -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_cancel_flow('f6400000-0000-4000-8000-000000000005', wait_timeout_ms => 10)$$, 'YFV01', NULL,
                 'wait_timeout_ms with no_wait -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_cancel_flow('f6400000-0000-4000-8000-000000000005', reason => NULL)$$, 'YFV01', NULL, 'NULL reason -> YFV01');

------------------------------------------------------------------------------
-- cancel_flow_header and ack_cancel_member
------------------------------------------------------------------------------
SELECT ff_create_flow('f6400000-0000-4000-8000-000000000006');
SELECT pg_temp.member('f6400000-0000-4000-8000-000000000006', n) FROM generate_series(1, 3) n;
SELECT pg_temp.done('f6400000-0000-4000-8000-000000000006', 1);
SELECT pg_temp.claim('f6400000-0000-4000-8000-000000000006', n) FROM generate_series(2, 3) n;
SELECT results_eq(
    $$SELECT outcome, cancellation_policy, cancel_reason, member_execution_ids
        FROM ff_cancel_flow_header('f6400000-0000-4000-8000-000000000006', 'operator stop', 'cancel_all')$$,
    $$SELECT 'cancelled'::text, 'cancel_all'::text, 'operator stop'::text,
             ARRAY[pg_temp.id('f6400000-0000-4000-8000-000000000006', 2), pg_temp.id('f6400000-0000-4000-8000-000000000006', 3)]$$,
    'header cancel_all: cancelled, the two in-flight members listed');
SELECT results_eq($$SELECT requester, reason, cancellation_policy, grace_until_ms - requested_at_ms FROM ff_cancel_backlog
                     WHERE flow_id = 'f6400000-0000-4000-8000-000000000006'$$,
                  $$VALUES ('cancel_flow_header'::text, 'operator stop'::text, 'cancel_all'::text, 30000::bigint)$$,
                  'one backlog header with a 30 s grace period');
SELECT is((SELECT count(*) FROM ff_cancel_backlog_member WHERE flow_id = 'f6400000-0000-4000-8000-000000000006'), 2::bigint,
          'two backlog member rows (they owe an ack)');
SELECT is(pg_temp.states('f6400000-0000-4000-8000-000000000006'), '1:completed 2:cancelled 3:cancelled',
          'the in-flight members are cancelled in the same transaction');
SELECT results_eq($$SELECT DISTINCT e.cancelled_by, e.cancellation_reason, l.event_type, l.reason
                      FROM ff_execution e JOIN ff_lease_event l USING (partition_key, execution_id)
                     WHERE e.flow_id = 'f6400000-0000-4000-8000-000000000006' AND e.public_state = 'cancelled' AND l.event_type = 'revoked'$$,
                  $$VALUES ('cancel_flow_header'::text, 'operator stop'::text, 'revoked'::text, 'flow_cancelled'::text)$$,
                  'with full side effects: cancelled_by cancel_flow_header, leases revoked');
SELECT is(pg_temp.events('f6400000-0000-4000-8000-000000000006'), '1:success 2:cancelled 3:cancelled', 'and cancelled completion events');
SELECT results_eq(
    $$SELECT outcome, cancellation_policy, cancel_reason, member_execution_ids
        FROM ff_cancel_flow_header('f6400000-0000-4000-8000-000000000006', 'again', 'flow_only')$$,
    $$SELECT 'already_terminal'::text, 'cancel_all'::text, 'operator stop'::text,
             ARRAY[pg_temp.id('f6400000-0000-4000-8000-000000000006', 2), pg_temp.id('f6400000-0000-4000-8000-000000000006', 3)]$$,
    'header again: already_terminal with the stored policy and reason, and the members still owing an ack');
SELECT lives_ok($$SELECT ff_ack_cancel_member('f6400000-0000-4000-8000-000000000006', pg_temp.id('f6400000-0000-4000-8000-000000000006', 2))$$,
                'ack the first member');
SELECT results_eq($$SELECT (SELECT count(*) FROM ff_cancel_backlog_member WHERE flow_id = 'f6400000-0000-4000-8000-000000000006'),
                           (SELECT count(*) FROM ff_cancel_backlog WHERE flow_id = 'f6400000-0000-4000-8000-000000000006')$$,
                  $$VALUES (1::bigint, 1::bigint)$$, 'one member and the header remain');
SELECT lives_ok($$SELECT ff_ack_cancel_member('f6400000-0000-4000-8000-000000000006', pg_temp.id('f6400000-0000-4000-8000-000000000006', 3))$$,
                'ack the second member');
SELECT results_eq($$SELECT (SELECT count(*) FROM ff_cancel_backlog_member WHERE flow_id = 'f6400000-0000-4000-8000-000000000006'),
                           (SELECT count(*) FROM ff_cancel_backlog WHERE flow_id = 'f6400000-0000-4000-8000-000000000006')$$,
                  $$VALUES (0::bigint, 0::bigint)$$, 'the last ack deletes the header');
SELECT lives_ok($$SELECT ff_ack_cancel_member('f6400000-0000-4000-8000-000000000006', pg_temp.id('f6400000-0000-4000-8000-000000000006', 3))$$,
                'acking again is a no-op');
SELECT lives_ok($$SELECT ff_ack_cancel_member('00000000-0000-0000-0000-0000000000ff', pg_temp.id('f6400000-0000-4000-8000-000000000006', 3))$$,
                'acking with nothing seeded is a no-op');
SELECT is((SELECT member_execution_ids FROM ff_cancel_flow_header('f6400000-0000-4000-8000-000000000006', 'again', 'cancel_all')),
          ARRAY(SELECT pg_temp.id('f6400000-0000-4000-8000-000000000006', n) FROM generate_series(1, 3) n ORDER BY 1),
          'once all acked, already_terminal lists every member');
SELECT throws_ok($$SELECT ff_ack_cancel_member('f6400000-0000-4000-8000-000000000006', 'nope')$$, 'YFV01', NULL, 'ack with a malformed id -> YFV01');
SELECT throws_ok($$SELECT ff_ack_cancel_member('f6400000-0000-4000-8000-000000000006', NULL)$$, 'YFV01', NULL, 'ack with a NULL id -> YFV01');

-- other policies only flip the flow
SELECT ff_create_flow('f6400000-0000-4000-8000-000000000007');
SELECT pg_temp.member('f6400000-0000-4000-8000-000000000007', n) FROM generate_series(1, 2) n;
SELECT pg_temp.claim('f6400000-0000-4000-8000-000000000007', 2);
SELECT results_eq($$SELECT outcome, cancellation_policy, member_execution_ids FROM ff_cancel_flow_header('f6400000-0000-4000-8000-000000000007', 'r', 'cancel_pending')$$,
                  $$SELECT 'cancelled'::text, 'cancel_pending'::text,
                           ARRAY[pg_temp.id('f6400000-0000-4000-8000-000000000007', 1), pg_temp.id('f6400000-0000-4000-8000-000000000007', 2)]$$,
                  'header cancel_pending: cancelled, members listed');
SELECT is(pg_temp.states('f6400000-0000-4000-8000-000000000007'), '1:waiting 2:active', '... but not flipped');
SELECT is((SELECT count(*) FROM ff_cancel_backlog WHERE flow_id = 'f6400000-0000-4000-8000-000000000007'), 0::bigint, '... and no backlog');
SELECT ff_cancel_flow('f6400000-0000-4000-8000-000000000005', 'flow_only', reason => 'prior');
SELECT results_eq($$SELECT outcome, cancellation_policy, cancel_reason, member_execution_ids FROM ff_cancel_flow_header('f6400000-0000-4000-8000-000000000005', 'new', 'cancel_all')$$,
                  $$VALUES ('already_terminal'::text, 'flow_only'::text, 'prior'::text, '{}'::text[])$$,
                  'header on a flow cancelled flow_only: already_terminal {flow_only, prior}');
SELECT throws_ok($$SELECT * FROM ff_cancel_flow_header('00000000-0000-0000-0000-0000000000ff', 'r', 'cancel_all')$$, 'YFN02', NULL,
                 'header on an unknown flow -> YFN02');
SELECT throws_ok($$SELECT * FROM ff_cancel_flow_header('f6400000-0000-4000-8000-000000000007', 'r', 'all')$$, 'YFV01', NULL,
                 'header with an unknown policy -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_cancel_flow_header('f6400000-0000-4000-8000-000000000007', NULL, 'cancel_all')$$, 'YFV01', NULL,
                 'header with a NULL reason -> YFV01');

------------------------------------------------------------------------------
-- the cancel backlog reconciler
------------------------------------------------------------------------------
-- a header whose members could not all be cancelled (held by other
-- transactions when it ran) leaves them in the backlog: seed that state
SELECT ff_create_flow('f6400000-0000-4000-8000-000000000008');
SELECT pg_temp.member('f6400000-0000-4000-8000-000000000008', n) FROM generate_series(1, 4) n;
SELECT pg_temp.done('f6400000-0000-4000-8000-000000000008', 1);
SELECT pg_temp.claim('f6400000-0000-4000-8000-000000000008', 4);
SELECT ff_cancel_flow('f6400000-0000-4000-8000-000000000008', 'flow_only');
INSERT INTO ff_cancel_backlog (partition_key, flow_id, requested_at_ms, requester, reason, grace_until_ms, cancellation_policy)
VALUES (ff_flow_partition('f6400000-0000-4000-8000-000000000008'), 'f6400000-0000-4000-8000-000000000008',
        ff_server_time_ms(), 'cancel_flow_header', 'late', ff_server_time_ms() + 30000, 'cancel_all');
INSERT INTO ff_cancel_backlog_member
SELECT ff_flow_partition('f6400000-0000-4000-8000-000000000008'), 'f6400000-0000-4000-8000-000000000008',
       pg_temp.uid('f6400000-0000-4000-8000-000000000008', n)
  FROM generate_series(1, 4) n;
SELECT is(ff_reconcile_cancel_backlog(), 0, 'within the grace period nothing is drained');
SELECT is(pg_temp.states('f6400000-0000-4000-8000-000000000008'), '1:completed 2:waiting 3:waiting 4:active', 'nothing changed');
SET LOCAL flowfabric.clock_offset_ms = 31000;
SELECT is(ff_reconcile_cancel_backlog(batch_size => 2), 2, 'after the grace period: a batch of 2 member entries drained');
SELECT is(ff_reconcile_cancel_backlog(), 2, 'the next call drains the other 2');
SELECT is(ff_reconcile_cancel_backlog(), 0, 'nothing left');
RESET flowfabric.clock_offset_ms;
SELECT is(pg_temp.states('f6400000-0000-4000-8000-000000000008'), '1:completed 2:cancelled 3:cancelled 4:cancelled',
          'the remaining members are cancelled, the finished one left alone');
SELECT is((SELECT DISTINCT cancelled_by || '/' || cancellation_reason FROM ff_execution
            WHERE flow_id = 'f6400000-0000-4000-8000-000000000008' AND public_state = 'cancelled'),
          'cancel_flow_header/late', 'by the backlog''s requester, with its reason');
SELECT is((SELECT count(*) FROM ff_cancel_backlog WHERE flow_id = 'f6400000-0000-4000-8000-000000000008'), 0::bigint,
          'the drained header is gone');
-- a cancel_pending backlog leaves members that started running meanwhile
SELECT ff_create_flow('f6400000-0000-4000-8000-000000000009');
SELECT pg_temp.member('f6400000-0000-4000-8000-000000000009', n) FROM generate_series(1, 2) n;
SELECT pg_temp.claim('f6400000-0000-4000-8000-000000000009', 2);
INSERT INTO ff_cancel_backlog (partition_key, flow_id, requested_at_ms, requester, reason, grace_until_ms, cancellation_policy)
VALUES (ff_flow_partition('f6400000-0000-4000-8000-000000000009'), 'f6400000-0000-4000-8000-000000000009',
        ff_server_time_ms(), 'cancel_flow', 'r', ff_server_time_ms(), 'cancel_pending');
INSERT INTO ff_cancel_backlog_member
SELECT ff_flow_partition('f6400000-0000-4000-8000-000000000009'), 'f6400000-0000-4000-8000-000000000009',
       pg_temp.uid('f6400000-0000-4000-8000-000000000009', n)
  FROM generate_series(1, 2) n;
SELECT is(ff_reconcile_cancel_backlog(), 2, 'a due cancel_pending backlog: both entries drained');
SELECT is(pg_temp.states('f6400000-0000-4000-8000-000000000009'), '1:cancelled 2:active',
          'the waiting member is cancelled, the running one left to drain');
SELECT throws_ok($$SELECT ff_reconcile_cancel_backlog(0)$$, 'YFV01', NULL, 'batch_size 0 -> YFV01');
SELECT throws_ok($$SELECT ff_reconcile_cancel_backlog(100001)$$, 'YFV01', NULL, 'batch_size above 100000 -> YFV01');

SELECT is_empty($$SELECT * FROM pg_temp.violations()$$, 'invariants hold after every cancel');
SELECT * FROM finish();
ROLLBACK;

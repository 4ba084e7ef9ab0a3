-- ff_cancel by the lease holder and ff_delay: states, attempt lifecycle,
-- outbox events, replay, promotion, and the resumed attempt after a delay.
BEGIN;
SELECT plan(42);

------------------------------------------------------------------------------
-- cancel
------------------------------------------------------------------------------
SELECT ff_create_execution('tap06-cancel', execution_id => '{fp:60}:00000000-0000-4000-8000-000000000601', namespace => 'ns6');
CREATE TEMP TABLE c1 AS SELECT * FROM ff_claim('tap06-cancel', 'w1', 'wi-1');
CREATE TEMP TABLE t0 AS SELECT ff_server_time_ms() AS ms;
SELECT lives_ok($$SELECT ff_cancel((SELECT handle FROM c1), 'user asked')$$, 'the lease holder cancels');
CREATE TEMP TABLE t1 AS SELECT ff_server_time_ms() AS ms;

SELECT results_eq(
    $$SELECT lifecycle_phase, ownership_state, eligibility_state, blocking_reason, terminal_outcome,
             attempt_state, public_state, cancellation_reason, cancelled_by
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000601'$$,
    $$VALUES ('terminal'::text, 'unowned'::text, 'not_applicable'::text, 'none'::text, 'cancelled'::text,
              'attempt_terminal'::text, 'cancelled'::text, 'user asked'::text, 'lease_holder'::text)$$,
    'cancel: terminal/unowned/not_applicable/none/cancelled/attempt_terminal -> cancelled, reason and cancelled_by');
SELECT ok((SELECT terminal_at_ms BETWEEN (SELECT ms FROM t0) AND (SELECT ms FROM t1)
             FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000601'),
          'terminal_at_ms is the cancel time');
SELECT results_eq(
    $$SELECT a.attempt_lifecycle, a.lease_expires_at_ms, a.ended_at_ms = e.terminal_at_ms
        FROM ff_attempt a JOIN ff_execution e USING (partition_key, execution_id)
       WHERE a.execution_id = '00000000-0000-4000-8000-000000000601'$$,
    $$VALUES ('ended_cancelled'::text, NULL::bigint, true)$$,
    'the attempt ended_cancelled, lease cleared');
SELECT results_eq(
    $$SELECT outcome, namespace, attempt_index FROM ff_completion_event WHERE execution_id = '00000000-0000-4000-8000-000000000601'$$,
    $$VALUES ('cancelled'::text, 'ns6'::text, 0)$$,
    'one completion event: cancelled');
SELECT results_eq(
    $$SELECT event_type, reason, lease_epoch FROM ff_lease_event WHERE execution_id = '00000000-0000-4000-8000-000000000601' ORDER BY event_id$$,
    $$VALUES ('acquired'::text, NULL::text, 1::bigint), ('released', 'cancelled', 1)$$,
    'lease events: acquired, released (cancelled)');
SELECT is(ff_read_execution_state('{fp:60}:00000000-0000-4000-8000-000000000601'), 'cancelled',
          'ff_read_execution_state says cancelled');

SELECT lives_ok($$SELECT ff_cancel((SELECT handle FROM c1), 'again')$$, 'a second cancel with the same handle is a no-op');
SELECT results_eq(
    $$SELECT (SELECT count(*) FROM ff_completion_event WHERE execution_id = '00000000-0000-4000-8000-000000000601'),
             (SELECT count(*) FROM ff_lease_event WHERE execution_id = '00000000-0000-4000-8000-000000000601'),
             (SELECT cancellation_reason FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000601')$$,
    $$VALUES (1::bigint, 2::bigint, 'user asked'::text)$$,
    'the replay wrote no events and kept the first reason');
SELECT throws_ok($$SELECT ff_complete((SELECT handle FROM c1))$$, 'YFC11', NULL, 'complete after cancel -> YFC11');
SELECT throws_ok($$SELECT * FROM ff_fail((SELECT handle FROM c1), 'x')$$, 'YFC11', NULL, 'fail after cancel -> YFC11');
SELECT throws_ok($$SELECT * FROM ff_renew((SELECT handle FROM c1))$$, 'YFC11', NULL, 'renew after cancel -> YFC11');
SELECT throws_ok($$SELECT ff_delay((SELECT handle FROM c1), ff_server_time_ms() + 1000)$$, 'YFC11', NULL, 'delay after cancel -> YFC11');
SELECT is((SELECT count(*) FROM ff_claim('tap06-cancel', 'w2', 'wi-2')), 0::bigint, 'a cancelled execution is not claimable');
SELECT throws_ok($$SELECT ff_cancel(NULL, 'x')$$, 'YFV01', NULL, 'cancel with a NULL handle -> YFV01');

------------------------------------------------------------------------------
-- delay(t > now)
------------------------------------------------------------------------------
SELECT ff_create_execution('tap06-delay', execution_id => '{fp:61}:00000000-0000-4000-8000-000000000611',
                           input_payload => '\x0606'::bytea);
CREATE TEMP TABLE d1 AS SELECT * FROM ff_claim('tap06-delay', 'w1', 'wi-1');
CREATE TEMP TABLE du AS SELECT ff_server_time_ms() + 5000 AS ms;

SELECT throws_ok($$SELECT ff_delay((SELECT handle FROM d1), NULL)$$, 'YFV01', NULL, 'delay with a NULL delay_until -> YFV01');
SELECT is((SELECT public_state FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000611'),
          'active', 'the rejected delay changed nothing');

SELECT lives_ok($$SELECT ff_delay((SELECT handle FROM d1), (SELECT ms FROM du))$$, 'the holder delays the execution by 5 s');
SELECT results_eq(
    $$SELECT lifecycle_phase, ownership_state, eligibility_state, blocking_reason, terminal_outcome,
             attempt_state, public_state, delay_until_ms
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000611'$$,
    $$SELECT 'runnable'::text, 'unowned'::text, 'not_eligible_until_time'::text, 'waiting_for_delay'::text,
             'none'::text, 'attempt_interrupted'::text, 'delayed'::text, ms FROM du$$,
    'delay: runnable/unowned/not_eligible_until_time/waiting_for_delay/none/attempt_interrupted -> delayed');
SELECT results_eq(
    $$SELECT attempt_index, total_attempt_count, lease_epoch, blocking_detail LIKE 'delayed until %'
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000611'$$,
    $$VALUES (0, 1, 1::bigint, true)$$,
    'the attempt pointer, count and epoch are unchanged; blocking_detail explains the delay');
SELECT results_eq(
    $$SELECT attempt_lifecycle, lease_expires_at_ms, ended_at_ms FROM ff_attempt
       WHERE execution_id = '00000000-0000-4000-8000-000000000611'$$,
    $$VALUES ('suspended'::text, NULL::bigint, NULL::bigint)$$,
    'the attempt is suspended (not ended) and its lease released');
SELECT results_eq(
    $$SELECT event_type, reason FROM ff_lease_event WHERE execution_id = '00000000-0000-4000-8000-000000000611' ORDER BY event_id$$,
    $$VALUES ('acquired'::text, NULL::text), ('released', 'delayed')$$,
    'lease events: acquired, released (delayed)');
SELECT is((SELECT count(*) FROM ff_completion_event WHERE execution_id = '00000000-0000-4000-8000-000000000611'),
          0::bigint, 'a delay writes no completion event');
SELECT throws_ok($$SELECT * FROM ff_renew((SELECT handle FROM d1))$$, 'YFC11', NULL, 'renew while delayed -> YFC11');
SELECT throws_ok($$SELECT ff_complete((SELECT handle FROM d1))$$, 'YFC11', NULL, 'complete while delayed -> YFC11');
SELECT is((SELECT count(*) FROM ff_claim('tap06-delay', 'w2', 'wi-2')), 0::bigint, 'not claimable before delay_until');
SELECT is(ff_reconcile_delayed_promotion(), 0, 'promotion before delay_until changes nothing');

SET LOCAL flowfabric.clock_offset_ms = 6000;
SELECT is(ff_reconcile_delayed_promotion(), 1, 'promotion after delay_until promotes it');
SELECT results_eq(
    $$SELECT lifecycle_phase, eligibility_state, blocking_reason, attempt_state, public_state, delay_until_ms
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000611'$$,
    $$VALUES ('runnable'::text, 'eligible_now'::text, 'waiting_for_worker'::text, 'attempt_interrupted'::text,
              'waiting'::text, NULL::bigint)$$,
    'promoted: eligible_now/waiting_for_worker, attempt_state stays attempt_interrupted -> waiting');

CREATE TEMP TABLE d2 AS SELECT * FROM ff_claim('tap06-delay', 'w2', 'wi-2');
SELECT results_eq($$SELECT execution_id, attempt_index, lease_epoch, input_payload FROM d2$$,
                  $$VALUES ('{fp:61}:00000000-0000-4000-8000-000000000611'::text, 0, 2::bigint, '\x0606'::bytea)$$,
                  'the re-claim resumes attempt 0 under epoch 2');
SELECT results_eq(
    $$SELECT n.attempt_id = o.attempt_id, n.lease_id <> o.lease_id
        FROM d1, d2, ff_handle_describe(d1.handle) o, ff_handle_describe(d2.handle) n$$,
    $$VALUES (true, true)$$,
    'same attempt_id, new lease_id in the new handle');
SELECT results_eq(
    $$SELECT count(*), min(attempt_lifecycle), min(worker_instance_id), min(lease_epoch), bool_and(lease_expires_at_ms IS NOT NULL)
        FROM ff_attempt WHERE execution_id = '00000000-0000-4000-8000-000000000611'$$,
    $$VALUES (1::bigint, 'started'::text, 'wi-2'::text, 2::bigint, true)$$,
    'still one attempt row: started again, held by wi-2 at epoch 2');
SELECT results_eq(
    $$SELECT public_state, attempt_state, attempt_index, total_attempt_count, lease_epoch
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000611'$$,
    $$VALUES ('active'::text, 'running_attempt'::text, 0, 1, 2::bigint)$$,
    'active again on attempt 0; total_attempt_count still 1');
SELECT results_eq(
    $$SELECT event_type, lease_epoch FROM ff_lease_event WHERE execution_id = '00000000-0000-4000-8000-000000000611' ORDER BY event_id$$,
    $$VALUES ('acquired'::text, 1::bigint), ('released', 1), ('acquired', 2)$$,
    'the resume writes an acquired event at epoch 2');
SELECT throws_ok($$SELECT * FROM ff_renew((SELECT handle FROM d1))$$, 'YFS01', NULL,
                 'the pre-delay handle is stale once the attempt is resumed -> YFS01');
SELECT lives_ok($$SELECT ff_complete((SELECT handle FROM d2), '\x01'::bytea)$$, 'the resumed handle completes');
SELECT is(ff_read_execution_state('{fp:61}:00000000-0000-4000-8000-000000000611'), 'completed', 'completed');

------------------------------------------------------------------------------
-- delay(t <= now): eligible at once
------------------------------------------------------------------------------
SELECT ff_create_execution('tap06-delay-now', execution_id => '{fp:62}:00000000-0000-4000-8000-000000000621');
CREATE TEMP TABLE e1 AS SELECT * FROM ff_claim('tap06-delay-now', 'w1', 'wi-1');
SELECT lives_ok($$SELECT ff_delay((SELECT handle FROM e1), ff_server_time_ms() - 1000)$$, 'delay to a time in the past');
SELECT results_eq(
    $$SELECT lifecycle_phase, ownership_state, eligibility_state, blocking_reason, attempt_state, public_state, delay_until_ms
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000621'$$,
    $$VALUES ('runnable'::text, 'unowned'::text, 'eligible_now'::text, 'waiting_for_worker'::text,
              'attempt_interrupted'::text, 'waiting'::text, NULL::bigint)$$,
    'delay(t <= now): eligible_now/waiting_for_worker/attempt_interrupted -> waiting');
SELECT results_eq(
    $$SELECT attempt_lifecycle, lease_expires_at_ms FROM ff_attempt WHERE execution_id = '00000000-0000-4000-8000-000000000621'$$,
    $$VALUES ('suspended'::text, NULL::bigint)$$,
    'the attempt is suspended with its lease released');
SELECT is(ff_reconcile_delayed_promotion(), 0, 'nothing for the promoter to do');
SELECT results_eq($$SELECT attempt_index, lease_epoch FROM ff_claim('tap06-delay-now', 'w2', 'wi-2')$$,
                  $$VALUES (0, 2::bigint)$$,
                  'claimable at once: resumes attempt 0 at epoch 2');

SELECT * FROM finish();
ROLLBACK;

-- Suspension timeouts: every behaviour (fail, cancel, expire,
-- auto_resume_with_timeout_signal and its legacy spelling, escalate) through
-- ff_reconcile_suspension_timeout and ff_expire_suspension on the engine
-- clock; a satisfied suspension leaves nothing behind (its timeout never
-- fires); batch sizes. Suspension k times out at base + k * 10 s and the
-- clock is stepped past each in turn, so every step changes exactly one.
BEGIN;
SELECT plan(59);

DELETE FROM ff_waitpoint_hmac;
SELECT ff_seed_waitpoint_hmac_secret('kid-1', repeat('ab', 32));

CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END $$;

CREATE TEMP TABLE base AS SELECT ff_server_time_ms() AS ms;
CREATE FUNCTION pg_temp.id(k int) RETURNS text LANGUAGE sql AS $$
    SELECT format('{fp:57}:00000000-0000-4000-8000-0000000057%s', lpad(k::text, 2, '0'))
$$;
CREATE FUNCTION pg_temp.uuid(k int) RETURNS uuid LANGUAGE sql AS $$
    SELECT format('00000000-0000-4000-8000-0000000057%s', lpad(k::text, 2, '0'))::uuid
$$;
-- suspension k: one waitpoint, times out at base + k * 10 s with behaviour b
CREATE FUNCTION pg_temp.suspended(k int, b text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ff_create_execution('tap56-' || k, execution_id => pg_temp.id(k), namespace => 'ns56');
    EXECUTE format('CREATE TEMP TABLE c%s AS SELECT * FROM ff_claim(%L, ''w'', ''wi'', lease_ttl_ms => 6000000)', k, 'tap56-' || k);
    EXECUTE format('CREATE TEMP TABLE wp%s AS SELECT * FROM ff_suspend((SELECT handle FROM c%s), ''["wpk:a", "wpk:b"]'',
                        timeout_at => (SELECT ms FROM base) + %s, timeout_behavior => %L)', k, k, k * 10000, b);
END $$;
CREATE FUNCTION pg_temp.at(k int) RETURNS void LANGUAGE sql AS $$
    SELECT set_config('flowfabric.clock_offset_ms', (k * 10000 + 500)::text, true)
$$;
CREATE FUNCTION pg_temp.vector(k int) RETURNS TABLE (lifecycle_phase text, ownership_state text, eligibility_state text,
                                                      blocking_reason text, terminal_outcome text, attempt_state text,
                                                      public_state text) LANGUAGE sql AS $$
    SELECT lifecycle_phase, ownership_state, eligibility_state, blocking_reason, terminal_outcome, attempt_state, public_state
      FROM ff_execution WHERE execution_id = pg_temp.uuid(k)
$$;

SELECT pg_temp.suspended(1, 'fail'), pg_temp.suspended(2, 'cancel'), pg_temp.suspended(3, 'expire'),
       pg_temp.suspended(4, 'auto_resume_with_timeout_signal'), pg_temp.suspended(5, 'escalate'),
       pg_temp.suspended(6, 'auto_resume'), pg_temp.suspended(7, 'fail'), pg_temp.suspended(8, 'expire');
SELECT is((SELECT timeout_behavior FROM ff_suspension WHERE execution_id = pg_temp.uuid(6)), 'auto_resume_with_timeout_signal',
          'the legacy spelling auto_resume is stored as auto_resume_with_timeout_signal');
SELECT is(ff_reconcile_suspension_timeout(), 0, 'nothing is due yet');
SELECT results_eq($$SELECT outcome, public_state FROM ff_expire_suspension(pg_temp.id(1))$$,
                  $$VALUES ('not_yet_due'::text, 'suspended'::text)$$, 'ff_expire_suspension before the deadline: not_yet_due');

------------------------------------------------------------------------------
-- fail
------------------------------------------------------------------------------
SELECT pg_temp.at(1);
SELECT is(ff_reconcile_suspension_timeout(), 1, 'fail: due, one execution changed');
SELECT results_eq($$SELECT * FROM pg_temp.vector(1)$$,
                  $$VALUES ('terminal'::text, 'unowned'::text, 'not_applicable'::text, 'none'::text, 'failed'::text,
                            'attempt_terminal'::text, 'failed'::text)$$, 'fail: terminal failed');
SELECT results_eq($$SELECT last_failure_message, last_failure_category, terminal_at_ms IS NOT NULL FROM ff_execution WHERE execution_id = pg_temp.uuid(1)$$,
                  $$VALUES ('suspension_timeout:fail'::text, 'timeout'::text, true)$$, 'fail: failure suspension_timeout:fail');
SELECT results_eq($$SELECT attempt_lifecycle, end_reason, failure_message, ended_at_ms IS NOT NULL FROM ff_attempt WHERE execution_id = pg_temp.uuid(1)$$,
                  $$VALUES ('ended_failure'::text, 'suspension_timeout'::text, 'suspension_timeout:fail'::text, true)$$, 'fail: the attempt ended');
SELECT results_eq($$SELECT s.close_reason, array_agg(DISTINCT w.close_reason), array_agg(DISTINCT w.state)
                     FROM ff_suspension s JOIN ff_waitpoint w USING (partition_key, execution_id)
                    WHERE s.execution_id = pg_temp.uuid(1) GROUP BY s.close_reason$$,
                  $$VALUES ('timed_out_fail'::text, '{timed_out_fail}'::text[], '{closed}'::text[])$$,
                  'fail: the suspension and both waitpoints closed (timed_out_fail)');
SELECT results_eq($$SELECT outcome, namespace, attempt_index FROM ff_completion_event WHERE execution_id = pg_temp.uuid(1)$$,
                  $$VALUES ('failed'::text, 'ns56'::text, 0)$$, 'fail: completion event failed');
SELECT is((SELECT count(*) FROM ff_lease_event WHERE execution_id = pg_temp.uuid(1)), 2::bigint,
          'fail: no lease event (the suspension had released the lease)');
SELECT matches(pg_temp.err($$SELECT * FROM ff_deliver_signal(pg_temp.id(1), (SELECT waitpoint_id FROM wp1 LIMIT 1),
                   (SELECT waitpoint_token FROM wp1 LIMIT 1), 's')$$),
               '^YFS07 target_not_signalable', 'fail: a late signal -> YFS07');
SELECT is(ff_reconcile_suspension_timeout(), 0, 'fail: a second run finds nothing');

------------------------------------------------------------------------------
-- cancel
------------------------------------------------------------------------------
SELECT pg_temp.at(2);
SELECT is(ff_reconcile_suspension_timeout(), 1, 'cancel: due');
SELECT results_eq($$SELECT * FROM pg_temp.vector(2)$$,
                  $$VALUES ('terminal'::text, 'unowned'::text, 'not_applicable'::text, 'none'::text, 'cancelled'::text,
                            'attempt_terminal'::text, 'cancelled'::text)$$, 'cancel: terminal cancelled');
SELECT results_eq($$SELECT cancellation_reason, cancelled_by, last_failure_message FROM ff_execution WHERE execution_id = pg_temp.uuid(2)$$,
                  $$VALUES ('suspension_timeout'::text, 'system_timeout_policy'::text, NULL::text)$$, 'cancel: reason and canceller');
SELECT results_eq($$SELECT attempt_lifecycle, end_reason FROM ff_attempt WHERE execution_id = pg_temp.uuid(2)$$,
                  $$VALUES ('ended_cancelled'::text, 'suspension_timeout'::text)$$, 'cancel: the attempt ended_cancelled');
SELECT is((SELECT close_reason FROM ff_suspension WHERE execution_id = pg_temp.uuid(2)), 'timed_out_cancel', 'cancel: timed_out_cancel');
SELECT is((SELECT outcome FROM ff_completion_event WHERE execution_id = pg_temp.uuid(2)), 'cancelled', 'cancel: completion cancelled');

------------------------------------------------------------------------------
-- expire
------------------------------------------------------------------------------
SELECT pg_temp.at(3);
SELECT is(ff_reconcile_suspension_timeout(), 1, 'expire: due');
SELECT results_eq($$SELECT * FROM pg_temp.vector(3)$$,
                  $$VALUES ('terminal'::text, 'unowned'::text, 'not_applicable'::text, 'none'::text, 'expired'::text,
                            'attempt_terminal'::text, 'expired'::text)$$, 'expire: terminal expired');
SELECT results_eq($$SELECT e.last_failure_message, a.attempt_lifecycle, s.close_reason, c.outcome
                     FROM ff_execution e JOIN ff_attempt a USING (partition_key, execution_id)
                     JOIN ff_suspension s USING (partition_key, execution_id)
                     JOIN ff_completion_event c USING (partition_key, execution_id)
                    WHERE e.execution_id = pg_temp.uuid(3)$$,
                  $$VALUES ('suspension_timeout:expire'::text, 'ended_failure'::text, 'timed_out_expire'::text, 'expired'::text)$$,
                  'expire: failure message, attempt, close reason, completion');

------------------------------------------------------------------------------
-- auto_resume_with_timeout_signal
------------------------------------------------------------------------------
SELECT pg_temp.at(4);
SELECT is(ff_reconcile_suspension_timeout(), 1, 'auto_resume: due');
SELECT results_eq($$SELECT * FROM pg_temp.vector(4)$$,
                  $$VALUES ('runnable'::text, 'unowned'::text, 'eligible_now'::text, 'waiting_for_worker'::text, 'none'::text,
                            'attempt_interrupted'::text, 'waiting'::text)$$, 'auto_resume: resumed, waiting for a worker');
SELECT results_eq($$SELECT close_reason, closer_signal_id IS NOT NULL FROM ff_suspension WHERE execution_id = pg_temp.uuid(4)$$,
                  $$VALUES ('timed_out_auto_resume'::text, true)$$, 'auto_resume: timed_out_auto_resume, closed by the timeout signal');
SELECT is((SELECT array_agg(DISTINCT close_reason) FROM ff_waitpoint WHERE execution_id = pg_temp.uuid(4)), '{timed_out_auto_resume}'::text[],
          'auto_resume: both waitpoints closed');
SELECT is((SELECT count(*) FROM ff_completion_event WHERE execution_id = pg_temp.uuid(4)), 0::bigint, 'auto_resume: no completion');
CREATE TEMP TABLE r4 AS SELECT * FROM ff_claim_resumed_execution(pg_temp.id(4), 'w', 'wi', 'tap56-4', lease_ttl_ms => 6000000);
SELECT is((SELECT attempt_index FROM r4), 0, 'auto_resume: the parked attempt continues');
SELECT results_eq($$SELECT signal_name, signal_category, source_type, source_identity, waitpoint_id FROM ff_observe_signals((SELECT handle FROM r4))$$,
                  $$VALUES ('timeout'::text, 'timeout'::text, 'system'::text, 'suspension_timeout'::text, NULL::uuid)$$,
                  'auto_resume: the worker observes the synthetic timeout signal');

------------------------------------------------------------------------------
-- escalate: stays suspended for an operator
------------------------------------------------------------------------------
SELECT pg_temp.at(5);
SELECT is(ff_reconcile_suspension_timeout(), 1, 'escalate: due');
SELECT results_eq($$SELECT * FROM pg_temp.vector(5)$$,
                  $$VALUES ('suspended'::text, 'unowned'::text, 'not_applicable'::text, 'paused_by_operator'::text, 'none'::text,
                            'attempt_interrupted'::text, 'suspended'::text)$$, 'escalate: still suspended, paused_by_operator');
SELECT is((SELECT blocking_detail FROM ff_execution WHERE execution_id = pg_temp.uuid(5)),
          'suspension escalated: timeout at ' || ((SELECT ms FROM base) + 50000), 'escalate: blocking_detail');
SELECT results_eq($$SELECT reason_code, timeout_at_ms, closed_at_ms FROM ff_suspension WHERE execution_id = pg_temp.uuid(5)$$,
                  $$VALUES ('waiting_for_operator_review'::text, NULL::bigint, NULL::bigint)$$,
                  'escalate: the open suspension now awaits operator review, without a timeout');
SELECT is((SELECT reason FROM ff_list_suspended('{fp:57}') WHERE execution_id = pg_temp.id(5)), 'waiting_for_operator_review',
          'escalate: listed as suspended with the new reason');
SELECT is(ff_reconcile_suspension_timeout(), 0, 'escalate: it does not fire again');
SELECT is((SELECT effect FROM ff_deliver_signal(pg_temp.id(5), (SELECT waitpoint_id FROM wp5 WHERE waitpoint_index = 0),
             (SELECT waitpoint_token FROM wp5 WHERE waitpoint_index = 0), 's')), 'appended_to_waitpoint',
          'escalate: its waitpoints still take signals');
SELECT is(ff_resume_execution(pg_temp.id(5)), 'waiting', 'escalate: an operator resumes it');

------------------------------------------------------------------------------
-- auto_resume (legacy spelling)
------------------------------------------------------------------------------
SELECT pg_temp.at(6);
SELECT results_eq($$SELECT outcome, public_state FROM ff_expire_suspension(pg_temp.id(6))$$,
                  $$VALUES ('auto_resume_with_timeout_signal'::text, 'waiting'::text)$$, 'ff_expire_suspension applies it directly');
SELECT results_eq($$SELECT outcome, public_state FROM ff_expire_suspension(pg_temp.id(6))$$,
                  $$VALUES ('not_suspended'::text, 'waiting'::text)$$, 'and a second time: not_suspended');
SELECT is(ff_reconcile_suspension_timeout(), 0, 'the reconciler finds nothing left for it');

------------------------------------------------------------------------------
-- a satisfied suspension leaves nothing behind
------------------------------------------------------------------------------
SET LOCAL flowfabric.clock_offset_ms = 65000;
SELECT is((SELECT string_agg(effect, ',') FROM (
    SELECT (ff_deliver_signal(pg_temp.id(7), waitpoint_id, waitpoint_token, 'go')).effect FROM wp7 ORDER BY waitpoint_index) e),
    'appended_to_waitpoint,resume_condition_satisfied', 'suspension 7 is satisfied before its timeout');
SELECT is((SELECT count(*) FROM ff_list_suspended('{fp:57}') WHERE execution_id = pg_temp.id(7)), 0::bigint,
          'ff_list_suspended no longer lists it');
SELECT is((SELECT count(*) FROM ff_waitpoint WHERE execution_id = pg_temp.uuid(7) AND state <> 'closed'), 0::bigint,
          'no open waitpoint is left');
SELECT pg_temp.at(7);
SELECT is(ff_reconcile_suspension_timeout(), 0, 'its timeout does not fire on the resumed execution');
SELECT is((SELECT public_state FROM pg_temp.vector(7)), 'waiting', 'it is still waiting, not failed');
CREATE TEMP TABLE r7 AS SELECT * FROM ff_claim_resumed_execution(pg_temp.id(7), 'w', 'wi', 'tap56-7', lease_ttl_ms => 6000000);

-- ff_expire_suspension of a due suspension
SELECT pg_temp.at(8);
SELECT results_eq($$SELECT outcome, public_state FROM ff_expire_suspension(pg_temp.id(8))$$,
                  $$VALUES ('expire'::text, 'expired'::text)$$, 'ff_expire_suspension of a due expire: expired');

SET LOCAL flowfabric.clock_offset_ms = 100000;
SELECT is(ff_reconcile_suspension_timeout(), 0, 'nor later, while it runs again');
SELECT is((SELECT public_state FROM pg_temp.vector(7)), 'active', 'it is active');
SELECT results_eq($$SELECT outcome, public_state FROM ff_expire_suspension(pg_temp.id(7))$$,
                  $$VALUES ('not_suspended'::text, 'active'::text)$$, 'ff_expire_suspension on it: not_suspended');

------------------------------------------------------------------------------
-- ff_expire_suspension: errors
------------------------------------------------------------------------------
SELECT throws_ok($$SELECT * FROM ff_expire_suspension('{fp:57}:00000000-0000-4000-8000-0000000057ff')$$, 'YFN01', NULL,
                 'unknown execution -> YFN01');
SELECT throws_ok($$SELECT * FROM ff_expire_suspension('57')$$, 'YFV01', NULL, 'malformed execution id -> YFV01');

------------------------------------------------------------------------------
-- batches
------------------------------------------------------------------------------
RESET flowfabric.clock_offset_ms;
SELECT pg_temp.suspended(11, 'fail'), pg_temp.suspended(12, 'fail'), pg_temp.suspended(13, 'fail');
SET LOCAL flowfabric.clock_offset_ms = 140000;
SELECT is(ff_reconcile_suspension_timeout(2), 2, 'batch_size 2: two of three');
SELECT is(ff_reconcile_suspension_timeout(2), 1, 'then the last one');
SELECT is((SELECT array_agg(DISTINCT public_state) FROM ff_execution WHERE execution_id IN (pg_temp.uuid(11), pg_temp.uuid(12), pg_temp.uuid(13))),
          '{failed}'::text[], 'all three failed');
SELECT throws_ok($$SELECT ff_reconcile_suspension_timeout(0)$$, 'YFV01', NULL, 'batch_size 0 -> YFV01');
SELECT throws_ok($$SELECT ff_reconcile_suspension_timeout(100001)$$, 'YFV01', NULL, 'batch_size 100001 -> YFV01');
SELECT is(ff_reconcile_suspension_timeout(NULL), 0, 'NULL batch_size means the default');

------------------------------------------------------------------------------
-- a TimeoutOnly suspension ends only by its timeout
------------------------------------------------------------------------------
RESET flowfabric.clock_offset_ms;
SELECT ff_create_execution('tap56-t', execution_id => pg_temp.id(20));
CREATE TEMP TABLE c20 AS SELECT * FROM ff_claim('tap56-t', 'w', 'wi', lease_ttl_ms => 6000000);
CREATE TEMP TABLE wp20 AS SELECT * FROM ff_suspend((SELECT handle FROM c20), '["wpk:t"]', '"TimeoutOnly"',
    timeout_at => ff_server_time_ms() + 1000, timeout_behavior => 'auto_resume_with_timeout_signal', resume_policy => '{"resume_delay_ms": 0}');
SELECT is((SELECT effect FROM ff_deliver_signal(pg_temp.id(20), (SELECT waitpoint_id FROM wp20), (SELECT waitpoint_token FROM wp20), 'x')),
          'signal_ignored_not_in_condition', 'TimeoutOnly ignores signals');
SET LOCAL flowfabric.clock_offset_ms = 2000;
SELECT is(ff_reconcile_suspension_timeout(), 1, 'and resumes on its timeout');
SELECT is((SELECT public_state FROM pg_temp.vector(20)), 'waiting', 'waiting');

SELECT * FROM finish();
ROLLBACK;

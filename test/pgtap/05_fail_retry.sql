-- ff_fail and the retry policy: terminal failures, fixed / exponential /
-- zero backoff, promotion, retry attempts, exhaustion, classification and
-- retryable_categories, replay, bad input, and spec A §11 typed_fail cases.
BEGIN;
SELECT plan(62);

-- claim_fail claims the next execution of a lane and fails it; reports the
-- attempt failed, the outcome and the backoff (delay_until - now).
CREATE FUNCTION pg_temp.claim_fail(p_lane text, p_class text DEFAULT 'transient')
RETURNS TABLE (attempt_index integer, outcome text, backoff_ms bigint)
LANGUAGE plpgsql AS $$
DECLARE
    c record;
    f record;
BEGIN
    SELECT * INTO c FROM ff_claim(p_lane, 'w', 'wi-' || p_lane);
    IF c.handle IS NULL THEN
        RAISE EXCEPTION 'nothing to claim on %', p_lane;
    END IF;
    SELECT * INTO f FROM ff_fail(c.handle, 'failure of attempt ' || c.attempt_index, p_class);
    RETURN QUERY
        SELECT c.attempt_index, f.outcome, f.delay_until - e.last_mutation_at_ms
          FROM ff_split_execution_id(c.execution_id) id
          JOIN ff_execution e ON e.partition_key = id.partition_key AND e.execution_id = id.execution_uuid;
END
$$;

-- try_fail calls ff_fail and reports an error as ('error <SQLSTATE>', NULL),
-- so an unexpected error fails one assertion instead of aborting the file.
CREATE FUNCTION pg_temp.try_fail(h bytea, msg text, cls text DEFAULT 'transient')
RETURNS TABLE (outcome text, delay_until bigint)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY SELECT f.outcome, f.delay_until FROM ff_fail(h, msg, cls) f;
EXCEPTION WHEN OTHERS THEN
    RETURN QUERY SELECT 'error ' || SQLSTATE, NULL::bigint;
END
$$;

------------------------------------------------------------------------------
-- no retry policy: terminal
------------------------------------------------------------------------------
SELECT ff_create_execution('tap05-none', execution_id => '{fp:50}:00000000-0000-4000-8000-000000000501', namespace => 'ns5');
CREATE TEMP TABLE a1 AS SELECT * FROM ff_claim('tap05-none', 'w', 'wi');
SELECT results_eq($$SELECT * FROM ff_fail((SELECT handle FROM a1), 'boom', 'transient', '\x01'::bytea)$$,
                  $$VALUES ('terminal_failed'::text, NULL::bigint)$$,
                  'fail without a retry policy -> terminal_failed, no delay');
SELECT results_eq(
    $$SELECT lifecycle_phase, ownership_state, eligibility_state, blocking_reason, terminal_outcome,
             attempt_state, public_state, last_failure_message, last_failure_category, retry_count,
             terminal_at_ms IS NOT NULL
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000501'$$,
    $$VALUES ('terminal'::text, 'unowned'::text, 'not_applicable'::text, 'none'::text, 'failed'::text,
              'attempt_terminal'::text, 'failed'::text, 'boom'::text, 'transient'::text, 0, true)$$,
    'terminal failure: terminal/unowned/not_applicable/none/failed/attempt_terminal -> failed');
SELECT results_eq(
    $$SELECT attempt_lifecycle, failure_message, failure_category, failure_detail, lease_expires_at_ms,
             retry_delay_until_ms, ended_at_ms IS NOT NULL
        FROM ff_attempt WHERE execution_id = '00000000-0000-4000-8000-000000000501'$$,
    $$VALUES ('ended_failure'::text, 'boom'::text, 'transient'::text, '\x01'::bytea, NULL::bigint, NULL::bigint, true)$$,
    'the attempt ended_failure with message, category and detail, lease cleared');
SELECT results_eq(
    $$SELECT outcome, namespace, attempt_index FROM ff_completion_event WHERE execution_id = '00000000-0000-4000-8000-000000000501'$$,
    $$VALUES ('failed'::text, 'ns5'::text, 0)$$,
    'one completion event: failed');
SELECT results_eq(
    $$SELECT event_type, reason FROM ff_lease_event WHERE execution_id = '00000000-0000-4000-8000-000000000501' ORDER BY event_id$$,
    $$VALUES ('acquired'::text, NULL::text), ('released', 'failed_terminal')$$,
    'lease events: acquired, released (failed_terminal)');
SELECT results_eq($$SELECT * FROM pg_temp.try_fail((SELECT handle FROM a1), 'boom', 'transient')$$,
                  $$VALUES ('terminal_failed'::text, NULL::bigint)$$,
                  'fail replay (same handle, message and classification) reports terminal_failed again');
SELECT results_eq($$SELECT * FROM pg_temp.try_fail((SELECT handle FROM a1), 'boom again', 'transient')$$,
                  $$VALUES ('error YFC11'::text, NULL::bigint)$$,
                  'the same handle with another message is no replay: YFC11');
SELECT is((SELECT count(*) FROM ff_completion_event WHERE execution_id = '00000000-0000-4000-8000-000000000501'),
          1::bigint, 'the replay wrote no second completion event');
SELECT is((SELECT last_failure_message FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000501'),
          'boom', 'the replay did not overwrite the failure message');

-- spec A §11 typed_fail_execution: fail_terminal_when_no_retries (empty policy)
SELECT ff_create_execution('tap05-empty', execution_id => '{fp:50}:00000000-0000-4000-8000-000000000502', policy => '{}');
SELECT results_eq($$SELECT outcome, backoff_ms FROM pg_temp.claim_fail('tap05-empty')$$,
                  $$VALUES ('terminal_failed'::text, NULL::bigint)$$,
                  'typed_fail fail_terminal_when_no_retries: empty policy -> terminal_failed');
SELECT results_eq(
    $$SELECT e.lifecycle_phase, e.public_state, (SELECT count(*) FROM ff_completion_event c
                                                  WHERE c.execution_id = e.execution_id AND c.outcome = 'failed')
        FROM ff_execution e WHERE execution_id = '00000000-0000-4000-8000-000000000502'$$,
    $$VALUES ('terminal'::text, 'failed'::text, 1::bigint)$$,
    'row terminal/failed with one failed completion event');

-- max_retries 0
SELECT ff_create_execution('tap05-zero', execution_id => '{fp:50}:00000000-0000-4000-8000-000000000503',
                           policy => '{"retry_policy": {"max_retries": 0}}');
SELECT results_eq($$SELECT outcome FROM pg_temp.claim_fail('tap05-zero')$$, $$VALUES ('terminal_failed'::text)$$,
                  'max_retries 0 -> terminal_failed');

------------------------------------------------------------------------------
-- classification and retryable_categories
------------------------------------------------------------------------------
SELECT ff_create_execution('tap05-class-' || c, policy => '{"retry_policy": {"max_retries": 3, "backoff": {"type": "fixed", "delay_ms": 0}}}')
  FROM unnest(ARRAY['permanent', 'cancelled', 'transient', 'infra_crash', 'timeout']) c;
SELECT results_eq(
    $$SELECT c, (SELECT outcome FROM pg_temp.claim_fail('tap05-class-' || c, c))
        FROM unnest(ARRAY['permanent', 'cancelled', 'transient', 'infra_crash', 'timeout']) c$$,
    $$VALUES ('permanent'::text, 'terminal_failed'::text), ('cancelled', 'terminal_failed'),
             ('transient', 'retry_scheduled'), ('infra_crash', 'retry_scheduled'), ('timeout', 'retry_scheduled')$$,
    'with retries left: permanent and cancelled are terminal; transient, infra_crash, timeout retry');
SELECT is((SELECT last_failure_category FROM ff_execution WHERE lane_id = 'tap05-class-permanent'),
          'permanent', 'the classification is recorded as last_failure_category');

SELECT ff_create_execution('tap05-cat-' || c,
        policy => '{"retry_policy": {"max_retries": 3, "backoff": {"type": "fixed", "delay_ms": 0}, "retryable_categories": ["timeout", "permanent"]}}')
  FROM unnest(ARRAY['transient', 'timeout', 'permanent']) c;
SELECT results_eq(
    $$SELECT c, (SELECT outcome FROM pg_temp.claim_fail('tap05-cat-' || c, c))
        FROM unnest(ARRAY['transient', 'timeout', 'permanent']) c$$,
    $$VALUES ('transient'::text, 'terminal_failed'::text), ('timeout', 'retry_scheduled'), ('permanent', 'retry_scheduled')$$,
    'retryable_categories ["timeout","permanent"]: only those retry (transient is terminal)');

-- an explicitly empty list names no retryable category
SELECT ff_create_execution('tap05-cat-empty',
        policy => '{"retry_policy": {"max_retries": 3, "backoff": {"type": "fixed", "delay_ms": 0}, "retryable_categories": []}}');
SELECT results_eq($$SELECT outcome FROM pg_temp.claim_fail('tap05-cat-empty', 'transient')$$,
                  $$VALUES ('terminal_failed'::text)$$,
                  'retryable_categories [] (given, empty): a transient failure is not listed, so terminal');

------------------------------------------------------------------------------
-- fixed backoff 500 ms (spec A §11 fail_schedules_retry_when_budget_remains)
------------------------------------------------------------------------------
SELECT ff_create_execution('tap05-fixed', execution_id => '{fp:51}:00000000-0000-4000-8000-000000000511',
        policy => '{"retry_policy": {"max_retries": 3, "backoff": {"type": "fixed", "delay_ms": 500}}}');
CREATE TEMP TABLE b1 AS SELECT * FROM ff_claim('tap05-fixed', 'w', 'wi-b1');
CREATE TEMP TABLE t0 AS SELECT ff_server_time_ms() AS ms;
CREATE TEMP TABLE f1 AS SELECT * FROM ff_fail((SELECT handle FROM b1), 'flaky', 'transient');
CREATE TEMP TABLE t1 AS SELECT ff_server_time_ms() AS ms;

SELECT is((SELECT outcome FROM f1), 'retry_scheduled', 'fail with retries left -> retry_scheduled');
SELECT ok((SELECT delay_until BETWEEN (SELECT ms FROM t0) + 500 AND (SELECT ms FROM t1) + 500 FROM f1),
          'delay_until = now + 500');
SELECT results_eq(
    $$SELECT lifecycle_phase, ownership_state, eligibility_state, blocking_reason, terminal_outcome,
             attempt_state, public_state, delay_until_ms, retry_count, delay_until_ms - last_mutation_at_ms
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000511'$$,
    $$SELECT 'runnable'::text, 'unowned'::text, 'not_eligible_until_time'::text, 'waiting_for_retry_backoff'::text,
             'none'::text, 'pending_retry_attempt'::text, 'delayed'::text, delay_until, 1, 500::bigint FROM f1$$,
    'retry with backoff: runnable/unowned/not_eligible_until_time/waiting_for_retry_backoff/none/pending_retry_attempt -> delayed, retry_count 1');
SELECT ok((SELECT blocking_detail LIKE 'retry backoff until %' FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000511'),
          'blocking_detail explains the backoff');
SELECT results_eq(
    $$SELECT a.attempt_lifecycle, a.lease_expires_at_ms, a.retry_delay_until_ms
        FROM ff_attempt a WHERE a.execution_id = '00000000-0000-4000-8000-000000000511'$$,
    $$SELECT 'ended_failure'::text, NULL::bigint, delay_until FROM f1$$,
    'the attempt ended_failure, lease cleared, retry_delay_until_ms recorded');
SELECT is((SELECT count(*) FROM ff_completion_event WHERE execution_id = '00000000-0000-4000-8000-000000000511'),
          0::bigint, 'a scheduled retry writes no completion event');
SELECT results_eq(
    $$SELECT event_type, reason FROM ff_lease_event WHERE execution_id = '00000000-0000-4000-8000-000000000511' ORDER BY event_id$$,
    $$VALUES ('acquired'::text, NULL::text), ('released', 'failed_retry_scheduled')$$,
    'lease events: acquired, released (failed_retry_scheduled)');

SELECT results_eq($$SELECT * FROM pg_temp.try_fail((SELECT handle FROM b1), 'flaky', 'transient')$$,
                  $$SELECT outcome, delay_until FROM f1$$,
                  'fail replay returns the same outcome and delay_until');
SELECT results_eq($$SELECT * FROM pg_temp.try_fail((SELECT handle FROM b1), 'flaky again', 'transient')$$,
                  $$VALUES ('error YFC11'::text, NULL::bigint)$$,
                  'another message is no replay: YFC11 while the retry is pending');
SELECT results_eq($$SELECT * FROM pg_temp.try_fail((SELECT handle FROM b1), 'flaky', 'infra_crash')$$,
                  $$VALUES ('error YFC11'::text, NULL::bigint)$$,
                  'another classification is no replay either: YFC11');
SELECT results_eq(
    $$SELECT retry_count, last_failure_message FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000511'$$,
    $$VALUES (1, 'flaky'::text)$$,
    'the replay neither counted another retry nor overwrote the message');
SELECT throws_ok($$SELECT * FROM ff_renew((SELECT handle FROM b1))$$, 'YFC11', NULL,
                 'renew of the failed attempt while the retry is pending -> YFC11');

SELECT is((SELECT count(*) FROM ff_claim('tap05-fixed', 'w', 'wi')), 0::bigint, 'not claimable during the backoff');
SELECT is(ff_reconcile_delayed_promotion(), 0, 'promotion before the backoff elapsed changes nothing');
SELECT is((SELECT public_state FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000511'),
          'delayed', 'still delayed');

SET LOCAL flowfabric.clock_offset_ms = 600;
SELECT is(ff_reconcile_delayed_promotion(), 1, 'promotion after the backoff promotes it');
SELECT results_eq(
    $$SELECT lifecycle_phase, eligibility_state, blocking_reason, attempt_state, public_state, delay_until_ms, blocking_detail
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000511'$$,
    $$VALUES ('runnable'::text, 'eligible_now'::text, 'waiting_for_worker'::text, 'pending_retry_attempt'::text,
              'waiting'::text, NULL::bigint, NULL::text)$$,
    'promoted: eligible_now/waiting_for_worker, attempt_state kept pending_retry_attempt -> waiting');
SELECT is(ff_reconcile_delayed_promotion(), 0, 'a second promotion run changes nothing');

CREATE TEMP TABLE b2 AS SELECT * FROM ff_claim('tap05-fixed', 'w', 'wi-b2');
SELECT results_eq($$SELECT attempt_index, lease_epoch FROM b2$$, $$VALUES (1, 2::bigint)$$,
                  'the retry claim gets attempt_index 1 at epoch 2');
SELECT results_eq(
    $$SELECT attempt_index, attempt_type, attempt_lifecycle FROM ff_attempt
       WHERE execution_id = '00000000-0000-4000-8000-000000000511' ORDER BY attempt_index$$,
    $$VALUES (0, 'initial'::text, 'ended_failure'::text), (1, 'retry', 'started')$$,
    'attempt 0 initial/ended_failure, attempt 1 retry/started');
SELECT results_eq(
    $$SELECT public_state, attempt_index, total_attempt_count, retry_count, lease_epoch
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000511'$$,
    $$VALUES ('active'::text, 1, 2, 1, 2::bigint)$$,
    'execution active on attempt 1, two attempts, one retry, epoch 2');
SELECT results_eq($$SELECT * FROM pg_temp.try_fail((SELECT handle FROM b1), 'flaky', 'transient')$$,
                  $$SELECT outcome, delay_until FROM f1$$,
                  'a genuine replay still returns the first decision after the retry was claimed');
SELECT results_eq($$SELECT * FROM pg_temp.try_fail((SELECT handle FROM b1), 'flaky again', 'transient')$$,
                  $$VALUES ('error YFS01'::text, NULL::bigint)$$,
                  'once the retry is claimed, a non-replay fail with the first attempt''s handle is stale: YFS01');
SELECT results_eq(
    $$SELECT public_state, attempt_index, retry_count, last_failure_message FROM ff_execution
       WHERE execution_id = '00000000-0000-4000-8000-000000000511'$$,
    $$VALUES ('active'::text, 1, 1, 'flaky'::text)$$,
    'the replays did not disturb the running retry');

------------------------------------------------------------------------------
-- zero backoff: waiting at once
------------------------------------------------------------------------------
SELECT ff_create_execution('tap05-now', execution_id => '{fp:51}:00000000-0000-4000-8000-000000000521',
        policy => '{"retry_policy": {"max_retries": 2, "backoff": {"type": "fixed", "delay_ms": 0}}}');
SELECT results_eq($$SELECT outcome, backoff_ms FROM pg_temp.claim_fail('tap05-now')$$,
                  $$VALUES ('retry_scheduled'::text, 0::bigint)$$,
                  'zero backoff: retry_scheduled with delay_until = now');
SELECT results_eq(
    $$SELECT lifecycle_phase, ownership_state, eligibility_state, blocking_reason, terminal_outcome,
             attempt_state, public_state, delay_until_ms
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000521'$$,
    $$VALUES ('runnable'::text, 'unowned'::text, 'eligible_now'::text, 'waiting_for_worker'::text, 'none'::text,
              'pending_retry_attempt'::text, 'waiting'::text, NULL::bigint)$$,
    'zero backoff: runnable/unowned/eligible_now/waiting_for_worker/none/pending_retry_attempt -> waiting');

-- max retries exhausted (2 retries, so the third failure is terminal)
SELECT results_eq($$SELECT attempt_index, outcome FROM pg_temp.claim_fail('tap05-now')$$,
                  $$VALUES (1, 'retry_scheduled'::text)$$, 'second failure (attempt 1) still retries');
SELECT results_eq($$SELECT attempt_index, outcome, backoff_ms FROM pg_temp.claim_fail('tap05-now')$$,
                  $$VALUES (2, 'terminal_failed'::text, NULL::bigint)$$, 'third failure (attempt 2): retries exhausted -> terminal_failed');
SELECT results_eq(
    $$SELECT public_state, terminal_outcome, retry_count, total_attempt_count, last_failure_message
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000521'$$,
    $$VALUES ('failed'::text, 'failed'::text, 2, 3, 'failure of attempt 2'::text)$$,
    'exhausted: failed after 3 attempts and 2 retries, last message kept');
SELECT results_eq(
    $$SELECT outcome, attempt_index FROM ff_completion_event WHERE execution_id = '00000000-0000-4000-8000-000000000521'$$,
    $$VALUES ('failed'::text, 2)$$,
    'one failed completion event, for attempt 2');
SELECT results_eq(
    $$SELECT attempt_index, attempt_type, attempt_lifecycle FROM ff_attempt
       WHERE execution_id = '00000000-0000-4000-8000-000000000521' ORDER BY attempt_index$$,
    $$VALUES (0, 'initial'::text, 'ended_failure'::text), (1, 'retry', 'ended_failure'), (2, 'retry', 'ended_failure')$$,
    'three attempts, all ended_failure');

------------------------------------------------------------------------------
-- exponential backoff 1000, 2000, 4000 capped by max_delay_ms 3000
------------------------------------------------------------------------------
SELECT ff_create_execution('tap05-exp', execution_id => '{fp:52}:00000000-0000-4000-8000-000000000531',
        policy => '{"retry_policy": {"max_retries": 4, "backoff": {"type": "exponential", "initial_delay_ms": 1000, "max_delay_ms": 3000, "multiplier": 2}}}');
CREATE TEMP TABLE sched (n integer, attempt_index integer, outcome text, backoff_ms bigint);
INSERT INTO sched SELECT 1, * FROM pg_temp.claim_fail('tap05-exp');
SET LOCAL flowfabric.clock_offset_ms = 10000;
SELECT ff_reconcile_delayed_promotion();
INSERT INTO sched SELECT 2, * FROM pg_temp.claim_fail('tap05-exp');
SET LOCAL flowfabric.clock_offset_ms = 20000;
SELECT ff_reconcile_delayed_promotion();
INSERT INTO sched SELECT 3, * FROM pg_temp.claim_fail('tap05-exp');
SET LOCAL flowfabric.clock_offset_ms = 30000;
SELECT ff_reconcile_delayed_promotion();
INSERT INTO sched SELECT 4, * FROM pg_temp.claim_fail('tap05-exp');
SET LOCAL flowfabric.clock_offset_ms = 40000;
SELECT ff_reconcile_delayed_promotion();
INSERT INTO sched SELECT 5, * FROM pg_temp.claim_fail('tap05-exp');
SELECT results_eq(
    $$SELECT attempt_index, outcome, backoff_ms FROM sched ORDER BY n$$,
    $$VALUES (0, 'retry_scheduled'::text, 1000::bigint), (1, 'retry_scheduled', 2000), (2, 'retry_scheduled', 3000),
             (3, 'retry_scheduled', 3000), (4, 'terminal_failed', NULL)$$,
    'exponential backoff: 1000, 2000, min(4000, 3000), min(8000, 3000), then retries exhausted');

-- default backoff (retry_policy without backoff): exponential from 1000 ms, 3 retries
SELECT ff_create_execution('tap05-default', execution_id => '{fp:52}:00000000-0000-4000-8000-000000000541',
                           policy => '{"retry_policy": {}}');
SELECT results_eq($$SELECT outcome, backoff_ms FROM pg_temp.claim_fail('tap05-default')$$,
                  $$VALUES ('retry_scheduled'::text, 1000::bigint)$$,
                  'retry_policy {} retries with the default 1000 ms first backoff');
SET LOCAL flowfabric.clock_offset_ms = 42000;
SELECT ff_reconcile_delayed_promotion();
SELECT results_eq($$SELECT outcome, backoff_ms FROM pg_temp.claim_fail('tap05-default')$$,
                  $$VALUES ('retry_scheduled'::text, 2000::bigint)$$,
                  'then 2000 ms (multiplier 2)');
SET LOCAL flowfabric.clock_offset_ms = 45000;
SELECT ff_reconcile_delayed_promotion();
SELECT results_eq($$SELECT outcome, backoff_ms FROM pg_temp.claim_fail('tap05-default')$$,
                  $$VALUES ('retry_scheduled'::text, 4000::bigint)$$,
                  'then 4000 ms');
SET LOCAL flowfabric.clock_offset_ms = 50000;
SELECT ff_reconcile_delayed_promotion();
SELECT results_eq($$SELECT outcome FROM pg_temp.claim_fail('tap05-default')$$,
                  $$VALUES ('terminal_failed'::text)$$,
                  'default max_retries is 3: the fourth failure is terminal');

-- fixed backoff without delay_ms defaults to 1000
SELECT ff_create_execution('tap05-fixdef', execution_id => '{fp:52}:00000000-0000-4000-8000-000000000551',
                           policy => '{"retry_policy": {"max_retries": 1, "backoff": {"type": "fixed"}}}');
SELECT results_eq($$SELECT outcome, backoff_ms FROM pg_temp.claim_fail('tap05-fixdef')$$,
                  $$VALUES ('retry_scheduled'::text, 1000::bigint)$$,
                  'fixed backoff without delay_ms waits 1000 ms');

------------------------------------------------------------------------------
-- bad input and stale handles (spec A §11 typed_fail_execution)
------------------------------------------------------------------------------
SELECT ff_create_execution('tap05-bad', execution_id => '{fp:53}:00000000-0000-4000-8000-000000000561',
                           policy => '{"retry_policy": {"max_retries": 3}}');
CREATE TEMP TABLE x1 AS SELECT * FROM ff_claim('tap05-bad', 'w', 'wi', lease_ttl_ms => 600000);
SELECT throws_ok($$SELECT * FROM ff_fail((SELECT handle FROM x1), 'm', 'fatal')$$, 'YFV01', NULL, 'unknown classification -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_fail((SELECT handle FROM x1), 'm', 'Transient')$$, 'YFV01', NULL, 'classification is case-sensitive -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_fail((SELECT handle FROM x1), NULL)$$, 'YFV01', NULL, 'NULL message -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_fail((SELECT handle FROM x1), '')$$, 'YFV01', NULL, 'empty message -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_fail(NULL, 'm')$$, 'YFV01', NULL, 'NULL handle -> YFV01');
SELECT throws_ok(
    $$SELECT f.* FROM x1, ff_handle_describe(x1.handle) d,
             ff_fail(ff_handle_encode(d.execution_id, d.attempt_index::int, d.attempt_id, d.lease_id,
                                      d.lease_epoch + 99, d.lease_ttl_ms, d.lane_id, d.worker_instance_id), 'm') f$$,
    'YFS01', NULL, 'typed_fail fail_stale_lease_on_wrong_epoch: epoch + 99 -> YFS01');
SELECT results_eq(
    $$SELECT public_state, retry_count, last_failure_message FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000561'$$,
    $$VALUES ('active'::text, 0, NULL::text)$$,
    'rejected fails left the execution active and untouched');
SELECT lives_ok($$SELECT ff_complete((SELECT handle FROM x1))$$, 'the real handle still completes');
SELECT throws_ok($$SELECT * FROM ff_fail((SELECT handle FROM x1), 'm')$$, 'YFC11', NULL,
                 'typed_fail fail_execution_not_active_on_terminal -> YFC11');

SELECT * FROM finish();
ROLLBACK;

-- The one-shot reconcilers: lease expiry (and the reclaim that follows,
-- up to max_reclaim_count), attempt timeout, execution deadline, batch
-- sizes. Includes spec A §11 pg_reconciler_timeouts scenarios.
-- The engine clock only moves forward in this file; every lease that is not
-- meant to expire is long (600 s).
BEGIN;
SELECT plan(61);

------------------------------------------------------------------------------
-- lease expiry and reclaim (pg_reconciler_timeouts:
-- lease_expiry_releases_orphaned_lease_and_claim_from_reclaim_succeeds)
------------------------------------------------------------------------------
SELECT ff_create_execution('tap08-lease', execution_id => '{fp:80}:00000000-0000-4000-8000-000000000801', namespace => 'ns8');
CREATE TEMP TABLE l1 AS SELECT * FROM ff_claim('tap08-lease', 'w1', 'wi-1', lease_ttl_ms => 1000);
SELECT is(ff_reconcile_lease_expiry(), 0, 'lease not yet expired: nothing to do');

SET LOCAL flowfabric.clock_offset_ms = 2000;
SELECT is(ff_reconcile_lease_expiry(), 1, 'lease expired: one execution marked');
SELECT results_eq(
    $$SELECT lifecycle_phase, ownership_state, eligibility_state, blocking_reason, terminal_outcome,
             attempt_state, public_state, blocking_detail
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000801'$$,
    $$VALUES ('active'::text, 'lease_expired_reclaimable'::text, 'not_applicable'::text, 'waiting_for_worker'::text,
              'none'::text, 'attempt_interrupted'::text, 'active'::text, 'lease expired, awaiting reclaim'::text)$$,
    'marked: active/lease_expired_reclaimable/(kept)/waiting_for_worker/none/attempt_interrupted -> active');
SELECT results_eq(
    $$SELECT attempt_lifecycle, lease_expires_at_ms, ended_at_ms IS NOT NULL FROM ff_attempt
       WHERE execution_id = '00000000-0000-4000-8000-000000000801'$$,
    $$VALUES ('interrupted_reclaimed'::text, NULL::bigint, true)$$,
    'the attempt is interrupted_reclaimed and its lease cleared');
SELECT results_eq(
    $$SELECT event_type, reason, attempt_index, lease_epoch, namespace FROM ff_lease_event
       WHERE execution_id = '00000000-0000-4000-8000-000000000801' ORDER BY event_id$$,
    $$VALUES ('acquired'::text, NULL::text, 0, 1::bigint, 'ns8'::text), ('expired', 'lease_expired', 0, 1, 'ns8')$$,
    'lease events: acquired, expired (lease_expired)');
SELECT is((SELECT count(*) FROM ff_completion_event WHERE execution_id = '00000000-0000-4000-8000-000000000801'),
          0::bigint, 'lease expiry is not a completion');
SELECT is(ff_reconcile_lease_expiry(), 0, 'a second run finds nothing');

CREATE TEMP TABLE l2 AS SELECT * FROM ff_claim('tap08-lease', 'w2', 'wi-2', lease_ttl_ms => 600000);
SELECT results_eq($$SELECT execution_id, attempt_index, lease_epoch FROM l2$$,
                  $$VALUES ('{fp:80}:00000000-0000-4000-8000-000000000801'::text, 1, 2::bigint)$$,
                  'a claim on the lane reclaims it: attempt 1, epoch 2');
SELECT results_eq(
    $$SELECT attempt_index, attempt_type, attempt_lifecycle, worker_id FROM ff_attempt
       WHERE execution_id = '00000000-0000-4000-8000-000000000801' ORDER BY attempt_index$$,
    $$VALUES (0, 'initial'::text, 'interrupted_reclaimed'::text, 'w1'::text), (1, 'reclaim', 'started', 'w2')$$,
    'attempt 1 is a reclaim attempt held by w2');
SELECT results_eq(
    $$SELECT public_state, ownership_state, attempt_state, attempt_index, total_attempt_count, reclaim_count, retry_count
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000801'$$,
    $$VALUES ('active'::text, 'leased'::text, 'running_attempt'::text, 1, 2, 1, 0)$$,
    'active and leased again, reclaim_count 1 (retry_count untouched)');
SELECT results_eq(
    $$SELECT event_type, lease_epoch, worker_id FROM ff_lease_event
       WHERE execution_id = '00000000-0000-4000-8000-000000000801' ORDER BY event_id DESC LIMIT 1$$,
    $$VALUES ('reclaimed'::text, 2::bigint, 'w2'::text)$$,
    'the reclaim writes a reclaimed lease event');

------------------------------------------------------------------------------
-- reclaim cap
------------------------------------------------------------------------------
SELECT ff_create_execution('tap08-cap', execution_id => '{fp:80}:00000000-0000-4000-8000-000000000811',
                           policy => '{"max_reclaim_count": 1}');
CREATE TEMP TABLE r1 AS SELECT * FROM ff_claim('tap08-cap', 'w1', 'wi-1', lease_ttl_ms => 1000);
SET LOCAL flowfabric.clock_offset_ms = 4000;
SELECT is(ff_reconcile_lease_expiry(), 1, 'cap: first expiry marked');
SELECT results_eq($$SELECT attempt_index, lease_epoch FROM ff_claim('tap08-cap', 'w2', 'wi-2', lease_ttl_ms => 1000)$$,
                  $$VALUES (1, 2::bigint)$$, 'cap: the first reclaim (1 of max 1) is allowed');
SET LOCAL flowfabric.clock_offset_ms = 6000;
SELECT is(ff_reconcile_lease_expiry(), 1, 'cap: second expiry marked');
SELECT is((SELECT count(*) FROM ff_claim('tap08-cap', 'w3', 'wi-3')), 0::bigint,
          'cap: the second reclaim is refused and the claim returns nothing');
SELECT results_eq(
    $$SELECT lifecycle_phase, ownership_state, terminal_outcome, attempt_state, public_state,
             last_failure_message, reclaim_count, total_attempt_count
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000811'$$,
    $$VALUES ('terminal'::text, 'unowned'::text, 'failed'::text, 'attempt_terminal'::text, 'failed'::text,
              'max_reclaims_exceeded'::text, 2, 2)$$,
    'cap exceeded: terminal failed, last_failure_message max_reclaims_exceeded');
SELECT results_eq(
    $$SELECT outcome FROM ff_completion_event WHERE execution_id = '00000000-0000-4000-8000-000000000811'$$,
    $$VALUES ('failed'::text)$$, 'cap exceeded: one failed completion event');
SELECT is((SELECT count(*) FROM ff_attempt WHERE execution_id = '00000000-0000-4000-8000-000000000811' AND lease_expires_at_ms IS NOT NULL),
          0::bigint, 'cap exceeded: no attempt holds a lease');

SELECT ff_create_execution('tap08-cap0', execution_id => '{fp:80}:00000000-0000-4000-8000-000000000812',
                           policy => '{"timeout_policy": {"max_reclaim_count": 0}}');
CREATE TEMP TABLE r0 AS SELECT * FROM ff_claim('tap08-cap0', 'w1', 'wi-1', lease_ttl_ms => 1000);
SET LOCAL flowfabric.clock_offset_ms = 8000;
SELECT is(ff_reconcile_lease_expiry(), 1, 'timeout_policy.max_reclaim_count 0: expiry marked');
-- a younger, plainly claimable execution waits behind the capped one
SELECT ff_create_execution('tap08-cap0', execution_id => '{fp:80}:00000000-0000-4000-8000-000000000813');
SELECT results_eq($$SELECT execution_id, attempt_index FROM ff_claim('tap08-cap0', 'w2', 'wi-2')$$,
                  $$VALUES ('{fp:80}:00000000-0000-4000-8000-000000000813'::text, 0)$$,
                  'a claim that trips the reclaim cap still hands out the next claimable execution of the lane');
SELECT results_eq(
    $$SELECT public_state, total_attempt_count, last_failure_message FROM ff_execution
       WHERE execution_id = '00000000-0000-4000-8000-000000000812'$$,
    $$VALUES ('failed'::text, 1, 'max_reclaims_exceeded'::text)$$,
    'timeout_policy.max_reclaim_count 0: no reclaim at all, failed');

------------------------------------------------------------------------------
-- attempt timeout (pg_reconciler_timeouts:
-- attempt_timeout_retries_remain_makes_execution_eligible_again)
------------------------------------------------------------------------------
SELECT ff_create_execution('tap08-timeout', execution_id => '{fp:81}:00000000-0000-4000-8000-000000000821',
        policy => '{"timeout_policy": {"attempt_timeout_ms": 1000}, "retry_policy": {"max_retries": 1, "backoff": {"type": "fixed", "delay_ms": 0}}}');
CREATE TEMP TABLE t1 AS SELECT * FROM ff_claim('tap08-timeout', 'w1', 'wi-1', lease_ttl_ms => 600000);
SELECT ok((SELECT a.timeout_at_ms = a.started_at_ms + 1000 FROM ff_attempt a
            WHERE a.execution_id = '00000000-0000-4000-8000-000000000821'),
          'the claim arms the attempt timeout at start + attempt_timeout_ms');
SELECT is(ff_reconcile_attempt_timeout(), 0, 'attempt timeout not yet due');

SET LOCAL flowfabric.clock_offset_ms = 9600;
SELECT is(ff_reconcile_attempt_timeout(), 1, 'first timeout processed');
SELECT results_eq(
    $$SELECT lifecycle_phase, ownership_state, eligibility_state, blocking_reason, terminal_outcome, attempt_state,
             public_state, retry_count, last_failure_message, last_failure_category
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000821'$$,
    $$VALUES ('runnable'::text, 'unowned'::text, 'eligible_now'::text, 'waiting_for_worker'::text, 'none'::text,
              'pending_retry_attempt'::text, 'waiting'::text, 1, 'attempt_timeout'::text, 'timeout'::text)$$,
    'retries left: runnable/eligible_now/pending_retry_attempt -> waiting, failure attempt_timeout/timeout');
SELECT results_eq(
    $$SELECT attempt_lifecycle, failure_category, lease_expires_at_ms, timeout_at_ms FROM ff_attempt
       WHERE execution_id = '00000000-0000-4000-8000-000000000821'$$,
    $$VALUES ('ended_failure'::text, 'timeout'::text, NULL::bigint, NULL::bigint)$$,
    'the timed-out attempt ended_failure, lease and timeout disarmed');
SELECT results_eq(
    $$SELECT event_type, reason FROM ff_lease_event WHERE execution_id = '00000000-0000-4000-8000-000000000821' ORDER BY event_id$$,
    $$VALUES ('acquired'::text, NULL::text), ('expired', 'attempt_timeout')$$,
    'lease events: acquired, expired (attempt_timeout)');
SELECT is((SELECT count(*) FROM ff_completion_event WHERE execution_id = '00000000-0000-4000-8000-000000000821'),
          0::bigint, 'no completion event while a retry remains');
SELECT throws_ok($$SELECT ff_complete((SELECT handle FROM t1))$$, 'YFC11', NULL, 'the timed-out handle gets YFC11 on complete');
-- the worker never failed: its first ff_fail is no replay of the reconciler's decision
SELECT throws_ok($$SELECT * FROM ff_fail((SELECT handle FROM t1), 'worker failure after the timeout')$$, 'YFC11', NULL,
                 'the timed-out handle gets YFC11 on fail too (not a replayed retry_scheduled)');
SELECT throws_ok($$SELECT * FROM ff_fail((SELECT handle FROM t1), 'attempt_timeout', 'timeout')$$, 'YFC11', NULL,
                 'even a worker fail whose message and class equal the reconciler''s (attempt_timeout/timeout) is no replay: YFC11');
SELECT is(ff_reconcile_attempt_timeout(), 0, 'a second run finds nothing');

CREATE TEMP TABLE t2 AS SELECT * FROM ff_claim('tap08-timeout', 'w2', 'wi-2', lease_ttl_ms => 600000);
SELECT results_eq($$SELECT attempt_index, lease_epoch FROM t2$$, $$VALUES (1, 2::bigint)$$,
                  'the retry is claimed as attempt 1');
SET LOCAL flowfabric.clock_offset_ms = 11200;
SELECT is(ff_reconcile_attempt_timeout(), 1, 'second timeout processed');
SELECT results_eq(
    $$SELECT lifecycle_phase, ownership_state, eligibility_state, terminal_outcome, attempt_state, public_state
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000821'$$,
    $$VALUES ('terminal'::text, 'unowned'::text, 'not_applicable'::text, 'expired'::text, 'attempt_terminal'::text, 'expired'::text)$$,
    'retries exhausted: terminal expired');
SELECT results_eq(
    $$SELECT outcome, attempt_index FROM ff_completion_event WHERE execution_id = '00000000-0000-4000-8000-000000000821'$$,
    $$VALUES ('expired'::text, 1)$$, 'one completion event: expired');
SELECT throws_ok($$SELECT * FROM ff_fail((SELECT handle FROM t2), 'worker failure after the timeout')$$, 'YFC11', NULL,
                 'after the terminal timeout the handle gets YFC11 on fail (not terminal_failed: the execution expired)');

-- pg_reconciler_timeouts: attempt_timeout_retries_exhausted_terminalizes_and_emits_event (max_retries 0)
SELECT ff_create_execution('tap08-timeout0', execution_id => '{fp:81}:00000000-0000-4000-8000-000000000822',
        policy => '{"timeout_policy": {"attempt_timeout_ms": 500}, "retry_policy": {"max_retries": 0}}');
CREATE TEMP TABLE t3 AS SELECT * FROM ff_claim('tap08-timeout0', 'w1', 'wi-1', lease_ttl_ms => 600000);
SET LOCAL flowfabric.clock_offset_ms = 12000;
SELECT is(ff_reconcile_attempt_timeout(), 1, 'max_retries 0: timeout processed');
SELECT results_eq(
    $$SELECT e.lifecycle_phase, e.public_state, c.outcome FROM ff_execution e
        JOIN ff_completion_event c USING (partition_key, execution_id)
       WHERE e.execution_id = '00000000-0000-4000-8000-000000000822'$$,
    $$VALUES ('terminal'::text, 'expired'::text, 'expired'::text)$$,
    'max_retries 0: terminal expired with an expired completion event');

------------------------------------------------------------------------------
-- execution deadline
------------------------------------------------------------------------------
CREATE TEMP TABLE dl AS SELECT ff_server_time_ms() + 1000 AS soon, ff_server_time_ms() + 100000 AS late;
SELECT ff_create_execution('tap08-dl-waiting', execution_id => '{fp:82}:00000000-0000-4000-8000-000000000831',
                           execution_deadline_at => (SELECT soon FROM dl));
SELECT ff_create_execution('tap08-dl-active', execution_id => '{fp:82}:00000000-0000-4000-8000-000000000832',
                           execution_deadline_at => (SELECT soon FROM dl));
SELECT ff_create_execution('tap08-dl-later', execution_id => '{fp:82}:00000000-0000-4000-8000-000000000833',
                           execution_deadline_at => (SELECT late FROM dl));
SELECT ff_create_execution('tap08-dl-delayed', execution_id => '{fp:82}:00000000-0000-4000-8000-000000000834',
                           execution_deadline_at => (SELECT soon FROM dl), delay_until => (SELECT late FROM dl));
CREATE TEMP TABLE d2 AS SELECT * FROM ff_claim('tap08-dl-active', 'w1', 'wi-1', lease_ttl_ms => 600000);
SELECT is((SELECT deadline_at_ms FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000831'),
          (SELECT soon FROM dl), 'the deadline is stored');
SELECT is(ff_reconcile_execution_deadline(), 0, 'no deadline passed yet');

SET LOCAL flowfabric.clock_offset_ms = 14000;
SELECT is(ff_reconcile_execution_deadline(), 3, 'the waiting, the active and the delayed execution pass their deadline');
SELECT results_eq(
    $$SELECT execution_id::text, lifecycle_phase, ownership_state, terminal_outcome, attempt_state, public_state,
             last_failure_message, delay_until_ms
        FROM ff_execution WHERE lane_id LIKE 'tap08-dl-%' ORDER BY execution_id$$,
    $$VALUES ('00000000-0000-4000-8000-000000000831'::text, 'terminal'::text, 'unowned'::text, 'expired'::text,
              'pending_first_attempt'::text, 'expired'::text, 'execution_deadline'::text, NULL::bigint),
             ('00000000-0000-4000-8000-000000000832', 'terminal', 'unowned', 'expired', 'attempt_terminal', 'expired', 'execution_deadline', NULL),
             ('00000000-0000-4000-8000-000000000833', 'runnable', 'unowned', 'none', 'pending_first_attempt', 'waiting', NULL, NULL),
             ('00000000-0000-4000-8000-000000000834', 'terminal', 'unowned', 'expired', 'pending_first_attempt', 'expired', 'execution_deadline', NULL)$$,
    'expired from waiting, active and delayed; the later deadline is untouched');
SELECT results_eq(
    $$SELECT execution_id::text, outcome, attempt_index FROM ff_completion_event
       WHERE execution_id::text LIKE '00000000-0000-4000-8000-00000000083_' ORDER BY execution_id$$,
    $$VALUES ('00000000-0000-4000-8000-000000000831'::text, 'expired'::text, NULL::integer),
             ('00000000-0000-4000-8000-000000000832', 'expired', 0),
             ('00000000-0000-4000-8000-000000000834', 'expired', NULL)$$,
    'an expired completion event for each (attempt index only where an attempt ran)');
SELECT results_eq(
    $$SELECT event_type, reason FROM ff_lease_event WHERE execution_id = '00000000-0000-4000-8000-000000000832' ORDER BY event_id$$,
    $$VALUES ('acquired'::text, NULL::text), ('expired', 'execution_deadline')$$,
    'the active one: lease event expired (execution_deadline)');
SELECT results_eq(
    $$SELECT attempt_lifecycle, lease_expires_at_ms, failure_message FROM ff_attempt
       WHERE execution_id = '00000000-0000-4000-8000-000000000832'$$,
    $$VALUES ('ended_failure'::text, NULL::bigint, 'execution_deadline'::text)$$,
    'the active one''s attempt ended, lease cleared');
SELECT throws_ok($$SELECT ff_renew((SELECT handle FROM d2))$$, 'YFC11', NULL, 'the expired execution''s handle gets YFC11');
SELECT throws_ok($$SELECT * FROM ff_fail((SELECT handle FROM d2), 'worker failure after the deadline')$$, 'YFC11', NULL,
                 'the expired execution''s handle gets YFC11 on fail too (not terminal_failed)');
SELECT throws_ok($$SELECT * FROM ff_fail((SELECT handle FROM d2), 'execution_deadline', 'timeout')$$, 'YFC11', NULL,
                 'even with the reconciler''s own message and class (execution_deadline/timeout): YFC11, no replay');
SELECT is(ff_reconcile_execution_deadline(), 0, 'a second run finds nothing');
SELECT is((SELECT count(*) FROM ff_claim('tap08-dl-waiting', 'w', 'wi')), 0::bigint, 'an expired execution is not claimable');

------------------------------------------------------------------------------
-- batch sizes
------------------------------------------------------------------------------
SELECT ff_create_execution('tap08-batch') FROM generate_series(1, 2);
SELECT count(*) FROM ff_claim('tap08-batch', 'w', 'wi', lease_ttl_ms => 1000, max_claims => 2);
SET LOCAL flowfabric.clock_offset_ms = 16000;
SELECT is(ff_reconcile_lease_expiry(1), 1, 'batch_size 1 handles one expired lease');
SELECT is(ff_reconcile_lease_expiry(1), 1, 'the next run handles the other');
SELECT is(ff_reconcile_lease_expiry(1), 0, 'then none are left');
SELECT is((SELECT count(*) FROM ff_execution WHERE lane_id = 'tap08-batch' AND ownership_state = 'lease_expired_reclaimable'),
          2::bigint, 'both were marked');

SELECT throws_ok($$SELECT ff_reconcile_lease_expiry(0)$$, 'YFV01', NULL, 'lease expiry batch_size 0 -> YFV01');
SELECT throws_ok($$SELECT ff_reconcile_lease_expiry(100001)$$, 'YFV01', NULL, 'lease expiry batch_size 100001 -> YFV01');
SELECT throws_ok($$SELECT ff_reconcile_attempt_timeout(0)$$, 'YFV01', NULL, 'attempt timeout batch_size 0 -> YFV01');
SELECT throws_ok($$SELECT ff_reconcile_delayed_promotion(-1)$$, 'YFV01', NULL, 'delayed promotion batch_size -1 -> YFV01');
SELECT throws_ok($$SELECT ff_reconcile_execution_deadline(0)$$, 'YFV01', NULL, 'execution deadline batch_size 0 -> YFV01');
SELECT lives_ok($$SELECT ff_reconcile_delayed_promotion(100000)$$, 'batch_size 100000 is accepted');

SELECT * FROM finish();
ROLLBACK;

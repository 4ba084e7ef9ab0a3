-- ff_claim: result columns, the handle, state and attempt rows, the lease
-- event, ordering (priority, then age), capability routing, batches and
-- input validation.
BEGIN;
SELECT plan(58);

------------------------------------------------------------------------------
-- one claim, inspected closely
------------------------------------------------------------------------------
SELECT ff_create_execution('tap02-a', input_payload => '\xab'::bytea,
                           execution_id => '{fp:20}:00000000-0000-4000-8000-000000000201');

CREATE TEMP TABLE t0 AS SELECT ff_server_time_ms() AS ms;
CREATE TEMP TABLE c1 AS SELECT * FROM ff_claim('tap02-a', 'worker-1', 'wi-1', '{}', 30000);
CREATE TEMP TABLE t1 AS SELECT ff_server_time_ms() AS ms;

SELECT results_eq(
    $$SELECT execution_id, attempt_index, lease_epoch, input_payload FROM c1$$,
    $$VALUES ('{fp:20}:00000000-0000-4000-8000-000000000201'::text, 0, 1::bigint, '\xab'::bytea)$$,
    'claim returns the execution id, attempt 0, epoch 1 and the input payload');
SELECT ok((SELECT lease_expires_at_ms BETWEEN (SELECT ms FROM t0) + 30000 AND (SELECT ms FROM t1) + 30000 FROM c1),
          'lease_expires_at_ms = now + lease_ttl_ms');

SELECT results_eq(
    $$SELECT d.backend, d.format, d.execution_id, d.attempt_index, d.lease_epoch, d.lease_ttl_ms,
             d.lane_id, d.worker_instance_id
        FROM c1, ff_handle_describe(c1.handle) d$$,
    $$VALUES ('postgres'::text, 2, '{fp:20}:00000000-0000-4000-8000-000000000201'::text, 0::bigint,
              1::bigint, 30000::bigint, 'tap02-a'::text, 'wi-1'::text)$$,
    'the handle decodes to backend, execution, attempt, epoch, ttl, lane and worker instance');
SELECT results_eq(
    $$SELECT d.attempt_id, d.lease_id FROM c1, ff_handle_describe(c1.handle) d$$,
    $$SELECT attempt_id::text, lease_id::text FROM ff_attempt
       WHERE execution_id = '00000000-0000-4000-8000-000000000201' AND attempt_index = 0$$,
    'the handle carries the persisted attempt id and lease id');

SELECT results_eq(
    $$SELECT lifecycle_phase, ownership_state, eligibility_state, blocking_reason,
             terminal_outcome, attempt_state, public_state
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000201'$$,
    $$VALUES ('active'::text, 'leased'::text, 'not_applicable'::text, 'none'::text, 'none'::text,
              'running_attempt'::text, 'active'::text)$$,
    'claim writes active/leased/not_applicable/none/none/running_attempt -> active');
SELECT results_eq(
    $$SELECT attempt_index, total_attempt_count, lease_epoch, retry_count, reclaim_count, blocking_detail
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000201'$$,
    $$VALUES (0, 1, 1::bigint, 0, 0, NULL::text)$$,
    'claim sets the current attempt 0, total_attempt_count 1, lease epoch 1');
SELECT ok((SELECT started_at_ms BETWEEN (SELECT ms FROM t0) AND (SELECT ms FROM t1)
                  AND last_mutation_at_ms = started_at_ms
             FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000201'),
          'claim sets started_at_ms (and last_mutation_at_ms) to now');

SELECT results_eq(
    $$SELECT a.attempt_type, a.attempt_lifecycle, a.worker_id, a.worker_instance_id, a.lease_epoch,
             a.lease_ttl_ms, a.lease_expires_at_ms = c1.lease_expires_at_ms,
             a.lease_renewed_at_ms, a.ended_at_ms, a.timeout_at_ms, a.failure_message
        FROM ff_attempt a, c1
       WHERE a.execution_id = '00000000-0000-4000-8000-000000000201'$$,
    $$VALUES ('initial'::text, 'started'::text, 'worker-1'::text, 'wi-1'::text, 1::bigint,
              30000::bigint, true, NULL::bigint, NULL::bigint, NULL::bigint, NULL::text)$$,
    'exactly one attempt row: initial, started, held by worker-1/wi-1 at epoch 1, no timeout');
SELECT ok((SELECT a.lease_acquired_at_ms = e.started_at_ms AND a.started_at_ms = e.started_at_ms
             FROM ff_attempt a JOIN ff_execution e USING (partition_key, execution_id)
            WHERE a.execution_id = '00000000-0000-4000-8000-000000000201'),
          'attempt started_at_ms and lease_acquired_at_ms are the claim time');

SELECT results_eq(
    $$SELECT l.event_type, l.attempt_index, l.lease_epoch, l.lease_id = a.lease_id, l.reason,
             l.worker_id, l.worker_instance_id, l.partition_key
        FROM ff_lease_event l
        JOIN ff_attempt a ON a.execution_id = l.execution_id AND a.attempt_index = l.attempt_index
       WHERE l.execution_id = '00000000-0000-4000-8000-000000000201'$$,
    $$VALUES ('acquired'::text, 0, 1::bigint, true, NULL::text, 'worker-1'::text, 'wi-1'::text, 20::smallint)$$,
    'claim writes one lease event: acquired, with the lease id, epoch and worker');
SELECT is((SELECT count(*) FROM ff_completion_event WHERE execution_id = '00000000-0000-4000-8000-000000000201'),
          0::bigint, 'claim writes no completion event');

SELECT is((SELECT count(*) FROM ff_claim('tap02-a', 'worker-2', 'wi-2')), 0::bigint,
          'a leased execution is not claimed again');

------------------------------------------------------------------------------
-- started_at_ms is set once; a retry claim creates attempt 1
------------------------------------------------------------------------------
SELECT ff_create_execution('tap02-retry', execution_id => '{fp:20}:00000000-0000-4000-8000-000000000211',
        policy => '{"retry_policy": {"max_retries": 1, "backoff": {"type": "fixed", "delay_ms": 0}}}');
CREATE TEMP TABLE r1 AS SELECT * FROM ff_claim('tap02-retry', 'w', 'wi-r1');
SELECT results_eq($$SELECT outcome, delay_until IS NOT NULL FROM ff_fail((SELECT handle FROM r1), 'boom')$$,
                  $$VALUES ('retry_scheduled'::text, true)$$,
                  'setup: a failure with zero backoff schedules a retry');
CREATE TEMP TABLE s1 AS SELECT started_at_ms FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000211';
SET LOCAL flowfabric.clock_offset_ms = 5000;
CREATE TEMP TABLE r2 AS SELECT * FROM ff_claim('tap02-retry', 'w', 'wi-r2');
SELECT results_eq($$SELECT attempt_index, lease_epoch FROM r2$$, $$VALUES (1, 2::bigint)$$,
                  'the retry claim gets attempt 1 at epoch 2');
SELECT results_eq(
    $$SELECT total_attempt_count, attempt_index, started_at_ms FROM ff_execution
       WHERE execution_id = '00000000-0000-4000-8000-000000000211'$$,
    $$SELECT 2, 1, started_at_ms FROM s1$$,
    'total_attempt_count is 2 and started_at_ms keeps the first claim time');
SELECT ok((SELECT a.started_at_ms >= s1.started_at_ms + 5000 FROM ff_attempt a, s1
            WHERE a.execution_id = '00000000-0000-4000-8000-000000000211' AND a.attempt_index = 1),
          'the new attempt has its own, later, started_at_ms');
SELECT is((SELECT attempt_type FROM ff_attempt
            WHERE execution_id = '00000000-0000-4000-8000-000000000211' AND attempt_index = 1),
          'retry', 'the second attempt is a retry');
SET LOCAL flowfabric.clock_offset_ms = 0;

------------------------------------------------------------------------------
-- ordering: priority first, then oldest
------------------------------------------------------------------------------
SELECT ff_create_execution('tap02-prio', execution_id => '{fp:21}:00000000-0000-4000-8000-000000000221', priority => 1);
SELECT ff_create_execution('tap02-prio', execution_id => '{fp:21}:00000000-0000-4000-8000-000000000222', priority => 10);
SELECT ff_create_execution('tap02-prio', execution_id => '{fp:21}:00000000-0000-4000-8000-000000000223', priority => 5);
SELECT is((SELECT execution_id FROM ff_claim('tap02-prio', 'w', 'wi')),
          '{fp:21}:00000000-0000-4000-8000-000000000222', 'priorities 1, 10, 5: priority 10 is claimed first');
SELECT is((SELECT execution_id FROM ff_claim('tap02-prio', 'w', 'wi')),
          '{fp:21}:00000000-0000-4000-8000-000000000223', 'then priority 5');
SELECT is((SELECT execution_id FROM ff_claim('tap02-prio', 'w', 'wi')),
          '{fp:21}:00000000-0000-4000-8000-000000000221', 'then priority 1');

-- equal priority: oldest created_at first (not insertion or uuid order)
SET LOCAL flowfabric.clock_offset_ms = 3000;
SELECT ff_create_execution('tap02-fifo', execution_id => '{fp:22}:00000000-0000-4000-8000-000000000231');
SET LOCAL flowfabric.clock_offset_ms = 1000;
SELECT ff_create_execution('tap02-fifo', execution_id => '{fp:22}:00000000-0000-4000-8000-000000000233');
SET LOCAL flowfabric.clock_offset_ms = 2000;
SELECT ff_create_execution('tap02-fifo', execution_id => '{fp:22}:00000000-0000-4000-8000-000000000232');
SET LOCAL flowfabric.clock_offset_ms = 4000;
SELECT is((SELECT execution_id FROM ff_claim('tap02-fifo', 'w', 'wi')),
          '{fp:22}:00000000-0000-4000-8000-000000000233', 'equal priority: the oldest (created at +1 s) first');
SELECT is((SELECT execution_id FROM ff_claim('tap02-fifo', 'w', 'wi')),
          '{fp:22}:00000000-0000-4000-8000-000000000232', 'then the one created at +2 s');
SELECT is((SELECT execution_id FROM ff_claim('tap02-fifo', 'w', 'wi')),
          '{fp:22}:00000000-0000-4000-8000-000000000231', 'then the one created at +3 s');

-- a younger high-priority execution beats an older low-priority one
SET LOCAL flowfabric.clock_offset_ms = 0;
SELECT ff_create_execution('tap02-mix', execution_id => '{fp:22}:00000000-0000-4000-8000-000000000241', priority => 0);
SET LOCAL flowfabric.clock_offset_ms = 1000;
SELECT ff_create_execution('tap02-mix', execution_id => '{fp:22}:00000000-0000-4000-8000-000000000242', priority => 2);
SELECT is((SELECT execution_id FROM ff_claim('tap02-mix', 'w', 'wi')),
          '{fp:22}:00000000-0000-4000-8000-000000000242', 'priority beats age');
SET LOCAL flowfabric.clock_offset_ms = 0;

------------------------------------------------------------------------------
-- capability routing
------------------------------------------------------------------------------
SELECT ff_create_execution('tap02-caps', execution_id => '{fp:23}:00000000-0000-4000-8000-000000000251',
                           required_capabilities => ARRAY['asr']);
SELECT is((SELECT count(*) FROM ff_claim('tap02-caps', 'w', 'wi', ARRAY['llm'])), 0::bigint,
          'requires asr, worker has llm: nothing claimed');
SELECT is((SELECT count(*) FROM ff_claim('tap02-caps', 'w', 'wi')), 0::bigint,
          'requires asr, worker has no capabilities: nothing claimed');
SELECT is((SELECT count(*) FROM ff_claim('tap02-caps', 'w', 'wi', ARRAY['ASR'])), 0::bigint,
          'capability tokens are case-sensitive');
SELECT is((SELECT lifecycle_phase FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000251'),
          'runnable', 'the unmatched execution stays runnable');
SELECT is((SELECT execution_id FROM ff_claim('tap02-caps', 'w', 'wi', ARRAY['llm', 'asr', 'gpu'])),
          '{fp:23}:00000000-0000-4000-8000-000000000251', 'a worker with a superset of the capabilities claims it');

SELECT ff_create_execution('tap02-caps2', execution_id => '{fp:23}:00000000-0000-4000-8000-000000000261',
                           priority => 100, required_capabilities => ARRAY['gpu']);
SELECT ff_create_execution('tap02-caps2', execution_id => '{fp:23}:00000000-0000-4000-8000-000000000262',
                           priority => 0);
SELECT is((SELECT execution_id FROM ff_claim('tap02-caps2', 'w', 'wi', ARRAY['cpu'])),
          '{fp:23}:00000000-0000-4000-8000-000000000262',
          'an unmatchable high-priority execution does not hide matchable ones');
SELECT is((SELECT execution_id FROM ff_claim('tap02-caps2', 'w', 'wi', ARRAY['gpu'])),
          '{fp:23}:00000000-0000-4000-8000-000000000261', 'the gpu worker then gets the gpu execution');

------------------------------------------------------------------------------
-- batches and empty lanes
------------------------------------------------------------------------------
SELECT ff_create_execution('tap02-batch', execution_id => '{fp:24}:00000000-0000-4000-8000-00000000027' || g)
  FROM generate_series(1, 3) g;
SELECT is((SELECT count(*) FROM ff_claim('tap02-batch', 'w', 'wi', max_claims => 2)), 2::bigint,
          'max_claims 2 claims two of three');
CREATE TEMP TABLE b2 AS SELECT * FROM ff_claim('tap02-batch', 'w', 'wi', max_claims => 5);
SELECT is((SELECT count(*) FROM b2), 1::bigint, 'max_claims 5 claims the one left');
SELECT is((SELECT count(DISTINCT execution_id) FROM ff_lease_event
            WHERE execution_id::text LIKE '00000000-0000-4000-8000-00000000027_' AND event_type = 'acquired'),
          3::bigint, 'the batch claims handed out three distinct executions');
SELECT is((SELECT count(*) FROM ff_execution WHERE lane_id = 'tap02-batch' AND public_state = 'active'),
          3::bigint, 'all three are active');

SELECT ff_create_execution('tap02-batch2', execution_id => '{fp:24}:00000000-0000-4000-8000-00000000028' || g)
  FROM generate_series(1, 4) g;
CREATE TEMP TABLE b3 AS SELECT * FROM ff_claim('tap02-batch2', 'w', 'wi', max_claims => 10);
SELECT results_eq($$SELECT count(*), count(DISTINCT execution_id), count(DISTINCT handle), min(lease_epoch), max(lease_epoch) FROM b3$$,
                  $$VALUES (4::bigint, 4::bigint, 4::bigint, 1::bigint, 1::bigint)$$,
                  'one batch claim returns four distinct executions with distinct handles');

SELECT is((SELECT count(*) FROM ff_claim('tap02-empty', 'w', 'wi', max_claims => 10)), 0::bigint,
          'an unknown / empty lane returns zero rows');
SELECT lives_ok($$SELECT * FROM ff_claim('tap02-empty', 'w', 'wi', lease_ttl_ms => 604800000, max_claims => 1000)$$,
                'lease_ttl_ms of exactly 7 days and max_claims 1000 are accepted');

------------------------------------------------------------------------------
-- bad inputs
------------------------------------------------------------------------------
SELECT ff_create_execution('tap02-bad', execution_id => '{fp:25}:00000000-0000-4000-8000-000000000291');

SELECT throws_ok($$SELECT * FROM ff_claim('tap02-bad', NULL, 'wi')$$, 'YFV01', NULL, 'NULL worker_id -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_claim('tap02-bad', '', 'wi')$$, 'YFV01', NULL, 'empty worker_id -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_claim('tap02-bad', 'w', NULL)$$, 'YFV01', NULL, 'NULL worker_instance_id -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_claim('tap02-bad', 'w', '')$$, 'YFV01', NULL, 'empty worker_instance_id -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_claim('tap02-bad', 'w', 'wi', lease_ttl_ms => 0)$$, 'YFV01', NULL, 'lease_ttl_ms 0 -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_claim('tap02-bad', 'w', 'wi', lease_ttl_ms => -1000)$$, 'YFV01', NULL, 'negative lease_ttl_ms -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_claim('tap02-bad', 'w', 'wi', lease_ttl_ms => 604800001)$$, 'YFV01', NULL, 'lease_ttl_ms over 7 days -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_claim('tap02-bad', 'w', 'wi', max_claims => 0)$$, 'YFV01', NULL, 'max_claims 0 -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_claim('tap02-bad', 'w', 'wi', max_claims => 1001)$$, 'YFV01', NULL, 'max_claims 1001 -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_claim('tap02-bad', 'w', 'wi', ARRAY[''])$$, 'YFV03', NULL, 'empty capability token -> YFV03');
SELECT throws_ok($$SELECT * FROM ff_claim('tap02-bad', 'w', 'wi', ARRAY['a,b'])$$, 'YFV03', NULL, 'capability token with a comma -> YFV03');
SELECT throws_ok($$SELECT * FROM ff_claim('tap02-bad', 'w', 'wi', ARRAY['a b'])$$, 'YFV03', NULL, 'capability token with a space -> YFV03');
SELECT throws_ok($$SELECT * FROM ff_claim('tap02-bad', 'w', 'wi', ARRAY['ok', NULL])$$, 'YFV03', NULL, 'NULL capability token -> YFV03');
SELECT throws_ok($$SELECT * FROM ff_claim('tap02-bad', 'w', 'wi', (SELECT array_agg('c' || g) FROM generate_series(1, 257) g))$$,
                 'YFV03', NULL, '257 capability tokens -> YFV03');
SELECT throws_ok($$SELECT * FROM ff_claim(NULL, 'w', 'wi')$$, 'YFV01', NULL, 'NULL lane -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_claim('', 'w', 'wi')$$, 'YFV01', NULL, 'empty lane -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_claim(repeat('l', 65), 'w', 'wi')$$, 'YFV01', NULL, '65-byte lane -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_claim(E'tap02-bad\n', 'w', 'wi')$$, 'YFV01', NULL, 'lane with a newline -> YFV01');

SELECT results_eq(
    $$SELECT public_state, total_attempt_count, lease_epoch FROM ff_execution
       WHERE execution_id = '00000000-0000-4000-8000-000000000291'$$,
    $$VALUES ('waiting'::text, 0, 0::bigint)$$,
    'no rejected claim touched the waiting execution');
SELECT is((SELECT count(*) FROM ff_attempt WHERE execution_id = '00000000-0000-4000-8000-000000000291')
        + (SELECT count(*) FROM ff_lease_event WHERE execution_id = '00000000-0000-4000-8000-000000000291'),
          0::bigint, 'no attempt row or lease event came from a rejected claim');

SELECT * FROM finish();
ROLLBACK;

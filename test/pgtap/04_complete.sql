-- ff_complete: terminal state, result, attempt, outbox events, idempotent
-- replay, and every other call refused afterwards.
BEGIN;
SELECT plan(31);

SELECT ff_create_execution('tap04-a', execution_id => '{fp:40}:00000000-0000-4000-8000-000000000401',
                           namespace => 'ns4', execution_kind => 'k4');
CREATE TEMP TABLE c1 AS SELECT * FROM ff_claim('tap04-a', 'w1', 'wi-1', lease_ttl_ms => 30000);

-- upstream happy_path_claim_progress_complete: progress 25 then 75, then complete
SELECT lives_ok($$SELECT ff_progress((SELECT handle FROM c1), 25)$$, 'progress 25');
SELECT lives_ok($$SELECT ff_progress((SELECT handle FROM c1), 75)$$, 'progress 75');
SELECT is(ff_get_execution_result('{fp:40}:00000000-0000-4000-8000-000000000401'), NULL::bytea,
          'no result before completion');

CREATE TEMP TABLE t0 AS SELECT ff_server_time_ms() AS ms;
SELECT lives_ok($$SELECT ff_complete((SELECT handle FROM c1), '\xdeadbeef'::bytea)$$, 'complete with a result');
CREATE TEMP TABLE t1 AS SELECT ff_server_time_ms() AS ms;

SELECT results_eq(
    $$SELECT lifecycle_phase, ownership_state, eligibility_state, blocking_reason,
             terminal_outcome, attempt_state, public_state
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000401'$$,
    $$VALUES ('terminal'::text, 'unowned'::text, 'not_applicable'::text, 'none'::text, 'success'::text,
              'attempt_terminal'::text, 'completed'::text)$$,
    'complete writes terminal/unowned/not_applicable/none/success/attempt_terminal -> completed');
SELECT ok((SELECT terminal_at_ms BETWEEN (SELECT ms FROM t0) AND (SELECT ms FROM t1)
                  AND last_mutation_at_ms = terminal_at_ms
             FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000401'),
          'terminal_at_ms (and last_mutation_at_ms) = completion time');
SELECT results_eq(
    $$SELECT result, attempt_index, total_attempt_count, lease_epoch, progress_pct, delay_until_ms, blocking_detail
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000401'$$,
    $$VALUES ('\xdeadbeef'::bytea, 0, 1, 1::bigint, 75, NULL::bigint, NULL::text)$$,
    'the result is stored; counters and last progress kept');
SELECT is(ff_get_execution_result('{fp:40}:00000000-0000-4000-8000-000000000401'), '\xdeadbeef'::bytea,
          'ff_get_execution_result returns the result');
SELECT is(ff_read_execution_state('{fp:40}:00000000-0000-4000-8000-000000000401'), 'completed',
          'ff_read_execution_state says completed');

SELECT results_eq(
    $$SELECT a.attempt_lifecycle, a.lease_expires_at_ms, a.ended_at_ms = e.terminal_at_ms, a.timeout_at_ms
        FROM ff_attempt a JOIN ff_execution e USING (partition_key, execution_id)
       WHERE a.execution_id = '00000000-0000-4000-8000-000000000401'$$,
    $$VALUES ('ended_success'::text, NULL::bigint, true, NULL::bigint)$$,
    'the attempt ended_success, lease cleared, ended_at_ms = terminal_at_ms');

SELECT results_eq(
    $$SELECT c.outcome, c.partition_key, c.lane_id, c.namespace, c.attempt_index, c.flow_id,
             c.occurred_at_ms = e.terminal_at_ms
        FROM ff_completion_event c JOIN ff_execution e USING (partition_key, execution_id)
       WHERE c.execution_id = '00000000-0000-4000-8000-000000000401'$$,
    $$VALUES ('success'::text, 40::smallint, 'tap04-a'::text, 'ns4'::text, 0, NULL::uuid, true)$$,
    'exactly one completion event: success, with lane, namespace and attempt');
SELECT results_eq(
    $$SELECT l.event_type, l.reason, l.lease_epoch, l.lease_id = a.lease_id, l.namespace
        FROM ff_lease_event l JOIN ff_attempt a USING (execution_id, attempt_index)
       WHERE l.execution_id = '00000000-0000-4000-8000-000000000401' ORDER BY l.event_id$$,
    $$VALUES ('acquired'::text, NULL::text, 1::bigint, true, 'ns4'::text),
             ('released', 'completed', 1, true, 'ns4')$$,
    'lease events: acquired, then released with reason completed');

------------------------------------------------------------------------------
-- replay
------------------------------------------------------------------------------
SELECT lives_ok($$SELECT ff_complete((SELECT handle FROM c1), '\xdeadbeef'::bytea)$$,
                'completing again with the same handle is a no-op, not an error');
SELECT lives_ok($$SELECT ff_complete((SELECT handle FROM c1), '\x00'::bytea)$$,
                'a replay with another payload is also a no-op');
SELECT is((SELECT count(*) FROM ff_completion_event WHERE execution_id = '00000000-0000-4000-8000-000000000401'),
          1::bigint, 'still exactly one completion event after the replays');
SELECT is((SELECT count(*) FROM ff_lease_event WHERE execution_id = '00000000-0000-4000-8000-000000000401'),
          2::bigint, 'still exactly two lease events after the replays');
SELECT is(ff_get_execution_result('{fp:40}:00000000-0000-4000-8000-000000000401'), '\xdeadbeef'::bytea,
          'the replay did not overwrite the result');

------------------------------------------------------------------------------
-- everything else after completion: execution_not_active
------------------------------------------------------------------------------
SELECT throws_ok($$SELECT * FROM ff_renew((SELECT handle FROM c1))$$, 'YFC11', NULL, 'renew after complete -> YFC11');
SELECT throws_ok($$SELECT ff_progress((SELECT handle FROM c1), 99)$$, 'YFC11', NULL, 'progress after complete -> YFC11');
SELECT throws_ok($$SELECT * FROM ff_fail((SELECT handle FROM c1), 'late failure')$$, 'YFC11', NULL, 'fail after complete -> YFC11');
SELECT throws_ok($$SELECT ff_cancel((SELECT handle FROM c1), 'too late')$$, 'YFC11', NULL, 'cancel after complete -> YFC11');
SELECT throws_ok($$SELECT ff_delay((SELECT handle FROM c1), ff_server_time_ms() + 1000)$$, 'YFC11', NULL, 'delay after complete -> YFC11');
-- a handle with the right attempt but another epoch is no replay
SELECT throws_ok(
    $$SELECT ff_complete(ff_handle_encode(d.execution_id, d.attempt_index::int, d.attempt_id, d.lease_id,
                                          d.lease_epoch + 1, d.lease_ttl_ms, d.lane_id, d.worker_instance_id))
        FROM c1, ff_handle_describe(c1.handle) d$$,
    'YFC11', NULL, 'complete with a forged epoch on a completed execution -> YFC11, not a replay');
SELECT results_eq(
    $$SELECT public_state, progress_pct FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000401'$$,
    $$VALUES ('completed'::text, 75)$$,
    'the refused calls changed nothing');
SELECT is((SELECT count(*) FROM ff_completion_event WHERE execution_id = '00000000-0000-4000-8000-000000000401')
        + (SELECT count(*) FROM ff_lease_event WHERE execution_id = '00000000-0000-4000-8000-000000000401'),
          3::bigint, 'and wrote no events');

------------------------------------------------------------------------------
-- complete without a payload; payload limits
------------------------------------------------------------------------------
SELECT ff_create_execution('tap04-b', execution_id => '{fp:40}:00000000-0000-4000-8000-000000000402');
CREATE TEMP TABLE c2 AS SELECT * FROM ff_claim('tap04-b', 'w2', 'wi-2');
SELECT lives_ok($$SELECT ff_complete((SELECT handle FROM c2))$$, 'complete without a result payload');
SELECT results_eq(
    $$SELECT public_state, result FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000402'$$,
    $$VALUES ('completed'::text, NULL::bytea)$$,
    'completed with a NULL result');
SELECT is(ff_get_execution_result('{fp:40}:00000000-0000-4000-8000-000000000402'), NULL::bytea,
          'ff_get_execution_result is NULL when no result was given');

SELECT ff_create_execution('tap04-c', execution_id => '{fp:40}:00000000-0000-4000-8000-000000000403');
CREATE TEMP TABLE c3 AS SELECT * FROM ff_claim('tap04-c', 'w3', 'wi-3');
SET LOCAL flowfabric.max_payload_bytes = 4;
SELECT throws_ok($$SELECT ff_complete((SELECT handle FROM c3), '\x0102030405'::bytea)$$, 'YFV05', NULL,
                 'a result over flowfabric.max_payload_bytes -> YFV05');
RESET flowfabric.max_payload_bytes;
SELECT is((SELECT public_state FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000403'),
          'active', 'the oversized complete left the execution active');
SELECT throws_ok($$SELECT ff_complete(NULL)$$, 'YFV01', NULL, 'complete with a NULL handle -> YFV01');

SELECT * FROM finish();
ROLLBACK;

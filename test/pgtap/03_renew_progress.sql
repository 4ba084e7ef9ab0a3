-- ff_renew and ff_progress: lease extension, the renewed event, progress
-- fields, percent bounds, and both calls refused once the lease expired.
BEGIN;
SELECT plan(27);

SELECT ff_create_execution('tap03-a', execution_id => '{fp:30}:00000000-0000-4000-8000-000000000301');
CREATE TEMP TABLE c1 AS SELECT * FROM ff_claim('tap03-a', 'w1', 'wi-1', lease_ttl_ms => 10000);

------------------------------------------------------------------------------
-- renew
------------------------------------------------------------------------------
SET LOCAL flowfabric.clock_offset_ms = 4000;
CREATE TEMP TABLE t0 AS SELECT ff_server_time_ms() AS ms;
CREATE TEMP TABLE r1 AS SELECT * FROM ff_renew((SELECT handle FROM c1));
CREATE TEMP TABLE t1 AS SELECT ff_server_time_ms() AS ms;

SELECT is((SELECT lease_epoch FROM r1), 1::bigint, 'renew returns the lease epoch (unchanged, 1)');
SELECT ok((SELECT lease_expires_at_ms BETWEEN (SELECT ms FROM t0) + 10000 AND (SELECT ms FROM t1) + 10000 FROM r1),
          'renew extends the lease to now + lease_ttl_ms (engine clock +4 s)');
SELECT ok((SELECT r1.lease_expires_at_ms >= c1.lease_expires_at_ms + 4000 FROM r1, c1),
          'the renewed expiry is at least 4 s later than the claimed one');
SELECT results_eq(
    $$SELECT a.lease_expires_at_ms, a.lease_expires_at_ms - a.lease_renewed_at_ms, a.lease_epoch
        FROM ff_attempt a WHERE a.execution_id = '00000000-0000-4000-8000-000000000301'$$,
    $$SELECT lease_expires_at_ms, 10000::bigint, 1::bigint FROM r1$$,
    'the attempt row stores the new expiry and lease_renewed_at_ms = expiry - ttl');
SELECT results_eq(
    $$SELECT l.event_type, l.attempt_index, l.lease_epoch, l.lease_id = a.lease_id, l.worker_instance_id
        FROM ff_lease_event l JOIN ff_attempt a USING (execution_id, attempt_index)
       WHERE l.execution_id = '00000000-0000-4000-8000-000000000301' ORDER BY l.event_id$$,
    $$VALUES ('acquired'::text, 0, 1::bigint, true, 'wi-1'::text), ('renewed', 0, 1, true, 'wi-1')$$,
    'renew writes one lease event: renewed, same lease and epoch');
SELECT results_eq(
    $$SELECT public_state, ownership_state, lease_epoch, attempt_index, total_attempt_count
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000301'$$,
    $$VALUES ('active'::text, 'leased'::text, 1::bigint, 0, 1)$$,
    'renew changes neither the state nor the epoch');

SET LOCAL flowfabric.clock_offset_ms = 12000;
CREATE TEMP TABLE r2 AS SELECT * FROM ff_renew((SELECT handle FROM c1));
SELECT ok((SELECT r2.lease_expires_at_ms >= r1.lease_expires_at_ms + 8000 FROM r1, r2),
          'a second renew (past the original expiry, inside the renewed one) extends again');
SELECT is((SELECT count(*) FROM ff_lease_event
            WHERE execution_id = '00000000-0000-4000-8000-000000000301' AND event_type = 'renewed'),
          2::bigint, 'two renewed events');
SELECT is((SELECT count(*) FROM ff_completion_event WHERE execution_id = '00000000-0000-4000-8000-000000000301'),
          0::bigint, 'renew writes no completion event');

------------------------------------------------------------------------------
-- progress
------------------------------------------------------------------------------
CREATE TEMP TABLE t2 AS SELECT ff_server_time_ms() AS ms;
SELECT lives_ok($$SELECT ff_progress((SELECT handle FROM c1), 42, 'halfway')$$, 'progress 42% with a message');
SELECT results_eq(
    $$SELECT progress_pct, progress_message,
             progress_updated_at_ms >= (SELECT ms FROM t2), last_mutation_at_ms = progress_updated_at_ms
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000301'$$,
    $$VALUES (42, 'halfway'::text, true, true)$$,
    'progress stores percent, message and progress_updated_at_ms');
SELECT lives_ok($$SELECT ff_progress((SELECT handle FROM c1), NULL, 'still going')$$, 'progress with only a message');
SELECT results_eq(
    $$SELECT progress_pct, progress_message FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000301'$$,
    $$VALUES (42, 'still going'::text)$$,
    'a NULL percent keeps the previous percent');
SELECT lives_ok($$SELECT ff_progress((SELECT handle FROM c1), 100)$$, 'progress 100% without a message');
SELECT results_eq(
    $$SELECT progress_pct, progress_message FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000301'$$,
    $$VALUES (100, 'still going'::text)$$,
    'a NULL message keeps the previous message');
SELECT lives_ok($$SELECT ff_progress((SELECT handle FROM c1), 0, 'restart')$$, 'progress 0% is allowed');
SELECT is((SELECT progress_pct FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000301'),
          0, 'progress 0 stored');

SELECT throws_ok($$SELECT ff_progress((SELECT handle FROM c1), -1, 'x')$$, 'YFV01', NULL, 'progress -1% -> YFV01');
SELECT throws_ok($$SELECT ff_progress((SELECT handle FROM c1), 101, 'x')$$, 'YFV01', NULL, 'progress 101% -> YFV01');
SELECT throws_ok($$SELECT ff_progress(NULL, 5, 'x')$$, 'YFV01', NULL, 'progress with a NULL handle -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_renew(NULL)$$, 'YFV01', NULL, 'renew with a NULL handle -> YFV01');
SELECT results_eq(
    $$SELECT progress_pct, progress_message FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000301'$$,
    $$VALUES (0, 'restart'::text)$$,
    'rejected progress calls changed nothing');
SELECT is((SELECT count(*) FROM ff_lease_event WHERE execution_id = '00000000-0000-4000-8000-000000000301'),
          3::bigint, 'progress writes no lease events (acquired + 2 renewed only)');

------------------------------------------------------------------------------
-- after the lease expired (time passed, no reconciler): lease_expired
------------------------------------------------------------------------------
-- last renewal at +12 s with ttl 10 s: the lease ends at about +22 s
SET LOCAL flowfabric.clock_offset_ms = 23000;
SELECT throws_ok($$SELECT * FROM ff_renew((SELECT handle FROM c1))$$, 'YFS02', NULL,
                 'renew after the lease expired -> YFS02');
SELECT throws_ok($$SELECT ff_progress((SELECT handle FROM c1), 50, 'late')$$, 'YFS02', NULL,
                 'progress after the lease expired -> YFS02');
SELECT results_eq(
    $$SELECT a.lease_expires_at_ms, e.progress_pct, e.public_state
        FROM ff_attempt a JOIN ff_execution e USING (partition_key, execution_id)
       WHERE a.execution_id = '00000000-0000-4000-8000-000000000301'$$,
    $$SELECT lease_expires_at_ms, 0, 'active'::text FROM r2$$,
    'the refused calls neither re-armed the lease nor recorded progress');
SELECT is((SELECT count(*) FROM ff_lease_event WHERE execution_id = '00000000-0000-4000-8000-000000000301'),
          3::bigint, 'no lease event from the refused renew');

SELECT * FROM finish();
ROLLBACK;

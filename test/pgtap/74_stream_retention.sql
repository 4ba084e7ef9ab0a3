-- Streams, retention and the rest: ff_reconcile_stream_retention removes
-- the frames of closed streams whose execution has been terminal for
-- flowfabric.stream_retention_ms (summary and counters stay); capabilities;
-- privileges; deleting an execution takes its streams along.
BEGIN;
SELECT plan(26);

CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;
CREATE TEMP TABLE h (n integer PRIMARY KEY, handle bytea);
CREATE FUNCTION pg_temp.id(n integer) RETURNS text LANGUAGE sql AS $$
    SELECT format('{fp:74}:00000000-0000-4000-8000-%s', lpad(n::text, 12, '0'))
$$;
CREATE FUNCTION pg_temp.start(n integer, policy jsonb DEFAULT NULL) RETURNS void LANGUAGE sql AS $$
    SELECT ff_create_execution('tap74-' || n, execution_id => pg_temp.id(n), policy => policy);
    INSERT INTO h SELECT n, handle FROM ff_claim('tap74-' || n, 'w', 'wi', lease_ttl_ms => 3600000);
$$;
CREATE FUNCTION pg_temp.put(n integer, p text) RETURNS void LANGUAGE sql AS $$
    SELECT ff_append_frame((SELECT handle FROM h WHERE h.n = put.n), 'log', convert_to(p, 'UTF8'));
$$;
CREATE FUNCTION pg_temp.retained(n integer, att integer DEFAULT NULL) RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM ff_read_stream(pg_temp.id(n), att)
$$;

-- whatever else is already due is cleared first, so the counts below are ours
SET LOCAL flowfabric.stream_retention_ms = 0;
SELECT ff_reconcile_stream_retention(100000);
SET LOCAL flowfabric.stream_retention_ms = 60000;

-- 1: three frames and a summary, completed
SELECT pg_temp.start(1);
SELECT pg_temp.put(1, 'a'), pg_temp.put(1, 'b'), pg_temp.put(1, 'c');
SELECT ff_append_frame((SELECT handle FROM h WHERE n = 1), 'summary', '{"done": true}', 'summary');
SELECT ff_complete((SELECT handle FROM h WHERE n = 1));
-- 2: attempt 0 failed (retry scheduled), attempt 1 still running: not terminal
SELECT pg_temp.start(2, '{"retry_policy": {"max_retries": 1, "backoff": {"type": "fixed", "delay_ms": 0}}}');
SELECT pg_temp.put(2, 'attempt 0');
SELECT ff_fail((SELECT handle FROM h WHERE n = 2), 'again');
DELETE FROM h WHERE n = 2;
INSERT INTO h SELECT 2, handle FROM ff_claim('tap74-2', 'w', 'wi', lease_ttl_ms => 3600000);
SELECT pg_temp.put(2, 'attempt 1');
-- 3: cancelled without any frame
SELECT pg_temp.start(3);
SELECT ff_cancel((SELECT handle FROM h WHERE n = 3), 'not needed');

SELECT is(ff_reconcile_stream_retention(), 0, 'nothing has been terminal for 60 s yet');
SELECT is(pg_temp.retained(1), 4::bigint, 'the frames are still there');

SET LOCAL flowfabric.clock_offset_ms = 61000;
SELECT is(ff_reconcile_stream_retention(), 1, '61 s later: one stream trimmed');
SELECT is(pg_temp.retained(1), 0::bigint, 'the completed execution''s frames are gone');
SELECT results_eq($$SELECT frame_count, retained_frames, retention_trimmed_at_ms IS NOT NULL, closed_reason, last_frame_id IS NOT NULL
                      FROM ff_stream_info(pg_temp.id(1))$$,
                  $$VALUES (4::bigint, 0::bigint, true, 'completed'::text, true)$$,
                  'its counters, last id and closing stay; retention_trimmed_at_ms is set');
SELECT results_eq($$SELECT version, document FROM ff_read_summary(pg_temp.id(1))$$,
                  $$VALUES (1::bigint, '{"done": true}'::jsonb)$$, 'the summary document stays');
SELECT is(pg_temp.retained(2, 0), 1::bigint, 'a closed attempt of an execution still running keeps its frames');
SELECT is(pg_temp.retained(2, 1), 1::bigint, '... and so does its running attempt');
SELECT is(ff_reconcile_stream_retention(), 0, 'a second run finds nothing');
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM h WHERE n = 1), 'log', 'x')$$), 'YFS15',
          'a trimmed stream is closed');

-- once execution 2 ends, both its streams go after the retention period
SELECT ff_complete((SELECT handle FROM h WHERE n = 2));
SELECT is(ff_reconcile_stream_retention(), 0, 'just completed: not yet');
SET LOCAL flowfabric.clock_offset_ms = 122000;
SELECT is(ff_reconcile_stream_retention(), 2, '60 s after its completion: both attempts'' streams');
SELECT is(pg_temp.retained(2, 0) + pg_temp.retained(2, 1), 0::bigint, 'all its frames are gone');

-- batches
RESET flowfabric.clock_offset_ms;
SELECT pg_temp.start(4), pg_temp.start(5);
SELECT pg_temp.put(4, 'x'), pg_temp.put(5, 'y');
SELECT ff_complete((SELECT handle FROM h WHERE n = 4)), ff_complete((SELECT handle FROM h WHERE n = 5));
SET LOCAL flowfabric.stream_retention_ms = 0;
SELECT is(ff_reconcile_stream_retention(1), 1, 'retention 0: due at once; batch_size 1 trims one stream');
SELECT is(ff_reconcile_stream_retention(1), 1, '... then the other');
SELECT is(ff_reconcile_stream_retention(1), 0, '... then none');
SELECT is(pg_temp.retained(4) + pg_temp.retained(5), 0::bigint, 'both trimmed');
SELECT is(pg_temp.err($$SELECT ff_reconcile_stream_retention(0)$$), 'YFV01', 'batch_size 0 -> YFV01');
SELECT is(pg_temp.err($$SELECT ff_reconcile_stream_retention(100001)$$), 'YFV01', 'batch_size 100001 -> YFV01');
SELECT is(current_setting('flowfabric.stream_retention_ms'), '0', 'the setting is settable by a superuser');
RESET flowfabric.stream_retention_ms;
SELECT is(current_setting('flowfabric.stream_retention_ms'), '1d', 'its default is one day');

------------------------------------------------------------------------------
-- capabilities, privileges, cascade
------------------------------------------------------------------------------
SELECT results_eq($$SELECT (ff_capabilities() -> 'supports' ->> 'stream_durable_summary')::boolean,
                           (ff_capabilities() -> 'supports' ->> 'stream_best_effort_live')::boolean$$,
                  $$VALUES (true, true)$$, 'ff_capabilities: stream_durable_summary and stream_best_effort_live are supported');
SELECT is((SELECT count(*) FROM jsonb_object_keys(ff_capabilities() -> 'supports') k
            WHERE k IN ('stream_durable_summary', 'stream_best_effort_live')), 2::bigint, 'each listed once');
SELECT ok(NOT has_table_privilege('public', 'ff_stream_frame', 'SELECT') AND
          NOT has_table_privilege('public', 'ff_stream_meta', 'SELECT') AND
          NOT has_table_privilege('public', 'ff_stream_summary', 'SELECT'),
          'the stream tables are not readable by PUBLIC');
SELECT pg_temp.start(6);
SELECT pg_temp.put(6, 'x');
SELECT ff_append_frame((SELECT handle FROM h WHERE n = 6), 'summary', '{"a": 1}', 'summary');
DELETE FROM ff_execution WHERE execution_id = (ff_split_execution_id(pg_temp.id(6))).execution_uuid;
SELECT results_eq($$SELECT (SELECT count(*) FROM ff_stream_frame f WHERE f.execution_id = x.u),
                           (SELECT count(*) FROM ff_stream_meta m WHERE m.execution_id = x.u),
                           (SELECT count(*) FROM ff_stream_summary s WHERE s.execution_id = x.u)
                      FROM (SELECT (ff_split_execution_id(pg_temp.id(6))).execution_uuid AS u) x$$,
                  $$VALUES (0::bigint, 0::bigint, 0::bigint)$$,
                  'deleting an execution deletes its frames, stream meta and summary (FK cascade)');
SELECT is((SELECT count(*) FROM ff_execution WHERE lane_id LIKE 'tap74-%'
            AND NOT ff_state_vector_valid(lifecycle_phase, ownership_state, eligibility_state, blocking_reason,
                                          terminal_outcome, attempt_state, public_state)), 0::bigint,
          'every execution of this file has a valid state vector');

SELECT * FROM finish();
ROLLBACK;

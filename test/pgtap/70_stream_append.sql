-- Streams, appending: binary-safe round trip, frame ids that strictly
-- increase per attempt even when the clock goes back, the 64 KiB frame
-- limit, lease fencing (only the current lease holder appends; stale
-- handles get YFS16 stale_owner_cannot_append), streams closing with their attempt, and
-- argument validation. Appends never touch the execution row.
BEGIN;
SELECT plan(74);

CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;

-- append(handle table, payload, ...) appends with the handle stored in a temp table
CREATE FUNCTION pg_temp.frames(id text, att integer DEFAULT NULL)
RETURNS TABLE (frame_id text, ts_ms bigint, seq integer, mode text, frame_type text,
               encoding text, correlation_id text, payload bytea)
LANGUAGE sql AS $$
    SELECT frame_id, ts_ms, seq, mode, frame_type, encoding, correlation_id, payload
      FROM ff_read_stream(id, att)
$$;

------------------------------------------------------------------------------
-- Round trip: bytes come back exactly, whatever they are
------------------------------------------------------------------------------
SELECT ff_create_execution('tap70-a', execution_id => '{fp:70}:00000000-0000-4000-8000-000000007001');
CREATE TEMP TABLE a AS SELECT * FROM ff_claim('tap70-a', 'w1', 'wi-1', lease_ttl_ms => 3600000);
CREATE TEMP TABLE exec_before AS
    SELECT ctid AS tid, to_jsonb(e) AS row FROM ff_execution e WHERE execution_id = '00000000-0000-4000-8000-000000007001';

CREATE TEMP TABLE appended AS
    SELECT 1 AS n, * FROM ff_append_frame((SELECT handle FROM a), 'log', convert_to('hello, world', 'UTF8'));
INSERT INTO appended SELECT 2, * FROM ff_append_frame((SELECT handle FROM a), 'blob', '\x00010200ff00'::bytea);
INSERT INTO appended SELECT 3, * FROM ff_append_frame((SELECT handle FROM a), 'blob', '\xfffe80c0c1f5'::bytea);
INSERT INTO appended SELECT 4, * FROM ff_append_frame((SELECT handle FROM a), 'blob',
    (SELECT string_agg(set_byte('\x00'::bytea, 0, b), ''::bytea ORDER BY b) FROM generate_series(0, 255) b));
INSERT INTO appended SELECT 5, * FROM ff_append_frame((SELECT handle FROM a), 'empty', ''::bytea);
INSERT INTO appended SELECT 6, * FROM ff_append_frame((SELECT handle FROM a), 'event', convert_to('{"k": "ü €"}', 'UTF8'),
                                                       correlation_id => 'req-42', encoding => 'json');

SELECT results_eq($$SELECT frame_count FROM appended ORDER BY n$$, $$VALUES (1::bigint), (2), (3), (4), (5), (6)$$,
                  'frame_count counts the appends: 1 .. 6');
SELECT is((SELECT count(*) FROM appended WHERE frame_id <> ts_ms || '-' || seq), 0::bigint,
          'frame_id is "<ts_ms>-<seq>"');
SELECT is((SELECT count(*) FROM appended WHERE summary_version IS NOT NULL OR maxlen_applied IS NOT NULL), 0::bigint,
          'durable appends report no summary_version and no maxlen');
SELECT results_eq($$SELECT payload FROM pg_temp.frames('{fp:70}:00000000-0000-4000-8000-000000007001')$$,
                  $$VALUES (convert_to('hello, world', 'UTF8')), ('\x00010200ff00'::bytea), ('\xfffe80c0c1f5'::bytea),
                           ((SELECT string_agg(set_byte('\x00'::bytea, 0, b), ''::bytea ORDER BY b) FROM generate_series(0, 255) b)),
                           (''::bytea), (convert_to('{"k": "ü €"}', 'UTF8'))$$,
                  'payloads read back byte for byte: text, NUL bytes, invalid UTF-8, all 256 byte values, empty');
SELECT is(octet_length((SELECT payload FROM pg_temp.frames('{fp:70}:00000000-0000-4000-8000-000000007001') WHERE frame_type = 'blob' LIMIT 1)),
          6, 'a payload with NUL bytes keeps its length');
SELECT results_eq($$SELECT frame_type, encoding, correlation_id, mode FROM pg_temp.frames('{fp:70}:00000000-0000-4000-8000-000000007001')$$,
                  $$VALUES ('log'::text, 'utf8'::text, NULL::text, 'durable'::text), ('blob', 'binary', NULL, 'durable'),
                           ('blob', 'binary', NULL, 'durable'), ('blob', 'binary', NULL, 'durable'),
                           ('empty', 'utf8', NULL, 'durable'), ('event', 'json', 'req-42', 'durable')$$,
                  'frame_type, encoding (utf8 for UTF-8 text, binary otherwise, or the caller''s label), correlation_id, mode');
SELECT results_eq($$SELECT frame_id FROM pg_temp.frames('{fp:70}:00000000-0000-4000-8000-000000007001')$$,
                  $$SELECT frame_id FROM appended ORDER BY n$$,
                  'read order is append order; the ids are the ones append returned');
SELECT is((SELECT count(*) FROM (SELECT ts_ms, seq, lag(ts_ms) OVER w AS pts, lag(seq) OVER w AS pseq
                                   FROM appended WINDOW w AS (ORDER BY n)) x
            WHERE pts IS NOT NULL AND (ts_ms, seq) <= (pts, pseq)), 0::bigint,
          'ids strictly increase');
SELECT is((SELECT frame_count FROM ff_stream_info('{fp:70}:00000000-0000-4000-8000-000000007001')), 6::bigint,
          'ff_stream_info counts them');
SELECT is((SELECT total_bytes FROM ff_stream_info('{fp:70}:00000000-0000-4000-8000-000000007001')),
          (12 + 6 + 6 + 256 + 0 + octet_length(convert_to('{"k": "ü €"}', 'UTF8')))::bigint,
          'total_bytes adds up the payloads');

------------------------------------------------------------------------------
-- Ordering when the clock goes back (and forward again)
------------------------------------------------------------------------------
SELECT ff_create_execution('tap70-b', execution_id => '{fp:70}:00000000-0000-4000-8000-000000007002');
CREATE TEMP TABLE b AS SELECT * FROM ff_claim('tap70-b', 'w1', 'wi-1', lease_ttl_ms => 3600000);
CREATE TEMP TABLE bf AS SELECT 1 AS n, * FROM ff_append_frame((SELECT handle FROM b), 'log', 'one');
SET LOCAL flowfabric.clock_offset_ms = -60000;
INSERT INTO bf SELECT 2, * FROM ff_append_frame((SELECT handle FROM b), 'log', 'two');
INSERT INTO bf SELECT 3, * FROM ff_append_frame((SELECT handle FROM b), 'log', 'three');
SET LOCAL flowfabric.clock_offset_ms = -120000;
INSERT INTO bf SELECT 4, * FROM ff_append_frame((SELECT handle FROM b), 'log', 'four');
SET LOCAL flowfabric.clock_offset_ms = 60000;
INSERT INTO bf SELECT 5, * FROM ff_append_frame((SELECT handle FROM b), 'log', 'five');
RESET flowfabric.clock_offset_ms;

SELECT results_eq($$SELECT ts_ms - (SELECT ts_ms FROM bf WHERE n = 1), seq FROM bf WHERE n <= 4 ORDER BY n$$,
                  $$VALUES (0::bigint, 0), (0, 1), (0, 2), (0, 3)$$,
                  'clock 60 s and 120 s back: the ids keep the newest ts_ms and count seq up');
SELECT ok((SELECT ts_ms FROM bf WHERE n = 5) >= (SELECT ts_ms FROM bf WHERE n = 1) + 60000
          AND (SELECT seq FROM bf WHERE n = 5) = 0,
          'clock 60 s ahead: a new ts_ms, seq 0');
SELECT results_eq($$SELECT payload FROM pg_temp.frames('{fp:70}:00000000-0000-4000-8000-000000007002')$$,
                  $$VALUES ('one'::bytea), ('two'), ('three'), ('four'), ('five')$$,
                  'reads return the frames in append order');
SELECT is((SELECT count(*) FROM ff_tail_stream('{fp:70}:00000000-0000-4000-8000-000000007002', 0,
                                                (SELECT frame_id FROM bf WHERE n = 2))), 3::bigint,
          'a tail after the second id (written with the clock back) gets exactly the three later frames');
SELECT is((SELECT last_frame_id FROM ff_stream_info('{fp:70}:00000000-0000-4000-8000-000000007002')),
          (SELECT frame_id FROM bf WHERE n = 5), 'ff_stream_info: last_frame_id is the newest id');

------------------------------------------------------------------------------
-- The 64 KiB frame limit
------------------------------------------------------------------------------
SELECT is((SELECT octet_length(payload) FROM ff_read_stream('{fp:70}:00000000-0000-4000-8000-000000007002', 0, 'start', 'end', 1)), 3,
          'setup: a short frame');
SELECT lives_ok($$SELECT ff_append_frame((SELECT handle FROM b), 'blob', convert_to(repeat('x', 65536), 'UTF8'))$$,
                'a frame of exactly 64 KiB (65536 bytes) is accepted');
SELECT is(octet_length((SELECT payload FROM ff_read_stream('{fp:70}:00000000-0000-4000-8000-000000007002') WHERE frame_type = 'blob')),
          65536, '... and read back whole');
SELECT throws_ok($$SELECT ff_append_frame((SELECT handle FROM b), 'blob', convert_to(repeat('x', 65537), 'UTF8'))$$,
                 'YFV10', NULL, '65537 bytes -> YFV10 retention_limit_exceeded');
SELECT throws_like($$SELECT ff_append_frame((SELECT handle FROM b), 'blob', convert_to(repeat('x', 70000), 'UTF8'))$$,
                   'retention_limit_exceeded: frame payload is 70000 bytes, the limit is 65536',
                   'the message names the size and the limit');
SELECT is((SELECT frame_count FROM ff_stream_info('{fp:70}:00000000-0000-4000-8000-000000007002')), 6::bigint,
          'rejected frames leave nothing behind');
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM b), 'blob', convert_to(repeat('x', 65537), 'UTF8'), 'summary')$$),
          'YFV10', 'the limit holds for summary frames too');
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM b), 'blob', convert_to(repeat('x', 65537), 'UTF8'), 'best_effort')$$),
          'YFV10', '... and best-effort frames');

------------------------------------------------------------------------------
-- Only the current lease holder appends
------------------------------------------------------------------------------
-- (c) a worker delays its execution; the same attempt resumes under a new lease
SELECT ff_create_execution('tap70-c', execution_id => '{fp:70}:00000000-0000-4000-8000-000000007003');
CREATE TEMP TABLE c1 AS SELECT * FROM ff_claim('tap70-c', 'w1', 'wi-1', lease_ttl_ms => 3600000);
SELECT ff_append_frame((SELECT handle FROM c1), 'log', 'before delay');
SELECT ff_delay((SELECT handle FROM c1), ff_server_time_ms() + 1000);
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM c1), 'log', 'while delayed')$$), 'YFS16',
          'while the execution is delayed the handle gets YFS16 stale_owner_cannot_append (the stream stays open)');
SET LOCAL flowfabric.clock_offset_ms = 2000;
SELECT ff_reconcile_delayed_promotion();
CREATE TEMP TABLE c2 AS SELECT * FROM ff_claim('tap70-c', 'w2', 'wi-2', lease_ttl_ms => 3600000);
SELECT results_eq($$SELECT attempt_index, lease_epoch FROM c2$$, $$VALUES (0, 2::bigint)$$,
                  'setup: the same attempt resumed under epoch 2');
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM c1), 'log', 'stale')$$), 'YFS16',
          'the old handle (epoch 1) -> YFS16 stale_owner_cannot_append');
SELECT lives_ok($$SELECT ff_append_frame((SELECT handle FROM c2), 'log', 'after resume')$$,
                'the new handle appends to the same stream');
SELECT results_eq($$SELECT payload FROM ff_read_stream('{fp:70}:00000000-0000-4000-8000-000000007003', 0)$$,
                  $$VALUES ('before delay'::bytea), ('after resume')$$,
                  'one stream across the delay; the rejected appends wrote nothing');
RESET flowfabric.clock_offset_ms;

-- (d) forged handles and a lease that ran out
SELECT ff_create_execution('tap70-d', execution_id => '{fp:70}:00000000-0000-4000-8000-000000007004');
CREATE TEMP TABLE d AS SELECT * FROM ff_claim('tap70-d', 'w1', 'wi-1', lease_ttl_ms => 1000);
CREATE FUNCTION pg_temp.forged(h bytea, p_attempt_index integer DEFAULT NULL, p_lease_id text DEFAULT NULL,
                               p_epoch bigint DEFAULT NULL, p_execution_id text DEFAULT NULL,
                               p_backend text DEFAULT 'postgres')
RETURNS bytea LANGUAGE sql AS $$
    SELECT ff_handle_encode(coalesce(p_execution_id, d.execution_id),
                            coalesce(p_attempt_index, d.attempt_index::integer), d.attempt_id,
                            coalesce(p_lease_id, d.lease_id), coalesce(p_epoch, d.lease_epoch),
                            d.lease_ttl_ms, d.lane_id, d.worker_instance_id, p_backend)
      FROM ff_handle_describe(h) d
$$;
SELECT is(pg_temp.err($$SELECT ff_append_frame(pg_temp.forged((SELECT handle FROM d),
                          p_lease_id => '00000000-0000-4000-8000-0000000000ff'), 'log', 'x')$$), 'YFS16',
          'a handle with another lease id -> YFS16');
SELECT is(pg_temp.err($$SELECT ff_append_frame(pg_temp.forged((SELECT handle FROM d), p_epoch => 2), 'log', 'x')$$), 'YFS16',
          'a handle with another epoch -> YFS16');
SELECT is(pg_temp.err($$SELECT ff_append_frame(pg_temp.forged((SELECT handle FROM d), p_attempt_index => 5), 'log', 'x')$$), 'YFN03',
          'a handle naming an attempt that does not exist -> YFN03');
SELECT is(pg_temp.err($$SELECT ff_append_frame(pg_temp.forged((SELECT handle FROM d),
                          p_execution_id => '{fp:70}:00000000-0000-4000-8000-0000000070ff'), 'log', 'x')$$), 'YFN01',
          'a handle naming an execution that does not exist -> YFN01');
SELECT is(pg_temp.err($$SELECT ff_append_frame(pg_temp.forged((SELECT handle FROM d), p_backend => 'valkey'), 'log', 'x')$$), 'YFV26',
          'a Valkey handle -> YFV26 handle_from_other_backend');
SELECT is(pg_temp.err($$SELECT ff_append_frame('\x0102'::bytea, 'log', 'x')$$), 'YFV25',
          'a malformed handle -> YFV25 corruption');
SET LOCAL flowfabric.clock_offset_ms = 1500;
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM d), 'log', 'too late')$$), 'YFS16',
          'a lease that ran out (not yet reconciled) -> YFS16 stale_owner_cannot_append');
SELECT is(ff_reconcile_lease_expiry(), 1, 'setup: the reconciler marks the lease expired');
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM d), 'log', 'too late')$$), 'YFS15',
          'once reconciled, the attempt has ended: YFS15 stream_closed');
SELECT results_eq($$SELECT closed_reason, closed_at_ms IS NOT NULL FROM ff_stream_info('{fp:70}:00000000-0000-4000-8000-000000007004', 0)$$,
                  $$VALUES ('lease_expired'::text, true)$$, 'closed_reason lease_expired');
CREATE TEMP TABLE d2 AS SELECT * FROM ff_claim('tap70-d', 'w2', 'wi-2', lease_ttl_ms => 3600000);
SELECT is((SELECT attempt_index FROM d2), 1, 'setup: a reclaim attempt 1');
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM d), 'log', 'zombie')$$), 'YFS15',
          'the reclaimed worker''s handle -> YFS15 (its attempt''s stream is closed)');
SELECT lives_ok($$SELECT ff_append_frame((SELECT handle FROM d2), 'log', 'attempt 1')$$, 'the reclaimer appends');
SELECT results_eq($$SELECT attempt_index, frame_count, closed_at_ms IS NULL FROM ff_stream_info('{fp:70}:00000000-0000-4000-8000-000000007004')$$,
                  $$VALUES (1, 1::bigint, true)$$, 'attempt 1 has its own open stream (attempt_index NULL = current)');
SELECT is((SELECT frame_count FROM ff_stream_info('{fp:70}:00000000-0000-4000-8000-000000007004', 0)), 0::bigint,
          'attempt 0''s stream got nothing');
RESET flowfabric.clock_offset_ms;

------------------------------------------------------------------------------
-- Streams close when their attempt ends
------------------------------------------------------------------------------
SELECT ff_create_execution('tap70-e', execution_id => '{fp:70}:00000000-0000-4000-8000-000000007005',
                           policy => '{"retry_policy": {"max_retries": 1, "backoff": {"type": "fixed", "delay_ms": 0}}}');
CREATE TEMP TABLE e0 AS SELECT * FROM ff_claim('tap70-e', 'w1', 'wi-1', lease_ttl_ms => 3600000);
SELECT ff_append_frame((SELECT handle FROM e0), 'log', 'attempt 0');
SELECT is((SELECT outcome FROM ff_fail((SELECT handle FROM e0), 'boom')), 'retry_scheduled', 'setup: attempt 0 fails, retry');
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM e0), 'log', 'after fail')$$), 'YFS15',
          'after ff_fail -> YFS15 stream_closed');
SELECT throws_like($$SELECT ff_append_frame((SELECT handle FROM e0), 'log', 'after fail')$$,
                   'stream_closed: the stream of attempt 0 of execution {fp:70}:00000000-0000-4000-8000-000000007005 is closed',
                   'the message names the attempt and the execution');
SELECT results_eq($$SELECT closed_reason, closed_at_ms = (SELECT ended_at_ms FROM ff_attempt
                                                            WHERE execution_id = '00000000-0000-4000-8000-000000007005'
                                                              AND attempt_index = 0)
                      FROM ff_stream_info('{fp:70}:00000000-0000-4000-8000-000000007005', 0)$$,
                  $$VALUES ('failed_retry_scheduled'::text, true)$$,
                  'closed_at_ms is when the attempt ended; closed_reason its end_reason');
SELECT results_eq($$SELECT closed_reason, closed_at_ms IS NOT NULL FROM ff_stream_meta
                     WHERE execution_id = '00000000-0000-4000-8000-000000007005' AND attempt_index = 0$$,
                  $$VALUES ('failed_retry_scheduled'::text, true)$$,
                  'the closing is recorded on the stream''s meta row in the same transaction');
CREATE TEMP TABLE e1 AS SELECT * FROM ff_claim('tap70-e', 'w1', 'wi-1', lease_ttl_ms => 3600000);
SELECT lives_ok($$SELECT ff_append_frame((SELECT handle FROM e1), 'log', 'attempt 1')$$, 'the retry attempt appends to its own stream');
SELECT lives_ok($$SELECT ff_complete((SELECT handle FROM e1), 'done')$$, 'setup: it completes');
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM e1), 'log', 'after complete')$$), 'YFS15',
          'after ff_complete -> YFS15');
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM e1), 'log', 'x', 'summary')$$), 'YFV01',
          'bad input is reported before the closed stream (invalid patch -> YFV01)');
SELECT is((SELECT closed_reason FROM ff_stream_info('{fp:70}:00000000-0000-4000-8000-000000007005', 1)), 'completed',
          'closed_reason completed');

SELECT ff_create_execution('tap70-f', execution_id => '{fp:70}:00000000-0000-4000-8000-000000007006');
CREATE TEMP TABLE f AS SELECT * FROM ff_claim('tap70-f', 'w1', 'wi-1', lease_ttl_ms => 3600000);
SELECT ff_cancel((SELECT handle FROM f), 'no longer needed');
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM f), 'log', 'after cancel')$$), 'YFS15',
          'after ff_cancel -> YFS15 (a stream that never had a frame closes too)');
SELECT results_eq($$SELECT closed_reason, frame_count, last_frame_id FROM ff_stream_info('{fp:70}:00000000-0000-4000-8000-000000007006')$$,
                  $$VALUES ('cancelled'::text, 0::bigint, NULL::text)$$, 'closed_reason cancelled, no frames');

SELECT ff_create_execution('tap70-g', execution_id => '{fp:70}:00000000-0000-4000-8000-000000007007',
                           policy => '{"timeout_policy": {"attempt_timeout_ms": 1000}}');
CREATE TEMP TABLE g AS SELECT * FROM ff_claim('tap70-g', 'w1', 'wi-1', lease_ttl_ms => 3600000);
SELECT ff_append_frame((SELECT handle FROM g), 'log', 'working');
SET LOCAL flowfabric.clock_offset_ms = 1500;
SELECT is(ff_reconcile_attempt_timeout(), 1, 'setup: the attempt times out');
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM g), 'log', 'after timeout')$$), 'YFS15',
          'after an attempt timeout -> YFS15');
SELECT is((SELECT closed_reason FROM ff_stream_info('{fp:70}:00000000-0000-4000-8000-000000007007', 0)), 'attempt_timeout',
          'closed_reason attempt_timeout');
RESET flowfabric.clock_offset_ms;

------------------------------------------------------------------------------
-- Arguments
------------------------------------------------------------------------------
SELECT is(pg_temp.err($$SELECT ff_append_frame(NULL, 'log', 'x')$$), 'YFV01', 'NULL handle -> YFV01');
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM b), NULL, 'x')$$), 'YFV24', 'NULL frame_type -> YFV24 invalid_frame_type');
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM b), '', 'x')$$), 'YFV24', 'empty frame_type -> YFV24');
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM b), repeat('t', 65), 'x')$$), 'YFV24', '65-character frame_type -> YFV24');
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM b), 'log line', 'x')$$), 'YFV24', 'frame_type with a space -> YFV24');
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM b), 'lög', 'x')$$), 'YFV24', 'frame_type with non-ASCII -> YFV24');
SELECT lives_ok($$SELECT ff_append_frame((SELECT handle FROM b), 'agent.step:v1/x-' || repeat('t', 48), 'x')$$,
                'frame_type of 64 characters from [A-Za-z0-9_.:/-] is accepted');
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM b), 'log', NULL)$$), 'YFV01', 'NULL payload -> YFV01');
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM b), 'log', 'x', 'lossy')$$), 'YFV01', 'unknown mode -> YFV01');
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM b), 'log', 'x', correlation_id => '')$$), 'YFV01',
          'empty correlation_id -> YFV01');
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM b), 'log', 'x', encoding => 'ut f8')$$), 'YFV01',
          'encoding with a space -> YFV01');
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM b), 'log', 'x', patch_kind => 'json-merge-patch')$$), 'YFV01',
          'patch_kind on a durable frame -> YFV01');
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM b), 'log', 'x', ttl_ms => 1000)$$), 'YFV01',
          'ttl_ms on a durable frame -> YFV01');
SELECT is((SELECT frame_count FROM ff_stream_info('{fp:70}:00000000-0000-4000-8000-000000007002')), 7::bigint,
          'no rejected call wrote a frame');

------------------------------------------------------------------------------
-- Streams do not touch the execution
------------------------------------------------------------------------------
SELECT results_eq($$SELECT ctid, to_jsonb(e) FROM ff_execution e WHERE execution_id = '00000000-0000-4000-8000-000000007001'$$,
                  $$SELECT tid, row FROM exec_before$$,
                  'after six appends the execution row is the very same tuple (state vector, counters, timestamps)');
SELECT is((SELECT count(*) FROM ff_execution WHERE lane_id LIKE 'tap70-%'
            AND NOT ff_state_vector_valid(lifecycle_phase, ownership_state, eligibility_state, blocking_reason,
                                          terminal_outcome, attempt_state, public_state)), 0::bigint,
          'every execution of this file has a valid state vector');

SELECT * FROM finish();
ROLLBACK;

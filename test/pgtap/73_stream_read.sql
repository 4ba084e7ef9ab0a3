-- Streams, reading: ff_read_stream ranges (start, end, <ms>, <ms>-<seq>;
-- inclusive; a bare <ms> is (ms, 0) as a lower and (ms, max) as an upper
-- bound), paging, ff_tail_stream (exclusive concrete cursor, visibility),
-- ff_stream_info, per-attempt isolation and every error.
BEGIN;
SELECT plan(57);

CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;

\set X '''{fp:73}:00000000-0000-4000-8000-000000007301'''
\set Y '''{fp:73}:00000000-0000-4000-8000-000000007302'''
\set Z '''{fp:73}:00000000-0000-4000-8000-000000007303'''

-- X: frames x0 at (T, 0); the clock goes back: x1, x2, x3 at (T, 1..3); then x4 at (T2, 0)
SELECT ff_create_execution('tap73-x', execution_id => :X);
CREATE TEMP TABLE hx AS SELECT * FROM ff_claim('tap73-x', 'w', 'wi', lease_ttl_ms => 3600000);
CREATE TEMP TABLE fx AS SELECT 0 AS n, * FROM ff_append_frame((SELECT handle FROM hx), 'log', 'x0');
SET LOCAL flowfabric.clock_offset_ms = -3600000;
INSERT INTO fx SELECT i, a.* FROM generate_series(1, 3) i, ff_append_frame((SELECT handle FROM hx), 'log', convert_to('x' || i, 'UTF8')) a;
SET LOCAL flowfabric.clock_offset_ms = 1000;
INSERT INTO fx SELECT 4, * FROM ff_append_frame((SELECT handle FROM hx), 'log', 'x4');
RESET flowfabric.clock_offset_ms;
SELECT ts_ms AS t FROM fx WHERE n = 0 \gset
SELECT results_eq($$SELECT ts_ms = (SELECT ts_ms FROM fx WHERE n = 0), seq FROM fx ORDER BY n$$,
                  $$VALUES (true, 0), (true, 1), (true, 2), (true, 3), (false, 0)$$,
                  'setup: four frames share ts_ms T (seq 0..3), the fifth has a later ts_ms');

CREATE FUNCTION pg_temp.rd(f text, t text, lim integer DEFAULT 1000) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(convert_from(payload, 'UTF8'), ',' ORDER BY ts_ms, seq), '')
      FROM ff_read_stream('{fp:73}:00000000-0000-4000-8000-000000007301', 0, f, t, lim)
$$;
CREATE FUNCTION pg_temp.tl(a text, lim integer DEFAULT 1000) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(convert_from(payload, 'UTF8'), ',' ORDER BY ts_ms, seq), '')
      FROM ff_tail_stream('{fp:73}:00000000-0000-4000-8000-000000007301', 0, a, lim)
$$;

------------------------------------------------------------------------------
-- read ranges
------------------------------------------------------------------------------
SELECT is(pg_temp.rd('start', 'end'), 'x0,x1,x2,x3,x4', 'start..end: everything, oldest first');
SELECT is((SELECT string_agg(convert_from(payload, 'UTF8'), ',') FROM ff_read_stream(:X)), 'x0,x1,x2,x3,x4',
          'the defaults are start, end, the current attempt');
SELECT is(pg_temp.rd(:'t', :'t'), 'x0,x1,x2,x3', 'T..T: a bare ms is (T,0) as lower and (T,max) as upper bound');
SELECT is(pg_temp.rd(:'t' || '-1', :'t' || '-2'), 'x1,x2', 'T-1..T-2: both ends inclusive');
SELECT is(pg_temp.rd(:'t' || '-2', 'end'), 'x2,x3,x4', 'T-2..end');
SELECT is(pg_temp.rd('start', :'t' || '-0'), 'x0', 'start..T-0');
SELECT is(pg_temp.rd('0', (:t - 1)::text), '', 'a range before the first frame is empty');
SELECT is(pg_temp.rd(:'t' || '-3', :'t' || '-1'), '', 'from after to: empty');
SELECT is(pg_temp.rd('0-0', '9223372036854775807-2147483647'), 'x0,x1,x2,x3,x4', 'the widest concrete range');

-- paging: page 2 starts at the inclusive last id of page 1
SELECT is(pg_temp.rd('start', 'end', 2), 'x0,x1', 'count_limit 2: the first page');
SELECT is(pg_temp.rd((SELECT frame_id FROM fx WHERE n = 1), 'end', 2), 'x1,x2', 'resuming from the last id repeats it (inclusive)');
SELECT is(pg_temp.rd(:'t' || '-' || 2, 'end', 2), 'x2,x3', 'resuming from <last ts>-<last seq + 1> does not');
SELECT is(pg_temp.rd('start', 'end', 10000), 'x0,x1,x2,x3,x4', 'count_limit 10000 (the hard cap) is accepted');
SELECT is(pg_temp.err($$SELECT pg_temp.rd('start', 'end', 0)$$), 'YFV01', 'count_limit 0 -> YFV01');
SELECT is(pg_temp.err($$SELECT pg_temp.rd('start', 'end', 10001)$$), 'YFV01', 'count_limit 10001 -> YFV01');
SELECT is((SELECT count(*) FROM ff_read_stream(:X, 0, 'start', 'end', NULL)), 5::bigint, 'count_limit NULL: the default (1000)');

-- cursors
CREATE TEMP TABLE bad_cursors (c text);
INSERT INTO bad_cursors VALUES ('-'), ('+'), (''), ('abc'), ('12-'), ('-5'), ('1-2-3'), (' 12'), ('12 '), ('0x10'),
    ('99999999999999999999'), ('1-2147483648'), ('START'), ('1.5'), ('１２');
SELECT is((SELECT string_agg(c, '|') FROM bad_cursors WHERE pg_temp.err(format('SELECT pg_temp.rd(%L, %L)', c, 'end')) <> 'YFV15'),
          NULL, 'malformed from_id cursors (-, +, empty, letters, 12-, -5, 1-2-3, spaces, overflow, ...) -> YFV15 invalid_offset');
SELECT is((SELECT string_agg(c, '|') FROM bad_cursors WHERE pg_temp.err(format('SELECT pg_temp.rd(%L, %L)', 'start', c)) <> 'YFV15'),
          NULL, '... as to_id too');
SELECT is((SELECT string_agg(c, '|') FROM bad_cursors WHERE pg_temp.err(format('SELECT pg_temp.tl(%L)', c)) <> 'YFV15'),
          NULL, '... and as a tail''s after_id');
SELECT throws_like($$SELECT pg_temp.rd('12-', 'end')$$, 'invalid_offset: bad stream cursor "12-" for from_id',
                   'the message quotes the cursor');

------------------------------------------------------------------------------
-- tail
------------------------------------------------------------------------------
SELECT is(pg_temp.tl('0-0'), 'x0,x1,x2,x3,x4', 'after 0-0: everything');
SELECT is(pg_temp.tl(:'t' || '-1'), 'x2,x3,x4', 'after T-1: exclusive');
SELECT is(pg_temp.tl(:'t'), 'x1,x2,x3,x4', 'after a bare T: after (T,0)');
SELECT is(pg_temp.tl((SELECT frame_id FROM fx WHERE n = 4)), '', 'after the last id: nothing (yet)');
SELECT is(pg_temp.tl('0-0', 2), 'x0,x1', 'count_limit applies');
SELECT is(pg_temp.err($$SELECT pg_temp.tl('start')$$), 'YFV15', 'after start -> YFV15 (a tail needs a concrete cursor)');
SELECT is(pg_temp.err($$SELECT pg_temp.tl('end')$$), 'YFV15', 'after end -> YFV15');
SELECT is((SELECT count(*) FROM ff_tail_stream(:X)), 5::bigint, 'after_id defaults to 0-0');
SELECT is(pg_temp.err($$SELECT * FROM ff_tail_stream('{fp:73}:00000000-0000-4000-8000-000000007301', 0, '0-0', 10, 'durable_only')$$),
          'YFV01', 'unknown visibility -> YFV01');
SELECT is(pg_temp.err($$SELECT * FROM ff_tail_stream('{fp:73}:00000000-0000-4000-8000-000000007301', 0, '0-0', 0)$$),
          'YFV01', 'count_limit 0 -> YFV01');
SELECT ff_append_frame((SELECT handle FROM hx), 'log', 'x5');
SELECT is(pg_temp.tl((SELECT frame_id FROM fx WHERE n = 4)), 'x5', 'a frame appended later shows up after the old cursor');
SELECT results_eq($$SELECT frame_id, ts_ms, seq, mode, frame_type, encoding, correlation_id, summary_version, payload
                      FROM ff_tail_stream('{fp:73}:00000000-0000-4000-8000-000000007301', 0, '0-0', 1)$$,
                  $$SELECT frame_id, ts_ms, seq, 'durable'::text, 'log'::text, 'utf8'::text, NULL::text, NULL::bigint,
                           'x0'::bytea FROM fx WHERE n = 0$$,
                  'a tail row has every field of the frame');

------------------------------------------------------------------------------
-- ff_stream_info
------------------------------------------------------------------------------
SELECT results_eq($$SELECT execution_id, attempt_index, channel, closed_at_ms, closed_reason, frame_count, retained_frames,
                           total_bytes, has_durable_frame, summary_version, retention_trimmed_at_ms
                      FROM ff_stream_info('{fp:73}:00000000-0000-4000-8000-000000007301')$$,
                  $$VALUES ('{fp:73}:00000000-0000-4000-8000-000000007301'::text, 0,
                            'ff_stream_00000000-0000-4000-8000-000000007301_0'::text, NULL::bigint, NULL::text,
                            6::bigint, 6::bigint, 12::bigint, true, NULL::bigint, NULL::bigint)$$,
                  'info: channel ff_stream_<uuid>_<attempt>, open, counters');
SELECT ok((SELECT first_frame_at_ms <= last_frame_at_ms AND last_frame_id ~ '^[0-9]+-[0-9]+$'
             FROM ff_stream_info(:X)), 'info: first/last frame times, the last id');
SELECT ok((SELECT octet_length(channel) <= 63 FROM ff_stream_info(:X, 0)), 'the channel name fits NAMEDATALEN');

------------------------------------------------------------------------------
-- attempts are separate streams; attempt_index NULL = the current attempt
------------------------------------------------------------------------------
SELECT ff_create_execution('tap73-y', execution_id => :Y,
                           policy => '{"retry_policy": {"max_retries": 2, "backoff": {"type": "fixed", "delay_ms": 0}}}');
CREATE TEMP TABLE hy0 AS SELECT * FROM ff_claim('tap73-y', 'w', 'wi', lease_ttl_ms => 3600000);
SELECT ff_append_frame((SELECT handle FROM hy0), 'log', 'y0-a');
SELECT ff_append_frame((SELECT handle FROM hy0), 'log', 'y0-b');
SELECT ff_fail((SELECT handle FROM hy0), 'retry me');
SELECT is((SELECT count(*) FROM ff_read_stream(:Y)), 2::bigint,
          'after the failure (retry pending) NULL still means attempt 0, the current one');
CREATE TEMP TABLE hy1 AS SELECT * FROM ff_claim('tap73-y', 'w', 'wi', lease_ttl_ms => 3600000);
SELECT ff_append_frame((SELECT handle FROM hy1), 'log', 'y1-a');
SELECT results_eq($$SELECT attempt_index, count(*) FROM (SELECT 0 AS attempt_index FROM ff_read_stream('{fp:73}:00000000-0000-4000-8000-000000007302', 0)
                      UNION ALL SELECT 1 FROM ff_read_stream('{fp:73}:00000000-0000-4000-8000-000000007302', 1)) x GROUP BY 1 ORDER BY 1$$,
                  $$VALUES (0, 2::bigint), (1, 1::bigint)$$, 'attempt 0 has 2 frames, attempt 1 has 1');
SELECT is((SELECT string_agg(convert_from(payload, 'UTF8'), ',') FROM ff_read_stream(:Y)), 'y1-a',
          'NULL: the current attempt (1)');
SELECT is((SELECT attempt_index FROM ff_stream_info(:Y)), 1, 'ff_stream_info resolves NULL the same way');
SELECT is((SELECT closed_reason FROM ff_stream_info(:Y, 0)), 'failed_retry_scheduled', 'attempt 0 is closed');
SELECT is((SELECT closed_reason FROM ff_stream_info(:Y, 1)), NULL, 'attempt 1 is open');
SELECT is((SELECT count(*) FROM ff_read_stream(:Y, 0, (SELECT last_frame_id FROM ff_stream_info(:Y, 1)), 'end')), 0::bigint,
          'cursors of one attempt mean nothing special to another (ids are per attempt)');
SELECT ok((SELECT bool_and(frame_id IS NOT NULL) FROM ff_read_stream(:Y, 0)), 'a closed stream stays readable');

------------------------------------------------------------------------------
-- empty and unknown streams
------------------------------------------------------------------------------
SELECT ff_create_execution('tap73-z', execution_id => :Z);
SELECT is(pg_temp.err($$SELECT * FROM ff_read_stream('{fp:73}:00000000-0000-4000-8000-000000007303')$$), 'YFN06',
          'an execution never claimed (NULL attempt) -> YFN06 stream_not_found');
SELECT throws_like($$SELECT * FROM ff_read_stream('{fp:73}:00000000-0000-4000-8000-000000007303')$$,
                   'stream_not_found: execution {fp:73}:00000000-0000-4000-8000-000000007303 has no attempt yet',
                   '... saying so');
SELECT is(pg_temp.err($$SELECT * FROM ff_read_stream('{fp:73}:00000000-0000-4000-8000-000000007303', 0)$$), 'YFN06',
          '... also with attempt 0 named');
CREATE TEMP TABLE hz AS SELECT * FROM ff_claim('tap73-z', 'w', 'wi', lease_ttl_ms => 3600000);
SELECT is((SELECT count(*) FROM ff_read_stream(:Z)), 0::bigint, 'a claimed attempt without frames: an empty stream');
SELECT is((SELECT count(*) FROM ff_tail_stream(:Z)), 0::bigint, '... empty for a tail too');
SELECT results_eq($$SELECT frame_count, retained_frames, total_bytes, last_frame_id, closed_at_ms, has_durable_frame
                      FROM ff_stream_info('{fp:73}:00000000-0000-4000-8000-000000007303')$$,
                  $$VALUES (0::bigint, 0::bigint, 0::bigint, NULL::text, NULL::bigint, false)$$,
                  '... and its info: no frames, open');
SELECT is(pg_temp.err($$SELECT * FROM ff_read_stream('{fp:73}:00000000-0000-4000-8000-0000000073ff')$$), 'YFN06',
          'an unknown execution -> YFN06');
SELECT is(pg_temp.err($$SELECT * FROM ff_tail_stream('{fp:73}:00000000-0000-4000-8000-0000000073ff')$$), 'YFN06',
          '... for a tail');
SELECT is(pg_temp.err($$SELECT * FROM ff_stream_info('{fp:73}:00000000-0000-4000-8000-0000000073ff')$$), 'YFN06',
          '... for ff_stream_info');
SELECT is(pg_temp.err($$SELECT * FROM ff_read_stream('{fp:73}:00000000-0000-4000-8000-000000007301', 1)$$), 'YFN06',
          'an attempt the execution does not have -> YFN06');
SELECT is(pg_temp.err($$SELECT * FROM ff_read_stream('{fp:73}:00000000-0000-4000-8000-000000007301', -1)$$), 'YFV01',
          'a negative attempt index -> YFV01');
SELECT is(pg_temp.err($$SELECT * FROM ff_read_stream('not-an-id')$$), 'YFV01', 'a malformed execution id -> YFV01');
SELECT is(pg_temp.err($$SELECT * FROM ff_read_stream(NULL)$$), 'YFV01', 'a NULL execution id -> YFV01');

SELECT * FROM finish();
ROLLBACK;

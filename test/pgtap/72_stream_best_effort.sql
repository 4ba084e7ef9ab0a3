-- Streams, best-effort frames: the stream keeps only the newest K of them,
-- K following an exponential moving average of the append rate (spec E 1.7,
-- the Valkey reference: the first best-effort append seeds K = floor, then
-- rate = alpha * 1000/dt + (1 - alpha) * rate, K = clamp(ceil(rate * ttl_s
-- * 2), floor, ceiling)). Durable and summary frames are never trimmed.
BEGIN;
SELECT plan(33);

CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;

CREATE TEMP TABLE h (n integer PRIMARY KEY, handle bytea);
CREATE FUNCTION pg_temp.id(n integer) RETURNS text LANGUAGE sql AS $$
    SELECT format('{fp:72}:00000000-0000-4000-8000-%s', lpad(n::text, 12, '0'))
$$;
CREATE FUNCTION pg_temp.start(n integer) RETURNS void LANGUAGE sql AS $$
    SELECT ff_create_execution('tap72-' || n, execution_id => pg_temp.id(n));
    INSERT INTO h SELECT n, handle FROM ff_claim('tap72-' || n, 'w', 'wi', lease_ttl_ms => 3600000);
$$;
-- be(n, payload, ttl, floor, ceiling, alpha): one best-effort append, returns K
CREATE FUNCTION pg_temp.be(n integer, p text, ttl integer DEFAULT NULL, fl integer DEFAULT NULL,
                           ce integer DEFAULT NULL, alpha double precision DEFAULT NULL)
RETURNS integer LANGUAGE sql AS $$
    SELECT maxlen_applied FROM ff_append_frame((SELECT handle FROM h WHERE h.n = be.n), 'token', convert_to(p, 'UTF8'),
                                               'best_effort', ttl_ms => ttl, maxlen_floor => fl,
                                               maxlen_ceiling => ce, ema_alpha => alpha)
$$;
CREATE FUNCTION pg_temp.meta(n integer) RETURNS ff_stream_meta LANGUAGE sql AS $$
    SELECT * FROM ff_stream_meta WHERE execution_id = (ff_split_execution_id(pg_temp.id(n))).execution_uuid
$$;
CREATE FUNCTION pg_temp.payloads(n integer) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(convert_from(payload, 'UTF8'), ',' ORDER BY ts_ms, seq) FROM ff_read_stream(pg_temp.id(n))
$$;

------------------------------------------------------------------------------
-- The EMA, step by step. After the first append the clock goes back, so
-- every later append has dt <= 0, counted as 1 ms (an instant rate of 1000 Hz).
------------------------------------------------------------------------------
SELECT pg_temp.start(1);
SELECT is(pg_temp.be(1, 'a', 5000), 64, 'first best-effort append: K = floor (64)');
SELECT is((pg_temp.meta(1)).ema_rate_hz, 6.4::double precision, '... the rate is seeded to floor / (ttl_s * 2) = 6.4 Hz');
SET LOCAL flowfabric.clock_offset_ms = -3600000;
SELECT is(pg_temp.be(1, 'b', 5000), 2052, 'second (dt 1 ms): rate 0.2*1000 + 0.8*6.4 = 205.12 Hz, K = ceil(205.12 * 10) = 2052');
SELECT is(pg_temp.be(1, 'c', 5000), 3641, 'third: rate 364.096 Hz, K = 3641');
SELECT ok(abs((pg_temp.meta(1)).ema_rate_hz - 364.096) < 1e-9, 'ff_stream_meta.ema_rate_hz = 364.096');
SELECT results_eq($$SELECT maxlen_applied_last, retained_frames, retained_best_effort, has_durable_frame FROM pg_temp.meta(1)$$,
                  $$VALUES (3641, 3::bigint, 3::bigint, false)$$,
                  'maxlen_applied_last, retained counts; a pure best-effort stream has no durable frame');
SELECT is(pg_temp.be(1, 'd', 5000, alpha => 1.0), 10000, 'alpha 1: the rate is the instant rate, 1000 Hz -> K 10000');
SELECT is(pg_temp.be(1, 'e', 30000, alpha => 1.0), 16384, 'ttl 30 s: K would be 60000, the ceiling 16384 caps it');
RESET flowfabric.clock_offset_ms;

------------------------------------------------------------------------------
-- Trimming keeps the newest K best-effort frames
------------------------------------------------------------------------------
SELECT pg_temp.start(2);
SELECT pg_temp.be(2, 'be-' || i, fl => 5, ce => 5) FROM generate_series(1, 12) i;
SELECT is(pg_temp.payloads(2), 'be-8,be-9,be-10,be-11,be-12', 'floor = ceiling = 5: after 12 appends the newest 5 remain');
SELECT results_eq($$SELECT frame_count, retained_frames FROM ff_stream_info(pg_temp.id(2))$$,
                  $$VALUES (12::bigint, 5::bigint)$$, 'frame_count counts all 12 appends, retained_frames 5');
SELECT is((SELECT count(*) FROM ff_stream_frame WHERE execution_id = (ff_split_execution_id(pg_temp.id(2))).execution_uuid),
          5::bigint, 'the table holds exactly 5 rows');

-- durable and summary frames are not trimmed (mixing modes is safe)
SELECT pg_temp.start(3);
SELECT ff_append_frame((SELECT handle FROM h WHERE n = 3), 'log', 'D0');
SELECT pg_temp.be(3, 'be-' || i, fl => 3, ce => 3) FROM generate_series(1, 5) i;
SELECT ff_append_frame((SELECT handle FROM h WHERE n = 3), 'summary', '{"tokens": 42}', 'summary');
SELECT pg_temp.be(3, 'be-' || i, fl => 3, ce => 3) FROM generate_series(6, 10) i;
SELECT ff_append_frame((SELECT handle FROM h WHERE n = 3), 'log', 'D1');
SELECT is(pg_temp.payloads(3), 'D0,{"tokens": 42},be-8,be-9,be-10,D1',
          'K = 3 best-effort frames remain; the durable and summary frames all survive');
SELECT results_eq($$SELECT version, document FROM ff_read_summary(pg_temp.id(3))$$,
                  $$VALUES (1::bigint, '{"tokens": 42}'::jsonb)$$, 'the summary is untouched by trimming');
SELECT results_eq($$SELECT retained_frames, retained_best_effort, has_durable_frame FROM pg_temp.meta(3)$$,
                  $$VALUES (6::bigint, 3::bigint, true)$$, 'the counters agree with the table');

------------------------------------------------------------------------------
-- Upstream cases
------------------------------------------------------------------------------
-- best_effort_dynamic_maxlen: 100 appends, ttl 5 s
SELECT pg_temp.start(4);
SELECT pg_temp.be(4, 'x' || i, 5000) FROM generate_series(1, 100) i;
SELECT ok((SELECT retained_frames FROM ff_stream_info(pg_temp.id(4))) BETWEEN 64 AND 100
          AND (pg_temp.meta(4)).ema_rate_hz > 0, '100 appends: 64 <= retained <= 100 and ema_rate_hz > 0');

-- mixed_durable_and_best_effort_coexist: D0, 50 best-effort (ttl 2 s), D1
SELECT pg_temp.start(5);
SELECT ff_append_frame((SELECT handle FROM h WHERE n = 5), 'log', 'D0');
SELECT pg_temp.be(5, 'be' || i, 2000) FROM generate_series(1, 50) i;
SELECT ff_append_frame((SELECT handle FROM h WHERE n = 5), 'log', 'D1');
SELECT is((SELECT count(*) FROM ff_read_stream(pg_temp.id(5)) WHERE mode = 'durable'), 2::bigint, 'both durable frames survive');
SELECT is((SELECT string_agg(convert_from(payload, 'UTF8'), ',')
             FROM ff_tail_stream(pg_temp.id(5), NULL, '0-0', 1000, 'exclude_best_effort')), 'D0,D1',
          'a tail excluding best-effort frames returns exactly the 2 durable ones');
SELECT is((SELECT count(*) FROM ff_tail_stream(pg_temp.id(5), NULL, '0-0', 1000, 'all')), 52::bigint,
          'visibility all returns all 52');

-- bursty_producer_climbs_past_floor: 256 rapid appends, ttl 30 s
SELECT pg_temp.start(6);
SET LOCAL flowfabric.clock_offset_ms = -3600000;
SELECT pg_temp.be(6, 'x', 30000) FROM generate_series(1, 256);
SELECT ok((pg_temp.meta(6)).maxlen_applied_last > 64 AND (pg_temp.meta(6)).ema_rate_hz > 1.0,
          '256 rapid appends: K climbs past the floor, rate > 1 Hz');
SELECT is((SELECT retained_frames FROM ff_stream_info(pg_temp.id(6))), 256::bigint, '... and nothing was trimmed');

-- idle_gap_lowers_ema: alpha 0.3, 64 rapid appends, 2 s idle, one append
RESET flowfabric.clock_offset_ms;
SELECT pg_temp.start(7);
SELECT pg_temp.be(7, 'first', 30000, alpha => 0.3);
SET LOCAL flowfabric.clock_offset_ms = -3600000;
SELECT pg_temp.be(7, 'x', 30000, alpha => 0.3) FROM generate_series(1, 63);
CREATE TEMP TABLE busy AS SELECT (pg_temp.meta(7)).ema_rate_hz AS rate;
SET LOCAL flowfabric.clock_offset_ms = 2000;
SELECT pg_temp.be(7, 'after the gap', 30000, alpha => 0.3);
SELECT ok((pg_temp.meta(7)).ema_rate_hz < (SELECT rate FROM busy), 'after a 2 s gap the rate is strictly lower');
SELECT ok(abs((pg_temp.meta(7)).ema_rate_hz - 0.7 * (SELECT rate FROM busy)) < 1.0,
          '... about 0.3 * 0.5 Hz + 0.7 * the busy rate');

-- ceiling_clamp_pegs_maxlen: ceiling 256, 512 rapid appends
RESET flowfabric.clock_offset_ms;
SELECT pg_temp.start(8);
SET LOCAL flowfabric.clock_offset_ms = -3600000;
CREATE TEMP TABLE k8 AS SELECT pg_temp.be(8, 'x' || i, 30000, ce => 256) AS k FROM generate_series(1, 512) i;
SELECT is((SELECT max(k) FROM k8), 256, 'K never exceeds the ceiling');
SELECT is((pg_temp.meta(8)).maxlen_applied_last, 256, 'maxlen_applied_last is pegged at 256');
SELECT is((SELECT retained_frames FROM ff_stream_info(pg_temp.id(8))), 256::bigint, 'exactly 256 frames are kept ...');
SELECT is((SELECT min(convert_from(payload, 'UTF8')::text COLLATE "C") FROM ff_read_stream(pg_temp.id(8), NULL, 'start', 'end', 1)),
          'x257', '... the newest: the oldest kept is the 257th');
RESET flowfabric.clock_offset_ms;

------------------------------------------------------------------------------
-- Arguments
------------------------------------------------------------------------------
SELECT is(pg_temp.err($$SELECT pg_temp.be(8, 'x', ttl => 0)$$), 'YFV01', 'ttl_ms 0 -> YFV01');
SELECT is(pg_temp.err($$SELECT pg_temp.be(8, 'x', fl => 0)$$), 'YFV01', 'maxlen_floor 0 -> YFV01');
SELECT is(pg_temp.err($$SELECT pg_temp.be(8, 'x', fl => 10, ce => 9)$$), 'YFV01', 'maxlen_ceiling below the floor -> YFV01');
SELECT is(pg_temp.err($$SELECT pg_temp.be(8, 'x', ce => 1000001)$$), 'YFV01', 'maxlen_ceiling above 1000000 -> YFV01');
SELECT is(pg_temp.err($$SELECT pg_temp.be(8, 'x', alpha => 0)$$), 'YFV01', 'ema_alpha 0 -> YFV01');
SELECT is(pg_temp.err($$SELECT pg_temp.be(8, 'x', alpha => 1.5)$$), 'YFV01', 'ema_alpha 1.5 -> YFV01');
SELECT is(pg_temp.be(8, 'x', fl => 20000), 20000, 'a floor above the default ceiling raises the default ceiling to it');

SELECT * FROM finish();
ROLLBACK;

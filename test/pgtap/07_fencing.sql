-- Lease fencing, the core guarantee: a handle acts only while its lease is
-- the live lease of the execution's current attempt. Every way a handle can
-- go stale is refused with its own SQLSTATE, and the live handle keeps working.
BEGIN;
SELECT plan(70);

-- ops(handle) runs every handle operation and returns the SQLSTATE each
-- raised ('ok' if it succeeded); each runs in its own subtransaction.
CREATE FUNCTION pg_temp.ops(h bytea) RETURNS TABLE (op text, code text)
LANGUAGE plpgsql AS $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['renew', 'progress', 'complete', 'fail', 'cancel', 'delay'] LOOP
        BEGIN
            CASE name
                WHEN 'renew' THEN PERFORM * FROM ff_renew(h);
                WHEN 'progress' THEN PERFORM ff_progress(h, 10, 'p');
                WHEN 'complete' THEN PERFORM ff_complete(h, '\x01'::bytea);
                WHEN 'fail' THEN PERFORM * FROM ff_fail(h, 'stale failure');
                WHEN 'cancel' THEN PERFORM ff_cancel(h, 'stale cancel');
                WHEN 'delay' THEN PERFORM ff_delay(h, ff_server_time_ms() + 60000);
            END CASE;
            -- undo a success so the next operation sees the same state
            RAISE EXCEPTION USING ERRCODE = 'XXOK0';
        EXCEPTION WHEN OTHERS THEN
            op := name;
            code := CASE WHEN SQLSTATE = 'XXOK0' THEN 'ok' ELSE SQLSTATE END;
            RETURN NEXT;
        END;
    END LOOP;
END
$$;

-- all(state) is what ops() returns when every operation fails with state.
CREATE FUNCTION pg_temp.all_ops(state text) RETURNS TABLE (op text, code text)
LANGUAGE sql AS $$
    SELECT o, state FROM unnest(ARRAY['renew', 'progress', 'complete', 'fail', 'cancel', 'delay']) o
$$;

-- forged(handle, ...) re-encodes a handle with one field replaced.
CREATE FUNCTION pg_temp.forged(h bytea, p_attempt_index integer DEFAULT NULL, p_attempt_id text DEFAULT NULL,
                               p_lease_id text DEFAULT NULL, p_epoch bigint DEFAULT NULL,
                               p_execution_id text DEFAULT NULL, p_backend text DEFAULT 'postgres')
RETURNS bytea LANGUAGE sql AS $$
    SELECT ff_handle_encode(coalesce(p_execution_id, d.execution_id),
                            coalesce(p_attempt_index, d.attempt_index::integer),
                            coalesce(p_attempt_id, d.attempt_id), coalesce(p_lease_id, d.lease_id),
                            coalesce(p_epoch, d.lease_epoch), d.lease_ttl_ms, d.lane_id,
                            d.worker_instance_id, p_backend)
      FROM ff_handle_describe(h) d
$$;

------------------------------------------------------------------------------
-- (a) lease expired, marked by the reconciler, reclaimed by another worker:
--     the old handle is stale (YFS01), the new one works
------------------------------------------------------------------------------
SELECT ff_create_execution('tap07-a', execution_id => '{fp:70}:00000000-0000-4000-8000-000000000701');
CREATE TEMP TABLE a1 AS SELECT * FROM ff_claim('tap07-a', 'w1', 'wi-1', lease_ttl_ms => 1000);
SET LOCAL flowfabric.clock_offset_ms = 2000;
SELECT is(ff_reconcile_lease_expiry(), 1, '(a) the reconciler marks the expired lease');
CREATE TEMP TABLE a2 AS SELECT * FROM ff_claim('tap07-a', 'w2', 'wi-2', lease_ttl_ms => 60000);
SELECT results_eq($$SELECT attempt_index, lease_epoch FROM a2$$, $$VALUES (1, 2::bigint)$$,
                  '(a) another worker reclaims: attempt 1, epoch 2');

SELECT results_eq($$SELECT * FROM pg_temp.ops((SELECT handle FROM a1))$$, $$SELECT * FROM pg_temp.all_ops('YFS01')$$,
                  '(a) the old handle: renew/progress/complete/fail/cancel/delay all -> YFS01');
SELECT results_eq($$SELECT * FROM pg_temp.ops((SELECT handle FROM a2))$$, $$SELECT * FROM pg_temp.all_ops('ok')$$,
                  '(a) the new handle: every operation succeeds');
SELECT results_eq(
    $$SELECT public_state, attempt_index, lease_epoch, progress_pct FROM ff_execution
       WHERE execution_id = '00000000-0000-4000-8000-000000000701'$$,
    $$VALUES ('active'::text, 1, 2::bigint, NULL::integer)$$,
    '(a) the rejected old-handle calls changed nothing');
SELECT lives_ok($$SELECT ff_renew((SELECT handle FROM a2))$$, '(a) the new handle renews');
SELECT lives_ok($$SELECT ff_progress((SELECT handle FROM a2), 60, 'new owner')$$, '(a) the new handle reports progress');
SELECT throws_ok($$SELECT ff_complete((SELECT handle FROM a1), '\xbad0'::bytea)$$, 'YFS01', NULL,
                 '(a) the old worker cannot complete the new attempt''s execution');
SELECT lives_ok($$SELECT ff_complete((SELECT handle FROM a2), '\x600d'::bytea)$$, '(a) the new handle completes');
SELECT results_eq(
    $$SELECT e.public_state, e.result, (SELECT count(*) FROM ff_completion_event c WHERE c.execution_id = e.execution_id)
        FROM ff_execution e WHERE execution_id = '00000000-0000-4000-8000-000000000701'$$,
    $$VALUES ('completed'::text, '\x600d'::bytea, 1::bigint)$$,
    '(a) completed with the new worker''s result and one completion event');
SELECT results_eq($$SELECT * FROM pg_temp.ops((SELECT handle FROM a1))$$, $$SELECT * FROM pg_temp.all_ops('YFC11')$$,
                  '(a) after completion the old handle gets YFC11 for everything');

------------------------------------------------------------------------------
-- (b) lease expired by time, then marked, but not yet reclaimed: YFS02
------------------------------------------------------------------------------
SELECT ff_create_execution('tap07-b', execution_id => '{fp:70}:00000000-0000-4000-8000-000000000702');
CREATE TEMP TABLE b1 AS SELECT * FROM ff_claim('tap07-b', 'w1', 'wi-1', lease_ttl_ms => 1000);
SELECT results_eq($$SELECT * FROM pg_temp.ops((SELECT handle FROM b1))$$, $$SELECT * FROM pg_temp.all_ops('ok')$$,
                  '(b) while the lease is live every operation succeeds');
SET LOCAL flowfabric.clock_offset_ms = 4000;
SELECT results_eq($$SELECT * FROM pg_temp.ops((SELECT handle FROM b1))$$, $$SELECT * FROM pg_temp.all_ops('YFS02')$$,
                  '(b) lease time passed, not yet marked: every operation -> YFS02');
SELECT is(ff_reconcile_lease_expiry(), 1, '(b) the reconciler marks it');
SELECT results_eq($$SELECT * FROM pg_temp.ops((SELECT handle FROM b1))$$, $$SELECT * FROM pg_temp.all_ops('YFS02')$$,
                  '(b) marked lease_expired_reclaimable: every operation -> YFS02');
SELECT results_eq(
    $$SELECT public_state, ownership_state, attempt_state FROM ff_execution
       WHERE execution_id = '00000000-0000-4000-8000-000000000702'$$,
    $$VALUES ('active'::text, 'lease_expired_reclaimable'::text, 'attempt_interrupted'::text)$$,
    '(b) the execution stays reclaimable');
CREATE TEMP TABLE b2 AS SELECT * FROM ff_claim('tap07-b', 'w2', 'wi-2', lease_ttl_ms => 60000);
SELECT results_eq($$SELECT * FROM pg_temp.ops((SELECT handle FROM b1))$$, $$SELECT * FROM pg_temp.all_ops('YFS01')$$,
                  '(b) after the reclaim the old handle is stale: YFS01');
SELECT lives_ok($$SELECT ff_complete((SELECT handle FROM b2))$$, '(b) the reclaiming handle completes');

------------------------------------------------------------------------------
-- (c) retry scheduled: the failed attempt's handle gets YFC11 while the
--     execution is runnable, YFS01 once the retry is claimed
------------------------------------------------------------------------------
SELECT ff_create_execution('tap07-c', execution_id => '{fp:71}:00000000-0000-4000-8000-000000000711',
        policy => '{"retry_policy": {"max_retries": 2, "backoff": {"type": "fixed", "delay_ms": 1000}}}');
CREATE TEMP TABLE c1 AS SELECT * FROM ff_claim('tap07-c', 'w1', 'wi-1', lease_ttl_ms => 60000);
CREATE TEMP TABLE cf AS SELECT * FROM ff_fail((SELECT handle FROM c1), 'first failure');
SELECT is((SELECT outcome FROM cf), 'retry_scheduled', '(c) the first failure schedules a retry');
SELECT results_eq(
    $$SELECT * FROM pg_temp.ops((SELECT handle FROM c1)) WHERE op <> 'fail'$$,
    $$SELECT * FROM pg_temp.all_ops('YFC11') WHERE op <> 'fail'$$,
    '(c) retry pending: renew/progress/complete/cancel/delay with the failed handle -> YFC11');
SELECT results_eq($$SELECT * FROM ff_fail((SELECT handle FROM c1), 'first failure')$$, $$SELECT * FROM cf$$,
                  '(c) retry pending: fail with the failed handle is a replay of the first outcome');
SET LOCAL flowfabric.clock_offset_ms = 6000;
SELECT is(ff_reconcile_delayed_promotion(), 1, '(c) the retry is promoted');
SELECT results_eq($$SELECT * FROM pg_temp.ops((SELECT handle FROM c1)) WHERE op <> 'fail'$$,
                  $$SELECT * FROM pg_temp.all_ops('YFC11') WHERE op <> 'fail'$$,
                  '(c) promoted but unclaimed: still YFC11');
CREATE TEMP TABLE c2 AS SELECT * FROM ff_claim('tap07-c', 'w2', 'wi-2', lease_ttl_ms => 60000);
SELECT results_eq($$SELECT attempt_index, lease_epoch FROM c2$$, $$VALUES (1, 2::bigint)$$, '(c) the retry is claimed: attempt 1, epoch 2');
SELECT results_eq($$SELECT * FROM pg_temp.ops((SELECT handle FROM c1))$$, $$SELECT * FROM pg_temp.all_ops('YFS01')$$,
                  '(c) once the retry is claimed the failed attempt''s handle gets YFS01 for everything');
SELECT results_eq($$SELECT * FROM pg_temp.ops((SELECT handle FROM c2))$$, $$SELECT * FROM pg_temp.all_ops('ok')$$,
                  '(c) the retry''s handle works');

------------------------------------------------------------------------------
-- (d) after complete: YFC11, except the complete replay
------------------------------------------------------------------------------
SELECT ff_create_execution('tap07-d', execution_id => '{fp:71}:00000000-0000-4000-8000-000000000721');
CREATE TEMP TABLE d1 AS SELECT * FROM ff_claim('tap07-d', 'w1', 'wi-1', lease_ttl_ms => 60000);
SELECT lives_ok($$SELECT ff_complete((SELECT handle FROM d1), '\x0d'::bytea)$$, '(d) complete');
SELECT results_eq($$SELECT * FROM pg_temp.ops((SELECT handle FROM d1))$$,
                  $$SELECT op, CASE op WHEN 'complete' THEN 'ok' ELSE 'YFC11' END FROM pg_temp.all_ops('')$$,
                  '(d) after complete: complete replays fine, everything else -> YFC11');

------------------------------------------------------------------------------
-- forged handles for a live lease
------------------------------------------------------------------------------
SELECT ff_create_execution('tap07-e', execution_id => '{fp:72}:00000000-0000-4000-8000-000000000731');
CREATE TEMP TABLE e1 AS SELECT * FROM ff_claim('tap07-e', 'w1', 'wi-1', lease_ttl_ms => 600000);

SELECT results_eq($$SELECT * FROM pg_temp.ops(pg_temp.forged((SELECT handle FROM e1), p_lease_id => '00000000-0000-4000-8000-00000000dead'))$$,
                  $$SELECT * FROM pg_temp.all_ops('YFS01')$$, 'a handle with a wrong lease_id -> YFS01');
SELECT results_eq($$SELECT * FROM pg_temp.ops(pg_temp.forged((SELECT handle FROM e1), p_epoch => 2))$$,
                  $$SELECT * FROM pg_temp.all_ops('YFS01')$$, 'a handle with a wrong (future) epoch -> YFS01');
SELECT results_eq($$SELECT * FROM pg_temp.ops(pg_temp.forged((SELECT handle FROM e1), p_epoch => 0))$$,
                  $$SELECT * FROM pg_temp.all_ops('YFS01')$$, 'a handle with a wrong (past) epoch -> YFS01');
SELECT results_eq($$SELECT * FROM pg_temp.ops(pg_temp.forged((SELECT handle FROM e1), p_attempt_id => '00000000-0000-4000-8000-00000000beef'))$$,
                  $$SELECT * FROM pg_temp.all_ops('YFS01')$$, 'a handle with a wrong attempt_id -> YFS01');
SELECT results_eq($$SELECT * FROM pg_temp.ops(pg_temp.forged((SELECT handle FROM e1), p_execution_id => '{fp:72}:00000000-0000-4000-8000-00000000ffff'))$$,
                  $$SELECT * FROM pg_temp.all_ops('YFN01')$$, 'a handle for an unknown execution -> YFN01');
SELECT results_eq($$SELECT * FROM pg_temp.ops(pg_temp.forged((SELECT handle FROM e1), p_execution_id => '{fp:73}:00000000-0000-4000-8000-000000000731'))$$,
                  $$SELECT * FROM pg_temp.all_ops('YFN01')$$, 'the right uuid under the wrong partition is an unknown execution -> YFN01');
SELECT results_eq($$SELECT * FROM pg_temp.ops(pg_temp.forged((SELECT handle FROM e1), p_attempt_index => 5))$$,
                  $$SELECT * FROM pg_temp.all_ops('YFN03')$$, 'a handle for an unknown attempt index -> YFN03');
SELECT results_eq($$SELECT * FROM pg_temp.ops(pg_temp.forged((SELECT handle FROM e1), p_backend => 'valkey'))$$,
                  $$SELECT * FROM pg_temp.all_ops('YFV26')$$, 'a valkey-tagged handle -> YFV26');
SELECT results_eq($$SELECT * FROM pg_temp.ops(pg_temp.forged((SELECT handle FROM e1), p_backend => 'sqlite'))$$,
                  $$SELECT * FROM pg_temp.all_ops('YFV26')$$, 'a sqlite-tagged handle -> YFV26');
SELECT results_eq($$SELECT * FROM pg_temp.ops('\x01'::bytea || substring((SELECT handle FROM e1) FROM 4))$$,
                  $$SELECT * FROM pg_temp.all_ops('YFV26')$$, 'a legacy v1 handle (implies valkey) -> YFV26');

-- malformed bytes
SELECT results_eq($$SELECT * FROM pg_temp.ops('\xdeadbeef'::bytea)$$, $$SELECT * FROM pg_temp.all_ops('YFV25')$$,
                  'garbage bytes -> YFV25 for every operation');
SELECT results_eq($$SELECT * FROM pg_temp.ops(''::bytea)$$, $$SELECT * FROM pg_temp.all_ops('YFV25')$$,
                  'an empty handle -> YFV25');
SELECT throws_ok($$SELECT ff_renew(substring(h FROM 1 FOR length(h) - 1)) FROM (SELECT handle AS h FROM e1) s$$,
                 'YFV25', NULL, 'a handle missing its last byte -> YFV25');
SELECT throws_ok($$SELECT ff_renew(substring(h FROM 1 FOR 40)) FROM (SELECT handle AS h FROM e1) s$$,
                 'YFV25', NULL, 'a handle cut inside a field -> YFV25');
SELECT throws_ok($$SELECT ff_renew(h || '\x00'::bytea) FROM (SELECT handle AS h FROM e1) s$$,
                 'YFV25', NULL, 'a handle with a trailing byte -> YFV25');
SELECT throws_ok($$SELECT ff_renew(set_byte(h, 0, 7)) FROM (SELECT handle AS h FROM e1) s$$,
                 'YFV25', NULL, 'bad magic byte -> YFV25');
SELECT throws_ok($$SELECT ff_renew(set_byte(h, 1, 2)) FROM (SELECT handle AS h FROM e1) s$$,
                 'YFV25', NULL, 'bad wire version -> YFV25');
SELECT throws_ok($$SELECT ff_renew(set_byte(h, 2, 9)) FROM (SELECT handle AS h FROM e1) s$$,
                 'YFV25', NULL, 'unknown backend tag -> YFV25');
SELECT throws_ok($$SELECT ff_renew(set_byte(h, 3, 200)) FROM (SELECT handle AS h FROM e1) s$$,
                 'YFV25', NULL, 'a length prefix pointing past the end -> YFV25');
SELECT throws_ok($$SELECT ff_renew(pg_temp.forged((SELECT handle FROM e1), p_execution_id => 'not-an-execution-id'))$$,
                 'YFV25', NULL, 'a handle whose execution id does not parse -> YFV25');
SELECT throws_ok($$SELECT ff_renew(pg_temp.forged((SELECT handle FROM e1), p_lease_id => 'not-a-uuid'))$$,
                 'YFV25', NULL, 'a handle whose lease id does not parse -> YFV25');
SELECT throws_ok($$SELECT ff_renew(pg_temp.forged((SELECT handle FROM e1), p_attempt_id => 'not-a-uuid'))$$,
                 'YFV25', NULL, 'a handle whose attempt id does not parse -> YFV25');
-- claimed handle layout: 3 header bytes, 4+44 execution id, attempt index at 51..54,
-- 4+36 attempt id, 4+36 lease id, epoch at 135..142
SELECT throws_ok($$SELECT ff_renew(set_byte(h, 54, 128)) FROM (SELECT handle AS h FROM e1) s$$,
                 'YFV25', NULL, 'an attempt index beyond int32 -> YFV25');
SELECT throws_ok($$SELECT ff_renew(set_byte(h, 142, 128)) FROM (SELECT handle AS h FROM e1) s$$,
                 'YFV25', NULL, 'a lease epoch beyond int64 -> YFV25');
SELECT throws_ok($$SELECT ff_handle_describe('\x02'::bytea)$$, 'YFV25', NULL, 'ff_handle_describe of a truncated handle -> YFV25');

-- NULL handles
SELECT throws_ok($$SELECT ff_renew(NULL)$$, 'YFV01', NULL, 'renew(NULL) -> YFV01');
SELECT throws_ok($$SELECT ff_progress(NULL, 1)$$, 'YFV01', NULL, 'progress(NULL) -> YFV01');
SELECT throws_ok($$SELECT ff_complete(NULL)$$, 'YFV01', NULL, 'complete(NULL) -> YFV01');
SELECT throws_ok($$SELECT ff_fail(NULL, 'm')$$, 'YFV01', NULL, 'fail(NULL) -> YFV01');
SELECT throws_ok($$SELECT ff_cancel(NULL, 'r')$$, 'YFV01', NULL, 'cancel(NULL) -> YFV01');
SELECT throws_ok($$SELECT ff_delay(NULL, 1)$$, 'YFV01', NULL, 'delay(NULL) -> YFV01');

SELECT results_eq(
    $$SELECT e.public_state, e.lease_epoch, e.progress_pct,
             (SELECT count(*) FROM ff_lease_event l WHERE l.execution_id = e.execution_id)
        FROM ff_execution e WHERE execution_id = '00000000-0000-4000-8000-000000000731'$$,
    $$VALUES ('active'::text, 1::bigint, NULL::integer, 1::bigint)$$,
    'none of the forged or malformed handles changed the execution or wrote an event');
SELECT results_eq($$SELECT * FROM pg_temp.ops((SELECT handle FROM e1))$$, $$SELECT * FROM pg_temp.all_ops('ok')$$,
                  'the genuine handle still works for every operation');

------------------------------------------------------------------------------
-- the spec A §2.3 test vector (174 bytes)
------------------------------------------------------------------------------
CREATE TEMP TABLE vec AS SELECT decode(
    '0201022c0000007b66703a38367d3a35353065383430302d653239622d343164342d613731362d343436363535343430303030'
    '030000002400000030303030303030302d303030302d343030302d383030302d303030303030303030303031'
    '2400000030303030303030302d303030302d343030302d383030302d303030303030303030303032'
    '070000000000000030750000000000000700000064656661756c7408000000776f726b65722d31', 'hex') AS h;
SELECT is((SELECT length(h) FROM vec), 174, 'the test vector is 174 bytes');
SELECT results_eq(
    $$SELECT d.* FROM vec, ff_handle_describe(vec.h) d$$,
    $$VALUES ('postgres'::text, 2, '{fp:86}:550e8400-e29b-41d4-a716-446655440000'::text, 3::bigint,
              '00000000-0000-4000-8000-000000000001'::text, '00000000-0000-4000-8000-000000000002'::text,
              7::bigint, 30000::bigint, 'default'::text, 'worker-1'::text)$$,
    'ff_handle_describe decodes every field of the test vector');
SELECT is(ff_handle_encode('{fp:86}:550e8400-e29b-41d4-a716-446655440000', 3, '00000000-0000-4000-8000-000000000001',
                           '00000000-0000-4000-8000-000000000002', 7, 30000, 'default', 'worker-1'),
          (SELECT h FROM vec), 'ff_handle_encode reproduces the test vector byte for byte');
SELECT is((SELECT ff_handle_encode(d.execution_id, d.attempt_index::int, d.attempt_id, d.lease_id, d.lease_epoch,
                                   d.lease_ttl_ms, d.lane_id, d.worker_instance_id, d.backend)
             FROM e1, ff_handle_describe(e1.handle) d),
          (SELECT handle FROM e1), 'a claimed handle round-trips through describe and encode');
SELECT results_eq(
    $$SELECT d.backend, d.format, d.execution_id, d.attempt_index, d.lease_epoch FROM vec,
             ff_handle_describe('\x01'::bytea || substring(vec.h FROM 4)) d$$,
    $$VALUES ('valkey'::text, 1, '{fp:86}:550e8400-e29b-41d4-a716-446655440000'::text, 3::bigint, 7::bigint)$$,
    'the legacy v1 form of the same fields decodes as a valkey handle');
SELECT is((SELECT (ff_handle_describe(set_byte(h, 2, 1))).backend FROM vec), 'valkey', 'tag byte 1 decodes as valkey');
SELECT throws_ok($$SELECT ff_handle_encode('{fp:86}:550e8400-e29b-41d4-a716-446655440000', -1, '00000000-0000-4000-8000-000000000001',
                                           '00000000-0000-4000-8000-000000000002', 7, 30000, 'default', 'worker-1')$$,
                 'YFV01', NULL, 'ff_handle_encode rejects a negative attempt index');
SELECT throws_ok($$SELECT ff_handle_encode('{fp:86}:550e8400-e29b-41d4-a716-446655440000', 3, '00000000-0000-4000-8000-000000000001',
                                           '00000000-0000-4000-8000-000000000002', 7, 30000, 'default', 'worker-1', 'redis')$$,
                 'YFV01', NULL, 'ff_handle_encode rejects an unknown backend');
SELECT results_eq($$SELECT * FROM pg_temp.ops((SELECT h FROM vec))$$, $$SELECT * FROM pg_temp.all_ops('YFN01')$$,
                  'the test vector names no existing execution here: YFN01');

SELECT * FROM finish();
ROLLBACK;

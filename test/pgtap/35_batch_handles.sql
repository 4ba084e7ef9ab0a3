-- ff_complete_many / ff_renew_many / ff_fail_many: one row per handle in
-- input order; each handle fenced on its own (a stale, an expired, a
-- foreign, a malformed and a missing handle are each reported while the
-- valid ones take effect); duplicates inside a batch; outbox events in input
-- order; per-element input checks; bad arguments.
BEGIN;
SELECT plan(43);

CREATE FUNCTION pg_temp.forged(h bytea, p_attempt_index integer DEFAULT NULL, p_epoch bigint DEFAULT NULL,
                               p_execution_id text DEFAULT NULL, p_backend text DEFAULT 'postgres')
RETURNS bytea LANGUAGE sql AS $$
    SELECT ff_handle_encode(coalesce(p_execution_id, d.execution_id),
                            coalesce(p_attempt_index, d.attempt_index::integer),
                            d.attempt_id, d.lease_id, coalesce(p_epoch, d.lease_epoch), d.lease_ttl_ms,
                            d.lane_id, d.worker_instance_id, p_backend)
      FROM ff_handle_describe(h) d
$$;

-- executions 01..09 on lane tap35-h; priorities make the claim order 01, 02, ...
SELECT ff_create_executions('tap35-h', array_fill(NULL::bytea, ARRAY[9]),
    execution_ids => ARRAY(SELECT '{fp:35}:00000000-0000-4000-8000-0000000035' || lpad(i::text, 2, '0')
                             FROM generate_series(1, 9) i ORDER BY i),
    priorities => ARRAY(SELECT 100 - i FROM generate_series(1, 9) i ORDER BY i));
CREATE FUNCTION pg_temp.eid(i integer) RETURNS text LANGUAGE sql AS $$
    SELECT '{fp:35}:00000000-0000-4000-8000-0000000035' || lpad(i::text, 2, '0')
$$;
CREATE FUNCTION pg_temp.uid(i integer) RETURNS uuid LANGUAGE sql AS $$
    SELECT ('00000000-0000-4000-8000-0000000035' || lpad(i::text, 2, '0'))::uuid
$$;
-- 01, 02: short leases (01 will be stolen, 02 will expire); 03..09: an hour
CREATE TEMP TABLE h (n integer, handle bytea);
INSERT INTO h SELECT right(execution_id, 2)::integer, handle
  FROM ff_claim('tap35-h', 'w1', 'wi-1', lease_ttl_ms => 1000, max_claims => 2);
INSERT INTO h SELECT right(execution_id, 2)::integer, handle
  FROM ff_claim('tap35-h', 'w1', 'wi-1', lease_ttl_ms => 3600000, max_claims => 7);
SELECT is((SELECT string_agg(n::text, ',' ORDER BY n) FROM h), '1,2,3,4,5,6,7,8,9', 'nine handles');
CREATE FUNCTION pg_temp.h(i integer) RETURNS bytea LANGUAGE sql AS $$ SELECT handle FROM h WHERE n = i $$;

-- two seconds later both short leases are past; the reconciler marks them,
-- and a thief reclaims 01 (the higher priority): 01's handle is now stale,
-- 02's merely expired
SET LOCAL flowfabric.clock_offset_ms = 2000;
SELECT is(ff_reconcile_lease_expiry(), 2, 'the two short leases expire');
SELECT is((SELECT count(*) FROM ff_claim('tap35-h', 'thief', 'thief-1', lease_ttl_ms => 3600000)), 1::bigint,
          'a thief reclaims execution 01');
-- 09 was cancelled by its holder: its handle meets an execution that is not active
SELECT ff_cancel(pg_temp.h(9), 'gone');

------------------------------------------------------------------------------
-- one batch, every kind of handle
------------------------------------------------------------------------------
CREATE TEMP TABLE r AS
SELECT * FROM ff_complete_many(ARRAY[
    pg_temp.h(3),                                                  -- 1 valid
    pg_temp.h(1),                                                  -- 2 stale
    pg_temp.h(2),                                                  -- 3 expired
    pg_temp.forged(pg_temp.h(4), p_backend => 'valkey'),           -- 4 foreign
    pg_temp.h(4),                                                  -- 5 valid
    '\x00'::bytea,                                                 -- 6 malformed
    NULL,                                                          -- 7 null
    pg_temp.forged(pg_temp.h(5), p_execution_id => '{fp:35}:00000000-0000-4000-8000-0000000035ff'), -- 8 no execution
    pg_temp.forged(pg_temp.h(5), p_attempt_index => 7),            -- 9 no attempt
    pg_temp.h(9),                                                  -- 10 not active
    pg_temp.h(5),                                                  -- 11 valid
    pg_temp.forged(pg_temp.h(6), p_epoch => 99)                    -- 12 other epoch
], ARRAY['\x03', '\x01', '\x02', '\x04', '\x04', NULL, NULL, NULL, NULL, NULL, '\x05', NULL]::bytea[]);

SELECT results_eq(
    $$SELECT item, execution_id, outcome, error_code FROM r ORDER BY item$$,
    $$VALUES (1, pg_temp.eid(3), 'completed', NULL),
             (2, pg_temp.eid(1), 'stale_lease', 'YFS01'),
             (3, pg_temp.eid(2), 'lease_expired', 'YFS02'),
             (4, NULL, 'handle_from_other_backend', 'YFV26'),
             (5, pg_temp.eid(4), 'completed', NULL),
             (6, NULL, 'corruption', 'YFV25'),
             (7, NULL, 'invalid_input', 'YFV01'),
             (8, '{fp:35}:00000000-0000-4000-8000-0000000035ff', 'execution_not_found', 'YFN01'),
             (9, pg_temp.eid(5), 'attempt_not_found', 'YFN03'),
             (10, pg_temp.eid(9), 'execution_not_active', 'YFC11'),
             (11, pg_temp.eid(5), 'completed', NULL),
             (12, pg_temp.eid(6), 'stale_lease', 'YFS01')$$,
    'one row per handle in input order: the valid ones completed, each refusal with its kind and SQLSTATE');
SELECT ok((SELECT bool_and(message IS NULL) FROM r WHERE outcome = 'completed')
          AND (SELECT bool_and(message LIKE outcome || ': %') FROM r WHERE outcome <> 'completed'),
          'refusals carry the single call''s message, starting with the kind');
SELECT results_eq(
    $$SELECT right(execution_id::text, 2), public_state, result FROM ff_execution
       WHERE lane_id = 'tap35-h' AND execution_id IN (pg_temp.uid(3), pg_temp.uid(4), pg_temp.uid(5)) ORDER BY 1$$,
    $$VALUES ('03', 'completed', '\x03'::bytea), ('04', 'completed', '\x04'), ('05', 'completed', '\x05')$$,
    'the valid executions are completed, each with its own payload');
SELECT results_eq(
    $$SELECT right(e.execution_id::text, 2), e.public_state, e.ownership_state, a.worker_id
        FROM ff_execution e JOIN ff_attempt a ON a.partition_key = e.partition_key
         AND a.execution_id = e.execution_id AND a.attempt_index = e.attempt_index
       WHERE e.execution_id IN (pg_temp.uid(1), pg_temp.uid(2), pg_temp.uid(6)) ORDER BY 1$$,
    $$VALUES ('01', 'active', 'leased', 'thief'), ('02', 'active', 'lease_expired_reclaimable', 'w1'),
             ('06', 'active', 'leased', 'w1')$$,
    'the refused executions are untouched: 01 with the thief, 02 still reclaimable, 06 still leased');
SELECT is((SELECT count(*) FROM ff_completion_event WHERE partition_key = 35 AND outcome = 'success'),
          3::bigint, 'three completion events');
SELECT results_eq(
    $$SELECT a.attempt_lifecycle, a.end_reason, a.lease_expires_at_ms IS NULL
        FROM ff_attempt a WHERE a.execution_id = pg_temp.uid(3)$$,
    $$VALUES ('ended_success'::text, 'completed'::text, true)$$,
    'the attempt ends as with ff_complete');

------------------------------------------------------------------------------
-- outbox order follows input order; duplicates and replays
------------------------------------------------------------------------------
CREATE TEMP TABLE ev0 AS SELECT coalesce(max(event_id), 0) AS id FROM ff_completion_event;
CREATE TEMP TABLE r2 AS
SELECT * FROM ff_complete_many(ARRAY[pg_temp.h(8), pg_temp.h(6), pg_temp.h(7), pg_temp.h(8), pg_temp.h(3)]);
SELECT results_eq($$SELECT item, outcome FROM r2 ORDER BY item$$,
                  $$VALUES (1, 'completed'), (2, 'completed'), (3, 'completed'), (4, 'completed'), (5, 'completed')$$,
                  'a repeated handle and an earlier batch''s handle complete as replays');
SELECT is((SELECT string_agg(right(execution_id::text, 2), ',' ORDER BY event_id) FROM ff_completion_event
            WHERE event_id > (SELECT id FROM ev0)),
          '08,06,07', 'completion events in input order (08, 06, 07), none for the replays');
SELECT is((SELECT string_agg(right(execution_id::text, 2), ',' ORDER BY event_id) FROM ff_lease_event
            WHERE event_id > (SELECT id FROM ev0) AND event_type = 'released'),
          '08,06,07', 'lease releases in input order too');
SELECT ok((SELECT count(DISTINCT event_id >> 20) FROM ff_completion_event WHERE event_id > (SELECT id FROM ev0)) = 1,
          'all in one transaction');

------------------------------------------------------------------------------
-- renew
------------------------------------------------------------------------------
SELECT ff_create_executions('tap35-r', ARRAY['\x01', '\x02']::bytea[],
    execution_ids => ARRAY[pg_temp.eid(11), pg_temp.eid(12)], priorities => ARRAY[2, 1]);
CREATE TEMP TABLE hr AS SELECT right(execution_id, 2)::integer AS n, handle, lease_expires_at_ms
  FROM ff_claim('tap35-r', 'w2', 'wi-2', lease_ttl_ms => 60000, max_claims => 2);
SET LOCAL flowfabric.clock_offset_ms = 10000;
CREATE TEMP TABLE rr AS
SELECT * FROM ff_renew_many(ARRAY[(SELECT handle FROM hr WHERE n = 12), pg_temp.h(1),
                                  (SELECT handle FROM hr WHERE n = 11), (SELECT handle FROM hr WHERE n = 12)]);
SELECT results_eq(
    $$SELECT item, execution_id, outcome, lease_epoch, error_code FROM rr ORDER BY item$$,
    $$VALUES (1, pg_temp.eid(12), 'renewed', 1::bigint, NULL), (2, pg_temp.eid(1), 'stale_lease', NULL, 'YFS01'),
             (3, pg_temp.eid(11), 'renewed', 1, NULL), (4, pg_temp.eid(12), 'renewed', 1, NULL)$$,
    'renew: one row per handle, the stale one refused');
SELECT ok((SELECT bool_and(rr.lease_expires_at_ms BETWEEN hr.lease_expires_at_ms + 8000 AND hr.lease_expires_at_ms + 9000)
             FROM rr JOIN hr ON right(rr.execution_id, 2)::integer = hr.n WHERE rr.outcome = 'renewed'),
          'leases extended by their ttl from now (8 s after the claim)');
SELECT is((SELECT lease_expires_at_ms FROM rr WHERE item = 4), (SELECT lease_expires_at_ms FROM rr WHERE item = 1),
          'the repeated handle reports the first renewal');
SELECT is((SELECT count(*) FROM ff_lease_event WHERE execution_id = pg_temp.uid(12) AND event_type = 'renewed'),
          1::bigint, '... and was renewed once');
SELECT is((SELECT lease_expires_at_ms FROM ff_attempt WHERE execution_id = pg_temp.uid(11)),
          (SELECT lease_expires_at_ms FROM rr WHERE item = 3), 'the attempt row holds the new expiry');
SELECT is((SELECT count(*) FROM ff_renew_many('{}'::bytea[])), 0::bigint, 'an empty batch: no rows');

------------------------------------------------------------------------------
-- fail
------------------------------------------------------------------------------
SELECT ff_create_executions('tap35-f', array_fill(NULL::bytea, ARRAY[3]),
    execution_ids => ARRAY[pg_temp.eid(21), pg_temp.eid(22), pg_temp.eid(23)], priorities => ARRAY[3, 2, 1],
    policy => '{"retry_policy": {"max_retries": 1, "backoff": {"type": "fixed", "delay_ms": 5000}}}');
SELECT ff_create_execution('tap35-f', execution_id => pg_temp.eid(24), priority => 0);
CREATE TEMP TABLE hf AS SELECT right(execution_id, 2)::integer AS n, handle
  FROM ff_claim('tap35-f', 'w3', 'wi-3', lease_ttl_ms => 60000, max_claims => 4);
CREATE FUNCTION pg_temp.hf(i integer) RETURNS bytea LANGUAGE sql AS $$ SELECT handle FROM hf WHERE n = i $$;
CREATE TEMP TABLE t0 AS SELECT ff_server_time_ms() AS ms;
CREATE TEMP TABLE rf AS
SELECT * FROM ff_fail_many(ARRAY[pg_temp.hf(21), pg_temp.hf(24), pg_temp.hf(22), pg_temp.hf(23), pg_temp.h(1)],
                           ARRAY['boom', 'fatal', '', 'x', 'late'],
                           ARRAY['transient', NULL, 'transient', 'bogus', 'transient'],
                           ARRAY['\xdd', NULL, NULL, NULL, NULL]::bytea[]);
SELECT results_eq(
    $$SELECT item, execution_id, outcome, delay_until IS NOT NULL, error_code FROM rf ORDER BY item$$,
    $$VALUES (1, pg_temp.eid(21), 'retry_scheduled', true, NULL),
             (2, pg_temp.eid(24), 'terminal_failed', false, NULL),
             (3, pg_temp.eid(22), 'invalid_input', false, 'YFV01'),
             (4, pg_temp.eid(23), 'invalid_input', false, 'YFV01'),
             (5, pg_temp.eid(1), 'stale_lease', false, 'YFS01')$$,
    'fail: retry per policy, terminal without one, each bad element refused on its own');
SELECT is((SELECT delay_until - (SELECT ms FROM t0) BETWEEN 5000 AND 6000 FROM rf WHERE item = 1), true,
          'the retry is due after the fixed 5 s backoff');
SELECT results_eq(
    $$SELECT message FROM rf WHERE item IN (3, 4) ORDER BY item$$,
    $$VALUES ('invalid_input: message must not be empty'),
             ('invalid_input: unknown failure classification "bogus"')$$,
    'the refusals say what was wrong');
SELECT results_eq(
    $$SELECT right(execution_id::text, 2), public_state, last_failure_message, last_failure_category FROM ff_execution
       WHERE lane_id = 'tap35-f' ORDER BY 1$$,
    $$VALUES ('21', 'delayed', 'boom', 'transient'), ('22', 'active', NULL, NULL), ('23', 'active', NULL, NULL),
             ('24', 'failed', 'fatal', 'transient')$$,
    'the failed executions changed (NULL classification = transient), the refused ones did not');
SELECT is((SELECT failure_detail FROM ff_attempt WHERE execution_id = pg_temp.uid(21)), '\xdd'::bytea,
          'the failure detail is stored');
SELECT results_eq(
    $$SELECT item, outcome, delay_until = (SELECT delay_until FROM rf WHERE item = 1)
        FROM ff_fail_many(ARRAY[pg_temp.hf(21)], ARRAY['boom'])$$,
    $$VALUES (1, 'retry_scheduled', true)$$,
    'a replay with the same message and classification reports the first decision');
SELECT results_eq(
    $$SELECT item, outcome, error_code FROM ff_fail_many(ARRAY[pg_temp.hf(21)], ARRAY['other'])$$,
    $$VALUES (1, 'execution_not_active', 'YFC11')$$,
    'another message is not a replay');
SELECT is((SELECT count(*) FROM ff_lease_event WHERE execution_id = pg_temp.uid(21) AND event_type = 'released'),
          1::bigint, 'the replays wrote no events');
SET LOCAL flowfabric.max_payload_bytes = 2;
SELECT results_eq(
    $$SELECT item, outcome, error_code FROM ff_fail_many(ARRAY[pg_temp.hf(22), pg_temp.hf(23)], ARRAY['a', 'b'],
                                                            details => ARRAY['\x010203', NULL]::bytea[])$$,
    $$VALUES (1, 'payload_too_large', 'YFV05'), (2, 'retry_scheduled', NULL)$$,
    'a detail over flowfabric.max_payload_bytes refuses that element only');
SELECT results_eq(
    $$SELECT item, outcome, error_code FROM ff_complete_many(ARRAY[pg_temp.hf(22), pg_temp.hf(22)],
                                                                ARRAY['\x010203', '\x0102']::bytea[])$$,
    $$VALUES (1, 'payload_too_large', 'YFV05'), (2, 'completed', NULL)$$,
    'a result over flowfabric.max_payload_bytes refuses that element only');
RESET flowfabric.max_payload_bytes;

------------------------------------------------------------------------------
-- bad arguments reject the whole call
------------------------------------------------------------------------------
SELECT throws_ok($$SELECT * FROM ff_complete_many(NULL)$$, 'YFV01', 'invalid_input: handles must not be null',
                 'complete_many(NULL) -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_renew_many(NULL)$$, 'YFV01', 'invalid_input: handles must not be null',
                 'renew_many(NULL) -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_fail_many(ARRAY[pg_temp.h(6)], NULL)$$, 'YFV01',
                 'invalid_input: messages must not be null', 'fail_many without messages -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_complete_many(ARRAY[pg_temp.h(6)], ARRAY['\x01', '\x02']::bytea[])$$, 'YFV01',
                 'invalid_input: payloads has 2 elements, handles has 1', 'payloads of another length -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_fail_many(ARRAY[pg_temp.h(6)], ARRAY['a'], ARRAY['transient', 'permanent'])$$,
                 'YFV01', NULL, 'classifications of another length -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_fail_many(ARRAY[pg_temp.h(6)], ARRAY['a', 'b'])$$,
                 'YFV01', NULL, 'messages of another length -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_complete_many(array_fill('\x00'::bytea, ARRAY[10001]))$$, 'YFV01',
                 'invalid_input: handles has 10001 elements, a batch takes at most 10000', 'more than 10000 handles -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_renew_many(ARRAY[[pg_temp.h(6)]])$$, 'YFV01',
                 'invalid_input: handles must be a one-dimensional array', 'a two-dimensional array -> YFV01');
SELECT is((SELECT public_state FROM ff_execution WHERE execution_id = pg_temp.uid(6)), 'completed',
          'execution 06 was completed once, by the batch above');
SELECT is((SELECT count(*) FROM ff_complete_many('{}'::bytea[])), 0::bigint, 'complete_many of an empty array: no rows');
SELECT is((SELECT count(*) FROM ff_fail_many('{}'::bytea[], '{}'::text[])), 0::bigint, 'fail_many of empty arrays: no rows');

-- the single calls still raise exactly as before the refactoring
SELECT throws_ok($$SELECT ff_complete(pg_temp.h(1))$$, 'YFS01', NULL, 'ff_complete with the stale handle -> YFS01');
SELECT throws_ok($$SELECT * FROM ff_renew(pg_temp.h(2))$$, 'YFS02', NULL, 'ff_renew with the expired handle -> YFS02');
SELECT throws_ok($$SELECT * FROM ff_fail(pg_temp.h(9), 'x')$$, 'YFC11', NULL, 'ff_fail on a cancelled execution -> YFC11');

SELECT * FROM finish();
ROLLBACK;

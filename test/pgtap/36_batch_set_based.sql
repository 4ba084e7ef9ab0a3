-- The set-based paths of ff_claim and ff_complete_many (claim.c,
-- batch_fast.c) write exactly what the per-row code writes: the same
-- execution, attempt and outbox rows (compared field by field with rows the
-- per-row code wrote in the same file), attempt types and timeouts, claim
-- order across plain and admission-checked rows, outbox order across plain
-- and per-row handles, waitpoints and streams closed with the execution,
-- flow members, and two handles for one execution taken in input order.
-- flowfabric.set_based_batches = off sends every row through the per-row
-- code: the same rows, by more statements.
BEGIN;
SELECT plan(32);
SET LOCAL track_functions = 'all';

SELECT ff_seed_waitpoint_hmac_secret('kid-tap36', repeat('ab', 32));
SELECT ff_create_quota_policy('a3600000-0000-4000-8000-000000000001', 60, 0, 10);   -- 10 at a time
CREATE FUNCTION pg_temp.eid(i integer) RETURNS text LANGUAGE sql AS $$
    SELECT '{fp:36}:00000000-0000-4000-8000-0000000036' || lpad(i::text, 2, '0')
$$;
CREATE FUNCTION pg_temp.uid(i integer) RETURNS uuid LANGUAGE sql AS $$
    SELECT ('00000000-0000-4000-8000-0000000036' || lpad(i::text, 2, '0'))::uuid
$$;
CREATE FUNCTION pg_temp.mk(i integer, lane text, prio integer, policy jsonb DEFAULT NULL) RETURNS text
    LANGUAGE sql AS $$
    SELECT execution_id FROM ff_create_execution(lane, execution_id => pg_temp.eid(i), priority => prio,
                                                 policy => policy, input_payload => int4send(i))
$$;
CREATE TEMP TABLE h (n integer, handle bytea, pos integer);
CREATE FUNCTION pg_temp.claim(lane text, n integer) RETURNS text LANGUAGE sql AS $$
    WITH c AS (SELECT *, row_number() OVER () AS pos FROM ff_claim(lane, 'w36', 'w36/1', lease_ttl_ms => 3600000, max_claims => n)),
         i AS (INSERT INTO h SELECT right(execution_id, 2)::integer, handle, pos FROM c RETURNING n, pos)
    SELECT string_agg(lpad(n::text, 2, '0'), ',' ORDER BY pos) FROM i
$$;
CREATE FUNCTION pg_temp.h(i integer) RETURNS bytea LANGUAGE sql AS $$ SELECT handle FROM h WHERE n = i $$;
-- everything the engine wrote about execution i, without its ids and times
CREATE FUNCTION pg_temp.shape(i integer) RETURNS text LANGUAGE sql AS $$
    SELECT concat_ws(' | ',
        (SELECT concat_ws(',', lifecycle_phase, ownership_state, eligibility_state, blocking_reason,
                          terminal_outcome, attempt_state, public_state, blocking_detail, attempt_index,
                          total_attempt_count, retry_count, reclaim_count, lease_epoch,
                          started_at_ms IS NOT NULL, terminal_at_ms IS NOT NULL, delay_until_ms,
                          encode(result, 'hex'))
           FROM ff_execution WHERE execution_id = pg_temp.uid(i)),
        (SELECT string_agg(concat_ws(',', attempt_index, attempt_type, attempt_lifecycle, worker_id,
                                     worker_instance_id, lease_epoch, lease_ttl_ms,
                                     lease_expires_at_ms - lease_acquired_at_ms, lease_renewed_at_ms,
                                     timeout_at_ms - started_at_ms, started_at_ms = lease_acquired_at_ms,
                                     ended_at_ms IS NOT NULL, end_reason, failure_message),
                           ';' ORDER BY attempt_index)
           FROM ff_attempt WHERE execution_id = pg_temp.uid(i)),
        (SELECT string_agg(concat_ws(',', l.attempt_index, l.lease_id = a.lease_id, l.lease_epoch, l.event_type,
                                     l.reason, l.worker_id, l.worker_instance_id, l.namespace),
                           ';' ORDER BY l.event_id)
           FROM ff_lease_event l JOIN ff_attempt a USING (partition_key, execution_id, attempt_index)
          WHERE l.execution_id = pg_temp.uid(i)),
        (SELECT string_agg(concat_ws(',', flow_id, outcome, namespace, attempt_index), ';' ORDER BY event_id)
           FROM ff_completion_event WHERE execution_id = pg_temp.uid(i)))
$$;

------------------------------------------------------------------------------
-- claim: plain rows and an admission-checked one, in one call
------------------------------------------------------------------------------
-- 01..04 plain; 05 has a quota attached (claimed by claim_one); 06 sets an
-- attempt timeout; priorities make the claim order 01, 02, 05, 03, 04, 06
SELECT pg_temp.mk(1, 'tap36', 100), pg_temp.mk(2, 'tap36', 99),
       pg_temp.mk(5, 'tap36', 98, '{"quota_policy_id": "a3600000-0000-4000-8000-000000000001"}'),
       pg_temp.mk(3, 'tap36', 97), pg_temp.mk(4, 'tap36', 96),
       pg_temp.mk(6, 'tap36', 95, '{"timeout_policy": {"attempt_timeout_ms": 5000}}');
SELECT is(pg_temp.claim('tap36', 6), '01,02,05,03,04,06',
          'one call claims plain and quota-attached rows together, in claim order');
SELECT is((SELECT calls FROM pg_stat_xact_user_functions WHERE funcname = 'ff_next_event_id'), 5::bigint,
          'the five plain rows were claimed by the set-based statement');
SELECT is(pg_temp.shape(1), pg_temp.shape(5),
          'a plain claim writes what the per-row claim writes (execution, attempt, lease event)');
SELECT is(pg_temp.shape(1),
          'active,leased,not_applicable,none,none,running_attempt,active,0,1,0,0,1,t,f | '
          '0,initial,started,w36,w36/1,1,3600000,3600000,t,f | 0,t,1,acquired,w36,w36/1',
          '... the claimed vector, a started initial attempt, an acquired lease event');
SELECT is((SELECT timeout_at_ms - started_at_ms FROM ff_attempt WHERE execution_id = pg_temp.uid(6)), 5000::bigint,
          'the policy''s attempt timeout is armed');
SELECT is((SELECT active_concurrency FROM ff_quota_policy WHERE quota_policy_id = 'a3600000-0000-4000-8000-000000000001'),
          1::bigint, 'the quota-attached row took its quota slot');
SELECT results_eq(
    $$SELECT d.execution_id, d.attempt_index, d.attempt_id, d.lease_id, d.lease_epoch, d.lease_ttl_ms,
             d.lane_id, d.worker_instance_id
        FROM h, ff_handle_describe(h.handle) d WHERE h.n IN (1, 5) ORDER BY h.n$$,
    $$SELECT ff_format_execution_id(a.partition_key, a.execution_id), a.attempt_index::bigint,
             a.attempt_id::text, a.lease_id::text, a.lease_epoch, a.lease_ttl_ms, 'tap36'::text, 'w36/1'::text
        FROM ff_attempt a WHERE a.execution_id IN (pg_temp.uid(1), pg_temp.uid(5)) ORDER BY a.execution_id$$,
    'handles name the attempts written, plain or not');
SELECT is((SELECT string_agg(encode(input_payload, 'hex'), ',' ORDER BY execution_id)
             FROM ff_claim('tap36', 'w', 'w/1')), NULL, 'nothing left to claim');
SELECT is((SELECT count(DISTINCT event_id) FROM ff_lease_event WHERE execution_id IN
             (SELECT pg_temp.uid(i) FROM generate_series(1, 6) i)), 6::bigint,
          'six acquired events, distinct ids');

-- a retry attempt: 07 fails with a retry policy and is claimed again
SELECT pg_temp.mk(7, 'tap36-r', 0, '{"retry_policy": {"max_retries": 3, "backoff": {"type": "fixed", "delay_ms": 0}}}');
SELECT pg_temp.claim('tap36-r', 1);
SELECT ff_fail(pg_temp.h(7), 'boom');
DELETE FROM h WHERE n = 7;
SELECT is(pg_temp.claim('tap36-r', 1), '07', 'the retry is claimed');
SELECT is((SELECT string_agg(attempt_type || ':' || attempt_lifecycle, ',' ORDER BY attempt_index)
             FROM ff_attempt WHERE execution_id = pg_temp.uid(7)),
          'initial:ended_failure,retry:started', 'as a retry attempt (index 1)');
SELECT is((SELECT lease_epoch || '/' || attempt_index || '/' || total_attempt_count || '/' || retry_count
             FROM ff_execution WHERE execution_id = pg_temp.uid(7)), '2/1/2/1', 'epoch 2, attempt 1 of 2');

------------------------------------------------------------------------------
-- complete: one statement for the plain handles, the single call's code for the rest
------------------------------------------------------------------------------
SELECT ff_complete(pg_temp.h(1), '\x01');
SELECT is((SELECT string_agg(outcome, ',') FROM ff_complete_many(ARRAY[pg_temp.h(2)], ARRAY['\x01'::bytea])),
          'completed', 'a plain handle completes');
SELECT is(replace(pg_temp.shape(2), '0000000236', '0000000136'), pg_temp.shape(1),
          'it writes what ff_complete writes');
SELECT is(pg_temp.shape(2),
          'terminal,unowned,not_applicable,none,success,attempt_terminal,completed,0,1,0,0,1,t,t,01 | '
          '0,initial,ended_success,w36,w36/1,1,3600000,t,t,completed | '
          '0,t,1,acquired,w36,w36/1;0,t,1,released,completed,w36,w36/1 | success,0',
          '... completed vector and result, ended attempt, released lease, completion event');

CREATE TEMP TABLE ev0 AS SELECT coalesce(max(event_id), 0) AS id FROM ff_completion_event;
CREATE TEMP TABLE r AS
SELECT * FROM ff_complete_many(ARRAY[pg_temp.h(5), pg_temp.h(3), pg_temp.h(4)]);
SELECT is((SELECT string_agg(outcome, ',' ORDER BY item) FROM r), 'completed,completed,completed',
          'a quota-attached handle and two plain ones complete together');
SELECT is((SELECT string_agg(right(execution_id::text, 2), ',' ORDER BY event_id) FROM ff_completion_event
            WHERE event_id > (SELECT id FROM ev0)),
          '05,03,04', 'completion events in input order across both paths');
SELECT is((SELECT string_agg(right(execution_id::text, 2), ',' ORDER BY event_id) FROM ff_lease_event
            WHERE event_id > (SELECT id FROM ev0) AND event_type = 'released'),
          '05,03,04', 'lease releases too');
SELECT is(replace(pg_temp.shape(5), '\x', ''), replace(pg_temp.shape(3), '\x', ''),
          'the per-row and the set-based completion leave the same rows');
SELECT is((SELECT active_concurrency FROM ff_quota_policy WHERE quota_policy_id = 'a3600000-0000-4000-8000-000000000001'),
          0::bigint, 'the quota slot is released');

-- flowfabric.set_based_batches = off: the per-row code claims and completes
-- the same way, by more statements (more scans of ff_execution)
CREATE FUNCTION pg_temp.exec_index_scans() RETURNS bigint LANGUAGE sql AS $$
    SELECT seq_scan + idx_scan FROM pg_stat_xact_user_tables WHERE relid = 'ff_execution'::regclass
$$;
SELECT pg_temp.mk(14, 'tap36-o', 1), pg_temp.mk(15, 'tap36-o', 0),
       pg_temp.mk(16, 'tap36-n', 1), pg_temp.mk(17, 'tap36-n', 0);
SET LOCAL flowfabric.set_based_batches = off;
CREATE TEMP TABLE calls0 AS SELECT calls FROM pg_stat_xact_user_functions WHERE funcname = 'ff_next_event_id';
SELECT is(pg_temp.claim('tap36-o', 2), '14,15', 'off: the per-row code claims');
SELECT is((SELECT calls FROM pg_stat_xact_user_functions WHERE funcname = 'ff_next_event_id'),
          (SELECT calls FROM calls0), '... without the set-based statement');
CREATE TEMP TABLE scans (path text, n bigint);
INSERT INTO scans SELECT 'before off', pg_temp.exec_index_scans();
SELECT ff_complete_many(ARRAY[pg_temp.h(14), pg_temp.h(15)]);
INSERT INTO scans SELECT 'after off', pg_temp.exec_index_scans();
RESET flowfabric.set_based_batches;
SELECT pg_temp.claim('tap36-n', 2);
INSERT INTO scans SELECT 'before on', pg_temp.exec_index_scans();
SELECT ff_complete_many(ARRAY[pg_temp.h(16), pg_temp.h(17)]);
INSERT INTO scans SELECT 'after on', pg_temp.exec_index_scans();
SELECT ok((SELECT max(n) FILTER (WHERE path = 'after on') - max(n) FILTER (WHERE path = 'before on')
                < max(n) FILTER (WHERE path = 'after off') - max(n) FILTER (WHERE path = 'before off') FROM scans),
          'on, ff_complete_many reads the executions fewer times (one set-based statement)');
SELECT is(replace(pg_temp.shape(16), '0000000236', ''), replace(pg_temp.shape(14), '0000000236', ''),
          'the same rows either way');
SELECT is(pg_temp.shape(14), pg_temp.shape(3), '... as for the executions above');

-- an open waitpoint and the attempt's stream close with the execution
SELECT pg_temp.mk(8, 'tap36-w', 0), pg_temp.mk(9, 'tap36-w', 0);
SELECT pg_temp.claim('tap36-w', 2);
SELECT ff_create_waitpoint(pg_temp.h(i), 'wpk:tap36', 60000), ff_append_frame(pg_temp.h(i), 'log', '\x78')
  FROM generate_series(8, 9) i;
SELECT ff_complete(pg_temp.h(8));
SELECT is((SELECT string_agg(outcome, ',') FROM ff_complete_many(ARRAY[pg_temp.h(9)])), 'completed',
          'an execution with a pending waitpoint and a stream completes');
SELECT results_eq(
    $$SELECT state, close_reason FROM ff_waitpoint WHERE execution_id IN (pg_temp.uid(8), pg_temp.uid(9))
       ORDER BY execution_id$$,
    $$VALUES ('closed'::text, 'execution_success'::text), ('closed', 'execution_success')$$,
    'its waitpoint closes as with ff_complete');
SELECT results_eq(
    $$SELECT closed_reason, closed_at_ms IS NOT NULL FROM ff_stream_meta
       WHERE execution_id IN (pg_temp.uid(8), pg_temp.uid(9)) ORDER BY execution_id$$,
    $$VALUES ('completed'::text, true), ('completed', true)$$,
    'its stream closes as with ff_complete');

-- a flow member and a plain execution in one batch
SELECT ff_create_flow('f3600000-0000-4000-8000-000000000001');
SELECT ff_create_execution('tap36-f', execution_id => ff_new_flow_execution_id('f3600000-0000-4000-8000-000000000001',
                                                                             pg_temp.uid(10)));
SELECT ff_add_execution_to_flow('f3600000-0000-4000-8000-000000000001',
                                ff_new_flow_execution_id('f3600000-0000-4000-8000-000000000001', pg_temp.uid(10)));
SELECT pg_temp.mk(11, 'tap36-f', 0);
INSERT INTO h SELECT right(execution_id, 2)::integer, handle FROM ff_claim('tap36-f', 'w36', 'w36/1', max_claims => 2);
SELECT is((SELECT string_agg(outcome, ',' ORDER BY item) FROM ff_complete_many(ARRAY[pg_temp.h(10), pg_temp.h(11)])),
          'completed,completed', 'a flow member and a plain execution complete together');
SELECT results_eq(
    $$SELECT right(execution_id::text, 2), flow_id FROM ff_completion_event
       WHERE execution_id IN (pg_temp.uid(10), pg_temp.uid(11)) ORDER BY event_id$$,
    $$VALUES ('10'::text, 'f3600000-0000-4000-8000-000000000001'::uuid), ('11', NULL)$$,
    'in input order, the member''s event naming its flow');
SELECT is((SELECT public_flow_state FROM ff_describe_flow('f3600000-0000-4000-8000-000000000001')), 'completed',
          'the flow saw its member finish');

-- two handles for one execution: taken in input order, as two single calls
SELECT pg_temp.mk(12, 'tap36-d', 1), pg_temp.mk(13, 'tap36-d', 0);
SELECT pg_temp.claim('tap36-d', 2);
CREATE FUNCTION pg_temp.other_epoch(b bytea) RETURNS bytea LANGUAGE sql AS $$
    SELECT ff_handle_encode(d.execution_id, d.attempt_index::integer, d.attempt_id, d.lease_id, 99,
                            d.lease_ttl_ms, d.lane_id, d.worker_instance_id)
      FROM ff_handle_describe(b) d
$$;
SELECT is((SELECT string_agg(outcome, ',' ORDER BY item) FROM ff_complete_many(ARRAY[
              pg_temp.other_epoch(pg_temp.h(12)), pg_temp.h(12), pg_temp.h(13), pg_temp.other_epoch(pg_temp.h(13))])),
          'stale_lease,completed,completed,execution_not_active',
          'a stale handle before the live one is stale; after it, the execution is no longer active');

SELECT * FROM finish();
ROLLBACK;

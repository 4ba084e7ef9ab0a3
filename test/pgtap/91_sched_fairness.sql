-- The scheduler's pick (ff_claim_for_worker): fair across lanes and
-- partitions (3 lanes, one flooded partition: every lane and partition gets
-- claims), a high-priority row nobody can run hides nothing, priority order,
-- capability matching, expired grants back on offer; lane controls (pause,
-- resume, drain) for the scheduler and for ff_claim; ff_list_lanes state.
BEGIN;
SELECT plan(58);

DELETE FROM ff_waitpoint_hmac;
SELECT ff_seed_waitpoint_hmac_secret('k1', repeat('ab', 32));

CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END $$;
CREATE SEQUENCE pg_temp.n;
-- an execution on lane in partition p
CREATE FUNCTION pg_temp.mk(lane text, p int, prio int DEFAULT 0, caps text[] DEFAULT '{}') RETURNS text LANGUAGE sql AS $$
    SELECT execution_id FROM ff_create_execution(lane, priority => prio, required_capabilities => caps,
        execution_id => '{fp:' || p || '}:00000000-0000-4000-8000-' || lpad((910000 + nextval('pg_temp.n'))::text, 12, '0'))
$$;
CREATE TABLE pg_temp.grants (n serial, execution_id text, partition_key text, lane_id text, grant_key text);
CREATE FUNCTION pg_temp.pick(lanes text[], w text DEFAULT 'w1', caps text[] DEFAULT '{}', ttl bigint DEFAULT 10000)
    RETURNS text LANGUAGE sql AS $$
    INSERT INTO pg_temp.grants (execution_id, partition_key, lane_id, grant_key)
    SELECT execution_id, partition_key, lane_id, grant_key FROM ff_claim_for_worker(lanes, w, w || '/1', caps, ttl)
    RETURNING lane_id || ' ' || partition_key
$$;

------------------------------------------------------------------------------
-- 3 lanes, one flooded partition
------------------------------------------------------------------------------
-- lane a: 40 old executions in {fp:7}, then one each in {fp:100} and {fp:200},
-- and a priority-9000 execution nobody here can run (needs gpu)
SELECT pg_temp.mk('tap91-a', 7) FROM generate_series(1, 40);
SELECT pg_temp.mk('tap91-a', 100);
SELECT pg_temp.mk('tap91-a', 200);
SELECT pg_temp.mk('tap91-a', 7, 9000, '{gpu}');
-- lane b: one each in {fp:30}, {fp:31}, {fp:7}; lane c: one in {fp:40} plus an unrunnable one
SELECT pg_temp.mk('tap91-b', 30);
SELECT pg_temp.mk('tap91-b', 31);
SELECT pg_temp.mk('tap91-b', 7);
SELECT pg_temp.mk('tap91-c', 40, 9000, '{gpu}');
SELECT pg_temp.mk('tap91-c', 40);

SELECT pg_temp.pick(ARRAY['tap91-a', 'tap91-b', 'tap91-c']) FROM generate_series(1, 12);
SELECT is((SELECT count(*) FROM pg_temp.grants), 12::bigint, '12 calls, 12 grants');
SELECT results_eq(
    $$SELECT DISTINCT lane_id, partition_key FROM pg_temp.grants ORDER BY 1, 2$$,
    $$VALUES ('tap91-a'::text, '{fp:100}'::text), ('tap91-a', '{fp:200}'), ('tap91-a', '{fp:7}'),
             ('tap91-b', '{fp:30}'), ('tap91-b', '{fp:31}'), ('tap91-b', '{fp:7}'), ('tap91-c', '{fp:40}')$$,
    'every lane and every partition with work got a grant, the flooded {fp:7} did not take them all');
SELECT results_eq(
    $$SELECT lane_id, count(*) FROM pg_temp.grants GROUP BY 1 ORDER BY 1$$,
    $$VALUES ('tap91-a'::text, 8::bigint), ('tap91-b', 3), ('tap91-c', 1)$$,
    'lanes take turns: b and c were served until empty, a had the rest');
SELECT ok((SELECT count(*) FROM pg_temp.grants g WHERE g.lane_id = 'tap91-a' AND g.partition_key = '{fp:7}') <= 6,
          'the flooded partition got at most its round-robin share of lane a');
SELECT is((SELECT count(*) FROM pg_temp.grants g JOIN ff_execution e ON e.execution_id = split_part(g.execution_id, '}:', 2)::uuid
            WHERE e.priority = 9000), 0::bigint, 'the unrunnable priority-9000 rows got no grant and hid nothing');
SELECT is((SELECT count(DISTINCT execution_id) FROM pg_temp.grants), 12::bigint, 'no execution was granted twice');
SELECT is((SELECT count(*) FROM ff_claim_grant g JOIN pg_temp.grants t ON t.grant_key IS NOT NULL
            WHERE g.grant_id = sha256(convert_to(t.grant_key, 'UTF8'))), 12::bigint, 'each grant has its row');
-- every grant is good: the worker claims each
SELECT is((SELECT count(*) FROM pg_temp.grants g,
                  LATERAL ff_claim_execution(g.execution_id, g.grant_key, 'w1', 'w1/1') c), 12::bigint,
          'the worker claims all 12 with its grants');
SELECT is((SELECT count(*) FROM ff_claim_grant g JOIN pg_temp.grants t ON g.grant_id = sha256(convert_to(t.grant_key, 'UTF8'))),
          0::bigint, 'all consumed');
SELECT is((SELECT count(*) FROM ff_execution WHERE lane_id IN ('tap91-a', 'tap91-b', 'tap91-c') AND public_state = 'active'),
          12::bigint, '12 executions active');
-- a worker with gpu gets the highest priority first
SELECT is(pg_temp.pick(ARRAY['tap91-c'], 'w2', '{gpu}'), 'tap91-c {fp:40}', 'a gpu worker gets lane c''s priority-9000 row');
SELECT is((SELECT e.priority FROM pg_temp.grants g JOIN ff_execution e ON e.execution_id = split_part(g.execution_id, '}:', 2)::uuid
            ORDER BY g.n DESC LIMIT 1), 9000, '... the priority-9000 one');
SELECT is(pg_temp.pick(ARRAY['tap91-c'], 'w2', '{gpu}'), NULL, 'lane c has nothing more');
SELECT is(pg_temp.pick(ARRAY['tap91-c', 'tap91-b'], 'w2', '{gpu}'), NULL, 'nor lane b: NoWork is no row');

------------------------------------------------------------------------------
-- priority order, capability matching (spec D §11.5)
------------------------------------------------------------------------------
SELECT pg_temp.mk('tap91-prio', 12, 1);
SELECT pg_temp.mk('tap91-prio', 12, 10);
SELECT pg_temp.mk('tap91-prio', 12, 5);
SELECT is(pg_temp.pick(ARRAY['tap91-prio']), 'tap91-prio {fp:12}', 'a grant on lane tap91-prio');
SELECT is((SELECT e.priority FROM pg_temp.grants g JOIN ff_execution e ON e.execution_id = split_part(g.execution_id, '}:', 2)::uuid
            ORDER BY g.n DESC LIMIT 1), 10, 'priorities 1, 10, 5: priority 10 wins');
SELECT pg_temp.pick(ARRAY['tap91-prio']);
SELECT is((SELECT e.priority FROM pg_temp.grants g JOIN ff_execution e ON e.execution_id = split_part(g.execution_id, '}:', 2)::uuid
            ORDER BY g.n DESC LIMIT 1), 5, 'then 5');
SELECT pg_temp.mk('tap91-prio2', 201, 1);
SELECT pg_temp.mk('tap91-prio2', 3, 0);
SELECT pg_temp.mk('tap91-prio2', 202, 7);
SELECT pg_temp.pick(ARRAY['tap91-prio2']) FROM generate_series(1, 3);
SELECT results_eq($$SELECT e.priority FROM pg_temp.grants g JOIN ff_execution e ON e.execution_id = split_part(g.execution_id, '}:', 2)::uuid
                     WHERE g.lane_id = 'tap91-prio2' ORDER BY g.n$$,
                  $$VALUES (7), (1), (0)$$, 'across partitions, priority still comes first');
SELECT pg_temp.mk('tap91-caps', 13, 0, '{asr}');
SELECT is(pg_temp.pick(ARRAY['tap91-caps'], 'w3', '{llm}'), NULL, 'required {asr}, worker {llm}: no grant');
SELECT is((SELECT eligibility_state FROM ff_execution WHERE lane_id = 'tap91-caps'), 'eligible_now', '... the row stays eligible');
SELECT is(pg_temp.pick(ARRAY['tap91-caps'], 'w3', '{asr,llm}'), 'tap91-caps {fp:13}', 'a worker with asr gets it');

------------------------------------------------------------------------------
-- an expired grant puts the execution back on offer
------------------------------------------------------------------------------
SELECT pg_temp.mk('tap91-exp', 14);
SELECT is(pg_temp.pick(ARRAY['tap91-exp'], 'w4', ttl => 1000), 'tap91-exp {fp:14}', 'w4 gets a 1 s grant');
SELECT is(pg_temp.pick(ARRAY['tap91-exp'], 'w5'), NULL, 'while it is live, w5 gets nothing');
SELECT is((SELECT count(*) FROM ff_claim('tap91-exp', 'w5', 'w5/1')), 0::bigint, '... and ff_claim by w5 skips it');
SET LOCAL flowfabric.clock_offset_ms = 1000;
SELECT is(pg_temp.pick(ARRAY['tap91-exp'], 'w5'), 'tap91-exp {fp:14}', 'expired (not even reaped): w5 gets a grant');
SELECT is((SELECT count(*) FROM ff_claim_grant g JOIN ff_execution e USING (partition_key, execution_id)
            WHERE e.lane_id = 'tap91-exp'), 1::bigint, 'the expired grant was replaced by the new one');
SELECT is((SELECT worker_id FROM ff_claim_grant g JOIN ff_execution e USING (partition_key, execution_id)
            WHERE e.lane_id = 'tap91-exp'), 'w5', '... w5''s');
SET LOCAL flowfabric.clock_offset_ms = 12000;
SELECT is((SELECT count(*) FROM ff_claim('tap91-exp', 'w6', 'w6/1')), 1::bigint, 'once that one expires too, plain ff_claim takes it');
SET LOCAL flowfabric.clock_offset_ms = 0;

------------------------------------------------------------------------------
-- lane controls
------------------------------------------------------------------------------
SELECT pg_temp.mk('tap91-lane', 15);
SELECT pg_temp.mk('tap91-lane', 16);
SELECT results_eq($$SELECT * FROM ff_pause_lane('tap91-lane', 'maintenance')$$,
                  $$VALUES ('tap91-lane'::text, 'paused'::text, 'active'::text)$$, 'ff_pause_lane: active -> paused');
SELECT results_eq($$SELECT state, previous_state FROM ff_pause_lane('tap91-lane')$$,
                  $$VALUES ('paused'::text, 'paused'::text)$$, 'pausing again is a no-op');
SELECT is((SELECT state FROM ff_list_lanes('tap91-land', 1)), 'paused', 'ff_list_lanes shows the state');
SELECT is((SELECT count(*) FROM ff_claim('tap91-lane', 'w1', 'w1/1', max_claims => 10)), 0::bigint, 'ff_claim skips a paused lane');
SELECT is(pg_temp.pick(ARRAY['tap91-lane']), NULL, 'the scheduler skips a paused lane');
SELECT is(pg_temp.pick(ARRAY['tap91-lane', 'tap91-caps2']), NULL, '... among others too');
SELECT matches(pg_temp.err($$SELECT * FROM ff_issue_claim_grant((SELECT ff_format_execution_id(partition_key, execution_id)
                   FROM ff_execution WHERE lane_id = 'tap91-lane' LIMIT 1), 'w1', 'w1/1')$$),
               '^YFC12 ', 'no grant on a paused lane -> YFC12');
SELECT is((SELECT count(*) FROM ff_execution WHERE lane_id = 'tap91-lane' AND public_state = 'waiting'), 2::bigint,
          'its executions keep waiting');
SELECT results_eq($$SELECT * FROM ff_resume_lane('tap91-lane')$$,
                  $$VALUES ('tap91-lane'::text, 'active'::text, 'paused'::text)$$, 'ff_resume_lane: paused -> active');
CREATE TEMP TABLE l1 AS SELECT * FROM ff_claim('tap91-lane', 'w1', 'w1/1');
SELECT is((SELECT count(*) FROM l1), 1::bigint, 'resumed: claims again');
-- draining: only started work (an attempt the worker delayed, a lease that expired)
CREATE TEMP TABLE l2 AS SELECT * FROM ff_claim('tap91-lane', 'w1', 'w1/1', lease_ttl_ms => 1000);
SELECT ff_delay((SELECT handle FROM l1), ff_server_time_ms());
SELECT results_eq($$SELECT state, previous_state FROM ff_drain_lane('tap91-lane', 'deploy')$$,
                  $$VALUES ('draining'::text, 'active'::text)$$, 'ff_drain_lane: active -> draining');
SELECT pg_temp.mk('tap91-lane', 17);
SET LOCAL flowfabric.clock_offset_ms = 2000;
SELECT ff_reconcile_lease_expiry();
SELECT is((SELECT ownership_state FROM ff_execution WHERE ff_format_execution_id(partition_key, execution_id) = (SELECT execution_id FROM l2)),
          'lease_expired_reclaimable', 'l2''s lease expires');
CREATE TEMP TABLE l3 AS SELECT * FROM ff_claim('tap91-lane', 'w1', 'w1/1', max_claims => 10);
SET LOCAL flowfabric.clock_offset_ms = 0;
SELECT results_eq($$SELECT execution_id, attempt_index FROM l3 ORDER BY 1$$,
                  $$SELECT execution_id, attempt_index FROM (SELECT execution_id, attempt_index FROM l1
                     UNION ALL SELECT execution_id, attempt_index + 1 FROM l2) x ORDER BY 1$$,
                  'draining: ff_claim continues the delayed attempt and reclaims the expired lease, nothing new');
SELECT is((SELECT count(*) FROM ff_execution WHERE lane_id = 'tap91-lane' AND public_state = 'waiting'), 1::bigint,
          'the new execution waits');
SELECT is(pg_temp.pick(ARRAY['tap91-lane']), NULL, 'the scheduler gives no grant for new work on a draining lane');
SELECT results_eq($$SELECT event_type, lane_id, details->>'previous_state', details->>'state', details->>'reason'
                      FROM ff_operator_event WHERE lane_id = 'tap91-lane' AND event_type LIKE 'lane_%' ORDER BY event_id$$,
                  $$VALUES ('lane_paused'::text, 'tap91-lane'::text, 'active'::text, 'paused'::text, 'maintenance'::text),
                           ('lane_resumed', 'tap91-lane', 'paused', 'active', NULL),
                           ('lane_draining', 'tap91-lane', 'active', 'draining', 'deploy')$$,
                  'one operator event per lane state change');
SELECT results_eq($$SELECT * FROM ff_pause_lane('tap91-new-lane')$$,
                  $$VALUES ('tap91-new-lane'::text, 'paused'::text, 'active'::text)$$, 'an unknown lane is registered, paused');
SELECT is((SELECT registered_by || ' ' || state FROM ff_list_lanes() WHERE lane_id = 'tap91-new-lane'), 'operator paused',
          '... registered by the operator');
SELECT matches(pg_temp.err($$SELECT * FROM ff_pause_lane('')$$), '^YFV01 ', 'an empty lane -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_drain_lane(repeat('x', 65))$$), '^YFV01 ', 'a 65-byte lane -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_resume_lane('tap91-lane', repeat('x', 1025))$$), '^YFV01 ', 'a reason over 1024 bytes -> YFV01');

------------------------------------------------------------------------------
-- ff_claim_for_worker argument errors
------------------------------------------------------------------------------
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_for_worker(NULL, 'w', 'w/1')$$), '^YFV01 ', 'lanes NULL -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_for_worker('{}', 'w', 'w/1')$$), '^YFV01 invalid_input: lanes must name 1 to 64', 'no lanes -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_for_worker(array_fill('l'::text, ARRAY[65]), 'w', 'w/1')$$), '^YFV01 ', '65 lanes -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_for_worker(ARRAY['ok', NULL], 'w', 'w/1')$$), '^YFV01 ', 'a NULL lane -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_for_worker(ARRAY[E'bad\tlane'], 'w', 'w/1')$$), '^YFV01 ', 'a bad lane id -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_for_worker(ARRAY['ok'], 'w', 'w/1', '{""}')$$), '^YFV03 ', 'an empty capability -> YFV03');
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_for_worker(ARRAY['ok'], 'w', 'w/1', '{}', 0)$$), '^YFV01 ', 'grant_ttl_ms 0 -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_for_worker(ARRAY['ok'], NULL, 'w/1')$$), '^YFV01 ', 'worker_id NULL -> YFV01');
DELETE FROM ff_waitpoint_hmac;
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_for_worker(ARRAY['tap91-lane'], 'w', 'w/1')$$),
               '^YFV01 invalid_input: hmac_secret_not_initialized', 'an empty keystore -> YFV01, checked before scanning');

SELECT * FROM finish();
ROLLBACK;

-- ff_create_execution: success path, stored state, clamping, capabilities,
-- delays, idempotency, canonical ids, lane registry, and every bad input
-- (each rejected with its SQLSTATE and leaving no row behind).
BEGIN;
SELECT plan(122);

CREATE TEMP TABLE t0 AS SELECT ff_server_time_ms() AS ms;

-- Rows any rejected create could have left behind: executions on the bad
-- lane or with the bad id, the bad lane in the registry, the bad idempotency key.
CREATE FUNCTION pg_temp.leftovers() RETURNS bigint LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM ff_execution
             WHERE lane_id = 'tap01-bad'
                OR execution_id = '00000000-0000-4000-8000-0000000001ff')
         + (SELECT count(*) FROM ff_lane WHERE lane_id = 'tap01-bad')
         + (SELECT count(*) FROM ff_idempotency_key WHERE idempotency_key = 'tap01-bad-key')
$$;

------------------------------------------------------------------------------
-- success path
------------------------------------------------------------------------------
SELECT results_eq(
    $$SELECT execution_id, public_state, created FROM ff_create_execution(
        lane_id => 'tap01-main', input_payload => '\x0102'::bytea,
        execution_id => '{fp:10}:00000000-0000-4000-8000-000000000101',
        namespace => 'ns1', execution_kind => 'kind.a', priority => 5,
        required_capabilities => ARRAY['gpu', 'asr', 'gpu'],
        policy => '{"routing_requirements": {"required_capabilities": ["llm", "asr"]}}',
        tags => '{"app.owner": "me", "app.team": "t1"}', creator_identity => 'tester')$$,
    $$VALUES ('{fp:10}:00000000-0000-4000-8000-000000000101'::text, 'waiting'::text, true)$$,
    'create returns the execution id, public_state waiting and created = true');

CREATE TEMP TABLE t1 AS SELECT ff_server_time_ms() AS ms;

SELECT results_eq(
    $$SELECT partition_key, lane_id, namespace, execution_kind, creator_identity, priority,
             input_payload, tags, flow_id
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000101'$$,
    $$VALUES (10::smallint, 'tap01-main'::text, 'ns1'::text, 'kind.a'::text, 'tester'::text, 5,
              '\x0102'::bytea, '{"app.owner": "me", "app.team": "t1"}'::jsonb, NULL::uuid)$$,
    'create stores lane, namespace, kind, creator, priority, payload and tags');

SELECT results_eq(
    $$SELECT lifecycle_phase, ownership_state, eligibility_state, blocking_reason,
             terminal_outcome, attempt_state, public_state
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000101'$$,
    $$VALUES ('runnable'::text, 'unowned'::text, 'eligible_now'::text, 'waiting_for_worker'::text,
              'none'::text, 'pending_first_attempt'::text, 'waiting'::text)$$,
    'create (no delay) writes runnable/unowned/eligible_now/waiting_for_worker/none/pending_first_attempt -> waiting');

SELECT results_eq(
    $$SELECT attempt_index, total_attempt_count, retry_count, reclaim_count, lease_epoch,
             delay_until_ms, started_at_ms, terminal_at_ms, result, progress_pct,
             cancellation_reason, last_failure_message
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000101'$$,
    $$VALUES (0, 0, 0, 0, 0::bigint, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bytea,
              NULL::integer, NULL::text, NULL::text)$$,
    'a fresh execution has zeroed counters and no timestamps beyond created_at');

SELECT ok((SELECT created_at_ms BETWEEN (SELECT ms FROM t0) AND (SELECT ms FROM t1)
             AND last_mutation_at_ms = created_at_ms
             FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000101'),
          'created_at_ms is the engine clock at create time and equals last_mutation_at_ms');

SELECT is((SELECT required_capabilities FROM ff_execution
            WHERE execution_id = '00000000-0000-4000-8000-000000000101'),
          ARRAY['asr', 'gpu', 'llm'],
          'required capabilities = union of argument and policy, sorted and de-duplicated');

SELECT is((SELECT policy FROM ff_execution
            WHERE execution_id = '00000000-0000-4000-8000-000000000101'),
          '{"routing_requirements": {"required_capabilities": ["llm", "asr"]}}'::jsonb,
          'the policy is stored as given');

SELECT results_eq(
    $$SELECT registered_by, registered_at_ms BETWEEN (SELECT ms FROM t0) AND (SELECT ms FROM t1)
        FROM ff_lane WHERE lane_id = 'tap01-main'$$,
    $$VALUES ('create_execution'::text, true)$$,
    'the lane is registered in ff_lane on first create');

SELECT is((SELECT ff_execution_partition(execution_id)
             FROM ff_create_execution('tap01-solo', execution_kind => 'k')),
          ff_solo_partition('tap01-solo'),
          'without an execution_id the engine mints one in the lane''s solo partition');

SELECT is((SELECT (input_payload, namespace, execution_kind, priority, required_capabilities, tags, policy)::text
             FROM ff_execution WHERE lane_id = 'tap01-solo'),
          '(,,k,0,{},{},)',
          'defaults: no payload, no namespace, priority 0, no capabilities, empty tags, no policy');

SELECT ok((SELECT count(*) = 1 FROM ff_lane WHERE lane_id = 'tap01-solo'),
          'a second lane is registered as well');

-- lanes at the limits
SELECT is((SELECT created FROM ff_create_execution(repeat('x', 64))), true,
          'a 64-byte lane is accepted');
SELECT is((SELECT created FROM ff_create_execution('tap01 lane with spaces ~!')), true,
          'spaces and printable punctuation are allowed in lanes');

------------------------------------------------------------------------------
-- priority clamping
------------------------------------------------------------------------------
SELECT lives_ok($$SELECT ff_create_execution('tap01-prio', execution_id => '{fp:10}:00000000-0000-4000-8000-000000000111', priority => -5)$$,
                'negative priority is accepted');
SELECT lives_ok($$SELECT ff_create_execution('tap01-prio', execution_id => '{fp:10}:00000000-0000-4000-8000-000000000112', priority => 99999)$$,
                'huge priority is accepted');
SELECT lives_ok($$SELECT ff_create_execution('tap01-prio', execution_id => '{fp:10}:00000000-0000-4000-8000-000000000113', priority => 9000)$$,
                'priority 9000 is accepted');
SELECT results_eq(
    $$SELECT priority FROM ff_execution WHERE lane_id = 'tap01-prio' ORDER BY execution_id$$,
    $$VALUES (0), (9000), (9000)$$,
    'priority is clamped to 0..9000 (-5 -> 0, 99999 -> 9000, 9000 kept)');

------------------------------------------------------------------------------
-- delay_until
------------------------------------------------------------------------------
CREATE TEMP TABLE d AS SELECT ff_server_time_ms() + 60000 AS future, ff_server_time_ms() - 60000 AS past;

SELECT results_eq(
    $$SELECT public_state, created FROM ff_create_execution('tap01-delay',
        execution_id => '{fp:11}:00000000-0000-4000-8000-000000000121',
        delay_until => (SELECT future FROM d))$$,
    $$VALUES ('delayed'::text, true)$$,
    'create with delay_until in the future reports delayed');
SELECT results_eq(
    $$SELECT lifecycle_phase, ownership_state, eligibility_state, blocking_reason,
             terminal_outcome, attempt_state, public_state, delay_until_ms
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000121'$$,
    $$SELECT 'runnable'::text, 'unowned'::text, 'not_eligible_until_time'::text,
             'waiting_for_delay'::text, 'none'::text, 'pending_first_attempt'::text,
             'delayed'::text, future FROM d$$,
    'delayed create: runnable/unowned/not_eligible_until_time/waiting_for_delay, delay_until_ms stored');
SELECT is((SELECT count(*) FROM ff_claim('tap01-delay', 'w', 'wi')), 0::bigint,
          'a delayed execution is not claimable before its time');

SELECT results_eq(
    $$SELECT public_state, created FROM ff_create_execution('tap01-delay',
        execution_id => '{fp:11}:00000000-0000-4000-8000-000000000122',
        delay_until => (SELECT past FROM d))$$,
    $$VALUES ('waiting'::text, true)$$,
    'create with delay_until in the past reports waiting');
SELECT results_eq(
    $$SELECT eligibility_state, blocking_reason, public_state, delay_until_ms
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000122'$$,
    $$VALUES ('eligible_now'::text, 'waiting_for_worker'::text, 'waiting'::text, NULL::bigint)$$,
    'create with a past delay_until is eligible now, no delay stored');

SELECT results_eq(
    $$SELECT public_state FROM ff_create_execution('tap01-delay',
        execution_id => '{fp:11}:00000000-0000-4000-8000-000000000123',
        policy => jsonb_build_object('delay_until', (SELECT future FROM d)))$$,
    $$VALUES ('delayed'::text)$$,
    'policy.delay_until also delays the first attempt');

------------------------------------------------------------------------------
-- idempotency
------------------------------------------------------------------------------
SELECT results_eq(
    $$SELECT execution_id, public_state, created FROM ff_create_execution('tap01-idem',
        execution_id => '{fp:12}:00000000-0000-4000-8000-000000000131',
        namespace => 'ns-i', idempotency_key => 'k1')$$,
    $$VALUES ('{fp:12}:00000000-0000-4000-8000-000000000131'::text, 'waiting'::text, true)$$,
    'first create with an idempotency key creates');
SELECT results_eq(
    $$SELECT execution_id, public_state, created FROM ff_create_execution('tap01-idem',
        execution_id => '{fp:12}:00000000-0000-4000-8000-000000000132',
        namespace => 'ns-i', idempotency_key => 'k1')$$,
    $$VALUES ('{fp:12}:00000000-0000-4000-8000-000000000131'::text, 'waiting'::text, false)$$,
    'same (partition, namespace, key) returns the first execution, created = false');
SELECT is((SELECT count(*) FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000132'),
          0::bigint, 'the duplicate''s own id was not created');
SELECT results_eq(
    $$SELECT execution_id, created FROM ff_create_execution('tap01-idem',
        execution_id => '{fp:12}:00000000-0000-4000-8000-000000000133',
        namespace => 'ns-j', idempotency_key => 'k1')$$,
    $$VALUES ('{fp:12}:00000000-0000-4000-8000-000000000133'::text, true)$$,
    'the same key in another namespace creates a new execution');
SELECT results_eq(
    $$SELECT execution_id, created FROM ff_create_execution('tap01-idem',
        execution_id => '{fp:13}:00000000-0000-4000-8000-000000000134',
        namespace => 'ns-i', idempotency_key => 'k1')$$,
    $$VALUES ('{fp:13}:00000000-0000-4000-8000-000000000134'::text, true)$$,
    'the same key in another partition creates a new execution');

-- without explicit ids: random ids in the lane's partition, deduplicated
CREATE TEMP TABLE idem1 AS
    SELECT * FROM ff_create_execution('tap01-idem2', namespace => 'n', idempotency_key => 'auto');
SELECT results_eq(
    $$SELECT execution_id, created FROM ff_create_execution('tap01-idem2', namespace => 'n', idempotency_key => 'auto')$$,
    $$SELECT execution_id, false FROM idem1$$,
    'a keyed create without execution id returns the first minted id');
SELECT is((SELECT count(*) FROM ff_execution WHERE lane_id = 'tap01-idem2'), 1::bigint,
          'only one execution exists for the keyed creates');

-- public_state of the duplicate is the first execution's current state
UPDATE ff_execution SET lifecycle_phase = 'terminal', ownership_state = 'unowned',
       eligibility_state = 'not_applicable', blocking_reason = 'none',
       terminal_outcome = 'cancelled', attempt_state = 'pending_first_attempt',
       public_state = 'cancelled'
 WHERE execution_id = '00000000-0000-4000-8000-000000000133';
SELECT results_eq(
    $$SELECT execution_id, public_state, created FROM ff_create_execution('tap01-idem',
        execution_id => '{fp:12}:00000000-0000-4000-8000-000000000135',
        namespace => 'ns-j', idempotency_key => 'k1')$$,
    $$VALUES ('{fp:12}:00000000-0000-4000-8000-000000000133'::text, 'cancelled'::text, false)$$,
    'a duplicate reports the first execution''s current public_state');

-- the key expires after 24 h (default dedup window)
SET LOCAL flowfabric.clock_offset_ms = 86390000;
SELECT results_eq(
    $$SELECT execution_id, created FROM ff_create_execution('tap01-idem',
        execution_id => '{fp:12}:00000000-0000-4000-8000-000000000136',
        namespace => 'ns-i', idempotency_key => 'k1')$$,
    $$VALUES ('{fp:12}:00000000-0000-4000-8000-000000000131'::text, false)$$,
    '10 s before the 24 h window ends the key still deduplicates');
SET LOCAL flowfabric.clock_offset_ms = 86401000;
SELECT results_eq(
    $$SELECT execution_id, created FROM ff_create_execution('tap01-idem',
        execution_id => '{fp:12}:00000000-0000-4000-8000-000000000137',
        namespace => 'ns-i', idempotency_key => 'k1')$$,
    $$VALUES ('{fp:12}:00000000-0000-4000-8000-000000000137'::text, true)$$,
    'after 24 h the key has expired and a new execution is created');
SELECT results_eq(
    $$SELECT execution_id, created FROM ff_create_execution('tap01-idem',
        execution_id => '{fp:12}:00000000-0000-4000-8000-000000000138',
        namespace => 'ns-i', idempotency_key => 'k1')$$,
    $$VALUES ('{fp:12}:00000000-0000-4000-8000-000000000137'::text, false)$$,
    'the re-registered key now deduplicates to the new execution');
SET LOCAL flowfabric.clock_offset_ms = 0;

-- policy.dedup_window_ms shortens the window
SELECT is((SELECT created FROM ff_create_execution('tap01-idem',
        execution_id => '{fp:12}:00000000-0000-4000-8000-000000000139',
        namespace => 'ns-w', idempotency_key => 'k2', policy => '{"dedup_window_ms": 1000}')),
          true, 'keyed create with a 1 s dedup window');
SET LOCAL flowfabric.clock_offset_ms = 2000;
SELECT results_eq(
    $$SELECT execution_id, created FROM ff_create_execution('tap01-idem',
        execution_id => '{fp:12}:00000000-0000-4000-8000-00000000013a',
        namespace => 'ns-w', idempotency_key => 'k2')$$,
    $$VALUES ('{fp:12}:00000000-0000-4000-8000-00000000013a'::text, true)$$,
    'after policy.dedup_window_ms the key no longer deduplicates');
SET LOCAL flowfabric.clock_offset_ms = 0;

------------------------------------------------------------------------------
-- same execution id twice; canonical ids
------------------------------------------------------------------------------
SELECT results_eq(
    $$SELECT execution_id, public_state, created FROM ff_create_execution('tap01-other-lane',
        execution_id => '{fp:10}:00000000-0000-4000-8000-000000000101', priority => 7)$$,
    $$VALUES ('{fp:10}:00000000-0000-4000-8000-000000000101'::text, 'waiting'::text, false)$$,
    'creating an existing execution id again returns created = false');
SELECT results_eq(
    $$SELECT lane_id, priority FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000101'$$,
    $$VALUES ('tap01-main'::text, 5)$$,
    'the existing execution is unchanged by the duplicate create');
SELECT is((SELECT count(*) FROM ff_lane WHERE lane_id = 'tap01-other-lane'), 0::bigint,
          'a duplicate create does not register its lane');

SELECT results_eq(
    $$SELECT execution_id, created FROM ff_create_execution('tap01-canon',
        execution_id => '{fp:007}:AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE')$$,
    $$VALUES ('{fp:7}:aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee'::text, true)$$,
    'uppercase uuid and leading-zero partition are canonicalised on create');
SELECT results_eq(
    $$SELECT execution_id, created FROM ff_create_execution('tap01-canon',
        execution_id => '{fp:7}:aaaaaaaabbbb4ccc8dddeeeeeeeeeeee')$$,
    $$VALUES ('{fp:7}:aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee'::text, false)$$,
    'another spelling of the same id finds the same execution');
SELECT is((SELECT count(*) FROM ff_execution WHERE lane_id = 'tap01-canon'), 1::bigint,
          'only one row for the two spellings');

------------------------------------------------------------------------------
-- bad inputs: SQLSTATE, and nothing written
------------------------------------------------------------------------------
SELECT is(pg_temp.leftovers(), 0::bigint, 'baseline: nothing for the bad lane yet');

-- lanes (YFV01)
SELECT throws_ok($$SELECT ff_create_execution(NULL, execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key')$$,
                 'YFV01', NULL, 'NULL lane -> YFV01');
SELECT is(pg_temp.leftovers(), 0::bigint, 'NULL lane: no row written');
SELECT throws_ok($$SELECT ff_create_execution('', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key')$$,
                 'YFV01', NULL, 'empty lane -> YFV01');
SELECT is(pg_temp.leftovers(), 0::bigint, 'empty lane: no row written');
SELECT throws_ok($$SELECT ff_create_execution(repeat('x', 65), execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key')$$,
                 'YFV01', NULL, '65-byte lane -> YFV01');
SELECT is(pg_temp.leftovers(), 0::bigint, '65-byte lane: no row written');
SELECT throws_ok($$SELECT ff_create_execution(E'bad\nlane', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key')$$,
                 'YFV01', NULL, 'lane with a newline -> YFV01');
SELECT is(pg_temp.leftovers(), 0::bigint, 'newline lane: no row written');
SELECT throws_ok($$SELECT ff_create_execution(E'\tlane', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key')$$,
                 'YFV01', NULL, 'lane with a tab -> YFV01');
SELECT is(pg_temp.leftovers(), 0::bigint, 'tab lane: no row written');
SELECT throws_ok($$SELECT ff_create_execution('lané', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key')$$,
                 'YFV01', NULL, 'non-ASCII lane -> YFV01');
SELECT is(pg_temp.leftovers(), 0::bigint, 'non-ASCII lane: no row written');
SELECT throws_ok($$SELECT ff_create_execution('la' || chr(127) || 'ne', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key')$$,
                 'YFV01', NULL, 'lane with DEL -> YFV01');
SELECT is(pg_temp.leftovers(), 0::bigint, 'DEL lane: no row written');

-- execution ids (YFV01)
SELECT throws_ok($$SELECT ff_create_execution('tap01-bad', execution_id => 'not-an-id', idempotency_key => 'tap01-bad-key')$$,
                 'YFV01', NULL, 'malformed execution id -> YFV01');
SELECT is(pg_temp.leftovers(), 0::bigint, 'malformed id: no row written');
SELECT throws_ok($$SELECT ff_create_execution('tap01-bad', execution_id => '{fp:256}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key')$$,
                 'YFV01', NULL, 'partition 256 -> YFV01');
SELECT is(pg_temp.leftovers(), 0::bigint, 'partition 256: no row written');
SELECT throws_ok($$SELECT ff_create_execution('tap01-bad', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001fg', idempotency_key => 'tap01-bad-key')$$,
                 'YFV01', NULL, 'bad uuid in the id -> YFV01');
SELECT is(pg_temp.leftovers(), 0::bigint, 'bad uuid: no row written');

-- policies (YFV04)
SELECT throws_ok($$SELECT ff_create_execution('tap01-bad', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key', policy => '[1, 2]')$$,
                 'YFV04', NULL, 'policy that is an array -> YFV04');
SELECT is(pg_temp.leftovers(), 0::bigint, 'array policy: no row written');
SELECT throws_ok($$SELECT ff_create_execution('tap01-bad', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key', policy => '"retry"')$$,
                 'YFV04', NULL, 'policy that is a string -> YFV04');
SELECT is(pg_temp.leftovers(), 0::bigint, 'string policy: no row written');
SELECT throws_ok($$SELECT ff_create_execution('tap01-bad', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key', policy => '{"retry_policy": "fast"}')$$,
                 'YFV04', NULL, 'retry_policy not an object -> YFV04');
SELECT is(pg_temp.leftovers(), 0::bigint, 'retry_policy not object: no row written');
SELECT throws_ok($$SELECT ff_create_execution('tap01-bad', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key', policy => '{"retry_policy": {"max_retries": -1}}')$$,
                 'YFV04', NULL, 'negative max_retries -> YFV04');
SELECT is(pg_temp.leftovers(), 0::bigint, 'negative max_retries: no row written');
SELECT throws_ok($$SELECT ff_create_execution('tap01-bad', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key', policy => '{"retry_policy": {"max_retries": 1.5}}')$$,
                 'YFV04', NULL, 'fractional max_retries -> YFV04');
SELECT is(pg_temp.leftovers(), 0::bigint, 'fractional max_retries: no row written');
SELECT throws_ok($$SELECT ff_create_execution('tap01-bad', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key', policy => '{"retry_policy": {"max_retries": "3"}}')$$,
                 'YFV04', NULL, 'string max_retries -> YFV04');
SELECT is(pg_temp.leftovers(), 0::bigint, 'string max_retries: no row written');
SELECT throws_ok($$SELECT ff_create_execution('tap01-bad', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key', policy => '{"retry_policy": {"backoff": {"type": "linear"}}}')$$,
                 'YFV04', NULL, 'unknown backoff type -> YFV04');
SELECT is(pg_temp.leftovers(), 0::bigint, 'unknown backoff type: no row written');
SELECT throws_ok($$SELECT ff_create_execution('tap01-bad', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key', policy => '{"retry_policy": {"backoff": {"delay_ms": 5}}}')$$,
                 'YFV04', NULL, 'backoff without a type -> YFV04');
SELECT is(pg_temp.leftovers(), 0::bigint, 'backoff without type: no row written');
SELECT throws_ok($$SELECT ff_create_execution('tap01-bad', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key', policy => '{"retry_policy": {"backoff": "fixed"}}')$$,
                 'YFV04', NULL, 'backoff not an object -> YFV04');
SELECT is(pg_temp.leftovers(), 0::bigint, 'backoff not object: no row written');
SELECT throws_ok($$SELECT ff_create_execution('tap01-bad', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key', policy => '{"routing_requirements": ["gpu"]}')$$,
                 'YFV04', NULL, 'routing_requirements not an object -> YFV04');
SELECT is(pg_temp.leftovers(), 0::bigint, 'routing_requirements not object: no row written');

-- capabilities (YFV03)
SELECT throws_ok($$SELECT ff_create_execution('tap01-bad', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key', policy => '{"routing_requirements": {"required_capabilities": "gpu"}}')$$,
                 'YFV03', NULL, 'policy required_capabilities not an array -> YFV03');
SELECT is(pg_temp.leftovers(), 0::bigint, 'capabilities not array: no row written');
SELECT throws_ok($$SELECT ff_create_execution('tap01-bad', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key', policy => '{"routing_requirements": {"required_capabilities": ["gpu", 7]}}')$$,
                 'YFV03', NULL, 'policy capability that is not a string -> YFV03');
SELECT is(pg_temp.leftovers(), 0::bigint, 'non-string capability: no row written');
SELECT throws_ok($$SELECT ff_create_execution('tap01-bad', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key', required_capabilities => ARRAY['gpu', ''])$$,
                 'YFV03', NULL, 'empty capability token -> YFV03');
SELECT is(pg_temp.leftovers(), 0::bigint, 'empty token: no row written');
SELECT throws_ok($$SELECT ff_create_execution('tap01-bad', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key', policy => '{"routing_requirements": {"required_capabilities": [""]}}')$$,
                 'YFV03', NULL, 'empty capability token in the policy -> YFV03');
SELECT is(pg_temp.leftovers(), 0::bigint, 'empty policy token: no row written');
SELECT throws_ok($$SELECT ff_create_execution('tap01-bad', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key', required_capabilities => ARRAY['gpu,asr'])$$,
                 'YFV03', NULL, 'capability token with a comma -> YFV03');
SELECT is(pg_temp.leftovers(), 0::bigint, 'comma token: no row written');
SELECT throws_ok($$SELECT ff_create_execution('tap01-bad', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key', required_capabilities => ARRAY['gpu asr'])$$,
                 'YFV03', NULL, 'capability token with a space -> YFV03');
SELECT is(pg_temp.leftovers(), 0::bigint, 'space token: no row written');
SELECT throws_ok($$SELECT ff_create_execution('tap01-bad', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key', policy => '{"routing_requirements": {"required_capabilities": ["a\tb"]}}')$$,
                 'YFV03', NULL, 'policy capability token with a tab -> YFV03');
SELECT is(pg_temp.leftovers(), 0::bigint, 'tab token: no row written');
SELECT throws_ok($$SELECT ff_create_execution('tap01-bad', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key', required_capabilities => ARRAY['gpu', NULL])$$,
                 'YFV03', NULL, 'NULL capability token -> YFV03');
SELECT is(pg_temp.leftovers(), 0::bigint, 'NULL token: no row written');
SELECT throws_ok($$SELECT ff_create_execution('tap01-bad', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key',
                       required_capabilities => (SELECT array_agg('c' || g) FROM generate_series(1, 257) g))$$,
                 'YFV03', NULL, '257 capability tokens -> YFV03');
SELECT is(pg_temp.leftovers(), 0::bigint, '257 tokens: no row written');
SELECT throws_ok($$SELECT ff_create_execution('tap01-bad', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key',
                       required_capabilities => (SELECT array_agg('a' || g) FROM generate_series(1, 200) g),
                       policy => jsonb_build_object('routing_requirements', jsonb_build_object('required_capabilities',
                                    (SELECT jsonb_agg('b' || g) FROM generate_series(1, 100) g))))$$,
                 'YFV03', NULL, '200 argument + 100 policy tokens (300 in the union) -> YFV03');
SELECT is(pg_temp.leftovers(), 0::bigint, 'oversized union: no row written');
SELECT throws_ok($$SELECT ff_create_execution('tap01-bad', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key',
                       required_capabilities => (SELECT array_agg(lpad(g::text, 40, 'z')) FROM generate_series(1, 120) g))$$,
                 'YFV03', NULL, 'capabilities over 4096 bytes -> YFV03');
SELECT is(pg_temp.leftovers(), 0::bigint, 'oversized capabilities: no row written');
SELECT lives_ok($$SELECT ff_create_execution('tap01-caps-ok',
                       required_capabilities => (SELECT array_agg('c' || g) FROM generate_series(1, 256) g))$$,
                'exactly 256 capability tokens are accepted');

-- tags (YFV01 shape, YFV23 key)
SELECT throws_ok($$SELECT ff_create_execution('tap01-bad', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key', tags => '["app.a"]')$$,
                 'YFV01', NULL, 'tags not an object -> YFV01');
SELECT is(pg_temp.leftovers(), 0::bigint, 'tags not object: no row written');
SELECT throws_ok($$SELECT ff_create_execution('tap01-bad', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key', tags => '{"app.count": 3}')$$,
                 'YFV01', NULL, 'non-string tag value -> YFV01');
SELECT is(pg_temp.leftovers(), 0::bigint, 'non-string tag: no row written');
SELECT throws_ok($$SELECT ff_create_execution('tap01-bad', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key', tags => '{"App.owner": "x"}')$$,
                 'YFV23', NULL, 'tag key with an uppercase letter -> YFV23');
SELECT is(pg_temp.leftovers(), 0::bigint, 'uppercase tag key: no row written');
SELECT throws_ok($$SELECT ff_create_execution('tap01-bad', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key', tags => '{"owner": "x"}')$$,
                 'YFV23', NULL, 'tag key without a namespace dot -> YFV23');
SELECT is(pg_temp.leftovers(), 0::bigint, 'dotless tag key: no row written');
SELECT throws_ok($$SELECT ff_create_execution('tap01-bad', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key', tags => '{"app..x": "x"}')$$,
                 'YFV23', NULL, 'tag key with a dot right after the first dot -> YFV23');
SELECT is(pg_temp.leftovers(), 0::bigint, 'double-dot tag key: no row written');

-- payload size (YFV05)
SET LOCAL flowfabric.max_payload_bytes = 10;
SELECT throws_ok($$SELECT ff_create_execution('tap01-bad', execution_id => '{fp:1}:00000000-0000-4000-8000-0000000001ff', idempotency_key => 'tap01-bad-key', input_payload => '\x0102030405060708090a0b'::bytea)$$,
                 'YFV05', NULL, 'payload over flowfabric.max_payload_bytes -> YFV05');
SELECT is(pg_temp.leftovers(), 0::bigint, 'oversized payload: no row written');
SELECT lives_ok($$SELECT ff_create_execution('tap01-payload', input_payload => '\x0102030405060708090a'::bytea)$$,
                'a payload of exactly max_payload_bytes is accepted');
RESET flowfabric.max_payload_bytes;

SELECT is(pg_temp.leftovers(), 0::bigint, 'after all rejected creates nothing exists for the bad lane, id or key');

-- the delayed creates become claimable once promoted, as first attempts
SET LOCAL flowfabric.clock_offset_ms = 120000;
SELECT is(ff_reconcile_delayed_promotion(), 2, 'both delayed creates are promoted after their delay');
CREATE TEMP TABLE dc AS SELECT * FROM ff_claim('tap01-delay', 'w', 'wi', max_claims => 10);
SELECT results_eq(
    $$SELECT c.attempt_index, c.lease_epoch, a.attempt_type
        FROM dc c
        JOIN ff_attempt a ON a.attempt_index = c.attempt_index
                         AND a.execution_id = (ff_split_execution_id(c.execution_id)).execution_uuid$$,
    $$VALUES (0, 1::bigint, 'initial'::text), (0, 1, 'initial'), (0, 1, 'initial')$$,
    'the two promoted and the never-delayed execution are claimed as initial attempts');

SELECT * FROM finish();
ROLLBACK;

-- Coming back: ff_claim_resumed_execution (the parked attempt continues
-- under a new lease and a higher epoch), ff_resume_execution (operator),
-- ff_observe_signals, ff_list_suspended (only open suspensions, keyset
-- pagination), and the capability flags.
BEGIN;
SELECT plan(60);

DELETE FROM ff_waitpoint_hmac;
SELECT ff_seed_waitpoint_hmac_secret('kid-1', repeat('ab', 32));

CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END $$;

------------------------------------------------------------------------------
-- ff_claim_resumed_execution (claim_resumed_execution_happy_plus_wrong_state)
------------------------------------------------------------------------------
SELECT ff_create_execution('tap55', execution_id => '{fp:55}:00000000-0000-4000-8000-000000005501',
                           input_payload => '\x5555'::bytea,
                           policy => '{"timeout_policy": {"attempt_timeout_ms": 90000}}');
CREATE TEMP TABLE c1 AS SELECT * FROM ff_claim('tap55', 'w1', 'wi-1', lease_ttl_ms => 600000);
CREATE TEMP TABLE a1 AS SELECT attempt_id, lease_id, lease_epoch FROM ff_attempt WHERE execution_id = '00000000-0000-4000-8000-000000005501';
CREATE TEMP TABLE s1 AS SELECT * FROM ff_suspend((SELECT handle FROM c1), '["wpk:a"]',
    '{"Single": {"waitpoint_key": "wpk:a", "matcher": {"ByName": "ready"}}}');
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_resumed_execution('{fp:55}:00000000-0000-4000-8000-000000005501', 'w2', 'wi-2', 'tap55')$$),
               '^YFC03 execution_not_leaseable: ', 'claiming before the condition is satisfied -> YFC03 (retryable)');
-- observe_signals_returns_delivered_signals: a, b, ready
SELECT is((SELECT string_agg(effect, ',') FROM (
    SELECT (ff_deliver_signal('{fp:55}:00000000-0000-4000-8000-000000005501', (SELECT waitpoint_id FROM s1),
            (SELECT waitpoint_token FROM s1), n, payload => CASE n WHEN 'ready' THEN '\x0f'::bytea END,
            payload_encoding => CASE n WHEN 'ready' THEN 'binary' END, correlation_id => 'corr-' || n,
            created_at => 1700000000000, signal_category => 'webhook')).effect
      FROM unnest(ARRAY['a', 'b', 'ready']) n) e),
    'signal_ignored_matcher_failed,signal_ignored_matcher_failed,resume_condition_satisfied', 'signals a, b, ready');
SELECT is((SELECT count(*) FROM ff_observe_signals((SELECT handle FROM c1))), 1::bigint,
          'before the claim, the suspended handle already sees the satisfier (same attempt)');
SELECT throws_ok($$SELECT * FROM ff_claim_resumed_execution('{fp:55}:00000000-0000-4000-8000-000000005501', 'w2', 'wi-2', 'other-lane')$$,
                 'YFV01', NULL, 'lane mismatch -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_claim_resumed_execution('{fp:55}:00000000-0000-4000-8000-000000005501', 'w2', 'wi-2', 'tap55',
                       current_attempt_index => 4)$$,
                 'YFC02', NULL, 'the wrong current_attempt_index -> YFC02 not_a_resumed_execution');
SELECT throws_ok($$SELECT * FROM ff_claim_resumed_execution('{fp:55}:00000000-0000-4000-8000-000000005501', 'w2', 'wi-2', 'tap55',
                       lease_ttl_ms => 0)$$,
                 'YFV01', NULL, 'lease_ttl_ms 0 -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_claim_resumed_execution('{fp:55}:00000000-0000-4000-8000-0000000055ff', 'w2', 'wi-2', 'tap55')$$,
                 'YFN01', NULL, 'unknown execution -> YFN01');
SELECT throws_ok($$SELECT * FROM ff_claim_resumed_execution('{fp:55}:00000000-0000-4000-8000-000000005501', NULL, 'wi-2', 'tap55')$$,
                 'YFV01', NULL, 'NULL worker_id -> YFV01');
CREATE TEMP TABLE t0 AS SELECT ff_server_time_ms() AS ms;
CREATE TEMP TABLE r1 AS SELECT * FROM ff_claim_resumed_execution('{fp:55}:00000000-0000-4000-8000-000000005501',
    'w2', 'wi-2', 'tap55', lease_ttl_ms => 600000, current_attempt_index => 0,
    lease_id => '00000000-0000-4000-8000-0000000055a1');
SELECT results_eq(
    $$SELECT execution_id, attempt_index, attempt_id, lease_id, lease_epoch, input_payload FROM r1$$,
    $$SELECT '{fp:55}:00000000-0000-4000-8000-000000005501'::text, 0, attempt_id, '00000000-0000-4000-8000-0000000055a1'::uuid,
             2::bigint, '\x5555'::bytea FROM a1$$,
    'claimed: same attempt (index and id), the given lease id, epoch 2, the input');
SELECT results_eq(
    $$SELECT lifecycle_phase, ownership_state, eligibility_state, blocking_reason, attempt_state, public_state
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000005501'$$,
    $$VALUES ('active'::text, 'leased'::text, 'not_applicable'::text, 'none'::text, 'running_attempt'::text, 'active'::text)$$,
    'active/leased/not_applicable/none/running_attempt -> active');
SELECT results_eq(
    $$SELECT attempt_lifecycle, end_reason, worker_id, worker_instance_id, lease_epoch,
             lease_expires_at_ms = (SELECT lease_expires_at_ms FROM r1),
             timeout_at_ms BETWEEN (SELECT ms FROM t0) + 90000 AND ff_server_time_ms() + 90000
        FROM ff_attempt WHERE execution_id = '00000000-0000-4000-8000-000000005501'$$,
    $$VALUES ('started'::text, NULL::text, 'w2'::text, 'wi-2'::text, 2::bigint, true, true)$$,
    'the attempt runs again under the new lease, its timeout re-armed from the policy');
SELECT is((SELECT count(*) FROM ff_attempt WHERE execution_id = '00000000-0000-4000-8000-000000005501'), 1::bigint, 'no new attempt');
SELECT results_eq(
    $$SELECT event_type, reason, lease_epoch FROM ff_lease_event WHERE execution_id = '00000000-0000-4000-8000-000000005501' ORDER BY event_id$$,
    $$VALUES ('acquired'::text, NULL::text, 1::bigint), ('released', 'suspended', 1), ('acquired', 'claim_resumed', 2)$$,
    'lease events: acquired, released (suspended), acquired (claim_resumed)');
SELECT results_eq(
    $$SELECT execution_id, attempt_index, lease_id::uuid, lease_epoch, lane_id, worker_instance_id FROM ff_handle_describe((SELECT handle FROM r1))$$,
    $$VALUES ('{fp:55}:00000000-0000-4000-8000-000000005501'::text, 0::bigint, '00000000-0000-4000-8000-0000000055a1'::uuid, 2::bigint,
              'tap55'::text, 'wi-2'::text)$$,
    'the handle carries the new lease');
SELECT lives_ok($$SELECT * FROM ff_renew((SELECT handle FROM r1))$$, 'the new handle renews');
SELECT throws_ok($$SELECT * FROM ff_renew((SELECT handle FROM c1))$$, 'YFS01', NULL, 'the pre-suspend handle is stale (YFS01)');
SELECT throws_ok($$SELECT * FROM ff_suspend((SELECT handle FROM c1), '["wpk:z"]')$$, 'YFS01', NULL, 'and cannot suspend');
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_resumed_execution('{fp:55}:00000000-0000-4000-8000-000000005501', 'w3', 'wi-3', 'tap55')$$),
               '^YFC03 execution_not_leaseable: ', 'claiming it twice -> YFC03');

-- observe after the resume
SELECT results_eq($$SELECT signal_name, payload, payload_encoding, correlation_id, signal_category, source_type,
                           accepted_at_ms >= (SELECT ms FROM t0) - 600000 FROM ff_observe_signals((SELECT handle FROM r1))$$,
                  $$VALUES ('ready'::text, '\x0f'::bytea, 'binary'::text, 'corr-ready'::text, 'webhook'::text, 'external'::text, true)$$,
                  'observe: the satisfier, with its payload, encoding, correlation id and category');
SELECT is((SELECT DISTINCT created_at_ms FROM ff_signal WHERE execution_id = '00000000-0000-4000-8000-000000005501'),
          1700000000000::bigint, 'the sender''s created_at is kept');
SELECT results_eq($$SELECT signal_name, payload FROM ff_observe_signals((SELECT handle FROM r1), all_signals => true)$$,
                  $$VALUES ('a'::text, NULL::bytea), ('b', NULL), ('ready', '\x0f')$$,
                  'observe all: every signal of the suspension, in arrival order, payload NULL when omitted');
SELECT throws_ok($$SELECT * FROM ff_observe_signals('\x02'::bytea)$$, 'YFV25', NULL, 'observe: malformed handle -> YFV25');
SELECT throws_ok($$SELECT * FROM ff_observe_signals(NULL)$$, 'YFV01', NULL, 'observe: NULL handle -> YFV01');
SELECT lives_ok($$SELECT ff_complete((SELECT handle FROM r1), 'done'::bytea)$$, 'the resumed attempt completes');
SELECT results_eq($$SELECT public_state, attempt_state FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000005501'$$,
                  $$VALUES ('completed'::text, 'attempt_terminal'::text)$$, 'completed');

-- observe on a never-suspended attempt, and while suspended
SELECT ff_create_execution('tap55-b', execution_id => '{fp:55}:00000000-0000-4000-8000-000000005502',
                           required_capabilities => '{gpu}');
CREATE TEMP TABLE c2 AS SELECT * FROM ff_claim('tap55-b', 'w1', 'wi-1', capabilities => '{gpu}', lease_ttl_ms => 600000);
SELECT is((SELECT count(*) FROM ff_observe_signals((SELECT handle FROM c2))), 0::bigint, 'observe: empty for a never-suspended claim');
CREATE TEMP TABLE s2 AS SELECT * FROM ff_suspend((SELECT handle FROM c2), '["wpk:a", "wpk:b"]');
SELECT is((SELECT effect FROM ff_deliver_signal('{fp:55}:00000000-0000-4000-8000-000000005502', (SELECT waitpoint_id FROM s2 WHERE waitpoint_index = 0),
             (SELECT waitpoint_token FROM s2 WHERE waitpoint_index = 0), 'x')), 'appended_to_waitpoint', 'one of two');
SELECT is((SELECT count(*) FROM ff_observe_signals((SELECT handle FROM c2), true)), 0::bigint,
          'observe: empty while the suspension is open');
SELECT throws_ok($$SELECT * FROM ff_claim_resumed_execution('{fp:55}:00000000-0000-4000-8000-000000005502', 'w2', 'wi-2', 'tap55-b')$$,
                 'YFC03', NULL, 'still suspended -> YFC03');

------------------------------------------------------------------------------
-- ff_resume_execution (operator)
------------------------------------------------------------------------------
SELECT throws_ok($$SELECT ff_resume_execution('{fp:55}:00000000-0000-4000-8000-000000005502', resume_delay_ms => -1)$$,
                 'YFV01', NULL, 'negative resume_delay_ms -> YFV01');
SELECT throws_ok($$SELECT ff_resume_execution('{fp:55}:00000000-0000-4000-8000-000000005502', trigger_type => '')$$,
                 'YFV01', NULL, 'empty trigger_type -> YFV01');
SELECT throws_ok($$SELECT ff_resume_execution('{fp:55}:00000000-0000-4000-8000-0000000055ff')$$,
                 'YFN01', NULL, 'resume_not_found_without_exec_core -> YFN01');
SELECT throws_ok($$SELECT ff_resume_execution('{fp:55}:00000000-0000-4000-8000-000000005501')$$,
                 'YFS04', NULL, 'resume_rejects_non_suspended (completed) -> YFS04');
SELECT is(ff_resume_execution('{fp:55}:00000000-0000-4000-8000-000000005502', 'operator'), 'waiting', 'resume_happy_path_no_delay: waiting');
SELECT results_eq(
    $$SELECT s.close_reason, count(*) FILTER (WHERE w.state = 'closed'), count(*) FILTER (WHERE w.close_reason = 'operator_resumed')
        FROM ff_suspension s JOIN ff_waitpoint w USING (partition_key, execution_id)
       WHERE s.execution_id = '00000000-0000-4000-8000-000000005502' GROUP BY s.close_reason$$,
    $$VALUES ('operator_resumed'::text, 2::bigint, 2::bigint)$$, 'the suspension and both waitpoints closed (operator_resumed)');
SELECT throws_ok($$SELECT ff_resume_execution('{fp:55}:00000000-0000-4000-8000-000000005502')$$,
                 'YFS04', NULL, 'resuming again -> YFS04 execution_not_suspended');
SELECT throws_ok($$SELECT * FROM ff_deliver_signal('{fp:55}:00000000-0000-4000-8000-000000005502', (SELECT waitpoint_id FROM s2 WHERE waitpoint_index = 1),
                       (SELECT waitpoint_token FROM s2 WHERE waitpoint_index = 1), 'x')$$,
                 'YFS06', NULL, 'its waitpoints no longer accept signals');
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_resumed_execution('{fp:55}:00000000-0000-4000-8000-000000005502', 'w2', 'wi-2', 'tap55-b')$$),
               '^YFV02 capability_mismatch: ', 'a worker without the required capability -> YFV02');
CREATE TEMP TABLE r2 AS SELECT * FROM ff_claim_resumed_execution('{fp:55}:00000000-0000-4000-8000-000000005502', 'w2', 'wi-2', 'tap55-b',
                                                                 capabilities => '{gpu,ssd}', remaining_attempt_timeout_ms => 1234);
SELECT is((SELECT attempt_index FROM r2), 0, 'an operator-resumed execution is claimable by claim_resumed');
SELECT is((SELECT timeout_at_ms - lease_acquired_at_ms FROM ff_attempt WHERE execution_id = '00000000-0000-4000-8000-000000005502'),
          1234::bigint, 'remaining_attempt_timeout_ms re-arms the attempt timeout');
SELECT results_eq($$SELECT signal_name FROM ff_observe_signals((SELECT handle FROM r2), true)$$, $$VALUES ('x'::text)$$,
                  'observe all after an operator resume: the signals it received');
SELECT results_eq($$SELECT signal_name FROM ff_observe_signals((SELECT handle FROM r2))$$, $$VALUES ('x'::text)$$,
                  'and it advanced the condition, so it is a satisfier too');

-- resume_with_delay_becomes_delayed
CREATE TEMP TABLE s2b AS SELECT * FROM ff_suspend((SELECT handle FROM r2), '["wpk:c"]');
SELECT is(ff_resume_execution('{fp:55}:00000000-0000-4000-8000-000000005502', resume_delay_ms => 5000), 'delayed',
          'resume_with_delay_becomes_delayed');
SELECT results_eq($$SELECT blocking_reason, delay_until_ms - last_mutation_at_ms FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000005502'$$,
                  $$VALUES ('waiting_for_resume_delay'::text, 5000::bigint)$$, 'waiting for the resume delay, 5 s');
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_resumed_execution('{fp:55}:00000000-0000-4000-8000-000000005502', 'w2', 'wi-2', 'tap55-b', capabilities => '{gpu}')$$),
               '^YFC03 execution_not_leaseable: .* not eligible yet', 'not claimable during the delay -> YFC03');

-- a fresh execution was never suspended
SELECT ff_create_execution('tap55-c', execution_id => '{fp:55}:00000000-0000-4000-8000-000000005503');
SELECT throws_ok($$SELECT * FROM ff_claim_resumed_execution('{fp:55}:00000000-0000-4000-8000-000000005503', 'w', 'wi', 'tap55-c')$$,
                 'YFC02', NULL, 'claim on a fresh execution -> YFC02 not_a_resumed_execution');
CREATE TEMP TABLE c3 AS SELECT * FROM ff_claim('tap55-c', 'w', 'wi', lease_ttl_ms => 600000);
SELECT throws_ok($$SELECT ff_resume_execution('{fp:55}:00000000-0000-4000-8000-000000005503')$$,
                 'YFS04', NULL, 'operator resume of an active execution -> YFS04');

------------------------------------------------------------------------------
-- ff_list_suspended
------------------------------------------------------------------------------
CREATE FUNCTION pg_temp.suspend_at(n int, offset_ms int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE h bytea;
BEGIN
    PERFORM ff_create_execution('tap55-list', execution_id => format('{fp:56}:00000000-0000-4000-8000-0000000056%s', lpad(n::text, 2, '0')));
    SELECT c.handle INTO h FROM ff_claim('tap55-list', 'w', 'wi', lease_ttl_ms => 600000) c;
    PERFORM set_config('flowfabric.clock_offset_ms', offset_ms::text, true);
    PERFORM ff_suspend(h, '["wpk:a"]', reason_code => CASE WHEN n % 2 = 0 THEN 'waiting_for_callback' ELSE 'manual_pause' END);
    PERFORM set_config('flowfabric.clock_offset_ms', '0', true);
END $$;
SELECT pg_temp.suspend_at(3, 3000), pg_temp.suspend_at(1, 1000), pg_temp.suspend_at(4, 4000), pg_temp.suspend_at(2, 2000);
SELECT results_eq($$SELECT execution_id, reason FROM ff_list_suspended('{fp:56}')$$,
                  $$VALUES ('{fp:56}:00000000-0000-4000-8000-000000005601'::text, 'manual_pause'::text),
                           ('{fp:56}:00000000-0000-4000-8000-000000005602', 'waiting_for_callback'),
                           ('{fp:56}:00000000-0000-4000-8000-000000005603', 'manual_pause'),
                           ('{fp:56}:00000000-0000-4000-8000-000000005604', 'waiting_for_callback')$$,
                  'listed oldest suspension first, with the reason');
SELECT results_eq($$SELECT execution_id FROM ff_list_suspended('{fp:56}', max_results => 2)$$,
                  $$VALUES ('{fp:56}:00000000-0000-4000-8000-000000005601'::text), ('{fp:56}:00000000-0000-4000-8000-000000005602')$$,
                  'page 1');
SELECT results_eq($$SELECT execution_id FROM ff_list_suspended('{fp:56}', '{fp:56}:00000000-0000-4000-8000-000000005602', 2)$$,
                  $$VALUES ('{fp:56}:00000000-0000-4000-8000-000000005603'::text), ('{fp:56}:00000000-0000-4000-8000-000000005604')$$,
                  'page 2 from the cursor');
SELECT is((SELECT count(*) FROM ff_list_suspended('{fp:56}', '{fp:56}:00000000-0000-4000-8000-000000005604', 2)), 0::bigint, 'page 3 is empty');
SELECT results_eq($$SELECT execution_id FROM ff_list_suspended('{fp:56}', '{fp:56}:00000000-0000-4000-8000-000000005602', 2)$$,
                  $$SELECT execution_id FROM ff_list_suspended('{fp:56}', '{fp:56}:00000000-0000-4000-8000-000000005602', 2)$$,
                  'paging is stable');
SELECT is(ff_resume_execution('{fp:56}:00000000-0000-4000-8000-000000005602'), 'waiting', 'resume one');
SELECT results_eq($$SELECT execution_id FROM ff_list_suspended('{fp:56}', '{fp:56}:00000000-0000-4000-8000-000000005602', 10)$$,
                  $$VALUES ('{fp:56}:00000000-0000-4000-8000-000000005603'::text), ('{fp:56}:00000000-0000-4000-8000-000000005604')$$,
                  'a resumed execution still works as a cursor, and is no longer listed');
SELECT is((SELECT count(*) FROM ff_list_suspended('{fp:56}')), 3::bigint, 'three left');
SELECT results_eq($$SELECT execution_id FROM ff_list_suspended('{fp:56}', '{fp:56}:00000000-0000-4000-8000-0000000056ff', 10)$$,
                  $$SELECT execution_id FROM ff_list_suspended('{fp:56}') WHERE execution_id > '{fp:56}:00000000-0000-4000-8000-0000000056ff'$$,
                  'an unknown cursor degrades to execution id order');
SELECT is((SELECT count(*) FROM ff_list_suspended('{fp:56}', max_results => 0)), 0::bigint, 'max_results 0 -> empty');
SELECT is((SELECT count(*) FROM ff_list_suspended('{fp:57}')), 0::bigint, 'another partition has none');
SELECT throws_ok($$SELECT * FROM ff_list_suspended('fp:56')$$, 'YFV01', NULL, 'a malformed partition key -> YFV01');

------------------------------------------------------------------------------
-- capabilities
------------------------------------------------------------------------------
SELECT results_eq(
    $$SELECT (ff_capabilities() -> 'supports' ->> 'rotate_waitpoint_hmac_secret_all')::boolean,
             (ff_capabilities() -> 'supports' ->> 'seed_waitpoint_hmac_secret')::boolean,
             (ff_capabilities() -> 'supports' ->> 'list_pending_waitpoints')::boolean,
             (ff_capabilities() -> 'supports' ->> 'subscribe_signal_delivery')::boolean$$,
    $$VALUES (true, true, true, true)$$, 'ff_capabilities advertises the keystore, pending-waitpoint listing and signal delivery');

SELECT * FROM finish();
ROLLBACK;

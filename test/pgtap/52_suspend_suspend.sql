-- ff_suspend and ff_suspend_by_triple: the suspended state vector, the
-- released lease, the rows written, idempotent suspend, fencing (a stale or
-- expired handle cannot suspend, a second suspend is already_suspended),
-- every validation rule of spec B §4.2, and that a rejected suspend leaves
-- nothing behind.
BEGIN;
SELECT plan(92);

DELETE FROM ff_waitpoint_hmac;
SELECT ff_seed_waitpoint_hmac_secret('kid-suspend-1', repeat('ab', 32));

-- err(sql) runs sql and returns '<SQLSTATE> <message>' or 'no error'
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END $$;

------------------------------------------------------------------------------
-- a fresh single-waitpoint suspend (the spec's token vector 3 end to end)
------------------------------------------------------------------------------
SELECT ff_create_execution('tap52', execution_id => '{fp:7}:550e8400-e29b-41d4-a716-446655440000', namespace => 'ns52');
CREATE TEMP TABLE c1 AS SELECT * FROM ff_claim('tap52', 'w1', 'wi-1');
CREATE TEMP TABLE tl AS SELECT ff_server_time_ms() + 60000 AS timeout_at;
CREATE TEMP TABLE s1 AS
    SELECT * FROM ff_suspend((SELECT handle FROM c1),
        waitpoints => '[{"waitpoint_id": "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "waitpoint_key": "wpk:a"}]',
        resume_condition => '{"Single": {"waitpoint_key": "wpk:a", "matcher": {"ByName": "ready"}}}',
        suspension_id => '11111111-0000-4000-8000-000000000052',
        reason_code => 'waiting_for_approval',
        timeout_at => (SELECT timeout_at FROM tl),
        continuation_metadata_pointer => 's3://bucket/ckpt-1');
SELECT results_eq(
    $$SELECT outcome, suspension_id, waitpoint_index, waitpoint_id, waitpoint_key, waitpoint_token FROM s1$$,
    $$VALUES ('suspended'::text, '11111111-0000-4000-8000-000000000052'::uuid, 0,
              '6ba7b810-9dad-11d1-80b4-00c04fd430c8'::uuid, 'wpk:a'::text,
              'kid-suspend-1:1a9796c4f75cbdde91f69a8fc3f1c63ea62f53b12d8327288e12cae6a91047ac'::text)$$,
    'suspended: one row with the suspension id, the waitpoint and its token (spec vector 3)');
SELECT is((SELECT handle FROM s1), (SELECT handle FROM c1), 'the suspended handle is returned');
SELECT results_eq(
    $$SELECT lifecycle_phase, ownership_state, eligibility_state, blocking_reason, terminal_outcome,
             attempt_state, public_state
        FROM ff_execution WHERE execution_id = '550e8400-e29b-41d4-a716-446655440000'$$,
    $$VALUES ('suspended'::text, 'unowned'::text, 'not_applicable'::text, 'waiting_for_approval'::text,
              'none'::text, 'attempt_interrupted'::text, 'suspended'::text)$$,
    'suspended/unowned/not_applicable/waiting_for_approval/none/attempt_interrupted -> suspended');
SELECT is((SELECT blocking_detail FROM ff_execution WHERE execution_id = '550e8400-e29b-41d4-a716-446655440000'),
          'suspended: waitpoint 6ba7b810-9dad-11d1-80b4-00c04fd430c8 awaiting waiting_for_approval',
          'blocking_detail names the waitpoint and the reason');
SELECT results_eq(
    $$SELECT attempt_lifecycle, end_reason, lease_expires_at_ms, timeout_at_ms, ended_at_ms
        FROM ff_attempt WHERE execution_id = '550e8400-e29b-41d4-a716-446655440000'$$,
    $$VALUES ('suspended'::text, 'suspended'::text, NULL::bigint, NULL::bigint, NULL::bigint)$$,
    'the attempt is parked: suspended, lease released, not ended');
SELECT results_eq(
    $$SELECT event_type, reason, lease_epoch FROM ff_lease_event
       WHERE execution_id = '550e8400-e29b-41d4-a716-446655440000' ORDER BY event_id$$,
    $$VALUES ('acquired'::text, NULL::text, 1::bigint), ('released', 'suspended', 1)$$,
    'lease events: acquired, released (suspended)');
SELECT is((SELECT count(*) FROM ff_completion_event WHERE execution_id = '550e8400-e29b-41d4-a716-446655440000'),
          0::bigint, 'suspending is not a completion');
SELECT results_eq(
    $$SELECT attempt_index, reason_code, requested_by, condition, timeout_at_ms = (SELECT timeout_at FROM tl),
             timeout_behavior, continuation_metadata_pointer, closed_at_ms, satisfied_tokens
        FROM ff_suspension WHERE execution_id = '550e8400-e29b-41d4-a716-446655440000'$$,
    $$VALUES (0, 'waiting_for_approval'::text, 'worker'::text,
              '{"Single": {"waitpoint_key": "wpk:a", "matcher": {"ByName": "ready"}}}'::jsonb, true,
              'fail'::text, 's3://bucket/ckpt-1'::text, NULL::bigint, '{}'::text[])$$,
    'the open suspension row');
SELECT results_eq(
    $$SELECT state, waitpoint_key, token_kid, required_signal_names, activated_at_ms = created_at_ms,
             expires_at_ms = (SELECT timeout_at FROM tl), binding_index, attempt_index
        FROM ff_waitpoint WHERE waitpoint_id = '6ba7b810-9dad-11d1-80b4-00c04fd430c8'$$,
    $$VALUES ('active'::text, 'wpk:a'::text, 'kid-suspend-1'::text, '{ready}'::text[], true, true, 0, 0)$$,
    'producer_writes_active_state_and_activated_at: active, names {ready}, expires at the timeout');

SELECT matches(pg_temp.err($$SELECT * FROM ff_suspend((SELECT handle FROM c1), '["wpk:z"]')$$),
               '^YFS05 already_suspended: ', 'a second suspend with the same handle -> YFS05 already_suspended');
SELECT throws_ok($$SELECT * FROM ff_renew((SELECT handle FROM c1))$$, 'YFC11', NULL,
                 'the suspended handle no longer renews (YFC11)');
SELECT throws_ok($$SELECT ff_complete((SELECT handle FROM c1))$$, 'YFC11', NULL,
                 'nor completes: the lease holder cannot act while suspended');
SELECT throws_ok($$SELECT ff_cancel((SELECT handle FROM c1), 'x')$$, 'YFC11', NULL,
                 'nor cancels');
SELECT is((SELECT count(*) FROM ff_claim('tap52', 'w2', 'wi-2')), 0::bigint, 'a suspended execution is not claimable');

------------------------------------------------------------------------------
-- idempotent suspend (idempotency_key_replay_returns_cached_outcome)
------------------------------------------------------------------------------
SELECT ff_create_execution('tap52-idem', execution_id => '{fp:52}:00000000-0000-4000-8000-000000005201');
CREATE TEMP TABLE c2 AS SELECT * FROM ff_claim('tap52-idem', 'w1', 'wi-1');
CREATE TEMP TABLE s2 AS SELECT * FROM ff_suspend((SELECT handle FROM c2), '["wpk:x", "wpk:y"]',
                                                 idempotency_key => 'suspend-1');
CREATE TEMP TABLE s2b AS SELECT * FROM ff_suspend((SELECT handle FROM c2), '["wpk:other"]',
                                                  idempotency_key => 'suspend-1');
SELECT results_eq($$SELECT * FROM s2b ORDER BY waitpoint_index$$, $$SELECT * FROM s2 ORDER BY waitpoint_index$$,
                  'a replay with the same key and lease returns the first outcome verbatim');
SELECT results_eq(
    $$SELECT (SELECT count(*) FROM ff_suspension WHERE execution_id = '00000000-0000-4000-8000-000000005201'),
             (SELECT count(*) FROM ff_waitpoint WHERE execution_id = '00000000-0000-4000-8000-000000005201'),
             (SELECT count(*) FROM ff_lease_event WHERE execution_id = '00000000-0000-4000-8000-000000005201' AND event_type = 'released')$$,
    $$VALUES (1::bigint, 2::bigint, 1::bigint)$$, 'the replay wrote nothing');
SELECT matches(pg_temp.err($$SELECT * FROM ff_suspend((SELECT handle FROM c2), '["wpk:x"]', idempotency_key => 'other-key')$$),
               '^YFS05 already_suspended: ', 'another key on the suspended execution -> YFS05');
SELECT results_eq($$SELECT count(*), min(waitpoint_index), max(waitpoint_index), bool_and(outcome = 'suspended') FROM s2$$,
                  $$VALUES (2::bigint, 0, 1, true)$$, 'two waitpoints: rows 0 and 1');
SELECT is((SELECT condition FROM ff_suspension WHERE execution_id = '00000000-0000-4000-8000-000000005201'),
          '{"Composite": {"kind": "AllOf", "members": [{"Single": {"waitpoint_key": "wpk:x", "matcher": "Wildcard"}},
             {"Single": {"waitpoint_key": "wpk:y", "matcher": "Wildcard"}}]}}'::jsonb,
          'no condition: all of the waitpoints, any signal');
-- the same key from a later lease is a new suspend
SELECT is(ff_resume_execution('{fp:52}:00000000-0000-4000-8000-000000005201'), 'waiting', 'operator resume');
CREATE TEMP TABLE c2r AS SELECT * FROM ff_claim_resumed_execution('{fp:52}:00000000-0000-4000-8000-000000005201',
                                                                  'w1', 'wi-1', 'tap52-idem');
CREATE TEMP TABLE s2c AS SELECT * FROM ff_suspend((SELECT handle FROM c2r), '["wpk:x2"]', idempotency_key => 'suspend-1');
SELECT isnt((SELECT suspension_id FROM s2c), (SELECT suspension_id FROM s2 LIMIT 1),
            'the same key from a new lease suspends anew');

------------------------------------------------------------------------------
-- fencing: stale and expired handles cannot suspend
------------------------------------------------------------------------------
SELECT ff_create_execution('tap52-stale', execution_id => '{fp:52}:00000000-0000-4000-8000-000000005202');
CREATE TEMP TABLE c3 AS SELECT * FROM ff_claim('tap52-stale', 'w1', 'wi-1', lease_ttl_ms => 1000);
SET LOCAL flowfabric.clock_offset_ms = 2000;
SELECT throws_ok($$SELECT * FROM ff_suspend((SELECT handle FROM c3), '["wpk:a"]')$$, 'YFS02', NULL,
                 'an expired lease cannot suspend (YFS02)');
SELECT is(ff_reconcile_lease_expiry(), 1, 'the lease expires');
CREATE TEMP TABLE c3b AS SELECT * FROM ff_claim('tap52-stale', 'w2', 'wi-2', lease_ttl_ms => 600000);
SELECT throws_ok($$SELECT * FROM ff_suspend((SELECT handle FROM c3), '["wpk:a"]')$$, 'YFS01', NULL,
                 'a stale handle cannot suspend after a reclaim (YFS01)');
SELECT throws_ok($$SELECT * FROM ff_suspend((SELECT handle FROM c3), '["wpk:a"]', idempotency_key => 'k')$$, 'YFS01', NULL,
                 'not even with an idempotency key');
RESET flowfabric.clock_offset_ms;
SELECT is((SELECT count(*) FROM ff_suspension WHERE execution_id = '00000000-0000-4000-8000-000000005202'), 0::bigint,
          'the refused suspends wrote nothing');
SELECT throws_ok($$SELECT * FROM ff_suspend(NULL, '["wpk:a"]')$$, 'YFV01', NULL, 'NULL handle -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_suspend('\x0201'::bytea, '["wpk:a"]')$$, 'YFV25', NULL, 'malformed handle -> YFV25');
SELECT throws_ok($$SELECT * FROM ff_suspend(ff_handle_encode('{fp:52}:00000000-0000-4000-8000-000000005299', 0,
                       gen_random_uuid()::text, gen_random_uuid()::text, 1, 1000, 'l', 'w'), '["wpk:a"]')$$,
                 'YFN01', NULL, 'a handle for an unknown execution -> YFN01');

------------------------------------------------------------------------------
-- validation (spec B §4.2): each rejection leaves the execution active
------------------------------------------------------------------------------
SELECT ff_create_execution('tap52-val', execution_id => '{fp:52}:00000000-0000-4000-8000-000000005203');
CREATE TEMP TABLE c4 AS SELECT * FROM ff_claim('tap52-val', 'w1', 'wi-1', lease_ttl_ms => 600000);
CREATE FUNCTION pg_temp.sus(w text, c text DEFAULT NULL, extra text DEFAULT '') RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.err(format('SELECT * FROM ff_suspend((SELECT handle FROM c4), %L, %L %s)', w, c, extra))
$$;
SELECT matches(pg_temp.sus(NULL), '^YFV01 invalid_input: waitpoints must be a JSON array', 'waitpoints NULL');
SELECT matches(pg_temp.sus('[]'), '^YFV01 invalid_input: waitpoints_empty', 'waitpoints_empty');
SELECT matches(pg_temp.sus('{"waitpoint_key": "a"}'), '^YFV01 invalid_input: waitpoints must be a JSON array', 'waitpoints not an array');
SELECT matches(pg_temp.sus('[42]'), '^YFV01 invalid_input: waitpoints\[0\] must be a string or an object', 'a binding that is a number');
SELECT matches(pg_temp.sus('[{"waitpoint_key": "a", "colour": "red"}]'), '^YFV01 invalid_input: waitpoints\[0\] has unknown keys', 'a binding with an unknown key');
SELECT matches(pg_temp.sus('[{"waitpoint_id": "nope"}]'), '^YFV01 invalid_input: waitpoint_id "nope" is not a UUID', 'a binding with a bad waitpoint_id');
SELECT matches(pg_temp.sus('[""]'), '^YFV07 invalid_waitpoint_key: ', 'an empty waitpoint key -> YFV07');
SELECT matches(pg_temp.sus('["a\u0001b"]'), '^YFV07 invalid_waitpoint_key: ', 'a key with a control character -> YFV07');
SELECT matches(pg_temp.sus(format('[%s]', to_json(repeat('k', 257)))), '^YFV07 invalid_waitpoint_key: ', 'a 257-byte key -> YFV07');
SELECT matches(pg_temp.sus('["wpk:a", "wpk:a"]'), '^YFV01 invalid_input: duplicate_waitpoint_key', 'the same key twice');
SELECT matches(pg_temp.sus('["wpk:a"]', '{"Single": {"waitpoint_key": "wpk:b", "matcher": "Wildcard"}}'),
               '^YFV01 invalid_input: waitpoint_key_mismatch', 'waitpoint_key_mismatch');
SELECT matches(pg_temp.sus('["wpk:a", "wpk:b"]', '{"Composite": {"kind": "AllOf", "members": [
                   {"Single": {"waitpoint_key": "wpk:a"}}, {"Single": {"waitpoint_key": "wpk:c"}}]}}'),
               '^YFV01 invalid_input: referenced_waitpoint_key_missing_binding: wpk:c', 'referenced_waitpoint_key_missing_binding');
SELECT matches(pg_temp.sus('["wpk:a", "wpk:b"]', '{"Single": {"waitpoint_key": "wpk:a"}}'),
               '^YFV01 invalid_input: extra_binding_not_referenced_by_condition: wpk:b', 'extra_binding_not_referenced_by_condition');
SELECT matches(pg_temp.sus('["wpk:a"]', '"TimeoutOnly"'),
               '^YFV01 invalid_input: timeout_only_without_deadline', 'timeout_only_without_deadline');
SELECT matches(pg_temp.sus('["wpk:a"]', NULL, ', timeout_at => ff_server_time_ms() - 600001'),
               '^YFV01 invalid_input: timeout_at_in_past', 'timeout_at_in_past (beyond the 10-minute skew)');
SELECT matches(pg_temp.sus('["wpk:a"]', '{"Single": {"waitpoint_key": "wpk:a", "matcher": {"ByName": ""}}}'),
               '^YFV01 invalid_input: resume_condition: empty signal name \(use Wildcard instead\)', 'empty ByName');
SELECT matches(pg_temp.sus('["wpk:a"]', '{"Composite": {"kind": "AllOf", "members": []}}'),
               '^YFV01 invalid_input: resume_condition: allof_empty_members at path <root>', 'allof_empty_members');
SELECT matches(pg_temp.sus('["wpk:a"]', '{"Composite": {"kind": "AnyOf", "members": []}}'),
               '^YFV01 invalid_input: resume_condition: anyof_empty_members at path <root>', 'anyof_empty_members');
SELECT matches(pg_temp.sus('["wpk:a"]', '{"Composite": {"kind": "Count", "n": 0, "count_kind": "DistinctSignals", "waitpoints": ["wpk:a"]}}'),
               '^YFV01 invalid_input: resume_condition: count_n_zero at path <root>', 'count_n_zero');
SELECT matches(pg_temp.sus('["wpk:a"]', '{"Composite": {"kind": "Count", "n": 1, "count_kind": "DistinctSignals", "waitpoints": []}}'),
               '^YFV01 invalid_input: resume_condition: count_waitpoints_empty at path <root>', 'count_waitpoints_empty');
SELECT matches(pg_temp.sus('["wpk:a"]', '{"Composite": {"kind": "Count", "n": 2, "count_kind": "DistinctWaitpoints", "waitpoints": ["wpk:a", "wpk:a"]}}'),
               '^YFV01 invalid_input: resume_condition: count_exceeds_waitpoint_set: n=2 > waitpoints.len\(\)=1 at path <root>',
               'count_exceeds_waitpoint_set');
SELECT matches(pg_temp.sus('["wpk:a"]', '{"Composite": {"kind": "Count", "n": 1, "count_kind": "Most", "waitpoints": ["wpk:a"]}}'),
               '^YFV01 invalid_input: resume_condition: unknown count_kind', 'unknown count_kind');
SELECT matches(pg_temp.sus('["wpk:a"]', '{"Composite": {"kind": "NoneOf", "members": []}}'),
               '^YFV01 invalid_input: resume_condition: unknown Composite kind', 'unknown composite kind');
SELECT matches(pg_temp.sus('["wpk:a"]', '"Sometimes"'), '^YFV01 invalid_input: resume_condition: unknown condition', 'unknown condition');
SELECT matches(pg_temp.sus('["wpk:a"]', '{"Single": {"waitpoint_key": "wpk:a"}, "Composite": {}}'),
               '^YFV01 invalid_input: resume_condition: unknown key', 'two condition keys');
SELECT matches(pg_temp.sus('["wpk:a"]', '{"Composite": {"kind": "AllOf", "members": [{"Composite": {"kind": "AllOf", "members": [
                   {"Composite": {"kind": "AllOf", "members": [{"Composite": {"kind": "AllOf", "members": [
                   {"Composite": {"kind": "AllOf", "members": [{"Single": {"waitpoint_key": "wpk:a"}}]}}]}}]}}]}}]}}'),
               '^YFV01 invalid_input: resume_condition: depth 5 exceeds cap 4 at path members\[0\].members\[0\].members\[0\].members\[0\]',
               'depth 5 -> rejected with its path');
SELECT matches(pg_temp.sus('["wpk:a"]', NULL, ', reason_code => ''bored'''), '^YFV01 invalid_input: unknown reason_code', 'unknown reason_code');
SELECT matches(pg_temp.sus('["wpk:a"]', NULL, ', requested_by => ''martians'''), '^YFV01 invalid_input: unknown requested_by', 'unknown requested_by');
SELECT matches(pg_temp.sus('["wpk:a"]', NULL, ', timeout_behavior => ''explode'''), '^YFV01 invalid_input: unknown timeout_behavior', 'unknown timeout_behavior');
SELECT matches(pg_temp.sus('["wpk:a"]', NULL, ', resume_policy => ''{"colour": 1}'''), '^YFV01 invalid_input: unknown resume_policy key', 'unknown resume_policy key');
SELECT matches(pg_temp.sus('["wpk:a"]', NULL, ', resume_policy => ''{"close_waitpoint_on_resume": false}'''),
               '^YFV01 invalid_input: resume_policy.close_waitpoint_on_resume must be true', 'close_waitpoint_on_resume false is not supported');
SELECT matches(pg_temp.sus('["wpk:a"]', NULL, ', resume_policy => ''{"resume_delay_ms": -5}'''),
               '^YFV01 invalid_input: resume_policy.resume_delay_ms must be a whole number', 'negative resume_delay_ms');
SELECT matches(pg_temp.sus('[{"use_pending": "00000000-0000-4000-8000-00000000dead"}]'),
               '^YFC08 waitpoint_not_found: ', 'use_pending of an unknown waitpoint -> YFC08');
SELECT is(pg_temp.sus('["wpk:a"]', '{"Composite": {"kind": "AllOf", "members": [{"Composite": {"kind": "AllOf", "members": [
                   {"Composite": {"kind": "AllOf", "members": [{"Composite": {"kind": "AllOf", "members": [
                   {"Single": {"waitpoint_key": "wpk:a"}}]}}]}}]}}]}}', ', idempotency_key => ''probe'''),
          'no error', 'depth 4 is accepted');
SELECT results_eq(
    $$SELECT public_state FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000005203'$$,
    $$VALUES ('suspended'::text)$$, 'the accepted depth-4 suspend suspended it');
SELECT is((SELECT count(*) FROM ff_suspension WHERE execution_id = '00000000-0000-4000-8000-000000005203'), 1::bigint,
          'of all those calls only the accepted one wrote a suspension');
SELECT is((SELECT count(*) FROM ff_waitpoint WHERE execution_id = '00000000-0000-4000-8000-000000005203'), 1::bigint,
          'and one waitpoint');

------------------------------------------------------------------------------
-- required_signal_names per waitpoint (spec B §4.5)
------------------------------------------------------------------------------
CREATE FUNCTION pg_temp.names(lane text, wps jsonb, cond jsonb) RETURNS TABLE (k text, n text[]) LANGUAGE plpgsql AS $$
DECLARE h bytea;
BEGIN
    PERFORM ff_create_execution(lane);
    SELECT c.handle INTO h FROM ff_claim(lane, 'w', 'wi') c;
    CREATE TEMP TABLE names_s ON COMMIT DROP AS SELECT * FROM ff_suspend(h, wps, cond);
    RETURN QUERY SELECT w.waitpoint_key, w.required_signal_names
                   FROM names_s s JOIN ff_waitpoint w USING (waitpoint_id)
                  ORDER BY s.waitpoint_index;
    DROP TABLE names_s;
END $$;
SELECT results_eq($$SELECT * FROM pg_temp.names('tap52-n1', '["wpk:a"]', '{"Single": {"waitpoint_key": "wpk:a", "matcher": "Wildcard"}}')$$,
                  $$VALUES ('wpk:a'::text, '{}'::text[])$$, 'producer_writes_required_signal_names_wildcard: {}');
SELECT results_eq($$SELECT * FROM pg_temp.names('tap52-n2', '["a", "b"]', '{"Composite": {"kind": "AllOf", "members": [
                        {"Single": {"waitpoint_key": "a", "matcher": {"ByName": "sig-a"}}},
                        {"Single": {"waitpoint_key": "b", "matcher": {"ByName": "sig-b"}}}]}}')$$,
                  $$VALUES ('a'::text, '{sig-a}'::text[]), ('b', '{sig-b}')$$, 'producer_writes_required_signal_names_allof');
SELECT results_eq($$SELECT * FROM pg_temp.names('tap52-n3', '["wpk:op"]', '"OperatorOnly"')$$,
                  $$VALUES ('wpk:op'::text, '{__operator_only__}'::text[])$$, 'producer_writes_required_signal_names_operator_only');
SELECT results_eq($$SELECT * FROM pg_temp.names('tap52-n4', '["a", "b"]', '{"Composite": {"kind": "Count", "n": 2,
                        "count_kind": "DistinctWaitpoints", "matcher": {"ByName": "vote"}, "waitpoints": ["a", "b"]}}')$$,
                  $$VALUES ('a'::text, '{vote}'::text[]), ('b', '{vote}')$$, 'a Count matcher names both its waitpoints');

------------------------------------------------------------------------------
-- the keystore must be seeded
------------------------------------------------------------------------------
SELECT ff_create_execution('tap52-nokey', execution_id => '{fp:52}:00000000-0000-4000-8000-000000005204');
CREATE TEMP TABLE c5 AS SELECT * FROM ff_claim('tap52-nokey', 'w1', 'wi-1', lease_ttl_ms => 600000);
DELETE FROM ff_waitpoint_hmac;
SELECT matches(pg_temp.err($$SELECT * FROM ff_suspend((SELECT handle FROM c5), '["wpk:a"]')$$),
               '^YFV01 invalid_input: hmac_secret_not_initialized', 'an empty keystore -> YFV01 hmac_secret_not_initialized');
SELECT ff_seed_waitpoint_hmac_secret('kid-suspend-1', repeat('ab', 32));
SELECT is((SELECT outcome FROM ff_suspend((SELECT handle FROM c5), '["wpk:a"]')), 'suspended', 'once seeded it suspends');

------------------------------------------------------------------------------
-- ff_suspend_by_triple (suspend_by_triple_fresh_returns_suspended)
------------------------------------------------------------------------------
SELECT ff_create_execution('tap52-triple', execution_id => '{fp:52}:00000000-0000-4000-8000-000000005205');
CREATE TEMP TABLE c6 AS SELECT * FROM ff_claim('tap52-triple', 'w1', 'wi-1', lease_ttl_ms => 600000);
CREATE TEMP TABLE c6l AS SELECT lease_id, lease_epoch, attempt_id FROM ff_attempt
                          WHERE execution_id = '00000000-0000-4000-8000-000000005205';
SELECT throws_ok($$SELECT * FROM ff_suspend_by_triple('{fp:52}:00000000-0000-4000-8000-000000005205', NULL, 1, '["wpk:triple"]')$$,
                 'YFV01', NULL, 'by_triple without a lease_id -> YFV01 partial_fence_triple');
SELECT throws_ok($$SELECT * FROM ff_suspend_by_triple('{fp:52}:00000000-0000-4000-8000-000000005205', (SELECT lease_id FROM c6l), NULL, '["wpk:triple"]')$$,
                 'YFV01', NULL, 'by_triple without a lease_epoch -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_suspend_by_triple('{fp:52}:00000000-0000-4000-8000-000000005205', (SELECT lease_id FROM c6l), 7, '["wpk:triple"]')$$,
                 'YFS01', NULL, 'by_triple with a wrong epoch -> YFS01');
SELECT throws_ok($$SELECT * FROM ff_suspend_by_triple('{fp:52}:00000000-0000-4000-8000-000000005205', gen_random_uuid(), 1, '["wpk:triple"]')$$,
                 'YFS01', NULL, 'by_triple with a wrong lease id -> YFS01');
SELECT throws_ok($$SELECT * FROM ff_suspend_by_triple('{fp:52}:00000000-0000-4000-8000-000000005205', (SELECT lease_id FROM c6l), 1, '["wpk:triple"]',
                       attempt_id => gen_random_uuid())$$,
                 'YFS01', NULL, 'by_triple with a wrong attempt id -> YFS01');
SELECT throws_ok($$SELECT * FROM ff_suspend_by_triple('{fp:52}:00000000-0000-4000-8000-000000005299', gen_random_uuid(), 1, '["wpk:triple"]')$$,
                 'YFN01', NULL, 'by_triple on an unknown execution -> YFN01');
SELECT throws_ok($$SELECT * FROM ff_suspend_by_triple('{fp:52}:00000000-0000-4000-8000-000000005205', (SELECT lease_id FROM c6l), 1, '["wpk:triple"]',
                       attempt_index => 3)$$,
                 'YFN03', NULL, 'by_triple naming a missing attempt -> YFN03');
CREATE TEMP TABLE s6 AS SELECT * FROM ff_suspend_by_triple('{fp:52}:00000000-0000-4000-8000-000000005205',
        (SELECT lease_id FROM c6l), (SELECT lease_epoch FROM c6l), '["wpk:triple"]',
        suspension_id => '22222222-0000-4000-8000-000000005205', attempt_id => (SELECT attempt_id FROM c6l));
SELECT results_eq($$SELECT outcome, suspension_id, waitpoint_key FROM s6$$,
                  $$VALUES ('suspended'::text, '22222222-0000-4000-8000-000000005205'::uuid, 'wpk:triple'::text)$$,
                  'by_triple suspends with the given suspension id and key');
SELECT results_eq($$SELECT backend, execution_id, attempt_index, lease_id::uuid, lease_epoch FROM ff_handle_describe((SELECT handle FROM s6))$$,
                  $$SELECT 'postgres'::text, '{fp:52}:00000000-0000-4000-8000-000000005205'::text, 0::bigint, lease_id, lease_epoch FROM c6l$$,
                  'the returned handle is a postgres handle of that lease');
SELECT is((SELECT public_state FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000005205'), 'suspended',
          'the execution is suspended');
SELECT matches(pg_temp.err($$SELECT * FROM ff_suspend_by_triple('{fp:52}:00000000-0000-4000-8000-000000005205',
        (SELECT lease_id FROM c6l), (SELECT lease_epoch FROM c6l), '["wpk:triple"]')$$),
               '^YFS05 already_suspended', 'repeating the triple -> YFS05 already_suspended');
SELECT throws_ok($$SELECT * FROM ff_suspend((SELECT handle FROM c6), '["wpk:t2"]')$$, 'YFS05', NULL,
                 'and so does the claim handle of that lease');

------------------------------------------------------------------------------
-- suspension ids are per execution and not reusable
------------------------------------------------------------------------------
SELECT ff_create_execution('tap52-sid', execution_id => '{fp:52}:00000000-0000-4000-8000-000000005206');
CREATE TEMP TABLE c7 AS SELECT * FROM ff_claim('tap52-sid', 'w1', 'wi-1', lease_ttl_ms => 600000);
SELECT lives_ok($$SELECT * FROM ff_suspend((SELECT handle FROM c7), '["wpk:s"]', suspension_id => '33333333-0000-4000-8000-000000005206')$$,
                'suspend with an explicit suspension id');
SELECT is(ff_resume_execution('{fp:52}:00000000-0000-4000-8000-000000005206'), 'waiting', 'resumed by an operator');
CREATE TEMP TABLE c7b AS SELECT * FROM ff_claim('tap52-sid', 'w1', 'wi-1', lease_ttl_ms => 600000);
SELECT is((SELECT attempt_index FROM c7b), 0, 'a plain ff_claim also resumes the parked attempt');
SELECT matches(pg_temp.err($$SELECT * FROM ff_suspend((SELECT handle FROM c7b), '["wpk:s2"]', suspension_id => '33333333-0000-4000-8000-000000005206')$$),
               '^YFV01 invalid_input: suspension_id 33333333-0000-4000-8000-000000005206 was already used',
               'reusing a suspension id -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_suspend((SELECT handle FROM c7b), jsonb_build_array(jsonb_build_object('waitpoint_id',
                   (SELECT waitpoint_id FROM ff_waitpoint WHERE execution_id = '00000000-0000-4000-8000-000000005206'))))$$),
               '^YFK05 waitpoint_already_exists', 'reusing a waitpoint id -> YFK05');
SELECT results_eq(
    $$SELECT count(*), count(*) FILTER (WHERE closed_at_ms IS NULL) FROM ff_suspension
       WHERE execution_id = '00000000-0000-4000-8000-000000005206'$$,
    $$VALUES (1::bigint, 0::bigint)$$, 'still one (closed) suspension');
SELECT lives_ok($$SELECT * FROM ff_suspend((SELECT handle FROM c7b), '["wpk:s"]')$$,
                'the resumed attempt suspends again, even on the same key');
SELECT results_eq(
    $$SELECT count(*), count(*) FILTER (WHERE closed_at_ms IS NULL), count(DISTINCT attempt_index) FROM ff_suspension
       WHERE execution_id = '00000000-0000-4000-8000-000000005206'$$,
    $$VALUES (2::bigint, 1::bigint, 1::bigint)$$, 'two suspensions of the same attempt, one open');

SELECT * FROM finish();
ROLLBACK;

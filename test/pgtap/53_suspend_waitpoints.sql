-- Pending waitpoints: ff_create_waitpoint (token, row, errors), signals
-- delivered before the suspend are buffered and count once a suspension
-- binds the waitpoint (already_satisfied when they suffice), use_pending
-- errors, ff_read_waitpoint_token, ff_close_waitpoint,
-- ff_list_pending_waitpoints (redacted tokens, keyset pagination).
BEGIN;
SELECT plan(68);

DELETE FROM ff_waitpoint_hmac;
SELECT ff_seed_waitpoint_hmac_secret('kid-suspend-1', repeat('ab', 32));

CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END $$;

------------------------------------------------------------------------------
-- ff_create_waitpoint
------------------------------------------------------------------------------
SELECT ff_create_execution('tap53', execution_id => '{fp:53}:00000000-0000-4000-8000-000000005301');
CREATE TEMP TABLE c1 AS SELECT * FROM ff_claim('tap53', 'w1', 'wi-1', lease_ttl_ms => 600000);
CREATE TEMP TABLE t0 AS SELECT ff_server_time_ms() AS ms;
CREATE TEMP TABLE p1 AS SELECT * FROM ff_create_waitpoint((SELECT handle FROM c1), 'wpk:early', 60000);
SELECT results_eq(
    $$SELECT waitpoint_key, split_part(waitpoint_token, ':', 1), length(waitpoint_token),
             expires_at_ms BETWEEN (SELECT ms FROM t0) + 60000 AND ff_server_time_ms() + 60000 FROM p1$$,
    $$VALUES ('wpk:early'::text, 'kid-suspend-1'::text, length('kid-suspend-1:') + 64, true)$$,
    'create_waitpoint_mints_token_and_row: key, token under the active kid, expiry');
SELECT results_eq(
    $$SELECT state, waitpoint_key, execution_id, expires_at_ms = (SELECT expires_at_ms FROM p1), activated_at_ms,
             required_signal_names, suspension_id, token = (SELECT waitpoint_token FROM p1)
        FROM ff_waitpoint WHERE waitpoint_id = (SELECT waitpoint_id FROM p1)$$,
    $$VALUES ('pending'::text, 'wpk:early'::text, '00000000-0000-4000-8000-000000005301'::uuid, true, NULL::bigint,
              '{}'::text[], NULL::uuid, true)$$,
    'the row is pending, unbound, with no required names');
SELECT is(ff_waitpoint_token_check(decode(repeat('ab', 32), 'hex'), 'kid-suspend-1',
              '{fp:53}:00000000-0000-4000-8000-000000005301:' || (SELECT waitpoint_id FROM p1),
              (SELECT waitpoint_token FROM p1)),
          'ok', 'create_waitpoint_token_hmac_verifies over <exec>:<wp>');
SELECT is(ff_waitpoint_token_check(decode(repeat('ab', 32), 'hex'), 'kid-suspend-1',
              '{fp:53}:00000000-0000-4000-8000-000000005301:' || (SELECT waitpoint_id FROM p1),
              left((SELECT waitpoint_token FROM p1), -1) ||
              CASE right((SELECT waitpoint_token FROM p1), 1) WHEN '0' THEN '1' ELSE '0' END),
          'signature_mismatch', 'flipping the last hex digit fails');
CREATE TEMP TABLE p2 AS SELECT * FROM ff_create_waitpoint((SELECT handle FROM c1), 'wpk:early', 60000);
SELECT ok((SELECT waitpoint_id FROM p2) <> (SELECT waitpoint_id FROM p1) AND
          (SELECT waitpoint_token FROM p2) <> (SELECT waitpoint_token FROM p1),
          'create_waitpoint_distinct_ids_per_call: same key, new id and token');
CREATE TEMP TABLE p3 AS SELECT * FROM ff_create_waitpoint((SELECT handle FROM c1), NULL, 60000,
                                                          waitpoint_id => '00000000-0000-4000-8000-0000000053f3');
SELECT results_eq($$SELECT waitpoint_id, waitpoint_key FROM p3$$,
                  $$VALUES ('00000000-0000-4000-8000-0000000053f3'::uuid, 'wpk:00000000-0000-4000-8000-0000000053f3'::text)$$,
                  'an explicit id, and a key minted as wpk:<id>');
SELECT throws_ok($$SELECT * FROM ff_create_waitpoint((SELECT handle FROM c1), 'k', 1000, waitpoint_id => '00000000-0000-4000-8000-0000000053f3')$$,
                 'YFK05', NULL, 'an existing waitpoint id -> YFK05 waitpoint_already_exists');
SELECT throws_ok($$SELECT * FROM ff_create_waitpoint((SELECT handle FROM c1), 'k', NULL)$$, 'YFV01', NULL, 'expires_in_ms NULL -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_create_waitpoint((SELECT handle FROM c1), 'k', 0)$$, 'YFV01', NULL, 'expires_in_ms 0 -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_create_waitpoint((SELECT handle FROM c1), '', 1000)$$, 'YFV07', NULL, 'empty key -> YFV07');
SELECT throws_ok($$SELECT * FROM ff_create_waitpoint(NULL, 'k', 1000)$$, 'YFV01', NULL, 'NULL handle -> YFV01');
DELETE FROM ff_waitpoint_hmac;
SELECT throws_ok($$SELECT * FROM ff_create_waitpoint((SELECT handle FROM c1), 'k', 1000)$$, 'YFV01', NULL,
                 'create_waitpoint_without_seeded_kid_errors -> YFV01');
SELECT ff_seed_waitpoint_hmac_secret('kid-suspend-1', repeat('ab', 32));
SELECT is((SELECT count(*) FROM ff_waitpoint WHERE execution_id = '00000000-0000-4000-8000-000000005301'), 3::bigint,
          'the refused calls created no waitpoint');

------------------------------------------------------------------------------
-- ff_read_waitpoint_token
------------------------------------------------------------------------------
SELECT is(ff_read_waitpoint_token('{fp:53}', (SELECT waitpoint_id FROM p1)), (SELECT waitpoint_token FROM p1),
          'read_waitpoint_token returns the token of a pending waitpoint');
SELECT is(ff_read_waitpoint_token('{fp:53}', '00000000-0000-4000-8000-00000000dead'), NULL,
          'and NULL for a missing one');
SELECT is(ff_read_waitpoint_token('{fp:54}', (SELECT waitpoint_id FROM p1)), NULL, 'or for the wrong partition');
SELECT throws_ok($$SELECT ff_read_waitpoint_token('fp:53', gen_random_uuid())$$, 'YFV01', NULL,
                 'a malformed partition key -> YFV01');

------------------------------------------------------------------------------
-- a signal before the suspend is buffered; the suspend then finds it
------------------------------------------------------------------------------
CREATE TEMP TABLE d1 AS SELECT * FROM ff_deliver_signal('{fp:53}:00000000-0000-4000-8000-000000005301',
    (SELECT waitpoint_id FROM p1), (SELECT waitpoint_token FROM p1), 'approved',
    signal_id => '00000000-0000-4000-8000-00000000a001', payload => '\x7b7d'::bytea, source_identity => 'alice');
SELECT results_eq($$SELECT result, signal_id, effect, public_state FROM d1$$,
                  $$VALUES ('accepted'::text, '00000000-0000-4000-8000-00000000a001'::uuid,
                            'buffered_for_pending_waitpoint'::text, 'active'::text)$$,
                  'a signal to a pending waitpoint is buffered; the execution keeps running');
SELECT results_eq($$SELECT suspension_id, waitpoint_key, effect, satisfier FROM ff_signal
                     WHERE signal_id = '00000000-0000-4000-8000-00000000a001'$$,
                  $$VALUES (NULL::uuid, 'wpk:early'::text, 'buffered_for_pending_waitpoint'::text, false)$$,
                  'the buffered signal is recorded, not yet attached to a suspension');
SELECT throws_ok($$SELECT * FROM ff_deliver_signal('{fp:53}:00000000-0000-4000-8000-000000005301',
    (SELECT waitpoint_id FROM p1), (SELECT waitpoint_token FROM p2), 'approved')$$,
    'YFV08', NULL, 'buffering with another waitpoint''s token is rejected (YFV08)');
SELECT results_eq($$SELECT result, effect FROM ff_deliver_signal('{fp:53}:00000000-0000-4000-8000-000000005301',
    (SELECT waitpoint_id FROM p1), (SELECT waitpoint_token FROM p1), 'approved',
    signal_id => '00000000-0000-4000-8000-00000000a001')$$,
    $$VALUES ('duplicate'::text, 'duplicate'::text)$$, 'the same signal id again is a duplicate');

-- the suspend that uses the pending waitpoint is satisfied at once
CREATE TEMP TABLE s1 AS SELECT * FROM ff_suspend((SELECT handle FROM c1),
    jsonb_build_array(jsonb_build_object('use_pending', (SELECT waitpoint_id FROM p1))),
    '{"Single": {"waitpoint_key": "wpk:early", "matcher": {"ByName": "approved"}}}', idempotency_key => 'sus-1');
SELECT results_eq($$SELECT outcome, waitpoint_index, waitpoint_id, waitpoint_key, waitpoint_token FROM s1$$,
                  $$SELECT 'already_satisfied'::text, 0, waitpoint_id, waitpoint_key, waitpoint_token FROM p1$$,
                  'use_pending reuses the pending token; buffered signals satisfy it: already_satisfied');
SELECT results_eq($$SELECT public_state, ownership_state FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000005301'$$,
                  $$VALUES ('active'::text, 'leased'::text)$$, 'already_satisfied keeps the lease: still active');
SELECT lives_ok($$SELECT * FROM ff_renew((SELECT handle FROM c1))$$, 'the caller''s handle stays valid');
SELECT results_eq($$SELECT closed_at_ms IS NOT NULL, close_reason, closer_signal_id FROM ff_suspension
                     WHERE execution_id = '00000000-0000-4000-8000-000000005301'$$,
                  $$VALUES (true, 'resumed'::text, '00000000-0000-4000-8000-00000000a001'::uuid)$$,
                  'its suspension is recorded closed (resumed by the buffered signal)');
SELECT results_eq($$SELECT state, close_reason, binding_index FROM ff_waitpoint WHERE waitpoint_id = (SELECT waitpoint_id FROM p1)$$,
                  $$VALUES ('closed'::text, 'resumed'::text, 0)$$, 'and the waitpoint closed with it');
SELECT results_eq($$SELECT signal_name, source_identity, payload FROM ff_observe_signals((SELECT handle FROM c1))$$,
                  $$VALUES ('approved'::text, 'alice'::text, '\x7b7d'::bytea)$$,
                  'the worker observes the satisfying signal with its payload');
SELECT results_eq($$SELECT * FROM ff_suspend((SELECT handle FROM c1),
    jsonb_build_array(jsonb_build_object('use_pending', (SELECT waitpoint_id FROM p1))), idempotency_key => 'sus-1')$$,
                  $$SELECT * FROM s1$$, 'an already_satisfied suspend replays by idempotency key too');
SELECT throws_ok($$SELECT * FROM ff_suspend((SELECT handle FROM c1),
    jsonb_build_array(jsonb_build_object('use_pending', (SELECT waitpoint_id FROM p1))))$$,
    'YFS10', NULL, 'using the now closed waitpoint again -> YFS10 waitpoint_not_pending');
SELECT throws_ok($$SELECT * FROM ff_deliver_signal('{fp:53}:00000000-0000-4000-8000-000000005301',
    (SELECT waitpoint_id FROM p1), (SELECT waitpoint_token FROM p1), 'approved')$$,
    'YFS06', NULL, 'buffering is rejected after the waitpoint closed (YFS06)');
SELECT is(ff_read_waitpoint_token('{fp:53}', (SELECT waitpoint_id FROM p1)), NULL, 'a closed waitpoint has no readable token');

-- a buffered signal that does not satisfy: the suspend suspends, the signal counts
CREATE TEMP TABLE p4 AS SELECT * FROM ff_create_waitpoint((SELECT handle FROM c1), 'wpk:votes', 60000);
SELECT is((SELECT effect FROM ff_deliver_signal('{fp:53}:00000000-0000-4000-8000-000000005301',
    (SELECT waitpoint_id FROM p4), (SELECT waitpoint_token FROM p4), 'vote', source_identity => 'u1')),
    'buffered_for_pending_waitpoint', 'one vote buffered');
CREATE TEMP TABLE s2 AS SELECT * FROM ff_suspend((SELECT handle FROM c1),
    jsonb_build_array(jsonb_build_object('UsePending', jsonb_build_object('waitpoint_id', (SELECT waitpoint_id FROM p4))), 'wpk:fresh'),
    '{"Composite": {"kind": "AllOf", "members": [
        {"Composite": {"kind": "Count", "n": 2, "count_kind": "DistinctSources", "waitpoints": ["wpk:votes"]}},
        {"Single": {"waitpoint_key": "wpk:fresh"}}]}}');
SELECT results_eq($$SELECT outcome, waitpoint_index, waitpoint_key FROM s2 ORDER BY waitpoint_index$$,
                  $$VALUES ('suspended'::text, 0, 'wpk:votes'::text), ('suspended', 1, 'wpk:fresh')$$,
                  'a pending binding (FlowFabric encoding) mixed with a fresh one: suspended');
SELECT results_eq($$SELECT state, suspension_id = (SELECT suspension_id FROM s2 LIMIT 1), activated_at_ms IS NOT NULL
                     FROM ff_waitpoint WHERE waitpoint_id = (SELECT waitpoint_id FROM p4)$$,
                  $$VALUES ('active'::text, true, true)$$, 'the pending waitpoint became active in the suspension');
SELECT results_eq($$SELECT suspension_id = (SELECT suspension_id FROM s2 LIMIT 1), satisfier FROM ff_signal
                     WHERE waitpoint_id = (SELECT waitpoint_id FROM p4)$$,
                  $$VALUES (true, true)$$, 'the buffered vote now belongs to the suspension and counted');
SELECT is((SELECT effect FROM ff_deliver_signal('{fp:53}:00000000-0000-4000-8000-000000005301',
    (SELECT waitpoint_id FROM p4), (SELECT waitpoint_token FROM p4), 'vote', source_identity => 'u1')),
    'appended_to_waitpoint_duplicate', 'the same source again adds nothing');
SELECT is((SELECT effect FROM ff_deliver_signal('{fp:53}:00000000-0000-4000-8000-000000005301',
    (SELECT waitpoint_id FROM p4), (SELECT waitpoint_token FROM p4), 'vote', source_identity => 'u2')),
    'appended_to_waitpoint', 'a second source completes the count, the AllOf still waits');
SELECT results_eq($$SELECT effect, public_state FROM ff_deliver_signal('{fp:53}:00000000-0000-4000-8000-000000005301',
    (SELECT waitpoint_id FROM s2 WHERE waitpoint_index = 1), (SELECT waitpoint_token FROM s2 WHERE waitpoint_index = 1), 'go')$$,
                  $$VALUES ('resume_condition_satisfied'::text, 'waiting'::text)$$, 'the fresh waitpoint completes it');

------------------------------------------------------------------------------
-- use_pending errors
------------------------------------------------------------------------------
SELECT ff_create_execution('tap53-b', execution_id => '{fp:53}:00000000-0000-4000-8000-000000005302');
CREATE TEMP TABLE c2 AS SELECT * FROM ff_claim('tap53-b', 'w1', 'wi-1', lease_ttl_ms => 600000);
SELECT is((SELECT execution_id FROM c2), '{fp:53}:00000000-0000-4000-8000-000000005302', 'claimed the second execution');
CREATE TEMP TABLE p5 AS SELECT * FROM ff_create_waitpoint((SELECT handle FROM c2), 'wpk:soon', 1000);
SELECT throws_ok($$SELECT * FROM ff_suspend((SELECT handle FROM c2),
    jsonb_build_array(jsonb_build_object('use_pending', (SELECT waitpoint_id FROM p4))))$$,
    'YFV13', NULL, 'another execution''s waitpoint -> YFV13 invalid_waitpoint_for_execution');
SELECT throws_ok($$SELECT * FROM ff_suspend((SELECT handle FROM c2), '[{"use_pending": "00000000-0000-4000-8000-00000000dead"}]')$$,
    'YFC08', NULL, 'an unknown pending waitpoint -> YFC08 waitpoint_not_found');
SET LOCAL flowfabric.clock_offset_ms = 1500;
SELECT throws_ok($$SELECT * FROM ff_suspend((SELECT handle FROM c2),
    jsonb_build_array(jsonb_build_object('use_pending', (SELECT waitpoint_id FROM p5))))$$,
    'YFS11', NULL, 'an expired pending waitpoint -> YFS11 pending_waitpoint_expired');
SELECT throws_ok($$SELECT * FROM ff_deliver_signal('{fp:53}:00000000-0000-4000-8000-000000005302',
    (SELECT waitpoint_id FROM p5), (SELECT waitpoint_token FROM p5), 'x')$$,
    'YFS06', NULL, 'a signal to an expired pending waitpoint -> YFS06 waitpoint_closed');
SELECT is(ff_reconcile_pending_waitpoint_expiry(), 1, 'the expiry reconciler closes it');
SELECT results_eq($$SELECT state, close_reason FROM ff_waitpoint WHERE waitpoint_id = (SELECT waitpoint_id FROM p5)$$,
                  $$VALUES ('closed'::text, 'never_committed'::text)$$, 'closed: never_committed');
SELECT is(ff_reconcile_pending_waitpoint_expiry(), 0, 'a second run finds nothing');
RESET flowfabric.clock_offset_ms;
SELECT throws_ok($$SELECT ff_reconcile_pending_waitpoint_expiry(0)$$, 'YFV01', NULL, 'batch_size 0 -> YFV01');
SELECT is((SELECT public_state FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000005302'), 'active',
          'the refused suspends left the execution active');

------------------------------------------------------------------------------
-- ff_close_waitpoint
------------------------------------------------------------------------------
CREATE TEMP TABLE p6 AS SELECT * FROM ff_create_waitpoint((SELECT handle FROM c2), 'wpk:close-me', 60000);
SELECT is(ff_close_waitpoint('{fp:53}:00000000-0000-4000-8000-000000005302', (SELECT waitpoint_id FROM p6)), 'closed',
          'close_waitpoint closes');
SELECT results_eq($$SELECT state, close_reason FROM ff_waitpoint WHERE waitpoint_id = (SELECT waitpoint_id FROM p6)$$,
                  $$VALUES ('closed'::text, 'proactive_close'::text)$$, 'with the default reason');
SELECT is(ff_close_waitpoint('{fp:53}:00000000-0000-4000-8000-000000005302', (SELECT waitpoint_id FROM p6), 'again'),
          'already_closed', 'closing again: already_closed');
SELECT throws_ok($$SELECT ff_close_waitpoint('{fp:53}:00000000-0000-4000-8000-000000005302', '00000000-0000-4000-8000-00000000dead')$$,
                 'YFC08', NULL, 'an unknown waitpoint -> YFC08');
SELECT throws_ok($$SELECT ff_close_waitpoint('{fp:53}:00000000-0000-4000-8000-000000005302', (SELECT waitpoint_id FROM p4))$$,
                 'YFV13', NULL, 'another execution''s waitpoint -> YFV13');
SELECT throws_ok($$SELECT ff_close_waitpoint('{fp:53}:00000000-0000-4000-8000-0000000053ff', (SELECT waitpoint_id FROM p6))$$,
                 'YFN01', NULL, 'an unknown execution -> YFN01');
SELECT throws_ok($$SELECT ff_close_waitpoint('nope', gen_random_uuid())$$, 'YFV01', NULL, 'a malformed execution id -> YFV01');
SELECT throws_ok($$SELECT ff_close_waitpoint('{fp:53}:00000000-0000-4000-8000-000000005302', (SELECT waitpoint_id FROM p6), '')$$,
                 'YFV01', NULL, 'an empty reason -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_deliver_signal('{fp:53}:00000000-0000-4000-8000-000000005302',
    (SELECT waitpoint_id FROM p6), (SELECT waitpoint_token FROM p6), 'x')$$,
    'YFS06', NULL, 'a signal to a closed waitpoint -> YFS06');

------------------------------------------------------------------------------
-- ff_list_pending_waitpoints
------------------------------------------------------------------------------
SELECT throws_ok($$SELECT * FROM ff_list_pending_waitpoints('{fp:53}:00000000-0000-4000-8000-0000000053ff')$$, 'YFN01', NULL,
                 'list_returns_not_found_for_missing_execution -> YFN01');
SELECT throws_ok($$SELECT * FROM ff_list_pending_waitpoints('bogus')$$, 'YFV01', NULL, 'a malformed execution id -> YFV01');
SELECT is((SELECT count(*) FROM ff_list_pending_waitpoints('{fp:53}:00000000-0000-4000-8000-000000005302')), 0::bigint,
          'closed waitpoints are not listed');

SELECT ff_create_execution('tap53-list', execution_id => '{fp:53}:00000000-0000-4000-8000-000000005303');
CREATE TEMP TABLE c3 AS SELECT * FROM ff_claim('tap53-list', 'w1', 'wi-1', lease_ttl_ms => 600000);
CREATE TEMP TABLE s3 AS SELECT * FROM ff_suspend((SELECT handle FROM c3),
    '[{"waitpoint_id": "00000000-0000-4000-8000-00000053a001", "waitpoint_key": "wpk:lookup"}]',
    '{"Single": {"waitpoint_key": "wpk:lookup", "matcher": {"ByName": "ready"}}}');
SELECT results_eq(
    $$SELECT waitpoint_id, waitpoint_key, state, required_signal_names, created_at_ms = activated_at_ms, expires_at_ms,
             execution_id, token_kid, token_fingerprint
        FROM ff_list_pending_waitpoints('{fp:53}:00000000-0000-4000-8000-000000005303')$$,
    $$SELECT '00000000-0000-4000-8000-00000053a001'::uuid, 'wpk:lookup'::text, 'active'::text, '{ready}'::text[], true,
             NULL::bigint, '{fp:53}:00000000-0000-4000-8000-000000005303'::text, 'kid-suspend-1'::text,
             substr(waitpoint_token, length('kid-suspend-1:') + 1, 16) FROM s3$$,
    'list_returns_single_waitpoint: redacted to kid and a 16-hex fingerprint');
SELECT ok((SELECT token_fingerprint ~ '^[0-9a-f]{16}$' FROM ff_list_pending_waitpoints('{fp:53}:00000000-0000-4000-8000-000000005303')),
          'the fingerprint is 16 hex characters');

SELECT ff_create_execution('tap53-list', execution_id => '{fp:53}:00000000-0000-4000-8000-000000005304');
CREATE TEMP TABLE c4 AS SELECT * FROM ff_claim('tap53-list', 'w1', 'wi-1', lease_ttl_ms => 600000);
SELECT is((SELECT count(*) FROM ff_suspend((SELECT handle FROM c4), '["a", "b", "c"]')), 3::bigint,
          'AllOf over three waitpoints');
CREATE TEMP TABLE page1 AS SELECT * FROM ff_list_pending_waitpoints('{fp:53}:00000000-0000-4000-8000-000000005304', max_results => 2);
SELECT is((SELECT count(*) FROM page1), 2::bigint, 'list_paginates_with_cursor: the first page has 2');
CREATE TEMP TABLE page2 AS SELECT * FROM ff_list_pending_waitpoints('{fp:53}:00000000-0000-4000-8000-000000005304',
                                                                    after => (SELECT waitpoint_id FROM page1 ORDER BY waitpoint_id DESC LIMIT 1), max_results => 2);
SELECT is((SELECT count(*) FROM page2), 1::bigint, 'the second page has the last one');
SELECT ok((SELECT waitpoint_id FROM page1 ORDER BY waitpoint_id DESC LIMIT 1) < (SELECT waitpoint_id FROM page2 ORDER BY waitpoint_id LIMIT 1),
          'pages are in waitpoint id order');
SELECT is((SELECT array_agg(waitpoint_id ORDER BY waitpoint_id) FROM (SELECT waitpoint_id FROM page1 UNION ALL SELECT waitpoint_id FROM page2) u),
          (SELECT array_agg(waitpoint_id ORDER BY waitpoint_id) FROM ff_waitpoint WHERE execution_id = '00000000-0000-4000-8000-000000005304'),
          'together they are all three');
SELECT is((SELECT count(*) FROM ff_list_pending_waitpoints('{fp:53}:00000000-0000-4000-8000-000000005304', max_results => 0)), 1::bigint,
          'max_results is clamped to at least 1');

SELECT * FROM finish();
ROLLBACK;

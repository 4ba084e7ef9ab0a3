-- ff_deliver_signal and ff_deliver_approval_signal: every rejection and its
-- SQLSTATE (token checks before state checks), every effect, idempotency,
-- the all-of / any-of / count conditions, resume delay, rotation grace end
-- to end, and the signal-event outbox rows.
BEGIN;
SELECT plan(88);

DELETE FROM ff_waitpoint_hmac;
SELECT ff_seed_waitpoint_hmac_secret('kid-1', repeat('ab', 32));

CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END $$;

-- suspended(n, waitpoints, condition[, extra]): create, claim and suspend
-- execution {fp:54}:...54nn on its own lane; the waitpoints go to table wpNN.
CREATE FUNCTION pg_temp.suspended(n int, wps jsonb, cond jsonb, extra text DEFAULT '') RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    id text := format('{fp:54}:00000000-0000-4000-8000-0000000054%s', lpad(n::text, 2, '0'));
    lane text := 'tap54-' || n;
BEGIN
    PERFORM ff_create_execution(lane, execution_id => id, namespace => 'ns54');
    EXECUTE format('CREATE TEMP TABLE c%s AS SELECT * FROM ff_claim(%L, ''w'', ''wi'', lease_ttl_ms => 600000)', n, lane);
    EXECUTE format('CREATE TEMP TABLE wp%s AS SELECT * FROM ff_suspend((SELECT handle FROM c%s), %L, %L %s)',
                   n, n, wps, cond, extra);
    RETURN id;
END $$;

-- sig(n, key, name[, extra]): deliver to execution n's waitpoint with that key; returns the effect
CREATE FUNCTION pg_temp.sig(n int, key text, name text, extra text DEFAULT '') RETURNS text
LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    EXECUTE format('SELECT effect FROM ff_deliver_signal(%L, (SELECT waitpoint_id FROM wp%s WHERE waitpoint_key = %L),
                        (SELECT waitpoint_token FROM wp%s WHERE waitpoint_key = %L), %L %s)',
                   format('{fp:54}:00000000-0000-4000-8000-0000000054%s', lpad(n::text, 2, '0')), n, key, n, key, name, extra)
       INTO r;
    RETURN r;
END $$;

CREATE FUNCTION pg_temp.state(n int) RETURNS text LANGUAGE sql AS $$
    SELECT public_state FROM ff_execution WHERE execution_id = format('00000000-0000-4000-8000-0000000054%s', lpad(n::text, 2, '0'))::uuid
$$;

------------------------------------------------------------------------------
-- Single / ByName (suspend_then_deliver_single_resumes_execution)
------------------------------------------------------------------------------
SELECT pg_temp.suspended(1, '["wpk:a"]', '{"Single": {"waitpoint_key": "wpk:a", "matcher": {"ByName": "ready"}}}');
SELECT is(pg_temp.sig(1, 'wpk:a', 'other'), 'signal_ignored_matcher_failed', 'a non-matching name is recorded and ignored');
SELECT is(pg_temp.state(1), 'suspended', 'still suspended');
SELECT results_eq(
    $$SELECT result, effect, public_state FROM ff_deliver_signal('{fp:54}:00000000-0000-4000-8000-000000005401',
        (SELECT waitpoint_id FROM wp1), (SELECT waitpoint_token FROM wp1), 'ready',
        signal_id => '00000000-0000-4000-8000-0000000054a1', idempotency_key => 'deliver-1',
        payload => '\x01'::bytea, correlation_id => 'corr-1', source_type => 'webhook', source_identity => 'github')$$,
    $$VALUES ('accepted'::text, 'resume_condition_satisfied'::text, 'waiting'::text)$$,
    'the matching name satisfies it: the execution is waiting (claimable) again');
SELECT results_eq(
    $$SELECT lifecycle_phase, ownership_state, eligibility_state, blocking_reason, terminal_outcome, attempt_state
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000005401'$$,
    $$VALUES ('runnable'::text, 'unowned'::text, 'eligible_now'::text, 'waiting_for_worker'::text, 'none'::text,
              'attempt_interrupted'::text)$$,
    'runnable/unowned/eligible_now/waiting_for_worker/none/attempt_interrupted');
SELECT results_eq(
    $$SELECT close_reason, closer_signal_id FROM ff_suspension WHERE execution_id = '00000000-0000-4000-8000-000000005401'$$,
    $$VALUES ('resumed'::text, '00000000-0000-4000-8000-0000000054a1'::uuid)$$, 'the suspension closed: resumed, by that signal');
SELECT results_eq(
    $$SELECT state, close_reason, signal_count FROM ff_waitpoint WHERE execution_id = '00000000-0000-4000-8000-000000005401'$$,
    $$VALUES ('closed'::text, 'resumed'::text, 2)$$, 'its waitpoint closed after two signals');
SELECT results_eq(
    $$SELECT signal_name, effect, satisfier, waitpoint_key, source_type, source_identity, correlation_id, payload
        FROM ff_signal WHERE execution_id = '00000000-0000-4000-8000-000000005401' ORDER BY seq$$,
    $$VALUES ('other'::text, 'signal_ignored_matcher_failed'::text, false, 'wpk:a'::text, 'external'::text, ''::text, NULL::text, NULL::bytea),
             ('ready', 'resume_condition_satisfied', true, 'wpk:a', 'webhook', 'github', 'corr-1', '\x01'::bytea)$$,
    'both signals are recorded with what they did');
SELECT results_eq(
    $$SELECT signal_id, waitpoint_id = (SELECT waitpoint_id FROM wp1), signal_name, source_type, source_identity, effect,
             namespace, lane_id
        FROM ff_signal_event WHERE execution_id = '00000000-0000-4000-8000-000000005401' ORDER BY event_id$$,
    $$VALUES ((SELECT signal_id FROM ff_signal WHERE signal_name = 'other' AND execution_id = '00000000-0000-4000-8000-000000005401'),
              true, 'other'::text, 'external'::text, ''::text, 'signal_ignored_matcher_failed'::text, 'ns54'::text, 'tap54-1'::text),
             ('00000000-0000-4000-8000-0000000054a1'::uuid, true, 'ready', 'webhook', 'github', 'resume_condition_satisfied', 'ns54', 'tap54-1')$$,
    'one signal event per accepted signal, with its effect');
SELECT is((SELECT count(*) FROM ff_completion_event WHERE execution_id = '00000000-0000-4000-8000-000000005401'), 0::bigint,
          'resuming is not a completion');
-- retries after the satisfying signal
SELECT results_eq(
    $$SELECT result, signal_id, effect FROM ff_deliver_signal('{fp:54}:00000000-0000-4000-8000-000000005401',
        (SELECT waitpoint_id FROM wp1), (SELECT waitpoint_token FROM wp1), 'ready', idempotency_key => 'deliver-1')$$,
    $$VALUES ('duplicate'::text, '00000000-0000-4000-8000-0000000054a1'::uuid, 'duplicate'::text)$$,
    'a retry with the same idempotency key is a duplicate (not waitpoint_closed) with the first signal id');
SELECT results_eq(
    $$SELECT result, signal_id FROM ff_deliver_signal('{fp:54}:00000000-0000-4000-8000-000000005401',
        (SELECT waitpoint_id FROM wp1), (SELECT waitpoint_token FROM wp1), 'ready', signal_id => '00000000-0000-4000-8000-0000000054a1')$$,
    $$VALUES ('duplicate'::text, '00000000-0000-4000-8000-0000000054a1'::uuid)$$,
    'so is a retry with the same signal id');
SELECT is((SELECT count(*) FROM ff_signal_event WHERE execution_id = '00000000-0000-4000-8000-000000005401'), 2::bigint,
          'duplicates write no event');
SELECT matches(pg_temp.err($$SELECT * FROM ff_deliver_signal('{fp:54}:00000000-0000-4000-8000-000000005401',
        (SELECT waitpoint_id FROM wp1), (SELECT waitpoint_token FROM wp1), 'ready')$$),
    '^YFS06 waitpoint_closed: ', 'a new signal to the resumed execution''s waitpoint -> YFS06 waitpoint_closed');
SELECT is(pg_temp.state(1), 'waiting', 'and it did not change the resumed execution');

------------------------------------------------------------------------------
-- token and target checks, in order
------------------------------------------------------------------------------
SELECT pg_temp.suspended(2, '["wpk:a", "wpk:b"]', NULL);
SELECT pg_temp.suspended(3, '["wpk:a"]', NULL);
CREATE FUNCTION pg_temp.d(exec text, wp text, token text, extra text DEFAULT '') RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.err(format('SELECT * FROM ff_deliver_signal(%s, %s, %s, ''s'' %s)', exec, wp, token, extra))
$$;
SELECT matches(pg_temp.d('''{fp:54}:00000000-0000-4000-8000-000000005402''', '(SELECT waitpoint_id FROM wp2 LIMIT 1)', 'NULL'),
               '^YFV08 invalid_token: missing_token', 'NULL token -> YFV08 missing_token');
SELECT matches(pg_temp.d('''{fp:54}:00000000-0000-4000-8000-000000005402''', '(SELECT waitpoint_id FROM wp2 LIMIT 1)', ''''''),
               '^YFV08 invalid_token: missing_token', 'empty token -> YFV08');
SELECT matches(pg_temp.d('''{fp:54}:00000000-0000-4000-8000-000000005402''', '(SELECT waitpoint_id FROM wp2 LIMIT 1)', '''no-colon-token'''),
               '^YFV08 invalid_token: token malformed', 'no colon -> YFV08 malformed');
SELECT matches(pg_temp.d('''{fp:54}:00000000-0000-4000-8000-000000005402''', '(SELECT waitpoint_id FROM wp2 LIMIT 1)', '''kid-1:zz'''),
               '^YFV08 invalid_token: token malformed', 'short / non-hex digest -> YFV08 malformed');
SELECT matches(pg_temp.d('''{fp:54}:00000000-0000-4000-8000-000000005402''', '(SELECT waitpoint_id FROM wp2 LIMIT 1)', ''':' || repeat('a', 64) || ''''),
               '^YFV08 invalid_token: token malformed', 'empty kid -> YFV08 malformed');
SELECT matches(pg_temp.d('''nope''', '(SELECT waitpoint_id FROM wp2 LIMIT 1)', '(SELECT waitpoint_token FROM wp2 LIMIT 1)'),
               '^YFV01 invalid_input: ', 'malformed execution id -> YFV01');
SELECT matches(pg_temp.d('''{fp:54}:00000000-0000-4000-8000-000000005402''', 'NULL', '(SELECT waitpoint_token FROM wp2 LIMIT 1)'),
               '^YFV01 invalid_input: waitpoint_id must not be null', 'NULL waitpoint -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_deliver_signal('{fp:54}:00000000-0000-4000-8000-000000005402',
        (SELECT waitpoint_id FROM wp2 LIMIT 1), (SELECT waitpoint_token FROM wp2 LIMIT 1), '')$$),
               '^YFV01 invalid_input: signal_name must not be empty', 'empty signal name -> YFV01');
SELECT matches(pg_temp.d('''{fp:54}:00000000-0000-4000-8000-000000005402''', '(SELECT waitpoint_id FROM wp2 LIMIT 1)',
                         '(SELECT waitpoint_token FROM wp2 LIMIT 1)', ', payload => decode(repeat(''00'', 65537), ''hex'')'),
               '^YFV05 payload_too_large', 'a payload over 64 KiB -> YFV05');
SELECT matches(pg_temp.d('''{fp:54}:00000000-0000-4000-8000-000000005402''', '(SELECT waitpoint_id FROM wp2 LIMIT 1)',
                         '(SELECT waitpoint_token FROM wp2 LIMIT 1)', ', dedup_ttl_ms => -1'),
               '^YFV01 invalid_input: dedup_ttl_ms', 'negative dedup_ttl_ms -> YFV01');
SELECT matches(pg_temp.d('''{fp:54}:00000000-0000-4000-8000-000000005402''', '(SELECT waitpoint_id FROM wp2 LIMIT 1)',
                         '(SELECT waitpoint_token FROM wp2 LIMIT 1)', ', resume_delay_ms => -1'),
               '^YFV01 invalid_input: resume_delay_ms', 'negative resume_delay_ms -> YFV01');
SELECT matches(pg_temp.d('''{fp:54}:00000000-0000-4000-8000-0000000054ff''', '(SELECT waitpoint_id FROM wp2 LIMIT 1)', '(SELECT waitpoint_token FROM wp2 LIMIT 1)'),
               '^YFN01 execution_not_found', 'unknown execution -> YFN01');
SELECT matches(pg_temp.d('''{fp:54}:00000000-0000-4000-8000-000000005402''', '''00000000-0000-4000-8000-00000000dead''', '(SELECT waitpoint_token FROM wp2 LIMIT 1)'),
               '^YFC08 waitpoint_not_found', 'unknown waitpoint -> YFC08 (retryable)');
SELECT matches(pg_temp.d('''{fp:54}:00000000-0000-4000-8000-000000005402''', '(SELECT waitpoint_id FROM wp3)', '(SELECT waitpoint_token FROM wp3)'),
               '^YFV13 invalid_waitpoint_for_execution', 'another execution''s waitpoint (and token) -> YFV13 wrong execution');
SELECT matches(pg_temp.d('''{fp:54}:00000000-0000-4000-8000-000000005402''', '(SELECT waitpoint_id FROM wp2 WHERE waitpoint_index = 0)',
                         '(SELECT waitpoint_token FROM wp2 WHERE waitpoint_index = 1)'),
               '^YFV08 invalid_token: HMAC signature mismatch', 'the token of the other waitpoint -> YFV08 bad signature');
SELECT matches(pg_temp.d('''{fp:54}:00000000-0000-4000-8000-000000005402''', '(SELECT waitpoint_id FROM wp2 WHERE waitpoint_index = 0)',
                         '(SELECT left(waitpoint_token, -1) || CASE right(waitpoint_token, 1) WHEN ''0'' THEN ''1'' ELSE ''0'' END FROM wp2 WHERE waitpoint_index = 0)'),
               '^YFV08 invalid_token: HMAC signature mismatch', 'a tampered token -> YFV08');
SELECT matches(pg_temp.d('''{fp:54}:00000000-0000-4000-8000-000000005402''', '(SELECT waitpoint_id FROM wp2 WHERE waitpoint_index = 0)',
                         '(SELECT ''kid-9:'' || split_part(waitpoint_token, '':'', 2) FROM wp2 WHERE waitpoint_index = 0)'),
               '^YFV20 invalid_kid: ', 'an unknown kid -> YFV20');
SELECT is((SELECT count(*) FROM ff_signal WHERE execution_id = '00000000-0000-4000-8000-000000005402'), 0::bigint,
          'no rejected delivery recorded a signal');

-- the signal limit
SELECT is(pg_temp.sig(2, 'wpk:a', 'one', ', max_signals_per_execution => 1'), 'appended_to_waitpoint', 'the first signal is within a limit of 1');
SELECT matches(pg_temp.err($$SELECT pg_temp.sig(2, 'wpk:b', 'two', ', max_signals_per_execution => 1')$$),
               '^YFV06 signal_limit_exceeded', 'the second exceeds it -> YFV06');
SELECT is(pg_temp.sig(2, 'wpk:b', 'two', ', max_signals_per_execution => 0'), 'resume_condition_satisfied', '0 disables the limit');

-- a terminal execution: target_not_signalable, checked after the token
SELECT pg_temp.suspended(4, '["wpk:a"]', NULL);
UPDATE ff_execution SET deadline_at_ms = ff_server_time_ms() - 1 WHERE execution_id = '00000000-0000-4000-8000-000000005404';
SELECT is(ff_reconcile_execution_deadline(), 1, 'the execution deadline expires the suspended execution');
SELECT results_eq($$SELECT public_state, terminal_outcome FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000005404'$$,
                  $$VALUES ('expired'::text, 'expired'::text)$$, 'it is expired');
SELECT results_eq($$SELECT s.close_reason, w.state, w.close_reason FROM ff_suspension s JOIN ff_waitpoint w USING (partition_key, execution_id)
                     WHERE s.execution_id = '00000000-0000-4000-8000-000000005404'$$,
                  $$VALUES ('execution_expired'::text, 'closed'::text, 'execution_expired'::text)$$,
                  'the terminal transition closed its suspension and waitpoint');
SELECT matches(pg_temp.d('''{fp:54}:00000000-0000-4000-8000-000000005404''', '(SELECT waitpoint_id FROM wp4)', '(SELECT waitpoint_token FROM wp4)'),
               '^YFS07 target_not_signalable', 'a valid token on a terminal execution -> YFS07');
SELECT matches(pg_temp.d('''{fp:54}:00000000-0000-4000-8000-000000005404''', '(SELECT waitpoint_id FROM wp4)', '(SELECT waitpoint_token FROM wp1)'),
               '^YFV08 invalid_token', 'a bad token on a terminal execution gets the auth error, not the state error');

------------------------------------------------------------------------------
-- AllOf
------------------------------------------------------------------------------
SELECT pg_temp.suspended(5, '["wpk:a", "wpk:b"]', '{"Composite": {"kind": "AllOf", "members": [
    {"Single": {"waitpoint_key": "wpk:a"}}, {"Single": {"waitpoint_key": "wpk:b"}}]}}');
SELECT is(pg_temp.sig(5, 'wpk:a', 'x'), 'appended_to_waitpoint', 'allof_two_waitpoints_requires_both: a -> appended');
SELECT is(pg_temp.sig(5, 'wpk:a', 'y'), 'appended_to_waitpoint_duplicate', 'a again -> duplicate member');
SELECT is(pg_temp.state(5), 'suspended', 'still suspended');
SELECT is(pg_temp.sig(5, 'wpk:b', 'z'), 'resume_condition_satisfied', 'b (the extra waitpoint''s token) -> satisfied');

SELECT pg_temp.suspended(6, '["wpk:a"]', '{"Composite": {"kind": "AllOf", "members": [
    {"Single": {"waitpoint_key": "wpk:a", "matcher": {"ByName": "x"}}},
    {"Single": {"waitpoint_key": "wpk:a", "matcher": {"ByName": "y"}}}]}}');
SELECT is(pg_temp.sig(6, 'wpk:a', 'x'), 'appended_to_waitpoint', 'AllOf of two matchers on one waitpoint: x');
SELECT is(pg_temp.sig(6, 'wpk:a', 'x'), 'appended_to_waitpoint_duplicate', 'x again -> appended_to_waitpoint_duplicate');
SELECT is(pg_temp.sig(6, 'wpk:a', 'q'), 'signal_ignored_matcher_failed', 'q matches neither');
SELECT is(pg_temp.sig(6, 'wpk:a', 'y'), 'resume_condition_satisfied', 'y completes it');

SELECT pg_temp.suspended(7, '["a", "b", "c"]', NULL);
SELECT is(pg_temp.sig(7, 'a', 's') || ',' || pg_temp.sig(7, 'b', 's') || ',' || pg_temp.sig(7, 'c', 's'),
          'appended_to_waitpoint,appended_to_waitpoint,resume_condition_satisfied', 'AllOf over three waitpoints (the default condition)');

------------------------------------------------------------------------------
-- AnyOf, and any-of as Count{n: 1, DistinctWaitpoints}
------------------------------------------------------------------------------
SELECT pg_temp.suspended(8, '["wpk:yes", "wpk:no"]', '{"Composite": {"kind": "AnyOf", "members": [
    {"Single": {"waitpoint_key": "wpk:yes", "matcher": {"ByName": "approve"}}},
    {"Single": {"waitpoint_key": "wpk:no"}}]}}');
SELECT is(pg_temp.sig(8, 'wpk:yes', 'maybe'), 'signal_ignored_matcher_failed', 'AnyOf: a non-matching name on the first branch');
SELECT is(pg_temp.sig(8, 'wpk:no', 'anything'), 'resume_condition_satisfied', 'AnyOf: the second branch alone satisfies it');

SELECT pg_temp.suspended(9, '["a", "b", "c"]', '{"Composite": {"kind": "Count", "n": 1, "count_kind": "DistinctWaitpoints",
    "waitpoints": ["a", "b", "c"]}}');
SELECT is(pg_temp.sig(9, 'c', 's'), 'resume_condition_satisfied', 'any-of as Count n=1 DistinctWaitpoints: one signal anywhere');

------------------------------------------------------------------------------
-- Count
------------------------------------------------------------------------------
SELECT pg_temp.suspended(10, '["wpk:a"]', '{"Composite": {"kind": "Count", "n": 2, "count_kind": "DistinctSources", "waitpoints": ["wpk:a"]}}');
SELECT is(pg_temp.sig(10, 'wpk:a', 'v', ', source_identity => ''src1'''), 'appended_to_waitpoint',
          'composite_count_distinct_sources_requires_distinct: src1');
SELECT is(pg_temp.sig(10, 'wpk:a', 'v', ', source_identity => ''src1'''), 'appended_to_waitpoint_duplicate', 'src1 again does not count');
SELECT is(pg_temp.sig(10, 'wpk:a', 'v', ', source_identity => ''src1'', source_type => ''bot'''), 'resume_condition_satisfied',
          'the same identity with another source type is another source');

SELECT pg_temp.suspended(11, '["wpk:a"]', '{"Composite": {"kind": "Count", "n": 2, "count_kind": "DistinctSignals", "waitpoints": ["wpk:a"]}}');
SELECT is(pg_temp.sig(11, 'wpk:a', 'v', ', signal_id => ''00000000-0000-4000-8000-0000000054b1'''), 'appended_to_waitpoint', 'DistinctSignals: one');
SELECT is((SELECT result FROM ff_deliver_signal('{fp:54}:00000000-0000-4000-8000-000000005411', (SELECT waitpoint_id FROM wp11),
             (SELECT waitpoint_token FROM wp11), 'v', signal_id => '00000000-0000-4000-8000-0000000054b1')),
          'duplicate', 'the same signal id again is a duplicate and does not count');
SELECT is(pg_temp.sig(11, 'wpk:a', 'v'), 'resume_condition_satisfied', 'a second distinct signal satisfies it');

SELECT pg_temp.suspended(12, '["a", "b", "c"]', '{"Composite": {"kind": "Count", "n": 2, "count_kind": "DistinctWaitpoints",
    "matcher": {"ByName": "ok"}, "waitpoints": ["a", "b", "c"]}}');
SELECT is(pg_temp.sig(12, 'a', 'ok'), 'appended_to_waitpoint', 'DistinctWaitpoints: a');
SELECT is(pg_temp.sig(12, 'a', 'ok'), 'appended_to_waitpoint_duplicate', 'a again');
SELECT is(pg_temp.sig(12, 'b', 'nope'), 'signal_ignored_matcher_failed', 'Count matcher rejects -> signal_ignored_matcher_failed');
SELECT is(pg_temp.sig(12, 'c', 'ok'), 'resume_condition_satisfied', 'a second waitpoint satisfies it');
SELECT results_eq($$SELECT signal_name, satisfier FROM ff_signal WHERE execution_id = '00000000-0000-4000-8000-000000005412' ORDER BY seq$$,
                  $$VALUES ('ok'::text, true), ('ok', false), ('nope', false), ('ok', true)$$,
                  'only the signals that advanced the condition are satisfiers');

------------------------------------------------------------------------------
-- never by signal: OperatorOnly / TimeoutOnly
------------------------------------------------------------------------------
SELECT pg_temp.suspended(13, '["wpk:op"]', '"OperatorOnly"');
SELECT is(pg_temp.sig(13, 'wpk:op', 'please'), 'signal_ignored_not_in_condition', 'OperatorOnly: signals are ignored');
SELECT is(pg_temp.state(13), 'suspended', 'still suspended');
SELECT pg_temp.suspended(14, '["wpk:t"]', '"TimeoutOnly"', ', timeout_at => ff_server_time_ms() + 60000');
SELECT is(pg_temp.sig(14, 'wpk:t', 'please'), 'signal_ignored_not_in_condition', 'TimeoutOnly: signals are ignored');

------------------------------------------------------------------------------
-- resume delay: the signal's, else the suspension's policy
------------------------------------------------------------------------------
SELECT pg_temp.suspended(15, '["wpk:a"]', NULL);
SELECT is(pg_temp.sig(15, 'wpk:a', 'go', ', resume_delay_ms => 5000'), 'resume_condition_satisfied', 'satisfied with a 5 s resume delay');
SELECT results_eq(
    $$SELECT lifecycle_phase, eligibility_state, blocking_reason, attempt_state, public_state,
             delay_until_ms - last_mutation_at_ms
        FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000005415'$$,
    $$VALUES ('runnable'::text, 'not_eligible_until_time'::text, 'waiting_for_resume_delay'::text,
              'attempt_interrupted'::text, 'delayed'::text, 5000::bigint)$$,
    'runnable/not_eligible_until_time/waiting_for_resume_delay -> delayed, for 5 s');
SELECT is((SELECT count(*) FROM ff_claim('tap54-15', 'w', 'wi')), 0::bigint, 'not claimable during the delay');
SET LOCAL flowfabric.clock_offset_ms = 6000;
SELECT is(ff_reconcile_delayed_promotion(), 1, 'promoted after the delay');
RESET flowfabric.clock_offset_ms;
SELECT is(pg_temp.state(15), 'waiting', 'waiting');

SELECT pg_temp.suspended(16, '["wpk:a"]', NULL, ', resume_policy => ''{"resume_delay_ms": 3000, "resume_target": "runnable",
    "consume_matched_signals": true, "close_waitpoint_on_resume": true, "retain_signal_buffer_until_closed": false}''');
SELECT is(pg_temp.sig(16, 'wpk:a', 'go'), 'resume_condition_satisfied', 'satisfied under a resume policy with a 3 s delay');
SELECT results_eq($$SELECT public_state, delay_until_ms - last_mutation_at_ms FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000005416'$$,
                  $$VALUES ('delayed'::text, 3000::bigint)$$, 'the policy''s resume delay applies');

------------------------------------------------------------------------------
-- rotation grace, end to end
------------------------------------------------------------------------------
SELECT pg_temp.suspended(17, '["a", "b", "c"]', NULL);
SELECT is((SELECT outcome FROM ff_rotate_waitpoint_hmac_secret_all('kid-2', repeat('cd', 32), 60000)), 'rotated', 'rotate to kid-2, 60 s grace');
SELECT is((SELECT previous_kid FROM ff_rotate_waitpoint_hmac_secret_all('kid-2b', repeat('c0', 32), 60000)), 'kid-2',
          'and at once to kid-2b (rapid rotation A -> B -> C)');
SELECT is(pg_temp.sig(17, 'a', 's'), 'appended_to_waitpoint', 'the first kid''s token is accepted inside its grace');
SET LOCAL flowfabric.clock_offset_ms = 61000;
SELECT matches(pg_temp.err($$SELECT pg_temp.sig(17, 'b', 's')$$), '^YFV27 token_expired: ', 'rejected past grace -> YFV27 token_expired');
SELECT is((SELECT gc_count FROM ff_rotate_waitpoint_hmac_secret_all('kid-3', repeat('ef', 32), 60000)), 2,
          'the next rotation deletes kid-1 and kid-2');
SELECT matches(pg_temp.err($$SELECT pg_temp.sig(17, 'b', 's')$$), '^YFV20 invalid_kid: ', 'once deleted its tokens fail with YFV20 invalid_kid');
RESET flowfabric.clock_offset_ms;
SELECT is((SELECT split_part(waitpoint_token, ':', 1) FROM ff_create_waitpoint(
              (SELECT handle FROM ff_claim('tap54-1', 'w', 'wi')), 'k', 1000)), 'kid-3', 'new tokens are signed by the current kid');

------------------------------------------------------------------------------
-- ff_deliver_approval_signal
------------------------------------------------------------------------------
SELECT pg_temp.suspended(18, '["wpk:approval"]', '{"Single": {"waitpoint_key": "wpk:approval", "matcher": {"ByName": "approved"}}}',
                         ', reason_code => ''waiting_for_approval''');
SELECT results_eq($$SELECT result, effect, public_state FROM ff_deliver_approval_signal('{fp:54}:00000000-0000-4000-8000-000000005418',
                      'tap54-18', (SELECT waitpoint_id FROM wp18), 'rejected', 'r1')$$,
                  $$VALUES ('accepted'::text, 'signal_ignored_matcher_failed'::text, 'suspended'::text)$$,
                  'rejected_path_appends_without_resume');
SELECT results_eq($$SELECT signal_category, source_type, source_identity, idempotency_key FROM ff_signal
                     WHERE execution_id = '00000000-0000-4000-8000-000000005418'$$,
                  $$VALUES ('approval'::text, 'operator'::text, ''::text, 'approval:rejected:r1'::text)$$,
                  'an approval is category approval from the operator, keyed approval:<name>:<suffix>');
SELECT is((SELECT result FROM ff_deliver_approval_signal('{fp:54}:00000000-0000-4000-8000-000000005418',
              'tap54-18', (SELECT waitpoint_id FROM wp18), 'rejected', 'r1')), 'duplicate', 'an approval replay is a duplicate');
SELECT matches(pg_temp.err($$SELECT * FROM ff_deliver_approval_signal('{fp:54}:00000000-0000-4000-8000-000000005418',
                   'not-default', (SELECT waitpoint_id FROM wp18), 'approved', 'a1')$$),
               '^YFV01 invalid_input: lane_mismatch: ', 'lane_mismatch_is_validation_error');
SELECT matches(pg_temp.err($$SELECT * FROM ff_deliver_approval_signal('{fp:54}:00000000-0000-4000-8000-000000005418',
                   'tap54-18', '00000000-0000-4000-8000-00000000dead', 'approved', 'a1')$$),
               '^YFC08 waitpoint_not_found', 'missing_waitpoint_returns_not_found -> YFC08');
SELECT matches(pg_temp.err($$SELECT * FROM ff_deliver_approval_signal('{fp:54}:00000000-0000-4000-8000-0000000054ff',
                   'tap54-18', (SELECT waitpoint_id FROM wp18), 'approved', 'a1')$$),
               '^YFN01 execution_not_found', 'unknown execution -> YFN01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_deliver_approval_signal('{fp:54}:00000000-0000-4000-8000-000000005418',
                   'tap54-18', (SELECT waitpoint_id FROM wp18), 'approved', NULL)$$),
               '^YFV01 invalid_input: idempotency_suffix', 'a NULL suffix -> YFV01');
SELECT results_eq($$SELECT result, effect, public_state FROM ff_deliver_approval_signal('{fp:54}:00000000-0000-4000-8000-000000005418',
                      'tap54-18', (SELECT waitpoint_id FROM wp18), 'approved', 'a1')$$,
                  $$VALUES ('accepted'::text, 'resume_condition_satisfied'::text, 'waiting'::text)$$,
                  'approved_path_resumes_execution');

SELECT * FROM finish();
ROLLBACK;

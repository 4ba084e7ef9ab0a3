--
-- 50_suspend_story: suspension and signals end to end, in autocommit mode,
-- so the signal-event reader (which returns only events of committed
-- transactions older than every running one) can be tested. A worker
-- suspends on an approval waitpoint (its token is the spec's test vector),
-- an outside system signals it, a worker resumes the same attempt and
-- completes; a second execution is resumed by its timeout.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS flowfabric;
RESET client_min_messages;

\set A '''{fp:7}:550e8400-e29b-41d4-a716-446655440000'''
\set B '''{fp:7}:00000000-0000-4000-8000-0000000050b0'''

-- The keystore: seeding is idempotent.
SELECT * FROM ff_seed_waitpoint_hmac_secret('kid-suspend-1', repeat('ab', 32));
SELECT * FROM ff_seed_waitpoint_hmac_secret('kid-suspend-1', repeat('ab', 32));
SELECT kid, active, expires_at_ms FROM ff_list_waitpoint_hmac_kids();

CREATE TEMP VIEW st AS
SELECT right(execution_id::text, 4) AS x, lifecycle_phase, ownership_state, eligibility_state,
       blocking_reason, terminal_outcome, attempt_state, public_state, attempt_index AS att,
       lease_epoch AS epoch
  FROM ff_execution WHERE lane_id = 'story-lane' ORDER BY execution_id;

SELECT execution_id, public_state FROM ff_create_execution('story-lane', 'order-42'::bytea, execution_id => :A);
SELECT handle AS h1 FROM ff_claim('story-lane', 'worker-1', 'worker-1/1', lease_ttl_ms => 600000) \gset

-- Suspend on an approval waitpoint; the token is HMAC-SHA256 over
-- "kid-suspend-1:{fp:7}:550e8400-...:6ba7b810-..." (spec B vector 3).
SELECT outcome, waitpoint_index, waitpoint_id, waitpoint_key, waitpoint_token
  FROM ff_suspend(:'h1',
       '[{"waitpoint_id": "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "waitpoint_key": "wpk:approval"}]',
       '{"Single": {"waitpoint_key": "wpk:approval", "matcher": {"ByName": "approved"}}}',
       reason_code => 'waiting_for_approval') \gset
SELECT :'outcome', :'waitpoint_token';
SELECT * FROM st;
SELECT execution_id, reason FROM ff_list_suspended('{fp:7}');
SELECT waitpoint_key, state, required_signal_names, token_kid, token_fingerprint
  FROM ff_list_pending_waitpoints(:A);

-- An outside system signals: first a comment, then the approval.
SELECT result, effect, public_state
  FROM ff_deliver_signal(:A, :'waitpoint_id', :'waitpoint_token', 'comment', source_identity => 'reviewer');
SELECT result, effect, public_state
  FROM ff_deliver_signal(:A, :'waitpoint_id', :'waitpoint_token', 'approved', source_identity => 'reviewer',
                         payload => '{"by": "ada"}'::bytea, idempotency_key => 'approval-1');
-- The reviewer's retry is recognised.
SELECT result, effect, public_state
  FROM ff_deliver_signal(:A, :'waitpoint_id', :'waitpoint_token', 'approved', idempotency_key => 'approval-1');
SELECT * FROM st;
SELECT count(*) AS still_listed FROM ff_list_suspended('{fp:7}');

-- The signal-event outbox, read by cursor.
SELECT execution_id, signal_name, source_identity, effect, lane_id
  FROM ff_signal_events(0) WHERE execution_id = :A;
SELECT min(event_id) AS first_event FROM ff_signal_events(0) WHERE execution_id = :A \gset
SELECT signal_name, effect FROM ff_signal_events(:first_event) WHERE execution_id = :A;
SELECT count(*) FROM ff_signal_events(:first_event, 1);
SELECT * FROM ff_signal_events(0, 0);

-- A worker claims the resumed execution: the same attempt, a new lease.
SELECT handle AS h2, attempt_index, lease_epoch, convert_from(input_payload, 'UTF8') AS input
  FROM ff_claim_resumed_execution(:A, 'worker-2', 'worker-2/1', 'story-lane', lease_ttl_ms => 600000) \gset
SELECT :attempt_index AS attempt_index, :lease_epoch AS lease_epoch, :'input' AS input;
SELECT signal_name, source_identity, convert_from(payload, 'UTF8') AS payload FROM ff_observe_signals(:'h2');
SELECT ff_complete(:'h2', 'shipped'::bytea);
SELECT * FROM st;
SELECT event_type, reason, lease_epoch FROM ff_lease_events(0) WHERE execution_id = :A;
SELECT outcome FROM ff_completion_events(0) WHERE execution_id = :A;

-- B suspends with a 1 s timeout that resumes it with a timeout signal.
SELECT execution_id, public_state FROM ff_create_execution('story-lane', execution_id => :B);
SELECT handle AS h3 FROM ff_claim('story-lane', 'worker-1', 'worker-1/1', lease_ttl_ms => 600000) \gset
SELECT outcome FROM ff_suspend(:'h3', '["wpk:callback"]', timeout_at => ff_server_time_ms() + 1000,
                               timeout_behavior => 'auto_resume_with_timeout_signal');
SELECT ff_reconcile_suspension_timeout();
SET flowfabric.clock_offset_ms = 2000;
SELECT ff_reconcile_suspension_timeout();
RESET flowfabric.clock_offset_ms;
SELECT * FROM st;
SELECT handle AS h4 FROM ff_claim('story-lane', 'worker-3', 'worker-3/1', lease_ttl_ms => 600000) \gset
SELECT signal_name, signal_category, source_identity FROM ff_observe_signals(:'h4');
SELECT ff_complete(:'h4');
SELECT ff_format_execution_id(partition_key, execution_id) AS execution_id, close_reason
  FROM ff_suspension
 WHERE ff_format_execution_id(partition_key, execution_id) IN (:A, :B)
 ORDER BY 1;

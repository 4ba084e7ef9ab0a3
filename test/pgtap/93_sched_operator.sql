-- Operator controls: ff_cancel_execution in every state (the holder's next
-- call fails as revoked, suspensions close, flows advance), ff_change_priority,
-- ff_replay_execution (replay attempt, replay limit), ff_revoke_lease, and the
-- operator-event rows each writes (spec D §11.6 / §11.7 cases included).
BEGIN;
SELECT plan(96);

DELETE FROM ff_waitpoint_hmac;
SELECT ff_seed_waitpoint_hmac_secret('k1', repeat('ab', 32));

CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END $$;
CREATE FUNCTION pg_temp.id(n int) RETURNS text LANGUAGE sql AS
$$ SELECT '{fp:93}:00000000-0000-4000-8000-' || lpad((9300 + n)::text, 12, '0') $$;
CREATE FUNCTION pg_temp.uid(n int) RETURNS uuid LANGUAGE sql AS
$$ SELECT ('00000000-0000-4000-8000-' || lpad((9300 + n)::text, 12, '0'))::uuid $$;
CREATE FUNCTION pg_temp.mk(n int, policy jsonb DEFAULT NULL, delay_until bigint DEFAULT NULL,
                           deadline bigint DEFAULT NULL) RETURNS text LANGUAGE sql AS $$
    SELECT execution_id FROM ff_create_execution('tap93-' || n, execution_id => pg_temp.id(n), policy => policy,
        delay_until => delay_until, execution_deadline_at => deadline, namespace => 'ns93')
$$;
CREATE FUNCTION pg_temp.claim(n int, ttl bigint DEFAULT 60000) RETURNS bytea LANGUAGE sql AS
$$ SELECT handle FROM ff_claim('tap93-' || n, 'w1', 'w1/1', lease_ttl_ms => ttl) $$;
CREATE FUNCTION pg_temp.vec(n int) RETURNS text LANGUAGE sql AS $$
    SELECT lifecycle_phase || '/' || ownership_state || '/' || eligibility_state || '/' || blocking_reason || '/'
           || terminal_outcome || '/' || attempt_state || '/' || public_state
      FROM ff_execution WHERE execution_id = pg_temp.uid(n) $$;
CREATE FUNCTION pg_temp.events(n int) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(event_type, ',' ORDER BY event_id) FROM ff_operator_event WHERE execution_id = pg_temp.uid(n) $$;
CREATE FUNCTION pg_temp.leases(n int) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(event_type || coalesce(':' || reason, ''), ',' ORDER BY event_id)
      FROM ff_lease_event WHERE execution_id = pg_temp.uid(n) $$;
CREATE FUNCTION pg_temp.completions(n int) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(outcome, ',' ORDER BY event_id) FROM ff_completion_event WHERE execution_id = pg_temp.uid(n) $$;

------------------------------------------------------------------------------
-- ff_cancel_execution
------------------------------------------------------------------------------
SELECT pg_temp.mk(1);
SELECT results_eq($$SELECT * FROM ff_cancel_execution(pg_temp.id(1), 'not needed')$$,
                  $$VALUES ('cancelled'::text, 'cancelled'::text, false)$$, 'cancel a waiting execution');
SELECT is(pg_temp.vec(1), 'terminal/unowned/not_applicable/none/cancelled/pending_first_attempt/cancelled',
          'terminal cancelled; it never ran, so its attempt state stays');
SELECT results_eq($$SELECT cancellation_reason, cancelled_by FROM ff_execution WHERE execution_id = pg_temp.uid(1)$$,
                  $$VALUES ('not needed'::text, 'operator_override'::text)$$, 'reason and cancelled_by (the source)');
SELECT is(pg_temp.completions(1), 'cancelled', 'completion event cancelled');
SELECT is(pg_temp.leases(1), NULL, 'no lease, no lease event');
SELECT results_eq($$SELECT event_type, namespace, lane_id, details->>'reason', details->>'source',
                           details->>'previous_public_state', (details->>'lease_revoked')::boolean
                      FROM ff_operator_event WHERE execution_id = pg_temp.uid(1)$$,
                  $$VALUES ('cancelled'::text, 'ns93'::text, 'tap93-1'::text, 'not needed'::text, 'operator_override'::text,
                           'waiting'::text, false)$$, 'operator event cancelled with its details');
SELECT results_eq($$SELECT * FROM ff_cancel_execution(pg_temp.id(1), 'again')$$,
                  $$VALUES ('already_cancelled'::text, 'cancelled'::text, false)$$, 'cancelling again: already_cancelled');
SELECT results_eq($$SELECT pg_temp.events(1), pg_temp.completions(1),
                           (SELECT cancellation_reason FROM ff_execution WHERE execution_id = pg_temp.uid(1))$$,
                  $$VALUES ('cancelled'::text, 'cancelled'::text, 'not needed'::text)$$, '... writes nothing');

-- a running execution: the lease is revoked, the holder's next call fails as revoked
SELECT pg_temp.mk(2);
CREATE TEMP TABLE h2 AS SELECT pg_temp.claim(2) AS handle;
SELECT ff_issue_claim_grant(pg_temp.id(2), 'w9', 'w9/1') WHERE false;  -- (no grant: the execution is active)
SELECT results_eq($$SELECT * FROM ff_cancel_execution(pg_temp.id(2), 'stop')$$,
                  $$VALUES ('cancelled'::text, 'cancelled'::text, true)$$, 'cancel a running execution: its lease is revoked');
SELECT is(pg_temp.vec(2), 'terminal/unowned/not_applicable/none/cancelled/attempt_terminal/cancelled', 'terminal cancelled');
SELECT results_eq($$SELECT attempt_lifecycle, end_reason, lease_expires_at_ms FROM ff_attempt WHERE execution_id = pg_temp.uid(2)$$,
                  $$VALUES ('ended_cancelled'::text, 'operator_cancel'::text, NULL::bigint)$$, 'the attempt ended, lease released');
SELECT is(pg_temp.leases(2), 'acquired,revoked:operator_cancel', 'lease events acquired, revoked');
SELECT is(pg_temp.completions(2), 'cancelled', 'completion event cancelled');
SELECT matches(pg_temp.err($$SELECT ff_complete((SELECT handle FROM h2))$$), '^YFS03 lease_revoked: ',
               'the holder''s complete fails as revoked (YFS03)');
SELECT matches(pg_temp.err($$SELECT * FROM ff_fail((SELECT handle FROM h2), 'x')$$), '^YFS03 ', '... its fail');
SELECT matches(pg_temp.err($$SELECT * FROM ff_renew((SELECT handle FROM h2))$$), '^YFS03 ', '... its renew');
SELECT matches(pg_temp.err($$SELECT ff_cancel((SELECT handle FROM h2), 'me too')$$), '^YFS03 ', '... its own cancel');
SELECT matches(pg_temp.err($$SELECT ff_progress((SELECT handle FROM h2), 50)$$), '^YFS03 ', '... its progress');
SELECT matches(pg_temp.err($$SELECT * FROM ff_cancel_execution(pg_temp.id(99))$$), '^YFN01 ', 'unknown execution -> YFN01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_cancel_execution('{fp:93}:nope')$$), '^YFV01 ', 'malformed id -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_cancel_execution(pg_temp.id(2), repeat('r', 1025))$$), '^YFV01 ', 'a reason over 1024 bytes -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_cancel_execution(pg_temp.id(2), 'x', '')$$), '^YFV01 ', 'an empty source -> YFV01');

-- a finished execution other than cancelled
SELECT pg_temp.mk(3);
SELECT ff_complete(pg_temp.claim(3));
SELECT matches(pg_temp.err($$SELECT * FROM ff_cancel_execution(pg_temp.id(3))$$),
               '^YFS23 terminal: execution .* already finished as completed', 'cancelling a completed execution -> YFS23');
SELECT is(pg_temp.events(3), NULL, '... no event');

-- source other than operator_override: a held lease is fenced by lease_epoch
SELECT pg_temp.mk(4);
CREATE TEMP TABLE h4 AS SELECT pg_temp.claim(4) AS handle;
SELECT matches(pg_temp.err($$SELECT * FROM ff_cancel_execution(pg_temp.id(4), 'x', 'lease_holder')$$),
               '^YFV01 invalid_input: lease_epoch is required', 'source lease_holder without lease_epoch -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_cancel_execution(pg_temp.id(4), 'x', 'lease_holder', 7)$$),
               '^YFS01 stale_lease: lease epoch 7', 'a wrong lease_epoch -> YFS01');
SELECT results_eq($$SELECT outcome, lease_revoked FROM ff_cancel_execution(pg_temp.id(4), 'x', 'lease_holder', 1)$$,
                  $$VALUES ('cancelled'::text, true)$$, 'the right lease_epoch cancels');
SELECT is((SELECT cancelled_by FROM ff_execution WHERE execution_id = pg_temp.uid(4)), 'lease_holder', 'cancelled_by the source');
SELECT pg_temp.mk(5, delay_until => ff_server_time_ms() + 600000);
SELECT is((SELECT outcome FROM ff_cancel_execution(pg_temp.id(5), 'x', 'flow_cascade')), 'cancelled',
          'a delayed execution (no lease: no epoch needed)');

-- a suspended execution: its suspension and waitpoint close
SELECT pg_temp.mk(6);
CREATE TEMP TABLE s6 AS SELECT * FROM ff_suspend(pg_temp.claim(6), '["wpk:a"]');
SELECT is(pg_temp.vec(6), 'suspended/unowned/not_applicable/waiting_for_signal/none/attempt_interrupted/suspended', 'suspended');
SELECT results_eq($$SELECT outcome, lease_revoked FROM ff_cancel_execution(pg_temp.id(6), 'no signal coming')$$,
                  $$VALUES ('cancelled'::text, false)$$, 'cancel a suspended execution');
SELECT results_eq($$SELECT s.close_reason, w.state, w.close_reason FROM ff_suspension s JOIN ff_waitpoint w USING (partition_key, execution_id)
                     WHERE s.execution_id = pg_temp.uid(6)$$,
                  $$VALUES ('execution_cancelled'::text, 'closed'::text, 'execution_cancelled'::text)$$,
                  'the suspension and its waitpoint are closed');
SELECT is(pg_temp.completions(6), 'cancelled', 'completion event cancelled');

-- an execution whose lease expired (reclaimable) and one with a grant
SELECT pg_temp.mk(7);
SELECT pg_temp.claim(7, 1000);
SET LOCAL flowfabric.clock_offset_ms = 2000;
SELECT ff_reconcile_lease_expiry();
SET LOCAL flowfabric.clock_offset_ms = 0;
CREATE TEMP TABLE g7 AS SELECT * FROM ff_issue_reclaim_grant(pg_temp.id(7), 'w2', 'w2/1');
SELECT results_eq($$SELECT outcome, lease_revoked FROM ff_cancel_execution(pg_temp.id(7))$$,
                  $$VALUES ('cancelled'::text, false)$$, 'cancel an execution awaiting reclaim: no live lease to revoke');
SELECT is(pg_temp.leases(7), 'acquired,expired:lease_expired', 'no lease event from the cancel');
SELECT is((SELECT count(*) FROM ff_claim_grant WHERE execution_id = pg_temp.uid(7)), 0::bigint, 'its grants are deleted');
SELECT matches(pg_temp.err($$SELECT * FROM ff_reclaim_execution(pg_temp.id(7), (SELECT grant_key FROM g7), 'w2', 'w2/1')$$),
               '^YFC05 ', 'the reclaim grant is gone -> YFC05');

-- a flow member: cancelling it advances its flow (its downstream is skipped)
SELECT ff_create_flow('f9300000-0000-4000-8000-000000000001');
SELECT ff_create_execution('tap93-flow', execution_id => ff_new_flow_execution_id('f9300000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000009311'));
SELECT ff_create_execution('tap93-flow-b', execution_id => ff_new_flow_execution_id('f9300000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000009312'));
SELECT ff_add_execution_to_flow('f9300000-0000-4000-8000-000000000001', ff_new_flow_execution_id('f9300000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000009311'));
SELECT ff_add_execution_to_flow('f9300000-0000-4000-8000-000000000001', ff_new_flow_execution_id('f9300000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000009312'));
SELECT ff_stage_dependency_edge('f9300000-0000-4000-8000-000000000001', 'e9300000-0000-4000-8000-000000000001',
    ff_new_flow_execution_id('f9300000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000009311'),
    ff_new_flow_execution_id('f9300000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000009312'),
    (SELECT graph_revision FROM ff_flow WHERE flow_id = 'f9300000-0000-4000-8000-000000000001'));
SELECT ff_apply_dependency_to_child('f9300000-0000-4000-8000-000000000001', 'e9300000-0000-4000-8000-000000000001',
    ff_new_flow_execution_id('f9300000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000009312'));
CREATE TEMP TABLE hf AS SELECT handle FROM ff_claim('tap93-flow', 'w1', 'w1/1');
SELECT is((SELECT public_state FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000009312'), 'waiting_children',
          'the downstream member waits for its upstream');
SELECT is((SELECT outcome FROM ff_cancel_execution(ff_new_flow_execution_id('f9300000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000009311'))),
          'cancelled', 'the operator cancels the running upstream member');
SELECT is((SELECT public_state FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000009312'), 'skipped',
          'the flow advanced: the downstream member is skipped');
SELECT results_eq($$SELECT outcome, flow_id FROM ff_completion_event WHERE execution_id = '00000000-0000-4000-8000-000000009311'$$,
                  $$VALUES ('cancelled'::text, 'f9300000-0000-4000-8000-000000000001'::uuid)$$, 'the member''s completion event carries its flow');
SELECT matches(pg_temp.err($$SELECT ff_complete((SELECT handle FROM hf))$$), '^YFS03 ', 'the member''s holder gets lease_revoked');

------------------------------------------------------------------------------
-- ff_change_priority
------------------------------------------------------------------------------
SELECT pg_temp.mk(20);
SELECT results_eq($$SELECT * FROM ff_change_priority(pg_temp.id(20), 5000)$$, $$VALUES (0, 5000)$$,
                  'change_priority: old 0, new 5000');
SELECT is((SELECT priority FROM ff_execution WHERE execution_id = pg_temp.uid(20)), 5000, 'stored');
SELECT results_eq($$SELECT event_type, (details->>'old_priority')::int, (details->>'new_priority')::int
                      FROM ff_operator_event WHERE execution_id = pg_temp.uid(20)$$,
                  $$VALUES ('priority_changed'::text, 0, 5000)$$, 'one priority_changed event');
SELECT results_eq($$SELECT * FROM ff_change_priority(pg_temp.id(20), 99999)$$, $$VALUES (5000, 9000)$$, 'clamped to 9000');
SELECT results_eq($$SELECT * FROM ff_change_priority(pg_temp.id(20), -3)$$, $$VALUES (9000, 0)$$, 'clamped to 0');
SELECT ff_create_execution('tap93-20', execution_id => pg_temp.id(21));
SELECT ff_change_priority(pg_temp.id(21), 10);
SELECT is((SELECT execution_id FROM ff_claim('tap93-20', 'w1', 'w1/1')), pg_temp.id(21), 'the claim order follows the new priority');
SELECT matches(pg_temp.err($$SELECT * FROM ff_change_priority(pg_temp.id(21), 1)$$),
               '^YFC12 execution_not_eligible: ', 'an active execution -> YFC12');
SELECT matches(pg_temp.err($$SELECT * FROM ff_change_priority(pg_temp.id(3), 1)$$), '^YFC12 ', 'a terminal execution -> YFC12');
SELECT pg_temp.mk(22, delay_until => ff_server_time_ms() + 600000);
SELECT matches(pg_temp.err($$SELECT * FROM ff_change_priority(pg_temp.id(22), 1)$$), '^YFC12 ', 'a delayed execution -> YFC12');
SELECT pg_temp.mk(23);
SELECT ff_block_route(pg_temp.id(23));
SELECT matches(pg_temp.err($$SELECT * FROM ff_change_priority(pg_temp.id(23), 1)$$), '^YFC12 ', 'a blocked execution -> YFC12');
SELECT is(pg_temp.events(23), 'blocked', '... and no priority event');
SELECT matches(pg_temp.err($$SELECT * FROM ff_change_priority(pg_temp.id(99), 1)$$), '^YFN01 ', 'unknown -> YFN01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_change_priority(pg_temp.id(20), NULL)$$), '^YFV01 ', 'NULL priority -> YFV01');

------------------------------------------------------------------------------
-- ff_replay_execution
------------------------------------------------------------------------------
SELECT pg_temp.mk(30);
SELECT ff_fail(pg_temp.claim(30), 'boom', 'permanent');
SELECT results_eq($$SELECT * FROM ff_replay_execution(pg_temp.id(30), 'fixed the bug')$$,
                  $$VALUES ('waiting'::text, 1)$$, 'replay a failed execution: waiting, replay 1');
SELECT is(pg_temp.vec(30), 'runnable/unowned/eligible_now/waiting_for_worker/none/pending_replay_attempt/waiting',
          'runnable, eligible now, pending_replay_attempt');
SELECT results_eq($$SELECT terminal_at_ms, retry_count, cancellation_reason FROM ff_execution WHERE execution_id = pg_temp.uid(30)$$,
                  $$VALUES (NULL::bigint, 0, NULL::text)$$, 'terminal time cleared');
SELECT results_eq($$SELECT event_type, details->>'previous_public_state', (details->>'replay_count')::int, details->>'reason'
                      FROM ff_operator_event WHERE execution_id = pg_temp.uid(30)$$,
                  $$VALUES ('replayed'::text, 'failed'::text, 1, 'fixed the bug'::text)$$, 'operator event replayed');
CREATE TEMP TABLE c30 AS SELECT * FROM ff_claim('tap93-30', 'w1', 'w1/1');
SELECT results_eq($$SELECT attempt_index, lease_epoch FROM c30$$, $$VALUES (1, 2::bigint)$$, 'claimed again: attempt 1, epoch 2');
SELECT is((SELECT attempt_type FROM ff_attempt WHERE execution_id = pg_temp.uid(30) AND attempt_index = 1), 'replay',
          'the new attempt is a replay attempt');
SELECT ff_complete((SELECT handle FROM c30), '\x01'::bytea);
SELECT is(pg_temp.completions(30), 'failed,success', 'completion events: failed, then success');
SELECT results_eq($$SELECT * FROM ff_replay_execution(pg_temp.id(30))$$, $$VALUES ('waiting'::text, 2)$$,
                  'a completed execution can be replayed too');
SELECT is((SELECT result FROM ff_execution WHERE execution_id = pg_temp.uid(30)), NULL, '... its result is cleared');
SELECT matches(pg_temp.err($$SELECT * FROM ff_replay_execution(pg_temp.id(30))$$),
               '^YFS13 execution_not_terminal: execution .* is waiting', 'replaying a waiting execution -> YFS13');
SELECT ff_cancel_execution(pg_temp.id(30));
SELECT is((SELECT replay_count FROM ff_replay_execution(pg_temp.id(30))), 3, 'an operator-cancelled execution can be replayed');
SELECT matches(pg_temp.err($$SELECT * FROM ff_replay_execution(pg_temp.id(99))$$), '^YFN01 ', 'unknown -> YFN01');
-- the limit: policy.max_replay_count (default 10)
SELECT pg_temp.mk(31, '{"max_replay_count": 1}');
SELECT ff_cancel_execution(pg_temp.id(31));
SELECT is((SELECT replay_count FROM ff_replay_execution(pg_temp.id(31))), 1, 'max_replay_count 1: the first replay');
SELECT ff_cancel_execution(pg_temp.id(31));
SELECT matches(pg_temp.err($$SELECT * FROM ff_replay_execution(pg_temp.id(31))$$),
               '^YFS14 max_replays_exhausted: execution .* was replayed 1 times already', 'the second -> YFS14');
SELECT pg_temp.mk(32);
SELECT ff_cancel_execution(pg_temp.id(32));
CREATE FUNCTION pg_temp.replay_cancel(n int, times int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE r int;
BEGIN
    FOR i IN 1 .. times LOOP
        SELECT replay_count INTO r FROM ff_replay_execution(pg_temp.id(n));
        PERFORM ff_cancel_execution(pg_temp.id(n));
    END LOOP;
    RETURN r;
END $$;
SELECT is(pg_temp.replay_cancel(32, 10), 10, 'ten replays by default');
SELECT matches(pg_temp.err($$SELECT * FROM ff_replay_execution(pg_temp.id(32))$$), '^YFS14 ', 'the eleventh -> YFS14');
SELECT matches(pg_temp.err($$SELECT ff_create_execution('tap93-bad', policy => '{"max_replay_count": -1}')$$),
               '^YFV04 invalid_policy_json: policy field max_replay_count', 'a negative max_replay_count is rejected at create -> YFV04');
SELECT matches(pg_temp.err($$SELECT * FROM ff_replay_execution(ff_new_flow_execution_id('f9300000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000009311'))$$),
               '^YFS30 replay_not_allowed: execution .* is a member of flow', 'a flow member -> YFS30');
-- a passed deadline does not expire the replay at once
SELECT pg_temp.mk(33, deadline => ff_server_time_ms() + 1000);
SET LOCAL flowfabric.clock_offset_ms = 2000;
SELECT ff_reconcile_execution_deadline();
SELECT is(pg_temp.vec(33), 'terminal/unowned/not_applicable/none/expired/pending_first_attempt/expired', 'expired at its deadline');
SELECT is((SELECT public_state FROM ff_replay_execution(pg_temp.id(33))), 'waiting', 'replayed');
SELECT ff_reconcile_execution_deadline();
SET LOCAL flowfabric.clock_offset_ms = 0;
SELECT results_eq($$SELECT public_state, deadline_at_ms FROM ff_execution WHERE execution_id = pg_temp.uid(33)$$,
                  $$VALUES ('waiting'::text, NULL::bigint)$$, 'the passed deadline was dropped');

------------------------------------------------------------------------------
-- ff_revoke_lease
------------------------------------------------------------------------------
SELECT pg_temp.mk(40);
CREATE TEMP TABLE h40 AS SELECT pg_temp.claim(40) AS handle;
CREATE TEMP TABLE a40 AS SELECT lease_id FROM ff_attempt WHERE execution_id = pg_temp.uid(40);
SELECT results_eq($$SELECT * FROM ff_revoke_lease(pg_temp.id(40), worker_instance_id => 'w9/1')$$,
                  $$VALUES ('already_satisfied'::text, 'different_worker_instance_id'::text, NULL::uuid, NULL::bigint)$$,
                  'another instance''s lease: already_satisfied, different_worker_instance_id');
SELECT results_eq($$SELECT outcome, detail FROM ff_revoke_lease(pg_temp.id(40), '00000000-0000-4000-8000-000000000000')$$,
                  $$VALUES ('already_satisfied'::text, 'lease_id_mismatch'::text)$$, 'another lease id: lease_id_mismatch');
SELECT is(pg_temp.leases(40), 'acquired', '... nothing happened');
SELECT results_eq($$SELECT * FROM ff_revoke_lease(pg_temp.id(40), (SELECT lease_id FROM a40), 'w1/1', 'stuck')$$,
                  $$VALUES ('revoked'::text, NULL::text, (SELECT lease_id FROM a40), 1::bigint)$$,
                  'revoke_lease: revoked, the lease id and epoch');
SELECT is(pg_temp.vec(40), 'active/lease_revoked/not_applicable/waiting_for_worker/none/attempt_interrupted/active',
          'active, lease_revoked, waiting for a worker');
SELECT results_eq($$SELECT attempt_lifecycle, end_reason, lease_expires_at_ms FROM ff_attempt WHERE execution_id = pg_temp.uid(40)$$,
                  $$VALUES ('interrupted_reclaimed'::text, 'operator_revoke'::text, NULL::bigint)$$, 'the attempt is interrupted');
SELECT is(pg_temp.leases(40), 'acquired,revoked:operator_revoke', 'one lease event revoked');
SELECT results_eq($$SELECT event_type, worker_instance_id, details->>'reason', (details->>'lease_epoch')::bigint
                      FROM ff_operator_event WHERE execution_id = pg_temp.uid(40)$$,
                  $$VALUES ('lease_revoked'::text, 'w1/1'::text, 'stuck'::text, 1::bigint)$$, 'operator event lease_revoked');
SELECT matches(pg_temp.err($$SELECT ff_complete((SELECT handle FROM h40))$$), '^YFS03 lease_revoked: ', 'the holder''s next call -> YFS03');
SELECT results_eq($$SELECT outcome, detail FROM ff_revoke_lease(pg_temp.id(40))$$,
                  $$VALUES ('already_satisfied'::text, 'no_active_lease'::text)$$, 'revoking again: no_active_lease');
SELECT is(pg_temp.leases(40), 'acquired,revoked:operator_revoke', '... exactly one revoked event overall');
SELECT is((SELECT lease_id FROM ff_describe_execution(pg_temp.id(40))), NULL, 'describe shows no lease');
SELECT results_eq($$SELECT execution_id, worker_instance_id, ownership_state FROM ff_list_expired_leases() WHERE execution_id = pg_temp.id(40)$$,
                  $$VALUES (pg_temp.id(40), 'w1/1'::text, 'lease_revoked'::text)$$, 'ff_list_expired_leases lists it as revoked');
CREATE TEMP TABLE c40 AS SELECT * FROM ff_claim('tap93-40', 'w2', 'w2/1');
SELECT results_eq($$SELECT attempt_index, lease_epoch FROM c40$$, $$VALUES (1, 2::bigint)$$, 'ff_claim reclaims it');
SELECT is((SELECT attempt_type FROM ff_attempt WHERE execution_id = pg_temp.uid(40) AND attempt_index = 1), 'reclaim', '... a reclaim attempt');
SELECT matches(pg_temp.err($$SELECT ff_complete((SELECT handle FROM h40))$$), '^YFS03 ', 'the old holder still gets YFS03');
SELECT lives_ok($$SELECT ff_complete((SELECT handle FROM c40))$$, 'the new holder completes');
SELECT results_eq($$SELECT outcome, detail FROM ff_revoke_lease(pg_temp.id(20))$$,
                  $$VALUES ('already_satisfied'::text, 'no_active_lease'::text)$$, 'a waiting execution: no_active_lease');
SELECT matches(pg_temp.err($$SELECT * FROM ff_revoke_lease(pg_temp.id(99))$$), '^YFN01 ', 'unknown -> YFN01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_revoke_lease(pg_temp.id(40), reason => repeat('r', 1025))$$), '^YFV01 ', 'a reason over 1024 bytes -> YFV01');

SELECT * FROM finish();
ROLLBACK;

-- ff_check_invariants (docs/security.md §7): nothing to report on data the
-- engine wrote through its API, across every area; then each invariant is
-- broken on purpose (direct UPDATEs as superuser, on one execution each) and
-- the checker must name it and the object.
BEGIN;
SELECT plan(50);

DELETE FROM ff_waitpoint_hmac;
SELECT is((SELECT outcome FROM ff_seed_waitpoint_hmac_secret('tap98i', repeat('ab', 32))), 'seeded', 'a signing key');
CREATE FUNCTION pg_temp.id(n int) RETURNS text LANGUAGE sql AS
$$ SELECT '{fp:99}:00000000-0000-4000-8000-' || lpad((9900 + n)::text, 12, '0') $$;
CREATE FUNCTION pg_temp.uid(n int) RETURNS uuid LANGUAGE sql AS
$$ SELECT ('00000000-0000-4000-8000-' || lpad((9900 + n)::text, 12, '0'))::uuid $$;
CREATE FUNCTION pg_temp.mk(n int, policy jsonb DEFAULT NULL, delay_until bigint DEFAULT NULL) RETURNS text
    LANGUAGE sql AS $$
    SELECT execution_id FROM ff_create_execution('tap98i-' || n, execution_id => pg_temp.id(n), policy => policy,
                                                 delay_until => delay_until)
$$;
CREATE TABLE pg_temp.h (n int, handle bytea);
CREATE FUNCTION pg_temp.claim(n int) RETURNS bytea LANGUAGE sql AS $$
    INSERT INTO pg_temp.h SELECT n, handle FROM ff_claim('tap98i-' || n, 'w', 'w/1', lease_ttl_ms => 600000)
    RETURNING handle
$$;
CREATE FUNCTION pg_temp.h(n int) RETURNS bytea LANGUAGE sql AS
$$ SELECT handle FROM pg_temp.h WHERE h.n = $1 ORDER BY ctid DESC LIMIT 1 $$;
CREATE FUNCTION pg_temp.reported(inv text, obj text) RETURNS boolean LANGUAGE sql AS
$$ SELECT EXISTS (SELECT 1 FROM ff_check_invariants() c WHERE c.invariant = inv AND c.object_id = obj) $$;

------------------------------------------------------------------------------
-- Data written through the API, in every state the areas produce.
------------------------------------------------------------------------------
CREATE TABLE pg_temp.wp (n int, waitpoint_id uuid);
CREATE TABLE pg_temp.fl (n int, id text);
DO $$
BEGIN
    PERFORM pg_temp.mk(n) FROM generate_series(1, 36) n WHERE n NOT IN (6, 7, 15);
    PERFORM pg_temp.mk(6, delay_until => ff_server_time_ms() + 3600000);
    PERFORM pg_temp.mk(n, '{"retry_policy": {"max_retries": 3, "backoff": {"type": "fixed", "delay_ms": 0}}}') FROM unnest(ARRAY[7, 15]) n;
    PERFORM pg_temp.claim(n) FROM unnest(ARRAY[4, 7, 9, 10, 11, 12, 14, 15, 16, 17, 18, 20, 21, 22, 23, 25, 27, 36]) n;
    -- retries: 7 and 15 have two attempts
    PERFORM ff_fail(pg_temp.h(7), 'boom');
    PERFORM ff_fail(pg_temp.h(15), 'boom');
    PERFORM pg_temp.claim(n) FROM unnest(ARRAY[7, 15]) n;
    -- completions
    PERFORM ff_complete(pg_temp.h(n)) FROM unnest(ARRAY[14, 16, 17, 18]) n;
    -- suspensions (a pending waitpoint first for 25 and 27)
    INSERT INTO pg_temp.wp SELECT n, waitpoint_id FROM unnest(ARRAY[25, 27]) n, ff_create_waitpoint(pg_temp.h(n), 'wpk:p', 600000);
    PERFORM count(*) FROM unnest(ARRAY[21, 22, 23]) n, ff_suspend(pg_temp.h(n), '["wpk:s"]');
    PERFORM ff_complete(pg_temp.h(27));
    -- a stream, closed with its attempt
    PERFORM frame_count FROM ff_append_frame(pg_temp.h(36), 'log', '\x01');
    PERFORM ff_complete(pg_temp.h(36));
    -- a flow: member 101 -> member 102 (102 blocked by its dependency)
    PERFORM outcome FROM ff_create_flow('00000000-0000-4000-8000-0000000099f0');
    INSERT INTO pg_temp.fl SELECT n, ff_new_flow_execution_id('00000000-0000-4000-8000-0000000099f0', pg_temp.uid(100 + n))
      FROM unnest(ARRAY[1, 2]) n;
    PERFORM count(*) FROM pg_temp.fl, ff_create_execution('tap98i-flow', execution_id => fl.id),
           ff_add_execution_to_flow('00000000-0000-4000-8000-0000000099f0', fl.id);
    PERFORM new_graph_revision FROM ff_stage_dependency_edge('00000000-0000-4000-8000-0000000099f0',
           '00000000-0000-4000-8000-0000000099e1', (SELECT id FROM pg_temp.fl WHERE n = 1), (SELECT id FROM pg_temp.fl WHERE n = 2),
           (SELECT graph_revision FROM ff_describe_flow('00000000-0000-4000-8000-0000000099f0')));
    PERFORM outcome FROM ff_apply_dependency_to_child('00000000-0000-4000-8000-0000000099f0',
           '00000000-0000-4000-8000-0000000099e1', (SELECT id FROM pg_temp.fl WHERE n = 2));
    -- a budget with usage, a quota policy
    PERFORM outcome FROM ff_create_budget('00000000-0000-4000-8000-0000000099b0', '{tokens}', '{1000}', '{900}');
    PERFORM outcome FROM ff_report_usage_admin('00000000-0000-4000-8000-0000000099b0', '{tokens}', '{5}');
    PERFORM outcome FROM ff_create_quota_policy('00000000-0000-4000-8000-0000000099c0', 60, 100, 5);
END $$;

SELECT is((SELECT count(*) FROM ff_execution WHERE partition_key = 99), 36::bigint, 'the fixtures: 36 executions in {fp:99}');
SELECT is((SELECT public_state FROM ff_execution WHERE execution_id = pg_temp.uid(102)), 'waiting_children',
          'the flow''s downstream waits for its dependency');
SELECT is((SELECT array_agg(invariant || ' ' || object_id || ': ' || detail) FROM ff_check_invariants()), NULL,
          'everything the API wrote satisfies every invariant');

------------------------------------------------------------------------------
-- Break each invariant.
------------------------------------------------------------------------------
ALTER TABLE ff_execution DROP CONSTRAINT ff_execution_row_valid;
UPDATE ff_execution SET public_state = 'completed' WHERE execution_id = pg_temp.uid(1);
SELECT ok(pg_temp.reported('state_vector_valid', pg_temp.id(1)), 'state_vector_valid: public_state not derived');
UPDATE ff_execution SET ownership_state = 'leased' WHERE execution_id = pg_temp.uid(2);
SELECT ok(pg_temp.reported('ownership_only_while_active', pg_temp.id(2)), 'ownership_only_while_active');
UPDATE ff_execution SET eligibility_state = 'not_applicable' WHERE execution_id = pg_temp.uid(3);
SELECT ok(pg_temp.reported('eligibility_only_while_runnable', pg_temp.id(3)), 'eligibility_only_while_runnable');
UPDATE ff_execution SET attempt_state = 'attempt_interrupted' WHERE execution_id = pg_temp.uid(4);
SELECT ok(pg_temp.reported('active_attempt_state', pg_temp.id(4)), 'active_attempt_state');
UPDATE ff_execution SET terminal_at_ms = NULL WHERE execution_id = pg_temp.uid(14);
SELECT ok(pg_temp.reported('terminal_time_set', pg_temp.id(14)), 'terminal_time_set');
UPDATE ff_execution SET delay_until_ms = NULL WHERE execution_id = pg_temp.uid(6);
SELECT ok(pg_temp.reported('delay_time_set', pg_temp.id(6)), 'delay_time_set');
-- leases
UPDATE ff_attempt SET lease_expires_at_ms = 1 WHERE execution_id = pg_temp.uid(7) AND attempt_index = 0;
SELECT ok(pg_temp.reported('one_live_lease', pg_temp.id(7)), 'one_live_lease');
SELECT ok(pg_temp.reported('lease_on_current_attempt', pg_temp.id(7)), 'lease_on_current_attempt');
UPDATE ff_attempt SET lease_expires_at_ms = NULL WHERE execution_id = pg_temp.uid(9);
SELECT ok(pg_temp.reported('leased_holds_lease', pg_temp.id(9)), 'leased_holds_lease');
SELECT ok(pg_temp.reported('started_attempt_holds_lease', pg_temp.id(9)), 'started_attempt_holds_lease');
-- attempts
UPDATE ff_execution SET total_attempt_count = 5 WHERE execution_id = pg_temp.uid(10);
SELECT ok(pg_temp.reported('attempt_count', pg_temp.id(10)), 'attempt_count');
UPDATE ff_execution SET attempt_index = 3 WHERE execution_id = pg_temp.uid(11);
SELECT ok(pg_temp.reported('current_attempt', pg_temp.id(11)), 'current_attempt');
UPDATE ff_execution SET lease_epoch = 9 WHERE execution_id = pg_temp.uid(12);
SELECT ok(pg_temp.reported('lease_epoch', pg_temp.id(12)), 'lease_epoch');
UPDATE ff_attempt SET ended_at_ms = NULL WHERE execution_id = pg_temp.uid(16);
SELECT ok(pg_temp.reported('ended_attempt_time', pg_temp.id(16)), 'ended_attempt_time');
UPDATE ff_attempt SET attempt_lifecycle = 'suspended', ended_at_ms = NULL
 WHERE execution_id = pg_temp.uid(15) AND attempt_index = 0;
SELECT ok(pg_temp.reported('earlier_attempt_over', pg_temp.id(15)), 'earlier_attempt_over');
UPDATE ff_attempt SET attempt_lifecycle = 'suspended', ended_at_ms = NULL WHERE execution_id = pg_temp.uid(17);
SELECT ok(pg_temp.reported('terminal_attempt_over', pg_temp.id(17)), 'terminal_attempt_over');
-- outboxes
DELETE FROM ff_completion_event WHERE execution_id = pg_temp.uid(18);
SELECT ok(pg_temp.reported('completion_event_count', pg_temp.id(18)), 'completion_event_count: a lost event');
INSERT INTO ff_completion_event (event_id, partition_key, execution_id, outcome, lane_id, occurred_at_ms)
SELECT event_id + 1, partition_key, execution_id, outcome, lane_id, occurred_at_ms
  FROM ff_completion_event WHERE execution_id = pg_temp.uid(14);
SELECT ok(pg_temp.reported('completion_event_count', pg_temp.id(14)), 'completion_event_count: a duplicated event');
UPDATE ff_completion_event SET outcome = 'failed' WHERE execution_id = pg_temp.uid(16);
SELECT ok(pg_temp.reported('completion_event_outcome', pg_temp.id(16)), 'completion_event_outcome');
INSERT INTO ff_completion_event (event_id, partition_key, execution_id, outcome, lane_id, occurred_at_ms)
VALUES (1, 99, pg_temp.uid(98), 'success', 'nowhere', 0);
SELECT ok(pg_temp.reported('completion_event_execution', pg_temp.id(98)), 'completion_event_execution');
INSERT INTO ff_attempt (partition_key, execution_id, attempt_index, attempt_id, attempt_type, attempt_lifecycle,
                        worker_id, worker_instance_id, lease_id, lease_epoch, lease_ttl_ms, lease_acquired_at_ms,
                        started_at_ms, ended_at_ms, end_reason)
VALUES (99, pg_temp.uid(97), 0, gen_random_uuid(), 'initial', 'ended_success', 'w', 'w/1', gen_random_uuid(), 1,
        1000, 0, 0, 0, 'completed');
SELECT ok(pg_temp.reported('attempt_execution', pg_temp.id(97)), 'attempt_execution: an attempt without its execution');
SELECT cmp_ok((SELECT count(*) FROM ff_attempt WHERE execution_id = pg_temp.uid(18)), '>', 0::bigint,
              'the execution to delete has attempts');
DELETE FROM ff_execution WHERE execution_id = pg_temp.uid(18);
SELECT is((SELECT count(*) FROM ff_attempt WHERE execution_id = pg_temp.uid(18)), 0::bigint,
          'deleting an execution deletes its attempts (ff_execution_delete_attempts)');
UPDATE ff_lease_event SET lease_epoch = 99 WHERE execution_id = pg_temp.uid(20);
SELECT ok(pg_temp.reported('lease_event_epoch', pg_temp.id(20)), 'lease_event_epoch');
-- suspensions and waitpoints
UPDATE ff_suspension SET closed_at_ms = 1, close_reason = 'resumed' WHERE execution_id = pg_temp.uid(21);
SELECT ok(pg_temp.reported('suspended_one_open_suspension', pg_temp.id(21)), 'suspended_one_open_suspension');
SELECT ok(pg_temp.reported('active_waitpoint_in_open_suspension', pg_temp.id(21)), 'active_waitpoint_in_open_suspension');
SELECT ok(pg_temp.reported('closed_suspension_waitpoints_closed', pg_temp.id(21)), 'closed_suspension_waitpoints_closed');
UPDATE ff_execution SET lifecycle_phase = 'runnable', eligibility_state = 'eligible_now', public_state = 'waiting'
 WHERE execution_id = pg_temp.uid(22);
SELECT ok(pg_temp.reported('open_suspension_of_suspended', pg_temp.id(22)), 'open_suspension_of_suspended');
UPDATE ff_attempt SET attempt_lifecycle = 'ended_success', ended_at_ms = 1 WHERE execution_id = pg_temp.uid(23);
SELECT ok(pg_temp.reported('suspended_attempt_parked', pg_temp.id(23)), 'suspended_attempt_parked');
UPDATE ff_waitpoint SET suspension_id = gen_random_uuid() WHERE waitpoint_id = (SELECT waitpoint_id FROM pg_temp.wp WHERE n = 25);
SELECT ok(pg_temp.reported('pending_waitpoint_unbound', pg_temp.id(25)), 'pending_waitpoint_unbound');
UPDATE ff_waitpoint SET state = 'pending', closed_at_ms = NULL, close_reason = NULL
 WHERE waitpoint_id = (SELECT waitpoint_id FROM pg_temp.wp WHERE n = 27);
SELECT ok(pg_temp.reported('terminal_waitpoints_closed', pg_temp.id(27)), 'terminal_waitpoints_closed');
-- flows
UPDATE ff_execution SET flow_id = gen_random_uuid() WHERE execution_id = pg_temp.uid(28);
SELECT ok(pg_temp.reported('flow_member_flow_exists', pg_temp.id(28)), 'flow_member_flow_exists');
UPDATE ff_flow SET node_count = 7 WHERE flow_id = '00000000-0000-4000-8000-0000000099f0';
SELECT ok(pg_temp.reported('flow_node_count', '00000000-0000-4000-8000-0000000099f0'), 'flow_node_count');
UPDATE ff_edge_group SET group_state = 'satisfied', staged_count = 4
 WHERE flow_id = '00000000-0000-4000-8000-0000000099f0';
SELECT ok(pg_temp.reported('blocked_group_pending', (SELECT id FROM pg_temp.fl WHERE n = 2)), 'blocked_group_pending');
SELECT ok(pg_temp.reported('edge_group_counters', (SELECT id FROM pg_temp.fl WHERE n = 2)), 'edge_group_counters');
-- budgets and quotas
UPDATE ff_budget_usage SET current_value = 6 WHERE budget_id = '00000000-0000-4000-8000-0000000099b0';
SELECT ok(pg_temp.reported('budget_usage_ledger', '00000000-0000-4000-8000-0000000099b0'), 'budget_usage_ledger');
UPDATE ff_quota_policy SET active_concurrency = 3 WHERE quota_policy_id = '00000000-0000-4000-8000-0000000099c0';
SELECT ok(pg_temp.reported('quota_concurrency_slots', '00000000-0000-4000-8000-0000000099c0'), 'quota_concurrency_slots');
UPDATE ff_execution SET eligibility_state = 'blocked_by_budget', blocking_reason = 'waiting_for_budget',
       public_state = 'rate_limited', policy = '{"budget_ids": ["00000000-0000-4000-8000-0000000099b0"]}'
 WHERE execution_id = pg_temp.uid(30);
SELECT ok(pg_temp.reported('blocked_by_budget_recorded', pg_temp.id(30)), 'blocked_by_budget_recorded');
UPDATE ff_execution SET eligibility_state = 'blocked_by_quota', blocking_reason = 'waiting_for_quota',
       public_state = 'rate_limited', policy = '{"quota_policy_id": "00000000-0000-4000-8000-0000000099c0"}'
 WHERE execution_id = pg_temp.uid(31);
SELECT ok(pg_temp.reported('blocked_by_quota_recorded', pg_temp.id(31)), 'blocked_by_quota_recorded');
INSERT INTO ff_budget_execution (partition_key, budget_id, exec_partition, execution_id, status, since_ms)
SELECT partition_key, budget_id, 99, pg_temp.uid(14), 'blocked', 0 FROM ff_budget_policy
 WHERE budget_id = '00000000-0000-4000-8000-0000000099b0';
SELECT ok(pg_temp.reported('budget_execution_live', pg_temp.id(14)), 'budget_execution_live');
INSERT INTO ff_quota_blocked (partition_key, quota_policy_id, exec_partition, execution_id, reason, blocked_at_ms)
SELECT partition_key, quota_policy_id, 99, pg_temp.uid(2), 'concurrency', 0 FROM ff_quota_policy
 WHERE quota_policy_id = '00000000-0000-4000-8000-0000000099c0';
SELECT ok(pg_temp.reported('quota_blocked_live', pg_temp.id(2)), 'quota_blocked_live');
INSERT INTO ff_quota_admitted (partition_key, quota_policy_id, execution_id, admitted_at_ms, holds_slot)
SELECT partition_key, quota_policy_id, pg_temp.id(16), 0, true FROM ff_quota_policy
 WHERE quota_policy_id = '00000000-0000-4000-8000-0000000099c0';
SELECT ok(pg_temp.reported('quota_slot_running', pg_temp.id(16)), 'quota_slot_running');
-- streams
UPDATE ff_stream_meta SET closed_at_ms = NULL WHERE execution_id = pg_temp.uid(36);
SELECT ok(pg_temp.reported('stream_closed_with_attempt', pg_temp.id(36)), 'stream_closed_with_attempt');

-- every check reported something, and nothing about the untouched executions
SELECT is((SELECT count(DISTINCT invariant) FROM ff_check_invariants()), 40::bigint, 'all 40 checks found their violation');
SELECT is((SELECT array_agg(DISTINCT object_id) FROM ff_check_invariants()
            WHERE object_id IN (SELECT pg_temp.id(n) FROM unnest(ARRAY[5, 8, 13, 19, 24, 26, 29, 32, 33, 34, 35]) n)),
          NULL, 'the executions left alone are not reported');
SELECT ok((SELECT bool_and(detail IS NOT NULL AND detail <> '') FROM ff_check_invariants()), 'every row explains itself');

SELECT * FROM finish();
ROLLBACK;

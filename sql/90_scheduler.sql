--
-- 90_scheduler: the scheduler, operator controls, lanes and the worker
-- registry in autocommit mode, so the operator-event reader (events of
-- committed transactions only, by cursor) is exercised: a worker gets a
-- signed grant and claims with it, an operator revokes, reclaims, cancels,
-- replays and reprioritises, pauses and drains a lane, and a worker dies.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS flowfabric;
RESET client_min_messages;

-- the keystore signs grants (an earlier story may have seeded it)
SELECT count(*) > 0 AS keystore_ready FROM (
    SELECT 1 FROM ff_waitpoint_hmac WHERE active
    UNION ALL SELECT 1 FROM ff_seed_waitpoint_hmac_secret('kid-sched-1', repeat('cd', 32))
     WHERE NOT EXISTS (SELECT 1 FROM ff_waitpoint_hmac WHERE active)) k;

SELECT coalesce(max(event_id), 0) AS c0 FROM ff_operator_event \gset

CREATE TEMP VIEW st AS
SELECT right(execution_id::text, 4) AS x, lifecycle_phase, ownership_state, eligibility_state,
       attempt_state, public_state, attempt_index AS att, lease_epoch AS epoch, priority
  FROM ff_execution WHERE lane_id LIKE 'sched-%' ORDER BY execution_id;

SELECT execution_id, public_state FROM ff_create_execution('sched-lane', 'job-1'::bytea,
    execution_id => '{fp:21}:00000000-0000-4000-8000-000000009001');
SELECT execution_id, public_state FROM ff_create_execution('sched-lane', 'job-2'::bytea, priority => 5,
    execution_id => '{fp:22}:00000000-0000-4000-8000-000000009002');

-- A worker registers, asks the scheduler for work and gets a signed grant
-- (highest priority first). The key carries its expiry, so it is not printed.
SELECT outcome FROM ff_register_worker('sched-w', 'sched-w/1', '{sched-lane}', '{}', 60000, 'sched-ns');
SELECT execution_id, partition_key, lane_id, grant_key
  FROM ff_claim_for_worker('{sched-lane}', 'sched-w', 'sched-w/1', grant_ttl_ms => 30000) \gset g_
SELECT :'g_execution_id' AS granted, :'g_partition_key' AS partition_key, :'g_lane_id' AS lane_id,
       :'g_grant_key' ~ '^pg:\{fp:22\}:00000000-0000-4000-8000-000000009002:[0-9]+:kid-[a-z]+-1:[0-9a-f]{64}$' AS key_shape;
SELECT x, public_state FROM st;
-- another worker is kept off it while the grant lives
SELECT count(*) AS other_worker_claims FROM ff_claim('sched-lane', 'sched-w9', 'sched-w9/1', max_claims => 1)
 WHERE execution_id = :'g_execution_id';
SELECT outcome FROM ff_cancel_execution('{fp:21}:00000000-0000-4000-8000-000000009001', 'not this one');
SELECT public_state FROM ff_replay_execution('{fp:21}:00000000-0000-4000-8000-000000009001');
-- the grant holder claims; a second use of the grant is refused
SELECT attempt_index, attempt_type, lease_epoch, convert_from(input_payload, 'UTF8') AS input
  FROM ff_claim_execution(:'g_execution_id', :'g_grant_key', 'sched-w', 'sched-w/1');
\set VERBOSITY terse
SELECT * FROM ff_claim_execution(:'g_execution_id', :'g_grant_key', 'sched-w', 'sched-w/1');
SELECT * FROM ff_claim_execution(:'g_execution_id', :'g_grant_key', 'sched-w9', 'sched-w9/1');
\set VERBOSITY default
SELECT count(*) AS live_grants FROM ff_claim_grant g JOIN ff_execution e USING (partition_key, execution_id)
 WHERE e.lane_id = 'sched-lane';

-- The operator takes the other one in one step, then revokes its lease:
-- the execution stays active and another worker reclaims it.
SELECT attempt_index, attempt_type, lease_epoch FROM ff_issue_grant_and_claim(
    (SELECT ff_format_execution_id(partition_key, execution_id) FROM ff_execution
      WHERE lane_id = 'sched-lane' AND public_state = 'waiting'), 60000);
SELECT outcome, detail, lease_epoch FROM ff_revoke_lease(
    (SELECT ff_format_execution_id(e.partition_key, e.execution_id) FROM ff_execution e JOIN ff_attempt a
        ON a.partition_key = e.partition_key AND a.execution_id = e.execution_id AND a.attempt_index = e.attempt_index
      WHERE e.lane_id = 'sched-lane' AND a.worker_id = 'operator'), reason => 'rebalance');
SELECT x, ownership_state, attempt_state, public_state FROM st WHERE ownership_state <> 'unowned' ORDER BY x;
SELECT count(*) AS reclaimed FROM ff_claim('sched-lane', 'sched-w2', 'sched-w2/1');
SELECT a.attempt_index, a.attempt_type, a.worker_id FROM ff_attempt a JOIN ff_execution e USING (partition_key, execution_id)
 WHERE e.lane_id = 'sched-lane' AND a.attempt_type = 'reclaim';

-- The worker that held the first one dies: its lease is released for reclaim.
SELECT outcome, leases_released FROM ff_mark_worker_dead('sched-w/1', 'sched-ns', 'node drained');
SELECT x, ownership_state, public_state FROM st WHERE ownership_state = 'lease_expired_reclaimable';
SELECT worker_instance_id, ownership_state FROM ff_list_expired_leases(namespace => NULL)
 WHERE worker_instance_id = 'sched-w/1';

-- Cancel it (any state): completion event cancelled; replay it: a replay attempt.
SELECT outcome, public_state, lease_revoked FROM ff_cancel_execution(
    (SELECT ff_format_execution_id(partition_key, execution_id) FROM ff_execution
      WHERE lane_id = 'sched-lane' AND ownership_state = 'lease_expired_reclaimable'), 'superseded');
SELECT outcome, public_state FROM ff_cancel_execution(
    (SELECT ff_format_execution_id(partition_key, execution_id) FROM ff_execution
      WHERE lane_id = 'sched-lane' AND public_state = 'cancelled'));
SELECT public_state, replay_count FROM ff_replay_execution(
    (SELECT ff_format_execution_id(partition_key, execution_id) FROM ff_execution
      WHERE lane_id = 'sched-lane' AND public_state = 'cancelled'), 'try again');
SELECT old_priority, new_priority FROM ff_change_priority(
    (SELECT ff_format_execution_id(partition_key, execution_id) FROM ff_execution
      WHERE lane_id = 'sched-lane' AND public_state = 'waiting'), 100);
SELECT execution_id, attempt_index, lease_epoch FROM ff_claim('sched-lane', 'sched-w2', 'sched-w2/1');
SELECT attempt_index, attempt_type, worker_id, attempt_lifecycle, end_reason FROM ff_attempt
 WHERE execution_id = '00000000-0000-4000-8000-000000009002' ORDER BY attempt_index;

-- Lanes: paused hands out nothing, draining only started work.
SELECT * FROM ff_pause_lane('sched-lane', 'maintenance');
SELECT lane_id, state FROM ff_list_lanes() WHERE lane_id LIKE 'sched-%';
SELECT execution_id FROM ff_create_execution('sched-lane', execution_id => '{fp:23}:00000000-0000-4000-8000-000000009003');
SELECT count(*) AS claimed_while_paused FROM ff_claim('sched-lane', 'sched-w2', 'sched-w2/1');
SELECT count(*) AS granted_while_paused FROM ff_claim_for_worker('{sched-lane}', 'sched-w2', 'sched-w2/1');
SELECT * FROM ff_drain_lane('sched-lane');
SELECT count(*) AS claimed_while_draining FROM ff_claim('sched-lane', 'sched-w2', 'sched-w2/1');
SELECT * FROM ff_resume_lane('sched-lane');
SELECT count(*) AS claimed_when_resumed FROM ff_claim('sched-lane', 'sched-w2', 'sched-w2/1');
SELECT x, public_state, priority FROM st;

-- The operator-event outbox, read by cursor after the commits.
SELECT event_type, execution_id IS NOT NULL AS has_execution, lane_id, worker_instance_id, namespace,
       details - 'lease_id' - 'previous_state' - 'state' AS details
  FROM ff_operator_events(:c0, 100)
 WHERE coalesce(lane_id, '') LIKE 'sched-%' OR worker_instance_id LIKE 'sched-%'
 ORDER BY event_id;
-- paging by cursor (2 per page) returns the same events
WITH RECURSIVE pages(cursor, ids) AS (
    SELECT :c0::bigint, ARRAY[]::bigint[]
    UNION ALL
    SELECT (SELECT max(event_id) FROM ff_operator_events(p.cursor, 2)),
           p.ids || ARRAY(SELECT event_id FROM ff_operator_events(p.cursor, 2) ORDER BY event_id)
      FROM pages p WHERE EXISTS (SELECT 1 FROM ff_operator_events(p.cursor, 1)))
SELECT (SELECT ids FROM pages ORDER BY cardinality(ids) DESC LIMIT 1)
       = ARRAY(SELECT event_id FROM ff_operator_events(:c0, 10000) ORDER BY event_id) AS paging_same,
       count(*) - 1 AS pages
  FROM pages;
SELECT ff_operator_events(:c0, 0);
SELECT ff_operator_events(:c0, 10001);
-- completion and lease outboxes saw the operator's changes too
SELECT e.outcome FROM ff_completion_events(0, 10000) e WHERE e.lane_id = 'sched-lane' ORDER BY e.event_id;
SELECT l.event_type, l.reason FROM ff_lease_events(0, 10000) l
  JOIN ff_execution x ON ff_format_execution_id(x.partition_key, x.execution_id) = l.execution_id
 WHERE x.lane_id = 'sched-lane' AND l.event_type IN ('revoked', 'expired', 'reclaimed') ORDER BY l.event_id;

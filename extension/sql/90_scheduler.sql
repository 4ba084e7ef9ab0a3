------------------------------------------------------------------------------
-- Scheduler (claim grants, reclaim), operator controls, lane controls and the
-- worker registry (extension/scheduler.c, operator.c, worker_registry.c;
-- docs/operator.md).
------------------------------------------------------------------------------

-- Claim and reclaim grants. Only the sha256 of a grant key is stored; at most
-- one grant of each kind per execution. A grant does not change its
-- execution's state: while live it keeps other workers' claims off it.
CREATE TABLE ff_claim_grant (
    partition_key       smallint NOT NULL,
    grant_id            bytea    NOT NULL,             -- sha256(grant_key)
    execution_id        uuid     NOT NULL,
    kind                text     NOT NULL CHECK (kind IN ('claim', 'reclaim')),
    worker_id           text     NOT NULL,
    worker_instance_id  text     NOT NULL,
    lane_id             text     NOT NULL,
    capability_hash     text,
    worker_capabilities text[]   NOT NULL DEFAULT '{}',
    route_snapshot_json text,
    admission_summary   text,
    grant_ttl_ms        bigint   NOT NULL,
    issued_at_ms        bigint   NOT NULL,
    expires_at_ms       bigint   NOT NULL,
    PRIMARY KEY (partition_key, grant_id),
    FOREIGN KEY (partition_key, execution_id) REFERENCES ff_execution ON DELETE CASCADE
);
CREATE UNIQUE INDEX ff_claim_grant_execution_idx ON ff_claim_grant (partition_key, execution_id, kind);
CREATE INDEX ff_claim_grant_expiry_idx ON ff_claim_grant (expires_at_ms);

-- The scheduler's fair pick: within a lane and priority, partition by
-- partition, oldest first.
CREATE INDEX ff_execution_sched_idx ON ff_execution (lane_id, priority DESC, partition_key, created_at_ms)
    WHERE eligibility_state = 'eligible_now';

-- How often an operator replayed each execution (policy.max_replay_count).
CREATE TABLE ff_execution_replay (
    partition_key       smallint NOT NULL,
    execution_id        uuid     NOT NULL,
    replay_count        integer  NOT NULL,
    last_replayed_at_ms bigint   NOT NULL,
    PRIMARY KEY (partition_key, execution_id),
    FOREIGN KEY (partition_key, execution_id) REFERENCES ff_execution ON DELETE CASCADE
);

-- The operator-event outbox (same event ids and cursor rule as the others;
-- NOTIFY ff_operator_event).
CREATE TABLE ff_operator_event (
    event_id           bigint PRIMARY KEY,
    event_type         text   NOT NULL CHECK (event_type IN
        ('cancelled', 'priority_changed', 'replayed', 'lease_revoked', 'blocked', 'unblocked',
         'lane_paused', 'lane_resumed', 'lane_draining',
         'worker_registered', 'worker_marked_dead', 'worker_expired')),
    partition_key      smallint,
    execution_id       uuid,
    lane_id            text,
    worker_instance_id text,
    namespace          text,
    details            jsonb  NOT NULL DEFAULT '{}',
    occurred_at_ms     bigint NOT NULL
);
CREATE INDEX ff_operator_event_execution_idx ON ff_operator_event (partition_key, execution_id)
    WHERE execution_id IS NOT NULL;

-- The worker registry: alive while last_heartbeat_ms + liveness_ttl_ms > now.
CREATE TABLE ff_worker_registry (
    namespace          text     COLLATE "C" NOT NULL,
    worker_instance_id text     COLLATE "C" NOT NULL,
    partition_key      smallint NOT NULL,           -- FNV-1a-64(worker_instance_id) % 256
    worker_id          text     NOT NULL,
    lanes              text[]   NOT NULL DEFAULT '{}',
    capabilities       text[]   NOT NULL DEFAULT '{}',
    last_heartbeat_ms  bigint   NOT NULL,
    liveness_ttl_ms    bigint   NOT NULL CHECK (liveness_ttl_ms > 0),
    registered_at_ms   bigint   NOT NULL,
    PRIMARY KEY (namespace, worker_instance_id)
);
CREATE INDEX ff_worker_registry_expiry_idx ON ff_worker_registry ((last_heartbeat_ms + liveness_ttl_ms));
CREATE INDEX ff_worker_registry_instance_idx ON ff_worker_registry (worker_instance_id);

REVOKE ALL ON ff_claim_grant, ff_execution_replay, ff_operator_event, ff_worker_registry FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('ff_claim_grant', '');
SELECT pg_catalog.pg_extension_config_dump('ff_execution_replay', '');
SELECT pg_catalog.pg_extension_config_dump('ff_operator_event', '');
SELECT pg_catalog.pg_extension_config_dump('ff_worker_registry', '');

-- Scheduler and claim grants ---------------------------------------------------

CREATE FUNCTION ff_claim_for_worker(
        lanes text[],
        worker_id text,
        worker_instance_id text,
        capabilities text[] DEFAULT '{}',
        grant_ttl_ms bigint DEFAULT 10000)
    RETURNS TABLE (execution_id text, partition_key text, lane_id text, grant_key text,
                   expires_at_ms bigint)
    AS 'MODULE_PATHNAME', 'ff_claim_for_worker' LANGUAGE C VOLATILE ROWS 1
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_issue_claim_grant(
        execution_id text,
        worker_id text,
        worker_instance_id text,
        capabilities text[] DEFAULT '{}',
        grant_ttl_ms bigint DEFAULT 10000,
        capability_hash text DEFAULT NULL,
        route_snapshot_json text DEFAULT NULL,
        admission_summary text DEFAULT NULL)
    RETURNS TABLE (execution_id text, partition_key text, lane_id text, grant_key text,
                   expires_at_ms bigint)
    AS 'MODULE_PATHNAME', 'ff_issue_claim_grant' LANGUAGE C VOLATILE ROWS 1
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_claim_execution(
        execution_id text,
        grant_key text,
        worker_id text,
        worker_instance_id text,
        lease_ttl_ms bigint DEFAULT 30000)
    RETURNS TABLE (handle bytea, execution_id text, attempt_index integer, attempt_type text,
                   lease_epoch bigint, lease_expires_at_ms bigint, input_payload bytea)
    AS 'MODULE_PATHNAME', 'ff_claim_execution' LANGUAGE C VOLATILE ROWS 1
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_issue_grant_and_claim(
        execution_id text,
        lease_ttl_ms bigint DEFAULT 30000,
        worker_id text DEFAULT 'operator',
        worker_instance_id text DEFAULT 'operator')
    RETURNS TABLE (handle bytea, execution_id text, attempt_index integer, attempt_type text,
                   lease_epoch bigint, lease_expires_at_ms bigint, input_payload bytea)
    AS 'MODULE_PATHNAME', 'ff_issue_grant_and_claim' LANGUAGE C VOLATILE ROWS 1
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_scan_eligible_executions(lane_id text, partition_key text DEFAULT NULL,
                                            max_results integer DEFAULT 100)
    RETURNS TABLE (execution_id text, partition_key text, priority integer, created_at_ms bigint,
                   required_capabilities text[], attempt_state text, granted boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp
BEGIN ATOMIC
    -- the arguments are checked first (YFV01), whether or not any row matches
    SELECT ff_check_lane_id(ff_scan_eligible_executions.lane_id),
           ff_parse_partition_key(ff_scan_eligible_executions.partition_key);
    SELECT ff_format_execution_id(e.partition_key, e.execution_id), '{fp:' || e.partition_key || '}',
           e.priority, e.created_at_ms, e.required_capabilities, e.attempt_state,
           EXISTS (SELECT 1 FROM ff_claim_grant g
                    WHERE g.partition_key = e.partition_key AND g.execution_id = e.execution_id
                      AND g.expires_at_ms > ff_server_time_ms())
      FROM ff_execution e
     WHERE e.lane_id = ff_check_lane_id(ff_scan_eligible_executions.lane_id)
       AND e.eligibility_state = 'eligible_now' AND e.lifecycle_phase = 'runnable'
       AND (ff_scan_eligible_executions.partition_key IS NULL
            OR e.partition_key = ff_parse_partition_key(ff_scan_eligible_executions.partition_key))
     ORDER BY e.priority DESC, e.created_at_ms, e.partition_key, e.execution_id
     LIMIT greatest(least(ff_scan_eligible_executions.max_results, 1000), 0);
END;

CREATE FUNCTION ff_block_route(
        execution_id text,
        reason_code text DEFAULT 'waiting_for_capable_worker',
        reason_detail text DEFAULT NULL,
        OUT eligibility_state text, OUT blocking_reason text, OUT blocking_detail text,
        OUT public_state text)
    AS 'MODULE_PATHNAME', 'ff_block_route' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_unblock_execution(
        execution_id text,
        expected_blocking_reason text DEFAULT NULL,
        OUT eligibility_state text, OUT blocking_reason text, OUT blocking_detail text,
        OUT public_state text)
    AS 'MODULE_PATHNAME', 'ff_unblock_execution' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

-- Reclaim (RFC-024) ---------------------------------------------------------------

CREATE FUNCTION ff_issue_reclaim_grant(
        execution_id text,
        worker_id text,
        worker_instance_id text,
        capabilities text[] DEFAULT '{}',
        grant_ttl_ms bigint DEFAULT 10000,
        capability_hash text DEFAULT NULL,
        route_snapshot_json text DEFAULT NULL,
        admission_summary text DEFAULT NULL)
    RETURNS TABLE (outcome text, execution_id text, partition_key text, lane_id text,
                   grant_key text, expires_at_ms bigint, reclaim_count integer)
    AS 'MODULE_PATHNAME', 'ff_issue_reclaim_grant' LANGUAGE C VOLATILE ROWS 1
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_reclaim_execution(
        execution_id text,
        grant_key text,
        worker_id text,
        worker_instance_id text,
        lease_ttl_ms bigint DEFAULT 30000)
    RETURNS TABLE (outcome text, handle bytea, execution_id text, attempt_index integer,
                   attempt_type text, lease_epoch bigint, lease_expires_at_ms bigint,
                   input_payload bytea, reclaim_count integer)
    AS 'MODULE_PATHNAME', 'ff_reclaim_execution' LANGUAGE C VOLATILE ROWS 1
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_claim_from_resume_grant(
        grant_key text,
        worker_id text,
        worker_instance_id text,
        lease_ttl_ms bigint DEFAULT 30000)
    RETURNS TABLE (handle bytea, execution_id text, attempt_index integer, attempt_type text,
                   lease_epoch bigint, lease_expires_at_ms bigint, input_payload bytea)
    AS 'MODULE_PATHNAME', 'ff_claim_from_resume_grant' LANGUAGE C VOLATILE ROWS 1
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_reconcile_claim_grants(batch_size integer DEFAULT 1000) RETURNS integer
    AS 'MODULE_PATHNAME', 'ff_reconcile_claim_grants' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

-- Operator controls -------------------------------------------------------------

CREATE FUNCTION ff_cancel_execution(
        execution_id text,
        reason text DEFAULT NULL,
        source text DEFAULT 'operator_override',
        lease_epoch bigint DEFAULT NULL,
        OUT outcome text, OUT public_state text, OUT lease_revoked boolean)
    AS 'MODULE_PATHNAME', 'ff_cancel_execution' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_change_priority(execution_id text, new_priority integer,
                                   OUT old_priority integer, OUT new_priority integer)
    AS 'MODULE_PATHNAME', 'ff_change_priority' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_replay_execution(execution_id text, reason text DEFAULT NULL,
                                    OUT public_state text, OUT replay_count integer)
    AS 'MODULE_PATHNAME', 'ff_replay_execution' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_revoke_lease(
        execution_id text,
        expected_lease_id uuid DEFAULT NULL,
        worker_instance_id text DEFAULT NULL,
        reason text DEFAULT NULL,
        OUT outcome text, OUT detail text, OUT lease_id uuid, OUT lease_epoch bigint)
    AS 'MODULE_PATHNAME', 'ff_revoke_lease' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_operator_events(after_event_id bigint DEFAULT 0, max_events integer DEFAULT 100)
    RETURNS TABLE (event_id bigint, event_type text, execution_id text, lane_id text,
                   worker_instance_id text, namespace text, details jsonb, occurred_at_ms bigint)
    AS 'MODULE_PATHNAME', 'ff_operator_events' LANGUAGE C STABLE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

-- Lane controls -------------------------------------------------------------------

CREATE FUNCTION ff_pause_lane(lane_id text, reason text DEFAULT NULL,
                              OUT lane_id text, OUT state text, OUT previous_state text)
    AS 'MODULE_PATHNAME', 'ff_pause_lane' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_resume_lane(lane_id text, reason text DEFAULT NULL,
                               OUT lane_id text, OUT state text, OUT previous_state text)
    AS 'MODULE_PATHNAME', 'ff_resume_lane' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_drain_lane(lane_id text, reason text DEFAULT NULL,
                              OUT lane_id text, OUT state text, OUT previous_state text)
    AS 'MODULE_PATHNAME', 'ff_drain_lane' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

-- Worker registry -------------------------------------------------------------------

CREATE FUNCTION ff_register_worker(
        worker_id text,
        worker_instance_id text,
        lanes text[] DEFAULT '{}',
        capabilities text[] DEFAULT '{}',
        liveness_ttl_ms bigint DEFAULT 30000,
        namespace text DEFAULT 'default',
        OUT outcome text, OUT next_expiry_ms bigint)
    AS 'MODULE_PATHNAME', 'ff_register_worker' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_heartbeat_worker(worker_instance_id text, namespace text DEFAULT 'default',
                                    OUT outcome text, OUT next_expiry_ms bigint)
    AS 'MODULE_PATHNAME', 'ff_heartbeat_worker' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_mark_worker_dead(worker_instance_id text, namespace text DEFAULT 'default',
                                    reason text DEFAULT NULL,
                                    OUT outcome text, OUT leases_released integer)
    AS 'MODULE_PATHNAME', 'ff_mark_worker_dead' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_list_workers(namespace text DEFAULT 'default', cursor text DEFAULT NULL,
                                max_results integer DEFAULT 100)
    RETURNS TABLE (worker_instance_id text, worker_id text, namespace text, lanes text[],
                   capabilities text[], last_heartbeat_ms bigint, liveness_ttl_ms bigint,
                   expires_at_ms bigint, registered_at_ms bigint, alive boolean)
    AS 'MODULE_PATHNAME', 'ff_list_workers' LANGUAGE C STABLE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

-- Leases that ran out: lapsed ones the lease-expiry reconciler has not marked
-- yet (ownership leased), and those awaiting reclaim (expired, revoked, or of
-- a dead worker: expires_at_ms is when the lease was taken away).
CREATE FUNCTION ff_list_expired_leases(
        as_of bigint DEFAULT NULL,
        after_expires_at_ms bigint DEFAULT NULL,
        after_execution_id text DEFAULT NULL,
        max_results integer DEFAULT 1000,
        namespace text DEFAULT NULL)
    RETURNS TABLE (execution_id text, lane_id text, namespace text, attempt_index integer,
                   lease_id uuid, lease_epoch bigint, worker_id text, worker_instance_id text,
                   expires_at_ms bigint, ownership_state text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp
BEGIN ATOMIC
    -- a malformed cursor id is an error (YFV01) whether or not any lease ran out
    SELECT ff_split_execution_id(ff_list_expired_leases.after_execution_id);
    SELECT ff_format_execution_id(x.partition_key, x.execution_id), x.lane_id, x.namespace,
           x.attempt_index, x.lease_id, x.lease_epoch, x.worker_id, x.worker_instance_id,
           x.expires_at_ms, x.ownership_state
      FROM (SELECT e.partition_key, e.execution_id, e.lane_id, e.namespace, a.attempt_index,
                   a.lease_id, a.lease_epoch, a.worker_id, a.worker_instance_id,
                   a.lease_expires_at_ms AS expires_at_ms, e.ownership_state
              FROM ff_attempt a
              JOIN ff_execution e ON e.partition_key = a.partition_key
                                 AND e.execution_id = a.execution_id
                                 AND e.attempt_index = a.attempt_index
             WHERE a.lease_expires_at_ms <= coalesce(ff_list_expired_leases.as_of, ff_server_time_ms())
               AND e.lifecycle_phase = 'active' AND e.ownership_state = 'leased'
            UNION ALL
            SELECT e.partition_key, e.execution_id, e.lane_id, e.namespace, a.attempt_index,
                   a.lease_id, a.lease_epoch, a.worker_id, a.worker_instance_id,
                   a.ended_at_ms, e.ownership_state
              FROM ff_execution e
              JOIN ff_attempt a ON a.partition_key = e.partition_key
                               AND a.execution_id = e.execution_id
                               AND a.attempt_index = e.attempt_index
             WHERE e.ownership_state IN ('lease_expired_reclaimable', 'lease_revoked')
               AND e.lifecycle_phase = 'active'
               AND a.ended_at_ms <= coalesce(ff_list_expired_leases.as_of, ff_server_time_ms())) x
     WHERE (ff_list_expired_leases.namespace IS NULL OR x.namespace = ff_list_expired_leases.namespace)
       AND (ff_list_expired_leases.after_expires_at_ms IS NULL
            OR x.expires_at_ms > ff_list_expired_leases.after_expires_at_ms
            OR (x.expires_at_ms = ff_list_expired_leases.after_expires_at_ms
                AND ff_list_expired_leases.after_execution_id IS NOT NULL
                AND (x.partition_key, x.execution_id) >
                    (SELECT id.partition_key, id.execution_uuid
                       FROM ff_split_execution_id(ff_list_expired_leases.after_execution_id) AS id)))
     ORDER BY x.expires_at_ms, x.partition_key, x.execution_id
     LIMIT greatest(least(ff_list_expired_leases.max_results, 10000), 0);
END;

CREATE FUNCTION ff_reconcile_worker_expiry(batch_size integer DEFAULT 1000) RETURNS integer
    AS 'MODULE_PATHNAME', 'ff_reconcile_worker_expiry' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

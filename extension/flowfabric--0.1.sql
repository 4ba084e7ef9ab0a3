-- flowfabric 0.1: durable-execution engine inside PostgreSQL.
--
-- Until the first release is tagged this script evolves in place; every later
-- version ships an upgrade script flowfabric--A--B.sql.

\echo Use "CREATE EXTENSION flowfabric" to load this file. \quit

------------------------------------------------------------------------------
-- Pure helpers: ids, partitions, the handle codec, the state alphabet.
------------------------------------------------------------------------------

CREATE FUNCTION ff_crc16(data bytea) RETURNS integer
    AS 'MODULE_PATHNAME', 'ff_crc16_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ff_crc16(bytea) IS 'CRC16/XMODEM (the Valkey-cluster slot CRC) of the bytes';

CREATE FUNCTION ff_solo_partition(lane_id text) RETURNS integer
    AS 'MODULE_PATHNAME', 'ff_solo_partition_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ff_solo_partition(text) IS 'partition of executions created on a lane outside any flow';

CREATE FUNCTION ff_flow_partition(flow_id uuid) RETURNS integer
    AS 'MODULE_PATHNAME', 'ff_flow_partition_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ff_flow_partition(uuid) IS 'partition shared by a flow and all of its member executions';

CREATE FUNCTION ff_execution_partition(execution_id text) RETURNS integer
    AS 'MODULE_PATHNAME', 'ff_execution_partition_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION ff_canonical_execution_id(execution_id text) RETURNS text
    AS 'MODULE_PATHNAME', 'ff_canonical_execution_id_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ff_canonical_execution_id(text) IS 'parses an execution id and returns its canonical {fp:N}:<lowercase uuid> form';

CREATE FUNCTION ff_split_execution_id(execution_id text,
                                      OUT partition_key smallint, OUT execution_uuid uuid)
    AS 'MODULE_PATHNAME', 'ff_split_execution_id_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION ff_format_execution_id(partition_key smallint, execution_uuid uuid) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN '{fp:' || partition_key || '}:' || execution_uuid;

CREATE FUNCTION ff_new_execution_id(lane_id text, execution_uuid uuid DEFAULT NULL) RETURNS text
    AS 'MODULE_PATHNAME', 'ff_new_execution_id_sql' LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION ff_new_execution_id(text, uuid) IS 'mints a solo execution id for a lane (random UUIDv4 unless one is given)';

CREATE FUNCTION ff_new_flow_execution_id(flow_id uuid, execution_uuid uuid DEFAULT NULL) RETURNS text
    AS 'MODULE_PATHNAME', 'ff_new_flow_execution_id_sql' LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION ff_new_flow_execution_id(uuid, uuid) IS 'mints an execution id co-located with a flow';

CREATE FUNCTION ff_check_lane_id(lane_id text) RETURNS text
    AS 'MODULE_PATHNAME', 'ff_check_lane_id_sql' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION ff_check_tag_key(key text) RETURNS text
    AS 'MODULE_PATHNAME', 'ff_check_tag_key_sql' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION ff_handle_describe(handle bytea,
    OUT backend text, OUT format integer, OUT execution_id text, OUT attempt_index bigint,
    OUT attempt_id text, OUT lease_id text, OUT lease_epoch bigint, OUT lease_ttl_ms bigint,
    OUT lane_id text, OUT worker_instance_id text)
    AS 'MODULE_PATHNAME', 'ff_handle_describe_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ff_handle_describe(bytea) IS 'decodes an opaque attempt handle (debugging aid)';

CREATE FUNCTION ff_handle_encode(execution_id text, attempt_index integer, attempt_id text,
                                 lease_id text, lease_epoch bigint, lease_ttl_ms bigint,
                                 lane_id text, worker_instance_id text,
                                 backend text DEFAULT 'postgres') RETURNS bytea
    AS 'MODULE_PATHNAME', 'ff_handle_encode_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ff_handle_encode(text, integer, text, text, bigint, bigint, text, text, text) IS 'encodes an attempt handle (v2 wire format; testing aid)';

CREATE FUNCTION ff_derive_public_state(lifecycle_phase text, eligibility_state text,
                                       terminal_outcome text) RETURNS text
    AS 'MODULE_PATHNAME', 'ff_derive_public_state_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION ff_server_time_ms() RETURNS bigint
    AS 'MODULE_PATHNAME', 'ff_server_time_ms_sql' LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION ff_server_time_ms() IS 'the engine clock: server wall clock in epoch ms (plus flowfabric.clock_offset_ms)';

CREATE FUNCTION ff_ping() RETURNS boolean LANGUAGE sql STABLE RETURN true;

------------------------------------------------------------------------------
-- Tables. Every per-execution key leads with partition_key (the {fp:N} of the
-- id), so the schema can be distributed by that column later.
------------------------------------------------------------------------------

CREATE TABLE ff_lane (
    lane_id          text   COLLATE "C" PRIMARY KEY,
    registered_at_ms bigint NOT NULL,
    registered_by    text   NOT NULL
);

CREATE TABLE ff_execution (
    partition_key         smallint NOT NULL CHECK (partition_key BETWEEN 0 AND 255),
    execution_id          uuid     NOT NULL,
    lane_id               text     NOT NULL,
    namespace             text,
    execution_kind        text,
    creator_identity      text,
    flow_id               uuid,
    priority              integer  NOT NULL CHECK (priority BETWEEN 0 AND 9000),
    required_capabilities text[]   NOT NULL DEFAULT '{}',

    -- the seven-dimension state vector (canonical snake_case alphabet)
    lifecycle_phase   text NOT NULL CHECK (lifecycle_phase IN
        ('submitted', 'runnable', 'active', 'suspended', 'terminal')),
    ownership_state   text NOT NULL CHECK (ownership_state IN
        ('unowned', 'leased', 'lease_expired_reclaimable', 'lease_revoked')),
    eligibility_state text NOT NULL CHECK (eligibility_state IN
        ('eligible_now', 'not_eligible_until_time', 'blocked_by_dependencies',
         'blocked_by_budget', 'blocked_by_quota', 'blocked_by_route',
         'blocked_by_lane_state', 'blocked_by_operator', 'not_applicable')),
    blocking_reason   text NOT NULL CHECK (blocking_reason IN
        ('none', 'waiting_for_worker', 'waiting_for_retry_backoff',
         'waiting_for_resume_delay', 'waiting_for_delay', 'waiting_for_signal',
         'waiting_for_approval', 'waiting_for_callback', 'waiting_for_tool_result',
         'waiting_for_children', 'waiting_for_budget', 'waiting_for_quota',
         'waiting_for_capable_worker', 'waiting_for_locality_match',
         'paused_by_operator', 'paused_by_policy', 'paused_by_flow_cancel')),
    terminal_outcome  text NOT NULL CHECK (terminal_outcome IN
        ('none', 'success', 'failed', 'cancelled', 'expired', 'skipped')),
    attempt_state     text NOT NULL CHECK (attempt_state IN
        ('none', 'pending_first_attempt', 'running_attempt', 'attempt_interrupted',
         'pending_retry_attempt', 'pending_replay_attempt', 'attempt_terminal')),
    public_state      text NOT NULL,
    blocking_detail   text,

    attempt_index       integer NOT NULL DEFAULT 0,  -- current attempt (once one exists)
    total_attempt_count integer NOT NULL DEFAULT 0,
    retry_count         integer NOT NULL DEFAULT 0,
    reclaim_count       integer NOT NULL DEFAULT 0,
    lease_epoch         bigint  NOT NULL DEFAULT 0,  -- last epoch issued; never reused

    policy        jsonb,
    input_payload bytea,
    result        bytea,
    tags          jsonb NOT NULL DEFAULT '{}',

    progress_pct           integer,
    progress_message       text,
    progress_updated_at_ms bigint,
    last_failure_message   text,
    last_failure_category  text,
    cancellation_reason    text,
    cancelled_by           text,

    created_at_ms       bigint NOT NULL,
    last_mutation_at_ms bigint NOT NULL,
    started_at_ms       bigint,
    terminal_at_ms      bigint,
    delay_until_ms      bigint,
    deadline_at_ms      bigint,

    PRIMARY KEY (partition_key, execution_id),
    CONSTRAINT ff_execution_public_state_derived CHECK
        (public_state = ff_derive_public_state(lifecycle_phase, eligibility_state, terminal_outcome)),
    CONSTRAINT ff_execution_terminal_outcome_consistent CHECK
        ((lifecycle_phase = 'terminal') = (terminal_outcome <> 'none'))
);

-- Claim is one ordered range scan of this index per lane: highest priority,
-- then oldest. Only claimable rows are in it, so it stays small.
CREATE INDEX ff_execution_claim_idx ON ff_execution (lane_id, priority DESC, created_at_ms)
    WHERE eligibility_state = 'eligible_now' OR ownership_state = 'lease_expired_reclaimable';
CREATE INDEX ff_execution_delay_idx ON ff_execution (delay_until_ms)
    WHERE eligibility_state = 'not_eligible_until_time';
CREATE INDEX ff_execution_deadline_idx ON ff_execution (deadline_at_ms)
    WHERE deadline_at_ms IS NOT NULL AND lifecycle_phase <> 'terminal';
CREATE INDEX ff_execution_flow_idx ON ff_execution (partition_key, flow_id)
    WHERE flow_id IS NOT NULL;

CREATE TABLE ff_attempt (
    partition_key      smallint NOT NULL,
    execution_id       uuid     NOT NULL,
    attempt_index      integer  NOT NULL,
    attempt_id         uuid     NOT NULL,
    attempt_type       text     NOT NULL CHECK (attempt_type IN
        ('initial', 'retry', 'reclaim', 'replay', 'fallback')),
    attempt_lifecycle  text     NOT NULL CHECK (attempt_lifecycle IN
        ('created', 'started', 'suspended', 'ended_success', 'ended_failure',
         'ended_cancelled', 'interrupted_reclaimed')),
    worker_id          text     NOT NULL,
    worker_instance_id text     NOT NULL,
    lease_id           uuid     NOT NULL,
    lease_epoch        bigint   NOT NULL,
    lease_ttl_ms       bigint   NOT NULL,
    lease_acquired_at_ms bigint NOT NULL,
    lease_renewed_at_ms  bigint,
    lease_expires_at_ms  bigint,          -- NULL once the lease is released
    timeout_at_ms      bigint,            -- attempt timeout, from the policy
    started_at_ms      bigint   NOT NULL,
    ended_at_ms        bigint,
    end_reason         text,              -- why the lease was released, e.g. completed, lease_expired
    failure_message    text,
    failure_category   text,
    failure_detail     bytea,
    retry_delay_until_ms bigint,          -- set when this attempt's failure scheduled a retry
    usage              jsonb,
    PRIMARY KEY (partition_key, execution_id, attempt_index),
    FOREIGN KEY (partition_key, execution_id) REFERENCES ff_execution ON DELETE CASCADE
);
CREATE INDEX ff_attempt_lease_expiry_idx ON ff_attempt (lease_expires_at_ms)
    WHERE lease_expires_at_ms IS NOT NULL;
CREATE INDEX ff_attempt_timeout_idx ON ff_attempt (timeout_at_ms)
    WHERE timeout_at_ms IS NOT NULL;

CREATE TABLE ff_idempotency_key (
    partition_key   smallint NOT NULL,
    namespace       text     NOT NULL,
    idempotency_key text     NOT NULL,
    execution_id    uuid     NOT NULL,
    expires_at_ms   bigint   NOT NULL,
    PRIMARY KEY (partition_key, namespace, idempotency_key)
);
CREATE INDEX ff_idempotency_key_expiry_idx ON ff_idempotency_key (expires_at_ms);

-- Outboxes. event_id is (top-level transaction id << 20 | sequence within the
-- transaction): readers only return events of transactions older than every
-- running one, so reading by "event_id > cursor" never skips a late commit.
CREATE TABLE ff_completion_event (
    event_id       bigint   PRIMARY KEY,
    partition_key  smallint NOT NULL,
    execution_id   uuid     NOT NULL,
    flow_id        uuid,
    outcome        text     NOT NULL CHECK (outcome IN
        ('success', 'failed', 'cancelled', 'expired', 'skipped')),
    namespace      text,
    lane_id        text     NOT NULL,
    attempt_index  integer,
    occurred_at_ms bigint   NOT NULL
);
CREATE INDEX ff_completion_event_execution_idx ON ff_completion_event (partition_key, execution_id);

CREATE TABLE ff_lease_event (
    event_id           bigint   PRIMARY KEY,
    partition_key      smallint NOT NULL,
    execution_id       uuid     NOT NULL,
    attempt_index      integer  NOT NULL,
    lease_id           uuid,
    lease_epoch        bigint   NOT NULL,
    event_type         text     NOT NULL CHECK (event_type IN
        ('acquired', 'renewed', 'released', 'expired', 'revoked', 'reclaimed')),
    reason             text,
    worker_id          text,
    worker_instance_id text,
    namespace          text,
    occurred_at_ms     bigint   NOT NULL
);
CREATE INDEX ff_lease_event_execution_idx ON ff_lease_event (partition_key, execution_id);

REVOKE ALL ON ff_lane, ff_execution, ff_attempt, ff_idempotency_key,
              ff_completion_event, ff_lease_event FROM PUBLIC;

-- The tables hold user data: pg_dump must dump their rows, not just the extension.
SELECT pg_catalog.pg_extension_config_dump('ff_lane', '');
SELECT pg_catalog.pg_extension_config_dump('ff_execution', '');
SELECT pg_catalog.pg_extension_config_dump('ff_attempt', '');
SELECT pg_catalog.pg_extension_config_dump('ff_idempotency_key', '');
SELECT pg_catalog.pg_extension_config_dump('ff_completion_event', '');
SELECT pg_catalog.pg_extension_config_dump('ff_lease_event', '');

------------------------------------------------------------------------------
-- Engine operations (C). One call is one transaction's worth of work; every
-- state change takes the execution row lock before the attempt row lock.
------------------------------------------------------------------------------

CREATE FUNCTION ff_create_execution(
        lane_id text,
        input_payload bytea DEFAULT NULL,
        execution_id text DEFAULT NULL,
        namespace text DEFAULT NULL,
        execution_kind text DEFAULT NULL,
        priority integer DEFAULT 0,
        required_capabilities text[] DEFAULT '{}',
        policy jsonb DEFAULT NULL,
        delay_until bigint DEFAULT NULL,
        execution_deadline_at bigint DEFAULT NULL,
        idempotency_key text DEFAULT NULL,
        tags jsonb DEFAULT NULL,
        creator_identity text DEFAULT NULL,
        OUT execution_id text, OUT public_state text, OUT created boolean)
    AS 'MODULE_PATHNAME', 'ff_create_execution' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_claim(
        lane_id text,
        worker_id text,
        worker_instance_id text,
        capabilities text[] DEFAULT '{}',
        lease_ttl_ms bigint DEFAULT 30000,
        max_claims integer DEFAULT 1)
    RETURNS TABLE (handle bytea, execution_id text, attempt_index integer, lease_epoch bigint,
                   lease_expires_at_ms bigint, input_payload bytea)
    AS 'MODULE_PATHNAME', 'ff_claim' LANGUAGE C VOLATILE ROWS 1
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_renew(handle bytea, OUT lease_expires_at_ms bigint, OUT lease_epoch bigint)
    AS 'MODULE_PATHNAME', 'ff_renew' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_progress(handle bytea, percent integer DEFAULT NULL, message text DEFAULT NULL)
    RETURNS void
    AS 'MODULE_PATHNAME', 'ff_progress' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_complete(handle bytea, payload bytea DEFAULT NULL) RETURNS void
    AS 'MODULE_PATHNAME', 'ff_complete' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_fail(handle bytea, message text, classification text DEFAULT 'transient',
                        detail bytea DEFAULT NULL,
                        OUT outcome text, OUT delay_until bigint)
    AS 'MODULE_PATHNAME', 'ff_fail' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_cancel(handle bytea, reason text) RETURNS void
    AS 'MODULE_PATHNAME', 'ff_cancel' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_delay(handle bytea, delay_until bigint) RETURNS void
    AS 'MODULE_PATHNAME', 'ff_delay' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

-- One-shot reconcilers; each returns how many executions it changed.
CREATE FUNCTION ff_reconcile_lease_expiry(batch_size integer DEFAULT 1000) RETURNS integer
    AS 'MODULE_PATHNAME', 'ff_reconcile_lease_expiry' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_reconcile_attempt_timeout(batch_size integer DEFAULT 1000) RETURNS integer
    AS 'MODULE_PATHNAME', 'ff_reconcile_attempt_timeout' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_reconcile_delayed_promotion(batch_size integer DEFAULT 1000) RETURNS integer
    AS 'MODULE_PATHNAME', 'ff_reconcile_delayed_promotion' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_reconcile_execution_deadline(batch_size integer DEFAULT 1000) RETURNS integer
    AS 'MODULE_PATHNAME', 'ff_reconcile_execution_deadline' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

-- Outbox readers (LISTEN ff_completion / ff_lease_event for wake-ups).
CREATE FUNCTION ff_completion_events(after_event_id bigint DEFAULT 0, max_events integer DEFAULT 100)
    RETURNS TABLE (event_id bigint, execution_id text, flow_id uuid, outcome text,
                   namespace text, lane_id text, attempt_index integer, occurred_at_ms bigint)
    AS 'MODULE_PATHNAME', 'ff_completion_events' LANGUAGE C STABLE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_lease_events(after_event_id bigint DEFAULT 0, max_events integer DEFAULT 100)
    RETURNS TABLE (event_id bigint, execution_id text, attempt_index integer, lease_id uuid,
                   lease_epoch bigint, event_type text, reason text, worker_id text,
                   worker_instance_id text, namespace text, occurred_at_ms bigint)
    AS 'MODULE_PATHNAME', 'ff_lease_events' LANGUAGE C STABLE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

------------------------------------------------------------------------------
-- Reads. Unknown ids give no row (or NULL); malformed ids are an error.
------------------------------------------------------------------------------

-- ff_execution_by_id is the row behind an execution id (inlined into callers).
CREATE FUNCTION ff_execution_by_id(execution_id text) RETURNS SETOF ff_execution
    LANGUAGE sql STABLE
    AS $$
    SELECT e.* FROM ff_execution e
     WHERE (e.partition_key, e.execution_id) =
           (SELECT id.partition_key, id.execution_uuid FROM ff_split_execution_id($1) AS id)
    $$;
REVOKE ALL ON FUNCTION ff_execution_by_id(text) FROM PUBLIC;

CREATE FUNCTION ff_describe_execution(execution_id text)
    RETURNS TABLE (execution_id text, flow_id uuid, lane_id text, namespace text,
                   public_state text, blocking_reason text, blocking_detail text,
                   current_attempt_index integer, current_attempt_id uuid,
                   lease_id uuid, lease_epoch bigint, worker_instance_id text,
                   lease_expires_at_ms bigint, lease_renewed_at_ms bigint,
                   created_at_ms bigint, last_mutation_at_ms bigint,
                   total_attempt_count integer, tags jsonb)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp
BEGIN ATOMIC
    SELECT ff_format_execution_id(e.partition_key, e.execution_id), e.flow_id, e.lane_id,
           e.namespace, e.public_state, e.blocking_reason, e.blocking_detail,
           CASE WHEN e.total_attempt_count > 0 THEN e.attempt_index END, a.attempt_id,
           CASE WHEN a.lease_expires_at_ms IS NOT NULL THEN a.lease_id END,
           CASE WHEN a.lease_expires_at_ms IS NOT NULL THEN a.lease_epoch END,
           CASE WHEN a.lease_expires_at_ms IS NOT NULL THEN a.worker_instance_id END,
           a.lease_expires_at_ms,
           CASE WHEN a.lease_expires_at_ms IS NOT NULL THEN a.lease_renewed_at_ms END,
           e.created_at_ms, e.last_mutation_at_ms, e.total_attempt_count, e.tags
      FROM ff_execution_by_id(ff_describe_execution.execution_id) AS e
      LEFT JOIN ff_attempt a ON a.partition_key = e.partition_key
                            AND a.execution_id = e.execution_id
                            AND a.attempt_index = e.attempt_index;
END;

CREATE FUNCTION ff_read_execution_info(execution_id text)
    RETURNS TABLE (execution_id text, namespace text, lane_id text, priority integer,
                   execution_kind text, lifecycle_phase text, ownership_state text,
                   eligibility_state text, blocking_reason text, terminal_outcome text,
                   attempt_state text, public_state text, created_at_ms bigint,
                   started_at_ms bigint, completed_at_ms bigint,
                   current_attempt_index integer, flow_id uuid, blocking_detail text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp
BEGIN ATOMIC
    SELECT ff_format_execution_id(e.partition_key, e.execution_id), e.namespace, e.lane_id,
           e.priority, e.execution_kind, e.lifecycle_phase, e.ownership_state,
           e.eligibility_state, e.blocking_reason, e.terminal_outcome, e.attempt_state,
           e.public_state, e.created_at_ms, e.started_at_ms, e.terminal_at_ms,
           e.attempt_index, e.flow_id, e.blocking_detail
      FROM ff_execution_by_id(ff_read_execution_info.execution_id) AS e;
END;

CREATE FUNCTION ff_read_execution_state(execution_id text) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp
BEGIN ATOMIC
    SELECT e.public_state
      FROM ff_execution_by_id(ff_read_execution_state.execution_id) AS e;
END;

CREATE FUNCTION ff_get_execution_result(execution_id text) RETURNS bytea
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp
BEGIN ATOMIC
    SELECT e.result
      FROM ff_execution_by_id(ff_get_execution_result.execution_id) AS e;
END;

CREATE FUNCTION ff_read_execution_context(execution_id text)
    RETURNS TABLE (input_payload bytea, execution_kind text, tags jsonb)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp
BEGIN ATOMIC
    SELECT coalesce(e.input_payload, ''::bytea), coalesce(e.execution_kind, ''), e.tags
      FROM ff_execution_by_id(ff_read_execution_context.execution_id) AS e;
END;

CREATE FUNCTION ff_read_current_attempt_index(execution_id text) RETURNS integer
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp
BEGIN ATOMIC
    SELECT e.attempt_index
      FROM ff_execution_by_id(ff_read_current_attempt_index.execution_id) AS e;
END;

CREATE FUNCTION ff_read_total_attempt_count(execution_id text) RETURNS integer
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp
BEGIN ATOMIC
    SELECT e.total_attempt_count
      FROM ff_execution_by_id(ff_read_total_attempt_count.execution_id) AS e;
END;

CREATE FUNCTION ff_get_execution_namespace(execution_id text) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp
BEGIN ATOMIC
    SELECT e.namespace
      FROM ff_execution_by_id(ff_get_execution_namespace.execution_id) AS e;
END;

CREATE FUNCTION ff_get_execution_tag(execution_id text, key text) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp
BEGIN ATOMIC
    -- the key is checked first, so a bad key fails even for an unknown execution
    SELECT e.tags ->> k.key
      FROM ff_check_tag_key(ff_get_execution_tag.key) AS k(key)
      LEFT JOIN ff_execution_by_id(ff_get_execution_tag.execution_id) AS e ON true;
END;

CREATE FUNCTION ff_set_execution_tag(execution_id text, key text, value text) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
DECLARE
    id record := ff_split_execution_id(execution_id);
BEGIN
    IF value IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'YFV01',
            MESSAGE = 'invalid_input: tag value must not be null';
    END IF;
    UPDATE ff_execution e
       SET tags = jsonb_set(e.tags, ARRAY[ff_check_tag_key(key)], to_jsonb(value), true),
           last_mutation_at_ms = ff_server_time_ms()
     WHERE e.partition_key = id.partition_key AND e.execution_id = id.execution_uuid;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'YFN01',
            MESSAGE = format('execution_not_found: execution %s does not exist', execution_id);
    END IF;
END
$$;

CREATE FUNCTION ff_parse_partition_key(partition_key text) RETURNS smallint
    AS 'MODULE_PATHNAME', 'ff_parse_partition_key_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ff_parse_partition_key(text) IS 'parses an execution partition key {fp:N}';

CREATE FUNCTION ff_list_executions(partition_key text, cursor text DEFAULT NULL,
                                   max_results integer DEFAULT 100)
    RETURNS TABLE (execution_id text, lane_id text, public_state text, created_at_ms bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp
BEGIN ATOMIC
    SELECT ff_format_execution_id(e.partition_key, e.execution_id), e.lane_id,
           e.public_state, e.created_at_ms
      FROM ff_execution e
     WHERE e.partition_key = ff_parse_partition_key(ff_list_executions.partition_key)
       AND (ff_list_executions.cursor IS NULL
            OR e.execution_id > (ff_split_execution_id(ff_list_executions.cursor)).execution_uuid)
     ORDER BY e.execution_id
     LIMIT greatest(least(ff_list_executions.max_results, 1000), 0);
END;

CREATE FUNCTION ff_list_lanes(cursor text DEFAULT NULL, max_results integer DEFAULT 100)
    RETURNS TABLE (lane_id text, registered_at_ms bigint, registered_by text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp
BEGIN ATOMIC
    SELECT l.lane_id, l.registered_at_ms, l.registered_by
      FROM ff_lane l
     WHERE ff_list_lanes.cursor IS NULL OR l.lane_id > ff_list_lanes.cursor
     ORDER BY l.lane_id
     LIMIT greatest(least(ff_list_lanes.max_results, 1000), 0);
END;

CREATE FUNCTION ff_capabilities() RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ff_capabilities' LANGUAGE C STABLE;
COMMENT ON FUNCTION ff_capabilities() IS 'what this engine implements: true only for callable operations';

------------------------------------------------------------------------------
-- Tables. Every per-execution key leads with partition_key (the {fp:N} of the
-- id), so the schema can be distributed by that column later.
------------------------------------------------------------------------------

CREATE TABLE ff_lane (
    lane_id          text   COLLATE "C" PRIMARY KEY,
    registered_at_ms bigint NOT NULL,
    registered_by    text   NOT NULL,
    -- LaneState; claims skip paused lanes, draining lanes only continue
    -- started work (operator controls, docs/operator.md)
    state            text   NOT NULL DEFAULT 'active'
        CHECK (state IN ('active', 'paused', 'draining', 'disabled'))
);

CREATE TABLE ff_execution (
    partition_key         smallint NOT NULL,
    execution_id          uuid     NOT NULL,
    lane_id               text     NOT NULL,
    namespace             text,
    execution_kind        text,
    creator_identity      text,
    flow_id               uuid,
    priority              integer  NOT NULL,
    required_capabilities text[]   NOT NULL DEFAULT '{}',

    -- the seven-dimension state vector (canonical snake_case alphabet)
    lifecycle_phase   text NOT NULL,
    ownership_state   text NOT NULL,
    eligibility_state text NOT NULL,
    blocking_reason   text NOT NULL,
    terminal_outcome  text NOT NULL,
    attempt_state     text NOT NULL,
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
    -- partition_key 0..255, priority 0..9000, canonical alphabet, derived
    -- public_state, terminal iff an outcome: one C call (state.c), because
    -- PostgreSQL re-reads a table's CHECK expressions in every statement
    CONSTRAINT ff_execution_row_valid CHECK
        (ff_execution_row_valid(partition_key, priority, lifecycle_phase, ownership_state,
                                eligibility_state, blocking_reason, terminal_outcome,
                                attempt_state, public_state))
);

-- Claim is one ordered range scan of this index per lane: highest priority,
-- then oldest. Only claimable rows are in it, so it stays small.
CREATE INDEX ff_execution_claim_idx ON ff_execution (lane_id, priority DESC, created_at_ms)
    WHERE eligibility_state = 'eligible_now'
       OR ownership_state IN ('lease_expired_reclaimable', 'lease_revoked');
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
    attempt_type       text     NOT NULL,
    attempt_lifecycle  text     NOT NULL,
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
    -- No foreign key to ff_execution: its per-row check (a query locking the
    -- execution row) cost 12% of a claim, and the engine inserts an attempt
    -- only while it holds its execution's row lock. Deleting executions
    -- deletes their attempts (ff_execution_delete_attempts below), and
    -- ff_check_invariants reports an attempt without its execution.
    CONSTRAINT ff_attempt_state_valid CHECK (ff_attempt_state_valid(attempt_type, attempt_lifecycle))
);
CREATE INDEX ff_attempt_lease_expiry_idx ON ff_attempt (lease_expires_at_ms)
    WHERE lease_expires_at_ms IS NOT NULL;
CREATE INDEX ff_attempt_timeout_idx ON ff_attempt (timeout_at_ms)
    WHERE timeout_at_ms IS NOT NULL;

-- What ON DELETE CASCADE did, once per statement: the attempts of deleted
-- executions go with them (and their streams, by their own foreign keys).
CREATE FUNCTION ff_execution_deleted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
BEGIN
    DELETE FROM ff_attempt a USING gone g
     WHERE a.partition_key = g.partition_key AND a.execution_id = g.execution_id;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION ff_execution_deleted() FROM PUBLIC;
CREATE TRIGGER ff_execution_delete_attempts AFTER DELETE ON ff_execution
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION ff_execution_deleted();

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
    outcome        text     NOT NULL   -- success, failed, cancelled, expired, skipped
        CONSTRAINT ff_completion_event_outcome_check CHECK (ff_completion_outcome_valid(outcome)),
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
    -- acquired, renewed, released, expired, revoked, reclaimed
    event_type         text     NOT NULL
        CONSTRAINT ff_lease_event_event_type_check CHECK (ff_lease_event_type_valid(event_type)),
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

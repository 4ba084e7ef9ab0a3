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

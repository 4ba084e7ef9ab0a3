------------------------------------------------------------------------------
-- Budgets, quotas and admission control (extension/budget*.c, quota.c,
-- docs/budgets.md). Budgets count usage per dimension against hard and soft
-- limits; quota policies limit how many claims a sliding window admits and
-- how many attempts run at once. Executions attach to them through their
-- policy ("budget_ids", "quota_policy_id"), and ff_claim holds attached work
-- back: an execution whose budget is exhausted, or whose quota refuses it, is
-- moved to blocked_by_budget / blocked_by_quota (public state rate_limited)
-- and recorded here, so a reset, a raised limit, a released slot or the end
-- of a rate window puts it back in line.
--
-- Budget and quota rows lead with their partition: CRC-16/XMODEM of the 16
-- UUID bytes mod 32 (upstream's {b:N} / {q:N}). Lock order: execution rows
-- before budget / quota rows; the few places that must touch an execution
-- while holding a budget or quota row take it SKIP LOCKED and leave what
-- they skip to a reconciler.
------------------------------------------------------------------------------

CREATE TABLE ff_budget_policy (
    partition_key     smallint NOT NULL CHECK (partition_key BETWEEN 0 AND 31),
    budget_id         uuid     NOT NULL,
    -- {"hard_limits": {dim: n}, "soft_limits": {dim: n}, "reset_interval_ms": n,
    --  "on_hard_limit": "block|fail|cancel|notify", "on_soft_limit": "notify"}
    policy_json       jsonb    NOT NULL,
    scope_type        text     NOT NULL DEFAULT '',
    scope_id          text     NOT NULL DEFAULT '',
    enforcement_mode  text     NOT NULL DEFAULT 'strict' CHECK (enforcement_mode IN ('strict', 'warn')),
    breach_count      bigint   NOT NULL DEFAULT 0,   -- hard breaches (rejected reports), ever
    soft_breach_count bigint   NOT NULL DEFAULT 0,
    last_breach_at_ms bigint,                         -- cleared by a reset
    last_breach_dim   text,
    -- set while the budget holds attached work back: a report was rejected,
    -- or a dimension reached its hard limit (strict mode only)
    breached_at_ms    bigint,
    reset_count       bigint   NOT NULL DEFAULT 0,   -- the ledger epoch
    last_reset_at_ms  bigint,
    next_reset_at_ms  bigint,                         -- NULL: no scheduled reset
    created_at_ms     bigint   NOT NULL,
    updated_at_ms     bigint   NOT NULL,
    PRIMARY KEY (partition_key, budget_id)
);
CREATE INDEX ff_budget_policy_reset_due_idx ON ff_budget_policy (next_reset_at_ms)
    WHERE next_reset_at_ms IS NOT NULL;
CREATE INDEX ff_budget_policy_breached_idx ON ff_budget_policy (partition_key, budget_id)
    WHERE breached_at_ms IS NOT NULL;

-- The running total per dimension since the last reset.
CREATE TABLE ff_budget_usage (
    partition_key    smallint NOT NULL,
    budget_id        uuid     NOT NULL,
    dimension        text     COLLATE "C" NOT NULL,
    current_value    bigint   NOT NULL DEFAULT 0,
    last_reset_at_ms bigint,
    updated_at_ms    bigint   NOT NULL,
    PRIMARY KEY (partition_key, budget_id, dimension)
);

-- Every applied delta, summed per (reset epoch, dimension, execution): the
-- ledger the totals are recomputed from (ff_reconcile_budget_counters), and
-- what ff_release_budget reverses. Usage reported without an execution has
-- exec_partition -1 and the nil UUID.
CREATE TABLE ff_budget_usage_by_exec (
    partition_key  smallint NOT NULL,
    budget_id      uuid     NOT NULL,
    exec_partition smallint NOT NULL,
    execution_id   uuid     NOT NULL,
    reset_epoch    bigint   NOT NULL,
    dimension      text     COLLATE "C" NOT NULL,
    delta_total    bigint   NOT NULL DEFAULT 0,
    updated_at_ms  bigint   NOT NULL,
    PRIMARY KEY (partition_key, budget_id, exec_partition, execution_id, reset_epoch, dimension)
);
CREATE INDEX ff_budget_usage_by_exec_epoch_idx
    ON ff_budget_usage_by_exec (partition_key, budget_id, reset_epoch);

-- Budgets whose counters or ledger changed since ff_reconcile_budget_counters
-- last checked them (marked by the trigger ff_budget_counter_mark below):
-- the reconciler reads only these, so its cost follows what changed, not
-- the size of the ledger.
CREATE TABLE ff_budget_counter_dirty (
    partition_key smallint NOT NULL,
    budget_id     uuid     NOT NULL,
    marked_at_ms  bigint   NOT NULL,
    PRIMARY KEY (partition_key, budget_id)
);

-- Dedup keys of usage reports and spends, per budget, for 24 hours. A
-- report that was rejected (hard breach) does not keep its key.
CREATE TABLE ff_budget_usage_dedup (
    partition_key smallint NOT NULL,
    budget_id     uuid     NOT NULL,
    dedup_key     text     COLLATE "C" NOT NULL,
    outcome_json  jsonb    NOT NULL,
    applied_at_ms bigint   NOT NULL,
    expires_at_ms bigint   NOT NULL,
    PRIMARY KEY (partition_key, budget_id, dedup_key)
);
CREATE INDEX ff_budget_usage_dedup_expires_idx ON ff_budget_usage_dedup (expires_at_ms);

-- Executions a budget holds back (status blocked: reset, raised limits and
-- releases unblock them), and attached executions that started while the
-- budget's on_hard_limit is fail or cancel (status admitted: the breach
-- action acts on them). Rows go when the execution finishes.
CREATE TABLE ff_budget_execution (
    partition_key  smallint NOT NULL,
    budget_id      uuid     NOT NULL,
    exec_partition smallint NOT NULL,
    execution_id   uuid     NOT NULL,
    status         text     NOT NULL CHECK (status IN ('blocked', 'admitted')),
    since_ms       bigint   NOT NULL,
    PRIMARY KEY (partition_key, budget_id, exec_partition, execution_id)
);
CREATE INDEX ff_budget_execution_status_idx
    ON ff_budget_execution (partition_key, budget_id, status, since_ms);

CREATE TABLE ff_quota_policy (
    partition_key               smallint NOT NULL CHECK (partition_key BETWEEN 0 AND 31),
    quota_policy_id             uuid     NOT NULL,
    requests_per_window_seconds bigint   NOT NULL,
    max_requests_per_window     bigint   NOT NULL,   -- 0: no rate limit
    active_concurrency_cap      bigint   NOT NULL,   -- 0: no concurrency cap
    jitter_ms                   bigint   NOT NULL DEFAULT 0,
    active_concurrency          bigint   NOT NULL DEFAULT 0,  -- slots held
    -- false for the placeholder ff_check_admission makes to count slots of
    -- an undefined policy; ff_create_quota_policy then defines it
    defined                     boolean  NOT NULL DEFAULT true,
    created_at_ms               bigint   NOT NULL,
    updated_at_ms               bigint   NOT NULL,
    PRIMARY KEY (partition_key, quota_policy_id)
);

-- The sliding window: admissions per (dimension, ms, execution); hits counts
-- repeats in the same ms. Claims use dimension ''.
CREATE TABLE ff_quota_window (
    partition_key   smallint NOT NULL,
    quota_policy_id uuid     NOT NULL,
    dimension       text     COLLATE "C" NOT NULL DEFAULT '',
    admitted_at_ms  bigint   NOT NULL,
    execution_id    text     COLLATE "C" NOT NULL,   -- wire form {fp:N}:<uuid>
    hits            integer  NOT NULL DEFAULT 1,
    PRIMARY KEY (partition_key, quota_policy_id, dimension, admitted_at_ms, execution_id)
);

-- Admissions: the idempotency guard of ff_check_admission (expires with the
-- window) and the concurrency slots (holds_slot). A slot taken by a claim
-- has no expiry: it is held until the attempt's lease is released.
CREATE TABLE ff_quota_admitted (
    partition_key   smallint NOT NULL,
    quota_policy_id uuid     NOT NULL,
    execution_id    text     COLLATE "C" NOT NULL,   -- wire form
    admitted_at_ms  bigint   NOT NULL,
    expires_at_ms   bigint,                           -- NULL: until released
    holds_slot      boolean  NOT NULL,
    PRIMARY KEY (partition_key, quota_policy_id, execution_id)
);
CREATE INDEX ff_quota_admitted_expires_idx ON ff_quota_admitted (expires_at_ms)
    WHERE expires_at_ms IS NOT NULL;

-- Executions a quota holds back: reason rate (until retry_at_ms) or
-- concurrency (until a slot frees).
CREATE TABLE ff_quota_blocked (
    partition_key   smallint NOT NULL,
    quota_policy_id uuid     NOT NULL,
    exec_partition  smallint NOT NULL,
    execution_id    uuid     NOT NULL,
    reason          text     NOT NULL CHECK (reason IN ('rate', 'concurrency')),
    retry_at_ms     bigint,
    blocked_at_ms   bigint   NOT NULL,
    PRIMARY KEY (partition_key, quota_policy_id, exec_partition, execution_id)
);
CREATE INDEX ff_quota_blocked_retry_idx ON ff_quota_blocked (retry_at_ms)
    WHERE retry_at_ms IS NOT NULL;
CREATE INDEX ff_quota_blocked_waiters_idx ON ff_quota_blocked (partition_key, quota_policy_id, blocked_at_ms)
    WHERE reason = 'concurrency';

REVOKE ALL ON ff_budget_policy, ff_budget_usage, ff_budget_usage_by_exec, ff_budget_usage_dedup,
              ff_budget_execution, ff_quota_policy, ff_quota_window, ff_quota_admitted,
              ff_quota_blocked, ff_budget_counter_dirty FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('ff_budget_policy', '');
SELECT pg_catalog.pg_extension_config_dump('ff_budget_usage', '');
SELECT pg_catalog.pg_extension_config_dump('ff_budget_usage_by_exec', '');
SELECT pg_catalog.pg_extension_config_dump('ff_budget_counter_dirty', '');
SELECT pg_catalog.pg_extension_config_dump('ff_budget_usage_dedup', '');
SELECT pg_catalog.pg_extension_config_dump('ff_budget_execution', '');
SELECT pg_catalog.pg_extension_config_dump('ff_quota_policy', '');
SELECT pg_catalog.pg_extension_config_dump('ff_quota_window', '');
SELECT pg_catalog.pg_extension_config_dump('ff_quota_admitted', '');
SELECT pg_catalog.pg_extension_config_dump('ff_quota_blocked', '');

-- Any change of a usage counter or of the ledger (the engine's, or anyone
-- else's) marks its budget for ff_reconcile_budget_counters.
CREATE FUNCTION ff_budget_counter_mark() RETURNS trigger
    AS 'MODULE_PATHNAME', 'ff_budget_counter_mark' LANGUAGE C
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;
REVOKE ALL ON FUNCTION ff_budget_counter_mark() FROM PUBLIC;
CREATE TRIGGER ff_budget_usage_mark
    AFTER INSERT OR UPDATE OR DELETE ON ff_budget_usage
    FOR EACH ROW EXECUTE FUNCTION ff_budget_counter_mark();
CREATE TRIGGER ff_budget_ledger_mark
    AFTER INSERT OR UPDATE OR DELETE ON ff_budget_usage_by_exec
    FOR EACH ROW EXECUTE FUNCTION ff_budget_counter_mark();

-- The reconciler worker wakes when a reset or a rate-window retry falls due.
CREATE TRIGGER ff_reconciler_wake_budget_reset
    BEFORE INSERT OR UPDATE OF next_reset_at_ms ON ff_budget_policy
    FOR EACH ROW WHEN (NEW.next_reset_at_ms IS NOT NULL)
    EXECUTE FUNCTION ff_reconciler_wake('next_reset_at_ms');
CREATE TRIGGER ff_reconciler_wake_quota_retry
    BEFORE INSERT OR UPDATE OF retry_at_ms ON ff_quota_blocked
    FOR EACH ROW WHEN (NEW.retry_at_ms IS NOT NULL)
    EXECUTE FUNCTION ff_reconciler_wake('retry_at_ms');

------------------------------------------------------------------------------
-- Budgets
------------------------------------------------------------------------------

-- Define a budget (budget_id NULL: a new UUID). An existing budget is left
-- as it is (outcome already_satisfied); change limits with
-- ff_update_budget_limits.
CREATE FUNCTION ff_create_budget(
        budget_id text DEFAULT NULL,
        dimensions text[] DEFAULT '{}',
        hard_limits bigint[] DEFAULT '{}',
        soft_limits bigint[] DEFAULT '{}',
        reset_interval_ms bigint DEFAULT 0,        -- 0: no scheduled reset
        scope_type text DEFAULT '',
        scope_id text DEFAULT '',
        enforcement_mode text DEFAULT 'strict',    -- strict | warn
        on_hard_limit text DEFAULT 'block',        -- block | fail | cancel | notify
        on_soft_limit text DEFAULT 'notify',       -- notify
        OUT outcome text, OUT budget_id text, OUT next_reset_at_ms bigint)
    AS 'MODULE_PATHNAME', 'ff_create_budget' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

-- Set the limits of the named dimensions (0 and 0 removes a dimension's
-- limits). A budget no longer exhausted releases the work it held back.
CREATE FUNCTION ff_update_budget_limits(
        budget_id text, dimensions text[], hard_limits bigint[], soft_limits bigint[],
        OUT breached boolean, OUT unblocked integer)
    AS 'MODULE_PATHNAME', 'ff_update_budget_limits' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

-- Zero the usage now, advance the schedule, release the work held back.
CREATE FUNCTION ff_reset_budget(budget_id text,
        OUT outcome text, OUT next_reset_at_ms bigint, OUT unblocked integer)
    AS 'MODULE_PATHNAME', 'ff_reset_budget' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_get_budget_status(budget_id text,
        OUT budget_id text, OUT scope_type text, OUT scope_id text, OUT enforcement_mode text,
        OUT on_hard_limit text, OUT on_soft_limit text, OUT usage jsonb, OUT hard_limits jsonb,
        OUT soft_limits jsonb, OUT breach_count bigint, OUT soft_breach_count bigint,
        OUT last_breach_at_ms bigint, OUT last_breach_dim text, OUT breached boolean,
        OUT breached_at_ms bigint, OUT reset_interval_ms bigint, OUT reset_count bigint,
        OUT last_reset_at_ms bigint, OUT next_reset_at_ms bigint, OUT blocked_executions bigint,
        OUT created_at_ms bigint, OUT updated_at_ms bigint)
    AS 'MODULE_PATHNAME', 'ff_get_budget_status' LANGUAGE C STABLE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

-- Upstream's BudgetUsageAndLimits: limits {"hard:<dim>": "<n>", "soft:<dim>": "<n>"},
-- usage {<dim>: n} for every dimension with a hard limit. Unknown: both {}.
CREATE FUNCTION ff_read_budget_usage_and_limits(budget_id text, OUT limits jsonb, OUT usage jsonb)
    AS 'MODULE_PATHNAME', 'ff_read_budget_usage_and_limits' LANGUAGE C STABLE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

-- The worker's usage report for its attempt's execution. dimensions is
-- {"<dim>": delta, ...} (or upstream's UsageDimensions {"custom": {...},
-- "dedup_key": "..."}). outcome: ok | soft_breach | hard_breach |
-- already_applied (first_outcome says what the first call did).
CREATE FUNCTION ff_report_usage(handle bytea, budget_id text, dimensions jsonb,
        dedup_key text DEFAULT NULL,
        OUT outcome text, OUT dimension text, OUT current_usage bigint, OUT limit_value bigint,
        OUT first_outcome text)
    AS 'MODULE_PATHNAME', 'ff_report_usage' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_report_usage_admin(budget_id text, dimensions text[], deltas bigint[],
        dedup_key text DEFAULT NULL,
        OUT outcome text, OUT dimension text, OUT current_usage bigint, OUT limit_value bigint,
        OUT first_outcome text)
    AS 'MODULE_PATHNAME', 'ff_report_usage_admin' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

-- Usage attributed to an execution (released again by ff_release_budget).
CREATE FUNCTION ff_record_spend(budget_id text, execution_id text, deltas jsonb,
        idempotency_key text DEFAULT NULL,
        OUT outcome text, OUT dimension text, OUT current_usage bigint, OUT limit_value bigint,
        OUT first_outcome text)
    AS 'MODULE_PATHNAME', 'ff_record_spend' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

-- Take back everything attributed to the execution since the last reset.
CREATE FUNCTION ff_release_budget(budget_id text, execution_id text,
        OUT released_dimensions integer, OUT unblocked integer)
    AS 'MODULE_PATHNAME', 'ff_release_budget' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

------------------------------------------------------------------------------
-- Quotas and admission
------------------------------------------------------------------------------

CREATE FUNCTION ff_create_quota_policy(
        quota_policy_id text DEFAULT NULL,
        window_seconds bigint DEFAULT 60,
        max_requests_per_window bigint DEFAULT 0,  -- 0: no rate limit
        max_concurrent bigint DEFAULT 0,           -- 0: no concurrency cap
        jitter_ms bigint DEFAULT 0,
        OUT outcome text, OUT quota_policy_id text)
    AS 'MODULE_PATHNAME', 'ff_create_quota_policy' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

-- No row when the policy does not exist.
CREATE FUNCTION ff_read_quota_policy_limits(quota_policy_id text)
    RETURNS TABLE (max_requests_per_window bigint, requests_per_window_seconds bigint,
                   active_concurrency_cap bigint, jitter_ms bigint, active_concurrency bigint,
                   is_unlimited boolean)
    AS 'MODULE_PATHNAME', 'ff_read_quota_policy_limits' LANGUAGE C STABLE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

-- Admit one request of the execution. NULL limits come from the policy.
-- outcome: admitted | already_admitted | rate_exceeded | concurrency_exceeded.
CREATE FUNCTION ff_check_admission(quota_policy_id text, execution_id text,
        window_seconds bigint DEFAULT NULL, rate_limit bigint DEFAULT NULL,
        concurrency_cap bigint DEFAULT NULL, jitter_ms bigint DEFAULT NULL,
        dimension text DEFAULT '',
        OUT outcome text, OUT retry_after_ms bigint)
    AS 'MODULE_PATHNAME', 'ff_check_admission' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_release_admission(quota_policy_id text, execution_id text,
        OUT outcome text, OUT slot_released boolean, OUT unblocked integer)
    AS 'MODULE_PATHNAME', 'ff_release_admission' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

-- Park a runnable execution until admission passes: waiting_for_budget ->
-- blocked_by_budget, waiting_for_quota -> blocked_by_quota,
-- waiting_for_capable_worker -> blocked_by_route.
CREATE FUNCTION ff_block_execution_for_admission(execution_id text, reason text,
        reason_detail text DEFAULT NULL,
        OUT outcome text, OUT eligibility_state text, OUT blocking_reason text,
        OUT public_state text)
    AS 'MODULE_PATHNAME', 'ff_block_execution_for_admission' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

-- What holds an execution back (and until when), and what it has admitted.
CREATE FUNCTION ff_read_admission(execution_id text)
    RETURNS TABLE (kind text, id text, status text, retry_at_ms bigint, since_ms bigint)
    AS 'MODULE_PATHNAME', 'ff_read_admission' LANGUAGE C STABLE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

------------------------------------------------------------------------------
-- Reconcilers (run by the background worker; each returns rows changed)
------------------------------------------------------------------------------

-- Scheduled resets that are due.
CREATE FUNCTION ff_reconcile_budget_reset(batch_size integer DEFAULT 1000) RETURNS integer
    AS 'MODULE_PATHNAME', 'ff_reconcile_budget_reset' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;
-- Usage totals recomputed from the ledger; the exhausted flag from the totals.
CREATE FUNCTION ff_reconcile_budget_counters(batch_size integer DEFAULT 1000) RETURNS integer
    AS 'MODULE_PATHNAME', 'ff_reconcile_budget_counters' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;
-- Held-back executions of budgets with room again; breach actions left
-- undone; rows of finished executions.
CREATE FUNCTION ff_reconcile_budget_executions(batch_size integer DEFAULT 1000) RETURNS integer
    AS 'MODULE_PATHNAME', 'ff_reconcile_budget_executions' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;
-- Concurrency counters recomputed from the slots held.
CREATE FUNCTION ff_reconcile_quota_counters(batch_size integer DEFAULT 1000) RETURNS integer
    AS 'MODULE_PATHNAME', 'ff_reconcile_quota_counters' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;
-- Executions a quota held back whose window has room or whose slot freed.
CREATE FUNCTION ff_reconcile_quota_unblock(batch_size integer DEFAULT 1000) RETURNS integer
    AS 'MODULE_PATHNAME', 'ff_reconcile_quota_unblock' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;
-- Expired dedup keys, admission guards and window entries.
CREATE FUNCTION ff_reconcile_admission_cleanup(batch_size integer DEFAULT 1000) RETURNS integer
    AS 'MODULE_PATHNAME', 'ff_reconcile_admission_cleanup' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

-- Budget and quota partitions (CRC-16 of the UUID bytes mod 32).
CREATE FUNCTION ff_budget_partition(budget_id text) RETURNS integer
    AS 'MODULE_PATHNAME', 'ff_budget_partition_sql' LANGUAGE C IMMUTABLE STRICT
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

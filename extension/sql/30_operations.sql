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

-- Per-row helpers of ff_claim's set-based statement (claim.c): the engine's
-- pooled UUIDs, the transaction's next outbox event id, and the attempt
-- timeout a policy sets (NULL for none), read by the policy parser itself.
CREATE FUNCTION ff_random_uuid() RETURNS uuid
    AS 'MODULE_PATHNAME', 'ff_random_uuid_sql' LANGUAGE C VOLATILE;
CREATE FUNCTION ff_next_event_id() RETURNS bigint
    AS 'MODULE_PATHNAME', 'ff_next_event_id_sql' LANGUAGE C VOLATILE;
CREATE FUNCTION ff_policy_attempt_timeout_ms(policy jsonb) RETURNS bigint
    AS 'MODULE_PATHNAME', 'ff_policy_attempt_timeout_ms_sql' LANGUAGE C IMMUTABLE STRICT;

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

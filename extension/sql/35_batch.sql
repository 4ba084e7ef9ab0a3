------------------------------------------------------------------------------
-- The high-throughput path (batch.c): many executions or handles per call,
-- one round trip and one commit. Batches take at most 10000 elements.
------------------------------------------------------------------------------

-- Creates one execution per element of input_payloads, in order, with
-- ff_create_execution's validation, idempotency and partition rules. The
-- per-element arrays are NULL or as long as input_payloads (a NULL element
-- takes the default); the other arguments apply to every element. An invalid
-- element rejects the whole call (the error's CONTEXT names the element).
CREATE FUNCTION ff_create_executions(
        lane_id text,
        input_payloads bytea[],
        execution_ids text[] DEFAULT NULL,
        idempotency_keys text[] DEFAULT NULL,
        priorities integer[] DEFAULT NULL,
        tags jsonb[] DEFAULT NULL,
        namespace text DEFAULT NULL,
        execution_kind text DEFAULT NULL,
        required_capabilities text[] DEFAULT '{}',
        policy jsonb DEFAULT NULL,
        delay_until bigint DEFAULT NULL,
        execution_deadline_at bigint DEFAULT NULL,
        creator_identity text DEFAULT NULL)
    RETURNS TABLE (item integer, execution_id text, public_state text, created boolean)
    AS 'MODULE_PATHNAME', 'ff_create_executions' LANGUAGE C VOLATILE ROWS 100
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;
COMMENT ON FUNCTION ff_create_executions(text, bytea[], text[], text[], integer[], jsonb[], text, text, text[], jsonb, bigint, bigint, text) IS 'creates many executions in one call; one row per input element, in input order';

-- The handle batches: one row per handle, in input order. outcome is the
-- success ('renewed', 'completed', 'retry_scheduled', 'terminal_failed') or
-- the kind of error the single call would have raised ('stale_lease',
-- 'lease_expired', 'execution_not_active', ...), with its SQLSTATE in
-- error_code and the message; one refused handle never fails the others.
CREATE FUNCTION ff_renew_many(handles bytea[])
    RETURNS TABLE (item integer, execution_id text, outcome text, lease_expires_at_ms bigint,
                   lease_epoch bigint, error_code text, message text)
    AS 'MODULE_PATHNAME', 'ff_renew_many' LANGUAGE C VOLATILE ROWS 100
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;
COMMENT ON FUNCTION ff_renew_many(bytea[]) IS 'renews many leases in one call; one row per handle with its outcome';

CREATE FUNCTION ff_complete_many(handles bytea[], payloads bytea[] DEFAULT NULL)
    RETURNS TABLE (item integer, execution_id text, outcome text, error_code text, message text)
    AS 'MODULE_PATHNAME', 'ff_complete_many' LANGUAGE C VOLATILE ROWS 100
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;
COMMENT ON FUNCTION ff_complete_many(bytea[], bytea[]) IS 'completes many attempts in one call; one row per handle with its outcome';

CREATE FUNCTION ff_fail_many(handles bytea[], messages text[], classifications text[] DEFAULT NULL,
                             details bytea[] DEFAULT NULL)
    RETURNS TABLE (item integer, execution_id text, outcome text, delay_until bigint,
                   error_code text, message text)
    AS 'MODULE_PATHNAME', 'ff_fail_many' LANGUAGE C VOLATILE ROWS 100
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;
COMMENT ON FUNCTION ff_fail_many(bytea[], text[], text[], bytea[]) IS 'fails many attempts in one call; one row per handle with its outcome';

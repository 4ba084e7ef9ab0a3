------------------------------------------------------------------------------
-- Suspension, waitpoints, HMAC-signed signals and resume
-- (extension/suspend*.c, docs/suspend-signals.md).
------------------------------------------------------------------------------

-- The waitpoint HMAC keystore. Exactly one active kid signs; a rotated-out
-- kid keeps verifying until expires_at_ms, then stops. Secrets are never
-- returned by any function and the table is closed to PUBLIC.
CREATE TABLE ff_waitpoint_hmac (
    kid           text    COLLATE "C" PRIMARY KEY,
    secret        bytea   NOT NULL,
    rotated_at_ms bigint  NOT NULL,
    active        boolean NOT NULL DEFAULT true,
    expires_at_ms bigint,                 -- retired kids: end of the grace period
    CONSTRAINT ff_waitpoint_hmac_kid_shape CHECK (kid <> '' AND strpos(kid, ':') = 0),
    CONSTRAINT ff_waitpoint_hmac_grace CHECK (active = (expires_at_ms IS NULL))
);
CREATE UNIQUE INDEX ff_waitpoint_hmac_one_active ON ff_waitpoint_hmac (active) WHERE active;

-- One row per suspension; at most one open (closed_at_ms IS NULL) per
-- execution, and an execution is suspended exactly while it has one.
CREATE TABLE ff_suspension (
    partition_key    smallint NOT NULL,
    execution_id     uuid     NOT NULL,
    suspension_id    uuid     NOT NULL,
    attempt_index    integer  NOT NULL,          -- the parked attempt
    reason_code      text     NOT NULL,
    requested_by     text     NOT NULL,
    condition        jsonb    NOT NULL,          -- canonical resume condition
    resume_policy    jsonb,
    resume_delay_ms  bigint   NOT NULL DEFAULT 0,
    timeout_at_ms    bigint,
    timeout_behavior text     NOT NULL CHECK (timeout_behavior IN
        ('fail', 'cancel', 'expire', 'auto_resume_with_timeout_signal', 'escalate')),
    continuation_metadata_pointer text,
    idempotency_key  text,
    satisfied_tokens text[]   NOT NULL DEFAULT '{}',  -- evaluator state
    suspended_at_ms  bigint   NOT NULL,
    closed_at_ms     bigint,
    close_reason     text,   -- resumed, operator_resumed, timed_out_<behaviour>, execution_<outcome>
    closer_signal_id uuid,
    PRIMARY KEY (partition_key, execution_id, suspension_id),
    FOREIGN KEY (partition_key, execution_id) REFERENCES ff_execution ON DELETE CASCADE,
    CONSTRAINT ff_suspension_closed CHECK ((closed_at_ms IS NULL) = (close_reason IS NULL))
);
CREATE UNIQUE INDEX ff_suspension_open_idx ON ff_suspension (partition_key, execution_id)
    WHERE closed_at_ms IS NULL;
CREATE INDEX ff_suspension_timeout_idx ON ff_suspension (timeout_at_ms)
    WHERE closed_at_ms IS NULL AND timeout_at_ms IS NOT NULL;
CREATE INDEX ff_suspension_list_idx ON ff_suspension (partition_key, suspended_at_ms, execution_id)
    WHERE closed_at_ms IS NULL;

-- Waitpoints: pending (created ahead, buffering signals), active (bound to
-- a suspension) or closed. The token is the bearer credential for signals.
CREATE TABLE ff_waitpoint (
    partition_key   smallint NOT NULL,
    waitpoint_id    uuid     NOT NULL,
    execution_id    uuid     NOT NULL,
    attempt_index   integer  NOT NULL,          -- the attempt that created it
    waitpoint_key   text     NOT NULL,
    state           text     NOT NULL CHECK (state IN ('pending', 'active', 'closed')),
    suspension_id   uuid,                       -- set once a suspension binds it
    binding_index   integer,                    -- its place in that suspension's waitpoints
    token_kid       text     NOT NULL,
    token           text     NOT NULL,
    required_signal_names text[] NOT NULL DEFAULT '{}',  -- empty = any signal
    signal_count    integer  NOT NULL DEFAULT 0,
    created_at_ms   bigint   NOT NULL,
    activated_at_ms bigint,
    expires_at_ms   bigint,
    closed_at_ms    bigint,
    close_reason    text,
    PRIMARY KEY (partition_key, waitpoint_id),
    FOREIGN KEY (partition_key, execution_id) REFERENCES ff_execution ON DELETE CASCADE,
    CONSTRAINT ff_waitpoint_closed CHECK ((state = 'closed') = (closed_at_ms IS NOT NULL))
);
CREATE INDEX ff_waitpoint_execution_idx ON ff_waitpoint (partition_key, execution_id, waitpoint_id);
CREATE INDEX ff_waitpoint_pending_expiry_idx ON ff_waitpoint (expires_at_ms)
    WHERE state = 'pending' AND expires_at_ms IS NOT NULL;

-- Every accepted signal. suspension_id is NULL while it is buffered on a
-- pending waitpoint; waitpoint_id is NULL for the synthetic timeout signal.
CREATE TABLE ff_signal (
    partition_key   smallint NOT NULL,
    execution_id    uuid     NOT NULL,
    signal_id       uuid     NOT NULL,
    seq             bigint   GENERATED ALWAYS AS IDENTITY,  -- arrival order
    waitpoint_id    uuid,
    waitpoint_key   text,
    suspension_id   uuid,
    signal_name     text     NOT NULL,
    signal_category text     NOT NULL,
    source_type     text     NOT NULL,
    source_identity text     NOT NULL,
    correlation_id  text,
    idempotency_key text,
    payload         bytea,
    payload_encoding text,
    created_at_ms   bigint   NOT NULL,
    accepted_at_ms  bigint   NOT NULL,
    effect          text     NOT NULL,
    satisfier       boolean  NOT NULL DEFAULT false,  -- advanced its suspension's condition
    PRIMARY KEY (partition_key, execution_id, signal_id),
    FOREIGN KEY (partition_key, execution_id) REFERENCES ff_execution ON DELETE CASCADE
);
CREATE INDEX ff_signal_suspension_idx ON ff_signal (partition_key, execution_id, suspension_id, seq);
CREATE INDEX ff_signal_buffered_idx ON ff_signal (partition_key, waitpoint_id)
    WHERE suspension_id IS NULL;

-- Signal idempotency keys, per waitpoint, until expires_at_ms.
CREATE TABLE ff_signal_dedup (
    partition_key   smallint NOT NULL,
    waitpoint_id    uuid     NOT NULL,
    idempotency_key text     NOT NULL,
    execution_id    uuid     NOT NULL,
    signal_id       uuid     NOT NULL,
    expires_at_ms   bigint   NOT NULL,
    PRIMARY KEY (partition_key, waitpoint_id, idempotency_key),
    FOREIGN KEY (partition_key, execution_id) REFERENCES ff_execution ON DELETE CASCADE
);

-- Suspend idempotency keys, per execution; a replay must come from the same lease.
CREATE TABLE ff_suspend_dedup (
    partition_key   smallint NOT NULL,
    execution_id    uuid     NOT NULL,
    idempotency_key text     NOT NULL,
    suspension_id   uuid     NOT NULL,
    outcome         text     NOT NULL CHECK (outcome IN ('suspended', 'already_satisfied')),
    lease_id        uuid     NOT NULL,
    lease_epoch     bigint   NOT NULL,
    expires_at_ms   bigint   NOT NULL,
    PRIMARY KEY (partition_key, execution_id, idempotency_key),
    FOREIGN KEY (partition_key, execution_id) REFERENCES ff_execution ON DELETE CASCADE
);

-- The signal-delivery outbox (same event ids and delivery rule as the others).
CREATE TABLE ff_signal_event (
    event_id        bigint   PRIMARY KEY,
    partition_key   smallint NOT NULL,
    execution_id    uuid     NOT NULL,
    signal_id       uuid     NOT NULL,
    waitpoint_id    uuid,
    signal_name     text     NOT NULL,
    source_type     text     NOT NULL,
    source_identity text     NOT NULL,
    effect          text     NOT NULL,
    namespace       text,
    lane_id         text     NOT NULL,
    delivered_at_ms bigint   NOT NULL
);
CREATE INDEX ff_signal_event_execution_idx ON ff_signal_event (partition_key, execution_id);

REVOKE ALL ON ff_waitpoint_hmac, ff_suspension, ff_waitpoint, ff_signal, ff_signal_dedup,
              ff_suspend_dedup, ff_signal_event FROM PUBLIC;

SELECT pg_catalog.pg_extension_config_dump('ff_waitpoint_hmac', '');
SELECT pg_catalog.pg_extension_config_dump('ff_suspension', '');
SELECT pg_catalog.pg_extension_config_dump('ff_waitpoint', '');
SELECT pg_catalog.pg_extension_config_dump('ff_signal', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('ff_signal', 'seq'), '');
SELECT pg_catalog.pg_extension_config_dump('ff_signal_dedup', '');
SELECT pg_catalog.pg_extension_config_dump('ff_suspend_dedup', '');
SELECT pg_catalog.pg_extension_config_dump('ff_signal_event', '');

-- Keystore administration (not granted to PUBLIC).
CREATE FUNCTION ff_seed_waitpoint_hmac_secret(kid text, secret_hex text,
        OUT outcome text, OUT seeded_kid text, OUT same_secret boolean)
    AS 'MODULE_PATHNAME', 'ff_seed_waitpoint_hmac_secret' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_rotate_waitpoint_hmac_secret_all(new_kid text, new_secret_hex text,
        grace_ms bigint DEFAULT 86400000,
        OUT partition integer, OUT outcome text, OUT previous_kid text, OUT current_kid text,
        OUT gc_count integer)
    AS 'MODULE_PATHNAME', 'ff_rotate_waitpoint_hmac_secret_all' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_list_waitpoint_hmac_kids()
    RETURNS TABLE (kid text, active boolean, rotated_at_ms bigint, expires_at_ms bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp
BEGIN ATOMIC
    SELECT h.kid, h.active, h.rotated_at_ms, h.expires_at_ms
      FROM ff_waitpoint_hmac h
     WHERE h.active OR h.expires_at_ms > ff_server_time_ms()
     ORDER BY h.rotated_at_ms DESC, h.kid;
END;

REVOKE ALL ON FUNCTION ff_seed_waitpoint_hmac_secret(text, text),
              ff_rotate_waitpoint_hmac_secret_all(text, text, bigint),
              ff_list_waitpoint_hmac_kids() FROM PUBLIC;

-- The token primitive: HMAC-SHA256(secret, kid ':' message) as "kid:<hex>".
CREATE FUNCTION ff_waitpoint_token_sign(secret bytea, kid text, message text) RETURNS text
    AS 'MODULE_PATHNAME', 'ff_waitpoint_token_sign' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ff_waitpoint_token_sign(bytea, text, text) IS 'the waitpoint token primitive: kid:hex(HMAC-SHA256(secret, kid:message))';

CREATE FUNCTION ff_waitpoint_token_check(secret bytea, kid text, message text, token text) RETURNS text
    AS 'MODULE_PATHNAME', 'ff_waitpoint_token_check' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ff_waitpoint_token_check(bytea, text, text, text) IS 'verifies a token in constant time: ok, malformed, wrong_kid or signature_mismatch';

-- Suspending.
CREATE FUNCTION ff_suspend(
        handle bytea,
        waitpoints jsonb,
        resume_condition jsonb DEFAULT NULL,
        suspension_id uuid DEFAULT NULL,
        reason_code text DEFAULT 'waiting_for_signal',
        requested_by text DEFAULT 'worker',
        timeout_at bigint DEFAULT NULL,
        timeout_behavior text DEFAULT 'fail',
        resume_policy jsonb DEFAULT NULL,
        continuation_metadata_pointer text DEFAULT NULL,
        idempotency_key text DEFAULT NULL)
    RETURNS TABLE (outcome text, suspension_id uuid, waitpoint_index integer, waitpoint_id uuid,
                   waitpoint_key text, waitpoint_token text, handle bytea)
    AS 'MODULE_PATHNAME', 'ff_suspend' LANGUAGE C VOLATILE ROWS 1
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_suspend_by_triple(
        execution_id text,
        lease_id uuid,
        lease_epoch bigint,
        waitpoints jsonb,
        resume_condition jsonb DEFAULT NULL,
        suspension_id uuid DEFAULT NULL,
        reason_code text DEFAULT 'waiting_for_signal',
        requested_by text DEFAULT 'worker',
        timeout_at bigint DEFAULT NULL,
        timeout_behavior text DEFAULT 'fail',
        resume_policy jsonb DEFAULT NULL,
        continuation_metadata_pointer text DEFAULT NULL,
        idempotency_key text DEFAULT NULL,
        attempt_id uuid DEFAULT NULL,
        attempt_index integer DEFAULT NULL)
    RETURNS TABLE (outcome text, suspension_id uuid, waitpoint_index integer, waitpoint_id uuid,
                   waitpoint_key text, waitpoint_token text, handle bytea)
    AS 'MODULE_PATHNAME', 'ff_suspend_by_triple' LANGUAGE C VOLATILE ROWS 1
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

-- Waitpoints.
CREATE FUNCTION ff_create_waitpoint(handle bytea, waitpoint_key text, expires_in_ms bigint,
        waitpoint_id uuid DEFAULT NULL,
        OUT waitpoint_id uuid, OUT waitpoint_key text, OUT waitpoint_token text,
        OUT expires_at_ms bigint)
    AS 'MODULE_PATHNAME', 'ff_create_waitpoint' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

-- Raw tokens are credentials: not granted to PUBLIC.
CREATE FUNCTION ff_read_waitpoint_token(partition_key text, waitpoint_id uuid) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp
BEGIN ATOMIC
    -- the partition key is checked first (YFV01), whether or not the waitpoint exists
    SELECT ff_parse_partition_key(ff_read_waitpoint_token.partition_key);
    SELECT nullif(w.token, '')
      FROM ff_waitpoint w
     WHERE w.partition_key = ff_parse_partition_key(ff_read_waitpoint_token.partition_key)
       AND w.waitpoint_id = ff_read_waitpoint_token.waitpoint_id
       AND w.state <> 'closed';
END;
REVOKE ALL ON FUNCTION ff_read_waitpoint_token(text, uuid) FROM PUBLIC;

CREATE FUNCTION ff_close_waitpoint(execution_id text, waitpoint_id uuid,
                                   reason text DEFAULT 'proactive_close') RETURNS text
    AS 'MODULE_PATHNAME', 'ff_close_waitpoint' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

-- FlowFabric's PendingWaitpointInfo: the raw token is never listed.
CREATE TYPE ff_pending_waitpoint_info AS (
    waitpoint_id uuid, waitpoint_key text, state text, required_signal_names text[],
    created_at_ms bigint, activated_at_ms bigint, expires_at_ms bigint, execution_id text,
    token_kid text, token_fingerprint text);

CREATE FUNCTION ff_list_pending_waitpoints(execution_id text, after uuid DEFAULT NULL,
                                           max_results integer DEFAULT 100)
    RETURNS SETOF ff_pending_waitpoint_info
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    id record := ff_split_execution_id(ff_list_pending_waitpoints.execution_id);
BEGIN
    IF ff_list_pending_waitpoints.execution_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'YFV01', MESSAGE = 'invalid_input: execution_id must not be null';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM ff_execution e
                    WHERE e.partition_key = id.partition_key AND e.execution_id = id.execution_uuid) THEN
        RAISE EXCEPTION USING ERRCODE = 'YFN01',
            MESSAGE = format('execution_not_found: execution %s does not exist',
                             ff_list_pending_waitpoints.execution_id);
    END IF;
    RETURN QUERY
    SELECT w.waitpoint_id, w.waitpoint_key, w.state, w.required_signal_names, w.created_at_ms,
           w.activated_at_ms, w.expires_at_ms,
           ff_format_execution_id(w.partition_key, w.execution_id),
           CASE WHEN strpos(w.token, ':') > 1 AND length(w.token) > strpos(w.token, ':')
                THEN split_part(w.token, ':', 1) ELSE '' END,
           CASE WHEN strpos(w.token, ':') > 1 AND length(w.token) > strpos(w.token, ':')
                THEN left(substr(w.token, strpos(w.token, ':') + 1), 16) ELSE '' END
      FROM ff_waitpoint w
     WHERE w.partition_key = id.partition_key AND w.execution_id = id.execution_uuid
       AND w.state IN ('pending', 'active')
       AND (ff_list_pending_waitpoints.after IS NULL OR w.waitpoint_id > ff_list_pending_waitpoints.after)
     ORDER BY w.waitpoint_id
     LIMIT greatest(least(coalesce(ff_list_pending_waitpoints.max_results, 100), 1000), 1);
END
$$;

-- Signals.
CREATE FUNCTION ff_deliver_signal(
        execution_id text,
        waitpoint_id uuid,
        waitpoint_token text,
        signal_name text,
        signal_id uuid DEFAULT NULL,
        signal_category text DEFAULT 'signal',
        source_type text DEFAULT 'external',
        source_identity text DEFAULT '',
        payload bytea DEFAULT NULL,
        payload_encoding text DEFAULT NULL,
        correlation_id text DEFAULT NULL,
        idempotency_key text DEFAULT NULL,
        created_at bigint DEFAULT NULL,
        dedup_ttl_ms bigint DEFAULT 86400000,
        resume_delay_ms bigint DEFAULT NULL,
        max_signals_per_execution bigint DEFAULT 10000,
        OUT result text, OUT signal_id uuid, OUT effect text, OUT public_state text)
    AS 'MODULE_PATHNAME', 'ff_deliver_signal' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_deliver_approval_signal(
        execution_id text,
        lane_id text,
        waitpoint_id uuid,
        signal_name text,
        idempotency_suffix text,
        signal_dedup_ttl_ms bigint DEFAULT 86400000,
        max_signals_per_execution bigint DEFAULT 10000,
        OUT result text, OUT signal_id uuid, OUT effect text, OUT public_state text)
    AS 'MODULE_PATHNAME', 'ff_deliver_approval_signal' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

-- Resuming.
CREATE FUNCTION ff_observe_signals(handle bytea, all_signals boolean DEFAULT false)
    RETURNS TABLE (signal_id uuid, signal_name text, signal_category text, source_type text,
                   source_identity text, correlation_id text, accepted_at_ms bigint,
                   payload bytea, payload_encoding text, waitpoint_id uuid, waitpoint_key text)
    AS 'MODULE_PATHNAME', 'ff_observe_signals' LANGUAGE C STABLE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_claim_resumed_execution(
        execution_id text,
        worker_id text,
        worker_instance_id text,
        lane_id text,
        lease_ttl_ms bigint DEFAULT 30000,
        current_attempt_index integer DEFAULT NULL,
        remaining_attempt_timeout_ms bigint DEFAULT NULL,
        capabilities text[] DEFAULT '{}',
        lease_id uuid DEFAULT NULL,
        OUT handle bytea, OUT execution_id text, OUT attempt_index integer, OUT attempt_id uuid,
        OUT lease_id uuid, OUT lease_epoch bigint, OUT lease_expires_at_ms bigint,
        OUT input_payload bytea)
    RETURNS SETOF record  -- no row: its budgets or quota hold it back (as ff_claim)
    AS 'MODULE_PATHNAME', 'ff_claim_resumed_execution' LANGUAGE C VOLATILE ROWS 1
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_resume_execution(execution_id text, trigger_type text DEFAULT 'signal',
                                    resume_delay_ms bigint DEFAULT 0) RETURNS text
    AS 'MODULE_PATHNAME', 'ff_resume_execution' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_expire_suspension(execution_id text, OUT outcome text, OUT public_state text)
    AS 'MODULE_PATHNAME', 'ff_expire_suspension' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

-- Suspended executions of a partition, oldest suspension first; the cursor
-- is the last execution_id of the previous page.
CREATE FUNCTION ff_list_suspended(partition_key text, cursor text DEFAULT NULL,
                                  max_results integer DEFAULT 100)
    RETURNS TABLE (execution_id text, suspended_at_ms bigint, reason text, suspension_id uuid,
                   timeout_at_ms bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp
BEGIN ATOMIC
    -- the arguments are checked first (YFV01), whether or not any row matches
    SELECT ff_parse_partition_key(ff_list_suspended.partition_key),
           ff_split_execution_id(ff_list_suspended.cursor);
    WITH p AS (SELECT ff_parse_partition_key(ff_list_suspended.partition_key) AS pk),
         c AS (SELECT (ff_split_execution_id(ff_list_suspended.cursor)).execution_uuid AS id
                WHERE ff_list_suspended.cursor IS NOT NULL),
         cs AS (SELECT s.suspended_at_ms AS at FROM ff_suspension s, p, c
                 WHERE s.partition_key = p.pk AND s.execution_id = c.id
                 ORDER BY s.suspended_at_ms DESC LIMIT 1)
    SELECT ff_format_execution_id(s.partition_key, s.execution_id), s.suspended_at_ms,
           s.reason_code, s.suspension_id, s.timeout_at_ms
      FROM ff_suspension s
      JOIN ff_execution e ON e.partition_key = s.partition_key AND e.execution_id = s.execution_id
     WHERE s.partition_key = (SELECT pk FROM p)
       AND s.closed_at_ms IS NULL
       AND e.lifecycle_phase = 'suspended'
       AND (NOT EXISTS (SELECT 1 FROM c)
            OR (EXISTS (SELECT 1 FROM cs)
                AND (s.suspended_at_ms, s.execution_id) > ((SELECT at FROM cs), (SELECT id FROM c)))
            OR (NOT EXISTS (SELECT 1 FROM cs) AND s.execution_id > (SELECT id FROM c)))
     ORDER BY s.suspended_at_ms, s.execution_id
     LIMIT greatest(least(ff_list_suspended.max_results, 1000), 0);
END;

-- The signal-delivery outbox reader (LISTEN ff_signal_event for wake-ups).
CREATE FUNCTION ff_signal_events(after_event_id bigint DEFAULT 0, max_events integer DEFAULT 100)
    RETURNS TABLE (event_id bigint, execution_id text, signal_id uuid, waitpoint_id uuid,
                   signal_name text, source_type text, source_identity text, effect text,
                   namespace text, lane_id text, delivered_at_ms bigint)
    AS 'MODULE_PATHNAME', 'ff_signal_events' LANGUAGE C STABLE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

-- One-shot reconcilers; each returns how many rows it changed.
CREATE FUNCTION ff_reconcile_suspension_timeout(batch_size integer DEFAULT 1000) RETURNS integer
    AS 'MODULE_PATHNAME', 'ff_reconcile_suspension_timeout' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_reconcile_pending_waitpoint_expiry(batch_size integer DEFAULT 1000) RETURNS integer
    AS 'MODULE_PATHNAME', 'ff_reconcile_pending_waitpoint_expiry' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

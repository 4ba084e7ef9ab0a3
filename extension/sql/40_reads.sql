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
    -- the arguments are checked first (YFV01), whether or not any row matches:
    -- below they are only compared with rows, so an empty partition (or
    -- max_results 0) would let a malformed cursor or partition key through
    SELECT ff_parse_partition_key(ff_list_executions.partition_key),
           ff_split_execution_id(ff_list_executions.cursor);
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
    RETURNS TABLE (lane_id text, registered_at_ms bigint, registered_by text, state text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp
BEGIN ATOMIC
    SELECT l.lane_id, l.registered_at_ms, l.registered_by, l.state
      FROM ff_lane l
     WHERE ff_list_lanes.cursor IS NULL OR l.lane_id > ff_list_lanes.cursor
     ORDER BY l.lane_id
     LIMIT greatest(least(ff_list_lanes.max_results, 1000), 0);
END;

CREATE FUNCTION ff_capabilities() RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ff_capabilities' LANGUAGE C STABLE;
COMMENT ON FUNCTION ff_capabilities() IS 'what this engine implements: true only for callable operations';

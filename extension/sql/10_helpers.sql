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
COMMENT ON FUNCTION ff_new_execution_id(text, uuid) IS 'mints a solo execution id for a lane (a time-ordered UUIDv7 unless one is given)';

CREATE FUNCTION ff_new_flow_execution_id(flow_id uuid, execution_uuid uuid DEFAULT NULL) RETURNS text
    AS 'MODULE_PATHNAME', 'ff_new_flow_execution_id_sql' LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION ff_new_flow_execution_id(uuid, uuid) IS 'mints an execution id co-located with a flow (a time-ordered UUIDv7 unless one is given)';

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

CREATE FUNCTION ff_state_vector_valid(lifecycle_phase text, ownership_state text,
                                      eligibility_state text, blocking_reason text,
                                      terminal_outcome text, attempt_state text,
                                      public_state text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'ff_state_vector_valid_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ff_state_vector_valid(text, text, text, text, text, text, text) IS 'true for a well-formed state vector (part of the ff_execution CHECK constraint)';

CREATE FUNCTION ff_attempt_state_valid(attempt_type text, attempt_lifecycle text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'ff_attempt_state_valid_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The CHECK constraints of the hot tables (20_tables.sql): one C call each,
-- which PostgreSQL re-reads per statement far faster than IN lists and ranges.
CREATE FUNCTION ff_execution_row_valid(partition_key smallint, priority integer,
                                       lifecycle_phase text, ownership_state text,
                                       eligibility_state text, blocking_reason text,
                                       terminal_outcome text, attempt_state text,
                                       public_state text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'ff_execution_row_valid_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ff_execution_row_valid(smallint, integer, text, text, text, text, text, text, text) IS 'true for a partition key and priority in range and a well-formed state vector (the ff_execution CHECK constraint)';
CREATE FUNCTION ff_lease_event_type_valid(event_type text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'ff_lease_event_type_valid_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ff_completion_outcome_valid(outcome text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'ff_completion_outcome_valid_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION ff_server_time_ms() RETURNS bigint
    AS 'MODULE_PATHNAME', 'ff_server_time_ms_sql' LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION ff_server_time_ms() IS 'the engine clock: server wall clock in epoch ms (plus flowfabric.clock_offset_ms)';

CREATE FUNCTION ff_ping() RETURNS boolean LANGUAGE sql STABLE RETURN true;

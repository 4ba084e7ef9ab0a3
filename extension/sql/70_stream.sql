------------------------------------------------------------------------------
-- Streaming output (extension/stream*.c, docs/streams.md): each attempt owns
-- an append-only stream of frames written by its lease holder; durable
-- summaries (RFC 7396 merge patches); tail support (NOTIFY
-- ff_stream_<execution uuid>_<attempt_index> on every append and when the
-- stream closes); retention of terminal executions' frames.
------------------------------------------------------------------------------

-- One row per stream that ever had a frame: the newest frame id (ids are
-- minted from it, so they increase even when the clock goes back), lifetime
-- and retained counters, the best-effort EMA state, and the closing (set in
-- the transaction that ends the attempt).
CREATE TABLE ff_stream_meta (
    partition_key          smallint NOT NULL,
    execution_id           uuid     NOT NULL,
    attempt_index          integer  NOT NULL,
    last_ts_ms             bigint   NOT NULL,
    last_seq               integer  NOT NULL,
    frame_count            bigint   NOT NULL DEFAULT 0,  -- appends, ever
    retained_frames        bigint   NOT NULL DEFAULT 0,  -- rows in ff_stream_frame
    retained_best_effort   bigint   NOT NULL DEFAULT 0,  -- ... of mode best_effort
    total_bytes            bigint   NOT NULL DEFAULT 0,  -- payload bytes appended, ever
    has_durable_frame      boolean  NOT NULL DEFAULT false,
    first_frame_at_ms      bigint   NOT NULL,
    last_frame_at_ms       bigint   NOT NULL,
    ema_rate_hz            double precision NOT NULL DEFAULT 0,  -- best-effort append rate
    last_best_effort_ts_ms bigint   NOT NULL DEFAULT 0,
    maxlen_applied_last    integer  NOT NULL DEFAULT 0,  -- K of the latest best-effort append
    closed_at_ms           bigint,                       -- the attempt ended
    closed_reason          text,                         -- its end_reason
    trimmed_at_ms          bigint,                       -- retention removed the frames
    PRIMARY KEY (partition_key, execution_id, attempt_index),
    FOREIGN KEY (partition_key, execution_id, attempt_index) REFERENCES ff_attempt ON DELETE CASCADE
);
-- Retention candidates: closed streams whose frames are still there.
CREATE INDEX ff_stream_meta_retention_idx ON ff_stream_meta (closed_at_ms)
    WHERE closed_at_ms IS NOT NULL AND trimmed_at_ms IS NULL;

-- The frames. The id is (ts_ms, seq), rendered '<ts_ms>-<seq>'; the payload
-- is stored as given (binary-safe, at most 64 KiB).
CREATE TABLE ff_stream_frame (
    partition_key   smallint NOT NULL,
    execution_id    uuid     NOT NULL,
    attempt_index   integer  NOT NULL,
    ts_ms           bigint   NOT NULL,
    seq             integer  NOT NULL,
    mode            text     NOT NULL CHECK (mode IN ('durable', 'summary', 'best_effort')),
    frame_type      text     NOT NULL,
    encoding        text     NOT NULL,      -- a label: utf8, binary, or the caller's
    correlation_id  text,
    summary_version bigint,                 -- summary frames: the version it made
    payload         bytea    NOT NULL,
    PRIMARY KEY (partition_key, execution_id, attempt_index, ts_ms, seq),
    FOREIGN KEY (partition_key, execution_id, attempt_index)
        REFERENCES ff_stream_meta ON DELETE CASCADE,
    CONSTRAINT ff_stream_frame_summary_version CHECK ((mode = 'summary') = (summary_version IS NOT NULL))
);
-- The best-effort trim deletes the oldest best-effort frames of a stream.
CREATE INDEX ff_stream_frame_best_effort_idx
    ON ff_stream_frame (partition_key, execution_id, attempt_index, ts_ms, seq)
    WHERE mode = 'best_effort';

-- The summary document of an attempt that had summary frames.
CREATE TABLE ff_stream_summary (
    partition_key    smallint NOT NULL,
    execution_id     uuid     NOT NULL,
    attempt_index    integer  NOT NULL,
    document         jsonb    NOT NULL,
    version          bigint   NOT NULL CHECK (version >= 1),  -- patches applied
    patch_kind       text     NOT NULL DEFAULT 'json-merge-patch',
    first_applied_ms bigint   NOT NULL,
    last_updated_ms  bigint   NOT NULL,
    PRIMARY KEY (partition_key, execution_id, attempt_index),
    FOREIGN KEY (partition_key, execution_id, attempt_index)
        REFERENCES ff_stream_meta ON DELETE CASCADE
);

REVOKE ALL ON ff_stream_meta, ff_stream_frame, ff_stream_summary FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('ff_stream_meta', '');
SELECT pg_catalog.pg_extension_config_dump('ff_stream_frame', '');
SELECT pg_catalog.pg_extension_config_dump('ff_stream_summary', '');

-- Append a frame to the stream of the handle's attempt (the lease holder only).
CREATE FUNCTION ff_append_frame(
        handle bytea,
        frame_type text,
        payload bytea,
        mode text DEFAULT 'durable',             -- durable | summary | best_effort
        correlation_id text DEFAULT NULL,
        encoding text DEFAULT NULL,              -- NULL: utf8 if the payload is UTF-8, else binary
        patch_kind text DEFAULT NULL,            -- summary: json-merge-patch (the only kind)
        ttl_ms integer DEFAULT NULL,             -- best_effort: visibility target, 30000
        maxlen_floor integer DEFAULT NULL,       -- best_effort: 64
        maxlen_ceiling integer DEFAULT NULL,     -- best_effort: 16384
        ema_alpha double precision DEFAULT NULL, -- best_effort: 0.2
        OUT frame_id text, OUT ts_ms bigint, OUT seq integer, OUT frame_count bigint,
        OUT summary_version bigint, OUT maxlen_applied integer)
    AS 'MODULE_PATHNAME', 'ff_append_frame' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

-- The ROWS estimates below keep a query joining these functions (as the C
-- client does) from looking like a million rows, which made every call pay for
-- JIT compilation.

-- Frames with from_id <= id <= to_id (start, end, <ms> or <ms>-<seq>).
-- attempt_index NULL: the execution's current attempt.
CREATE FUNCTION ff_read_stream(execution_id text, attempt_index integer DEFAULT NULL,
                               from_id text DEFAULT 'start', to_id text DEFAULT 'end',
                               count_limit integer DEFAULT 1000)
    RETURNS TABLE (frame_id text, ts_ms bigint, seq integer, mode text, frame_type text,
                   encoding text, correlation_id text, summary_version bigint, payload bytea)
    AS 'MODULE_PATHNAME', 'ff_read_stream' LANGUAGE C STABLE ROWS 100
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

-- Frames after a concrete cursor (exclusive); does not wait (LISTEN on the
-- stream's channel and call again, as the C client does).
CREATE FUNCTION ff_tail_stream(execution_id text, attempt_index integer DEFAULT NULL,
                               after_id text DEFAULT '0-0', count_limit integer DEFAULT 1000,
                               visibility text DEFAULT 'all')   -- all | exclude_best_effort
    RETURNS TABLE (frame_id text, ts_ms bigint, seq integer, mode text, frame_type text,
                   encoding text, correlation_id text, summary_version bigint, payload bytea)
    AS 'MODULE_PATHNAME', 'ff_tail_stream' LANGUAGE C STABLE ROWS 100
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

-- The stream's channel, closing (closed_at_ms NULL while the attempt runs)
-- and counters.
CREATE FUNCTION ff_stream_info(execution_id text, attempt_index integer DEFAULT NULL)
    RETURNS TABLE (execution_id text, attempt_index integer, channel text,
                   closed_at_ms bigint, closed_reason text, last_frame_id text,
                   frame_count bigint, retained_frames bigint, total_bytes bigint,
                   first_frame_at_ms bigint, last_frame_at_ms bigint, has_durable_frame boolean,
                   summary_version bigint, ema_rate_hz double precision,
                   maxlen_applied_last integer, retention_trimmed_at_ms bigint)
    AS 'MODULE_PATHNAME', 'ff_stream_info' LANGUAGE C STABLE ROWS 1
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

-- The attempt's summary document; no row before its first summary frame.
CREATE FUNCTION ff_read_summary(execution_id text, attempt_index integer DEFAULT NULL)
    RETURNS TABLE (document jsonb, version bigint, patch_kind text,
                   first_applied_ms bigint, last_updated_ms bigint)
    AS 'MODULE_PATHNAME', 'ff_read_summary' LANGUAGE C STABLE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

-- Removes the frames of closed streams of executions terminal for at least
-- flowfabric.stream_retention_ms; returns the streams trimmed.
CREATE FUNCTION ff_reconcile_stream_retention(batch_size integer DEFAULT 1000) RETURNS integer
    AS 'MODULE_PATHNAME', 'ff_reconcile_stream_retention' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

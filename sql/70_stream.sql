--
-- 70_stream: streaming output end to end in autocommit mode. The stream
-- functions and tables as installed; a worker streams log lines, binary
-- chunks, summary patches and best-effort tokens; readers page and tail by
-- frame id; the attempt ends and the stream closes; a retry gets a stream
-- of its own; retention removes the frames of the finished execution.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS flowfabric;
RESET client_min_messages;
\set VERBOSITY terse

-- The stream API, with its full signatures.
SELECT p.prosecdef AS secdef, p.provolatile AS vol,
       p.proname || '(' || pg_get_function_arguments(p.oid) || ') -> ' || pg_get_function_result(p.oid) AS signature
  FROM pg_proc p
 WHERE p.proname IN ('ff_append_frame', 'ff_read_stream', 'ff_tail_stream', 'ff_stream_info',
                     'ff_read_summary', 'ff_reconcile_stream_retention')
 ORDER BY p.proname;
SELECT c.relname, c.relkind FROM pg_class c
 WHERE c.relname LIKE 'ff\_stream\_%' ORDER BY c.relname;

\set S '''{fp:17}:00000000-0000-4000-8000-000000000170'''
SELECT execution_id, public_state FROM ff_create_execution('stream-story', 'transcribe'::bytea, execution_id => :S,
    policy => '{"retry_policy": {"max_retries": 1, "backoff": {"type": "fixed", "delay_ms": 0}}}');
SELECT handle AS h0 FROM ff_claim('stream-story', 'transcriber', 'transcriber/1', lease_ttl_ms => 600000) \gset

-- The worker streams output, one append (and one transaction) each.
SELECT frame_count, summary_version, maxlen_applied FROM ff_append_frame(:'h0', 'log', 'starting');
SELECT frame_count, summary_version FROM ff_append_frame(:'h0', 'summary', '{"progress": {"done": 0, "total": 3}, "lang": "en"}', 'summary');
SELECT frame_count FROM ff_append_frame(:'h0', 'audio', '\x000102fffe'::bytea, correlation_id => 'chunk-1');
SELECT frame_count, summary_version FROM ff_append_frame(:'h0', 'summary', '{"progress": {"done": 2}, "lang": null}', 'summary');
SELECT frame_count, maxlen_applied FROM ff_append_frame(:'h0', 'token', 'Hel', 'best_effort', ttl_ms => 5000);
-- (with the clock set back the second token comes "1 ms" after the first: K follows the rate)
SET flowfabric.clock_offset_ms = -3600000;
SELECT frame_count, maxlen_applied FROM ff_append_frame(:'h0', 'token', 'lo', 'best_effort', ttl_ms => 5000);
RESET flowfabric.clock_offset_ms;

-- Readers: the whole stream, a page, a tail after the second frame, durable only.
SELECT frame_type, mode, encoding, correlation_id, summary_version, payload FROM ff_read_stream(:S);
SELECT frame_id AS second FROM ff_read_stream(:S, 0, 'start', 'end', 2) ORDER BY ts_ms DESC, seq DESC LIMIT 1 \gset
SELECT frame_type, payload FROM ff_tail_stream(:S, 0, :'second');
SELECT frame_type FROM ff_tail_stream(:S, 0, '0-0', 100, 'exclude_best_effort');
SELECT document, version, patch_kind FROM ff_read_summary(:S);
SELECT attempt_index, channel, closed_at_ms, frame_count, retained_frames, total_bytes, has_durable_frame,
       summary_version, maxlen_applied_last FROM ff_stream_info(:S);

-- The attempt fails and is retried: its stream closes, the retry has its own.
SELECT outcome FROM ff_fail(:'h0', 'GPU lost', 'infra_crash');
SELECT frame_count FROM ff_append_frame(:'h0', 'log', 'too late');
SELECT attempt_index, closed_reason, frame_count FROM ff_stream_info(:S, 0);
SELECT handle AS h1, attempt_index FROM ff_claim('stream-story', 'transcriber', 'transcriber/2', lease_ttl_ms => 600000) \gset
SELECT frame_count FROM ff_append_frame(:'h1', 'log', 'retrying');
SELECT frame_count, summary_version FROM ff_append_frame(:'h1', 'summary', '{"progress": {"done": 3, "total": 3}}', 'summary');
SELECT ff_complete(:'h1', 'transcript'::bytea);
SELECT attempt_index, closed_reason, frame_count, retained_frames FROM ff_stream_info(:S);
SELECT document, version FROM ff_read_summary(:S, 0);
SELECT document, version FROM ff_read_summary(:S, 1);

-- Errors.
SELECT frame_count FROM ff_append_frame(:'h1', 'log', 'after complete');
SELECT * FROM ff_read_stream(:S, 2);
SELECT * FROM ff_read_stream(:S, 0, '-', '+');
SELECT * FROM ff_tail_stream(:S, 0, 'start');
SELECT * FROM ff_read_stream(:S, 0, 'start', 'end', 0);

-- Retention: with the setting at 0 the finished execution's frames go at
-- the next run; its summaries and counters stay.
SET flowfabric.stream_retention_ms = 0;
SELECT ff_reconcile_stream_retention() > 0 AS trimmed;
SELECT count(*) AS frames_left FROM ff_read_stream(:S, 0);
SELECT count(*) AS frames_left FROM ff_read_stream(:S, 1);
SELECT attempt_index, frame_count, retained_frames, retention_trimmed_at_ms IS NOT NULL AS trimmed
  FROM ff_stream_info(:S, 0) UNION ALL
SELECT attempt_index, frame_count, retained_frames, retention_trimmed_at_ms IS NOT NULL
  FROM ff_stream_info(:S, 1);
SELECT version FROM ff_read_summary(:S, 1);
RESET flowfabric.stream_retention_ms;

/*
 * stream.h
 *		Streaming output (docs/streams.md): per-attempt frame streams appended
 *		by the lease holder, durable summaries (RFC 7396 JSON merge patch),
 *		reads, tail support with NOTIFY wake-ups, stream closing and retention.
 *
 * stream.c: append, reads, closing, retention; stream_patch.c: the summary
 * patch parser and the merge.
 *
 * Lock order (the engine's): the execution row, then the attempt row (both
 * taken by lease fencing), then the stream's ff_stream_meta row, then its
 * ff_stream_summary row.
 */
#ifndef FLOWFABRIC_STREAM_H
#define FLOWFABRIC_STREAM_H

#include "flowfabric.h"

/* Largest frame payload accepted; one byte more is retention_limit_exceeded. */
#define FF_STREAM_MAX_FRAME_BYTES	65536
/* Most frames one read or tail returns (upstream STREAM_READ_HARD_CAP). */
#define FF_STREAM_READ_HARD_CAP		10000
/* Deepest nesting of objects and arrays a summary patch may have. */
#define FF_STREAM_PATCH_MAX_DEPTH	16
/* A summary patch value that sets its key to JSON null (11 ASCII bytes). */
#define FF_SUMMARY_NULL_SENTINEL	"__ff_null__"

/* guc.c: flowfabric.stream_retention_ms */
extern int	ff_stream_retention_ms;

/*
 * ff_stream_attempt_ended closes the attempt's stream: called by
 * ff_attempt_end in the transaction that ends the attempt (not when the
 * attempt is only parked). Records the closing on the stream's meta row (if
 * it ever had a frame); ff_stream_closed then wakes its tailers with a NOTIFY.
 */
extern void ff_stream_attempt_ended(const FFExecRow *exec, const FFAttemptRow *attempt,
									int64 now);
extern void ff_stream_closed(const FFExecKey *key, int32 attempt_index);

/* The NOTIFY channel of a stream: ff_stream_<execution uuid>_<attempt_index>. */
extern char *ff_stream_channel(const FFExecKey *key, int32 attempt_index);

/* stream_patch.c */
extern Jsonb *ff_stream_parse_patch(const char *data, int len);
extern Jsonb *ff_stream_merge_patch(Jsonb *document, Jsonb *patch);

#endif							/* FLOWFABRIC_STREAM_H */

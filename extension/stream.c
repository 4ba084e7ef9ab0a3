/*
 * stream.c
 *		Streaming output: each attempt of an execution owns an append-only
 *		stream of frames, written by the attempt's lease holder and read by
 *		anyone (docs/streams.md).
 *
 * Appends run under lease fencing, which locks the execution row and then
 * the attempt row, so the appends of one attempt are serialised and commit
 * in the order they were made. Frame ids (ts_ms, seq) are minted from the
 * newest id the stream ever had (kept in ff_stream_meta): (now, 0) when the
 * engine clock is past it, else (last ts_ms, last seq + 1). Ids therefore
 * strictly increase per attempt even when the clock goes back, and commit
 * order is id order: a reader that asks for frames "after the last id it
 * saw" can never skip one that commits later.
 *
 * Modes: durable (kept until retention), summary (the payload is an RFC 7396
 * merge patch applied to the attempt's summary document, stream_patch.c;
 * the frame is kept too), best_effort (the stream's best-effort frames are
 * trimmed to the newest K, K following an EMA of the append rate). The
 * stream closes in the transaction that ends its attempt (ff_attempt_end
 * calls ff_stream_attempt_ended); appends to a closed stream fail with
 * stream_closed. Every append NOTIFYs the stream's channel, delivered at
 * commit, so tailing clients wake at once (the blocking tail lives in the
 * client library; ff_tail_stream is its non-blocking read).
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "stream.h"
#include "writeset.h"

/* BestEffortLive defaults (upstream BestEffortLiveConfig) */
#define BE_DEFAULT_TTL_MS		30000
#define BE_DEFAULT_FLOOR		64
#define BE_DEFAULT_CEILING		16384
#define BE_DEFAULT_ALPHA		0.2
#define BE_MAX_CEILING			1000000

typedef enum StreamMode
{
	MODE_DURABLE,
	MODE_SUMMARY,
	MODE_BEST_EFFORT
} StreamMode;

static const char *const mode_names[] = {"durable", "summary", "best_effort"};

/* ff_stream_meta: one row per stream that ever had a frame */
typedef struct StreamMeta
{
	bool		exists;
	int64		last_ts_ms;
	int32		last_seq;
	int64		frame_count;	/* lifetime appends */
	int64		retained_frames;	/* rows in ff_stream_frame */
	int64		retained_best_effort;
	int64		total_bytes;	/* lifetime payload bytes */
	bool		has_durable_frame;
	int64		first_frame_at_ms;
	int64		last_frame_at_ms;
	double		ema_rate_hz;
	int64		last_best_effort_ts_ms; /* 0: no best-effort frame yet */
	int32		maxlen_applied_last;
} StreamMeta;

#define META_COLUMNS \
	"partition_key, execution_id, attempt_index, last_ts_ms, last_seq, frame_count, " \
	"retained_frames, retained_best_effort, total_bytes, has_durable_frame, " \
	"first_frame_at_ms, last_frame_at_ms, ema_rate_hz, last_best_effort_ts_ms, " \
	"maxlen_applied_last"
#define META_NCOLS 15

static const Oid meta_types[META_NCOLS] = {
	INT2OID, UUIDOID, INT4OID, INT8OID, INT4OID, INT8OID, INT8OID, INT8OID, INT8OID,
	BOOLOID, INT8OID, INT8OID, FLOAT8OID, INT8OID, INT4OID
};

static const Oid key_types[3] = {INT2OID, UUIDOID, INT4OID};

static void
key_params(const FFExecKey *key, int32 attempt_index, Datum *v)
{
	v[0] = Int16GetDatum(key->partition);
	v[1] = ff_uuid_datum(&key->uuid);
	v[2] = Int32GetDatum(attempt_index);
}

char *
ff_stream_channel(const FFExecKey *key, int32 attempt_index)
{
	return psprintf("ff_stream_%s_%d", ff_uuid_to_cstring(&key->uuid), attempt_index);
}

static bool
attempt_closed(const FFAttemptRow *a)
{
	return strncmp(a->attempt_lifecycle, "ended_", 6) == 0 ||
		strcmp(a->attempt_lifecycle, "interrupted_reclaimed") == 0;
}

/* ------------------------------------------------------------------------
 * Append
 * ------------------------------------------------------------------------ */

typedef struct AppendArgs
{
	bytea	   *handle;
	char	   *frame_type;
	bytea	   *payload;
	StreamMode	mode;
	char	   *correlation_id;
	char	   *encoding;
	Jsonb	   *patch;			/* summary mode */
	int32		ttl_ms;			/* best_effort mode */
	int32		maxlen_floor;
	int32		maxlen_ceiling;
	double		ema_alpha;
} AppendArgs;

/* frame_type: 1..64 characters of [A-Za-z0-9_.:/-] */
static void
check_frame_type(FunctionCallInfo fcinfo, int argno, AppendArgs *a)
{
	char	   *t;
	size_t		len;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_FRAME_TYPE),
				 errmsg("invalid_frame_type: frame_type must not be null"),
				 errhint("Name the kind of frame, e.g. log, delta, event, progress.")));
	t = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	len = strlen(t);
	if (len == 0 || len > 64)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_FRAME_TYPE),
				 errmsg("invalid_frame_type: frame_type must be 1 to 64 characters, got %zu", len)));
	for (const char *p = t; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			  *p == '_' || *p == '.' || *p == ':' || *p == '/' || *p == '-'))
			ereport(ERROR,
					(errcode(ERRCODE_FF_INVALID_FRAME_TYPE),
					 errmsg("invalid_frame_type: frame_type \"%s\" has a character outside [A-Za-z0-9_.:/-]",
							t)));
	a->frame_type = t;
}

/* a short label: 1..max printable ASCII characters, no space */
static char *
arg_label(FunctionCallInfo fcinfo, int argno, const char *name, size_t max)
{
	char	   *s;
	size_t		len;

	if (PG_ARGISNULL(argno))
		return NULL;
	s = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	len = strlen(s);
	if (len == 0 || len > max)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: %s must be 1 to %zu characters (NULL for none)", name, max)));
	for (const char *p = s; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			ereport(ERROR,
					(errcode(ERRCODE_FF_INVALID_INPUT),
					 errmsg("invalid_input: %s must be printable ASCII without spaces", name)));
	return s;
}

static void
only_for(FunctionCallInfo fcinfo, int argno, const char *name, const AppendArgs *a, StreamMode m)
{
	if (!PG_ARGISNULL(argno) && a->mode != m)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: %s applies to %s frames only", name, mode_names[m])));
}

/*
 * parse_append_args checks every argument of ff_append_frame(handle,
 * frame_type, payload, mode, correlation_id, encoding, patch_kind, ttl_ms,
 * maxlen_floor, maxlen_ceiling, ema_alpha) before anything is locked.
 */
static void
parse_append_args(FunctionCallInfo fcinfo, AppendArgs *a)
{
	const char *mode = PG_ARGISNULL(3) ? "durable" : text_to_cstring(PG_GETARG_TEXT_PP(3));
	size_t		len;
	const char *data;

	memset(a, 0, sizeof(*a));
	if (PG_ARGISNULL(0))
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "handle must not be null");
	a->handle = PG_GETARG_BYTEA_PP(0);
	check_frame_type(fcinfo, 1, a);
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: payload must not be null"),
				 errhint("An empty payload is ''::bytea.")));
	a->payload = PG_GETARG_BYTEA_PP(2);
	len = VARSIZE_ANY_EXHDR(a->payload);
	data = VARDATA_ANY(a->payload);
	if (len > FF_STREAM_MAX_FRAME_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_FF_RETENTION_LIMIT_EXCEEDED),
				 errmsg("retention_limit_exceeded: frame payload is %zu bytes, the limit is %d",
						len, FF_STREAM_MAX_FRAME_BYTES),
				 errhint("Split the output into frames of at most 64 KiB.")));

	if (strcmp(mode, "durable") == 0)
		a->mode = MODE_DURABLE;
	else if (strcmp(mode, "summary") == 0)
		a->mode = MODE_SUMMARY;
	else if (strcmp(mode, "best_effort") == 0)
		a->mode = MODE_BEST_EFFORT;
	else
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: unknown stream mode \"%s\"", mode),
				 errhint("Use durable, summary or best_effort.")));

	a->correlation_id = arg_label(fcinfo, 4, "correlation_id", 256);
	a->encoding = arg_label(fcinfo, 5, "encoding", 64);
	if (a->encoding == NULL)
		a->encoding = pg_verify_mbstr(PG_UTF8, data, (int) len, true) ? "utf8" : "binary";

	only_for(fcinfo, 6, "patch_kind", a, MODE_SUMMARY);
	if (!PG_ARGISNULL(6) && strcmp(text_to_cstring(PG_GETARG_TEXT_PP(6)), "json-merge-patch") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: unsupported patch_kind \"%s\"",
						text_to_cstring(PG_GETARG_TEXT_PP(6))),
				 errhint("The only patch kind is json-merge-patch (RFC 7396).")));

	only_for(fcinfo, 7, "ttl_ms", a, MODE_BEST_EFFORT);
	only_for(fcinfo, 8, "maxlen_floor", a, MODE_BEST_EFFORT);
	only_for(fcinfo, 9, "maxlen_ceiling", a, MODE_BEST_EFFORT);
	only_for(fcinfo, 10, "ema_alpha", a, MODE_BEST_EFFORT);
	a->ttl_ms = PG_ARGISNULL(7) ? BE_DEFAULT_TTL_MS : PG_GETARG_INT32(7);
	a->maxlen_floor = PG_ARGISNULL(8) ? BE_DEFAULT_FLOOR : PG_GETARG_INT32(8);
	a->maxlen_ceiling = PG_ARGISNULL(9) ? Max(BE_DEFAULT_CEILING, a->maxlen_floor) : PG_GETARG_INT32(9);
	a->ema_alpha = PG_ARGISNULL(10) ? BE_DEFAULT_ALPHA : PG_GETARG_FLOAT8(10);
	if (a->ttl_ms < 1)
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "ttl_ms must be at least 1");
	if (a->maxlen_floor < 1 || a->maxlen_floor > BE_MAX_CEILING)
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input",
				 "maxlen_floor must be between 1 and %d", BE_MAX_CEILING);
	if (a->maxlen_ceiling < a->maxlen_floor || a->maxlen_ceiling > BE_MAX_CEILING)
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input",
				 "maxlen_ceiling must be between maxlen_floor (%d) and %d",
				 a->maxlen_floor, BE_MAX_CEILING);
	if (!(a->ema_alpha > 0.0 && a->ema_alpha <= 1.0))
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "ema_alpha must be in (0, 1]");

	if (a->mode == MODE_SUMMARY)
		a->patch = ff_stream_parse_patch(data, (int) len);
}

static void
raise_closed(const FFFence *f)
{
	ereport(ERROR,
			(errcode(ERRCODE_FF_STREAM_CLOSED),
			 errmsg("stream_closed: the stream of attempt %d of execution %s is closed",
					f->attempt.attempt_index, f->handle.execution_id),
			 errdetail("{\"closed_at_ms\": %lld, \"closed_reason\": \"%s\"}",
					   (long long) f->attempt.ended_at_ms,
					   f->attempt.end_reason ? f->attempt.end_reason : ""),
			 errhint("A stream closes when its attempt ends; nothing can be appended after that.")));
}

/*
 * raise_stale_owner: the handle's attempt is open, but the handle no longer
 * holds its live lease (spec E 1.9, the Valkey reference's lite lease check:
 * another attempt, lease or epoch owns the execution now, the lease ran out
 * or was revoked, or the worker gave it up by delaying or suspending).
 * The detail names which, with the fence's kind.
 */
static void
raise_stale_owner(const FFFence *f)
{
	const char *reason = f->result == FF_FENCE_NOT_ACTIVE ? "execution_not_active"
		: f->result == FF_FENCE_STALE ? "stale_lease"
		: f->result == FF_FENCE_REVOKED ? "lease_revoked" : "lease_expired";

	ereport(ERROR,
			(errcode(ERRCODE_FF_STALE_OWNER_CANNOT_APPEND),
			 errmsg("stale_owner_cannot_append: the handle no longer holds the lease of attempt %u of execution %s",
					f->handle.attempt_index, f->handle.execution_id),
			 errdetail("{\"reason\": \"%s\", \"lifecycle_phase\": \"%s\", \"ownership_state\": \"%s\", "
					   "\"attempt_index\": %d, \"lease_epoch\": %lld}",
					   reason, f->exec.sv.lifecycle_phase, f->exec.sv.ownership_state,
					   f->exec.attempt_index, (long long) f->exec.lease_epoch),
			 errhint("Only the current lease holder appends; this worker lost the lease: drop the work.")));
}

static bool
meta_load(const FFExecKey *key, int32 attempt_index, StreamMeta *m)
{
	static SPIPlanPtr plan = NULL;
	Datum		v[3];
	HeapTuple	t;
	TupleDesc	d;
	bool		isnull;

	ff_prepare(&plan,
			   "SELECT " META_COLUMNS " FROM ff_stream_meta WHERE partition_key = $1 "
			   "AND execution_id = $2 AND attempt_index = $3 FOR UPDATE",
			   3, key_types);
	key_params(key, attempt_index, v);
	ff_execute(plan, v, NULL, false, 1);
	memset(m, 0, sizeof(*m));
	if (SPI_processed == 0)
		return false;
	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	m->exists = true;
	m->last_ts_ms = ff_get_int64(t, d, 4, 0);
	m->last_seq = ff_get_int32(t, d, 5, 0);
	m->frame_count = ff_get_int64(t, d, 6, 0);
	m->retained_frames = ff_get_int64(t, d, 7, 0);
	m->retained_best_effort = ff_get_int64(t, d, 8, 0);
	m->total_bytes = ff_get_int64(t, d, 9, 0);
	m->has_durable_frame = ff_get_bool(t, d, 10);
	m->first_frame_at_ms = ff_get_int64(t, d, 11, 0);
	m->last_frame_at_ms = ff_get_int64(t, d, 12, 0);
	m->ema_rate_hz = DatumGetFloat8(SPI_getbinval(t, d, 13, &isnull));
	m->last_best_effort_ts_ms = ff_get_int64(t, d, 14, 0);
	m->maxlen_applied_last = ff_get_int32(t, d, 15, 0);
	return true;
}

static void
meta_store(const FFExecKey *key, int32 attempt_index, const StreamMeta *m)
{
	static SPIPlanPtr insert_plan = NULL;
	static SPIPlanPtr update_plan = NULL;
	Datum		v[META_NCOLS];

	key_params(key, attempt_index, v);
	v[3] = Int64GetDatum(m->last_ts_ms);
	v[4] = Int32GetDatum(m->last_seq);
	v[5] = Int64GetDatum(m->frame_count);
	v[6] = Int64GetDatum(m->retained_frames);
	v[7] = Int64GetDatum(m->retained_best_effort);
	v[8] = Int64GetDatum(m->total_bytes);
	v[9] = BoolGetDatum(m->has_durable_frame);
	v[10] = Int64GetDatum(m->first_frame_at_ms);
	v[11] = Int64GetDatum(m->last_frame_at_ms);
	v[12] = Float8GetDatum(m->ema_rate_hz);
	v[13] = Int64GetDatum(m->last_best_effort_ts_ms);
	v[14] = Int32GetDatum(m->maxlen_applied_last);
	if (!m->exists)
		ff_execute(ff_prepare(&insert_plan,
							  "INSERT INTO ff_stream_meta (" META_COLUMNS ") VALUES ($1, $2, $3, $4, $5, "
							  "$6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
							  META_NCOLS, meta_types),
				   v, NULL, false, 0);
	else
	{
		ff_execute(ff_prepare(&update_plan,
							  "UPDATE ff_stream_meta SET last_ts_ms = $4, last_seq = $5, frame_count = $6, "
							  "retained_frames = $7, retained_best_effort = $8, total_bytes = $9, "
							  "has_durable_frame = $10, first_frame_at_ms = $11, last_frame_at_ms = $12, "
							  "ema_rate_hz = $13, last_best_effort_ts_ms = $14, maxlen_applied_last = $15 "
							  "WHERE partition_key = $1 AND execution_id = $2 AND attempt_index = $3",
							  META_NCOLS, meta_types),
				   v, NULL, false, 0);
		if (SPI_processed != 1)
			elog(ERROR, "stream meta row vanished while locked");
	}
}

/*
 * apply_summary merges the patch into the attempt's summary document and
 * returns the new version (1 for the first patch, +1 for each one after).
 */
static int64
apply_summary(const FFExecKey *key, int32 attempt_index, Jsonb *patch, int64 now)
{
	static SPIPlanPtr load_plan = NULL;
	static SPIPlanPtr insert_plan = NULL;
	static SPIPlanPtr update_plan = NULL;
	static const Oid types[5] = {INT2OID, UUIDOID, INT4OID, JSONBOID, INT8OID};
	Datum		v[5];
	Jsonb	   *document = NULL;
	int64		version = 0;

	ff_prepare(&load_plan,
			   "SELECT document, version FROM ff_stream_summary WHERE partition_key = $1 "
			   "AND execution_id = $2 AND attempt_index = $3 FOR UPDATE",
			   3, key_types);
	key_params(key, attempt_index, v);
	ff_execute(load_plan, v, NULL, false, 1);
	if (SPI_processed == 1)
	{
		bool		isnull;

		document = DatumGetJsonbPCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
													&isnull));
		version = ff_get_int64(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, 0);
	}
	document = ff_stream_merge_patch(document, patch);
	if (VARSIZE(document) > (Size) ff_max_payload_bytes)
		ereport(ERROR,
				(errcode(ERRCODE_FF_PAYLOAD_TOO_LARGE),
				 errmsg("payload_too_large: the summary document would grow to %zu bytes",
						(Size) VARSIZE(document)),
				 errdetail("flowfabric.max_payload_bytes is %d.", ff_max_payload_bytes)));

	v[3] = JsonbPGetDatum(document);
	v[4] = Int64GetDatum(now);
	if (version == 0)
		ff_execute(ff_prepare(&insert_plan,
							  "INSERT INTO ff_stream_summary (partition_key, execution_id, attempt_index, "
							  "document, version, patch_kind, first_applied_ms, last_updated_ms) "
							  "VALUES ($1, $2, $3, $4, 1, 'json-merge-patch', $5, $5)",
							  5, types),
				   v, NULL, false, 0);
	else
		ff_execute(ff_prepare(&update_plan,
							  "UPDATE ff_stream_summary SET document = $4, version = version + 1, "
							  "patch_kind = 'json-merge-patch', last_updated_ms = $5 "
							  "WHERE partition_key = $1 AND execution_id = $2 AND attempt_index = $3",
							  5, types),
				   v, NULL, false, 0);
	return version + 1;
}

static void
insert_frame(const FFExecKey *key, int32 attempt_index, int64 ts_ms, int32 seq,
			 const AppendArgs *a, int64 summary_version)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[11] = {
		INT2OID, UUIDOID, INT4OID, INT8OID, INT4OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
		INT8OID, BYTEAOID
	};
	Datum		v[11];
	char		n[12] = "           ";

	ff_prepare(&plan,
			   "INSERT INTO ff_stream_frame (partition_key, execution_id, attempt_index, ts_ms, "
			   "seq, mode, frame_type, encoding, correlation_id, summary_version, payload) "
			   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
			   11, types);
	key_params(key, attempt_index, v);
	v[3] = Int64GetDatum(ts_ms);
	v[4] = Int32GetDatum(seq);
	v[5] = CStringGetTextDatum(mode_names[a->mode]);
	v[6] = CStringGetTextDatum(a->frame_type);
	v[7] = CStringGetTextDatum(a->encoding);
	v[8] = ff_text_datum(a->correlation_id, &n[8]);
	v[9] = Int64GetDatum(summary_version);
	n[9] = a->mode == MODE_SUMMARY ? ' ' : 'n';
	v[10] = PointerGetDatum(a->payload);
	ff_execute(plan, v, n, false, 0);
}

/*
 * best_effort_trim updates the append-rate EMA for a best-effort frame
 * minted at ts_ms, computes K (spec E 1.7, the Valkey reference: the first
 * best-effort append seeds the rate so that K = floor; then
 * rate = alpha * 1000/dt + (1 - alpha) * rate with dt >= 1 ms;
 * K = clamp(ceil(rate * ttl/1000 * 2), floor, ceiling)) and deletes the
 * oldest best-effort frames beyond the newest K. Durable and summary frames
 * are never trimmed here. Returns K.
 */
static int32
best_effort_trim(const FFExecKey *key, int32 attempt_index, const AppendArgs *a,
				 StreamMeta *m, int64 ts_ms)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[4] = {INT2OID, UUIDOID, INT4OID, INT8OID};
	double		ttl_s = a->ttl_ms / 1000.0;
	double		rate;
	double		k;
	int32		maxlen;

	if (m->last_best_effort_ts_ms == 0)
		rate = a->maxlen_floor / (ttl_s * 2.0);
	else
	{
		int64		dt = ts_ms - m->last_best_effort_ts_ms;

		if (dt <= 0)
			dt = 1;
		rate = a->ema_alpha * (1000.0 / (double) dt) + (1.0 - a->ema_alpha) * m->ema_rate_hz;
	}
	k = ceil(rate * ttl_s * 2.0);
	if (k < a->maxlen_floor)
		k = a->maxlen_floor;
	if (k > a->maxlen_ceiling)
		k = a->maxlen_ceiling;
	maxlen = (int32) k;
	m->ema_rate_hz = rate;
	m->last_best_effort_ts_ms = ts_ms;
	m->maxlen_applied_last = maxlen;

	if (m->retained_best_effort > maxlen)
	{
		Datum		v[4];
		int64		excess = m->retained_best_effort - maxlen;

		ff_prepare(&plan,
				   "DELETE FROM ff_stream_frame WHERE ctid = ANY (ARRAY("
				   "SELECT ctid FROM ff_stream_frame WHERE partition_key = $1 AND execution_id = $2 "
				   "AND attempt_index = $3 AND mode = 'best_effort' ORDER BY ts_ms, seq LIMIT $4))",
				   4, types);
		key_params(key, attempt_index, v);
		v[3] = Int64GetDatum(excess);
		ff_execute(plan, v, NULL, false, 0);
		if ((int64) SPI_processed != excess)
			elog(ERROR, "stream best-effort frame count out of step: deleted " UINT64_FORMAT
				 " of " INT64_FORMAT, SPI_processed, excess);
		m->retained_best_effort -= excess;
		m->retained_frames -= excess;
	}
	return maxlen;
}

PG_FUNCTION_INFO_V1(ff_append_frame);
Datum
ff_append_frame(PG_FUNCTION_ARGS)
{
	MemoryContext outer = CurrentMemoryContext;
	AppendArgs	a;
	FFFence		f;
	StreamMeta	m;
	int32		attempt_index;
	int64		ts_ms;
	int32		seq;
	int64		summary_version = 0;
	int32		maxlen = 0;
	char	   *frame_id;
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, false};
	Datum		result;

	parse_append_args(fcinfo, &a);

	SPI_connect();
	f.result = ff_fence_lock(a.handle, &f);
	if (attempt_closed(&f.attempt))
		raise_closed(&f);
	if (f.result != FF_FENCE_OK)
		raise_stale_owner(&f);
	attempt_index = f.attempt.attempt_index;

	/* the next id: strictly after the newest one, whatever the clock says */
	meta_load(&f.handle.key, attempt_index, &m);
	if (!m.exists || f.now > m.last_ts_ms)
	{
		ts_ms = f.now;
		seq = 0;
	}
	else if (m.last_seq < PG_INT32_MAX)
	{
		ts_ms = m.last_ts_ms;
		seq = m.last_seq + 1;
	}
	else
	{
		ts_ms = m.last_ts_ms + 1;
		seq = 0;
	}
	if (!m.exists)
		m.first_frame_at_ms = f.now;

	/* the meta row first: the frame and the summary reference it */
	m.last_ts_ms = ts_ms;
	m.last_seq = seq;
	m.frame_count++;
	m.retained_frames++;
	m.total_bytes += VARSIZE_ANY_EXHDR(a.payload);
	m.last_frame_at_ms = f.now;
	if (a.mode != MODE_BEST_EFFORT)
		m.has_durable_frame = true;
	else
		m.retained_best_effort++;
	if (!m.exists)
	{
		meta_store(&f.handle.key, attempt_index, &m);
		m.exists = true;
	}

	if (a.mode == MODE_SUMMARY)
		summary_version = apply_summary(&f.handle.key, attempt_index, a.patch, f.now);
	insert_frame(&f.handle.key, attempt_index, ts_ms, seq, &a, summary_version);
	if (a.mode == MODE_BEST_EFFORT)
		maxlen = best_effort_trim(&f.handle.key, attempt_index, &a, &m, ts_ms);
	meta_store(&f.handle.key, attempt_index, &m);

	frame_id = psprintf(INT64_FORMAT "-%d", ts_ms, seq);
	if (ff_notify_mode != FF_NOTIFY_OFF)
		Async_Notify(ff_stream_channel(&f.handle.key, attempt_index), frame_id);

	values[0] = CStringGetTextDatum(frame_id);
	values[1] = Int64GetDatum(ts_ms);
	values[2] = Int32GetDatum(seq);
	values[3] = Int64GetDatum(m.frame_count);
	values[4] = Int64GetDatum(summary_version);
	nulls[4] = a.mode != MODE_SUMMARY;
	values[5] = Int32GetDatum(maxlen);
	nulls[5] = a.mode != MODE_BEST_EFFORT;
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

/* ------------------------------------------------------------------------
 * Closing
 * ------------------------------------------------------------------------ */

void
ff_stream_attempt_ended(const FFExecRow *exec, const FFAttemptRow *attempt, int64 now)
{
	Datum		v[5];
	char		n[6] = "     ";

	key_params(&attempt->key, attempt->attempt_index, v);
	v[3] = Int64GetDatum(now);
	v[4] = ff_text_datum(attempt->end_reason, &n[4]);
	/* staged in a write scope; ff_stream_closed runs when the row is closed */
	ff_write_stage_spi(FF_WRITE_STREAM_CLOSE, v, n);
}

/*
 * ff_stream_closed wakes the tailers of a stream whose meta row was just
 * closed. An attempt that never appended a frame has no meta row and no
 * NOTIFY: tailers of such a stream re-read on a short timer (the client's
 * tail), so an attempt's end does not put a NOTIFY into every commit.
 */
void
ff_stream_closed(const FFExecKey *key, int32 attempt_index)
{
	if (ff_notify_mode != FF_NOTIFY_OFF)
		Async_Notify(ff_stream_channel(key, attempt_index), "closed");
}

/* ------------------------------------------------------------------------
 * Reads
 * ------------------------------------------------------------------------ */

/* The stream a read names: (execution id, attempt index or NULL = current). */
typedef struct StreamRef
{
	FFExecKey	key;
	char	   *execution_id;	/* canonical */
	int32		attempt_index;
	FFAttemptRow attempt;
} StreamRef;

static void
stream_not_found(const char *what, const char *execution_id)
{
	ereport(ERROR,
			(errcode(ERRCODE_FF_STREAM_NOT_FOUND),
			 errmsg("stream_not_found: %s", what),
			 errdetail("{\"entity\": \"stream\", \"execution_id\": \"%s\"}", execution_id)));
}

static void
resolve_stream(FunctionCallInfo fcinfo, StreamRef *ref)
{
	static SPIPlanPtr exec_plan = NULL;
	static const Oid types[2] = {INT2OID, UUIDOID};
	Datum		v[2];
	bool		exec_exists;
	int32		total = 0;

	if (PG_ARGISNULL(0))
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "execution_id must not be null");
	ff_parse_execution_id(text_to_cstring(PG_GETARG_TEXT_PP(0)), &ref->key);
	ref->execution_id = ff_format_execution_id(&ref->key);
	if (!PG_ARGISNULL(1) && PG_GETARG_INT32(1) < 0)
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "attempt_index must be >= 0 (NULL: the current attempt)");

	ff_prepare(&exec_plan,
			   "SELECT attempt_index, total_attempt_count FROM ff_execution "
			   "WHERE partition_key = $1 AND execution_id = $2",
			   2, types);
	v[0] = Int16GetDatum(ref->key.partition);
	v[1] = ff_uuid_datum(&ref->key.uuid);
	ff_execute(exec_plan, v, NULL, true, 1);
	exec_exists = SPI_processed == 1;
	if (exec_exists)
	{
		ref->attempt_index = ff_get_int32(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, 0);
		total = ff_get_int32(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, 0);
	}
	if (!exec_exists)
		stream_not_found(psprintf("execution %s does not exist", ref->execution_id), ref->execution_id);
	if (!PG_ARGISNULL(1))
		ref->attempt_index = PG_GETARG_INT32(1);
	else if (total == 0)
		stream_not_found(psprintf("execution %s has no attempt yet", ref->execution_id),
						 ref->execution_id);
	if (!ff_attempt_load(&ref->key, ref->attempt_index, &ref->attempt, false))
		stream_not_found(psprintf("execution %s has no attempt %d", ref->execution_id,
								  ref->attempt_index), ref->execution_id);
}

/*
 * parse_cursor parses a frame id cursor: "start", "end", "<ms>" or
 * "<ms>-<seq>" (ASCII digits). A bare "<ms>" means (ms, 0) as a lower bound
 * and (ms, max seq) as an upper bound; start and end are the extremes, and
 * rejected when concrete_only. Anything else is invalid_offset.
 */
static void
parse_cursor(const char *s, bool upper, bool concrete_only, const char *name,
			 int64 *ts, int32 *seq)
{
	const char *p = s;
	uint64		ms = 0;
	uint64		sq = 0;
	bool		has_seq = false;

	if (strcmp(s, "start") == 0 || strcmp(s, "end") == 0)
	{
		if (concrete_only)
			ereport(ERROR,
					(errcode(ERRCODE_FF_INVALID_OFFSET),
					 errmsg("invalid_offset: %s must be a concrete frame id, not \"%s\"", name, s),
					 errhint("Tail after \"0-0\" to start at the beginning, or after the last frame id seen.")));
		*ts = strcmp(s, "start") == 0 ? PG_INT64_MIN : PG_INT64_MAX;
		*seq = strcmp(s, "start") == 0 ? PG_INT32_MIN : PG_INT32_MAX;
		return;
	}
	if (*p < '0' || *p > '9')
		goto bad;
	for (; *p >= '0' && *p <= '9'; p++)
	{
		ms = ms * 10 + (uint64) (*p - '0');
		if (ms > (uint64) PG_INT64_MAX)
			goto bad;
	}
	if (*p == '-')
	{
		p++;
		has_seq = true;
		if (*p < '0' || *p > '9')
			goto bad;
		for (; *p >= '0' && *p <= '9'; p++)
		{
			sq = sq * 10 + (uint64) (*p - '0');
			if (sq > (uint64) PG_INT32_MAX)
				goto bad;
		}
	}
	if (*p != '\0')
		goto bad;
	*ts = (int64) ms;
	*seq = has_seq ? (int32) sq : (upper ? PG_INT32_MAX : 0);
	return;

bad:
	ereport(ERROR,
			(errcode(ERRCODE_FF_INVALID_OFFSET),
			 errmsg("invalid_offset: bad stream cursor \"%s\" for %s", s, name),
			 errhint("A cursor is start, end, <ms> or <ms>-<seq> (digits only).")));
}

static int32
arg_count_limit(FunctionCallInfo fcinfo, int argno)
{
	int32		n = PG_ARGISNULL(argno) ? 1000 : PG_GETARG_INT32(argno);

	if (n < 1 || n > FF_STREAM_READ_HARD_CAP)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: count_limit must be between 1 and %d", FF_STREAM_READ_HARD_CAP)));
	return n;
}

#define FRAME_SELECT \
	"SELECT ts_ms || '-' || seq, ts_ms, seq, mode, frame_type, encoding, correlation_id, " \
	"summary_version, payload FROM ff_stream_frame " \
	"WHERE partition_key = $1 AND execution_id = $2 AND attempt_index = $3 "

/* copies SPI's result rows into the function's materialized result */
static void
emit_rows(FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		Datum		values[16];
		bool		nulls[16];

		heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, values, nulls);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/*
 * ff_read_stream(execution_id, attempt_index, from_id, to_id, count_limit):
 * the frames with from <= id <= to, oldest first, at most count_limit.
 */
PG_FUNCTION_INFO_V1(ff_read_stream);
Datum
ff_read_stream(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[8] = {INT2OID, UUIDOID, INT4OID, INT8OID, INT4OID, INT8OID, INT4OID, INT4OID};
	const char *from = PG_ARGISNULL(2) ? "start" : text_to_cstring(PG_GETARG_TEXT_PP(2));
	const char *to = PG_ARGISNULL(3) ? "end" : text_to_cstring(PG_GETARG_TEXT_PP(3));
	int32		limit = arg_count_limit(fcinfo, 4);
	int64		from_ts,
				to_ts;
	int32		from_seq,
				to_seq;
	StreamRef	ref;
	Datum		v[8];

	parse_cursor(from, false, false, "from_id", &from_ts, &from_seq);
	parse_cursor(to, true, false, "to_id", &to_ts, &to_seq);
	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	resolve_stream(fcinfo, &ref);
	ff_prepare(&plan,
			   FRAME_SELECT "AND (ts_ms, seq) >= ($4, $5) AND (ts_ms, seq) <= ($6, $7) "
			   "ORDER BY ts_ms, seq LIMIT $8",
			   8, types);
	key_params(&ref.key, ref.attempt_index, v);
	v[3] = Int64GetDatum(from_ts);
	v[4] = Int32GetDatum(from_seq);
	v[5] = Int64GetDatum(to_ts);
	v[6] = Int32GetDatum(to_seq);
	v[7] = Int32GetDatum(limit);
	ff_execute(plan, v, NULL, true, 0);
	emit_rows(fcinfo);
	SPI_finish();
	return (Datum) 0;
}

/*
 * ff_tail_stream(execution_id, attempt_index, after_id, count_limit,
 * visibility): the frames after a concrete cursor (exclusive), oldest
 * first; visibility 'exclude_best_effort' hides best-effort frames. It does
 * not wait: LISTEN on the stream's channel (ff_stream_info) and call it
 * again on a notification (the C client's ff_client_tail_stream does).
 */
PG_FUNCTION_INFO_V1(ff_tail_stream);
Datum
ff_tail_stream(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[7] = {INT2OID, UUIDOID, INT4OID, INT8OID, INT4OID, BOOLOID, INT4OID};
	const char *after = PG_ARGISNULL(2) ? "0-0" : text_to_cstring(PG_GETARG_TEXT_PP(2));
	int32		limit = arg_count_limit(fcinfo, 3);
	const char *visibility = PG_ARGISNULL(4) ? "all" : text_to_cstring(PG_GETARG_TEXT_PP(4));
	bool		all;
	int64		after_ts;
	int32		after_seq;
	StreamRef	ref;
	Datum		v[7];

	parse_cursor(after, false, true, "after_id", &after_ts, &after_seq);
	if (strcmp(visibility, "all") == 0)
		all = true;
	else if (strcmp(visibility, "exclude_best_effort") == 0)
		all = false;
	else
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: unknown visibility \"%s\"", visibility),
				 errhint("Use all or exclude_best_effort.")));
	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	resolve_stream(fcinfo, &ref);
	ff_prepare(&plan,
			   FRAME_SELECT "AND (ts_ms, seq) > ($4, $5) AND ($6 OR mode <> 'best_effort') "
			   "ORDER BY ts_ms, seq LIMIT $7",
			   7, types);
	key_params(&ref.key, ref.attempt_index, v);
	v[3] = Int64GetDatum(after_ts);
	v[4] = Int32GetDatum(after_seq);
	v[5] = BoolGetDatum(all);
	v[6] = Int32GetDatum(limit);
	ff_execute(plan, v, NULL, true, 0);
	emit_rows(fcinfo);
	SPI_finish();
	return (Datum) 0;
}

/*
 * ff_stream_info(execution_id, attempt_index): one row describing the
 * stream: its NOTIFY channel, whether it is closed (the attempt ended),
 * the newest frame id and the counters.
 */
PG_FUNCTION_INFO_V1(ff_stream_info);
Datum
ff_stream_info(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	StreamRef	ref;
	Datum		v[3];
	Datum		values[16];
	bool		nulls[16];
	bool		closed;

	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	resolve_stream(fcinfo, &ref);
	ff_prepare(&plan,
			   "SELECT m.last_ts_ms || '-' || m.last_seq, m.frame_count, m.retained_frames, "
			   "m.total_bytes, m.first_frame_at_ms, m.last_frame_at_ms, m.has_durable_frame, "
			   "s.version, m.ema_rate_hz, m.maxlen_applied_last, m.trimmed_at_ms "
			   "FROM ff_stream_meta m LEFT JOIN ff_stream_summary s USING "
			   "(partition_key, execution_id, attempt_index) "
			   "WHERE m.partition_key = $1 AND m.execution_id = $2 AND m.attempt_index = $3",
			   3, key_types);
	key_params(&ref.key, ref.attempt_index, v);
	ff_execute(plan, v, NULL, true, 1);

	memset(nulls, 0, sizeof(nulls));
	closed = attempt_closed(&ref.attempt);
	values[0] = CStringGetTextDatum(ref.execution_id);
	values[1] = Int32GetDatum(ref.attempt_index);
	values[2] = CStringGetTextDatum(ff_stream_channel(&ref.key, ref.attempt_index));
	values[3] = Int64GetDatum(ref.attempt.ended_at_ms);
	nulls[3] = !closed;
	if (closed && ref.attempt.end_reason != NULL)
		values[4] = CStringGetTextDatum(ref.attempt.end_reason);
	else
		nulls[4] = true;
	if (SPI_processed == 1)
	{
		Datum		row[11];
		bool		rownulls[11];

		heap_deform_tuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, row, rownulls);
		for (int i = 0; i < 11; i++)
		{
			values[5 + i] = row[i];
			nulls[5 + i] = rownulls[i];
		}
	}
	else
	{
		/* no frame was ever appended */
		nulls[5] = true;		/* last_frame_id */
		values[6] = Int64GetDatum(0);
		values[7] = Int64GetDatum(0);
		values[8] = Int64GetDatum(0);
		nulls[9] = nulls[10] = true;
		values[11] = BoolGetDatum(false);
		nulls[12] = true;
		values[13] = Float8GetDatum(0.0);
		values[14] = Int32GetDatum(0);
		nulls[15] = true;
	}
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	SPI_finish();
	return (Datum) 0;
}

/*
 * ff_read_summary(execution_id, attempt_index): the attempt's summary
 * document, or no row when no summary frame was ever appended.
 */
PG_FUNCTION_INFO_V1(ff_read_summary);
Datum
ff_read_summary(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	StreamRef	ref;
	Datum		v[3];

	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	resolve_stream(fcinfo, &ref);
	ff_prepare(&plan,
			   "SELECT document, version, patch_kind, first_applied_ms, last_updated_ms "
			   "FROM ff_stream_summary "
			   "WHERE partition_key = $1 AND execution_id = $2 AND attempt_index = $3",
			   3, key_types);
	key_params(&ref.key, ref.attempt_index, v);
	ff_execute(plan, v, NULL, true, 1);
	emit_rows(fcinfo);
	SPI_finish();
	return (Datum) 0;
}

/* ------------------------------------------------------------------------
 * Retention
 * ------------------------------------------------------------------------ */

/*
 * ff_reconcile_stream_retention(batch_size) removes the frames of up to
 * batch_size closed streams whose execution has been terminal for at least
 * flowfabric.stream_retention_ms. The summary document and the stream's
 * counters stay (ff_stream_info shows retention_trimmed_at_ms). Streams
 * another transaction holds are skipped. Returns the streams trimmed.
 */
PG_FUNCTION_INFO_V1(ff_reconcile_stream_retention);
Datum
ff_reconcile_stream_retention(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr scan_plan = NULL;
	static SPIPlanPtr delete_plan = NULL;
	static SPIPlanPtr mark_plan = NULL;
	static const Oid scan_types[2] = {INT8OID, INT4OID};
	static const Oid mark_types[4] = {INT2OID, UUIDOID, INT4OID, INT8OID};
	int32		batch = ff_arg_batch_size(fcinfo, 0);
	int64		now = ff_now_ms();
	int64		cutoff = now - ff_stream_retention_ms;
	Datum		v[4];
	SPITupleTable *due;
	uint64		n;

	SPI_connect();
	ff_prepare(&scan_plan,
			   "SELECT m.partition_key, m.execution_id, m.attempt_index FROM ff_stream_meta m "
			   "JOIN ff_execution e ON e.partition_key = m.partition_key "
			   "AND e.execution_id = m.execution_id "
			   "WHERE m.closed_at_ms IS NOT NULL AND m.trimmed_at_ms IS NULL AND m.closed_at_ms <= $1 "
			   "AND e.lifecycle_phase = 'terminal' AND e.terminal_at_ms <= $1 "
			   "ORDER BY m.closed_at_ms LIMIT $2 FOR UPDATE OF m SKIP LOCKED",
			   2, scan_types);
	v[0] = Int64GetDatum(cutoff);
	v[1] = Int32GetDatum(batch);
	ff_execute(scan_plan, v, NULL, false, 0);
	due = SPI_tuptable;
	n = SPI_processed;
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;

		v[0] = SPI_getbinval(due->vals[i], due->tupdesc, 1, &isnull);
		v[1] = SPI_getbinval(due->vals[i], due->tupdesc, 2, &isnull);
		v[2] = SPI_getbinval(due->vals[i], due->tupdesc, 3, &isnull);
		v[3] = Int64GetDatum(now);
		ff_execute(ff_prepare(&delete_plan,
							  "DELETE FROM ff_stream_frame WHERE partition_key = $1 "
							  "AND execution_id = $2 AND attempt_index = $3",
							  3, key_types),
				   v, NULL, false, 0);
		ff_execute(ff_prepare(&mark_plan,
							  "UPDATE ff_stream_meta SET trimmed_at_ms = $4, retained_frames = 0, "
							  "retained_best_effort = 0 WHERE partition_key = $1 "
							  "AND execution_id = $2 AND attempt_index = $3",
							  4, mark_types),
				   v, NULL, false, 0);
	}
	SPI_finish();
	PG_RETURN_INT32((int32) n);
}

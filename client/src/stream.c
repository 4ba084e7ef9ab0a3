/*
 * stream.c - streams: append (also from a worker handler), read, the
 * blocking tail, stream info, summaries and the retention reconciler
 * (docs/streams.md).
 *
 * The blocking tail: the engine's ff_tail_stream only reads (a function
 * cannot wait for other transactions' commits). The client LISTENs on the
 * stream's channel first, then reads frames after the cursor; when there are
 * none it waits on the connection's socket for a notification (every append
 * NOTIFYs the channel at commit, and so does the end of an attempt that
 * appended) or the deadline, re-reading at least every TAIL_RECHECK_MS.
 * Because the engine mints frame ids under the execution's lock, commit
 * order is id order and reading "after the last id seen" never skips a
 * frame. Each read returns the frames and the stream's closing from one
 * snapshot, so "closed and nothing after the cursor" really is the end.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define T	FFC_TEXTOID
#define B	FFC_BYTEAOID
#define I4	FFC_INT4OID
#define F8	701				/* float8 */

#define TAIL_RECHECK_MS 500

static const ffc_stmt st_append = {
	"ff_c_append_frame",
	"SELECT frame_id, ts_ms, seq, frame_count, summary_version, maxlen_applied "
	"FROM ff_append_frame(handle => $1, frame_type => $2, payload => $3, mode => $4, "
	"correlation_id => $5, encoding => $6, ttl_ms => $7, maxlen_floor => $8, "
	"maxlen_ceiling => $9, ema_alpha => $10)",
	10, {B, T, B, T, T, T, I4, I4, I4, F8}, false
};

/* The frame columns after the stream's attempt and closing, one snapshot. */
#define FRAME_COLUMNS \
	"i.attempt_index, i.closed_at_ms, i.closed_reason, f.frame_id, f.ts_ms, f.seq, f.mode, " \
	"f.frame_type, f.encoding, f.correlation_id, f.summary_version, f.payload "

static const ffc_stmt st_read = {
	"ff_c_read_stream",
	"SELECT " FRAME_COLUMNS "FROM ff_stream_info($1, $2) i "
	"LEFT JOIN LATERAL ff_read_stream($1, i.attempt_index, $3, $4, $5) f ON true "
	"ORDER BY f.ts_ms, f.seq",
	5, {T, I4, T, T, I4}, true
};

static const ffc_stmt st_tail = {
	"ff_c_tail_stream",
	"SELECT " FRAME_COLUMNS "FROM ff_stream_info($1, $2) i "
	"LEFT JOIN LATERAL ff_tail_stream($1, i.attempt_index, $3, $4, $5) f ON true "
	"ORDER BY f.ts_ms, f.seq",
	5, {T, I4, T, I4, T}, true
};

static const ffc_stmt st_info = {
	"ff_c_stream_info",
	"SELECT execution_id, attempt_index, channel, closed_at_ms, closed_reason, last_frame_id, "
	"frame_count, retained_frames, total_bytes, first_frame_at_ms, last_frame_at_ms, "
	"has_durable_frame, summary_version, ema_rate_hz, maxlen_applied_last, "
	"retention_trimmed_at_ms FROM ff_stream_info($1, $2)",
	2, {T, I4}, true
};

static const ffc_stmt st_summary = {
	"ff_c_read_summary",
	"SELECT document, version, patch_kind, first_applied_ms, last_updated_ms "
	"FROM ff_read_summary($1, $2)",
	2, {T, I4}, true
};

static const ffc_stmt st_retention = {
	"ff_c_rec_stream_retention", "SELECT ff_reconcile_stream_retention($1)", 1, {I4}, true
};

static const char *const mode_names[] = {"durable", "summary", "best_effort"};

/* ------------------------------------------------------------------------
 * helpers
 * ------------------------------------------------------------------------ */
static ff_status
check_id_args(ff_client *c, const char *execution_id, int32_t attempt_index)
{
	if (execution_id == NULL)
		return ffc_set_error(c, FF_ERR_USAGE, "execution_id is required");
	if (attempt_index < FF_CURRENT_ATTEMPT)
		return ffc_set_error(c, FF_ERR_USAGE,
							 "attempt_index must be >= 0 or FF_CURRENT_ATTEMPT");
	return FF_OK;
}

/* the checks of the calls naming an attempt's stream, then its parameters */
static ff_status
stream_params(ff_client *c, const char *execution_id, int32_t attempt_index, void *out,
			  size_t out_size, ffc_params *p)
{
	ff_status	s;

	if (c == NULL || out == NULL)
		return ffc_usage(c, "out is required");
	memset(out, 0, out_size);
	if ((s = check_id_args(c, execution_id, attempt_index)) != FF_OK)
		return s;
	ffc_params_init(p);
	ffc_param_text(p, execution_id);
	ffc_param_int32_or_null(p, attempt_index, attempt_index == FF_CURRENT_ATTEMPT);
	return FF_OK;
}

/* ------------------------------------------------------------------------
 * append
 * ------------------------------------------------------------------------ */
static const ffc_field append_fields[] = {
	FFC_FLD_CHARS(ff_append_result, frame_id),
	FFC_FLD(I64, ff_append_result, ts_ms),
	FFC_FLD(I32, ff_append_result, seq),
	FFC_FLD(I64, ff_append_result, frame_count),
	FFC_FLD(I64, ff_append_result, summary_version),
	FFC_FLD(I32, ff_append_result, maxlen_applied),
};

ff_status
ff_client_append_frame(ff_client *c, const ff_handle *handle, const ff_frame_args *args,
					   ff_append_result *out)
{
	ffc_params	p;
	char		alpha[64];

	if (c == NULL)
		return FF_ERR_USAGE;
	if (out)
		memset(out, 0, sizeof(*out));
	if (handle == NULL || handle->data == NULL || args == NULL)
		return ffc_set_error(c, FF_ERR_USAGE, "handle and args are required");
	if ((unsigned) args->mode > FF_STREAM_BEST_EFFORT)
		return ffc_set_error(c, FF_ERR_USAGE, "unknown stream mode %d", (int) args->mode);
	if (args->payload == NULL && args->payload_len > 0)
		return ffc_set_error(c, FF_ERR_USAGE, "payload is NULL but payload_len is %zu",
							 args->payload_len);
	ffc_params_init(&p);
	ffc_param_bytes(&p, handle->data, handle->len, false);
	ffc_param_text(&p, args->frame_type);
	ffc_param_bytes(&p, args->payload, args->payload_len, false);
	ffc_param_text(&p, mode_names[args->mode]);
	ffc_param_text(&p, args->correlation_id);
	ffc_param_text(&p, args->encoding);
	ffc_param_int32_or_null(&p, args->ttl_ms, args->ttl_ms == 0);
	ffc_param_int32_or_null(&p, args->maxlen_floor, args->maxlen_floor == 0);
	ffc_param_int32_or_null(&p, args->maxlen_ceiling, args->maxlen_ceiling == 0);
	snprintf(alpha, sizeof(alpha), "%.17g", args->ema_alpha);
	ffc_param_text(&p, args->ema_alpha == 0 ? NULL : alpha);
	return FFC_RUN_ROW(c, &st_append, &p, append_fields, out, NULL);
}

ff_status
ff_job_append_frame(ff_job *job, const ff_frame_args *args, ff_append_result *out)
{
	if (job == NULL)
		return FF_ERR_USAGE;
	return ff_client_append_frame(ff_job_client(job), ff_job_handle(job), args, out);
}

/* ------------------------------------------------------------------------
 * read and tail
 * ------------------------------------------------------------------------ */
/* FRAME_COLUMNS: the stream's attempt and closing, then one frame */
static const ffc_field frame_list_fields[] = {
	FFC_FLD(I32, ff_frame_list, attempt_index),
	FFC_FLD2(I64_HAS, ff_frame_list, closed_at_ms, closed),
	FFC_FLD(TEXT, ff_frame_list, closed_reason),
};

static const ffc_field frame_fields[] = {
	FFC_FLD_CHARS(ff_frame, frame_id),
	FFC_FLD(I64, ff_frame, ts_ms),
	FFC_FLD(I32, ff_frame, seq),
	FFC_FLD(TEXT, ff_frame, mode),
	FFC_FLD(TEXT, ff_frame, frame_type),
	FFC_FLD(TEXT, ff_frame, encoding),
	FFC_FLD(TEXT, ff_frame, correlation_id),
	FFC_FLD(I64, ff_frame, summary_version),
	FFC_FLD_REQ(BYTES, ff_frame, payload),
};

void
ff_frame_list_clear(ff_frame_list *l)
{
	if (l == NULL)
		return;
	ffc_free_list(frame_fields, FFC_NF(frame_fields), sizeof(ff_frame), l->items, l->count);
	FFC_CLEAR_RECORD(l, frame_list_fields);
}

/* runs st_read / st_tail (freeing p) into *out (zeroed first) */
static ff_status
run_frames(ff_client *c, const ffc_stmt *st, ffc_params *p, ff_frame_list *out)
{
	PGresult   *res;
	ff_status	s;

	memset(out, 0, sizeof(*out));
	s = ffc_run(c, st, p, FFC_NF(frame_list_fields) + FFC_NF(frame_fields), &res);
	if (s != FF_OK)
		return s;
	/* a stream with no frame in range is one row with NULL frame columns */
	s = ffc_decode_nested(c, res, frame_list_fields, FFC_NF(frame_list_fields), out,
						  frame_fields, FFC_NF(frame_fields), sizeof(ff_frame),
						  (void **) &out->items, &out->count);
	PQclear(res);
	if (s != FF_OK)
		ff_frame_list_clear(out);
	return s;
}

ff_status
ff_client_read_stream(ff_client *c, const char *execution_id, int32_t attempt_index,
					  const char *from, const char *to, int32_t count_limit, ff_frame_list *out)
{
	ffc_params	p;
	ff_status	s = stream_params(c, execution_id, attempt_index, out, sizeof(*out), &p);

	if (s != FF_OK)
		return s;
	ffc_param_text(&p, from ? from : "start");
	ffc_param_text(&p, to ? to : "end");
	ffc_param_int32_default(&p, count_limit, 1000);
	return run_frames(c, &st_read, &p, out);
}

/* one tail read of a resolved attempt */
static ff_status
tail_once(ff_client *c, const char *execution_id, int32_t attempt_index, const char *after,
		  int32_t count_limit, ff_tail_visibility visibility, ff_frame_list *out)
{
	ffc_params	p;

	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	ffc_param_int32_or_null(&p, attempt_index, attempt_index == FF_CURRENT_ATTEMPT);
	ffc_param_text(&p, after);
	ffc_param_int32_or_null(&p, count_limit, false);
	ffc_param_text(&p, visibility == FF_TAIL_EXCLUDE_BEST_EFFORT ? "exclude_best_effort" : "all");
	return run_frames(c, &st_tail, &p, out);
}

ff_status
ff_client_tail_stream(ff_client *c, const char *execution_id, int32_t attempt_index,
					  const char *after, int block_ms, int32_t count_limit,
					  ff_tail_visibility visibility, ff_frame_list *out)
{
	ff_stream_info info;
	ff_status	s;
	int64_t		deadline;
	char	   *channel;

	if (c == NULL || out == NULL)
		return ffc_usage(c, "out is required");
	memset(out, 0, sizeof(*out));
	if ((s = check_id_args(c, execution_id, attempt_index)) != FF_OK)
		return s;
	if (block_ms < 0)
		return ffc_set_error(c, FF_ERR_USAGE, "block_ms must be >= 0");
	if (visibility != FF_TAIL_ALL && visibility != FF_TAIL_EXCLUDE_BEST_EFFORT)
		return ffc_set_error(c, FF_ERR_USAGE, "unknown visibility %d", (int) visibility);
	if (after == NULL)
		after = "0-0";
	if (count_limit == 0)
		count_limit = 1000;
	if (block_ms == 0)
		return tail_once(c, execution_id, attempt_index, after, count_limit, visibility, out);

	if (c->conn && PQtransactionStatus(c->conn) != PQTRANS_IDLE &&
		PQtransactionStatus(c->conn) != PQTRANS_UNKNOWN)
		return ffc_set_error(c, FF_ERR_USAGE,
							 "ff_client_tail_stream cannot wait inside an explicit transaction "
							 "(notifications arrive between transactions): use block_ms 0");

	/* resolve the attempt and its channel, subscribe, and only then read */
	s = ff_client_stream_info(c, execution_id, attempt_index, &info);
	if (s != FF_OK)
		return s;
	attempt_index = info.attempt_index;
	channel = info.channel;
	info.channel = NULL;
	ff_stream_info_clear(&info);
	s = ffc_listen(c, channel);
	if (s != FF_OK)
	{
		free(channel);
		return s;
	}

	deadline = ffc_monotonic_ms() + block_ms;
	for (;;)
	{
		int64_t		wait;
		int			fd;
		struct pollfd pfd;
		int			r;

		/* notifications so far are covered by the read below */
		(void) ffc_consume_notifications(c);
		s = tail_once(c, execution_id, attempt_index, after, count_limit, visibility, out);
		if (s != FF_OK || out->count > 0 || out->closed)
			break;
		wait = deadline - ffc_monotonic_ms();
		if (wait <= 0)
			break;
		ff_frame_list_clear(out);
		fd = ff_client_socket(c);
		if (fd < 0)
		{
			/* the next read reconnects (and LISTENs again) */
			ffc_sleep_ms(wait < 100 ? wait : 100);
			continue;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		/*
		 * An attempt that ends without ever appending a frame closes no meta
		 * row and sends no NOTIFY (the engine keeps NOTIFY out of ordinary
		 * completions): re-read at least every TAIL_RECHECK_MS.
		 */
		r = poll(&pfd, 1, (int) (wait > TAIL_RECHECK_MS ? TAIL_RECHECK_MS : wait));
		if (r < 0 && errno == EINTR)
		{
			/* let the caller look at its signals: one last read */
			(void) ffc_consume_notifications(c);
			s = tail_once(c, execution_id, attempt_index, after, count_limit, visibility, out);
			break;
		}
	}
	if (s != FF_OK)
	{
		ff_frame_list_clear(out);
		(void) ffc_unlisten(c, channel);	/* keeps the read's error */
	}
	else if (ffc_unlisten(c, channel) != FF_OK)
		ffc_clear_error(c);		/* a stray LISTEN only costs spurious wake-ups */
	free(channel);
	return s;
}

/* ------------------------------------------------------------------------
 * info, summary, retention
 * ------------------------------------------------------------------------ */
static const ffc_field info_fields[] = {
	FFC_FLD(TEXT, ff_stream_info, execution_id),
	FFC_FLD(I32, ff_stream_info, attempt_index),
	FFC_FLD_REQ(TEXT, ff_stream_info, channel),
	FFC_FLD2(I64_HAS, ff_stream_info, closed_at_ms, closed),
	FFC_FLD(TEXT, ff_stream_info, closed_reason),
	FFC_FLD(TEXT, ff_stream_info, last_frame_id),
	FFC_FLD(I64, ff_stream_info, frame_count),
	FFC_FLD(I64, ff_stream_info, retained_frames),
	FFC_FLD(I64, ff_stream_info, total_bytes),
	FFC_FLD(I64, ff_stream_info, first_frame_at_ms),
	FFC_FLD(I64, ff_stream_info, last_frame_at_ms),
	FFC_FLD(BOOL, ff_stream_info, has_durable_frame),
	FFC_FLD(I64, ff_stream_info, summary_version),
	FFC_FLD(F64, ff_stream_info, ema_rate_hz),
	FFC_FLD(I32, ff_stream_info, maxlen_applied_last),
	FFC_FLD(I64, ff_stream_info, retention_trimmed_at_ms),
};

void
ff_stream_info_clear(ff_stream_info *i)
{
	FFC_CLEAR_RECORD(i, info_fields);
}

ff_status
ff_client_stream_info(ff_client *c, const char *execution_id, int32_t attempt_index,
					  ff_stream_info *out)
{
	ffc_params	p;
	ff_status	s = stream_params(c, execution_id, attempt_index, out, sizeof(*out), &p);

	if (s != FF_OK)
		return s;
	return FFC_RUN_ROW(c, &st_info, &p, info_fields, out, NULL);
}

static const ffc_field summary_fields[] = {
	FFC_FLD(TEXT, ff_stream_summary, document_json),
	FFC_FLD(I64, ff_stream_summary, version),
	FFC_FLD(TEXT, ff_stream_summary, patch_kind),
	FFC_FLD(I64, ff_stream_summary, first_applied_ms),
	FFC_FLD(I64, ff_stream_summary, last_updated_ms),
};

void
ff_stream_summary_clear(ff_stream_summary *sm)
{
	FFC_CLEAR_RECORD(sm, summary_fields);
}

ff_status
ff_client_read_summary(ff_client *c, const char *execution_id, int32_t attempt_index,
					   ff_stream_summary *out)
{
	ffc_params	p;
	ff_status	s = stream_params(c, execution_id, attempt_index, out, sizeof(*out), &p);

	if (s != FF_OK)
		return s;
	return FFC_RUN_ROW(c, &st_summary, &p, summary_fields, out, &out->found);
}

ff_status
ff_client_reconcile_stream_retention(ff_client *c, int32_t batch_size, int32_t *changed)
{
	return ffc_reconcile(c, &st_retention, batch_size, changed);
}

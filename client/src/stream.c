/*
 * stream.c - streams: append (also from a worker handler), read, the
 * blocking tail, stream info, summaries and the retention reconciler
 * (docs/streams.md).
 *
 * The blocking tail: the engine's ff_tail_stream only reads (a function
 * cannot wait for other transactions' commits). The client LISTENs on the
 * stream's channel first, then reads frames after the cursor; when there are
 * none it waits on the connection's socket for a notification (every append
 * NOTIFYs the channel at commit, and so does the attempt's end) or the
 * deadline, then reads again. Because the engine mints frame ids under the
 * execution's lock, commit order is id order and reading "after the last id
 * seen" never skips a frame. Each read returns the frames and the stream's
 * closing from one snapshot, so "closed and nothing after the cursor" really
 * is the end.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define T	FFC_TEXTOID
#define B	FFC_BYTEAOID
#define I4	FFC_INT4OID
#define F8	701				/* float8 */

#define TRY(expr) do { if (s == FF_OK) s = (expr); } while (0)

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
get_float8(ff_client *c, const PGresult *res, int row, int col, double *out)
{
	const unsigned char *v = (const unsigned char *) PQgetvalue(res, row, col);
	uint64_t	u = 0;

	*out = 0;
	if (PQgetisnull(res, row, col))
		return FF_OK;
	if (PQftype(res, col) != F8 || PQgetlength(res, row, col) != 8)
		return ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: column \"%s\" is not float8",
							 PQfname(res, col));
	for (int i = 0; i < 8; i++)
		u = (u << 8) | v[i];
	memcpy(out, &u, sizeof(*out));
	return FF_OK;
}

/* a text column into a fixed buffer (frame ids) */
static ff_status
get_id(ff_client *c, const PGresult *res, int row, int col, char *buf, size_t len)
{
	char	   *v = NULL;
	ff_status	s = ffc_get_text(c, res, row, col, &v);

	buf[0] = '\0';
	if (s == FF_OK && v != NULL)
	{
		if (strlen(v) >= len)
			s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: frame id \"%s\" too long", v);
		else
			strcpy(buf, v);
	}
	free(v);
	return s;
}

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

static void
param_attempt(ffc_params *p, int32_t attempt_index)
{
	ffc_param_int32_or_null(p, attempt_index, attempt_index == FF_CURRENT_ATTEMPT);
}

/* ------------------------------------------------------------------------
 * append
 * ------------------------------------------------------------------------ */
ff_status
ff_client_append_frame(ff_client *c, const ff_handle *handle, const ff_frame_args *args,
					   ff_append_result *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_append_result r;
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
	memset(&r, 0, sizeof(r));
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
	s = ffc_exec(c, &st_append, &p, &res);
	ffc_params_free(&p);
	if (s != FF_OK)
		return s;
	s = ffc_expect_columns(c, res, 6);
	if (s == FF_OK && PQntuples(res) != 1)
		s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: %d rows", PQntuples(res));
	TRY(get_id(c, res, 0, 0, r.frame_id, sizeof(r.frame_id)));
	TRY(ffc_get_int64(c, res, 0, 1, &r.ts_ms));
	TRY(ffc_get_int32(c, res, 0, 2, &r.seq));
	TRY(ffc_get_int64(c, res, 0, 3, &r.frame_count));
	TRY(ffc_get_int64(c, res, 0, 4, &r.summary_version));
	TRY(ffc_get_int32(c, res, 0, 5, &r.maxlen_applied));
	PQclear(res);
	if (s == FF_OK && out)
		*out = r;
	return s;
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
void
ff_frame_list_clear(ff_frame_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->count; i++)
	{
		ff_frame   *f = &l->items[i];

		free(f->mode);
		free(f->frame_type);
		free(f->encoding);
		free(f->correlation_id);
		ff_bytes_clear(&f->payload);
	}
	free(l->items);
	free(l->closed_reason);
	memset(l, 0, sizeof(*l));
}

/* decodes a st_read / st_tail result: the closing, then the frames */
static ff_status
decode_frames(ff_client *c, const PGresult *res, ff_frame_list *out)
{
	ff_frame_list l;
	ff_status	s = ffc_expect_columns(c, res, 12);
	int			n = PQntuples(res);

	memset(&l, 0, sizeof(l));
	if (s == FF_OK && n < 1)
		s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: no stream row");
	TRY(ffc_get_int32(c, res, 0, 0, &l.attempt_index));
	TRY(ffc_get_int64(c, res, 0, 1, &l.closed_at_ms));
	TRY(ffc_get_text(c, res, 0, 2, &l.closed_reason));
	if (s == FF_OK)
		l.closed = !ffc_isnull(res, 0, 1);
	/* a stream with no frame in range is one row with NULL frame columns */
	if (s == FF_OK && !(n == 1 && ffc_isnull(res, 0, 3)) &&
		(l.items = ffc_calloc((size_t) n, sizeof(*l.items))) == NULL)
		s = ffc_set_error(c, FF_ERR_OUT_OF_MEMORY, "out of memory");
	for (int i = 0; i < n && s == FF_OK && l.items != NULL; i++)
	{
		ff_frame   *f = &l.items[i];

		l.count++;
		TRY(get_id(c, res, i, 3, f->frame_id, sizeof(f->frame_id)));
		TRY(ffc_get_int64(c, res, i, 4, &f->ts_ms));
		TRY(ffc_get_int32(c, res, i, 5, &f->seq));
		TRY(ffc_get_text(c, res, i, 6, &f->mode));
		TRY(ffc_get_text(c, res, i, 7, &f->frame_type));
		TRY(ffc_get_text(c, res, i, 8, &f->encoding));
		TRY(ffc_get_text(c, res, i, 9, &f->correlation_id));
		TRY(ffc_get_int64(c, res, i, 10, &f->summary_version));
		TRY(ffc_get_bytes(c, res, i, 11, &f->payload));
		if (s == FF_OK && f->payload.data == NULL)
			s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: a frame without payload");
	}
	if (s != FF_OK)
	{
		ff_frame_list_clear(&l);
		return s;
	}
	*out = l;
	return FF_OK;
}

static ff_status
run_frames(ff_client *c, const ffc_stmt *st, ffc_params *p, ff_frame_list *out)
{
	PGresult   *res;
	ff_status	s = ffc_exec(c, st, p, &res);

	if (s != FF_OK)
		return s;
	s = decode_frames(c, res, out);
	PQclear(res);
	return s;
}

ff_status
ff_client_read_stream(ff_client *c, const char *execution_id, int32_t attempt_index,
					  const char *from, const char *to, int32_t count_limit, ff_frame_list *out)
{
	ffc_params	p;
	ff_status	s;

	if (c == NULL || out == NULL)
		return c ? ffc_set_error(c, FF_ERR_USAGE, "out is required") : FF_ERR_USAGE;
	memset(out, 0, sizeof(*out));
	if ((s = check_id_args(c, execution_id, attempt_index)) != FF_OK)
		return s;
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	param_attempt(&p, attempt_index);
	ffc_param_text(&p, from ? from : "start");
	ffc_param_text(&p, to ? to : "end");
	ffc_param_int32_or_null(&p, count_limit == 0 ? 1000 : count_limit, false);
	s = run_frames(c, &st_read, &p, out);
	ffc_params_free(&p);
	return s;
}

/* one tail read of a resolved attempt */
static ff_status
tail_once(ff_client *c, const char *execution_id, int32_t attempt_index, const char *after,
		  int32_t count_limit, ff_tail_visibility visibility, ff_frame_list *out)
{
	ffc_params	p;
	ff_status	s;

	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	param_attempt(&p, attempt_index);
	ffc_param_text(&p, after);
	ffc_param_int32_or_null(&p, count_limit, false);
	ffc_param_text(&p, visibility == FF_TAIL_EXCLUDE_BEST_EFFORT ? "exclude_best_effort" : "all");
	s = run_frames(c, &st_tail, &p, out);
	ffc_params_free(&p);
	return s;
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
		return c ? ffc_set_error(c, FF_ERR_USAGE, "out is required") : FF_ERR_USAGE;
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
		r = poll(&pfd, 1, (int) (wait > 60000 ? 60000 : wait));
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
void
ff_stream_info_clear(ff_stream_info *i)
{
	if (i == NULL)
		return;
	free(i->execution_id);
	free(i->channel);
	free(i->closed_reason);
	free(i->last_frame_id);
	memset(i, 0, sizeof(*i));
}

ff_status
ff_client_stream_info(ff_client *c, const char *execution_id, int32_t attempt_index,
					  ff_stream_info *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_stream_info i;

	if (c == NULL || out == NULL)
		return c ? ffc_set_error(c, FF_ERR_USAGE, "out is required") : FF_ERR_USAGE;
	memset(out, 0, sizeof(*out));
	if ((s = check_id_args(c, execution_id, attempt_index)) != FF_OK)
		return s;
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	param_attempt(&p, attempt_index);
	s = ffc_exec(c, &st_info, &p, &res);
	ffc_params_free(&p);
	if (s != FF_OK)
		return s;
	memset(&i, 0, sizeof(i));
	s = ffc_expect_columns(c, res, 16);
	if (s == FF_OK && PQntuples(res) != 1)
		s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: %d rows", PQntuples(res));
	TRY(ffc_get_text(c, res, 0, 0, &i.execution_id));
	TRY(ffc_get_int32(c, res, 0, 1, &i.attempt_index));
	TRY(ffc_get_text(c, res, 0, 2, &i.channel));
	if (s == FF_OK)
		i.closed = !ffc_isnull(res, 0, 3);
	TRY(ffc_get_int64(c, res, 0, 3, &i.closed_at_ms));
	TRY(ffc_get_text(c, res, 0, 4, &i.closed_reason));
	TRY(ffc_get_text(c, res, 0, 5, &i.last_frame_id));
	TRY(ffc_get_int64(c, res, 0, 6, &i.frame_count));
	TRY(ffc_get_int64(c, res, 0, 7, &i.retained_frames));
	TRY(ffc_get_int64(c, res, 0, 8, &i.total_bytes));
	TRY(ffc_get_int64(c, res, 0, 9, &i.first_frame_at_ms));
	TRY(ffc_get_int64(c, res, 0, 10, &i.last_frame_at_ms));
	TRY(ffc_get_bool(c, res, 0, 11, &i.has_durable_frame));
	TRY(ffc_get_int64(c, res, 0, 12, &i.summary_version));
	TRY(get_float8(c, res, 0, 13, &i.ema_rate_hz));
	TRY(ffc_get_int32(c, res, 0, 14, &i.maxlen_applied_last));
	TRY(ffc_get_int64(c, res, 0, 15, &i.retention_trimmed_at_ms));
	PQclear(res);
	if (s == FF_OK && i.channel == NULL)
		s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: no channel");
	if (s != FF_OK)
	{
		ff_stream_info_clear(&i);
		return s;
	}
	*out = i;
	return FF_OK;
}

void
ff_stream_summary_clear(ff_stream_summary *sm)
{
	if (sm == NULL)
		return;
	free(sm->document_json);
	free(sm->patch_kind);
	memset(sm, 0, sizeof(*sm));
}

ff_status
ff_client_read_summary(ff_client *c, const char *execution_id, int32_t attempt_index,
					   ff_stream_summary *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_stream_summary sm;

	if (c == NULL || out == NULL)
		return c ? ffc_set_error(c, FF_ERR_USAGE, "out is required") : FF_ERR_USAGE;
	memset(out, 0, sizeof(*out));
	if ((s = check_id_args(c, execution_id, attempt_index)) != FF_OK)
		return s;
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	param_attempt(&p, attempt_index);
	s = ffc_exec(c, &st_summary, &p, &res);
	ffc_params_free(&p);
	if (s != FF_OK)
		return s;
	memset(&sm, 0, sizeof(sm));
	s = ffc_expect_columns(c, res, 5);
	if (s == FF_OK && PQntuples(res) > 1)
		s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: %d rows", PQntuples(res));
	if (s == FF_OK && PQntuples(res) == 1)
	{
		sm.found = true;
		TRY(ffc_get_text(c, res, 0, 0, &sm.document_json));
		TRY(ffc_get_int64(c, res, 0, 1, &sm.version));
		TRY(ffc_get_text(c, res, 0, 2, &sm.patch_kind));
		TRY(ffc_get_int64(c, res, 0, 3, &sm.first_applied_ms));
		TRY(ffc_get_int64(c, res, 0, 4, &sm.last_updated_ms));
	}
	PQclear(res);
	if (s != FF_OK)
	{
		ff_stream_summary_clear(&sm);
		return s;
	}
	*out = sm;
	return FF_OK;
}

ff_status
ff_client_reconcile_stream_retention(ff_client *c, int32_t batch_size, int32_t *changed)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	int32_t		n = 0;

	if (changed)
		*changed = 0;
	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_int32_or_null(&p, batch_size, batch_size == 0);
	s = ffc_exec(c, &st_retention, &p, &res);
	ffc_params_free(&p);
	if (s != FF_OK)
		return s;
	s = ffc_expect_columns(c, res, 1);
	if (s == FF_OK && PQntuples(res) != 1)
		s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: %d rows", PQntuples(res));
	TRY(ffc_get_int32(c, res, 0, 0, &n));
	PQclear(res);
	if (s == FF_OK && changed)
		*changed = n;
	return s;
}

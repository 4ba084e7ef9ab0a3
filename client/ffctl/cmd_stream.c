/*
 * cmd_stream.c - ffctl tail, summary and append: an attempt's output stream
 * (docs/streams.md).
 *
 *   ffctl tail EXECUTION_ID [--attempt N] [--after ID] [--follow] ...
 *   ffctl summary EXECUTION_ID [--attempt N]
 *   ffctl append HANDLE --type T (--payload TEXT | --payload-file PATH|-) ...
 *
 * tail prints the frames of one attempt's stream (the current attempt by
 * default), oldest first; with --follow it then waits for more, like
 * tail -f, woken by the stream's NOTIFY, until the stream closes (its
 * attempt ended), --timeout-ms passes, or SIGINT / SIGTERM.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ffctl.h"

/* --attempt N: FF_CURRENT_ATTEMPT when absent; false (after a message) if bad */
static bool
opt_attempt(const ffctl_args *a, const char *command, int32_t *out)
{
	int64_t		n = FF_CURRENT_ATTEMPT;
	bool		present;

	if (!ffctl_opt_int64(a, "attempt", &n, &present))
		return false;
	if (present && (n < 0 || n > INT32_MAX))
	{
		ffctl_usage_error(command, "--attempt must be an attempt index (0, 1, ...)");
		return false;
	}
	*out = (int32_t) n;
	return true;
}

static void
write_base64(FILE *f, const unsigned char *p, size_t len)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < len; i += 3)
	{
		unsigned	v = (unsigned) p[i] << 16;

		if (i + 1 < len)
			v |= (unsigned) p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		fputc(tbl[(v >> 18) & 63], f);
		fputc(tbl[(v >> 12) & 63], f);
		fputc(i + 1 < len ? tbl[(v >> 6) & 63] : '=', f);
		fputc(i + 2 < len ? tbl[v & 63] : '=', f);
	}
}

static void
write_hex(FILE *f, const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		fprintf(f, "%02x", p[i]);
}

typedef struct tail_output
{
	bool		json;
	bool		raw;			/* payload bytes exactly, nothing added */
	bool		ids;			/* prefix "<frame_id> <frame_type> " */
	bool		base64;			/* binary payloads in base64 instead of hex */
} tail_output;

static void
print_frame(const tail_output *o, int32_t attempt_index, const ff_frame *f)
{
	const ff_bytes *b = &f->payload;
	bool		text = ffctl_is_text(b->data, b->len);

	if (o->json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_str(&j, "frame_id", f->frame_id);
		jw_kv_int(&j, "ts_ms", f->ts_ms);
		jw_kv_int(&j, "seq", f->seq);
		jw_kv_int(&j, "attempt_index", attempt_index);
		jw_kv_str(&j, "mode", f->mode);
		jw_kv_str(&j, "frame_type", f->frame_type);
		jw_kv_str(&j, "encoding", f->encoding);
		jw_kv_str(&j, "correlation_id", f->correlation_id);
		jw_key(&j, "summary_version");
		if (f->summary_version > 0)
			jw_int(&j, f->summary_version);
		else
			jw_null(&j);
		if (text || !o->base64)
			jw_bytes(&j, "payload", b);
		else
		{
			jw_key(&j, "payload_base64");
			jw_raw(&j, "\"");
			write_base64(stdout, b->data, b->len);
			fputc('"', stdout);
		}
		jw_doc_end(&j);
		return;
	}
	if (o->ids)
		printf("%s %s ", f->frame_id, f->frame_type);
	if (o->raw)
	{
		fwrite(b->data, 1, b->len, stdout);
		return;
	}
	if (text)
	{
		fwrite(b->data, 1, b->len, stdout);
		if (b->len == 0 || b->data[b->len - 1] != '\n')
			putchar('\n');
		return;
	}
	if (o->base64)
		write_base64(stdout, b->data, b->len);
	else
		write_hex(stdout, b->data, b->len);
	putchar('\n');
}

static void
print_closed(const tail_output *o, const ff_frame_list *l)
{
	if (o->json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_bool(&j, "closed", true);
		jw_kv_int(&j, "attempt_index", l->attempt_index);
		jw_kv_int(&j, "closed_at_ms", l->closed_at_ms);
		jw_kv_str(&j, "closed_reason", l->closed_reason);
		jw_doc_end(&j);
	}
	else
	{
		fflush(stdout);
		fprintf(stderr, "ffctl tail: the stream of attempt %d is closed (%s)\n",
				(int) l->attempt_index, l->closed_reason ? l->closed_reason : "ended");
	}
}

static const ffctl_optspec tail_spec[] = {
	{"attempt", true}, {"after", true}, {"limit", true}, {"follow", false}, {"block-ms", true},
	{"timeout-ms", true}, {"exclude-best-effort", false}, {"raw", false}, {"ids", false},
	{"base64", false}, {NULL, false}
};

int
cmd_tail(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	tail_output o = {0};
	int32_t		attempt = FF_CURRENT_ATTEMPT;
	int64_t		limit = 1000,
				block_ms = 5000,
				timeout = 0;
	bool		has_timeout;
	bool		follow;
	char		cursor[64];
	ff_tail_visibility vis;
	int64_t		deadline;
	int			rc = FFCTL_EXIT_OK;

	if (!ffctl_parse(argc, argv, tail_spec, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos != 1)
		return ffctl_usage_error("tail", "expected one EXECUTION_ID");
	if (!opt_attempt(&a, "tail", &attempt) ||
		!ffctl_opt_int64(&a, "limit", &limit, NULL) ||
		!ffctl_opt_int64(&a, "block-ms", &block_ms, NULL) ||
		!ffctl_opt_int64(&a, "timeout-ms", &timeout, &has_timeout))
		return FFCTL_EXIT_USAGE;
	follow = ffctl_flag(&a, "follow");
	if (limit < 1 || limit > 10000)
		return ffctl_usage_error("tail", "--limit must be 1..10000");
	if (block_ms < 1 || block_ms > 3600000 || (has_timeout && timeout < 0))
		return ffctl_usage_error("tail", "--block-ms must be 1..3600000, --timeout-ms >= 0");
	if (!follow && (has_timeout || ffctl_opt(&a, "block-ms")))
		return ffctl_usage_error("tail", "--block-ms and --timeout-ms go with --follow");
	snprintf(cursor, sizeof(cursor), "%s", ffctl_opt(&a, "after") ? ffctl_opt(&a, "after") : "0-0");
	vis = ffctl_flag(&a, "exclude-best-effort") ? FF_TAIL_EXCLUDE_BEST_EFFORT : FF_TAIL_ALL;
	o.json = a.json;
	o.raw = ffctl_flag(&a, "raw");
	o.ids = ffctl_flag(&a, "ids");
	o.base64 = ffctl_flag(&a, "base64");
	if (o.raw && (o.json || o.ids || o.base64))
		return ffctl_usage_error("tail", "--raw prints payloads only (not with --json, --ids, --base64)");

	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;

	if (follow)
		ffctl_catch_stop_signals();
	deadline = ffctl_mono_ms() + timeout;

	while (!ffctl_interrupted)
	{
		ff_frame_list l = {0};
		ff_status	st;
		int			wait = 0;

		if (follow)
		{
			wait = (int) block_ms;
			if (has_timeout)
			{
				int64_t		left = deadline - ffctl_mono_ms();

				if (left < wait)
					wait = left > 0 ? (int) left : 0;
			}
		}
		st = ff_client_tail_stream(c, a.pos[0], attempt, cursor, wait, (int32_t) limit, vis, &l);
		if (st != FF_OK)
		{
			if (follow && st == FF_ERR_CONNECTION)
			{
				/* keep following from the cursor once the server is back */
				fprintf(stderr, "ffctl tail: %s; retrying\n", ff_client_last_error(c)->message);
				ffctl_sleep_ms(1000);
				continue;
			}
			rc = ffctl_fail(&a, c, "tail");
			break;
		}
		/* stay on the attempt resolved first, even if a retry starts */
		attempt = l.attempt_index;
		for (size_t i = 0; i < l.count; i++)
			print_frame(&o, l.attempt_index, &l.items[i]);
		if (l.count > 0)
			snprintf(cursor, sizeof(cursor), "%s", l.items[l.count - 1].frame_id);
		fflush(stdout);
		if (l.count == (size_t) limit)
		{
			/* a full page: read on at once */
			ff_frame_list_clear(&l);
			continue;
		}
		if (l.closed)
		{
			if (follow)
				print_closed(&o, &l);
			ff_frame_list_clear(&l);
			break;
		}
		ff_frame_list_clear(&l);
		if (!follow)
			break;
		if (has_timeout && ffctl_mono_ms() >= deadline)
		{
			rc = FFCTL_EXIT_EMPTY;
			break;
		}
	}
	fflush(stdout);
	ff_client_close(c);
	return rc;
}

static const ffctl_optspec summary_spec[] = {{"attempt", true}, {NULL, false}};

int
cmd_summary(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	ff_stream_summary s = {0};
	int32_t		attempt = FF_CURRENT_ATTEMPT;
	int			rc;

	if (!ffctl_parse(argc, argv, summary_spec, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos != 1)
		return ffctl_usage_error("summary", "expected one EXECUTION_ID");
	if (!opt_attempt(&a, "summary", &attempt))
		return FFCTL_EXIT_USAGE;
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (ff_client_read_summary(c, a.pos[0], attempt, &s) != FF_OK)
	{
		rc = ffctl_fail(&a, c, "summary");
		ff_client_close(c);
		return rc;
	}
	if (!s.found)
	{
		if (a.json)
			printf("null\n");
		else
			fprintf(stderr, "ffctl summary: no summary frame yet\n");
		rc = FFCTL_EXIT_NOT_FOUND;
	}
	else if (a.json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_int(&j, "version", s.version);
		jw_kv_str(&j, "patch_kind", s.patch_kind);
		jw_kv_int(&j, "first_applied_ms", s.first_applied_ms);
		jw_kv_int(&j, "last_updated_ms", s.last_updated_ms);
		jw_key(&j, "document");
		jw_raw(&j, s.document_json);
		jw_doc_end(&j);
	}
	else
	{
		char		first[40],
					last[40];

		ffctl_format_time(s.first_applied_ms, first, sizeof(first));
		ffctl_format_time(s.last_updated_ms, last, sizeof(last));
		ffctl_kv("document", "%s", s.document_json);
		ffctl_kv("version", "%lld", (long long) s.version);
		ffctl_kv("patch_kind", "%s", s.patch_kind);
		ffctl_kv("first_applied", "%s (%lld)", first, (long long) s.first_applied_ms);
		ffctl_kv("last_updated", "%s (%lld)", last, (long long) s.last_updated_ms);
	}
	ff_stream_summary_clear(&s);
	ff_client_close(c);
	return rc;
}

static const ffctl_optspec append_spec[] = {
	{"type", true}, {"payload", true}, {"payload-file", true}, {"mode", true},
	{"correlation-id", true}, {"encoding", true}, {"ttl-ms", true}, {"floor", true},
	{"ceiling", true}, {"alpha", true}, {NULL, false}
};

int
cmd_append(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	ff_handle	h = {0};
	ff_bytes	file = {0};
	ff_frame_args fa = {0};
	ff_append_result r;
	const char *mode;
	int64_t		ttl = 0,
				fl = 0,
				ce = 0;
	int			rc;

	if (!ffctl_parse(argc, argv, append_spec, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos != 1)
		return ffctl_usage_error("append", "expected one HANDLE");
	if (ffctl_opt(&a, "type") == NULL)
		return ffctl_usage_error("append", "--type is required");
	if ((ffctl_opt(&a, "payload") == NULL) == (ffctl_opt(&a, "payload-file") == NULL))
		return ffctl_usage_error("append", "give one of --payload and --payload-file");
	mode = ffctl_opt(&a, "mode") ? ffctl_opt(&a, "mode") : "durable";
	if (strcmp(mode, "durable") == 0)
		fa.mode = FF_STREAM_DURABLE;
	else if (strcmp(mode, "summary") == 0)
		fa.mode = FF_STREAM_SUMMARY;
	else if (strcmp(mode, "best_effort") == 0 || strcmp(mode, "best-effort") == 0)
		fa.mode = FF_STREAM_BEST_EFFORT;
	else
		return ffctl_usage_error("append", "--mode is durable, summary or best_effort");
	if (!ffctl_opt_int64(&a, "ttl-ms", &ttl, NULL) || !ffctl_opt_int64(&a, "floor", &fl, NULL) ||
		!ffctl_opt_int64(&a, "ceiling", &ce, NULL))
		return FFCTL_EXIT_USAGE;
	if (ttl < 0 || ttl > INT32_MAX || fl < 0 || fl > INT32_MAX || ce < 0 || ce > INT32_MAX)
		return ffctl_usage_error("append", "--ttl-ms, --floor and --ceiling are positive integers");
	if (ffctl_opt(&a, "alpha"))
	{
		char	   *end;

		fa.ema_alpha = strtod(ffctl_opt(&a, "alpha"), &end);
		if (*end != '\0' || fa.ema_alpha == 0)
			return ffctl_usage_error("append", "--alpha must be a number in (0, 1]");
	}
	if (ff_handle_from_hex(a.pos[0], &h) != FF_OK)
		return ffctl_usage_error("append", "HANDLE must be hex (as ffctl claim prints it)");
	if (!ffctl_payload_option(&a, &file, &fa.payload, &fa.payload_len))
	{
		ff_handle_clear(&h);
		return FFCTL_EXIT_ERROR;
	}
	fa.frame_type = ffctl_opt(&a, "type");
	fa.correlation_id = ffctl_opt(&a, "correlation-id");
	fa.encoding = ffctl_opt(&a, "encoding");
	fa.ttl_ms = (int32_t) ttl;
	fa.maxlen_floor = (int32_t) fl;
	fa.maxlen_ceiling = (int32_t) ce;

	c = ffctl_connect(&a, &rc);
	if (c == NULL)
	{
		ff_handle_clear(&h);
		ff_bytes_clear(&file);
		return rc;
	}
	if (ff_client_append_frame(c, &h, &fa, &r) != FF_OK)
		rc = ffctl_fail(&a, c, "append");
	else if (a.json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_str(&j, "frame_id", r.frame_id);
		jw_kv_int(&j, "ts_ms", r.ts_ms);
		jw_kv_int(&j, "seq", r.seq);
		jw_kv_int(&j, "frame_count", r.frame_count);
		jw_key(&j, "summary_version");
		if (fa.mode == FF_STREAM_SUMMARY)
			jw_int(&j, r.summary_version);
		else
			jw_null(&j);
		jw_key(&j, "maxlen_applied");
		if (fa.mode == FF_STREAM_BEST_EFFORT)
			jw_int(&j, r.maxlen_applied);
		else
			jw_null(&j);
		jw_doc_end(&j);
	}
	else
		printf("%s\n", r.frame_id);
	ff_handle_clear(&h);
	ff_bytes_clear(&file);
	ff_client_close(c);
	return rc;
}

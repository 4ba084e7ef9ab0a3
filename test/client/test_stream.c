/*
 * test_stream.c - streams through libflowfabric: append / read round trips
 * with binary payloads, every error kind of the stream calls, summaries,
 * stream info, the NOTIFY channel and payloads, the blocking tail (woken by
 * a frame or the stream's closing from another connection, parked tailers on
 * many connections, a dropped connection during the wait), frames appended
 * from a worker handler, and ffctl tail / summary / append.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"

static ff_client *c;			/* the worker's connection (appends) */
static ff_client *r;			/* a reader's connection */

/* creates and claims one execution on a fresh lane; *id_out (malloc) */
static bool
start(const char *prefix, const char *policy, char **id_out, ff_claimed *cl)
{
	const char *lane = unique_lane(prefix);

	*id_out = make_execution(c, lane, NULL, policy);
	return *id_out != NULL && claim_one(c, lane, 600000, cl);
}

static ff_status
append(const ff_handle *h, const char *type, const void *data, size_t len, ff_stream_mode mode,
	   ff_append_result *out)
{
	ff_frame_args a = {0};

	a.frame_type = type;
	a.payload = data;
	a.payload_len = len;
	a.mode = mode;
	return ff_client_append_frame(c, h, &a, out);
}

static ff_status
append_text(const ff_handle *h, const char *text)
{
	return append(h, "log", text, strlen(text), FF_STREAM_DURABLE, NULL);
}

/* ------------------------------------------------------------------------ */
static void
test_round_trip(void)
{
	char	   *id = NULL;
	ff_claimed	cl;
	ff_append_result ar[4];
	ff_frame_list l = {0};
	ff_frame_args fa = {0};
	static const unsigned char bin[] = {0x00, 0xff, 0xfe, 0x00, 0x80, 'a', 0x00};
	static unsigned char big[FF_STREAM_MAX_FRAME_BYTES + 1];

	if (!ok(start("stream-rt", NULL, &id, &cl), "set-up: an execution, claimed"))
		return;
	is_status(append(&cl.handle, "log", "hello", 5, FF_STREAM_DURABLE, &ar[0]), FF_OK, c, "append text");
	is_status(append(&cl.handle, "blob", bin, sizeof(bin), FF_STREAM_DURABLE, &ar[1]), FF_OK, c,
			  "append binary (NUL bytes, invalid UTF-8)");
	is_status(append(&cl.handle, "empty", NULL, 0, FF_STREAM_DURABLE, &ar[2]), FF_OK, c, "append an empty payload");
	fa.frame_type = "event";
	fa.payload = "{}";
	fa.payload_len = 2;
	fa.correlation_id = "req-7";
	fa.encoding = "json";
	is_status(ff_client_append_frame(c, &cl.handle, &fa, &ar[3]), FF_OK, c, "append with correlation id and encoding");
	ok(ar[0].frame_count == 1 && ar[1].frame_count == 2 && ar[3].frame_count == 4, "frame_count 1, 2, .. 4");
	{
		char		want[64];

		snprintf(want, sizeof(want), "%lld-%d", (long long) ar[1].ts_ms, (int) ar[1].seq);
		is_str(ar[1].frame_id, want, "frame_id is <ts_ms>-<seq>");
	}
	ok((ar[1].ts_ms > ar[0].ts_ms || (ar[1].ts_ms == ar[0].ts_ms && ar[1].seq > ar[0].seq)) &&
	   (ar[3].ts_ms > ar[2].ts_ms || (ar[3].ts_ms == ar[2].ts_ms && ar[3].seq > ar[2].seq)),
	   "ids increase");
	ok(ar[0].summary_version == 0 && ar[0].maxlen_applied == 0, "no summary version or K for durable frames");

	is_status(ff_client_read_stream(r, id, FF_CURRENT_ATTEMPT, NULL, NULL, 0, &l), FF_OK, r,
			  "read the stream from another connection");
	is_int(l.count, 4, "four frames");
	if (l.count == 4)
	{
		ok(l.items[1].payload.len == sizeof(bin) && memcmp(l.items[1].payload.data, bin, sizeof(bin)) == 0,
		   "the binary payload comes back byte for byte");
		ok(l.items[2].payload.data != NULL && l.items[2].payload.len == 0, "the empty payload is empty, not NULL");
		is_str(l.items[0].encoding, "utf8", "encoding utf8 for text");
		is_str(l.items[1].encoding, "binary", "encoding binary otherwise");
		is_str(l.items[3].correlation_id, "req-7", "correlation id");
		is_str(l.items[3].encoding, "json", "the caller's encoding label");
		is_str(l.items[0].mode, "durable", "mode");
		is_str(l.items[1].frame_id, ar[1].frame_id, "ids as appended");
	}
	ok(l.attempt_index == 0 && !l.closed && l.closed_reason == NULL, "attempt 0, open");
	ff_frame_list_clear(&l);

	is_status(ff_client_read_stream(r, id, 0, ar[1].frame_id, ar[2].frame_id, 0, &l), FF_OK, r, "a range");
	is_int(l.count, 2, "inclusive range: two frames");
	ff_frame_list_clear(&l);
	is_status(ff_client_read_stream(r, id, 0, NULL, NULL, 1, &l), FF_OK, r, "count_limit 1");
	is_int(l.count, 1, "one frame");
	ff_frame_list_clear(&l);

	/* errors, each its own kind */
	memset(big, 'x', sizeof(big));
	is_status(append(&cl.handle, "blob", big, FF_STREAM_MAX_FRAME_BYTES, FF_STREAM_DURABLE, NULL), FF_OK, c,
			  "a 64 KiB frame is accepted");
	is_status(append(&cl.handle, "blob", big, sizeof(big), FF_STREAM_DURABLE, NULL),
			  FF_ERR_RETENTION_LIMIT_EXCEEDED, c, "64 KiB + 1 -> FF_ERR_RETENTION_LIMIT_EXCEEDED");
	is_str(ff_client_last_error(c)->sqlstate, "YFV10", "... SQLSTATE YFV10");
	is_status(append(&cl.handle, "bad type", "x", 1, FF_STREAM_DURABLE, NULL), FF_ERR_INVALID_FRAME_TYPE, c,
			  "a frame type with a space -> FF_ERR_INVALID_FRAME_TYPE");
	is_status(append(&cl.handle, "s", "[1]", 3, FF_STREAM_SUMMARY, NULL), FF_ERR_INVALID_INPUT, c,
			  "a summary patch that is not an object -> FF_ERR_INVALID_INPUT");
	is_status(append(&cl.handle, "log", "x", 1, (ff_stream_mode) 7, NULL), FF_ERR_USAGE, c, "an unknown mode -> usage");
	is_status(append(&cl.handle, "log", NULL, 3, FF_STREAM_DURABLE, NULL), FF_ERR_USAGE, c,
			  "NULL payload with a length -> usage");
	is_status(ff_client_read_stream(r, id, 0, "12-", NULL, 0, &l), FF_ERR_INVALID_OFFSET, r,
			  "a malformed cursor -> FF_ERR_INVALID_OFFSET");
	is_status(ff_client_read_stream(r, id, 5, NULL, NULL, 0, &l), FF_ERR_STREAM_NOT_FOUND, r,
			  "an attempt that does not exist -> FF_ERR_STREAM_NOT_FOUND");
	is_status(ff_client_read_stream(r, "{fp:1}:00000000-0000-4000-8000-0000000000ee", FF_CURRENT_ATTEMPT,
									NULL, NULL, 0, &l), FF_ERR_STREAM_NOT_FOUND, r,
			  "an unknown execution -> FF_ERR_STREAM_NOT_FOUND");
	is_status(ff_client_read_stream(r, "nope", FF_CURRENT_ATTEMPT, NULL, NULL, 0, &l), FF_ERR_INVALID_INPUT, r,
			  "a malformed execution id -> FF_ERR_INVALID_INPUT");
	is_status(ff_client_read_stream(r, id, 0, NULL, NULL, 10001, &l), FF_ERR_INVALID_INPUT, r,
			  "count_limit above 10000 -> FF_ERR_INVALID_INPUT");
	is_status(ff_client_read_stream(r, id, -2, NULL, NULL, 0, &l), FF_ERR_USAGE, r, "attempt index -2 -> usage");
	ok(l.items == NULL && l.count == 0, "failed reads leave the list empty");

	is_status(ff_client_complete(c, &cl.handle, NULL, 0), FF_OK, c, "complete");
	is_status(append_text(&cl.handle, "late"), FF_ERR_STREAM_CLOSED, c, "after complete -> FF_ERR_STREAM_CLOSED");
	ok(!ff_status_is_retryable(FF_ERR_STREAM_CLOSED), "... which is not retryable");
	is_status(ff_client_read_stream(r, id, 0, NULL, NULL, 0, &l), FF_OK, r, "read the closed stream");
	ok(l.closed && l.closed_at_ms > 0 && l.closed_reason && strcmp(l.closed_reason, "completed") == 0,
	   "closed, closed_at_ms, closed_reason completed");
	ff_frame_list_clear(&l);
	ff_claimed_clear(&cl);
	free(id);
}

/* a delayed execution resumes the same attempt under a new lease: the old handle is stale */
static void
test_stale(void)
{
	char	   *id = NULL;
	ff_claimed	cl,
				cl2 = {0};
	int64_t		now = 0;

	if (!ok(start("stream-stale", NULL, &id, &cl), "set-up: claimed"))
		return;
	is_status(append_text(&cl.handle, "before"), FF_OK, c, "the holder appends");
	ff_client_server_time_ms(c, &now);
	is_status(ff_client_delay(c, &cl.handle, now - 1), FF_OK, c, "delay until the past: claimable again");
	{
		char	   *lane_of = admin_str("SELECT lane_id FROM ff_execution WHERE execution_id = '%s'",
										strrchr(id, ':') + 1);

		ok(lane_of && claim_one(c, lane_of, 600000, &cl2), "claimed again (the same attempt, a new lease)");
		free(lane_of);
	}
	is_int(cl2.attempt_index, 0, "same attempt");
	is_status(append_text(&cl.handle, "stale"), FF_ERR_STALE_OWNER_CANNOT_APPEND, c,
			  "the old handle -> FF_ERR_STALE_OWNER_CANNOT_APPEND");
	ok(ff_status_is_lease_lost(ff_client_last_error(c)->kind), "... a lease-lost kind");
	is_status(append_text(&cl2.handle, "after"), FF_OK, c, "the new handle appends to the same stream");
	{
		ff_stream_info i = {0};

		is_status(ff_client_stream_info(r, id, FF_CURRENT_ATTEMPT, &i), FF_OK, r, "stream info");
		is_int(i.frame_count, 2, "two frames: the stale append wrote nothing");
		ff_stream_info_clear(&i);
	}
	ff_client_complete(c, &cl2.handle, NULL, 0);
	ff_claimed_clear(&cl);
	ff_claimed_clear(&cl2);
	free(id);
}

static void
test_summary_info(void)
{
	char	   *id = NULL;
	ff_claimed	cl;
	ff_stream_summary s = {0};
	ff_stream_info i = {0};
	ff_append_result ar;
	const char *p1 = "{\"a\": {\"b\": 1, \"c\": 2}, \"list\": [1, 2]}";
	const char *p2 = "{\"a\": {\"b\": null, \"d\": \"" FF_STREAM_NULL_SENTINEL "\"}, \"list\": [3]}";
	char	   *doc;

	if (!ok(start("stream-sum", NULL, &id, &cl), "set-up: claimed"))
		return;
	is_status(ff_client_read_summary(r, id, FF_CURRENT_ATTEMPT, &s), FF_OK, r, "read_summary before any patch");
	ok(!s.found && s.document_json == NULL, "not found");
	is_status(ff_client_stream_info(r, id, FF_CURRENT_ATTEMPT, &i), FF_OK, r, "info of an empty stream");
	ok(i.frame_count == 0 && i.last_frame_id == NULL && !i.closed && i.summary_version == 0,
	   "no frames, no summary, open");
	ff_stream_info_clear(&i);

	is_status(append(&cl.handle, "summary", p1, strlen(p1), FF_STREAM_SUMMARY, &ar), FF_OK, c, "patch 1");
	is_int(ar.summary_version, 1, "summary_version 1");
	is_status(append(&cl.handle, "summary", p2, strlen(p2), FF_STREAM_SUMMARY, &ar), FF_OK, c, "patch 2");
	is_int(ar.summary_version, 2, "summary_version 2");
	is_status(ff_client_read_summary(r, id, 0, &s), FF_OK, r, "read_summary");
	ok(s.found && s.version == 2 && s.patch_kind && strcmp(s.patch_kind, "json-merge-patch") == 0 &&
	   s.first_applied_ms > 0 && s.last_updated_ms >= s.first_applied_ms, "found, version 2, json-merge-patch, times");
	doc = admin_str("SELECT ('%s'::jsonb = '{\"a\": {\"c\": 2, \"d\": null}, \"list\": [3]}'::jsonb)::text",
					s.document_json ? s.document_json : "null");
	is_str(doc, "true", "merged: nested merge, null deletes, the sentinel sets null, arrays replaced");
	free(doc);
	ff_stream_summary_clear(&s);
	ok(s.document_json == NULL && !s.found, "cleared");

	{
		ff_frame_args fa = {0};
		ff_append_result br;

		fa.frame_type = "token";
		fa.payload = "t";
		fa.payload_len = 1;
		fa.mode = FF_STREAM_BEST_EFFORT;
		fa.ttl_ms = 5000;
		fa.maxlen_floor = 2;
		fa.maxlen_ceiling = 2;
		fa.ema_alpha = 0.5;
		for (int k = 0; k < 4; k++)
			ff_client_append_frame(c, &cl.handle, &fa, &br);
		is_int(br.maxlen_applied, 2, "best-effort: K = 2 (floor = ceiling = 2)");
		fa.ema_alpha = 1.5;
		is_status(ff_client_append_frame(c, &cl.handle, &fa, &br), FF_ERR_INVALID_INPUT, c,
				  "ema_alpha 1.5 -> FF_ERR_INVALID_INPUT");
	}
	is_status(ff_client_stream_info(r, id, 0, &i), FF_OK, r, "stream info");
	ok(i.execution_id && strcmp(i.execution_id, id) == 0 && i.attempt_index == 0, "execution id and attempt");
	{
		char		want[128];

		snprintf(want, sizeof(want), "ff_stream_%s_0", strrchr(id, ':') + 1);
		is_str(i.channel, want, "channel ff_stream_<uuid>_<attempt>");
	}
	ok(i.frame_count == 6 && i.retained_frames == 4 && i.has_durable_frame && i.summary_version == 2 &&
	   i.maxlen_applied_last == 2 && i.ema_rate_hz > 0 && i.last_frame_id != NULL &&
	   i.first_frame_at_ms > 0 && i.last_frame_at_ms >= i.first_frame_at_ms && i.total_bytes > 0 &&
	   !i.closed && i.retention_trimmed_at_ms == 0,
	   "counters: 6 appended, 4 kept (2 summary + the newest 2 best-effort), EMA, K, times");
	ff_stream_info_clear(&i);

	{
		ff_frame_list l = {0};

		is_status(ff_client_tail_stream(r, id, 0, NULL, 0, 0, FF_TAIL_EXCLUDE_BEST_EFFORT, &l), FF_OK, r,
				  "tail excluding best-effort frames");
		ok(l.count == 2 && strcmp(l.items[0].mode, "summary") == 0 && l.items[1].summary_version == 2,
		   "only the two summary frames, with their versions");
		ff_frame_list_clear(&l);
	}
	{
		int32_t		n = -1;

		is_status(ff_client_reconcile_stream_retention(r, 0, &n), FF_OK, r, "the retention reconciler runs");
		ok(n >= 0, "... and reports the streams it trimmed");
	}
	ff_client_complete(c, &cl.handle, NULL, 0);
	ff_claimed_clear(&cl);
	free(id);
}

/* the NOTIFY channel and payloads, seen by a plain libpq listener */
static void
test_notify(void)
{
	char	   *id = NULL;
	ff_claimed	cl;
	ff_append_result ar;
	PGconn	   *l;
	PGnotify   *n;
	char		sql[256];
	int			seen = 0;
	bool		frame_ok = false,
				closed_ok = false;

	if (!ok(start("stream-notify", NULL, &id, &cl), "set-up: claimed"))
		return;
	l = PQconnectdb(test_conninfo());
	snprintf(sql, sizeof(sql), "LISTEN \"ff_stream_%s_0\"", strrchr(id, ':') + 1);
	PQclear(PQexec(l, sql));
	append(&cl.handle, "log", "n", 1, FF_STREAM_DURABLE, &ar);
	ff_client_complete(c, &cl.handle, NULL, 0);
	for (int i = 0; i < 100 && seen < 2; i++)
	{
		PQconsumeInput(l);
		while ((n = PQnotifies(l)) != NULL)
		{
			seen++;
			if (strcmp(n->extra, ar.frame_id) == 0)
				frame_ok = true;
			if (strcmp(n->extra, "closed") == 0)
				closed_ok = true;
			PQfreemem(n);
		}
		sleep_ms(20);
	}
	ok(frame_ok, "an append notifies the channel with the frame id as payload");
	ok(closed_ok, "the attempt's end notifies it with \"closed\"");
	PQfinish(l);
	ff_claimed_clear(&cl);
	free(id);
}

/* ------------------------------------------------------------------------
 * the blocking tail
 * ------------------------------------------------------------------------ */
typedef struct later
{
	const ff_handle *handle;
	int			delay_ms;
	int			action;			/* 0 append, 1 complete */
	const char *text;
} later;

static void *
do_later(void *arg)
{
	later	   *x = arg;
	ff_client  *p = test_client();
	ff_frame_args a = {0};

	sleep_ms(x->delay_ms);
	if (x->action == 0)
	{
		a.frame_type = "log";
		a.payload = x->text;
		a.payload_len = strlen(x->text);
		ff_client_append_frame(p, x->handle, &a, NULL);
	}
	else
		ff_client_complete(p, x->handle, NULL, 0);
	ff_client_close(p);
	return NULL;
}

typedef struct tailer
{
	const char *id;
	const char *after;
	int			block_ms;
	ff_status	st;
	size_t		count;
	long long	elapsed;
	volatile int pid;			/* the tailer's backend */
} tailer;

static void *
do_tail(void *arg)
{
	tailer	   *t = arg;
	ff_client  *tc = test_client();
	ff_frame_list l = {0};
	long long	t0 = mono_ms();

	t->pid = ff_client_backend_pid(tc);

	t->st = ff_client_tail_stream(tc, t->id, 0, t->after, t->block_ms, 0, FF_TAIL_ALL, &l);
	t->elapsed = mono_ms() - t0;
	t->count = l.count;
	ff_frame_list_clear(&l);
	ff_client_close(tc);
	return NULL;
}

static void
test_tail(void)
{
	char	   *id = NULL;
	ff_claimed	cl;
	ff_frame_list l = {0};
	ff_append_result ar;
	pthread_t	th;
	later		x;
	long long	t0;

	if (!ok(start("stream-tail", NULL, &id, &cl), "set-up: claimed"))
		return;
	append(&cl.handle, "log", "first", 5, FF_STREAM_DURABLE, &ar);

	t0 = mono_ms();
	is_status(ff_client_tail_stream(r, id, FF_CURRENT_ATTEMPT, NULL, 5000, 0, FF_TAIL_ALL, &l), FF_OK, r,
			  "tail from the beginning");
	ok(l.count == 1 && mono_ms() - t0 < 2000, "an existing frame returns at once");
	ff_frame_list_clear(&l);

	t0 = mono_ms();
	is_status(ff_client_tail_stream(r, id, 0, ar.frame_id, 0, 0, FF_TAIL_ALL, &l), FF_OK, r, "block_ms 0");
	ok(l.count == 0 && !l.closed && mono_ms() - t0 < 1000, "nothing new: empty, open, at once");
	ff_frame_list_clear(&l);

	t0 = mono_ms();
	is_status(ff_client_tail_stream(r, id, 0, ar.frame_id, 300, 0, FF_TAIL_ALL, &l), FF_OK, r, "block_ms 300");
	ok(l.count == 0 && !l.closed && mono_ms() - t0 >= 280 && mono_ms() - t0 < 3000,
	   "empty and open after the timeout (%lld ms)", mono_ms() - t0);
	ff_frame_list_clear(&l);

	/* woken by a frame appended from another connection */
	x.handle = &cl.handle;
	x.delay_ms = 300;
	x.action = 0;
	x.text = "second";
	pthread_create(&th, NULL, do_later, &x);
	t0 = mono_ms();
	is_status(ff_client_tail_stream(r, id, 0, ar.frame_id, 10000, 0, FF_TAIL_ALL, &l), FF_OK, r,
			  "tail with block_ms 10000 while another connection appends after 300 ms");
	{
		long long	el = mono_ms() - t0;

		ok(l.count == 1 && l.items[0].payload.len == 6 && memcmp(l.items[0].payload.data, "second", 6) == 0,
		   "the new frame is returned");
		ok(el >= 250 && el < 5000, "woken by the notification, not the timeout (%lld ms of 10000)", el);
	}
	pthread_join(th, NULL);
	ff_frame_list_clear(&l);

	/* many parked tailers on their own connections: one append wakes them all */
	{
		enum
		{
		NT = 8};
		tailer		t[NT];
		pthread_t	tt[NT];
		ff_stream_info i = {0};
		bool		all = true;
		long long	worst = 0;

		ff_client_stream_info(r, id, 0, &i);
		for (int k = 0; k < NT; k++)
		{
			t[k].id = id;
			t[k].after = i.last_frame_id;
			t[k].block_ms = 8000;
			pthread_create(&tt[k], NULL, do_tail, &t[k]);
		}
		sleep_ms(500);
		t0 = mono_ms();
		is_status(append_text(&cl.handle, "third"), FF_OK, c, "append while 8 tailers wait");
		for (int k = 0; k < NT; k++)
		{
			pthread_join(tt[k], NULL);
			if (t[k].st != FF_OK || t[k].count != 1)
				all = false;
		}
		worst = mono_ms() - t0;
		ok(all, "every tailer got exactly that frame");
		ok(worst < 5000, "all woke within %lld ms of the append (they wait up to 8000)", worst);
		ff_stream_info_clear(&i);
	}

	/* the tailer's connection dies while it waits: it reconnects, LISTENs again, still wakes */
	{
		tailer		t1;
		pthread_t	tt;
		ff_stream_info i = {0};
		long long	pids;

		ff_client_stream_info(r, id, 0, &i);
		t1.pid = 0;
		t1.id = id;
		t1.after = i.last_frame_id;
		t1.block_ms = 10000;
		pthread_create(&tt, NULL, do_tail, &t1);
		sleep_ms(400);
		pids = t1.pid ? admin_int("SELECT pg_terminate_backend(%d)::int", t1.pid) : 0;
		if (t1.pid)
			wait_backend_gone(t1.pid);
		sleep_ms(600);
		t0 = mono_ms();
		append_text(&cl.handle, "fourth");
		pthread_join(tt, NULL);
		ok(pids >= 1, "the waiting tailer's backend was terminated (%lld)", pids);
		ok(t1.st == FF_OK && t1.count == 1 && mono_ms() - t0 < 6000,
		   "after a reconnect the tail still wakes for the next frame (status %d, %zu frames, %lld ms)",
		   (int) t1.st, t1.count, mono_ms() - t0);
		ff_stream_info_clear(&i);
	}

	/* woken by the stream closing */
	{
		ff_stream_info i = {0};

		ff_client_stream_info(r, id, 0, &i);
		x.action = 1;
		x.delay_ms = 300;
		pthread_create(&th, NULL, do_later, &x);
		t0 = mono_ms();
		is_status(ff_client_tail_stream(r, id, 0, i.last_frame_id, 10000, 0, FF_TAIL_ALL, &l), FF_OK, r,
				  "tail while another connection completes the attempt");
		ok(l.count == 0 && l.closed && l.closed_reason && strcmp(l.closed_reason, "completed") == 0,
		   "returns empty and closed (completed)");
		ok(mono_ms() - t0 < 5000, "woken by the close (%lld ms of 10000)", mono_ms() - t0);
		pthread_join(th, NULL);
		ff_frame_list_clear(&l);

		t0 = mono_ms();
		is_status(ff_client_tail_stream(r, id, 0, i.last_frame_id, 10000, 0, FF_TAIL_ALL, &l), FF_OK, r,
				  "tail a closed stream");
		ok(l.closed && l.count == 0 && mono_ms() - t0 < 1000, "closed: returns at once");
		ff_frame_list_clear(&l);
		ff_stream_info_clear(&i);
	}

	/* usage */
	is_status(ff_client_tail_stream(r, id, 0, "start", 0, 0, FF_TAIL_ALL, &l), FF_ERR_INVALID_OFFSET, r,
			  "a tail after start -> FF_ERR_INVALID_OFFSET");
	is_status(ff_client_tail_stream(r, id, 0, NULL, -1, 0, FF_TAIL_ALL, &l), FF_ERR_USAGE, r, "block_ms -1 -> usage");
	is_status(ff_client_tail_stream(r, "{fp:1}:00000000-0000-4000-8000-0000000000ef", 0, NULL, 1000, 0,
									FF_TAIL_ALL, &l), FF_ERR_STREAM_NOT_FOUND, r,
			  "a blocking tail of an unknown stream -> FF_ERR_STREAM_NOT_FOUND, at once");
	PQclear(PQexec(ff_client_pgconn(r), "BEGIN"));
	is_status(ff_client_tail_stream(r, id, 0, NULL, 1000, 0, FF_TAIL_ALL, &l), FF_ERR_USAGE, r,
			  "waiting inside an explicit transaction -> usage");
	is_status(ff_client_tail_stream(r, id, 0, NULL, 0, 0, FF_TAIL_ALL, &l), FF_OK, r,
			  "... a non-blocking tail works there");
	ff_frame_list_clear(&l);
	PQclear(PQexec(ff_client_pgconn(r), "COMMIT"));
	ff_claimed_clear(&cl);
	free(id);
}

/* ------------------------------------------------------------------------
 * frames from a worker handler
 * ------------------------------------------------------------------------ */
static ff_job_outcome
streaming_handler(ff_job *job, void *user)
{
	ff_frame_args a = {0};
	ff_append_result ar;
	ff_status	st;

	(void) user;
	a.frame_type = "progress";
	for (int i = 0; i < 3; i++)
	{
		char		buf[32];

		snprintf(buf, sizeof(buf), "step %d", i);
		a.payload = buf;
		a.payload_len = strlen(buf);
		if ((st = ff_job_append_frame(job, &a, &ar)) != FF_OK)
			return FF_JOB_FAIL;
	}
	a.frame_type = "summary";
	a.payload = "{\"steps\": 3}";
	a.payload_len = strlen(a.payload);
	a.mode = FF_STREAM_SUMMARY;
	if (ff_job_append_frame(job, &a, &ar) != FF_OK || ar.summary_version != 1)
		return FF_JOB_FAIL;
	return FF_JOB_COMPLETE;
}

static void
test_worker(void)
{
	const char *lane = unique_lane("stream-worker");
	char	   *id = make_execution(c, lane, "in", NULL);
	ff_worker_options o = {0};
	ff_error	e = {0};
	ff_frame_list l = {0};
	char	   *st;

	o.exit_when_idle = true;
	is_status(ff_worker_run(test_conninfo(), lane, NULL, 0, 1, streaming_handler, NULL, &o, &e), FF_OK, NULL,
			  "a worker whose handler streams frames runs");
	ff_error_clear(&e);
	st = admin_str("SELECT public_state FROM ff_execution WHERE execution_id = '%s'", strrchr(id, ':') + 1);
	is_str(st, "completed", "the handler's appends all succeeded (it completed)");
	free(st);
	is_status(ff_client_read_stream(r, id, 0, NULL, NULL, 0, &l), FF_OK, r, "read what it streamed");
	ok(l.count == 4 && l.closed && l.items[0].payload.len == 6 &&
	   memcmp(l.items[2].payload.data, "step 2", 6) == 0 && strcmp(l.items[3].mode, "summary") == 0,
	   "three progress frames and a summary, the stream closed");
	ff_frame_list_clear(&l);
	is_status(ff_job_append_frame(NULL, NULL, NULL), FF_ERR_USAGE, NULL, "ff_job_append_frame(NULL) -> usage");
	free(id);
}

/* ------------------------------------------------------------------------
 * ffctl
 * ------------------------------------------------------------------------ */
static char *
slurp(const char *path)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf = calloc(1, 65536);
	size_t		n = 0;

	if (f)
	{
		n = fread(buf, 1, 65535, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

static int
run(const char *cmd)
{
	int			st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
test_ffctl(void)
{
	char	   *id = NULL;
	ff_claimed	cl;
	char	   *hex = NULL;
	char		cmd[1024];
	char		dir[] = "/tmp/ff-stream-test.XXXXXX";
	char		out[256],
				err[256],
				pidf[256];
	char	   *text;
	int			rc;
	FILE	   *f;
	static const unsigned char bin[] = {0x00, 0x01, 0xfe, 0xff};

	if (!ok(start("stream-ffctl", NULL, &id, &cl), "set-up: claimed") || mkdtemp(dir) == NULL)
		return;
	ff_handle_to_hex(&cl.handle, &hex);
	snprintf(out, sizeof(out), "%s/tail.out", dir);
	snprintf(err, sizeof(err), "%s/tail.err", dir);
	snprintf(pidf, sizeof(pidf), "%s/rc", dir);

	/* ffctl append, then ffctl tail --follow in the background */
	snprintf(cmd, sizeof(cmd), "%s append %s --type log --payload 'line one' >/dev/null", ffctl_bin(), hex);
	is_int(run(cmd), 0, "ffctl append exits 0");
	snprintf(cmd, sizeof(cmd), "%s/bin", dir);
	f = fopen(cmd, "wb");
	fwrite(bin, 1, sizeof(bin), f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s append %s --type blob --payload-file %s/bin >/dev/null", ffctl_bin(), hex, dir);
	is_int(run(cmd), 0, "ffctl append --payload-file (binary)");
	snprintf(cmd, sizeof(cmd), "(%s tail '%s' --follow --timeout-ms 20000 >%s 2>%s; echo $? >%s) &",
			 ffctl_bin(), id, out, err, pidf);
	run(cmd);
	sleep_ms(700);
	text = slurp(out);
	is_str(text, "line one\n0001feff\n", "tail --follow prints what is there: text raw, binary in hex");
	free(text);
	is_status(append_text(&cl.handle, "line two"), FF_OK, c, "the worker appends another line");
	sleep_ms(700);
	text = slurp(out);
	is_str(text, "line one\n0001feff\nline two\n", "... and it shows up while ffctl follows");
	free(text);
	text = slurp(pidf);
	is_str(text, "", "ffctl is still following");
	free(text);
	ff_client_complete(c, &cl.handle, NULL, 0);
	for (int i = 0; i < 100; i++)
	{
		text = slurp(pidf);
		rc = text[0] ? atoi(text) : -1;
		free(text);
		if (rc >= 0)
			break;
		sleep_ms(50);
	}
	is_int(rc, 0, "when the attempt ends, tail --follow exits 0");
	text = slurp(err);
	ok(strstr(text, "closed (completed)") != NULL, "... saying the stream closed");
	free(text);

	snprintf(cmd, sizeof(cmd), "%s tail '%s' --base64 --ids >%s", ffctl_bin(), id, out);
	is_int(run(cmd), 0, "ffctl tail (no --follow) exits 0");
	text = slurp(out);
	ok(strstr(text, " log line one\n") && strstr(text, " blob AAH+/w==\n"), "--ids prefixes id and type; --base64");
	free(text);
	snprintf(cmd, sizeof(cmd), "%s --json tail '%s' --limit 1 >%s", ffctl_bin(), id, out);
	is_int(run(cmd), 0, "ffctl --json tail --limit 1 (pages through)");
	text = slurp(out);
	ok(strstr(text, "\"payload\":\"line one\"") && strstr(text, "\"payload_hex\":\"0001feff\"") &&
	   strstr(text, "\"mode\":\"durable\""), "one JSON object per frame");
	free(text);
	snprintf(cmd, sizeof(cmd), "%s tail '%s' --raw >%s", ffctl_bin(), id, out);
	run(cmd);
	text = slurp(out);
	ok(memcmp(text, "line one\0\001\376\377line two", 20) == 0, "--raw writes the payload bytes only");
	free(text);
	snprintf(cmd, sizeof(cmd), "%s summary '%s' >/dev/null 2>&1", ffctl_bin(), id);
	is_int(run(cmd), 4, "ffctl summary without a summary: exit 4");
	snprintf(cmd, sizeof(cmd), "%s tail '{fp:3}:00000000-0000-4000-8000-0000000000aa' >/dev/null 2>&1", ffctl_bin());
	is_int(run(cmd), 4, "ffctl tail of an unknown execution: exit 4");
	snprintf(cmd, sizeof(cmd), "%s append %s --type log --payload x >/dev/null 2>&1", ffctl_bin(), hex);
	is_int(run(cmd), 1, "ffctl append after the attempt ended: exit 1 (stream_closed)");
	snprintf(cmd, sizeof(cmd), "%s tail '%s' --follow --raw --ids >/dev/null 2>&1", ffctl_bin(), id);
	is_int(run(cmd), 2, "bad option combination: exit 2");
	ff_claimed_clear(&cl);
	free(hex);
	free(id);

	/* summary and a follow that times out */
	if (start("stream-ffctl", NULL, &id, &cl))
	{
		ff_handle_to_hex(&cl.handle, &hex);
		snprintf(cmd, sizeof(cmd), "%s append %s --type s --mode summary --payload '{\"k\": {\"v\": 1}}' >/dev/null",
				 ffctl_bin(), hex);
		is_int(run(cmd), 0, "ffctl append --mode summary");
		snprintf(cmd, sizeof(cmd), "%s --json summary '%s' >%s", ffctl_bin(), id, out);
		is_int(run(cmd), 0, "ffctl --json summary");
		text = slurp(out);
		ok(strstr(text, "\"version\":1") && strstr(text, "\"document\":{\"k\": {\"v\": 1}}"),
		   "version and document");
		free(text);
		snprintf(cmd, sizeof(cmd), "%s tail '%s' --follow --timeout-ms 300 >/dev/null", ffctl_bin(), id);
		is_int(run(cmd), 6, "tail --follow --timeout-ms on an open stream: exit 6 after the timeout");
		ff_client_complete(c, &cl.handle, NULL, 0);
		ff_claimed_clear(&cl);
		free(hex);
		free(id);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	run(cmd);
}

int
main(void)
{
	c = test_client();
	r = test_client();
	test_round_trip();
	test_stale();
	test_summary_info();
	test_notify();
	test_tail();
	test_worker();
	if (!getenv("FF_TEST_NO_FFCTL"))
		test_ffctl();
	ff_client_close(c);
	ff_client_close(r);
	PQfinish(admin());
	return done_testing();
}

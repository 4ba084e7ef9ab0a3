/*
 * ffbench - flowfabric's benchmark program (`make bench`, scripts/bench.sh).
 *
 * Runs against a server the caller started (PG* variables or --dsn) with the
 * flowfabric extension and the plain-SQL baseline queue (bench/baseline.sql)
 * installed in the database, and prints one table (or, with --json, one JSON
 * document):
 *
 *   enqueue    batched create (ff_create_executions, 1000 per call) vs a
 *              batched INSERT ... SELECT unnest(...)
 *   cycle      create -> claim -> complete at 1, 8, 32 workers (one
 *              connection each) vs insert -> claim (SKIP LOCKED) -> done
 *   backlog    claim + complete of a pre-filled backlog: one at a time,
 *              max_claims = 16 with single completes, and 16 with one
 *              ff_complete_many; the baseline does the same
 *   drain      the worker runtime draining no-op executions with one
 *              process at concurrency 8, with and without batching
 *   routing    capability-routed claims (half the work needs "gpu")
 *   scale      claim latency with no history and with 1 000 000 finished
 *              executions in the tables
 *   sustained  a mixed load (completions, abandoned leases, retries) with
 *              the background reconcilers on; dead tuples and sizes
 *   suspend    claim -> suspend -> signal (from a second connection) ->
 *              claim resumed -> complete at 1, 4, 8 workers: cycles/s and
 *              the latency from the signal to the resumed lease
 *   flow       10-member flows (fan-out/fan-in 1 -> 8 -> 1, and a chain)
 *              built in one transaction each, then run by 8 workers: flows/s
 *   stream     128-byte frames appended by lease holders (1 per transaction,
 *              16 per transaction, 8 writers), then read back: frames/s
 *
 * Every flowfabric rate of enqueue, cycle, backlog and drain is also printed
 * as a ratio to the baseline's at the same concurrency (the other sections
 * have no baseline). Latencies are per call, in milliseconds. Instruction
 * counts measured with callgrind by scripts/bench.sh are passed in with
 * --callgrind FILE and printed (and checked) with the rest.
 *
 * Usage: ffbench [--quick] [--json] [--dsn CONNINFO] [--only a,b,...]
 *                [--callgrind FILE] [--settings TEXT]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flowfabric.h"

/* ------------------------------------------------------------------------
 * basics
 * ------------------------------------------------------------------------ */
static const char *g_dsn = "";
static bool g_quick;
static bool g_json;
static const char *g_only;
static const char *g_callgrind_file;
static const char *g_settings = "";
static FILE *g_log;				/* progress messages: stderr */

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long) (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

__attribute__((noreturn, format(printf, 1, 2)))
static void
die(const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "ffbench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

__attribute__((format(printf, 1, 2)))
static void
progress(const char *fmt,...)
{
	va_list		ap;

	fprintf(g_log, "  .. ");
	va_start(ap, fmt);
	vfprintf(g_log, fmt, ap);
	va_end(ap);
	fprintf(g_log, "\n");
	fflush(g_log);
}

static bool
wanted(const char *section)
{
	const char *p;
	size_t		n = strlen(section);

	if (g_only == NULL)
		return true;
	for (p = g_only; (p = strstr(p, section)) != NULL; p += n)
		if ((p == g_only || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
			return true;
	return false;
}

/* ------------------------------------------------------------------------
 * libpq helpers (admin and baseline connections)
 * ------------------------------------------------------------------------ */
static PGconn *
pg_connect(void)
{
	PGconn	   *c = PQconnectdb(g_dsn);

	if (PQstatus(c) != CONNECTION_OK)
		die("cannot connect: %s", PQerrorMessage(c));
	return c;
}

__attribute__((format(printf, 2, 3)))
static void
pg_exec(PGconn *c, const char *fmt,...)
{
	char	   *sql;
	va_list		ap;
	PGresult   *r;

	va_start(ap, fmt);
	if (vasprintf(&sql, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		die("%s\n  in: %.300s", PQerrorMessage(c), sql);
	PQclear(r);
	free(sql);
}

__attribute__((format(printf, 2, 3)))
static double
pg_num(PGconn *c, const char *fmt,...)
{
	char	   *sql;
	va_list		ap;
	PGresult   *r;
	double		v = -1;

	va_start(ap, fmt);
	if (vasprintf(&sql, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		die("%s\n  in: %.300s", PQerrorMessage(c), sql);
	if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
		v = atof(PQgetvalue(r, 0, 0));
	PQclear(r);
	free(sql);
	return v;
}

__attribute__((format(printf, 2, 3)))
static char *
pg_str(PGconn *c, const char *fmt,...)
{
	char	   *sql;
	va_list		ap;
	PGresult   *r;
	char	   *v = NULL;

	va_start(ap, fmt);
	if (vasprintf(&sql, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		die("%s\n  in: %.300s", PQerrorMessage(c), sql);
	if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
		v = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	free(sql);
	return v;
}

static void
pg_prepare(PGconn *c, const char *name, const char *sql)
{
	PGresult   *r = PQprepare(c, name, sql, 0, NULL);

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		die("prepare %s: %s", name, PQerrorMessage(c));
	PQclear(r);
}

static ff_client *
ff_connect(void)
{
	ff_client  *c = NULL;
	ff_error	e = {0};

	if (ff_client_connect(g_dsn, &c, &e) != FF_OK)
		die("cannot connect: %s", e.message ? e.message : "?");
	return c;
}

/* ------------------------------------------------------------------------
 * latencies (microseconds)
 * ------------------------------------------------------------------------ */
typedef struct lat
{
	uint32_t   *v;
	size_t		n;
	size_t		cap;
} lat;

static void
lat_add(lat *l, int64_t us)
{
	if (l->n == l->cap)
	{
		size_t		cap = l->cap ? l->cap * 2 : 4096;
		uint32_t   *g = realloc(l->v, cap * sizeof(uint32_t));

		if (g == NULL)
			die("out of memory");
		l->v = g;
		l->cap = cap;
	}
	l->v[l->n++] = (uint32_t) (us < 0 ? 0 : us > UINT32_MAX ? UINT32_MAX : us);
}

static void
lat_merge(lat *dst, const lat *src)
{
	for (size_t i = 0; i < src->n; i++)
		lat_add(dst, src->v[i]);
}

static void
lat_free(lat *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *) a,
				y = *(const uint32_t *) b;

	return x < y ? -1 : x > y;
}

/* percentile in ms (sorts in place); -1 when empty */
static double
lat_pct(lat *l, double p)
{
	size_t		i;

	if (l->n == 0)
		return -1;
	qsort(l->v, l->n, sizeof(uint32_t), cmp_u32);
	i = (size_t) ceil(p / 100.0 * (double) l->n);
	if (i > 0)
		i--;
	if (i >= l->n)
		i = l->n - 1;
	return l->v[i] / 1000.0;
}

/* ------------------------------------------------------------------------
 * results
 * ------------------------------------------------------------------------ */
#define MAX_OPS 3
#define MAX_ROWS 128

typedef struct row
{
	char		section[24];
	char		name[96];
	char		system[16];		/* flowfabric / baseline */
	double		rate;			/* per second; < 0: not a rate row */
	char		unit[16];		/* "exec/s" */
	double		ratio;			/* rate / baseline rate; < 0: none */
	int			nops;
	char		op[MAX_OPS][16];
	double		p50[MAX_OPS];
	double		p99[MAX_OPS];
	char		note[200];
} row;

static row	g_rows[MAX_ROWS];
static int	g_nrows;

static row *
add_row(const char *section, const char *system, const char *fmt,...)
__attribute__((format(printf, 3, 4)));

static row *
add_row(const char *section, const char *system, const char *fmt,...)
{
	row		   *r;
	va_list		ap;

	if (g_nrows >= MAX_ROWS)
		die("too many result rows");
	r = &g_rows[g_nrows++];
	memset(r, 0, sizeof(*r));
	snprintf(r->section, sizeof(r->section), "%s", section);
	snprintf(r->system, sizeof(r->system), "%s", system);
	va_start(ap, fmt);
	vsnprintf(r->name, sizeof(r->name), fmt, ap);
	va_end(ap);
	r->rate = -1;
	r->ratio = -1;
	snprintf(r->unit, sizeof(r->unit), "exec/s");
	return r;
}

static void
row_lat(row *r, const char *op, lat *l)
{
	int			i = r->nops;

	if (i >= MAX_OPS || l->n == 0)
		return;
	snprintf(r->op[i], sizeof(r->op[i]), "%s", op);
	r->p50[i] = lat_pct(l, 50);
	r->p99[i] = lat_pct(l, 99);
	r->nops++;
}

__attribute__((format(printf, 2, 3)))
static void
row_note(row *r, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(r->note, sizeof(r->note), fmt, ap);
	va_end(ap);
}

/* targets of issues 10 and 12, checked at the end */
typedef struct target
{
	char		name[120];
	char		want[60];
	char		measured[80];
	int			met;			/* 1, 0, -1 = not measured */
} target;

static target g_targets[16];
static int	g_ntargets;

__attribute__((format(printf, 4, 5)))
static void
add_target(const char *name, const char *want, int met, const char *fmt,...)
{
	target	   *t = &g_targets[g_ntargets++];
	va_list		ap;

	snprintf(t->name, sizeof(t->name), "%s", name);
	snprintf(t->want, sizeof(t->want), "%s", want);
	t->met = met;
	va_start(ap, fmt);
	vsnprintf(t->measured, sizeof(t->measured), fmt, ap);
	va_end(ap);
}

/* extra numbers (scale, sustained, callgrind): name -> value */
typedef struct metric
{
	char		section[24];
	char		name[80];
	double		value;
	char		unit[16];
} metric;

static metric g_metrics[96];
static int	g_nmetrics;

static void
add_metric(const char *section, const char *name, double value, const char *unit)
{
	metric	   *m;

	if (g_nmetrics >= (int) (sizeof(g_metrics) / sizeof(g_metrics[0])))
		return;
	m = &g_metrics[g_nmetrics++];
	snprintf(m->section, sizeof(m->section), "%s", section);
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->value = value;
	snprintf(m->unit, sizeof(m->unit), "%s", unit);
}

static double
metric_value(const char *section, const char *name)
{
	for (int i = 0; i < g_nmetrics; i++)
		if (strcmp(g_metrics[i].section, section) == 0 && strcmp(g_metrics[i].name, name) == 0)
			return g_metrics[i].value;
	return -1;
}

/* ------------------------------------------------------------------------
 * database state between scenarios
 * ------------------------------------------------------------------------ */
static PGconn *g_admin;

static void load_history(long n);

/* finished rows every run starts with (both systems) */
#define SEED_ROWS (g_quick ? 2000L : 20000L)
static long g_hist_next = 1;	/* the next history row number (ids are md5 of it) */

/*
 * reset_tables empties both systems' tables, then gives each the same
 * finished history (so the planner sees a table with its real shape, not an
 * empty one: an ANALYZEd empty table makes the baseline's claim a seq scan),
 * and checkpoints so that no flushing of the set-up competes with the run.
 */
static void
reset_tables(void)
{
	long		seed = SEED_ROWS;

	pg_exec(g_admin, "TRUNCATE ff_execution, ff_attempt, ff_lease_event, ff_completion_event, "
			"ff_idempotency_key, ff_lane, ff_flow, ff_edge, ff_edge_group, ff_flow_summary, "
			"ff_signal_event CASCADE");
	pg_exec(g_admin, "TRUNCATE bq_job");
	g_hist_next = 1;
	pg_exec(g_admin, "INSERT INTO bq_job (queue, state, payload, result, worker, locked_at, done_at) "
			"SELECT 'bench.history', 'done', '\\x7b226e223a2031323334353637387d'::bytea, "
			"'\\x6f6b'::bytea, 'bench', now(), now() FROM generate_series(1, %ld)", seed);
	load_history(seed);			/* ends with VACUUM ANALYZE and CHECKPOINT */
	pg_exec(g_admin, "VACUUM ANALYZE bq_job");
}

static void
analyze_all(void)
{
	pg_exec(g_admin, "ANALYZE ff_execution, ff_attempt, bq_job");
}

/* ------------------------------------------------------------------------
 * threads
 * ------------------------------------------------------------------------ */
typedef struct wctx
{
	int			id;
	pthread_barrier_t *barrier;
	int64_t		duration_us;	/* timed runs */
	const char *lane;
	int			max_claims;
	bool		batch_complete;
	bool		notify_off;		/* SET flowfabric.notify = off */
	const char *const *caps;
	size_t		ncaps;
	long		target;			/* producers: executions to create */
	int			batch;			/* producers: per call */
	atomic_long *remaining;		/* drain: executions still to complete (flow
								 * members become claimable as others end) */
	/* step threads (suspend, flow, stream): see step_thread */
	bool		(*setup) (struct wctx *w);	/* once, before the barrier */
	bool		(*step) (struct wctx *w);	/* one iteration; false: finished */
	bool		second;			/* open a second connection (c2) */
	ff_client  *c;
	ff_client  *c2;
	char		instance[80];
	char		own_lane[64];
	const struct flow_shape *shape; /* flow: the graph built */
	ff_claimed	held;			/* stream: the lease appended with */
	int			frame_bytes;	/* stream: payload size */
	const char *stream_id;		/* stream: the execution read */
	char		cursor[48];		/* stream: the next page's first frame id */
	long		pass;			/* stream: frames read in this pass */
	/* results */
	lat			l[MAX_OPS];
	long		done;
	long		empty;
	long		errors;
	int64_t		t_start;
	int64_t		t_end;
	char		err[300];
} wctx;

static void
werr(wctx *w, const char *what, const char *msg)
{
	w->errors++;
	if (w->err[0] == '\0')
		snprintf(w->err, sizeof(w->err), "%s: %s", what, msg ? msg : "?");
}

typedef void *(*thread_fn) (void *);

/* runs n threads of fn, returns the contexts (caller frees with free_ctx) */
static wctx *
run_threads(int n, thread_fn fn, const wctx *proto)
{
	pthread_t  *t = calloc((size_t) n, sizeof(pthread_t));
	wctx	   *w = calloc((size_t) n, sizeof(wctx));
	pthread_barrier_t b;

	if (t == NULL || w == NULL)
		die("out of memory");
	pthread_barrier_init(&b, NULL, (unsigned) n);
	for (int i = 0; i < n; i++)
	{
		if (proto)
			w[i] = *proto;
		w[i].id = i;
		w[i].barrier = &b;
		if (pthread_create(&t[i], NULL, fn, &w[i]) != 0)
			die("pthread_create failed");
	}
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&b);
	free(t);
	for (int i = 0; i < n; i++)
		if (w[i].errors > 0)
			fprintf(g_log, "  !! thread %d: %ld errors, first: %s\n", i, w[i].errors, w[i].err);
	return w;
}

static void
free_ctx(wctx *w, int n)
{
	for (int i = 0; i < n; i++)
		for (int k = 0; k < MAX_OPS; k++)
			lat_free(&w[i].l[k]);
	free(w);
}

/* totals: done, merged latencies, wall time from first start to last end */
static double
collect(wctx *w, int n, lat *out, long *done)
{
	int64_t		t0 = INT64_MAX,
				t1 = 0;

	*done = 0;
	for (int i = 0; i < n; i++)
	{
		*done += w[i].done;
		for (int k = 0; k < MAX_OPS; k++)
			lat_merge(&out[k], &w[i].l[k]);
		if (w[i].t_start < t0)
			t0 = w[i].t_start;
		if (w[i].t_end > t1)
			t1 = w[i].t_end;
	}
	return t1 > t0 ? (double) (t1 - t0) / 1e6 : 0;
}

/* ------------------------------------------------------------------------
 * flowfabric operations
 * ------------------------------------------------------------------------ */
static char g_worker_host[64] = "bench";

static void
claim_args(ff_claim_args *a, wctx *w, const char *instance)
{
	memset(a, 0, sizeof(*a));
	a->lane_id = w->lane;
	a->worker_id = "ffbench";
	a->worker_instance_id = instance;
	a->capabilities = w->caps;
	a->n_capabilities = w->ncaps;
	a->lease_ttl_ms = 60000;
	a->max_claims = w->max_claims > 0 ? w->max_claims : 1;
}

/* create -> claim -> complete until the duration is over */
static void *
ff_cycle_thread(void *arg)
{
	wctx	   *w = arg;
	ff_client  *c = ff_connect();
	char		instance[80];
	static const char payload[] = "{\"n\": 12345678}";

	snprintf(instance, sizeof(instance), "%s/cycle-%d", g_worker_host, w->id);
	if (w->notify_off)
		PQclear(PQexec(ff_client_pgconn(c), "SET flowfabric.notify = off"));
	pthread_barrier_wait(w->barrier);
	w->t_start = now_us();
	while (now_us() - w->t_start < w->duration_us)
	{
		ff_create_args ca = {0};
		ff_create_result cr = {0};
		ff_claim_args la;
		ff_claim_list l = {0};
		int64_t		t0,
					t1,
					t2,
					t3;

		ca.lane_id = w->lane;
		ca.input_payload = payload;
		ca.input_payload_len = sizeof(payload) - 1;
		t0 = now_us();
		if (ff_client_create_execution(c, &ca, &cr) != FF_OK)
			werr(w, "create", ff_client_last_error(c)->message);
		t1 = now_us();
		ff_create_result_clear(&cr);
		claim_args(&la, w, instance);
		if (ff_client_claim(c, &la, &l) != FF_OK)
			werr(w, "claim", ff_client_last_error(c)->message);
		t2 = now_us();
		lat_add(&w->l[0], t1 - t0);
		lat_add(&w->l[1], t2 - t1);
		if (l.count == 0)
		{
			w->empty++;
			ff_claim_list_clear(&l);
			continue;
		}
		if (ff_client_complete(c, &l.items[0].handle, "ok", 2) != FF_OK)
			werr(w, "complete", ff_client_last_error(c)->message);
		else
			w->done++;
		t3 = now_us();
		lat_add(&w->l[2], t3 - t2);
		ff_claim_list_clear(&l);
	}
	w->t_end = now_us();
	ff_client_close(c);
	return NULL;
}

/*
 * claim (max_claims) and complete until the lane is empty; with w->remaining,
 * until that many executions are completed (an empty lane only means that the
 * next flow members are not claimable yet), or w->duration_us has passed
 */
static void *
ff_drain_thread(void *arg)
{
	wctx	   *w = arg;
	ff_client  *c = ff_connect();
	char		instance[80];
	ff_complete_item *items = calloc(1000, sizeof(ff_complete_item));

	snprintf(instance, sizeof(instance), "%s/drain-%d", g_worker_host, w->id);
	pthread_barrier_wait(w->barrier);
	w->t_start = now_us();
	for (;;)
	{
		ff_claim_args la;
		ff_claim_list l = {0};
		int64_t		t0 = now_us(),
					t1;
		long		before = w->done;

		claim_args(&la, w, instance);
		if (ff_client_claim(c, &la, &l) != FF_OK)
		{
			werr(w, "claim", ff_client_last_error(c)->message);
			if (w->errors > 100)
				break;
			continue;
		}
		t1 = now_us();
		lat_add(&w->l[0], t1 - t0);
		if (l.count == 0)
		{
			ff_claim_list_clear(&l);
			if (w->remaining == NULL || atomic_load(w->remaining) <= 0 ||
				(w->duration_us > 0 && t1 - w->t_start > w->duration_us))
				break;
			w->empty++;
			sleep_ms(1);
			continue;
		}
		if (w->batch_complete)
		{
			ff_batch_result_list r = {0};

			for (size_t i = 0; i < l.count; i++)
			{
				items[i].handle = &l.items[i].handle;
				items[i].payload = "ok";
				items[i].payload_len = 2;
			}
			if (ff_client_complete_many(c, items, l.count, &r) != FF_OK)
				werr(w, "complete_many", ff_client_last_error(c)->message);
			else
				for (size_t i = 0; i < r.count; i++)
				{
					if (r.items[i].status == FF_OK)
						w->done++;
					else
						werr(w, "complete_many item", r.items[i].message);
				}
			lat_add(&w->l[1], now_us() - t1);
			ff_batch_result_list_clear(&r);
		}
		else
			for (size_t i = 0; i < l.count; i++)
			{
				int64_t		t2 = now_us();

				if (ff_client_complete(c, &l.items[i].handle, "ok", 2) != FF_OK)
					werr(w, "complete", ff_client_last_error(c)->message);
				else
					w->done++;
				lat_add(&w->l[1], now_us() - t2);
			}
		if (w->remaining)
			atomic_fetch_sub(w->remaining, w->done - before);
		ff_claim_list_clear(&l);
	}
	w->t_end = now_us();
	free(items);
	ff_client_close(c);
	return NULL;
}

/* creates w->target executions in batches of w->batch */
static void *
ff_produce_thread(void *arg)
{
	wctx	   *w = arg;
	ff_client  *c = ff_connect();
	ff_create_batch_item *items = calloc((size_t) w->batch, sizeof(ff_create_batch_item));
	ff_create_batch_args a = {0};
	static const char payload[] = "{\"n\": 12345678}";

	for (int i = 0; i < w->batch; i++)
	{
		items[i].input_payload = payload;
		items[i].input_payload_len = sizeof(payload) - 1;
	}
	a.lane_id = w->lane;
	pthread_barrier_wait(w->barrier);
	w->t_start = now_us();
	while (w->done < w->target)
	{
		ff_create_result_list l = {0};
		long		n = w->target - w->done < w->batch ? w->target - w->done : w->batch;
		int64_t		t0 = now_us();

		if (ff_client_create_executions(c, &a, items, (size_t) n, &l) != FF_OK)
		{
			werr(w, "create_executions", ff_client_last_error(c)->message);
			break;
		}
		lat_add(&w->l[0], now_us() - t0);
		w->done += (long) l.count;
		ff_create_result_list_clear(&l);
	}
	w->t_end = now_us();
	free(items);
	ff_client_close(c);
	return NULL;
}

/* ------------------------------------------------------------------------
 * baseline operations
 * ------------------------------------------------------------------------ */
static PGconn *
base_connect(void)
{
	PGconn	   *c = pg_connect();

	pg_prepare(c, "enq",
			   "INSERT INTO bq_job (queue, priority, payload) VALUES ($1, 0, $2::bytea)");
	pg_prepare(c, "enq_many",
			   "INSERT INTO bq_job (queue, payload) SELECT $1, p FROM unnest($2::bytea[]) p");
	pg_prepare(c, "claim",
			   "UPDATE bq_job j SET state = 'running', worker = $2, locked_at = now() "
			   "FROM (SELECT id FROM bq_job WHERE queue = $1 AND state = 'ready' "
			   "      ORDER BY priority DESC, id LIMIT $3 FOR UPDATE SKIP LOCKED) c "
			   "WHERE j.id = c.id RETURNING j.id, j.payload");
	pg_prepare(c, "done",
			   "UPDATE bq_job SET state = 'done', result = $2::bytea, done_at = now() "
			   "WHERE id = $1 AND state = 'running'");
	pg_prepare(c, "done_many",
			   "UPDATE bq_job SET state = 'done', done_at = now() "
			   "WHERE id = ANY ($1::bigint[]) AND state = 'running'");
	return c;
}

static bool
base_ok(wctx *w, PGconn *c, PGresult *r, const char *what)
{
	ExecStatusType s = PQresultStatus(r);

	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
		return true;
	werr(w, what, PQerrorMessage(c));
	return false;
}

static PGresult *
base_claim(PGconn *c, wctx *w, const char *instance)
{
	char		n[16];
	const char *v[3] = {w->lane, instance, n};

	snprintf(n, sizeof(n), "%d", w->max_claims > 0 ? w->max_claims : 1);
	return PQexecPrepared(c, "claim", 3, v, NULL, NULL, 0);
}

static void
base_done(PGconn *c, wctx *w, const char *id)
{
	const char *v[2] = {id, "ok"};
	PGresult   *r = PQexecPrepared(c, "done", 2, v, NULL, NULL, 0);

	if (base_ok(w, c, r, "done"))
		w->done += atol(PQcmdTuples(r));
	PQclear(r);
}

static void *
base_cycle_thread(void *arg)
{
	wctx	   *w = arg;
	PGconn	   *c = base_connect();
	char		instance[80];
	const char *ev[2] = {w->lane, "{\"n\": 12345678}"};

	snprintf(instance, sizeof(instance), "%s/base-cycle-%d", g_worker_host, w->id);
	pthread_barrier_wait(w->barrier);
	w->t_start = now_us();
	while (now_us() - w->t_start < w->duration_us)
	{
		int64_t		t0 = now_us(),
					t1,
					t2;
		PGresult   *r = PQexecPrepared(c, "enq", 2, ev, NULL, NULL, 0);

		base_ok(w, c, r, "enqueue");
		PQclear(r);
		t1 = now_us();
		r = base_claim(c, w, instance);
		t2 = now_us();
		lat_add(&w->l[0], t1 - t0);
		lat_add(&w->l[1], t2 - t1);
		if (base_ok(w, c, r, "claim") && PQntuples(r) > 0)
		{
			base_done(c, w, PQgetvalue(r, 0, 0));
			lat_add(&w->l[2], now_us() - t2);
		}
		else
			w->empty++;
		PQclear(r);
	}
	w->t_end = now_us();
	PQfinish(c);
	return NULL;
}

static void *
base_drain_thread(void *arg)
{
	wctx	   *w = arg;
	PGconn	   *c = base_connect();
	char		instance[80];
	char	   *ids = malloc(1000 * 24 + 4);

	snprintf(instance, sizeof(instance), "%s/base-drain-%d", g_worker_host, w->id);
	pthread_barrier_wait(w->barrier);
	w->t_start = now_us();
	for (;;)
	{
		int64_t		t0 = now_us(),
					t1;
		PGresult   *r = base_claim(c, w, instance);
		int			n;

		t1 = now_us();
		if (!base_ok(w, c, r, "claim"))
		{
			PQclear(r);
			if (w->errors > 100)
				break;
			continue;
		}
		lat_add(&w->l[0], t1 - t0);
		n = PQntuples(r);
		if (n == 0)
		{
			PQclear(r);
			break;
		}
		if (w->batch_complete)
		{
			size_t		len = 0;
			const char *v[1] = {ids};
			PGresult   *d;

			ids[len++] = '{';
			for (int i = 0; i < n; i++)
				len += (size_t) sprintf(ids + len, "%s%s", i ? "," : "", PQgetvalue(r, i, 0));
			ids[len++] = '}';
			ids[len] = '\0';
			d = PQexecPrepared(c, "done_many", 1, v, NULL, NULL, 0);
			if (base_ok(w, c, d, "done_many"))
				w->done += atol(PQcmdTuples(d));
			PQclear(d);
			lat_add(&w->l[1], now_us() - t1);
		}
		else
			for (int i = 0; i < n; i++)
			{
				int64_t		t2 = now_us();

				base_done(c, w, PQgetvalue(r, i, 0));
				lat_add(&w->l[1], now_us() - t2);
			}
		PQclear(r);
	}
	w->t_end = now_us();
	free(ids);
	PQfinish(c);
	return NULL;
}

static void *
base_produce_thread(void *arg)
{
	wctx	   *w = arg;
	PGconn	   *c = base_connect();
	const char *p = "\\\\x7b226e223a2031323334353637387d";	/* {"n": 12345678} */
	size_t		plen = strlen(p);
	char	   *arr = malloc((size_t) w->batch * (plen + 3) + 4);

	pthread_barrier_wait(w->barrier);
	w->t_start = now_us();
	while (w->done < w->target)
	{
		long		n = w->target - w->done < w->batch ? w->target - w->done : w->batch;
		size_t		len = 0;
		const char *v[2] = {w->lane, arr};
		int64_t		t0 = now_us();
		PGresult   *r;

		arr[len++] = '{';
		for (long i = 0; i < n; i++)
		{
			if (i)
				arr[len++] = ',';
			arr[len++] = '"';
			memcpy(arr + len, p, plen);
			len += plen;
			arr[len++] = '"';
		}
		arr[len++] = '}';
		arr[len] = '\0';
		r = PQexecPrepared(c, "enq_many", 2, v, NULL, NULL, 0);
		if (!base_ok(w, c, r, "enqueue_many"))
		{
			PQclear(r);
			break;
		}
		w->done += atol(PQcmdTuples(r));
		PQclear(r);
		lat_add(&w->l[0], now_us() - t0);
	}
	w->t_end = now_us();
	free(arr);
	PQfinish(c);
	return NULL;
}

/* ------------------------------------------------------------------------
 * scenario: enqueue (batched)
 * ------------------------------------------------------------------------ */
static double g_base_enqueue_rate = -1;

/* fills `lane` with n executions; returns the rate */
static double
ff_fill(const char *lane, long n, int producers, int batch, row *r)
{
	wctx		proto = {0};
	wctx	   *w;
	lat			l[MAX_OPS] = {{0}};
	long		done;
	double		secs,
				rate;

	proto.lane = lane;
	proto.batch = batch;
	proto.target = n / producers;
	w = run_threads(producers, ff_produce_thread, &proto);
	secs = collect(w, producers, l, &done);
	rate = secs > 0 ? done / secs : 0;
	if (r)
	{
		r->rate = rate;
		row_lat(r, "create_many", &l[0]);
	}
	free_ctx(w, producers);
	lat_free(&l[0]);
	return rate;
}

static double
base_fill(const char *lane, long n, int producers, int batch, row *r)
{
	wctx		proto = {0};
	wctx	   *w;
	lat			l[MAX_OPS] = {{0}};
	long		done;
	double		secs,
				rate;

	proto.lane = lane;
	proto.batch = batch;
	proto.target = n / producers;
	w = run_threads(producers, base_produce_thread, &proto);
	secs = collect(w, producers, l, &done);
	rate = secs > 0 ? done / secs : 0;
	if (r)
	{
		r->rate = rate;
		row_lat(r, "insert_many", &l[0]);
	}
	free_ctx(w, producers);
	lat_free(&l[0]);
	return rate;
}

static void
scenario_enqueue(void)
{
	long		n = g_quick ? 10000 : 200000;
	double		best = 0;

	fprintf(g_log, "enqueue: batched create, %ld executions, 1000 per call\n", n);
	for (int producers = 1; producers <= 2; producers++)
	{
		row		   *b,
				   *f;

		reset_tables();
		b = add_row("enqueue", "baseline", "%d producer%s, 1000 per call", producers, producers > 1 ? "s" : "");
		base_fill("bench.enqueue", n, producers, 1000, b);
		f = add_row("enqueue", "flowfabric", "%d producer%s, 1000 per call", producers, producers > 1 ? "s" : "");
		ff_fill("bench.enqueue", n, producers, 1000, f);
		f->ratio = b->rate > 0 ? f->rate / b->rate : -1;
		if (f->rate > best)
			best = f->rate;
		if (producers == 1)
			g_base_enqueue_rate = b->rate;
		progress("%d producer(s): flowfabric %.0f/s, baseline %.0f/s", producers, f->rate, b->rate);
	}
	add_target("batched enqueue (issue 12)", ">= 80000 exec/s", best >= 80000, "%.0f exec/s", best);
}

/* ------------------------------------------------------------------------
 * scenario: cycle
 * ------------------------------------------------------------------------ */
static void
scenario_cycle(void)
{
	static const int conc[] = {1, 8, 32};
	int64_t		dur = (g_quick ? 1 : 10) * 1000000LL;

	fprintf(g_log, "cycle: create -> claim -> complete, %d s per run\n", (int) (dur / 1000000));
	for (size_t k = 0; k < sizeof(conc) / sizeof(conc[0]); k++)
	{
		int			n = conc[k];
		wctx		proto = {0};
		wctx	   *w;
		lat			lb[MAX_OPS] = {{0}},
					lf[MAX_OPS] = {{0}};
		long		done;
		double		secs;
		row		   *b,
				   *f;

		proto.lane = "bench.cycle";
		proto.duration_us = dur;
		proto.max_claims = 1;

		reset_tables();
		w = run_threads(n, base_cycle_thread, &proto);
		secs = collect(w, n, lb, &done);
		free_ctx(w, n);
		b = add_row("cycle", "baseline", "%d worker%s", n, n > 1 ? "s" : "");
		b->rate = secs > 0 ? done / secs : 0;
		row_lat(b, "insert", &lb[0]);
		row_lat(b, "claim", &lb[1]);
		row_lat(b, "done", &lb[2]);

		reset_tables();
		w = run_threads(n, ff_cycle_thread, &proto);
		secs = collect(w, n, lf, &done);
		free_ctx(w, n);
		f = add_row("cycle", "flowfabric", "%d worker%s", n, n > 1 ? "s" : "");
		f->rate = secs > 0 ? done / secs : 0;
		f->ratio = b->rate > 0 ? f->rate / b->rate : -1;
		row_lat(f, "create", &lf[0]);
		row_lat(f, "claim", &lf[1]);
		row_lat(f, "complete", &lf[2]);
		progress("%d worker(s): flowfabric %.0f/s, baseline %.0f/s (%.2fx)", n, f->rate, b->rate, f->ratio);
		if (n == 8)
			add_target("cycle at 8 workers vs plain SKIP LOCKED (issue 10)", ">= 0.80x",
					   f->ratio >= 0.8, "%.2fx (%.0f vs %.0f exec/s)", f->ratio, f->rate, b->rate);
		for (int i = 0; i < MAX_OPS; i++)
		{
			lat_free(&lb[i]);
			lat_free(&lf[i]);
		}
		if (n > 1)
		{
			/* NOTIFY takes a cluster-wide lock from pre-commit until the commit
			 * is flushed: the same run without it (docs/performance.md) */
			row		   *o;

			reset_tables();
			proto.notify_off = true;
			w = run_threads(n, ff_cycle_thread, &proto);
			secs = collect(w, n, lf, &done);
			free_ctx(w, n);
			proto.notify_off = false;
			o = add_row("cycle", "flowfabric", "%d workers, flowfabric.notify = off", n);
			o->rate = secs > 0 ? done / secs : 0;
			o->ratio = b->rate > 0 ? o->rate / b->rate : -1;
			row_lat(o, "create", &lf[0]);
			row_lat(o, "claim", &lf[1]);
			row_lat(o, "complete", &lf[2]);
			progress("%d worker(s), notify off: flowfabric %.0f/s (%.2fx)", n, o->rate, o->ratio);
			for (int i = 0; i < MAX_OPS; i++)
				lat_free(&lf[i]);
		}
	}
}

/* ------------------------------------------------------------------------
 * scenario: backlog (claim + complete of a pre-filled backlog)
 * ------------------------------------------------------------------------ */
static double drain_with(bool ff, int threads, const wctx *proto, row *r);

static double
drain(bool ff, const char *lane, int threads, int max_claims, bool batch, const char *const *caps,
	  size_t ncaps, row *r)
{
	wctx		proto = {0};

	proto.lane = lane;
	proto.max_claims = max_claims;
	proto.batch_complete = batch;
	proto.caps = caps;
	proto.ncaps = ncaps;
	return drain_with(ff, threads, &proto, r);
}

/* threads like proto drain its lane; r gets the rate and the latencies */
static double
drain_with(bool ff, int threads, const wctx *proto, row *r)
{
	wctx	   *w;
	lat			l[MAX_OPS] = {{0}};
	long		done;
	double		secs;
	bool		batch = proto->batch_complete;

	w = run_threads(threads, ff ? ff_drain_thread : base_drain_thread, proto);
	secs = collect(w, threads, l, &done);
	free_ctx(w, threads);
	r->rate = secs > 0 ? done / secs : 0;
	row_lat(r, "claim", &l[0]);
	row_lat(r, batch ? (ff ? "complete_many" : "done_many") : (ff ? "complete" : "done"), &l[1]);
	if (done == 0)
		row_note(r, "nothing drained");
	for (int i = 0; i < MAX_OPS; i++)
		lat_free(&l[i]);
	return r->rate;
}

static void
scenario_backlog(void)
{
	long		n = g_quick ? 2000 : 100000;
	int			threads = 8;
	struct
	{
		int			max_claims;
		bool		batch;
		const char *name;
	}			v[] = {
		{1, false, "max_claims 1, one complete per call"},
		{16, false, "max_claims 16, one complete per call"},
		{16, true, "max_claims 16, one ff_complete_many"},
	};
	double		base_single = -1;

	fprintf(g_log, "backlog: %ld pre-filled executions drained by %d workers\n", n, threads);
	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++)
	{
		row		   *b,
				   *f;

		reset_tables();
		base_fill("bench.backlog", n, 1, 1000, NULL);
		analyze_all();
		b = add_row("backlog", "baseline", "%ldk, %d workers, %s", n / 1000, threads, v[k].name);
		drain(false, "bench.backlog", threads, v[k].max_claims, v[k].batch, NULL, 0, b);

		reset_tables();
		ff_fill("bench.backlog", n, 1, 1000, NULL);
		analyze_all();
		f = add_row("backlog", "flowfabric", "%ldk, %d workers, %s", n / 1000, threads, v[k].name);
		drain(true, "bench.backlog", threads, v[k].max_claims, v[k].batch, NULL, 0, f);
		f->ratio = b->rate > 0 ? f->rate / b->rate : -1;
		if (k == 0)
			base_single = b->rate;
		progress("%s: flowfabric %.0f/s, baseline %.0f/s", v[k].name, f->rate, b->rate);
		if (k == 2)
			add_target("batched claim+complete above the baseline (issue 10)",
					   "> baseline (1 per call)", f->rate > base_single,
					   "%.0f vs %.0f exec/s (baseline batched: %.0f)", f->rate, base_single, b->rate);
	}
}

/* ------------------------------------------------------------------------
 * scenario: drain with the worker runtime
 * ------------------------------------------------------------------------ */
static ff_job_outcome
noop_handler(ff_job *job, void *user)
{
	(void) job;
	(void) user;
	return FF_JOB_COMPLETE;
}

static void
scenario_drain(void)
{
	long		n = g_quick ? 2000 : 20000;
	struct
	{
		const char *name;
		int			batch_size;
		int			prefetch;
		int			finish_batch;
	}			v[] = {
		{"no batching (1 claim, 1 complete per call)", 1, -1, 1},
		{"claims of 8, one complete per call", 8, -1, 1},
		{"batched (claims of 64, prefetch, complete_many)", 64, 0, 0},
	};
	double		best = 0;
	row		   *b;

	fprintf(g_log, "drain: %ld no-op executions, one worker process at concurrency 8\n", n);
	reset_tables();
	base_fill("bench.drain", n, 1, 1000, NULL);
	analyze_all();
	b = add_row("drain", "baseline", "%ldk, 8 connections, claims of 64, batched done", n / 1000);
	drain(false, "bench.drain", 8, 64, true, NULL, 0, b);
	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++)
	{
		ff_worker_options o = {0};
		ff_worker_stats st = {0};
		ff_error	e = {0};
		int64_t		t0;
		double		secs;
		row		   *f;

		reset_tables();
		ff_fill("bench.drain", n, 1, 1000, NULL);
		analyze_all();
		o.exit_when_idle = true;
		o.batch_size = v[k].batch_size;
		o.prefetch = v[k].prefetch;
		o.finish_batch_size = v[k].finish_batch;
		o.stats = &st;
		o.worker_id = "ffbench-drain";
		t0 = now_us();
		if (ff_worker_run(g_dsn, "bench.drain", NULL, 0, 8, noop_handler, NULL, &o, &e) != FF_OK)
			fprintf(g_log, "  !! worker: %s\n", e.message ? e.message : "?");
		secs = (now_us() - t0) / 1e6;
		ff_error_clear(&e);
		f = add_row("drain", "flowfabric", "%ldk, worker runtime, %s", n / 1000, v[k].name);
		f->rate = secs > 0 ? st.completed / secs : 0;
		f->ratio = b->rate > 0 ? f->rate / b->rate : -1;
		row_note(f, "%lu claim calls, %lu finish calls, %lu completed", st.claim_calls,
				 st.finish_calls, st.completed);
		if ((long) st.completed != n)
			fprintf(g_log, "  !! drained %lu of %ld\n", st.completed, n);
		if (f->rate > best)
			best = f->rate;
		progress("%s: %.0f/s (%lu claim calls, %lu finish calls)", v[k].name, f->rate, st.claim_calls,
				 st.finish_calls);
	}
	add_target("batched drain, 1 process at concurrency 8 (issue 12)", ">= 50000 exec/s", best >= 50000,
			   "%.0f exec/s (baseline %.0f)", best, b->rate);
}

/* ------------------------------------------------------------------------
 * scenario: capability routing
 * ------------------------------------------------------------------------ */
static void
scenario_routing(void)
{
	long		n = g_quick ? 2000 : 20000;
	static const char *const gpu[] = {"gpu"};
	ff_client  *c = ff_connect();
	ff_create_batch_args a = {0};
	ff_create_batch_item *items = calloc(1000, sizeof(ff_create_batch_item));
	row		   *f,
			   *g;

	fprintf(g_log, "routing: %ld executions, half need \"gpu\"\n", n);
	reset_tables();
	/* half plain, half requiring gpu: two batches per 1000 */
	a.lane_id = "bench.routing";
	for (long done = 0; done < n; done += 1000)
	{
		ff_create_result_list l = {0};

		a.required_capabilities = (done / 1000) % 2 ? gpu : NULL;
		a.n_required_capabilities = (done / 1000) % 2 ? 1 : 0;
		if (ff_client_create_executions(c, &a, items, 1000, &l) != FF_OK)
			die("routing fill: %s", ff_client_last_error(c)->message);
		ff_create_result_list_clear(&l);
	}
	ff_client_close(c);
	free(items);
	analyze_all();
	/* workers without gpu take only the plain half, then the gpu workers the rest */
	f = add_row("routing", "flowfabric", "%ldk plain work, 4 workers without \"gpu\"", n / 2000);
	drain(true, "bench.routing", 4, 1, false, NULL, 0, f);
	g = add_row("routing", "flowfabric", "%ldk \"gpu\" work, 4 workers with \"gpu\"", n / 2000);
	drain(true, "bench.routing", 4, 1, false, gpu, 1, g);
	progress("plain %.0f/s, gpu %.0f/s", f->rate, g->rate);
}

/* ------------------------------------------------------------------------
 * scenario: scale (claim latency vs history)
 * ------------------------------------------------------------------------ */
static void
claim_latency(const char *label, double *p50, double *p99)
{
	long		n = g_quick ? 500 : 5000;
	row		   *r;

	ff_fill("bench.scale", n, 1, 1000, NULL);
	analyze_all();
	r = add_row("scale", "flowfabric", "claim + complete, 1 worker, %s", label);
	drain(true, "bench.scale", 1, 1, false, NULL, 0, r);
	*p50 = r->nops > 0 ? r->p50[0] : -1;
	*p99 = r->nops > 0 ? r->p99[0] : -1;
}

static void
load_history(long n)
{
	long		chunk = 100000;
	long		first = g_hist_next,
				last = g_hist_next + n - 1;

	g_hist_next += n;
	for (long lo = first; lo <= last; lo += chunk)
	{
		long		hi = lo + chunk - 1 < last ? lo + chunk - 1 : last;

		pg_exec(g_admin,
				"INSERT INTO ff_execution (partition_key, execution_id, lane_id, priority, "
				"lifecycle_phase, ownership_state, eligibility_state, blocking_reason, terminal_outcome, "
				"attempt_state, public_state, attempt_index, total_attempt_count, lease_epoch, "
				"input_payload, result, created_at_ms, last_mutation_at_ms, started_at_ms, terminal_at_ms) "
				"SELECT (g %% 256)::smallint, md5('h' || g)::uuid, 'bench.history.' || (g %% 16), 0, "
				"'terminal', 'unowned', 'not_applicable', 'none', 'success', 'attempt_terminal', 'completed', "
				"0, 1, 1, '\\x7b226e223a2031323334353637387d'::bytea, '\\x6f6b'::bytea, t - g, t - g, t - g, t - g "
				"FROM generate_series(%ld, %ld) g, (SELECT ff_server_time_ms() - 86400000 AS t) x", lo, hi);
		pg_exec(g_admin,
				"INSERT INTO ff_attempt (partition_key, execution_id, attempt_index, attempt_id, attempt_type, "
				"attempt_lifecycle, worker_id, worker_instance_id, lease_id, lease_epoch, lease_ttl_ms, "
				"lease_acquired_at_ms, started_at_ms, ended_at_ms, end_reason) "
				"SELECT (g %% 256)::smallint, md5('h' || g)::uuid, 0, md5('a' || g)::uuid, 'initial', "
				"'ended_success', 'bench', 'bench/1', md5('l' || g)::uuid, 1, 30000, t - g, t - g, t - g, "
				"'completed' FROM generate_series(%ld, %ld) g, (SELECT ff_server_time_ms() - 86400000 AS t) x",
				lo, hi);
		/* history events get negative ids: older than every real event */
		pg_exec(g_admin,
				"INSERT INTO ff_lease_event (event_id, partition_key, execution_id, attempt_index, lease_id, "
				"lease_epoch, event_type, reason, worker_id, worker_instance_id, occurred_at_ms) "
				"SELECT -(2 * g + k), (g %% 256)::smallint, md5('h' || g)::uuid, 0, md5('l' || g)::uuid, 1, "
				"CASE k WHEN 0 THEN 'acquired' ELSE 'released' END, CASE k WHEN 1 THEN 'completed' END, "
				"'bench', 'bench/1', t - g FROM generate_series(%ld, %ld) g, generate_series(0, 1) k, "
				"(SELECT ff_server_time_ms() - 86400000 AS t) x", lo, hi);
		pg_exec(g_admin,
				"INSERT INTO ff_completion_event (event_id, partition_key, execution_id, outcome, lane_id, "
				"attempt_index, occurred_at_ms) "
				"SELECT -g, (g %% 256)::smallint, md5('h' || g)::uuid, 'success', 'bench.history.' || (g %% 16), "
				"0, t - g FROM generate_series(%ld, %ld) g, (SELECT ff_server_time_ms() - 86400000 AS t) x",
				lo, hi);
		if (!g_quick && n > chunk)
			progress("history: %ld of %ld", hi - first + 1, n);
	}
	pg_exec(g_admin, "VACUUM ANALYZE ff_execution, ff_attempt, ff_lease_event, ff_completion_event");
	pg_exec(g_admin, "CHECKPOINT");
}

static void
scenario_scale(void)
{
	long		n = g_quick ? 20000 : 1000000;
	double		a50,
				a99,
				b50,
				b99;
	int64_t		t0;

	fprintf(g_log, "scale: claim latency with the seed history, then with %ld more finished executions\n", n);
	reset_tables();
	{
		char		label[64];

		snprintf(label, sizeof(label), "%ld finished (the seed)", SEED_ROWS);
		claim_latency(label, &a50, &a99);
	}
	t0 = now_us();
	load_history(n);
	progress("%ld finished executions loaded in %.1f s", n, (now_us() - t0) / 1e6);
	{
		char		label[64];

		snprintf(label, sizeof(label), "%ld finished in the tables", n + SEED_ROWS);
		claim_latency(label, &b50, &b99);
	}
	add_metric("scale", "history_executions", (double) n, "rows");
	add_metric("scale", "claim_p50_seed_history_ms", a50, "ms");
	add_metric("scale", "claim_p99_seed_history_ms", a99, "ms");
	add_metric("scale", "claim_p50_with_history_ms", b50, "ms");
	add_metric("scale", "claim_p99_with_history_ms", b99, "ms");
	add_metric("scale", "ff_execution_total_bytes",
			   pg_num(g_admin, "SELECT pg_total_relation_size('ff_execution')"), "bytes");
	add_metric("scale", "ff_execution_claim_idx_bytes",
			   pg_num(g_admin, "SELECT pg_relation_size('ff_execution_claim_idx')"), "bytes");
	progress("claim p50 %.3f ms -> %.3f ms, p99 %.3f -> %.3f ms", a50, b50, a99, b99);
	add_target("claim latency does not grow with history (issue 10)", "p50 within 1.5x",
			   a50 > 0 && b50 <= 1.5 * a50, "p50 %.3f -> %.3f ms with %ld finished", a50, b50, n);
}

/* ------------------------------------------------------------------------
 * scenario: sustained mixed load with the background reconcilers
 * ------------------------------------------------------------------------ */
static atomic_bool g_sustain_stop;

/* 98% complete, 1% abandoned (short lease, reclaimed later), 1% failed with a retry */
static void *
sustain_thread(void *arg)
{
	wctx	   *w = arg;
	ff_client  *c = ff_connect();
	char		instance[80];
	long		i = 0;

	snprintf(instance, sizeof(instance), "%s/sustain-%d", g_worker_host, w->id);
	pthread_barrier_wait(w->barrier);
	w->t_start = now_us();
	while (!atomic_load(&g_sustain_stop))
	{
		ff_create_args ca = {0};
		ff_create_result cr = {0};
		ff_claim_args la;
		ff_claim_list l = {0};
		int64_t		t0;

		i++;
		ca.lane_id = w->lane;
		ca.input_payload = "{}";
		ca.input_payload_len = 2;
		ca.policy_json = "{\"retry_policy\": {\"max_retries\": 1, \"backoff\": {\"type\": \"fixed\", \"delay_ms\": 200}}}";
		if (ff_client_create_execution(c, &ca, &cr) != FF_OK)
			werr(w, "create", ff_client_last_error(c)->message);
		ff_create_result_clear(&cr);
		claim_args(&la, w, instance);
		la.lease_ttl_ms = i % 100 == 50 ? 300 : 60000;
		t0 = now_us();
		if (ff_client_claim(c, &la, &l) != FF_OK)
			werr(w, "claim", ff_client_last_error(c)->message);
		lat_add(&w->l[0], now_us() - t0);
		if (l.count == 0)
		{
			ff_claim_list_clear(&l);
			continue;
		}
		if (i % 100 == 50)
			;					/* abandoned: the lease expires, a claim reclaims it */
		else if (i % 100 == 99)
		{
			if (ff_client_fail(c, &l.items[0].handle, "bench failure", FF_CLASS_TRANSIENT, NULL, 0, NULL) != FF_OK)
				werr(w, "fail", ff_client_last_error(c)->message);
		}
		else if (ff_client_complete(c, &l.items[0].handle, "ok", 2) != FF_OK)
		{
			if (!ff_status_is_lease_lost(ff_client_last_error(c)->kind))
				werr(w, "complete", ff_client_last_error(c)->message);
		}
		else
			w->done++;
		ff_claim_list_clear(&l);
	}
	w->t_end = now_us();
	ff_client_close(c);
	return NULL;
}

typedef struct sustain_arg
{
	int			threads;
	wctx	   *w;
} sustain_arg;

static void *
sustain_runner(void *arg)
{
	sustain_arg *s = arg;
	wctx		proto = {0};

	proto.lane = "bench.sustained";
	proto.max_claims = 1;
	s->w = run_threads(s->threads, sustain_thread, &proto);
	return NULL;
}

static const char *const g_tables[] = {"ff_execution", "ff_attempt", "ff_lease_event", "ff_completion_event",
"ff_idempotency_key"};

static void
sample_tables(const char *when, bool keep)
{
	double		dead_total = 0,
				size_total = 0;

	for (size_t i = 0; i < sizeof(g_tables) / sizeof(g_tables[0]); i++)
	{
		char		name[80];
		double		dead = pg_num(g_admin, "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = '%s'",
								  g_tables[i]);
		double		size = pg_num(g_admin, "SELECT pg_total_relation_size('%s')", g_tables[i]);

		dead_total += dead > 0 ? dead : 0;
		size_total += size;
		if (keep)
		{
			snprintf(name, sizeof(name), "%s_dead_tuples_%s", g_tables[i], when);
			add_metric("sustained", name, dead, "rows");
			snprintf(name, sizeof(name), "%s_bytes_%s", g_tables[i], when);
			add_metric("sustained", name, size, "bytes");
		}
	}
	if (keep)
	{
		char		name[80];

		snprintf(name, sizeof(name), "claim_idx_bytes_%s", when);
		add_metric("sustained", name, pg_num(g_admin, "SELECT pg_relation_size('ff_execution_claim_idx')"),
				   "bytes");
		snprintf(name, sizeof(name), "live_executions_%s", when);
		add_metric("sustained", name, pg_num(g_admin, "SELECT count(*) FROM ff_execution"), "rows");
		snprintf(name, sizeof(name), "ff_execution_hot_update_pct_%s", when);
		add_metric("sustained", name, pg_num(g_admin, "SELECT round(100.0 * n_tup_hot_upd / nullif(n_tup_upd, 0), 1) "
											 "FROM pg_stat_user_tables WHERE relname = 'ff_execution'"), "%");
		snprintf(name, sizeof(name), "ff_attempt_hot_update_pct_%s", when);
		add_metric("sustained", name, pg_num(g_admin, "SELECT round(100.0 * n_tup_hot_upd / nullif(n_tup_upd, 0), 1) "
											 "FROM pg_stat_user_tables WHERE relname = 'ff_attempt'"), "%");
		snprintf(name, sizeof(name), "claimable_or_leased_%s", when);
		add_metric("sustained", name, pg_num(g_admin, "SELECT count(*) FROM ff_execution WHERE "
											 "lifecycle_phase <> 'terminal'"), "rows");
	}
	progress("%s: %.0f dead tuples, %.1f MB in the engine's tables", when, dead_total, size_total / 1048576.0);
}

static void
scenario_sustained(void)
{
	int			secs = g_quick ? 4 : 300;
	int			threads = 8;
	sustain_arg s = {threads, NULL};
	pthread_t	t;
	lat			l[MAX_OPS] = {{0}};
	long		done;
	double		wall,
				max_dead = 0;
	char	   *reconcilers = pg_str(g_admin, "SELECT current_setting('flowfabric.reconcilers', true)");
	row		   *r;
	int64_t		t0;

	fprintf(g_log, "sustained: %d s of mixed load at %d workers, background reconcilers %s\n", secs, threads,
			reconcilers ? reconcilers : "?");
	reset_tables();
	sample_tables("start", true);
	atomic_store(&g_sustain_stop, false);
	pthread_create(&t, NULL, sustain_runner, &s);
	t0 = now_us();
	while (now_us() - t0 < secs * 1000000LL)
	{
		double		dead;

		sleep_ms(g_quick ? 1000 : 10000);
		dead = pg_num(g_admin, "SELECT sum(n_dead_tup) FROM pg_stat_user_tables WHERE relname IN "
					  "('ff_execution', 'ff_attempt', 'ff_lease_event', 'ff_completion_event', 'ff_idempotency_key')");
		if (dead > max_dead)
			max_dead = dead;
		if (!g_quick)
			progress("%3d s: %.0f dead tuples, %.0f executions", (int) ((now_us() - t0) / 1000000), dead,
					 pg_num(g_admin, "SELECT n_live_tup FROM pg_stat_user_tables WHERE relname = 'ff_execution'"));
	}
	atomic_store(&g_sustain_stop, true);
	pthread_join(t, NULL);
	wall = collect(s.w, threads, l, &done);
	r = add_row("sustained", "flowfabric", "%d workers, %d s, 1%% abandoned, 1%% retried", threads, secs);
	r->rate = wall > 0 ? done / wall : 0;
	row_lat(r, "claim", &l[0]);
	free_ctx(s.w, threads);
	lat_free(&l[0]);
	sleep_ms(1500);				/* let the statistics and the reconcilers catch up */
	sample_tables("end", true);
	add_metric("sustained", "max_dead_tuples_sampled", max_dead, "rows");
	add_metric("sustained", "seconds", secs, "s");
	add_metric("sustained", "non_terminal_left",
			   pg_num(g_admin, "SELECT count(*) FROM ff_execution WHERE lifecycle_phase <> 'terminal'"), "rows");
	row_note(r, "max %.0f dead tuples sampled; reconcilers %s", max_dead, reconcilers ? reconcilers : "?");
	free(reconcilers);
}

/* ------------------------------------------------------------------------
 * step threads: the loop shape of the suspend, flow and stream sections
 * ------------------------------------------------------------------------ */

/* false (and the error counted) unless s is FF_OK */
static bool
ffok(wctx *w, ff_client *c, ff_status s, const char *what)
{
	if (s == FF_OK)
		return true;
	werr(w, what, ff_client_last_error(c)->message);
	return false;
}

static bool
wfail(wctx *w, const char *what, const char *msg)
{
	werr(w, what, msg);
	return false;
}

/* BEGIN, COMMIT or ROLLBACK on the thread's connection */
static bool
ff_tx(wctx *w, const char *cmd)
{
	PGconn	   *pc = ff_client_pgconn(w->c);
	PGresult   *r = PQexec(pc, cmd);
	bool		ok = PQresultStatus(r) == PGRES_COMMAND_OK;

	if (!ok)
		werr(w, cmd, PQerrorMessage(pc));
	PQclear(r);
	return ok;
}

/*
 * Connects (twice with w->second), runs w->setup, waits for the other
 * threads, then runs w->step until it returns false, w->duration_us (if set)
 * has passed or there were more than 100 errors. A lease still held in
 * w->held at the end is completed (not timed).
 */
static void *
step_thread(void *arg)
{
	wctx	   *w = arg;
	bool		more;

	w->c = ff_connect();
	w->c2 = w->second ? ff_connect() : NULL;
	snprintf(w->instance, sizeof(w->instance), "%s/%s-%d", g_worker_host, w->lane, w->id);
	more = w->setup == NULL || w->setup(w);
	pthread_barrier_wait(w->barrier);
	w->t_start = now_us();
	while (more && w->errors <= 100 && (w->duration_us == 0 || now_us() - w->t_start < w->duration_us))
		more = w->step(w);
	w->t_end = now_us();
	if (w->held.handle.data != NULL)
		ffok(w, w->c, ff_client_complete(w->c, &w->held.handle, "ok", 2), "complete");
	ff_claimed_clear(&w->held);
	if (w->c2)
		ff_client_close(w->c2);
	ff_client_close(w->c);
	return NULL;
}

typedef struct step_totals
{
	long		done;
	long		empty;
	long		errors;
} step_totals;

/*
 * n step threads like proto; r gets the rate (w->done per second of wall
 * clock) and the latencies w->l[k] named ops[k] (NULL: not reported)
 */
static step_totals
step_run(int n, const wctx *proto, row *r, const char *const ops[MAX_OPS])
{
	wctx	   *w = run_threads(n, step_thread, proto);
	lat			l[MAX_OPS] = {{0}};
	step_totals t = {0};
	double		secs = collect(w, n, l, &t.done);

	for (int i = 0; i < n; i++)
	{
		t.empty += w[i].empty;
		t.errors += w[i].errors;
	}
	free_ctx(w, n);
	r->rate = secs > 0 ? t.done / secs : 0;
	for (int k = 0; k < MAX_OPS; k++)
	{
		if (ops[k] != NULL)
			row_lat(r, ops[k], &l[k]);
		lat_free(&l[k]);
	}
	return t;
}

/* the thread works on its own lane, "<lane>.<id>" */
static bool
own_lane_setup(wctx *w)
{
	snprintf(w->own_lane, sizeof(w->own_lane), "%s.%d", w->lane, w->id);
	w->lane = w->own_lane;
	return true;
}

/* the p50 of a row's latency op, -1 if it has none */
static double
row_p50(const row *r, const char *op)
{
	for (int k = 0; k < r->nops; k++)
		if (strcmp(r->op[k], op) == 0)
			return r->p50[k];
	return -1;
}

/* ------------------------------------------------------------------------
 * scenario: suspend -> signal -> resume
 * ------------------------------------------------------------------------ */

/*
 * One cycle on the next execution of the thread's backlog: claim it, suspend
 * it on one waitpoint, deliver the waitpoint's signal from the second
 * connection, claim the resumed attempt back (ff_claim_resumed_execution)
 * and complete. Latencies: suspend, signal, and from the signal's start to
 * the resumed lease. false when the backlog is used up. Each thread has its
 * own lane: any claim on a lane picks resumed executions up too, so on a
 * shared lane other threads' claims would take them first.
 */
static bool
suspend_step(wctx *w)
{
	ff_claim_args la;
	ff_claim_list l = {0};
	ff_suspend_args sa = {0};
	ff_suspend_result sr = {0};
	ff_signal_args ga = {0};
	ff_signal_result gr = {0};
	ff_claim_resumed_args ra = {0};
	ff_resumed_claim rc = {0};
	int64_t		t0,
				t1,
				t2,
				t3;
	bool		ok;

	claim_args(&la, w, w->instance);
	ok = ffok(w, w->c, ff_client_claim(w->c, &la, &l), "claim");
	if (ok && l.count == 0)
	{
		w->empty++;
		ff_claim_list_clear(&l);
		return false;
	}
	sa.waitpoints_json = "[\"wpk:bench\"]";
	t0 = now_us();
	ok = ok && ffok(w, w->c, ff_client_suspend(w->c, &l.items[0].handle, &sa, &sr), "suspend");
	t1 = now_us();
	if (ok && (sr.outcome != FF_SUSPEND_SUSPENDED || sr.n_waitpoints != 1))
		ok = wfail(w, "suspend", "not suspended on one waitpoint");
	if (ok)
	{
		ga.execution_id = l.items[0].execution_id;
		ga.waitpoint_id = sr.waitpoints[0].waitpoint_id;
		ga.waitpoint_token = sr.waitpoints[0].waitpoint_token;
		ga.signal_name = "go";
		ok = ffok(w, w->c2, ff_client_deliver_signal(w->c2, &ga, &gr), "signal");
	}
	t2 = now_us();
	if (ok && !gr.satisfied)
		ok = wfail(w, "signal", gr.effect);
	if (ok)
	{
		ra.execution_id = l.items[0].execution_id;
		ra.worker_id = "ffbench";
		ra.worker_instance_id = w->instance;
		ra.lane_id = w->lane;
		ra.lease_ttl_ms = 60000;
		ok = ffok(w, w->c, ff_client_claim_resumed(w->c, &ra, &rc), "claim_resumed");
	}
	t3 = now_us();
	if (ok && rc.claimed.handle.data == NULL)
		ok = wfail(w, "claim_resumed", "nothing claimed");
	if (ok)
	{
		lat_add(&w->l[0], t1 - t0);
		lat_add(&w->l[1], t2 - t1);
		lat_add(&w->l[2], t3 - t1);
		if (ffok(w, w->c, ff_client_complete(w->c, &rc.claimed.handle, "ok", 2), "complete"))
			w->done++;
	}
	ff_resumed_claim_clear(&rc);
	ff_signal_result_clear(&gr);
	ff_suspend_result_clear(&sr);
	ff_claim_list_clear(&l);
	return true;
}

static void
scenario_suspend(void)
{
	static const int conc[] = {1, 4, 8};
	int64_t		dur = (g_quick ? 1000 : 10000) * 1000LL;
	long		backlog = g_quick ? 3000 : 40000;

	fprintf(g_log, "suspend: claim -> suspend -> signal (second connection) -> claim resumed -> complete, "
			"%.1f s per run\n", dur / 1e6);
	if (pg_num(g_admin, "SELECT count(*) FROM ff_list_waitpoint_hmac_kids() WHERE active") < 1)
		pg_exec(g_admin, "SELECT * FROM ff_seed_waitpoint_hmac_secret('ffbench', repeat('5a', 32))");
	for (size_t k = 0; k < sizeof(conc) / sizeof(conc[0]); k++)
	{
		int			n = conc[k];
		wctx		proto = {0};
		step_totals t;
		row		   *r;

		reset_tables();
		for (int i = 0; i < n; i++)
		{
			char		lane[64];

			snprintf(lane, sizeof(lane), "bench.suspend.%d", i);
			ff_fill(lane, backlog / n, 1, 1000, NULL);
		}
		analyze_all();
		proto.lane = "bench.suspend";
		proto.duration_us = dur;
		proto.max_claims = 1;
		proto.second = true;
		proto.setup = own_lane_setup;
		proto.step = suspend_step;
		r = add_row("suspend", "flowfabric", "%d worker%s + %d signalling connection%s", n, n > 1 ? "s" : "", n,
					n > 1 ? "s" : "");
		t = step_run(n, &proto, r, (const char *const[MAX_OPS]) {"suspend", "signal", "signal->lease"});
		snprintf(r->unit, sizeof(r->unit), "cycles/s");
		row_note(r, "%ld cycles completed, %ld errors%s", t.done, t.errors,
				 t.empty > 0 ? "; the backlog ran out" : "");
		progress("%d worker(s): %.0f cycles/s, signal -> resumed lease p50 %.2f ms", n, r->rate,
				 row_p50(r, "signal->lease"));
	}
}

/* the edges of a finished flow run that were not resolved as a success, or
 * whose downstream started before its upstream ended */
#define FLOW_BAD_EDGES \
	"FROM ff_edge e JOIN ff_execution u ON u.partition_key = e.partition_key " \
	"AND u.execution_id = e.upstream_execution_id " \
	"JOIN ff_execution d ON d.partition_key = e.partition_key " \
	"AND d.execution_id = e.downstream_execution_id " \
	"WHERE e.resolution IS DISTINCT FROM 'success' " \
	"OR d.started_at_ms IS NULL OR d.started_at_ms < u.terminal_at_ms"

/* ------------------------------------------------------------------------
 * scenario: flows (10-node DAGs)
 * ------------------------------------------------------------------------ */
#define FLOW_NODES 10

typedef struct flow_shape
{
	const char *key;			/* metric names */
	const char *name;
	int			nedges;
	int			edge[16][2];	/* upstream, downstream member index */
} flow_shape;

static const flow_shape g_flow_shapes[] = {
	{"fan", "fan-out/fan-in 1 -> 8 -> 1", 16,
		{{0, 1}, {0, 2}, {0, 3}, {0, 4}, {0, 5}, {0, 6}, {0, 7}, {0, 8},
		{1, 9}, {2, 9}, {3, 9}, {4, 9}, {5, 9}, {6, 9}, {7, 9}, {8, 9}}},
	{"chain", "chain of 10", 9,
		{{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}, {5, 6}, {6, 7}, {7, 8}, {8, 9}}},
};

/*
 * Builds one flow of w->shape in one transaction (so that no member is
 * claimed before its edges block it): the flow, its members (ids minted on
 * the flow's partition), and every edge staged and applied. false after
 * w->target flows.
 */
static bool
flow_build_step(wctx *w)
{
	const flow_shape *g = w->shape;
	ff_flow_created fc = {0};
	char	   *ids[FLOW_NODES] = {0};
	int64_t		rev = 0,
				t0 = now_us();
	bool		ok;

	if (w->done >= w->target)
		return false;
	ok = ff_tx(w, "BEGIN") && ffok(w, w->c, ff_client_create_flow(w->c, NULL, "bench", NULL, &fc), "create_flow");
	for (int i = 0; ok && i < FLOW_NODES; i++, rev++)
	{
		ff_create_args ca = {0};
		ff_create_result cr = {0};

		ok = ffok(w, w->c, ff_client_new_flow_execution_id(w->c, fc.flow_id, &ids[i]), "new_flow_execution_id");
		ca.lane_id = w->lane;
		ca.execution_id = ids[i];
		ok = ok && ffok(w, w->c, ff_client_create_execution(w->c, &ca, &cr), "create");
		ok = ok && ffok(w, w->c, ff_client_add_execution_to_flow(w->c, fc.flow_id, ids[i], NULL),
						"add_execution_to_flow");
		ff_create_result_clear(&cr);
	}
	for (int e = 0; ok && e < g->nedges; e++)
	{
		ff_edge_args ea = {0};
		ff_edge_staged es = {0};

		ea.flow_id = fc.flow_id;
		ea.upstream_execution_id = ids[g->edge[e][0]];
		ea.downstream_execution_id = ids[g->edge[e][1]];
		ea.expected_graph_revision = rev;
		ok = ffok(w, w->c, ff_client_stage_dependency_edge(w->c, &ea, &es), "stage_dependency_edge");
		ok = ok && ffok(w, w->c, ff_client_apply_dependency_to_child(w->c, fc.flow_id, es.edge_id,
																	 ea.downstream_execution_id,
																	 ea.upstream_execution_id, NULL),
						"apply_dependency_to_child");
		rev = es.new_graph_revision;
		ff_edge_staged_clear(&es);
	}
	ok = ff_tx(w, ok ? "COMMIT" : "ROLLBACK") && ok;
	if (ok)
	{
		lat_add(&w->l[0], now_us() - t0);
		w->done++;
	}
	for (int i = 0; i < FLOW_NODES; i++)
		ff_free(ids[i]);
	ff_flow_created_clear(&fc);
	return true;
}

static void
scenario_flow(void)
{
	long		flows = g_quick ? 100 : 1000;
	int			workers = 8;

	fprintf(g_log, "flow: %ld flows of %d members per shape, built by 1 connection, run by %d workers\n",
			flows, FLOW_NODES, workers);
	for (size_t k = 0; k < sizeof(g_flow_shapes) / sizeof(g_flow_shapes[0]); k++)
	{
		const flow_shape *g = &g_flow_shapes[k];
		wctx		proto = {0};
		atomic_long remaining;
		step_totals t;
		row		   *b,
				   *r;
		double		exec_rate,
					execs,
					done_flows,
					bad_edges;
		char		name[80];

		reset_tables();
		proto.lane = "bench.flow";
		proto.shape = g;
		proto.target = flows;
		proto.step = flow_build_step;
		b = add_row("flow", "flowfabric", "build %s, 1 connection", g->name);
		t = step_run(1, &proto, b, (const char *const[MAX_OPS]) {"build"});
		snprintf(b->unit, sizeof(b->unit), "flows/s");
		row_note(b, "%ld flows of %d members and %d edges built, one transaction each; %ld errors", t.done,
				 FLOW_NODES, g->nedges, t.errors);
		analyze_all();

		/* 8 workers claim and complete until every member is completed */
		memset(&proto, 0, sizeof(proto));
		atomic_init(&remaining, t.done * FLOW_NODES);
		proto.lane = "bench.flow";
		proto.max_claims = 1;
		proto.remaining = &remaining;
		proto.duration_us = (g_quick ? 30 : 600) * 1000000LL;	/* a cap, should members never
																 * become claimable */
		r = add_row("flow", "flowfabric", "run %s, %d workers", g->name, workers);
		exec_rate = drain_with(true, workers, &proto, r);
		execs = pg_num(g_admin, "SELECT count(*) FROM ff_execution WHERE lane_id = 'bench.flow' "
					   "AND public_state = 'completed'");
		done_flows = pg_num(g_admin, "SELECT count(*) FROM (SELECT flow_id FROM ff_execution "
							"WHERE lane_id = 'bench.flow' GROUP BY flow_id "
							"HAVING bool_and(public_state = 'completed')) f");
		/* every edge resolved as a success, no downstream started before its upstream ended */
		bad_edges = pg_num(g_admin, "SELECT count(*) " FLOW_BAD_EDGES);
		r->rate = exec_rate > 0 && execs > 0 ? done_flows * exec_rate / execs : 0;
		snprintf(r->unit, sizeof(r->unit), "flows/s");
		row_note(r, "%.0f exec/s; %.0f of %ld flows and %.0f of %ld executions completed; "
				 "%.0f edges unresolved or out of order", exec_rate, done_flows, t.done, execs,
				 t.done * FLOW_NODES, bad_edges);
		if (done_flows != t.done || bad_edges != 0)
		{
			char	   *detail = pg_str(g_admin, "SELECT string_agg(format('edge %%s -> %%s: resolution %%s, "
										"upstream %%s at %%s, downstream started at %%s', "
										"e.upstream_execution_id, e.downstream_execution_id, e.resolution, "
										"u.public_state, u.terminal_at_ms, d.started_at_ms), E'\\n     ') "
										FLOW_BAD_EDGES);

			fprintf(g_log, "  !! %s: %s\n     %s\n", g->name, r->note, detail ? detail : "");
			free(detail);
		}
		snprintf(name, sizeof(name), "%s_executions_per_s", g->key);
		add_metric("flow", name, exec_rate, "exec/s");
		snprintf(name, sizeof(name), "%s_flows_completed", g->key);
		add_metric("flow", name, done_flows, "flows");
		progress("%s: built %.0f flows/s, ran %.0f flows/s (%.0f exec/s)", g->name, b->rate, r->rate, exec_rate);
	}
}

/* ------------------------------------------------------------------------
 * scenario: streams (append by the lease holder, read back)
 * ------------------------------------------------------------------------ */
static char g_frame[1024];		/* frame payloads: 'x' * frame_bytes */

/* an execution of the thread's own lane, claimed: its stream is appended to */
static bool
stream_writer_setup(wctx *w)
{
	ff_create_args ca = {0};
	ff_create_result cr = {0};
	ff_claim_args la;
	ff_claim_list l = {0};
	bool		ok;

	own_lane_setup(w);
	ca.lane_id = w->lane;
	claim_args(&la, w, w->instance);
	ok = ffok(w, w->c, ff_client_create_execution(w->c, &ca, &cr), "create") &&
		ffok(w, w->c, ff_client_claim(w->c, &la, &l), "claim");
	if (ok && l.count != 1)
		ok = wfail(w, "claim", "nothing claimed");
	if (ok)
	{
		w->held = l.items[0];
		memset(&l.items[0], 0, sizeof(l.items[0]));
	}
	ff_claim_list_clear(&l);
	ff_create_result_clear(&cr);
	return ok;
}

/* w->batch frames, in one transaction when more than one (latencies: each
 * append, and the commit) */
static bool
stream_append_step(wctx *w)
{
	ff_frame_args fa = {0};
	bool		tx = w->batch > 1,
				ok = !tx || ff_tx(w, "BEGIN");
	int			n = 0;

	fa.frame_type = "delta";
	fa.payload = g_frame;
	fa.payload_len = (size_t) w->frame_bytes;
	for (int i = 0; ok && i < (tx ? w->batch : 1); i++, n++)
	{
		int64_t		t0 = now_us();

		ok = ffok(w, w->c, ff_client_append_frame(w->c, &w->held.handle, &fa, NULL), "append_frame");
		lat_add(&w->l[0], now_us() - t0);
	}
	if (tx)
	{
		int64_t		t0 = now_us();

		ok = ff_tx(w, ok ? "COMMIT" : "ROLLBACK") && ok;
		lat_add(&w->l[1], now_us() - t0);
	}
	if (ok)
		w->done += n;
	return true;
}

/* w->target: the frames of the stream read */
static bool
stream_reader_setup(wctx *w)
{
	ff_stream_info si = {0};
	bool		ok = ffok(w, w->c, ff_client_stream_info(w->c, w->stream_id, FF_CURRENT_ATTEMPT, &si),
						  "stream_info");

	w->target = si.frame_count;
	ff_stream_info_clear(&si);
	return ok;
}

/*
 * One page of w->batch frames from the cursor; at the end of the stream the
 * pass is checked (every frame, each w->frame_bytes long) and starts over.
 */
static bool
stream_read_step(wctx *w)
{
	ff_frame_list fl = {0};
	int64_t		t0 = now_us();

	if (ffok(w, w->c, ff_client_read_stream(w->c, w->stream_id, FF_CURRENT_ATTEMPT,
											w->cursor[0] ? w->cursor : NULL, NULL, w->batch, &fl),
			 "read_stream"))
	{
		lat_add(&w->l[0], now_us() - t0);
		for (size_t i = 0; i < fl.count; i++)
			if (fl.items[i].payload.len != (size_t) w->frame_bytes)
				werr(w, "read_stream", "a frame of another size");
		w->done += (long) fl.count;
		w->pass += (long) fl.count;
		if (fl.count == (size_t) w->batch)	/* the next page: just after the last frame */
			snprintf(w->cursor, sizeof(w->cursor), "%" PRId64 "-%d", fl.items[fl.count - 1].ts_ms,
					 fl.items[fl.count - 1].seq + 1);
		else
		{
			if (w->pass != w->target)
				werr(w, "read_stream", "a pass did not return every frame of the stream");
			w->pass = 0;
			w->cursor[0] = '\0';
		}
	}
	ff_frame_list_clear(&fl);
	return true;
}

static void
scenario_stream(void)
{
	int64_t		dur = (g_quick ? 1000 : 10000) * 1000LL,
				read_dur = (g_quick ? 500 : 5000) * 1000LL;
	int			frame_bytes = 128;
	static const struct
	{
		bool		read;
		int			threads;
		int			batch;		/* appends per transaction, frames per read */
	}			v[] = {
		{false, 1, 1}, {false, 1, 16}, {false, 8, 1},
		{true, 1, 1000}, {true, 1, 100}, {true, 8, 1000},
	};
	char	   *longest = NULL;
	double		frames = 0;

	fprintf(g_log, "stream: %d-byte frames appended by lease holders (%.1f s per run), then read back\n",
			frame_bytes, dur / 1e6);
	memset(g_frame, 'x', sizeof(g_frame));
	reset_tables();
	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++)
	{
		wctx		proto = {0};
		step_totals t;
		row		   *r;
		bool		tx = !v[k].read && v[k].batch > 1;
		double		before = pg_num(g_admin, "SELECT coalesce(sum(frame_count), 0) FROM ff_stream_meta");

		if (v[k].read && longest == NULL)
		{
			/* the readers read the longest stream written above */
			longest = pg_str(g_admin, "SELECT '{fp:' || partition_key || '}:' || execution_id "
							 "FROM ff_stream_meta ORDER BY frame_count DESC LIMIT 1");
			frames = pg_num(g_admin, "SELECT max(frame_count) FROM ff_stream_meta");
			if (longest == NULL)
				break;
		}
		proto.lane = "bench.stream";
		proto.duration_us = v[k].read ? read_dur : dur;
		proto.batch = v[k].batch;
		proto.frame_bytes = frame_bytes;
		proto.stream_id = longest;
		proto.setup = v[k].read ? stream_reader_setup : stream_writer_setup;
		proto.step = v[k].read ? stream_read_step : stream_append_step;
		if (v[k].read)
			r = add_row("stream", "flowfabric", "read %.0f frames, %d reader%s, %d per call", frames,
						v[k].threads, v[k].threads > 1 ? "s" : "", v[k].batch);
		else
			r = add_row("stream", "flowfabric", "append %d B, %d writer%s, %d frame%s per transaction",
						frame_bytes, v[k].threads, v[k].threads > 1 ? "s" : "", v[k].batch, tx ? "s" : "");
		t = step_run(v[k].threads, &proto, r,
					 (const char *const[MAX_OPS]) {v[k].read ? "read" : "append", tx ? "commit" : NULL});
		snprintf(r->unit, sizeof(r->unit), "frames/s");
		if (v[k].read)
			row_note(r, "%ld frames read, %ld errors", t.done, t.errors);
		else
		{
			/* the streams' own counters must agree */
			double		counted = pg_num(g_admin, "SELECT coalesce(sum(frame_count), 0) FROM ff_stream_meta")
				- before;

			row_note(r, "%ld frames appended (the streams count %.0f), %ld errors", t.done, counted, t.errors);
			if (counted != t.done)
				fprintf(g_log, "  !! appended %ld frames, the streams count %.0f\n", t.done, counted);
		}
		progress("%s: %.0f frames/s", r->name, r->rate);
	}
	free(longest);
}

/* ------------------------------------------------------------------------
 * callgrind figures (measured by scripts/bench.sh)
 * ------------------------------------------------------------------------ */
static void
read_callgrind(void)
{
	FILE	   *f;
	char		line[256];

	if (g_callgrind_file == NULL)
		return;
	f = fopen(g_callgrind_file, "r");
	if (f == NULL)
	{
		fprintf(g_log, "  !! no callgrind figures: %s\n", g_callgrind_file);
		return;
	}
	while (fgets(line, sizeof(line), f))
	{
		char		name[80];
		double		v;

		if (sscanf(line, "%79s %lf", name, &v) == 2)
			add_metric("callgrind", name, v,
					   strcmp(name, "calls") == 0 ? "calls" : strcmp(name, "batch_size") == 0 ? "items"
					   : strcmp(name, "history") == 0 ? "rows" : "instructions");
	}
	fclose(f);
}

/* ------------------------------------------------------------------------
 * output
 * ------------------------------------------------------------------------ */
static void
json_str(FILE *o, const char *s)
{
	fputc('"', o);
	for (; *s; s++)
	{
		if (*s == '"' || *s == '\\')
			fprintf(o, "\\%c", *s);
		else if ((unsigned char) *s < 0x20)
			fprintf(o, "\\u%04x", *s);
		else
			fputc(*s, o);
	}
	fputc('"', o);
}

static void
json_num(FILE *o, double v)
{
	if (v < 0 || isnan(v) || isinf(v))
		fprintf(o, "null");
	else if (v == floor(v) && v < 1e15)
		fprintf(o, "%.0f", v);
	else
		fprintf(o, "%.4f", v);
}

static char *g_machine;

static void
print_json(const char *pgversion)
{
	FILE	   *o = stdout;

	fprintf(o, "{\n  \"mode\": \"%s\",\n  \"machine\": ", g_quick ? "quick" : "full");
	json_str(o, g_machine);
	fprintf(o, ",\n  \"postgresql\": ");
	json_str(o, pgversion);
	fprintf(o, ",\n  \"settings\": ");
	json_str(o, g_settings);
	fprintf(o, ",\n  \"results\": [");
	for (int i = 0; i < g_nrows; i++)
	{
		row		   *r = &g_rows[i];

		fprintf(o, "%s\n    {\"section\": ", i ? "," : "");
		json_str(o, r->section);
		fprintf(o, ", \"name\": ");
		json_str(o, r->name);
		fprintf(o, ", \"system\": ");
		json_str(o, r->system);
		fprintf(o, ", \"rate\": ");
		json_num(o, r->rate);
		fprintf(o, ", \"unit\": ");
		json_str(o, r->unit);
		fprintf(o, ", \"ratio_to_baseline\": ");
		json_num(o, r->ratio);
		fprintf(o, ", \"latency_ms\": {");
		for (int k = 0; k < r->nops; k++)
		{
			fprintf(o, "%s", k ? ", " : "");
			json_str(o, r->op[k]);
			fprintf(o, ": {\"p50\": ");
			json_num(o, r->p50[k]);
			fprintf(o, ", \"p99\": ");
			json_num(o, r->p99[k]);
			fprintf(o, "}");
		}
		fprintf(o, "}");
		if (r->note[0])
		{
			fprintf(o, ", \"note\": ");
			json_str(o, r->note);
		}
		fprintf(o, "}");
	}
	fprintf(o, "\n  ],\n  \"metrics\": [");
	for (int i = 0; i < g_nmetrics; i++)
	{
		fprintf(o, "%s\n    {\"section\": ", i ? "," : "");
		json_str(o, g_metrics[i].section);
		fprintf(o, ", \"name\": ");
		json_str(o, g_metrics[i].name);
		fprintf(o, ", \"value\": ");
		json_num(o, g_metrics[i].value);
		fprintf(o, ", \"unit\": ");
		json_str(o, g_metrics[i].unit);
		fprintf(o, "}");
	}
	fprintf(o, "\n  ],\n  \"targets\": [");
	for (int i = 0; i < g_ntargets; i++)
	{
		fprintf(o, "%s\n    {\"name\": ", i ? "," : "");
		json_str(o, g_targets[i].name);
		fprintf(o, ", \"target\": ");
		json_str(o, g_targets[i].want);
		fprintf(o, ", \"measured\": ");
		json_str(o, g_targets[i].measured);
		fprintf(o, ", \"met\": %s}", g_targets[i].met < 0 ? "null" : g_targets[i].met ? "true" : "false");
	}
	fprintf(o, "\n  ]\n}\n");
}

static void
fmt_rate(char *buf, size_t n, double v)
{
	if (v < 0)
		snprintf(buf, n, "-");
	else if (v >= 1000)
		snprintf(buf, n, "%.0f %03.0f", floor(v / 1000), fmod(v, 1000));
	else
		snprintf(buf, n, "%.0f", v);
}

static void
print_table(const char *pgversion)
{
	const char *last = "";
	static const struct
	{
		const char *section;
		const char *title;
	}			titles[] = {
		{"enqueue", "ENQUEUE: batched create vs batched INSERT"},
		{"cycle", "CYCLE: create -> claim -> complete, one connection per worker"},
		{"backlog", "BACKLOG: claim + complete of a pre-filled backlog"},
		{"drain", "DRAIN: worker runtime, one process at concurrency 8, no-op handler"},
		{"routing", "ROUTING: capability-routed claims"},
		{"scale", "SCALE: claim latency against history"},
		{"sustained", "SUSTAINED: mixed load with the background reconcilers"},
		{"suspend", "SUSPEND: claim -> suspend -> signal -> claim resumed -> complete, one execution per cycle"},
		{"flow", "FLOW: 10-member DAGs, built in one transaction each, then run to completion"},
		{"stream", "STREAM: frames appended by the lease holder, then read back"},
	};

	printf("flowfabric benchmarks (%s mode)\n", g_quick ? "quick" : "full");
	printf("machine: %s; PostgreSQL %s\n", g_machine, pgversion);
	if (g_settings[0])
		printf("server: %s\n", g_settings);
	printf("rates per second (executions unless the column says otherwise); latencies per call in ms "
		   "(p50 / p99); ratio = flowfabric / baseline\n");
	for (int i = 0; i < g_nrows; i++)
	{
		row		   *r = &g_rows[i];
		char		rate[32],
					ratio[16],
					lats[200] = "";
		size_t		len = 0;

		if (strcmp(r->section, last) != 0)
		{
			const char *title = r->section;

			for (size_t t = 0; t < sizeof(titles) / sizeof(titles[0]); t++)
				if (strcmp(titles[t].section, r->section) == 0)
					title = titles[t].title;
			printf("\n%s\n  %-10s %-52s %10s %6s  %s\n", title, "system", "run", r->unit, "ratio", "latency p50 / p99 ms");
			last = r->section;
		}
		fmt_rate(rate, sizeof(rate), r->rate);
		if (r->ratio >= 0)
			snprintf(ratio, sizeof(ratio), "%.2fx", r->ratio);
		else
			ratio[0] = '\0';
		for (int k = 0; k < r->nops && len < sizeof(lats) - 60; k++)
			len += (size_t) snprintf(lats + len, sizeof(lats) - len, "%s%s %.2f / %.2f", k ? ", " : "",
									 r->op[k], r->p50[k], r->p99[k]);
		printf("  %-10s %-52.52s %10s %6s  %s\n", r->system, r->name, rate, ratio, lats);
		if (r->note[0])
			printf("  %-10s   (%s)\n", "", r->note);
	}
	if (g_nmetrics > 0)
	{
		const char *sec = "";

		printf("\nMETRICS");
		for (int i = 0; i < g_nmetrics; i++)
		{
			metric	   *m = &g_metrics[i];

			if (strcmp(m->section, sec) != 0)
			{
				printf("\n  %s:\n", m->section);
				sec = m->section;
			}
			if (strcmp(m->unit, "bytes") == 0)
				printf("    %-44s %12.1f MB\n", m->name, m->value / 1048576.0);
			else if (strcmp(m->unit, "ms") == 0)
				printf("    %-44s %12.3f ms\n", m->name, m->value);
			else
				printf("    %-44s %12.0f %s\n", m->name, m->value, m->unit);
		}
	}
	if (g_ntargets > 0)
	{
		printf("\nTARGETS\n");
		for (int i = 0; i < g_ntargets; i++)
			printf("  %-4s %-56s want %-24s got %s\n",
				   g_targets[i].met < 0 ? "?" : g_targets[i].met ? "MET" : "NOT", g_targets[i].name,
				   g_targets[i].want, g_targets[i].measured);
	}
}

static char *
machine_description(void)
{
	FILE	   *f = fopen("/proc/cpuinfo", "r");
	char		line[512],
				model[256] = "unknown CPU";
	char	   *out;
	long		cores = sysconf(_SC_NPROCESSORS_ONLN);
	long		mem_mb = sysconf(_SC_PHYS_PAGES) / 1024 * (sysconf(_SC_PAGESIZE) / 1024);

	if (f)
	{
		while (fgets(line, sizeof(line), f))
			if (strncmp(line, "model name", 10) == 0)
			{
				char	   *p = strchr(line, ':');

				if (p)
				{
					snprintf(model, sizeof(model), "%s", p + 2);
					model[strcspn(model, "\n")] = '\0';
				}
				break;
			}
		fclose(f);
	}
	if (asprintf(&out, "%ld cores (%s), %.1f GB RAM", cores, model, mem_mb / 1024.0) < 0)
		die("out of memory");
	return out;
}

/* ------------------------------------------------------------------------
 * main
 * ------------------------------------------------------------------------ */
/* the sections, in the order they run (--only names them) */
static const struct
{
	const char *name;
	void		(*run) (void);
}			g_sections[] = {
	{"enqueue", scenario_enqueue},
	{"cycle", scenario_cycle},
	{"backlog", scenario_backlog},
	{"drain", scenario_drain},
	{"routing", scenario_routing},
	{"scale", scenario_scale},
	{"sustained", scenario_sustained},
	{"suspend", scenario_suspend},
	{"flow", scenario_flow},
	{"stream", scenario_stream},
};

int
main(int argc, char **argv)
{
	char	   *pgversion;
	int64_t		t0 = now_us();

	g_log = stderr;
	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--quick") == 0)
			g_quick = true;
		else if (strcmp(argv[i], "--json") == 0)
			g_json = true;
		else if (strcmp(argv[i], "--dsn") == 0 && i + 1 < argc)
			g_dsn = argv[++i];
		else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
			g_only = argv[++i];
		else if (strcmp(argv[i], "--callgrind") == 0 && i + 1 < argc)
			g_callgrind_file = argv[++i];
		else if (strcmp(argv[i], "--settings") == 0 && i + 1 < argc)
			g_settings = argv[++i];
		else
		{
			fprintf(stderr, "usage: ffbench [--quick] [--json] [--dsn CONNINFO] [--only LIST] "
					"[--callgrind FILE] [--settings TEXT]\n"
					"  LIST: enqueue,cycle,backlog,drain,routing,scale,sustained,suspend,flow,stream\n");
			return 2;
		}
	}
	gethostname(g_worker_host, sizeof(g_worker_host) - 1);
	g_machine = machine_description();
	g_admin = pg_connect();
	pg_exec(g_admin, "SET client_min_messages = warning");
	pgversion = pg_str(g_admin, "SHOW server_version");
	if (pg_num(g_admin, "SELECT count(*) FROM pg_extension WHERE extname = 'flowfabric'") != 1)
		die("the flowfabric extension is not installed in this database");
	if (pg_num(g_admin, "SELECT count(*) FROM pg_class WHERE relname = 'bq_job'") != 1)
		die("the baseline table bq_job is missing (run bench/baseline.sql)");

	for (size_t i = 0; i < sizeof(g_sections) / sizeof(g_sections[0]); i++)
		if (wanted(g_sections[i].name))
			g_sections[i].run();
	read_callgrind();
	reset_tables();

	fprintf(g_log, "done in %.0f s\n", (now_us() - t0) / 1e6);
	if (g_json)
		print_json(pgversion ? pgversion : "?");
	else
		print_table(pgversion ? pgversion : "?");
	free(pgversion);
	free(g_machine);
	PQfinish(g_admin);
	(void) metric_value;
	return 0;
}

/*
 * worker.c - the worker runtime, ff_worker_run().
 *
 * Threads (each with its own connection: a libpq connection must not be
 * shared between threads):
 *   - the calling thread is the claimer: it claims executions in batches of
 *     up to min(free slots, batch_size) and queues them; when a claim finds
 *     nothing it waits with exponential backoff (idle_backoff_min_ms doubling
 *     up to idle_backoff_max_ms), and the wait is cut short by a notification
 *     on wake_channel (default ff_lease_event: a released or expired lease can
 *     make work claimable). The engine has no "new execution" notification in
 *     version 0.1, so the capped backoff bounds the pick-up latency of new
 *     work while costing at most one small query per backoff period when idle.
 *   - `concurrency` handler threads run the handler and finish the job
 *     (complete / fail / cancel / delay), retrying the call over connection
 *     errors (the engine treats repeated complete / fail / cancel as replays);
 *   - one renewer thread renews every claimed lease each lease_ttl/3.
 * A lease that is gone (stale_lease, lease_expired, execution_not_active)
 * ends that job only. A handler that suspends its execution (ff_job_suspend,
 * then FF_JOB_SUSPENDED) gives the lease back: nothing is renewed or
 * finished for it; once resumed, a claim hands the same attempt to a
 * handler again. Shutdown (signal, stop flag, ff_worker_request_stop,
 * max_jobs, exit_when_idle) stops claiming, lets the handlers finish every
 * job already claimed, then returns.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static atomic_uint g_stop_generation;
static atomic_uint g_run_counter;

void
ff_worker_request_stop(void)
{
	atomic_fetch_add(&g_stop_generation, 1);
}

typedef struct ffw ffw;

struct ff_job
{
	ff_claimed	claim;
	const char *lane_id;
	unsigned long serial;
	ffw		   *w;
	ff_client  *client;
	atomic_bool lease_lost;
	int64_t		next_renew;		/* monotonic ms; under w->mu */
	bool		deferred;		/* handed to the finisher (batched finishing) */
	int			refs;			/* deferred: handler + finisher; the last frees */
	int			finish_kind;	/* its call: CALL_COMPLETE or CALL_FAIL */
	const char *finish_message;
	const char *finish_class;
	int64_t		deferred_at;	/* monotonic ms */
	ff_job	   *fnext;			/* finish queue */

	/* set by the handler */
	ff_bytes	result;
	char	   *fail_message;
	char	   *fail_class;
	ff_bytes	fail_detail;
	char	   *cancel_reason;
	int64_t		delay_until_ms;
	bool		suspended;		/* ff_job_suspend suspended the execution */

	ff_job	   *qnext;			/* run queue */
	ff_job	   *aprev;			/* active list */
	ff_job	   *anext;
};

struct ffw
{
	/* configuration */
	const char *conninfo;
	const char *lane_id;
	const char *const *caps;
	size_t		n_caps;
	int			concurrency;
	ff_job_handler handler;
	void	   *user_data;
	const ff_worker_options *opts;
	char		worker_id[256];
	char		instance_id[512];
	int64_t		ttl_ms;
	int64_t		renew_every_ms;
	int			batch_size;
	int			idle_min_ms;
	int			idle_max_ms;
	const char *wake_channel;
	unsigned	stop_gen0;

	/* shared state, under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv_jobs;
	pthread_cond_t cv_slots;
	pthread_cond_t cv_renew;
	ff_job	   *q_head;
	ff_job	   *q_tail;
	ff_job	   *active;
	int			inflight;		/* claimed, not finished */
	int			running;
	bool		stopping;		/* no more claims; handlers drain the queue */
	bool		renewer_done;
	unsigned long serial;
	ff_worker_stats stats;

	/* the high-throughput path: claims ahead while busy, and a finisher
	 * thread that sends completions and failures in batches */
	int			prefetch;
	int			finish_batch;	/* 1: no finisher, one call per job */
	int			finish_delay_ms;
	pthread_cond_t cv_finish;
	ff_job	   *f_head;			/* finish queue, under mu */
	ff_job	   *f_tail;
	int			finishing;		/* jobs in the finish queue or being sent */
	bool		finisher_done;
};

/* ------------------------------------------------------------------------
 * logging
 * ------------------------------------------------------------------------ */
static void
wlog(ffw *w, ff_log_level level, const char *fmt,...)
	__attribute__((format(printf, 3, 4)));

static void
wlog(ffw *w, ff_log_level level, const char *fmt,...)
{
	char		buf[1024];
	va_list		ap;

	if (w->opts == NULL || w->opts->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	w->opts->log(w->opts->log_user_data, level, buf);
}

/* waits on cv (mu held) for at most ms milliseconds */
static void
cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long) (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L)
	{
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(cv, mu, &ts);
}

static const char *
errmsg_of(ff_client *c)
{
	const ff_error *e = ff_client_last_error(c);

	return e && e->message ? e->message : "unknown error";
}

/* ------------------------------------------------------------------------
 * job accessors (the handler's view)
 * ------------------------------------------------------------------------ */
const char *
ff_job_execution_id(const ff_job *job)
{
	return job ? job->claim.execution_id : NULL;
}

const char *
ff_job_lane_id(const ff_job *job)
{
	return job ? job->lane_id : NULL;
}

int32_t
ff_job_attempt_index(const ff_job *job)
{
	return job ? job->claim.attempt_index : -1;
}

int64_t
ff_job_lease_epoch(const ff_job *job)
{
	return job ? job->claim.lease_epoch : 0;
}

const ff_handle *
ff_job_handle(const ff_job *job)
{
	return job ? &job->claim.handle : NULL;
}

const unsigned char *
ff_job_input(const ff_job *job, size_t *len_out)
{
	if (len_out)
		*len_out = job ? job->claim.input_payload.len : 0;
	return job ? job->claim.input_payload.data : NULL;
}

ff_client *
ff_job_client(ff_job *job)
{
	return job ? job->client : NULL;
}

bool
ff_job_lease_lost(const ff_job *job)
{
	return job ? atomic_load(&((ff_job *) job)->lease_lost) : true;
}

static bool stop_requested(ffw *w);

bool
ff_job_stopping(const ff_job *job)
{
	return job ? stop_requested(job->w) : true;
}

static ff_status
copy_bytes(ff_bytes *dst, const void *data, size_t len)
{
	ff_bytes_clear(dst);
	if (data == NULL)
		return FF_OK;
	dst->data = malloc(len ? len : 1);
	if (dst->data == NULL)
		return FF_ERR_OUT_OF_MEMORY;
	memcpy(dst->data, data, len);
	dst->len = len;
	return FF_OK;
}

static ff_status
replace_string(char **dst, const char *src)
{
	char	   *d = NULL;

	if (src && (d = ffc_strdup(src)) == NULL)
		return FF_ERR_OUT_OF_MEMORY;
	free(*dst);
	*dst = d;
	return FF_OK;
}

ff_status
ff_job_set_result(ff_job *job, const void *data, size_t len)
{
	if (job == NULL)
		return FF_ERR_USAGE;
	return copy_bytes(&job->result, data, len);
}

ff_status
ff_job_set_failure(ff_job *job, const char *message, const char *classification,
				   const void *detail, size_t detail_len)
{
	if (job == NULL)
		return FF_ERR_USAGE;
	if (replace_string(&job->fail_message, message) != FF_OK ||
		replace_string(&job->fail_class, classification) != FF_OK ||
		copy_bytes(&job->fail_detail, detail, detail_len) != FF_OK)
		return FF_ERR_OUT_OF_MEMORY;
	return FF_OK;
}

ff_status
ff_job_set_cancel_reason(ff_job *job, const char *reason)
{
	if (job == NULL)
		return FF_ERR_USAGE;
	return replace_string(&job->cancel_reason, reason);
}

void
ff_job_set_delay(ff_job *job, int64_t delay_until_ms)
{
	if (job)
		job->delay_until_ms = delay_until_ms;
}

ff_status
ff_job_progress(ff_job *job, int32_t percent, const char *message)
{
	if (job == NULL || job->client == NULL)
		return FF_ERR_USAGE;
	return ff_client_progress(job->client, &job->claim.handle, percent, message);
}

ff_status
ff_job_suspend(ff_job *job, const ff_suspend_args *args, ff_suspend_result *out)
{
	ff_suspend_result r = {0};
	ff_status	s;

	if (out)
		memset(out, 0, sizeof(*out));
	if (job == NULL || job->client == NULL)
		return FF_ERR_USAGE;
	s = ff_client_suspend(job->client, &job->claim.handle, args, &r);
	if (s == FF_OK && r.outcome == FF_SUSPEND_SUSPENDED)
	{
		/* the lease was released with the suspension: stop renewing it */
		job->suspended = true;
		atomic_store(&job->lease_lost, true);
	}
	if (s == FF_OK && out)
		*out = r;
	else
		ff_suspend_result_clear(&r);
	return s;
}

static void
job_free(ff_job *job)
{
	ff_claimed_clear(&job->claim);
	ff_bytes_clear(&job->result);
	free(job->fail_message);
	free(job->fail_class);
	ff_bytes_clear(&job->fail_detail);
	free(job->cancel_reason);
	free(job);
}

/* ------------------------------------------------------------------------
 * stopping
 * ------------------------------------------------------------------------ */
static bool
stop_requested(ffw *w)
{
	if (atomic_load(&g_stop_generation) != w->stop_gen0)
		return true;
	if (w->opts && w->opts->stop_flag && *w->opts->stop_flag)
		return true;
	return false;
}

static struct sigaction old_sigint;
static struct sigaction old_sigterm;

static void
on_stop_signal(int signo)
{
	(void) signo;
	ff_worker_request_stop();
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;			/* no SA_RESTART: interrupt the idle wait */
	sigaction(SIGINT, &sa, &old_sigint);
	sigaction(SIGTERM, &sa, &old_sigterm);
}

static void
restore_signals(void)
{
	sigaction(SIGINT, &old_sigint, NULL);
	sigaction(SIGTERM, &old_sigterm, NULL);
}

/* ------------------------------------------------------------------------
 * connections
 * ------------------------------------------------------------------------ */
/* Connects, retrying with backoff until it works or *give_up turns true. */
static ff_client *
connect_with_retry(ffw *w, const char *who, const bool *give_up)
{
	int64_t		backoff = 100;

	for (;;)
	{
		ff_client  *c = NULL;
		ff_error	e = {0};

		if (ff_client_connect(w->conninfo, &c, &e) == FF_OK)
			return c;
		wlog(w, FF_LOG_WARNING, "%s: cannot connect: %s", who, e.message ? e.message : "?");
		ff_error_clear(&e);
		pthread_mutex_lock(&w->mu);
		if (*give_up)
		{
			pthread_mutex_unlock(&w->mu);
			return NULL;
		}
		pthread_mutex_unlock(&w->mu);
		ffc_sleep_ms(backoff);
		if (backoff < 2000)
			backoff *= 2;
	}
}

/* ------------------------------------------------------------------------
 * finishing a job
 * ------------------------------------------------------------------------ */
typedef enum
{
	CALL_COMPLETE, CALL_FAIL, CALL_CANCEL, CALL_DELAY, CALL_WAIT_CHILDREN
} call_kind;

static ff_status
finish_call(ff_client *c, ff_job *job, call_kind kind, const char *message,
			const char *classification, ff_fail_result *fr)
{
	const ff_handle *h = &job->claim.handle;

	switch (kind)
	{
		case CALL_COMPLETE:
			return ff_client_complete(c, h, job->result.data, job->result.len);
		case CALL_FAIL:
			return ff_client_fail(c, h, message, classification, job->fail_detail.data,
								  job->fail_detail.len, fr);
		case CALL_CANCEL:
			return ff_client_cancel(c, h, job->cancel_reason);
		case CALL_DELAY:
			return ff_client_delay(c, h, job->delay_until_ms);
		case CALL_WAIT_CHILDREN:
			return ff_client_wait_children(c, h, NULL);
	}
	return FF_ERR_USAGE;
}

/* Makes the call, retrying over lost connections (5 tries, backoff). */
static ff_status
finish_with_retry(ffw *w, ff_client *c, ff_job *job, call_kind kind, const char *message,
				  const char *classification, ff_fail_result *fr)
{
	int64_t		backoff = 100;
	ff_status	s = FF_ERR_CONNECTION;

	for (int attempt = 0; attempt < 5; attempt++)
	{
		s = finish_call(c, job, kind, message, classification, fr);
		if (s != FF_ERR_CONNECTION)
			return s;
		wlog(w, FF_LOG_WARNING, "%s: connection lost while finishing, retrying: %s",
			 job->claim.execution_id, errmsg_of(c));
		ffc_sleep_ms(backoff);
		backoff *= 2;
	}
	return s;
}

static void
count(ffw *w, unsigned long *field)
{
	pthread_mutex_lock(&w->mu);
	(*field)++;
	pthread_mutex_unlock(&w->mu);
}

/* ------------------------------------------------------------------------
 * batched finishing: handlers hand completions and failures to the
 * finisher thread, which sends them with ff_complete_many / ff_fail_many
 * when the batch is full, when the oldest has waited finish_delay_ms, or at
 * once when every claimed job is waiting to be finished
 * ------------------------------------------------------------------------ */

/* unlinks an ended job from the active list; under mu */
static void
unlink_job(ffw *w, ff_job *job)
{
	if (job->aprev)
		job->aprev->anext = job->anext;
	else
		w->active = job->anext;
	if (job->anext)
		job->anext->aprev = job->aprev;
	w->inflight--;
}

/* queues the job for the finisher (false: finish it now, unbatched) */
static bool
defer_finish(ffw *w, ff_job *job, call_kind kind, const char *message, const char *classification)
{
	if (w->finish_batch <= 1)
		return false;
	job->finish_kind = (int) kind;
	job->finish_message = message;
	job->finish_class = classification;
	pthread_mutex_lock(&w->mu);
	/* backpressure: a finisher that cannot keep up slows the handlers */
	while (w->finishing >= 4 * w->finish_batch && !w->finisher_done)
		pthread_cond_wait(&w->cv_slots, &w->mu);
	if (w->finisher_done)
	{
		pthread_mutex_unlock(&w->mu);
		return false;
	}
	job->deferred = true;
	job->refs = 2;
	job->deferred_at = ffc_monotonic_ms();
	job->fnext = NULL;
	if (w->f_tail)
		w->f_tail->fnext = job;
	else
		w->f_head = job;
	w->f_tail = job;
	w->finishing++;
	pthread_cond_signal(&w->cv_finish);
	pthread_mutex_unlock(&w->mu);
	return true;
}

/* stats and log line for a finished job (the finisher's side) */
static void
account(ffw *w, ff_job *job, call_kind kind, ff_status s, const ff_fail_result *fr, const char *errmsg)
{
	const char *id = job->claim.execution_id;

	if (s == FF_OK)
	{
		pthread_mutex_lock(&w->mu);
		if (kind == CALL_COMPLETE)
			w->stats.completed++;
		else
		{
			w->stats.failed++;
			if (fr->outcome == FF_FAIL_RETRY_SCHEDULED)
				w->stats.retries_scheduled++;
		}
		pthread_mutex_unlock(&w->mu);
		wlog(w, FF_LOG_INFO, "%s: attempt %d %s", id, (int) job->claim.attempt_index,
			 kind == CALL_COMPLETE ? "completed"
			 : fr->outcome == FF_FAIL_RETRY_SCHEDULED ? "failed, retry scheduled" : "failed");
	}
	else if (ff_status_is_lease_lost(s))
	{
		count(w, &w->stats.lease_lost);
		wlog(w, FF_LOG_WARNING, "%s: lease lost, result dropped: %s", id, errmsg ? errmsg : "?");
	}
	else
	{
		count(w, &w->stats.errors);
		wlog(w, FF_LOG_ERROR, "%s: could not finish the job: %s", id, errmsg ? errmsg : "?");
	}
}

/* a completion the engine refused as invalid (e.g. payload_too_large) fails instead */
static void
fail_refused_result(ffw *w, ff_client *c, ff_job *job, const char *why)
{
	char		buf[600];
	ff_fail_result fr = {0};
	ff_status	s;

	snprintf(buf, sizeof(buf), "could not complete: %s", why ? why : "refused");
	wlog(w, FF_LOG_WARNING, "%s: %s", job->claim.execution_id, buf);
	s = finish_with_retry(w, c, job, CALL_FAIL, buf, FF_CLASS_PERMANENT, &fr);
	account(w, job, CALL_FAIL, s, &fr, errmsg_of(c));
}

/* one call per job: when the batch call itself failed */
static void
finish_single(ffw *w, ff_client *c, ff_job *job)
{
	ff_fail_result fr = {0};
	call_kind	kind = (call_kind) job->finish_kind;
	ff_status	s = finish_with_retry(w, c, job, kind, job->finish_message, job->finish_class, &fr);

	if (kind == CALL_COMPLETE && ff_status_category(s) == 'V')
		fail_refused_result(w, c, job, errmsg_of(c));
	else
		account(w, job, kind, s, &fr, errmsg_of(c));
}

/* sends the jobs of one kind (complete or fail) in one batch call */
static void
send_batch(ffw *w, ff_client *c, ff_job **jobs, int n, call_kind kind)
{
	ff_complete_item *ci = NULL;
	ff_fail_item *fi = NULL;
	ff_batch_result_list r = {0};
	ff_status	s = FF_ERR_OUT_OF_MEMORY;
	int64_t		backoff = 100;

	if (n == 0)
		return;
	if (kind == CALL_COMPLETE)
		ci = ffc_calloc((size_t) n, sizeof(ff_complete_item));
	else
		fi = ffc_calloc((size_t) n, sizeof(ff_fail_item));
	for (int i = 0; i < n && (ci || fi); i++)
	{
		ff_job	   *j = jobs[i];

		if (ci)
		{
			ci[i].handle = &j->claim.handle;
			ci[i].payload = j->result.data;
			ci[i].payload_len = j->result.len;
		}
		else
		{
			fi[i].handle = &j->claim.handle;
			fi[i].message = j->finish_message;
			fi[i].classification = j->finish_class;
			fi[i].detail = j->fail_detail.data;
			fi[i].detail_len = j->fail_detail.len;
		}
	}
	/* the engine treats a repeated batch as replays: safe to send again */
	for (int attempt = 0; attempt < 5 && (ci || fi); attempt++)
	{
		s = ci ? ff_client_complete_many(c, ci, (size_t) n, &r)
			: ff_client_fail_many(c, fi, (size_t) n, &r);
		count(w, &w->stats.finish_calls);
		if (s != FF_ERR_CONNECTION)
			break;
		wlog(w, FF_LOG_WARNING, "connection lost while finishing %d job(s), retrying: %s", n, errmsg_of(c));
		ffc_sleep_ms(backoff);
		backoff *= 2;
	}
	if (s == FF_OK && r.count == (size_t) n)
	{
		for (int i = 0; i < n; i++)
		{
			ff_batch_result *it = &r.items[i];
			ff_fail_result fr = {it->fail_outcome, it->delay_until_ms};

			if (kind == CALL_COMPLETE && ff_status_category(it->status) == 'V')
				fail_refused_result(w, c, jobs[i], it->message);
			else
				account(w, jobs[i], kind, it->status, &fr, it->message);
		}
	}
	else
	{
		/* e.g. a server without the batch functions: one call per job */
		wlog(w, FF_LOG_WARNING, "batched finishing failed (%s); one call per job", errmsg_of(c));
		for (int i = 0; i < n; i++)
			finish_single(w, c, jobs[i]);
	}
	ff_batch_result_list_clear(&r);
	free(ci);
	free(fi);
}

static void *
finisher_thread(void *arg)
{
	ffw		   *w = arg;
	ff_client  *c = NULL;
	ff_job	  **batch = ffc_calloc((size_t) w->finish_batch, sizeof(ff_job *));
	ff_job	  **part = ffc_calloc((size_t) w->finish_batch, sizeof(ff_job *));
	int			queued = 0;

	pthread_mutex_lock(&w->mu);
	for (;;)
	{
		int			n = 0;

		while (w->f_head == NULL && !w->finisher_done)
			pthread_cond_wait(&w->cv_finish, &w->mu);
		if (w->f_head == NULL)
			break;
		for (ff_job *j = w->f_head; j; j = j->fnext)
			queued++;
		while (queued < w->finish_batch && queued < w->inflight && !w->finisher_done)
		{
			int64_t		left = w->f_head->deferred_at + w->finish_delay_ms - ffc_monotonic_ms();

			if (left <= 0)
				break;
			cond_wait_ms(&w->cv_finish, &w->mu, left);
			queued = 0;
			for (ff_job *j = w->f_head; j; j = j->fnext)
				queued++;
		}
		queued = 0;
		while (w->f_head && n < w->finish_batch)
		{
			batch[n++] = w->f_head;
			w->f_head = w->f_head->fnext;
		}
		if (w->f_head == NULL)
			w->f_tail = NULL;
		pthread_mutex_unlock(&w->mu);

		if (c == NULL)
			c = connect_with_retry(w, "finisher", &w->finisher_done);
		if (c == NULL || batch == NULL || part == NULL)
		{
			for (int i = 0; i < n; i++)
				count(w, &w->stats.errors);
			wlog(w, FF_LOG_ERROR, "finisher: no connection, %d job(s) left to their leases", n);
		}
		else
		{
			/* completions, then failures, each in input order */
			for (int k = 0; k < 2; k++)
			{
				call_kind	kind = k == 0 ? CALL_COMPLETE : CALL_FAIL;
				int			m = 0;

				for (int i = 0; i < n; i++)
					if (batch[i]->finish_kind == (int) kind)
						part[m++] = batch[i];
				send_batch(w, c, part, m, kind);
			}
		}

		pthread_mutex_lock(&w->mu);
		for (int i = 0; i < n; i++)
		{
			unlink_job(w, batch[i]);
			if (--batch[i]->refs > 0)
				batch[i] = NULL;	/* its handler thread frees it */
		}
		w->finishing -= n;
		pthread_cond_broadcast(&w->cv_slots);
		pthread_mutex_unlock(&w->mu);
		for (int i = 0; i < n; i++)
			if (batch[i])
				job_free(batch[i]);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	free(batch);
	free(part);
	ff_client_close(c);
	return NULL;
}

static void
finish_job(ffw *w, ff_client *c, ff_job *job, ff_job_outcome outcome)
{
	const char *id = job->claim.execution_id;
	ff_status	s;
	ff_fail_result fr = {0};
	call_kind	kind;
	const char *message = NULL;
	const char *classification = NULL;

	switch (outcome)
	{
		case FF_JOB_ABANDON:
			count(w, &w->stats.abandoned);
			wlog(w, FF_LOG_INFO, "%s: abandoned by the handler", id);
			return;
		case FF_JOB_SUSPENDED:
			if (job->suspended)
			{
				count(w, &w->stats.suspended);
				wlog(w, FF_LOG_INFO, "%s: attempt %d suspended", id, (int) job->claim.attempt_index);
				return;
			}
			/* no suspension was made: the lease is still ours, fail it */
			kind = CALL_FAIL;
			message = "handler returned FF_JOB_SUSPENDED without suspending (ff_job_suspend)";
			classification = job->fail_class;
			break;
		case FF_JOB_COMPLETE:
			kind = CALL_COMPLETE;
			break;
		case FF_JOB_CANCEL:
			kind = CALL_CANCEL;
			break;
		case FF_JOB_DELAY:
			kind = CALL_DELAY;
			break;
		case FF_JOB_WAIT_CHILDREN:
			kind = CALL_WAIT_CHILDREN;
			break;
		case FF_JOB_FAIL:
		default:
			kind = CALL_FAIL;
			message = job->fail_message && job->fail_message[0] ? job->fail_message
				: (outcome == FF_JOB_FAIL ? "handler failed"
				   : "handler returned an unknown outcome");
			classification = job->fail_class;
			break;
	}

	/* batched finishing: the finisher thread sends it with others */
	if ((kind == CALL_COMPLETE || kind == CALL_FAIL) &&
		defer_finish(w, job, kind, message, classification))
		return;

	s = finish_with_retry(w, c, job, kind, message, classification, &fr);

	/* a result the engine refuses (e.g. payload_too_large): fail instead */
	if (kind == CALL_COMPLETE && ff_status_category(s) == 'V')
	{
		char		buf[600];

		snprintf(buf, sizeof(buf), "could not complete: %s", errmsg_of(c));
		wlog(w, FF_LOG_WARNING, "%s: %s", id, buf);
		kind = CALL_FAIL;
		s = finish_with_retry(w, c, job, kind, buf, FF_CLASS_PERMANENT, &fr);
	}

	/* flows: waiting for children of an execution outside any flow (it keeps
	 * its lease): fail the attempt instead */
	if (kind == CALL_WAIT_CHILDREN && s == FF_ERR_EXECUTION_NOT_IN_FLOW)
	{
		char		buf[600];

		snprintf(buf, sizeof(buf), "could not wait for children: %s", errmsg_of(c));
		wlog(w, FF_LOG_WARNING, "%s: %s", id, buf);
		kind = CALL_FAIL;
		s = finish_with_retry(w, c, job, kind, buf, FF_CLASS_PERMANENT, &fr);
	}

	if (s == FF_OK)
	{
		pthread_mutex_lock(&w->mu);
		switch (kind)
		{
			case CALL_COMPLETE:
				w->stats.completed++;
				break;
			case CALL_FAIL:
				w->stats.failed++;
				if (fr.outcome == FF_FAIL_RETRY_SCHEDULED)
					w->stats.retries_scheduled++;
				break;
			case CALL_CANCEL:
				w->stats.cancelled++;
				break;
			case CALL_DELAY:
				w->stats.delayed++;
				break;
			case CALL_WAIT_CHILDREN:
				w->stats.waiting_children++;
				break;
		}
		pthread_mutex_unlock(&w->mu);
		wlog(w, FF_LOG_INFO, "%s: attempt %d %s", id, (int) job->claim.attempt_index,
			 kind == CALL_COMPLETE ? "completed"
			 : kind == CALL_CANCEL ? "cancelled"
			 : kind == CALL_DELAY ? "delayed"
			 : kind == CALL_WAIT_CHILDREN ? "waiting for children"
			 : fr.outcome == FF_FAIL_RETRY_SCHEDULED ? "failed, retry scheduled"
			 : "failed");
	}
	else if (ff_status_is_lease_lost(s))
	{
		count(w, &w->stats.lease_lost);
		wlog(w, FF_LOG_WARNING, "%s: lease lost, result dropped: %s", id, errmsg_of(c));
	}
	else
	{
		count(w, &w->stats.errors);
		wlog(w, FF_LOG_ERROR, "%s: could not finish the job: %s", id, errmsg_of(c));
	}
}

/* ------------------------------------------------------------------------
 * handler threads
 * ------------------------------------------------------------------------ */
static void *
handler_thread(void *arg)
{
	ffw		   *w = arg;
	ff_client  *c = NULL;

	for (;;)
	{
		ff_job	   *job;
		ff_job_outcome outcome;

		pthread_mutex_lock(&w->mu);
		while (w->q_head == NULL && !w->stopping)
			pthread_cond_wait(&w->cv_jobs, &w->mu);
		job = w->q_head;
		if (job == NULL)
		{
			pthread_mutex_unlock(&w->mu);
			break;
		}
		w->q_head = job->qnext;
		if (w->q_head == NULL)
			w->q_tail = NULL;
		w->running++;
		if ((unsigned long) w->running > w->stats.max_running)
			w->stats.max_running = (unsigned long) w->running;
		pthread_mutex_unlock(&w->mu);

		if (c == NULL)
			c = connect_with_retry(w, "handler", &w->stopping);
		if (c == NULL)
		{
			count(w, &w->stats.errors);
			wlog(w, FF_LOG_ERROR, "%s: no connection, job abandoned", job->claim.execution_id);
		}
		else
		{
			job->client = c;
			outcome = w->handler(job, w->user_data);
			finish_job(w, c, job, outcome);
		}

		pthread_mutex_lock(&w->mu);
		w->running--;
		if (job->deferred)
		{
			/* the finisher ends it once its batch is sent */
			bool		last = --job->refs == 0;

			pthread_cond_broadcast(&w->cv_slots);
			pthread_mutex_unlock(&w->mu);
			if (last)
				job_free(job);
			continue;
		}
		unlink_job(w, job);
		pthread_cond_broadcast(&w->cv_slots);
		pthread_mutex_unlock(&w->mu);
		job_free(job);
	}
	ff_client_close(c);
	return NULL;
}

/* ------------------------------------------------------------------------
 * renewer thread
 * ------------------------------------------------------------------------ */
#define RENEW_BATCH 1000

typedef struct
{
	unsigned long serial;
	ff_handle	handle;
	char	   *execution_id;
} renew_item;

static ff_job *
find_active(ffw *w, unsigned long serial)
{
	for (ff_job *j = w->active; j; j = j->anext)
		if (j->serial == serial)
			return j;
	return NULL;
}

/*
 * renew_batch renews items[0..n) with one ff_renew_many and applies each
 * result; false (nothing applied) if the call itself failed, e.g. on a
 * server without the batch functions.
 */
static bool
renew_batch(ffw *w, ff_client *c, renew_item *items, int n)
{
	const ff_handle **hs = ffc_calloc((size_t) n, sizeof(ff_handle *));
	ff_batch_result_list r = {0};
	ff_status	s;

	if (hs == NULL)
		return false;
	for (int i = 0; i < n; i++)
		hs[i] = &items[i].handle;
	s = ff_client_renew_many(c, hs, (size_t) n, &r);
	free(hs);
	count(w, &w->stats.renew_calls);
	if (s != FF_OK || r.count != (size_t) n)
	{
		ff_batch_result_list_clear(&r);
		if (s == FF_ERR_CONNECTION)
		{
			/* the leases are still ours until they expire: try again soon */
			pthread_mutex_lock(&w->mu);
			for (int i = 0; i < n; i++)
			{
				ff_job	   *j = find_active(w, items[i].serial);

				if (j)
					j->next_renew = ffc_monotonic_ms() + 200;
			}
			pthread_mutex_unlock(&w->mu);
			wlog(w, FF_LOG_WARNING, "renewal of %d lease(s) failed, retrying: %s", n, errmsg_of(c));
		}
		else
			return false;
	}
	else
	{
		pthread_mutex_lock(&w->mu);
		for (int i = 0; i < n; i++)
		{
			ff_status	si = r.items[i].status;
			ff_job	   *j = find_active(w, items[i].serial);

			if (si == FF_OK)
				w->stats.renewals++;
			else if (ff_status_is_lease_lost(si))
			{
				if (j)
					atomic_store(&j->lease_lost, true);
			}
			else
				w->stats.errors++;
		}
		pthread_mutex_unlock(&w->mu);
		for (int i = 0; i < n; i++)
			if (r.items[i].status != FF_OK)
				wlog(w, ff_status_is_lease_lost(r.items[i].status) ? FF_LOG_WARNING : FF_LOG_ERROR,
					 "%s: renewal failed: %s", items[i].execution_id,
					 r.items[i].message ? r.items[i].message : ff_status_name(r.items[i].status));
	}
	for (int i = 0; i < n; i++)
	{
		ff_handle_clear(&items[i].handle);
		free(items[i].execution_id);
	}
	ff_batch_result_list_clear(&r);
	return true;
}

static void *
renewer_thread(void *arg)
{
	ffw		   *w = arg;
	ff_client  *c = NULL;
	renew_item	items[RENEW_BATCH];

	pthread_mutex_lock(&w->mu);
	while (!w->renewer_done)
	{
		int64_t		now = ffc_monotonic_ms();
		int64_t		next = now + 1000;
		int			n = 0;

		for (ff_job *j = w->active; j; j = j->anext)
		{
			if (atomic_load(&j->lease_lost))
				continue;
			if (j->next_renew <= now && n < RENEW_BATCH)
			{
				items[n].serial = j->serial;
				items[n].execution_id = ffc_strdup(j->claim.execution_id);
				if (ff_handle_copy(&items[n].handle, &j->claim.handle) != FF_OK ||
					items[n].execution_id == NULL)
				{
					ff_handle_clear(&items[n].handle);
					free(items[n].execution_id);
					continue;
				}
				j->next_renew = now + w->renew_every_ms;
				n++;
			}
			if (j->next_renew < next)
				next = j->next_renew;
		}
		if (n == 0)
		{
			cond_wait_ms(&w->cv_renew, &w->mu, next - now);
			continue;
		}
		pthread_mutex_unlock(&w->mu);

		if (c == NULL)
			c = connect_with_retry(w, "renewer", &w->renewer_done);
		/* every due lease in one ff_renew_many; one call each if that fails */
		if (c && renew_batch(w, c, items, n))
			n = 0;
		for (int i = 0; i < n; i++)
		{
			ff_status	s = c ? ff_client_renew(c, &items[i].handle, NULL) : FF_ERR_CONNECTION;
			ff_job	   *j;

			pthread_mutex_lock(&w->mu);
			j = find_active(w, items[i].serial);
			if (s == FF_OK)
				w->stats.renewals++;
			else if (ff_status_is_lease_lost(s))
			{
				if (j)
					atomic_store(&j->lease_lost, true);
			}
			else if (s == FF_ERR_CONNECTION && j)
				j->next_renew = ffc_monotonic_ms() + 200;	/* try again soon */
			else if (s != FF_ERR_CONNECTION)
				w->stats.errors++;
			pthread_mutex_unlock(&w->mu);
			if (s != FF_OK && c)
				wlog(w, ff_status_is_lease_lost(s) ? FF_LOG_WARNING : FF_LOG_ERROR,
					 "%s: renewal failed: %s", items[i].execution_id, errmsg_of(c));
			ff_handle_clear(&items[i].handle);
			free(items[i].execution_id);
		}
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	ff_client_close(c);
	return NULL;
}

/* ------------------------------------------------------------------------
 * the claimer (calling thread)
 * ------------------------------------------------------------------------ */

/* Waits up to ms for a notification on the claimer's connection.
 * Returns true if woken by one. */
static bool
idle_wait(ffw *w, ff_client *c, int ms)
{
	int			fd = ff_client_socket(c);
	bool		woken = false;

	if (w->wake_channel[0] == '\0' || fd < 0)
	{
		/* sleep in slices so a stop request is noticed */
		int64_t		end = ffc_monotonic_ms() + ms;

		while (!stop_requested(w) && ffc_monotonic_ms() < end)
			ffc_sleep_ms(end - ffc_monotonic_ms() < 50 ? end - ffc_monotonic_ms() : 50);
		return false;
	}
	if (ffc_consume_notifications(c) > 0)
		return true;
	{
		struct pollfd pfd = {.fd = fd,.events = POLLIN};

		if (poll(&pfd, 1, ms) > 0)
			woken = ffc_consume_notifications(c) > 0;
	}
	return woken;
}

static void
run_reconcilers(ffw *w, ff_client *c)
{
	int32_t		n;

	if (ff_client_reconcile_execution_deadline(c, 0, &n) != FF_OK ||
		ff_client_reconcile_attempt_timeout(c, 0, &n) != FF_OK ||
		ff_client_reconcile_lease_expiry(c, 0, &n) != FF_OK ||
		ff_client_reconcile_delayed_promotion(c, 0, &n) != FF_OK)
		wlog(w, FF_LOG_WARNING, "reconcilers: %s", errmsg_of(c));
}

/*
 * How many jobs a claim may take now: a handler slot each, plus the local
 * queue while busy. Jobs handed to the finisher no longer hold a slot, so
 * the next claim overlaps their completion call (the finisher's own
 * backpressure bounds how many wait for it); under mu.
 */
static int
claim_room(const ffw *w, bool busy)
{
	return w->concurrency + (busy ? w->prefetch : 0) - (w->inflight - w->finishing);
}

/* Returns FF_OK, or the error of a claim that cannot succeed by retrying
 * (bad lane or capabilities, extension missing). */
static ff_status
claimer_loop(ffw *w, ff_client *c)
{
	const ff_worker_options *o = w->opts;
	int			backoff = w->idle_min_ms;
	int64_t		next_reconcile = 0;
	bool		busy = false;
	int			min_batch = w->batch_size / 2 > 1 ? w->batch_size / 2 : 1;
	unsigned long max_jobs = o ? o->max_jobs : 0;

	while (!stop_requested(w))
	{
		int			free_slots;
		int			want;
		ff_claim_args a = {0};
		ff_claim_list l = {0};
		ff_status	s;

		if (o && o->reconcile_interval_ms > 0 && ffc_monotonic_ms() >= next_reconcile)
		{
			run_reconcilers(w, c);
			next_reconcile = ffc_monotonic_ms() + o->reconcile_interval_ms;
		}

		pthread_mutex_lock(&w->mu);
		if (max_jobs > 0 && w->stats.claimed >= max_jobs)
		{
			pthread_mutex_unlock(&w->mu);
			break;
		}
		free_slots = claim_room(w, busy);

		/*
		 * Busy (the last claim found work and jobs are running): wait a
		 * little for more slots so claims come in batches instead of one
		 * round trip per finished job.
		 */
		if (busy && free_slots > 0 && free_slots < min_batch && w->inflight > 0)
		{
			cond_wait_ms(&w->cv_slots, &w->mu, 20);
			free_slots = claim_room(w, busy);
		}
		if (free_slots <= 0)
		{
			cond_wait_ms(&w->cv_slots, &w->mu, 100);
			pthread_mutex_unlock(&w->mu);
			continue;
		}
		want = free_slots < w->batch_size ? free_slots : w->batch_size;
		if (max_jobs > 0 && (unsigned long) want > max_jobs - w->stats.claimed)
			want = (int) (max_jobs - w->stats.claimed);
		w->stats.claim_calls++;
		pthread_mutex_unlock(&w->mu);

		a.lane_id = w->lane_id;
		a.worker_id = w->worker_id;
		a.worker_instance_id = w->instance_id;
		a.capabilities = w->caps;
		a.n_capabilities = w->n_caps;
		a.lease_ttl_ms = w->ttl_ms;
		a.max_claims = want;
		s = ff_client_claim(c, &a, &l);
		if (s != FF_OK)
		{
			count(w, &w->stats.errors);
			wlog(w, FF_LOG_ERROR, "claim failed: %s", errmsg_of(c));
			if (!ff_status_is_retryable(s) && s != FF_ERR_TIMEOUT)
				return s;
			idle_wait(w, c, w->idle_max_ms);
			continue;
		}

		if (l.count > 0)
		{
			int64_t		now = ffc_monotonic_ms();

			pthread_mutex_lock(&w->mu);
			for (size_t i = 0; i < l.count; i++)
			{
				ff_job	   *job = ffc_calloc(1, sizeof(ff_job));

				if (job == NULL)
				{
					/* cannot track it: its lease expires and it is reclaimed */
					w->stats.errors++;
					continue;
				}
				job->claim = l.items[i];
				memset(&l.items[i], 0, sizeof(l.items[i]));
				job->lane_id = w->lane_id;
				job->w = w;
				job->serial = ++w->serial;
				atomic_init(&job->lease_lost, false);
				job->next_renew = now + w->renew_every_ms;
				job->anext = w->active;
				if (w->active)
					w->active->aprev = job;
				w->active = job;
				if (w->q_tail)
					w->q_tail->qnext = job;
				else
					w->q_head = job;
				w->q_tail = job;
				w->inflight++;
				w->stats.claimed++;
			}
			pthread_cond_broadcast(&w->cv_jobs);
			pthread_cond_signal(&w->cv_renew);
			pthread_mutex_unlock(&w->mu);
			busy = (int) l.count == want;
			ff_claim_list_clear(&l);
			backoff = w->idle_min_ms;
			continue;			/* claim again at once */
		}

		ff_claim_list_clear(&l);
		busy = false;
		pthread_mutex_lock(&w->mu);
		w->stats.empty_claims++;
		if (o && o->exit_when_idle && w->inflight == 0)
		{
			pthread_mutex_unlock(&w->mu);
			break;
		}
		pthread_mutex_unlock(&w->mu);

		if (idle_wait(w, c, backoff))
		{
			count(w, &w->stats.wakeups);
			backoff = w->idle_min_ms;
			/* keep at least the minimum spacing between idle claims */
			ffc_sleep_ms(w->idle_min_ms);
		}
		else if (backoff < w->idle_max_ms)
			backoff = backoff * 2 > w->idle_max_ms ? w->idle_max_ms : backoff * 2;
	}
	return FF_OK;
}

/* ------------------------------------------------------------------------
 * ff_worker_run
 * ------------------------------------------------------------------------ */
static ff_status
fail_start(ff_error *err, ff_status kind, const char *msg)
{
	if (err)
		ffc_error_set(err, kind, NULL, msg, NULL, NULL);
	return kind;
}

ff_status
ff_worker_run(const char *conninfo, const char *lane_id, const char *const *capabilities,
			  size_t n_capabilities, int concurrency, ff_job_handler handler,
			  void *user_data, const ff_worker_options *opts, ff_error *err)
{
	ffw			w;
	ff_client  *claimer = NULL;
	pthread_t  *threads = NULL;
	pthread_t	renewer;
	bool		renewer_started = false;
	pthread_t	finisher;
	bool		finisher_started = false;
	int			started = 0;
	ff_status	s;
	sigset_t	block;
	sigset_t	saved;
	unsigned	run_no;

	if (err)
		memset(err, 0, sizeof(*err));
	if (lane_id == NULL || handler == NULL || concurrency < 1 || concurrency > 1000 ||
		(n_capabilities > 0 && capabilities == NULL))
		return fail_start(err, FF_ERR_USAGE,
						  "ff_worker_run: lane_id and handler are required, concurrency 1..1000");

	memset(&w, 0, sizeof(w));
	w.conninfo = conninfo;
	w.lane_id = lane_id;
	w.caps = capabilities;
	w.n_caps = n_capabilities;
	w.concurrency = concurrency;
	w.handler = handler;
	w.user_data = user_data;
	w.opts = opts;
	w.stop_gen0 = atomic_load(&g_stop_generation);
	w.ttl_ms = opts && opts->lease_ttl_ms > 0 ? opts->lease_ttl_ms : 30000;
	w.renew_every_ms = w.ttl_ms / 3 > 0 ? w.ttl_ms / 3 : 1;
	w.batch_size = opts && opts->batch_size > 0 ? opts->batch_size : concurrency;
	if (w.batch_size > 1000)
		w.batch_size = 1000;
	w.prefetch = opts && opts->prefetch != 0 ? opts->prefetch : w.batch_size - 1;
	if (w.prefetch < 0)
		w.prefetch = 0;
	w.finish_batch = opts && opts->finish_batch_size > 0 ? opts->finish_batch_size : 64;
	if (w.finish_batch > 1000)
		w.finish_batch = 1000;
	w.finish_delay_ms = opts && opts->finish_delay_ms > 0 ? opts->finish_delay_ms : 5;
	w.idle_min_ms = opts && opts->idle_backoff_min_ms > 0 ? opts->idle_backoff_min_ms : 10;
	w.idle_max_ms = opts && opts->idle_backoff_max_ms > 0 ? opts->idle_backoff_max_ms : 500;
	if (w.idle_max_ms < w.idle_min_ms)
		w.idle_max_ms = w.idle_min_ms;
	w.wake_channel = opts && opts->wake_channel ? opts->wake_channel : "ff_lease_event";
	snprintf(w.worker_id, sizeof(w.worker_id), "%s",
			 opts && opts->worker_id ? opts->worker_id : "ff-worker");
	run_no = atomic_fetch_add(&g_run_counter, 1) + 1;
	if (opts && opts->worker_instance_id)
		snprintf(w.instance_id, sizeof(w.instance_id), "%s", opts->worker_instance_id);
	else
	{
		char		host[256] = "localhost";

		gethostname(host, sizeof(host) - 1);
		host[sizeof(host) - 1] = '\0';
		if (run_no > 1)
			snprintf(w.instance_id, sizeof(w.instance_id), "%s/%ld/%u", host,
					 (long) getpid(), run_no);
		else
			snprintf(w.instance_id, sizeof(w.instance_id), "%s/%ld", host, (long) getpid());
	}

	s = ff_client_connect(conninfo, &claimer, err);
	if (s != FF_OK)
		return s;
	if (w.wake_channel[0] && ffc_listen(claimer, w.wake_channel) != FF_OK)
	{
		if (err)
			ff_error_copy(err, ff_client_last_error(claimer));
		s = claimer->err.kind;
		ff_client_close(claimer);
		return s;
	}

	threads = ffc_calloc((size_t) concurrency, sizeof(pthread_t));
	if (threads == NULL)
	{
		ff_client_close(claimer);
		return fail_start(err, FF_ERR_OUT_OF_MEMORY, "out of memory");
	}
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv_jobs, NULL);
	pthread_cond_init(&w.cv_slots, NULL);
	pthread_cond_init(&w.cv_renew, NULL);
	pthread_cond_init(&w.cv_finish, NULL);

	/* our threads never take SIGINT / SIGTERM: the claimer's waits do */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &saved);
	if (w.finish_batch > 1)
	{
		if (pthread_create(&finisher, NULL, finisher_thread, &w) == 0)
			finisher_started = true;
		else
			w.finish_batch = 1;	/* finish each job on its handler thread */
	}
	for (int i = 0; i < concurrency; i++)
	{
		if (pthread_create(&threads[i], NULL, handler_thread, &w) != 0)
			break;
		started++;
	}
	if (started > 0 && pthread_create(&renewer, NULL, renewer_thread, &w) == 0)
		renewer_started = true;
	pthread_sigmask(SIG_SETMASK, &saved, NULL);

	if (started < concurrency || !renewer_started)
	{
		s = fail_start(err, FF_ERR_OUT_OF_MEMORY, "could not start the worker threads");
		pthread_mutex_lock(&w.mu);
		w.stopping = true;
		w.renewer_done = true;
		pthread_cond_broadcast(&w.cv_jobs);
		pthread_cond_broadcast(&w.cv_renew);
		pthread_mutex_unlock(&w.mu);
	}
	else
	{
		if (opts && opts->handle_signals)
			install_signals();
		wlog(&w, FF_LOG_INFO, "worker %s (%s) on lane %s, concurrency %d", w.worker_id,
			 w.instance_id, lane_id, concurrency);
		s = claimer_loop(&w, claimer);
		if (s != FF_OK)
		{
			wlog(&w, FF_LOG_ERROR, "stopping: claims cannot succeed: %s", errmsg_of(claimer));
			if (err)
				ff_error_copy(err, ff_client_last_error(claimer));
		}
		wlog(&w, FF_LOG_INFO, "stopping: finishing %d claimed job(s)", w.inflight);
		pthread_mutex_lock(&w.mu);
		w.stopping = true;
		pthread_cond_broadcast(&w.cv_jobs);
		pthread_mutex_unlock(&w.mu);
	}

	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	/* the finisher sends what the handlers left it, then stops */
	pthread_mutex_lock(&w.mu);
	w.finisher_done = true;
	pthread_cond_broadcast(&w.cv_finish);
	pthread_cond_broadcast(&w.cv_slots);
	pthread_mutex_unlock(&w.mu);
	if (finisher_started)
		pthread_join(finisher, NULL);
	pthread_mutex_lock(&w.mu);
	w.renewer_done = true;
	pthread_cond_broadcast(&w.cv_renew);
	pthread_mutex_unlock(&w.mu);
	if (renewer_started)
		pthread_join(renewer, NULL);
	if (opts && opts->handle_signals && started == concurrency && renewer_started)
		restore_signals();

	/* jobs that never ran (threads failed to start): their leases expire */
	while (w.q_head)
	{
		ff_job	   *j = w.q_head;

		w.q_head = j->qnext;
		job_free(j);
	}
	if (opts && opts->stats)
		*opts->stats = w.stats;
	pthread_cond_destroy(&w.cv_jobs);
	pthread_cond_destroy(&w.cv_slots);
	pthread_cond_destroy(&w.cv_renew);
	pthread_cond_destroy(&w.cv_finish);
	pthread_mutex_destroy(&w.mu);
	free(threads);
	ff_client_close(claimer);
	wlog(&w, FF_LOG_INFO, "worker stopped: %lu claimed, %lu completed, %lu failed, %lu lease(s) lost",
		 w.stats.claimed, w.stats.completed, w.stats.failed, w.stats.lease_lost);
	return s;
}

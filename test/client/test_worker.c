/*
 * test_worker.c - the worker runtime end to end: N jobs with concurrency 8
 * complete exactly once; a handler failure schedules a retry; a killed
 * worker's lease expires and another worker finishes the job; a stale lease
 * ends that job, not the worker; background renewal; clean shutdown on
 * SIGTERM and on request; handler outcomes; start-up errors.
 *
 * FF_TEST_QUICK=1 (used under valgrind) runs fewer jobs.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"

static ff_client *c;
static bool quick;

static void
create_n(const char *lane, int n, const char *policy)
{
	for (int i = 0; i < n; i++)
	{
		ff_create_args a = {0};
		ff_create_result r = {0};
		char		payload[32];

		snprintf(payload, sizeof(payload), "%d", i);
		a.lane_id = lane;
		a.input_payload = payload;
		a.input_payload_len = strlen(payload);
		a.policy_json = policy;
		if (ff_client_create_execution(c, &a, &r) != FF_OK)
			printf("# create failed: %s\n", ff_client_last_error(c)->message);
		ff_create_result_clear(&r);
	}
}

static void
quiet_log(void *u, ff_log_level level, const char *msg)
{
	(void) u;
	if (level >= FF_LOG_WARNING && getenv("FF_TEST_VERBOSE"))
		printf("# worker: %s\n", msg);
}

/* a worker that stops once nothing is claimable, counting into *st */
static void
draining(ff_worker_options *o, ff_worker_stats *st)
{
	o->exit_when_idle = true;
	o->stats = st;
	o->log = quiet_log;
}

/* ------------------------------------------------------------------------
 * N jobs, concurrency 8, each exactly once
 * ------------------------------------------------------------------------ */
#define MAX_JOBS 400

typedef struct
{
	atomic_int	calls[MAX_JOBS];
	atomic_int	running;
	atomic_int	max_running;
} many_ctx;

static ff_job_outcome
many_handler(ff_job *job, void *user)
{
	many_ctx   *x = user;
	size_t		len;
	const unsigned char *in = ff_job_input(job, &len);
	char		buf[32];
	char		out[48];
	int			i;
	int			r;
	int			m;

	snprintf(buf, sizeof(buf), "%.*s", (int) len, (const char *) in);
	i = atoi(buf);
	if (i >= 0 && i < MAX_JOBS)
		atomic_fetch_add(&x->calls[i], 1);
	r = atomic_fetch_add(&x->running, 1) + 1;
	while ((m = atomic_load(&x->max_running)) < r && !atomic_compare_exchange_weak(&x->max_running, &m, r))
		;
	sleep_ms(10);
	atomic_fetch_sub(&x->running, 1);
	snprintf(out, sizeof(out), "done-%s", buf);
	ff_job_set_result(job, out, strlen(out));
	return FF_JOB_COMPLETE;
}

static void
test_many(void)
{
	const char *lane = unique_lane("many");
	int			n = quick ? 40 : 200;
	many_ctx   *x = calloc(1, sizeof(many_ctx));
	ff_worker_options o = {0};
	ff_worker_stats st = {0};
	ff_error	err = {0};
	int			once = 0;
	long long	t0;

	create_n(lane, n, NULL);
	draining(&o, &st);
	o.worker_id = "many";
	t0 = mono_ms();
	is_status(ff_worker_run(test_conninfo(), lane, NULL, 0, 8, many_handler, x, &o, &err), FF_OK, NULL,
			  "worker with concurrency 8 runs %d jobs and stops when idle", n);
	printf("# %d jobs in %lld ms, %lu claim calls, max %lu running\n", n, mono_ms() - t0,
		   st.claim_calls, st.max_running);
	for (int i = 0; i < n; i++)
		if (atomic_load(&x->calls[i]) == 1)
			once++;
	is_int(once, n, "every job's handler ran exactly once");
	ok(st.claimed == (unsigned long) n && st.completed == (unsigned long) n && st.failed == 0 &&
	   st.lease_lost == 0 && st.errors == 0, "stats: %lu claimed, %lu completed", st.claimed, st.completed);
	ok(atomic_load(&x->max_running) <= 8 && atomic_load(&x->max_running) >= 4,
	   "concurrency used and bounded: max %d handlers at once", atomic_load(&x->max_running));
	ok(st.claim_calls < (unsigned long) n, "claims in batches (%lu calls for %d jobs)", st.claim_calls, n);
	is_int(admin_int("SELECT count(*) FROM ff_execution WHERE lane_id = '%s' AND public_state = 'completed' "
					 "AND total_attempt_count = 1 AND convert_from(result, 'UTF8') = "
					 "'done-' || convert_from(input_payload, 'UTF8')", lane),
		   n, "all completed, one attempt each, with the handler's result");
	is_int(admin_int("SELECT count(DISTINCT ce.execution_id) FROM ff_completion_event ce JOIN ff_execution e "
					 "USING (partition_key, execution_id) WHERE e.lane_id = '%s'", lane),
		   n, "one completion per execution");
	is_int(admin_int("SELECT count(*) FROM ff_completion_event ce JOIN ff_execution e "
					 "USING (partition_key, execution_id) WHERE e.lane_id = '%s'", lane),
		   n, "and no second one");
	ff_error_clear(&err);
	free(x);
}

/* ------------------------------------------------------------------------
 * a job handed to the finisher frees its handler slot: with one handler and
 * no prefetch, the second job is claimed and run while the first one's
 * completion still waits (here on a row lock the test holds)
 * ------------------------------------------------------------------------ */
typedef struct
{
	atomic_int	started;		/* handlers started */
	atomic_bool released;		/* the test let the first completion through */
	atomic_bool second_before_release;
	pthread_t	releaser;
	bool		releaser_started;
} overlap_ctx;

/* commits the admin session's lock once the second job runs (at most 3 s) */
static void *
release_lock_later(void *arg)
{
	overlap_ctx *x = arg;

	for (int waited = 0; waited < 3000 && atomic_load(&x->started) < 2; waited += 10)
		sleep_ms(10);
	atomic_store(&x->released, true);
	admin_exec("COMMIT");
	return NULL;
}

static ff_job_outcome
overlap_handler(ff_job *job, void *user)
{
	overlap_ctx *x = user;
	int			n = atomic_fetch_add(&x->started, 1) + 1;

	if (n == 1)
	{
		/* hold the execution row: ff_complete_many waits for it */
		admin_exec("BEGIN");
		admin_exec("SELECT 1 FROM ff_execution e, ff_split_execution_id('%s') s "
				   "WHERE e.partition_key = s.partition_key AND e.execution_id = s.execution_uuid "
				   "FOR UPDATE OF e", ff_job_execution_id(job));
		x->releaser_started = pthread_create(&x->releaser, NULL, release_lock_later, x) == 0;
	}
	else if (n == 2)
		atomic_store(&x->second_before_release, !atomic_load(&x->released));
	return FF_JOB_COMPLETE;
}

static void
test_finishing_frees_slot(void)
{
	const char *lane = unique_lane("overlap");
	overlap_ctx x = {0};
	ff_worker_options o = {0};
	ff_worker_stats st = {0};

	create_n(lane, 2, NULL);
	draining(&o, &st);
	o.worker_id = "overlap";
	o.batch_size = 1;
	o.prefetch = -1;
	is_status(ff_worker_run(test_conninfo(), lane, NULL, 0, 1, overlap_handler, &x, &o, NULL), FF_OK, NULL,
			  "worker with one handler and no prefetch runs 2 jobs");
	if (x.releaser_started)
		pthread_join(x.releaser, NULL);
	ok(atomic_load(&x.second_before_release),
	   "the second job ran while the first one's completion was still waiting");
	ok(st.completed == 2 && st.lease_lost == 0 && st.errors == 0, "both completed (%lu)", st.completed);
	is_int(admin_int("SELECT count(*) FROM ff_execution WHERE lane_id = '%s' AND public_state = 'completed'", lane),
		   2, "both executions completed");
}

/* ------------------------------------------------------------------------
 * a failure schedules a retry
 * ------------------------------------------------------------------------ */
static ff_job_outcome
fail_first_handler(ff_job *job, void *user)
{
	atomic_int *attempts_seen = user;

	atomic_fetch_add(attempts_seen, 1);
	if (ff_job_attempt_index(job) == 0)
	{
		ff_job_set_failure(job, "first attempt fails", FF_CLASS_TRANSIENT, "trace", 5);
		return FF_JOB_FAIL;
	}
	ff_job_set_result(job, "second time lucky", 17);
	return FF_JOB_COMPLETE;
}

static void
test_retry(void)
{
	const char *lane = unique_lane("retry");
	ff_worker_options o = {0};
	ff_worker_stats st = {0};
	atomic_int	seen = 0;

	create_n(lane, 3, "{\"retry_policy\": {\"max_retries\": 2, \"backoff\": {\"type\": \"fixed\", \"delay_ms\": 0}}}");
	draining(&o, &st);
	is_status(ff_worker_run(test_conninfo(), lane, NULL, 0, 4, fail_first_handler, &seen, &o, NULL), FF_OK, NULL,
			  "worker on a lane whose first attempts fail");
	is_int(atomic_load(&seen), 6, "six handler calls (3 jobs x 2 attempts)");
	ok(st.failed == 3 && st.retries_scheduled == 3 && st.completed == 3,
	   "3 failures with retry scheduled, then 3 completions");
	is_int(admin_int("SELECT count(*) FROM ff_execution WHERE lane_id = '%s' AND public_state = 'completed' "
					 "AND total_attempt_count = 2", lane), 3, "completed on the second attempt");
	is_int(admin_int("SELECT count(*) FROM ff_lease_event le JOIN ff_execution e USING (partition_key, execution_id) "
					 "WHERE e.lane_id = '%s' AND le.event_type = 'released' AND le.reason = 'failed_retry_scheduled'", lane),
		   3, "the failures released the leases with failed_retry_scheduled");
	is_int(admin_int("SELECT count(*) FROM ff_attempt a JOIN ff_execution e USING (partition_key, execution_id) "
					 "WHERE e.lane_id = '%s' AND a.attempt_index = 0 AND a.failure_message = 'first attempt fails'", lane),
		   3, "the handler's failure message is recorded");

	/* a retry with a backoff needs promotion: the worker's own reconcilers */
	lane = unique_lane("retry-backoff");
	create_n(lane, 1, "{\"retry_policy\": {\"max_retries\": 1, \"backoff\": {\"type\": \"fixed\", \"delay_ms\": 300}}}");
	memset(&st, 0, sizeof(st));
	atomic_store(&seen, 0);
	o.exit_when_idle = false;
	o.max_jobs = 2;
	o.reconcile_interval_ms = 100;
	is_status(ff_worker_run(test_conninfo(), lane, NULL, 0, 2, fail_first_handler, &seen, &o, NULL), FF_OK, NULL,
			  "worker running the reconcilers every 100 ms, stopping after 2 jobs");
	ok(st.retries_scheduled == 1 && st.completed == 1, "the retry after a 300 ms backoff ran and completed");
	is_int(admin_int("SELECT count(*) FROM ff_execution WHERE lane_id = '%s' AND public_state = 'completed'", lane),
		   1, "completed");
}

/* ------------------------------------------------------------------------
 * a killed worker's lease expires; another worker finishes the job
 * ------------------------------------------------------------------------ */
static int	started_pipe[2];

static ff_job_outcome
hang_handler(ff_job *job, void *user)
{
	(void) job;
	(void) user;
	if (write(started_pipe[1], "s", 1) != 1)
		return FF_JOB_ABANDON;
	sleep(60);
	return FF_JOB_COMPLETE;
}

static ff_job_outcome
record_attempt_handler(ff_job *job, void *user)
{
	*(int *) user = ff_job_attempt_index(job);
	return FF_JOB_COMPLETE;
}

static bool
wait_started(int timeout_ms)
{
	long long	end = mono_ms() + timeout_ms;
	char		ch;

	fcntl(started_pipe[0], F_SETFL, O_NONBLOCK);

	while (mono_ms() < end)
	{
		struct timespec ts = {0, 20000000};
		ssize_t		r = read(started_pipe[0], &ch, 1);

		if (r == 1)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

static void
test_killed_worker(void)
{
	const char *lane = unique_lane("killed");
	pid_t		child;
	int			status;
	int			attempt = -1;
	ff_worker_options o = {0};
	ff_worker_stats st = {0};
	char	   *holder;

	create_n(lane, 1, NULL);
	if (pipe(started_pipe) != 0)
		return;
	fflush(stdout);
	child = fork();
	if (child == 0)
	{
		ff_worker_options co = {0};

		close(started_pipe[0]);
		co.worker_instance_id = "doomed/1";
		ff_worker_run(test_conninfo(), lane, NULL, 0, 1, hang_handler, NULL, &co, NULL);
		_exit(0);
	}
	close(started_pipe[1]);
	ok(wait_started(10000), "the first worker (a child process) started the job");
	holder = admin_str("SELECT worker_instance_id FROM ff_describe_execution("
					   "(SELECT ff_format_execution_id(partition_key, execution_id) FROM ff_execution WHERE lane_id = '%s'))",
					   lane);
	is_str(holder, "doomed/1", "it holds the lease");
	free(holder);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	ok(WIFSIGNALED(status), "the first worker was killed (SIGKILL)");
	close(started_pipe[0]);

	/* its 30 s lease runs out: move the clock instead of sleeping */
	admin_exec("BEGIN");
	admin_exec("SET LOCAL flowfabric.clock_offset_ms = '60s'");
	ok(admin_int("SELECT ff_reconcile_lease_expiry()") >= 1, "with the clock 60 s ahead, the lease-expiry reconciler runs");
	admin_exec("COMMIT");
	is_int(admin_int("SELECT count(*) FROM ff_execution WHERE lane_id = '%s' "
					 "AND ownership_state = 'lease_expired_reclaimable'", lane),
		   1, "the dead worker's lease is marked expired");

	draining(&o, &st);
	o.worker_instance_id = "rescuer/1";
	is_status(ff_worker_run(test_conninfo(), lane, NULL, 0, 2, record_attempt_handler, &attempt, &o, NULL), FF_OK,
			  NULL, "a second worker runs");
	ok(st.completed == 1 && attempt == 1, "it reclaimed the execution (attempt 1) and completed it");
	is_int(admin_int("SELECT count(*) FROM ff_execution WHERE lane_id = '%s' AND public_state = 'completed' "
					 "AND reclaim_count = 1", lane), 1, "completed after one reclaim");
	{
		char	   *seq = admin_str("SELECT string_agg(le.event_type || coalesce('/' || le.reason, ''), ' ' ORDER BY le.event_id) "
									"FROM ff_lease_event le JOIN ff_execution e USING (partition_key, execution_id) "
									"WHERE e.lane_id = '%s'", lane);

		is_str(seq, "acquired expired/lease_expired reclaimed released/completed", "lease history");
		free(seq);
	}
}

/* ------------------------------------------------------------------------
 * a stale lease ends that job, not the worker; renewal notices lost leases
 * ------------------------------------------------------------------------ */
typedef struct
{
	const char *lane;
	bool		saw_lost_flag;
	int			calls;
} steal_ctx;

static void
steal(const char *lane)
{
	/* expire every short lease (clock 60 s ahead), then another worker
	 * reclaims the highest-priority one - the job running now - for an hour */
	admin_exec("BEGIN");
	admin_exec("SET LOCAL flowfabric.clock_offset_ms = '60s'");
	admin_exec("SELECT ff_reconcile_lease_expiry()");
	admin_exec("COMMIT");
	admin_exec("SELECT count(*) FROM ff_claim('%s', 'thief', 'thief/1', lease_ttl_ms => 3600000)", lane);
}

static ff_job_outcome
steal_handler(ff_job *job, void *user)
{
	steal_ctx  *x = user;
	size_t		len;
	const unsigned char *in = ff_job_input(job, &len);

	x->calls++;
	if (len == 5 && memcmp(in, "steal", 5) == 0)
	{
		steal(x->lane);
		return FF_JOB_COMPLETE; /* too late: stale_lease */
	}
	if (len == 4 && memcmp(in, "wait", 4) == 0)
	{
		long long	end = mono_ms() + 5000;

		steal(x->lane);
		while (!ff_job_lease_lost(job) && mono_ms() < end)
			sleep_ms(20);
		x->saw_lost_flag = ff_job_lease_lost(job);
		return FF_JOB_ABANDON;
	}
	if (ff_job_progress(job, 50, "half way") != FF_OK)
		return FF_JOB_FAIL;
	sleep_ms(400);				/* long enough for a renewal */
	return FF_JOB_COMPLETE;
}

static void
test_stale_lease(void)
{
	const char *lane = unique_lane("stale");
	const char *payloads[] = {"steal", "wait", "fine"};
	ff_worker_options o = {0};
	ff_worker_stats st = {0};
	steal_ctx	x = {lane, false, 0};

	for (int i = 0; i < 3; i++)
	{
		ff_create_args a = {0};
		ff_create_result r = {0};

		a.lane_id = lane;
		a.input_payload = payloads[i];
		a.input_payload_len = strlen(payloads[i]);
		a.priority = 10 - i;	/* claimed in this order */
		ff_client_create_execution(c, &a, &r);
		ff_create_result_clear(&r);
	}
	draining(&o, &st);
	o.lease_ttl_ms = 900;		/* renewed every 300 ms */
	o.batch_size = 1;
	is_status(ff_worker_run(test_conninfo(), lane, NULL, 0, 1, steal_handler, &x, &o, NULL), FF_OK, NULL,
			  "the worker survives leases stolen under it");
	is_int(x.calls, 3, "all three jobs reached the handler");
	ok(st.lease_lost == 1, "completing the stolen job got stale_lease: counted as lost (%lu)", st.lease_lost);
	ok(x.saw_lost_flag, "the renewer flagged the other stolen job (ff_job_lease_lost)");
	ok(st.abandoned == 1 && st.completed == 1, "that one was abandoned, the third completed");
	is_int(admin_int("SELECT progress_pct FROM ff_execution WHERE lane_id = '%s' AND public_state = 'completed'", lane),
		   50, "ff_job_progress recorded progress");
	ok(st.renewals >= 1, "leases were renewed in the background (%lu)", st.renewals);
}

/* ------------------------------------------------------------------------
 * background renewal keeps a long job's short lease alive
 * ------------------------------------------------------------------------ */
static ff_job_outcome
slow_handler(ff_job *job, void *user)
{
	(void) user;
	for (int i = 0; i < 5; i++)
	{
		sleep_ms(250);
		/* the reconciler would expire the lease if renewals stopped */
		admin_exec("SELECT ff_reconcile_lease_expiry()");
		if (ff_job_lease_lost(job))
			return FF_JOB_ABANDON;
	}
	return FF_JOB_COMPLETE;
}

static void
test_renewal(void)
{
	const char *lane = unique_lane("renew");
	ff_worker_options o = {0};
	ff_worker_stats st = {0};

	create_n(lane, 1, NULL);
	draining(&o, &st);
	o.lease_ttl_ms = 300;
	is_status(ff_worker_run(test_conninfo(), lane, NULL, 0, 1, slow_handler, NULL, &o, NULL), FF_OK, NULL,
			  "a 1.25 s job under a 300 ms lease");
	ok(st.completed == 1 && st.lease_lost == 0 && st.renewals >= 3,
	   "completed: %lu renewals kept the lease alive", st.renewals);
}

/* ------------------------------------------------------------------------
 * shutdown: SIGTERM, ff_worker_request_stop, stop flag
 * ------------------------------------------------------------------------ */
static ff_job_outcome
signal_handler_job(ff_job *job, void *user)
{
	(void) user;
	if (write(started_pipe[1], "s", 1) != 1)
		return FF_JOB_ABANDON;
	sleep_ms(500);
	return ff_job_stopping(job) ? FF_JOB_COMPLETE : FF_JOB_FAIL;
}

static ff_job_outcome
request_stop_handler(ff_job *job, void *user)
{
	(void) job;
	(void) user;
	ff_worker_request_stop();
	return FF_JOB_COMPLETE;
}

static volatile sig_atomic_t stop_flag;

static ff_job_outcome
flag_handler(ff_job *job, void *user)
{
	(void) job;
	(void) user;
	stop_flag = 1;
	return FF_JOB_COMPLETE;
}

static void
test_shutdown(void)
{
	const char *lane = unique_lane("sigterm");
	pid_t		child;
	int			status = 0;
	long long	t0;
	ff_worker_options o = {0};
	ff_worker_stats st = {0};

	create_n(lane, 1, NULL);
	if (pipe(started_pipe) != 0)
		return;
	fflush(stdout);
	child = fork();
	if (child == 0)
	{
		ff_worker_options co = {0};
		ff_worker_stats cst = {0};

		close(started_pipe[0]);
		fclose(stdout);			/* the child's TAP lines must not count */
		co.handle_signals = true;
		co.stats = &cst;
		if (ff_worker_run(test_conninfo(), lane, NULL, 0, 2, signal_handler_job, NULL, &co, NULL) != FF_OK)
			_exit(2);
		_exit(cst.completed == 1 ? 0 : 3);
	}
	close(started_pipe[1]);
	ok(wait_started(10000), "a worker process is running a job");
	t0 = mono_ms();
	kill(child, SIGTERM);
	waitpid(child, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "SIGTERM: the worker finished the running job (which saw ff_job_stopping) and exited 0 (status %d)", status);
	ok(mono_ms() - t0 < 3000, "promptly (%lld ms)", mono_ms() - t0);
	close(started_pipe[0]);
	is_int(admin_int("SELECT count(*) FROM ff_execution WHERE lane_id = '%s' AND public_state = 'completed'", lane),
		   1, "the job was completed, not abandoned");

	lane = unique_lane("reqstop");
	create_n(lane, 5, NULL);
	o.stats = &st;
	o.log = quiet_log;
	o.batch_size = 1;
	is_status(ff_worker_run(test_conninfo(), lane, NULL, 0, 1, request_stop_handler, NULL, &o, NULL), FF_OK, NULL,
			  "ff_worker_request_stop from a handler");
	ok(st.claimed == 1 && st.completed == 1, "the worker stopped after the running job");
	is_int(admin_int("SELECT count(*) FROM ff_execution WHERE lane_id = '%s' AND public_state = 'waiting'", lane),
		   4, "the rest were not claimed");

	memset(&st, 0, sizeof(st));
	o.stop_flag = &stop_flag;
	is_status(ff_worker_run(test_conninfo(), lane, NULL, 0, 1, flag_handler, NULL, &o, NULL), FF_OK, NULL,
			  "a later run is not affected by the earlier stop request; the stop flag stops it");
	ok(st.completed == 1, "one job, then the stop flag");
}

/* ------------------------------------------------------------------------
 * handler outcomes and start-up errors
 * ------------------------------------------------------------------------ */
static ff_job_outcome
outcome_handler(ff_job *job, void *user)
{
	size_t		len;
	const unsigned char *in = ff_job_input(job, &len);

	(void) user;
	if (len >= 6 && memcmp(in, "cancel", 6) == 0)
	{
		ff_job_set_cancel_reason(job, "not wanted");
		return FF_JOB_CANCEL;
	}
	if (len >= 5 && memcmp(in, "delay", 5) == 0)
	{
		int64_t		t = 0;

		ff_client_server_time_ms(ff_job_client(job), &t);
		ff_job_set_delay(job, t + 3600000);
		return FF_JOB_DELAY;
	}
	if (len >= 5 && memcmp(in, "large", 5) == 0)
	{
		ff_job_set_result(job, "way too large", 13);
		return FF_JOB_COMPLETE;
	}
	ff_job_set_failure(job, "nope", FF_CLASS_PERMANENT, NULL, 0);
	return FF_JOB_FAIL;
}

static void
test_outcomes_and_errors(void)
{
	const char *lane = unique_lane("outcomes");
	const char *payloads[] = {"cancel", "delay", "large", "fail"};
	ff_worker_options o = {0};
	ff_worker_stats st = {0};
	ff_error	err = {0};
	const char *badcaps[] = {"has space"};
	char	   *s;

	for (int i = 0; i < 4; i++)
	{
		ff_create_args a = {0};
		ff_create_result r = {0};

		a.lane_id = lane;
		a.input_payload = payloads[i];
		a.input_payload_len = strlen(payloads[i]);
		ff_client_create_execution(c, &a, &r);
		ff_create_result_clear(&r);
	}
	draining(&o, &st);
	is_status(ff_worker_run(test_conninfo_with("options='-c flowfabric.max_payload_bytes=8'"), lane, NULL, 0, 2,
							outcome_handler, NULL, &o, NULL), FF_OK, NULL, "cancel / delay / too-large / fail outcomes");
	s = admin_str("SELECT string_agg(convert_from(input_payload, 'UTF8') || '=' || public_state, ',' "
				  "ORDER BY convert_from(input_payload, 'UTF8')) FROM ff_execution WHERE lane_id = '%s'", lane);
	is_str(s, "cancel=cancelled,delay=delayed,fail=failed,large=failed", "each outcome applied");
	free(s);
	s = admin_str("SELECT last_failure_message FROM ff_execution WHERE lane_id = '%s' "
				  "AND convert_from(input_payload, 'UTF8') = 'large'", lane);
	ok(s && strstr(s, "payload_too_large"), "a result the engine refuses fails the job instead: %s", s ? s : "(null)");
	free(s);
	ok(st.cancelled == 1 && st.delayed == 1 && st.failed == 2 && st.completed == 0, "outcome stats");

	is_status(ff_worker_run(test_conninfo(), lane, badcaps, 1, 1, outcome_handler, NULL, &o, &err),
			  FF_ERR_INVALID_CAPABILITIES, NULL, "bad capabilities: the worker stops with the claim's error");
	ok(err.kind == FF_ERR_INVALID_CAPABILITIES && err.message && strstr(err.message, "invalid_capabilities"),
	   "the error is returned");
	ff_error_clear(&err);
	is_status(ff_worker_run("host=/nonexistent-dir port=1", lane, NULL, 0, 1, outcome_handler, NULL, &o, &err),
			  FF_ERR_CONNECTION, NULL, "cannot connect -> connection error");
	ok(err.retryable, "retryable");
	ff_error_clear(&err);
	is_status(ff_worker_run(test_conninfo(), lane, NULL, 0, 0, outcome_handler, NULL, &o, &err), FF_ERR_USAGE, NULL,
			  "concurrency 0 -> usage");
	ff_error_clear(&err);
	is_status(ff_worker_run(test_conninfo(), NULL, NULL, 0, 1, outcome_handler, NULL, &o, NULL), FF_ERR_USAGE, NULL,
			  "no lane -> usage");
}

int
main(void)
{
	quick = getenv("FF_TEST_QUICK") != NULL;
	c = test_client();
	test_many();
	test_finishing_frees_slot();
	test_retry();
	test_outcomes_and_errors();
	if (!quick)
	{
		test_killed_worker();
		test_stale_lease();
		test_renewal();
		test_shutdown();
	}
	ff_client_close(c);
	PQfinish(admin());
	return done_testing();
}

/*
 * cmd_worker.c - ffctl worker --exec COMMAND: the worker runtime
 * (ff_worker_run) with a handler that runs `sh -c COMMAND` per execution.
 *
 * The input payload goes to the command's stdin, its stdout becomes the
 * result; stderr passes through. Exit status 0 completes, anything else
 * fails the attempt (classification transient, permanent for the codes given
 * with --permanent-exit, infra_crash when killed by a signal). If the lease is
 * lost while the command runs, the command gets SIGTERM and the job is
 * abandoned.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ffctl.h"

extern char **environ;

#define MAX_OUTPUT (64u * 1024 * 1024)

static pthread_mutex_t spawn_mu = PTHREAD_MUTEX_INITIALIZER;

typedef struct worker_ctx
{
	const char *command;
	bool		json;
	bool		verbose;
	int			permanent[32];
	int			n_permanent;
	pthread_mutex_t out_mu;		/* one output line at a time */
} worker_ctx;

static void
log_to_stderr(void *user, ff_log_level level, const char *msg)
{
	worker_ctx *x = user;

	if (level < FF_LOG_WARNING && !x->verbose)
		return;
	pthread_mutex_lock(&x->out_mu);
	fprintf(stderr, "ffctl worker: %s%s\n",
			level == FF_LOG_ERROR ? "error: " : level == FF_LOG_WARNING ? "warning: " : "", msg);
	pthread_mutex_unlock(&x->out_mu);
}

/* environment for the command: ours plus FF_* (malloc'ed; free with free_env) */
static char **
make_env(ff_job *job)
{
	size_t		n = 0;
	char	  **env;
	char	   *hex = NULL;
	char		buf[64];

	while (environ[n])
		n++;
	env = calloc(n + 6, sizeof(char *));
	if (env == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		env[i] = strdup(environ[i]);
	ff_handle_to_hex(ff_job_handle(job), &hex);
	{
		const char *id = ff_job_execution_id(job);
		const char *lane = ff_job_lane_id(job);
		size_t		k = n;

		env[k] = malloc(strlen(id) + 32);
		if (env[k])
			sprintf(env[k], "FF_EXECUTION_ID=%s", id);
		k++;
		snprintf(buf, sizeof(buf), "FF_ATTEMPT_INDEX=%d", (int) ff_job_attempt_index(job));
		env[k++] = strdup(buf);
		snprintf(buf, sizeof(buf), "FF_LEASE_EPOCH=%lld", (long long) ff_job_lease_epoch(job));
		env[k++] = strdup(buf);
		env[k] = malloc(strlen(lane) + 16);
		if (env[k])
			sprintf(env[k], "FF_LANE_ID=%s", lane);
		k++;
		env[k] = malloc((hex ? strlen(hex) : 0) + 16);
		if (env[k])
			sprintf(env[k], "FF_HANDLE=%s", hex ? hex : "");
		k++;
	}
	ff_free(hex);
	/* drop any entry that failed to allocate */
	{
		size_t		w = 0;

		for (size_t r = 0; r < n + 5; r++)
			if (env[r])
				env[w++] = env[r];
		env[w] = NULL;
	}
	return env;
}

static void
free_env(char **env)
{
	if (env == NULL)
		return;
	for (size_t i = 0; env[i]; i++)
		free(env[i]);
	free(env);
}

static void
report(worker_ctx *x, ff_job *job, const char *outcome, int status, int64_t ms)
{
	pthread_mutex_lock(&x->out_mu);
	if (x->json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_str(&j, "execution_id", ff_job_execution_id(job));
		jw_kv_int(&j, "attempt_index", ff_job_attempt_index(job));
		jw_kv_str(&j, "outcome", outcome);
		jw_key(&j, "exit_status");
		if (status >= 0 && WIFEXITED(status))
			jw_int(&j, WEXITSTATUS(status));
		else
			jw_null(&j);
		jw_key(&j, "signal");
		if (status >= 0 && WIFSIGNALED(status))
			jw_int(&j, WTERMSIG(status));
		else
			jw_null(&j);
		jw_kv_int(&j, "duration_ms", ms);
		jw_doc_end(&j);
	}
	else
	{
		printf("%s attempt %d: ", ff_job_execution_id(job), (int) ff_job_attempt_index(job));
		if (status >= 0 && WIFEXITED(status))
			printf("exit %d", WEXITSTATUS(status));
		else if (status >= 0 && WIFSIGNALED(status))
			printf("signal %d", WTERMSIG(status));
		else
			printf("not run");
		printf(" -> %s (%lld ms)\n", outcome, (long long) ms);
	}
	fflush(stdout);
	pthread_mutex_unlock(&x->out_mu);
}

static ff_job_outcome
exec_handler(ff_job *job, void *user)
{
	worker_ctx *x = user;
	int			in_pipe[2] = {-1, -1};
	int			out_pipe[2] = {-1, -1};
	posix_spawn_file_actions_t fa;
	char	  **env = NULL;
	char	   *argv_sh[4];
	pid_t		pid;
	size_t		in_len;
	const unsigned char *in = ff_job_input(job, &in_len);
	size_t		in_off = 0;
	unsigned char *out = NULL;
	size_t		out_len = 0,
				out_cap = 0;
	int			status = -1;
	int64_t		t0 = ffctl_mono_ms();
	bool		killed_for_lease = false;
	bool		too_large = false;
	char		msg[128];
	int			spawn_rc;

	env = make_env(job);
	argv_sh[0] = "sh";
	argv_sh[1] = "-c";
	argv_sh[2] = (char *) x->command;
	argv_sh[3] = NULL;

	/*
	 * Every pipe end is close-on-exec (dup2 onto 0 and 1 clears the flag in
	 * the child), and pipes are made and commands spawned under one lock, so
	 * no command inherits another job's pipe and keeps it open.
	 */
	pthread_mutex_lock(&spawn_mu);
	if (pipe(in_pipe) != 0 || pipe(out_pipe) != 0)
	{
		pthread_mutex_unlock(&spawn_mu);
		ff_job_set_failure(job, "ffctl worker: cannot create pipes", FF_CLASS_INFRA_CRASH, NULL, 0);
		goto fail_early;
	}
	for (int i = 0; i < 2; i++)
	{
		fcntl(in_pipe[i], F_SETFD, FD_CLOEXEC);
		fcntl(out_pipe[i], F_SETFD, FD_CLOEXEC);
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in_pipe[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
	spawn_rc = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv_sh, env ? env : environ);
	posix_spawn_file_actions_destroy(&fa);
	pthread_mutex_unlock(&spawn_mu);
	if (spawn_rc != 0)
	{
		ff_job_set_failure(job, "ffctl worker: cannot start /bin/sh", FF_CLASS_INFRA_CRASH, NULL, 0);
		goto fail_early;
	}
	close(in_pipe[0]);
	close(out_pipe[1]);
	in_pipe[0] = out_pipe[1] = -1;
	fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
	if (in == NULL || in_len == 0)
	{
		close(in_pipe[1]);
		in_pipe[1] = -1;
	}

	/* feed stdin, collect stdout, watch the lease */
	while (out_pipe[0] >= 0)
	{
		struct pollfd p[2];
		int			np = 0;
		int			r;

		p[np].fd = out_pipe[0];
		p[np].events = POLLIN;
		np++;
		if (in_pipe[1] >= 0)
		{
			p[np].fd = in_pipe[1];
			p[np].events = POLLOUT;
			np++;
		}
		r = poll(p, (nfds_t) np, 200);
		if (r < 0 && errno != EINTR)
			break;
		if (!killed_for_lease && ff_job_lease_lost(job))
		{
			kill(pid, SIGTERM);
			killed_for_lease = true;
		}
		if (r <= 0)
			continue;
		if (np > 1 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP)))
		{
			ssize_t		w = write(in_pipe[1], in + in_off, in_len - in_off);

			if (w > 0)
				in_off += (size_t) w;
			if (w < 0 && errno != EAGAIN && errno != EINTR)
				in_off = in_len;	/* the command does not read its input */
			if (in_off >= in_len)
			{
				close(in_pipe[1]);
				in_pipe[1] = -1;
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR))
		{
			ssize_t		n;

			if (out_len == out_cap)
			{
				size_t		cap = out_cap ? out_cap * 2 : 65536;
				unsigned char *g = cap <= MAX_OUTPUT ? realloc(out, cap) : NULL;

				if (g == NULL)
				{
					too_large = true;
					kill(pid, SIGKILL);
					close(out_pipe[0]);
					out_pipe[0] = -1;
					break;
				}
				out = g;
				out_cap = cap;
			}
			n = read(out_pipe[0], out + out_len, out_cap - out_len);
			if (n > 0)
				out_len += (size_t) n;
			else if (n == 0 || (errno != EINTR && errno != EAGAIN))
			{
				close(out_pipe[0]);
				out_pipe[0] = -1;
			}
		}
	}
	if (in_pipe[1] >= 0)
		close(in_pipe[1]);
	if (out_pipe[0] >= 0)
		close(out_pipe[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	free_env(env);

	if (killed_for_lease)
	{
		report(x, job, "abandoned (lease lost)", status, ffctl_mono_ms() - t0);
		free(out);
		return FF_JOB_ABANDON;
	}
	if (too_large)
	{
		ff_job_set_failure(job, "ffctl worker: command output larger than 64 MiB", FF_CLASS_PERMANENT, NULL, 0);
		report(x, job, "fail", status, ffctl_mono_ms() - t0);
		free(out);
		return FF_JOB_FAIL;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
	{
		ff_job_set_result(job, out ? out : (unsigned char *) "", out_len);
		report(x, job, "complete", status, ffctl_mono_ms() - t0);
		free(out);
		return FF_JOB_COMPLETE;
	}
	if (WIFSIGNALED(status))
	{
		snprintf(msg, sizeof(msg), "command killed by signal %d", WTERMSIG(status));
		ff_job_set_failure(job, msg, FF_CLASS_INFRA_CRASH, out, out_len);
	}
	else
	{
		const char *cls = FF_CLASS_TRANSIENT;

		for (int i = 0; i < x->n_permanent; i++)
			if (x->permanent[i] == WEXITSTATUS(status))
				cls = FF_CLASS_PERMANENT;
		snprintf(msg, sizeof(msg), "command exited with status %d", WEXITSTATUS(status));
		ff_job_set_failure(job, msg, cls, out, out_len);
	}
	report(x, job, "fail", status, ffctl_mono_ms() - t0);
	free(out);
	return FF_JOB_FAIL;

fail_early:
	for (int i = 0; i < 2; i++)
	{
		if (in_pipe[i] >= 0)
			close(in_pipe[i]);
		if (out_pipe[i] >= 0)
			close(out_pipe[i]);
	}
	free_env(env);
	report(x, job, "fail", -1, ffctl_mono_ms() - t0);
	return FF_JOB_FAIL;
}

static const ffctl_optspec worker_spec[] = {
	{"lane", true}, {"exec", true}, {"concurrency", true}, {"cap", true}, {"lease-ttl-ms", true},
	{"worker-id", true}, {"worker-instance-id", true}, {"max-jobs", true}, {"drain", false},
	{"reconcile-ms", true}, {"permanent-exit", true}, {"verbose", false}, {NULL, false}
};

int
cmd_worker(int argc, char **argv)
{
	ffctl_args	a = {0};
	worker_ctx	x = {0};
	ff_worker_options o = {0};
	ff_worker_stats st = {0};
	ff_error	err = {0};
	const char *caps[FFCTL_MAX_OPTS];
	int64_t		concurrency = 1,
				ttl = 0,
				max_jobs = 0,
				reconcile = 0;
	ff_status	s;
	int			rc = FFCTL_EXIT_OK;

	if (!ffctl_parse(argc, argv, worker_spec, &a))
		return FFCTL_EXIT_USAGE;
	if (!ffctl_opt(&a, "lane") || !ffctl_opt(&a, "exec"))
		return ffctl_usage_error("worker", "--lane and --exec are required");
	if (a.npos > 0 || !ffctl_opt_int64(&a, "concurrency", &concurrency, NULL) ||
		!ffctl_opt_int64(&a, "lease-ttl-ms", &ttl, NULL) ||
		!ffctl_opt_int64(&a, "max-jobs", &max_jobs, NULL) ||
		!ffctl_opt_int64(&a, "reconcile-ms", &reconcile, NULL) ||
		concurrency < 1 || concurrency > 1000 || max_jobs < 0 || reconcile < 0 || ttl < 0)
		return ffctl_usage_error("worker", "bad arguments (concurrency 1..1000)");
	for (int i = 0; i < ffctl_opt_count(&a, "permanent-exit") && i < 32; i++)
	{
		char	   *end;
		long		v = strtol(ffctl_opt_n(&a, "permanent-exit", i), &end, 10);

		if (*end != '\0' || v < 1 || v > 255)
			return ffctl_usage_error("worker", "--permanent-exit wants an exit status 1..255");
		x.permanent[x.n_permanent++] = (int) v;
	}
	ffctl_opt_all(&a, "cap", caps);
	x.command = ffctl_opt(&a, "exec");
	x.json = a.json;
	x.verbose = ffctl_flag(&a, "verbose");
	pthread_mutex_init(&x.out_mu, NULL);

	o.worker_id = ffctl_opt(&a, "worker-id") ? ffctl_opt(&a, "worker-id") : "ffctl-worker";
	o.worker_instance_id = ffctl_opt(&a, "worker-instance-id");
	o.lease_ttl_ms = ttl;
	o.handle_signals = true;
	o.max_jobs = (unsigned long) max_jobs;
	o.exit_when_idle = ffctl_flag(&a, "drain");
	o.reconcile_interval_ms = (int32_t) reconcile;
	o.log = log_to_stderr;
	o.log_user_data = &x;
	o.stats = &st;

	s = ff_worker_run(a.dsn ? a.dsn : "", ffctl_opt(&a, "lane"), caps,
					  (size_t) ffctl_opt_count(&a, "cap"), (int) concurrency, exec_handler, &x, &o, &err);
	if (s != FF_OK)
		rc = ffctl_fail_error(&a, &err, "worker");
	fprintf(stderr, "ffctl worker: %lu claimed, %lu completed, %lu failed (%lu retry scheduled), "
			"%lu lease(s) lost, %lu error(s)\n", st.claimed, st.completed, st.failed,
			st.retries_scheduled, st.lease_lost, st.errors);
	ff_error_clear(&err);
	pthread_mutex_destroy(&x.out_mu);
	return rc;
}

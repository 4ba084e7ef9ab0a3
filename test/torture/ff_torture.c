/*
 * ff_torture.c - the torture test's clients (test/torture/README.md).
 *
 *   ff_torture worker   LANE CONCURRENCY TOKENS_FILE   the worker loop
 *   ff_torture signaler TOKENS_FILE                    an outside system
 *
 * Both connect with the PG* environment (the harness points them at roles
 * holding ff_worker / ff_signaler only) and run until SIGTERM.
 *
 * The worker runs libflowfabric's worker runtime. What its handler does with
 * a job depends on the payload and on a hash of (execution, attempt, epoch),
 * so that every path is exercised and a re-run of the same attempt may take
 * another one:
 *   "plain"    complete (most), fail transient (retried by the policy), fail
 *              permanent, abandon (the lease runs out and is reclaimed), delay
 *              (the same attempt comes back), or work a while first
 *   "suspend"  the first time: suspend on a waitpoint (auto-resumes by timeout
 *              if no signal comes) and append "<execution> <waitpoint> <token>"
 *              to TOKENS_FILE for the signaler; once resumed (signals to
 *              observe): complete
 *   "flow"     complete, or now and then fail permanently (its downstreams
 *              are then skipped)
 * Appending a line shorter than PIPE_BUF with O_APPEND is atomic, so the
 * processes share the file safely; a worker killed between suspending and
 * writing leaves the execution to its suspension timeout.
 *
 * The signaler follows TOKENS_FILE and delivers one signal per line with its
 * token (idempotency key: the waitpoint), retrying over lost connections.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <flowfabric.h>

static volatile sig_atomic_t stop = 0;
static const char *tokens_path;

static void
on_term(int sig)
{
	(void) sig;
	stop = 1;
	ff_worker_request_stop();
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !stop)
		;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* FNV-1a of the execution id and the attempt's coordinates */
static unsigned
roll(ff_job *job, unsigned salt)
{
	uint32_t	h = 2166136261u ^ salt;

	for (const char *p = ff_job_execution_id(job); *p; p++)
		h = (h ^ (unsigned char) *p) * 16777619u;
	h = (h ^ (uint32_t) ff_job_attempt_index(job)) * 16777619u;
	h = (h ^ (uint32_t) ff_job_lease_epoch(job)) * 16777619u;
	return h % 100;
}

static bool
payload_is(ff_job *job, const char *kind)
{
	size_t		len;
	const unsigned char *in = ff_job_input(job, &len);

	return in != NULL && len >= strlen(kind) && memcmp(in, kind, strlen(kind)) == 0;
}

static ff_job_outcome
suspend_job(ff_job *job)
{
	ff_signal_list signals = {0};
	ff_suspend_args args = {0};
	ff_suspend_result res = {0};
	char		line[512];
	int			fd;

	/* resumed already? then the work is done */
	if (ff_client_observe_signals(ff_job_client(job), ff_job_handle(job), true, &signals) == FF_OK &&
		signals.count > 0)
	{
		ff_signal_list_clear(&signals);
		return FF_JOB_COMPLETE;
	}
	ff_signal_list_clear(&signals);
	args.waitpoints_json = "[\"wpk:torture\"]";
	args.timeout_at_ms = now_ms() + 8000;
	args.timeout_behavior = FF_TIMEOUT_AUTO_RESUME;
	if (ff_job_suspend(job, &args, &res) != FF_OK)
	{
		ff_job_set_failure(job, "suspend failed", "transient", NULL, 0);
		return FF_JOB_FAIL;
	}
	if (res.outcome != FF_SUSPEND_SUSPENDED)
	{
		ff_suspend_result_clear(&res);
		return FF_JOB_COMPLETE;
	}
	snprintf(line, sizeof(line), "%s %s %s\n", ff_job_execution_id(job),
			 res.waitpoints[0].waitpoint_id, res.waitpoints[0].waitpoint_token);
	ff_suspend_result_clear(&res);
	fd = open(tokens_path, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd >= 0)
	{
		if (write(fd, line, strlen(line)) < 0)
			perror("ff_torture: tokens file");
		close(fd);
	}
	return FF_JOB_SUSPENDED;
}

static ff_job_outcome
handler(ff_job *job, void *user)
{
	unsigned	r = roll(job, 17);

	(void) user;
	if (payload_is(job, "suspend"))
		return suspend_job(job);
	if (payload_is(job, "flow"))
	{
		if (r < 8)
		{
			ff_job_set_failure(job, "flow member gave up", "permanent", NULL, 0);
			return FF_JOB_FAIL;
		}
		return FF_JOB_COMPLETE;
	}
	if (r < 50)
		return FF_JOB_COMPLETE;
	if (r < 72)
	{
		ff_job_set_failure(job, "flaky", "transient", NULL, 0);
		return FF_JOB_FAIL;
	}
	if (r < 76)
	{
		ff_job_set_failure(job, "broken", "permanent", NULL, 0);
		return FF_JOB_FAIL;
	}
	if (r < 81)
		return FF_JOB_ABANDON;
	if (r < 88)
	{
		ff_job_set_delay(job, now_ms() + 30);
		return FF_JOB_DELAY;
	}
	sleep_ms(20 + roll(job, 5) * 3);
	if (ff_job_lease_lost(job))
		return FF_JOB_ABANDON;
	ff_job_progress(job, 50, "half way");
	return FF_JOB_COMPLETE;
}

static int
run_worker(const char *lane, int concurrency)
{
	ff_worker_options opts = {0};
	ff_worker_stats stats = {0};
	ff_error	err = {0};
	char		instance[64];

	snprintf(instance, sizeof(instance), "torture/%d", (int) getpid());
	opts.worker_id = "torture";
	opts.worker_instance_id = instance;
	opts.lease_ttl_ms = 2000;
	opts.stop_flag = &stop;
	opts.stats = &stats;
	while (!stop)
	{
		if (ff_worker_run("", lane, NULL, 0, concurrency, handler, NULL, &opts, &err) == FF_OK)
			break;
		/* could not start (the server is restarting): try again */
		fprintf(stderr, "ff_torture worker: %s\n", err.message ? err.message : "error");
		ff_error_clear(&err);
		sleep_ms(200);
	}
	printf("worker %d: claimed %lu completed %lu failed %lu suspended %lu abandoned %lu delayed %lu lease_lost %lu errors %lu\n",
		   (int) getpid(), stats.claimed, stats.completed, stats.failed, stats.suspended,
		   stats.abandoned, stats.delayed, stats.lease_lost, stats.errors);
	return 0;
}

static int
run_signaler(void)
{
	ff_client  *c = NULL;
	long		offset = 0;
	char		line[512];
	unsigned long delivered = 0;
	unsigned long refused = 0;

	while (!stop)
	{
		FILE	   *f;

		if (c == NULL && ff_client_connect("", &c, NULL) != FF_OK)
		{
			c = NULL;
			sleep_ms(200);
			continue;
		}
		f = fopen(tokens_path, "r");
		if (f == NULL || fseek(f, offset, SEEK_SET) != 0 || fgets(line, sizeof(line), f) == NULL ||
			strchr(line, '\n') == NULL)
		{
			if (f)
				fclose(f);
			sleep_ms(50);
			continue;
		}
		fclose(f);
		{
			char		exec_id[128],
						wp[64],
						token[200];
			ff_signal_args a = {0};
			ff_signal_result res = {0};
			ff_status	s;

			if (sscanf(line, "%127s %63s %199s", exec_id, wp, token) != 3)
			{
				offset += strlen(line);
				continue;
			}
			a.execution_id = exec_id;
			a.waitpoint_id = wp;
			a.waitpoint_token = token;
			a.signal_name = "done";
			a.source_identity = "torture-signaler";
			a.idempotency_key = wp;
			s = ff_client_deliver_signal(c, &a, &res);
			ff_signal_result_clear(&res);
			if (s == FF_ERR_CONNECTION)
			{
				sleep_ms(200);
				continue;		/* same line again */
			}
			if (s == FF_OK)
				delivered++;
			else
				refused++;		/* timed out meanwhile, closed, ... */
			offset += strlen(line);
		}
	}
	printf("signaler: delivered %lu refused %lu\n", delivered, refused);
	ff_client_close(c);
	return 0;
}

int
main(int argc, char **argv)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 5 && strcmp(argv[1], "worker") == 0)
	{
		tokens_path = argv[4];
		return run_worker(argv[2], atoi(argv[3]));
	}
	if (argc == 3 && strcmp(argv[1], "signaler") == 0)
	{
		tokens_path = argv[2];
		return run_signaler();
	}
	fprintf(stderr, "usage: ff_torture worker LANE CONCURRENCY TOKENS_FILE | ff_torture signaler TOKENS_FILE\n");
	return 2;
}

/*
 * cmd_reconcile.c - ffctl reconcile: one pass of the reconcilers (all, or
 * those named), optionally repeated every --loop-ms until interrupted.
 * The engine's background reconcilers normally do this work; on a server
 * without them (flowfabric not in shared_preload_libraries, or
 * flowfabric.reconcilers = off), `ffctl reconcile --loop-ms 1000` is a
 * ready-made scheduler.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ffctl.h"

typedef struct reconciler
{
	const char *name;
	const char *key;			/* JSON key */
	ff_status	(*fn) (ff_client *c, int32_t batch_size, int32_t *changed);
} reconciler;

/* the order the README recommends */
static const reconciler reconcilers[] = {
	{"execution-deadline", "execution_deadline", ff_client_reconcile_execution_deadline},
	{"attempt-timeout", "attempt_timeout", ff_client_reconcile_attempt_timeout},
	{"lease-expiry", "lease_expiry", ff_client_reconcile_lease_expiry},
	{"delayed-promotion", "delayed_promotion", ff_client_reconcile_delayed_promotion},
};

#define N_RECONCILERS 4

static volatile sig_atomic_t interrupted;

static void
on_signal(int signo)
{
	(void) signo;
	interrupted = 1;
}

static const ffctl_optspec reconcile_spec[] = {{"batch", true}, {"loop-ms", true}, {NULL, false}};

int
cmd_reconcile(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	bool		chosen[N_RECONCILERS] = {false};
	int64_t		batch = 0,
				loop_ms = 0;
	bool		looping;
	int			rc;

	if (!ffctl_parse(argc, argv, reconcile_spec, &a))
		return FFCTL_EXIT_USAGE;
	if (!ffctl_opt_int64(&a, "batch", &batch, NULL) || !ffctl_opt_int64(&a, "loop-ms", &loop_ms, &looping) ||
		(looping && loop_ms < 1))
		return ffctl_usage_error("reconcile", "bad arguments");
	for (int i = 0; i < a.npos; i++)
	{
		bool		known = false;

		for (int k = 0; k < N_RECONCILERS; k++)
			if (strcmp(a.pos[i], reconcilers[k].name) == 0 || strcmp(a.pos[i], "all") == 0)
			{
				chosen[k] = true;
				known = true;
			}
		if (!known)
			return ffctl_usage_error("reconcile", "unknown reconciler \"%s\"", a.pos[i]);
	}
	if (a.npos == 0)
		for (int k = 0; k < N_RECONCILERS; k++)
			chosen[k] = true;
	if (batch < 0 || batch > 100000000)
		batch = -1;				/* the engine reports the range */

	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (looping)
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	do
	{
		int32_t		changed[N_RECONCILERS] = {0};

		for (int k = 0; k < N_RECONCILERS && rc == FFCTL_EXIT_OK; k++)
			if (chosen[k] && reconcilers[k].fn(c, (int32_t) batch, &changed[k]) != FF_OK)
				rc = ffctl_fail(&a, c, "reconcile");
		if (rc != FFCTL_EXIT_OK)
		{
			if (!looping || ff_client_last_error(c)->kind != FF_ERR_CONNECTION)
				break;
			rc = FFCTL_EXIT_OK;	/* keep looping over connection trouble */
		}
		else if (a.json)
		{
			ffctl_json j;

			jw_init(&j, stdout);
			jw_obj_begin(&j);
			for (int k = 0; k < N_RECONCILERS; k++)
				if (chosen[k])
					jw_kv_int(&j, reconcilers[k].key, changed[k]);
			jw_obj_end(&j);
			putchar('\n');
		}
		else if (!looping)
		{
			for (int k = 0; k < N_RECONCILERS; k++)
				if (chosen[k])
					printf("%-20s %d\n", reconcilers[k].name, (int) changed[k]);
		}
		else
		{
			int			total = 0;

			for (int k = 0; k < N_RECONCILERS; k++)
				total += changed[k];
			if (total > 0)
			{
				for (int k = 0; k < N_RECONCILERS; k++)
					if (chosen[k] && changed[k] > 0)
						printf("%s=%d ", reconcilers[k].name, (int) changed[k]);
				putchar('\n');
			}
		}
		fflush(stdout);
		if (looping && !interrupted)
		{
			struct timespec ts = {loop_ms / 1000, (long) (loop_ms % 1000) * 1000000L};

			nanosleep(&ts, NULL);
		}
	} while (looping && !interrupted);
	ff_client_close(c);
	return rc;
}

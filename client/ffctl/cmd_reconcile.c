/*
 * cmd_reconcile.c - ffctl reconcile: one pass of the reconcilers (all, or
 * those named: the four time-driven ones and the two retentions),
 * optionally repeated every --loop-ms until interrupted.
 * The engine's background reconcilers normally do this work; on a server
 * without them (flowfabric not in shared_preload_libraries, or
 * flowfabric.reconcilers = off), `ffctl reconcile --loop-ms 1000` is a
 * ready-made scheduler.
 */
#include <stdio.h>

#include "ffctl.h"

/* the order the README recommends; retention last (what it deletes was
 * finished long ago, governed by flowfabric.retention_ms and
 * flowfabric.event_retention_ms) */
static const ffctl_reconciler reconcilers[] = {
	{"execution-deadline", "execution_deadline", ff_client_reconcile_execution_deadline},
	{"attempt-timeout", "attempt_timeout", ff_client_reconcile_attempt_timeout},
	{"lease-expiry", "lease_expiry", ff_client_reconcile_lease_expiry},
	{"delayed-promotion", "delayed_promotion", ff_client_reconcile_delayed_promotion},
	{"retention", "retention", ff_client_reconcile_retention},
	{"event-retention", "event_retention", ff_client_reconcile_event_retention},
};

static const ffctl_optspec reconcile_spec[] = {{"batch", true}, {"loop-ms", true}, {NULL, false}};

int
cmd_reconcile(int argc, char **argv)
{
	static const ffctl_reconcilers spec = {
		"reconcile", "reconcile", "%-20s %d\n", reconcilers, FFCTL_LEN(reconcilers), 0, 0, true
	};
	ffctl_args	a = {0};
	int64_t		batch = 0,
				loop_ms = 0;
	bool		looping;

	if (!ffctl_parse(argc, argv, reconcile_spec, &a))
		return FFCTL_EXIT_USAGE;
	if (!ffctl_opt_int64(&a, "batch", &batch, NULL) || !ffctl_opt_int64(&a, "loop-ms", &loop_ms, &looping) ||
		(looping && loop_ms < 1))
		return ffctl_usage_error("reconcile", "bad arguments");
	return ffctl_run_reconcilers(&a, &spec, batch, looping ? loop_ms : 0);
}

/*
 * cmd_events.c - ffctl events: read the completion or lease-event outbox
 * after a cursor, or follow it (a subscription: LISTEN plus catch-up from
 * the cursor, so nothing is missed or repeated across reconnects).
 */
#include <stdio.h>
#include <string.h>

#include "ffctl.h"

static void
print_completion(const ffctl_args *a, const ff_completion_event *e)
{
	if (a->json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_int(&j, "event_id", e->event_id);
		jw_kv_str(&j, "execution_id", e->execution_id);
		jw_kv_str(&j, "flow_id", e->flow_id);
		jw_kv_str(&j, "outcome", e->outcome);
		jw_kv_str(&j, "namespace", e->ns);
		jw_kv_str(&j, "lane_id", e->lane_id);
		jw_key(&j, "attempt_index");
		if (e->has_attempt_index)
			jw_int(&j, e->attempt_index);
		else
			jw_null(&j);
		jw_kv_int(&j, "occurred_at_ms", e->occurred_at_ms);
		jw_doc_end(&j);
	}
	else
	{
		char		when[40];

		ffctl_format_time(e->occurred_at_ms, when, sizeof(when));
		printf("%lld %s %-9s %s lane=%s", (long long) e->event_id, when, e->outcome,
			   e->execution_id, e->lane_id ? e->lane_id : "-");
		if (e->has_attempt_index)
			printf(" attempt=%d", (int) e->attempt_index);
		putchar('\n');
	}
}

static void
print_lease(const ffctl_args *a, const ff_lease_event *e)
{
	if (a->json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_int(&j, "event_id", e->event_id);
		jw_kv_str(&j, "execution_id", e->execution_id);
		jw_kv_int(&j, "attempt_index", e->attempt_index);
		jw_kv_str(&j, "lease_id", e->lease_id);
		jw_kv_int(&j, "lease_epoch", e->lease_epoch);
		jw_kv_str(&j, "event_type", e->event_type);
		jw_kv_str(&j, "reason", e->reason);
		jw_kv_str(&j, "worker_id", e->worker_id);
		jw_kv_str(&j, "worker_instance_id", e->worker_instance_id);
		jw_kv_str(&j, "namespace", e->ns);
		jw_kv_int(&j, "occurred_at_ms", e->occurred_at_ms);
		jw_doc_end(&j);
	}
	else
	{
		char		when[40];

		ffctl_format_time(e->occurred_at_ms, when, sizeof(when));
		printf("%lld %s %-9s %s attempt=%d epoch=%lld", (long long) e->event_id, when,
			   e->event_type, e->execution_id, (int) e->attempt_index, (long long) e->lease_epoch);
		if (e->reason)
			printf(" reason=%s", e->reason);
		if (e->worker_instance_id)
			printf(" worker=%s", e->worker_instance_id);
		putchar('\n');
	}
}

/* completion events of the --lane given, if any; every lease event */
static bool
print_event(const ffctl_args *a, const void *lane, ff_event_source source, const void *event)
{
	const ff_completion_event *e = event;

	if (source == FF_EVENTS_LEASE)
		print_lease(a, event);
	else if (lane == NULL || (e->lane_id && strcmp(e->lane_id, lane) == 0))
		print_completion(a, e);
	else
		return false;
	return true;
}

static const ffctl_optspec events_spec[] = {
	{"lease", false}, {"after", true}, {"limit", true}, {"lane", true}, {"follow", false},
	{"count", true}, {"timeout-ms", true}, {"poll-ms", true}, {NULL, false}
};

int
cmd_events(int argc, char **argv)
{
	ffctl_args	a = {0};
	bool		lease;
	const char *lane;

	if (!ffctl_parse(argc, argv, events_spec, &a))
		return FFCTL_EXIT_USAGE;
	lease = ffctl_flag(&a, "lease");
	lane = ffctl_opt(&a, "lane");
	return ffctl_read_outbox(&a, "events", lease ? FF_EVENTS_LEASE : FF_EVENTS_COMPLETION,
							 print_event, lane,
							 lane && lease ? "--lane filters completion events only" : NULL);
}

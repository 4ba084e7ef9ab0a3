/*
 * cmd_events.c - ffctl events: read the completion or lease-event outbox
 * after a cursor, or follow it (a subscription: LISTEN plus catch-up from
 * the cursor, so nothing is missed or repeated across reconnects).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ffctl.h"

static volatile sig_atomic_t interrupted;

static void
on_signal(int signo)
{
	(void) signo;
	interrupted = 1;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
print_completion(const ffctl_args *a, const ff_completion_event *e)
{
	if (a->json)
	{
		ffctl_json j;

		jw_init(&j, stdout);
		jw_obj_begin(&j);
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
		jw_obj_end(&j);
		putchar('\n');
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
		ffctl_json j;

		jw_init(&j, stdout);
		jw_obj_begin(&j);
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
		jw_obj_end(&j);
		putchar('\n');
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

static const ffctl_optspec events_spec[] = {
	{"lease", false}, {"after", true}, {"limit", true}, {"lane", true}, {"follow", false},
	{"count", true}, {"timeout-ms", true}, {"poll-ms", true}, {NULL, false}
};

int
cmd_events(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	ff_subscription *s = NULL;
	ff_subscription_options so = {0};
	int			rc;
	int64_t		after = 0,
				limit = 100,
				count = 0,
				timeout = 0,
				poll_ms = 1000;
	bool		has_count,
				has_timeout;
	bool		lease,
				follow;
	const char *lane;
	int64_t		printed = 0;
	int64_t		deadline;
	struct sigaction sa;

	if (!ffctl_parse(argc, argv, events_spec, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos > 0 || !ffctl_opt_int64(&a, "after", &after, NULL) ||
		!ffctl_opt_int64(&a, "limit", &limit, NULL) ||
		!ffctl_opt_int64(&a, "count", &count, &has_count) ||
		!ffctl_opt_int64(&a, "timeout-ms", &timeout, &has_timeout) ||
		!ffctl_opt_int64(&a, "poll-ms", &poll_ms, NULL))
		return ffctl_usage_error("events", "bad arguments");
	lease = ffctl_flag(&a, "lease");
	follow = ffctl_flag(&a, "follow");
	lane = ffctl_opt(&a, "lane");
	if (!follow && (has_count || has_timeout))
		return ffctl_usage_error("events", "--count and --timeout-ms go with --follow");
	if (lane && lease)
		return ffctl_usage_error("events", "--lane filters completion events only");
	if (after < 0 || limit < 1 || limit > 10000)
		return ffctl_usage_error("events", "--after >= 0, --limit 1..10000");

	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;

	if (!follow)
	{
		/* everything readable after the cursor, page by page */
		for (;;)
		{
			size_t		n = 0;

			if (lease)
			{
				ff_lease_event_list l = {0};

				if (ff_client_lease_events(c, after, (int32_t) limit, &l) != FF_OK)
				{
					rc = ffctl_fail(&a, c, "events");
					break;
				}
				for (size_t i = 0; i < l.count; i++)
					print_lease(&a, &l.items[i]);
				n = l.count;
				if (n > 0)
					after = l.items[n - 1].event_id;
				ff_lease_event_list_clear(&l);
			}
			else
			{
				ff_completion_event_list l = {0};

				if (ff_client_completion_events(c, after, (int32_t) limit, &l) != FF_OK)
				{
					rc = ffctl_fail(&a, c, "events");
					break;
				}
				for (size_t i = 0; i < l.count; i++)
					if (lane == NULL || (l.items[i].lane_id && strcmp(l.items[i].lane_id, lane) == 0))
						print_completion(&a, &l.items[i]);
				n = l.count;
				if (n > 0)
					after = l.items[n - 1].event_id;
				ff_completion_event_list_clear(&l);
			}
			if ((int64_t) n < limit)
				break;
		}
		ff_client_close(c);
		return rc;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	so.batch_size = (int32_t) limit;
	so.poll_interval_ms = (int32_t) (poll_ms > 0 ? poll_ms : 1000);
	if (ff_subscription_open(c, lease ? FF_EVENTS_LEASE : FF_EVENTS_COMPLETION, after, &so, &s) != FF_OK)
	{
		rc = ffctl_fail(&a, c, "events");
		ff_client_close(c);
		return rc;
	}
	deadline = mono_ms() + timeout;
	while (!interrupted && (!has_count || printed < count))
	{
		int			wait = 1000;
		ff_status	st;

		if (has_timeout)
		{
			int64_t		left = deadline - mono_ms();

			if (left <= 0)
				break;
			if (left < wait)
				wait = (int) left;
		}
		if (lease)
		{
			ff_lease_event_list l = {0};

			st = ff_subscription_next_lease_events(s, wait, &l);
			for (size_t i = 0; i < l.count && (!has_count || printed < count); i++, printed++)
				print_lease(&a, &l.items[i]);
			ff_lease_event_list_clear(&l);
		}
		else
		{
			ff_completion_event_list l = {0};

			st = ff_subscription_next_completions(s, wait, &l);
			for (size_t i = 0; i < l.count && (!has_count || printed < count); i++)
				if (lane == NULL || (l.items[i].lane_id && strcmp(l.items[i].lane_id, lane) == 0))
				{
					print_completion(&a, &l.items[i]);
					printed++;
				}
			ff_completion_event_list_clear(&l);
		}
		fflush(stdout);
		if (st != FF_OK)
		{
			/* connection trouble: report, keep following (the cursor is kept) */
			if (st != FF_ERR_CONNECTION)
			{
				rc = ffctl_fail(&a, c, "events");
				break;
			}
			fprintf(stderr, "ffctl events: %s; retrying\n", ff_client_last_error(c)->message);
			{
				struct timespec ts = {1, 0};

				nanosleep(&ts, NULL);
			}
		}
	}
	if (rc == FFCTL_EXIT_OK && has_count && printed < count)
		rc = FFCTL_EXIT_EMPTY;
	ff_subscription_close(s);
	ff_client_close(c);
	return rc;
}

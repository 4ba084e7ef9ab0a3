/*
 * cmd_operator.c - ffctl's operator verbs (docs/operator.md):
 *
 *   ffctl cancel EXECUTION_ID [--reason TEXT] [--source S] [--lease-epoch N]
 *   ffctl cancel HANDLE [--reason TEXT]          (the lease holder; cmd_exec.c)
 *   ffctl replay EXECUTION_ID [--reason TEXT]
 *   ffctl revoke EXECUTION_ID [--lease-id UUID] [--worker-instance-id ID] [--reason TEXT]
 *   ffctl priority EXECUTION_ID N
 *   ffctl workers [list] [--namespace NS] [--cursor ID] [--limit N]
 *   ffctl workers dead INSTANCE [--namespace NS] [--reason TEXT]
 *   ffctl workers expired-leases [--namespace NS] [--limit N]
 *   ffctl lane pause|resume|drain LANE [--reason TEXT]
 *   ffctl lane list [--cursor LANE] [--limit N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ffctl.h"

/* "{fp:N}:..." names an execution; anything else is taken for a handle */
static bool
is_execution_id(const char *s)
{
	return s && strncmp(s, "{fp:", 4) == 0;
}

/* prints a one-object result: key/value pairs of strings (NULL skipped in human output) */
static void
print_pairs(const ffctl_args *a, const char *const *keys, const char *const *values, int n)
{
	if (a->json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		for (int i = 0; i < n; i++)
			jw_kv_str(&j, keys[i], values[i]);
		jw_doc_end(&j);
		return;
	}
	for (int i = 0; i < n; i++)
		if (values[i])
			ffctl_kv(keys[i], "%s", values[i]);
}

static const ffctl_optspec cancel_spec[] = {
	{"reason", true}, {"source", true}, {"lease-epoch", true}, {NULL, false}
};

int
cmd_operator_cancel(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	int			rc;
	int64_t		epoch = 0;
	bool		has_epoch;
	ff_cancel_execution_result r = {0};

	/* a handle: the lease holder cancels (cmd_exec.c) */
	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--dsn") == 0 || strcmp(argv[i], "--reason") == 0 ||
			strcmp(argv[i], "--source") == 0 || strcmp(argv[i], "--lease-epoch") == 0)
		{
			i++;
			continue;
		}
		if (argv[i][0] != '-')
		{
			if (!is_execution_id(argv[i]))
				return cmd_cancel(argc, argv);
			break;
		}
	}
	if (!ffctl_parse(argc, argv, cancel_spec, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos != 1 || !ffctl_opt_int64(&a, "lease-epoch", &epoch, &has_epoch))
		return ffctl_usage_error("cancel", "expected: EXECUTION_ID (or a handle)");
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (ff_client_cancel_execution(c, a.pos[0], ffctl_opt(&a, "reason"), ffctl_opt(&a, "source"),
								   has_epoch ? &epoch : NULL, &r) != FF_OK)
		rc = ffctl_fail(&a, c, "cancel");
	else if (a.json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_str(&j, "execution_id", a.pos[0]);
		jw_kv_str(&j, "outcome", r.outcome);
		jw_kv_str(&j, "public_state", r.public_state);
		jw_kv_bool(&j, "lease_revoked", r.lease_revoked);
		jw_doc_end(&j);
	}
	else
		printf("%s%s\n", r.outcome, r.lease_revoked ? " (lease revoked)" : "");
	ff_cancel_execution_result_clear(&r);
	ff_client_close(c);
	return rc;
}

static const ffctl_optspec reason_spec[] = {{"reason", true}, {NULL, false}};

int
cmd_replay(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	int			rc;
	ff_replay_result r = {0};

	if (!ffctl_parse(argc, argv, reason_spec, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos != 1)
		return ffctl_usage_error("replay", "expected: EXECUTION_ID");
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (ff_client_replay_execution(c, a.pos[0], ffctl_opt(&a, "reason"), &r) != FF_OK)
		rc = ffctl_fail(&a, c, "replay");
	else if (a.json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_str(&j, "execution_id", a.pos[0]);
		jw_kv_str(&j, "public_state", r.public_state);
		jw_kv_int(&j, "replay_count", r.replay_count);
		jw_doc_end(&j);
	}
	else
		printf("%s (replay %d)\n", r.public_state, r.replay_count);
	ff_replay_result_clear(&r);
	ff_client_close(c);
	return rc;
}

static const ffctl_optspec revoke_spec[] = {
	{"lease-id", true}, {"worker-instance-id", true}, {"reason", true}, {NULL, false}
};

int
cmd_revoke(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	int			rc;
	ff_revoke_result r = {0};

	if (!ffctl_parse(argc, argv, revoke_spec, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos != 1)
		return ffctl_usage_error("revoke", "expected: EXECUTION_ID");
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (ff_client_revoke_lease(c, a.pos[0], ffctl_opt(&a, "lease-id"), ffctl_opt(&a, "worker-instance-id"),
							   ffctl_opt(&a, "reason"), &r) != FF_OK)
		rc = ffctl_fail(&a, c, "revoke");
	else if (a.json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_str(&j, "execution_id", a.pos[0]);
		jw_kv_str(&j, "outcome", r.outcome);
		jw_kv_str(&j, "detail", r.detail);
		jw_kv_str(&j, "lease_id", r.lease_id);
		if (r.lease_id)
			jw_kv_int(&j, "lease_epoch", r.lease_epoch);
		jw_doc_end(&j);
	}
	else if (r.detail)
		printf("%s: %s\n", r.outcome, r.detail);
	else
		printf("%s lease %s (epoch %lld)\n", r.outcome, r.lease_id, (long long) r.lease_epoch);
	ff_revoke_result_clear(&r);
	ff_client_close(c);
	return rc;
}

static const ffctl_optspec no_opts[] = {{NULL, false}};

int
cmd_priority(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	int			rc;
	char	   *end;
	long		prio;
	int32_t		oldp = 0,
				newp = 0;

	if (!ffctl_parse(argc, argv, no_opts, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos != 2)
		return ffctl_usage_error("priority", "expected: EXECUTION_ID PRIORITY");
	prio = strtol(a.pos[1], &end, 10);
	if (*a.pos[1] == '\0' || *end != '\0' || prio < -2147483647L || prio > 2147483647L)
		return ffctl_usage_error("priority", "PRIORITY must be an integer");
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (ff_client_change_priority(c, a.pos[0], (int32_t) prio, &oldp, &newp) != FF_OK)
		rc = ffctl_fail(&a, c, "priority");
	else if (a.json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_str(&j, "execution_id", a.pos[0]);
		jw_kv_int(&j, "old_priority", oldp);
		jw_kv_int(&j, "new_priority", newp);
		jw_doc_end(&j);
	}
	else
		printf("%d -> %d\n", oldp, newp);
	ff_client_close(c);
	return rc;
}

static const ffctl_optspec workers_spec[] = {
	{"namespace", true}, {"cursor", true}, {"limit", true}, {"reason", true}, {NULL, false}
};

static void
print_worker(const ffctl_args *a, ffctl_json *j, const void *ctx FFCTL_UNUSED, const void *item,
			 size_t i FFCTL_UNUSED)
{
	const ff_worker_info *w = item;
	char		when[40];

	if (a->json)
	{
		jw_kv_str(j, "worker_instance_id", w->worker_instance_id);
		jw_kv_str(j, "worker_id", w->worker_id);
		jw_kv_str(j, "namespace", w->ns);
		jw_kv_strings(j, "lanes", w->lanes, w->n_lanes);
		jw_kv_strings(j, "capabilities", w->capabilities, w->n_capabilities);
		jw_kv_int(j, "last_heartbeat_ms", w->last_heartbeat_ms);
		jw_kv_int(j, "liveness_ttl_ms", w->liveness_ttl_ms);
		jw_kv_int(j, "expires_at_ms", w->expires_at_ms);
		jw_kv_int(j, "registered_at_ms", w->registered_at_ms);
		jw_kv_bool(j, "alive", w->alive);
		return;
	}
	ffctl_format_time(w->last_heartbeat_ms, when, sizeof(when));
	printf("%-32s %-16s %-5s %s lanes=", w->worker_instance_id, w->worker_id,
		   w->alive ? "alive" : "gone", when);
	for (size_t k = 0; k < w->n_lanes; k++)
		printf("%s%s", k ? "," : "", w->lanes[k]);
	printf(" caps=");
	for (size_t k = 0; k < w->n_capabilities; k++)
		printf("%s%s", k ? "," : "", w->capabilities[k]);
	putchar('\n');
}

static int
workers_list(const ffctl_args *a, ff_client *c, int32_t limit)
{
	ff_worker_list l = {0};

	if (ff_client_list_workers(c, ffctl_opt(a, "namespace"), ffctl_opt(a, "cursor"), limit, &l) != FF_OK)
		return ffctl_fail(a, c, "workers");
	FFCTL_PRINT_LIST(a, NULL, &l, print_worker, NULL);
	ff_worker_list_clear(&l);
	return FFCTL_EXIT_OK;
}

static int
workers_dead(const ffctl_args *a, ff_client *c, const char *instance)
{
	char	   *outcome = NULL;
	int32_t		released = 0;

	if (ff_client_mark_worker_dead(c, instance, ffctl_opt(a, "namespace"), ffctl_opt(a, "reason"),
								   &outcome, &released) != FF_OK)
		return ffctl_fail(a, c, "workers dead");
	if (a->json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_str(&j, "worker_instance_id", instance);
		jw_kv_str(&j, "outcome", outcome);
		jw_kv_int(&j, "leases_released", released);
		jw_doc_end(&j);
	}
	else
		printf("%s (%d lease%s released)\n", outcome, released, released == 1 ? "" : "s");
	ff_free(outcome);
	return FFCTL_EXIT_OK;
}

static void
print_expired(const ffctl_args *a, ffctl_json *j, const void *ctx FFCTL_UNUSED, const void *item,
			  size_t i FFCTL_UNUSED)
{
	const ff_expired_lease *e = item;

	if (!a->json)
	{
		printf("%s %s %s\n", e->execution_id, e->worker_instance_id, e->ownership_state);
		return;
	}
	jw_kv_str(j, "execution_id", e->execution_id);
	jw_kv_str(j, "lane_id", e->lane_id);
	jw_kv_str(j, "worker_instance_id", e->worker_instance_id);
	jw_kv_str(j, "lease_id", e->lease_id);
	jw_kv_int(j, "lease_epoch", e->lease_epoch);
	jw_kv_int(j, "expires_at_ms", e->expires_at_ms);
	jw_kv_str(j, "ownership_state", e->ownership_state);
}

static int
workers_expired(const ffctl_args *a, ff_client *c, int32_t limit)
{
	ff_expired_lease_list l = {0};

	if (ff_client_list_expired_leases(c, 0, 0, NULL, limit, ffctl_opt(a, "namespace"), &l) != FF_OK)
		return ffctl_fail(a, c, "workers expired-leases");
	FFCTL_PRINT_LIST(a, NULL, &l, print_expired, NULL);
	ff_expired_lease_list_clear(&l);
	return FFCTL_EXIT_OK;
}

int
cmd_workers(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	int			rc;
	int64_t		limit = 0;
	const char *sub;

	if (!ffctl_parse(argc, argv, workers_spec, &a))
		return FFCTL_EXIT_USAGE;
	sub = a.npos > 0 ? a.pos[0] : "list";
	if (!ffctl_opt_int64(&a, "limit", &limit, NULL) || limit < 0 || limit > 10000 ||
		!((strcmp(sub, "list") == 0 && a.npos <= 1) || (strcmp(sub, "dead") == 0 && a.npos == 2) ||
		  (strcmp(sub, "expired-leases") == 0 && a.npos == 1)))
		return ffctl_usage_error("workers", "expected: [list] | dead INSTANCE | expired-leases");
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (strcmp(sub, "dead") == 0)
		rc = workers_dead(&a, c, a.pos[1]);
	else if (strcmp(sub, "expired-leases") == 0)
		rc = workers_expired(&a, c, (int32_t) limit);
	else
		rc = workers_list(&a, c, (int32_t) limit);
	ff_client_close(c);
	return rc;
}

static const ffctl_optspec lane_spec[] = {
	{"reason", true}, {"cursor", true}, {"limit", true}, {NULL, false}
};

static void
print_lane_state(const ffctl_args *a, ffctl_json *j, const void *ctx FFCTL_UNUSED, const void *item,
				 size_t i FFCTL_UNUSED)
{
	const ff_lane_state *l = item;

	if (!a->json)
	{
		printf("%-40s %s\n", l->lane_id, l->state);
		return;
	}
	jw_kv_str(j, "lane_id", l->lane_id);
	jw_kv_str(j, "state", l->state);
	jw_kv_str(j, "registered_by", l->registered_by);
	jw_kv_int(j, "registered_at_ms", l->registered_at_ms);
}

int
cmd_lane(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	int			rc;
	int64_t		limit = 100;
	ff_status	(*fn) (ff_client *, const char *, const char *, ff_lane_state_change *) = NULL;

	if (!ffctl_parse(argc, argv, lane_spec, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos == 2 && strcmp(a.pos[0], "pause") == 0)
		fn = ff_client_pause_lane;
	else if (a.npos == 2 && strcmp(a.pos[0], "resume") == 0)
		fn = ff_client_resume_lane;
	else if (a.npos == 2 && strcmp(a.pos[0], "drain") == 0)
		fn = ff_client_drain_lane;
	else if (!(a.npos == 1 && strcmp(a.pos[0], "list") == 0))
		return ffctl_usage_error("lane", "expected: pause|resume|drain LANE | list");
	if (!ffctl_opt_int64(&a, "limit", &limit, NULL) || limit < 0 || limit > 1000)
		return ffctl_usage_error("lane", "--limit must be 0..1000");
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (fn)
	{
		ff_lane_state_change r = {0};

		if (fn(c, a.pos[1], ffctl_opt(&a, "reason"), &r) != FF_OK)
			rc = ffctl_fail(&a, c, "lane");
		else
		{
			const char *keys[] = {"lane_id", "state", "previous_state"};
			const char *values[] = {r.lane_id, r.state, r.previous_state};

			if (a.json)
				print_pairs(&a, keys, values, 3);
			else
				printf("%s: %s -> %s\n", r.lane_id, r.previous_state, r.state);
		}
		ff_lane_state_change_clear(&r);
	}
	else
	{
		ff_lane_state_list l = {0};

		if (ff_client_list_lane_states(c, ffctl_opt(&a, "cursor"), (int32_t) limit, &l) != FF_OK)
			rc = ffctl_fail(&a, c, "lane list");
		else
			FFCTL_PRINT_LIST(&a, NULL, &l, print_lane_state, NULL);
		ff_lane_state_list_clear(&l);
	}
	ff_client_close(c);
	return rc;
}

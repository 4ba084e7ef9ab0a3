/*
 * cmd_read.c - ffctl describe, result, list, lanes, tag, ping, time,
 * capabilities.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ffctl.h"

int
cmd_describe(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_execution_description d = {0};
	ff_execution_info i = {0};
	ff_bytes	result = {0};
	ff_client  *c;
	int			rc;

	if (!ffctl_parse(argc, argv, ffctl_no_options, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos != 1)
		return ffctl_usage_error("describe", "expected one EXECUTION_ID");
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (ff_client_describe_execution(c, a.pos[0], &d) != FF_OK ||
		ff_client_read_execution_info(c, a.pos[0], &i) != FF_OK ||
		ff_client_get_execution_result(c, a.pos[0], &result) != FF_OK)
	{
		rc = ffctl_fail(&a, c, "describe");
		goto out;
	}
	if (!d.found || !i.found)
	{
		if (a.json)
			printf("null\n");
		fprintf(stderr, "ffctl describe: no execution %s\n", a.pos[0]);
		rc = FFCTL_EXIT_NOT_FOUND;
		goto out;
	}
	if (a.json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_str(&j, "execution_id", d.execution_id);
		jw_kv_str(&j, "lane_id", d.lane_id);
		jw_kv_str(&j, "namespace", d.ns);
		jw_kv_str(&j, "flow_id", d.flow_id);
		jw_kv_str(&j, "execution_kind", i.execution_kind);
		jw_kv_int(&j, "priority", i.priority);
		jw_kv_str(&j, "public_state", d.public_state);
		jw_key(&j, "state_vector");
		jw_obj_begin(&j);
		jw_kv_str(&j, "lifecycle_phase", i.lifecycle_phase);
		jw_kv_str(&j, "ownership_state", i.ownership_state);
		jw_kv_str(&j, "eligibility_state", i.eligibility_state);
		jw_kv_str(&j, "blocking_reason", i.blocking_reason);
		jw_kv_str(&j, "terminal_outcome", i.terminal_outcome);
		jw_kv_str(&j, "attempt_state", i.attempt_state);
		jw_obj_end(&j);
		jw_kv_str(&j, "blocking_detail", d.blocking_detail);
		jw_key(&j, "current_attempt_index");
		if (d.has_current_attempt)
			jw_int(&j, d.current_attempt_index);
		else
			jw_null(&j);
		jw_kv_str(&j, "current_attempt_id", d.current_attempt_id);
		jw_kv_int(&j, "total_attempt_count", d.total_attempt_count);
		jw_key(&j, "lease");
		if (d.has_lease)
		{
			jw_obj_begin(&j);
			jw_kv_str(&j, "lease_id", d.lease_id);
			jw_kv_int(&j, "lease_epoch", d.lease_epoch);
			jw_kv_str(&j, "worker_instance_id", d.worker_instance_id);
			jw_kv_int(&j, "lease_expires_at_ms", d.lease_expires_at_ms);
			jw_key(&j, "lease_renewed_at_ms");
			if (d.lease_renewed_at_ms > 0)
				jw_int(&j, d.lease_renewed_at_ms);
			else
				jw_null(&j);
			jw_obj_end(&j);
		}
		else
			jw_null(&j);
		jw_kv_int(&j, "created_at_ms", d.created_at_ms);
		jw_key(&j, "started_at_ms");
		if (i.started_at_ms > 0)
			jw_int(&j, i.started_at_ms);
		else
			jw_null(&j);
		jw_key(&j, "completed_at_ms");
		if (i.completed_at_ms > 0)
			jw_int(&j, i.completed_at_ms);
		else
			jw_null(&j);
		jw_kv_int(&j, "last_mutation_at_ms", d.last_mutation_at_ms);
		jw_key(&j, "tags");
		jw_raw(&j, d.tags_json);
		jw_bytes(&j, "result", &result);
		jw_doc_end(&j);
	}
	else
	{
		ffctl_kv("execution_id", "%s", d.execution_id);
		ffctl_kv("lane", "%s", d.lane_id);
		ffctl_kv("namespace", "%s", ffctl_dash(d.ns));
		ffctl_kv("kind", "%s", ffctl_dash(i.execution_kind));
		ffctl_kv("priority", "%d", (int) i.priority);
		if (d.flow_id)
			ffctl_kv("flow", "%s", d.flow_id);
		ffctl_kv("state", "%s", d.public_state);
		ffctl_kv("state vector", "%s / %s / %s / %s / %s / %s", i.lifecycle_phase, i.ownership_state,
				 i.eligibility_state, i.blocking_reason, i.terminal_outcome, i.attempt_state);
		if (d.blocking_detail)
			ffctl_kv("blocking detail", "%s", d.blocking_detail);
		if (d.has_current_attempt)
			ffctl_kv("attempts", "%d (current: %d, %s)", (int) d.total_attempt_count,
					 (int) d.current_attempt_index, ffctl_dash(d.current_attempt_id));
		else
			ffctl_kv("attempts", "0");
		if (d.has_lease)
		{
			char		when[40];

			ffctl_format_time(d.lease_expires_at_ms, when, sizeof(when));
			ffctl_kv("lease", "epoch %lld held by %s until %s (%s)", (long long) d.lease_epoch,
					 ffctl_dash(d.worker_instance_id), when, d.lease_id);
		}
		else
			ffctl_kv("lease", "-");
		ffctl_kv_time("created", d.created_at_ms);
		ffctl_kv_time("started", i.started_at_ms);
		ffctl_kv_time("completed", i.completed_at_ms);
		ffctl_kv_time("last change", d.last_mutation_at_ms);
		ffctl_kv("tags", "%s", d.tags_json ? d.tags_json : "{}");
		printf("%-20s ", "result");
		ffctl_print_bytes(stdout, &result);
		putchar('\n');
	}
out:
	ff_execution_description_clear(&d);
	ff_execution_info_clear(&i);
	ff_bytes_clear(&result);
	ff_client_close(c);
	return rc;
}

int
cmd_result(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_bytes	b = {0};
	ff_client  *c;
	int			rc;

	if (!ffctl_parse(argc, argv, ffctl_no_options, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos != 1)
		return ffctl_usage_error("result", "expected one EXECUTION_ID");
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (ff_client_get_execution_result(c, a.pos[0], &b) != FF_OK)
		rc = ffctl_fail(&a, c, "result");
	else if (b.data == NULL)
	{
		fprintf(stderr, "ffctl result: no result for %s\n", a.pos[0]);
		rc = FFCTL_EXIT_NOT_FOUND;
	}
	else if (a.json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_bytes(&j, "result", &b);
		jw_doc_end(&j);
	}
	else
		fwrite(b.data, 1, b.len, stdout);
	ff_bytes_clear(&b);
	ff_client_close(c);
	return rc;
}

static const ffctl_optspec list_spec[] = {
	{"lane", true}, {"partition", true}, {"cursor", true}, {"limit", true}, {"all", false}, {NULL, false}
};

typedef struct list_filter
{
	char		pk[32];
	const char *lane;			/* NULL: every lane */
} list_filter;

static ff_status
list_page(const ffctl_args *a, ff_client *c, ffctl_json *j, const void *ctx, const char *cursor,
		  int32_t limit, size_t *count, char **next)
{
	const list_filter *f = ctx;
	ff_execution_list l = {0};
	ff_status	s = ff_client_list_executions(c, f->pk, cursor, limit, &l);

	for (size_t k = 0; k < l.count; k++)
	{
		ff_execution_summary *e = &l.items[k];
		char		when[40];

		if (f->lane && strcmp(e->lane_id, f->lane) != 0)
			continue;
		if (!a->json)
		{
			ffctl_format_time(e->created_at_ms, when, sizeof(when));
			printf("%-46s %-20s %-10s %s\n", e->execution_id, e->lane_id, e->public_state, when);
			continue;
		}
		jw_obj_begin(j);
		jw_kv_str(j, "execution_id", e->execution_id);
		jw_kv_str(j, "lane_id", e->lane_id);
		jw_kv_str(j, "public_state", e->public_state);
		jw_kv_int(j, "created_at_ms", e->created_at_ms);
		jw_obj_end(j);
	}
	*count = l.count;
	*next = l.count > 0 ? strdup(l.items[l.count - 1].execution_id) : NULL;
	ff_execution_list_clear(&l);
	return s;
}

int
cmd_list(int argc, char **argv)
{
	static const ffctl_listing listing = {
		"list", "EXECUTION_ID                                   LANE                 STATE      "
		"CREATED\n", "(more: --cursor '%s', or --all)\n", list_page
	};
	ffctl_args	a = {0};
	list_filter f;
	const char *part;
	int64_t		limit = 100;

	if (!ffctl_parse(argc, argv, list_spec, &a))
		return FFCTL_EXIT_USAGE;
	f.lane = ffctl_opt(&a, "lane");
	part = ffctl_opt(&a, "partition");
	if ((f.lane == NULL) == (part == NULL) || a.npos > 0 || !ffctl_opt_int64(&a, "limit", &limit, NULL))
		return ffctl_usage_error("list", "give exactly one of --lane and --partition");
	ffctl_partition_key(part, f.lane ? ff_solo_partition(f.lane) : 0, f.pk, sizeof(f.pk));
	return ffctl_list_pages(&a, &listing, &f, ffctl_opt(&a, "cursor"), limit,
							(int32_t) (limit > 1000 ? 1000 : limit), ffctl_flag(&a, "all"));
}

static const ffctl_optspec lanes_spec[] = {{"cursor", true}, {"limit", true}, {NULL, false}};

static void
print_lane(const ffctl_args *a, ffctl_json *j, const void *ctx FFCTL_UNUSED, const void *item,
		   size_t i FFCTL_UNUSED)
{
	const ff_lane *l = item;
	char		when[40];

	if (a->json)
	{
		jw_kv_str(j, "lane_id", l->lane_id);
		jw_kv_int(j, "registered_at_ms", l->registered_at_ms);
		jw_kv_str(j, "registered_by", l->registered_by);
		return;
	}
	ffctl_format_time(l->registered_at_ms, when, sizeof(when));
	printf("%-40s %s\n", l->lane_id, when);
}

int
cmd_lanes(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_lane_list l = {0};
	ff_client  *c;
	int			rc;
	int64_t		limit = 100;

	if (!ffctl_parse(argc, argv, lanes_spec, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos > 0 || !ffctl_opt_int64(&a, "limit", &limit, NULL))
		return ffctl_usage_error("lanes", "bad arguments");
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (ff_client_list_lanes(c, ffctl_opt(&a, "cursor"), (int32_t) (limit > 1000 ? 1000 : limit), &l) != FF_OK)
		rc = ffctl_fail(&a, c, "lanes");
	else
		FFCTL_PRINT_LIST(&a, NULL, &l, print_lane, NULL);
	ff_lane_list_clear(&l);
	ff_client_close(c);
	return rc;
}

int
cmd_tag(int argc, char **argv)
{
	static const ffctl_tag_calls calls = {
		"tag", "EXECUTION_ID", "", ff_client_get_execution_tag, ff_client_set_execution_tag
	};

	return ffctl_tag_command(argc, argv, &calls);
}

int
cmd_ping(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	int			rc;

	if (!ffctl_parse(argc, argv, ffctl_no_options, &a))
		return FFCTL_EXIT_USAGE;
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (ff_client_ping(c) != FF_OK)
		rc = ffctl_fail(&a, c, "ping");
	else
		printf(a.json ? "{\"ok\":true}\n" : "ok\n");
	ff_client_close(c);
	return rc;
}

int
cmd_time(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	int			rc;
	int64_t		t = 0;
	char		buf[40];

	if (!ffctl_parse(argc, argv, ffctl_no_options, &a))
		return FFCTL_EXIT_USAGE;
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (ff_client_server_time_ms(c, &t) != FF_OK)
		rc = ffctl_fail(&a, c, "time");
	else if (a.json)
		printf("{\"server_time_ms\":%lld}\n", (long long) t);
	else
	{
		ffctl_format_time(t, buf, sizeof(buf));
		printf("%lld %s\n", (long long) t, buf);
	}
	ff_client_close(c);
	return rc;
}

int
cmd_capabilities(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	int			rc;
	char	   *json = NULL;

	if (!ffctl_parse(argc, argv, ffctl_no_options, &a))
		return FFCTL_EXIT_USAGE;
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (ff_client_capabilities(c, &json) != FF_OK)
		rc = ffctl_fail(&a, c, "capabilities");
	else
		printf("%s\n", json);
	ff_free(json);
	ff_client_close(c);
	return rc;
}

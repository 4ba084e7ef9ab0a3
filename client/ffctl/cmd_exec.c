/*
 * cmd_exec.c - ffctl enqueue, claim, and the handle commands (renew,
 * progress, complete, fail, cancel, delay).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ffctl.h"

/* --tag k=v ... as a JSON object (malloc'ed), NULL if none; *bad on error */
static char *
tags_from_options(const ffctl_args *a, bool *bad)
{
	int			n = ffctl_opt_count(a, "tag");
	ffctl_sbuf	b = {0};

	*bad = false;
	if (n == 0)
		return NULL;
	ffctl_sb_str(&b, "{");
	for (int i = 0; i < n; i++)
	{
		const char *kv = ffctl_opt_n(a, "tag", i);
		const char *eq = strchr(kv, '=');
		char	   *key;

		if (eq == NULL)
		{
			ffctl_usage_error("enqueue", "--tag wants KEY=VALUE, got \"%s\"", kv);
			free(b.data);
			*bad = true;
			return NULL;
		}
		key = strndup(kv, (size_t) (eq - kv));
		if (key == NULL)
			b.oom = true;
		if (i > 0)
			ffctl_sb_str(&b, ",");
		ffctl_sb_json(&b, key ? key : "");
		ffctl_sb_str(&b, ":");
		ffctl_sb_json(&b, eq + 1);
		free(key);
	}
	ffctl_sb_str(&b, "}");
	if (b.oom)
	{
		free(b.data);
		*bad = true;
		return NULL;
	}
	return b.data;
}

static const ffctl_optspec enqueue_spec[] = {
	{"lane", true}, {"payload", true}, {"payload-file", true}, {"id", true},
	{"namespace", true}, {"kind", true}, {"priority", true}, {"cap", true},
	{"policy", true}, {"delay-ms", true}, {"delay-until", true}, {"deadline-ms", true},
	{"deadline-at", true}, {"idempotency-key", true}, {"tag", true}, {"tags", true},
	{"creator", true}, {"file", true}, {"batch", true}, {NULL, false}
};

int
cmd_enqueue(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_create_args ca = {0};
	ff_create_result r = {0};
	ff_bytes	payload = {0};
	ff_client  *c;
	const char *caps[FFCTL_MAX_OPTS];
	char	   *tags = NULL;
	bool		bad = false;
	int			rc;
	int64_t		priority = 0,
				delay_ms = 0,
				delay_until = 0,
				deadline_ms = 0,
				deadline_at = 0;
	bool		has_delay_ms,
				has_deadline_ms;

	if (!ffctl_parse(argc, argv, enqueue_spec, &a))
		return FFCTL_EXIT_USAGE;
	if (ffctl_opt(&a, "file"))	/* one line per execution, batched (cmd_batch.c) */
		return a.npos > 0 ? ffctl_usage_error("enqueue", "bad arguments") : ffctl_enqueue_file(&a);
	if (!ffctl_opt(&a, "lane"))
		return ffctl_usage_error("enqueue", "--lane is required");
	if (ffctl_opt(&a, "payload") && ffctl_opt(&a, "payload-file"))
		return ffctl_usage_error("enqueue", "--payload and --payload-file exclude each other");
	if (ffctl_opt(&a, "tags") && ffctl_opt_count(&a, "tag") > 0)
		return ffctl_usage_error("enqueue", "--tags and --tag exclude each other");
	if (!ffctl_opt_int64(&a, "priority", &priority, NULL) ||
		!ffctl_opt_int64(&a, "delay-ms", &delay_ms, &has_delay_ms) ||
		!ffctl_opt_int64(&a, "delay-until", &delay_until, NULL) ||
		!ffctl_opt_int64(&a, "deadline-ms", &deadline_ms, &has_deadline_ms) ||
		!ffctl_opt_int64(&a, "deadline-at", &deadline_at, NULL) || a.npos > 0)
		return ffctl_usage_error("enqueue", "bad arguments");
	tags = tags_from_options(&a, &bad);
	if (bad)
		return FFCTL_EXIT_USAGE;
	if (!ffctl_payload_option(&a, &payload, &ca.input_payload, &ca.input_payload_len))
	{
		free(tags);
		return FFCTL_EXIT_ERROR;
	}

	c = ffctl_connect(&a, &rc);
	if (c == NULL)
	{
		free(tags);
		ff_bytes_clear(&payload);
		return rc;
	}
	if (has_delay_ms || has_deadline_ms)
	{
		int64_t		now = 0;

		if (ff_client_server_time_ms(c, &now) != FF_OK)
		{
			rc = ffctl_fail(&a, c, "enqueue");
			goto out;
		}
		if (has_delay_ms)
			delay_until = now + delay_ms;
		if (has_deadline_ms)
			deadline_at = now + deadline_ms;
	}
	ca.lane_id = ffctl_opt(&a, "lane");
	ca.execution_id = ffctl_opt(&a, "id");
	ca.ns = ffctl_opt(&a, "namespace");
	ca.execution_kind = ffctl_opt(&a, "kind");
	ca.priority = (int32_t) (priority > 100000 ? 100000 : priority < -100000 ? -100000 : priority);
	ca.required_capabilities = caps;
	ca.n_required_capabilities = ffctl_opt_all(&a, "cap", caps);
	ca.policy_json = ffctl_opt(&a, "policy");
	ca.delay_until_ms = delay_until;
	ca.execution_deadline_at_ms = deadline_at;
	ca.idempotency_key = ffctl_opt(&a, "idempotency-key");
	ca.tags_json = tags ? tags : ffctl_opt(&a, "tags");
	ca.creator_identity = ffctl_opt(&a, "creator") ? ffctl_opt(&a, "creator") : "ffctl";

	if (ff_client_create_execution(c, &ca, &r) != FF_OK)
		rc = ffctl_fail(&a, c, "enqueue");
	else if (a.json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_str(&j, "execution_id", r.execution_id);
		jw_kv_str(&j, "public_state", r.public_state);
		jw_kv_bool(&j, "created", r.created);
		jw_doc_end(&j);
	}
	else
	{
		printf("%s\n", r.execution_id);
		if (!r.created)
			fprintf(stderr, "ffctl enqueue: not created: the execution already exists (%s)\n",
					r.public_state);
	}
out:
	ff_create_result_clear(&r);
	ff_client_close(c);
	free(tags);
	ff_bytes_clear(&payload);
	return rc;
}

/* ------------------------------------------------------------------------ */
static const ffctl_optspec claim_spec[] = {
	{"lane", true}, {"worker-id", true}, {"worker-instance-id", true}, {"cap", true},
	{"lease-ttl-ms", true}, {"max", true}, {NULL, false}
};

static void
print_claimed(const ffctl_args *a, ffctl_json *j, const void *ctx FFCTL_UNUSED, const void *item,
			  size_t i)
{
	const ff_claimed *it = item;
	char	   *hex = NULL;

	ff_handle_to_hex(&it->handle, &hex);
	if (a->json)
	{
		jw_kv_str(j, "handle", hex);
		jw_kv_str(j, "execution_id", it->execution_id);
		jw_kv_int(j, "attempt_index", it->attempt_index);
		jw_kv_int(j, "lease_epoch", it->lease_epoch);
		jw_kv_int(j, "lease_expires_at_ms", it->lease_expires_at_ms);
		jw_bytes(j, "input_payload", &it->input_payload);
	}
	else
	{
		if (i > 0)
			putchar('\n');
		ffctl_kv("execution_id", "%s", it->execution_id);
		ffctl_kv("attempt_index", "%d", (int) it->attempt_index);
		ffctl_kv("lease_epoch", "%lld", (long long) it->lease_epoch);
		ffctl_kv_time("lease_expires_at", it->lease_expires_at_ms);
		ffctl_kv("handle", "%s", hex ? hex : "?");
		printf("%-20s ", "input_payload");
		ffctl_print_bytes(stdout, &it->input_payload);
		putchar('\n');
	}
	ff_free(hex);
}

int
cmd_claim(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_claim_args ca = {0};
	ff_claim_list l = {0};
	ff_client  *c;
	const char *caps[FFCTL_MAX_OPTS];
	char		instance[300];
	int64_t		ttl = 0,
				max = 1;
	int			rc;

	if (!ffctl_parse(argc, argv, claim_spec, &a))
		return FFCTL_EXIT_USAGE;
	if (!ffctl_opt(&a, "lane"))
		return ffctl_usage_error("claim", "--lane is required");
	if (!ffctl_opt_int64(&a, "lease-ttl-ms", &ttl, NULL) || !ffctl_opt_int64(&a, "max", &max, NULL) ||
		a.npos > 0)
		return ffctl_usage_error("claim", "bad arguments");
	ffctl_instance_id(instance, sizeof(instance));
	ca.lane_id = ffctl_opt(&a, "lane");
	ca.worker_id = ffctl_opt(&a, "worker-id") ? ffctl_opt(&a, "worker-id") : "ffctl";
	ca.worker_instance_id = ffctl_opt(&a, "worker-instance-id") ? ffctl_opt(&a, "worker-instance-id") : instance;
	ca.capabilities = caps;
	ca.n_capabilities = ffctl_opt_all(&a, "cap", caps);
	ca.lease_ttl_ms = ttl;
	ca.max_claims = (int32_t) (max > 100000 ? 100000 : max < -1 ? -1 : max);

	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (ff_client_claim(c, &ca, &l) != FF_OK)
		rc = ffctl_fail(&a, c, "claim");
	else
	{
		FFCTL_PRINT_LIST(&a, NULL, &l, print_claimed, NULL);
		if (l.count == 0 && !a.json)
			fprintf(stderr, "ffctl claim: nothing to claim on lane %s\n", ca.lane_id);
		rc = l.count > 0 ? FFCTL_EXIT_OK : FFCTL_EXIT_EMPTY;
	}
	ff_claim_list_clear(&l);
	ff_client_close(c);
	return rc;
}

/* ------------------------------------------------------------------------
 * handle commands
 * ------------------------------------------------------------------------ */

static int
done(const ffctl_args *a, ff_client *c, ff_handle *h, ff_status s, const char *what,
	 const char *human)
{
	int			rc = FFCTL_EXIT_OK;

	if (s != FF_OK)
		rc = ffctl_fail(a, c, what);
	else if (a->json)
		printf("{\"ok\":true}\n");
	else
		printf("%s\n", human);
	ff_handle_clear(h);
	ff_client_close(c);
	return rc;
}

static const ffctl_optspec renew_spec[] = {{NULL, false}};

int
cmd_renew(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_handle	h = {0};
	ff_renew_result r = {0};
	int			rc;
	ff_client  *c = ffctl_handle_command(argc, argv, renew_spec, NULL, &a, &h, &rc);
	char		when[40];

	if (c == NULL)
		return rc;
	if (ff_client_renew(c, &h, &r) != FF_OK)
		rc = ffctl_fail(&a, c, "renew");
	else if (a.json)
		printf("{\"lease_expires_at_ms\":%lld,\"lease_epoch\":%lld}\n",
			   (long long) r.lease_expires_at_ms, (long long) r.lease_epoch);
	else
	{
		ffctl_format_time(r.lease_expires_at_ms, when, sizeof(when));
		printf("lease renewed until %s (%lld), epoch %lld\n", when,
			   (long long) r.lease_expires_at_ms, (long long) r.lease_epoch);
	}
	ff_handle_clear(&h);
	ff_client_close(c);
	return rc;
}

static const ffctl_optspec progress_spec[] = {{"percent", true}, {"message", true}, {NULL, false}};

int
cmd_progress(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_handle	h = {0};
	int			rc;
	ff_client  *c = ffctl_handle_command(argc, argv, progress_spec, NULL, &a, &h, &rc);
	int64_t		pct = -1;

	if (c == NULL)
		return rc;
	if (!ffctl_opt_int64(&a, "percent", &pct, NULL))
	{
		ff_handle_clear(&h);
		ff_client_close(c);
		return FFCTL_EXIT_USAGE;
	}
	if (pct < -1 || pct > 100000)
		pct = 100000;			/* let the engine say what is wrong */
	return done(&a, c, &h, ff_client_progress(c, &h, (int32_t) pct, ffctl_opt(&a, "message")),
				"progress", "progress recorded");
}

static const ffctl_optspec complete_spec[] = {{"result", true}, {"result-file", true}, {NULL, false}};

int
cmd_complete(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_handle	h = {0};
	ff_bytes	b = {0};
	int			rc;
	ff_client  *c = ffctl_handle_command(argc, argv, complete_spec, NULL, &a, &h, &rc);
	ff_status	s;

	if (c == NULL)
		return rc;
	if (ffctl_opt(&a, "result-file") && !ffctl_read_file(ffctl_opt(&a, "result-file"), &b))
	{
		ff_handle_clear(&h);
		ff_client_close(c);
		return FFCTL_EXIT_ERROR;
	}
	if (ffctl_opt(&a, "result"))
		s = ff_client_complete(c, &h, ffctl_opt(&a, "result"), strlen(ffctl_opt(&a, "result")));
	else
		s = ff_client_complete(c, &h, b.data, b.len);
	ff_bytes_clear(&b);
	return done(&a, c, &h, s, "complete", "completed");
}

static const ffctl_optspec fail_spec[] = {{"message", true}, {"class", true}, {"detail", true}, {NULL, false}};

int
cmd_fail(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_handle	h = {0};
	ff_fail_result r = {0};
	int			rc;
	ff_client  *c = ffctl_handle_command(argc, argv, fail_spec, NULL, &a, &h, &rc);
	const char *detail;
	char		when[40];

	if (c == NULL)
		return rc;
	detail = ffctl_opt(&a, "detail");
	if (ff_client_fail(c, &h, ffctl_opt(&a, "message"), ffctl_opt(&a, "class"), detail,
					   detail ? strlen(detail) : 0, &r) != FF_OK)
		rc = ffctl_fail(&a, c, "fail");
	else if (a.json)
	{
		printf("{\"outcome\":\"%s\",\"delay_until\":", r.outcome == FF_FAIL_RETRY_SCHEDULED ? "retry_scheduled" : "terminal_failed");
		if (r.outcome == FF_FAIL_RETRY_SCHEDULED)
			printf("%lld}\n", (long long) r.delay_until_ms);
		else
			printf("null}\n");
	}
	else if (r.outcome == FF_FAIL_RETRY_SCHEDULED)
	{
		ffctl_format_time(r.delay_until_ms, when, sizeof(when));
		printf("retry scheduled at %s (%lld)\n", when, (long long) r.delay_until_ms);
	}
	else
		printf("failed (terminal)\n");
	ff_handle_clear(&h);
	ff_client_close(c);
	return rc;
}

static const ffctl_optspec cancel_spec[] = {{"reason", true}, {NULL, false}};

int
cmd_cancel(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_handle	h = {0};
	int			rc;
	ff_client  *c = ffctl_handle_command(argc, argv, cancel_spec, NULL, &a, &h, &rc);

	if (c == NULL)
		return rc;
	return done(&a, c, &h, ff_client_cancel(c, &h, ffctl_opt(&a, "reason")), "cancel", "cancelled");
}

static const ffctl_optspec delay_spec[] = {{"ms", true}, {"until", true}, {NULL, false}};

int
cmd_delay(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_handle	h = {0};
	int			rc;
	ff_client  *c = ffctl_handle_command(argc, argv, delay_spec, NULL, &a, &h, &rc);
	int64_t		ms = 0,
				until = 0;
	bool		has_ms,
				has_until;

	if (c == NULL)
		return rc;
	if (!ffctl_opt_int64(&a, "ms", &ms, &has_ms) || !ffctl_opt_int64(&a, "until", &until, &has_until) ||
		has_ms == has_until)
	{
		ff_handle_clear(&h);
		ff_client_close(c);
		return ffctl_usage_error("delay", "give exactly one of --ms and --until");
	}
	if (has_ms)
	{
		int64_t		now = 0;

		if (ff_client_server_time_ms(c, &now) != FF_OK)
			return done(&a, c, &h, FF_ERR_CONNECTION, "delay", "");
		until = now + ms;
	}
	return done(&a, c, &h, ff_client_delay(c, &h, until), "delay", "delayed");
}

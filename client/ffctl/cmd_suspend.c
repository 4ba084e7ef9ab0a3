/*
 * cmd_suspend.c - ffctl verbs for suspension, waitpoints and signals
 * (docs/ffctl.md, "Suspension and signals"):
 *
 *   suspend           suspend an execution (handle or lease triple) on waitpoints
 *   signal            deliver a signal with a waitpoint token (an outside system
 *                     resuming a job)
 *   waitpoint         create | token | close
 *   waitpoints        list an execution's pending / active waitpoints
 *   suspended         list the suspended executions of a partition
 *   observe           the signals that resumed an attempt
 *   claim-resumed     claim one resumed execution (the same attempt continues)
 *   resume            operator resume
 *   approve           operator approval / rejection signal
 *   expire-suspension apply one execution's suspension timeout if due
 *   hmac              seed | rotate | list: the waitpoint keystore
 *   signals           read or follow the signal-event outbox
 *   reconcile-suspensions  the suspension-timeout / pending-waitpoint-expiry passes
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ffctl.h"

/* ------------------------------------------------------------------------
 * helpers
 * ------------------------------------------------------------------------ */

/* a secret from --secret-hex, --secret-file or --generate (malloc'ed hex) */
static char *
secret_from_options(const ffctl_args *a, const char *command)
{
	const char *hex = ffctl_opt(a, "secret-hex");
	const char *file = ffctl_opt(a, "secret-file");
	bool		gen = ffctl_flag(a, "generate");
	char	   *out;

	if ((hex != NULL) + (file != NULL) + gen != 1)
	{
		ffctl_usage_error(command, "give exactly one of --secret-hex, --secret-file and --generate");
		return NULL;
	}
	if (hex)
		return strdup(hex);
	if (file)
		return ffctl_read_trimmed(file, "\n\r \t");
	{
		unsigned char raw[32];
		FILE	   *f = fopen("/dev/urandom", "rb");
		size_t		got = f ? fread(raw, 1, sizeof(raw), f) : 0;

		if (f)
			fclose(f);
		if (got != sizeof(raw))
		{
			fprintf(stderr, "ffctl %s: cannot read /dev/urandom\n", command);
			return NULL;
		}
		out = malloc(2 * sizeof(raw) + 1);
		if (out)
			for (size_t i = 0; i < sizeof(raw); i++)
				snprintf(out + 2 * i, 3, "%02x", raw[i]);
		memset(raw, 0, sizeof(raw));
		return out;
	}
}

static void
wipe_free(char *s)
{
	if (s)
	{
		memset(s, 0, strlen(s));
		free(s);
	}
}

/* ------------------------------------------------------------------------
 * suspend
 * ------------------------------------------------------------------------ */
static const ffctl_optspec suspend_spec[] = {
	{"waitpoint", true}, {"use-pending", true}, {"waitpoints", true}, {"condition", true},
	{"reason", true}, {"requested-by", true}, {"timeout-ms", true}, {"timeout-at", true},
	{"on-timeout", true}, {"resume-policy", true}, {"suspension-id", true},
	{"idempotency-key", true}, {"continuation", true}, {"execution", true}, {"lease-id", true},
	{"lease-epoch", true}, {"attempt-id", true}, {"attempt-index", true}, {NULL, false}
};

static void
print_suspend_result(const ffctl_args *a, const ff_suspend_result *r)
{
	char	   *hex = NULL;
	const char *outcome = r->outcome == FF_SUSPEND_SUSPENDED ? "suspended" : "already_satisfied";

	ff_handle_to_hex(&r->handle, &hex);
	if (a->json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_str(&j, "outcome", outcome);
		jw_kv_str(&j, "suspension_id", r->suspension_id);
		jw_kv_str(&j, "handle", hex);
		jw_key(&j, "waitpoints");
		jw_arr_begin(&j);
		for (size_t i = 0; i < r->n_waitpoints; i++)
		{
			jw_obj_begin(&j);
			jw_kv_int(&j, "index", r->waitpoints[i].index);
			jw_kv_str(&j, "waitpoint_id", r->waitpoints[i].waitpoint_id);
			jw_kv_str(&j, "waitpoint_key", r->waitpoints[i].waitpoint_key);
			jw_kv_str(&j, "waitpoint_token", r->waitpoints[i].waitpoint_token);
			jw_obj_end(&j);
		}
		jw_arr_end(&j);
		jw_doc_end(&j);
	}
	else
	{
		ffctl_kv("outcome", "%s", outcome);
		ffctl_kv("suspension_id", "%s", r->suspension_id);
		for (size_t i = 0; i < r->n_waitpoints; i++)
		{
			char		label[32];

			snprintf(label, sizeof(label), "waitpoint[%d]", (int) r->waitpoints[i].index);
			ffctl_kv(label, "%s %s", r->waitpoints[i].waitpoint_id, r->waitpoints[i].waitpoint_key);
			snprintf(label, sizeof(label), "token[%d]", (int) r->waitpoints[i].index);
			ffctl_kv(label, "%s", r->waitpoints[i].waitpoint_token);
		}
		if (r->outcome == FF_SUSPEND_ALREADY_SATISFIED)
			fprintf(stderr, "ffctl suspend: buffered signals already satisfy the condition; "
					"the lease is kept\n");
	}
	ff_free(hex);
}

int
cmd_suspend(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_suspend_args sa = {0};
	ff_suspend_result r = {0};
	ff_lease_triple t = {0};
	ff_handle	h = {0};
	ff_client  *c;
	ffctl_sbuf		wps = {0};
	int64_t		timeout_ms = 0,
				timeout_at = 0,
				epoch = 0,
				attempt_index = 0;
	bool		has_timeout_ms,
				has_timeout_at,
				has_epoch,
				has_attempt_index;
	bool		by_triple;
	int			nkeys,
				npending;
	int			rc;
	ff_status	s;

	if (!ffctl_parse(argc, argv, suspend_spec, &a))
		return FFCTL_EXIT_USAGE;
	if (!ffctl_opt_int64(&a, "timeout-ms", &timeout_ms, &has_timeout_ms) ||
		!ffctl_opt_int64(&a, "timeout-at", &timeout_at, &has_timeout_at) ||
		!ffctl_opt_int64(&a, "lease-epoch", &epoch, &has_epoch) ||
		!ffctl_opt_int64(&a, "attempt-index", &attempt_index, &has_attempt_index))
		return ffctl_usage_error("suspend", "bad arguments");
	by_triple = ffctl_opt(&a, "execution") != NULL;
	if (by_triple ? (a.npos != 0 || !ffctl_opt(&a, "lease-id") || !has_epoch)
		: (a.npos != 1 || ffctl_opt(&a, "lease-id") || has_epoch || ffctl_opt(&a, "attempt-id") ||
		   has_attempt_index))
		return ffctl_usage_error("suspend",
								 "give a HANDLE, or --execution with --lease-id and --lease-epoch");
	if (has_timeout_ms && has_timeout_at)
		return ffctl_usage_error("suspend", "--timeout-ms and --timeout-at exclude each other");
	nkeys = ffctl_opt_count(&a, "waitpoint");
	npending = ffctl_opt_count(&a, "use-pending");
	if ((nkeys + npending > 0) == (ffctl_opt(&a, "waitpoints") != NULL))
		return ffctl_usage_error("suspend",
								 "give --waitpoint KEY / --use-pending ID (repeatable), or --waitpoints JSON");
	if (!by_triple && ff_handle_from_hex(a.pos[0], &h) != FF_OK)
		return ffctl_usage_error("suspend", "HANDLE is not hex");

	if (nkeys + npending > 0)
	{
		ffctl_sb_str(&wps, "[");
		for (int i = 0; i < nkeys; i++)
		{
			if (i > 0)
				ffctl_sb_str(&wps, ",");
			ffctl_sb_json(&wps, ffctl_opt_n(&a, "waitpoint", i));
		}
		for (int i = 0; i < npending; i++)
		{
			if (nkeys + i > 0)
				ffctl_sb_str(&wps, ",");
			ffctl_sb_str(&wps, "{\"use_pending\":");
			ffctl_sb_json(&wps, ffctl_opt_n(&a, "use-pending", i));
			ffctl_sb_str(&wps, "}");
		}
		ffctl_sb_str(&wps, "]");
		if (wps.oom)
		{
			free(wps.data);
			ff_handle_clear(&h);
			return FFCTL_EXIT_ERROR;
		}
	}

	c = ffctl_connect(&a, &rc);
	if (c == NULL)
	{
		free(wps.data);
		ff_handle_clear(&h);
		return rc;
	}
	if (has_timeout_ms)
	{
		int64_t		now = 0;

		if (ff_client_server_time_ms(c, &now) != FF_OK)
		{
			rc = ffctl_fail(&a, c, "suspend");
			goto out;
		}
		timeout_at = now + timeout_ms;
	}
	sa.waitpoints_json = wps.data ? wps.data : ffctl_opt(&a, "waitpoints");
	sa.resume_condition_json = ffctl_opt(&a, "condition");
	sa.suspension_id = ffctl_opt(&a, "suspension-id");
	sa.reason_code = ffctl_opt(&a, "reason");
	sa.requested_by = ffctl_opt(&a, "requested-by");
	sa.timeout_at_ms = timeout_at;
	sa.timeout_behavior = ffctl_opt(&a, "on-timeout");
	if (sa.timeout_behavior && strcmp(sa.timeout_behavior, "auto_resume") == 0)
		sa.timeout_behavior = FF_TIMEOUT_AUTO_RESUME;
	sa.resume_policy_json = ffctl_opt(&a, "resume-policy");
	sa.continuation_metadata_pointer = ffctl_opt(&a, "continuation");
	sa.idempotency_key = ffctl_opt(&a, "idempotency-key");
	if (by_triple)
	{
		t.execution_id = ffctl_opt(&a, "execution");
		t.lease_id = ffctl_opt(&a, "lease-id");
		t.lease_epoch = epoch;
		t.attempt_id = ffctl_opt(&a, "attempt-id");
		t.has_attempt_index = has_attempt_index;
		t.attempt_index = (int32_t) attempt_index;
		s = ff_client_suspend_by_triple(c, &t, &sa, &r);
	}
	else
		s = ff_client_suspend(c, &h, &sa, &r);
	if (s != FF_OK)
		rc = ffctl_fail(&a, c, "suspend");
	else
		print_suspend_result(&a, &r);
out:
	ff_suspend_result_clear(&r);
	ff_handle_clear(&h);
	free(wps.data);
	ff_client_close(c);
	return rc;
}

/* ------------------------------------------------------------------------
 * signal
 * ------------------------------------------------------------------------ */
static const ffctl_optspec signal_spec[] = {
	{"execution", true}, {"waitpoint", true}, {"token", true}, {"token-file", true},
	{"name", true}, {"payload", true}, {"payload-file", true}, {"encoding", true},
	{"signal-id", true}, {"category", true}, {"source-type", true}, {"source-identity", true},
	{"correlation-id", true}, {"idempotency-key", true}, {"dedup-ttl-ms", true},
	{"resume-delay-ms", true}, {"max-signals", true}, {"created-at", true}, {NULL, false}
};

static int
print_signal_result(const ffctl_args *a, const ff_signal_result *r)
{
	if (a->json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_str(&j, "result", r->result);
		jw_kv_str(&j, "signal_id", r->signal_id);
		jw_kv_str(&j, "effect", r->effect);
		jw_kv_str(&j, "public_state", r->public_state);
		jw_doc_end(&j);
	}
	else if (r->duplicate)
		printf("duplicate: signal %s was delivered before (execution %s)\n", r->signal_id,
			   r->public_state ? r->public_state : "-");
	else
		printf("%s: %s (signal %s, execution %s)\n", r->result, r->effect, r->signal_id,
			   r->public_state ? r->public_state : "-");
	return FFCTL_EXIT_OK;
}

int
cmd_signal(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_signal_args sa = {0};
	ff_signal_result r = {0};
	ff_bytes	payload = {0};
	char	   *token = NULL;
	ff_client  *c;
	int64_t		dedup = 0,
				delay = 0,
				maxsig = 0,
				created = 0;
	bool		has_dedup,
				has_delay,
				has_max;
	int			rc;

	if (!ffctl_parse(argc, argv, signal_spec, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos > 0 || !ffctl_opt_int64(&a, "dedup-ttl-ms", &dedup, &has_dedup) ||
		!ffctl_opt_int64(&a, "resume-delay-ms", &delay, &has_delay) ||
		!ffctl_opt_int64(&a, "max-signals", &maxsig, &has_max) ||
		!ffctl_opt_int64(&a, "created-at", &created, NULL))
		return ffctl_usage_error("signal", "bad arguments");
	if (!ffctl_opt(&a, "execution") || !ffctl_opt(&a, "waitpoint") || !ffctl_opt(&a, "name"))
		return ffctl_usage_error("signal", "--execution, --waitpoint and --name are required");
	if ((ffctl_opt(&a, "token") != NULL) == (ffctl_opt(&a, "token-file") != NULL))
		return ffctl_usage_error("signal", "give exactly one of --token and --token-file");
	if (ffctl_opt(&a, "payload") && ffctl_opt(&a, "payload-file"))
		return ffctl_usage_error("signal", "--payload and --payload-file exclude each other");
	if (ffctl_opt(&a, "token-file") &&
		(token = ffctl_read_trimmed(ffctl_opt(&a, "token-file"), "\n\r ")) == NULL)
		return FFCTL_EXIT_ERROR;
	if (!ffctl_payload_option(&a, &payload, &sa.payload, &sa.payload_len))
	{
		free(token);
		return FFCTL_EXIT_ERROR;
	}

	c = ffctl_connect(&a, &rc);
	if (c == NULL)
	{
		free(token);
		ff_bytes_clear(&payload);
		return rc;
	}
	sa.execution_id = ffctl_opt(&a, "execution");
	sa.waitpoint_id = ffctl_opt(&a, "waitpoint");
	sa.waitpoint_token = token ? token : ffctl_opt(&a, "token");
	sa.signal_name = ffctl_opt(&a, "name");
	sa.signal_id = ffctl_opt(&a, "signal-id");
	sa.signal_category = ffctl_opt(&a, "category");
	sa.source_type = ffctl_opt(&a, "source-type");
	sa.source_identity = ffctl_opt(&a, "source-identity");
	sa.payload_encoding = ffctl_opt(&a, "encoding");
	sa.correlation_id = ffctl_opt(&a, "correlation-id");
	sa.idempotency_key = ffctl_opt(&a, "idempotency-key");
	sa.created_at_ms = created;
	/* the engine's numbers: 0 disables dedup / the limit */
	if (has_dedup)
		sa.dedup_ttl_ms = dedup == 0 ? FF_SIGNAL_NO_DEDUP : dedup < 0 ? -2 : dedup;
	if (has_max)
		sa.max_signals_per_execution = maxsig == 0 ? FF_SIGNAL_NO_LIMIT : maxsig < 0 ? -2 : maxsig;
	sa.has_resume_delay = has_delay;
	sa.resume_delay_ms = delay;
	if (ff_client_deliver_signal(c, &sa, &r) != FF_OK)
		rc = ffctl_fail(&a, c, "signal");
	else
		rc = print_signal_result(&a, &r);
	ff_signal_result_clear(&r);
	ff_client_close(c);
	if (token)
		wipe_free(token);
	ff_bytes_clear(&payload);
	return rc;
}

/* ------------------------------------------------------------------------
 * waitpoint create | token | close
 * ------------------------------------------------------------------------ */
static const ffctl_optspec waitpoint_spec[] = {
	{"key", true}, {"expires-ms", true}, {"id", true}, {"reason", true}, {NULL, false}
};

int
cmd_waitpoint(int argc, char **argv)
{
	static const char *const create_opts[] = {"key", "expires-ms", "id", NULL};
	static const char *const close_opts[] = {"reason", NULL};
	ffctl_args	a = {0};
	ff_client  *c;
	const char *sub;
	int			rc;

	if (!ffctl_parse(argc, argv, waitpoint_spec, &a))
		return FFCTL_EXIT_USAGE;
	sub = a.npos > 0 ? a.pos[0] : "";
	if (strcmp(sub, "create") == 0)
	{
		ff_handle	h = {0};
		ff_waitpoint_created w = {0};
		int64_t		expires = 0;
		bool		has_expires;

		if (!ffctl_only_options(&a, "waitpoint", "create", create_opts))
			return FFCTL_EXIT_USAGE;
		if (a.npos != 2 || !ffctl_opt_int64(&a, "expires-ms", &expires, &has_expires) || !has_expires)
			return ffctl_usage_error("waitpoint", "create HANDLE --expires-ms N [--key KEY] [--id UUID]");
		if (ff_handle_from_hex(a.pos[1], &h) != FF_OK)
			return ffctl_usage_error("waitpoint", "HANDLE is not hex");
		c = ffctl_connect(&a, &rc);
		if (c == NULL)
		{
			ff_handle_clear(&h);
			return rc;
		}
		if (ff_client_create_waitpoint(c, &h, ffctl_opt(&a, "key"), expires, ffctl_opt(&a, "id"), &w) != FF_OK)
			rc = ffctl_fail(&a, c, "waitpoint create");
		else if (a.json)
		{
			ffctl_json	j;

			jw_doc_begin(&j);
			jw_kv_str(&j, "waitpoint_id", w.waitpoint_id);
			jw_kv_str(&j, "waitpoint_key", w.waitpoint_key);
			jw_kv_str(&j, "waitpoint_token", w.waitpoint_token);
			jw_kv_int(&j, "expires_at_ms", w.expires_at_ms);
			jw_doc_end(&j);
		}
		else
		{
			ffctl_kv("waitpoint_id", "%s", w.waitpoint_id);
			ffctl_kv("waitpoint_key", "%s", w.waitpoint_key);
			ffctl_kv("waitpoint_token", "%s", w.waitpoint_token);
			ffctl_kv_time("expires_at", w.expires_at_ms);
		}
		ff_waitpoint_created_clear(&w);
		ff_handle_clear(&h);
		ff_client_close(c);
		return rc;
	}
	if (strcmp(sub, "token") == 0)
	{
		char		pk[64];
		char	   *token = NULL;

		if (!ffctl_only_options(&a, "waitpoint", "token", NULL))
			return FFCTL_EXIT_USAGE;
		if (a.npos != 3)
			return ffctl_usage_error("waitpoint", "token EXECUTION_ID|{fp:N} WAITPOINT_ID");
		if (a.pos[1][0] == '{' && strchr(a.pos[1], ':') && strchr(a.pos[1], '}') &&
			strchr(a.pos[1], '}')[1] == '\0')
			snprintf(pk, sizeof(pk), "%s", a.pos[1]);
		else if (ff_execution_partition(a.pos[1]) < 0)
			return ffctl_usage_error("waitpoint", "not an execution id or partition key: %s", a.pos[1]);
		else
			ffctl_partition_key(NULL, ff_execution_partition(a.pos[1]), pk, sizeof(pk));
		c = ffctl_connect(&a, &rc);
		if (c == NULL)
			return rc;
		if (ff_client_read_waitpoint_token(c, pk, a.pos[2], &token) != FF_OK)
			rc = ffctl_fail(&a, c, "waitpoint token");
		else if (token == NULL)
		{
			if (a.json)
				printf("{\"waitpoint_token\":null}\n");
			fprintf(stderr, "ffctl waitpoint token: no open waitpoint %s in %s\n", a.pos[2], pk);
			rc = FFCTL_EXIT_NOT_FOUND;
		}
		else if (a.json)
		{
			ffctl_json	j;

			jw_doc_begin(&j);
			jw_kv_str(&j, "waitpoint_token", token);
			jw_doc_end(&j);
		}
		else
			printf("%s\n", token);
		ff_free(token);
		ff_client_close(c);
		return rc;
	}
	if (strcmp(sub, "close") == 0)
	{
		bool		already = false;

		if (!ffctl_only_options(&a, "waitpoint", "close", close_opts))
			return FFCTL_EXIT_USAGE;
		if (a.npos != 3)
			return ffctl_usage_error("waitpoint", "close EXECUTION_ID WAITPOINT_ID [--reason TEXT]");
		c = ffctl_connect(&a, &rc);
		if (c == NULL)
			return rc;
		if (ff_client_close_waitpoint(c, a.pos[1], a.pos[2], ffctl_opt(&a, "reason"), &already) != FF_OK)
			rc = ffctl_fail(&a, c, "waitpoint close");
		else if (a.json)
			printf("{\"outcome\":\"%s\"}\n", already ? "already_closed" : "closed");
		else
			printf("%s\n", already ? "already_closed" : "closed");
		ff_client_close(c);
		return rc;
	}
	return ffctl_usage_error("waitpoint", "expected create, token or close");
}

/* ------------------------------------------------------------------------
 * waitpoints (list pending / active)
 * ------------------------------------------------------------------------ */
static const ffctl_optspec waitpoints_spec[] = {
	{"after", true}, {"limit", true}, {"all", false}, {NULL, false}
};

static void
print_waitpoint(const ffctl_args *a, ffctl_json *j, const void *ctx FFCTL_UNUSED, const void *item,
				size_t i FFCTL_UNUSED)
{
	const ff_pending_waitpoint *w = item;
	char		tok[80];

	if (a->json)
	{
		jw_kv_str(j, "waitpoint_id", w->waitpoint_id);
		jw_kv_str(j, "waitpoint_key", w->waitpoint_key);
		jw_kv_str(j, "state", w->state);
		jw_kv_strings(j, "required_signal_names", w->required_signal_names,
					  w->n_required_signal_names);
		jw_kv_int(j, "created_at_ms", w->created_at_ms);
		jw_kv_ms(j, "activated_at_ms", w->activated_at_ms);
		jw_kv_ms(j, "expires_at_ms", w->expires_at_ms);
		jw_kv_str(j, "execution_id", w->execution_id);
		jw_kv_str(j, "token_kid", w->token_kid);
		jw_kv_str(j, "token_fingerprint", w->token_fingerprint);
		return;
	}
	snprintf(tok, sizeof(tok), "%s:%s...", w->token_kid ? w->token_kid : "",
			 w->token_fingerprint ? w->token_fingerprint : "");
	printf("%-36s %-7s %-24s %-24s ", w->waitpoint_id, w->state, w->waitpoint_key, tok);
	if (w->n_required_signal_names == 0)
		printf("(any)");
	for (size_t k = 0; k < w->n_required_signal_names; k++)
		printf("%s%s", k ? "," : "", w->required_signal_names[k]);
	putchar('\n');
}

static ff_status
waitpoints_page(const ffctl_args *a, ff_client *c, ffctl_json *j, const void *execution_id,
				const char *after, int32_t limit, size_t *count, char **next)
{
	ff_pending_waitpoint_list l = {0};
	ff_status	s = ff_client_list_pending_waitpoints(c, execution_id, after, limit, &l);

	FFCTL_PRINT_LIST(a, j, &l, print_waitpoint, NULL);
	*count = l.count;
	*next = l.count > 0 ? strdup(l.items[l.count - 1].waitpoint_id) : NULL;
	ff_pending_waitpoint_list_clear(&l);
	return s;
}

int
cmd_waitpoints(int argc, char **argv)
{
	static const ffctl_listing listing = {
		"waitpoints", "WAITPOINT_ID                         STATE   KEY                      "
		"TOKEN                    SIGNAL NAMES\n", "(more: --after '%s', or --all)\n",
		waitpoints_page
	};
	ffctl_args	a = {0};
	int64_t		limit = 100;

	if (!ffctl_parse(argc, argv, waitpoints_spec, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos != 1 || !ffctl_opt_int64(&a, "limit", &limit, NULL))
		return ffctl_usage_error("waitpoints", "expected one EXECUTION_ID");
	if (limit > 1000)
		limit = 1000;
	return ffctl_list_pages(&a, &listing, a.pos[0], ffctl_opt(&a, "after"), limit,
							(int32_t) limit, ffctl_flag(&a, "all"));
}

/* ------------------------------------------------------------------------
 * suspended (list)
 * ------------------------------------------------------------------------ */
static const ffctl_optspec suspended_spec[] = {
	{"partition", true}, {"lane", true}, {"cursor", true}, {"limit", true}, {"all", false},
	{NULL, false}
};

static void
print_suspended(const ffctl_args *a, ffctl_json *j, const void *ctx FFCTL_UNUSED, const void *item,
				size_t i FFCTL_UNUSED)
{
	const ff_suspended_execution *e = item;
	char		at[40];
	char		to[40];

	if (a->json)
	{
		jw_kv_str(j, "execution_id", e->execution_id);
		jw_kv_int(j, "suspended_at_ms", e->suspended_at_ms);
		jw_kv_str(j, "reason", e->reason);
		jw_kv_str(j, "suspension_id", e->suspension_id);
		jw_kv_ms(j, "timeout_at_ms", e->timeout_at_ms);
		return;
	}
	ffctl_format_time(e->suspended_at_ms, at, sizeof(at));
	ffctl_format_time(e->timeout_at_ms, to, sizeof(to));
	printf("%-46s %-26s %-26s %s\n", e->execution_id, e->reason, at, to);
}

static ff_status
suspended_page(const ffctl_args *a, ff_client *c, ffctl_json *j, const void *pk,
			   const char *cursor, int32_t limit, size_t *count, char **next)
{
	ff_suspended_list l = {0};
	ff_status	s = ff_client_list_suspended(c, pk, cursor, limit, &l);

	FFCTL_PRINT_LIST(a, j, &l, print_suspended, NULL);
	*count = l.count;
	*next = l.count > 0 ? strdup(l.items[l.count - 1].execution_id) : NULL;
	ff_suspended_list_clear(&l);
	return s;
}

int
cmd_suspended(int argc, char **argv)
{
	static const ffctl_listing listing = {
		"suspended", "EXECUTION_ID                                   REASON                     "
		"SUSPENDED                  TIMEOUT\n", "(more: --cursor '%s', or --all)\n", suspended_page
	};
	ffctl_args	a = {0};
	char		pk[64];
	const char *lane;
	const char *part;
	int64_t		limit = 100;

	if (!ffctl_parse(argc, argv, suspended_spec, &a))
		return FFCTL_EXIT_USAGE;
	lane = ffctl_opt(&a, "lane");
	part = ffctl_opt(&a, "partition");
	if ((lane == NULL) == (part == NULL) || a.npos > 0 || !ffctl_opt_int64(&a, "limit", &limit, NULL))
		return ffctl_usage_error("suspended", "give exactly one of --lane and --partition");
	if (limit > 1000)
		limit = 1000;
	ffctl_partition_key(part, lane ? ff_solo_partition(lane) : 0, pk, sizeof(pk));
	return ffctl_list_pages(&a, &listing, pk, ffctl_opt(&a, "cursor"), limit, (int32_t) limit,
							ffctl_flag(&a, "all"));
}

/* ------------------------------------------------------------------------
 * observe
 * ------------------------------------------------------------------------ */
static const ffctl_optspec observe_spec[] = {{"all", false}, {NULL, false}};

static void
print_signal_info(const ffctl_args *a, ffctl_json *j, const void *ctx FFCTL_UNUSED, const void *item,
				  size_t i FFCTL_UNUSED)
{
	const ff_signal_info *g = item;
	char		when[40];

	if (a->json)
	{
		jw_kv_str(j, "signal_id", g->signal_id);
		jw_kv_str(j, "signal_name", g->signal_name);
		jw_kv_str(j, "signal_category", g->signal_category);
		jw_kv_str(j, "source_type", g->source_type);
		jw_kv_str(j, "source_identity", g->source_identity);
		jw_kv_str(j, "correlation_id", g->correlation_id);
		jw_kv_int(j, "accepted_at_ms", g->accepted_at_ms);
		jw_bytes(j, "payload", &g->payload);
		jw_kv_str(j, "payload_encoding", g->payload_encoding);
		jw_kv_str(j, "waitpoint_id", g->waitpoint_id);
		jw_kv_str(j, "waitpoint_key", g->waitpoint_key);
		return;
	}
	ffctl_format_time(g->accepted_at_ms, when, sizeof(when));
	printf("%s %s %s source=%s/%s waitpoint=%s payload=", when, g->signal_name,
		   g->signal_category, g->source_type, ffctl_dash(g->source_identity),
		   g->waitpoint_key ? g->waitpoint_key : "-");
	ffctl_print_bytes(stdout, &g->payload);
	putchar('\n');
}

int
cmd_observe(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_handle	h = {0};
	ff_signal_list l = {0};
	int			rc;
	ff_client  *c = ffctl_handle_command(argc, argv, observe_spec, "expected one HANDLE (hex)",
										 &a, &h, &rc);

	if (c == NULL)
		return rc;
	if (ff_client_observe_signals(c, &h, ffctl_flag(&a, "all"), &l) != FF_OK)
		rc = ffctl_fail(&a, c, "observe");
	else
		FFCTL_PRINT_LIST(&a, NULL, &l, print_signal_info, NULL);
	ff_signal_list_clear(&l);
	ff_handle_clear(&h);
	ff_client_close(c);
	return rc;
}

/* ------------------------------------------------------------------------
 * claim-resumed
 * ------------------------------------------------------------------------ */
static const ffctl_optspec claim_resumed_spec[] = {
	{"lane", true}, {"worker-id", true}, {"worker-instance-id", true}, {"cap", true},
	{"lease-ttl-ms", true}, {"attempt-index", true}, {"remaining-timeout-ms", true},
	{"lease-id", true}, {NULL, false}
};

int
cmd_claim_resumed(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_claim_resumed_args ca = {0};
	ff_resumed_claim r = {0};
	ff_client  *c;
	const char *caps[FFCTL_MAX_OPTS];
	char		instance[300];
	int64_t		ttl = 0,
				idx = 0,
				remaining = 0;
	bool		has_idx;
	int			rc;

	if (!ffctl_parse(argc, argv, claim_resumed_spec, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos != 1 || !ffctl_opt(&a, "lane"))
		return ffctl_usage_error("claim-resumed", "expected EXECUTION_ID and --lane");
	if (!ffctl_opt_int64(&a, "lease-ttl-ms", &ttl, NULL) ||
		!ffctl_opt_int64(&a, "attempt-index", &idx, &has_idx) ||
		!ffctl_opt_int64(&a, "remaining-timeout-ms", &remaining, NULL))
		return ffctl_usage_error("claim-resumed", "bad arguments");
	ffctl_instance_id(instance, sizeof(instance));
	ca.execution_id = a.pos[0];
	ca.lane_id = ffctl_opt(&a, "lane");
	ca.worker_id = ffctl_opt(&a, "worker-id") ? ffctl_opt(&a, "worker-id") : "ffctl";
	ca.worker_instance_id = ffctl_opt(&a, "worker-instance-id") ? ffctl_opt(&a, "worker-instance-id") : instance;
	ca.lease_ttl_ms = ttl == 0 ? 0 : ttl < 0 ? -1 : ttl;
	ca.has_current_attempt_index = has_idx;
	ca.current_attempt_index = (int32_t) idx;
	ca.remaining_attempt_timeout_ms = remaining;
	ca.capabilities = caps;
	ca.n_capabilities = ffctl_opt_all(&a, "cap", caps);
	ca.lease_id = ffctl_opt(&a, "lease-id");

	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (ff_client_claim_resumed(c, &ca, &r) != FF_OK)
		rc = ffctl_fail(&a, c, "claim-resumed");
	else if (r.held_back)
	{
		/* nothing claimed, as for ffctl claim: exit status 6 */
		if (a.json)
		{
			ffctl_json	j;

			jw_doc_begin(&j);
			jw_kv_bool(&j, "claimed", false);
			jw_kv_str(&j, "execution_id", ca.execution_id);
			jw_kv_bool(&j, "held_back", true);
			jw_doc_end(&j);
		}
		else
			fprintf(stderr, "ffctl claim-resumed: nothing claimed: budgets or quotas hold %s back "
					"(ffctl quota admission %s shows what)\n", ca.execution_id, ca.execution_id);
		rc = FFCTL_EXIT_EMPTY;
	}
	else
	{
		char	   *hex = NULL;

		ff_handle_to_hex(&r.claimed.handle, &hex);
		if (a.json)
		{
			ffctl_json	j;

			jw_doc_begin(&j);
			jw_kv_bool(&j, "claimed", true);
			jw_kv_str(&j, "handle", hex);
			jw_kv_str(&j, "execution_id", r.claimed.execution_id);
			jw_kv_int(&j, "attempt_index", r.claimed.attempt_index);
			jw_kv_str(&j, "attempt_id", r.attempt_id);
			jw_kv_str(&j, "lease_id", r.lease_id);
			jw_kv_int(&j, "lease_epoch", r.claimed.lease_epoch);
			jw_kv_int(&j, "lease_expires_at_ms", r.claimed.lease_expires_at_ms);
			jw_bytes(&j, "input_payload", &r.claimed.input_payload);
			jw_doc_end(&j);
		}
		else
		{
			ffctl_kv("execution_id", "%s", r.claimed.execution_id);
			ffctl_kv("attempt_index", "%d", (int) r.claimed.attempt_index);
			ffctl_kv("attempt_id", "%s", r.attempt_id);
			ffctl_kv("lease_id", "%s", r.lease_id);
			ffctl_kv("lease_epoch", "%lld", (long long) r.claimed.lease_epoch);
			ffctl_kv_time("lease_expires_at", r.claimed.lease_expires_at_ms);
			ffctl_kv("handle", "%s", hex ? hex : "?");
			printf("%-20s ", "input_payload");
			ffctl_print_bytes(stdout, &r.claimed.input_payload);
			putchar('\n');
		}
		ff_free(hex);
	}
	ff_resumed_claim_clear(&r);
	ff_client_close(c);
	return rc;
}

/* ------------------------------------------------------------------------
 * resume, expire-suspension
 * ------------------------------------------------------------------------ */
static const ffctl_optspec resume_spec[] = {{"delay-ms", true}, {"trigger", true}, {NULL, false}};

int
cmd_resume(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	char	   *state = NULL;
	int64_t		delay = 0;
	int			rc;

	if (!ffctl_parse(argc, argv, resume_spec, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos != 1 || !ffctl_opt_int64(&a, "delay-ms", &delay, NULL))
		return ffctl_usage_error("resume", "expected one EXECUTION_ID");
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (ff_client_resume_execution(c, a.pos[0], ffctl_opt(&a, "trigger"), delay, &state) != FF_OK)
		rc = ffctl_fail(&a, c, "resume");
	else if (a.json)
		printf("{\"public_state\":\"%s\"}\n", state ? state : "");
	else
		printf("resumed: %s\n", state ? state : "-");
	ff_free(state);
	ff_client_close(c);
	return rc;
}

static int
suspension_expire(const ffctl_args *a)
{
	ff_expire_result r = {0};
	ff_client  *c;
	int			rc;

	if (!ffctl_only_options(a, "suspension", "expire", NULL))
		return FFCTL_EXIT_USAGE;
	if (a->npos != 2)
		return ffctl_usage_error("suspension", "expire EXECUTION_ID");
	c = ffctl_connect(a, &rc);
	if (c == NULL)
		return rc;
	if (ff_client_expire_suspension(c, a->pos[1], &r) != FF_OK)
		rc = ffctl_fail(a, c, "suspension expire");
	else if (a->json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_str(&j, "outcome", r.outcome);
		jw_kv_str(&j, "public_state", r.public_state);
		jw_doc_end(&j);
	}
	else
		printf("%s (%s)\n", r.outcome ? r.outcome : "-", r.public_state ? r.public_state : "-");
	ff_expire_result_clear(&r);
	ff_client_close(c);
	return rc;
}

/* ------------------------------------------------------------------------
 * approve
 * ------------------------------------------------------------------------ */
static const ffctl_optspec approve_spec[] = {
	{"lane", true}, {"waitpoint", true}, {"name", true}, {"reject", false}, {"suffix", true},
	{"dedup-ttl-ms", true}, {"max-signals", true}, {NULL, false}
};

int
cmd_approve(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_approval_args aa = {0};
	ff_signal_result r = {0};
	ff_client  *c;
	int64_t		dedup = 0,
				maxsig = 0;
	bool		has_dedup,
				has_max;
	int			rc;

	if (!ffctl_parse(argc, argv, approve_spec, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos != 1 || !ffctl_opt(&a, "lane") || !ffctl_opt(&a, "waitpoint"))
		return ffctl_usage_error("approve", "expected EXECUTION_ID, --lane and --waitpoint");
	if (ffctl_opt(&a, "name") && ffctl_flag(&a, "reject"))
		return ffctl_usage_error("approve", "--name and --reject exclude each other");
	if (!ffctl_opt_int64(&a, "dedup-ttl-ms", &dedup, &has_dedup) ||
		!ffctl_opt_int64(&a, "max-signals", &maxsig, &has_max))
		return ffctl_usage_error("approve", "bad arguments");
	aa.execution_id = a.pos[0];
	aa.lane_id = ffctl_opt(&a, "lane");
	aa.waitpoint_id = ffctl_opt(&a, "waitpoint");
	aa.signal_name = ffctl_opt(&a, "name") ? ffctl_opt(&a, "name")
		: ffctl_flag(&a, "reject") ? "rejected" : "approved";
	/* one decision per waitpoint unless told otherwise: a repeat is a duplicate */
	aa.idempotency_suffix = ffctl_opt(&a, "suffix") ? ffctl_opt(&a, "suffix") : aa.waitpoint_id;
	if (has_dedup)
		aa.dedup_ttl_ms = dedup == 0 ? FF_SIGNAL_NO_DEDUP : dedup < 0 ? -2 : dedup;
	if (has_max)
		aa.max_signals_per_execution = maxsig == 0 ? FF_SIGNAL_NO_LIMIT : maxsig < 0 ? -2 : maxsig;
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (ff_client_deliver_approval(c, &aa, &r) != FF_OK)
		rc = ffctl_fail(&a, c, "approve");
	else
		rc = print_signal_result(&a, &r);
	ff_signal_result_clear(&r);
	ff_client_close(c);
	return rc;
}

/* ------------------------------------------------------------------------
 * hmac seed | rotate | list
 * ------------------------------------------------------------------------ */
static const ffctl_optspec hmac_spec[] = {
	{"secret-hex", true}, {"secret-file", true}, {"generate", false}, {"grace-ms", true},
	{NULL, false}
};

static void
print_kid(const ffctl_args *a, ffctl_json *j, const void *ctx FFCTL_UNUSED, const void *item,
		  size_t i FFCTL_UNUSED)
{
	const ff_hmac_kid *k = item;
	char		at[40];
	char		until[40];

	if (a->json)
	{
		jw_kv_str(j, "kid", k->kid);
		jw_kv_bool(j, "active", k->active);
		jw_kv_int(j, "rotated_at_ms", k->rotated_at_ms);
		jw_kv_ms(j, "expires_at_ms", k->expires_at_ms);
		return;
	}
	ffctl_format_time(k->rotated_at_ms, at, sizeof(at));
	ffctl_format_time(k->expires_at_ms, until, sizeof(until));
	printf("%-32s %-8s %-26s %s\n", k->kid, k->active ? "active" : "retired", at, until);
}

int
cmd_hmac(int argc, char **argv)
{
	static const char *const seed_opts[] = {"secret-hex", "secret-file", "generate", NULL};
	static const char *const rotate_opts[] = {"secret-hex", "secret-file", "generate", "grace-ms", NULL};
	ffctl_args	a = {0};
	ff_client  *c;
	const char *sub;
	char	   *secret;
	int			rc;

	if (!ffctl_parse(argc, argv, hmac_spec, &a))
		return FFCTL_EXIT_USAGE;
	sub = a.npos > 0 ? a.pos[0] : "";
	if (strcmp(sub, "list") == 0)
	{
		ff_hmac_kid_list l = {0};

		if (!ffctl_only_options(&a, "hmac", "list", NULL))
			return FFCTL_EXIT_USAGE;
		if (a.npos != 1)
			return ffctl_usage_error("hmac", "list takes no arguments");
		c = ffctl_connect(&a, &rc);
		if (c == NULL)
			return rc;
		if (ff_client_list_hmac_kids(c, &l) != FF_OK)
			rc = ffctl_fail(&a, c, "hmac list");
		else
		{
			if (!a.json)
				printf("%-32s %-8s %-26s %s\n", "KID", "STATE", "ROTATED", "VERIFIES UNTIL");
			FFCTL_PRINT_LIST(&a, NULL, &l, print_kid, NULL);
		}
		ff_hmac_kid_list_clear(&l);
		ff_client_close(c);
		return rc;
	}
	if (strcmp(sub, "seed") == 0)
	{
		ff_hmac_seed_result r = {0};

		if (!ffctl_only_options(&a, "hmac", "seed", seed_opts))
			return FFCTL_EXIT_USAGE;
		if (a.npos != 2)
			return ffctl_usage_error("hmac", "seed KID (--secret-hex HEX | --secret-file PATH | --generate)");
		if ((secret = secret_from_options(&a, "hmac")) == NULL)
			return FFCTL_EXIT_USAGE;
		c = ffctl_connect(&a, &rc);
		if (c == NULL)
		{
			wipe_free(secret);
			return rc;
		}
		if (ff_client_seed_hmac_secret(c, a.pos[1], secret, &r) != FF_OK)
			rc = ffctl_fail(&a, c, "hmac seed");
		else if (a.json)
		{
			ffctl_json	j;

			jw_doc_begin(&j);
			jw_kv_str(&j, "outcome", r.outcome);
			jw_kv_str(&j, "seeded_kid", r.seeded_kid);
			jw_kv_bool(&j, "same_secret", r.same_secret);
			jw_doc_end(&j);
		}
		else if (strcmp(r.outcome, "seeded") == 0)
			printf("seeded: kid %s is active\n", r.seeded_kid);
		else
			printf("%s: kid %s (%s secret)\n", r.outcome, r.seeded_kid,
				   r.same_secret ? "same" : "different");
		ff_hmac_seed_result_clear(&r);
		wipe_free(secret);
		ff_client_close(c);
		return rc;
	}
	if (strcmp(sub, "rotate") == 0)
	{
		ff_hmac_rotate_result r = {0};
		int64_t		grace = 86400000;

		if (!ffctl_only_options(&a, "hmac", "rotate", rotate_opts))
			return FFCTL_EXIT_USAGE;
		if (a.npos != 2 || !ffctl_opt_int64(&a, "grace-ms", &grace, NULL))
			return ffctl_usage_error("hmac", "rotate KID (--secret-hex HEX | --secret-file PATH | --generate) [--grace-ms N]");
		if ((secret = secret_from_options(&a, "hmac")) == NULL)
			return FFCTL_EXIT_USAGE;
		c = ffctl_connect(&a, &rc);
		if (c == NULL)
		{
			wipe_free(secret);
			return rc;
		}
		if (ff_client_rotate_hmac_secret(c, a.pos[1], secret, grace, &r) != FF_OK)
			rc = ffctl_fail(&a, c, "hmac rotate");
		else if (a.json)
		{
			ffctl_json	j;

			jw_doc_begin(&j);
			jw_kv_str(&j, "outcome", r.outcome);
			jw_kv_str(&j, "previous_kid", r.previous_kid);
			jw_kv_str(&j, "current_kid", r.current_kid);
			jw_kv_int(&j, "gc_count", r.gc_count);
			jw_doc_end(&j);
		}
		else
			printf("%s: active kid %s (previous %s; %d expired kid(s) removed)\n", r.outcome,
				   r.current_kid ? r.current_kid : "-", r.previous_kid ? r.previous_kid : "-",
				   (int) r.gc_count);
		ff_hmac_rotate_result_clear(&r);
		wipe_free(secret);
		ff_client_close(c);
		return rc;
	}
	return ffctl_usage_error("hmac", "expected seed, rotate or list");
}

/* ------------------------------------------------------------------------
 * signals (the signal-event outbox)
 * ------------------------------------------------------------------------ */
static void
print_signal_event(const ffctl_args *a, const ff_signal_event *e)
{
	if (a->json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_int(&j, "event_id", e->event_id);
		jw_kv_str(&j, "execution_id", e->execution_id);
		jw_kv_str(&j, "signal_id", e->signal_id);
		jw_kv_str(&j, "waitpoint_id", e->waitpoint_id);
		jw_kv_str(&j, "signal_name", e->signal_name);
		jw_kv_str(&j, "source_type", e->source_type);
		jw_kv_str(&j, "source_identity", e->source_identity);
		jw_kv_str(&j, "effect", e->effect);
		jw_kv_str(&j, "namespace", e->ns);
		jw_kv_str(&j, "lane_id", e->lane_id);
		jw_kv_int(&j, "delivered_at_ms", e->delivered_at_ms);
		jw_doc_end(&j);
	}
	else
	{
		char		when[40];

		ffctl_format_time(e->delivered_at_ms, when, sizeof(when));
		printf("%lld %s %s %s %s lane=%s waitpoint=%s\n", (long long) e->event_id, when,
			   e->signal_name, e->effect, e->execution_id, e->lane_id ? e->lane_id : "-",
			   e->waitpoint_id ? e->waitpoint_id : "-");
	}
}

typedef struct signal_filter
{
	const char *execution;
	const char *lane;
} signal_filter;

/* the events of the --execution and --lane given */
static bool
print_wanted(const ffctl_args *a, const void *ctx, ff_event_source source, const void *event)
{
	const signal_filter *f = ctx;
	const ff_signal_event *e = event;

	(void) source;
	if (f->execution && (e->execution_id == NULL || strcmp(e->execution_id, f->execution) != 0))
		return false;
	if (f->lane && (e->lane_id == NULL || strcmp(e->lane_id, f->lane) != 0))
		return false;
	print_signal_event(a, e);
	return true;
}

static const ffctl_optspec signals_spec[] = {
	{"after", true}, {"limit", true}, {"execution", true}, {"lane", true}, {"follow", false},
	{"count", true}, {"timeout-ms", true}, {"poll-ms", true}, {NULL, false}
};

int
cmd_signals(int argc, char **argv)
{
	ffctl_args	a = {0};
	signal_filter f;

	if (!ffctl_parse(argc, argv, signals_spec, &a))
		return FFCTL_EXIT_USAGE;
	f.execution = ffctl_opt(&a, "execution");
	f.lane = ffctl_opt(&a, "lane");
	return ffctl_read_outbox(&a, "signals", FF_EVENTS_SIGNAL, print_wanted, &f, NULL);
}

/* ------------------------------------------------------------------------
 * suspension expire | reconcile
 * ------------------------------------------------------------------------ */
static int
suspension_reconcile(const ffctl_args *a)
{
	static const char *const opts[] = {"batch", NULL};
	static const ffctl_reconciler recs[] = {
		{"suspension-timeout", "suspension_timeout", ff_client_reconcile_suspension_timeout},
		{"pending-waitpoint-expiry", "pending_waitpoint_expiry",
		ff_client_reconcile_pending_waitpoint_expiry},
	};
	static const ffctl_reconcilers spec = {
		"suspension", "suspension reconcile", "%-26s %d\n", recs, FFCTL_LEN(recs), 1, 0, false
	};
	int64_t		batch = 0;

	if (!ffctl_only_options(a, "suspension", "reconcile", opts))
		return FFCTL_EXIT_USAGE;
	if (!ffctl_opt_int64(a, "batch", &batch, NULL))
		return ffctl_usage_error("suspension", "bad arguments");
	return ffctl_run_reconcilers(a, &spec, batch, 0);
}

static const ffctl_optspec suspension_spec[] = {{"batch", true}, {NULL, false}};

int
cmd_suspension(int argc, char **argv)
{
	ffctl_args	a = {0};
	const char *sub;

	if (!ffctl_parse(argc, argv, suspension_spec, &a))
		return FFCTL_EXIT_USAGE;
	sub = a.npos > 0 ? a.pos[0] : "";
	if (strcmp(sub, "expire") == 0)
		return suspension_expire(&a);
	if (strcmp(sub, "reconcile") == 0)
		return suspension_reconcile(&a);
	return ffctl_usage_error("suspension", "expected expire or reconcile");
}

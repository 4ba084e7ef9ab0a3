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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ffctl.h"

/* ------------------------------------------------------------------------
 * helpers
 * ------------------------------------------------------------------------ */

/* a growing string */
typedef struct sbuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		oom;
} sbuf;

static void
sb_add(sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap)
	{
		size_t		cap = b->cap ? b->cap : 64;
		char	   *g;

		while (b->len + n + 1 > cap)
			cap *= 2;
		g = realloc(b->data, cap);
		if (g == NULL)
		{
			b->oom = true;
			return;
		}
		b->data = g;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void
sb_str(sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* s as a JSON string literal */
static void
sb_json(sbuf *b, const char *s)
{
	sb_add(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		char		esc[8];

		if (*p == '"' || *p == '\\')
		{
			esc[0] = '\\';
			esc[1] = (char) *p;
			sb_add(b, esc, 2);
		}
		else if (*p < 0x20)
		{
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			sb_str(b, esc);
		}
		else
			sb_add(b, (const char *) p, 1);
	}
	sb_add(b, "\"", 1);
}

/* the partition key "{fp:N}" of --partition N / {fp:N}, --lane or an execution id */
static bool
partition_key(const char *partition, const char *lane, const char *execution_id, char *pk,
			  size_t len)
{
	if (lane)
		snprintf(pk, len, "{fp:%d}", ff_solo_partition(lane));
	else if (execution_id)
	{
		int			n = ff_execution_partition(execution_id);

		if (n < 0)
			return false;
		snprintf(pk, len, "{fp:%d}", n);
	}
	else if (partition[0] == '{')
		snprintf(pk, len, "%s", partition);
	else
		snprintf(pk, len, "{fp:%s}", partition);
	return true;
}

/* options of a command with subcommands: false (and a message) if one is
 * not allowed for this subcommand */
static bool
only_options(const ffctl_args *a, const char *command, const char *sub, const char *const *allowed)
{
	for (int i = 0; i < a->nopts; i++)
	{
		const char *n = a->names[i];
		bool		ok = strcmp(n, "json") == 0 || strcmp(n, "dsn") == 0;

		for (int k = 0; !ok && allowed && allowed[k]; k++)
			ok = strcmp(n, allowed[k]) == 0;
		if (!ok)
		{
			ffctl_usage_error(command, "%s does not take --%s", sub, n);
			return false;
		}
	}
	return true;
}

static void
print_time_kv(const char *label, int64_t ms)
{
	char		when[40];

	if (ms == 0)
	{
		ffctl_kv(label, "-");
		return;
	}
	ffctl_format_time(ms, when, sizeof(when));
	ffctl_kv(label, "%s (%lld)", when, (long long) ms);
}

static void
jw_kv_ms(ffctl_json *j, const char *key, int64_t ms)
{
	jw_key(j, key);
	if (ms == 0)
		jw_null(j);
	else
		jw_int(j, ms);
}

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
	{
		ff_bytes	b = {0};
		size_t		n;

		if (!ffctl_read_file(file, &b))
			return NULL;
		n = b.len;
		while (n > 0 && (b.data[n - 1] == '\n' || b.data[n - 1] == '\r' ||
						 b.data[n - 1] == ' ' || b.data[n - 1] == '\t'))
			n--;
		out = malloc(n + 1);
		if (out)
		{
			memcpy(out, b.data, n);
			out[n] = '\0';
		}
		ff_bytes_clear(&b);
		return out;
	}
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

		jw_init(&j, stdout);
		jw_obj_begin(&j);
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
		jw_obj_end(&j);
		putchar('\n');
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
	sbuf		wps = {0};
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
		sb_str(&wps, "[");
		for (int i = 0; i < nkeys; i++)
		{
			if (i > 0)
				sb_str(&wps, ",");
			sb_json(&wps, ffctl_opt_n(&a, "waitpoint", i));
		}
		for (int i = 0; i < npending; i++)
		{
			if (nkeys + i > 0)
				sb_str(&wps, ",");
			sb_str(&wps, "{\"use_pending\":");
			sb_json(&wps, ffctl_opt_n(&a, "use-pending", i));
			sb_str(&wps, "}");
		}
		sb_str(&wps, "]");
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

		jw_init(&j, stdout);
		jw_obj_begin(&j);
		jw_kv_str(&j, "result", r->result);
		jw_kv_str(&j, "signal_id", r->signal_id);
		jw_kv_str(&j, "effect", r->effect);
		jw_kv_str(&j, "public_state", r->public_state);
		jw_obj_end(&j);
		putchar('\n');
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
	ff_bytes	tokenbuf = {0};
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
	if (ffctl_opt(&a, "token-file"))
	{
		size_t		n;

		if (!ffctl_read_file(ffctl_opt(&a, "token-file"), &tokenbuf))
			return FFCTL_EXIT_ERROR;
		n = tokenbuf.len;
		while (n > 0 && (tokenbuf.data[n - 1] == '\n' || tokenbuf.data[n - 1] == '\r' ||
						 tokenbuf.data[n - 1] == ' '))
			n--;
		token = malloc(n + 1);
		if (token == NULL)
		{
			ff_bytes_clear(&tokenbuf);
			return FFCTL_EXIT_ERROR;
		}
		memcpy(token, tokenbuf.data, n);
		token[n] = '\0';
		ff_bytes_clear(&tokenbuf);
	}
	if (ffctl_opt(&a, "payload-file") && !ffctl_read_file(ffctl_opt(&a, "payload-file"), &payload))
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
	if (ffctl_opt(&a, "payload"))
	{
		sa.payload = ffctl_opt(&a, "payload");
		sa.payload_len = strlen(ffctl_opt(&a, "payload"));
	}
	else if (payload.data)
	{
		sa.payload = payload.data;
		sa.payload_len = payload.len;
	}
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

		if (!only_options(&a, "waitpoint", "create", create_opts))
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

			jw_init(&j, stdout);
			jw_obj_begin(&j);
			jw_kv_str(&j, "waitpoint_id", w.waitpoint_id);
			jw_kv_str(&j, "waitpoint_key", w.waitpoint_key);
			jw_kv_str(&j, "waitpoint_token", w.waitpoint_token);
			jw_kv_int(&j, "expires_at_ms", w.expires_at_ms);
			jw_obj_end(&j);
			putchar('\n');
		}
		else
		{
			ffctl_kv("waitpoint_id", "%s", w.waitpoint_id);
			ffctl_kv("waitpoint_key", "%s", w.waitpoint_key);
			ffctl_kv("waitpoint_token", "%s", w.waitpoint_token);
			print_time_kv("expires_at", w.expires_at_ms);
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

		if (!only_options(&a, "waitpoint", "token", NULL))
			return FFCTL_EXIT_USAGE;
		if (a.npos != 3)
			return ffctl_usage_error("waitpoint", "token EXECUTION_ID|{fp:N} WAITPOINT_ID");
		if (a.pos[1][0] == '{' && strchr(a.pos[1], ':') && strchr(a.pos[1], '}') &&
			strchr(a.pos[1], '}')[1] == '\0')
			snprintf(pk, sizeof(pk), "%s", a.pos[1]);
		else if (!partition_key(NULL, NULL, a.pos[1], pk, sizeof(pk)))
			return ffctl_usage_error("waitpoint", "not an execution id or partition key: %s", a.pos[1]);
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

			jw_init(&j, stdout);
			jw_obj_begin(&j);
			jw_kv_str(&j, "waitpoint_token", token);
			jw_obj_end(&j);
			putchar('\n');
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

		if (!only_options(&a, "waitpoint", "close", close_opts))
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

int
cmd_waitpoints(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	int			rc;
	int64_t		limit = 100;
	bool		all;
	char	   *after = NULL;
	ffctl_json	j;

	if (!ffctl_parse(argc, argv, waitpoints_spec, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos != 1 || !ffctl_opt_int64(&a, "limit", &limit, NULL))
		return ffctl_usage_error("waitpoints", "expected one EXECUTION_ID");
	all = ffctl_flag(&a, "all");
	if (limit > 1000)
		limit = 1000;
	if (ffctl_opt(&a, "after"))
		after = strdup(ffctl_opt(&a, "after"));
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
	{
		free(after);
		return rc;
	}
	if (a.json)
	{
		jw_init(&j, stdout);
		jw_arr_begin(&j);
	}
	else
		printf("%-36s %-7s %-24s %-24s %s\n", "WAITPOINT_ID", "STATE", "KEY", "TOKEN", "SIGNAL NAMES");
	for (;;)
	{
		ff_pending_waitpoint_list l = {0};

		if (ff_client_list_pending_waitpoints(c, a.pos[0], after, (int32_t) limit, &l) != FF_OK)
		{
			rc = ffctl_fail(&a, c, "waitpoints");
			break;
		}
		for (size_t i = 0; i < l.count; i++)
		{
			ff_pending_waitpoint *w = &l.items[i];

			if (a.json)
			{
				jw_obj_begin(&j);
				jw_kv_str(&j, "waitpoint_id", w->waitpoint_id);
				jw_kv_str(&j, "waitpoint_key", w->waitpoint_key);
				jw_kv_str(&j, "state", w->state);
				jw_key(&j, "required_signal_names");
				jw_arr_begin(&j);
				for (size_t k = 0; k < w->n_required_signal_names; k++)
					jw_str(&j, w->required_signal_names[k]);
				jw_arr_end(&j);
				jw_kv_int(&j, "created_at_ms", w->created_at_ms);
				jw_kv_ms(&j, "activated_at_ms", w->activated_at_ms);
				jw_kv_ms(&j, "expires_at_ms", w->expires_at_ms);
				jw_kv_str(&j, "execution_id", w->execution_id);
				jw_kv_str(&j, "token_kid", w->token_kid);
				jw_kv_str(&j, "token_fingerprint", w->token_fingerprint);
				jw_obj_end(&j);
			}
			else
			{
				char		tok[80];

				snprintf(tok, sizeof(tok), "%s:%s...", w->token_kid ? w->token_kid : "",
						 w->token_fingerprint ? w->token_fingerprint : "");
				printf("%-36s %-7s %-24s %-24s ", w->waitpoint_id, w->state, w->waitpoint_key, tok);
				if (w->n_required_signal_names == 0)
					printf("(any)");
				for (size_t k = 0; k < w->n_required_signal_names; k++)
					printf("%s%s", k ? "," : "", w->required_signal_names[k]);
				putchar('\n');
			}
		}
		free(after);
		after = l.count > 0 ? strdup(l.items[l.count - 1].waitpoint_id) : NULL;
		if (!all || (int64_t) l.count < limit)
		{
			if (!all && l.count > 0 && !a.json && (int64_t) l.count == limit)
				fprintf(stderr, "(more: --after '%s', or --all)\n", after);
			ff_pending_waitpoint_list_clear(&l);
			break;
		}
		ff_pending_waitpoint_list_clear(&l);
	}
	if (a.json && rc == FFCTL_EXIT_OK)
	{
		jw_arr_end(&j);
		putchar('\n');
	}
	free(after);
	ff_client_close(c);
	return rc;
}

/* ------------------------------------------------------------------------
 * suspended (list)
 * ------------------------------------------------------------------------ */
static const ffctl_optspec suspended_spec[] = {
	{"partition", true}, {"lane", true}, {"cursor", true}, {"limit", true}, {"all", false},
	{NULL, false}
};

int
cmd_suspended(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	int			rc;
	char		pk[64];
	const char *lane;
	const char *part;
	char	   *cursor = NULL;
	int64_t		limit = 100;
	bool		all;
	ffctl_json	j;

	if (!ffctl_parse(argc, argv, suspended_spec, &a))
		return FFCTL_EXIT_USAGE;
	lane = ffctl_opt(&a, "lane");
	part = ffctl_opt(&a, "partition");
	all = ffctl_flag(&a, "all");
	if ((lane == NULL) == (part == NULL) || a.npos > 0 || !ffctl_opt_int64(&a, "limit", &limit, NULL))
		return ffctl_usage_error("suspended", "give exactly one of --lane and --partition");
	if (limit > 1000)
		limit = 1000;
	partition_key(part, lane, NULL, pk, sizeof(pk));
	if (ffctl_opt(&a, "cursor"))
		cursor = strdup(ffctl_opt(&a, "cursor"));
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
	{
		free(cursor);
		return rc;
	}
	if (a.json)
	{
		jw_init(&j, stdout);
		jw_arr_begin(&j);
	}
	else
		printf("%-46s %-26s %-26s %s\n", "EXECUTION_ID", "REASON", "SUSPENDED", "TIMEOUT");
	for (;;)
	{
		ff_suspended_list l = {0};

		if (ff_client_list_suspended(c, pk, cursor, (int32_t) limit, &l) != FF_OK)
		{
			rc = ffctl_fail(&a, c, "suspended");
			break;
		}
		for (size_t i = 0; i < l.count; i++)
		{
			ff_suspended_execution *e = &l.items[i];

			if (a.json)
			{
				jw_obj_begin(&j);
				jw_kv_str(&j, "execution_id", e->execution_id);
				jw_kv_int(&j, "suspended_at_ms", e->suspended_at_ms);
				jw_kv_str(&j, "reason", e->reason);
				jw_kv_str(&j, "suspension_id", e->suspension_id);
				jw_kv_ms(&j, "timeout_at_ms", e->timeout_at_ms);
				jw_obj_end(&j);
			}
			else
			{
				char		at[40];
				char		to[40];

				ffctl_format_time(e->suspended_at_ms, at, sizeof(at));
				ffctl_format_time(e->timeout_at_ms, to, sizeof(to));
				printf("%-46s %-26s %-26s %s\n", e->execution_id, e->reason, at, to);
			}
		}
		free(cursor);
		cursor = l.count > 0 ? strdup(l.items[l.count - 1].execution_id) : NULL;
		if (!all || (int64_t) l.count < limit || limit == 0)
		{
			if (!all && l.count > 0 && !a.json && (int64_t) l.count == limit)
				fprintf(stderr, "(more: --cursor '%s', or --all)\n", cursor);
			ff_suspended_list_clear(&l);
			break;
		}
		ff_suspended_list_clear(&l);
	}
	if (a.json && rc == FFCTL_EXIT_OK)
	{
		jw_arr_end(&j);
		putchar('\n');
	}
	free(cursor);
	ff_client_close(c);
	return rc;
}

/* ------------------------------------------------------------------------
 * observe
 * ------------------------------------------------------------------------ */
static const ffctl_optspec observe_spec[] = {{"all", false}, {NULL, false}};

int
cmd_observe(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_handle	h = {0};
	ff_signal_list l = {0};
	ff_client  *c;
	int			rc;

	if (!ffctl_parse(argc, argv, observe_spec, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos != 1)
		return ffctl_usage_error("observe", "expected one HANDLE (hex)");
	if (ff_handle_from_hex(a.pos[0], &h) != FF_OK)
		return ffctl_usage_error("observe", "HANDLE is not hex");
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
	{
		ff_handle_clear(&h);
		return rc;
	}
	if (ff_client_observe_signals(c, &h, ffctl_flag(&a, "all"), &l) != FF_OK)
		rc = ffctl_fail(&a, c, "observe");
	else
	{
		ffctl_json	j;

		if (a.json)
		{
			jw_init(&j, stdout);
			jw_arr_begin(&j);
		}
		for (size_t i = 0; i < l.count; i++)
		{
			ff_signal_info *g = &l.items[i];

			if (a.json)
			{
				jw_obj_begin(&j);
				jw_kv_str(&j, "signal_id", g->signal_id);
				jw_kv_str(&j, "signal_name", g->signal_name);
				jw_kv_str(&j, "signal_category", g->signal_category);
				jw_kv_str(&j, "source_type", g->source_type);
				jw_kv_str(&j, "source_identity", g->source_identity);
				jw_kv_str(&j, "correlation_id", g->correlation_id);
				jw_kv_int(&j, "accepted_at_ms", g->accepted_at_ms);
				jw_bytes(&j, "payload", &g->payload);
				jw_kv_str(&j, "payload_encoding", g->payload_encoding);
				jw_kv_str(&j, "waitpoint_id", g->waitpoint_id);
				jw_kv_str(&j, "waitpoint_key", g->waitpoint_key);
				jw_obj_end(&j);
			}
			else
			{
				char		when[40];

				ffctl_format_time(g->accepted_at_ms, when, sizeof(when));
				printf("%s %s %s source=%s/%s waitpoint=%s payload=", when, g->signal_name,
					   g->signal_category, g->source_type,
					   g->source_identity && g->source_identity[0] ? g->source_identity : "-",
					   g->waitpoint_key ? g->waitpoint_key : "-");
				ffctl_print_bytes(stdout, &g->payload);
				putchar('\n');
			}
		}
		if (a.json)
		{
			jw_arr_end(&j);
			putchar('\n');
		}
	}
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
	char		host[256] = "localhost";
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
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	snprintf(instance, sizeof(instance), "%s/ffctl-%ld", host, (long) getpid());
	for (int i = 0; i < ffctl_opt_count(&a, "cap"); i++)
		caps[i] = ffctl_opt_n(&a, "cap", i);
	ca.execution_id = a.pos[0];
	ca.lane_id = ffctl_opt(&a, "lane");
	ca.worker_id = ffctl_opt(&a, "worker-id") ? ffctl_opt(&a, "worker-id") : "ffctl";
	ca.worker_instance_id = ffctl_opt(&a, "worker-instance-id") ? ffctl_opt(&a, "worker-instance-id") : instance;
	ca.lease_ttl_ms = ttl == 0 ? 0 : ttl < 0 ? -1 : ttl;
	ca.has_current_attempt_index = has_idx;
	ca.current_attempt_index = (int32_t) idx;
	ca.remaining_attempt_timeout_ms = remaining;
	ca.capabilities = caps;
	ca.n_capabilities = (size_t) ffctl_opt_count(&a, "cap");
	ca.lease_id = ffctl_opt(&a, "lease-id");

	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (ff_client_claim_resumed(c, &ca, &r) != FF_OK)
		rc = ffctl_fail(&a, c, "claim-resumed");
	else
	{
		char	   *hex = NULL;

		ff_handle_to_hex(&r.claimed.handle, &hex);
		if (a.json)
		{
			ffctl_json	j;

			jw_init(&j, stdout);
			jw_obj_begin(&j);
			jw_kv_str(&j, "handle", hex);
			jw_kv_str(&j, "execution_id", r.claimed.execution_id);
			jw_kv_int(&j, "attempt_index", r.claimed.attempt_index);
			jw_kv_str(&j, "attempt_id", r.attempt_id);
			jw_kv_str(&j, "lease_id", r.lease_id);
			jw_kv_int(&j, "lease_epoch", r.claimed.lease_epoch);
			jw_kv_int(&j, "lease_expires_at_ms", r.claimed.lease_expires_at_ms);
			jw_bytes(&j, "input_payload", &r.claimed.input_payload);
			jw_obj_end(&j);
			putchar('\n');
		}
		else
		{
			ffctl_kv("execution_id", "%s", r.claimed.execution_id);
			ffctl_kv("attempt_index", "%d", (int) r.claimed.attempt_index);
			ffctl_kv("attempt_id", "%s", r.attempt_id);
			ffctl_kv("lease_id", "%s", r.lease_id);
			ffctl_kv("lease_epoch", "%lld", (long long) r.claimed.lease_epoch);
			print_time_kv("lease_expires_at", r.claimed.lease_expires_at_ms);
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

	if (!only_options(a, "suspension", "expire", NULL))
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

		jw_init(&j, stdout);
		jw_obj_begin(&j);
		jw_kv_str(&j, "outcome", r.outcome);
		jw_kv_str(&j, "public_state", r.public_state);
		jw_obj_end(&j);
		putchar('\n');
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

		if (!only_options(&a, "hmac", "list", NULL))
			return FFCTL_EXIT_USAGE;
		if (a.npos != 1)
			return ffctl_usage_error("hmac", "list takes no arguments");
		c = ffctl_connect(&a, &rc);
		if (c == NULL)
			return rc;
		if (ff_client_list_hmac_kids(c, &l) != FF_OK)
			rc = ffctl_fail(&a, c, "hmac list");
		else if (a.json)
		{
			ffctl_json	j;

			jw_init(&j, stdout);
			jw_arr_begin(&j);
			for (size_t i = 0; i < l.count; i++)
			{
				jw_obj_begin(&j);
				jw_kv_str(&j, "kid", l.items[i].kid);
				jw_key(&j, "active");
				jw_bool(&j, l.items[i].active);
				jw_kv_int(&j, "rotated_at_ms", l.items[i].rotated_at_ms);
				jw_kv_ms(&j, "expires_at_ms", l.items[i].expires_at_ms);
				jw_obj_end(&j);
			}
			jw_arr_end(&j);
			putchar('\n');
		}
		else
		{
			printf("%-32s %-8s %-26s %s\n", "KID", "STATE", "ROTATED", "VERIFIES UNTIL");
			for (size_t i = 0; i < l.count; i++)
			{
				char		at[40];
				char		until[40];

				ffctl_format_time(l.items[i].rotated_at_ms, at, sizeof(at));
				ffctl_format_time(l.items[i].expires_at_ms, until, sizeof(until));
				printf("%-32s %-8s %-26s %s\n", l.items[i].kid,
					   l.items[i].active ? "active" : "retired", at, until);
			}
		}
		ff_hmac_kid_list_clear(&l);
		ff_client_close(c);
		return rc;
	}
	if (strcmp(sub, "seed") == 0)
	{
		ff_hmac_seed_result r = {0};

		if (!only_options(&a, "hmac", "seed", seed_opts))
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

			jw_init(&j, stdout);
			jw_obj_begin(&j);
			jw_kv_str(&j, "outcome", r.outcome);
			jw_kv_str(&j, "seeded_kid", r.seeded_kid);
			jw_key(&j, "same_secret");
			jw_bool(&j, r.same_secret);
			jw_obj_end(&j);
			putchar('\n');
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

		if (!only_options(&a, "hmac", "rotate", rotate_opts))
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

			jw_init(&j, stdout);
			jw_obj_begin(&j);
			jw_kv_str(&j, "outcome", r.outcome);
			jw_kv_str(&j, "previous_kid", r.previous_kid);
			jw_kv_str(&j, "current_kid", r.current_kid);
			jw_kv_int(&j, "gc_count", r.gc_count);
			jw_obj_end(&j);
			putchar('\n');
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
print_signal_event(const ffctl_args *a, const ff_signal_event *e)
{
	if (a->json)
	{
		ffctl_json	j;

		jw_init(&j, stdout);
		jw_obj_begin(&j);
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
		jw_obj_end(&j);
		putchar('\n');
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

static bool
event_wanted(const ff_signal_event *e, const char *execution, const char *lane)
{
	if (execution && (e->execution_id == NULL || strcmp(e->execution_id, execution) != 0))
		return false;
	if (lane && (e->lane_id == NULL || strcmp(e->lane_id, lane) != 0))
		return false;
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
				has_timeout,
				follow;
	const char *execution;
	const char *lane;
	int64_t		printed = 0;
	int64_t		deadline;
	struct sigaction sa;

	if (!ffctl_parse(argc, argv, signals_spec, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos > 0 || !ffctl_opt_int64(&a, "after", &after, NULL) ||
		!ffctl_opt_int64(&a, "limit", &limit, NULL) ||
		!ffctl_opt_int64(&a, "count", &count, &has_count) ||
		!ffctl_opt_int64(&a, "timeout-ms", &timeout, &has_timeout) ||
		!ffctl_opt_int64(&a, "poll-ms", &poll_ms, NULL))
		return ffctl_usage_error("signals", "bad arguments");
	follow = ffctl_flag(&a, "follow");
	execution = ffctl_opt(&a, "execution");
	lane = ffctl_opt(&a, "lane");
	if (!follow && (has_count || has_timeout))
		return ffctl_usage_error("signals", "--count and --timeout-ms go with --follow");
	if (after < 0 || limit < 1 || limit > 10000)
		return ffctl_usage_error("signals", "--after >= 0, --limit 1..10000");

	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (!follow)
	{
		for (;;)
		{
			ff_signal_event_list l = {0};
			size_t		n;

			if (ff_client_signal_events(c, after, (int32_t) limit, &l) != FF_OK)
			{
				rc = ffctl_fail(&a, c, "signals");
				break;
			}
			for (size_t i = 0; i < l.count; i++)
				if (event_wanted(&l.items[i], execution, lane))
					print_signal_event(&a, &l.items[i]);
			n = l.count;
			if (n > 0)
				after = l.items[n - 1].event_id;
			ff_signal_event_list_clear(&l);
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
	if (ff_subscription_open(c, FF_EVENTS_SIGNAL, after, &so, &s) != FF_OK)
	{
		rc = ffctl_fail(&a, c, "signals");
		ff_client_close(c);
		return rc;
	}
	deadline = mono_ms() + timeout;
	while (!interrupted && (!has_count || printed < count))
	{
		ff_signal_event_list l = {0};
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
		st = ff_subscription_next_signal_events(s, wait, &l);
		for (size_t i = 0; i < l.count && (!has_count || printed < count); i++)
			if (event_wanted(&l.items[i], execution, lane))
			{
				print_signal_event(&a, &l.items[i]);
				printed++;
			}
		ff_signal_event_list_clear(&l);
		fflush(stdout);
		if (st != FF_OK)
		{
			if (st != FF_ERR_CONNECTION)
			{
				rc = ffctl_fail(&a, c, "signals");
				break;
			}
			fprintf(stderr, "ffctl signals: %s; retrying\n", ff_client_last_error(c)->message);
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

/* ------------------------------------------------------------------------
 * suspension expire | reconcile
 * ------------------------------------------------------------------------ */
static int
suspension_reconcile(const ffctl_args *a)
{
	static const char *const opts[] = {"batch", NULL};
	static const struct
	{
		const char *name;
		const char *key;
		ff_status	(*fn) (ff_client *, int32_t, int32_t *);
	}			recs[2] = {
		{"suspension-timeout", "suspension_timeout", ff_client_reconcile_suspension_timeout},
		{"pending-waitpoint-expiry", "pending_waitpoint_expiry",
		ff_client_reconcile_pending_waitpoint_expiry},
	};
	ff_client  *c;
	bool		chosen[2] = {false, false};
	int64_t		batch = 0;
	int			rc;
	ffctl_json	j;

	if (!only_options(a, "suspension", "reconcile", opts))
		return FFCTL_EXIT_USAGE;
	if (!ffctl_opt_int64(a, "batch", &batch, NULL))
		return ffctl_usage_error("suspension", "bad arguments");
	for (int i = 1; i < a->npos; i++)
	{
		bool		known = false;

		for (int k = 0; k < 2; k++)
			if (strcmp(a->pos[i], recs[k].name) == 0 || strcmp(a->pos[i], "all") == 0)
				chosen[k] = known = true;
		if (!known)
			return ffctl_usage_error("suspension", "unknown reconciler \"%s\"", a->pos[i]);
	}
	if (a->npos == 1)
		chosen[0] = chosen[1] = true;
	if (batch < 0 || batch > 100000000)
		batch = -1;				/* the engine reports the range */
	c = ffctl_connect(a, &rc);
	if (c == NULL)
		return rc;
	if (a->json)
	{
		jw_init(&j, stdout);
		jw_obj_begin(&j);
	}
	for (int k = 0; k < 2; k++)
	{
		int32_t		n = 0;

		if (!chosen[k])
			continue;
		if (recs[k].fn(c, (int32_t) batch, &n) != FF_OK)
		{
			rc = ffctl_fail(a, c, "suspension reconcile");
			break;
		}
		if (a->json)
			jw_kv_int(&j, recs[k].key, n);
		else
			printf("%-26s %d\n", recs[k].name, (int) n);
	}
	if (a->json && rc == FFCTL_EXIT_OK)
	{
		jw_obj_end(&j);
		putchar('\n');
	}
	ff_client_close(c);
	return rc;
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

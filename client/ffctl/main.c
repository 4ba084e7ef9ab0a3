/*
 * main.c - ffctl: the flowfabric command-line tool (docs/ffctl.md).
 *
 *   ffctl [--dsn DSN] [--json] COMMAND [ARGS...]
 *
 * The connection comes from --dsn (a libpq conninfo string or URI) or the
 * standard PG* environment variables. This file holds the command table,
 * argument parsing, connection set-up and error reporting.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ffctl.h"

typedef struct ffctl_command
{
	const char *name;
	int			(*fn) (int argc, char **argv);
	const char *synopsis;
	const char *usage;
} ffctl_command;

static const ffctl_command commands[] = {
	{"enqueue", cmd_enqueue, "create an execution",
		"ffctl enqueue --lane LANE [--payload TEXT | --payload-file PATH|-] [--id ID]\n"
		"              [--namespace NS] [--kind KIND] [--priority N] [--cap TOKEN]...\n"
		"              [--policy JSON] [--delay-ms N | --delay-until MS]\n"
		"              [--deadline-ms N | --deadline-at MS] [--idempotency-key KEY]\n"
		"              [--tag KEY=VALUE]... [--tags JSON] [--creator ID]\n"
		"ffctl enqueue --file JOBS.jsonl|- [--batch N] [--lane LANE] [--namespace NS] [--kind KIND]\n"
		"              [--policy JSON] [--cap TOKEN]... [--creator ID]\n"
		"Prints the execution id (--json: execution_id, public_state, created).\n"
		"--file: one JSON object per line (lane, payload, payload_hex, id, idempotency_key,\n"
		"priority, tags, namespace, kind, policy, caps, delay_ms, delay_until, deadline_ms,\n"
		"deadline_at, creator); consecutive compatible lines go in one batched call of up to\n"
		"--batch (1000) executions; one output line per input line (--json: with \"line\")."},
	{"claim", cmd_claim, "claim executions of a lane",
		"ffctl claim --lane LANE [--worker-id ID] [--worker-instance-id ID] [--cap TOKEN]...\n"
		"            [--lease-ttl-ms N] [--max N]\n"
		"Prints each claim's handle (hex), execution id, attempt, lease and input.\n"
		"Exit status 6 when nothing was claimable."},
	{"renew", cmd_renew, "renew a lease", "ffctl renew HANDLE"},
	{"progress", cmd_progress, "record progress",
		"ffctl progress HANDLE [--percent N] [--message TEXT]"},
	{"complete", cmd_complete, "complete an attempt",
		"ffctl complete HANDLE [--result TEXT | --result-file PATH|-]"},
	{"fail", cmd_fail, "fail an attempt",
		"ffctl fail HANDLE --message TEXT [--class transient|permanent|infra_crash|timeout|cancelled]\n"
		"           [--detail TEXT]"},
	{"cancel", cmd_operator_cancel, "cancel an execution (operator) or with a handle (lease holder)",
		"ffctl cancel EXECUTION_ID [--reason TEXT] [--source SOURCE] [--lease-epoch N]\n"
		"ffctl cancel HANDLE [--reason TEXT]\n"
		"With an execution id ({fp:N}:...), an operator cancels it in any state (a held\n"
		"lease is revoked; see docs/operator.md); with a handle, the lease holder does."},
	{"delay", cmd_delay, "put the execution aside",
		"ffctl delay HANDLE (--ms N | --until MS)"},
	{"describe", cmd_describe, "show an execution", "ffctl describe EXECUTION_ID"},
	{"result", cmd_result, "print an execution's result payload",
		"ffctl result EXECUTION_ID\nWrites the raw result to stdout; exit status 4 if there is none."},
	{"list", cmd_list, "list executions",
		"ffctl list (--lane LANE | --partition N) [--cursor EXECUTION_ID] [--limit N] [--all]\n"
		"--lane lists the lane's solo partition and keeps that lane's executions."},
	{"lanes", cmd_lanes, "list lanes", "ffctl lanes [--cursor LANE] [--limit N]"},
	{"tag", cmd_tag, "read or write a tag",
		"ffctl tag get EXECUTION_ID KEY\nffctl tag set EXECUTION_ID KEY VALUE"},
	{"events", cmd_events, "read or follow an outbox",
		"ffctl events [--lease] [--after EVENT_ID] [--limit N] [--lane LANE]\n"
		"             [--follow [--count N] [--timeout-ms N] [--poll-ms N]]\n"
		"Completion events by default, lease events with --lease. Without --follow,\n"
		"prints what is readable after the cursor and exits; with --follow, waits for\n"
		"more (LISTEN + catch-up from the cursor) until interrupted, --count events\n"
		"were printed or --timeout-ms passed."},
	{"worker", cmd_worker, "run a shell command per execution",
		"ffctl worker --lane LANE --exec COMMAND [--concurrency N] [--cap TOKEN]...\n"
		"             [--lease-ttl-ms N] [--worker-id ID] [--worker-instance-id ID]\n"
		"             [--max-jobs N] [--drain] [--reconcile-ms N]\n"
		"             [--permanent-exit CODE]... [--verbose]\n"
		"Runs `sh -c COMMAND` for each claimed execution: the input payload on stdin,\n"
		"FF_EXECUTION_ID, FF_ATTEMPT_INDEX, FF_LEASE_EPOCH, FF_LANE_ID and FF_HANDLE in\n"
		"the environment. Exit status 0 completes with stdout as the result; any\n"
		"other status fails the attempt (transient, or permanent for the codes given\n"
		"with --permanent-exit; infra_crash if killed by a signal). Stops on SIGINT /\n"
		"SIGTERM after the running commands finish; --drain stops once nothing is\n"
		"claimable, --max-jobs after N jobs."},
	{"reconcile", cmd_reconcile, "run the reconcilers",
		"ffctl reconcile [lease-expiry|attempt-timeout|delayed-promotion|execution-deadline|\n"
		"                 retention|event-retention|all]... [--batch N] [--loop-ms N]\n"
		"One pass of each named reconciler (default all); --loop-ms repeats until\n"
		"interrupted. retention deletes executions finished longer than\n"
		"flowfabric.retention_ms ago, event-retention outbox events older than\n"
		"flowfabric.event_retention_ms (0 or -1 keeps them forever)."},
	/* suspension, waitpoints and signals (cmd_suspend.c) */
	{"suspend", cmd_suspend, "suspend an execution on waitpoints",
		"ffctl suspend HANDLE (--waitpoint KEY | --use-pending WAITPOINT_ID)... | --waitpoints JSON\n"
		"              [--condition JSON] [--reason CODE] [--requested-by WHO]\n"
		"              [--timeout-ms N | --timeout-at MS]\n"
		"              [--on-timeout fail|cancel|expire|auto_resume|escalate]\n"
		"              [--resume-policy JSON] [--suspension-id UUID] [--idempotency-key KEY]\n"
		"              [--continuation POINTER]\n"
		"ffctl suspend --execution ID --lease-id UUID --lease-epoch N [--attempt-id UUID]\n"
		"              [--attempt-index N] ...the same options...\n"
		"Prints the outcome, the suspension id and each waitpoint's id, key and token\n"
		"(hand the tokens to whoever will signal). Without --condition: all of the\n"
		"waitpoints, any signal."},
	{"signal", cmd_signal, "deliver a signal with a waitpoint token",
		"ffctl signal --execution ID --waitpoint WAITPOINT_ID (--token TOKEN | --token-file PATH|-)\n"
		"             --name NAME [--payload TEXT | --payload-file PATH|-] [--encoding ENC]\n"
		"             [--idempotency-key KEY] [--signal-id UUID] [--correlation-id ID]\n"
		"             [--category CAT] [--source-type TYPE] [--source-identity ID]\n"
		"             [--dedup-ttl-ms N] [--resume-delay-ms N] [--max-signals N] [--created-at MS]\n"
		"How an outside system resumes a job. Prints the result and the effect\n"
		"(resume_condition_satisfied, appended_to_waitpoint, buffered_for_pending_waitpoint,\n"
		"..., or duplicate). Token errors: invalid_token, invalid_kid, token_expired,\n"
		"waitpoint_closed, invalid_waitpoint_for_execution (exit 1)."},
	{"waitpoint", cmd_waitpoint, "create a pending waitpoint, read its token, close it",
		"ffctl waitpoint create HANDLE --expires-ms N [--key KEY] [--id UUID]\n"
		"ffctl waitpoint token EXECUTION_ID|{fp:N} WAITPOINT_ID   (exit 4: none open)\n"
		"ffctl waitpoint close EXECUTION_ID WAITPOINT_ID [--reason TEXT]"},
	{"waitpoints", cmd_waitpoints, "list an execution's pending and active waitpoints",
		"ffctl waitpoints EXECUTION_ID [--after WAITPOINT_ID] [--limit N] [--all]\n"
		"Tokens are shown redacted (kid and fingerprint)."},
	{"suspended", cmd_suspended, "list suspended executions",
		"ffctl suspended (--partition N | --lane LANE) [--cursor EXECUTION_ID] [--limit N] [--all]\n"
		"--lane lists the lane's solo partition (other lanes sharing it included)."},
	{"observe", cmd_observe, "show the signals that resumed an attempt",
		"ffctl observe HANDLE [--all]"},
	{"claim-resumed", cmd_claim_resumed, "claim a resumed execution (same attempt)",
		"ffctl claim-resumed EXECUTION_ID --lane LANE [--worker-id ID] [--worker-instance-id ID]\n"
		"                    [--cap TOKEN]... [--lease-ttl-ms N] [--attempt-index N]\n"
		"                    [--remaining-timeout-ms N] [--lease-id UUID]"},
	{"resume", cmd_resume, "resume a suspended execution (operator)",
		"ffctl resume EXECUTION_ID [--delay-ms N] [--trigger TYPE]"},
	{"approve", cmd_approve, "deliver an approval signal (operator)",
		"ffctl approve EXECUTION_ID --lane LANE --waitpoint WAITPOINT_ID [--reject | --name NAME]\n"
		"              [--suffix TEXT] [--dedup-ttl-ms N] [--max-signals N]\n"
		"Signal \"approved\" (or \"rejected\", or NAME) with the waitpoint's own token;\n"
		"idempotency key approval:<name>:<suffix>, the suffix defaulting to the waitpoint id."},
	{"hmac", cmd_hmac, "the waitpoint signing keystore",
		"ffctl hmac seed KID (--secret-hex HEX | --secret-file PATH|- | --generate)\n"
		"ffctl hmac rotate KID (--secret-hex HEX | --secret-file PATH|- | --generate) [--grace-ms N]\n"
		"ffctl hmac list\n"
		"Seed installs the first kid (64 hex digits); rotate makes a new kid active and\n"
		"lets the previous one verify for --grace-ms (default 86400000). Secrets are\n"
		"never printed."},
	{"signals", cmd_signals, "read or follow the signal-event outbox",
		"ffctl signals [--after EVENT_ID] [--limit N] [--execution ID] [--lane LANE]\n"
		"              [--follow [--count N] [--timeout-ms N] [--poll-ms N]]\n"
		"One event per accepted signal, with its effect. --follow waits for more\n"
		"(LISTEN + catch-up from the cursor)."},
	{"suspension", cmd_suspension, "apply suspension timeouts",
		"ffctl suspension expire EXECUTION_ID\n"
		"ffctl suspension reconcile [suspension-timeout|pending-waitpoint-expiry|all]... [--batch N]\n"
		"expire applies one execution's suspension timeout if it is due (outcome: the\n"
		"behaviour applied, or not_suspended / no_active_suspension / not_yet_due);\n"
		"reconcile runs one pass of the suspension reconcilers (the engine's background\n"
		"reconcilers normally do this)."},
	{"ping", cmd_ping, "check the connection and the extension", "ffctl ping"},
	{"time", cmd_time, "print the engine clock", "ffctl time"},
	{"capabilities", cmd_capabilities, "print ff_capabilities()", "ffctl capabilities"},
	/* streams (cmd_stream.c) */
	{"tail", cmd_tail, "print (and follow) an attempt's output stream",
		"ffctl tail EXECUTION_ID [--attempt N] [--after FRAME_ID] [--limit N]\n"
		"           [--follow [--block-ms N] [--timeout-ms N]] [--exclude-best-effort]\n"
		"           [--raw | --ids | --base64]\n"
		"Prints the frames of the stream of the current attempt (or --attempt N) after\n"
		"--after (default: from the beginning), oldest first: text payloads as they are\n"
		"(one per line), binary ones in hex (--base64: base64); --ids prefixes each with\n"
		"its frame id and type, --raw writes the payload bytes only, --json one object\n"
		"per frame. --follow then waits for new frames like tail -f (woken by NOTIFY)\n"
		"until the stream closes (its attempt ended), SIGINT / SIGTERM, or --timeout-ms\n"
		"(exit status 6)."},
	{"summary", cmd_summary, "print an attempt's summary document",
		"ffctl summary EXECUTION_ID [--attempt N]\n"
		"The document the attempt's summary frames (JSON merge patches) built, its\n"
		"version and times; exit status 4 if there is none."},
	{"append", cmd_append, "append a frame to the handle's stream",
		"ffctl append HANDLE --type TYPE (--payload TEXT | --payload-file PATH|-)\n"
		"             [--mode durable|summary|best_effort] [--correlation-id ID]\n"
		"             [--encoding LABEL] [--ttl-ms N] [--floor N] [--ceiling N] [--alpha X]\n"
		"Prints the frame id. The lease holder only (e.g. ffctl append \"$FF_HANDLE\" in\n"
		"ffctl worker --exec); summary payloads are JSON merge patches."},
	/* flows (cmd_flow.c) */
	{"flow", cmd_flow, "flows: build a DAG, describe, list, cancel", ffctl_flow_usage},
	{"wait-children", cmd_wait_children, "give up the lease until the dependencies finish",
		"ffctl wait-children HANDLE\n"
		"The lease holder of a flow member waits for its dependencies (ff_wait_children):\n"
		"prints waiting_children (or waiting when nothing is left to wait for). The\n"
		"execution is claimable again, same attempt, once its edge group is satisfied."},
	/* operator controls, lanes, workers (cmd_operator.c, docs/operator.md) */
	{"replay", cmd_replay, "run a finished execution again (operator)",
		"ffctl replay EXECUTION_ID [--reason TEXT]\n"
		"Prints the new public state and the replay count."},
	{"revoke", cmd_revoke, "revoke an execution's lease (operator)",
		"ffctl revoke EXECUTION_ID [--lease-id UUID] [--worker-instance-id ID] [--reason TEXT]\n"
		"The holder's next call fails with lease_revoked; the execution is reclaimable."},
	{"priority", cmd_priority, "change a waiting execution's priority (operator)",
		"ffctl priority EXECUTION_ID PRIORITY\nPrints old -> new (clamped to 0..9000)."},
	{"workers", cmd_workers, "the worker registry",
		"ffctl workers [list] [--namespace NS] [--cursor INSTANCE] [--limit N]\n"
		"ffctl workers dead INSTANCE [--namespace NS] [--reason TEXT]\n"
		"ffctl workers expired-leases [--namespace NS] [--limit N]\n"
		"dead removes the registration and releases the instance's leases for reclaim."},
	{"lane", cmd_lane, "pause, resume or drain a lane; list lane states",
		"ffctl lane pause|resume|drain LANE [--reason TEXT]\n"
		"ffctl lane list [--cursor LANE] [--limit N]\n"
		"paused hands out nothing; draining only work already started."},
	/* budgets, quotas and admission control (cmd_budget.c, docs/budgets.md) */
	{"budget", cmd_budget, "budgets: create, status, reset, usage reports, spends", ffctl_budget_usage},
	{"quota", cmd_quota, "quota policies and admission: create, show, check, release", ffctl_quota_usage},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
print_help(FILE *f)
{
	fprintf(f,
			"ffctl - command-line tool for the flowfabric engine (libflowfabric %s)\n\n"
			"usage: ffctl [--dsn DSN] [--json] COMMAND [ARGS...]\n"
			"       ffctl COMMAND --help\n\n"
			"The connection comes from --dsn (libpq conninfo or URI) or PGHOST, PGPORT,\n"
			"PGUSER, PGDATABASE, ... Output is for people by default; --json prints JSON\n"
			"(one document, or one object per line for events and worker).\n\n"
			"commands:\n", FF_CLIENT_VERSION);
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-13s %s\n", commands[i].name, commands[i].synopsis);
	fprintf(f,
			"\nexit status: 0 ok, 1 error, 2 usage, 3 connection, 4 not found,\n"
			"5 lease lost, 6 nothing claimed / not enough events. See docs/ffctl.md.\n");
}

static const ffctl_command *
find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* ------------------------------------------------------------------------
 * argument parsing
 * ------------------------------------------------------------------------ */
static const ffctl_optspec global_spec[] = {
	{"dsn", true}, {"json", false}, {"help", false}, {NULL, false}
};

static const ffctl_optspec *
find_spec(const ffctl_optspec *spec, const char *name, size_t len)
{
	for (int pass = 0; pass < 2; pass++)
	{
		const ffctl_optspec *s = pass == 0 ? spec : global_spec;

		for (; s && s->name; s++)
			if (strlen(s->name) == len && strncmp(s->name, name, len) == 0)
				return s;
	}
	return NULL;
}

bool
ffctl_parse(int argc, char **argv, const ffctl_optspec *spec, ffctl_args *a)
{
	const char *cmd = argv[0];
	bool		only_pos = false;

	for (int i = 1; i < argc; i++)
	{
		const char *arg = argv[i];
		const char *eq;
		const ffctl_optspec *s;
		size_t		len;
		const char *value = NULL;

		if (only_pos || arg[0] != '-' || strcmp(arg, "-") == 0 ||
			(arg[1] != '-' && strcmp(arg, "-h") != 0))
		{
			if (a->npos >= FFCTL_MAX_POS)
			{
				ffctl_usage_error(cmd, "too many arguments");
				return false;
			}
			a->pos[a->npos++] = arg;
			continue;
		}
		if (strcmp(arg, "--") == 0)
		{
			only_pos = true;
			continue;
		}
		if (strcmp(arg, "-h") == 0)
			arg = "--help";
		eq = strchr(arg, '=');
		len = eq ? (size_t) (eq - arg - 2) : strlen(arg) - 2;
		s = find_spec(spec, arg + 2, len);
		if (s == NULL)
		{
			ffctl_usage_error(cmd, "unknown option %.*s", (int) (len + 2), arg);
			return false;
		}
		if (s->has_arg)
		{
			if (eq)
				value = eq + 1;
			else if (i + 1 < argc)
				value = argv[++i];
			else
			{
				ffctl_usage_error(cmd, "option --%s needs a value", s->name);
				return false;
			}
		}
		else if (eq)
		{
			ffctl_usage_error(cmd, "option --%s takes no value", s->name);
			return false;
		}
		if (strcmp(s->name, "help") == 0)
		{
			const ffctl_command *c = find_command(cmd);

			printf("%s\n", c ? c->usage : "");
			exit(FFCTL_EXIT_OK);
		}
		if (strcmp(s->name, "dsn") == 0)
			a->dsn = value;
		else if (strcmp(s->name, "json") == 0)
			a->json = true;
		if (a->nopts >= FFCTL_MAX_OPTS)
		{
			ffctl_usage_error(cmd, "too many options");
			return false;
		}
		a->names[a->nopts] = s->name;
		a->values[a->nopts] = value;
		a->nopts++;
	}
	return true;
}

const char *
ffctl_opt(const ffctl_args *a, const char *name)
{
	const char *v = NULL;

	for (int i = 0; i < a->nopts; i++)
		if (strcmp(a->names[i], name) == 0)
			v = a->values[i];
	return v;
}

bool
ffctl_flag(const ffctl_args *a, const char *name)
{
	return ffctl_opt_count(a, name) > 0;
}

const char *
ffctl_opt_n(const ffctl_args *a, const char *name, int n)
{
	for (int i = 0; i < a->nopts; i++)
		if (strcmp(a->names[i], name) == 0 && n-- == 0)
			return a->values[i];
	return NULL;
}

int
ffctl_opt_count(const ffctl_args *a, const char *name)
{
	int			n = 0;

	for (int i = 0; i < a->nopts; i++)
		if (strcmp(a->names[i], name) == 0)
			n++;
	return n;
}

bool
ffctl_opt_int64(const ffctl_args *a, const char *name, int64_t *out, bool *present)
{
	const char *v = ffctl_opt(a, name);
	char	   *end;
	long long	n;

	if (present)
		*present = v != NULL;
	if (v == NULL)
		return true;
	n = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0')
	{
		fprintf(stderr, "ffctl: --%s: not an integer: %s\n", name, v);
		return false;
	}
	*out = n;
	return true;
}

/* ------------------------------------------------------------------------
 * connection and errors
 * ------------------------------------------------------------------------ */
int
ffctl_exit_code(ff_status s)
{
	if (s == FF_OK)
		return FFCTL_EXIT_OK;
	if (s == FF_ERR_CONNECTION)
		return FFCTL_EXIT_CONNECTION;
	if (s == FF_ERR_USAGE)
		return FFCTL_EXIT_USAGE;
	if (ff_status_is_lease_lost(s))
		return FFCTL_EXIT_LEASE_LOST;
	if (ff_status_category(s) == 'N')
		return FFCTL_EXIT_NOT_FOUND;
	return FFCTL_EXIT_ERROR;
}

int
ffctl_fail_error(const ffctl_args *a, const ff_error *e, const char *what)
{
	if (a && a->json)
	{
		ffctl_json	j;

		jw_init(&j, stderr);
		jw_obj_begin(&j);
		jw_key(&j, "error");
		jw_obj_begin(&j);
		jw_kv_str(&j, "kind", ff_status_name(e->kind));
		jw_kv_str(&j, "sqlstate", e->sqlstate[0] ? e->sqlstate : NULL);
		jw_kv_str(&j, "message", e->message);
		jw_kv_str(&j, "detail", e->detail);
		jw_kv_str(&j, "hint", e->hint);
		jw_kv_bool(&j, "retryable", e->retryable);
		jw_kv_str(&j, "command", what);
		jw_obj_end(&j);
		jw_obj_end(&j);
		fputc('\n', stderr);
	}
	else
	{
		fprintf(stderr, "ffctl %s: %s", what, e->message ? e->message : ff_status_name(e->kind));
		if (e->sqlstate[0])
			fprintf(stderr, " (%s)", e->sqlstate);
		fputc('\n', stderr);
		if (e->detail)
			fprintf(stderr, "detail: %s\n", e->detail);
		if (e->hint)
			fprintf(stderr, "hint: %s\n", e->hint);
	}
	return ffctl_exit_code(e->kind);
}

int
ffctl_fail(const ffctl_args *a, ff_client *c, const char *what)
{
	return ffctl_fail_error(a, ff_client_last_error(c), what);
}

int
ffctl_usage_error(const char *command, const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "ffctl %s: ", command);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(ffctl %s --help for usage)\n", command);
	return FFCTL_EXIT_USAGE;
}

ff_client *
ffctl_connect(const ffctl_args *a, int *exit_code)
{
	ff_client  *c = NULL;
	ff_error	e = {0};

	if (ff_client_connect(a->dsn ? a->dsn : "", &c, &e) != FF_OK)
	{
		*exit_code = ffctl_fail_error(a, &e, "connect");
		ff_error_clear(&e);
		return NULL;
	}
	*exit_code = FFCTL_EXIT_OK;
	return c;
}

bool
ffctl_read_file(const char *path, ff_bytes *out)
{
	FILE	   *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t		cap = 4096;
	size_t		len = 0;
	unsigned char *buf;

	out->data = NULL;
	out->len = 0;
	if (f == NULL)
	{
		fprintf(stderr, "ffctl: cannot open %s\n", path);
		return false;
	}
	buf = malloc(cap);
	while (buf)
	{
		size_t		n = fread(buf + len, 1, cap - len, f);

		len += n;
		if (len < cap)
			break;
		cap *= 2;
		{
			unsigned char *g = realloc(buf, cap);

			if (g == NULL)
			{
				free(buf);
				buf = NULL;
			}
			else
				buf = g;
		}
	}
	if (f != stdin)
		fclose(f);
	if (buf == NULL)
	{
		fprintf(stderr, "ffctl: out of memory reading %s\n", path);
		return false;
	}
	out->data = buf;
	out->len = len;
	return true;
}

int
main(int argc, char **argv)
{
	const ffctl_command *cmd;
	int			i = 1;
	const char *dsn = NULL;
	bool		json = false;
	char	  **sub;
	int			subc;
	int			rc;

	signal(SIGPIPE, SIG_IGN);

	/* global options before the command */
	while (i < argc && strncmp(argv[i], "--", 2) == 0)
	{
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--dsn") == 0 && i + 1 < argc)
			dsn = argv[++i];
		else if (strncmp(argv[i], "--dsn=", 6) == 0)
			dsn = argv[i] + 6;
		else if (strcmp(argv[i], "--help") == 0)
		{
			print_help(stdout);
			return FFCTL_EXIT_OK;
		}
		else if (strcmp(argv[i], "--version") == 0)
		{
			printf("ffctl (libflowfabric) %s\n", FF_CLIENT_VERSION);
			return FFCTL_EXIT_OK;
		}
		else
		{
			fprintf(stderr, "ffctl: unknown option %s\n", argv[i]);
			print_help(stderr);
			return FFCTL_EXIT_USAGE;
		}
		i++;
	}
	if (i >= argc)
	{
		print_help(stderr);
		return FFCTL_EXIT_USAGE;
	}
	if (strcmp(argv[i], "help") == 0)
	{
		if (i + 1 < argc && (cmd = find_command(argv[i + 1])) != NULL)
			printf("%s\n", cmd->usage);
		else
			print_help(stdout);
		return FFCTL_EXIT_OK;
	}
	cmd = find_command(argv[i]);
	if (cmd == NULL)
	{
		fprintf(stderr, "ffctl: unknown command \"%s\"\n", argv[i]);
		print_help(stderr);
		return FFCTL_EXIT_USAGE;
	}

	/* hand the command its arguments, the global options first */
	sub = calloc((size_t) (argc - i) + 4, sizeof(char *));
	if (sub == NULL)
		return FFCTL_EXIT_ERROR;
	subc = 0;
	sub[subc++] = argv[i];
	if (json)
		sub[subc++] = "--json";
	if (dsn)
	{
		sub[subc++] = "--dsn";
		sub[subc++] = (char *) dsn;
	}
	for (int k = i + 1; k < argc; k++)
		sub[subc++] = argv[k];
	rc = cmd->fn(subc, sub);
	free(sub);
	fflush(stdout);
	return rc;
}

/*
 * cmd_budget.c - ffctl budget and ffctl quota: budgets, quotas and admission
 * control (docs/budgets.md) on the library's calls (client/src/budget.c).
 * Reference: docs/ffctl.md, "Budgets and quotas".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ffctl.h"

#define BUDGET_USAGE \
	"ffctl budget create [BUDGET_ID] [--limit DIM=HARD[/SOFT]]... [--reset-interval-ms N]\n" \
	"                    [--scope TYPE[:ID]] [--mode strict|warn]\n" \
	"                    [--on-hard-limit block|fail|cancel|notify] [--on-soft-limit notify]\n" \
	"ffctl budget status BUDGET_ID\n" \
	"ffctl budget show BUDGET_ID          (usage and limits, upstream's shape)\n" \
	"ffctl budget reset BUDGET_ID\n" \
	"ffctl budget limits BUDGET_ID DIM=HARD[/SOFT]...\n" \
	"ffctl budget usage BUDGET_ID DIM=DELTA... [--dedup-key KEY]\n" \
	"ffctl budget report HANDLE BUDGET_ID DIM=DELTA... [--dedup-key KEY]\n" \
	"ffctl budget spend BUDGET_ID EXECUTION_ID DIM=DELTA... [--idempotency-key KEY]\n" \
	"ffctl budget release BUDGET_ID EXECUTION_ID\n" \
	"ffctl budget reconcile [reset|counters|executions|all]... [--batch N]\n" \
	"A report prints ok, soft_breach DIM USED/SOFT, hard_breach DIM USED/HARD (rejected)\n" \
	"or already_applied (FIRST). Executions attach with the policy\n" \
	"{\"budget_ids\": [BUDGET_ID, ...]}: ffctl enqueue --policy."

#define QUOTA_USAGE \
	"ffctl quota create [QUOTA_ID] [--window-seconds N] [--max-requests N]\n" \
	"                   [--max-concurrent N] [--jitter-ms N]\n" \
	"ffctl quota show QUOTA_ID\n" \
	"ffctl quota check QUOTA_ID EXECUTION_ID [--window-seconds N --rate N --cap N]\n" \
	"                  [--jitter-ms N] [--dimension D]\n" \
	"ffctl quota release QUOTA_ID EXECUTION_ID\n" \
	"ffctl quota block EXECUTION_ID waiting_for_budget|waiting_for_quota|\n" \
	"                  waiting_for_capable_worker [--detail TEXT]\n" \
	"ffctl quota admission EXECUTION_ID   (what holds it back)\n" \
	"ffctl quota reconcile [counters|unblock|cleanup|all]... [--batch N]\n" \
	"Executions attach with the policy {\"quota_policy_id\": QUOTA_ID}. check without\n" \
	"limits uses the policy's; with them, all of --window-seconds, --rate, --cap."

const char	ffctl_budget_usage[] = BUDGET_USAGE;
const char	ffctl_quota_usage[] = QUOTA_USAGE;

/* ------------------------------------------------------------------------
 * helpers
 * ------------------------------------------------------------------------ */
static bool
parse_int64(const char *s, int64_t *out)
{
	char	   *end;

	if (s == NULL || *s == '\0')
		return false;
	*out = strtoll(s, &end, 10);
	return *end == '\0';
}

/* DIM=N[/M] -> name (in a copy the caller frees), n, m */
static bool
parse_pair(const char *arg, bool allow_second, char **name, int64_t *n, int64_t *m)
{
	const char *eq = strrchr(arg, '=');
	char	   *num;
	char	   *slash;
	bool		good;

	*m = 0;
	if (eq == NULL || eq == arg)
		return false;
	*name = strndup(arg, (size_t) (eq - arg));
	num = strdup(eq + 1);
	if (*name == NULL || num == NULL)
	{
		free(*name);
		free(num);
		return false;
	}
	slash = allow_second ? strchr(num, '/') : NULL;
	if (slash)
		*slash = '\0';
	good = parse_int64(num, n) && (slash == NULL || parse_int64(slash + 1, m));
	free(num);
	if (!good)
	{
		free(*name);
		*name = NULL;
	}
	return good;
}

/* positional DIM=DELTA arguments from index first */
static bool
parse_deltas(const ffctl_args *a, int first, ff_usage_delta **out, size_t *n, const char *cmd)
{
	size_t		count = a->npos > first ? (size_t) (a->npos - first) : 0;
	ff_usage_delta *d = calloc(count > 0 ? count : 1, sizeof(ff_usage_delta));

	*out = d;
	*n = 0;
	if (d == NULL)
		return false;
	for (size_t i = 0; i < count; i++)
	{
		char	   *name;
		int64_t		m;

		if (!parse_pair(a->pos[first + i], false, &name, &d[i].delta, &m))
		{
			ffctl_usage_error(cmd, "\"%s\" is not DIM=DELTA", a->pos[first + i]);
			return false;
		}
		d[i].dimension = name;
		(*n)++;
	}
	return true;
}

static void
free_deltas(ff_usage_delta *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((char *) d[i].dimension);
	free(d);
}

/* DIM=HARD[/SOFT] values (positional from first, or every --limit) */
static bool
parse_limits(const ffctl_args *a, int first, bool from_option, ff_budget_limit **out, size_t *n,
			 const char *cmd)
{
	size_t		count = from_option ? (size_t) ffctl_opt_count(a, "limit")
		: (a->npos > first ? (size_t) (a->npos - first) : 0);
	ff_budget_limit *l = calloc(count > 0 ? count : 1, sizeof(ff_budget_limit));

	*out = l;
	*n = 0;
	if (l == NULL)
		return false;
	for (size_t i = 0; i < count; i++)
	{
		const char *arg = from_option ? ffctl_opt_n(a, "limit", (int) i) : a->pos[first + i];
		char	   *name;

		if (!parse_pair(arg, true, &name, &l[i].hard_limit, &l[i].soft_limit))
		{
			ffctl_usage_error(cmd, "\"%s\" is not DIM=HARD[/SOFT]", arg);
			return false;
		}
		l[i].dimension = name;
		(*n)++;
	}
	return true;
}

static void
free_limits(ff_budget_limit *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((char *) l[i].dimension);
	free(l);
}

static void
print_usage_result(const ffctl_args *a, const ff_usage_result *r)
{
	if (a->json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_str(&j, "outcome", ff_usage_outcome_name(r->outcome));
		jw_kv_str(&j, "dimension", r->dimension);
		jw_key(&j, "current_usage");
		if (r->dimension)
			jw_int(&j, r->current_usage);
		else
			jw_null(&j);
		jw_key(&j, "limit");
		if (r->dimension)
			jw_int(&j, r->limit);
		else
			jw_null(&j);
		jw_kv_str(&j, "first_outcome", r->outcome == FF_USAGE_ALREADY_APPLIED
				  ? ff_usage_outcome_name(r->first_outcome) : NULL);
		jw_doc_end(&j);
		return;
	}
	printf("%s", ff_usage_outcome_name(r->outcome));
	if (r->outcome == FF_USAGE_ALREADY_APPLIED)
		printf(" (%s)", ff_usage_outcome_name(r->first_outcome));
	if (r->dimension)
		printf(" %s %lld/%lld", r->dimension, (long long) r->current_usage, (long long) r->limit);
	putchar('\n');
}

/* runs a verb without arguments of its own: connects and runs fn */
typedef int (*verb_fn) (const ffctl_args *a, ff_client *c);

static int
connect_and(const ffctl_args *a, verb_fn fn)
{
	int			rc;
	ff_client  *c = ffctl_connect(a, &rc);

	if (c == NULL)
		return rc;
	rc = fn(a, c);
	ff_client_close(c);
	return rc;
}

/* NOUN reconcile [NAME|all]... [--batch N] */
static int
run_reconcilers(int argc, char **argv, const char *command, const ffctl_reconciler *r, size_t n)
{
	static const ffctl_optspec spec[] = {{"batch", true}, {NULL, false}};
	ffctl_reconcilers family = {command, NULL, "%s: %d\n", r, n, 0, 100000, false};
	ffctl_args	a = {0};
	int64_t		batch = 0;

	if (!ffctl_parse(argc, argv, spec, &a))
		return FFCTL_EXIT_USAGE;
	if (!ffctl_opt_int64(&a, "batch", &batch, NULL) || batch < 0 || batch > family.max_batch)
		return ffctl_usage_error(command, "--batch must be 0..100000");
	return ffctl_run_reconcilers(&a, &family, batch, 0);
}

/* ------------------------------------------------------------------------
 * ffctl budget
 * ------------------------------------------------------------------------ */
static int
budget_create(int argc, char **argv)
{
	static const ffctl_optspec spec[] = {
		{"limit", true}, {"reset-interval-ms", true}, {"scope", true}, {"mode", true},
		{"on-hard-limit", true}, {"on-soft-limit", true}, {NULL, false}
	};
	ffctl_args	a = {0};
	ff_budget_args ba = {0};
	ff_budget_limit *limits = NULL;
	size_t		n = 0;
	ff_budget_created r = {0};
	ff_client  *c;
	int			rc;
	bool		has;
	char	   *scope = NULL;

	if (!ffctl_parse(argc, argv, spec, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos > 1 || !ffctl_opt_int64(&a, "reset-interval-ms", &ba.reset_interval_ms, &has))
		return ffctl_usage_error("budget create", "expected: [BUDGET_ID] [options]");
	if (!parse_limits(&a, 0, true, &limits, &n, "budget create"))
	{
		free_limits(limits, n);
		return FFCTL_EXIT_USAGE;
	}
	ba.budget_id = a.npos == 1 ? a.pos[0] : NULL;
	ba.limits = limits;
	ba.n_limits = n;
	if (ffctl_opt(&a, "scope"))
	{
		char	   *colon;

		scope = strdup(ffctl_opt(&a, "scope"));
		if (scope == NULL)
			return FFCTL_EXIT_ERROR;
		colon = strchr(scope, ':');
		if (colon)
		{
			*colon = '\0';
			ba.scope_id = colon + 1;
		}
		ba.scope_type = scope;
	}
	ba.enforcement_mode = ffctl_opt(&a, "mode");
	ba.on_hard_limit = ffctl_opt(&a, "on-hard-limit");
	ba.on_soft_limit = ffctl_opt(&a, "on-soft-limit");
	c = ffctl_connect(&a, &rc);
	if (c != NULL)
	{
		if (ff_client_create_budget(c, &ba, &r) != FF_OK)
			rc = ffctl_fail(&a, c, "budget create");
		else if (a.json)
		{
			ffctl_json	j;

			jw_doc_begin(&j);
			jw_kv_str(&j, "outcome", r.created ? "created" : "already_satisfied");
			jw_kv_str(&j, "budget_id", r.budget_id);
			jw_kv_ms(&j, "next_reset_at_ms", r.next_reset_at_ms);
			jw_doc_end(&j);
		}
		else
			printf("%s %s\n", r.created ? "created" : "already_satisfied", r.budget_id);
		ff_budget_created_clear(&r);
		ff_client_close(c);
	}
	free(scope);
	free_limits(limits, n);
	return rc;
}

static const char *budget_id_arg;

static int
do_budget_status(const ffctl_args *a, ff_client *c)
{
	ff_budget_status s = {0};

	if (ff_client_get_budget_status(c, budget_id_arg, &s) != FF_OK)
		return ffctl_fail(a, c, "budget status");
	if (a->json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_str(&j, "budget_id", s.budget_id);
		jw_kv_str(&j, "scope_type", s.scope_type);
		jw_kv_str(&j, "scope_id", s.scope_id);
		jw_kv_str(&j, "enforcement_mode", s.enforcement_mode);
		jw_kv_str(&j, "on_hard_limit", s.on_hard_limit);
		jw_kv_str(&j, "on_soft_limit", s.on_soft_limit);
		jw_key(&j, "dimensions");
		jw_arr_begin(&j);
		for (size_t i = 0; i < s.n_dimensions; i++)
		{
			jw_obj_begin(&j);
			jw_kv_str(&j, "dimension", s.dimensions[i].dimension);
			jw_kv_int(&j, "used", s.dimensions[i].used);
			jw_kv_int(&j, "hard_limit", s.dimensions[i].hard_limit);
			jw_kv_int(&j, "soft_limit", s.dimensions[i].soft_limit);
			jw_obj_end(&j);
		}
		jw_arr_end(&j);
		jw_kv_int(&j, "breach_count", s.breach_count);
		jw_kv_int(&j, "soft_breach_count", s.soft_breach_count);
		jw_kv_ms(&j, "last_breach_at_ms", s.last_breach_at_ms);
		jw_kv_str(&j, "last_breach_dim", s.last_breach_dim);
		jw_kv_bool(&j, "breached", s.breached);
		jw_kv_ms(&j, "breached_at_ms", s.breached_at_ms);
		jw_kv_int(&j, "reset_interval_ms", s.reset_interval_ms);
		jw_kv_int(&j, "reset_count", s.reset_count);
		jw_kv_ms(&j, "last_reset_at_ms", s.last_reset_at_ms);
		jw_kv_ms(&j, "next_reset_at_ms", s.next_reset_at_ms);
		jw_kv_int(&j, "blocked_executions", s.blocked_executions);
		jw_kv_ms(&j, "created_at_ms", s.created_at_ms);
		jw_doc_end(&j);
	}
	else
	{
		ffctl_kv("budget", "%s", s.budget_id);
		if (s.scope_type && *s.scope_type)
			ffctl_kv("scope", "%s:%s", s.scope_type, s.scope_id ? s.scope_id : "");
		ffctl_kv("enforcement", "%s, on hard limit %s, on soft limit %s", s.enforcement_mode,
				 s.on_hard_limit, s.on_soft_limit);
		for (size_t i = 0; i < s.n_dimensions; i++)
			ffctl_kv(s.dimensions[i].dimension, "%lld used, hard %lld, soft %lld",
					 (long long) s.dimensions[i].used, (long long) s.dimensions[i].hard_limit,
					 (long long) s.dimensions[i].soft_limit);
		ffctl_kv("breached", "%s", s.breached ? "yes" : "no");
		ffctl_kv("held back", "%lld executions", (long long) s.blocked_executions);
		ffctl_kv("breaches", "%lld hard, %lld soft%s%s", (long long) s.breach_count,
				 (long long) s.soft_breach_count, s.last_breach_dim ? ", last on " : "",
				 s.last_breach_dim ? s.last_breach_dim : "");
		ffctl_kv("resets", "%lld", (long long) s.reset_count);
		ffctl_kv_time("next reset", s.next_reset_at_ms);
	}
	ff_budget_status_clear(&s);
	return FFCTL_EXIT_OK;
}

static int
one_budget_id(int argc, char **argv, const char *cmd, verb_fn fn)
{
	ffctl_args	a = {0};

	if (!ffctl_parse(argc, argv, ffctl_no_options, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos != 1)
		return ffctl_usage_error(cmd, "expected: BUDGET_ID");
	budget_id_arg = a.pos[0];
	return connect_and(&a, fn);
}

static int
budget_status(int argc, char **argv)
{
	return one_budget_id(argc, argv, "budget status", do_budget_status);
}

static int
do_budget_show(const ffctl_args *a, ff_client *c)
{
	char	   *limits = NULL;
	char	   *usage = NULL;

	if (ff_client_read_budget_usage_and_limits(c, budget_id_arg, &limits, &usage) != FF_OK)
		return ffctl_fail(a, c, "budget show");
	if (a->json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_key(&j, "limits");
		jw_raw(&j, limits);
		jw_key(&j, "usage");
		jw_raw(&j, usage);
		jw_doc_end(&j);
	}
	else
	{
		ffctl_kv("limits", "%s", limits);
		ffctl_kv("usage", "%s", usage);
	}
	free(limits);
	free(usage);
	return FFCTL_EXIT_OK;
}

static int
budget_show(int argc, char **argv)
{
	return one_budget_id(argc, argv, "budget show", do_budget_show);
}

static int
do_budget_reset(const ffctl_args *a, ff_client *c)
{
	int64_t		next = 0;
	int32_t		unblocked = 0;

	if (ff_client_reset_budget(c, budget_id_arg, &next, &unblocked) != FF_OK)
		return ffctl_fail(a, c, "budget reset");
	if (a->json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_str(&j, "outcome", "reset");
		jw_kv_ms(&j, "next_reset_at_ms", next);
		jw_kv_int(&j, "unblocked", unblocked);
		jw_doc_end(&j);
	}
	else
		printf("reset (%d released)\n", unblocked);
	return FFCTL_EXIT_OK;
}

static int
budget_reset(int argc, char **argv)
{
	return one_budget_id(argc, argv, "budget reset", do_budget_reset);
}

static int
budget_limits(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_budget_limit *limits = NULL;
	size_t		n = 0;
	ff_client  *c;
	int			rc;
	bool		breached = false;
	int32_t		unblocked = 0;

	if (!ffctl_parse(argc, argv, ffctl_no_options, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos < 2)
		return ffctl_usage_error("budget limits", "expected: BUDGET_ID DIM=HARD[/SOFT]...");
	if (!parse_limits(&a, 1, false, &limits, &n, "budget limits"))
	{
		free_limits(limits, n);
		return FFCTL_EXIT_USAGE;
	}
	c = ffctl_connect(&a, &rc);
	if (c != NULL)
	{
		if (ff_client_update_budget_limits(c, a.pos[0], limits, n, &breached, &unblocked) != FF_OK)
			rc = ffctl_fail(&a, c, "budget limits");
		else if (a.json)
		{
			ffctl_json	j;

			jw_doc_begin(&j);
			jw_kv_bool(&j, "breached", breached);
			jw_kv_int(&j, "unblocked", unblocked);
			jw_doc_end(&j);
		}
		else
			printf("%s (%d released)\n", breached ? "breached" : "not breached", unblocked);
		ff_client_close(c);
	}
	free_limits(limits, n);
	return rc;
}

/* budget usage / report / spend: kind 0 admin, 1 handle, 2 spend */
static int
budget_report_kind(int argc, char **argv, int kind)
{
	static const ffctl_optspec key_spec[] = {{"dedup-key", true}, {NULL, false}};
	static const ffctl_optspec idem_spec[] = {{"idempotency-key", true}, {NULL, false}};
	static const char *const cmds[] = {"budget usage", "budget report", "budget spend"};
	ffctl_args	a = {0};
	ff_usage_delta *d = NULL;
	size_t		n = 0;
	int			first = kind == 0 ? 1 : 2;
	ff_handle	h = {0};
	ff_usage_result r = {0};
	ff_client  *c;
	int			rc;
	ff_status	s;

	if (!ffctl_parse(argc, argv, kind == 2 ? idem_spec : key_spec, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos <= first)
		return ffctl_usage_error(cmds[kind], kind == 0 ? "expected: BUDGET_ID DIM=DELTA..."
								 : kind == 1 ? "expected: HANDLE BUDGET_ID DIM=DELTA..."
								 : "expected: BUDGET_ID EXECUTION_ID DIM=DELTA...");
	if (kind == 1 && ff_handle_from_hex(a.pos[0], &h) != FF_OK)
		return ffctl_usage_error(cmds[kind], "HANDLE is not hex");
	if (!parse_deltas(&a, first, &d, &n, cmds[kind]))
	{
		free_deltas(d, n);
		ff_handle_clear(&h);
		return FFCTL_EXIT_USAGE;
	}
	c = ffctl_connect(&a, &rc);
	if (c != NULL)
	{
		if (kind == 0)
			s = ff_client_report_usage_admin(c, a.pos[0], d, n, ffctl_opt(&a, "dedup-key"), &r);
		else if (kind == 1)
			s = ff_client_report_usage(c, &h, a.pos[1], d, n, ffctl_opt(&a, "dedup-key"), &r);
		else
			s = ff_client_record_spend(c, a.pos[0], a.pos[1], d, n,
									   ffctl_opt(&a, "idempotency-key"), &r);
		if (s != FF_OK)
			rc = ffctl_fail(&a, c, cmds[kind]);
		else
			print_usage_result(&a, &r);
		ff_usage_result_clear(&r);
		ff_client_close(c);
	}
	free_deltas(d, n);
	ff_handle_clear(&h);
	return rc;
}

static int
budget_usage(int argc, char **argv)
{
	return budget_report_kind(argc, argv, 0);
}

static int
budget_report(int argc, char **argv)
{
	return budget_report_kind(argc, argv, 1);
}

static int
budget_spend(int argc, char **argv)
{
	return budget_report_kind(argc, argv, 2);
}

static int
budget_release(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	int			rc;
	int32_t		released = 0;
	int32_t		unblocked = 0;

	if (!ffctl_parse(argc, argv, ffctl_no_options, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos != 2)
		return ffctl_usage_error("budget release", "expected: BUDGET_ID EXECUTION_ID");
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (ff_client_release_budget(c, a.pos[0], a.pos[1], &released, &unblocked) != FF_OK)
		rc = ffctl_fail(&a, c, "budget release");
	else if (a.json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_int(&j, "released_dimensions", released);
		jw_kv_int(&j, "unblocked", unblocked);
		jw_doc_end(&j);
	}
	else
		printf("released %d dimensions (%d executions released)\n", released, unblocked);
	ff_client_close(c);
	return rc;
}

static int
budget_reconcile(int argc, char **argv)
{
	static const ffctl_reconciler r[] = {
		{"reset", "reset", ff_client_reconcile_budget_reset},
		{"counters", "counters", ff_client_reconcile_budget_counters},
		{"executions", "executions", ff_client_reconcile_budget_executions},
	};

	return run_reconcilers(argc, argv, "budget reconcile", r, FFCTL_LEN(r));
}

int
cmd_budget(int argc, char **argv)
{
	static const ffctl_verb verbs[] = {
		{"create", budget_create}, {"status", budget_status}, {"show", budget_show},
		{"reset", budget_reset}, {"limits", budget_limits}, {"usage", budget_usage},
		{"report", budget_report}, {"spend", budget_spend}, {"release", budget_release},
		{"reconcile", budget_reconcile},
	};

	return ffctl_dispatch(argc, argv, "budget", BUDGET_USAGE, verbs, FFCTL_LEN(verbs),
					"create, status, show, reset, limits, usage, report, spend, release, reconcile");
}

/* ------------------------------------------------------------------------
 * ffctl quota
 * ------------------------------------------------------------------------ */
static int
quota_create(int argc, char **argv)
{
	static const ffctl_optspec spec[] = {
		{"window-seconds", true}, {"max-requests", true}, {"max-concurrent", true},
		{"jitter-ms", true}, {NULL, false}
	};
	ffctl_args	a = {0};
	ff_quota_args qa = {0};
	ff_client  *c;
	int			rc;
	bool		has;
	bool		created = false;
	char	   *id = NULL;

	if (!ffctl_parse(argc, argv, spec, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos > 1 || !ffctl_opt_int64(&a, "window-seconds", &qa.window_seconds, &has) ||
		!ffctl_opt_int64(&a, "max-requests", &qa.max_requests_per_window, &has) ||
		!ffctl_opt_int64(&a, "max-concurrent", &qa.max_concurrent, &has) ||
		!ffctl_opt_int64(&a, "jitter-ms", &qa.jitter_ms, &has))
		return ffctl_usage_error("quota create", "expected: [QUOTA_ID] [options]");
	qa.quota_policy_id = a.npos == 1 ? a.pos[0] : NULL;
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (ff_client_create_quota_policy(c, &qa, &id, &created) != FF_OK)
		rc = ffctl_fail(&a, c, "quota create");
	else if (a.json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_str(&j, "outcome", created ? "created" : "already_satisfied");
		jw_kv_str(&j, "quota_policy_id", id);
		jw_doc_end(&j);
	}
	else
		printf("%s %s\n", created ? "created" : "already_satisfied", id);
	free(id);
	ff_client_close(c);
	return rc;
}

static int
quota_show(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	int			rc;
	ff_quota_limits l = {0};

	if (!ffctl_parse(argc, argv, ffctl_no_options, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos != 1)
		return ffctl_usage_error("quota show", "expected: QUOTA_ID");
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (ff_client_read_quota_policy_limits(c, a.pos[0], &l) != FF_OK)
		rc = ffctl_fail(&a, c, "quota show");
	else if (!l.found)
	{
		if (a.json)
			printf("null\n");
		else
			fprintf(stderr, "ffctl: quota show: no quota policy %s\n", a.pos[0]);
		rc = FFCTL_EXIT_NOT_FOUND;
	}
	else if (a.json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_int(&j, "max_requests_per_window", l.max_requests_per_window);
		jw_kv_int(&j, "requests_per_window_seconds", l.requests_per_window_seconds);
		jw_kv_int(&j, "active_concurrency_cap", l.active_concurrency_cap);
		jw_kv_int(&j, "jitter_ms", l.jitter_ms);
		jw_kv_int(&j, "active_concurrency", l.active_concurrency);
		jw_kv_bool(&j, "is_unlimited", l.is_unlimited);
		jw_doc_end(&j);
	}
	else
	{
		ffctl_kv("rate", "%lld per %lld s%s", (long long) l.max_requests_per_window,
				 (long long) l.requests_per_window_seconds,
				 l.max_requests_per_window ? "" : " (no rate limit)");
		ffctl_kv("concurrency", "%lld of %lld slots in use%s", (long long) l.active_concurrency,
				 (long long) l.active_concurrency_cap, l.active_concurrency_cap ? "" : " (no cap)");
		ffctl_kv("jitter", "%lld ms", (long long) l.jitter_ms);
	}
	ff_client_close(c);
	return rc;
}

static int
quota_check(int argc, char **argv)
{
	static const ffctl_optspec spec[] = {
		{"window-seconds", true}, {"rate", true}, {"cap", true}, {"jitter-ms", true},
		{"dimension", true}, {NULL, false}
	};
	ffctl_args	a = {0};
	ff_admission_limits l = {0};
	bool		hw,
				hr,
				hc,
				hj;
	ff_admission_result r = {0};
	ff_client  *c;
	int			rc;

	if (!ffctl_parse(argc, argv, spec, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos != 2 || !ffctl_opt_int64(&a, "window-seconds", &l.window_seconds, &hw) ||
		!ffctl_opt_int64(&a, "rate", &l.rate_limit, &hr) ||
		!ffctl_opt_int64(&a, "cap", &l.concurrency_cap, &hc) ||
		!ffctl_opt_int64(&a, "jitter-ms", &l.jitter_ms, &hj))
		return ffctl_usage_error("quota check", "expected: QUOTA_ID EXECUTION_ID [options]");
	if ((hw || hr || hc || hj) && !(hw && hr && hc))
		return ffctl_usage_error("quota check", "give all of --window-seconds, --rate and --cap, or none");
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (ff_client_check_admission(c, a.pos[0], a.pos[1], hw ? &l : NULL, ffctl_opt(&a, "dimension"),
								  &r) != FF_OK)
		rc = ffctl_fail(&a, c, "quota check");
	else if (a.json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_str(&j, "outcome", ff_admission_outcome_name(r.outcome));
		jw_key(&j, "retry_after_ms");
		if (r.retry_after_ms >= 0)
			jw_int(&j, r.retry_after_ms);
		else
			jw_null(&j);
		jw_doc_end(&j);
	}
	else if (r.retry_after_ms >= 0)
		printf("%s (retry after %lld ms)\n", ff_admission_outcome_name(r.outcome),
			   (long long) r.retry_after_ms);
	else
		printf("%s\n", ff_admission_outcome_name(r.outcome));
	ff_client_close(c);
	return rc;
}

static int
quota_release(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	int			rc;
	bool		freed = false;
	int32_t		unblocked = 0;

	if (!ffctl_parse(argc, argv, ffctl_no_options, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos != 2)
		return ffctl_usage_error("quota release", "expected: QUOTA_ID EXECUTION_ID");
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (ff_client_release_admission(c, a.pos[0], a.pos[1], &freed, &unblocked) != FF_OK)
		rc = ffctl_fail(&a, c, "quota release");
	else if (a.json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_str(&j, "outcome", "released");
		jw_kv_bool(&j, "slot_released", freed);
		jw_kv_int(&j, "unblocked", unblocked);
		jw_doc_end(&j);
	}
	else
		printf("released%s (%d executions released)\n", freed ? ", a slot freed" : "", unblocked);
	ff_client_close(c);
	return rc;
}

static int
quota_block(int argc, char **argv)
{
	static const ffctl_optspec spec[] = {{"detail", true}, {NULL, false}};
	ffctl_args	a = {0};
	ff_client  *c;
	int			rc;
	ff_admission_block b = {0};

	if (!ffctl_parse(argc, argv, spec, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos != 2)
		return ffctl_usage_error("quota block", "expected: EXECUTION_ID REASON");
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (ff_client_block_execution_for_admission(c, a.pos[0], a.pos[1], ffctl_opt(&a, "detail"), &b)
		!= FF_OK)
		rc = ffctl_fail(&a, c, "quota block");
	else if (a.json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_str(&j, "outcome", "blocked");
		jw_kv_str(&j, "eligibility_state", b.eligibility_state);
		jw_kv_str(&j, "blocking_reason", b.blocking_reason);
		jw_kv_str(&j, "public_state", b.public_state);
		jw_doc_end(&j);
	}
	else
		printf("%s (%s, %s)\n", b.public_state, b.eligibility_state, b.blocking_reason);
	ff_admission_block_clear(&b);
	ff_client_close(c);
	return rc;
}

static void
print_admission(const ffctl_args *a, ffctl_json *j, const void *ctx FFCTL_UNUSED, const void *item,
				size_t i FFCTL_UNUSED)
{
	const ff_admission_entry *e = item;
	char		buf[40] = "";

	if (a->json)
	{
		jw_kv_str(j, "kind", e->kind);
		jw_kv_str(j, "id", e->id);
		jw_kv_str(j, "status", e->status);
		jw_kv_ms(j, "retry_at_ms", e->retry_at_ms);
		jw_kv_ms(j, "since_ms", e->since_ms);
		return;
	}
	if (e->retry_at_ms > 0)
		ffctl_format_time(e->retry_at_ms, buf, sizeof(buf));
	printf("%s %s %s%s%s\n", e->kind, e->id, e->status, buf[0] ? " until " : "", buf);
}

static int
quota_admission(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	int			rc;
	ff_admission_list l = {0};

	if (!ffctl_parse(argc, argv, ffctl_no_options, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos != 1)
		return ffctl_usage_error("quota admission", "expected: EXECUTION_ID");
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (ff_client_read_admission(c, a.pos[0], &l) != FF_OK)
		rc = ffctl_fail(&a, c, "quota admission");
	else if (l.count == 0 && !a.json)
		printf("nothing holds it back\n");
	else
		FFCTL_PRINT_LIST(&a, NULL, &l, print_admission, NULL);
	ff_admission_list_clear(&l);
	ff_client_close(c);
	return rc;
}

static int
quota_reconcile(int argc, char **argv)
{
	static const ffctl_reconciler r[] = {
		{"counters", "counters", ff_client_reconcile_quota_counters},
		{"unblock", "unblock", ff_client_reconcile_quota_unblock},
		{"cleanup", "cleanup", ff_client_reconcile_admission_cleanup},
	};

	return run_reconcilers(argc, argv, "quota reconcile", r, FFCTL_LEN(r));
}

int
cmd_quota(int argc, char **argv)
{
	static const ffctl_verb verbs[] = {
		{"create", quota_create}, {"show", quota_show}, {"check", quota_check},
		{"release", quota_release}, {"block", quota_block}, {"admission", quota_admission},
		{"reconcile", quota_reconcile},
	};

	return ffctl_dispatch(argc, argv, "quota", QUOTA_USAGE, verbs, FFCTL_LEN(verbs),
					"create, show, check, release, block, admission, reconcile");
}

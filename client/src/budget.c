/*
 * budget.c - budgets, quotas and admission control (docs/budgets.md).
 *
 * Every function is one prepared statement and one round trip. Limits and
 * deltas travel as text[] and are cast (to bigint[], or to a jsonb object
 * built with jsonb_object_agg) by the statement, so dimension names never
 * need escaping here.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define T FFC_TEXTOID
#define B FFC_BYTEAOID
#define I4 FFC_INT4OID
#define I8 FFC_INT8OID
#define TA FFC_TEXTARRAYOID

/* ------------------------------------------------------------------------
 * statements
 * ------------------------------------------------------------------------ */
#define REPORT_COLS "outcome, dimension, current_usage, limit_value, first_outcome"
#define DELTAS_JSON(d, v) \
	"(SELECT coalesce(jsonb_object_agg(u.d, u.v::bigint), '{}') FROM unnest(" d "::text[], " v "::text[]) u(d, v))"

static const ffc_stmt st_create_budget = {
	"ff_c_create_budget",
	"SELECT outcome, budget_id, next_reset_at_ms FROM ff_create_budget($1, $2, $3::text[]::bigint[], "
	"$4::text[]::bigint[], coalesce($5, 0), coalesce($6, ''), coalesce($7, ''), coalesce($8, 'strict'), "
	"coalesce($9, 'block'), coalesce($10, 'notify'))",
	10, {T, TA, TA, TA, I8, T, T, T, T, T}, false
};

static const ffc_stmt st_update_limits = {
	"ff_c_update_budget_limits",
	"SELECT breached, unblocked FROM ff_update_budget_limits($1, $2, $3::text[]::bigint[], "
	"$4::text[]::bigint[])",
	4, {T, TA, TA, TA}, true
};

static const ffc_stmt st_reset_budget = {
	"ff_c_reset_budget",
	"SELECT outcome, next_reset_at_ms, unblocked FROM ff_reset_budget($1)",
	1, {T}, false
};

static const ffc_stmt st_budget_status = {
	"ff_c_budget_status",
	"SELECT s.budget_id, s.scope_type, s.scope_id, s.enforcement_mode, s.on_hard_limit, "
	"s.on_soft_limit, s.breach_count, s.soft_breach_count, s.last_breach_at_ms, s.last_breach_dim, "
	"s.breached, s.breached_at_ms, s.reset_interval_ms, s.reset_count, s.last_reset_at_ms, "
	"s.next_reset_at_ms, s.blocked_executions, s.created_at_ms, s.updated_at_ms, d.dim, "
	"coalesce((s.usage ->> d.dim)::bigint, 0), coalesce((s.hard_limits ->> d.dim)::bigint, 0), "
	"coalesce((s.soft_limits ->> d.dim)::bigint, 0) "
	"FROM ff_get_budget_status($1) s LEFT JOIN LATERAL ("
	"  SELECT k AS dim FROM (SELECT jsonb_object_keys(s.usage) UNION "
	"                        SELECT jsonb_object_keys(s.hard_limits)) u(k)) d ON true "
	"ORDER BY d.dim COLLATE \"C\"",
	1, {T}, true
};

static const ffc_stmt st_usage_and_limits = {
	"ff_c_budget_usage_and_limits",
	"SELECT limits, usage FROM ff_read_budget_usage_and_limits($1)",
	1, {T}, true
};

static const ffc_stmt st_report_usage = {
	"ff_c_report_usage",
	"SELECT " REPORT_COLS " FROM ff_report_usage($1, $2, " DELTAS_JSON("$3", "$4") ", $5)",
	5, {B, T, TA, TA, T}, false
};

static const ffc_stmt st_report_usage_admin = {
	"ff_c_report_usage_admin",
	"SELECT " REPORT_COLS " FROM ff_report_usage_admin($1, $2, $3::text[]::bigint[], $4)",
	4, {T, TA, TA, T}, false
};

static const ffc_stmt st_record_spend = {
	"ff_c_record_spend",
	"SELECT " REPORT_COLS " FROM ff_record_spend($1, $2, " DELTAS_JSON("$3", "$4") ", $5)",
	5, {T, T, TA, TA, T}, false
};

static const ffc_stmt st_release_budget = {
	"ff_c_release_budget",
	"SELECT released_dimensions, unblocked FROM ff_release_budget($1, $2)",
	2, {T, T}, true
};

static const ffc_stmt st_create_quota = {
	"ff_c_create_quota_policy",
	"SELECT outcome, quota_policy_id FROM ff_create_quota_policy($1, coalesce($2, 60), "
	"coalesce($3, 0), coalesce($4, 0), coalesce($5, 0))",
	5, {T, I8, I8, I8, I8}, false
};

static const ffc_stmt st_quota_limits = {
	"ff_c_quota_limits",
	"SELECT max_requests_per_window, requests_per_window_seconds, active_concurrency_cap, "
	"jitter_ms, active_concurrency, is_unlimited FROM ff_read_quota_policy_limits($1)",
	1, {T}, true
};

static const ffc_stmt st_check_admission = {
	"ff_c_check_admission",
	"SELECT outcome, retry_after_ms FROM ff_check_admission($1, $2, $3, $4, $5, $6, coalesce($7, ''))",
	7, {T, T, I8, I8, I8, I8, T}, false
};

static const ffc_stmt st_release_admission = {
	"ff_c_release_admission",
	"SELECT slot_released, unblocked FROM ff_release_admission($1, $2)",
	2, {T, T}, true
};

static const ffc_stmt st_block_for_admission = {
	"ff_c_block_for_admission",
	"SELECT eligibility_state, blocking_reason, public_state "
	"FROM ff_block_execution_for_admission($1, $2, $3)",
	3, {T, T, T}, true
};

static const ffc_stmt st_read_admission = {
	"ff_c_read_admission",
	"SELECT kind, id, status, retry_at_ms, since_ms FROM ff_read_admission($1)",
	1, {T}, true
};

#define RECONCILER(fn) \
	static const ffc_stmt st_##fn = {"ff_c_" #fn, "SELECT " #fn "($1)", 1, {I4}, false}
RECONCILER(ff_reconcile_budget_reset);
RECONCILER(ff_reconcile_budget_counters);
RECONCILER(ff_reconcile_budget_executions);
RECONCILER(ff_reconcile_quota_counters);
RECONCILER(ff_reconcile_quota_unblock);
RECONCILER(ff_reconcile_admission_cleanup);

/* ------------------------------------------------------------------------
 * helpers
 * ------------------------------------------------------------------------ */
static ff_status
usage(ff_client *c, const char *what)
{
	if (c == NULL)
		return FF_ERR_USAGE;
	return ffc_set_error(c, FF_ERR_USAGE, "%s", what);
}

/* Runs st (freeing p), checks the column count and, unless any_rows, that
 * there is exactly one row. */
static ff_status
run(ff_client *c, const ffc_stmt *st, ffc_params *p, int ncols, bool any_rows, PGresult **res)
{
	ff_status	s = ffc_exec(c, st, p, res);

	ffc_params_free(p);
	if (s != FF_OK)
		return s;
	s = ffc_expect_columns(c, *res, ncols);
	if (s == FF_OK && !any_rows && PQntuples(*res) != 1)
		s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: %d rows", PQntuples(*res));
	if (s != FF_OK)
	{
		PQclear(*res);
		*res = NULL;
	}
	return s;
}

/* int64 values as decimal strings, for a text[] parameter */
static char **
int64_strings(const int64_t *v, size_t n, size_t stride)
{
	char	  **out = ffc_calloc(n > 0 ? n : 1, sizeof(char *));

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
	{
		int64_t		x = *(const int64_t *) ((const char *) v + i * stride);

		out[i] = malloc(24);
		if (out[i] == NULL)
		{
			for (size_t j = 0; j < i; j++)
				free(out[j]);
			free(out);
			return NULL;
		}
		snprintf(out[i], 24, "%" PRId64, x);
	}
	return out;
}

static void
free_strings(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * param_pairs adds a text[] of names (at name_off in each item) and a
 * text[] of int64 values (at value_off), items stride bytes apart.
 */
static bool
param_pairs(ffc_params *p, const void *items, size_t n, size_t stride, size_t name_off,
			size_t value_off)
{
	const char **names = ffc_calloc(n > 0 ? n : 1, sizeof(char *));
	char	  **values;

	if (names == NULL)
		return false;
	for (size_t i = 0; i < n; i++)
		names[i] = *(const char *const *) ((const char *) items + i * stride + name_off);
	values = int64_strings(n ? (const int64_t *) ((const char *) items + value_off) : NULL, n, stride);
	if (values == NULL)
	{
		free(names);
		return false;
	}
	ffc_param_text_array(p, names, n);
	ffc_param_text_array(p, (const char *const *) values, n);
	free(names);
	free_strings(values, n);
	return true;
}

static ff_status
oom(ff_client *c, ffc_params *p)
{
	ffc_params_free(p);
	return ffc_set_error(c, FF_ERR_OUT_OF_MEMORY, "out of memory");
}

/* ------------------------------------------------------------------------
 * budgets
 * ------------------------------------------------------------------------ */
void
ff_budget_created_clear(ff_budget_created *r)
{
	if (r == NULL)
		return;
	free(r->budget_id);
	memset(r, 0, sizeof(*r));
}

/* adds dimensions, hard_limits, soft_limits as three text[] */
static bool
param_limits(ffc_params *p, const ff_budget_limit *limits, size_t n)
{
	const char **names = ffc_calloc(n > 0 ? n : 1, sizeof(char *));
	char	  **hard;
	char	  **soft;

	if (names == NULL)
		return false;
	for (size_t i = 0; i < n; i++)
		names[i] = limits[i].dimension;
	hard = int64_strings(n ? &limits[0].hard_limit : NULL, n, sizeof(ff_budget_limit));
	soft = int64_strings(n ? &limits[0].soft_limit : NULL, n, sizeof(ff_budget_limit));
	if (hard == NULL || soft == NULL)
	{
		free(names);
		free_strings(hard, n);
		free_strings(soft, n);
		return false;
	}
	ffc_param_text_array(p, names, n);
	ffc_param_text_array(p, (const char *const *) hard, n);
	ffc_param_text_array(p, (const char *const *) soft, n);
	free(names);
	free_strings(hard, n);
	free_strings(soft, n);
	return true;
}

ff_status
ff_client_create_budget(ff_client *c, const ff_budget_args *a, ff_budget_created *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	char	   *outcome = NULL;

	if (c == NULL || a == NULL || out == NULL || (a->n_limits > 0 && a->limits == NULL))
		return usage(c, "ff_client_create_budget: args and out are required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	ffc_param_text(&p, a->budget_id);
	if (!param_limits(&p, a->limits, a->n_limits))
		return oom(c, &p);
	ffc_param_int64_or_null(&p, a->reset_interval_ms, a->reset_interval_ms == 0);
	ffc_param_text(&p, a->scope_type);
	ffc_param_text(&p, a->scope_id);
	ffc_param_text(&p, a->enforcement_mode);
	ffc_param_text(&p, a->on_hard_limit);
	ffc_param_text(&p, a->on_soft_limit);
	s = run(c, &st_create_budget, &p, 3, false, &res);
	if (s != FF_OK)
		return s;
	s = ffc_get_text(c, res, 0, 0, &outcome);
	if (s == FF_OK)
		s = ffc_get_text(c, res, 0, 1, &out->budget_id);
	if (s == FF_OK)
		s = ffc_get_int64(c, res, 0, 2, &out->next_reset_at_ms);
	PQclear(res);
	if (s == FF_OK)
		out->created = outcome && strcmp(outcome, "created") == 0;
	free(outcome);
	if (s != FF_OK)
		ff_budget_created_clear(out);
	return s;
}

ff_status
ff_client_update_budget_limits(ff_client *c, const char *budget_id, const ff_budget_limit *limits,
							   size_t n_limits, bool *breached, int32_t *unblocked)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	bool		b = false;
	int32_t		u = 0;

	if (c == NULL || (n_limits > 0 && limits == NULL))
		return usage(c, "ff_client_update_budget_limits: limits are required");
	ffc_params_init(&p);
	ffc_param_text(&p, budget_id);
	if (!param_limits(&p, limits, n_limits))
		return oom(c, &p);
	s = run(c, &st_update_limits, &p, 2, false, &res);
	if (s != FF_OK)
		return s;
	s = ffc_get_bool(c, res, 0, 0, &b);
	if (s == FF_OK)
		s = ffc_get_int32(c, res, 0, 1, &u);
	PQclear(res);
	if (s == FF_OK && breached)
		*breached = b;
	if (s == FF_OK && unblocked)
		*unblocked = u;
	return s;
}

ff_status
ff_client_reset_budget(ff_client *c, const char *budget_id, int64_t *next_reset_at_ms,
					   int32_t *unblocked)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	int64_t		next = 0;
	int32_t		u = 0;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_text(&p, budget_id);
	s = run(c, &st_reset_budget, &p, 3, false, &res);
	if (s != FF_OK)
		return s;
	s = ffc_get_int64(c, res, 0, 1, &next);
	if (s == FF_OK)
		s = ffc_get_int32(c, res, 0, 2, &u);
	PQclear(res);
	if (s == FF_OK && next_reset_at_ms)
		*next_reset_at_ms = next;
	if (s == FF_OK && unblocked)
		*unblocked = u;
	return s;
}

void
ff_budget_status_clear(ff_budget_status *st)
{
	if (st == NULL)
		return;
	free(st->budget_id);
	free(st->scope_type);
	free(st->scope_id);
	free(st->enforcement_mode);
	free(st->on_hard_limit);
	free(st->on_soft_limit);
	free(st->last_breach_dim);
	for (size_t i = 0; i < st->n_dimensions; i++)
		free(st->dimensions[i].dimension);
	free(st->dimensions);
	memset(st, 0, sizeof(*st));
}

ff_status
ff_client_get_budget_status(ff_client *c, const char *budget_id, ff_budget_status *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	int			n;
	char	  **texts[6];
	int64_t    *ints[13];

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_get_budget_status: out is required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	ffc_param_text(&p, budget_id);
	s = run(c, &st_budget_status, &p, 23, true, &res);
	if (s != FF_OK)
		return s;
	n = PQntuples(res);
	if (n < 1)
	{
		PQclear(res);
		return ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: no row");
	}
	texts[0] = &out->budget_id;
	texts[1] = &out->scope_type;
	texts[2] = &out->scope_id;
	texts[3] = &out->enforcement_mode;
	texts[4] = &out->on_hard_limit;
	texts[5] = &out->on_soft_limit;
	for (int i = 0; i < 6 && s == FF_OK; i++)
		s = ffc_get_text(c, res, 0, i, texts[i]);
	ints[0] = &out->breach_count;
	ints[1] = &out->soft_breach_count;
	ints[2] = &out->last_breach_at_ms;
	if (s == FF_OK)
		for (int i = 0; i < 3 && s == FF_OK; i++)
			s = ffc_get_int64(c, res, 0, 6 + i, ints[i]);
	if (s == FF_OK)
		s = ffc_get_text(c, res, 0, 9, &out->last_breach_dim);
	if (s == FF_OK)
		s = ffc_get_bool(c, res, 0, 10, &out->breached);
	ints[3] = &out->breached_at_ms;
	ints[4] = &out->reset_interval_ms;
	ints[5] = &out->reset_count;
	ints[6] = &out->last_reset_at_ms;
	ints[7] = &out->next_reset_at_ms;
	ints[8] = &out->blocked_executions;
	ints[9] = &out->created_at_ms;
	ints[10] = &out->updated_at_ms;
	for (int i = 3; i < 11 && s == FF_OK; i++)
		s = ffc_get_int64(c, res, 0, 8 + i, ints[i]);
	/* one row per dimension; a single row with a NULL dimension when none */
	if (s == FF_OK && !ffc_isnull(res, 0, 19))
	{
		out->dimensions = ffc_calloc((size_t) n, sizeof(ff_budget_dimension));
		if (out->dimensions == NULL)
			s = ffc_set_error(c, FF_ERR_OUT_OF_MEMORY, "out of memory");
		for (int r = 0; r < n && s == FF_OK; r++)
		{
			ff_budget_dimension *d = &out->dimensions[r];

			out->n_dimensions++;
			s = ffc_get_text(c, res, r, 19, &d->dimension);
			if (s == FF_OK)
				s = ffc_get_int64(c, res, r, 20, &d->used);
			if (s == FF_OK)
				s = ffc_get_int64(c, res, r, 21, &d->hard_limit);
			if (s == FF_OK)
				s = ffc_get_int64(c, res, r, 22, &d->soft_limit);
		}
	}
	PQclear(res);
	if (s != FF_OK)
		ff_budget_status_clear(out);
	return s;
}

ff_status
ff_client_read_budget_usage_and_limits(ff_client *c, const char *budget_id, char **limits_json,
									   char **usage_json)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	char	   *l = NULL;
	char	   *u = NULL;

	if (c == NULL || limits_json == NULL || usage_json == NULL)
		return usage(c, "ff_client_read_budget_usage_and_limits: outputs are required");
	*limits_json = NULL;
	*usage_json = NULL;
	ffc_params_init(&p);
	ffc_param_text(&p, budget_id);
	s = run(c, &st_usage_and_limits, &p, 2, false, &res);
	if (s != FF_OK)
		return s;
	s = ffc_get_text(c, res, 0, 0, &l);
	if (s == FF_OK)
		s = ffc_get_text(c, res, 0, 1, &u);
	PQclear(res);
	if (s != FF_OK)
	{
		free(l);
		free(u);
		return s;
	}
	*limits_json = l;
	*usage_json = u;
	return FF_OK;
}

/* ------------------------------------------------------------------------
 * usage reports
 * ------------------------------------------------------------------------ */
static const char *const usage_outcome_names[] = {"ok", "soft_breach", "hard_breach", "already_applied"};

const char *
ff_usage_outcome_name(ff_usage_outcome o)
{
	if ((int) o < 0 || (size_t) o >= sizeof(usage_outcome_names) / sizeof(usage_outcome_names[0]))
		return "unknown";
	return usage_outcome_names[o];
}

static bool
usage_outcome_of(const char *s, ff_usage_outcome *out)
{
	for (size_t i = 0; i < sizeof(usage_outcome_names) / sizeof(usage_outcome_names[0]); i++)
		if (s && strcmp(s, usage_outcome_names[i]) == 0)
		{
			*out = (ff_usage_outcome) i;
			return true;
		}
	return false;
}

void
ff_usage_result_clear(ff_usage_result *r)
{
	if (r == NULL)
		return;
	free(r->dimension);
	memset(r, 0, sizeof(*r));
}

static ff_status
report(ff_client *c, const ffc_stmt *st, ffc_params *p, ff_usage_result *out)
{
	PGresult   *res;
	ff_status	s;
	char	   *outcome = NULL;
	char	   *first = NULL;

	s = run(c, st, p, 5, false, &res);
	if (s != FF_OK)
		return s;
	s = ffc_get_text(c, res, 0, 0, &outcome);
	if (s == FF_OK)
		s = ffc_get_text(c, res, 0, 1, &out->dimension);
	if (s == FF_OK)
		s = ffc_get_int64(c, res, 0, 2, &out->current_usage);
	if (s == FF_OK)
		s = ffc_get_int64(c, res, 0, 3, &out->limit);
	if (s == FF_OK)
		s = ffc_get_text(c, res, 0, 4, &first);
	PQclear(res);
	if (s == FF_OK && !usage_outcome_of(outcome, &out->outcome))
		s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: usage outcome \"%s\"",
						  outcome ? outcome : "(null)");
	if (s == FF_OK)
		out->first_outcome = out->outcome;
	if (s == FF_OK && first && !usage_outcome_of(first, &out->first_outcome))
		s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: first outcome \"%s\"", first);
	free(outcome);
	free(first);
	if (s != FF_OK)
		ff_usage_result_clear(out);
	return s;
}

#define DELTA_PAIRS(p, d, n) \
	param_pairs(p, d, n, sizeof(ff_usage_delta), offsetof(ff_usage_delta, dimension), \
				offsetof(ff_usage_delta, delta))

ff_status
ff_client_report_usage(ff_client *c, const ff_handle *h, const char *budget_id,
					   const ff_usage_delta *deltas, size_t n_deltas, const char *dedup_key,
					   ff_usage_result *out)
{
	ffc_params	p;

	if (c == NULL || h == NULL || out == NULL || (n_deltas > 0 && deltas == NULL))
		return usage(c, "ff_client_report_usage: handle, deltas and out are required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	ffc_param_bytes(&p, h->data, h->len, h->data == NULL);
	ffc_param_text(&p, budget_id);
	if (!DELTA_PAIRS(&p, deltas, n_deltas))
		return oom(c, &p);
	ffc_param_text(&p, dedup_key);
	return report(c, &st_report_usage, &p, out);
}

ff_status
ff_client_report_usage_admin(ff_client *c, const char *budget_id, const ff_usage_delta *deltas,
							 size_t n_deltas, const char *dedup_key, ff_usage_result *out)
{
	ffc_params	p;

	if (c == NULL || out == NULL || (n_deltas > 0 && deltas == NULL))
		return usage(c, "ff_client_report_usage_admin: deltas and out are required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	ffc_param_text(&p, budget_id);
	if (!DELTA_PAIRS(&p, deltas, n_deltas))
		return oom(c, &p);
	ffc_param_text(&p, dedup_key);
	return report(c, &st_report_usage_admin, &p, out);
}

ff_status
ff_client_record_spend(ff_client *c, const char *budget_id, const char *execution_id,
					   const ff_usage_delta *deltas, size_t n_deltas, const char *idempotency_key,
					   ff_usage_result *out)
{
	ffc_params	p;

	if (c == NULL || out == NULL || (n_deltas > 0 && deltas == NULL))
		return usage(c, "ff_client_record_spend: deltas and out are required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	ffc_param_text(&p, budget_id);
	ffc_param_text(&p, execution_id);
	if (!DELTA_PAIRS(&p, deltas, n_deltas))
		return oom(c, &p);
	ffc_param_text(&p, idempotency_key);
	return report(c, &st_record_spend, &p, out);
}

/* two int32 (or bool, int32) outputs of a one-row statement */
static ff_status
two_outputs(ff_client *c, const ffc_stmt *st, ffc_params *p, bool first_bool, void *o1, int32_t *o2)
{
	PGresult   *res;
	ff_status	s;
	int32_t		a = 0;
	bool		ab = false;
	int32_t		b = 0;

	s = run(c, st, p, 2, false, &res);
	if (s != FF_OK)
		return s;
	s = first_bool ? ffc_get_bool(c, res, 0, 0, &ab) : ffc_get_int32(c, res, 0, 0, &a);
	if (s == FF_OK)
		s = ffc_get_int32(c, res, 0, 1, &b);
	PQclear(res);
	if (s == FF_OK && o1)
	{
		if (first_bool)
			*(bool *) o1 = ab;
		else
			*(int32_t *) o1 = a;
	}
	if (s == FF_OK && o2)
		*o2 = b;
	return s;
}

ff_status
ff_client_release_budget(ff_client *c, const char *budget_id, const char *execution_id,
						 int32_t *released_dimensions, int32_t *unblocked)
{
	ffc_params	p;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_text(&p, budget_id);
	ffc_param_text(&p, execution_id);
	return two_outputs(c, &st_release_budget, &p, false, released_dimensions, unblocked);
}

/* ------------------------------------------------------------------------
 * quotas and admission
 * ------------------------------------------------------------------------ */
ff_status
ff_client_create_quota_policy(ff_client *c, const ff_quota_args *a, char **quota_policy_id_out,
							  bool *created)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	char	   *outcome = NULL;
	char	   *id = NULL;

	if (c == NULL || a == NULL)
		return usage(c, "ff_client_create_quota_policy: args are required");
	if (quota_policy_id_out)
		*quota_policy_id_out = NULL;
	ffc_params_init(&p);
	ffc_param_text(&p, a->quota_policy_id);
	ffc_param_int64_or_null(&p, a->window_seconds, a->window_seconds == 0);
	ffc_param_int64(&p, a->max_requests_per_window);
	ffc_param_int64(&p, a->max_concurrent);
	ffc_param_int64(&p, a->jitter_ms);
	s = run(c, &st_create_quota, &p, 2, false, &res);
	if (s != FF_OK)
		return s;
	s = ffc_get_text(c, res, 0, 0, &outcome);
	if (s == FF_OK)
		s = ffc_get_text(c, res, 0, 1, &id);
	PQclear(res);
	if (s == FF_OK && created)
		*created = outcome && strcmp(outcome, "created") == 0;
	if (s == FF_OK && quota_policy_id_out)
		*quota_policy_id_out = id;
	else
		free(id);
	free(outcome);
	return s;
}

ff_status
ff_client_read_quota_policy_limits(ff_client *c, const char *quota_policy_id, ff_quota_limits *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	int64_t    *v[5];

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_read_quota_policy_limits: out is required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	ffc_param_text(&p, quota_policy_id);
	s = run(c, &st_quota_limits, &p, 6, true, &res);
	if (s != FF_OK)
		return s;
	if (PQntuples(res) > 1)
		s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: %d rows", PQntuples(res));
	else if (PQntuples(res) == 1)
	{
		v[0] = &out->max_requests_per_window;
		v[1] = &out->requests_per_window_seconds;
		v[2] = &out->active_concurrency_cap;
		v[3] = &out->jitter_ms;
		v[4] = &out->active_concurrency;
		for (int i = 0; i < 5 && s == FF_OK; i++)
			s = ffc_get_int64(c, res, 0, i, v[i]);
		if (s == FF_OK)
			s = ffc_get_bool(c, res, 0, 5, &out->is_unlimited);
		out->found = s == FF_OK;
	}
	PQclear(res);
	if (s != FF_OK)
		memset(out, 0, sizeof(*out));
	return s;
}

static const char *const admission_outcome_names[] = {
	"admitted", "already_admitted", "rate_exceeded", "concurrency_exceeded"
};

const char *
ff_admission_outcome_name(ff_admission_outcome o)
{
	if ((int) o < 0 ||
		(size_t) o >= sizeof(admission_outcome_names) / sizeof(admission_outcome_names[0]))
		return "unknown";
	return admission_outcome_names[o];
}

ff_status
ff_client_check_admission(ff_client *c, const char *quota_policy_id, const char *execution_id,
						  const ff_admission_limits *limits, const char *dimension,
						  ff_admission_result *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	char	   *outcome = NULL;
	bool		known = false;

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_check_admission: out is required");
	memset(out, 0, sizeof(*out));
	out->retry_after_ms = -1;
	ffc_params_init(&p);
	ffc_param_text(&p, quota_policy_id);
	ffc_param_text(&p, execution_id);
	ffc_param_int64_or_null(&p, limits ? limits->window_seconds : 0, limits == NULL);
	ffc_param_int64_or_null(&p, limits ? limits->rate_limit : 0, limits == NULL);
	ffc_param_int64_or_null(&p, limits ? limits->concurrency_cap : 0, limits == NULL);
	ffc_param_int64_or_null(&p, limits ? limits->jitter_ms : 0, limits == NULL);
	ffc_param_text(&p, dimension);
	s = run(c, &st_check_admission, &p, 2, false, &res);
	if (s != FF_OK)
		return s;
	s = ffc_get_text(c, res, 0, 0, &outcome);
	if (s == FF_OK && !ffc_isnull(res, 0, 1))
		s = ffc_get_int64(c, res, 0, 1, &out->retry_after_ms);
	PQclear(res);
	for (size_t i = 0; s == FF_OK && i < sizeof(admission_outcome_names) / sizeof(admission_outcome_names[0]); i++)
		if (outcome && strcmp(outcome, admission_outcome_names[i]) == 0)
		{
			out->outcome = (ff_admission_outcome) i;
			known = true;
		}
	if (s == FF_OK && !known)
		s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: admission outcome \"%s\"",
						  outcome ? outcome : "(null)");
	free(outcome);
	if (s != FF_OK)
	{
		memset(out, 0, sizeof(*out));
		out->retry_after_ms = -1;
	}
	return s;
}

ff_status
ff_client_release_admission(ff_client *c, const char *quota_policy_id, const char *execution_id,
							bool *slot_released, int32_t *unblocked)
{
	ffc_params	p;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_text(&p, quota_policy_id);
	ffc_param_text(&p, execution_id);
	return two_outputs(c, &st_release_admission, &p, true, slot_released, unblocked);
}

void
ff_admission_block_clear(ff_admission_block *b)
{
	if (b == NULL)
		return;
	free(b->eligibility_state);
	free(b->blocking_reason);
	free(b->public_state);
	memset(b, 0, sizeof(*b));
}

ff_status
ff_client_block_execution_for_admission(ff_client *c, const char *execution_id, const char *reason,
										const char *detail, ff_admission_block *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_block_execution_for_admission: out is required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	ffc_param_text(&p, reason);
	ffc_param_text(&p, detail);
	s = run(c, &st_block_for_admission, &p, 3, false, &res);
	if (s != FF_OK)
		return s;
	s = ffc_get_text(c, res, 0, 0, &out->eligibility_state);
	if (s == FF_OK)
		s = ffc_get_text(c, res, 0, 1, &out->blocking_reason);
	if (s == FF_OK)
		s = ffc_get_text(c, res, 0, 2, &out->public_state);
	PQclear(res);
	if (s != FF_OK)
		ff_admission_block_clear(out);
	return s;
}

void
ff_admission_list_clear(ff_admission_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->count; i++)
	{
		free(l->items[i].kind);
		free(l->items[i].id);
		free(l->items[i].status);
	}
	free(l->items);
	memset(l, 0, sizeof(*l));
}

ff_status
ff_client_read_admission(ff_client *c, const char *execution_id, ff_admission_list *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	int			n;

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_read_admission: out is required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	s = run(c, &st_read_admission, &p, 5, true, &res);
	if (s != FF_OK)
		return s;
	n = PQntuples(res);
	if (n > 0 && (out->items = ffc_calloc((size_t) n, sizeof(ff_admission_entry))) == NULL)
		s = ffc_set_error(c, FF_ERR_OUT_OF_MEMORY, "out of memory");
	for (int r = 0; r < n && s == FF_OK; r++)
	{
		ff_admission_entry *e = &out->items[r];

		out->count++;
		s = ffc_get_text(c, res, r, 0, &e->kind);
		if (s == FF_OK)
			s = ffc_get_text(c, res, r, 1, &e->id);
		if (s == FF_OK)
			s = ffc_get_text(c, res, r, 2, &e->status);
		if (s == FF_OK)
			s = ffc_get_int64(c, res, r, 3, &e->retry_at_ms);
		if (s == FF_OK)
			s = ffc_get_int64(c, res, r, 4, &e->since_ms);
	}
	PQclear(res);
	if (s != FF_OK)
		ff_admission_list_clear(out);
	return s;
}

/* ------------------------------------------------------------------------
 * reconcilers
 * ------------------------------------------------------------------------ */
static ff_status
reconcile(ff_client *c, const ffc_stmt *st, int32_t batch_size, int32_t *changed)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	int32_t		n = 0;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_int32_or_null(&p, batch_size, batch_size == 0);
	s = run(c, st, &p, 1, false, &res);
	if (s != FF_OK)
		return s;
	s = ffc_get_int32(c, res, 0, 0, &n);
	PQclear(res);
	if (s == FF_OK && changed)
		*changed = n;
	return s;
}

#define RECONCILE_FN(name) \
	ff_status \
	ff_client_##name(ff_client *c, int32_t batch_size, int32_t *changed) \
	{ \
		return reconcile(c, &st_ff_##name, batch_size, changed); \
	}
RECONCILE_FN(reconcile_budget_reset)
RECONCILE_FN(reconcile_budget_counters)
RECONCILE_FN(reconcile_budget_executions)
RECONCILE_FN(reconcile_quota_counters)
RECONCILE_FN(reconcile_quota_unblock)
RECONCILE_FN(reconcile_admission_cleanup)

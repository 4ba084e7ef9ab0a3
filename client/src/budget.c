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

/* a text[] of the strings at name_off in n items stride bytes apart */
static bool
param_names(ffc_params *p, const void *items, size_t n, size_t stride, size_t name_off)
{
	const char **names = ffc_calloc(n > 0 ? n : 1, sizeof(char *));

	if (names == NULL)
		return false;
	for (size_t i = 0; i < n; i++)
		names[i] = *(const char *const *) ((const char *) items + i * stride + name_off);
	ffc_param_text_array(p, names, n);
	free(names);
	return true;
}

/* a text[] of the int64 values at value_off, as decimal strings */
static bool
param_int64s(ffc_params *p, const void *items, size_t n, size_t stride, size_t value_off)
{
	char	  **values = ffc_calloc(n > 0 ? n : 1, sizeof(char *));
	bool		ok = values != NULL;

	for (size_t i = 0; ok && i < n; i++)
	{
		int64_t		x = *(const int64_t *) ((const char *) items + i * stride + value_off);

		values[i] = malloc(24);
		ok = values[i] != NULL;
		if (ok)
			snprintf(values[i], 24, "%" PRId64, x);
	}
	if (ok)
		ffc_param_text_array(p, (const char *const *) values, n);
	ffc_free_texts(values, n);
	return ok;
}

static ff_status
oom(ff_client *c, ffc_params *p)
{
	ffc_params_free(p);
	return ffc_oom(c);
}

/* a flag or a count, and a count: the reply of several calls */
typedef struct two_values
{
	bool		flag;
	int32_t		first;
	int32_t		second;
} two_values;

static const ffc_field flag_count_fields[] = {
	FFC_FLD(BOOL, two_values, flag),
	FFC_FLD(I32, two_values, second),
};

static const ffc_field count_count_fields[] = {
	FFC_FLD(I32, two_values, first),
	FFC_FLD(I32, two_values, second),
};

/* runs st (freeing p) into the outputs that are not NULL */
static ff_status
two_outputs(ff_client *c, const ffc_stmt *st, ffc_params *p, const ffc_field *f, bool *flag,
			int32_t *first, int32_t *second)
{
	two_values	r;
	ff_status	s = ffc_run_row(c, st, p, f, 2, &r, sizeof(r), NULL);

	if (s == FF_OK && flag)
		*flag = r.flag;
	if (s == FF_OK && first)
		*first = r.first;
	if (s == FF_OK && second)
		*second = r.second;
	return s;
}

/* ------------------------------------------------------------------------
 * budgets
 * ------------------------------------------------------------------------ */
static const char *const created_names[] = {NULL, "created"};

static const ffc_field budget_created_fields[] = {
	FFC_FLD_FLAG(ff_budget_created, created, created_names),
	FFC_FLD(TEXT, ff_budget_created, budget_id),
	FFC_FLD(I64, ff_budget_created, next_reset_at_ms),
};

void
ff_budget_created_clear(ff_budget_created *r)
{
	FFC_CLEAR_RECORD(r, budget_created_fields);
}

/* adds dimensions, hard_limits, soft_limits as three text[] */
static bool
param_limits(ffc_params *p, const ff_budget_limit *limits, size_t n)
{
	size_t		size = sizeof(ff_budget_limit);

	return param_names(p, limits, n, size, offsetof(ff_budget_limit, dimension)) &&
		param_int64s(p, limits, n, size, offsetof(ff_budget_limit, hard_limit)) &&
		param_int64s(p, limits, n, size, offsetof(ff_budget_limit, soft_limit));
}

ff_status
ff_client_create_budget(ff_client *c, const ff_budget_args *a, ff_budget_created *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, a != NULL && out != NULL && (a->n_limits == 0 || a->limits != NULL),
				"args and out are required");
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
	return FFC_RUN_ROW(c, &st_create_budget, &p, budget_created_fields, out, NULL);
}

ff_status
ff_client_update_budget_limits(ff_client *c, const char *budget_id, const ff_budget_limit *limits,
							   size_t n_limits, bool *breached, int32_t *unblocked)
{
	ffc_params	p;

	FFC_REQUIRE(c, n_limits == 0 || limits != NULL, "limits are required");
	ffc_params_init(&p);
	ffc_param_text(&p, budget_id);
	if (!param_limits(&p, limits, n_limits))
		return oom(c, &p);
	return two_outputs(c, &st_update_limits, &p, flag_count_fields, breached, NULL, unblocked);
}

typedef struct reset_reply
{
	int64_t		next_reset_at_ms;
	int32_t		unblocked;
} reset_reply;

static const ffc_field reset_fields[] = {
	FFC_FLD_SKIP,				/* outcome */
	FFC_FLD(I64, reset_reply, next_reset_at_ms),
	FFC_FLD(I32, reset_reply, unblocked),
};

ff_status
ff_client_reset_budget(ff_client *c, const char *budget_id, int64_t *next_reset_at_ms,
					   int32_t *unblocked)
{
	ffc_params	p;
	reset_reply r;
	ff_status	s;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_text(&p, budget_id);
	s = FFC_RUN_ROW(c, &st_reset_budget, &p, reset_fields, &r, NULL);
	if (s == FF_OK && next_reset_at_ms)
		*next_reset_at_ms = r.next_reset_at_ms;
	if (s == FF_OK && unblocked)
		*unblocked = r.unblocked;
	return s;
}

/* st_budget_status: the status's columns, then one dimension */
static const ffc_field status_fields[] = {
	FFC_FLD(TEXT, ff_budget_status, budget_id),
	FFC_FLD(TEXT, ff_budget_status, scope_type),
	FFC_FLD(TEXT, ff_budget_status, scope_id),
	FFC_FLD(TEXT, ff_budget_status, enforcement_mode),
	FFC_FLD(TEXT, ff_budget_status, on_hard_limit),
	FFC_FLD(TEXT, ff_budget_status, on_soft_limit),
	FFC_FLD(I64, ff_budget_status, breach_count),
	FFC_FLD(I64, ff_budget_status, soft_breach_count),
	FFC_FLD(I64, ff_budget_status, last_breach_at_ms),
	FFC_FLD(TEXT, ff_budget_status, last_breach_dim),
	FFC_FLD(BOOL, ff_budget_status, breached),
	FFC_FLD(I64, ff_budget_status, breached_at_ms),
	FFC_FLD(I64, ff_budget_status, reset_interval_ms),
	FFC_FLD(I64, ff_budget_status, reset_count),
	FFC_FLD(I64, ff_budget_status, last_reset_at_ms),
	FFC_FLD(I64, ff_budget_status, next_reset_at_ms),
	FFC_FLD(I64, ff_budget_status, blocked_executions),
	FFC_FLD(I64, ff_budget_status, created_at_ms),
	FFC_FLD(I64, ff_budget_status, updated_at_ms),
};

static const ffc_field dimension_fields[] = {
	FFC_FLD(TEXT, ff_budget_dimension, dimension),
	FFC_FLD(I64, ff_budget_dimension, used),
	FFC_FLD(I64, ff_budget_dimension, hard_limit),
	FFC_FLD(I64, ff_budget_dimension, soft_limit),
};

void
ff_budget_status_clear(ff_budget_status *st)
{
	if (st == NULL)
		return;
	ffc_free_list(dimension_fields, FFC_NF(dimension_fields), sizeof(ff_budget_dimension),
				  st->dimensions, st->n_dimensions);
	FFC_CLEAR_RECORD(st, status_fields);
}

ff_status
ff_client_get_budget_status(ff_client *c, const char *budget_id, ff_budget_status *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;

	FFC_REQUIRE(c, out != NULL, "out is required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	ffc_param_text(&p, budget_id);
	s = ffc_run(c, &st_budget_status, &p, FFC_NF(status_fields) + FFC_NF(dimension_fields), &res);
	if (s != FF_OK)
		return s;
	/* one row per dimension; a single row with a NULL dimension when none */
	s = ffc_decode_nested(c, res, status_fields, FFC_NF(status_fields), out, dimension_fields,
						  FFC_NF(dimension_fields), sizeof(ff_budget_dimension),
						  (void **) &out->dimensions, &out->n_dimensions);
	PQclear(res);
	if (s != FF_OK)
		ff_budget_status_clear(out);
	return s;
}

typedef struct two_texts
{
	char	   *limits;
	char	   *usage;
} two_texts;

static const ffc_field two_texts_fields[] = {
	FFC_FLD(TEXT, two_texts, limits),
	FFC_FLD(TEXT, two_texts, usage),
};

ff_status
ff_client_read_budget_usage_and_limits(ff_client *c, const char *budget_id, char **limits_json,
									   char **usage_json)
{
	ffc_params	p;
	two_texts	r;
	ff_status	s;

	FFC_REQUIRE(c, limits_json != NULL && usage_json != NULL, "outputs are required");
	ffc_params_init(&p);
	ffc_param_text(&p, budget_id);
	s = FFC_RUN_ROW(c, &st_usage_and_limits, &p, two_texts_fields, &r, NULL);
	*limits_json = r.limits;
	*usage_json = r.usage;
	return s;
}

/* ------------------------------------------------------------------------
 * usage reports
 * ------------------------------------------------------------------------ */
static const char *const usage_outcome_names[] = {"ok", "soft_breach", "hard_breach", "already_applied"};

const char *
ff_usage_outcome_name(ff_usage_outcome o)
{
	const char *name = FFC_NAME_OF(usage_outcome_names, o);

	return name ? name : "unknown";
}

/* the reply of a usage report: first_outcome comes as the first call's
 * outcome name, NULL when it is this call's */
typedef struct usage_reply
{
	ff_usage_result r;
	char	   *first;
} usage_reply;

static const ffc_field usage_reply_fields[] = {
	FFC_FLD_ENUM_REQ(usage_reply, r.outcome, usage_outcome_names),
	FFC_FLD(TEXT, usage_reply, r.dimension),
	FFC_FLD(I64, usage_reply, r.current_usage),
	FFC_FLD(I64, usage_reply, r.limit),
	FFC_FLD(TEXT, usage_reply, first),
};

void
ff_usage_result_clear(ff_usage_result *r)
{
	if (r == NULL)
		return;
	free(r->dimension);
	memset(r, 0, sizeof(*r));
}

/* runs a usage report (freeing p) into *out */
static ff_status
report(ff_client *c, const ffc_stmt *st, ffc_params *p, ff_usage_result *out)
{
	usage_reply x;
	ff_status	s = FFC_RUN_ROW(c, st, p, usage_reply_fields, &x, NULL);
	int			first = x.first ? ffc_name_index(usage_outcome_names, FFC_LEN(usage_outcome_names),
												 x.first) : (int) x.r.outcome;

	if (s == FF_OK && first < 0)
		s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: first outcome \"%s\"", x.first);
	x.r.first_outcome = (ff_usage_outcome) first;
	free(x.first);
	if (s == FF_OK)
		*out = x.r;
	else
		ff_usage_result_clear(&x.r);
	return s;
}

#define DELTA_PAIRS(p, d, n) \
	(param_names(p, d, n, sizeof(ff_usage_delta), offsetof(ff_usage_delta, dimension)) && \
	 param_int64s(p, d, n, sizeof(ff_usage_delta), offsetof(ff_usage_delta, delta)))

ff_status
ff_client_report_usage(ff_client *c, const ff_handle *h, const char *budget_id,
					   const ff_usage_delta *deltas, size_t n_deltas, const char *dedup_key,
					   ff_usage_result *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, h != NULL && out != NULL && (n_deltas == 0 || deltas != NULL),
				"handle, deltas and out are required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	ffc_param_handle(&p, h);
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

	FFC_REQUIRE(c, out != NULL && (n_deltas == 0 || deltas != NULL), "deltas and out are required");
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

	FFC_REQUIRE(c, out != NULL && (n_deltas == 0 || deltas != NULL), "deltas and out are required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	ffc_param_text(&p, budget_id);
	ffc_param_text(&p, execution_id);
	if (!DELTA_PAIRS(&p, deltas, n_deltas))
		return oom(c, &p);
	ffc_param_text(&p, idempotency_key);
	return report(c, &st_record_spend, &p, out);
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
	return two_outputs(c, &st_release_budget, &p, count_count_fields, NULL, released_dimensions,
					   unblocked);
}

/* ------------------------------------------------------------------------
 * quotas and admission
 * ------------------------------------------------------------------------ */
typedef struct quota_created
{
	bool		created;
	char	   *id;
} quota_created;

static const ffc_field quota_created_fields[] = {
	FFC_FLD_FLAG(quota_created, created, created_names),
	FFC_FLD(TEXT, quota_created, id),
};

ff_status
ff_client_create_quota_policy(ff_client *c, const ff_quota_args *a, char **quota_policy_id_out,
							  bool *created)
{
	ffc_params	p;
	quota_created r;
	ff_status	s;

	FFC_REQUIRE(c, a != NULL, "args are required");
	if (quota_policy_id_out)
		*quota_policy_id_out = NULL;
	ffc_params_init(&p);
	ffc_param_text(&p, a->quota_policy_id);
	ffc_param_int64_or_null(&p, a->window_seconds, a->window_seconds == 0);
	ffc_param_int64(&p, a->max_requests_per_window);
	ffc_param_int64(&p, a->max_concurrent);
	ffc_param_int64(&p, a->jitter_ms);
	s = FFC_RUN_ROW(c, &st_create_quota, &p, quota_created_fields, &r, NULL);
	if (s == FF_OK && created)
		*created = r.created;
	if (s == FF_OK && quota_policy_id_out)
		*quota_policy_id_out = r.id;
	else
		free(r.id);
	return s;
}

static const ffc_field quota_limits_fields[] = {
	FFC_FLD(I64, ff_quota_limits, max_requests_per_window),
	FFC_FLD(I64, ff_quota_limits, requests_per_window_seconds),
	FFC_FLD(I64, ff_quota_limits, active_concurrency_cap),
	FFC_FLD(I64, ff_quota_limits, jitter_ms),
	FFC_FLD(I64, ff_quota_limits, active_concurrency),
	FFC_FLD(BOOL, ff_quota_limits, is_unlimited),
};

ff_status
ff_client_read_quota_policy_limits(ff_client *c, const char *quota_policy_id, ff_quota_limits *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, quota_policy_id);
	return FFC_RUN_ROW(c, &st_quota_limits, &p, quota_limits_fields, out, &out->found);
}

static const char *const admission_outcome_names[] = {
	"admitted", "already_admitted", "rate_exceeded", "concurrency_exceeded"
};

const char *
ff_admission_outcome_name(ff_admission_outcome o)
{
	const char *name = FFC_NAME_OF(admission_outcome_names, o);

	return name ? name : "unknown";
}

/* retry_after_ms is NULL unless the rate was exceeded (then -1 for the caller) */
typedef struct admission_reply
{
	ff_admission_result r;
	bool		has_retry;
} admission_reply;

static const ffc_field admission_reply_fields[] = {
	FFC_FLD_ENUM_REQ(admission_reply, r.outcome, admission_outcome_names),
	FFC_FLD2(I64_HAS, admission_reply, r.retry_after_ms, has_retry),
};

ff_status
ff_client_check_admission(ff_client *c, const char *quota_policy_id, const char *execution_id,
						  const ff_admission_limits *limits, const char *dimension,
						  ff_admission_result *out)
{
	ffc_params	p;
	admission_reply x;
	ff_status	s;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, quota_policy_id);
	ffc_param_text(&p, execution_id);
	ffc_param_int64_or_null(&p, limits ? limits->window_seconds : 0, limits == NULL);
	ffc_param_int64_or_null(&p, limits ? limits->rate_limit : 0, limits == NULL);
	ffc_param_int64_or_null(&p, limits ? limits->concurrency_cap : 0, limits == NULL);
	ffc_param_int64_or_null(&p, limits ? limits->jitter_ms : 0, limits == NULL);
	ffc_param_text(&p, dimension);
	s = FFC_RUN_ROW(c, &st_check_admission, &p, admission_reply_fields, &x, NULL);
	*out = x.r;
	if (!x.has_retry)
		out->retry_after_ms = -1;
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
	return two_outputs(c, &st_release_admission, &p, flag_count_fields, slot_released, NULL,
					   unblocked);
}

static const ffc_field admission_block_fields[] = {
	FFC_FLD(TEXT, ff_admission_block, eligibility_state),
	FFC_FLD(TEXT, ff_admission_block, blocking_reason),
	FFC_FLD(TEXT, ff_admission_block, public_state),
};

void
ff_admission_block_clear(ff_admission_block *b)
{
	FFC_CLEAR_RECORD(b, admission_block_fields);
}

ff_status
ff_client_block_execution_for_admission(ff_client *c, const char *execution_id, const char *reason,
										const char *detail, ff_admission_block *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	ffc_param_text(&p, reason);
	ffc_param_text(&p, detail);
	return FFC_RUN_ROW(c, &st_block_for_admission, &p, admission_block_fields, out, NULL);
}

static const ffc_field admission_entry_fields[] = {
	FFC_FLD(TEXT, ff_admission_entry, kind),
	FFC_FLD(TEXT, ff_admission_entry, id),
	FFC_FLD(TEXT, ff_admission_entry, status),
	FFC_FLD(I64, ff_admission_entry, retry_at_ms),
	FFC_FLD(I64, ff_admission_entry, since_ms),
};

void
ff_admission_list_clear(ff_admission_list *l)
{
	FFC_CLEAR_LIST(l, admission_entry_fields);
}

ff_status
ff_client_read_admission(ff_client *c, const char *execution_id, ff_admission_list *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	return FFC_RUN_LIST(c, &st_read_admission, &p, admission_entry_fields, out);
}

/* ------------------------------------------------------------------------
 * reconcilers
 * ------------------------------------------------------------------------ */
#define RECONCILE_FN(name) FFC_RECONCILE_CALL(name, &st_ff_##name)
RECONCILE_FN(reconcile_budget_reset)
RECONCILE_FN(reconcile_budget_counters)
RECONCILE_FN(reconcile_budget_executions)
RECONCILE_FN(reconcile_quota_counters)
RECONCILE_FN(reconcile_quota_unblock)
RECONCILE_FN(reconcile_admission_cleanup)

/*
 * policy.c
 *		The execution policy, upstream's ExecutionPolicy JSON:
 *
 *		{"retry_policy": {"max_retries": 3,
 *						  "backoff": {"type": "exponential", "initial_delay_ms": 1000,
 *									  "max_delay_ms": 60000, "multiplier": 2.0},
 *						  "retryable_categories": ["transient"]},
 *		 "timeout_policy": {"attempt_timeout_ms": 30000, "max_reclaim_count": 100},
 *		 "max_reclaim_count": 100, "max_replay_count": 10,
 *		 "dedup_window_ms": 86400000, "delay_until": 0,
 *		 "routing_requirements": {"required_capabilities": ["gpu"]}}
 *
 * Unknown keys are kept and ignored, so policies written for later versions
 * still load. Known keys of the wrong shape are rejected at create time.
 */
#include "postgres.h"

#include <math.h>

#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "flowfabric.h"
#include "budget.h"

#define DEFAULT_MAX_RETRIES			3
#define DEFAULT_DELAY_MS			1000
#define DEFAULT_MAX_DELAY_MS		60000
#define DEFAULT_MULTIPLIER			2.0
#define DEFAULT_MAX_RECLAIM_COUNT	100
#define DEFAULT_MAX_REPLAY_COUNT	10
#define MAX_SAFE_JSON_INTEGER		9007199254740991.0	/* 2^53 - 1 */

static void
policy_error(int code, const char *kind, const char *path, const char *problem)
{
	ereport(ERROR,
			(errcode(code),
			 errmsg("%s: policy field %s %s", kind, path, problem)));
}

static bool
get_key(JsonbContainer *obj, const char *key, JsonbValue *out)
{
	return getKeyJsonValueFromContainer(obj, key, strlen(key), out) != NULL &&
		out->type != jbvNull;
}

/* get_object returns the nested object under key, or NULL if absent. */
static JsonbContainer *
get_object(JsonbContainer *obj, const char *key, const char *path)
{
	JsonbValue	v;

	if (!get_key(obj, key, &v))
		return NULL;
	if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
		policy_error(ERRCODE_FF_INVALID_POLICY_JSON, "invalid_policy_json", path, "must be an object");
	return v.val.binary.data;
}

static double
get_number(JsonbContainer *obj, const char *key, const char *path, double dflt)
{
	JsonbValue	v;
	double		d;

	if (!get_key(obj, key, &v))
		return dflt;
	if (v.type != jbvNumeric)
		policy_error(ERRCODE_FF_INVALID_POLICY_JSON, "invalid_policy_json", path, "must be a number");
	/* 1e400 is valid JSON: out of double range is a bad policy, not a 22003 */
	d = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
										   NumericGetDatum(v.val.numeric)));
	if (isinf(d) || isnan(d))
		policy_error(ERRCODE_FF_INVALID_POLICY_JSON, "invalid_policy_json", path, "must be a finite number");
	return d;
}

/* get_count reads a non-negative whole number no larger than max. */
static int64
get_count(JsonbContainer *obj, const char *key, const char *path, int64 dflt, double max)
{
	JsonbValue	v;
	double		d;

	if (!get_key(obj, key, &v))
		return dflt;
	d = get_number(obj, key, path, 0);
	if (d < 0 || d != floor(d) || d > max)
		policy_error(ERRCODE_FF_INVALID_POLICY_JSON, "invalid_policy_json", path,
					 "must be a non-negative whole number");
	return (int64) d;
}

/* get_strings reads an array of strings into a List of C strings. */
static List *
get_strings(JsonbContainer *obj, const char *key, const char *path, int code, const char *kind)
{
	JsonbValue	v;
	List	   *result = NIL;
	int			n;

	if (!get_key(obj, key, &v))
		return NIL;
	if (v.type != jbvBinary || !JsonContainerIsArray(v.val.binary.data))
		policy_error(code, kind, path, "must be an array");
	n = JsonContainerSize(v.val.binary.data);
	for (int i = 0; i < n; i++)
	{
		JsonbValue *elem = getIthJsonbValueFromContainer(v.val.binary.data, i);

		if (elem->type != jbvString)
			policy_error(code, kind, path, "must contain only strings");
		result = lappend(result, pnstrdup(elem->val.string.val, elem->val.string.len));
	}
	return result;
}

static void
parse_backoff(JsonbContainer *backoff, FFPolicy *out)
{
	JsonbValue	type;
	char	   *name;

	if (!get_key(backoff, "type", &type) || type.type != jbvString)
		policy_error(ERRCODE_FF_INVALID_POLICY_JSON, "invalid_policy_json",
					 "retry_policy.backoff.type", "must be \"fixed\" or \"exponential\"");
	name = pnstrdup(type.val.string.val, type.val.string.len);
	if (strcmp(name, "fixed") == 0)
	{
		out->backoff_kind = FF_BACKOFF_FIXED;
		out->fixed_delay_ms = get_count(backoff, "delay_ms", "retry_policy.backoff.delay_ms",
										DEFAULT_DELAY_MS, MAX_SAFE_JSON_INTEGER);
	}
	else if (strcmp(name, "exponential") == 0)
	{
		out->backoff_kind = FF_BACKOFF_EXPONENTIAL;
		out->initial_delay_ms = get_count(backoff, "initial_delay_ms",
										  "retry_policy.backoff.initial_delay_ms",
										  DEFAULT_DELAY_MS, MAX_SAFE_JSON_INTEGER);
		out->max_delay_ms = get_count(backoff, "max_delay_ms", "retry_policy.backoff.max_delay_ms",
									  DEFAULT_MAX_DELAY_MS, MAX_SAFE_JSON_INTEGER);
		out->multiplier = get_number(backoff, "multiplier", "retry_policy.backoff.multiplier",
									 DEFAULT_MULTIPLIER);
		if (!(out->multiplier >= 1.0 && out->multiplier <= 1000.0))
			policy_error(ERRCODE_FF_INVALID_POLICY_JSON, "invalid_policy_json",
						 "retry_policy.backoff.multiplier", "must be between 1 and 1000");
	}
	else
		policy_error(ERRCODE_FF_INVALID_POLICY_JSON, "invalid_policy_json",
					 "retry_policy.backoff.type", "must be \"fixed\" or \"exponential\"");
}

/*
 * ff_policy_parse reads a policy (NULL = none) into *out with upstream's
 * defaults, raising invalid_policy_json / invalid_capabilities on bad shape.
 */
void
ff_policy_parse(Jsonb *policy, FFPolicy *out)
{
	JsonbContainer *root;
	JsonbContainer *retry;
	JsonbContainer *timeout;
	JsonbContainer *routing;

	memset(out, 0, sizeof(*out));
	out->backoff_kind = FF_BACKOFF_EXPONENTIAL;
	out->fixed_delay_ms = DEFAULT_DELAY_MS;
	out->initial_delay_ms = DEFAULT_DELAY_MS;
	out->max_delay_ms = DEFAULT_MAX_DELAY_MS;
	out->multiplier = DEFAULT_MULTIPLIER;
	out->max_reclaim_count = DEFAULT_MAX_RECLAIM_COUNT;
	out->max_replay_count = DEFAULT_MAX_REPLAY_COUNT;
	out->dedup_window_ms = FF_IDEMPOTENCY_TTL_MS;
	out->delay_until_ms = FF_NULL_MS;
	if (policy == NULL)
		return;

	root = &policy->root;
	if (!JsonContainerIsObject(root) || JsonContainerIsScalar(root))
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_POLICY_JSON),
				 errmsg("invalid_policy_json: policy must be a JSON object")));

	retry = get_object(root, "retry_policy", "retry_policy");
	if (retry)
	{
		JsonbContainer *backoff = get_object(retry, "backoff", "retry_policy.backoff");
		JsonbValue	categories;

		out->has_retry_policy = true;
		out->max_retries = (int32) get_count(retry, "max_retries", "retry_policy.max_retries",
											 DEFAULT_MAX_RETRIES, PG_INT32_MAX);
		if (backoff)
			parse_backoff(backoff, out);
		out->has_retryable_categories = get_key(retry, "retryable_categories", &categories);
		out->retryable_categories = get_strings(retry, "retryable_categories",
												"retry_policy.retryable_categories",
												ERRCODE_FF_INVALID_POLICY_JSON,
												"invalid_policy_json");
	}

	/* the top-level max_reclaim_count wins over the timeout policy's copy */
	timeout = get_object(root, "timeout_policy", "timeout_policy");
	if (timeout)
	{
		out->attempt_timeout_ms = get_count(timeout, "attempt_timeout_ms",
											"timeout_policy.attempt_timeout_ms", 0,
											(double) FF_MAX_LEASE_TTL_MS * 52);
		out->max_reclaim_count = (int32) get_count(timeout, "max_reclaim_count",
												   "timeout_policy.max_reclaim_count",
												   DEFAULT_MAX_RECLAIM_COUNT, PG_INT32_MAX);
	}
	out->max_reclaim_count = (int32) get_count(root, "max_reclaim_count", "max_reclaim_count",
											   out->max_reclaim_count, PG_INT32_MAX);
	out->max_replay_count = (int32) get_count(root, "max_replay_count", "max_replay_count",
											  DEFAULT_MAX_REPLAY_COUNT, PG_INT32_MAX);
	out->dedup_window_ms = get_count(root, "dedup_window_ms", "dedup_window_ms",
									 FF_IDEMPOTENCY_TTL_MS, MAX_SAFE_JSON_INTEGER);
	out->delay_until_ms = get_count(root, "delay_until", "delay_until", FF_NULL_MS,
									MAX_SAFE_JSON_INTEGER);

	routing = get_object(root, "routing_requirements", "routing_requirements");
	if (routing)
		out->required_capabilities = get_strings(routing, "required_capabilities",
												 "routing_requirements.required_capabilities",
												 ERRCODE_FF_INVALID_CAPABILITIES,
												 "invalid_capabilities");
	/* budget_ids and quota_policy_id (budget_admission.c) */
	ff_admission_policy_check(policy);
}

/*
 * ff_policy_backoff_ms is the wait before retry number retry_count + 1:
 * fixed delay_ms, or initial × multiplier^retry_count capped at max.
 */
int64
ff_policy_backoff_ms(const FFPolicy *policy, int32 retry_count)
{
	double		delay;

	if (policy->backoff_kind == FF_BACKOFF_FIXED)
		return policy->fixed_delay_ms;
	delay = (double) policy->initial_delay_ms * pow(policy->multiplier, retry_count);
	if (delay > (double) policy->max_delay_ms || isnan(delay))
		return policy->max_delay_ms;
	return (int64) delay;
}

/*
 * ff_policy_should_retry decides whether a failure of this category gets
 * another attempt. Without a retry policy nothing retries; permanent and
 * cancelled failures never retry unless the policy lists them explicitly.
 */
bool
ff_policy_should_retry(const FFPolicy *policy, const char *category, int32 retry_count)
{
	ListCell   *lc;

	if (!policy->has_retry_policy || retry_count >= policy->max_retries)
		return false;
	if (!policy->has_retryable_categories)
		return strcmp(category, "permanent") != 0 && strcmp(category, "cancelled") != 0;
	foreach(lc, policy->retryable_categories)
		if (strcmp((char *) lfirst(lc), category) == 0)
			return true;
	return false;
}

/* The attempt timeout a policy sets, NULL for none (ff_claim's set-based statement). */
PG_FUNCTION_INFO_V1(ff_policy_attempt_timeout_ms_sql);
Datum
ff_policy_attempt_timeout_ms_sql(PG_FUNCTION_ARGS)
{
	FFPolicy	policy;

	ff_policy_parse(PG_GETARG_JSONB_P(0), &policy);
	if (policy.attempt_timeout_ms <= 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(policy.attempt_timeout_ms);
}

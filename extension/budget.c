/*
 * budget.c
 *		Budgets: per-dimension usage against hard and soft limits, dedup
 *		keys, scheduled resets, the ledger of attributed usage, and the
 *		budget side of admission control (docs/budgets.md).
 *
 * A report (ff_report_usage, ff_report_usage_admin, ff_record_spend) locks
 * the budget's policy row, then the usage rows of its dimensions in byte
 * order. A delta that would take a dimension above its hard limit rejects
 * the whole report (hard_breach, nothing applied); otherwise every delta is
 * applied, added to the ledger (ff_budget_usage_by_exec, per reset epoch)
 * and the first dimension above its soft limit is reported (soft_breach).
 *
 * The budget is breached (breached_at_ms) from a rejected report or a
 * dimension reaching its hard limit until a reset, a raised limit or a
 * release leaves every dimension below its limit. A breached budget in
 * strict mode whose on_hard_limit is block, fail or cancel holds back the
 * executions attached to it (ff_claim blocks them, budget_admission.c);
 * fail / cancel also end the attached executions already started, in the
 * transaction that breaches the budget.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "budget.h"

/* One dimension's limits (0 = none). */
typedef struct DimLimit
{
	char	   *dim;
	int64		hard;
	int64		soft;
} DimLimit;

/* An ff_budget_policy row. */
typedef struct BudgetRow
{
	int16		pk;
	pg_uuid_t	id;
	int			nlimits;
	DimLimit   *limits;
	int64		reset_interval_ms;
	char	   *on_hard_limit;
	char	   *on_soft_limit;
	char	   *enforcement_mode;
	char	   *scope_type;
	char	   *scope_id;
	int64		breach_count;
	int64		soft_breach_count;
	int64		last_breach_at_ms;
	char	   *last_breach_dim;
	int64		breached_at_ms;
	int64		reset_count;
	int64		last_reset_at_ms;
	int64		next_reset_at_ms;
	int64		created_at_ms;
	int64		updated_at_ms;
} BudgetRow;

typedef enum BudgetLock
{
	BUDGET_READ,
	BUDGET_SHARE,
	BUDGET_UPDATE
} BudgetLock;

/* One dimension of a usage report. */
typedef struct UsageDelta
{
	char	   *dim;
	int64		delta;
} UsageDelta;

/* A report's typed result. */
typedef struct ReportResult
{
	const char *outcome;		/* ok | soft_breach | hard_breach | already_applied */
	char	   *dim;			/* NULL for ok */
	int64		current;
	int64		limit;
	const char *first;			/* already_applied: what the first call did */
} ReportResult;

static const Oid key_types[2] = {INT2OID, UUIDOID};
static const pg_uuid_t nil_uuid = {{0}};

int16
ff_budget_partition(const pg_uuid_t *id)
{
	return (int16) (ff_crc16(id->data, sizeof(id->data)) % FF_BUDGET_PARTITIONS);
}

PG_FUNCTION_INFO_V1(ff_budget_partition_sql);
Datum
ff_budget_partition_sql(PG_FUNCTION_ARGS)
{
	char	   *s = text_to_cstring(PG_GETARG_TEXT_PP(0));
	pg_uuid_t	id;

	if (!ff_parse_uuid(s, &id))
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: \"%s\" is not a UUID", s)));
	PG_RETURN_INT32(ff_budget_partition(&id));
}

/* ff_budget_id_arg reads a required UUID argument (budget or quota policy id). */
pg_uuid_t
ff_budget_id_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	char	   *s = ff_arg_cstring_required(fcinfo, argno, name);
	pg_uuid_t	id;

	if (!ff_parse_uuid(s, &id))
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: %s \"%s\" is not a UUID", name, s)));
	return id;
}

static void
budget_not_found(const pg_uuid_t *id)
{
	ereport(ERROR,
			(errcode(ERRCODE_FF_BUDGET_NOT_FOUND),
			 errmsg("budget_not_found: budget %s does not exist", ff_uuid_to_cstring(id)),
			 errhint("Create it with ff_create_budget.")));
}

/* check_dimension validates a dimension name. */
static void
check_dimension(const char *dim)
{
	size_t		len = strlen(dim);

	if (len == 0)
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "a dimension name must not be empty");
	if (len > FF_BUDGET_NAME_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: dimension name is longer than %d bytes", FF_BUDGET_NAME_MAX_BYTES)));
	for (size_t i = 0; i < len; i++)
		if ((unsigned char) dim[i] < 0x20 || dim[i] == 0x7f)
			ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input",
					 "dimension names must not contain control characters");
	if (strcmp(dim, "_init") == 0)
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "\"_init\" is a reserved dimension name");
}

/* Policy JSON */

static bool
numeric_to_int64(Numeric n, int64 *out)
{
	char	   *s = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(n)));
	char	   *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno == 0 && *end == '\0' && *out >= 0;
}

static DimLimit *
limit_of(BudgetRow *b, const char *dim, bool create)
{
	for (int i = 0; i < b->nlimits; i++)
		if (strcmp(b->limits[i].dim, dim) == 0)
			return &b->limits[i];
	if (!create)
		return NULL;
	if (b->nlimits == 0)
		b->limits = palloc0(sizeof(DimLimit) * (FF_BUDGET_MAX_DIMENSIONS + 1));
	if (b->nlimits >= FF_BUDGET_MAX_DIMENSIONS)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: a budget has at most %d dimensions", FF_BUDGET_MAX_DIMENSIONS)));
	b->limits[b->nlimits].dim = pstrdup(dim);
	return &b->limits[b->nlimits++];
}

/* read_limit_map reads policy_json's hard_limits / soft_limits (non-negative integers only). */
static void
read_limit_map(JsonbContainer *root, const char *key, BudgetRow *b, bool hard)
{
	JsonbValue	v;
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue	item;
	char	   *dim = NULL;

	if (getKeyJsonValueFromContainer(root, key, strlen(key), &v) == NULL ||
		v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
		return;
	it = JsonbIteratorInit(v.val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &item, true)) != WJB_DONE)
	{
		int64		n;

		if (tok == WJB_KEY)
			dim = pnstrdup(item.val.string.val, item.val.string.len);
		else if (tok == WJB_VALUE && dim && item.type == jbvNumeric &&
				 numeric_to_int64(item.val.numeric, &n))
		{
			DimLimit   *l = limit_of(b, dim, true);

			if (hard)
				l->hard = n;
			else
				l->soft = n;
		}
	}
}

static char *
json_text(JsonbContainer *root, const char *key, const char *dflt)
{
	JsonbValue	v;

	if (getKeyJsonValueFromContainer(root, key, strlen(key), &v) == NULL || v.type != jbvString)
		return pstrdup(dflt);
	return pnstrdup(v.val.string.val, v.val.string.len);
}

static void
parse_policy_json(Jsonb *policy, BudgetRow *b)
{
	JsonbContainer *root = &policy->root;
	JsonbValue	v;

	b->nlimits = 0;
	b->limits = NULL;
	read_limit_map(root, "hard_limits", b, true);
	read_limit_map(root, "soft_limits", b, false);
	b->reset_interval_ms = 0;
	if (getKeyJsonValueFromContainer(root, "reset_interval_ms", strlen("reset_interval_ms"), &v) != NULL &&
		v.type == jbvNumeric && !numeric_to_int64(v.val.numeric, &b->reset_interval_ms))
		b->reset_interval_ms = 0;
	b->on_hard_limit = json_text(root, "on_hard_limit", "block");
	b->on_soft_limit = json_text(root, "on_soft_limit", "notify");
}

static int
limit_cmp(const void *a, const void *b)
{
	return strcmp(((const DimLimit *) a)->dim, ((const DimLimit *) b)->dim);
}

/* policy_json_of renders the row's limits and actions as policy_json. */
static Datum
policy_json_of(BudgetRow *b)
{
	StringInfoData buf;

	if (b->nlimits > 0)
		qsort(b->limits, b->nlimits, sizeof(DimLimit), limit_cmp);
	initStringInfo(&buf);
	for (int pass = 0; pass < 2; pass++)
	{
		bool		first = true;

		appendStringInfoString(&buf, pass == 0 ? "{\"hard_limits\": {" : "}, \"soft_limits\": {");
		for (int i = 0; i < b->nlimits; i++)
		{
			int64		n = pass == 0 ? b->limits[i].hard : b->limits[i].soft;

			if (b->limits[i].hard == 0 && b->limits[i].soft == 0)
				continue;
			if (!first)
				appendStringInfoString(&buf, ", ");
			escape_json(&buf, b->limits[i].dim);
			appendStringInfo(&buf, ": %lld", (long long) n);
			first = false;
		}
	}
	appendStringInfo(&buf, "}, \"reset_interval_ms\": %lld, \"on_hard_limit\": ",
					 (long long) b->reset_interval_ms);
	escape_json(&buf, b->on_hard_limit);
	appendStringInfoString(&buf, ", \"on_soft_limit\": ");
	escape_json(&buf, b->on_soft_limit);
	appendStringInfoChar(&buf, '}');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

/* Rows */

#define BUDGET_COLUMNS \
	"policy_json, scope_type, scope_id, enforcement_mode, breach_count, soft_breach_count, " \
	"last_breach_at_ms, last_breach_dim, breached_at_ms, reset_count, last_reset_at_ms, " \
	"next_reset_at_ms, created_at_ms, updated_at_ms"

/* load_budget reads (and locks as asked) a budget; false if it does not exist. */
static bool
load_budget(int16 pk, const pg_uuid_t *id, BudgetLock lock, BudgetRow *b)
{
	static SPIPlanPtr plans[3] = {NULL, NULL, NULL};
	static const char *const suffix[3] = {"", " FOR SHARE", " FOR NO KEY UPDATE"};
	Datum		v[2];
	HeapTuple	t;
	TupleDesc	d;
	bool		isnull;

	ff_prepare(&plans[lock],
			   psprintf("SELECT " BUDGET_COLUMNS " FROM ff_budget_policy "
						"WHERE partition_key = $1 AND budget_id = $2%s", suffix[lock]),
			   2, key_types);
	v[0] = Int16GetDatum(pk);
	v[1] = ff_uuid_datum(id);
	ff_execute(plans[lock], v, NULL, false, 1);
	if (SPI_processed == 0)
		return false;
	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	memset(b, 0, sizeof(*b));
	b->pk = pk;
	b->id = *id;
	parse_policy_json(DatumGetJsonbP(SPI_getbinval(t, d, 1, &isnull)), b);
	b->scope_type = ff_get_cstring(t, d, 2);
	b->scope_id = ff_get_cstring(t, d, 3);
	b->enforcement_mode = ff_get_cstring(t, d, 4);
	b->breach_count = ff_get_int64(t, d, 5, 0);
	b->soft_breach_count = ff_get_int64(t, d, 6, 0);
	b->last_breach_at_ms = ff_get_int64(t, d, 7, FF_NULL_MS);
	b->last_breach_dim = ff_get_cstring(t, d, 8);
	b->breached_at_ms = ff_get_int64(t, d, 9, FF_NULL_MS);
	b->reset_count = ff_get_int64(t, d, 10, 0);
	b->last_reset_at_ms = ff_get_int64(t, d, 11, FF_NULL_MS);
	b->next_reset_at_ms = ff_get_int64(t, d, 12, FF_NULL_MS);
	b->created_at_ms = ff_get_int64(t, d, 13, 0);
	b->updated_at_ms = ff_get_int64(t, d, 14, 0);
	return true;
}

static bool
is_strict(const BudgetRow *b)
{
	return strcmp(b->enforcement_mode, "strict") == 0;
}

/* holds_back: the budget keeps attached work from being claimed while breached. */
static bool
holds_back(const BudgetRow *b)
{
	return is_strict(b) && strcmp(b->on_hard_limit, "notify") != 0;
}

/* acts: a breach ends the attached executions already started. */
static bool
acts(const BudgetRow *b)
{
	return is_strict(b) &&
		(strcmp(b->on_hard_limit, "fail") == 0 || strcmp(b->on_hard_limit, "cancel") == 0);
}

/*
 * next_reset_at: when a budget with this reset interval next resets, now +
 * interval saturating at the largest time (FF_NULL_MS: no scheduled reset).
 */
static int64
next_reset_at(int64 now, int64 interval)
{
	int64		at;

	if (interval <= 0)
		return FF_NULL_MS;
	if (pg_add_s64_overflow(now, interval, &at))
		return PG_INT64_MAX;
	return at;
}

/* usage_of reads a dimension's current value (0 if none). */
static int64
usage_of(const BudgetRow *b, const char *dim)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[3] = {INT2OID, UUIDOID, TEXTOID};
	Datum		v[3];

	ff_prepare(&plan,
			   "SELECT current_value FROM ff_budget_usage "
			   "WHERE partition_key = $1 AND budget_id = $2 AND dimension = $3",
			   3, types);
	v[0] = Int16GetDatum(b->pk);
	v[1] = ff_uuid_datum(&b->id);
	v[2] = CStringGetTextDatum(dim);
	ff_execute(plan, v, NULL, false, 1);
	if (SPI_processed == 0)
		return 0;
	return Max(0, ff_get_int64(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, 0));
}

/*
 * exhausted_dimension returns the first dimension (byte order) whose usage
 * has reached its hard limit, or NULL.
 */
static DimLimit *
exhausted_dimension(BudgetRow *b, int64 *used)
{
	if (b->nlimits > 0)
		qsort(b->limits, b->nlimits, sizeof(DimLimit), limit_cmp);
	for (int i = 0; i < b->nlimits; i++)
		if (b->limits[i].hard > 0 && (*used = usage_of(b, b->limits[i].dim)) >= b->limits[i].hard)
			return &b->limits[i];
	return NULL;
}

static char *
breach_detail(BudgetRow *b)
{
	int64		used = 0;
	DimLimit   *l = exhausted_dimension(b, &used);
	char	   *id = ff_uuid_to_cstring(&b->id);

	if (l == NULL && b->last_breach_dim && (l = limit_of(b, b->last_breach_dim, false)) != NULL)
		used = usage_of(b, l->dim);
	if (l == NULL)
		return psprintf("budget %s: hard limit breached", id);
	return psprintf("budget %s: %s %lld/%lld", id, l->dim, (long long) used, (long long) l->hard);
}

/* set_breached records the budget's breach state (breached_at_ms). */
static void
set_breached(const BudgetRow *b, int64 breached_at, int64 now)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[4] = {INT2OID, UUIDOID, INT8OID, INT8OID};
	Datum		v[4];
	char		n[5] = "    ";

	ff_prepare(&plan,
			   "UPDATE ff_budget_policy SET breached_at_ms = $3, updated_at_ms = $4 "
			   "WHERE partition_key = $1 AND budget_id = $2",
			   4, types);
	v[0] = Int16GetDatum(b->pk);
	v[1] = ff_uuid_datum(&b->id);
	v[2] = ff_ms_datum(breached_at, &n[2]);
	v[3] = Int64GetDatum(now);
	ff_execute(plan, v, n, false, 0);
}

/* Executions recorded on a budget */

void
ff_budget_note_execution(int16 pk, const pg_uuid_t *budget, const FFExecKey *exec,
						 const char *status, int64 now)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[6] = {INT2OID, UUIDOID, INT2OID, UUIDOID, TEXTOID, INT8OID};
	Datum		v[6];

	ff_prepare(&plan,
			   "INSERT INTO ff_budget_execution (partition_key, budget_id, exec_partition, "
			   "execution_id, status, since_ms) VALUES ($1, $2, $3, $4, $5, $6) "
			   "ON CONFLICT (partition_key, budget_id, exec_partition, execution_id) "
			   "DO UPDATE SET status = EXCLUDED.status, since_ms = EXCLUDED.since_ms",
			   6, types);
	v[0] = Int16GetDatum(pk);
	v[1] = ff_uuid_datum(budget);
	v[2] = Int16GetDatum(exec->partition);
	v[3] = ff_uuid_datum(&exec->uuid);
	v[4] = CStringGetTextDatum(status);
	v[5] = Int64GetDatum(now);
	ff_execute(plan, v, NULL, false, 0);
}

void
ff_budget_forget_execution(int16 pk, const pg_uuid_t *budget, const FFExecKey *exec)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[4] = {INT2OID, UUIDOID, INT2OID, UUIDOID};
	Datum		v[4];

	ff_prepare(&plan,
			   "DELETE FROM ff_budget_execution WHERE partition_key = $1 AND budget_id = $2 "
			   "AND exec_partition = $3 AND execution_id = $4",
			   4, types);
	v[0] = Int16GetDatum(pk);
	v[1] = ff_uuid_datum(budget);
	v[2] = Int16GetDatum(exec->partition);
	v[3] = ff_uuid_datum(&exec->uuid);
	ff_execute(plan, v, NULL, false, 0);
}

/* recorded_executions lists up to limit executions recorded on the budget with a status. */
static int
recorded_executions(int16 pk, const pg_uuid_t *budget, const char *status, int32 limit,
					FFExecKey **out)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[4] = {INT2OID, UUIDOID, TEXTOID, INT4OID};
	Datum		v[4];
	int			n;

	ff_prepare(&plan,
			   "SELECT exec_partition, execution_id FROM ff_budget_execution "
			   "WHERE partition_key = $1 AND budget_id = $2 AND status = $3 "
			   "ORDER BY since_ms, exec_partition, execution_id LIMIT $4",
			   4, types);
	v[0] = Int16GetDatum(pk);
	v[1] = ff_uuid_datum(budget);
	v[2] = CStringGetTextDatum(status);
	v[3] = Int32GetDatum(limit);
	ff_execute(plan, v, NULL, false, 0);
	n = (int) SPI_processed;
	*out = palloc0(sizeof(FFExecKey) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		(*out)[i].partition = (int16) ff_get_int32(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, 0);
		ff_get_uuid(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &(*out)[i].uuid);
	}
	return n;
}

/*
 * ff_budget_unblock_all releases up to limit executions the budget holds
 * back, taking each SKIP LOCKED (the caller holds the budget row; a
 * skipped one is left to ff_reconcile_budget_executions). The claim checks
 * their other budgets again. Returns how many became eligible.
 */
int32
ff_budget_unblock_all(int16 pk, const pg_uuid_t *budget, int64 now, int32 limit)
{
	FFExecKey  *keys;
	int			n = recorded_executions(pk, budget, "blocked", limit, &keys);
	int32		unblocked = 0;

	for (int i = 0; i < n; i++)
	{
		FFExecRow	exec;

		if (!ff_admission_lock_exec(keys[i].partition, &keys[i].uuid, &exec))
			continue;
		if (ff_admission_unblock(&exec, "blocked_by_budget", now))
			unblocked++;
		ff_budget_forget_execution(pk, budget, &keys[i]);
	}
	return unblocked;
}

/*
 * act_on_execution carries out on_hard_limit (fail or cancel) on a locked
 * attached execution: its live lease is revoked (lease event "revoked",
 * end_reason budget_exceeded) and it finishes failed (category permanent,
 * no retry) or cancelled (cancelled_by "budget"). False if it had finished.
 */
static bool
act_on_execution(FFExecRow *exec, const char *action, const char *message, int64 now)
{
	FFAttemptRow attempt;
	bool		has_attempt;

	if (ff_exec_is(exec, "terminal"))
		return false;
	has_attempt = exec->total_attempt_count > 0 &&
		ff_attempt_load(&exec->key, exec->attempt_index, &attempt, true);
	if (strcmp(action, "fail") == 0)
	{
		ff_record_failure(exec, has_attempt ? &attempt : NULL, message, "permanent");
		if (has_attempt)
			ff_attempt_end(exec, &attempt, "ended_failure", "revoked", "budget_exceeded", now);
		ff_finish_execution(exec, &ff_sv_failed, "failed", now);
	}
	else
	{
		if (has_attempt)
			ff_attempt_end(exec, &attempt, "ended_cancelled", "revoked", "budget_exceeded", now);
		exec->cancellation_reason = pstrdup(message);
		exec->cancelled_by = "budget";
		ff_finish_execution(exec, &ff_sv_cancelled, "cancelled", now);
	}
	return true;
}

/*
 * breach_action ends (SKIP LOCKED) the started executions attached to a
 * budget that just became breached. Returns how many it ended.
 */
static int32
breach_action(BudgetRow *b, int64 now, int32 limit)
{
	FFExecKey  *keys;
	int			n;
	int32		acted = 0;
	char	   *message;

	if (!acts(b))
		return 0;
	message = psprintf("budget_exceeded: %s", breach_detail(b));
	n = recorded_executions(b->pk, &b->id, "admitted", limit, &keys);
	for (int i = 0; i < n; i++)
	{
		FFExecRow	exec;

		if (!ff_admission_lock_exec(keys[i].partition, &keys[i].uuid, &exec))
			continue;
		if (act_on_execution(&exec, b->on_hard_limit, message, now))
			acted++;
		ff_budget_forget_execution(b->pk, &b->id, &keys[i]);
	}
	return acted;
}

/*
 * ff_budget_holds_back reports whether the budget keeps attached work from
 * being claimed (read, or FOR SHARE with lock); *track_admitted whether
 * claims must record the execution for breach actions. A missing budget
 * holds nothing back.
 */
bool
ff_budget_holds_back(int16 pk, const pg_uuid_t *budget, bool lock, char **detail,
					 bool *track_admitted)
{
	BudgetRow	b;

	*track_admitted = false;
	if (!load_budget(pk, budget, lock ? BUDGET_SHARE : BUDGET_READ, &b))
		return false;
	*track_admitted = acts(&b);
	if (b.breached_at_ms == FF_NULL_MS || !holds_back(&b))
		return false;
	*detail = breach_detail(&b);
	return true;
}

/*
 * reevaluate sets the breach state of a locked budget from its usage (a
 * reset, a limit change, a release): breached while a dimension is at its
 * hard limit. Unblocks what it held back if no longer breached, acts if it
 * became breached. Returns the executions unblocked.
 */
static int32
reevaluate(BudgetRow *b, int64 now)
{
	int64		used;
	bool		exhausted = exhausted_dimension(b, &used) != NULL;

	if (exhausted)
	{
		if (b->breached_at_ms == FF_NULL_MS)
		{
			b->breached_at_ms = now;
			set_breached(b, now, now);
			breach_action(b, now, PG_INT32_MAX);
		}
		return 0;
	}
	if (b->breached_at_ms != FF_NULL_MS)
	{
		b->breached_at_ms = FF_NULL_MS;
		set_breached(b, FF_NULL_MS, now);
	}
	return ff_budget_unblock_all(b->pk, &b->id, now, PG_INT32_MAX);
}

/* Reports */

static int
delta_cmp(const void *a, const void *b)
{
	return strcmp(((const UsageDelta *) a)->dim, ((const UsageDelta *) b)->dim);
}

/* normalize_deltas sorts by dimension; a repeated dimension keeps its last delta. */
static int
normalize_deltas(UsageDelta *d, int n)
{
	int			out = 0;

	for (int i = 0; i < n; i++)
	{
		check_dimension(d[i].dim);
		if (d[i].delta < 0)
			ereport(ERROR,
					(errcode(ERRCODE_FF_INVALID_INPUT),
					 errmsg("invalid_input: delta of dimension \"%s\" must not be negative", d[i].dim)));
	}
	if (n > FF_BUDGET_MAX_DIMENSIONS)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: a report has at most %d dimensions", FF_BUDGET_MAX_DIMENSIONS)));
	/* stable: the later of two equal dimensions wins */
	for (int i = 0; i < n; i++)
	{
		int			j;

		for (j = 0; j < out; j++)
			if (strcmp(d[j].dim, d[i].dim) == 0)
				break;
		d[j] = d[i];
		if (j == out)
			out++;
	}
	if (out > 1)
		qsort(d, out, sizeof(UsageDelta), delta_cmp);
	return out;
}

static const char *
outcome_kind(const char *outcome)
{
	if (strcmp(outcome, "soft_breach") == 0)
		return "SoftBreach";
	if (strcmp(outcome, "hard_breach") == 0)
		return "HardBreach";
	return "Ok";
}

static char *
outcome_json(const ReportResult *r)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"kind\": \"%s\"", outcome_kind(r->outcome));
	if (r->dim)
	{
		appendStringInfoString(&buf, ", \"dimension\": ");
		escape_json(&buf, r->dim);
		appendStringInfo(&buf, ", \"current_usage\": %lld, \"%s\": %lld", (long long) r->current,
						 strcmp(r->outcome, "soft_breach") == 0 ? "soft_limit" : "hard_limit",
						 (long long) r->limit);
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/* decode_outcome reads a stored dedup outcome into *r as already_applied. */
static void
decode_outcome(Jsonb *j, ReportResult *r)
{
	char	   *kind = json_text(&j->root, "kind", "");
	JsonbValue	v;

	r->outcome = "already_applied";
	r->dim = NULL;
	r->current = 0;
	r->limit = 0;
	if (strcmp(kind, "Ok") == 0)
		r->first = "ok";
	else if (strcmp(kind, "SoftBreach") == 0)
		r->first = "soft_breach";
	else if (strcmp(kind, "HardBreach") == 0)
		r->first = "hard_breach";
	else if (strcmp(kind, "AlreadyApplied") == 0)
		r->first = "already_applied";
	else if (*kind == '\0')
	{
		/* a concurrent first call that failed leaves no row: '{}' is ours only */
		r->first = "ok";
		return;
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_FF_CORRUPTION),
				 errmsg("corruption: budget dedup outcome_json unknown kind: %s", kind)));
	if (getKeyJsonValueFromContainer(&j->root, "dimension", strlen("dimension"), &v) != NULL &&
		v.type == jbvString)
		r->dim = pnstrdup(v.val.string.val, v.val.string.len);
	if (getKeyJsonValueFromContainer(&j->root, "current_usage", strlen("current_usage"), &v) != NULL &&
		v.type == jbvNumeric)
		(void) numeric_to_int64(v.val.numeric, &r->current);
	if ((getKeyJsonValueFromContainer(&j->root, "soft_limit", strlen("soft_limit"), &v) != NULL ||
		 getKeyJsonValueFromContainer(&j->root, "hard_limit", strlen("hard_limit"), &v) != NULL) &&
		v.type == jbvNumeric)
		(void) numeric_to_int64(v.val.numeric, &r->limit);
}

/*
 * dedup_claim takes the dedup key for this call: true if it is ours (new,
 * or the old one expired); false and *r the replay if it was applied.
 */
static bool
dedup_claim(int16 pk, const pg_uuid_t *budget, const char *key, int64 now, ReportResult *r)
{
	static SPIPlanPtr claim_plan = NULL;
	static SPIPlanPtr read_plan = NULL;
	static const Oid types[5] = {INT2OID, UUIDOID, TEXTOID, INT8OID, INT8OID};
	Datum		v[5];
	bool		isnull;

	ff_prepare(&claim_plan,
			   "INSERT INTO ff_budget_usage_dedup AS d (partition_key, budget_id, dedup_key, "
			   "outcome_json, applied_at_ms, expires_at_ms) VALUES ($1, $2, $3, '{}', $4, $5) "
			   "ON CONFLICT (partition_key, budget_id, dedup_key) DO UPDATE "
			   "SET outcome_json = '{}', applied_at_ms = EXCLUDED.applied_at_ms, "
			   "expires_at_ms = EXCLUDED.expires_at_ms WHERE d.expires_at_ms <= EXCLUDED.applied_at_ms "
			   "RETURNING 1",
			   5, types);
	v[0] = Int16GetDatum(pk);
	v[1] = ff_uuid_datum(budget);
	v[2] = CStringGetTextDatum(key);
	v[3] = Int64GetDatum(now);
	v[4] = Int64GetDatum(now + FF_BUDGET_DEDUP_TTL_MS);
	ff_execute(claim_plan, v, NULL, false, 0);
	if (SPI_processed == 1)
		return true;
	ff_prepare(&read_plan,
			   "SELECT outcome_json FROM ff_budget_usage_dedup "
			   "WHERE partition_key = $1 AND budget_id = $2 AND dedup_key = $3",
			   3, types);
	ff_execute(read_plan, v, NULL, false, 1);
	if (SPI_processed == 0)
		elog(ERROR, "dedup key \"%s\" vanished", key);
	decode_outcome(DatumGetJsonbP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
												&isnull)), r);
	return false;
}

static void
dedup_finish(int16 pk, const pg_uuid_t *budget, const char *key, const ReportResult *r)
{
	static SPIPlanPtr set_plan = NULL;
	static SPIPlanPtr drop_plan = NULL;
	static const Oid types[4] = {INT2OID, UUIDOID, TEXTOID, JSONBOID};
	Datum		v[4];

	v[0] = Int16GetDatum(pk);
	v[1] = ff_uuid_datum(budget);
	v[2] = CStringGetTextDatum(key);
	if (strcmp(r->outcome, "hard_breach") == 0)
	{
		/* nothing was applied: the key stays free for a retry */
		ff_prepare(&drop_plan,
				   "DELETE FROM ff_budget_usage_dedup "
				   "WHERE partition_key = $1 AND budget_id = $2 AND dedup_key = $3",
				   3, types);
		ff_execute(drop_plan, v, NULL, false, 0);
		return;
	}
	ff_prepare(&set_plan,
			   "UPDATE ff_budget_usage_dedup SET outcome_json = $4 "
			   "WHERE partition_key = $1 AND budget_id = $2 AND dedup_key = $3",
			   4, types);
	v[3] = DirectFunctionCall1(jsonb_in, CStringGetDatum(outcome_json(r)));
	ff_execute(set_plan, v, NULL, false, 0);
}

/*
 * report_core applies one report to a budget (docs/budgets.md "Reports"):
 * dedup, policy lock, hard-limit pass, increments with the ledger, soft
 * limit, breach bookkeeping and actions. exec: the execution the usage is
 * attributed to, or NULL.
 */
static void
report_core(const pg_uuid_t *budget, UsageDelta *d, int n, const char *dedup_key,
			const FFExecKey *exec, ReportResult *r)
{
	static SPIPlanPtr ensure_plan = NULL;
	static SPIPlanPtr lock_plan = NULL;
	static SPIPlanPtr update_plan = NULL;
	static SPIPlanPtr ledger_plan = NULL;
	static SPIPlanPtr hard_plan = NULL;
	static SPIPlanPtr soft_plan = NULL;
	static const Oid usage_types[4] = {INT2OID, UUIDOID, TEXTOID, INT8OID};
	static const Oid set_types[5] = {INT2OID, UUIDOID, TEXTOID, INT8OID, INT8OID};
	static const Oid ledger_types[8] = {INT2OID, UUIDOID, INT2OID, UUIDOID, INT8OID, TEXTOID,
	INT8OID, INT8OID};
	static const Oid hard_types[5] = {INT2OID, UUIDOID, INT8OID, TEXTOID, BOOLOID};
	static const Oid soft_types[5] = {INT2OID, UUIDOID, INT8OID, INT8OID, BOOLOID};
	int16		pk = ff_budget_partition(budget);
	int64		now = ff_now_ms();
	bool		dedup = dedup_key != NULL && *dedup_key != '\0';
	bool		found;
	BudgetRow	b;
	int64	   *newv = palloc0(sizeof(int64) * Max(n, 1));
	int			soft_i = -1;
	bool		exhausted = false;
	Datum		v[8];

	memset(r, 0, sizeof(*r));
	if (dedup && !dedup_claim(pk, budget, dedup_key, now, r))
		return;
	found = load_budget(pk, budget, BUDGET_UPDATE, &b);
	if (!found)
	{
		memset(&b, 0, sizeof(b));
		b.pk = pk;
		b.id = *budget;
	}

	ff_prepare(&ensure_plan,
			   "INSERT INTO ff_budget_usage (partition_key, budget_id, dimension, current_value, "
			   "updated_at_ms) VALUES ($1, $2, $3, 0, $4) ON CONFLICT DO NOTHING",
			   4, usage_types);
	ff_prepare(&lock_plan,
			   "SELECT current_value FROM ff_budget_usage "
			   "WHERE partition_key = $1 AND budget_id = $2 AND dimension = $3 FOR UPDATE",
			   3, usage_types);
	v[0] = Int16GetDatum(pk);
	v[1] = ff_uuid_datum(budget);
	v[3] = Int64GetDatum(now);
	for (int i = 0; i < n; i++)
	{
		DimLimit   *l = found ? limit_of(&b, d[i].dim, false) : NULL;
		int64		cur;

		v[2] = CStringGetTextDatum(d[i].dim);
		ff_execute(ensure_plan, v, NULL, false, 0);
		ff_execute(lock_plan, v, NULL, false, 1);
		cur = Max(0, ff_get_int64(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, 0));
		if (pg_add_s64_overflow(cur, d[i].delta, &newv[i]))
			newv[i] = PG_INT64_MAX;
		if (l && l->hard > 0 && newv[i] > l->hard)
		{
			bool		became = b.breached_at_ms == FF_NULL_MS;
			Datum		hv[5];

			ff_prepare(&hard_plan,
					   "UPDATE ff_budget_policy SET breach_count = breach_count + 1, "
					   "last_breach_at_ms = $3, last_breach_dim = $4, updated_at_ms = $3, "
					   "breached_at_ms = CASE WHEN $5 THEN $3 ELSE breached_at_ms END "
					   "WHERE partition_key = $1 AND budget_id = $2",
					   5, hard_types);
			hv[0] = v[0];
			hv[1] = v[1];
			hv[2] = Int64GetDatum(now);
			hv[3] = v[2];
			hv[4] = BoolGetDatum(became);
			ff_execute(hard_plan, hv, NULL, false, 0);
			r->outcome = "hard_breach";
			r->dim = pstrdup(d[i].dim);
			r->current = cur;
			r->limit = l->hard;
			if (dedup)
				dedup_finish(pk, budget, dedup_key, r);
			if (became)
			{
				b.breached_at_ms = now;
				b.last_breach_dim = r->dim;
				breach_action(&b, now, PG_INT32_MAX);
			}
			return;
		}
	}

	ff_prepare(&update_plan,
			   "UPDATE ff_budget_usage SET current_value = $4, updated_at_ms = $5 "
			   "WHERE partition_key = $1 AND budget_id = $2 AND dimension = $3",
			   5, set_types);
	ff_prepare(&ledger_plan,
			   "INSERT INTO ff_budget_usage_by_exec AS l (partition_key, budget_id, exec_partition, "
			   "execution_id, reset_epoch, dimension, delta_total, updated_at_ms) "
			   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
			   "ON CONFLICT (partition_key, budget_id, exec_partition, execution_id, reset_epoch, dimension) "
			   "DO UPDATE SET delta_total = l.delta_total + EXCLUDED.delta_total, "
			   "updated_at_ms = EXCLUDED.updated_at_ms",
			   8, ledger_types);
	for (int i = 0; i < n; i++)
	{
		DimLimit   *l = found ? limit_of(&b, d[i].dim, false) : NULL;
		Datum		uv[5];
		Datum		lv[8];

		uv[0] = v[0];
		uv[1] = v[1];
		uv[2] = CStringGetTextDatum(d[i].dim);
		uv[3] = Int64GetDatum(newv[i]);
		uv[4] = Int64GetDatum(now);
		ff_execute(update_plan, uv, NULL, false, 0);
		lv[0] = v[0];
		lv[1] = v[1];
		lv[2] = Int16GetDatum(exec ? exec->partition : -1);
		lv[3] = ff_uuid_datum(exec ? &exec->uuid : &nil_uuid);
		lv[4] = Int64GetDatum(b.reset_count);
		lv[5] = uv[2];
		lv[6] = Int64GetDatum(d[i].delta);
		lv[7] = Int64GetDatum(now);
		ff_execute(ledger_plan, lv, NULL, false, 0);
		if (l && soft_i < 0 && l->soft > 0 && newv[i] > l->soft)
		{
			soft_i = i;
			r->limit = l->soft;
		}
		if (l && l->hard > 0 && newv[i] >= l->hard)
			exhausted = true;
	}

	if (soft_i >= 0)
	{
		r->outcome = "soft_breach";
		r->dim = pstrdup(d[soft_i].dim);
		r->current = newv[soft_i];
	}
	else
		r->outcome = "ok";
	if (found)
	{
		bool		became = exhausted && b.breached_at_ms == FF_NULL_MS;
		Datum		sv[5];

		ff_prepare(&soft_plan,
				   "UPDATE ff_budget_policy SET soft_breach_count = soft_breach_count + $4, "
				   "breached_at_ms = CASE WHEN $5 THEN $3 ELSE breached_at_ms END, updated_at_ms = $3 "
				   "WHERE partition_key = $1 AND budget_id = $2",
				   5, soft_types);
		sv[0] = v[0];
		sv[1] = v[1];
		sv[2] = Int64GetDatum(now);
		sv[3] = Int64GetDatum(soft_i >= 0 ? 1 : 0);
		sv[4] = BoolGetDatum(became);
		ff_execute(soft_plan, sv, NULL, false, 0);
		if (became)
		{
			b.breached_at_ms = now;
			breach_action(&b, now, PG_INT32_MAX);
		}
	}
	if (dedup)
		dedup_finish(pk, budget, dedup_key, r);
}

static Datum
report_result(FunctionCallInfo fcinfo, MemoryContext outer, const ReportResult *r)
{
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	values[0] = CStringGetTextDatum(r->outcome);
	nulls[1] = r->dim == NULL;
	values[1] = r->dim ? CStringGetTextDatum(r->dim) : (Datum) 0;
	nulls[2] = nulls[3] = r->dim == NULL;
	values[2] = Int64GetDatum(r->current);
	values[3] = Int64GetDatum(r->limit);
	nulls[4] = r->first == NULL;
	values[4] = r->first ? CStringGetTextDatum(r->first) : (Datum) 0;
	return ff_result_row(fcinfo, outer, values, nulls);
}

/*
 * deltas_from_json reads {"<dim>": n, ...}, or upstream's UsageDimensions
 * {"custom": {...}, "dedup_key": "..."} (then *dedup_key is set from it if
 * not given). Returns the number of deltas.
 */
static int
deltas_from_json(Jsonb *j, UsageDelta **out, char **dedup_key)
{
	JsonbContainer *root = &j->root;
	JsonbValue	v;
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue	item;
	char	   *dim = NULL;
	int			n = 0;

	if (!JsonContainerIsObject(root) || JsonContainerIsScalar(root))
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input",
				 "dimensions must be a JSON object of dimension -> delta");
	if (getKeyJsonValueFromContainer(root, "custom", strlen("custom"), &v) != NULL &&
		v.type == jbvBinary && JsonContainerIsObject(v.val.binary.data))
	{
		JsonbValue	k;

		if (*dedup_key == NULL &&
			getKeyJsonValueFromContainer(root, "dedup_key", strlen("dedup_key"), &k) != NULL &&
			k.type == jbvString)
			*dedup_key = pnstrdup(k.val.string.val, k.val.string.len);
		root = v.val.binary.data;
	}
	*out = palloc0(sizeof(UsageDelta) * (JsonContainerSize(root) + 1));
	it = JsonbIteratorInit(root);
	while ((tok = JsonbIteratorNext(&it, &item, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
			dim = pnstrdup(item.val.string.val, item.val.string.len);
		else if (tok == WJB_VALUE)
		{
			int64		delta;

			if (item.type != jbvNumeric || !numeric_to_int64(item.val.numeric, &delta))
				ereport(ERROR,
						(errcode(ERRCODE_FF_INVALID_INPUT),
						 errmsg("invalid_input: delta of dimension \"%s\" must be a non-negative integer", dim)));
			(*out)[n].dim = dim;
			(*out)[n].delta = delta;
			n++;
		}
	}
	return n;
}

static char *
dedup_arg(FunctionCallInfo fcinfo, int argno)
{
	char	   *s;

	if (PG_ARGISNULL(argno))
		return NULL;
	s = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (strlen(s) > 1024)
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "dedup key is longer than 1024 bytes");
	return s;
}

/*
 * ff_report_usage: a worker reports its attempt's usage. The handle names
 * the execution the usage is attributed to (ff_release_budget takes it
 * back); it is not fenced: usage already consumed counts even after the
 * lease moved on.
 */
PG_FUNCTION_INFO_V1(ff_report_usage);
Datum
ff_report_usage(PG_FUNCTION_ARGS)
{
	MemoryContext outer = CurrentMemoryContext;
	FFHandle	h;
	pg_uuid_t	budget;
	UsageDelta *d;
	int			n;
	char	   *dedup_key;
	ReportResult r;
	Datum		result;

	if (PG_ARGISNULL(0))
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "handle must not be null");
	ff_handle_decode_postgres(PG_GETARG_BYTEA_PP(0), &h);
	budget = ff_budget_id_arg(fcinfo, 1, "budget_id");
	if (PG_ARGISNULL(2))
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "dimensions must not be null");
	dedup_key = dedup_arg(fcinfo, 3);
	n = deltas_from_json(PG_GETARG_JSONB_P(2), &d, &dedup_key);
	n = normalize_deltas(d, n);

	SPI_connect();
	report_core(&budget, d, n, dedup_key, &h.key, &r);
	result = report_result(fcinfo, outer, &r);
	SPI_finish();
	return result;
}

PG_FUNCTION_INFO_V1(ff_report_usage_admin);
Datum
ff_report_usage_admin(PG_FUNCTION_ARGS)
{
	MemoryContext outer = CurrentMemoryContext;
	pg_uuid_t	budget = ff_budget_id_arg(fcinfo, 0, "budget_id");
	Datum	   *dims;
	bool	   *dim_nulls;
	int			ndims;
	Datum	   *deltas;
	bool	   *delta_nulls;
	int			ndeltas;
	UsageDelta *d;
	int			n;
	ReportResult r;
	Datum		result;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "dimensions and deltas must not be null");
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(1), TEXTOID, -1, false, TYPALIGN_INT, &dims, &dim_nulls, &ndims);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &deltas, &delta_nulls, &ndeltas);
	if (ndims != ndeltas)
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input",
				 "report_usage_admin: dimensions and deltas length mismatch");
	d = palloc0(sizeof(UsageDelta) * (ndims + 1));
	for (int i = 0; i < ndims; i++)
	{
		if (dim_nulls[i] || delta_nulls[i])
			ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "dimensions and deltas must not contain null");
		d[i].dim = TextDatumGetCString(dims[i]);
		d[i].delta = DatumGetInt64(deltas[i]);
	}
	n = normalize_deltas(d, ndims);

	SPI_connect();
	report_core(&budget, d, n, dedup_arg(fcinfo, 3), NULL, &r);
	result = report_result(fcinfo, outer, &r);
	SPI_finish();
	return result;
}

/*
 * ff_record_spend attributes usage to an execution. A replay of the
 * idempotency key is always already_applied.
 */
PG_FUNCTION_INFO_V1(ff_record_spend);
Datum
ff_record_spend(PG_FUNCTION_ARGS)
{
	MemoryContext outer = CurrentMemoryContext;
	pg_uuid_t	budget = ff_budget_id_arg(fcinfo, 0, "budget_id");
	char	   *execution_id = ff_arg_cstring_required(fcinfo, 1, "execution_id");
	char	   *key = NULL;
	FFExecKey	exec;
	UsageDelta *d;
	int			n;
	ReportResult r;
	Datum		result;

	ff_parse_execution_id(execution_id, &exec);
	if (PG_ARGISNULL(2))
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "deltas must not be null");
	n = deltas_from_json(PG_GETARG_JSONB_P(2), &d, &key);
	n = normalize_deltas(d, n);
	key = dedup_arg(fcinfo, 3);

	SPI_connect();
	report_core(&budget, d, n, key, &exec, &r);
	if (strcmp(r.outcome, "already_applied") == 0)
		r.dim = NULL;
	result = report_result(fcinfo, outer, &r);
	SPI_finish();
	return result;
}

/*
 * ff_release_budget takes back what was attributed to the execution since
 * the last reset (clamped at zero) and forgets its ledger; a budget with
 * room again releases the work it held back.
 */
PG_FUNCTION_INFO_V1(ff_release_budget);
Datum
ff_release_budget(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr ledger_plan = NULL;
	static SPIPlanPtr usage_plan = NULL;
	static SPIPlanPtr delete_plan = NULL;
	static const Oid types[5] = {INT2OID, UUIDOID, INT2OID, UUIDOID, INT8OID};
	static const Oid usage_types[5] = {INT2OID, UUIDOID, TEXTOID, INT8OID, INT8OID};
	MemoryContext outer = CurrentMemoryContext;
	pg_uuid_t	budget = ff_budget_id_arg(fcinfo, 0, "budget_id");
	char	   *execution_id = ff_arg_cstring_required(fcinfo, 1, "execution_id");
	FFExecKey	exec;
	int16		pk = ff_budget_partition(&budget);
	BudgetRow	b;
	bool		found;
	int64		now;
	int32		released = 0;
	int32		unblocked = 0;
	Datum		v[5];
	Datum		values[2];
	bool		nulls[2] = {false, false};
	Datum		result;
	SPITupleTable *rows;
	uint64		nrows;

	ff_parse_execution_id(execution_id, &exec);
	SPI_connect();
	now = ff_now_ms();
	found = load_budget(pk, &budget, BUDGET_UPDATE, &b);
	ff_prepare(&ledger_plan,
			   "SELECT dimension, delta_total FROM ff_budget_usage_by_exec "
			   "WHERE partition_key = $1 AND budget_id = $2 AND exec_partition = $3 "
			   "AND execution_id = $4 AND reset_epoch = $5 ORDER BY dimension FOR UPDATE",
			   5, types);
	ff_prepare(&usage_plan,
			   "UPDATE ff_budget_usage SET current_value = GREATEST(0, current_value - $4), "
			   "updated_at_ms = $5 WHERE partition_key = $1 AND budget_id = $2 AND dimension = $3",
			   5, usage_types);
	ff_prepare(&delete_plan,
			   "DELETE FROM ff_budget_usage_by_exec WHERE partition_key = $1 AND budget_id = $2 "
			   "AND exec_partition = $3 AND execution_id = $4",
			   4, types);
	v[0] = Int16GetDatum(pk);
	v[1] = ff_uuid_datum(&budget);
	v[2] = Int16GetDatum(exec.partition);
	v[3] = ff_uuid_datum(&exec.uuid);
	v[4] = Int64GetDatum(found ? b.reset_count : 0);
	ff_execute(ledger_plan, v, NULL, false, 0);
	rows = SPI_tuptable;
	nrows = SPI_processed;
	for (uint64 i = 0; i < nrows; i++)
	{
		Datum		uv[5];

		uv[0] = v[0];
		uv[1] = v[1];
		uv[2] = CStringGetTextDatum(ff_get_cstring(rows->vals[i], rows->tupdesc, 1));
		uv[3] = Int64GetDatum(ff_get_int64(rows->vals[i], rows->tupdesc, 2, 0));
		uv[4] = Int64GetDatum(now);
		ff_execute(usage_plan, uv, NULL, false, 0);
		released++;
	}
	ff_execute(delete_plan, v, NULL, false, 0);
	if (found && released > 0)
		unblocked = reevaluate(&b, now);

	values[0] = Int32GetDatum(released);
	values[1] = Int32GetDatum(unblocked);
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

/* Definition */

static void
check_choice(const char *value, const char *name, const char *const *choices)
{
	for (const char *const *c = choices; *c; c++)
		if (strcmp(value, *c) == 0)
			return;
	ereport(ERROR,
			(errcode(ERRCODE_FF_INVALID_INPUT),
			 errmsg("invalid_input: %s \"%s\" is not one of the supported values", name, value)));
}

static char *
text_arg(FunctionCallInfo fcinfo, int argno, const char *dflt)
{
	if (PG_ARGISNULL(argno))
		return pstrdup(dflt);
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

static void
check_scope(const char *scope_type, const char *scope_id)
{
	size_t		len = strlen(scope_type);

	if (len > 64)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_BUDGET_SCOPE),
				 errmsg("invalid_budget_scope: scope_type is longer than 64 bytes")));
	for (size_t i = 0; i < len; i++)
	{
		char		c = scope_type[i];

		if (!((c >= 'a' && c <= 'z') || (i > 0 && ((c >= '0' && c <= '9') || c == '_'))))
			ereport(ERROR,
					(errcode(ERRCODE_FF_INVALID_BUDGET_SCOPE),
					 errmsg("invalid_budget_scope: scope_type \"%s\" must match ^[a-z][a-z0-9_]*$", scope_type),
					 errhint("For example flow, namespace, lane, tenant.")));
	}
	if (strlen(scope_id) > FF_BUDGET_NAME_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_BUDGET_SCOPE),
				 errmsg("invalid_budget_scope: scope_id is longer than %d bytes", FF_BUDGET_NAME_MAX_BYTES)));
	for (const char *p = scope_id; *p; p++)
		if ((unsigned char) *p < 0x20 || *p == 0x7f)
			ereport(ERROR,
					(errcode(ERRCODE_FF_INVALID_BUDGET_SCOPE),
					 errmsg("invalid_budget_scope: scope_id must not contain control characters")));
	if (*scope_id && len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_BUDGET_SCOPE),
				 errmsg("invalid_budget_scope: scope_id \"%s\" needs a scope_type", scope_id)));
}

/*
 * limits_from_args merges (dimensions, hard_limits, soft_limits) into b's
 * limits. Arrays must be the same length; limits non-negative, a soft
 * limit not above a hard one.
 */
static void
limits_from_args(FunctionCallInfo fcinfo, int argno, BudgetRow *b)
{
	Datum	   *dims = NULL,
			   *hard = NULL,
			   *soft = NULL;
	bool	   *dn = NULL,
			   *hn = NULL,
			   *sn = NULL;
	int			nd = 0,
				nh = 0,
				ns = 0;

	if (!PG_ARGISNULL(argno))
		deconstruct_array(PG_GETARG_ARRAYTYPE_P(argno), TEXTOID, -1, false, TYPALIGN_INT, &dims, &dn, &nd);
	if (!PG_ARGISNULL(argno + 1))
		deconstruct_array(PG_GETARG_ARRAYTYPE_P(argno + 1), INT8OID, 8, FLOAT8PASSBYVAL,
						  TYPALIGN_DOUBLE, &hard, &hn, &nh);
	if (!PG_ARGISNULL(argno + 2))
		deconstruct_array(PG_GETARG_ARRAYTYPE_P(argno + 2), INT8OID, 8, FLOAT8PASSBYVAL,
						  TYPALIGN_DOUBLE, &soft, &sn, &ns);
	if (nd != nh || nd != ns)
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input",
				 "create_budget: dimensions / hard_limits / soft_limits length mismatch");
	for (int i = 0; i < nd; i++)
	{
		char	   *dim;
		int64		h,
					s;
		DimLimit   *l;

		if (dn[i] || hn[i] || sn[i])
			ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input",
					 "dimensions and limits must not contain null");
		dim = TextDatumGetCString(dims[i]);
		check_dimension(dim);
		h = DatumGetInt64(hard[i]);
		s = DatumGetInt64(soft[i]);
		if (h < 0 || s < 0)
			ereport(ERROR,
					(errcode(ERRCODE_FF_INVALID_INPUT),
					 errmsg("invalid_input: limits of dimension \"%s\" must not be negative", dim)));
		if (h > 0 && s > h)
			ereport(ERROR,
					(errcode(ERRCODE_FF_INVALID_INPUT),
					 errmsg("invalid_input: soft limit %lld of dimension \"%s\" is above its hard limit %lld",
							(long long) s, dim, (long long) h)));
		l = limit_of(b, dim, true);
		l->hard = h;
		l->soft = s;
	}
}

PG_FUNCTION_INFO_V1(ff_create_budget);
Datum
ff_create_budget(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[8] = {INT2OID, UUIDOID, JSONBOID, TEXTOID, TEXTOID, TEXTOID, INT8OID, INT8OID};
	static const char *const modes[] = {"strict", "warn", NULL};
	static const char *const hard_actions[] = {"block", "fail", "cancel", "notify", NULL};
	static const char *const soft_actions[] = {"notify", NULL};
	MemoryContext outer = CurrentMemoryContext;
	BudgetRow	b;
	pg_uuid_t	id;
	char	   *mode;
	Datum		v[8];
	char		n[9] = "        ";
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	Datum		result;
	int64		now;
	bool		created;

	memset(&b, 0, sizeof(b));
	if (PG_ARGISNULL(0))
		ff_random_uuid(&b.id);
	else
		b.id = ff_budget_id_arg(fcinfo, 0, "budget_id");
	b.pk = ff_budget_partition(&b.id);
	limits_from_args(fcinfo, 1, &b);
	b.reset_interval_ms = PG_ARGISNULL(4) ? 0 : PG_GETARG_INT64(4);
	if (b.reset_interval_ms < 0)
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "reset_interval_ms must not be negative");
	b.scope_type = text_arg(fcinfo, 5, "");
	b.scope_id = text_arg(fcinfo, 6, "");
	check_scope(b.scope_type, b.scope_id);
	mode = text_arg(fcinfo, 7, "strict");
	if (*mode == '\0')
		mode = "strict";
	check_choice(mode, "enforcement_mode", modes);
	b.on_hard_limit = text_arg(fcinfo, 8, "block");
	if (*b.on_hard_limit == '\0')
		b.on_hard_limit = "block";
	check_choice(b.on_hard_limit, "on_hard_limit", hard_actions);
	b.on_soft_limit = text_arg(fcinfo, 9, "notify");
	if (*b.on_soft_limit == '\0')
		b.on_soft_limit = "notify";
	check_choice(b.on_soft_limit, "on_soft_limit", soft_actions);

	SPI_connect();
	now = ff_now_ms();
	ff_prepare(&plan,
			   "INSERT INTO ff_budget_policy (partition_key, budget_id, policy_json, scope_type, "
			   "scope_id, enforcement_mode, next_reset_at_ms, created_at_ms, updated_at_ms) "
			   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT DO NOTHING RETURNING 1",
			   8, types);
	v[0] = Int16GetDatum(b.pk);
	v[1] = ff_uuid_datum(&b.id);
	v[2] = policy_json_of(&b);
	v[3] = CStringGetTextDatum(b.scope_type);
	v[4] = CStringGetTextDatum(b.scope_id);
	v[5] = CStringGetTextDatum(mode);
	v[6] = ff_ms_datum(next_reset_at(now, b.reset_interval_ms), &n[6]);
	v[7] = Int64GetDatum(now);
	ff_execute(plan, v, n, false, 0);
	created = SPI_processed == 1;
	id = b.id;
	if (!load_budget(ff_budget_partition(&id), &id, BUDGET_READ, &b))
		elog(ERROR, "budget %s vanished", ff_uuid_to_cstring(&id));

	values[0] = CStringGetTextDatum(created ? "created" : "already_satisfied");
	values[1] = CStringGetTextDatum(ff_uuid_to_cstring(&b.id));
	nulls[2] = b.next_reset_at_ms == FF_NULL_MS;
	values[2] = Int64GetDatum(b.next_reset_at_ms);
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

static void
store_policy_json(BudgetRow *b, int64 now)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[4] = {INT2OID, UUIDOID, JSONBOID, INT8OID};
	Datum		v[4];

	ff_prepare(&plan,
			   "UPDATE ff_budget_policy SET policy_json = $3, updated_at_ms = $4 "
			   "WHERE partition_key = $1 AND budget_id = $2",
			   4, types);
	v[0] = Int16GetDatum(b->pk);
	v[1] = ff_uuid_datum(&b->id);
	v[2] = policy_json_of(b);
	v[3] = Int64GetDatum(now);
	ff_execute(plan, v, NULL, false, 0);
}

/*
 * ff_update_budget_limits sets the named dimensions' limits (0 and 0 drops
 * them) and re-evaluates the budget: breached while a dimension is at its
 * hard limit; no longer breached, it releases what it held back.
 */
PG_FUNCTION_INFO_V1(ff_update_budget_limits);
Datum
ff_update_budget_limits(PG_FUNCTION_ARGS)
{
	MemoryContext outer = CurrentMemoryContext;
	pg_uuid_t	id = ff_budget_id_arg(fcinfo, 0, "budget_id");
	int16		pk = ff_budget_partition(&id);
	BudgetRow	b;
	BudgetRow	args;
	int64		now;
	int32		unblocked;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	Datum		result;

	memset(&args, 0, sizeof(args));
	limits_from_args(fcinfo, 1, &args);
	SPI_connect();
	if (!load_budget(pk, &id, BUDGET_UPDATE, &b))
		budget_not_found(&id);
	now = ff_now_ms();
	for (int i = 0; i < args.nlimits; i++)
	{
		DimLimit   *l = limit_of(&b, args.limits[i].dim, true);

		l->hard = args.limits[i].hard;
		l->soft = args.limits[i].soft;
	}
	store_policy_json(&b, now);
	/* re-read: dropped dimensions are gone from the stored limits */
	load_budget(pk, &id, BUDGET_UPDATE, &b);
	unblocked = reevaluate(&b, now);

	values[0] = BoolGetDatum(b.breached_at_ms != FF_NULL_MS);
	values[1] = Int32GetDatum(unblocked);
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

/*
 * do_reset zeroes a locked budget's usage, starts a new ledger epoch,
 * clears its breach state and schedule and releases what it held back.
 */
static int32
do_reset(BudgetRow *b, int64 now)
{
	static SPIPlanPtr usage_plan = NULL;
	static SPIPlanPtr ledger_plan = NULL;
	static SPIPlanPtr policy_plan = NULL;
	static const Oid types[4] = {INT2OID, UUIDOID, INT8OID, INT8OID};
	Datum		v[4];
	char		n[5] = "    ";

	v[0] = Int16GetDatum(b->pk);
	v[1] = ff_uuid_datum(&b->id);
	v[2] = Int64GetDatum(now);
	ff_prepare(&usage_plan,
			   "UPDATE ff_budget_usage SET current_value = 0, last_reset_at_ms = $3, updated_at_ms = $3 "
			   "WHERE partition_key = $1 AND budget_id = $2",
			   3, types);
	ff_execute(usage_plan, v, NULL, false, 0);
	/* the ledger of earlier epochs no longer counts */
	ff_prepare(&ledger_plan,
			   "DELETE FROM ff_budget_usage_by_exec WHERE partition_key = $1 AND budget_id = $2 "
			   "AND reset_epoch <= $3",
			   3, types);
	v[2] = Int64GetDatum(b->reset_count);
	ff_execute(ledger_plan, v, NULL, false, 0);
	b->next_reset_at_ms = next_reset_at(now, b->reset_interval_ms);
	ff_prepare(&policy_plan,
			   "UPDATE ff_budget_policy SET last_breach_at_ms = NULL, last_breach_dim = NULL, "
			   "breached_at_ms = NULL, reset_count = reset_count + 1, last_reset_at_ms = $3, "
			   "updated_at_ms = $3, next_reset_at_ms = $4 WHERE partition_key = $1 AND budget_id = $2",
			   4, types);
	v[2] = Int64GetDatum(now);
	v[3] = ff_ms_datum(b->next_reset_at_ms, &n[3]);
	ff_execute(policy_plan, v, n, false, 0);
	b->reset_count++;
	b->breached_at_ms = FF_NULL_MS;
	return ff_budget_unblock_all(b->pk, &b->id, now, PG_INT32_MAX);
}

PG_FUNCTION_INFO_V1(ff_reset_budget);
Datum
ff_reset_budget(PG_FUNCTION_ARGS)
{
	MemoryContext outer = CurrentMemoryContext;
	pg_uuid_t	id = ff_budget_id_arg(fcinfo, 0, "budget_id");
	BudgetRow	b;
	int32		unblocked;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	Datum		result;

	SPI_connect();
	if (!load_budget(ff_budget_partition(&id), &id, BUDGET_UPDATE, &b))
		budget_not_found(&id);
	unblocked = do_reset(&b, ff_now_ms());
	values[0] = CStringGetTextDatum("reset");
	nulls[1] = b.next_reset_at_ms == FF_NULL_MS;
	values[1] = Int64GetDatum(b.next_reset_at_ms);
	values[2] = Int32GetDatum(unblocked);
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

/* Reads */

static Datum
limits_json(const BudgetRow *b, bool hard)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (int i = 0; i < b->nlimits; i++)
	{
		if (i > 0)
			appendStringInfoString(&buf, ", ");
		escape_json(&buf, b->limits[i].dim);
		appendStringInfo(&buf, ": %lld", (long long) (hard ? b->limits[i].hard : b->limits[i].soft));
	}
	appendStringInfoChar(&buf, '}');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

/* usage_json renders every usage row of the budget (negatives as 0, _init hidden). */
static Datum
usage_json(const BudgetRow *b)
{
	static SPIPlanPtr plan = NULL;
	Datum		v[2];
	StringInfoData buf;

	ff_prepare(&plan,
			   "SELECT dimension, current_value FROM ff_budget_usage "
			   "WHERE partition_key = $1 AND budget_id = $2 AND dimension <> '_init' ORDER BY dimension",
			   2, key_types);
	v[0] = Int16GetDatum(b->pk);
	v[1] = ff_uuid_datum(&b->id);
	ff_execute(plan, v, NULL, true, 0);
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		if (i > 0)
			appendStringInfoString(&buf, ", ");
		escape_json(&buf, ff_get_cstring(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
		appendStringInfo(&buf, ": %lld",
						 (long long) Max(0, ff_get_int64(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, 0)));
	}
	appendStringInfoChar(&buf, '}');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

static Datum
ms_or_null(int64 ms, bool *isnull)
{
	*isnull = ms == FF_NULL_MS;
	return Int64GetDatum(ms);
}

PG_FUNCTION_INFO_V1(ff_get_budget_status);
Datum
ff_get_budget_status(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr count_plan = NULL;
	MemoryContext outer = CurrentMemoryContext;
	pg_uuid_t	id = ff_budget_id_arg(fcinfo, 0, "budget_id");
	int16		pk = ff_budget_partition(&id);
	BudgetRow	b;
	Datum		values[22];
	bool		nulls[22];
	Datum		v[2];
	Datum		result;

	memset(nulls, 0, sizeof(nulls));
	SPI_connect();
	if (!load_budget(pk, &id, BUDGET_READ, &b))
		budget_not_found(&id);
	if (b.nlimits > 0)
		qsort(b.limits, b.nlimits, sizeof(DimLimit), limit_cmp);
	values[0] = CStringGetTextDatum(ff_uuid_to_cstring(&id));
	values[1] = CStringGetTextDatum(b.scope_type);
	values[2] = CStringGetTextDatum(b.scope_id);
	values[3] = CStringGetTextDatum(b.enforcement_mode);
	values[4] = CStringGetTextDatum(b.on_hard_limit);
	values[5] = CStringGetTextDatum(b.on_soft_limit);
	values[6] = usage_json(&b);
	values[7] = limits_json(&b, true);
	values[8] = limits_json(&b, false);
	values[9] = Int64GetDatum(Max(0, b.breach_count));
	values[10] = Int64GetDatum(Max(0, b.soft_breach_count));
	values[11] = ms_or_null(b.last_breach_at_ms, &nulls[11]);
	nulls[12] = b.last_breach_dim == NULL;
	values[12] = b.last_breach_dim ? CStringGetTextDatum(b.last_breach_dim) : (Datum) 0;
	values[13] = BoolGetDatum(b.breached_at_ms != FF_NULL_MS);
	values[14] = ms_or_null(b.breached_at_ms, &nulls[14]);
	values[15] = Int64GetDatum(b.reset_interval_ms);
	values[16] = Int64GetDatum(b.reset_count);
	values[17] = ms_or_null(b.last_reset_at_ms, &nulls[17]);
	values[18] = ms_or_null(b.next_reset_at_ms, &nulls[18]);
	ff_prepare(&count_plan,
			   "SELECT count(*) FROM ff_budget_execution "
			   "WHERE partition_key = $1 AND budget_id = $2 AND status = 'blocked'",
			   2, key_types);
	v[0] = Int16GetDatum(pk);
	v[1] = ff_uuid_datum(&id);
	ff_execute(count_plan, v, NULL, true, 1);
	values[19] = Int64GetDatum(ff_get_int64(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, 0));
	values[20] = Int64GetDatum(b.created_at_ms);
	values[21] = Int64GetDatum(b.updated_at_ms);
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

PG_FUNCTION_INFO_V1(ff_read_budget_usage_and_limits);
Datum
ff_read_budget_usage_and_limits(PG_FUNCTION_ARGS)
{
	MemoryContext outer = CurrentMemoryContext;
	pg_uuid_t	id = ff_budget_id_arg(fcinfo, 0, "budget_id");
	int16		pk = ff_budget_partition(&id);
	BudgetRow	b;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	Datum		result;
	StringInfoData limits;
	StringInfoData usage;
	bool		first = true;

	initStringInfo(&limits);
	initStringInfo(&usage);
	appendStringInfoChar(&limits, '{');
	appendStringInfoChar(&usage, '{');
	SPI_connect();
	if (load_budget(pk, &id, BUDGET_READ, &b))
	{
		if (b.nlimits > 0)
			qsort(b.limits, b.nlimits, sizeof(DimLimit), limit_cmp);
		for (int i = 0; i < b.nlimits; i++)
			for (int hard = 1; hard >= 0; hard--)
			{
				int64		n = hard ? b.limits[i].hard : b.limits[i].soft;

				if (n == 0)
					continue;
				if (limits.len > 1)
					appendStringInfoString(&limits, ", ");
				escape_json(&limits, psprintf("%s:%s", hard ? "hard" : "soft", b.limits[i].dim));
				appendStringInfo(&limits, ": \"%lld\"", (long long) n);
				if (hard)
				{
					if (!first)
						appendStringInfoString(&usage, ", ");
					first = false;
					escape_json(&usage, b.limits[i].dim);
					appendStringInfo(&usage, ": %lld", (long long) usage_of(&b, b.limits[i].dim));
				}
			}
	}
	appendStringInfoChar(&limits, '}');
	appendStringInfoChar(&usage, '}');
	values[0] = DirectFunctionCall1(jsonb_in, CStringGetDatum(limits.data));
	values[1] = DirectFunctionCall1(jsonb_in, CStringGetDatum(usage.data));
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

/* Reconcilers */

/* keys_of copies (partition_key smallint, id uuid) rows out of SPI_tuptable. */
static int
keys_of(FFExecKey **out, int pcol, int ucol)
{
	int			n = (int) SPI_processed;

	*out = palloc0(sizeof(FFExecKey) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		(*out)[i].partition = (int16) ff_get_int32(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, pcol, 0);
		ff_get_uuid(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, ucol, &(*out)[i].uuid);
	}
	return n;
}

/* ff_reconcile_budget_reset: the scheduled resets that are due. */
PG_FUNCTION_INFO_V1(ff_reconcile_budget_reset);
Datum
ff_reconcile_budget_reset(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[2] = {INT8OID, INT4OID};
	int32		batch = ff_arg_batch_size(fcinfo, 0);
	int64		now;
	FFExecKey  *keys;
	int			n;
	int32		changed = 0;
	Datum		v[2];

	SPI_connect();
	now = ff_now_ms();
	ff_prepare(&plan,
			   "SELECT partition_key, budget_id FROM ff_budget_policy "
			   "WHERE next_reset_at_ms <= $1 ORDER BY next_reset_at_ms LIMIT $2",
			   2, types);
	v[0] = Int64GetDatum(now);
	v[1] = Int32GetDatum(batch);
	ff_execute(plan, v, NULL, false, 0);
	n = keys_of(&keys, 1, 2);
	for (int i = 0; i < n; i++)
	{
		BudgetRow	b;

		/* a concurrent manual reset may have moved the schedule on */
		if (!load_budget(keys[i].partition, &keys[i].uuid, BUDGET_UPDATE, &b) ||
			b.next_reset_at_ms == FF_NULL_MS || b.next_reset_at_ms > now)
			continue;
		do_reset(&b, now);
		changed++;
	}
	SPI_finish();
	PG_RETURN_INT32(changed);
}

/*
 * ff_budget_counter_mark is the trigger (AFTER INSERT OR UPDATE OR DELETE,
 * FOR EACH ROW) on ff_budget_usage and ff_budget_usage_by_exec that marks
 * the row's budget in ff_budget_counter_dirty: its counters or its ledger
 * changed, so ff_reconcile_budget_counters must look at it again. A budget
 * already marked costs one index probe (ON CONFLICT DO NOTHING writes
 * nothing and waits for no lock held on the mark).
 */
static void
mark_budget(HeapTuple tuple, TupleDesc desc)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[3] = {INT2OID, UUIDOID, INT8OID};
	Datum		v[3];
	bool		isnull[2];

	v[0] = heap_getattr(tuple, SPI_fnumber(desc, "partition_key"), desc, &isnull[0]);
	v[1] = heap_getattr(tuple, SPI_fnumber(desc, "budget_id"), desc, &isnull[1]);
	if (isnull[0] || isnull[1])
		return;
	v[2] = Int64GetDatum(ff_now_ms());
	ff_prepare(&plan,
			   "INSERT INTO ff_budget_counter_dirty (partition_key, budget_id, marked_at_ms) "
			   "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
			   3, types);
	ff_execute(plan, v, NULL, false, 0);
}

PG_FUNCTION_INFO_V1(ff_budget_counter_mark);
Datum
ff_budget_counter_mark(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		elog(ERROR, "ff_budget_counter_mark must be an AFTER ... FOR EACH ROW trigger");
	desc = RelationGetDescr(td->tg_relation);
	SPI_connect();
	mark_budget(td->tg_trigtuple, desc);
	/* an update that moves a row to another budget changes both */
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		mark_budget(td->tg_newtuple, desc);
	SPI_finish();
	return PointerGetDatum(NULL);
}

/*
 * ff_reconcile_budget_counters recomputes the usage totals of the budgets
 * marked as changed (ff_budget_counter_mark) from the ledger of their
 * current epoch (each under the usage row's lock, which every report takes
 * before writing the ledger), then the breach state: a strict budget at
 * its hard limit becomes breached (and acts); one breached only by
 * reaching a limit it no longer reaches is released.
 *
 * Only marked budgets are read, through the ledger's (budget, epoch)
 * index, so a run costs what changed since the last one, not the size of
 * the ledger. Marks are taken FOR UPDATE SKIP LOCKED (a concurrent run
 * takes others; a report marking a budget already marked does not wait for
 * that lock) and removed together at the very end of the run, after the
 * last lock it takes: a report that changes a checked budget after that
 * waits for this transaction's end, never the other way round.
 */
PG_FUNCTION_INFO_V1(ff_reconcile_budget_counters);
Datum
ff_reconcile_budget_counters(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr dirty_plan = NULL;
	static SPIPlanPtr drift_plan = NULL;
	static SPIPlanPtr ensure_plan = NULL;
	static SPIPlanPtr fix_plan = NULL;
	static SPIPlanPtr clear_plan = NULL;
	static SPIPlanPtr breach_plan = NULL;
	static const Oid types[1] = {INT4OID};
	static const Oid fix_types[4] = {INT2OID, UUIDOID, TEXTOID, INT8OID};
	int32		batch = ff_arg_batch_size(fcinfo, 0);
	int64		now;
	int32		changed = 0;
	Datum		v[4];
	FFExecKey  *dirty;
	int			ndirty;
	FFExecKey  *keys;
	int			n;

	SPI_connect();
	now = ff_now_ms();
	ff_prepare(&dirty_plan,
			   "SELECT partition_key, budget_id FROM ff_budget_counter_dirty "
			   "ORDER BY marked_at_ms, partition_key, budget_id LIMIT $1 FOR UPDATE SKIP LOCKED",
			   1, types);
	/* one budget's dimensions whose counter differs from its current epoch's ledger */
	ff_prepare(&drift_plan,
			   "WITH expected AS ("
			   "  SELECT l.dimension, sum(l.delta_total)::bigint AS total "
			   "  FROM ff_budget_usage_by_exec l "
			   "  WHERE l.partition_key = $1 AND l.budget_id = $2 "
			   "    AND l.reset_epoch = COALESCE((SELECT p.reset_count FROM ff_budget_policy p "
			   "      WHERE p.partition_key = $1 AND p.budget_id = $2), 0) "
			   "  GROUP BY 1), "
			   "usage AS (SELECT u.dimension, u.current_value FROM ff_budget_usage u "
			   "  WHERE u.partition_key = $1 AND u.budget_id = $2) "
			   "SELECT COALESCE(u.dimension, e.dimension) "
			   "FROM usage u FULL JOIN expected e ON e.dimension = u.dimension "
			   "WHERE u.current_value IS DISTINCT FROM COALESCE(e.total, 0) "
			   "  AND COALESCE(u.dimension, e.dimension) <> '_init' "
			   "ORDER BY 1",
			   2, fix_types);
	ff_prepare(&ensure_plan,
			   "INSERT INTO ff_budget_usage (partition_key, budget_id, dimension, current_value, "
			   "updated_at_ms) VALUES ($1, $2, $3, 0, $4) ON CONFLICT DO NOTHING",
			   4, fix_types);
	/* under the usage row's lock, with a fresh look at the ledger and epoch */
	ff_prepare(&fix_plan,
			   "WITH locked AS (SELECT current_value FROM ff_budget_usage "
			   "    WHERE partition_key = $1 AND budget_id = $2 AND dimension = $3 FOR UPDATE) "
			   "UPDATE ff_budget_usage u SET current_value = t.total, updated_at_ms = $4 "
			   "FROM (SELECT COALESCE(sum(l.delta_total), 0)::bigint AS total "
			   "      FROM ff_budget_usage_by_exec l WHERE l.partition_key = $1 AND l.budget_id = $2 "
			   "      AND l.dimension = $3 AND l.reset_epoch = COALESCE((SELECT reset_count "
			   "        FROM ff_budget_policy p WHERE p.partition_key = $1 AND p.budget_id = $2), 0)) t, "
			   "     locked "
			   "WHERE u.partition_key = $1 AND u.budget_id = $2 AND u.dimension = $3 "
			   "  AND u.current_value <> t.total",
			   4, fix_types);
	ff_prepare(&clear_plan,
			   "DELETE FROM ff_budget_counter_dirty WHERE partition_key = $1 AND budget_id = $2",
			   2, fix_types);

	v[0] = Int32GetDatum(batch);
	ff_execute(dirty_plan, v, NULL, false, 0);
	ndirty = keys_of(&dirty, 1, 2);
	for (int i = 0; i < ndirty; i++)
	{
		SPITupleTable *dims;
		uint64		ndims;
		Datum		fv[4];

		fv[0] = Int16GetDatum(dirty[i].partition);
		fv[1] = ff_uuid_datum(&dirty[i].uuid);
		fv[3] = Int64GetDatum(now);
		ff_execute(drift_plan, fv, NULL, true, 0);
		dims = SPI_tuptable;
		ndims = SPI_processed;
		for (uint64 d = 0; d < ndims; d++)
		{
			fv[2] = CStringGetTextDatum(ff_get_cstring(dims->vals[d], dims->tupdesc, 1));
			ff_execute(ensure_plan, fv, NULL, false, 0);
			ff_execute(fix_plan, fv, NULL, false, 0);
			changed += (int32) SPI_processed;
		}
	}
	/* breach state: strict budgets at a limit not breached, or breached only by a limit left */
	ff_prepare(&breach_plan,
			   "SELECT p.partition_key, p.budget_id FROM ff_budget_policy p "
			   "WHERE p.enforcement_mode = 'strict' AND "
			   "  (p.breached_at_ms IS NULL OR p.last_breach_at_ms IS NULL "
			   "   OR p.last_breach_at_ms < p.breached_at_ms) "
			   "  AND (p.breached_at_ms IS NULL) = EXISTS (SELECT 1 "
			   "    FROM jsonb_each(p.policy_json->'hard_limits') h JOIN ff_budget_usage u "
			   "      ON u.partition_key = p.partition_key AND u.budget_id = p.budget_id AND u.dimension = h.key "
			   "    WHERE jsonb_typeof(h.value) = 'number' AND h.value::numeric > 0 "
			   "      AND u.current_value >= h.value::numeric) "
			   "LIMIT $1",
			   1, types);
	v[0] = Int32GetDatum(Max(1, batch - changed));
	ff_execute(breach_plan, v, NULL, false, 0);
	n = keys_of(&keys, 1, 2);
	for (int i = 0; i < n; i++)
	{
		BudgetRow	b;
		int64		used;
		bool		was;

		if (!load_budget(keys[i].partition, &keys[i].uuid, BUDGET_UPDATE, &b))
			continue;
		was = b.breached_at_ms != FF_NULL_MS;
		if (was && b.last_breach_at_ms != FF_NULL_MS && b.last_breach_at_ms >= b.breached_at_ms)
			continue;			/* a rejected report breached it: stands until reset */
		if (was == (exhausted_dimension(&b, &used) != NULL))
			continue;
		reevaluate(&b, now);
		changed++;
	}

	/*
	 * Last, with no lock left to take: a report that changes a checked
	 * budget from here on waits for this transaction to mark it again.
	 */
	for (int i = 0; i < ndirty; i++)
	{
		Datum		cv[2];

		cv[0] = Int16GetDatum(dirty[i].partition);
		cv[1] = ff_uuid_datum(&dirty[i].uuid);
		ff_execute(clear_plan, cv, NULL, false, 0);
	}
	SPI_finish();
	PG_RETURN_INT32(changed);
}

/*
 * ff_reconcile_budget_executions finishes what budget operations left to
 * rows other transactions held: executions held back by a budget that no
 * longer holds back (or is gone), breach actions on started executions,
 * and rows of executions that finished or were deleted. Executions are
 * locked first here (nothing else is held), then the budget is read.
 */
PG_FUNCTION_INFO_V1(ff_reconcile_budget_executions);
Datum
ff_reconcile_budget_executions(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[1] = {INT4OID};
	int32		batch = ff_arg_batch_size(fcinfo, 0);
	int64		now;
	int32		changed = 0;
	Datum		v[1];
	SPITupleTable *rows;
	uint64		nrows;

	SPI_connect();
	now = ff_now_ms();
	ff_prepare(&plan,
			   "SELECT b.partition_key, b.budget_id, b.exec_partition, b.execution_id, b.status "
			   "FROM ff_budget_execution b "
			   "LEFT JOIN ff_budget_policy p ON p.partition_key = b.partition_key AND p.budget_id = b.budget_id "
			   "LEFT JOIN ff_execution e ON e.partition_key = b.exec_partition AND e.execution_id = b.execution_id "
			   "WHERE e.execution_id IS NULL OR e.lifecycle_phase = 'terminal' "
			   "   OR (b.status = 'blocked' AND (p.budget_id IS NULL OR p.breached_at_ms IS NULL "
			   "       OR p.enforcement_mode <> 'strict' OR p.policy_json->>'on_hard_limit' = 'notify' "
			   "       OR e.eligibility_state <> 'blocked_by_budget')) "
			   "   OR (b.status = 'admitted' AND p.breached_at_ms IS NOT NULL "
			   "       AND p.enforcement_mode = 'strict' "
			   "       AND p.policy_json->>'on_hard_limit' IN ('fail', 'cancel')) "
			   "ORDER BY b.since_ms LIMIT $1",
			   1, types);
	v[0] = Int32GetDatum(batch);
	ff_execute(plan, v, NULL, false, 0);
	rows = SPI_tuptable;
	nrows = SPI_processed;
	for (uint64 i = 0; i < nrows; i++)
	{
		HeapTuple	t = rows->vals[i];
		int16		pk = (int16) ff_get_int32(t, rows->tupdesc, 1, 0);
		pg_uuid_t	budget;
		FFExecKey	key;
		char	   *status = ff_get_cstring(t, rows->tupdesc, 5);
		FFExecRow	exec;
		BudgetRow	b;
		bool		found;

		ff_get_uuid(t, rows->tupdesc, 2, &budget);
		key.partition = (int16) ff_get_int32(t, rows->tupdesc, 3, 0);
		ff_get_uuid(t, rows->tupdesc, 4, &key.uuid);
		if (!ff_exec_load(&key, &exec, true) || ff_exec_is(&exec, "terminal"))
		{
			ff_budget_forget_execution(pk, &budget, &key);
			changed++;
			continue;
		}
		found = load_budget(pk, &budget, BUDGET_READ, &b);
		if (strcmp(status, "blocked") == 0)
		{
			if (found && b.breached_at_ms != FF_NULL_MS && holds_back(&b) &&
				strcmp(exec.sv.eligibility_state, "blocked_by_budget") == 0)
				continue;		/* breached again meanwhile */
			ff_admission_unblock(&exec, "blocked_by_budget", now);
			ff_budget_forget_execution(pk, &budget, &key);
			changed++;
		}
		else if (found && b.breached_at_ms != FF_NULL_MS && acts(&b))
		{
			act_on_execution(&exec, b.on_hard_limit,
							 psprintf("budget_exceeded: %s", breach_detail(&b)), now);
			ff_budget_forget_execution(pk, &budget, &key);
			changed++;
		}
	}
	SPI_finish();
	PG_RETURN_INT32(changed);
}

/*
 * ff_budget_cleanup_dedup deletes up to limit expired dedup keys
 * (ff_reconcile_admission_cleanup, quota.c).
 */
int32
ff_budget_cleanup_dedup(int64 now, int32 limit)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[2] = {INT8OID, INT4OID};
	Datum		v[2];

	ff_prepare(&plan,
			   "DELETE FROM ff_budget_usage_dedup WHERE ctid = ANY (ARRAY("
			   "  SELECT ctid FROM ff_budget_usage_dedup WHERE expires_at_ms <= $1 LIMIT $2))",
			   2, types);
	v[0] = Int64GetDatum(now);
	v[1] = Int32GetDatum(limit);
	ff_execute(plan, v, NULL, false, 0);
	return (int32) SPI_processed;
}

/*
 * quota.c
 *		Quota policies: sliding-window rate limits and concurrency caps,
 *		checked by ff_check_admission and, for executions whose policy names
 *		a quota_policy_id, by ff_claim (docs/budgets.md).
 *
 * The window is the admissions of the last window_ms: entries with
 * admitted_at_ms <= now - window_ms no longer count, so a refused request
 * may retry after oldest + window_ms - now (plus the policy's jitter). A
 * concurrency slot is a ff_quota_admitted row with holds_slot; the policy
 * row's active_concurrency counts them. A claim's slot lasts until the
 * attempt's lease is released (budget_admission.c), an admission guard's
 * (ff_check_admission) until ff_release_admission or its window ends.
 *
 * Every admission locks the policy row FOR UPDATE, so counting and
 * admitting are one step per policy. A freed slot releases waiting
 * executions SKIP LOCKED (the policy row is held); the unblock reconciler
 * finishes what that skipped.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/int.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "budget.h"

#define QUOTA_MAX_WINDOW_SECONDS	(366 * 24 * 3600LL)
#define QUOTA_MAX_JITTER_MS			(3600 * 1000LL)

typedef struct QuotaRow
{
	int16		pk;
	pg_uuid_t	id;
	int64		window_seconds;
	int64		max_requests;
	int64		cap;
	int64		jitter_ms;
	int64		active;
	bool		defined;
} QuotaRow;

static const Oid key_types[2] = {INT2OID, UUIDOID};

static int64
window_ms_of(int64 seconds)
{
	int64		ms;

	if (pg_mul_s64_overflow(seconds, 1000, &ms))
		return PG_INT64_MAX;
	return ms;
}

/* load_quota reads (lock: FOR UPDATE) a policy; false if missing. */
static bool
load_quota(int16 pk, const pg_uuid_t *id, bool lock, QuotaRow *q)
{
	static SPIPlanPtr plans[2] = {NULL, NULL};
	Datum		v[2];
	HeapTuple	t;
	TupleDesc	d;

	ff_prepare(&plans[lock],
			   lock ? "SELECT requests_per_window_seconds, max_requests_per_window, "
			   "active_concurrency_cap, jitter_ms, active_concurrency, defined FROM ff_quota_policy "
			   "WHERE partition_key = $1 AND quota_policy_id = $2 FOR UPDATE"
			   : "SELECT requests_per_window_seconds, max_requests_per_window, "
			   "active_concurrency_cap, jitter_ms, active_concurrency, defined FROM ff_quota_policy "
			   "WHERE partition_key = $1 AND quota_policy_id = $2",
			   2, key_types);
	v[0] = Int16GetDatum(pk);
	v[1] = ff_uuid_datum(id);
	ff_execute(plans[lock], v, NULL, false, 1);
	if (SPI_processed == 0)
		return false;
	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	q->pk = pk;
	q->id = *id;
	q->window_seconds = ff_get_int64(t, d, 1, 0);
	q->max_requests = ff_get_int64(t, d, 2, 0);
	q->cap = ff_get_int64(t, d, 3, 0);
	q->jitter_ms = ff_get_int64(t, d, 4, 0);
	q->active = ff_get_int64(t, d, 5, 0);
	q->defined = ff_get_bool(t, d, 6);
	return true;
}

/* set_active stores the policy's slot count. */
static void
set_active(const QuotaRow *q, int64 active, int64 now)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[4] = {INT2OID, UUIDOID, INT8OID, INT8OID};
	Datum		v[4];

	ff_prepare(&plan,
			   "UPDATE ff_quota_policy SET active_concurrency = $3, updated_at_ms = $4 "
			   "WHERE partition_key = $1 AND quota_policy_id = $2",
			   4, types);
	v[0] = Int16GetDatum(q->pk);
	v[1] = ff_uuid_datum(&q->id);
	v[2] = Int64GetDatum(Max(0, active));
	v[3] = Int64GetDatum(now);
	ff_execute(plan, v, NULL, false, 0);
}

/*
 * window_count sweeps the dimension's entries that left the window and
 * returns the admissions still in it and the oldest one's time.
 */
static int64
window_count(const QuotaRow *q, const char *dimension, int64 window_ms, int64 now, int64 *oldest)
{
	static SPIPlanPtr sweep_plan = NULL;
	static SPIPlanPtr count_plan = NULL;
	static const Oid types[4] = {INT2OID, UUIDOID, TEXTOID, INT8OID};
	Datum		v[4];
	int64		floor_ms;

	if (pg_sub_s64_overflow(now, window_ms, &floor_ms))
		floor_ms = PG_INT64_MIN;
	ff_prepare(&sweep_plan,
			   "DELETE FROM ff_quota_window WHERE partition_key = $1 AND quota_policy_id = $2 "
			   "AND dimension = $3 AND admitted_at_ms <= $4",
			   4, types);
	ff_prepare(&count_plan,
			   "SELECT COALESCE(sum(hits), 0)::bigint, min(admitted_at_ms) FROM ff_quota_window "
			   "WHERE partition_key = $1 AND quota_policy_id = $2 AND dimension = $3",
			   3, types);
	v[0] = Int16GetDatum(q->pk);
	v[1] = ff_uuid_datum(&q->id);
	v[2] = CStringGetTextDatum(dimension);
	v[3] = Int64GetDatum(floor_ms);
	ff_execute(sweep_plan, v, NULL, false, 0);
	ff_execute(count_plan, v, NULL, false, 1);
	*oldest = ff_get_int64(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, now);
	return ff_get_int64(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, 0);
}

static void
window_add(const QuotaRow *q, const char *dimension, const char *wire, int64 now)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[5] = {INT2OID, UUIDOID, TEXTOID, INT8OID, TEXTOID};
	Datum		v[5];

	ff_prepare(&plan,
			   "INSERT INTO ff_quota_window AS w (partition_key, quota_policy_id, dimension, "
			   "admitted_at_ms, execution_id, hits) VALUES ($1, $2, $3, $4, $5, 1) "
			   "ON CONFLICT (partition_key, quota_policy_id, dimension, admitted_at_ms, execution_id) "
			   "DO UPDATE SET hits = w.hits + 1",
			   5, types);
	v[0] = Int16GetDatum(q->pk);
	v[1] = ff_uuid_datum(&q->id);
	v[2] = CStringGetTextDatum(dimension);
	v[3] = Int64GetDatum(now);
	v[4] = CStringGetTextDatum(wire);
	ff_execute(plan, v, NULL, false, 0);
}

/*
 * admitted_row reads the execution's admission: false if none, else
 * *holds_slot and *expires (FF_NULL_MS: held until released).
 */
static bool
admitted_row(const QuotaRow *q, const char *wire, bool *holds_slot, int64 *expires)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[3] = {INT2OID, UUIDOID, TEXTOID};
	Datum		v[3];

	ff_prepare(&plan,
			   "SELECT holds_slot, expires_at_ms FROM ff_quota_admitted "
			   "WHERE partition_key = $1 AND quota_policy_id = $2 AND execution_id = $3",
			   3, types);
	v[0] = Int16GetDatum(q->pk);
	v[1] = ff_uuid_datum(&q->id);
	v[2] = CStringGetTextDatum(wire);
	ff_execute(plan, v, NULL, false, 1);
	if (SPI_processed == 0)
		return false;
	*holds_slot = ff_get_bool(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	*expires = ff_get_int64(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, FF_NULL_MS);
	return true;
}

static void
admitted_put(const QuotaRow *q, const char *wire, int64 now, int64 expires, bool holds_slot)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[6] = {INT2OID, UUIDOID, TEXTOID, INT8OID, INT8OID, BOOLOID};
	Datum		v[6];
	char		n[7] = "      ";

	ff_prepare(&plan,
			   "INSERT INTO ff_quota_admitted (partition_key, quota_policy_id, execution_id, "
			   "admitted_at_ms, expires_at_ms, holds_slot) VALUES ($1, $2, $3, $4, $5, $6) "
			   "ON CONFLICT (partition_key, quota_policy_id, execution_id) DO UPDATE "
			   "SET admitted_at_ms = EXCLUDED.admitted_at_ms, expires_at_ms = EXCLUDED.expires_at_ms, "
			   "holds_slot = EXCLUDED.holds_slot",
			   6, types);
	v[0] = Int16GetDatum(q->pk);
	v[1] = ff_uuid_datum(&q->id);
	v[2] = CStringGetTextDatum(wire);
	v[3] = Int64GetDatum(now);
	v[4] = ff_ms_datum(expires, &n[4]);
	v[5] = BoolGetDatum(holds_slot);
	ff_execute(plan, v, n, false, 0);
}

/* note_blocked records why the quota holds the execution back. */
static void
note_blocked(const QuotaRow *q, const FFExecKey *exec, const char *reason, int64 retry_at, int64 now)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[7] = {INT2OID, UUIDOID, INT2OID, UUIDOID, TEXTOID, INT8OID, INT8OID};
	Datum		v[7];
	char		n[8] = "       ";

	ff_prepare(&plan,
			   "INSERT INTO ff_quota_blocked (partition_key, quota_policy_id, exec_partition, "
			   "execution_id, reason, retry_at_ms, blocked_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) "
			   "ON CONFLICT (partition_key, quota_policy_id, exec_partition, execution_id) DO UPDATE "
			   "SET reason = EXCLUDED.reason, retry_at_ms = EXCLUDED.retry_at_ms, "
			   "blocked_at_ms = EXCLUDED.blocked_at_ms",
			   7, types);
	v[0] = Int16GetDatum(q->pk);
	v[1] = ff_uuid_datum(&q->id);
	v[2] = Int16GetDatum(exec->partition);
	v[3] = ff_uuid_datum(&exec->uuid);
	v[4] = CStringGetTextDatum(reason);
	v[5] = ff_ms_datum(retry_at, &n[5]);
	v[6] = Int64GetDatum(now);
	ff_execute(plan, v, n, false, 0);
}

void
ff_quota_forget_execution(const pg_uuid_t *quota, const FFExecKey *exec)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[4] = {INT2OID, UUIDOID, INT2OID, UUIDOID};
	Datum		v[4];

	ff_prepare(&plan,
			   "DELETE FROM ff_quota_blocked WHERE partition_key = $1 AND quota_policy_id = $2 "
			   "AND exec_partition = $3 AND execution_id = $4",
			   4, types);
	v[0] = Int16GetDatum(ff_budget_partition(quota));
	v[1] = ff_uuid_datum(quota);
	v[2] = Int16GetDatum(exec->partition);
	v[3] = ff_uuid_datum(&exec->uuid);
	ff_execute(plan, v, NULL, false, 0);
}

/*
 * unblock_waiters releases up to n executions waiting for a slot of the
 * locked policy, oldest first, SKIP LOCKED. Returns how many it released.
 */
static int32
unblock_waiters(const QuotaRow *q, int64 n, int64 now)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[3] = {INT2OID, UUIDOID, INT8OID};
	Datum		v[3];
	int			rows;
	FFExecKey  *keys;
	int32		released = 0;

	if (n <= 0)
		return 0;
	ff_prepare(&plan,
			   "SELECT exec_partition, execution_id FROM ff_quota_blocked "
			   "WHERE partition_key = $1 AND quota_policy_id = $2 AND reason = 'concurrency' "
			   "ORDER BY blocked_at_ms, exec_partition, execution_id LIMIT $3",
			   3, types);
	v[0] = Int16GetDatum(q->pk);
	v[1] = ff_uuid_datum(&q->id);
	v[2] = Int64GetDatum(n);
	ff_execute(plan, v, NULL, false, 0);
	rows = (int) SPI_processed;
	keys = palloc0(sizeof(FFExecKey) * Max(rows, 1));
	for (int i = 0; i < rows; i++)
	{
		keys[i].partition = (int16) ff_get_int32(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, 0);
		ff_get_uuid(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &keys[i].uuid);
	}
	for (int i = 0; i < rows; i++)
	{
		FFExecRow	exec;

		if (!ff_admission_lock_exec(keys[i].partition, &keys[i].uuid, &exec))
			continue;
		if (ff_admission_unblock(&exec, "blocked_by_quota", now))
			released++;
		ff_quota_forget_execution(&q->id, &keys[i]);
	}
	return released;
}

/* room: slots free under the cap (all waiters when there is no cap). */
static int64
room(const QuotaRow *q, int64 active)
{
	return q->cap > 0 ? q->cap - active : PG_INT32_MAX;
}

/*
 * release_slot deletes the execution's slot-holding admission of the
 * policy, if any (rows that only guard admission are kept, unless all is
 * set), frees the slot and releases a waiter. Returns whether a slot was
 * freed.
 */
static bool
release_slot(const pg_uuid_t *quota, const char *wire, bool all, int64 now, int32 *unblocked)
{
	static SPIPlanPtr plans[2] = {NULL, NULL};
	static const Oid types[3] = {INT2OID, UUIDOID, TEXTOID};
	int16		pk = ff_budget_partition(quota);
	QuotaRow	q;
	Datum		v[3];
	bool		held;

	*unblocked = 0;
	ff_prepare(&plans[all],
			   all ? "DELETE FROM ff_quota_admitted WHERE partition_key = $1 AND quota_policy_id = $2 "
			   "AND execution_id = $3 RETURNING holds_slot"
			   : "DELETE FROM ff_quota_admitted WHERE partition_key = $1 AND quota_policy_id = $2 "
			   "AND execution_id = $3 AND holds_slot RETURNING holds_slot",
			   3, types);
	v[0] = Int16GetDatum(pk);
	v[1] = ff_uuid_datum(quota);
	v[2] = CStringGetTextDatum(wire);
	ff_execute(plans[all], v, NULL, false, 1);
	if (SPI_processed == 0)
		return false;
	held = ff_get_bool(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	if (!held || !load_quota(pk, quota, true, &q))
		return false;
	set_active(&q, q.active - 1, now);
	*unblocked = unblock_waiters(&q, room(&q, Max(0, q.active - 1)), now);
	return true;
}

void
ff_quota_release_slot(const pg_uuid_t *quota, const FFExecKey *exec, int64 now)
{
	int32		unblocked;

	(void) release_slot(quota, ff_format_execution_id(exec), false, now, &unblocked);
}

/*
 * ff_quota_claim admits a claim of the execution under its quota policy
 * (force: a reclaim, admitted whatever the limits). On refusal the
 * execution is recorded as waiting (rate: until *retry_at; concurrency:
 * for a slot) and *detail says why; the caller blocks it.
 */
FFQuotaVerdict
ff_quota_claim(const pg_uuid_t *quota, const FFExecKey *exec, bool force, int64 now,
			   int64 *retry_at, char **detail)
{
	int16		pk = ff_budget_partition(quota);
	QuotaRow	q;
	char	   *wire;
	bool		holds = false;
	int64		expires;

	*retry_at = FF_NULL_MS;
	if (!load_quota(pk, quota, true, &q) || (q.max_requests == 0 && q.cap == 0))
		return FF_QUOTA_ADMIT;
	wire = ff_format_execution_id(exec);
	(void) admitted_row(&q, wire, &holds, &expires);
	if (!force && q.max_requests > 0 && q.window_seconds > 0)
	{
		int64		window_ms = window_ms_of(q.window_seconds);
		int64		oldest;
		int64		count = window_count(&q, "", window_ms, now, &oldest);

		if (count >= q.max_requests)
		{
			int64		wait = Max(0, oldest + window_ms - now) + q.jitter_ms;

			*retry_at = now + wait;
			note_blocked(&q, exec, "rate", *retry_at, now);
			*detail = psprintf("quota %s: %lld of %lld requests per %lld s used; retry after %lld ms",
							   ff_uuid_to_cstring(quota), (long long) count,
							   (long long) q.max_requests, (long long) q.window_seconds,
							   (long long) wait);
			return FF_QUOTA_RATE;
		}
	}
	if (!force && q.cap > 0 && !holds && q.active >= q.cap)
	{
		note_blocked(&q, exec, "concurrency", FF_NULL_MS, now);
		*detail = psprintf("quota %s: %lld of %lld concurrent slots in use",
						   ff_uuid_to_cstring(quota), (long long) q.active, (long long) q.cap);
		return FF_QUOTA_CONCURRENCY;
	}
	if (q.max_requests > 0 && q.window_seconds > 0)
		window_add(&q, "", wire, now);
	if (q.cap > 0)
	{
		admitted_put(&q, wire, now, FF_NULL_MS, true);
		if (!holds)
			set_active(&q, q.active + 1, now);
	}
	ff_quota_forget_execution(quota, exec);
	return FF_QUOTA_ADMIT;
}

/* SQL functions */

static int64
spec_arg(FunctionCallInfo fcinfo, int argno, const char *name, int64 dflt, int64 max)
{
	int64		v;

	if (PG_ARGISNULL(argno))
		return dflt;
	v = PG_GETARG_INT64(argno);
	if (v < 0 || v > max)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_QUOTA_SPEC),
				 errmsg("invalid_quota_spec: %s must be between 0 and %lld", name, (long long) max)));
	return v;
}

/*
 * ff_create_quota_policy defines a quota policy. An existing definition is
 * kept (already_satisfied); a placeholder ff_check_admission made to count
 * slots is defined now (created).
 */
PG_FUNCTION_INFO_V1(ff_create_quota_policy);
Datum
ff_create_quota_policy(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[7] = {INT2OID, UUIDOID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID};
	MemoryContext outer = CurrentMemoryContext;
	pg_uuid_t	id;
	int64		window_seconds = spec_arg(fcinfo, 1, "window_seconds", 60, QUOTA_MAX_WINDOW_SECONDS);
	int64		max_requests = spec_arg(fcinfo, 2, "max_requests_per_window", 0, PG_INT32_MAX);
	int64		max_concurrent = spec_arg(fcinfo, 3, "max_concurrent", 0, PG_INT32_MAX);
	int64		jitter = spec_arg(fcinfo, 4, "jitter_ms", 0, QUOTA_MAX_JITTER_MS);
	Datum		v[7];
	Datum		values[2];
	bool		nulls[2] = {false, false};
	Datum		result;
	bool		created;

	if (PG_ARGISNULL(0))
		ff_random_uuid(&id);
	else
		id = ff_budget_id_arg(fcinfo, 0, "quota_policy_id");
	if (max_requests > 0 && window_seconds == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_QUOTA_SPEC),
				 errmsg("invalid_quota_spec: a rate limit needs window_seconds above 0")));

	SPI_connect();
	ff_prepare(&plan,
			   "INSERT INTO ff_quota_policy AS q (partition_key, quota_policy_id, "
			   "requests_per_window_seconds, max_requests_per_window, active_concurrency_cap, "
			   "jitter_ms, active_concurrency, defined, created_at_ms, updated_at_ms) "
			   "VALUES ($1, $2, $3, $4, $5, $6, 0, true, $7, $7) "
			   "ON CONFLICT (partition_key, quota_policy_id) DO UPDATE SET "
			   "requests_per_window_seconds = EXCLUDED.requests_per_window_seconds, "
			   "max_requests_per_window = EXCLUDED.max_requests_per_window, "
			   "active_concurrency_cap = EXCLUDED.active_concurrency_cap, "
			   "jitter_ms = EXCLUDED.jitter_ms, defined = true, updated_at_ms = EXCLUDED.updated_at_ms "
			   "WHERE NOT q.defined RETURNING 1",
			   7, types);
	v[0] = Int16GetDatum(ff_budget_partition(&id));
	v[1] = ff_uuid_datum(&id);
	v[2] = Int64GetDatum(window_seconds);
	v[3] = Int64GetDatum(max_requests);
	v[4] = Int64GetDatum(max_concurrent);
	v[5] = Int64GetDatum(jitter);
	v[6] = Int64GetDatum(ff_now_ms());
	ff_execute(plan, v, NULL, false, 0);
	created = SPI_processed == 1;
	values[0] = CStringGetTextDatum(created ? "created" : "already_satisfied");
	values[1] = CStringGetTextDatum(ff_uuid_to_cstring(&id));
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

PG_FUNCTION_INFO_V1(ff_read_quota_policy_limits);
Datum
ff_read_quota_policy_limits(PG_FUNCTION_ARGS)
{
	static const char *const fields[] = {
		"requests_per_window_seconds", "max_requests_per_window", "active_concurrency_cap",
		"jitter_ms", "active_concurrency"
	};
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	pg_uuid_t	id = ff_budget_id_arg(fcinfo, 0, "quota_policy_id");
	QuotaRow	q;
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, false};

	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	if (load_quota(ff_budget_partition(&id), &id, false, &q))
	{
		int64		stored[5] = {q.window_seconds, q.max_requests, q.cap, q.jitter_ms, q.active};

		for (int i = 0; i < 5; i++)
			if (stored[i] < 0)
				ereport(ERROR,
						(errcode(ERRCODE_FF_CORRUPTION),
						 errmsg("corruption: read_quota_policy_limits: quota_policy=%s field=%s value=%lld (negative)",
								ff_uuid_to_cstring(&id), fields[i], (long long) stored[i])));
		values[0] = Int64GetDatum(q.max_requests);
		values[1] = Int64GetDatum(q.window_seconds);
		values[2] = Int64GetDatum(q.cap);
		values[3] = Int64GetDatum(q.jitter_ms);
		values[4] = Int64GetDatum(q.active);
		values[5] = BoolGetDatum(q.max_requests == 0 && q.cap == 0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

/* ensure_quota makes the placeholder row of an undefined policy (all limits 0). */
static void
ensure_quota(int16 pk, const pg_uuid_t *id, int64 now)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[3] = {INT2OID, UUIDOID, INT8OID};
	Datum		v[3];

	ff_prepare(&plan,
			   "INSERT INTO ff_quota_policy (partition_key, quota_policy_id, requests_per_window_seconds, "
			   "max_requests_per_window, active_concurrency_cap, defined, created_at_ms, updated_at_ms) "
			   "VALUES ($1, $2, 0, 0, 0, false, $3, $3) ON CONFLICT DO NOTHING",
			   3, types);
	v[0] = Int16GetDatum(pk);
	v[1] = ff_uuid_datum(id);
	v[2] = Int64GetDatum(now);
	ff_execute(plan, v, NULL, false, 0);
}

/*
 * ff_check_admission admits one request of the execution (docs/budgets.md):
 * an unexpired admission of it is already_admitted; else the window's
 * count against rate_limit (rate_exceeded with the wait), the slots
 * against concurrency_cap (concurrency_exceeded), then it is admitted:
 * counted in the window, guarded for the window, holding a slot when
 * there is a cap. NULL limits are the policy's.
 */
PG_FUNCTION_INFO_V1(ff_check_admission);
Datum
ff_check_admission(PG_FUNCTION_ARGS)
{
	MemoryContext outer = CurrentMemoryContext;
	pg_uuid_t	id = ff_budget_id_arg(fcinfo, 0, "quota_policy_id");
	char	   *execution_id = ff_arg_cstring_required(fcinfo, 1, "execution_id");
	char	   *dimension = PG_ARGISNULL(6) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(6));
	int16		pk = ff_budget_partition(&id);
	FFExecKey	key;
	char	   *wire;
	QuotaRow	q;
	bool		found;
	int64		window_seconds,
				rate,
				cap,
				jitter,
				window_ms,
				now;
	bool		holds = false;
	int64		expires = FF_NULL_MS;
	const char *outcome = "admitted";
	int64		retry_after = FF_NULL_MS;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	Datum		result;

	ff_parse_execution_id(execution_id, &key);
	wire = ff_format_execution_id(&key);
	if (strlen(dimension) > FF_BUDGET_NAME_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: dimension is longer than %d bytes", FF_BUDGET_NAME_MAX_BYTES)));
	SPI_connect();
	now = ff_now_ms();
	found = load_quota(pk, &id, false, &q) && q.defined;
	if (!found && (PG_ARGISNULL(2) || PG_ARGISNULL(3) || PG_ARGISNULL(4)))
		ereport(ERROR,
				(errcode(ERRCODE_FF_QUOTA_POLICY_NOT_FOUND),
				 errmsg("quota_policy_not_found: quota policy %s does not exist", ff_uuid_to_cstring(&id)),
				 errhint("Create it with ff_create_quota_policy, or pass window_seconds, rate_limit and concurrency_cap.")));
	window_seconds = spec_arg(fcinfo, 2, "window_seconds", found ? q.window_seconds : 0, QUOTA_MAX_WINDOW_SECONDS);
	rate = spec_arg(fcinfo, 3, "rate_limit", found ? q.max_requests : 0, PG_INT32_MAX);
	cap = spec_arg(fcinfo, 4, "concurrency_cap", found ? q.cap : 0, PG_INT32_MAX);
	jitter = spec_arg(fcinfo, 5, "jitter_ms", found ? q.jitter_ms : 0, QUOTA_MAX_JITTER_MS);
	window_ms = window_ms_of(window_seconds);

	/* one admission at a time per policy */
	ensure_quota(pk, &id, now);
	load_quota(pk, &id, true, &q);
	if (admitted_row(&q, wire, &holds, &expires) && (expires == FF_NULL_MS || expires > now))
		outcome = "already_admitted";
	else
	{
		int64		oldest;
		int64		count = window_count(&q, dimension, window_ms, now, &oldest);

		if (rate > 0 && count >= rate)
		{
			outcome = "rate_exceeded";
			retry_after = Max(0, oldest + window_ms - now) + jitter;
		}
		else if (cap > 0 && !holds && q.active >= cap)
			outcome = "concurrency_exceeded";
		else
		{
			window_add(&q, dimension, wire, now);
			admitted_put(&q, wire, now, now + window_ms, holds || cap > 0);
			if (cap > 0 && !holds)
				set_active(&q, q.active + 1, now);
		}
	}
	values[0] = CStringGetTextDatum(outcome);
	nulls[1] = retry_after == FF_NULL_MS;
	values[1] = Int64GetDatum(retry_after);
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

/*
 * ff_release_admission forgets the execution's admission; if it held a
 * slot, the slot frees and a waiting execution is released. Idempotent.
 */
PG_FUNCTION_INFO_V1(ff_release_admission);
Datum
ff_release_admission(PG_FUNCTION_ARGS)
{
	MemoryContext outer = CurrentMemoryContext;
	pg_uuid_t	id = ff_budget_id_arg(fcinfo, 0, "quota_policy_id");
	char	   *execution_id = ff_arg_cstring_required(fcinfo, 1, "execution_id");
	FFExecKey	key;
	bool		freed;
	int32		unblocked;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	Datum		result;

	ff_parse_execution_id(execution_id, &key);
	SPI_connect();
	freed = release_slot(&id, ff_format_execution_id(&key), true, ff_now_ms(), &unblocked);
	values[0] = CStringGetTextDatum("released");
	values[1] = BoolGetDatum(freed);
	values[2] = Int32GetDatum(unblocked);
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

/* Reconcilers */

/*
 * ff_reconcile_quota_counters sets each policy's active_concurrency to the
 * slots actually held (under the policy lock): a claim's slot whose
 * execution is no longer active (running, or waiting for its reclaim) is
 * dropped first. An expired guard's slot counts until
 * ff_reconcile_admission_cleanup frees it. Freed room releases waiting
 * executions.
 */
PG_FUNCTION_INFO_V1(ff_reconcile_quota_counters);
Datum
ff_reconcile_quota_counters(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr list_plan = NULL;
	static SPIPlanPtr leak_plan = NULL;
	static SPIPlanPtr count_plan = NULL;
	static const Oid list_types[1] = {INT4OID};
	static const Oid types[2] = {INT2OID, UUIDOID};
	int32		batch = ff_arg_batch_size(fcinfo, 0);
	int64		now;
	int32		changed = 0;
	Datum		v[3];
	int			n;
	int16	   *pks;
	pg_uuid_t  *ids;

	SPI_connect();
	now = ff_now_ms();
	/* policies whose counter disagrees with the slots, or that hold leaked slots */
	ff_prepare(&list_plan,
			   "SELECT q.partition_key, q.quota_policy_id FROM ff_quota_policy q "
			   "WHERE q.active_concurrency <> (SELECT count(*) FROM ff_quota_admitted a "
			   "    WHERE a.partition_key = q.partition_key AND a.quota_policy_id = q.quota_policy_id "
			   "    AND a.holds_slot) "
			   "OR EXISTS (SELECT 1 FROM ff_quota_admitted a LEFT JOIN ff_execution e "
			   "    ON e.partition_key = ff_execution_partition(a.execution_id) "
			   "    AND e.execution_id = split_part(a.execution_id, '}:', 2)::uuid "
			   "    WHERE a.partition_key = q.partition_key AND a.quota_policy_id = q.quota_policy_id "
			   "    AND a.holds_slot AND a.expires_at_ms IS NULL "
			   "    AND (e.execution_id IS NULL OR e.lifecycle_phase <> 'active')) "
			   "LIMIT $1",
			   1, list_types);
	ff_prepare(&leak_plan,
			   "DELETE FROM ff_quota_admitted a WHERE a.partition_key = $1 AND a.quota_policy_id = $2 "
			   "AND a.holds_slot AND a.expires_at_ms IS NULL AND NOT EXISTS (SELECT 1 FROM ff_execution e "
			   "    WHERE e.partition_key = ff_execution_partition(a.execution_id) "
			   "    AND e.execution_id = split_part(a.execution_id, '}:', 2)::uuid "
			   "    AND e.lifecycle_phase = 'active')",
			   2, types);
	ff_prepare(&count_plan,
			   "SELECT count(*) FROM ff_quota_admitted WHERE partition_key = $1 AND quota_policy_id = $2 "
			   "AND holds_slot",
			   2, types);
	v[0] = Int32GetDatum(batch);
	ff_execute(list_plan, v, NULL, false, 0);
	n = (int) SPI_processed;
	pks = palloc0(sizeof(int16) * Max(n, 1));
	ids = palloc0(sizeof(pg_uuid_t) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		pks[i] = (int16) ff_get_int32(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, 0);
		ff_get_uuid(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &ids[i]);
	}
	for (int i = 0; i < n; i++)
	{
		QuotaRow	q;
		int64		held;

		if (!load_quota(pks[i], &ids[i], true, &q))
			continue;
		v[0] = Int16GetDatum(pks[i]);
		v[1] = ff_uuid_datum(&ids[i]);
		ff_execute(leak_plan, v, NULL, false, 0);
		ff_execute(count_plan, v, NULL, false, 1);
		held = ff_get_int64(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, 0);
		if (held != q.active)
		{
			set_active(&q, held, now);
			changed++;
			unblock_waiters(&q, room(&q, held), now);
		}
	}
	SPI_finish();
	PG_RETURN_INT32(changed);
}

/*
 * ff_reconcile_quota_unblock releases executions a quota holds back: rate
 * waits whose retry time came (the claim checks the window again),
 * concurrency waits of policies with free slots (oldest first, as many as
 * there is room), and every wait of a policy that is gone or unlimited;
 * rows of executions no longer held back are dropped. Executions are
 * locked first here.
 */
PG_FUNCTION_INFO_V1(ff_reconcile_quota_unblock);
Datum
ff_reconcile_quota_unblock(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[2] = {INT8OID, INT4OID};
	int32		batch = ff_arg_batch_size(fcinfo, 0);
	int64		now;
	int32		changed = 0;
	Datum		v[2];
	SPITupleTable *rows;
	uint64		nrows;

	SPI_connect();
	now = ff_now_ms();
	ff_prepare(&plan,
			   "SELECT partition_key, quota_policy_id, exec_partition, execution_id FROM ("
			   "  SELECT b.*, row_number() OVER (PARTITION BY b.partition_key, b.quota_policy_id, b.reason "
			   "                                 ORDER BY b.blocked_at_ms, b.exec_partition, b.execution_id) AS rn, "
			   "         q.quota_policy_id IS NULL OR (q.max_requests_per_window = 0 AND q.active_concurrency_cap = 0) AS unlimited, "
			   "         CASE WHEN q.active_concurrency_cap > 0 THEN q.active_concurrency_cap - q.active_concurrency "
			   "              ELSE 2147483647 END AS free, "
			   "         e.execution_id IS NULL OR e.eligibility_state <> 'blocked_by_quota' AS stale "
			   "  FROM ff_quota_blocked b "
			   "  LEFT JOIN ff_quota_policy q ON q.partition_key = b.partition_key AND q.quota_policy_id = b.quota_policy_id "
			   "  LEFT JOIN ff_execution e ON e.partition_key = b.exec_partition AND e.execution_id = b.execution_id) s "
			   "WHERE stale OR unlimited OR (reason = 'rate' AND retry_at_ms <= $1) "
			   "   OR (reason = 'concurrency' AND rn <= free) "
			   "ORDER BY blocked_at_ms LIMIT $2",
			   2, types);
	v[0] = Int64GetDatum(now);
	v[1] = Int32GetDatum(batch);
	ff_execute(plan, v, NULL, false, 0);
	rows = SPI_tuptable;
	nrows = SPI_processed;
	for (uint64 i = 0; i < nrows; i++)
	{
		HeapTuple	t = rows->vals[i];
		pg_uuid_t	quota;
		FFExecKey	key;
		FFExecRow	exec;

		ff_get_uuid(t, rows->tupdesc, 2, &quota);
		key.partition = (int16) ff_get_int32(t, rows->tupdesc, 3, 0);
		ff_get_uuid(t, rows->tupdesc, 4, &key.uuid);
		if (ff_exec_load(&key, &exec, true))
			(void) ff_admission_unblock(&exec, "blocked_by_quota", now);
		ff_quota_forget_execution(&quota, &key);
		changed++;
	}
	SPI_finish();
	PG_RETURN_INT32(changed);
}

/*
 * ff_reconcile_admission_cleanup deletes expired dedup keys of budget
 * reports, expired admission guards (a slot one held frees, releasing a
 * waiter) and window entries older than their policy's window (24 hours
 * for undefined policies).
 */
PG_FUNCTION_INFO_V1(ff_reconcile_admission_cleanup);
Datum
ff_reconcile_admission_cleanup(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr guard_plan = NULL;
	static SPIPlanPtr window_plan = NULL;
	static const Oid types[2] = {INT8OID, INT4OID};
	int32		batch = ff_arg_batch_size(fcinfo, 0);
	int64		now;
	int32		changed;
	Datum		v[2];
	SPITupleTable *rows;
	uint64		nrows;

	SPI_connect();
	now = ff_now_ms();
	changed = ff_budget_cleanup_dedup(now, batch);

	ff_prepare(&guard_plan,
			   "SELECT quota_policy_id, execution_id FROM ff_quota_admitted "
			   "WHERE expires_at_ms <= $1 ORDER BY expires_at_ms LIMIT $2",
			   2, types);
	v[0] = Int64GetDatum(now);
	v[1] = Int32GetDatum(Max(1, batch - changed));
	ff_execute(guard_plan, v, NULL, false, 0);
	rows = SPI_tuptable;
	nrows = SPI_processed;
	for (uint64 i = 0; i < nrows; i++)
	{
		pg_uuid_t	quota;
		int32		unblocked;
		char	   *wire = ff_get_cstring(rows->vals[i], rows->tupdesc, 2);
		static SPIPlanPtr recheck_plan = NULL;
		static const Oid recheck_types[4] = {INT2OID, UUIDOID, TEXTOID, INT8OID};
		Datum		rv[4];

		ff_get_uuid(rows->vals[i], rows->tupdesc, 1, &quota);
		/* a concurrent admission may have renewed it */
		ff_prepare(&recheck_plan,
				   "SELECT 1 FROM ff_quota_admitted WHERE partition_key = $1 AND quota_policy_id = $2 "
				   "AND execution_id = $3 AND expires_at_ms <= $4 FOR UPDATE",
				   4, recheck_types);
		rv[0] = Int16GetDatum(ff_budget_partition(&quota));
		rv[1] = ff_uuid_datum(&quota);
		rv[2] = CStringGetTextDatum(wire);
		rv[3] = Int64GetDatum(now);
		ff_execute(recheck_plan, rv, NULL, false, 1);
		if (SPI_processed == 0)
			continue;
		release_slot(&quota, wire, true, now, &unblocked);
		changed++;
	}

	ff_prepare(&window_plan,
			   "DELETE FROM ff_quota_window WHERE ctid = ANY (ARRAY("
			   "  SELECT w.ctid FROM ff_quota_window w LEFT JOIN ff_quota_policy q "
			   "    ON q.partition_key = w.partition_key AND q.quota_policy_id = w.quota_policy_id "
			   "  WHERE w.admitted_at_ms <= $1 - CASE WHEN q.defined THEN q.requests_per_window_seconds * 1000 "
			   "                                      ELSE 86400000 END "
			   "  LIMIT $2))",
			   2, types);
	v[1] = Int32GetDatum(Max(1, batch - changed));
	ff_execute(window_plan, v, NULL, false, 0);
	changed += (int32) SPI_processed;
	SPI_finish();
	PG_RETURN_INT32(changed);
}

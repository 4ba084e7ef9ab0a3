/*
 * reconcile.c
 *		One-shot reconcilers: lease expiry, attempt timeout, delayed
 *		promotion and execution deadline. Each handles at most batch_size
 *		executions in the caller's transaction and returns how many it
 *		changed; rows another transaction holds are skipped, not waited for.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"

#include "flowfabric.h"

typedef struct DueItem
{
	FFExecKey	key;
	int32		attempt_index;
} DueItem;

/*
 * find_due runs a scan query ($1 now, $2 limit) returning (partition_key,
 * execution_id[, attempt_index]) and copies the keys out of SPI's result.
 */
static List *
find_due(SPIPlanPtr plan, int64 now, int32 batch)
{
	Datum		v[2] = {Int64GetDatum(now), Int32GetDatum(batch)};
	SPITupleTable *tt;
	List	   *items = NIL;

	ff_execute(plan, v, NULL, true, 0);
	tt = SPI_tuptable;
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		DueItem    *item = palloc(sizeof(DueItem));
		bool		isnull;

		item->key.partition = DatumGetInt16(SPI_getbinval(tt->vals[i], tt->tupdesc, 1, &isnull));
		ff_get_uuid(tt->vals[i], tt->tupdesc, 2, &item->key.uuid);
		item->attempt_index = tt->tupdesc->natts >= 3 ? ff_get_int32(tt->vals[i], tt->tupdesc, 3, 0) : -1;
		items = lappend(items, item);
	}
	return items;
}

/* lock_skip locks an execution unless another transaction holds it. */
static bool
lock_skip(const FFExecKey *key, FFExecRow *row)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[2] = {INT2OID, UUIDOID};
	Datum		v[2];

	ff_prepare(&plan,
			   "SELECT " FF_EXEC_COLUMNS " FROM ff_execution "
			   "WHERE partition_key = $1 AND execution_id = $2 FOR UPDATE SKIP LOCKED",
			   2, types);
	v[0] = Int16GetDatum(key->partition);
	v[1] = ff_uuid_datum(&key->uuid);
	ff_execute(plan, v, NULL, false, 1);
	if (SPI_processed == 0)
		return false;
	ff_exec_from_tuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, row);
	return true;
}

/*
 * lock_current locks a due item's execution and its current attempt, if the
 * item still names the current attempt of an active execution.
 */
static bool
lock_current(const DueItem *item, FFExecRow *exec, FFAttemptRow *attempt)
{
	if (!lock_skip(&item->key, exec))
		return false;
	if (!ff_exec_is(exec, "active") || exec->attempt_index != item->attempt_index)
		return false;
	return ff_attempt_load(&item->key, item->attempt_index, attempt, true);
}

typedef bool (*ItemHandler) (const DueItem *item, int64 now);

/*
 * run_due runs a reconciler: the scan query ($1 now, $2 batch size) finds
 * due items, the handler re-checks and changes each under its row locks.
 */
static Datum
run_due(FunctionCallInfo fcinfo, SPIPlanPtr *cache, const char *scan_sql, ItemHandler handler)
{
	static const Oid types[2] = {INT8OID, INT4OID};
	int32		batch = ff_arg_batch_size(fcinfo, 0);
	int64		now = ff_now_ms();
	int32		changed = 0;
	ListCell   *lc;

	SPI_connect();
	foreach(lc, find_due(ff_prepare(cache, scan_sql, 2, types), now, batch))
	{
		if (handler(lfirst(lc), now))
			changed++;
	}
	SPI_finish();
	PG_RETURN_INT32(changed);
}

/*
 * Lease expiry: an active execution whose lease ran out becomes
 * lease_expired_reclaimable; the next claim on its lane reclaims it with a
 * new attempt, up to the policy's max_reclaim_count.
 */
static bool
expire_lease(const DueItem *item, int64 now)
{
	FFExecRow	exec;
	FFAttemptRow attempt;

	if (!lock_current(item, &exec, &attempt) ||
		strcmp(exec.sv.ownership_state, "leased") != 0 ||
		attempt.lease_expires_at_ms == FF_NULL_MS || attempt.lease_expires_at_ms > now)
		return false;
	ff_attempt_end(&exec, &attempt, "interrupted_reclaimed", "expired", "lease_expired", now);
	ff_exec_set_state(&exec, &ff_sv_lease_expired);
	exec.blocking_detail = "lease expired, awaiting reclaim";
	exec.last_mutation_at_ms = now;
	ff_exec_store(&exec);
	return true;
}

PG_FUNCTION_INFO_V1(ff_reconcile_lease_expiry);
Datum
ff_reconcile_lease_expiry(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;

	return run_due(fcinfo, &plan,
				   "SELECT partition_key, execution_id, attempt_index FROM ff_attempt "
				   "WHERE lease_expires_at_ms <= $1 ORDER BY lease_expires_at_ms LIMIT $2",
				   expire_lease);
}

/*
 * Attempt timeout: an attempt running longer than the policy's
 * attempt_timeout_ms fails with category "timeout": retried per the retry
 * policy, else the execution expires.
 */
static bool
time_out_attempt(const DueItem *item, int64 now)
{
	FFExecRow	exec;
	FFAttemptRow attempt;
	int64		delay_until;

	if (!lock_current(item, &exec, &attempt) ||
		strcmp(exec.sv.ownership_state, "leased") != 0 ||
		attempt.timeout_at_ms == FF_NULL_MS || attempt.timeout_at_ms > now)
		return false;
	ff_record_failure(&exec, &attempt, "attempt_timeout", "timeout");
	delay_until = ff_retry_decision(&exec, "timeout", now);
	attempt.retry_delay_until_ms = delay_until;
	ff_attempt_end(&exec, &attempt, "ended_failure", "expired", "attempt_timeout", now);
	if (delay_until != FF_NULL_MS)
		ff_schedule_retry(&exec, delay_until, now);
	else
		ff_finish_execution(&exec, &ff_sv_expired, "expired", now);
	return true;
}

PG_FUNCTION_INFO_V1(ff_reconcile_attempt_timeout);
Datum
ff_reconcile_attempt_timeout(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;

	return run_due(fcinfo, &plan,
				   "SELECT partition_key, execution_id, attempt_index FROM ff_attempt "
				   "WHERE timeout_at_ms <= $1 ORDER BY timeout_at_ms LIMIT $2",
				   time_out_attempt);
}

/*
 * Delayed promotion: delayed executions (created with delay_until, delayed
 * by their worker, or backing off before a retry) become claimable when due.
 */
PG_FUNCTION_INFO_V1(ff_reconcile_delayed_promotion);
Datum
ff_reconcile_delayed_promotion(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[2] = {INT8OID, INT4OID};
	int32		batch = ff_arg_batch_size(fcinfo, 0);
	Datum		v[2];
	int32		changed;

	SPI_connect();
	ff_prepare(&plan,
			   "UPDATE ff_execution e SET eligibility_state = 'eligible_now', "
			   "blocking_reason = 'waiting_for_worker', public_state = 'waiting', "
			   "blocking_detail = NULL, delay_until_ms = NULL, last_mutation_at_ms = $1 "
			   "FROM (SELECT partition_key, execution_id FROM ff_execution "
			   "      WHERE eligibility_state = 'not_eligible_until_time' "
			   "        AND delay_until_ms <= $1 "
			   "      ORDER BY delay_until_ms LIMIT $2 FOR UPDATE SKIP LOCKED) due "
			   "WHERE e.partition_key = due.partition_key AND e.execution_id = due.execution_id",
			   2, types);
	v[0] = Int64GetDatum(ff_now_ms());
	v[1] = Int32GetDatum(batch);
	ff_execute(plan, v, NULL, false, 0);
	changed = (int32) SPI_processed;
	SPI_finish();
	PG_RETURN_INT32(changed);
}

/*
 * Execution deadline: a non-terminal execution past its
 * execution_deadline_at expires, whatever it is doing.
 */
static bool
expire_past_deadline(const DueItem *item, int64 now)
{
	FFExecRow	exec;
	FFAttemptRow attempt;
	bool		has_attempt;

	if (!lock_skip(&item->key, &exec) || ff_exec_is(&exec, "terminal") ||
		exec.deadline_at_ms == FF_NULL_MS || exec.deadline_at_ms > now)
		return false;
	has_attempt = exec.total_attempt_count > 0 &&
		ff_attempt_load(&exec.key, exec.attempt_index, &attempt, true);
	ff_record_failure(&exec, has_attempt ? &attempt : NULL, "execution_deadline", "timeout");
	if (has_attempt)
		ff_attempt_end(&exec, &attempt, "ended_failure", "expired", "execution_deadline", now);
	ff_finish_execution(&exec, &ff_sv_expired, "expired", now);
	return true;
}

PG_FUNCTION_INFO_V1(ff_reconcile_execution_deadline);
Datum
ff_reconcile_execution_deadline(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;

	return run_due(fcinfo, &plan,
				   "SELECT partition_key, execution_id FROM ff_execution "
				   "WHERE deadline_at_ms <= $1 AND lifecycle_phase <> 'terminal' "
				   "ORDER BY deadline_at_ms LIMIT $2",
				   expire_past_deadline);
}

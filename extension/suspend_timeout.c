/*
 * suspend_timeout.c
 *		Suspension timeouts and pending-waitpoint expiry: ff_expire_suspension
 *		(one execution) and the one-shot reconcilers
 *		ff_reconcile_suspension_timeout and
 *		ff_reconcile_pending_waitpoint_expiry.
 *
 * Timeout behaviours (the suspension's timeout_behavior):
 *	fail		terminal failed (failure "suspension_timeout:fail")
 *	cancel		terminal cancelled (cancellation_reason suspension_timeout)
 *	expire		terminal expired (failure "suspension_timeout:expire")
 *	auto_resume_with_timeout_signal
 *				resumed: a synthetic "timeout" signal is recorded (the resumed
 *				worker sees it in ff_observe_signals) and the execution is
 *				claimable again
 *	escalate	stays suspended for an operator: reason_code becomes
 *				waiting_for_operator_review, blocking_reason
 *				paused_by_operator, and the timeout is cleared
 * Terminal behaviours and auto-resume close the suspension and its
 * waitpoints (close_reason timed_out_<behaviour>).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"

#include "suspend.h"

static void
insert_timeout_signal(const FFSuspension *s, const pg_uuid_t *signal_id, int64 now)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[5] = {INT2OID, UUIDOID, UUIDOID, UUIDOID, INT8OID};
	Datum		v[5];

	ff_prepare(&plan,
			   "INSERT INTO ff_signal (partition_key, execution_id, signal_id, suspension_id, "
			   "signal_name, signal_category, source_type, source_identity, created_at_ms, "
			   "accepted_at_ms, effect, satisfier) "
			   "VALUES ($1, $2, $3, $4, 'timeout', 'timeout', 'system', 'suspension_timeout', "
			   "$5, $5, 'timeout', true)",
			   5, types);
	v[0] = Int16GetDatum(s->key.partition);
	v[1] = ff_uuid_datum(&s->key.uuid);
	v[2] = ff_uuid_datum(signal_id);
	v[3] = ff_uuid_datum(&s->suspension_id);
	v[4] = Int64GetDatum(now);
	ff_execute(plan, v, NULL, false, 0);
}

/*
 * apply_timeout applies the suspension's timeout behaviour to its locked,
 * suspended execution and returns the behaviour.
 */
static const char *
apply_timeout(FFExecRow *exec, FFSuspension *s, int64 now)
{
	const char *b = s->timeout_behavior;
	FFAttemptRow attempt;
	bool		has_attempt;

	if (strcmp(b, "escalate") == 0)
	{
		int64		was = s->timeout_at_ms;

		s->reason_code = "waiting_for_operator_review";
		s->timeout_at_ms = FF_NULL_MS;
		ff_suspension_store(s);
		exec->sv.blocking_reason = "paused_by_operator";
		exec->blocking_detail = psprintf("suspension escalated: timeout at %lld", (long long) was);
		exec->last_mutation_at_ms = now;
		ff_exec_store(exec);
		return b;
	}
	if (strcmp(b, "auto_resume_with_timeout_signal") == 0)
	{
		pg_uuid_t	signal_id;

		ff_random_uuid(&signal_id);
		insert_timeout_signal(s, &signal_id, now);
		ff_suspension_close(s, "timed_out_auto_resume", &signal_id, now);
		ff_exec_resume(exec, 0, now);
		return b;
	}

	ff_suspension_close(s, psprintf("timed_out_%s", b), NULL, now);
	has_attempt = exec->total_attempt_count > 0 &&
		ff_attempt_load(&exec->key, exec->attempt_index, &attempt, true);
	if (strcmp(b, "cancel") == 0)
	{
		if (has_attempt)
			ff_attempt_end(exec, &attempt, "ended_cancelled", "expired", "suspension_timeout", now);
		exec->cancellation_reason = "suspension_timeout";
		exec->cancelled_by = "system_timeout_policy";
		ff_finish_execution(exec, &ff_sv_cancelled, "cancelled", now);
		return b;
	}
	ff_record_failure(exec, has_attempt ? &attempt : NULL, psprintf("suspension_timeout:%s", b),
					  "timeout");
	if (has_attempt)
		ff_attempt_end(exec, &attempt, "ended_failure", "expired", "suspension_timeout", now);
	if (strcmp(b, "expire") == 0)
		ff_finish_execution(exec, &ff_sv_expired, "expired", now);
	else
		ff_finish_execution(exec, &ff_sv_failed, "failed", now);
	return b;
}

/*
 * ff_expire_suspension applies the timeout of one execution's suspension if
 * it is due. Outcome: the behaviour applied, or not_suspended,
 * no_active_suspension, not_yet_due.
 */
PG_FUNCTION_INFO_V1(ff_expire_suspension);
Datum
ff_expire_suspension(PG_FUNCTION_ARGS)
{
	MemoryContext outer = CurrentMemoryContext;
	char	   *execution_id = ff_arg_cstring_required(fcinfo, 0, "execution_id");
	FFExecKey	key;
	FFExecRow	exec;
	FFSuspension s;
	const char *outcome;
	int64		now;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	Datum		result;

	ff_parse_execution_id(execution_id, &key);
	SPI_connect();
	now = ff_now_ms();
	if (!ff_exec_load(&key, &exec, true))
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_FOUND),
				 errmsg("execution_not_found: execution %s does not exist", execution_id)));
	if (!ff_exec_is(&exec, "suspended"))
		outcome = "not_suspended";
	else if (!ff_suspension_load_open(&key, &s))
		outcome = "no_active_suspension";
	else if (s.timeout_at_ms == FF_NULL_MS || s.timeout_at_ms > now)
		outcome = "not_yet_due";
	else
		outcome = apply_timeout(&exec, &s, now);
	values[0] = CStringGetTextDatum(outcome);
	values[1] = CStringGetTextDatum(ff_derive_public_state(exec.sv.lifecycle_phase,
														   exec.sv.eligibility_state,
														   exec.sv.terminal_outcome));
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

/* Reconcilers */

typedef struct DueRow
{
	FFExecKey	key;
	pg_uuid_t	waitpoint_id;
} DueRow;

/* find_due runs a scan ($1 now, $2 limit) of (partition_key, execution_id[, waitpoint_id]). */
static List *
find_due(SPIPlanPtr plan, int64 now, int32 batch)
{
	Datum		v[2] = {Int64GetDatum(now), Int32GetDatum(batch)};
	SPITupleTable *tt;
	List	   *rows = NIL;

	ff_execute(plan, v, NULL, true, 0);
	tt = SPI_tuptable;
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		DueRow	   *row = palloc0(sizeof(DueRow));
		bool		isnull;

		row->key.partition = DatumGetInt16(SPI_getbinval(tt->vals[i], tt->tupdesc, 1, &isnull));
		ff_get_uuid(tt->vals[i], tt->tupdesc, 2, &row->key.uuid);
		if (tt->tupdesc->natts >= 3)
			ff_get_uuid(tt->vals[i], tt->tupdesc, 3, &row->waitpoint_id);
		rows = lappend(rows, row);
	}
	return rows;
}

/* lock_skip locks an execution unless another transaction holds it. */
static bool
lock_skip(const FFExecKey *key, FFExecRow *row)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[2] = {INT2OID, UUIDOID};
	Datum		v[2] = {Int16GetDatum(key->partition), ff_uuid_datum(&key->uuid)};

	ff_prepare(&plan,
			   "SELECT " FF_EXEC_COLUMNS " FROM ff_execution "
			   "WHERE partition_key = $1 AND execution_id = $2 FOR UPDATE SKIP LOCKED",
			   2, types);
	ff_execute(plan, v, NULL, false, 1);
	if (SPI_processed == 0)
		return false;
	ff_exec_from_tuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, row);
	return true;
}

/*
 * ff_reconcile_suspension_timeout applies the timeout behaviour of up to
 * batch_size open suspensions whose timeout_at has passed, oldest first,
 * skipping executions another transaction holds. Returns how many it
 * changed.
 */
PG_FUNCTION_INFO_V1(ff_reconcile_suspension_timeout);
Datum
ff_reconcile_suspension_timeout(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[2] = {INT8OID, INT4OID};
	int32		batch = ff_arg_batch_size(fcinfo, 0);
	int64		now = ff_now_ms();
	int32		changed = 0;
	ListCell   *lc;

	SPI_connect();
	ff_prepare(&plan,
			   "SELECT partition_key, execution_id FROM ff_suspension "
			   "WHERE closed_at_ms IS NULL AND timeout_at_ms <= $1 "
			   "ORDER BY timeout_at_ms LIMIT $2",
			   2, types);
	foreach(lc, find_due(plan, now, batch))
	{
		DueRow	   *row = lfirst(lc);
		FFExecRow	exec;
		FFSuspension s;

		if (!lock_skip(&row->key, &exec) || !ff_exec_is(&exec, "suspended") ||
			!ff_suspension_load_open(&row->key, &s) ||
			s.timeout_at_ms == FF_NULL_MS || s.timeout_at_ms > now)
			continue;
		(void) apply_timeout(&exec, &s, now);
		changed++;
	}
	SPI_finish();
	PG_RETURN_INT32(changed);
}

/*
 * ff_reconcile_pending_waitpoint_expiry closes up to batch_size pending
 * waitpoints (never bound by a suspension) whose expires_at has passed
 * (close_reason never_committed). Their buffered signals stay recorded.
 */
PG_FUNCTION_INFO_V1(ff_reconcile_pending_waitpoint_expiry);
Datum
ff_reconcile_pending_waitpoint_expiry(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[2] = {INT8OID, INT4OID};
	int32		batch = ff_arg_batch_size(fcinfo, 0);
	int64		now = ff_now_ms();
	int32		changed = 0;
	ListCell   *lc;

	SPI_connect();
	ff_prepare(&plan,
			   "SELECT partition_key, execution_id, waitpoint_id FROM ff_waitpoint "
			   "WHERE state = 'pending' AND expires_at_ms <= $1 "
			   "ORDER BY expires_at_ms LIMIT $2",
			   2, types);
	foreach(lc, find_due(plan, now, batch))
	{
		DueRow	   *row = lfirst(lc);
		FFExecRow	exec;
		FFWaitpoint wp;

		if (!lock_skip(&row->key, &exec) ||
			!ff_waitpoint_lock(row->key.partition, &row->waitpoint_id, &wp) ||
			strcmp(wp.state, "pending") != 0 ||
			wp.expires_at_ms == FF_NULL_MS || wp.expires_at_ms > now)
			continue;
		ff_waitpoint_close(&wp, "never_committed", now);
		changed++;
	}
	SPI_finish();
	PG_RETURN_INT32(changed);
}

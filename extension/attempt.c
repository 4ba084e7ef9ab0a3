/*
 * attempt.c
 *		Attempt rows, lease fencing, and the calls a lease holder makes with
 *		its handle: renew, progress, complete, fail, cancel, delay.
 *
 * Fencing: a handle is honoured only while its attempt is the execution's
 * current attempt, the execution is active and leased, and the attempt's
 * lease (id, epoch, attempt id) is the one the handle names and has not
 * expired. Every transition away from "active and leased" releases the
 * attempt's lease, so a stale handle can never act again.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"

#include "flowfabric.h"
#include "bgworker.h"
#include "budget.h"
#include "stream.h"
#include "writeset.h"

#define ATTEMPT_COLUMNS FF_ATTEMPT_COLUMNS
#define ATTEMPT_NCOLS 22

/*
 * ff_attempt_from_cols decodes the FF_ATTEMPT_COLUMNS of a deformed row,
 * starting after its first `first` columns.
 */
void
ff_attempt_from_cols(const FFTupleCols *c, int first, FFAttemptRow *row)
{
	bool		isnull;
	Datum		detail;

	row->key.partition = DatumGetInt16(ff_col_datum(c, first + 1, &isnull));
	ff_col_uuid(c, first + 2, &row->key.uuid);
	row->attempt_index = ff_col_int32(c, first + 3, 0);
	ff_col_uuid(c, first + 4, &row->attempt_id);
	row->attempt_type = ff_intern_literal(ff_col_cstring(c, first + 5));
	row->attempt_lifecycle = ff_intern_literal(ff_col_cstring(c, first + 6));
	row->worker_id = ff_col_cstring(c, first + 7);
	row->worker_instance_id = ff_col_cstring(c, first + 8);
	ff_col_uuid(c, first + 9, &row->lease_id);
	row->lease_epoch = ff_col_int64(c, first + 10, 0);
	row->lease_ttl_ms = ff_col_int64(c, first + 11, 0);
	row->lease_acquired_at_ms = ff_col_int64(c, first + 12, FF_NULL_MS);
	row->lease_renewed_at_ms = ff_col_int64(c, first + 13, FF_NULL_MS);
	row->lease_expires_at_ms = ff_col_int64(c, first + 14, FF_NULL_MS);
	row->timeout_at_ms = ff_col_int64(c, first + 15, FF_NULL_MS);
	row->started_at_ms = ff_col_int64(c, first + 16, FF_NULL_MS);
	row->ended_at_ms = ff_col_int64(c, first + 17, FF_NULL_MS);
	row->failure_message = ff_col_cstring(c, first + 18);
	row->failure_category = ff_col_cstring(c, first + 19);
	detail = ff_col_datum(c, first + 20, &isnull);
	row->failure_detail = isnull ? NULL : DatumGetByteaPCopy(detail);
	row->retry_delay_until_ms = ff_col_int64(c, first + 21, FF_NULL_MS);
	row->end_reason = ff_col_cstring(c, first + 22);
}

/* ff_attempt_from_tuple decodes a row of the FF_ATTEMPT_COLUMNS columns. */
void
ff_attempt_from_tuple(HeapTuple t, TupleDesc d, FFAttemptRow *row)
{
	FFTupleCols c;

	ff_tuple_deform(t, d, &c);
	ff_attempt_from_cols(&c, 0, row);
	pfree(c.values);
	pfree(c.nulls);
}

/*
 * ff_attempt_load reads one attempt, optionally locking it (after its
 * execution: the engine's lock order). A batch's rows, locked by its own
 * statement, come from the write scope (ff_writes_take_attempt).
 */
bool
ff_attempt_load(const FFExecKey *key, int32 attempt_index, FFAttemptRow *row, bool lock)
{
	static SPIPlanPtr plan_lock = NULL;
	static SPIPlanPtr plan_read = NULL;
	static const Oid types[3] = {INT2OID, UUIDOID, INT4OID};
	SPIPlanPtr	plan;
	Datum		v[3];

	if (lock && ff_writes_take_attempt(key, attempt_index, row))
		return true;
	if (lock)
		plan = ff_prepare(&plan_lock,
						  "SELECT " ATTEMPT_COLUMNS " FROM ff_attempt WHERE partition_key = $1 "
						  "AND execution_id = $2 AND attempt_index = $3 FOR UPDATE",
						  3, types);
	else
		plan = ff_prepare(&plan_read,
						  "SELECT " ATTEMPT_COLUMNS " FROM ff_attempt WHERE partition_key = $1 "
						  "AND execution_id = $2 AND attempt_index = $3",
						  3, types);
	ff_writes_flush_key(key, attempt_index);
	v[0] = Int16GetDatum(key->partition);
	v[1] = ff_uuid_datum(&key->uuid);
	v[2] = Int32GetDatum(attempt_index);
	ff_execute(plan, v, NULL, !lock, 1);
	if (SPI_processed == 0)
		return false;
	ff_attempt_from_tuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, row);
	return true;
}

static void
attempt_params(const FFAttemptRow *row, Datum *v, char *n)
{
	memset(n, ' ', ATTEMPT_NCOLS);
	n[ATTEMPT_NCOLS] = '\0';
	v[0] = Int16GetDatum(row->key.partition);
	v[1] = ff_uuid_datum(&row->key.uuid);
	v[2] = Int32GetDatum(row->attempt_index);
	v[3] = ff_uuid_datum(&row->attempt_id);
	v[4] = CStringGetTextDatum(row->attempt_type);
	v[5] = CStringGetTextDatum(row->attempt_lifecycle);
	v[6] = CStringGetTextDatum(row->worker_id);
	v[7] = CStringGetTextDatum(row->worker_instance_id);
	v[8] = ff_uuid_datum(&row->lease_id);
	v[9] = Int64GetDatum(row->lease_epoch);
	v[10] = Int64GetDatum(row->lease_ttl_ms);
	v[11] = Int64GetDatum(row->lease_acquired_at_ms);
	v[12] = ff_ms_datum(row->lease_renewed_at_ms, &n[12]);
	v[13] = ff_ms_datum(row->lease_expires_at_ms, &n[13]);
	v[14] = ff_ms_datum(row->timeout_at_ms, &n[14]);
	v[15] = Int64GetDatum(row->started_at_ms);
	v[16] = ff_ms_datum(row->ended_at_ms, &n[16]);
	v[17] = ff_text_datum(row->failure_message, &n[17]);
	v[18] = ff_text_datum(row->failure_category, &n[18]);
	v[19] = row->failure_detail ? PointerGetDatum(row->failure_detail) : (Datum) 0;
	n[19] = row->failure_detail ? ' ' : 'n';
	v[20] = ff_ms_datum(row->retry_delay_until_ms, &n[20]);
	v[21] = ff_text_datum(row->end_reason, &n[21]);
}

/*
 * write_attempt stages an attempt row (inside a write scope), telling the
 * reconciler about its due times: the lease expiry and the attempt timeout.
 */
static void
write_attempt(FFWritePart part, const FFAttemptRow *row)
{
	Datum		v[ATTEMPT_NCOLS];
	char		n[ATTEMPT_NCOLS + 1];

	attempt_params(row, v, n);
	if (row->lease_expires_at_ms != FF_NULL_MS)
		ff_bgw_note_due(row->lease_expires_at_ms);
	if (row->timeout_at_ms != FF_NULL_MS)
		ff_bgw_note_due(row->timeout_at_ms);
	ff_write_stage_spi(part, v, n);
}

void
ff_attempt_insert(const FFAttemptRow *row)
{
	write_attempt(FF_WRITE_ATTEMPT_INSERT, row);
}

void
ff_attempt_store(const FFAttemptRow *row)
{
	write_attempt(FF_WRITE_ATTEMPT_UPDATE, row);
}

static bool
attempt_is_over(const FFAttemptRow *row)
{
	return strncmp(row->attempt_lifecycle, "ended_", 6) == 0 ||
		strcmp(row->attempt_lifecycle, "interrupted_reclaimed") == 0;
}

/*
 * ff_attempt_end ends (or, with lifecycle "suspended", parks) an attempt:
 * its lease is released with a lease event, and its timeout disarmed.
 */
void
ff_attempt_end(const FFExecRow *exec, FFAttemptRow *attempt, const char *lifecycle,
			   const char *event_type, const char *reason, int64 now)
{
	if (attempt_is_over(attempt))
		return;
	if (attempt->lease_expires_at_ms != FF_NULL_MS)
		ff_emit_lease_event(exec, attempt, event_type, reason, now);
	attempt->lease_expires_at_ms = FF_NULL_MS;
	attempt->timeout_at_ms = FF_NULL_MS;
	attempt->attempt_lifecycle = lifecycle;
	attempt->end_reason = (char *) reason;
	if (strcmp(lifecycle, "suspended") != 0)
		attempt->ended_at_ms = now;
	ff_attempt_store(attempt);
	/* an ended attempt's output stream closes with it (stream.c) */
	if (strcmp(lifecycle, "suspended") != 0)
		ff_stream_attempt_ended(exec, attempt, now);
	/* the lease's quota slot frees with it (budget_admission.c) */
	ff_admission_attempt_ended(exec, lifecycle, now);
}

/* Fencing */

/*
 * ff_fence_lock decodes the handle and locks its execution, then its attempt
 * (the engine's lock order), classifying how the handle stands.
 */
FFFenceResult
ff_fence_lock(bytea *raw, FFFence *f)
{
	FFHandle   *h = &f->handle;

	ff_handle_decode_postgres(raw, h);
	f->now = ff_now_ms();
	if (!ff_exec_load(&h->key, &f->exec, true))
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_FOUND),
				 errmsg("execution_not_found: execution %s does not exist", h->execution_id)));
	if (!ff_attempt_load(&h->key, (int32) h->attempt_index, &f->attempt, true))
		ereport(ERROR,
				(errcode(ERRCODE_FF_ATTEMPT_NOT_FOUND),
				 errmsg("attempt_not_found: execution %s has no attempt %u",
						h->execution_id, h->attempt_index)));

	/* flows, budgets and quotas read tables: their transitions write at once */
	ff_writes_hold(&f->exec);

	f->same_lease = memcmp(&f->attempt.lease_id, &h->lease_id, sizeof(pg_uuid_t)) == 0 &&
		memcmp(&f->attempt.attempt_id, &h->attempt_id, sizeof(pg_uuid_t)) == 0 &&
		f->attempt.lease_epoch == (int64) h->lease_epoch;

	/* an operator cancel or revoke ended this very lease (operator.c) */
	if (f->same_lease && f->attempt.end_reason != NULL &&
		(strcmp(f->attempt.end_reason, "operator_cancel") == 0 ||
		 strcmp(f->attempt.end_reason, "operator_revoke") == 0))
		return FF_FENCE_REVOKED;
	if (!ff_exec_is(&f->exec, "active"))
		return FF_FENCE_NOT_ACTIVE;
	if (!f->same_lease || f->exec.attempt_index != (int32) h->attempt_index ||
		f->exec.lease_epoch != (int64) h->lease_epoch)
		return FF_FENCE_STALE;
	if (strcmp(f->exec.sv.ownership_state, "lease_revoked") == 0)
		return FF_FENCE_REVOKED;
	if (strcmp(f->exec.sv.ownership_state, "leased") != 0 ||
		f->attempt.lease_expires_at_ms == FF_NULL_MS || f->attempt.lease_expires_at_ms <= f->now)
		return FF_FENCE_EXPIRED;
	return FF_FENCE_OK;
}

void
ff_fence_raise(const FFFence *f, FFFenceResult r)
{
	const FFHandle *h = &f->handle;

	switch (r)
	{
		case FF_FENCE_OK:
			return;
		case FF_FENCE_NOT_ACTIVE:
			ereport(ERROR,
					(errcode(ERRCODE_FF_EXECUTION_NOT_ACTIVE),
					 errmsg("execution_not_active: execution %s is not active", h->execution_id),
					 errdetail("{\"lifecycle_phase\": \"%s\", \"terminal_outcome\": \"%s\", "
							   "\"lease_epoch\": %lld, \"attempt_index\": %d}",
							   f->exec.sv.lifecycle_phase, f->exec.sv.terminal_outcome,
							   (long long) f->exec.lease_epoch, f->exec.attempt_index),
					 errhint("The lease this handle held is gone; drop the work.")));
			break;
		case FF_FENCE_STALE:
			ereport(ERROR,
					(errcode(ERRCODE_FF_STALE_LEASE),
					 errmsg("stale_lease: handle for attempt %u epoch %llu of execution %s is no longer current",
							h->attempt_index, (unsigned long long) h->lease_epoch, h->execution_id),
					 errdetail("The current attempt is %d with lease epoch %lld.",
							   f->exec.attempt_index, (long long) f->exec.lease_epoch),
					 errhint("Another worker owns this execution now; drop the work.")));
			break;
		case FF_FENCE_REVOKED:
			ereport(ERROR,
					(errcode(ERRCODE_FF_LEASE_REVOKED),
					 errmsg("lease_revoked: the lease on execution %s was revoked", h->execution_id)));
			break;
		case FF_FENCE_EXPIRED:
			ereport(ERROR,
					(errcode(ERRCODE_FF_LEASE_EXPIRED),
					 errmsg("lease_expired: the lease on execution %s expired", h->execution_id),
					 errhint("Renew leases well before lease_expires_at_ms.")));
			break;
	}
}

/*
 * fence_lock_ending locks for a call that ends the attempt with an end
 * reason starting with `reason`. It returns true when this very lease
 * already ended the attempt that way: the caller is retrying after a lost
 * reply, and must succeed again without acting twice, whatever the
 * execution has done since. An attempt a reconciler ended carries that
 * reconciler's reason, so it never passes for the worker's own call.
 * fence_lock_replay is the same without raising: f->result tells the rest.
 */
static bool
fence_lock_replay(bytea *raw, FFFence *f, const char *reason)
{
	f->result = ff_fence_lock(raw, f);
	return f->result != FF_FENCE_OK && f->same_lease && f->attempt.end_reason != NULL &&
		strncmp(f->attempt.end_reason, reason, strlen(reason)) == 0;
}

static bool
fence_lock_ending(bytea *raw, FFFence *f, const char *reason)
{
	if (fence_lock_replay(raw, f, reason))
		return true;
	ff_fence_raise(f, f->result);
	return false;
}

/* ff_fence_require locks and insists the handle holds a live lease. */
void
ff_fence_require(bytea *raw, FFFence *f)
{
	ff_fence_raise(f, ff_fence_lock(raw, f));
}

static bytea *
arg_handle(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "handle must not be null");
	return PG_GETARG_BYTEA_PP(0);
}

/*
 * ff_renew_handle, ff_complete_handle and ff_fail_handle are the bodies of
 * ff_renew, ff_complete and ff_fail for one handle, shared with the batch
 * calls (batch.c): they fence (raising only for a malformed handle or a
 * missing execution or attempt) and return FF_FENCE_OK when the call took
 * effect (or was a replay of this lease's own call), else the refusal,
 * having changed nothing. Callers are SPI-connected.
 */
FFFenceResult
ff_renew_handle(bytea *raw, FFFence *f)
{
	f->result = ff_fence_lock(raw, f);
	if (f->result != FF_FENCE_OK)
		return f->result;
	f->attempt.lease_expires_at_ms = f->now + f->attempt.lease_ttl_ms;
	f->attempt.lease_renewed_at_ms = f->now;
	ff_attempt_store(&f->attempt);
	ff_emit_lease_event(&f->exec, &f->attempt, "renewed", NULL, f->now);
	return FF_FENCE_OK;
}

PG_FUNCTION_INFO_V1(ff_renew);
Datum
ff_renew(PG_FUNCTION_ARGS)
{
	MemoryContext outer = CurrentMemoryContext;
	bytea	   *raw = arg_handle(fcinfo);
	FFFence		f;
	FFFenceResult r;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	Datum		result;

	SPI_connect();
	ff_writes_begin();
	r = ff_renew_handle(raw, &f);
	ff_writes_end();
	ff_fence_raise(&f, r);

	values[0] = Int64GetDatum(f.attempt.lease_expires_at_ms);
	values[1] = Int64GetDatum(f.attempt.lease_epoch);
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

PG_FUNCTION_INFO_V1(ff_progress);
Datum
ff_progress(PG_FUNCTION_ARGS)
{
	bytea	   *raw = arg_handle(fcinfo);
	FFFence		f;

	if (!PG_ARGISNULL(1) && (PG_GETARG_INT32(1) < 0 || PG_GETARG_INT32(1) > 100))
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: progress percent %d is outside 0..100", PG_GETARG_INT32(1))));

	SPI_connect();
	ff_fence_require(raw, &f);
	if (!PG_ARGISNULL(1))
		f.exec.progress_pct = PG_GETARG_INT32(1);
	if (!PG_ARGISNULL(2))
		f.exec.progress_message = text_to_cstring(PG_GETARG_TEXT_PP(2));
	f.exec.progress_updated_at_ms = f.now;
	f.exec.last_mutation_at_ms = f.now;
	ff_exec_store(&f.exec);
	SPI_finish();
	PG_RETURN_VOID();
}

FFFenceResult
ff_complete_handle(bytea *raw, bytea *payload, FFFence *f)
{
	if (fence_lock_replay(raw, f, "completed"))
		return FF_FENCE_OK;
	if (f->result != FF_FENCE_OK)
		return f->result;
	ff_attempt_end(&f->exec, &f->attempt, "ended_success", "released", "completed", f->now);
	f->exec.set_result = true;
	f->exec.result = payload;
	ff_finish_execution(&f->exec, &ff_sv_completed, "success", f->now);
	return FF_FENCE_OK;
}

PG_FUNCTION_INFO_V1(ff_complete);
Datum
ff_complete(PG_FUNCTION_ARGS)
{
	bytea	   *raw = arg_handle(fcinfo);
	bytea	   *payload = PG_ARGISNULL(1) ? NULL : PG_GETARG_BYTEA_P(1);
	FFFence		f;
	FFFenceResult r;

	ff_check_payload_size(payload, "result payload");
	SPI_connect();
	ff_writes_begin();
	r = ff_complete_handle(raw, payload, &f);
	ff_writes_end();
	ff_fence_raise(&f, r);
	SPI_finish();
	PG_RETURN_VOID();
}

/* ff_failure_classification: the canonical classification, NULL if unknown */
const char *
ff_failure_classification(const char *c)
{
	static const char *const classes[] = {"transient", "permanent", "infra_crash", "timeout", "cancelled"};

	for (size_t i = 0; i < lengthof(classes); i++)
		if (strcmp(classes[i], c) == 0)
			return classes[i];
	return NULL;
}

static const char *
check_classification(const char *c)
{
	const char *known = ff_failure_classification(c);

	if (known == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: unknown failure classification \"%s\"", c),
				 errhint("Use transient, permanent, infra_crash, timeout or cancelled.")));
	return known;
}

/* *delay_until: the retry time, FF_NULL_MS when the failure is terminal */
FFFenceResult
ff_fail_handle(bytea *raw, const char *message, const char *category, bytea *detail,
			   FFFence *f, int64 *delay_until)
{
	bool		retried;

	*delay_until = FF_NULL_MS;
	if (fence_lock_replay(raw, f, "failed_"))
	{
		/* a retried fail (same message and class) reports the first decision */
		if (f->attempt.failure_message == NULL || strcmp(f->attempt.failure_message, message) != 0 ||
			f->attempt.failure_category == NULL || strcmp(f->attempt.failure_category, category) != 0)
			return f->result;
		*delay_until = f->attempt.retry_delay_until_ms;
		return FF_FENCE_OK;
	}
	if (f->result != FF_FENCE_OK)
		return f->result;
	ff_record_failure(&f->exec, &f->attempt, message, category);
	f->attempt.failure_detail = detail;
	*delay_until = ff_retry_decision(&f->exec, category, f->now);
	retried = *delay_until != FF_NULL_MS;
	f->attempt.retry_delay_until_ms = *delay_until;
	ff_attempt_end(&f->exec, &f->attempt, "ended_failure", "released",
				   retried ? "failed_retry_scheduled" : "failed_terminal", f->now);
	if (retried)
		ff_schedule_retry(&f->exec, *delay_until, f->now);
	else
		ff_finish_execution(&f->exec, &ff_sv_failed, "failed", f->now);
	return FF_FENCE_OK;
}

PG_FUNCTION_INFO_V1(ff_fail);
Datum
ff_fail(PG_FUNCTION_ARGS)
{
	MemoryContext outer = CurrentMemoryContext;
	bytea	   *raw = arg_handle(fcinfo);
	char	   *message = ff_arg_cstring_required(fcinfo, 1, "message");
	const char *category = check_classification(PG_ARGISNULL(2) ? "transient"
												: text_to_cstring(PG_GETARG_TEXT_PP(2)));
	bytea	   *detail = PG_ARGISNULL(3) ? NULL : PG_GETARG_BYTEA_P(3);
	FFFence		f;
	FFFenceResult r;
	int64		delay_until;
	bool		retried;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	Datum		result;

	ff_check_payload_size(detail, "failure detail");
	SPI_connect();
	ff_writes_begin();
	r = ff_fail_handle(raw, message, category, detail, &f, &delay_until);
	ff_writes_end();
	ff_fence_raise(&f, r);
	retried = delay_until != FF_NULL_MS;

	values[0] = CStringGetTextDatum(retried ? "retry_scheduled" : "terminal_failed");
	values[1] = Int64GetDatum(delay_until);
	nulls[1] = !retried;
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

PG_FUNCTION_INFO_V1(ff_cancel);
Datum
ff_cancel(PG_FUNCTION_ARGS)
{
	bytea	   *raw = arg_handle(fcinfo);
	char	   *reason = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	FFFence		f;

	SPI_connect();
	ff_writes_begin();
	if (!fence_lock_ending(raw, &f, "cancelled"))
	{
		ff_attempt_end(&f.exec, &f.attempt, "ended_cancelled", "released", "cancelled", f.now);
		f.exec.cancellation_reason = reason;
		f.exec.cancelled_by = "lease_holder";
		ff_finish_execution(&f.exec, &ff_sv_cancelled, "cancelled", f.now);
	}
	ff_writes_end();
	SPI_finish();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(ff_delay);
Datum
ff_delay(PG_FUNCTION_ARGS)
{
	bytea	   *raw = arg_handle(fcinfo);
	int64		delay_until;
	FFFence		f;

	if (PG_ARGISNULL(1))
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "delay_until must not be null");
	delay_until = PG_GETARG_INT64(1);

	SPI_connect();
	ff_fence_require(raw, &f);
	ff_attempt_end(&f.exec, &f.attempt, "suspended", "released", "delayed", f.now);
	if (delay_until > f.now)
	{
		ff_exec_set_state(&f.exec, &ff_sv_worker_delay);
		f.exec.delay_until_ms = delay_until;
		f.exec.blocking_detail = psprintf("delayed until %lld", (long long) delay_until);
	}
	else
	{
		ff_exec_set_state(&f.exec, &ff_sv_delay_elapsed);
		f.exec.sv.attempt_state = "attempt_interrupted";
	}
	f.exec.last_mutation_at_ms = f.now;
	ff_exec_store(&f.exec);
	SPI_finish();
	PG_RETURN_VOID();
}

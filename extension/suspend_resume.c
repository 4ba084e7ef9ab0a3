/*
 * suspend_resume.c
 *		Coming back from a suspension: ff_claim_resumed_execution (a worker
 *		takes a resumed execution; the parked attempt continues under a new
 *		lease), ff_resume_execution (an operator resumes without signals) and
 *		ff_observe_signals (the resumed worker reads the signals that
 *		resumed it).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "budget.h"
#include "scheduler.h"
#include "suspend.h"

#define input_error(...) \
	ereport(ERROR, (errcode(ERRCODE_FF_INVALID_INPUT), errmsg("invalid_input: " __VA_ARGS__)))

static void
raise_execution_not_found(const char *execution_id)
{
	ereport(ERROR,
			(errcode(ERRCODE_FF_EXECUTION_NOT_FOUND),
			 errmsg("execution_not_found: execution %s does not exist", execution_id)));
}

/*
 * capability_check returns the execution's input payload after checking the
 * worker has every required capability (else capability_mismatch with the
 * missing ones, sorted, in the detail).
 */
static bytea *
capability_check(const FFExecKey *key, ArrayType *caps)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[3] = {INT2OID, UUIDOID, TEXTARRAYOID};
	Datum		v[3] = {Int16GetDatum(key->partition), ff_uuid_datum(&key->uuid), PointerGetDatum(caps)};
	bool		isnull;
	Datum		payload;

	ff_prepare(&plan,
			   "SELECT required_capabilities <@ $3, "
			   "       (SELECT string_agg(c, ',' ORDER BY c COLLATE \"C\") "
			   "          FROM unnest(required_capabilities) c WHERE NOT c = ANY ($3)), "
			   "       input_payload "
			   "FROM ff_execution WHERE partition_key = $1 AND execution_id = $2",
			   3, types);
	ff_execute(plan, v, NULL, false, 1);
	if (!ff_get_bool(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1))
		ereport(ERROR,
				(errcode(ERRCODE_FF_CAPABILITY_MISMATCH),
				 errmsg("capability_mismatch: the worker lacks capabilities the execution requires"),
				 errdetail("%s", ff_get_cstring(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2))));
	payload = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);
	return isnull ? NULL : DatumGetByteaPCopy(payload);
}

/*
 * check_not_reserved raises invalid_claim_grant when a live claim grant
 * (of either kind) reserves the execution for another worker instance:
 * ff_claim and the scheduler skip such an execution for everyone but the
 * grant holder, so a claim of this one named execution is refused until the
 * grant is consumed or expires. Nothing is written.
 */
static void
check_not_reserved(const FFExecKey *key, const char *worker_id, const char *worker_instance_id,
				   int64 now)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[5] = {INT2OID, UUIDOID, INT8OID, TEXTOID, TEXTOID};
	Datum		v[5] = {Int16GetDatum(key->partition), ff_uuid_datum(&key->uuid), Int64GetDatum(now),
		CStringGetTextDatum(worker_id), CStringGetTextDatum(worker_instance_id)};

	ff_prepare(&plan,
			   "SELECT kind, expires_at_ms FROM ff_claim_grant "
			   "WHERE partition_key = $1 AND execution_id = $2 AND expires_at_ms > $3 "
			   "AND (worker_id <> $4 OR worker_instance_id <> $5) "
			   "ORDER BY expires_at_ms DESC LIMIT 1",
			   5, types);
	/* a fresh snapshot: a grant committed while we waited for the row lock */
	ff_execute(plan, v, NULL, false, 1);
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_CLAIM_GRANT),
				 errmsg("invalid_claim_grant: execution %s is reserved for another worker by a live %s grant",
						ff_format_execution_id(key),
						ff_get_cstring(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1)),
				 errdetail("The grant expires at %lld (engine clock).",
						   (long long) ff_get_int64(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, 0)),
				 errhint("Only the grant holder may claim it until the grant is used or expires.")));
}

/*
 * ff_claim_resumed_execution leases one resumed execution (runnable, its
 * attempt interrupted, eligible now) to a worker. The attempt continues:
 * same attempt_index and attempt_id, a new lease id and a higher epoch.
 *
 * It hands out work under the same rules as ff_claim: a paused lane hands
 * out nothing (execution_not_leaseable, as for a claim grant of the
 * execution; a draining lane lets it through, since a resumed attempt is
 * started work), and the execution's budgets and quota admit it first
 * (ff_admission_admit). When they hold it back it is stored blocked (for
 * the reset, raised limit or freed slot that releases it) and no row is
 * returned, as ff_claim skips it. A live claim grant of another worker
 * reserves the execution (invalid_claim_grant, nothing changed); the grant
 * holder's own grants are used up by its claim, as ff_claim_execution uses
 * them up.
 */
PG_FUNCTION_INFO_V1(ff_claim_resumed_execution);
Datum
ff_claim_resumed_execution(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *execution_id = ff_arg_cstring_required(fcinfo, 0, "execution_id");
	char	   *worker_id = ff_arg_cstring_required(fcinfo, 1, "worker_id");
	char	   *worker_instance_id = ff_arg_cstring_required(fcinfo, 2, "worker_instance_id");
	char	   *lane_id = ff_arg_cstring_required(fcinfo, 3, "lane_id");
	int64		ttl = PG_ARGISNULL(4) ? 30000 : PG_GETARG_INT64(4);
	int64		remaining = PG_ARGISNULL(6) ? 0 : PG_GETARG_INT64(6);
	ArrayType  *caps = PG_ARGISNULL(7) ? construct_empty_array(TEXTOID) : PG_GETARG_ARRAYTYPE_P(7);
	FFExecKey	key;
	FFExecRow	exec;
	FFAttemptRow attempt;
	FFPolicy	policy;
	FFHandle	h;
	bytea	   *payload;
	int64		now;
	bool		started_only;
	Datum		values[8];
	bool		nulls[8] = {false, false, false, false, false, false, false, false};

	ff_parse_execution_id(execution_id, &key);
	ff_check_lane(lane_id, strlen(lane_id));
	ff_check_capabilities(caps, "capabilities", ERRCODE_FF_INVALID_CAPABILITIES);
	if (ttl <= 0 || ttl > FF_MAX_LEASE_TTL_MS)
		input_error("lease_ttl_ms must be between 1 and %lld", (long long) FF_MAX_LEASE_TTL_MS);
	if (remaining < 0)
		input_error("remaining_attempt_timeout_ms must not be negative");

	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	now = ff_now_ms();
	if (!ff_exec_load(&key, &exec, true))
		raise_execution_not_found(execution_id);
	if (strcmp(exec.lane_id, lane_id) != 0)
		input_error("lane_mismatch: args.lane_id=%s exec_core.lane_id=%s", lane_id, exec.lane_id);
	if (!ff_exec_is(&exec, "runnable"))
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_LEASEABLE),
				 errmsg("execution_not_leaseable: execution %s is %s, not runnable", execution_id,
						exec.sv.lifecycle_phase),
				 errhint("A suspended execution becomes claimable once its resume condition is satisfied.")));
	if (strcmp(exec.sv.attempt_state, "attempt_interrupted") != 0 ||
		(!PG_ARGISNULL(5) && PG_GETARG_INT32(5) != exec.attempt_index))
		ereport(ERROR,
				(errcode(ERRCODE_FF_NOT_A_RESUMED_EXECUTION),
				 errmsg("not_a_resumed_execution: execution %s has no interrupted attempt to resume",
						execution_id),
				 errdetail("attempt_state is %s, current attempt %d.", exec.sv.attempt_state,
						   exec.attempt_index),
				 errhint("Claim it with ff_claim.")));
	if (strcmp(exec.sv.eligibility_state, "eligible_now") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_LEASEABLE),
				 errmsg("execution_not_leaseable: execution %s is not eligible yet (%s)", execution_id,
						exec.sv.blocking_reason)));
	payload = capability_check(&key, caps);

	/*
	 * The lane's operator state (docs/operator.md): paused hands out
	 * nothing; draining only started work, which an interrupted attempt is.
	 */
	if (!ff_lane_claims(exec.lane_id, &started_only))
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_LEASEABLE),
				 errmsg("execution_not_leaseable: lane %s is paused", exec.lane_id),
				 errhint("ff_resume_lane lets the lane hand out work again.")));
	/* another worker's live grant reserves it, as ff_claim honours it */
	check_not_reserved(&key, worker_id, worker_instance_id, now);

	/* budgets and quotas may hold it back: stored blocked, no row */
	if (!ff_admission_admit(&exec, now))
	{
		SPI_finish();
		return (Datum) 0;
	}

	if (!ff_attempt_load(&key, exec.attempt_index, &attempt, true))
		elog(ERROR, "current attempt of %s is missing", execution_id);

	ff_policy_parse(exec.policy, &policy);
	exec.lease_epoch++;
	attempt.worker_id = worker_id;
	attempt.worker_instance_id = worker_instance_id;
	if (PG_ARGISNULL(8))
		ff_random_uuid(&attempt.lease_id);
	else
		attempt.lease_id = *PG_GETARG_UUID_P(8);
	attempt.lease_epoch = exec.lease_epoch;
	attempt.lease_ttl_ms = ttl;
	attempt.lease_acquired_at_ms = now;
	attempt.lease_renewed_at_ms = FF_NULL_MS;
	attempt.lease_expires_at_ms = now + ttl;
	attempt.timeout_at_ms = remaining > 0 ? now + remaining
		: policy.attempt_timeout_ms > 0 ? now + policy.attempt_timeout_ms : FF_NULL_MS;
	attempt.attempt_lifecycle = "started";
	attempt.end_reason = NULL;
	ff_attempt_store(&attempt);

	ff_exec_set_state(&exec, &ff_sv_claimed);
	exec.blocking_detail = NULL;
	exec.delay_until_ms = FF_NULL_MS;
	if (exec.started_at_ms == FF_NULL_MS)
		exec.started_at_ms = now;
	exec.last_mutation_at_ms = now;
	ff_exec_store(&exec);
	/* the holder's grants are used up (no other worker's is live) */
	ff_grants_delete(&key);
	ff_emit_lease_event(&exec, &attempt, "acquired", "claim_resumed", now);

	h.backend = FF_BACKEND_POSTGRES;
	h.format = 2;
	h.execution_id = ff_format_execution_id(&key);
	h.attempt_index = (uint32) attempt.attempt_index;
	h.attempt_id_text = ff_uuid_to_cstring(&attempt.attempt_id);
	h.lease_id_text = ff_uuid_to_cstring(&attempt.lease_id);
	h.lease_epoch = (uint64) attempt.lease_epoch;
	h.lease_ttl_ms = (uint64) ttl;
	h.lane_id = lane_id;
	h.worker_instance_id = worker_instance_id;

	values[0] = PointerGetDatum(ff_handle_encode(&h));
	values[1] = CStringGetTextDatum(h.execution_id);
	values[2] = Int32GetDatum(attempt.attempt_index);
	values[3] = ff_uuid_datum(&attempt.attempt_id);
	values[4] = ff_uuid_datum(&attempt.lease_id);
	values[5] = Int64GetDatum(attempt.lease_epoch);
	values[6] = Int64GetDatum(attempt.lease_expires_at_ms);
	values[7] = payload ? PointerGetDatum(payload) : (Datum) 0;
	nulls[7] = payload == NULL;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	SPI_finish();
	return (Datum) 0;
}

/*
 * ff_resume_execution (operator): resume a suspended execution whatever its
 * condition says. Its suspension and waitpoints close (operator_resumed);
 * it becomes claimable now, or after resume_delay_ms.
 */
PG_FUNCTION_INFO_V1(ff_resume_execution);
Datum
ff_resume_execution(PG_FUNCTION_ARGS)
{
	char	   *execution_id = ff_arg_cstring_required(fcinfo, 0, "execution_id");
	char	   *trigger = PG_ARGISNULL(1) ? "signal" : text_to_cstring(PG_GETARG_TEXT_PP(1));
	int64		delay = PG_ARGISNULL(2) ? 0 : PG_GETARG_INT64(2);
	FFExecKey	key;
	FFExecRow	exec;
	FFSuspension s;
	int64		now;
	const char *state;

	ff_parse_execution_id(execution_id, &key);
	if (*trigger == '\0')
		input_error("trigger_type must not be empty");
	ff_check_text_arg(trigger, "trigger_type", FF_SIGNAL_TEXT_MAX_BYTES);
	if (delay < 0 || delay > FF_MAX_RESUME_DELAY_MS)
		input_error("resume_delay_ms must be between 0 and %lld", (long long) FF_MAX_RESUME_DELAY_MS);

	SPI_connect();
	now = ff_now_ms();
	if (!ff_exec_load(&key, &exec, true))
		raise_execution_not_found(execution_id);
	if (!ff_exec_is(&exec, "suspended") || !ff_suspension_load_open(&key, &s))
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_SUSPENDED),
				 errmsg("execution_not_suspended: execution %s is %s", execution_id,
						ff_derive_public_state(exec.sv.lifecycle_phase, exec.sv.eligibility_state,
											   exec.sv.terminal_outcome))));
	ff_suspension_close(&s, "operator_resumed", NULL, now);
	ff_exec_resume(&exec, delay, now);
	state = ff_derive_public_state(exec.sv.lifecycle_phase, exec.sv.eligibility_state,
								   exec.sv.terminal_outcome);
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(state));
}

/*
 * ff_observe_signals returns the signals that resumed the handle's attempt
 * (its most recent suspension that ended in a resume): the satisfiers, or
 * every signal it received with all_signals. Empty if the attempt was never
 * resumed from a suspension.
 */
PG_FUNCTION_INFO_V1(ff_observe_signals);
Datum
ff_observe_signals(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[4] = {INT2OID, UUIDOID, INT4OID, BOOLOID};
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		all = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
	FFHandle	h;
	Datum		v[4];

	if (PG_ARGISNULL(0))
		input_error("handle must not be null");
	ff_handle_decode_postgres(PG_GETARG_BYTEA_P(0), &h);

	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	ff_prepare(&plan,
			   "SELECT g.signal_id, g.signal_name, g.signal_category, g.source_type, "
			   "       g.source_identity, g.correlation_id, g.accepted_at_ms, g.payload, "
			   "       g.payload_encoding, g.waitpoint_id, g.waitpoint_key "
			   "FROM (SELECT suspension_id, close_reason FROM ff_suspension "
			   "      WHERE partition_key = $1 AND execution_id = $2 AND attempt_index = $3 "
			   "      ORDER BY suspended_at_ms DESC, closed_at_ms DESC NULLS FIRST LIMIT 1) s "
			   "JOIN ff_signal g ON g.partition_key = $1 AND g.execution_id = $2 "
			   "                AND g.suspension_id = s.suspension_id "
			   "WHERE s.close_reason IN ('resumed', 'operator_resumed', 'timed_out_auto_resume') "
			   "  AND ($4 OR g.satisfier) ORDER BY g.seq",
			   4, types);
	v[0] = Int16GetDatum(h.key.partition);
	v[1] = ff_uuid_datum(&h.key.uuid);
	v[2] = Int32GetDatum((int32) h.attempt_index);
	v[3] = BoolGetDatum(all);
	ff_execute(plan, v, NULL, true, 0);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		Datum		values[11];
		bool		nulls[11];

		heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, values, nulls);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

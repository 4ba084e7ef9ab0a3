/*
 * claim.c
 *		ff_claim: hand the best claimable executions of a lane to a worker.
 *
 * One ordered scan of ff_execution_claim_idx per call (highest priority,
 * then oldest), filtered to executions whose required capabilities the
 * worker has, locked FOR UPDATE SKIP LOCKED so concurrent workers never
 * receive the same execution. Claimable means eligible now, or active with
 * an expired lease (a reclaim: a new attempt replaces the vanished worker's).
 * A paused lane hands out nothing, a draining lane only started work, and
 * an execution reserved by another worker's live claim grant is skipped.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "flowfabric.h"
#include "budget.h"
#include "writeset.h"

typedef struct ClaimRequest
{
	char	   *lane_id;
	char	   *worker_id;
	char	   *worker_instance_id;
	int64		lease_ttl_ms;
	int64		now;
} ClaimRequest;

static const char *
attempt_type_for(const FFExecRow *exec)
{
	if (strcmp(exec->sv.ownership_state, "lease_expired_reclaimable") == 0 ||
		strcmp(exec->sv.ownership_state, "lease_revoked") == 0)
		return "reclaim";
	if (strcmp(exec->sv.attempt_state, "pending_retry_attempt") == 0)
		return "retry";
	if (strcmp(exec->sv.attempt_state, "pending_replay_attempt") == 0)
		return "replay";
	return "initial";
}

static void
lease_attempt(FFAttemptRow *attempt, const FFExecRow *exec, const FFPolicy *policy,
			  const ClaimRequest *req)
{
	attempt->worker_id = req->worker_id;
	attempt->worker_instance_id = req->worker_instance_id;
	ff_random_uuid(&attempt->lease_id);
	attempt->lease_epoch = exec->lease_epoch;
	attempt->lease_ttl_ms = req->lease_ttl_ms;
	attempt->lease_acquired_at_ms = req->now;
	attempt->lease_renewed_at_ms = FF_NULL_MS;
	attempt->lease_expires_at_ms = req->now + req->lease_ttl_ms;
	attempt->timeout_at_ms = policy->attempt_timeout_ms > 0
		? req->now + policy->attempt_timeout_ms : FF_NULL_MS;
	attempt->attempt_lifecycle = "started";
	attempt->end_reason = NULL;
}

/*
 * claim_one leases one locked candidate to the worker and fills *attempt.
 * Returns false if the execution was failed instead (reclaim cap reached).
 */
static bool
claim_one(FFExecRow *exec, FFAttemptRow *attempt, const ClaimRequest *req)
{
	FFPolicy	policy;
	bool		reclaim = strcmp(exec->sv.ownership_state, "lease_expired_reclaimable") == 0 ||
		strcmp(exec->sv.ownership_state, "lease_revoked") == 0;
	bool		resume = !reclaim && strcmp(exec->sv.attempt_state, "attempt_interrupted") == 0;

	ff_policy_parse(exec->policy, &policy);
	if (reclaim && ++exec->reclaim_count > policy.max_reclaim_count)
	{
		ff_record_failure(exec, NULL, "max_reclaims_exceeded", "infra_crash");
		ff_finish_execution(exec, &ff_sv_failed, "failed", req->now);
		return false;
	}

	exec->lease_epoch++;
	if (resume)
	{
		/* a worker delayed this attempt: it continues under a new lease */
		if (!ff_attempt_load(&exec->key, exec->attempt_index, attempt, true))
			elog(ERROR, "current attempt of %s is missing", ff_format_execution_id(&exec->key));
		lease_attempt(attempt, exec, &policy, req);
		ff_attempt_store(attempt);
	}
	else
	{
		memset(attempt, 0, sizeof(*attempt));
		attempt->key = exec->key;
		attempt->attempt_index = exec->total_attempt_count;
		ff_random_uuid(&attempt->attempt_id);
		attempt->attempt_type = attempt_type_for(exec);
		attempt->started_at_ms = req->now;
		attempt->ended_at_ms = FF_NULL_MS;
		attempt->retry_delay_until_ms = FF_NULL_MS;
		lease_attempt(attempt, exec, &policy, req);
		ff_attempt_insert(attempt);
		exec->attempt_index = attempt->attempt_index;
		exec->total_attempt_count++;
	}

	ff_exec_set_state(exec, &ff_sv_claimed);
	exec->blocking_detail = NULL;
	exec->delay_until_ms = FF_NULL_MS;
	if (exec->started_at_ms == FF_NULL_MS)
		exec->started_at_ms = req->now;
	exec->last_mutation_at_ms = req->now;
	ff_exec_store(exec);
	ff_emit_lease_event(exec, attempt, reclaim ? "reclaimed" : "acquired", NULL, req->now);
	return true;
}

static bytea *
make_handle(const FFExecRow *exec, const FFAttemptRow *attempt, const ClaimRequest *req)
{
	FFHandle	h;

	h.backend = FF_BACKEND_POSTGRES;
	h.format = 2;
	h.execution_id = ff_format_execution_id(&exec->key);
	h.attempt_index = (uint32) attempt->attempt_index;
	h.attempt_id_text = ff_uuid_to_cstring(&attempt->attempt_id);
	h.lease_id_text = ff_uuid_to_cstring(&attempt->lease_id);
	h.lease_epoch = (uint64) attempt->lease_epoch;
	h.lease_ttl_ms = (uint64) attempt->lease_ttl_ms;
	h.lane_id = req->lane_id;
	h.worker_instance_id = req->worker_instance_id;
	return ff_handle_encode(&h);
}

/*
 * ff_claim_locked claims one execution the caller has locked (the
 * scheduler's grant consumers, scheduler.c) exactly as ff_claim would:
 * budgets and quotas admit it, then a new or resumed attempt, or a reclaim
 * up to the reclaim cap. Returns false if admission held the execution back
 * or the cap failed it instead; else *handle is the new handle.
 */
bool
ff_claim_locked(FFExecRow *exec, FFAttemptRow *attempt, const char *worker_id,
				const char *worker_instance_id, int64 lease_ttl_ms, int64 now, bytea **handle)
{
	ClaimRequest req;

	req.lane_id = exec->lane_id;
	req.worker_id = (char *) worker_id;
	req.worker_instance_id = (char *) worker_instance_id;
	req.lease_ttl_ms = lease_ttl_ms;
	req.now = now;
	if (!ff_admission_admit(exec, now) || !claim_one(exec, attempt, &req))
		return false;
	*handle = make_handle(exec, attempt, &req);
	return true;
}

/*
 * ff_lane_claims returns whether the lane hands out work: false when it is
 * paused (or disabled); *started_only when it is draining, so only work
 * already started (reclaims, interrupted attempts) may be claimed.
 */
bool
ff_lane_claims(const char *lane_id, bool *started_only)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[1] = {TEXTOID};
	Datum		v[1] = {CStringGetTextDatum(lane_id)};
	char	   *state;

	*started_only = false;
	ff_prepare(&plan, "SELECT state FROM ff_lane WHERE lane_id = $1", 1, types);
	ff_execute(plan, v, NULL, true, 1);
	if (SPI_processed == 0)
		return true;
	state = ff_get_cstring(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	*started_only = strcmp(state, "draining") == 0;
	return strcmp(state, "active") == 0 || *started_only;
}

PG_FUNCTION_INFO_V1(ff_claim);
Datum
ff_claim(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[7] = {TEXTOID, TEXTARRAYOID, INT4OID, BOOLOID, INT8OID, TEXTOID, TEXTOID};
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ClaimRequest req;
	ArrayType  *caps;
	int32		max_claims;
	Datum		v[7];
	int32		claimed = 0;
	bool		started_only;

	req.lane_id = ff_arg_cstring_required(fcinfo, 0, "lane_id");
	ff_check_lane(req.lane_id, strlen(req.lane_id));
	req.worker_id = ff_arg_cstring_required(fcinfo, 1, "worker_id");
	req.worker_instance_id = ff_arg_cstring_required(fcinfo, 2, "worker_instance_id");
	caps = PG_ARGISNULL(3) ? construct_empty_array(TEXTOID) : PG_GETARG_ARRAYTYPE_P(3);
	ff_check_capabilities(caps, "capabilities", ERRCODE_FF_INVALID_CAPABILITIES);
	req.lease_ttl_ms = PG_ARGISNULL(4) ? 30000 : PG_GETARG_INT64(4);
	if (req.lease_ttl_ms <= 0 || req.lease_ttl_ms > FF_MAX_LEASE_TTL_MS)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: lease_ttl_ms must be between 1 and %lld",
						(long long) FF_MAX_LEASE_TTL_MS)));
	max_claims = PG_ARGISNULL(5) ? 1 : PG_GETARG_INT32(5);
	if (max_claims < 1 || max_claims > FF_MAX_CLAIMS)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: max_claims must be between 1 and %d", FF_MAX_CLAIMS)));

	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	/* a paused lane hands out nothing (docs/operator.md) */
	if (!ff_lane_claims(req.lane_id, &started_only))
	{
		SPI_finish();
		return (Datum) 0;
	}
	/*
	 * $4: a draining lane only continues started work. An execution with a
	 * live claim grant for another worker is reserved for that worker.
	 *
	 * The plan must stay the ordered scan of the claim index that stops
	 * after $3 rows, whatever the statistics: "= '{}' OR" keeps the row
	 * estimate of the capability filter honest (alone, "<@" is estimated at a
	 * fraction of a percent, and the planner then reads and sorts every
	 * claimable row of the lane), and the plan is generic, so it is not
	 * re-planned on every call.
	 */
	ff_prepare_generic(&plan,
			   "SELECT " FF_EXEC_COLUMNS ", input_payload FROM ff_execution e "
			   "WHERE lane_id = $1 "
			   "AND (eligibility_state = 'eligible_now' "
			   "     OR ownership_state IN ('lease_expired_reclaimable', 'lease_revoked')) "
			   "AND (required_capabilities = '{}' OR required_capabilities <@ $2) "
			   "AND (NOT $4 OR ownership_state <> 'unowned' OR attempt_state = 'attempt_interrupted') "
			   "AND NOT EXISTS (SELECT 1 FROM ff_claim_grant g "
			   "                WHERE g.partition_key = e.partition_key "
			   "                  AND g.execution_id = e.execution_id AND g.expires_at_ms > $5 "
			   "                  AND (g.worker_id <> $6 OR g.worker_instance_id <> $7)) "
			   "ORDER BY priority DESC, created_at_ms "
			   "LIMIT $3 FOR UPDATE OF e SKIP LOCKED",
			   7, types);
	req.now = ff_now_ms();
	v[0] = CStringGetTextDatum(req.lane_id);
	v[1] = PointerGetDatum(caps);
	v[3] = BoolGetDatum(started_only);
	v[4] = Int64GetDatum(req.now);
	v[5] = CStringGetTextDatum(req.worker_id);
	v[6] = CStringGetTextDatum(req.worker_instance_id);

	/*
	 * The claims' rows are written together, in one statement (writeset.c).
	 * Candidates that hit their reclaim cap fail instead of being claimed;
	 * look again for the places they leave open.
	 */
	ff_writes_begin();
	while (claimed < max_claims)
	{
		SPITupleTable *candidates;
		uint64		ncandidates;
		bool		capped = false;

		/* our own locks are not skipped: claimed rows must look claimed */
		ff_writes_flush();
		v[2] = Int32GetDatum(max_claims - claimed);
		ff_execute(plan, v, NULL, false, 0);
		candidates = SPI_tuptable;
		ncandidates = SPI_processed;
		for (uint64 i = 0; i < ncandidates; i++)
		{
			HeapTuple	tuple = candidates->vals[i];
			FFExecRow	exec;
			FFAttemptRow attempt;
			Datum		values[6];
			bool		nulls[6] = {false, false, false, false, false, false};
			bool		leased;

			ff_exec_from_tuple(tuple, candidates->tupdesc, &exec);
			ff_writes_hold(&exec);
			/* budgets and quotas may hold it back (budget_admission.c) */
			leased = ff_admission_admit(&exec, req.now) && claim_one(&exec, &attempt, &req);
			ff_writes_resume();
			if (!leased)
			{
				capped = true;
				continue;
			}
			values[0] = PointerGetDatum(make_handle(&exec, &attempt, &req));
			values[1] = CStringGetTextDatum(ff_format_execution_id(&exec.key));
			values[2] = Int32GetDatum(attempt.attempt_index);
			values[3] = Int64GetDatum(attempt.lease_epoch);
			values[4] = Int64GetDatum(attempt.lease_expires_at_ms);
			values[5] = SPI_getbinval(tuple, candidates->tupdesc, candidates->tupdesc->natts,
									  &nulls[5]);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			claimed++;
		}
		if (!capped)
			break;
	}
	ff_writes_end();
	SPI_finish();
	return (Datum) 0;
}

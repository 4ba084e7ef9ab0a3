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
 * The same statement claims the plain candidates set-based (claim_batch);
 * the others go through claim_one.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "flowfabric.h"
#include "bgworker.h"
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
make_handle(const FFExecKey *key, const FFAttemptRow *attempt, const ClaimRequest *req)
{
	FFHandle	h;

	h.backend = FF_BACKEND_POSTGRES;
	h.format = 2;
	h.execution_id = ff_format_execution_id(key);
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
	*handle = make_handle(&exec->key, attempt, &req);
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

/* put_claim adds a claimed execution to ff_claim's result. */
static void
put_claim(ReturnSetInfo *rsinfo, const FFExecKey *key, const FFAttemptRow *attempt,
		  const ClaimRequest *req, Datum payload, bool payload_null)
{
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, payload_null};

	values[0] = PointerGetDatum(make_handle(key, attempt, req));
	values[1] = CStringGetTextDatum(ff_format_execution_id(key));
	values[2] = Int32GetDatum(attempt->attempt_index);
	values[3] = Int64GetDatum(attempt->lease_epoch);
	values[4] = Int64GetDatum(attempt->lease_expires_at_ms);
	values[5] = payload;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* An execution the set-based statement claimed, and its new attempt. */
typedef struct PlainClaim
{
	FFExecKey	key;
	int32		attempt_index;
	int64		lease_epoch;
	pg_uuid_t	attempt_id;
	pg_uuid_t	lease_id;
} PlainClaim;

static int
compare_claim_key(const void *a, const void *b)
{
	return ff_exec_key_cmp(&((const PlainClaim *) a)->key, &((const PlainClaim *) b)->key);
}

static void
tuple_key(HeapTuple tuple, TupleDesc desc, FFExecKey *key)
{
	bool		isnull;

	key->partition = DatumGetInt16(SPI_getbinval(tuple, desc, 1, &isnull));
	key->uuid = *DatumGetUUIDP(SPI_getbinval(tuple, desc, 2, &isnull));
}

/*
 * claim_batch locks up to limit candidates of the lane in claim order and
 * claims them. One statement claims the plain ones -- work waiting for its
 * first, a retry or a replay attempt, with no budget or quota attached --
 * exactly as claim_one would: the execution row, a new attempt and the
 * "acquired" lease event, each written for the whole batch at once. The
 * others (reclaims, interrupted attempts, admission) go through claim_one.
 * Rows come out in claim order. Returns whether a candidate hit its reclaim
 * cap (failed instead of claimed), which leaves room to look again.
 */
static bool
claim_batch(const ClaimRequest *req, Datum *v, ReturnSetInfo *rsinfo, int32 *claimed)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[16] = {
		TEXTOID, TEXTARRAYOID, INT4OID, BOOLOID, INT8OID, TEXTOID, TEXTOID, INT8OID,
		TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, BOOLOID
	};
	SPITupleTable *rows;
	uint64		nrows;
	TupleDesc	desc;
	PlainClaim *plain;
	int			nplain = 0;
	bool		capped = false;

	/*
	 * c: the candidates, locked. $4: a draining lane only continues started
	 * work. An execution with a live claim grant for another worker is
	 * reserved for that worker.
	 *
	 * The scan must stay the ordered scan of the claim index that stops after
	 * $3 rows, whatever the statistics: "= '{}' OR" keeps the row estimate
	 * of the capability filter honest (alone, "<@" is estimated at a fraction
	 * of a percent, and the planner then reads and sorts every claimable row
	 * of the lane), and the plan is generic, so it is not re-planned on every
	 * call.
	 *
	 * u claims the plain ones by the row version c locked ($16:
	 * flowfabric.set_based_batches). Its RETURNING makes the ids once per
	 * row, so the attempt, the lease event and the result agree without
	 * joining one CTE's output to another's.
	 */
	ff_prepare_generic(&plan,
			   "WITH c AS ("
			   " SELECT e.ctid AS row_id, e.partition_key, e.execution_id, e.input_payload,"
			   "  CASE e.attempt_state WHEN 'pending_retry_attempt' THEN 'retry'"
			   "   WHEN 'pending_replay_attempt' THEN 'replay' ELSE 'initial' END AS attempt_type,"
			   "  e.eligibility_state = 'eligible_now' AND e.ownership_state = 'unowned'"
			   "   AND e.attempt_state IN ('pending_first_attempt', 'pending_retry_attempt',"
			   "                           'pending_replay_attempt')"
			   "   AND " FF_NO_ADMISSION_SQL("e.policy")
			   "   AS plain"
			   " FROM ff_execution e"
			   " WHERE lane_id = $1"
			   "  AND (eligibility_state = 'eligible_now'"
			   "       OR ownership_state IN ('lease_expired_reclaimable', 'lease_revoked'))"
			   "  AND (required_capabilities = '{}' OR required_capabilities <@ $2)"
			   "  AND (NOT $4 OR ownership_state <> 'unowned' OR attempt_state = 'attempt_interrupted')"
			   "  AND NOT EXISTS (SELECT 1 FROM ff_claim_grant g"
			   "                  WHERE g.partition_key = e.partition_key"
			   "                    AND g.execution_id = e.execution_id AND g.expires_at_ms > $5"
			   "                    AND (g.worker_id <> $6 OR g.worker_instance_id <> $7))"
			   " ORDER BY priority DESC, created_at_ms"
			   " LIMIT $3 FOR UPDATE OF e SKIP LOCKED),"
			   "u AS ("
			   " UPDATE ff_execution t SET lifecycle_phase = $9, ownership_state = $10,"
			   "  eligibility_state = $11, blocking_reason = $12, terminal_outcome = $13,"
			   "  attempt_state = $14, public_state = $15, blocking_detail = NULL,"
			   "  delay_until_ms = NULL, lease_epoch = t.lease_epoch + 1,"
			   "  attempt_index = t.total_attempt_count,"
			   "  total_attempt_count = t.total_attempt_count + 1,"
			   "  started_at_ms = coalesce(t.started_at_ms, $5), last_mutation_at_ms = $5"
			   " FROM c WHERE t.ctid = c.row_id AND c.plain AND $16"
			   " RETURNING t.partition_key, t.execution_id, t.attempt_index, t.lease_epoch,"
			   "  t.namespace, c.attempt_type,"
			   "  $5 + ff_policy_attempt_timeout_ms(t.policy) AS timeout_at_ms,"
			   "  ff_random_uuid() AS attempt_id, ff_random_uuid() AS lease_id,"
			   "  ff_next_event_id() AS event_id),"
			   "a AS ("
			   " INSERT INTO ff_attempt (partition_key, execution_id, attempt_index, attempt_id,"
			   "  attempt_type, attempt_lifecycle, worker_id, worker_instance_id, lease_id,"
			   "  lease_epoch, lease_ttl_ms, lease_acquired_at_ms, lease_expires_at_ms,"
			   "  timeout_at_ms, started_at_ms)"
			   " SELECT partition_key, execution_id, attempt_index, attempt_id, attempt_type,"
			   "  'started', $6, $7, lease_id, lease_epoch, $8, $5, $5 + $8, timeout_at_ms, $5"
			   " FROM u),"
			   "l AS ("
			   " INSERT INTO ff_lease_event (event_id, partition_key, execution_id, attempt_index,"
			   "  lease_id, lease_epoch, event_type, worker_id, worker_instance_id, namespace,"
			   "  occurred_at_ms)"
			   " SELECT event_id, partition_key, execution_id, attempt_index, lease_id,"
			   "  lease_epoch, 'acquired', $6, $7, namespace, $5 FROM u)"
			   "SELECT partition_key, execution_id, attempt_index, lease_epoch, attempt_id,"
			   " lease_id, event_id, timeout_at_ms, NULL::bytea FROM u "
			   "UNION ALL "
			   "SELECT partition_key, execution_id, NULL, NULL, NULL, NULL, NULL, NULL, input_payload"
			   " FROM c",
			   16, types);
	ff_execute(plan, v, NULL, false, 0);
	rows = SPI_tuptable;
	nrows = SPI_processed;
	desc = rows->tupdesc;

	/* the claimed rows come first, then every candidate in claim order */
	plain = palloc(sizeof(PlainClaim) * Max(nrows, 1));
	for (uint64 r = 0; r < nrows; r++)
	{
		HeapTuple	tuple = rows->vals[r];
		PlainClaim *p = &plain[nplain];
		bool		isnull;
		Datum		timeout;

		p->attempt_index = DatumGetInt32(SPI_getbinval(tuple, desc, 3, &isnull));
		if (isnull)
			break;
		tuple_key(tuple, desc, &p->key);
		p->lease_epoch = DatumGetInt64(SPI_getbinval(tuple, desc, 4, &isnull));
		p->attempt_id = *DatumGetUUIDP(SPI_getbinval(tuple, desc, 5, &isnull));
		p->lease_id = *DatumGetUUIDP(SPI_getbinval(tuple, desc, 6, &isnull));
		/* as ff_attempt_insert and ff_emit_lease_event would */
		ff_notify_event("ff_lease_event", DatumGetInt64(SPI_getbinval(tuple, desc, 7, &isnull)));
		timeout = SPI_getbinval(tuple, desc, 8, &isnull);
		if (!isnull)
			ff_bgw_note_due(DatumGetInt64(timeout));
		nplain++;
	}
	if (nplain > 0)
		ff_bgw_note_due(req->now + req->lease_ttl_ms);
	qsort(plain, nplain, sizeof(PlainClaim), compare_claim_key);

	for (uint64 r = nplain; r < nrows; r++)
	{
		HeapTuple	tuple = rows->vals[r];
		bool		payload_null;
		Datum		payload = SPI_getbinval(tuple, desc, 9, &payload_null);
		PlainClaim	probe;
		const FFExecKey *key = &probe.key;
		PlainClaim *done;
		FFExecRow	exec;
		FFAttemptRow attempt;
		bool		leased;

		tuple_key(tuple, desc, &probe.key);
		done = bsearch(&probe, plain, nplain, sizeof(PlainClaim), compare_claim_key);
		if (done)
		{
			attempt.attempt_index = done->attempt_index;
			attempt.lease_epoch = done->lease_epoch;
			attempt.attempt_id = done->attempt_id;
			attempt.lease_id = done->lease_id;
			attempt.lease_ttl_ms = req->lease_ttl_ms;
			attempt.lease_expires_at_ms = req->now + req->lease_ttl_ms;
			put_claim(rsinfo, key, &attempt, req, payload, payload_null);
			(*claimed)++;
			continue;
		}
		/* locked above; budgets and quotas may hold it back (budget_admission.c) */
		if (!ff_exec_load(key, &exec, true))
			elog(ERROR, "locked execution %s is missing", ff_format_execution_id(key));
		ff_writes_hold(&exec);
		leased = ff_admission_admit(&exec, req->now) && claim_one(&exec, &attempt, req);
		ff_writes_resume();
		if (!leased)
		{
			capped = true;
			continue;
		}
		put_claim(rsinfo, key, &attempt, req, payload, payload_null);
		(*claimed)++;
	}
	return capped;
}

PG_FUNCTION_INFO_V1(ff_claim);
Datum
ff_claim(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ClaimRequest req;
	ArrayType  *caps;
	int32		max_claims;
	Datum		v[16];
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
	req.now = ff_now_ms();
	v[0] = CStringGetTextDatum(req.lane_id);
	v[1] = PointerGetDatum(caps);
	v[3] = BoolGetDatum(started_only);
	v[4] = Int64GetDatum(req.now);
	v[5] = CStringGetTextDatum(req.worker_id);
	v[6] = CStringGetTextDatum(req.worker_instance_id);
	v[7] = Int64GetDatum(req.lease_ttl_ms);
	ff_state_vector_params(&ff_sv_claimed, &v[8]);
	v[15] = BoolGetDatum(ff_set_based_batches);

	/*
	 * The rows claim_one writes are written together (writeset.c).
	 * Candidates that hit their reclaim cap fail instead of being claimed;
	 * look again for the places they leave open.
	 */
	ff_writes_begin();
	while (claimed < max_claims)
	{
		/* our own locks are not skipped: claimed rows must look claimed */
		ff_writes_flush();
		v[2] = Int32GetDatum(max_claims - claimed);
		if (!claim_batch(&req, v, rsinfo, &claimed))
			break;
	}
	ff_writes_end();
	SPI_finish();
	return (Datum) 0;
}

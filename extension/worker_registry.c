/*
 * worker_registry.c
 *		The worker registry (RFC-025): workers register with their lanes and
 *		capabilities and a liveness TTL, heartbeat within it, and are marked
 *		dead by an operator or expired by ff_reconcile_worker_expiry once
 *		silent. A dead worker's leases are released at once: its executions
 *		become lease_expired_reclaimable instead of waiting for each lease to
 *		run out.
 *
 * A registration is keyed by (namespace, worker_instance_id) and is alive
 * while last_heartbeat_ms + liveness_ttl_ms > now (engine clock).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "scheduler.h"

typedef struct LeaseItem
{
	FFExecKey	key;
	int32		attempt_index;
} LeaseItem;

/* FNV-1a-64 of the instance id, mod 256: the registry row's partition. */
static int16
registry_partition(const char *worker_instance_id)
{
	uint64		h = UINT64CONST(0xcbf29ce484222325);

	for (const unsigned char *p = (const unsigned char *) worker_instance_id; *p; p++)
	{
		h ^= *p;
		h *= UINT64CONST(0x100000001b3);
	}
	return (int16) (h % 256);
}

/* a namespace: 1..256 bytes, no control characters */
static char *
arg_namespace(FunctionCallInfo fcinfo, int argno)
{
	char	   *ns = PG_ARGISNULL(argno) ? pstrdup("default")
		: ff_arg_cstring_required(fcinfo, argno, "namespace");

	if (strlen(ns) > FF_WORKER_ID_MAX_BYTES)
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "namespace is longer than 256 bytes");
	for (const unsigned char *p = (const unsigned char *) ns; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input",
					 "namespace must not contain control characters");
	return ns;
}

static char *
arg_worker_id(FunctionCallInfo fcinfo, int argno, const char *name)
{
	char	   *s = ff_arg_cstring_required(fcinfo, argno, name);

	ff_check_worker_id(s, name);
	return s;
}

/*
 * ff_release_worker_leases releases every live lease a worker instance
 * holds, as if it had expired (lease event "expired" with end_reason, the
 * execution lease_expired_reclaimable), and returns how many.
 */
int32
ff_release_worker_leases(const char *worker_instance_id, const char *end_reason, int64 now)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[1] = {TEXTOID};
	Datum		v[1] = {CStringGetTextDatum(worker_instance_id)};
	List	   *items = NIL;
	ListCell   *lc;
	int32		released = 0;

	ff_prepare(&plan,
			   "SELECT partition_key, execution_id, attempt_index FROM ff_attempt "
			   "WHERE lease_expires_at_ms IS NOT NULL AND worker_instance_id = $1 "
			   "ORDER BY partition_key, execution_id",
			   1, types);
	ff_execute(plan, v, NULL, false, 0);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		LeaseItem  *item = palloc(sizeof(LeaseItem));
		bool		isnull;

		item->key.partition = DatumGetInt16(SPI_getbinval(SPI_tuptable->vals[i],
														  SPI_tuptable->tupdesc, 1, &isnull));
		ff_get_uuid(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &item->key.uuid);
		item->attempt_index = ff_get_int32(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3, 0);
		items = lappend(items, item);
	}
	foreach(lc, items)
	{
		LeaseItem  *item = lfirst(lc);
		FFExecRow	exec;
		FFAttemptRow attempt;

		/* the execution first, then its attempt; re-check under the locks */
		if (!ff_exec_load(&item->key, &exec, true) || !ff_exec_is(&exec, "active") ||
			strcmp(exec.sv.ownership_state, "leased") != 0 ||
			exec.attempt_index != item->attempt_index ||
			!ff_attempt_load(&item->key, item->attempt_index, &attempt, true) ||
			attempt.lease_expires_at_ms == FF_NULL_MS ||
			strcmp(attempt.worker_instance_id, worker_instance_id) != 0)
			continue;
		ff_attempt_end(&exec, &attempt, "interrupted_reclaimed", "expired", end_reason, now);
		ff_exec_set_state(&exec, &ff_sv_lease_expired);
		exec.blocking_detail = psprintf("worker %s is dead (%s), awaiting reclaim",
										worker_instance_id, end_reason);
		exec.last_mutation_at_ms = now;
		ff_exec_store(&exec);
		released++;
	}
	return released;
}

/* alive_elsewhere: the instance is registered and alive in some namespace */
static bool
alive_elsewhere(const char *worker_instance_id, int64 now)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[2] = {TEXTOID, INT8OID};
	Datum		v[2] = {CStringGetTextDatum(worker_instance_id), Int64GetDatum(now)};

	ff_prepare(&plan,
			   "SELECT 1 FROM ff_worker_registry WHERE worker_instance_id = $1 "
			   "AND last_heartbeat_ms + liveness_ttl_ms > $2",
			   2, types);
	ff_execute(plan, v, NULL, false, 1);
	return SPI_processed > 0;
}

/*
 * ff_register_worker registers a worker instance (outcome "registered") or
 * refreshes its live registration ("refreshed": lanes, capabilities and TTL
 * replaced, heartbeat now). A live registration of the instance under
 * another worker_id is refused; a lapsed one is replaced.
 */
PG_FUNCTION_INFO_V1(ff_register_worker);
Datum
ff_register_worker(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr insert_plan = NULL;
	static SPIPlanPtr lock_plan = NULL;
	static SPIPlanPtr update_plan = NULL;
	static const Oid insert_types[8] = {
		TEXTOID, TEXTOID, INT2OID, TEXTOID, TEXTARRAYOID, TEXTARRAYOID, INT8OID, INT8OID
	};
	MemoryContext outer = CurrentMemoryContext;
	char	   *worker_id = arg_worker_id(fcinfo, 0, "worker_id");
	char	   *instance = arg_worker_id(fcinfo, 1, "worker_instance_id");
	ArrayType  *lanes = PG_ARGISNULL(2) ? construct_empty_array(TEXTOID) : PG_GETARG_ARRAYTYPE_P(2);
	ArrayType  *caps = PG_ARGISNULL(3) ? construct_empty_array(TEXTOID) : PG_GETARG_ARRAYTYPE_P(3);
	int64		ttl = PG_ARGISNULL(4) ? 30000 : PG_GETARG_INT64(4);
	char	   *ns = arg_namespace(fcinfo, 5);
	const char *outcome = NULL;
	int64		now;
	Datum		v[8];
	Datum	   *elems;
	bool	   *nulls_in;
	int			nlanes;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	Datum		result;

	if (ARR_NDIM(lanes) > 1)
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "lanes must be a one-dimensional array");
	deconstruct_array(lanes, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls_in, &nlanes);
	if (nlanes > FF_SCHED_MAX_LANES)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: a worker serves at most %d lanes", FF_SCHED_MAX_LANES)));
	for (int i = 0; i < nlanes; i++)
	{
		char	   *lane;

		if (nulls_in[i])
			ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "lanes must not contain null");
		lane = TextDatumGetCString(elems[i]);
		ff_check_lane(lane, strlen(lane));
	}
	ff_check_capabilities(caps, "capabilities", ERRCODE_FF_INVALID_CAPABILITIES);
	if (ttl <= 0 || ttl > FF_MAX_LIVENESS_TTL_MS)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: liveness_ttl_ms must be between 1 and %lld",
						(long long) FF_MAX_LIVENESS_TTL_MS)));

	SPI_connect();
	now = ff_now_ms();
	v[0] = CStringGetTextDatum(ns);
	v[1] = CStringGetTextDatum(instance);
	v[2] = Int16GetDatum(registry_partition(instance));
	v[3] = CStringGetTextDatum(worker_id);
	v[4] = PointerGetDatum(lanes);
	v[5] = PointerGetDatum(caps);
	v[6] = Int64GetDatum(ttl);
	v[7] = Int64GetDatum(now);
	ff_prepare(&insert_plan,
			   "INSERT INTO ff_worker_registry (namespace, worker_instance_id, partition_key, "
			   "worker_id, lanes, capabilities, liveness_ttl_ms, last_heartbeat_ms, registered_at_ms) "
			   "VALUES ($1, $2, $3, $4, "
			   "ARRAY(SELECT DISTINCT l COLLATE \"C\" FROM unnest($5::text[]) l ORDER BY 1), "
			   "ARRAY(SELECT DISTINCT c COLLATE \"C\" FROM unnest($6::text[]) c ORDER BY 1), $7, $8, $8) "
			   "ON CONFLICT (namespace, worker_instance_id) DO NOTHING",
			   8, insert_types);
	ff_prepare(&lock_plan,
			   "SELECT worker_id, last_heartbeat_ms + liveness_ttl_ms > $8 FROM ff_worker_registry "
			   "WHERE namespace = $1 AND worker_instance_id = $2 FOR UPDATE",
			   8, insert_types);
	ff_prepare(&update_plan,
			   "UPDATE ff_worker_registry SET worker_id = $4, "
			   "lanes = ARRAY(SELECT DISTINCT l COLLATE \"C\" FROM unnest($5::text[]) l ORDER BY 1), "
			   "capabilities = ARRAY(SELECT DISTINCT c COLLATE \"C\" FROM unnest($6::text[]) c ORDER BY 1), "
			   "liveness_ttl_ms = $7, last_heartbeat_ms = $8, "
			   "registered_at_ms = CASE WHEN last_heartbeat_ms + liveness_ttl_ms > $8 "
			   "                        THEN registered_at_ms ELSE $8 END, "
			   "partition_key = $3 "
			   "WHERE namespace = $1 AND worker_instance_id = $2",
			   8, insert_types);
	/* a concurrent expiry may delete the row between the two statements */
	for (int tries = 0; outcome == NULL && tries < 3; tries++)
	{
		ff_execute(insert_plan, v, NULL, false, 0);
		if (SPI_processed == 1)
		{
			outcome = "registered";
			break;
		}
		ff_execute(lock_plan, v, NULL, false, 1);
		if (SPI_processed == 0)
			continue;
		{
			char	   *registered_to = ff_get_cstring(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
			bool		alive = ff_get_bool(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);

			if (alive && strcmp(registered_to, worker_id) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_FF_INVALID_INPUT),
						 errmsg("invalid_input: instance_id reassigned: worker instance %s is registered to worker %s",
								instance, registered_to),
						 errhint("Use a new worker_instance_id, or mark the old registration dead first.")));
			ff_execute(update_plan, v, NULL, false, 0);
			outcome = alive ? "refreshed" : "registered";
		}
	}
	if (outcome == NULL)
		elog(ERROR, "could not register worker instance %s", instance);
	if (strcmp(outcome, "registered") == 0)
		ff_emit_operator_event("worker_registered", NULL, NULL, instance, ns,
							   psprintf("{\"worker_id\": %s, \"liveness_ttl_ms\": %lld}",
										ff_json_quote(worker_id), (long long) ttl),
							   now);
	values[0] = CStringGetTextDatum(outcome);
	values[1] = Int64GetDatum(now + ttl);
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

/*
 * ff_heartbeat_worker keeps a live registration alive ("refreshed", with
 * the next expiry); a missing or lapsed one is "not_registered" (register
 * again).
 */
PG_FUNCTION_INFO_V1(ff_heartbeat_worker);
Datum
ff_heartbeat_worker(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[3] = {TEXTOID, TEXTOID, INT8OID};
	MemoryContext outer = CurrentMemoryContext;
	char	   *instance = arg_worker_id(fcinfo, 0, "worker_instance_id");
	char	   *ns = arg_namespace(fcinfo, 1);
	Datum		v[3];
	Datum		values[2];
	bool		nulls[2] = {false, false};
	Datum		result;

	SPI_connect();
	ff_prepare(&plan,
			   "UPDATE ff_worker_registry SET last_heartbeat_ms = $3 "
			   "WHERE namespace = $1 AND worker_instance_id = $2 "
			   "AND last_heartbeat_ms + liveness_ttl_ms > $3 "
			   "RETURNING $3 + liveness_ttl_ms",
			   3, types);
	v[0] = CStringGetTextDatum(ns);
	v[1] = CStringGetTextDatum(instance);
	v[2] = Int64GetDatum(ff_now_ms());
	ff_execute(plan, v, NULL, false, 0);
	if (SPI_processed == 1)
	{
		values[0] = CStringGetTextDatum("refreshed");
		values[1] = Int64GetDatum(ff_get_int64(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, 0));
	}
	else
	{
		values[0] = CStringGetTextDatum("not_registered");
		nulls[1] = true;
	}
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

/*
 * ff_mark_worker_dead removes a registration ("marked") and releases the
 * instance's leases for reclaim, unless the instance is alive in another
 * namespace; "not_registered" if there was none.
 */
PG_FUNCTION_INFO_V1(ff_mark_worker_dead);
Datum
ff_mark_worker_dead(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[2] = {TEXTOID, TEXTOID};
	MemoryContext outer = CurrentMemoryContext;
	char	   *instance = arg_worker_id(fcinfo, 0, "worker_instance_id");
	char	   *ns = arg_namespace(fcinfo, 1);
	char	   *reason = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	int32		released = 0;
	int64		now;
	Datum		v[2];
	Datum		values[2];
	bool		nulls[2] = {false, false};
	Datum		result;

	if (reason)
	{
		if (strlen(reason) > FF_REASON_MAX_BYTES)
			ereport(ERROR,
					(errcode(ERRCODE_FF_INVALID_INPUT),
					 errmsg("invalid_input: reason: exceeds %d bytes (got %zu)", FF_REASON_MAX_BYTES,
							strlen(reason))));
		for (const unsigned char *p = (const unsigned char *) reason; *p; p++)
			if (*p < 0x20 || *p == 0x7f)
				ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input",
						 "reason: must not contain control characters");
	}

	SPI_connect();
	now = ff_now_ms();
	ff_prepare(&plan,
			   "DELETE FROM ff_worker_registry WHERE namespace = $1 AND worker_instance_id = $2 "
			   "RETURNING worker_id",
			   2, types);
	v[0] = CStringGetTextDatum(ns);
	v[1] = CStringGetTextDatum(instance);
	ff_execute(plan, v, NULL, false, 0);
	if (SPI_processed == 0)
		values[0] = CStringGetTextDatum("not_registered");
	else
	{
		char	   *worker_id = ff_get_cstring(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (!alive_elsewhere(instance, now))
			released = ff_release_worker_leases(instance, "worker_dead", now);
		ff_emit_operator_event("worker_marked_dead", NULL, NULL, instance, ns,
							   psprintf("{\"worker_id\": %s, \"reason\": %s, \"leases_released\": %d}",
										ff_json_quote(worker_id), ff_json_quote(reason), released),
							   now);
		values[0] = CStringGetTextDatum("marked");
	}
	values[1] = Int32GetDatum(released);
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

/*
 * ff_reconcile_worker_expiry removes registrations whose liveness TTL ran
 * out and releases their leases; returns how many workers it expired.
 */
PG_FUNCTION_INFO_V1(ff_reconcile_worker_expiry);
Datum
ff_reconcile_worker_expiry(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[2] = {INT8OID, INT4OID};
	int32		batch = ff_arg_batch_size(fcinfo, 0);
	int64		now;
	Datum		v[2];
	List	   *expired = NIL;
	ListCell   *lc;
	int32		count;

	SPI_connect();
	now = ff_now_ms();
	ff_prepare(&plan,
			   "DELETE FROM ff_worker_registry WHERE ctid = ANY (ARRAY("
			   "SELECT ctid FROM ff_worker_registry WHERE last_heartbeat_ms + liveness_ttl_ms <= $1 "
			   "ORDER BY last_heartbeat_ms + liveness_ttl_ms LIMIT $2 FOR UPDATE SKIP LOCKED)) "
			   "RETURNING namespace, worker_instance_id, worker_id, last_heartbeat_ms",
			   2, types);
	v[0] = Int64GetDatum(now);
	v[1] = Int32GetDatum(batch);
	ff_execute(plan, v, NULL, false, 0);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	  **row = palloc(sizeof(char *) * 4);

		for (int c = 0; c < 3; c++)
			row[c] = ff_get_cstring(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, c + 1);
		row[3] = psprintf("%lld", (long long) ff_get_int64(SPI_tuptable->vals[i],
														   SPI_tuptable->tupdesc, 4, 0));
		expired = lappend(expired, row);
	}
	count = list_length(expired);
	foreach(lc, expired)
	{
		char	  **row = lfirst(lc);
		int32		released = 0;

		if (!alive_elsewhere(row[1], now))
			released = ff_release_worker_leases(row[1], "worker_expired", now);
		ff_emit_operator_event("worker_expired", NULL, NULL, row[1], row[0],
							   psprintf("{\"worker_id\": %s, \"last_heartbeat_ms\": %s, \"leases_released\": %d}",
										ff_json_quote(row[2]), row[3], released),
							   now);
	}
	SPI_finish();
	PG_RETURN_INT32(count);
}

/*
 * ff_list_workers pages through one namespace's registrations (alive or
 * lapsed but not yet expired by the reconciler) by worker_instance_id.
 */
PG_FUNCTION_INFO_V1(ff_list_workers);
Datum
ff_list_workers(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[4] = {TEXTOID, TEXTOID, INT4OID, INT8OID};
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *ns;
	int32		max_results = PG_ARGISNULL(2) ? 100 : PG_GETARG_INT32(2);
	Datum		v[4];
	char		n[5] = "    ";

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: namespace must not be null (workers are listed one namespace at a time)")));
	ns = arg_namespace(fcinfo, 0);
	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	ff_prepare(&plan,
			   "SELECT worker_instance_id::text, worker_id, namespace::text, lanes, capabilities, "
			   "last_heartbeat_ms, liveness_ttl_ms, last_heartbeat_ms + liveness_ttl_ms, "
			   "registered_at_ms, last_heartbeat_ms + liveness_ttl_ms > $4 "
			   "FROM ff_worker_registry WHERE namespace = $1 "
			   "AND ($2::text IS NULL OR worker_instance_id > $2::text) "
			   "ORDER BY worker_instance_id LIMIT greatest(least($3, 1000), 0)",
			   4, types);
	v[0] = CStringGetTextDatum(ns);
	v[1] = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
	n[1] = PG_ARGISNULL(1) ? 'n' : ' ';
	v[2] = Int32GetDatum(max_results);
	v[3] = Int64GetDatum(ff_now_ms());
	ff_execute(plan, v, n, true, 0);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		Datum		values[10];
		bool		nulls[10];

		heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, values, nulls);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

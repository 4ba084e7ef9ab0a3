/*
 * batch_fast.c
 *		The set-based path of ff_complete_many: plain completions fenced and
 *		written by one statement.
 *
 * Completing through the single call's code costs a batch one statement to
 * lock and read each execution and attempt, the transition in C, and one
 * statement to write the rows back: two index lookups per row and the rows
 * built twice. Most handles of a busy worker are plain -- a live lease on an
 * execution outside any flow, with no budget or quota attached -- and their
 * completion is always the same write. So ff_fast_complete first completes
 * those in ONE statement that fences each handle in its WHERE clause (the
 * same conditions as ff_fence_lock's FF_FENCE_OK) and writes what
 * ff_complete_handle would: the execution, its attempt, the lease release and
 * completion events, and the closing of a suspension, waitpoints and the
 * attempt's stream still open. Every handle it does not complete (stale,
 * expired, revoked, a replay, a flow member, budgets or quotas) is left to
 * the single call's code, which decides and reports exactly as before.
 *
 * Lock order is the engine's: the statement first locks every execution the
 * batch names, in (partition_key, execution_id) order, each before its
 * attempt, as lock_executions does for the rest (batch.c). Outbox order is
 * input order: the caller reserved two event ids per handle in input order
 * (released, then completion), used here and by the handles left to the
 * single call's code (ff_use_event_ids).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "batch.h"
#include "budget.h"
#include "stream.h"
#include "writeset.h"

#define NARGS 18

static int
compare_key(const void *a, const void *b)
{
	return ff_exec_key_cmp(&(*(FFFastItem *const *) a)->handle->key,
						   &(*(FFFastItem *const *) b)->handle->key);
}

static bool
same_execution(const FFFastItem *x, const FFFastItem *y)
{
	return ff_exec_key_cmp(&x->handle->key, &y->handle->key) == 0;
}

/*
 * ff_fast_complete completes the plain handles among items[0..n-1] (all
 * decoded, none refused yet) at now and sets done on each it completed
 * (none with flowfabric.set_based_batches off). Caller is SPI-connected and
 * outside a write scope.
 */
void
ff_fast_complete(FFFastItem *items, int n, int64 now)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[NARGS] = {
		INT2ARRAYOID, UUIDARRAYOID, INT4ARRAYOID, UUIDARRAYOID, UUIDARRAYOID, INT8ARRAYOID,
		BYTEAARRAYOID, INT8ARRAYOID, INT4ARRAYOID, BOOLARRAYOID, INT8OID,
		TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID
	};
	/* the element types of the ten arrays, $1 .. $10 */
	static const Oid col_types[10] = {
		INT2OID, UUIDOID, INT4OID, UUIDOID, UUIDOID, INT8OID, BYTEAOID, INT8OID, INT4OID, BOOLOID
	};
	FFFastItem **order;
	SPITupleTable *rows;
	uint64		nrows;
	Datum	   *cols[10];
	bool	   *payload_nulls;
	Datum		v[NARGS];

	for (int i = 0; i < n; i++)
		items[i].done = false;
	if (n == 0 || !ff_set_based_batches)
		return;
	order = palloc(sizeof(FFFastItem *) * n);
	for (int i = 0; i < n; i++)
	{
		items[i].index = i;
		order[i] = &items[i];
	}
	qsort(order, n, sizeof(FFFastItem *), compare_key);

	for (int c = 0; c < 10; c++)
		cols[c] = palloc(sizeof(Datum) * n);
	payload_nulls = palloc(sizeof(bool) * n);
	for (int i = 0; i < n; i++)
	{
		const FFFastItem *it = order[i];
		const FFHandle *h = it->handle;

		cols[0][i] = Int16GetDatum(h->key.partition);
		cols[1][i] = UUIDPGetDatum(&h->key.uuid);
		cols[2][i] = Int32GetDatum((int32) h->attempt_index);
		cols[3][i] = UUIDPGetDatum(&h->lease_id);
		cols[4][i] = UUIDPGetDatum(&h->attempt_id);
		cols[5][i] = Int64GetDatum((int64) h->lease_epoch);
		cols[6][i] = PointerGetDatum(it->payload);
		payload_nulls[i] = it->payload == NULL;
		cols[7][i] = Int64GetDatum(it->event_id);
		cols[8][i] = Int32GetDatum(it->index);

		/*
		 * Handles sharing an execution act on each other (the first
		 * completes, the next is a replay or stale): they are only locked
		 * here, and left to the single call's code, which takes them in
		 * input order.
		 */
		cols[9][i] = BoolGetDatum(!((i > 0 && same_execution(order[i - 1], it)) ||
									(i + 1 < n && same_execution(order[i + 1], it))));
	}
	for (int c = 0; c < 10; c++)
		v[c] = ff_array_param(cols[c], c == 6 ? payload_nulls : NULL, n, col_types[c]);
	v[10] = Int64GetDatum(now);
	ff_state_vector_params(&ff_sv_completed, &v[11]);

	/*
	 * k locks every execution the handles name, in key order, whether or
	 * not this statement completes it: the handles left to the single
	 * call's code then wait for nobody, so two batches cannot deadlock. e
	 * fences and completes, by the row version k locked: a live lease of the
	 * handle's own attempt (ff_fence_lock's FF_FENCE_OK) on a plain
	 * execution. Its RETURNING carries everything the other rows need, so
	 * no CTE output is joined to another. The close parts are writeset.c's
	 * own statements.
	 */
	if (plan == NULL)
	{
		const char *closing = "(SELECT partition_key, execution_id, $11 AS closed_at_ms,"
			" 'execution_' || $16 AS close_reason FROM e) u";

		ff_prepare_generic(&plan, psprintf(
			"WITH k AS ("
			" SELECT k.*, t.ctid AS row_id"
			" FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
			"   AS k(p, x, ai, lease_id, attempt_id, epoch, payload, event_id, item, offered)"
			" JOIN ff_execution t ON t.partition_key = k.p AND t.execution_id = k.x"
			" ORDER BY k.p, k.x FOR UPDATE OF t),"
			"e AS ("
			" UPDATE ff_execution t SET lifecycle_phase = $12, ownership_state = $13,"
			"  eligibility_state = $14, blocking_reason = $15, terminal_outcome = $16,"
			"  attempt_state = $17, public_state = $18, blocking_detail = NULL,"
			"  delay_until_ms = NULL, terminal_at_ms = $11, last_mutation_at_ms = $11,"
			"  result = k.payload"
			" FROM k, ff_attempt a"
			" WHERE t.ctid = k.row_id AND k.offered"
			"  AND a.partition_key = k.p AND a.execution_id = k.x AND a.attempt_index = k.ai"
			"  AND t.lifecycle_phase = 'active' AND t.ownership_state = 'leased'"
			"  AND t.attempt_index = k.ai AND t.lease_epoch = k.epoch"
			"  AND t.flow_id IS NULL"
			"  AND " FF_NO_ADMISSION_SQL("t.policy")
			"  AND a.lease_id = k.lease_id AND a.attempt_id = k.attempt_id"
			"  AND a.lease_epoch = k.epoch AND a.attempt_lifecycle = 'started'"
			"  AND a.lease_expires_at_ms > $11"
			" RETURNING t.partition_key, t.execution_id, t.attempt_index, t.lease_epoch,"
			"  t.namespace, t.lane_id, a.lease_id, a.worker_id, a.worker_instance_id,"
			"  k.event_id, k.item),"
			"ea AS ("
			" UPDATE ff_attempt a SET attempt_lifecycle = 'ended_success', end_reason = 'completed',"
			"  ended_at_ms = $11, lease_expires_at_ms = NULL, timeout_at_ms = NULL"
			" FROM e WHERE a.partition_key = e.partition_key AND a.execution_id = e.execution_id"
			"  AND a.attempt_index = e.attempt_index),"
			"le AS ("
			" INSERT INTO ff_lease_event (event_id, partition_key, execution_id, attempt_index,"
			"  lease_id, lease_epoch, event_type, reason, worker_id, worker_instance_id,"
			"  namespace, occurred_at_ms)"
			" SELECT event_id, partition_key, execution_id, attempt_index, lease_id, lease_epoch,"
			"  'released', 'completed', worker_id, worker_instance_id, namespace, $11 FROM e),"
			"ce AS ("
			" INSERT INTO ff_completion_event (event_id, partition_key, execution_id, outcome,"
			"  namespace, lane_id, attempt_index, occurred_at_ms)"
			" SELECT event_id + 1, partition_key, execution_id, $16, namespace, lane_id,"
			"  attempt_index, $11 FROM e),"
			"sc AS (%s),"
			"wc AS (%s),"
			"st AS (%s RETURNING t.partition_key, t.execution_id, t.attempt_index)"
			"SELECT item, NULL::smallint, NULL::uuid FROM e "
			"UNION ALL SELECT attempt_index, partition_key, execution_id FROM st",
			ff_write_close_sql(FF_WRITE_SUSPENSION_CLOSE, closing),
			ff_write_close_sql(FF_WRITE_WAITPOINT_CLOSE, closing),
			ff_write_close_sql(FF_WRITE_STREAM_CLOSE,
							   "(SELECT partition_key, execution_id, attempt_index,"
							   " $11 AS closed_at_ms, 'completed' AS closed_reason FROM e) u")),
			NARGS, types);
	}
	ff_execute(plan, v, NULL, false, 0);
	rows = SPI_tuptable;
	nrows = SPI_processed;
	for (uint64 r = 0; r < nrows; r++)
	{
		HeapTuple	tuple = rows->vals[r];
		TupleDesc	desc = rows->tupdesc;
		bool		isnull;
		int32		first = DatumGetInt32(SPI_getbinval(tuple, desc, 1, &isnull));
		Datum		partition = SPI_getbinval(tuple, desc, 2, &isnull);

		if (isnull)
		{
			/* a completed execution: as ff_complete_handle announces it */
			FFFastItem *it = &items[first];

			it->done = true;
			ff_notify_event("ff_lease_event", it->event_id);
			ff_notify_event("ff_completion", it->event_id + 1);
		}
		else
		{
			/* an attempt's stream it closed */
			FFExecKey	key;

			key.partition = DatumGetInt16(partition);
			key.uuid = *DatumGetUUIDP(SPI_getbinval(tuple, desc, 3, &isnull));
			ff_stream_closed(&key, first);
		}
	}
}

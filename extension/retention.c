/*
 * retention.c
 *		Retention of finished executions and of the outboxes
 *		(docs/reconcilers.md#retention).
 *
 * ff_reconcile_retention(batch_size) deletes up to batch_size executions
 * that have been terminal for at least flowfabric.retention_ms, oldest
 * first, each with every row that belongs to it:
 *   - by ff_execution's delete trigger: its attempts (and through them, by
 *     ON DELETE CASCADE, its streams: meta, frames, summary); by ON DELETE
 *     CASCADE from ff_execution: its suspensions, waitpoints, signals, signal
 *     and suspend dedup keys, claim grants and replay count;
 *   - explicitly: the idempotency keys naming it, and its events in every
 *     outbox (completion, lease, signal, operator), so no event is left
 *     about an execution that no longer exists.
 * Kept: the budget ledger (ff_budget_usage_by_exec is the budget's usage of
 * its current reset epoch; budget resets delete older epochs), quota windows
 * and admission guards (they expire with their window), lanes.
 *
 * A flow member is deleted only together with its whole flow: once every
 * member is terminal, the newest terminal for retention_ms, and no flow
 * cancel is still being worked off. Until then an edge from it may still be
 * resolved, and the flow's derived state and counts describe all members.
 * The flow goes with its edges, edge groups and summary; a flow with more
 * members than one batch takes several, each consistent (node_count is the
 * members left, the edges are gone from the first). Finished flows are found
 * by a resumable sweep over the terminal flow members (its position is kept
 * in ff_retention_state), so members of flows that are still running never
 * have to be scanned again and again.
 *
 * ff_reconcile_event_retention(batch_size) deletes up to batch_size events
 * of the lease, signal and operator outboxes that are older than
 * flowfabric.event_retention_ms and below the delivery horizon, walking each
 * outbox in event-id order (its primary key; no index on the hot path).
 * Completion events are an execution's record of how it ended (one per
 * terminal transition, which ff_check_invariants verifies): they are kept as
 * long as their execution and deleted with it.
 *
 * Every row lock is taken SKIP LOCKED, in the engine's order (flow row, then
 * execution rows, then what belongs to them): retention never waits for a
 * transition and never deletes a row one holds; it comes back to it at its
 * next run.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"

#include "retention.h"

double		ff_retention_ms = FF_RETENTION_DEFAULT_MS;
double		ff_event_retention_ms = FF_EVENT_RETENTION_DEFAULT_MS;

/* Longest retention accepted: 100 years. */
#define FF_RETENTION_MAX_MS		(100.0 * 365 * 24 * 3600 * 1000)

/* Flow-member index rows one sweep step examines per execution it may delete. */
#define FLOW_SCAN_FACTOR		10
#define FLOW_SCAN_MAX			100000

void
ff_retention_init(void)
{
	DefineCustomRealVariable("flowfabric.retention_ms",
							 "How long a finished execution is kept after it became terminal.",
							 "ff_reconcile_retention then deletes it with its attempts, streams, "
							 "suspensions, signals, idempotency keys and events (a flow member "
							 "only with its whole flow). 0 or -1 keeps finished executions forever.",
							 &ff_retention_ms,
							 FF_RETENTION_DEFAULT_MS, -1, FF_RETENTION_MAX_MS,
							 PGC_SUSET,
							 GUC_UNIT_MS,
							 NULL, NULL, NULL);

	DefineCustomRealVariable("flowfabric.event_retention_ms",
							 "How long lease, signal and operator outbox events are kept.",
							 "ff_reconcile_event_retention deletes older events once no running "
							 "transaction is older than them; a subscriber further behind misses "
							 "them. 0 or -1 keeps them forever.",
							 &ff_event_retention_ms,
							 FF_EVENT_RETENTION_DEFAULT_MS, -1, FF_RETENTION_MAX_MS,
							 PGC_SUSET,
							 GUC_UNIT_MS,
							 NULL, NULL, NULL);
}

/* ------------------------------------------------------------------------
 * A set of executions, passed to SQL as (smallint[], uuid[])
 * ------------------------------------------------------------------------ */

typedef struct KeySet
{
	int			n;
	int			cap;
	Datum	   *partitions;		/* int2 */
	Datum	   *uuids;			/* pg_uuid_t * */
} KeySet;

static void
keyset_init(KeySet *ks, int cap)
{
	ks->n = 0;
	ks->cap = Max(cap, 1);
	ks->partitions = palloc(sizeof(Datum) * ks->cap);
	ks->uuids = palloc(sizeof(Datum) * ks->cap);
}

/* keyset_add_result adds the (partition_key, execution_id) of every row of SPI's result. */
static void
keyset_add_result(KeySet *ks)
{
	SPITupleTable *tt = SPI_tuptable;

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		pg_uuid_t  *uuid = palloc(sizeof(pg_uuid_t));
		bool		isnull;

		if (ks->n == ks->cap)
		{
			ks->cap *= 2;
			ks->partitions = repalloc(ks->partitions, sizeof(Datum) * ks->cap);
			ks->uuids = repalloc(ks->uuids, sizeof(Datum) * ks->cap);
		}
		ks->partitions[ks->n] = SPI_getbinval(tt->vals[i], tt->tupdesc, 1, &isnull);
		if (!ff_get_uuid(tt->vals[i], tt->tupdesc, 2, uuid))
			elog(ERROR, "execution id is NULL");
		ks->uuids[ks->n] = UUIDPGetDatum(uuid);
		ks->n++;
	}
}

static void
keyset_arrays(const KeySet *ks, Datum *v)
{
	v[0] = PointerGetDatum(construct_array(ks->partitions, ks->n, INT2OID, sizeof(int16), true,
										   TYPALIGN_SHORT));
	v[1] = PointerGetDatum(construct_array(ks->uuids, ks->n, UUIDOID, UUID_LEN, false,
										   TYPALIGN_CHAR));
}

/* keyset_remove_result drops from the set every execution SPI's result names. */
static void
keyset_remove_result(KeySet *ks)
{
	SPITupleTable *tt = SPI_tuptable;
	int			kept = 0;

	for (int i = 0; i < ks->n; i++)
	{
		bool		drop = false;

		for (uint64 r = 0; r < SPI_processed && !drop; r++)
		{
			pg_uuid_t	uuid;
			bool		isnull;
			int16		partition = DatumGetInt16(SPI_getbinval(tt->vals[r], tt->tupdesc, 1, &isnull));

			drop = ff_get_uuid(tt->vals[r], tt->tupdesc, 2, &uuid)
				&& partition == DatumGetInt16(ks->partitions[i])
				&& memcmp(uuid.data, DatumGetUUIDP(ks->uuids[i])->data, UUID_LEN) == 0;
		}
		if (!drop)
		{
			ks->partitions[kept] = ks->partitions[i];
			ks->uuids[kept] = ks->uuids[i];
			kept++;
		}
	}
	ks->n = kept;
}

/* ------------------------------------------------------------------------
 * Deleting executions
 * ------------------------------------------------------------------------ */

/*
 * delete_executions deletes the executions of the set, which the caller has
 * locked, with their idempotency keys and outbox events (the rest follows by
 * the delete trigger and ON DELETE CASCADE). An execution whose idempotency
 * key another transaction holds (a create with the same key, in progress) is
 * left for the next run: deleting the execution under it would leave the key
 * naming nothing.
 * Returns the executions deleted.
 */
static int32
delete_executions(KeySet *ks)
{
	static SPIPlanPtr keys_plan = NULL;
	static SPIPlanPtr delete_plan = NULL;
	static const Oid types[2] = {INT2ARRAYOID, UUIDARRAYOID};
	Datum		v[2];

	if (ks->n == 0)
		return 0;
	keyset_arrays(ks, v);
	ff_prepare(&keys_plan,
			   "WITH b AS (SELECT * FROM unnest($1::smallint[], $2::uuid[]) AS b(p, e)), "
			   "mine AS (SELECT k.partition_key, k.namespace, k.idempotency_key "
			   "FROM ff_idempotency_key k JOIN b ON k.partition_key = b.p AND k.execution_id = b.e "
			   "FOR UPDATE OF k SKIP LOCKED), "
			   "gone AS (DELETE FROM ff_idempotency_key d USING mine m "
			   "WHERE d.partition_key = m.partition_key AND d.namespace = m.namespace "
			   "AND d.idempotency_key = m.idempotency_key) "
			   "SELECT DISTINCT k.partition_key, k.execution_id FROM ff_idempotency_key k "
			   "JOIN b ON k.partition_key = b.p AND k.execution_id = b.e "
			   "WHERE NOT EXISTS (SELECT 1 FROM mine m WHERE m.partition_key = k.partition_key "
			   "AND m.namespace = k.namespace AND m.idempotency_key = k.idempotency_key)",
			   2, types);
	ff_execute(keys_plan, v, NULL, false, 0);
	if (SPI_processed > 0)
	{
		keyset_remove_result(ks);
		if (ks->n == 0)
			return 0;
		keyset_arrays(ks, v);
	}

	ff_prepare(&delete_plan,
			   "WITH b AS (SELECT * FROM unnest($1::smallint[], $2::uuid[]) AS b(p, e)), "
			   "c AS (DELETE FROM ff_completion_event x USING b "
			   "WHERE x.partition_key = b.p AND x.execution_id = b.e), "
			   "l AS (DELETE FROM ff_lease_event x USING b "
			   "WHERE x.partition_key = b.p AND x.execution_id = b.e), "
			   "s AS (DELETE FROM ff_signal_event x USING b "
			   "WHERE x.partition_key = b.p AND x.execution_id = b.e), "
			   "o AS (DELETE FROM ff_operator_event x USING b WHERE x.execution_id IS NOT NULL "
			   "AND x.partition_key = b.p AND x.execution_id = b.e) "
			   "DELETE FROM ff_execution x USING b WHERE x.partition_key = b.p AND x.execution_id = b.e",
			   2, types);
	ff_execute(delete_plan, v, NULL, false, 0);
	return (int32) SPI_processed;
}

/*
 * retain_standalone deletes up to budget executions outside flows that have
 * been terminal since cutoff, oldest first.
 */
static int32
retain_standalone(int64 cutoff, int32 budget)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[2] = {INT8OID, INT4OID};
	Datum		v[2];
	KeySet		ks;

	if (budget <= 0)
		return 0;
	ff_prepare(&plan,
			   "SELECT partition_key, execution_id FROM ff_execution "
			   "WHERE lifecycle_phase = 'terminal' AND flow_id IS NULL AND terminal_at_ms <= $1 "
			   "ORDER BY terminal_at_ms LIMIT $2 FOR UPDATE SKIP LOCKED",
			   2, types);
	v[0] = Int64GetDatum(cutoff);
	v[1] = Int32GetDatum(budget);
	ff_execute(plan, v, NULL, false, 0);
	keyset_init(&ks, (int) SPI_processed);
	keyset_add_result(&ks);
	return delete_executions(&ks);
}

/* ------------------------------------------------------------------------
 * Flows
 * ------------------------------------------------------------------------ */

typedef enum FlowOutcome
{
	FLOW_GONE,					/* no such flow (any more) */
	FLOW_LOCKED,				/* lock_flow: the flow row is ours now */
	FLOW_HELD,					/* another transaction holds the flow row */
	FLOW_NOT_DUE,				/* a member is live or recent, or a cancel is pending */
	FLOW_PARTIAL,				/* some members deleted, the rest next run */
	FLOW_DONE					/* the flow and all its members are gone */
} FlowOutcome;

/* The sweep's position and the flow being deleted (the ff_retention_state row). */
typedef struct FlowState
{
	bool		locked;			/* we hold the state row: the flows are ours this run */
	bool		changed;
	bool		walked_to_end;	/* this run's sweep reached the end already */
	bool		has_scan;		/* else the sweep starts from the oldest */
	int64		scan_terminal_at;
	int16		scan_partition;
	pg_uuid_t	scan_execution;
	bool		has_flow;
	int16		flow_partition;
	pg_uuid_t	flow_id;
} FlowState;

typedef struct FlowKey
{
	int16		partition;
	pg_uuid_t	flow_id;
} FlowKey;

static void
flow_params(int16 partition, const pg_uuid_t *flow_id, Datum *v)
{
	v[0] = Int16GetDatum(partition);
	v[1] = ff_uuid_datum(flow_id);
}

/*
 * lock_flow locks the flow row (SKIP LOCKED), the first lock of everything
 * that changes a flow's graph.
 */
static FlowOutcome
lock_flow(int16 partition, const pg_uuid_t *flow_id)
{
	static SPIPlanPtr lock_plan = NULL;
	static SPIPlanPtr exists_plan = NULL;
	static const Oid types[2] = {INT2OID, UUIDOID};
	Datum		v[2];

	flow_params(partition, flow_id, v);
	ff_execute(ff_prepare(&lock_plan,
						  "SELECT 1 FROM ff_flow WHERE partition_key = $1 AND flow_id = $2 "
						  "FOR UPDATE SKIP LOCKED",
						  2, types),
			   v, NULL, false, 1);
	if (SPI_processed == 1)
		return FLOW_LOCKED;
	ff_execute(ff_prepare(&exists_plan,
						  "SELECT 1 FROM ff_flow WHERE partition_key = $1 AND flow_id = $2",
						  2, types),
			   v, NULL, false, 1);
	return SPI_processed == 1 ? FLOW_HELD : FLOW_GONE;
}

/*
 * retain_flow deletes a finished flow, or up to budget of its members when
 * it has more: the flow row first (SKIP LOCKED), then the check that every
 * member has been terminal since cutoff and no cancel is pending, then the
 * edges and edge groups, then the members (SKIP LOCKED, in id order).
 * *deleted is set to the members deleted.
 */
static FlowOutcome
retain_flow(int16 partition, const pg_uuid_t *flow_id, int64 cutoff, int64 now, int32 budget,
			int32 *deleted)
{
	static SPIPlanPtr check_plan = NULL;
	static SPIPlanPtr edges_plan = NULL;
	static SPIPlanPtr members_plan = NULL;
	static SPIPlanPtr update_plan = NULL;
	static SPIPlanPtr delete_plan = NULL;
	static const Oid types[4] = {INT2OID, UUIDOID, INT8OID, INT8OID};
	static const Oid members_types[3] = {INT2OID, UUIDOID, INT4OID};
	static const Oid update_types[4] = {INT2OID, UUIDOID, INT4OID, INT8OID};
	FlowOutcome locked;
	Datum		v[4];
	int32		members;
	int32		not_due;
	bool		backlog;
	int64		edges;
	bool		isnull;
	KeySet		ks;

	*deleted = 0;
	locked = lock_flow(partition, flow_id);
	if (locked != FLOW_LOCKED)
		return locked;

	flow_params(partition, flow_id, v);
	v[2] = Int64GetDatum(cutoff);
	ff_execute(ff_prepare(&check_plan,
						  "SELECT count(*)::integer, (count(*) FILTER (WHERE lifecycle_phase <> 'terminal' "
						  "OR terminal_at_ms IS NULL OR terminal_at_ms > $3))::integer, "
						  "EXISTS (SELECT 1 FROM ff_cancel_backlog c "
						  "WHERE c.partition_key = $1 AND c.flow_id = $2) "
						  "FROM ff_execution WHERE partition_key = $1 AND flow_id = $2",
						  3, types),
			   v, NULL, false, 1);
	members = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	not_due = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	backlog = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	if (members == 0 || not_due > 0 || backlog || budget <= 0)
		return FLOW_NOT_DUE;

	/* every member is over: the edges and groups have nothing left to resolve */
	ff_execute(ff_prepare(&edges_plan,
						  "WITH e AS (DELETE FROM ff_edge WHERE partition_key = $1 AND flow_id = $2 "
						  "RETURNING 1), g AS (DELETE FROM ff_edge_group "
						  "WHERE partition_key = $1 AND flow_id = $2 RETURNING 1) "
						  "SELECT (SELECT count(*) FROM e) + (SELECT count(*) FROM g)",
						  2, types),
			   v, NULL, false, 1);
	edges = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

	v[2] = Int32GetDatum(budget);
	ff_execute(ff_prepare(&members_plan,
						  "SELECT partition_key, execution_id FROM ff_execution "
						  "WHERE partition_key = $1 AND flow_id = $2 "
						  "ORDER BY execution_id LIMIT $3 FOR UPDATE SKIP LOCKED",
						  3, members_types),
			   v, NULL, false, 0);
	keyset_init(&ks, (int) SPI_processed);
	keyset_add_result(&ks);
	*deleted = delete_executions(&ks);

	flow_params(partition, flow_id, v);
	if (*deleted == members)
	{
		ff_execute(ff_prepare(&delete_plan,
							  "WITH s AS (DELETE FROM ff_flow_summary "
							  "WHERE partition_key = $1 AND flow_id = $2) "
							  "DELETE FROM ff_flow WHERE partition_key = $1 AND flow_id = $2",
							  2, types),
				   v, NULL, false, 0);
		return FLOW_DONE;
	}
	if (*deleted == 0 && edges == 0)
		return FLOW_PARTIAL;	/* its members are held: nothing changed */
	v[2] = Int32GetDatum(members - *deleted);
	v[3] = Int64GetDatum(now);
	ff_execute(ff_prepare(&update_plan,
						  "UPDATE ff_flow SET node_count = $3, edge_count = 0, "
						  "graph_revision = graph_revision + 1, last_mutation_at_ms = $4 "
						  "WHERE partition_key = $1 AND flow_id = $2",
						  4, update_types),
			   v, NULL, false, 0);
	return FLOW_PARTIAL;
}

static void
load_state(FlowState *st)
{
	static SPIPlanPtr lock_plan = NULL;
	static SPIPlanPtr insert_plan = NULL;
	SPITupleTable *tt;
	bool		isnull;

	memset(st, 0, sizeof(*st));
	ff_execute(ff_prepare(&lock_plan,
						  "SELECT scan_terminal_at_ms, scan_partition, scan_execution_id, "
						  "flow_partition, flow_id FROM ff_retention_state FOR UPDATE SKIP LOCKED",
						  0, NULL),
			   NULL, NULL, false, 1);
	if (SPI_processed == 0)
	{
		/* held by another run (its flows), or missing: put it back */
		ff_execute(ff_prepare(&insert_plan,
							  "INSERT INTO ff_retention_state DEFAULT VALUES ON CONFLICT DO NOTHING",
							  0, NULL),
				   NULL, NULL, false, 0);
		st->locked = SPI_processed == 1;
		return;
	}
	st->locked = true;
	tt = SPI_tuptable;
	st->scan_terminal_at = ff_get_int64(tt->vals[0], tt->tupdesc, 1, FF_NULL_MS);
	st->has_scan = st->scan_terminal_at != FF_NULL_MS;
	if (st->has_scan)
	{
		st->scan_partition = DatumGetInt16(SPI_getbinval(tt->vals[0], tt->tupdesc, 2, &isnull));
		st->has_scan = !isnull && ff_get_uuid(tt->vals[0], tt->tupdesc, 3, &st->scan_execution);
	}
	st->flow_partition = DatumGetInt16(SPI_getbinval(tt->vals[0], tt->tupdesc, 4, &isnull));
	st->has_flow = !isnull && ff_get_uuid(tt->vals[0], tt->tupdesc, 5, &st->flow_id);
}

static void
save_state(const FlowState *st, int64 now)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[6] = {INT8OID, INT2OID, UUIDOID, INT2OID, UUIDOID, INT8OID};
	Datum		v[6];
	char		n[7] = "      ";

	if (!st->locked || !st->changed)
		return;
	v[0] = Int64GetDatum(st->scan_terminal_at);
	v[1] = Int16GetDatum(st->scan_partition);
	v[2] = ff_uuid_datum(&st->scan_execution);
	if (!st->has_scan)
		n[0] = n[1] = n[2] = 'n';
	v[3] = Int16GetDatum(st->flow_partition);
	v[4] = ff_uuid_datum(&st->flow_id);
	if (!st->has_flow)
		n[3] = n[4] = 'n';
	v[5] = Int64GetDatum(now);
	ff_execute(ff_prepare(&plan,
						  "UPDATE ff_retention_state SET scan_terminal_at_ms = $1, scan_partition = $2, "
						  "scan_execution_id = $3, flow_partition = $4, flow_id = $5, updated_at_ms = $6",
						  6, types),
			   v, n, false, 0);
}

/*
 * retain_flows deletes finished flows, up to budget members: first the flow
 * whose deletion an earlier run began, then the flows the sweep finds next.
 * The sweep walks the terminal flow members (terminal since cutoff) in
 * (terminal_at_ms, partition_key, execution_id) order from where it stopped,
 * checks each flow once, and wraps around at the end; each step examines at
 * most FLOW_SCAN_FACTOR rows per member it may delete.
 */
static int32
retain_flows(FlowState *st, int64 cutoff, int64 now, int32 budget)
{
	static SPIPlanPtr walk_plan = NULL;
	static const Oid walk_types[5] = {INT8OID, INT8OID, INT2OID, UUIDOID, INT4OID};
	int32		total = 0;
	int32		limit;
	int32		d;
	uint64		nrows;
	uint64		i;
	Datum		v[5];
	SPITupleTable *tt;
	HASHCTL		ctl;
	HTAB	   *seen;
	pg_uuid_t	nil;

	if (budget <= 0 || !st->locked)
		return 0;

	if (st->has_flow)
	{
		FlowOutcome o = retain_flow(st->flow_partition, &st->flow_id, cutoff, now, budget, &d);

		total += d;
		budget -= d;
		if (o == FLOW_HELD || o == FLOW_PARTIAL)
			return total;		/* again next run */
		st->has_flow = false;	/* done, gone, or a member was added */
		st->changed = true;
	}
	if (budget <= 0 || st->walked_to_end)
		return total;

	limit = (int32) Min((int64) budget * FLOW_SCAN_FACTOR, FLOW_SCAN_MAX);
	memset(&nil, 0, sizeof(nil));
	v[0] = Int64GetDatum(cutoff);
	v[1] = Int64GetDatum(st->has_scan ? st->scan_terminal_at : PG_INT64_MIN);
	v[2] = Int16GetDatum(st->has_scan ? st->scan_partition : PG_INT16_MIN);
	v[3] = ff_uuid_datum(st->has_scan ? &st->scan_execution : &nil);
	v[4] = Int32GetDatum(limit);
	ff_execute(ff_prepare(&walk_plan,
						  "SELECT terminal_at_ms, partition_key, execution_id, flow_id FROM ff_execution "
						  "WHERE lifecycle_phase = 'terminal' AND flow_id IS NOT NULL "
						  "AND terminal_at_ms <= $1 "
						  "AND (terminal_at_ms, partition_key, execution_id) > ($2, $3, $4) "
						  "ORDER BY terminal_at_ms, partition_key, execution_id LIMIT $5",
						  5, walk_types),
			   v, NULL, false, 0);
	tt = SPI_tuptable;			/* stays valid until SPI_finish */
	nrows = SPI_processed;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(FlowKey);
	ctl.entrysize = sizeof(FlowKey);
	ctl.hcxt = CurrentMemoryContext;
	seen = hash_create("flowfabric retention flows", 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	for (i = 0; i < nrows && budget > 0; i++)
	{
		HeapTuple	row = tt->vals[i];
		FlowKey		key;
		bool		found;
		bool		isnull;
		FlowOutcome o;

		memset(&key, 0, sizeof(key));
		key.partition = DatumGetInt16(SPI_getbinval(row, tt->tupdesc, 2, &isnull));
		ff_get_uuid(row, tt->tupdesc, 4, &key.flow_id);
		/* the sweep has passed this row */
		st->has_scan = true;
		st->scan_terminal_at = ff_get_int64(row, tt->tupdesc, 1, 0);
		st->scan_partition = key.partition;
		ff_get_uuid(row, tt->tupdesc, 3, &st->scan_execution);
		st->changed = true;

		hash_search(seen, &key, HASH_ENTER, &found);
		if (found)
			continue;
		o = retain_flow(key.partition, &key.flow_id, cutoff, now, budget, &d);
		total += d;
		budget -= d;
		if (o == FLOW_PARTIAL)
		{
			st->has_flow = true;
			st->flow_partition = key.partition;
			st->flow_id = key.flow_id;
			return total;
		}
	}
	if (i == nrows && nrows < (uint64) limit)
	{
		/* the end: the next step starts from the oldest again */
		st->changed |= st->has_scan;
		st->has_scan = false;
		st->walked_to_end = true;
	}
	return total;
}

/*
 * ff_reconcile_retention(batch_size) deletes up to batch_size executions
 * that have been terminal for flowfabric.retention_ms (nothing when it is 0
 * or less), with all that belongs to them: finished flows with their
 * members (up to half the batch while others wait too), then executions
 * outside flows, oldest first. Returns the executions deleted.
 */
PG_FUNCTION_INFO_V1(ff_reconcile_retention);
Datum
ff_reconcile_retention(PG_FUNCTION_ARGS)
{
	int32		batch = ff_arg_batch_size(fcinfo, 0);
	int32		deleted = 0;
	int64		now;
	int64		cutoff;
	FlowState	st;

	if (ff_retention_ms <= 0)
		PG_RETURN_INT32(0);
	now = ff_now_ms();
	cutoff = now - (int64) ff_retention_ms;

	SPI_connect();
	load_state(&st);
	deleted += retain_flows(&st, cutoff, now, (batch + 1) / 2);
	deleted += retain_standalone(cutoff, batch - deleted);
	if (deleted < batch)
		deleted += retain_flows(&st, cutoff, now, batch - deleted);
	save_state(&st, now);
	SPI_finish();
	PG_RETURN_INT32(deleted);
}

/* ------------------------------------------------------------------------
 * Outbox events
 * ------------------------------------------------------------------------ */

#define NUM_AGED_OUTBOXES	3

/*
 * prune_outbox deletes, among the first limit events of outbox i in event-id
 * order below the delivery horizon, those that occurred at or before cutoff.
 */
static int32
prune_outbox(int i, int64 horizon, int64 cutoff, int32 limit)
{
	static SPIPlanPtr plans[NUM_AGED_OUTBOXES];
	static const char *const sql[NUM_AGED_OUTBOXES] = {
		"DELETE FROM ff_lease_event WHERE event_id = ANY (ARRAY (SELECT event_id FROM ff_lease_event "
		"WHERE event_id < $1 ORDER BY event_id LIMIT $3 FOR UPDATE SKIP LOCKED)) "
		"AND occurred_at_ms <= $2",
		"DELETE FROM ff_signal_event WHERE event_id = ANY (ARRAY (SELECT event_id FROM ff_signal_event "
		"WHERE event_id < $1 ORDER BY event_id LIMIT $3 FOR UPDATE SKIP LOCKED)) "
		"AND delivered_at_ms <= $2",
		"DELETE FROM ff_operator_event WHERE event_id = ANY (ARRAY (SELECT event_id FROM ff_operator_event "
		"WHERE event_id < $1 ORDER BY event_id LIMIT $3 FOR UPDATE SKIP LOCKED)) "
		"AND occurred_at_ms <= $2",
	};
	static const Oid types[3] = {INT8OID, INT8OID, INT4OID};
	Datum		v[3];

	if (limit <= 0)
		return 0;
	v[0] = Int64GetDatum(horizon);
	v[1] = Int64GetDatum(cutoff);
	v[2] = Int32GetDatum(limit);
	ff_execute(ff_prepare(&plans[i], sql[i], 3, types), v, NULL, false, 0);
	return (int32) SPI_processed;
}

/*
 * ff_reconcile_event_retention(batch_size) deletes up to batch_size lease,
 * signal and operator events older than flowfabric.event_retention_ms
 * (nothing when it is 0 or less), never one a subscriber cannot have read
 * yet because an older transaction is still running. Each outbox gets a
 * third of the batch, then what the others left. Returns the events deleted.
 */
PG_FUNCTION_INFO_V1(ff_reconcile_event_retention);
Datum
ff_reconcile_event_retention(PG_FUNCTION_ARGS)
{
	int32		batch = ff_arg_batch_size(fcinfo, 0);
	int32		share = Max(batch / NUM_AGED_OUTBOXES, 1);
	int32		left = batch;
	int32		got[NUM_AGED_OUTBOXES];
	int64		horizon;
	int64		cutoff;

	if (ff_event_retention_ms <= 0)
		PG_RETURN_INT32(0);
	cutoff = ff_now_ms() - (int64) ff_event_retention_ms;

	SPI_connect();
	horizon = ff_event_delivery_horizon();
	for (int i = 0; i < NUM_AGED_OUTBOXES; i++)
	{
		got[i] = prune_outbox(i, horizon, cutoff, Min(share, left));
		left -= got[i];
	}
	for (int i = 0; i < NUM_AGED_OUTBOXES && left > 0; i++)
	{
		if (got[i] == share)
			left -= prune_outbox(i, horizon, cutoff, left);
	}
	SPI_finish();
	PG_RETURN_INT32(batch - left);
}

/*
 * outbox.c
 *		The completion and lease-event outboxes: written in the transaction
 *		that makes the change, announced with NOTIFY, read by cursor.
 *
 * An event id is (top-level transaction id << 20 | sequence in that
 * transaction). Readers return only events of transactions older than every
 * transaction still running, so those ids are final: a subscriber that reads
 * "event_id > cursor" in id order can never miss an event that commits late,
 * and never sees one twice. The cost is that a long-running writing
 * transaction holds back delivery until it ends.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "flowfabric.h"
#include "writeset.h"

#define EVENT_SEQ_BITS		20
#define EVENT_SEQ_LIMIT		(1 << EVENT_SEQ_BITS)
#define MAX_EVENTS_PER_READ 10000

/* This transaction's next sequence number, and the ids a batch set aside. */
static FullTransactionId seq_fxid = {0};
static uint32 seq = 0;
static int64 slot_next = 0;
static int	slot_left = 0;

/*
 * ff_reserve_event_ids takes n consecutive outbox event ids of this
 * transaction and returns the first; every outbox uses this sequence, so one
 * cursor rule holds for all.
 */
int64
ff_reserve_event_ids(int n)
{
	FullTransactionId fxid = GetTopFullTransactionId();
	int64		first;

	if (!FullTransactionIdEquals(fxid, seq_fxid))
	{
		seq_fxid = fxid;
		seq = 0;
		slot_left = 0;
	}
	if (n > EVENT_SEQ_LIMIT || seq > (uint32) (EVENT_SEQ_LIMIT - n))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many flowfabric events in one transaction"),
				 errdetail("A transaction can write at most %d outbox events.", EVENT_SEQ_LIMIT)));
	first = (int64) ((U64FromFullTransactionId(fxid) << EVENT_SEQ_BITS) | seq);
	seq += n;
	return first;
}

/*
 * ff_use_event_ids makes the next n ids ff_next_event_id hands out in this
 * transaction first, first+1, ... (ids reserved earlier), so a batch element
 * handled late still gets ids in input order (batch.c). n = 0 ends it.
 */
void
ff_use_event_ids(int64 first, int n)
{
	(void) ff_reserve_event_ids(0);		/* ties the slot to this transaction */
	slot_next = first;
	slot_left = n;
}

/* ff_next_event_id returns the next outbox event id of this transaction. */
int64
ff_next_event_id(void)
{
	if (slot_left > 0 && FullTransactionIdEquals(GetTopFullTransactionId(), seq_fxid))
	{
		slot_left--;
		return slot_next++;
	}
	slot_left = 0;
	return ff_reserve_event_ids(1);
}

PG_FUNCTION_INFO_V1(ff_next_event_id_sql);
Datum
ff_next_event_id_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(ff_next_event_id());
}

/* ff_notify_event, which announces the events below, is in notify.c. */

void
ff_emit_completion(const FFExecRow *exec, const char *outcome, int64 now)
{
	Datum		v[9];
	char		n[10] = "         ";
	int64		event_id = ff_next_event_id();

	v[0] = Int64GetDatum(event_id);
	v[1] = Int16GetDatum(exec->key.partition);
	v[2] = ff_uuid_datum(&exec->key.uuid);
	v[3] = exec->has_flow ? ff_uuid_datum(&exec->flow_id) : (Datum) 0;
	n[3] = exec->has_flow ? ' ' : 'n';
	v[4] = CStringGetTextDatum(outcome);
	v[5] = ff_text_datum(exec->namespace, &n[5]);
	v[6] = CStringGetTextDatum(exec->lane_id);
	v[7] = Int32GetDatum(exec->attempt_index);
	n[7] = exec->total_attempt_count > 0 ? ' ' : 'n';
	v[8] = Int64GetDatum(now);
	ff_write_stage_spi(FF_WRITE_COMPLETION_EVENT, v, n);
	ff_notify_event("ff_completion", event_id);
}

void
ff_emit_lease_event(const FFExecRow *exec, const FFAttemptRow *attempt,
					const char *event_type, const char *reason, int64 now)
{
	Datum		v[12];
	char		n[13] = "            ";
	int64		event_id = ff_next_event_id();

	v[0] = Int64GetDatum(event_id);
	v[1] = Int16GetDatum(exec->key.partition);
	v[2] = ff_uuid_datum(&exec->key.uuid);
	v[3] = Int32GetDatum(attempt->attempt_index);
	v[4] = ff_uuid_datum(&attempt->lease_id);
	v[5] = Int64GetDatum(attempt->lease_epoch);
	v[6] = CStringGetTextDatum(event_type);
	v[7] = ff_text_datum(reason, &n[7]);
	v[8] = ff_text_datum(attempt->worker_id, &n[8]);
	v[9] = ff_text_datum(attempt->worker_instance_id, &n[9]);
	v[10] = ff_text_datum(exec->namespace, &n[10]);
	v[11] = Int64GetDatum(now);
	ff_write_stage_spi(FF_WRITE_LEASE_EVENT, v, n);
	ff_notify_event("ff_lease_event", event_id);
}

/* ff_event_delivery_horizon is the first event id that may still be uncommitted. */
int64
ff_event_delivery_horizon(void)
{
	static SPIPlanPtr plan = NULL;
	bool		isnull;

	ff_prepare(&plan, "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint", 0, NULL);
	ff_execute(plan, NULL, NULL, true, 1);
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull))
		<< EVENT_SEQ_BITS;
}

/*
 * ff_read_events runs an outbox reader query ($1 cursor, $2 horizon,
 * $3 limit) for a function taking (after_event_id, max_events) and returns
 * its rows as the function's result set.
 */
Datum
ff_read_events(FunctionCallInfo fcinfo, SPIPlanPtr *cache, const char *sql)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	static const Oid types[3] = {INT8OID, INT8OID, INT4OID};
	int64		after = PG_ARGISNULL(0) ? 0 : PG_GETARG_INT64(0);
	int32		max_events = PG_ARGISNULL(1) ? 100 : PG_GETARG_INT32(1);
	Datum		v[3];
	SPIPlanPtr	plan;

	if (max_events < 1 || max_events > MAX_EVENTS_PER_READ)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: max_events must be between 1 and %d", MAX_EVENTS_PER_READ)));

	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	plan = ff_prepare(cache, sql, 3, types);
	v[0] = Int64GetDatum(after);
	v[1] = Int64GetDatum(ff_event_delivery_horizon());
	v[2] = Int32GetDatum(max_events);
	ff_execute(plan, v, NULL, true, 0);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		Datum		values[16];
		bool		nulls[16];

		heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, values, nulls);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(ff_completion_events);
Datum
ff_completion_events(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;

	return ff_read_events(fcinfo, &plan,
					   "SELECT event_id, ff_format_execution_id(partition_key, execution_id), "
					   "flow_id, outcome, namespace, lane_id, attempt_index, occurred_at_ms "
					   "FROM ff_completion_event WHERE event_id > $1 AND event_id < $2 "
					   "ORDER BY event_id LIMIT $3");
}

PG_FUNCTION_INFO_V1(ff_lease_events);
Datum
ff_lease_events(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;

	return ff_read_events(fcinfo, &plan,
					   "SELECT event_id, ff_format_execution_id(partition_key, execution_id), "
					   "attempt_index, lease_id, lease_epoch, event_type, reason, worker_id, "
					   "worker_instance_id, namespace, occurred_at_ms "
					   "FROM ff_lease_event WHERE event_id > $1 AND event_id < $2 "
					   "ORDER BY event_id LIMIT $3");
}

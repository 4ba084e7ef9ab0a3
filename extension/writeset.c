/*
 * writeset.c
 *		Staged, set-based writes of the engine's hot tables.
 *
 * PostgreSQL's cost per statement (executor start-up, constraint and trigger
 * set-up, plan revalidation) is many times the cost of the rows a transition
 * writes, and a transition writes four to eight rows in as many tables. So
 * every row write of the hot path -- execution and attempt rows, lease and
 * completion events, the closing of suspensions, waitpoints and streams --
 * goes through ff_write_stage. Outside a write scope the row is written at
 * once. Inside one (ff_writes_begin .. ff_writes_end, opened by claim,
 * complete, fail, renew and their batch forms) rows are staged and written
 * by ff_writes_flush in ONE statement: a data-modifying CTE per kind of row,
 * each inserting or updating all of that kind's rows from unnest() of one
 * array per column. A single call then costs one write statement instead of
 * up to eight, and a batch of n items one instead of 8n.
 *
 * Staging never changes what a transaction reads: staging a row whose key
 * is already staged, or loading an execution or attempt that is
 * (ff_writes_flush_key), writes the staged rows first. Work whose side
 * effects read other tables (flow members, budgets and quotas) pauses the
 * scope and writes at once. Event ids are taken when a row is staged, so
 * outbox order is the order of the transitions whatever the flush order.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "budget.h"
#include "stream.h"
#include "writeset.h"

typedef struct WriteCol
{
	const char *name;
	Oid			type;
	const char *cast;			/* applied to the element, e.g. "::text[]" */
} WriteCol;

typedef struct WritePartDef
{
	const char *insert_into;	/* INSERT INTO this table, or NULL */
	const char *on_conflict;	/* the INSERT's ON CONFLICT clause, or NULL */
	const char *update_sql;		/* else an UPDATE; %s is the unnest FROM item */
	const WriteCol *cols;
	int			ncols;
	int			nkey;			/* leading key columns (2 or 3), 0 = none */
	bool		every_row;		/* each staged row must hit exactly one row */
} WritePartDef;

#define C(n, t) {n, t, NULL}

/*
 * A text[] column travels as its text form: unnest() of an array of arrays
 * would flatten it.
 */
static const WriteCol execution_insert_cols[] = {
	C("partition_key", INT2OID), C("execution_id", UUIDOID), C("lane_id", TEXTOID),
	C("namespace", TEXTOID), C("execution_kind", TEXTOID), C("creator_identity", TEXTOID),
	C("priority", INT4OID), {"required_capabilities", TEXTOID, "::text[]"},
	C("lifecycle_phase", TEXTOID), C("ownership_state", TEXTOID),
	C("eligibility_state", TEXTOID), C("blocking_reason", TEXTOID),
	C("terminal_outcome", TEXTOID), C("attempt_state", TEXTOID), C("public_state", TEXTOID),
	C("policy", JSONBOID), C("input_payload", BYTEAOID), C("tags", JSONBOID),
	C("created_at_ms", INT8OID), C("last_mutation_at_ms", INT8OID),
	C("delay_until_ms", INT8OID), C("deadline_at_ms", INT8OID), C("blocking_detail", TEXTOID)
};

static const WriteCol execution_cols[] = {
	C("partition_key", INT2OID), C("execution_id", UUIDOID),
	C("lifecycle_phase", TEXTOID), C("ownership_state", TEXTOID),
	C("eligibility_state", TEXTOID), C("blocking_reason", TEXTOID),
	C("terminal_outcome", TEXTOID), C("attempt_state", TEXTOID),
	C("public_state", TEXTOID), C("blocking_detail", TEXTOID),
	C("attempt_index", INT4OID), C("total_attempt_count", INT4OID),
	C("retry_count", INT4OID), C("reclaim_count", INT4OID), C("lease_epoch", INT8OID),
	C("progress_pct", INT4OID), C("progress_message", TEXTOID),
	C("progress_updated_at_ms", INT8OID), C("last_failure_message", TEXTOID),
	C("last_failure_category", TEXTOID), C("cancellation_reason", TEXTOID),
	C("cancelled_by", TEXTOID), C("last_mutation_at_ms", INT8OID),
	C("started_at_ms", INT8OID), C("terminal_at_ms", INT8OID),
	C("delay_until_ms", INT8OID), C("set_result", BOOLOID), C("result", BYTEAOID)
};

static const WriteCol attempt_cols[] = {
	C("partition_key", INT2OID), C("execution_id", UUIDOID), C("attempt_index", INT4OID),
	C("attempt_id", UUIDOID), C("attempt_type", TEXTOID), C("attempt_lifecycle", TEXTOID),
	C("worker_id", TEXTOID), C("worker_instance_id", TEXTOID), C("lease_id", UUIDOID),
	C("lease_epoch", INT8OID), C("lease_ttl_ms", INT8OID), C("lease_acquired_at_ms", INT8OID),
	C("lease_renewed_at_ms", INT8OID), C("lease_expires_at_ms", INT8OID),
	C("timeout_at_ms", INT8OID), C("started_at_ms", INT8OID), C("ended_at_ms", INT8OID),
	C("failure_message", TEXTOID), C("failure_category", TEXTOID),
	C("failure_detail", BYTEAOID), C("retry_delay_until_ms", INT8OID), C("end_reason", TEXTOID)
};

static const WriteCol lease_event_cols[] = {
	C("event_id", INT8OID), C("partition_key", INT2OID), C("execution_id", UUIDOID),
	C("attempt_index", INT4OID), C("lease_id", UUIDOID), C("lease_epoch", INT8OID),
	C("event_type", TEXTOID), C("reason", TEXTOID), C("worker_id", TEXTOID),
	C("worker_instance_id", TEXTOID), C("namespace", TEXTOID), C("occurred_at_ms", INT8OID)
};

static const WriteCol completion_event_cols[] = {
	C("event_id", INT8OID), C("partition_key", INT2OID), C("execution_id", UUIDOID),
	C("flow_id", UUIDOID), C("outcome", TEXTOID), C("namespace", TEXTOID),
	C("lane_id", TEXTOID), C("attempt_index", INT4OID), C("occurred_at_ms", INT8OID)
};

static const WriteCol close_cols[] = {
	C("partition_key", INT2OID), C("execution_id", UUIDOID),
	C("closed_at_ms", INT8OID), C("close_reason", TEXTOID)
};

static const WriteCol stream_close_cols[] = {
	C("partition_key", INT2OID), C("execution_id", UUIDOID), C("attempt_index", INT4OID),
	C("closed_at_ms", INT8OID), C("closed_reason", TEXTOID)
};

#define COLS(a) a, lengthof(a)
#define FF_WRITE_MAX_COLS 32		/* the widest part: ff_execution's update */

static const WritePartDef part_defs[FF_WRITE_NPARTS] = {
	[FF_WRITE_EXECUTION_INSERT] = {"ff_execution",
		"ON CONFLICT (partition_key, execution_id) DO NOTHING", NULL,
	COLS(execution_insert_cols), 2, false},
	[FF_WRITE_EXECUTION] = {NULL, NULL,
		"UPDATE ff_execution t SET lifecycle_phase = u.lifecycle_phase, "
		"ownership_state = u.ownership_state, eligibility_state = u.eligibility_state, "
		"blocking_reason = u.blocking_reason, terminal_outcome = u.terminal_outcome, "
		"attempt_state = u.attempt_state, public_state = u.public_state, "
		"blocking_detail = u.blocking_detail, attempt_index = u.attempt_index, "
		"total_attempt_count = u.total_attempt_count, retry_count = u.retry_count, "
		"reclaim_count = u.reclaim_count, lease_epoch = u.lease_epoch, "
		"progress_pct = u.progress_pct, progress_message = u.progress_message, "
		"progress_updated_at_ms = u.progress_updated_at_ms, "
		"last_failure_message = u.last_failure_message, "
		"last_failure_category = u.last_failure_category, "
		"cancellation_reason = u.cancellation_reason, cancelled_by = u.cancelled_by, "
		"last_mutation_at_ms = u.last_mutation_at_ms, started_at_ms = u.started_at_ms, "
		"terminal_at_ms = u.terminal_at_ms, delay_until_ms = u.delay_until_ms, "
		"result = CASE WHEN u.set_result THEN u.result ELSE t.result END "
		"FROM %s WHERE t.partition_key = u.partition_key AND t.execution_id = u.execution_id",
	COLS(execution_cols), 2, true},
	[FF_WRITE_ATTEMPT_INSERT] = {"ff_attempt", NULL, NULL, COLS(attempt_cols), 3, true},
	[FF_WRITE_ATTEMPT_UPDATE] = {NULL, NULL,
		"UPDATE ff_attempt t SET attempt_lifecycle = u.attempt_lifecycle, "
		"worker_id = u.worker_id, worker_instance_id = u.worker_instance_id, "
		"lease_id = u.lease_id, lease_epoch = u.lease_epoch, lease_ttl_ms = u.lease_ttl_ms, "
		"lease_acquired_at_ms = u.lease_acquired_at_ms, "
		"lease_renewed_at_ms = u.lease_renewed_at_ms, "
		"lease_expires_at_ms = u.lease_expires_at_ms, timeout_at_ms = u.timeout_at_ms, "
		"ended_at_ms = u.ended_at_ms, failure_message = u.failure_message, "
		"failure_category = u.failure_category, failure_detail = u.failure_detail, "
		"retry_delay_until_ms = u.retry_delay_until_ms, end_reason = u.end_reason "
		"FROM %s WHERE t.partition_key = u.partition_key AND t.execution_id = u.execution_id "
		"AND t.attempt_index = u.attempt_index",
	COLS(attempt_cols), 3, true},
	[FF_WRITE_LEASE_EVENT] = {"ff_lease_event", NULL, NULL, COLS(lease_event_cols), 0, true},
	[FF_WRITE_COMPLETION_EVENT] = {"ff_completion_event", NULL, NULL,
	COLS(completion_event_cols), 0, true},
	[FF_WRITE_SUSPENSION_CLOSE] = {NULL, NULL,
		"UPDATE ff_suspension t SET closed_at_ms = u.closed_at_ms, close_reason = u.close_reason "
		"FROM %s WHERE t.partition_key = u.partition_key AND t.execution_id = u.execution_id "
		"AND t.closed_at_ms IS NULL",
	COLS(close_cols), 2, false},
	[FF_WRITE_WAITPOINT_CLOSE] = {NULL, NULL,
		"UPDATE ff_waitpoint t SET state = 'closed', closed_at_ms = u.closed_at_ms, "
		"close_reason = u.close_reason "
		"FROM %s WHERE t.partition_key = u.partition_key AND t.execution_id = u.execution_id "
		"AND t.state <> 'closed'",
	COLS(close_cols), 2, false},
	[FF_WRITE_STREAM_CLOSE] = {NULL, NULL,
		"UPDATE ff_stream_meta t SET closed_at_ms = u.closed_at_ms, closed_reason = u.closed_reason "
		"FROM %s WHERE t.partition_key = u.partition_key AND t.execution_id = u.execution_id "
		"AND t.attempt_index = u.attempt_index AND t.closed_at_ms IS NULL",
	COLS(stream_close_cols), 3, false},
};

/*
 * ff_write_close_sql is the statement of a close part (suspension, waitpoint
 * or stream) over the rows of from, a FROM item aliased u with the part's
 * columns: the set-based paths close exactly as a flush does.
 */
char *
ff_write_close_sql(FFWritePart part, const char *from)
{
	Assert(part == FF_WRITE_SUSPENSION_CLOSE || part == FF_WRITE_WAITPOINT_CLOSE ||
		   part == FF_WRITE_STREAM_CLOSE);
	return psprintf(part_defs[part].update_sql, from);
}

/* Staged rows of one part. */
typedef struct PartRows
{
	Datum	  **values;
	bool	  **nulls;
	int			n;
	int			cap;
} PartRows;

/* The key a staged row is found by (padding zeroed: the hash covers it). */
typedef struct StagedKey
{
	int32		part;			/* its dedup group: insert and update of one table share one */
	int32		attempt_index;
	int16		partition;
	pg_uuid_t	uuid;
} StagedKey;

typedef struct WriteSet
{
	MemoryContext cxt;			/* the scope's context */
	MemoryContext rows_cxt;		/* staged rows and keys, reset by each flush */
	bool		staging;
	int			depth;
	PartRows	parts[FF_WRITE_NPARTS];
	HTAB	   *keys;
	HTAB	   *preloaded;		/* rows a batch locked and read ahead */
} WriteSet;

/* A row read ahead, handed out once by ff_writes_take_*. */
typedef struct PreloadedRow
{
	StagedKey	key;
	union
	{
		FFExecRow	exec;
		FFAttemptRow attempt;
	}			row;
} PreloadedRow;

static WriteSet *current = NULL;

static void
forget_write_set(void *arg)
{
	if (current == arg)
		current = NULL;
}

static int
dedup_group(FFWritePart part)
{
	if (part == FF_WRITE_EXECUTION_INSERT)
		return FF_WRITE_EXECUTION;
	return part == FF_WRITE_ATTEMPT_UPDATE ? FF_WRITE_ATTEMPT_INSERT : part;
}

static void
row_key(int group, const FFExecKey *exec, int32 attempt_index, StagedKey *key)
{
	memset(key, 0, sizeof(*key));
	key->part = group;
	key->partition = exec->partition;
	key->uuid = exec->uuid;
	key->attempt_index = attempt_index;
}

static void
make_key(FFWritePart part, Datum *values, StagedKey *key)
{
	FFExecKey	exec;

	exec.partition = DatumGetInt16(values[0]);
	exec.uuid = *DatumGetUUIDP(values[1]);
	row_key(dedup_group(part), &exec,
			part_defs[part].nkey == 3 ? DatumGetInt32(values[2]) : 0, key);
}

/* key_table creates a hash of StagedKey-keyed entries in cxt. */
static HTAB *
key_table(const char *name, Size entrysize, MemoryContext cxt)
{
	HASHCTL		ctl;

	ctl.keysize = sizeof(StagedKey);
	ctl.entrysize = entrysize;
	ctl.hcxt = cxt;
	return hash_create(name, 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/* part_nargs: the parameters of part p: its columns, and the ordinals of a multi-row part */
static int
part_nargs(FFWritePart p, bool single)
{
	return part_defs[p].ncols + (single ? 0 : 1);
}

/*
 * part_sql appends part p's statement, its parameters numbered from *param:
 * one array per column, or, for a part of one row, one value per column (a
 * VALUES row costs less than unnest()'s set-returning machinery). "ord" is
 * the row's position among the part's staged rows.
 */
static void
part_sql(StringInfo sql, FFWritePart p, bool single, int *param)
{
	const WritePartDef *d = &part_defs[p];
	StringInfoData from;

	initStringInfo(&from);
	if (single)
	{
		appendStringInfoString(&from, "(VALUES (");
		for (int c = 0; c < d->ncols; c++)
			appendStringInfo(&from, "$%d::%s, ", (*param)++, format_type_be(d->cols[c].type));
		appendStringInfoString(&from, "1::bigint)) AS u(");
		for (int c = 0; c < d->ncols; c++)
			appendStringInfo(&from, "%s, ", d->cols[c].name);
		appendStringInfoString(&from, "ord)");
	}
	else
	{
		/*
		 * unnest() in the select list runs the arrays in lockstep row by row
		 * (ProjectSet); in FROM it would first copy every row into a
		 * tuplestore. The ordinals are one more array (1..n): a set-returning
		 * function such as generate_series would make the planner expect a
		 * thousand rows and prefer hashing the whole table to index probes.
		 */
		appendStringInfoString(&from, "(SELECT ");
		for (int c = 0; c < d->ncols; c++)
			appendStringInfo(&from, "unnest($%d) AS %s, ", (*param)++, d->cols[c].name);
		appendStringInfo(&from, "unnest($%d) AS ord) AS u", (*param)++);
	}

	if (d->insert_into)
	{
		appendStringInfo(sql, "INSERT INTO %s (", d->insert_into);
		for (int c = 0; c < d->ncols; c++)
			appendStringInfo(sql, "%s%s", c ? ", " : "", d->cols[c].name);
		appendStringInfoString(sql, ") SELECT ");
		for (int c = 0; c < d->ncols; c++)
			appendStringInfo(sql, "%su.%s%s", c ? ", " : "", d->cols[c].name,
							 d->cols[c].cast ? d->cols[c].cast : "");
		appendStringInfo(sql, " FROM %s", from.data);
		if (d->on_conflict)
			appendStringInfo(sql, " %s", d->on_conflict);
		/* an INSERT's RETURNING sees only the new row */
		appendStringInfoString(sql, " RETURNING 0::bigint AS ord");
	}
	else
		appendStringInfo(sql, "%s RETURNING u.ord", psprintf(d->update_sql, from.data));
	pfree(from.data);
}

typedef struct WritePlan
{
	uint32		shape;			/* the parts written, and which have one row */
	SPIPlanPtr	plan;
} WritePlan;

/*
 * write_plan returns the saved plan writing the parts in mask (those in
 * singles with one row): a CTE per part, then a (part, ordinal) row for
 * every row written (counted against what was staged; the stream part's
 * ordinals name the streams closed). Generic plans: the shape
 * never depends on the values, and custom planning would cost more than the
 * statement.
 */
static SPIPlanPtr
write_plan(uint32 mask, uint32 singles)
{
	static HTAB *plans = NULL;
	uint32		shape = mask | (singles << FF_WRITE_NPARTS);
	WritePlan  *entry;
	bool		found;
	StringInfoData sql;
	Oid		   *types;
	int			nargs = 0;
	int			param = 1;
	bool		first = true;

	if (plans == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(uint32);
		ctl.entrysize = sizeof(WritePlan);
		plans = hash_create("flowfabric write plans", 64, &ctl, HASH_ELEM | HASH_BLOBS);
	}
	entry = hash_search(plans, &shape, HASH_ENTER, &found);
	if (found && entry->plan != NULL)
		return entry->plan;
	entry->plan = NULL;

	for (int p = 0; p < FF_WRITE_NPARTS; p++)
		if (mask & (1 << p))
			nargs += part_nargs(p, (singles & (1 << p)) != 0);
	types = palloc(sizeof(Oid) * nargs);
	for (int p = 0, i = 0; p < FF_WRITE_NPARTS; p++)
	{
		bool		single = (singles & (1 << p)) != 0;

		if (!(mask & (1 << p)))
			continue;
		for (int c = 0; c < part_defs[p].ncols; c++)
			types[i++] = single ? part_defs[p].cols[c].type
				: get_array_type(part_defs[p].cols[c].type);
		if (!single)
			types[i++] = INT8ARRAYOID;	/* the ordinals */
	}

	initStringInfo(&sql);
	appendStringInfoString(&sql, "WITH ");
	for (int p = 0; p < FF_WRITE_NPARTS; p++)
	{
		if (!(mask & (1 << p)))
			continue;
		appendStringInfo(&sql, "%sp%d AS (", first ? "" : ", ", p);
		part_sql(&sql, p, (singles & (1 << p)) != 0, &param);
		appendStringInfoChar(&sql, ')');
		first = false;
	}
	/* (part, ordinal) of every row written: plain CTE scans, no aggregates */
	first = true;
	for (int p = 0; p < FF_WRITE_NPARTS; p++)
	{
		if (!(mask & (1 << p)))
			continue;
		appendStringInfo(&sql, " %s SELECT %d, ord FROM p%d", first ? "" : "UNION ALL", p, p);
		first = false;
	}

	(void) ff_prepare_generic(&entry->plan, sql.data, nargs, types);
	pfree(sql.data);
	pfree(types);
	return entry->plan;
}

/* The stream-close part reports each stream it closed: wake its tailers. */
static void
notify_closed_stream(const PartRows *rows, int64 ord)
{
	Datum	   *v;
	FFExecKey	key;

	if (ord < 1 || ord > rows->n)
		elog(ERROR, "stream close returned row %lld of %d", (long long) ord, rows->n);
	v = rows->values[ord - 1];
	key.partition = DatumGetInt16(v[0]);
	key.uuid = *DatumGetUUIDP(v[1]);
	ff_stream_closed(&key, DatumGetInt32(v[2]));
}

/*
 * write_rows writes the given staged rows in one statement; counts[p]: the
 * rows part p wrote.
 */
static void
write_rows(PartRows *parts, int64 *counts)
{
	uint32		mask = 0;
	uint32		singles = 0;
	int			nargs = 0;
	Datum	   *args;
	char	   *argnulls;
	SPIPlanPtr	plan;

	memset(counts, 0, sizeof(int64) * FF_WRITE_NPARTS);
	for (int p = 0; p < FF_WRITE_NPARTS; p++)
		if (parts[p].n > 0)
		{
			mask |= 1 << p;
			if (parts[p].n == 1)
				singles |= 1 << p;
			nargs += part_nargs(p, parts[p].n == 1);
		}
	if (mask == 0)
		return;

	plan = write_plan(mask, singles);
	args = palloc(sizeof(Datum) * nargs);
	argnulls = palloc(nargs + 1);
	memset(argnulls, ' ', nargs);
	argnulls[nargs] = '\0';
	for (int p = 0, i = 0; p < FF_WRITE_NPARTS; p++)
	{
		const WritePartDef *d = &part_defs[p];
		PartRows   *r = &parts[p];
		Datum	   *elems;
		bool	   *elem_nulls;

		if (r->n == 0)
			continue;
		if (r->n == 1)
		{
			for (int c = 0; c < d->ncols; c++)
			{
				args[i] = r->values[0][c];
				argnulls[i++] = r->nulls[0][c] ? 'n' : ' ';
			}
			continue;
		}
		elems = palloc(sizeof(Datum) * r->n);
		elem_nulls = palloc(sizeof(bool) * r->n);
		for (int c = 0; c < d->ncols; c++)
		{
			for (int k = 0; k < r->n; k++)
			{
				elems[k] = r->values[k][c];
				elem_nulls[k] = r->nulls[k][c];
			}
			args[i++] = ff_array_param(elems, elem_nulls, r->n, d->cols[c].type);
		}
		for (int k = 0; k < r->n; k++)
			elems[k] = Int64GetDatum(k + 1);
		args[i++] = ff_array_param(elems, NULL, r->n, INT8OID);
	}

	ff_execute(plan, args, argnulls, false, 0);
	for (uint64 k = 0; k < SPI_processed; k++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[k];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		int32		p = ff_get_int32(tuple, desc, 1, -1);

		if (p < 0 || p >= FF_WRITE_NPARTS)
			elog(ERROR, "write statement returned part %d", p);
		counts[p]++;
		if (p == FF_WRITE_STREAM_CLOSE)
			notify_closed_stream(&parts[p], ff_get_int64(tuple, desc, 2, 0));
	}
	for (int p = 0; p < FF_WRITE_NPARTS; p++)
		if (part_defs[p].every_row && counts[p] != parts[p].n)
			elog(ERROR, "%d staged %s rows, %lld written: a row vanished while locked",
				 parts[p].n, part_defs[p].insert_into ? part_defs[p].insert_into : "update",
				 (long long) counts[p]);
}

/* ff_write_now writes one row at once; returns the rows written (0 or 1). */
int64
ff_write_now(FFWritePart part, Datum *values, bool *nulls)
{
	PartRows	one[FF_WRITE_NPARTS];
	int64		counts[FF_WRITE_NPARTS];

	memset(one, 0, sizeof(one));
	one[part].values = &values;
	one[part].nulls = &nulls;
	one[part].n = 1;
	write_rows(one, counts);
	return counts[part];
}

/*
 * ff_write_stage writes one row of a part (values/nulls in the part's column
 * order): at once outside a write scope, else staged in the scope.
 */
void
ff_write_stage(FFWritePart part, Datum *values, bool *nulls)
{
	const WritePartDef *d = &part_defs[part];
	WriteSet   *ws = current;
	PartRows   *r;
	MemoryContext old;
	Datum	   *v;
	bool	   *n;

	if (ws == NULL || !ws->staging)
	{
		(void) ff_write_now(part, values, nulls);
		return;
	}

	if (d->nkey > 0)
	{
		StagedKey	key;
		bool		found;

		make_key(part, values, &key);
		if (ws->keys != NULL && hash_search(ws->keys, &key, HASH_FIND, NULL) != NULL)
			ff_writes_flush();
		if (ws->keys == NULL)
			ws->keys = key_table("flowfabric staged rows", sizeof(StagedKey), ws->rows_cxt);
		(void) hash_search(ws->keys, &key, HASH_ENTER, &found);
	}

	old = MemoryContextSwitchTo(ws->rows_cxt);
	r = &ws->parts[part];
	if (r->n == r->cap)
	{
		r->cap = r->cap ? r->cap * 2 : 16;
		r->values = r->values ? repalloc(r->values, sizeof(Datum *) * r->cap)
			: palloc(sizeof(Datum *) * r->cap);
		r->nulls = r->nulls ? repalloc(r->nulls, sizeof(bool *) * r->cap)
			: palloc(sizeof(bool *) * r->cap);
	}
	v = palloc(sizeof(Datum) * d->ncols);
	n = palloc(sizeof(bool) * d->ncols);
	for (int c = 0; c < d->ncols; c++)
	{
		int16		len;
		bool		byval;
		char		align;

		n[c] = nulls[c];
		ff_type_storage(d->cols[c].type, &len, &byval, &align);
		v[c] = nulls[c] ? (Datum) 0 : datumCopy(values[c], byval, len);
	}
	r->values[r->n] = v;
	r->nulls[r->n] = n;
	r->n++;
	MemoryContextSwitchTo(old);
}

/* The _spi forms take SPI-style null flags ('n' = null). */
static void
bool_nulls(FFWritePart part, const char *spi_nulls, bool *nulls)
{
	for (int c = 0; c < part_defs[part].ncols; c++)
		nulls[c] = spi_nulls != NULL && spi_nulls[c] == 'n';
}

void
ff_write_stage_spi(FFWritePart part, Datum *values, const char *spi_nulls)
{
	bool		nulls[FF_WRITE_MAX_COLS];

	bool_nulls(part, spi_nulls, nulls);
	ff_write_stage(part, values, nulls);
}

int64
ff_write_now_spi(FFWritePart part, Datum *values, const char *spi_nulls)
{
	bool		nulls[FF_WRITE_MAX_COLS];

	bool_nulls(part, spi_nulls, nulls);
	return ff_write_now(part, values, nulls);
}

/*
 * ff_writes_flush_key writes the staged rows first if the execution (or one
 * of its attempts) is among them, so a load never reads a stale row.
 */
void
ff_writes_flush_key(const FFExecKey *key, int32 attempt_index)
{
	StagedKey	k;

	if (current == NULL || current->keys == NULL)
		return;
	row_key(FF_WRITE_EXECUTION, key, 0, &k);
	if (hash_search(current->keys, &k, HASH_FIND, NULL) == NULL)
	{
		if (attempt_index < 0)
			return;
		row_key(FF_WRITE_ATTEMPT_INSERT, key, attempt_index, &k);
		if (hash_search(current->keys, &k, HASH_FIND, NULL) == NULL)
			return;
	}
	ff_writes_flush();
}

/* ff_writes_flush writes every staged row (the caller is SPI-connected). */
void
ff_writes_flush(void)
{
	WriteSet   *ws = current;
	int64		counts[FF_WRITE_NPARTS];

	if (ws == NULL)
		return;
	write_rows(ws->parts, counts);
	memset(ws->parts, 0, sizeof(ws->parts));
	ws->keys = NULL;
	MemoryContextReset(ws->rows_cxt);
}

/*
 * Read-ahead: a batch locks and reads all its executions and attempts in two
 * statements (in the engine's lock order) and hands each row to the scope,
 * decoded in ff_writes_context(); the element's own ff_exec_load /
 * ff_attempt_load (with lock) then takes it instead of reading again. A row
 * is taken once: a second element of the same execution reads the table,
 * after the first one's staged writes.
 */
MemoryContext
ff_writes_context(void)
{
	Assert(current != NULL);
	return current->cxt;
}

static void
preload(StagedKey *key, const void *row, Size size)
{
	PreloadedRow *entry;

	if (current == NULL)
		return;
	if (current->preloaded == NULL)
		current->preloaded = key_table("flowfabric preloaded rows", sizeof(PreloadedRow),
									   current->cxt);
	entry = hash_search(current->preloaded, key, HASH_ENTER, NULL);
	memcpy(&entry->row, row, size);
}

static bool
take(StagedKey *key, void *row, Size size)
{
	PreloadedRow *entry;

	if (current == NULL || current->preloaded == NULL)
		return false;
	entry = hash_search(current->preloaded, key, HASH_FIND, NULL);
	if (entry == NULL)
		return false;
	memcpy(row, &entry->row, size);
	(void) hash_search(current->preloaded, key, HASH_REMOVE, NULL);
	return true;
}

void
ff_writes_preload_execution(const FFExecRow *row)
{
	StagedKey	key;

	row_key(FF_WRITE_EXECUTION, &row->key, 0, &key);
	preload(&key, row, sizeof(*row));
}

void
ff_writes_preload_attempt(const FFAttemptRow *row)
{
	StagedKey	key;

	row_key(FF_WRITE_ATTEMPT_INSERT, &row->key, row->attempt_index, &key);
	preload(&key, row, sizeof(*row));
}

/* Whether a preloaded row is waiting (the batch's existence checks). */
bool
ff_writes_preloaded(const FFExecKey *exec, int32 attempt_index)
{
	StagedKey	key;

	row_key(attempt_index < 0 ? FF_WRITE_EXECUTION : FF_WRITE_ATTEMPT_INSERT, exec,
			Max(attempt_index, 0), &key);
	return current != NULL && current->preloaded != NULL &&
		hash_search(current->preloaded, &key, HASH_FIND, NULL) != NULL;
}

bool
ff_writes_take_execution(const FFExecKey *exec, FFExecRow *row)
{
	StagedKey	key;

	row_key(FF_WRITE_EXECUTION, exec, 0, &key);
	return take(&key, row, sizeof(*row));
}

bool
ff_writes_take_attempt(const FFExecKey *exec, int32 attempt_index, FFAttemptRow *row)
{
	StagedKey	key;

	row_key(FF_WRITE_ATTEMPT_INSERT, exec, attempt_index, &key);
	return take(&key, row, sizeof(*row));
}

/*
 * ff_writes_begin opens a write scope in the current memory context; a
 * nested scope joins the open one. ff_writes_end flushes and closes it. An
 * error unwinds the scope with its memory context (nothing staged is
 * written: the transaction is failing anyway).
 */
void
ff_writes_begin(void)
{
	MemoryContext cxt;
	MemoryContextCallback *cb;
	WriteSet   *ws;

	if (current != NULL)
	{
		current->depth++;
		return;
	}
	cxt = AllocSetContextCreate(CurrentMemoryContext, "flowfabric write set",
								ALLOCSET_SMALL_SIZES);
	ws = MemoryContextAllocZero(cxt, sizeof(WriteSet));
	ws->cxt = cxt;
	ws->rows_cxt = AllocSetContextCreate(cxt, "flowfabric staged rows", ALLOCSET_DEFAULT_SIZES);
	ws->staging = true;
	cb = MemoryContextAlloc(cxt, sizeof(MemoryContextCallback));
	cb->func = forget_write_set;
	cb->arg = ws;
	MemoryContextRegisterResetCallback(cxt, cb);
	current = ws;
}

void
ff_writes_end(void)
{
	WriteSet   *ws = current;

	if (ws == NULL)
		return;
	if (ws->depth > 0)
	{
		ws->depth--;
		return;
	}
	ff_writes_flush();
	current = NULL;
	MemoryContextDelete(ws->cxt);
}

/*
 * ff_writes_hold: a transition of a flow member, or of an execution with
 * budgets or quotas, has side effects that read tables (its flow, the
 * budget and quota books), so it cannot be staged: the scope is flushed and
 * writes at once until ff_writes_resume.
 */
void
ff_writes_hold(const FFExecRow *exec)
{
	FFAdmissionPolicy ap;

	if (current == NULL || !current->staging)
		return;
	if (!exec->has_flow && (exec->policy == NULL || !ff_admission_policy(exec->policy, &ap)))
		return;
	ff_writes_flush();
	current->staging = false;
}

void
ff_writes_resume(void)
{
	if (current != NULL)
		current->staging = true;
}

/*
 * batch.c
 *		The batch calls of the high-throughput path: many executions created,
 *		or many handles renewed, completed or failed, in one call (one round
 *		trip, one transaction, one commit).
 *
 * ff_create_executions runs ff_create_execution's own code (ff_create_one)
 * for every element, in input order: the same validation (an invalid element
 * rejects the whole call and nothing is written; the error names the
 * element), the same idempotency and partition rules. Elements of one batch
 * behave as if they had been created one after the other, so a repeated
 * idempotency key or execution id inside the batch returns the first one's
 * execution with created = false.
 *
 * ff_renew_many / ff_complete_many / ff_fail_many fence every handle on its
 * own and return one row per handle with its own outcome, so a stale,
 * expired, foreign or malformed handle never fails the others. First every
 * named execution is locked in one statement, in (partition_key,
 * execution_id) order, so two batches sharing executions cannot deadlock;
 * then the handles are processed in input order (their outbox events follow
 * input order) by the single calls' own code (ff_renew_handle,
 * ff_complete_handle, ff_fail_handle in attempt.c). A handle that appears
 * twice is handled like two single calls in a row: the second complete or
 * fail is a replay of the first, the second renew reports the first's result
 * without renewing again.
 *
 * ff_complete_many first completes its plain handles -- a live lease on an
 * execution outside any flow, with no budget or quota -- with one set-based
 * statement (batch_fast.c) that also locks every execution the batch names
 * in key order; the rest take the path above, with the outbox ids reserved
 * for them in input order.
 *
 * Each element runs in its own nested SPI connection so a batch of
 * thousands does not accumulate the per-statement result memory. Their row
 * writes are staged and written together, one statement for the batch
 * (writeset.c).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "batch.h"
#include "writeset.h"

typedef enum BatchOp
{
	OP_RENEW,
	OP_COMPLETE,
	OP_FAIL
} BatchOp;

/* One element of a handle batch: its inputs and, once known, its result. */
typedef struct BatchItem
{
	bytea	   *raw;			/* the handle; NULL if the element is NULL */
	FFHandle	handle;			/* valid when decoded */
	bool		decoded;
	bool		exec_exists;
	bool		attempt_exists;
	int			dup_of;			/* renew: an identical earlier handle, else -1 */
	bytea	   *payload;		/* complete: the result; fail: the detail */
	char	   *message;		/* fail */
	const char *category;		/* fail */

	const char *outcome;		/* NULL until processed */
	char	   *sqlstate;		/* NULL on success */
	char	   *error;			/* NULL on success */
	int64		v1;				/* renew: lease_expires_at_ms; fail: delay_until */
	int64		v2;				/* renew: lease_epoch */
	int64		event_id;		/* complete: the first of its two reserved outbox ids */
} BatchItem;

/* Error context: which element of which call. */
typedef struct BatchCtx
{
	const char *fn;
	int			item;			/* 0-based; -1 outside the loop */
} BatchCtx;

static void
batch_error_context(void *arg)
{
	BatchCtx   *b = arg;

	if (b->item >= 0)
		errcontext("%s, element %d", b->fn, b->item + 1);
}

#define push_context(cb, ctx) \
	do { \
		(cb).callback = batch_error_context; \
		(cb).arg = (ctx); \
		(cb).previous = error_context_stack; \
		error_context_stack = &(cb); \
	} while (0)
#define pop_context(cb) (error_context_stack = (cb).previous)

/* ------------------------------------------------------------------------
 * arguments
 * ------------------------------------------------------------------------ */

/* The elements of a one-dimensional array argument (NULL array: -1). */
static int
array_arg(FunctionCallInfo fcinfo, int argno, const char *name, Datum **values, bool **nulls)
{
	ArrayType  *arr;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			n;

	*values = NULL;
	*nulls = NULL;
	if (PG_ARGISNULL(argno))
		return -1;
	arr = PG_GETARG_ARRAYTYPE_P(argno);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: %s must be a one-dimensional array", name)));
	get_typlenbyvalalign(ARR_ELEMTYPE(arr), &typlen, &typbyval, &typalign);
	deconstruct_array(arr, ARR_ELEMTYPE(arr), typlen, typbyval, typalign, values, nulls, &n);
	if (n > FF_MAX_BATCH)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: %s has %d elements, a batch takes at most %d",
						name, n, FF_MAX_BATCH)));
	return n;
}

/* An optional per-element array must be absent or as long as the batch. */
static void
check_length(const char *name, int n, int expected, const char *of)
{
	if (n >= 0 && n != expected)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: %s has %d elements, %s has %d", name, n, of, expected),
				 errhint("Pass one element per execution (NULL elements take the default), or NULL for the whole array.")));
}

/* ------------------------------------------------------------------------
 * ff_create_executions
 * ------------------------------------------------------------------------ */
PG_FUNCTION_INFO_V1(ff_create_executions);
Datum
ff_create_executions(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	FFCreateArgs base;
	Datum	   *payloads,
			   *ids,
			   *keys,
			   *prios,
			   *tags;
	bool	   *payload_nulls,
			   *id_nulls,
			   *key_nulls,
			   *prio_nulls,
			   *tag_nulls;
	int			n;
	BatchCtx	ctx = {"ff_create_executions", -1};
	ErrorContextCallback cb;

	memset(&base, 0, sizeof(base));
	base.lane_id = ff_arg_cstring_required(fcinfo, 0, "lane_id");
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: input_payloads must not be null"),
				 errhint("Pass one element per execution; a NULL element means no payload.")));
	n = array_arg(fcinfo, 1, "input_payloads", &payloads, &payload_nulls);
	check_length("execution_ids", array_arg(fcinfo, 2, "execution_ids", &ids, &id_nulls),
				 n, "input_payloads");
	check_length("idempotency_keys", array_arg(fcinfo, 3, "idempotency_keys", &keys, &key_nulls),
				 n, "input_payloads");
	check_length("priorities", array_arg(fcinfo, 4, "priorities", &prios, &prio_nulls),
				 n, "input_payloads");
	check_length("tags", array_arg(fcinfo, 5, "tags", &tags, &tag_nulls), n, "input_payloads");
	base.namespace = PG_ARGISNULL(6) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(6));
	base.execution_kind = PG_ARGISNULL(7) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(7));
	base.required_capabilities = PG_ARGISNULL(8) ? NULL : PG_GETARG_ARRAYTYPE_P(8);
	base.policy = PG_ARGISNULL(9) ? NULL : PG_GETARG_JSONB_P(9);
	base.has_delay_until = !PG_ARGISNULL(10);
	base.delay_until_ms = PG_ARGISNULL(10) ? FF_NULL_MS : PG_GETARG_INT64(10);
	base.deadline_at_ms = PG_ARGISNULL(11) ? FF_NULL_MS : PG_GETARG_INT64(11);
	base.creator_identity = PG_ARGISNULL(12) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(12));

	InitMaterializedSRF(fcinfo, 0);
	push_context(cb, &ctx);
	/* the new rows are written together, in one statement (writeset.c) */
	SPI_connect();
	ff_writes_begin();
	for (int i = 0; i < n; i++)
	{
		FFCreateArgs a = base;
		FFCreateResult r;
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		ctx.item = i;
		a.payload = payload_nulls[i] ? NULL : DatumGetByteaP(payloads[i]);
		a.execution_id = ids && !id_nulls[i] ? TextDatumGetCString(ids[i]) : NULL;
		a.idempotency_key = keys && !key_nulls[i] ? TextDatumGetCString(keys[i]) : NULL;
		a.priority = prios && !prio_nulls[i] ? DatumGetInt32(prios[i]) : 0;
		a.tags = tags && !tag_nulls[i] ? DatumGetJsonbP(tags[i]) : NULL;

		SPI_connect();
		ff_create_one(&a, &r);
		values[0] = Int32GetDatum(i + 1);
		values[1] = CStringGetTextDatum(ff_format_execution_id(&r.key));
		values[2] = r.public_state ? CStringGetTextDatum(r.public_state) : (Datum) 0;
		nulls[2] = r.public_state == NULL;
		values[3] = BoolGetDatum(r.created);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		SPI_finish();
	}
	ctx.item = -1;
	ff_writes_end();
	SPI_finish();
	pop_context(cb);
	return (Datum) 0;
}

/* ------------------------------------------------------------------------
 * handle batches
 * ------------------------------------------------------------------------ */

/* Records a refusal (allocated in cxt, which outlives the per-element SPI). */
static void
refuse(BatchItem *it, MemoryContext cxt, const char *kind, int sqlerrcode, const char *fmt,...)
pg_attribute_printf(5, 6);

static void
refuse(BatchItem *it, MemoryContext cxt, const char *kind, int sqlerrcode, const char *fmt,...)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	StringInfoData buf;

	initStringInfo(&buf);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&buf, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	it->outcome = kind;
	it->sqlstate = pstrdup(unpack_sql_state(sqlerrcode));
	it->error = buf.data;
	MemoryContextSwitchTo(old);
}

/* The refusal a fence result stands for (the single call's error). */
static void
refuse_fence(BatchItem *it, MemoryContext cxt, FFFenceResult r)
{
	const FFHandle *h = &it->handle;

	switch (r)
	{
		case FF_FENCE_OK:
			break;
		case FF_FENCE_NOT_ACTIVE:
			refuse(it, cxt, "execution_not_active", ERRCODE_FF_EXECUTION_NOT_ACTIVE,
				   "execution_not_active: execution %s is not active", h->execution_id);
			break;
		case FF_FENCE_STALE:
			refuse(it, cxt, "stale_lease", ERRCODE_FF_STALE_LEASE,
				   "stale_lease: handle for attempt %u epoch %llu of execution %s is no longer current",
				   h->attempt_index, (unsigned long long) h->lease_epoch, h->execution_id);
			break;
		case FF_FENCE_REVOKED:
			refuse(it, cxt, "lease_revoked", ERRCODE_FF_LEASE_REVOKED,
				   "lease_revoked: the lease on execution %s was revoked", h->execution_id);
			break;
		case FF_FENCE_EXPIRED:
			refuse(it, cxt, "lease_expired", ERRCODE_FF_LEASE_EXPIRED,
				   "lease_expired: the lease on execution %s expired", h->execution_id);
			break;
	}
}

/*
 * decode_handle decodes one handle, turning a malformed or foreign handle
 * into that element's refusal instead of an error of the whole call. The
 * decoder is pure computation (palloc only, no locks, buffers or SPI), so
 * catching its error without a subtransaction leaves nothing behind; any
 * other error is re-thrown.
 */
static void
decode_handle(BatchItem *it, MemoryContext cxt)
{
	volatile bool ok = true;
	ErrorData  *volatile edata = NULL;

	PG_TRY();
	{
		ff_handle_decode_postgres(it->raw, &it->handle);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode != ERRCODE_FF_CORRUPTION &&
			edata->sqlerrcode != ERRCODE_FF_HANDLE_FROM_OTHER_BACKEND)
			PG_RE_THROW();
		FlushErrorState();
		ok = false;
	}
	PG_END_TRY();

	if (ok)
	{
		it->decoded = true;
		return;
	}
	/* an element already refused keeps its earlier refusal */
	if (it->outcome == NULL)
		refuse(it, cxt, edata->sqlerrcode == ERRCODE_FF_CORRUPTION ? "corruption" : "handle_from_other_backend",
			   edata->sqlerrcode, "%s%s%s", edata->message,
			   edata->detail ? ": " : "", edata->detail ? edata->detail : "");
	FreeErrorData(edata);
}

static int
compare_raw(const void *a, const void *b, void *arg)
{
	BatchItem	   *items = arg;
	bytea	   *x = items[*(const int *) a].raw;
	bytea	   *y = items[*(const int *) b].raw;
	Size		lx = VARSIZE_ANY_EXHDR(x);
	Size		ly = VARSIZE_ANY_EXHDR(y);
	int			c;

	if (lx != ly)
		return lx < ly ? -1 : 1;
	c = memcmp(VARDATA_ANY(x), VARDATA_ANY(y), lx);
	if (c != 0)
		return c;
	/* equal handles: the earlier element first */
	return *(const int *) a - *(const int *) b;
}

/* mark_duplicates points every repeat of a decoded handle at its first use. */
static void
mark_duplicates(BatchItem *items, int n)
{
	int		   *order = palloc(sizeof(int) * Max(n, 1));
	int			m = 0;

	for (int i = 0; i < n; i++)
		if (items[i].decoded && items[i].outcome == NULL)
			order[m++] = i;
	qsort_arg(order, m, sizeof(int), compare_raw, items);
	for (int k = 1; k < m; k++)
	{
		BatchItem	   *prev = &items[order[k - 1]];
		BatchItem	   *cur = &items[order[k]];

		if (VARSIZE_ANY_EXHDR(prev->raw) == VARSIZE_ANY_EXHDR(cur->raw) &&
			memcmp(VARDATA_ANY(prev->raw), VARDATA_ANY(cur->raw), VARSIZE_ANY_EXHDR(cur->raw)) == 0)
			cur->dup_of = prev->dup_of >= 0 ? prev->dup_of : order[k - 1];
	}
	pfree(order);
}

/*
 * lock_executions locks every execution the decoded handles name together
 * with the attempt the handle names, in (partition_key, execution_id) order,
 * each execution before its attempt, in one statement, and hands the rows to
 * the write scope, so the elements' fences do not read them again
 * (writeset.c). Notes which executions and attempts exist: a handle naming
 * no attempt of its execution (a forged or corrupt one) is not in the join,
 * and its execution is looked up (and locked) on its own.
 */
static void
lock_executions(BatchItem *items, int n)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[3] = {INT2ARRAYOID, UUIDARRAYOID, INT4ARRAYOID};
	Datum	   *parts = palloc(sizeof(Datum) * Max(n, 1));
	Datum	   *uuids = palloc(sizeof(Datum) * Max(n, 1));
	Datum	   *attempts = palloc(sizeof(Datum) * Max(n, 1));
	int			m = 0;
	Datum		v[3];
	MemoryContext old;
	FFExecRow	missing;

	for (int i = 0; i < n; i++)
	{
		if (items[i].outcome != NULL || items[i].dup_of >= 0)
			continue;
		parts[m] = Int16GetDatum(items[i].handle.key.partition);
		uuids[m] = UUIDPGetDatum(&items[i].handle.key.uuid);
		attempts[m] = Int32GetDatum((int32) items[i].handle.attempt_index);
		m++;
	}
	if (m == 0)
		return;
	v[0] = ff_array_param(parts, NULL, m, INT2OID);
	v[1] = ff_array_param(uuids, NULL, m, UUIDOID);
	v[2] = ff_array_param(attempts, NULL, m, INT4OID);

	ff_prepare_generic(&plan,
					   "SELECT " FF_EXEC_COLUMNS_OF("e.") ", " FF_ATTEMPT_COLUMNS_OF("a.") " "
					   "FROM unnest($1, $2, $3) AS k(p, x, i) "
					   "JOIN ff_execution e ON e.partition_key = k.p AND e.execution_id = k.x "
					   "JOIN ff_attempt a ON a.partition_key = k.p AND a.execution_id = k.x "
					   "AND a.attempt_index = k.i "
					   "ORDER BY e.partition_key, e.execution_id FOR UPDATE OF e, a",
					   3, types);
	ff_execute(plan, v, NULL, false, 0);
	old = MemoryContextSwitchTo(ff_writes_context());
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		FFTupleCols c;
		FFExecRow	exec;
		FFAttemptRow attempt;

		ff_tuple_deform(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, &c);
		ff_exec_from_cols(&c, 0, &exec);
		ff_attempt_from_cols(&c, FF_EXEC_NCOLS, &attempt);
		ff_writes_preload_execution(&exec);
		ff_writes_preload_attempt(&attempt);
		pfree(c.values);
		pfree(c.nulls);
	}
	MemoryContextSwitchTo(old);

	for (int i = 0; i < n; i++)
	{
		BatchItem  *it = &items[i];

		if (it->outcome != NULL || it->dup_of >= 0)
			continue;
		it->attempt_exists = ff_writes_preloaded(&it->handle.key, (int32) it->handle.attempt_index);
		it->exec_exists = it->attempt_exists || ff_writes_preloaded(&it->handle.key, -1) ||
			ff_exec_load(&it->handle.key, &missing, true);
	}
}

/*
 * complete_plain reserves two outbox ids per handle in input order (lease
 * release, completion), then completes the plain handles in one statement
 * (batch_fast.c); the rest go through ff_complete_handle with their ids.
 */
static void
complete_plain(BatchItem *items, int n)
{
	FFFastItem *fast = palloc(sizeof(FFFastItem) * Max(n, 1));
	BatchItem **of = palloc(sizeof(BatchItem *) * Max(n, 1));
	int			m = 0;

	for (int i = 0; i < n; i++)
	{
		BatchItem  *it = &items[i];

		if (it->outcome != NULL)
			continue;
		it->event_id = ff_reserve_event_ids(2);
		fast[m].handle = &it->handle;
		fast[m].payload = it->payload;
		fast[m].event_id = it->event_id;
		of[m++] = it;
	}
	ff_fast_complete(fast, m, ff_now_ms());
	for (int j = 0; j < m; j++)
		if (fast[j].done)
			of[j]->outcome = "completed";
	pfree(fast);
	pfree(of);
}

/* process runs one element whose execution and attempt exist. */
static void
process(BatchOp op, BatchItem *it, MemoryContext cxt)
{
	FFFence		f;
	FFFenceResult r = FF_FENCE_OK;
	int64		delay_until = FF_NULL_MS;

	SPI_connect();
	switch (op)
	{
		case OP_RENEW:
			r = ff_renew_handle(it->raw, &f);
			if (r == FF_FENCE_OK)
			{
				it->outcome = "renewed";
				it->v1 = f.attempt.lease_expires_at_ms;
				it->v2 = f.attempt.lease_epoch;
			}
			break;
		case OP_COMPLETE:
			/* its events take the ids reserved for it, in input order */
			ff_use_event_ids(it->event_id, 2);
			r = ff_complete_handle(it->raw, it->payload, &f);
			ff_use_event_ids(0, 0);
			if (r == FF_FENCE_OK)
				it->outcome = "completed";
			break;
		case OP_FAIL:
			r = ff_fail_handle(it->raw, it->message, it->category, it->payload, &f, &delay_until);
			if (r == FF_FENCE_OK)
			{
				it->outcome = delay_until != FF_NULL_MS ? "retry_scheduled" : "terminal_failed";
				it->v1 = delay_until;
			}
			break;
	}
	if (r != FF_FENCE_OK)
		refuse_fence(it, cxt, r);
	SPI_finish();
}

/*
 * run_batch: the handle batch shared by the three calls. handles is argument
 * 0; the caller has filled in the per-element inputs. Returns the items, one
 * per handle, each with its outcome.
 */
static void
run_batch(BatchOp op, const char *fn, BatchItem *items, int n, MemoryContext cxt)
{
	BatchCtx	ctx = {fn, -1};
	ErrorContextCallback cb;

	push_context(cb, &ctx);
	for (int i = 0; i < n; i++)
	{
		ctx.item = i;
		items[i].dup_of = -1;
		if (items[i].raw != NULL)
			decode_handle(&items[i], cxt);
	}
	ctx.item = -1;
	if (op == OP_RENEW)
		mark_duplicates(items, n);

	SPI_connect();
	if (op == OP_COMPLETE)
		complete_plain(items, n);
	/* the elements' rows are written together, in one statement (writeset.c) */
	ff_writes_begin();
	lock_executions(items, n);

	for (int i = 0; i < n; i++)
	{
		BatchItem	   *it = &items[i];

		ctx.item = i;
		if (it->outcome != NULL)
			continue;
		if (it->dup_of >= 0)
		{
			const BatchItem *first = &items[it->dup_of];

			it->outcome = first->outcome;
			it->sqlstate = first->sqlstate;
			it->error = first->error;
			it->v1 = first->v1;
			it->v2 = first->v2;
			continue;
		}
		if (!it->exec_exists)
			refuse(it, cxt, "execution_not_found", ERRCODE_FF_EXECUTION_NOT_FOUND,
				   "execution_not_found: execution %s does not exist", it->handle.execution_id);
		else if (!it->attempt_exists)
			refuse(it, cxt, "attempt_not_found", ERRCODE_FF_ATTEMPT_NOT_FOUND,
				   "attempt_not_found: execution %s has no attempt %u",
				   it->handle.execution_id, it->handle.attempt_index);
		else
		{
			process(op, it, cxt);
			/* an element of a flow, budget or quota wrote at once */
			ff_writes_resume();
		}
	}
	ff_writes_end();
	SPI_finish();
	pop_context(cb);
}

/* Reads argument 0, handles bytea[], into fresh items. */
static BatchItem *
handle_items(FunctionCallInfo fcinfo, int *n_out)
{
	Datum	   *values;
	bool	   *nulls;
	int			n;
	BatchItem	   *items;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: handles must not be null")));
	n = array_arg(fcinfo, 0, "handles", &values, &nulls);
	items = palloc0(sizeof(BatchItem) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			refuse(&items[i], CurrentMemoryContext, "invalid_input", ERRCODE_FF_INVALID_INPUT,
				   "invalid_input: handle must not be null");
		else
			items[i].raw = DatumGetByteaPP(values[i]);
	}
	*n_out = n;
	return items;
}

/* Common result columns: item, execution_id, outcome, ..., error_code, message. */
static void
put_common(const BatchItem *it, int i, Datum *values, bool *nulls, int last)
{
	values[0] = Int32GetDatum(i + 1);
	nulls[0] = false;
	values[1] = it->decoded ? CStringGetTextDatum(ff_format_execution_id(&it->handle.key)) : (Datum) 0;
	nulls[1] = !it->decoded;
	values[2] = CStringGetTextDatum(it->outcome);
	nulls[2] = false;
	values[last - 1] = it->sqlstate ? CStringGetTextDatum(it->sqlstate) : (Datum) 0;
	nulls[last - 1] = it->sqlstate == NULL;
	values[last] = it->error ? CStringGetTextDatum(it->error) : (Datum) 0;
	nulls[last] = it->error == NULL;
}

PG_FUNCTION_INFO_V1(ff_renew_many);
Datum
ff_renew_many(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext cxt = CurrentMemoryContext;
	int			n;
	BatchItem	   *items = handle_items(fcinfo, &n);

	InitMaterializedSRF(fcinfo, 0);
	run_batch(OP_RENEW, "ff_renew_many", items, n, cxt);
	for (int i = 0; i < n; i++)
	{
		Datum		values[7];
		bool		nulls[7];
		bool		ok = items[i].sqlstate == NULL;

		put_common(&items[i], i, values, nulls, 6);
		values[3] = Int64GetDatum(items[i].v1);
		nulls[3] = !ok;
		values[4] = Int64GetDatum(items[i].v2);
		nulls[4] = !ok;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(ff_complete_many);
Datum
ff_complete_many(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext cxt = CurrentMemoryContext;
	int			n;
	BatchItem	   *items = handle_items(fcinfo, &n);
	Datum	   *payloads;
	bool	   *payload_nulls;

	check_length("payloads", array_arg(fcinfo, 1, "payloads", &payloads, &payload_nulls),
				 n, "handles");
	for (int i = 0; i < n; i++)
	{
		if (payloads == NULL || payload_nulls[i])
			continue;
		items[i].payload = DatumGetByteaP(payloads[i]);
		if (items[i].outcome == NULL &&
			VARSIZE_ANY_EXHDR(items[i].payload) > (Size) ff_max_payload_bytes)
			refuse(&items[i], cxt, "payload_too_large", ERRCODE_FF_PAYLOAD_TOO_LARGE,
				   "payload_too_large: result payload is %zu bytes (flowfabric.max_payload_bytes is %d)",
				   (Size) VARSIZE_ANY_EXHDR(items[i].payload), ff_max_payload_bytes);
	}

	InitMaterializedSRF(fcinfo, 0);
	run_batch(OP_COMPLETE, "ff_complete_many", items, n, cxt);
	for (int i = 0; i < n; i++)
	{
		Datum		values[5];
		bool		nulls[5];

		put_common(&items[i], i, values, nulls, 4);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(ff_fail_many);
Datum
ff_fail_many(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext cxt = CurrentMemoryContext;
	int			n;
	BatchItem	   *items = handle_items(fcinfo, &n);
	Datum	   *messages,
			   *classes,
			   *details;
	bool	   *message_nulls,
			   *class_nulls,
			   *detail_nulls;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: messages must not be null"),
				 errhint("Pass one failure message per handle.")));
	check_length("messages", array_arg(fcinfo, 1, "messages", &messages, &message_nulls),
				 n, "handles");
	check_length("classifications",
				 array_arg(fcinfo, 2, "classifications", &classes, &class_nulls), n, "handles");
	check_length("details", array_arg(fcinfo, 3, "details", &details, &detail_nulls), n, "handles");

	/* the single call's argument checks, per element, in its order */
	for (int i = 0; i < n; i++)
	{
		BatchItem	   *it = &items[i];
		char	   *cls = classes && !class_nulls[i] ? TextDatumGetCString(classes[i]) : "transient";

		it->message = message_nulls[i] ? NULL : TextDatumGetCString(messages[i]);
		it->category = ff_failure_classification(cls);
		it->payload = details && !detail_nulls[i] ? DatumGetByteaP(details[i]) : NULL;
		if (it->outcome != NULL)
			continue;
		if (it->message == NULL || it->message[0] == '\0')
			refuse(it, cxt, "invalid_input", ERRCODE_FF_INVALID_INPUT,
				   "invalid_input: message must not be %s", it->message ? "empty" : "null");
		else if (it->category == NULL)
			refuse(it, cxt, "invalid_input", ERRCODE_FF_INVALID_INPUT,
				   "invalid_input: unknown failure classification \"%s\"", cls);
		else if (it->payload && VARSIZE_ANY_EXHDR(it->payload) > (Size) ff_max_payload_bytes)
			refuse(it, cxt, "payload_too_large", ERRCODE_FF_PAYLOAD_TOO_LARGE,
				   "payload_too_large: failure detail is %zu bytes (flowfabric.max_payload_bytes is %d)",
				   (Size) VARSIZE_ANY_EXHDR(it->payload), ff_max_payload_bytes);
	}

	InitMaterializedSRF(fcinfo, 0);
	run_batch(OP_FAIL, "ff_fail_many", items, n, cxt);
	for (int i = 0; i < n; i++)
	{
		Datum		values[6];
		bool		nulls[6];

		put_common(&items[i], i, values, nulls, 5);
		values[3] = Int64GetDatum(items[i].v1);
		nulls[3] = items[i].sqlstate != NULL || items[i].v1 == FF_NULL_MS;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * exec.c
 *		Execution rows: load and store, and ff_create_execution.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

#include "flowfabric.h"
#include "bgworker.h"
#include "writeset.h"

/*
 * ff_exec_from_cols decodes the FF_EXEC_COLUMNS of a deformed row, starting
 * after its first `first` columns (a join's preceding columns).
 */
void
ff_exec_from_cols(const FFTupleCols *c, int first, FFExecRow *row)
{
	bool		isnull;
	Datum		policy;

	memset(row, 0, sizeof(*row));
	row->key.partition = DatumGetInt16(ff_col_datum(c, first + 1, &isnull));
	ff_col_uuid(c, first + 2, &row->key.uuid);
	row->lane_id = ff_col_cstring(c, first + 3);
	row->namespace = ff_col_cstring(c, first + 4);
	row->has_flow = ff_col_uuid(c, first + 5, &row->flow_id);
	policy = ff_col_datum(c, first + 6, &isnull);
	row->policy = isnull ? NULL : DatumGetJsonbP(policy);
	row->sv.lifecycle_phase = ff_intern_literal(ff_col_cstring(c, first + 7));
	row->sv.ownership_state = ff_intern_literal(ff_col_cstring(c, first + 8));
	row->sv.eligibility_state = ff_intern_literal(ff_col_cstring(c, first + 9));
	row->sv.blocking_reason = ff_intern_literal(ff_col_cstring(c, first + 10));
	row->sv.terminal_outcome = ff_intern_literal(ff_col_cstring(c, first + 11));
	row->sv.attempt_state = ff_intern_literal(ff_col_cstring(c, first + 12));
	row->blocking_detail = ff_col_cstring(c, first + 13);
	row->attempt_index = ff_col_int32(c, first + 14, 0);
	row->total_attempt_count = ff_col_int32(c, first + 15, 0);
	row->retry_count = ff_col_int32(c, first + 16, 0);
	row->reclaim_count = ff_col_int32(c, first + 17, 0);
	row->lease_epoch = ff_col_int64(c, first + 18, 0);
	row->progress_pct = ff_col_int32(c, first + 19, -1);
	row->progress_message = ff_col_cstring(c, first + 20);
	row->progress_updated_at_ms = ff_col_int64(c, first + 21, FF_NULL_MS);
	row->last_failure_message = ff_col_cstring(c, first + 22);
	row->last_failure_category = ff_col_cstring(c, first + 23);
	row->cancellation_reason = ff_col_cstring(c, first + 24);
	row->cancelled_by = ff_col_cstring(c, first + 25);
	row->created_at_ms = ff_col_int64(c, first + 26, 0);
	row->last_mutation_at_ms = ff_col_int64(c, first + 27, 0);
	row->started_at_ms = ff_col_int64(c, first + 28, FF_NULL_MS);
	row->terminal_at_ms = ff_col_int64(c, first + 29, FF_NULL_MS);
	row->delay_until_ms = ff_col_int64(c, first + 30, FF_NULL_MS);
	row->deadline_at_ms = ff_col_int64(c, first + 31, FF_NULL_MS);
}

void
ff_exec_from_tuple(HeapTuple tuple, TupleDesc desc, FFExecRow *row)
{
	FFTupleCols c;

	ff_tuple_deform(tuple, desc, &c);
	ff_exec_from_cols(&c, 0, row);
	pfree(c.values);
	pfree(c.nulls);
}

/*
 * ff_exec_load reads one execution, optionally locking it FOR UPDATE (the
 * first lock of every state change). Returns false if it does not exist. A
 * batch's rows, locked by its own statement, come from the write scope
 * (ff_writes_take_execution).
 */
bool
ff_exec_load(const FFExecKey *key, FFExecRow *row, bool lock)
{
	static SPIPlanPtr plan_lock = NULL;
	static SPIPlanPtr plan_read = NULL;
	static const Oid types[2] = {INT2OID, UUIDOID};
	SPIPlanPtr	plan;
	Datum		values[2];

	if (lock)
		plan = ff_prepare(&plan_lock,
						  "SELECT " FF_EXEC_COLUMNS " FROM ff_execution "
						  "WHERE partition_key = $1 AND execution_id = $2 FOR UPDATE",
						  2, types);
	else
		plan = ff_prepare(&plan_read,
						  "SELECT " FF_EXEC_COLUMNS " FROM ff_execution "
						  "WHERE partition_key = $1 AND execution_id = $2",
						  2, types);
	if (lock && ff_writes_take_execution(key, row))
		return true;
	ff_writes_flush_key(key, -1);
	values[0] = Int16GetDatum(key->partition);
	values[1] = ff_uuid_datum(&key->uuid);
	/* never read-only: a row another transaction just committed must be seen */
	ff_execute(plan, values, NULL, false, 1);
	if (SPI_processed == 0)
		return false;
	ff_exec_from_tuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, row);
	return true;
}

/*
 * note_due_times tells the reconciler about the due times an execution row
 * is written with: a delay to promote, a deadline to enforce.
 */
static void
note_due_times(const FFExecRow *row)
{
	if (row->delay_until_ms != FF_NULL_MS &&
		strcmp(row->sv.eligibility_state, "not_eligible_until_time") == 0)
		ff_bgw_note_due(row->delay_until_ms);
	if (row->deadline_at_ms != FF_NULL_MS && strcmp(row->sv.lifecycle_phase, "terminal") != 0)
		ff_bgw_note_due(row->deadline_at_ms);
}

/*
 * ff_exec_store writes back every mutable column of a row loaded with
 * ff_exec_load, deriving public_state from the vector (staged inside a
 * write scope, writeset.c).
 */
void
ff_exec_store(FFExecRow *row)
{
	Datum		v[28];
	char		n[29];

	memset(n, ' ', sizeof(n));
	n[28] = '\0';
	v[0] = Int16GetDatum(row->key.partition);
	v[1] = ff_uuid_datum(&row->key.uuid);
	v[2] = CStringGetTextDatum(row->sv.lifecycle_phase);
	v[3] = CStringGetTextDatum(row->sv.ownership_state);
	v[4] = CStringGetTextDatum(row->sv.eligibility_state);
	v[5] = CStringGetTextDatum(row->sv.blocking_reason);
	v[6] = CStringGetTextDatum(row->sv.terminal_outcome);
	v[7] = CStringGetTextDatum(row->sv.attempt_state);
	v[8] = CStringGetTextDatum(ff_derive_public_state(row->sv.lifecycle_phase,
													  row->sv.eligibility_state,
													  row->sv.terminal_outcome));
	v[9] = ff_text_datum(row->blocking_detail, &n[9]);
	v[10] = Int32GetDatum(row->attempt_index);
	v[11] = Int32GetDatum(row->total_attempt_count);
	v[12] = Int32GetDatum(row->retry_count);
	v[13] = Int32GetDatum(row->reclaim_count);
	v[14] = Int64GetDatum(row->lease_epoch);
	v[15] = Int32GetDatum(row->progress_pct);
	n[15] = row->progress_pct < 0 ? 'n' : ' ';
	v[16] = ff_text_datum(row->progress_message, &n[16]);
	v[17] = ff_ms_datum(row->progress_updated_at_ms, &n[17]);
	v[18] = ff_text_datum(row->last_failure_message, &n[18]);
	v[19] = ff_text_datum(row->last_failure_category, &n[19]);
	v[20] = ff_text_datum(row->cancellation_reason, &n[20]);
	v[21] = ff_text_datum(row->cancelled_by, &n[21]);
	v[22] = Int64GetDatum(row->last_mutation_at_ms);
	v[23] = ff_ms_datum(row->started_at_ms, &n[23]);
	v[24] = ff_ms_datum(row->terminal_at_ms, &n[24]);
	v[25] = ff_ms_datum(row->delay_until_ms, &n[25]);
	v[26] = BoolGetDatum(row->set_result);
	v[27] = row->result ? PointerGetDatum(row->result) : (Datum) 0;
	n[27] = row->result ? ' ' : 'n';
	note_due_times(row);
	ff_write_stage_spi(FF_WRITE_EXECUTION, v, n);
}

/*
 * capability_union merges the capabilities argument with the policy's
 * routing requirements into one sorted, duplicate-free text[].
 */
static ArrayType *
capability_union(ArrayType *arg, List *from_policy)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	List	   *all = list_copy(from_policy);
	List	   *unique = NIL;
	ListCell   *lc;
	Datum	   *out;
	int			count = 0;

	if (arg)
	{
		ff_check_capabilities(arg, "required_capabilities", ERRCODE_FF_INVALID_CAPABILITIES);
		deconstruct_array(arg, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
		for (int i = 0; i < n; i++)
			all = lappend(all, TextDatumGetCString(elems[i]));
	}
	list_sort(all, (list_sort_comparator) pg_qsort_strcmp);
	foreach(lc, all)
	{
		if (unique == NIL || strcmp(llast(unique), lfirst(lc)) != 0)
			unique = lappend(unique, lfirst(lc));
	}
	out = palloc(sizeof(Datum) * Max(list_length(unique), 1));
	foreach(lc, unique)
		out[count++] = CStringGetTextDatum(lfirst(lc));
	return construct_array(out, count, TEXTOID, -1, false, TYPALIGN_INT);
}

/* check_tags requires a JSON object of string values under valid tag keys. */
static void
check_tags(Jsonb *tags)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;

	if (!JB_ROOT_IS_OBJECT(tags) || JB_ROOT_IS_SCALAR(tags))
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: tags must be a JSON object of strings")));
	it = JsonbIteratorInit(&tags->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
			ff_check_tag_key(pnstrdup(v.val.string.val, v.val.string.len));
		else if (tok == WJB_VALUE && v.type != jbvString)
			ereport(ERROR,
					(errcode(ERRCODE_FF_INVALID_INPUT),
					 errmsg("invalid_input: tag values must be strings")));
	}
}

/*
 * claim_idempotency_key registers (partition, namespace, key) for this
 * execution, or returns false and the execution already holding it.
 */
static bool
claim_idempotency_key(const FFExecKey *key, const char *namespace, const char *idem,
					  int64 expires_at, int64 now, pg_uuid_t *holder)
{
	static SPIPlanPtr insert_plan = NULL;
	static SPIPlanPtr select_plan = NULL;
	static const Oid types[6] = {INT2OID, TEXTOID, TEXTOID, UUIDOID, INT8OID, INT8OID};
	Datum		v[6];

	ff_prepare(&insert_plan,
			   "INSERT INTO ff_idempotency_key AS k "
			   "(partition_key, namespace, idempotency_key, execution_id, expires_at_ms) "
			   "VALUES ($1, $2, $3, $4, $5) "
			   "ON CONFLICT (partition_key, namespace, idempotency_key) DO UPDATE "
			   "SET execution_id = EXCLUDED.execution_id, expires_at_ms = EXCLUDED.expires_at_ms "
			   "WHERE k.expires_at_ms <= $6",
			   6, types);
	v[0] = Int16GetDatum(key->partition);
	v[1] = CStringGetTextDatum(namespace ? namespace : "");
	v[2] = CStringGetTextDatum(idem);
	v[3] = ff_uuid_datum(&key->uuid);
	v[4] = Int64GetDatum(expires_at);
	v[5] = Int64GetDatum(now);
	ff_execute(insert_plan, v, NULL, false, 0);
	if (SPI_processed == 1)
		return true;

	ff_prepare(&select_plan,
			   "SELECT execution_id FROM ff_idempotency_key "
			   "WHERE partition_key = $1 AND namespace = $2 AND idempotency_key = $3",
			   3, types);
	ff_execute(select_plan, v, NULL, false, 1);
	if (SPI_processed != 1 || !ff_get_uuid(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, holder))
		elog(ERROR, "idempotency key vanished while locked");
	return false;
}

/*
 * register_lane records the lane once per (sub)transaction: a batch of
 * creates on one lane registers it with its first element.
 */
static void
register_lane(const char *lane, int64 now)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[2] = {TEXTOID, INT8OID};
	static LocalTransactionId done_lxid = InvalidLocalTransactionId;
	static SubTransactionId done_subxid = InvalidSubTransactionId;
	static char done_lane[FF_LANE_ID_MAX_BYTES + 1];
	Datum		v[2];

	if (done_lxid == MyProc->lxid && done_subxid == GetCurrentSubTransactionId() &&
		strcmp(done_lane, lane) == 0)
		return;
	ff_prepare(&plan,
			   "INSERT INTO ff_lane (lane_id, registered_at_ms, registered_by) "
			   "SELECT $1, $2, 'create_execution' "
			   "WHERE NOT EXISTS (SELECT 1 FROM ff_lane WHERE lane_id = $1) "
			   "ON CONFLICT DO NOTHING",
			   2, types);
	v[0] = CStringGetTextDatum(lane);
	v[1] = Int64GetDatum(now);
	ff_execute(plan, v, NULL, false, 0);
	done_lxid = MyProc->lxid;
	done_subxid = GetCurrentSubTransactionId();
	strlcpy(done_lane, lane, sizeof(done_lane));
}

/*
 * insert_execution returns false if the id already exists. A minted id is
 * new by construction: its row is staged in a write scope (ff_create_executions
 * writes a batch's rows in one statement).
 */
static bool
insert_execution(FFExecRow *row, const char *kind, const char *creator, ArrayType *caps,
				 Jsonb *policy, bytea *payload, Jsonb *tags, int32 priority, bool minted)
{
	Datum		v[23];
	char		n[24];

	memset(n, ' ', sizeof(n));
	n[23] = '\0';
	v[0] = Int16GetDatum(row->key.partition);
	v[1] = ff_uuid_datum(&row->key.uuid);
	v[2] = CStringGetTextDatum(row->lane_id);
	v[3] = ff_text_datum(row->namespace, &n[3]);
	v[4] = ff_text_datum(kind, &n[4]);
	v[5] = ff_text_datum(creator, &n[5]);
	v[6] = Int32GetDatum(priority);
	v[7] = CStringGetTextDatum(OidOutputFunctionCall(F_ARRAY_OUT, PointerGetDatum(caps)));
	v[8] = CStringGetTextDatum(row->sv.lifecycle_phase);
	v[9] = CStringGetTextDatum(row->sv.ownership_state);
	v[10] = CStringGetTextDatum(row->sv.eligibility_state);
	v[11] = CStringGetTextDatum(row->sv.blocking_reason);
	v[12] = CStringGetTextDatum(row->sv.terminal_outcome);
	v[13] = CStringGetTextDatum(row->sv.attempt_state);
	v[14] = CStringGetTextDatum(ff_derive_public_state(row->sv.lifecycle_phase,
													   row->sv.eligibility_state,
													   row->sv.terminal_outcome));
	v[15] = policy ? JsonbPGetDatum(policy) : (Datum) 0;
	n[15] = policy ? ' ' : 'n';
	v[16] = payload ? PointerGetDatum(payload) : (Datum) 0;
	n[16] = payload ? ' ' : 'n';
	v[17] = JsonbPGetDatum(tags);
	v[18] = Int64GetDatum(row->created_at_ms);
	v[19] = Int64GetDatum(row->created_at_ms);
	v[20] = ff_ms_datum(row->delay_until_ms, &n[20]);
	v[21] = ff_ms_datum(row->deadline_at_ms, &n[21]);
	v[22] = ff_text_datum(row->blocking_detail, &n[22]);
	note_due_times(row);
	if (minted)
	{
		ff_write_stage_spi(FF_WRITE_EXECUTION_INSERT, v, n);
		return true;
	}
	return ff_write_now_spi(FF_WRITE_EXECUTION_INSERT, v, n) == 1;
}

static char *
read_public_state(const pg_uuid_t *uuid, int16 partition)
{
	FFExecKey	key = {partition, *uuid};
	FFExecRow	row;

	if (!ff_exec_load(&key, &row, false))
		return NULL;
	return pstrdup(ff_derive_public_state(row.sv.lifecycle_phase, row.sv.eligibility_state,
										  row.sv.terminal_outcome));
}

void
ff_check_payload_size(bytea *payload, const char *what)
{
	if (payload && VARSIZE_ANY_EXHDR(payload) > (Size) ff_max_payload_bytes)
		ereport(ERROR,
				(errcode(ERRCODE_FF_PAYLOAD_TOO_LARGE),
				 errmsg("payload_too_large: %s is %zu bytes", what, (Size) VARSIZE_ANY_EXHDR(payload)),
				 errdetail("flowfabric.max_payload_bytes is %d.", ff_max_payload_bytes)));
}

/*
 * ff_create_one creates one execution (validation, idempotency key, insert,
 * lane registration): the body of ff_create_execution, shared with the batch
 * form (batch.c). Call it while connected to SPI; *out is allocated in the
 * current memory context.
 */
void
ff_create_one(const FFCreateArgs *a, FFCreateResult *out)
{
	char	   *lane = a->lane_id;
	bytea	   *payload = a->payload;
	int32		priority = a->priority;
	Jsonb	   *policy_json = a->policy;
	char	   *idem = a->idempotency_key;
	Jsonb	   *tags;
	FFPolicy	policy;
	ArrayType  *caps;
	FFExecRow	row;
	int64		now = ff_now_ms();
	bool		created = true;

	ff_check_lane(lane, strlen(lane));
	ff_check_payload_size(payload, "input_payload");
	ff_policy_parse(policy_json, &policy);
	caps = capability_union(a->required_capabilities, policy.required_capabilities);
	ff_check_capabilities(caps, "required_capabilities", ERRCODE_FF_INVALID_CAPABILITIES);
	tags = a->tags == NULL ? DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")))
		: a->tags;
	check_tags(tags);

	memset(&row, 0, sizeof(row));
	if (a->execution_id == NULL)
	{
		row.key.partition = (int16) ff_solo_partition(lane, strlen(lane));
		ff_time_ordered_uuid(&row.key.uuid);
	}
	else
		ff_parse_execution_id(a->execution_id, &row.key);
	row.lane_id = lane;
	row.namespace = a->namespace;
	row.created_at_ms = now;
	row.delay_until_ms = a->has_delay_until ? a->delay_until_ms : policy.delay_until_ms;
	row.deadline_at_ms = a->deadline_at_ms;
	if (row.delay_until_ms != FF_NULL_MS && row.delay_until_ms > now)
	{
		row.sv = ff_sv_delayed_start;
		row.blocking_detail = psprintf("delayed until %lld", (long long) row.delay_until_ms);
	}
	else
	{
		row.sv = ff_sv_ready;
		row.delay_until_ms = FF_NULL_MS;
	}
	priority = Max(0, Min(priority, FF_PRIORITY_MAX));

	if (idem && *idem)
	{
		pg_uuid_t	holder;

		if (!claim_idempotency_key(&row.key, row.namespace, idem,
								   now + policy.dedup_window_ms, now, &holder))
		{
			row.key.uuid = holder;
			created = false;
		}
	}
	if (created)
	{
		created = insert_execution(&row, a->execution_kind, a->creator_identity,
								   caps, policy_json, payload, tags, priority,
								   a->execution_id == NULL);
		if (created)
			register_lane(lane, now);
	}
	out->key = row.key;
	out->created = created;
	out->public_state = created
		? pstrdup(ff_derive_public_state(row.sv.lifecycle_phase, row.sv.eligibility_state,
										 row.sv.terminal_outcome))
		: read_public_state(&row.key.uuid, row.key.partition);
}

PG_FUNCTION_INFO_V1(ff_create_execution);
Datum
ff_create_execution(PG_FUNCTION_ARGS)
{
	MemoryContext outer = CurrentMemoryContext;
	FFCreateArgs a;
	FFCreateResult r;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	Datum		result;

	memset(&a, 0, sizeof(a));
	a.lane_id = ff_arg_cstring_required(fcinfo, 0, "lane_id");
	a.payload = PG_ARGISNULL(1) ? NULL : PG_GETARG_BYTEA_P(1);
	a.execution_id = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	a.namespace = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	a.execution_kind = PG_ARGISNULL(4) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(4));
	a.priority = PG_ARGISNULL(5) ? 0 : PG_GETARG_INT32(5);
	a.required_capabilities = PG_ARGISNULL(6) ? NULL : PG_GETARG_ARRAYTYPE_P(6);
	a.policy = PG_ARGISNULL(7) ? NULL : PG_GETARG_JSONB_P(7);
	a.has_delay_until = !PG_ARGISNULL(8);
	a.delay_until_ms = PG_ARGISNULL(8) ? FF_NULL_MS : PG_GETARG_INT64(8);
	a.deadline_at_ms = PG_ARGISNULL(9) ? FF_NULL_MS : PG_GETARG_INT64(9);
	a.idempotency_key = PG_ARGISNULL(10) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(10));
	a.tags = PG_ARGISNULL(11) ? NULL : PG_GETARG_JSONB_P(11);
	a.creator_identity = PG_ARGISNULL(12) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(12));

	SPI_connect();
	ff_create_one(&a, &r);
	values[0] = CStringGetTextDatum(ff_format_execution_id(&r.key));
	values[1] = r.public_state ? CStringGetTextDatum(r.public_state) : (Datum) 0;
	nulls[1] = r.public_state == NULL;
	values[2] = BoolGetDatum(r.created);
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

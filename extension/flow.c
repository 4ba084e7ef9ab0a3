/*
 * flow.c
 *		Flows: creation, membership, flow cancel (with its wait modes), the
 *		cancel header/ack protocol and the cancel backlog reconciler.
 *
 * A flow and all of its members live on the flow's partition (CRC16 of the
 * flow id's 16 bytes, mod 256): members are minted with
 * ff_new_flow_execution_id(flow_id). Edges, edge groups and cancel backlog
 * rows are keyed (partition_key, flow_id, ...) on that same partition.
 *
 * Cancelling members never waits for a member another transaction holds
 * (it is mid-transition there): such members go to the cancel backlog, which
 * ff_reconcile_cancel_backlog drains, or, with a wait mode, are retried until
 * the deadline. So a flow cancel cannot deadlock with the members' own
 * completions and their cascades.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "flow.h"

#define CANCEL_WAIT_CEILING_MS		300000	/* wait_indefinite, as upstream */
#define CANCEL_WAIT_POLL_US			10000
#define CANCEL_HEADER_GRACE_MS		30000

/* Shared helpers */

int16
ff_flow_partition_of(const pg_uuid_t *flow_id)
{
	return (int16) (ff_crc16(flow_id->data, UUID_LEN) % FF_NUM_FLOW_PARTITIONS);
}

pg_uuid_t
ff_flow_arg_uuid(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: %s must not be null", name)));
	return *PG_GETARG_UUID_P(argno);
}

/*
 * ff_flow_load reads the flow row, optionally locking it FOR UPDATE (the
 * first lock of every graph change and of a flow cancel). A missing flow is
 * flow_not_found.
 */
void
ff_flow_load(const pg_uuid_t *flow_id, FFFlowRow *row, bool lock)
{
	static SPIPlanPtr plan_lock = NULL;
	static SPIPlanPtr plan_read = NULL;
	static const Oid types[2] = {INT2OID, UUIDOID};
	SPIPlanPtr	plan;
	Datum		v[2];
	HeapTuple	t;
	TupleDesc	d;
	char	   *state;

	if (lock)
		plan = ff_prepare(&plan_lock,
						  "SELECT public_flow_state, graph_revision, node_count, edge_count "
						  "FROM ff_flow WHERE partition_key = $1 AND flow_id = $2 FOR UPDATE",
						  2, types);
	else
		plan = ff_prepare(&plan_read,
						  "SELECT public_flow_state, graph_revision, node_count, edge_count "
						  "FROM ff_flow WHERE partition_key = $1 AND flow_id = $2",
						  2, types);
	row->partition = ff_flow_partition_of(flow_id);
	row->flow_id = *flow_id;
	v[0] = Int16GetDatum(row->partition);
	v[1] = ff_uuid_datum(flow_id);
	ff_execute(plan, v, NULL, false, 1);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FF_FLOW_NOT_FOUND),
				 errmsg("flow_not_found: flow %s does not exist", ff_uuid_to_cstring(flow_id))));
	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	state = ff_get_cstring(t, d, 1);
	row->public_flow_state = strcmp(state, "cancelled") == 0 ? "cancelled" : "open";
	row->graph_revision = ff_get_int64(t, d, 2, 0);
	row->node_count = ff_get_int32(t, d, 3, 0);
	row->edge_count = ff_get_int32(t, d, 4, 0);
}

void
ff_flow_require_open(const FFFlowRow *flow)
{
	if (strcmp(flow->public_flow_state, "open") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FF_FLOW_ALREADY_TERMINAL),
				 errmsg("flow_already_terminal: flow %s is %s",
						ff_uuid_to_cstring(&flow->flow_id), flow->public_flow_state),
				 errhint("A cancelled flow's graph can no longer change.")));
}

/*
 * ff_flow_member_key parses an execution id that must name a member of the
 * flow: an id on another partition can never be one.
 */
void
ff_flow_member_key(const FFFlowRow *flow, const char *execution_id, FFExecKey *key)
{
	ff_parse_execution_id(execution_id, key);
	if (key->partition != flow->partition)
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_IN_FLOW),
				 errmsg("execution_not_in_flow: execution %s is not a member of flow %s",
						execution_id, ff_uuid_to_cstring(&flow->flow_id)),
				 errdetail("The execution is on partition %d; the flow's members are on partition %d.",
						   key->partition, flow->partition)));
}

/* ff_flow_exec_lock_skip locks an execution unless another transaction holds it. */
bool
ff_flow_exec_lock_skip(const FFExecKey *key, FFExecRow *row)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[2] = {INT2OID, UUIDOID};
	Datum		v[2];

	ff_prepare(&plan,
			   "SELECT " FF_EXEC_COLUMNS " FROM ff_execution "
			   "WHERE partition_key = $1 AND execution_id = $2 FOR UPDATE SKIP LOCKED",
			   2, types);
	v[0] = Int16GetDatum(key->partition);
	v[1] = ff_uuid_datum(&key->uuid);
	ff_execute(plan, v, NULL, false, 1);
	if (SPI_processed == 0)
		return false;
	ff_exec_from_tuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, row);
	return true;
}

/*
 * ff_flow_cancel_execution cancels a locked, non-terminal execution on the
 * engine's behalf: a live lease is revoked (its holder's next call fails
 * with execution_not_active), any current attempt ends, and the execution
 * becomes terminal "cancelled" with a completion event; its own downstream
 * edges then advance in the running cascade. Returns false if it was
 * already terminal.
 */
bool
ff_flow_cancel_execution(FFExecRow *exec, const char *reason, const char *cancelled_by,
						 const char *end_reason, int64 now)
{
	FFAttemptRow attempt;

	if (ff_exec_is(exec, "terminal"))
		return false;
	if (exec->total_attempt_count > 0 &&
		ff_attempt_load(&exec->key, exec->attempt_index, &attempt, true))
		ff_attempt_end(exec, &attempt, "ended_cancelled", "revoked", end_reason, now);
	exec->cancellation_reason = pstrdup(reason);
	exec->cancelled_by = pstrdup(cancelled_by);
	ff_finish_execution(exec, &ff_sv_cancelled, "cancelled", now);
	return true;
}

static ArrayType *
text_array(List *strings)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(strings), 1));
	int			n = 0;
	ListCell   *lc;

	foreach(lc, strings)
		elems[n++] = CStringGetTextDatum((char *) lfirst(lc));
	return construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT);
}

static char *
arg_text(FunctionCallInfo fcinfo, int argno, const char *name)
{
	return ff_arg_cstring_required(fcinfo, argno, name);
}

/* ff_create_flow */

PG_FUNCTION_INFO_V1(ff_create_flow);
Datum
ff_create_flow(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[5] = {INT2OID, UUIDOID, TEXTOID, TEXTOID, INT8OID};
	MemoryContext outer = CurrentMemoryContext;
	pg_uuid_t	flow_id = ff_flow_arg_uuid(fcinfo, 0, "flow_id");
	char	   *kind = arg_text(fcinfo, 1, "flow_kind");
	char	   *namespace = arg_text(fcinfo, 2, "namespace");
	Datum		v[5];
	Datum		values[2];
	bool		nulls[2] = {false, false};
	bool		created;
	Datum		result;

	SPI_connect();
	ff_prepare(&plan,
			   "INSERT INTO ff_flow (partition_key, flow_id, flow_kind, namespace, "
			   "public_flow_state, created_at_ms, last_mutation_at_ms) "
			   "VALUES ($1, $2, $3, $4, 'open', $5, $5) "
			   "ON CONFLICT (partition_key, flow_id) DO NOTHING",
			   5, types);
	v[0] = Int16GetDatum(ff_flow_partition_of(&flow_id));
	v[1] = ff_uuid_datum(&flow_id);
	v[2] = CStringGetTextDatum(kind);
	v[3] = CStringGetTextDatum(namespace);
	v[4] = Int64GetDatum(ff_now_ms());
	ff_execute(plan, v, NULL, false, 0);
	created = SPI_processed == 1;

	values[0] = ff_uuid_datum(&flow_id);
	values[1] = CStringGetTextDatum(created ? "created" : "already_satisfied");
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

/* ff_add_execution_to_flow */

PG_FUNCTION_INFO_V1(ff_add_execution_to_flow);
Datum
ff_add_execution_to_flow(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr member_plan = NULL;
	static SPIPlanPtr flow_plan = NULL;
	static const Oid types[4] = {INT2OID, UUIDOID, UUIDOID, INT8OID};
	MemoryContext outer = CurrentMemoryContext;
	pg_uuid_t	flow_id = ff_flow_arg_uuid(fcinfo, 0, "flow_id");
	char	   *id = arg_text(fcinfo, 1, "execution_id");
	FFFlowRow	flow;
	FFExecKey	key;
	FFExecRow	exec;
	int64		now = ff_now_ms();
	int32		node_count;
	const char *outcome;
	Datum		v[4];
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	Datum		result;

	ff_parse_execution_id(id, &key);
	SPI_connect();
	ff_flow_load(&flow_id, &flow, true);
	ff_flow_require_open(&flow);
	if (key.partition != flow.partition)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: execution %s is on partition %d, not on flow %s's partition %d",
						id, key.partition, ff_uuid_to_cstring(&flow_id), flow.partition),
				 errdetail("A flow and all of its members live on the flow's partition."),
				 errhint("Mint member ids with ff_new_flow_execution_id(flow_id).")));
	if (!ff_exec_load(&key, &exec, true))
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_FOUND),
				 errmsg("execution_not_found: execution %s does not exist", id)));

	if (exec.has_flow && memcmp(&exec.flow_id, &flow_id, sizeof(pg_uuid_t)) == 0)
	{
		outcome = "already_member";
		node_count = flow.node_count;
	}
	else if (exec.has_flow)
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_ALREADY_IN_FLOW),
				 errmsg("execution_already_in_flow: execution %s is a member of flow %s",
						id, ff_uuid_to_cstring(&exec.flow_id)),
				 errhint("An execution belongs to at most one flow.")));
	else
	{
		ff_prepare(&member_plan,
				   "UPDATE ff_execution SET flow_id = $3, last_mutation_at_ms = $4 "
				   "WHERE partition_key = $1 AND execution_id = $2",
				   4, types);
		v[0] = Int16GetDatum(key.partition);
		v[1] = ff_uuid_datum(&key.uuid);
		v[2] = ff_uuid_datum(&flow_id);
		v[3] = Int64GetDatum(now);
		ff_execute(member_plan, v, NULL, false, 0);

		ff_prepare(&flow_plan,
				   "UPDATE ff_flow SET graph_revision = graph_revision + 1, "
				   "node_count = node_count + 1, last_mutation_at_ms = $4 "
				   "WHERE partition_key = $1 AND flow_id = $3 RETURNING node_count",
				   4, types);
		ff_execute(flow_plan, v, NULL, false, 0);
		node_count = ff_get_int32(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, 0);
		outcome = "added";
	}

	values[0] = CStringGetTextDatum(ff_format_execution_id(&key));
	values[1] = CStringGetTextDatum(outcome);
	values[2] = Int32GetDatum(node_count);
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

/* Flow cancel */

typedef enum CancelPolicy
{
	CANCEL_ALL,
	CANCEL_PENDING,
	CANCEL_FLOW_ONLY
} CancelPolicy;

static CancelPolicy
parse_cancel_policy(const char *s, const char **canonical)
{
	if (strcmp(s, "cancel_all") == 0)
	{
		*canonical = "cancel_all";
		return CANCEL_ALL;
	}
	if (strcmp(s, "cancel_pending") == 0)
	{
		*canonical = "cancel_pending";
		return CANCEL_PENDING;
	}
	if (strcmp(s, "flow_only") == 0 || strcmp(s, "cancel_flow_only") == 0)
	{
		*canonical = "flow_only";
		return CANCEL_FLOW_ONLY;
	}
	ereport(ERROR,
			(errcode(ERRCODE_FF_INVALID_INPUT),
			 errmsg("invalid_input: unknown cancellation policy \"%s\"", s),
			 errhint("Use cancel_all, cancel_pending or flow_only.")));
	return CANCEL_ALL;			/* keep compiler quiet */
}

/*
 * policy_selects says whether a flow cancel with this policy cancels the
 * member in its current state: cancel_all every non-terminal member,
 * cancel_pending those not running under a lease right now.
 */
static bool
policy_selects(CancelPolicy policy, const FFExecRow *exec)
{
	if (ff_exec_is(exec, "terminal"))
		return false;
	switch (policy)
	{
		case CANCEL_ALL:
			return true;
		case CANCEL_PENDING:
			return !ff_exec_is(exec, "active");
		case CANCEL_FLOW_ONLY:
			return false;
	}
	return false;
}

typedef struct CancelRequest
{
	/* input */
	pg_uuid_t	flow_id;
	CancelPolicy policy;
	const char *policy_name;
	const char *reason;
	const char *requester;		/* cancelled_by of the members */
	bool		header;			/* ff_cancel_flow_header */
	int64		wait_ms;		/* < 0: do not wait for busy members */
	int64		now;
	/* output */
	bool		already_terminal;
	char	   *stored_policy;
	char	   *stored_reason;
	List	   *cancelled;		/* char * ids of members cancelled now */
	List	   *pending;		/* FFExecKey * of members left to the backlog */
	List	   *members;		/* header: char * ids of every non-terminal member */
} CancelRequest;

static void
mark_flow_cancelled(const CancelRequest *req, int16 partition)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[5] = {INT2OID, UUIDOID, INT8OID, TEXTOID, TEXTOID};
	Datum		v[5];

	ff_prepare(&plan,
			   "UPDATE ff_flow SET public_flow_state = 'cancelled', "
			   "terminal_at_ms = coalesce(terminal_at_ms, $3), cancellation_policy = $4, "
			   "cancel_reason = $5, last_mutation_at_ms = $3 "
			   "WHERE partition_key = $1 AND flow_id = $2",
			   5, types);
	v[0] = Int16GetDatum(partition);
	v[1] = ff_uuid_datum(&req->flow_id);
	v[2] = Int64GetDatum(req->now);
	v[3] = CStringGetTextDatum(req->policy_name);
	v[4] = CStringGetTextDatum(req->reason);
	ff_execute(plan, v, NULL, false, 0);
}

/* non_terminal_members lists the flow's non-terminal members in key order. */
static List *
non_terminal_members(int16 partition, const pg_uuid_t *flow_id)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[2] = {INT2OID, UUIDOID};
	Datum		v[2];
	List	   *keys = NIL;

	ff_prepare(&plan,
			   "SELECT execution_id FROM ff_execution "
			   "WHERE partition_key = $1 AND flow_id = $2 AND lifecycle_phase <> 'terminal' "
			   "ORDER BY execution_id",
			   2, types);
	v[0] = Int16GetDatum(partition);
	v[1] = ff_uuid_datum(flow_id);
	ff_execute(plan, v, NULL, false, 0);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		FFExecKey  *key = palloc(sizeof(FFExecKey));

		key->partition = partition;
		ff_get_uuid(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &key->uuid);
		keys = lappend(keys, key);
	}
	return keys;
}

/*
 * cancel_members tries each member once: a member it can lock is cancelled
 * if the policy selects it; a member another transaction holds is returned
 * for a later try.
 */
static List *
cancel_members(CancelRequest *req, List *keys)
{
	List	   *busy = NIL;
	ListCell   *lc;

	foreach(lc, keys)
	{
		FFExecKey  *key = lfirst(lc);
		FFExecRow	exec;

		if (!ff_flow_exec_lock_skip(key, &exec))
		{
			/* held elsewhere (or gone: then there is nothing to cancel) */
			if (ff_exec_load(key, &exec, false))
				busy = lappend(busy, key);
			continue;
		}
		if (!exec.has_flow || memcmp(&exec.flow_id, &req->flow_id, sizeof(pg_uuid_t)) != 0)
			continue;
		if (policy_selects(req->policy, &exec) &&
			ff_flow_cancel_execution(&exec, req->reason, req->requester, "flow_cancelled", req->now))
			req->cancelled = lappend(req->cancelled, ff_format_execution_id(key));
	}
	return busy;
}

static void
backlog_insert(const CancelRequest *req, int16 partition, int64 grace_until, List *keys)
{
	static SPIPlanPtr header_plan = NULL;
	static SPIPlanPtr member_plan = NULL;
	static const Oid header_types[7] = {INT2OID, UUIDOID, INT8OID, TEXTOID, TEXTOID, INT8OID, TEXTOID};
	static const Oid member_types[3] = {INT2OID, UUIDOID, UUIDOID};
	Datum		v[7];
	ListCell   *lc;

	if (keys == NIL)
		return;
	ff_prepare(&header_plan,
			   "INSERT INTO ff_cancel_backlog AS b (partition_key, flow_id, requested_at_ms, "
			   "requester, reason, grace_until_ms, cancellation_policy) "
			   "VALUES ($1, $2, $3, $4, $5, $6, $7) "
			   "ON CONFLICT (partition_key, flow_id) DO UPDATE "
			   "SET grace_until_ms = least(b.grace_until_ms, EXCLUDED.grace_until_ms), "
			   "requester = EXCLUDED.requester, reason = EXCLUDED.reason, "
			   "cancellation_policy = EXCLUDED.cancellation_policy",
			   7, header_types);
	v[0] = Int16GetDatum(partition);
	v[1] = ff_uuid_datum(&req->flow_id);
	v[2] = Int64GetDatum(req->now);
	v[3] = CStringGetTextDatum(req->requester);
	v[4] = CStringGetTextDatum(req->reason);
	v[5] = Int64GetDatum(grace_until);
	v[6] = CStringGetTextDatum(req->policy_name);
	ff_execute(header_plan, v, NULL, false, 0);

	ff_prepare(&member_plan,
			   "INSERT INTO ff_cancel_backlog_member (partition_key, flow_id, execution_id) "
			   "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
			   3, member_types);
	foreach(lc, keys)
	{
		FFExecKey  *key = lfirst(lc);

		v[2] = ff_uuid_datum(&key->uuid);
		ff_execute(member_plan, v, NULL, false, 0);
	}
}

/*
 * header_stored_answer fills the AlreadyTerminal answer of a header call:
 * the stored policy and reason, and the members that still owe an ack (or,
 * if none do, every member).
 */
static void
header_stored_answer(CancelRequest *req, int16 partition)
{
	static SPIPlanPtr flow_plan = NULL;
	static SPIPlanPtr members_plan = NULL;
	static const Oid types[2] = {INT2OID, UUIDOID};
	Datum		v[2];

	v[0] = Int16GetDatum(partition);
	v[1] = ff_uuid_datum(&req->flow_id);
	ff_prepare(&flow_plan,
			   "SELECT cancellation_policy, cancel_reason FROM ff_flow "
			   "WHERE partition_key = $1 AND flow_id = $2",
			   2, types);
	ff_execute(flow_plan, v, NULL, false, 1);
	req->stored_policy = ff_get_cstring(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	req->stored_reason = ff_get_cstring(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);

	ff_prepare(&members_plan,
			   "SELECT ff_format_execution_id($1, m.execution_id) FROM ff_cancel_backlog_member m "
			   "WHERE m.partition_key = $1 AND m.flow_id = $2 "
			   "UNION ALL "
			   "SELECT ff_format_execution_id($1, e.execution_id) FROM ff_execution e "
			   "WHERE e.partition_key = $1 AND e.flow_id = $2 AND NOT EXISTS "
			   "  (SELECT 1 FROM ff_cancel_backlog_member m "
			   "    WHERE m.partition_key = $1 AND m.flow_id = $2) "
			   "ORDER BY 1",
			   2, types);
	ff_execute(members_plan, v, NULL, false, 0);
	for (uint64 i = 0; i < SPI_processed; i++)
		req->members = lappend(req->members,
							   ff_get_cstring(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
}

/*
 * cancel_body runs inside a cascade: the members' completions are cascaded
 * only after every selected member is cancelled, so their downstream
 * members end up cancelled rather than skipped.
 */
static void
cancel_body(void *arg)
{
	CancelRequest *req = arg;
	FFFlowRow	flow;
	List	   *keys;
	List	   *busy;

	ff_flow_load(&req->flow_id, &flow, true);
	if (req->header && strcmp(flow.public_flow_state, "cancelled") == 0)
	{
		req->already_terminal = true;
		header_stored_answer(req, flow.partition);
		return;
	}
	mark_flow_cancelled(req, flow.partition);
	keys = non_terminal_members(flow.partition, &req->flow_id);

	if (req->header)
	{
		ListCell   *lc;

		foreach(lc, keys)
			req->members = lappend(req->members, ff_format_execution_id(lfirst(lc)));
		/* only cancel_all flips members and makes them owe an ack */
		if (req->policy != CANCEL_ALL)
			return;
		backlog_insert(req, flow.partition, req->now + CANCEL_HEADER_GRACE_MS, keys);
		(void) cancel_members(req, keys);
		return;
	}

	if (req->policy == CANCEL_FLOW_ONLY)
		return;
	busy = cancel_members(req, keys);
	if (busy != NIL && req->wait_ms >= 0)
	{
		int64		deadline = ff_now_ms() + req->wait_ms;

		while (busy != NIL && ff_now_ms() < deadline)
		{
			pg_usleep(CANCEL_WAIT_POLL_US);
			CHECK_FOR_INTERRUPTS();
			busy = cancel_members(req, busy);
		}
	}
	req->pending = busy;
	backlog_insert(req, flow.partition, req->now, busy);
}

PG_FUNCTION_INFO_V1(ff_cancel_flow);
Datum
ff_cancel_flow(PG_FUNCTION_ARGS)
{
	MemoryContext outer = CurrentMemoryContext;
	CancelRequest req;
	char	   *wait;
	List	   *pending_ids = NIL;
	ListCell   *lc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	Datum		result;

	memset(&req, 0, sizeof(req));
	req.flow_id = ff_flow_arg_uuid(fcinfo, 0, "flow_id");
	req.policy = parse_cancel_policy(arg_text(fcinfo, 1, "policy"), &req.policy_name);
	wait = arg_text(fcinfo, 2, "wait");
	if (strcmp(wait, "no_wait") == 0)
	{
		if (!PG_ARGISNULL(3))
			ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input",
					 "wait_timeout_ms is only allowed with wait => 'wait_timeout'");
		req.wait_ms = -1;
	}
	else if (strcmp(wait, "wait_timeout") == 0)
	{
		if (PG_ARGISNULL(3) || PG_GETARG_INT64(3) < 1 || PG_GETARG_INT64(3) > CANCEL_WAIT_CEILING_MS)
			ereport(ERROR,
					(errcode(ERRCODE_FF_INVALID_INPUT),
					 errmsg("invalid_input: wait_timeout_ms must be between 1 and %d with wait => 'wait_timeout'",
							CANCEL_WAIT_CEILING_MS)));
		req.wait_ms = PG_GETARG_INT64(3);
	}
	else if (strcmp(wait, "wait_indefinite") == 0)
	{
		if (!PG_ARGISNULL(3))
			ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input",
					 "wait_timeout_ms is only allowed with wait => 'wait_timeout'");
		req.wait_ms = CANCEL_WAIT_CEILING_MS;
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: unknown wait mode \"%s\"", wait),
				 errhint("Use no_wait, wait_timeout or wait_indefinite.")));
	req.reason = arg_text(fcinfo, 4, "reason");
	req.requester = "cancel_flow";
	req.now = ff_now_ms();

	SPI_connect();
	ff_flow_run_cascade(FF_CASCADE_SKIP_LOCKED, cancel_body, &req);

	foreach(lc, req.pending)
		pending_ids = lappend(pending_ids, ff_format_execution_id(lfirst(lc)));
	values[0] = CStringGetTextDatum(req.pending == NIL ? "cancelled" : "cancellation_scheduled");
	values[1] = CStringGetTextDatum(req.policy_name);
	values[2] = PointerGetDatum(text_array(req.cancelled));
	values[3] = PointerGetDatum(text_array(pending_ids));
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

PG_FUNCTION_INFO_V1(ff_cancel_flow_header);
Datum
ff_cancel_flow_header(PG_FUNCTION_ARGS)
{
	MemoryContext outer = CurrentMemoryContext;
	CancelRequest req;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	Datum		result;

	memset(&req, 0, sizeof(req));
	req.flow_id = ff_flow_arg_uuid(fcinfo, 0, "flow_id");
	req.reason = arg_text(fcinfo, 1, "reason");
	req.policy = parse_cancel_policy(arg_text(fcinfo, 2, "cancellation_policy"), &req.policy_name);
	req.requester = "cancel_flow_header";
	req.header = true;
	req.wait_ms = -1;
	req.now = ff_now_ms();

	SPI_connect();
	ff_flow_run_cascade(FF_CASCADE_SKIP_LOCKED, cancel_body, &req);

	if (req.already_terminal)
	{
		values[0] = CStringGetTextDatum("already_terminal");
		values[1] = req.stored_policy ? CStringGetTextDatum(req.stored_policy) : (Datum) 0;
		nulls[1] = req.stored_policy == NULL;
		values[2] = req.stored_reason ? CStringGetTextDatum(req.stored_reason) : (Datum) 0;
		nulls[2] = req.stored_reason == NULL;
	}
	else
	{
		values[0] = CStringGetTextDatum("cancelled");
		values[1] = CStringGetTextDatum(req.policy_name);
		values[2] = CStringGetTextDatum(req.reason);
	}
	values[3] = PointerGetDatum(text_array(req.members));
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

/* The cancel backlog reconciler */

typedef struct BacklogBatch
{
	int32		batch;
	int64		now;
	int32		drained;
} BacklogBatch;

static void
backlog_body(void *arg)
{
	static SPIPlanPtr scan_plan = NULL;
	static SPIPlanPtr delete_member_plan = NULL;
	static SPIPlanPtr delete_header_plan = NULL;
	static const Oid scan_types[2] = {INT8OID, INT4OID};
	static const Oid member_types[3] = {INT2OID, UUIDOID, UUIDOID};
	BacklogBatch *b = arg;
	Datum		v[3];
	SPITupleTable *tt;
	uint64		n;

	ff_prepare(&scan_plan,
			   "SELECT m.partition_key, m.flow_id, m.execution_id, b.reason, "
			   "       b.cancellation_policy, b.requester "
			   "  FROM ff_cancel_backlog b "
			   "  JOIN ff_cancel_backlog_member m USING (partition_key, flow_id) "
			   " WHERE b.grace_until_ms <= $1 "
			   " ORDER BY b.grace_until_ms, m.partition_key, m.flow_id, m.execution_id "
			   " LIMIT $2",
			   2, scan_types);
	v[0] = Int64GetDatum(b->now);
	v[1] = Int32GetDatum(b->batch);
	ff_execute(scan_plan, v, NULL, false, 0);
	tt = SPI_tuptable;
	n = SPI_processed;

	ff_prepare(&delete_member_plan,
			   "DELETE FROM ff_cancel_backlog_member "
			   "WHERE partition_key = $1 AND flow_id = $2 AND execution_id = $3",
			   3, member_types);
	for (uint64 i = 0; i < n; i++)
	{
		HeapTuple	t = tt->vals[i];
		FFExecKey	key;
		pg_uuid_t	flow_id;
		FFExecRow	exec;
		const char *policy_name;
		bool		isnull;

		key.partition = DatumGetInt16(SPI_getbinval(t, tt->tupdesc, 1, &isnull));
		ff_get_uuid(t, tt->tupdesc, 2, &flow_id);
		ff_get_uuid(t, tt->tupdesc, 3, &key.uuid);
		if (ff_flow_exec_lock_skip(&key, &exec))
		{
			if (exec.has_flow && memcmp(&exec.flow_id, &flow_id, sizeof(pg_uuid_t)) == 0 &&
				policy_selects(parse_cancel_policy(ff_get_cstring(t, tt->tupdesc, 5), &policy_name),
							   &exec))
				ff_flow_cancel_execution(&exec, ff_get_cstring(t, tt->tupdesc, 4),
										 ff_get_cstring(t, tt->tupdesc, 6), "flow_cancelled", b->now);
		}
		else if (ff_exec_load(&key, &exec, false))
			continue;			/* held elsewhere: next time */
		v[0] = Int16GetDatum(key.partition);
		v[1] = ff_uuid_datum(&flow_id);
		v[2] = ff_uuid_datum(&key.uuid);
		ff_execute(delete_member_plan, v, NULL, false, 0);
		b->drained += (int32) SPI_processed;
	}

	ff_prepare(&delete_header_plan,
			   "DELETE FROM ff_cancel_backlog b WHERE b.grace_until_ms <= $1 AND NOT EXISTS "
			   "  (SELECT 1 FROM ff_cancel_backlog_member m "
			   "    WHERE m.partition_key = b.partition_key AND m.flow_id = b.flow_id)",
			   1, scan_types);
	v[0] = Int64GetDatum(b->now);
	ff_execute(delete_header_plan, v, NULL, false, 0);
}

/*
 * ff_reconcile_cancel_backlog finishes flow cancels: for backlog entries
 * whose grace period has passed it cancels each member the policy still
 * selects (skipping members another transaction holds) and drops the entry.
 * Returns how many member entries it drained.
 */
PG_FUNCTION_INFO_V1(ff_reconcile_cancel_backlog);
Datum
ff_reconcile_cancel_backlog(PG_FUNCTION_ARGS)
{
	BacklogBatch b;

	b.batch = ff_arg_batch_size(fcinfo, 0);
	b.now = ff_now_ms();
	b.drained = 0;
	SPI_connect();
	ff_flow_run_cascade(FF_CASCADE_SKIP_LOCKED, backlog_body, &b);
	SPI_finish();
	PG_RETURN_INT32(b.drained);
}

/*
 * suspend.c
 *		ff_suspend / ff_suspend_by_triple, pending waitpoints
 *		(ff_create_waitpoint, ff_close_waitpoint), and the suspension and
 *		waitpoint rows the other suspend*.c files share.
 *
 * A worker holding a live lease suspends its execution on one or more
 * waitpoints with a resume condition. The lease is released (lease event
 * released / suspended), the attempt is parked (attempt_lifecycle
 * suspended) and the execution becomes suspended/unowned/not_applicable.
 * Waitpoints are fresh (created by the suspend) or pending (created earlier
 * by ff_create_waitpoint while the lease was held; signals that reached them
 * first were buffered and now count). If the buffered signals already
 * satisfy the condition, nothing is suspended: the outcome is
 * already_satisfied and the worker keeps its lease.
 *
 * Invariants: an execution has an open suspension (closed_at_ms IS NULL)
 * exactly while it is suspended; every way out of suspended closes the
 * suspension and its waitpoints in the same transaction.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/tuplestore.h"

#include "suspend.h"
#include "writeset.h"

/* Shared helpers */

void
ff_check_text_arg(const char *value, const char *name, size_t max_bytes)
{
	if (value != NULL && strlen(value) > max_bytes)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: %s is longer than %zu bytes", name, max_bytes)));
}

static Datum
text_array_datum(List *strings)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(strings), 1));
	ListCell   *lc;

	foreach(lc, strings)
		elems[foreach_current_index(lc)] = CStringGetTextDatum(lfirst(lc));
	return PointerGetDatum(construct_array(elems, list_length(strings), TEXTOID, -1, false,
										   TYPALIGN_INT));
}

static List *
text_array_list(Datum array)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	List	   *out = NIL;

	deconstruct_array(DatumGetArrayTypeP(array), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
		out = lappend(out, TextDatumGetCString(elems[i]));
	return out;
}

/* Waitpoint rows */

#define WAITPOINT_COLUMNS \
	"partition_key, waitpoint_id, execution_id, attempt_index, waitpoint_key, state, " \
	"suspension_id, token_kid, token, expires_at_ms"

static void
waitpoint_from_tuple(HeapTuple t, TupleDesc d, FFWaitpoint *wp)
{
	bool		isnull;

	wp->key.partition = DatumGetInt16(SPI_getbinval(t, d, 1, &isnull));
	ff_get_uuid(t, d, 2, &wp->waitpoint_id);
	ff_get_uuid(t, d, 3, &wp->key.uuid);
	wp->attempt_index = ff_get_int32(t, d, 4, 0);
	wp->waitpoint_key = ff_get_cstring(t, d, 5);
	wp->state = pstrdup(ff_get_cstring(t, d, 6));
	wp->has_suspension = ff_get_uuid(t, d, 7, &wp->suspension_id);
	wp->token_kid = ff_get_cstring(t, d, 8);
	wp->token = ff_get_cstring(t, d, 9);
	wp->expires_at_ms = ff_get_int64(t, d, 10, FF_NULL_MS);
}

/* ff_waitpoint_lock locks a waitpoint row; false if there is none. */
bool
ff_waitpoint_lock(int16 partition, const pg_uuid_t *waitpoint_id, FFWaitpoint *wp)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[2] = {INT2OID, UUIDOID};
	Datum		v[2] = {Int16GetDatum(partition), ff_uuid_datum(waitpoint_id)};

	ff_prepare(&plan,
			   "SELECT " WAITPOINT_COLUMNS " FROM ff_waitpoint "
			   "WHERE partition_key = $1 AND waitpoint_id = $2 FOR UPDATE",
			   2, types);
	ff_execute(plan, v, NULL, false, 1);
	if (SPI_processed == 0)
		return false;
	waitpoint_from_tuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, wp);
	return true;
}

void
ff_waitpoint_close(const FFWaitpoint *wp, const char *reason, int64 now)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[4] = {INT2OID, UUIDOID, INT8OID, TEXTOID};
	Datum		v[4];

	ff_prepare(&plan,
			   "UPDATE ff_waitpoint SET state = 'closed', closed_at_ms = $3, close_reason = $4 "
			   "WHERE partition_key = $1 AND waitpoint_id = $2 AND state <> 'closed'",
			   4, types);
	v[0] = Int16GetDatum(wp->key.partition);
	v[1] = ff_uuid_datum(&wp->waitpoint_id);
	v[2] = Int64GetDatum(now);
	v[3] = CStringGetTextDatum(reason);
	ff_execute(plan, v, NULL, false, 0);
}

/* Suspension rows */

bool
ff_suspension_load_open(const FFExecKey *key, FFSuspension *s)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[2] = {INT2OID, UUIDOID};
	Datum		v[2] = {Int16GetDatum(key->partition), ff_uuid_datum(&key->uuid)};
	HeapTuple	t;
	TupleDesc	d;
	bool		isnull;

	ff_prepare(&plan,
			   "SELECT suspension_id, attempt_index, reason_code, condition, resume_delay_ms, "
			   "timeout_at_ms, timeout_behavior, satisfied_tokens FROM ff_suspension "
			   "WHERE partition_key = $1 AND execution_id = $2 AND closed_at_ms IS NULL FOR UPDATE",
			   2, types);
	ff_execute(plan, v, NULL, false, 1);
	if (SPI_processed == 0)
		return false;
	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	s->key = *key;
	ff_get_uuid(t, d, 1, &s->suspension_id);
	s->attempt_index = ff_get_int32(t, d, 2, 0);
	s->reason_code = ff_get_cstring(t, d, 3);
	s->condition = DatumGetJsonbPCopy(SPI_getbinval(t, d, 4, &isnull));
	s->resume_delay_ms = ff_get_int64(t, d, 5, 0);
	s->timeout_at_ms = ff_get_int64(t, d, 6, FF_NULL_MS);
	s->timeout_behavior = ff_get_cstring(t, d, 7);
	s->tokens = text_array_list(SPI_getbinval(t, d, 8, &isnull));
	return true;
}

/* ff_suspension_store writes back the mutable columns of an open suspension. */
void
ff_suspension_store(const FFSuspension *s)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[7] = {INT2OID, UUIDOID, UUIDOID, TEXTOID, INT8OID, TEXTOID, TEXTARRAYOID};
	Datum		v[7];
	char		n[8] = "       ";

	ff_prepare(&plan,
			   "UPDATE ff_suspension SET reason_code = $4, timeout_at_ms = $5, "
			   "timeout_behavior = $6, satisfied_tokens = $7 "
			   "WHERE partition_key = $1 AND execution_id = $2 AND suspension_id = $3",
			   7, types);
	v[0] = Int16GetDatum(s->key.partition);
	v[1] = ff_uuid_datum(&s->key.uuid);
	v[2] = ff_uuid_datum(&s->suspension_id);
	v[3] = CStringGetTextDatum(s->reason_code);
	v[4] = ff_ms_datum(s->timeout_at_ms, &n[4]);
	v[5] = CStringGetTextDatum(s->timeout_behavior);
	v[6] = text_array_datum(s->tokens);
	ff_execute(plan, v, n, false, 0);
}

/*
 * ff_suspension_close closes a suspension and every waitpoint it still holds
 * open, with the same reason.
 */
void
ff_suspension_close(const FFSuspension *s, const char *reason, const pg_uuid_t *closer_signal_id,
					int64 now)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[6] = {INT2OID, UUIDOID, UUIDOID, INT8OID, TEXTOID, UUIDOID};
	Datum		v[6];
	char		n[7] = "      ";

	ff_prepare(&plan,
			   "WITH wp AS (UPDATE ff_waitpoint SET state = 'closed', closed_at_ms = $4, "
			   "            close_reason = $5 "
			   "            WHERE partition_key = $1 AND execution_id = $2 "
			   "              AND suspension_id = $3 AND state <> 'closed') "
			   "UPDATE ff_suspension SET closed_at_ms = $4, close_reason = $5, "
			   "closer_signal_id = $6 "
			   "WHERE partition_key = $1 AND execution_id = $2 AND suspension_id = $3 "
			   "AND closed_at_ms IS NULL",
			   6, types);
	v[0] = Int16GetDatum(s->key.partition);
	v[1] = ff_uuid_datum(&s->key.uuid);
	v[2] = ff_uuid_datum(&s->suspension_id);
	v[3] = Int64GetDatum(now);
	v[4] = CStringGetTextDatum(reason);
	v[5] = closer_signal_id ? ff_uuid_datum(closer_signal_id) : (Datum) 0;
	n[5] = closer_signal_id ? ' ' : 'n';
	ff_execute(plan, v, n, false, 0);
}

static const FFStateVector sv_resumed = {
	"runnable", "unowned", "eligible_now", "waiting_for_worker", "none", "attempt_interrupted"
};
static const FFStateVector sv_resume_delayed = {
	"runnable", "unowned", "not_eligible_until_time", "waiting_for_resume_delay", "none",
	"attempt_interrupted"
};

/*
 * ff_exec_resume makes a suspended execution claimable again (after
 * delay_ms, via the delayed-promotion reconciler); the next claim continues
 * the parked attempt under a new lease.
 */
void
ff_exec_resume(FFExecRow *exec, int64 delay_ms, int64 now)
{
	if (delay_ms > 0)
	{
		ff_exec_set_state(exec, &sv_resume_delayed);
		exec->delay_until_ms = now + delay_ms;
		exec->blocking_detail = psprintf("resume delay %lld ms, until %lld",
										 (long long) delay_ms, (long long) exec->delay_until_ms);
	}
	else
	{
		ff_exec_set_state(exec, &sv_resumed);
		exec->delay_until_ms = FF_NULL_MS;
		exec->blocking_detail = NULL;
	}
	exec->last_mutation_at_ms = now;
	ff_exec_store(exec);
}

/*
 * ff_suspend_on_terminal (called by ff_finish_execution) closes the open
 * suspension and every open waitpoint of an execution that became terminal
 * by any path (execution deadline, reclaim cap, a lease holder's call while
 * a pending waitpoint exists, ...). Paths of this area close first, with
 * their own reason; then this finds nothing left.
 */
void
ff_suspend_on_terminal(const FFExecRow *exec, const char *outcome, int64 now)
{
	Datum		v[4];
	bool		nulls[4] = {false, false, false, false};

	v[0] = Int16GetDatum(exec->key.partition);
	v[1] = ff_uuid_datum(&exec->key.uuid);
	v[2] = Int64GetDatum(now);
	v[3] = CStringGetTextDatum(psprintf("execution_%s", outcome));
	/* staged in a write scope (writeset.c) */
	ff_write_stage(FF_WRITE_SUSPENSION_CLOSE, v, nulls);
	ff_write_stage(FF_WRITE_WAITPOINT_CLOSE, v, nulls);
}

/* ff_suspend */

typedef struct Binding
{
	bool		pending;		/* UsePending: an existing pending waitpoint */
	bool		has_id;
	pg_uuid_t	waitpoint_id;
	char	   *waitpoint_key;	/* Fresh: given or minted; pending: read from the row */
	char	   *token;
} Binding;

typedef struct SuspendArgs
{
	List	   *bindings;		/* of Binding * */
	FFCond	   *cond;			/* NULL: the default over the bindings */
	bool		has_suspension_id;
	pg_uuid_t	suspension_id;
	char	   *reason_code;
	const char *blocking_reason;
	char	   *requested_by;
	int64		timeout_at;		/* FF_NULL_MS = none */
	const char *timeout_behavior;
	Jsonb	   *resume_policy;
	int64		resume_delay_ms;
	char	   *continuation;
	char	   *idempotency_key;
} SuspendArgs;

#define input_error(...) \
	ereport(ERROR, (errcode(ERRCODE_FF_INVALID_INPUT), errmsg("invalid_input: " __VA_ARGS__)))

static void
check_waitpoint_key(const char *key)
{
	size_t		len = strlen(key);

	if (len == 0 || len > FF_WAITPOINT_KEY_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_WAITPOINT_KEY),
				 errmsg("invalid_waitpoint_key: a waitpoint_key must have 1 to %d bytes",
						FF_WAITPOINT_KEY_MAX_BYTES)));
	for (size_t i = 0; i < len; i++)
		if ((unsigned char) key[i] < 0x20 || key[i] == 0x7f)
			ereport(ERROR,
					(errcode(ERRCODE_FF_INVALID_WAITPOINT_KEY),
					 errmsg("invalid_waitpoint_key: a waitpoint_key must not contain control characters")));
}

static bool
json_key(JsonbContainer *obj, const char *key, JsonbValue *out)
{
	return getKeyJsonValueFromContainer(obj, key, strlen(key), out) != NULL &&
		out->type != jbvNull;
}

static int
json_object_size(JsonbContainer *obj)
{
	return JsonContainerSize(obj);
}

static char *
json_string(const JsonbValue *v, const char *what, int index)
{
	if (v->type != jbvString)
		input_error("%s must be a string at waitpoints[%d]", what, index);
	return pnstrdup(v->val.string.val, v->val.string.len);
}

static void
binding_id(Binding *b, const JsonbValue *v, int index)
{
	char	   *s = json_string(v, "waitpoint_id", index);

	if (!ff_parse_uuid(s, &b->waitpoint_id))
		input_error("waitpoint_id \"%s\" is not a UUID at waitpoints[%d]", s, index);
	b->has_id = true;
}

/*
 * parse_binding reads one waitpoints[] element:
 *	"wpk:a"										fresh waitpoint with this key
 *	{"waitpoint_key": "wpk:a", "waitpoint_id": <uuid>}	fresh (both optional)
 *	{"use_pending": <uuid>}						a pending waitpoint
 *	{"Fresh": {...}} / {"UsePending": {"waitpoint_id": <uuid>}}  FlowFabric's encoding
 */
static Binding *
parse_binding(JsonbValue *v, int index)
{
	Binding    *b = palloc0(sizeof(Binding));
	JsonbContainer *obj;
	JsonbValue	x;
	int			known = 0;

	if (v->type == jbvString)
	{
		b->waitpoint_key = json_string(v, "waitpoint key", index);
		check_waitpoint_key(b->waitpoint_key);
		return b;
	}
	if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		input_error("waitpoints[%d] must be a string or an object", index);
	obj = v->val.binary.data;

	if (json_key(obj, "Fresh", &x) || json_key(obj, "UsePending", &x))
	{
		bool		pending = json_key(obj, "UsePending", &x);

		if (json_object_size(obj) != 1 || x.type != jbvBinary || !JsonContainerIsObject(x.val.binary.data))
			input_error("waitpoints[%d] must be {\"Fresh\": {...}} or {\"UsePending\": {...}}", index);
		obj = x.val.binary.data;
		if (pending)
		{
			if (!json_key(obj, "waitpoint_id", &x) || json_object_size(obj) != 1)
				input_error("UsePending needs exactly a waitpoint_id at waitpoints[%d]", index);
			b->pending = true;
			binding_id(b, &x, index);
			return b;
		}
	}
	else if (json_key(obj, "use_pending", &x))
	{
		if (json_object_size(obj) != 1)
			input_error("use_pending takes no other keys at waitpoints[%d]", index);
		b->pending = true;
		binding_id(b, &x, index);
		return b;
	}

	if (json_key(obj, "waitpoint_id", &x))
	{
		binding_id(b, &x, index);
		known++;
	}
	if (json_key(obj, "waitpoint_key", &x))
	{
		b->waitpoint_key = json_string(&x, "waitpoint_key", index);
		check_waitpoint_key(b->waitpoint_key);
		known++;
	}
	if (json_object_size(obj) != known)
		input_error("waitpoints[%d] has unknown keys (a fresh waitpoint takes waitpoint_key and waitpoint_id)",
					index);
	return b;
}

static List *
parse_bindings(Jsonb *waitpoints)
{
	List	   *out = NIL;
	int			n;

	if (waitpoints == NULL || JB_ROOT_IS_SCALAR(waitpoints) || !JB_ROOT_IS_ARRAY(waitpoints))
		input_error("waitpoints must be a JSON array");
	n = JB_ROOT_COUNT(waitpoints);
	if (n == 0)
		input_error("waitpoints_empty: a suspension needs at least one waitpoint");
	if (n > 64)
		input_error("a suspension takes at most 64 waitpoints");
	for (int i = 0; i < n; i++)
		out = lappend(out, parse_binding(getIthJsonbValueFromContainer(&waitpoints->root, i), i));
	return out;
}

/* reason codes and the blocking reason each one maps to */
static const char *const reason_codes[][2] = {
	{"waiting_for_signal", "waiting_for_signal"},
	{"waiting_for_approval", "waiting_for_approval"},
	{"waiting_for_callback", "waiting_for_callback"},
	{"waiting_for_tool_result", "waiting_for_tool_result"},
	{"waiting_for_operator_review", "paused_by_operator"},
	{"paused_by_policy", "paused_by_policy"},
	{"paused_by_budget", "waiting_for_budget"},
	{"step_boundary", "waiting_for_signal"},
	{"manual_pause", "paused_by_operator"},
};

static const char *
blocking_reason_for(const char *reason_code)
{
	for (size_t i = 0; i < lengthof(reason_codes); i++)
		if (strcmp(reason_codes[i][0], reason_code) == 0)
			return reason_codes[i][1];
	input_error("unknown reason_code \"%s\"", reason_code);
	return NULL;				/* keep compiler quiet */
}

static const char *
check_one_of(const char *value, const char *name, const char *const *allowed)
{
	for (const char *const *a = allowed; *a; a++)
		if (strcmp(*a, value) == 0)
			return *a;
	input_error("unknown %s \"%s\"", name, value);
	return NULL;				/* keep compiler quiet */
}

static int64
policy_ms(const JsonbValue *v, const char *name, int64 max)
{
	double		d;

	if (v->type != jbvNumeric)
		input_error("resume_policy.%s must be a number", name);
	/* 1e400 is valid JSON: out of double range is refused below (infinity), not a 22003 */
	d = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, NumericGetDatum(v->val.numeric)));
	if (d < 0 || d > (double) max || d != (double) (int64) d)
		input_error("resume_policy.%s must be a whole number from 0 to %lld", name, (long long) max);
	return (int64) d;
}

/*
 * parse_resume_policy reads FlowFabric's ResumePolicy. Signals always stay
 * recorded and each suspension sees only its own, and waitpoints always
 * close on resume, so only the defaults of those flags are accepted.
 */
static int64
parse_resume_policy(Jsonb *policy)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *key = NULL;
	int64		delay = 0;

	if (policy == NULL)
		return 0;
	if (JB_ROOT_IS_SCALAR(policy) || !JB_ROOT_IS_OBJECT(policy))
		input_error("resume_policy must be a JSON object");
	it = JsonbIteratorInit(&policy->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
			key = pnstrdup(v.val.string.val, v.val.string.len);
		else if (tok == WJB_VALUE)
		{
			if (v.type == jbvNull)
				continue;
			if (strcmp(key, "resume_delay_ms") == 0)
				delay = policy_ms(&v, key, FF_MAX_RESUME_DELAY_MS);
			else if (strcmp(key, "resume_target") == 0)
			{
				if (v.type != jbvString ||
					!((v.val.string.len == 8 && strncmp(v.val.string.val, "runnable", 8) == 0) ||
					  (v.val.string.len == 8 && strncmp(v.val.string.val, "Runnable", 8) == 0)))
					input_error("resume_policy.resume_target must be \"runnable\"");
			}
			else if (strcmp(key, "close_waitpoint_on_resume") == 0 ||
					 strcmp(key, "consume_matched_signals") == 0)
			{
				if (v.type != jbvBool || !v.val.boolean)
					input_error("resume_policy.%s must be true (waitpoints close and matched signals are consumed on resume)",
								key);
			}
			else if (strcmp(key, "retain_signal_buffer_until_closed") == 0)
			{
				if (v.type != jbvBool)
					input_error("resume_policy.%s must be a boolean", key);
			}
			else
				input_error("unknown resume_policy key \"%s\"", key);
		}
	}
	return delay;
}

static const char *const requesters[] = {
	"worker", "operator", "policy", "system_timeout_policy", NULL
};
static const char *const timeout_behaviors[] = {
	"fail", "cancel", "expire", "auto_resume_with_timeout_signal", "escalate", NULL
};

/*
 * parse_suspend_args reads and validates the arguments that follow the
 * fence (handle or triple), starting at argument base:
 *	waitpoints, resume_condition, suspension_id, reason_code, requested_by,
 *	timeout_at, timeout_behavior, resume_policy,
 *	continuation_metadata_pointer, idempotency_key
 */
static void
parse_suspend_args(FunctionCallInfo fcinfo, int base, SuspendArgs *a, int64 now)
{
	char	   *behavior;

	memset(a, 0, sizeof(*a));
	a->bindings = parse_bindings(PG_ARGISNULL(base) ? NULL : PG_GETARG_JSONB_P(base));
	a->cond = PG_ARGISNULL(base + 1) ? NULL : ff_cond_parse(PG_GETARG_JSONB_P(base + 1));
	if (!PG_ARGISNULL(base + 2))
	{
		a->has_suspension_id = true;
		a->suspension_id = *PG_GETARG_UUID_P(base + 2);
	}
	a->reason_code = PG_ARGISNULL(base + 3) ? "waiting_for_signal"
		: text_to_cstring(PG_GETARG_TEXT_PP(base + 3));
	a->blocking_reason = blocking_reason_for(a->reason_code);
	a->requested_by = (char *) check_one_of(PG_ARGISNULL(base + 4) ? "worker"
											: text_to_cstring(PG_GETARG_TEXT_PP(base + 4)),
											"requested_by", requesters);
	a->timeout_at = PG_ARGISNULL(base + 5) ? FF_NULL_MS : PG_GETARG_INT64(base + 5);
	behavior = PG_ARGISNULL(base + 6) ? "fail" : text_to_cstring(PG_GETARG_TEXT_PP(base + 6));
	if (strcmp(behavior, "auto_resume") == 0)
		behavior = "auto_resume_with_timeout_signal";	/* the legacy spelling */
	a->timeout_behavior = check_one_of(behavior, "timeout_behavior", timeout_behaviors);
	if (a->cond && a->cond->kind == FF_COND_TIMEOUT_ONLY && a->timeout_at == FF_NULL_MS)
		input_error("timeout_only_without_deadline: a TimeoutOnly condition needs timeout_at");
	if (a->timeout_at != FF_NULL_MS && a->timeout_at < now - FF_TIMEOUT_SKEW_MS)
		input_error("timeout_at_in_past: timeout_at %lld is before now %lld",
					(long long) a->timeout_at, (long long) now);
	a->resume_policy = PG_ARGISNULL(base + 7) ? NULL : PG_GETARG_JSONB_P(base + 7);
	a->resume_delay_ms = parse_resume_policy(a->resume_policy);
	a->continuation = PG_ARGISNULL(base + 8) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(base + 8));
	ff_check_text_arg(a->continuation, "continuation_metadata_pointer", 4096);
	a->idempotency_key = PG_ARGISNULL(base + 9) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(base + 9));
	ff_check_text_arg(a->idempotency_key, "idempotency_key", FF_SIGNAL_TEXT_MAX_BYTES);
	if (a->idempotency_key && *a->idempotency_key == '\0')
		a->idempotency_key = NULL;	/* empty = no dedup */
}

/* check_bindings ties the resolved bindings to the condition's keys. */
static void
check_bindings(List *bindings, const FFCond *cond)
{
	List	   *cond_keys = ff_cond_keys(cond);
	ListCell   *lc;
	ListCell   *lc2;

	foreach(lc, bindings)
	{
		Binding    *b = lfirst(lc);

		for_each_cell(lc2, bindings, lnext(bindings, lc))
		{
			Binding    *o = lfirst(lc2);

			if (strcmp(b->waitpoint_key, o->waitpoint_key) == 0)
				input_error("duplicate_waitpoint_key: \"%s\" is bound twice", b->waitpoint_key);
			if (memcmp(&b->waitpoint_id, &o->waitpoint_id, sizeof(pg_uuid_t)) == 0)
				input_error("duplicate_waitpoint_id: %s is bound twice",
							ff_uuid_to_cstring(&b->waitpoint_id));
		}
	}
	if (list_length(bindings) == 1 && cond->kind == FF_COND_SINGLE &&
		strcmp(cond->waitpoint_key, ((Binding *) linitial(bindings))->waitpoint_key) != 0)
		input_error("waitpoint_key_mismatch: the waitpoint is \"%s\" but the condition waits on \"%s\"",
					((Binding *) linitial(bindings))->waitpoint_key, cond->waitpoint_key);
	foreach(lc, cond_keys)
	{
		bool		bound = false;

		foreach(lc2, bindings)
			if (strcmp(((Binding *) lfirst(lc2))->waitpoint_key, lfirst(lc)) == 0)
				bound = true;
		if (!bound)
			input_error("referenced_waitpoint_key_missing_binding: %s", (char *) lfirst(lc));
	}
	if (list_length(bindings) > 1)
		foreach(lc, bindings)
		{
			Binding    *b = lfirst(lc);
			bool		referenced = false;

			foreach(lc2, cond_keys)
				if (strcmp(b->waitpoint_key, lfirst(lc2)) == 0)
					referenced = true;
			if (!referenced)
				input_error("extra_binding_not_referenced_by_condition: %s", b->waitpoint_key);
		}
}

static void
put_result(FunctionCallInfo fcinfo, const char *outcome, const pg_uuid_t *suspension_id,
		   int index, const pg_uuid_t *waitpoint_id, const char *key, const char *token,
		   bytea *handle)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		values[7];
	bool		nulls[7] = {false, false, false, false, false, false, false};

	values[0] = CStringGetTextDatum(outcome);
	values[1] = ff_uuid_datum(suspension_id);
	values[2] = Int32GetDatum(index);
	values[3] = ff_uuid_datum(waitpoint_id);
	values[4] = CStringGetTextDatum(key);
	values[5] = CStringGetTextDatum(token);
	values[6] = PointerGetDatum(handle);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * replay_dedup returns true (and the first call's rows) when this lease
 * already made a suspend with this idempotency key.
 */
static bool
replay_dedup(FunctionCallInfo fcinfo, const FFFence *f, const char *idem, bytea *raw)
{
	static SPIPlanPtr find_plan = NULL;
	static SPIPlanPtr rows_plan = NULL;
	static const Oid find_types[5] = {INT2OID, UUIDOID, TEXTOID, INT8OID, UUIDOID};
	static const Oid rows_types[3] = {INT2OID, UUIDOID, UUIDOID};
	Datum		v[5];
	pg_uuid_t	suspension_id;
	char	   *outcome;
	SPITupleTable *tt;

	ff_prepare(&find_plan,
			   "SELECT suspension_id, outcome FROM ff_suspend_dedup "
			   "WHERE partition_key = $1 AND execution_id = $2 AND idempotency_key = $3 "
			   "AND expires_at_ms > $4 AND lease_id = $5",
			   5, find_types);
	v[0] = Int16GetDatum(f->handle.key.partition);
	v[1] = ff_uuid_datum(&f->handle.key.uuid);
	v[2] = CStringGetTextDatum(idem);
	v[3] = Int64GetDatum(f->now);
	v[4] = ff_uuid_datum(&f->handle.lease_id);
	ff_execute(find_plan, v, NULL, false, 1);
	if (SPI_processed == 0)
		return false;
	ff_get_uuid(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &suspension_id);
	outcome = ff_get_cstring(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);

	ff_prepare(&rows_plan,
			   "SELECT binding_index, waitpoint_id, waitpoint_key, token FROM ff_waitpoint "
			   "WHERE partition_key = $1 AND execution_id = $2 AND suspension_id = $3 "
			   "ORDER BY binding_index",
			   3, rows_types);
	v[2] = ff_uuid_datum(&suspension_id);
	ff_execute(rows_plan, v, NULL, false, 0);
	tt = SPI_tuptable;
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		pg_uuid_t	wp;

		ff_get_uuid(tt->vals[i], tt->tupdesc, 2, &wp);
		put_result(fcinfo, outcome, &suspension_id, ff_get_int32(tt->vals[i], tt->tupdesc, 1, 0),
				   &wp, ff_get_cstring(tt->vals[i], tt->tupdesc, 3),
				   ff_get_cstring(tt->vals[i], tt->tupdesc, 4), raw);
	}
	return true;
}

static void
record_dedup(const FFFence *f, const SuspendArgs *a, const pg_uuid_t *suspension_id,
			 const char *outcome)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[8] = {
		INT2OID, UUIDOID, TEXTOID, UUIDOID, TEXTOID, UUIDOID, INT8OID, INT8OID
	};
	Datum		v[8];
	int64		ttl = FF_SUSPEND_DEDUP_MAX_MS;

	if (a->timeout_at != FF_NULL_MS)
		ttl = Min(Max(a->timeout_at - f->now, 0) + 60000, FF_SUSPEND_DEDUP_MAX_MS);
	ff_prepare(&plan,
			   "INSERT INTO ff_suspend_dedup (partition_key, execution_id, idempotency_key, "
			   "suspension_id, outcome, lease_id, lease_epoch, expires_at_ms) "
			   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
			   "ON CONFLICT (partition_key, execution_id, idempotency_key) DO UPDATE "
			   "SET suspension_id = EXCLUDED.suspension_id, outcome = EXCLUDED.outcome, "
			   "lease_id = EXCLUDED.lease_id, lease_epoch = EXCLUDED.lease_epoch, "
			   "expires_at_ms = EXCLUDED.expires_at_ms",
			   8, types);
	v[0] = Int16GetDatum(f->exec.key.partition);
	v[1] = ff_uuid_datum(&f->exec.key.uuid);
	v[2] = CStringGetTextDatum(a->idempotency_key);
	v[3] = ff_uuid_datum(suspension_id);
	v[4] = CStringGetTextDatum(outcome);
	v[5] = ff_uuid_datum(&f->handle.lease_id);
	v[6] = Int64GetDatum((int64) f->handle.lease_epoch);
	v[7] = Int64GetDatum(f->now + ttl);
	ff_execute(plan, v, NULL, false, 0);
}

static bool
waitpoint_exists(int16 partition, const pg_uuid_t *id)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[2] = {INT2OID, UUIDOID};
	Datum		v[2] = {Int16GetDatum(partition), ff_uuid_datum(id)};

	ff_prepare(&plan, "SELECT 1 FROM ff_waitpoint WHERE partition_key = $1 AND waitpoint_id = $2",
			   2, types);
	ff_execute(plan, v, NULL, false, 1);
	return SPI_processed > 0;
}

static void
raise_waitpoint_exists(const pg_uuid_t *id)
{
	ereport(ERROR,
			(errcode(ERRCODE_FF_WAITPOINT_ALREADY_EXISTS),
			 errmsg("waitpoint_already_exists: waitpoint %s already exists", ff_uuid_to_cstring(id)),
			 errhint("Omit waitpoint_id to have one minted.")));
}

static void
raise_waitpoint_not_found(const pg_uuid_t *id)
{
	ereport(ERROR,
			(errcode(ERRCODE_FF_WAITPOINT_NOT_FOUND),
			 errmsg("waitpoint_not_found: waitpoint %s does not exist", ff_uuid_to_cstring(id)),
			 errhint("A waitpoint created in a transaction that has not committed yet is not visible; retry with backoff.")));
}

/*
 * resolve_pending locks a pending waitpoint for binding b: it must belong to
 * this execution and attempt, still be pending, and not have expired.
 */
static void
resolve_pending(Binding *b, const FFFence *f)
{
	FFWaitpoint wp;

	if (!ff_waitpoint_lock(f->exec.key.partition, &b->waitpoint_id, &wp))
		raise_waitpoint_not_found(&b->waitpoint_id);
	if (memcmp(&wp.key.uuid, &f->exec.key.uuid, sizeof(pg_uuid_t)) != 0 ||
		wp.attempt_index != (int32) f->handle.attempt_index)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_WAITPOINT_FOR_EXECUTION),
				 errmsg("invalid_waitpoint_for_execution: waitpoint %s was not created by this attempt of execution %s",
						ff_uuid_to_cstring(&b->waitpoint_id), f->handle.execution_id)));
	if (strcmp(wp.state, "pending") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FF_WAITPOINT_NOT_PENDING),
				 errmsg("waitpoint_not_pending: waitpoint %s is %s", ff_uuid_to_cstring(&b->waitpoint_id),
						wp.state)));
	if (wp.expires_at_ms != FF_NULL_MS && wp.expires_at_ms <= f->now)
		ereport(ERROR,
				(errcode(ERRCODE_FF_PENDING_WAITPOINT_EXPIRED),
				 errmsg("pending_waitpoint_expired: waitpoint %s expired at %lld",
						ff_uuid_to_cstring(&b->waitpoint_id), (long long) wp.expires_at_ms)));
	b->waitpoint_key = wp.waitpoint_key;
	b->token = wp.token;
}

static void
insert_suspension(const FFFence *f, const SuspendArgs *a, const pg_uuid_t *suspension_id,
				  Jsonb *condition)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[14] = {
		INT2OID, UUIDOID, UUIDOID, INT4OID, TEXTOID, TEXTOID, JSONBOID, JSONBOID, INT8OID,
		INT8OID, TEXTOID, TEXTOID, INT8OID, TEXTOID
	};
	Datum		v[14];
	char		n[15] = "              ";

	ff_prepare(&plan,
			   "INSERT INTO ff_suspension (partition_key, execution_id, suspension_id, "
			   "attempt_index, reason_code, requested_by, condition, resume_policy, "
			   "resume_delay_ms, timeout_at_ms, timeout_behavior, "
			   "continuation_metadata_pointer, suspended_at_ms, idempotency_key) "
			   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
			   14, types);
	v[0] = Int16GetDatum(f->exec.key.partition);
	v[1] = ff_uuid_datum(&f->exec.key.uuid);
	v[2] = ff_uuid_datum(suspension_id);
	v[3] = Int32GetDatum(f->exec.attempt_index);
	v[4] = CStringGetTextDatum(a->reason_code);
	v[5] = CStringGetTextDatum(a->requested_by);
	v[6] = JsonbPGetDatum(condition);
	v[7] = a->resume_policy ? JsonbPGetDatum(a->resume_policy) : (Datum) 0;
	n[7] = a->resume_policy ? ' ' : 'n';
	v[8] = Int64GetDatum(a->resume_delay_ms);
	v[9] = ff_ms_datum(a->timeout_at, &n[9]);
	v[10] = CStringGetTextDatum(a->timeout_behavior);
	v[11] = ff_text_datum(a->continuation, &n[11]);
	v[12] = Int64GetDatum(f->now);
	v[13] = ff_text_datum(a->idempotency_key, &n[13]);
	ff_execute(plan, v, n, false, 0);
}

static bool
suspension_id_used(const FFExecKey *key, const pg_uuid_t *suspension_id)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[3] = {INT2OID, UUIDOID, UUIDOID};
	Datum		v[3] = {Int16GetDatum(key->partition), ff_uuid_datum(&key->uuid),
	ff_uuid_datum(suspension_id)};

	ff_prepare(&plan,
			   "SELECT 1 FROM ff_suspension WHERE partition_key = $1 AND execution_id = $2 "
			   "AND suspension_id = $3",
			   3, types);
	ff_execute(plan, v, NULL, false, 1);
	return SPI_processed > 0;
}

/*
 * bind_waitpoint inserts a fresh waitpoint, or activates a pending one, as
 * binding number index of the suspension.
 */
static void
bind_waitpoint(const FFFence *f, const SuspendArgs *a, const pg_uuid_t *suspension_id,
			   Binding *b, int index, const FFCond *cond, const char *kid)
{
	static SPIPlanPtr insert_plan = NULL;
	static SPIPlanPtr activate_plan = NULL;
	static const Oid insert_types[12] = {
		INT2OID, UUIDOID, UUIDOID, INT4OID, TEXTOID, UUIDOID, INT4OID, TEXTOID, TEXTOID,
		TEXTARRAYOID, INT8OID, INT8OID
	};
	static const Oid activate_types[7] = {
		INT2OID, UUIDOID, UUIDOID, INT4OID, TEXTARRAYOID, INT8OID, INT8OID
	};
	Datum		v[12];
	char		n[13] = "            ";

	if (b->pending)
	{
		ff_prepare(&activate_plan,
				   "UPDATE ff_waitpoint SET state = 'active', suspension_id = $3, "
				   "binding_index = $4, required_signal_names = $5, activated_at_ms = $6, "
				   "expires_at_ms = $7 WHERE partition_key = $1 AND waitpoint_id = $2",
				   7, activate_types);
		v[0] = Int16GetDatum(f->exec.key.partition);
		v[1] = ff_uuid_datum(&b->waitpoint_id);
		v[2] = ff_uuid_datum(suspension_id);
		v[3] = Int32GetDatum(index);
		v[4] = ff_cond_required_names(cond, b->waitpoint_key);
		v[5] = Int64GetDatum(f->now);
		v[6] = ff_ms_datum(a->timeout_at, &n[6]);
		ff_execute(activate_plan, v, n, false, 0);
		return;
	}
	ff_prepare(&insert_plan,
			   "INSERT INTO ff_waitpoint (partition_key, waitpoint_id, execution_id, "
			   "attempt_index, waitpoint_key, state, suspension_id, binding_index, token_kid, "
			   "token, required_signal_names, created_at_ms, activated_at_ms, expires_at_ms) "
			   "VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $8, $9, $10, $11, $11, $12)",
			   12, insert_types);
	v[0] = Int16GetDatum(f->exec.key.partition);
	v[1] = ff_uuid_datum(&b->waitpoint_id);
	v[2] = ff_uuid_datum(&f->exec.key.uuid);
	v[3] = Int32GetDatum(f->exec.attempt_index);
	v[4] = CStringGetTextDatum(b->waitpoint_key);
	v[5] = ff_uuid_datum(suspension_id);
	v[6] = Int32GetDatum(index);
	v[7] = CStringGetTextDatum(kid);
	v[8] = CStringGetTextDatum(b->token);
	v[9] = ff_cond_required_names(cond, b->waitpoint_key);
	v[10] = Int64GetDatum(f->now);
	v[11] = ff_ms_datum(a->timeout_at, &n[11]);
	ff_execute(insert_plan, v, n, false, 0);
}

/*
 * replay_buffered attaches the signals buffered on the pending waitpoints to
 * the new suspension and runs them through the condition, in arrival order.
 * Returns true if they satisfy it (*closer = the signal that did).
 */
static bool
replay_buffered(const FFFence *f, FFSuspension *s, const FFCond *cond, List *pending_ids,
				pg_uuid_t *closer)
{
	static SPIPlanPtr attach_plan = NULL;
	static SPIPlanPtr mark_plan = NULL;
	static const Oid attach_types[4] = {INT2OID, UUIDOID, UUIDOID, UUIDARRAYOID};
	static const Oid mark_types[3] = {INT2OID, UUIDOID, UUIDARRAYOID};
	Datum	   *ids;
	Datum		v[4];
	SPITupleTable *tt;
	uint64		nsignals;
	List	   *satisfiers = NIL;
	bool		satisfied = false;
	ListCell   *lc;

	if (pending_ids == NIL)
		return false;
	ids = palloc(sizeof(Datum) * list_length(pending_ids));
	foreach(lc, pending_ids)
		ids[foreach_current_index(lc)] = ff_uuid_datum(lfirst(lc));
	ff_prepare(&attach_plan,
			   "WITH a AS (UPDATE ff_signal SET suspension_id = $3 "
			   "           WHERE partition_key = $1 AND execution_id = $2 "
			   "             AND waitpoint_id = ANY ($4) AND suspension_id IS NULL "
			   "           RETURNING seq, signal_id, waitpoint_key, signal_name, source_type, "
			   "                     source_identity) "
			   "SELECT signal_id, waitpoint_key, signal_name, source_type, source_identity "
			   "FROM a ORDER BY seq",
			   4, attach_types);
	v[0] = Int16GetDatum(f->exec.key.partition);
	v[1] = ff_uuid_datum(&f->exec.key.uuid);
	v[2] = ff_uuid_datum(&s->suspension_id);
	v[3] = PointerGetDatum(construct_array(ids, list_length(pending_ids), UUIDOID, UUID_LEN,
										   false, TYPALIGN_CHAR));
	ff_execute(attach_plan, v, NULL, false, 0);
	tt = SPI_tuptable;
	nsignals = SPI_processed;
	for (uint64 i = 0; i < nsignals && !satisfied; i++)
	{
		FFSignalFacts facts;
		pg_uuid_t  *id = palloc(sizeof(pg_uuid_t));
		bool		contributed;

		ff_get_uuid(tt->vals[i], tt->tupdesc, 1, id);
		facts.signal_id = ff_uuid_to_cstring(id);
		facts.waitpoint_key = ff_get_cstring(tt->vals[i], tt->tupdesc, 2);
		facts.signal_name = ff_get_cstring(tt->vals[i], tt->tupdesc, 3);
		facts.source_type = ff_get_cstring(tt->vals[i], tt->tupdesc, 4);
		facts.source_identity = ff_get_cstring(tt->vals[i], tt->tupdesc, 5);
		(void) ff_cond_apply(cond, &facts, &s->tokens, &contributed, &satisfied);
		if (contributed)
			satisfiers = lappend(satisfiers, id);
		if (satisfied)
			*closer = *id;
	}
	if (satisfiers != NIL)
	{
		ids = palloc(sizeof(Datum) * list_length(satisfiers));
		foreach(lc, satisfiers)
			ids[foreach_current_index(lc)] = ff_uuid_datum(lfirst(lc));
		ff_prepare(&mark_plan,
				   "UPDATE ff_signal SET satisfier = true "
				   "WHERE partition_key = $1 AND execution_id = $2 AND signal_id = ANY ($3)",
				   3, mark_types);
		v[2] = PointerGetDatum(construct_array(ids, list_length(satisfiers), UUIDOID, UUID_LEN,
											   false, TYPALIGN_CHAR));
		ff_execute(mark_plan, v, NULL, false, 0);
	}
	return satisfied;
}

/*
 * suspend_common runs ff_suspend for a raw handle, with the other arguments
 * starting at argument base, and returns one row per waitpoint.
 */
static Datum
suspend_common(FunctionCallInfo fcinfo, bytea *raw, int base)
{
	SuspendArgs a;
	FFFence		f;
	FFFenceResult fr;
	FFCond	   *cond;
	FFSuspension s;
	pg_uuid_t	suspension_id;
	pg_uuid_t	closer;
	List	   *pending_ids = NIL;
	char	   *kid = NULL;
	bytea	   *secret = NULL;
	bool		satisfied;
	const char *outcome;
	ListCell   *lc;

	parse_suspend_args(fcinfo, base, &a, ff_now_ms());
	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();

	fr = ff_fence_lock(raw, &f);
	if (a.idempotency_key && replay_dedup(fcinfo, &f, a.idempotency_key, raw))
	{
		SPI_finish();
		return (Datum) 0;
	}
	if (fr == FF_FENCE_NOT_ACTIVE && f.same_lease && ff_exec_is(&f.exec, "suspended") &&
		f.exec.attempt_index == (int32) f.handle.attempt_index)
		ereport(ERROR,
				(errcode(ERRCODE_FF_ALREADY_SUSPENDED),
				 errmsg("already_suspended: execution %s is already suspended by this lease",
						f.handle.execution_id),
				 errhint("Pass the same idempotency_key to repeat a suspend safely.")));
	ff_fence_raise(&f, fr);

	if (a.has_suspension_id)
	{
		suspension_id = a.suspension_id;
		if (suspension_id_used(&f.exec.key, &suspension_id))
			input_error("suspension_id %s was already used for execution %s",
						ff_uuid_to_cstring(&suspension_id), f.handle.execution_id);
	}
	else
		ff_random_uuid(&suspension_id);

	/* resolve the bindings: pending rows are locked, fresh ones get id and key */
	foreach(lc, a.bindings)
	{
		Binding    *b = lfirst(lc);

		if (b->pending)
		{
			resolve_pending(b, &f);
			pending_ids = lappend(pending_ids, &b->waitpoint_id);
			continue;
		}
		if (b->has_id)
		{
			if (waitpoint_exists(f.exec.key.partition, &b->waitpoint_id))
				raise_waitpoint_exists(&b->waitpoint_id);
		}
		else
			ff_random_uuid(&b->waitpoint_id);
		if (b->waitpoint_key == NULL)
			b->waitpoint_key = psprintf("wpk:%s", ff_uuid_to_cstring(&b->waitpoint_id));
		if (kid == NULL && !ff_signing_key(&kid, &secret))
			ereport(ERROR,
					(errcode(ERRCODE_FF_INVALID_INPUT),
					 errmsg("invalid_input: hmac_secret_not_initialized: the waitpoint keystore is empty"),
					 errhint("Run ff_seed_waitpoint_hmac_secret (or ff_rotate_waitpoint_hmac_secret_all) first.")));
		b->token = ff_waitpoint_token(kid, secret, &f.exec.key, &b->waitpoint_id);
	}
	if (secret)
		explicit_bzero(VARDATA_ANY(secret), VARSIZE_ANY_EXHDR(secret));

	if (a.cond)
		cond = a.cond;
	else
	{
		List	   *keys = NIL;

		foreach(lc, a.bindings)
			keys = lappend(keys, ((Binding *) lfirst(lc))->waitpoint_key);
		cond = ff_cond_default(keys);
	}
	check_bindings(a.bindings, cond);

	insert_suspension(&f, &a, &suspension_id, ff_cond_to_jsonb(cond));
	foreach(lc, a.bindings)
	{
		Binding    *b = lfirst(lc);

		bind_waitpoint(&f, &a, &suspension_id, b, foreach_current_index(lc), cond,
					   b->pending ? NULL : kid);
	}

	memset(&s, 0, sizeof(s));
	s.key = f.exec.key;
	s.suspension_id = suspension_id;
	s.reason_code = a.reason_code;
	s.timeout_at_ms = a.timeout_at;
	s.timeout_behavior = (char *) a.timeout_behavior;
	satisfied = replay_buffered(&f, &s, cond, pending_ids, &closer);
	ff_suspension_store(&s);

	if (satisfied)
	{
		/* the buffered signals already satisfy it: keep the lease and go on */
		ff_suspension_close(&s, "resumed", &closer, f.now);
		outcome = "already_satisfied";
	}
	else
	{
		FFStateVector sv = {"suspended", "unowned", "not_applicable", a.blocking_reason, "none",
		"attempt_interrupted"};

		ff_attempt_end(&f.exec, &f.attempt, "suspended", "released", "suspended", f.now);
		ff_exec_set_state(&f.exec, &sv);
		f.exec.blocking_detail = psprintf("suspended: waitpoint %s awaiting %s",
										  ff_uuid_to_cstring(&((Binding *) linitial(a.bindings))->waitpoint_id),
										  a.reason_code);
		f.exec.delay_until_ms = FF_NULL_MS;
		f.exec.last_mutation_at_ms = f.now;
		ff_exec_store(&f.exec);
		outcome = "suspended";
	}
	if (a.idempotency_key)
		record_dedup(&f, &a, &suspension_id, outcome);

	foreach(lc, a.bindings)
	{
		Binding    *b = lfirst(lc);

		put_result(fcinfo, outcome, &suspension_id, foreach_current_index(lc), &b->waitpoint_id,
				   b->waitpoint_key, b->token, raw);
	}
	SPI_finish();
	return (Datum) 0;
}

static bytea *
arg_handle(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		input_error("handle must not be null");
	return PG_GETARG_BYTEA_P(0);
}

PG_FUNCTION_INFO_V1(ff_suspend);
Datum
ff_suspend(PG_FUNCTION_ARGS)
{
	return suspend_common(fcinfo, arg_handle(fcinfo), 1);
}

/*
 * ff_suspend_by_triple suspends with a lease fence (execution id, lease id,
 * lease epoch, optionally attempt id and index) instead of a handle. It
 * builds the handle the lease would have, and fences exactly as ff_suspend.
 */
PG_FUNCTION_INFO_V1(ff_suspend_by_triple);
Datum
ff_suspend_by_triple(PG_FUNCTION_ARGS)
{
	MemoryContext outer = CurrentMemoryContext;
	char	   *execution_id = ff_arg_cstring_required(fcinfo, 0, "execution_id");
	FFExecKey	key;
	FFExecRow	exec;
	FFAttemptRow attempt;
	FFHandle	h;
	int32		attempt_index;
	MemoryContext old;
	bytea	   *raw;

	ff_parse_execution_id(execution_id, &key);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		input_error("partial_fence_triple: lease_id and lease_epoch are required");

	SPI_connect();
	if (!ff_exec_load(&key, &exec, false))
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_FOUND),
				 errmsg("execution_not_found: execution %s does not exist", execution_id)));
	attempt_index = PG_ARGISNULL(14) ? exec.attempt_index : PG_GETARG_INT32(14);
	if (exec.total_attempt_count == 0 || !ff_attempt_load(&key, attempt_index, &attempt, false))
		ereport(ERROR,
				(errcode(ERRCODE_FF_ATTEMPT_NOT_FOUND),
				 errmsg("attempt_not_found: execution %s has no attempt %d", execution_id,
						attempt_index)));
	old = MemoryContextSwitchTo(outer);
	memset(&h, 0, sizeof(h));
	h.backend = FF_BACKEND_POSTGRES;
	h.format = 2;
	h.execution_id = ff_format_execution_id(&key);
	h.attempt_index = (uint32) attempt_index;
	h.attempt_id_text = PG_ARGISNULL(13) ? ff_uuid_to_cstring(&attempt.attempt_id)
		: ff_uuid_to_cstring(PG_GETARG_UUID_P(13));
	h.lease_id_text = ff_uuid_to_cstring(PG_GETARG_UUID_P(1));
	h.lease_epoch = (uint64) PG_GETARG_INT64(2);
	h.lease_ttl_ms = (uint64) attempt.lease_ttl_ms;
	h.lane_id = pstrdup(exec.lane_id);
	h.worker_instance_id = pstrdup(attempt.worker_instance_id);
	raw = ff_handle_encode(&h);
	MemoryContextSwitchTo(old);
	SPI_finish();
	return suspend_common(fcinfo, raw, 3);
}

/* Pending waitpoints */

/*
 * ff_create_waitpoint mints a pending waitpoint (and its token) for the
 * lease holder, before it suspends: signals delivered to it are buffered
 * and count once a suspension binds it ({"use_pending": id}). It expires
 * after expires_in_ms unless a suspension activates it first.
 */
PG_FUNCTION_INFO_V1(ff_create_waitpoint);
Datum
ff_create_waitpoint(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[9] = {
		INT2OID, UUIDOID, UUIDOID, INT4OID, TEXTOID, TEXTOID, TEXTOID, INT8OID, INT8OID
	};
	MemoryContext outer = CurrentMemoryContext;
	bytea	   *raw = arg_handle(fcinfo);
	char	   *key = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	int64		expires_in;
	pg_uuid_t	waitpoint_id;
	FFFence		f;
	char	   *kid;
	bytea	   *secret;
	char	   *token;
	Datum		v[9];
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	Datum		result;

	if (key)
		check_waitpoint_key(key);
	if (PG_ARGISNULL(2) || PG_GETARG_INT64(2) <= 0 || PG_GETARG_INT64(2) > FF_MAX_WAITPOINT_TTL_MS)
		input_error("expires_in_ms must be between 1 and %lld", (long long) FF_MAX_WAITPOINT_TTL_MS);
	expires_in = PG_GETARG_INT64(2);

	SPI_connect();
	ff_fence_require(raw, &f);
	if (PG_ARGISNULL(3))
		ff_random_uuid(&waitpoint_id);
	else
	{
		waitpoint_id = *PG_GETARG_UUID_P(3);
		if (waitpoint_exists(f.exec.key.partition, &waitpoint_id))
			raise_waitpoint_exists(&waitpoint_id);
	}
	if (key == NULL)
		key = psprintf("wpk:%s", ff_uuid_to_cstring(&waitpoint_id));
	if (!ff_signing_key(&kid, &secret))
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: hmac_secret_not_initialized: the waitpoint keystore is empty"),
				 errhint("Run ff_seed_waitpoint_hmac_secret (or ff_rotate_waitpoint_hmac_secret_all) first.")));
	token = ff_waitpoint_token(kid, secret, &f.exec.key, &waitpoint_id);
	explicit_bzero(VARDATA_ANY(secret), VARSIZE_ANY_EXHDR(secret));

	ff_prepare(&plan,
			   "INSERT INTO ff_waitpoint (partition_key, waitpoint_id, execution_id, "
			   "attempt_index, waitpoint_key, state, token_kid, token, created_at_ms, "
			   "expires_at_ms) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9)",
			   9, types);
	v[0] = Int16GetDatum(f.exec.key.partition);
	v[1] = ff_uuid_datum(&waitpoint_id);
	v[2] = ff_uuid_datum(&f.exec.key.uuid);
	v[3] = Int32GetDatum(f.exec.attempt_index);
	v[4] = CStringGetTextDatum(key);
	v[5] = CStringGetTextDatum(kid);
	v[6] = CStringGetTextDatum(token);
	v[7] = Int64GetDatum(f.now);
	v[8] = Int64GetDatum(f.now + expires_in);
	ff_execute(plan, v, NULL, false, 0);

	values[0] = ff_uuid_datum(&waitpoint_id);
	values[1] = CStringGetTextDatum(key);
	values[2] = CStringGetTextDatum(token);
	values[3] = Int64GetDatum(f.now + expires_in);
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

/*
 * ff_close_waitpoint closes a waitpoint (pending or active): signals to it
 * are refused from then on (waitpoint_closed). It does not resume or end a
 * suspension that waits on it.
 */
PG_FUNCTION_INFO_V1(ff_close_waitpoint);
Datum
ff_close_waitpoint(PG_FUNCTION_ARGS)
{
	char	   *execution_id = ff_arg_cstring_required(fcinfo, 0, "execution_id");
	char	   *reason = PG_ARGISNULL(2) ? "proactive_close" : text_to_cstring(PG_GETARG_TEXT_PP(2));
	FFExecKey	key;
	FFExecRow	exec;
	FFWaitpoint wp;
	pg_uuid_t	waitpoint_id;
	const char *outcome;

	ff_parse_execution_id(execution_id, &key);
	if (PG_ARGISNULL(1))
		input_error("waitpoint_id must not be null");
	waitpoint_id = *PG_GETARG_UUID_P(1);
	if (*reason == '\0')
		input_error("reason must not be empty");
	ff_check_text_arg(reason, "reason", FF_SIGNAL_TEXT_MAX_BYTES);

	SPI_connect();
	if (!ff_exec_load(&key, &exec, true))
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_FOUND),
				 errmsg("execution_not_found: execution %s does not exist", execution_id)));
	if (!ff_waitpoint_lock(key.partition, &waitpoint_id, &wp))
		raise_waitpoint_not_found(&waitpoint_id);
	if (memcmp(&wp.key.uuid, &key.uuid, sizeof(pg_uuid_t)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_WAITPOINT_FOR_EXECUTION),
				 errmsg("invalid_waitpoint_for_execution: waitpoint %s belongs to another execution",
						ff_uuid_to_cstring(&waitpoint_id))));
	if (strcmp(wp.state, "closed") == 0)
		outcome = "already_closed";
	else
	{
		ff_waitpoint_close(&wp, reason, ff_now_ms());
		outcome = "closed";
	}
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(outcome));
}

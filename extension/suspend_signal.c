/*
 * suspend_signal.c
 *		ff_deliver_signal, ff_deliver_approval_signal and the signal-event
 *		outbox (ff_signal_events).
 *
 * Delivery order (one transaction): lock the execution, lock the
 * waitpoint, authenticate the token (before any state is revealed), then
 * de-duplicate (signal id, idempotency key), then the state checks:
 * terminal execution -> target_not_signalable, closed waitpoint ->
 * waitpoint_closed, signal limit. A pending waitpoint buffers the signal; an
 * active one records it against its suspension and re-evaluates the
 * condition, and a satisfied condition closes the suspension and makes the
 * execution claimable. Every accepted signal writes one ff_signal_event.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "suspend.h"

#define input_error(...) \
	ereport(ERROR, (errcode(ERRCODE_FF_INVALID_INPUT), errmsg("invalid_input: " __VA_ARGS__)))

typedef struct DeliverArgs
{
	char	   *execution_id;
	FFExecKey	key;
	pg_uuid_t	waitpoint_id;
	char	   *token;
	char	   *signal_name;
	bool		has_signal_id;
	pg_uuid_t	signal_id;
	char	   *signal_category;
	char	   *source_type;
	char	   *source_identity;
	bytea	   *payload;
	char	   *payload_encoding;
	char	   *correlation_id;
	char	   *idempotency_key;	/* NULL = no dedup */
	int64		created_at;		/* FF_NULL_MS = now */
	int64		dedup_ttl_ms;
	int64		resume_delay_ms;	/* -1 = the suspension's resume policy */
	int64		max_signals;	/* 0 = unlimited */
} DeliverArgs;

typedef struct DeliverResult
{
	const char *result;			/* accepted, duplicate */
	pg_uuid_t	signal_id;
	const char *effect;
	const char *public_state;
} DeliverResult;

void
ff_emit_signal_event(const FFExecRow *exec, const pg_uuid_t *signal_id,
					 const pg_uuid_t *waitpoint_id, const char *signal_name,
					 const char *source_type, const char *source_identity, const char *effect,
					 int64 now)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[12] = {
		INT8OID, INT2OID, UUIDOID, UUIDOID, UUIDOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
		TEXTOID, TEXTOID, INT8OID
	};
	Datum		v[12];
	char		n[13] = "            ";
	int64		event_id = ff_next_event_id();

	ff_prepare(&plan,
			   "INSERT INTO ff_signal_event (event_id, partition_key, execution_id, signal_id, "
			   "waitpoint_id, signal_name, source_type, source_identity, effect, namespace, "
			   "lane_id, delivered_at_ms) "
			   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
			   12, types);
	v[0] = Int64GetDatum(event_id);
	v[1] = Int16GetDatum(exec->key.partition);
	v[2] = ff_uuid_datum(&exec->key.uuid);
	v[3] = ff_uuid_datum(signal_id);
	v[4] = waitpoint_id ? ff_uuid_datum(waitpoint_id) : (Datum) 0;
	n[4] = waitpoint_id ? ' ' : 'n';
	v[5] = CStringGetTextDatum(signal_name);
	v[6] = CStringGetTextDatum(source_type);
	v[7] = CStringGetTextDatum(source_identity);
	v[8] = CStringGetTextDatum(effect);
	v[9] = ff_text_datum(exec->namespace, &n[9]);
	v[10] = CStringGetTextDatum(exec->lane_id);
	v[11] = Int64GetDatum(now);
	ff_execute(plan, v, n, false, 0);
	ff_notify_event("ff_signal_event", event_id);
}

static bool
find_duplicate(const DeliverArgs *a, int64 now, pg_uuid_t *existing)
{
	static SPIPlanPtr id_plan = NULL;
	static SPIPlanPtr key_plan = NULL;
	static const Oid id_types[3] = {INT2OID, UUIDOID, UUIDOID};
	static const Oid key_types[4] = {INT2OID, UUIDOID, TEXTOID, INT8OID};
	Datum		v[4];

	if (a->has_signal_id)
	{
		ff_prepare(&id_plan,
				   "SELECT signal_id FROM ff_signal "
				   "WHERE partition_key = $1 AND execution_id = $2 AND signal_id = $3",
				   3, id_types);
		v[0] = Int16GetDatum(a->key.partition);
		v[1] = ff_uuid_datum(&a->key.uuid);
		v[2] = ff_uuid_datum(&a->signal_id);
		ff_execute(id_plan, v, NULL, false, 1);
		if (SPI_processed > 0)
		{
			*existing = a->signal_id;
			return true;
		}
	}
	if (a->idempotency_key == NULL)
		return false;
	ff_prepare(&key_plan,
			   "SELECT signal_id FROM ff_signal_dedup WHERE partition_key = $1 "
			   "AND waitpoint_id = $2 AND idempotency_key = $3 AND expires_at_ms > $4",
			   4, key_types);
	v[0] = Int16GetDatum(a->key.partition);
	v[1] = ff_uuid_datum(&a->waitpoint_id);
	v[2] = CStringGetTextDatum(a->idempotency_key);
	v[3] = Int64GetDatum(now);
	ff_execute(key_plan, v, NULL, false, 1);
	if (SPI_processed == 0)
		return false;
	ff_get_uuid(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, existing);
	return true;
}

static void
record_dedup(const DeliverArgs *a, const pg_uuid_t *signal_id, int64 now)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[7] = {INT2OID, UUIDOID, TEXTOID, UUIDOID, UUIDOID, INT8OID, INT8OID};
	Datum		v[7];

	ff_prepare(&plan,
			   "INSERT INTO ff_signal_dedup AS d (partition_key, waitpoint_id, idempotency_key, "
			   "execution_id, signal_id, expires_at_ms) VALUES ($1, $2, $3, $4, $5, $6) "
			   "ON CONFLICT (partition_key, waitpoint_id, idempotency_key) DO UPDATE "
			   "SET execution_id = EXCLUDED.execution_id, signal_id = EXCLUDED.signal_id, "
			   "expires_at_ms = EXCLUDED.expires_at_ms WHERE d.expires_at_ms <= $7",
			   7, types);
	v[0] = Int16GetDatum(a->key.partition);
	v[1] = ff_uuid_datum(&a->waitpoint_id);
	v[2] = CStringGetTextDatum(a->idempotency_key);
	v[3] = ff_uuid_datum(&a->key.uuid);
	v[4] = ff_uuid_datum(signal_id);
	v[5] = Int64GetDatum(now + a->dedup_ttl_ms);
	v[6] = Int64GetDatum(now);
	ff_execute(plan, v, NULL, false, 0);
}

static int64
signal_count(const FFExecKey *key)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[2] = {INT2OID, UUIDOID};
	Datum		v[2] = {Int16GetDatum(key->partition), ff_uuid_datum(&key->uuid)};

	ff_prepare(&plan,
			   "SELECT count(*) FROM ff_signal WHERE partition_key = $1 AND execution_id = $2",
			   2, types);
	ff_execute(plan, v, NULL, true, 1);
	return ff_get_int64(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, 0);
}

static void
insert_signal(const DeliverArgs *a, const FFWaitpoint *wp, const pg_uuid_t *signal_id,
			  const pg_uuid_t *suspension_id, const char *effect, bool satisfier, int64 now)
{
	static SPIPlanPtr plan = NULL;
	static SPIPlanPtr count_plan = NULL;
	static const Oid types[18] = {
		INT2OID, UUIDOID, UUIDOID, UUIDOID, TEXTOID, UUIDOID, TEXTOID, TEXTOID, TEXTOID,
		TEXTOID, TEXTOID, TEXTOID, BYTEAOID, TEXTOID, INT8OID, INT8OID, TEXTOID, BOOLOID
	};
	static const Oid count_types[2] = {INT2OID, UUIDOID};
	Datum		v[18];
	char		n[19] = "                  ";

	ff_prepare(&plan,
			   "INSERT INTO ff_signal (partition_key, execution_id, signal_id, waitpoint_id, "
			   "waitpoint_key, suspension_id, signal_name, signal_category, source_type, "
			   "source_identity, correlation_id, idempotency_key, payload, payload_encoding, "
			   "created_at_ms, accepted_at_ms, effect, satisfier) "
			   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, "
			   "$17, $18)",
			   18, types);
	v[0] = Int16GetDatum(a->key.partition);
	v[1] = ff_uuid_datum(&a->key.uuid);
	v[2] = ff_uuid_datum(signal_id);
	v[3] = ff_uuid_datum(&wp->waitpoint_id);
	v[4] = CStringGetTextDatum(wp->waitpoint_key);
	v[5] = suspension_id ? ff_uuid_datum(suspension_id) : (Datum) 0;
	n[5] = suspension_id ? ' ' : 'n';
	v[6] = CStringGetTextDatum(a->signal_name);
	v[7] = CStringGetTextDatum(a->signal_category);
	v[8] = CStringGetTextDatum(a->source_type);
	v[9] = CStringGetTextDatum(a->source_identity);
	v[10] = ff_text_datum(a->correlation_id, &n[10]);
	v[11] = ff_text_datum(a->idempotency_key, &n[11]);
	v[12] = a->payload ? PointerGetDatum(a->payload) : (Datum) 0;
	n[12] = a->payload ? ' ' : 'n';
	v[13] = ff_text_datum(a->payload_encoding, &n[13]);
	v[14] = Int64GetDatum(a->created_at != FF_NULL_MS ? a->created_at : now);
	v[15] = Int64GetDatum(now);
	v[16] = CStringGetTextDatum(effect);
	v[17] = BoolGetDatum(satisfier);
	ff_execute(plan, v, n, false, 0);

	ff_prepare(&count_plan,
			   "UPDATE ff_waitpoint SET signal_count = signal_count + 1 "
			   "WHERE partition_key = $1 AND waitpoint_id = $2",
			   2, count_types);
	v[1] = ff_uuid_datum(&wp->waitpoint_id);
	ff_execute(count_plan, v, NULL, false, 0);
}

static const char *
public_state_of(const FFExecRow *exec)
{
	return ff_derive_public_state(exec->sv.lifecycle_phase, exec->sv.eligibility_state,
								  exec->sv.terminal_outcome);
}

static void
raise_closed(const FFWaitpoint *wp, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_FF_WAITPOINT_CLOSED),
			 errmsg("waitpoint_closed: waitpoint %s is closed", ff_uuid_to_cstring(&wp->waitpoint_id)),
			 errdetail("%s", why)));
}

/* deliver runs one delivery (inside SPI) and fills *r. */
static void
deliver(DeliverArgs *a, DeliverResult *r)
{
	FFExecRow	exec;
	FFWaitpoint wp;
	FFSuspension s;
	pg_uuid_t	existing;
	int64		now = ff_now_ms();
	const char *effect;
	bool		contributed = false;
	bool		satisfied = false;
	char	   *presented_kid;
	uint8		digest[FF_HMAC_DIGEST_LEN];

	if (!ff_exec_load(&a->key, &exec, true))
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_FOUND),
				 errmsg("execution_not_found: execution %s does not exist", a->execution_id)));
	if (!ff_waitpoint_lock(a->key.partition, &a->waitpoint_id, &wp))
		ereport(ERROR,
				(errcode(ERRCODE_FF_WAITPOINT_NOT_FOUND),
				 errmsg("waitpoint_not_found: waitpoint %s does not exist",
						ff_uuid_to_cstring(&a->waitpoint_id)),
				 errhint("A waitpoint created in a transaction that has not committed yet is not visible; retry with backoff.")));
	if (memcmp(&wp.key.uuid, &a->key.uuid, sizeof(pg_uuid_t)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_WAITPOINT_FOR_EXECUTION),
				 errmsg("invalid_waitpoint_for_execution: waitpoint %s does not belong to execution %s",
						ff_uuid_to_cstring(&a->waitpoint_id), a->execution_id)));

	/* authenticate before revealing anything about state */
	ff_token_verify(a->token, &a->key, &a->waitpoint_id, now);
	ff_token_parse(a->token, &presented_kid, digest);
	if (strcmp(presented_kid, wp.token_kid) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_TOKEN),
				 errmsg("invalid_token: the token was not minted for waitpoint %s",
						ff_uuid_to_cstring(&a->waitpoint_id))));

	if (find_duplicate(a, now, &existing))
	{
		r->result = "duplicate";
		r->signal_id = existing;
		r->effect = "duplicate";
		r->public_state = public_state_of(&exec);
		return;
	}
	if (ff_exec_is(&exec, "terminal"))
		ereport(ERROR,
				(errcode(ERRCODE_FF_TARGET_NOT_SIGNALABLE),
				 errmsg("target_not_signalable: execution %s is %s", a->execution_id,
						public_state_of(&exec))));
	if (strcmp(wp.state, "closed") == 0)
		raise_closed(&wp, "It was closed by a resume, a timeout, ff_close_waitpoint or the end of its execution.");
	if (strcmp(wp.state, "pending") == 0 && wp.expires_at_ms != FF_NULL_MS && wp.expires_at_ms <= now)
		raise_closed(&wp, "The pending waitpoint expired before a suspension used it.");
	if (a->max_signals > 0 && signal_count(&a->key) >= a->max_signals)
		ereport(ERROR,
				(errcode(ERRCODE_FF_SIGNAL_LIMIT_EXCEEDED),
				 errmsg("signal_limit_exceeded: execution %s already has %lld signals",
						a->execution_id, (long long) a->max_signals)));

	if (!a->has_signal_id)
		ff_random_uuid(&a->signal_id);

	if (strcmp(wp.state, "pending") == 0)
	{
		effect = "buffered_for_pending_waitpoint";
		insert_signal(a, &wp, &a->signal_id, NULL, effect, false, now);
	}
	else
	{
		FFSignalFacts facts;
		FFCond	   *cond;

		if (!ff_suspension_load_open(&a->key, &s) || !wp.has_suspension ||
			memcmp(&s.suspension_id, &wp.suspension_id, sizeof(pg_uuid_t)) != 0)
			raise_closed(&wp, "Its suspension is no longer open.");
		cond = ff_cond_parse(s.condition);
		facts.waitpoint_key = wp.waitpoint_key;
		facts.signal_name = a->signal_name;
		facts.signal_id = ff_uuid_to_cstring(&a->signal_id);
		facts.source_type = a->source_type;
		facts.source_identity = a->source_identity;
		effect = ff_cond_apply(cond, &facts, &s.tokens, &contributed, &satisfied);
		insert_signal(a, &wp, &a->signal_id, &s.suspension_id, effect, contributed, now);
		if (contributed)
			ff_suspension_store(&s);
		if (satisfied)
		{
			ff_suspension_close(&s, "resumed", &a->signal_id, now);
			ff_exec_resume(&exec, a->resume_delay_ms >= 0 ? a->resume_delay_ms : s.resume_delay_ms,
						   now);
		}
	}
	ff_emit_signal_event(&exec, &a->signal_id, &a->waitpoint_id, a->signal_name, a->source_type,
						 a->source_identity, effect, now);
	if (a->idempotency_key)
		record_dedup(a, &a->signal_id, now);

	r->result = "accepted";
	r->signal_id = a->signal_id;
	r->effect = effect;
	r->public_state = public_state_of(&exec);
}

static Datum
result_row(FunctionCallInfo fcinfo, MemoryContext outer, const DeliverResult *r)
{
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	values[0] = CStringGetTextDatum(r->result);
	values[1] = ff_uuid_datum(&r->signal_id);
	values[2] = CStringGetTextDatum(r->effect);
	values[3] = CStringGetTextDatum(r->public_state);
	return ff_result_row(fcinfo, outer, values, nulls);
}

static char *
optional_text(FunctionCallInfo fcinfo, int argno, const char *dflt, const char *name)
{
	char	   *s = PG_ARGISNULL(argno) ? (char *) dflt : text_to_cstring(PG_GETARG_TEXT_PP(argno));

	ff_check_text_arg(s, name, FF_SIGNAL_TEXT_MAX_BYTES);
	return s;
}

static void
check_limits(DeliverArgs *a)
{
	if (a->dedup_ttl_ms < 0)
		input_error("dedup_ttl_ms must not be negative");
	if (a->max_signals < 0)
		input_error("max_signals_per_execution must not be negative");
	if (a->idempotency_key && (*a->idempotency_key == '\0' || a->dedup_ttl_ms == 0))
		a->idempotency_key = NULL;	/* no dedup */
}

/*
 * ff_deliver_signal(execution_id, waitpoint_id, waitpoint_token, signal_name,
 *		signal_id, signal_category, source_type, source_identity, payload,
 *		payload_encoding, correlation_id, idempotency_key, created_at,
 *		dedup_ttl_ms, resume_delay_ms, max_signals_per_execution)
 */
PG_FUNCTION_INFO_V1(ff_deliver_signal);
Datum
ff_deliver_signal(PG_FUNCTION_ARGS)
{
	MemoryContext outer = CurrentMemoryContext;
	DeliverArgs a;
	DeliverResult r;
	Datum		result;

	memset(&a, 0, sizeof(a));
	a.execution_id = ff_arg_cstring_required(fcinfo, 0, "execution_id");
	ff_parse_execution_id(a.execution_id, &a.key);
	if (PG_ARGISNULL(1))
		input_error("waitpoint_id must not be null");
	a.waitpoint_id = *PG_GETARG_UUID_P(1);
	a.token = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	a.signal_name = ff_arg_cstring_required(fcinfo, 3, "signal_name");
	ff_check_text_arg(a.signal_name, "signal_name", FF_SIGNAL_TEXT_MAX_BYTES);
	if (!PG_ARGISNULL(4))
	{
		a.has_signal_id = true;
		a.signal_id = *PG_GETARG_UUID_P(4);
	}
	a.signal_category = optional_text(fcinfo, 5, "signal", "signal_category");
	a.source_type = optional_text(fcinfo, 6, "external", "source_type");
	a.source_identity = optional_text(fcinfo, 7, "", "source_identity");
	a.payload = PG_ARGISNULL(8) ? NULL : PG_GETARG_BYTEA_P(8);
	if (a.payload && VARSIZE_ANY_EXHDR(a.payload) > FF_SIGNAL_MAX_PAYLOAD_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_FF_PAYLOAD_TOO_LARGE),
				 errmsg("payload_too_large: signal payload is %zu bytes", (Size) VARSIZE_ANY_EXHDR(a.payload)),
				 errdetail("A signal payload may have at most %d bytes.", FF_SIGNAL_MAX_PAYLOAD_BYTES)));
	a.payload_encoding = optional_text(fcinfo, 9, NULL, "payload_encoding");
	a.correlation_id = optional_text(fcinfo, 10, NULL, "correlation_id");
	a.idempotency_key = optional_text(fcinfo, 11, NULL, "idempotency_key");
	a.created_at = PG_ARGISNULL(12) ? FF_NULL_MS : PG_GETARG_INT64(12);
	a.dedup_ttl_ms = PG_ARGISNULL(13) ? FF_SIGNAL_DEDUP_DEFAULT_MS : PG_GETARG_INT64(13);
	a.resume_delay_ms = PG_ARGISNULL(14) ? -1 : PG_GETARG_INT64(14);
	if (!PG_ARGISNULL(14) && (a.resume_delay_ms < 0 || a.resume_delay_ms > FF_MAX_RESUME_DELAY_MS))
		input_error("resume_delay_ms must be between 0 and %lld", (long long) FF_MAX_RESUME_DELAY_MS);
	a.max_signals = PG_ARGISNULL(15) ? FF_SIGNAL_DEFAULT_LIMIT : PG_GETARG_INT64(15);
	check_limits(&a);
	/* the token's shape is checked before touching any row */
	{
		char	   *kid;
		uint8		digest[FF_HMAC_DIGEST_LEN];

		ff_token_parse(a.token, &kid, digest);
	}

	SPI_connect();
	deliver(&a, &r);
	result = result_row(fcinfo, outer, &r);
	SPI_finish();
	return result;
}

/*
 * ff_deliver_approval_signal: an operator approves (or rejects) through a
 * waitpoint without holding its token: the engine reads the token, and
 * delivers signal_name with category approval, source operator and
 * idempotency key approval:<signal_name>:<idempotency_suffix>.
 */
PG_FUNCTION_INFO_V1(ff_deliver_approval_signal);
Datum
ff_deliver_approval_signal(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[3] = {INT2OID, UUIDOID, UUIDOID};
	MemoryContext outer = CurrentMemoryContext;
	char	   *lane_id = ff_arg_cstring_required(fcinfo, 1, "lane_id");
	char	   *suffix;
	DeliverArgs a;
	DeliverResult r;
	FFExecRow	exec;
	Datum		v[3];
	Datum		result;

	memset(&a, 0, sizeof(a));
	a.execution_id = ff_arg_cstring_required(fcinfo, 0, "execution_id");
	ff_parse_execution_id(a.execution_id, &a.key);
	if (PG_ARGISNULL(2))
		input_error("waitpoint_id must not be null");
	a.waitpoint_id = *PG_GETARG_UUID_P(2);
	a.signal_name = ff_arg_cstring_required(fcinfo, 3, "signal_name");
	ff_check_text_arg(a.signal_name, "signal_name", FF_SIGNAL_TEXT_MAX_BYTES);
	suffix = ff_arg_cstring_required(fcinfo, 4, "idempotency_suffix");
	a.idempotency_key = psprintf("approval:%s:%s", a.signal_name, suffix);
	ff_check_text_arg(a.idempotency_key, "approval idempotency key", FF_SIGNAL_TEXT_MAX_BYTES);
	a.signal_category = "approval";
	a.source_type = "operator";
	a.source_identity = "";
	a.created_at = FF_NULL_MS;
	a.dedup_ttl_ms = PG_ARGISNULL(5) ? FF_SIGNAL_DEDUP_DEFAULT_MS : PG_GETARG_INT64(5);
	a.resume_delay_ms = -1;
	a.max_signals = PG_ARGISNULL(6) ? FF_SIGNAL_DEFAULT_LIMIT : PG_GETARG_INT64(6);
	check_limits(&a);

	SPI_connect();
	if (!ff_exec_load(&a.key, &exec, false))
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_FOUND),
				 errmsg("execution_not_found: execution %s does not exist", a.execution_id)));
	if (strcmp(exec.lane_id, lane_id) != 0)
		input_error("lane_mismatch: args.lane_id=%s exec_core.lane_id=%s", lane_id, exec.lane_id);
	ff_prepare(&plan,
			   "SELECT token FROM ff_waitpoint "
			   "WHERE partition_key = $1 AND waitpoint_id = $2 AND execution_id = $3",
			   3, types);
	v[0] = Int16GetDatum(a.key.partition);
	v[1] = ff_uuid_datum(&a.waitpoint_id);
	v[2] = ff_uuid_datum(&a.key.uuid);
	ff_execute(plan, v, NULL, false, 1);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FF_WAITPOINT_NOT_FOUND),
				 errmsg("waitpoint_not_found: execution %s has no waitpoint %s", a.execution_id,
						ff_uuid_to_cstring(&a.waitpoint_id))));
	a.token = ff_get_cstring(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	deliver(&a, &r);
	result = result_row(fcinfo, outer, &r);
	SPI_finish();
	return result;
}

PG_FUNCTION_INFO_V1(ff_signal_events);
Datum
ff_signal_events(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;

	return ff_read_events(fcinfo, &plan,
						  "SELECT event_id, ff_format_execution_id(partition_key, execution_id), "
						  "signal_id, waitpoint_id, signal_name, source_type, source_identity, "
						  "effect, namespace, lane_id, delivered_at_ms "
						  "FROM ff_signal_event WHERE event_id > $1 AND event_id < $2 "
						  "ORDER BY event_id LIMIT $3");
}

/*
 * operator.c
 *		Operator controls: cancel any execution, change its priority, replay
 *		a finished one, revoke a lease; pause, resume and drain lanes; and
 *		the operator-event outbox every one of them writes to
 *		(ff_operator_event, NOTIFY ff_operator_event, ff_operator_events).
 *
 * Every control is one transaction: the change, its lease and completion
 * events where it has them, and its operator event commit together.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"

#include "scheduler.h"

#define FF_OPERATOR_TEXT_MAX_BYTES	1024

/* ff_json_quote renders s as a JSON string, or null. */
char *
ff_json_quote(const char *s)
{
	StringInfoData buf;

	if (s == NULL)
		return "null";
	initStringInfo(&buf);
	escape_json(&buf, s);
	return buf.data;
}

/*
 * ff_emit_operator_event writes one operator event (and its NOTIFY) in the
 * caller's transaction. exec, when given, supplies the execution, its lane
 * and namespace.
 */
void
ff_emit_operator_event(const char *event_type, const FFExecRow *exec, const char *lane_id,
					   const char *worker_instance_id, const char *namespace,
					   const char *details_json, int64 now)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[9] = {
		INT8OID, TEXTOID, INT2OID, UUIDOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT8OID
	};
	Datum		v[9];
	char		n[10] = "         ";
	int64		event_id = ff_next_event_id();

	ff_prepare(&plan,
			   "INSERT INTO ff_operator_event (event_id, event_type, partition_key, execution_id, "
			   "lane_id, worker_instance_id, namespace, details, occurred_at_ms) "
			   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9)",
			   9, types);
	v[0] = Int64GetDatum(event_id);
	v[1] = CStringGetTextDatum(event_type);
	if (exec)
	{
		v[2] = Int16GetDatum(exec->key.partition);
		v[3] = ff_uuid_datum(&exec->key.uuid);
		lane_id = exec->lane_id;
		if (namespace == NULL)
			namespace = exec->namespace;
	}
	else
	{
		n[2] = 'n';
		n[3] = 'n';
	}
	v[4] = ff_text_datum(lane_id, &n[4]);
	v[5] = ff_text_datum(worker_instance_id, &n[5]);
	v[6] = ff_text_datum(namespace, &n[6]);
	v[7] = CStringGetTextDatum(details_json ? details_json : "{}");
	v[8] = Int64GetDatum(now);
	ff_execute(plan, v, n, false, 0);
	ff_notify_event("ff_operator_event", event_id);
}

PG_FUNCTION_INFO_V1(ff_operator_events);
Datum
ff_operator_events(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;

	return ff_read_events(fcinfo, &plan,
						  "SELECT event_id, event_type, "
						  "CASE WHEN execution_id IS NOT NULL "
						  "     THEN ff_format_execution_id(partition_key, execution_id) END, "
						  "lane_id, worker_instance_id, namespace, details, occurred_at_ms "
						  "FROM ff_operator_event WHERE event_id > $1 AND event_id < $2 "
						  "ORDER BY event_id LIMIT $3");
}

static char *
arg_text(FunctionCallInfo fcinfo, int argno, const char *name)
{
	char	   *s;

	if (PG_ARGISNULL(argno))
		return NULL;
	s = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (strlen(s) > FF_OPERATOR_TEXT_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: %s is longer than %d bytes", name, FF_OPERATOR_TEXT_MAX_BYTES)));
	return s;
}

static void
lock_execution(const char *execution_id, FFExecKey *key, FFExecRow *exec)
{
	ff_parse_execution_id(execution_id, key);
	if (!ff_exec_load(key, exec, true))
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_FOUND),
				 errmsg("execution_not_found: execution %s does not exist", execution_id)));
}

static const char *
public_state_of(const FFExecRow *exec)
{
	return ff_derive_public_state(exec->sv.lifecycle_phase, exec->sv.eligibility_state,
								  exec->sv.terminal_outcome);
}

/*
 * ff_cancel_execution cancels an execution in any non-terminal state: a
 * live lease is revoked (lease event "revoked"; the holder's next call
 * fails with lease_revoked), an open suspension closes, the completion
 * event "cancelled" is written and a flow member's downstream edges
 * advance, all through ff_finish_execution. Cancelling a cancelled
 * execution again changes nothing; any other finished one is "terminal".
 * With a source other than operator_override, a held lease is fenced by
 * lease_epoch.
 */
PG_FUNCTION_INFO_V1(ff_cancel_execution);
Datum
ff_cancel_execution(PG_FUNCTION_ARGS)
{
	MemoryContext outer = CurrentMemoryContext;
	char	   *execution_id = ff_arg_cstring_required(fcinfo, 0, "execution_id");
	char	   *reason = arg_text(fcinfo, 1, "reason");
	char	   *source = PG_ARGISNULL(2) ? pstrdup("operator_override")
		: ff_arg_cstring_required(fcinfo, 2, "source");
	FFExecKey	key;
	FFExecRow	exec;
	FFAttemptRow attempt;
	bool		lease_revoked = false;
	const char *outcome;
	int64		now;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	Datum		result;

	if (strlen(source) > 64)
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "source is longer than 64 bytes");

	SPI_connect();
	lock_execution(execution_id, &key, &exec);
	now = ff_now_ms();
	if (ff_exec_is(&exec, "terminal"))
	{
		if (strcmp(exec.sv.terminal_outcome, "cancelled") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_FF_TERMINAL),
					 errmsg("terminal: execution %s already finished as %s", execution_id,
							public_state_of(&exec)),
					 errhint("Replay it with ff_replay_execution to run it again.")));
		outcome = "already_cancelled";
	}
	else
	{
		const char *previous = public_state_of(&exec);
		bool		leased = ff_exec_is(&exec, "active") &&
			strcmp(exec.sv.ownership_state, "leased") == 0;

		if (strcmp(source, "operator_override") != 0 && leased)
		{
			if (PG_ARGISNULL(3))
				ereport(ERROR,
						(errcode(ERRCODE_FF_INVALID_INPUT),
						 errmsg("invalid_input: lease_epoch is required when source is not operator_override and the execution holds a lease")));
			if (PG_GETARG_INT64(3) != exec.lease_epoch)
				ereport(ERROR,
						(errcode(ERRCODE_FF_STALE_LEASE),
						 errmsg("stale_lease: lease epoch %lld of execution %s is no longer current",
								(long long) PG_GETARG_INT64(3), execution_id),
						 errdetail("The current lease epoch is %lld.", (long long) exec.lease_epoch)));
		}
		if (exec.total_attempt_count > 0 &&
			ff_attempt_load(&key, exec.attempt_index, &attempt, true))
		{
			lease_revoked = attempt.lease_expires_at_ms != FF_NULL_MS;
			ff_attempt_end(&exec, &attempt, "ended_cancelled", "revoked", "operator_cancel", now);
		}
		exec.cancellation_reason = reason;
		exec.cancelled_by = source;
		ff_finish_execution(&exec, &ff_sv_cancelled, "cancelled", now);
		ff_grants_delete(&key);
		ff_emit_operator_event("cancelled", &exec, NULL, NULL, NULL,
							   psprintf("{\"reason\": %s, \"source\": %s, \"previous_public_state\": \"%s\", "
										"\"lease_revoked\": %s}",
										ff_json_quote(reason), ff_json_quote(source), previous,
										lease_revoked ? "true" : "false"),
							   now);
		outcome = "cancelled";
	}
	values[0] = CStringGetTextDatum(outcome);
	values[1] = CStringGetTextDatum(public_state_of(&exec));
	values[2] = BoolGetDatum(lease_revoked);
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

/*
 * ff_change_priority sets the priority (clamped to 0..9000) of an execution
 * waiting for a worker (runnable, eligible now); others are
 * execution_not_eligible.
 */
PG_FUNCTION_INFO_V1(ff_change_priority);
Datum
ff_change_priority(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[4] = {INT2OID, UUIDOID, INT4OID, INT8OID};
	MemoryContext outer = CurrentMemoryContext;
	char	   *execution_id = ff_arg_cstring_required(fcinfo, 0, "execution_id");
	int32		priority;
	int32		old_priority;
	FFExecKey	key;
	FFExecRow	exec;
	int64		now;
	Datum		v[4];
	Datum		values[2];
	bool		nulls[2] = {false, false};
	Datum		result;

	if (PG_ARGISNULL(1))
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "new_priority must not be null");
	priority = Max(0, Min(FF_PRIORITY_MAX, PG_GETARG_INT32(1)));

	SPI_connect();
	lock_execution(execution_id, &key, &exec);
	now = ff_now_ms();
	if (!ff_exec_is(&exec, "runnable") || strcmp(exec.sv.eligibility_state, "eligible_now") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_ELIGIBLE),
				 errmsg("execution_not_eligible: execution %s is not waiting for a worker", execution_id),
				 errdetail("%s", ff_exec_state_json(&exec)),
				 errhint("Priority orders executions that are eligible now.")));
	ff_prepare(&plan,
			   "UPDATE ff_execution e SET priority = $3, last_mutation_at_ms = $4 "
			   "FROM (SELECT priority FROM ff_execution WHERE partition_key = $1 AND execution_id = $2) old "
			   "WHERE e.partition_key = $1 AND e.execution_id = $2 RETURNING old.priority",
			   4, types);
	v[0] = Int16GetDatum(key.partition);
	v[1] = ff_uuid_datum(&key.uuid);
	v[2] = Int32GetDatum(priority);
	v[3] = Int64GetDatum(now);
	ff_execute(plan, v, NULL, false, 0);
	old_priority = ff_get_int32(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, 0);
	ff_emit_operator_event("priority_changed", &exec, NULL, NULL, NULL,
						   psprintf("{\"old_priority\": %d, \"new_priority\": %d}", old_priority, priority),
						   now);
	values[0] = Int32GetDatum(old_priority);
	values[1] = Int32GetDatum(priority);
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

/*
 * ff_replay_execution runs a finished execution again: it becomes runnable
 * and eligible now, and its next claim starts a "replay" attempt. At most
 * policy.max_replay_count (default 10) replays; flow members are not
 * replayed one by one (their edges have resolved).
 */
PG_FUNCTION_INFO_V1(ff_replay_execution);
Datum
ff_replay_execution(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr count_plan = NULL;
	static SPIPlanPtr upsert_plan = NULL;
	static SPIPlanPtr deadline_plan = NULL;
	static const Oid key_types[3] = {INT2OID, UUIDOID, INT8OID};
	MemoryContext outer = CurrentMemoryContext;
	char	   *execution_id = ff_arg_cstring_required(fcinfo, 0, "execution_id");
	char	   *reason = arg_text(fcinfo, 1, "reason");
	FFExecKey	key;
	FFExecRow	exec;
	FFPolicy	policy;
	const char *previous;
	int32		replays;
	int64		now;
	Datum		v[3];
	Datum		values[2];
	bool		nulls[2] = {false, false};
	Datum		result;

	SPI_connect();
	lock_execution(execution_id, &key, &exec);
	now = ff_now_ms();
	if (!ff_exec_is(&exec, "terminal"))
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_TERMINAL),
				 errmsg("execution_not_terminal: execution %s is %s; only finished executions are replayed",
						execution_id, public_state_of(&exec))));
	if (exec.has_flow)
		ereport(ERROR,
				(errcode(ERRCODE_FF_REPLAY_NOT_ALLOWED),
				 errmsg("replay_not_allowed: execution %s is a member of flow %s", execution_id,
						ff_uuid_to_cstring(&exec.flow_id)),
				 errhint("Its downstream edges have resolved; a flow member is not replayed on its own.")));
	ff_policy_parse(exec.policy, &policy);

	v[0] = Int16GetDatum(key.partition);
	v[1] = ff_uuid_datum(&key.uuid);
	v[2] = Int64GetDatum(now);
	ff_prepare(&count_plan,
			   "SELECT replay_count FROM ff_execution_replay "
			   "WHERE partition_key = $1 AND execution_id = $2 FOR UPDATE",
			   2, key_types);
	ff_execute(count_plan, v, NULL, false, 1);
	replays = SPI_processed == 0 ? 0
		: ff_get_int32(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, 0);
	if (replays >= policy.max_replay_count)
		ereport(ERROR,
				(errcode(ERRCODE_FF_MAX_REPLAYS_EXHAUSTED),
				 errmsg("max_replays_exhausted: execution %s was replayed %d times already", execution_id,
						replays),
				 errdetail("The policy's max_replay_count is %d.", policy.max_replay_count)));

	previous = public_state_of(&exec);
	ff_exec_set_state(&exec, &ff_sv_replay_pending);
	exec.blocking_detail = NULL;
	exec.terminal_at_ms = FF_NULL_MS;
	exec.delay_until_ms = FF_NULL_MS;
	exec.cancellation_reason = NULL;
	exec.cancelled_by = NULL;
	exec.retry_count = 0;
	exec.set_result = true;
	exec.result = NULL;
	exec.last_mutation_at_ms = now;
	ff_exec_store(&exec);
	/* a deadline already passed would expire the replay at once */
	ff_prepare(&deadline_plan,
			   "UPDATE ff_execution SET deadline_at_ms = NULL "
			   "WHERE partition_key = $1 AND execution_id = $2 AND deadline_at_ms <= $3",
			   3, key_types);
	ff_execute(deadline_plan, v, NULL, false, 0);
	ff_prepare(&upsert_plan,
			   "INSERT INTO ff_execution_replay AS r (partition_key, execution_id, replay_count, "
			   "last_replayed_at_ms) VALUES ($1, $2, 1, $3) "
			   "ON CONFLICT (partition_key, execution_id) DO UPDATE "
			   "SET replay_count = r.replay_count + 1, last_replayed_at_ms = EXCLUDED.last_replayed_at_ms",
			   3, key_types);
	ff_execute(upsert_plan, v, NULL, false, 0);
	replays++;
	ff_grants_delete(&key);
	ff_emit_operator_event("replayed", &exec, NULL, NULL, NULL,
						   psprintf("{\"previous_public_state\": \"%s\", \"replay_count\": %d, \"reason\": %s}",
									previous, replays, ff_json_quote(reason)),
						   now);
	values[0] = CStringGetTextDatum(public_state_of(&exec));
	values[1] = Int32GetDatum(replays);
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

/*
 * ff_revoke_lease takes the live lease away from its holder: the execution
 * stays active, lease_revoked and reclaimable (ff_claim, reclaim grants),
 * and the holder's next call fails with lease_revoked. Nothing to revoke,
 * another instance's lease, or another lease id is "already_satisfied".
 */
PG_FUNCTION_INFO_V1(ff_revoke_lease);
Datum
ff_revoke_lease(PG_FUNCTION_ARGS)
{
	MemoryContext outer = CurrentMemoryContext;
	char	   *execution_id = ff_arg_cstring_required(fcinfo, 0, "execution_id");
	pg_uuid_t  *expected_lease = PG_ARGISNULL(1) ? NULL : PG_GETARG_UUID_P(1);
	char	   *instance = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	char	   *reason = arg_text(fcinfo, 3, "reason");
	FFExecKey	key;
	FFExecRow	exec;
	FFAttemptRow attempt;
	const char *detail = NULL;
	int64		now;
	Datum		values[4];
	bool		nulls[4] = {false, true, true, true};
	Datum		result;

	if (instance && *instance == '\0')
		instance = NULL;

	SPI_connect();
	lock_execution(execution_id, &key, &exec);
	now = ff_now_ms();
	if (!ff_exec_is(&exec, "active") || strcmp(exec.sv.ownership_state, "leased") != 0 ||
		!ff_attempt_load(&key, exec.attempt_index, &attempt, true) ||
		attempt.lease_expires_at_ms == FF_NULL_MS)
		detail = "no_active_lease";
	else if (instance && strcmp(instance, attempt.worker_instance_id) != 0)
		detail = "different_worker_instance_id";
	else if (expected_lease && memcmp(expected_lease, &attempt.lease_id, sizeof(pg_uuid_t)) != 0)
		detail = "lease_id_mismatch";
	else
	{
		char	   *holder = pstrdup(attempt.worker_instance_id);

		ff_attempt_end(&exec, &attempt, "interrupted_reclaimed", "revoked", "operator_revoke", now);
		ff_exec_set_state(&exec, &ff_sv_lease_revoked);
		exec.blocking_detail = "lease revoked by operator, awaiting reclaim";
		exec.last_mutation_at_ms = now;
		ff_exec_store(&exec);
		ff_emit_operator_event("lease_revoked", &exec, NULL, holder, NULL,
							   psprintf("{\"lease_id\": \"%s\", \"lease_epoch\": %lld, \"attempt_index\": %d, "
										"\"reason\": %s}",
										ff_uuid_to_cstring(&attempt.lease_id),
										(long long) attempt.lease_epoch, attempt.attempt_index,
										ff_json_quote(reason)),
							   now);
		values[2] = ff_uuid_datum(&attempt.lease_id);
		values[3] = Int64GetDatum(attempt.lease_epoch);
		nulls[2] = nulls[3] = false;
	}
	values[0] = CStringGetTextDatum(detail ? "already_satisfied" : "revoked");
	if (detail)
	{
		values[1] = CStringGetTextDatum(detail);
		nulls[1] = false;
	}
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

/*
 * Lane controls. A lane's state decides what claims it hands out:
 * active everything; paused nothing; draining only work already started
 * (reclaims of expired or revoked leases, attempts interrupted by a delay
 * or a suspension). Executions keep their own state throughout.
 */
static Datum
set_lane_state(FunctionCallInfo fcinfo, const char *state, const char *event_type)
{
	static SPIPlanPtr insert_plan = NULL;
	static SPIPlanPtr lock_plan = NULL;
	static SPIPlanPtr update_plan = NULL;
	static const Oid insert_types[2] = {TEXTOID, INT8OID};
	static const Oid lock_types[1] = {TEXTOID};
	static const Oid update_types[2] = {TEXTOID, TEXTOID};
	MemoryContext outer = CurrentMemoryContext;
	char	   *lane_id = ff_arg_cstring_required(fcinfo, 0, "lane_id");
	char	   *reason = arg_text(fcinfo, 1, "reason");
	char	   *previous;
	int64		now;
	Datum		v[2];
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	Datum		result;

	ff_check_lane(lane_id, strlen(lane_id));
	SPI_connect();
	now = ff_now_ms();
	ff_prepare(&insert_plan,
			   "INSERT INTO ff_lane (lane_id, registered_at_ms, registered_by) "
			   "VALUES ($1, $2, 'operator') ON CONFLICT (lane_id) DO NOTHING",
			   2, insert_types);
	v[0] = CStringGetTextDatum(lane_id);
	v[1] = Int64GetDatum(now);
	ff_execute(insert_plan, v, NULL, false, 0);
	ff_prepare(&lock_plan, "SELECT state FROM ff_lane WHERE lane_id = $1 FOR UPDATE", 1, lock_types);
	ff_execute(lock_plan, v, NULL, false, 1);
	previous = ff_get_cstring(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	if (strcmp(previous, state) != 0)
	{
		ff_prepare(&update_plan, "UPDATE ff_lane SET state = $2 WHERE lane_id = $1", 2, update_types);
		v[1] = CStringGetTextDatum(state);
		ff_execute(update_plan, v, NULL, false, 0);
		ff_emit_operator_event(event_type, NULL, lane_id, NULL, NULL,
							   psprintf("{\"previous_state\": \"%s\", \"state\": \"%s\", \"reason\": %s}",
										previous, state, ff_json_quote(reason)),
							   now);
	}
	values[0] = CStringGetTextDatum(lane_id);
	values[1] = CStringGetTextDatum(state);
	values[2] = CStringGetTextDatum(previous);
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

PG_FUNCTION_INFO_V1(ff_pause_lane);
Datum
ff_pause_lane(PG_FUNCTION_ARGS)
{
	return set_lane_state(fcinfo, "paused", "lane_paused");
}

PG_FUNCTION_INFO_V1(ff_resume_lane);
Datum
ff_resume_lane(PG_FUNCTION_ARGS)
{
	return set_lane_state(fcinfo, "active", "lane_resumed");
}

PG_FUNCTION_INFO_V1(ff_drain_lane);
Datum
ff_drain_lane(PG_FUNCTION_ARGS)
{
	return set_lane_state(fcinfo, "draining", "lane_draining");
}

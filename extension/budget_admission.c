/*
 * budget_admission.c
 *		Admission control at claim time, and what attempt ends and terminal
 *		transitions release (docs/budgets.md).
 *
 * An execution's policy attaches it to budgets and a quota policy:
 *
 *		{"budget_ids": ["<uuid>", ...], "quota_policy_id": "<uuid>"}
 *
 * ("budget_ids" may also be upstream's comma-separated string). ff_claim
 * calls ff_admission_admit for each locked candidate. A candidate one of
 * whose budgets holds work back becomes blocked_by_budget /
 * waiting_for_budget and is recorded on that budget (ff_budget_execution),
 * so the budget's reset, a raised limit or a release puts it back in line
 * in the same transaction; one its quota refuses becomes blocked_by_quota /
 * waiting_for_quota, recorded with the time its rate window frees
 * (ff_quota_blocked) or as waiting for a concurrency slot. Both are public
 * state rate_limited and leave the claim index. Executions without
 * attachments cost two JSON key probes.
 *
 * A reclaim (the lease of running work expired) is not held back: the work
 * was admitted and kept its quota slot (ff_admission_attempt_ended).
 *
 * Lock order: ff_claim holds the candidate's row; budget rows are then only
 * read, or locked FOR SHARE when the budget holds back or acts on breaches
 * (so a concurrent reset or breach cannot miss this execution), and the
 * quota row FOR UPDATE.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "budget.h"

/* Policy attachments */

static void
attach_error(const char *field, const char *problem)
{
	ereport(ERROR,
			(errcode(ERRCODE_FF_INVALID_POLICY_JSON),
			 errmsg("invalid_policy_json: policy field %s %s", field, problem)));
}

static void
add_budget(FFAdmissionPolicy *out, const char *s, int len)
{
	char	   *id;
	pg_uuid_t	uuid;
	int			pos;

	/* trim, drop empties (upstream's comma-separated form) */
	while (len > 0 && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0)
		return;
	id = pnstrdup(s, len);
	if (!ff_parse_uuid(id, &uuid))
		attach_error("budget_ids", psprintf("entry \"%s\" is not a UUID", id));
	/* sorted insert, distinct */
	for (pos = 0; pos < out->nbudgets; pos++)
	{
		int			c = memcmp(&out->budgets[pos], &uuid, sizeof(pg_uuid_t));

		if (c == 0)
			return;
		if (c > 0)
			break;
	}
	if (out->nbudgets >= FF_MAX_ATTACHED_BUDGETS)
		attach_error("budget_ids", psprintf("names more than %d budgets", FF_MAX_ATTACHED_BUDGETS));
	memmove(&out->budgets[pos + 1], &out->budgets[pos],
			(out->nbudgets - pos) * sizeof(pg_uuid_t));
	out->budgets[pos] = uuid;
	out->nbudgets++;
}

/*
 * ff_admission_policy reads the budgets and quota policy the execution
 * policy attaches (raising invalid_policy_json on a bad shape); false when
 * it attaches none.
 */
bool
ff_admission_policy(Jsonb *policy, FFAdmissionPolicy *out)
{
	JsonbContainer *root;
	JsonbValue	v;

	out->nbudgets = 0;
	out->has_quota = false;
	if (policy == NULL)
		return false;
	root = &policy->root;
	if (!JsonContainerIsObject(root) || JsonContainerIsScalar(root))
		return false;			/* ff_policy_parse reports that */

	if (getKeyJsonValueFromContainer(root, "budget_ids", strlen("budget_ids"), &v) != NULL &&
		v.type != jbvNull)
	{
		if (v.type == jbvString)
		{
			const char *s = v.val.string.val;
			int			len = v.val.string.len;
			int			start = 0;

			for (int i = 0; i <= len; i++)
				if (i == len || s[i] == ',')
				{
					add_budget(out, s + start, i - start);
					start = i + 1;
				}
		}
		else if (v.type == jbvBinary && JsonContainerIsArray(v.val.binary.data))
		{
			int			n = JsonContainerSize(v.val.binary.data);

			for (int i = 0; i < n; i++)
			{
				JsonbValue *e = getIthJsonbValueFromContainer(v.val.binary.data, i);

				if (e->type != jbvString)
					attach_error("budget_ids", "must contain only strings");
				if (e->val.string.len == 0)
					attach_error("budget_ids", "must not contain empty strings");
				add_budget(out, e->val.string.val, e->val.string.len);
			}
		}
		else
			attach_error("budget_ids", "must be an array of budget ids or a comma-separated string");
	}

	if (getKeyJsonValueFromContainer(root, "quota_policy_id", strlen("quota_policy_id"), &v) != NULL &&
		v.type != jbvNull)
	{
		char	   *id;

		if (v.type != jbvString)
			attach_error("quota_policy_id", "must be a string");
		id = pnstrdup(v.val.string.val, v.val.string.len);
		if (!ff_parse_uuid(id, &out->quota))
			attach_error("quota_policy_id", psprintf("\"%s\" is not a UUID", id));
		out->has_quota = true;
	}
	return out->nbudgets > 0 || out->has_quota;
}

/* ff_admission_policy_check validates the attachments (ff_policy_parse). */
void
ff_admission_policy_check(Jsonb *policy)
{
	FFAdmissionPolicy ap;

	(void) ff_admission_policy(policy, &ap);
}

/* Blocking and unblocking */

/*
 * ff_admission_block holds the runnable execution back with the vector
 * (blocked_by_budget or blocked_by_quota; its attempt state is kept).
 */
void
ff_admission_block(FFExecRow *exec, const FFStateVector *sv, const char *detail, int64 now)
{
	ff_exec_set_state(exec, sv);
	exec->blocking_detail = detail ? pstrdup(detail) : NULL;
	exec->last_mutation_at_ms = now;
	ff_exec_store(exec);
}

/*
 * ff_admission_unblock makes an execution held back with the given
 * eligibility state eligible again (waiting for a worker, attempt state
 * kept). False if it is not held back that way.
 */
bool
ff_admission_unblock(FFExecRow *exec, const char *eligibility, int64 now)
{
	if (!ff_exec_is(exec, "runnable") || strcmp(exec->sv.eligibility_state, eligibility) != 0)
		return false;
	ff_exec_set_state(exec, &ff_sv_delay_elapsed);
	exec->blocking_detail = NULL;
	exec->last_mutation_at_ms = now;
	ff_exec_store(exec);
	return true;
}

/*
 * ff_admission_lock_exec locks an execution without waiting (for callers
 * that hold a budget or quota row): false if it is missing or another
 * transaction holds it.
 */
bool
ff_admission_lock_exec(int16 partition, const pg_uuid_t *uuid, FFExecRow *exec)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[2] = {INT2OID, UUIDOID};
	Datum		v[2];

	ff_prepare(&plan,
			   "SELECT " FF_EXEC_COLUMNS " FROM ff_execution "
			   "WHERE partition_key = $1 AND execution_id = $2 FOR UPDATE SKIP LOCKED",
			   2, types);
	v[0] = Int16GetDatum(partition);
	v[1] = ff_uuid_datum(uuid);
	ff_execute(plan, v, NULL, false, 1);
	if (SPI_processed == 0)
		return false;
	ff_exec_from_tuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, exec);
	return true;
}

/* The claim hook */

static bool
is_reclaim(const FFExecRow *exec)
{
	return strcmp(exec->sv.ownership_state, "lease_expired_reclaimable") == 0 ||
		strcmp(exec->sv.ownership_state, "lease_revoked") == 0;
}

/*
 * ff_admission_admit decides whether ff_claim may lease the locked
 * candidate. False: the candidate is now held back (stored, out of the
 * claim index) and must be skipped.
 */
bool
ff_admission_admit(FFExecRow *exec, int64 now)
{
	FFAdmissionPolicy ap;
	bool		track[FF_MAX_ATTACHED_BUDGETS];
	int64		retry_at;
	char	   *detail = NULL;

	if (exec->policy == NULL || !ff_admission_policy(exec->policy, &ap))
		return true;
	if (is_reclaim(exec))
	{
		if (ap.has_quota)
			(void) ff_quota_claim(&ap.quota, &exec->key, true, now, &retry_at, &detail);
		return true;
	}

	for (int i = 0; i < ap.nbudgets; i++)
	{
		int16		pk = ff_budget_partition(&ap.budgets[i]);
		bool		held = ff_budget_holds_back(pk, &ap.budgets[i], false, &detail, &track[i]);

		/*
		 * Look again under a share lock: a reset, raised limit or breach
		 * waits for this claim, so it sees what the claim records.
		 */
		if (held || track[i])
			held = ff_budget_holds_back(pk, &ap.budgets[i], true, &detail, &track[i]);
		if (held)
		{
			ff_budget_note_execution(pk, &ap.budgets[i], &exec->key, "blocked", now);
			ff_admission_block(exec, &ff_sv_blocked_by_budget, detail, now);
			return false;
		}
	}
	if (ap.has_quota &&
		ff_quota_claim(&ap.quota, &exec->key, false, now, &retry_at, &detail) != FF_QUOTA_ADMIT)
	{
		ff_admission_block(exec, &ff_sv_blocked_by_quota, detail, now);
		return false;
	}
	for (int i = 0; i < ap.nbudgets; i++)
		if (track[i])
			ff_budget_note_execution(ff_budget_partition(&ap.budgets[i]), &ap.budgets[i],
									 &exec->key, "admitted", now);
	return true;
}

/*
 * ff_admission_attempt_ended releases the quota slot the attempt's claim
 * took when its lease is given up: completed, failed, cancelled, delayed,
 * suspended. An attempt interrupted for a reclaim (lease expired or
 * revoked, worker dead) keeps the slot: the work is still admitted, and
 * its reclaim (claimed first, being older) continues in it, so the cap
 * holds; the slot frees when the execution finishes.
 */
void
ff_admission_attempt_ended(const FFExecRow *exec, const char *lifecycle, int64 now)
{
	FFAdmissionPolicy ap;

	if (exec->policy == NULL || strcmp(lifecycle, "interrupted_reclaimed") == 0 ||
		!ff_admission_policy(exec->policy, &ap) || !ap.has_quota)
		return;
	ff_quota_release_slot(&ap.quota, &exec->key, now);
}

/*
 * ff_admission_on_terminal forgets a finished execution everywhere it is
 * recorded: budget rows, its quota slot and quota wait.
 */
void
ff_admission_on_terminal(const FFExecRow *exec, int64 now)
{
	FFAdmissionPolicy ap;

	if (exec->policy == NULL || !ff_admission_policy(exec->policy, &ap))
		return;
	for (int i = 0; i < ap.nbudgets; i++)
		ff_budget_forget_execution(ff_budget_partition(&ap.budgets[i]), &ap.budgets[i], &exec->key);
	if (ap.has_quota)
	{
		ff_quota_release_slot(&ap.quota, &exec->key, now);
		ff_quota_forget_execution(&ap.quota, &exec->key);
	}
}

/* SQL functions */

static const struct
{
	const char *reason;
	const char *eligibility;
}			admission_reasons[] = {
	{"waiting_for_budget", "blocked_by_budget"},
	{"waiting_for_quota", "blocked_by_quota"},
	{"waiting_for_capable_worker", "blocked_by_route"},
};

/*
 * ff_block_execution_for_admission parks a runnable execution the way the
 * claim does when admission refuses it. Blocked for budget, it is recorded
 * on each attached budget; for quota, as waiting for a slot of its quota
 * (the quota reconciler releases it when there is room). Work without
 * attachments, and route blocks, wait for ff_unblock_execution.
 */
PG_FUNCTION_INFO_V1(ff_block_execution_for_admission);
Datum
ff_block_execution_for_admission(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr quota_plan = NULL;
	static const Oid quota_types[5] = {INT2OID, UUIDOID, INT2OID, UUIDOID, INT8OID};
	MemoryContext outer = CurrentMemoryContext;
	char	   *execution_id = ff_arg_cstring_required(fcinfo, 0, "execution_id");
	char	   *reason = ff_arg_cstring_required(fcinfo, 1, "reason");
	char	   *detail = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	const char *eligibility = NULL;
	FFStateVector sv;
	FFAdmissionPolicy ap;
	FFExecKey	key;
	FFExecRow	exec;
	int64		now;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	Datum		result;

	for (size_t i = 0; i < lengthof(admission_reasons); i++)
		if (strcmp(reason, admission_reasons[i].reason) == 0)
			eligibility = admission_reasons[i].eligibility;
	if (eligibility == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_BLOCKING_REASON),
				 errmsg("invalid_blocking_reason: \"%s\" is not an admission blocking reason", reason),
				 errhint("Use waiting_for_budget, waiting_for_quota or waiting_for_capable_worker.")));
	if (detail && strlen(detail) > 1024)
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "reason_detail is longer than 1024 bytes");
	ff_parse_execution_id(execution_id, &key);

	SPI_connect();
	if (!ff_exec_load(&key, &exec, true))
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_FOUND),
				 errmsg("execution_not_found: execution %s does not exist", execution_id)));
	now = ff_now_ms();
	if (ff_exec_is(&exec, "terminal"))
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_ACTIVE),
				 errmsg("execution_not_active: execution %s is terminal (%s)", execution_id,
						exec.sv.terminal_outcome)));
	if (!ff_exec_is(&exec, "runnable") ||
		(strcmp(exec.sv.eligibility_state, "eligible_now") != 0 &&
		 strcmp(exec.sv.eligibility_state, "blocked_by_budget") != 0 &&
		 strcmp(exec.sv.eligibility_state, "blocked_by_quota") != 0 &&
		 strcmp(exec.sv.eligibility_state, "blocked_by_route") != 0))
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_ELIGIBLE),
				 errmsg("execution_not_eligible: execution %s is not waiting for a worker", execution_id),
				 errdetail("lifecycle_phase %s, eligibility_state %s.", exec.sv.lifecycle_phase,
						   exec.sv.eligibility_state),
				 errhint("Only runnable executions that are eligible now (or already blocked for admission) can be blocked.")));

	sv.lifecycle_phase = "runnable";
	sv.ownership_state = "unowned";
	sv.eligibility_state = ff_intern_literal(eligibility);
	sv.blocking_reason = ff_intern_literal(reason);
	sv.terminal_outcome = "none";
	sv.attempt_state = NULL;
	ff_admission_block(&exec, &sv, detail, now);

	if (ff_admission_policy(exec.policy, &ap))
	{
		if (strcmp(reason, "waiting_for_budget") == 0)
			for (int i = 0; i < ap.nbudgets; i++)
				ff_budget_note_execution(ff_budget_partition(&ap.budgets[i]), &ap.budgets[i], &key,
										 "blocked", now);
		if (strcmp(reason, "waiting_for_quota") == 0 && ap.has_quota)
		{
			Datum		v[5];

			ff_prepare(&quota_plan,
					   "INSERT INTO ff_quota_blocked (partition_key, quota_policy_id, exec_partition, "
					   "execution_id, reason, retry_at_ms, blocked_at_ms) "
					   "VALUES ($1, $2, $3, $4, 'concurrency', NULL, $5) "
					   "ON CONFLICT (partition_key, quota_policy_id, exec_partition, execution_id) "
					   "DO UPDATE SET reason = 'concurrency', retry_at_ms = NULL, blocked_at_ms = $5",
					   5, quota_types);
			v[0] = Int16GetDatum(ff_budget_partition(&ap.quota));
			v[1] = ff_uuid_datum(&ap.quota);
			v[2] = Int16GetDatum(key.partition);
			v[3] = ff_uuid_datum(&key.uuid);
			v[4] = Int64GetDatum(now);
			ff_execute(quota_plan, v, NULL, false, 0);
		}
	}

	values[0] = CStringGetTextDatum("blocked");
	values[1] = CStringGetTextDatum(exec.sv.eligibility_state);
	values[2] = CStringGetTextDatum(exec.sv.blocking_reason);
	values[3] = CStringGetTextDatum(ff_derive_public_state(exec.sv.lifecycle_phase,
														   exec.sv.eligibility_state,
														   exec.sv.terminal_outcome));
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

/*
 * ff_read_admission lists what an execution's attachments record about it:
 * budgets holding it back or that admitted it (acting on breaches), its
 * quota wait (with the retry time of a rate wait) and its quota admission
 * or slot.
 */
PG_FUNCTION_INFO_V1(ff_read_admission);
Datum
ff_read_admission(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr budget_plan = NULL;
	static SPIPlanPtr blocked_plan = NULL;
	static SPIPlanPtr admitted_plan = NULL;
	static const Oid types[4] = {INT2OID, UUIDOID, INT2OID, UUIDOID};
	static const Oid admitted_types[3] = {INT2OID, UUIDOID, TEXTOID};
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *execution_id = ff_arg_cstring_required(fcinfo, 0, "execution_id");
	FFExecKey	key;
	FFExecRow	exec;
	FFAdmissionPolicy ap;
	Datum		v[4];

	ff_parse_execution_id(execution_id, &key);
	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	if (!ff_exec_load(&key, &exec, false) || !ff_admission_policy(exec.policy, &ap))
	{
		SPI_finish();
		return (Datum) 0;
	}
	ff_prepare(&budget_plan,
			   "SELECT status, since_ms FROM ff_budget_execution WHERE partition_key = $1 "
			   "AND budget_id = $2 AND exec_partition = $3 AND execution_id = $4",
			   4, types);
	ff_prepare(&blocked_plan,
			   "SELECT 'blocked_' || reason, retry_at_ms, blocked_at_ms FROM ff_quota_blocked "
			   "WHERE partition_key = $1 AND quota_policy_id = $2 AND exec_partition = $3 "
			   "AND execution_id = $4",
			   4, types);
	ff_prepare(&admitted_plan,
			   "SELECT CASE WHEN holds_slot THEN 'slot' ELSE 'admitted' END, expires_at_ms, "
			   "admitted_at_ms FROM ff_quota_admitted WHERE partition_key = $1 "
			   "AND quota_policy_id = $2 AND execution_id = $3",
			   3, admitted_types);
	v[2] = Int16GetDatum(key.partition);
	v[3] = ff_uuid_datum(&key.uuid);
	for (int i = 0; i <= ap.nbudgets; i++)
	{
		bool		budget = i < ap.nbudgets;
		const pg_uuid_t *id = budget ? &ap.budgets[i] : &ap.quota;
		SPIPlanPtr	plans[2];
		int			nplans;

		if (!budget && !ap.has_quota)
			break;
		v[0] = Int16GetDatum(ff_budget_partition(id));
		v[1] = ff_uuid_datum(id);
		plans[0] = budget ? budget_plan : blocked_plan;
		plans[1] = admitted_plan;
		nplans = budget ? 1 : 2;
		for (int p = 0; p < nplans; p++)
		{
			if (p == 1)
				v[2] = CStringGetTextDatum(ff_format_execution_id(&key));
			ff_execute(plans[p], v, NULL, true, 0);
			for (uint64 r = 0; r < SPI_processed; r++)
			{
				HeapTuple	t = SPI_tuptable->vals[r];
				TupleDesc	d = SPI_tuptable->tupdesc;
				Datum		values[5];
				bool		nulls[5] = {false, false, false, false, false};
				int			c = budget ? 0 : 1;

				values[0] = CStringGetTextDatum(budget ? "budget" : "quota");
				values[1] = CStringGetTextDatum(ff_uuid_to_cstring(id));
				values[2] = CStringGetTextDatum(ff_get_cstring(t, d, 1));
				if (budget)
					nulls[3] = true;
				else
					values[3] = ff_get_datum(t, d, 2, &nulls[3]);
				values[4] = ff_get_datum(t, d, 2 + c, &nulls[4]);
				tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			}
		}
	}
	SPI_finish();
	return (Datum) 0;
}

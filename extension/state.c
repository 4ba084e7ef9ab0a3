/*
 * state.c
 *		The execution state vector: canonical values, the derived
 *		public_state, and the vectors each transition writes (spec A §3.4).
 */
#include "postgres.h"

#include "utils/builtins.h"

#include "flowfabric.h"

/*
 * The vectors transitions write. A NULL dimension keeps the row's current
 * value.
 */
const FFStateVector ff_sv_ready = {
	"runnable", "unowned", "eligible_now", "waiting_for_worker", "none", "pending_first_attempt"
};
const FFStateVector ff_sv_delayed_start = {
	"runnable", "unowned", "not_eligible_until_time", "waiting_for_delay", "none", "pending_first_attempt"
};
const FFStateVector ff_sv_claimed = {
	"active", "leased", "not_applicable", "none", "none", "running_attempt"
};
const FFStateVector ff_sv_lease_expired = {
	NULL, "lease_expired_reclaimable", NULL, "waiting_for_worker", NULL, "attempt_interrupted"
};
const FFStateVector ff_sv_completed = {
	"terminal", "unowned", "not_applicable", "none", "success", "attempt_terminal"
};
const FFStateVector ff_sv_failed = {
	"terminal", "unowned", "not_applicable", "none", "failed", "attempt_terminal"
};
const FFStateVector ff_sv_cancelled = {
	"terminal", "unowned", "not_applicable", "none", "cancelled", "attempt_terminal"
};
const FFStateVector ff_sv_expired = {
	"terminal", "unowned", "not_applicable", "none", "expired", "attempt_terminal"
};
const FFStateVector ff_sv_retry_backoff = {
	"runnable", "unowned", "not_eligible_until_time", "waiting_for_retry_backoff", "none", "pending_retry_attempt"
};
const FFStateVector ff_sv_retry_now = {
	"runnable", "unowned", "eligible_now", "waiting_for_worker", "none", "pending_retry_attempt"
};
const FFStateVector ff_sv_worker_delay = {
	"runnable", "unowned", "not_eligible_until_time", "waiting_for_delay", "none", "attempt_interrupted"
};
const FFStateVector ff_sv_delay_elapsed = {
	"runnable", "unowned", "eligible_now", "waiting_for_worker", "none", NULL
};
const FFStateVector ff_sv_waiting_children = {
	"runnable", "unowned", "blocked_by_dependencies", "waiting_for_children", "none", NULL
};
const FFStateVector ff_sv_skipped = {
	"terminal", "unowned", "not_applicable", "none", "skipped", "attempt_terminal"
};
/* an operator revoked the lease: still active, reclaimable (operator.c) */
const FFStateVector ff_sv_lease_revoked = {
	NULL, "lease_revoked", NULL, "waiting_for_worker", NULL, "attempt_interrupted"
};
/* an operator replays a terminal execution: the next claim is a replay attempt */
const FFStateVector ff_sv_replay_pending = {
	"runnable", "unowned", "eligible_now", "waiting_for_worker", "none", "pending_replay_attempt"
};

/* a budget or quota holds it back (budget_admission.c): public state rate_limited */
const FFStateVector ff_sv_blocked_by_budget = {
	"runnable", "unowned", "blocked_by_budget", "waiting_for_budget", "none", NULL
};
const FFStateVector ff_sv_blocked_by_quota = {
	"runnable", "unowned", "blocked_by_quota", "waiting_for_quota", "none", NULL
};

/*
 * ff_derive_public_state maps the vector to the one state users see. The
 * ff_execution table checks that stored public_state always equals it.
 */
const char *
ff_derive_public_state(const char *lifecycle_phase, const char *eligibility_state,
					   const char *terminal_outcome)
{
	if (strcmp(lifecycle_phase, "terminal") == 0)
	{
		if (strcmp(terminal_outcome, "success") == 0)
			return "completed";
		if (strcmp(terminal_outcome, "cancelled") == 0)
			return "cancelled";
		if (strcmp(terminal_outcome, "expired") == 0)
			return "expired";
		if (strcmp(terminal_outcome, "skipped") == 0)
			return "skipped";
		return "failed";
	}
	if (strcmp(lifecycle_phase, "suspended") == 0)
		return "suspended";
	if (strcmp(lifecycle_phase, "active") == 0)
		return "active";
	if (strcmp(lifecycle_phase, "runnable") == 0)
	{
		if (strcmp(eligibility_state, "not_eligible_until_time") == 0)
			return "delayed";
		if (strcmp(eligibility_state, "blocked_by_dependencies") == 0)
			return "waiting_children";
		if (strcmp(eligibility_state, "blocked_by_budget") == 0 ||
			strcmp(eligibility_state, "blocked_by_quota") == 0)
			return "rate_limited";
	}
	return "waiting";
}

void
ff_exec_set_state(FFExecRow *row, const FFStateVector *sv)
{
	if (sv->lifecycle_phase)
		row->sv.lifecycle_phase = sv->lifecycle_phase;
	if (sv->ownership_state)
		row->sv.ownership_state = sv->ownership_state;
	if (sv->eligibility_state)
		row->sv.eligibility_state = sv->eligibility_state;
	if (sv->blocking_reason)
		row->sv.blocking_reason = sv->blocking_reason;
	if (sv->terminal_outcome)
		row->sv.terminal_outcome = sv->terminal_outcome;
	if (sv->attempt_state)
		row->sv.attempt_state = sv->attempt_state;
}

/*
 * ff_state_vector_params fills out[0..6] with the vector's six states and its
 * public state as text, in table column order: the parameters of a
 * set-based statement that writes the vector (claim.c, batch_fast.c).
 */
void
ff_state_vector_params(const FFStateVector *sv, Datum *out)
{
	out[0] = CStringGetTextDatum(sv->lifecycle_phase);
	out[1] = CStringGetTextDatum(sv->ownership_state);
	out[2] = CStringGetTextDatum(sv->eligibility_state);
	out[3] = CStringGetTextDatum(sv->blocking_reason);
	out[4] = CStringGetTextDatum(sv->terminal_outcome);
	out[5] = CStringGetTextDatum(sv->attempt_state);
	out[6] = CStringGetTextDatum(ff_derive_public_state(sv->lifecycle_phase, sv->eligibility_state,
														sv->terminal_outcome));
}

bool
ff_exec_is(const FFExecRow *row, const char *lifecycle_phase)
{
	return strcmp(row->sv.lifecycle_phase, lifecycle_phase) == 0;
}

static bool
in_alphabet(const char *value, const char *const *alphabet)
{
	for (; *alphabet; alphabet++)
		if (strcmp(value, *alphabet) == 0)
			return true;
	return false;
}

static const char *const lifecycle_phases[] = {
	"submitted", "runnable", "active", "suspended", "terminal", NULL
};
static const char *const ownership_states[] = {
	"unowned", "leased", "lease_expired_reclaimable", "lease_revoked", NULL
};
static const char *const eligibility_states[] = {
	"eligible_now", "not_eligible_until_time", "blocked_by_dependencies", "blocked_by_budget",
	"blocked_by_quota", "blocked_by_route", "blocked_by_lane_state", "blocked_by_operator",
	"not_applicable", NULL
};
static const char *const blocking_reasons[] = {
	"none", "waiting_for_worker", "waiting_for_retry_backoff", "waiting_for_resume_delay",
	"waiting_for_delay", "waiting_for_signal", "waiting_for_approval", "waiting_for_callback",
	"waiting_for_tool_result", "waiting_for_children", "waiting_for_budget", "waiting_for_quota",
	"waiting_for_capable_worker", "waiting_for_locality_match", "paused_by_operator",
	"paused_by_policy", "paused_by_flow_cancel", NULL
};
static const char *const terminal_outcomes[] = {
	"none", "success", "failed", "cancelled", "expired", "skipped", NULL
};
static const char *const attempt_states[] = {
	"none", "pending_first_attempt", "running_attempt", "attempt_interrupted",
	"pending_retry_attempt", "pending_replay_attempt", "attempt_terminal", NULL
};
static const char *const attempt_types[] = {
	"initial", "retry", "reclaim", "replay", "fallback", NULL
};
static const char *const attempt_lifecycles[] = {
	"created", "started", "suspended", "ended_success", "ended_failure", "ended_cancelled",
	"interrupted_reclaimed", NULL
};

/*
 * ff_intern_literal maps a stored state value to the engine's own constant,
 * so state comparisons and the row structs never hold SPI memory.
 */
const char *
ff_intern_literal(const char *value)
{
	static const char *const *const alphabets[] = {
		lifecycle_phases, ownership_states, eligibility_states, blocking_reasons,
		terminal_outcomes, attempt_states, attempt_types, attempt_lifecycles
	};

	for (size_t i = 0; i < lengthof(alphabets); i++)
		for (const char *const *v = alphabets[i]; *v; v++)
			if (strcmp(*v, value) == 0)
				return *v;
	ereport(ERROR,
			(errcode(ERRCODE_FF_CORRUPTION),
			 errmsg("corruption: unknown state value \"%s\"", value)));
	return NULL;				/* keep compiler quiet */
}

/*
 * The CHECK constraints of the hot tables call these C functions instead of
 * holding IN lists and ranges: PostgreSQL re-reads and re-plans a table's CHECK
 * expressions in every statement that writes the table, and a function call
 * over a few columns is the cheapest expression to re-read (measured: 11 to
 * 13% of a claim, completion or create; docs/performance.md).
 */
static const char *const lease_event_types[] = {
	"acquired", "renewed", "released", "expired", "revoked", "reclaimed", NULL
};

/*
 * state_vector_valid: every dimension in its alphabet, public_state the
 * derived one, and terminal exactly when there is a terminal outcome; the
 * seven text arguments of fcinfo from argument `first` on.
 */
static bool
state_vector_valid(FunctionCallInfo fcinfo, int first)
{
	char	   *phase = text_to_cstring(PG_GETARG_TEXT_PP(first));
	char	   *eligibility = text_to_cstring(PG_GETARG_TEXT_PP(first + 2));
	char	   *outcome = text_to_cstring(PG_GETARG_TEXT_PP(first + 4));

	return in_alphabet(phase, lifecycle_phases) &&
		in_alphabet(text_to_cstring(PG_GETARG_TEXT_PP(first + 1)), ownership_states) &&
		in_alphabet(eligibility, eligibility_states) &&
		in_alphabet(text_to_cstring(PG_GETARG_TEXT_PP(first + 3)), blocking_reasons) &&
		in_alphabet(outcome, terminal_outcomes) &&
		in_alphabet(text_to_cstring(PG_GETARG_TEXT_PP(first + 5)), attempt_states) &&
		strcmp(text_to_cstring(PG_GETARG_TEXT_PP(first + 6)),
			   ff_derive_public_state(phase, eligibility, outcome)) == 0 &&
		(strcmp(phase, "terminal") == 0) == (strcmp(outcome, "none") != 0);
}

PG_FUNCTION_INFO_V1(ff_state_vector_valid_sql);
Datum
ff_state_vector_valid_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(state_vector_valid(fcinfo, 0));
}

/*
 * ff_execution_row_valid backs ff_execution's CHECK constraint: the
 * partition key and priority in range, and a well-formed state vector.
 */
PG_FUNCTION_INFO_V1(ff_execution_row_valid_sql);
Datum
ff_execution_row_valid_sql(PG_FUNCTION_ARGS)
{
	int16		partition = PG_GETARG_INT16(0);
	int32		priority = PG_GETARG_INT32(1);

	PG_RETURN_BOOL(partition >= 0 && partition < FF_NUM_FLOW_PARTITIONS &&
				   priority >= 0 && priority <= FF_PRIORITY_MAX &&
				   state_vector_valid(fcinfo, 2));
}

/* ff_attempt_state_valid backs ff_attempt's CHECK constraint. */
PG_FUNCTION_INFO_V1(ff_attempt_state_valid_sql);
Datum
ff_attempt_state_valid_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(in_alphabet(text_to_cstring(PG_GETARG_TEXT_PP(0)), attempt_types) &&
				   in_alphabet(text_to_cstring(PG_GETARG_TEXT_PP(1)), attempt_lifecycles));
}

/* ff_lease_event_type_valid backs ff_lease_event's CHECK constraint. */
PG_FUNCTION_INFO_V1(ff_lease_event_type_valid_sql);
Datum
ff_lease_event_type_valid_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(in_alphabet(text_to_cstring(PG_GETARG_TEXT_PP(0)), lease_event_types));
}

/*
 * ff_completion_outcome_valid backs ff_completion_event's CHECK constraint:
 * a terminal outcome (never "none").
 */
PG_FUNCTION_INFO_V1(ff_completion_outcome_valid_sql);
Datum
ff_completion_outcome_valid_sql(PG_FUNCTION_ARGS)
{
	char	   *outcome = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_BOOL(strcmp(outcome, "none") != 0 && in_alphabet(outcome, terminal_outcomes));
}

PG_FUNCTION_INFO_V1(ff_derive_public_state_sql);
Datum
ff_derive_public_state_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(
		ff_derive_public_state(text_to_cstring(PG_GETARG_TEXT_PP(0)),
							   text_to_cstring(PG_GETARG_TEXT_PP(1)),
							   text_to_cstring(PG_GETARG_TEXT_PP(2)))));
}

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

bool
ff_exec_is(const FFExecRow *row, const char *lifecycle_phase)
{
	return strcmp(row->sv.lifecycle_phase, lifecycle_phase) == 0;
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

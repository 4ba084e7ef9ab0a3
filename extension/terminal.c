/*
 * terminal.c
 *		Transitions shared by the worker calls and the reconcilers: finishing
 *		an execution, and deciding and scheduling a retry.
 */
#include "postgres.h"

#include "budget.h"
#include "flowfabric.h"
#include "flow.h"
#include "suspend.h"

/*
 * ff_finish_execution makes the execution terminal with the given vector and
 * publishes its completion event. The caller has already ended the attempt.
 */
void
ff_finish_execution(FFExecRow *exec, const FFStateVector *sv, const char *outcome, int64 now)
{
	const char *attempt_state = exec->sv.attempt_state;

	ff_exec_set_state(exec, sv);
	/* an execution that never ran keeps its pending attempt state */
	if (exec->total_attempt_count == 0)
		exec->sv.attempt_state = attempt_state;
	exec->terminal_at_ms = now;
	exec->last_mutation_at_ms = now;
	exec->delay_until_ms = FF_NULL_MS;
	exec->blocking_detail = NULL;
	ff_exec_store(exec);
	/* budgets and quotas forget it, its quota slot frees (budget_admission.c) */
	ff_admission_on_terminal(exec, now);
	/* a suspension and waitpoints still open close with it */
	ff_suspend_on_terminal(exec, outcome, now);
	ff_emit_completion(exec, outcome, now);
	/* a flow member's downstream edges advance in this same transaction */
	if (exec->has_flow)
		ff_flow_member_terminal(exec, outcome, now);
}

/* ff_record_failure notes why the attempt (if any) and the execution failed. */
void
ff_record_failure(FFExecRow *exec, FFAttemptRow *attempt, const char *message,
				  const char *category)
{
	if (attempt)
	{
		attempt->failure_message = pstrdup(message);
		attempt->failure_category = pstrdup(category);
	}
	exec->last_failure_message = pstrdup(message);
	exec->last_failure_category = pstrdup(category);
}

/*
 * ff_retry_decision returns when the next attempt may start if the policy
 * retries a failure of this category, else FF_NULL_MS.
 */
int64
ff_retry_decision(const FFExecRow *exec, const char *category, int64 now)
{
	FFPolicy	policy;

	ff_policy_parse(exec->policy, &policy);
	if (!ff_policy_should_retry(&policy, category, exec->retry_count))
		return FF_NULL_MS;
	return now + ff_policy_backoff_ms(&policy, exec->retry_count);
}

/*
 * ff_schedule_retry puts the execution back in line for a retry attempt:
 * delayed until the backoff elapses, or claimable at once without one.
 */
void
ff_schedule_retry(FFExecRow *exec, int64 delay_until, int64 now)
{
	exec->retry_count++;
	if (delay_until > now)
	{
		ff_exec_set_state(exec, &ff_sv_retry_backoff);
		exec->delay_until_ms = delay_until;
		exec->blocking_detail = psprintf("retry backoff until %lld (attempt %d failed: %s)",
										 (long long) delay_until, exec->attempt_index,
										 exec->last_failure_message ? exec->last_failure_message : "");
	}
	else
	{
		ff_exec_set_state(exec, &ff_sv_retry_now);
		exec->delay_until_ms = FF_NULL_MS;
		exec->blocking_detail = NULL;
	}
	exec->last_mutation_at_ms = now;
	ff_exec_store(exec);
}

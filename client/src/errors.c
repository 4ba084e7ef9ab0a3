/*
 * errors.c - error kinds: the SQLSTATE -> ff_status mapping (the whole YF
 * table of docs/error-codes.md, reserved codes included), kind names, and the
 * client retry rule.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct ffc_kind
{
	ff_status	status;
	const char *sqlstate;		/* NULL for client-side kinds */
	const char *name;
} ffc_kind;

static const ffc_kind kinds[] = {
	{FF_OK, NULL, "ok"},
	{FF_ERR_CONNECTION, NULL, "connection"},
	{FF_ERR_USAGE, NULL, "usage"},
	{FF_ERR_OUT_OF_MEMORY, NULL, "out_of_memory"},
	{FF_ERR_PROTOCOL, NULL, "protocol"},
	{FF_ERR_SERIALIZATION_FAILURE, NULL, "serialization_failure"},
	{FF_ERR_DEADLOCK, NULL, "deadlock_detected"},
	{FF_ERR_PERMISSION_DENIED, NULL, "permission_denied"},
	{FF_ERR_POSTGRES, NULL, "postgres_error"},
	{FF_ERR_ENGINE_UNKNOWN, NULL, "unknown_engine_error"},

	{FF_ERR_NOT_FOUND, "YFN00", "not_found"},
	{FF_ERR_EXECUTION_NOT_FOUND, "YFN01", "execution_not_found"},
	{FF_ERR_FLOW_NOT_FOUND, "YFN02", "flow_not_found"},
	{FF_ERR_ATTEMPT_NOT_FOUND, "YFN03", "attempt_not_found"},
	{FF_ERR_BUDGET_NOT_FOUND, "YFN04", "budget_not_found"},
	{FF_ERR_QUOTA_POLICY_NOT_FOUND, "YFN05", "quota_policy_not_found"},
	{FF_ERR_STREAM_NOT_FOUND, "YFN06", "stream_not_found"},
	{FF_ERR_WAITPOINT_NOT_FOUND, "YFN07", "waitpoint_not_found"},
	{FF_ERR_SUSPENSION_NOT_FOUND, "YFN08", "suspension_not_found"},

	{FF_ERR_INVALID_INPUT, "YFV01", "invalid_input"},
	{FF_ERR_CAPABILITY_MISMATCH, "YFV02", "capability_mismatch"},
	{FF_ERR_INVALID_CAPABILITIES, "YFV03", "invalid_capabilities"},
	{FF_ERR_INVALID_POLICY_JSON, "YFV04", "invalid_policy_json"},
	{FF_ERR_PAYLOAD_TOO_LARGE, "YFV05", "payload_too_large"},
	{FF_ERR_SIGNAL_LIMIT_EXCEEDED, "YFV06", "signal_limit_exceeded"},
	{FF_ERR_INVALID_WAITPOINT_KEY, "YFV07", "invalid_waitpoint_key"},
	{FF_ERR_INVALID_TOKEN, "YFV08", "invalid_token"},
	{FF_ERR_WAITPOINT_NOT_TOKEN_BOUND, "YFV09", "waitpoint_not_token_bound"},
	{FF_ERR_RETENTION_LIMIT_EXCEEDED, "YFV10", "retention_limit_exceeded"},
	{FF_ERR_INVALID_LEASE_FOR_SUSPEND, "YFV11", "invalid_lease_for_suspend"},
	{FF_ERR_INVALID_DEPENDENCY, "YFV12", "invalid_dependency"},
	{FF_ERR_INVALID_WAITPOINT_FOR_EXECUTION, "YFV13", "invalid_waitpoint_for_execution"},
	{FF_ERR_INVALID_BLOCKING_REASON, "YFV14", "invalid_blocking_reason"},
	{FF_ERR_INVALID_OFFSET, "YFV15", "invalid_offset"},
	{FF_ERR_UNAUTHORIZED, "YFV16", "unauthorized"},
	{FF_ERR_INVALID_BUDGET_SCOPE, "YFV17", "invalid_budget_scope"},
	{FF_ERR_BUDGET_OVERRIDE_NOT_ALLOWED, "YFV18", "budget_override_not_allowed"},
	{FF_ERR_INVALID_QUOTA_SPEC, "YFV19", "invalid_quota_spec"},
	{FF_ERR_INVALID_KID, "YFV20", "invalid_kid"},
	{FF_ERR_INVALID_SECRET_HEX, "YFV21", "invalid_secret_hex"},
	{FF_ERR_INVALID_GRACE_MS, "YFV22", "invalid_grace_ms"},
	{FF_ERR_INVALID_TAG_KEY, "YFV23", "invalid_tag_key"},
	{FF_ERR_INVALID_FRAME_TYPE, "YFV24", "invalid_frame_type"},
	{FF_ERR_CORRUPTION, "YFV25", "corruption"},
	{FF_ERR_HANDLE_FROM_OTHER_BACKEND, "YFV26", "handle_from_other_backend"},
	{FF_ERR_TOKEN_EXPIRED, "YFV27", "token_expired"},

	{FF_ERR_USE_CLAIM_RESUMED_EXECUTION, "YFC01", "use_claim_resumed_execution"},
	{FF_ERR_NOT_A_RESUMED_EXECUTION, "YFC02", "not_a_resumed_execution"},
	{FF_ERR_EXECUTION_NOT_LEASEABLE, "YFC03", "execution_not_leaseable"},
	{FF_ERR_LEASE_CONFLICT, "YFC04", "lease_conflict"},
	{FF_ERR_INVALID_CLAIM_GRANT, "YFC05", "invalid_claim_grant"},
	{FF_ERR_CLAIM_GRANT_EXPIRED, "YFC06", "claim_grant_expired"},
	{FF_ERR_NO_ELIGIBLE_EXECUTION, "YFC07", "no_eligible_execution"},
	{FF_ERR_WAITPOINT_NOT_FOUND_YET, "YFC08", "waitpoint_not_found"},
	{FF_ERR_WAITPOINT_PENDING_USE_BUFFER_SCRIPT, "YFC09", "waitpoint_pending_use_buffer_script"},
	{FF_ERR_STALE_GRAPH_REVISION, "YFC10", "stale_graph_revision"},
	{FF_ERR_EXECUTION_NOT_ACTIVE, "YFC11", "execution_not_active"},
	{FF_ERR_EXECUTION_NOT_ELIGIBLE, "YFC12", "execution_not_eligible"},
	{FF_ERR_EXECUTION_NOT_IN_ELIGIBLE_SET, "YFC13", "execution_not_in_eligible_set"},
	{FF_ERR_EXECUTION_NOT_RECLAIMABLE, "YFC14", "execution_not_reclaimable"},
	{FF_ERR_NO_ACTIVE_LEASE, "YFC15", "no_active_lease"},
	{FF_ERR_RATE_LIMIT_EXCEEDED, "YFC16", "rate_limit_exceeded"},
	{FF_ERR_CONCURRENCY_LIMIT_EXCEEDED, "YFC17", "concurrency_limit_exceeded"},
	{FF_ERR_RETRY_EXHAUSTED, "YFC18", "retry_exhausted"},

	{FF_ERR_DEPENDENCY_ALREADY_EXISTS, "YFK01", "dependency_already_exists"},
	{FF_ERR_CYCLE_DETECTED, "YFK02", "cycle_detected"},
	{FF_ERR_SELF_REFERENCING_EDGE, "YFK03", "self_referencing_edge"},
	{FF_ERR_EXECUTION_ALREADY_IN_FLOW, "YFK04", "execution_already_in_flow"},
	{FF_ERR_WAITPOINT_ALREADY_EXISTS, "YFK05", "waitpoint_already_exists"},
	{FF_ERR_BUDGET_ATTACH_CONFLICT, "YFK06", "budget_attach_conflict"},
	{FF_ERR_QUOTA_ATTACH_CONFLICT, "YFK07", "quota_attach_conflict"},
	{FF_ERR_ROTATION_CONFLICT, "YFK08", "rotation_conflict"},
	{FF_ERR_ACTIVE_ATTEMPT_EXISTS, "YFK09", "active_attempt_exists"},

	{FF_ERR_STALE_LEASE, "YFS01", "stale_lease"},
	{FF_ERR_LEASE_EXPIRED, "YFS02", "lease_expired"},
	{FF_ERR_LEASE_REVOKED, "YFS03", "lease_revoked"},
	{FF_ERR_EXECUTION_NOT_SUSPENDED, "YFS04", "execution_not_suspended"},
	{FF_ERR_ALREADY_SUSPENDED, "YFS05", "already_suspended"},
	{FF_ERR_WAITPOINT_CLOSED, "YFS06", "waitpoint_closed"},
	{FF_ERR_TARGET_NOT_SIGNALABLE, "YFS07", "target_not_signalable"},
	{FF_ERR_DUPLICATE_SIGNAL, "YFS08", "duplicate_signal"},
	{FF_ERR_RESUME_CONDITION_NOT_MET, "YFS09", "resume_condition_not_met"},
	{FF_ERR_WAITPOINT_NOT_PENDING, "YFS10", "waitpoint_not_pending"},
	{FF_ERR_PENDING_WAITPOINT_EXPIRED, "YFS11", "pending_waitpoint_expired"},
	{FF_ERR_WAITPOINT_NOT_OPEN, "YFS12", "waitpoint_not_open"},
	{FF_ERR_EXECUTION_NOT_TERMINAL, "YFS13", "execution_not_terminal"},
	{FF_ERR_MAX_REPLAYS_EXHAUSTED, "YFS14", "max_replays_exhausted"},
	{FF_ERR_STREAM_CLOSED, "YFS15", "stream_closed"},
	{FF_ERR_STALE_OWNER_CANNOT_APPEND, "YFS16", "stale_owner_cannot_append"},
	{FF_ERR_GRANT_ALREADY_EXISTS, "YFS17", "grant_already_exists"},
	{FF_ERR_EXECUTION_NOT_IN_FLOW, "YFS18", "execution_not_in_flow"},
	{FF_ERR_FLOW_ALREADY_TERMINAL, "YFS19", "flow_already_terminal"},
	{FF_ERR_DEPS_NOT_SATISFIED, "YFS20", "deps_not_satisfied"},
	{FF_ERR_NOT_BLOCKED_BY_DEPS, "YFS21", "not_blocked_by_deps"},
	{FF_ERR_NOT_RUNNABLE, "YFS22", "not_runnable"},
	{FF_ERR_TERMINAL, "YFS23", "terminal"},
	{FF_ERR_BUDGET_EXCEEDED, "YFS24", "budget_exceeded"},
	{FF_ERR_BUDGET_SOFT_EXCEEDED, "YFS25", "budget_soft_exceeded"},
	{FF_ERR_OK_ALREADY_APPLIED, "YFS26", "ok_already_applied"},
	{FF_ERR_ATTEMPT_NOT_STARTED, "YFS27", "attempt_not_started"},
	{FF_ERR_ATTEMPT_ALREADY_TERMINAL, "YFS28", "attempt_already_terminal"},
	{FF_ERR_EXECUTION_NOT_ELIGIBLE_FOR_ATTEMPT, "YFS29", "execution_not_eligible_for_attempt"},
	{FF_ERR_REPLAY_NOT_ALLOWED, "YFS30", "replay_not_allowed"},
	{FF_ERR_MAX_RETRIES_EXHAUSTED, "YFS31", "max_retries_exhausted"},
	{FF_ERR_STREAM_ALREADY_CLOSED, "YFS32", "stream_already_closed"},
	{FF_ERR_ALREADY_SATISFIED, "YFS33", "already_satisfied"},

	{FF_ERR_ATTEMPT_NOT_IN_CREATED_STATE, "YFB01", "attempt_not_in_created_state"},

	{FF_ERR_UNAVAILABLE, "YFU00", "unavailable"},
	{FF_ERR_SCHEMA_VERSION, "YFU01", "schema_version"},

	{FF_ERR_RESOURCE_EXHAUSTED, "YFR01", "resource_exhausted"},

	{FF_ERR_TIMEOUT, "YFT01", "timeout"},
};

#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

static const ffc_kind *
find_kind(ff_status s)
{
	for (size_t i = 0; i < N_KINDS; i++)
		if (kinds[i].status == s)
			return &kinds[i];
	return NULL;
}

const char *
ff_status_name(ff_status s)
{
	const ffc_kind *k = find_kind(s);

	return k ? k->name : "unknown";
}

const char *
ff_status_sqlstate(ff_status s)
{
	const ffc_kind *k = find_kind(s);

	return k ? k->sqlstate : NULL;
}

char
ff_status_category(ff_status s)
{
	const char *code = ff_status_sqlstate(s);

	return code ? code[2] : 0;
}

static bool
valid_sqlstate(const char *s)
{
	if (s == NULL || strlen(s) != 5)
		return false;
	for (int i = 0; i < 5; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	return true;
}

bool
ffc_sqlstate_is_connection(const char *s)
{
	if (!valid_sqlstate(s))
		return true;			/* no SQLSTATE: libpq-side failure */
	return strncmp(s, "08", 2) == 0 || strncmp(s, "53", 2) == 0 ||
		strncmp(s, "58", 2) == 0 || strcmp(s, "57P01") == 0 ||
		strcmp(s, "57P02") == 0 || strcmp(s, "57P03") == 0;
}

ff_status
ff_status_from_sqlstate(const char *s)
{
	if (!valid_sqlstate(s))
		return FF_ERR_CONNECTION;
	if (s[0] == 'Y' && s[1] == 'F')
	{
		for (size_t i = 0; i < N_KINDS; i++)
			if (kinds[i].sqlstate && strcmp(kinds[i].sqlstate, s) == 0)
				return kinds[i].status;
		return FF_ERR_ENGINE_UNKNOWN;
	}
	if (ffc_sqlstate_is_connection(s))
		return FF_ERR_CONNECTION;
	if (strcmp(s, "40001") == 0)
		return FF_ERR_SERIALIZATION_FAILURE;
	if (strcmp(s, "40P01") == 0)
		return FF_ERR_DEADLOCK;
	if (strcmp(s, "57014") == 0)
		return FF_ERR_TIMEOUT;
	if (strcmp(s, "42501") == 0)
		return FF_ERR_PERMISSION_DENIED;
	if (strcmp(s, "42883") == 0 || strcmp(s, "42P01") == 0 || strcmp(s, "3F000") == 0)
		return FF_ERR_SCHEMA_VERSION;
	if (strncmp(s, "22", 2) == 0)
		return FF_ERR_INVALID_INPUT;
	return FF_ERR_POSTGRES;
}

bool
ff_sqlstate_is_retryable(const char *s)
{
	if (!valid_sqlstate(s))
		return false;
	return strncmp(s, "YFC", 3) == 0 || strncmp(s, "YFR", 3) == 0 ||
		strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0 ||
		strncmp(s, "08", 2) == 0;
}

bool
ff_status_is_retryable(ff_status s)
{
	char		cat = ff_status_category(s);

	return s == FF_ERR_CONNECTION || s == FF_ERR_SERIALIZATION_FAILURE ||
		s == FF_ERR_DEADLOCK || cat == 'C' || cat == 'R';
}

bool
ff_status_is_lease_lost(ff_status s)
{
	return s == FF_ERR_STALE_LEASE || s == FF_ERR_LEASE_EXPIRED ||
		s == FF_ERR_LEASE_REVOKED || s == FF_ERR_EXECUTION_NOT_ACTIVE ||
		s == FF_ERR_STALE_OWNER_CANNOT_APPEND;
}

void
ff_error_clear(ff_error *err)
{
	if (err == NULL)
		return;
	free(err->message);
	free(err->detail);
	free(err->hint);
	memset(err, 0, sizeof(*err));
}

ff_status
ff_error_copy(ff_error *dst, const ff_error *src)
{
	if (dst == NULL || src == NULL)
		return FF_ERR_USAGE;
	if (dst == src)
		return FF_OK;
	ffc_error_set(dst, src->kind, src->sqlstate, src->message, src->detail, src->hint);
	if (src->kind != FF_ERR_OUT_OF_MEMORY && dst->kind == FF_ERR_OUT_OF_MEMORY)
		return FF_ERR_OUT_OF_MEMORY;
	dst->retryable = src->retryable;
	return FF_OK;
}

/*
 * Fills *err (cleared first). Returns kind, or FF_ERR_OUT_OF_MEMORY if the
 * strings could not be copied (then err holds kind FF_ERR_OUT_OF_MEMORY with
 * a static-free NULL message).
 */
ff_status
ffc_error_set(ff_error *err, ff_status kind, const char *sqlstate, const char *message,
			  const char *detail, const char *hint)
{
	ff_error_clear(err);
	err->kind = kind;
	if (kind == FF_OK)
		return FF_OK;
	if (valid_sqlstate(sqlstate))
		memcpy(err->sqlstate, sqlstate, 6);
	if (err->sqlstate[0])
		err->retryable = ff_sqlstate_is_retryable(err->sqlstate) ||
			ff_status_is_retryable(kind);
	else
		err->retryable = ff_status_is_retryable(kind);
	err->message = ffc_strdup(message ? message : ff_status_name(kind));
	if (detail)
		err->detail = ffc_strdup(detail);
	if (hint)
		err->hint = ffc_strdup(hint);
	if (err->message == NULL || (detail && err->detail == NULL) || (hint && err->hint == NULL))
	{
		ff_error_clear(err);
		err->kind = FF_ERR_OUT_OF_MEMORY;
		return FF_ERR_OUT_OF_MEMORY;
	}
	return kind;
}

/*
 * errors.h
 *		flowfabric's SQLSTATEs: one private class "YF", the third character
 *		the error category, the last two the kind (docs/error-codes.md).
 *
 * Every engine error is raised as
 *		ereport(ERROR, errcode(ERRCODE_FF_xxx), errmsg("<kind>: <what happened>"), ...)
 * so a caller can branch on the SQLSTATE and a human reads the kind first.
 */
#ifndef FLOWFABRIC_ERRORS_H
#define FLOWFABRIC_ERRORS_H

#define FF_SQLSTATE(cat, d1, d2)	MAKE_SQLSTATE('Y', 'F', cat, d1, d2)

/* NotFound (N) */
#define ERRCODE_FF_NOT_FOUND					FF_SQLSTATE('N', '0', '0')
#define ERRCODE_FF_EXECUTION_NOT_FOUND			FF_SQLSTATE('N', '0', '1')
#define ERRCODE_FF_FLOW_NOT_FOUND				FF_SQLSTATE('N', '0', '2')
#define ERRCODE_FF_ATTEMPT_NOT_FOUND			FF_SQLSTATE('N', '0', '3')
#define ERRCODE_FF_BUDGET_NOT_FOUND				FF_SQLSTATE('N', '0', '4')
#define ERRCODE_FF_QUOTA_POLICY_NOT_FOUND		FF_SQLSTATE('N', '0', '5')
#define ERRCODE_FF_STREAM_NOT_FOUND				FF_SQLSTATE('N', '0', '6')

/* Validation (V): the caller's input is wrong; never retry unchanged */
#define ERRCODE_FF_INVALID_INPUT				FF_SQLSTATE('V', '0', '1')
#define ERRCODE_FF_CAPABILITY_MISMATCH			FF_SQLSTATE('V', '0', '2')
#define ERRCODE_FF_INVALID_CAPABILITIES			FF_SQLSTATE('V', '0', '3')
#define ERRCODE_FF_INVALID_POLICY_JSON			FF_SQLSTATE('V', '0', '4')
#define ERRCODE_FF_PAYLOAD_TOO_LARGE			FF_SQLSTATE('V', '0', '5')
#define ERRCODE_FF_SIGNAL_LIMIT_EXCEEDED		FF_SQLSTATE('V', '0', '6')
#define ERRCODE_FF_INVALID_WAITPOINT_KEY		FF_SQLSTATE('V', '0', '7')
#define ERRCODE_FF_INVALID_TOKEN				FF_SQLSTATE('V', '0', '8')
#define ERRCODE_FF_RETENTION_LIMIT_EXCEEDED		FF_SQLSTATE('V', '1', '0')
#define ERRCODE_FF_INVALID_WAITPOINT_FOR_EXECUTION	FF_SQLSTATE('V', '1', '3')
#define ERRCODE_FF_INVALID_BLOCKING_REASON		FF_SQLSTATE('V', '1', '4')
#define ERRCODE_FF_INVALID_OFFSET				FF_SQLSTATE('V', '1', '5')
#define ERRCODE_FF_INVALID_BUDGET_SCOPE			FF_SQLSTATE('V', '1', '7')
#define ERRCODE_FF_INVALID_QUOTA_SPEC			FF_SQLSTATE('V', '1', '9')
#define ERRCODE_FF_INVALID_KID					FF_SQLSTATE('V', '2', '0')
#define ERRCODE_FF_INVALID_SECRET_HEX			FF_SQLSTATE('V', '2', '1')
#define ERRCODE_FF_INVALID_GRACE_MS				FF_SQLSTATE('V', '2', '2')
#define ERRCODE_FF_INVALID_TAG_KEY				FF_SQLSTATE('V', '2', '3')
#define ERRCODE_FF_INVALID_FRAME_TYPE			FF_SQLSTATE('V', '2', '4')
#define ERRCODE_FF_CORRUPTION					FF_SQLSTATE('V', '2', '5')
#define ERRCODE_FF_HANDLE_FROM_OTHER_BACKEND	FF_SQLSTATE('V', '2', '6')
#define ERRCODE_FF_TOKEN_EXPIRED				FF_SQLSTATE('V', '2', '7')	/* not in spec E's table */

/* Contention (C): retryable */
#define ERRCODE_FF_NOT_A_RESUMED_EXECUTION		FF_SQLSTATE('C', '0', '2')
#define ERRCODE_FF_EXECUTION_NOT_LEASEABLE		FF_SQLSTATE('C', '0', '3')
#define ERRCODE_FF_LEASE_CONFLICT				FF_SQLSTATE('C', '0', '4')
#define ERRCODE_FF_INVALID_CLAIM_GRANT			FF_SQLSTATE('C', '0', '5')
#define ERRCODE_FF_CLAIM_GRANT_EXPIRED			FF_SQLSTATE('C', '0', '6')
#define ERRCODE_FF_WAITPOINT_NOT_FOUND			FF_SQLSTATE('C', '0', '8')
#define ERRCODE_FF_STALE_GRAPH_REVISION			FF_SQLSTATE('C', '1', '0')
#define ERRCODE_FF_EXECUTION_NOT_ACTIVE			FF_SQLSTATE('C', '1', '1')
#define ERRCODE_FF_EXECUTION_NOT_ELIGIBLE		FF_SQLSTATE('C', '1', '2')
#define ERRCODE_FF_EXECUTION_NOT_RECLAIMABLE	FF_SQLSTATE('C', '1', '4')

/* Conflict (K): the request contradicts what exists; never retry unchanged */
#define ERRCODE_FF_DEPENDENCY_ALREADY_EXISTS	FF_SQLSTATE('K', '0', '1')
#define ERRCODE_FF_CYCLE_DETECTED				FF_SQLSTATE('K', '0', '2')
#define ERRCODE_FF_SELF_REFERENCING_EDGE		FF_SQLSTATE('K', '0', '3')
#define ERRCODE_FF_EXECUTION_ALREADY_IN_FLOW	FF_SQLSTATE('K', '0', '4')
#define ERRCODE_FF_WAITPOINT_ALREADY_EXISTS		FF_SQLSTATE('K', '0', '5')
#define ERRCODE_FF_ROTATION_CONFLICT			FF_SQLSTATE('K', '0', '8')

/* State (S): the lease or execution moved on */
#define ERRCODE_FF_STALE_LEASE					FF_SQLSTATE('S', '0', '1')
#define ERRCODE_FF_LEASE_EXPIRED				FF_SQLSTATE('S', '0', '2')
#define ERRCODE_FF_LEASE_REVOKED				FF_SQLSTATE('S', '0', '3')
#define ERRCODE_FF_EXECUTION_NOT_SUSPENDED		FF_SQLSTATE('S', '0', '4')
#define ERRCODE_FF_ALREADY_SUSPENDED			FF_SQLSTATE('S', '0', '5')
#define ERRCODE_FF_WAITPOINT_CLOSED				FF_SQLSTATE('S', '0', '6')
#define ERRCODE_FF_TARGET_NOT_SIGNALABLE		FF_SQLSTATE('S', '0', '7')
#define ERRCODE_FF_WAITPOINT_NOT_PENDING		FF_SQLSTATE('S', '1', '0')
#define ERRCODE_FF_PENDING_WAITPOINT_EXPIRED	FF_SQLSTATE('S', '1', '1')
#define ERRCODE_FF_EXECUTION_NOT_TERMINAL		FF_SQLSTATE('S', '1', '3')
#define ERRCODE_FF_MAX_REPLAYS_EXHAUSTED		FF_SQLSTATE('S', '1', '4')
#define ERRCODE_FF_STREAM_CLOSED				FF_SQLSTATE('S', '1', '5')
#define ERRCODE_FF_STALE_OWNER_CANNOT_APPEND	FF_SQLSTATE('S', '1', '6')
#define ERRCODE_FF_GRANT_ALREADY_EXISTS			FF_SQLSTATE('S', '1', '7')
#define ERRCODE_FF_EXECUTION_NOT_IN_FLOW		FF_SQLSTATE('S', '1', '8')
#define ERRCODE_FF_FLOW_ALREADY_TERMINAL		FF_SQLSTATE('S', '1', '9')
#define ERRCODE_FF_TERMINAL						FF_SQLSTATE('S', '2', '3')
#define ERRCODE_FF_REPLAY_NOT_ALLOWED			FF_SQLSTATE('S', '3', '0')

/* Shorthand for the common case: kind prefix, one formatted sentence. */
#define ff_error(code, kind, ...) \
	ereport(ERROR, (errcode(code), errmsg(kind ": " __VA_ARGS__)))

#endif							/* FLOWFABRIC_ERRORS_H */

/*
 * flowfabric.h - libflowfabric, the C client library of the flowfabric
 * durable-execution engine (PostgreSQL extension), built on libpq.
 *
 * This is the only header a program includes. Reference: docs/c-api.md.
 *
 * Conventions (details in docs/c-api.md):
 *   - Every operation is one function returning an ff_status: FF_OK (0) or an
 *     error kind. The full error (SQLSTATE, server message, detail, hint,
 *     retryable flag) is available from ff_client_last_error() until the next
 *     call on the same client.
 *   - Execution ids are NUL-terminated strings; handles are opaque byte
 *     buffers (ff_handle); payloads are byte buffers (ff_bytes); points in time
 *     and durations are int64_t milliseconds (engine clock, Unix epoch).
 *   - Argument structs are zero-initialised by the caller ({0}): a zero or NULL
 *     member means "the engine's default" unless documented otherwise.
 *   - Everything the library returns in a result struct is owned by the caller
 *     and released with that struct's ff_*_clear() function, which also
 *     zeroes it (clearing twice is harmless). Results are only written on
 *     FF_OK; on error they are left zeroed.
 *   - An ff_client is one libpq connection and must not be used by two threads
 *     at the same time. Use one ff_client per thread.
 *   - No function aborts the process: out-of-memory and misuse are reported as
 *     FF_ERR_OUT_OF_MEMORY and FF_ERR_USAGE.
 */
#ifndef FLOWFABRIC_CLIENT_H
#define FLOWFABRIC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define FF_API __attribute__((visibility("default")))
#else
#define FF_API
#endif

#define FF_CLIENT_VERSION_MAJOR 0
#define FF_CLIENT_VERSION_MINOR 1
#define FF_CLIENT_VERSION_PATCH 0
#define FF_CLIENT_VERSION "0.1.0"

/* ========================================================================
 * Status and error kinds
 *
 * Values are stable (ABI): client-side kinds below 100; kinds of the engine's
 * SQLSTATE class YF are numbered by category (N=200, V=300, C=400, K=500,
 * S=600, B=700, U=800, R=900, T=1000) plus the code's two digits, so
 * YFS01 stale_lease is 601. The whole YF table of docs/error-codes.md is
 * mapped, reserved codes included.
 * ======================================================================== */
typedef enum ff_status
{
	FF_OK = 0,

	/* Client side and PostgreSQL errors outside the YF class */
	FF_ERR_CONNECTION = 1,			/* could not connect, or the connection broke
									 * (SQLSTATE class 08, 53, 57P01-57P03, 58, or
									 * no SQLSTATE); retryable */
	FF_ERR_USAGE = 2,				/* the caller broke the API contract (NULL
									 * required pointer, wrong subscription kind) */
	FF_ERR_OUT_OF_MEMORY = 3,
	FF_ERR_PROTOCOL = 4,			/* the server's reply did not have the expected
									 * shape (extension version mismatch?) */
	FF_ERR_SERIALIZATION_FAILURE = 5,	/* 40001 inside your own transaction:
										 * retry the whole transaction */
	FF_ERR_DEADLOCK = 6,			/* 40P01 inside your own transaction */
	FF_ERR_PERMISSION_DENIED = 7,	/* 42501 */
	FF_ERR_POSTGRES = 8,			/* any other PostgreSQL error (see sqlstate) */
	FF_ERR_ENGINE_UNKNOWN = 9,		/* a YF SQLSTATE this library does not know */

	/* NotFound (YFN..), not retryable */
	FF_ERR_NOT_FOUND = 200,			/* YFN00 */
	FF_ERR_EXECUTION_NOT_FOUND = 201,	/* YFN01 */
	FF_ERR_FLOW_NOT_FOUND = 202,	/* YFN02 */
	FF_ERR_ATTEMPT_NOT_FOUND = 203, /* YFN03 */
	FF_ERR_BUDGET_NOT_FOUND = 204,	/* YFN04 */
	FF_ERR_QUOTA_POLICY_NOT_FOUND = 205,	/* YFN05 */
	FF_ERR_STREAM_NOT_FOUND = 206,	/* YFN06 */
	FF_ERR_WAITPOINT_NOT_FOUND = 207,	/* YFN07 */
	FF_ERR_SUSPENSION_NOT_FOUND = 208,	/* YFN08 */

	/* Validation (YFV..), not retryable */
	FF_ERR_INVALID_INPUT = 301,		/* YFV01; also PostgreSQL class 22 (input
									 * that does not parse, e.g. bad JSON) */
	FF_ERR_CAPABILITY_MISMATCH = 302,	/* YFV02 */
	FF_ERR_INVALID_CAPABILITIES = 303,	/* YFV03 */
	FF_ERR_INVALID_POLICY_JSON = 304,	/* YFV04 */
	FF_ERR_PAYLOAD_TOO_LARGE = 305, /* YFV05 */
	FF_ERR_SIGNAL_LIMIT_EXCEEDED = 306, /* YFV06 */
	FF_ERR_INVALID_WAITPOINT_KEY = 307, /* YFV07 */
	FF_ERR_INVALID_TOKEN = 308,		/* YFV08 */
	FF_ERR_WAITPOINT_NOT_TOKEN_BOUND = 309, /* YFV09 */
	FF_ERR_RETENTION_LIMIT_EXCEEDED = 310,	/* YFV10 */
	FF_ERR_INVALID_LEASE_FOR_SUSPEND = 311, /* YFV11 */
	FF_ERR_INVALID_DEPENDENCY = 312,	/* YFV12 */
	FF_ERR_INVALID_WAITPOINT_FOR_EXECUTION = 313,	/* YFV13 */
	FF_ERR_INVALID_BLOCKING_REASON = 314,	/* YFV14 */
	FF_ERR_INVALID_OFFSET = 315,	/* YFV15 */
	FF_ERR_UNAUTHORIZED = 316,		/* YFV16 */
	FF_ERR_INVALID_BUDGET_SCOPE = 317,	/* YFV17 */
	FF_ERR_BUDGET_OVERRIDE_NOT_ALLOWED = 318,	/* YFV18 */
	FF_ERR_INVALID_QUOTA_SPEC = 319,	/* YFV19 */
	FF_ERR_INVALID_KID = 320,		/* YFV20 */
	FF_ERR_INVALID_SECRET_HEX = 321,	/* YFV21 */
	FF_ERR_INVALID_GRACE_MS = 322,	/* YFV22 */
	FF_ERR_INVALID_TAG_KEY = 323,	/* YFV23 */
	FF_ERR_INVALID_FRAME_TYPE = 324,	/* YFV24 */
	FF_ERR_CORRUPTION = 325,		/* YFV25 */
	FF_ERR_HANDLE_FROM_OTHER_BACKEND = 326, /* YFV26 */
	FF_ERR_TOKEN_EXPIRED = 327,		/* YFV27 (beyond spec E's table: a retired
									 * kid past its grace period) */

	/* Contention (YFC..), retryable */
	FF_ERR_USE_CLAIM_RESUMED_EXECUTION = 401,	/* YFC01 */
	FF_ERR_NOT_A_RESUMED_EXECUTION = 402,	/* YFC02 */
	FF_ERR_EXECUTION_NOT_LEASEABLE = 403,	/* YFC03 */
	FF_ERR_LEASE_CONFLICT = 404,	/* YFC04 */
	FF_ERR_INVALID_CLAIM_GRANT = 405,	/* YFC05 */
	FF_ERR_CLAIM_GRANT_EXPIRED = 406,	/* YFC06 */
	FF_ERR_NO_ELIGIBLE_EXECUTION = 407, /* YFC07 */
	FF_ERR_WAITPOINT_NOT_FOUND_YET = 408,	/* YFC08 waitpoint_not_found
											 * (Contention: may not exist yet) */
	FF_ERR_WAITPOINT_PENDING_USE_BUFFER_SCRIPT = 409,	/* YFC09 */
	FF_ERR_STALE_GRAPH_REVISION = 410,	/* YFC10 */
	FF_ERR_EXECUTION_NOT_ACTIVE = 411,	/* YFC11 */
	FF_ERR_EXECUTION_NOT_ELIGIBLE = 412,	/* YFC12 */
	FF_ERR_EXECUTION_NOT_IN_ELIGIBLE_SET = 413, /* YFC13 */
	FF_ERR_EXECUTION_NOT_RECLAIMABLE = 414, /* YFC14 */
	FF_ERR_NO_ACTIVE_LEASE = 415,	/* YFC15 */
	FF_ERR_RATE_LIMIT_EXCEEDED = 416,	/* YFC16 */
	FF_ERR_CONCURRENCY_LIMIT_EXCEEDED = 417,	/* YFC17 */
	FF_ERR_RETRY_EXHAUSTED = 418,	/* YFC18; also reported by this library after
									 * 3 serialization failures / deadlocks of
									 * one autocommit call */

	/* Conflict (YFK..), not retryable */
	FF_ERR_DEPENDENCY_ALREADY_EXISTS = 501, /* YFK01 */
	FF_ERR_CYCLE_DETECTED = 502,	/* YFK02 */
	FF_ERR_SELF_REFERENCING_EDGE = 503, /* YFK03 */
	FF_ERR_EXECUTION_ALREADY_IN_FLOW = 504, /* YFK04 */
	FF_ERR_WAITPOINT_ALREADY_EXISTS = 505,	/* YFK05 */
	FF_ERR_BUDGET_ATTACH_CONFLICT = 506,	/* YFK06 */
	FF_ERR_QUOTA_ATTACH_CONFLICT = 507, /* YFK07 */
	FF_ERR_ROTATION_CONFLICT = 508, /* YFK08 */
	FF_ERR_ACTIVE_ATTEMPT_EXISTS = 509, /* YFK09 */

	/* State (YFS..), not retryable */
	FF_ERR_STALE_LEASE = 601,		/* YFS01 */
	FF_ERR_LEASE_EXPIRED = 602,		/* YFS02 */
	FF_ERR_LEASE_REVOKED = 603,		/* YFS03 */
	FF_ERR_EXECUTION_NOT_SUSPENDED = 604,	/* YFS04 */
	FF_ERR_ALREADY_SUSPENDED = 605, /* YFS05 */
	FF_ERR_WAITPOINT_CLOSED = 606,	/* YFS06 */
	FF_ERR_TARGET_NOT_SIGNALABLE = 607, /* YFS07 */
	FF_ERR_DUPLICATE_SIGNAL = 608,	/* YFS08 */
	FF_ERR_RESUME_CONDITION_NOT_MET = 609,	/* YFS09 */
	FF_ERR_WAITPOINT_NOT_PENDING = 610, /* YFS10 */
	FF_ERR_PENDING_WAITPOINT_EXPIRED = 611, /* YFS11 */
	FF_ERR_WAITPOINT_NOT_OPEN = 612,	/* YFS12 */
	FF_ERR_EXECUTION_NOT_TERMINAL = 613,	/* YFS13 */
	FF_ERR_MAX_REPLAYS_EXHAUSTED = 614, /* YFS14 */
	FF_ERR_STREAM_CLOSED = 615,		/* YFS15 */
	FF_ERR_STALE_OWNER_CANNOT_APPEND = 616, /* YFS16 */
	FF_ERR_GRANT_ALREADY_EXISTS = 617,	/* YFS17 */
	FF_ERR_EXECUTION_NOT_IN_FLOW = 618, /* YFS18 */
	FF_ERR_FLOW_ALREADY_TERMINAL = 619, /* YFS19 */
	FF_ERR_DEPS_NOT_SATISFIED = 620,	/* YFS20 */
	FF_ERR_NOT_BLOCKED_BY_DEPS = 621,	/* YFS21 */
	FF_ERR_NOT_RUNNABLE = 622,		/* YFS22 */
	FF_ERR_TERMINAL = 623,			/* YFS23 */
	FF_ERR_BUDGET_EXCEEDED = 624,	/* YFS24 */
	FF_ERR_BUDGET_SOFT_EXCEEDED = 625,	/* YFS25 */
	FF_ERR_OK_ALREADY_APPLIED = 626,	/* YFS26 */
	FF_ERR_ATTEMPT_NOT_STARTED = 627,	/* YFS27 */
	FF_ERR_ATTEMPT_ALREADY_TERMINAL = 628,	/* YFS28 */
	FF_ERR_EXECUTION_NOT_ELIGIBLE_FOR_ATTEMPT = 629,	/* YFS29 */
	FF_ERR_REPLAY_NOT_ALLOWED = 630,	/* YFS30 */
	FF_ERR_MAX_RETRIES_EXHAUSTED = 631, /* YFS31 */
	FF_ERR_STREAM_ALREADY_CLOSED = 632, /* YFS32 */
	FF_ERR_ALREADY_SATISFIED = 633, /* YFS33 */

	/* Bug (YFB..) */
	FF_ERR_ATTEMPT_NOT_IN_CREATED_STATE = 701,	/* YFB01 */

	/* Unavailable (YFU..) */
	FF_ERR_UNAVAILABLE = 800,		/* YFU00 */
	FF_ERR_SCHEMA_VERSION = 801,	/* YFU01; also 42883/42P01/3F000: the
									 * extension (or this function) is missing */

	/* ResourceExhausted (YFR..), retryable */
	FF_ERR_RESOURCE_EXHAUSTED = 901,	/* YFR01 */

	/* Timeout (YFT..) */
	FF_ERR_TIMEOUT = 1001			/* YFT01; also 57014 (statement timeout or
									 * cancel) */
} ff_status;

/* snake_case name of a kind ("stale_lease", "connection"); "unknown" if none */
FF_API const char *ff_status_name(ff_status s);

/* The YF SQLSTATE of an engine kind ("YFS01"), NULL for client-side kinds */
FF_API const char *ff_status_sqlstate(ff_status s);

/* Category letter of an engine kind ('N','V','C','K','S','B','U','R','T'), 0 otherwise */
FF_API char ff_status_category(ff_status s);

/* The kind for a SQLSTATE (any 5-character code; NULL/"" = FF_ERR_CONNECTION) */
FF_API ff_status ff_status_from_sqlstate(const char *sqlstate);

/*
 * The client retry rule: retry YFC..., YFR..., 40001, 40P01 and class 08
 * (connection errors, reconnecting first); everything else is surfaced.
 */
FF_API bool ff_sqlstate_is_retryable(const char *sqlstate);
FF_API bool ff_status_is_retryable(ff_status s);

/*
 * Lease-loss kinds: stale_lease, lease_expired, lease_revoked,
 * execution_not_active, stale_owner_cannot_append (stream appends)
 */
FF_API bool ff_status_is_lease_lost(ff_status s);

typedef struct ff_error
{
	ff_status	kind;			/* FF_OK when there is no error */
	char		sqlstate[6];	/* the server's SQLSTATE, "" if none */
	bool		retryable;		/* the client retry rule applied to this error */
	char	   *message;		/* primary message ("stale_lease: ..."); NULL if OK */
	char	   *detail;			/* server DETAIL, NULL if none */
	char	   *hint;			/* server HINT, NULL if none */
} ff_error;

/* Frees the strings of a caller-owned ff_error and zeroes it. */
FF_API void ff_error_clear(ff_error *err);

/* Deep copy (dst is cleared first). FF_ERR_OUT_OF_MEMORY on failure. */
FF_API ff_status ff_error_copy(ff_error *dst, const ff_error *src);

/* ========================================================================
 * Buffers
 * ======================================================================== */

/* An owned byte buffer. data == NULL means SQL NULL / absent; an empty
 * non-NULL value has data != NULL and len == 0. Free with ff_bytes_clear. */
typedef struct ff_bytes
{
	unsigned char *data;
	size_t		len;
} ff_bytes;

FF_API void ff_bytes_clear(ff_bytes *b);

/* An attempt handle: opaque bytes issued by ff_client_claim. */
typedef struct ff_handle
{
	unsigned char *data;
	size_t		len;
} ff_handle;

FF_API void ff_handle_clear(ff_handle *h);
FF_API ff_status ff_handle_copy(ff_handle *dst, const ff_handle *src);

/* Lowercase hex text of a handle (no prefix); free with free(). */
FF_API ff_status ff_handle_to_hex(const ff_handle *h, char **hex_out);

/* Parses hex text (an optional "\x" or "0x" prefix is accepted). */
FF_API ff_status ff_handle_from_hex(const char *hex, ff_handle *out);

/* Frees a string returned by the library (same as free()). */
FF_API void ff_free(void *p);

/* ========================================================================
 * Ids (pure, no connection): FlowFabric-compatible partitions
 * ======================================================================== */

/* CRC16/XMODEM (poly 0x1021, init 0), as ff_crc16() */
FF_API uint16_t ff_crc16(const void *data, size_t len);

/* The solo partition of a lane (crc16(lane) % 256), -1 if lane_id is NULL */
FF_API int	ff_solo_partition(const char *lane_id);

/* The N of "{fp:N}:<uuid>", -1 if the id does not start that way */
FF_API int	ff_execution_partition(const char *execution_id);

/* ========================================================================
 * Connection
 * ======================================================================== */
typedef struct ff_client ff_client;
struct pg_conn;					/* libpq's PGconn */

/*
 * Opens a connection from a libpq conninfo string or URI ("" or NULL: the PG*
 * environment variables). On success *out is a new client (close it with
 * ff_client_close). On failure *out is NULL and, if err is not NULL, *err
 * describes the failure (caller clears it with ff_error_clear).
 */
FF_API ff_status ff_client_connect(const char *conninfo, ff_client **out, ff_error *err);

/* Closes the connection and frees the client (NULL is ignored). */
FF_API void ff_client_close(ff_client *c);

/* The error of the last failed call on this client (kind FF_OK after a
 * successful call). Valid until the next call on the client. */
FF_API const ff_error *ff_client_last_error(const ff_client *c);

/* Reconnects now (normally done automatically; see docs/c-api.md). */
FF_API ff_status ff_client_reconnect(ff_client *c);

/* Times the client reconnected since it was opened. */
FF_API unsigned long ff_client_reconnect_count(const ff_client *c);

/* Backend process id of the current connection (0 if disconnected). */
FF_API int	ff_client_backend_pid(const ff_client *c);

/* The socket of the connection, for poll()/select(); -1 if disconnected. */
FF_API int	ff_client_socket(const ff_client *c);

/*
 * The underlying libpq connection, e.g. to run BEGIN / COMMIT around engine
 * calls so they share a transaction with your own statements. Do not close it.
 * Inside an explicit transaction the library never retries or reconnects.
 */
FF_API struct pg_conn *ff_client_pgconn(ff_client *c);

/* ========================================================================
 * Lifecycle operations (one call = one SQL function call = one round trip)
 * ======================================================================== */

/* Failure classifications for ff_client_fail */
#define FF_CLASS_TRANSIENT		"transient"
#define FF_CLASS_PERMANENT		"permanent"
#define FF_CLASS_INFRA_CRASH	"infra_crash"
#define FF_CLASS_TIMEOUT		"timeout"
#define FF_CLASS_CANCELLED		"cancelled"

typedef struct ff_create_args
{
	const char *lane_id;		/* required */
	const void *input_payload;	/* NULL: no payload */
	size_t		input_payload_len;
	const char *execution_id;	/* NULL: the engine mints one in the lane's
								 * solo partition */
	const char *ns;				/* namespace; NULL: none */
	const char *execution_kind; /* NULL: none */
	int32_t		priority;		/* 0..9000 (clamped by the engine) */
	const char *const *required_capabilities;
	size_t		n_required_capabilities;
	const char *policy_json;	/* JSON object, NULL: none (docs/sql-api.md §2.4) */
	int64_t		delay_until_ms; /* 0: none */
	int64_t		execution_deadline_at_ms;	/* 0: none */
	const char *idempotency_key;	/* NULL: none */
	const char *tags_json;		/* JSON object of strings, NULL: none */
	const char *creator_identity;	/* NULL: none */
} ff_create_args;

typedef struct ff_create_result
{
	char	   *execution_id;
	char	   *public_state;
	bool		created;		/* false: idempotent duplicate / existing id */
} ff_create_result;

FF_API ff_status ff_client_create_execution(ff_client *c, const ff_create_args *args,
											ff_create_result *out);
FF_API void ff_create_result_clear(ff_create_result *r);

typedef struct ff_claim_args
{
	const char *lane_id;		/* required */
	const char *worker_id;		/* required */
	const char *worker_instance_id; /* required */
	const char *const *capabilities;
	size_t		n_capabilities;
	int64_t		lease_ttl_ms;	/* 0: 30000 */
	int32_t		max_claims;		/* 0: 1 */
} ff_claim_args;

typedef struct ff_claimed
{
	ff_handle	handle;
	char	   *execution_id;
	int32_t		attempt_index;
	int64_t		lease_epoch;
	int64_t		lease_expires_at_ms;
	ff_bytes	input_payload;	/* data NULL if the execution has no input */
} ff_claimed;

typedef struct ff_claim_list
{
	ff_claimed *items;
	size_t		count;
} ff_claim_list;

/* Claims up to max_claims executions; count 0 means nothing was claimable.
 * An item may be moved out of the list (copy the struct, then zero the
 * original); ff_claim_list_clear frees whatever is left. */
FF_API ff_status ff_client_claim(ff_client *c, const ff_claim_args *args, ff_claim_list *out);
FF_API void ff_claimed_clear(ff_claimed *item);
FF_API void ff_claim_list_clear(ff_claim_list *list);

typedef struct ff_renew_result
{
	int64_t		lease_expires_at_ms;
	int64_t		lease_epoch;
} ff_renew_result;

FF_API ff_status ff_client_renew(ff_client *c, const ff_handle *handle, ff_renew_result *out);

/* percent: 0..100, or -1 to keep the previous value; message NULL: keep */
FF_API ff_status ff_client_progress(ff_client *c, const ff_handle *handle, int32_t percent,
									const char *message);

/* payload NULL: no result */
FF_API ff_status ff_client_complete(ff_client *c, const ff_handle *handle,
									const void *payload, size_t payload_len);

typedef enum ff_fail_outcome
{
	FF_FAIL_RETRY_SCHEDULED = 1,
	FF_FAIL_TERMINAL = 2
} ff_fail_outcome;

typedef struct ff_fail_result
{
	ff_fail_outcome outcome;
	int64_t		delay_until_ms; /* retry time; 0 when terminal */
} ff_fail_result;

/* classification NULL: "transient"; detail NULL: none. out may be NULL. */
FF_API ff_status ff_client_fail(ff_client *c, const ff_handle *handle, const char *message,
								const char *classification, const void *detail,
								size_t detail_len, ff_fail_result *out);

/* reason NULL: none */
FF_API ff_status ff_client_cancel(ff_client *c, const ff_handle *handle, const char *reason);

FF_API ff_status ff_client_delay(ff_client *c, const ff_handle *handle, int64_t delay_until_ms);

/* ========================================================================
 * Reads and tags. Unknown executions are not errors: found == false (or a
 * NULL result); malformed ids are FF_ERR_INVALID_INPUT.
 * ======================================================================== */
typedef struct ff_execution_description
{
	bool		found;
	char	   *execution_id;
	char	   *flow_id;		/* NULL if none */
	char	   *lane_id;
	char	   *ns;				/* NULL if none */
	char	   *public_state;
	char	   *blocking_reason;
	char	   *blocking_detail;	/* NULL if none */
	bool		has_current_attempt;	/* false before the first claim */
	int32_t		current_attempt_index;
	char	   *current_attempt_id;
	bool		has_lease;		/* the current attempt holds a lease */
	char	   *lease_id;
	int64_t		lease_epoch;
	char	   *worker_instance_id;
	int64_t		lease_expires_at_ms;
	int64_t		lease_renewed_at_ms;	/* 0 if never renewed */
	int64_t		created_at_ms;
	int64_t		last_mutation_at_ms;
	int32_t		total_attempt_count;
	char	   *tags_json;		/* JSON object text */
} ff_execution_description;

FF_API ff_status ff_client_describe_execution(ff_client *c, const char *execution_id,
											  ff_execution_description *out);
FF_API void ff_execution_description_clear(ff_execution_description *d);

typedef struct ff_execution_info
{
	bool		found;
	char	   *execution_id;
	char	   *ns;				/* NULL if none */
	char	   *lane_id;
	int32_t		priority;
	char	   *execution_kind; /* NULL if none */
	char	   *lifecycle_phase;
	char	   *ownership_state;
	char	   *eligibility_state;
	char	   *blocking_reason;
	char	   *terminal_outcome;
	char	   *attempt_state;
	char	   *public_state;
	int64_t		created_at_ms;
	int64_t		started_at_ms;	/* 0 before the first claim */
	int64_t		completed_at_ms;	/* 0 unless terminal */
	int32_t		current_attempt_index;
	char	   *flow_id;		/* NULL if none */
	char	   *blocking_detail;	/* NULL if none */
} ff_execution_info;

FF_API ff_status ff_client_read_execution_info(ff_client *c, const char *execution_id,
											   ff_execution_info *out);
FF_API void ff_execution_info_clear(ff_execution_info *i);

/* *state_out: public_state (free with ff_free), NULL if unknown */
FF_API ff_status ff_client_read_execution_state(ff_client *c, const char *execution_id,
												char **state_out);

/* out->data NULL: no result (unknown, not completed, or completed without one) */
FF_API ff_status ff_client_get_execution_result(ff_client *c, const char *execution_id,
												ff_bytes *out);

typedef struct ff_execution_context
{
	bool		found;
	ff_bytes	input_payload;	/* empty (not NULL) when there is none */
	char	   *execution_kind; /* "" when there is none */
	char	   *tags_json;
} ff_execution_context;

FF_API ff_status ff_client_read_execution_context(ff_client *c, const char *execution_id,
												  ff_execution_context *out);
FF_API void ff_execution_context_clear(ff_execution_context *x);

/* found may be NULL; *out is 0 when not found */
FF_API ff_status ff_client_read_current_attempt_index(ff_client *c, const char *execution_id,
													  int32_t *out, bool *found);
FF_API ff_status ff_client_read_total_attempt_count(ff_client *c, const char *execution_id,
													int32_t *out, bool *found);

/* *ns_out: NULL if none or unknown (free with ff_free) */
FF_API ff_status ff_client_get_execution_namespace(ff_client *c, const char *execution_id,
												   char **ns_out);

/* *value_out: NULL if the tag or the execution does not exist */
FF_API ff_status ff_client_get_execution_tag(ff_client *c, const char *execution_id,
											 const char *key, char **value_out);
FF_API ff_status ff_client_set_execution_tag(ff_client *c, const char *execution_id,
											 const char *key, const char *value);

typedef struct ff_execution_summary
{
	char	   *execution_id;
	char	   *lane_id;
	char	   *public_state;
	int64_t		created_at_ms;
} ff_execution_summary;

typedef struct ff_execution_list
{
	ff_execution_summary *items;
	size_t		count;
} ff_execution_list;

/* One page of a partition ("{fp:N}") in execution-uuid order. cursor: NULL
 * for the first page, else the last execution_id of the previous page.
 * max_results 0: 100 (the engine clamps to 0..1000). */
FF_API ff_status ff_client_list_executions(ff_client *c, const char *partition_key,
										   const char *cursor, int32_t max_results,
										   ff_execution_list *out);
FF_API void ff_execution_list_clear(ff_execution_list *l);

typedef struct ff_lane
{
	char	   *lane_id;
	int64_t		registered_at_ms;
	char	   *registered_by;
} ff_lane;

typedef struct ff_lane_list
{
	ff_lane    *items;
	size_t		count;
} ff_lane_list;

FF_API ff_status ff_client_list_lanes(ff_client *c, const char *cursor, int32_t max_results,
									  ff_lane_list *out);
FF_API void ff_lane_list_clear(ff_lane_list *l);

/* ========================================================================
 * Engine information and clock
 * ======================================================================== */
FF_API ff_status ff_client_ping(ff_client *c);
FF_API ff_status ff_client_server_time_ms(ff_client *c, int64_t *out);

/* *json_out: the ff_capabilities() document (free with ff_free) */
FF_API ff_status ff_client_capabilities(ff_client *c, char **json_out);

/* ========================================================================
 * Reconcilers: one pass each; *changed (may be NULL) = executions changed.
 * batch_size 0: 1000.
 * ======================================================================== */
FF_API ff_status ff_client_reconcile_lease_expiry(ff_client *c, int32_t batch_size, int32_t *changed);
FF_API ff_status ff_client_reconcile_attempt_timeout(ff_client *c, int32_t batch_size, int32_t *changed);
FF_API ff_status ff_client_reconcile_delayed_promotion(ff_client *c, int32_t batch_size, int32_t *changed);
FF_API ff_status ff_client_reconcile_execution_deadline(ff_client *c, int32_t batch_size, int32_t *changed);

/* Retention (batch_size 0: 1000, else 1..100000). ff_reconcile_retention:
 * *changed = executions deleted, terminal for flowfabric.retention_ms
 * (default 7 days), with their attempts, streams, suspensions, signals,
 * idempotency keys and events (a flow member only with its whole finished
 * flow). ff_reconcile_event_retention: *changed = lease, signal and operator
 * events deleted, older than flowfabric.event_retention_ms (default 1 day).
 * The engine's background workers run both when preloaded. */
FF_API ff_status ff_client_reconcile_retention(ff_client *c, int32_t batch_size, int32_t *changed);
FF_API ff_status ff_client_reconcile_event_retention(ff_client *c, int32_t batch_size, int32_t *changed);

/* ========================================================================
 * Outboxes: readers and subscriptions
 * ======================================================================== */
typedef struct ff_completion_event
{
	int64_t		event_id;
	char	   *execution_id;
	char	   *flow_id;		/* NULL if none */
	char	   *outcome;		/* success, failed, cancelled, expired */
	char	   *ns;				/* NULL if none */
	char	   *lane_id;
	bool		has_attempt_index;
	int32_t		attempt_index;
	int64_t		occurred_at_ms;
} ff_completion_event;

typedef struct ff_completion_event_list
{
	ff_completion_event *items;
	size_t		count;
} ff_completion_event_list;

typedef struct ff_lease_event
{
	int64_t		event_id;
	char	   *execution_id;
	int32_t		attempt_index;
	char	   *lease_id;
	int64_t		lease_epoch;
	char	   *event_type;		/* acquired, reclaimed, renewed, released, expired */
	char	   *reason;			/* NULL if none */
	char	   *worker_id;		/* NULL if none */
	char	   *worker_instance_id; /* NULL if none */
	char	   *ns;				/* NULL if none */
	int64_t		occurred_at_ms;
} ff_lease_event;

typedef struct ff_lease_event_list
{
	ff_lease_event *items;
	size_t		count;
} ff_lease_event_list;

/* Events with event_id > after_event_id, in order; max_events 0: 100 (1..10000). */
FF_API ff_status ff_client_completion_events(ff_client *c, int64_t after_event_id,
											 int32_t max_events, ff_completion_event_list *out);
FF_API ff_status ff_client_lease_events(ff_client *c, int64_t after_event_id,
										int32_t max_events, ff_lease_event_list *out);
FF_API void ff_completion_event_list_clear(ff_completion_event_list *l);
FF_API void ff_lease_event_list_clear(ff_lease_event_list *l);

typedef enum ff_event_source
{
	FF_EVENTS_COMPLETION = 1,	/* ff_completion_events, LISTEN ff_completion */
	FF_EVENTS_LEASE = 2,		/* ff_lease_events, LISTEN ff_lease_event */
	FF_EVENTS_SIGNAL = 3		/* ff_signal_events, LISTEN ff_signal_event
								 * (read with ff_subscription_next_signal_events) */
} ff_event_source;

typedef struct ff_subscription ff_subscription;

typedef struct ff_subscription_options
{
	int32_t		batch_size;		/* events per read, 0: 100 */
	int32_t		poll_interval_ms;	/* re-read at least this often while
									 * waiting, 0: 1000 */
} ff_subscription_options;

/*
 * Subscribes the client to one outbox from a cursor (the last event id you
 * processed; 0 for the beginning). The subscription borrows the client: it
 * LISTENs on it, and the client's other functions stay usable from the same
 * thread. The library reconnects and re-LISTENs by itself; the cursor makes
 * the stream gap-free and duplicate-free across reconnects. opts may be NULL.
 */
FF_API ff_status ff_subscription_open(ff_client *c, ff_event_source source,
									  int64_t after_event_id,
									  const ff_subscription_options *opts,
									  ff_subscription **out);
FF_API void ff_subscription_close(ff_subscription *s);

/*
 * The next events after the cursor, advancing it past what is returned.
 * timeout_ms < 0: wait until there is at least one event; 0: do not wait
 * (one read); > 0: wait at most that long. An empty list after a timeout is
 * FF_OK. Use the function matching the subscription's source (else
 * FF_ERR_USAGE). Errors are those of the client (ff_client_last_error).
 */
FF_API ff_status ff_subscription_next_completions(ff_subscription *s, int timeout_ms,
												  ff_completion_event_list *out);
FF_API ff_status ff_subscription_next_lease_events(ff_subscription *s, int timeout_ms,
												   ff_lease_event_list *out);

/* Non-blocking form: poll ff_subscription_socket() for reading (and wake up at
 * least every poll interval), then call ff_subscription_next_*(s, 0, ...). */
FF_API int	ff_subscription_socket(const ff_subscription *s);
FF_API int64_t ff_subscription_cursor(const ff_subscription *s);
FF_API ff_event_source ff_subscription_source(const ff_subscription *s);

/* ========================================================================
 * Suspension, waitpoints and HMAC-signed signals (client/src/suspend.c;
 * reference docs/c-api.md §12, semantics docs/suspend-signals.md)
 *
 * Conditions, waitpoint bindings and resume policies are passed as JSON
 * text in the engine's own encoding (docs/suspend-signals.md §3-4), e.g.
 *   waitpoints_json        "[\"wpk:approval\"]"
 *   resume_condition_json  "{\"Single\": {\"waitpoint_key\": \"wpk:approval\",
 *                                         \"matcher\": {\"ByName\": \"approved\"}}}"
 * Waitpoint ids, suspension ids, signal ids are uuid strings; tokens are
 * strings ("<kid>:<64 hex>", bearer credentials: keep them out of logs).
 * ======================================================================== */

/* timeout_behavior values */
#define FF_TIMEOUT_FAIL			"fail"
#define FF_TIMEOUT_CANCEL		"cancel"
#define FF_TIMEOUT_EXPIRE		"expire"
#define FF_TIMEOUT_AUTO_RESUME	"auto_resume_with_timeout_signal"
#define FF_TIMEOUT_ESCALATE		"escalate"

typedef struct ff_suspend_args
{
	const char *waitpoints_json;	/* required: JSON array of 1..64 bindings:
									 * "wpk:a", {"waitpoint_key": ..,
									 * "waitpoint_id": ..}, {"use_pending":
									 * "<uuid>"} */
	const char *resume_condition_json;	/* NULL: all of the waitpoints, any
										 * signal */
	const char *suspension_id;	/* NULL: minted */
	const char *reason_code;	/* NULL: "waiting_for_signal" */
	const char *requested_by;	/* NULL: "worker" */
	int64_t		timeout_at_ms;	/* engine clock; 0: no timeout */
	const char *timeout_behavior;	/* FF_TIMEOUT_*, NULL: fail */
	const char *resume_policy_json; /* NULL: none ({"resume_delay_ms": N}, ...) */
	const char *continuation_metadata_pointer;	/* NULL: none */
	const char *idempotency_key;	/* NULL: none. With a key, a repeat by the
									 * same lease returns the first result (and
									 * the library re-sends the call once after
									 * a lost connection) */
} ff_suspend_args;

typedef enum ff_suspend_outcome
{
	FF_SUSPEND_SUSPENDED = 1,	/* suspended: the lease is released */
	FF_SUSPEND_ALREADY_SATISFIED = 2	/* buffered signals already satisfy the
										 * condition: nothing suspended, the
										 * lease and the handle stay valid */
} ff_suspend_outcome;

typedef struct ff_suspend_waitpoint
{
	int32_t		index;			/* binding order, 0 = primary */
	char	   *waitpoint_id;
	char	   *waitpoint_key;
	char	   *waitpoint_token;	/* the signing credential to hand out */
} ff_suspend_waitpoint;

typedef struct ff_suspend_result
{
	ff_suspend_outcome outcome;
	char	   *suspension_id;
	ff_suspend_waitpoint *waitpoints;	/* in binding order */
	size_t		n_waitpoints;
	ff_handle	handle;			/* the handle the suspension was made with (for
								 * ff_client_suspend_by_triple: the one built
								 * from the triple) */
} ff_suspend_result;

FF_API void ff_suspend_result_clear(ff_suspend_result *r);

/* Suspends the handle's execution. out may be NULL (result discarded). */
FF_API ff_status ff_client_suspend(ff_client *c, const ff_handle *handle,
								   const ff_suspend_args *args, ff_suspend_result *out);

/* A lease fence instead of a handle. */
typedef struct ff_lease_triple
{
	const char *execution_id;	/* required */
	const char *lease_id;		/* required (uuid) */
	int64_t		lease_epoch;	/* required */
	const char *attempt_id;		/* NULL: not checked */
	bool		has_attempt_index;	/* false: the current attempt */
	int32_t		attempt_index;
} ff_lease_triple;

FF_API ff_status ff_client_suspend_by_triple(ff_client *c, const ff_lease_triple *fence,
											 const ff_suspend_args *args,
											 ff_suspend_result *out);

/* Pending waitpoints (created before suspending; signals are buffered). */
typedef struct ff_waitpoint_created
{
	char	   *waitpoint_id;
	char	   *waitpoint_key;
	char	   *waitpoint_token;
	int64_t		expires_at_ms;
} ff_waitpoint_created;

FF_API void ff_waitpoint_created_clear(ff_waitpoint_created *w);

/* waitpoint_key NULL: "wpk:<id>"; expires_in_ms 1 ms .. 366 days (required);
 * waitpoint_id NULL: minted. Needs the handle's live lease. */
FF_API ff_status ff_client_create_waitpoint(ff_client *c, const ff_handle *handle,
											const char *waitpoint_key, int64_t expires_in_ms,
											const char *waitpoint_id,
											ff_waitpoint_created *out);

/* The token of a pending or active waitpoint of partition "{fp:N}";
 * *token_out NULL if the waitpoint is missing or closed (free with ff_free).
 * Administrators only (not granted to PUBLIC). */
FF_API ff_status ff_client_read_waitpoint_token(ff_client *c, const char *partition_key,
												const char *waitpoint_id, char **token_out);

/* Closes a pending or active waitpoint (reason NULL: "proactive_close");
 * *already_closed (may be NULL) tells whether it was closed before. */
FF_API ff_status ff_client_close_waitpoint(ff_client *c, const char *execution_id,
										   const char *waitpoint_id, const char *reason,
										   bool *already_closed);

typedef struct ff_pending_waitpoint
{
	char	   *waitpoint_id;
	char	   *waitpoint_key;
	char	   *state;			/* pending, active */
	char	  **required_signal_names;	/* empty: any signal */
	size_t		n_required_signal_names;
	int64_t		created_at_ms;
	int64_t		activated_at_ms;	/* 0: not bound yet */
	int64_t		expires_at_ms;	/* 0: none */
	char	   *execution_id;
	char	   *token_kid;		/* the token, redacted to its kid ... */
	char	   *token_fingerprint;	/* ... and the first 16 hex digits */
} ff_pending_waitpoint;

typedef struct ff_pending_waitpoint_list
{
	ff_pending_waitpoint *items;
	size_t		count;
} ff_pending_waitpoint_list;

/* One page of an execution's pending and active waitpoints by id; after:
 * NULL, or the last waitpoint_id of the previous page; max_results 0: 100. */
FF_API ff_status ff_client_list_pending_waitpoints(ff_client *c, const char *execution_id,
												   const char *after, int32_t max_results,
												   ff_pending_waitpoint_list *out);
FF_API void ff_pending_waitpoint_list_clear(ff_pending_waitpoint_list *l);

/* Signals */
#define FF_SIGNAL_NO_DEDUP	(-1)	/* dedup_ttl_ms: no de-duplication by key */
#define FF_SIGNAL_NO_LIMIT	(-1)	/* max_signals_per_execution: no limit */

typedef struct ff_signal_args
{
	const char *execution_id;	/* required */
	const char *waitpoint_id;	/* required */
	const char *waitpoint_token;	/* required */
	const char *signal_name;	/* required, 1..256 bytes */
	const char *signal_id;		/* NULL: minted */
	const char *signal_category;	/* NULL: "signal" */
	const char *source_type;	/* NULL: "external" */
	const char *source_identity;	/* NULL: "" */
	const void *payload;		/* NULL: none; at most 64 KiB */
	size_t		payload_len;
	const char *payload_encoding;	/* NULL: none */
	const char *correlation_id; /* NULL: none */
	const char *idempotency_key;	/* NULL: none */
	int64_t		created_at_ms;	/* the sender's time; 0: now */
	int64_t		dedup_ttl_ms;	/* 0: 86400000; FF_SIGNAL_NO_DEDUP: none */
	bool		has_resume_delay;	/* override the suspension's resume delay */
	int64_t		resume_delay_ms;
	int64_t		max_signals_per_execution;	/* 0: 10000; FF_SIGNAL_NO_LIMIT */
} ff_signal_args;

typedef struct ff_signal_result
{
	bool		duplicate;		/* result "duplicate": nothing was written */
	bool		satisfied;		/* effect "resume_condition_satisfied": this
								 * signal resumed the execution */
	char	   *result;			/* "accepted" or "duplicate" */
	char	   *signal_id;		/* for a duplicate: the first delivery's */
	char	   *effect;			/* resume_condition_satisfied,
								 * appended_to_waitpoint(_duplicate),
								 * signal_ignored_matcher_failed,
								 * signal_ignored_not_in_condition,
								 * buffered_for_pending_waitpoint, duplicate */
	char	   *public_state;	/* the execution's, afterwards */
} ff_signal_result;

FF_API void ff_signal_result_clear(ff_signal_result *r);

/*
 * Delivers a signal with a waitpoint token (how an outside system resumes a
 * job). Token errors come back as their own kinds: FF_ERR_INVALID_TOKEN
 * (missing, malformed, bad signature), FF_ERR_INVALID_KID (kid not in the
 * keystore), FF_ERR_TOKEN_EXPIRED (kid past its grace period),
 * FF_ERR_INVALID_WAITPOINT_FOR_EXECUTION, FF_ERR_WAITPOINT_NOT_FOUND_YET,
 * FF_ERR_WAITPOINT_CLOSED, FF_ERR_TARGET_NOT_SIGNALABLE, ... With a signal_id
 * or an idempotency_key the call is re-sent once after a lost connection
 * (a repeat is answered "duplicate"). out may be NULL.
 */
FF_API ff_status ff_client_deliver_signal(ff_client *c, const ff_signal_args *args,
										  ff_signal_result *out);

typedef struct ff_approval_args
{
	const char *execution_id;	/* required */
	const char *lane_id;		/* required: the execution's lane */
	const char *waitpoint_id;	/* required */
	const char *signal_name;	/* required: "approved", "rejected", ... */
	const char *idempotency_suffix; /* required: key approval:<name>:<suffix> */
	int64_t		dedup_ttl_ms;	/* 0: 86400000; FF_SIGNAL_NO_DEDUP */
	int64_t		max_signals_per_execution;	/* 0: 10000; FF_SIGNAL_NO_LIMIT */
} ff_approval_args;

/* An operator's signal: the engine uses the waitpoint's own token. */
FF_API ff_status ff_client_deliver_approval(ff_client *c, const ff_approval_args *args,
											ff_signal_result *out);

typedef struct ff_signal_info
{
	char	   *signal_id;
	char	   *signal_name;
	char	   *signal_category;
	char	   *source_type;
	char	   *source_identity;
	char	   *correlation_id; /* NULL if none */
	int64_t		accepted_at_ms;
	ff_bytes	payload;		/* data NULL if none */
	char	   *payload_encoding;	/* NULL if none */
	char	   *waitpoint_id;	/* NULL for the synthetic timeout signal */
	char	   *waitpoint_key;	/* NULL for the synthetic timeout signal */
} ff_signal_info;

typedef struct ff_signal_list
{
	ff_signal_info *items;
	size_t		count;
} ff_signal_list;

/* The signals that resumed the handle's attempt (its satisfiers, or all its
 * signals with all_signals), in arrival order; empty if it was never
 * resumed. Any handle of the attempt works, also a stale one. */
FF_API ff_status ff_client_observe_signals(ff_client *c, const ff_handle *handle,
										   bool all_signals, ff_signal_list *out);
FF_API void ff_signal_list_clear(ff_signal_list *l);

/* Resuming */
typedef struct ff_claim_resumed_args
{
	const char *execution_id;	/* required */
	const char *worker_id;		/* required */
	const char *worker_instance_id; /* required */
	const char *lane_id;		/* required: the execution's lane */
	int64_t		lease_ttl_ms;	/* 0: 30000 */
	bool		has_current_attempt_index;	/* check the attempt index */
	int32_t		current_attempt_index;
	int64_t		remaining_attempt_timeout_ms;	/* 0: the policy's full timeout */
	const char *const *capabilities;
	size_t		n_capabilities;
	const char *lease_id;		/* NULL: minted */
} ff_claim_resumed_args;

typedef struct ff_resumed_claim
{
	ff_claimed	claimed;		/* handle, execution_id, attempt_index (the same
								 * as before the suspension), lease_epoch (the
								 * next one), lease_expires_at_ms,
								 * input_payload */
	char	   *attempt_id;		/* the same attempt id */
	char	   *lease_id;		/* the new lease */
	bool		held_back;		/* true: nothing was claimed (see below); every
								 * other member is zero */
} ff_resumed_claim;

FF_API void ff_resumed_claim_clear(ff_resumed_claim *r);

/* Claims one resumed execution: the same attempt continues under a new
 * lease (ff_client_claim on the lane picks resumed executions up too).
 *
 * Nothing claimed is not an error, as for ff_client_claim (count 0): when
 * the execution's budgets or quota hold it back, the call returns FF_OK with
 * out->held_back true and no handle. The engine has then stored it blocked
 * (blocked_by_budget / blocked_by_quota, ff_client_read_admission tells by
 * what); the reset, raised limit or freed slot that releases it makes it
 * waiting again, and a later claim (this one or ff_client_claim) continues
 * the same attempt. Errors: EXECUTION_NOT_LEASEABLE (not runnable or not
 * eligible now, held back already, paused lane), NOT_A_RESUMED_EXECUTION,
 * CAPABILITY_MISMATCH, INVALID_CLAIM_GRANT (a live claim grant reserves it
 * for another worker), EXECUTION_NOT_FOUND, INVALID_INPUT. */
FF_API ff_status ff_client_claim_resumed(ff_client *c, const ff_claim_resumed_args *args,
										 ff_resumed_claim *out);

/* Operator resume, whatever the condition: claimable now (resume_delay_ms
 * 0) or after the delay. trigger_type NULL: "signal". *public_state_out
 * (may be NULL; free with ff_free): "waiting" or "delayed". */
FF_API ff_status ff_client_resume_execution(ff_client *c, const char *execution_id,
											const char *trigger_type, int64_t resume_delay_ms,
											char **public_state_out);

typedef struct ff_expire_result
{
	char	   *outcome;		/* the behaviour applied (fail, cancel, expire,
								 * auto_resume_with_timeout_signal, escalate),
								 * or not_suspended, no_active_suspension,
								 * not_yet_due */
	char	   *public_state;
} ff_expire_result;

FF_API void ff_expire_result_clear(ff_expire_result *r);

/* Applies one execution's suspension timeout if it is due. */
FF_API ff_status ff_client_expire_suspension(ff_client *c, const char *execution_id,
											 ff_expire_result *out);

/* Listing */
typedef struct ff_suspended_execution
{
	char	   *execution_id;
	int64_t		suspended_at_ms;
	char	   *reason;			/* the reason code */
	char	   *suspension_id;
	int64_t		timeout_at_ms;	/* 0: none */
} ff_suspended_execution;

typedef struct ff_suspended_list
{
	ff_suspended_execution *items;
	size_t		count;
} ff_suspended_list;

/* One page of the executions of partition "{fp:N}" suspended now, oldest
 * suspension first; cursor: NULL or the last execution_id of the previous
 * page; max_results 0: 100 (clamped to 1000). */
FF_API ff_status ff_client_list_suspended(ff_client *c, const char *partition_key,
										  const char *cursor, int32_t max_results,
										  ff_suspended_list *out);
FF_API void ff_suspended_list_clear(ff_suspended_list *l);

/* Keystore administration (not granted to PUBLIC) */
typedef struct ff_hmac_seed_result
{
	char	   *outcome;		/* "seeded" or "already_seeded" */
	char	   *seeded_kid;
	bool		same_secret;	/* already_seeded: the secret was the same */
} ff_hmac_seed_result;

FF_API void ff_hmac_seed_result_clear(ff_hmac_seed_result *r);

/* Installs the first kid; secret_hex: exactly 64 hex digits. */
FF_API ff_status ff_client_seed_hmac_secret(ff_client *c, const char *kid,
											const char *secret_hex, ff_hmac_seed_result *out);

typedef struct ff_hmac_rotate_result
{
	int32_t		partition;		/* 0: the keystore is global */
	char	   *outcome;		/* "rotated", "noop", ... */
	char	   *previous_kid;	/* NULL if none */
	char	   *current_kid;
	int32_t		gc_count;		/* kids past their grace, deleted */
} ff_hmac_rotate_result;

FF_API void ff_hmac_rotate_result_clear(ff_hmac_rotate_result *r);

/* Makes new_kid active; the previous kid keeps verifying for grace_ms (0:
 * stops at once; choose more than your longest suspension, e.g. 86400000).
 * new_secret_hex: an even number of hex digits, 32 to 1024. */
FF_API ff_status ff_client_rotate_hmac_secret(ff_client *c, const char *new_kid,
											  const char *new_secret_hex, int64_t grace_ms,
											  ff_hmac_rotate_result *out);

typedef struct ff_hmac_kid
{
	char	   *kid;
	bool		active;
	int64_t		rotated_at_ms;
	int64_t		expires_at_ms;	/* 0 for the active kid */
} ff_hmac_kid;

typedef struct ff_hmac_kid_list
{
	ff_hmac_kid *items;
	size_t		count;
} ff_hmac_kid_list;

/* The active kid and the retired kids still in grace (never secrets). */
FF_API ff_status ff_client_list_hmac_kids(ff_client *c, ff_hmac_kid_list *out);
FF_API void ff_hmac_kid_list_clear(ff_hmac_kid_list *l);

/* The token primitive (no keystore): *token_out = "<kid>:<hex of
 * HMAC-SHA256(secret, kid:message)>"; *verdict_out = "ok", "malformed",
 * "wrong_kid" or "signature_mismatch". Free with ff_free. */
FF_API ff_status ff_client_waitpoint_token_sign(ff_client *c, const void *secret,
												size_t secret_len, const char *kid,
												const char *message, char **token_out);
FF_API ff_status ff_client_waitpoint_token_check(ff_client *c, const void *secret,
												 size_t secret_len, const char *kid,
												 const char *message, const char *token,
												 char **verdict_out);

/* Reconcilers: one pass; *changed (may be NULL); batch_size 0: 1000. */
FF_API ff_status ff_client_reconcile_suspension_timeout(ff_client *c, int32_t batch_size,
														int32_t *changed);
FF_API ff_status ff_client_reconcile_pending_waitpoint_expiry(ff_client *c, int32_t batch_size,
															  int32_t *changed);

/* The signal-event outbox: one event per accepted signal */
typedef struct ff_signal_event
{
	int64_t		event_id;
	char	   *execution_id;
	char	   *signal_id;
	char	   *waitpoint_id;	/* NULL if none */
	char	   *signal_name;
	char	   *source_type;
	char	   *source_identity;
	char	   *effect;			/* the real effect (see ff_signal_result) */
	char	   *ns;				/* NULL if none */
	char	   *lane_id;
	int64_t		delivered_at_ms;
} ff_signal_event;

typedef struct ff_signal_event_list
{
	ff_signal_event *items;
	size_t		count;
} ff_signal_event_list;

/* Events with event_id > after_event_id, in order; max_events 0: 100. */
FF_API ff_status ff_client_signal_events(ff_client *c, int64_t after_event_id,
										 int32_t max_events, ff_signal_event_list *out);
FF_API void ff_signal_event_list_clear(ff_signal_event_list *l);

/* The reader of an FF_EVENTS_SIGNAL subscription (same rules as
 * ff_subscription_next_completions). */
FF_API ff_status ff_subscription_next_signal_events(ff_subscription *s, int timeout_ms,
													ff_signal_event_list *out);

/* ========================================================================
 * Flows: DAGs of executions, dependency edges, the completion cascade and
 * flow cancel (client/src/flow.c; reference docs/c-api.md §13, semantics
 * docs/flows.md)
 *
 * Flow ids and edge ids are uuid strings. A flow's members live on the flow's
 * partition: mint their ids with ff_client_new_flow_execution_id (or format
 * "{fp:<ff_flow_partition(flow_id)>}:<uuid>" yourself), create them with
 * ff_create_args.execution_id, then ff_client_add_execution_to_flow. Members
 * are claimable from the moment they are created, so build a graph (members
 * and the edges that block them) in one transaction: BEGIN / COMMIT on
 * ff_client_pgconn(c) around the calls.
 * ======================================================================== */

/* The partition N ("{fp:N}") of a flow: CRC16/XMODEM of the 16 uuid bytes
 * mod 256, as the engine's ff_flow_partition; -1 if flow_id is not a uuid.
 * Pure, thread-safe. */
FF_API int	ff_flow_partition(const char *flow_id);

typedef struct ff_flow_created
{
	char	   *flow_id;		/* canonical (lowercase) */
	bool		created;		/* false: the flow existed already (outcome
								 * already_satisfied; it is left untouched) */
} ff_flow_created;

FF_API void ff_flow_created_clear(ff_flow_created *r);

/* flow_id NULL: minted by the server (a random uuid); flow_kind NULL: "dag";
 * ns NULL: "default". With a flow id the call is idempotent (and re-sent once
 * after a lost connection). */
FF_API ff_status ff_client_create_flow(ff_client *c, const char *flow_id, const char *flow_kind,
									   const char *ns, ff_flow_created *out);

/* A new execution id on the flow's partition (free with ff_free). */
FF_API ff_status ff_client_new_flow_execution_id(ff_client *c, const char *flow_id,
												 char **execution_id_out);

typedef struct ff_flow_member_added
{
	char	   *execution_id;	/* canonical */
	bool		added;			/* false: it was a member already (nothing changed) */
	int32_t		node_count;		/* the flow's members afterwards */
} ff_flow_member_added;

FF_API void ff_flow_member_added_clear(ff_flow_member_added *r);

/* Joins an existing execution to the flow (graph revision +1 when added).
 * Errors: FF_ERR_FLOW_NOT_FOUND, FF_ERR_FLOW_ALREADY_TERMINAL (cancelled
 * flow), FF_ERR_EXECUTION_NOT_FOUND, FF_ERR_EXECUTION_ALREADY_IN_FLOW (member
 * of another flow), FF_ERR_INVALID_INPUT (an id on another partition than the
 * flow's, malformed ids). out may be NULL. */
FF_API ff_status ff_client_add_execution_to_flow(ff_client *c, const char *flow_id,
												 const char *execution_id,
												 ff_flow_member_added *out);

typedef struct ff_edge_args
{
	const char *flow_id;		/* required */
	const char *edge_id;		/* NULL: minted by the server */
	const char *upstream_execution_id;	/* required */
	const char *downstream_execution_id;	/* required */
	int64_t		expected_graph_revision;	/* required: the flow's current
											 * graph revision */
	const char *dependency_kind;	/* NULL: "success_only" */
	const char *data_passing_ref;	/* NULL: none. Set: the upstream's result
									 * becomes the downstream's input */
} ff_edge_args;

typedef struct ff_edge_staged
{
	char	   *edge_id;
	int64_t		new_graph_revision;
} ff_edge_staged;

FF_API void ff_edge_staged_clear(ff_edge_staged *r);

/*
 * Stages an edge upstream -> downstream (it does not block the downstream
 * yet: apply it). Errors, in the engine's order: FF_ERR_SELF_REFERENCING_EDGE,
 * FF_ERR_FLOW_NOT_FOUND, FF_ERR_FLOW_ALREADY_TERMINAL,
 * FF_ERR_STALE_GRAPH_REVISION (retryable: re-read the revision with
 * ff_client_describe_flow and try again), FF_ERR_EXECUTION_NOT_IN_FLOW,
 * FF_ERR_CYCLE_DETECTED, FF_ERR_DEPENDENCY_ALREADY_EXISTS (edge id used; the
 * existing edge as JSON in the error detail). Never re-sent. out may be NULL.
 */
FF_API ff_status ff_client_stage_dependency_edge(ff_client *c, const ff_edge_args *args,
												 ff_edge_staged *out);

typedef struct ff_edge_applied
{
	bool		already_applied;
	int32_t		unsatisfied_count;	/* applied edges into the downstream still
									 * waiting for their upstream */
} ff_edge_applied;

/* Applies a staged edge: the downstream is blocked on it until it resolves
 * (an upstream already terminal resolves it at once). upstream_execution_id
 * NULL: not checked. Errors: FF_ERR_FLOW_NOT_FOUND,
 * FF_ERR_FLOW_ALREADY_TERMINAL, FF_ERR_NOT_FOUND (no such edge),
 * FF_ERR_INVALID_INPUT (the edge has other endpoints),
 * FF_ERR_EXECUTION_NOT_IN_FLOW. out may be NULL. */
FF_API ff_status ff_client_apply_dependency_to_child(ff_client *c, const char *flow_id,
													 const char *edge_id,
													 const char *downstream_execution_id,
													 const char *upstream_execution_id,
													 ff_edge_applied *out);

typedef enum ff_edge_policy_kind
{
	FF_EDGE_POLICY_ALL_OF = 1,	/* every upstream succeeds (the default) */
	FF_EDGE_POLICY_ANY_OF = 2,	/* one upstream succeeds */
	FF_EDGE_POLICY_QUORUM = 3	/* k distinct upstreams succeed */
} ff_edge_policy_kind;

typedef enum ff_on_satisfied
{
	FF_ON_SATISFIED_DEFAULT = 0,	/* argument: the engine's default
									 * (cancel_remaining); result: none (all_of) */
	FF_ON_SATISFIED_CANCEL_REMAINING = 1,	/* any_of / quorum: cancel the
											 * upstreams still running once
											 * the group is decided */
	FF_ON_SATISFIED_LET_RUN = 2
} ff_on_satisfied;

typedef struct ff_edge_group_policy
{
	ff_edge_policy_kind kind;
	int64_t		k;				/* quorum only (1..2147483647); 0 otherwise */
	ff_on_satisfied on_satisfied;	/* any_of / quorum only */
} ff_edge_group_policy;

/* "all_of", "any_of", "quorum" (NULL for other values); the kind of a name
 * (0 if unknown). Pure. */
FF_API const char *ff_edge_policy_kind_name(ff_edge_policy_kind kind);
FF_API ff_edge_policy_kind ff_edge_policy_kind_from_name(const char *name);

/* Sets the policy of a downstream's edge group, before its first edge is
 * staged. *already_set (may be NULL): the same policy was stored already.
 * Errors: FF_ERR_INVALID_INPUT (invalid policy, e.g. quorum k 0, or edges
 * already staged: edge_group_policy_already_fixed), FF_ERR_FLOW_NOT_FOUND,
 * FF_ERR_FLOW_ALREADY_TERMINAL, FF_ERR_EXECUTION_NOT_IN_FLOW; FF_ERR_USAGE for
 * a kind or on_satisfied value outside the enums. */
FF_API ff_status ff_client_set_edge_group_policy(ff_client *c, const char *flow_id,
												 const char *downstream_execution_id,
												 const ff_edge_group_policy *policy,
												 bool *already_set);

/*
 * The lease holder of a member waits for its dependencies (typically children
 * it created and made upstreams of itself): the lease is released and the
 * attempt parked; once the edge group is satisfied the execution is
 * claimable again and a claim resumes the same attempt (same index). If the
 * group can never be satisfied the execution is skipped. *state_out (may be
 * NULL; free with ff_free): the public state afterwards, "waiting_children",
 * or "waiting" when nothing was left to wait for. Errors: the lease errors of
 * every handle call, FF_ERR_EXECUTION_NOT_IN_FLOW (not a flow member: it keeps
 * its lease). Never re-sent. In the worker runtime, return
 * FF_JOB_WAIT_CHILDREN instead.
 */
FF_API ff_status ff_client_wait_children(ff_client *c, const ff_handle *handle,
										 char **state_out);

/* Flow cancel */
typedef enum ff_flow_cancel_policy
{
	FF_FLOW_CANCEL_ALL = 0,		/* cancel_all: every non-terminal member */
	FF_FLOW_CANCEL_PENDING = 1, /* cancel_pending: members not running under a
								 * lease right now (the running ones drain) */
	FF_FLOW_CANCEL_FLOW_ONLY = 2	/* flow_only: mark the flow cancelled, the
									 * members run on */
} ff_flow_cancel_policy;

/* "cancel_all", "cancel_pending", "flow_only"; NULL if out of range. Pure. */
FF_API const char *ff_flow_cancel_policy_name(ff_flow_cancel_policy policy);

typedef enum ff_flow_cancel_wait
{
	FF_FLOW_CANCEL_NO_WAIT = 0, /* members held by another transaction go to
								 * the cancel backlog at once */
	FF_FLOW_CANCEL_WAIT_TIMEOUT = 1,	/* retry them until wait_timeout_ms */
	FF_FLOW_CANCEL_WAIT_INDEFINITE = 2	/* ... until the engine's 300 s ceiling */
} ff_flow_cancel_wait;

typedef struct ff_flow_cancel_args
{
	const char *flow_id;		/* required */
	ff_flow_cancel_policy policy;
	ff_flow_cancel_wait wait;
	int64_t		wait_timeout_ms;	/* FF_FLOW_CANCEL_WAIT_TIMEOUT: 1..300000 */
	const char *reason;			/* NULL: "operator_requested" */
} ff_flow_cancel_args;

typedef struct ff_flow_cancel_result
{
	bool		scheduled;		/* outcome cancellation_scheduled: some members
								 * were left to the cancel backlog (false:
								 * outcome cancelled) */
	char	   *cancellation_policy;	/* the policy applied */
	char	  **member_execution_ids;	/* cancelled by this call */
	size_t		n_member_execution_ids;
	char	  **pending_execution_ids;	/* left to the backlog */
	size_t		n_pending_execution_ids;
} ff_flow_cancel_result;

FF_API void ff_flow_cancel_result_clear(ff_flow_cancel_result *r);

/* Cancels a flow (idempotent; again on a cancelled flow cancels what the new
 * policy selects). Errors: FF_ERR_FLOW_NOT_FOUND, FF_ERR_INVALID_INPUT
 * (wait_timeout_ms out of range or given without FF_FLOW_CANCEL_WAIT_TIMEOUT);
 * FF_ERR_USAGE for values outside the enums. out may be NULL. */
FF_API ff_status ff_client_cancel_flow(ff_client *c, const ff_flow_cancel_args *args,
									   ff_flow_cancel_result *out);

typedef struct ff_flow_cancel_header_result
{
	bool		already_terminal;	/* the flow was cancelled before (its stored
									 * policy and reason are returned) */
	char	   *cancellation_policy;
	char	   *cancel_reason;
	char	  **member_execution_ids;	/* members that owe an acknowledgement */
	size_t		n_member_execution_ids;
} ff_flow_cancel_header_result;

FF_API void ff_flow_cancel_header_result_clear(ff_flow_cancel_header_result *r);

/* The two-step protocol: cancels the flow (with FF_FLOW_CANCEL_ALL also its
 * members, each owing an ff_client_ack_cancel_member within 30 s, after which
 * the cancel-backlog reconciler finishes the job). reason is required. */
FF_API ff_status ff_client_cancel_flow_header(ff_client *c, const char *flow_id,
											  const char *reason,
											  ff_flow_cancel_policy policy,
											  ff_flow_cancel_header_result *out);
FF_API ff_status ff_client_ack_cancel_member(ff_client *c, const char *flow_id,
											 const char *execution_id);

/* Reads. An unknown flow or edge is not an error: found == false. */
typedef enum ff_edge_group_state
{
	FF_EDGE_GROUP_PENDING = 1,
	FF_EDGE_GROUP_SATISFIED = 2,
	FF_EDGE_GROUP_IMPOSSIBLE = 3
} ff_edge_group_state;

typedef struct ff_edge_group_info
{
	char	   *downstream_execution_id;
	ff_edge_group_policy policy;	/* on_satisfied DEFAULT for all_of */
	ff_edge_group_state state;
	int32_t		k_target;		/* successes needed */
	int32_t		total_deps;		/* staged edges into the downstream */
	int32_t		applied_count;
	int32_t		satisfied_count;	/* upstreams that succeeded */
	int32_t		failed_count;
	int32_t		skipped_count;
	int32_t		running_count;	/* not resolved yet */
	int64_t		state_changed_at_ms;	/* 0: still pending */
	bool		cancel_siblings_fired;
	char	   *cancel_siblings_reason; /* NULL, sibling_quorum_satisfied,
										 * sibling_quorum_impossible */
	char	  **cancel_siblings_pending;	/* siblings left to the reconciler */
	size_t		n_cancel_siblings_pending;
} ff_edge_group_info;

typedef struct ff_flow_description
{
	bool		found;
	char	   *flow_id;
	char	   *flow_kind;
	char	   *ns;
	char	   *public_flow_state;	/* derived: open, running, blocked,
									 * completed, failed, cancelled */
	int64_t		graph_revision;
	int32_t		node_count;
	int32_t		edge_count;
	int64_t		created_at_ms;
	int64_t		last_mutation_at_ms;
	int64_t		cancelled_at_ms;	/* 0 unless cancelled */
	char	   *cancel_reason;	/* NULL unless cancelled */
	char	   *cancellation_policy;	/* NULL unless cancelled */
	char	   *tags_json;		/* JSON object text */
	ff_edge_group_info *edge_groups;	/* one per downstream, by id */
	size_t		n_edge_groups;
} ff_flow_description;

FF_API ff_status ff_client_describe_flow(ff_client *c, const char *flow_id,
										 ff_flow_description *out);
FF_API void ff_flow_description_clear(ff_flow_description *d);

typedef struct ff_flow_list_item
{
	char	   *flow_id;
	int64_t		created_at_ms;
	char	   *status;			/* active, completed, failed, cancelled */
	char	   *public_flow_state;
} ff_flow_list_item;

typedef struct ff_flow_list
{
	ff_flow_list_item *items;
	size_t		count;
} ff_flow_list;

/* One page of a partition's ("{fp:N}") flows by flow id; cursor NULL or the
 * last flow_id of the previous page; max_results 0: 100 (at most 1000). */
FF_API ff_status ff_client_list_flows(ff_client *c, const char *partition_key,
									  const char *cursor, int32_t max_results,
									  ff_flow_list *out);
FF_API void ff_flow_list_clear(ff_flow_list *l);

typedef struct ff_edge_info
{
	char	   *edge_id;
	char	   *flow_id;
	char	   *upstream_execution_id;
	char	   *downstream_execution_id;
	char	   *dependency_kind;
	char	   *satisfaction_condition;
	char	   *data_passing_ref;	/* NULL if none */
	char	   *edge_state;		/* pending (staged), applied */
	int64_t		created_at_ms;
	char	   *created_by;
	int64_t		applied_at_ms;	/* 0: not applied */
	char	   *resolution;		/* NULL: unresolved; success, failed, skipped */
	int64_t		resolved_at_ms; /* 0: unresolved */
} ff_edge_info;

typedef struct ff_edge_list
{
	ff_edge_info *items;
	size_t		count;
} ff_edge_list;

typedef enum ff_edge_direction
{
	FF_EDGES_OUTGOING = 1,		/* edges out of the execution (to its downstreams) */
	FF_EDGES_INCOMING = 2		/* edges into it (from its upstreams) */
} ff_edge_direction;

/* A member's edges in one direction, by edge id (none for an unknown flow). */
FF_API ff_status ff_client_list_edges(ff_client *c, const char *flow_id,
									  ff_edge_direction direction,
									  const char *execution_id, ff_edge_list *out);
FF_API void ff_edge_list_clear(ff_edge_list *l);

/* One edge; *found (may be NULL) false and out zeroed if there is none. */
FF_API ff_status ff_client_describe_edge(ff_client *c, const char *flow_id, const char *edge_id,
										 ff_edge_info *out, bool *found);
FF_API void ff_edge_info_clear(ff_edge_info *e);

/* The member's flow id (free with ff_free); NULL for a solo or unknown
 * execution. */
FF_API ff_status ff_client_resolve_execution_flow_id(ff_client *c, const char *execution_id,
													 char **flow_id_out);

typedef enum ff_flow_eligibility
{
	FF_FLOW_ELIGIBILITY_NOT_FOUND = 1,
	FF_FLOW_ELIGIBILITY_NOT_RUNNABLE = 2,	/* not in phase runnable */
	FF_FLOW_ELIGIBILITY_OWNED = 3,
	FF_FLOW_ELIGIBILITY_TERMINAL = 4,
	FF_FLOW_ELIGIBILITY_ELIGIBLE = 5,	/* no flow, no pending dependencies, or
										 * satisfied */
	FF_FLOW_ELIGIBILITY_BLOCKED_BY_DEPENDENCIES = 6,
	FF_FLOW_ELIGIBILITY_IMPOSSIBLE = 7
} ff_flow_eligibility;

/* "not_found", "eligible", ... (NULL if out of range). Pure. */
FF_API const char *ff_flow_eligibility_name(ff_flow_eligibility e);

FF_API ff_status ff_client_evaluate_flow_eligibility(ff_client *c, const char *execution_id,
													 ff_flow_eligibility *out);

/* Flow tags (keys as execution tag keys, else FF_ERR_INVALID_TAG_KEY).
 * *value_out NULL (free with ff_free) if the tag or the flow does not exist;
 * set on an unknown flow: FF_ERR_FLOW_NOT_FOUND. */
FF_API ff_status ff_client_get_flow_tag(ff_client *c, const char *flow_id, const char *key,
										char **value_out);
FF_API ff_status ff_client_set_flow_tag(ff_client *c, const char *flow_id, const char *key,
										const char *value);

typedef struct ff_flow_summary
{
	bool		projected;		/* false for a flow without members (nothing
								 * stored) */
	int64_t		total_members;
	int32_t		members_completed;
	int32_t		members_failed;
	int32_t		members_cancelled;
	int32_t		members_expired;
	int32_t		members_skipped;
	int32_t		members_active;
	int32_t		members_suspended;
	int32_t		members_waiting;
	int32_t		members_delayed;
	int32_t		members_rate_limited;
	int32_t		members_waiting_children;
	char	   *public_flow_state;
} ff_flow_summary;

/* Counts the members by public state, derives the flow state and stores
 * both (ff_project_flow_summary). FF_ERR_FLOW_NOT_FOUND for an unknown flow. */
FF_API ff_status ff_client_project_flow_summary(ff_client *c, const char *flow_id,
												ff_flow_summary *out);
FF_API void ff_flow_summary_clear(ff_flow_summary *s);

/* The flow reconcilers, one pass each (batch_size 0: 1000; *changed may be
 * NULL): edges resolved / pending sibling cancels settled / backlog entries
 * drained. */
FF_API ff_status ff_client_reconcile_dependencies(ff_client *c, int32_t batch_size,
												  int32_t *changed);
FF_API ff_status ff_client_reconcile_sibling_cancel(ff_client *c, int32_t batch_size,
													int32_t *changed);
FF_API ff_status ff_client_reconcile_cancel_backlog(ff_client *c, int32_t batch_size,
													int32_t *changed);

/* ========================================================================
 * Worker runtime
 * ======================================================================== */
typedef struct ff_job ff_job;	/* valid during one handler call */

typedef enum ff_job_outcome
{
	FF_JOB_COMPLETE = 0,		/* ff_complete with the result set by ff_job_set_result */
	FF_JOB_FAIL = 1,			/* ff_fail with ff_job_set_failure's message (default
								 * "handler failed", transient) */
	FF_JOB_CANCEL = 2,			/* ff_cancel (reason from ff_job_set_cancel_reason) */
	FF_JOB_DELAY = 3,			/* ff_delay until ff_job_set_delay's time */
	FF_JOB_ABANDON = 4,			/* do nothing: the lease runs out and the execution
								 * is reclaimed later */
	FF_JOB_WAIT_CHILDREN = 6,	/* flows: ff_wait_children with the job's handle
								 * (client/src/flow.c): the lease is released and
								 * the same attempt comes back to a handler once
								 * the execution's dependencies are satisfied */
	FF_JOB_SUSPENDED = 5		/* the handler suspended the execution with
								 * ff_job_suspend (outcome suspended): nothing
								 * more to do; it comes back once resumed */
} ff_job_outcome;

typedef ff_job_outcome (*ff_job_handler) (ff_job *job, void *user_data);

FF_API const char *ff_job_execution_id(const ff_job *job);
FF_API const char *ff_job_lane_id(const ff_job *job);
FF_API int32_t ff_job_attempt_index(const ff_job *job);
FF_API int64_t ff_job_lease_epoch(const ff_job *job);
FF_API const ff_handle *ff_job_handle(const ff_job *job);

/* The input payload (NULL if none); *len_out (may be NULL) gets its length. */
FF_API const unsigned char *ff_job_input(const ff_job *job, size_t *len_out);

/* The handler thread's own connection (for progress, reads, ...). */
FF_API ff_client *ff_job_client(ff_job *job);

/* True once the runtime learned that this job's lease is gone (renewal got
 * stale_lease / lease_expired / execution_not_active): stop and abandon. */
FF_API bool ff_job_lease_lost(const ff_job *job);

/* True once the worker is shutting down: finish the job soon. */
FF_API bool ff_job_stopping(const ff_job *job);

/* The result for FF_JOB_COMPLETE (copied). */
FF_API ff_status ff_job_set_result(ff_job *job, const void *data, size_t len);

/* Message / classification (NULL: transient) / detail for FF_JOB_FAIL (copied). */
FF_API ff_status ff_job_set_failure(ff_job *job, const char *message, const char *classification,
									const void *detail, size_t detail_len);
FF_API ff_status ff_job_set_cancel_reason(ff_job *job, const char *reason);
FF_API void ff_job_set_delay(ff_job *job, int64_t delay_until_ms);

/* ff_client_progress on the job's own connection. */
FF_API ff_status ff_job_progress(ff_job *job, int32_t percent, const char *message);

/* ff_client_suspend of the job's execution on the job's own connection.
 * With outcome FF_SUSPEND_SUSPENDED the lease is gone: hand out the tokens
 * and return FF_JOB_SUSPENDED (the execution comes back to a handler, same
 * attempt, once resumed). FF_SUSPEND_ALREADY_SATISFIED: keep working. */
FF_API ff_status ff_job_suspend(ff_job *job, const ff_suspend_args *args,
								ff_suspend_result *out);

typedef enum ff_log_level
{
	FF_LOG_DEBUG = 0,
	FF_LOG_INFO = 1,
	FF_LOG_WARNING = 2,
	FF_LOG_ERROR = 3
} ff_log_level;

typedef void (*ff_log_fn) (void *user_data, ff_log_level level, const char *message);

typedef struct ff_worker_stats
{
	unsigned long claimed;		/* executions claimed */
	unsigned long completed;	/* ff_complete accepted */
	unsigned long failed;		/* ff_fail accepted */
	unsigned long retries_scheduled;	/* ... of which scheduled a retry */
	unsigned long cancelled;
	unsigned long delayed;
	unsigned long abandoned;	/* FF_JOB_ABANDON */
	unsigned long finish_calls; /* ff_complete_many / ff_fail_many round trips */
	unsigned long renew_calls;	/* ff_renew_many round trips */
	unsigned long lease_lost;	/* jobs whose lease was gone (stale, expired,
								 * not active) when finishing */
	unsigned long renewals;		/* successful lease renewals */
	unsigned long errors;		/* other failed engine calls (logged) */
	unsigned long claim_calls;	/* ff_claim round trips */
	unsigned long empty_claims; /* ... that found nothing */
	unsigned long wakeups;		/* idle waits cut short by a notification */
	unsigned long max_running;	/* most handlers running at the same time */
	unsigned long suspended;	/* FF_JOB_SUSPENDED after ff_job_suspend */
	unsigned long waiting_children; /* FF_JOB_WAIT_CHILDREN accepted */
} ff_worker_stats;

typedef struct ff_worker_options
{
	const char *worker_id;		/* NULL: "ff-worker" */
	const char *worker_instance_id; /* NULL: "<hostname>/<pid>" */
	int64_t		lease_ttl_ms;	/* 0: 30000; renewed every ttl/3 */
	int32_t		batch_size;		/* max claims per ff_claim, 0: concurrency */
	int32_t		prefetch;		/* while busy, jobs claimed ahead of free
								 * handlers (a local queue); 0: batch_size - 1,
								 * -1: none */
	int32_t		finish_batch_size;	/* completions / failures sent per call
									 * (ff_complete_many, ff_fail_many); 0: 64,
									 * 1: one call per job, unbatched */
	int32_t		finish_delay_ms;	/* longest wait for a batch to fill, 0: 5 */
	int32_t		idle_backoff_min_ms;	/* 0: 10 */
	int32_t		idle_backoff_max_ms;	/* 0: 500 */
	const char *wake_channel;	/* LISTENed while idle; NULL: "ff_lease_event",
								 * "": none (see docs/c-api.md) */
	bool		handle_signals; /* stop on SIGINT / SIGTERM (handlers installed
								 * for the duration of the run) */
	const volatile sig_atomic_t *stop_flag; /* stop once *stop_flag != 0 */
	unsigned long max_jobs;		/* 0: unlimited; stop after claiming this many */
	bool		exit_when_idle; /* stop when a claim finds nothing and no job runs */
	int32_t		reconcile_interval_ms;	/* > 0: also run the four reconcilers this
										 * often (for servers without the engine's
										 * background reconcilers) */
	ff_log_fn	log;			/* NULL: silent */
	void	   *log_user_data;
	ff_worker_stats *stats;		/* filled in when ff_worker_run returns */
} ff_worker_options;

/*
 * Runs a worker until stopped: claims executions of `lane_id` for a worker
 * offering `capabilities`, runs `handler` for each on one of `concurrency`
 * threads (each with its own connection), renews leases in the background,
 * and completes / fails / cancels / delays per the handler's return. Returns
 * FF_OK after a clean shutdown (stop flag, signal, ff_worker_request_stop,
 * max_jobs or exit_when_idle), with every claimed job finished; an error only
 * if it could not start (first connection failed, bad arguments), with *err
 * (may be NULL) describing it. A lost lease ends that job, never the worker.
 */
FF_API ff_status ff_worker_run(const char *conninfo, const char *lane_id,
							   const char *const *capabilities, size_t n_capabilities,
							   int concurrency, ff_job_handler handler, void *user_data,
							   const ff_worker_options *opts, ff_error *err);

/* Asks every ff_worker_run of the process to stop (async-signal-safe). */
FF_API void ff_worker_request_stop(void);

/* ========================================================================
 * Batches: the high-throughput path (client/src/batch.c; reference
 * docs/performance.md). Many executions or handles per call: one
 * statement, one round trip, one transaction. At most 10000 per call.
 *
 * The handle batches fence every handle on its own: the call returns FF_OK
 * with one result per input, in input order, each with the status the
 * single call would have returned (FF_OK, FF_ERR_STALE_LEASE, ...), so one
 * bad handle never fails the others. The call itself fails only for
 * arguments that are wrong as a whole, or the connection.
 * ======================================================================== */

/* Per-execution fields of ff_client_create_executions (zero = default). */
typedef struct ff_create_batch_item
{
	const void *input_payload;	/* NULL: no payload */
	size_t		input_payload_len;
	const char *execution_id;	/* NULL: minted in the lane's solo partition */
	const char *idempotency_key;	/* NULL: none */
	int32_t		priority;		/* 0..9000 (clamped) */
	const char *tags_json;		/* JSON object of strings, NULL: none */
} ff_create_batch_item;

/* Fields shared by every execution of a batch (as in ff_create_args). */
typedef struct ff_create_batch_args
{
	const char *lane_id;		/* required */
	const char *ns;
	const char *execution_kind;
	const char *const *required_capabilities;
	size_t		n_required_capabilities;
	const char *policy_json;
	int64_t		delay_until_ms; /* 0: none */
	int64_t		execution_deadline_at_ms;	/* 0: none */
	const char *creator_identity;
} ff_create_batch_args;

typedef struct ff_create_result_list
{
	ff_create_result *items;	/* items[i] is the result of input i */
	size_t		count;
} ff_create_result_list;

/*
 * Creates n executions (ff_create_executions). Validation as for one; an
 * invalid item rejects the whole batch (nothing is created) and the error
 * message's context names the item. A repeated idempotency key or id
 * inside the batch gives created = false for the repeat.
 */
FF_API ff_status ff_client_create_executions(ff_client *c, const ff_create_batch_args *args,
											 const ff_create_batch_item *items, size_t n,
											 ff_create_result_list *out);
FF_API void ff_create_result_list_clear(ff_create_result_list *l);

/* One handle's result in a batch. */
typedef struct ff_batch_result
{
	ff_status	status;			/* FF_OK or the single call's error kind */
	char	   *execution_id;	/* NULL if the handle did not decode */
	char	   *message;		/* the error message, NULL on FF_OK */
	char		sqlstate[6];	/* "" on FF_OK */
	int64_t		lease_expires_at_ms;	/* renew */
	int64_t		lease_epoch;	/* renew */
	ff_fail_outcome fail_outcome;	/* fail: FF_FAIL_RETRY_SCHEDULED / FF_FAIL_TERMINAL */
	int64_t		delay_until_ms; /* fail: the retry time, 0 when terminal */
} ff_batch_result;

typedef struct ff_batch_result_list
{
	ff_batch_result *items;		/* items[i] is the result of input i */
	size_t		count;
} ff_batch_result_list;

FF_API void ff_batch_result_list_clear(ff_batch_result_list *l);

typedef struct ff_complete_item
{
	const ff_handle *handle;	/* required */
	const void *payload;		/* NULL: no result */
	size_t		payload_len;
} ff_complete_item;

typedef struct ff_fail_item
{
	const ff_handle *handle;	/* required */
	const char *message;		/* required */
	const char *classification; /* NULL: transient */
	const void *detail;			/* NULL: none */
	size_t		detail_len;
} ff_fail_item;

/* ff_renew_many / ff_complete_many / ff_fail_many. Resent once after a lost
 * connection (the engine treats repeats as replays). */
FF_API ff_status ff_client_renew_many(ff_client *c, const ff_handle *const *handles, size_t n,
									  ff_batch_result_list *out);
FF_API ff_status ff_client_complete_many(ff_client *c, const ff_complete_item *items, size_t n,
										 ff_batch_result_list *out);
FF_API ff_status ff_client_fail_many(ff_client *c, const ff_fail_item *items, size_t n,
									 ff_batch_result_list *out);

/* ========================================================================
 * Streams: per-attempt output frames, durable summaries, live tailing
 * (client/src/stream.c; semantics, SQL and ffctl: docs/streams.md)
 *
 * Each attempt of an execution owns an append-only stream. Its lease holder
 * appends frames; anyone reads them by frame id, tails them (the blocking
 * tail LISTENs on the stream's channel, so it wakes as soon as a frame
 * commits), or reads the attempt's summary document, which summary frames
 * (RFC 7396 JSON merge patches) build up. The stream closes when its attempt
 * ends; appends after that fail with FF_ERR_STREAM_CLOSED.
 *
 * Frame ids are "<ts_ms>-<seq>" and strictly increase per attempt. Cursors
 * are a frame id, "<ms>" ((ms, 0) as a lower bound, (ms, max) as an upper
 * one), "start" or "end" (FF_ERR_INVALID_OFFSET otherwise). attempt_index
 * FF_CURRENT_ATTEMPT means the execution's current attempt. An unknown
 * execution or attempt is FF_ERR_STREAM_NOT_FOUND.
 * ======================================================================== */
#define FF_STREAM_MAX_FRAME_BYTES	65536	/* larger: FF_ERR_RETENTION_LIMIT_EXCEEDED */
#define FF_STREAM_NULL_SENTINEL		"__ff_null__"	/* a summary patch value that sets
													 * its key to JSON null */
#define FF_CURRENT_ATTEMPT			(-1)

typedef enum ff_stream_mode
{
	FF_STREAM_DURABLE = 0,		/* kept until retention (the default) */
	FF_STREAM_SUMMARY = 1,		/* the payload is a JSON merge patch applied to
								 * the attempt's summary document */
	FF_STREAM_BEST_EFFORT = 2	/* the stream keeps the newest K best-effort
								 * frames, K following the append rate */
} ff_stream_mode;

typedef struct ff_frame_args
{
	const char *frame_type;		/* required: 1..64 of [A-Za-z0-9_.:/-] (log,
								 * delta, event, ...); else FF_ERR_INVALID_FRAME_TYPE */
	const void *payload;		/* any bytes; NULL with payload_len 0: empty */
	size_t		payload_len;	/* at most FF_STREAM_MAX_FRAME_BYTES */
	ff_stream_mode mode;
	const char *correlation_id; /* NULL: none */
	const char *encoding;		/* a label; NULL: "utf8" for UTF-8 text, else "binary" */
	/* FF_STREAM_BEST_EFFORT only (else leave 0); 0: the engine's default */
	int32_t		ttl_ms;			/* visibility target, 30000 */
	int32_t		maxlen_floor;	/* 64 */
	int32_t		maxlen_ceiling; /* 16384 */
	double		ema_alpha;		/* 0.2, in (0, 1] */
} ff_frame_args;

typedef struct ff_append_result
{
	char		frame_id[32];	/* "<ts_ms>-<seq>" */
	int64_t		ts_ms;
	int32_t		seq;
	int64_t		frame_count;	/* frames appended to this stream, ever */
	int64_t		summary_version;	/* summary frames: the document's new
									 * version (1, 2, ...); else 0 */
	int32_t		maxlen_applied; /* best-effort frames: K; else 0 */
} ff_append_result;

/* Appends a frame to the stream of the handle's attempt (the lease holder
 * only: stale handles get FF_ERR_STALE_LEASE / FF_ERR_LEASE_EXPIRED / ...).
 * out may be NULL. Not re-sent after a lost connection (it could append
 * twice). */
FF_API ff_status ff_client_append_frame(ff_client *c, const ff_handle *handle,
										const ff_frame_args *args, ff_append_result *out);

/* The same from a worker handler, on the job's own connection and handle. */
FF_API ff_status ff_job_append_frame(ff_job *job, const ff_frame_args *args,
									 ff_append_result *out);

typedef struct ff_frame
{
	char		frame_id[32];	/* "<ts_ms>-<seq>" */
	int64_t		ts_ms;
	int32_t		seq;
	char	   *mode;			/* "durable", "summary", "best_effort" */
	char	   *frame_type;
	char	   *encoding;
	char	   *correlation_id; /* NULL if none */
	int64_t		summary_version;	/* summary frames: the version it made; else 0 */
	ff_bytes	payload;		/* exactly the bytes appended */
} ff_frame;

typedef struct ff_frame_list
{
	ff_frame   *items;			/* oldest first */
	size_t		count;
	int32_t		attempt_index;	/* the attempt whose stream was read */
	bool		closed;			/* the attempt has ended: once a read returns
								 * fewer than count_limit frames, no frame will
								 * follow the last one returned */
	int64_t		closed_at_ms;	/* 0 while open */
	char	   *closed_reason;	/* the attempt's end reason (completed,
								 * failed_retry_scheduled, lease_expired, ...);
								 * NULL while open */
} ff_frame_list;

FF_API void ff_frame_list_clear(ff_frame_list *l);

/* Frames with from <= id <= to (NULL: "start" / "end"), oldest first;
 * count_limit 0: 1000 (1..10000). */
FF_API ff_status ff_client_read_stream(ff_client *c, const char *execution_id,
									   int32_t attempt_index, const char *from, const char *to,
									   int32_t count_limit, ff_frame_list *out);

typedef enum ff_tail_visibility
{
	FF_TAIL_ALL = 0,
	FF_TAIL_EXCLUDE_BEST_EFFORT = 1 /* durable and summary frames only */
} ff_tail_visibility;

/*
 * Frames after the concrete cursor `after` (exclusive; NULL: "0-0", the
 * beginning), oldest first. block_ms 0: one read; > 0: when there is nothing
 * yet, wait up to block_ms for a frame (LISTEN on the stream's channel; a
 * frame committed by any connection wakes it at once) or for the stream to
 * close, then read again. An empty list is a timeout (closed false) or the
 * end of a closed stream (closed true). The attempt is resolved once, before
 * waiting. Waiting needs the client outside an explicit transaction
 * (FF_ERR_USAGE otherwise); returns early (FF_OK, maybe empty) when a signal
 * interrupts the wait.
 */
FF_API ff_status ff_client_tail_stream(ff_client *c, const char *execution_id,
									   int32_t attempt_index, const char *after, int block_ms,
									   int32_t count_limit, ff_tail_visibility visibility,
									   ff_frame_list *out);

typedef struct ff_stream_info
{
	char	   *execution_id;	/* canonical */
	int32_t		attempt_index;
	char	   *channel;		/* NOTIFY channel: ff_stream_<uuid>_<attempt_index> */
	bool		closed;
	int64_t		closed_at_ms;	/* 0 while open */
	char	   *closed_reason;	/* NULL while open */
	char	   *last_frame_id;	/* NULL before the first frame */
	int64_t		frame_count;	/* frames appended, ever */
	int64_t		retained_frames;	/* frames stored now (after trimming and retention) */
	int64_t		total_bytes;	/* payload bytes appended, ever */
	int64_t		first_frame_at_ms;	/* 0 before the first frame */
	int64_t		last_frame_at_ms;
	bool		has_durable_frame;
	int64_t		summary_version;	/* 0: no summary */
	double		ema_rate_hz;	/* best-effort append rate */
	int32_t		maxlen_applied_last;	/* the latest best-effort K */
	int64_t		retention_trimmed_at_ms;	/* 0 unless retention removed the frames */
} ff_stream_info;

FF_API ff_status ff_client_stream_info(ff_client *c, const char *execution_id,
									   int32_t attempt_index, ff_stream_info *out);
FF_API void ff_stream_info_clear(ff_stream_info *i);

typedef struct ff_stream_summary
{
	bool		found;			/* false: no summary frame yet */
	char	   *document_json;	/* the merged document (JSON object text) */
	int64_t		version;		/* patches applied */
	char	   *patch_kind;		/* "json-merge-patch" */
	int64_t		first_applied_ms;
	int64_t		last_updated_ms;
} ff_stream_summary;

FF_API ff_status ff_client_read_summary(ff_client *c, const char *execution_id,
										int32_t attempt_index, ff_stream_summary *out);
FF_API void ff_stream_summary_clear(ff_stream_summary *s);

/* One pass of ff_reconcile_stream_retention; *changed (may be NULL) = streams
 * trimmed. batch_size 0: 1000. */
FF_API ff_status ff_client_reconcile_stream_retention(ff_client *c, int32_t batch_size,
													  int32_t *changed);

/* ========================================================================
 * Scheduler, claim grants, reclaim, operator controls, lanes and the worker
 * registry (docs/operator.md; client/src/operator.c). Outcomes the engine
 * returns as rows are plain strings ("cancelled", "already_satisfied", ...);
 * refusals are errors with their YF kind (FF_ERR_INVALID_CLAIM_GRANT, ...).
 * ======================================================================== */

/* What a grant is issued to; zero / NULL members take the engine's default. */
typedef struct ff_grant_args
{
	const char *worker_id;		/* required */
	const char *worker_instance_id; /* required */
	const char *const *capabilities;	/* the worker's capabilities */
	size_t		n_capabilities;
	int64_t		grant_ttl_ms;	/* 0: 10000 (1..60000) */
	const char *capability_hash;	/* optional, stored with the grant */
	const char *route_snapshot_json;	/* optional */
	const char *admission_summary;	/* optional */
} ff_grant_args;

/* A claim grant. found is false when the scheduler had no work. */
typedef struct ff_claim_grant
{
	bool		found;
	char	   *execution_id;
	char	   *partition_key;	/* "{fp:N}" */
	char	   *lane_id;
	char	   *grant_key;		/* pass it to ff_client_claim_execution */
	int64_t		expires_at_ms;
} ff_claim_grant;

FF_API void ff_claim_grant_clear(ff_claim_grant *g);

/* ff_claim_for_worker: one grant from the lanes (fair across lanes and
 * partitions), or found = false. Only worker ids, capabilities and
 * grant_ttl_ms of *a are used. */
FF_API ff_status ff_client_claim_for_worker(ff_client *c, const char *const *lanes, size_t n_lanes,
											const ff_grant_args *a, ff_claim_grant *out);

/* ff_issue_claim_grant: a grant for one named execution. */
FF_API ff_status ff_client_issue_claim_grant(ff_client *c, const char *execution_id,
											 const ff_grant_args *a, ff_claim_grant *out);

/* A claim made with a grant (or by the operator). claimed is false when the
 * call returned no row (see each function). */
typedef struct ff_granted_claim
{
	bool		claimed;
	ff_claimed	claim;			/* handle, execution id, attempt, lease, input */
	char	   *attempt_type;	/* initial, retry, replay, reclaim */
	char	   *outcome;		/* ff_client_reclaim_execution: "claimed" or
								 * "reclaim_cap_exceeded"; NULL otherwise */
	int32_t		reclaim_count;	/* ff_client_reclaim_execution only */
} ff_granted_claim;

FF_API void ff_granted_claim_clear(ff_granted_claim *g);

/* ff_claim_execution: consume a claim grant. lease_ttl_ms 0: 30000.
 * claimed = false when the execution's budgets or quota held it back. */
FF_API ff_status ff_client_claim_execution(ff_client *c, const char *execution_id,
										   const char *grant_key, const char *worker_id,
										   const char *worker_instance_id, int64_t lease_ttl_ms,
										   ff_granted_claim *out);

/* ff_issue_grant_and_claim: the operator leases a named execution in one
 * step; worker ids NULL: "operator". claimed = false if the reclaim cap
 * failed the execution instead. */
FF_API ff_status ff_client_issue_grant_and_claim(ff_client *c, const char *execution_id,
												 int64_t lease_ttl_ms, const char *worker_id,
												 const char *worker_instance_id,
												 ff_granted_claim *out);

/* A reclaim grant (RFC-024). outcome "granted", or "reclaim_cap_exceeded"
 * (the execution was failed; grant_key is NULL). */
typedef struct ff_reclaim_grant
{
	char	   *outcome;
	char	   *execution_id;
	char	   *partition_key;
	char	   *lane_id;
	char	   *grant_key;		/* NULL unless granted */
	int64_t		expires_at_ms;	/* 0 unless granted */
	int32_t		reclaim_count;
} ff_reclaim_grant;

FF_API void ff_reclaim_grant_clear(ff_reclaim_grant *g);
FF_API ff_status ff_client_issue_reclaim_grant(ff_client *c, const char *execution_id,
											   const ff_grant_args *a, ff_reclaim_grant *out);

/* ff_reclaim_execution: out->outcome "claimed" (claimed = true) or
 * "reclaim_cap_exceeded" (claimed = false, the execution failed). */
FF_API ff_status ff_client_reclaim_execution(ff_client *c, const char *execution_id,
											 const char *grant_key, const char *worker_id,
											 const char *worker_instance_id, int64_t lease_ttl_ms,
											 ff_granted_claim *out);

/* ff_claim_from_resume_grant: claimed = false when there was nothing left to
 * resume (the grant is used up all the same). */
FF_API ff_status ff_client_claim_from_resume_grant(ff_client *c, const char *grant_key,
												   const char *worker_id,
												   const char *worker_instance_id,
												   int64_t lease_ttl_ms, ff_granted_claim *out);

typedef struct ff_eligible_execution
{
	char	   *execution_id;
	char	   *partition_key;
	int32_t		priority;
	int64_t		created_at_ms;
	char	   *attempt_state;
	bool		granted;		/* a live grant reserves it */
} ff_eligible_execution;

typedef struct ff_eligible_list
{
	ff_eligible_execution *items;
	size_t		count;
} ff_eligible_list;

/* ff_scan_eligible_executions: claim order. partition_key NULL: all;
 * max_results 0: 100. */
FF_API ff_status ff_client_scan_eligible_executions(ff_client *c, const char *lane_id,
													const char *partition_key, int32_t max_results,
													ff_eligible_list *out);
FF_API void ff_eligible_list_clear(ff_eligible_list *l);

typedef struct ff_block_result
{
	char	   *eligibility_state;
	char	   *blocking_reason;
	char	   *blocking_detail;	/* NULL if none */
	char	   *public_state;
} ff_block_result;

FF_API void ff_block_result_clear(ff_block_result *r);
/* reason_code NULL: waiting_for_capable_worker */
FF_API ff_status ff_client_block_route(ff_client *c, const char *execution_id,
									   const char *reason_code, const char *reason_detail,
									   ff_block_result *out);
/* expected_blocking_reason NULL: any */
FF_API ff_status ff_client_unblock_execution(ff_client *c, const char *execution_id,
											 const char *expected_blocking_reason,
											 ff_block_result *out);

/* Operator controls */
typedef struct ff_cancel_execution_result
{
	char	   *outcome;		/* "cancelled" or "already_cancelled" */
	char	   *public_state;
	bool		lease_revoked;	/* a live lease was taken away */
} ff_cancel_execution_result;

FF_API void ff_cancel_execution_result_clear(ff_cancel_execution_result *r);

/* source NULL: "operator_override"; lease_epoch (may be NULL) fences a held
 * lease when source is something else. */
FF_API ff_status ff_client_cancel_execution(ff_client *c, const char *execution_id,
											const char *reason, const char *source,
											const int64_t *lease_epoch,
											ff_cancel_execution_result *out);

/* old_priority / new_priority_out may be NULL */
FF_API ff_status ff_client_change_priority(ff_client *c, const char *execution_id,
										   int32_t new_priority, int32_t *old_priority,
										   int32_t *new_priority_out);

typedef struct ff_replay_result
{
	char	   *public_state;
	int32_t		replay_count;
} ff_replay_result;

FF_API void ff_replay_result_clear(ff_replay_result *r);
FF_API ff_status ff_client_replay_execution(ff_client *c, const char *execution_id,
											const char *reason, ff_replay_result *out);

typedef struct ff_revoke_result
{
	char	   *outcome;		/* "revoked" or "already_satisfied" */
	char	   *detail;			/* already_satisfied: no_active_lease,
								 * different_worker_instance_id, lease_id_mismatch */
	char	   *lease_id;		/* revoked: the lease, else NULL */
	int64_t		lease_epoch;
} ff_revoke_result;

FF_API void ff_revoke_result_clear(ff_revoke_result *r);
/* expected_lease_id, worker_instance_id, reason: NULL for none */
FF_API ff_status ff_client_revoke_lease(ff_client *c, const char *execution_id,
										const char *expected_lease_id,
										const char *worker_instance_id, const char *reason,
										ff_revoke_result *out);

/* Lane controls */
typedef struct ff_lane_state_change
{
	char	   *lane_id;
	char	   *state;			/* active, paused, draining */
	char	   *previous_state;
} ff_lane_state_change;

FF_API void ff_lane_state_change_clear(ff_lane_state_change *r);
FF_API ff_status ff_client_pause_lane(ff_client *c, const char *lane_id, const char *reason,
									  ff_lane_state_change *out);
FF_API ff_status ff_client_resume_lane(ff_client *c, const char *lane_id, const char *reason,
									   ff_lane_state_change *out);
FF_API ff_status ff_client_drain_lane(ff_client *c, const char *lane_id, const char *reason,
									  ff_lane_state_change *out);

/* A page of ff_list_lanes with each lane's state. */
typedef struct ff_lane_state
{
	char	   *lane_id;
	char	   *state;
	char	   *registered_by;
	int64_t		registered_at_ms;
} ff_lane_state;

typedef struct ff_lane_state_list
{
	ff_lane_state *items;
	size_t		count;
} ff_lane_state_list;

FF_API ff_status ff_client_list_lane_states(ff_client *c, const char *cursor, int32_t max_results,
											ff_lane_state_list *out);
FF_API void ff_lane_state_list_clear(ff_lane_state_list *l);

/* The worker registry */
typedef struct ff_register_worker_args
{
	const char *worker_id;		/* required */
	const char *worker_instance_id; /* required */
	const char *const *lanes;
	size_t		n_lanes;
	const char *const *capabilities;
	size_t		n_capabilities;
	int64_t		liveness_ttl_ms;	/* 0: 30000 */
	const char *ns;				/* namespace, NULL: "default" */
} ff_register_worker_args;

typedef struct ff_worker_liveness
{
	char	   *outcome;		/* registered, refreshed, not_registered */
	int64_t		next_expiry_ms; /* 0 when not_registered */
} ff_worker_liveness;

FF_API void ff_worker_liveness_clear(ff_worker_liveness *r);
FF_API ff_status ff_client_register_worker(ff_client *c, const ff_register_worker_args *a,
										   ff_worker_liveness *out);
/* ns NULL: "default" */
FF_API ff_status ff_client_heartbeat_worker(ff_client *c, const char *worker_instance_id,
											const char *ns, ff_worker_liveness *out);

/* *outcome_out: "marked" or "not_registered" (free with ff_free; may be
 * NULL); *leases_released (may be NULL): leases released for reclaim */
FF_API ff_status ff_client_mark_worker_dead(ff_client *c, const char *worker_instance_id,
											const char *ns, const char *reason,
											char **outcome_out, int32_t *leases_released);

typedef struct ff_worker_info
{
	char	   *worker_instance_id;
	char	   *worker_id;
	char	   *ns;
	char	  **lanes;
	size_t		n_lanes;
	char	  **capabilities;
	size_t		n_capabilities;
	int64_t		last_heartbeat_ms;
	int64_t		liveness_ttl_ms;
	int64_t		expires_at_ms;
	int64_t		registered_at_ms;
	bool		alive;
} ff_worker_info;

typedef struct ff_worker_list
{
	ff_worker_info *items;
	size_t		count;
} ff_worker_list;

/* One namespace (NULL: "default"), by instance id; cursor: the last
 * worker_instance_id of the previous page; max_results 0: 100. */
FF_API ff_status ff_client_list_workers(ff_client *c, const char *ns, const char *cursor,
										int32_t max_results, ff_worker_list *out);
FF_API void ff_worker_list_clear(ff_worker_list *l);

typedef struct ff_expired_lease
{
	char	   *execution_id;
	char	   *lane_id;
	char	   *ns;				/* NULL if none */
	int32_t		attempt_index;
	char	   *lease_id;
	int64_t		lease_epoch;
	char	   *worker_id;
	char	   *worker_instance_id;
	int64_t		expires_at_ms;
	char	   *ownership_state;	/* leased (lapsed, not marked yet),
									 * lease_expired_reclaimable, lease_revoked */
} ff_expired_lease;

typedef struct ff_expired_lease_list
{
	ff_expired_lease *items;
	size_t		count;
} ff_expired_lease_list;

/* as_of 0: now; after_expires_at_ms 0 and after_execution_id NULL: from the
 * start; max_results 0: 1000; ns NULL: every namespace. */
FF_API ff_status ff_client_list_expired_leases(ff_client *c, int64_t as_of,
											   int64_t after_expires_at_ms,
											   const char *after_execution_id,
											   int32_t max_results, const char *ns,
											   ff_expired_lease_list *out);
FF_API void ff_expired_lease_list_clear(ff_expired_lease_list *l);

/* The operator-event outbox */
typedef struct ff_operator_event
{
	int64_t		event_id;
	char	   *event_type;		/* cancelled, priority_changed, replayed,
								 * lease_revoked, blocked, unblocked, lane_*,
								 * worker_registered, worker_marked_dead,
								 * worker_expired */
	char	   *execution_id;	/* NULL for lane and worker events */
	char	   *lane_id;		/* NULL if none */
	char	   *worker_instance_id; /* NULL if none */
	char	   *ns;				/* NULL if none */
	char	   *details_json;	/* JSON object text */
	int64_t		occurred_at_ms;
} ff_operator_event;

typedef struct ff_operator_event_list
{
	ff_operator_event *items;
	size_t		count;
} ff_operator_event_list;

/* Events with event_id > after_event_id, in order; max_events 0: 100. */
FF_API ff_status ff_client_operator_events(ff_client *c, int64_t after_event_id,
										   int32_t max_events, ff_operator_event_list *out);
FF_API void ff_operator_event_list_clear(ff_operator_event_list *l);

/* Reconcilers of this area (batch_size 0: 1000; *changed may be NULL) */
FF_API ff_status ff_client_reconcile_worker_expiry(ff_client *c, int32_t batch_size, int32_t *changed);
FF_API ff_status ff_client_reconcile_claim_grants(ff_client *c, int32_t batch_size, int32_t *changed);

/* ========================================================================
 * Budgets, quotas and admission control (docs/budgets.md;
 * client/src/budget.c). Executions attach through their policy
 * ({"budget_ids": [...], "quota_policy_id": "..."}); ff_claim holds
 * attached work back (public state rate_limited) while a budget is
 * exhausted or a quota refuses it. Usage reports return a typed outcome;
 * refusals of bad input are errors (FF_ERR_INVALID_BUDGET_SCOPE,
 * FF_ERR_INVALID_QUOTA_SPEC, FF_ERR_BUDGET_NOT_FOUND, ...).
 * ======================================================================== */

/* One dimension's limits (0: no limit). */
typedef struct ff_budget_limit
{
	const char *dimension;
	int64_t		hard_limit;
	int64_t		soft_limit;
} ff_budget_limit;

/* ff_create_budget; zero / NULL members take the engine's default. */
typedef struct ff_budget_args
{
	const char *budget_id;		/* NULL: a new UUID */
	const ff_budget_limit *limits;
	size_t		n_limits;
	int64_t		reset_interval_ms;	/* 0: no scheduled reset */
	const char *scope_type;		/* NULL: none; e.g. "tenant", "flow" */
	const char *scope_id;
	const char *enforcement_mode;	/* NULL: "strict"; "warn" */
	const char *on_hard_limit;	/* NULL: "block"; "fail", "cancel", "notify" */
	const char *on_soft_limit;	/* NULL: "notify" */
} ff_budget_args;

typedef struct ff_budget_created
{
	bool		created;		/* false: the id existed (already_satisfied) */
	char	   *budget_id;
	int64_t		next_reset_at_ms;	/* 0: no scheduled reset */
} ff_budget_created;

FF_API ff_status ff_client_create_budget(ff_client *c, const ff_budget_args *a,
										 ff_budget_created *out);
FF_API void ff_budget_created_clear(ff_budget_created *r);

/* Sets the named dimensions' limits (0 and 0 drops one). *breached and
 * *unblocked (executions released) may be NULL. */
FF_API ff_status ff_client_update_budget_limits(ff_client *c, const char *budget_id,
												const ff_budget_limit *limits, size_t n_limits,
												bool *breached, int32_t *unblocked);

/* Zeroes the usage and releases the held-back work; *next_reset_at_ms (0:
 * none) and *unblocked may be NULL. FF_ERR_BUDGET_NOT_FOUND if unknown. */
FF_API ff_status ff_client_reset_budget(ff_client *c, const char *budget_id,
										int64_t *next_reset_at_ms, int32_t *unblocked);

typedef struct ff_budget_dimension
{
	char	   *dimension;
	int64_t		used;
	int64_t		hard_limit;		/* 0: none */
	int64_t		soft_limit;		/* 0: none */
} ff_budget_dimension;

/* ff_get_budget_status; times are 0 when unset. */
typedef struct ff_budget_status
{
	char	   *budget_id;
	char	   *scope_type;
	char	   *scope_id;
	char	   *enforcement_mode;
	char	   *on_hard_limit;
	char	   *on_soft_limit;
	ff_budget_dimension *dimensions;	/* every dimension with usage or a limit,
										 * in byte order */
	size_t		n_dimensions;
	int64_t		breach_count;
	int64_t		soft_breach_count;
	int64_t		last_breach_at_ms;
	char	   *last_breach_dim;	/* NULL if none */
	bool		breached;		/* holds attached work back (strict, not notify) */
	int64_t		breached_at_ms;
	int64_t		reset_interval_ms;
	int64_t		reset_count;
	int64_t		last_reset_at_ms;
	int64_t		next_reset_at_ms;
	int64_t		blocked_executions;
	int64_t		created_at_ms;
	int64_t		updated_at_ms;
} ff_budget_status;

FF_API ff_status ff_client_get_budget_status(ff_client *c, const char *budget_id,
											 ff_budget_status *out);
FF_API void ff_budget_status_clear(ff_budget_status *s);

/* Upstream's BudgetUsageAndLimits as JSON text: *limits_json
 * {"hard:<dim>": "<n>", "soft:<dim>": "<n>"}, *usage_json {<dim>: n}; free()
 * both. An unknown budget gives "{}" and "{}". */
FF_API ff_status ff_client_read_budget_usage_and_limits(ff_client *c, const char *budget_id,
														char **limits_json, char **usage_json);

/* A usage report's typed outcome */
typedef enum ff_usage_outcome
{
	FF_USAGE_OK = 0,
	FF_USAGE_SOFT_BREACH = 1,	/* applied; a dimension is above its soft limit */
	FF_USAGE_HARD_BREACH = 2,	/* rejected: nothing applied */
	FF_USAGE_ALREADY_APPLIED = 3	/* the dedup key was applied before */
} ff_usage_outcome;

FF_API const char *ff_usage_outcome_name(ff_usage_outcome o);

typedef struct ff_usage_delta
{
	const char *dimension;
	int64_t		delta;			/* >= 0 */
} ff_usage_delta;

typedef struct ff_usage_result
{
	ff_usage_outcome outcome;
	char	   *dimension;		/* soft / hard breach (and their replays); NULL for ok */
	int64_t		current_usage;	/* soft: the new value; hard: the value before */
	int64_t		limit;			/* the soft or hard limit */
	ff_usage_outcome first_outcome; /* already_applied: what the first call did */
} ff_usage_result;

FF_API void ff_usage_result_clear(ff_usage_result *r);

/* ff_report_usage: the worker's report, attributed to the handle's
 * execution. dedup_key NULL: none (keys are per budget, for 24 hours). */
FF_API ff_status ff_client_report_usage(ff_client *c, const ff_handle *h, const char *budget_id,
										const ff_usage_delta *deltas, size_t n_deltas,
										const char *dedup_key, ff_usage_result *out);
/* ff_report_usage_admin: not attributed to an execution. */
FF_API ff_status ff_client_report_usage_admin(ff_client *c, const char *budget_id,
											  const ff_usage_delta *deltas, size_t n_deltas,
											  const char *dedup_key, ff_usage_result *out);
/* ff_record_spend: attributed to execution_id; a replay is already_applied. */
FF_API ff_status ff_client_record_spend(ff_client *c, const char *budget_id,
										const char *execution_id, const ff_usage_delta *deltas,
										size_t n_deltas, const char *idempotency_key,
										ff_usage_result *out);
/* ff_release_budget: takes the execution's spend back; both outputs may be NULL. */
FF_API ff_status ff_client_release_budget(ff_client *c, const char *budget_id,
										  const char *execution_id, int32_t *released_dimensions,
										  int32_t *unblocked);

/* Quota policies */
typedef struct ff_quota_args
{
	const char *quota_policy_id;	/* NULL: a new UUID */
	int64_t		window_seconds; /* 0: 60 */
	int64_t		max_requests_per_window;	/* 0: no rate limit */
	int64_t		max_concurrent; /* 0: no concurrency cap */
	int64_t		jitter_ms;		/* added to every retry time */
} ff_quota_args;

/* *quota_policy_id_out (free() it) and *created may be NULL. */
FF_API ff_status ff_client_create_quota_policy(ff_client *c, const ff_quota_args *a,
											   char **quota_policy_id_out, bool *created);

typedef struct ff_quota_limits
{
	bool		found;			/* false: no such policy */
	int64_t		max_requests_per_window;
	int64_t		requests_per_window_seconds;
	int64_t		active_concurrency_cap;
	int64_t		jitter_ms;
	int64_t		active_concurrency;
	bool		is_unlimited;
} ff_quota_limits;

FF_API ff_status ff_client_read_quota_policy_limits(ff_client *c, const char *quota_policy_id,
													ff_quota_limits *out);

typedef enum ff_admission_outcome
{
	FF_ADMISSION_ADMITTED = 0,
	FF_ADMISSION_ALREADY_ADMITTED = 1,
	FF_ADMISSION_RATE_EXCEEDED = 2,	/* retry_after_ms says when */
	FF_ADMISSION_CONCURRENCY_EXCEEDED = 3
} ff_admission_outcome;

FF_API const char *ff_admission_outcome_name(ff_admission_outcome o);

/* Limits given by the caller (0: none), instead of the policy's. */
typedef struct ff_admission_limits
{
	int64_t		window_seconds;
	int64_t		rate_limit;
	int64_t		concurrency_cap;
	int64_t		jitter_ms;
} ff_admission_limits;

typedef struct ff_admission_result
{
	ff_admission_outcome outcome;
	int64_t		retry_after_ms; /* rate_exceeded; -1 otherwise */
} ff_admission_result;

/* ff_check_admission. limits NULL: the policy's; dimension NULL: "" (the
 * window claims use). */
FF_API ff_status ff_client_check_admission(ff_client *c, const char *quota_policy_id,
										   const char *execution_id,
										   const ff_admission_limits *limits,
										   const char *dimension, ff_admission_result *out);
/* ff_release_admission; both outputs may be NULL. */
FF_API ff_status ff_client_release_admission(ff_client *c, const char *quota_policy_id,
											 const char *execution_id, bool *slot_released,
											 int32_t *unblocked);

/* ff_block_execution_for_admission: reason waiting_for_budget,
 * waiting_for_quota or waiting_for_capable_worker; detail may be NULL. */
typedef struct ff_admission_block
{
	char	   *eligibility_state;
	char	   *blocking_reason;
	char	   *public_state;
} ff_admission_block;

FF_API ff_status ff_client_block_execution_for_admission(ff_client *c, const char *execution_id,
														 const char *reason, const char *detail,
														 ff_admission_block *out);
FF_API void ff_admission_block_clear(ff_admission_block *b);

/* ff_read_admission: what holds an execution back, and what it holds. */
typedef struct ff_admission_entry
{
	char	   *kind;			/* "budget" or "quota" */
	char	   *id;				/* the budget or quota policy id */
	char	   *status;			/* blocked, admitted (budgets); blocked_rate,
								 * blocked_concurrency, slot, admitted (quota) */
	int64_t		retry_at_ms;	/* blocked_rate: when; guards: expiry; else 0 */
	int64_t		since_ms;
} ff_admission_entry;

typedef struct ff_admission_list
{
	ff_admission_entry *items;
	size_t		count;
} ff_admission_list;

FF_API ff_status ff_client_read_admission(ff_client *c, const char *execution_id,
										  ff_admission_list *out);
FF_API void ff_admission_list_clear(ff_admission_list *l);

/* Reconcilers of this area (batch_size 0: 1000; *changed may be NULL) */
FF_API ff_status ff_client_reconcile_budget_reset(ff_client *c, int32_t batch_size, int32_t *changed);
FF_API ff_status ff_client_reconcile_budget_counters(ff_client *c, int32_t batch_size, int32_t *changed);
FF_API ff_status ff_client_reconcile_budget_executions(ff_client *c, int32_t batch_size,
													   int32_t *changed);
FF_API ff_status ff_client_reconcile_quota_counters(ff_client *c, int32_t batch_size, int32_t *changed);
FF_API ff_status ff_client_reconcile_quota_unblock(ff_client *c, int32_t batch_size, int32_t *changed);
FF_API ff_status ff_client_reconcile_admission_cleanup(ff_client *c, int32_t batch_size,
													   int32_t *changed);

#ifdef __cplusplus
}
#endif

#endif							/* FLOWFABRIC_CLIENT_H */

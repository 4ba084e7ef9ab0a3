/*
 * flowfabric.h
 *		Declarations shared by the flowfabric extension's source files.
 */
#ifndef FLOWFABRIC_H
#define FLOWFABRIC_H

#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"

#include "errors.h"

/* Upstream's fixed partition count for execution and flow ids ({fp:N}). */
#define FF_NUM_FLOW_PARTITIONS	256
#define FF_LANE_ID_MAX_BYTES	64
#define FF_PRIORITY_MAX			9000
#define FF_MAX_CLAIMS			1000
#define FF_MAX_LEASE_TTL_MS		(7 * 24 * 3600 * 1000LL)
#define FF_IDEMPOTENCY_TTL_MS	(24 * 3600 * 1000LL)

/* Marks an unset nullable bigint column in the row structs below. */
#define FF_NULL_MS				PG_INT64_MIN

/* guc.c: settings and the engine clock */
extern int	ff_clock_offset_ms;

/* flowfabric.notify: how outbox events are announced (notify.c) */
typedef enum FFNotifyMode
{
	FF_NOTIFY_OFF = 0,			/* not at all: subscribers poll */
	FF_NOTIFY_DEFERRED,			/* after commit, coalesced, by the reconciler worker */
	FF_NOTIFY_IMMEDIATE			/* NOTIFY in the transaction, event id as payload */
} FFNotifyMode;
extern int	ff_notify_mode;
extern bool ff_set_based_batches;
extern int	ff_max_payload_bytes;
extern int64 ff_now_ms(void);

/* ids.c: execution ids, partitions, lanes */
typedef struct FFExecKey
{
	int16		partition;
	pg_uuid_t	uuid;
} FFExecKey;

extern uint16 ff_crc16(const unsigned char *data, size_t len);
extern int	ff_solo_partition(const char *lane, size_t len);
extern void ff_parse_execution_id(const char *id, FFExecKey *key);
extern bool ff_try_parse_execution_id(const char *id, FFExecKey *key, const char **problem);
extern char *ff_format_execution_id(const FFExecKey *key);
extern int	ff_exec_key_cmp(const FFExecKey *a, const FFExecKey *b);
extern void ff_check_lane(const char *lane, size_t len);
extern void ff_check_tag_key(const char *key);
extern void ff_random_uuid(pg_uuid_t *out);
extern void ff_time_ordered_uuid(pg_uuid_t *out);
extern char *ff_uuid_to_cstring(const pg_uuid_t *uuid);
extern bool ff_parse_uuid(const char *s, pg_uuid_t *out);
extern void ff_check_capabilities(ArrayType *caps, const char *what, int errcode_value);

/* handle.c: the opaque attempt handle */
#define FF_BACKEND_VALKEY	 1
#define FF_BACKEND_POSTGRES	 2
#define FF_BACKEND_SQLITE	 3

typedef struct FFHandle
{
	uint8		backend;		/* FF_BACKEND_* */
	uint8		format;			/* 1 = legacy v1, 2 = current */
	char	   *execution_id;
	FFExecKey	key;
	uint32		attempt_index;
	char	   *attempt_id_text;
	pg_uuid_t	attempt_id;
	char	   *lease_id_text;
	pg_uuid_t	lease_id;
	uint64		lease_epoch;
	uint64		lease_ttl_ms;
	char	   *lane_id;
	char	   *worker_instance_id;
} FFHandle;

extern bytea *ff_handle_encode(const FFHandle *h);
extern void ff_handle_decode(bytea *raw, FFHandle *h);
extern void ff_handle_decode_postgres(bytea *raw, FFHandle *h);

/* state.c: the canonical state alphabet and the execution row */
typedef struct FFStateVector
{
	const char *lifecycle_phase;
	const char *ownership_state;
	const char *eligibility_state;
	const char *blocking_reason;
	const char *terminal_outcome;
	const char *attempt_state;
} FFStateVector;

extern const char *ff_derive_public_state(const char *lifecycle_phase,
										  const char *eligibility_state,
										  const char *terminal_outcome);

/*
 * An ff_execution row as the engine works on it: locked and loaded by
 * ff_exec_load, changed in C, written back whole by ff_exec_store.
 */
typedef struct FFExecRow
{
	FFExecKey	key;
	char	   *lane_id;
	char	   *namespace;
	bool		has_flow;
	pg_uuid_t	flow_id;
	Jsonb	   *policy;			/* NULL when the execution has none */
	FFStateVector sv;
	char	   *blocking_detail;
	int32		attempt_index;
	int32		total_attempt_count;
	int32		retry_count;
	int32		reclaim_count;
	int64		lease_epoch;
	int32		progress_pct;	/* -1 = unset */
	char	   *progress_message;
	int64		progress_updated_at_ms;
	char	   *last_failure_message;
	char	   *last_failure_category;
	char	   *cancellation_reason;
	char	   *cancelled_by;
	int64		created_at_ms;
	int64		last_mutation_at_ms;
	int64		started_at_ms;
	int64		terminal_at_ms;
	int64		delay_until_ms;
	int64		deadline_at_ms;
	bool		set_result;		/* store writes result only when set */
	bytea	   *result;
} FFExecRow;

/* An ff_attempt row, handled the same way. */
typedef struct FFAttemptRow
{
	FFExecKey	key;
	int32		attempt_index;
	pg_uuid_t	attempt_id;
	const char *attempt_type;
	const char *attempt_lifecycle;
	char	   *worker_id;
	char	   *worker_instance_id;
	pg_uuid_t	lease_id;
	int64		lease_epoch;
	int64		lease_ttl_ms;
	int64		lease_acquired_at_ms;
	int64		lease_renewed_at_ms;
	int64		lease_expires_at_ms;	/* FF_NULL_MS once released */
	int64		timeout_at_ms;
	int64		started_at_ms;
	int64		ended_at_ms;
	char	   *failure_message;
	char	   *failure_category;
	bytea	   *failure_detail;
	int64		retry_delay_until_ms;
	char	   *end_reason;		/* why the lease was released; NULL while held */
} FFAttemptRow;

extern const FFStateVector ff_sv_ready;
extern const FFStateVector ff_sv_delayed_start;
extern const FFStateVector ff_sv_claimed;
extern const FFStateVector ff_sv_lease_expired;
extern const FFStateVector ff_sv_completed;
extern const FFStateVector ff_sv_failed;
extern const FFStateVector ff_sv_cancelled;
extern const FFStateVector ff_sv_expired;
extern const FFStateVector ff_sv_retry_backoff;
extern const FFStateVector ff_sv_retry_now;
extern const FFStateVector ff_sv_worker_delay;
extern const FFStateVector ff_sv_delay_elapsed;
extern const FFStateVector ff_sv_waiting_children;
extern const FFStateVector ff_sv_skipped;
extern const FFStateVector ff_sv_lease_revoked;
extern const FFStateVector ff_sv_replay_pending;

extern void ff_exec_set_state(FFExecRow *row, const FFStateVector *sv);
extern void ff_state_vector_params(const FFStateVector *sv, Datum *out);
extern bool ff_exec_is(const FFExecRow *row, const char *lifecycle_phase);

/* spi.c: saved plans and row access */
extern SPIPlanPtr ff_prepare(SPIPlanPtr *cache, const char *sql, int nargs, const Oid *argtypes);
extern SPIPlanPtr ff_prepare_generic(SPIPlanPtr *cache, const char *sql, int nargs,
									 const Oid *argtypes);
extern int	ff_execute(SPIPlanPtr plan, Datum *values, const char *nulls, bool read_only, long count);
extern void ff_type_storage(Oid type, int16 *len, bool *byval, char *align);
extern Datum ff_array_param(Datum *elems, bool *nulls, int n, Oid type);
extern char *ff_get_cstring(HeapTuple tuple, TupleDesc desc, int col);
extern int64 ff_get_int64(HeapTuple tuple, TupleDesc desc, int col, int64 if_null);
extern int32 ff_get_int32(HeapTuple tuple, TupleDesc desc, int col, int32 if_null);
extern bool ff_get_bool(HeapTuple tuple, TupleDesc desc, int col);
extern bool ff_get_uuid(HeapTuple tuple, TupleDesc desc, int col, pg_uuid_t *out);
extern Datum ff_get_datum(HeapTuple tuple, TupleDesc desc, int col, bool *isnull);

/*
 * A result row deformed once, for decoders that read every column: reading
 * column by column walks the tuple from its start past the first NULL.
 * Columns are numbered from 1, as in SPI.
 */
typedef struct FFTupleCols
{
	Datum	   *values;
	bool	   *nulls;
} FFTupleCols;

extern void ff_tuple_deform(HeapTuple tuple, TupleDesc desc, FFTupleCols *cols);
extern Datum ff_col_datum(const FFTupleCols *cols, int col, bool *isnull);
extern char *ff_col_cstring(const FFTupleCols *cols, int col);
extern int64 ff_col_int64(const FFTupleCols *cols, int col, int64 if_null);
extern int32 ff_col_int32(const FFTupleCols *cols, int col, int32 if_null);
extern bool ff_col_uuid(const FFTupleCols *cols, int col, pg_uuid_t *out);
extern const char *ff_intern_literal(const char *value);
extern Datum ff_text_datum(const char *s, char *null_flag);
extern Datum ff_ms_datum(int64 ms, char *null_flag);
extern Datum ff_uuid_datum(const pg_uuid_t *uuid);
extern Datum ff_result_row(FunctionCallInfo fcinfo, MemoryContext target, Datum *values, bool *nulls);
extern text *ff_arg_text_or_null(FunctionCallInfo fcinfo, int argno);
extern char *ff_arg_cstring_required(FunctionCallInfo fcinfo, int argno, const char *name);
extern int32 ff_arg_batch_size(FunctionCallInfo fcinfo, int argno);

/* exec.c: execution rows */
/*
 * The ff_execution columns ff_exec_from_tuple decodes, in order; _OF(P)
 * names them with the prefix P (a join's alias, e.g. "e.").
 */
#define FF_EXEC_COLUMNS_OF(P) \
	P "partition_key, " P "execution_id, " P "lane_id, " P "namespace, " P "flow_id, " \
	P "policy, " P "lifecycle_phase, " P "ownership_state, " P "eligibility_state, " \
	P "blocking_reason, " P "terminal_outcome, " P "attempt_state, " \
	P "blocking_detail, " P "attempt_index, " P "total_attempt_count, " \
	P "retry_count, " P "reclaim_count, " P "lease_epoch, " P "progress_pct, " \
	P "progress_message, " P "progress_updated_at_ms, " P "last_failure_message, " \
	P "last_failure_category, " P "cancellation_reason, " P "cancelled_by, " \
	P "created_at_ms, " P "last_mutation_at_ms, " P "started_at_ms, " \
	P "terminal_at_ms, " P "delay_until_ms, " P "deadline_at_ms"
#define FF_EXEC_COLUMNS FF_EXEC_COLUMNS_OF("")
#define FF_EXEC_NCOLS 31

extern void ff_exec_from_tuple(HeapTuple tuple, TupleDesc desc, FFExecRow *row);
extern void ff_exec_from_cols(const FFTupleCols *cols, int first, FFExecRow *row);
extern bool ff_exec_load(const FFExecKey *key, FFExecRow *row, bool lock);
extern void ff_exec_store(FFExecRow *row);
extern void ff_check_payload_size(bytea *payload, const char *what);

/* ff_create_execution's arguments and result, for ff_create_one (exec.c) */
typedef struct FFCreateArgs
{
	char	   *lane_id;		/* required */
	bytea	   *payload;		/* NULL: none */
	char	   *execution_id;	/* NULL: minted in the lane's solo partition */
	char	   *namespace;
	char	   *execution_kind;
	int32		priority;		/* clamped to 0..FF_PRIORITY_MAX */
	ArrayType  *required_capabilities;	/* NULL: none */
	Jsonb	   *policy;			/* NULL: none */
	bool		has_delay_until;	/* false: the policy's delay_until, if any */
	int64		delay_until_ms;
	int64		deadline_at_ms; /* FF_NULL_MS: none */
	char	   *idempotency_key;	/* NULL or "": none */
	Jsonb	   *tags;			/* NULL: {} */
	char	   *creator_identity;
} FFCreateArgs;

typedef struct FFCreateResult
{
	FFExecKey	key;
	char	   *public_state;	/* of the existing execution when not created */
	bool		created;
} FFCreateResult;

/* One ff_create_execution (validation included); caller is SPI-connected. */
extern void ff_create_one(const FFCreateArgs *args, FFCreateResult *out);

/* attempt.c: attempt rows and lease fencing */
/* The ff_attempt columns ff_attempt_from_tuple decodes, in order. */
#define FF_ATTEMPT_COLUMNS_OF(P) \
	P "partition_key, " P "execution_id, " P "attempt_index, " P "attempt_id, " \
	P "attempt_type, " P "attempt_lifecycle, " P "worker_id, " \
	P "worker_instance_id, " P "lease_id, " P "lease_epoch, " P "lease_ttl_ms, " \
	P "lease_acquired_at_ms, " P "lease_renewed_at_ms, " P "lease_expires_at_ms, " \
	P "timeout_at_ms, " P "started_at_ms, " P "ended_at_ms, " P "failure_message, " \
	P "failure_category, " P "failure_detail, " P "retry_delay_until_ms, " \
	P "end_reason"
#define FF_ATTEMPT_COLUMNS FF_ATTEMPT_COLUMNS_OF("")

extern void ff_attempt_from_tuple(HeapTuple tuple, TupleDesc desc, FFAttemptRow *row);
extern void ff_attempt_from_cols(const FFTupleCols *cols, int first, FFAttemptRow *row);
extern bool ff_attempt_load(const FFExecKey *key, int32 attempt_index, FFAttemptRow *row, bool lock);
extern void ff_attempt_insert(const FFAttemptRow *row);
extern void ff_attempt_store(const FFAttemptRow *row);
/*
 * Lease fencing for calls made with a handle: lock the execution, then the
 * handle's attempt, and classify how the handle stands.
 */
typedef enum FFFenceResult
{
	FF_FENCE_OK,
	FF_FENCE_NOT_ACTIVE,
	FF_FENCE_STALE,
	FF_FENCE_REVOKED,
	FF_FENCE_EXPIRED
} FFFenceResult;

typedef struct FFFence
{
	FFHandle	handle;
	FFExecRow	exec;
	FFAttemptRow attempt;
	int64		now;
	bool		same_lease;		/* the attempt row's lease is the handle's */
	FFFenceResult result;
} FFFence;

extern FFFenceResult ff_fence_lock(bytea *raw, FFFence *f);
extern void ff_fence_raise(const FFFence *f, FFFenceResult r);
extern void ff_fence_require(bytea *raw, FFFence *f);
extern void ff_attempt_end(const FFExecRow *exec, FFAttemptRow *attempt, const char *lifecycle,
						   const char *event_type, const char *reason, int64 now);
/*
 * The bodies of ff_renew / ff_complete / ff_fail for one handle (batch.c
 * calls them per item): FF_FENCE_OK if it took effect or was a replay, else
 * the refusal with nothing changed. They raise only for a malformed handle
 * or a missing execution / attempt. Callers are SPI-connected.
 */
extern FFFenceResult ff_renew_handle(bytea *raw, FFFence *f);
extern FFFenceResult ff_complete_handle(bytea *raw, bytea *payload, FFFence *f);
extern FFFenceResult ff_fail_handle(bytea *raw, const char *message, const char *category,
									bytea *detail, FFFence *f, int64 *delay_until);
/* The canonical failure classification, NULL if unknown. */
extern const char *ff_failure_classification(const char *classification);

/* claim.c: claim one locked execution the way ff_claim does (scheduler.c) */
extern bool ff_claim_locked(FFExecRow *exec, FFAttemptRow *attempt, const char *worker_id,
							const char *worker_instance_id, int64 lease_ttl_ms, int64 now,
							bytea **handle);
extern bool ff_lane_claims(const char *lane_id, bool *started_only);

/* policy.c: the execution policy (retry, timeouts, routing) */
typedef enum FFBackoffKind
{
	FF_BACKOFF_FIXED,
	FF_BACKOFF_EXPONENTIAL
} FFBackoffKind;

typedef struct FFPolicy
{
	bool		has_retry_policy;
	int32		max_retries;
	FFBackoffKind backoff_kind;
	int64		fixed_delay_ms;
	int64		initial_delay_ms;
	int64		max_delay_ms;
	double		multiplier;
	bool		has_retryable_categories;
	List	   *retryable_categories;	/* of char *; absent = all but permanent */
	int64		attempt_timeout_ms;	/* 0 = none */
	int32		max_reclaim_count;
	int32		max_replay_count;	/* operator replays allowed (operator.c) */
	int64		dedup_window_ms;
	int64		delay_until_ms; /* FF_NULL_MS = none */
	List	   *required_capabilities;	/* of char * */
} FFPolicy;

extern void ff_policy_parse(Jsonb *policy, FFPolicy *out);
extern int64 ff_policy_backoff_ms(const FFPolicy *policy, int32 retry_count);
extern bool ff_policy_should_retry(const FFPolicy *policy, const char *category, int32 retry_count);

/* outbox.c: completion and lease events, and what every outbox shares */
extern int64 ff_next_event_id(void);
extern int64 ff_reserve_event_ids(int n);
extern void ff_use_event_ids(int64 first, int n);
extern int64 ff_event_delivery_horizon(void);
/* notify.c: announces an outbox event on its channel (flowfabric.notify) */
extern void ff_notify_event(const char *channel, int64 event_id);
extern Datum ff_read_events(FunctionCallInfo fcinfo, SPIPlanPtr *cache, const char *sql);
extern void ff_emit_completion(const FFExecRow *exec, const char *outcome, int64 now);
extern void ff_emit_lease_event(const FFExecRow *exec, const FFAttemptRow *attempt,
								const char *event_type, const char *reason, int64 now);

/* terminal.c: transitions shared by worker calls and reconcilers */
extern void ff_finish_execution(FFExecRow *exec, const FFStateVector *sv,
								const char *outcome, int64 now);
extern void ff_record_failure(FFExecRow *exec, FFAttemptRow *attempt, const char *message,
							  const char *category);
extern int64 ff_retry_decision(const FFExecRow *exec, const char *category, int64 now);
extern void ff_schedule_retry(FFExecRow *exec, int64 delay_until, int64 now);

#endif							/* FLOWFABRIC_H */

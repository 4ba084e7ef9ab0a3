/*
 * suspend.h
 *		Suspension, waitpoints, HMAC-signed waitpoint tokens, signals and
 *		resume (docs/suspend-signals.md). Shared by the suspend*.c files.
 *
 * Tables (extension/sql/50_suspend.sql): ff_waitpoint_hmac (keystore),
 * ff_suspension (one row per suspension; at most one open per execution),
 * ff_waitpoint, ff_signal, ff_signal_dedup, ff_suspend_dedup and the
 * ff_signal_event outbox. Lock order: the execution row first, then the
 * attempt, then waitpoint / suspension rows.
 */
#ifndef FF_SUSPEND_H
#define FF_SUSPEND_H

#include "flowfabric.h"

#define FF_HMAC_DIGEST_LEN			32	/* HMAC-SHA256 */
#define FF_KID_MAX_BYTES			128
#define FF_WAITPOINT_KEY_MAX_BYTES	256
#define FF_SIGNAL_TEXT_MAX_BYTES	256
#define FF_SIGNAL_MAX_PAYLOAD_BYTES (64 * 1024)
#define FF_SIGNAL_DEFAULT_LIMIT		10000
#define FF_SIGNAL_DEDUP_DEFAULT_MS	(24 * 3600 * 1000LL)
#define FF_SUSPEND_DEDUP_MAX_MS		(7 * 24 * 3600 * 1000LL)
#define FF_TIMEOUT_SKEW_MS			600000	/* timeout_at may lie this far in the past */
#define FF_MAX_WAITPOINT_TTL_MS		(366 * 24 * 3600 * 1000LL)
#define FF_MAX_RESUME_DELAY_MS		(7 * 24 * 3600 * 1000LL)
#define FF_COND_MAX_DEPTH			4
#define FF_COUNT_MAX_N				10000

/* suspend_hmac.c: the keystore and the token primitive */
extern char *ff_token_sign(const char *kid, const uint8 *secret, size_t secret_len,
						   const char *message);
extern bool ff_signing_key(char **kid, bytea **secret);
extern char *ff_waitpoint_token(const char *kid, bytea *secret, const FFExecKey *exec,
								const pg_uuid_t *waitpoint_id);
extern void ff_token_parse(const char *token, char **kid, uint8 *digest);
extern void ff_token_verify(const char *token, const FFExecKey *exec,
							const pg_uuid_t *waitpoint_id, int64 now);

/* suspend_cond.c: the resume-condition language */
typedef enum FFCondKind
{
	FF_COND_SINGLE,
	FF_COND_ALL_OF,
	FF_COND_ANY_OF,
	FF_COND_COUNT,
	FF_COND_OPERATOR_ONLY,
	FF_COND_TIMEOUT_ONLY
} FFCondKind;

typedef enum FFCountKind
{
	FF_COUNT_DISTINCT_WAITPOINTS,
	FF_COUNT_DISTINCT_SIGNALS,
	FF_COUNT_DISTINCT_SOURCES
} FFCountKind;

typedef struct FFCond
{
	FFCondKind	kind;
	char	   *path;			/* "<root>", "members[0]", "members[0].members[2]" */
	char	   *waitpoint_key;	/* Single */
	char	   *match_name;		/* Single / Count: ByName; NULL = Wildcard */
	bool		has_matcher;	/* Count: a matcher was given */
	int32		n;				/* Count */
	FFCountKind count_kind;		/* Count */
	List	   *waitpoints;		/* Count: keys (char *) */
	List	   *members;		/* AllOf / AnyOf: FFCond * */
} FFCond;

/* What the evaluator needs to know about one signal. */
typedef struct FFSignalFacts
{
	const char *waitpoint_key;
	const char *signal_name;
	const char *signal_id;
	const char *source_type;
	const char *source_identity;
} FFSignalFacts;

extern FFCond *ff_cond_parse(Jsonb *condition);
extern FFCond *ff_cond_default(List *keys);
extern Jsonb *ff_cond_to_jsonb(const FFCond *cond);
extern List *ff_cond_keys(const FFCond *cond);
extern bool ff_cond_root_never_by_signal(const FFCond *cond);
extern Datum ff_cond_required_names(const FFCond *cond, const char *waitpoint_key);
extern const char *ff_cond_apply(const FFCond *cond, const FFSignalFacts *signal,
								 List **tokens, bool *contributed, bool *satisfied);

/* suspend.c: suspension rows and transitions shared by the suspend*.c files */
typedef struct FFSuspension
{
	FFExecKey	key;
	pg_uuid_t	suspension_id;
	int32		attempt_index;
	char	   *reason_code;
	Jsonb	   *condition;
	int64		resume_delay_ms;
	int64		timeout_at_ms;	/* FF_NULL_MS = none */
	char	   *timeout_behavior;
	List	   *tokens;			/* satisfied tokens (char *) */
} FFSuspension;

typedef struct FFWaitpoint
{
	FFExecKey	key;			/* the owning execution */
	pg_uuid_t	waitpoint_id;
	int32		attempt_index;
	char	   *waitpoint_key;
	const char *state;			/* pending, active, closed */
	bool		has_suspension;
	pg_uuid_t	suspension_id;
	char	   *token_kid;
	char	   *token;
	int64		expires_at_ms;	/* FF_NULL_MS = none */
} FFWaitpoint;

extern bool ff_waitpoint_lock(int16 partition, const pg_uuid_t *waitpoint_id, FFWaitpoint *wp);
extern void ff_waitpoint_close(const FFWaitpoint *wp, const char *reason, int64 now);
extern bool ff_suspension_load_open(const FFExecKey *key, FFSuspension *s);
extern void ff_suspension_store(const FFSuspension *s);
extern void ff_suspension_close(const FFSuspension *s, const char *reason,
								const pg_uuid_t *closer_signal_id, int64 now);
extern void ff_exec_resume(FFExecRow *exec, int64 delay_ms, int64 now);
extern void ff_suspend_on_terminal(const FFExecRow *exec, const char *outcome, int64 now);
extern void ff_check_text_arg(const char *value, const char *name, size_t max_bytes);

/* suspend_signal.c */
extern void ff_emit_signal_event(const FFExecRow *exec, const pg_uuid_t *signal_id,
								 const pg_uuid_t *waitpoint_id, const char *signal_name,
								 const char *source_type, const char *source_identity,
								 const char *effect, int64 now);

#endif							/* FF_SUSPEND_H */

/*
 * budget.h
 *		Budgets, quotas and admission control (docs/budgets.md): budget.c
 *		(budgets, usage, resets), quota.c (quota policies, sliding windows,
 *		concurrency slots), budget_admission.c (what ff_claim, attempt ends
 *		and terminal transitions call; blocking and unblocking).
 *
 * Tables (extension/sql/85_budget.sql): ff_budget_policy, ff_budget_usage,
 * ff_budget_usage_by_exec (ledger), ff_budget_usage_dedup,
 * ff_budget_execution, ff_quota_policy, ff_quota_window, ff_quota_admitted,
 * ff_quota_blocked.
 *
 * Lock order: an execution row, then budget / quota rows (a budget's
 * policy row before its usage rows, usage rows in dimension byte order). A
 * budget or quota operation that must change executions while holding a
 * budget or quota row (a reset unblocking, a breach action, a freed slot)
 * locks them SKIP LOCKED: it never waits for one, and a reconciler finishes
 * what it skipped.
 */
#ifndef FF_BUDGET_H
#define FF_BUDGET_H

#include "flowfabric.h"

#define FF_BUDGET_PARTITIONS		32
#define FF_QUOTA_PARTITIONS			32
#define FF_BUDGET_DEDUP_TTL_MS		(24 * 3600 * 1000LL)
#define FF_BUDGET_MAX_DIMENSIONS	64
#define FF_BUDGET_NAME_MAX_BYTES	256
#define FF_MAX_ATTACHED_BUDGETS		16

/* state.c: the vectors of work a budget or quota holds back (attempt state kept) */
extern const FFStateVector ff_sv_blocked_by_budget;
extern const FFStateVector ff_sv_blocked_by_quota;

/* What an execution's policy attaches it to. */
typedef struct FFAdmissionPolicy
{
	int			nbudgets;
	pg_uuid_t	budgets[FF_MAX_ATTACHED_BUDGETS];	/* sorted, distinct */
	bool		has_quota;
	pg_uuid_t	quota;
} FFAdmissionPolicy;

/* budget_admission.c */
extern bool ff_admission_policy(Jsonb *policy, FFAdmissionPolicy *out);

/*
 * SQL true when a policy (a jsonb expression) attaches no budget or quota:
 * neither key ff_admission_policy reads is present. Conservative (a key
 * with a null value counts as present): the set-based claim and completion
 * leave those rows to the per-row code, which reads the policy itself.
 */
#define FF_NO_ADMISSION_SQL(policy) \
	"NOT coalesce(" policy " ? 'budget_ids' OR " policy " ? 'quota_policy_id', false)"
extern void ff_admission_policy_check(Jsonb *policy);
extern bool ff_admission_admit(FFExecRow *exec, int64 now);
extern void ff_admission_attempt_ended(const FFExecRow *exec, const char *lifecycle, int64 now);
extern void ff_admission_on_terminal(const FFExecRow *exec, int64 now);
extern bool ff_admission_lock_exec(int16 partition, const pg_uuid_t *uuid, FFExecRow *exec);
extern void ff_admission_block(FFExecRow *exec, const FFStateVector *sv, const char *detail, int64 now);
extern bool ff_admission_unblock(FFExecRow *exec, const char *eligibility, int64 now);

/* budget.c */
extern int16 ff_budget_partition(const pg_uuid_t *id);
extern pg_uuid_t ff_budget_id_arg(FunctionCallInfo fcinfo, int argno, const char *name);
extern bool ff_budget_holds_back(int16 pk, const pg_uuid_t *budget, bool lock, char **detail,
								 bool *track_admitted);
extern void ff_budget_note_execution(int16 pk, const pg_uuid_t *budget, const FFExecKey *exec,
									 const char *status, int64 now);
extern void ff_budget_forget_execution(int16 pk, const pg_uuid_t *budget, const FFExecKey *exec);
extern int32 ff_budget_unblock_all(int16 pk, const pg_uuid_t *budget, int64 now, int32 limit);
extern int32 ff_budget_cleanup_dedup(int64 now, int32 limit);

/* quota.c */
typedef enum FFQuotaVerdict
{
	FF_QUOTA_ADMIT,
	FF_QUOTA_RATE,
	FF_QUOTA_CONCURRENCY
} FFQuotaVerdict;

extern FFQuotaVerdict ff_quota_claim(const pg_uuid_t *quota, const FFExecKey *exec, bool force,
									 int64 now, int64 *retry_at, char **detail);
extern void ff_quota_release_slot(const pg_uuid_t *quota, const FFExecKey *exec, int64 now);
extern void ff_quota_forget_execution(const pg_uuid_t *quota, const FFExecKey *exec);

#endif							/* FF_BUDGET_H */

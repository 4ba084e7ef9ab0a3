/*
 * scheduler.h
 *		The scheduler (signed, expiring claim grants and reclaim grants),
 *		operator controls, lane controls and the worker registry
 *		(docs/operator.md). Shared by scheduler.c, operator.c and
 *		worker_registry.c.
 *
 * Tables (extension/sql/90_scheduler.sql): ff_claim_grant, ff_operator_event
 * (outbox), ff_execution_replay, ff_worker_registry; the state column of
 * ff_lane. Lock order: the execution row, then the attempt, then grant /
 * replay rows; lane and registry rows are never locked together with an
 * execution by these functions except registry row -> execution -> attempt
 * (worker death releases the worker's leases).
 */
#ifndef FF_SCHEDULER_H
#define FF_SCHEDULER_H

#include "flowfabric.h"

#define FF_WORKER_ID_MAX_BYTES		256
#define FF_REASON_MAX_BYTES			256
#define FF_MAX_GRANT_TTL_MS			60000
#define FF_DEFAULT_GRANT_TTL_MS		10000
#define FF_MAX_LIVENESS_TTL_MS		(7 * 24 * 3600 * 1000LL)
#define FF_SCHED_MAX_LANES			64

/* scheduler.c */
extern void ff_check_worker_id(const char *value, const char *name);
extern void ff_grants_delete(const FFExecKey *key);
extern char *ff_exec_state_json(const FFExecRow *exec);

/* operator.c: the operator-event outbox */
extern void ff_emit_operator_event(const char *event_type, const FFExecRow *exec,
								   const char *lane_id, const char *worker_instance_id,
								   const char *namespace, const char *details_json, int64 now);
extern char *ff_json_quote(const char *s);

/* worker_registry.c */
extern int32 ff_release_worker_leases(const char *worker_instance_id, const char *end_reason,
									  int64 now);

#endif							/* FF_SCHEDULER_H */

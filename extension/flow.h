/*
 * flow.h
 *		Flows: DAGs of executions joined by dependency edges (flow.c: flows,
 *		membership, flow cancel and its backlog; edge.c: edges, edge groups,
 *		the completion cascade, wait_children and the dependency reconcilers).
 *
 * Lock order for everything flow-related (docs/flows.md#locking):
 *	1. the flow row (graph changes and flow cancel only; the cascade never
 *	   takes it);
 *	2. execution rows: along the DAG upstream before downstream; a set of
 *	   unrelated executions (flow members, siblings) in (partition_key,
 *	   execution_id) order and never waiting for them (SKIP LOCKED);
 *	3. attempt rows;
 *	4. edge rows, then the edge-group row. An edge group is only written
 *	   while its downstream execution's row is locked.
 */
#ifndef FLOWFABRIC_FLOW_H
#define FLOWFABRIC_FLOW_H

#include "flowfabric.h"

/* How a cascade treats a downstream execution another transaction holds. */
typedef enum FFCascadeMode
{
	FF_CASCADE_WAIT,			/* wait for its lock (worker calls) */
	FF_CASCADE_SKIP_LOCKED		/* leave it to ff_reconcile_dependencies */
} FFCascadeMode;

typedef void (*FFCascadeBody) (void *arg);

/* A flow row, loaded (and locked) by ff_flow_load. */
typedef struct FFFlowRow
{
	int16		partition;
	pg_uuid_t	flow_id;
	const char *public_flow_state;	/* "open" or "cancelled" */
	int64		graph_revision;
	int32		node_count;
	int32		edge_count;
} FFFlowRow;

/* flow.c */
extern int16 ff_flow_partition_of(const pg_uuid_t *flow_id);
extern pg_uuid_t ff_flow_arg_uuid(FunctionCallInfo fcinfo, int argno, const char *name);
extern void ff_flow_load(const pg_uuid_t *flow_id, FFFlowRow *row, bool lock);
extern void ff_flow_require_open(const FFFlowRow *flow);
extern void ff_flow_member_key(const FFFlowRow *flow, const char *execution_id, FFExecKey *key);
extern bool ff_flow_exec_lock_skip(const FFExecKey *key, FFExecRow *row);
extern bool ff_flow_cancel_execution(FFExecRow *exec, const char *reason, const char *cancelled_by,
									 const char *end_reason, int64 now);

/* edge.c: the completion cascade */
extern void ff_flow_member_terminal(const FFExecRow *exec, const char *outcome, int64 now);
extern void ff_flow_run_cascade(FFCascadeMode mode, FFCascadeBody body, void *arg);

#endif							/* FLOWFABRIC_FLOW_H */

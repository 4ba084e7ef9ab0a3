/*
 * operator.c - the scheduler (claim grants, reclaim grants), operator
 * controls, lane controls, the worker registry and the operator-event
 * outbox (docs/operator.md).
 *
 * Every function is one prepared statement and one round trip. Results are
 * decoded by field tables (result.c), so each result struct's clear function
 * frees exactly what its decoder allocated.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define T FFC_TEXTOID
#define B FFC_BYTEAOID
#define I4 FFC_INT4OID
#define I8 FFC_INT8OID
#define TA FFC_TEXTARRAYOID
#define U FFC_UUIDOID

/* ------------------------------------------------------------------------
 * statements
 * ------------------------------------------------------------------------ */
#define GRANT_COLS "execution_id, partition_key, lane_id, grant_key, expires_at_ms"
#define CLAIM_COLS "handle, execution_id, attempt_index, attempt_type, lease_epoch, " \
	"lease_expires_at_ms, input_payload"

static const ffc_stmt st_claim_for_worker = {
	"ff_c_claim_for_worker",
	"SELECT " GRANT_COLS " FROM ff_claim_for_worker(lanes => $1, worker_id => $2, "
	"worker_instance_id => $3, capabilities => $4, grant_ttl_ms => $5)",
	5, {TA, T, T, TA, I8}, false
};

static const ffc_stmt st_issue_claim_grant = {
	"ff_c_issue_claim_grant",
	"SELECT " GRANT_COLS " FROM ff_issue_claim_grant(execution_id => $1, worker_id => $2, "
	"worker_instance_id => $3, capabilities => $4, grant_ttl_ms => $5, capability_hash => $6, "
	"route_snapshot_json => $7, admission_summary => $8)",
	8, {T, T, T, TA, I8, T, T, T}, false
};

static const ffc_stmt st_claim_execution = {
	"ff_c_claim_execution",
	"SELECT " CLAIM_COLS " FROM ff_claim_execution(execution_id => $1, grant_key => $2, "
	"worker_id => $3, worker_instance_id => $4, lease_ttl_ms => $5)",
	5, {T, T, T, T, I8}, false
};

static const ffc_stmt st_issue_grant_and_claim = {
	"ff_c_issue_grant_and_claim",
	"SELECT " CLAIM_COLS " FROM ff_issue_grant_and_claim(execution_id => $1, "
	"lease_ttl_ms => $2, worker_id => coalesce($3, 'operator'), "
	"worker_instance_id => coalesce($4, 'operator'))",
	4, {T, I8, T, T}, false
};

static const ffc_stmt st_issue_reclaim_grant = {
	"ff_c_issue_reclaim_grant",
	"SELECT outcome, execution_id, partition_key, lane_id, grant_key, expires_at_ms, "
	"reclaim_count FROM ff_issue_reclaim_grant(execution_id => $1, worker_id => $2, "
	"worker_instance_id => $3, capabilities => $4, grant_ttl_ms => $5, capability_hash => $6, "
	"route_snapshot_json => $7, admission_summary => $8)",
	8, {T, T, T, TA, I8, T, T, T}, false
};

static const ffc_stmt st_reclaim_execution = {
	"ff_c_reclaim_execution",
	"SELECT " CLAIM_COLS ", outcome, reclaim_count FROM ff_reclaim_execution("
	"execution_id => $1, grant_key => $2, worker_id => $3, worker_instance_id => $4, "
	"lease_ttl_ms => $5)",
	5, {T, T, T, T, I8}, false
};

static const ffc_stmt st_claim_from_resume_grant = {
	"ff_c_claim_from_resume_grant",
	"SELECT " CLAIM_COLS " FROM ff_claim_from_resume_grant(grant_key => $1, worker_id => $2, "
	"worker_instance_id => $3, lease_ttl_ms => $4)",
	4, {T, T, T, I8}, false
};

static const ffc_stmt st_scan_eligible = {
	"ff_c_scan_eligible",
	"SELECT execution_id, partition_key, priority, created_at_ms, attempt_state, granted "
	"FROM ff_scan_eligible_executions($1, $2, $3)",
	3, {T, T, I4}, true
};

static const ffc_stmt st_block_route = {
	"ff_c_block_route",
	"SELECT eligibility_state, blocking_reason, blocking_detail, public_state "
	"FROM ff_block_route($1, coalesce($2, 'waiting_for_capable_worker'), $3)",
	3, {T, T, T}, false
};

static const ffc_stmt st_unblock = {
	"ff_c_unblock",
	"SELECT eligibility_state, blocking_reason, blocking_detail, public_state "
	"FROM ff_unblock_execution($1, $2)",
	2, {T, T}, false
};

static const ffc_stmt st_cancel_execution = {
	"ff_c_cancel_execution",
	"SELECT outcome, public_state, lease_revoked FROM ff_cancel_execution($1, $2, "
	"coalesce($3, 'operator_override'), $4)",
	4, {T, T, T, I8}, true
};

static const ffc_stmt st_change_priority = {
	"ff_c_change_priority",
	"SELECT old_priority, new_priority FROM ff_change_priority($1, $2)",
	2, {T, I4}, true
};

static const ffc_stmt st_replay = {
	"ff_c_replay",
	"SELECT public_state, replay_count FROM ff_replay_execution($1, $2)",
	2, {T, T}, false
};

static const ffc_stmt st_revoke = {
	"ff_c_revoke",
	"SELECT outcome, detail, lease_id, lease_epoch FROM ff_revoke_lease($1, $2::uuid, $3, $4)",
	4, {T, T, T, T}, true
};

static const ffc_stmt st_pause_lane = {
	"ff_c_pause_lane", "SELECT lane_id, state, previous_state FROM ff_pause_lane($1, $2)",
	2, {T, T}, true
};

static const ffc_stmt st_resume_lane = {
	"ff_c_resume_lane", "SELECT lane_id, state, previous_state FROM ff_resume_lane($1, $2)",
	2, {T, T}, true
};

static const ffc_stmt st_drain_lane = {
	"ff_c_drain_lane", "SELECT lane_id, state, previous_state FROM ff_drain_lane($1, $2)",
	2, {T, T}, true
};

static const ffc_stmt st_lane_states = {
	"ff_c_lane_states",
	"SELECT lane_id, state, registered_by, registered_at_ms FROM ff_list_lanes($1, $2)",
	2, {T, I4}, true
};

static const ffc_stmt st_register_worker = {
	"ff_c_register_worker",
	"SELECT outcome, next_expiry_ms FROM ff_register_worker($1, $2, $3, $4, "
	"coalesce($5, 30000), coalesce($6, 'default'))",
	6, {T, T, TA, TA, I8, T}, true
};

static const ffc_stmt st_heartbeat_worker = {
	"ff_c_heartbeat_worker",
	"SELECT outcome, next_expiry_ms FROM ff_heartbeat_worker($1, coalesce($2, 'default'))",
	2, {T, T}, true
};

static const ffc_stmt st_mark_worker_dead = {
	"ff_c_mark_worker_dead",
	"SELECT outcome, leases_released FROM ff_mark_worker_dead($1, coalesce($2, 'default'), $3)",
	3, {T, T, T}, true
};

static const ffc_stmt st_list_workers = {
	"ff_c_list_workers",
	"SELECT worker_instance_id, worker_id, namespace, lanes, capabilities, last_heartbeat_ms, "
	"liveness_ttl_ms, expires_at_ms, registered_at_ms, alive "
	"FROM ff_list_workers(coalesce($1, 'default'), $2, $3)",
	3, {T, T, I4}, true
};

static const ffc_stmt st_expired_leases = {
	"ff_c_expired_leases",
	"SELECT execution_id, lane_id, namespace, attempt_index, lease_id, lease_epoch, worker_id, "
	"worker_instance_id, expires_at_ms, ownership_state "
	"FROM ff_list_expired_leases($1, $2, $3, $4, $5)",
	5, {I8, I8, T, I4, T}, true
};

static const ffc_stmt st_operator_events = {
	"ff_c_operator_events",
	"SELECT event_id, event_type, execution_id, lane_id, worker_instance_id, namespace, "
	"details, occurred_at_ms FROM ff_operator_events($1, $2)",
	2, {I8, I4}, true
};

static const ffc_stmt st_reconcile_worker_expiry = {
	"ff_c_reconcile_worker_expiry", "SELECT ff_reconcile_worker_expiry($1)", 1, {I4}, false
};

static const ffc_stmt st_reconcile_claim_grants = {
	"ff_c_reconcile_claim_grants", "SELECT ff_reconcile_claim_grants($1)", 1, {I4}, false
};

/* ------------------------------------------------------------------------
 * claim grants
 * ------------------------------------------------------------------------ */
static const ffc_field grant_fields[] = {
	FFC_FLD(TEXT, ff_claim_grant, execution_id),
	FFC_FLD(TEXT, ff_claim_grant, partition_key),
	FFC_FLD(TEXT, ff_claim_grant, lane_id),
	FFC_FLD(TEXT, ff_claim_grant, grant_key),
	FFC_FLD(I64, ff_claim_grant, expires_at_ms),
};


void
ff_claim_grant_clear(ff_claim_grant *g)
{
	FFC_CLEAR_RECORD(g, grant_fields);
}

static void
param_grant_worker(ffc_params *p, const ff_grant_args *a)
{
	ffc_param_text(p, a->worker_id);
	ffc_param_text(p, a->worker_instance_id);
	ffc_param_text_array(p, a->capabilities, a->n_capabilities);
	ffc_param_int64_or_null(p, a->grant_ttl_ms, a->grant_ttl_ms == 0);
}

ff_status
ff_client_claim_for_worker(ff_client *c, const char *const *lanes, size_t n_lanes,
						   const ff_grant_args *a, ff_claim_grant *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, a != NULL && out != NULL, "args and out are required");
	ffc_params_init(&p);
	ffc_param_text_array(&p, lanes, n_lanes);
	param_grant_worker(&p, a);
	return FFC_RUN_ROW(c, &st_claim_for_worker, &p, grant_fields, out, &out->found);
}

ff_status
ff_client_issue_claim_grant(ff_client *c, const char *execution_id, const ff_grant_args *a,
							ff_claim_grant *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, a != NULL && out != NULL, "args and out are required");
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	param_grant_worker(&p, a);
	ffc_param_text(&p, a->capability_hash);
	ffc_param_text(&p, a->route_snapshot_json);
	ffc_param_text(&p, a->admission_summary);
	return FFC_RUN_ROW(c, &st_issue_claim_grant, &p, grant_fields, out, &out->found);
}

static const ffc_field claimed_fields[] = {
	FFC_FLD(HANDLE, ff_granted_claim, claim.handle),
	FFC_FLD(TEXT, ff_granted_claim, claim.execution_id),
	FFC_FLD(I32, ff_granted_claim, claim.attempt_index),
	FFC_FLD(TEXT, ff_granted_claim, attempt_type),
	FFC_FLD(I64, ff_granted_claim, claim.lease_epoch),
	FFC_FLD(I64, ff_granted_claim, claim.lease_expires_at_ms),
	FFC_FLD(BYTES, ff_granted_claim, claim.input_payload),
	FFC_FLD(TEXT, ff_granted_claim, outcome),		/* reclaim only */
	FFC_FLD(I32, ff_granted_claim, reclaim_count), /* reclaim only */
};

#define NCLAIM 7
#define NRECLAIM 9

void
ff_granted_claim_clear(ff_granted_claim *g)
{
	FFC_CLEAR_RECORD(g, claimed_fields);
}

static ff_status
granted_claim(ff_client *c, const ffc_stmt *st, ffc_params *p, int nf, ff_granted_claim *out)
{
	ff_status	s = ffc_run_row(c, st, p, claimed_fields, nf, out, sizeof(*out), &out->claimed);

	if (s == FF_OK && out->claimed && out->claim.handle.data == NULL)
	{
		/* reclaim_cap_exceeded: a row, but nothing was claimed */
		out->claimed = false;
	}
	return s;
}

ff_status
ff_client_claim_execution(ff_client *c, const char *execution_id, const char *grant_key,
						  const char *worker_id, const char *worker_instance_id,
						  int64_t lease_ttl_ms, ff_granted_claim *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	ffc_param_text(&p, grant_key);
	ffc_param_text(&p, worker_id);
	ffc_param_text(&p, worker_instance_id);
	ffc_param_int64_or_null(&p, lease_ttl_ms, lease_ttl_ms == 0);
	return granted_claim(c, &st_claim_execution, &p, NCLAIM, out);
}

ff_status
ff_client_issue_grant_and_claim(ff_client *c, const char *execution_id, int64_t lease_ttl_ms,
								const char *worker_id, const char *worker_instance_id,
								ff_granted_claim *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	ffc_param_int64_or_null(&p, lease_ttl_ms == 0 ? 30000 : lease_ttl_ms, false);
	ffc_param_text(&p, worker_id);
	ffc_param_text(&p, worker_instance_id);
	return granted_claim(c, &st_issue_grant_and_claim, &p, NCLAIM, out);
}

/* ------------------------------------------------------------------------
 * reclaim
 * ------------------------------------------------------------------------ */
static const ffc_field reclaim_grant_fields[] = {
	FFC_FLD(TEXT, ff_reclaim_grant, outcome),
	FFC_FLD(TEXT, ff_reclaim_grant, execution_id),
	FFC_FLD(TEXT, ff_reclaim_grant, partition_key),
	FFC_FLD(TEXT, ff_reclaim_grant, lane_id),
	FFC_FLD(TEXT, ff_reclaim_grant, grant_key),
	FFC_FLD(I64, ff_reclaim_grant, expires_at_ms),
	FFC_FLD(I32, ff_reclaim_grant, reclaim_count),
};


void
ff_reclaim_grant_clear(ff_reclaim_grant *g)
{
	FFC_CLEAR_RECORD(g, reclaim_grant_fields);
}

ff_status
ff_client_issue_reclaim_grant(ff_client *c, const char *execution_id, const ff_grant_args *a,
							  ff_reclaim_grant *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, a != NULL && out != NULL, "args and out are required");
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	param_grant_worker(&p, a);
	ffc_param_text(&p, a->capability_hash);
	ffc_param_text(&p, a->route_snapshot_json);
	ffc_param_text(&p, a->admission_summary);
	return FFC_RUN_ROW(c, &st_issue_reclaim_grant, &p, reclaim_grant_fields, out, NULL);
}

ff_status
ff_client_reclaim_execution(ff_client *c, const char *execution_id, const char *grant_key,
							const char *worker_id, const char *worker_instance_id,
							int64_t lease_ttl_ms, ff_granted_claim *out)
{
	ffc_params	p;
	ff_status	s;
	bool		row;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	ffc_param_text(&p, grant_key);
	ffc_param_text(&p, worker_id);
	ffc_param_text(&p, worker_instance_id);
	ffc_param_int64_or_null(&p, lease_ttl_ms, lease_ttl_ms == 0);
	s = ffc_run_row(c, &st_reclaim_execution, &p, claimed_fields, NRECLAIM, out, sizeof(*out), &row);
	if (s == FF_OK && !row)
		s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: no row from ff_reclaim_execution");
	if (s == FF_OK)
		out->claimed = out->claim.handle.data != NULL;
	return s;
}

ff_status
ff_client_claim_from_resume_grant(ff_client *c, const char *grant_key, const char *worker_id,
								  const char *worker_instance_id, int64_t lease_ttl_ms,
								  ff_granted_claim *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, grant_key);
	ffc_param_text(&p, worker_id);
	ffc_param_text(&p, worker_instance_id);
	ffc_param_int64_or_null(&p, lease_ttl_ms, lease_ttl_ms == 0);
	return granted_claim(c, &st_claim_from_resume_grant, &p, NCLAIM, out);
}

/* ------------------------------------------------------------------------
 * scan, block
 * ------------------------------------------------------------------------ */
static const ffc_field eligible_fields[] = {
	FFC_FLD(TEXT, ff_eligible_execution, execution_id),
	FFC_FLD(TEXT, ff_eligible_execution, partition_key),
	FFC_FLD(I32, ff_eligible_execution, priority),
	FFC_FLD(I64, ff_eligible_execution, created_at_ms),
	FFC_FLD(TEXT, ff_eligible_execution, attempt_state),
	FFC_FLD(BOOL, ff_eligible_execution, granted),
};


void
ff_eligible_list_clear(ff_eligible_list *l)
{
	FFC_CLEAR_LIST(l, eligible_fields);
}

ff_status
ff_client_scan_eligible_executions(ff_client *c, const char *lane_id, const char *partition_key,
								   int32_t max_results, ff_eligible_list *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, lane_id);
	ffc_param_text(&p, partition_key);
	ffc_param_int32_default(&p, max_results, 100);
	return FFC_RUN_LIST(c, &st_scan_eligible, &p, eligible_fields, out);
}

static const ffc_field block_fields[] = {
	FFC_FLD(TEXT, ff_block_result, eligibility_state),
	FFC_FLD(TEXT, ff_block_result, blocking_reason),
	FFC_FLD(TEXT, ff_block_result, blocking_detail),
	FFC_FLD(TEXT, ff_block_result, public_state),
};

void
ff_block_result_clear(ff_block_result *r)
{
	FFC_CLEAR_RECORD(r, block_fields);
}

ff_status
ff_client_block_route(ff_client *c, const char *execution_id, const char *reason_code,
					  const char *reason_detail, ff_block_result *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	ffc_param_text(&p, reason_code);
	ffc_param_text(&p, reason_detail);
	return FFC_RUN_ROW(c, &st_block_route, &p, block_fields, out, NULL);
}

ff_status
ff_client_unblock_execution(ff_client *c, const char *execution_id,
							const char *expected_blocking_reason, ff_block_result *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	ffc_param_text(&p, expected_blocking_reason);
	return FFC_RUN_ROW(c, &st_unblock, &p, block_fields, out, NULL);
}

/* ------------------------------------------------------------------------
 * operator controls
 * ------------------------------------------------------------------------ */
static const ffc_field cancel_fields[] = {
	FFC_FLD(TEXT, ff_cancel_execution_result, outcome),
	FFC_FLD(TEXT, ff_cancel_execution_result, public_state),
	FFC_FLD(BOOL, ff_cancel_execution_result, lease_revoked),
};

void
ff_cancel_execution_result_clear(ff_cancel_execution_result *r)
{
	FFC_CLEAR_RECORD(r, cancel_fields);
}

ff_status
ff_client_cancel_execution(ff_client *c, const char *execution_id, const char *reason,
						   const char *source, const int64_t *lease_epoch,
						   ff_cancel_execution_result *out)
{
	ffc_params	p;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	ffc_param_text(&p, reason);
	ffc_param_text(&p, source);
	ffc_param_int64_or_null(&p, lease_epoch ? *lease_epoch : 0, lease_epoch == NULL);
	return FFC_RUN_ROW(c, &st_cancel_execution, &p, cancel_fields, out, NULL);
}

ff_status
ff_client_change_priority(ff_client *c, const char *execution_id, int32_t new_priority,
						  int32_t *old_priority, int32_t *new_priority_out)
{
	static const ffc_field f[] = {
		{FFC_F_I32, 0, 0, NULL}, {FFC_F_I32, sizeof(int32_t), 0, NULL}
	};
	int32_t		r[2] = {0, 0};
	ffc_params	p;
	ff_status	s;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	ffc_param_int32_or_null(&p, new_priority, false);
	s = ffc_run_row(c, &st_change_priority, &p, f, 2, r, sizeof(r), NULL);
	if (s == FF_OK && old_priority)
		*old_priority = r[0];
	if (s == FF_OK && new_priority_out)
		*new_priority_out = r[1];
	return s;
}

static const ffc_field replay_fields[] = {
	FFC_FLD(TEXT, ff_replay_result, public_state),
	FFC_FLD(I32, ff_replay_result, replay_count),
};

void
ff_replay_result_clear(ff_replay_result *r)
{
	FFC_CLEAR_RECORD(r, replay_fields);
}

ff_status
ff_client_replay_execution(ff_client *c, const char *execution_id, const char *reason,
						   ff_replay_result *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	ffc_param_text(&p, reason);
	return FFC_RUN_ROW(c, &st_replay, &p, replay_fields, out, NULL);
}

static const ffc_field revoke_fields[] = {
	FFC_FLD(TEXT, ff_revoke_result, outcome),
	FFC_FLD(TEXT, ff_revoke_result, detail),
	FFC_FLD(TEXT, ff_revoke_result, lease_id),
	FFC_FLD(I64, ff_revoke_result, lease_epoch),
};

void
ff_revoke_result_clear(ff_revoke_result *r)
{
	FFC_CLEAR_RECORD(r, revoke_fields);
}

ff_status
ff_client_revoke_lease(ff_client *c, const char *execution_id, const char *expected_lease_id,
					   const char *worker_instance_id, const char *reason, ff_revoke_result *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	ffc_param_text(&p, expected_lease_id);
	ffc_param_text(&p, worker_instance_id);
	ffc_param_text(&p, reason);
	return FFC_RUN_ROW(c, &st_revoke, &p, revoke_fields, out, NULL);
}

/* ------------------------------------------------------------------------
 * lanes
 * ------------------------------------------------------------------------ */
static const ffc_field lane_change_fields[] = {
	FFC_FLD(TEXT, ff_lane_state_change, lane_id),
	FFC_FLD(TEXT, ff_lane_state_change, state),
	FFC_FLD(TEXT, ff_lane_state_change, previous_state),
};

void
ff_lane_state_change_clear(ff_lane_state_change *r)
{
	FFC_CLEAR_RECORD(r, lane_change_fields);
}

static ff_status
lane_control(ff_client *c, const ffc_stmt *st, const char *lane_id, const char *reason,
			 ff_lane_state_change *out)
{
	ffc_params	p;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_text(&p, lane_id);
	ffc_param_text(&p, reason);
	return FFC_RUN_ROW(c, st, &p, lane_change_fields, out, NULL);
}

ff_status
ff_client_pause_lane(ff_client *c, const char *lane_id, const char *reason,
					 ff_lane_state_change *out)
{
	return lane_control(c, &st_pause_lane, lane_id, reason, out);
}

ff_status
ff_client_resume_lane(ff_client *c, const char *lane_id, const char *reason,
					  ff_lane_state_change *out)
{
	return lane_control(c, &st_resume_lane, lane_id, reason, out);
}

ff_status
ff_client_drain_lane(ff_client *c, const char *lane_id, const char *reason,
					 ff_lane_state_change *out)
{
	return lane_control(c, &st_drain_lane, lane_id, reason, out);
}

static const ffc_field lane_state_fields[] = {
	FFC_FLD(TEXT, ff_lane_state, lane_id),
	FFC_FLD(TEXT, ff_lane_state, state),
	FFC_FLD(TEXT, ff_lane_state, registered_by),
	FFC_FLD(I64, ff_lane_state, registered_at_ms),
};

void
ff_lane_state_list_clear(ff_lane_state_list *l)
{
	FFC_CLEAR_LIST(l, lane_state_fields);
}

ff_status
ff_client_list_lane_states(ff_client *c, const char *cursor, int32_t max_results,
						   ff_lane_state_list *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, cursor);
	ffc_param_int32_default(&p, max_results, 100);
	return FFC_RUN_LIST(c, &st_lane_states, &p, lane_state_fields, out);
}

/* ------------------------------------------------------------------------
 * worker registry
 * ------------------------------------------------------------------------ */
static const ffc_field liveness_fields[] = {
	FFC_FLD(TEXT, ff_worker_liveness, outcome),
	FFC_FLD(I64, ff_worker_liveness, next_expiry_ms),
};

void
ff_worker_liveness_clear(ff_worker_liveness *r)
{
	FFC_CLEAR_RECORD(r, liveness_fields);
}

ff_status
ff_client_register_worker(ff_client *c, const ff_register_worker_args *a,
						  ff_worker_liveness *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, a != NULL && out != NULL, "args and out are required");
	ffc_params_init(&p);
	ffc_param_text(&p, a->worker_id);
	ffc_param_text(&p, a->worker_instance_id);
	ffc_param_text_array(&p, a->lanes, a->n_lanes);
	ffc_param_text_array(&p, a->capabilities, a->n_capabilities);
	ffc_param_int64_or_null(&p, a->liveness_ttl_ms, a->liveness_ttl_ms == 0);
	ffc_param_text(&p, a->ns);
	return FFC_RUN_ROW(c, &st_register_worker, &p, liveness_fields, out, NULL);
}

ff_status
ff_client_heartbeat_worker(ff_client *c, const char *worker_instance_id, const char *ns,
						   ff_worker_liveness *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, worker_instance_id);
	ffc_param_text(&p, ns);
	return FFC_RUN_ROW(c, &st_heartbeat_worker, &p, liveness_fields, out, NULL);
}

ff_status
ff_client_mark_worker_dead(ff_client *c, const char *worker_instance_id, const char *ns,
						   const char *reason, char **outcome_out, int32_t *leases_released)
{
	static const ffc_field f[] = {
		{FFC_F_TEXT, 0, 0, NULL}, {FFC_F_I32, sizeof(char *), 0, NULL}
	};
	struct
	{
		char	   *outcome;
		int32_t		released;
	}			r;
	ffc_params	p;
	ff_status	s;

	if (c == NULL)
		return FF_ERR_USAGE;
	if (outcome_out)
		*outcome_out = NULL;
	ffc_params_init(&p);
	ffc_param_text(&p, worker_instance_id);
	ffc_param_text(&p, ns);
	ffc_param_text(&p, reason);
	s = ffc_run_row(c, &st_mark_worker_dead, &p, f, 2, &r, sizeof(r), NULL);
	if (s != FF_OK)
		return s;
	if (leases_released)
		*leases_released = r.released;
	if (outcome_out)
		*outcome_out = r.outcome;
	else
		free(r.outcome);
	return FF_OK;
}

static const ffc_field worker_fields[] = {
	FFC_FLD(TEXT, ff_worker_info, worker_instance_id),
	FFC_FLD(TEXT, ff_worker_info, worker_id),
	FFC_FLD(TEXT, ff_worker_info, ns),
	FFC_FLD2(TEXTS, ff_worker_info, lanes, n_lanes),
	FFC_FLD2(TEXTS, ff_worker_info, capabilities, n_capabilities),
	FFC_FLD(I64, ff_worker_info, last_heartbeat_ms),
	FFC_FLD(I64, ff_worker_info, liveness_ttl_ms),
	FFC_FLD(I64, ff_worker_info, expires_at_ms),
	FFC_FLD(I64, ff_worker_info, registered_at_ms),
	FFC_FLD(BOOL, ff_worker_info, alive),
};

void
ff_worker_list_clear(ff_worker_list *l)
{
	FFC_CLEAR_LIST(l, worker_fields);
}

ff_status
ff_client_list_workers(ff_client *c, const char *ns, const char *cursor, int32_t max_results,
					   ff_worker_list *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, ns);
	ffc_param_text(&p, cursor);
	ffc_param_int32_default(&p, max_results, 100);
	return FFC_RUN_LIST(c, &st_list_workers, &p, worker_fields, out);
}

static const ffc_field expired_fields[] = {
	FFC_FLD(TEXT, ff_expired_lease, execution_id),
	FFC_FLD(TEXT, ff_expired_lease, lane_id),
	FFC_FLD(TEXT, ff_expired_lease, ns),
	FFC_FLD(I32, ff_expired_lease, attempt_index),
	FFC_FLD(TEXT, ff_expired_lease, lease_id),
	FFC_FLD(I64, ff_expired_lease, lease_epoch),
	FFC_FLD(TEXT, ff_expired_lease, worker_id),
	FFC_FLD(TEXT, ff_expired_lease, worker_instance_id),
	FFC_FLD(I64, ff_expired_lease, expires_at_ms),
	FFC_FLD(TEXT, ff_expired_lease, ownership_state),
};


void
ff_expired_lease_list_clear(ff_expired_lease_list *l)
{
	FFC_CLEAR_LIST(l, expired_fields);
}

ff_status
ff_client_list_expired_leases(ff_client *c, int64_t as_of, int64_t after_expires_at_ms,
							  const char *after_execution_id, int32_t max_results, const char *ns,
							  ff_expired_lease_list *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_int64_or_null(&p, as_of, as_of == 0);
	ffc_param_int64_or_null(&p, after_expires_at_ms,
							after_expires_at_ms == 0 && after_execution_id == NULL);
	ffc_param_text(&p, after_execution_id);
	ffc_param_int32_default(&p, max_results, 1000);
	ffc_param_text(&p, ns);
	return FFC_RUN_LIST(c, &st_expired_leases, &p, expired_fields, out);
}

/* ------------------------------------------------------------------------
 * the operator-event outbox, reconcilers
 * ------------------------------------------------------------------------ */
static const ffc_field event_fields[] = {
	FFC_FLD(I64, ff_operator_event, event_id),
	FFC_FLD(TEXT, ff_operator_event, event_type),
	FFC_FLD(TEXT, ff_operator_event, execution_id),
	FFC_FLD(TEXT, ff_operator_event, lane_id),
	FFC_FLD(TEXT, ff_operator_event, worker_instance_id),
	FFC_FLD(TEXT, ff_operator_event, ns),
	FFC_FLD(TEXT, ff_operator_event, details_json),
	FFC_FLD(I64, ff_operator_event, occurred_at_ms),
};


void
ff_operator_event_list_clear(ff_operator_event_list *l)
{
	FFC_CLEAR_LIST(l, event_fields);
}

ff_status
ff_client_operator_events(ff_client *c, int64_t after_event_id, int32_t max_events,
						  ff_operator_event_list *out)
{
	FFC_REQUIRE(c, out != NULL, "out is required");
	return FFC_READ_EVENTS(c, &st_operator_events, event_fields, after_event_id, max_events, out);
}

ff_status
ff_client_reconcile_worker_expiry(ff_client *c, int32_t batch_size, int32_t *changed)
{
	return ffc_reconcile(c, &st_reconcile_worker_expiry, batch_size ? batch_size : 1000, changed);
}

ff_status
ff_client_reconcile_claim_grants(ff_client *c, int32_t batch_size, int32_t *changed)
{
	return ffc_reconcile(c, &st_reconcile_claim_grants, batch_size ? batch_size : 1000, changed);
}

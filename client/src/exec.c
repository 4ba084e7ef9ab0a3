/*
 * exec.c - lifecycle operations (create, claim, renew, progress, complete,
 * fail, cancel, delay) and the read / tag / listing functions.
 *
 * Every function is one prepared statement and one round trip; handles and
 * payloads travel as binary bytea parameters, results come back in binary.
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
#define J FFC_JSONBOID

static const ffc_stmt st_create = {
	"ff_c_create",
	"SELECT execution_id, public_state, created FROM ff_create_execution("
	"lane_id => $1, input_payload => $2, execution_id => $3, namespace => $4, "
	"execution_kind => $5, priority => $6, required_capabilities => $7, policy => $8, "
	"delay_until => $9, execution_deadline_at => $10, idempotency_key => $11, "
	"tags => $12, creator_identity => $13)",
	13, {T, B, T, T, T, I4, TA, J, I8, I8, T, J, T}, false
};

static const ffc_stmt st_claim = {
	"ff_c_claim",
	"SELECT handle, execution_id, attempt_index, lease_epoch, lease_expires_at_ms, "
	"input_payload FROM ff_claim(lane_id => $1, worker_id => $2, "
	"worker_instance_id => $3, capabilities => $4, lease_ttl_ms => $5, max_claims => $6)",
	6, {T, T, T, TA, I8, I4}, false
};

static const ffc_stmt st_renew = {
	"ff_c_renew",
	"SELECT lease_expires_at_ms, lease_epoch FROM ff_renew($1)",
	1, {B}, true
};

static const ffc_stmt st_progress = {
	"ff_c_progress",
	"SELECT 1 FROM ff_progress($1, $2, $3)",
	3, {B, I4, T}, true
};

static const ffc_stmt st_complete = {
	"ff_c_complete",
	"SELECT 1 FROM ff_complete($1, $2)",
	2, {B, B}, true
};

static const ffc_stmt st_fail = {
	"ff_c_fail",
	"SELECT outcome, delay_until FROM ff_fail($1, $2, $3, $4)",
	4, {B, T, T, B}, true
};

static const ffc_stmt st_cancel = {
	"ff_c_cancel",
	"SELECT 1 FROM ff_cancel($1, $2)",
	2, {B, T}, true
};

static const ffc_stmt st_delay = {
	"ff_c_delay",
	"SELECT 1 FROM ff_delay($1, $2)",
	2, {B, I8}, false
};

static const ffc_stmt st_describe = {
	"ff_c_describe",
	"SELECT execution_id, flow_id, lane_id, namespace, public_state, blocking_reason, "
	"blocking_detail, current_attempt_index, current_attempt_id, lease_id, lease_epoch, "
	"worker_instance_id, lease_expires_at_ms, lease_renewed_at_ms, created_at_ms, "
	"last_mutation_at_ms, total_attempt_count, tags FROM ff_describe_execution($1)",
	1, {T}, true
};

static const ffc_stmt st_info = {
	"ff_c_info",
	"SELECT execution_id, namespace, lane_id, priority, execution_kind, lifecycle_phase, "
	"ownership_state, eligibility_state, blocking_reason, terminal_outcome, attempt_state, "
	"public_state, created_at_ms, started_at_ms, completed_at_ms, current_attempt_index, "
	"flow_id, blocking_detail FROM ff_read_execution_info($1)",
	1, {T}, true
};

static const ffc_stmt st_state = {
	"ff_c_state", "SELECT ff_read_execution_state($1)", 1, {T}, true
};

static const ffc_stmt st_result = {
	"ff_c_result", "SELECT ff_get_execution_result($1)", 1, {T}, true
};

static const ffc_stmt st_context = {
	"ff_c_context",
	"SELECT input_payload, execution_kind, tags FROM ff_read_execution_context($1)",
	1, {T}, true
};

static const ffc_stmt st_attempt_index = {
	"ff_c_attempt_index", "SELECT ff_read_current_attempt_index($1)", 1, {T}, true
};

static const ffc_stmt st_attempt_count = {
	"ff_c_attempt_count", "SELECT ff_read_total_attempt_count($1)", 1, {T}, true
};

static const ffc_stmt st_namespace = {
	"ff_c_namespace", "SELECT ff_get_execution_namespace($1)", 1, {T}, true
};

static const ffc_stmt st_get_tag = {
	"ff_c_get_tag", "SELECT ff_get_execution_tag($1, $2)", 2, {T, T}, true
};

static const ffc_stmt st_set_tag = {
	"ff_c_set_tag", "SELECT 1 FROM ff_set_execution_tag($1, $2, $3)", 3, {T, T, T}, true
};

static const ffc_stmt st_list_executions = {
	"ff_c_list_executions",
	"SELECT execution_id, lane_id, public_state, created_at_ms "
	"FROM ff_list_executions($1, $2, $3)",
	3, {T, T, I4}, true
};

static const ffc_stmt st_list_lanes = {
	"ff_c_list_lanes",
	"SELECT lane_id, registered_at_ms, registered_by FROM ff_list_lanes($1, $2)",
	2, {T, I4}, true
};

/* ------------------------------------------------------------------------
 * create
 * ------------------------------------------------------------------------ */
/* also the tail of ff_create_executions' rows (batch.c) */
const ffc_field ffc_create_result_fields[3] = {
	FFC_FLD(TEXT, ff_create_result, execution_id),
	FFC_FLD(TEXT, ff_create_result, public_state),
	FFC_FLD(BOOL, ff_create_result, created),
};

void
ff_create_result_clear(ff_create_result *r)
{
	FFC_CLEAR_RECORD(r, ffc_create_result_fields);
}

ff_status
ff_client_create_execution(ff_client *c, const ff_create_args *a, ff_create_result *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, a != NULL && out != NULL, "args and out are required");
	ffc_params_init(&p);
	ffc_param_text(&p, a->lane_id);
	ffc_param_bytes(&p, a->input_payload, a->input_payload_len, a->input_payload == NULL);
	ffc_param_text(&p, a->execution_id);
	ffc_param_text(&p, a->ns);
	ffc_param_text(&p, a->execution_kind);
	ffc_param_int32_or_null(&p, a->priority, false);
	ffc_param_text_array(&p, a->required_capabilities, a->n_required_capabilities);
	ffc_param_text(&p, a->policy_json);
	ffc_param_int64_or_null(&p, a->delay_until_ms, a->delay_until_ms == 0);
	ffc_param_int64_or_null(&p, a->execution_deadline_at_ms, a->execution_deadline_at_ms == 0);
	ffc_param_text(&p, a->idempotency_key);
	ffc_param_text(&p, a->tags_json);
	ffc_param_text(&p, a->creator_identity);
	return FFC_RUN_ROW(c, &st_create, &p, ffc_create_result_fields, out, NULL);
}

/* ------------------------------------------------------------------------
 * claim
 * ------------------------------------------------------------------------ */
static const ffc_field claimed_fields[] = {
	FFC_FLD_REQ(HANDLE, ff_claimed, handle),
	FFC_FLD_REQ(TEXT, ff_claimed, execution_id),
	FFC_FLD(I32, ff_claimed, attempt_index),
	FFC_FLD(I64, ff_claimed, lease_epoch),
	FFC_FLD(I64, ff_claimed, lease_expires_at_ms),
	FFC_FLD(BYTES, ff_claimed, input_payload),
};

void
ff_claimed_clear(ff_claimed *item)
{
	FFC_CLEAR_RECORD(item, claimed_fields);
}

void
ff_claim_list_clear(ff_claim_list *list)
{
	FFC_CLEAR_LIST(list, claimed_fields);
}

ff_status
ff_client_claim(ff_client *c, const ff_claim_args *a, ff_claim_list *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, a != NULL && out != NULL, "args and out are required");
	ffc_params_init(&p);
	ffc_param_text(&p, a->lane_id);
	ffc_param_text(&p, a->worker_id);
	ffc_param_text(&p, a->worker_instance_id);
	ffc_param_text_array(&p, a->capabilities, a->n_capabilities);
	ffc_param_int64_or_null(&p, a->lease_ttl_ms, a->lease_ttl_ms == 0);
	ffc_param_int32_or_null(&p, a->max_claims, a->max_claims == 0);
	return FFC_RUN_LIST(c, &st_claim, &p, claimed_fields, out);
}

/* ------------------------------------------------------------------------
 * handle operations
 * ------------------------------------------------------------------------ */
static const ffc_field renew_fields[] = {
	FFC_FLD(I64, ff_renew_result, lease_expires_at_ms),
	FFC_FLD(I64, ff_renew_result, lease_epoch),
};

ff_status
ff_client_renew(ff_client *c, const ff_handle *h, ff_renew_result *out)
{
	ffc_params	p;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_handle(&p, h);
	return FFC_RUN_ROW(c, &st_renew, &p, renew_fields, out, NULL);
}

ff_status
ff_client_progress(ff_client *c, const ff_handle *h, int32_t percent, const char *message)
{
	ffc_params	p;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_handle(&p, h);
	ffc_param_int32_or_null(&p, percent, percent == -1);
	ffc_param_text(&p, message);
	return ffc_run_discard(c, &st_progress, &p);
}

ff_status
ff_client_complete(ff_client *c, const ff_handle *h, const void *payload, size_t payload_len)
{
	ffc_params	p;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_handle(&p, h);
	ffc_param_bytes(&p, payload, payload_len, payload == NULL);
	return ffc_run_discard(c, &st_complete, &p);
}

static const char *const fail_outcome_names[] = {NULL, "retry_scheduled", "terminal_failed"};

static const ffc_field fail_fields[] = {
	FFC_FLD_ENUM(ff_fail_result, outcome, fail_outcome_names),
	FFC_FLD(I64, ff_fail_result, delay_until_ms),
};

ff_status
ff_client_fail(ff_client *c, const ff_handle *h, const char *message,
			   const char *classification, const void *detail, size_t detail_len,
			   ff_fail_result *out)
{
	ffc_params	p;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_handle(&p, h);
	ffc_param_text(&p, message);
	ffc_param_text(&p, classification);
	ffc_param_bytes(&p, detail, detail_len, detail == NULL);
	return FFC_RUN_ROW(c, &st_fail, &p, fail_fields, out, NULL);
}

ff_status
ff_client_cancel(ff_client *c, const ff_handle *h, const char *reason)
{
	ffc_params	p;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_handle(&p, h);
	ffc_param_text(&p, reason);
	return ffc_run_discard(c, &st_cancel, &p);
}

ff_status
ff_client_delay(ff_client *c, const ff_handle *h, int64_t delay_until_ms)
{
	ffc_params	p;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_handle(&p, h);
	ffc_param_int64(&p, delay_until_ms);
	return ffc_run_discard(c, &st_delay, &p);
}

/* ------------------------------------------------------------------------
 * reads
 * ------------------------------------------------------------------------ */
static const ffc_field description_fields[] = {
	FFC_FLD(TEXT, ff_execution_description, execution_id),
	FFC_FLD(TEXT, ff_execution_description, flow_id),
	FFC_FLD(TEXT, ff_execution_description, lane_id),
	FFC_FLD(TEXT, ff_execution_description, ns),
	FFC_FLD(TEXT, ff_execution_description, public_state),
	FFC_FLD(TEXT, ff_execution_description, blocking_reason),
	FFC_FLD(TEXT, ff_execution_description, blocking_detail),
	FFC_FLD2(I32_HAS, ff_execution_description, current_attempt_index, has_current_attempt),
	FFC_FLD(TEXT, ff_execution_description, current_attempt_id),
	FFC_FLD(TEXT, ff_execution_description, lease_id),
	FFC_FLD(I64, ff_execution_description, lease_epoch),
	FFC_FLD(TEXT, ff_execution_description, worker_instance_id),
	FFC_FLD(I64, ff_execution_description, lease_expires_at_ms),
	FFC_FLD(I64, ff_execution_description, lease_renewed_at_ms),
	FFC_FLD(I64, ff_execution_description, created_at_ms),
	FFC_FLD(I64, ff_execution_description, last_mutation_at_ms),
	FFC_FLD(I32, ff_execution_description, total_attempt_count),
	FFC_FLD(TEXT, ff_execution_description, tags_json),
};

void
ff_execution_description_clear(ff_execution_description *d)
{
	FFC_CLEAR_RECORD(d, description_fields);
}

ff_status
ff_client_describe_execution(ff_client *c, const char *execution_id,
							 ff_execution_description *out)
{
	ffc_params	p;
	ff_status	s;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	s = FFC_RUN_ROW(c, &st_describe, &p, description_fields, out, &out->found);
	out->has_lease = out->lease_id != NULL;
	return s;
}

static const ffc_field info_fields[] = {
	FFC_FLD(TEXT, ff_execution_info, execution_id),
	FFC_FLD(TEXT, ff_execution_info, ns),
	FFC_FLD(TEXT, ff_execution_info, lane_id),
	FFC_FLD(I32, ff_execution_info, priority),
	FFC_FLD(TEXT, ff_execution_info, execution_kind),
	FFC_FLD(TEXT, ff_execution_info, lifecycle_phase),
	FFC_FLD(TEXT, ff_execution_info, ownership_state),
	FFC_FLD(TEXT, ff_execution_info, eligibility_state),
	FFC_FLD(TEXT, ff_execution_info, blocking_reason),
	FFC_FLD(TEXT, ff_execution_info, terminal_outcome),
	FFC_FLD(TEXT, ff_execution_info, attempt_state),
	FFC_FLD(TEXT, ff_execution_info, public_state),
	FFC_FLD(I64, ff_execution_info, created_at_ms),
	FFC_FLD(I64, ff_execution_info, started_at_ms),
	FFC_FLD(I64, ff_execution_info, completed_at_ms),
	FFC_FLD(I32, ff_execution_info, current_attempt_index),
	FFC_FLD(TEXT, ff_execution_info, flow_id),
	FFC_FLD(TEXT, ff_execution_info, blocking_detail),
};

void
ff_execution_info_clear(ff_execution_info *i)
{
	FFC_CLEAR_RECORD(i, info_fields);
}

ff_status
ff_client_read_execution_info(ff_client *c, const char *execution_id, ff_execution_info *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	return FFC_RUN_ROW(c, &st_info, &p, info_fields, out, &out->found);
}

ff_status
ff_client_read_execution_state(ff_client *c, const char *execution_id, char **state_out)
{
	ffc_params	p;

	FFC_REQUIRE(c, state_out != NULL, "state_out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	return ffc_scalar_text(c, &st_state, &p, state_out);
}

ff_status
ff_client_get_execution_result(ff_client *c, const char *execution_id, ff_bytes *out)
{
	static const ffc_field bytes_field[] = {{FFC_F_BYTES, 0, 0, NULL}};
	ffc_params	p;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	return FFC_RUN_ROW(c, &st_result, &p, bytes_field, out, NULL);
}

static const ffc_field context_fields[] = {
	FFC_FLD(BYTES, ff_execution_context, input_payload),
	FFC_FLD(TEXT, ff_execution_context, execution_kind),
	FFC_FLD(TEXT, ff_execution_context, tags_json),
};

void
ff_execution_context_clear(ff_execution_context *x)
{
	FFC_CLEAR_RECORD(x, context_fields);
}

ff_status
ff_client_read_execution_context(ff_client *c, const char *execution_id,
								 ff_execution_context *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	return FFC_RUN_ROW(c, &st_context, &p, context_fields, out, &out->found);
}

/* one execution's int32 read (attempt index, attempt count) */
static ff_status
read_int32(ff_client *c, const ffc_stmt *st, const char *execution_id, int32_t *out,
		   bool *found, const char *what)
{
	ffc_params	p;

	if (c == NULL || out == NULL)
		return ffc_usage(c, what);
	*out = 0;
	if (found)
		*found = false;
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	return ffc_scalar_int32(c, st, &p, out, found);
}

ff_status
ff_client_read_current_attempt_index(ff_client *c, const char *execution_id, int32_t *out,
									 bool *found)
{
	return read_int32(c, &st_attempt_index, execution_id, out, found,
					  "ff_client_read_current_attempt_index: out is required");
}

ff_status
ff_client_read_total_attempt_count(ff_client *c, const char *execution_id, int32_t *out,
								   bool *found)
{
	return read_int32(c, &st_attempt_count, execution_id, out, found,
					  "ff_client_read_total_attempt_count: out is required");
}

ff_status
ff_client_get_execution_namespace(ff_client *c, const char *execution_id, char **ns_out)
{
	ffc_params	p;

	FFC_REQUIRE(c, ns_out != NULL, "ns_out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	return ffc_scalar_text(c, &st_namespace, &p, ns_out);
}

ff_status
ff_client_get_execution_tag(ff_client *c, const char *execution_id, const char *key,
							char **value_out)
{
	ffc_params	p;

	FFC_REQUIRE(c, value_out != NULL, "value_out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	ffc_param_text(&p, key);
	return ffc_scalar_text(c, &st_get_tag, &p, value_out);
}

ff_status
ff_client_set_execution_tag(ff_client *c, const char *execution_id, const char *key,
							const char *value)
{
	ffc_params	p;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	ffc_param_text(&p, key);
	ffc_param_text(&p, value);
	return ffc_run_discard(c, &st_set_tag, &p);
}

/* ------------------------------------------------------------------------
 * listings
 * ------------------------------------------------------------------------ */
static const ffc_field summary_fields[] = {
	FFC_FLD(TEXT, ff_execution_summary, execution_id),
	FFC_FLD(TEXT, ff_execution_summary, lane_id),
	FFC_FLD(TEXT, ff_execution_summary, public_state),
	FFC_FLD(I64, ff_execution_summary, created_at_ms),
};

void
ff_execution_list_clear(ff_execution_list *l)
{
	FFC_CLEAR_LIST(l, summary_fields);
}

ff_status
ff_client_list_executions(ff_client *c, const char *partition_key, const char *cursor,
						  int32_t max_results, ff_execution_list *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, partition_key);
	ffc_param_text(&p, cursor);
	ffc_param_int32_default(&p, max_results, 100);
	return FFC_RUN_LIST(c, &st_list_executions, &p, summary_fields, out);
}

static const ffc_field lane_fields[] = {
	FFC_FLD(TEXT, ff_lane, lane_id),
	FFC_FLD(I64, ff_lane, registered_at_ms),
	FFC_FLD(TEXT, ff_lane, registered_by),
};

void
ff_lane_list_clear(ff_lane_list *l)
{
	FFC_CLEAR_LIST(l, lane_fields);
}

ff_status
ff_client_list_lanes(ff_client *c, const char *cursor, int32_t max_results, ff_lane_list *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, cursor);
	ffc_param_int32_default(&p, max_results, 100);
	return FFC_RUN_LIST(c, &st_list_lanes, &p, lane_fields, out);
}

/*
 * suspend.c - suspension, waitpoints and HMAC-signed signals: suspend (by
 * handle or lease triple), pending waitpoints, signal delivery and approvals,
 * observing the signals that resumed an attempt, claiming a resumed
 * execution, operator resume and expiry, listings, the keystore, the token
 * primitive, the two suspension reconcilers and the signal-event outbox
 * reader (its subscription lives in events.c).
 *
 * One prepared statement and one round trip per call, like exec.c. JSON
 * arguments (bindings, conditions, resume policies) are sent as text to
 * jsonb parameters; NULL arguments let the engine apply its defaults.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define T FFC_TEXTOID
#define B FFC_BYTEAOID
#define BO FFC_BOOLOID
#define I4 FFC_INT4OID
#define I8 FFC_INT8OID
#define TA FFC_TEXTARRAYOID
#define J FFC_JSONBOID
#define U FFC_UUIDOID

/* ------------------------------------------------------------------------
 * statements
 * ------------------------------------------------------------------------ */
#define SUSPEND_ARGS \
	"waitpoints => $2, resume_condition => $3, suspension_id => $4, " \
	"reason_code => $5, requested_by => $6, timeout_at => $7, timeout_behavior => $8, " \
	"resume_policy => $9, continuation_metadata_pointer => $10, idempotency_key => $11"
#define SUSPEND_COLS \
	"SELECT outcome, suspension_id, waitpoint_index, waitpoint_id, waitpoint_key, " \
	"waitpoint_token, handle "
#define SUSPEND_TYPES B, J, J, U, T, T, I8, T, J, T, T

/* a suspend with an idempotency key replays: safe to re-send */
static const ffc_stmt st_suspend = {
	"ff_c_suspend", SUSPEND_COLS "FROM ff_suspend(handle => $1, " SUSPEND_ARGS ")",
	11, {SUSPEND_TYPES}, false
};
static const ffc_stmt st_suspend_idem = {
	"ff_c_suspend_idem", SUSPEND_COLS "FROM ff_suspend(handle => $1, " SUSPEND_ARGS ")",
	11, {SUSPEND_TYPES}, true
};

#define TRIPLE_SQL \
	SUSPEND_COLS "FROM ff_suspend_by_triple(execution_id => $1, lease_id => $12, " \
	"lease_epoch => $13, attempt_id => $14, attempt_index => $15, " SUSPEND_ARGS ")"
#define TRIPLE_TYPES T, J, J, U, T, T, I8, T, J, T, T, U, I8, U, I4

static const ffc_stmt st_suspend_triple = {
	"ff_c_suspend_triple", TRIPLE_SQL, 15, {TRIPLE_TYPES}, false
};
static const ffc_stmt st_suspend_triple_idem = {
	"ff_c_suspend_triple_idem", TRIPLE_SQL, 15, {TRIPLE_TYPES}, true
};

static const ffc_stmt st_create_waitpoint = {
	"ff_c_create_waitpoint",
	"SELECT waitpoint_id, waitpoint_key, waitpoint_token, expires_at_ms "
	"FROM ff_create_waitpoint(handle => $1, waitpoint_key => $2, expires_in_ms => $3, "
	"waitpoint_id => $4)",
	4, {B, T, I8, U}, false
};

static const ffc_stmt st_read_token = {
	"ff_c_read_waitpoint_token", "SELECT ff_read_waitpoint_token($1, $2)", 2, {T, U}, true
};

static const ffc_stmt st_close_waitpoint = {
	"ff_c_close_waitpoint", "SELECT ff_close_waitpoint($1, $2, $3)", 3, {T, U, T}, true
};

static const ffc_stmt st_list_pending = {
	"ff_c_list_pending_waitpoints",
	"SELECT waitpoint_id, waitpoint_key, state, required_signal_names, created_at_ms, "
	"activated_at_ms, expires_at_ms, execution_id, token_kid, token_fingerprint "
	"FROM ff_list_pending_waitpoints($1, $2, $3)",
	3, {T, U, I4}, true
};

#define SIGNAL_SQL \
	"SELECT result, signal_id, effect, public_state FROM ff_deliver_signal(" \
	"execution_id => $1, waitpoint_id => $2, waitpoint_token => $3, signal_name => $4, " \
	"signal_id => $5, signal_category => $6, source_type => $7, source_identity => $8, " \
	"payload => $9, payload_encoding => $10, correlation_id => $11, idempotency_key => $12, " \
	"created_at => $13, dedup_ttl_ms => $14, resume_delay_ms => $15, " \
	"max_signals_per_execution => $16)"
#define SIGNAL_TYPES T, U, T, T, U, T, T, T, B, T, T, T, I8, I8, I8, I8

/* with a signal id or an idempotency key a repeat is a "duplicate" */
static const ffc_stmt st_signal = {
	"ff_c_deliver_signal", SIGNAL_SQL, 16, {SIGNAL_TYPES}, false
};
static const ffc_stmt st_signal_idem = {
	"ff_c_deliver_signal_idem", SIGNAL_SQL, 16, {SIGNAL_TYPES}, true
};

static const ffc_stmt st_approval = {
	"ff_c_deliver_approval",
	"SELECT result, signal_id, effect, public_state FROM ff_deliver_approval_signal("
	"execution_id => $1, lane_id => $2, waitpoint_id => $3, signal_name => $4, "
	"idempotency_suffix => $5, signal_dedup_ttl_ms => $6, max_signals_per_execution => $7)",
	7, {T, T, U, T, T, I8, I8}, true
};

static const ffc_stmt st_observe = {
	"ff_c_observe_signals",
	"SELECT signal_id, signal_name, signal_category, source_type, source_identity, "
	"correlation_id, accepted_at_ms, payload, payload_encoding, waitpoint_id, waitpoint_key "
	"FROM ff_observe_signals($1, $2)",
	2, {B, BO}, true
};

static const ffc_stmt st_claim_resumed = {
	"ff_c_claim_resumed",
	"SELECT handle, execution_id, attempt_index, attempt_id, lease_id, lease_epoch, "
	"lease_expires_at_ms, input_payload FROM ff_claim_resumed_execution("
	"execution_id => $1, worker_id => $2, worker_instance_id => $3, lane_id => $4, "
	"lease_ttl_ms => $5, current_attempt_index => $6, remaining_attempt_timeout_ms => $7, "
	"capabilities => $8, lease_id => $9)",
	9, {T, T, T, T, I8, I4, I8, TA, U}, false
};

static const ffc_stmt st_resume = {
	"ff_c_resume_execution", "SELECT ff_resume_execution($1, $2, $3)", 3, {T, T, I8}, false
};

static const ffc_stmt st_expire = {
	"ff_c_expire_suspension", "SELECT outcome, public_state FROM ff_expire_suspension($1)",
	1, {T}, false
};

static const ffc_stmt st_list_suspended = {
	"ff_c_list_suspended",
	"SELECT execution_id, suspended_at_ms, reason, suspension_id, timeout_at_ms "
	"FROM ff_list_suspended($1, $2, $3)",
	3, {T, T, I4}, true
};

static const ffc_stmt st_seed = {
	"ff_c_seed_hmac",
	"SELECT outcome, seeded_kid, same_secret FROM ff_seed_waitpoint_hmac_secret($1, $2)",
	2, {T, T}, true
};

static const ffc_stmt st_rotate = {
	"ff_c_rotate_hmac",
	"SELECT partition, outcome, previous_kid, current_kid, gc_count "
	"FROM ff_rotate_waitpoint_hmac_secret_all($1, $2, $3)",
	3, {T, T, I8}, true
};

static const ffc_stmt st_list_kids = {
	"ff_c_list_hmac_kids",
	"SELECT kid, active, rotated_at_ms, expires_at_ms FROM ff_list_waitpoint_hmac_kids()",
	0, {0}, true
};

static const ffc_stmt st_token_sign = {
	"ff_c_token_sign", "SELECT ff_waitpoint_token_sign($1, $2, $3)", 3, {B, T, T}, true
};

static const ffc_stmt st_token_check = {
	"ff_c_token_check", "SELECT ff_waitpoint_token_check($1, $2, $3, $4)", 4, {B, T, T, T}, true
};

static const ffc_stmt st_rec_suspension_timeout = {
	"ff_c_rec_suspension_timeout", "SELECT ff_reconcile_suspension_timeout($1)",
	1, {I4}, true
};

static const ffc_stmt st_rec_pending_expiry = {
	"ff_c_rec_pending_waitpoint_expiry", "SELECT ff_reconcile_pending_waitpoint_expiry($1)",
	1, {I4}, true
};

static const ffc_stmt st_signal_events = {
	"ff_c_signal_events",
	"SELECT event_id, execution_id, signal_id, waitpoint_id, signal_name, source_type, "
	"source_identity, effect, namespace, lane_id, delivered_at_ms FROM ff_signal_events($1, $2)",
	2, {I8, I4}, true
};

/* ------------------------------------------------------------------------
 * helpers
 * ------------------------------------------------------------------------ */

/* 0 = "engine default" (NULL); the NO_* sentinel (-1) = the engine's 0 */
static void
param_limit(ffc_params *p, int64_t v)
{
	if (v == 0)
		ffc_param_text(p, NULL);
	else
		ffc_param_int64(p, v == -1 ? 0 : v);
}

/* ------------------------------------------------------------------------
 * suspend
 * ------------------------------------------------------------------------ */
static const char *const suspend_outcome_names[] = {NULL, "suspended", "already_satisfied"};

/* every row: the suspension's columns around one waitpoint's (SUSPEND_COLS) */
static const ffc_field suspend_fields[] = {
	FFC_FLD_ENUM_REQ(ff_suspend_result, outcome, suspend_outcome_names),
	FFC_FLD(TEXT, ff_suspend_result, suspension_id),
	FFC_FLD_SKIP, FFC_FLD_SKIP, FFC_FLD_SKIP, FFC_FLD_SKIP,
	FFC_FLD(HANDLE, ff_suspend_result, handle),
};

#define SUSPEND_WAITPOINT_COL 2

static const ffc_field waitpoint_fields[] = {
	FFC_FLD(I32, ff_suspend_waitpoint, index),
	FFC_FLD(TEXT, ff_suspend_waitpoint, waitpoint_id),
	FFC_FLD(TEXT, ff_suspend_waitpoint, waitpoint_key),
	FFC_FLD(TEXT, ff_suspend_waitpoint, waitpoint_token),
};

void
ff_suspend_result_clear(ff_suspend_result *r)
{
	if (r == NULL)
		return;
	ffc_free_list(waitpoint_fields, FFC_NF(waitpoint_fields), sizeof(ff_suspend_waitpoint),
				  r->waitpoints, r->n_waitpoints);
	FFC_CLEAR_RECORD(r, suspend_fields);
}

static void
params_suspend_args(ffc_params *p, const ff_suspend_args *a)
{
	ffc_param_text(p, a->waitpoints_json);
	ffc_param_text(p, a->resume_condition_json);
	ffc_param_text(p, a->suspension_id);
	ffc_param_text(p, a->reason_code);
	ffc_param_text(p, a->requested_by);
	ffc_param_int64_or_null(p, a->timeout_at_ms, a->timeout_at_ms == 0);
	ffc_param_text(p, a->timeout_behavior);
	ffc_param_text(p, a->resume_policy_json);
	ffc_param_text(p, a->continuation_metadata_pointer);
	ffc_param_text(p, a->idempotency_key);
}

/* runs a suspend statement (freeing p) into *out (may be NULL) */
static ff_status
run_suspend(ff_client *c, const ffc_stmt *st, ffc_params *p, ff_suspend_result *out)
{
	ff_suspend_result r = {0};
	PGresult   *res;
	ff_status	s = ffc_run(c, st, p, FFC_NF(suspend_fields), &res);

	if (s != FF_OK)
		return s;
	if (PQntuples(res) < 1)
		s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: suspend returned no rows");
	if (s == FF_OK)
		s = ffc_decode_row(c, res, 0, 0, suspend_fields, FFC_NF(suspend_fields), &r);
	if (s == FF_OK)
		s = ffc_decode_rows(c, res, SUSPEND_WAITPOINT_COL, waitpoint_fields,
							FFC_NF(waitpoint_fields), sizeof(ff_suspend_waitpoint),
							(void **) &r.waitpoints, &r.n_waitpoints);
	PQclear(res);
	if (s == FF_OK && out)
		*out = r;
	else
		ff_suspend_result_clear(&r);
	return s;
}

ff_status
ff_client_suspend(ff_client *c, const ff_handle *handle, const ff_suspend_args *a,
				  ff_suspend_result *out)
{
	ffc_params	p;

	if (out)
		memset(out, 0, sizeof(*out));
	FFC_REQUIRE(c, a != NULL, "args are required");
	ffc_params_init(&p);
	ffc_param_handle(&p, handle);
	params_suspend_args(&p, a);
	return run_suspend(c, a->idempotency_key && a->idempotency_key[0] ? &st_suspend_idem
					   : &st_suspend, &p, out);
}

ff_status
ff_client_suspend_by_triple(ff_client *c, const ff_lease_triple *t, const ff_suspend_args *a,
							ff_suspend_result *out)
{
	ffc_params	p;

	if (out)
		memset(out, 0, sizeof(*out));
	FFC_REQUIRE(c, t != NULL && a != NULL, "fence and args are required");
	ffc_params_init(&p);
	ffc_param_text(&p, t->execution_id);
	params_suspend_args(&p, a);
	ffc_param_text(&p, t->lease_id);
	ffc_param_int64(&p, t->lease_epoch);
	ffc_param_text(&p, t->attempt_id);
	ffc_param_int32_or_null(&p, t->attempt_index, !t->has_attempt_index);
	return run_suspend(c, a->idempotency_key && a->idempotency_key[0] ? &st_suspend_triple_idem
					   : &st_suspend_triple, &p, out);
}

/* ------------------------------------------------------------------------
 * waitpoints
 * ------------------------------------------------------------------------ */
static const ffc_field created_fields[] = {
	FFC_FLD(TEXT, ff_waitpoint_created, waitpoint_id),
	FFC_FLD(TEXT, ff_waitpoint_created, waitpoint_key),
	FFC_FLD(TEXT, ff_waitpoint_created, waitpoint_token),
	FFC_FLD(I64, ff_waitpoint_created, expires_at_ms),
};

void
ff_waitpoint_created_clear(ff_waitpoint_created *w)
{
	FFC_CLEAR_RECORD(w, created_fields);
}

ff_status
ff_client_create_waitpoint(ff_client *c, const ff_handle *handle, const char *waitpoint_key,
						   int64_t expires_in_ms, const char *waitpoint_id,
						   ff_waitpoint_created *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_handle(&p, handle);
	ffc_param_text(&p, waitpoint_key);
	ffc_param_int64(&p, expires_in_ms);
	ffc_param_text(&p, waitpoint_id);
	return FFC_RUN_ROW(c, &st_create_waitpoint, &p, created_fields, out, NULL);
}

ff_status
ff_client_read_waitpoint_token(ff_client *c, const char *partition_key, const char *waitpoint_id,
							   char **token_out)
{
	ffc_params	p;

	FFC_REQUIRE(c, token_out != NULL, "token_out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, partition_key);
	ffc_param_text(&p, waitpoint_id);
	return ffc_scalar_text(c, &st_read_token, &p, token_out);
}

static const char *const close_outcome_names[] = {"closed", "already_closed"};

ff_status
ff_client_close_waitpoint(ff_client *c, const char *execution_id, const char *waitpoint_id,
						  const char *reason, bool *already_closed)
{
	static const ffc_field closed_field[] = {{FFC_F_FLAG, 0, 2, close_outcome_names}};
	ffc_params	p;

	if (already_closed)
		*already_closed = false;
	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	ffc_param_text(&p, waitpoint_id);
	ffc_param_text(&p, reason ? reason : "proactive_close");
	return FFC_RUN_ROW(c, &st_close_waitpoint, &p, closed_field, already_closed, NULL);
}

static const ffc_field pending_fields[] = {
	FFC_FLD(TEXT, ff_pending_waitpoint, waitpoint_id),
	FFC_FLD(TEXT, ff_pending_waitpoint, waitpoint_key),
	FFC_FLD(TEXT, ff_pending_waitpoint, state),
	FFC_FLD2(TEXTS, ff_pending_waitpoint, required_signal_names, n_required_signal_names),
	FFC_FLD(I64, ff_pending_waitpoint, created_at_ms),
	FFC_FLD(I64, ff_pending_waitpoint, activated_at_ms),
	FFC_FLD(I64, ff_pending_waitpoint, expires_at_ms),
	FFC_FLD(TEXT, ff_pending_waitpoint, execution_id),
	FFC_FLD(TEXT, ff_pending_waitpoint, token_kid),
	FFC_FLD(TEXT, ff_pending_waitpoint, token_fingerprint),
};

void
ff_pending_waitpoint_list_clear(ff_pending_waitpoint_list *l)
{
	FFC_CLEAR_LIST(l, pending_fields);
}

ff_status
ff_client_list_pending_waitpoints(ff_client *c, const char *execution_id, const char *after,
								  int32_t max_results, ff_pending_waitpoint_list *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	ffc_param_text(&p, after);
	ffc_param_int32_default(&p, max_results, 100);
	return FFC_RUN_LIST(c, &st_list_pending, &p, pending_fields, out);
}

/* ------------------------------------------------------------------------
 * signals
 * ------------------------------------------------------------------------ */
static const ffc_field signal_result_fields[] = {
	FFC_FLD_REQ(TEXT, ff_signal_result, result),
	FFC_FLD(TEXT, ff_signal_result, signal_id),
	FFC_FLD(TEXT, ff_signal_result, effect),
	FFC_FLD(TEXT, ff_signal_result, public_state),
};

void
ff_signal_result_clear(ff_signal_result *r)
{
	FFC_CLEAR_RECORD(r, signal_result_fields);
}

/* runs a signal statement (freeing p) into *out (may be NULL) */
static ff_status
run_signal(ff_client *c, const ffc_stmt *st, ffc_params *p, ff_signal_result *out)
{
	ff_signal_result r;
	ff_status	s = FFC_RUN_ROW(c, st, p, signal_result_fields, &r, NULL);

	if (s != FF_OK)
		return s;
	r.duplicate = strcmp(r.result, "duplicate") == 0;
	r.satisfied = r.effect && strcmp(r.effect, "resume_condition_satisfied") == 0;
	if (out)
		*out = r;
	else
		ff_signal_result_clear(&r);
	return FF_OK;
}

ff_status
ff_client_deliver_signal(ff_client *c, const ff_signal_args *a, ff_signal_result *out)
{
	ffc_params	p;
	bool		replayable;

	if (out)
		memset(out, 0, sizeof(*out));
	FFC_REQUIRE(c, a != NULL, "args are required");
	ffc_params_init(&p);
	ffc_param_text(&p, a->execution_id);
	ffc_param_text(&p, a->waitpoint_id);
	ffc_param_text(&p, a->waitpoint_token);
	ffc_param_text(&p, a->signal_name);
	ffc_param_text(&p, a->signal_id);
	ffc_param_text(&p, a->signal_category);
	ffc_param_text(&p, a->source_type);
	ffc_param_text(&p, a->source_identity);
	ffc_param_bytes(&p, a->payload, a->payload_len, a->payload == NULL);
	ffc_param_text(&p, a->payload_encoding);
	ffc_param_text(&p, a->correlation_id);
	ffc_param_text(&p, a->idempotency_key);
	ffc_param_int64_or_null(&p, a->created_at_ms, a->created_at_ms == 0);
	param_limit(&p, a->dedup_ttl_ms);
	ffc_param_int64_or_null(&p, a->resume_delay_ms, !a->has_resume_delay);
	param_limit(&p, a->max_signals_per_execution);
	replayable = (a->signal_id && a->signal_id[0]) ||
		(a->idempotency_key && a->idempotency_key[0] && a->dedup_ttl_ms != FF_SIGNAL_NO_DEDUP);
	return run_signal(c, replayable ? &st_signal_idem : &st_signal, &p, out);
}

ff_status
ff_client_deliver_approval(ff_client *c, const ff_approval_args *a, ff_signal_result *out)
{
	ffc_params	p;

	if (out)
		memset(out, 0, sizeof(*out));
	FFC_REQUIRE(c, a != NULL, "args are required");
	ffc_params_init(&p);
	ffc_param_text(&p, a->execution_id);
	ffc_param_text(&p, a->lane_id);
	ffc_param_text(&p, a->waitpoint_id);
	ffc_param_text(&p, a->signal_name);
	ffc_param_text(&p, a->idempotency_suffix);
	param_limit(&p, a->dedup_ttl_ms);
	param_limit(&p, a->max_signals_per_execution);
	return run_signal(c, &st_approval, &p, out);
}

static const ffc_field signal_info_fields[] = {
	FFC_FLD(TEXT, ff_signal_info, signal_id),
	FFC_FLD(TEXT, ff_signal_info, signal_name),
	FFC_FLD(TEXT, ff_signal_info, signal_category),
	FFC_FLD(TEXT, ff_signal_info, source_type),
	FFC_FLD(TEXT, ff_signal_info, source_identity),
	FFC_FLD(TEXT, ff_signal_info, correlation_id),
	FFC_FLD(I64, ff_signal_info, accepted_at_ms),
	FFC_FLD(BYTES, ff_signal_info, payload),
	FFC_FLD(TEXT, ff_signal_info, payload_encoding),
	FFC_FLD(TEXT, ff_signal_info, waitpoint_id),
	FFC_FLD(TEXT, ff_signal_info, waitpoint_key),
};

void
ff_signal_list_clear(ff_signal_list *l)
{
	FFC_CLEAR_LIST(l, signal_info_fields);
}

ff_status
ff_client_observe_signals(ff_client *c, const ff_handle *handle, bool all_signals,
						  ff_signal_list *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_handle(&p, handle);
	ffc_param_text(&p, all_signals ? "true" : "false");
	return FFC_RUN_LIST(c, &st_observe, &p, signal_info_fields, out);
}

/* ------------------------------------------------------------------------
 * resuming
 * ------------------------------------------------------------------------ */
static const ffc_field resumed_fields[] = {
	FFC_FLD_REQ(HANDLE, ff_resumed_claim, claimed.handle),
	FFC_FLD(TEXT, ff_resumed_claim, claimed.execution_id),
	FFC_FLD(I32, ff_resumed_claim, claimed.attempt_index),
	FFC_FLD(TEXT, ff_resumed_claim, attempt_id),
	FFC_FLD(TEXT, ff_resumed_claim, lease_id),
	FFC_FLD(I64, ff_resumed_claim, claimed.lease_epoch),
	FFC_FLD(I64, ff_resumed_claim, claimed.lease_expires_at_ms),
	FFC_FLD(BYTES, ff_resumed_claim, claimed.input_payload),
};

void
ff_resumed_claim_clear(ff_resumed_claim *r)
{
	FFC_CLEAR_RECORD(r, resumed_fields);
}

ff_status
ff_client_claim_resumed(ff_client *c, const ff_claim_resumed_args *a, ff_resumed_claim *out)
{
	ffc_params	p;
	ff_status	s;
	bool		claimed;

	FFC_REQUIRE(c, a != NULL && out != NULL, "args and out are required");
	ffc_params_init(&p);
	ffc_param_text(&p, a->execution_id);
	ffc_param_text(&p, a->worker_id);
	ffc_param_text(&p, a->worker_instance_id);
	ffc_param_text(&p, a->lane_id);
	ffc_param_int64_or_null(&p, a->lease_ttl_ms, a->lease_ttl_ms == 0);
	ffc_param_int32_or_null(&p, a->current_attempt_index, !a->has_current_attempt_index);
	ffc_param_int64_or_null(&p, a->remaining_attempt_timeout_ms,
							a->remaining_attempt_timeout_ms == 0);
	ffc_param_text_array(&p, a->capabilities, a->n_capabilities);
	ffc_param_text(&p, a->lease_id);
	/* no row: budgets or quotas held it back (stored blocked); not an error */
	s = FFC_RUN_ROW(c, &st_claim_resumed, &p, resumed_fields, out, &claimed);
	if (s == FF_OK)
		out->held_back = !claimed;
	return s;
}

ff_status
ff_client_resume_execution(ff_client *c, const char *execution_id, const char *trigger_type,
						   int64_t resume_delay_ms, char **public_state_out)
{
	ffc_params	p;

	if (public_state_out)
		*public_state_out = NULL;
	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	ffc_param_text(&p, trigger_type);
	ffc_param_int64(&p, resume_delay_ms);
	return ffc_scalar_text(c, &st_resume, &p, public_state_out);
}

static const ffc_field expire_fields[] = {
	FFC_FLD(TEXT, ff_expire_result, outcome),
	FFC_FLD(TEXT, ff_expire_result, public_state),
};

void
ff_expire_result_clear(ff_expire_result *r)
{
	FFC_CLEAR_RECORD(r, expire_fields);
}

ff_status
ff_client_expire_suspension(ff_client *c, const char *execution_id, ff_expire_result *out)
{
	ffc_params	p;

	if (out)
		memset(out, 0, sizeof(*out));
	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	return FFC_RUN_ROW(c, &st_expire, &p, expire_fields, out, NULL);
}

/* ------------------------------------------------------------------------
 * listing
 * ------------------------------------------------------------------------ */
static const ffc_field suspended_fields[] = {
	FFC_FLD(TEXT, ff_suspended_execution, execution_id),
	FFC_FLD(I64, ff_suspended_execution, suspended_at_ms),
	FFC_FLD(TEXT, ff_suspended_execution, reason),
	FFC_FLD(TEXT, ff_suspended_execution, suspension_id),
	FFC_FLD(I64, ff_suspended_execution, timeout_at_ms),
};

void
ff_suspended_list_clear(ff_suspended_list *l)
{
	FFC_CLEAR_LIST(l, suspended_fields);
}

ff_status
ff_client_list_suspended(ff_client *c, const char *partition_key, const char *cursor,
						 int32_t max_results, ff_suspended_list *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, partition_key);
	ffc_param_text(&p, cursor);
	ffc_param_int32_default(&p, max_results, 100);
	return FFC_RUN_LIST(c, &st_list_suspended, &p, suspended_fields, out);
}

/* ------------------------------------------------------------------------
 * keystore
 * ------------------------------------------------------------------------ */
static const ffc_field seed_fields[] = {
	FFC_FLD(TEXT, ff_hmac_seed_result, outcome),
	FFC_FLD(TEXT, ff_hmac_seed_result, seeded_kid),
	FFC_FLD(BOOL, ff_hmac_seed_result, same_secret),
};

void
ff_hmac_seed_result_clear(ff_hmac_seed_result *r)
{
	FFC_CLEAR_RECORD(r, seed_fields);
}

ff_status
ff_client_seed_hmac_secret(ff_client *c, const char *kid, const char *secret_hex,
						   ff_hmac_seed_result *out)
{
	ffc_params	p;

	if (out)
		memset(out, 0, sizeof(*out));
	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_text(&p, kid);
	ffc_param_text(&p, secret_hex);
	return FFC_RUN_ROW(c, &st_seed, &p, seed_fields, out, NULL);
}

static const ffc_field rotate_fields[] = {
	FFC_FLD(I32, ff_hmac_rotate_result, partition),
	FFC_FLD(TEXT, ff_hmac_rotate_result, outcome),
	FFC_FLD(TEXT, ff_hmac_rotate_result, previous_kid),
	FFC_FLD(TEXT, ff_hmac_rotate_result, current_kid),
	FFC_FLD(I32, ff_hmac_rotate_result, gc_count),
};

void
ff_hmac_rotate_result_clear(ff_hmac_rotate_result *r)
{
	FFC_CLEAR_RECORD(r, rotate_fields);
}

ff_status
ff_client_rotate_hmac_secret(ff_client *c, const char *new_kid, const char *new_secret_hex,
							 int64_t grace_ms, ff_hmac_rotate_result *out)
{
	ffc_params	p;

	if (out)
		memset(out, 0, sizeof(*out));
	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_text(&p, new_kid);
	ffc_param_text(&p, new_secret_hex);
	ffc_param_int64(&p, grace_ms);
	return FFC_RUN_ROW(c, &st_rotate, &p, rotate_fields, out, NULL);
}

static const ffc_field kid_fields[] = {
	FFC_FLD(TEXT, ff_hmac_kid, kid),
	FFC_FLD(BOOL, ff_hmac_kid, active),
	FFC_FLD(I64, ff_hmac_kid, rotated_at_ms),
	FFC_FLD(I64, ff_hmac_kid, expires_at_ms),
};

void
ff_hmac_kid_list_clear(ff_hmac_kid_list *l)
{
	FFC_CLEAR_LIST(l, kid_fields);
}

ff_status
ff_client_list_hmac_kids(ff_client *c, ff_hmac_kid_list *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	return FFC_RUN_LIST(c, &st_list_kids, &p, kid_fields, out);
}

ff_status
ff_client_waitpoint_token_sign(ff_client *c, const void *secret, size_t secret_len,
							   const char *kid, const char *message, char **token_out)
{
	ffc_params	p;

	FFC_REQUIRE(c, token_out != NULL, "token_out is required");
	ffc_params_init(&p);
	ffc_param_bytes(&p, secret, secret_len, secret == NULL);
	ffc_param_text(&p, kid);
	ffc_param_text(&p, message);
	return ffc_scalar_text(c, &st_token_sign, &p, token_out);
}

ff_status
ff_client_waitpoint_token_check(ff_client *c, const void *secret, size_t secret_len,
								const char *kid, const char *message, const char *token,
								char **verdict_out)
{
	ffc_params	p;

	FFC_REQUIRE(c, verdict_out != NULL, "verdict_out is required");
	ffc_params_init(&p);
	ffc_param_bytes(&p, secret, secret_len, secret == NULL);
	ffc_param_text(&p, kid);
	ffc_param_text(&p, message);
	ffc_param_text(&p, token);
	return ffc_scalar_text(c, &st_token_check, &p, verdict_out);
}

/* ------------------------------------------------------------------------
 * reconcilers
 * ------------------------------------------------------------------------ */
ff_status
ff_client_reconcile_suspension_timeout(ff_client *c, int32_t batch_size, int32_t *changed)
{
	return ffc_reconcile(c, &st_rec_suspension_timeout, batch_size, changed);
}

ff_status
ff_client_reconcile_pending_waitpoint_expiry(ff_client *c, int32_t batch_size, int32_t *changed)
{
	return ffc_reconcile(c, &st_rec_pending_expiry, batch_size, changed);
}

/* ------------------------------------------------------------------------
 * the signal-event outbox
 * ------------------------------------------------------------------------ */
static const ffc_field signal_event_fields[] = {
	FFC_FLD(I64, ff_signal_event, event_id),
	FFC_FLD(TEXT, ff_signal_event, execution_id),
	FFC_FLD(TEXT, ff_signal_event, signal_id),
	FFC_FLD(TEXT, ff_signal_event, waitpoint_id),
	FFC_FLD(TEXT, ff_signal_event, signal_name),
	FFC_FLD(TEXT, ff_signal_event, source_type),
	FFC_FLD(TEXT, ff_signal_event, source_identity),
	FFC_FLD(TEXT, ff_signal_event, effect),
	FFC_FLD(TEXT, ff_signal_event, ns),
	FFC_FLD(TEXT, ff_signal_event, lane_id),
	FFC_FLD(I64, ff_signal_event, delivered_at_ms),
};

void
ff_signal_event_list_clear(ff_signal_event_list *l)
{
	FFC_CLEAR_LIST(l, signal_event_fields);
}

ff_status
ff_client_signal_events(ff_client *c, int64_t after_event_id, int32_t max_events,
						ff_signal_event_list *out)
{
	FFC_REQUIRE(c, out != NULL, "out is required");
	return FFC_READ_EVENTS(c, &st_signal_events, signal_event_fields, after_event_id, max_events,
						   out);
}

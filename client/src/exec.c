/*
 * exec.c - lifecycle operations (create, claim, renew, progress, complete,
 * fail, cancel, delay) and the read / tag / listing functions.
 *
 * Every function is one prepared statement and one round trip; handles and
 * payloads travel as binary bytea parameters, results come back in binary.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define T FFC_TEXTOID
#define B FFC_BYTEAOID
#define I4 FFC_INT4OID
#define I8 FFC_INT8OID
#define TA FFC_TEXTARRAYOID
#define J FFC_JSONBOID

/* chain decoding steps: stop at the first failure */
#define TRY(expr) do { if (s == FF_OK) s = (expr); } while (0)

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

/* ------------------------------------------------------------------------ */

static ff_status
usage(ff_client *c, const char *what)
{
	if (c == NULL)
		return FF_ERR_USAGE;
	return ffc_set_error(c, FF_ERR_USAGE, "%s", what);
}

static void
param_handle(ffc_params *p, const ff_handle *h)
{
	ffc_param_bytes(p, h ? h->data : NULL, h ? h->len : 0, h == NULL || h->data == NULL);
}

/* ------------------------------------------------------------------------
 * create
 * ------------------------------------------------------------------------ */
void
ff_create_result_clear(ff_create_result *r)
{
	if (r == NULL)
		return;
	free(r->execution_id);
	free(r->public_state);
	memset(r, 0, sizeof(*r));
}

ff_status
ff_client_create_execution(ff_client *c, const ff_create_args *a, ff_create_result *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_create_result r = {0};

	if (c == NULL || a == NULL || out == NULL)
		return usage(c, "ff_client_create_execution: args and out are required");
	memset(out, 0, sizeof(*out));
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
	s = ffc_run(c, &st_create, &p, 3, &res);
	if (s != FF_OK)
		return s;
	TRY(ffc_exactly_one_row(c, res));
	TRY(ffc_get_text(c, res, 0, 0, &r.execution_id));
	TRY(ffc_get_text(c, res, 0, 1, &r.public_state));
	TRY(ffc_get_bool(c, res, 0, 2, &r.created));
	PQclear(res);
	if (s != FF_OK)
	{
		ff_create_result_clear(&r);
		return s;
	}
	*out = r;
	return FF_OK;
}

/* ------------------------------------------------------------------------
 * claim
 * ------------------------------------------------------------------------ */
void
ff_claimed_clear(ff_claimed *item)
{
	if (item == NULL)
		return;
	ff_handle_clear(&item->handle);
	free(item->execution_id);
	ff_bytes_clear(&item->input_payload);
	memset(item, 0, sizeof(*item));
}

void
ff_claim_list_clear(ff_claim_list *list)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < list->count; i++)
		ff_claimed_clear(&list->items[i]);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

ff_status
ff_client_claim(ff_client *c, const ff_claim_args *a, ff_claim_list *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_claim_list l = {0};
	int			n;

	if (c == NULL || a == NULL || out == NULL)
		return usage(c, "ff_client_claim: args and out are required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	ffc_param_text(&p, a->lane_id);
	ffc_param_text(&p, a->worker_id);
	ffc_param_text(&p, a->worker_instance_id);
	ffc_param_text_array(&p, a->capabilities, a->n_capabilities);
	ffc_param_int64_or_null(&p, a->lease_ttl_ms, a->lease_ttl_ms == 0);
	ffc_param_int32_or_null(&p, a->max_claims, a->max_claims == 0);
	s = ffc_run(c, &st_claim, &p, 6, &res);
	if (s != FF_OK)
		return s;
	n = PQntuples(res);
	if (n > 0)
	{
		l.items = ffc_calloc((size_t) n, sizeof(ff_claimed));
		if (l.items == NULL)
			s = ffc_set_error(c, FF_ERR_OUT_OF_MEMORY, "out of memory");
	}
	for (int i = 0; i < n && s == FF_OK; i++)
	{
		ff_claimed *it = &l.items[i];
		ff_bytes	h = {0};

		l.count++;
		TRY(ffc_get_bytes(c, res, i, 0, &h));
		it->handle.data = h.data;
		it->handle.len = h.len;
		TRY(ffc_get_text(c, res, i, 1, &it->execution_id));
		TRY(ffc_get_int32(c, res, i, 2, &it->attempt_index));
		TRY(ffc_get_int64(c, res, i, 3, &it->lease_epoch));
		TRY(ffc_get_int64(c, res, i, 4, &it->lease_expires_at_ms));
		TRY(ffc_get_bytes(c, res, i, 5, &it->input_payload));
		if (s == FF_OK && (it->handle.data == NULL || it->execution_id == NULL))
			s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: claim without a handle");
	}
	PQclear(res);
	if (s != FF_OK)
	{
		ff_claim_list_clear(&l);
		return s;
	}
	*out = l;
	return FF_OK;
}

/* ------------------------------------------------------------------------
 * handle operations
 * ------------------------------------------------------------------------ */
ff_status
ff_client_renew(ff_client *c, const ff_handle *h, ff_renew_result *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_renew_result r = {0};

	if (c == NULL)
		return FF_ERR_USAGE;
	if (out)
		memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	param_handle(&p, h);
	s = ffc_run(c, &st_renew, &p, 2, &res);
	if (s != FF_OK)
		return s;
	TRY(ffc_exactly_one_row(c, res));
	TRY(ffc_get_int64(c, res, 0, 0, &r.lease_expires_at_ms));
	TRY(ffc_get_int64(c, res, 0, 1, &r.lease_epoch));
	PQclear(res);
	if (s == FF_OK && out)
		*out = r;
	return s;
}

static ff_status
run_void(ff_client *c, const ffc_stmt *st, ffc_params *p)
{
	PGresult   *res;
	ff_status	s = ffc_run(c, st, p, 1, &res);

	if (s == FF_OK)
		PQclear(res);
	return s;
}

ff_status
ff_client_progress(ff_client *c, const ff_handle *h, int32_t percent, const char *message)
{
	ffc_params	p;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	param_handle(&p, h);
	ffc_param_int32_or_null(&p, percent, percent == -1);
	ffc_param_text(&p, message);
	return run_void(c, &st_progress, &p);
}

ff_status
ff_client_complete(ff_client *c, const ff_handle *h, const void *payload, size_t payload_len)
{
	ffc_params	p;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	param_handle(&p, h);
	ffc_param_bytes(&p, payload, payload_len, payload == NULL);
	return run_void(c, &st_complete, &p);
}

ff_status
ff_client_fail(ff_client *c, const ff_handle *h, const char *message,
			   const char *classification, const void *detail, size_t detail_len,
			   ff_fail_result *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	char	   *outcome = NULL;
	ff_fail_result r = {0};

	if (c == NULL)
		return FF_ERR_USAGE;
	if (out)
		memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	param_handle(&p, h);
	ffc_param_text(&p, message);
	ffc_param_text(&p, classification);
	ffc_param_bytes(&p, detail, detail_len, detail == NULL);
	s = ffc_run(c, &st_fail, &p, 2, &res);
	if (s != FF_OK)
		return s;
	TRY(ffc_exactly_one_row(c, res));
	TRY(ffc_get_text(c, res, 0, 0, &outcome));
	TRY(ffc_get_int64(c, res, 0, 1, &r.delay_until_ms));
	PQclear(res);
	if (s == FF_OK)
	{
		if (outcome && strcmp(outcome, "retry_scheduled") == 0)
			r.outcome = FF_FAIL_RETRY_SCHEDULED;
		else if (outcome && strcmp(outcome, "terminal_failed") == 0)
			r.outcome = FF_FAIL_TERMINAL;
		else
			s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected fail outcome \"%s\"",
							  outcome ? outcome : "(null)");
	}
	free(outcome);
	if (s == FF_OK && out)
		*out = r;
	return s;
}

ff_status
ff_client_cancel(ff_client *c, const ff_handle *h, const char *reason)
{
	ffc_params	p;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	param_handle(&p, h);
	ffc_param_text(&p, reason);
	return run_void(c, &st_cancel, &p);
}

ff_status
ff_client_delay(ff_client *c, const ff_handle *h, int64_t delay_until_ms)
{
	ffc_params	p;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	param_handle(&p, h);
	ffc_param_int64(&p, delay_until_ms);
	return run_void(c, &st_delay, &p);
}

/* ------------------------------------------------------------------------
 * reads
 * ------------------------------------------------------------------------ */
void
ff_execution_description_clear(ff_execution_description *d)
{
	if (d == NULL)
		return;
	free(d->execution_id);
	free(d->flow_id);
	free(d->lane_id);
	free(d->ns);
	free(d->public_state);
	free(d->blocking_reason);
	free(d->blocking_detail);
	free(d->current_attempt_id);
	free(d->lease_id);
	free(d->worker_instance_id);
	free(d->tags_json);
	memset(d, 0, sizeof(*d));
}

ff_status
ff_client_describe_execution(ff_client *c, const char *execution_id,
							 ff_execution_description *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_execution_description d = {0};

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_describe_execution: out is required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	s = ffc_run(c, &st_describe, &p, 18, &res);
	if (s != FF_OK)
		return s;
	if (PQntuples(res) > 0)
	{
		d.found = true;
		d.has_current_attempt = !ffc_isnull(res, 0, 7);
		d.has_lease = !ffc_isnull(res, 0, 9);
		TRY(ffc_get_text(c, res, 0, 0, &d.execution_id));
		TRY(ffc_get_text(c, res, 0, 1, &d.flow_id));
		TRY(ffc_get_text(c, res, 0, 2, &d.lane_id));
		TRY(ffc_get_text(c, res, 0, 3, &d.ns));
		TRY(ffc_get_text(c, res, 0, 4, &d.public_state));
		TRY(ffc_get_text(c, res, 0, 5, &d.blocking_reason));
		TRY(ffc_get_text(c, res, 0, 6, &d.blocking_detail));
		TRY(ffc_get_int32(c, res, 0, 7, &d.current_attempt_index));
		TRY(ffc_get_text(c, res, 0, 8, &d.current_attempt_id));
		TRY(ffc_get_text(c, res, 0, 9, &d.lease_id));
		TRY(ffc_get_int64(c, res, 0, 10, &d.lease_epoch));
		TRY(ffc_get_text(c, res, 0, 11, &d.worker_instance_id));
		TRY(ffc_get_int64(c, res, 0, 12, &d.lease_expires_at_ms));
		TRY(ffc_get_int64(c, res, 0, 13, &d.lease_renewed_at_ms));
		TRY(ffc_get_int64(c, res, 0, 14, &d.created_at_ms));
		TRY(ffc_get_int64(c, res, 0, 15, &d.last_mutation_at_ms));
		TRY(ffc_get_int32(c, res, 0, 16, &d.total_attempt_count));
		TRY(ffc_get_text(c, res, 0, 17, &d.tags_json));
	}
	PQclear(res);
	if (s != FF_OK)
	{
		ff_execution_description_clear(&d);
		return s;
	}
	*out = d;
	return FF_OK;
}

void
ff_execution_info_clear(ff_execution_info *i)
{
	if (i == NULL)
		return;
	free(i->execution_id);
	free(i->ns);
	free(i->lane_id);
	free(i->execution_kind);
	free(i->lifecycle_phase);
	free(i->ownership_state);
	free(i->eligibility_state);
	free(i->blocking_reason);
	free(i->terminal_outcome);
	free(i->attempt_state);
	free(i->public_state);
	free(i->flow_id);
	free(i->blocking_detail);
	memset(i, 0, sizeof(*i));
}

ff_status
ff_client_read_execution_info(ff_client *c, const char *execution_id, ff_execution_info *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_execution_info i = {0};

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_read_execution_info: out is required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	s = ffc_run(c, &st_info, &p, 18, &res);
	if (s != FF_OK)
		return s;
	if (PQntuples(res) > 0)
	{
		i.found = true;
		TRY(ffc_get_text(c, res, 0, 0, &i.execution_id));
		TRY(ffc_get_text(c, res, 0, 1, &i.ns));
		TRY(ffc_get_text(c, res, 0, 2, &i.lane_id));
		TRY(ffc_get_int32(c, res, 0, 3, &i.priority));
		TRY(ffc_get_text(c, res, 0, 4, &i.execution_kind));
		TRY(ffc_get_text(c, res, 0, 5, &i.lifecycle_phase));
		TRY(ffc_get_text(c, res, 0, 6, &i.ownership_state));
		TRY(ffc_get_text(c, res, 0, 7, &i.eligibility_state));
		TRY(ffc_get_text(c, res, 0, 8, &i.blocking_reason));
		TRY(ffc_get_text(c, res, 0, 9, &i.terminal_outcome));
		TRY(ffc_get_text(c, res, 0, 10, &i.attempt_state));
		TRY(ffc_get_text(c, res, 0, 11, &i.public_state));
		TRY(ffc_get_int64(c, res, 0, 12, &i.created_at_ms));
		TRY(ffc_get_int64(c, res, 0, 13, &i.started_at_ms));
		TRY(ffc_get_int64(c, res, 0, 14, &i.completed_at_ms));
		TRY(ffc_get_int32(c, res, 0, 15, &i.current_attempt_index));
		TRY(ffc_get_text(c, res, 0, 16, &i.flow_id));
		TRY(ffc_get_text(c, res, 0, 17, &i.blocking_detail));
	}
	PQclear(res);
	if (s != FF_OK)
	{
		ff_execution_info_clear(&i);
		return s;
	}
	*out = i;
	return FF_OK;
}

/* One row, one column, read as text (NULL stays NULL) */
static ff_status
scalar_text(ff_client *c, const ffc_stmt *st, ffc_params *p, char **out)
{
	PGresult   *res;
	ff_status	s = ffc_run(c, st, p, 1, &res);

	if (s != FF_OK)
		return s;
	TRY(ffc_exactly_one_row(c, res));
	TRY(ffc_get_text(c, res, 0, 0, out));
	PQclear(res);
	return s;
}

static ff_status
scalar_int32(ff_client *c, const ffc_stmt *st, ffc_params *p, int32_t *out, bool *found)
{
	PGresult   *res;
	ff_status	s = ffc_run(c, st, p, 1, &res);
	int32_t		v = 0;
	bool		f = false;

	if (s != FF_OK)
		return s;
	TRY(ffc_exactly_one_row(c, res));
	if (s == FF_OK)
		f = !ffc_isnull(res, 0, 0);
	TRY(ffc_get_int32(c, res, 0, 0, &v));
	PQclear(res);
	if (s == FF_OK)
	{
		*out = v;
		if (found)
			*found = f;
	}
	return s;
}

ff_status
ff_client_read_execution_state(ff_client *c, const char *execution_id, char **state_out)
{
	ffc_params	p;

	if (c == NULL || state_out == NULL)
		return usage(c, "ff_client_read_execution_state: state_out is required");
	*state_out = NULL;
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	return scalar_text(c, &st_state, &p, state_out);
}

ff_status
ff_client_get_execution_result(ff_client *c, const char *execution_id, ff_bytes *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_bytes	b = {0};

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_get_execution_result: out is required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	s = ffc_run(c, &st_result, &p, 1, &res);
	if (s != FF_OK)
		return s;
	TRY(ffc_exactly_one_row(c, res));
	TRY(ffc_get_bytes(c, res, 0, 0, &b));
	PQclear(res);
	if (s == FF_OK)
		*out = b;
	return s;
}

void
ff_execution_context_clear(ff_execution_context *x)
{
	if (x == NULL)
		return;
	ff_bytes_clear(&x->input_payload);
	free(x->execution_kind);
	free(x->tags_json);
	memset(x, 0, sizeof(*x));
}

ff_status
ff_client_read_execution_context(ff_client *c, const char *execution_id,
								 ff_execution_context *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_execution_context x = {0};

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_read_execution_context: out is required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	s = ffc_run(c, &st_context, &p, 3, &res);
	if (s != FF_OK)
		return s;
	if (PQntuples(res) > 0)
	{
		x.found = true;
		TRY(ffc_get_bytes(c, res, 0, 0, &x.input_payload));
		TRY(ffc_get_text(c, res, 0, 1, &x.execution_kind));
		TRY(ffc_get_text(c, res, 0, 2, &x.tags_json));
	}
	PQclear(res);
	if (s != FF_OK)
	{
		ff_execution_context_clear(&x);
		return s;
	}
	*out = x;
	return FF_OK;
}

ff_status
ff_client_read_current_attempt_index(ff_client *c, const char *execution_id, int32_t *out,
									 bool *found)
{
	ffc_params	p;

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_read_current_attempt_index: out is required");
	*out = 0;
	if (found)
		*found = false;
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	return scalar_int32(c, &st_attempt_index, &p, out, found);
}

ff_status
ff_client_read_total_attempt_count(ff_client *c, const char *execution_id, int32_t *out,
								   bool *found)
{
	ffc_params	p;

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_read_total_attempt_count: out is required");
	*out = 0;
	if (found)
		*found = false;
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	return scalar_int32(c, &st_attempt_count, &p, out, found);
}

ff_status
ff_client_get_execution_namespace(ff_client *c, const char *execution_id, char **ns_out)
{
	ffc_params	p;

	if (c == NULL || ns_out == NULL)
		return usage(c, "ff_client_get_execution_namespace: ns_out is required");
	*ns_out = NULL;
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	return scalar_text(c, &st_namespace, &p, ns_out);
}

ff_status
ff_client_get_execution_tag(ff_client *c, const char *execution_id, const char *key,
							char **value_out)
{
	ffc_params	p;

	if (c == NULL || value_out == NULL)
		return usage(c, "ff_client_get_execution_tag: value_out is required");
	*value_out = NULL;
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	ffc_param_text(&p, key);
	return scalar_text(c, &st_get_tag, &p, value_out);
}

ff_status
ff_client_set_execution_tag(ff_client *c, const char *execution_id, const char *key,
							const char *value)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	ffc_param_text(&p, key);
	ffc_param_text(&p, value);
	s = ffc_run(c, &st_set_tag, &p, 1, &res);
	if (s == FF_OK)
		PQclear(res);
	return s;
}

/* ------------------------------------------------------------------------
 * listings
 * ------------------------------------------------------------------------ */
void
ff_execution_list_clear(ff_execution_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->count; i++)
	{
		free(l->items[i].execution_id);
		free(l->items[i].lane_id);
		free(l->items[i].public_state);
	}
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

ff_status
ff_client_list_executions(ff_client *c, const char *partition_key, const char *cursor,
						  int32_t max_results, ff_execution_list *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_execution_list l = {0};
	int			n;

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_list_executions: out is required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	ffc_param_text(&p, partition_key);
	ffc_param_text(&p, cursor);
	ffc_param_int32_or_null(&p, max_results == 0 ? 100 : max_results, false);
	s = ffc_run(c, &st_list_executions, &p, 4, &res);
	if (s != FF_OK)
		return s;
	n = PQntuples(res);
	if (n > 0 && (l.items = ffc_calloc((size_t) n, sizeof(*l.items))) == NULL)
		s = ffc_set_error(c, FF_ERR_OUT_OF_MEMORY, "out of memory");
	for (int i = 0; i < n && s == FF_OK; i++)
	{
		ff_execution_summary *it = &l.items[i];

		l.count++;
		TRY(ffc_get_text(c, res, i, 0, &it->execution_id));
		TRY(ffc_get_text(c, res, i, 1, &it->lane_id));
		TRY(ffc_get_text(c, res, i, 2, &it->public_state));
		TRY(ffc_get_int64(c, res, i, 3, &it->created_at_ms));
	}
	PQclear(res);
	if (s != FF_OK)
	{
		ff_execution_list_clear(&l);
		return s;
	}
	*out = l;
	return FF_OK;
}

void
ff_lane_list_clear(ff_lane_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->count; i++)
	{
		free(l->items[i].lane_id);
		free(l->items[i].registered_by);
	}
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

ff_status
ff_client_list_lanes(ff_client *c, const char *cursor, int32_t max_results, ff_lane_list *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_lane_list l = {0};
	int			n;

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_list_lanes: out is required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	ffc_param_text(&p, cursor);
	ffc_param_int32_or_null(&p, max_results == 0 ? 100 : max_results, false);
	s = ffc_run(c, &st_list_lanes, &p, 3, &res);
	if (s != FF_OK)
		return s;
	n = PQntuples(res);
	if (n > 0 && (l.items = ffc_calloc((size_t) n, sizeof(*l.items))) == NULL)
		s = ffc_set_error(c, FF_ERR_OUT_OF_MEMORY, "out of memory");
	for (int i = 0; i < n && s == FF_OK; i++)
	{
		l.count++;
		TRY(ffc_get_text(c, res, i, 0, &l.items[i].lane_id));
		TRY(ffc_get_int64(c, res, i, 1, &l.items[i].registered_at_ms));
		TRY(ffc_get_text(c, res, i, 2, &l.items[i].registered_by));
	}
	PQclear(res);
	if (s != FF_OK)
	{
		ff_lane_list_clear(&l);
		return s;
	}
	*out = l;
	return FF_OK;
}

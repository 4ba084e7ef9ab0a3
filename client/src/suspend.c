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

#define TRY(expr) do { if (s == FF_OK) s = (expr); } while (0)

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

/* the list items array for n rows (NULL and FF_OK for none) */
static ff_status
alloc_items(ff_client *c, int n, size_t size, void **items)
{
	*items = NULL;
	if (n <= 0)
		return FF_OK;
	*items = ffc_calloc((size_t) n, size);
	return *items ? FF_OK : ffc_set_error(c, FF_ERR_OUT_OF_MEMORY, "out of memory");
}

/* 0 = "engine default" (NULL); the NO_* sentinel (-1) = the engine's 0 */
static void
param_limit(ffc_params *p, int64_t v)
{
	if (v == 0)
		ffc_param_text(p, NULL);
	else
		ffc_param_int64(p, v == -1 ? 0 : v);
}

static uint32_t
be32(const unsigned char *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
}

/* A binary text[] (one dimension, no NULL elements expected) */
static ff_status
get_text_array(ff_client *c, const PGresult *res, int row, int col, char ***out, size_t *n_out)
{
	const unsigned char *v = (const unsigned char *) PQgetvalue(res, row, col);
	size_t		len = (size_t) PQgetlength(res, row, col);
	size_t		pos;
	uint32_t	ndim;
	uint32_t	n = 0;
	char	  **items;

	*out = NULL;
	*n_out = 0;
	if (PQgetisnull(res, row, col))
		return FF_OK;
	if (PQftype(res, col) != FFC_TEXTARRAYOID || len < 12)
		return ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: column \"%s\" is not text[]",
							 PQfname(res, col));
	ndim = be32(v);
	if (ndim == 0)
		return FF_OK;
	if (ndim != 1 || len < 20)
		return ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: %u-dimensional array", ndim);
	n = be32(v + 12);
	pos = 20;
	if (n > len / 4)
		return ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: malformed array");
	items = ffc_calloc(n, sizeof(char *));
	if (items == NULL)
		return ffc_set_error(c, FF_ERR_OUT_OF_MEMORY, "out of memory");
	for (uint32_t i = 0; i < n; i++)
	{
		uint32_t	elen;

		if (pos + 4 > len)
			goto malformed;
		elen = be32(v + pos);
		pos += 4;
		if (elen == 0xffffffffu)
		{
			items[i] = ffc_strdup("");	/* a NULL element: shown as empty */
		}
		else
		{
			if (elen > len - pos)
				goto malformed;
			items[i] = malloc((size_t) elen + 1);
			if (items[i])
			{
				memcpy(items[i], v + pos, elen);
				items[i][elen] = '\0';
			}
			pos += elen;
		}
		if (items[i] == NULL)
		{
			for (uint32_t k = 0; k < i; k++)
				free(items[k]);
			free(items);
			return ffc_set_error(c, FF_ERR_OUT_OF_MEMORY, "out of memory");
		}
	}
	*out = items;
	*n_out = n;
	return FF_OK;

malformed:
	for (uint32_t k = 0; k < n; k++)
		free(items[k]);
	free(items);
	return ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: malformed array");
}

static ff_status
scalar_int32(ff_client *c, const ffc_stmt *st, ffc_params *p, int32_t *out)
{
	PGresult   *res;
	ff_status	s = ffc_run(c, st, p, 1, &res);

	if (s != FF_OK)
		return s;
	TRY(ffc_exactly_one_row(c, res));
	TRY(ffc_get_int32(c, res, 0, 0, out));
	PQclear(res);
	return s;
}

static ff_status
scalar_text(ff_client *c, const ffc_stmt *st, ffc_params *p, char **out)
{
	PGresult   *res;
	ff_status	s = ffc_run(c, st, p, 1, &res);
	char	   *v = NULL;

	if (s != FF_OK)
		return s;
	TRY(ffc_exactly_one_row(c, res));
	TRY(ffc_get_text(c, res, 0, 0, &v));
	PQclear(res);
	if (s == FF_OK)
		*out = v;
	else
		free(v);
	return s;
}

/* ------------------------------------------------------------------------
 * suspend
 * ------------------------------------------------------------------------ */
void
ff_suspend_result_clear(ff_suspend_result *r)
{
	if (r == NULL)
		return;
	free(r->suspension_id);
	for (size_t i = 0; i < r->n_waitpoints; i++)
	{
		free(r->waitpoints[i].waitpoint_id);
		free(r->waitpoints[i].waitpoint_key);
		free(r->waitpoints[i].waitpoint_token);
	}
	free(r->waitpoints);
	ff_handle_clear(&r->handle);
	memset(r, 0, sizeof(*r));
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

static ff_status
decode_suspend(ff_client *c, PGresult *res, ff_suspend_result *out)
{
	ff_suspend_result r = {0};
	ff_status	s = FF_OK;
	int			n = PQntuples(res);
	char	   *outcome = NULL;
	ff_bytes	h = {0};

	if (n < 1)
		s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: suspend returned no rows");
	TRY(alloc_items(c, n, sizeof(ff_suspend_waitpoint), (void **) &r.waitpoints));
	TRY(ffc_get_text(c, res, 0, 0, &outcome));
	TRY(ffc_get_text(c, res, 0, 1, &r.suspension_id));
	TRY(ffc_get_bytes(c, res, 0, 6, &h));
	r.handle.data = h.data;
	r.handle.len = h.len;
	if (s == FF_OK)
	{
		if (outcome && strcmp(outcome, "suspended") == 0)
			r.outcome = FF_SUSPEND_SUSPENDED;
		else if (outcome && strcmp(outcome, "already_satisfied") == 0)
			r.outcome = FF_SUSPEND_ALREADY_SATISFIED;
		else
			s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected suspend outcome \"%s\"",
							  outcome ? outcome : "(null)");
	}
	for (int i = 0; i < n && s == FF_OK; i++)
	{
		ff_suspend_waitpoint *w = &r.waitpoints[i];

		r.n_waitpoints++;
		TRY(ffc_get_int32(c, res, i, 2, &w->index));
		TRY(ffc_get_text(c, res, i, 3, &w->waitpoint_id));
		TRY(ffc_get_text(c, res, i, 4, &w->waitpoint_key));
		TRY(ffc_get_text(c, res, i, 5, &w->waitpoint_token));
	}
	free(outcome);
	if (s != FF_OK)
	{
		ff_suspend_result_clear(&r);
		return s;
	}
	if (out)
		*out = r;
	else
		ff_suspend_result_clear(&r);
	return FF_OK;
}

ff_status
ff_client_suspend(ff_client *c, const ff_handle *handle, const ff_suspend_args *a,
				  ff_suspend_result *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;

	if (out)
		memset(out, 0, sizeof(*out));
	if (c == NULL || a == NULL)
		return usage(c, "ff_client_suspend: args are required");
	ffc_params_init(&p);
	param_handle(&p, handle);
	params_suspend_args(&p, a);
	s = ffc_run(c, a->idempotency_key && a->idempotency_key[0] ? &st_suspend_idem : &st_suspend,
			&p, 7, &res);
	if (s != FF_OK)
		return s;
	s = decode_suspend(c, res, out);
	PQclear(res);
	return s;
}

ff_status
ff_client_suspend_by_triple(ff_client *c, const ff_lease_triple *t, const ff_suspend_args *a,
							ff_suspend_result *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;

	if (out)
		memset(out, 0, sizeof(*out));
	if (c == NULL || t == NULL || a == NULL)
		return usage(c, "ff_client_suspend_by_triple: fence and args are required");
	ffc_params_init(&p);
	ffc_param_text(&p, t->execution_id);
	params_suspend_args(&p, a);
	ffc_param_text(&p, t->lease_id);
	ffc_param_int64(&p, t->lease_epoch);
	ffc_param_text(&p, t->attempt_id);
	ffc_param_int32_or_null(&p, t->attempt_index, !t->has_attempt_index);
	s = ffc_run(c, a->idempotency_key && a->idempotency_key[0] ? &st_suspend_triple_idem
			: &st_suspend_triple, &p, 7, &res);
	if (s != FF_OK)
		return s;
	s = decode_suspend(c, res, out);
	PQclear(res);
	return s;
}

/* ------------------------------------------------------------------------
 * waitpoints
 * ------------------------------------------------------------------------ */
void
ff_waitpoint_created_clear(ff_waitpoint_created *w)
{
	if (w == NULL)
		return;
	free(w->waitpoint_id);
	free(w->waitpoint_key);
	free(w->waitpoint_token);
	memset(w, 0, sizeof(*w));
}

ff_status
ff_client_create_waitpoint(ff_client *c, const ff_handle *handle, const char *waitpoint_key,
						   int64_t expires_in_ms, const char *waitpoint_id,
						   ff_waitpoint_created *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_waitpoint_created w = {0};

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_create_waitpoint: out is required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	param_handle(&p, handle);
	ffc_param_text(&p, waitpoint_key);
	ffc_param_int64(&p, expires_in_ms);
	ffc_param_text(&p, waitpoint_id);
	s = ffc_run(c, &st_create_waitpoint, &p, 4, &res);
	if (s != FF_OK)
		return s;
	TRY(ffc_exactly_one_row(c, res));
	TRY(ffc_get_text(c, res, 0, 0, &w.waitpoint_id));
	TRY(ffc_get_text(c, res, 0, 1, &w.waitpoint_key));
	TRY(ffc_get_text(c, res, 0, 2, &w.waitpoint_token));
	TRY(ffc_get_int64(c, res, 0, 3, &w.expires_at_ms));
	PQclear(res);
	if (s != FF_OK)
	{
		ff_waitpoint_created_clear(&w);
		return s;
	}
	*out = w;
	return FF_OK;
}

ff_status
ff_client_read_waitpoint_token(ff_client *c, const char *partition_key, const char *waitpoint_id,
							   char **token_out)
{
	ffc_params	p;

	if (c == NULL || token_out == NULL)
		return usage(c, "ff_client_read_waitpoint_token: token_out is required");
	*token_out = NULL;
	ffc_params_init(&p);
	ffc_param_text(&p, partition_key);
	ffc_param_text(&p, waitpoint_id);
	return scalar_text(c, &st_read_token, &p, token_out);
}

ff_status
ff_client_close_waitpoint(ff_client *c, const char *execution_id, const char *waitpoint_id,
						  const char *reason, bool *already_closed)
{
	ffc_params	p;
	char	   *outcome = NULL;
	ff_status	s;

	if (already_closed)
		*already_closed = false;
	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	ffc_param_text(&p, waitpoint_id);
	ffc_param_text(&p, reason ? reason : "proactive_close");
	s = scalar_text(c, &st_close_waitpoint, &p, &outcome);
	if (s == FF_OK)
	{
		if (outcome && strcmp(outcome, "already_closed") == 0)
		{
			if (already_closed)
				*already_closed = true;
		}
		else if (outcome == NULL || strcmp(outcome, "closed") != 0)
			s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected close outcome \"%s\"",
							  outcome ? outcome : "(null)");
	}
	free(outcome);
	return s;
}

void
ff_pending_waitpoint_list_clear(ff_pending_waitpoint_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->count; i++)
	{
		ff_pending_waitpoint *w = &l->items[i];

		free(w->waitpoint_id);
		free(w->waitpoint_key);
		free(w->state);
		for (size_t k = 0; k < w->n_required_signal_names; k++)
			free(w->required_signal_names[k]);
		free(w->required_signal_names);
		free(w->execution_id);
		free(w->token_kid);
		free(w->token_fingerprint);
	}
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

ff_status
ff_client_list_pending_waitpoints(ff_client *c, const char *execution_id, const char *after,
								  int32_t max_results, ff_pending_waitpoint_list *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_pending_waitpoint_list l = {0};
	int			n;

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_list_pending_waitpoints: out is required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	ffc_param_text(&p, after);
	ffc_param_int32_or_null(&p, max_results == 0 ? 100 : max_results, false);
	s = ffc_run(c, &st_list_pending, &p, 10, &res);
	if (s != FF_OK)
		return s;
	n = PQntuples(res);
	TRY(alloc_items(c, n, sizeof(*l.items), (void **) &l.items));
	for (int i = 0; i < n && s == FF_OK; i++)
	{
		ff_pending_waitpoint *w = &l.items[i];

		l.count++;
		TRY(ffc_get_text(c, res, i, 0, &w->waitpoint_id));
		TRY(ffc_get_text(c, res, i, 1, &w->waitpoint_key));
		TRY(ffc_get_text(c, res, i, 2, &w->state));
		TRY(get_text_array(c, res, i, 3, &w->required_signal_names, &w->n_required_signal_names));
		TRY(ffc_get_int64(c, res, i, 4, &w->created_at_ms));
		TRY(ffc_get_int64(c, res, i, 5, &w->activated_at_ms));
		TRY(ffc_get_int64(c, res, i, 6, &w->expires_at_ms));
		TRY(ffc_get_text(c, res, i, 7, &w->execution_id));
		TRY(ffc_get_text(c, res, i, 8, &w->token_kid));
		TRY(ffc_get_text(c, res, i, 9, &w->token_fingerprint));
	}
	PQclear(res);
	if (s != FF_OK)
	{
		ff_pending_waitpoint_list_clear(&l);
		return s;
	}
	*out = l;
	return FF_OK;
}

/* ------------------------------------------------------------------------
 * signals
 * ------------------------------------------------------------------------ */
void
ff_signal_result_clear(ff_signal_result *r)
{
	if (r == NULL)
		return;
	free(r->result);
	free(r->signal_id);
	free(r->effect);
	free(r->public_state);
	memset(r, 0, sizeof(*r));
}

static ff_status
decode_signal_result(ff_client *c, PGresult *res, ff_signal_result *out)
{
	ff_signal_result r = {0};
	ff_status	s = FF_OK;

	TRY(ffc_exactly_one_row(c, res));
	TRY(ffc_get_text(c, res, 0, 0, &r.result));
	TRY(ffc_get_text(c, res, 0, 1, &r.signal_id));
	TRY(ffc_get_text(c, res, 0, 2, &r.effect));
	TRY(ffc_get_text(c, res, 0, 3, &r.public_state));
	if (s == FF_OK && r.result == NULL)
		s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: signal without a result");
	if (s != FF_OK)
	{
		ff_signal_result_clear(&r);
		return s;
	}
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
	PGresult   *res;
	ff_status	s;
	bool		replayable;

	if (out)
		memset(out, 0, sizeof(*out));
	if (c == NULL || a == NULL)
		return usage(c, "ff_client_deliver_signal: args are required");
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
	s = ffc_run(c, replayable ? &st_signal_idem : &st_signal, &p, 4, &res);
	if (s != FF_OK)
		return s;
	s = decode_signal_result(c, res, out);
	PQclear(res);
	return s;
}

ff_status
ff_client_deliver_approval(ff_client *c, const ff_approval_args *a, ff_signal_result *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;

	if (out)
		memset(out, 0, sizeof(*out));
	if (c == NULL || a == NULL)
		return usage(c, "ff_client_deliver_approval: args are required");
	ffc_params_init(&p);
	ffc_param_text(&p, a->execution_id);
	ffc_param_text(&p, a->lane_id);
	ffc_param_text(&p, a->waitpoint_id);
	ffc_param_text(&p, a->signal_name);
	ffc_param_text(&p, a->idempotency_suffix);
	param_limit(&p, a->dedup_ttl_ms);
	param_limit(&p, a->max_signals_per_execution);
	s = ffc_run(c, &st_approval, &p, 4, &res);
	if (s != FF_OK)
		return s;
	s = decode_signal_result(c, res, out);
	PQclear(res);
	return s;
}

void
ff_signal_list_clear(ff_signal_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->count; i++)
	{
		ff_signal_info *g = &l->items[i];

		free(g->signal_id);
		free(g->signal_name);
		free(g->signal_category);
		free(g->source_type);
		free(g->source_identity);
		free(g->correlation_id);
		ff_bytes_clear(&g->payload);
		free(g->payload_encoding);
		free(g->waitpoint_id);
		free(g->waitpoint_key);
	}
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

ff_status
ff_client_observe_signals(ff_client *c, const ff_handle *handle, bool all_signals,
						  ff_signal_list *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_signal_list l = {0};
	int			n;

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_observe_signals: out is required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	param_handle(&p, handle);
	ffc_param_text(&p, all_signals ? "true" : "false");
	s = ffc_run(c, &st_observe, &p, 11, &res);
	if (s != FF_OK)
		return s;
	n = PQntuples(res);
	TRY(alloc_items(c, n, sizeof(*l.items), (void **) &l.items));
	for (int i = 0; i < n && s == FF_OK; i++)
	{
		ff_signal_info *g = &l.items[i];

		l.count++;
		TRY(ffc_get_text(c, res, i, 0, &g->signal_id));
		TRY(ffc_get_text(c, res, i, 1, &g->signal_name));
		TRY(ffc_get_text(c, res, i, 2, &g->signal_category));
		TRY(ffc_get_text(c, res, i, 3, &g->source_type));
		TRY(ffc_get_text(c, res, i, 4, &g->source_identity));
		TRY(ffc_get_text(c, res, i, 5, &g->correlation_id));
		TRY(ffc_get_int64(c, res, i, 6, &g->accepted_at_ms));
		TRY(ffc_get_bytes(c, res, i, 7, &g->payload));
		TRY(ffc_get_text(c, res, i, 8, &g->payload_encoding));
		TRY(ffc_get_text(c, res, i, 9, &g->waitpoint_id));
		TRY(ffc_get_text(c, res, i, 10, &g->waitpoint_key));
	}
	PQclear(res);
	if (s != FF_OK)
	{
		ff_signal_list_clear(&l);
		return s;
	}
	*out = l;
	return FF_OK;
}

/* ------------------------------------------------------------------------
 * resuming
 * ------------------------------------------------------------------------ */
void
ff_resumed_claim_clear(ff_resumed_claim *r)
{
	if (r == NULL)
		return;
	ff_claimed_clear(&r->claimed);
	free(r->attempt_id);
	free(r->lease_id);
	memset(r, 0, sizeof(*r));
}

ff_status
ff_client_claim_resumed(ff_client *c, const ff_claim_resumed_args *a, ff_resumed_claim *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_resumed_claim r = {0};
	ff_bytes	h = {0};

	if (c == NULL || a == NULL || out == NULL)
		return usage(c, "ff_client_claim_resumed: args and out are required");
	memset(out, 0, sizeof(*out));
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
	s = ffc_run(c, &st_claim_resumed, &p, 8, &res);
	if (s != FF_OK)
		return s;
	TRY(ffc_exactly_one_row(c, res));
	TRY(ffc_get_bytes(c, res, 0, 0, &h));
	r.claimed.handle.data = h.data;
	r.claimed.handle.len = h.len;
	TRY(ffc_get_text(c, res, 0, 1, &r.claimed.execution_id));
	TRY(ffc_get_int32(c, res, 0, 2, &r.claimed.attempt_index));
	TRY(ffc_get_text(c, res, 0, 3, &r.attempt_id));
	TRY(ffc_get_text(c, res, 0, 4, &r.lease_id));
	TRY(ffc_get_int64(c, res, 0, 5, &r.claimed.lease_epoch));
	TRY(ffc_get_int64(c, res, 0, 6, &r.claimed.lease_expires_at_ms));
	TRY(ffc_get_bytes(c, res, 0, 7, &r.claimed.input_payload));
	if (s == FF_OK && r.claimed.handle.data == NULL)
		s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: claim without a handle");
	PQclear(res);
	if (s != FF_OK)
	{
		ff_resumed_claim_clear(&r);
		return s;
	}
	*out = r;
	return FF_OK;
}

ff_status
ff_client_resume_execution(ff_client *c, const char *execution_id, const char *trigger_type,
						   int64_t resume_delay_ms, char **public_state_out)
{
	ffc_params	p;
	char	   *state = NULL;
	ff_status	s;

	if (public_state_out)
		*public_state_out = NULL;
	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	ffc_param_text(&p, trigger_type);
	ffc_param_int64(&p, resume_delay_ms);
	s = scalar_text(c, &st_resume, &p, &state);
	if (s == FF_OK && public_state_out)
		*public_state_out = state;
	else
		free(state);
	return s;
}

void
ff_expire_result_clear(ff_expire_result *r)
{
	if (r == NULL)
		return;
	free(r->outcome);
	free(r->public_state);
	memset(r, 0, sizeof(*r));
}

ff_status
ff_client_expire_suspension(ff_client *c, const char *execution_id, ff_expire_result *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_expire_result r = {0};

	if (out)
		memset(out, 0, sizeof(*out));
	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	s = ffc_run(c, &st_expire, &p, 2, &res);
	if (s != FF_OK)
		return s;
	TRY(ffc_exactly_one_row(c, res));
	TRY(ffc_get_text(c, res, 0, 0, &r.outcome));
	TRY(ffc_get_text(c, res, 0, 1, &r.public_state));
	PQclear(res);
	if (s == FF_OK && out)
		*out = r;
	else
		ff_expire_result_clear(&r);
	return s;
}

/* ------------------------------------------------------------------------
 * listing
 * ------------------------------------------------------------------------ */
void
ff_suspended_list_clear(ff_suspended_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->count; i++)
	{
		free(l->items[i].execution_id);
		free(l->items[i].reason);
		free(l->items[i].suspension_id);
	}
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

ff_status
ff_client_list_suspended(ff_client *c, const char *partition_key, const char *cursor,
						 int32_t max_results, ff_suspended_list *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_suspended_list l = {0};
	int			n;

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_list_suspended: out is required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	ffc_param_text(&p, partition_key);
	ffc_param_text(&p, cursor);
	ffc_param_int32_or_null(&p, max_results == 0 ? 100 : max_results, false);
	s = ffc_run(c, &st_list_suspended, &p, 5, &res);
	if (s != FF_OK)
		return s;
	n = PQntuples(res);
	TRY(alloc_items(c, n, sizeof(*l.items), (void **) &l.items));
	for (int i = 0; i < n && s == FF_OK; i++)
	{
		ff_suspended_execution *e = &l.items[i];

		l.count++;
		TRY(ffc_get_text(c, res, i, 0, &e->execution_id));
		TRY(ffc_get_int64(c, res, i, 1, &e->suspended_at_ms));
		TRY(ffc_get_text(c, res, i, 2, &e->reason));
		TRY(ffc_get_text(c, res, i, 3, &e->suspension_id));
		TRY(ffc_get_int64(c, res, i, 4, &e->timeout_at_ms));
	}
	PQclear(res);
	if (s != FF_OK)
	{
		ff_suspended_list_clear(&l);
		return s;
	}
	*out = l;
	return FF_OK;
}

/* ------------------------------------------------------------------------
 * keystore
 * ------------------------------------------------------------------------ */
void
ff_hmac_seed_result_clear(ff_hmac_seed_result *r)
{
	if (r == NULL)
		return;
	free(r->outcome);
	free(r->seeded_kid);
	memset(r, 0, sizeof(*r));
}

ff_status
ff_client_seed_hmac_secret(ff_client *c, const char *kid, const char *secret_hex,
						   ff_hmac_seed_result *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_hmac_seed_result r = {0};

	if (out)
		memset(out, 0, sizeof(*out));
	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_text(&p, kid);
	ffc_param_text(&p, secret_hex);
	s = ffc_run(c, &st_seed, &p, 3, &res);
	if (s != FF_OK)
		return s;
	TRY(ffc_exactly_one_row(c, res));
	TRY(ffc_get_text(c, res, 0, 0, &r.outcome));
	TRY(ffc_get_text(c, res, 0, 1, &r.seeded_kid));
	TRY(ffc_get_bool(c, res, 0, 2, &r.same_secret));
	PQclear(res);
	if (s == FF_OK && out)
		*out = r;
	else
		ff_hmac_seed_result_clear(&r);
	return s;
}

void
ff_hmac_rotate_result_clear(ff_hmac_rotate_result *r)
{
	if (r == NULL)
		return;
	free(r->outcome);
	free(r->previous_kid);
	free(r->current_kid);
	memset(r, 0, sizeof(*r));
}

ff_status
ff_client_rotate_hmac_secret(ff_client *c, const char *new_kid, const char *new_secret_hex,
							 int64_t grace_ms, ff_hmac_rotate_result *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_hmac_rotate_result r = {0};

	if (out)
		memset(out, 0, sizeof(*out));
	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_text(&p, new_kid);
	ffc_param_text(&p, new_secret_hex);
	ffc_param_int64(&p, grace_ms);
	s = ffc_run(c, &st_rotate, &p, 5, &res);
	if (s != FF_OK)
		return s;
	TRY(ffc_exactly_one_row(c, res));
	TRY(ffc_get_int32(c, res, 0, 0, &r.partition));
	TRY(ffc_get_text(c, res, 0, 1, &r.outcome));
	TRY(ffc_get_text(c, res, 0, 2, &r.previous_kid));
	TRY(ffc_get_text(c, res, 0, 3, &r.current_kid));
	TRY(ffc_get_int32(c, res, 0, 4, &r.gc_count));
	PQclear(res);
	if (s == FF_OK && out)
		*out = r;
	else
		ff_hmac_rotate_result_clear(&r);
	return s;
}

void
ff_hmac_kid_list_clear(ff_hmac_kid_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i].kid);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

ff_status
ff_client_list_hmac_kids(ff_client *c, ff_hmac_kid_list *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_hmac_kid_list l = {0};
	int			n;

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_list_hmac_kids: out is required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	s = ffc_run(c, &st_list_kids, &p, 4, &res);
	if (s != FF_OK)
		return s;
	n = PQntuples(res);
	TRY(alloc_items(c, n, sizeof(*l.items), (void **) &l.items));
	for (int i = 0; i < n && s == FF_OK; i++)
	{
		l.count++;
		TRY(ffc_get_text(c, res, i, 0, &l.items[i].kid));
		TRY(ffc_get_bool(c, res, i, 1, &l.items[i].active));
		TRY(ffc_get_int64(c, res, i, 2, &l.items[i].rotated_at_ms));
		TRY(ffc_get_int64(c, res, i, 3, &l.items[i].expires_at_ms));
	}
	PQclear(res);
	if (s != FF_OK)
	{
		ff_hmac_kid_list_clear(&l);
		return s;
	}
	*out = l;
	return FF_OK;
}

ff_status
ff_client_waitpoint_token_sign(ff_client *c, const void *secret, size_t secret_len,
							   const char *kid, const char *message, char **token_out)
{
	ffc_params	p;

	if (c == NULL || token_out == NULL)
		return usage(c, "ff_client_waitpoint_token_sign: token_out is required");
	*token_out = NULL;
	ffc_params_init(&p);
	ffc_param_bytes(&p, secret, secret_len, secret == NULL);
	ffc_param_text(&p, kid);
	ffc_param_text(&p, message);
	return scalar_text(c, &st_token_sign, &p, token_out);
}

ff_status
ff_client_waitpoint_token_check(ff_client *c, const void *secret, size_t secret_len,
								const char *kid, const char *message, const char *token,
								char **verdict_out)
{
	ffc_params	p;

	if (c == NULL || verdict_out == NULL)
		return usage(c, "ff_client_waitpoint_token_check: verdict_out is required");
	*verdict_out = NULL;
	ffc_params_init(&p);
	ffc_param_bytes(&p, secret, secret_len, secret == NULL);
	ffc_param_text(&p, kid);
	ffc_param_text(&p, message);
	ffc_param_text(&p, token);
	return scalar_text(c, &st_token_check, &p, verdict_out);
}

/* ------------------------------------------------------------------------
 * reconcilers
 * ------------------------------------------------------------------------ */
static ff_status
reconcile(ff_client *c, const ffc_stmt *st, int32_t batch_size, int32_t *changed)
{
	ffc_params	p;
	int32_t		n = 0;
	ff_status	s;

	if (changed)
		*changed = 0;
	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_int32_or_null(&p, batch_size, batch_size == 0);
	s = scalar_int32(c, st, &p, &n);
	if (s == FF_OK && changed)
		*changed = n;
	return s;
}

ff_status
ff_client_reconcile_suspension_timeout(ff_client *c, int32_t batch_size, int32_t *changed)
{
	return reconcile(c, &st_rec_suspension_timeout, batch_size, changed);
}

ff_status
ff_client_reconcile_pending_waitpoint_expiry(ff_client *c, int32_t batch_size, int32_t *changed)
{
	return reconcile(c, &st_rec_pending_expiry, batch_size, changed);
}

/* ------------------------------------------------------------------------
 * the signal-event outbox
 * ------------------------------------------------------------------------ */
void
ff_signal_event_list_clear(ff_signal_event_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->count; i++)
	{
		ff_signal_event *e = &l->items[i];

		free(e->execution_id);
		free(e->signal_id);
		free(e->waitpoint_id);
		free(e->signal_name);
		free(e->source_type);
		free(e->source_identity);
		free(e->effect);
		free(e->ns);
		free(e->lane_id);
	}
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

ff_status
ff_client_signal_events(ff_client *c, int64_t after_event_id, int32_t max_events,
						ff_signal_event_list *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_signal_event_list l = {0};
	int			n;

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_signal_events: out is required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	ffc_param_int64(&p, after_event_id);
	ffc_param_int32_or_null(&p, max_events == 0 ? 100 : max_events, false);
	s = ffc_run(c, &st_signal_events, &p, 11, &res);
	if (s != FF_OK)
		return s;
	n = PQntuples(res);
	TRY(alloc_items(c, n, sizeof(*l.items), (void **) &l.items));
	for (int i = 0; i < n && s == FF_OK; i++)
	{
		ff_signal_event *e = &l.items[i];

		l.count++;
		TRY(ffc_get_int64(c, res, i, 0, &e->event_id));
		TRY(ffc_get_text(c, res, i, 1, &e->execution_id));
		TRY(ffc_get_text(c, res, i, 2, &e->signal_id));
		TRY(ffc_get_text(c, res, i, 3, &e->waitpoint_id));
		TRY(ffc_get_text(c, res, i, 4, &e->signal_name));
		TRY(ffc_get_text(c, res, i, 5, &e->source_type));
		TRY(ffc_get_text(c, res, i, 6, &e->source_identity));
		TRY(ffc_get_text(c, res, i, 7, &e->effect));
		TRY(ffc_get_text(c, res, i, 8, &e->ns));
		TRY(ffc_get_text(c, res, i, 9, &e->lane_id));
		TRY(ffc_get_int64(c, res, i, 10, &e->delivered_at_ms));
	}
	PQclear(res);
	if (s != FF_OK)
	{
		ff_signal_event_list_clear(&l);
		return s;
	}
	*out = l;
	return FF_OK;
}

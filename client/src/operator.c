/*
 * operator.c - the scheduler (claim grants, reclaim grants), operator
 * controls, lane controls, the worker registry and the operator-event
 * outbox (docs/operator.md).
 *
 * Every function is one prepared statement and one round trip. Results are
 * decoded by small field tables (type + offset), so each result struct's
 * clear function frees exactly what its decoder allocated.
 */
#include <arpa/inet.h>
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
 * field tables
 * ------------------------------------------------------------------------ */
typedef enum field_type
{
	F_TEXT,						/* char * */
	F_I64,						/* int64_t */
	F_I32,						/* int32_t */
	F_BOOL,						/* bool */
	F_BYTES,					/* ff_bytes */
	F_HANDLE,					/* ff_handle */
	F_TEXTS						/* char ** at off, size_t count at off2 */
} field_type;

typedef struct field
{
	field_type	type;
	size_t		off;
	size_t		off2;
} field;

#define FLD(t, s, m)	{t, offsetof(s, m), 0}

static ff_status
usage(ff_client *c, const char *what)
{
	if (c == NULL)
		return FF_ERR_USAGE;
	return ffc_set_error(c, FF_ERR_USAGE, "%s", what);
}

static void
free_texts(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
free_fields(const field *f, int nf, void *base)
{
	char	   *b = base;

	for (int i = 0; i < nf; i++)
	{
		void	   *p = b + f[i].off;

		switch (f[i].type)
		{
			case F_TEXT:
				free(*(char **) p);
				break;
			case F_BYTES:
				ff_bytes_clear((ff_bytes *) p);
				break;
			case F_HANDLE:
				ff_handle_clear((ff_handle *) p);
				break;
			case F_TEXTS:
				free_texts(*(char ***) p, *(size_t *) (b + f[i].off2));
				break;
			default:
				break;
		}
	}
}

static uint32_t
be32(const char *p)
{
	uint32_t	v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

/* decodes a binary one-dimensional text[] (NULL elements are refused) */
static ff_status
get_texts(ff_client *c, const PGresult *res, int row, int col, char ***out, size_t *n_out)
{
	const char *v = PQgetvalue(res, row, col);
	int			len = PQgetlength(res, row, col);
	uint32_t	ndim;
	uint32_t	n = 0;
	const char *p;
	const char *end = v + len;
	char	  **items;

	*out = NULL;
	*n_out = 0;
	if (PQgetisnull(res, row, col))
		return FF_OK;
	if (PQftype(res, col) != FFC_TEXTARRAYOID || len < 12)
		return ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: column %d is not text[]", col);
	ndim = be32(v);
	if (ndim > 1 || (ndim == 1 && len < 20))
		return ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: a %u-dimensional array", ndim);
	if (ndim == 1)
		n = be32(v + 12);
	p = v + 12 + 8 * ndim;
	items = ffc_calloc(n > 0 ? n : 1, sizeof(char *));
	if (items == NULL)
		return ffc_set_error(c, FF_ERR_OUT_OF_MEMORY, "out of memory");
	for (uint32_t i = 0; i < n; i++)
	{
		uint32_t	elen;

		if (end - p < 4 || (elen = be32(p)) == 0xffffffffu || (size_t) (end - p - 4) < elen)
		{
			free_texts(items, i);
			return ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: malformed text[]");
		}
		items[i] = malloc(elen + 1);
		if (items[i] == NULL)
		{
			free_texts(items, i);
			return ffc_set_error(c, FF_ERR_OUT_OF_MEMORY, "out of memory");
		}
		memcpy(items[i], p + 4, elen);
		items[i][elen] = '\0';
		p += 4 + elen;
	}
	*out = items;
	*n_out = n;
	return FF_OK;
}

static ff_status
decode_row(ff_client *c, const PGresult *res, int row, int first_col, const field *f, int nf,
		   void *base)
{
	char	   *b = base;
	ff_status	s = FF_OK;

	for (int i = 0; i < nf && s == FF_OK; i++)
	{
		void	   *p = b + f[i].off;
		int			col = first_col + i;

		switch (f[i].type)
		{
			case F_TEXT:
				s = ffc_get_text(c, res, row, col, (char **) p);
				break;
			case F_I64:
				s = ffc_get_int64(c, res, row, col, (int64_t *) p);
				break;
			case F_I32:
				s = ffc_get_int32(c, res, row, col, (int32_t *) p);
				break;
			case F_BOOL:
				s = ffc_get_bool(c, res, row, col, (bool *) p);
				break;
			case F_BYTES:
				s = ffc_get_bytes(c, res, row, col, (ff_bytes *) p);
				break;
			case F_HANDLE:
				{
					ff_bytes	h = {0};

					s = ffc_get_bytes(c, res, row, col, &h);
					((ff_handle *) p)->data = h.data;
					((ff_handle *) p)->len = h.len;
					break;
				}
			case F_TEXTS:
				s = get_texts(c, res, row, col, (char ***) p, (size_t *) (b + f[i].off2));
				break;
		}
	}
	return s;
}

/*
 * run_row runs a statement that returns at most one row into *base
 * (zeroed first); *found (may be NULL: exactly one row required) tells
 * whether there was one.
 */
static ff_status
run_row(ff_client *c, const ffc_stmt *st, ffc_params *p, const field *f, int nf, void *base,
		size_t size, bool *found)
{
	PGresult   *res;
	ff_status	s;

	memset(base, 0, size);
	s = ffc_run(c, st, p, nf, &res);
	if (s != FF_OK)
		return s;
	if (PQntuples(res) > 1 || (found == NULL && PQntuples(res) != 1))
		s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: %d rows", PQntuples(res));
	else if (PQntuples(res) == 1)
		s = decode_row(c, res, 0, 0, f, nf, base);
	if (found)
		*found = s == FF_OK && PQntuples(res) == 1;
	PQclear(res);
	if (s != FF_OK)
	{
		free_fields(f, nf, base);
		memset(base, 0, size);
	}
	return s;
}

/* run_list decodes every row into a new array of elem_size items. */
static ff_status
run_list(ff_client *c, const ffc_stmt *st, ffc_params *p, const field *f, int nf,
		 size_t elem_size, void **items_out, size_t *count_out)
{
	PGresult   *res;
	ff_status	s;
	char	   *items = NULL;
	size_t		count = 0;
	int			n;

	*items_out = NULL;
	*count_out = 0;
	s = ffc_run(c, st, p, nf, &res);
	if (s != FF_OK)
		return s;
	n = PQntuples(res);
	if (n > 0 && (items = ffc_calloc((size_t) n, elem_size)) == NULL)
		s = ffc_set_error(c, FF_ERR_OUT_OF_MEMORY, "out of memory");
	for (int i = 0; i < n && s == FF_OK; i++)
	{
		count++;
		s = decode_row(c, res, i, 0, f, nf, items + (size_t) i * elem_size);
	}
	PQclear(res);
	if (s != FF_OK)
	{
		for (size_t i = 0; i < count; i++)
			free_fields(f, nf, items + i * elem_size);
		free(items);
		return s;
	}
	*items_out = items;
	*count_out = count;
	return FF_OK;
}

static void
free_list(const field *f, int nf, size_t elem_size, void *items, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free_fields(f, nf, (char *) items + i * elem_size);
	free(items);
}

/* ------------------------------------------------------------------------
 * claim grants
 * ------------------------------------------------------------------------ */
static const field grant_fields[] = {
	FLD(F_TEXT, ff_claim_grant, execution_id),
	FLD(F_TEXT, ff_claim_grant, partition_key),
	FLD(F_TEXT, ff_claim_grant, lane_id),
	FLD(F_TEXT, ff_claim_grant, grant_key),
	FLD(F_I64, ff_claim_grant, expires_at_ms),
};

#define NGRANT ((int) (sizeof(grant_fields) / sizeof(grant_fields[0])))

void
ff_claim_grant_clear(ff_claim_grant *g)
{
	if (g == NULL)
		return;
	free_fields(grant_fields, NGRANT, g);
	memset(g, 0, sizeof(*g));
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

	if (c == NULL || a == NULL || out == NULL)
		return usage(c, "ff_client_claim_for_worker: args and out are required");
	ffc_params_init(&p);
	ffc_param_text_array(&p, lanes, n_lanes);
	param_grant_worker(&p, a);
	return run_row(c, &st_claim_for_worker, &p, grant_fields, NGRANT, out, sizeof(*out),
				   &out->found);
}

ff_status
ff_client_issue_claim_grant(ff_client *c, const char *execution_id, const ff_grant_args *a,
							ff_claim_grant *out)
{
	ffc_params	p;

	if (c == NULL || a == NULL || out == NULL)
		return usage(c, "ff_client_issue_claim_grant: args and out are required");
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	param_grant_worker(&p, a);
	ffc_param_text(&p, a->capability_hash);
	ffc_param_text(&p, a->route_snapshot_json);
	ffc_param_text(&p, a->admission_summary);
	return run_row(c, &st_issue_claim_grant, &p, grant_fields, NGRANT, out, sizeof(*out),
				   &out->found);
}

static const field claimed_fields[] = {
	FLD(F_HANDLE, ff_granted_claim, claim.handle),
	FLD(F_TEXT, ff_granted_claim, claim.execution_id),
	FLD(F_I32, ff_granted_claim, claim.attempt_index),
	FLD(F_TEXT, ff_granted_claim, attempt_type),
	FLD(F_I64, ff_granted_claim, claim.lease_epoch),
	FLD(F_I64, ff_granted_claim, claim.lease_expires_at_ms),
	FLD(F_BYTES, ff_granted_claim, claim.input_payload),
	FLD(F_TEXT, ff_granted_claim, outcome),		/* reclaim only */
	FLD(F_I32, ff_granted_claim, reclaim_count), /* reclaim only */
};

#define NCLAIM 7
#define NRECLAIM 9

void
ff_granted_claim_clear(ff_granted_claim *g)
{
	if (g == NULL)
		return;
	free_fields(claimed_fields, NRECLAIM, g);
	memset(g, 0, sizeof(*g));
}

static ff_status
granted_claim(ff_client *c, const ffc_stmt *st, ffc_params *p, int nf, ff_granted_claim *out)
{
	ff_status	s = run_row(c, st, p, claimed_fields, nf, out, sizeof(*out), &out->claimed);

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

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_claim_execution: out is required");
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

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_issue_grant_and_claim: out is required");
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
static const field reclaim_grant_fields[] = {
	FLD(F_TEXT, ff_reclaim_grant, outcome),
	FLD(F_TEXT, ff_reclaim_grant, execution_id),
	FLD(F_TEXT, ff_reclaim_grant, partition_key),
	FLD(F_TEXT, ff_reclaim_grant, lane_id),
	FLD(F_TEXT, ff_reclaim_grant, grant_key),
	FLD(F_I64, ff_reclaim_grant, expires_at_ms),
	FLD(F_I32, ff_reclaim_grant, reclaim_count),
};

#define NRGRANT ((int) (sizeof(reclaim_grant_fields) / sizeof(reclaim_grant_fields[0])))

void
ff_reclaim_grant_clear(ff_reclaim_grant *g)
{
	if (g == NULL)
		return;
	free_fields(reclaim_grant_fields, NRGRANT, g);
	memset(g, 0, sizeof(*g));
}

ff_status
ff_client_issue_reclaim_grant(ff_client *c, const char *execution_id, const ff_grant_args *a,
							  ff_reclaim_grant *out)
{
	ffc_params	p;

	if (c == NULL || a == NULL || out == NULL)
		return usage(c, "ff_client_issue_reclaim_grant: args and out are required");
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	param_grant_worker(&p, a);
	ffc_param_text(&p, a->capability_hash);
	ffc_param_text(&p, a->route_snapshot_json);
	ffc_param_text(&p, a->admission_summary);
	return run_row(c, &st_issue_reclaim_grant, &p, reclaim_grant_fields, NRGRANT, out,
				   sizeof(*out), NULL);
}

ff_status
ff_client_reclaim_execution(ff_client *c, const char *execution_id, const char *grant_key,
							const char *worker_id, const char *worker_instance_id,
							int64_t lease_ttl_ms, ff_granted_claim *out)
{
	ffc_params	p;
	ff_status	s;
	bool		row;

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_reclaim_execution: out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	ffc_param_text(&p, grant_key);
	ffc_param_text(&p, worker_id);
	ffc_param_text(&p, worker_instance_id);
	ffc_param_int64_or_null(&p, lease_ttl_ms, lease_ttl_ms == 0);
	s = run_row(c, &st_reclaim_execution, &p, claimed_fields, NRECLAIM, out, sizeof(*out), &row);
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

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_claim_from_resume_grant: out is required");
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
static const field eligible_fields[] = {
	FLD(F_TEXT, ff_eligible_execution, execution_id),
	FLD(F_TEXT, ff_eligible_execution, partition_key),
	FLD(F_I32, ff_eligible_execution, priority),
	FLD(F_I64, ff_eligible_execution, created_at_ms),
	FLD(F_TEXT, ff_eligible_execution, attempt_state),
	FLD(F_BOOL, ff_eligible_execution, granted),
};

#define NELIG ((int) (sizeof(eligible_fields) / sizeof(eligible_fields[0])))

void
ff_eligible_list_clear(ff_eligible_list *l)
{
	if (l == NULL)
		return;
	free_list(eligible_fields, NELIG, sizeof(ff_eligible_execution), l->items, l->count);
	memset(l, 0, sizeof(*l));
}

ff_status
ff_client_scan_eligible_executions(ff_client *c, const char *lane_id, const char *partition_key,
								   int32_t max_results, ff_eligible_list *out)
{
	ffc_params	p;

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_scan_eligible_executions: out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, lane_id);
	ffc_param_text(&p, partition_key);
	ffc_param_int32_or_null(&p, max_results == 0 ? 100 : max_results, false);
	return run_list(c, &st_scan_eligible, &p, eligible_fields, NELIG,
					sizeof(ff_eligible_execution), (void **) &out->items, &out->count);
}

static const field block_fields[] = {
	FLD(F_TEXT, ff_block_result, eligibility_state),
	FLD(F_TEXT, ff_block_result, blocking_reason),
	FLD(F_TEXT, ff_block_result, blocking_detail),
	FLD(F_TEXT, ff_block_result, public_state),
};

void
ff_block_result_clear(ff_block_result *r)
{
	if (r == NULL)
		return;
	free_fields(block_fields, 4, r);
	memset(r, 0, sizeof(*r));
}

ff_status
ff_client_block_route(ff_client *c, const char *execution_id, const char *reason_code,
					  const char *reason_detail, ff_block_result *out)
{
	ffc_params	p;

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_block_route: out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	ffc_param_text(&p, reason_code);
	ffc_param_text(&p, reason_detail);
	return run_row(c, &st_block_route, &p, block_fields, 4, out, sizeof(*out), NULL);
}

ff_status
ff_client_unblock_execution(ff_client *c, const char *execution_id,
							const char *expected_blocking_reason, ff_block_result *out)
{
	ffc_params	p;

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_unblock_execution: out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	ffc_param_text(&p, expected_blocking_reason);
	return run_row(c, &st_unblock, &p, block_fields, 4, out, sizeof(*out), NULL);
}

/* ------------------------------------------------------------------------
 * operator controls
 * ------------------------------------------------------------------------ */
static const field cancel_fields[] = {
	FLD(F_TEXT, ff_cancel_execution_result, outcome),
	FLD(F_TEXT, ff_cancel_execution_result, public_state),
	FLD(F_BOOL, ff_cancel_execution_result, lease_revoked),
};

void
ff_cancel_execution_result_clear(ff_cancel_execution_result *r)
{
	if (r == NULL)
		return;
	free_fields(cancel_fields, 3, r);
	memset(r, 0, sizeof(*r));
}

ff_status
ff_client_cancel_execution(ff_client *c, const char *execution_id, const char *reason,
						   const char *source, const int64_t *lease_epoch,
						   ff_cancel_execution_result *out)
{
	ffc_params	p;
	ff_cancel_execution_result r;
	ff_status	s;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	ffc_param_text(&p, reason);
	ffc_param_text(&p, source);
	ffc_param_int64_or_null(&p, lease_epoch ? *lease_epoch : 0, lease_epoch == NULL);
	s = run_row(c, &st_cancel_execution, &p, cancel_fields, 3, &r, sizeof(r), NULL);
	if (s == FF_OK && out)
		*out = r;
	else if (s == FF_OK)
		ff_cancel_execution_result_clear(&r);
	else if (out)
		memset(out, 0, sizeof(*out));
	return s;
}

ff_status
ff_client_change_priority(ff_client *c, const char *execution_id, int32_t new_priority,
						  int32_t *old_priority, int32_t *new_priority_out)
{
	static const field f[] = {{F_I32, 0, 0}, {F_I32, sizeof(int32_t), 0}};
	int32_t		r[2] = {0, 0};
	ffc_params	p;
	ff_status	s;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	ffc_param_int32_or_null(&p, new_priority, false);
	s = run_row(c, &st_change_priority, &p, f, 2, r, sizeof(r), NULL);
	if (s == FF_OK && old_priority)
		*old_priority = r[0];
	if (s == FF_OK && new_priority_out)
		*new_priority_out = r[1];
	return s;
}

static const field replay_fields[] = {
	FLD(F_TEXT, ff_replay_result, public_state),
	FLD(F_I32, ff_replay_result, replay_count),
};

void
ff_replay_result_clear(ff_replay_result *r)
{
	if (r == NULL)
		return;
	free_fields(replay_fields, 2, r);
	memset(r, 0, sizeof(*r));
}

ff_status
ff_client_replay_execution(ff_client *c, const char *execution_id, const char *reason,
						   ff_replay_result *out)
{
	ffc_params	p;

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_replay_execution: out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	ffc_param_text(&p, reason);
	return run_row(c, &st_replay, &p, replay_fields, 2, out, sizeof(*out), NULL);
}

static const field revoke_fields[] = {
	FLD(F_TEXT, ff_revoke_result, outcome),
	FLD(F_TEXT, ff_revoke_result, detail),
	FLD(F_TEXT, ff_revoke_result, lease_id),
	FLD(F_I64, ff_revoke_result, lease_epoch),
};

void
ff_revoke_result_clear(ff_revoke_result *r)
{
	if (r == NULL)
		return;
	free_fields(revoke_fields, 4, r);
	memset(r, 0, sizeof(*r));
}

ff_status
ff_client_revoke_lease(ff_client *c, const char *execution_id, const char *expected_lease_id,
					   const char *worker_instance_id, const char *reason, ff_revoke_result *out)
{
	ffc_params	p;

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_revoke_lease: out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	ffc_param_text(&p, expected_lease_id);
	ffc_param_text(&p, worker_instance_id);
	ffc_param_text(&p, reason);
	return run_row(c, &st_revoke, &p, revoke_fields, 4, out, sizeof(*out), NULL);
}

/* ------------------------------------------------------------------------
 * lanes
 * ------------------------------------------------------------------------ */
static const field lane_change_fields[] = {
	FLD(F_TEXT, ff_lane_state_change, lane_id),
	FLD(F_TEXT, ff_lane_state_change, state),
	FLD(F_TEXT, ff_lane_state_change, previous_state),
};

void
ff_lane_state_change_clear(ff_lane_state_change *r)
{
	if (r == NULL)
		return;
	free_fields(lane_change_fields, 3, r);
	memset(r, 0, sizeof(*r));
}

static ff_status
lane_control(ff_client *c, const ffc_stmt *st, const char *lane_id, const char *reason,
			 ff_lane_state_change *out)
{
	ffc_params	p;
	ff_lane_state_change r;
	ff_status	s;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_text(&p, lane_id);
	ffc_param_text(&p, reason);
	s = run_row(c, st, &p, lane_change_fields, 3, &r, sizeof(r), NULL);
	if (s == FF_OK && out)
		*out = r;
	else if (s == FF_OK)
		ff_lane_state_change_clear(&r);
	else if (out)
		memset(out, 0, sizeof(*out));
	return s;
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

static const field lane_state_fields[] = {
	FLD(F_TEXT, ff_lane_state, lane_id),
	FLD(F_TEXT, ff_lane_state, state),
	FLD(F_TEXT, ff_lane_state, registered_by),
	FLD(F_I64, ff_lane_state, registered_at_ms),
};

void
ff_lane_state_list_clear(ff_lane_state_list *l)
{
	if (l == NULL)
		return;
	free_list(lane_state_fields, 4, sizeof(ff_lane_state), l->items, l->count);
	memset(l, 0, sizeof(*l));
}

ff_status
ff_client_list_lane_states(ff_client *c, const char *cursor, int32_t max_results,
						   ff_lane_state_list *out)
{
	ffc_params	p;

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_list_lane_states: out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, cursor);
	ffc_param_int32_or_null(&p, max_results == 0 ? 100 : max_results, false);
	return run_list(c, &st_lane_states, &p, lane_state_fields, 4, sizeof(ff_lane_state),
					(void **) &out->items, &out->count);
}

/* ------------------------------------------------------------------------
 * worker registry
 * ------------------------------------------------------------------------ */
static const field liveness_fields[] = {
	FLD(F_TEXT, ff_worker_liveness, outcome),
	FLD(F_I64, ff_worker_liveness, next_expiry_ms),
};

void
ff_worker_liveness_clear(ff_worker_liveness *r)
{
	if (r == NULL)
		return;
	free_fields(liveness_fields, 2, r);
	memset(r, 0, sizeof(*r));
}

ff_status
ff_client_register_worker(ff_client *c, const ff_register_worker_args *a,
						  ff_worker_liveness *out)
{
	ffc_params	p;

	if (c == NULL || a == NULL || out == NULL)
		return usage(c, "ff_client_register_worker: args and out are required");
	ffc_params_init(&p);
	ffc_param_text(&p, a->worker_id);
	ffc_param_text(&p, a->worker_instance_id);
	ffc_param_text_array(&p, a->lanes, a->n_lanes);
	ffc_param_text_array(&p, a->capabilities, a->n_capabilities);
	ffc_param_int64_or_null(&p, a->liveness_ttl_ms, a->liveness_ttl_ms == 0);
	ffc_param_text(&p, a->ns);
	return run_row(c, &st_register_worker, &p, liveness_fields, 2, out, sizeof(*out), NULL);
}

ff_status
ff_client_heartbeat_worker(ff_client *c, const char *worker_instance_id, const char *ns,
						   ff_worker_liveness *out)
{
	ffc_params	p;

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_heartbeat_worker: out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, worker_instance_id);
	ffc_param_text(&p, ns);
	return run_row(c, &st_heartbeat_worker, &p, liveness_fields, 2, out, sizeof(*out), NULL);
}

ff_status
ff_client_mark_worker_dead(ff_client *c, const char *worker_instance_id, const char *ns,
						   const char *reason, char **outcome_out, int32_t *leases_released)
{
	static const field f[] = {{F_TEXT, 0, 0}, {F_I32, sizeof(char *), 0}};
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
	s = run_row(c, &st_mark_worker_dead, &p, f, 2, &r, sizeof(r), NULL);
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

static const field worker_fields[] = {
	FLD(F_TEXT, ff_worker_info, worker_instance_id),
	FLD(F_TEXT, ff_worker_info, worker_id),
	FLD(F_TEXT, ff_worker_info, ns),
	{F_TEXTS, offsetof(ff_worker_info, lanes), offsetof(ff_worker_info, n_lanes)},
	{F_TEXTS, offsetof(ff_worker_info, capabilities), offsetof(ff_worker_info, n_capabilities)},
	FLD(F_I64, ff_worker_info, last_heartbeat_ms),
	FLD(F_I64, ff_worker_info, liveness_ttl_ms),
	FLD(F_I64, ff_worker_info, expires_at_ms),
	FLD(F_I64, ff_worker_info, registered_at_ms),
	FLD(F_BOOL, ff_worker_info, alive),
};

#define NWORKER ((int) (sizeof(worker_fields) / sizeof(worker_fields[0])))

void
ff_worker_list_clear(ff_worker_list *l)
{
	if (l == NULL)
		return;
	free_list(worker_fields, NWORKER, sizeof(ff_worker_info), l->items, l->count);
	memset(l, 0, sizeof(*l));
}

ff_status
ff_client_list_workers(ff_client *c, const char *ns, const char *cursor, int32_t max_results,
					   ff_worker_list *out)
{
	ffc_params	p;

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_list_workers: out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, ns);
	ffc_param_text(&p, cursor);
	ffc_param_int32_or_null(&p, max_results == 0 ? 100 : max_results, false);
	return run_list(c, &st_list_workers, &p, worker_fields, NWORKER, sizeof(ff_worker_info),
					(void **) &out->items, &out->count);
}

static const field expired_fields[] = {
	FLD(F_TEXT, ff_expired_lease, execution_id),
	FLD(F_TEXT, ff_expired_lease, lane_id),
	FLD(F_TEXT, ff_expired_lease, ns),
	FLD(F_I32, ff_expired_lease, attempt_index),
	FLD(F_TEXT, ff_expired_lease, lease_id),
	FLD(F_I64, ff_expired_lease, lease_epoch),
	FLD(F_TEXT, ff_expired_lease, worker_id),
	FLD(F_TEXT, ff_expired_lease, worker_instance_id),
	FLD(F_I64, ff_expired_lease, expires_at_ms),
	FLD(F_TEXT, ff_expired_lease, ownership_state),
};

#define NEXPIRED ((int) (sizeof(expired_fields) / sizeof(expired_fields[0])))

void
ff_expired_lease_list_clear(ff_expired_lease_list *l)
{
	if (l == NULL)
		return;
	free_list(expired_fields, NEXPIRED, sizeof(ff_expired_lease), l->items, l->count);
	memset(l, 0, sizeof(*l));
}

ff_status
ff_client_list_expired_leases(ff_client *c, int64_t as_of, int64_t after_expires_at_ms,
							  const char *after_execution_id, int32_t max_results, const char *ns,
							  ff_expired_lease_list *out)
{
	ffc_params	p;

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_list_expired_leases: out is required");
	ffc_params_init(&p);
	ffc_param_int64_or_null(&p, as_of, as_of == 0);
	ffc_param_int64_or_null(&p, after_expires_at_ms,
							after_expires_at_ms == 0 && after_execution_id == NULL);
	ffc_param_text(&p, after_execution_id);
	ffc_param_int32_or_null(&p, max_results == 0 ? 1000 : max_results, false);
	ffc_param_text(&p, ns);
	return run_list(c, &st_expired_leases, &p, expired_fields, NEXPIRED,
					sizeof(ff_expired_lease), (void **) &out->items, &out->count);
}

/* ------------------------------------------------------------------------
 * the operator-event outbox, reconcilers
 * ------------------------------------------------------------------------ */
static const field event_fields[] = {
	FLD(F_I64, ff_operator_event, event_id),
	FLD(F_TEXT, ff_operator_event, event_type),
	FLD(F_TEXT, ff_operator_event, execution_id),
	FLD(F_TEXT, ff_operator_event, lane_id),
	FLD(F_TEXT, ff_operator_event, worker_instance_id),
	FLD(F_TEXT, ff_operator_event, ns),
	FLD(F_TEXT, ff_operator_event, details_json),
	FLD(F_I64, ff_operator_event, occurred_at_ms),
};

#define NEVENT ((int) (sizeof(event_fields) / sizeof(event_fields[0])))

void
ff_operator_event_list_clear(ff_operator_event_list *l)
{
	if (l == NULL)
		return;
	free_list(event_fields, NEVENT, sizeof(ff_operator_event), l->items, l->count);
	memset(l, 0, sizeof(*l));
}

ff_status
ff_client_operator_events(ff_client *c, int64_t after_event_id, int32_t max_events,
						  ff_operator_event_list *out)
{
	ffc_params	p;

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_operator_events: out is required");
	ffc_params_init(&p);
	ffc_param_int64(&p, after_event_id);
	ffc_param_int32_or_null(&p, max_events == 0 ? 100 : max_events, false);
	return run_list(c, &st_operator_events, &p, event_fields, NEVENT, sizeof(ff_operator_event),
					(void **) &out->items, &out->count);
}

static ff_status
reconcile(ff_client *c, const ffc_stmt *st, int32_t batch_size, int32_t *changed)
{
	static const field f[] = {{F_I32, 0, 0}};
	int32_t		n = 0;
	ffc_params	p;
	ff_status	s;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_int32_or_null(&p, batch_size == 0 ? 1000 : batch_size, false);
	s = run_row(c, st, &p, f, 1, &n, sizeof(n), NULL);
	if (s == FF_OK && changed)
		*changed = n;
	return s;
}

ff_status
ff_client_reconcile_worker_expiry(ff_client *c, int32_t batch_size, int32_t *changed)
{
	return reconcile(c, &st_reconcile_worker_expiry, batch_size, changed);
}

ff_status
ff_client_reconcile_claim_grants(ff_client *c, int32_t batch_size, int32_t *changed)
{
	return reconcile(c, &st_reconcile_claim_grants, batch_size, changed);
}

/*
 * flow.c - flows: graph construction (create flow, add members, stage and
 * apply dependency edges, edge-group policies), ff_wait_children, flow cancel
 * (with the header / ack protocol), the flow reads and the flow reconcilers.
 * The SQL functions are in extension/sql/60_flow.sql, their semantics in
 * docs/flows.md.
 *
 * Every function is one prepared statement and one round trip. Flow and edge
 * ids travel as uuid parameters in text form (a malformed one is the
 * server's 22P02, FF_ERR_INVALID_INPUT); text[] results (member ids) are read
 * in PostgreSQL's binary array format; ff_describe_flow's edge_groups (jsonb)
 * are unpacked by the statement into one typed row per group.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define T FFC_TEXTOID
#define B FFC_BYTEAOID
#define I4 FFC_INT4OID
#define I8 FFC_INT8OID
#define U FFC_UUIDOID
#define J FFC_JSONBOID

/* chain decoding steps: stop at the first failure */
#define TRY(expr) do { if (s == FF_OK) s = (expr); } while (0)

static const ffc_stmt st_create_flow = {
	"ff_c_flow_create",
	"SELECT flow_id, outcome FROM ff_create_flow(flow_id => $1, "
	"flow_kind => coalesce($2, 'dag'), namespace => coalesce($3, 'default'))",
	3, {U, T, T}, true
};

static const ffc_stmt st_create_flow_minted = {
	"ff_c_flow_create_minted",
	"SELECT flow_id, outcome FROM ff_create_flow(flow_id => gen_random_uuid(), "
	"flow_kind => coalesce($1, 'dag'), namespace => coalesce($2, 'default'))",
	2, {T, T}, false
};

static const ffc_stmt st_new_member_id = {
	"ff_c_flow_new_member_id", "SELECT ff_new_flow_execution_id($1)", 1, {U}, true
};

static const ffc_stmt st_add = {
	"ff_c_flow_add",
	"SELECT execution_id, outcome, node_count FROM ff_add_execution_to_flow($1, $2)",
	2, {U, T}, true
};

static const ffc_stmt st_stage = {
	"ff_c_flow_stage",
	"SELECT edge_id, new_graph_revision FROM ff_stage_dependency_edge(flow_id => $1, "
	"edge_id => coalesce($2, gen_random_uuid()), upstream_execution_id => $3, "
	"downstream_execution_id => $4, expected_graph_revision => $5, "
	"dependency_kind => coalesce($6, 'success_only'), data_passing_ref => $7)",
	7, {U, U, T, T, I8, T, T}, false
};

static const ffc_stmt st_apply = {
	"ff_c_flow_apply",
	"SELECT outcome, unsatisfied_count FROM ff_apply_dependency_to_child($1, $2, $3, $4)",
	4, {U, U, T, T}, true
};

static const ffc_stmt st_policy = {
	"ff_c_flow_policy", "SELECT ff_set_edge_group_policy($1, $2, $3)", 3, {U, T, J}, true
};

static const ffc_stmt st_wait_children = {
	"ff_c_flow_wait_children", "SELECT ff_wait_children($1)", 1, {B}, false
};

static const ffc_stmt st_cancel = {
	"ff_c_flow_cancel",
	"SELECT outcome, cancellation_policy, member_execution_ids, pending_execution_ids "
	"FROM ff_cancel_flow(flow_id => $1, policy => $2, wait => $3, wait_timeout_ms => $4, "
	"reason => coalesce($5, 'operator_requested'))",
	5, {U, T, T, I8, T}, true
};

static const ffc_stmt st_cancel_header = {
	"ff_c_flow_cancel_header",
	"SELECT outcome, cancellation_policy, cancel_reason, member_execution_ids "
	"FROM ff_cancel_flow_header($1, $2, $3)",
	3, {U, T, T}, false
};

static const ffc_stmt st_ack = {
	"ff_c_flow_ack", "SELECT 1 FROM ff_ack_cancel_member($1, $2)", 2, {U, T}, true
};

/* one row per edge group (in ff_describe_flow's order), or one row with the
 * group columns NULL when there is none */
static const ffc_stmt st_describe = {
	"ff_c_flow_describe",
	"SELECT d.flow_id, d.flow_kind, d.namespace, d.public_flow_state, d.graph_revision, "
	"d.node_count, d.edge_count, d.created_at_ms, d.last_mutation_at_ms, d.cancelled_at_ms, "
	"d.cancel_reason, d.cancellation_policy, d.tags, "
	"g.v ->> 'downstream_execution_id', g.v -> 'policy' ->> 'kind', "
	"(g.v -> 'policy' ->> 'k')::bigint, g.v -> 'policy' ->> 'on_satisfied', "
	"g.v ->> 'group_state', (g.v ->> 'k_target')::integer, (g.v ->> 'total_deps')::integer, "
	"(g.v ->> 'applied_count')::integer, (g.v ->> 'satisfied_count')::integer, "
	"(g.v ->> 'failed_count')::integer, (g.v ->> 'skipped_count')::integer, "
	"(g.v ->> 'running_count')::integer, (g.v ->> 'state_changed_at_ms')::bigint, "
	"(g.v ->> 'cancel_siblings_fired')::boolean, g.v ->> 'cancel_siblings_reason', "
	"ARRAY(SELECT jsonb_array_elements_text(g.v -> 'cancel_siblings_pending')) "
	"FROM ff_describe_flow($1) d "
	"LEFT JOIN LATERAL jsonb_array_elements(d.edge_groups) WITH ORDINALITY AS g(v, n) ON true "
	"ORDER BY g.n",
	1, {U}, true
};

#define DESCRIBE_COLS 29

static const ffc_stmt st_list_flows = {
	"ff_c_flow_list",
	"SELECT flow_id, created_at_ms, status, public_flow_state FROM ff_list_flows($1, $2, $3)",
	3, {T, U, I4}, true
};

#define EDGE_COLUMNS \
	"edge_id, flow_id, upstream_execution_id, downstream_execution_id, dependency_kind, " \
	"satisfaction_condition, data_passing_ref, edge_state, created_at_ms, created_by, " \
	"applied_at_ms, resolution, resolved_at_ms"
#define EDGE_COLS 13

static const ffc_stmt st_list_edges = {
	"ff_c_flow_list_edges",
	"SELECT " EDGE_COLUMNS " FROM ff_list_edges($1, $2, $3)",
	3, {U, T, T}, true
};

static const ffc_stmt st_describe_edge = {
	"ff_c_flow_describe_edge",
	"SELECT " EDGE_COLUMNS " FROM ff_describe_edge($1, $2)",
	2, {U, U}, true
};

static const ffc_stmt st_resolve = {
	"ff_c_flow_resolve", "SELECT ff_resolve_execution_flow_id($1)", 1, {T}, true
};

static const ffc_stmt st_eligibility = {
	"ff_c_flow_eligibility", "SELECT ff_evaluate_flow_eligibility($1)", 1, {T}, true
};

static const ffc_stmt st_get_tag = {
	"ff_c_flow_get_tag", "SELECT ff_get_flow_tag($1, $2)", 2, {U, T}, true
};

static const ffc_stmt st_set_tag = {
	"ff_c_flow_set_tag", "SELECT 1 FROM ff_set_flow_tag($1, $2, $3)", 3, {U, T, T}, true
};

static const ffc_stmt st_summary = {
	"ff_c_flow_summary",
	"SELECT projected, total_members, members_completed, members_failed, members_cancelled, "
	"members_expired, members_skipped, members_active, members_suspended, members_waiting, "
	"members_delayed, members_rate_limited, members_waiting_children, public_flow_state "
	"FROM ff_project_flow_summary($1)",
	1, {U}, true
};

static const ffc_stmt st_rec_dependencies = {
	"ff_c_rec_dependencies", "SELECT ff_reconcile_dependencies($1)", 1, {I4}, true
};
static const ffc_stmt st_rec_sibling_cancel = {
	"ff_c_rec_sibling_cancel", "SELECT ff_reconcile_sibling_cancel($1)", 1, {I4}, true
};
static const ffc_stmt st_rec_cancel_backlog = {
	"ff_c_rec_cancel_backlog", "SELECT ff_reconcile_cancel_backlog($1)", 1, {I4}, true
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

static ff_status
oom(ff_client *c)
{
	return ffc_set_error(c, FF_ERR_OUT_OF_MEMORY, "out of memory");
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

static void
free_strings(char **items, size_t n)
{
	if (items == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(items[i]);
	free(items);
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

/* A one-dimensional text[] in binary format into a malloc'ed string array
 * (SQL NULL array: none; NULL elements are not expected). */
static ff_status
get_text_array(ff_client *c, const PGresult *res, int row, int col, char ***items_out,
			   size_t *n_out)
{
	const unsigned char *v;
	const unsigned char *end;
	uint32_t	ndim;
	uint32_t	n = 0;
	char	  **items;

	*items_out = NULL;
	*n_out = 0;
	if (PQgetisnull(res, row, col))
		return FF_OK;
	if (PQftype(res, col) != FFC_TEXTARRAYOID)
		return ffc_set_error(c, FF_ERR_PROTOCOL,
							 "unexpected reply: column \"%s\" has type oid %u, expected text[]",
							 PQfname(res, col), (unsigned) PQftype(res, col));
	v = (const unsigned char *) PQgetvalue(res, row, col);
	end = v + PQgetlength(res, row, col);
	if (end - v < 12)
		return ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: malformed array");
	ndim = be32(v);
	if (ndim > 1)
		return ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: %u-dimensional array", ndim);
	v += 12;					/* ndim, has-null flag, element type */
	if (ndim == 1)
	{
		if (end - v < 8)
			return ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: malformed array");
		n = be32(v);
		v += 8;					/* size, lower bound */
	}
	if (n == 0)
		return FF_OK;
	if (n > (uint32_t) (end - v) / 4)
		return ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: malformed array");
	items = calloc(n, sizeof(char *));
	if (items == NULL)
		return oom(c);
	for (uint32_t i = 0; i < n; i++)
	{
		uint32_t	len;

		if (end - v < 4 || (len = be32(v)) == 0xffffffffu || len > (uint32_t) (end - v - 4))
		{
			free_strings(items, i);
			return ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: malformed array element");
		}
		v += 4;
		items[i] = malloc((size_t) len + 1);
		if (items[i] == NULL)
		{
			free_strings(items, i);
			return oom(c);
		}
		memcpy(items[i], v, len);
		items[i][len] = '\0';
		v += len;
	}
	*items_out = items;
	*n_out = n;
	return FF_OK;
}

static int
hexdigit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* ------------------------------------------------------------------------
 * pure helpers
 * ------------------------------------------------------------------------ */

/* Accepts what PostgreSQL's uuid input does: 32 hex digits, optionally in
 * braces, with a hyphen allowed after any group of four digits. */
int
ff_flow_partition(const char *flow_id)
{
	unsigned char bytes[16];
	const char *p = flow_id;
	bool		braces;
	int			digits = 0;

	if (p == NULL)
		return -1;
	braces = *p == '{';
	if (braces)
		p++;
	while (digits < 32)
	{
		int			hi,
					lo;

		if (digits > 0 && digits % 4 == 0 && *p == '-')
			p++;
		if ((hi = hexdigit(p[0])) < 0 || (lo = hexdigit(p[1])) < 0)
			return -1;
		bytes[digits / 2] = (unsigned char) (hi << 4 | lo);
		digits += 2;
		p += 2;
	}
	if (braces && *p++ != '}')
		return -1;
	if (*p != '\0')
		return -1;
	return ff_crc16(bytes, sizeof(bytes)) % 256;
}

static const char *const policy_kind_names[] = {NULL, "all_of", "any_of", "quorum"};
static const char *const on_satisfied_names[] = {NULL, "cancel_remaining", "let_run"};
static const char *const cancel_policy_names[] = {"cancel_all", "cancel_pending", "flow_only"};
static const char *const cancel_wait_names[] = {"no_wait", "wait_timeout", "wait_indefinite"};
static const char *const eligibility_names[] = {
	NULL, "not_found", "not_runnable", "owned", "terminal", "eligible",
	"blocked_by_dependencies", "impossible"
};

#define NAME_OF(table, v) \
	((int) (v) >= 0 && (size_t) (v) < sizeof(table) / sizeof(table[0]) ? table[(int) (v)] : NULL)

static int
index_of(const char *const *table, size_t n, const char *name)
{
	if (name == NULL)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (table[i] && strcmp(table[i], name) == 0)
			return (int) i;
	return 0;
}

const char *
ff_edge_policy_kind_name(ff_edge_policy_kind kind)
{
	return NAME_OF(policy_kind_names, kind);
}

ff_edge_policy_kind
ff_edge_policy_kind_from_name(const char *name)
{
	return (ff_edge_policy_kind) index_of(policy_kind_names, 4, name);
}

const char *
ff_flow_cancel_policy_name(ff_flow_cancel_policy policy)
{
	return NAME_OF(cancel_policy_names, policy);
}

const char *
ff_flow_eligibility_name(ff_flow_eligibility e)
{
	return NAME_OF(eligibility_names, e);
}

/* ------------------------------------------------------------------------
 * construction
 * ------------------------------------------------------------------------ */
void
ff_flow_created_clear(ff_flow_created *r)
{
	if (r == NULL)
		return;
	free(r->flow_id);
	memset(r, 0, sizeof(*r));
}

ff_status
ff_client_create_flow(ff_client *c, const char *flow_id, const char *flow_kind, const char *ns,
					  ff_flow_created *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_flow_created r = {0};
	char	   *outcome = NULL;

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_create_flow: out is required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	if (flow_id)
		ffc_param_text(&p, flow_id);
	ffc_param_text(&p, flow_kind);
	ffc_param_text(&p, ns);
	s = ffc_run(c, flow_id ? &st_create_flow : &st_create_flow_minted, &p, 2, &res);
	if (s != FF_OK)
		return s;
	TRY(ffc_exactly_one_row(c, res));
	TRY(ffc_get_text(c, res, 0, 0, &r.flow_id));
	TRY(ffc_get_text(c, res, 0, 1, &outcome));
	PQclear(res);
	if (s == FF_OK)
	{
		if (outcome && strcmp(outcome, "created") == 0)
			r.created = true;
		else if (!(outcome && strcmp(outcome, "already_satisfied") == 0))
			s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected create_flow outcome \"%s\"",
							  outcome ? outcome : "(null)");
	}
	free(outcome);
	if (s != FF_OK)
	{
		ff_flow_created_clear(&r);
		return s;
	}
	*out = r;
	return FF_OK;
}

ff_status
ff_client_new_flow_execution_id(ff_client *c, const char *flow_id, char **execution_id_out)
{
	ffc_params	p;

	if (c == NULL || execution_id_out == NULL)
		return usage(c, "ff_client_new_flow_execution_id: execution_id_out is required");
	*execution_id_out = NULL;
	ffc_params_init(&p);
	ffc_param_text(&p, flow_id);
	return scalar_text(c, &st_new_member_id, &p, execution_id_out);
}

void
ff_flow_member_added_clear(ff_flow_member_added *r)
{
	if (r == NULL)
		return;
	free(r->execution_id);
	memset(r, 0, sizeof(*r));
}

ff_status
ff_client_add_execution_to_flow(ff_client *c, const char *flow_id, const char *execution_id,
								ff_flow_member_added *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_flow_member_added r = {0};
	char	   *outcome = NULL;

	if (c == NULL)
		return FF_ERR_USAGE;
	if (out)
		memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	ffc_param_text(&p, flow_id);
	ffc_param_text(&p, execution_id);
	s = ffc_run(c, &st_add, &p, 3, &res);
	if (s != FF_OK)
		return s;
	TRY(ffc_exactly_one_row(c, res));
	TRY(ffc_get_text(c, res, 0, 0, &r.execution_id));
	TRY(ffc_get_text(c, res, 0, 1, &outcome));
	TRY(ffc_get_int32(c, res, 0, 2, &r.node_count));
	PQclear(res);
	if (s == FF_OK)
	{
		if (outcome && strcmp(outcome, "added") == 0)
			r.added = true;
		else if (!(outcome && strcmp(outcome, "already_member") == 0))
			s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected add_execution_to_flow outcome \"%s\"",
							  outcome ? outcome : "(null)");
	}
	free(outcome);
	if (s == FF_OK && out)
		*out = r;
	else
		ff_flow_member_added_clear(&r);
	return s;
}

void
ff_edge_staged_clear(ff_edge_staged *r)
{
	if (r == NULL)
		return;
	free(r->edge_id);
	memset(r, 0, sizeof(*r));
}

ff_status
ff_client_stage_dependency_edge(ff_client *c, const ff_edge_args *a, ff_edge_staged *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_edge_staged r = {0};

	if (c == NULL || a == NULL)
		return usage(c, "ff_client_stage_dependency_edge: args are required");
	if (out)
		memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	ffc_param_text(&p, a->flow_id);
	ffc_param_text(&p, a->edge_id);
	ffc_param_text(&p, a->upstream_execution_id);
	ffc_param_text(&p, a->downstream_execution_id);
	ffc_param_int64(&p, a->expected_graph_revision);
	ffc_param_text(&p, a->dependency_kind);
	ffc_param_text(&p, a->data_passing_ref);
	s = ffc_run(c, &st_stage, &p, 2, &res);
	if (s != FF_OK)
		return s;
	TRY(ffc_exactly_one_row(c, res));
	TRY(ffc_get_text(c, res, 0, 0, &r.edge_id));
	TRY(ffc_get_int64(c, res, 0, 1, &r.new_graph_revision));
	PQclear(res);
	if (s == FF_OK && out)
		*out = r;
	else
		ff_edge_staged_clear(&r);
	return s;
}

ff_status
ff_client_apply_dependency_to_child(ff_client *c, const char *flow_id, const char *edge_id,
									const char *downstream_execution_id,
									const char *upstream_execution_id, ff_edge_applied *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_edge_applied r = {0};
	char	   *outcome = NULL;

	if (c == NULL)
		return FF_ERR_USAGE;
	if (out)
		memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	ffc_param_text(&p, flow_id);
	ffc_param_text(&p, edge_id);
	ffc_param_text(&p, downstream_execution_id);
	ffc_param_text(&p, upstream_execution_id);
	s = ffc_run(c, &st_apply, &p, 2, &res);
	if (s != FF_OK)
		return s;
	TRY(ffc_exactly_one_row(c, res));
	TRY(ffc_get_text(c, res, 0, 0, &outcome));
	TRY(ffc_get_int32(c, res, 0, 1, &r.unsatisfied_count));
	PQclear(res);
	if (s == FF_OK)
	{
		if (outcome && strcmp(outcome, "already_applied") == 0)
			r.already_applied = true;
		else if (!(outcome && strcmp(outcome, "applied") == 0))
			s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected apply outcome \"%s\"",
							  outcome ? outcome : "(null)");
	}
	free(outcome);
	if (s == FF_OK && out)
		*out = r;
	return s;
}

ff_status
ff_client_set_edge_group_policy(ff_client *c, const char *flow_id,
								const char *downstream_execution_id,
								const ff_edge_group_policy *policy, bool *already_set)
{
	ffc_params	p;
	char		json[160];
	size_t		len;
	const char *kind;
	const char *on_satisfied;
	char	   *outcome = NULL;
	ff_status	s;

	if (already_set)
		*already_set = false;
	if (c == NULL || policy == NULL)
		return usage(c, "ff_client_set_edge_group_policy: policy is required");
	kind = ff_edge_policy_kind_name(policy->kind);
	on_satisfied = NAME_OF(on_satisfied_names, policy->on_satisfied);
	if (kind == NULL)
		return usage(c, "ff_client_set_edge_group_policy: unknown policy kind");
	if (policy->on_satisfied != FF_ON_SATISFIED_DEFAULT && on_satisfied == NULL)
		return usage(c, "ff_client_set_edge_group_policy: unknown on_satisfied value");
	/* k and on_satisfied go to the engine whenever given: it rejects them
	 * where they do not belong */
	len = (size_t) snprintf(json, sizeof(json), "{\"kind\": \"%s\"", kind);
	if (policy->kind == FF_EDGE_POLICY_QUORUM || policy->k != 0)
		len += (size_t) snprintf(json + len, sizeof(json) - len, ", \"k\": %lld",
								 (long long) policy->k);
	if (on_satisfied)
		len += (size_t) snprintf(json + len, sizeof(json) - len, ", \"on_satisfied\": \"%s\"",
								 on_satisfied);
	snprintf(json + len, sizeof(json) - len, "}");

	ffc_params_init(&p);
	ffc_param_text(&p, flow_id);
	ffc_param_text(&p, downstream_execution_id);
	ffc_param_text(&p, json);
	s = scalar_text(c, &st_policy, &p, &outcome);
	if (s == FF_OK)
	{
		if (outcome && strcmp(outcome, "already_set") == 0)
		{
			if (already_set)
				*already_set = true;
		}
		else if (!(outcome && strcmp(outcome, "set") == 0))
			s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected set_edge_group_policy outcome \"%s\"",
							  outcome ? outcome : "(null)");
	}
	free(outcome);
	return s;
}

ff_status
ff_client_wait_children(ff_client *c, const ff_handle *h, char **state_out)
{
	ffc_params	p;
	char	   *state = NULL;
	ff_status	s;

	if (state_out)
		*state_out = NULL;
	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_bytes(&p, h ? h->data : NULL, h ? h->len : 0, h == NULL || h->data == NULL);
	s = scalar_text(c, &st_wait_children, &p, &state);
	if (s == FF_OK && state_out)
		*state_out = state;
	else
		free(state);
	return s;
}

/* ------------------------------------------------------------------------
 * flow cancel
 * ------------------------------------------------------------------------ */
void
ff_flow_cancel_result_clear(ff_flow_cancel_result *r)
{
	if (r == NULL)
		return;
	free(r->cancellation_policy);
	free_strings(r->member_execution_ids, r->n_member_execution_ids);
	free_strings(r->pending_execution_ids, r->n_pending_execution_ids);
	memset(r, 0, sizeof(*r));
}

ff_status
ff_client_cancel_flow(ff_client *c, const ff_flow_cancel_args *a, ff_flow_cancel_result *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_flow_cancel_result r = {0};
	const char *policy;
	const char *wait;
	char	   *outcome = NULL;

	if (c == NULL || a == NULL)
		return usage(c, "ff_client_cancel_flow: args are required");
	if (out)
		memset(out, 0, sizeof(*out));
	policy = ff_flow_cancel_policy_name(a->policy);
	wait = NAME_OF(cancel_wait_names, a->wait);
	if (policy == NULL || wait == NULL)
		return usage(c, "ff_client_cancel_flow: unknown policy or wait mode");
	ffc_params_init(&p);
	ffc_param_text(&p, a->flow_id);
	ffc_param_text(&p, policy);
	ffc_param_text(&p, wait);
	ffc_param_int64_or_null(&p, a->wait_timeout_ms, a->wait_timeout_ms == 0);
	ffc_param_text(&p, a->reason);
	s = ffc_run(c, &st_cancel, &p, 4, &res);
	if (s != FF_OK)
		return s;
	TRY(ffc_exactly_one_row(c, res));
	TRY(ffc_get_text(c, res, 0, 0, &outcome));
	TRY(ffc_get_text(c, res, 0, 1, &r.cancellation_policy));
	TRY(get_text_array(c, res, 0, 2, &r.member_execution_ids, &r.n_member_execution_ids));
	TRY(get_text_array(c, res, 0, 3, &r.pending_execution_ids, &r.n_pending_execution_ids));
	PQclear(res);
	if (s == FF_OK)
	{
		if (outcome && strcmp(outcome, "cancellation_scheduled") == 0)
			r.scheduled = true;
		else if (!(outcome && strcmp(outcome, "cancelled") == 0))
			s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected cancel_flow outcome \"%s\"",
							  outcome ? outcome : "(null)");
	}
	free(outcome);
	if (s == FF_OK && out)
		*out = r;
	else
		ff_flow_cancel_result_clear(&r);
	return s;
}

void
ff_flow_cancel_header_result_clear(ff_flow_cancel_header_result *r)
{
	if (r == NULL)
		return;
	free(r->cancellation_policy);
	free(r->cancel_reason);
	free_strings(r->member_execution_ids, r->n_member_execution_ids);
	memset(r, 0, sizeof(*r));
}

ff_status
ff_client_cancel_flow_header(ff_client *c, const char *flow_id, const char *reason,
							 ff_flow_cancel_policy policy, ff_flow_cancel_header_result *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_flow_cancel_header_result r = {0};
	const char *policy_name = ff_flow_cancel_policy_name(policy);
	char	   *outcome = NULL;

	if (c == NULL)
		return FF_ERR_USAGE;
	if (out)
		memset(out, 0, sizeof(*out));
	if (policy_name == NULL)
		return usage(c, "ff_client_cancel_flow_header: unknown policy");
	ffc_params_init(&p);
	ffc_param_text(&p, flow_id);
	ffc_param_text(&p, reason);
	ffc_param_text(&p, policy_name);
	s = ffc_run(c, &st_cancel_header, &p, 4, &res);
	if (s != FF_OK)
		return s;
	TRY(ffc_exactly_one_row(c, res));
	TRY(ffc_get_text(c, res, 0, 0, &outcome));
	TRY(ffc_get_text(c, res, 0, 1, &r.cancellation_policy));
	TRY(ffc_get_text(c, res, 0, 2, &r.cancel_reason));
	TRY(get_text_array(c, res, 0, 3, &r.member_execution_ids, &r.n_member_execution_ids));
	PQclear(res);
	if (s == FF_OK)
	{
		if (outcome && strcmp(outcome, "already_terminal") == 0)
			r.already_terminal = true;
		else if (!(outcome && strcmp(outcome, "cancelled") == 0))
			s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected cancel_flow_header outcome \"%s\"",
							  outcome ? outcome : "(null)");
	}
	free(outcome);
	if (s == FF_OK && out)
		*out = r;
	else
		ff_flow_cancel_header_result_clear(&r);
	return s;
}

ff_status
ff_client_ack_cancel_member(ff_client *c, const char *flow_id, const char *execution_id)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_text(&p, flow_id);
	ffc_param_text(&p, execution_id);
	s = ffc_run(c, &st_ack, &p, 1, &res);
	if (s == FF_OK)
		PQclear(res);
	return s;
}

/* ------------------------------------------------------------------------
 * reads
 * ------------------------------------------------------------------------ */
static void
edge_group_info_clear(ff_edge_group_info *g)
{
	free(g->downstream_execution_id);
	free(g->cancel_siblings_reason);
	free_strings(g->cancel_siblings_pending, g->n_cancel_siblings_pending);
	memset(g, 0, sizeof(*g));
}

void
ff_flow_description_clear(ff_flow_description *d)
{
	if (d == NULL)
		return;
	free(d->flow_id);
	free(d->flow_kind);
	free(d->ns);
	free(d->public_flow_state);
	free(d->cancel_reason);
	free(d->cancellation_policy);
	free(d->tags_json);
	for (size_t i = 0; i < d->n_edge_groups; i++)
		edge_group_info_clear(&d->edge_groups[i]);
	free(d->edge_groups);
	memset(d, 0, sizeof(*d));
}

static ff_status
decode_edge_group(ff_client *c, const PGresult *res, int row, ff_edge_group_info *g)
{
	ff_status	s = FF_OK;
	char	   *kind = NULL;
	char	   *on_satisfied = NULL;
	char	   *state = NULL;

	TRY(ffc_get_text(c, res, row, 13, &g->downstream_execution_id));
	TRY(ffc_get_text(c, res, row, 14, &kind));
	TRY(ffc_get_int64(c, res, row, 15, &g->policy.k));
	TRY(ffc_get_text(c, res, row, 16, &on_satisfied));
	TRY(ffc_get_text(c, res, row, 17, &state));
	TRY(ffc_get_int32(c, res, row, 18, &g->k_target));
	TRY(ffc_get_int32(c, res, row, 19, &g->total_deps));
	TRY(ffc_get_int32(c, res, row, 20, &g->applied_count));
	TRY(ffc_get_int32(c, res, row, 21, &g->satisfied_count));
	TRY(ffc_get_int32(c, res, row, 22, &g->failed_count));
	TRY(ffc_get_int32(c, res, row, 23, &g->skipped_count));
	TRY(ffc_get_int32(c, res, row, 24, &g->running_count));
	TRY(ffc_get_int64(c, res, row, 25, &g->state_changed_at_ms));
	TRY(ffc_get_bool(c, res, row, 26, &g->cancel_siblings_fired));
	TRY(ffc_get_text(c, res, row, 27, &g->cancel_siblings_reason));
	TRY(get_text_array(c, res, row, 28, &g->cancel_siblings_pending,
					   &g->n_cancel_siblings_pending));
	if (s == FF_OK)
	{
		g->policy.kind = ff_edge_policy_kind_from_name(kind);
		g->policy.on_satisfied = (ff_on_satisfied) index_of(on_satisfied_names, 3, on_satisfied);
		g->state = state == NULL ? 0
			: strcmp(state, "pending") == 0 ? FF_EDGE_GROUP_PENDING
			: strcmp(state, "satisfied") == 0 ? FF_EDGE_GROUP_SATISFIED
			: strcmp(state, "impossible") == 0 ? FF_EDGE_GROUP_IMPOSSIBLE : 0;
		if (g->policy.kind == 0 || g->state == 0 ||
			(on_satisfied != NULL && g->policy.on_satisfied == FF_ON_SATISFIED_DEFAULT))
			s = ffc_set_error(c, FF_ERR_PROTOCOL,
							  "unexpected edge group: policy \"%s\" / \"%s\", state \"%s\"",
							  kind ? kind : "(null)", on_satisfied ? on_satisfied : "(null)",
							  state ? state : "(null)");
	}
	free(kind);
	free(on_satisfied);
	free(state);
	return s;
}

ff_status
ff_client_describe_flow(ff_client *c, const char *flow_id, ff_flow_description *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_flow_description d = {0};
	int			n;

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_describe_flow: out is required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	ffc_param_text(&p, flow_id);
	s = ffc_run(c, &st_describe, &p, DESCRIBE_COLS, &res);
	if (s != FF_OK)
		return s;
	n = PQntuples(res);
	if (n > 0)
	{
		d.found = true;
		TRY(ffc_get_text(c, res, 0, 0, &d.flow_id));
		TRY(ffc_get_text(c, res, 0, 1, &d.flow_kind));
		TRY(ffc_get_text(c, res, 0, 2, &d.ns));
		TRY(ffc_get_text(c, res, 0, 3, &d.public_flow_state));
		TRY(ffc_get_int64(c, res, 0, 4, &d.graph_revision));
		TRY(ffc_get_int32(c, res, 0, 5, &d.node_count));
		TRY(ffc_get_int32(c, res, 0, 6, &d.edge_count));
		TRY(ffc_get_int64(c, res, 0, 7, &d.created_at_ms));
		TRY(ffc_get_int64(c, res, 0, 8, &d.last_mutation_at_ms));
		TRY(ffc_get_int64(c, res, 0, 9, &d.cancelled_at_ms));
		TRY(ffc_get_text(c, res, 0, 10, &d.cancel_reason));
		TRY(ffc_get_text(c, res, 0, 11, &d.cancellation_policy));
		TRY(ffc_get_text(c, res, 0, 12, &d.tags_json));
		/* a flow without groups comes as one row with NULL group columns */
		if (s == FF_OK && !(n == 1 && ffc_isnull(res, 0, 13)))
		{
			d.edge_groups = calloc((size_t) n, sizeof(ff_edge_group_info));
			if (d.edge_groups == NULL)
				s = oom(c);
			for (int i = 0; i < n && s == FF_OK; i++)
			{
				d.n_edge_groups++;
				s = decode_edge_group(c, res, i, &d.edge_groups[i]);
			}
		}
	}
	PQclear(res);
	if (s != FF_OK)
	{
		ff_flow_description_clear(&d);
		return s;
	}
	*out = d;
	return FF_OK;
}

void
ff_flow_list_clear(ff_flow_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->count; i++)
	{
		free(l->items[i].flow_id);
		free(l->items[i].status);
		free(l->items[i].public_flow_state);
	}
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

ff_status
ff_client_list_flows(ff_client *c, const char *partition_key, const char *cursor,
					 int32_t max_results, ff_flow_list *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_flow_list l = {0};
	int			n;

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_list_flows: out is required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	ffc_param_text(&p, partition_key);
	ffc_param_text(&p, cursor);
	ffc_param_int32_or_null(&p, max_results == 0 ? 100 : max_results, false);
	s = ffc_run(c, &st_list_flows, &p, 4, &res);
	if (s != FF_OK)
		return s;
	n = PQntuples(res);
	if (n > 0 && (l.items = calloc((size_t) n, sizeof(*l.items))) == NULL)
		s = oom(c);
	for (int i = 0; i < n && s == FF_OK; i++)
	{
		ff_flow_list_item *it = &l.items[i];

		l.count++;
		TRY(ffc_get_text(c, res, i, 0, &it->flow_id));
		TRY(ffc_get_int64(c, res, i, 1, &it->created_at_ms));
		TRY(ffc_get_text(c, res, i, 2, &it->status));
		TRY(ffc_get_text(c, res, i, 3, &it->public_flow_state));
	}
	PQclear(res);
	if (s != FF_OK)
	{
		ff_flow_list_clear(&l);
		return s;
	}
	*out = l;
	return FF_OK;
}

void
ff_edge_info_clear(ff_edge_info *e)
{
	if (e == NULL)
		return;
	free(e->edge_id);
	free(e->flow_id);
	free(e->upstream_execution_id);
	free(e->downstream_execution_id);
	free(e->dependency_kind);
	free(e->satisfaction_condition);
	free(e->data_passing_ref);
	free(e->edge_state);
	free(e->created_by);
	free(e->resolution);
	memset(e, 0, sizeof(*e));
}

static ff_status
decode_edge(ff_client *c, const PGresult *res, int row, ff_edge_info *e)
{
	ff_status	s = FF_OK;

	TRY(ffc_get_text(c, res, row, 0, &e->edge_id));
	TRY(ffc_get_text(c, res, row, 1, &e->flow_id));
	TRY(ffc_get_text(c, res, row, 2, &e->upstream_execution_id));
	TRY(ffc_get_text(c, res, row, 3, &e->downstream_execution_id));
	TRY(ffc_get_text(c, res, row, 4, &e->dependency_kind));
	TRY(ffc_get_text(c, res, row, 5, &e->satisfaction_condition));
	TRY(ffc_get_text(c, res, row, 6, &e->data_passing_ref));
	TRY(ffc_get_text(c, res, row, 7, &e->edge_state));
	TRY(ffc_get_int64(c, res, row, 8, &e->created_at_ms));
	TRY(ffc_get_text(c, res, row, 9, &e->created_by));
	TRY(ffc_get_int64(c, res, row, 10, &e->applied_at_ms));
	TRY(ffc_get_text(c, res, row, 11, &e->resolution));
	TRY(ffc_get_int64(c, res, row, 12, &e->resolved_at_ms));
	return s;
}

void
ff_edge_list_clear(ff_edge_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->count; i++)
		ff_edge_info_clear(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

ff_status
ff_client_list_edges(ff_client *c, const char *flow_id, ff_edge_direction direction,
					 const char *execution_id, ff_edge_list *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_edge_list l = {0};
	int			n;

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_list_edges: out is required");
	memset(out, 0, sizeof(*out));
	if (direction != FF_EDGES_OUTGOING && direction != FF_EDGES_INCOMING)
		return usage(c, "ff_client_list_edges: direction must be FF_EDGES_OUTGOING or FF_EDGES_INCOMING");
	ffc_params_init(&p);
	ffc_param_text(&p, flow_id);
	ffc_param_text(&p, direction == FF_EDGES_OUTGOING ? "outgoing" : "incoming");
	ffc_param_text(&p, execution_id);
	s = ffc_run(c, &st_list_edges, &p, EDGE_COLS, &res);
	if (s != FF_OK)
		return s;
	n = PQntuples(res);
	if (n > 0 && (l.items = calloc((size_t) n, sizeof(*l.items))) == NULL)
		s = oom(c);
	for (int i = 0; i < n && s == FF_OK; i++)
	{
		l.count++;
		s = decode_edge(c, res, i, &l.items[i]);
	}
	PQclear(res);
	if (s != FF_OK)
	{
		ff_edge_list_clear(&l);
		return s;
	}
	*out = l;
	return FF_OK;
}

ff_status
ff_client_describe_edge(ff_client *c, const char *flow_id, const char *edge_id,
						ff_edge_info *out, bool *found)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_edge_info e = {0};
	bool		f = false;

	if (found)
		*found = false;
	if (c == NULL || out == NULL)
		return usage(c, "ff_client_describe_edge: out is required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	ffc_param_text(&p, flow_id);
	ffc_param_text(&p, edge_id);
	s = ffc_run(c, &st_describe_edge, &p, EDGE_COLS, &res);
	if (s != FF_OK)
		return s;
	if (PQntuples(res) > 0)
	{
		f = true;
		s = decode_edge(c, res, 0, &e);
	}
	PQclear(res);
	if (s != FF_OK)
	{
		ff_edge_info_clear(&e);
		return s;
	}
	*out = e;
	if (found)
		*found = f;
	return FF_OK;
}

ff_status
ff_client_resolve_execution_flow_id(ff_client *c, const char *execution_id, char **flow_id_out)
{
	ffc_params	p;

	if (c == NULL || flow_id_out == NULL)
		return usage(c, "ff_client_resolve_execution_flow_id: flow_id_out is required");
	*flow_id_out = NULL;
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	return scalar_text(c, &st_resolve, &p, flow_id_out);
}

ff_status
ff_client_evaluate_flow_eligibility(ff_client *c, const char *execution_id,
									ff_flow_eligibility *out)
{
	ffc_params	p;
	char	   *v = NULL;
	ff_status	s;
	int			e;

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_evaluate_flow_eligibility: out is required");
	*out = 0;
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	s = scalar_text(c, &st_eligibility, &p, &v);
	if (s != FF_OK)
		return s;
	e = index_of(eligibility_names, sizeof(eligibility_names) / sizeof(eligibility_names[0]), v);
	if (e == 0)
		s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected flow eligibility \"%s\"",
						  v ? v : "(null)");
	else
		*out = (ff_flow_eligibility) e;
	free(v);
	return s;
}

ff_status
ff_client_get_flow_tag(ff_client *c, const char *flow_id, const char *key, char **value_out)
{
	ffc_params	p;

	if (c == NULL || value_out == NULL)
		return usage(c, "ff_client_get_flow_tag: value_out is required");
	*value_out = NULL;
	ffc_params_init(&p);
	ffc_param_text(&p, flow_id);
	ffc_param_text(&p, key);
	return scalar_text(c, &st_get_tag, &p, value_out);
}

ff_status
ff_client_set_flow_tag(ff_client *c, const char *flow_id, const char *key, const char *value)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_text(&p, flow_id);
	ffc_param_text(&p, key);
	ffc_param_text(&p, value);
	s = ffc_run(c, &st_set_tag, &p, 1, &res);
	if (s == FF_OK)
		PQclear(res);
	return s;
}

void
ff_flow_summary_clear(ff_flow_summary *x)
{
	if (x == NULL)
		return;
	free(x->public_flow_state);
	memset(x, 0, sizeof(*x));
}

ff_status
ff_client_project_flow_summary(ff_client *c, const char *flow_id, ff_flow_summary *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_flow_summary x = {0};

	if (c == NULL || out == NULL)
		return usage(c, "ff_client_project_flow_summary: out is required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	ffc_param_text(&p, flow_id);
	s = ffc_run(c, &st_summary, &p, 14, &res);
	if (s != FF_OK)
		return s;
	TRY(ffc_exactly_one_row(c, res));
	TRY(ffc_get_bool(c, res, 0, 0, &x.projected));
	TRY(ffc_get_int64(c, res, 0, 1, &x.total_members));
	TRY(ffc_get_int32(c, res, 0, 2, &x.members_completed));
	TRY(ffc_get_int32(c, res, 0, 3, &x.members_failed));
	TRY(ffc_get_int32(c, res, 0, 4, &x.members_cancelled));
	TRY(ffc_get_int32(c, res, 0, 5, &x.members_expired));
	TRY(ffc_get_int32(c, res, 0, 6, &x.members_skipped));
	TRY(ffc_get_int32(c, res, 0, 7, &x.members_active));
	TRY(ffc_get_int32(c, res, 0, 8, &x.members_suspended));
	TRY(ffc_get_int32(c, res, 0, 9, &x.members_waiting));
	TRY(ffc_get_int32(c, res, 0, 10, &x.members_delayed));
	TRY(ffc_get_int32(c, res, 0, 11, &x.members_rate_limited));
	TRY(ffc_get_int32(c, res, 0, 12, &x.members_waiting_children));
	TRY(ffc_get_text(c, res, 0, 13, &x.public_flow_state));
	PQclear(res);
	if (s != FF_OK)
	{
		ff_flow_summary_clear(&x);
		return s;
	}
	*out = x;
	return FF_OK;
}

/* ------------------------------------------------------------------------
 * reconcilers
 * ------------------------------------------------------------------------ */
static ff_status
reconcile(ff_client *c, const ffc_stmt *st, int32_t batch_size, int32_t *changed)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	int32_t		n = 0;

	if (changed)
		*changed = 0;
	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_int32_or_null(&p, batch_size, batch_size == 0);
	s = ffc_run(c, st, &p, 1, &res);
	if (s != FF_OK)
		return s;
	TRY(ffc_exactly_one_row(c, res));
	TRY(ffc_get_int32(c, res, 0, 0, &n));
	PQclear(res);
	if (s == FF_OK && changed)
		*changed = n;
	return s;
}

ff_status
ff_client_reconcile_dependencies(ff_client *c, int32_t batch_size, int32_t *changed)
{
	return reconcile(c, &st_rec_dependencies, batch_size, changed);
}

ff_status
ff_client_reconcile_sibling_cancel(ff_client *c, int32_t batch_size, int32_t *changed)
{
	return reconcile(c, &st_rec_sibling_cancel, batch_size, changed);
}

ff_status
ff_client_reconcile_cancel_backlog(ff_client *c, int32_t batch_size, int32_t *changed)
{
	return reconcile(c, &st_rec_cancel_backlog, batch_size, changed);
}

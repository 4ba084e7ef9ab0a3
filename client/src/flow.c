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
#include <stddef.h>
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
		if ((hi = ffc_hexval(p[0])) < 0 || (lo = ffc_hexval(p[1])) < 0)
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

const char *
ff_edge_policy_kind_name(ff_edge_policy_kind kind)
{
	return FFC_NAME_OF(policy_kind_names, kind);
}

ff_edge_policy_kind
ff_edge_policy_kind_from_name(const char *name)
{
	int			i = ffc_name_index(policy_kind_names, FFC_LEN(policy_kind_names), name);

	return (ff_edge_policy_kind) (i < 0 ? 0 : i);
}

const char *
ff_flow_cancel_policy_name(ff_flow_cancel_policy policy)
{
	return FFC_NAME_OF(cancel_policy_names, policy);
}

const char *
ff_flow_eligibility_name(ff_flow_eligibility e)
{
	return FFC_NAME_OF(eligibility_names, e);
}

/* ------------------------------------------------------------------------
 * construction
 * ------------------------------------------------------------------------ */
static const char *const create_outcome_names[] = {"already_satisfied", "created"};

static const ffc_field created_fields[] = {
	FFC_FLD(TEXT, ff_flow_created, flow_id),
	FFC_FLD_FLAG(ff_flow_created, created, create_outcome_names),
};

void
ff_flow_created_clear(ff_flow_created *r)
{
	FFC_CLEAR_RECORD(r, created_fields);
}

ff_status
ff_client_create_flow(ff_client *c, const char *flow_id, const char *flow_kind, const char *ns,
					  ff_flow_created *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	if (flow_id)
		ffc_param_text(&p, flow_id);
	ffc_param_text(&p, flow_kind);
	ffc_param_text(&p, ns);
	return FFC_RUN_ROW(c, flow_id ? &st_create_flow : &st_create_flow_minted, &p, created_fields,
					   out, NULL);
}

ff_status
ff_client_new_flow_execution_id(ff_client *c, const char *flow_id, char **execution_id_out)
{
	ffc_params	p;

	FFC_REQUIRE(c, execution_id_out != NULL, "execution_id_out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, flow_id);
	return ffc_scalar_text(c, &st_new_member_id, &p, execution_id_out);
}

static const char *const add_outcome_names[] = {"already_member", "added"};

static const ffc_field member_added_fields[] = {
	FFC_FLD(TEXT, ff_flow_member_added, execution_id),
	FFC_FLD_FLAG(ff_flow_member_added, added, add_outcome_names),
	FFC_FLD(I32, ff_flow_member_added, node_count),
};

void
ff_flow_member_added_clear(ff_flow_member_added *r)
{
	FFC_CLEAR_RECORD(r, member_added_fields);
}

ff_status
ff_client_add_execution_to_flow(ff_client *c, const char *flow_id, const char *execution_id,
								ff_flow_member_added *out)
{
	ffc_params	p;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_text(&p, flow_id);
	ffc_param_text(&p, execution_id);
	return FFC_RUN_ROW(c, &st_add, &p, member_added_fields, out, NULL);
}

static const ffc_field staged_fields[] = {
	FFC_FLD(TEXT, ff_edge_staged, edge_id),
	FFC_FLD(I64, ff_edge_staged, new_graph_revision),
};

void
ff_edge_staged_clear(ff_edge_staged *r)
{
	FFC_CLEAR_RECORD(r, staged_fields);
}

ff_status
ff_client_stage_dependency_edge(ff_client *c, const ff_edge_args *a, ff_edge_staged *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, a != NULL, "args are required");
	ffc_params_init(&p);
	ffc_param_text(&p, a->flow_id);
	ffc_param_text(&p, a->edge_id);
	ffc_param_text(&p, a->upstream_execution_id);
	ffc_param_text(&p, a->downstream_execution_id);
	ffc_param_int64(&p, a->expected_graph_revision);
	ffc_param_text(&p, a->dependency_kind);
	ffc_param_text(&p, a->data_passing_ref);
	return FFC_RUN_ROW(c, &st_stage, &p, staged_fields, out, NULL);
}

static const char *const apply_outcome_names[] = {"applied", "already_applied"};

static const ffc_field applied_fields[] = {
	FFC_FLD_FLAG(ff_edge_applied, already_applied, apply_outcome_names),
	FFC_FLD(I32, ff_edge_applied, unsatisfied_count),
};

ff_status
ff_client_apply_dependency_to_child(ff_client *c, const char *flow_id, const char *edge_id,
									const char *downstream_execution_id,
									const char *upstream_execution_id, ff_edge_applied *out)
{
	ffc_params	p;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_text(&p, flow_id);
	ffc_param_text(&p, edge_id);
	ffc_param_text(&p, downstream_execution_id);
	ffc_param_text(&p, upstream_execution_id);
	return FFC_RUN_ROW(c, &st_apply, &p, applied_fields, out, NULL);
}

static const char *const policy_outcome_names[] = {"set", "already_set"};

ff_status
ff_client_set_edge_group_policy(ff_client *c, const char *flow_id,
								const char *downstream_execution_id,
								const ff_edge_group_policy *policy, bool *already_set)
{
	static const ffc_field set_field[] = {{FFC_F_FLAG, 0, 2, policy_outcome_names}};
	ffc_params	p;
	char		json[160];
	size_t		len;
	const char *kind;
	const char *on_satisfied;

	if (already_set)
		*already_set = false;
	FFC_REQUIRE(c, policy != NULL, "policy is required");
	kind = ff_edge_policy_kind_name(policy->kind);
	on_satisfied = FFC_NAME_OF(on_satisfied_names, policy->on_satisfied);
	if (kind == NULL)
		return ffc_usage(c, "ff_client_set_edge_group_policy: unknown policy kind");
	if (policy->on_satisfied != FF_ON_SATISFIED_DEFAULT && on_satisfied == NULL)
		return ffc_usage(c, "ff_client_set_edge_group_policy: unknown on_satisfied value");
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
	return FFC_RUN_ROW(c, &st_policy, &p, set_field, already_set, NULL);
}

ff_status
ff_client_wait_children(ff_client *c, const ff_handle *h, char **state_out)
{
	ffc_params	p;

	if (state_out)
		*state_out = NULL;
	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_handle(&p, h);
	return ffc_scalar_text(c, &st_wait_children, &p, state_out);
}

/* ------------------------------------------------------------------------
 * flow cancel
 * ------------------------------------------------------------------------ */
static const char *const cancel_outcome_names[] = {"cancelled", "cancellation_scheduled"};

static const ffc_field cancel_fields[] = {
	FFC_FLD_FLAG(ff_flow_cancel_result, scheduled, cancel_outcome_names),
	FFC_FLD(TEXT, ff_flow_cancel_result, cancellation_policy),
	FFC_FLD2(TEXTS, ff_flow_cancel_result, member_execution_ids, n_member_execution_ids),
	FFC_FLD2(TEXTS, ff_flow_cancel_result, pending_execution_ids, n_pending_execution_ids),
};

void
ff_flow_cancel_result_clear(ff_flow_cancel_result *r)
{
	FFC_CLEAR_RECORD(r, cancel_fields);
}

ff_status
ff_client_cancel_flow(ff_client *c, const ff_flow_cancel_args *a, ff_flow_cancel_result *out)
{
	ffc_params	p;
	const char *policy;
	const char *wait;

	FFC_REQUIRE(c, a != NULL, "args are required");
	if (out)
		memset(out, 0, sizeof(*out));
	policy = ff_flow_cancel_policy_name(a->policy);
	wait = FFC_NAME_OF(cancel_wait_names, a->wait);
	if (policy == NULL || wait == NULL)
		return ffc_usage(c, "ff_client_cancel_flow: unknown policy or wait mode");
	ffc_params_init(&p);
	ffc_param_text(&p, a->flow_id);
	ffc_param_text(&p, policy);
	ffc_param_text(&p, wait);
	ffc_param_int64_or_null(&p, a->wait_timeout_ms, a->wait_timeout_ms == 0);
	ffc_param_text(&p, a->reason);
	return FFC_RUN_ROW(c, &st_cancel, &p, cancel_fields, out, NULL);
}

static const char *const header_outcome_names[] = {"cancelled", "already_terminal"};

static const ffc_field header_fields[] = {
	FFC_FLD_FLAG(ff_flow_cancel_header_result, already_terminal, header_outcome_names),
	FFC_FLD(TEXT, ff_flow_cancel_header_result, cancellation_policy),
	FFC_FLD(TEXT, ff_flow_cancel_header_result, cancel_reason),
	FFC_FLD2(TEXTS, ff_flow_cancel_header_result, member_execution_ids, n_member_execution_ids),
};

void
ff_flow_cancel_header_result_clear(ff_flow_cancel_header_result *r)
{
	FFC_CLEAR_RECORD(r, header_fields);
}

ff_status
ff_client_cancel_flow_header(ff_client *c, const char *flow_id, const char *reason,
							 ff_flow_cancel_policy policy, ff_flow_cancel_header_result *out)
{
	ffc_params	p;
	const char *policy_name = ff_flow_cancel_policy_name(policy);

	if (c == NULL)
		return FF_ERR_USAGE;
	if (out)
		memset(out, 0, sizeof(*out));
	if (policy_name == NULL)
		return ffc_usage(c, "ff_client_cancel_flow_header: unknown policy");
	ffc_params_init(&p);
	ffc_param_text(&p, flow_id);
	ffc_param_text(&p, reason);
	ffc_param_text(&p, policy_name);
	return FFC_RUN_ROW(c, &st_cancel_header, &p, header_fields, out, NULL);
}

ff_status
ff_client_ack_cancel_member(ff_client *c, const char *flow_id, const char *execution_id)
{
	ffc_params	p;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_text(&p, flow_id);
	ffc_param_text(&p, execution_id);
	return ffc_run_discard(c, &st_ack, &p);
}

/* ------------------------------------------------------------------------
 * reads
 * ------------------------------------------------------------------------ */
static const char *const group_state_names[] = {NULL, "pending", "satisfied", "impossible"};

/* the columns after the flow's own (st_describe) */
static const ffc_field edge_group_fields[] = {
	FFC_FLD(TEXT, ff_edge_group_info, downstream_execution_id),
	FFC_FLD_ENUM_REQ(ff_edge_group_info, policy.kind, policy_kind_names),
	FFC_FLD(I64, ff_edge_group_info, policy.k),
	FFC_FLD_ENUM(ff_edge_group_info, policy.on_satisfied, on_satisfied_names),
	FFC_FLD_ENUM_REQ(ff_edge_group_info, state, group_state_names),
	FFC_FLD(I32, ff_edge_group_info, k_target),
	FFC_FLD(I32, ff_edge_group_info, total_deps),
	FFC_FLD(I32, ff_edge_group_info, applied_count),
	FFC_FLD(I32, ff_edge_group_info, satisfied_count),
	FFC_FLD(I32, ff_edge_group_info, failed_count),
	FFC_FLD(I32, ff_edge_group_info, skipped_count),
	FFC_FLD(I32, ff_edge_group_info, running_count),
	FFC_FLD(I64, ff_edge_group_info, state_changed_at_ms),
	FFC_FLD(BOOL, ff_edge_group_info, cancel_siblings_fired),
	FFC_FLD(TEXT, ff_edge_group_info, cancel_siblings_reason),
	FFC_FLD2(TEXTS, ff_edge_group_info, cancel_siblings_pending, n_cancel_siblings_pending),
};

static const ffc_field description_fields[] = {
	FFC_FLD(TEXT, ff_flow_description, flow_id),
	FFC_FLD(TEXT, ff_flow_description, flow_kind),
	FFC_FLD(TEXT, ff_flow_description, ns),
	FFC_FLD(TEXT, ff_flow_description, public_flow_state),
	FFC_FLD(I64, ff_flow_description, graph_revision),
	FFC_FLD(I32, ff_flow_description, node_count),
	FFC_FLD(I32, ff_flow_description, edge_count),
	FFC_FLD(I64, ff_flow_description, created_at_ms),
	FFC_FLD(I64, ff_flow_description, last_mutation_at_ms),
	FFC_FLD(I64, ff_flow_description, cancelled_at_ms),
	FFC_FLD(TEXT, ff_flow_description, cancel_reason),
	FFC_FLD(TEXT, ff_flow_description, cancellation_policy),
	FFC_FLD(TEXT, ff_flow_description, tags_json),
};

void
ff_flow_description_clear(ff_flow_description *d)
{
	if (d == NULL)
		return;
	ffc_free_list(edge_group_fields, FFC_NF(edge_group_fields), sizeof(ff_edge_group_info),
				  d->edge_groups, d->n_edge_groups);
	FFC_CLEAR_RECORD(d, description_fields);
}

ff_status
ff_client_describe_flow(ff_client *c, const char *flow_id, ff_flow_description *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;

	FFC_REQUIRE(c, out != NULL, "out is required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	ffc_param_text(&p, flow_id);
	s = ffc_run(c, &st_describe, &p, DESCRIBE_COLS, &res);
	if (s != FF_OK)
		return s;
	/* one row per edge group, none for an unknown flow */
	out->found = PQntuples(res) > 0;
	if (out->found)
		s = ffc_decode_nested(c, res, description_fields, FFC_NF(description_fields), out,
							  edge_group_fields, FFC_NF(edge_group_fields),
							  sizeof(ff_edge_group_info), (void **) &out->edge_groups,
							  &out->n_edge_groups);
	PQclear(res);
	if (s != FF_OK)
		ff_flow_description_clear(out);
	return s;
}

static const ffc_field flow_item_fields[] = {
	FFC_FLD(TEXT, ff_flow_list_item, flow_id),
	FFC_FLD(I64, ff_flow_list_item, created_at_ms),
	FFC_FLD(TEXT, ff_flow_list_item, status),
	FFC_FLD(TEXT, ff_flow_list_item, public_flow_state),
};

void
ff_flow_list_clear(ff_flow_list *l)
{
	FFC_CLEAR_LIST(l, flow_item_fields);
}

ff_status
ff_client_list_flows(ff_client *c, const char *partition_key, const char *cursor,
					 int32_t max_results, ff_flow_list *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, partition_key);
	ffc_param_text(&p, cursor);
	ffc_param_int32_default(&p, max_results, 100);
	return FFC_RUN_LIST(c, &st_list_flows, &p, flow_item_fields, out);
}

static const ffc_field edge_fields[] = {
	FFC_FLD(TEXT, ff_edge_info, edge_id),
	FFC_FLD(TEXT, ff_edge_info, flow_id),
	FFC_FLD(TEXT, ff_edge_info, upstream_execution_id),
	FFC_FLD(TEXT, ff_edge_info, downstream_execution_id),
	FFC_FLD(TEXT, ff_edge_info, dependency_kind),
	FFC_FLD(TEXT, ff_edge_info, satisfaction_condition),
	FFC_FLD(TEXT, ff_edge_info, data_passing_ref),
	FFC_FLD(TEXT, ff_edge_info, edge_state),
	FFC_FLD(I64, ff_edge_info, created_at_ms),
	FFC_FLD(TEXT, ff_edge_info, created_by),
	FFC_FLD(I64, ff_edge_info, applied_at_ms),
	FFC_FLD(TEXT, ff_edge_info, resolution),
	FFC_FLD(I64, ff_edge_info, resolved_at_ms),
};

void
ff_edge_info_clear(ff_edge_info *e)
{
	FFC_CLEAR_RECORD(e, edge_fields);
}

void
ff_edge_list_clear(ff_edge_list *l)
{
	FFC_CLEAR_LIST(l, edge_fields);
}

ff_status
ff_client_list_edges(ff_client *c, const char *flow_id, ff_edge_direction direction,
					 const char *execution_id, ff_edge_list *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, out != NULL, "out is required");
	memset(out, 0, sizeof(*out));
	if (direction != FF_EDGES_OUTGOING && direction != FF_EDGES_INCOMING)
		return ffc_usage(c, "ff_client_list_edges: direction must be FF_EDGES_OUTGOING or FF_EDGES_INCOMING");
	ffc_params_init(&p);
	ffc_param_text(&p, flow_id);
	ffc_param_text(&p, direction == FF_EDGES_OUTGOING ? "outgoing" : "incoming");
	ffc_param_text(&p, execution_id);
	return FFC_RUN_LIST(c, &st_list_edges, &p, edge_fields, out);
}

ff_status
ff_client_describe_edge(ff_client *c, const char *flow_id, const char *edge_id,
						ff_edge_info *out, bool *found)
{
	ffc_params	p;
	bool		f = false;
	ff_status	s;

	if (found)
		*found = false;
	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, flow_id);
	ffc_param_text(&p, edge_id);
	s = FFC_RUN_ROW(c, &st_describe_edge, &p, edge_fields, out, &f);
	if (found)
		*found = f;
	return s;
}

ff_status
ff_client_resolve_execution_flow_id(ff_client *c, const char *execution_id, char **flow_id_out)
{
	ffc_params	p;

	FFC_REQUIRE(c, flow_id_out != NULL, "flow_id_out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	return ffc_scalar_text(c, &st_resolve, &p, flow_id_out);
}

ff_status
ff_client_evaluate_flow_eligibility(ff_client *c, const char *execution_id,
									ff_flow_eligibility *out)
{
	static const ffc_field eligibility_field[] = {
		{FFC_F_ENUM | FFC_F_NOTNULL, 0, FFC_LEN(eligibility_names), eligibility_names}
	};
	ffc_params	p;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, execution_id);
	return FFC_RUN_ROW(c, &st_eligibility, &p, eligibility_field, out, NULL);
}

ff_status
ff_client_get_flow_tag(ff_client *c, const char *flow_id, const char *key, char **value_out)
{
	ffc_params	p;

	FFC_REQUIRE(c, value_out != NULL, "value_out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, flow_id);
	ffc_param_text(&p, key);
	return ffc_scalar_text(c, &st_get_tag, &p, value_out);
}

ff_status
ff_client_set_flow_tag(ff_client *c, const char *flow_id, const char *key, const char *value)
{
	ffc_params	p;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_text(&p, flow_id);
	ffc_param_text(&p, key);
	ffc_param_text(&p, value);
	return ffc_run_discard(c, &st_set_tag, &p);
}

static const ffc_field summary_fields[] = {
	FFC_FLD(BOOL, ff_flow_summary, projected),
	FFC_FLD(I64, ff_flow_summary, total_members),
	FFC_FLD(I32, ff_flow_summary, members_completed),
	FFC_FLD(I32, ff_flow_summary, members_failed),
	FFC_FLD(I32, ff_flow_summary, members_cancelled),
	FFC_FLD(I32, ff_flow_summary, members_expired),
	FFC_FLD(I32, ff_flow_summary, members_skipped),
	FFC_FLD(I32, ff_flow_summary, members_active),
	FFC_FLD(I32, ff_flow_summary, members_suspended),
	FFC_FLD(I32, ff_flow_summary, members_waiting),
	FFC_FLD(I32, ff_flow_summary, members_delayed),
	FFC_FLD(I32, ff_flow_summary, members_rate_limited),
	FFC_FLD(I32, ff_flow_summary, members_waiting_children),
	FFC_FLD(TEXT, ff_flow_summary, public_flow_state),
};

void
ff_flow_summary_clear(ff_flow_summary *x)
{
	FFC_CLEAR_RECORD(x, summary_fields);
}

ff_status
ff_client_project_flow_summary(ff_client *c, const char *flow_id, ff_flow_summary *out)
{
	ffc_params	p;

	FFC_REQUIRE(c, out != NULL, "out is required");
	ffc_params_init(&p);
	ffc_param_text(&p, flow_id);
	return FFC_RUN_ROW(c, &st_summary, &p, summary_fields, out, NULL);
}

/* ------------------------------------------------------------------------
 * reconcilers
 * ------------------------------------------------------------------------ */
ff_status
ff_client_reconcile_dependencies(ff_client *c, int32_t batch_size, int32_t *changed)
{
	return ffc_reconcile(c, &st_rec_dependencies, batch_size, changed);
}

ff_status
ff_client_reconcile_sibling_cancel(ff_client *c, int32_t batch_size, int32_t *changed)
{
	return ffc_reconcile(c, &st_rec_sibling_cancel, batch_size, changed);
}

ff_status
ff_client_reconcile_cancel_backlog(ff_client *c, int32_t batch_size, int32_t *changed)
{
	return ffc_reconcile(c, &st_rec_cancel_backlog, batch_size, changed);
}

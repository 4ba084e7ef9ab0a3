/*
 * test_flow.c - the flow functions of libflowfabric (client/src/flow.c):
 * every function's success path and each error kind it returns, checked for
 * the typed kind, the SQLSTATE, the retryable flag and the message's kind
 * prefix; then flows end to end: a diamond driven by claim / complete (each
 * downstream claimable in the transaction that completes its upstream), a
 * failure that skips every descendant (run by the worker runtime), sibling
 * cancel, flow cancel under each policy (with a member held elsewhere going
 * to the backlog), and a parent that creates children and returns
 * FF_JOB_WAIT_CHILDREN to the worker runtime.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"

static ff_client *c;

/* kind, SQLSTATE (sqlstate NULL: the kind's own), retryable flag, message prefix */
#define check_error_code(got, want, sqlstate, retryable, what) \
	expect_error(c, got, want, sqlstate, retryable, what)
#define check_error(got, want, what) \
	expect_error(c, got, want, NULL, ff_status_is_retryable(want), what)

static char *
new_flow(void)
{
	ff_flow_created r = {0};
	char	   *id;

	if (ff_client_create_flow(c, NULL, NULL, NULL, &r) != FF_OK)
	{
		printf("Bail out! create_flow: %s\n", ff_client_last_error(c)->message);
		exit(2);
	}
	id = r.flow_id;
	r.flow_id = NULL;
	ff_flow_created_clear(&r);
	return id;
}

/* creates an execution on the flow's partition (not added) */
static char *
flow_execution(const char *flow_id, const char *lane, const char *payload)
{
	ff_create_args a = {0};
	ff_create_result r = {0};
	char	   *id = NULL;

	if (ff_client_new_flow_execution_id(c, flow_id, &id) != FF_OK)
		return NULL;
	a.lane_id = lane;
	a.execution_id = id;
	a.input_payload = payload;
	a.input_payload_len = payload ? strlen(payload) : 0;
	if (ff_client_create_execution(c, &a, &r) != FF_OK)
		printf("# flow_execution: %s\n", ff_client_last_error(c)->message);
	ff_create_result_clear(&r);
	return id;
}

/* ... and adds it to the flow */
static char *
member(const char *flow_id, const char *lane, const char *payload)
{
	char	   *id = flow_execution(flow_id, lane, payload);

	if (id == NULL || ff_client_add_execution_to_flow(c, flow_id, id, NULL) != FF_OK)
		printf("# member: %s\n", ff_client_last_error(c)->message);
	return id;
}

/* the flow's graph revision as the test client sees it (also inside its
 * own transaction) */
static int64_t
revision(const char *flow_id)
{
	ff_flow_description d = {0};
	int64_t		r = -1;

	if (ff_client_describe_flow(c, flow_id, &d) == FF_OK && d.found)
		r = d.graph_revision;
	ff_flow_description_clear(&d);
	return r;
}

/* stages and applies upstream -> downstream; the edge id (malloc) */
static char *
edge(const char *flow_id, const char *up, const char *down, const char *data_ref)
{
	ff_edge_args a = {0};
	ff_edge_staged st = {0};
	char	   *id;

	a.flow_id = flow_id;
	a.upstream_execution_id = up;
	a.downstream_execution_id = down;
	a.expected_graph_revision = revision(flow_id);
	a.data_passing_ref = data_ref;
	if (ff_client_stage_dependency_edge(c, &a, &st) != FF_OK ||
		ff_client_apply_dependency_to_child(c, flow_id, st.edge_id, down, up, NULL) != FF_OK)
		printf("# edge: %s\n", ff_client_last_error(c)->message);
	id = st.edge_id;
	st.edge_id = NULL;
	ff_edge_staged_clear(&st);
	return id;
}

static char *
state_of(const char *execution_id)
{
	return admin_str("SELECT public_state FROM ff_execution "
					 "WHERE ff_format_execution_id(partition_key, execution_id) = '%s'", execution_id);
}

static bool
state_is(const char *execution_id, const char *want)
{
	char	   *s = state_of(execution_id);
	bool		same = s && strcmp(s, want) == 0;

	if (!same)
		printf("#   %s is %s, not %s\n", execution_id, s ? s : "(null)", want);
	free(s);
	return same;
}

static bool
claim_on(ff_client *cl, const char *lane, ff_claim_list *out, int32_t max)
{
	ff_claim_args a = {0};

	a.lane_id = lane;
	a.worker_id = "flow-test";
	a.worker_instance_id = "flow-test/1";
	a.max_claims = max;
	return ff_client_claim(cl, &a, out) == FF_OK;
}

static void
pg(ff_client *cl, const char *sql)
{
	PGresult   *res = PQexec(ff_client_pgconn(cl), sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		printf("# %s: %s", sql, PQerrorMessage(ff_client_pgconn(cl)));
	PQclear(res);
}

/* ------------------------------------------------------------------------ */
static void
test_pure(void)
{
	const char *forms[] = {
		"8D2C0F7E-5D1A-4F43-9A4E-0B6F7D1E2A3C", "8d2c0f7e5d1a4f439a4e0b6f7d1e2a3c",
		"{8d2c0f7e-5d1a-4f43-9a4e-0b6f7d1e2a3c}", "8d2c-0f7e-5d1a-4f43-9a4e-0b6f-7d1e-2a3c"
	};
	int			same = 0,
				forms_ok = 0;

	for (int i = 0; i < 20; i++)
	{
		char	   *u = admin_str("SELECT gen_random_uuid()");
		long long	p = admin_int("SELECT ff_flow_partition('%s')", u);

		if (u && p == ff_flow_partition(u))
			same++;
		free(u);
	}
	is_int(same, 20, "ff_flow_partition agrees with the engine (20 random flow ids)");
	for (int i = 0; i < 4; i++)
		if (ff_flow_partition(forms[i]) ==
			admin_int("SELECT ff_flow_partition('8d2c0f7e-5d1a-4f43-9a4e-0b6f7d1e2a3c')"))
			forms_ok++;
	is_int(forms_ok, 4, "ff_flow_partition accepts the uuid forms PostgreSQL accepts");
	ok(ff_flow_partition(NULL) == -1 && ff_flow_partition("nope") == -1 &&
	   ff_flow_partition("8d2c0f7e-5d1a-4f43-9a4e-0b6f7d1e2a3") == -1 &&
	   ff_flow_partition("8d2c0f7e-5d1a-4f43-9a4e-0b6f7d1e2a3c0") == -1 &&
	   ff_flow_partition("-8d2c0f7e5d1a4f439a4e0b6f7d1e2a3c") == -1 &&
	   ff_flow_partition("{8d2c0f7e5d1a4f439a4e0b6f7d1e2a3c") == -1,
	   "ff_flow_partition rejects what is not a uuid (-1)");
	is_str(ff_edge_policy_kind_name(FF_EDGE_POLICY_QUORUM), "quorum", "policy kind name");
	ok(ff_edge_policy_kind_from_name("any_of") == FF_EDGE_POLICY_ANY_OF &&
	   ff_edge_policy_kind_from_name("all_of") == FF_EDGE_POLICY_ALL_OF &&
	   ff_edge_policy_kind_from_name("most_of") == 0 && ff_edge_policy_kind_from_name(NULL) == 0 &&
	   ff_edge_policy_kind_name(0) == NULL && ff_edge_policy_kind_name(9) == NULL,
	   "policy kinds by name, unknown ones 0 / NULL");
	ok(strcmp(ff_flow_cancel_policy_name(FF_FLOW_CANCEL_PENDING), "cancel_pending") == 0 &&
	   ff_flow_cancel_policy_name(7) == NULL, "cancel policy names");
	ok(strcmp(ff_flow_eligibility_name(FF_FLOW_ELIGIBILITY_BLOCKED_BY_DEPENDENCIES),
			  "blocked_by_dependencies") == 0 && ff_flow_eligibility_name(0) == NULL,
	   "eligibility names");
	ok(FF_JOB_WAIT_CHILDREN == 6 && FF_EDGE_POLICY_ALL_OF == 1 && FF_FLOW_CANCEL_ALL == 0,
	   "stable enum values");
}

/* ------------------------------------------------------------------------ */
static void
test_create_and_add(void)
{
	const char *lane = unique_lane("fadd");
	ff_flow_created r = {0};
	ff_flow_member_added m = {0};
	ff_flow_description d = {0};
	char	   *given = admin_str("SELECT gen_random_uuid()");
	char	   *upper = strdup(given);
	char	   *f;
	char	   *id;
	char	   *id2;
	char	   *other;
	char	   *f2;
	char	   *solo;

	for (char *p = upper; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char) (*p - 'a' + 'A');
	is_status(ff_client_create_flow(c, NULL, NULL, NULL, &r), FF_OK, c, "create_flow with a minted id");
	ok(r.created && r.flow_id && ff_flow_partition(r.flow_id) >= 0, "created, the id is a uuid");
	ff_flow_created_clear(&r);
	is_status(ff_client_create_flow(c, upper, "etl", "tenant-a", &r), FF_OK, c, "create_flow with a given id");
	ok(r.created, "created = true");
	is_str(r.flow_id, given, "the returned flow id is canonical (lowercase)");
	ff_flow_created_clear(&r);
	is_status(ff_client_create_flow(c, given, "other", "other", &r), FF_OK, c, "create_flow again");
	ok(!r.created, "created = false (already_satisfied)");
	ff_flow_created_clear(&r);
	is_status(ff_client_describe_flow(c, given, &d), FF_OK, c, "describe the new flow");
	ok(d.found && strcmp(d.flow_kind, "etl") == 0 && strcmp(d.ns, "tenant-a") == 0 &&
	   strcmp(d.public_flow_state, "open") == 0 && d.graph_revision == 0 && d.node_count == 0 &&
	   d.n_edge_groups == 0 && d.edge_groups == NULL && d.cancelled_at_ms == 0 &&
	   d.cancel_reason == NULL && strcmp(d.tags_json, "{}") == 0,
	   "kind and namespace kept from the first create, open, empty");
	ff_flow_description_clear(&d);
	check_error_code(ff_client_create_flow(c, "not-a-uuid", NULL, NULL, &r), FF_ERR_INVALID_INPUT,
					 "22P02", false, "create_flow with a malformed id");
	ok(r.flow_id == NULL, "result left zeroed on error");
	check_error(ff_client_create_flow(c, NULL, "", NULL, &r), FF_ERR_INVALID_INPUT,
				"create_flow with an empty kind");
	is_status(ff_client_create_flow(c, NULL, NULL, NULL, NULL), FF_ERR_USAGE, c, "create_flow without out");

	f = given;
	id = NULL;
	is_status(ff_client_new_flow_execution_id(c, f, &id), FF_OK, c, "new_flow_execution_id");
	is_int(ff_execution_partition(id), ff_flow_partition(f), "the member id is on the flow's partition");
	ff_free(id);
	id = flow_execution(f, lane, "in");
	is_status(ff_client_add_execution_to_flow(c, f, id, &m), FF_OK, c, "add_execution_to_flow");
	ok(m.added && m.node_count == 1 && strcmp(m.execution_id, id) == 0, "added, node count 1");
	ff_flow_member_added_clear(&m);
	is_status(ff_client_add_execution_to_flow(c, f, id, &m), FF_OK, c, "add the same execution again");
	ok(!m.added && m.node_count == 1, "already a member: added = false, nothing changes");
	ff_flow_member_added_clear(&m);
	is_int(revision(f), 1, "graph revision +1 per added member, not for a repeat");
	id2 = flow_execution(f, lane, NULL);
	is_status(ff_client_add_execution_to_flow(c, f, id2, NULL), FF_OK, c, "add with out = NULL");
	is_int(revision(f), 2, "graph revision 2");

	other = admin_str("SELECT gen_random_uuid()");
	check_error(ff_client_add_execution_to_flow(c, other, id, &m), FF_ERR_FLOW_NOT_FOUND,
				"add to an unknown flow");
	ok(m.execution_id == NULL, "result left zeroed on error");
	{
		char	   *ghost = NULL;

		ff_client_new_flow_execution_id(c, f, &ghost);
		check_error(ff_client_add_execution_to_flow(c, f, ghost, NULL), FF_ERR_EXECUTION_NOT_FOUND,
					"add an execution that does not exist");
		ff_free(ghost);
	}
	solo = make_execution(c, lane, NULL, NULL);
	if (ff_execution_partition(solo) != ff_flow_partition(f))
	{
		check_error(ff_client_add_execution_to_flow(c, f, solo, NULL), FF_ERR_INVALID_INPUT,
					"add an execution of another partition");
		ok(strstr(ff_client_last_error(c)->message, "partition") != NULL,
		   "... the message names the partition");
	}
	else
		ok(1, "skipped: the lane's partition is the flow's");
	check_error(ff_client_add_execution_to_flow(c, f, "nope", NULL), FF_ERR_INVALID_INPUT,
				"add a malformed execution id");
	/* a second flow on the same partition */
	f2 = admin_str("SELECT u FROM (SELECT gen_random_uuid() AS u FROM generate_series(1, 5000)) x "
				   "WHERE ff_flow_partition(u) = ff_flow_partition('%s'::uuid) LIMIT 1", f);
	is_status(ff_client_create_flow(c, f2, NULL, NULL, &r), FF_OK, c, "a second flow on the same partition");
	ff_flow_created_clear(&r);
	check_error(ff_client_add_execution_to_flow(c, f2, id, NULL), FF_ERR_EXECUTION_ALREADY_IN_FLOW,
				"add a member of another flow");
	{
		ff_flow_cancel_args ca = {0};
		char	   *x = flow_execution(f2, lane, NULL);

		ca.flow_id = f2;
		ca.policy = FF_FLOW_CANCEL_FLOW_ONLY;
		is_status(ff_client_cancel_flow(c, &ca, NULL), FF_OK, c, "cancel the second flow (flow_only)");
		check_error(ff_client_add_execution_to_flow(c, f2, x, NULL), FF_ERR_FLOW_ALREADY_TERMINAL,
					"add to a cancelled flow");
		free(x);
	}
	{
		char	   *fid = NULL;

		is_status(ff_client_resolve_execution_flow_id(c, id, &fid), FF_OK, c, "resolve_execution_flow_id");
		is_str(fid, f, "a member resolves to its flow");
		ff_free(fid);
		is_status(ff_client_resolve_execution_flow_id(c, solo, &fid), FF_OK, c, "resolve a solo execution");
		ok(fid == NULL, "a solo execution has no flow (NULL)");
		check_error(ff_client_resolve_execution_flow_id(c, "nope", &fid), FF_ERR_INVALID_INPUT,
					"resolve a malformed id");
	}
	free(given);
	free(upper);
	free(other);
	free(f2);
	free(id);
	free(id2);
	free(solo);
}

/* ------------------------------------------------------------------------ */
static void
test_edges_and_policies(void)
{
	const char *lane = unique_lane("fedge");
	char	   *f = new_flow();
	char	   *a = member(f, lane, NULL);
	char	   *b = member(f, lane, NULL);
	char	   *d = member(f, lane, NULL);
	char	   *outsider = flow_execution(f, lane, NULL);
	char	   *unknown = admin_str("SELECT gen_random_uuid()");
	char	   *solo = make_execution(c, lane, NULL, NULL);
	ff_edge_args ea = {0};
	ff_edge_staged st = {0};
	ff_edge_applied ap = {0};
	ff_edge_group_policy pol = {0};
	bool		already = true;
	char	   *edge_ab;
	char	   *edge_id = admin_str("SELECT gen_random_uuid()");

	/* policies first: before any edge into the downstream */
	pol.kind = FF_EDGE_POLICY_QUORUM;
	pol.k = 2;
	pol.on_satisfied = FF_ON_SATISFIED_LET_RUN;
	is_status(ff_client_set_edge_group_policy(c, f, d, &pol, &already), FF_OK, c, "set_edge_group_policy quorum 2");
	ok(!already, "already_set = false the first time");
	is_status(ff_client_set_edge_group_policy(c, f, d, &pol, &already), FF_OK, c, "the same policy again");
	ok(already, "already_set = true");
	pol.k = 0;
	check_error(ff_client_set_edge_group_policy(c, f, d, &pol, NULL), FF_ERR_INVALID_INPUT,
				"quorum k 0");
	ok(strstr(ff_client_last_error(c)->message, "quorum k must be >= 1") != NULL, "... the engine says why");
	pol.kind = FF_EDGE_POLICY_ANY_OF;
	pol.k = 3;
	check_error(ff_client_set_edge_group_policy(c, f, d, &pol, NULL), FF_ERR_INVALID_INPUT, "any_of with k");
	pol.kind = 0;
	is_status(ff_client_set_edge_group_policy(c, f, d, &pol, NULL), FF_ERR_USAGE, c, "policy kind 0 -> usage");
	pol.kind = FF_EDGE_POLICY_ANY_OF;
	pol.k = 0;
	pol.on_satisfied = 9;
	is_status(ff_client_set_edge_group_policy(c, f, d, &pol, NULL), FF_ERR_USAGE, c, "on_satisfied 9 -> usage");
	is_status(ff_client_set_edge_group_policy(c, f, d, NULL, NULL), FF_ERR_USAGE, c, "NULL policy -> usage");
	pol.on_satisfied = FF_ON_SATISFIED_DEFAULT;
	check_error(ff_client_set_edge_group_policy(c, unknown, d, &pol, NULL), FF_ERR_FLOW_NOT_FOUND,
				"policy on an unknown flow");
	check_error(ff_client_set_edge_group_policy(c, f, outsider, &pol, NULL), FF_ERR_EXECUTION_NOT_IN_FLOW,
				"policy for a non-member");

	/* staging */
	ea.flow_id = f;
	ea.upstream_execution_id = a;
	ea.downstream_execution_id = b;
	ea.expected_graph_revision = 3;
	ea.edge_id = edge_id;
	ea.data_passing_ref = "rows";
	is_status(ff_client_stage_dependency_edge(c, &ea, &st), FF_OK, c, "stage a -> b with a given edge id");
	is_str(st.edge_id, edge_id, "the edge id");
	is_int(st.new_graph_revision, 4, "new graph revision 4");
	ff_edge_staged_clear(&st);
	check_error(ff_client_stage_dependency_edge(c, &ea, &st), FF_ERR_STALE_GRAPH_REVISION,
				"stale graph revision");
	ok(ff_client_last_error(c)->retryable, "stale_graph_revision is retryable");
	ok(st.edge_id == NULL, "result left zeroed on error");
	ea.expected_graph_revision = 4;
	check_error(ff_client_stage_dependency_edge(c, &ea, &st), FF_ERR_DEPENDENCY_ALREADY_EXISTS,
				"stage an edge id already used");
	ok(ff_client_last_error(c)->detail && strstr(ff_client_last_error(c)->detail, edge_id),
	   "... the existing edge is in the error detail");
	ea.edge_id = NULL;
	ea.upstream_execution_id = b;
	ea.downstream_execution_id = a;
	check_error(ff_client_stage_dependency_edge(c, &ea, &st), FF_ERR_CYCLE_DETECTED, "stage b -> a (a cycle)");
	ea.upstream_execution_id = a;
	check_error(ff_client_stage_dependency_edge(c, &ea, &st), FF_ERR_SELF_REFERENCING_EDGE, "stage a -> a");
	ea.downstream_execution_id = outsider;
	check_error(ff_client_stage_dependency_edge(c, &ea, &st), FF_ERR_EXECUTION_NOT_IN_FLOW,
				"stage to a non-member");
	ea.downstream_execution_id = b;
	ea.flow_id = unknown;
	check_error(ff_client_stage_dependency_edge(c, &ea, &st), FF_ERR_FLOW_NOT_FOUND, "stage in an unknown flow");
	ea.flow_id = "zz";
	check_error_code(ff_client_stage_dependency_edge(c, &ea, &st), FF_ERR_INVALID_INPUT, "22P02", false,
					 "stage with a malformed flow id");
	is_status(ff_client_stage_dependency_edge(c, NULL, &st), FF_ERR_USAGE, c, "stage without args -> usage");
	ea.flow_id = f;
	ea.upstream_execution_id = a;
	ea.downstream_execution_id = d;
	ea.data_passing_ref = NULL;
	is_status(ff_client_stage_dependency_edge(c, &ea, &st), FF_OK, c, "stage a -> d (minted edge id)");
	ok(st.edge_id && strlen(st.edge_id) == 36 && st.new_graph_revision == 5, "a minted uuid, revision 5");

	/* describe_edge before applying */
	{
		ff_edge_info e = {0};
		bool		found = false;

		is_status(ff_client_describe_edge(c, f, edge_id, &e, &found), FF_OK, c, "describe_edge");
		ok(found && strcmp(e.edge_id, edge_id) == 0 && strcmp(e.flow_id, f) == 0 &&
		   strcmp(e.upstream_execution_id, a) == 0 && strcmp(e.downstream_execution_id, b) == 0 &&
		   strcmp(e.dependency_kind, "success_only") == 0 &&
		   strcmp(e.satisfaction_condition, "all_required") == 0 &&
		   strcmp(e.data_passing_ref, "rows") == 0 && strcmp(e.edge_state, "pending") == 0 &&
		   e.created_at_ms > 0 && strcmp(e.created_by, "engine") == 0 && e.applied_at_ms == 0 &&
		   e.resolution == NULL && e.resolved_at_ms == 0,
		   "every column of a staged edge");
		ff_edge_info_clear(&e);
		is_status(ff_client_describe_edge(c, f, unknown, &e, &found), FF_OK, c, "describe an unknown edge");
		ok(!found && e.edge_id == NULL, "found = false, zeroed");
		check_error_code(ff_client_describe_edge(c, f, "x", &e, NULL), FF_ERR_INVALID_INPUT, "22P02", false,
						 "describe_edge with a malformed edge id");
	}

	/* applying */
	check_error(ff_client_set_edge_group_policy(c, f, b, &pol, NULL), FF_ERR_INVALID_INPUT,
				"policy after an edge was staged");
	ok(strstr(ff_client_last_error(c)->message, "edge_group_policy_already_fixed") != NULL,
	   "... edge_group_policy_already_fixed");
	check_error(ff_client_apply_dependency_to_child(c, f, edge_id, d, NULL, &ap), FF_ERR_INVALID_INPUT,
				"apply to another downstream than the edge's");
	check_error(ff_client_apply_dependency_to_child(c, f, edge_id, b, d, &ap), FF_ERR_INVALID_INPUT,
				"apply naming another upstream than the edge's");
	check_error(ff_client_apply_dependency_to_child(c, f, unknown, b, NULL, &ap), FF_ERR_NOT_FOUND,
				"apply an unknown edge");
	ok(ff_client_last_error(c)->detail && strstr(ff_client_last_error(c)->detail, "edge"),
	   "... detail names the entity (edge)");
	check_error(ff_client_apply_dependency_to_child(c, unknown, edge_id, b, NULL, &ap), FF_ERR_FLOW_NOT_FOUND,
				"apply in an unknown flow");
	if (ff_execution_partition(solo) != ff_flow_partition(f))
		check_error(ff_client_apply_dependency_to_child(c, f, edge_id, solo, NULL, &ap),
					FF_ERR_EXECUTION_NOT_IN_FLOW, "apply to an execution of another partition");
	else
		ok(1, "skipped: the lane's partition is the flow's");
	is_status(ff_client_apply_dependency_to_child(c, f, edge_id, b, a, &ap), FF_OK, c, "apply a -> b");
	ok(!ap.already_applied && ap.unsatisfied_count == 1, "applied, 1 unsatisfied");
	ok(state_is(b, "waiting_children"), "the downstream is blocked (waiting_children)");
	is_status(ff_client_apply_dependency_to_child(c, f, edge_id, b, NULL, &ap), FF_OK, c, "apply again");
	ok(ap.already_applied && ap.unsatisfied_count == 1, "already_applied");
	is_status(ff_client_apply_dependency_to_child(c, f, st.edge_id, d, NULL, NULL), FF_OK, c,
			  "apply a -> d (out = NULL)");
	edge_ab = edge_id;

	/* lists */
	{
		ff_edge_list l = {0};

		is_status(ff_client_list_edges(c, f, FF_EDGES_OUTGOING, a, &l), FF_OK, c, "list_edges outgoing");
		ok(l.count == 2 && strcmp(l.items[0].upstream_execution_id, a) == 0 &&
		   strcmp(l.items[0].edge_state, "applied") == 0 && l.items[0].applied_at_ms > 0 &&
		   strcmp(l.items[0].edge_id, l.items[1].edge_id) < 0, "two applied edges out of a, by edge id");
		ff_edge_list_clear(&l);
		is_status(ff_client_list_edges(c, f, FF_EDGES_INCOMING, b, &l), FF_OK, c, "list_edges incoming");
		ok(l.count == 1 && strcmp(l.items[0].edge_id, edge_ab) == 0, "one edge into b");
		ff_edge_list_clear(&l);
		is_status(ff_client_list_edges(c, f, FF_EDGES_INCOMING, a, &l), FF_OK, c, "list_edges of a root");
		ok(l.count == 0 && l.items == NULL, "none into a");
		is_status(ff_client_list_edges(c, unknown, FF_EDGES_OUTGOING, a, &l), FF_OK, c,
				  "list_edges of an unknown flow");
		ok(l.count == 0, "no rows");
		is_status(ff_client_list_edges(c, f, 0, a, &l), FF_ERR_USAGE, c, "direction 0 -> usage");
		check_error(ff_client_list_edges(c, f, FF_EDGES_OUTGOING, "nope", &l), FF_ERR_INVALID_INPUT,
					"list_edges of a malformed id");
		check_error(ff_client_list_edges(c, f, FF_EDGES_OUTGOING, NULL, &l), FF_ERR_INVALID_INPUT,
					"list_edges without an execution id");
	}

	/* describe: the groups */
	{
		ff_flow_description fd = {0};
		ff_edge_group_info *gb = NULL,
				   *gd = NULL;

		is_status(ff_client_describe_flow(c, f, &fd), FF_OK, c, "describe_flow");
		ok(fd.found && fd.graph_revision == 5 && fd.node_count == 3 && fd.edge_count == 2 &&
		   strcmp(fd.public_flow_state, "blocked") == 0, "revision 5, 3 members, 2 edges, blocked");
		for (size_t i = 0; i < fd.n_edge_groups; i++)
		{
			if (strcmp(fd.edge_groups[i].downstream_execution_id, b) == 0)
				gb = &fd.edge_groups[i];
			if (strcmp(fd.edge_groups[i].downstream_execution_id, d) == 0)
				gd = &fd.edge_groups[i];
		}
		ok(fd.n_edge_groups == 2 && gb && gd, "two edge groups (b and d)");
		if (gb && gd)
		{
			ok(gb->policy.kind == FF_EDGE_POLICY_ALL_OF && gb->policy.k == 0 &&
			   gb->policy.on_satisfied == FF_ON_SATISFIED_DEFAULT && gb->state == FF_EDGE_GROUP_PENDING &&
			   gb->k_target == 1 && gb->total_deps == 1 && gb->applied_count == 1 &&
			   gb->satisfied_count == 0 && gb->running_count == 1 && gb->state_changed_at_ms == 0 &&
			   !gb->cancel_siblings_fired && gb->cancel_siblings_reason == NULL &&
			   gb->n_cancel_siblings_pending == 0, "b's group: all_of, pending, 1 of 1 open");
			ok(gd->policy.kind == FF_EDGE_POLICY_QUORUM && gd->policy.k == 2 &&
			   gd->policy.on_satisfied == FF_ON_SATISFIED_LET_RUN && gd->k_target == 2 &&
			   gd->total_deps == 1 && gd->state == FF_EDGE_GROUP_PENDING,
			   "d's group: quorum 2 let_run, typed, k_target 2 over 1 edge, pending");
		}
		ff_flow_description_clear(&fd);
		is_status(ff_client_describe_flow(c, unknown, &fd), FF_OK, c, "describe an unknown flow");
		ok(!fd.found && fd.flow_id == NULL, "found = false");
		check_error_code(ff_client_describe_flow(c, "zz", &fd), FF_ERR_INVALID_INPUT, "22P02", false,
						 "describe a malformed flow id");
	}

	/* eligibility, tags, summary, list */
	{
		ff_flow_eligibility e = 0;
		char	   *v = NULL;
		ff_flow_summary s = {0};
		ff_flow_list l = {0};
		char		pk[32];
		bool		listed = false;

		is_status(ff_client_evaluate_flow_eligibility(c, a, &e), FF_OK, c, "evaluate_flow_eligibility");
		is_int(e, FF_FLOW_ELIGIBILITY_ELIGIBLE, "the root is eligible");
		ff_client_evaluate_flow_eligibility(c, b, &e);
		is_int(e, FF_FLOW_ELIGIBILITY_BLOCKED_BY_DEPENDENCIES, "b is blocked_by_dependencies");
		ff_client_evaluate_flow_eligibility(c, "{fp:1}:00000000-0000-4000-8000-000000000000", &e);
		is_int(e, FF_FLOW_ELIGIBILITY_NOT_FOUND, "an unknown execution is not_found");
		check_error(ff_client_evaluate_flow_eligibility(c, "{fp:1}:nope", &e), FF_ERR_INVALID_INPUT,
					"eligibility of a malformed id");

		is_status(ff_client_set_flow_tag(c, f, "app.owner", "ada"), FF_OK, c, "set_flow_tag");
		is_status(ff_client_get_flow_tag(c, f, "app.owner", &v), FF_OK, c, "get_flow_tag");
		is_str(v, "ada", "the tag's value");
		ff_free(v);
		is_status(ff_client_get_flow_tag(c, f, "app.none", &v), FF_OK, c, "get a missing tag");
		ok(v == NULL, "NULL");
		check_error(ff_client_set_flow_tag(c, f, "Bad Key", "x"), FF_ERR_INVALID_TAG_KEY, "set a bad tag key");
		check_error(ff_client_get_flow_tag(c, f, "Bad Key", &v), FF_ERR_INVALID_TAG_KEY, "get a bad tag key");
		check_error(ff_client_set_flow_tag(c, unknown, "app.owner", "x"), FF_ERR_FLOW_NOT_FOUND,
					"set a tag on an unknown flow");
		check_error(ff_client_set_flow_tag(c, f, "app.owner", NULL), FF_ERR_INVALID_INPUT, "set a NULL value");

		is_status(ff_client_project_flow_summary(c, f, &s), FF_OK, c, "project_flow_summary");
		ok(s.projected && s.total_members == 3 && s.members_waiting == 1 &&
		   s.members_waiting_children == 2 && strcmp(s.public_flow_state, "blocked") == 0,
		   "3 members: 1 waiting, 2 waiting_children; blocked");
		ff_flow_summary_clear(&s);
		is_int(admin_int("SELECT members_waiting_children FROM ff_flow_summary WHERE flow_id = '%s'", f), 2,
			   "the summary is stored");
		check_error(ff_client_project_flow_summary(c, unknown, &s), FF_ERR_FLOW_NOT_FOUND,
					"summary of an unknown flow");

		snprintf(pk, sizeof(pk), "{fp:%d}", ff_flow_partition(f));
		is_status(ff_client_list_flows(c, pk, NULL, 1000, &l), FF_OK, c, "list_flows of the partition");
		for (size_t i = 0; i < l.count; i++)
			if (strcmp(l.items[i].flow_id, f) == 0)
				listed = strcmp(l.items[i].status, "active") == 0 &&
					strcmp(l.items[i].public_flow_state, "blocked") == 0 && l.items[i].created_at_ms > 0;
		ok(listed, "the flow is listed: active, blocked");
		if (l.count > 0)
		{
			ff_flow_list l2 = {0};
			char	   *first = strdup(l.items[0].flow_id);

			ff_flow_list_clear(&l);
			is_status(ff_client_list_flows(c, pk, first, 0, &l2), FF_OK, c, "list_flows after a cursor");
			ok(l2.count == 0 || strcmp(l2.items[0].flow_id, first) > 0, "the page starts after the cursor");
			ff_flow_list_clear(&l2);
			free(first);
		}
		check_error(ff_client_list_flows(c, "{fp:999}", NULL, 10, &l), FF_ERR_INVALID_INPUT,
					"list_flows of a malformed partition");
	}
	ff_edge_staged_clear(&st);
	free(f);
	free(a);
	free(b);
	free(d);
	free(outsider);
	free(unknown);
	free(solo);
	free(edge_id);
}

/* ------------------------------------------------------------------------
 * the diamond, by claim / complete
 * ------------------------------------------------------------------------ */
static void
test_diamond(void)
{
	const char *lane = unique_lane("diamond");
	char	   *f = new_flow();
	char	   *ids[4];				/* a, b, c, d */
	char	   *e[4];
	ff_claim_list l = {0};
	long long	cursor = admin_int("SELECT coalesce(max(event_id), 0) FROM ff_completion_event");
	char	   *state = NULL;

	/* build the graph in one transaction */
	pg(c, "BEGIN");
	for (int i = 0; i < 4; i++)
		ids[i] = member(f, lane, i == 0 ? "input-a" : NULL);
	e[0] = edge(f, ids[0], ids[1], "from_a");
	e[1] = edge(f, ids[0], ids[2], NULL);
	e[2] = edge(f, ids[1], ids[3], NULL);
	e[3] = edge(f, ids[2], ids[3], NULL);
	ok(admin_int("SELECT count(*) FROM ff_execution WHERE flow_id = '%s'", f) == 0,
	   "nothing of the graph is visible before COMMIT");
	pg(c, "COMMIT");
	ok(state_is(ids[0], "waiting") && state_is(ids[1], "waiting_children") &&
	   state_is(ids[2], "waiting_children") && state_is(ids[3], "waiting_children"),
	   "after COMMIT: a waiting, b c d waiting_children");

	ok(claim_on(c, lane, &l, 10) && l.count == 1 && strcmp(l.items[0].execution_id, ids[0]) == 0,
	   "only a is claimable");
	/* complete a inside a transaction: b and c become claimable in it */
	pg(c, "BEGIN");
	is_status(ff_client_complete(c, &l.items[0].handle, "result-a", 8), FF_OK, c, "complete a (in a transaction)");
	is_status(ff_client_read_execution_state(c, ids[1], &state), FF_OK, c, "read b's state in that transaction");
	is_str(state, "waiting", "b is claimable in the transaction that completed a");
	ff_free(state);
	ok(state_is(ids[1], "waiting_children") && state_is(ids[2], "waiting_children"),
	   "... and still blocked for everyone else until it commits");
	pg(c, "COMMIT");
	ok(state_is(ids[1], "waiting") && state_is(ids[2], "waiting") && state_is(ids[3], "waiting_children"),
	   "after COMMIT: b and c waiting, d still blocked");
	ff_claim_list_clear(&l);

	ok(claim_on(c, lane, &l, 10) && l.count == 2, "b and c are claimable together");
	if (l.count == 2)
	{
		int			ib = strcmp(l.items[0].execution_id, ids[1]) == 0 ? 0 : 1;

		ok(l.items[ib].input_payload.data && l.items[ib].input_payload.len == 8 &&
		   memcmp(l.items[ib].input_payload.data, "result-a", 8) == 0,
		   "b's input is a's result (data_passing_ref)");
		is_status(ff_client_complete(c, &l.items[ib].handle, NULL, 0), FF_OK, c, "complete b");
		ok(state_is(ids[3], "waiting_children"), "d waits for c too (all_of)");
		is_status(ff_client_complete(c, &l.items[1 - ib].handle, NULL, 0), FF_OK, c, "complete c");
		ok(state_is(ids[3], "waiting"), "d is claimable at once");
		is_status(ff_client_complete(c, &l.items[ib].handle, NULL, 0), FF_OK, c,
				  "complete b again (a replay)");
	}
	ff_claim_list_clear(&l);
	{
		ff_flow_description d = {0};
		ff_edge_group_info *gd = NULL;
		int			satisfied = 0;

		ff_client_describe_flow(c, f, &d);
		for (size_t i = 0; i < d.n_edge_groups; i++)
		{
			satisfied += d.edge_groups[i].state == FF_EDGE_GROUP_SATISFIED;
			if (strcmp(d.edge_groups[i].downstream_execution_id, ids[3]) == 0)
				gd = &d.edge_groups[i];
		}
		ok(d.n_edge_groups == 3 && satisfied == 3, "three edge groups, all satisfied");
		ok(gd && gd->satisfied_count == 2 && gd->total_deps == 2 && gd->running_count == 0 &&
		   gd->state_changed_at_ms > 0, "d's group: 2 successes (the replayed completion counted once)");
		is_str(d.public_flow_state, "open", "the flow is open (d waiting)");
		ff_flow_description_clear(&d);
	}
	ok(claim_on(c, lane, &l, 10) && l.count == 1 && strcmp(l.items[0].execution_id, ids[3]) == 0,
	   "d claimed");
	if (l.count == 1)
		is_status(ff_client_complete(c, &l.items[0].handle, NULL, 0), FF_OK, c, "complete d");
	ff_claim_list_clear(&l);
	{
		ff_flow_description d = {0};
		ff_completion_event_list ev = {0};
		int			mine = 0;

		ff_client_describe_flow(c, f, &d);
		is_str(d.public_flow_state, "completed", "the flow is completed");
		ff_flow_description_clear(&d);
		is_status(ff_client_completion_events(c, cursor, 1000, &ev), FF_OK, c, "completion events");
		for (size_t i = 0; i < ev.count; i++)
			if (ev.items[i].flow_id && strcmp(ev.items[i].flow_id, f) == 0 &&
				strcmp(ev.items[i].outcome, "success") == 0)
				mine++;
		is_int(mine, 4, "four success events carry the flow id");
		ff_completion_event_list_clear(&ev);
	}
	for (int i = 0; i < 4; i++)
	{
		free(ids[i]);
		free(e[i]);
	}
	free(f);
}

/* ------------------------------------------------------------------------
 * a failure skips the descendants (worker runtime)
 * ------------------------------------------------------------------------ */
typedef struct fail_ctx
{
	atomic_int	calls;
} fail_ctx;

static ff_job_outcome
boom_handler(ff_job *job, void *user)
{
	fail_ctx   *x = user;
	size_t		len = 0;
	const unsigned char *in = ff_job_input(job, &len);

	atomic_fetch_add(&x->calls, 1);
	if (in && len == 4 && memcmp(in, "boom", 4) == 0)
	{
		ff_job_set_failure(job, "exploded", FF_CLASS_PERMANENT, NULL, 0);
		return FF_JOB_FAIL;
	}
	ff_job_set_result(job, "ok", 2);
	return FF_JOB_COMPLETE;
}

static void
quiet_log(void *user, ff_log_level level, const char *message)
{
	(void) user;
	if (level >= FF_LOG_WARNING)
		printf("# worker: %s\n", message);
}

static void
test_failure_skips(void)
{
	const char *lane = unique_lane("skip");
	char	   *f = new_flow();
	char	   *ids[5];				/* a (boom), b, c, d: the diamond; z: independent */
	char	   *e[4];
	fail_ctx	x = {0};
	ff_worker_options o = {0};
	ff_worker_stats st = {0};
	long long	cursor = admin_int("SELECT coalesce(max(event_id), 0) FROM ff_completion_event");

	pg(c, "BEGIN");
	for (int i = 0; i < 5; i++)
		ids[i] = member(f, lane, i == 0 ? "boom" : "fine");
	e[0] = edge(f, ids[0], ids[1], NULL);
	e[1] = edge(f, ids[0], ids[2], NULL);
	e[2] = edge(f, ids[1], ids[3], NULL);
	e[3] = edge(f, ids[2], ids[3], NULL);
	pg(c, "COMMIT");
	o.exit_when_idle = true;
	o.stats = &st;
	o.log = quiet_log;
	o.idle_backoff_max_ms = 50;
	is_status(ff_worker_run(test_conninfo(), lane, NULL, 0, 2, boom_handler, &x, &o, NULL), FF_OK, NULL,
			  "the worker runtime runs the flow until idle");
	is_int(atomic_load(&x.calls), 2, "the handler ran for a and z only");
	ok(st.failed == 1 && st.completed == 1, "stats: 1 failed, 1 completed");
	ok(state_is(ids[0], "failed") && state_is(ids[1], "skipped") && state_is(ids[2], "skipped") &&
	   state_is(ids[3], "skipped") && state_is(ids[4], "completed"),
	   "a failed; b, c and d skipped by a's failure; z completed");
	{
		ff_flow_description d = {0};
		ff_flow_summary s = {0};
		ff_completion_event_list ev = {0};
		int			skipped = 0,
					failed = 0;

		int			impossible = 0;

		ff_client_describe_flow(c, f, &d);
		is_str(d.public_flow_state, "failed", "the flow is failed");
		for (size_t i = 0; i < d.n_edge_groups; i++)
			impossible += d.edge_groups[i].state == FF_EDGE_GROUP_IMPOSSIBLE;
		ok(d.n_edge_groups == 3 && impossible == 3, "all three edge groups are impossible");
		ff_flow_description_clear(&d);
		ff_client_project_flow_summary(c, f, &s);
		ok(s.members_failed == 1 && s.members_skipped == 3 && s.members_completed == 1,
		   "summary: 1 failed, 3 skipped, 1 completed");
		ff_flow_summary_clear(&s);
		ff_client_completion_events(c, cursor, 1000, &ev);
		for (size_t i = 0; i < ev.count; i++)
			if (ev.items[i].flow_id && strcmp(ev.items[i].flow_id, f) == 0)
			{
				skipped += strcmp(ev.items[i].outcome, "skipped") == 0;
				failed += strcmp(ev.items[i].outcome, "failed") == 0;
			}
		ok(skipped == 3 && failed == 1, "completion events: 1 failed, 3 skipped");
		ff_completion_event_list_clear(&ev);
	}
	{
		ff_flow_eligibility el = 0;

		ff_client_evaluate_flow_eligibility(c, ids[3], &el);
		is_int(el, FF_FLOW_ELIGIBILITY_NOT_RUNNABLE, "a skipped member is not_runnable");
	}
	for (int i = 0; i < 5; i++)
		free(ids[i]);
	for (int i = 0; i < 4; i++)
		free(e[i]);
	free(f);
}

/* ------------------------------------------------------------------------
 * any_of with cancel_remaining: the winner cancels its sibling
 * ------------------------------------------------------------------------ */
static void
test_sibling_cancel(void)
{
	const char *lane = unique_lane("sib");
	char	   *f = new_flow();
	char	   *u1,
			   *u2,
			   *d;
	char	   *e1,
			   *e2;
	ff_edge_group_policy pol = {FF_EDGE_POLICY_ANY_OF, 0, FF_ON_SATISFIED_CANCEL_REMAINING};
	ff_claim_list l = {0};
	ff_flow_description fd = {0};
	int32_t		n = -1;

	u1 = member(f, lane, NULL);
	u2 = member(f, lane, NULL);
	d = member(f, lane, NULL);
	is_status(ff_client_set_edge_group_policy(c, f, d, &pol, NULL), FF_OK, c, "any_of, cancel_remaining");
	e1 = edge(f, u1, d, NULL);
	e2 = edge(f, u2, d, NULL);
	ok(claim_on(c, lane, &l, 2) && l.count == 2, "both upstreams claimed");
	if (l.count == 2)
	{
		int			i1 = strcmp(l.items[0].execution_id, u1) == 0 ? 0 : 1;

		is_status(ff_client_complete(c, &l.items[i1].handle, NULL, 0), FF_OK, c, "complete u1");
		ok(state_is(d, "waiting") && state_is(u2, "cancelled"), "d claimable, u2 cancelled as a sibling");
		check_error(ff_client_complete(c, &l.items[1 - i1].handle, NULL, 0), FF_ERR_EXECUTION_NOT_ACTIVE,
					"the cancelled sibling's worker completes");
	}
	ff_claim_list_clear(&l);
	ff_client_describe_flow(c, f, &fd);
	ok(fd.n_edge_groups == 1 && fd.edge_groups[0].cancel_siblings_fired &&
	   fd.edge_groups[0].cancel_siblings_reason &&
	   strcmp(fd.edge_groups[0].cancel_siblings_reason, "sibling_quorum_satisfied") == 0 &&
	   fd.edge_groups[0].n_cancel_siblings_pending == 0 &&
	   fd.edge_groups[0].policy.on_satisfied == FF_ON_SATISFIED_CANCEL_REMAINING &&
	   fd.edge_groups[0].state == FF_EDGE_GROUP_SATISFIED,
	   "describe: satisfied, siblings cancelled (sibling_quorum_satisfied), none pending");
	ff_flow_description_clear(&fd);

	is_status(ff_client_reconcile_dependencies(c, 0, &n), FF_OK, c, "reconcile_dependencies");
	ok(n >= 0, "... changed %d", (int) n);
	is_status(ff_client_reconcile_sibling_cancel(c, 10, &n), FF_OK, c, "reconcile_sibling_cancel");
	is_status(ff_client_reconcile_cancel_backlog(c, 0, NULL), FF_OK, c, "reconcile_cancel_backlog (changed NULL)");
	check_error(ff_client_reconcile_dependencies(c, -5, &n), FF_ERR_INVALID_INPUT, "reconcile batch -5");
	ok(n == 0, "changed is 0 on error");
	check_error(ff_client_reconcile_cancel_backlog(c, 100001, NULL), FF_ERR_INVALID_INPUT,
				"reconcile batch 100001");
	free(u1);
	free(u2);
	free(d);
	free(e1);
	free(e2);
	free(f);
}

/* ------------------------------------------------------------------------
 * wait_children by hand
 * ------------------------------------------------------------------------ */
static void
test_wait_children(void)
{
	const char *lane = unique_lane("wait");
	char	   *f = new_flow();
	char	   *parent = member(f, lane, "parent");
	char	   *child = NULL;
	char	   *e1;
	char	   *state = NULL;
	char	   *solo;
	ff_claimed	p = {0};
	ff_claimed	ch = {0};
	ff_claimed	again = {0};

	ok(claim_one(c, lane, 0, &p), "the parent is claimed");
	child = member(f, lane, "child");
	e1 = edge(f, child, parent, NULL);
	ok(state_is(parent, "active"), "an active downstream is not blocked by applying");
	is_status(ff_client_wait_children(c, &p.handle, &state), FF_OK, c, "wait_children");
	is_str(state, "waiting_children", "the parent waits for its child");
	ff_free(state);
	state = NULL;
	check_error(ff_client_wait_children(c, &p.handle, &state), FF_ERR_EXECUTION_NOT_ACTIVE,
				"wait_children again with the released lease");
	ok(state == NULL && ff_status_is_lease_lost(FF_ERR_EXECUTION_NOT_ACTIVE), "a lease-lost kind, no state");
	ok(claim_one(c, lane, 0, &ch) && strcmp(ch.execution_id, child) == 0, "only the child is claimable");
	is_status(ff_client_complete(c, &ch.handle, NULL, 0), FF_OK, c, "complete the child");
	ok(claim_one(c, lane, 0, &again) && strcmp(again.execution_id, parent) == 0,
	   "the parent is claimable again");
	ok(again.attempt_index == p.attempt_index && again.lease_epoch > p.lease_epoch,
	   "the same attempt (%d), a higher lease epoch", (int) again.attempt_index);
	is_status(ff_client_wait_children(c, &again.handle, &state), FF_OK, c,
			  "wait_children with nothing left to wait for");
	is_str(state, "waiting", "claimable at once (waiting)");
	ff_free(state);
	ff_claimed_clear(&again);
	ok(claim_one(c, lane, 0, &again), "claimed once more");
	is_status(ff_client_wait_children(c, &again.handle, NULL), FF_OK, c, "wait_children with state_out NULL");
	ff_claimed_clear(&again);

	solo = make_execution(c, lane, NULL, NULL);
	ff_claimed_clear(&ch);
	while (claim_one(c, lane, 0, &ch) && strcmp(ch.execution_id, solo) != 0)
		ff_claimed_clear(&ch);
	check_error(ff_client_wait_children(c, &ch.handle, NULL), FF_ERR_EXECUTION_NOT_IN_FLOW,
				"wait_children outside any flow");
	is_status(ff_client_complete(c, &ch.handle, NULL, 0), FF_OK, c, "... the execution kept its lease");
	check_error(ff_client_wait_children(c, NULL, NULL), FF_ERR_INVALID_INPUT, "wait_children without a handle");
	ff_claimed_clear(&p);
	ff_claimed_clear(&ch);
	free(f);
	free(parent);
	free(child);
	free(e1);
	free(solo);
}

/* ------------------------------------------------------------------------
 * flow cancel
 * ------------------------------------------------------------------------ */
static bool
contains(char **items, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(items[i], id) == 0)
			return true;
	return false;
}

static void
test_cancel(void)
{
	const char *lane = unique_lane("fcancel");
	char	   *f = new_flow();
	char	   *active = member(f, lane, NULL);
	char	   *waiting;
	char	   *blocked;
	char	   *held;
	char	   *done;
	char	   *e1;
	char	   *unknown = admin_str("SELECT gen_random_uuid()");
	ff_claimed	run = {0};
	ff_claimed	fin = {0};
	ff_flow_cancel_args ca = {0};
	ff_flow_cancel_result r = {0};
	int32_t		n = 0;

	ok(claim_one(c, lane, 0, &run), "one member runs");
	done = member(f, lane, NULL);
	ok(claim_one(c, lane, 0, &fin), "another is claimed ...");
	ff_client_complete(c, &fin.handle, NULL, 0);
	waiting = member(f, lane, NULL);
	blocked = member(f, lane, NULL);
	e1 = edge(f, waiting, blocked, NULL);
	held = member(f, lane, NULL);

	/* cancel_pending, with one member locked by another transaction */
	admin_exec("BEGIN");
	admin_exec("SELECT 1 FROM ff_execution WHERE ff_format_execution_id(partition_key, execution_id) = '%s' "
			   "FOR UPDATE", held);
	ca.flow_id = f;
	ca.policy = FF_FLOW_CANCEL_PENDING;
	ca.reason = "test_reason";
	is_status(ff_client_cancel_flow(c, &ca, &r), FF_OK, c, "cancel_flow cancel_pending (no wait)");
	ok(r.scheduled && strcmp(r.cancellation_policy, "cancel_pending") == 0,
	   "cancellation_scheduled: a member is held elsewhere");
	ok(r.n_member_execution_ids == 2 && contains(r.member_execution_ids, 2, waiting) &&
	   contains(r.member_execution_ids, 2, blocked), "the waiting and the blocked member are cancelled");
	ok(r.n_pending_execution_ids == 1 && strcmp(r.pending_execution_ids[0], held) == 0,
	   "the held member is left to the backlog");
	ff_flow_cancel_result_clear(&r);
	ff_flow_cancel_result_clear(&r);
	ok(state_is(active, "active") && state_is(done, "completed") && state_is(waiting, "cancelled") &&
	   state_is(blocked, "cancelled"), "the running member runs on, the finished one is untouched");
	admin_exec("COMMIT");
	/* the engine's background reconciler may get there first */
	is_status(ff_client_reconcile_cancel_backlog(c, 0, &n), FF_OK, c, "reconcile_cancel_backlog");
	ok(n == 1 || (n == 0 && admin_int("SELECT count(*) FROM ff_cancel_backlog_member m "
									  "WHERE m.flow_id = '%s'", f) == 0),
	   "the backlog entry is drained (%d by this call)", (int) n);
	ok(state_is(held, "cancelled"), "the held member is cancelled by the reconciler");
	{
		ff_flow_description d = {0};

		ff_client_describe_flow(c, f, &d);
		ok(strcmp(d.public_flow_state, "cancelled") == 0 && d.cancelled_at_ms > 0 &&
		   strcmp(d.cancel_reason, "test_reason") == 0 && strcmp(d.cancellation_policy, "cancel_pending") == 0,
		   "describe: cancelled, with reason and policy");
		ff_flow_description_clear(&d);
	}

	/* cancel_all on the cancelled flow: the running member too */
	ca.policy = FF_FLOW_CANCEL_ALL;
	ca.wait = FF_FLOW_CANCEL_WAIT_TIMEOUT;
	ca.wait_timeout_ms = 1000;
	ca.reason = NULL;
	is_status(ff_client_cancel_flow(c, &ca, &r), FF_OK, c, "cancel_flow cancel_all (wait_timeout) again");
	ok(!r.scheduled && r.n_member_execution_ids == 1 && strcmp(r.member_execution_ids[0], active) == 0 &&
	   r.n_pending_execution_ids == 0 && r.pending_execution_ids == NULL,
	   "cancelled: the running member");
	ff_flow_cancel_result_clear(&r);
	check_error(ff_client_complete(c, &run.handle, NULL, 0), FF_ERR_EXECUTION_NOT_ACTIVE,
				"its worker's complete");
	is_status(ff_client_cancel_flow(c, &ca, NULL), FF_OK, c, "cancel again (idempotent, out = NULL)");

	ca.wait_timeout_ms = 0;
	check_error(ff_client_cancel_flow(c, &ca, &r), FF_ERR_INVALID_INPUT, "wait_timeout without a timeout");
	ca.wait_timeout_ms = 300001;
	check_error(ff_client_cancel_flow(c, &ca, &r), FF_ERR_INVALID_INPUT, "wait_timeout 300001 ms");
	ca.wait = FF_FLOW_CANCEL_NO_WAIT;
	ca.wait_timeout_ms = 5;
	check_error(ff_client_cancel_flow(c, &ca, &r), FF_ERR_INVALID_INPUT, "a timeout without wait_timeout");
	ca.wait_timeout_ms = 0;
	ca.policy = 9;
	is_status(ff_client_cancel_flow(c, &ca, &r), FF_ERR_USAGE, c, "policy 9 -> usage");
	ca.policy = FF_FLOW_CANCEL_ALL;
	ca.wait = 7;
	is_status(ff_client_cancel_flow(c, &ca, &r), FF_ERR_USAGE, c, "wait 7 -> usage");
	ca.wait = FF_FLOW_CANCEL_NO_WAIT;
	ca.flow_id = unknown;
	check_error(ff_client_cancel_flow(c, &ca, &r), FF_ERR_FLOW_NOT_FOUND, "cancel an unknown flow");
	ok(r.cancellation_policy == NULL, "result left zeroed");

	/* flow_only: members run on */
	{
		char	   *f2 = new_flow();
		char	   *m = member(f2, lane, NULL);

		ca.flow_id = f2;
		ca.policy = FF_FLOW_CANCEL_FLOW_ONLY;
		is_status(ff_client_cancel_flow(c, &ca, &r), FF_OK, c, "cancel_flow flow_only");
		ok(!r.scheduled && r.n_member_execution_ids == 0 && strcmp(r.cancellation_policy, "flow_only") == 0 &&
		   state_is(m, "waiting"), "nothing cancelled, the member still waits");
		ff_flow_cancel_result_clear(&r);
		free(m);
		free(f2);
	}

	/* header + ack */
	{
		char	   *f3 = new_flow();
		char	   *m1 = member(f3, lane, NULL);
		char	   *m2 = member(f3, lane, NULL);
		ff_flow_cancel_header_result h = {0};

		is_status(ff_client_cancel_flow_header(c, f3, "shutdown", FF_FLOW_CANCEL_ALL, &h), FF_OK, c,
				  "cancel_flow_header");
		ok(!h.already_terminal && strcmp(h.cancellation_policy, "cancel_all") == 0 &&
		   strcmp(h.cancel_reason, "shutdown") == 0 && h.n_member_execution_ids == 2 &&
		   contains(h.member_execution_ids, 2, m1) && contains(h.member_execution_ids, 2, m2),
		   "cancelled: both members owe an ack");
		ff_flow_cancel_header_result_clear(&h);
		ok(state_is(m1, "cancelled") && state_is(m2, "cancelled"), "cancel_all cancelled the members");
		is_status(ff_client_ack_cancel_member(c, f3, m1), FF_OK, c, "ack_cancel_member");
		is_status(ff_client_ack_cancel_member(c, f3, m1), FF_OK, c, "ack again (idempotent)");
		is_status(ff_client_cancel_flow_header(c, f3, "again", FF_FLOW_CANCEL_PENDING, &h), FF_OK, c,
				  "cancel_flow_header on a cancelled flow");
		ok(h.already_terminal && strcmp(h.cancellation_policy, "cancel_all") == 0 &&
		   strcmp(h.cancel_reason, "shutdown") == 0 && h.n_member_execution_ids == 1 &&
		   strcmp(h.member_execution_ids[0], m2) == 0,
		   "already_terminal: the stored policy and reason, the member still owing an ack");
		ff_flow_cancel_header_result_clear(&h);
		is_status(ff_client_ack_cancel_member(c, f3, m2), FF_OK, c, "ack the last member");
		is_int(admin_int("SELECT count(*) FROM ff_cancel_backlog WHERE flow_id = '%s'", f3), 0,
			   "the backlog header is gone with the last ack");
		check_error(ff_client_cancel_flow_header(c, f3, NULL, FF_FLOW_CANCEL_ALL, &h), FF_ERR_INVALID_INPUT,
					"cancel_flow_header without a reason");
		check_error(ff_client_cancel_flow_header(c, unknown, "x", FF_FLOW_CANCEL_ALL, &h),
					FF_ERR_FLOW_NOT_FOUND, "cancel_flow_header of an unknown flow");
		is_status(ff_client_cancel_flow_header(c, f3, "x", 5, &h), FF_ERR_USAGE, c, "header policy 5 -> usage");
		check_error(ff_client_ack_cancel_member(c, f3, "nope"), FF_ERR_INVALID_INPUT, "ack a malformed id");
		free(m1);
		free(m2);
		free(f3);
	}
	ff_claimed_clear(&run);
	ff_claimed_clear(&fin);
	free(f);
	free(active);
	free(waiting);
	free(blocked);
	free(held);
	free(done);
	free(e1);
	free(unknown);
}

/* ------------------------------------------------------------------------
 * the worker runtime: a parent creates children and returns
 * FF_JOB_WAIT_CHILDREN
 * ------------------------------------------------------------------------ */
typedef struct parent_ctx
{
	const char *flow_id;
	const char *lane;
	atomic_int	parent_runs;
	atomic_int	child_runs;
	int32_t		first_attempt;
	int32_t		second_attempt;
	int			children_ok;
	int			not_in_flow_runs;
} parent_ctx;

static ff_job_outcome
parent_handler(ff_job *job, void *user)
{
	parent_ctx *x = user;
	ff_client  *jc = ff_job_client(job);
	size_t		len = 0;
	const unsigned char *in = ff_job_input(job, &len);
	ff_edge_list l = {0};

	if (in && len == 5 && memcmp(in, "child", 5) == 0)
	{
		atomic_fetch_add(&x->child_runs, 1);
		ff_job_set_result(job, "c", 1);
		return FF_JOB_COMPLETE;
	}
	if (in && len == 4 && memcmp(in, "solo", 4) == 0)
	{
		x->not_in_flow_runs++;
		return FF_JOB_WAIT_CHILDREN;	/* not in a flow: the runtime fails it */
	}
	/* the parent: children already made? */
	if (ff_client_list_edges(jc, x->flow_id, FF_EDGES_INCOMING, ff_job_execution_id(job), &l) != FF_OK)
		return FF_JOB_ABANDON;
	if (l.count > 0)
	{
		int			succeeded = 0;

		for (size_t i = 0; i < l.count; i++)
			succeeded += l.items[i].resolution && strcmp(l.items[i].resolution, "success") == 0;
		x->children_ok = succeeded;
		x->second_attempt = ff_job_attempt_index(job);
		atomic_fetch_add(&x->parent_runs, 1);
		ff_edge_list_clear(&l);
		ff_job_set_result(job, "all children done", 17);
		return FF_JOB_COMPLETE;
	}
	atomic_fetch_add(&x->parent_runs, 1);
	x->first_attempt = ff_job_attempt_index(job);
	/* two children, upstreams of this job, in one transaction */
	{
		PGresult   *res = PQexec(ff_client_pgconn(jc), "BEGIN");

		PQclear(res);
		for (int i = 0; i < 2; i++)
		{
			char	   *id = NULL;
			ff_create_args a = {0};
			ff_create_result r = {0};
			ff_edge_args ea = {0};
			ff_edge_staged st = {0};
			ff_flow_description d = {0};

			ff_client_new_flow_execution_id(jc, x->flow_id, &id);
			a.lane_id = x->lane;
			a.execution_id = id;
			a.input_payload = "child";
			a.input_payload_len = 5;
			ff_client_create_execution(jc, &a, &r);
			ff_create_result_clear(&r);
			ff_client_add_execution_to_flow(jc, x->flow_id, id, NULL);
			ff_client_describe_flow(jc, x->flow_id, &d);
			ea.flow_id = x->flow_id;
			ea.upstream_execution_id = id;
			ea.downstream_execution_id = ff_job_execution_id(job);
			ea.expected_graph_revision = d.graph_revision;
			ff_flow_description_clear(&d);
			if (ff_client_stage_dependency_edge(jc, &ea, &st) == FF_OK)
				ff_client_apply_dependency_to_child(jc, x->flow_id, st.edge_id, ea.downstream_execution_id,
													id, NULL);
			ff_edge_staged_clear(&st);
			ff_free(id);
		}
		res = PQexec(ff_client_pgconn(jc), "COMMIT");
		PQclear(res);
	}
	return FF_JOB_WAIT_CHILDREN;
}

static void
test_worker_wait_children(void)
{
	const char *lane = unique_lane("wparent");
	char	   *f = new_flow();
	char	   *parent = member(f, lane, "parent");
	char	   *solo = make_execution(c, lane, "solo", NULL);
	parent_ctx *x = calloc(1, sizeof(parent_ctx));
	ff_worker_options o = {0};
	ff_worker_stats st = {0};
	ff_bytes	res = {0};

	x->flow_id = f;
	x->lane = lane;
	o.exit_when_idle = true;
	o.stats = &st;
	o.log = quiet_log;
	o.idle_backoff_max_ms = 50;
	is_status(ff_worker_run(test_conninfo(), lane, NULL, 0, 2, parent_handler, x, &o, NULL), FF_OK, NULL,
			  "worker: a parent that waits for the children it created");
	is_int(atomic_load(&x->parent_runs), 2, "the parent's handler ran twice");
	is_int(atomic_load(&x->child_runs), 2, "each child ran once");
	is_int(x->children_ok, 2, "the parent's second run sees both children succeeded");
	is_int(x->second_attempt, x->first_attempt, "the parent resumed the same attempt");
	ok(st.waiting_children == 1 && st.completed == 3, "stats: %lu waiting_children, %lu completed",
	   st.waiting_children, st.completed);
	ok(state_is(parent, "completed"), "the parent completed");
	ff_client_get_execution_result(c, parent, &res);
	ok(res.data && res.len == 17 && memcmp(res.data, "all children done", 17) == 0, "with its result");
	ff_bytes_clear(&res);
	ok(x->not_in_flow_runs == 1 && st.failed == 1 && state_is(solo, "failed"),
	   "FF_JOB_WAIT_CHILDREN outside a flow fails the attempt (permanent)");
	{
		char	   *msg = admin_str("SELECT last_failure_message FROM ff_execution "
									"WHERE ff_format_execution_id(partition_key, execution_id) = '%s'", solo);

		ok(msg && strstr(msg, "execution_not_in_flow"), "... with the reason: %s", msg ? msg : "(null)");
		free(msg);
	}
	free(x);
	free(f);
	free(parent);
	free(solo);
}

int
main(void)
{
	c = test_client();
	test_pure();
	test_create_and_add();
	test_edges_and_policies();
	test_diamond();
	test_failure_skips();
	test_sibling_cancel();
	test_wait_children();
	test_cancel();
	test_worker_wait_children();
	is_status(ff_client_describe_flow(NULL, "x", NULL), FF_ERR_USAGE, NULL, "NULL client -> usage, no crash");
	ff_client_close(c);
	PQfinish(admin());
	return done_testing();
}

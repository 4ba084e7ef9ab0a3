/*
 * cmd_flow.c - ffctl flow (create, add, edge, apply, policy, describe, list,
 * edges, cancel, summary, tag, eligibility, reconcile) and ffctl
 * wait-children: the flows of docs/flows.md on the library's flow calls
 * (client/src/flow.c). Reference: docs/ffctl.md, "flow".
 *
 * Steps that must not be seen half done (a member created but not yet in its
 * flow, an edge staged but not applied, a whole graph) run in one
 * transaction on the client's connection.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ffctl.h"

#define FLOW_USAGE \
	"ffctl flow create [--id UUID] [--kind KIND] [--namespace NS]\n" \
	"                  [--lane LANE --member NAME[=PAYLOAD]... [--group NAME=POLICY]...\n" \
	"                   [--edge UP:DOWN[:DATA_REF]]...]\n" \
	"ffctl flow add FLOW_ID EXECUTION_ID...\n" \
	"ffctl flow add FLOW_ID --lane LANE [--count N] [--payload TEXT | --payload-file PATH|-]\n" \
	"               [--kind KIND] [--cap TOKEN]... [--policy JSON] [--namespace NS]\n" \
	"ffctl flow edge FLOW_ID UPSTREAM DOWNSTREAM [--apply] [--revision N] [--id UUID]\n" \
	"                [--data-ref REF]\n" \
	"ffctl flow apply FLOW_ID EDGE_ID DOWNSTREAM [--upstream EXECUTION_ID]\n" \
	"ffctl flow policy FLOW_ID DOWNSTREAM POLICY\n" \
	"ffctl flow describe FLOW_ID\n" \
	"ffctl flow list (--partition N | --flow FLOW_ID) [--cursor FLOW_ID] [--limit N] [--all]\n" \
	"ffctl flow edges FLOW_ID EXECUTION_ID [--incoming | --outgoing]\n" \
	"ffctl flow cancel FLOW_ID [--policy cancel_all|cancel_pending|flow_only]\n" \
	"                  [--wait | --wait-ms N] [--reason TEXT]\n" \
	"ffctl flow summary FLOW_ID\n" \
	"ffctl flow tag get FLOW_ID KEY | ffctl flow tag set FLOW_ID KEY VALUE\n" \
	"ffctl flow eligibility EXECUTION_ID\n" \
	"ffctl flow reconcile [dependencies|sibling-cancel|cancel-backlog|all]... [--batch N]\n" \
	"POLICY: all_of | any_of[:let_run] | quorum:K[:let_run] (default on_satisfied:\n" \
	"cancel_remaining). `create` with --member builds the whole graph in one\n" \
	"transaction: members are claimable from creation, so a graph built piece by\n" \
	"piece can run a downstream before its edge is applied. Without --revision,\n" \
	"`edge` uses the flow's current graph revision."

const char	ffctl_flow_usage[] = FLOW_USAGE;

/* ------------------------------------------------------------------------
 * helpers
 * ------------------------------------------------------------------------ */
/* Parses "all_of", "any_of[:let_run|:cancel_remaining]", "quorum:K[:...]". */
static bool
parse_policy(const char *text, ff_edge_group_policy *p)
{
	char		buf[128];
	char	   *save = NULL;
	char	   *tok;

	memset(p, 0, sizeof(*p));
	if (text == NULL || strlen(text) >= sizeof(buf))
		return false;
	strcpy(buf, text);
	tok = strtok_r(buf, ":", &save);
	if (tok == NULL || (p->kind = ff_edge_policy_kind_from_name(tok)) == 0)
		return false;
	tok = strtok_r(NULL, ":", &save);
	if (p->kind == FF_EDGE_POLICY_QUORUM)
	{
		char	   *end;

		if (tok == NULL)
			return false;
		p->k = strtoll(tok, &end, 10);
		if (*end != '\0')
			return false;
		tok = strtok_r(NULL, ":", &save);
	}
	if (tok != NULL)
	{
		if (strcmp(tok, "let_run") == 0)
			p->on_satisfied = FF_ON_SATISFIED_LET_RUN;
		else if (strcmp(tok, "cancel_remaining") == 0)
			p->on_satisfied = FF_ON_SATISFIED_CANCEL_REMAINING;
		else
			return false;
		tok = strtok_r(NULL, ":", &save);
	}
	return tok == NULL;
}

static const char *
on_satisfied_name(ff_on_satisfied v)
{
	return v == FF_ON_SATISFIED_CANCEL_REMAINING ? "cancel_remaining"
		: v == FF_ON_SATISFIED_LET_RUN ? "let_run" : NULL;
}

static const char *
group_state_name(ff_edge_group_state s)
{
	return s == FF_EDGE_GROUP_PENDING ? "pending"
		: s == FF_EDGE_GROUP_SATISFIED ? "satisfied"
		: s == FF_EDGE_GROUP_IMPOSSIBLE ? "impossible" : "?";
}

/* "quorum:2:let_run" (static buffer) */
static const char *
policy_text(const ff_edge_group_policy *p)
{
	static char buf[96];
	size_t		len;

	len = (size_t) snprintf(buf, sizeof(buf), "%s", ffctl_dash(ff_edge_policy_kind_name(p->kind)));
	if (p->kind == FF_EDGE_POLICY_QUORUM)
		len += (size_t) snprintf(buf + len, sizeof(buf) - len, ":%lld", (long long) p->k);
	if (on_satisfied_name(p->on_satisfied))
		snprintf(buf + len, sizeof(buf) - len, ":%s", on_satisfied_name(p->on_satisfied));
	return buf;
}

/* BEGIN / COMMIT / ROLLBACK on the client's connection */
static bool
txn(const ffctl_args *a, ff_client *c, const char *sql)
{
	PGresult   *res = PQexec(ff_client_pgconn(c), sql);
	bool		ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!ok)
	{
		ff_error	e = {0};

		e.kind = FF_ERR_CONNECTION;
		e.message = (char *) (PQerrorMessage(ff_client_pgconn(c))[0]
							  ? PQerrorMessage(ff_client_pgconn(c)) : sql);
		ffctl_fail_error(a, &e, sql);
	}
	PQclear(res);
	return ok;
}

/* Reports the client's error, rolls back an open transaction; exit code */
static int
fail_rollback(const ffctl_args *a, ff_client *c, const char *what)
{
	ff_error	e = {0};
	int			rc;

	/* copy first: the rollback must not hide the error */
	ff_error_copy(&e, ff_client_last_error(c));
	if (PQtransactionStatus(ff_client_pgconn(c)) != PQTRANS_IDLE)
		PQclear(PQexec(ff_client_pgconn(c), "ROLLBACK"));
	rc = ffctl_fail_error(a, &e, what);
	ff_error_clear(&e);
	return rc;
}

/* mints a member id, creates the execution and joins it to the flow (inside
 * the caller's transaction); *id_out malloc'ed */
static ff_status
create_member(ff_client *c, const char *flow_id, ff_create_args *ca, char **id_out,
			  ff_flow_member_added *added)
{
	ff_create_result r = {0};
	char	   *id = NULL;
	ff_status	s;

	*id_out = NULL;
	s = ff_client_new_flow_execution_id(c, flow_id, &id);
	if (s != FF_OK)
		return s;
	ca->execution_id = id;
	s = ff_client_create_execution(c, ca, &r);
	ca->execution_id = NULL;
	ff_create_result_clear(&r);
	if (s == FF_OK)
		s = ff_client_add_execution_to_flow(c, flow_id, id, added);
	if (s != FF_OK)
	{
		ff_free(id);
		return s;
	}
	*id_out = id;
	return FF_OK;
}

/* ------------------------------------------------------------------------
 * create
 * ------------------------------------------------------------------------ */
#define MAX_MEMBERS FFCTL_MAX_OPTS

typedef struct member
{
	char		name[64];
	const char *payload;		/* NULL: none */
	char	   *id;
} member;

static member *
find_member(member *m, int n, const char *name, size_t len)
{
	for (int i = 0; i < n; i++)
		if (strlen(m[i].name) == len && strncmp(m[i].name, name, len) == 0)
			return &m[i];
	return NULL;
}

static const ffctl_optspec create_spec[] = {
	{"id", true}, {"kind", true}, {"namespace", true}, {"lane", true}, {"member", true},
	{"group", true}, {"edge", true}, {NULL, false}
};

static int
flow_create(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	ff_flow_created fc = {0};
	member		members[MAX_MEMBERS];
	int			nm,
				ne,
				ng;
	int			rc = FFCTL_EXIT_OK;
	int64_t		revision = 0;
	char	   *edge_ids[MAX_MEMBERS] = {NULL};
	member	   *edge_up[MAX_MEMBERS];
	member	   *edge_down[MAX_MEMBERS];
	const char *edge_ref[MAX_MEMBERS];
	ff_edge_group_policy group_policy[MAX_MEMBERS];
	member	   *group_member[MAX_MEMBERS];

	memset(members, 0, sizeof(members));
	if (!ffctl_parse(argc, argv, create_spec, &a))
		return FFCTL_EXIT_USAGE;
	nm = ffctl_opt_count(&a, "member");
	ne = ffctl_opt_count(&a, "edge");
	ng = ffctl_opt_count(&a, "group");
	if (a.npos > 0)
		return ffctl_usage_error("flow create", "unexpected argument \"%s\"", a.pos[0]);
	if ((nm > 0) != (ffctl_opt(&a, "lane") != NULL) || (nm == 0 && (ne > 0 || ng > 0)))
		return ffctl_usage_error("flow create", "--member needs --lane (and --edge, --group need --member)");
	for (int i = 0; i < nm; i++)
	{
		const char *spec = ffctl_opt_n(&a, "member", i);
		const char *eq = strchr(spec, '=');
		size_t		len = eq ? (size_t) (eq - spec) : strlen(spec);

		if (len == 0 || len >= sizeof(members[i].name) || memchr(spec, ':', len) ||
			find_member(members, i, spec, len))
			return ffctl_usage_error("flow create", "bad or repeated member name in \"%s\"", spec);
		memcpy(members[i].name, spec, len);
		members[i].payload = eq ? eq + 1 : NULL;
	}
	for (int i = 0; i < ng; i++)
	{
		const char *spec = ffctl_opt_n(&a, "group", i);
		const char *eq = strchr(spec, '=');

		if (eq == NULL || (group_member[i] = find_member(members, nm, spec, (size_t) (eq - spec))) == NULL ||
			!parse_policy(eq + 1, &group_policy[i]))
			return ffctl_usage_error("flow create", "--group wants MEMBER=POLICY, got \"%s\"", spec);
	}
	for (int i = 0; i < ne; i++)
	{
		const char *spec = ffctl_opt_n(&a, "edge", i);
		const char *c1 = strchr(spec, ':');
		const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		size_t		dlen = c1 ? (c2 ? (size_t) (c2 - c1 - 1) : strlen(c1 + 1)) : 0;

		if (c1 == NULL || (edge_up[i] = find_member(members, nm, spec, (size_t) (c1 - spec))) == NULL ||
			(edge_down[i] = find_member(members, nm, c1 + 1, dlen)) == NULL)
			return ffctl_usage_error("flow create", "--edge wants UP:DOWN[:DATA_REF] of members, got \"%s\"", spec);
		edge_ref[i] = c2 ? c2 + 1 : NULL;
	}

	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (nm > 0 && !txn(&a, c, "BEGIN"))
	{
		ff_client_close(c);
		return FFCTL_EXIT_CONNECTION;
	}
	if (ff_client_create_flow(c, ffctl_opt(&a, "id"), ffctl_opt(&a, "kind"),
							  ffctl_opt(&a, "namespace"), &fc) != FF_OK)
	{
		rc = fail_rollback(&a, c, "flow create");
		goto out;
	}
	if (nm > 0)
	{
		ff_create_args ca = {0};
		ff_flow_description d = {0};

		ca.lane_id = ffctl_opt(&a, "lane");
		ca.creator_identity = "ffctl";
		for (int i = 0; i < nm; i++)
		{
			ca.input_payload = members[i].payload;
			ca.input_payload_len = members[i].payload ? strlen(members[i].payload) : 0;
			if (create_member(c, fc.flow_id, &ca, &members[i].id, NULL) != FF_OK)
			{
				rc = fail_rollback(&a, c, "flow create");
				goto out;
			}
		}
		for (int i = 0; i < ng; i++)
			if (ff_client_set_edge_group_policy(c, fc.flow_id, group_member[i]->id, &group_policy[i],
												NULL) != FF_OK)
			{
				rc = fail_rollback(&a, c, "flow create");
				goto out;
			}
		if (ff_client_describe_flow(c, fc.flow_id, &d) != FF_OK)
		{
			rc = fail_rollback(&a, c, "flow create");
			goto out;
		}
		revision = d.graph_revision;
		ff_flow_description_clear(&d);
		for (int i = 0; i < ne; i++)
		{
			ff_edge_args ea = {0};
			ff_edge_staged st = {0};

			ea.flow_id = fc.flow_id;
			ea.upstream_execution_id = edge_up[i]->id;
			ea.downstream_execution_id = edge_down[i]->id;
			ea.expected_graph_revision = revision;
			ea.data_passing_ref = edge_ref[i];
			if (ff_client_stage_dependency_edge(c, &ea, &st) != FF_OK ||
				ff_client_apply_dependency_to_child(c, fc.flow_id, st.edge_id, edge_down[i]->id,
													edge_up[i]->id, NULL) != FF_OK)
			{
				ff_edge_staged_clear(&st);
				rc = fail_rollback(&a, c, "flow create");
				goto out;
			}
			revision = st.new_graph_revision;
			edge_ids[i] = st.edge_id;
			st.edge_id = NULL;
		}
		if (!txn(&a, c, "COMMIT"))
		{
			rc = FFCTL_EXIT_CONNECTION;
			goto out;
		}
	}

	if (a.json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_str(&j, "flow_id", fc.flow_id);
		jw_kv_bool(&j, "created", fc.created);
		if (nm > 0)
		{
			jw_key(&j, "members");
			jw_obj_begin(&j);
			for (int i = 0; i < nm; i++)
				jw_kv_str(&j, members[i].name, members[i].id);
			jw_obj_end(&j);
			jw_key(&j, "edges");
			jw_arr_begin(&j);
			for (int i = 0; i < ne; i++)
			{
				jw_obj_begin(&j);
				jw_kv_str(&j, "edge_id", edge_ids[i]);
				jw_kv_str(&j, "upstream", edge_up[i]->name);
				jw_kv_str(&j, "downstream", edge_down[i]->name);
				jw_obj_end(&j);
			}
			jw_arr_end(&j);
			jw_kv_int(&j, "graph_revision", revision);
		}
		jw_doc_end(&j);
	}
	else
	{
		printf("%s\n", fc.flow_id);
		for (int i = 0; i < nm; i++)
			printf("%-16s %s\n", members[i].name, members[i].id);
		for (int i = 0; i < ne; i++)
			printf("%-16s %s -> %s\n", edge_ids[i], edge_up[i]->name, edge_down[i]->name);
		if (!fc.created)
			fprintf(stderr, "ffctl flow create: the flow exists already (left untouched)\n");
	}
out:
	for (int i = 0; i < nm; i++)
		ff_free(members[i].id);
	for (int i = 0; i < ne; i++)
		ff_free(edge_ids[i]);
	ff_flow_created_clear(&fc);
	ff_client_close(c);
	return rc;
}

/* ------------------------------------------------------------------------
 * add
 * ------------------------------------------------------------------------ */
static const ffctl_optspec add_spec[] = {
	{"lane", true}, {"count", true}, {"payload", true}, {"payload-file", true}, {"kind", true},
	{"cap", true}, {"policy", true}, {"namespace", true}, {NULL, false}
};

static int
flow_add(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	int			rc = FFCTL_EXIT_OK;
	int64_t		count = 1;
	bool		creating;
	int			n;
	char	   *ids[FFCTL_MAX_POS + 1000] = {NULL};
	bool		added[FFCTL_MAX_POS + 1000] = {false};
	int32_t		node_count = 0;
	ff_bytes	payload = {0};
	ff_create_args ca = {0};
	const char *caps[FFCTL_MAX_OPTS];

	if (!ffctl_parse(argc, argv, add_spec, &a))
		return FFCTL_EXIT_USAGE;
	creating = ffctl_opt(&a, "lane") != NULL;
	if (!ffctl_opt_int64(&a, "count", &count, NULL) || count < 1 || count > 1000)
		return ffctl_usage_error("flow add", "--count wants 1..1000");
	if (a.npos < 1 || (creating ? a.npos != 1 : a.npos < 2))
		return ffctl_usage_error("flow add", "expected FLOW_ID and EXECUTION_ID... or --lane");
	if (ffctl_opt(&a, "payload") && ffctl_opt(&a, "payload-file"))
		return ffctl_usage_error("flow add", "--payload and --payload-file exclude each other");
	if (!ffctl_payload_option(&a, &payload, &ca.input_payload, &ca.input_payload_len))
		return FFCTL_EXIT_ERROR;
	n = creating ? (int) count : a.npos - 1;

	c = ffctl_connect(&a, &rc);
	if (c == NULL)
	{
		ff_bytes_clear(&payload);
		return rc;
	}
	if (creating)
	{
		ca.lane_id = ffctl_opt(&a, "lane");
		ca.execution_kind = ffctl_opt(&a, "kind");
		ca.ns = ffctl_opt(&a, "namespace");
		ca.policy_json = ffctl_opt(&a, "policy");
		ca.creator_identity = "ffctl";
		ca.required_capabilities = caps;
		ca.n_required_capabilities = ffctl_opt_all(&a, "cap", caps);
		if (!txn(&a, c, "BEGIN"))
		{
			rc = FFCTL_EXIT_CONNECTION;
			goto out;
		}
		for (int i = 0; i < n; i++)
		{
			ff_flow_member_added m = {0};

			if (create_member(c, a.pos[0], &ca, &ids[i], &m) != FF_OK)
			{
				rc = fail_rollback(&a, c, "flow add");
				goto out;
			}
			added[i] = m.added;
			node_count = m.node_count;
			ff_flow_member_added_clear(&m);
		}
		if (!txn(&a, c, "COMMIT"))
		{
			rc = FFCTL_EXIT_CONNECTION;
			goto out;
		}
	}
	else
	{
		for (int i = 0; i < n; i++)
		{
			ff_flow_member_added m = {0};

			if (ff_client_add_execution_to_flow(c, a.pos[0], a.pos[i + 1], &m) != FF_OK)
			{
				rc = ffctl_fail(&a, c, "flow add");
				n = i;			/* report what was added */
				break;
			}
			ids[i] = m.execution_id;
			m.execution_id = NULL;
			added[i] = m.added;
			node_count = m.node_count;
		}
	}
	if (a.json && rc == FFCTL_EXIT_OK)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_str(&j, "flow_id", a.pos[0]);
		jw_key(&j, "members");
		jw_arr_begin(&j);
		for (int i = 0; i < n; i++)
		{
			jw_obj_begin(&j);
			jw_kv_str(&j, "execution_id", ids[i]);
			jw_kv_bool(&j, "added", added[i]);
			jw_obj_end(&j);
		}
		jw_arr_end(&j);
		jw_kv_int(&j, "node_count", node_count);
		jw_doc_end(&j);
	}
	else if (!a.json)
		for (int i = 0; i < n; i++)
			printf("%s%s\n", ids[i], added[i] ? "" : " (already a member)");
out:
	for (int i = 0; i < n; i++)
		ff_free(ids[i]);
	ff_bytes_clear(&payload);
	ff_client_close(c);
	return rc;
}

/* ------------------------------------------------------------------------
 * edge, apply, policy
 * ------------------------------------------------------------------------ */
static const ffctl_optspec edge_spec[] = {
	{"apply", false}, {"revision", true}, {"id", true}, {"data-ref", true}, {NULL, false}
};

static int
flow_edge(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	ff_edge_args ea = {0};
	ff_edge_staged st = {0};
	ff_edge_applied ap = {0};
	bool		apply,
				has_revision;
	int			rc = FFCTL_EXIT_OK;

	if (!ffctl_parse(argc, argv, edge_spec, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos != 3)
		return ffctl_usage_error("flow edge", "expected FLOW_ID UPSTREAM DOWNSTREAM");
	if (!ffctl_opt_int64(&a, "revision", &ea.expected_graph_revision, &has_revision))
		return FFCTL_EXIT_USAGE;
	apply = ffctl_flag(&a, "apply");
	ea.flow_id = a.pos[0];
	ea.upstream_execution_id = a.pos[1];
	ea.downstream_execution_id = a.pos[2];
	ea.edge_id = ffctl_opt(&a, "id");
	ea.data_passing_ref = ffctl_opt(&a, "data-ref");

	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if ((apply || !has_revision) && !txn(&a, c, "BEGIN"))
	{
		ff_client_close(c);
		return FFCTL_EXIT_CONNECTION;
	}
	if (!has_revision)
	{
		ff_flow_description d = {0};

		if (ff_client_describe_flow(c, ea.flow_id, &d) != FF_OK)
		{
			rc = fail_rollback(&a, c, "flow edge");
			goto out;
		}
		/* an unknown flow: stage anyway, the engine says flow_not_found */
		ea.expected_graph_revision = d.graph_revision;
		ff_flow_description_clear(&d);
	}
	if (ff_client_stage_dependency_edge(c, &ea, &st) != FF_OK ||
		(apply && ff_client_apply_dependency_to_child(c, ea.flow_id, st.edge_id,
													  ea.downstream_execution_id,
													  ea.upstream_execution_id, &ap) != FF_OK))
	{
		rc = fail_rollback(&a, c, "flow edge");
		goto out;
	}
	if ((apply || !has_revision) && !txn(&a, c, "COMMIT"))
	{
		rc = FFCTL_EXIT_CONNECTION;
		goto out;
	}
	if (a.json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_str(&j, "edge_id", st.edge_id);
		jw_kv_int(&j, "new_graph_revision", st.new_graph_revision);
		jw_kv_bool(&j, "applied", apply);
		jw_key(&j, "unsatisfied_count");
		if (apply)
			jw_int(&j, ap.unsatisfied_count);
		else
			jw_null(&j);
		jw_doc_end(&j);
	}
	else
	{
		printf("%s\n", st.edge_id);
		fprintf(stderr, "graph revision %lld%s\n", (long long) st.new_graph_revision,
				apply ? ", applied" : " (staged: apply it with ffctl flow apply)");
	}
out:
	ff_edge_staged_clear(&st);
	ff_client_close(c);
	return rc;
}

static const ffctl_optspec apply_spec[] = {{"upstream", true}, {NULL, false}};

static int
flow_apply(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	ff_edge_applied ap = {0};
	int			rc = FFCTL_EXIT_OK;

	if (!ffctl_parse(argc, argv, apply_spec, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos != 3)
		return ffctl_usage_error("flow apply", "expected FLOW_ID EDGE_ID DOWNSTREAM");
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (ff_client_apply_dependency_to_child(c, a.pos[0], a.pos[1], a.pos[2],
											ffctl_opt(&a, "upstream"), &ap) != FF_OK)
		rc = ffctl_fail(&a, c, "flow apply");
	else if (a.json)
		printf("{\"outcome\":\"%s\",\"unsatisfied_count\":%d}\n",
			   ap.already_applied ? "already_applied" : "applied", (int) ap.unsatisfied_count);
	else
		printf("%s (%d unsatisfied)\n", ap.already_applied ? "already applied" : "applied",
			   (int) ap.unsatisfied_count);
	ff_client_close(c);
	return rc;
}

static int
flow_policy(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	ff_edge_group_policy p;
	bool		already = false;
	int			rc = FFCTL_EXIT_OK;

	if (!ffctl_parse(argc, argv, ffctl_no_options, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos != 3)
		return ffctl_usage_error("flow policy", "expected FLOW_ID DOWNSTREAM POLICY");
	if (!parse_policy(a.pos[2], &p))
		return ffctl_usage_error("flow policy",
								 "POLICY is all_of, any_of[:let_run] or quorum:K[:let_run], not \"%s\"",
								 a.pos[2]);
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (ff_client_set_edge_group_policy(c, a.pos[0], a.pos[1], &p, &already) != FF_OK)
		rc = ffctl_fail(&a, c, "flow policy");
	else if (a.json)
		printf("{\"outcome\":\"%s\"}\n", already ? "already_set" : "set");
	else
		printf("%s\n", already ? "already set" : "set");
	ff_client_close(c);
	return rc;
}

/* ------------------------------------------------------------------------
 * describe, list, edges, summary
 * ------------------------------------------------------------------------ */
static int
flow_describe(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	ff_flow_description d = {0};
	int			rc = FFCTL_EXIT_OK;

	if (!ffctl_parse(argc, argv, ffctl_no_options, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos != 1)
		return ffctl_usage_error("flow describe", "expected one FLOW_ID");
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (ff_client_describe_flow(c, a.pos[0], &d) != FF_OK)
		rc = ffctl_fail(&a, c, "flow describe");
	else if (!d.found)
	{
		if (a.json)
			printf("null\n");
		fprintf(stderr, "ffctl flow describe: no flow %s\n", a.pos[0]);
		rc = FFCTL_EXIT_NOT_FOUND;
	}
	else if (a.json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_str(&j, "flow_id", d.flow_id);
		jw_kv_str(&j, "flow_kind", d.flow_kind);
		jw_kv_str(&j, "namespace", d.ns);
		jw_kv_str(&j, "public_flow_state", d.public_flow_state);
		jw_kv_int(&j, "graph_revision", d.graph_revision);
		jw_kv_int(&j, "node_count", d.node_count);
		jw_kv_int(&j, "edge_count", d.edge_count);
		jw_kv_int(&j, "created_at_ms", d.created_at_ms);
		jw_kv_int(&j, "last_mutation_at_ms", d.last_mutation_at_ms);
		jw_kv_ms(&j, "cancelled_at_ms", d.cancelled_at_ms);
		jw_kv_str(&j, "cancel_reason", d.cancel_reason);
		jw_kv_str(&j, "cancellation_policy", d.cancellation_policy);
		jw_key(&j, "tags");
		jw_raw(&j, d.tags_json);
		jw_key(&j, "edge_groups");
		jw_arr_begin(&j);
		for (size_t i = 0; i < d.n_edge_groups; i++)
		{
			ff_edge_group_info *g = &d.edge_groups[i];

			jw_obj_begin(&j);
			jw_kv_str(&j, "downstream_execution_id", g->downstream_execution_id);
			jw_key(&j, "policy");
			jw_obj_begin(&j);
			jw_kv_str(&j, "kind", ff_edge_policy_kind_name(g->policy.kind));
			if (g->policy.kind == FF_EDGE_POLICY_QUORUM)
				jw_kv_int(&j, "k", g->policy.k);
			if (on_satisfied_name(g->policy.on_satisfied))
				jw_kv_str(&j, "on_satisfied", on_satisfied_name(g->policy.on_satisfied));
			jw_obj_end(&j);
			jw_kv_str(&j, "group_state", group_state_name(g->state));
			jw_kv_int(&j, "k_target", g->k_target);
			jw_kv_int(&j, "total_deps", g->total_deps);
			jw_kv_int(&j, "applied_count", g->applied_count);
			jw_kv_int(&j, "satisfied_count", g->satisfied_count);
			jw_kv_int(&j, "failed_count", g->failed_count);
			jw_kv_int(&j, "skipped_count", g->skipped_count);
			jw_kv_int(&j, "running_count", g->running_count);
			jw_kv_ms(&j, "state_changed_at_ms", g->state_changed_at_ms);
			jw_kv_bool(&j, "cancel_siblings_fired", g->cancel_siblings_fired);
			jw_kv_str(&j, "cancel_siblings_reason", g->cancel_siblings_reason);
			jw_kv_strings(&j, "cancel_siblings_pending", g->cancel_siblings_pending,
						  g->n_cancel_siblings_pending);
			jw_obj_end(&j);
		}
		jw_arr_end(&j);
		jw_doc_end(&j);
	}
	else
	{
		ffctl_kv("flow_id", "%s", d.flow_id);
		ffctl_kv("kind", "%s", d.flow_kind);
		ffctl_kv("namespace", "%s", d.ns);
		ffctl_kv("state", "%s", d.public_flow_state);
		ffctl_kv("graph revision", "%lld", (long long) d.graph_revision);
		ffctl_kv("members", "%d", (int) d.node_count);
		ffctl_kv("edges", "%d", (int) d.edge_count);
		ffctl_kv_time("created", d.created_at_ms);
		ffctl_kv_time("last change", d.last_mutation_at_ms);
		if (d.cancelled_at_ms > 0)
		{
			ffctl_kv_time("cancelled", d.cancelled_at_ms);
			ffctl_kv("cancellation", "%s (%s)", ffctl_dash(d.cancellation_policy), ffctl_dash(d.cancel_reason));
		}
		ffctl_kv("tags", "%s", d.tags_json ? d.tags_json : "{}");
		if (d.n_edge_groups > 0)
		{
			printf("\n%-46s %-22s %-10s %5s %5s %5s %5s %5s\n", "EDGE GROUP (DOWNSTREAM)", "POLICY",
				   "STATE", "DEPS", "OK", "FAIL", "SKIP", "OPEN");
			for (size_t i = 0; i < d.n_edge_groups; i++)
			{
				ff_edge_group_info *g = &d.edge_groups[i];

				printf("%-46s %-22s %-10s %5d %5d %5d %5d %5d\n", g->downstream_execution_id,
					   policy_text(&g->policy), group_state_name(g->state), (int) g->total_deps,
					   (int) g->satisfied_count, (int) g->failed_count, (int) g->skipped_count,
					   (int) g->running_count);
				if (g->cancel_siblings_fired)
					printf("  siblings cancelled (%s)%s\n", ffctl_dash(g->cancel_siblings_reason),
						   g->n_cancel_siblings_pending > 0 ? ", some pending" : "");
			}
		}
	}
	ff_flow_description_clear(&d);
	ff_client_close(c);
	return rc;
}

static const ffctl_optspec list_spec[] = {
	{"partition", true}, {"flow", true}, {"cursor", true}, {"limit", true}, {"all", false},
	{NULL, false}
};

static void
print_flow_item(const ffctl_args *a, ffctl_json *j, const void *ctx FFCTL_UNUSED, const void *item,
				size_t i FFCTL_UNUSED)
{
	const ff_flow_list_item *f = item;
	char		when[40];

	if (a->json)
	{
		jw_kv_str(j, "flow_id", f->flow_id);
		jw_kv_str(j, "status", f->status);
		jw_kv_str(j, "public_flow_state", f->public_flow_state);
		jw_kv_int(j, "created_at_ms", f->created_at_ms);
		return;
	}
	ffctl_format_time(f->created_at_ms, when, sizeof(when));
	printf("%-38s %-10s %-10s %s\n", f->flow_id, f->status, f->public_flow_state, when);
}

static ff_status
flow_list_page(const ffctl_args *a, ff_client *c, ffctl_json *j, const void *pk,
			   const char *cursor, int32_t limit, size_t *count, char **next)
{
	ff_flow_list l = {0};
	ff_status	s = ff_client_list_flows(c, pk, cursor, limit, &l);

	FFCTL_PRINT_LIST(a, j, &l, print_flow_item, NULL);
	*count = l.count;
	*next = l.count > 0 ? strdup(l.items[l.count - 1].flow_id) : NULL;
	ff_flow_list_clear(&l);
	return s;
}

static int
flow_list(int argc, char **argv)
{
	static const ffctl_listing listing = {
		"flow list", "FLOW_ID                                STATUS     STATE      CREATED\n",
		"(more: --cursor %s, or --all)\n", flow_list_page
	};
	ffctl_args	a = {0};
	char		pk[40];
	const char *part;
	const char *flow;
	int64_t		limit = 100;

	if (!ffctl_parse(argc, argv, list_spec, &a))
		return FFCTL_EXIT_USAGE;
	part = ffctl_opt(&a, "partition");
	flow = ffctl_opt(&a, "flow");
	if ((part == NULL) == (flow == NULL) || a.npos > 0 || !ffctl_opt_int64(&a, "limit", &limit, NULL))
		return ffctl_usage_error("flow list", "give exactly one of --partition and --flow");
	if (limit > 1000)
		limit = 1000;
	if (flow && ff_flow_partition(flow) < 0)
		return ffctl_usage_error("flow list", "--flow: not a uuid: %s", flow);
	ffctl_partition_key(part, flow ? ff_flow_partition(flow) : 0, pk, sizeof(pk));
	return ffctl_list_pages(&a, &listing, pk, ffctl_opt(&a, "cursor"), limit, (int32_t) limit,
							ffctl_flag(&a, "all"));
}

static const ffctl_optspec edges_spec[] = {{"incoming", false}, {"outgoing", false}, {NULL, false}};

static void
print_edge(const ffctl_args *a, ffctl_json *j, const void *direction, const void *item,
		   size_t i FFCTL_UNUSED)
{
	const ff_edge_info *e = item;

	if (!a->json)
	{
		printf("%-9s %-36s %-46s %-46s %-8s %s\n", (const char *) direction, e->edge_id,
			   e->upstream_execution_id, e->downstream_execution_id, e->edge_state,
			   ffctl_dash(e->resolution));
		return;
	}
	jw_kv_str(j, "direction", direction);
	jw_kv_str(j, "edge_id", e->edge_id);
	jw_kv_str(j, "upstream_execution_id", e->upstream_execution_id);
	jw_kv_str(j, "downstream_execution_id", e->downstream_execution_id);
	jw_kv_str(j, "dependency_kind", e->dependency_kind);
	jw_kv_str(j, "data_passing_ref", e->data_passing_ref);
	jw_kv_str(j, "edge_state", e->edge_state);
	jw_kv_int(j, "created_at_ms", e->created_at_ms);
	jw_kv_ms(j, "applied_at_ms", e->applied_at_ms);
	jw_kv_str(j, "resolution", e->resolution);
	jw_kv_ms(j, "resolved_at_ms", e->resolved_at_ms);
}

static int
flow_edges(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	int			rc = FFCTL_EXIT_OK;
	bool		in,
				outg;
	ffctl_json	j;

	if (!ffctl_parse(argc, argv, edges_spec, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos != 2)
		return ffctl_usage_error("flow edges", "expected FLOW_ID EXECUTION_ID");
	in = ffctl_flag(&a, "incoming");
	outg = ffctl_flag(&a, "outgoing");
	if (!in && !outg)
		in = outg = true;
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (a.json)
		jw_doc_begin_array(&j);
	else
		printf("%-9s %-36s %-46s %-46s %-8s %s\n", "DIRECTION", "EDGE_ID", "UPSTREAM", "DOWNSTREAM",
			   "STATE", "RESOLUTION");
	for (int pass = 0; pass < 2 && rc == FFCTL_EXIT_OK; pass++)
	{
		ff_edge_direction dir = pass == 0 ? FF_EDGES_INCOMING : FF_EDGES_OUTGOING;
		const char *dname = pass == 0 ? "incoming" : "outgoing";
		ff_edge_list l = {0};

		if ((pass == 0 && !in) || (pass == 1 && !outg))
			continue;
		if (ff_client_list_edges(c, a.pos[0], dir, a.pos[1], &l) != FF_OK)
		{
			rc = ffctl_fail(&a, c, "flow edges");
			break;
		}
		FFCTL_PRINT_LIST(&a, &j, &l, print_edge, dname);
		ff_edge_list_clear(&l);
	}
	if (a.json && rc == FFCTL_EXIT_OK)
		jw_doc_end_array(&j);
	ff_client_close(c);
	return rc;
}

static int
flow_summary(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	ff_flow_summary s = {0};
	int			rc = FFCTL_EXIT_OK;

	if (!ffctl_parse(argc, argv, ffctl_no_options, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos != 1)
		return ffctl_usage_error("flow summary", "expected one FLOW_ID");
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (ff_client_project_flow_summary(c, a.pos[0], &s) != FF_OK)
		rc = ffctl_fail(&a, c, "flow summary");
	else
	{
		static const char *const names[] = {
			"completed", "failed", "cancelled", "expired", "skipped", "active", "suspended",
			"waiting", "delayed", "rate_limited", "waiting_children"
		};
		const int32_t counts[] = {
			s.members_completed, s.members_failed, s.members_cancelled, s.members_expired,
			s.members_skipped, s.members_active, s.members_suspended, s.members_waiting,
			s.members_delayed, s.members_rate_limited, s.members_waiting_children
		};

		if (a.json)
		{
			ffctl_json	j;

			jw_doc_begin(&j);
			jw_kv_str(&j, "public_flow_state", s.public_flow_state);
			jw_kv_int(&j, "total_members", s.total_members);
			jw_key(&j, "members");
			jw_obj_begin(&j);
			for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
				jw_kv_int(&j, names[i], counts[i]);
			jw_obj_end(&j);
			jw_kv_bool(&j, "projected", s.projected);
			jw_doc_end(&j);
		}
		else
		{
			ffctl_kv("state", "%s", s.public_flow_state);
			ffctl_kv("members", "%lld", (long long) s.total_members);
			for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
				if (counts[i] > 0)
					ffctl_kv(names[i], "%d", (int) counts[i]);
		}
	}
	ff_flow_summary_clear(&s);
	ff_client_close(c);
	return rc;
}

/* ------------------------------------------------------------------------
 * cancel
 * ------------------------------------------------------------------------ */
static const ffctl_optspec cancel_spec[] = {
	{"policy", true}, {"wait", false}, {"wait-ms", true}, {"reason", true}, {NULL, false}
};

static int
flow_cancel(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	ff_flow_cancel_args ca = {0};
	ff_flow_cancel_result r = {0};
	const char *policy;
	bool		has_wait_ms;
	int			rc = FFCTL_EXIT_OK;

	if (!ffctl_parse(argc, argv, cancel_spec, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos != 1)
		return ffctl_usage_error("flow cancel", "expected one FLOW_ID");
	policy = ffctl_opt(&a, "policy");
	if (policy == NULL || strcmp(policy, "cancel_all") == 0)
		ca.policy = FF_FLOW_CANCEL_ALL;
	else if (strcmp(policy, "cancel_pending") == 0)
		ca.policy = FF_FLOW_CANCEL_PENDING;
	else if (strcmp(policy, "flow_only") == 0)
		ca.policy = FF_FLOW_CANCEL_FLOW_ONLY;
	else
		return ffctl_usage_error("flow cancel", "--policy is cancel_all, cancel_pending or flow_only");
	if (!ffctl_opt_int64(&a, "wait-ms", &ca.wait_timeout_ms, &has_wait_ms) ||
		(has_wait_ms && ffctl_flag(&a, "wait")))
		return ffctl_usage_error("flow cancel", "give at most one of --wait and --wait-ms");
	ca.wait = has_wait_ms ? FF_FLOW_CANCEL_WAIT_TIMEOUT
		: ffctl_flag(&a, "wait") ? FF_FLOW_CANCEL_WAIT_INDEFINITE : FF_FLOW_CANCEL_NO_WAIT;
	ca.flow_id = a.pos[0];
	ca.reason = ffctl_opt(&a, "reason");
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (ff_client_cancel_flow(c, &ca, &r) != FF_OK)
		rc = ffctl_fail(&a, c, "flow cancel");
	else if (a.json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_str(&j, "outcome", r.scheduled ? "cancellation_scheduled" : "cancelled");
		jw_kv_str(&j, "cancellation_policy", r.cancellation_policy);
		jw_kv_strings(&j, "member_execution_ids", r.member_execution_ids, r.n_member_execution_ids);
		jw_kv_strings(&j, "pending_execution_ids", r.pending_execution_ids, r.n_pending_execution_ids);
		jw_doc_end(&j);
	}
	else
	{
		printf("%s (%s): %zu member(s) cancelled", r.scheduled ? "cancellation scheduled" : "cancelled",
			   r.cancellation_policy, r.n_member_execution_ids);
		if (r.scheduled)
			printf(", %zu left to the cancel backlog", r.n_pending_execution_ids);
		putchar('\n');
		for (size_t i = 0; i < r.n_member_execution_ids; i++)
			printf("  cancelled %s\n", r.member_execution_ids[i]);
		for (size_t i = 0; i < r.n_pending_execution_ids; i++)
			printf("  pending   %s\n", r.pending_execution_ids[i]);
	}
	ff_flow_cancel_result_clear(&r);
	ff_client_close(c);
	return rc;
}

/* ------------------------------------------------------------------------
 * tag, eligibility, reconcile
 * ------------------------------------------------------------------------ */
static int
flow_tag(int argc, char **argv)
{
	static const ffctl_tag_calls calls = {
		"flow tag", "FLOW_ID", "flow ", ff_client_get_flow_tag, ff_client_set_flow_tag
	};

	return ffctl_tag_command(argc, argv, &calls);
}

static int
flow_eligibility(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_client  *c;
	ff_flow_eligibility e = 0;
	char	   *flow = NULL;
	int			rc = FFCTL_EXIT_OK;

	if (!ffctl_parse(argc, argv, ffctl_no_options, &a))
		return FFCTL_EXIT_USAGE;
	if (a.npos != 1)
		return ffctl_usage_error("flow eligibility", "expected one EXECUTION_ID");
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	if (ff_client_evaluate_flow_eligibility(c, a.pos[0], &e) != FF_OK ||
		ff_client_resolve_execution_flow_id(c, a.pos[0], &flow) != FF_OK)
		rc = ffctl_fail(&a, c, "flow eligibility");
	else
	{
		if (a.json)
		{
			ffctl_json	j;

			jw_doc_begin(&j);
			jw_kv_str(&j, "eligibility", ff_flow_eligibility_name(e));
			jw_kv_str(&j, "flow_id", flow);
			jw_doc_end(&j);
		}
		else
			printf("%s%s%s\n", ff_flow_eligibility_name(e), flow ? " flow=" : "", flow ? flow : "");
		if (e == FF_FLOW_ELIGIBILITY_NOT_FOUND)
			rc = FFCTL_EXIT_NOT_FOUND;
	}
	ff_free(flow);
	ff_client_close(c);
	return rc;
}

static const ffctl_reconciler reconcilers[] = {
	{"dependencies", "dependencies", ff_client_reconcile_dependencies},
	{"sibling-cancel", "sibling_cancel", ff_client_reconcile_sibling_cancel},
	{"cancel-backlog", "cancel_backlog", ff_client_reconcile_cancel_backlog},
};

static const ffctl_optspec reconcile_spec[] = {{"batch", true}, {NULL, false}};

static int
flow_reconcile(int argc, char **argv)
{
	static const ffctl_reconcilers spec = {
		"flow reconcile", "flow reconcile", "%-20s %d\n", reconcilers, FFCTL_LEN(reconcilers), 0,
		0, false
	};
	ffctl_args	a = {0};
	int64_t		batch = 0;

	if (!ffctl_parse(argc, argv, reconcile_spec, &a))
		return FFCTL_EXIT_USAGE;
	if (!ffctl_opt_int64(&a, "batch", &batch, NULL))
		return FFCTL_EXIT_USAGE;
	return ffctl_run_reconcilers(&a, &spec, batch, 0);
}

/* ------------------------------------------------------------------------
 * dispatch
 * ------------------------------------------------------------------------ */
static const ffctl_verb verbs[] = {
	{"create", flow_create}, {"add", flow_add}, {"edge", flow_edge}, {"apply", flow_apply},
	{"policy", flow_policy}, {"describe", flow_describe}, {"list", flow_list},
	{"edges", flow_edges}, {"cancel", flow_cancel}, {"summary", flow_summary},
	{"tag", flow_tag}, {"eligibility", flow_eligibility}, {"reconcile", flow_reconcile},
};

int
cmd_flow(int argc, char **argv)
{
	return ffctl_dispatch(argc, argv, "flow", FLOW_USAGE, verbs, FFCTL_LEN(verbs),
						  "create, add, edge, apply, policy, describe, list, edges, cancel, summary, "
						  "tag, eligibility, reconcile");
}

/* ffctl wait-children HANDLE */
int
cmd_wait_children(int argc, char **argv)
{
	ffctl_args	a = {0};
	ff_handle	h = {0};
	char	   *state = NULL;
	int			rc;
	ff_client  *c = ffctl_handle_command(argc, argv, ffctl_no_options, NULL, &a, &h, &rc);

	if (c == NULL)
		return rc;
	if (ff_client_wait_children(c, &h, &state) != FF_OK)
		rc = ffctl_fail(&a, c, "wait-children");
	else if (a.json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		jw_kv_str(&j, "public_state", state);
		jw_doc_end(&j);
	}
	else
		printf("%s\n", state);
	ff_free(state);
	ff_handle_clear(&h);
	ff_client_close(c);
	return rc;
}

/*
 * test_budget.c - budgets, quotas and admission control in libflowfabric
 * (client/src/budget.c): every call's success path and the error kinds it
 * returns (typed kind, SQLSTATE, retryable flag, message prefix), a worker
 * whose usage reports breach a budget so the next execution is held back
 * (rate_limited) until a reset, a quota's concurrency cap releasing a waiter
 * when a slot frees, the reconcilers, and the ffctl budget / quota verbs
 * driven with --json.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"

static ff_client *c;

/* every error these calls return is final */
#define check_error(got, want, what) expect_error(c, got, want, NULL, false, what)
static char id_buf[16][40];
static int	id_next;

/* a fresh UUID per call (pid-based prefix, counter suffix) */
static const char *
fresh_id(void)
{
	char	   *b = id_buf[id_next++ % 16];
	static int	n;

	snprintf(b, 40, "%08x-0000-4000-8000-%012d", (unsigned) getpid(), ++n);
	return b;
}

static char *
policy_with(const char *key, const char *id)
{
	char	   *p = malloc(200);

	if (strcmp(key, "budget_ids") == 0)
		snprintf(p, 200, "{\"budget_ids\": [\"%s\"]}", id);
	else
		snprintf(p, 200, "{\"quota_policy_id\": \"%s\"}", id);
	return p;
}

static char *
public_state(const char *execution_id)
{
	return admin_str("SELECT public_state FROM ff_execution WHERE execution_id = "
					 "split_part('%s', '}:', 2)::uuid", execution_id);
}

/* ------------------------------------------------------------------------ */
static void
test_budget_calls(void)
{
	char		bid[40];
	ff_budget_limit limits[2] = {{"tokens", 100, 50}, {"cents", 1000, 0}};
	ff_budget_args ba = {0};
	ff_budget_created cr = {0};
	ff_budget_status st = {0};
	ff_usage_result r = {0};
	ff_usage_delta d60[1] = {{"tokens", 60}};
	ff_usage_delta d2[2] = {{"tokens", 10}, {"cents", 5}};
	char	   *limits_json = NULL;
	char	   *usage_json = NULL;
	bool		breached = true;
	int32_t		unblocked = -1;
	int32_t		released = -1;
	int64_t		next = -1;

	strcpy(bid, fresh_id());
	ba.budget_id = bid;
	ba.limits = limits;
	ba.n_limits = 2;
	ba.scope_type = "tenant";
	ba.scope_id = "acme";
	is_status(ff_client_create_budget(c, &ba, &cr), FF_OK, c, "create_budget");
	ok(cr.created && strcmp(cr.budget_id, bid) == 0 && cr.next_reset_at_ms == 0,
	   "created, the given id, no scheduled reset");
	ff_budget_created_clear(&cr);
	is_status(ff_client_create_budget(c, &ba, &cr), FF_OK, c, "create_budget again");
	ok(!cr.created, "... already_satisfied");
	ff_budget_created_clear(&cr);
	memset(&ba, 0, sizeof(ba));
	ba.reset_interval_ms = 60000;
	ba.on_hard_limit = "cancel";
	is_status(ff_client_create_budget(c, &ba, &cr), FF_OK, c, "create_budget without an id");
	ok(cr.created && cr.budget_id && strlen(cr.budget_id) == 36 && cr.next_reset_at_ms > 0,
	   "a new id is minted; a reset interval schedules a reset");
	ff_budget_created_clear(&cr);
	ff_budget_created_clear(&cr);
	ok(cr.budget_id == NULL, "clearing twice is harmless");

	ba.scope_type = "Tenant";
	check_error(ff_client_create_budget(c, &ba, &cr), FF_ERR_INVALID_BUDGET_SCOPE,
				"create_budget with a bad scope_type");
	ok(cr.budget_id == NULL, "... nothing returned");
	memset(&ba, 0, sizeof(ba));
	ba.budget_id = "not-a-uuid";
	check_error(ff_client_create_budget(c, &ba, &cr), FF_ERR_INVALID_INPUT, "create_budget with a bad id");
	memset(&ba, 0, sizeof(ba));
	ba.limits = (ff_budget_limit[]) {{"tokens", 10, 20}};
	ba.n_limits = 1;
	check_error(ff_client_create_budget(c, &ba, &cr), FF_ERR_INVALID_INPUT,
				"create_budget with soft above hard");
	is_status(ff_client_create_budget(c, NULL, &cr), FF_ERR_USAGE, c, "create_budget(NULL args) -> usage");

	/* status */
	is_status(ff_client_get_budget_status(c, bid, &st), FF_OK, c, "get_budget_status");
	ok(st.budget_id && strcmp(st.budget_id, bid) == 0 && strcmp(st.scope_type, "tenant") == 0 &&
	   strcmp(st.scope_id, "acme") == 0 && strcmp(st.enforcement_mode, "strict") == 0 &&
	   strcmp(st.on_hard_limit, "block") == 0, "status: id, scope, mode, action");
	is_int(st.n_dimensions, 2, "two dimensions (usage or limits)");
	ok(st.n_dimensions == 2 && strcmp(st.dimensions[0].dimension, "cents") == 0 &&
	   st.dimensions[0].hard_limit == 1000 && strcmp(st.dimensions[1].dimension, "tokens") == 0 &&
	   st.dimensions[1].hard_limit == 100 && st.dimensions[1].soft_limit == 50 &&
	   st.dimensions[1].used == 0, "dimensions in byte order with their limits, nothing used");
	ok(!st.breached && st.breach_count == 0 && st.last_breach_at_ms == 0 && st.next_reset_at_ms == 0 &&
	   st.created_at_ms > 0, "not breached, no breach, no schedule");
	ff_budget_status_clear(&st);
	check_error(ff_client_get_budget_status(c, fresh_id(), &st), FF_ERR_BUDGET_NOT_FOUND,
				"status of an unknown budget");

	/* reports */
	is_status(ff_client_report_usage_admin(c, bid, d60, 1, "k1", &r), FF_OK, c, "report_usage_admin +60");
	ok(r.outcome == FF_USAGE_SOFT_BREACH && r.dimension && strcmp(r.dimension, "tokens") == 0 &&
	   r.current_usage == 60 && r.limit == 50, "soft_breach tokens 60/50");
	is_str(ff_usage_outcome_name(r.outcome), "soft_breach", "ff_usage_outcome_name");
	ff_usage_result_clear(&r);
	is_status(ff_client_report_usage_admin(c, bid, d60, 1, "k1", &r), FF_OK, c, "the same dedup key again");
	ok(r.outcome == FF_USAGE_ALREADY_APPLIED && r.first_outcome == FF_USAGE_SOFT_BREACH,
	   "already_applied, first soft_breach");
	ff_usage_result_clear(&r);
	is_status(ff_client_report_usage_admin(c, bid, d60, 1, NULL, &r), FF_OK, c, "+60 more");
	ok(r.outcome == FF_USAGE_HARD_BREACH && r.current_usage == 60 && r.limit == 100,
	   "hard_breach tokens 60/100 (rejected)");
	ff_usage_result_clear(&r);
	is_status(ff_client_report_usage_admin(c, bid, NULL, 0, NULL, &r), FF_OK, c, "an empty report");
	ok(r.outcome == FF_USAGE_OK && r.dimension == NULL, "... ok");
	ff_usage_result_clear(&r);
	check_error(ff_client_report_usage_admin(c, bid, (ff_usage_delta[]) {{"tokens", -1}}, 1, NULL, &r),
				FF_ERR_INVALID_INPUT, "a negative delta");
	check_error(ff_client_report_usage_admin(c, "x", d60, 1, NULL, &r), FF_ERR_INVALID_INPUT,
				"report on a malformed budget id");
	is_status(ff_client_report_usage_admin(c, bid, NULL, 1, NULL, &r), FF_ERR_USAGE, c,
			  "deltas NULL with a count -> usage");

	/* spend and release */
	is_status(ff_client_record_spend(c, bid, "{fp:3}:00000000-0000-4000-8000-000000000301", d2, 2,
									 "idem", &r), FF_OK, c, "record_spend");
	ok(r.outcome == FF_USAGE_SOFT_BREACH && r.current_usage == 70, "soft_breach: tokens at 70");
	ff_usage_result_clear(&r);
	is_status(ff_client_record_spend(c, bid, "{fp:3}:00000000-0000-4000-8000-000000000301", d2, 2,
									 "idem", &r), FF_OK, c, "record_spend replay");
	ok(r.outcome == FF_USAGE_ALREADY_APPLIED, "... already_applied");
	ff_usage_result_clear(&r);
	check_error(ff_client_record_spend(c, bid, "fp-3", d2, 2, NULL, &r), FF_ERR_INVALID_INPUT,
				"record_spend with a malformed execution id");
	is_status(ff_client_release_budget(c, bid, "{fp:3}:00000000-0000-4000-8000-000000000301",
									   &released, &unblocked), FF_OK, c, "release_budget");
	ok(released == 2 && unblocked == 0, "two dimensions released");
	is_status(ff_client_release_budget(c, bid, "{fp:3}:00000000-0000-4000-8000-000000000301", NULL,
									   NULL), FF_OK, c, "release again (outputs NULL)");
	check_error(ff_client_release_budget(c, bid, "nope", NULL, NULL), FF_ERR_INVALID_INPUT,
				"release with a malformed execution id");

	/* usage and limits, limits, reset */
	is_status(ff_client_read_budget_usage_and_limits(c, bid, &limits_json, &usage_json), FF_OK, c,
			  "read_budget_usage_and_limits");
	ok(limits_json && strstr(limits_json, "\"hard:tokens\": \"100\"") &&
	   strstr(limits_json, "\"soft:tokens\": \"50\"") && usage_json &&
	   strstr(usage_json, "\"tokens\": 60"), "hard:/soft: limits, usage: %s %s",
	   limits_json ? limits_json : "-", usage_json ? usage_json : "-");
	free(limits_json);
	free(usage_json);
	is_status(ff_client_update_budget_limits(c, bid, (ff_budget_limit[]) {{"tokens", 60, 0}}, 1,
											 &breached, &unblocked), FF_OK, c, "update_budget_limits to 60");
	ok(breached && unblocked == 0, "at the limit: breached");
	check_error(ff_client_update_budget_limits(c, fresh_id(), limits, 1, NULL, NULL),
				FF_ERR_BUDGET_NOT_FOUND, "update limits of an unknown budget");
	is_status(ff_client_reset_budget(c, bid, &next, &unblocked), FF_OK, c, "reset_budget");
	ok(next == 0 && unblocked == 0, "no schedule, nothing held back");
	is_status(ff_client_get_budget_status(c, bid, &st), FF_OK, c, "status after the reset");
	ok(!st.breached && st.reset_count == 1 && st.dimensions[1].used == 0 && st.breach_count == 1,
	   "usage 0, not breached, reset_count 1, breach_count kept");
	ff_budget_status_clear(&st);
	check_error(ff_client_reset_budget(c, fresh_id(), NULL, NULL), FF_ERR_BUDGET_NOT_FOUND,
				"reset of an unknown budget");
}

/* a worker's reports breach the budget; the next execution waits for a reset */
static void
test_budget_enforced(void)
{
	const char *lane = unique_lane("bud-claim");
	char		bid[40];
	ff_budget_args ba = {0};
	ff_budget_created cr = {0};
	char	   *policy;
	char	   *e1;
	char	   *e2;
	char	   *state;
	ff_claimed h = {0};
	ff_claimed h2 = {0};
	ff_usage_result r = {0};
	ff_admission_list al = {0};
	int32_t		unblocked = 0;

	strcpy(bid, fresh_id());
	ba.budget_id = bid;
	ba.limits = (ff_budget_limit[]) {{"tokens", 100, 0}};
	ba.n_limits = 1;
	ff_client_create_budget(c, &ba, &cr);
	ff_budget_created_clear(&cr);
	policy = policy_with("budget_ids", bid);
	e1 = make_execution(c, lane, "one", policy);
	e2 = make_execution(c, lane, "two", policy);
	ok(claim_one(c, lane, 0, &h), "the worker claims the first");
	is_status(ff_client_report_usage(c, &h.handle, bid, (ff_usage_delta[]) {{"tokens", 70}}, 1, NULL, &r),
			  FF_OK, c, "report_usage with the handle");
	ok(r.outcome == FF_USAGE_OK, "ok");
	ff_usage_result_clear(&r);
	is_status(ff_client_report_usage(c, &h.handle, bid, (ff_usage_delta[]) {{"tokens", 40}}, 1, NULL, &r),
			  FF_OK, c, "report over the limit");
	ok(r.outcome == FF_USAGE_HARD_BREACH && r.current_usage == 70 && r.limit == 100, "hard_breach 70/100");
	ff_usage_result_clear(&r);
	is_int(admin_int("SELECT delta_total FROM ff_budget_usage_by_exec WHERE budget_id = '%s' "
					 "AND execution_id = split_part('%s', '}:', 2)::uuid", bid, e1), 70,
		   "the usage is attributed to the handle's execution");
	is_status(ff_client_complete(c, &h.handle, NULL, 0), FF_OK, c, "complete the first");
	ok(!claim_one(c, lane, 0, &h2), "the second is not claimed: the budget is breached");
	state = public_state(e2);
	is_str(state, "rate_limited", "... it is rate_limited");
	free(state);
	is_status(ff_client_read_admission(c, e2, &al), FF_OK, c, "read_admission");
	ok(al.count == 1 && strcmp(al.items[0].kind, "budget") == 0 && strcmp(al.items[0].id, bid) == 0 &&
	   strcmp(al.items[0].status, "blocked") == 0 && al.items[0].since_ms > 0,
	   "held back by the budget");
	ff_admission_list_clear(&al);
	ok(al.items == NULL && al.count == 0, "list cleared");
	check_error(ff_client_report_usage(c, &(ff_handle) {(unsigned char *) "\x01\x02", 2}, bid,
									   (ff_usage_delta[]) {{"tokens", 1}}, 1, NULL, &r),
				FF_ERR_CORRUPTION, "report_usage with a malformed handle");
	is_status(ff_client_reset_budget(c, bid, NULL, &unblocked), FF_OK, c, "reset");
	is_int(unblocked, 1, "the reset released the held-back execution");
	ok(claim_one(c, lane, 0, &h2), "... and it is claimed");
	is_str(h2.execution_id, e2, "the second execution");
	ff_client_complete(c, &h2.handle, NULL, 0);
	ff_claimed_clear(&h);
	ff_claimed_clear(&h2);
	free(policy);
	free(e1);
	free(e2);
}

static void
test_quota_calls(void)
{
	const char *lane = unique_lane("bud-quota");
	ff_quota_args qa = {0};
	char	   *qid = NULL;
	bool		created = false;
	ff_quota_limits l = {0};
	ff_admission_result ar = {0};
	ff_admission_limits lim = {60, 2, 0, 0};
	ff_admission_block b = {0};
	char	   *policy;
	char	   *e[3];
	char	   *state;
	ff_claimed h1 = {0};
	ff_claimed h2 = {0};
	bool		freed = true;
	int32_t		unblocked = -1;

	qa.max_concurrent = 1;
	is_status(ff_client_create_quota_policy(c, &qa, &qid, &created), FF_OK, c, "create_quota_policy");
	ok(created && qid && strlen(qid) == 36, "created with a minted id");
	qa.quota_policy_id = qid;
	is_status(ff_client_create_quota_policy(c, &qa, NULL, &created), FF_OK, c, "again (id output NULL)");
	ok(!created, "... already_satisfied");
	qa.quota_policy_id = NULL;
	qa.max_requests_per_window = -1;
	check_error(ff_client_create_quota_policy(c, &qa, NULL, NULL), FF_ERR_INVALID_QUOTA_SPEC,
				"a negative rate");
	is_status(ff_client_read_quota_policy_limits(c, qid, &l), FF_OK, c, "read_quota_policy_limits");
	ok(l.found && l.active_concurrency_cap == 1 && l.requests_per_window_seconds == 60 &&
	   l.max_requests_per_window == 0 && !l.is_unlimited && l.active_concurrency == 0,
	   "cap 1, 60 s window, no rate, nothing held");
	is_status(ff_client_read_quota_policy_limits(c, fresh_id(), &l), FF_OK, c, "limits of an unknown policy");
	ok(!l.found, "... found = false");

	/* admission outside the claim */
	is_status(ff_client_check_admission(c, qid, "{fp:4}:00000000-0000-4000-8000-000000000401", &lim, NULL,
										&ar), FF_OK, c, "check_admission with the caller's limits");
	ok(ar.outcome == FF_ADMISSION_ADMITTED && ar.retry_after_ms == -1, "admitted");
	is_status(ff_client_check_admission(c, qid, "{fp:4}:00000000-0000-4000-8000-000000000401", &lim, NULL,
										&ar), FF_OK, c, "the same execution again");
	ok(ar.outcome == FF_ADMISSION_ALREADY_ADMITTED, "already_admitted");
	ff_client_check_admission(c, qid, "{fp:4}:00000000-0000-4000-8000-000000000402", &lim, NULL, &ar);
	is_status(ff_client_check_admission(c, qid, "{fp:4}:00000000-0000-4000-8000-000000000403", &lim, NULL,
										&ar), FF_OK, c, "a third in a window of 2");
	ok(ar.outcome == FF_ADMISSION_RATE_EXCEEDED && ar.retry_after_ms > 0 && ar.retry_after_ms <= 60000,
	   "rate_exceeded with a retry_after_ms (%lld)", (long long) ar.retry_after_ms);
	is_str(ff_admission_outcome_name(ar.outcome), "rate_exceeded", "ff_admission_outcome_name");
	is_status(ff_client_check_admission(c, qid, "{fp:4}:00000000-0000-4000-8000-000000000404", NULL, "other",
										&ar), FF_OK, c, "the policy's limits, another dimension");
	ok(ar.outcome == FF_ADMISSION_ADMITTED, "admitted: it takes the policy's one slot");
	is_status(ff_client_check_admission(c, qid, "{fp:4}:00000000-0000-4000-8000-000000000405", NULL, "other",
										&ar), FF_OK, c, "another execution");
	ok(ar.outcome == FF_ADMISSION_CONCURRENCY_EXCEEDED && ar.retry_after_ms == -1,
	   "concurrency_exceeded (the cap of 1 is taken)");
	check_error(ff_client_check_admission(c, fresh_id(), "{fp:4}:00000000-0000-4000-8000-000000000401",
										  NULL, NULL, &ar), FF_ERR_QUOTA_POLICY_NOT_FOUND,
				"check_admission on an unknown policy without limits");
	is_status(ff_client_release_admission(c, qid, "{fp:4}:00000000-0000-4000-8000-000000000404", &freed,
										  &unblocked), FF_OK, c, "release_admission");
	ok(freed && unblocked == 0, "a slot freed");
	is_status(ff_client_release_admission(c, qid, "{fp:4}:00000000-0000-4000-8000-000000000404", &freed,
										  NULL), FF_OK, c, "release again");
	ok(!freed, "... nothing freed");
	check_error(ff_client_release_admission(c, qid, "x", NULL, NULL), FF_ERR_INVALID_INPUT,
				"release_admission with a malformed execution id");

	/* the cap inside ff_claim */
	policy = policy_with("quota_policy_id", qid);
	e[0] = make_execution(c, lane, "q1", policy);
	e[1] = make_execution(c, lane, "q2", policy);
	ok(claim_one(c, lane, 0, &h1), "cap 1: the first is claimed");
	ok(!claim_one(c, lane, 0, &h2), "... not the second");
	state = public_state(e[1]);
	is_str(state, "rate_limited", "the second waits for a slot (rate_limited)");
	free(state);
	is_status(ff_client_complete(c, &h1.handle, NULL, 0), FF_OK, c, "the first completes");
	state = public_state(e[1]);
	is_str(state, "waiting", "its slot freed: the second is released in that transaction");
	free(state);
	ok(claim_one(c, lane, 0, &h2), "... and claimed");
	ff_client_complete(c, &h2.handle, NULL, 0);

	/* block for admission */
	e[2] = make_execution(c, lane, "q3", policy);
	is_status(ff_client_block_execution_for_admission(c, e[2], "waiting_for_capable_worker", "no gpu", &b),
			  FF_OK, c, "block_execution_for_admission");
	ok(b.eligibility_state && strcmp(b.eligibility_state, "blocked_by_route") == 0 &&
	   strcmp(b.blocking_reason, "waiting_for_capable_worker") == 0 && strcmp(b.public_state, "waiting") == 0,
	   "blocked_by_route, waiting");
	ff_admission_block_clear(&b);
	check_error(ff_client_block_execution_for_admission(c, e[2], "paused", NULL, &b),
				FF_ERR_INVALID_BLOCKING_REASON, "block with an unknown reason");
	is_status(ff_client_block_execution_for_admission(c, e[0], "waiting_for_quota", NULL, &b),
			  FF_ERR_EXECUTION_NOT_ACTIVE, c, "block a completed execution -> execution_not_active");
	ff_claimed_clear(&h1);
	ff_claimed_clear(&h2);
	for (int i = 0; i < 3; i++)
		free(e[i]);
	free(policy);
	free(qid);
}

static void
test_reconcilers(void)
{
	int32_t		changed = -1;

	is_status(ff_client_reconcile_budget_reset(c, 0, &changed), FF_OK, c, "reconcile_budget_reset");
	ok(changed >= 0, "... rows changed %d", changed);
	is_status(ff_client_reconcile_budget_counters(c, 10, NULL), FF_OK, c, "reconcile_budget_counters");
	is_status(ff_client_reconcile_budget_executions(c, 0, &changed), FF_OK, c, "reconcile_budget_executions");
	is_status(ff_client_reconcile_quota_counters(c, 0, &changed), FF_OK, c, "reconcile_quota_counters");
	is_status(ff_client_reconcile_quota_unblock(c, 0, &changed), FF_OK, c, "reconcile_quota_unblock");
	is_status(ff_client_reconcile_admission_cleanup(c, 0, &changed), FF_OK, c, "reconcile_admission_cleanup");
	check_error(ff_client_reconcile_budget_counters(c, -5, NULL), FF_ERR_INVALID_INPUT,
				"a negative batch size");
	/* a corrupted counter is repaired */
	{
		ff_budget_args ba = {0};
		ff_budget_created cr = {0};
		char		bid[40];

		strcpy(bid, fresh_id());
		ba.budget_id = bid;
		ff_client_create_budget(c, &ba, &cr);
		ff_budget_created_clear(&cr);
		ff_usage_result r = {0};

		ff_client_report_usage_admin(c, bid, (ff_usage_delta[]) {{"calls", 3}}, 1, NULL, &r);
		ff_usage_result_clear(&r);
		admin_exec("UPDATE ff_budget_usage SET current_value = 99 WHERE budget_id = '%s'", bid);
		is_status(ff_client_reconcile_budget_counters(c, 0, &changed), FF_OK, c, "reconcile a corrupted counter");
		ok(changed >= 1, "... repaired (%d)", changed);
		is_int(admin_int("SELECT current_value FROM ff_budget_usage WHERE budget_id = '%s'", bid), 3,
			   "back to 3");
	}
}

/* ------------------------------------------------------------------------
 * ffctl
 * ------------------------------------------------------------------------ */
static void
test_ffctl(void)
{
	const char *lane = unique_lane("bud-ffctl");
	char		bid[40];
	char		qid[40];
	char		out[4096];
	char	   *policy;
	char	   *e1;
	char	   *hex = NULL;
	ff_claimed	h = {0};
	int			rc;

	strcpy(bid, fresh_id());
	strcpy(qid, fresh_id());
	rc = ffctl_run(out, sizeof(out), "--json budget create %s --limit tokens=100/50 --scope tenant:acme "
			   "--on-hard-limit block", bid);
	ok(rc == 0 && strstr(out, "\"outcome\":\"created\"") && strstr(out, bid), "ffctl --json budget create: %s", out);
	rc = ffctl_run(out, sizeof(out), "budget create %s", bid);
	ok(rc == 0 && strncmp(out, "already_satisfied", 17) == 0, "ffctl budget create again: %s", out);
	rc = ffctl_run(out, sizeof(out), "--json budget usage %s tokens=60 --dedup-key a", bid);
	ok(rc == 0 && strstr(out, "\"outcome\":\"soft_breach\"") && strstr(out, "\"current_usage\":60") &&
	   strstr(out, "\"limit\":50"), "ffctl --json budget usage: %s", out);
	rc = ffctl_run(out, sizeof(out), "--json budget usage %s tokens=60 --dedup-key a", bid);
	ok(rc == 0 && strstr(out, "\"outcome\":\"already_applied\"") &&
	   strstr(out, "\"first_outcome\":\"soft_breach\""), "ffctl budget usage replay: %s", out);
	rc = ffctl_run(out, sizeof(out), "budget usage %s tokens=60", bid);
	ok(rc == 0 && strcmp(out, "hard_breach tokens 60/100") == 0, "ffctl budget usage over the limit: %s", out);
	rc = ffctl_run(out, sizeof(out), "--json budget status %s", bid);
	ok(rc == 0 && strstr(out, "\"breached\":true") && strstr(out, "\"scope_type\":\"tenant\"") &&
	   strstr(out, "{\"dimension\":\"tokens\",\"used\":60,\"hard_limit\":100,\"soft_limit\":50}"),
	   "ffctl --json budget status: %s", out);
	rc = ffctl_run(out, sizeof(out), "--json budget show %s", bid);
	ok(rc == 0 && strstr(out, "\"hard:tokens\": \"100\""), "ffctl --json budget show: %s", out);

	/* an attached execution is held back, then released by ffctl budget reset */
	policy = policy_with("budget_ids", bid);
	e1 = make_execution(c, lane, "x", policy);
	ok(!claim_one(c, lane, 0, &h), "the attached execution is held back");
	rc = ffctl_run(out, sizeof(out), "--json quota admission '%s'", e1);
	ok(rc == 0 && strstr(out, "\"kind\":\"budget\"") && strstr(out, "\"status\":\"blocked\""),
	   "ffctl --json quota admission: %s", out);
	rc = ffctl_run(out, sizeof(out), "--json budget reset %s", bid);
	ok(rc == 0 && strstr(out, "\"outcome\":\"reset\"") && strstr(out, "\"unblocked\":1"),
	   "ffctl --json budget reset releases it: %s", out);
	ok(claim_one(c, lane, 0, &h), "... claimed");
	ff_handle_to_hex(&h.handle, &hex);
	rc = ffctl_run(out, sizeof(out), "--json budget report %s %s tokens=5 --dedup-key r1", hex, bid);
	ok(rc == 0 && strstr(out, "\"outcome\":\"ok\""), "ffctl --json budget report (a handle): %s", out);
	rc = ffctl_run(out, sizeof(out), "--json budget spend %s '%s' tokens=7 --idempotency-key s1", bid, e1);
	ok(rc == 0 && strstr(out, "\"outcome\":\"ok\""), "ffctl --json budget spend: %s", out);
	rc = ffctl_run(out, sizeof(out), "--json budget release %s '%s'", bid, e1);
	ok(rc == 0 && strstr(out, "\"released_dimensions\":1"), "ffctl --json budget release: %s", out);
	rc = ffctl_run(out, sizeof(out), "--json budget limits %s tokens=200/0", bid);
	ok(rc == 0 && strstr(out, "\"breached\":false"), "ffctl --json budget limits: %s", out);
	ff_client_complete(c, &h.handle, NULL, 0);
	rc = ffctl_run(out, sizeof(out), "--json budget reconcile counters");
	ok(rc == 0 && strstr(out, "\"counters\":"), "ffctl --json budget reconcile counters: %s", out);
	rc = ffctl_run(out, sizeof(out), "budget status %s", fresh_id());
	is_int(rc, 4, "ffctl budget status of an unknown budget: exit 4");
	rc = ffctl_run(out, sizeof(out), "--json budget create --scope Bad");
	ok(rc == 1 && strstr(out, "\"kind\":\"invalid_budget_scope\"") && strstr(out, "YFV17"),
	   "ffctl --json budget create with a bad scope: exit 1, the error as JSON");
	rc = ffctl_run(out, sizeof(out), "budget usage %s tokens", bid);
	is_int(rc, 2, "ffctl budget usage with a bad DIM=DELTA: exit 2");
	rc = ffctl_run(out, sizeof(out), "budget frobnicate");
	is_int(rc, 2, "ffctl budget with an unknown verb: exit 2");

	/* quota verbs */
	rc = ffctl_run(out, sizeof(out), "--json quota create %s --window-seconds 10 --max-requests 2 --max-concurrent 5",
			   qid);
	ok(rc == 0 && strstr(out, "\"outcome\":\"created\"") && strstr(out, qid), "ffctl --json quota create: %s", out);
	rc = ffctl_run(out, sizeof(out), "--json quota show %s", qid);
	ok(rc == 0 && strstr(out, "\"max_requests_per_window\":2") && strstr(out, "\"active_concurrency_cap\":5") &&
	   strstr(out, "\"is_unlimited\":false"), "ffctl --json quota show: %s", out);
	rc = ffctl_run(out, sizeof(out), "quota show %s", fresh_id());
	is_int(rc, 4, "ffctl quota show of an unknown policy: exit 4");
	rc = ffctl_run(out, sizeof(out), "--json quota check %s '{fp:5}:00000000-0000-4000-8000-000000000501'", qid);
	ok(rc == 0 && strstr(out, "\"outcome\":\"admitted\"") && strstr(out, "\"retry_after_ms\":null"),
	   "ffctl --json quota check: %s", out);
	ffctl_run(out, sizeof(out), "quota check %s '{fp:5}:00000000-0000-4000-8000-000000000502'", qid);
	rc = ffctl_run(out, sizeof(out), "--json quota check %s '{fp:5}:00000000-0000-4000-8000-000000000503'", qid);
	ok(rc == 0 && strstr(out, "\"outcome\":\"rate_exceeded\"") && !strstr(out, "\"retry_after_ms\":null"),
	   "ffctl --json quota check over the rate: %s", out);
	rc = ffctl_run(out, sizeof(out), "--json quota check %s '{fp:5}:00000000-0000-4000-8000-000000000503' --rate 5",
			   qid);
	is_int(rc, 2, "ffctl quota check with only some limits: exit 2");
	rc = ffctl_run(out, sizeof(out), "--json quota release %s '{fp:5}:00000000-0000-4000-8000-000000000501'", qid);
	ok(rc == 0 && strstr(out, "\"slot_released\":true"), "ffctl --json quota release: %s", out);
	rc = ffctl_run(out, sizeof(out), "--json quota reconcile");
	ok(rc == 0 && strstr(out, "\"counters\":") && strstr(out, "\"unblock\":") && strstr(out, "\"cleanup\":"),
	   "ffctl --json quota reconcile: %s", out);
	{
		char	   *e2 = make_execution(c, lane, "y", NULL);

		rc = ffctl_run(out, sizeof(out), "--json quota block '%s' waiting_for_quota --detail manual", e2);
		ok(rc == 0 && strstr(out, "\"public_state\":\"rate_limited\""), "ffctl --json quota block: %s", out);
		rc = ffctl_run(out, sizeof(out), "quota block '%s' nonsense", e2);
		is_int(rc, 1, "ffctl quota block with a bad reason: exit 1");
		free(e2);
	}
	ff_claimed_clear(&h);
	free(hex);
	free(e1);
	free(policy);
}

int
main(void)
{
	c = test_client();
	test_budget_calls();
	test_budget_enforced();
	test_quota_calls();
	test_reconcilers();
	test_ffctl();
	ff_client_close(c);
	PQfinish(admin());
	return done_testing();
}

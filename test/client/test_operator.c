/*
 * test_operator.c - the scheduler, reclaim, operator-control, lane, worker
 * registry and operator-event calls of libflowfabric (client/src/operator.c):
 * each call's success path and every error kind it can return, checked for
 * the typed kind, the SQLSTATE, the retryable flag and the message prefix.
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

#define check_error(got, want, retryable, what) expect_error(c, got, want, NULL, retryable, what)

/* the engine clock of the test's own connection (testing setting) */
static void
clock_offset(int ms)
{
	char		sql[64];
	PGresult   *res;

	snprintf(sql, sizeof(sql), "SET flowfabric.clock_offset_ms = %d", ms);
	res = PQexec(ff_client_pgconn(c), sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		printf("# SET failed: %s", PQerrorMessage(ff_client_pgconn(c)));
	PQclear(res);
}

/* the key with its last hex digit changed */
static char *
forged(const char *key)
{
	char	   *k = malloc(strlen(key) + 1);
	size_t		n = strlen(key);

	strcpy(k, key);
	k[n - 1] = k[n - 1] == '0' ? '1' : '0';
	return k;
}

static const ff_grant_args *
worker(const char *id, const char *instance)
{
	static ff_grant_args a;

	memset(&a, 0, sizeof(a));
	a.worker_id = id;
	a.worker_instance_id = instance;
	return &a;
}

/* ------------------------------------------------------------------------ */
static void
test_grants(void)
{
	const char *lane = unique_lane("op-grant");
	const char *empty = unique_lane("op-empty");
	const char *caps[] = {"gpu"};
	const char *bad_caps[] = {"a,b"};
	char	   *id = make_execution(c, lane, "g1", NULL);
	ff_claim_grant g = {0};
	ff_claim_grant g2 = {0};
	ff_granted_claim cl = {0};
	ff_grant_args a;
	char	   *fake;
	int64_t		now = 0;

	ff_client_server_time_ms(c, &now);
	is_status(ff_client_claim_for_worker(c, &lane, 1, worker("w1", "w1/1"), &g), FF_OK, c,
			  "claim_for_worker");
	ok(g.found, "a grant was issued");
	is_str(g.execution_id, id, "for the waiting execution");
	is_str(g.lane_id, lane, "its lane");
	ok(g.partition_key && strncmp(g.partition_key, "{fp:", 4) == 0, "partition key {fp:N}");
	ok(g.grant_key && strncmp(g.grant_key, "pg:{fp:", 7) == 0, "grant key pg:{fp:N}:...");
	ok(g.expires_at_ms >= now + 9000 && g.expires_at_ms <= now + 11000, "expires in the default 10 s");
	is_status(ff_client_claim_for_worker(c, &empty, 1, worker("w1", "w1/1"), &g2), FF_OK, c,
			  "claim_for_worker on an empty lane");
	ok(!g2.found && g2.grant_key == NULL, "no work: found = false");
	check_error(ff_client_claim_for_worker(c, &lane, 0, worker("w1", "w1/1"), &g2),
				FF_ERR_INVALID_INPUT, false, "claim_for_worker without lanes");
	a = *worker("w1", "w1/1");
	a.capabilities = bad_caps;
	a.n_capabilities = 1;
	check_error(ff_client_claim_for_worker(c, &lane, 1, &a, &g2), FF_ERR_INVALID_CAPABILITIES, false,
				"claim_for_worker with a bad capability");
	is_status(ff_client_claim_for_worker(c, &lane, 1, NULL, &g2), FF_ERR_USAGE, c,
			  "claim_for_worker without args -> usage");

	/* consuming */
	check_error(ff_client_claim_execution(c, id, g.grant_key, "w2", "w2/1", 0, &cl),
				FF_ERR_INVALID_CLAIM_GRANT, true, "claim_execution by another worker");
	fake = forged(g.grant_key);
	check_error(ff_client_claim_execution(c, id, fake, "w1", "w1/1", 0, &cl),
				FF_ERR_INVALID_TOKEN, false, "claim_execution with a forged grant");
	free(fake);
	is_status(ff_client_claim_execution(c, id, g.grant_key, "w1", "w1/1", 60000, &cl), FF_OK, c,
			  "claim_execution by the grant holder");
	ok(cl.claimed && cl.claim.handle.data != NULL, "claimed with a handle");
	is_str(cl.claim.execution_id, id, "the granted execution");
	is_str(cl.attempt_type, "initial", "attempt type initial");
	is_int(cl.claim.lease_epoch, 1, "epoch 1");
	ok(cl.claim.input_payload.len == 2 && memcmp(cl.claim.input_payload.data, "g1", 2) == 0, "with its input");
	ok(cl.outcome == NULL, "no outcome for a plain claim");
	is_status(ff_client_complete(c, &cl.claim.handle, NULL, 0), FF_OK, c, "the handle completes");
	ff_granted_claim_clear(&cl);
	check_error(ff_client_claim_execution(c, id, g.grant_key, "w1", "w1/1", 0, &cl),
				FF_ERR_INVALID_CLAIM_GRANT, true, "the same grant twice");
	ok(!cl.claimed && cl.attempt_type == NULL, "the result is left zeroed on error");
	ff_granted_claim_clear(&cl);
	ff_claim_grant_clear(&g);
	ff_claim_grant_clear(&g2);
	free(id);

	/* ff_issue_claim_grant: expiry, already exists, capabilities, unknown */
	id = make_execution(c, lane, NULL, "{\"routing_requirements\": {\"required_capabilities\": [\"gpu\"]}}");
	a = *worker("w1", "w1/1");
	a.capabilities = caps;
	a.n_capabilities = 1;
	a.grant_ttl_ms = 1000;
	a.capability_hash = "h";
	is_status(ff_client_issue_claim_grant(c, id, &a, &g), FF_OK, c, "issue_claim_grant");
	ok(g.found && strcmp(g.execution_id, id) == 0, "a grant for the named execution");
	is_int(admin_int("SELECT count(*) FROM ff_claim_grant WHERE capability_hash = 'h' AND grant_ttl_ms = 1000"), 1,
		   "stored with its capability hash and ttl");
	check_error(ff_client_issue_claim_grant(c, id, &a, &g2), FF_ERR_GRANT_ALREADY_EXISTS, false,
				"issue_claim_grant twice");
	check_error(ff_client_issue_claim_grant(c, id, worker("w3", "w3/1"), &g2), FF_ERR_CAPABILITY_MISMATCH,
				false, "issue_claim_grant to a worker without gpu");
	check_error(ff_client_issue_claim_grant(c, "{fp:1}:00000000-0000-4000-8000-00000000dead", &a, &g2),
				FF_ERR_EXECUTION_NOT_FOUND, false, "issue_claim_grant for an unknown execution");
	clock_offset(1000);
	check_error(ff_client_claim_execution(c, id, g.grant_key, "w1", "w1/1", 0, &cl),
				FF_ERR_CLAIM_GRANT_EXPIRED, true, "claim_execution with an expired grant");
	{
		int32_t		n = -1;

		is_status(ff_client_reconcile_claim_grants(c, 0, &n), FF_OK, c, "reconcile_claim_grants");
		ok(n >= 1, "the expired grant was reaped (%d)", n);
	}
	clock_offset(0);
	check_error(ff_client_reconcile_claim_grants(c, -1, NULL), FF_ERR_INVALID_INPUT, false,
				"reconcile_claim_grants with batch -1");
	ff_claim_grant_clear(&g);

	/* the operator's one-step claim */
	is_status(ff_client_issue_grant_and_claim(c, id, 0, NULL, NULL, &cl), FF_OK, c, "issue_grant_and_claim");
	ok(cl.claimed && strcmp(cl.attempt_type, "initial") == 0, "claimed, initial attempt");
	{
		char	   *w = admin_str("SELECT worker_id FROM ff_attempt WHERE execution_id = '%s'::text::uuid",
								  strstr(id, "}:") + 2);

		is_str(w, "operator", "by worker operator");
		free(w);
	}
	ff_granted_claim_clear(&cl);
	check_error(ff_client_issue_grant_and_claim(c, id, 0, NULL, NULL, &cl),
				FF_ERR_LEASE_CONFLICT, true, "issue_grant_and_claim of a leased execution");
	free(id);
}

static void
test_reclaim(void)
{
	const char *lane = unique_lane("op-reclaim");
	char	   *id = make_execution(c, lane, "r", NULL);
	char	   *id2 = make_execution(c, lane, "r2", NULL);
	char	   *capped = make_execution(c, unique_lane("op-capped"), "x", "{\"max_reclaim_count\": 0}");
	ff_claimed h1 = {0},
				h2 = {0},
				h3 = {0};
	ff_reclaim_grant rg = {0},
				rg2 = {0};
	ff_granted_claim cl = {0};
	char	   *fake;
	ff_claim_args ca = {0};
	ff_claim_list cll = {0};

	claim_one(c, lane, 1000, &h1);
	claim_one(c, lane, 1000, &h2);
	ca.lane_id = admin_str("SELECT lane_id FROM ff_execution WHERE execution_id = '%s'::uuid", strstr(capped, "}:") + 2);
	ca.worker_id = "w";
	ca.worker_instance_id = "w/1";
	ca.lease_ttl_ms = 1000;
	ff_client_claim(c, &ca, &cll);
	ff_claim_list_clear(&cll);
	check_error(ff_client_issue_reclaim_grant(c, id, worker("w2", "w2/1"), &rg),
				FF_ERR_EXECUTION_NOT_RECLAIMABLE, true, "issue_reclaim_grant on a live lease");
	clock_offset(2000);
	ff_client_reconcile_lease_expiry(c, 0, NULL);
	clock_offset(0);
	is_status(ff_client_issue_reclaim_grant(c, id, worker("w2", "w2/1"), &rg), FF_OK, c, "issue_reclaim_grant");
	is_str(rg.outcome, "granted", "granted");
	ok(rg.grant_key && strncmp(rg.grant_key, "pg:reclaim:{fp:", 15) == 0, "a pg:reclaim: key");
	is_int(rg.reclaim_count, 0, "reclaim_count 0");
	fake = forged(rg.grant_key);
	check_error(ff_client_reclaim_execution(c, id, fake, "w2", "w2/1", 0, &cl), FF_ERR_INVALID_TOKEN,
				false, "reclaim_execution with a forged grant");
	free(fake);
	check_error(ff_client_reclaim_execution(c, id, rg.grant_key, "w9", "w9/1", 0, &cl),
				FF_ERR_INVALID_CLAIM_GRANT, true, "reclaim_execution by another worker");
	is_status(ff_client_reclaim_execution(c, id, rg.grant_key, "w2", "w2/1", 0, &cl), FF_OK, c,
			  "reclaim_execution");
	ok(cl.claimed && cl.claim.handle.data, "claimed");
	is_str(cl.outcome, "claimed", "outcome claimed");
	is_str(cl.attempt_type, "reclaim", "a reclaim attempt");
	is_int(cl.claim.attempt_index, 1, "attempt 1");
	is_int(cl.reclaim_count, 1, "reclaim_count 1");
	check_error(ff_client_complete(c, &h1.handle, NULL, 0), FF_ERR_STALE_LEASE, false,
				"the vanished worker's handle");
	ff_granted_claim_clear(&cl);

	/* ff_claim_from_resume_grant */
	is_status(ff_client_issue_reclaim_grant(c, id2, worker("w2", "w2/1"), &rg2), FF_OK, c,
			  "a reclaim grant for the second");
	is_status(ff_client_claim_from_resume_grant(c, rg2.grant_key, "w2", "w2/1", 0, &cl), FF_OK, c,
			  "claim_from_resume_grant");
	ok(cl.claimed && strcmp(cl.attempt_type, "reclaim") == 0, "reclaimed");
	ff_granted_claim_clear(&cl);
	is_status(ff_client_claim_from_resume_grant(c, rg2.grant_key, "w2", "w2/1", 0, &cl),
			  FF_ERR_INVALID_CLAIM_GRANT, c, "claim_from_resume_grant again -> invalid_claim_grant");
	ff_reclaim_grant_clear(&rg2);

	/* the cap */
	is_status(ff_client_issue_reclaim_grant(c, capped, worker("w2", "w2/1"), &rg2), FF_OK, c,
			  "issue_reclaim_grant at the cap");
	is_str(rg2.outcome, "reclaim_cap_exceeded", "outcome reclaim_cap_exceeded");
	ok(rg2.grant_key == NULL && rg2.expires_at_ms == 0, "no grant");
	{
		char	   *st = admin_str("SELECT public_state FROM ff_execution WHERE execution_id = '%s'::uuid",
								   strstr(capped, "}:") + 2);

		is_str(st, "failed", "the execution failed");
		free(st);
	}
	ff_reclaim_grant_clear(&rg2);
	check_error(ff_client_issue_reclaim_grant(c, "{fp:1}:00000000-0000-4000-8000-00000000dead",
											  worker("w2", "w2/1"), &rg2),
				FF_ERR_EXECUTION_NOT_FOUND, false, "issue_reclaim_grant for an unknown execution");
	ff_reclaim_grant_clear(&rg);
	ff_reclaim_grant_clear(&rg2);
	ff_claimed_clear(&h1);
	ff_claimed_clear(&h2);
	ff_claimed_clear(&h3);
	free((char *) ca.lane_id);
	free(id);
	free(id2);
	free(capped);
}

static void
test_scan_block(void)
{
	const char *lane = unique_lane("op-scan");
	char	   *a = make_execution(c, lane, NULL, NULL);
	ff_eligible_list l = {0};
	ff_block_result b = {0};

	is_status(ff_client_scan_eligible_executions(c, lane, NULL, 0, &l), FF_OK, c, "scan_eligible_executions");
	is_int(l.count, 1, "one eligible");
	if (l.count == 1)
	{
		is_str(l.items[0].execution_id, a, "the execution");
		is_str(l.items[0].attempt_state, "pending_first_attempt", "its attempt state");
		ok(!l.items[0].granted, "not granted");
	}
	ff_eligible_list_clear(&l);
	check_error(ff_client_scan_eligible_executions(c, "", NULL, 0, &l), FF_ERR_INVALID_INPUT, false,
				"scan with an empty lane");
	is_status(ff_client_block_route(c, a, NULL, "no gpu worker", &b), FF_OK, c, "block_route");
	is_str(b.eligibility_state, "blocked_by_route", "blocked_by_route");
	is_str(b.blocking_detail, "no gpu worker", "with the detail");
	ff_block_result_clear(&b);
	check_error(ff_client_block_route(c, a, "because", NULL, &b), FF_ERR_INVALID_BLOCKING_REASON, false,
				"block_route with an unknown reason");
	check_error(ff_client_unblock_execution(c, a, "waiting_for_budget", &b), FF_ERR_EXECUTION_NOT_ELIGIBLE,
				true, "unblock expecting another reason");
	is_status(ff_client_unblock_execution(c, a, NULL, &b), FF_OK, c, "unblock_execution");
	is_str(b.public_state, "waiting", "waiting again");
	ok(b.blocking_detail == NULL, "no detail");
	ff_block_result_clear(&b);
	free(a);
}

static void
test_operator_controls(void)
{
	const char *lane = unique_lane("op-ctl");
	char	   *id = make_execution(c, lane, NULL, NULL);
	ff_claimed h = {0};
	ff_cancel_execution_result r = {0};
	ff_replay_result rp = {0};
	ff_revoke_result rv = {0};
	int32_t		oldp = -1,
				newp = -1;
	int64_t		epoch = 7;
	char	   *lid;

	/* priority */
	is_status(ff_client_change_priority(c, id, 12000, &oldp, &newp), FF_OK, c, "change_priority");
	is_int(oldp, 0, "old priority 0");
	is_int(newp, 9000, "new priority clamped to 9000");
	/* cancel a running execution */
	claim_one(c, lane, 60000, &h);
	check_error(ff_client_change_priority(c, id, 1, NULL, NULL), FF_ERR_EXECUTION_NOT_ELIGIBLE, true,
				"change_priority of an active execution");
	check_error(ff_client_cancel_execution(c, id, "x", "lease_holder", &epoch, &r), FF_ERR_STALE_LEASE, false,
				"cancel as lease_holder with a wrong epoch");
	is_status(ff_client_cancel_execution(c, id, "stop", NULL, NULL, &r), FF_OK, c, "cancel_execution");
	is_str(r.outcome, "cancelled", "cancelled");
	is_str(r.public_state, "cancelled", "public state cancelled");
	ok(r.lease_revoked, "its lease was revoked");
	ff_cancel_execution_result_clear(&r);
	check_error(ff_client_complete(c, &h.handle, NULL, 0), FF_ERR_LEASE_REVOKED, false,
				"the holder's complete after the cancel");
	ok(ff_status_is_lease_lost(FF_ERR_LEASE_REVOKED), "lease_revoked is a lease-lost kind");
	is_status(ff_client_cancel_execution(c, id, NULL, NULL, NULL, NULL), FF_OK, c,
			  "cancel again (out may be NULL)");
	is_status(ff_client_cancel_execution(c, id, NULL, NULL, NULL, &r), FF_OK, c, "cancel again");
	is_str(r.outcome, "already_cancelled", "already_cancelled");
	ff_cancel_execution_result_clear(&r);
	check_error(ff_client_cancel_execution(c, "{fp:1}:00000000-0000-4000-8000-00000000dead", NULL, NULL, NULL, &r),
				FF_ERR_EXECUTION_NOT_FOUND, false, "cancel an unknown execution");
	ff_claimed_clear(&h);

	/* replay */
	is_status(ff_client_replay_execution(c, id, "again", &rp), FF_OK, c, "replay_execution");
	is_str(rp.public_state, "waiting", "waiting");
	is_int(rp.replay_count, 1, "replay 1");
	ff_replay_result_clear(&rp);
	check_error(ff_client_replay_execution(c, id, NULL, &rp), FF_ERR_EXECUTION_NOT_TERMINAL, false,
				"replay a waiting execution");
	claim_one(c, lane, 60000, &h);
	{
		char	   *t = admin_str("SELECT attempt_type FROM ff_attempt WHERE execution_id = '%s'::uuid "
								  "AND attempt_index = %d", strstr(id, "}:") + 2, h.attempt_index);

		is_str(t, "replay", "the next claim is a replay attempt");
		free(t);
	}
	/* revoke */
	is_status(ff_client_revoke_lease(c, id, "00000000-0000-4000-8000-000000000000", NULL, NULL, &rv), FF_OK, c,
			  "revoke_lease with another lease id");
	is_str(rv.outcome, "already_satisfied", "already_satisfied");
	is_str(rv.detail, "lease_id_mismatch", "lease_id_mismatch");
	ff_revoke_result_clear(&rv);
	lid = admin_str("SELECT lease_id FROM ff_attempt WHERE execution_id = '%s'::uuid AND attempt_index = %d",
					strstr(id, "}:") + 2, h.attempt_index);
	is_status(ff_client_revoke_lease(c, id, lid, "test-worker/1", "stuck", &rv), FF_OK, c, "revoke_lease");
	is_str(rv.outcome, "revoked", "revoked");
	is_str(rv.lease_id, lid, "the lease id");
	ok(rv.detail == NULL && rv.lease_epoch == h.lease_epoch, "the lease epoch, no detail");
	ff_revoke_result_clear(&rv);
	free(lid);
	check_error(ff_client_renew(c, &h.handle, NULL), FF_ERR_LEASE_REVOKED, false, "the holder's renew after revoke");
	is_status(ff_client_revoke_lease(c, id, NULL, NULL, NULL, &rv), FF_OK, c, "revoke again");
	is_str(rv.detail, "no_active_lease", "no_active_lease");
	ff_revoke_result_clear(&rv);
	is_status(ff_client_revoke_lease(c, id, "not-a-uuid", NULL, NULL, &rv), FF_ERR_INVALID_INPUT, c,
			  "revoke with a malformed lease id -> invalid_input");
	is_str(ff_client_last_error(c)->sqlstate, "22P02", "... PostgreSQL's 22P02 (not a uuid)");
	ff_claimed_clear(&h);
	/* a completed execution cannot be cancelled; its replays are limited */
	free(id);
	lane = unique_lane("op-ctl-done");
	id = make_execution(c, lane, NULL, "{\"max_replay_count\": 0}");
	claim_one(c, lane, 60000, &h);
	ff_client_complete(c, &h.handle, NULL, 0);
	ff_claimed_clear(&h);
	check_error(ff_client_cancel_execution(c, id, NULL, NULL, NULL, &r), FF_ERR_TERMINAL, false,
				"cancel a completed execution");
	check_error(ff_client_replay_execution(c, id, NULL, &rp), FF_ERR_MAX_REPLAYS_EXHAUSTED, false,
				"replay past max_replay_count");
	free(id);
	/* a flow member (ids unique to this run) */
	{
		char		flow[40];
		char		member[40];

		snprintf(flow, sizeof(flow), "f0000000-0000-4000-8000-%012lx", (unsigned long) getpid());
		snprintf(member, sizeof(member), "f0000001-0000-4000-8000-%012lx", (unsigned long) getpid());
		admin_exec("SELECT ff_create_flow('%s')", flow);
		admin_exec("SELECT ff_create_execution('%s', execution_id => ff_new_flow_execution_id('%s', '%s'))",
				   lane, flow, member);
		admin_exec("SELECT ff_add_execution_to_flow('%s', ff_new_flow_execution_id('%s', '%s'))", flow, flow,
				   member);
		id = admin_str("SELECT ff_new_flow_execution_id('%s', '%s')", flow, member);
	}
	is_status(ff_client_cancel_execution(c, id, NULL, NULL, NULL, NULL), FF_OK, c, "cancel a flow member");
	check_error(ff_client_replay_execution(c, id, NULL, &rp), FF_ERR_REPLAY_NOT_ALLOWED, false,
				"replay a flow member");
	free(id);
}

static void
test_lanes(void)
{
	const char *lane = unique_lane("op-lane");
	char	   *id = make_execution(c, lane, NULL, NULL);
	ff_lane_state_change r = {0};
	ff_lane_state_list l = {0};
	ff_claimed h = {0};
	bool		found = false;

	is_status(ff_client_pause_lane(c, lane, "maintenance", &r), FF_OK, c, "pause_lane");
	is_str(r.state, "paused", "paused");
	is_str(r.previous_state, "active", "was active");
	ff_lane_state_change_clear(&r);
	ok(!claim_one(c, lane, 0, &h), "a paused lane hands out nothing");
	is_status(ff_client_list_lane_states(c, NULL, 1000, &l), FF_OK, c, "list_lane_states");
	for (size_t i = 0; i < l.count; i++)
		if (strcmp(l.items[i].lane_id, lane) == 0)
			found = strcmp(l.items[i].state, "paused") == 0 &&
				strcmp(l.items[i].registered_by, "create_execution") == 0;
	ok(found, "the lane is listed as paused");
	ff_lane_state_list_clear(&l);
	is_status(ff_client_drain_lane(c, lane, NULL, &r), FF_OK, c, "drain_lane");
	is_str(r.state, "draining", "draining");
	ff_lane_state_change_clear(&r);
	ok(!claim_one(c, lane, 0, &h), "a draining lane hands out no new work");
	is_status(ff_client_resume_lane(c, lane, NULL, NULL), FF_OK, c, "resume_lane (out may be NULL)");
	ok(claim_one(c, lane, 0, &h), "resumed: claimed");
	ff_claimed_clear(&h);
	check_error(ff_client_pause_lane(c, "", NULL, &r), FF_ERR_INVALID_INPUT, false, "pause an empty lane id");
	free(id);
}

static void
test_registry(void)
{
	const char *lane = unique_lane("op-reg");
	const char *lanes[] = {lane, "b-lane", "a-lane"};
	const char *caps[] = {"gpu", "cpu"};
	ff_register_worker_args a = {0};
	ff_worker_liveness r = {0};
	ff_worker_list wl = {0};
	ff_expired_lease_list el = {0};
	char	   *id = make_execution(c, lane, NULL, NULL);
	char	   *outcome = NULL;
	int32_t		released = -1,
				n = -1;
	ff_claim_args ca = {0};
	ff_claim_list cl = {0};
	char		instance[64];
	char		ns[64];

	snprintf(instance, sizeof(instance), "op-w/%s", lane);
	snprintf(ns, sizeof(ns), "ns-%s", lane);
	a.worker_id = "op-w";
	a.worker_instance_id = instance;
	a.lanes = lanes;
	a.n_lanes = 3;
	a.capabilities = caps;
	a.n_capabilities = 2;
	a.ns = ns;
	is_status(ff_client_register_worker(c, &a, &r), FF_OK, c, "register_worker");
	is_str(r.outcome, "registered", "registered");
	ok(r.next_expiry_ms > 0, "next expiry");
	ff_worker_liveness_clear(&r);
	is_status(ff_client_register_worker(c, &a, &r), FF_OK, c, "register again");
	is_str(r.outcome, "refreshed", "refreshed");
	ff_worker_liveness_clear(&r);
	a.worker_id = "other";
	check_error(ff_client_register_worker(c, &a, &r), FF_ERR_INVALID_INPUT, false,
				"register the instance under another worker id");
	a.worker_id = "op-w";
	is_status(ff_client_heartbeat_worker(c, instance, ns, &r), FF_OK, c, "heartbeat_worker");
	is_str(r.outcome, "refreshed", "refreshed");
	ff_worker_liveness_clear(&r);
	is_status(ff_client_heartbeat_worker(c, "nobody", ns, &r), FF_OK, c, "heartbeat of an unknown instance");
	is_str(r.outcome, "not_registered", "not_registered");
	is_int(r.next_expiry_ms, 0, "no expiry");
	ff_worker_liveness_clear(&r);
	is_status(ff_client_list_workers(c, ns, NULL, 0, &wl), FF_OK, c, "list_workers");
	is_int(wl.count, 1, "one worker in the namespace");
	if (wl.count == 1)
	{
		ff_worker_info *w = &wl.items[0];

		is_str(w->worker_instance_id, instance, "its instance");
		is_str(w->ns, ns, "its namespace");
		is_int(w->n_lanes, 3, "three lanes");
		if (w->n_lanes == 3)
			ok(strcmp(w->lanes[0], "a-lane") == 0 && strcmp(w->lanes[1], "b-lane") == 0 &&
			   strcmp(w->lanes[2], lane) == 0, "sorted");
		is_int(w->n_capabilities, 2, "two capabilities");
		if (w->n_capabilities == 2)
			ok(strcmp(w->capabilities[0], "cpu") == 0 && strcmp(w->capabilities[1], "gpu") == 0, "sorted");
		ok(w->alive && w->expires_at_ms == w->last_heartbeat_ms + w->liveness_ttl_ms, "alive until last heartbeat + ttl");
	}
	ff_worker_list_clear(&wl);
	/* it claims, then dies */
	ca.lane_id = lane;
	ca.worker_id = "op-w";
	ca.worker_instance_id = instance;
	ff_client_claim(c, &ca, &cl);
	is_int(cl.count, 1, "the worker claims");
	is_status(ff_client_mark_worker_dead(c, instance, ns, "host lost", &outcome, &released), FF_OK, c,
			  "mark_worker_dead");
	is_str(outcome, "marked", "marked");
	is_int(released, 1, "its lease was released");
	free(outcome);
	check_error(ff_client_complete(c, &cl.items[0].handle, NULL, 0), FF_ERR_LEASE_EXPIRED, false,
				"the dead worker's complete");
	ff_claim_list_clear(&cl);
	is_status(ff_client_list_expired_leases(c, 0, 0, NULL, 0, NULL, &el), FF_OK, c, "list_expired_leases");
	{
		bool		seen = false;

		for (size_t i = 0; i < el.count; i++)
			if (strcmp(el.items[i].execution_id, id) == 0)
				seen = strcmp(el.items[i].ownership_state, "lease_expired_reclaimable") == 0 &&
					strcmp(el.items[i].worker_instance_id, instance) == 0 && el.items[i].lease_id != NULL;
		ok(seen, "the released lease is listed as awaiting reclaim");
	}
	ff_expired_lease_list_clear(&el);
	check_error(ff_client_list_expired_leases(c, 0, 0, "nope", 0, NULL, &el), FF_ERR_INVALID_INPUT, false,
				"list_expired_leases with a malformed cursor id");
	is_status(ff_client_mark_worker_dead(c, instance, ns, NULL, NULL, NULL), FF_OK, c,
			  "mark_worker_dead again (outputs may be NULL)");
	is_status(ff_client_mark_worker_dead(c, instance, ns, NULL, &outcome, &released), FF_OK, c, "... again");
	is_str(outcome, "not_registered", "not_registered");
	free(outcome);
	{
		char		reason[300];

		memset(reason, 'r', 299);
		reason[299] = '\0';
		check_error(ff_client_mark_worker_dead(c, instance, ns, reason, NULL, NULL), FF_ERR_INVALID_INPUT, false,
					"mark_worker_dead with a 299-byte reason");
	}
	/* the expiry reconciler */
	a.liveness_ttl_ms = 1000;
	ff_client_register_worker(c, &a, &r);
	ff_worker_liveness_clear(&r);
	clock_offset(1000);
	is_status(ff_client_reconcile_worker_expiry(c, 0, &n), FF_OK, c, "reconcile_worker_expiry");
	ok(n >= 1, "a silent worker expired (%d)", n);
	clock_offset(0);
	check_error(ff_client_reconcile_worker_expiry(c, -5, NULL), FF_ERR_INVALID_INPUT, false,
				"reconcile_worker_expiry with batch -5");
	is_status(ff_client_list_workers(c, ns, NULL, 0, &wl), FF_OK, c, "list_workers after expiry");
	is_int(wl.count, 0, "none left");
	ff_worker_list_clear(&wl);
	free(id);
}

static void
test_operator_events(long long c0)
{
	ff_operator_event_list l = {0};
	int			cancelled = 0,
				replayed = 0,
				lane_paused = 0,
				dead = 0;
	int64_t		last = c0;
	bool		ordered = true;

	is_status(ff_client_operator_events(c, c0, 10000, &l), FF_OK, c, "operator_events");
	for (size_t i = 0; i < l.count; i++)
	{
		ff_operator_event *e = &l.items[i];

		ordered = ordered && e->event_id > last && e->details_json && e->details_json[0] == '{';
		last = e->event_id;
		cancelled += strcmp(e->event_type, "cancelled") == 0 && e->execution_id != NULL;
		replayed += strcmp(e->event_type, "replayed") == 0;
		lane_paused += strcmp(e->event_type, "lane_paused") == 0 && e->lane_id && !e->execution_id;
		dead += strcmp(e->event_type, "worker_marked_dead") == 0 && e->worker_instance_id && e->ns;
	}
	ok(ordered, "events after the cursor, in order, with JSON details");
	ok(cancelled >= 2 && replayed >= 1 && lane_paused >= 1 && dead >= 1,
	   "cancelled (%d), replayed (%d), lane_paused (%d), worker_marked_dead (%d) events", cancelled,
	   replayed, lane_paused, dead);
	ff_operator_event_list_clear(&l);
	is_status(ff_client_operator_events(c, last, 0, &l), FF_OK, c, "operator_events after the last");
	is_int(l.count, 0, "nothing newer");
	ff_operator_event_list_clear(&l);
	check_error(ff_client_operator_events(c, 0, 10001, &l), FF_ERR_INVALID_INPUT, false,
				"operator_events with max_events 10001");

	/* NOTIFY ff_operator_event with the event id, at commit */
	{
		PGconn	   *a = admin();
		PGresult   *res = PQexec(a, "LISTEN ff_operator_event");
		const char *lane = unique_lane("op-notify");
		ff_lane_state_change r = {0};
		PGnotify   *nf;
		long long	want;
		long long	got = -1;

		PQclear(res);
		is_status(ff_client_pause_lane(c, lane, NULL, &r), FF_OK, c, "pause a lane (notify)");
		ff_lane_state_change_clear(&r);
		want = admin_int("SELECT max(event_id) FROM ff_operator_event WHERE lane_id = '%s'", lane);
		for (int i = 0; i < 100 && got < 0; i++)
		{
			PQconsumeInput(a);
			while ((nf = PQnotifies(a)) != NULL)
			{
				if (strcmp(nf->relname, "ff_operator_event") == 0 && atoll(nf->extra) == want)
					got = atoll(nf->extra);
				PQfreemem(nf);
			}
			if (got < 0)
				sleep_ms(10);
		}
		is_int(got, want, "NOTIFY ff_operator_event carried the event id");
		res = PQexec(a, "UNLISTEN ff_operator_event");
		PQclear(res);
	}
}

static void
test_ffctl(void)
{
	const char *lane = unique_lane("op-ffctl");
	char	   *id = make_execution(c, lane, NULL, NULL);
	char		out[4096];
	char	   *hex = NULL;
	ff_claimed	h = {0};
	ff_register_worker_args ra = {0};
	ff_worker_liveness wr = {0};
	char		instance[80];
	int			rc;

	rc = ffctl_run(out, sizeof(out), "--json lane pause '%s' --reason maint", lane);
	ok(rc == 0 && strstr(out, "\"state\":\"paused\"") && strstr(out, "\"previous_state\":\"active\""),
	   "ffctl lane pause (exit %d): %s", rc, out);
	rc = ffctl_run(out, sizeof(out), "lane list --limit 1000");
	ok(rc == 0 && strstr(out, lane) && strstr(out, "paused"), "ffctl lane list shows the state");
	rc = ffctl_run(out, sizeof(out), "lane drain '%s'", lane);
	ok(rc == 0 && strstr(out, "paused -> draining"), "ffctl lane drain: %s", out);
	rc = ffctl_run(out, sizeof(out), "lane resume '%s'", lane);
	ok(rc == 0 && strstr(out, "draining -> active"), "ffctl lane resume: %s", out);
	rc = ffctl_run(out, sizeof(out), "lane stop '%s'", lane);
	is_int(rc, 2, "ffctl lane stop: usage (exit 2)");
	rc = ffctl_run(out, sizeof(out), "priority '%s' 5", id);
	ok(rc == 0 && strstr(out, "0 -> 5"), "ffctl priority: %s", out);
	rc = ffctl_run(out, sizeof(out), "priority '%s' high", id);
	is_int(rc, 2, "ffctl priority with a non-number: usage (exit 2)");
	/* revoke, then cancel by the operator, replay */
	claim_one(c, lane, 60000, &h);
	rc = ffctl_run(out, sizeof(out), "priority '%s' 7", id);
	is_int(rc, 1, "ffctl priority of an active execution: error (exit 1)");
	rc = ffctl_run(out, sizeof(out), "revoke '%s' --reason stuck", id);
	ok(rc == 0 && strstr(out, "revoked lease"), "ffctl revoke: %s", out);
	rc = ffctl_run(out, sizeof(out), "--json revoke '%s'", id);
	ok(rc == 0 && strstr(out, "\"detail\":\"no_active_lease\""), "ffctl revoke again: already_satisfied");
	ff_handle_to_hex(&h.handle, &hex);
	rc = ffctl_run(out, sizeof(out), "complete %s", hex);
	is_int(rc, 5, "the revoked holder's ffctl complete: lease lost (exit 5)");
	ff_free(hex);
	ff_claimed_clear(&h);
	rc = ffctl_run(out, sizeof(out), "--json cancel '%s' --reason done", id);
	ok(rc == 0 && strstr(out, "\"outcome\":\"cancelled\""), "ffctl cancel EXECUTION_ID: %s", out);
	rc = ffctl_run(out, sizeof(out), "cancel '%s'", id);
	ok(rc == 0 && strstr(out, "already_cancelled"), "ffctl cancel again: already_cancelled");
	rc = ffctl_run(out, sizeof(out), "replay '%s' --reason again", id);
	ok(rc == 0 && strstr(out, "waiting (replay 1)"), "ffctl replay: %s", out);
	rc = ffctl_run(out, sizeof(out), "replay '%s'", id);
	is_int(rc, 1, "ffctl replay of a waiting execution: error (exit 1)");
	ok(strstr(out, "execution_not_terminal") != NULL, "... execution_not_terminal");
	rc = ffctl_run(out, sizeof(out), "replay '{fp:1}:00000000-0000-4000-8000-00000000dead'");
	is_int(rc, 4, "ffctl replay of an unknown execution: not found (exit 4)");
	/* the lease holder's cancel still works with a handle */
	claim_one(c, lane, 60000, &h);
	ff_handle_to_hex(&h.handle, &hex);
	rc = ffctl_run(out, sizeof(out), "cancel %s --reason mine", hex);
	is_int(rc, 0, "ffctl cancel HANDLE: the lease holder cancels");
	ff_free(hex);
	ff_claimed_clear(&h);
	{
		char	   *by = admin_str("SELECT cancelled_by FROM ff_execution WHERE execution_id = '%s'::uuid",
								   strstr(id, "}:") + 2);

		is_str(by, "lease_holder", "... cancelled_by lease_holder");
		free(by);
	}
	rc = ffctl_run(out, sizeof(out), "cancel");
	is_int(rc, 2, "ffctl cancel without arguments: usage (exit 2)");
	/* workers */
	snprintf(instance, sizeof(instance), "ffctl-w/%s", lane);
	ra.worker_id = "ffctl-w";
	ra.worker_instance_id = instance;
	ra.ns = "ffctl-ns";
	ff_client_register_worker(c, &ra, &wr);
	ff_worker_liveness_clear(&wr);
	rc = ffctl_run(out, sizeof(out), "workers --namespace ffctl-ns");
	ok(rc == 0 && strstr(out, instance) && strstr(out, "alive"), "ffctl workers: %s", out);
	rc = ffctl_run(out, sizeof(out), "--json workers list --namespace ffctl-ns");
	ok(rc == 0 && strstr(out, "\"worker_id\":\"ffctl-w\"") && strstr(out, "\"alive\":true"),
	   "ffctl --json workers");
	rc = ffctl_run(out, sizeof(out), "workers dead '%s' --namespace ffctl-ns --reason gone", instance);
	ok(rc == 0 && strstr(out, "marked (0 leases released)"), "ffctl workers dead: %s", out);
	rc = ffctl_run(out, sizeof(out), "--json workers expired-leases");
	ok(rc == 0 && out[0] == '[', "ffctl workers expired-leases (JSON array)");
	rc = ffctl_run(out, sizeof(out), "workers dead");
	is_int(rc, 2, "ffctl workers dead without an instance: usage (exit 2)");
	free(id);
}

int
main(void)
{
	long long	c0;

	c = test_client();
	admin_exec("SELECT ff_seed_waitpoint_hmac_secret('op-kid-1', repeat('ab', 32)) "
			   "WHERE NOT EXISTS (SELECT 1 FROM ff_waitpoint_hmac WHERE active)");
	c0 = admin_int("SELECT coalesce(max(event_id), 0) FROM ff_operator_event");
	test_grants();
	test_reclaim();
	test_scan_block();
	test_operator_controls();
	test_lanes();
	test_registry();
	test_operator_events(c0);
	test_ffctl();
	ff_client_close(c);
	PQfinish(admin());
	return done_testing();
}

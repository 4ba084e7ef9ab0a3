/*
 * test_suspend.c - the suspension / waitpoint / signal part of libflowfabric:
 * every call's success path and each error kind reaching the caller typed
 * (token errors included), the keystore and rotation grace, pending
 * waitpoints, claims of resumed executions, timeouts (with a session whose
 * engine clock is shifted, so the background reconcilers cannot race us),
 * the signal-event subscription with catch-up across dropped connections,
 * and end to end: a worker suspends on a waitpoint, an outside process runs
 * `ffctl signal` with the token, and another claim continues the same
 * attempt.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"

static ff_client *c;			/* the main client */

#define SECRET_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SECRET_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define SECRET_C "cccccccccccccccccccccccccccccccc"
#define NO_SUCH_UUID "00000000-0000-4000-8000-00000000beef"

static int64_t
engine_now(void)
{
	int64_t		t = 0;

	ff_client_server_time_ms(c, &t);
	return t;
}

/* the kind, SQLSTATE and retry flag of the client's last error */
static void
is_error(ff_client *cl, ff_status got, ff_status want, const char *sqlstate, const char *what)
{
	const ff_error *e = ff_client_last_error(cl);

	is_status(got, want, cl, "%s -> %s", what, ff_status_name(want));
	if (sqlstate)
		ok(strcmp(e->sqlstate, sqlstate) == 0 && e->retryable == ff_status_is_retryable(want),
		   "... SQLSTATE %s (got %s), retryable=%d", sqlstate, e->sqlstate, (int) e->retryable);
}

/* claims the one execution of lane offering caps; false if none */
#define claim_lane(cl, lane, caps, ncaps, ttl, out) claim_as(cl, lane, "susp-worker", caps, ncaps, ttl, out)

/* a new execution of lane (NULL: a fresh lane), claimed (ttl 1 day);
 * returns its id. Executions of one lane share a partition. */
static char *
new_claimed_in(const char *lane, const char *prefix, ff_claimed *cl, const char **lane_out)
{
	char	   *id;

	if (lane == NULL)
		lane = unique_lane(prefix);
	id = make_execution(c, lane, "input", NULL);

	if (lane_out)
		*lane_out = lane;
	if (id == NULL || !claim_lane(c, lane, NULL, 0, 86400000, cl))
		printf("Bail out! could not create and claim on %s\n", lane);
	return id;
}

static char *
new_claimed(const char *prefix, ff_claimed *cl, const char **lane_out)
{
	return new_claimed_in(NULL, prefix, cl, lane_out);
}

static ff_status
suspend_on(const ff_handle *h, const char *waitpoints, const char *cond, int64_t timeout_at,
		   const char *behavior, ff_suspend_result *out)
{
	ff_suspend_args a = {0};

	a.waitpoints_json = waitpoints;
	a.resume_condition_json = cond;
	a.timeout_at_ms = timeout_at;
	a.timeout_behavior = behavior;
	return ff_client_suspend(c, h, &a, out);
}

static ff_status
signal_to(const char *exec, const char *wp, const char *token, const char *name,
		  const char *idem, ff_signal_result *out)
{
	ff_signal_args a = {0};

	a.execution_id = exec;
	a.waitpoint_id = wp;
	a.waitpoint_token = token;
	a.signal_name = name;
	a.idempotency_key = idem;
	return ff_client_deliver_signal(c, &a, out);
}

static char *
state_of(const char *id)
{
	char	   *s = NULL;

	ff_client_read_execution_state(c, id, &s);
	return s;
}

static void
is_state(const char *id, const char *want, const char *what)
{
	char	   *s = state_of(id);

	if (!ok(s && strcmp(s, want) == 0, "%s: public_state %s", what, want))
		printf("#   got '%s'\n", s ? s : "(null)");
	ff_free(s);
}

static char *
partition_of(const char *id, char *buf, size_t len)
{
	snprintf(buf, len, "{fp:%d}", ff_execution_partition(id));
	return buf;
}

/* ------------------------------------------------------------------------
 * keystore and the token primitive
 * ------------------------------------------------------------------------ */
static void
test_keystore(void)
{
	ff_hmac_seed_result sr = {0};
	ff_hmac_rotate_result rr = {0};
	ff_hmac_kid_list kl = {0};
	ff_status	s;

	/* a keystore of our own (the suite's database is private) */
	admin_exec("DELETE FROM ff_waitpoint_hmac");
	is_status(ff_client_list_hmac_kids(c, &kl), FF_OK, c, "list kids of an empty keystore");
	is_int(kl.count, 0, "... none");
	ff_hmac_kid_list_clear(&kl);

	s = ff_client_seed_hmac_secret(c, "bad:kid", SECRET_A, &sr);
	is_error(c, s, FF_ERR_INVALID_KID, "YFV20", "seed a kid with ':'");
	s = ff_client_seed_hmac_secret(c, "kid-a", "abcd", &sr);
	is_error(c, s, FF_ERR_INVALID_SECRET_HEX, "YFV21", "seed a short secret");
	ok(sr.outcome == NULL, "... the result stays zeroed");

	is_status(ff_client_seed_hmac_secret(c, "kid-a", SECRET_A, &sr), FF_OK, c, "seed kid-a");
	is_str(sr.outcome, "seeded", "... outcome seeded");
	is_str(sr.seeded_kid, "kid-a", "... seeded_kid");
	ff_hmac_seed_result_clear(&sr);
	ff_hmac_seed_result_clear(&sr);		/* twice is harmless */
	is_status(ff_client_seed_hmac_secret(c, "kid-a", SECRET_A, &sr), FF_OK, c, "seed it again");
	ok(sr.outcome && strcmp(sr.outcome, "already_seeded") == 0 && sr.same_secret,
	   "... already_seeded, same secret");
	ff_hmac_seed_result_clear(&sr);
	is_status(ff_client_seed_hmac_secret(c, "kid-a", SECRET_B, &sr), FF_OK, c,
			  "seed it with another secret");
	ok(sr.outcome && strcmp(sr.outcome, "already_seeded") == 0 && !sr.same_secret,
	   "... already_seeded, different secret (nothing written)");
	ff_hmac_seed_result_clear(&sr);
	s = ff_client_seed_hmac_secret(c, "kid-x", SECRET_B, &sr);
	is_error(c, s, FF_ERR_INVALID_INPUT, "YFV01", "seed a second kid");

	is_status(ff_client_list_hmac_kids(c, &kl), FF_OK, c, "list kids");
	ok(kl.count == 1 && strcmp(kl.items[0].kid, "kid-a") == 0 && kl.items[0].active &&
	   kl.items[0].expires_at_ms == 0 && kl.items[0].rotated_at_ms > 0,
	   "... kid-a, active, no expiry");
	ff_hmac_kid_list_clear(&kl);

	s = ff_client_rotate_hmac_secret(c, "kid-b", SECRET_B, -1, &rr);
	is_error(c, s, FF_ERR_INVALID_GRACE_MS, "YFV22", "rotate with a negative grace");
	s = ff_client_rotate_hmac_secret(c, "kid-b", "abc", 1000, &rr);
	is_error(c, s, FF_ERR_INVALID_SECRET_HEX, "YFV21", "rotate with an odd number of hex digits");
	s = ff_client_rotate_hmac_secret(c, "kid-a", SECRET_B, 1000, &rr);
	is_error(c, s, FF_ERR_ROTATION_CONFLICT, "YFK08", "rotate to kid-a with another secret");
	is_status(ff_client_rotate_hmac_secret(c, "kid-a", SECRET_A, 1000, &rr), FF_OK, c,
			  "rotate to the active kid with its secret");
	ok(rr.outcome && strcmp(rr.outcome, "noop") == 0 && rr.partition == 0, "... noop, partition 0");
	ff_hmac_rotate_result_clear(&rr);

	/* without EXECUTE: permission_denied */
	{
		ff_client  *u = NULL;

		admin_exec("DROP ROLE IF EXISTS ff_client_nopriv");
		admin_exec("CREATE ROLE ff_client_nopriv LOGIN");
		if (ff_client_connect(test_conninfo_with("user=ff_client_nopriv"), &u, NULL) == FF_OK)
		{
			ff_hmac_kid_list l2 = {0};

			s = ff_client_seed_hmac_secret(u, "kid-a", SECRET_A, NULL);
			is_error(u, s, FF_ERR_PERMISSION_DENIED, "42501", "seed as a role without EXECUTE");
			is_status(ff_client_list_hmac_kids(u, &l2), FF_ERR_PERMISSION_DENIED, u,
					  "list kids as that role -> permission_denied");
			is_status(ff_client_rotate_hmac_secret(u, "kid-u", SECRET_B, 0, NULL), FF_ERR_PERMISSION_DENIED, u,
					  "rotate as that role -> permission_denied");
			{
				char	   *tok = NULL;

				is_status(ff_client_read_waitpoint_token(u, "{fp:1}", NO_SUCH_UUID, &tok),
						  FF_ERR_PERMISSION_DENIED, u, "read_waitpoint_token as that role -> permission_denied");
				ok(tok == NULL, "... no token");
			}
		}
		else
			ok(0, "connect as ff_client_nopriv");
		ff_client_close(u);
		admin_exec("DROP ROLE ff_client_nopriv");
	}

	/* the token primitive: spec B's test vector */
	{
		unsigned char secret[32];
		char	   *tok = NULL;
		char	   *verdict = NULL;
		const char *msg = "{fp:7}:550e8400-e29b-41d4-a716-446655440000:6ba7b810-9dad-11d1-80b4-00c04fd430c8";

		memset(secret, 0xab, sizeof(secret));
		is_status(ff_client_waitpoint_token_sign(c, secret, sizeof(secret), "kid-suspend-1", msg, &tok),
				  FF_OK, c, "token_sign");
		is_str(tok, "kid-suspend-1:1a9796c4f75cbdde91f69a8fc3f1c63ea62f53b12d8327288e12cae6a91047ac",
			   "... the spec's test vector");
		is_status(ff_client_waitpoint_token_check(c, secret, sizeof(secret), "kid-suspend-1", msg,
												  tok, &verdict), FF_OK, c, "token_check");
		is_str(verdict, "ok", "... ok");
		ff_free(verdict);
		tok[strlen(tok) - 1] = tok[strlen(tok) - 1] == '0' ? '1' : '0';
		ff_client_waitpoint_token_check(c, secret, sizeof(secret), "kid-suspend-1", msg, tok, &verdict);
		is_str(verdict, "signature_mismatch", "... a changed digit: signature_mismatch");
		ff_free(verdict);
		ff_free(tok);
		s = ff_client_waitpoint_token_sign(c, secret, sizeof(secret), "bad kid", msg, &tok);
		is_error(c, s, FF_ERR_INVALID_KID, "YFV20", "token_sign with a bad kid");
		ok(tok == NULL, "... no token");
	}
}

/* ------------------------------------------------------------------------
 * suspend, signals, resume, claim of the resumed attempt
 * ------------------------------------------------------------------------ */
#define COND_AB \
	"{\"Composite\": {\"kind\": \"AllOf\", \"members\": [" \
	"{\"Single\": {\"waitpoint_key\": \"wpk:a\", \"matcher\": {\"ByName\": \"a-ok\"}}}," \
	"{\"Single\": {\"waitpoint_key\": \"wpk:b\", \"matcher\": {\"ByName\": \"b-ok\"}}}]}}"

static void
test_suspend_and_signals(void)
{
	const char *lane = unique_lane("susp");
	const char *gpu[] = {"gpu"};
	ff_create_args ca = {0};
	ff_create_result cr = {0};
	ff_claimed	cl = {0};
	ff_claimed	other = {0};
	ff_suspend_args sa = {0};
	ff_suspend_result r = {0};
	ff_suspend_result r2 = {0};
	ff_suspend_result ro = {0};
	ff_signal_result g = {0};
	ff_execution_description d = {0};
	char	   *id;
	char	   *other_id;
	char		pk[32];
	char	   *attempt_id = NULL;
	ff_status	s;
	int64_t		timeout_at = engine_now() + 3600000;

	ca.lane_id = lane;
	ca.input_payload = "in";
	ca.input_payload_len = 2;
	ca.required_capabilities = gpu;
	ca.n_required_capabilities = 1;
	if (ff_client_create_execution(c, &ca, &cr) != FF_OK || !claim_lane(c, lane, gpu, 1, 86400000, &cl))
	{
		ok(0, "create and claim an execution needing gpu");
		return;
	}
	id = cr.execution_id;
	cr.execution_id = NULL;
	ff_create_result_clear(&cr);
	partition_of(id, pk, sizeof(pk));
	if (ff_client_describe_execution(c, id, &d) == FF_OK)
	{
		attempt_id = d.current_attempt_id;
		d.current_attempt_id = NULL;
	}
	ff_execution_description_clear(&d);

	/* bad arguments, each typed */
	is_status(ff_client_suspend(c, &cl.handle, NULL, &r), FF_ERR_USAGE, c, "suspend without args -> usage");
	s = suspend_on(&cl.handle, "[\"wpk:a\"]",
				   "{\"Single\": {\"waitpoint_key\": \"wpk:zz\", \"matcher\": \"Wildcard\"}}", 0, NULL, &r);
	is_error(c, s, FF_ERR_INVALID_INPUT, "YFV01", "a condition on another key");
	ok(strstr(ff_client_last_error(c)->message, "waitpoint_key_mismatch") != NULL,
	   "... the message names the rule");
	s = suspend_on(&cl.handle, "[\"wpk:a\"", NULL, 0, NULL, &r);
	is_error(c, s, FF_ERR_INVALID_INPUT, "22P02", "waitpoints that are not JSON");
	s = suspend_on(&cl.handle, "[\"\"]", NULL, 0, NULL, &r);
	is_error(c, s, FF_ERR_INVALID_WAITPOINT_KEY, "YFV07", "an empty waitpoint key");
	s = suspend_on(&cl.handle, "[\"wpk:a\"]", NULL, 0, "sometimes", &r);
	is_error(c, s, FF_ERR_INVALID_INPUT, "YFV01", "an unknown timeout behaviour");
	{
		/* a waitpoint id already in use (the pending one of another execution
		 * of the same partition: waitpoint ids are keyed by partition) */
		ff_claimed	o = {0};
		ff_waitpoint_created w = {0};
		char	   *oid = new_claimed_in(lane, NULL, &o, NULL);
		char		json[160];

		if (ff_client_create_waitpoint(c, &o.handle, NULL, 60000, NULL, &w) == FF_OK)
		{
			snprintf(json, sizeof(json), "[{\"waitpoint_key\": \"wpk:a\", \"waitpoint_id\": \"%s\"}]",
					 w.waitpoint_id);
			s = suspend_on(&cl.handle, json, NULL, 0, NULL, &r);
			is_error(c, s, FF_ERR_WAITPOINT_ALREADY_EXISTS, "YFK05", "a waitpoint id already in use");
		}
		else
			ok(0, "create a waitpoint for the id clash");
		ff_client_complete(c, &o.handle, NULL, 0);
		ff_waitpoint_created_clear(&w);
		ff_claimed_clear(&o);
		free(oid);
	}
	{
		/* a lease that ran out */
		const char *l2 = unique_lane("susp-expired");
		char	   *eid = make_execution(c, l2, NULL, NULL);
		ff_claimed	e = {0};

		if (eid && claim_lane(c, l2, NULL, 0, 1, &e))
		{
			sleep_ms(5);
			s = suspend_on(&e.handle, "[\"wpk:a\"]", NULL, 0, NULL, &r);
			is_error(c, s, FF_ERR_LEASE_EXPIRED, "YFS02", "suspend after the lease ran out");
		}
		else
			ok(0, "claim with a 1 ms lease");
		ff_claimed_clear(&e);
		free(eid);
	}
	{
		ff_handle	bad = {(unsigned char *) "\x01\x02\x03", 3};

		s = suspend_on(&bad, "[\"wpk:a\"]", NULL, 0, NULL, &r);
		is_error(c, s, FF_ERR_CORRUPTION, "YFV25", "a handle that does not decode");
	}
	is_state(id, "active", "nothing was written by the rejected calls");

	/* suspend on two waitpoints, all-of by name, with a key */
	sa.waitpoints_json = "[\"wpk:a\", \"wpk:b\"]";
	sa.resume_condition_json = COND_AB;
	sa.reason_code = "waiting_for_approval";
	sa.timeout_at_ms = timeout_at;
	sa.timeout_behavior = FF_TIMEOUT_CANCEL;
	sa.idempotency_key = "susp-1";
	is_status(ff_client_suspend(c, &cl.handle, &sa, &r), FF_OK, c, "suspend on two waitpoints");
	ok(r.outcome == FF_SUSPEND_SUSPENDED && r.n_waitpoints == 2 && r.suspension_id &&
	   strlen(r.suspension_id) == 36, "... suspended, two waitpoints, a suspension id");
	ok(r.n_waitpoints == 2 && r.waitpoints[0].index == 0 && r.waitpoints[1].index == 1 &&
	   strcmp(r.waitpoints[0].waitpoint_key, "wpk:a") == 0 &&
	   strcmp(r.waitpoints[1].waitpoint_key, "wpk:b") == 0, "... in binding order with their keys");
	ok(r.n_waitpoints == 2 && strncmp(r.waitpoints[0].waitpoint_token, "kid-a:", 6) == 0 &&
	   strlen(r.waitpoints[0].waitpoint_token) == 6 + 64 &&
	   strcmp(r.waitpoints[0].waitpoint_token, r.waitpoints[1].waitpoint_token) != 0,
	   "... tokens kid-a:<64 hex>, one per waitpoint");
	ok(r.handle.len == cl.handle.len && memcmp(r.handle.data, cl.handle.data, r.handle.len) == 0,
	   "... the handle it was made with");
	if (r.n_waitpoints != 2)
	{
		printf("Bail out! no waitpoints to continue with\n");
		exit(2);
	}
	is_status(ff_client_suspend(c, &cl.handle, &sa, &r2), FF_OK, c, "the same call again (idempotency key)");
	ok(r2.suspension_id && strcmp(r2.suspension_id, r.suspension_id) == 0 && r2.n_waitpoints == 2 &&
	   strcmp(r2.waitpoints[1].waitpoint_token, r.waitpoints[1].waitpoint_token) == 0,
	   "... returns the first call's result");
	ff_suspend_result_clear(&r2);
	s = suspend_on(&cl.handle, "[\"wpk:c\"]", NULL, 0, NULL, &r2);
	is_error(c, s, FF_ERR_ALREADY_SUSPENDED, "YFS05", "suspend again without the key");
	is_state(id, "suspended", "after suspend");
	is_status(ff_client_complete(c, &cl.handle, NULL, 0), FF_ERR_EXECUTION_NOT_ACTIVE, c,
			  "the suspended lease cannot complete -> execution_not_active");
	is_status(ff_client_suspend(c, &cl.handle, &sa, NULL), FF_OK, c, "a replay with out NULL");

	/* listings */
	{
		ff_suspended_list sl = {0};
		bool		found = false;

		is_status(ff_client_list_suspended(c, pk, NULL, 0, &sl), FF_OK, c, "list_suspended");
		for (size_t i = 0; i < sl.count; i++)
			if (strcmp(sl.items[i].execution_id, id) == 0)
				found = strcmp(sl.items[i].reason, "waiting_for_approval") == 0 &&
					sl.items[i].timeout_at_ms == timeout_at &&
					strcmp(sl.items[i].suspension_id, r.suspension_id) == 0 &&
					sl.items[i].suspended_at_ms > 0;
		ok(found, "... lists it with its reason, suspension and timeout");
		ff_suspended_list_clear(&sl);
		s = ff_client_list_suspended(c, "fp:1", NULL, 0, &sl);
		is_error(c, s, FF_ERR_INVALID_INPUT, "YFV01", "list_suspended of a malformed partition key");
	}
	{
		ff_pending_waitpoint_list wl = {0};
		ff_pending_waitpoint_list wl2 = {0};

		is_status(ff_client_list_pending_waitpoints(c, id, NULL, 0, &wl), FF_OK, c, "list_pending_waitpoints");
		ok(wl.count == 2, "... two");
		for (size_t i = 0; i < wl.count; i++)
		{
			ff_pending_waitpoint *w = &wl.items[i];
			const char *tok = strcmp(w->waitpoint_id, r.waitpoints[0].waitpoint_id) == 0
				? r.waitpoints[0].waitpoint_token : r.waitpoints[1].waitpoint_token;
			const char *want = strcmp(w->waitpoint_key, "wpk:a") == 0 ? "a-ok" : "b-ok";

			ok(strcmp(w->state, "active") == 0 && strcmp(w->execution_id, id) == 0 &&
			   w->n_required_signal_names == 1 &&
			   strcmp(w->required_signal_names[0], want) == 0 && w->activated_at_ms > 0,
			   "... %s: active, requires %s", w->waitpoint_key, want);
			ok(strcmp(w->token_kid, "kid-a") == 0 && strlen(w->token_fingerprint) == 16 &&
			   strncmp(w->token_fingerprint, tok + 6, 16) == 0,
			   "... the token redacted to kid + fingerprint");
		}
		if (wl.count == 2)
		{
			is_status(ff_client_list_pending_waitpoints(c, id, NULL, 1, &wl2), FF_OK, c, "page of 1");
			ok(wl2.count == 1 && strcmp(wl2.items[0].waitpoint_id, wl.items[0].waitpoint_id) == 0, "... the first");
			ff_pending_waitpoint_list_clear(&wl2);
			ff_client_list_pending_waitpoints(c, id, wl.items[0].waitpoint_id, 1, &wl2);
			ok(wl2.count == 1 && strcmp(wl2.items[0].waitpoint_id, wl.items[1].waitpoint_id) == 0,
			   "... after it, the second");
			ff_pending_waitpoint_list_clear(&wl2);
		}
		ff_pending_waitpoint_list_clear(&wl);
		s = ff_client_list_pending_waitpoints(c, "{fp:3}:00000000-0000-4000-8000-000000000001", NULL, 0, &wl);
		is_error(c, s, FF_ERR_EXECUTION_NOT_FOUND, "YFN01", "list_pending_waitpoints of an unknown execution");
	}
	{
		char	   *tok = NULL;

		is_status(ff_client_read_waitpoint_token(c, pk, r.waitpoints[1].waitpoint_id, &tok), FF_OK, c,
				  "read_waitpoint_token");
		is_str(tok, r.waitpoints[1].waitpoint_token, "... the waitpoint's token");
		ff_free(tok);
		is_status(ff_client_read_waitpoint_token(c, pk, NO_SUCH_UUID, &tok), FF_OK, c,
				  "read_waitpoint_token of an unknown waitpoint");
		ok(tok == NULL, "... NULL");
	}

	/* a second suspended execution, for wrong-execution tokens */
	other_id = new_claimed_in(lane, NULL, &other, NULL);	/* same partition */
	is_status(suspend_on(&other.handle, "[\"wpk:o\"]", NULL, 0, NULL, &ro), FF_OK, c,
			  "suspend another execution");

	/* signals: every rejection typed */
	{
		const char *wa = r.waitpoints[0].waitpoint_id;
		const char *wb = r.waitpoints[1].waitpoint_id;
		const char *ta = r.waitpoints[0].waitpoint_token;
		const char *tb = r.waitpoints[1].waitpoint_token;
		char		unknown_kid[128];
		char		big_name[300];
		ff_signal_args big = {0};
		static char payload[64 * 1024 + 1];

		s = signal_to(id, wb, ta, "b-ok", NULL, &g);
		is_error(c, s, FF_ERR_INVALID_TOKEN, "YFV08", "the token of another waitpoint");
		ok(g.result == NULL, "... the result stays zeroed");
		s = signal_to(id, wa, "not-a-token", "a-ok", NULL, &g);
		is_error(c, s, FF_ERR_INVALID_TOKEN, "YFV08", "a malformed token");
		s = signal_to(id, wa, NULL, "a-ok", NULL, &g);
		is_error(c, s, FF_ERR_INVALID_TOKEN, "YFV08", "no token");
		snprintf(unknown_kid, sizeof(unknown_kid), "kid-zz%s", strchr(ta, ':'));
		s = signal_to(id, wa, unknown_kid, "a-ok", NULL, &g);
		is_error(c, s, FF_ERR_INVALID_KID, "YFV20", "a token whose kid is not in the keystore");
		s = signal_to(id, ro.waitpoints[0].waitpoint_id, ro.waitpoints[0].waitpoint_token, "a-ok", NULL, &g);
		is_error(c, s, FF_ERR_INVALID_WAITPOINT_FOR_EXECUTION, "YFV13",
				 "another execution's waitpoint and token");
		s = signal_to(id, NO_SUCH_UUID, ta, "a-ok", NULL, &g);
		is_error(c, s, FF_ERR_WAITPOINT_NOT_FOUND_YET, "YFC08", "an unknown waitpoint (retryable)");
		s = signal_to("{fp:3}:00000000-0000-4000-8000-000000000001", wa, ta, "a-ok", NULL, &g);
		is_error(c, s, FF_ERR_EXECUTION_NOT_FOUND, "YFN01", "an unknown execution");
		s = signal_to(id, "not-a-uuid", ta, "a-ok", NULL, &g);
		is_error(c, s, FF_ERR_INVALID_INPUT, "22P02", "a waitpoint id that is not a uuid");
		memset(big_name, 'n', sizeof(big_name) - 1);
		big_name[sizeof(big_name) - 1] = '\0';
		s = signal_to(id, wa, ta, big_name, NULL, &g);
		is_error(c, s, FF_ERR_INVALID_INPUT, "YFV01", "a 299-byte signal name");
		big.execution_id = id;
		big.waitpoint_id = wa;
		big.waitpoint_token = ta;
		big.signal_name = "a-ok";
		big.payload = payload;
		big.payload_len = sizeof(payload);
		s = ff_client_deliver_signal(c, &big, &g);
		is_error(c, s, FF_ERR_PAYLOAD_TOO_LARGE, "YFV05", "a payload over 64 KiB");
		is_status(ff_client_deliver_signal(c, NULL, &g), FF_ERR_USAGE, c, "no args -> usage");

		/* accepted ones */
		is_status(signal_to(id, wa, ta, "nope", NULL, &g), FF_OK, c, "a signal whose name does not match");
		ok(!g.duplicate && !g.satisfied && strcmp(g.result, "accepted") == 0 &&
		   strcmp(g.effect, "signal_ignored_matcher_failed") == 0 && strcmp(g.public_state, "suspended") == 0,
		   "... accepted, signal_ignored_matcher_failed, still suspended");
		ff_signal_result_clear(&g);
		is_status(signal_to(id, wa, ta, "a-ok", NULL, &g), FF_OK, c, "a-ok on wpk:a");
		ok(!g.satisfied && strcmp(g.effect, "appended_to_waitpoint") == 0 && strlen(g.signal_id) == 36,
		   "... appended_to_waitpoint, a signal id");
		ff_signal_result_clear(&g);
		{
			ff_signal_args a = {0};

			a.execution_id = id;
			a.waitpoint_id = wb;
			a.waitpoint_token = tb;
			a.signal_name = "b-ok";
			a.payload = "{\"by\": \"ada\"}";
			a.payload_len = strlen("{\"by\": \"ada\"}");
			a.payload_encoding = "json";
			a.correlation_id = "corr-1";
			a.source_type = "webhook";
			a.source_identity = "approver-7";
			a.idempotency_key = "approval-7781";
			is_status(ff_client_deliver_signal(c, &a, &g), FF_OK, c, "b-ok on wpk:b with a payload");
			ok(g.satisfied && !g.duplicate && strcmp(g.effect, "resume_condition_satisfied") == 0 &&
			   strcmp(g.public_state, "waiting") == 0, "... resume_condition_satisfied, waiting");
			{
				ff_signal_result g2 = {0};

				is_status(ff_client_deliver_signal(c, &a, &g2), FF_OK, c, "the same signal again");
				ok(g2.duplicate && !g2.satisfied && strcmp(g2.result, "duplicate") == 0 &&
				   strcmp(g2.signal_id, g.signal_id) == 0, "... duplicate, the first signal id");
				ff_signal_result_clear(&g2);
			}
			ff_signal_result_clear(&g);
		}
		s = signal_to(id, wb, tb, "b-ok", "another-key", &g);
		is_error(c, s, FF_ERR_WAITPOINT_CLOSED, "YFS06", "a new signal after the resume");
	}
	{
		ff_suspended_list sl = {0};
		bool		found = false;

		ff_client_list_suspended(c, pk, NULL, 1000, &sl);
		for (size_t i = 0; i < sl.count; i++)
			found |= strcmp(sl.items[i].execution_id, id) == 0;
		ok(!found, "list_suspended no longer lists the resumed execution");
		ff_suspended_list_clear(&sl);
	}

	/* claim of the resumed execution: the same attempt continues */
	{
		ff_claim_resumed_args a = {0};
		ff_resumed_claim rc = {0};
		ff_signal_list sl = {0};

		a.execution_id = id;
		a.worker_id = "w2";
		a.worker_instance_id = "w2/1";
		a.lane_id = "some-other-lane";
		a.capabilities = gpu;
		a.n_capabilities = 1;
		s = ff_client_claim_resumed(c, &a, &rc);
		is_error(c, s, FF_ERR_INVALID_INPUT, "YFV01", "claim_resumed on another lane");
		a.lane_id = lane;
		a.n_capabilities = 0;
		s = ff_client_claim_resumed(c, &a, &rc);
		is_error(c, s, FF_ERR_CAPABILITY_MISMATCH, "YFV02", "claim_resumed without the capability");
		ok(ff_client_last_error(c)->detail && strstr(ff_client_last_error(c)->detail, "gpu"),
		   "... the detail names it");
		a.n_capabilities = 1;
		a.has_current_attempt_index = true;
		a.current_attempt_index = 5;
		s = ff_client_claim_resumed(c, &a, &rc);
		is_error(c, s, FF_ERR_NOT_A_RESUMED_EXECUTION, "YFC02", "claim_resumed of another attempt index");
		a.current_attempt_index = 0;
		a.lease_ttl_ms = 60000;
		is_status(ff_client_claim_resumed(c, &a, &rc), FF_OK, c, "claim_resumed");
		ok(rc.claimed.attempt_index == 0 && attempt_id && strcmp(rc.attempt_id, attempt_id) == 0,
		   "... the same attempt (index 0, same attempt id)");
		ok(rc.claimed.lease_epoch == cl.lease_epoch + 1 && rc.lease_id && strlen(rc.lease_id) == 36,
		   "... a new lease, the next epoch (%lld)", (long long) rc.claimed.lease_epoch);
		ok(rc.claimed.input_payload.len == 2 && memcmp(rc.claimed.input_payload.data, "in", 2) == 0 &&
		   strcmp(rc.claimed.execution_id, id) == 0, "... with the input payload");
		is_int(admin_int("SELECT total_attempt_count FROM ff_execution WHERE "
						 "ff_format_execution_id(partition_key, execution_id) = '%s'", id), 1,
			   "still one attempt in total");
		s = ff_client_claim_resumed(c, &a, &(ff_resumed_claim) {0});
		is_error(c, s, FF_ERR_EXECUTION_NOT_LEASEABLE, "YFC03", "claim_resumed of an active execution");
		is_status(ff_client_complete(c, &cl.handle, NULL, 0), FF_ERR_STALE_LEASE, c,
				  "the handle from before the suspension is stale");

		is_status(ff_client_observe_signals(c, &rc.claimed.handle, false, &sl), FF_OK, c, "observe_signals");
		ok(sl.count == 2 && strcmp(sl.items[0].signal_name, "a-ok") == 0 &&
		   strcmp(sl.items[1].signal_name, "b-ok") == 0, "... the two satisfiers, in arrival order");
		if (sl.count == 2)
		{
			ff_signal_info *b = &sl.items[1];

			ok(b->payload.len == strlen("{\"by\": \"ada\"}") &&
			   memcmp(b->payload.data, "{\"by\": \"ada\"}", b->payload.len) == 0 &&
			   strcmp(b->payload_encoding, "json") == 0 && strcmp(b->correlation_id, "corr-1") == 0 &&
			   strcmp(b->source_type, "webhook") == 0 && strcmp(b->source_identity, "approver-7") == 0 &&
			   strcmp(b->waitpoint_key, "wpk:b") == 0 && strcmp(b->waitpoint_id, r.waitpoints[1].waitpoint_id) == 0 &&
			   strcmp(b->signal_category, "signal") == 0 && b->accepted_at_ms > 0,
			   "... with payload, encoding, correlation, source and waitpoint");
			ok(sl.items[0].payload.data == NULL && sl.items[0].correlation_id == NULL,
			   "... absent fields are NULL");
		}
		ff_signal_list_clear(&sl);
		is_status(ff_client_observe_signals(c, &cl.handle, true, &sl), FF_OK, c,
				  "observe_signals(all) with the old handle of the same attempt");
		ok(sl.count == 3 && strcmp(sl.items[0].signal_name, "nope") == 0, "... all three signals");
		ff_signal_list_clear(&sl);
		s = ff_client_observe_signals(c, NULL, false, &sl);
		is_error(c, s, FF_ERR_INVALID_INPUT, "YFV01", "observe_signals without a handle");

		is_status(ff_client_complete(c, &rc.claimed.handle, "done", 4), FF_OK, c,
				  "the resumed attempt completes");
		s = signal_to(id, r.waitpoints[0].waitpoint_id, r.waitpoints[0].waitpoint_token, "a-ok", "late", &g);
		is_error(c, s, FF_ERR_TARGET_NOT_SIGNALABLE, "YFS07", "a signal to a terminal execution");
		s = ff_client_resume_execution(c, id, NULL, 0, NULL);
		is_error(c, s, FF_ERR_EXECUTION_NOT_SUSPENDED, "YFS04", "resume of a completed execution");
		ff_resumed_claim_clear(&rc);
		ff_resumed_claim_clear(&rc);
	}

	/* the other execution: operator resume, resume with a delay */
	{
		char	   *st = NULL;
		ff_claim_resumed_args a = {0};
		ff_resumed_claim rc = {0};
		ff_signal_list sl = {0};
		const char *olane = NULL;

		is_status(ff_client_resume_execution(c, other_id, NULL, 0, &st), FF_OK, c, "operator resume");
		is_str(st, "waiting", "... waiting");
		ff_free(st);
		s = ff_client_resume_execution(c, other_id, NULL, 0, NULL);
		is_error(c, s, FF_ERR_EXECUTION_NOT_SUSPENDED, "YFS04", "resume again");
		s = ff_client_resume_execution(c, "{fp:3}:00000000-0000-4000-8000-000000000001", NULL, 0, NULL);
		is_error(c, s, FF_ERR_EXECUTION_NOT_FOUND, "YFN01", "resume of an unknown execution");
		s = ff_client_resume_execution(c, other_id, "", 0, NULL);
		is_error(c, s, FF_ERR_INVALID_INPUT, "YFV01", "resume with an empty trigger");

		olane = admin_str("SELECT lane_id FROM ff_execution WHERE "
						  "ff_format_execution_id(partition_key, execution_id) = '%s'", other_id);
		a.execution_id = other_id;
		a.worker_id = "w3";
		a.worker_instance_id = "w3/1";
		a.lane_id = olane;
		is_status(ff_client_claim_resumed(c, &a, &rc), FF_OK, c, "claim it");
		is_status(ff_client_observe_signals(c, &rc.claimed.handle, false, &sl), FF_OK, c,
				  "observe after an operator resume");
		is_int(sl.count, 0, "... no satisfiers");
		ff_signal_list_clear(&sl);

		/* suspend again and resume with a delay */
		ff_suspend_result_clear(&ro);
		is_status(suspend_on(&rc.claimed.handle, "[\"wpk:o2\"]", NULL, 0, NULL, &ro), FF_OK, c,
				  "the same attempt suspends again");
		is_status(ff_client_resume_execution(c, other_id, "operator", 3600000, &st), FF_OK, c,
				  "resume with a one-hour delay");
		is_str(st, "delayed", "... delayed");
		ff_free(st);
		ff_resumed_claim_clear(&rc);
		s = ff_client_claim_resumed(c, &a, &rc);
		is_error(c, s, FF_ERR_EXECUTION_NOT_LEASEABLE, "YFC03", "claim_resumed inside the resume delay");
		free((void *) olane);
	}

	ff_suspend_result_clear(&r);
	ff_suspend_result_clear(&ro);
	ff_claimed_clear(&cl);
	ff_claimed_clear(&other);
	free(attempt_id);
	free(other_id);
	free(id);
}

/* ------------------------------------------------------------------------
 * claim_resumed held back (budgets) or reserved (another worker's grant)
 * ------------------------------------------------------------------------ */

/* suspends the claimed execution on a waitpoint and resumes it (operator) */
static void
suspend_and_resume(const char *id, const ff_handle *h, const char *wp)
{
	ff_suspend_result r = {0};
	char		wps[64];

	snprintf(wps, sizeof(wps), "[\"%s\"]", wp);
	if (suspend_on(h, wps, NULL, 0, NULL, &r) != FF_OK ||
		ff_client_resume_execution(c, id, NULL, 0, NULL) != FF_OK)
		printf("Bail out! could not suspend and resume %s\n", id);
	ff_suspend_result_clear(&r);
}

static void
test_claim_resumed_held_back(void)
{
	const char *lane = unique_lane("held");
	char	   *bid = admin_str("SELECT gen_random_uuid()::text");
	char		policy[200];
	char		out[2048];
	char	   *id;
	char	   *st;
	ff_claimed	cl = {0};
	ff_claim_resumed_args a = {0};
	ff_resumed_claim rc = {0};
	ff_status	s;
	int			rcode;

	admin_exec("SELECT ff_create_budget('%s', '{tokens}', '{10}', '{0}')", bid);
	snprintf(policy, sizeof(policy), "{\"budget_ids\": [\"%s\"]}", bid);
	id = make_execution(c, lane, "held", policy);
	if (id == NULL || !claim_lane(c, lane, NULL, 0, 86400000, &cl))
		printf("Bail out! could not create and claim on %s\n", lane);
	suspend_and_resume(id, &cl.handle, "wpk:held");
	admin_exec("SELECT ff_report_usage_admin('%s', '{tokens}', '{10}')", bid);

	a.execution_id = id;
	a.worker_id = "w-held";
	a.worker_instance_id = "w-held/1";
	a.lane_id = lane;
	rc.held_back = false;
	s = ff_client_claim_resumed(c, &a, &rc);
	is_status(s, FF_OK, c, "claim_resumed held back by a breached budget: FF_OK, not FF_ERR_PROTOCOL");
	ok(rc.held_back && rc.claimed.handle.data == NULL && rc.claimed.handle.len == 0 &&
	   rc.claimed.execution_id == NULL && rc.attempt_id == NULL && rc.lease_id == NULL &&
	   rc.claimed.lease_epoch == 0, "... held_back, nothing claimed (no handle, every member zero)");
	st = state_of(id);
	is_str(st, "rate_limited", "... the engine stored it held back (rate_limited)");
	ff_free(st);
	ff_resumed_claim_clear(&rc);
	s = ff_client_claim_resumed(c, &a, &rc);
	is_error(c, s, FF_ERR_EXECUTION_NOT_LEASEABLE, "YFC03", "claim_resumed while it is held back");
	ok(!rc.held_back, "... an error is not held_back");

	/* ffctl: exit status 6 (nothing claimed), as ffctl claim */
	admin_exec("SELECT ff_reset_budget('%s')", bid);
	admin_exec("SELECT ff_report_usage_admin('%s', '{tokens}', '{10}')", bid);
	rcode = ffctl_run(out, sizeof(out), "claim-resumed '%s' --lane %s --worker-id w-held", id, lane);
	ok(rcode == 6 && strstr(out, "nothing claimed") && strstr(out, "hold") && strstr(out, id),
	   "ffctl claim-resumed held back: exit 6 and says so (%d: %s)", rcode, out);
	admin_exec("SELECT ff_reset_budget('%s')", bid);
	admin_exec("SELECT ff_report_usage_admin('%s', '{tokens}', '{10}')", bid);
	rcode = ffctl_run(out, sizeof(out), "--json claim-resumed '%s' --lane %s --worker-id w-held", id, lane);
	ok(rcode == 6 && strstr(out, "\"claimed\":false") && strstr(out, "\"held_back\":true"),
	   "ffctl --json claim-resumed held back: exit 6, claimed false (%d: %s)", rcode, out);

	/* released by a reset: the same attempt continues */
	admin_exec("SELECT ff_reset_budget('%s')", bid);
	a.lease_ttl_ms = 60000;
	is_status(ff_client_claim_resumed(c, &a, &rc), FF_OK, c, "after the reset: claim_resumed");
	ok(!rc.held_back && rc.claimed.handle.data != NULL && rc.claimed.attempt_index == 0 &&
	   rc.claimed.lease_epoch == cl.lease_epoch + 1 && strcmp(rc.claimed.execution_id, id) == 0,
	   "... claimed: the same attempt (index 0), the next epoch (%lld)", (long long) rc.claimed.lease_epoch);

	/* reserved by another worker's live claim grant: an error, not held back */
	suspend_and_resume(id, &rc.claimed.handle, "wpk:held2");
	admin_exec("SELECT * FROM ff_issue_claim_grant('%s', 'w-grant', 'w-grant/1')", id);
	ff_resumed_claim_clear(&rc);
	s = ff_client_claim_resumed(c, &a, &rc);
	is_error(c, s, FF_ERR_INVALID_CLAIM_GRANT, "YFC05", "claim_resumed of an execution another worker's grant reserves");
	rcode = ffctl_run(out, sizeof(out), "claim-resumed '%s' --lane %s --worker-id w-held", id, lane);
	ok(rcode == 1 && strstr(out, "invalid_claim_grant") && strstr(out, "YFC05"),
	   "ffctl claim-resumed of a reserved execution: exit 1, invalid_claim_grant (%d: %s)", rcode, out);
	a.worker_id = "w-grant";
	a.worker_instance_id = "w-grant/1";
	is_status(ff_client_claim_resumed(c, &a, &rc), FF_OK, c, "the grant holder claims it");
	ok(!rc.held_back && rc.claimed.handle.data != NULL, "... claimed");
	is_int(admin_int("SELECT count(*) FROM ff_claim_grant WHERE ff_format_execution_id(partition_key, "
					 "execution_id) = '%s'", id), 0, "... and the grant is used up");
	is_status(ff_client_complete(c, &rc.claimed.handle, NULL, 0), FF_OK, c, "... and completes it");

	ff_resumed_claim_clear(&rc);
	ff_claimed_clear(&cl);
	free(id);
	free(bid);
}

/* ------------------------------------------------------------------------
 * suspend by triple, signal options
 * ------------------------------------------------------------------------ */
static void
test_triple_and_signal_options(void)
{
	ff_claimed	cl = {0};
	ff_execution_description d = {0};
	ff_lease_triple t = {0};
	ff_suspend_args sa = {0};
	ff_suspend_result r = {0};
	ff_signal_result g = {0};
	char	   *id = new_claimed("triple", &cl, NULL);
	ff_status	s;

	ff_client_describe_execution(c, id, &d);
	sa.waitpoints_json = "[{\"waitpoint_key\": \"wpk:t\"}]";
	sa.resume_condition_json = "\"OperatorOnly\"";
	t.execution_id = id;
	t.lease_epoch = d.lease_epoch;
	s = ff_client_suspend_by_triple(c, &t, &sa, &r);
	is_error(c, s, FF_ERR_INVALID_INPUT, "YFV01", "suspend_by_triple without a lease id");
	ok(strstr(ff_client_last_error(c)->message, "partial_fence_triple") != NULL, "... partial_fence_triple");
	t.lease_id = d.lease_id;
	t.lease_epoch = d.lease_epoch + 7;
	s = ff_client_suspend_by_triple(c, &t, &sa, &r);
	is_error(c, s, FF_ERR_STALE_LEASE, "YFS01", "suspend_by_triple with another epoch");
	t.lease_epoch = d.lease_epoch;
	t.attempt_id = d.current_attempt_id;
	t.has_attempt_index = true;
	t.attempt_index = 0;
	sa.idempotency_key = "triple-1";
	is_status(ff_client_suspend_by_triple(c, &t, &sa, &r), FF_OK, c, "suspend_by_triple");
	ok(r.outcome == FF_SUSPEND_SUSPENDED && r.n_waitpoints == 1 && r.handle.len > 0,
	   "... suspended, with the handle it built");
	is_status(ff_client_complete(c, &r.handle, NULL, 0), FF_ERR_EXECUTION_NOT_ACTIVE, c,
			  "... that handle is the suspended lease's");
	is_state(id, "suspended", "suspend_by_triple");

	/* signal options: OperatorOnly ignores signals; limits; dedup off; signal ids */
	if (r.n_waitpoints == 1)
	{
		ff_signal_args a = {0};
		ff_signal_result g2 = {0};

		a.execution_id = id;
		a.waitpoint_id = r.waitpoints[0].waitpoint_id;
		a.waitpoint_token = r.waitpoints[0].waitpoint_token;
		a.signal_name = "ping";
		a.idempotency_key = "same";
		a.dedup_ttl_ms = FF_SIGNAL_NO_DEDUP;
		a.max_signals_per_execution = FF_SIGNAL_NO_LIMIT;
		is_status(ff_client_deliver_signal(c, &a, &g), FF_OK, c, "a signal with de-duplication off");
		is_str(g.effect, "signal_ignored_not_in_condition", "... OperatorOnly: signal_ignored_not_in_condition");
		is_status(ff_client_deliver_signal(c, &a, &g2), FF_OK, c, "the same key again");
		ok(!g2.duplicate && strcmp(g.signal_id, g2.signal_id) != 0, "... accepted again, a new signal");
		ff_signal_result_clear(&g);
		ff_signal_result_clear(&g2);

		a.dedup_ttl_ms = 0;
		a.idempotency_key = NULL;
		a.max_signals_per_execution = 2;
		s = ff_client_deliver_signal(c, &a, &g);
		is_error(c, s, FF_ERR_SIGNAL_LIMIT_EXCEEDED, "YFV06", "a third signal with a limit of 2");
		a.max_signals_per_execution = -5;
		s = ff_client_deliver_signal(c, &a, &g);
		is_error(c, s, FF_ERR_INVALID_INPUT, "YFV01", "a negative limit");
		a.max_signals_per_execution = 0;
		a.signal_id = "6ba7b810-9dad-11d1-80b4-00c04fd43001";
		a.created_at_ms = 1000;
		is_status(ff_client_deliver_signal(c, &a, &g), FF_OK, c, "a signal with its own id");
		is_str(g.signal_id, "6ba7b810-9dad-11d1-80b4-00c04fd43001", "... keeps it");
		ff_signal_result_clear(&g);
		is_status(ff_client_deliver_signal(c, &a, &g), FF_OK, c, "the same signal id again");
		ok(g.duplicate, "... duplicate");
		ff_signal_result_clear(&g);
		is_int(admin_int("SELECT created_at_ms FROM ff_signal WHERE signal_id = '%s'", a.signal_id), 1000,
			   "the sender's created_at is kept");
	}
	is_status(ff_client_resume_execution(c, id, NULL, 0, NULL), FF_OK, c, "operator resume of OperatorOnly");
	ff_suspend_result_clear(&r);
	ff_execution_description_clear(&d);
	ff_claimed_clear(&cl);
	free(id);

	/* a resume delay given with the satisfying signal */
	id = new_claimed("rdelay", &cl, NULL);
	if (suspend_on(&cl.handle, "[\"wpk:d\"]", NULL, 0, NULL, &r) == FF_OK)
	{
		ff_signal_args a = {0};

		a.execution_id = id;
		a.waitpoint_id = r.waitpoints[0].waitpoint_id;
		a.waitpoint_token = r.waitpoints[0].waitpoint_token;
		a.signal_name = "go";
		a.has_resume_delay = true;
		a.resume_delay_ms = 3600000;
		is_status(ff_client_deliver_signal(c, &a, &g), FF_OK, c, "a satisfying signal with resume_delay_ms");
		ok(g.satisfied && strcmp(g.public_state, "delayed") == 0, "... satisfied, delayed");
		ff_signal_result_clear(&g);
	}
	else
		ok(0, "suspend for the resume delay");
	ff_suspend_result_clear(&r);
	ff_claimed_clear(&cl);
	free(id);
}

/* ------------------------------------------------------------------------
 * pending waitpoints, closing, expiry (shifted clock), approvals
 * ------------------------------------------------------------------------ */
static void
test_pending_waitpoints(ff_client *tc)
{
	ff_claimed	cl = {0};
	ff_claimed	cl2 = {0};
	ff_waitpoint_created w1 = {0};
	ff_waitpoint_created w2 = {0};
	ff_waitpoint_created w3 = {0};
	ff_waitpoint_created wx = {0};
	ff_suspend_result r = {0};
	ff_signal_result g = {0};
	char		json[256];
	const char *lane = NULL;
	char	   *id = new_claimed("pending", &cl, &lane);
	char	   *id2 = new_claimed_in(lane, NULL, &cl2, NULL);	/* same partition */
	int64_t		t0 = engine_now();
	bool		already = true;
	ff_status	s;

	/* three hours: still pending on the session two hours ahead */
	is_status(ff_client_create_waitpoint(c, &cl.handle, "wpk:early", 10800000, NULL, &w1), FF_OK, c,
			  "create_waitpoint");
	ok(w1.waitpoint_id && strlen(w1.waitpoint_id) == 36 && strcmp(w1.waitpoint_key, "wpk:early") == 0 &&
	   strncmp(w1.waitpoint_token, "kid-a:", 6) == 0 && w1.expires_at_ms >= t0 + 10800000 &&
	   w1.expires_at_ms < t0 + 10860000, "... id, key, token, expiry");
	is_status(ff_client_create_waitpoint(c, &cl.handle, NULL, 60000, NULL, &w2), FF_OK, c,
			  "create_waitpoint without a key");
	ok(w2.waitpoint_key && strncmp(w2.waitpoint_key, "wpk:", 4) == 0 &&
	   strcmp(w2.waitpoint_key + 4, w2.waitpoint_id) == 0, "... key wpk:<id>");
	s = ff_client_create_waitpoint(c, &cl.handle, "", 60000, NULL, &wx);
	is_error(c, s, FF_ERR_INVALID_WAITPOINT_KEY, "YFV07", "create_waitpoint with an empty key");
	s = ff_client_create_waitpoint(c, &cl.handle, "wpk:x", 0, NULL, &wx);
	is_error(c, s, FF_ERR_INVALID_INPUT, "YFV01", "create_waitpoint expiring in 0 ms");
	s = ff_client_create_waitpoint(c, &cl.handle, "wpk:x", 60000, w1.waitpoint_id, &wx);
	is_error(c, s, FF_ERR_WAITPOINT_ALREADY_EXISTS, "YFK05", "create_waitpoint with an id in use");
	ok(wx.waitpoint_id == NULL, "... the result stays zeroed");
	is_status(ff_client_create_waitpoint(c, &cl.handle, "wpk:x", 60000, NULL, NULL), FF_ERR_USAGE, c,
			  "create_waitpoint without out -> usage");

	/* a signal before the suspension is buffered */
	is_status(signal_to(id, w1.waitpoint_id, w1.waitpoint_token, "early", NULL, &g), FF_OK, c,
			  "a signal to a pending waitpoint");
	ok(strcmp(g.effect, "buffered_for_pending_waitpoint") == 0 && strcmp(g.public_state, "active") == 0,
	   "... buffered_for_pending_waitpoint, the execution keeps running");
	ff_signal_result_clear(&g);

	/* close / already closed / closed waitpoint errors */
	is_status(ff_client_close_waitpoint(c, id, w2.waitpoint_id, NULL, &already), FF_OK, c, "close_waitpoint");
	ok(!already, "... closed now");
	is_status(ff_client_close_waitpoint(c, id, w2.waitpoint_id, "again", &already), FF_OK, c, "close it again");
	ok(already, "... already_closed");
	s = signal_to(id, w2.waitpoint_id, w2.waitpoint_token, "x", NULL, &g);
	is_error(c, s, FF_ERR_WAITPOINT_CLOSED, "YFS06", "a signal to a closed waitpoint");
	s = ff_client_close_waitpoint(c, id, NO_SUCH_UUID, NULL, NULL);
	is_error(c, s, FF_ERR_WAITPOINT_NOT_FOUND_YET, "YFC08", "close an unknown waitpoint");
	s = ff_client_close_waitpoint(c, id2, w1.waitpoint_id, NULL, NULL);
	is_error(c, s, FF_ERR_INVALID_WAITPOINT_FOR_EXECUTION, "YFV13", "close another execution's waitpoint");

	/* use_pending errors */
	snprintf(json, sizeof(json), "[{\"use_pending\": \"%s\"}]", w2.waitpoint_id);
	s = suspend_on(&cl.handle, json, NULL, 0, NULL, &r);
	is_error(c, s, FF_ERR_WAITPOINT_NOT_PENDING, "YFS10", "use_pending of a closed waitpoint");
	snprintf(json, sizeof(json), "[{\"use_pending\": \"%s\"}]", NO_SUCH_UUID);
	s = suspend_on(&cl.handle, json, NULL, 0, NULL, &r);
	is_error(c, s, FF_ERR_WAITPOINT_NOT_FOUND_YET, "YFC08", "use_pending of an unknown waitpoint");
	snprintf(json, sizeof(json), "[{\"use_pending\": \"%s\"}]", w1.waitpoint_id);
	s = suspend_on(&cl2.handle, json, NULL, 0, NULL, &r);
	is_error(c, s, FF_ERR_INVALID_WAITPOINT_FOR_EXECUTION, "YFV13", "use_pending of another execution's waitpoint");

	/* expiry, on a session whose clock is two hours ahead */
	is_status(ff_client_create_waitpoint(c, &cl.handle, "wpk:late", 3600000, NULL, &w3), FF_OK, c,
			  "a pending waitpoint expiring in an hour");
	snprintf(json, sizeof(json), "[{\"use_pending\": \"%s\"}]", w3.waitpoint_id);
	{
		ff_suspend_args a = {0};

		a.waitpoints_json = json;
		s = ff_client_suspend(tc, &cl.handle, &a, &r);
		is_error(tc, s, FF_ERR_PENDING_WAITPOINT_EXPIRED, "YFS11", "use_pending two hours later");
	}
	s = signal_to(id, w3.waitpoint_id, w3.waitpoint_token, "x", NULL, &g);
	is_status(s, FF_OK, c, "... on the real clock it still takes signals");
	ff_signal_result_clear(&g);
	{
		int32_t		n = -1;

		is_status(ff_client_reconcile_pending_waitpoint_expiry(tc, 0, &n), FF_OK, tc,
				  "reconcile_pending_waitpoint_expiry two hours later");
		ok(n >= 1, "... closed %d waitpoint(s)", (int) n);
		s = ff_client_reconcile_pending_waitpoint_expiry(c, -3, &n);
		is_error(c, s, FF_ERR_INVALID_INPUT, "YFV01", "a negative batch size");
		s = signal_to(id, w3.waitpoint_id, w3.waitpoint_token, "x", NULL, &g);
		is_error(c, s, FF_ERR_WAITPOINT_CLOSED, "YFS06", "a signal to the expired waitpoint");
	}

	/* suspend on the pending waitpoint: the buffered signal satisfies it */
	snprintf(json, sizeof(json), "[{\"use_pending\": \"%s\"}]", w1.waitpoint_id);
	is_status(suspend_on(&cl.handle, json, NULL, 0, NULL, &r), FF_OK, c, "suspend with use_pending");
	ok(r.outcome == FF_SUSPEND_ALREADY_SATISFIED && r.n_waitpoints == 1 &&
	   strcmp(r.waitpoints[0].waitpoint_id, w1.waitpoint_id) == 0 &&
	   strcmp(r.waitpoints[0].waitpoint_token, w1.waitpoint_token) == 0,
	   "... already_satisfied by the buffered signal; id and token kept");
	is_state(id, "active", "already_satisfied keeps the lease");
	{
		ff_signal_list sl = {0};

		ff_client_observe_signals(c, &cl.handle, false, &sl);
		ok(sl.count == 1 && strcmp(sl.items[0].signal_name, "early") == 0,
		   "observe_signals shows the buffered signal");
		ff_signal_list_clear(&sl);
	}
	is_status(ff_client_complete(c, &cl.handle, NULL, 0), FF_OK, c, "the handle still completes");

	/* approvals on the other execution */
	ff_suspend_result_clear(&r);
	if (suspend_on(&cl2.handle, "[\"wpk:approval\"]",
				   "{\"Single\": {\"waitpoint_key\": \"wpk:approval\", \"matcher\": {\"ByName\": \"approved\"}}}",
				   0, NULL, &r) == FF_OK)
	{
		ff_approval_args a = {0};
		ff_signal_result g2 = {0};
		char	   *lane = admin_str("SELECT lane_id FROM ff_execution WHERE "
									 "ff_format_execution_id(partition_key, execution_id) = '%s'", id2);

		a.execution_id = id2;
		a.lane_id = "wrong-lane";
		a.waitpoint_id = r.waitpoints[0].waitpoint_id;
		a.signal_name = "approved";
		a.idempotency_suffix = "ticket-1";
		s = ff_client_deliver_approval(c, &a, &g);
		is_error(c, s, FF_ERR_INVALID_INPUT, "YFV01", "an approval with the wrong lane");
		a.lane_id = lane;
		a.waitpoint_id = NO_SUCH_UUID;
		s = ff_client_deliver_approval(c, &a, &g);
		is_error(c, s, FF_ERR_WAITPOINT_NOT_FOUND_YET, "YFC08", "an approval to an unknown waitpoint");
		a.waitpoint_id = r.waitpoints[0].waitpoint_id;
		a.signal_name = "rejected";
		is_status(ff_client_deliver_approval(c, &a, &g), FF_OK, c, "deliver_approval rejected");
		ok(!g.satisfied && strcmp(g.effect, "signal_ignored_matcher_failed") == 0,
		   "... does not match approved");
		ff_signal_result_clear(&g);
		a.signal_name = "approved";
		is_status(ff_client_deliver_approval(c, &a, &g), FF_OK, c, "deliver_approval approved");
		ok(g.satisfied && strcmp(g.public_state, "waiting") == 0, "... resumes it");
		is_status(ff_client_deliver_approval(c, &a, &g2), FF_OK, c, "the same approval again");
		ok(g2.duplicate && strcmp(g2.signal_id, g.signal_id) == 0, "... duplicate");
		ff_signal_result_clear(&g);
		ff_signal_result_clear(&g2);
		{
			char	   *v = admin_str("SELECT source_type || '/' || signal_category || '/' || idempotency_key "
									  "FROM ff_signal WHERE signal_name = 'approved' AND execution_id = "
									  "(ff_split_execution_id('%s')).execution_uuid", id2);

			is_str(v, "operator/approval/approval:approved:ticket-1", "approval: operator, category, key");
			free(v);
		}
		free(lane);
	}
	else
		ok(0, "suspend for approvals");

	ff_waitpoint_created_clear(&w1);
	ff_waitpoint_created_clear(&w2);
	ff_waitpoint_created_clear(&w3);
	ff_suspend_result_clear(&r);
	ff_claimed_clear(&cl);
	ff_claimed_clear(&cl2);
	free(id);
	free(id2);
}

/* ------------------------------------------------------------------------
 * timeouts (shifted clock)
 * ------------------------------------------------------------------------ */
static void
test_timeouts(ff_client *tc)
{
	const char *behaviours[] = {FF_TIMEOUT_FAIL, FF_TIMEOUT_ESCALATE, FF_TIMEOUT_AUTO_RESUME};
	char	   *ids[3];
	const char *lanes[3];
	ff_claimed	cl[3];
	ff_suspend_result r[3];
	ff_expire_result er = {0};
	int64_t		at = engine_now() + 3600000;
	ff_status	s;

	for (int i = 0; i < 3; i++)
	{
		memset(&r[i], 0, sizeof(r[i]));
		ids[i] = new_claimed("timeout", &cl[i], &lanes[i]);
		is_status(suspend_on(&cl[i].handle, "[\"wpk:t\"]", NULL, at, behaviours[i], &r[i]), FF_OK, c,
				  "suspend with a one-hour timeout, %s", behaviours[i]);
	}
	is_status(ff_client_expire_suspension(c, ids[0], &er), FF_OK, c, "expire_suspension before the timeout");
	is_str(er.outcome, "not_yet_due", "... not_yet_due");
	ff_expire_result_clear(&er);
	is_status(ff_client_expire_suspension(tc, ids[0], &er), FF_OK, tc, "expire_suspension two hours later");
	ok(er.outcome && strcmp(er.outcome, "fail") == 0 && strcmp(er.public_state, "failed") == 0,
	   "... fail -> failed");
	ff_expire_result_clear(&er);
	is_status(ff_client_expire_suspension(tc, ids[0], &er), FF_OK, tc, "expire it again");
	is_str(er.outcome, "not_suspended", "... not_suspended");
	ff_expire_result_clear(&er);
	s = ff_client_expire_suspension(c, "{fp:3}:00000000-0000-4000-8000-000000000001", &er);
	is_error(c, s, FF_ERR_EXECUTION_NOT_FOUND, "YFN01", "expire_suspension of an unknown execution");

	{
		int32_t		n = -1;
		ff_suspended_list sl = {0};
		char		pk[32];
		bool		escalated = false;

		is_status(ff_client_reconcile_suspension_timeout(tc, 0, &n), FF_OK, tc,
				  "reconcile_suspension_timeout two hours later");
		ok(n >= 2, "... handled the escalate and auto-resume ones (%d)", (int) n);
		is_state(ids[2], "waiting", "auto_resume_with_timeout_signal");
		is_state(ids[1], "suspended", "escalate");
		ff_client_list_suspended(c, partition_of(ids[1], pk, sizeof(pk)), NULL, 1000, &sl);
		for (size_t i = 0; i < sl.count; i++)
			if (strcmp(sl.items[i].execution_id, ids[1]) == 0)
				escalated = strcmp(sl.items[i].reason, "waiting_for_operator_review") == 0 &&
					sl.items[i].timeout_at_ms == 0;
		ok(escalated, "... listed for an operator, without a timeout");
		ff_suspended_list_clear(&sl);
		s = ff_client_reconcile_suspension_timeout(c, 100001, &n);
		is_error(c, s, FF_ERR_INVALID_INPUT, "YFV01", "a batch size over 100000");
	}
	{
		ff_claim_resumed_args a = {0};
		ff_resumed_claim rc = {0};
		ff_signal_list sl = {0};

		a.execution_id = ids[2];
		a.worker_id = "w";
		a.worker_instance_id = "w/1";
		a.lane_id = lanes[2];
		is_status(ff_client_claim_resumed(c, &a, &rc), FF_OK, c, "claim the auto-resumed execution");
		is_status(ff_client_observe_signals(c, &rc.claimed.handle, false, &sl), FF_OK, c, "observe it");
		ok(sl.count == 1 && strcmp(sl.items[0].signal_name, "timeout") == 0 &&
		   strcmp(sl.items[0].signal_category, "timeout") == 0 && sl.items[0].waitpoint_id == NULL &&
		   sl.items[0].waitpoint_key == NULL, "... one synthetic timeout signal, no waitpoint");
		ff_signal_list_clear(&sl);
		ff_client_complete(c, &rc.claimed.handle, NULL, 0);
		ff_resumed_claim_clear(&rc);
	}
	/* the escalated one still takes signals */
	{
		ff_signal_result g = {0};

		is_status(signal_to(ids[1], r[1].waitpoints[0].waitpoint_id, r[1].waitpoints[0].waitpoint_token,
							"go", NULL, &g), FF_OK, c, "a signal to the escalated suspension");
		ok(g.satisfied, "... resumes it");
		ff_signal_result_clear(&g);
	}
	for (int i = 0; i < 3; i++)
	{
		ff_suspend_result_clear(&r[i]);
		ff_claimed_clear(&cl[i]);
		free(ids[i]);
	}
}

/* ------------------------------------------------------------------------
 * rotation grace: token_expired, then invalid_kid
 * ------------------------------------------------------------------------ */
static void
test_rotation(void)
{
	ff_claimed	cl1 = {0};
	ff_claimed	cl2 = {0};
	ff_suspend_result r1 = {0};
	ff_suspend_result r2 = {0};
	ff_hmac_rotate_result rr = {0};
	ff_hmac_kid_list kl = {0};
	ff_signal_result g = {0};
	char	   *id1 = new_claimed("rot", &cl1, NULL);
	char	   *id2 = new_claimed("rot", &cl2, NULL);
	const char *cond = "{\"Single\": {\"waitpoint_key\": \"wpk:r\", \"matcher\": {\"ByName\": \"go\"}}}";
	ff_status	s;

	is_status(suspend_on(&cl1.handle, "[\"wpk:r\"]", cond, 0, NULL, &r1), FF_OK, c, "suspend under kid-a");
	is_status(ff_client_rotate_hmac_secret(c, "kid-b", SECRET_B, 3600000, &rr), FF_OK, c,
			  "rotate to kid-b, one hour of grace");
	ok(rr.outcome && strcmp(rr.outcome, "rotated") == 0 && strcmp(rr.previous_kid, "kid-a") == 0 &&
	   strcmp(rr.current_kid, "kid-b") == 0 && rr.gc_count == 0, "... rotated, kid-a -> kid-b");
	ff_hmac_rotate_result_clear(&rr);
	is_status(ff_client_list_hmac_kids(c, &kl), FF_OK, c, "list kids");
	ok(kl.count == 2 && strcmp(kl.items[0].kid, "kid-b") == 0 && kl.items[0].active &&
	   strcmp(kl.items[1].kid, "kid-a") == 0 && !kl.items[1].active && kl.items[1].expires_at_ms > 0,
	   "... kid-b active, kid-a retired with an expiry");
	ff_hmac_kid_list_clear(&kl);
	is_status(signal_to(id1, r1.waitpoints[0].waitpoint_id, r1.waitpoints[0].waitpoint_token, "wait",
						NULL, &g), FF_OK, c, "a kid-a token inside its grace period still works");
	ff_signal_result_clear(&g);

	is_status(suspend_on(&cl2.handle, "[\"wpk:r\"]", cond, 0, NULL, &r2), FF_OK, c, "suspend under kid-b");
	ok(r2.n_waitpoints == 1 && strncmp(r2.waitpoints[0].waitpoint_token, "kid-b:", 6) == 0,
	   "... signed by kid-b");
	is_status(ff_client_rotate_hmac_secret(c, "kid-c", SECRET_C, 0, &rr), FF_OK, c,
			  "rotate to kid-c without grace (128-bit secret)");
	ff_hmac_rotate_result_clear(&rr);
	sleep_ms(5);
	s = signal_to(id2, r2.waitpoints[0].waitpoint_id, r2.waitpoints[0].waitpoint_token, "go", NULL, &g);
	is_error(c, s, FF_ERR_TOKEN_EXPIRED, "YFV27", "a kid-b token after its grace");
	ok(strcmp(ff_status_name(FF_ERR_TOKEN_EXPIRED), "token_expired") == 0 &&
	   strcmp(ff_status_sqlstate(FF_ERR_TOKEN_EXPIRED), "YFV27") == 0 &&
	   ff_status_from_sqlstate("YFV27") == FF_ERR_TOKEN_EXPIRED, "token_expired is mapped both ways");
	is_status(ff_client_rotate_hmac_secret(c, "kid-d", SECRET_A, 0, &rr), FF_OK, c, "rotate once more");
	ok(rr.gc_count == 1, "... kid-b, past its grace, is deleted (gc_count %d)", (int) rr.gc_count);
	ff_hmac_rotate_result_clear(&rr);
	s = signal_to(id2, r2.waitpoints[0].waitpoint_id, r2.waitpoints[0].waitpoint_token, "go", NULL, &g);
	is_error(c, s, FF_ERR_INVALID_KID, "YFV20", "the kid-b token once kid-b is gone");
	is_status(signal_to(id1, r1.waitpoints[0].waitpoint_id, r1.waitpoints[0].waitpoint_token, "go",
						NULL, &g), FF_OK, c, "kid-a, still in grace, still resumes its execution");
	ok(g.satisfied, "... satisfied");
	ff_signal_result_clear(&g);
	ff_client_resume_execution(c, id2, NULL, 0, NULL);

	ff_suspend_result_clear(&r1);
	ff_suspend_result_clear(&r2);
	ff_claimed_clear(&cl1);
	ff_claimed_clear(&cl2);
	free(id1);
	free(id2);
}

/* ------------------------------------------------------------------------
 * the signal-event subscription
 * ------------------------------------------------------------------------ */
/* signal events of execution id after cursor, from the table, in order */
static int
table_events(const char *id, long long after, long long *ids, int max)
{
	return admin_ids(ids, max, "SELECT event_id FROM ff_signal_event WHERE ff_format_execution_id("
					 "partition_key, execution_id) = '%s' AND event_id > %lld ORDER BY 1", id, after);
}

static int
collect_signals(ff_client *sc, ff_subscription *s, const char *id, int want, long long *ids,
				char effects[][64], int timeout_ms)
{
	int			got = 0;
	long long	end = mono_ms() + timeout_ms;

	while (got < want && mono_ms() < end)
	{
		ff_signal_event_list l = {0};
		ff_status	st = ff_subscription_next_signal_events(s, (int) (end - mono_ms()), &l);

		if (st != FF_OK)
		{
			printf("# next_signal_events: %s\n", ff_client_last_error(sc)->message);
			sleep_ms(50);
			continue;
		}
		for (size_t i = 0; i < l.count; i++)
			if (strcmp(l.items[i].execution_id, id) == 0 && got < 100)
			{
				ids[got] = l.items[i].event_id;
				if (effects)
					snprintf(effects[got], 64, "%s", l.items[i].effect);
				got++;
			}
		ff_signal_event_list_clear(&l);
	}
	return got;
}

static void
test_signal_subscription(void)
{
	ff_client  *sc = test_client();
	ff_subscription *s = NULL;
	ff_claimed	cl = {0};
	ff_suspend_result r = {0};
	char	   *id = new_claimed("sigsub", &cl, NULL);
	long long	start = admin_int("SELECT coalesce(max(event_id), 0) FROM ff_signal_event");
	long long	ids[100];
	long long	tids[100];
	char		effects[100][64];
	int			got = 0;
	int			pid;
	unsigned long rc0;
	ff_subscription_options o = {0};

	if (suspend_on(&cl.handle, "[\"wpk:s\"]", "\"OperatorOnly\"", 0, NULL, &r) != FF_OK)
	{
		ok(0, "suspend for the subscription");
		return;
	}
	o.poll_interval_ms = 10000;	/* wake-ups must come from NOTIFY */
	is_status(ff_subscription_open(sc, FF_EVENTS_SIGNAL, start, &o, &s), FF_OK, sc,
			  "open a signal-event subscription");
	ok(ff_subscription_source(s) == FF_EVENTS_SIGNAL && ff_subscription_cursor(s) == start,
	   "source and cursor");
	{
		PGresult   *res = PQexec(ff_client_pgconn(sc), "SELECT string_agg(c, ',') FROM pg_listening_channels() c");

		is_str(PQgetvalue(res, 0, 0), "ff_signal_event", "LISTEN ff_signal_event");
		PQclear(res);
	}
	{
		ff_completion_event_list cl2 = {0};
		ff_lease_event_list ll = {0};
		ff_signal_event_list sl = {0};
		ff_subscription *cs = NULL;
		long long	t0 = mono_ms();

		is_status(ff_subscription_next_completions(s, 0, &cl2), FF_ERR_USAGE, sc,
				  "the completion reader on a signal subscription -> usage");
		ok(strstr(ff_client_last_error(sc)->message, "ff_subscription_next_signal_events") != NULL,
		   "... the message names the right reader");
		is_status(ff_subscription_next_lease_events(s, 0, &ll), FF_ERR_USAGE, sc,
				  "the lease reader on a signal subscription -> usage");
		ff_subscription_open(sc, FF_EVENTS_COMPLETION, 0, NULL, &cs);
		is_status(ff_subscription_next_signal_events(cs, 0, &sl), FF_ERR_USAGE, sc,
				  "the signal reader on a completion subscription -> usage");
		ff_subscription_close(cs);
		is_status(ff_subscription_next_signal_events(s, 0, &sl), FF_OK, sc, "non-blocking next");
		ok(sl.count == 0 && mono_ms() - t0 < 1000, "... nothing yet, at once");
		ff_signal_event_list_clear(&sl);
	}

	for (int i = 0; i < 3; i++)
	{
		ff_signal_result g = {0};

		signal_to(id, r.waitpoints[0].waitpoint_id, r.waitpoints[0].waitpoint_token, "tick", NULL, &g);
		ff_signal_result_clear(&g);
	}
	got = collect_signals(sc, s, id, 3, ids, effects, 5000);
	is_int(got, 3, "three signal events arrive");
	is_str(effects[0], "signal_ignored_not_in_condition", "... with the real effect");
	{
		ff_signal_event_list l = {0};

		is_status(ff_client_signal_events(c, start, 1, &l), FF_OK, c, "signal_events reader, page of 1");
		ok(l.count == 1 && l.items[0].event_id > start && strcmp(l.items[0].signal_name, "tick") == 0 &&
		   strcmp(l.items[0].source_type, "external") == 0 &&
		   strcmp(l.items[0].waitpoint_id, r.waitpoints[0].waitpoint_id) == 0 &&
		   l.items[0].lane_id && l.items[0].delivered_at_ms > 0 && strlen(l.items[0].signal_id) == 36,
		   "... the event's fields");
		ff_signal_event_list_clear(&l);
		is_status(ff_client_signal_events(c, start, 20000, &l), FF_ERR_INVALID_INPUT, c,
				  "signal_events with max_events 20000 -> invalid_input");
	}

	/* drop the subscriber's connection; signals arrive while it is gone */
	pid = ff_client_backend_pid(sc);
	rc0 = ff_client_reconnect_count(sc);
	admin_exec("SELECT pg_terminate_backend(%d)", pid);
	wait_backend_gone(pid);
	for (int i = 0; i < 4; i++)
	{
		ff_signal_result g = {0};

		signal_to(id, r.waitpoints[0].waitpoint_id, r.waitpoints[0].waitpoint_token, "tick", NULL, &g);
		ff_signal_result_clear(&g);
	}
	got += collect_signals(sc, s, id, 4, ids + got, NULL, 8000);
	is_int(got, 7, "after the drop, the four events of the outage are caught up");
	ok(ff_client_reconnect_count(sc) == rc0 + 1 && ff_client_backend_pid(sc) != pid,
	   "the subscription reconnected");

	/* dropped in the middle of a blocking wait: woken by the next signal */
	{
		char		sql[1024];
		PGresult   *res;
		int			n;
		long long	t0 = mono_ms();

		pid = ff_client_backend_pid(sc);
		snprintf(sql, sizeof(sql),
				 "SELECT pg_sleep(0.2), pg_terminate_backend(%d); SELECT pg_sleep(0.5); "
				 "SELECT * FROM ff_deliver_signal('%s', '%s', '%s', 'tock')", pid, id,
				 r.waitpoints[0].waitpoint_id, r.waitpoints[0].waitpoint_token);
		PQsendQuery(admin(), sql);
		n = collect_signals(sc, s, id, 1, ids + got, NULL, 8000);
		while ((res = PQgetResult(admin())) != NULL)
			PQclear(res);
		got += n;
		is_int(n, 1, "dropped while waiting: the next event still arrives");
		ok(mono_ms() - t0 < 5000, "... by notification after the reconnect (%lld ms; poll interval 10 s)",
		   mono_ms() - t0);
		ok(ff_client_reconnect_count(sc) == rc0 + 2, "reconnected again");
	}
	{
		int			want = table_events(id, start, tids, 100);
		int			same = want == got;

		for (int i = 0; same && i < got; i++)
			same = ids[i] == tids[i];
		ok(same, "exactly the table's %d events, in order: no gap, no duplicate", want);
	}
	ff_subscription_close(s);
	{
		PGresult   *res = PQexec(ff_client_pgconn(sc), "SELECT count(*) FROM pg_listening_channels()");

		is_str(PQgetvalue(res, 0, 0), "0", "closing the subscription UNLISTENs");
		PQclear(res);
	}
	ff_client_resume_execution(c, id, NULL, 0, NULL);
	ff_suspend_result_clear(&r);
	ff_claimed_clear(&cl);
	free(id);
	ff_client_close(sc);
}

/* ------------------------------------------------------------------------
 * end to end: a worker suspends, `ffctl signal` resumes, the same attempt
 * continues on another claim
 * ------------------------------------------------------------------------ */
typedef struct e2e
{
	pthread_mutex_t mu;
	char		execution_id[128];
	char		waitpoint_id[64];
	char		token[160];
	int			calls;
	int			attempts[4];
	int64_t		epochs[4];
	int			observed[4];	/* signals seen by each call */
	ff_status	suspend_status;
} e2e;

static ff_job_outcome
e2e_handler(ff_job *job, void *user_data)
{
	e2e		   *x = user_data;
	ff_signal_list sl = {0};
	size_t		len = 0;
	const unsigned char *in = ff_job_input(job, &len);
	int			call;

	if (len == 4 && memcmp(in, "liar", 4) == 0)
		return FF_JOB_SUSPENDED;	/* without suspending: the runtime fails it */

	ff_client_observe_signals(ff_job_client(job), ff_job_handle(job), false, &sl);
	pthread_mutex_lock(&x->mu);
	call = x->calls++;
	if (call < 4)
	{
		x->attempts[call] = ff_job_attempt_index(job);
		x->epochs[call] = ff_job_lease_epoch(job);
		x->observed[call] = (int) sl.count;
	}
	pthread_mutex_unlock(&x->mu);

	if (sl.count == 0)
	{
		/* first run: wait for an approval, hand the token out */
		ff_suspend_args a = {0};
		ff_suspend_result r = {0};
		ff_status	s;

		a.waitpoints_json = "[\"wpk:approval\"]";
		a.resume_condition_json =
			"{\"Single\": {\"waitpoint_key\": \"wpk:approval\", \"matcher\": {\"ByName\": \"approved\"}}}";
		a.reason_code = "waiting_for_approval";
		a.idempotency_key = "e2e";
		s = ff_job_suspend(job, &a, &r);
		pthread_mutex_lock(&x->mu);
		x->suspend_status = s;
		if (s == FF_OK && r.n_waitpoints == 1)
		{
			snprintf(x->execution_id, sizeof(x->execution_id), "%s", ff_job_execution_id(job));
			snprintf(x->waitpoint_id, sizeof(x->waitpoint_id), "%s", r.waitpoints[0].waitpoint_id);
			snprintf(x->token, sizeof(x->token), "%s", r.waitpoints[0].waitpoint_token);
		}
		pthread_mutex_unlock(&x->mu);
		ff_suspend_result_clear(&r);
		return s == FF_OK ? FF_JOB_SUSPENDED : FF_JOB_FAIL;
	}
	/* resumed: complete with what the approver sent */
	{
		char		buf[256];

		snprintf(buf, sizeof(buf), "resumed by %s: %.*s", sl.items[0].signal_name,
				 (int) sl.items[0].payload.len, sl.items[0].payload.data ? (char *) sl.items[0].payload.data : "");
		ff_job_set_result(job, buf, strlen(buf));
	}
	ff_signal_list_clear(&sl);
	return FF_JOB_COMPLETE;
}

typedef struct worker_run
{
	const char *lane;
	e2e		   *x;
	volatile sig_atomic_t stop;
	ff_worker_stats stats;
	ff_status	status;
} worker_run;

static void *
worker_thread(void *arg)
{
	worker_run *w = arg;
	ff_worker_options o = {0};

	o.worker_id = "e2e";
	o.idle_backoff_max_ms = 50;
	o.stop_flag = &w->stop;
	o.stats = &w->stats;
	w->status = ff_worker_run(test_conninfo(), w->lane, NULL, 0, 2, e2e_handler, w->x, &o, NULL);
	return NULL;
}

static void
test_worker_e2e(void)
{
	const char *lane = unique_lane("e2e");
	const char *ffctl = getenv("FFCTL") ? getenv("FFCTL") : "client/bin/ffctl";
	e2e			x;
	worker_run	w;
	pthread_t	th;
	char	   *id = make_execution(c, lane, "order-1", NULL);
	char	   *liar = make_execution(c, lane, "liar", NULL);
	char		tokfile[64];
	char		payfile[64];
	char		outfile[64];
	char		cmd[2048];
	long long	end;
	bool		have_token = false;
	FILE	   *f;
	int			st;

	memset(&x, 0, sizeof(x));
	memset(&w, 0, sizeof(w));
	pthread_mutex_init(&x.mu, NULL);
	w.lane = lane;
	w.x = &x;
	if (pthread_create(&th, NULL, worker_thread, &w) != 0)
	{
		ok(0, "start the worker thread");
		return;
	}
	end = mono_ms() + 20000;
	while (!have_token && mono_ms() < end)
	{
		pthread_mutex_lock(&x.mu);
		have_token = x.token[0] != '\0';
		pthread_mutex_unlock(&x.mu);
		if (!have_token)
			sleep_ms(20);
	}
	ok(have_token && x.suspend_status == FF_OK, "the handler suspended with ff_job_suspend");
	ok(strcmp(x.execution_id, id ? id : "") == 0, "... its execution");
	is_state(id, "suspended", "the worker's execution");

	/* an outside process resumes it: ffctl signal with the token */
	snprintf(tokfile, sizeof(tokfile), "/tmp/ff-e2e-token.%ld", (long) getpid());
	snprintf(payfile, sizeof(payfile), "/tmp/ff-e2e-payload.%ld", (long) getpid());
	snprintf(outfile, sizeof(outfile), "/tmp/ff-e2e-out.%ld", (long) getpid());
	if ((f = fopen(tokfile, "w")) != NULL)
	{
		fprintf(f, "%s\n", x.token);
		fclose(f);
	}
	if ((f = fopen(payfile, "w")) != NULL)
	{
		fputs("{\"approved_by\": \"ada\"}", f);
		fclose(f);
	}
	snprintf(cmd, sizeof(cmd),
			 "'%s' --json signal --execution '%s' --waitpoint '%s' --token-file '%s' --name approved "
			 "--payload-file '%s' --idempotency-key approval-1 >'%s' 2>&1",
			 ffctl, x.execution_id, x.waitpoint_id, tokfile, payfile, outfile);
	st = system(cmd);
	is_int(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0, "ffctl signal --token-file ... exits 0");
	{
		char		out[1024] = "";
		size_t		n = 0;

		if ((f = fopen(outfile, "r")) != NULL)
		{
			n = fread(out, 1, sizeof(out) - 1, f);
			fclose(f);
		}
		out[n] = '\0';
		ok(strstr(out, "\"effect\":\"resume_condition_satisfied\"") != NULL &&
		   strstr(out, "\"result\":\"accepted\"") != NULL, "... and reports resume_condition_satisfied");
		if (strstr(out, "resume_condition_satisfied") == NULL)
			printf("# ffctl said: %s\n", out);
	}

	/* the worker claims it again and completes the same attempt */
	end = mono_ms() + 20000;
	for (;;)
	{
		char	   *s = state_of(id);
		bool		done = s && strcmp(s, "completed") == 0;

		ff_free(s);
		if (done || mono_ms() > end)
			break;
		sleep_ms(20);
	}
	is_state(id, "completed", "the resumed execution");
	{
		ff_bytes	res = {0};
		const char *want = "resumed by approved: {\"approved_by\": \"ada\"}";

		ff_client_get_execution_result(c, id, &res);
		ok(res.data && res.len == strlen(want) && memcmp(res.data, want, res.len) == 0,
		   "the result carries the approver's payload");
		ff_bytes_clear(&res);
	}
	ok(x.calls == 2 && x.attempts[0] == 0 && x.attempts[1] == 0 && x.observed[0] == 0 &&
	   x.observed[1] == 1, "the handler ran twice on attempt 0: before (no signals) and after (1 signal)");
	ok(x.epochs[1] == x.epochs[0] + 1, "... the second run under the next lease epoch (%lld -> %lld)",
	   (long long) x.epochs[0], (long long) x.epochs[1]);
	is_int(admin_int("SELECT total_attempt_count FROM ff_execution WHERE "
					 "ff_format_execution_id(partition_key, execution_id) = '%s'", id), 1,
		   "one attempt in all");
	{
		char	   *v = admin_str("SELECT string_agg(event_type || ':' || coalesce(reason, '-'), ' ' "
								  "ORDER BY event_id) FROM ff_lease_event "
								  "WHERE ff_format_execution_id(partition_key, execution_id) = '%s'", id);

		is_str(v, "acquired:- released:suspended acquired:- released:completed",
			   "lease events: acquired, released (suspended), acquired again, released");
		free(v);
	}

	/* the liar: FF_JOB_SUSPENDED without a suspension fails the job */
	end = mono_ms() + 10000;
	for (;;)
	{
		char	   *s = state_of(liar);
		bool		done = s && strcmp(s, "failed") == 0;

		ff_free(s);
		if (done || mono_ms() > end)
			break;
		sleep_ms(20);
	}
	{
		char	   *msg = admin_str("SELECT last_failure_message FROM ff_execution WHERE "
									"ff_format_execution_id(partition_key, execution_id) = '%s'", liar);

		ok(msg && strstr(msg, "without suspending"), "FF_JOB_SUSPENDED without ff_job_suspend fails the job");
		free(msg);
	}

	w.stop = 1;
	pthread_join(th, NULL);
	is_status(w.status, FF_OK, NULL, "the worker stops cleanly");
	ok(w.stats.suspended == 1 && w.stats.completed == 1 && w.stats.failed == 1 && w.stats.claimed == 3 &&
	   w.stats.lease_lost == 0, "stats: 3 claimed, 1 suspended, 1 completed, 1 failed, no lease lost "
	   "(%lu/%lu/%lu/%lu/%lu)", w.stats.claimed, w.stats.suspended, w.stats.completed, w.stats.failed,
	   w.stats.lease_lost);
	is_status(ff_job_suspend(NULL, NULL, NULL), FF_ERR_USAGE, NULL, "ff_job_suspend(NULL) -> usage");
	unlink(tokfile);
	unlink(payfile);
	unlink(outfile);
	pthread_mutex_destroy(&x.mu);
	free(id);
	free(liar);
}

int
main(void)
{
	ff_client  *tc;

	c = test_client();
	tc = test_client();
	/* a session two hours ahead: timeouts come due there only */
	PQclear(PQexec(ff_client_pgconn(tc), "SET flowfabric.clock_offset_ms = 7200000"));

	test_keystore();
	test_suspend_and_signals();
	test_claim_resumed_held_back();
	test_triple_and_signal_options();
	test_pending_waitpoints(tc);
	test_timeouts(tc);
	test_rotation();
	test_signal_subscription();
	test_worker_e2e();

	ff_client_close(tc);
	ff_client_close(c);
	PQfinish(admin());
	return done_testing();
}

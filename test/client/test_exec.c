/*
 * test_exec.c - every lifecycle, read, tag, listing, reconciler and reader
 * function of libflowfabric: its success path and each error kind it can
 * return, checked for the typed kind, the SQLSTATE and the retryable flag.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"

/* kind, SQLSTATE, retryable flag and the message's kind prefix */
#define check_error(got, want, retryable, what) expect_error(c, got, want, NULL, retryable, what)

static ff_client *c;

/* a handle built by the engine's ff_handle_encode (testing aid) */
static void
encoded_handle(ff_handle *h, const char *execution_id, int attempt_index, const char *backend)
{
	char	   *hex = admin_str("SELECT encode(ff_handle_encode('%s', %d, "
								"'00000000-0000-4000-8000-000000000001', "
								"'00000000-0000-4000-8000-000000000002', 1, 30000, 'x', 'w/1', '%s'), 'hex')",
								execution_id, attempt_index, backend);

	memset(h, 0, sizeof(*h));
	if (hex)
		ff_handle_from_hex(hex, h);
	free(hex);
}

/* ------------------------------------------------------------------------ */
static void
test_ids_and_kinds(void)
{
	static const ff_status all[] = {
		FF_ERR_NOT_FOUND, FF_ERR_EXECUTION_NOT_FOUND, FF_ERR_FLOW_NOT_FOUND,
		FF_ERR_ATTEMPT_NOT_FOUND, FF_ERR_BUDGET_NOT_FOUND, FF_ERR_QUOTA_POLICY_NOT_FOUND,
		FF_ERR_STREAM_NOT_FOUND, FF_ERR_WAITPOINT_NOT_FOUND, FF_ERR_SUSPENSION_NOT_FOUND,
		FF_ERR_INVALID_INPUT, FF_ERR_CAPABILITY_MISMATCH, FF_ERR_INVALID_CAPABILITIES,
		FF_ERR_INVALID_POLICY_JSON, FF_ERR_PAYLOAD_TOO_LARGE, FF_ERR_SIGNAL_LIMIT_EXCEEDED,
		FF_ERR_INVALID_WAITPOINT_KEY, FF_ERR_INVALID_TOKEN, FF_ERR_WAITPOINT_NOT_TOKEN_BOUND,
		FF_ERR_RETENTION_LIMIT_EXCEEDED, FF_ERR_INVALID_LEASE_FOR_SUSPEND,
		FF_ERR_INVALID_DEPENDENCY, FF_ERR_INVALID_WAITPOINT_FOR_EXECUTION,
		FF_ERR_INVALID_BLOCKING_REASON, FF_ERR_INVALID_OFFSET, FF_ERR_UNAUTHORIZED,
		FF_ERR_INVALID_BUDGET_SCOPE, FF_ERR_BUDGET_OVERRIDE_NOT_ALLOWED,
		FF_ERR_INVALID_QUOTA_SPEC, FF_ERR_INVALID_KID, FF_ERR_INVALID_SECRET_HEX,
		FF_ERR_INVALID_GRACE_MS, FF_ERR_INVALID_TAG_KEY, FF_ERR_INVALID_FRAME_TYPE,
		FF_ERR_CORRUPTION, FF_ERR_HANDLE_FROM_OTHER_BACKEND,
		FF_ERR_USE_CLAIM_RESUMED_EXECUTION, FF_ERR_NOT_A_RESUMED_EXECUTION,
		FF_ERR_EXECUTION_NOT_LEASEABLE, FF_ERR_LEASE_CONFLICT, FF_ERR_INVALID_CLAIM_GRANT,
		FF_ERR_CLAIM_GRANT_EXPIRED, FF_ERR_NO_ELIGIBLE_EXECUTION, FF_ERR_WAITPOINT_NOT_FOUND_YET,
		FF_ERR_WAITPOINT_PENDING_USE_BUFFER_SCRIPT, FF_ERR_STALE_GRAPH_REVISION,
		FF_ERR_EXECUTION_NOT_ACTIVE, FF_ERR_EXECUTION_NOT_ELIGIBLE,
		FF_ERR_EXECUTION_NOT_IN_ELIGIBLE_SET, FF_ERR_EXECUTION_NOT_RECLAIMABLE,
		FF_ERR_NO_ACTIVE_LEASE, FF_ERR_RATE_LIMIT_EXCEEDED, FF_ERR_CONCURRENCY_LIMIT_EXCEEDED,
		FF_ERR_RETRY_EXHAUSTED, FF_ERR_DEPENDENCY_ALREADY_EXISTS, FF_ERR_CYCLE_DETECTED,
		FF_ERR_SELF_REFERENCING_EDGE, FF_ERR_EXECUTION_ALREADY_IN_FLOW,
		FF_ERR_WAITPOINT_ALREADY_EXISTS, FF_ERR_BUDGET_ATTACH_CONFLICT,
		FF_ERR_QUOTA_ATTACH_CONFLICT, FF_ERR_ROTATION_CONFLICT, FF_ERR_ACTIVE_ATTEMPT_EXISTS,
		FF_ERR_STALE_LEASE, FF_ERR_LEASE_EXPIRED, FF_ERR_LEASE_REVOKED,
		FF_ERR_EXECUTION_NOT_SUSPENDED, FF_ERR_ALREADY_SUSPENDED, FF_ERR_WAITPOINT_CLOSED,
		FF_ERR_TARGET_NOT_SIGNALABLE, FF_ERR_DUPLICATE_SIGNAL, FF_ERR_RESUME_CONDITION_NOT_MET,
		FF_ERR_WAITPOINT_NOT_PENDING, FF_ERR_PENDING_WAITPOINT_EXPIRED,
		FF_ERR_WAITPOINT_NOT_OPEN, FF_ERR_EXECUTION_NOT_TERMINAL, FF_ERR_MAX_REPLAYS_EXHAUSTED,
		FF_ERR_STREAM_CLOSED, FF_ERR_STALE_OWNER_CANNOT_APPEND, FF_ERR_GRANT_ALREADY_EXISTS,
		FF_ERR_EXECUTION_NOT_IN_FLOW, FF_ERR_FLOW_ALREADY_TERMINAL, FF_ERR_DEPS_NOT_SATISFIED,
		FF_ERR_NOT_BLOCKED_BY_DEPS, FF_ERR_NOT_RUNNABLE, FF_ERR_TERMINAL, FF_ERR_BUDGET_EXCEEDED,
		FF_ERR_BUDGET_SOFT_EXCEEDED, FF_ERR_OK_ALREADY_APPLIED, FF_ERR_ATTEMPT_NOT_STARTED,
		FF_ERR_ATTEMPT_ALREADY_TERMINAL, FF_ERR_EXECUTION_NOT_ELIGIBLE_FOR_ATTEMPT,
		FF_ERR_REPLAY_NOT_ALLOWED, FF_ERR_MAX_RETRIES_EXHAUSTED, FF_ERR_STREAM_ALREADY_CLOSED,
		FF_ERR_ALREADY_SATISFIED, FF_ERR_ATTEMPT_NOT_IN_CREATED_STATE, FF_ERR_UNAVAILABLE,
		FF_ERR_SCHEMA_VERSION, FF_ERR_RESOURCE_EXHAUSTED, FF_ERR_TIMEOUT
	};
	size_t		n = sizeof(all) / sizeof(all[0]);
	int			roundtrip = 0,
				numbering = 0,
				retry_rule = 0;

	/* the YF table: 9 N + 26 V + 18 C + 9 K + 33 S + 1 B + 2 U + 1 R + 1 T */
	is_int(n, 100, "the whole YF table is mapped (100 kinds)");
	for (size_t i = 0; i < n; i++)
	{
		const char *code = ff_status_sqlstate(all[i]);
		int			num;

		if (code && ff_status_from_sqlstate(code) == all[i] &&
			strcmp(ff_status_name(all[i]), "unknown") != 0)
			roundtrip++;
		/* value = category base + the code's two digits */
		num = code ? (code[3] - '0') * 10 + (code[4] - '0') : -1;
		if (code && (int) all[i] % 100 == num &&
			(int) all[i] / 100 == (int) (strchr("NVCKSBURT", code[2]) - "NVCKSBURT") + 2)
			numbering++;
		if (ff_status_is_retryable(all[i]) == (code[2] == 'C' || code[2] == 'R') &&
			ff_sqlstate_is_retryable(code) == (code[2] == 'C' || code[2] == 'R'))
			retry_rule++;
	}
	is_int(roundtrip, n, "every kind maps SQLSTATE -> kind -> SQLSTATE and has a name");
	is_int(numbering, n, "kind values follow the category/number scheme");
	is_int(retry_rule, n, "exactly the YFC and YFR kinds are retryable");
	is_str(ff_status_name(FF_ERR_STALE_LEASE), "stale_lease", "kind name stale_lease");
	is_int(FF_ERR_STALE_LEASE, 601, "FF_ERR_STALE_LEASE is 601 (stable value)");
	is_int(ff_status_category(FF_ERR_EXECUTION_NOT_ACTIVE), 'C', "YFC11 category C");
	is_int(ff_status_from_sqlstate("YFZ99"), FF_ERR_ENGINE_UNKNOWN, "unknown YF code");
	is_int(ff_status_from_sqlstate("40001"), FF_ERR_SERIALIZATION_FAILURE, "40001");
	is_int(ff_status_from_sqlstate("40P01"), FF_ERR_DEADLOCK, "40P01");
	is_int(ff_status_from_sqlstate("08006"), FF_ERR_CONNECTION, "08006 is a connection error");
	is_int(ff_status_from_sqlstate("57P01"), FF_ERR_CONNECTION, "57P01 (terminated) is a connection error");
	is_int(ff_status_from_sqlstate("53300"), FF_ERR_CONNECTION, "53300 (too many connections)");
	is_int(ff_status_from_sqlstate("57014"), FF_ERR_TIMEOUT, "57014 is a timeout");
	is_int(ff_status_from_sqlstate("22P02"), FF_ERR_INVALID_INPUT, "22P02 is invalid input");
	is_int(ff_status_from_sqlstate("42883"), FF_ERR_SCHEMA_VERSION, "42883 is schema_version");
	is_int(ff_status_from_sqlstate("42501"), FF_ERR_PERMISSION_DENIED, "42501");
	is_int(ff_status_from_sqlstate("XX000"), FF_ERR_POSTGRES, "XX000 is a PostgreSQL error");
	ok(ff_sqlstate_is_retryable("40001") && ff_sqlstate_is_retryable("40P01") &&
	   ff_sqlstate_is_retryable("08003") && ff_sqlstate_is_retryable("YFR01") &&
	   !ff_sqlstate_is_retryable("YFS01") && !ff_sqlstate_is_retryable("57014") &&
	   !ff_sqlstate_is_retryable("22P02") && !ff_sqlstate_is_retryable(NULL),
	   "retry rule: YFC, YFR, 40001, 40P01, class 08");
	ok(ff_status_is_retryable(FF_ERR_CONNECTION) && !ff_status_is_retryable(FF_ERR_USAGE) &&
	   !ff_status_is_retryable(FF_ERR_STALE_LEASE), "retryable kinds");
	ok(ff_status_is_lease_lost(FF_ERR_STALE_LEASE) && ff_status_is_lease_lost(FF_ERR_LEASE_EXPIRED) &&
	   ff_status_is_lease_lost(FF_ERR_EXECUTION_NOT_ACTIVE) && !ff_status_is_lease_lost(FF_ERR_CORRUPTION),
	   "lease-lost kinds");

	is_int(ff_crc16("123456789", 9), 0x31C3, "crc16/xmodem check value");
	{
		const char *lanes[] = {"email", "demo", "a", "lane with space", "x-y_z.1"};
		int			same = 0;

		for (int i = 0; i < 5; i++)
			if (admin_int("SELECT ff_solo_partition('%s')", lanes[i]) == ff_solo_partition(lanes[i]))
				same++;
		is_int(same, 5, "ff_solo_partition agrees with the engine");
	}
	is_int(ff_execution_partition("{fp:42}:4c8a7a6c-2f0e-4f57-9a43-0c1d2e3f4a5b"), 42, "partition of an id");
	is_int(ff_execution_partition("{fp:256}:x"), -1, "partition out of range");
	is_int(ff_execution_partition("nope"), -1, "not an id");
	{
		ff_handle	h = {0};
		char	   *hex = NULL;

		is_int(ff_handle_from_hex("\\x0aFF10", &h), FF_OK, "handle from \\x hex");
		ok(h.len == 3 && h.data[0] == 0x0a && h.data[1] == 0xff && h.data[2] == 0x10, "hex decoded");
		is_int(ff_handle_to_hex(&h, &hex), FF_OK, "handle to hex");
		is_str(hex, "0aff10", "hex round trip");
		ff_free(hex);
		ff_handle_clear(&h);
		is_int(ff_handle_from_hex("abc", &h), FF_ERR_INVALID_INPUT, "odd-length hex rejected");
		is_int(ff_handle_from_hex("zz", &h), FF_ERR_INVALID_INPUT, "non-hex rejected");
	}
}

/* ------------------------------------------------------------------------ */
static void
test_connection_basics(void)
{
	ff_client  *bad = (ff_client *) 1;
	ff_error	e = {0};
	int64_t		t = 0;
	long long	server_t;
	char	   *caps = NULL;

	is_status(ff_client_connect("host=/nonexistent-dir port=1", &bad, &e), FF_ERR_CONNECTION, NULL,
			  "connect to a missing server -> connection");
	ok(bad == NULL, "no client on failure");
	ok(e.kind == FF_ERR_CONNECTION && e.retryable && e.message && e.message[0],
	   "connect error filled in and retryable");
	ff_error_clear(&e);
	is_status(ff_client_connect("", NULL, NULL), FF_ERR_USAGE, NULL, "connect without out pointer");

	is_status(ff_client_ping(c), FF_OK, c, "ping");
	ok(ff_client_last_error(c)->kind == FF_OK && ff_client_last_error(c)->message == NULL,
	   "last error is clear after a success");
	is_status(ff_client_server_time_ms(c, &t), FF_OK, c, "server_time_ms");
	server_t = admin_int("SELECT ff_server_time_ms()");
	ok(t > 1600000000000LL && llabs(server_t - t) < 60000, "server time is the engine clock");
	is_status(ff_client_server_time_ms(c, NULL), FF_ERR_USAGE, c, "server_time_ms(NULL) -> usage");
	is_status(ff_client_capabilities(c, &caps), FF_OK, c, "capabilities");
	ok(caps && strstr(caps, "\"supports\"") && strstr(caps, "\"identity\""), "capabilities document");
	ff_free(caps);
	ok(ff_client_backend_pid(c) > 0 && ff_client_socket(c) >= 0 && ff_client_pgconn(c) != NULL,
	   "backend pid, socket and PGconn are exposed");
	ok(ff_client_ping(NULL) == FF_ERR_USAGE, "NULL client -> usage, no crash");
}

/* ------------------------------------------------------------------------ */
static void
test_create(void)
{
	const char *lane = unique_lane("create");
	const char *caps[] = {"linux", "gpu"};
	ff_create_args a = {0};
	ff_create_result r = {0};
	ff_create_result r2 = {0};
	char	   *id;
	long long	now = admin_int("SELECT ff_server_time_ms()");
	char		policy[256];
	char		given_id[64];
	char		canonical[64];
	char		idem_key[64];
	unsigned long long unique = ((unsigned long long) getpid() << 20) ^ (unsigned long long) now;

	a.lane_id = lane;
	a.input_payload = "hello";
	a.input_payload_len = 5;
	is_status(ff_client_create_execution(c, &a, &r), FF_OK, c, "create (minimal)");
	ok(r.created && r.execution_id, "created = true with an id");
	is_str(r.public_state, "waiting", "a new execution is waiting");
	is_int(ff_execution_partition(r.execution_id), ff_solo_partition(lane),
		   "minted in the lane's solo partition");
	ff_create_result_clear(&r);
	ok(r.execution_id == NULL, "clear zeroes the result");
	ff_create_result_clear(&r);

	/* every argument */
	memset(&a, 0, sizeof(a));
	a.lane_id = lane;
	a.input_payload = "";
	a.input_payload_len = 0;
	snprintf(given_id, sizeof(given_id), "{fp:007}:4C8A7A6C2F0E4F579A43%012llX", unique);
	snprintf(canonical, sizeof(canonical), "{fp:7}:4c8a7a6c-2f0e-4f57-9a43-%012llx", unique);
	a.execution_id = given_id;
	a.ns = "tenant-1";
	a.execution_kind = "email.send";
	a.priority = 12000;
	a.required_capabilities = caps;
	a.n_required_capabilities = 2;
	snprintf(policy, sizeof(policy), "{\"retry_policy\": {\"max_retries\": 1}}");
	a.policy_json = policy;
	a.delay_until_ms = now + 3600000;
	a.execution_deadline_at_ms = now + 7200000;
	snprintf(idem_key, sizeof(idem_key), "key-%llu", unique);
	a.idempotency_key = idem_key;
	a.tags_json = "{\"app.owner\": \"ada\"}";
	a.creator_identity = "test";
	is_status(ff_client_create_execution(c, &a, &r), FF_OK, c, "create with every argument");
	is_str(r.execution_id, canonical, "explicit id canonicalised");
	is_str(r.public_state, "delayed", "delay_until in the future -> delayed");
	id = admin_str("SELECT priority || ',' || namespace || ',' || execution_kind || ',' || "
				   "array_to_string(required_capabilities, '|') || ',' || (deadline_at_ms = %lld) "
				   "FROM ff_execution WHERE ff_format_execution_id(partition_key, execution_id) = '%s'",
				   now + 7200000, canonical);
	is_str(id, "9000,tenant-1,email.send,gpu|linux,true",
		   "stored: priority clamped, namespace, kind, sorted capabilities, deadline");
	free(id);

	/* idempotency key: same (partition, namespace, key) -> the first execution */
	a.execution_id = "{fp:7}:00000000-0000-4000-8000-00000000aaaa";	/* ignored: key wins */
	is_status(ff_client_create_execution(c, &a, &r2), FF_OK, c, "duplicate idempotency key");
	ok(!r2.created, "duplicate: created = false");
	is_str(r2.execution_id, r.execution_id, "duplicate returns the first id");
	ff_create_result_clear(&r2);
	/* existing id */
	a.execution_id = r.execution_id;
	a.idempotency_key = NULL;
	is_status(ff_client_create_execution(c, &a, &r2), FF_OK, c, "create an existing id");
	ok(!r2.created && strcmp(r2.execution_id, r.execution_id) == 0, "existing id: created = false");
	ff_create_result_clear(&r2);
	ff_create_result_clear(&r);

	/* errors */
	memset(&a, 0, sizeof(a));
	check_error(ff_client_create_execution(c, &a, &r), FF_ERR_INVALID_INPUT, false, "create without lane");
	ok(r.execution_id == NULL, "no result on error");
	a.lane_id = "bad\tlane";
	check_error(ff_client_create_execution(c, &a, &r), FF_ERR_INVALID_INPUT, false, "create, control byte in lane");
	a.lane_id = lane;
	a.execution_id = "not-an-id";
	check_error(ff_client_create_execution(c, &a, &r), FF_ERR_INVALID_INPUT, false, "create, malformed id");
	a.execution_id = NULL;
	{
		const char *badcaps[] = {"has space"};

		a.required_capabilities = badcaps;
		a.n_required_capabilities = 1;
		check_error(ff_client_create_execution(c, &a, &r), FF_ERR_INVALID_CAPABILITIES, false,
					"create, capability with a space");
		a.n_required_capabilities = 0;
		a.required_capabilities = NULL;
	}
	{
		const char *quoted[] = {"quote\"and\\backslash", "{braces}"};

		a.required_capabilities = quoted;
		a.n_required_capabilities = 2;
		is_status(ff_client_create_execution(c, &a, &r), FF_OK, c,
				  "capabilities with quotes, backslashes and braces travel intact");
		ff_create_result_clear(&r);
		is_int(admin_int("SELECT count(*) FROM ff_execution WHERE lane_id = '%s' AND "
						 "required_capabilities = ARRAY['quote\"and\\backslash', '{braces}']", lane),
			   1, "... and are stored exactly");
		a.n_required_capabilities = 0;
		a.required_capabilities = NULL;
	}
	a.policy_json = "[1, 2]";
	check_error(ff_client_create_execution(c, &a, &r), FF_ERR_INVALID_POLICY_JSON, false, "create, policy not an object");
	a.policy_json = "{not json";
	is_status(ff_client_create_execution(c, &a, &r), FF_ERR_INVALID_INPUT, c, "create, policy not JSON -> invalid_input");
	is_str(ff_client_last_error(c)->sqlstate, "22P02", "... with the PostgreSQL SQLSTATE 22P02");
	a.policy_json = NULL;
	a.tags_json = "{\"NoNamespace\": \"x\"}";
	check_error(ff_client_create_execution(c, &a, &r), FF_ERR_INVALID_TAG_KEY, false, "create, bad tag key");
	a.tags_json = "{\"app.n\": 5}";
	check_error(ff_client_create_execution(c, &a, &r), FF_ERR_INVALID_INPUT, false, "create, tag value not a string");
	a.tags_json = NULL;
	{
		ff_client  *small = NULL;
		ff_error	e = {0};

		if (ff_client_connect(test_conninfo_with("options='-c flowfabric.max_payload_bytes=4'"),
							  &small, &e) == FF_OK)
		{
			ff_client  *saved = c;

			a.input_payload = "too large";
			a.input_payload_len = 9;
			c = small;
			check_error(ff_client_create_execution(c, &a, &r), FF_ERR_PAYLOAD_TOO_LARGE, false,
						"create, payload over max_payload_bytes");
			c = saved;
			ff_client_close(small);
		}
		else
			ok(0, "connect with max_payload_bytes: %s", e.message);
		ff_error_clear(&e);
	}
	is_status(ff_client_create_execution(c, NULL, &r), FF_ERR_USAGE, c, "create(NULL args) -> usage");
	is_status(ff_client_create_execution(c, &a, NULL), FF_ERR_USAGE, c, "create(NULL out) -> usage");
}

/* ------------------------------------------------------------------------ */
static void
test_claim(void)
{
	const char *lane = unique_lane("claim");
	ff_claim_args a = {0};
	ff_claim_list l = {0};
	const char *gpu[] = {"gpu"};
	char	   *ids[3];

	for (int i = 0; i < 3; i++)
	{
		ff_create_args ca = {0};
		ff_create_result r = {0};
		char		payload[16];

		snprintf(payload, sizeof(payload), "job-%d", i);
		ca.lane_id = lane;
		ca.input_payload = payload;
		ca.input_payload_len = strlen(payload);
		ca.priority = i * 10;
		ff_client_create_execution(c, &ca, &r);
		ids[i] = r.execution_id;
		r.execution_id = NULL;
		ff_create_result_clear(&r);
	}
	{
		ff_create_args ca = {0};
		ff_create_result r = {0};

		ca.lane_id = lane;
		ca.required_capabilities = gpu;
		ca.n_required_capabilities = 1;
		ca.priority = 100;
		ff_client_create_execution(c, &ca, &r);
		ff_create_result_clear(&r);
	}

	a.lane_id = lane;
	a.worker_id = "w";
	a.worker_instance_id = "w/1";
	a.max_claims = 10;
	is_status(ff_client_claim(c, &a, &l), FF_OK, c, "claim a batch");
	is_int(l.count, 3, "the batch holds the three executions the worker can run");
	if (l.count == 3)
	{
		is_str(l.items[0].execution_id, ids[2], "highest priority first");
		ok(l.items[0].input_payload.len == 5 && memcmp(l.items[0].input_payload.data, "job-2", 5) == 0,
		   "input payload delivered");
		ok(l.items[0].attempt_index == 0 && l.items[0].lease_epoch == 1 &&
		   l.items[0].handle.len > 40 && l.items[0].handle.data[0] == 0x02,
		   "attempt 0, epoch 1, a v2 handle");
		ok(l.items[0].lease_expires_at_ms > admin_int("SELECT ff_server_time_ms()") + 20000,
		   "default lease of 30 s");
	}
	ff_claim_list_clear(&l);
	ok(l.items == NULL && l.count == 0, "list clear zeroes");

	is_status(ff_client_claim(c, &a, &l), FF_OK, c, "claim again without the capability");
	is_int(l.count, 0, "nothing claimable -> empty list, not an error");
	ff_claim_list_clear(&l);
	a.capabilities = gpu;
	a.n_capabilities = 1;
	a.lease_ttl_ms = 5000;
	is_status(ff_client_claim(c, &a, &l), FF_OK, c, "claim with the capability");
	is_int(l.count, 1, "the gpu execution is claimed");
	if (l.count == 1)
	{
		ok(l.items[0].input_payload.data == NULL, "no input -> data NULL");
		ok(l.items[0].lease_expires_at_ms < admin_int("SELECT ff_server_time_ms()") + 6000,
		   "lease_ttl_ms honoured");
	}
	ff_claim_list_clear(&l);

	a.max_claims = 1001;
	check_error(ff_client_claim(c, &a, &l), FF_ERR_INVALID_INPUT, false, "claim, max_claims 1001");
	a.max_claims = 1;
	a.lease_ttl_ms = -1;
	check_error(ff_client_claim(c, &a, &l), FF_ERR_INVALID_INPUT, false, "claim, negative lease ttl");
	a.lease_ttl_ms = 0;
	{
		const char *bad[] = {"a,b"};

		a.capabilities = bad;
		check_error(ff_client_claim(c, &a, &l), FF_ERR_INVALID_CAPABILITIES, false, "claim, capability with a comma");
		a.capabilities = NULL;
		a.n_capabilities = 0;
	}
	a.worker_id = NULL;
	check_error(ff_client_claim(c, &a, &l), FF_ERR_INVALID_INPUT, false, "claim without worker_id");
	ok(l.count == 0 && l.items == NULL, "no list on error");
	is_status(ff_client_claim(c, NULL, &l), FF_ERR_USAGE, c, "claim(NULL args) -> usage");
	for (int i = 0; i < 3; i++)
		free(ids[i]);
}

/* ------------------------------------------------------------------------ */
static void
test_fencing(void)
{
	const char *lane = unique_lane("fence");
	ff_claimed	cl = {0};
	ff_claimed	cl2 = {0};
	ff_renew_result rr = {0};
	ff_handle	h = {0};
	char	   *id = make_execution(c, lane, "x", NULL);
	int32_t		n;

	ok(claim_one(c, lane, 0, &cl), "claim for renew");
	is_status(ff_client_renew(c, &cl.handle, &rr), FF_OK, c, "renew");
	ok(rr.lease_epoch == cl.lease_epoch && rr.lease_expires_at_ms >= cl.lease_expires_at_ms,
	   "renew keeps the epoch and extends the lease");
	is_status(ff_client_renew(c, &cl.handle, NULL), FF_OK, c, "renew with out NULL");

	/* malformed, other backend, unknown execution, unknown attempt, NULL */
	h.data = (unsigned char *) "xyz";
	h.len = 3;
	check_error(ff_client_renew(c, &h, &rr), FF_ERR_CORRUPTION, false, "renew, garbage handle");
	check_error(ff_client_renew(c, NULL, &rr), FF_ERR_INVALID_INPUT, false, "renew, NULL handle");
	encoded_handle(&h, id, 0, "valkey");
	check_error(ff_client_renew(c, &h, &rr), FF_ERR_HANDLE_FROM_OTHER_BACKEND, false, "renew, valkey handle");
	ff_handle_clear(&h);
	encoded_handle(&h, "{fp:1}:00000000-0000-4000-8000-0000000000ff", 0, "postgres");
	check_error(ff_client_renew(c, &h, &rr), FF_ERR_EXECUTION_NOT_FOUND, false, "renew, unknown execution");
	ff_handle_clear(&h);
	encoded_handle(&h, id, 5, "postgres");
	check_error(ff_client_renew(c, &h, &rr), FF_ERR_ATTEMPT_NOT_FOUND, false, "renew, unknown attempt");
	ff_handle_clear(&h);

	/* stale: the lease expires, is reclaimed, the old handle is stale */
	ff_claimed_clear(&cl);
	free(id);
	id = make_execution(c, lane, "y", NULL);
	ok(claim_one(c, lane, 1, &cl), "claim with a 1 ms lease");
	sleep_ms(20);
	check_error(ff_client_renew(c, &cl.handle, &rr), FF_ERR_LEASE_EXPIRED, false, "renew after the lease ran out");
	check_error(ff_client_complete(c, &cl.handle, NULL, 0), FF_ERR_LEASE_EXPIRED, false, "complete after the lease ran out");
	is_status(ff_client_reconcile_lease_expiry(c, 0, &n), FF_OK, c, "reconcile lease expiry");
	ok(n >= 1, "the lease is marked expired");
	ok(claim_one(c, lane, 0, &cl2), "another worker reclaims it");
	is_int(cl2.attempt_index, 1, "the reclaim is attempt 1");
	check_error(ff_client_renew(c, &cl.handle, &rr), FF_ERR_STALE_LEASE, false, "renew with the old handle");
	check_error(ff_client_complete(c, &cl.handle, "late", 4), FF_ERR_STALE_LEASE, false, "complete with the old handle");
	check_error(ff_client_fail(c, &cl.handle, "late", NULL, NULL, 0, NULL), FF_ERR_STALE_LEASE, false,
				"fail with the old handle");
	check_error(ff_client_progress(c, &cl.handle, 5, NULL), FF_ERR_STALE_LEASE, false, "progress with the old handle");
	check_error(ff_client_cancel(c, &cl.handle, NULL), FF_ERR_STALE_LEASE, false, "cancel with the old handle");
	check_error(ff_client_delay(c, &cl.handle, 0), FF_ERR_STALE_LEASE, false, "delay with the old handle");

	/* not active: finished */
	is_status(ff_client_complete(c, &cl2.handle, "done", 4), FF_OK, c, "complete the reclaim");
	check_error(ff_client_renew(c, &cl2.handle, &rr), FF_ERR_EXECUTION_NOT_ACTIVE, true,
				"renew after completion");
	ok(ff_client_last_error(c)->detail && strstr(ff_client_last_error(c)->detail, "terminal"),
	   "execution_not_active carries the JSON detail");
	ff_claimed_clear(&cl);
	ff_claimed_clear(&cl2);
	free(id);
}

/* ------------------------------------------------------------------------ */
static void
test_progress_complete_fail(void)
{
	const char *lane = unique_lane("finish");
	ff_claimed	cl = {0};
	ff_bytes	b = {0};
	ff_fail_result fr = {0};
	char	   *id = make_execution(c, lane, "p", NULL);
	char	   *s;

	ok(claim_one(c, lane, 0, &cl), "claim for progress");
	is_status(ff_client_progress(c, &cl.handle, 40, "forty"), FF_OK, c, "progress 40");
	is_status(ff_client_progress(c, &cl.handle, -1, NULL), FF_OK, c, "progress keeping the values");
	s = admin_str("SELECT progress_pct || ' ' || progress_message FROM ff_execution e "
				  "WHERE ff_format_execution_id(e.partition_key, e.execution_id) = '%s'", id);
	is_str(s, "40 forty", "progress stored (NULL kept the values)");
	free(s);
	check_error(ff_client_progress(c, &cl.handle, 101, NULL), FF_ERR_INVALID_INPUT, false, "progress 101");

	is_status(ff_client_get_execution_result(c, id, &b), FF_OK, c, "result before completion");
	ok(b.data == NULL, "no result yet");
	is_status(ff_client_complete(c, &cl.handle, "{\"ok\":1}", 8), FF_OK, c, "complete with a result");
	is_status(ff_client_complete(c, &cl.handle, "{\"ok\":1}", 8), FF_OK, c, "complete replay is a no-op");
	is_status(ff_client_get_execution_result(c, id, &b), FF_OK, c, "get_execution_result");
	ok(b.len == 8 && memcmp(b.data, "{\"ok\":1}", 8) == 0, "the result payload");
	ff_bytes_clear(&b);
	ok(b.data == NULL && b.len == 0, "bytes clear");
	is_int(admin_int("SELECT count(*) FROM ff_completion_event ce JOIN ff_execution e "
					 "USING (partition_key, execution_id) WHERE e.lane_id = '%s'", lane),
		   1, "one completion event despite the replay");
	ff_claimed_clear(&cl);
	free(id);

	/* empty result: non-NULL, zero length */
	id = make_execution(c, lane, NULL, NULL);
	ok(claim_one(c, lane, 0, &cl), "claim for an empty result");
	is_status(ff_client_complete(c, &cl.handle, "", 0), FF_OK, c, "complete with an empty result");
	is_status(ff_client_get_execution_result(c, id, &b), FF_OK, c, "read the empty result");
	ok(b.data != NULL && b.len == 0, "empty result: data non-NULL, len 0");
	ff_bytes_clear(&b);
	ff_claimed_clear(&cl);
	free(id);

	/* complete: payload too large */
	{
		ff_client  *small = NULL;
		ff_error	e = {0};

		id = make_execution(c, lane, NULL, NULL);
		if (ff_client_connect(test_conninfo_with("options='-c flowfabric.max_payload_bytes=4'"),
							  &small, &e) == FF_OK && claim_one(small, lane, 0, &cl))
		{
			ff_client  *saved = c;

			c = small;
			check_error(ff_client_complete(c, &cl.handle, "12345", 5), FF_ERR_PAYLOAD_TOO_LARGE, false,
						"complete, result over max_payload_bytes");
			check_error(ff_client_fail(c, &cl.handle, "m", NULL, "12345", 5, NULL), FF_ERR_PAYLOAD_TOO_LARGE,
						false, "fail, detail over max_payload_bytes");
			c = saved;
			ff_claimed_clear(&cl);
		}
		else
			ok(0, "set-up for payload_too_large");
		ff_client_close(small);
		ff_error_clear(&e);
		free(id);
	}

	/* fail -> retry, replay, then terminal */
	id = make_execution(c, lane, "f", "{\"retry_policy\": {\"max_retries\": 1, "
						"\"backoff\": {\"type\": \"fixed\", \"delay_ms\": 60000}}}");
	ok(claim_one(c, lane, 0, &cl), "claim for fail");
	check_error(ff_client_fail(c, &cl.handle, NULL, NULL, NULL, 0, &fr), FF_ERR_INVALID_INPUT, false, "fail without message");
	check_error(ff_client_fail(c, &cl.handle, "m", "sometimes", NULL, 0, &fr), FF_ERR_INVALID_INPUT, false,
				"fail, unknown classification");
	is_status(ff_client_fail(c, &cl.handle, "boom", FF_CLASS_TRANSIENT, "dd", 2, &fr), FF_OK, c, "fail (transient)");
	ok(fr.outcome == FF_FAIL_RETRY_SCHEDULED && fr.delay_until_ms > admin_int("SELECT ff_server_time_ms()") + 50000,
	   "retry scheduled 60 s out");
	{
		ff_fail_result fr2 = {0};

		is_status(ff_client_fail(c, &cl.handle, "boom", FF_CLASS_TRANSIENT, "dd", 2, &fr2), FF_OK, c, "fail replay");
		ok(fr2.outcome == fr.outcome && fr2.delay_until_ms == fr.delay_until_ms, "the replay returns the first decision");
	}
	s = NULL;
	is_status(ff_client_read_execution_state(c, id, &s), FF_OK, c, "state after a retry is scheduled");
	is_str(s, "delayed", "delayed during the backoff");
	ff_free(s);
	ff_claimed_clear(&cl);
	free(id);

	id = make_execution(c, lane, "g", "{\"retry_policy\": {\"max_retries\": 3}}");
	ok(claim_one(c, lane, 0, &cl), "claim for a permanent failure");
	is_status(ff_client_fail(c, &cl.handle, "bad input", FF_CLASS_PERMANENT, NULL, 0, &fr), FF_OK, c,
			  "fail (permanent)");
	ok(fr.outcome == FF_FAIL_TERMINAL && fr.delay_until_ms == 0, "permanent -> terminal, no delay");
	s = NULL;
	ff_client_read_execution_state(c, id, &s);
	is_str(s, "failed", "the execution failed");
	ff_free(s);
	check_error(ff_client_fail(c, &cl.handle, "other", FF_CLASS_PERMANENT, NULL, 0, &fr),
				FF_ERR_EXECUTION_NOT_ACTIVE, true, "fail with another message is not a replay");
	ff_claimed_clear(&cl);
	free(id);
}

/* ------------------------------------------------------------------------ */
static void
test_cancel_delay(void)
{
	const char *lane = unique_lane("cxl");
	ff_claimed	cl = {0};
	ff_claimed	cl2 = {0};
	char	   *id = make_execution(c, lane, "c", NULL);
	char	   *s = NULL;
	long long	now;

	ok(claim_one(c, lane, 0, &cl), "claim for cancel");
	is_status(ff_client_cancel(c, &cl.handle, "no longer needed"), FF_OK, c, "cancel");
	is_status(ff_client_cancel(c, &cl.handle, "no longer needed"), FF_OK, c, "cancel replay");
	ff_client_read_execution_state(c, id, &s);
	is_str(s, "cancelled", "cancelled");
	ff_free(s);
	s = NULL;
	check_error(ff_client_delay(c, &cl.handle, 0), FF_ERR_EXECUTION_NOT_ACTIVE, true, "delay after cancel");
	ff_claimed_clear(&cl);
	free(id);

	id = make_execution(c, lane, "d", NULL);
	ok(claim_one(c, lane, 0, &cl), "claim for delay");
	now = admin_int("SELECT ff_server_time_ms()");
	is_status(ff_client_delay(c, &cl.handle, now + 3600000), FF_OK, c, "delay an hour");
	ff_client_read_execution_state(c, id, &s);
	is_str(s, "delayed", "delayed");
	ff_free(s);
	s = NULL;
	check_error(ff_client_delay(c, &cl.handle, now), FF_ERR_EXECUTION_NOT_ACTIVE, true, "delay again (no replay rule)");
	ff_claimed_clear(&cl);
	free(id);

	id = make_execution(c, lane, "e", NULL);
	ok(claim_one(c, lane, 0, &cl), "claim for delay to the past");
	is_status(ff_client_delay(c, &cl.handle, 1), FF_OK, c, "delay to a past time");
	ff_client_read_execution_state(c, id, &s);
	is_str(s, "waiting", "waiting at once");
	ff_free(s);
	ok(claim_one(c, lane, 0, &cl2), "claim the resumed execution");
	ok(cl2.attempt_index == cl.attempt_index && cl2.lease_epoch == cl.lease_epoch + 1,
	   "same attempt, next epoch");
	ff_client_complete(c, &cl2.handle, NULL, 0);
	ff_claimed_clear(&cl);
	ff_claimed_clear(&cl2);
	free(id);
}

/* ------------------------------------------------------------------------ */
static void
test_reads(void)
{
	const char *lane = unique_lane("reads");
	ff_create_args a = {0};
	ff_create_result r = {0};
	ff_execution_description d = {0};
	ff_execution_info info = {0};
	ff_execution_context x = {0};
	ff_claimed	cl = {0};
	char	   *s = NULL;
	int32_t		n = -1;
	bool		found = true;
	const char *unknown = "{fp:3}:00000000-0000-4000-8000-000000000abc";

	a.lane_id = lane;
	a.input_payload = "in";
	a.input_payload_len = 2;
	a.ns = "ns-r";
	a.execution_kind = "kind.r";
	a.tags_json = "{\"app.color\": \"blue\"}";
	ff_client_create_execution(c, &a, &r);

	is_status(ff_client_describe_execution(c, r.execution_id, &d), FF_OK, c, "describe (waiting)");
	ok(d.found && !d.has_current_attempt && !d.has_lease && d.total_attempt_count == 0,
	   "before the first claim: no attempt, no lease");
	ok(d.lane_id && strcmp(d.lane_id, lane) == 0 && d.ns && strcmp(d.ns, "ns-r") == 0 &&
	   d.flow_id == NULL && d.tags_json && strstr(d.tags_json, "blue"), "describe fields");
	ff_execution_description_clear(&d);

	ok(claim_one(c, lane, 0, &cl), "claim for reads");
	is_status(ff_client_describe_execution(c, r.execution_id, &d), FF_OK, c, "describe (active)");
	ok(d.found && d.has_current_attempt && d.current_attempt_index == 0 && d.has_lease &&
	   d.lease_epoch == 1 && d.lease_id && d.current_attempt_id && strlen(d.lease_id) == 36 &&
	   d.worker_instance_id && strcmp(d.worker_instance_id, "test-worker/1") == 0 &&
	   d.lease_expires_at_ms == cl.lease_expires_at_ms && d.total_attempt_count == 1,
	   "current attempt and live lease");
	is_str(d.public_state, "active", "describe public_state");
	ff_execution_description_clear(&d);
	is_status(ff_client_describe_execution(c, unknown, &d), FF_OK, c, "describe unknown id");
	ok(!d.found && d.execution_id == NULL, "unknown -> found = false");
	check_error(ff_client_describe_execution(c, "garbage", &d), FF_ERR_INVALID_INPUT, false, "describe malformed id");

	is_status(ff_client_read_execution_info(c, r.execution_id, &info), FF_OK, c, "read_execution_info");
	ok(info.found && strcmp(info.lifecycle_phase, "active") == 0 &&
	   strcmp(info.ownership_state, "leased") == 0 && strcmp(info.eligibility_state, "not_applicable") == 0 &&
	   strcmp(info.blocking_reason, "none") == 0 && strcmp(info.terminal_outcome, "none") == 0 &&
	   strcmp(info.attempt_state, "running_attempt") == 0 && strcmp(info.public_state, "active") == 0,
	   "the state vector");
	ok(info.started_at_ms > 0 && info.completed_at_ms == 0 && info.priority == 0 &&
	   strcmp(info.execution_kind, "kind.r") == 0, "info fields");
	ff_execution_info_clear(&info);
	is_status(ff_client_read_execution_info(c, unknown, &info), FF_OK, c, "info unknown id");
	ok(!info.found, "info: unknown -> found = false");
	check_error(ff_client_read_execution_info(c, "{fp:999}:x", &info), FF_ERR_INVALID_INPUT, false, "info malformed id");

	is_status(ff_client_read_execution_state(c, r.execution_id, &s), FF_OK, c, "read_execution_state");
	is_str(s, "active", "state");
	ff_free(s);
	is_status(ff_client_read_execution_state(c, unknown, &s), FF_OK, c, "state of an unknown id");
	ok(s == NULL, "unknown -> NULL");
	check_error(ff_client_read_execution_state(c, "x", &s), FF_ERR_INVALID_INPUT, false, "state malformed id");

	is_status(ff_client_read_execution_context(c, r.execution_id, &x), FF_OK, c, "read_execution_context");
	ok(x.found && x.input_payload.len == 2 && memcmp(x.input_payload.data, "in", 2) == 0 &&
	   strcmp(x.execution_kind, "kind.r") == 0 && strstr(x.tags_json, "app.color"), "context fields");
	ff_execution_context_clear(&x);
	is_status(ff_client_read_execution_context(c, unknown, &x), FF_OK, c, "context of an unknown id");
	ok(!x.found, "context: found = false");
	check_error(ff_client_read_execution_context(c, "x", &x), FF_ERR_INVALID_INPUT, false, "context malformed id");

	is_status(ff_client_read_current_attempt_index(c, r.execution_id, &n, &found), FF_OK, c, "current attempt index");
	ok(found && n == 0, "attempt index 0");
	is_status(ff_client_read_total_attempt_count(c, r.execution_id, &n, &found), FF_OK, c, "total attempt count");
	ok(found && n == 1, "one attempt");
	is_status(ff_client_read_total_attempt_count(c, unknown, &n, &found), FF_OK, c, "count of an unknown id");
	ok(!found && n == 0, "unknown -> not found");
	is_status(ff_client_read_current_attempt_index(c, unknown, &n, NULL), FF_OK, c, "found pointer may be NULL");
	check_error(ff_client_read_current_attempt_index(c, "x", &n, &found), FF_ERR_INVALID_INPUT, false,
				"attempt index malformed id");
	check_error(ff_client_read_total_attempt_count(c, "x", &n, &found), FF_ERR_INVALID_INPUT, false,
				"attempt count malformed id");

	is_status(ff_client_get_execution_namespace(c, r.execution_id, &s), FF_OK, c, "namespace");
	is_str(s, "ns-r", "namespace value");
	ff_free(s);
	is_status(ff_client_get_execution_namespace(c, unknown, &s), FF_OK, c, "namespace of an unknown id");
	ok(s == NULL, "namespace NULL");
	check_error(ff_client_get_execution_namespace(c, "x", &s), FF_ERR_INVALID_INPUT, false, "namespace malformed id");
	check_error(ff_client_get_execution_result(c, "x", &(ff_bytes) {0}), FF_ERR_INVALID_INPUT, false,
				"result malformed id");

	/* tags */
	is_status(ff_client_get_execution_tag(c, r.execution_id, "app.color", &s), FF_OK, c, "get tag");
	is_str(s, "blue", "tag value from create");
	ff_free(s);
	is_status(ff_client_set_execution_tag(c, r.execution_id, "app.color", "green"), FF_OK, c, "set tag");
	ff_client_get_execution_tag(c, r.execution_id, "app.color", &s);
	is_str(s, "green", "tag replaced");
	ff_free(s);
	is_status(ff_client_get_execution_tag(c, r.execution_id, "app.missing", &s), FF_OK, c, "get a missing tag");
	ok(s == NULL, "missing tag -> NULL");
	check_error(ff_client_get_execution_tag(c, r.execution_id, "Bad", &s), FF_ERR_INVALID_TAG_KEY, false, "get tag, bad key");
	check_error(ff_client_set_execution_tag(c, r.execution_id, "Bad", "v"), FF_ERR_INVALID_TAG_KEY, false, "set tag, bad key");
	check_error(ff_client_set_execution_tag(c, unknown, "app.k", "v"), FF_ERR_EXECUTION_NOT_FOUND, false,
				"set tag on an unknown execution");
	check_error(ff_client_set_execution_tag(c, r.execution_id, "app.k", NULL), FF_ERR_INVALID_INPUT, false,
				"set tag to NULL");

	ff_client_complete(c, &cl.handle, NULL, 0);
	ff_claimed_clear(&cl);
	ff_create_result_clear(&r);
}

/* ------------------------------------------------------------------------ */
static void
test_listings(void)
{
	const char *lane = unique_lane("list");
	char		pk[32];
	ff_execution_list l = {0};
	ff_lane_list ll = {0};
	int			mine = 0;
	int			total = 0;
	char	   *cursor = NULL;
	bool		ordered = true;

	for (int i = 0; i < 5; i++)
		free(make_execution(c, lane, NULL, NULL));
	snprintf(pk, sizeof(pk), "{fp:%d}", ff_solo_partition(lane));
	/* page through the partition 2 at a time */
	for (;;)
	{
		ff_status	s = ff_client_list_executions(c, pk, cursor, 2, &l);

		if (s != FF_OK)
		{
			is_status(s, FF_OK, c, "list_executions page");
			break;
		}
		if (l.count == 0)
			break;
		for (size_t i = 0; i < l.count; i++)
		{
			if (strcmp(l.items[i].lane_id, lane) == 0)
				mine++;
			if (cursor && strcmp(l.items[i].execution_id, cursor) <= 0)
				ordered = false;
			total++;
		}
		free(cursor);
		cursor = strdup(l.items[l.count - 1].execution_id);
		ff_execution_list_clear(&l);
		if (total > 10000)
			break;
	}
	free(cursor);
	is_int(mine, 5, "paging with a cursor finds all 5 executions");
	ok(ordered, "pages come in id order without repeats");
	is_status(ff_client_list_executions(c, pk, NULL, 0, &l), FF_OK, c, "list_executions default page");
	ok(l.count >= 5 && l.items[0].created_at_ms > 0 && l.items[0].public_state, "default page fields");
	ff_execution_list_clear(&l);
	check_error(ff_client_list_executions(c, "fp:1", NULL, 10, &l), FF_ERR_INVALID_INPUT, false,
				"list_executions, malformed partition key");
	check_error(ff_client_list_executions(c, pk, "nope", 10, &l), FF_ERR_INVALID_INPUT, false,
				"list_executions, malformed cursor");

	is_status(ff_client_list_lanes(c, NULL, 1000, &ll), FF_OK, c, "list_lanes");
	{
		bool		found = false;

		for (size_t i = 0; i < ll.count; i++)
			if (strcmp(ll.items[i].lane_id, lane) == 0 &&
				strcmp(ll.items[i].registered_by, "create_execution") == 0 && ll.items[i].registered_at_ms > 0)
				found = true;
		ok(found, "the lane is registered");
	}
	ff_lane_list_clear(&ll);
	is_status(ff_client_list_lanes(c, lane, 1, &ll), FF_OK, c, "list_lanes after a cursor");
	ok(ll.count <= 1 && (ll.count == 0 || strcmp(ll.items[0].lane_id, lane) > 0), "lanes after the cursor");
	ff_lane_list_clear(&ll);
}

/* ------------------------------------------------------------------------ */
static void
test_reconcilers(void)
{
	const char *lane = unique_lane("rec");
	ff_create_args a = {0};
	ff_create_result r = {0};
	ff_claimed	cl = {0};
	int32_t		n = -1;
	char	   *s = NULL;
	long long	now = admin_int("SELECT ff_server_time_ms()");
	PGresult   *res;

	/* delayed promotion, on the client's own connection with the test clock */
	a.lane_id = lane;
	a.delay_until_ms = now + 60000;
	ff_client_create_execution(c, &a, &r);
	res = PQexec(ff_client_pgconn(c), "SET flowfabric.clock_offset_ms = '2min'");
	ok(PQresultStatus(res) == PGRES_COMMAND_OK, "the test clock moves 2 min ahead (client session)");
	PQclear(res);
	is_status(ff_client_reconcile_delayed_promotion(c, 0, &n), FF_OK, c, "reconcile_delayed_promotion");
	ok(n >= 1, "promoted %d", (int) n);
	PQclear(PQexec(ff_client_pgconn(c), "RESET flowfabric.clock_offset_ms"));
	ff_client_read_execution_state(c, r.execution_id, &s);
	is_str(s, "waiting", "the delayed execution is waiting");
	ff_free(s);
	s = NULL;
	ff_create_result_clear(&r);

	/* attempt timeout */
	ok(claim_one(c, lane, 0, &cl), "claim the promoted execution");
	ff_client_complete(c, &cl.handle, NULL, 0);
	ff_claimed_clear(&cl);
	{
		const char *tlane = unique_lane("rec-timeout");
		char	   *id = make_execution(c, tlane, NULL, "{\"timeout_policy\": {\"attempt_timeout_ms\": 1}}");

		ok(claim_one(c, tlane, 0, &cl), "claim with a 1 ms attempt timeout");
		sleep_ms(20);
		is_status(ff_client_reconcile_attempt_timeout(c, 0, &n), FF_OK, c, "reconcile_attempt_timeout");
		ok(n >= 1, "timed out %d", (int) n);
		ff_client_read_execution_state(c, id, &s);
		is_str(s, "expired", "the attempt timed out -> expired");
		ff_free(s);
		s = NULL;
		ff_claimed_clear(&cl);
		free(id);
	}
	/* execution deadline */
	memset(&a, 0, sizeof(a));
	a.lane_id = lane;
	a.execution_deadline_at_ms = admin_int("SELECT ff_server_time_ms()") + 1;
	ff_client_create_execution(c, &a, &r);
	sleep_ms(20);
	is_status(ff_client_reconcile_execution_deadline(c, 10, &n), FF_OK, c, "reconcile_execution_deadline");
	ok(n >= 1, "deadline passed %d", (int) n);
	ff_client_read_execution_state(c, r.execution_id, &s);
	is_str(s, "expired", "past its deadline -> expired");
	ff_free(s);
	ff_create_result_clear(&r);
	is_status(ff_client_reconcile_lease_expiry(c, 0, NULL), FF_OK, c, "reconcile_lease_expiry (changed NULL)");

	check_error(ff_client_reconcile_lease_expiry(c, -1, &n), FF_ERR_INVALID_INPUT, false, "lease expiry, batch -1");
	check_error(ff_client_reconcile_attempt_timeout(c, 100001, &n), FF_ERR_INVALID_INPUT, false, "attempt timeout, batch 100001");
	check_error(ff_client_reconcile_delayed_promotion(c, -5, &n), FF_ERR_INVALID_INPUT, false, "promotion, batch -5");
	check_error(ff_client_reconcile_execution_deadline(c, -1, &n), FF_ERR_INVALID_INPUT, false, "deadline, batch -1");
}

/* ------------------------------------------------------------------------
 * Retention. It deletes by age across the whole database, so it runs last,
 * on a session of its own whose engine clock is 8 days ahead: everything
 * finished so far is past flowfabric.retention_ms (7 days) and every event
 * past flowfabric.event_retention_ms (1 day).
 * ------------------------------------------------------------------------ */
#define EIGHT_DAYS_MS "691200000"

static long long
rows_of(const char *table, const char *id)
{
	return admin_int("SELECT count(*) FROM %s WHERE ff_format_execution_id(partition_key, execution_id) = '%s'",
					 table, id);
}

/* creates an execution of lane and completes it; returns its id */
static char *
finished_execution(const char *lane)
{
	char	   *id = make_execution(c, lane, "old", NULL);
	ff_claimed	cl = {0};

	if (id == NULL || !claim_one(c, lane, 0, &cl) || ff_client_complete(c, &cl.handle, NULL, 0) != FF_OK)
		printf("Bail out! could not finish an execution on %s\n", lane);
	ff_claimed_clear(&cl);
	return id;
}

/* runs a reconciler until a pass deletes less than a batch; the total, or
 * -1 if a pass failed */
static long long
drain(ff_client *rc, ff_status (*fn) (ff_client *, int32_t, int32_t *))
{
	long long	total = 0;
	int32_t		n;

	do
	{
		n = 0;
		if (fn(rc, 0, &n) != FF_OK)
			return -1;
		total += n;
	} while (n == 1000);
	return total;
}

static void
test_retention(void)
{
	const char *lane = unique_lane("retention");
	ff_client  *rc = test_client();
	char	   *done_id = finished_execution(lane);
	char	   *done2_id;
	char	   *live_id = make_execution(c, lane, "live", NULL);
	char		out[1024];
	char		want[64];
	ff_claimed	live = {0};
	long long	total;
	int			rcode;
	PGresult   *res;

	ok(claim_one(c, lane, 86400000, &live) && ff_client_renew(c, &live.handle, NULL) == FF_OK,
	   "an execution that stays active (claimed, renewed)");
	ok(rows_of("ff_lease_event", live_id) >= 2 && rows_of("ff_lease_event", done_id) >= 2 &&
	   rows_of("ff_completion_event", done_id) == 1, "... the two have lease events, the finished one its completion");
	res = PQexec(ff_client_pgconn(rc), "SET flowfabric.clock_offset_ms = " EIGHT_DAYS_MS);
	ok(PQresultStatus(res) == PGRES_COMMAND_OK, "a session whose clock is 8 days ahead");
	PQclear(res);

	expect_error(rc, ff_client_reconcile_retention(rc, -1, NULL), FF_ERR_INVALID_INPUT, "YFV01", false,
				 "retention, batch -1");
	expect_error(rc, ff_client_reconcile_event_retention(rc, 100001, NULL), FF_ERR_INVALID_INPUT, "YFV01", false,
				 "event retention, batch 100001");

	/* event retention: old lease events go, executions and completions stay */
	total = drain(rc, ff_client_reconcile_event_retention);
	ok(total >= 4, "reconcile_event_retention deleted the old events (%lld)", total);
	is_int(rows_of("ff_lease_event", live_id) + rows_of("ff_lease_event", done_id), 0,
		   "... the lease events of both executions are gone");
	ok(rows_of("ff_execution", done_id) == 1 && rows_of("ff_completion_event", done_id) == 1 &&
	   rows_of("ff_execution", live_id) == 1, "... the executions and the completion event are kept");

	/* execution retention: the finished one goes with its rows, not the live one */
	total = drain(rc, ff_client_reconcile_retention);
	ok(total >= 1, "reconcile_retention deleted the finished executions (%lld)", total);
	ok(rows_of("ff_execution", done_id) == 0 && rows_of("ff_attempt", done_id) == 0 &&
	   rows_of("ff_completion_event", done_id) == 0, "... the finished one is gone with its attempt and completion");
	is_int(rows_of("ff_execution", live_id), 1, "... the active one is kept");
	is_status(ff_client_reconcile_retention(rc, 10, NULL), FF_OK, rc, "reconcile_retention (changed NULL)");
	is_status(ff_client_reconcile_retention(c, 0, NULL), FF_OK, c,
			  "on a session with the real clock: nothing is old enough, no error");

	/* ffctl reconcile retention / event-retention, with the same clock */
	done2_id = finished_execution(lane);
	ff_client_renew(c, &live.handle, NULL);
	setenv("PGOPTIONS", "-c flowfabric.clock_offset_ms=" EIGHT_DAYS_MS, 1);
	rcode = ffctl_run(out, sizeof(out), "--json reconcile event-retention --batch 100000");
	ok(rcode == 0 && strstr(out, "\"event_retention\":") && !strstr(out, "\"event_retention\":0"),
	   "ffctl --json reconcile event-retention (%d: %s)", rcode, out);
	ok(rows_of("ff_lease_event", live_id) == 0 && rows_of("ff_execution", done2_id) == 1,
	   "... deleted events, no execution");
	rcode = ffctl_run(out, sizeof(out), "reconcile retention");
	snprintf(want, sizeof(want), "retention ");
	ok(rcode == 0 && strncmp(out, want, strlen(want)) == 0 && !strstr(out, " 0"),
	   "ffctl reconcile retention (%d: %s)", rcode, out);
	is_int(rows_of("ff_execution", done2_id), 0, "... deleted the finished execution");
	rcode = ffctl_run(out, sizeof(out), "reconcile retention --batch 100001");
	ok(rcode == 1 && strstr(out, "YFV01"), "ffctl reconcile retention --batch 100001: the engine refuses (%d: %s)",
	   rcode, out);
	unsetenv("PGOPTIONS");

	is_status(ff_client_complete(c, &live.handle, NULL, 0), FF_OK, c, "the live execution completes normally");
	ff_claimed_clear(&live);
	ff_client_close(rc);
	free(done_id);
	free(done2_id);
	free(live_id);
}

/* ------------------------------------------------------------------------ */
static void
test_readers(void)
{
	const char *lane = unique_lane("outbox");
	ff_completion_event_list ce = {0};
	ff_lease_event_list le = {0};
	ff_claimed	cl = {0};
	char	   *id = make_execution(c, lane, NULL, NULL);
	int64_t		start = admin_int("SELECT coalesce(max(event_id), 0) FROM ff_completion_event");
	int64_t		lstart = admin_int("SELECT coalesce(max(event_id), 0) FROM ff_lease_event");
	bool		seen_c = false;
	int			seen_types = 0;

	claim_one(c, lane, 0, &cl);
	ff_client_renew(c, &cl.handle, NULL);
	ff_client_complete(c, &cl.handle, "r", 1);

	is_status(ff_client_completion_events(c, start, 0, &ce), FF_OK, c, "completion_events");
	for (size_t i = 0; i < ce.count; i++)
		if (strcmp(ce.items[i].execution_id, id) == 0 && strcmp(ce.items[i].outcome, "success") == 0 &&
			strcmp(ce.items[i].lane_id, lane) == 0 && ce.items[i].has_attempt_index &&
			ce.items[i].attempt_index == 0 && ce.items[i].event_id > start && ce.items[i].occurred_at_ms > 0)
			seen_c = true;
	ok(seen_c, "the success event is read after the cursor");
	ff_completion_event_list_clear(&ce);

	is_status(ff_client_lease_events(c, lstart, 100, &le), FF_OK, c, "lease_events");
	for (size_t i = 0; i < le.count; i++)
	{
		ff_lease_event *e = &le.items[i];

		if (strcmp(e->execution_id, id) != 0)
			continue;
		if (strcmp(e->event_type, "acquired") == 0 && e->reason == NULL && e->lease_epoch == 1 &&
			strcmp(e->worker_id, "test-worker") == 0)
			seen_types |= 1;
		if (strcmp(e->event_type, "renewed") == 0)
			seen_types |= 2;
		if (strcmp(e->event_type, "released") == 0 && e->reason && strcmp(e->reason, "completed") == 0)
			seen_types |= 4;
	}
	is_int(seen_types, 7, "acquired, renewed and released/completed lease events");
	if (le.count > 0)
	{
		int64_t		last = le.items[le.count - 1].event_id;

		ff_lease_event_list_clear(&le);
		is_status(ff_client_lease_events(c, last, 100, &le), FF_OK, c, "read after the last event");
		is_int(le.count, 0, "nothing after the last event");
	}
	ff_lease_event_list_clear(&le);
	check_error(ff_client_completion_events(c, 0, 10001, &ce), FF_ERR_INVALID_INPUT, false, "completion_events, 10001");
	check_error(ff_client_lease_events(c, 0, -1, &le), FF_ERR_INVALID_INPUT, false, "lease_events, -1");
	ff_claimed_clear(&cl);
	free(id);
}

/* ------------------------------------------------------------------------ */
static void
test_transactions_and_connections(void)
{
	const char *lane = unique_lane("txn");
	ff_create_args a = {0};
	ff_create_result r = {0};
	char	   *s = NULL;
	int			pid;
	unsigned long before;
	PGresult   *res;

	/* engine calls inside the caller's own transaction */
	a.lane_id = lane;
	PQclear(PQexec(ff_client_pgconn(c), "BEGIN"));
	is_status(ff_client_create_execution(c, &a, &r), FF_OK, c, "create inside BEGIN");
	PQclear(PQexec(ff_client_pgconn(c), "ROLLBACK"));
	ff_client_read_execution_state(c, r.execution_id, &s);
	ok(s == NULL, "ROLLBACK undid the create (shared transaction)");
	ff_free(s);
	s = NULL;
	ff_create_result_clear(&r);

	/* a server-closed idle connection is replaced before the next call */
	pid = ff_client_backend_pid(c);
	before = ff_client_reconnect_count(c);
	admin_exec("SELECT pg_terminate_backend(%d)", pid);
	wait_backend_gone(pid);
	is_status(ff_client_create_execution(c, &a, &r), FF_OK, c, "create after the backend was terminated");
	ok(ff_client_reconnect_count(c) == before + 1 && ff_client_backend_pid(c) != pid,
	   "the client reconnected by itself");
	ff_create_result_clear(&r);

	/* lost during a call: a delay blocked on a row lock, then terminated */
	{
		const char *lane = unique_lane("txn-lost");
		ff_claimed	cl = {0};
		char	   *id = make_execution(c, lane, NULL, NULL);
		PGconn	   *locker = PQconnectdb(test_conninfo());
		PGconn	   *killer = PQconnectdb(test_conninfo());
		char		sql[512];

		claim_one(c, lane, 0, &cl);
		snprintf(sql, sizeof(sql),
				 "BEGIN; SELECT 1 FROM ff_execution WHERE ff_format_execution_id(partition_key, execution_id) = '%s' FOR UPDATE",
				 id);
		res = PQexec(locker, sql);
		ok(PQresultStatus(res) == PGRES_TUPLES_OK, "another session locks the execution row");
		PQclear(res);
		snprintf(sql, sizeof(sql), "SELECT pg_sleep(0.3), pg_terminate_backend(%d)", ff_client_backend_pid(c));
		PQsendQuery(killer, sql);
		check_error(ff_client_delay(c, &cl.handle, 1), FF_ERR_CONNECTION, true,
					"a call whose connection dies -> connection, retryable");
		ok(ff_client_last_error(c)->message && ff_client_last_error(c)->message[0], "with a message");
		while ((res = PQgetResult(killer)) != NULL)
			PQclear(res);
		PQclear(PQexec(locker, "ROLLBACK"));
		is_status(ff_client_ping(c), FF_OK, c, "the next call reconnects");
		is_status(ff_client_delay(c, &cl.handle, 1), FF_OK, c, "and the delay can be sent again");
		PQfinish(locker);
		PQfinish(killer);
		ff_claimed_clear(&cl);
		free(id);
	}

	/* statement timeout -> timeout, not retryable */
	{
		const char *lane = unique_lane("txn-timeout");
		ff_client  *t = NULL;
		ff_claimed	cl = {0};
		char	   *id = make_execution(c, lane, NULL, NULL);
		PGconn	   *locker = PQconnectdb(test_conninfo());
		char		sql[512];

		ff_client_connect(test_conninfo_with("options='-c statement_timeout=200'"), &t, NULL);
		claim_one(c, lane, 0, &cl);
		snprintf(sql, sizeof(sql),
				 "BEGIN; SELECT 1 FROM ff_execution WHERE ff_format_execution_id(partition_key, execution_id) = '%s' FOR UPDATE",
				 id);
		PQclear(PQexec(locker, sql));
		if (t)
		{
			ff_status	st = ff_client_complete(t, &cl.handle, NULL, 0);
			const ff_error *e = ff_client_last_error(t);

			is_status(st, FF_ERR_TIMEOUT, t, "complete blocked past statement_timeout -> timeout");
			ok(strcmp(e->sqlstate, "57014") == 0 && !e->retryable, "SQLSTATE 57014, not retryable");
		}
		else
			ok(0, "connect with statement_timeout");
		PQclear(PQexec(locker, "ROLLBACK"));
		ff_client_close(t);
		ff_client_complete(c, &cl.handle, NULL, 0);
		PQfinish(locker);
		ff_claimed_clear(&cl);
		free(id);
	}

	/* the extension is missing in another database -> schema_version */
	{
		ff_client  *p = NULL;

		if (ff_client_connect(test_conninfo_with("dbname=postgres"), &p, NULL) == FF_OK)
		{
			is_status(ff_client_ping(p), FF_ERR_SCHEMA_VERSION, p, "no extension -> schema_version");
			is_str(ff_client_last_error(p)->sqlstate, "42883", "SQLSTATE 42883");
		}
		else
			ok(0, "connect to database postgres");
		ff_client_close(p);
	}

	/* permission denied */
	{
		ff_client  *u = NULL;

		admin_exec("DROP ROLE IF EXISTS ff_client_nopriv");
		admin_exec("CREATE ROLE ff_client_nopriv LOGIN");
		admin_exec("REVOKE EXECUTE ON FUNCTION ff_ping() FROM PUBLIC");
		if (ff_client_connect(test_conninfo_with("user=ff_client_nopriv"), &u, NULL) == FF_OK)
		{
			is_status(ff_client_ping(u), FF_ERR_PERMISSION_DENIED, u, "no EXECUTE -> permission_denied");
			ok(!ff_client_last_error(u)->retryable, "not retryable");
		}
		else
			ok(0, "connect as ff_client_nopriv");
		ff_client_close(u);
		admin_exec("GRANT EXECUTE ON FUNCTION ff_ping() TO PUBLIC");
		admin_exec("DROP ROLE ff_client_nopriv");
	}
}

int
main(void)
{
	c = test_client();
	test_ids_and_kinds();
	test_connection_basics();
	test_create();
	test_claim();
	test_fencing();
	test_progress_complete_fail();
	test_cancel_delay();
	test_reads();
	test_listings();
	test_reconcilers();
	test_readers();
	test_transactions_and_connections();
	test_retention();
	ff_client_close(c);
	PQfinish(admin());
	return done_testing();
}

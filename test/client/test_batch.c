/*
 * test_batch.c - the batch calls of libflowfabric: results line up with the
 * inputs; duplicate idempotency keys inside one batch; a batch with a stale,
 * an expired, a foreign and a missing handle completes the valid ones and
 * reports each failure with its typed kind; renew and fail batches; outbox
 * order within a batch; binary array encoding of payloads (empty, NULL,
 * zero bytes); argument errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"

static ff_client *c;

/* from's handle re-encoded by the engine for another backend / lease epoch
 * (epoch < 0: keep it) */
static void
encoded_handle(ff_handle *h, const ff_handle *from, const char *backend, long long epoch)
{
	char	   *in = NULL;
	char	   *hex;
	char		ep[32];

	ff_handle_to_hex(from, &in);
	if (epoch >= 0)
		snprintf(ep, sizeof(ep), "%lld", epoch);
	else
		snprintf(ep, sizeof(ep), "d.lease_epoch");
	hex = admin_str("SELECT encode(ff_handle_encode(d.execution_id, d.attempt_index::integer, d.attempt_id, "
					"d.lease_id, %s, d.lease_ttl_ms, d.lane_id, d.worker_instance_id, '%s'), 'hex') "
					"FROM ff_handle_describe('\\x%s'::bytea) d", ep, backend, in ? in : "");
	memset(h, 0, sizeof(*h));
	if (hex)
		ff_handle_from_hex(hex, h);
	free(hex);
	free(in);
}

/* ------------------------------------------------------------------------ */
static void
test_create(void)
{
	const char *lane = unique_lane("bcreate");
	ff_create_batch_args a = {0};
	ff_create_batch_item it[5];
	ff_create_result_list l = {0};
	ff_status	s;
	char		idbuf[80];
	const unsigned char zeros[3] = {0, 'x', 0};

	memset(it, 0, sizeof(it));
	snprintf(idbuf, sizeof(idbuf), "{fp:%d}:00000000-0000-4000-8000-%012d", 17, (int) (getpid() % 100000000));
	it[0].input_payload = "first";
	it[0].input_payload_len = 5;
	it[0].idempotency_key = "k1";
	it[0].priority = 7;
	it[0].tags_json = "{\"app.n\": \"0\"}";
	it[1].input_payload = "";	/* empty, not NULL */
	it[1].input_payload_len = 0;
	it[1].execution_id = idbuf;
	it[2].input_payload = zeros;
	it[2].input_payload_len = 3;
	it[2].idempotency_key = "k2";
	it[3].input_payload = "repeat";	/* same key as [0]: not created */
	it[3].input_payload_len = 6;
	it[3].idempotency_key = "k1";
	/* it[4]: no payload at all */
	a.lane_id = lane;
	a.ns = "bns";
	a.execution_kind = "batch.kind";
	a.creator_identity = "test_batch";
	s = ff_client_create_executions(c, &a, it, 5, &l);
	is_status(s, FF_OK, c, "create_executions: 5 items");
	is_int(l.count, 5, "one result per item");
	if (l.count == 5)
	{
		ok(l.items[0].created && l.items[1].created && l.items[2].created && !l.items[3].created &&
		   l.items[4].created, "created: yes, yes, yes, no (repeated key), yes");
		is_str(l.items[3].execution_id, l.items[0].execution_id, "the repeated key returns the first item's execution");
		is_str(l.items[1].execution_id, idbuf, "an item with an id keeps it");
		is_str(l.items[0].public_state, "waiting", "public_state waiting");
		ok(ff_execution_partition(l.items[0].execution_id) == ff_solo_partition(lane),
		   "a minted id is in the lane's solo partition");
		is_int(admin_int("SELECT count(*) FROM ff_execution WHERE lane_id = '%s' AND namespace = 'bns' "
						 "AND execution_kind = 'batch.kind' AND creator_identity = 'test_batch'", lane),
			   4, "four executions, with the shared fields");
		is_int(admin_int("SELECT priority FROM ff_execution WHERE ff_format_execution_id(partition_key, execution_id) = '%s'",
						 l.items[0].execution_id), 7, "per-item priority");
		{
			char	   *v = admin_str("SELECT string_agg(coalesce(encode(input_payload, 'hex'), 'NULL') || '/' || tags::text, ' ' "
									  "ORDER BY priority DESC, encode(input_payload, 'hex') NULLS LAST) "
									  "FROM ff_execution WHERE lane_id = '%s'", lane);

			is_str(v, "6669727374/{\"app.n\": \"0\"} /{} 007800/{} NULL/{}",
				   "payloads arrive byte for byte (empty stays empty, zero bytes kept, none = NULL), tags per item");
			free(v);
		}
	}
	ff_create_result_list_clear(&l);
	ff_create_result_list_clear(&l);

	/* an invalid item rejects the whole batch */
	memset(it, 0, sizeof(it));
	it[0].input_payload = "ok";
	it[0].input_payload_len = 2;
	it[1].execution_id = "not-an-id";
	a.lane_id = unique_lane("bcreate-bad");
	s = ff_client_create_executions(c, &a, it, 2, &l);
	is_status(s, FF_ERR_INVALID_INPUT, c, "a malformed id in item 2 -> invalid_input");
	ok(l.count == 0 && l.items == NULL, "the result list is left empty");
	is_int(admin_int("SELECT count(*) FROM ff_execution WHERE lane_id = '%s'", a.lane_id), 0,
		   "nothing was created");
	it[1].execution_id = NULL;
	it[1].tags_json = "{\"Bad\": \"x\"}";
	is_status(ff_client_create_executions(c, &a, it, 2, &l), FF_ERR_INVALID_TAG_KEY, c,
			  "a bad tag key in item 2 -> invalid_tag_key");

	is_status(ff_client_create_executions(c, &a, it, 0, &l), FF_OK, c, "an empty batch is fine");
	is_int(l.count, 0, "... and returns nothing");
	is_status(ff_client_create_executions(c, &a, it, 10001, &l), FF_ERR_USAGE, c, "more than 10000 items -> usage");
	is_status(ff_client_create_executions(c, &a, NULL, 2, &l), FF_ERR_USAGE, c, "no items -> usage");
	is_status(ff_client_create_executions(c, NULL, it, 2, &l), FF_ERR_USAGE, c, "no args -> usage");
	a.lane_id = NULL;
	is_status(ff_client_create_executions(c, &a, it, 2, &l), FF_ERR_INVALID_INPUT, c, "no lane -> invalid_input");
}

/* ------------------------------------------------------------------------ */
static void
test_complete_mixed(void)
{
	const char *lane = unique_lane("bmixed");
	ff_create_batch_args a = {0};
	ff_create_batch_item it[4];
	ff_create_result_list cl = {0};
	ff_claim_list fast = {0},
				slow = {0},
				thief = {0};
	ff_claim_args ca = {0};
	ff_handle	foreign = {0},
				missing = {0};
	ff_complete_item items[7];
	ff_batch_result_list r = {0};
	ff_status	s;

	memset(it, 0, sizeof(it));
	for (int i = 0; i < 4; i++)
		it[i].priority = 10 - i;	/* claimed in this order */
	a.lane_id = lane;
	ff_client_create_executions(c, &a, it, 4, &cl);
	ff_create_result_list_clear(&cl);

	ca.lane_id = lane;
	ca.worker_id = "w";
	ca.worker_instance_id = "w/1";
	ca.lease_ttl_ms = 50;		/* [0] will be stolen, [1] will expire */
	ca.max_claims = 2;
	is_status(ff_client_claim(c, &ca, &fast), FF_OK, c, "claim two with a 50 ms lease");
	ca.lease_ttl_ms = 600000;
	is_status(ff_client_claim(c, &ca, &slow), FF_OK, c, "claim two with a 10 min lease");
	if (fast.count != 2 || slow.count != 2)
	{
		ff_claim_list_clear(&fast);
		ff_claim_list_clear(&slow);
		return;
	}
	sleep_ms(120);
	admin_exec("SELECT ff_reconcile_lease_expiry()");
	ca.worker_id = "thief";
	ca.max_claims = 1;
	is_status(ff_client_claim(c, &ca, &thief), FF_OK, c, "a thief reclaims the first one");
	encoded_handle(&foreign, &slow.items[0].handle, "valkey", -1);
	encoded_handle(&missing, &slow.items[1].handle, "postgres", 99);

	memset(items, 0, sizeof(items));
	items[0].handle = &slow.items[0].handle;
	items[0].payload = "r0";
	items[0].payload_len = 2;
	items[1].handle = &fast.items[0].handle;	/* stale */
	items[2].handle = &fast.items[1].handle;	/* expired */
	items[3].handle = &foreign;
	items[4].handle = &missing;		/* another epoch: stale */
	items[5].handle = NULL;
	items[6].handle = &slow.items[1].handle;
	items[6].payload = "";
	items[6].payload_len = 0;
	s = ff_client_complete_many(c, items, 7, &r);
	is_status(s, FF_OK, c, "complete_many with stale, expired, foreign and NULL handles succeeds as a call");
	is_int(r.count, 7, "one result per handle");
	if (r.count == 7)
	{
		is_status(r.items[0].status, FF_OK, NULL, "item 1: completed");
		is_status(r.items[1].status, FF_ERR_STALE_LEASE, NULL, "item 2: stale_lease");
		is_str(r.items[1].sqlstate, "YFS01", "... SQLSTATE YFS01");
		ok(r.items[1].message && strncmp(r.items[1].message, "stale_lease: ", 13) == 0,
		   "... with the engine's message");
		is_status(r.items[2].status, FF_ERR_LEASE_EXPIRED, NULL, "item 3: lease_expired");
		is_status(r.items[3].status, FF_ERR_HANDLE_FROM_OTHER_BACKEND, NULL, "item 4: handle_from_other_backend");
		ok(r.items[3].execution_id == NULL, "... no execution id for a handle that does not decode");
		is_status(r.items[4].status, FF_ERR_STALE_LEASE, NULL, "item 5 (another epoch): stale_lease");
		is_status(r.items[5].status, FF_ERR_INVALID_INPUT, NULL, "item 6 (NULL): invalid_input");
		is_status(r.items[6].status, FF_OK, NULL, "item 7: completed");
		is_str(r.items[6].execution_id, slow.items[1].execution_id, "results carry the execution id");
		ok(r.items[0].message == NULL && r.items[0].sqlstate[0] == '\0', "no message on success");
	}
	{
		char	   *v = admin_str("SELECT string_agg(public_state || ':' || coalesce(encode(result, 'hex'), 'NULL'), ',' "
								  "ORDER BY priority DESC) FROM ff_execution WHERE lane_id = '%s'", lane);

		is_str(v, "active:NULL,active:NULL,completed:7230,completed:",
			   "only the valid ones completed, with their results (empty result kept empty)");
		free(v);
	}
	ff_batch_result_list_clear(&r);
	ff_batch_result_list_clear(&r);

	/* completing again is a replay */
	s = ff_client_complete_many(c, items, 1, &r);
	ok(s == FF_OK && r.count == 1 && r.items[0].status == FF_OK, "a repeated complete_many is a replay");
	ff_batch_result_list_clear(&r);
	is_int(admin_int("SELECT count(*) FROM ff_completion_event ce JOIN ff_execution e USING (partition_key, execution_id) "
					 "WHERE e.lane_id = '%s'", lane), 2, "two completion events");

	is_status(ff_client_complete_many(c, NULL, 1, &r), FF_ERR_USAGE, c, "no items -> usage");
	is_status(ff_client_complete_many(c, items, 1, NULL), FF_ERR_USAGE, c, "no out -> usage");
	is_status(ff_client_complete_many(c, items, 0, &r), FF_OK, c, "no handles -> OK");
	is_int(r.count, 0, "... empty");

	ff_handle_clear(&foreign);
	ff_handle_clear(&missing);
	ff_claim_list_clear(&fast);
	ff_claim_list_clear(&slow);
	ff_claim_list_clear(&thief);
}

/* ------------------------------------------------------------------------ */
static void
test_renew_fail_and_order(void)
{
	const char *lane = unique_lane("border");
	ff_create_batch_args a = {0};
	ff_create_batch_item it[4];
	ff_create_result_list cl = {0};
	ff_claim_args ca = {0};
	ff_claim_list l = {0};
	const ff_handle *hs[5];
	ff_batch_result_list r = {0};
	ff_fail_item fi[3];
	ff_complete_item ci[2];

	memset(it, 0, sizeof(it));
	for (int i = 0; i < 4; i++)
		it[i].priority = 10 - i;
	a.lane_id = lane;
	a.policy_json = "{\"retry_policy\": {\"max_retries\": 1, \"backoff\": {\"type\": \"fixed\", \"delay_ms\": 60000}}}";
	ff_client_create_executions(c, &a, it, 4, &cl);
	ff_create_result_list_clear(&cl);
	ca.lane_id = lane;
	ca.worker_id = "w";
	ca.worker_instance_id = "w/2";
	ca.lease_ttl_ms = 60000;
	ca.max_claims = 4;
	if (ff_client_claim(c, &ca, &l) != FF_OK || l.count != 4)
	{
		ok(0, "claim four");
		ff_claim_list_clear(&l);
		return;
	}

	hs[0] = &l.items[3].handle;
	hs[1] = &l.items[0].handle;
	hs[2] = &l.items[3].handle;	/* repeated */
	hs[3] = &l.items[1].handle;
	hs[4] = &l.items[2].handle;
	is_status(ff_client_renew_many(c, hs, 5, &r), FF_OK, c, "renew_many of 5 handles (one repeated)");
	ok(r.count == 5 && r.items[0].status == FF_OK && r.items[4].status == FF_OK &&
	   r.items[0].lease_expires_at_ms >= l.items[3].lease_expires_at_ms && r.items[0].lease_epoch == 1,
	   "renewed: new expiry and the epoch");
	ok(r.count == 5 && r.items[2].lease_expires_at_ms == r.items[0].lease_expires_at_ms,
	   "the repeat reports the first renewal");
	is_int(admin_int("SELECT count(*) FROM ff_lease_event le JOIN ff_execution e USING (partition_key, execution_id) "
					 "WHERE e.lane_id = '%s' AND le.event_type = 'renewed'", lane), 4, "four renewals, not five");
	ff_batch_result_list_clear(&r);

	memset(fi, 0, sizeof(fi));
	fi[0].handle = &l.items[2].handle;
	fi[0].message = "transient trouble";
	fi[0].detail = "d\0x";
	fi[0].detail_len = 3;
	fi[1].handle = &l.items[0].handle;
	fi[1].message = "hopeless";
	fi[1].classification = FF_CLASS_PERMANENT;
	fi[2].handle = &l.items[1].handle;
	fi[2].message = "odd";
	fi[2].classification = "bogus";
	is_status(ff_client_fail_many(c, fi, 3, &r), FF_OK, c, "fail_many of 3");
	if (r.count == 3)
	{
		ok(r.items[0].status == FF_OK && r.items[0].fail_outcome == FF_FAIL_RETRY_SCHEDULED &&
		   r.items[0].delay_until_ms > 0, "transient: retry scheduled with its time");
		ok(r.items[1].status == FF_OK && r.items[1].fail_outcome == FF_FAIL_TERMINAL &&
		   r.items[1].delay_until_ms == 0, "permanent: terminal");
		is_status(r.items[2].status, FF_ERR_INVALID_INPUT, NULL, "unknown classification: invalid_input for that item");
	}
	else
		ok(0, "three results");
	ff_batch_result_list_clear(&r);
	{
		char	   *v = admin_str("SELECT encode(failure_detail, 'hex') FROM ff_attempt a JOIN ff_execution e "
								  "USING (partition_key, execution_id) WHERE e.lane_id = '%s' AND a.failure_message = "
								  "'transient trouble'", lane);

		is_str(v, "640078", "the failure detail arrives byte for byte");
		free(v);
	}

	/* outbox order within a batch follows the input */
	memset(ci, 0, sizeof(ci));
	ci[0].handle = &l.items[3].handle;
	ci[1].handle = &l.items[1].handle;
	is_status(ff_client_complete_many(c, ci, 2, &r), FF_OK, c, "complete the last two, in reverse claim order");
	ff_batch_result_list_clear(&r);
	{
		char	   *want = NULL;
		char	   *got = admin_str("SELECT string_agg(ff_format_execution_id(ce.partition_key, ce.execution_id), ',' "
									"ORDER BY ce.event_id) FROM ff_completion_event ce JOIN ff_execution e "
									"USING (partition_key, execution_id) WHERE e.lane_id = '%s' AND ce.outcome = 'success'",
									lane);
		size_t		n = strlen(l.items[3].execution_id) + strlen(l.items[1].execution_id) + 2;

		want = malloc(n);
		snprintf(want, n, "%s,%s", l.items[3].execution_id, l.items[1].execution_id);
		is_str(got, want, "completion events in input order");
		free(got);
		free(want);
	}
	ff_claim_list_clear(&l);
}

int
main(void)
{
	c = test_client();
	test_create();
	test_complete_mixed();
	test_renew_fail_and_order();
	ff_client_close(c);
	PQfinish(admin());
	return done_testing();
}

--
-- 02_bad_input: every kind of bad call raises its documented SQLSTATE, and
-- none of them leaves a row behind. psql prints only the SQLSTATE of each
-- error (VERBOSITY sqlstate); the statement echoed above it is the label.
--
--   YFV01 invalid_input      YFV03 invalid_capabilities  YFV04 invalid_policy_json
--   YFV05 payload_too_large  YFV23 invalid_tag_key       YFV25 corruption (handle)
--   YFV26 handle_from_other_backend  YFN01 execution_not_found  YFN03 attempt_not_found
--   22P02 / 22003 plain PostgreSQL input errors
--
SET client_min_messages = warning;  -- no NOTICE whether or not an earlier file created it
CREATE EXTENSION IF NOT EXISTS flowfabric;
RESET client_min_messages;

-- One live execution on lane bad-lane, claimed, to aim handle calls at.
SELECT execution_id, public_state, created
  FROM ff_create_execution('bad-lane', execution_id => '{fp:86}:00000000-0000-4000-8000-000000000021',
                           idempotency_key => 'bad-key-1');
CREATE TEMP TABLE bad_h AS SELECT * FROM ff_claim('bad-lane', 'bad-worker', 'bad-worker-1');
SELECT execution_id, attempt_index, lease_epoch FROM bad_h;

-- Row counts of every engine table before the bad calls.
CREATE TEMP TABLE bad_counts_before AS
SELECT (SELECT count(*) FROM ff_execution) AS executions,
       (SELECT count(*) FROM ff_attempt) AS attempts,
       (SELECT count(*) FROM ff_lease_event) AS lease_events,
       (SELECT count(*) FROM ff_completion_event) AS completion_events,
       (SELECT count(*) FROM ff_idempotency_key) AS idempotency_keys,
       (SELECT count(*) FROM ff_lane) AS lanes,
       (SELECT row(e.*)::text FROM ff_execution e
         WHERE execution_id = '00000000-0000-4000-8000-000000000021') AS live_row,
       (SELECT row(a.*)::text FROM ff_attempt a
         WHERE execution_id = '00000000-0000-4000-8000-000000000021') AS live_attempt;

-- Handle builder: the v2 field block (little-endian u32 / u64, u32-length-
-- prefixed strings), each field replaceable. Defaults are spec A's vector.
CREATE FUNCTION bi_u32(n bigint) RETURNS bytea LANGUAGE sql IMMUTABLE
RETURN set_byte(set_byte(set_byte(set_byte('\x00000000'::bytea,
       0, (n & 255)::int), 1, ((n >> 8) & 255)::int), 2, ((n >> 16) & 255)::int),
       3, ((n >> 24) & 255)::int);
CREATE FUNCTION bi_str(b bytea) RETURNS bytea LANGUAGE sql IMMUTABLE
RETURN bi_u32(length(b)) || b;
CREATE FUNCTION bi_fields(
        eid bytea DEFAULT bi_str('{fp:86}:550e8400-e29b-41d4-a716-446655440000'),
        att bytea DEFAULT bi_u32(3),
        aid bytea DEFAULT bi_str('00000000-0000-4000-8000-000000000001'),
        lid bytea DEFAULT bi_str('00000000-0000-4000-8000-000000000002'),
        epoch bytea DEFAULT bi_u32(7) || bi_u32(0),
        ttl bytea DEFAULT bi_u32(30000) || bi_u32(0),
        lane bytea DEFAULT bi_str('default'),
        wiid bytea DEFAULT bi_str('worker-1')) RETURNS bytea LANGUAGE sql IMMUTABLE
RETURN eid || att || aid || lid || epoch || ttl || lane || wiid;
-- The builder reproduces ff_handle_encode (so the variations below differ
-- from a valid handle only where intended).
SELECT '\x020102'::bytea || bi_fields()
     = ff_handle_encode('{fp:86}:550e8400-e29b-41d4-a716-446655440000', 3,
                        '00000000-0000-4000-8000-000000000001',
                        '00000000-0000-4000-8000-000000000002', 7, 30000, 'default', 'worker-1')
       AS builder_ok;

\set VERBOSITY sqlstate

--
-- Malformed execution ids: YFV01 everywhere an id is parsed.
--
SELECT ff_canonical_execution_id('');
SELECT ff_canonical_execution_id('abc');
SELECT ff_canonical_execution_id('550e8400-e29b-41d4-a716-446655440000');
SELECT ff_canonical_execution_id('{fp:86}');
SELECT ff_canonical_execution_id('{fp:86}:');
SELECT ff_canonical_execution_id('{fp:}:550e8400-e29b-41d4-a716-446655440000');
SELECT ff_canonical_execution_id('{fp:+}:550e8400-e29b-41d4-a716-446655440000');
SELECT ff_canonical_execution_id('{fp:x}:550e8400-e29b-41d4-a716-446655440000');
SELECT ff_canonical_execution_id('{fp:-1}:550e8400-e29b-41d4-a716-446655440000');
SELECT ff_canonical_execution_id('{fp:8 6}:550e8400-e29b-41d4-a716-446655440000');
SELECT ff_canonical_execution_id('{fp:256}:550e8400-e29b-41d4-a716-446655440000');
SELECT ff_canonical_execution_id('{fp:65535}:550e8400-e29b-41d4-a716-446655440000');
SELECT ff_canonical_execution_id('{fp:65536}:550e8400-e29b-41d4-a716-446655440000');
SELECT ff_canonical_execution_id('{fp:99999999999999999999}:550e8400-e29b-41d4-a716-446655440000');
SELECT ff_canonical_execution_id('{FP:86}:550e8400-e29b-41d4-a716-446655440000');
SELECT ff_canonical_execution_id('{b:86}:550e8400-e29b-41d4-a716-446655440000');
SELECT ff_canonical_execution_id(' {fp:86}:550e8400-e29b-41d4-a716-446655440000');
SELECT ff_canonical_execution_id('{fp:86}:550e8400-e29b-41d4-a716-446655440000 ');
SELECT ff_canonical_execution_id('{fp:86}550e8400-e29b-41d4-a716-446655440000');
SELECT ff_canonical_execution_id('{fp:86} :550e8400-e29b-41d4-a716-446655440000');
SELECT ff_canonical_execution_id('{fp:86}:not-a-uuid');
SELECT ff_canonical_execution_id('{fp:86}:550e8400-e29b-41d4-a716-44665544000');
SELECT ff_canonical_execution_id('{fp:86}:550e8400-e29b-41d4-a716-4466554400000');
SELECT ff_canonical_execution_id('{fp:86}:550e8400-e29b-41d4-a716-44665544000g');
SELECT ff_canonical_execution_id('{fp:86}:550e8400e-29b-41d4-a716-446655440000');
SELECT ff_canonical_execution_id('{fp:86}:{550e8400-e29b-41d4-a716-446655440000');
SELECT ff_canonical_execution_id('{fp:86}:550e8400-e29b-41d4-a716-446655440000}');
SELECT ff_canonical_execution_id('{fp:86}:urn:uuid:550e8400');
SELECT ff_canonical_execution_id('{fp:86}:550e8400-e29b-41d4-a716-446655440000:extra');
SELECT ff_canonical_execution_id(E'{fp:86}:550e8400-e29b-41d4-a716-44665544000\n');
-- the same parser behind every id-taking function
SELECT ff_execution_partition('{fp:256}:550e8400-e29b-41d4-a716-446655440000');
SELECT * FROM ff_split_execution_id('nope');
SELECT ff_read_execution_state('nope');
SELECT * FROM ff_read_execution_info('{fp:1}:nope');
SELECT * FROM ff_describe_execution('{fp:300}:550e8400-e29b-41d4-a716-446655440000');
SELECT ff_get_execution_result('bad');
SELECT * FROM ff_read_execution_context('bad');
SELECT ff_read_current_attempt_index('bad');
SELECT ff_read_total_attempt_count('bad');
SELECT ff_get_execution_namespace('bad');
SELECT ff_get_execution_tag('bad', 'app.owner');
SELECT ff_set_execution_tag('bad', 'app.owner', 'x');
SELECT * FROM ff_create_execution('bad-lane', execution_id => 'bad');
SELECT * FROM ff_create_execution('bad-lane', execution_id => '');
SELECT * FROM ff_create_execution('bad-lane', execution_id => '{fp:86}:550e8400');
-- list cursors and partition keys
SELECT * FROM ff_list_executions('{fp:86}', cursor => 'bad');
SELECT * FROM ff_list_executions('fp:86');
SELECT * FROM ff_list_executions('{fp:}');
SELECT * FROM ff_list_executions('{fp:256}');
SELECT * FROM ff_list_executions('{fp:-1}');
SELECT * FROM ff_list_executions('{b:1}');
SELECT * FROM ff_list_executions('{fp:1');
SELECT ff_parse_partition_key('{fp:1x}');

--
-- Malformed handles: YFV25 (corruption); handles of other backends: YFV26.
--
SELECT ff_renew('\x'::bytea);
SELECT ff_renew('\x02'::bytea);
SELECT ff_renew('\x0201'::bytea);
SELECT ff_renew('\x020102'::bytea);
SELECT ff_renew('\x07'::bytea);
SELECT ff_renew('\x07'::bytea || bi_fields());
SELECT ff_renew('\x00'::bytea || bi_fields());
SELECT ff_renew('\xff0102'::bytea || bi_fields());
-- v2 with a bad wire version
SELECT ff_renew('\x020002'::bytea || bi_fields());
SELECT ff_renew('\x020202'::bytea || bi_fields());
-- v2 with a bad backend tag
SELECT ff_renew('\x020109'::bytea || bi_fields());
SELECT ff_renew('\x020100'::bytea || bi_fields());
SELECT ff_renew('\x020104'::bytea || bi_fields());
-- truncated: in the middle of a length prefix, of a string, of the u64s
SELECT ff_renew('\x020102'::bytea || '\x2c00'::bytea);
SELECT ff_renew(substr('\x020102'::bytea || bi_fields(), 1, 20));
SELECT ff_renew(substr('\x020102'::bytea || bi_fields(), 1, 130));
SELECT ff_renew(substr('\x020102'::bytea || bi_fields(), 1, 173));
-- a length prefix pointing past the end
SELECT ff_renew('\x020102'::bytea || bi_fields(wiid => bi_u32(9) || 'worker-1'::bytea));
SELECT ff_renew('\x020102'::bytea || bi_fields(eid => bi_u32(4294967295)));
-- one trailing byte, and many
SELECT ff_renew('\x020102'::bytea || bi_fields() || '\x00'::bytea);
SELECT ff_renew('\x020102'::bytea || bi_fields() || bi_fields());
-- a string field that is not UTF-8, or holds a NUL
SELECT ff_renew('\x020102'::bytea || bi_fields(lane => bi_str('\xff'::bytea)));
SELECT ff_renew('\x020102'::bytea || bi_fields(wiid => bi_str('\xc3'::bytea)));
SELECT ff_renew('\x020102'::bytea || bi_fields(eid => bi_str('\x7b66703a38367d3aff'::bytea)));
SELECT ff_renew('\x020102'::bytea || bi_fields(lane => bi_str('\x6100'::bytea)));
-- fields that do not parse: execution id, attempt id, lease id
SELECT ff_renew('\x020102'::bytea || bi_fields(eid => bi_str('not-an-id')));
SELECT ff_renew('\x020102'::bytea || bi_fields(eid => bi_str('')));
SELECT ff_renew('\x020102'::bytea || bi_fields(aid => bi_str('not-a-uuid')));
SELECT ff_renew('\x020102'::bytea || bi_fields(lid => bi_str('')));
-- numbers out of the engine's range: attempt index > int4, epoch / ttl > int8
SELECT ff_renew('\x020102'::bytea || bi_fields(att => bi_u32(4294967295)));
SELECT ff_renew('\x020102'::bytea || bi_fields(epoch => bi_u32(0) || bi_u32(4294967295)));
SELECT ff_renew('\x020102'::bytea || bi_fields(ttl => bi_u32(0) || bi_u32(2147483648)));
-- well-formed handles of other backends: valkey / sqlite tag, legacy v1
SELECT ff_renew('\x020101'::bytea || bi_fields());
SELECT ff_renew('\x020103'::bytea || bi_fields());
SELECT ff_renew('\x01'::bytea || bi_fields());
SELECT ff_renew(ff_handle_encode((SELECT execution_id FROM bad_h), 0,
       '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002',
       1, 30000, 'bad-lane', 'bad-worker-1', 'valkey'));
-- the same decoding in front of every handle operation
SELECT ff_progress('\x'::bytea, 10);
SELECT ff_complete('\x07'::bytea);
SELECT ff_fail('\x020109'::bytea || bi_fields(), 'm');
SELECT ff_cancel('\x020102'::bytea || bi_fields() || '\x00'::bytea, 'r');
SELECT ff_delay('\x0201'::bytea, 0);
SELECT ff_progress('\x01'::bytea || bi_fields(), 10);
SELECT ff_complete('\x020101'::bytea || bi_fields());
SELECT ff_fail('\x020103'::bytea || bi_fields(), 'm');
SELECT ff_cancel('\x01'::bytea || bi_fields(), 'r');
SELECT ff_delay('\x020101'::bytea || bi_fields(), 0);
SELECT * FROM ff_handle_describe('\x'::bytea);
SELECT * FROM ff_handle_describe('\x020109'::bytea || bi_fields());
SELECT * FROM ff_handle_describe('\x020102'::bytea || bi_fields() || '\x00'::bytea);
-- well-formed postgres handles naming a missing execution (YFN01) or a
-- missing attempt of an existing one (YFN03)
SELECT ff_renew(ff_handle_encode('{fp:86}:00000000-0000-4000-8000-0000000000ff', 0,
       '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002',
       1, 30000, 'bad-lane', 'bad-worker-1'));
SELECT ff_complete(ff_handle_encode('{fp:87}:00000000-0000-4000-8000-000000000021', 0,
       '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002',
       1, 30000, 'bad-lane', 'bad-worker-1'));
SELECT ff_renew(ff_handle_encode((SELECT execution_id FROM bad_h), 5,
       '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002',
       1, 30000, 'bad-lane', 'bad-worker-1'));
SELECT ff_fail(ff_handle_encode((SELECT execution_id FROM bad_h), 1,
       '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002',
       1, 30000, 'bad-lane', 'bad-worker-1'), 'm');
-- ff_handle_encode's own argument checks
SELECT ff_handle_encode('{fp:86}:550e8400-e29b-41d4-a716-446655440000', 3,
       '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002',
       7, 30000, 'default', 'worker-1', 'redis');
SELECT ff_handle_encode('{fp:86}:550e8400-e29b-41d4-a716-446655440000', -1,
       '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002',
       7, 30000, 'default', 'worker-1');
SELECT ff_handle_encode('{fp:86}:550e8400-e29b-41d4-a716-446655440000', 3,
       '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002',
       -7, 30000, 'default', 'worker-1');
SELECT ff_handle_encode('{fp:86}:550e8400-e29b-41d4-a716-446655440000', 3,
       '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002',
       7, -1, 'default', 'worker-1');

--
-- Policy JSON: YFV04 (routing capabilities: YFV03).
--
SELECT * FROM ff_create_execution('bad-lane', policy => '[]');
SELECT * FROM ff_create_execution('bad-lane', policy => '"retry"');
SELECT * FROM ff_create_execution('bad-lane', policy => '1');
SELECT * FROM ff_create_execution('bad-lane', policy => 'null');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"retry_policy": 5}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"retry_policy": []}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"retry_policy": {"max_retries": -1}}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"retry_policy": {"max_retries": 1.5}}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"retry_policy": {"max_retries": "3"}}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"retry_policy": {"max_retries": 3000000000}}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"retry_policy": {"backoff": 5}}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"retry_policy": {"backoff": {}}}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"retry_policy": {"backoff": {"type": "linear"}}}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"retry_policy": {"backoff": {"type": 1}}}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"retry_policy": {"backoff": {"type": "fixed", "delay_ms": -5}}}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"retry_policy": {"backoff": {"type": "fixed", "delay_ms": "5"}}}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"retry_policy": {"backoff": {"type": "exponential", "initial_delay_ms": 0.5}}}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"retry_policy": {"backoff": {"type": "exponential", "max_delay_ms": -1}}}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"retry_policy": {"backoff": {"type": "exponential", "multiplier": 0.5}}}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"retry_policy": {"backoff": {"type": "exponential", "multiplier": 1001}}}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"retry_policy": {"backoff": {"type": "exponential", "multiplier": "2"}}}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"retry_policy": {"retryable_categories": "transient"}}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"retry_policy": {"retryable_categories": [1]}}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"timeout_policy": []}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"timeout_policy": {"attempt_timeout_ms": -1}}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"timeout_policy": {"attempt_timeout_ms": "30s"}}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"timeout_policy": {"max_reclaim_count": -1}}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"max_reclaim_count": true}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"dedup_window_ms": "x"}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"dedup_window_ms": 1e300}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"delay_until": -1}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"routing_requirements": 1}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"routing_requirements": {"required_capabilities": "gpu"}}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"routing_requirements": {"required_capabilities": [1]}}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"routing_requirements": {"required_capabilities": ["a,b"]}}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"routing_requirements": {"required_capabilities": [""]}}');
SELECT * FROM ff_create_execution('bad-lane', policy => '{"routing_requirements": {"required_capabilities": ["has space"]}}');
-- not JSON at all: plain PostgreSQL
SELECT * FROM ff_create_execution('bad-lane', policy => '{"retry_policy":');

--
-- Lanes: YFV01.
--
SELECT * FROM ff_create_execution(NULL);
SELECT * FROM ff_create_execution('');
SELECT * FROM ff_create_execution(repeat('x', 65));
SELECT * FROM ff_create_execution(repeat('é', 33));
SELECT * FROM ff_create_execution(E'bad\nlane');
SELECT * FROM ff_create_execution(E'\tlane');
SELECT * FROM ff_create_execution(E'la\x7fne');
SELECT * FROM ff_create_execution('lané');
SELECT * FROM ff_create_execution(E'lane\x01');
SELECT * FROM ff_claim(repeat('x', 65), 'w', 'wi');
SELECT * FROM ff_claim(E'bad\nlane', 'w', 'wi');
SELECT * FROM ff_claim('', 'w', 'wi');
SELECT ff_new_execution_id(repeat('x', 65));
SELECT ff_new_execution_id(E'bad\nlane');
SELECT ff_new_execution_id(NULL);
SELECT ff_solo_partition(repeat('x', 65));
SELECT ff_solo_partition('');
SELECT ff_check_lane_id(NULL);
SELECT ff_check_lane_id(E'lane\x7f');

--
-- NULL (and empty) required arguments: YFV01.
--
SELECT * FROM ff_claim(NULL, 'w', 'wi');
SELECT * FROM ff_claim('bad-lane', NULL, 'wi');
SELECT * FROM ff_claim('bad-lane', 'w', NULL);
SELECT * FROM ff_claim('bad-lane', '', 'wi');
SELECT * FROM ff_claim('bad-lane', 'w', '');
SELECT ff_renew(NULL);
SELECT ff_progress(NULL, 10);
SELECT ff_complete(NULL);
SELECT ff_fail(NULL, 'm');
SELECT ff_cancel(NULL, 'r');
SELECT ff_delay(NULL, 0);
SELECT ff_fail(handle, NULL) FROM bad_h;
SELECT ff_fail(handle, '') FROM bad_h;
SELECT ff_delay(handle, NULL) FROM bad_h;
SELECT ff_set_execution_tag(execution_id, 'app.owner', NULL) FROM bad_h;
SELECT ff_new_flow_execution_id(NULL);
SELECT ff_check_tag_key(NULL);

--
-- Other out-of-range arguments: YFV01.
--
SELECT ff_fail(handle, 'm', 'weird') FROM bad_h;
SELECT ff_fail(handle, 'm', '') FROM bad_h;
SELECT ff_fail(handle, 'm', 'Transient') FROM bad_h;
SELECT ff_progress(handle, 101) FROM bad_h;
SELECT ff_progress(handle, -1) FROM bad_h;
SELECT * FROM ff_claim('bad-lane', 'w', 'wi', lease_ttl_ms => 0);
SELECT * FROM ff_claim('bad-lane', 'w', 'wi', lease_ttl_ms => -1);
SELECT * FROM ff_claim('bad-lane', 'w', 'wi', lease_ttl_ms => 7 * 24 * 3600 * 1000 + 1);
SELECT * FROM ff_claim('bad-lane', 'w', 'wi', max_claims => 0);
SELECT * FROM ff_claim('bad-lane', 'w', 'wi', max_claims => -5);
SELECT * FROM ff_claim('bad-lane', 'w', 'wi', max_claims => 1001);
SELECT ff_reconcile_lease_expiry(0);
SELECT ff_reconcile_lease_expiry(100001);
SELECT ff_reconcile_attempt_timeout(0);
SELECT ff_reconcile_delayed_promotion(-1);
SELECT ff_reconcile_execution_deadline(100001);
SELECT * FROM ff_completion_events(0, 0);
SELECT * FROM ff_completion_events(0, 10001);
SELECT * FROM ff_lease_events(0, 0);
SELECT * FROM ff_lease_events(0, -1);

--
-- Tags: bad keys YFV23, bad shapes YFV01.
--
SELECT * FROM ff_create_execution('bad-lane', tags => '{"Owner": "x"}');
SELECT * FROM ff_create_execution('bad-lane', tags => '{"owner": "x"}');
SELECT * FROM ff_create_execution('bad-lane', tags => '{"app.": "x"}');
SELECT * FROM ff_create_execution('bad-lane', tags => '{".owner": "x"}');
SELECT * FROM ff_create_execution('bad-lane', tags => '{"1app.owner": "x"}');
SELECT * FROM ff_create_execution('bad-lane', tags => '{"app.Owner": "x"}');
SELECT * FROM ff_create_execution('bad-lane', tags => '{"app-x.owner": "x"}');
SELECT * FROM ff_create_execution('bad-lane', tags => '{"": "x"}');
SELECT * FROM ff_create_execution('bad-lane', tags => '{"app.owner": 1}');
SELECT * FROM ff_create_execution('bad-lane', tags => '{"app.owner": null}');
SELECT * FROM ff_create_execution('bad-lane', tags => '{"app.owner": {"a": "b"}}');
SELECT * FROM ff_create_execution('bad-lane', tags => '[]');
SELECT * FROM ff_create_execution('bad-lane', tags => '"x"');
SELECT * FROM ff_create_execution('bad-lane', idempotency_key => 'bad-key-2', tags => '{"x": "y"}');
SELECT * FROM ff_create_execution('bad-lane', idempotency_key => 'bad-key-1', policy => '[]');
SELECT ff_set_execution_tag(execution_id, 'Bad', 'x') FROM bad_h;
SELECT ff_set_execution_tag(execution_id, 'app.', 'x') FROM bad_h;
SELECT ff_set_execution_tag('{fp:86}:00000000-0000-4000-8000-0000000000ff', 'app.owner', 'x');
SELECT ff_get_execution_tag(execution_id, 'nodot') FROM bad_h;
SELECT ff_check_tag_key('app.owner!');

--
-- Capabilities: YFV03.
--
SELECT * FROM ff_create_execution('bad-lane', required_capabilities => ARRAY['']);
SELECT * FROM ff_create_execution('bad-lane', required_capabilities => ARRAY['a,b']);
SELECT * FROM ff_create_execution('bad-lane', required_capabilities => ARRAY['has space']);
SELECT * FROM ff_create_execution('bad-lane', required_capabilities => ARRAY[E'tab\there']);
SELECT * FROM ff_create_execution('bad-lane', required_capabilities => ARRAY[E'nl\n']);
SELECT * FROM ff_create_execution('bad-lane', required_capabilities => ARRAY[E'del\x7f']);
SELECT * FROM ff_create_execution('bad-lane', required_capabilities => ARRAY['ok', NULL]);
SELECT * FROM ff_create_execution('bad-lane', required_capabilities => ARRAY[['a', 'b'], ['c', 'd']]);
SELECT * FROM ff_create_execution('bad-lane',
       required_capabilities => (SELECT array_agg('c' || g) FROM generate_series(1, 257) g));
SELECT * FROM ff_create_execution('bad-lane', required_capabilities => ARRAY[repeat('x', 4097)]);
SELECT * FROM ff_create_execution('bad-lane',
       required_capabilities => ARRAY[repeat('x', 2048), repeat('y', 2048)]);
SELECT * FROM ff_create_execution('bad-lane', required_capabilities => ARRAY['gpu'],
       policy => '{"routing_requirements": {"required_capabilities": ["x y"]}}');
SELECT * FROM ff_claim('bad-lane', 'w', 'wi', capabilities => ARRAY['']);
SELECT * FROM ff_claim('bad-lane', 'w', 'wi', capabilities => ARRAY['a,b']);
SELECT * FROM ff_claim('bad-lane', 'w', 'wi', capabilities => ARRAY['a b']);
SELECT * FROM ff_claim('bad-lane', 'w', 'wi', capabilities => ARRAY[NULL]::text[]);
SELECT * FROM ff_claim('bad-lane', 'w', 'wi', capabilities => ARRAY[['a'], ['b']]);
SELECT * FROM ff_claim('bad-lane', 'w', 'wi',
       capabilities => (SELECT array_agg('c' || g) FROM generate_series(1, 257) g));

--
-- Payload limits: YFV05 for input, result and failure detail.
--
SET flowfabric.max_payload_bytes = 10;
SELECT * FROM ff_create_execution('bad-lane', '12345678901'::bytea);
SELECT ff_complete(handle, '12345678901'::bytea) FROM bad_h;
SELECT ff_fail(handle, 'm', 'transient', '12345678901'::bytea) FROM bad_h;
SET flowfabric.max_payload_bytes = 0;
SELECT * FROM ff_create_execution('bad-lane', '1'::bytea);
RESET flowfabric.max_payload_bytes;
SHOW flowfabric.max_payload_bytes;

--
-- Wrong types: plain PostgreSQL errors before the engine runs.
--
SELECT * FROM ff_create_execution('bad-lane', priority => 'x');
SELECT * FROM ff_create_execution('bad-lane', priority => '99999999999');
SELECT * FROM ff_create_execution('bad-lane', delay_until => 'soon');
SELECT * FROM ff_create_execution('bad-lane', required_capabilities => 'gpu');
SELECT * FROM ff_create_execution('bad-lane', tags => '{bad');
SELECT * FROM ff_claim('bad-lane', 'w', 'wi', lease_ttl_ms => 'long');
SELECT * FROM ff_claim('bad-lane', 'w', 'wi', max_claims => '3000000000');
SELECT ff_renew('\xzz');
SELECT ff_new_flow_execution_id('not-a-uuid');

\set VERBOSITY default

--
-- Nothing above left a row behind or changed the live execution.
--
SELECT b.executions = (SELECT count(*) FROM ff_execution) AS executions_same,
       b.attempts = (SELECT count(*) FROM ff_attempt) AS attempts_same,
       b.lease_events = (SELECT count(*) FROM ff_lease_event) AS lease_events_same,
       b.completion_events = (SELECT count(*) FROM ff_completion_event) AS completion_events_same,
       b.idempotency_keys = (SELECT count(*) FROM ff_idempotency_key) AS idempotency_keys_same,
       b.lanes = (SELECT count(*) FROM ff_lane) AS lanes_same,
       b.live_row = (SELECT row(e.*)::text FROM ff_execution e
                      WHERE execution_id = '00000000-0000-4000-8000-000000000021') AS live_row_same,
       b.live_attempt = (SELECT row(a.*)::text FROM ff_attempt a
                          WHERE execution_id = '00000000-0000-4000-8000-000000000021') AS live_attempt_same
  FROM bad_counts_before b;
SELECT count(*) AS bad_lane_executions FROM ff_execution WHERE lane_id = 'bad-lane';
SELECT ff_read_execution_state(execution_id) FROM bad_h;

--
-- Lenient forms that are accepted (for contrast with the rejections above).
--
SELECT ff_canonical_execution_id('{fp:086}:550E8400-E29B-41D4-A716-446655440000') AS leading_zero_upper,
       ff_canonical_execution_id('{fp:+86}:550e8400e29b41d4a716446655440000') AS plus_simple,
       ff_canonical_execution_id('{fp:0}:{550e8400-e29b-41d4-a716-446655440000}') AS braced,
       ff_canonical_execution_id('{fp:255}:urn:uuid:550e8400-e29b-41d4-a716-446655440000') AS urn;
SELECT ff_solo_partition(repeat('x', 64)) IS NOT NULL AS lane_64_bytes_ok,
       ff_check_lane_id(' spaced lane ~') AS printable_ok;
-- Unknown policy keys are kept, a JSON null counts as absent, priority is
-- clamped to 0..9000.
SELECT execution_id, created FROM ff_create_execution('bad-lane',
       execution_id => '{fp:86}:00000000-0000-4000-8000-000000000022',
       priority => 100000, policy => '{"future_key": {"anything": [1, 2]}, "retry_policy": null}');
SELECT priority, policy FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000022';
SELECT execution_id, created FROM ff_create_execution('bad-lane',
       execution_id => '{fp:86}:00000000-0000-4000-8000-000000000023', priority => -5);
SELECT priority FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000000023';
-- A NULL cancel reason is allowed; a NULL classification means transient
-- (terminal here: no retry policy).
SELECT ff_cancel(handle, NULL) FROM ff_claim('bad-lane', 'bad-worker', 'bad-worker-1');
SELECT f.outcome FROM bad_h, ff_fail(handle, 'm', NULL) f;
SELECT right(execution_id::text, 2) AS x, public_state, cancellation_reason, cancelled_by,
       last_failure_category
  FROM ff_execution WHERE lane_id = 'bad-lane' ORDER BY execution_id;

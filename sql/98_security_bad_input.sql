--
-- 98_security_bad_input: hostile input on EVERY function of the extension
-- (docs/security.md), table-driven, in three parts.
--
-- 1. Curated cases (the parsers: execution ids, partition keys, handles,
--    policies, resume conditions, waitpoint lists, tags, capabilities, kids,
--    secrets, tokens, stream cursors and merge patches, edge-group policies,
--    lanes, ranges, batches): each runs as its own autocommitted statement
--    (\gexec) and prints its documented SQLSTATE; afterwards a fingerprint of
--    every engine table must equal the one taken before: no bad call left
--    anything behind.
-- 2. Every function with NULL for each argument, and with a wrong-typed
--    argument: the SQLSTATE documented here for each function (a function
--    added later without an entry is still held to the rules of part 3).
-- 3. Every argument of every function, one at a time, replaced by hostile
--    values of its type (SQL-injection-shaped, format-string-shaped, control
--    characters, empty, oversized, extreme numbers, nil / max uuids, NULL
--    array elements, 2-D arrays, deep or wrong-shaped JSON) while the other
--    required arguments are valid: the call must either work or fail with a
--    clear SQLSTATE of the engine (class YF) or of PostgreSQL's data
--    exceptions (22) or program limits (54000); never an internal error (XX),
--    a syntax or undefined-object error (42: injection), a constraint
--    violation (23: a check the engine forgot), an unclassified RAISE (P0001)
--    or a lost connection (the run would stop). Each such call runs in a
--    subtransaction that is rolled back, so the fixtures stay put.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS flowfabric;
RESET client_min_messages;

-- Fixtures: a claimed execution with a long lease, a flow with two members
-- and an edge, a signing key.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM ff_list_waitpoint_hmac_kids()) THEN
        PERFORM ff_seed_waitpoint_hmac_secret('bi98kid', repeat('ab', 32));
    END IF;
END $$;
SELECT created FROM ff_create_execution('bi98-lane', '\x01'::bytea,
       execution_id => '{fp:98}:00000000-0000-4000-8000-000000009801');
CREATE TABLE bi98_fix (k text PRIMARY KEY, b bytea, v text);
INSERT INTO bi98_fix (k, b) SELECT 'h1', handle FROM ff_claim('bi98-lane', 'w', 'w/1', lease_ttl_ms => 604800000);
SELECT outcome FROM ff_create_flow('00000000-0000-4000-8000-0000000098f0');
INSERT INTO bi98_fix (k, v) VALUES
    ('up', ff_new_flow_execution_id('00000000-0000-4000-8000-0000000098f0', '00000000-0000-4000-8000-0000000098a1')),
    ('down', ff_new_flow_execution_id('00000000-0000-4000-8000-0000000098f0', '00000000-0000-4000-8000-0000000098a2'));
SELECT count(*) FROM bi98_fix f, ff_create_execution('bi98-flow', execution_id => f.v) WHERE f.k IN ('up', 'down');
SELECT count(*) FROM bi98_fix f, ff_add_execution_to_flow('00000000-0000-4000-8000-0000000098f0', f.v)
 WHERE f.k IN ('up', 'down');
SELECT new_graph_revision FROM ff_stage_dependency_edge('00000000-0000-4000-8000-0000000098f0',
       '00000000-0000-4000-8000-0000000098e1', (SELECT v FROM bi98_fix WHERE k = 'up'),
       (SELECT v FROM bi98_fix WHERE k = 'down'),
       (SELECT graph_revision FROM ff_describe_flow('00000000-0000-4000-8000-0000000098f0')));

-- A fingerprint of every engine table's contents.
CREATE FUNCTION bi98_fingerprint() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    t regclass;
    part text;
    acc text := '';
BEGIN
    FOR t IN SELECT c.oid::regclass FROM pg_class c
               JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
               JOIN pg_extension x ON x.oid = d.refobjid AND x.extname = 'flowfabric'
              WHERE c.relkind = 'r' ORDER BY c.relname
    LOOP
        EXECUTE format('SELECT count(*) || md5(coalesce(string_agg(x::text, ''|'' ORDER BY x::text), '''')) FROM %s x', t)
           INTO part;
        acc := acc || t || part;
    END LOOP;
    RETURN md5(acc);
END $$;
CREATE TABLE bi98_before AS SELECT bi98_fingerprint() AS fp;

------------------------------------------------------------------------------
-- 1. Curated cases, each its own autocommitted statement.
------------------------------------------------------------------------------
CREATE TABLE bi98_curated (id serial, call text);
INSERT INTO bi98_curated (call) VALUES
-- execution ids and partition keys (YFV01)
($$SELECT ff_canonical_execution_id('{fp:98}:00000000-0000-4000-8000-00000000980')$$),
($$SELECT ff_canonical_execution_id('{fp:98}:00000000-0000-4000-8000-0000000098011')$$),
($$SELECT ff_canonical_execution_id('{fp:98}:00000000-0000-4000-8000-00000000980g')$$),
($$SELECT ff_canonical_execution_id('{fp:98}:00000000-0000-4000-8000-000000009801 ')$$),
($$SELECT ff_canonical_execution_id(' {fp:98}:00000000-0000-4000-8000-000000009801')$$),
($$SELECT ff_canonical_execution_id('{fp:98}:00000000-0000-4000-8000-000000009801'';--')$$),
($$SELECT ff_canonical_execution_id(repeat('{fp:1}:', 100000))$$),
($$SELECT ff_parse_partition_key('{fp:98')$$),
($$SELECT ff_parse_partition_key('{fp:98}x')$$),
($$SELECT ff_parse_partition_key('{fp:-0}')$$),
($$SELECT ff_parse_partition_key('{fp:0x10}')$$),
($$SELECT * FROM ff_list_executions('{fp:256}')$$),
($$SELECT * FROM ff_describe_execution('{fp:98}:not-a-uuid')$$),
-- handles (YFV25 malformed, YFV26 other backend, YFV01 NULL)
($$SELECT ff_renew('\x'::bytea)$$),
($$SELECT ff_renew('\x02'::bytea)$$),
($$SELECT ff_renew('\x0201'::bytea)$$),
($$SELECT ff_renew('\x020102ffffffff'::bytea)$$),
($$SELECT ff_renew('\x0201020400000041424344'::bytea)$$),
($$SELECT ff_renew('\x010102'::bytea || substr((SELECT b FROM bi98_fix WHERE k = 'h1'), 4))$$),
($$SELECT ff_renew(substr((SELECT b FROM bi98_fix WHERE k = 'h1'), 1, 40))$$),
($$SELECT ff_renew((SELECT b FROM bi98_fix WHERE k = 'h1') || '\x00'::bytea)$$),
($$SELECT ff_complete(decode(repeat('ff', 4096), 'hex'))$$),
($$SELECT * FROM ff_handle_describe('\x0201020000008000'::bytea)$$),
($$SELECT * FROM ff_append_frame('\xdeadbeef'::bytea, 'f', '\x01')$$),
($$SELECT * FROM ff_suspend('\xdeadbeef'::bytea, '["wpk:a"]')$$),
-- policies (YFV04) and capabilities (YFV03)
($$SELECT * FROM ff_create_execution('bi98-bad', policy => '[]')$$),
($$SELECT * FROM ff_create_execution('bi98-bad', policy => '{"retry_policy": {"max_retries": -1}}')$$),
($$SELECT * FROM ff_create_execution('bi98-bad', policy => '{"retry_policy": {"max_retries": 1e400}}')$$),
($$SELECT * FROM ff_create_execution('bi98-bad', policy => '{"retry_policy": {"backoff": {"type": "fixed", "delay_ms": "1"}}}')$$),
($$SELECT * FROM ff_create_execution('bi98-bad', policy => '{"retry_policy": {"backoff": {"type": "exponential", "multiplier": -2}}}')$$),
($$SELECT * FROM ff_create_execution('bi98-bad', policy => '{"timeout_policy": {"attempt_timeout_ms": 1.5}}')$$),
($$SELECT * FROM ff_create_execution('bi98-bad', policy => '{"routing_requirements": {"required_capabilities": [1]}}')$$),
($$SELECT * FROM ff_create_execution('bi98-bad', policy => ('{"retry_policy": {"max_retries": ' || repeat('[', 5000) || repeat(']', 5000) || '}}')::jsonb)$$),
($$SELECT * FROM ff_create_execution('bi98-bad', required_capabilities => '{"a,b"}')$$),
($$SELECT * FROM ff_create_execution('bi98-bad', required_capabilities => '{"a b"}')$$),
($$SELECT * FROM ff_create_execution('bi98-bad', required_capabilities => '{NULL}')$$),
($$SELECT * FROM ff_create_execution('bi98-bad', required_capabilities => '{{a},{b}}')$$),
($$SELECT * FROM ff_create_execution('bi98-bad', required_capabilities => array_fill('x'::text, ARRAY[257]))$$),
($$SELECT * FROM ff_claim('bi98-lane', 'w', 'w/1', capabilities => ARRAY[E'a\x01'])$$),
-- lanes, tags, ranges (YFV01, YFV23)
($$SELECT * FROM ff_create_execution(repeat('l', 65))$$),
($$SELECT * FROM ff_create_execution(E'lane\n')$$),
($$SELECT * FROM ff_create_execution('')$$),
($$SELECT * FROM ff_create_execution('bi98-bad', tags => '{"A.b": "x"}')$$),
($$SELECT * FROM ff_create_execution('bi98-bad', tags => '{"a.b": 1}')$$),
($$SELECT * FROM ff_create_execution('bi98-bad', tags => '["a.b"]')$$),
($$SELECT ff_set_execution_tag('{fp:98}:00000000-0000-4000-8000-000000009801', 'a.b''; DROP TABLE ff_execution; --', 'x')$$),
($$SELECT * FROM ff_claim('bi98-lane', 'w', 'w/1', lease_ttl_ms => 0)$$),
($$SELECT * FROM ff_claim('bi98-lane', 'w', 'w/1', max_claims => 1001)$$),
($$SELECT ff_progress((SELECT b FROM bi98_fix WHERE k = 'h1'), 101)$$),
($$SELECT * FROM ff_fail((SELECT b FROM bi98_fix WHERE k = 'h1'), '')$$),
($$SELECT * FROM ff_fail((SELECT b FROM bi98_fix WHERE k = 'h1'), 'x', 'transient''; --')$$),
($$SELECT ff_reconcile_lease_expiry(0)$$),
($$SELECT ff_reconcile_dependencies(100001)$$),
($$SELECT * FROM ff_completion_events(0, 10001)$$),
-- resume conditions and waitpoint lists (YFV01, YFV07)
($$SELECT * FROM ff_suspend((SELECT b FROM bi98_fix WHERE k = 'h1'), '{}')$$),
($$SELECT * FROM ff_suspend((SELECT b FROM bi98_fix WHERE k = 'h1'), '[]')$$),
($$SELECT * FROM ff_suspend((SELECT b FROM bi98_fix WHERE k = 'h1'), '[""]')$$),
($$SELECT * FROM ff_suspend((SELECT b FROM bi98_fix WHERE k = 'h1'), jsonb_build_array(repeat('k', 257)))$$),
($$SELECT * FROM ff_suspend((SELECT b FROM bi98_fix WHERE k = 'h1'), '["wpk:a"]', '{"Single": {}}')$$),
($$SELECT * FROM ff_suspend((SELECT b FROM bi98_fix WHERE k = 'h1'), '["wpk:a"]', '{"Nope": {}}')$$),
($$SELECT * FROM ff_suspend((SELECT b FROM bi98_fix WHERE k = 'h1'), '["wpk:a"]', '{"Composite": {"kind": "Count", "n": 0, "count_kind": "DistinctSources", "waitpoints": ["wpk:a"]}}')$$),
($$SELECT * FROM ff_suspend((SELECT b FROM bi98_fix WHERE k = 'h1'), '["wpk:a"]', '{"Composite": {"kind": "Count", "n": 3, "count_kind": "DistinctWaitpoints", "waitpoints": ["wpk:a"]}}')$$),
($$SELECT * FROM ff_suspend((SELECT b FROM bi98_fix WHERE k = 'h1'), '["wpk:a"]', '{"Composite": {"kind": "Count", "n": 1000000, "count_kind": "DistinctSignals", "waitpoints": ["wpk:a"]}}')$$),
($$SELECT * FROM ff_suspend((SELECT b FROM bi98_fix WHERE k = 'h1'), '["wpk:a"]', '{"Composite": {"kind": "AllOf", "members": []}}')$$),
($$SELECT * FROM ff_suspend((SELECT b FROM bi98_fix WHERE k = 'h1'), '["wpk:a"]', '{"Composite": {"kind": "Count", "n": 1e400, "count_kind": "DistinctSignals", "waitpoints": ["wpk:a"]}}')$$),
($$SELECT * FROM ff_suspend((SELECT b FROM bi98_fix WHERE k = 'h1'), '["wpk:a"]', resume_policy => '{"resume_delay_ms": 1e400}')$$),
($$SELECT * FROM ff_suspend((SELECT b FROM bi98_fix WHERE k = 'h1'), '["wpk:a"]', '{"Single": {"waitpoint_key": "wpk:a", "matcher": {"ByName": ""}}}')$$),
($$SELECT * FROM ff_suspend((SELECT b FROM bi98_fix WHERE k = 'h1'), '["wpk:a"]', (repeat('{"Composite": {"kind": "AllOf", "members": [', 100) || '{"Single": {"waitpoint_key": "wpk:a"}}' || repeat(']}}', 100))::jsonb)$$),
($$SELECT * FROM ff_suspend((SELECT b FROM bi98_fix WHERE k = 'h1'), '["wpk:a"]', '{"Single": {"waitpoint_key": "wpk:zzz", "matcher": "AnySignal"}}')$$),
($$SELECT * FROM ff_suspend((SELECT b FROM bi98_fix WHERE k = 'h1'), '["wpk:a"]', timeout_behavior => 'explode')$$),
-- keystore, tokens, signals (YFV20, YFV21, YFV22, YFV08)
($$SELECT * FROM ff_seed_waitpoint_hmac_secret('a:b', repeat('ab', 32))$$),
($$SELECT * FROM ff_seed_waitpoint_hmac_secret('k', repeat('zz', 32))$$),
($$SELECT * FROM ff_seed_waitpoint_hmac_secret('k', repeat('ab', 31))$$),
($$SELECT * FROM ff_rotate_waitpoint_hmac_secret_all('k2', repeat('ab', 8))$$),
($$SELECT * FROM ff_rotate_waitpoint_hmac_secret_all('k2', repeat('ab', 32), -1)$$),
($$SELECT ff_waitpoint_token_sign('\x01', '', 'm')$$),
($$SELECT * FROM ff_deliver_signal('{fp:98}:00000000-0000-4000-8000-000000009801', '00000000-0000-4000-8000-0000000098aa', 'no-colon', 's')$$),
($$SELECT * FROM ff_deliver_signal('{fp:98}:00000000-0000-4000-8000-000000009801', '00000000-0000-4000-8000-0000000098aa', (SELECT kid FROM ff_list_waitpoint_hmac_kids() WHERE active) || ':' || repeat('0', 64), 's')$$),
-- streams (YFV24, YFV15, YFV10, merge patches YFV01)
($$SELECT * FROM ff_append_frame((SELECT b FROM bi98_fix WHERE k = 'h1'), 'bad type!', '\x01')$$),
($$SELECT * FROM ff_append_frame((SELECT b FROM bi98_fix WHERE k = 'h1'), 'f', decode(repeat('00', 65537), 'hex'))$$),
($$SELECT * FROM ff_append_frame((SELECT b FROM bi98_fix WHERE k = 'h1'), 'f', '\x01', 'sideways')$$),
($$SELECT * FROM ff_append_frame((SELECT b FROM bi98_fix WHERE k = 'h1'), 'f', convert_to('[1]', 'UTF8'), 'summary')$$),
($$SELECT * FROM ff_append_frame((SELECT b FROM bi98_fix WHERE k = 'h1'), 'f', convert_to('{"a": ', 'UTF8'), 'summary')$$),
($$SELECT * FROM ff_append_frame((SELECT b FROM bi98_fix WHERE k = 'h1'), 'f', '\xff00'::bytea, 'summary')$$),
($$SELECT * FROM ff_append_frame((SELECT b FROM bi98_fix WHERE k = 'h1'), 'f', convert_to(repeat('{"a":', 17) || '1' || repeat('}', 17), 'UTF8'), 'summary')$$),
($$SELECT * FROM ff_append_frame((SELECT b FROM bi98_fix WHERE k = 'h1'), 'f', '\x01', 'summary', patch_kind => 'json-patch')$$),
($$SELECT * FROM ff_append_frame((SELECT b FROM bi98_fix WHERE k = 'h1'), 'f', '\x01', 'best_effort', ema_alpha => 'NaN')$$),
($$SELECT * FROM ff_read_stream('{fp:98}:00000000-0000-4000-8000-000000009801', from_id => '1-2-3')$$),
($$SELECT * FROM ff_read_stream('{fp:98}:00000000-0000-4000-8000-000000009801', from_id => '-1')$$),
($$SELECT * FROM ff_tail_stream('{fp:98}:00000000-0000-4000-8000-000000009801', after_id => 'end')$$),
($$SELECT * FROM ff_tail_stream('{fp:98}:00000000-0000-4000-8000-000000009801', after_id => '99999999999999999999-0')$$),
-- flows (YFV01, YFK03, YFC10, YFS18)
($$SELECT * FROM ff_set_edge_group_policy('00000000-0000-4000-8000-0000000098f0', (SELECT v FROM bi98_fix WHERE k = 'down'), '{"kind": "quorum", "k": 0}')$$),
($$SELECT * FROM ff_set_edge_group_policy('00000000-0000-4000-8000-0000000098f0', (SELECT v FROM bi98_fix WHERE k = 'down'), '{"kind": "some"}')$$),
($$SELECT * FROM ff_stage_dependency_edge('00000000-0000-4000-8000-0000000098f0', gen_random_uuid(), (SELECT v FROM bi98_fix WHERE k = 'up'), (SELECT v FROM bi98_fix WHERE k = 'up'), 1)$$),
($$SELECT * FROM ff_stage_dependency_edge('00000000-0000-4000-8000-0000000098f0', gen_random_uuid(), (SELECT v FROM bi98_fix WHERE k = 'down'), (SELECT v FROM bi98_fix WHERE k = 'up'), -1)$$),
($$SELECT * FROM ff_stage_dependency_edge('00000000-0000-4000-8000-0000000098f0', gen_random_uuid(), (SELECT v FROM bi98_fix WHERE k = 'up'), '{fp:98}:00000000-0000-4000-8000-000000009801', (SELECT graph_revision FROM ff_describe_flow('00000000-0000-4000-8000-0000000098f0')))$$),
($$SELECT * FROM ff_cancel_flow('00000000-0000-4000-8000-0000000098f0', 'cancel_everything')$$),
($$SELECT * FROM ff_list_edges('00000000-0000-4000-8000-0000000098f0', 'sideways', (SELECT v FROM bi98_fix WHERE k = 'up'))$$),
-- operator and scheduler (YFV01, YFV14, YFV08)
($$SELECT * FROM ff_change_priority('{fp:98}:00000000-0000-4000-8000-000000009801', -1)$$),
($$SELECT * FROM ff_block_route('{fp:98}:00000000-0000-4000-8000-000000009801', 'because')$$),
($$SELECT * FROM ff_claim_execution('{fp:98}:00000000-0000-4000-8000-000000009801', 'pg:claim:forged', 'w', 'w/1')$$),
($$SELECT * FROM ff_register_worker('w', 'w/1', liveness_ttl_ms => -5)$$),
($$SELECT * FROM ff_list_workers(NULL)$$),
-- batches (YFV01; one bad element rejects the whole create)
($$SELECT * FROM ff_create_executions('bi98-bad', ARRAY['\x01', '\x02']::bytea[], execution_ids => ARRAY['{fp:1}:bad'])$$),
($$SELECT * FROM ff_create_executions('bi98-bad', ARRAY['\x01', '\x02']::bytea[], tags => ARRAY['{"A": "x"}', '{}']::jsonb[])$$),
($$SELECT * FROM ff_create_executions('bi98-bad', array_fill('\x01'::bytea, ARRAY[10001]))$$),
($$SELECT * FROM ff_renew_many(array_fill('\x01'::bytea, ARRAY[10001]))$$),
($$SELECT * FROM ff_fail_many(ARRAY[(SELECT b FROM bi98_fix WHERE k = 'h1')], ARRAY['a', 'b'])$$);

\set VERBOSITY sqlstate
SELECT call FROM bi98_curated ORDER BY id \gexec
\set VERBOSITY default

-- Batches answer per element: refused handles are reported, nothing changes.
SELECT item, outcome, error_code FROM ff_renew_many(ARRAY['\x'::bytea, '\xdead'::bytea, NULL]);
SELECT item, outcome, error_code FROM ff_complete_many(ARRAY['\x0201'::bytea]);
SELECT item, outcome, error_code FROM ff_fail_many(ARRAY['\x0201'::bytea], ARRAY['m'], ARRAY['nope']);

SELECT bi98_fingerprint() = fp AS curated_calls_left_nothing_behind FROM bi98_before;

------------------------------------------------------------------------------
-- 2. and 3. Every function: NULL and wrong-typed arguments (documented
-- SQLSTATE per function), then hostile values per argument (the rules).
------------------------------------------------------------------------------
-- Valid values for the arguments the hostile calls do not replace, by name.
CREATE TABLE bi98_valid (name text PRIMARY KEY, val text);
INSERT INTO bi98_valid VALUES
 ('execution_id', $$'{fp:98}:00000000-0000-4000-8000-000000009801'$$),
 ('handle', $$(SELECT b FROM bi98_fix WHERE k = 'h1')$$),
 ('handles', $$ARRAY[(SELECT b FROM bi98_fix WHERE k = 'h1')]$$),
 ('lane_id', $$'bi98-lane'$$), ('lanes', $$'{bi98-lane}'::text[]$$),
 ('flow_id', $$'00000000-0000-4000-8000-0000000098f0'::uuid$$),
 ('upstream_execution_id', $$(SELECT v FROM bi98_fix WHERE k = 'up')$$),
 ('downstream_execution_id', $$(SELECT v FROM bi98_fix WHERE k = 'down')$$),
 ('edge_id', $$'00000000-0000-4000-8000-0000000098e1'::uuid$$),
 ('expected_graph_revision', $$0::bigint$$),
 ('worker_id', $$'w'$$), ('worker_instance_id', $$'w/1'$$),
 ('waitpoint_id', $$'00000000-0000-4000-8000-0000000098aa'::uuid$$),
 ('waitpoints', $$'["wpk:a"]'::jsonb$$), ('waitpoint_key', $$'wpk:a'$$), ('waitpoint_token', $$'bi98kid:00'$$),
 ('expires_in_ms', $$60000::bigint$$),
 ('signal_name', $$'s'$$), ('idempotency_suffix', $$'x'$$),
 ('key', $$'a.b'$$), ('value', $$'v'$$),
 ('kid', $$'bi98kid'$$), ('secret_hex', $$repeat('ab', 32)$$),
 ('new_kid', $$'bi98kid2'$$), ('new_secret_hex', $$repeat('cd', 32)$$),
 ('secret', $$'\x01'::bytea$$), ('message', $$'m'$$), ('token', $$'x:00'$$),
 ('data', $$'\x01'::bytea$$), ('frame_type', $$'f'$$), ('payload', $$'\x01'::bytea$$),
 ('input_payloads', $$ARRAY['\x01'::bytea]$$), ('messages', $$'{m}'::text[]$$),
 ('grant_key', $$'pg:claim:x'$$), ('new_priority', $$1$$), ('direction', $$'outgoing'$$),
 ('cancellation_policy', $$'cancel_all'$$), ('reason', $$'r'$$), ('delay_until', $$0::bigint$$),
 ('partition_key', $$'{fp:98}'$$),
 ('lifecycle_phase', $$'runnable'$$), ('ownership_state', $$'unowned'$$),
 ('eligibility_state', $$'eligible_now'$$), ('blocking_reason', $$'waiting_for_worker'$$),
 ('terminal_outcome', $$'none'$$), ('attempt_state', $$'pending_first_attempt'$$),
 ('public_state', $$'waiting'$$), ('attempt_type', $$'initial'$$), ('attempt_lifecycle', $$'started'$$),
 ('attempt_index', $$0$$), ('attempt_id', $$'00000000-0000-4000-8000-000000000001'$$),
 ('lease_id', $$'00000000-0000-4000-8000-000000000002'$$), ('lease_epoch', $$1::bigint$$),
 ('lease_ttl_ms', $$30000::bigint$$), ('policy', NULL), ('stored_state', $$'open'$$);

-- Hostile values per type.
CREATE TABLE bi98_hostile (type text, label text, val text);
INSERT INTO bi98_hostile VALUES
 ('text', 'sql injection', $$'x''); DROP TABLE ff_execution; --'$$),
 ('text', 'format string', $$'%s%s%n%x%1$s{fp:1}'$$),
 ('text', 'control characters', $$E'a\x01b\tc\nd\x7f'$$),
 ('text', 'unicode', $$'é𝔘' || chr(8238) || 'gnp.exe'$$),
 ('text', 'empty', $$''$$),
 ('text', 'oversized', $$repeat('x', 1048576)$$),
 ('bytea', 'garbage', $$'\xdeadbeef'::bytea$$),
 ('bytea', 'empty', $$'\x'::bytea$$),
 ('bytea', 'oversized', $$decode(repeat('ab', 1048576), 'hex')$$),
 ('uuid', 'nil', $$'00000000-0000-0000-0000-000000000000'::uuid$$),
 ('uuid', 'max', $$'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid$$),
 ('bigint', 'negative', $$-1::bigint$$),
 ('bigint', 'max', $$9223372036854775807::bigint$$),
 ('bigint', 'min', $$(-9223372036854775807 - 1)::bigint$$),
 ('integer', 'negative', $$-1$$),
 ('integer', 'max', $$2147483647$$),
 ('integer', 'min', $$(-2147483647 - 1)$$),
 ('smallint', 'out of range', $$(-1)::smallint$$),
 ('double precision', 'NaN', $$'NaN'::float8$$),
 ('double precision', 'infinity', $$'-Infinity'::float8$$),
 ('boolean', 'null', $$NULL::boolean$$),
 ('jsonb', 'array', $$'[1, 2]'::jsonb$$),
 ('jsonb', 'scalar', $$'"x"'::jsonb$$),
 ('jsonb', 'json null', $$'null'::jsonb$$),
 ('jsonb', 'deep', $$(repeat('[', 5000) || repeat(']', 5000))::jsonb$$),
 ('jsonb', 'wide', $$(SELECT jsonb_object_agg('k' || i, i) FROM generate_series(1, 20000) i)$$),
 ('jsonb', 'injection key', $$'{"a''); DROP TABLE ff_execution; --": "__ff_null__"}'::jsonb$$),
 ('text[]', 'null element', $$'{NULL}'::text[]$$),
 ('text[]', 'two dimensions', $$'{{a,b},{c,d}}'::text[]$$),
 ('text[]', 'oversized', $$array_fill('x'::text, ARRAY[10001])$$),
 ('text[]', 'hostile element', $$ARRAY['x''); DROP TABLE ff_execution; --']$$),
 ('bytea[]', 'null element', $$'{NULL}'::bytea[]$$),
 ('bytea[]', 'two dimensions', $$'{{"\\x01","\\x02"},{"\\x03","\\x04"}}'::bytea[]$$),
 ('bytea[]', 'empty', $$'{}'::bytea[]$$),
 ('integer[]', 'null element', $$'{NULL}'::integer[]$$),
 ('integer[]', 'extreme', $$'{-2147483648}'::integer[]$$),
 ('jsonb[]', 'null element', $$'{NULL}'::jsonb[]$$),
 ('jsonb[]', 'not objects', $$ARRAY['[1]'::jsonb]$$);

-- The documented outcome of each function with NULL for every argument:
-- a SQLSTATE, or 'ok' (strict functions return NULL, readers and listings
-- return nothing, a NULL batch_size / max_events / max_results / cursor is
-- the default).
CREATE TABLE bi98_null_expect (fn text PRIMARY KEY, expect text);
INSERT INTO bi98_null_expect VALUES
 ('ff_ack_cancel_member', 'YFV01'), ('ff_add_execution_to_flow', 'YFV01'), ('ff_append_frame', 'YFV01'),
 ('ff_apply_dependency_to_child', 'YFV01'), ('ff_attempt_state_valid', 'ok'), ('ff_block_route', 'YFV01'),
 ('ff_cancel', 'YFV01'), ('ff_cancel_execution', 'YFV01'), ('ff_cancel_flow', 'YFV01'),
 ('ff_cancel_flow_header', 'YFV01'), ('ff_canonical_execution_id', 'ok'), ('ff_capabilities', 'ok'),
 ('ff_change_priority', 'YFV01'), ('ff_check_invariants', 'ok'), ('ff_check_lane_id', 'YFV01'),
 ('ff_check_tag_key', 'YFV23'), ('ff_claim', 'YFV01'), ('ff_claim_execution', 'YFV01'),
 ('ff_claim_for_worker', 'YFV01'), ('ff_claim_from_resume_grant', 'YFV01'),
 ('ff_claim_resumed_execution', 'YFV01'), ('ff_close_waitpoint', 'YFV01'), ('ff_complete', 'YFV01'),
 ('ff_complete_many', 'YFV01'), ('ff_completion_events', 'ok'), ('ff_crc16', 'ok'),
 ('ff_create_execution', 'YFV01'), ('ff_create_executions', 'YFV01'), ('ff_create_flow', 'YFV01'),
 ('ff_create_waitpoint', 'YFV01'), ('ff_delay', 'YFV01'), ('ff_deliver_approval_signal', 'YFV01'),
 ('ff_deliver_signal', 'YFV01'), ('ff_derive_public_state', 'ok'), ('ff_describe_edge', 'ok'),
 ('ff_describe_execution', 'ok'), ('ff_describe_flow', 'ok'), ('ff_drain_lane', 'YFV01'),
 ('ff_edge_group_json', 'ok'), ('ff_evaluate_flow_eligibility', 'ok'), ('ff_execution_by_id', 'ok'),
 ('ff_execution_partition', 'ok'), ('ff_expire_suspension', 'YFV01'), ('ff_fail', 'YFV01'),
 ('ff_fail_many', 'YFV01'), ('ff_flow_edge_node', 'YFV01'), ('ff_flow_partition', 'ok'),
 ('ff_flow_summary_of', 'ok'), ('ff_format_execution_id', 'ok'), ('ff_get_execution_namespace', 'ok'),
 ('ff_get_execution_result', 'ok'), ('ff_get_execution_tag', 'YFV23'), ('ff_get_flow_tag', 'YFV23'),
 ('ff_handle_describe', 'ok'), ('ff_handle_encode', 'ok'), ('ff_heartbeat_worker', 'YFV01'),
 ('ff_issue_claim_grant', 'YFV01'), ('ff_issue_grant_and_claim', 'YFV01'),
 ('ff_issue_reclaim_grant', 'YFV01'), ('ff_lease_events', 'ok'), ('ff_list_edges', 'ok'),
 ('ff_list_executions', 'ok'), ('ff_list_expired_leases', 'ok'), ('ff_list_flows', 'ok'),
 ('ff_list_lanes', 'ok'), ('ff_list_pending_waitpoints', 'YFV01'), ('ff_list_suspended', 'ok'),
 ('ff_list_waitpoint_hmac_kids', 'ok'), ('ff_list_workers', 'YFV01'), ('ff_mark_worker_dead', 'YFV01'),
 ('ff_new_execution_id', 'YFV01'), ('ff_new_flow_execution_id', 'YFV01'), ('ff_observe_signals', 'YFV01'),
 ('ff_operator_events', 'ok'), ('ff_parse_partition_key', 'ok'), ('ff_pause_lane', 'YFV01'),
 ('ff_ping', 'ok'), ('ff_progress', 'YFV01'), ('ff_project_flow_summary', 'YFN02'),
 ('ff_read_current_attempt_index', 'ok'), ('ff_read_execution_context', 'ok'),
 ('ff_read_execution_info', 'ok'), ('ff_read_execution_state', 'ok'), ('ff_read_stream', 'YFV01'),
 ('ff_read_summary', 'YFV01'), ('ff_read_total_attempt_count', 'ok'), ('ff_read_waitpoint_token', 'ok'),
 ('ff_reclaim_execution', 'YFV01'), ('ff_reconcile_attempt_timeout', 'ok'),
 ('ff_reconcile_cancel_backlog', 'ok'), ('ff_reconcile_claim_grants', 'ok'),
 ('ff_reconcile_delayed_promotion', 'ok'), ('ff_reconcile_dependencies', 'ok'),
 ('ff_reconcile_execution_deadline', 'ok'), ('ff_reconcile_lease_expiry', 'ok'),
 ('ff_reconcile_pending_waitpoint_expiry', 'ok'), ('ff_reconcile_sibling_cancel', 'ok'),
 ('ff_reconcile_stream_retention', 'ok'), ('ff_reconcile_suspension_timeout', 'ok'),
 ('ff_reconcile_worker_expiry', 'ok'), ('ff_reconciler_stats', 'ok'), ('ff_register_worker', 'YFV01'),
 ('ff_renew', 'YFV01'), ('ff_renew_many', 'YFV01'), ('ff_replay_execution', 'YFV01'),
 ('ff_resolve_execution_flow_id', 'ok'), ('ff_resume_execution', 'YFV01'), ('ff_resume_lane', 'YFV01'),
 ('ff_revoke_lease', 'YFV01'), ('ff_rotate_waitpoint_hmac_secret_all', 'YFV20'),
 ('ff_scan_eligible_executions', 'YFV01'), ('ff_security_classification', 'ok'),
 ('ff_seed_waitpoint_hmac_secret', 'YFV20'), ('ff_server_time_ms', 'ok'), ('ff_set_edge_group_policy', 'YFV01'),
 ('ff_set_execution_tag', 'YFV01'), ('ff_set_flow_tag', 'YFV23'), ('ff_signal_events', 'ok'),
 ('ff_solo_partition', 'ok'), ('ff_split_execution_id', 'ok'), ('ff_stage_dependency_edge', 'YFV01'),
 ('ff_state_vector_valid', 'ok'), ('ff_stream_info', 'YFV01'), ('ff_suspend', 'YFV01'),
 ('ff_suspend_by_triple', 'YFV01'), ('ff_tail_stream', 'YFV01'), ('ff_unblock_execution', 'YFV01'),
 ('ff_wait_children', 'YFV01'), ('ff_waitpoint_token_check', 'ok'), ('ff_waitpoint_token_sign', 'ok'),
 -- budgets, quotas, admission (NULL ids: a new budget / policy is minted)
 ('ff_block_execution_for_admission', 'YFV01'), ('ff_budget_partition', 'ok'), ('ff_check_admission', 'YFV01'),
 ('ff_create_budget', 'ok'), ('ff_create_quota_policy', 'ok'), ('ff_get_budget_status', 'YFV01'),
 ('ff_read_admission', 'YFV01'), ('ff_read_budget_usage_and_limits', 'YFV01'),
 ('ff_read_quota_policy_limits', 'YFV01'), ('ff_reconcile_admission_cleanup', 'ok'),
 ('ff_reconcile_budget_counters', 'ok'), ('ff_reconcile_budget_executions', 'ok'),
 ('ff_reconcile_budget_reset', 'ok'), ('ff_reconcile_quota_counters', 'ok'), ('ff_reconcile_quota_unblock', 'ok'),
 ('ff_record_spend', 'YFV01'), ('ff_release_admission', 'YFV01'), ('ff_release_budget', 'YFV01'),
 ('ff_report_usage', 'YFV01'), ('ff_report_usage_admin', 'YFV01'), ('ff_reset_budget', 'YFV01'),
 ('ff_update_budget_limits', 'YFV01');

CREATE TABLE bi98_case (id serial PRIMARY KEY, fn text, arg text, label text, call text, expect text,
                        outcome text, message text);
-- All-NULL and wrong-type calls. NULLs are sub-selects: the planner folds a
-- strict function of constant NULLs away without calling it.
INSERT INTO bi98_case (fn, arg, label, call, expect)
SELECT p.proname, NULL, 'all NULL',
       format('SELECT * FROM %I(%s)', p.proname,
              coalesce((SELECT string_agg(format('(SELECT NULL::%s)', format_type(t, NULL)), ', ' ORDER BY o)
                          FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS u(t, o)), '')),
       coalesce(e.expect, 'rules')
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension x ON x.oid = d.refobjid AND x.extname = 'flowfabric'
  LEFT JOIN bi98_null_expect e ON e.fn = p.proname
 WHERE p.prorettype <> 'trigger'::regtype
UNION ALL
SELECT p.proname, NULL, 'wrong type', format('SELECT * FROM %I(point(1, 2))', p.proname), '42883'
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension x ON x.oid = d.refobjid AND x.extname = 'flowfabric'
 WHERE p.pronargs > 0 AND p.prorettype <> 'trigger'::regtype;
-- One hostile argument at a time; the other arguments without a default get
-- their valid value (or NULL when there is none), defaulted ones are omitted.
INSERT INTO bi98_case (fn, arg, label, call, expect)
SELECT p.proname, a.name, h.label,
       format('SELECT * FROM %I(%s)', p.proname,
              (SELECT string_agg(format('%I => %s', o.name,
                                        CASE WHEN o.name = a.name THEN h.val
                                             WHEN o.t = 'smallint'::regtype THEN '98::smallint'
                                             ELSE coalesce(v.val, format('(SELECT NULL::%s)', format_type(o.t, NULL))) END),
                                 ', ' ORDER BY o.pos)
                 FROM unnest(p.proargnames[1:p.pronargs], p.proargtypes::oid[]) WITH ORDINALITY AS o(name, t, pos)
                 LEFT JOIN bi98_valid v ON v.name = o.name
                WHERE o.name = a.name OR o.pos <= p.pronargs - p.pronargdefaults)),
       'rules'
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension x ON x.oid = d.refobjid AND x.extname = 'flowfabric'
 CROSS JOIN LATERAL unnest(p.proargnames[1:p.pronargs], p.proargtypes::oid[]) AS a(name, t)
  JOIN bi98_hostile h ON h.type = format_type(a.t, NULL)
 WHERE p.prorettype <> 'trigger'::regtype;

-- Run each case in a subtransaction that is always rolled back.
CREATE PROCEDURE bi98_run() LANGUAGE plpgsql AS $$
DECLARE
    c record;
    st text;
    msg text;
BEGIN
    FOR c IN SELECT id, call FROM bi98_case ORDER BY id LOOP
        BEGIN
            EXECUTE c.call;
            RAISE EXCEPTION USING ERRCODE = 'ZZ998', MESSAGE = 'ran';
        EXCEPTION WHEN OTHERS THEN
            st := CASE WHEN SQLSTATE = 'ZZ998' THEN 'ok' ELSE SQLSTATE END;
            msg := CASE WHEN SQLSTATE = 'ZZ998' THEN NULL ELSE left(SQLERRM, 200) END;
        END;
        UPDATE bi98_case SET outcome = st, message = msg WHERE id = c.id;
        COMMIT;
    END LOOP;
END $$;
SET client_min_messages = error;
CALL bi98_run();
RESET client_min_messages;

SELECT count(*) > 1500 AS many_cases, count(DISTINCT fn) > 120 AS every_function,
       count(*) FILTER (WHERE outcome IS NULL) AS not_run
  FROM bi98_case;
-- Part 2: the documented SQLSTATEs (no rows: all as documented).
SELECT fn, label, expect, outcome, message FROM bi98_case
 WHERE expect <> 'rules' AND outcome <> expect ORDER BY id;
-- Part 3: the rules (no rows: every hostile call worked or failed cleanly).
SELECT fn, arg, label, outcome, message FROM bi98_case
 WHERE expect = 'rules'
   AND NOT (outcome = 'ok' OR outcome LIKE 'YF%' OR outcome LIKE '22%' OR outcome = '54000')
 ORDER BY id;
-- Hostile values were seen by the engine, not just by PostgreSQL's parser:
-- most failures are the engine's own validation.
SELECT count(*) FILTER (WHERE outcome LIKE 'YF%') > count(*) FILTER (WHERE outcome LIKE '22%') AS engine_validates
  FROM bi98_case WHERE expect = 'rules';

SELECT bi98_fingerprint() = fp AS database_unchanged FROM bi98_before;
-- and the injection-shaped strings dropped nothing
SELECT count(*) AS tables_still_there FROM pg_class WHERE relname IN ('ff_execution', 'ff_attempt', 'ff_lane');

DROP PROCEDURE bi98_run();
DROP TABLE bi98_case, bi98_hostile, bi98_valid, bi98_null_expect, bi98_curated, bi98_before, bi98_fix;
DROP FUNCTION bi98_fingerprint();

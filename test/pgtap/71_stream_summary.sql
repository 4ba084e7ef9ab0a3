-- Streams, durable summaries: summary frames are RFC 7396 JSON merge patches
-- applied to the attempt's summary document (nested objects merge, null
-- deletes, arrays and scalars replace, "__ff_null__" sets JSON null, also
-- inside arrays), version +1 per patch; bad patches are rejected whole.
BEGIN;
SELECT plan(51);

CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;

-- one execution per scenario, claimed; patch(n, json) appends a summary frame
CREATE TEMP TABLE h (n integer PRIMARY KEY, handle bytea);
CREATE FUNCTION pg_temp.id(n integer) RETURNS text LANGUAGE sql AS $$
    SELECT format('{fp:71}:00000000-0000-4000-8000-%s', lpad(n::text, 12, '0'))
$$;
CREATE FUNCTION pg_temp.start(n integer) RETURNS void LANGUAGE sql AS $$
    SELECT ff_create_execution('tap71-' || n, execution_id => pg_temp.id(n));
    INSERT INTO h SELECT n, handle FROM ff_claim('tap71-' || n, 'w', 'wi', lease_ttl_ms => 3600000);
$$;
CREATE FUNCTION pg_temp.patch(n integer, p text) RETURNS bigint LANGUAGE sql AS $$
    SELECT summary_version FROM ff_append_frame((SELECT handle FROM h WHERE h.n = patch.n), 'summary',
                                                convert_to(p, 'UTF8'), 'summary')
$$;
CREATE FUNCTION pg_temp.doc(n integer) RETURNS jsonb LANGUAGE sql AS $$
    SELECT document FROM ff_read_summary(pg_temp.id(n))
$$;
CREATE FUNCTION pg_temp.ver(n integer) RETURNS bigint LANGUAGE sql AS $$
    SELECT version FROM ff_read_summary(pg_temp.id(n))
$$;

------------------------------------------------------------------------------
-- Upstream summary_three_deltas_merge
------------------------------------------------------------------------------
SELECT pg_temp.start(1);
SELECT is(pg_temp.patch(1, '{"a": 1}'), 1::bigint, 'first patch: summary_version 1');
SELECT is(pg_temp.patch(1, '{"b": 2}'), 2::bigint, 'second: 2');
SELECT is(pg_temp.patch(1, '{"a": 42, "c": {"x": "__ff_null__"}}'), 3::bigint, 'third: 3');
SELECT is(pg_temp.doc(1), '{"a": 42, "b": 2, "c": {"x": null}}'::jsonb,
          'merged: a replaced, b kept, c.x set to JSON null by the sentinel');
SELECT results_eq($$SELECT version, patch_kind, first_applied_ms <= last_updated_ms FROM ff_read_summary(pg_temp.id(1))$$,
                  $$VALUES (3::bigint, 'json-merge-patch'::text, true)$$,
                  'ff_read_summary: version 3, patch_kind json-merge-patch');
SELECT results_eq($$SELECT mode, summary_version, payload FROM ff_read_stream(pg_temp.id(1))$$,
                  $$VALUES ('summary'::text, 1::bigint, convert_to('{"a": 1}', 'UTF8')),
                           ('summary', 2, convert_to('{"b": 2}', 'UTF8')),
                           ('summary', 3, convert_to('{"a": 42, "c": {"x": "__ff_null__"}}', 'UTF8'))$$,
                  'each patch is also a frame of mode summary carrying the version it made');
SELECT is((SELECT summary_version FROM ff_stream_info(pg_temp.id(1))), 3::bigint, 'ff_stream_info shows the version');

------------------------------------------------------------------------------
-- Merge rules
------------------------------------------------------------------------------
SELECT pg_temp.start(2);
SELECT pg_temp.patch(2, '{"a": {"b": {"c": 1, "d": 2}, "e": 3}, "keep": true}');
SELECT pg_temp.patch(2, '{"a": {"b": {"c": 10}}}');
SELECT is(pg_temp.doc(2), '{"a": {"b": {"c": 10, "d": 2}, "e": 3}, "keep": true}'::jsonb,
          'nested objects merge key by key at every level');
SELECT pg_temp.patch(2, '{"a": {"b": {"d": null}}, "keep": null, "absent": null}');
SELECT is(pg_temp.doc(2), '{"a": {"b": {"c": 10}, "e": 3}}'::jsonb,
          'null deletes a key (nested too); deleting an absent key is a no-op');
SELECT pg_temp.patch(2, '{"a": null}');
SELECT is(pg_temp.doc(2), '{}'::jsonb, 'null deletes a whole subtree');
SELECT is(pg_temp.ver(2), 4::bigint, 'four patches, version 4');

SELECT pg_temp.start(3);
SELECT pg_temp.patch(3, '{"list": [1, 2, 3], "obj": {"k": 1}, "s": "text", "n": 1}');
SELECT pg_temp.patch(3, '{"list": [4]}');
SELECT is(pg_temp.doc(3) -> 'list', '[4]'::jsonb, 'arrays are replaced wholesale, not merged');
SELECT pg_temp.patch(3, '{"list": [{"a": null}, "__ff_null__", [1, "__ff_null__"], {"b": "__ff_null__"}]}');
SELECT is(pg_temp.doc(3) -> 'list', '[{"a": null}, null, [1, null], {"b": null}]'::jsonb,
          'inside a written array: the sentinel becomes null at every depth; JSON null stays null');
SELECT pg_temp.patch(3, '{"s": {"x": 1}, "obj": 7}');
SELECT is(pg_temp.doc(3) - 'list', '{"s": {"x": 1}, "obj": 7, "n": 1}'::jsonb,
          'an object replaces a scalar; a scalar replaces an object');
SELECT pg_temp.patch(3, '{"s": {}, "n": {}}');
SELECT is(pg_temp.doc(3) - 'list', '{"s": {"x": 1}, "obj": 7, "n": {}}'::jsonb,
          'an empty object leaves an existing object alone and turns a scalar into {} (RFC 7396)');
SELECT pg_temp.patch(3, '{"fresh": {"gone": null, "kept": 1, "deep": {"x": null, "y": "__ff_null__"}}}');
SELECT is(pg_temp.doc(3) -> 'fresh', '{"kept": 1, "deep": {"y": null}}'::jsonb,
          'a new nested object is merged into {}: its nulls vanish, its sentinels become null');
SELECT pg_temp.patch(3, '{"t": true, "f": false, "num": 1.50, "big": 123456789012345678901234567890, "neg": -0.001, "u": "ü€𝄞"}');
SELECT is(pg_temp.doc(3) - 'list' - 's' - 'obj' - 'n' - 'fresh',
          '{"t": true, "f": false, "num": 1.50, "big": 123456789012345678901234567890, "neg": -0.001, "u": "ü€𝄞"}'::jsonb,
          'booleans, numbers (exact) and Unicode strings are set as given');
CREATE TEMP TABLE v3 AS SELECT version, document FROM ff_read_summary(pg_temp.id(3));
SELECT is(pg_temp.patch(3, '{}'), (SELECT version + 1 FROM v3), 'an empty patch still counts a version');
SELECT is(pg_temp.doc(3), (SELECT document FROM v3), '... and changes nothing');
SELECT is(pg_temp.patch(3, '{"__ff_null__": "__ff_null__"}'), (SELECT version + 2 FROM v3), 'the sentinel as a key is just a key');
SELECT is(pg_temp.doc(3) -> '__ff_null__', 'null'::jsonb, '... whose value the sentinel sets to null');
SELECT is((SELECT count(*) FROM jsonb_path_query(pg_temp.doc(3), 'strict $.**') j WHERE j = '"__ff_null__"'::jsonb), 0::bigint,
          'the merged document never holds the sentinel as a value');
SELECT is(pg_temp.patch(3, '{"s": "__ff_null__ "}'), (SELECT version + 3 FROM v3), 'a string that only looks like the sentinel ...');
SELECT is(pg_temp.doc(3) -> 's', '"__ff_null__ "'::jsonb, '... is stored as it is');

------------------------------------------------------------------------------
-- Versions and timestamps
------------------------------------------------------------------------------
SELECT pg_temp.start(4);
CREATE TEMP TABLE v4 (n integer, version bigint, first_applied_ms bigint, last_updated_ms bigint);
SELECT pg_temp.patch(4, '{"step": 1}');
INSERT INTO v4 SELECT 1, version, first_applied_ms, last_updated_ms FROM ff_read_summary(pg_temp.id(4));
SET LOCAL flowfabric.clock_offset_ms = 5000;
SELECT pg_temp.patch(4, '{"step": 2}');
INSERT INTO v4 SELECT 2, version, first_applied_ms, last_updated_ms FROM ff_read_summary(pg_temp.id(4));
RESET flowfabric.clock_offset_ms;
SELECT results_eq($$SELECT version FROM v4 ORDER BY n$$, $$VALUES (1::bigint), (2)$$, 'version 1 then 2');
SELECT ok((SELECT first_applied_ms FROM v4 WHERE n = 1) = (SELECT first_applied_ms FROM v4 WHERE n = 2)
          AND (SELECT last_updated_ms FROM v4 WHERE n = 2) >= (SELECT last_updated_ms FROM v4 WHERE n = 1) + 5000,
          'first_applied_ms is set once; last_updated_ms follows the latest patch');
SELECT lives_ok($$SELECT ff_append_frame((SELECT handle FROM h WHERE n = 4), 'summary', '{"step": 3}', 'summary',
                                         patch_kind => 'json-merge-patch')$$, 'patch_kind json-merge-patch may be named');
SELECT is(pg_temp.ver(4), 3::bigint, 'version 3');
SELECT lives_ok($$SELECT ff_append_frame((SELECT handle FROM h WHERE n = 4), 'log', 'not a patch')$$,
                'durable frames in between ...');
SELECT is(pg_temp.ver(4), 3::bigint, '... do not count as versions');

------------------------------------------------------------------------------
-- Rejected patches change nothing
------------------------------------------------------------------------------
SELECT is(pg_temp.err($$SELECT pg_temp.patch(4, '{"a": ')$$), 'YFV01', 'not JSON -> YFV01 invalid_input');
SELECT throws_like($$SELECT pg_temp.patch(4, '{"a": ')$$, 'invalid_input: summary patch is not valid JSON',
                   'the message says why');
SELECT is(pg_temp.err($$SELECT pg_temp.patch(4, '[1, 2]')$$), 'YFV01', 'an array root -> YFV01');
SELECT throws_like($$SELECT pg_temp.patch(4, '[1, 2]')$$, 'invalid_input: summary patch must be a JSON object',
                   'the message says a patch is an object');
SELECT is(pg_temp.err($$SELECT pg_temp.patch(4, '"text"')$$), 'YFV01', 'a string root -> YFV01');
SELECT is(pg_temp.err($$SELECT pg_temp.patch(4, 'null')$$), 'YFV01', 'a null root -> YFV01');
SELECT is(pg_temp.err($$SELECT pg_temp.patch(4, '12')$$), 'YFV01', 'a number root -> YFV01');
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM h WHERE n = 4), 'summary', '\x7b7d00'::bytea, 'summary')$$), 'YFV01',
          'a NUL byte -> YFV01');
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM h WHERE n = 4), 'summary', '\x7b2261223a22ff227d'::bytea, 'summary')$$), 'YFV01',
          'invalid UTF-8 -> YFV01');
SELECT is(pg_temp.err($$SELECT pg_temp.patch(4, '{"a": 1e999999}')$$), 'YFV01', 'a number out of range -> YFV01');
SELECT is(pg_temp.err($$SELECT pg_temp.patch(4, '{"a": "\u0000"}')$$), 'YFV01', 'a \u0000 escape (not storable) -> YFV01');
SELECT is(pg_temp.err(format($$SELECT pg_temp.patch(4, %L)$$, repeat('{"a": ', 16) || '1' || repeat('}', 16))), 'ok',
          '16 levels of nesting are accepted');
SELECT is(pg_temp.err(format($$SELECT pg_temp.patch(4, %L)$$, repeat('{"a": ', 16) || '[1]' || repeat('}', 16))), 'YFV01',
          '17 levels (objects and arrays) -> YFV01 (patch_depth_exceeded)');
SELECT is(pg_temp.err(format($$SELECT pg_temp.patch(4, %L)$$, '{"s": "' || repeat('{[', 40) || '"}')), 'ok',
          'brackets inside strings do not count as nesting');
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM h WHERE n = 4), 'summary', '{}', 'summary', patch_kind => 'json-patch')$$),
          'YFV01', 'patch_kind json-patch -> YFV01 (unsupported)');
SELECT results_eq($$SELECT version, frame_count FROM ff_stream_info(pg_temp.id(4)) i, ff_read_summary(pg_temp.id(4))$$,
                  $$VALUES (5::bigint, 6::bigint)$$,
                  'after all those rejections: version 5, six frames (four patches + a log + the 16-level one)');

SELECT is(pg_temp.err($$SET LOCAL flowfabric.max_payload_bytes = 200; SELECT pg_temp.patch(4, '{"big": "' || repeat('x', 300) || '"}')$$),
          'YFV05', 'a document growing past flowfabric.max_payload_bytes -> YFV05 payload_too_large');

------------------------------------------------------------------------------
-- Reads
------------------------------------------------------------------------------
SELECT pg_temp.start(5);
SELECT is((SELECT count(*) FROM ff_read_summary(pg_temp.id(5))), 0::bigint, 'an attempt without summary frames: no row');
SELECT is(pg_temp.err($$SELECT * FROM ff_read_summary('{fp:71}:00000000-0000-4000-8000-0000000071ff')$$), 'YFN06',
          'an unknown execution -> YFN06 stream_not_found');
SELECT is(pg_temp.err($$SELECT * FROM ff_read_summary(pg_temp.id(5), 3)$$), 'YFN06', 'an unknown attempt -> YFN06');
SELECT is(pg_temp.err($$SELECT * FROM ff_read_summary('nope')$$), 'YFV01', 'a malformed id -> YFV01');

SELECT * FROM finish();
ROLLBACK;

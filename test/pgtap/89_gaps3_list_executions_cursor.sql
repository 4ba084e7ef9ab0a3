-- ff_list_executions checks its arguments before it reads any row: a
-- malformed cursor (or partition key) is YFV01 invalid_input also when the
-- partition is empty, when every row of the partition comes before the
-- cursor's position, and with max_results 0; a well-formed cursor past the
-- last row is an empty page, not an error.
BEGIN;
SELECT plan(23);

CREATE FUNCTION pg_temp.eid(p int, n int) RETURNS text LANGUAGE sql AS
$$ SELECT '{fp:' || p || '}:00000000-0000-4000-8000-' || lpad((8900 + n)::text, 12, '0') $$;

-- partition 211 stays empty; partition 212 gets three executions
DELETE FROM ff_execution WHERE partition_key IN (211, 212);
SELECT is((SELECT count(*) FROM ff_execution WHERE partition_key IN (211, 212)), 0::bigint,
          'setup: partitions 211 and 212 are empty');

------------------------------------------------------------------------------
-- an empty partition
------------------------------------------------------------------------------
SELECT throws_ok($$SELECT * FROM ff_list_executions('{fp:211}', 'bad')$$, 'YFV01', NULL,
                 'empty partition, cursor "bad" -> YFV01');
SELECT throws_like($$SELECT * FROM ff_list_executions('{fp:211}', 'bad')$$,
                   'invalid_input: malformed execution id "bad"', '... an invalid_input error naming the cursor');
SELECT throws_ok($$SELECT * FROM ff_list_executions('{fp:211}', '')$$, 'YFV01', NULL,
                 'empty partition, empty cursor -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_list_executions('{fp:211}', '{fp:211}:not-a-uuid')$$, 'YFV01', NULL,
                 'empty partition, cursor with a malformed uuid -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_list_executions('{fp:211}', '{fp:256}:00000000-0000-4000-8000-000000008901')$$,
                 'YFV01', NULL, 'empty partition, cursor with partition 256 -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_list_executions('{fp:211}', '00000000-0000-4000-8000-000000008901')$$,
                 'YFV01', NULL, 'empty partition, cursor without a partition tag -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_list_executions('{fp:211}', 'bad', 0)$$, 'YFV01', NULL,
                 'empty partition, max_results 0, malformed cursor -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_list_executions('x', NULL, 0)$$, 'YFV01', NULL,
                 'malformed partition key with max_results 0 -> YFV01');
SELECT is((SELECT count(*) FROM ff_list_executions('{fp:211}')), 0::bigint,
          'empty partition, no cursor: an empty page');
SELECT is((SELECT count(*) FROM ff_list_executions('{fp:211}', pg_temp.eid(211, 1))), 0::bigint,
          'empty partition, a well-formed cursor: an empty page');

------------------------------------------------------------------------------
-- a partition whose rows all come before the cursor, or with max_results 0
------------------------------------------------------------------------------
SELECT ff_create_execution('tap89-list', execution_id => pg_temp.eid(212, n)) FROM generate_series(1, 3) n;
SELECT is((SELECT count(*) FROM ff_list_executions('{fp:212}')), 3::bigint, 'setup: three executions in 212');
SELECT throws_ok($$SELECT * FROM ff_list_executions('{fp:212}', 'bad')$$, 'YFV01', NULL,
                 'rows in the partition, malformed cursor -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_list_executions('{fp:212}', 'bad', 0)$$, 'YFV01', NULL,
                 'rows in the partition, max_results 0, malformed cursor -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_list_executions('{fp:212}', '{fp:212}:ffffffff-ffff-4fff-bfff-fffffffffffg')$$,
                 'YFV01', NULL, 'a cursor one character off a uuid -> YFV01');
SELECT is((SELECT count(*) FROM ff_list_executions('{fp:212}', '{fp:212}:ffffffff-ffff-4fff-bfff-ffffffffffff')),
          0::bigint, 'a well-formed cursor past the last row: an empty page, no error');
SELECT results_eq($$SELECT execution_id FROM ff_list_executions('{fp:212}', pg_temp.eid(212, 1), 5)$$,
                  $$VALUES (pg_temp.eid(212, 2)), (pg_temp.eid(212, 3))$$,
                  'a well-formed cursor still pages (the rows after it)');
SELECT is((SELECT count(*) FROM ff_list_executions('{fp:212}', pg_temp.eid(212, 1), 0)), 0::bigint,
          'a well-formed cursor with max_results 0: an empty page');
SELECT results_eq($$SELECT execution_id FROM ff_list_executions('{fp:212}', '{fp:212}:00000000-0000-4000-8000-0000000088FF', 2)$$,
                  $$VALUES (pg_temp.eid(212, 1)), (pg_temp.eid(212, 2))$$,
                  'a cursor is read like any execution id (upper-case hex accepted)');
SELECT throws_ok($$SELECT * FROM ff_list_executions('{fp:212}', '{FP:212}:00000000-0000-4000-8000-000000008902')$$,
                 'YFV01', NULL, 'a cursor with an upper-case tag -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_list_executions(NULL, 'bad')$$, 'YFV01', NULL,
                 'a NULL partition key with a malformed cursor -> YFV01 too');
SELECT is((SELECT count(*) FROM ff_list_executions(NULL)), 0::bigint,
          'a NULL partition key (no cursor) lists nothing');
SELECT is((SELECT count(*) FROM ff_list_executions('{fp:212}', NULL, 2)), 2::bigint,
          'a NULL cursor: the first page');

SELECT * FROM finish();
ROLLBACK;

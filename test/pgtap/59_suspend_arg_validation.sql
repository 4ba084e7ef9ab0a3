-- The suspension area's listings and reads check their arguments before
-- reading any row: a malformed partition key or cursor gets YFV01 on empty
-- tables, and on a partition with no match while others have rows, not
-- only when a row would have been compared with it. Valid arguments still
-- page as before.
BEGIN;
SELECT plan(16);

DELETE FROM ff_waitpoint_hmac;
SELECT ff_seed_waitpoint_hmac_secret('kid-59', repeat('ef', 32));

------------------------------------------------------------------------------
-- Empty tables
------------------------------------------------------------------------------
DELETE FROM ff_execution;   -- cascades to suspensions and waitpoints
SELECT is((SELECT count(*) FROM ff_suspension) + (SELECT count(*) FROM ff_waitpoint), 0::bigint,
          'precondition: no suspension or waitpoint at all');
SELECT throws_ok($$SELECT * FROM ff_list_suspended('fp:59')$$, 'YFV01', NULL,
                 'ff_list_suspended, empty: a malformed partition key -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_list_suspended('{fp:256}')$$, 'YFV01', NULL,
                 'ff_list_suspended, empty: a partition out of range -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_list_suspended('{fp:59}', 'not-an-id')$$, 'YFV01', NULL,
                 'ff_list_suspended, empty: a malformed cursor -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_list_suspended('{fp:59}', 'not-an-id', max_results => 0)$$, 'YFV01', NULL,
                 '... even with max_results 0');
SELECT is((SELECT count(*) FROM ff_list_suspended('{fp:59}', '{fp:59}:00000000-0000-4000-8000-000000005901')),
          0::bigint, 'ff_list_suspended, empty: valid arguments -> no row');
SELECT is((SELECT count(*) FROM ff_list_suspended(NULL)), 0::bigint, 'a NULL partition key lists nothing (as before)');
SELECT throws_ok($$SELECT ff_read_waitpoint_token('fp:59', gen_random_uuid())$$, 'YFV01', NULL,
                 'ff_read_waitpoint_token, empty: a malformed partition key -> YFV01');
SELECT is(ff_read_waitpoint_token('{fp:59}', gen_random_uuid()), NULL, '... a valid key: NULL');

------------------------------------------------------------------------------
-- Suspensions exist, but not in the partition asked for
------------------------------------------------------------------------------
SELECT ff_create_execution('tap59', execution_id => '{fp:60}:00000000-0000-4000-8000-000000005901');
CREATE TEMP TABLE s1 AS
    SELECT s.* FROM ff_claim('tap59', 'w1', 'w1/1', lease_ttl_ms => 600000) c,
                    LATERAL ff_suspend(c.handle, '["wpk:a"]') s;
SELECT is((SELECT count(*) FROM ff_list_suspended('{fp:60}')), 1::bigint, 'setup: one suspended execution on {fp:60}');
SELECT throws_ok($$SELECT * FROM ff_list_suspended('{fp:59}', 'garbage')$$, 'YFV01', NULL,
                 'a malformed cursor on a partition without suspensions -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_list_suspended('{fp:60}', '{fp:60}:nope')$$, 'YFV01', NULL,
                 'a malformed cursor on a partition with suspensions -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_list_suspended('{fp:x}')$$, 'YFV01', NULL,
                 'a malformed partition key while suspensions exist -> YFV01');
SELECT is((SELECT execution_id FROM ff_list_suspended('{fp:60}')), '{fp:60}:00000000-0000-4000-8000-000000005901',
          'valid arguments list it');
SELECT is((SELECT count(*) FROM ff_list_suspended('{fp:60}', '{fp:60}:00000000-0000-4000-8000-000000005901')),
          0::bigint, '... and page past it');
SELECT is(ff_read_waitpoint_token('{fp:60}', (SELECT waitpoint_id FROM s1)), (SELECT waitpoint_token FROM s1),
          'ff_read_waitpoint_token still reads a token');

SELECT * FROM finish();
ROLLBACK;

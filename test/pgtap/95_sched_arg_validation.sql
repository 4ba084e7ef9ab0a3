-- The scheduler's listings check their arguments before reading any row:
-- ff_scan_eligible_executions (lane, partition key) and
-- ff_list_expired_leases (cursor id) raise YFV01 on empty tables and where
-- no row matches, not only when a row would have been compared with them.
BEGIN;
SELECT plan(15);

------------------------------------------------------------------------------
-- Empty tables
------------------------------------------------------------------------------
DELETE FROM ff_execution;
SELECT is((SELECT count(*) FROM ff_execution), 0::bigint, 'precondition: no execution at all');
SELECT throws_ok($$SELECT * FROM ff_scan_eligible_executions('tap95', 'fp:95')$$, 'YFV01', NULL,
                 'scan, empty: a malformed partition key -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_scan_eligible_executions('tap95', '{fp:95}x', max_results => 0)$$, 'YFV01', NULL,
                 '... even with max_results 0');
SELECT throws_ok($$SELECT * FROM ff_scan_eligible_executions(E'bad\tlane')$$, 'YFV01', NULL,
                 'scan, empty: a malformed lane -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_scan_eligible_executions('')$$, 'YFV01', NULL,
                 'scan, empty: an empty lane -> YFV01');
SELECT is((SELECT count(*) FROM ff_scan_eligible_executions('tap95', '{fp:95}')), 0::bigint,
          'scan, empty: valid arguments -> no row');
SELECT throws_ok($$SELECT * FROM ff_list_expired_leases(after_execution_id => 'nope')$$, 'YFV01', NULL,
                 'expired leases, empty: a malformed cursor id -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_list_expired_leases(after_expires_at_ms => 5, after_execution_id => '{fp:1}:zz')$$,
                 'YFV01', NULL, '... also with an expiry cursor');
SELECT is((SELECT count(*) FROM ff_list_expired_leases(after_execution_id => '{fp:1}:00000000-0000-4000-8000-000000009501')),
          0::bigint, 'expired leases, empty: a valid cursor -> no row');

------------------------------------------------------------------------------
-- Rows exist, none match
------------------------------------------------------------------------------
SELECT ff_create_execution('tap95-other', execution_id => '{fp:96}:00000000-0000-4000-8000-000000009501');
SELECT ff_create_execution('tap95', execution_id => '{fp:96}:00000000-0000-4000-8000-000000009502');
SELECT throws_ok($$SELECT * FROM ff_scan_eligible_executions('tap95-none', '{fp:}')$$, 'YFV01', NULL,
                 'scan of a lane without executions: a malformed partition key -> YFV01');
SELECT throws_ok($$SELECT * FROM ff_scan_eligible_executions('tap95', 'garbage')$$, 'YFV01', NULL,
                 'scan of a lane with executions: a malformed partition key -> YFV01');
SELECT is((SELECT execution_id FROM ff_scan_eligible_executions('tap95', '{fp:96}')),
          '{fp:96}:00000000-0000-4000-8000-000000009502', 'valid arguments scan as before');
SELECT is((SELECT count(*) FROM ff_scan_eligible_executions('tap95', '{fp:97}')), 0::bigint,
          '... and another partition has none');
-- a lease that ran out: listed, and the cursor is still checked
SELECT ff_claim('tap95', 'w1', 'w1/1', lease_ttl_ms => 1);
SELECT is((SELECT count(*) FROM ff_list_expired_leases(as_of => ff_server_time_ms() + 1000)), 1::bigint,
          'setup: one lease ran out');
SELECT throws_ok($$SELECT * FROM ff_list_expired_leases(as_of => 0, after_execution_id => 'x')$$, 'YFV01', NULL,
                 'a malformed cursor id where no lease had run out as of then -> YFV01');

SELECT * FROM finish();
ROLLBACK;

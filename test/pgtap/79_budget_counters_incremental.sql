-- ff_reconcile_budget_counters is incremental: a change of a usage counter
-- or of the ledger (by the engine or anyone else) marks its budget
-- (ff_budget_counter_dirty, trigger ff_budget_counter_mark), and a run reads
-- the ledger of the marked budgets only, then clears their marks. It still
-- repairs a drifted counter, a drifted ledger and a lost usage row; the
-- ledger rows a run reads (pg_stat_xact_user_tables: rows fetched by this
-- transaction) follow what changed, not the size of the ledger.
BEGIN;
SELECT plan(29);
\ir 75_budget_helpers.inc

CREATE FUNCTION pg_temp.b(n int) RETURNS text LANGUAGE sql AS
$$ SELECT 'b7900000-0000-4000-8000-' || lpad(n::text, 12, '0') $$;
CREATE FUNCTION pg_temp.eid(n int) RETURNS text LANGUAGE sql AS
$$ SELECT '{fp:79}:00000000-0000-4000-8000-' || lpad((790000 + n)::text, 12, '0') $$;
CREATE FUNCTION pg_temp.usage(n int) RETURNS bigint LANGUAGE sql AS
$$ SELECT current_value FROM ff_budget_usage WHERE budget_id = pg_temp.b(n)::uuid AND dimension = 'tokens' $$;
CREATE FUNCTION pg_temp.marked() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg((right(budget_id::text, 2)::int)::text, ',' ORDER BY budget_id), '')
      FROM ff_budget_counter_dirty
$$;
-- ledger rows this transaction has read so far (sequential and index fetches)
CREATE FUNCTION pg_temp.ledger_reads() RETURNS bigint LANGUAGE sql AS $$
    SELECT coalesce(sum(seq_tup_read), 0) + coalesce(sum(idx_tup_fetch), 0)
      FROM pg_stat_xact_user_tables WHERE relname = 'ff_budget_usage_by_exec'
$$;
-- one reconciler run: rows it changed and ledger rows it read
CREATE TEMP TABLE runs (n serial, changed int, reads bigint);
CREATE FUNCTION pg_temp.run() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r0 bigint := pg_temp.ledger_reads();
    c int;
BEGIN
    c := ff_reconcile_budget_counters();
    INSERT INTO runs (changed, reads) VALUES (c, pg_temp.ledger_reads() - r0);
    RETURN c || ' changed, ' || (pg_temp.ledger_reads() - r0) || ' ledger rows read';
END $$;

DELETE FROM ff_budget_counter_dirty;

------------------------------------------------------------------------------
-- History: budget 1 has 300 ledger rows (one per execution), budget 2 has 2
------------------------------------------------------------------------------
SELECT count(*) FROM ff_create_budget(pg_temp.b(1), '{tokens}', '{1000000}', '{0}');
SELECT count(*) FROM ff_create_budget(pg_temp.b(2), '{tokens}', '{1000000}', '{0}');
SELECT count(*) FROM generate_series(1, 300) g, LATERAL ff_record_spend(pg_temp.b(1), pg_temp.eid(g), '{"tokens": 2}');
SELECT count(*) FROM generate_series(301, 302) g, LATERAL ff_record_spend(pg_temp.b(2), pg_temp.eid(g), '{"tokens": 5}');
SELECT is((SELECT count(*) FROM ff_budget_usage_by_exec WHERE budget_id IN (pg_temp.b(1)::uuid, pg_temp.b(2)::uuid)),
          302::bigint, 'setup: 302 ledger rows');
SELECT is(pg_temp.marked(), '1,2', 'the reports marked both budgets');
SELECT is(pg_temp.run(), '0 changed, 302 ledger rows read', 'first run: both budgets checked (302 rows), nothing to repair');
SELECT is(pg_temp.marked(), '', '... and their marks are cleared');
SELECT is(pg_temp.run(), '0 changed, 0 ledger rows read', 'a run with nothing changed reads no ledger row');
SELECT is(pg_temp.run(), '0 changed, 0 ledger rows read', '... every time');

------------------------------------------------------------------------------
-- A drifted counter is still repaired, reading only its budget's ledger
------------------------------------------------------------------------------
UPDATE ff_budget_usage SET current_value = 999 WHERE budget_id = pg_temp.b(2)::uuid;
SELECT is(pg_temp.marked(), '2', 'corrupting budget 2''s counter marks budget 2 (the trigger sees any write)');
SELECT is(pg_temp.run(), '1 changed, 4 ledger rows read',
          'the run repairs it reading budget 2''s 2 rows twice (check, then the fix under the lock), none of budget 1''s 300');
SELECT is(pg_temp.usage(2), 10::bigint, '... back to 10 = 5 + 5 from the ledger');
SELECT is(pg_temp.usage(1), 600::bigint, 'budget 1 untouched (600)');
SELECT is(pg_temp.marked(), '', 'the repair itself leaves no mark');
SELECT is(pg_temp.run(), '0 changed, 0 ledger rows read', 'the next run has nothing to do');

------------------------------------------------------------------------------
-- A changed ledger row, a lost usage row, a report
------------------------------------------------------------------------------
UPDATE ff_budget_usage_by_exec SET delta_total = delta_total + 7
 WHERE budget_id = pg_temp.b(2)::uuid AND execution_id = split_part(pg_temp.eid(301), '}:', 2)::uuid;
SELECT is(pg_temp.marked(), '2', 'a ledger change marks its budget');
SELECT is(pg_temp.run(), '1 changed, 4 ledger rows read', 'the counter follows the ledger');
SELECT is(pg_temp.usage(2), 17::bigint, '... 17');
DELETE FROM ff_budget_usage WHERE budget_id = pg_temp.b(2)::uuid;
SELECT is(pg_temp.marked(), '2', 'deleting a usage row marks its budget');
SELECT is(pg_temp.run(), '1 changed, 4 ledger rows read', 'the lost usage row is rebuilt');
SELECT is(pg_temp.usage(2), 17::bigint, '... from the ledger (17)');
SELECT is((SELECT outcome FROM ff_record_spend(pg_temp.b(1), pg_temp.eid(1), '{"tokens": 1}')), 'ok', 'a report to budget 1');
SELECT is(pg_temp.marked(), '1', '... marks budget 1');
SELECT is(pg_temp.run(), '0 changed, 300 ledger rows read', 'the run checks budget 1 (consistent: nothing to repair)');
SELECT is(pg_temp.usage(1), 601::bigint, '... 601');

------------------------------------------------------------------------------
-- Marks drive the reconciler: an unmarked budget is not looked at
------------------------------------------------------------------------------
UPDATE ff_budget_usage SET current_value = 5 WHERE budget_id = pg_temp.b(1)::uuid;
DELETE FROM ff_budget_counter_dirty;
SELECT is(pg_temp.run(), '0 changed, 0 ledger rows read', 'with its mark removed, budget 1 is not read');
SELECT is(pg_temp.usage(1), 5::bigint, '... so its (corrupted) counter stays');
UPDATE ff_budget_usage SET updated_at_ms = updated_at_ms WHERE budget_id = pg_temp.b(1)::uuid;
SELECT is(pg_temp.run(), '1 changed, 600 ledger rows read', 'its next change marks it and the run repairs it');
SELECT is(pg_temp.usage(1), 601::bigint, '... back to 601');

------------------------------------------------------------------------------
-- A reset marks the budget; the new epoch starts empty
------------------------------------------------------------------------------
SELECT count(*) FROM ff_reset_budget(pg_temp.b(2));
SELECT is(pg_temp.marked(), '2', 'a reset marks the budget');
SELECT is(pg_temp.run(), '0 changed, 0 ledger rows read', 'its new epoch has no ledger yet: nothing to read or repair');
SELECT is(pg_temp.violations(), '{}'::text[], 'invariants hold');

SELECT * FROM finish();
ROLLBACK;

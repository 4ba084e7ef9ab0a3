--
-- 96_sanitize_findings: the inputs behind the reports of scripts/sanitize.sh
-- (the test suites with the engine under ASan and UBSan, docs/operations.md).
-- Each case runs normally in make test; under sanitize.sh it is where the
-- report would come back.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS flowfabric;
RESET client_min_messages;

\set A '''{fp:96}:00000000-0000-4000-8000-000000009601'''
\set B '''{fp:96}:00000000-0000-4000-8000-000000009602'''

-- 1. A suspension timeout at the end of time is in the future. timeout_at +
-- the allowed skew overflowed (signed integer overflow), wrapped negative and
-- the call failed with timeout_at_in_past.
SELECT public_state FROM ff_create_execution('san-lane', execution_id => :A);
SELECT handle AS h1 FROM ff_claim('san-lane', 'w', 'w/1', lease_ttl_ms => 600000) \gset
SELECT outcome, waitpoint_key
  FROM ff_suspend(:'h1', '["wpk:forever"]', timeout_at => 9223372036854775807);
SELECT execution_id = :A AS listed, timeout_at_ms FROM ff_list_suspended('{fp:96}');
SELECT ff_reconcile_suspension_timeout() IS NOT NULL AS ran;
SELECT ff_read_execution_state(:A) AS public_state;
-- A timeout further in the past than the skew allows is still refused
-- (YFV01 invalid_input: timeout_at_in_past; the message names the times).
SELECT public_state FROM ff_create_execution('san-lane', execution_id => :B);
SELECT handle AS h2 FROM ff_claim('san-lane', 'w', 'w/1', lease_ttl_ms => 600000) \gset
\set VERBOSITY sqlstate
SELECT outcome FROM ff_suspend(:'h2', '["wpk:past"]', timeout_at => ff_server_time_ms() - 600001);
\set VERBOSITY default

-- 2. A budget reset interval that reaches past the end of time: the next
-- reset saturates at the largest time. now + interval overflowed and wrapped
-- to a time long past, so every run of the budget_reset reconciler reset it.
SELECT outcome, budget_id, next_reset_at_ms
  FROM ff_create_budget('00000000-0000-4000-8000-0000000096b1', '{tokens}', '{10}', '{0}',
                        reset_interval_ms => 9223372036854775807);
SELECT outcome, next_reset_at_ms FROM ff_reset_budget('00000000-0000-4000-8000-0000000096b1');
SELECT ff_reconcile_budget_reset() IS NOT NULL AS ran;
SELECT reset_count, next_reset_at_ms
  FROM ff_get_budget_status('00000000-0000-4000-8000-0000000096b1');
-- An ordinary interval is unchanged: now + interval.
SELECT next_reset_at_ms - ff_server_time_ms() BETWEEN 0 AND 3600000 AS in_an_hour
  FROM ff_create_budget('00000000-0000-4000-8000-0000000096b2', reset_interval_ms => 3600000);

-- 3. ff_resume_execution as the first call of a session (its plans are
-- prepared then, so the SPI context has grown past its first block): its
-- result was allocated in that context and read after SPI_finish had freed
-- it (heap-use-after-free).
\c -
SELECT ff_resume_execution(:A);
SELECT ff_read_execution_state(:A) AS public_state;

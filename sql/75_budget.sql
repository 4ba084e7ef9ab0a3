--
-- 75_budget: budgets and quotas in autocommit mode, the way a producer, a
-- worker and an operator use them: a worker's usage reports breach the
-- soft and then the hard limit, the exhausted budget holds the next
-- execution back until a reset, a quota's concurrency cap holds the second
-- of two executions until the first one's slot frees, and the counter
-- reconciler repairs a corrupted counter.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS flowfabric;
RESET client_min_messages;

CREATE TEMP VIEW st75 AS
SELECT right(execution_id::text, 3) AS x, lifecycle_phase, eligibility_state, blocking_reason, public_state
  FROM ff_execution WHERE lane_id LIKE 'budget75-%' ORDER BY execution_id;

-- A budget: 100 tokens hard, 80 soft; work attached to it is held back when it is exhausted
SELECT * FROM ff_create_budget('b0000075-0000-4000-8000-000000000001', '{tokens}', '{100}', '{80}',
                               scope_type => 'tenant', scope_id => 'acme');
SELECT execution_id, public_state FROM ff_create_execution('budget75-a', 'doc-1'::bytea,
    execution_id => '{fp:75}:00000000-0000-4000-8000-000000000a01',
    policy => '{"budget_ids": ["b0000075-0000-4000-8000-000000000001"]}');
SELECT execution_id, public_state FROM ff_create_execution('budget75-a', 'doc-2'::bytea,
    execution_id => '{fp:75}:00000000-0000-4000-8000-000000000a02',
    policy => '{"budget_ids": ["b0000075-0000-4000-8000-000000000001"]}');

-- the worker claims the first and reports what it uses
SELECT handle AS h1 FROM ff_claim('budget75-a', 'worker-1', 'worker-1/a') \gset
SELECT * FROM ff_report_usage(:'h1', 'b0000075-0000-4000-8000-000000000001', '{"tokens": 50}');
SELECT * FROM ff_report_usage(:'h1', 'b0000075-0000-4000-8000-000000000001', '{"tokens": 40}', 'step-2');
-- a retried report with the same dedup key is not counted twice
SELECT * FROM ff_report_usage(:'h1', 'b0000075-0000-4000-8000-000000000001', '{"tokens": 40}', 'step-2');
-- over the hard limit: rejected, nothing applied, and the budget is breached
SELECT * FROM ff_report_usage(:'h1', 'b0000075-0000-4000-8000-000000000001', '{"tokens": 20}');
SELECT usage, breach_count, soft_breach_count, last_breach_dim, breached, blocked_executions
  FROM ff_get_budget_status('b0000075-0000-4000-8000-000000000001');
SELECT ff_complete(:'h1');

-- the second execution is held back: rate_limited, waiting for the budget
SELECT count(*) AS claimed FROM ff_claim('budget75-a', 'worker-1', 'worker-1/a');
SELECT * FROM st75;
SELECT kind, id, status FROM ff_read_admission('{fp:75}:00000000-0000-4000-8000-000000000a02');
SELECT * FROM ff_read_budget_usage_and_limits('b0000075-0000-4000-8000-000000000001');

-- the operator resets the budget: the execution is eligible again at once
SELECT outcome, unblocked FROM ff_reset_budget('b0000075-0000-4000-8000-000000000001');
SELECT * FROM st75;
SELECT execution_id FROM ff_claim('budget75-a', 'worker-1', 'worker-1/a');

-- A quota policy: at most one attempt at a time
SELECT * FROM ff_create_quota_policy('a0000075-0000-4000-8000-000000000001', 60, 0, 1);
SELECT execution_id, public_state FROM ff_create_execution('budget75-q', 'q-1'::bytea,
    execution_id => '{fp:75}:00000000-0000-4000-8000-000000000b01',
    policy => '{"quota_policy_id": "a0000075-0000-4000-8000-000000000001"}');
SELECT execution_id, public_state FROM ff_create_execution('budget75-q', 'q-2'::bytea,
    execution_id => '{fp:75}:00000000-0000-4000-8000-000000000b02',
    policy => '{"quota_policy_id": "a0000075-0000-4000-8000-000000000001"}');
SELECT handle AS q1 FROM ff_claim('budget75-q', 'worker-2', 'worker-2/a', max_claims => 2) \gset
SELECT * FROM st75 WHERE x LIKE 'b%';
SELECT kind, status FROM ff_read_admission('{fp:75}:00000000-0000-4000-8000-000000000b02');
SELECT * FROM ff_read_quota_policy_limits('a0000075-0000-4000-8000-000000000001');
-- the first one completes: its slot frees and the second is released in the same transaction
SELECT ff_complete(:'q1');
SELECT * FROM st75 WHERE x LIKE 'b%';
SELECT execution_id FROM ff_claim('budget75-q', 'worker-2', 'worker-2/a');
SELECT active_concurrency FROM ff_read_quota_policy_limits('a0000075-0000-4000-8000-000000000001');

-- Drift: a corrupted counter is recomputed from the ledger
SELECT outcome FROM ff_record_spend('b0000075-0000-4000-8000-000000000001',
    '{fp:75}:00000000-0000-4000-8000-000000000a02', '{"tokens": 12}', 'spend-1');
UPDATE ff_budget_usage SET current_value = 12345
 WHERE budget_id = 'b0000075-0000-4000-8000-000000000001';
SELECT ff_reconcile_budget_counters() AS repaired;
SELECT usage FROM ff_get_budget_status('b0000075-0000-4000-8000-000000000001');
-- and a spend is taken back
SELECT * FROM ff_release_budget('b0000075-0000-4000-8000-000000000001',
                                '{fp:75}:00000000-0000-4000-8000-000000000a02');
SELECT usage FROM ff_get_budget_status('b0000075-0000-4000-8000-000000000001');

-- errors
\set VERBOSITY terse
SELECT ff_get_budget_status('b0000075-0000-4000-8000-0000000000ff');
SELECT ff_check_admission('a0000075-0000-4000-8000-0000000000ff', '{fp:75}:00000000-0000-4000-8000-000000000b01');
SELECT ff_create_quota_policy(NULL, 0, 10);
SELECT ff_create_budget(NULL, scope_type => 'Tenant');
\set VERBOSITY default

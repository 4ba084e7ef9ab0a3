-- flowfabric end-to-end demo.
--
-- Run by `make demo` (scripts/demo.sh) as
--     psql -X -v ON_ERROR_STOP=1 -f scripts/demo.sql
-- in a fresh database where CREATE EXTENSION flowfabric has just run. psql
-- autocommits every statement, so each engine call below is one transaction,
-- as it would be for a real worker.
--
-- Execution ids are random, so ids and timestamps differ between runs; the
-- story does not.

\set QUIET on
\pset null '-'
\pset footer off

\echo
\echo '=================================================================='
\echo ' flowfabric demo: executions, leases, retries, outboxes, reconcilers'
\echo '=================================================================='

\echo
\echo '--- 1. Create four executions on lane "demo" ------------------------'
\echo 'A job table (temporary, for this session only) remembers which id is which.'

CREATE TEMP TABLE job (name text PRIMARY KEY, execution_id text NOT NULL);

\echo
\echo 'send-email: a plain job with an input payload and an idempotency key.'
WITH c AS (
    SELECT * FROM ff_create_execution(
        lane_id         => 'demo',
        input_payload   => convert_to('{"to": "ada@example.com"}', 'UTF8'),
        execution_kind  => 'email',
        namespace       => 'shop',
        idempotency_key => 'welcome-ada',
        tags            => '{"app.customer": "ada"}')
), j AS (
    INSERT INTO job SELECT 'send-email', execution_id FROM c
)
SELECT execution_id, public_state, created FROM c;

\echo
\echo 'Creating it again with the same idempotency key returns the same id, created = f:'
SELECT execution_id, public_state, created
  FROM ff_create_execution(lane_id => 'demo', namespace => 'shop',
                           idempotency_key => 'welcome-ada');

\echo
\echo 'charge-card: a retry policy allowing 2 retries with no backoff delay.'
WITH c AS (
    SELECT * FROM ff_create_execution(
        lane_id        => 'demo',
        input_payload  => convert_to('{"amount_cents": 4200}', 'UTF8'),
        execution_kind => 'payment',
        namespace      => 'shop',
        policy         => '{"retry_policy": {"max_retries": 2,
                                             "backoff": {"type": "fixed", "delay_ms": 0}}}')
), j AS (
    INSERT INTO job SELECT 'charge-card', execution_id FROM c
)
SELECT execution_id, public_state, created FROM c;

\echo
\echo 'urgent-report: priority 100 (higher priorities are claimed first).'
WITH c AS (
    SELECT * FROM ff_create_execution(
        lane_id        => 'demo',
        input_payload  => convert_to('{"report": "q3"}', 'UTF8'),
        execution_kind => 'report',
        priority       => 100)
), j AS (
    INSERT INTO job SELECT 'urgent-report', execution_id FROM c
)
SELECT execution_id, public_state, created FROM c;

\echo
\echo 'nightly-cleanup: delayed, not claimable until one minute from now.'
WITH c AS (
    SELECT * FROM ff_create_execution(
        lane_id        => 'demo',
        execution_kind => 'cleanup',
        delay_until    => ff_server_time_ms() + 60000)
), j AS (
    INSERT INTO job SELECT 'nightly-cleanup', execution_id FROM c
)
SELECT execution_id, public_state, created FROM c;

\echo
\echo 'The lane was registered on first use:'
SELECT lane_id, registered_by FROM ff_list_lanes();

\echo
\echo '--- 2. A worker claims work ------------------------------------------'
\echo 'worker-1 asks for up to 3 executions. It gets the highest priority first,'
\echo 'then the oldest; the delayed one is not eligible yet. The opaque handle of'
\echo 'each claim is kept in a temp table, as a worker would keep it in memory.'

CREATE TEMP TABLE claim1 AS
SELECT row_number() OVER () AS claim_order, *
  FROM ff_claim(lane_id            => 'demo',
                worker_id          => 'worker-1',
                worker_instance_id => 'worker-1/pid-4242',
                lease_ttl_ms       => 30000,
                max_claims         => 3);

SELECT c.claim_order, j.name, c.attempt_index, c.lease_epoch,
       c.lease_expires_at_ms - ff_server_time_ms() > 25000 AS lease_about_30s,
       convert_from(c.input_payload, 'UTF8') AS input,
       length(c.handle) AS handle_bytes
  FROM claim1 c JOIN job j USING (execution_id)
 ORDER BY c.claim_order;

\echo
\echo 'A handle is opaque bytes; ff_handle_describe decodes one for debugging:'
SELECT h.backend, h.attempt_index, h.lease_epoch, h.lease_ttl_ms, h.lane_id, h.worker_instance_id
  FROM claim1 c JOIN job j USING (execution_id),
       ff_handle_describe(c.handle) h
 WHERE j.name = 'send-email';

\echo
\echo '--- 3. The state vector -----------------------------------------------'
\echo 'Every execution carries six state dimensions; public_state is derived from'
\echo 'them (and a CHECK constraint keeps it so).'
SELECT j.name, i.lifecycle_phase, i.ownership_state, i.eligibility_state,
       i.blocking_reason, i.terminal_outcome, i.attempt_state, i.public_state
  FROM job j, ff_read_execution_info(j.execution_id) i
 ORDER BY j.name;

\echo
\echo '--- 4. send-email: renew the lease, report progress, complete ---------'
\echo 'A long job renews its lease before it runs out (same epoch, later expiry):'
SELECT j.name, r.lease_epoch, r.lease_expires_at_ms >= c.lease_expires_at_ms AS extended
  FROM claim1 c JOIN job j USING (execution_id), ff_renew(c.handle) r
 WHERE j.name = 'send-email';

SELECT j.name, 'progress 50%' AS reported
  FROM claim1 c JOIN job j USING (execution_id),
       ff_progress(c.handle, percent => 50, message => 'rendering template')
 WHERE j.name = 'send-email';

\echo 'Complete it with a result payload:'
SELECT j.name, 'completed' AS reported
  FROM claim1 c JOIN job j USING (execution_id),
       ff_complete(c.handle, payload => convert_to('{"message_id": "m-1001"}', 'UTF8'))
 WHERE j.name = 'send-email';

SELECT j.name, ff_read_execution_state(j.execution_id) AS public_state,
       convert_from(ff_get_execution_result(j.execution_id), 'UTF8') AS result
  FROM job j WHERE j.name = 'send-email';

\echo
\echo 'Completing again with the same handle (a client retrying after a lost reply)'
\echo 'is a no-op: no error, no second completion event.'
SELECT j.name, 'completed again' AS reported
  FROM claim1 c JOIN job j USING (execution_id),
       ff_complete(c.handle, payload => convert_to('{"message_id": "m-1001"}', 'UTF8'))
 WHERE j.name = 'send-email';

\echo
\echo '--- 5. charge-card fails transiently: the policy schedules a retry ---'
SELECT f.outcome, f.delay_until IS NOT NULL AS has_delay_until
  FROM claim1 JOIN job USING (execution_id),
       ff_fail(handle, message => 'card processor timed out',
               classification => 'transient') f
 WHERE name = 'charge-card';

\echo 'With a zero backoff it is claimable again at once:'
SELECT j.name, i.public_state, i.attempt_state, i.blocking_reason
  FROM job j, ff_read_execution_info(j.execution_id) i WHERE j.name = 'charge-card';

\echo
\echo 'worker-2 claims it: a new attempt (index 1, type retry) under lease epoch 2.'
CREATE TEMP TABLE claim2 AS
SELECT * FROM ff_claim('demo', 'worker-2', 'worker-2/pid-7', lease_ttl_ms => 30000);

SELECT j.name, c.attempt_index, c.lease_epoch FROM claim2 c JOIN job j USING (execution_id);

\echo 'The attempt type is kept per attempt (read here from the internal ff_attempt'
\echo 'table, which only the superuser running this demo may read):'
SELECT j.name, a.attempt_index, a.attempt_type, a.attempt_lifecycle, a.worker_id,
       a.failure_category, a.failure_message
  FROM ff_attempt a
  JOIN job j ON ff_format_execution_id(a.partition_key, a.execution_id) = j.execution_id
 WHERE j.name = 'charge-card'
 ORDER BY a.attempt_index;

SELECT j.name, 'completed' AS reported
  FROM claim2 c JOIN job j USING (execution_id),
       ff_complete(c.handle, convert_to('{"charge_id": "ch_77"}', 'UTF8'));
SELECT j.name, ff_read_execution_state(j.execution_id) AS public_state,
       ff_read_total_attempt_count(j.execution_id) AS attempts
  FROM job j WHERE j.name = 'charge-card';

\echo
\echo '--- 6. urgent-report fails permanently: no retry ----------------------'
SELECT f.outcome, f.delay_until
  FROM claim1 JOIN job USING (execution_id),
       ff_fail(handle, message => 'report template missing',
               classification => 'permanent') f
 WHERE name = 'urgent-report';

SELECT j.name, i.public_state, i.terminal_outcome, i.attempt_state
  FROM job j, ff_read_execution_info(j.execution_id) i WHERE j.name = 'urgent-report';

\echo
\echo '--- 7. Time passes: the delayed execution is promoted ----------------'
\echo 'Nothing is claimable yet:'
SELECT count(*) AS claimed FROM ff_claim('demo', 'worker-1', 'worker-1/pid-4242');

\echo 'Shift the engine clock two minutes ahead (superuser-only testing knob),'
\echo 'then run the delayed-promotion reconciler once:'
SET flowfabric.clock_offset_ms = '2min';
SELECT ff_reconcile_delayed_promotion() AS promoted;
SELECT j.name, i.public_state, i.eligibility_state, i.blocking_reason
  FROM job j, ff_read_execution_info(j.execution_id) i WHERE j.name = 'nightly-cleanup';

\echo
\echo '--- 8. A worker vanishes: its lease expires and the work is reclaimed -'
\echo 'worker-3 claims nightly-cleanup with a 5 second lease, then goes silent.'
CREATE TEMP TABLE claim3 AS
SELECT * FROM ff_claim('demo', 'worker-3', 'worker-3/pid-99', lease_ttl_ms => 5000);
SELECT j.name, c.attempt_index, c.lease_epoch FROM claim3 c JOIN job j USING (execution_id);

\echo 'One more minute passes; the lease-expiry reconciler marks the lease expired:'
SET flowfabric.clock_offset_ms = '3min';
SELECT ff_reconcile_lease_expiry() AS expired_leases;
SELECT j.name, i.public_state, i.ownership_state, i.attempt_state
  FROM job j, ff_read_execution_info(j.execution_id) i WHERE j.name = 'nightly-cleanup';

\echo
\echo 'worker-1 claims it: a reclaim (new attempt, higher epoch).'
CREATE TEMP TABLE claim4 AS
SELECT * FROM ff_claim('demo', 'worker-1', 'worker-1/pid-4242', lease_ttl_ms => 30000);
SELECT j.name, c.attempt_index, c.lease_epoch FROM claim4 c JOIN job j USING (execution_id);

\echo
\echo 'worker-3 comes back and tries to complete with its old handle. The lease'
\echo 'fence rejects it (caught here so the demo can go on):'
DO $$
DECLARE
    old_handle bytea := (SELECT handle FROM claim3);
BEGIN
    PERFORM ff_complete(old_handle);
    RAISE NOTICE 'unexpected: the stale handle was accepted';
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'rejected with SQLSTATE %: %', SQLSTATE, SQLERRM;
END
$$;

\echo
\echo 'The new owner completes it:'
SELECT j.name, 'completed' AS reported
  FROM claim4 c JOIN job j USING (execution_id), ff_complete(c.handle);

\echo 'Back to the real clock.'
RESET flowfabric.clock_offset_ms;

\echo
\echo '--- 9. The outboxes ---------------------------------------------------'
\echo 'Subscribers read events by cursor (after_event_id); LISTEN ff_completion /'
\echo 'ff_lease_event wakes them up. Completion events:'
SELECT j.name, e.outcome, e.attempt_index, e.namespace, e.lane_id
  FROM ff_completion_events(0, 100) e JOIN job j USING (execution_id)
 ORDER BY e.event_id;

\echo
\echo 'Lease events, in event_id order:'
SELECT j.name, e.attempt_index, e.lease_epoch, e.event_type, e.reason, e.worker_instance_id
  FROM ff_lease_events(0, 100) e JOIN job j USING (execution_id)
 ORDER BY e.event_id;

\echo
\echo '--- 10. Where everything ended up -------------------------------------'
SELECT j.name, d.public_state, d.total_attempt_count AS attempts,
       d.current_attempt_index AS last_attempt, d.namespace,
       d.tags
  FROM job j, ff_describe_execution(j.execution_id) d
 ORDER BY j.name;

\echo
\echo 'Counts by public_state:'
SELECT e.public_state, count(*)
  FROM ff_list_executions('{fp:' || ff_solo_partition('demo') || '}') e
 GROUP BY e.public_state ORDER BY e.public_state;

\echo
\echo 'Demo complete.'

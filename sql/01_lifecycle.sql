--
-- 01_lifecycle: an end-to-end story in autocommit mode. Three executions on
-- lane lc-lane are claimed in one batch; one completes, one fails into a retry
-- and then completes, one fails terminally. The state vector is printed after
-- every step. The outbox readers (which only return events of committed
-- transactions older than every running one) are tested here, because every
-- statement below commits on its own.
--
SET client_min_messages = warning;  -- no NOTICE whether or not an earlier file created it
CREATE EXTENSION IF NOT EXISTS flowfabric;
RESET client_min_messages;

-- The three executions: A (highest priority, so claimed first), B (with a
-- retry policy: one retry, no backoff), C.
\set A '''{fp:86}:00000000-0000-4000-8000-000000000011'''
\set B '''{fp:86}:00000000-0000-4000-8000-000000000012'''
\set C '''{fp:86}:00000000-0000-4000-8000-000000000013'''

CREATE TEMP VIEW lc_state AS
SELECT CASE right(execution_id::text, 2)
         WHEN '11' THEN 'A' WHEN '12' THEN 'B' WHEN '13' THEN 'C'
         WHEN '14' THEN 'D' WHEN '15' THEN 'E' WHEN '16' THEN 'F' END AS x,
       lifecycle_phase, ownership_state, eligibility_state, blocking_reason,
       terminal_outcome, attempt_state, public_state,
       attempt_index AS att, total_attempt_count AS tot, retry_count AS retries,
       lease_epoch AS epoch
  FROM ff_execution
 WHERE lane_id = 'lc-lane'
 ORDER BY execution_id;

SELECT execution_id, public_state, created
  FROM ff_create_execution('lc-lane', 'input-A'::bytea, execution_id => :A, priority => 30);
SELECT execution_id, public_state, created
  FROM ff_create_execution('lc-lane', 'input-B'::bytea, execution_id => :B, priority => 20,
       policy => '{"retry_policy":{"max_retries":1,"backoff":{"type":"fixed","delay_ms":0}}}');
SELECT execution_id, public_state, created
  FROM ff_create_execution('lc-lane', 'input-C'::bytea, execution_id => :C, priority => 10);
SELECT * FROM lc_state;
SELECT lane_id, registered_by FROM ff_list_lanes() WHERE lane_id = 'lc-lane';

-- Claim all three in one call.
CREATE TEMP TABLE lc_claim AS
SELECT c.*, ff_server_time_ms() AS claimed_at
  FROM ff_claim('lc-lane', 'lc-worker', 'lc-worker-1', max_claims => 3) c;
SELECT execution_id, attempt_index, lease_epoch,
       lease_expires_at_ms - claimed_at BETWEEN 29000 AND 30000 AS ttl_30s,
       convert_from(input_payload, 'UTF8') AS input
  FROM lc_claim ORDER BY execution_id;
SELECT * FROM lc_state;
-- Nothing left to claim.
SELECT count(*) AS claimed FROM ff_claim('lc-lane', 'lc-worker', 'lc-worker-2', max_claims => 3);

-- The handles decode to what claim returned.
SELECT d.backend, d.format, d.execution_id = c.execution_id AS same_id,
       d.attempt_index, d.lease_epoch, d.lease_ttl_ms, d.lane_id, d.worker_instance_id
  FROM lc_claim c, ff_handle_describe(c.handle) d ORDER BY c.execution_id;

-- Progress and renew keep A active and leased.
SELECT ff_progress(handle, 50, 'halfway') FROM lc_claim WHERE execution_id = :A;
SELECT (ff_renew(handle)).lease_epoch AS renewed_epoch FROM lc_claim WHERE execution_id = :A;
SELECT progress_pct, progress_message FROM ff_execution
 WHERE ff_format_execution_id(partition_key, execution_id) = :A;

-- Step 1: A completes.
SELECT ff_complete(handle, 'result-A'::bytea) FROM lc_claim WHERE execution_id = :A;
SELECT * FROM lc_state;
SELECT convert_from(ff_get_execution_result(:A), 'UTF8') AS result_a;
-- A replayed complete with the same handle is a no-op (no second event).
SELECT ff_complete(handle, 'result-A'::bytea) FROM lc_claim WHERE execution_id = :A;

-- Step 2: B fails transiently: its policy retries once with no backoff, so
-- it is claimable again at once.
SELECT f.outcome, f.delay_until IS NOT NULL AS has_delay_until,
       f.delay_until <= ff_server_time_ms() AS due_now
  FROM lc_claim c, ff_fail(c.handle, 'boom', 'transient') f WHERE c.execution_id = :B;
SELECT * FROM lc_state;
-- A replayed fail reports the same decision.
SELECT f.outcome, f.delay_until IS NOT NULL AS has_delay_until
  FROM lc_claim c, ff_fail(c.handle, 'boom', 'transient') f WHERE c.execution_id = :B;

-- Step 3: B is claimed again (attempt 1, a retry, epoch 2) and completes.
CREATE TEMP TABLE lc_claim2 AS
SELECT * FROM ff_claim('lc-lane', 'lc-worker', 'lc-worker-1', max_claims => 3);
SELECT execution_id, attempt_index, lease_epoch FROM lc_claim2;
SELECT * FROM lc_state;
-- The old handle of B is stale now.
\set VERBOSITY terse
SELECT ff_complete(handle) FROM lc_claim WHERE execution_id = :B;
\set VERBOSITY default
SELECT ff_complete(handle, 'result-B'::bytea) FROM lc_claim2;
SELECT * FROM lc_state;

-- Step 4: C fails permanently: terminal.
SELECT f.outcome, f.delay_until
  FROM lc_claim c, ff_fail(c.handle, 'bad input', 'permanent') f WHERE c.execution_id = :C;
SELECT * FROM lc_state;
SELECT ff_read_execution_state(:A) AS a, ff_read_execution_state(:B) AS b,
       ff_read_execution_state(:C) AS c;
SELECT last_failure_message, last_failure_category FROM ff_execution
 WHERE ff_format_execution_id(partition_key, execution_id) = :C;

-- The attempts.
SELECT CASE ff_format_execution_id(partition_key, execution_id)
         WHEN :A THEN 'A' WHEN :B THEN 'B' WHEN :C THEN 'C' END AS x,
       attempt_index, attempt_type, attempt_lifecycle, lease_epoch,
       lease_expires_at_ms IS NULL AS lease_released, failure_category,
       retry_delay_until_ms IS NOT NULL AS retry_scheduled
  FROM ff_attempt a
 WHERE execution_id IN (SELECT (ff_split_execution_id(x)).execution_uuid
                          FROM unnest(ARRAY[:A, :B, :C]) x)
 ORDER BY execution_id, attempt_index;

--
-- Outbox readers.
--
-- Wait (up to 30 s) until no transaction with an xid is running anywhere, so
-- the readers' delivery horizon covers every event written above.
CREATE FUNCTION lc_settle() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..3000 LOOP
        EXIT WHEN pg_snapshot_xmin(pg_current_snapshot()) = pg_snapshot_xmax(pg_current_snapshot());
        PERFORM pg_sleep(0.01);
    END LOOP;
END
$$;
SELECT lc_settle();

SELECT CASE execution_id WHEN :A THEN 'A' WHEN :B THEN 'B' WHEN :C THEN 'C' END AS x,
       outcome, lane_id, attempt_index, flow_id, namespace
  FROM ff_completion_events(0, 100) ORDER BY event_id;
SELECT CASE execution_id WHEN :A THEN 'A' WHEN :B THEN 'B' WHEN :C THEN 'C' END AS x,
       attempt_index, lease_epoch, event_type, reason, worker_id, worker_instance_id
  FROM ff_lease_events(0, 100) ORDER BY event_id;

-- The readers return exactly the table's rows (all committed), in id order.
SELECT (SELECT array_agg(event_id ORDER BY event_id) FROM ff_completion_events(0, 10000))
     = (SELECT array_agg(event_id ORDER BY event_id) FROM ff_completion_event) AS completion_all,
       (SELECT array_agg(event_id ORDER BY event_id) FROM ff_lease_events(0, 10000))
     = (SELECT array_agg(event_id ORDER BY event_id) FROM ff_lease_event) AS lease_all;

-- Event ids strictly increase in the order the events happened, and the
-- reader returns them in that order.
SELECT bool_and(event_id > prev) AS completion_ids_increase
  FROM (SELECT event_id, lag(event_id) OVER (ORDER BY ord) AS prev
          FROM ff_completion_events(0, 100) WITH ORDINALITY AS e(event_id, execution_id, flow_id,
               outcome, namespace, lane_id, attempt_index, occurred_at_ms, ord)) s
 WHERE prev IS NOT NULL;
SELECT bool_and(event_id > prev) AS lease_ids_increase,
       bool_and(occurred_at_ms >= prev_at) AS lease_times_monotonic
  FROM (SELECT event_id, occurred_at_ms,
               lag(event_id) OVER (ORDER BY ord) AS prev,
               lag(occurred_at_ms) OVER (ORDER BY ord) AS prev_at
          FROM ff_lease_events(0, 100) WITH ORDINALITY AS e(event_id, execution_id, attempt_index,
               lease_id, lease_epoch, event_type, reason, worker_id, worker_instance_id,
               namespace, occurred_at_ms, ord)) s
 WHERE prev IS NOT NULL;

-- Paging with max_events 2, cursor = last event id of the previous page,
-- yields exactly the one-shot sequence: no gap, no duplicate.
CREATE FUNCTION lc_paged(kind text, page integer) RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
    cursor_id bigint := 0;
    ids bigint[] := '{}';
    page_ids bigint[];
BEGIN
    LOOP
        IF kind = 'completion' THEN
            SELECT array_agg(event_id ORDER BY event_id) INTO page_ids
              FROM ff_completion_events(cursor_id, page);
        ELSE
            SELECT array_agg(event_id ORDER BY event_id) INTO page_ids
              FROM ff_lease_events(cursor_id, page);
        END IF;
        EXIT WHEN page_ids IS NULL;
        IF cardinality(page_ids) > page THEN
            RAISE EXCEPTION 'page of % events exceeds max_events %', cardinality(page_ids), page;
        END IF;
        ids := ids || page_ids;
        cursor_id := page_ids[cardinality(page_ids)];
    END LOOP;
    RETURN ids;
END
$$;
SELECT lc_paged('completion', 2) = (SELECT array_agg(event_id ORDER BY event_id)
                                      FROM ff_completion_events(0, 100)) AS completion_paging_same,
       cardinality(lc_paged('completion', 2)) AS completion_events;
SELECT lc_paged('lease', 2) = (SELECT array_agg(event_id ORDER BY event_id)
                                 FROM ff_lease_events(0, 100)) AS lease_paging_same,
       cardinality(lc_paged('lease', 2)) AS lease_events,
       cardinality(lc_paged('lease', 1)) AS lease_events_page_1,
       cardinality(lc_paged('lease', 10000)) AS lease_events_page_max;
-- Pages of two, spelled out for the completion outbox.
SELECT count(*) AS first_page FROM ff_completion_events(0, 2);
SELECT count(*) AS after_last
  FROM ff_completion_events((SELECT max(event_id) FROM ff_completion_event), 100);
-- A cursor between two events resumes right after it.
SELECT CASE execution_id WHEN :A THEN 'A' WHEN :B THEN 'B' WHEN :C THEN 'C' END AS x, outcome
  FROM ff_completion_events((SELECT min(event_id) FROM ff_completion_event), 100)
 ORDER BY event_id;

-- Inside an open transaction the readers do not see that transaction's own
-- events (they are not committed yet); after COMMIT they do.
BEGIN;
SELECT execution_id, created FROM ff_create_execution('lc-lane', execution_id =>
       '{fp:86}:00000000-0000-4000-8000-000000000014');
SELECT count(*) AS claimed FROM ff_claim('lc-lane', 'lc-worker', 'lc-worker-1');
SELECT count(*) AS table_rows_for_d FROM ff_lease_event
 WHERE execution_id = '00000000-0000-4000-8000-000000000014';
SELECT count(*) AS reader_rows_for_d FROM ff_lease_events(0, 10000)
 WHERE execution_id = '{fp:86}:00000000-0000-4000-8000-000000000014';
COMMIT;
SELECT lc_settle();
SELECT event_type, lease_epoch FROM ff_lease_events(0, 10000)
 WHERE execution_id = '{fp:86}:00000000-0000-4000-8000-000000000014';

-- describe: D holds a live lease, A (terminal) shows none.
SELECT public_state, current_attempt_index, lease_epoch, worker_instance_id,
       lease_id IS NOT NULL AS has_lease, lease_expires_at_ms > ff_server_time_ms() AS lease_live,
       total_attempt_count
  FROM ff_describe_execution('{fp:86}:00000000-0000-4000-8000-000000000014');
SELECT public_state, current_attempt_index, lease_epoch, worker_instance_id,
       lease_id IS NOT NULL AS has_lease, lease_expires_at_ms, total_attempt_count
  FROM ff_describe_execution(:A);

--
-- NOTIFY. psql would print the payload (an event id, different every run),
-- so a second session made with dblink LISTENs instead, and the test checks
-- that each payload is the id of the event just written.
--
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT dblink_connect('lc_listener',
       format('host=%s port=%s dbname=%s user=%s',
              split_part(current_setting('unix_socket_directories'), ',', 1),
              current_setting('port'), current_database(), current_user)) AS connected;
SELECT dblink_exec('lc_listener', 'LISTEN ff_completion');
SELECT dblink_exec('lc_listener', 'LISTEN ff_lease_event');

-- lc_notifications waits (up to 10 s) until the listener has received at
-- least `want` notifications, and returns those received so far.
CREATE TEMP TABLE lc_got (n serial, channel text, payload text);
CREATE FUNCTION lc_notifications(want integer) RETURNS SETOF lc_got LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..1000 LOOP
        INSERT INTO lc_got (channel, payload)
        SELECT notify_name, extra FROM dblink_get_notify('lc_listener');
        EXIT WHEN (SELECT count(*) FROM lc_got) >= want;
        PERFORM pg_sleep(0.01);
    END LOOP;
    RETURN QUERY SELECT * FROM lc_got ORDER BY n;
    DELETE FROM lc_got;
END
$$;

SELECT execution_id, created FROM ff_create_execution('lc-lane', execution_id =>
       '{fp:86}:00000000-0000-4000-8000-000000000015');
CREATE TEMP TABLE lc_claim3 AS SELECT * FROM ff_claim('lc-lane', 'lc-worker', 'lc-worker-1');
SELECT ff_complete(handle) FROM lc_claim3;
-- claim: one lease event; complete: one lease event (released) and one
-- completion event. Each payload is the event id of the row written.
SELECT g.channel,
       g.payload ~ '^[0-9]+$' AS numeric_payload,
       coalesce(le.event_type, ce.outcome) AS event
  FROM lc_notifications(3) g
  LEFT JOIN ff_lease_event le ON g.channel = 'ff_lease_event' AND le.event_id = g.payload::bigint
  LEFT JOIN ff_completion_event ce ON g.channel = 'ff_completion' AND ce.event_id = g.payload::bigint
 ORDER BY g.n;

-- With flowfabric.notify off nothing is sent: the marker NOTIFY sent after
-- the work is the first thing the listener receives.
SET flowfabric.notify = off;
SELECT execution_id, created FROM ff_create_execution('lc-lane', execution_id =>
       '{fp:86}:00000000-0000-4000-8000-000000000016');
CREATE TEMP TABLE lc_claim4 AS SELECT * FROM ff_claim('lc-lane', 'lc-worker', 'lc-worker-1');
SELECT ff_complete(handle) FROM lc_claim4;
RESET flowfabric.notify;
NOTIFY ff_completion, 'marker';
SELECT channel, payload FROM lc_notifications(1);

SELECT dblink_disconnect('lc_listener');
DROP EXTENSION dblink;

SELECT * FROM lc_state;

--
-- 05_notify: the flowfabric.notify setting, and deferred mode in a server
-- without reconciler workers (this test server runs none): with no worker to
-- hand them to, deferred notifications are sent by the committing
-- transaction itself, one per event with the event id, as in immediate mode.
-- (test/t/030_notify_deferred.pl covers deferred mode with a worker.)
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS flowfabric;
RESET client_min_messages;
\set VERBOSITY terse

-- The setting: three values, deferred the default; the boolean spellings it
-- had before still work (on = deferred).
SELECT name, setting, boot_val, vartype, context, enumvals
  FROM pg_settings WHERE name = 'flowfabric.notify';
SET flowfabric.notify = on;
SHOW flowfabric.notify;
SET flowfabric.notify = off;
SHOW flowfabric.notify;
SET flowfabric.notify = true;
SHOW flowfabric.notify;
SET flowfabric.notify = false;
SHOW flowfabric.notify;
SET flowfabric.notify = yes;
SHOW flowfabric.notify;
SET flowfabric.notify = no;
SHOW flowfabric.notify;
SET flowfabric.notify = 1;
SHOW flowfabric.notify;
SET flowfabric.notify = 0;
SHOW flowfabric.notify;
SET flowfabric.notify = IMMEDIATE;
SHOW flowfabric.notify;
SET flowfabric.notify = 'sometimes';
SHOW flowfabric.notify;
RESET flowfabric.notify;
SHOW flowfabric.notify;
-- any user may change it for their session
CREATE ROLE ff_notify05_user;
SET ROLE ff_notify05_user;
SET flowfabric.notify = off;
SHOW flowfabric.notify;
RESET flowfabric.notify;
RESET ROLE;
DROP ROLE ff_notify05_user;

-- No reconciler worker runs for this database.
SELECT count(*) AS workers FROM pg_stat_activity
 WHERE backend_type = 'flowfabric reconciler' AND datname = current_database();

-- A second session made with dblink LISTENs (psql would print payloads and
-- pids that differ every run).
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT dblink_connect('nt_listener',
       format('host=%s port=%s dbname=%s user=%s',
              split_part(current_setting('unix_socket_directories'), ',', 1),
              current_setting('port'), current_database(), current_user)) AS connected;
SELECT dblink_exec('nt_listener', 'LISTEN ff_completion');
SELECT dblink_exec('nt_listener', 'LISTEN ff_lease_event');

-- nt_notifications waits (up to 10 s) until the listener has received at
-- least `want` notifications, and returns those received so far.
CREATE TEMP TABLE nt_got (n serial, channel text, payload text, pid integer);
CREATE FUNCTION nt_notifications(want integer) RETURNS SETOF nt_got LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..1000 LOOP
        INSERT INTO nt_got (channel, payload, pid)
        SELECT notify_name, extra, be_pid FROM dblink_get_notify('nt_listener');
        EXIT WHEN (SELECT count(*) FROM nt_got) >= want;
        PERFORM pg_sleep(0.01);
    END LOOP;
    RETURN QUERY SELECT * FROM nt_got ORDER BY n;
    DELETE FROM nt_got;
END
$$;

-- Deferred, no worker: a claim of two and their completions, each in its own
-- transaction, are notified by this session, one notification per event,
-- each payload the id of its event.
SET flowfabric.notify = deferred;
SELECT count(*) AS created FROM ff_create_executions('nt-lane', array_fill(NULL::bytea, ARRAY[2]));
CREATE TEMP TABLE nt_claim AS SELECT * FROM ff_claim('nt-lane', 'nt-worker', 'nt-worker-1', max_claims => 2);
SELECT count(*) AS completed FROM (SELECT ff_complete(handle) FROM nt_claim) c;
SELECT g.channel,
       g.pid = pg_backend_pid() AS from_this_session,
       coalesce(le.event_type, ce.outcome) AS event
  FROM nt_notifications(6) g
  LEFT JOIN ff_lease_event le ON g.channel = 'ff_lease_event' AND le.event_id = g.payload::bigint
  LEFT JOIN ff_completion_event ce ON g.channel = 'ff_completion' AND ce.event_id = g.payload::bigint
 ORDER BY 1, 3;

-- Off: nothing is sent; the marker NOTIFY after the work is the first thing
-- the listener receives.
SET flowfabric.notify = off;
SELECT execution_id FROM ff_create_execution('nt-lane', execution_id =>
       '{fp:5}:00000000-0000-4000-8000-000000000501');
CREATE TEMP TABLE nt_claim2 AS SELECT * FROM ff_claim('nt-lane', 'nt-worker', 'nt-worker-1');
SELECT ff_complete(handle) FROM nt_claim2;
NOTIFY ff_completion, 'marker';
SELECT channel, payload FROM nt_notifications(1);
RESET flowfabric.notify;

-- A transaction that wrote events (and so NOTIFYs at commit) cannot be
-- prepared for two-phase commit, in deferred as in immediate mode.
SELECT execution_id FROM ff_create_execution('nt-lane', execution_id =>
       '{fp:5}:00000000-0000-4000-8000-000000000502');
BEGIN;
SELECT count(*) AS claimed FROM ff_claim('nt-lane', 'nt-worker', 'nt-worker-1');
PREPARE TRANSACTION 'nt_prepared';
SELECT count(*) AS prepared FROM pg_prepared_xacts WHERE gid = 'nt_prepared';
SELECT public_state FROM ff_read_execution_info('{fp:5}:00000000-0000-4000-8000-000000000502');

SELECT dblink_disconnect('nt_listener');
DROP EXTENSION dblink;

------------------------------------------------------------------------------
-- Background reconcilers (extension/bgworker.c, docs/reconcilers.md). With
-- shared_preload_libraries = 'flowfabric', a worker per database runs the
-- ff_reconcile_* functions by itself; these objects watch it and wake it.
------------------------------------------------------------------------------

-- One row per reconciler of every database that has a reconciler worker
-- (or had one since the server started): kept in shared memory, so it is
-- cluster-wide, costs no writes and starts empty at every server start.
CREATE FUNCTION ff_reconciler_stats(
        OUT database name, OUT reconciler text, OUT worker_pid integer, OUT interval_ms integer,
        OUT runs bigint, OUT rows_changed bigint, OUT errors bigint,
        OUT last_run_at timestamptz, OUT last_duration_ms double precision, OUT last_rows bigint,
        OUT last_error text, OUT last_error_at timestamptz)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'ff_reconciler_stats' LANGUAGE C VOLATILE;

CREATE VIEW ff_reconciler_status AS
    SELECT * FROM ff_reconciler_stats();

REVOKE ALL ON FUNCTION ff_reconciler_stats() FROM PUBLIC;
REVOKE ALL ON ff_reconciler_status FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ff_reconciler_stats() TO pg_monitor;
GRANT SELECT ON ff_reconciler_status TO pg_monitor;

-- Wake-ups: a transaction that writes a due time earlier than the worker's
-- planned wake-up sets the worker's latch when it commits. The engine's own
-- execution and attempt writes report their due times from C (lease expiry,
-- attempt timeout, delay, deadline: exec.c, attempt.c), which costs nothing
-- per statement; the other tables use this trigger, whose arguments name the
-- bigint columns holding due times (engine-clock ms).
CREATE FUNCTION ff_reconciler_wake() RETURNS trigger
    AS 'MODULE_PATHNAME', 'ff_reconciler_wake' LANGUAGE C;
REVOKE ALL ON FUNCTION ff_reconciler_wake() FROM PUBLIC;

CREATE TRIGGER ff_reconciler_wake_suspension
    BEFORE INSERT OR UPDATE OF timeout_at_ms, closed_at_ms ON ff_suspension
    FOR EACH ROW
    WHEN (NEW.closed_at_ms IS NULL AND NEW.timeout_at_ms IS NOT NULL)
    EXECUTE FUNCTION ff_reconciler_wake('timeout_at_ms');

CREATE TRIGGER ff_reconciler_wake_waitpoint
    BEFORE INSERT OR UPDATE OF expires_at_ms, state ON ff_waitpoint
    FOR EACH ROW
    WHEN (NEW.state = 'pending' AND NEW.expires_at_ms IS NOT NULL)
    EXECUTE FUNCTION ff_reconciler_wake('expires_at_ms');

CREATE TRIGGER ff_reconciler_wake_cancel_backlog
    BEFORE INSERT OR UPDATE OF grace_until_ms ON ff_cancel_backlog
    FOR EACH ROW
    EXECUTE FUNCTION ff_reconciler_wake('grace_until_ms');

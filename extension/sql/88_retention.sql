------------------------------------------------------------------------------
-- Retention of finished executions and of the outboxes (extension/retention.c,
-- docs/reconcilers.md#retention). ff_reconcile_retention deletes executions
-- terminal for flowfabric.retention_ms with everything that belongs to them
-- (a flow member only with its whole, finished flow);
-- ff_reconcile_event_retention deletes lease, signal and operator events
-- older than flowfabric.event_retention_ms. Both run in the background
-- workers (reconcilers "retention" and "event_retention").
------------------------------------------------------------------------------

-- Terminal executions outside flows, oldest first. Only terminal rows enter
-- it: one insertion at the terminal transition (which already updates the
-- other indexes), none on any other transition.
CREATE INDEX ff_execution_retention_idx ON ff_execution (terminal_at_ms)
    WHERE lifecycle_phase = 'terminal' AND flow_id IS NULL;
-- Terminal flow members, in the order of the resumable sweep that finds
-- finished flows.
CREATE INDEX ff_execution_retention_flow_idx ON ff_execution (terminal_at_ms, partition_key, execution_id)
    INCLUDE (flow_id) WHERE lifecycle_phase = 'terminal' AND flow_id IS NOT NULL;
-- The idempotency keys naming an execution go with it.
CREATE INDEX ff_idempotency_key_execution_idx ON ff_idempotency_key (partition_key, execution_id);
-- Deleting an execution cascades to its signal dedup keys: without this the
-- cascade would scan the whole table once per execution.
CREATE INDEX ff_signal_dedup_execution_idx ON ff_signal_dedup (partition_key, execution_id);

-- The flow sweep's position (it resumes after this member) and the finished
-- flow whose deletion continues in the next run. One row.
CREATE TABLE ff_retention_state (
    id                  boolean  PRIMARY KEY DEFAULT true CHECK (id),
    scan_terminal_at_ms bigint,
    scan_partition      smallint,
    scan_execution_id   uuid,
    flow_partition      smallint,
    flow_id             uuid,
    updated_at_ms       bigint,
    CHECK ((scan_terminal_at_ms IS NULL) = (scan_execution_id IS NULL)),
    CHECK ((flow_partition IS NULL) = (flow_id IS NULL))
);
INSERT INTO ff_retention_state DEFAULT VALUES;
REVOKE ALL ON ff_retention_state FROM PUBLIC;

-- Deletes up to batch_size executions terminal for flowfabric.retention_ms,
-- oldest first, with their attempts, streams, suspensions, waitpoints,
-- signals, claim grants, idempotency keys and outbox events; finished flows
-- with their members, edges and summary. Returns the executions deleted.
CREATE FUNCTION ff_reconcile_retention(batch_size integer DEFAULT 1000) RETURNS integer
    AS 'MODULE_PATHNAME', 'ff_reconcile_retention' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

-- Deletes up to batch_size lease, signal and operator events older than
-- flowfabric.event_retention_ms, below the delivery horizon. Returns the
-- events deleted.
CREATE FUNCTION ff_reconcile_event_retention(batch_size integer DEFAULT 1000) RETURNS integer
    AS 'MODULE_PATHNAME', 'ff_reconcile_event_retention' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

------------------------------------------------------------------------------
-- Flows: DAGs of executions joined by dependency edges (docs/flows.md).
-- A flow, its edges, edge groups and cancel backlog live on the flow's
-- partition (ff_flow_partition(flow_id)), like all of its member executions.
------------------------------------------------------------------------------

CREATE TABLE ff_flow (
    partition_key       smallint NOT NULL CHECK (partition_key BETWEEN 0 AND 255),
    flow_id             uuid     NOT NULL,
    flow_kind           text     NOT NULL,
    namespace           text     NOT NULL,
    -- authoritative state; completed/failed/running/blocked are derived from
    -- the members (ff_describe_flow)
    public_flow_state   text     NOT NULL CHECK (public_flow_state IN ('open', 'cancelled')),
    graph_revision      bigint   NOT NULL DEFAULT 0,   -- +1 per member added and edge staged
    node_count          integer  NOT NULL DEFAULT 0,
    edge_count          integer  NOT NULL DEFAULT 0,
    created_at_ms       bigint   NOT NULL,
    last_mutation_at_ms bigint   NOT NULL,
    terminal_at_ms      bigint,                        -- when it was cancelled
    cancellation_policy text,
    cancel_reason       text,
    tags                jsonb    NOT NULL DEFAULT '{}',
    PRIMARY KEY (partition_key, flow_id)
);

-- The flow's rows carry no foreign keys to ff_flow: a graph built in one
-- transaction re-versions the flow row at every change, and each key check
-- would walk all those versions.

-- One row per dependency edge upstream -> downstream. Staged edges count in
-- the downstream's group; applied edges block it; each applied edge is
-- resolved once, by its upstream's terminal outcome.
CREATE TABLE ff_edge (
    partition_key           smallint NOT NULL,
    flow_id                 uuid     NOT NULL,
    edge_id                 uuid     NOT NULL,
    upstream_execution_id   uuid     NOT NULL,
    downstream_execution_id uuid     NOT NULL,
    dependency_kind         text     NOT NULL,
    data_passing_ref        text,
    created_by              text     NOT NULL DEFAULT 'engine',
    created_at_ms           bigint   NOT NULL,   -- staged at
    applied_at_ms           bigint,
    resolution              text CHECK (resolution IN ('success', 'failed', 'skipped')),
    resolved_at_ms          bigint,
    PRIMARY KEY (partition_key, flow_id, edge_id),
    CHECK (upstream_execution_id <> downstream_execution_id),
    CHECK (resolution IS NULL OR applied_at_ms IS NOT NULL)
);
-- Execution ids are unique per partition, so the adjacency indexes need no
-- flow_id; leaving it out also keeps the primary key the only index that
-- matches (partition_key, flow_id, edge_id) lookups when statistics are
-- missing (a large graph built in one transaction).
CREATE INDEX ff_edge_upstream_idx ON ff_edge (partition_key, upstream_execution_id);
CREATE INDEX ff_edge_downstream_idx ON ff_edge (partition_key, downstream_execution_id);
-- ff_reconcile_dependencies: applied edges still waiting for their upstream
CREATE INDEX ff_edge_unresolved_idx ON ff_edge (partition_key, upstream_execution_id)
    WHERE applied_at_ms IS NOT NULL AND resolution IS NULL;

-- One row per downstream execution: the policy over its incoming edges and
-- the counters the cascade keeps. Written only under the downstream's row lock.
CREATE TABLE ff_edge_group (
    partition_key           smallint NOT NULL,
    flow_id                 uuid     NOT NULL,
    downstream_execution_id uuid     NOT NULL,
    policy_kind             text     NOT NULL CHECK (policy_kind IN ('all_of', 'any_of', 'quorum')),
    quorum_k                integer  CHECK (quorum_k >= 1),
    on_satisfied            text     CHECK (on_satisfied IN ('cancel_remaining', 'let_run')),
    staged_count            integer  NOT NULL DEFAULT 0,
    applied_count           integer  NOT NULL DEFAULT 0,
    success_count           integer  NOT NULL DEFAULT 0,
    failed_count            integer  NOT NULL DEFAULT 0,
    skipped_count           integer  NOT NULL DEFAULT 0,
    group_state             text     NOT NULL DEFAULT 'pending'
                                     CHECK (group_state IN ('pending', 'satisfied', 'impossible')),
    state_changed_at_ms     bigint,
    siblings_cancel_fired   boolean  NOT NULL DEFAULT false,
    siblings_cancel_reason  text,
    siblings_cancel_pending uuid[]   NOT NULL DEFAULT '{}',   -- left to ff_reconcile_sibling_cancel
    created_at_ms           bigint   NOT NULL,
    last_mutation_at_ms     bigint   NOT NULL,
    PRIMARY KEY (partition_key, flow_id, downstream_execution_id),
    CHECK ((policy_kind = 'quorum') = (quorum_k IS NOT NULL)),
    CHECK ((policy_kind = 'all_of') = (on_satisfied IS NULL)),
    CHECK (success_count >= 0 AND failed_count >= 0 AND skipped_count >= 0
           AND success_count + failed_count + skipped_count <= applied_count
           AND applied_count <= staged_count)
);
CREATE INDEX ff_edge_group_sibling_cancel_idx ON ff_edge_group (last_mutation_at_ms)
    WHERE cardinality(siblings_cancel_pending) > 0;

-- Flow cancels with members still to cancel (or, after ff_cancel_flow_header,
-- still to acknowledge). ff_reconcile_cancel_backlog drains entries whose
-- grace period has passed.
CREATE TABLE ff_cancel_backlog (
    partition_key       smallint NOT NULL,
    flow_id             uuid     NOT NULL,
    requested_at_ms     bigint   NOT NULL,
    requester           text     NOT NULL DEFAULT '',
    reason              text     NOT NULL DEFAULT '',
    grace_until_ms      bigint   NOT NULL,
    cancellation_policy text     NOT NULL,
    PRIMARY KEY (partition_key, flow_id)
);
CREATE INDEX ff_cancel_backlog_grace_idx ON ff_cancel_backlog (grace_until_ms);

CREATE TABLE ff_cancel_backlog_member (
    partition_key smallint NOT NULL,
    flow_id       uuid     NOT NULL,
    execution_id  uuid     NOT NULL,
    PRIMARY KEY (partition_key, flow_id, execution_id),
    FOREIGN KEY (partition_key, flow_id) REFERENCES ff_cancel_backlog ON DELETE CASCADE
);

-- Dashboard projection written by ff_project_flow_summary.
CREATE TABLE ff_flow_summary (
    partition_key            smallint NOT NULL,
    flow_id                  uuid     NOT NULL,
    total_members            bigint   NOT NULL DEFAULT 0,
    sampled_members          integer  NOT NULL DEFAULT 0,
    members_completed        integer  NOT NULL DEFAULT 0,
    members_failed           integer  NOT NULL DEFAULT 0,
    members_cancelled        integer  NOT NULL DEFAULT 0,
    members_expired          integer  NOT NULL DEFAULT 0,
    members_skipped          integer  NOT NULL DEFAULT 0,
    members_active           integer  NOT NULL DEFAULT 0,
    members_suspended        integer  NOT NULL DEFAULT 0,
    members_waiting          integer  NOT NULL DEFAULT 0,
    members_delayed          integer  NOT NULL DEFAULT 0,
    members_rate_limited     integer  NOT NULL DEFAULT 0,
    members_waiting_children integer  NOT NULL DEFAULT 0,
    public_flow_state        text     NOT NULL,
    last_summary_update_at   bigint   NOT NULL,
    PRIMARY KEY (partition_key, flow_id)
);

REVOKE ALL ON ff_flow, ff_edge, ff_edge_group, ff_cancel_backlog, ff_cancel_backlog_member,
              ff_flow_summary FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('ff_flow', '');
SELECT pg_catalog.pg_extension_config_dump('ff_edge', '');
SELECT pg_catalog.pg_extension_config_dump('ff_edge_group', '');
SELECT pg_catalog.pg_extension_config_dump('ff_cancel_backlog', '');
SELECT pg_catalog.pg_extension_config_dump('ff_cancel_backlog_member', '');
SELECT pg_catalog.pg_extension_config_dump('ff_flow_summary', '');

------------------------------------------------------------------------------
-- Graph construction and flow cancel (C). Each call is one transaction's
-- worth of work; lock order: flow row, executions (upstream before
-- downstream), attempts, edges, edge group.
------------------------------------------------------------------------------

CREATE FUNCTION ff_create_flow(flow_id uuid, flow_kind text DEFAULT 'dag',
                               namespace text DEFAULT 'default',
                               OUT flow_id uuid, OUT outcome text)
    AS 'MODULE_PATHNAME', 'ff_create_flow' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_add_execution_to_flow(flow_id uuid, execution_id text,
                                         OUT execution_id text, OUT outcome text,
                                         OUT node_count integer)
    AS 'MODULE_PATHNAME', 'ff_add_execution_to_flow' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_stage_dependency_edge(flow_id uuid, edge_id uuid,
                                         upstream_execution_id text,
                                         downstream_execution_id text,
                                         expected_graph_revision bigint,
                                         dependency_kind text DEFAULT 'success_only',
                                         data_passing_ref text DEFAULT NULL,
                                         OUT edge_id uuid, OUT new_graph_revision bigint)
    AS 'MODULE_PATHNAME', 'ff_stage_dependency_edge' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_apply_dependency_to_child(flow_id uuid, edge_id uuid,
                                             downstream_execution_id text,
                                             upstream_execution_id text DEFAULT NULL,
                                             OUT outcome text, OUT unsatisfied_count integer)
    AS 'MODULE_PATHNAME', 'ff_apply_dependency_to_child' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_set_edge_group_policy(flow_id uuid, downstream_execution_id text, policy jsonb)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ff_set_edge_group_policy' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_wait_children(handle bytea) RETURNS text
    AS 'MODULE_PATHNAME', 'ff_wait_children' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_cancel_flow(flow_id uuid, policy text DEFAULT 'cancel_all',
                               wait text DEFAULT 'no_wait', wait_timeout_ms bigint DEFAULT NULL,
                               reason text DEFAULT 'operator_requested',
                               OUT outcome text, OUT cancellation_policy text,
                               OUT member_execution_ids text[], OUT pending_execution_ids text[])
    AS 'MODULE_PATHNAME', 'ff_cancel_flow' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_cancel_flow_header(flow_id uuid, reason text, cancellation_policy text,
                                      OUT outcome text, OUT cancellation_policy text,
                                      OUT cancel_reason text, OUT member_execution_ids text[])
    AS 'MODULE_PATHNAME', 'ff_cancel_flow_header' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_ack_cancel_member(flow_id uuid, execution_id text) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
DECLARE
    p smallint := ff_flow_partition(flow_id);
    u uuid := (ff_split_execution_id(execution_id)).execution_uuid;  -- malformed id: YFV01
BEGIN
    IF flow_id IS NULL OR execution_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'YFV01',
            MESSAGE = 'invalid_input: flow_id and execution_id must not be null';
    END IF;
    DELETE FROM ff_cancel_backlog_member m
     WHERE m.partition_key = p AND m.flow_id = ff_ack_cancel_member.flow_id AND m.execution_id = u;
    DELETE FROM ff_cancel_backlog b
     WHERE b.partition_key = p AND b.flow_id = ff_ack_cancel_member.flow_id
       AND NOT EXISTS (SELECT 1 FROM ff_cancel_backlog_member m
                        WHERE m.partition_key = p AND m.flow_id = ff_ack_cancel_member.flow_id);
END
$$;

-- One-shot reconcilers; each returns how many rows it changed.
CREATE FUNCTION ff_reconcile_dependencies(batch_size integer DEFAULT 1000) RETURNS integer
    AS 'MODULE_PATHNAME', 'ff_reconcile_dependencies' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_reconcile_sibling_cancel(batch_size integer DEFAULT 1000) RETURNS integer
    AS 'MODULE_PATHNAME', 'ff_reconcile_sibling_cancel' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

CREATE FUNCTION ff_reconcile_cancel_backlog(batch_size integer DEFAULT 1000) RETURNS integer
    AS 'MODULE_PATHNAME', 'ff_reconcile_cancel_backlog' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;

------------------------------------------------------------------------------
-- Flow reads. Unknown flows give no row (or NULL); malformed ids are an error.
------------------------------------------------------------------------------

-- ff_flow_summary_of counts a flow's members by public_state and derives the
-- flow's state (internal): a cancelled flow is cancelled; otherwise all
-- members terminal -> failed (any failed, cancelled or expired member) or
-- completed; any active -> running; any suspended, delayed, rate-limited or
-- waiting for children -> blocked; else open (also with no members).
CREATE FUNCTION ff_flow_summary_of(partition_key smallint, flow_id uuid, stored_state text,
    OUT total_members bigint, OUT members_completed integer, OUT members_failed integer,
    OUT members_cancelled integer, OUT members_expired integer, OUT members_skipped integer,
    OUT members_active integer, OUT members_suspended integer, OUT members_waiting integer,
    OUT members_delayed integer, OUT members_rate_limited integer,
    OUT members_waiting_children integer, OUT public_flow_state text)
    LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT c.total, c.completed, c.failed, c.cancelled, c.expired, c.skipped, c.active,
           c.suspended, c.waiting, c.delayed, c.rate_limited, c.waiting_children,
           CASE
               WHEN ff_flow_summary_of.stored_state = 'cancelled' THEN 'cancelled'
               WHEN c.total = 0 THEN 'open'
               WHEN c.completed + c.failed + c.cancelled + c.expired + c.skipped = c.total
                   THEN CASE WHEN c.failed + c.cancelled + c.expired > 0
                             THEN 'failed' ELSE 'completed' END
               WHEN c.active > 0 THEN 'running'
               WHEN c.suspended + c.delayed + c.rate_limited + c.waiting_children > 0 THEN 'blocked'
               ELSE 'open'
           END
      FROM (SELECT count(*) AS total,
                   (count(*) FILTER (WHERE e.public_state = 'completed'))::integer AS completed,
                   (count(*) FILTER (WHERE e.public_state = 'failed'))::integer AS failed,
                   (count(*) FILTER (WHERE e.public_state = 'cancelled'))::integer AS cancelled,
                   (count(*) FILTER (WHERE e.public_state = 'expired'))::integer AS expired,
                   (count(*) FILTER (WHERE e.public_state = 'skipped'))::integer AS skipped,
                   (count(*) FILTER (WHERE e.public_state = 'active'))::integer AS active,
                   (count(*) FILTER (WHERE e.public_state = 'suspended'))::integer AS suspended,
                   (count(*) FILTER (WHERE e.public_state = 'waiting'))::integer AS waiting,
                   (count(*) FILTER (WHERE e.public_state = 'delayed'))::integer AS delayed,
                   (count(*) FILTER (WHERE e.public_state = 'rate_limited'))::integer AS rate_limited,
                   (count(*) FILTER (WHERE e.public_state = 'waiting_children'))::integer AS waiting_children
              FROM ff_execution e
             WHERE e.partition_key = ff_flow_summary_of.partition_key
               AND e.flow_id = ff_flow_summary_of.flow_id) c;
END;
REVOKE ALL ON FUNCTION ff_flow_summary_of(smallint, uuid, text) FROM PUBLIC;

-- ff_edge_group_json renders one edge group as ff_describe_flow shows it (internal).
CREATE FUNCTION ff_edge_group_json(g ff_edge_group) RETURNS jsonb
    LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT jsonb_build_object(
        'downstream_execution_id', ff_format_execution_id(g.partition_key, g.downstream_execution_id),
        'policy', jsonb_strip_nulls(jsonb_build_object('kind', g.policy_kind, 'k', g.quorum_k,
                                                       'on_satisfied', g.on_satisfied)),
        'group_state', g.group_state,
        'k_target', CASE g.policy_kind WHEN 'all_of' THEN g.staged_count
                                       WHEN 'any_of' THEN 1 ELSE g.quorum_k END,
        'total_deps', g.staged_count,
        'applied_count', g.applied_count,
        'satisfied_count', g.success_count,
        'failed_count', g.failed_count,
        'skipped_count', g.skipped_count,
        'running_count', g.staged_count - g.success_count - g.failed_count - g.skipped_count,
        'state_changed_at_ms', g.state_changed_at_ms,
        'cancel_siblings_fired', g.siblings_cancel_fired,
        'cancel_siblings_reason', g.siblings_cancel_reason,
        'cancel_siblings_pending',
            (SELECT coalesce(jsonb_agg(ff_format_execution_id(g.partition_key, u) ORDER BY u), '[]')
               FROM unnest(g.siblings_cancel_pending) AS u));
END;
REVOKE ALL ON FUNCTION ff_edge_group_json(ff_edge_group) FROM PUBLIC;

CREATE FUNCTION ff_describe_flow(flow_id uuid)
    RETURNS TABLE (flow_id uuid, flow_kind text, namespace text, public_flow_state text,
                   graph_revision bigint, node_count integer, edge_count integer,
                   created_at_ms bigint, last_mutation_at_ms bigint, cancelled_at_ms bigint,
                   cancel_reason text, cancellation_policy text, tags jsonb, edge_groups jsonb)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp
BEGIN ATOMIC
    SELECT f.flow_id, f.flow_kind, f.namespace, s.public_flow_state, f.graph_revision,
           f.node_count, f.edge_count, f.created_at_ms, f.last_mutation_at_ms, f.terminal_at_ms,
           f.cancel_reason, f.cancellation_policy, f.tags,
           (SELECT coalesce(jsonb_agg(ff_edge_group_json(g) ORDER BY g.downstream_execution_id), '[]')
              FROM ff_edge_group g
             WHERE g.partition_key = f.partition_key AND g.flow_id = f.flow_id)
      FROM ff_flow f
     CROSS JOIN LATERAL ff_flow_summary_of(f.partition_key, f.flow_id, f.public_flow_state) s
     WHERE f.partition_key = ff_flow_partition(ff_describe_flow.flow_id)
       AND f.flow_id = ff_describe_flow.flow_id;
END;

CREATE FUNCTION ff_list_flows(partition_key text, cursor uuid DEFAULT NULL,
                              max_results integer DEFAULT 100)
    RETURNS TABLE (flow_id uuid, created_at_ms bigint, status text, public_flow_state text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp
BEGIN ATOMIC
    -- the partition key is checked first (YFV01), whether or not any flow matches
    SELECT ff_parse_partition_key(ff_list_flows.partition_key);
    SELECT f.flow_id, f.created_at_ms,
           CASE WHEN s.public_flow_state IN ('completed', 'failed', 'cancelled')
                THEN s.public_flow_state ELSE 'active' END,
           s.public_flow_state
      FROM ff_flow f
     CROSS JOIN LATERAL ff_flow_summary_of(f.partition_key, f.flow_id, f.public_flow_state) s
     WHERE f.partition_key = ff_parse_partition_key(ff_list_flows.partition_key)
       AND (ff_list_flows.cursor IS NULL OR f.flow_id > ff_list_flows.cursor)
     ORDER BY f.flow_id
     LIMIT greatest(least(ff_list_flows.max_results, 1000), 0);
END;

CREATE FUNCTION ff_describe_edge(flow_id uuid, edge_id uuid)
    RETURNS TABLE (edge_id uuid, flow_id uuid, upstream_execution_id text,
                   downstream_execution_id text, dependency_kind text,
                   satisfaction_condition text, data_passing_ref text, edge_state text,
                   created_at_ms bigint, created_by text, applied_at_ms bigint,
                   resolution text, resolved_at_ms bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp
BEGIN ATOMIC
    SELECT e.edge_id, e.flow_id, ff_format_execution_id(e.partition_key, e.upstream_execution_id),
           ff_format_execution_id(e.partition_key, e.downstream_execution_id), e.dependency_kind,
           'all_required', e.data_passing_ref,
           CASE WHEN e.applied_at_ms IS NULL THEN 'pending' ELSE 'applied' END,
           e.created_at_ms, e.created_by, e.applied_at_ms, e.resolution, e.resolved_at_ms
      FROM ff_edge e
     WHERE e.partition_key = ff_flow_partition(ff_describe_edge.flow_id)
       AND e.flow_id = ff_describe_edge.flow_id AND e.edge_id = ff_describe_edge.edge_id;
END;

-- ff_flow_edge_node checks ff_list_edges' direction and node (internal).
CREATE FUNCTION ff_flow_edge_node(direction text, execution_id text,
                                  OUT outgoing boolean, OUT node uuid)
    LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF direction IS NULL OR direction NOT IN ('outgoing', 'incoming') THEN
        RAISE EXCEPTION USING ERRCODE = 'YFV01',
            MESSAGE = format('invalid_input: direction must be outgoing or incoming, not %s',
                             coalesce(direction, 'NULL'));
    END IF;
    IF execution_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'YFV01', MESSAGE = 'invalid_input: execution_id must not be null';
    END IF;
    outgoing := direction = 'outgoing';
    node := (ff_split_execution_id(execution_id)).execution_uuid;
END
$$;
REVOKE ALL ON FUNCTION ff_flow_edge_node(text, text) FROM PUBLIC;

-- direction 'outgoing': edges out of execution_id; 'incoming': edges into it.
CREATE FUNCTION ff_list_edges(flow_id uuid, direction text, execution_id text)
    RETURNS TABLE (edge_id uuid, flow_id uuid, upstream_execution_id text,
                   downstream_execution_id text, dependency_kind text,
                   satisfaction_condition text, data_passing_ref text, edge_state text,
                   created_at_ms bigint, created_by text, applied_at_ms bigint,
                   resolution text, resolved_at_ms bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp
BEGIN ATOMIC
    -- direction and node are checked first (YFV01), whatever the join order
    -- and whether or not the flow has edges (a NULL flow_id lists nothing)
    SELECT ff_flow_edge_node(ff_list_edges.direction, ff_list_edges.execution_id)
     WHERE ff_list_edges.flow_id IS NOT NULL;
    SELECT e.edge_id, e.flow_id, ff_format_execution_id(e.partition_key, e.upstream_execution_id),
           ff_format_execution_id(e.partition_key, e.downstream_execution_id), e.dependency_kind,
           'all_required', e.data_passing_ref,
           CASE WHEN e.applied_at_ms IS NULL THEN 'pending' ELSE 'applied' END,
           e.created_at_ms, e.created_by, e.applied_at_ms, e.resolution, e.resolved_at_ms
      FROM ff_flow_edge_node(ff_list_edges.direction, ff_list_edges.execution_id) AS n
      JOIN ff_edge e
        ON e.partition_key = ff_flow_partition(ff_list_edges.flow_id)
       AND e.flow_id = ff_list_edges.flow_id
       AND CASE WHEN n.outgoing THEN e.upstream_execution_id = n.node
                ELSE e.downstream_execution_id = n.node END
     ORDER BY e.edge_id;
END;

CREATE FUNCTION ff_resolve_execution_flow_id(execution_id text) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp
BEGIN ATOMIC
    SELECT e.flow_id FROM ff_execution_by_id(ff_resolve_execution_flow_id.execution_id) AS e;
END;

-- not_found, not_runnable, owned, terminal, eligible, blocked_by_dependencies
-- or impossible (the downstream's edge group can no longer be satisfied).
CREATE FUNCTION ff_evaluate_flow_eligibility(execution_id text) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp
BEGIN ATOMIC
    SELECT CASE
               WHEN e.execution_id IS NULL THEN 'not_found'
               WHEN e.lifecycle_phase <> 'runnable' THEN 'not_runnable'
               WHEN e.ownership_state <> 'unowned' THEN 'owned'
               WHEN e.terminal_outcome <> 'none' THEN 'terminal'
               WHEN e.flow_id IS NULL THEN 'eligible'
               WHEN g.group_state = 'impossible' THEN 'impossible'
               WHEN g.group_state = 'pending' AND g.staged_count > 0 THEN 'blocked_by_dependencies'
               ELSE 'eligible'
           END
      FROM (SELECT 1) AS one
      LEFT JOIN ff_execution_by_id(ff_evaluate_flow_eligibility.execution_id) AS e ON true
      LEFT JOIN ff_edge_group g ON g.partition_key = e.partition_key AND g.flow_id = e.flow_id
                               AND g.downstream_execution_id = e.execution_id;
END;

CREATE FUNCTION ff_get_flow_tag(flow_id uuid, key text) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp
BEGIN ATOMIC
    -- the key is checked first, so a bad key fails even for an unknown flow
    SELECT f.tags ->> k.key
      FROM ff_check_tag_key(ff_get_flow_tag.key) AS k(key)
      LEFT JOIN ff_flow f ON f.partition_key = ff_flow_partition(ff_get_flow_tag.flow_id)
                         AND f.flow_id = ff_get_flow_tag.flow_id;
END;

CREATE FUNCTION ff_set_flow_tag(flow_id uuid, key text, value text) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    k text := ff_check_tag_key(key);
BEGIN
    IF flow_id IS NULL OR value IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'YFV01',
            MESSAGE = 'invalid_input: flow_id and tag value must not be null';
    END IF;
    UPDATE ff_flow f
       SET tags = jsonb_set(f.tags, ARRAY[k], to_jsonb(value), true),
           last_mutation_at_ms = ff_server_time_ms()
     WHERE f.partition_key = ff_flow_partition(flow_id) AND f.flow_id = flow_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'YFN02',
            MESSAGE = format('flow_not_found: flow %s does not exist', flow_id);
    END IF;
END
$$;

-- ff_project_flow_summary counts the flow's members by public_state, derives
-- its state and stores both in ff_flow_summary (nothing is stored for a flow
-- without members: projected = false).
CREATE FUNCTION ff_project_flow_summary(flow_id uuid)
    RETURNS TABLE (projected boolean, total_members bigint, members_completed integer,
                   members_failed integer, members_cancelled integer, members_expired integer,
                   members_skipped integer, members_active integer, members_suspended integer,
                   members_waiting integer, members_delayed integer, members_rate_limited integer,
                   members_waiting_children integer, public_flow_state text)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    p smallint := ff_flow_partition(ff_project_flow_summary.flow_id);
    stored text;
    s record;
BEGIN
    SELECT f.public_flow_state INTO stored FROM ff_flow f
     WHERE f.partition_key = p AND f.flow_id = ff_project_flow_summary.flow_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'YFN02',
            MESSAGE = format('flow_not_found: flow %s does not exist',
                             coalesce(ff_project_flow_summary.flow_id::text, 'NULL'));
    END IF;
    SELECT * INTO s FROM ff_flow_summary_of(p, ff_project_flow_summary.flow_id, stored);
    IF s.total_members > 0 THEN
        INSERT INTO ff_flow_summary AS fs (partition_key, flow_id, total_members, sampled_members,
               members_completed, members_failed, members_cancelled, members_expired,
               members_skipped, members_active, members_suspended, members_waiting,
               members_delayed, members_rate_limited, members_waiting_children,
               public_flow_state, last_summary_update_at)
        VALUES (p, ff_project_flow_summary.flow_id, s.total_members,
                least(s.total_members, 2147483647)::integer,
                s.members_completed, s.members_failed, s.members_cancelled, s.members_expired,
                s.members_skipped, s.members_active, s.members_suspended, s.members_waiting,
                s.members_delayed, s.members_rate_limited, s.members_waiting_children,
                s.public_flow_state, ff_server_time_ms())
        ON CONFLICT (partition_key, flow_id) DO UPDATE SET
               total_members = EXCLUDED.total_members, sampled_members = EXCLUDED.sampled_members,
               members_completed = EXCLUDED.members_completed,
               members_failed = EXCLUDED.members_failed,
               members_cancelled = EXCLUDED.members_cancelled,
               members_expired = EXCLUDED.members_expired,
               members_skipped = EXCLUDED.members_skipped,
               members_active = EXCLUDED.members_active,
               members_suspended = EXCLUDED.members_suspended,
               members_waiting = EXCLUDED.members_waiting,
               members_delayed = EXCLUDED.members_delayed,
               members_rate_limited = EXCLUDED.members_rate_limited,
               members_waiting_children = EXCLUDED.members_waiting_children,
               public_flow_state = EXCLUDED.public_flow_state,
               last_summary_update_at = EXCLUDED.last_summary_update_at;
    END IF;
    RETURN QUERY SELECT s.total_members > 0, s.total_members, s.members_completed,
           s.members_failed, s.members_cancelled, s.members_expired, s.members_skipped,
           s.members_active, s.members_suspended, s.members_waiting, s.members_delayed,
           s.members_rate_limited, s.members_waiting_children, s.public_flow_state;
END
$$;

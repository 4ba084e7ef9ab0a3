------------------------------------------------------------------------------
-- Roles and privileges (docs/security.md). Applied last, over every function
-- and relation of the extension, so it is secure by default: EXECUTE is
-- revoked from PUBLIC on every member function and granted per role from the
-- classification below. A function that is not classified (one added later by
-- another area) is granted to ff_admin only.
--
--   ff_worker    producers and workers: create, claim, renew, progress,
--                complete, fail, cancel, delay, suspend, waitpoints,
--                streams, flow construction, usage reports, reads, outbox
--                readers, batches
--   ff_signaler  outside systems: ff_deliver_signal (with a waitpoint
--                token), ff_ping, ff_server_time_ms; nothing else
--   ff_admin     everything: the HMAC keystore, operator controls, budget
--                and quota administration, reconcilers, flow cancel,
--                invariant checks; member of
--                ff_worker and ff_signaler
--
-- The roles are cluster-wide: created NOLOGIN here if missing (grant them to
-- login roles), and left in place by DROP EXTENSION.
------------------------------------------------------------------------------

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['ff_worker', 'ff_signaler', 'ff_admin'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;   -- another database's CREATE EXTENSION created it meanwhile
            END;
        END IF;
    END LOOP;
    FOREACH r IN ARRAY ARRAY['ff_worker', 'ff_signaler'] LOOP
        IF NOT pg_catalog.pg_has_role('ff_admin', r, 'MEMBER') THEN
            EXECUTE pg_catalog.format('GRANT %I TO ff_admin', r);
        END IF;
    END LOOP;
END
$$;

-- The classification: which role each function is granted to. 'internal'
-- functions are granted to nobody (only the extension's SECURITY DEFINER
-- functions call them). Names not listed here are ff_admin's.
CREATE FUNCTION ff_security_classification()
    RETURNS TABLE (function_name text, grantee text, what text)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT c.function_name, c.grantee, c.what FROM (VALUES
    -- signaler: outside systems that resume suspended executions
    ('ff_deliver_signal',              'ff_signaler', 'signal delivery (token checked)'),
    ('ff_ping',                        'ff_signaler', 'liveness'),
    ('ff_server_time_ms',              'ff_signaler', 'engine clock'),
    -- worker: lifecycle of executions, by producers and lease holders
    ('ff_create_execution',            'ff_worker', 'create'),
    ('ff_create_executions',           'ff_worker', 'create (batch)'),
    ('ff_claim',                       'ff_worker', 'claim'),
    ('ff_renew',                       'ff_worker', 'lease holder'),
    ('ff_renew_many',                  'ff_worker', 'lease holder (batch)'),
    ('ff_progress',                    'ff_worker', 'lease holder'),
    ('ff_complete',                    'ff_worker', 'lease holder'),
    ('ff_complete_many',               'ff_worker', 'lease holder (batch)'),
    ('ff_fail',                        'ff_worker', 'lease holder'),
    ('ff_fail_many',                   'ff_worker', 'lease holder (batch)'),
    ('ff_cancel',                      'ff_worker', 'lease holder'),
    ('ff_delay',                       'ff_worker', 'lease holder'),
    -- worker: suspension and waitpoints (tokens go to the worker that suspends)
    ('ff_suspend',                     'ff_worker', 'lease holder'),
    ('ff_suspend_by_triple',           'ff_worker', 'lease holder'),
    ('ff_create_waitpoint',            'ff_worker', 'lease holder'),
    ('ff_close_waitpoint',             'ff_worker', 'waitpoints'),
    ('ff_observe_signals',             'ff_worker', 'lease holder'),
    ('ff_claim_resumed_execution',     'ff_worker', 'claim'),
    ('ff_list_pending_waitpoints',     'ff_worker', 'read (tokens redacted)'),
    ('ff_list_suspended',              'ff_worker', 'read'),
    -- worker: flows (construction by producers, wait_children by lease holders)
    ('ff_wait_children',               'ff_worker', 'lease holder'),
    ('ff_create_flow',                 'ff_worker', 'flow construction'),
    ('ff_add_execution_to_flow',       'ff_worker', 'flow construction'),
    ('ff_stage_dependency_edge',       'ff_worker', 'flow construction'),
    ('ff_apply_dependency_to_child',   'ff_worker', 'flow construction'),
    ('ff_set_edge_group_policy',       'ff_worker', 'flow construction'),
    ('ff_describe_flow',               'ff_worker', 'read'),
    ('ff_list_flows',                  'ff_worker', 'read'),
    ('ff_describe_edge',               'ff_worker', 'read'),
    ('ff_list_edges',                  'ff_worker', 'read'),
    ('ff_resolve_execution_flow_id',   'ff_worker', 'read'),
    ('ff_evaluate_flow_eligibility',   'ff_worker', 'read'),
    ('ff_get_flow_tag',                'ff_worker', 'read'),
    ('ff_set_flow_tag',                'ff_worker', 'tags'),
    -- worker: streams
    ('ff_append_frame',                'ff_worker', 'lease holder'),
    ('ff_read_stream',                 'ff_worker', 'read'),
    ('ff_tail_stream',                 'ff_worker', 'read'),
    ('ff_stream_info',                 'ff_worker', 'read'),
    ('ff_read_summary',                'ff_worker', 'read'),
    -- worker: the scheduler's worker side and the worker registry
    ('ff_claim_for_worker',            'ff_worker', 'claim'),
    ('ff_claim_execution',             'ff_worker', 'claim (with its grant)'),
    ('ff_claim_from_resume_grant',     'ff_worker', 'claim (with its grant)'),
    ('ff_issue_reclaim_grant',         'ff_worker', 'reclaim (RFC-024, for itself)'),
    ('ff_reclaim_execution',           'ff_worker', 'reclaim (with its grant)'),
    ('ff_register_worker',             'ff_worker', 'worker registry'),
    ('ff_heartbeat_worker',            'ff_worker', 'worker registry'),
    -- worker: budgets and quotas, the worker's side (usage of its own attempt, reads)
    ('ff_report_usage',                'ff_worker', 'lease holder'),
    ('ff_get_budget_status',           'ff_worker', 'read'),
    ('ff_read_budget_usage_and_limits','ff_worker', 'read'),
    ('ff_read_quota_policy_limits',    'ff_worker', 'read'),
    ('ff_read_admission',              'ff_worker', 'read'),
    ('ff_budget_partition',            'ff_worker', 'pure'),
    -- worker: reads, tags, outbox readers
    ('ff_describe_execution',          'ff_worker', 'read'),
    ('ff_read_execution_info',         'ff_worker', 'read'),
    ('ff_read_execution_state',        'ff_worker', 'read'),
    ('ff_get_execution_result',        'ff_worker', 'read'),
    ('ff_read_execution_context',      'ff_worker', 'read'),
    ('ff_read_current_attempt_index',  'ff_worker', 'read'),
    ('ff_read_total_attempt_count',    'ff_worker', 'read'),
    ('ff_get_execution_namespace',     'ff_worker', 'read'),
    ('ff_get_execution_tag',           'ff_worker', 'read'),
    ('ff_set_execution_tag',           'ff_worker', 'tags'),
    ('ff_list_executions',             'ff_worker', 'read'),
    ('ff_list_lanes',                  'ff_worker', 'read'),
    ('ff_capabilities',                'ff_worker', 'read'),
    ('ff_completion_events',           'ff_worker', 'outbox reader'),
    ('ff_lease_events',                'ff_worker', 'outbox reader'),
    ('ff_signal_events',               'ff_worker', 'outbox reader'),
    -- worker: pure helpers (ids, partitions, handle decoding, state alphabet)
    ('ff_crc16',                       'ff_worker', 'pure'),
    ('ff_solo_partition',              'ff_worker', 'pure'),
    ('ff_flow_partition',              'ff_worker', 'pure'),
    ('ff_execution_partition',         'ff_worker', 'pure'),
    ('ff_canonical_execution_id',      'ff_worker', 'pure'),
    ('ff_split_execution_id',          'ff_worker', 'pure'),
    ('ff_format_execution_id',         'ff_worker', 'pure'),
    ('ff_parse_partition_key',         'ff_worker', 'pure'),
    ('ff_new_execution_id',            'ff_worker', 'pure'),
    ('ff_new_flow_execution_id',       'ff_worker', 'pure'),
    ('ff_check_lane_id',               'ff_worker', 'pure'),
    ('ff_check_tag_key',               'ff_worker', 'pure'),
    ('ff_handle_describe',             'ff_worker', 'pure'),
    ('ff_derive_public_state',         'ff_worker', 'pure'),
    ('ff_state_vector_valid',          'ff_worker', 'pure'),
    ('ff_attempt_state_valid',         'ff_worker', 'pure'),
    ('ff_execution_row_valid',         'ff_worker', 'pure'),
    ('ff_lease_event_type_valid',      'ff_worker', 'pure'),
    ('ff_completion_outcome_valid',    'ff_worker', 'pure'),
    -- admin: the HMAC keystore, raw tokens and the token primitive
    ('ff_seed_waitpoint_hmac_secret',  'ff_admin', 'keystore'),
    ('ff_rotate_waitpoint_hmac_secret_all', 'ff_admin', 'keystore'),
    ('ff_list_waitpoint_hmac_kids',    'ff_admin', 'keystore'),
    ('ff_read_waitpoint_token',        'ff_admin', 'raw token (a credential)'),
    ('ff_waitpoint_token_sign',        'ff_admin', 'token primitive'),
    ('ff_waitpoint_token_check',       'ff_admin', 'token primitive'),
    ('ff_handle_encode',               'ff_admin', 'testing aid'),
    -- admin: operator controls on suspensions, executions, lanes, workers, the scheduler
    ('ff_deliver_approval_signal',     'ff_admin', 'operator (no token)'),
    ('ff_resume_execution',            'ff_admin', 'operator'),
    ('ff_expire_suspension',           'ff_admin', 'operator'),
    ('ff_cancel_execution',            'ff_admin', 'operator'),
    ('ff_change_priority',             'ff_admin', 'operator'),
    ('ff_replay_execution',            'ff_admin', 'operator'),
    ('ff_revoke_lease',                'ff_admin', 'operator'),
    ('ff_operator_events',             'ff_admin', 'operator outbox'),
    ('ff_pause_lane',                  'ff_admin', 'operator'),
    ('ff_resume_lane',                 'ff_admin', 'operator'),
    ('ff_drain_lane',                  'ff_admin', 'operator'),
    ('ff_mark_worker_dead',            'ff_admin', 'operator'),
    ('ff_list_workers',                'ff_admin', 'operator read'),
    ('ff_list_expired_leases',         'ff_admin', 'operator read'),
    ('ff_issue_claim_grant',           'ff_admin', 'scheduler'),
    ('ff_issue_grant_and_claim',       'ff_admin', 'operator'),
    ('ff_scan_eligible_executions',    'ff_admin', 'scheduler'),
    ('ff_block_route',                 'ff_admin', 'scheduler'),
    ('ff_unblock_execution',           'ff_admin', 'scheduler'),
    -- admin: budgets, quotas and admission control
    ('ff_create_budget',               'ff_admin', 'budget admin'),
    ('ff_update_budget_limits',        'ff_admin', 'budget admin'),
    ('ff_reset_budget',                'ff_admin', 'budget admin'),
    ('ff_report_usage_admin',          'ff_admin', 'budget admin'),
    ('ff_record_spend',                'ff_admin', 'budget admin (any execution)'),
    ('ff_release_budget',              'ff_admin', 'budget admin'),
    ('ff_create_quota_policy',         'ff_admin', 'quota admin'),
    ('ff_check_admission',             'ff_admin', 'admission (scheduler)'),
    ('ff_release_admission',           'ff_admin', 'admission (scheduler)'),
    ('ff_block_execution_for_admission', 'ff_admin', 'admission (scheduler)'),
    -- admin: flow administration
    ('ff_cancel_flow',                 'ff_admin', 'flow admin'),
    ('ff_cancel_flow_header',          'ff_admin', 'flow admin'),
    ('ff_ack_cancel_member',           'ff_admin', 'flow admin'),
    ('ff_project_flow_summary',        'ff_admin', 'flow admin'),
    -- admin: reconcilers (the background workers run them as superuser)
    ('ff_reconcile_lease_expiry',      'ff_admin', 'reconciler'),
    ('ff_reconcile_attempt_timeout',   'ff_admin', 'reconciler'),
    ('ff_reconcile_delayed_promotion', 'ff_admin', 'reconciler'),
    ('ff_reconcile_execution_deadline','ff_admin', 'reconciler'),
    ('ff_reconcile_suspension_timeout','ff_admin', 'reconciler'),
    ('ff_reconcile_pending_waitpoint_expiry', 'ff_admin', 'reconciler'),
    ('ff_reconcile_dependencies',      'ff_admin', 'reconciler'),
    ('ff_reconcile_sibling_cancel',    'ff_admin', 'reconciler'),
    ('ff_reconcile_cancel_backlog',    'ff_admin', 'reconciler'),
    ('ff_reconcile_stream_retention',  'ff_admin', 'reconciler'),
    ('ff_reconcile_claim_grants',      'ff_admin', 'reconciler'),
    ('ff_reconcile_worker_expiry',     'ff_admin', 'reconciler'),
    ('ff_reconcile_budget_reset',      'ff_admin', 'reconciler'),
    ('ff_reconcile_budget_counters',   'ff_admin', 'reconciler'),
    ('ff_reconcile_budget_executions', 'ff_admin', 'reconciler'),
    ('ff_reconcile_quota_counters',    'ff_admin', 'reconciler'),
    ('ff_reconcile_quota_unblock',     'ff_admin', 'reconciler'),
    ('ff_reconcile_admission_cleanup', 'ff_admin', 'reconciler'),
    ('ff_reconcile_retention',         'ff_admin', 'reconciler (deletes finished executions)'),
    ('ff_reconcile_event_retention',   'ff_admin', 'reconciler (deletes old outbox events)'),
    ('ff_reconciler_stats',            'ff_admin', 'monitoring (also pg_monitor)'),
    -- admin: this file and the invariant checker
    ('ff_check_invariants',            'ff_admin', 'operator read'),
    ('ff_security_classification',     'ff_admin', 'this table'),
    -- internal: called only by the extension's SECURITY DEFINER functions / triggers
    ('ff_execution_by_id',             'internal', 'row lookup, not SECURITY DEFINER'),
    ('ff_flow_summary_of',             'internal', 'flow summary, not SECURITY DEFINER'),
    ('ff_edge_group_json',             'internal', 'rendering, not SECURITY DEFINER'),
    ('ff_flow_edge_node',              'internal', 'argument check'),
    ('ff_reconciler_wake',             'internal', 'trigger function'),
    ('ff_execution_deleted',           'internal', 'trigger function'),
    ('ff_budget_counter_mark',         'internal', 'trigger function'),
    ('ff_random_uuid',                 'internal', 'id of the set-based claim'),
    ('ff_next_event_id',               'internal', 'outbox id of the set-based claim'),
    ('ff_policy_attempt_timeout_ms',   'internal', 'policy read of the set-based claim')
    ) AS c(function_name, grantee, what);
END;

-- Apply it: no PUBLIC privilege on any function or relation of the
-- extension, then one grant per function.
DO $$
DECLARE
    ext oid := (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'flowfabric');
    f record;
    rel record;
    who text;
BEGIN
    FOR f IN
        SELECT p.oid::pg_catalog.regprocedure AS sig, p.proname::text AS name
          FROM pg_catalog.pg_depend d
          JOIN pg_catalog.pg_proc p ON p.oid = d.objid
         WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.deptype = 'e'
           AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.refobjid = ext
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f.sig);
        who := coalesce((SELECT c.grantee FROM ff_security_classification() c
                          WHERE c.function_name = f.name), 'ff_admin');
        IF who <> 'internal' THEN
            EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %I', f.sig, who);
        END IF;
    END LOOP;

    -- Tables, sequences and views: owner only (the functions are the API);
    -- whatever ALTER DEFAULT PRIVILEGES may have granted is taken back.
    FOR rel IN
        SELECT c.oid::pg_catalog.regclass AS name, c.relkind
          FROM pg_catalog.pg_depend d
          JOIN pg_catalog.pg_class c ON c.oid = d.objid
         WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype = 'e'
           AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.refobjid = ext
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON %s %s FROM PUBLIC',
                                  CASE WHEN rel.relkind = 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
                                  rel.name);
    END LOOP;
    -- identity sequences are not extension members themselves: their tables are
    FOR rel IN
        SELECT s.oid::pg_catalog.regclass AS name
          FROM pg_catalog.pg_depend d
          JOIN pg_catalog.pg_class t ON t.oid = d.objid
          JOIN pg_catalog.pg_depend sd ON sd.refobjid = t.oid AND sd.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                                      AND sd.deptype IN ('i', 'a')
          JOIN pg_catalog.pg_class s ON s.oid = sd.objid AND s.relkind = 'S'
         WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype = 'e'
           AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.refobjid = ext
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON SEQUENCE %s FROM PUBLIC', rel.name);
    END LOOP;
END
$$;

-- The reconciler status view calls ff_reconciler_stats (pg_monitor has both).
GRANT SELECT ON ff_reconciler_status TO ff_admin;

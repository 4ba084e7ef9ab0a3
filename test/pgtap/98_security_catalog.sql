-- Security, from the catalogs (docs/security.md): the three roles and their
-- membership; no PUBLIC privilege on any function, table, view or sequence of
-- the extension; every function granted per the classification (unclassified
-- ones to ff_admin only, internal ones to nobody); every SECURITY DEFINER
-- function pins search_path = pg_catalog, <extension schema>, pg_temp, and
-- the functions that are not SECURITY DEFINER are exactly the reviewed list
-- of pure helpers and internal functions; reinstalling keeps the roles.
BEGIN;
SELECT plan(29);

CREATE TEMP VIEW ext_proc AS
    SELECT p.oid, p.proname::text AS name, p.oid::regprocedure::text AS sig, p.prosecdef,
           p.proconfig, p.prolang, p.prosqlbody IS NOT NULL AS preparsed, p.proowner
      FROM pg_proc p
      JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
      JOIN pg_extension x ON x.oid = d.refobjid AND x.extname = 'flowfabric';
CREATE TEMP VIEW ext_rel AS
    SELECT c.oid, c.relname::text AS name, c.relkind
      FROM pg_class c
      JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
      JOIN pg_extension x ON x.oid = d.refobjid AND x.extname = 'flowfabric';
-- grantees (other than the owner) of each relation, identity sequences included
CREATE TEMP VIEW rel_grants AS
    SELECT r.name, r.relkind, coalesce(g.rolname, 'PUBLIC') AS grantee, a.privilege_type
      FROM (SELECT oid, name, relkind FROM ext_rel
            UNION ALL
            SELECT s.oid, s.relname::text, s.relkind
              FROM ext_rel t JOIN pg_depend sd ON sd.refobjid = t.oid AND sd.classid = 'pg_class'::regclass
              JOIN pg_class s ON s.oid = sd.objid AND s.relkind = 'S') r
      JOIN pg_class c ON c.oid = r.oid
      CROSS JOIN LATERAL aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
      LEFT JOIN pg_roles g ON g.oid = a.grantee
     WHERE a.grantee <> c.relowner;

------------------------------------------------------------------------------
-- roles
------------------------------------------------------------------------------
SELECT results_eq($$SELECT rolname::text COLLATE "default", rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls
                     FROM pg_roles WHERE rolname IN ('ff_worker', 'ff_signaler', 'ff_admin') ORDER BY 1$$,
                  $$VALUES ('ff_admin'::text, false, false, false, false, false),
                           ('ff_signaler', false, false, false, false, false),
                           ('ff_worker', false, false, false, false, false)$$,
                  'the three roles exist, NOLOGIN and without any special attribute');
SELECT ok(pg_has_role('ff_admin', 'ff_worker', 'USAGE') AND pg_has_role('ff_admin', 'ff_signaler', 'USAGE'),
          'ff_admin is a member of ff_worker and ff_signaler (and inherits them)');
SELECT ok(NOT pg_has_role('ff_worker', 'ff_signaler', 'MEMBER') AND NOT pg_has_role('ff_worker', 'ff_admin', 'MEMBER')
          AND NOT pg_has_role('ff_signaler', 'ff_worker', 'MEMBER') AND NOT pg_has_role('ff_signaler', 'ff_admin', 'MEMBER'),
          'ff_worker and ff_signaler are members of nothing of ours');

------------------------------------------------------------------------------
-- functions: PUBLIC, classification, grants
------------------------------------------------------------------------------
SELECT is((SELECT array_agg(sig ORDER BY sig) FROM ext_proc WHERE has_function_privilege('public', oid, 'EXECUTE')),
          NULL, 'no function of the extension is executable by PUBLIC');
SELECT is((SELECT array_agg(name ORDER BY name) FROM ext_proc
            WHERE name NOT IN (SELECT function_name FROM ff_security_classification())),
          NULL, 'every function of the extension is classified (an unclassified one would be ff_admin''s only)');
SELECT is((SELECT array_agg(c.function_name ORDER BY c.function_name) FROM ff_security_classification() c
            WHERE c.function_name NOT IN (SELECT name FROM ext_proc)),
          NULL, 'the classification names only existing functions');
SELECT is((SELECT array_agg(DISTINCT grantee ORDER BY grantee) FROM ff_security_classification()),
          '{ff_admin,ff_signaler,ff_worker,internal}'::text[], 'four classes');
-- The grants follow the classification, role by role (admin through membership).
SELECT is((SELECT array_agg(p.sig || ' ' || r.rolname ORDER BY p.sig, r.rolname)
             FROM ext_proc p JOIN ff_security_classification() c ON c.function_name = p.name
            CROSS JOIN (VALUES ('ff_worker'), ('ff_signaler'), ('ff_admin')) r(rolname)
            WHERE has_function_privilege(r.rolname, p.oid, 'EXECUTE')
                  <> (c.grantee = r.rolname OR (r.rolname = 'ff_admin' AND c.grantee <> 'internal'))),
          NULL, 'EXECUTE for ff_worker, ff_signaler and ff_admin is exactly what the classification says');
SELECT is((SELECT array_agg(p.sig || ' ' || coalesce(g.rolname, 'PUBLIC') ORDER BY 1)
             FROM ext_proc p JOIN pg_proc pp ON pp.oid = p.oid
            CROSS JOIN LATERAL aclexplode(pp.proacl) a
             LEFT JOIN pg_roles g ON g.oid = a.grantee
            WHERE a.grantee <> pp.proowner
              AND coalesce(g.rolname, 'PUBLIC') NOT IN ('ff_worker', 'ff_signaler', 'ff_admin')
              AND NOT (p.name = 'ff_reconciler_stats' AND g.rolname = 'pg_monitor')),
          NULL, 'no other grantee holds EXECUTE (but pg_monitor on ff_reconciler_stats)');
SELECT is((SELECT array_agg(p.sig ORDER BY p.sig) FROM ext_proc p JOIN ff_security_classification() c
             ON c.function_name = p.name AND c.grantee = 'internal'
            WHERE has_function_privilege('ff_admin', p.oid, 'EXECUTE')
               OR has_function_privilege('ff_worker', p.oid, 'EXECUTE')
               OR has_function_privilege('ff_signaler', p.oid, 'EXECUTE')),
          NULL, 'internal functions are executable by none of the roles');
-- The intended classification, independently of the table: what a signaler may do ...
SELECT is((SELECT array_agg(name ORDER BY name) FROM ext_proc WHERE has_function_privilege('ff_signaler', oid, 'EXECUTE')),
          '{ff_deliver_signal,ff_ping,ff_server_time_ms}'::text[],
          'ff_signaler: signal delivery, ping and the clock, nothing else');
-- ... what a worker must not do ...
SELECT is((SELECT array_agg(name ORDER BY name) FROM ext_proc
            WHERE has_function_privilege('ff_worker', oid, 'EXECUTE')
              AND (name LIKE 'ff\_reconcile\_%' OR name IN (
                   'ff_seed_waitpoint_hmac_secret', 'ff_rotate_waitpoint_hmac_secret_all',
                   'ff_list_waitpoint_hmac_kids', 'ff_read_waitpoint_token', 'ff_waitpoint_token_sign',
                   'ff_waitpoint_token_check', 'ff_deliver_signal', 'ff_deliver_approval_signal',
                   'ff_resume_execution', 'ff_expire_suspension', 'ff_cancel_execution',
                   'ff_change_priority', 'ff_replay_execution', 'ff_revoke_lease', 'ff_pause_lane',
                   'ff_resume_lane', 'ff_drain_lane', 'ff_mark_worker_dead', 'ff_issue_claim_grant',
                   'ff_issue_grant_and_claim', 'ff_block_route', 'ff_unblock_execution',
                   'ff_cancel_flow', 'ff_cancel_flow_header', 'ff_ack_cancel_member',
                   'ff_check_invariants', 'ff_operator_events', 'ff_reconciler_stats',
                   'ff_execution_by_id', 'ff_handle_encode'))),
          NULL, 'ff_worker: no keystore, raw token, signal delivery, operator, reconciler or flow-cancel function');
-- ... and what it must be able to do.
SELECT is((SELECT array_agg(n ORDER BY n) FROM unnest(ARRAY[
                'ff_create_execution', 'ff_create_executions', 'ff_claim', 'ff_renew', 'ff_progress',
                'ff_complete', 'ff_fail', 'ff_cancel', 'ff_delay', 'ff_suspend', 'ff_suspend_by_triple',
                'ff_create_waitpoint', 'ff_observe_signals', 'ff_claim_resumed_execution', 'ff_append_frame',
                'ff_wait_children', 'ff_renew_many', 'ff_complete_many', 'ff_fail_many',
                'ff_describe_execution', 'ff_read_execution_info', 'ff_get_execution_result',
                'ff_completion_events', 'ff_lease_events', 'ff_signal_events', 'ff_read_stream',
                'ff_create_flow', 'ff_add_execution_to_flow', 'ff_stage_dependency_edge',
                'ff_apply_dependency_to_child', 'ff_claim_for_worker', 'ff_claim_execution']) n
            WHERE NOT EXISTS (SELECT 1 FROM ext_proc p WHERE p.name = n
                                AND has_function_privilege('ff_worker', p.oid, 'EXECUTE'))),
          NULL, 'ff_worker: the worker loop, suspension, streams, flows, batches, reads and outbox readers');
SELECT is((SELECT array_agg(p.sig ORDER BY p.sig) FROM ext_proc p JOIN ff_security_classification() c
             ON c.function_name = p.name AND c.grantee <> 'internal'
            WHERE NOT has_function_privilege('ff_admin', p.oid, 'EXECUTE')),
          NULL, 'ff_admin can execute every function but the internal ones');

------------------------------------------------------------------------------
-- SECURITY DEFINER and search_path
------------------------------------------------------------------------------
SELECT is((SELECT array_agg(sig || ' ' || coalesce(proconfig::text, 'no SET') ORDER BY sig) FROM ext_proc
            WHERE prosecdef
              AND proconfig IS DISTINCT FROM ARRAY['search_path=pg_catalog, '
                  || (SELECT quote_ident(n.nspname) FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace
                       WHERE x.extname = 'flowfabric') || ', pg_temp']),
          NULL, 'every SECURITY DEFINER function pins search_path = pg_catalog, <extension schema>, pg_temp (and sets nothing else)');
-- Not SECURITY DEFINER: exactly these, each reviewed: none of them reads or
-- writes a table on its own caller's behalf (pure C over its arguments, SQL
-- bodies parsed at CREATE time, or internal functions nobody may call).
SELECT is((SELECT array_agg(name ORDER BY name) FROM ext_proc WHERE NOT prosecdef),
          ARRAY['ff_attempt_state_valid', 'ff_canonical_execution_id', 'ff_capabilities', 'ff_check_lane_id',
                'ff_check_tag_key', 'ff_completion_outcome_valid', 'ff_crc16', 'ff_derive_public_state',
                'ff_edge_group_json', 'ff_execution_by_id', 'ff_execution_partition', 'ff_execution_row_valid',
                'ff_flow_edge_node', 'ff_flow_partition', 'ff_flow_summary_of', 'ff_format_execution_id',
                'ff_handle_describe', 'ff_handle_encode', 'ff_lease_event_type_valid', 'ff_new_execution_id', 'ff_new_flow_execution_id',
                'ff_next_event_id', 'ff_parse_partition_key', 'ff_ping', 'ff_policy_attempt_timeout_ms',
                'ff_random_uuid', 'ff_reconciler_stats', 'ff_reconciler_wake', 'ff_security_classification', 'ff_server_time_ms',
                'ff_solo_partition', 'ff_split_execution_id', 'ff_state_vector_valid',
                'ff_waitpoint_token_check', 'ff_waitpoint_token_sign'],
          'the functions that are not SECURITY DEFINER are exactly the reviewed pure / internal ones');
SELECT is((SELECT array_agg(p.sig ORDER BY p.sig) FROM ext_proc p JOIN pg_language l ON l.oid = p.prolang
            WHERE NOT p.prosecdef AND l.lanname NOT IN ('c', 'internal')
              AND NOT p.preparsed
              AND (has_function_privilege('ff_worker', p.oid, 'EXECUTE')
                   OR has_function_privilege('ff_signaler', p.oid, 'EXECUTE')
                   OR has_function_privilege('ff_admin', p.oid, 'EXECUTE'))),
          NULL, 'callable SQL / PL functions that run with the caller''s search_path have bodies parsed at CREATE time');
SELECT is((SELECT array_agg(p.sig ORDER BY p.sig) FROM ext_proc p
            WHERE p.prosecdef AND NOT (SELECT rolsuper FROM pg_roles WHERE oid = p.proowner)),
          NULL, 'SECURITY DEFINER functions are owned by the superuser that installed the extension');

------------------------------------------------------------------------------
-- tables, views, sequences
------------------------------------------------------------------------------
SELECT is((SELECT array_agg(name || ' ' || grantee || ' ' || privilege_type ORDER BY 1) FROM rel_grants
            WHERE grantee = 'PUBLIC'),
          NULL, 'no table, view or sequence of the extension grants anything to PUBLIC');
SELECT is((SELECT array_agg(name || ' ' || grantee || ' ' || privilege_type ORDER BY 1) FROM rel_grants
            WHERE NOT (name = 'ff_reconciler_status' AND privilege_type = 'SELECT'
                       AND grantee IN ('pg_monitor', 'ff_admin'))),
          NULL, 'the only grants on relations: SELECT on the ff_reconciler_status view to pg_monitor and ff_admin');
SELECT ok((SELECT count(*) FROM ext_rel WHERE relkind = 'r') >= 20, 'the check saw the engine''s tables');
SELECT ok(EXISTS (SELECT 1 FROM ext_rel t JOIN pg_depend sd ON sd.refobjid = t.oid AND sd.classid = 'pg_class'::regclass
                   JOIN pg_class s ON s.oid = sd.objid AND s.relkind = 'S'),
          'and at least one sequence (ff_signal''s identity)');
SELECT is((SELECT array_agg(name ORDER BY name) FROM ext_rel r
            WHERE r.relkind IN ('r', 'v', 'S')
              AND (has_table_privilege('ff_worker', r.oid, 'SELECT') OR has_table_privilege('ff_signaler', r.oid, 'SELECT')
                   OR has_table_privilege('ff_worker', r.oid, 'INSERT') OR has_table_privilege('ff_worker', r.oid, 'UPDATE')
                   OR has_table_privilege('ff_worker', r.oid, 'DELETE') OR has_table_privilege('ff_signaler', r.oid, 'INSERT'))),
          NULL, 'ff_worker and ff_signaler can neither read nor write any relation directly');

------------------------------------------------------------------------------
-- reinstall: the roles stay, the grants come back, no notice is raised
------------------------------------------------------------------------------
SELECT ok((SELECT created FROM ff_create_execution('tap98-reinstall')), 'an execution to drop with the extension');
DROP EXTENSION flowfabric;
SELECT is((SELECT count(*) FROM pg_roles WHERE rolname IN ('ff_worker', 'ff_signaler', 'ff_admin')), 3::bigint,
          'DROP EXTENSION leaves the roles');
SELECT ok(pg_has_role('ff_admin', 'ff_worker', 'MEMBER'), 'and their membership');
CREATE FUNCTION pg_temp.install() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    CREATE EXTENSION flowfabric;
END $$;
SELECT lives_ok($$SELECT pg_temp.install()$$, 'CREATE EXTENSION again with the roles in place');
SELECT is((SELECT array_agg(name ORDER BY name) FROM ext_proc WHERE has_function_privilege('ff_signaler', oid, 'EXECUTE')),
          '{ff_deliver_signal,ff_ping,ff_server_time_ms}'::text[], 'the reinstalled functions are granted again');
SELECT is((SELECT array_agg(sig ORDER BY sig) FROM ext_proc WHERE has_function_privilege('public', oid, 'EXECUTE')),
          NULL, 'and closed to PUBLIC again');

SELECT * FROM finish();
ROLLBACK;

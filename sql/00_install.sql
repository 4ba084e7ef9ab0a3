--
-- 00_install: the extension installs, exposes exactly the expected SQL API,
-- keeps its tables private, and drops cleanly.
--
SET client_min_messages = warning;  -- no NOTICE whether or not an earlier file created it
CREATE EXTENSION IF NOT EXISTS flowfabric;
RESET client_min_messages;

SELECT extname, extversion, extrelocatable FROM pg_extension WHERE extname = 'flowfabric';

-- Every foundation ff_ function with its full argument list and result type,
-- so any signature change shows up here. (Later areas list their own.)
CREATE TEMP TABLE foundation_functions (name text PRIMARY KEY);
INSERT INTO foundation_functions VALUES
  ('ff_attempt_state_valid'), ('ff_cancel'), ('ff_canonical_execution_id'), ('ff_capabilities'),
  ('ff_check_lane_id'), ('ff_check_tag_key'), ('ff_claim'), ('ff_complete'), ('ff_create_execution'),
  ('ff_completion_events'), ('ff_crc16'), ('ff_delay'), ('ff_derive_public_state'),
  ('ff_describe_execution'), ('ff_execution_by_id'), ('ff_execution_partition'), ('ff_fail'),
  ('ff_flow_partition'), ('ff_format_execution_id'), ('ff_get_execution_namespace'),
  ('ff_get_execution_result'), ('ff_get_execution_tag'), ('ff_handle_describe'),
  ('ff_handle_encode'), ('ff_lease_events'), ('ff_list_executions'), ('ff_list_lanes'),
  ('ff_new_execution_id'), ('ff_new_flow_execution_id'), ('ff_parse_partition_key'),
  ('ff_ping'), ('ff_progress'), ('ff_read_current_attempt_index'), ('ff_read_execution_context'),
  ('ff_read_execution_info'), ('ff_read_execution_state'), ('ff_read_total_attempt_count'),
  ('ff_reconcile_attempt_timeout'), ('ff_reconcile_delayed_promotion'),
  ('ff_reconcile_execution_deadline'), ('ff_reconcile_lease_expiry'), ('ff_renew'),
  ('ff_server_time_ms'), ('ff_set_execution_tag'), ('ff_solo_partition'),
  ('ff_split_execution_id'), ('ff_state_vector_valid');
SELECT p.prosecdef AS secdef, p.provolatile AS vol, p.proisstrict AS strict,
       p.proname || '(' || pg_get_function_arguments(p.oid) || ') -> '
           || pg_get_function_result(p.oid) AS signature
  FROM pg_proc p JOIN foundation_functions f ON f.name = p.proname
 ORDER BY p.proname, pg_get_function_identity_arguments(p.oid);
SELECT name AS missing_foundation_function FROM foundation_functions
 WHERE name NOT IN (SELECT proname FROM pg_proc);

-- The foundation's tables.
SELECT c.relname, c.relkind
  FROM pg_class c
 WHERE c.relname IN ('ff_lane', 'ff_execution', 'ff_attempt', 'ff_idempotency_key',
                     'ff_completion_event', 'ff_lease_event')
 ORDER BY c.relname;

-- Every ff_ function and table belongs to the extension (pg_depend 'e'), so
-- DROP EXTENSION removes it.
SELECT count(*) AS ff_functions_not_owned_by_extension
  FROM pg_proc p
 WHERE p.proname LIKE 'ff\_%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                      AND d.refclassid = 'pg_extension'::regclass
                      AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'flowfabric')
                      AND d.deptype = 'e');
SELECT count(*) AS ff_tables_not_owned_by_extension
  FROM pg_class c
 WHERE c.relname LIKE 'ff\_%' AND c.relkind = 'r'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.refclassid = 'pg_extension'::regclass
                      AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'flowfabric')
                      AND d.deptype = 'e');
-- Every extension member function is an ff_ function.
SELECT count(*) AS member_functions_not_named_ff
  FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
 WHERE d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'flowfabric')
   AND p.proname NOT LIKE 'ff\_%';

-- No PUBLIC privileges on any engine table (lists violations only).
SELECT c.relname AS table_with_public_privileges
  FROM pg_class c
 WHERE c.relname LIKE 'ff\_%' AND c.relkind = 'r'
   AND (has_table_privilege('public', c.oid, 'SELECT') OR has_table_privilege('public', c.oid, 'INSERT')
        OR has_table_privilege('public', c.oid, 'UPDATE') OR has_table_privilege('public', c.oid, 'DELETE'))
 ORDER BY c.relname;

-- A role with no grants cannot read or write the tables directly.
SET client_min_messages = warning;
DROP ROLE IF EXISTS ff_regress_nobody;
RESET client_min_messages;
CREATE ROLE ff_regress_nobody NOLOGIN;
SET ROLE ff_regress_nobody;
SELECT current_user;
\set VERBOSITY sqlstate
SELECT * FROM ff_execution;
SELECT * FROM ff_attempt;
SELECT * FROM ff_lane;
SELECT * FROM ff_idempotency_key;
SELECT * FROM ff_completion_event;
SELECT * FROM ff_lease_event;
DELETE FROM ff_execution;
\set VERBOSITY default
SELECT * FROM ff_execution;
RESET ROLE;
SELECT current_user;
DROP ROLE ff_regress_nobody;

-- Pure helpers work right after install.
SELECT ff_ping(), ff_crc16('123456789'::bytea), ff_solo_partition('default');

-- Put some data in, then drop: everything goes, including the data.
SELECT count(*) AS ff_functions_before_drop FROM pg_proc WHERE proname LIKE 'ff\_%' \gset
SELECT execution_id, public_state, created
  FROM ff_create_execution('install-lane', execution_id => '{fp:10}:00000000-0000-4000-8000-000000000001');
DROP EXTENSION flowfabric;
SELECT count(*) AS leftover_functions FROM pg_proc WHERE proname LIKE 'ff\_%';
SELECT count(*) AS leftover_relations FROM pg_class WHERE relname LIKE 'ff\_%';
SELECT count(*) AS leftover_types FROM pg_type WHERE typname LIKE 'ff\_%' OR typname LIKE '\_ff\_%';

-- And it installs again, empty.
CREATE EXTENSION flowfabric;
SELECT count(*) AS executions FROM ff_execution;
SELECT count(*) = :ff_functions_before_drop AS same_functions_again
  FROM pg_proc WHERE proname LIKE 'ff\_%';
SELECT execution_id, public_state, created
  FROM ff_create_execution('install-lane', execution_id => '{fp:10}:00000000-0000-4000-8000-000000000001');
SELECT count(*) AS executions FROM ff_execution;

--
-- 00_install: the extension installs, exposes exactly the expected SQL API,
-- keeps its tables private, and drops cleanly.
--
SET client_min_messages = warning;  -- no NOTICE whether or not an earlier file created it
CREATE EXTENSION IF NOT EXISTS flowfabric;
RESET client_min_messages;

SELECT extname, extversion, extrelocatable FROM pg_extension WHERE extname = 'flowfabric';

-- Every ff_ function with its full argument list and result type, so any
-- signature change shows up here.
SELECT p.prosecdef AS secdef, p.provolatile AS vol, p.proisstrict AS strict,
       p.proname || '(' || pg_get_function_arguments(p.oid) || ') -> '
           || pg_get_function_result(p.oid) AS signature
  FROM pg_proc p
 WHERE p.proname LIKE 'ff\_%'
 ORDER BY p.proname, pg_get_function_identity_arguments(p.oid);

-- The engine's tables.
SELECT c.relname, c.relkind
  FROM pg_class c
 WHERE c.relname LIKE 'ff\_%' AND c.relkind IN ('r', 'p', 'v', 'm')
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
-- Member objects by catalog.
SELECT d.classid::regclass AS catalog, count(*) AS members
  FROM pg_depend d
 WHERE d.refclassid = 'pg_extension'::regclass
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'flowfabric')
   AND d.deptype = 'e'
 GROUP BY 1 ORDER BY 1::text;

-- No PUBLIC privileges on any engine table.
SELECT c.relname, c.relacl IS NOT NULL AS has_acl,
       has_table_privilege('public', c.oid, 'SELECT') AS public_select,
       has_table_privilege('public', c.oid, 'INSERT') AS public_insert,
       has_table_privilege('public', c.oid, 'UPDATE') AS public_update,
       has_table_privilege('public', c.oid, 'DELETE') AS public_delete
  FROM pg_class c
 WHERE c.relname LIKE 'ff\_%' AND c.relkind = 'r'
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
SELECT execution_id, public_state, created
  FROM ff_create_execution('install-lane', execution_id => '{fp:10}:00000000-0000-4000-8000-000000000001');
DROP EXTENSION flowfabric;
SELECT count(*) AS leftover_functions FROM pg_proc WHERE proname LIKE 'ff\_%';
SELECT count(*) AS leftover_relations FROM pg_class WHERE relname LIKE 'ff\_%';
SELECT count(*) AS leftover_types FROM pg_type WHERE typname LIKE 'ff\_%' OR typname LIKE '\_ff\_%';

-- And it installs again, empty.
CREATE EXTENSION flowfabric;
SELECT count(*) AS executions FROM ff_execution;
SELECT count(*) AS ff_functions FROM pg_proc WHERE proname LIKE 'ff\_%';
SELECT execution_id, public_state, created
  FROM ff_create_execution('install-lane', execution_id => '{fp:10}:00000000-0000-4000-8000-000000000001');
SELECT count(*) AS executions FROM ff_execution;

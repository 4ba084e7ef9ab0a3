-- flowfabric: durable-execution engine inside PostgreSQL.
--
-- The install script is assembled from extension/sql/*.sql in name order, one
-- file per area. Until the first release is tagged it evolves in place; every
-- later version ships an upgrade script flowfabric--A--B.sql.

\echo Use "CREATE EXTENSION flowfabric" to load this file. \quit

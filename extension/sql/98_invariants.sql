------------------------------------------------------------------------------
-- The invariant checker (extension/invariants.c, docs/security.md): every
-- violation of the engine's data invariants, one row each; no row = all hold.
-- Granted to ff_admin (99_security.sql).
------------------------------------------------------------------------------

CREATE FUNCTION ff_check_invariants()
    RETURNS TABLE (invariant text, object_id text, detail text)
    AS 'MODULE_PATHNAME', 'ff_check_invariants' LANGUAGE C VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, @extschema@, pg_temp;
COMMENT ON FUNCTION ff_check_invariants() IS 'every violation of the engine''s data invariants (state vector, leases, attempts, outboxes, suspensions, flows, streams); empty when all hold';

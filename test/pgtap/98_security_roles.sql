-- The role matrix (docs/security.md): every function of the extension called
-- as ff_worker, ff_signaler, ff_admin and a role with no grants; each call is
-- refused with insufficient_privilege (42501) exactly when the role lacks the
-- grant. Then the roles at work: a worker creates, claims and suspends, a
-- signaler resumes it with the token, the worker finishes, an administrator
-- revokes and checks; what each may not do raises 42501; no secret reaches a
-- worker or a signaler.
BEGIN;
SELECT plan(56);

CREATE ROLE ff_tap98_nobody NOLOGIN;
DELETE FROM ff_waitpoint_hmac;
SELECT is((SELECT outcome FROM ff_seed_waitpoint_hmac_secret('tap98-kid', repeat('5e', 32))), 'seeded', 'a signing key');

-- Runs q as role r in a subtransaction that is always rolled back; returns
-- 'ran' when q succeeded, else the SQLSTATE it raised.
CREATE FUNCTION pg_temp.try_as(r text, q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        EXECUTE format('SET LOCAL ROLE %I', r);
        EXECUTE q;
        RAISE EXCEPTION USING ERRCODE = 'ZZ998', MESSAGE = 'ran';
    EXCEPTION WHEN OTHERS THEN
        RETURN CASE WHEN SQLSTATE = 'ZZ998' THEN 'ran' ELSE SQLSTATE END;
    END;
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.try_as(text, text) TO PUBLIC;

-- One call per function: NULL for every argument (a permitted call then runs,
-- or fails on its input, never on privileges). The NULLs are sub-selects: a
-- strict function of constant NULLs would be folded away by the planner,
-- privilege check and all.
CREATE TEMP TABLE calls AS
SELECT p.proname::text AS name, p.oid::regprocedure::text AS sig,
       format('SELECT * FROM %I.%I(%s)', n.nspname, p.proname,
              coalesce((SELECT string_agg(format('(SELECT NULL::%s)', format_type(t, NULL)), ', ' ORDER BY o)
                          FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS u(t, o)), '')) AS q,
       c.grantee AS class
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension x ON x.oid = d.refobjid AND x.extname = 'flowfabric'
  LEFT JOIN ff_security_classification() c ON c.function_name = p.proname
 WHERE p.prorettype <> 'trigger'::regtype;
CREATE TEMP TABLE matrix AS
SELECT c.name, c.sig, c.class, r.role, pg_temp.try_as(r.role, c.q) AS outcome,
       CASE WHEN r.role = 'ff_tap98_nobody' THEN false
            WHEN r.role = 'ff_admin' THEN coalesce(c.class, 'ff_admin') <> 'internal'
            ELSE coalesce(c.class, 'ff_admin') = r.role END AS allowed
  FROM calls c
 CROSS JOIN (VALUES ('ff_worker'), ('ff_signaler'), ('ff_admin'), ('ff_tap98_nobody')) AS r(role);

SELECT ok((SELECT count(*) FROM calls) > 120, 'every function of the extension is in the matrix');
SELECT is((SELECT array_agg(sig || ': ' || outcome ORDER BY sig) FROM matrix
            WHERE role = 'ff_worker' AND allowed = (outcome = '42501')),
          NULL, 'ff_worker: refused (42501) exactly the functions it is not granted');
SELECT is((SELECT array_agg(sig || ': ' || outcome ORDER BY sig) FROM matrix
            WHERE role = 'ff_signaler' AND allowed = (outcome = '42501')),
          NULL, 'ff_signaler: refused (42501) exactly the functions it is not granted');
SELECT is((SELECT array_agg(sig || ': ' || outcome ORDER BY sig) FROM matrix
            WHERE role = 'ff_admin' AND allowed = (outcome = '42501')),
          NULL, 'ff_admin: refused (42501) only the internal functions');
SELECT is((SELECT array_agg(sig || ': ' || outcome ORDER BY sig) FROM matrix
            WHERE role = 'ff_tap98_nobody' AND outcome <> '42501'),
          NULL, 'a role without grants: every function refused (42501)');
SELECT is((SELECT array_agg(name ORDER BY name) FROM matrix WHERE role = 'ff_signaler' AND outcome <> '42501'),
          '{ff_deliver_signal,ff_ping,ff_server_time_ms}'::text[], 'ff_signaler gets past the privilege check of three functions');
SELECT ok((SELECT count(*) FROM matrix WHERE role = 'ff_worker' AND outcome <> '42501') >= 75,
          'ff_worker gets past the check of the worker functions');
SELECT is((SELECT count(*) FROM matrix WHERE role = 'ff_admin' AND outcome = '42501'),
          (SELECT count(*) FROM calls WHERE class = 'internal'), 'ff_admin is refused only the internal ones');

------------------------------------------------------------------------------
-- The roles at work.
------------------------------------------------------------------------------
CREATE TEMP TABLE box (k text PRIMARY KEY, v text, b bytea);
GRANT ALL ON box TO PUBLIC;

-- a worker creates, claims and suspends
SET LOCAL ROLE ff_worker;
SELECT is((SELECT public_state FROM ff_create_execution('tap98-roles',
               execution_id => '{fp:98}:00000000-0000-4000-8000-000000009801')), 'waiting',
          'ff_worker creates an execution');
SELECT is((SELECT created FROM ff_create_execution('tap98-roles',
               execution_id => '{fp:98}:00000000-0000-4000-8000-000000009802')), true,
          'and a second one');
INSERT INTO box (k, b) SELECT 'h1', handle FROM ff_claim('tap98-roles', 'w1', 'w1/1', lease_ttl_ms => 600000);
INSERT INTO box (k, b) SELECT 'h2', handle FROM ff_claim('tap98-roles', 'w1', 'w1/1', lease_ttl_ms => 600000);
SELECT is((SELECT count(*) FROM box WHERE b IS NOT NULL), 2::bigint, 'ff_worker claims both');
SELECT lives_ok($$SELECT ff_progress((SELECT b FROM box WHERE k = 'h1'), 10, 'starting')$$, 'ff_worker reports progress');
SELECT lives_ok($$SELECT ff_renew((SELECT b FROM box WHERE k = 'h1'))$$, 'ff_worker renews');
INSERT INTO box (k, v) SELECT 'wp:' || waitpoint_id, waitpoint_token
  FROM ff_suspend((SELECT b FROM box WHERE k = 'h1'), '["wpk:tap98"]');
SELECT is((SELECT count(*) FROM box WHERE k LIKE 'wp:%' AND v LIKE 'tap98-kid:%'), 1::bigint,
          'ff_worker suspends and receives the waitpoint token');
SELECT throws_ok($$SELECT * FROM ff_deliver_signal('{fp:98}:00000000-0000-4000-8000-000000009801',
                       (SELECT substr(k, 4)::uuid FROM box WHERE k LIKE 'wp:%'),
                       (SELECT v FROM box WHERE k LIKE 'wp:%'), 'go')$$,
                 '42501', NULL, 'ff_worker cannot deliver signals');
SELECT throws_ok($$SELECT * FROM ff_seed_waitpoint_hmac_secret('k2', repeat('ab', 32))$$, '42501', NULL,
                 'ff_worker cannot seed the keystore');
SELECT throws_ok($$SELECT * FROM ff_list_waitpoint_hmac_kids()$$, '42501', NULL, 'nor list its kids');
SELECT throws_ok($$SELECT ff_read_waitpoint_token('{fp:98}', (SELECT substr(k, 4)::uuid FROM box WHERE k LIKE 'wp:%'))$$,
                 '42501', NULL, 'nor read raw tokens');
SELECT throws_ok($$SELECT * FROM ff_revoke_lease('{fp:98}:00000000-0000-4000-8000-000000009802')$$, '42501', NULL,
                 'ff_worker cannot revoke leases');
SELECT throws_ok($$SELECT * FROM ff_cancel_execution('{fp:98}:00000000-0000-4000-8000-000000009802')$$, '42501', NULL,
                 'nor cancel an execution it does not hold');
SELECT throws_ok($$SELECT ff_reconcile_lease_expiry()$$, '42501', NULL, 'nor run reconcilers');
SELECT throws_ok($$SELECT * FROM ff_check_invariants()$$, '42501', NULL, 'nor the invariant checker');
SELECT throws_ok($$SELECT count(*) FROM ff_execution$$, '42501', NULL, 'ff_worker cannot read the tables');
SELECT throws_ok($$UPDATE ff_execution SET priority = 9000$$, '42501', NULL, 'nor write them');
SELECT throws_ok($$SELECT secret FROM ff_waitpoint_hmac$$, '42501', NULL, 'nor read the keystore');
SELECT throws_ok($$SELECT nextval(pg_get_serial_sequence('ff_signal', 'seq'))$$, '42501', NULL,
                 'nor use the sequences');
RESET ROLE;

-- a signaler resumes it with the token, and can do nothing else
SET LOCAL ROLE ff_signaler;
INSERT INTO box (k, v) SELECT 'delivery', t::text
  FROM ff_deliver_signal('{fp:98}:00000000-0000-4000-8000-000000009801',
               (SELECT substr(k, 4)::uuid FROM box WHERE k LIKE 'wp:%'),
               (SELECT v FROM box WHERE k LIKE 'wp:%'), 'go', idempotency_key => 'tap98-1') t;
SELECT matches((SELECT v FROM box WHERE k = 'delivery'), '^\(accepted,[-0-9a-f]+,resume_condition_satisfied,waiting\)$',
               'ff_signaler delivers the signal with the token');
SELECT throws_ok($$SELECT * FROM ff_deliver_signal('{fp:98}:00000000-0000-4000-8000-000000009801',
                       (SELECT substr(k, 4)::uuid FROM box WHERE k LIKE 'wp:%'),
                       'tap98-kid:' || repeat('0', 64), 'go')$$,
                 'YFV08', NULL, 'a forged token is refused by the token check, not by privileges');
SELECT is((SELECT ff_ping()), true, 'ff_signaler pings');
SELECT ok((SELECT ff_server_time_ms()) > 0, 'and reads the engine clock');
SELECT throws_ok($$SELECT * FROM ff_create_execution('tap98-roles')$$, '42501', NULL, 'ff_signaler cannot create');
SELECT throws_ok($$SELECT * FROM ff_claim('tap98-roles', 'w', 'w/1')$$, '42501', NULL, 'nor claim');
SELECT throws_ok($$SELECT ff_read_execution_state('{fp:98}:00000000-0000-4000-8000-000000009801')$$, '42501', NULL,
                 'nor read executions');
SELECT throws_ok($$SELECT * FROM ff_signal_events()$$, '42501', NULL, 'nor read the signal outbox');
SELECT throws_ok($$SELECT * FROM ff_deliver_approval_signal('{fp:98}:00000000-0000-4000-8000-000000009801',
                       'tap98-roles', gen_random_uuid(), 'approved', 'x')$$, '42501', NULL,
                 'nor deliver token-less approvals');
SELECT throws_ok($$SELECT * FROM ff_signal$$, '42501', NULL, 'nor read the tables');
RESET ROLE;

-- the worker picks it up again and finishes
SET LOCAL ROLE ff_worker;
INSERT INTO box (k, b) SELECT 'h3', handle
  FROM ff_claim_resumed_execution('{fp:98}:00000000-0000-4000-8000-000000009801', 'w2', 'w2/1', 'tap98-roles');
SELECT is((SELECT array_agg(signal_name) FROM ff_observe_signals((SELECT b FROM box WHERE k = 'h3'))), '{go}'::text[],
          'ff_worker claims the resumed execution and observes the signal');
SELECT lives_ok($$SELECT ff_complete((SELECT b FROM box WHERE k = 'h3'), '\x01'::bytea)$$, 'and completes it');
SELECT is(ff_read_execution_state('{fp:98}:00000000-0000-4000-8000-000000009801'), 'completed', 'it is completed');
INSERT INTO box (k, v) SELECT 'worker-reads', concat_ws('|',
    (SELECT string_agg(t::text, '') FROM ff_describe_execution('{fp:98}:00000000-0000-4000-8000-000000009801') t),
    (SELECT string_agg(t::text, '') FROM ff_read_execution_info('{fp:98}:00000000-0000-4000-8000-000000009801') t),
    (SELECT string_agg(t::text, '') FROM ff_read_execution_context('{fp:98}:00000000-0000-4000-8000-000000009801') t),
    (SELECT string_agg(t::text, '') FROM ff_list_pending_waitpoints('{fp:98}:00000000-0000-4000-8000-000000009801') t),
    (SELECT string_agg(t::text, '') FROM ff_list_suspended('{fp:98}') t),
    (SELECT ff_capabilities()::text),
    (SELECT string_agg(t::text, '') FROM ff_observe_signals((SELECT b FROM box WHERE k = 'h3'), true) t));
RESET ROLE;

-- an administrator does what the others may not
SET LOCAL ROLE ff_admin;
SELECT is((SELECT outcome FROM ff_revoke_lease('{fp:98}:00000000-0000-4000-8000-000000009802')), 'revoked',
          'ff_admin revokes a lease');
SELECT is((SELECT array_agg(kid) FROM ff_list_waitpoint_hmac_kids()), '{tap98-kid}'::text[], 'ff_admin lists kids');
SELECT ok((SELECT ff_read_waitpoint_token('{fp:98}', (SELECT substr(k, 4)::uuid FROM box WHERE k LIKE 'wp:%'))) IS NULL,
          'ff_admin may read raw tokens (none left once the waitpoint closed)');
SELECT is((SELECT count(*) FROM ff_check_invariants()), 0::bigint, 'ff_admin runs the invariant checker: all hold');
SELECT is(ff_reconcile_lease_expiry(), 0, 'ff_admin runs reconcilers');
SELECT lives_ok($$SELECT * FROM ff_seed_waitpoint_hmac_secret('tap98-kid', repeat('5e', 32))$$, 'ff_admin seeds');
SELECT ok((SELECT count(*) FROM ff_completion_events()) >= 0, 'ff_admin inherits the worker''s readers');
SELECT throws_ok($$SELECT * FROM ff_execution_by_id('{fp:98}:00000000-0000-4000-8000-000000009801')$$, '42501', NULL,
                 'but not the internal functions');
SELECT throws_ok($$SELECT count(*) FROM ff_waitpoint_hmac$$, '42501', NULL, 'nor the tables');
RESET ROLE;

SET LOCAL ROLE ff_tap98_nobody;
SELECT throws_ok($$SELECT ff_ping()$$, '42501', NULL, 'a role without grants cannot even ping');
SELECT throws_ok($$SELECT ff_crc16('x')$$, '42501', NULL, 'nor use the pure helpers');
RESET ROLE;

------------------------------------------------------------------------------
-- No secret reaches a worker or a signaler.
------------------------------------------------------------------------------
SELECT ok((SELECT length(v) FROM box WHERE k = 'worker-reads') > 200, 'the worker''s reads returned data');
SELECT ok((SELECT strpos(v, repeat('5e', 16)) = 0 AND strpos(v, repeat('^', 16)) = 0 FROM box WHERE k = 'worker-reads'),
          'no worker read contains the HMAC secret (hex or raw)');
SELECT ok((SELECT bool_and(strpos(coalesce(v, '') || coalesce(encode(b, 'hex'), ''), repeat('5e', 16)) = 0) FROM box),
          'nothing the worker and the signaler received (handles, tokens, the delivery result) contains it');
SELECT is((SELECT array_agg(name ORDER BY name) FROM calls c
            WHERE c.class IN ('ff_worker', 'ff_signaler')
              AND EXISTS (SELECT 1 FROM pg_proc p, unnest(p.proargnames) a
                           WHERE p.oid = c.sig::regprocedure AND a ~ 'secret')),
          NULL, 'no worker or signaler function has a parameter or result column named like secret');
SELECT is((SELECT count(*) FROM ff_check_invariants()), 0::bigint, 'all invariants hold at the end');

SELECT * FROM finish();
ROLLBACK;

-- The waitpoint HMAC keystore and token primitive: fixed test vectors
-- (spec B §3.1, checked independently with `openssl dgst -sha256 -hmac` and
-- here with pgcrypto's hmac()), seed / rotate outcomes and errors, the grace
-- period of a rotated-out kid (via the engine clock), garbage collection,
-- and that secrets are unreachable for non-superusers.
BEGIN;
SELECT plan(60);

CREATE EXTENSION IF NOT EXISTS pgcrypto;
DELETE FROM ff_waitpoint_hmac;  -- start from an empty keystore (rolled back at the end)

------------------------------------------------------------------------------
-- the primitive: spec vectors
------------------------------------------------------------------------------
SELECT is(ff_waitpoint_token_sign('super-secret-key'::bytea, 'kid1', 'exec-id:wp-id'),
          'kid1:862136de19c398ae13349825232b23d111d595dafafb9dc95558016eed618d36',
          'vector 1: ASCII secret, kid1');
SELECT is(ff_waitpoint_token_sign(decode(repeat('cafebabe', 8), 'hex'), 'kid-v1', 'exec-42:wp-7'),
          'kid-v1:01b92d881efacac50dbcf7637adcec6211fedfdbdce4b63477b3780c79ae8bc9',
          'vector 2: hex cafebabe x8, kid-v1');
SELECT is(ff_waitpoint_token_sign(decode(repeat('ab', 32), 'hex'), 'kid-suspend-1',
              '{fp:7}:550e8400-e29b-41d4-a716-446655440000:6ba7b810-9dad-11d1-80b4-00c04fd430c8'),
          'kid-suspend-1:1a9796c4f75cbdde91f69a8fc3f1c63ea62f53b12d8327288e12cae6a91047ac',
          'vector 3: the waitpoint message {fp:7}:<exec>:<wp>');
SELECT is(ff_waitpoint_token_sign('s'::bytea, 'k', 'msg'),
          'k:4e46cd6cdb2b82ec0763be9f8cc406169608bbbef74ef20a925c29a68e1c7a7c',
          'vector 4: one-byte secret');
SELECT is(ff_waitpoint_token_sign(decode(repeat('ab', 32), 'hex'), 'kid-x', 'some:message'),
          'kid-x:' || encode(hmac('kid-x:some:message'::bytea, decode(repeat('ab', 32), 'hex'), 'sha256'), 'hex'),
          'agrees with pgcrypto hmac(kid:message, secret, sha256)');
SELECT is(ff_waitpoint_token_sign('s'::bytea, 'k', 'msg'), ff_waitpoint_token_sign('s'::bytea, 'k', 'msg'),
          'signing is deterministic');
SELECT throws_ok($$SELECT ff_waitpoint_token_sign('s'::bytea, 'a:b', 'msg')$$, 'YFV20', NULL,
                 'a kid with a colon cannot sign');

SELECT is(ff_waitpoint_token_check('s'::bytea, 'k', 'msg',
          'k:4e46cd6cdb2b82ec0763be9f8cc406169608bbbef74ef20a925c29a68e1c7a7c'), 'ok', 'check: round trip');
SELECT is(ff_waitpoint_token_check('s'::bytea, 'k', 'msg',
          'k:4E46CD6CDB2B82EC0763BE9F8CC406169608BBBEF74EF20A925C29A68E1C7A7C'), 'ok', 'check: hex case does not matter');
SELECT is(ff_waitpoint_token_check('s'::bytea, 'k', 'msg2',
          'k:4e46cd6cdb2b82ec0763be9f8cc406169608bbbef74ef20a925c29a68e1c7a7c'), 'signature_mismatch', 'check: tampered message');
SELECT is(ff_waitpoint_token_check('s'::bytea, 'k', 'msg',
          'k:4e46cd6cdb2b82ec0763be9f8cc406169608bbbef74ef20a925c29a68e1c7a7d'), 'signature_mismatch', 'check: flipped last hex digit');
SELECT is(ff_waitpoint_token_check('s'::bytea, 'k', 'msg',
          'k:4e46cd6cdb2b82ec0763be9f8cc406169608bbbef74ef20a925c29a68e1c7a'), 'signature_mismatch', 'check: truncated digest');
SELECT is(ff_waitpoint_token_check('s'::bytea, 'k', 'msg',
          'j:4e46cd6cdb2b82ec0763be9f8cc406169608bbbef74ef20a925c29a68e1c7a7c'), 'wrong_kid', 'check: wrong kid');
SELECT is(ff_waitpoint_token_check('s'::bytea, 'k', 'msg', 'no-colon-token'), 'malformed', 'check: no colon');
SELECT is(ff_waitpoint_token_check('s'::bytea, 'k', 'msg', 'k:not-hex-zzzz'), 'malformed', 'check: not hex');
SELECT is(ff_waitpoint_token_check('s'::bytea, 'k', 'msg', 'k:'), 'malformed', 'check: empty digest');

------------------------------------------------------------------------------
-- seed
------------------------------------------------------------------------------
SELECT is((SELECT count(*) FROM ff_list_waitpoint_hmac_kids()), 0::bigint, 'an uninitialised keystore lists no kids');
SELECT throws_ok($$SELECT * FROM ff_seed_waitpoint_hmac_secret('kid-seed', 'shortsecret')$$, 'YFV21', NULL,
                 'seed: a secret that is not 64 hex digits -> YFV21');
SELECT throws_ok($$SELECT * FROM ff_seed_waitpoint_hmac_secret('kid-seed', repeat('zz', 32))$$, 'YFV21', NULL,
                 'seed: 64 characters that are not hex -> YFV21');
SELECT throws_ok($$SELECT * FROM ff_seed_waitpoint_hmac_secret('', repeat('ab', 32))$$, 'YFV20', NULL,
                 'seed: empty kid -> YFV20');
SELECT throws_ok($$SELECT * FROM ff_seed_waitpoint_hmac_secret(NULL, repeat('ab', 32))$$, 'YFV20', NULL,
                 'seed: NULL kid -> YFV20');
SELECT throws_ok($$SELECT * FROM ff_seed_waitpoint_hmac_secret('kid:seed', repeat('ab', 32))$$, 'YFV20', NULL,
                 'seed: kid with a colon -> YFV20');
SELECT throws_ok($$SELECT * FROM ff_seed_waitpoint_hmac_secret('kid seed', repeat('ab', 32))$$, 'YFV20', NULL,
                 'seed: kid with a space -> YFV20');
SELECT is((SELECT count(*) FROM ff_waitpoint_hmac), 0::bigint, 'rejected seeds wrote nothing');

-- a first rotation bootstraps an empty keystore (rolled back to a savepoint)
SAVEPOINT bootstrap;
SELECT results_eq($$SELECT * FROM ff_rotate_waitpoint_hmac_secret_all('kid-1', repeat('ab', 32), 1000)$$,
                  $$VALUES (0, 'rotated'::text, NULL::text, 'kid-1'::text, 0)$$,
                  'rotate_all_happy_path: the first rotation has no previous kid');
SELECT results_eq($$SELECT kid, active FROM ff_list_waitpoint_hmac_kids()$$, $$VALUES ('kid-1'::text, true)$$,
                  'and kid-1 is the active kid');
ROLLBACK TO SAVEPOINT bootstrap;

SELECT results_eq($$SELECT * FROM ff_seed_waitpoint_hmac_secret('kid-seed', repeat('ab', 32))$$,
                  $$VALUES ('seeded'::text, 'kid-seed'::text, NULL::boolean)$$,
                  'seed_happy_path_installs_new_kid: seeded');
SELECT results_eq($$SELECT kid, active, expires_at_ms FROM ff_list_waitpoint_hmac_kids()$$,
                  $$VALUES ('kid-seed'::text, true, NULL::bigint)$$, 'the seeded kid is the active one');
SELECT results_eq($$SELECT * FROM ff_seed_waitpoint_hmac_secret('kid-seed', repeat('AB', 32))$$,
                  $$VALUES ('already_seeded'::text, 'kid-seed'::text, true)$$,
                  'seed replay, same secret (hex case ignored): already_seeded, same_secret');
SELECT results_eq($$SELECT * FROM ff_seed_waitpoint_hmac_secret('kid-seed', repeat('cd', 32))$$,
                  $$VALUES ('already_seeded'::text, 'kid-seed'::text, false)$$,
                  'seed replay, other secret: already_seeded, not same_secret (and nothing changes)');
SELECT is((SELECT secret FROM ff_waitpoint_hmac WHERE kid = 'kid-seed'), decode(repeat('ab', 32), 'hex'),
          'the stored secret is still the first one');
SELECT throws_ok($$SELECT * FROM ff_seed_waitpoint_hmac_secret('kid-two', repeat('ab', 32))$$, 'YFV01', NULL,
                 'seed_different_active_kid_is_validation_error -> YFV01');

------------------------------------------------------------------------------
-- rotate
------------------------------------------------------------------------------
SELECT throws_ok($$SELECT * FROM ff_rotate_waitpoint_hmac_secret_all('kid-r', 'abc', 1000)$$, 'YFV21', NULL,
                 'rotate: odd-length hex -> YFV21');
SELECT throws_ok($$SELECT * FROM ff_rotate_waitpoint_hmac_secret_all('kid-r', repeat('g', 64), 1000)$$, 'YFV21', NULL,
                 'rotate: not hex -> YFV21');
SELECT throws_ok($$SELECT * FROM ff_rotate_waitpoint_hmac_secret_all('kid-r', repeat('ab', 8), 1000)$$, 'YFV21', NULL,
                 'rotate: shorter than 128 bits -> YFV21');
SELECT throws_ok($$SELECT * FROM ff_rotate_waitpoint_hmac_secret_all('kid-r', repeat('ab', 32), -1)$$, 'YFV22', NULL,
                 'rotate: negative grace_ms -> YFV22');
SELECT throws_ok($$SELECT * FROM ff_rotate_waitpoint_hmac_secret_all('kid-r', repeat('ab', 32), 9007199254740992)$$, 'YFV22', NULL,
                 'rotate: grace_ms above 2^53-1 -> YFV22');
SELECT throws_ok($$SELECT * FROM ff_rotate_waitpoint_hmac_secret_all('k:r', repeat('ab', 32), 1000)$$, 'YFV20', NULL,
                 'rotate: kid with a colon -> YFV20');
SELECT throws_ok($$SELECT * FROM ff_rotate_waitpoint_hmac_secret_all('kid-seed', repeat('cd', 32), 1000)$$, 'YFK08', NULL,
                 'rotate_all_kid_conflict_rejects: same kid, other secret -> YFK08');
SELECT results_eq($$SELECT * FROM ff_rotate_waitpoint_hmac_secret_all('kid-seed', repeat('ab', 32), 1000)$$,
                  $$VALUES (0, 'noop'::text, NULL::text, 'kid-seed'::text, 0)$$,
                  'rotate_all_replay_is_noop: the active kid with its own secret');

CREATE TEMP TABLE t0 AS SELECT ff_server_time_ms() AS ms;
SELECT results_eq($$SELECT * FROM ff_rotate_waitpoint_hmac_secret_all('kid-2', repeat('cd', 32), 60000)$$,
                  $$VALUES (0, 'rotated'::text, 'kid-seed'::text, 'kid-2'::text, 0)$$,
                  'rotate promotes the previous kid: rotated, previous kid-seed, gc 0');
SELECT ok((SELECT NOT active AND expires_at_ms BETWEEN (SELECT ms FROM t0) + 60000 AND ff_server_time_ms() + 60000
             FROM ff_waitpoint_hmac WHERE kid = 'kid-seed'),
          'the previous kid is retired until now + grace_ms');
SELECT results_eq($$SELECT kid, active FROM ff_list_waitpoint_hmac_kids()$$,
                  $$VALUES ('kid-2'::text, true), ('kid-seed', false)$$,
                  'both kids are listed while the old one is in its grace period');
SELECT results_eq($$SELECT * FROM ff_rotate_waitpoint_hmac_secret_all('kid-2', repeat('cd', 32))$$,
                  $$VALUES (0, 'noop'::text, NULL::text, 'kid-2'::text, 0)$$, 'rotating to the current kid again: noop');
SELECT is((SELECT count(*) FROM ff_waitpoint_hmac WHERE active), 1::bigint, 'exactly one active kid');

-- rapid rotation A -> B -> C keeps in-grace kids
SELECT results_eq($$SELECT outcome, previous_kid, gc_count FROM ff_rotate_waitpoint_hmac_secret_all('kid-3', repeat('ef', 32), 60000)$$,
                  $$VALUES ('rotated'::text, 'kid-2'::text, 0)$$, 'rapid rotation keeps kids still in grace');
SELECT is((SELECT count(*) FROM ff_list_waitpoint_hmac_kids()), 3::bigint, 'three kids verify');

-- past the grace period: listing hides them, the next rotation deletes them
SET LOCAL flowfabric.clock_offset_ms = 61000;
SELECT results_eq($$SELECT kid FROM ff_list_waitpoint_hmac_kids()$$, $$VALUES ('kid-3'::text)$$,
                  'listing excludes kids past their grace');
SELECT results_eq($$SELECT outcome, previous_kid, current_kid, gc_count FROM ff_rotate_waitpoint_hmac_secret_all('kid-4', repeat('12', 32), 0)$$,
                  $$VALUES ('rotated'::text, 'kid-3'::text, 'kid-4'::text, 2)$$,
                  'orphan GC: the rotation deletes the two expired kids');
SELECT results_eq($$SELECT kid COLLATE "default" FROM ff_waitpoint_hmac ORDER BY kid$$, $$VALUES ('kid-3'::text), ('kid-4')$$,
                  'kid-seed and kid-2 are gone; kid-3 (grace 0) is retired');
SELECT results_eq($$SELECT kid FROM ff_list_waitpoint_hmac_kids()$$, $$VALUES ('kid-4'::text)$$,
                  'a zero grace stops the old kid at once');
RESET flowfabric.clock_offset_ms;

------------------------------------------------------------------------------
-- secrets stay secret
------------------------------------------------------------------------------
CREATE ROLE ff_tap51_user NOLOGIN;
SET LOCAL ROLE ff_tap51_user;
SELECT throws_ok($$SELECT secret FROM ff_waitpoint_hmac$$, '42501', NULL, 'PUBLIC cannot read the keystore table');
SELECT throws_ok($$SELECT * FROM ff_seed_waitpoint_hmac_secret('x', repeat('ab', 32))$$, '42501', NULL,
                 'PUBLIC cannot seed');
SELECT throws_ok($$SELECT * FROM ff_rotate_waitpoint_hmac_secret_all('x', repeat('ab', 32))$$, '42501', NULL,
                 'PUBLIC cannot rotate');
SELECT throws_ok($$SELECT * FROM ff_list_waitpoint_hmac_kids()$$, '42501', NULL, 'PUBLIC cannot list kids');
SELECT throws_ok($$SELECT ff_read_waitpoint_token('{fp:0}', gen_random_uuid())$$, '42501', NULL,
                 'PUBLIC cannot read raw waitpoint tokens');
SELECT throws_ok($$SELECT * FROM ff_waitpoint$$, '42501', NULL, 'PUBLIC cannot read the waitpoint table');
SELECT throws_ok($$SELECT * FROM ff_signal$$, '42501', NULL, 'PUBLIC cannot read the signal table');
RESET ROLE;
SELECT is((SELECT count(*) FROM pg_proc p
             JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
             JOIN pg_extension x ON x.oid = d.refobjid AND x.extname = 'flowfabric'
            WHERE p.proargmodes IS NOT NULL AND 'secret' = ANY (p.proargnames)),
          0::bigint, 'no function has a result column named secret');
SELECT ok(NOT has_table_privilege('public', 'ff_waitpoint_hmac', 'SELECT'), 'ff_waitpoint_hmac: no SELECT for PUBLIC');

SELECT * FROM finish();
ROLLBACK;

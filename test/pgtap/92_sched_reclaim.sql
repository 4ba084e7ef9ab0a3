-- Reclaim (RFC-024): ff_issue_reclaim_grant, ff_reclaim_execution and
-- ff_claim_from_resume_grant after a lease expired or was revoked; grant
-- errors; the reclaim cap failing the execution cleanly at issue and at
-- reclaim time; ff_issue_grant_and_claim on a reclaimable execution.
BEGIN;
SELECT plan(64);

DELETE FROM ff_waitpoint_hmac;
SELECT ff_seed_waitpoint_hmac_secret('k1', repeat('ab', 32));

CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END $$;
CREATE FUNCTION pg_temp.id(n int) RETURNS text LANGUAGE sql AS
$$ SELECT '{fp:92}:00000000-0000-4000-8000-' || lpad((9200 + n)::text, 12, '0') $$;
CREATE FUNCTION pg_temp.uid(n int) RETURNS uuid LANGUAGE sql AS
$$ SELECT ('00000000-0000-4000-8000-' || lpad((9200 + n)::text, 12, '0'))::uuid $$;
-- execution n on its own lane, claimed by w1 with a 1 s lease; returns the handle
CREATE FUNCTION pg_temp.claimed(n int, policy jsonb DEFAULT NULL, caps text[] DEFAULT '{}') RETURNS bytea LANGUAGE sql AS $$
    SELECT ff_create_execution('tap92-' || n, execution_id => pg_temp.id(n), policy => policy,
                               required_capabilities => caps, input_payload => '\x92'::bytea);
    SELECT handle FROM ff_claim('tap92-' || n, 'w1', 'w1/1', caps, lease_ttl_ms => 1000);
$$;
-- let every lease run out: the lease-expiry reconciler marks them
CREATE FUNCTION pg_temp.expire() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    SET LOCAL flowfabric.clock_offset_ms = 2000;
    PERFORM ff_reconcile_lease_expiry();
    SET LOCAL flowfabric.clock_offset_ms = 0;
END $$;
CREATE FUNCTION pg_temp.vec(n int) RETURNS text LANGUAGE sql AS $$
    SELECT lifecycle_phase || '/' || ownership_state || '/' || attempt_state || '/' || public_state
      FROM ff_execution WHERE execution_id = pg_temp.uid(n) $$;
CREATE FUNCTION pg_temp.forge(k text) RETURNS text LANGUAGE sql AS
$$ SELECT left(k, -1) || CASE WHEN right(k, 1) = '0' THEN '1' ELSE '0' END $$;

------------------------------------------------------------------------------
-- after lease expiry
------------------------------------------------------------------------------
CREATE TEMP TABLE h1 AS SELECT pg_temp.claimed(1) AS handle;
SELECT matches(pg_temp.err($$SELECT * FROM ff_issue_reclaim_grant(pg_temp.id(1), 'w2', 'w2/1')$$),
               '^YFC14 execution_not_reclaimable: execution .* has no expired or revoked lease',
               'a live lease is not reclaimable -> YFC14');
SELECT pg_temp.expire();
SELECT is(pg_temp.vec(1), 'active/lease_expired_reclaimable/attempt_interrupted/active', 'the lease expired');
CREATE TEMP TABLE g1 AS SELECT * FROM ff_issue_reclaim_grant(pg_temp.id(1), 'w2', 'w2/1', '{cpu}', 30000,
                                                             'caph', '{"route":"r"}', 'admitted');
SELECT results_eq($$SELECT outcome, execution_id, partition_key, lane_id, reclaim_count FROM g1$$,
                  $$VALUES ('granted'::text, pg_temp.id(1), '{fp:92}'::text, 'tap92-1'::text, 0)$$,
                  'ff_issue_reclaim_grant: granted');
SELECT matches((SELECT grant_key FROM g1), '^pg:reclaim:\{fp:92\}:00000000-0000-4000-8000-000000009201:[0-9]+:k1:[0-9a-f]{64}$',
               'the key is pg:reclaim:{fp:N}:<uuid>:<expires>:<kid>:<hex>');
SELECT is((SELECT substr(grant_key, length(grant_key) - 66) FROM g1),
          ff_waitpoint_token_sign(decode(repeat('ab', 32), 'hex'), 'k1',
              '{fp:92}|00000000-0000-4000-8000-000000009201|w2|w2/1|' || (SELECT expires_at_ms FROM g1) || '|reclaim'),
          'signed over the claim message plus |reclaim');
SELECT results_eq($$SELECT kind, worker_id, lane_id, capability_hash, worker_capabilities, route_snapshot_json, admission_summary, grant_ttl_ms
                      FROM ff_claim_grant WHERE execution_id = pg_temp.uid(1)$$,
                  $$VALUES ('reclaim'::text, 'w2'::text, 'tap92-1'::text, 'caph'::text, '{cpu}'::text[], '{"route":"r"}'::text,
                            'admitted'::text, 30000::bigint)$$, 'a kind reclaim row with the routing details');
SELECT matches(pg_temp.err($$SELECT * FROM ff_issue_reclaim_grant(pg_temp.id(1), 'w3', 'w3/1')$$),
               '^YFS17 grant_already_exists: execution .* already has a live reclaim grant', 'a second reclaim grant -> YFS17');
SELECT is((SELECT count(*) FROM ff_claim('tap92-1', 'w3', 'w3/1')), 0::bigint, 'ff_claim by another worker leaves it to the grant holder');
SELECT matches(pg_temp.err($$SELECT * FROM ff_reclaim_execution(pg_temp.id(1), (SELECT grant_key FROM g1), 'w3', 'w3/1')$$),
               '^YFC05 invalid_claim_grant: the grant for execution .* was issued to another worker', 'wrong worker -> YFC05');
SELECT matches(pg_temp.err($$SELECT * FROM ff_reclaim_execution(pg_temp.id(1), pg_temp.forge((SELECT grant_key FROM g1)), 'w2', 'w2/1')$$),
               '^YFV08 invalid_token: the reclaim grant''s signature does not verify', 'forged -> YFV08');
SELECT matches(pg_temp.err($$SELECT * FROM ff_reclaim_execution(pg_temp.id(1), replace((SELECT grant_key FROM g1), 'pg:reclaim:', 'pg:'), 'w2', 'w2/1')$$),
               '^YFC05 invalid_claim_grant: this is a claim grant', 'a claim grant where a reclaim grant is expected -> YFC05');
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_execution(pg_temp.id(1), (SELECT grant_key FROM g1), 'w2', 'w2/1')$$),
               '^YFC05 invalid_claim_grant: this is a reclaim grant', 'ff_claim_execution refuses a reclaim grant -> YFC05');
SELECT matches(pg_temp.err($$SELECT * FROM ff_reclaim_execution(pg_temp.id(2), (SELECT grant_key FROM g1), 'w2', 'w2/1')$$),
               '^YFC05 invalid_claim_grant: the grant is for execution', 'another execution''s grant -> YFC05');
SELECT matches(pg_temp.err($$SELECT * FROM ff_reclaim_execution(pg_temp.id(1), (SELECT grant_key FROM g1), 'w2', 'w2/1', -5)$$),
               '^YFV01 ', 'lease_ttl_ms -5 -> YFV01');
CREATE TEMP TABLE r1 AS SELECT * FROM ff_reclaim_execution(pg_temp.id(1), (SELECT grant_key FROM g1), 'w2', 'w2/1', 60000);
SELECT results_eq($$SELECT outcome, execution_id, attempt_index, attempt_type, lease_epoch, input_payload, reclaim_count FROM r1$$,
                  $$VALUES ('claimed'::text, pg_temp.id(1), 1, 'reclaim'::text, 2::bigint, '\x92'::bytea, 1)$$,
                  'ff_reclaim_execution: a new reclaim attempt 1, epoch 2, reclaim_count 1');
SELECT is(pg_temp.vec(1), 'active/leased/running_attempt/active', 'the execution is leased again');
SELECT results_eq($$SELECT attempt_index, attempt_type, attempt_lifecycle, worker_instance_id FROM ff_attempt
                     WHERE execution_id = pg_temp.uid(1) ORDER BY attempt_index$$,
                  $$VALUES (0, 'initial'::text, 'interrupted_reclaimed'::text, 'w1/1'::text), (1, 'reclaim', 'started', 'w2/1')$$,
                  'the old attempt was interrupted, the new one is w2''s');
SELECT results_eq($$SELECT event_type, reason FROM ff_lease_event WHERE execution_id = pg_temp.uid(1) ORDER BY event_id$$,
                  $$VALUES ('acquired'::text, NULL::text), ('expired', 'lease_expired'), ('reclaimed', NULL)$$,
                  'lease events acquired, expired, reclaimed');
SELECT is((SELECT count(*) FROM ff_claim_grant WHERE execution_id = pg_temp.uid(1)), 0::bigint, 'the grant is consumed');
SELECT matches(pg_temp.err($$SELECT ff_complete((SELECT handle FROM h1))$$), '^YFS01 ', 'the vanished worker''s handle is stale -> YFS01');
SELECT lives_ok($$SELECT ff_complete((SELECT handle FROM r1))$$, 'the reclaiming worker completes');
SELECT matches(pg_temp.err($$SELECT * FROM ff_reclaim_execution(pg_temp.id(1), (SELECT grant_key FROM g1), 'w2', 'w2/1')$$),
               '^YFC05 invalid_claim_grant: the reclaim grant for execution .* was already used', 'the grant again -> YFC05');
SELECT matches(pg_temp.err($$SELECT * FROM ff_issue_reclaim_grant(pg_temp.id(1), 'w2', 'w2/1')$$),
               '^YFC14 ', 'a finished execution is not reclaimable -> YFC14');

------------------------------------------------------------------------------
-- after a revoke; the revoked holder gets lease_revoked
------------------------------------------------------------------------------
CREATE TEMP TABLE h2 AS SELECT pg_temp.claimed(2) AS handle;
SELECT is((SELECT outcome FROM ff_revoke_lease(pg_temp.id(2))), 'revoked', 'the operator revokes the lease');
SELECT is(pg_temp.vec(2), 'active/lease_revoked/attempt_interrupted/active', 'active, lease_revoked, reclaimable');
CREATE TEMP TABLE g2 AS SELECT * FROM ff_issue_reclaim_grant(pg_temp.id(2), 'w2', 'w2/1');
SELECT is((SELECT outcome FROM g2), 'granted', 'a revoked lease can be reclaimed');
CREATE TEMP TABLE r2 AS SELECT * FROM ff_reclaim_execution(pg_temp.id(2), (SELECT grant_key FROM g2), 'w2', 'w2/1');
SELECT results_eq($$SELECT outcome, attempt_index, attempt_type, lease_epoch FROM r2$$,
                  $$VALUES ('claimed'::text, 1, 'reclaim'::text, 2::bigint)$$, 'reclaimed: attempt 1, reclaim, epoch 2');
SELECT matches(pg_temp.err($$SELECT ff_complete((SELECT handle FROM h2))$$), '^YFS03 lease_revoked: ',
               'the revoked holder''s complete -> YFS03, even after the reclaim');
SELECT matches(pg_temp.err($$SELECT * FROM ff_renew((SELECT handle FROM h2))$$), '^YFS03 ', '... and its renew');

------------------------------------------------------------------------------
-- expiry, not reclaimable any more, lane state, capabilities
------------------------------------------------------------------------------
CREATE TEMP TABLE h3 AS SELECT pg_temp.claimed(3) AS handle;
SELECT pg_temp.expire();
CREATE TEMP TABLE g3 AS SELECT * FROM ff_issue_reclaim_grant(pg_temp.id(3), 'w2', 'w2/1', grant_ttl_ms => 1000);
SET LOCAL flowfabric.clock_offset_ms = 1000;
SELECT matches(pg_temp.err($$SELECT * FROM ff_reclaim_execution(pg_temp.id(3), (SELECT grant_key FROM g3), 'w2', 'w2/1')$$),
               '^YFC06 claim_grant_expired: the reclaim grant', 'an expired reclaim grant -> YFC06');
CREATE TEMP TABLE g3b AS SELECT * FROM ff_issue_reclaim_grant(pg_temp.id(3), 'w4', 'w4/1');
SELECT is((SELECT outcome FROM g3b), 'granted', 'after it expired, another worker gets a reclaim grant');
SET LOCAL flowfabric.clock_offset_ms = 0;
SELECT ff_pause_lane('tap92-3');
SELECT matches(pg_temp.err($$SELECT * FROM ff_reclaim_execution(pg_temp.id(3), (SELECT grant_key FROM g3b), 'w4', 'w4/1')$$),
               '^YFC14 execution_not_reclaimable: lane tap92-3 is paused', 'a paused lane -> YFC14');
SELECT matches(pg_temp.err($$SELECT * FROM ff_issue_reclaim_grant(pg_temp.id(3), 'w5', 'w5/1')$$),
               '^YFC14 ', 'no reclaim grant on a paused lane -> YFC14');
SELECT ff_drain_lane('tap92-3');
SELECT is((SELECT count(*) FROM ff_claim('tap92-3', 'w4', 'w4/1')), 1::bigint,
          'draining lane: the grant holder reclaims with ff_claim');
SELECT matches(pg_temp.err($$SELECT * FROM ff_reclaim_execution(pg_temp.id(3), (SELECT grant_key FROM g3b), 'w4', 'w4/1')$$),
               '^YFC14 execution_not_reclaimable: execution .* has no expired or revoked lease', 'leased again -> YFC14');
SELECT is((SELECT count(*) FROM ff_claim_grant WHERE execution_id = pg_temp.uid(3)), 1::bigint, '... the grant stays (the error rolled back)');
SELECT is((SELECT count(*) FROM ff_claim_from_resume_grant((SELECT grant_key FROM g3b), 'w4', 'w4/1')), 0::bigint,
          'ff_claim_from_resume_grant: nothing to resume -> no row');
SELECT is((SELECT count(*) FROM ff_claim_grant WHERE execution_id = pg_temp.uid(3)), 0::bigint, '... and the grant is used up');
CREATE TEMP TABLE h4 AS SELECT pg_temp.claimed(4, caps => '{gpu}');
SELECT pg_temp.expire();
SELECT is(pg_temp.err($$SELECT * FROM ff_issue_reclaim_grant(pg_temp.id(4), 'w2', 'w2/1', '{cpu}')$$),
          'YFV02 capability_mismatch: the worker lacks capabilities the execution requires',
          'a reclaiming worker needs the capabilities -> YFV02');
SELECT matches(pg_temp.err($$SELECT * FROM ff_issue_reclaim_grant('{fp:92}:00000000-0000-4000-8000-000000009299', 'w2', 'w2/1')$$),
               '^YFN01 ', 'unknown execution -> YFN01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_issue_reclaim_grant(pg_temp.id(4), 'w2', 'w2/1', '{gpu}', 0)$$), '^YFV01 ', 'grant_ttl_ms 0 -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_issue_reclaim_grant(pg_temp.id(4), E'w\n2', 'w2/1', '{gpu}')$$), '^YFV01 ', 'a control character in worker_id -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_issue_reclaim_grant(pg_temp.id(4), 'w2', 'w2/1', '{" x"}')$$), '^YFV03 ', 'bad capabilities -> YFV03');

------------------------------------------------------------------------------
-- ff_claim_from_resume_grant
------------------------------------------------------------------------------
CREATE TEMP TABLE g4 AS SELECT * FROM ff_issue_reclaim_grant(pg_temp.id(4), 'w2', 'w2/1', '{gpu}');
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_from_resume_grant((SELECT grant_key FROM g4), 'w3', 'w3/1')$$),
               '^YFC05 ', 'resume grant, wrong worker -> YFC05');
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_from_resume_grant(pg_temp.forge((SELECT grant_key FROM g4)), 'w2', 'w2/1')$$),
               '^YFV08 ', 'resume grant, forged -> YFV08');
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_from_resume_grant('pg:reclaim:nope', 'w2', 'w2/1')$$),
               '^YFV08 ', 'resume grant, malformed -> YFV08');
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_from_resume_grant(
                   'pg:reclaim:{fp:92}:00000000-0000-4000-8000-000000009299:1:k1:' || repeat('0', 64), 'w2', 'w2/1')$$),
               '^YFN01 ', 'resume grant for an unknown execution -> YFN01');
CREATE TEMP TABLE r4 AS SELECT * FROM ff_claim_from_resume_grant((SELECT grant_key FROM g4), 'w2', 'w2/1', 45000);
SELECT results_eq($$SELECT execution_id, attempt_index, attempt_type, lease_epoch, input_payload FROM r4$$,
                  $$VALUES (pg_temp.id(4), 1, 'reclaim'::text, 2::bigint, '\x92'::bytea)$$,
                  'ff_claim_from_resume_grant reclaims: attempt 1, reclaim, epoch 2');
SELECT is((SELECT lease_expires_at_ms - lease_acquired_at_ms FROM ff_attempt WHERE execution_id = pg_temp.uid(4) AND attempt_index = 1),
          45000::bigint, 'with the given lease ttl');
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_from_resume_grant((SELECT grant_key FROM g4), 'w2', 'w2/1')$$),
               '^YFC05 ', 'used once -> YFC05');

------------------------------------------------------------------------------
-- the reclaim cap fails the execution cleanly
------------------------------------------------------------------------------
-- at issue time: max_reclaim_count 0
CREATE TEMP TABLE h5 AS SELECT pg_temp.claimed(5, '{"max_reclaim_count": 0}');
SELECT pg_temp.expire();
CREATE TEMP TABLE g5 AS SELECT * FROM ff_issue_reclaim_grant(pg_temp.id(5), 'w2', 'w2/1');
SELECT results_eq($$SELECT outcome, grant_key, expires_at_ms, reclaim_count FROM g5$$,
                  $$VALUES ('reclaim_cap_exceeded'::text, NULL::text, NULL::bigint, 1)$$,
                  'at the cap: reclaim_cap_exceeded, no grant');
SELECT results_eq($$SELECT lifecycle_phase, terminal_outcome, public_state, last_failure_message, attempt_state
                      FROM ff_execution WHERE execution_id = pg_temp.uid(5)$$,
                  $$VALUES ('terminal'::text, 'failed'::text, 'failed'::text, 'max_reclaims_exceeded'::text, 'attempt_terminal'::text)$$,
                  'the execution failed: max_reclaims_exceeded');
SELECT results_eq($$SELECT outcome FROM ff_completion_event WHERE execution_id = pg_temp.uid(5)$$,
                  $$VALUES ('failed'::text)$$, 'completion event failed');
SELECT is((SELECT count(*) FROM ff_claim_grant WHERE execution_id = pg_temp.uid(5)), 0::bigint, 'no grant row');
-- at reclaim time: max 1; the grant holder reclaimed once with ff_claim, the lease expired again
CREATE TEMP TABLE h6 AS SELECT pg_temp.claimed(6, '{"max_reclaim_count": 1}');
SELECT pg_temp.expire();
CREATE TEMP TABLE g6 AS SELECT * FROM ff_issue_reclaim_grant(pg_temp.id(6), 'w2', 'w2/1', grant_ttl_ms => 60000);
SELECT is((SELECT count(*) FROM ff_claim('tap92-6', 'w2', 'w2/1', lease_ttl_ms => 1000)), 1::bigint, 'reclaim number 1 (ff_claim)');
SELECT pg_temp.expire();
CREATE TEMP TABLE r6 AS SELECT * FROM ff_reclaim_execution(pg_temp.id(6), (SELECT grant_key FROM g6), 'w2', 'w2/1');
SELECT results_eq($$SELECT outcome, handle, execution_id, attempt_index, reclaim_count FROM r6$$,
                  $$VALUES ('reclaim_cap_exceeded'::text, NULL::bytea, pg_temp.id(6), NULL::integer, 2)$$,
                  'reclaim number 2 passes max_reclaim_count 1: reclaim_cap_exceeded');
SELECT is(pg_temp.vec(6), 'terminal/unowned/attempt_terminal/failed', 'the execution failed');
SELECT is((SELECT count(*) FROM ff_claim_grant WHERE execution_id = pg_temp.uid(6)), 0::bigint, 'the grant is used up');
-- ff_claim_from_resume_grant at the cap: no row, the execution failed
CREATE TEMP TABLE h7 AS SELECT pg_temp.claimed(7, '{"max_reclaim_count": 1}');
SELECT pg_temp.expire();
CREATE TEMP TABLE g7 AS SELECT * FROM ff_issue_reclaim_grant(pg_temp.id(7), 'w2', 'w2/1', grant_ttl_ms => 60000);
SELECT ff_claim('tap92-7', 'w2', 'w2/1', lease_ttl_ms => 1000);
SELECT pg_temp.expire();
SELECT is((SELECT count(*) FROM ff_claim_from_resume_grant((SELECT grant_key FROM g7), 'w2', 'w2/1')), 0::bigint,
          'ff_claim_from_resume_grant past the cap: no row');
SELECT is((SELECT last_failure_message FROM ff_execution WHERE execution_id = pg_temp.uid(7)), 'max_reclaims_exceeded', '... the execution failed');

------------------------------------------------------------------------------
-- ff_issue_grant_and_claim on a reclaimable execution
------------------------------------------------------------------------------
CREATE TEMP TABLE h8 AS SELECT pg_temp.claimed(8);
SELECT pg_temp.expire();
SELECT results_eq($$SELECT attempt_index, attempt_type, lease_epoch FROM ff_issue_grant_and_claim(pg_temp.id(8))$$,
                  $$VALUES (1, 'reclaim'::text, 2::bigint)$$, 'the operator reclaims in one step');
CREATE TEMP TABLE h9 AS SELECT pg_temp.claimed(9, '{"max_reclaim_count": 0}');
SELECT pg_temp.expire();
SELECT is((SELECT count(*) FROM ff_issue_grant_and_claim(pg_temp.id(9))), 0::bigint, 'past the cap: no row ...');
SELECT is(pg_temp.vec(9), 'terminal/unowned/attempt_terminal/failed', '... the execution failed');
DELETE FROM ff_waitpoint_hmac;
SELECT matches(pg_temp.err($$SELECT * FROM ff_issue_reclaim_grant(pg_temp.id(8), 'w2', 'w2/1')$$),
               '^YFV01 invalid_input: hmac_secret_not_initialized', 'an empty keystore -> YFV01');

SELECT * FROM finish();
ROLLBACK;

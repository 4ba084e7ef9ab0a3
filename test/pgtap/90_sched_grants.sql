-- Claim grants: ff_issue_claim_grant, ff_claim_execution (forged, expired,
-- wrong worker, double consumption, every state gate), ff_issue_grant_and_claim,
-- ff_scan_eligible_executions, ff_block_route / ff_unblock_execution and the
-- grant reaper ff_reconcile_claim_grants.
BEGIN;
SELECT plan(98);

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
$$ SELECT '{fp:90}:00000000-0000-4000-8000-' || lpad((9000 + n)::text, 12, '0') $$;
CREATE FUNCTION pg_temp.uid(n int) RETURNS uuid LANGUAGE sql AS
$$ SELECT ('00000000-0000-4000-8000-' || lpad((9000 + n)::text, 12, '0'))::uuid $$;
CREATE FUNCTION pg_temp.mk(n int, lane text DEFAULT 'tap90', caps text[] DEFAULT '{}', prio int DEFAULT 0,
                           delay_until bigint DEFAULT NULL) RETURNS text LANGUAGE sql AS $$
    SELECT execution_id FROM ff_create_execution(lane, execution_id => pg_temp.id(n), required_capabilities => caps,
                                                 priority => prio, delay_until => delay_until,
                                                 input_payload => convert_to('in' || n, 'UTF8'))
$$;
CREATE FUNCTION pg_temp.st(n int) RETURNS text LANGUAGE sql AS
$$ SELECT public_state FROM ff_execution WHERE execution_id = pg_temp.uid(n) $$;
CREATE FUNCTION pg_temp.grants(n int) RETURNS bigint LANGUAGE sql AS
$$ SELECT count(*) FROM ff_claim_grant WHERE execution_id = pg_temp.uid(n) $$;
-- the key with its last hex digit changed
CREATE FUNCTION pg_temp.forge(k text) RETURNS text LANGUAGE sql AS
$$ SELECT left(k, -1) || CASE WHEN right(k, 1) = '0' THEN '1' ELSE '0' END $$;

------------------------------------------------------------------------------
-- ff_issue_claim_grant
------------------------------------------------------------------------------
SELECT pg_temp.mk(1, caps => '{gpu}');
CREATE TEMP TABLE t0 AS SELECT ff_server_time_ms() AS ms;
CREATE TEMP TABLE g1 AS SELECT * FROM ff_issue_claim_grant(pg_temp.id(1), 'w1', 'w1/1', '{cpu,gpu}', 5000,
                                                           capability_hash => 'h1', route_snapshot_json => '{"r":1}',
                                                           admission_summary => 'ok');
SELECT results_eq($$SELECT execution_id, partition_key, lane_id FROM g1$$,
                  $$VALUES (pg_temp.id(1), '{fp:90}'::text, 'tap90'::text)$$,
                  'ff_issue_claim_grant: one row with the execution, its partition and lane');
SELECT matches((SELECT grant_key FROM g1),
               '^pg:\{fp:90\}:00000000-0000-4000-8000-000000009001:[0-9]+:k1:[0-9a-f]{64}$',
               'the grant key is pg:{fp:N}:<uuid>:<expires>:<kid>:<hex>');
SELECT ok((SELECT expires_at_ms - (SELECT ms FROM t0) BETWEEN 5000 AND 6000 FROM g1), 'expires_at_ms = now + grant_ttl_ms');
SELECT is((SELECT split_part(grant_key, ':', 5)::bigint FROM g1), (SELECT expires_at_ms FROM g1),
          'the key carries expires_at_ms');
SELECT is((SELECT substr(grant_key, length(grant_key) - 66) FROM g1),
          ff_waitpoint_token_sign(decode(repeat('ab', 32), 'hex'), 'k1',
              '{fp:90}|00000000-0000-4000-8000-000000009001|w1|w1/1|' || (SELECT expires_at_ms FROM g1)),
          'the signature is the keystore token over {fp:N}|uuid|worker|instance|expires');
SELECT results_eq(
    $$SELECT kind, worker_id, worker_instance_id, lane_id, capability_hash, worker_capabilities,
             route_snapshot_json, admission_summary, grant_ttl_ms, expires_at_ms = (SELECT expires_at_ms FROM g1),
             grant_id = sha256(convert_to((SELECT grant_key FROM g1), 'UTF8'))
        FROM ff_claim_grant WHERE execution_id = pg_temp.uid(1)$$,
    $$VALUES ('claim'::text, 'w1'::text, 'w1/1'::text, 'tap90'::text, 'h1'::text, '{cpu,gpu}'::text[],
              '{"r":1}'::text, 'ok'::text, 5000::bigint, true, true)$$,
    'the grant row: kind claim, the worker, only sha256(grant_key) stored');
SELECT results_eq($$SELECT lifecycle_phase, eligibility_state, public_state FROM ff_execution WHERE execution_id = pg_temp.uid(1)$$,
                  $$VALUES ('runnable'::text, 'eligible_now'::text, 'waiting'::text)$$,
                  'a grant does not change the execution''s state');
SELECT matches(pg_temp.err($$SELECT * FROM ff_issue_claim_grant(pg_temp.id(1), 'w2', 'w2/1', '{gpu}')$$),
               '^YFS17 grant_already_exists: ', 'a second grant while one is live -> YFS17');
SELECT matches(pg_temp.err($$SELECT * FROM ff_issue_claim_grant(pg_temp.id(1), 'w1', 'w1/1', '{gpu}')$$),
               '^YFS17 ', '... also for the same worker');
SELECT pg_temp.mk(2, caps => '{gpu,asr}');
SELECT is(pg_temp.err($$SELECT * FROM ff_issue_claim_grant(pg_temp.id(2), 'w1', 'w1/1', '{gpu}')$$),
          'YFV02 capability_mismatch: the worker lacks capabilities the execution requires',
          'a worker without the required capabilities -> YFV02');
SELECT is(pg_temp.grants(2), 0::bigint, '... and no grant row');
SELECT matches(pg_temp.err($$SELECT * FROM ff_issue_claim_grant('{fp:90}:00000000-0000-4000-8000-000000009999', 'w1', 'w1/1')$$),
               '^YFN01 execution_not_found: ', 'unknown execution -> YFN01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_issue_claim_grant('nope', 'w1', 'w1/1')$$),
               '^YFV01 ', 'malformed execution id -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_issue_claim_grant(pg_temp.id(2), 'w1', 'w1/1', '{gpu,asr}', 0)$$),
               '^YFV01 invalid_input: grant_ttl_ms must be between 1 and 60000', 'grant_ttl_ms 0 -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_issue_claim_grant(pg_temp.id(2), 'w1', 'w1/1', '{gpu,asr}', 60001)$$),
               '^YFV01 ', 'grant_ttl_ms above 60000 -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_issue_claim_grant(pg_temp.id(2), 'w 1', 'w1/1', '{gpu,asr}')$$),
               '^YFV01 invalid_input: worker_id has whitespace', 'a worker id with a space -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_issue_claim_grant(pg_temp.id(2), 'w1', '', '{gpu,asr}')$$),
               '^YFV01 invalid_input: worker_instance_id must not be empty', 'an empty instance id -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_issue_claim_grant(pg_temp.id(2), repeat('w', 257), 'w1/1', '{gpu,asr}')$$),
               '^YFV01 invalid_input: worker_id is 257 bytes', 'a 257-byte worker id -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_issue_claim_grant(pg_temp.id(2), 'w1', 'w1/1', '{"a,b"}')$$),
               '^YFV03 ', 'a bad capability token -> YFV03');
SELECT pg_temp.mk(3, delay_until => ff_server_time_ms() + 600000);
SELECT matches(pg_temp.err($$SELECT * FROM ff_issue_claim_grant(pg_temp.id(3), 'w1', 'w1/1')$$),
               '^YFC12 execution_not_eligible: ', 'a delayed execution -> YFC12');
DELETE FROM ff_waitpoint_hmac;
SELECT matches(pg_temp.err($$SELECT * FROM ff_issue_claim_grant(pg_temp.id(2), 'w1', 'w1/1', '{gpu,asr}')$$),
               '^YFV01 invalid_input: hmac_secret_not_initialized: ', 'an empty keystore -> YFV01 hmac_secret_not_initialized');
SELECT ff_seed_waitpoint_hmac_secret('k1', repeat('ab', 32));

------------------------------------------------------------------------------
-- ff_claim_execution
------------------------------------------------------------------------------
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_execution(pg_temp.id(1), (SELECT grant_key FROM g1), 'w9', 'w1/1')$$),
               '^YFC05 invalid_claim_grant: the grant for execution .* was issued to another worker',
               'another worker presents the grant -> YFC05');
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_execution(pg_temp.id(1), (SELECT grant_key FROM g1), 'w1', 'w1/2')$$),
               '^YFC05 ', 'another instance of the worker -> YFC05');
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_execution(pg_temp.id(1), pg_temp.forge((SELECT grant_key FROM g1)), 'w1', 'w1/1')$$),
               '^YFV08 invalid_token: the claim grant''s signature does not verify', 'a forged signature -> YFV08');
SELECT matches(pg_temp.err(format($$SELECT * FROM ff_claim_execution(pg_temp.id(1), %L, 'w1', 'w1/1')$$,
                   (SELECT replace(grant_key, ':' || expires_at_ms || ':', ':' || (expires_at_ms + 60000) || ':') FROM g1))),
               '^YFV08 ', 'an extended expiry (signature no longer matches) -> YFV08');
SELECT matches(pg_temp.err(format($$SELECT * FROM ff_claim_execution(pg_temp.id(1), %L, 'w1', 'w1/1')$$,
                   (SELECT replace(grant_key, ':k1:', ':k9:') FROM g1))),
               '^YFV20 invalid_kid: the grant''s kid "k9" is not in the keystore', 'an unknown kid -> YFV20');
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_execution(pg_temp.id(1), 'garbage', 'w1', 'w1/1')$$),
               '^YFV08 invalid_token: claim grant key does not start with "pg:"', 'garbage -> YFV08');
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_execution(pg_temp.id(1), 'pg:{fp:90}:x:1:k1:00', 'w1', 'w1/1')$$),
               '^YFV08 invalid_token: claim grant key names no execution', 'a key without an execution -> YFV08');
SELECT matches(pg_temp.err(format($$SELECT * FROM ff_claim_execution(pg_temp.id(1), %L, 'w1', 'w1/1')$$,
                   (SELECT left(grant_key, -2) FROM g1))),
               '^YFV08 invalid_token: claim grant key malformed', 'a truncated signature -> YFV08');
SELECT matches(pg_temp.err(format($$SELECT * FROM ff_claim_execution(pg_temp.id(1), %L, 'w1', 'w1/1')$$,
                   (SELECT replace(grant_key, 'pg:', 'pg:reclaim:') FROM g1))),
               '^YFC05 invalid_claim_grant: this is a reclaim grant', 'a reclaim grant where a claim grant is expected -> YFC05');
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_execution(pg_temp.id(2), (SELECT grant_key FROM g1), 'w1', 'w1/1')$$),
               '^YFC05 invalid_claim_grant: the grant is for execution .*9001, not .*9002', 'the grant of another execution -> YFC05');
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_execution(pg_temp.id(1), (SELECT grant_key FROM g1), 'w1', 'w1/1', 0)$$),
               '^YFV01 invalid_input: lease_ttl_ms', 'lease_ttl_ms 0 -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_execution('{fp:90}:00000000-0000-4000-8000-000000009999',
                   'pg:{fp:90}:00000000-0000-4000-8000-000000009999:1:k1:' || repeat('0', 64), 'w1', 'w1/1')$$),
               '^YFN01 ', 'a grant for an unknown execution -> YFN01');
SELECT is(pg_temp.grants(1), 1::bigint, 'failed consumptions left the grant in place');

CREATE TEMP TABLE c1 AS SELECT * FROM ff_claim_execution(pg_temp.id(1), (SELECT grant_key FROM g1), 'w1', 'w1/1', 60000);
SELECT results_eq($$SELECT execution_id, attempt_index, attempt_type, lease_epoch, encode(input_payload, 'escape') FROM c1$$,
                  $$VALUES (pg_temp.id(1), 0, 'initial'::text, 1::bigint, 'in1'::text)$$,
                  'the grant holder claims: attempt 0, initial, epoch 1, with the input');
SELECT results_eq($$SELECT lifecycle_phase, ownership_state, public_state FROM ff_execution WHERE execution_id = pg_temp.uid(1)$$,
                  $$VALUES ('active'::text, 'leased'::text, 'active'::text)$$, 'the execution is active and leased');
SELECT is(pg_temp.grants(1), 0::bigint, 'the grant is consumed');
SELECT results_eq($$SELECT worker_id, worker_instance_id, lease_ttl_ms FROM ff_attempt WHERE execution_id = pg_temp.uid(1)$$,
                  $$VALUES ('w1'::text, 'w1/1'::text, 60000::bigint)$$, 'the attempt belongs to the grant holder');
SELECT results_eq($$SELECT event_type FROM ff_lease_event WHERE execution_id = pg_temp.uid(1)$$,
                  $$VALUES ('acquired'::text)$$, 'lease event acquired');
SELECT is((SELECT (ff_handle_describe(handle)).worker_instance_id FROM c1), 'w1/1', 'the handle is the worker''s');
SELECT lives_ok($$SELECT ff_renew((SELECT handle FROM c1))$$, 'the handle works');
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_execution(pg_temp.id(1), (SELECT grant_key FROM g1), 'w1', 'w1/1')$$),
               '^YFC05 invalid_claim_grant: the claim grant for execution .* was already used or replaced',
               'the same grant again (double consumption) -> YFC05');

-- expiry
SELECT pg_temp.mk(4);
CREATE TEMP TABLE g4 AS SELECT * FROM ff_issue_claim_grant(pg_temp.id(4), 'w1', 'w1/1', grant_ttl_ms => 1000);
SET LOCAL flowfabric.clock_offset_ms = 1000;
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_execution(pg_temp.id(4), (SELECT grant_key FROM g4), 'w1', 'w1/1')$$),
               '^YFC06 claim_grant_expired: the claim grant for execution .* expired at ', 'at its expiry the grant is expired -> YFC06');
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_execution(pg_temp.id(4), pg_temp.forge((SELECT grant_key FROM g4)), 'w1', 'w1/1')$$),
               '^YFV08 ', 'an expired grant with a forged signature is still forged -> YFV08');
SELECT is(ff_reconcile_claim_grants(), 1, 'ff_reconcile_claim_grants deletes the expired grant');
SELECT is(pg_temp.grants(4), 0::bigint, '... its row is gone');
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_execution(pg_temp.id(4), (SELECT grant_key FROM g4), 'w1', 'w1/1')$$),
               '^YFC06 ', 'a reaped expired grant is still claim_grant_expired');
SELECT is(ff_reconcile_claim_grants(), 0, 'the reaper finds nothing more');
SELECT matches(pg_temp.err($$SELECT ff_reconcile_claim_grants(0)$$), '^YFV01 ', 'batch_size 0 -> YFV01');
SET LOCAL flowfabric.clock_offset_ms = 0;
CREATE TEMP TABLE g4b AS SELECT * FROM ff_issue_claim_grant(pg_temp.id(4), 'w2', 'w2/1');
SELECT is((SELECT count(*) FROM g4b), 1::bigint, 'once expired, the execution gets a new grant');

-- state gates: leased (the grant holder claimed it with ff_claim), terminal, blocked, paused lane
SELECT pg_temp.mk(5, lane => 'tap90-gates');
CREATE TEMP TABLE g5 AS SELECT * FROM ff_issue_claim_grant(pg_temp.id(5), 'w1', 'w1/1');
SELECT is((SELECT count(*) FROM ff_claim('tap90-gates', 'w2', 'w2/1')), 0::bigint,
          'ff_claim by another worker skips an execution with a live grant');
CREATE TEMP TABLE c5 AS SELECT * FROM ff_claim('tap90-gates', 'w1', 'w1/1');
SELECT is((SELECT execution_id FROM c5), pg_temp.id(5), 'ff_claim by the grant holder takes it');
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_execution(pg_temp.id(5), (SELECT grant_key FROM g5), 'w1', 'w1/1')$$),
               '^YFC04 lease_conflict: ', 'the grant of a leased execution -> YFC04');
SELECT ff_complete((SELECT handle FROM c5));
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_execution(pg_temp.id(5), (SELECT grant_key FROM g5), 'w1', 'w1/1')$$),
               '^YFC11 execution_not_active: execution .* is terminal', 'the grant of a finished execution -> YFC11');
SELECT pg_temp.mk(6, lane => 'tap90-gates');
CREATE TEMP TABLE g6 AS SELECT * FROM ff_issue_claim_grant(pg_temp.id(6), 'w1', 'w1/1');
SELECT ff_block_route(pg_temp.id(6));
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_execution(pg_temp.id(6), (SELECT grant_key FROM g6), 'w1', 'w1/1')$$),
               '^YFC03 execution_not_leaseable: execution .* is not claimable now', 'the grant of a blocked execution -> YFC03');
SELECT ff_unblock_execution(pg_temp.id(6));
SELECT ff_pause_lane('tap90-gates');
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_execution(pg_temp.id(6), (SELECT grant_key FROM g6), 'w1', 'w1/1')$$),
               '^YFC03 execution_not_leaseable: lane tap90-gates is paused or draining', 'a paused lane -> YFC03');
SELECT ff_drain_lane('tap90-gates');
SELECT matches(pg_temp.err($$SELECT * FROM ff_claim_execution(pg_temp.id(6), (SELECT grant_key FROM g6), 'w1', 'w1/1')$$),
               '^YFC03 ', 'a draining lane refuses a first attempt -> YFC03');
SELECT ff_resume_lane('tap90-gates');
SELECT is((SELECT attempt_type FROM ff_claim_execution(pg_temp.id(6), (SELECT grant_key FROM g6), 'w1', 'w1/1')), 'initial',
          'resumed lane: the grant is good');

-- budgets and quotas admit grant claims as they admit ff_claim
SELECT ff_create_quota_policy('b9000000-0000-4000-8000-0000000000aa', max_concurrent => 1);
SELECT ff_create_execution('tap90-quota', execution_id => pg_temp.id(50), policy => '{"quota_policy_id": "b9000000-0000-4000-8000-0000000000aa"}');
SELECT ff_create_execution('tap90-quota', execution_id => pg_temp.id(51), policy => '{"quota_policy_id": "b9000000-0000-4000-8000-0000000000aa"}');
CREATE TEMP TABLE g50 AS SELECT * FROM ff_issue_claim_grant(pg_temp.id(50), 'w1', 'w1/1');
CREATE TEMP TABLE g51 AS SELECT * FROM ff_issue_claim_grant(pg_temp.id(51), 'w1', 'w1/1');
SELECT is((SELECT count(*) FROM ff_claim_execution(pg_temp.id(50), (SELECT grant_key FROM g50), 'w1', 'w1/1')), 1::bigint,
          'the quota''s one slot: the first grant claims');
SELECT is((SELECT count(*) FROM ff_claim_execution(pg_temp.id(51), (SELECT grant_key FROM g51), 'w1', 'w1/1')), 0::bigint,
          'the quota is full: the second grant claims nothing ...');
SELECT results_eq($$SELECT eligibility_state, public_state FROM ff_execution WHERE execution_id = pg_temp.uid(51)$$,
                  $$VALUES ('blocked_by_quota'::text, 'rate_limited'::text)$$, '... the execution is held back by its quota');
SELECT is(pg_temp.grants(51), 0::bigint, '... and the grant is used up');

------------------------------------------------------------------------------
-- ff_issue_grant_and_claim
------------------------------------------------------------------------------
SELECT pg_temp.mk(7, lane => 'tap90-op', caps => '{gpu}');
SELECT ff_issue_claim_grant(pg_temp.id(7), 'w1', 'w1/1', '{gpu}');
SELECT ff_pause_lane('tap90-op');
CREATE TEMP TABLE c7 AS SELECT * FROM ff_issue_grant_and_claim(pg_temp.id(7));
SELECT results_eq($$SELECT execution_id, attempt_index, attempt_type, lease_epoch FROM c7$$,
                  $$VALUES (pg_temp.id(7), 0, 'initial'::text, 1::bigint)$$,
                  'ff_issue_grant_and_claim leases at once (paused lane, capabilities and other grants notwithstanding)');
SELECT results_eq($$SELECT worker_id, worker_instance_id FROM ff_attempt WHERE execution_id = pg_temp.uid(7)$$,
                  $$VALUES ('operator'::text, 'operator'::text)$$, 'worker "operator" by default');
SELECT is(pg_temp.grants(7), 0::bigint, 'the other worker''s grant is removed');
SELECT matches(pg_temp.err($$SELECT * FROM ff_issue_grant_and_claim(pg_temp.id(7))$$), '^YFC04 ', 'leased -> YFC04');
SELECT ff_complete((SELECT handle FROM c7));
SELECT matches(pg_temp.err($$SELECT * FROM ff_issue_grant_and_claim(pg_temp.id(7))$$), '^YFC11 ', 'terminal -> YFC11');
SELECT matches(pg_temp.err($$SELECT * FROM ff_issue_grant_and_claim(pg_temp.id(3))$$), '^YFC03 ', 'delayed -> YFC03');
SELECT matches(pg_temp.err($$SELECT * FROM ff_issue_grant_and_claim('{fp:90}:00000000-0000-4000-8000-000000009999')$$),
               '^YFN01 ', 'unknown -> YFN01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_issue_grant_and_claim(pg_temp.id(3), 0)$$), '^YFV01 ', 'lease_ttl_ms 0 -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_issue_grant_and_claim(pg_temp.id(3), 1000, 'op erator')$$), '^YFV01 ', 'bad worker id -> YFV01');
SELECT ff_resume_lane('tap90-op');

------------------------------------------------------------------------------
-- ff_scan_eligible_executions
------------------------------------------------------------------------------
SELECT ff_create_execution('tap90-scan', execution_id => '{fp:91}:00000000-0000-4000-8000-000000009101', priority => 1);
SELECT ff_create_execution('tap90-scan', execution_id => '{fp:92}:00000000-0000-4000-8000-000000009102', priority => 10);
SELECT ff_create_execution('tap90-scan', execution_id => '{fp:91}:00000000-0000-4000-8000-000000009103', priority => 5);
SELECT ff_create_execution('tap90-scan', execution_id => '{fp:91}:00000000-0000-4000-8000-000000009104', priority => 5,
                           required_capabilities => '{gpu}');
SELECT ff_issue_claim_grant('{fp:91}:00000000-0000-4000-8000-000000009103', 'w1', 'w1/1');
SELECT results_eq(
    $$SELECT right(execution_id, 4), partition_key, priority, required_capabilities, granted
        FROM ff_scan_eligible_executions('tap90-scan')$$,
    $$VALUES ('9102'::text, '{fp:92}'::text, 10, '{}'::text[], false), ('9103', '{fp:91}', 5, '{}', true),
             ('9104', '{fp:91}', 5, '{gpu}', false), ('9101', '{fp:91}', 1, '{}', false)$$,
    'scan: highest priority first, then oldest; required capabilities and live grants shown');
SELECT results_eq($$SELECT right(execution_id, 4) FROM ff_scan_eligible_executions('tap90-scan', '{fp:91}', 2)$$,
                  $$VALUES ('9103'::text), ('9104')$$, 'scan one partition, max_results');
SELECT is((SELECT count(*) FROM ff_scan_eligible_executions('tap90-none')), 0::bigint, 'an unknown lane: nothing');
SELECT matches(pg_temp.err($$SELECT * FROM ff_scan_eligible_executions('')$$), '^YFV01 ', 'an empty lane -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_scan_eligible_executions('tap90-scan', 'fp:1')$$), '^YFV01 ', 'a bad partition key -> YFV01');

------------------------------------------------------------------------------
-- ff_block_route / ff_unblock_execution
------------------------------------------------------------------------------
SELECT pg_temp.mk(8, lane => 'tap90-block');
SELECT results_eq($$SELECT * FROM ff_block_route(pg_temp.id(8))$$,
                  $$VALUES ('blocked_by_route'::text, 'waiting_for_capable_worker'::text, NULL::text, 'waiting'::text)$$,
                  'block_route: blocked_by_route / waiting_for_capable_worker (public_state waiting)');
SELECT is((SELECT count(*) FROM ff_claim('tap90-block', 'w1', 'w1/1')), 0::bigint, 'a blocked execution is not claimable');
SELECT is((SELECT count(*) FROM ff_scan_eligible_executions('tap90-block')), 0::bigint, '... nor listed as eligible');
SELECT results_eq($$SELECT * FROM ff_block_route(pg_temp.id(8), 'waiting_for_budget', 'budget b1: tokens 10/10')$$,
                  $$VALUES ('blocked_by_budget'::text, 'waiting_for_budget'::text, 'budget b1: tokens 10/10'::text, 'rate_limited'::text)$$,
                  'blocking again changes the reason: waiting_for_budget -> rate_limited');
SELECT is((SELECT eligibility_state FROM ff_block_route(pg_temp.id(8), 'waiting_for_quota')), 'blocked_by_quota', 'waiting_for_quota -> blocked_by_quota');
SELECT is((SELECT eligibility_state FROM ff_block_route(pg_temp.id(8), 'paused_by_operator')), 'blocked_by_operator', 'paused_by_operator -> blocked_by_operator');
SELECT is((SELECT eligibility_state FROM ff_block_route(pg_temp.id(8), 'paused_by_policy')), 'blocked_by_lane_state', 'paused_by_policy -> blocked_by_lane_state');
SELECT matches(pg_temp.err($$SELECT * FROM ff_block_route(pg_temp.id(8), 'because')$$),
               '^YFV14 invalid_blocking_reason: "because" is not a blocking reason', 'an unknown reason -> YFV14');
SELECT matches(pg_temp.err($$SELECT * FROM ff_unblock_execution(pg_temp.id(8), 'waiting_for_budget')$$),
               '^YFC12 execution_not_eligible: execution .* is blocked for paused_by_policy, not waiting_for_budget',
               'unblock with another expected reason -> YFC12');
SELECT results_eq($$SELECT * FROM ff_unblock_execution(pg_temp.id(8), 'paused_by_policy')$$,
                  $$VALUES ('eligible_now'::text, 'waiting_for_worker'::text, NULL::text, 'waiting'::text)$$,
                  'unblock: eligible now, waiting for a worker');
SELECT is((SELECT attempt_state FROM ff_execution WHERE execution_id = pg_temp.uid(8)), 'pending_first_attempt', 'the attempt state is kept');
SELECT matches(pg_temp.err($$SELECT * FROM ff_unblock_execution(pg_temp.id(8))$$), '^YFC12 execution_not_eligible: execution .* is not blocked',
               'unblocking an unblocked execution -> YFC12');
SELECT results_eq($$SELECT event_type, details->>'blocking_reason', details->>'previous_blocking_reason'
                      FROM ff_operator_event WHERE execution_id = pg_temp.uid(8) ORDER BY event_id$$,
                  $$VALUES ('blocked'::text, 'waiting_for_capable_worker'::text, NULL::text), ('blocked', 'waiting_for_budget', NULL),
                           ('blocked', 'waiting_for_quota', NULL), ('blocked', 'paused_by_operator', NULL),
                           ('blocked', 'paused_by_policy', NULL), ('unblocked', NULL, 'paused_by_policy')$$,
                  'every block and unblock wrote an operator event');
CREATE TEMP TABLE c8 AS SELECT * FROM ff_claim('tap90-block', 'w1', 'w1/1');
SELECT is((SELECT count(*) FROM c8), 1::bigint, 'unblocked, it is claimed');
SELECT matches(pg_temp.err($$SELECT * FROM ff_block_route(pg_temp.id(8))$$), '^YFC12 ', 'blocking an active execution -> YFC12');
SELECT matches(pg_temp.err($$SELECT * FROM ff_block_route(pg_temp.id(3))$$), '^YFC12 ', 'blocking a delayed execution -> YFC12');
SELECT ff_complete((SELECT handle FROM c8));
SELECT matches(pg_temp.err($$SELECT * FROM ff_block_route(pg_temp.id(8))$$), '^YFC11 ', 'blocking a finished execution -> YFC11');
SELECT matches(pg_temp.err($$SELECT * FROM ff_unblock_execution(pg_temp.id(8))$$), '^YFC12 ', 'unblocking a finished execution -> YFC12');
SELECT matches(pg_temp.err($$SELECT * FROM ff_block_route('{fp:90}:00000000-0000-4000-8000-000000009999')$$), '^YFN01 ', 'block unknown -> YFN01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_unblock_execution('{fp:90}:00000000-0000-4000-8000-000000009999')$$), '^YFN01 ', 'unblock unknown -> YFN01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_block_route(pg_temp.id(3), 'waiting_for_budget', repeat('x', 1025))$$),
               '^YFV01 ', 'a reason_detail over 1024 bytes -> YFV01');

------------------------------------------------------------------------------
-- capabilities
------------------------------------------------------------------------------
SELECT results_eq(
    $$SELECT (ff_capabilities() -> 'supports' ->> 'claim_for_worker')::boolean,
             (ff_capabilities() -> 'supports' ->> 'issue_reclaim_grant')::boolean,
             (ff_capabilities() -> 'supports' ->> 'cancel_execution')::boolean,
             (ff_capabilities() -> 'supports' ->> 'change_priority')::boolean,
             (ff_capabilities() -> 'supports' ->> 'replay_execution')::boolean,
             (ff_capabilities() -> 'supports' ->> 'revoke_lease')::boolean,
             (ff_capabilities() -> 'supports' ->> 'register_worker')::boolean,
             (ff_capabilities() -> 'supports' ->> 'heartbeat_worker')::boolean,
             (ff_capabilities() -> 'supports' ->> 'mark_worker_dead')::boolean,
             (ff_capabilities() -> 'supports' ->> 'list_expired_leases')::boolean,
             (ff_capabilities() -> 'supports' ->> 'list_workers')::boolean$$,
    $$VALUES (true, true, true, true, true, true, true, true, true, true, true)$$,
    'capabilities: the scheduler, operator and registry operations are supported');

SELECT * FROM finish();
ROLLBACK;

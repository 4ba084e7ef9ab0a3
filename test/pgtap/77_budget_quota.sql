-- Quotas: ff_create_quota_policy, ff_read_quota_policy_limits,
-- ff_check_admission, ff_release_admission (spec D 11.1 / 11.4), and quota
-- enforcement inside ff_claim: a sliding window admits exactly the allowed
-- number of claims per window (moved with flowfabric.clock_offset_ms), a
-- concurrency cap holds, slots free when the lease is released (complete,
-- fail, delay, lease expiry) and a freed slot releases a waiting execution.
BEGIN;
SELECT plan(83);
\ir 75_budget_helpers.inc

CREATE FUNCTION pg_temp.q(n int) RETURNS text LANGUAGE sql AS
$$ SELECT 'a7700000-0000-4000-8000-' || lpad(n::text, 12, '0') $$;
CREATE FUNCTION pg_temp.eid(n int) RETURNS text LANGUAGE sql AS
$$ SELECT '{fp:77}:00000000-0000-4000-8000-' || lpad((7700 + n)::text, 12, '0') $$;
CREATE FUNCTION pg_temp.mk(n int, lane text, quota int) RETURNS text LANGUAGE sql AS $$
    SELECT execution_id FROM ff_create_execution(lane, execution_id => pg_temp.eid(n),
                                                 policy => jsonb_build_object('quota_policy_id', pg_temp.q(quota)))
$$;
CREATE FUNCTION pg_temp.adm(q int, e int, w bigint DEFAULT 60, r bigint DEFAULT 10, c bigint DEFAULT 100,
                            j bigint DEFAULT NULL) RETURNS text LANGUAGE sql AS $$
    SELECT concat_ws(' ', outcome, retry_after_ms) FROM ff_check_admission(pg_temp.q(q), pg_temp.eid(e), w, r, c, j)
$$;
CREATE FUNCTION pg_temp.active(n int) RETURNS bigint LANGUAGE sql AS
$$ SELECT active_concurrency FROM ff_quota_policy WHERE quota_policy_id = pg_temp.q(n)::uuid $$;
CREATE TEMP TABLE claims (execution_id text, handle bytea);
CREATE FUNCTION pg_temp.claim(lane text, n int DEFAULT 10, ttl bigint DEFAULT 30000) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    r text;
BEGIN
    WITH c AS (SELECT * FROM ff_claim(lane, 'w', 'w/1', lease_ttl_ms => ttl, max_claims => n)),
         i AS (INSERT INTO claims SELECT execution_id, handle FROM c RETURNING execution_id)
    SELECT string_agg((right(execution_id, 4)::int - 7700)::text, ',' ORDER BY execution_id) INTO r FROM i;
    RETURN coalesce(r, '');
END $$;
CREATE FUNCTION pg_temp.h(n int) RETURNS bytea LANGUAGE sql AS
$$ SELECT handle FROM claims WHERE execution_id = pg_temp.eid(n) ORDER BY ctid DESC LIMIT 1 $$;
CREATE FUNCTION pg_temp.states(lane text) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(public_state || ':' || n, ' ' ORDER BY public_state) FROM (
        SELECT public_state, count(*) n FROM ff_execution WHERE lane_id = lane GROUP BY 1) s
$$;

------------------------------------------------------------------------------
-- ff_create_quota_policy / ff_read_quota_policy_limits
------------------------------------------------------------------------------
SELECT results_eq($$SELECT * FROM ff_create_quota_policy(pg_temp.q(1), 60, 100, 10)$$,
                  $$VALUES ('created'::text, pg_temp.q(1))$$, 'create_quota_policy: created (spec 11.1)');
SELECT results_eq($$SELECT outcome FROM ff_create_quota_policy(pg_temp.q(1), 60, 100, 10)$$,
                  $$VALUES ('already_satisfied'::text)$$, '... then already_satisfied');
SELECT ok((SELECT outcome = 'created' AND quota_policy_id IS NOT NULL FROM ff_create_quota_policy()),
          'no id: a new policy is minted (defaults: 60 s window, unlimited)');
SELECT is(pg_temp.state($$SELECT ff_create_quota_policy(NULL, -1)$$), 'YFV19', 'negative window -> YFV19 invalid_quota_spec');
SELECT is(pg_temp.state($$SELECT ff_create_quota_policy(NULL, 60, -1)$$), 'YFV19', 'negative rate -> YFV19');
SELECT is(pg_temp.state($$SELECT ff_create_quota_policy(NULL, 60, 1, -1)$$), 'YFV19', 'negative cap -> YFV19');
SELECT is(pg_temp.state($$SELECT ff_create_quota_policy(NULL, 60, 1, 1, 3600001)$$), 'YFV19', 'jitter over an hour -> YFV19');
SELECT is(pg_temp.state($$SELECT ff_create_quota_policy(NULL, 0, 5)$$), 'YFV19', 'a rate limit without a window -> YFV19');
SELECT is(pg_temp.state($$SELECT ff_create_quota_policy(NULL, 31622401)$$), 'YFV19', 'a window over a year -> YFV19');
SELECT is(pg_temp.state($$SELECT ff_create_quota_policy('nope')$$), 'YFV01', 'malformed id -> YFV01');
SELECT is((SELECT count(*) FROM ff_quota_policy), 2::bigint, 'no row left behind by the rejected calls');

SELECT is_empty($$SELECT * FROM ff_read_quota_policy_limits(pg_temp.q(2))$$,
                'read_quota_policy_limits_roundtrip: absent -> no row');
SELECT count(*) FROM ff_create_quota_policy(pg_temp.q(2), 60, 100, 5);
SELECT results_eq($$SELECT * FROM ff_read_quota_policy_limits(pg_temp.q(2))$$,
                  $$VALUES (100::bigint, 60::bigint, 5::bigint, 0::bigint, 0::bigint, false)$$,
                  '... 100 per 60 s, cap 5, jitter 0, not unlimited');
SELECT count(*) FROM ff_create_quota_policy(pg_temp.q(3));
SELECT results_eq($$SELECT is_unlimited FROM ff_read_quota_policy_limits(pg_temp.q(3))$$, $$VALUES (true)$$,
                  'no rate and no cap: unlimited');
UPDATE ff_quota_policy SET active_concurrency_cap = -5 WHERE quota_policy_id = pg_temp.q(3)::uuid;
SELECT is(pg_temp.state(format('SELECT * FROM ff_read_quota_policy_limits(%L)', pg_temp.q(3))), 'YFV25',
          'a negative stored value -> YFV25 corruption');
UPDATE ff_quota_policy SET active_concurrency_cap = 0 WHERE quota_policy_id = pg_temp.q(3)::uuid;
SELECT is(pg_temp.state($$SELECT * FROM ff_read_quota_policy_limits('x')$$), 'YFV01', 'malformed id -> YFV01');

------------------------------------------------------------------------------
-- ff_check_admission / ff_release_admission (spec 11.4)
------------------------------------------------------------------------------
SELECT count(*) FROM ff_create_quota_policy(pg_temp.q(4), 60, 10, 100);
SELECT is(pg_temp.adm(4, 1), 'admitted', 'admits_first_request_in_window');
SELECT is(pg_temp.adm(4, 1), 'already_admitted', 'idempotent_second_admit_returns_already_admitted');
SELECT is(pg_temp.active(4), 1::bigint, '... one slot held (cap 100)');
SELECT count(*) FROM ff_create_quota_policy(pg_temp.q(5), 60, 3, 0);
CREATE TEMP TABLE t5 AS SELECT ff_server_time_ms() AS ms;
SELECT is(pg_temp.adm(5, 1, r => 3, c => 0), 'admitted', 'rate 3: first');
SELECT is(pg_temp.adm(5, 2, r => 3, c => 0), 'admitted', 'rate 3: second');
SELECT is(pg_temp.adm(5, 3, r => 3, c => 0), 'admitted', 'rate 3: third');
SELECT ok((SELECT outcome = 'rate_exceeded' AND retry_after_ms BETWEEN 59000 AND 60000
             FROM ff_check_admission(pg_temp.q(5), pg_temp.eid(4), 60, 3, 0)),
          'rate_exceeded_returns_retry_after: the fourth waits until the oldest leaves the window');
SELECT ok((SELECT retry_after_ms BETWEEN 59000 + 250 AND 60000 + 250
             FROM ff_check_admission(pg_temp.q(5), pg_temp.eid(4), 60, 3, 0, 250)),
          'jitter_ms is added to retry_after_ms');
SET LOCAL flowfabric.clock_offset_ms = 60000;
SELECT is(pg_temp.adm(5, 4, r => 3, c => 0), 'admitted', 'a window later the fourth is admitted');
SET LOCAL flowfabric.clock_offset_ms = 0;
SELECT is(pg_temp.state(format('SELECT ff_check_admission(%L, %L)', pg_temp.q(99), pg_temp.eid(1))), 'YFN05',
          'unknown policy without limits -> YFN05 quota_policy_not_found');
SELECT is(pg_temp.state(format('SELECT ff_check_admission(%L, %L, 60, -1, 0)', pg_temp.q(4), pg_temp.eid(1))), 'YFV19',
          'negative rate_limit -> YFV19');
SELECT is(pg_temp.state(format('SELECT ff_check_admission(%L, %L)', pg_temp.q(4), 'nope')), 'YFV01',
          'malformed execution id -> YFV01');
SELECT is(pg_temp.state(format('SELECT ff_check_admission(%L, %L, dimension => repeat(%L, 257))', pg_temp.q(4),
                               pg_temp.eid(1), 'd')), 'YFV01', 'dimension over 256 bytes -> YFV01');
SELECT is(pg_temp.adm(4, 9, r => 10, c => 100), 'admitted', 'NULL limits come from the stored policy');

-- concurrency_cap_blocks_additional_admits: a policy seeded with 2 of 2 slots
SELECT is(pg_temp.adm(6, 1, c => 2), 'admitted', 'an unknown policy with the caller''s limits: admitted');
SELECT is((SELECT defined FROM ff_quota_policy WHERE quota_policy_id = pg_temp.q(6)::uuid), false,
          '... counted on a placeholder row');
SELECT is(pg_temp.adm(6, 2, c => 2), 'admitted', 'second slot');
SELECT is(pg_temp.adm(6, 3, c => 2), 'concurrency_exceeded', 'cap 2, 2 active: concurrency_exceeded');
SELECT results_eq($$SELECT * FROM ff_create_quota_policy(pg_temp.q(6), 60, 0, 2)$$,
                  $$VALUES ('created'::text, pg_temp.q(6))$$,
                  'create_quota_policy defines the placeholder (upstream kept its zero limits)');
SELECT is(pg_temp.active(6), 2::bigint, '... keeping its slot count');
-- release_admission_idempotent
SELECT results_eq($$SELECT * FROM ff_release_admission(pg_temp.q(6), pg_temp.eid(1))$$,
                  $$VALUES ('released'::text, true, 0)$$, 'release_admission: released, a slot freed');
SELECT is(pg_temp.active(6), 1::bigint, '... counter 1');
SELECT results_eq($$SELECT * FROM ff_release_admission(pg_temp.q(6), pg_temp.eid(1))$$,
                  $$VALUES ('released'::text, false, 0)$$, 'again: released, nothing freed');
SELECT is(pg_temp.active(6), 1::bigint, '... counter unchanged');
SELECT is(pg_temp.adm(6, 3, c => 2), 'admitted', 'the freed slot admits the third');
SELECT is(pg_temp.state($$SELECT ff_release_admission('x', '{fp:1}:00000000-0000-4000-8000-000000000001')$$), 'YFV01',
          'release: malformed policy id -> YFV01');
-- a guard that expired frees its slot only through the cleanup; admission renews it
SELECT count(*) FROM ff_create_quota_policy(pg_temp.q(7), 10, 0, 1);
SELECT is(pg_temp.adm(7, 1, w => 10, r => 0, c => 1), 'admitted', 'cap 1: admitted');
SET LOCAL flowfabric.clock_offset_ms = 10000;
SELECT is(pg_temp.adm(7, 1, w => 10, r => 0, c => 1), 'admitted',
          'after the window the same execution is admitted again (its guard expired)');
SELECT is(pg_temp.active(7), 1::bigint, '... without counting its slot twice');
SET LOCAL flowfabric.clock_offset_ms = 0;

------------------------------------------------------------------------------
-- ff_claim: a sliding window admits exactly the allowed count per window
------------------------------------------------------------------------------
SELECT count(*) FROM ff_create_quota_policy(pg_temp.q(10), 10, 3, 0);
SELECT pg_temp.mk(n, 'tap77a', 10) FROM generate_series(1, 5) n;
CREATE TEMP TABLE t10 AS SELECT ff_server_time_ms() AS ms;
SELECT is(pg_temp.claim('tap77a'), '1,2,3', 'rate 3 per 10 s: three of five are claimed');
SELECT is(pg_temp.states('tap77a'), 'active:3 rate_limited:2', '... two are rate_limited');
SELECT is(pg_temp.vec(pg_temp.eid(4)), 'runnable/unowned/blocked_by_quota/waiting_for_quota/rate_limited',
          'held back: blocked_by_quota / waiting_for_quota');
SELECT ok((SELECT retry_at_ms BETWEEN (SELECT ms FROM t10) + 9000 AND (SELECT ms FROM t10) + 11000
             FROM ff_read_admission(pg_temp.eid(4))),
          'the retry time is when the window frees (about now + 10 s)');
SELECT matches((SELECT blocking_detail FROM ff_execution WHERE execution_id = split_part(pg_temp.eid(4), '}:', 2)::uuid),
               '^quota a7700000-0000-4000-8000-000000000010: 3 of 3 requests per 10 s used; retry after [0-9]+ ms$',
               'blocking_detail says why and for how long');
SELECT is(pg_temp.violations(), '{}', 'invariants hold');
SET LOCAL flowfabric.clock_offset_ms = 5000;
SELECT is(ff_reconcile_quota_unblock(), 0, 'half a window later nothing is due');
SELECT pg_temp.mk(6, 'tap77a', 10);
SELECT is(pg_temp.claim('tap77a'), '', 'a new execution is refused as well');
SET LOCAL flowfabric.clock_offset_ms = 11000;
SELECT is(ff_reconcile_quota_unblock(), 3, 'a window later the reconciler releases the three');
SELECT is(pg_temp.states('tap77a'), 'active:3 waiting:3', '... waiting again');
SELECT is(pg_temp.claim('tap77a'), '4,5,6', 'the next window admits three');
SELECT pg_temp.mk(7, 'tap77a', 10);
SELECT is(pg_temp.claim('tap77a'), '', '... and not a fourth');
SET LOCAL flowfabric.clock_offset_ms = 22000;
SELECT count(*) FROM ff_reconcile_quota_unblock();
SELECT is(pg_temp.claim('tap77a'), '7', 'the window after that: the seventh');
SET LOCAL flowfabric.clock_offset_ms = 0;
SELECT is(pg_temp.violations(), '{}', 'invariants hold');

------------------------------------------------------------------------------
-- ff_claim: the concurrency cap; slots free with the lease
------------------------------------------------------------------------------
SELECT count(*) FROM ff_create_quota_policy(pg_temp.q(11), 60, 0, 2);
SELECT pg_temp.mk(n, 'tap77b', 11) FROM generate_series(11, 16) n;
SELECT is(pg_temp.claim('tap77b', 10, 1000), '11,12', 'cap 2: two of six are claimed');
SELECT is(pg_temp.active(11), 2::bigint, '... two slots held');
SELECT is(pg_temp.states('tap77b'), 'active:2 rate_limited:4', '... four wait for a slot');
SELECT matches((SELECT blocking_detail FROM ff_execution WHERE execution_id = split_part(pg_temp.eid(13), '}:', 2)::uuid),
               '2 of 2 concurrent slots in use$', 'blocking_detail: the cap');
SELECT results_eq($$SELECT kind, status FROM ff_read_admission(pg_temp.eid(11))$$, $$VALUES ('quota'::text, 'slot'::text)$$,
                  'ff_read_admission: the claim holds a slot');
SELECT is(pg_temp.violations(), '{}', 'invariants hold');
SELECT count(*) FROM ff_complete(pg_temp.h(11));
SELECT is(pg_temp.states('tap77b'), 'active:1 completed:1 rate_limited:3 waiting:1',
          'complete frees the slot and releases the oldest waiter in the same transaction');
SELECT is(pg_temp.st(pg_temp.eid(13)), 'waiting', '... execution 13');
SELECT is(pg_temp.claim('tap77b'), '13', 'claimed');
SELECT is(pg_temp.claim('tap77b'), '', 'the cap holds');
SELECT count(*) FROM ff_fail(pg_temp.h(12), 'boom', 'permanent');
SELECT is(pg_temp.claim('tap77b'), '14', 'a terminal failure frees the slot');
SELECT count(*) FROM ff_delay(pg_temp.h(13), ff_server_time_ms() + 600000);
SELECT is(pg_temp.active(11), 1::bigint, 'a delay releases the lease and its slot');
SELECT is(pg_temp.claim('tap77b'), '15', '... the next waiter gets it');
SELECT is(pg_temp.violations(), '{}', 'invariants hold');
SET LOCAL flowfabric.clock_offset_ms = 40000;
SELECT ok(ff_reconcile_lease_expiry() >= 2, 'the leases of 14 and 15 expire');
SELECT is(pg_temp.active(11), 2::bigint, 'expired leases keep their slots: the work is admitted, waiting for its reclaim');
SELECT is(pg_temp.st(pg_temp.eid(16)), 'rate_limited', '... so the last waiter keeps waiting');
SELECT is(pg_temp.violations(), '{}', 'invariants hold (the slot of a reclaimable execution is not a leak)');
SELECT is(pg_temp.claim('tap77b', 10, 60000), '14,15', 'the reclaims continue in their own slots');
SELECT is(pg_temp.claim('tap77b'), '', 'the cap holds again');
SET LOCAL flowfabric.clock_offset_ms = 0;
SELECT is(pg_temp.active(11), 2::bigint, 'two slots');
SELECT count(*) FROM ff_cancel_execution(pg_temp.eid(16));
SELECT is(pg_temp.violations(), '{}', 'cancelling a waiting execution leaves nothing behind');
SELECT count(*) FROM ff_cancel_execution(pg_temp.eid(14));
SELECT is(pg_temp.active(11), 1::bigint, 'cancelling a running one frees its slot');
SELECT is(pg_temp.violations(), '{}', 'invariants hold at the end');

SELECT * FROM finish();
ROLLBACK;

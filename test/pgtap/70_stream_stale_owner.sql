-- Appends with a handle that no longer holds the live lease of its (still
-- open) attempt fail with YFS16 stale_owner_cannot_append (spec E 1.9); the
-- detail is JSON naming why (stale_lease, lease_expired, lease_revoked,
-- execution_not_active) with the execution's current state. Appends to an
-- attempt that has ended stay YFS15 stream_closed. Rejected appends write
-- nothing.
BEGIN;
SELECT plan(21);

DELETE FROM ff_waitpoint_hmac;
SELECT ff_seed_waitpoint_hmac_secret('kid-70', repeat('ab', 32));

-- SQLSTATE and the detail's reason (or the whole detail when asked)
CREATE FUNCTION pg_temp.err(q text, whole boolean DEFAULT false) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    st text;
    msg text;
    det text;
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    IF whole THEN
        RETURN st || ' ' || msg || ' | ' || det;
    END IF;
    RETURN st || ' ' || coalesce(det::jsonb ->> 'reason', det::jsonb ->> 'closed_reason', det);
END $$;
CREATE FUNCTION pg_temp.frames(id text) RETURNS bigint LANGUAGE sql AS
$$ SELECT frame_count FROM ff_stream_info(id, 0) $$;
CREATE FUNCTION pg_temp.forged(h bytea, p_lease_id text DEFAULT NULL, p_epoch bigint DEFAULT NULL)
RETURNS bytea LANGUAGE sql AS $$
    SELECT ff_handle_encode(d.execution_id, d.attempt_index::integer, d.attempt_id,
                            coalesce(p_lease_id, d.lease_id), coalesce(p_epoch, d.lease_epoch),
                            d.lease_ttl_ms, d.lane_id, d.worker_instance_id)
      FROM ff_handle_describe(h) d
$$;

------------------------------------------------------------------------------
-- Another lease or epoch owns the attempt
------------------------------------------------------------------------------
SELECT ff_create_execution('tap70s-a', execution_id => '{fp:71}:00000000-0000-4000-8000-000000007101');
CREATE TEMP TABLE a AS SELECT * FROM ff_claim('tap70s-a', 'w1', 'wi-1', lease_ttl_ms => 3600000);
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM a), 'log', 'first')$$), 'ok', 'the holder appends');
SELECT is(pg_temp.err($$SELECT ff_append_frame(pg_temp.forged((SELECT handle FROM a), p_epoch => 7), 'log', 'x')$$),
          'YFS16 stale_lease', 'another epoch -> YFS16, reason stale_lease');
SELECT is(pg_temp.err($$SELECT ff_append_frame(pg_temp.forged((SELECT handle FROM a),
                          p_lease_id => '00000000-0000-4000-8000-0000000071ff'), 'log', 'x')$$),
          'YFS16 stale_lease', 'another lease id -> YFS16, reason stale_lease');
SELECT is(pg_temp.err($$SELECT ff_append_frame(pg_temp.forged((SELECT handle FROM a), p_epoch => 7), 'log', 'x')$$, true),
          'YFS16 stale_owner_cannot_append: the handle no longer holds the lease of attempt 0 of execution '
          || '{fp:71}:00000000-0000-4000-8000-000000007101 | {"reason": "stale_lease", "lifecycle_phase": "active", '
          || '"ownership_state": "leased", "attempt_index": 0, "lease_epoch": 1}',
          'the message names the kind and the attempt; the detail is JSON with the current state');
SELECT is(pg_temp.frames('{fp:71}:00000000-0000-4000-8000-000000007101'), 1::bigint, 'the rejected appends wrote nothing');

------------------------------------------------------------------------------
-- The worker gave its lease up: suspended, delayed
------------------------------------------------------------------------------
SELECT count(*) FROM ff_suspend((SELECT handle FROM a), '["wpk:s"]');
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM a), 'log', 'while suspended')$$),
          'YFS16 execution_not_active', 'suspended: the old handle -> YFS16, reason execution_not_active');
SELECT is((SELECT closed_at_ms FROM ff_stream_info('{fp:71}:00000000-0000-4000-8000-000000007101', 0)), NULL,
          '... the stream stays open (the attempt continues after the resume)');
SELECT is(ff_resume_execution('{fp:71}:00000000-0000-4000-8000-000000007101'), 'waiting', 'setup: resumed');
CREATE TEMP TABLE a2 AS SELECT * FROM ff_claim_resumed_execution('{fp:71}:00000000-0000-4000-8000-000000007101',
                                                                 'w2', 'wi-2', 'tap70s-a', lease_ttl_ms => 3600000);
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM a), 'log', 'stale')$$),
          'YFS16 stale_lease', 'resumed under a new lease: the pre-suspension handle -> YFS16, reason stale_lease');
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM a2), 'log', 'second')$$), 'ok',
          'the new handle appends to the same stream');
SELECT is(pg_temp.frames('{fp:71}:00000000-0000-4000-8000-000000007101'), 2::bigint, '... two frames in all');
SELECT ff_delay((SELECT handle FROM a2), ff_server_time_ms() + 60000);
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM a2), 'log', 'while delayed')$$),
          'YFS16 execution_not_active', 'delayed: the handle -> YFS16, reason execution_not_active');

------------------------------------------------------------------------------
-- The lease ran out; then the reconciler ends the attempt (YFS15)
------------------------------------------------------------------------------
SELECT ff_create_execution('tap70s-b', execution_id => '{fp:71}:00000000-0000-4000-8000-000000007102');
CREATE TEMP TABLE b AS SELECT * FROM ff_claim('tap70s-b', 'w1', 'wi-1', lease_ttl_ms => 1000);
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM b), 'log', 'in time')$$), 'ok', 'setup: an append in time');
SET LOCAL flowfabric.clock_offset_ms = 1500;
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM b), 'log', 'late')$$),
          'YFS16 lease_expired', 'a lease that ran out -> YFS16, reason lease_expired');
SELECT is(ff_reconcile_lease_expiry(), 1, 'setup: the reconciler marks the lease expired');
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM b), 'log', 'late')$$),
          'YFS15 lease_expired', 'its attempt has ended: YFS15 stream_closed (closed_reason lease_expired)');
RESET flowfabric.clock_offset_ms;
SELECT is(pg_temp.frames('{fp:71}:00000000-0000-4000-8000-000000007102'), 1::bigint, 'only the append in time was kept');

------------------------------------------------------------------------------
-- Revoked and finished attempts are ended: YFS15, not YFS16
------------------------------------------------------------------------------
SELECT ff_create_execution('tap70s-c', execution_id => '{fp:71}:00000000-0000-4000-8000-000000007103');
CREATE TEMP TABLE c AS SELECT * FROM ff_claim('tap70s-c', 'w1', 'wi-1', lease_ttl_ms => 3600000);
SELECT is((SELECT outcome FROM ff_revoke_lease('{fp:71}:00000000-0000-4000-8000-000000007103')), 'revoked', 'setup: lease revoked');
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM c), 'log', 'x')$$),
          'YFS15 operator_revoke', 'a revoked lease''s attempt has ended: YFS15 (closed_reason operator_revoke)');
SELECT ff_create_execution('tap70s-d', execution_id => '{fp:71}:00000000-0000-4000-8000-000000007104');
CREATE TEMP TABLE d AS SELECT * FROM ff_claim('tap70s-d', 'w1', 'wi-1', lease_ttl_ms => 3600000);
SELECT ff_complete((SELECT handle FROM d));
SELECT is(pg_temp.err($$SELECT ff_append_frame((SELECT handle FROM d), 'log', 'x')$$),
          'YFS15 completed', 'after complete: YFS15 stream_closed');
SELECT is(pg_temp.err($$SELECT ff_append_frame(pg_temp.forged((SELECT handle FROM d), p_epoch => 9), 'log', 'x')$$),
          'YFS15 completed', '... whatever the handle''s lease: a closed stream is YFS15 first');

SELECT * FROM finish();
ROLLBACK;

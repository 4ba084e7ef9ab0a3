-- The worker registry: ff_register_worker (registered / refreshed, instance
-- reassignment, lapsed registrations), ff_heartbeat_worker, ff_mark_worker_dead
-- (its leases are released for reclaim), ff_list_workers, the expiry
-- reconciler, and ff_list_expired_leases.
BEGIN;
SELECT plan(60);

CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END $$;
CREATE FUNCTION pg_temp.id(n int) RETURNS text LANGUAGE sql AS
$$ SELECT '{fp:94}:00000000-0000-4000-8000-' || lpad((9400 + n)::text, 12, '0') $$;
CREATE FUNCTION pg_temp.uid(n int) RETURNS uuid LANGUAGE sql AS
$$ SELECT ('00000000-0000-4000-8000-' || lpad((9400 + n)::text, 12, '0'))::uuid $$;
CREATE FUNCTION pg_temp.vec(n int) RETURNS text LANGUAGE sql AS $$
    SELECT lifecycle_phase || '/' || ownership_state || '/' || attempt_state FROM ff_execution WHERE execution_id = pg_temp.uid(n) $$;
CREATE TEMP TABLE t0 AS SELECT ff_server_time_ms() AS ms;

------------------------------------------------------------------------------
-- ff_register_worker / ff_heartbeat_worker
------------------------------------------------------------------------------
SELECT results_eq($$SELECT outcome, next_expiry_ms - (SELECT ms FROM t0) BETWEEN 30000 AND 31000
                      FROM ff_register_worker('w94', 'i94-1', '{b,a,a}', '{cuda,cpu}', 30000, 'ns94')$$,
                  $$VALUES ('registered'::text, true)$$, 'register: registered, next expiry now + ttl');
SELECT results_eq($$SELECT worker_id, lanes, capabilities, liveness_ttl_ms, partition_key, registered_at_ms = last_heartbeat_ms
                      FROM ff_worker_registry WHERE worker_instance_id = 'i94-1'$$,
                  $$VALUES ('w94'::text, '{a,b}'::text[], '{cpu,cuda}'::text[], 30000::bigint, 39::smallint, true)$$,
                  'lanes and capabilities sorted and de-duplicated; partition = FNV-1a-64(instance) % 256');
SELECT results_eq($$SELECT event_type, worker_instance_id, namespace, details->>'worker_id' FROM ff_operator_event
                     WHERE worker_instance_id = 'i94-1' ORDER BY event_id$$,
                  $$VALUES ('worker_registered'::text, 'i94-1'::text, 'ns94'::text, 'w94'::text)$$, 'operator event worker_registered');
SET LOCAL flowfabric.clock_offset_ms = 1000;
SELECT is((SELECT outcome FROM ff_register_worker('w94', 'i94-1', '{c}', '{gpu}', 20000, 'ns94')), 'refreshed',
          'registering again while alive: refreshed');
SELECT results_eq($$SELECT lanes, capabilities, liveness_ttl_ms, last_heartbeat_ms > registered_at_ms FROM ff_worker_registry
                     WHERE worker_instance_id = 'i94-1'$$,
                  $$VALUES ('{c}'::text[], '{gpu}'::text[], 20000::bigint, true)$$,
                  'lanes, capabilities and ttl replaced; registered_at kept, heartbeat now');
SELECT is((SELECT count(*) FROM ff_operator_event WHERE worker_instance_id = 'i94-1'), 1::bigint, 'a refresh writes no event');
SELECT matches(pg_temp.err($$SELECT * FROM ff_register_worker('other', 'i94-1', namespace => 'ns94')$$),
               '^YFV01 invalid_input: instance_id reassigned: worker instance i94-1 is registered to worker w94',
               'a live instance under another worker id -> YFV01');
SELECT results_eq($$SELECT outcome, next_expiry_ms - ff_server_time_ms() BETWEEN 19000 AND 20000
                      FROM ff_heartbeat_worker('i94-1', 'ns94')$$,
                  $$VALUES ('refreshed'::text, true)$$, 'heartbeat: refreshed with the next expiry');
SELECT results_eq($$SELECT * FROM ff_heartbeat_worker('i94-1', 'ns-other')$$,
                  $$VALUES ('not_registered'::text, NULL::bigint)$$, 'heartbeat in another namespace: not_registered');
SELECT results_eq($$SELECT * FROM ff_heartbeat_worker('i94-nobody', 'ns94')$$,
                  $$VALUES ('not_registered'::text, NULL::bigint)$$, 'heartbeat of an unknown instance: not_registered');
SET LOCAL flowfabric.clock_offset_ms = 21000;
SELECT is((SELECT outcome FROM ff_heartbeat_worker('i94-1', 'ns94')), 'not_registered', 'heartbeat after the ttl lapsed: not_registered');
SELECT is((SELECT count(*) FROM ff_worker_registry WHERE worker_instance_id = 'i94-1'), 1::bigint, '... the row waits for the reconciler');
SELECT is((SELECT alive FROM ff_list_workers('ns94') WHERE worker_instance_id = 'i94-1'), false, 'ff_list_workers shows it not alive');
SELECT is((SELECT outcome FROM ff_register_worker('other', 'i94-1', '{a}', '{}', 30000, 'ns94')), 'registered',
          'a lapsed registration is replaced, even by another worker id: registered');
SELECT results_eq($$SELECT worker_id, registered_at_ms = last_heartbeat_ms FROM ff_worker_registry WHERE worker_instance_id = 'i94-1'$$,
                  $$VALUES ('other'::text, true)$$, '... registered_at starts again');
SET LOCAL flowfabric.clock_offset_ms = 0;
SELECT is((SELECT outcome FROM ff_register_worker('w94', 'i94-dflt')), 'registered', 'defaults: namespace default, ttl 30 s');
SELECT results_eq($$SELECT namespace COLLATE "default", lanes, capabilities, liveness_ttl_ms FROM ff_worker_registry WHERE worker_instance_id = 'i94-dflt'$$,
                  $$VALUES ('default'::text, '{}'::text[], '{}'::text[], 30000::bigint)$$, '... stored');
SELECT matches(pg_temp.err($$SELECT * FROM ff_register_worker('w 94', 'i')$$), '^YFV01 ', 'a worker id with a space -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_register_worker('w94', NULL)$$), '^YFV01 ', 'a NULL instance id -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_register_worker('w94', 'i', ARRAY[repeat('l', 65)])$$), '^YFV01 ', 'a 65-byte lane -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_register_worker('w94', 'i', ARRAY['a', NULL])$$), '^YFV01 ', 'a NULL lane -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_register_worker('w94', 'i', array_fill('l'::text, ARRAY[65]))$$), '^YFV01 ', '65 lanes -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_register_worker('w94', 'i', '{}', '{"a b"}')$$), '^YFV03 ', 'a bad capability -> YFV03');
SELECT matches(pg_temp.err($$SELECT * FROM ff_register_worker('w94', 'i', '{}', '{}', 0)$$), '^YFV01 invalid_input: liveness_ttl_ms', 'ttl 0 -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_register_worker('w94', 'i', '{}', '{}', 1000, '')$$), '^YFV01 ', 'an empty namespace -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_register_worker('w94', 'i', '{}', '{}', 1000, E'n\ts')$$), '^YFV01 ', 'a control character in the namespace -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_heartbeat_worker('')$$), '^YFV01 ', 'heartbeat with an empty instance -> YFV01');

------------------------------------------------------------------------------
-- ff_mark_worker_dead: the worker's leases are released for reclaim
------------------------------------------------------------------------------
SELECT ff_register_worker('w94', 'i94-2', '{tap94}', '{}', 60000, 'ns94');
SELECT ff_create_execution('tap94', execution_id => pg_temp.id(1), namespace => 'ns94');
SELECT ff_create_execution('tap94', execution_id => pg_temp.id(2), namespace => 'ns94');
SELECT ff_create_execution('tap94', execution_id => pg_temp.id(3), namespace => 'ns94');
CREATE TEMP TABLE h AS SELECT * FROM ff_claim('tap94', 'w94', 'i94-2', max_claims => 2, lease_ttl_ms => 600000);
CREATE TEMP TABLE hx AS SELECT * FROM ff_claim('tap94', 'w-other', 'i94-x', lease_ttl_ms => 600000);
SELECT results_eq($$SELECT outcome, leases_released FROM ff_mark_worker_dead('i94-2', 'ns94', 'host lost')$$,
                  $$VALUES ('marked'::text, 2)$$, 'mark_worker_dead: marked, two leases released');
SELECT results_eq($$SELECT e.execution_id, pg_temp.vec(n) FROM h, generate_series(1, 2) n
                     JOIN ff_execution e ON e.execution_id = pg_temp.uid(n) WHERE h.execution_id = pg_temp.id(n) ORDER BY 1$$,
                  $$VALUES (pg_temp.uid(1), 'active/lease_expired_reclaimable/attempt_interrupted'::text),
                           (pg_temp.uid(2), 'active/lease_expired_reclaimable/attempt_interrupted')$$,
                  'the dead worker''s executions await reclaim');
SELECT is(pg_temp.vec(3), 'active/leased/running_attempt', 'another worker''s lease is untouched');
SELECT results_eq($$SELECT event_type, reason, worker_instance_id FROM ff_lease_event WHERE execution_id = pg_temp.uid(1) ORDER BY event_id$$,
                  $$VALUES ('acquired'::text, NULL::text, 'i94-2'::text), ('expired', 'worker_dead', 'i94-2')$$,
                  'lease events acquired, expired (worker_dead)');
SELECT is((SELECT blocking_detail FROM ff_execution WHERE execution_id = pg_temp.uid(1)),
          'worker i94-2 is dead (worker_dead), awaiting reclaim', 'the blocking detail says why');
SELECT matches(pg_temp.err($$SELECT ff_complete((SELECT handle FROM h LIMIT 1))$$), '^YFS02 lease_expired: ',
               'if the worker was alive after all, its complete gets lease_expired');
SELECT results_eq($$SELECT event_type, details->>'reason', (details->>'leases_released')::int FROM ff_operator_event
                     WHERE worker_instance_id = 'i94-2' ORDER BY event_id$$,
                  $$VALUES ('worker_registered'::text, NULL::text, NULL::integer), ('worker_marked_dead', 'host lost', 2)$$,
                  'operator event worker_marked_dead');
SELECT is((SELECT count(*) FROM ff_worker_registry WHERE worker_instance_id = 'i94-2'), 0::bigint, 'the registration is gone');
CREATE TEMP TABLE r AS SELECT * FROM ff_claim('tap94', 'w94', 'i94-3', max_claims => 5);
SELECT results_eq($$SELECT execution_id, attempt_index, lease_epoch FROM r ORDER BY 1$$,
                  $$VALUES (pg_temp.id(1), 1, 2::bigint), (pg_temp.id(2), 1, 2::bigint)$$, 'another worker reclaims both');
SELECT results_eq($$SELECT * FROM ff_mark_worker_dead('i94-2', 'ns94')$$, $$VALUES ('not_registered'::text, 0)$$,
                  'marking it dead again: not_registered');
SELECT matches(pg_temp.err($$SELECT * FROM ff_mark_worker_dead('i94-2', 'ns94', repeat('r', 257))$$),
               '^YFV01 invalid_input: reason: exceeds 256 bytes \(got 257\)', 'a 257-byte reason -> YFV01');
SELECT matches(pg_temp.err($$SELECT * FROM ff_mark_worker_dead('i94-2', 'ns94', E'a\nb')$$),
               '^YFV01 invalid_input: reason: must not contain control characters', 'a control character in the reason -> YFV01');
-- an instance alive in another namespace keeps its leases
SELECT ff_register_worker('w94', 'i94-x', '{}', '{}', 60000, 'ns94');
SELECT ff_register_worker('w94', 'i94-x', '{}', '{}', 60000, 'ns94-b');
SELECT results_eq($$SELECT * FROM ff_mark_worker_dead('i94-x', 'ns94')$$, $$VALUES ('marked'::text, 0)$$,
                  'marked dead in one namespace while alive in another: its leases stay');
SELECT is(pg_temp.vec(3), 'active/leased/running_attempt', '... leased');

------------------------------------------------------------------------------
-- ff_list_workers
------------------------------------------------------------------------------
SELECT ff_register_worker('w94', 'i94-a', '{l1}', '{c1}', 60000, 'ns94-list');
SELECT ff_register_worker('w94', 'i94-c', '{}', '{}', 60000, 'ns94-list');
SELECT ff_register_worker('w94', 'i94-b', '{}', '{}', 60000, 'ns94-list');
SELECT results_eq($$SELECT worker_instance_id, worker_id, namespace, lanes, capabilities, liveness_ttl_ms,
                           expires_at_ms = last_heartbeat_ms + liveness_ttl_ms, alive
                      FROM ff_list_workers('ns94-list')$$,
                  $$VALUES ('i94-a'::text, 'w94'::text, 'ns94-list'::text, '{l1}'::text[], '{c1}'::text[], 60000::bigint, true, true),
                           ('i94-b', 'w94', 'ns94-list', '{}', '{}', 60000, true, true),
                           ('i94-c', 'w94', 'ns94-list', '{}', '{}', 60000, true, true)$$,
                  'ff_list_workers: one namespace, by instance id');
SELECT results_eq($$SELECT worker_instance_id FROM ff_list_workers('ns94-list', 'i94-a', 1)$$,
                  $$VALUES ('i94-b'::text)$$, 'paged by cursor');
SELECT is((SELECT count(*) FROM ff_list_workers('ns94-list', NULL, 0)), 0::bigint, 'max_results 0');
SELECT is((SELECT count(*) FROM ff_list_workers('ns94-none')), 0::bigint, 'an empty namespace lists nothing');
SELECT matches(pg_temp.err($$SELECT * FROM ff_list_workers(NULL)$$), '^YFV01 invalid_input: namespace must not be null',
               'no namespace -> YFV01');

------------------------------------------------------------------------------
-- ff_reconcile_worker_expiry
------------------------------------------------------------------------------
SELECT ff_register_worker('w94', 'i94-silent', '{tap94-s}', '{}', 1000, 'ns94');
SELECT ff_create_execution('tap94-s', execution_id => pg_temp.id(10), namespace => 'ns94');
CREATE TEMP TABLE hs AS SELECT * FROM ff_claim('tap94-s', 'w94', 'i94-silent', lease_ttl_ms => 600000);
SELECT is(ff_reconcile_worker_expiry(), 0, 'alive: the reconciler leaves it');
SET LOCAL flowfabric.clock_offset_ms = 1000;
SELECT ok(ff_reconcile_worker_expiry() >= 1, 'at last_heartbeat + ttl the reconciler expires it');
SELECT is((SELECT count(*) FROM ff_worker_registry WHERE worker_instance_id = 'i94-silent'), 0::bigint, 'the registration is gone');
SELECT is(pg_temp.vec(10), 'active/lease_expired_reclaimable/attempt_interrupted', 'its lease was released for reclaim');
SELECT is((SELECT reason FROM ff_lease_event WHERE execution_id = pg_temp.uid(10) AND event_type = 'expired'), 'worker_expired',
          'lease event expired (worker_expired)');
SELECT results_eq($$SELECT event_type, (details->>'leases_released')::int FROM ff_operator_event
                     WHERE worker_instance_id = 'i94-silent' AND event_type = 'worker_expired'$$,
                  $$VALUES ('worker_expired'::text, 1)$$, 'operator event worker_expired');
SELECT is(ff_reconcile_worker_expiry(), 0, 'nothing more');
SET LOCAL flowfabric.clock_offset_ms = 0;
SELECT matches(pg_temp.err($$SELECT ff_reconcile_worker_expiry(0)$$), '^YFV01 ', 'batch_size 0 -> YFV01');

------------------------------------------------------------------------------
-- ff_list_expired_leases
------------------------------------------------------------------------------
SELECT ff_create_execution('tap94-el', execution_id => pg_temp.id(20), namespace => 'ns94-el');
SELECT ff_create_execution('tap94-el', execution_id => pg_temp.id(21), namespace => 'ns94-el');
SELECT ff_create_execution('tap94-el', execution_id => pg_temp.id(22), namespace => 'ns94-el');
SELECT ff_claim('tap94-el', 'w94', 'i94-el', max_claims => 3, lease_ttl_ms => 1000);
SELECT is((SELECT count(*) FROM ff_list_expired_leases(namespace => 'ns94-el')), 0::bigint, 'live leases are not listed');
SET LOCAL flowfabric.clock_offset_ms = 1000;
SELECT results_eq($$SELECT execution_id, worker_id, worker_instance_id, attempt_index, lease_epoch, ownership_state
                      FROM ff_list_expired_leases(namespace => 'ns94-el')$$,
                  $$VALUES (pg_temp.id(20), 'w94'::text, 'i94-el'::text, 0, 1::bigint, 'leased'::text),
                           (pg_temp.id(21), 'w94', 'i94-el', 0, 1::bigint, 'leased'),
                           (pg_temp.id(22), 'w94', 'i94-el', 0, 1::bigint, 'leased')$$,
                  'lapsed leases not yet marked are listed (ownership still leased)');
SELECT results_eq($$SELECT l.execution_id FROM ff_list_expired_leases(
                         after_expires_at_ms => (SELECT expires_at_ms FROM ff_list_expired_leases(namespace => 'ns94-el') LIMIT 1),
                         after_execution_id => pg_temp.id(20), namespace => 'ns94-el', max_results => 1) l$$,
                  $$VALUES (pg_temp.id(21))$$, 'keyset paging by (expires_at_ms, execution_id), ties included');
SELECT is((SELECT count(*) FROM ff_list_expired_leases(as_of => ff_server_time_ms() - 5000, namespace => 'ns94-el')), 0::bigint,
          'as_of before the expiry: none');
SELECT ff_reconcile_lease_expiry();
SELECT results_eq($$SELECT count(*), bool_and(ownership_state = 'lease_expired_reclaimable'), bool_and(lease_id IS NOT NULL)
                      FROM ff_list_expired_leases(namespace => 'ns94-el')$$,
                  $$VALUES (3::bigint, true, true)$$, 'once marked they are listed as awaiting reclaim');
SELECT ff_claim('tap94-el', 'w94', 'i94-el2', max_claims => 3);
SELECT is((SELECT count(*) FROM ff_list_expired_leases(namespace => 'ns94-el')), 0::bigint, 'reclaimed: none left');
SET LOCAL flowfabric.clock_offset_ms = 0;

SELECT * FROM finish();
ROLLBACK;

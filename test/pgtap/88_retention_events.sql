-- Outbox retention (ff_reconcile_event_retention): lease, signal and
-- operator events older than flowfabric.event_retention_ms are deleted in
-- event-id order, batch_size per call shared by the outboxes; events of
-- transactions still running (above the delivery horizon, like this test's
-- own) are kept however old; completion events are kept (they go with their
-- execution); 0 / -1 keep everything; errors.
BEGIN;
SELECT plan(22);

CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;
-- Events with small ids are of transactions long committed (ids are
-- xid << 20 | seq): below the delivery horizon. age_ms: how long ago.
CREATE FUNCTION pg_temp.lease(id bigint, age_ms bigint) RETURNS void LANGUAGE sql AS $$
    INSERT INTO ff_lease_event (event_id, partition_key, execution_id, attempt_index, lease_epoch, event_type, occurred_at_ms)
    VALUES (id, 88, '00000000-0000-4000-8000-00000000e800', 0, 1, 'renewed', ff_server_time_ms() - age_ms);
$$;
CREATE FUNCTION pg_temp.signal(id bigint, age_ms bigint) RETURNS void LANGUAGE sql AS $$
    INSERT INTO ff_signal_event (event_id, partition_key, execution_id, signal_id, signal_name, source_type,
                                 source_identity, effect, lane_id, delivered_at_ms)
    VALUES (id, 88, '00000000-0000-4000-8000-00000000e800', gen_random_uuid(), 'go', 'external', '',
            'resume_condition_satisfied', 'tap88e', ff_server_time_ms() - age_ms);
$$;
CREATE FUNCTION pg_temp.operator(id bigint, age_ms bigint) RETURNS void LANGUAGE sql AS $$
    INSERT INTO ff_operator_event (event_id, event_type, lane_id, occurred_at_ms)
    VALUES (id, 'lane_paused', 'tap88e', ff_server_time_ms() - age_ms);
$$;
CREATE FUNCTION pg_temp.ids() RETURNS text LANGUAGE sql AS $$
    SELECT 'lease ' || coalesce((SELECT string_agg(event_id::text, ',' ORDER BY event_id) FROM ff_lease_event WHERE event_id < 1000), '-')
        || ' signal ' || coalesce((SELECT string_agg(event_id::text, ',' ORDER BY event_id) FROM ff_signal_event WHERE event_id < 1000), '-')
        || ' operator ' || coalesce((SELECT string_agg(event_id::text, ',' ORDER BY event_id) FROM ff_operator_event WHERE event_id < 1000), '-')
        || ' completion ' || coalesce((SELECT string_agg(event_id::text, ',' ORDER BY event_id) FROM ff_completion_event WHERE event_id < 1000), '-')
$$;

-- whatever else is already due is cleared first, then only this file's
-- small ids are below the horizon
SET LOCAL flowfabric.event_retention_ms = 1;
SELECT sum(ff_reconcile_event_retention(100000)) >= 0 AS cleared FROM generate_series(1, 3);
DELETE FROM ff_lease_event WHERE event_id < 1000;
DELETE FROM ff_signal_event WHERE event_id < 1000;
DELETE FROM ff_operator_event WHERE event_id < 1000;
SET LOCAL flowfabric.event_retention_ms = '1h';

-- 101 and 105 are 10 minutes old, the rest 2 hours
SELECT pg_temp.lease(101, 600000), pg_temp.lease(102, 7200000), pg_temp.lease(103, 7200000),
       pg_temp.lease(104, 7200000), pg_temp.lease(105, 600000);
SELECT pg_temp.signal(201, 7200000), pg_temp.signal(202, 7200000), pg_temp.signal(203, 600000);
SELECT pg_temp.operator(301, 7200000), pg_temp.operator(302, 600000);
INSERT INTO ff_completion_event (event_id, partition_key, execution_id, outcome, lane_id, occurred_at_ms)
VALUES (401, 88, '00000000-0000-4000-8000-00000000e800', 'success', 'tap88e', ff_server_time_ms() - 7200000);
-- an event of this (still running) transaction, written "3 hours ago"
SET LOCAL flowfabric.clock_offset_ms = -10800000;
SELECT ff_create_execution('tap88e', execution_id => '{fp:88}:00000000-0000-4000-8000-00000000e801');
SELECT count(*) FROM ff_claim('tap88e', 'w', 'w-1');
RESET flowfabric.clock_offset_ms;
SELECT is((SELECT count(*) FROM ff_lease_event WHERE execution_id = '00000000-0000-4000-8000-00000000e801'
             AND occurred_at_ms < ff_server_time_ms() - 3600000), 1::bigint, 'this transaction''s own lease event, 3 hours old');

SELECT is(ff_reconcile_event_retention(), 6, 'the six events older than an hour are deleted');
SELECT is(pg_temp.ids(), 'lease 101,105 signal 203 operator 302 completion 401',
          'the recent ones stay (a recent event first in id order does not hold back older ones behind it)');
SELECT is((SELECT count(*) FROM ff_lease_event WHERE execution_id = '00000000-0000-4000-8000-00000000e801'), 1::bigint,
          'an event of a transaction still running stays, however old: no subscriber can have read it');
SELECT is((SELECT count(*) FROM ff_completion_event WHERE event_id = 401), 1::bigint,
          'completion events are not aged out (they go with their execution)');
SELECT is(ff_reconcile_event_retention(), 0, 'a second run finds nothing');

-- an hour later the recent ones are due too
SET LOCAL flowfabric.clock_offset_ms = 3600000;
SELECT is(ff_reconcile_event_retention(), 4, 'an hour later the other four');
SELECT is(pg_temp.ids(), 'lease - signal - operator - completion 401', 'only the completion event is left');
RESET flowfabric.clock_offset_ms;

------------------------------------------------------------------------------
-- batch_size: shared by the outboxes, oldest id first
------------------------------------------------------------------------------
SELECT pg_temp.lease(id, 7200000) FROM generate_series(501, 506) id;
SELECT is(ff_reconcile_event_retention(2), 2, 'batch_size 2: two events');
SELECT is(pg_temp.ids(), 'lease 503,504,505,506 signal - operator - completion 401', '... the lowest ids');
SELECT is(ff_reconcile_event_retention(2), 2, 'two more');
SELECT is(ff_reconcile_event_retention(2), 2, 'the last two');
SELECT is(ff_reconcile_event_retention(2), 0, 'then none');
SELECT pg_temp.lease(id, 7200000) FROM generate_series(601, 604) id;
SELECT pg_temp.signal(id, 7200000) FROM generate_series(611, 614) id;
SELECT pg_temp.operator(id, 7200000) FROM generate_series(621, 624) id;
SELECT is(ff_reconcile_event_retention(3), 3, 'batch_size 3 with three outboxes due');
SELECT is(pg_temp.ids(), 'lease 602,603,604 signal 612,613,614 operator 622,623,624 completion 401',
          '... one event of each');

------------------------------------------------------------------------------
-- disabled, errors
------------------------------------------------------------------------------
SET LOCAL flowfabric.event_retention_ms = 0;
SELECT is(ff_reconcile_event_retention(), 0, 'event_retention_ms 0 keeps events forever');
SET LOCAL flowfabric.event_retention_ms = -1;
SELECT is(ff_reconcile_event_retention(), 0, 'so does -1');
SELECT is(pg_temp.ids(), 'lease 602,603,604 signal 612,613,614 operator 622,623,624 completion 401', 'nothing was deleted');
SET LOCAL flowfabric.event_retention_ms = '1h';
SELECT is(ff_reconcile_event_retention(NULL), 9, 'batch_size NULL is the default (1000)');
SELECT is(pg_temp.err('SELECT ff_reconcile_event_retention(0)'), 'YFV01', 'batch_size 0 -> YFV01');
SELECT is(pg_temp.err('SELECT ff_reconcile_event_retention(100001)'), 'YFV01', 'batch_size 100001 -> YFV01');
SELECT is(pg_temp.err('SET LOCAL flowfabric.event_retention_ms = 0; SELECT ff_reconcile_event_retention(-5)'), 'YFV01',
          'a bad batch_size is an error even with retention off');

SELECT * FROM finish();
ROLLBACK;

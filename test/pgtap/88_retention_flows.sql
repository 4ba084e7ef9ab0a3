-- Retention and flows (ff_reconcile_retention): a flow member goes only with
-- its whole flow, once every member has been terminal for
-- flowfabric.retention_ms and no flow cancel still owes acknowledgements;
-- the flow goes with its edges, edge groups and summary. A flow larger than
-- the batch is deleted over several runs, consistent after each; members of
-- a flow still running stay whatever their age, and the resumable sweep
-- finds finished flows behind many such members.
BEGIN;
SELECT plan(33);
\ir 60_flow_helpers.inc

CREATE FUNCTION pg_temp.members(f uuid) RETURNS bigint LANGUAGE sql AS
$$ SELECT count(*) FROM ff_execution WHERE flow_id = f $$;
-- the flow's own rows: flow, edges, edge groups, summary, cancel backlog
CREATE FUNCTION pg_temp.flow_rows(f uuid) RETURNS text LANGUAGE sql AS $$
    SELECT format('flow:%s edges:%s groups:%s summary:%s backlog:%s',
                  (SELECT count(*) FROM ff_flow WHERE flow_id = f), (SELECT count(*) FROM ff_edge WHERE flow_id = f),
                  (SELECT count(*) FROM ff_edge_group WHERE flow_id = f),
                  (SELECT count(*) FROM ff_flow_summary WHERE flow_id = f),
                  (SELECT count(*) FROM ff_cancel_backlog WHERE flow_id = f))
$$;
-- rows anywhere else that name one of the flow's member ids (members are gone or not)
CREATE FUNCTION pg_temp.member_rows(f uuid, n int) RETURNS bigint LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM ff_attempt WHERE execution_id IN (SELECT pg_temp.uid(f, g) FROM generate_series(1, n) g))
         + (SELECT count(*) FROM ff_completion_event WHERE execution_id IN (SELECT pg_temp.uid(f, g) FROM generate_series(1, n) g))
         + (SELECT count(*) FROM ff_lease_event WHERE execution_id IN (SELECT pg_temp.uid(f, g) FROM generate_series(1, n) g))
         + (SELECT count(*) FROM ff_cancel_backlog_member WHERE execution_id IN (SELECT pg_temp.uid(f, g) FROM generate_series(1, n) g))
$$;

-- whatever else is already due is cleared first
SET LOCAL flowfabric.retention_ms = 1;
SELECT ff_reconcile_retention(100000) >= 0 AS cleared;
SELECT ff_reconcile_retention(100000) >= 0 AS cleared;
SET LOCAL flowfabric.retention_ms = '1h';

------------------------------------------------------------------------------
-- A flow larger than the batch: 5 members (1 -> 2 -> 3), all completed
------------------------------------------------------------------------------
SELECT ff_create_flow('f8800000-0000-4000-8000-000000000004');
SELECT pg_temp.member('f8800000-0000-4000-8000-000000000004', n) FROM generate_series(1, 5) n;
SELECT pg_temp.edge('f8800000-0000-4000-8000-000000000004', 1, 2), pg_temp.edge('f8800000-0000-4000-8000-000000000004', 2, 3);
SELECT pg_temp.done('f8800000-0000-4000-8000-000000000004', n) FROM generate_series(1, 5) n;
SELECT is(pg_temp.states('f8800000-0000-4000-8000-000000000004'), '1:completed 2:completed 3:completed 4:completed 5:completed',
          'flow 4: five completed members');
SET LOCAL flowfabric.clock_offset_ms = 7200000;
SELECT is(ff_reconcile_retention(2), 2, 'batch_size 2: two of its members');
SELECT results_eq($$SELECT node_count, edge_count, public_flow_state FROM ff_describe_flow('f8800000-0000-4000-8000-000000000004')$$,
                  $$VALUES (3, 0, 'completed'::text)$$,
                  'the flow stays consistent: node_count 3, its edges gone, still completed');
SELECT is(pg_temp.flow_rows('f8800000-0000-4000-8000-000000000004'), 'flow:1 edges:0 groups:0 summary:0 backlog:0',
          'edges and edge groups went with the first batch');
SELECT is(pg_temp.members('f8800000-0000-4000-8000-000000000004'), 3::bigint, 'three members left');
SELECT is((SELECT array_agg(invariant) FROM ff_check_invariants()), NULL, 'ff_check_invariants holds mid-way');
SELECT is((SELECT flow_id FROM ff_retention_state), 'f8800000-0000-4000-8000-000000000004'::uuid,
          'the next run continues this flow');
SELECT is(ff_reconcile_retention(2), 2, 'two more');
SELECT is(ff_reconcile_retention(2), 1, 'the last one');
SELECT is(pg_temp.flow_rows('f8800000-0000-4000-8000-000000000004'), 'flow:0 edges:0 groups:0 summary:0 backlog:0',
          'with its last member the flow itself is gone');
SELECT is(pg_temp.member_rows('f8800000-0000-4000-8000-000000000004', 5), 0::bigint, 'and every row of its members');
SELECT is((SELECT flow_id FROM ff_retention_state), NULL, 'no flow in progress');
SELECT is(ff_reconcile_retention(2), 0, 'nothing left');

------------------------------------------------------------------------------
-- Flow 1 finished (1 -> 2, 1 -> 3, summary projected), flow 2 still running
-- (1 -> 2, only 1 done), flow 3 cancelled, flow 5 cancelled by header (its
-- member still owes an acknowledgement), a standalone execution
------------------------------------------------------------------------------
SELECT ff_create_flow(f) FROM (VALUES ('f8800000-0000-4000-8000-000000000001'::uuid), ('f8800000-0000-4000-8000-000000000002'),
                                      ('f8800000-0000-4000-8000-000000000003'), ('f8800000-0000-4000-8000-000000000005')) v(f);
SELECT pg_temp.member('f8800000-0000-4000-8000-000000000001', n) FROM generate_series(1, 3) n;
SELECT pg_temp.edge('f8800000-0000-4000-8000-000000000001', 1, 2), pg_temp.edge('f8800000-0000-4000-8000-000000000001', 1, 3);
SELECT pg_temp.member('f8800000-0000-4000-8000-000000000002', n) FROM generate_series(1, 2) n;
SELECT pg_temp.edge('f8800000-0000-4000-8000-000000000002', 1, 2);
SELECT pg_temp.member('f8800000-0000-4000-8000-000000000003', n) FROM generate_series(1, 2) n;
SELECT pg_temp.member('f8800000-0000-4000-8000-000000000005', 1);
SELECT pg_temp.done('f8800000-0000-4000-8000-000000000001', n) FROM generate_series(1, 3) n;
SELECT count(*) FROM ff_project_flow_summary('f8800000-0000-4000-8000-000000000001');
SELECT pg_temp.done('f8800000-0000-4000-8000-000000000002', 1);
SELECT outcome FROM ff_cancel_flow('f8800000-0000-4000-8000-000000000003');
SELECT outcome FROM ff_cancel_flow_header('f8800000-0000-4000-8000-000000000005', 'stop', 'cancel_all');
SELECT ff_create_execution('tap88f-solo', execution_id => '{fp:88}:00000000-0000-4000-8000-0000000088f0');
SELECT ff_complete(handle) FROM ff_claim('tap88f-solo', 'w', 'w-1');
SELECT is(pg_temp.states('f8800000-0000-4000-8000-000000000001') || ' / ' || pg_temp.states('f8800000-0000-4000-8000-000000000002')
          || ' / ' || pg_temp.states('f8800000-0000-4000-8000-000000000003') || ' / ' || pg_temp.states('f8800000-0000-4000-8000-000000000005'),
          '1:completed 2:completed 3:completed / 1:completed 2:waiting / 1:cancelled 2:cancelled / 1:cancelled',
          'the flows are as set up');
SELECT is(pg_temp.flow_rows('f8800000-0000-4000-8000-000000000001'), 'flow:1 edges:2 groups:2 summary:1 backlog:0',
          'flow 1 has edges, groups and a summary');
SELECT is(pg_temp.flow_rows('f8800000-0000-4000-8000-000000000005'), 'flow:1 edges:0 groups:0 summary:0 backlog:1',
          'flow 5 has a cancel backlog');
CREATE TEMP TABLE kept AS SELECT pg_temp.flow_rows('f8800000-0000-4000-8000-000000000002') AS rows,
                                 pg_temp.member_rows('f8800000-0000-4000-8000-000000000002', 2) AS member_rows;

SET LOCAL flowfabric.clock_offset_ms = 10740000;   -- 59 minutes later
SELECT is(ff_reconcile_retention(), 0, 'within the retention: nothing');
SET LOCAL flowfabric.clock_offset_ms = 10860000;   -- 61 minutes later
SELECT is(ff_reconcile_retention(), 6, 'past it: flow 1 (3 members), flow 3 (2) and the standalone execution');
SELECT is(pg_temp.flow_rows('f8800000-0000-4000-8000-000000000001'), 'flow:0 edges:0 groups:0 summary:0 backlog:0',
          'flow 1 is gone with its edges, groups and summary');
SELECT is(pg_temp.members('f8800000-0000-4000-8000-000000000001') + pg_temp.member_rows('f8800000-0000-4000-8000-000000000001', 3),
          0::bigint, '... and its members with their attempts and events');
SELECT is(pg_temp.flow_rows('f8800000-0000-4000-8000-000000000003') || ' ' || pg_temp.members('f8800000-0000-4000-8000-000000000003'),
          'flow:0 edges:0 groups:0 summary:0 backlog:0 0', 'the cancelled flow 3 is gone');
SELECT results_eq($$SELECT pg_temp.flow_rows('f8800000-0000-4000-8000-000000000002'), pg_temp.member_rows('f8800000-0000-4000-8000-000000000002', 2),
                           pg_temp.states('f8800000-0000-4000-8000-000000000002')$$,
                  $$SELECT rows, member_rows, '1:completed 2:waiting'::text FROM kept$$,
                  'flow 2 still runs: its finished member stays, with its edge, group and events');
SELECT is(pg_temp.states('f8800000-0000-4000-8000-000000000005'), '1:cancelled',
          'flow 5 stays while its cancel owes an acknowledgement');
SELECT is((SELECT array_agg(invariant) FROM ff_check_invariants()), NULL, 'ff_check_invariants holds');

SELECT ff_ack_cancel_member('f8800000-0000-4000-8000-000000000005', pg_temp.id('f8800000-0000-4000-8000-000000000005', 1));
SELECT is(ff_reconcile_retention(), 1, 'acknowledged: flow 5 goes');
SELECT is(pg_temp.flow_rows('f8800000-0000-4000-8000-000000000005') || ' ' || pg_temp.members('f8800000-0000-4000-8000-000000000005')
          || ' ' || pg_temp.member_rows('f8800000-0000-4000-8000-000000000005', 1),
          'flow:0 edges:0 groups:0 summary:0 backlog:0 0 0', 'all of it');

-- flow 2's last member finishes: the flow goes an hour after that, not before
SELECT pg_temp.done('f8800000-0000-4000-8000-000000000002', 2);
SET LOCAL flowfabric.clock_offset_ms = 14400000;   -- 59 minutes after that
SELECT is(ff_reconcile_retention(), 0, 'flow 2 finished; its first member is past the retention, its last is not');
SET LOCAL flowfabric.clock_offset_ms = 14520000;   -- 61 minutes after
SELECT is(ff_reconcile_retention(), 2, 'an hour after its last member finished, flow 2 goes');
SELECT is(pg_temp.flow_rows('f8800000-0000-4000-8000-000000000002') || ' ' || pg_temp.member_rows('f8800000-0000-4000-8000-000000000002', 2),
          'flow:0 edges:0 groups:0 summary:0 backlog:0 0', 'with everything');

------------------------------------------------------------------------------
-- The sweep resumes: 25 finished members of a running flow come first in
-- terminal order, a finished flow after them; batch_size 1 examines 10
-- member rows per step, so only a sweep that moves on ever reaches it
------------------------------------------------------------------------------
SELECT ff_create_flow('f8800000-0000-4000-8000-000000000006'), ff_create_flow('f8800000-0000-4000-8000-000000000007');
SELECT pg_temp.member('f8800000-0000-4000-8000-000000000006', n) FROM generate_series(1, 26) n;
SELECT pg_temp.member('f8800000-0000-4000-8000-000000000007', n) FROM generate_series(1, 3) n;
SELECT set_config('flowfabric.clock_offset_ms', (120000000 + n * 10)::text, true),
       pg_temp.done('f8800000-0000-4000-8000-000000000006', n) FROM generate_series(1, 25) n;
SET LOCAL flowfabric.clock_offset_ms = 120001000;
SELECT pg_temp.done('f8800000-0000-4000-8000-000000000007', n) FROM generate_series(1, 3) n;
SET LOCAL flowfabric.clock_offset_ms = 130000000;
SELECT is((SELECT sum(ff_reconcile_retention(1)) FROM generate_series(1, 10)), 3::bigint,
          'ten runs with batch_size 1 reach the finished flow behind the running one''s members');
SELECT is(pg_temp.flow_rows('f8800000-0000-4000-8000-000000000007') || ' ' || pg_temp.members('f8800000-0000-4000-8000-000000000007'),
          'flow:0 edges:0 groups:0 summary:0 backlog:0 0', 'the finished flow is gone');
SELECT is(pg_temp.members('f8800000-0000-4000-8000-000000000006'), 26::bigint, 'the running flow keeps all 26 members');
SELECT is((SELECT array_agg(invariant) FROM ff_check_invariants()), NULL, 'ff_check_invariants holds');

SELECT * FROM finish();
ROLLBACK;

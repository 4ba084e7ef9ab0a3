-- Identifiers: CRC16 and partition vectors (spec A §1.6), execution id
-- parsing and canonical form (§1.1), minting, lane and tag-key rules, and
-- the derived public_state table (§3.2).
BEGIN;
SELECT plan(94);

------------------------------------------------------------------------------
-- CRC16/XMODEM and partitions
------------------------------------------------------------------------------
SELECT is(ff_crc16(convert_to('123456789', 'UTF8')), 12739, 'CRC16("123456789") = 0x31C3');
SELECT is(to_hex(ff_crc16(convert_to('123456789', 'UTF8'))), '31c3', 'the check value in hex');
SELECT is(ff_crc16(''::bytea), 0, 'CRC16 of no bytes is 0');
SELECT is(ff_crc16(convert_to('default', 'UTF8')), 54870, 'crc16("default") = 54870');
SELECT is(ff_solo_partition('default'), 86, 'lane default -> partition 86');
SELECT is(ff_crc16(convert_to('workers-a', 'UTF8')), 11969, 'crc16("workers-a") = 11969');
SELECT is(ff_solo_partition('workers-a'), 193, 'lane workers-a -> partition 193');
SELECT is(ff_crc16(convert_to('a', 'UTF8')), 31879, 'crc16("a") = 31879');
SELECT is(ff_solo_partition('a'), 135, 'lane a -> partition 135');
SELECT is(ff_crc16(decode('550e8400e29b41d4a716446655440000', 'hex')), 36888, 'crc16 of the 16 raw uuid bytes = 36888');
SELECT is(ff_flow_partition('550e8400-e29b-41d4-a716-446655440000'), 24, 'flow partition of that uuid = 24 (raw bytes)');
SELECT is(ff_crc16(convert_to('550e8400-e29b-41d4-a716-446655440000', 'UTF8')) % 256, 6,
          '(hashing the 36-char text would give 6, which the flow partition must not be)');
SELECT throws_ok($$SELECT ff_solo_partition('')$$, 'YFV01', NULL, 'solo partition of an empty lane -> YFV01');

SELECT is(ff_execution_partition('{fp:86}:550e8400-e29b-41d4-a716-446655440000'), 86, 'ff_execution_partition reads N');
SELECT is(ff_execution_partition('{fp:0}:550e8400-e29b-41d4-a716-446655440000'), 0, 'partition 0 is valid');
SELECT is(ff_execution_partition('{fp:255}:550e8400-e29b-41d4-a716-446655440000'), 255, 'partition 255 is valid');
SELECT is(ff_execution_partition('{fp:007}:550e8400-e29b-41d4-a716-446655440000'), 7, 'leading zeros are accepted');
SELECT results_eq($$SELECT * FROM ff_split_execution_id('{fp:86}:550E8400-E29B-41D4-A716-446655440000')$$,
                  $$VALUES (86::smallint, '550e8400-e29b-41d4-a716-446655440000'::uuid)$$,
                  'ff_split_execution_id returns partition and uuid');
SELECT is(ff_format_execution_id(86::smallint, '550e8400-e29b-41d4-a716-446655440000'::uuid),
          '{fp:86}:550e8400-e29b-41d4-a716-446655440000', 'ff_format_execution_id renders the canonical form');

------------------------------------------------------------------------------
-- canonical ids
------------------------------------------------------------------------------
SELECT is(ff_canonical_execution_id('{fp:86}:550e8400-e29b-41d4-a716-446655440000'),
          '{fp:86}:550e8400-e29b-41d4-a716-446655440000', 'a canonical id is unchanged');
SELECT is(ff_canonical_execution_id('{fp:86}:550E8400-E29B-41D4-A716-446655440000'),
          '{fp:86}:550e8400-e29b-41d4-a716-446655440000', 'uppercase uuid is lowercased');
SELECT is(ff_canonical_execution_id('{fp:86}:{550e8400-e29b-41d4-a716-446655440000}'),
          '{fp:86}:550e8400-e29b-41d4-a716-446655440000', 'braced uuid is accepted');
SELECT is(ff_canonical_execution_id('{fp:86}:550e8400e29b41d4a716446655440000'),
          '{fp:86}:550e8400-e29b-41d4-a716-446655440000', '32-hex simple uuid is accepted');
SELECT is(ff_canonical_execution_id('{fp:86}:urn:uuid:550e8400-e29b-41d4-a716-446655440000'),
          '{fp:86}:550e8400-e29b-41d4-a716-446655440000', 'urn:uuid: form is accepted');
SELECT is(ff_canonical_execution_id('{fp:0086}:550e8400-e29b-41d4-a716-446655440000'),
          '{fp:86}:550e8400-e29b-41d4-a716-446655440000', 'leading zeros are dropped');
SELECT is(ff_canonical_execution_id('{fp:+86}:550e8400-e29b-41d4-a716-446655440000'),
          '{fp:86}:550e8400-e29b-41d4-a716-446655440000', 'a + sign is accepted and dropped');
SELECT is(ff_canonical_execution_id('{fp:000}:00000000-0000-0000-0000-000000000000'),
          '{fp:0}:00000000-0000-0000-0000-000000000000', 'partition 000 and the nil uuid');

SELECT throws_ok($$SELECT ff_canonical_execution_id('{fp:-1}:550e8400-e29b-41d4-a716-446655440000')$$, 'YFV01', NULL, '{fp:-1} -> YFV01');
SELECT throws_ok($$SELECT ff_canonical_execution_id('{fp:65536}:550e8400-e29b-41d4-a716-446655440000')$$, 'YFV01', NULL, '{fp:65536} -> YFV01');
SELECT throws_ok($$SELECT ff_canonical_execution_id('{fp:65535}:550e8400-e29b-41d4-a716-446655440000')$$, 'YFV01', NULL, '{fp:65535} (a u16, but no such partition) -> YFV01');
SELECT throws_ok($$SELECT ff_canonical_execution_id('{fp:256}:550e8400-e29b-41d4-a716-446655440000')$$, 'YFV01', NULL, '{fp:256} -> YFV01');
SELECT throws_ok($$SELECT ff_canonical_execution_id('{fp:xx}:550e8400-e29b-41d4-a716-446655440000')$$, 'YFV01', NULL, '{fp:xx} -> YFV01');
SELECT throws_ok($$SELECT ff_canonical_execution_id('{fp:}:550e8400-e29b-41d4-a716-446655440000')$$, 'YFV01', NULL, 'empty partition -> YFV01');
SELECT throws_ok($$SELECT ff_canonical_execution_id('{fp:+}:550e8400-e29b-41d4-a716-446655440000')$$, 'YFV01', NULL, 'a lone + -> YFV01');
SELECT throws_ok($$SELECT ff_canonical_execution_id('{fp: 86}:550e8400-e29b-41d4-a716-446655440000')$$, 'YFV01', NULL, 'a space in the partition -> YFV01');
SELECT throws_ok($$SELECT ff_canonical_execution_id('550e8400-e29b-41d4-a716-446655440000')$$, 'YFV01', NULL, 'missing hash tag (bare uuid) -> YFV01');
SELECT throws_ok($$SELECT ff_canonical_execution_id('{fp:86}550e8400-e29b-41d4-a716-446655440000')$$, 'YFV01', NULL, 'missing }: -> YFV01');
SELECT throws_ok($$SELECT ff_canonical_execution_id('{b:86}:550e8400-e29b-41d4-a716-446655440000')$$, 'YFV01', NULL, 'another family tag -> YFV01');
SELECT throws_ok($$SELECT ff_canonical_execution_id('{fp:86}:550e8400-e29b-41d4-a716-44665544000')$$, 'YFV01', NULL, 'uuid one digit short -> YFV01');
SELECT throws_ok($$SELECT ff_canonical_execution_id('{fp:86}:550e8400-e29b-41d4-a716-44665544000g')$$, 'YFV01', NULL, 'non-hex uuid digit -> YFV01');
SELECT throws_ok($$SELECT ff_canonical_execution_id('{fp:86}:550e8400e-29b-41d4-a716-446655440000')$$, 'YFV01', NULL, 'misplaced hyphen -> YFV01');
SELECT throws_ok($$SELECT ff_canonical_execution_id('{fp:86}:')$$, 'YFV01', NULL, 'no uuid at all -> YFV01');
SELECT throws_ok($$SELECT ff_execution_partition('{fp:256}:550e8400-e29b-41d4-a716-446655440000')$$, 'YFV01', NULL, 'ff_execution_partition rejects {fp:256} -> YFV01');
SELECT throws_ok($$SELECT ff_split_execution_id('nope')$$, 'YFV01', NULL, 'ff_split_execution_id rejects garbage -> YFV01');

------------------------------------------------------------------------------
-- minting
------------------------------------------------------------------------------
SELECT ok(ff_new_execution_id('default') ~ '^\{fp:86\}:[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$',
          'ff_new_execution_id(default): partition 86, a lowercase UUIDv7');
-- a version 7 UUID starts with its Unix time in milliseconds (48 bits)
CREATE FUNCTION pg_temp.uuid_ms(id text) RETURNS bigint LANGUAGE sql
    RETURN ('x' || lpad(substr(replace((ff_split_execution_id(id)).execution_uuid::text, '-', ''), 1, 12), 16, '0'))::bit(64)::bigint;
SELECT ok(abs(pg_temp.uuid_ms(ff_new_execution_id('default'))
              - (extract(epoch FROM clock_timestamp()) * 1000)::bigint) < 5000,
          'a minted UUID carries the current time in milliseconds');
SELECT ok((SELECT bool_and(u > prev) FROM
             (SELECT u, lag(u) OVER (ORDER BY n) AS prev FROM
                (SELECT n, (ff_split_execution_id(ff_new_execution_id('default'))).execution_uuid AS u
                   FROM generate_series(1, 2000) n) m) o WHERE prev IS NOT NULL),
          'ids minted one after another increase strictly, within a millisecond too');
SELECT isnt(ff_new_execution_id('default'), ff_new_execution_id('default'), 'two minted ids differ');
SELECT is(ff_new_execution_id('default', '550e8400-e29b-41d4-a716-446655440000'),
          '{fp:86}:550e8400-e29b-41d4-a716-446655440000', 'deterministic solo id embeds the given uuid');
SELECT is(ff_new_execution_id('workers-a', '00000000-0000-0000-0000-000000000000'),
          '{fp:193}:00000000-0000-0000-0000-000000000000', 'solo id for workers-a is in partition 193 (nil uuid allowed)');
SELECT is(ff_execution_partition(ff_new_execution_id('a')), ff_solo_partition('a'), 'minted ids land in the lane''s solo partition');
SELECT throws_ok($$SELECT ff_new_execution_id(NULL)$$, 'YFV01', NULL, 'ff_new_execution_id(NULL) -> YFV01');
SELECT throws_ok($$SELECT ff_new_execution_id(E'bad\nlane')$$, 'YFV01', NULL, 'ff_new_execution_id with a bad lane -> YFV01');
SELECT ok(ff_new_flow_execution_id('550e8400-e29b-41d4-a716-446655440000') ~ '^\{fp:24\}:[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$',
          'ff_new_flow_execution_id: the flow''s partition 24, a UUIDv7');
SELECT is(ff_new_flow_execution_id('550e8400-e29b-41d4-a716-446655440000', '00000000-0000-4000-8000-000000000001'),
          '{fp:24}:00000000-0000-4000-8000-000000000001', 'deterministic flow member id');
SELECT throws_ok($$SELECT ff_new_flow_execution_id(NULL)$$, 'YFV01', NULL, 'ff_new_flow_execution_id(NULL) -> YFV01');

------------------------------------------------------------------------------
-- lane ids and tag keys
------------------------------------------------------------------------------
SELECT is(ff_check_lane_id(repeat('l', 64)), repeat('l', 64), 'a 64-byte lane is valid');
SELECT is(ff_check_lane_id(' ~'), ' ~', 'space and tilde (0x20, 0x7e) are valid');
SELECT throws_ok($$SELECT ff_check_lane_id('')$$, 'YFV01', NULL, 'empty lane -> YFV01');
SELECT throws_ok($$SELECT ff_check_lane_id(repeat('l', 65))$$, 'YFV01', NULL, '65-byte lane -> YFV01');
SELECT throws_ok($$SELECT ff_check_lane_id(E'bad\nlane')$$, 'YFV01', NULL, 'newline -> YFV01');
SELECT throws_ok($$SELECT ff_check_lane_id(E'\tlane')$$, 'YFV01', NULL, 'tab -> YFV01');
SELECT throws_ok($$SELECT ff_check_lane_id('la' || chr(127))$$, 'YFV01', NULL, 'DEL -> YFV01');
SELECT throws_ok($$SELECT ff_check_lane_id('läne')$$, 'YFV01', NULL, 'non-ASCII -> YFV01');
SELECT throws_ok($$SELECT ff_check_lane_id(NULL)$$, 'YFV01', NULL, 'NULL lane -> YFV01');

SELECT is(ff_check_tag_key('cairn.task_id'), 'cairn.task_id', 'cairn.task_id is a valid tag key');
SELECT is(ff_check_tag_key('a1_.b.c_2.'), 'a1_.b.c_2.', 'digits, underscores and later dots are valid');
SELECT throws_ok($$SELECT ff_check_tag_key('nodot')$$, 'YFV23', NULL, 'no dot -> YFV23');
SELECT throws_ok($$SELECT ff_check_tag_key('1app.x')$$, 'YFV23', NULL, 'leading digit -> YFV23');
SELECT throws_ok($$SELECT ff_check_tag_key('app.')$$, 'YFV23', NULL, 'nothing after the dot -> YFV23');
SELECT throws_ok($$SELECT ff_check_tag_key('app.-x')$$, 'YFV23', NULL, 'a hyphen after the dot -> YFV23');
SELECT throws_ok($$SELECT ff_check_tag_key('App.x')$$, 'YFV23', NULL, 'uppercase -> YFV23');

------------------------------------------------------------------------------
-- derived public_state (spec A §3.2), every branch
------------------------------------------------------------------------------
SELECT results_eq(
    $$SELECT o, ff_derive_public_state('terminal', 'not_applicable', o)
        FROM unnest(ARRAY['success', 'failed', 'cancelled', 'expired', 'skipped', 'none']) o$$,
    $$VALUES ('success'::text, 'completed'::text), ('failed', 'failed'), ('cancelled', 'cancelled'),
             ('expired', 'expired'), ('skipped', 'skipped'), ('none', 'failed')$$,
    'terminal: by outcome (none, a corrupt combination, reads as failed)');
SELECT is(ff_derive_public_state('suspended', 'not_applicable', 'none'), 'suspended', 'suspended -> suspended');
SELECT is(ff_derive_public_state('suspended', 'eligible_now', 'none'), 'suspended', 'suspended regardless of eligibility');
SELECT results_eq(
    $$SELECT e, ff_derive_public_state('active', e, 'none')
        FROM unnest(ARRAY['not_applicable', 'eligible_now', 'not_eligible_until_time']) e$$,
    $$VALUES ('not_applicable'::text, 'active'::text), ('eligible_now', 'active'), ('not_eligible_until_time', 'active')$$,
    'active -> active regardless of eligibility');
SELECT results_eq(
    $$SELECT e, ff_derive_public_state('runnable', e, 'none')
        FROM unnest(ARRAY['eligible_now', 'not_eligible_until_time', 'blocked_by_dependencies', 'blocked_by_budget',
                          'blocked_by_quota', 'blocked_by_route', 'blocked_by_lane_state', 'blocked_by_operator',
                          'not_applicable']) e$$,
    $$VALUES ('eligible_now'::text, 'waiting'::text), ('not_eligible_until_time', 'delayed'),
             ('blocked_by_dependencies', 'waiting_children'), ('blocked_by_budget', 'rate_limited'),
             ('blocked_by_quota', 'rate_limited'), ('blocked_by_route', 'waiting'),
             ('blocked_by_lane_state', 'waiting'), ('blocked_by_operator', 'waiting'), ('not_applicable', 'waiting')$$,
    'runnable: by eligibility');
SELECT is(ff_derive_public_state('submitted', 'eligible_now', 'none'), 'waiting', 'submitted -> waiting');
SELECT is(ff_derive_public_state('submitted', 'not_eligible_until_time', 'none'), 'waiting', 'submitted -> waiting even when not eligible');
SELECT is(ff_derive_public_state('active', 'not_applicable', 'success'), 'active', 'only the terminal phase looks at the outcome');
SELECT is(ff_derive_public_state('runnable', 'eligible_now', NULL), NULL, 'STRICT: NULL in, NULL out');

-- the table constraint enforces the derivation
SELECT ff_create_execution('tap10-check', execution_id => '{fp:100}:00000000-0000-4000-8000-000000001001');
SELECT throws_ok($$UPDATE ff_execution SET public_state = 'active' WHERE execution_id = '00000000-0000-4000-8000-000000001001'$$,
                 '23514', NULL, 'a stored public_state that is not the derived one violates the CHECK constraint');
SELECT throws_ok($$UPDATE ff_execution SET lifecycle_phase = 'terminal', public_state = 'failed'
                    WHERE execution_id = '00000000-0000-4000-8000-000000001001'$$,
                 '23514', NULL, 'terminal with terminal_outcome none violates the CHECK constraint');
SELECT throws_ok($$UPDATE ff_execution SET ownership_state = 'borrowed' WHERE execution_id = '00000000-0000-4000-8000-000000001001'$$,
                 '23514', NULL, 'a value outside the canonical alphabet is rejected');
SELECT throws_ok($$UPDATE ff_execution SET priority = 9001 WHERE execution_id = '00000000-0000-4000-8000-000000001001'$$,
                 '23514', NULL, 'a priority above 9000 violates ff_execution_row_valid');
SELECT throws_ok($$UPDATE ff_execution SET priority = -1 WHERE execution_id = '00000000-0000-4000-8000-000000001001'$$,
                 '23514', NULL, 'a negative priority violates ff_execution_row_valid');
SELECT throws_ok($$UPDATE ff_execution SET partition_key = 256 WHERE execution_id = '00000000-0000-4000-8000-000000001001'$$,
                 '23514', NULL, 'a partition key above 255 violates ff_execution_row_valid');
SELECT is((SELECT priority FROM ff_execution WHERE execution_id = '00000000-0000-4000-8000-000000001001'), 0,
          'the rejected updates left the row as it was');
SELECT ok(ff_execution_row_valid(255::smallint, 9000, 'runnable', 'unowned', 'eligible_now', 'waiting_for_worker',
                                 'none', 'pending_first_attempt', 'waiting'), 'the bounds themselves are valid');

-- the outbox tables' vocabularies
SELECT ok(ff_lease_event_type_valid('reclaimed') AND NOT ff_lease_event_type_valid('acquire'),
          'lease event types: the six, nothing else');
SELECT ok(ff_completion_outcome_valid('skipped') AND NOT ff_completion_outcome_valid('none'),
          'completion outcomes: the terminal outcomes, not none');
SELECT throws_ok($$INSERT INTO ff_lease_event (event_id, partition_key, execution_id, attempt_index, lease_epoch,
                                               event_type, occurred_at_ms)
                   VALUES (-1, 100, '00000000-0000-4000-8000-000000001001', 0, 1, 'stolen', 0)$$,
                 '23514', NULL, 'a lease event of an unknown type violates its CHECK constraint');
SELECT throws_ok($$INSERT INTO ff_completion_event (event_id, partition_key, execution_id, outcome, lane_id, occurred_at_ms)
                   VALUES (-1, 100, '00000000-0000-4000-8000-000000001001', 'none', 'tap10-check', 0)$$,
                 '23514', NULL, 'a completion event with outcome none violates its CHECK constraint');
SELECT is((SELECT count(*) FROM ff_lease_event WHERE event_id = -1) + (SELECT count(*) FROM ff_completion_event WHERE event_id = -1),
          0::bigint, 'no event row was written');

SELECT * FROM finish();
ROLLBACK;

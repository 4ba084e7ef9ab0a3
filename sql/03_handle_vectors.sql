--
-- 03_handle_vectors: the wire-compatibility vectors of spec A: the 174-byte
-- v2 handle (§2.3), legacy v1 decoding, CRC16/XMODEM and the partition
-- vectors (§1.6), and the derived public_state table (§3.2).
--
SET client_min_messages = warning;  -- no NOTICE whether or not an earlier file created it
CREATE EXTENSION IF NOT EXISTS flowfabric;
RESET client_min_messages;

\set vector '''0201022c0000007b66703a38367d3a35353065383430302d653239622d343164342d613731362d343436363535343430303030030000002400000030303030303030302d303030302d343030302d383030302d3030303030303030303030312400000030303030303030302d303030302d343030302d383030302d303030303030303030303032070000000000000030750000000000000700000064656661756c7408000000776f726b65722d31'''

-- Encoding the spec's fields gives exactly the spec's bytes.
SELECT encode(h, 'hex') = :vector AS matches_spec_vector, length(h) AS bytes
  FROM ff_handle_encode('{fp:86}:550e8400-e29b-41d4-a716-446655440000', 3,
                        '00000000-0000-4000-8000-000000000001',
                        '00000000-0000-4000-8000-000000000002',
                        7, 30000, 'default', 'worker-1') AS h;
SELECT length(decode(:vector, 'hex')) AS spec_vector_bytes;

-- Decoding it gives the fields back.
SELECT * FROM ff_handle_describe(decode(:vector, 'hex'));

-- Legacy v1: 0x01 followed by the same field block decodes as a Valkey
-- handle, format 1.
SELECT * FROM ff_handle_describe('\x01'::bytea || substr(decode(:vector, 'hex'), 4));

-- v2 with the Valkey / SQLite tag byte.
SELECT backend, format, execution_id, attempt_index
  FROM ff_handle_describe(set_byte(decode(:vector, 'hex'), 2, 1));
SELECT backend, format, execution_id, attempt_index
  FROM ff_handle_describe(set_byte(decode(:vector, 'hex'), 2, 3));
SELECT encode(substr(ff_handle_encode('{fp:86}:550e8400-e29b-41d4-a716-446655440000', 3,
                     '00000000-0000-4000-8000-000000000001',
                     '00000000-0000-4000-8000-000000000002',
                     7, 30000, 'default', 'worker-1', backend), 1, 3), 'hex') AS header,
       backend
  FROM unnest(ARRAY['postgres', 'valkey', 'sqlite']) AS backend;

-- describe then encode is the identity.
SELECT ff_handle_encode(d.execution_id, d.attempt_index::integer, d.attempt_id, d.lease_id,
                        d.lease_epoch, d.lease_ttl_ms, d.lane_id, d.worker_instance_id,
                        d.backend) = decode(:vector, 'hex') AS round_trip
  FROM ff_handle_describe(decode(:vector, 'hex')) d;

-- Layout: integers little-endian, strings u32-length-prefixed.
SELECT encode(substr(h, 4, 4), 'hex') AS exec_id_len_44,
       convert_from(substr(h, 8, 44), 'UTF8') AS exec_id,
       encode(substr(h, 52, 4), 'hex') AS attempt_index_3,
       encode(substr(h, 136, 8), 'hex') AS epoch_7,
       encode(substr(h, 144, 8), 'hex') AS ttl_30000
  FROM decode(:vector, 'hex') AS h;

-- Large numbers: u32 attempt index 2^32-1 decodes as 4294967295; u64 fields
-- above 2^63-1 show as negative bigints (engine operations reject them).
SELECT attempt_index, lease_epoch, lease_ttl_ms
  FROM ff_handle_describe(overlay(overlay(overlay(decode(:vector, 'hex')
           PLACING '\xffffffff'::bytea FROM 52)
           PLACING '\xffffffffffffffff'::bytea FROM 136)
           PLACING '\x0000000000000080'::bytea FROM 144));
-- The maximum values ff_handle_encode accepts.
SELECT attempt_index, lease_epoch, lease_ttl_ms
  FROM ff_handle_describe(ff_handle_encode('{fp:0}:00000000-0000-0000-0000-000000000000',
           2147483647, '00000000-0000-0000-0000-000000000000',
           'ffffffff-ffff-ffff-ffff-ffffffffffff', 9223372036854775807,
           9223372036854775807, '', ''));
-- Non-ASCII UTF-8 strings round-trip byte for byte.
SELECT lane_id, worker_instance_id, octet_length(worker_instance_id) AS wiid_bytes
  FROM ff_handle_describe(ff_handle_encode('{fp:86}:550e8400-e29b-41d4-a716-446655440000', 3,
           '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002',
           7, 30000, 'default', 'wörker-☃'));
-- The decoder keeps a lenient (non-canonical) execution id as written.
SELECT execution_id, attempt_id
  FROM ff_handle_describe(ff_handle_encode('{fp:086}:550E8400E29B41D4A716446655440000', 3,
           '{00000000-0000-4000-8000-000000000001}', 'urn:uuid:00000000-0000-4000-8000-000000000002',
           7, 30000, 'default', 'worker-1'));

--
-- CRC16/XMODEM (poly 0x1021, init 0, no reflection) and partitions.
--
SELECT ff_crc16('123456789'::bytea) AS check_value, to_hex(ff_crc16('123456789'::bytea)) AS hex,
       ff_crc16(''::bytea) AS empty;
SELECT lane, ff_crc16(convert_to(lane, 'UTF8')) AS crc16,
       ff_crc16(convert_to(lane, 'UTF8')) % 256 AS mod_256,
       ff_solo_partition(lane) AS solo_partition
  FROM unnest(ARRAY['default', 'workers-a', 'a']) AS lane;
-- Flows hash the 16 raw UUID bytes (big-endian), not the UUID's text.
SELECT ff_crc16(decode(replace('550e8400-e29b-41d4-a716-446655440000', '-', ''), 'hex')) AS raw_crc16,
       ff_flow_partition('550e8400-e29b-41d4-a716-446655440000') AS flow_partition,
       ff_crc16(convert_to('550e8400-e29b-41d4-a716-446655440000', 'UTF8')) % 256 AS text_mod_256;
SELECT ff_new_execution_id('default', '550e8400-e29b-41d4-a716-446655440000') AS solo_id,
       ff_new_flow_execution_id('550e8400-e29b-41d4-a716-446655440000',
                                '00000000-0000-4000-8000-000000000001') AS flow_member_id,
       ff_execution_partition('{fp:193}:00000000-0000-4000-8000-000000000001') AS partition;
-- Minted ids are canonical, time-ordered v7 when not given, and in the lane's partition.
SELECT id ~ '^\{fp:86\}:[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' AS v7_in_86,
       ff_canonical_execution_id(id) = id AS canonical
  FROM ff_new_execution_id('default') AS id;
SELECT * FROM ff_split_execution_id('{fp:193}:00000000-0000-4000-8000-000000000001');
SELECT ff_format_execution_id(193::smallint, '00000000-0000-4000-8000-000000000001') AS formatted;

--
-- derive_public_state (§3.2).
--
SELECT lp, es, tout, ff_derive_public_state(lp, es, tout) AS public_state
  FROM (VALUES
        ('terminal', 'not_applicable', 'success'),
        ('terminal', 'not_applicable', 'failed'),
        ('terminal', 'not_applicable', 'cancelled'),
        ('terminal', 'not_applicable', 'expired'),
        ('terminal', 'not_applicable', 'skipped'),
        ('terminal', 'not_applicable', 'none'),
        ('suspended', 'not_applicable', 'none'),
        ('active', 'not_applicable', 'none'),
        ('active', 'eligible_now', 'none'),
        ('runnable', 'eligible_now', 'none'),
        ('runnable', 'not_eligible_until_time', 'none'),
        ('runnable', 'blocked_by_dependencies', 'none'),
        ('runnable', 'blocked_by_budget', 'none'),
        ('runnable', 'blocked_by_quota', 'none'),
        ('runnable', 'blocked_by_route', 'none'),
        ('runnable', 'blocked_by_lane_state', 'none'),
        ('runnable', 'blocked_by_operator', 'none'),
        ('runnable', 'not_applicable', 'none'),
        ('submitted', 'eligible_now', 'none')) AS v(lp, es, tout);

-- The search_path hijack attempt (docs/security.md): a user (member of
-- ff_admin, so it may call every function) fills its own schema with objects
-- named like the extension's internals and like the built-ins its SQL uses:
-- a shadow of every ff_ function, shadows of now(), format(), jsonb_set(),
-- strpos(), ..., operators = <> > <= || + on the common types, tables and
-- temp tables named ff_execution, ff_attempt, ...; each shadow logs that it
-- ran. With search_path = evil, pg_temp, pg_catalog, public it then drives
-- every area of the engine through schema-qualified calls. Nothing of theirs
-- may run: the log stays empty, every call works, and the results are the
-- real ones.
BEGIN;
SELECT plan(17);

DELETE FROM ff_waitpoint_hmac;
CREATE ROLE ff_tap98_evil NOLOGIN IN ROLE ff_admin;
CREATE SCHEMA evil AUTHORIZATION ff_tap98_evil;
CREATE TABLE evil.log (what text, who text);
GRANT ALL ON evil.log TO PUBLIC;

-- The scenario's scratch space and plumbing. The helpers pin their own
-- search_path, so they never resolve a name through the attacker's schema.
CREATE TABLE pg_temp.box (k text PRIMARY KEY, v text, u uuid, b bytea, n bigint);
GRANT ALL ON pg_temp.box TO PUBLIC;
CREATE TABLE pg_temp.steps (i serial, name text, outcome text);
GRANT ALL ON pg_temp.steps TO PUBLIC;
GRANT ALL ON SEQUENCE pg_temp.steps_i_seq TO PUBLIC;
CREATE FUNCTION pg_temp.step(name text, q text) RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog AS $$
DECLARE
    outcome text := 'ok';
BEGIN
    BEGIN
        PERFORM pg_catalog.set_config('search_path', 'evil, pg_temp, pg_catalog, public', true);
        EXECUTE q;
    EXCEPTION WHEN OTHERS THEN
        outcome := SQLSTATE || ': ' || SQLERRM;
    END;
    INSERT INTO pg_temp.steps (name, outcome) VALUES (name, outcome);
END $$;
CREATE FUNCTION pg_temp.b(key text) RETURNS bytea LANGUAGE sql STABLE SET search_path = pg_catalog
    AS $$ SELECT b FROM pg_temp.box WHERE k = key $$;
CREATE FUNCTION pg_temp.v(key text) RETURNS text LANGUAGE sql STABLE SET search_path = pg_catalog
    AS $$ SELECT v FROM pg_temp.box WHERE k = key $$;
CREATE FUNCTION pg_temp.u(key text) RETURNS uuid LANGUAGE sql STABLE SET search_path = pg_catalog
    AS $$ SELECT u FROM pg_temp.box WHERE k = key $$;
CREATE FUNCTION pg_temp.n(key text) RETURNS bigint LANGUAGE sql STABLE SET search_path = pg_catalog
    AS $$ SELECT n FROM pg_temp.box WHERE k = key $$;
CREATE FUNCTION pg_temp.bs(prefix text) RETURNS bytea[] LANGUAGE sql STABLE SET search_path = pg_catalog
    AS $$ SELECT array_agg(b ORDER BY k) FROM pg_temp.box WHERE starts_with(k, prefix) $$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA pg_temp TO PUBLIC;

------------------------------------------------------------------------------
-- The attacker's objects.
------------------------------------------------------------------------------
SET LOCAL ROLE ff_tap98_evil;
-- a shadow of every function of the extension, same name and arguments
CREATE FUNCTION pg_temp.shadow_all() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    f record;
    made integer := 0;
BEGIN
    FOR f IN
        SELECT p.proname, pg_get_function_arguments(p.oid) AS args, pg_get_function_result(p.oid) AS res,
               p.proretset OR p.prorettype IN ('void'::regtype, 'record'::regtype) AS bare_return
          FROM pg_proc p
          JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
          JOIN pg_extension x ON x.oid = d.refobjid AND x.extname = 'flowfabric'
         WHERE p.prorettype <> 'trigger'::regtype
    LOOP
        BEGIN
            EXECUTE format('CREATE FUNCTION evil.%I(%s) RETURNS %s LANGUAGE plpgsql AS %L', f.proname, f.args, f.res,
                           format('BEGIN INSERT INTO evil.log VALUES (%L, current_user); %s END', f.proname,
                                  CASE WHEN f.bare_return THEN 'RETURN;' ELSE 'RETURN NULL;' END));
            made := made + 1;
        EXCEPTION WHEN OTHERS THEN
            NULL;   -- a signature plpgsql cannot copy
        END;
    END LOOP;
    RETURN made;
END $$;
SELECT ok(pg_temp.shadow_all() > 100, 'the attacker shadows (almost) every ff_ function');

-- shadows of built-ins the extension's SQL uses, delegating to the real ones
CREATE FUNCTION pg_temp.shadow(name text, args text, res text, call text, label text DEFAULT NULL)
    RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE FUNCTION evil.%I(%s) RETURNS %s LANGUAGE plpgsql AS %L', name, args, res,
                   format('BEGIN INSERT INTO evil.log VALUES (%L, current_user); RETURN %s; END',
                          coalesce(label, name), call));
END $$;
SELECT pg_temp.shadow('now', '', 'timestamptz', 'pg_catalog.now()');
SELECT pg_temp.shadow('clock_timestamp', '', 'timestamptz', 'pg_catalog.clock_timestamp()');
SELECT pg_temp.shadow('format', 'text, text', 'text', 'pg_catalog.format($1, $2)');
SELECT pg_temp.shadow('format', 'text, text, text', 'text', 'pg_catalog.format($1, $2, $3)');
SELECT pg_temp.shadow('jsonb_set', 'jsonb, text[], jsonb, boolean', 'jsonb', 'pg_catalog.jsonb_set($1, $2, $3, $4)');
SELECT pg_temp.shadow('to_jsonb', 'text', 'jsonb', 'pg_catalog.to_jsonb($1)');
SELECT pg_temp.shadow('strpos', 'text, text', 'integer', 'pg_catalog.strpos($1, $2)');
SELECT pg_temp.shadow('split_part', 'text, text, integer', 'text', 'pg_catalog.split_part($1, $2, $3)');
SELECT pg_temp.shadow('left', 'text, integer', 'text', 'pg_catalog."left"($1, $2)');
SELECT pg_temp.shadow('substr', 'text, integer', 'text', 'pg_catalog.substr($1, $2)');
SELECT pg_temp.shadow('length', 'text', 'integer', 'pg_catalog.length($1)');
SELECT pg_temp.shadow('lower', 'text', 'text', 'pg_catalog.lower($1)');
SELECT pg_temp.shadow('gen_random_uuid', '', 'uuid', 'pg_catalog.gen_random_uuid()');
SELECT pg_temp.shadow('nextval', 'regclass', 'bigint', 'pg_catalog.nextval($1)');
SELECT pg_temp.shadow('encode', 'bytea, text', 'text', 'pg_catalog.encode($1, $2)');
SELECT pg_temp.shadow('sha256', 'bytea', 'bytea', 'pg_catalog.sha256($1)');
SELECT pg_temp.shadow('md5', 'text', 'text', 'pg_catalog.md5($1)');
SELECT pg_temp.shadow('pg_notify', 'text, text', 'text', '(SELECT ''x'' FROM pg_catalog.pg_notify($1, $2))');
SELECT pg_temp.shadow('current_setting', 'text', 'text', 'pg_catalog.current_setting($1)');
SELECT pg_temp.shadow('jsonb_typeof', 'jsonb', 'text', 'pg_catalog.jsonb_typeof($1)');
SELECT pg_temp.shadow('array_length', 'anyarray, integer', 'integer', 'pg_catalog.array_length($1, $2)');
SELECT pg_temp.shadow('txid_current', '', 'bigint', 'pg_catalog.txid_current()');
-- operators on the common types
CREATE FUNCTION pg_temp.shadow_op(op text, l text, r text, res text, impl text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    fn text := 'op_' || md5(op || l || r);
BEGIN
    PERFORM pg_temp.shadow(fn, l || ', ' || r, res, format('pg_catalog.%s($1, $2)', impl),
                           format('operator %s(%s, %s)', op, l, r));
    EXECUTE format('CREATE OPERATOR evil.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = evil.%I)', op, l, r, fn);
END $$;
SELECT pg_temp.shadow_op('=', 'text', 'text', 'boolean', 'texteq');
SELECT pg_temp.shadow_op('<>', 'text', 'text', 'boolean', 'textne');
SELECT pg_temp.shadow_op('||', 'text', 'text', 'text', 'textcat');
SELECT pg_temp.shadow_op('=', 'uuid', 'uuid', 'boolean', 'uuid_eq');
SELECT pg_temp.shadow_op('>', 'uuid', 'uuid', 'boolean', 'uuid_gt');
SELECT pg_temp.shadow_op('=', 'smallint', 'smallint', 'boolean', 'int2eq');
SELECT pg_temp.shadow_op('=', 'integer', 'integer', 'boolean', 'int4eq');
SELECT pg_temp.shadow_op('=', 'bigint', 'bigint', 'boolean', 'int8eq');
SELECT pg_temp.shadow_op('<=', 'bigint', 'bigint', 'boolean', 'int8le');
SELECT pg_temp.shadow_op('>', 'bigint', 'bigint', 'boolean', 'int8gt');
SELECT pg_temp.shadow_op('+', 'bigint', 'bigint', 'bigint', 'int8pl');
SELECT pg_temp.shadow_op('=', 'boolean', 'boolean', 'boolean', 'booleq');
SELECT pg_temp.shadow_op('->>', 'jsonb', 'text', 'text', 'jsonb_object_field_text');
-- tables named like the engine's, in the attacker's schema and as temp tables
CREATE FUNCTION pg_temp.shadow_tables() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    t record;
    made integer := 0;
BEGIN
    FOR t IN
        SELECT c.relname FROM pg_class c
          JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
          JOIN pg_extension x ON x.oid = d.refobjid AND x.extname = 'flowfabric'
         WHERE c.relkind = 'r'
    LOOP
        EXECUTE format('CREATE TABLE evil.%I (evil text)', t.relname);
        EXECUTE format('CREATE TEMP TABLE %I (evil text)', t.relname);
        made := made + 1;
    END LOOP;
    RETURN made;
END $$;
SELECT ok(pg_temp.shadow_tables() >= 20, 'and shadows the engine''s tables, in its schema and as temp tables');
RESET ROLE;

------------------------------------------------------------------------------
-- The attack: drive the engine with the attacker's search_path.
------------------------------------------------------------------------------
SET LOCAL ROLE ff_tap98_evil;
SET LOCAL flowfabric.notify = on;
SELECT pg_temp.step('seed', $q$SELECT * FROM public.ff_seed_waitpoint_hmac_secret('tap98h', repeat('7a', 32))$q$);
-- lifecycle, tags, reads
SELECT pg_temp.step('create', $q$INSERT INTO pg_temp.box (k, v) SELECT 'c1', t.public_state FROM public.ff_create_execution('tap98-hj',
    '\x696e'::bytea, '{fp:97}:00000000-0000-4000-8000-000000009701', 'ns', 'kind', 5, '{gpu}',
    '{"retry_policy": {"max_retries": 2, "backoff": {"type": "fixed", "delay_ms": 0}}, "timeout_policy": {"attempt_timeout_ms": 600000}}',
    NULL, NULL, 'idem-1', '{"a.b": "c"}', 'me') t$q$);
SELECT pg_temp.step('create dedup', $q$INSERT INTO pg_temp.box (k, v) SELECT 'c1dup', t.execution_id FROM public.ff_create_execution('tap98-hj',
    execution_id => '{fp:97}:00000000-0000-4000-8000-000000009799', idempotency_key => 'idem-1', namespace => 'ns') t$q$);
SELECT pg_temp.step('claim', $q$INSERT INTO pg_temp.box (k, b) SELECT 'h1', t.handle FROM public.ff_claim('tap98-hj', 'w', 'w/1', '{gpu}', 600000, 1) t$q$);
SELECT pg_temp.step('progress', $q$SELECT public.ff_progress(pg_temp.b('h1'), 50, 'half')$q$);
SELECT pg_temp.step('renew', $q$SELECT * FROM public.ff_renew(pg_temp.b('h1'))$q$);
SELECT pg_temp.step('fail', $q$INSERT INTO pg_temp.box (k, v) SELECT 'f1', t.outcome FROM public.ff_fail(pg_temp.b('h1'), 'boom', 'transient', '\x00'::bytea) t$q$);
SELECT pg_temp.step('claim again', $q$INSERT INTO pg_temp.box (k, b) SELECT 'h2', t.handle FROM public.ff_claim('tap98-hj', 'w', 'w/1', '{gpu}', 600000, 1) t$q$);
SELECT pg_temp.step('delay', $q$SELECT public.ff_delay(pg_temp.b('h2'), 0)$q$);
SELECT pg_temp.step('claim after delay', $q$INSERT INTO pg_temp.box (k, b) SELECT 'h3', t.handle FROM public.ff_claim('tap98-hj', 'w', 'w/1', '{gpu}', 600000, 1) t$q$);
SELECT pg_temp.step('set tag', $q$SELECT public.ff_set_execution_tag('{fp:97}:00000000-0000-4000-8000-000000009701', 'a.x', 'y')$q$);
SELECT pg_temp.step('get tag', $q$INSERT INTO pg_temp.box (k, v) SELECT 'tag', public.ff_get_execution_tag('{fp:97}:00000000-0000-4000-8000-000000009701', 'a.x')$q$);
SELECT pg_temp.step('reads', $q$INSERT INTO pg_temp.box (k, v) SELECT 'reads', concat_ws('|',
    (SELECT t::text FROM public.ff_describe_execution('{fp:97}:00000000-0000-4000-8000-000000009701') t),
    (SELECT t::text FROM public.ff_read_execution_info('{fp:97}:00000000-0000-4000-8000-000000009701') t),
    public.ff_read_execution_state('{fp:97}:00000000-0000-4000-8000-000000009701'),
    public.ff_get_execution_result('{fp:97}:00000000-0000-4000-8000-000000009701'),
    (SELECT t::text FROM public.ff_read_execution_context('{fp:97}:00000000-0000-4000-8000-000000009701') t),
    public.ff_read_current_attempt_index('{fp:97}:00000000-0000-4000-8000-000000009701'),
    public.ff_read_total_attempt_count('{fp:97}:00000000-0000-4000-8000-000000009701'),
    public.ff_get_execution_namespace('{fp:97}:00000000-0000-4000-8000-000000009701'),
    (SELECT count(*) FROM public.ff_list_executions('{fp:97}')),
    (SELECT count(*) FROM public.ff_list_lanes()),
    public.ff_capabilities(),
    public.ff_resolve_execution_flow_id('{fp:97}:00000000-0000-4000-8000-000000009701'),
    public.ff_evaluate_flow_eligibility('{fp:97}:00000000-0000-4000-8000-000000009701'))$q$);
-- streams
SELECT pg_temp.step('append', $q$SELECT * FROM public.ff_append_frame(pg_temp.b('h3'), 'log', '\x6869'::bytea)$q$);
SELECT pg_temp.step('append summary', $q$SELECT * FROM public.ff_append_frame(pg_temp.b('h3'), 'summary',
    convert_to('{"x": 1, "y": {"z": "__ff_null__"}}', 'UTF8'), 'summary')$q$);
SELECT pg_temp.step('append best effort', $q$SELECT * FROM public.ff_append_frame(pg_temp.b('h3'), 'tick', '\x01'::bytea, 'best_effort')$q$);
SELECT pg_temp.step('stream reads', $q$INSERT INTO pg_temp.box (k, n) SELECT 'frames',
    (SELECT count(*) FROM public.ff_read_stream('{fp:97}:00000000-0000-4000-8000-000000009701'))
    OPERATOR(pg_catalog.+) (SELECT count(*) FROM public.ff_tail_stream('{fp:97}:00000000-0000-4000-8000-000000009701'))
    OPERATOR(pg_catalog.+) (SELECT count(*) FROM public.ff_stream_info('{fp:97}:00000000-0000-4000-8000-000000009701'))
    OPERATOR(pg_catalog.+) (SELECT count(*) FROM public.ff_read_summary('{fp:97}:00000000-0000-4000-8000-000000009701'))$q$);
-- suspension, waitpoints, signals
SELECT pg_temp.step('pending waitpoint', $q$INSERT INTO pg_temp.box (k, u, v) SELECT 'pw', t.waitpoint_id, t.waitpoint_token
    FROM public.ff_create_waitpoint(pg_temp.b('h3'), 'wpk:early', 600000) t$q$);
SELECT pg_temp.step('suspend', $q$INSERT INTO pg_temp.box (k, u, v) SELECT 'wp', t.waitpoint_id, t.waitpoint_token
    FROM public.ff_suspend(pg_temp.b('h3'), '["wpk:s"]',
         '{"Single": {"waitpoint_key": "wpk:s", "matcher": {"ByName": "go"}}}',
         timeout_at => 9000000000000, timeout_behavior => 'fail') t$q$);
SELECT pg_temp.step('suspension reads', $q$INSERT INTO pg_temp.box (k, n) SELECT 'susp',
    (SELECT count(*) FROM public.ff_list_pending_waitpoints('{fp:97}:00000000-0000-4000-8000-000000009701'))
    OPERATOR(pg_catalog.+) (SELECT count(*) FROM public.ff_list_suspended('{fp:97}'))
    OPERATOR(pg_catalog.+) (SELECT count(*) FROM public.ff_list_waitpoint_hmac_kids())$q$);
SELECT pg_temp.step('read token', $q$INSERT INTO pg_temp.box (k, v) SELECT 'rt', public.ff_read_waitpoint_token('{fp:97}', pg_temp.u('wp'))$q$);
SELECT pg_temp.step('deliver', $q$INSERT INTO pg_temp.box (k, v) SELECT 'sig', t.effect FROM public.ff_deliver_signal(
    '{fp:97}:00000000-0000-4000-8000-000000009701', pg_temp.u('wp'), pg_temp.v('wp'), 'go',
    NULL, 'signal', 'external', 'evil', '\x00'::bytea, NULL, NULL, 'sig-1') t$q$);
SELECT pg_temp.step('claim resumed', $q$INSERT INTO pg_temp.box (k, b) SELECT 'h4', t.handle FROM public.ff_claim_resumed_execution(
    '{fp:97}:00000000-0000-4000-8000-000000009701', 'w', 'w/1', 'tap98-hj', capabilities => '{gpu}') t$q$);
SELECT pg_temp.step('observe', $q$SELECT * FROM public.ff_observe_signals(pg_temp.b('h4'), true)$q$);
SELECT pg_temp.step('close waitpoint', $q$SELECT public.ff_close_waitpoint('{fp:97}:00000000-0000-4000-8000-000000009701', pg_temp.u('pw'))$q$);
SELECT pg_temp.step('complete', $q$SELECT public.ff_complete(pg_temp.b('h4'), '\x6f6b'::bytea)$q$);
SELECT pg_temp.step('token primitive', $q$SELECT public.ff_waitpoint_token_check('\x01'::bytea, 'k', 'm',
    public.ff_waitpoint_token_sign('\x01'::bytea, 'k', 'm'))$q$);
-- a second execution: cancel by the holder, then replay and operator cancel
SELECT pg_temp.step('create 2', $q$SELECT * FROM public.ff_create_execution('tap98-hj2', execution_id => '{fp:97}:00000000-0000-4000-8000-000000009702')$q$);
SELECT pg_temp.step('claim 2', $q$INSERT INTO pg_temp.box (k, b) SELECT 'h5', t.handle FROM public.ff_claim('tap98-hj2', 'w', 'w/1') t$q$);
SELECT pg_temp.step('cancel', $q$SELECT public.ff_cancel(pg_temp.b('h5'), 'stop')$q$);
SELECT pg_temp.step('replay', $q$SELECT * FROM public.ff_replay_execution('{fp:97}:00000000-0000-4000-8000-000000009702', 'again')$q$);
SELECT pg_temp.step('change priority', $q$SELECT * FROM public.ff_change_priority('{fp:97}:00000000-0000-4000-8000-000000009702', 7)$q$);
SELECT pg_temp.step('claim replay', $q$INSERT INTO pg_temp.box (k, b) SELECT 'h6', t.handle FROM public.ff_claim('tap98-hj2', 'w', 'w/1') t$q$);
SELECT pg_temp.step('revoke', $q$SELECT * FROM public.ff_revoke_lease('{fp:97}:00000000-0000-4000-8000-000000009702')$q$);
SELECT pg_temp.step('expired leases', $q$SELECT * FROM public.ff_list_expired_leases()$q$);
SELECT pg_temp.step('operator cancel', $q$SELECT * FROM public.ff_cancel_execution('{fp:97}:00000000-0000-4000-8000-000000009702', 'enough')$q$);
-- batches
SELECT pg_temp.step('create many', $q$SELECT * FROM public.ff_create_executions('tap98-hjb', ARRAY['\x01', '\x02', '\x03']::bytea[])$q$);
SELECT pg_temp.step('claim many', $q$INSERT INTO pg_temp.box (k, b) SELECT pg_catalog.textcat('hb', t.execution_id), t.handle
    FROM public.ff_claim('tap98-hjb', 'w', 'w/1', max_claims => 3) t$q$);
SELECT pg_temp.step('renew many', $q$SELECT * FROM public.ff_renew_many(pg_temp.bs('hb'))$q$);
SELECT pg_temp.step('complete many', $q$SELECT * FROM public.ff_complete_many((pg_temp.bs('hb'))[1:2])$q$);
SELECT pg_temp.step('fail many', $q$SELECT * FROM public.ff_fail_many((pg_temp.bs('hb'))[3:3], ARRAY['x'], ARRAY['permanent'])$q$);
-- flows
SELECT pg_temp.step('flow', $q$SELECT * FROM public.ff_create_flow('00000000-0000-4000-8000-0000000097f0')$q$);
SELECT pg_temp.step('flow ids', $q$INSERT INTO pg_temp.box (k, v) VALUES
    ('up', public.ff_new_flow_execution_id('00000000-0000-4000-8000-0000000097f0', '00000000-0000-4000-8000-0000000097a1')),
    ('down', public.ff_new_flow_execution_id('00000000-0000-4000-8000-0000000097f0', '00000000-0000-4000-8000-0000000097a2'))$q$);
SELECT pg_temp.step('flow members', $q$SELECT public.ff_create_execution('tap98-hjf', execution_id => pg_temp.v('up')),
    public.ff_create_execution('tap98-hjf', execution_id => pg_temp.v('down')),
    public.ff_add_execution_to_flow('00000000-0000-4000-8000-0000000097f0', pg_temp.v('up')),
    public.ff_add_execution_to_flow('00000000-0000-4000-8000-0000000097f0', pg_temp.v('down'))$q$);
SELECT pg_temp.step('flow revision', $q$INSERT INTO pg_temp.box (k, n) SELECT 'rev', t.graph_revision
    FROM public.ff_describe_flow('00000000-0000-4000-8000-0000000097f0') t$q$);
SELECT pg_temp.step('group policy', $q$SELECT public.ff_set_edge_group_policy('00000000-0000-4000-8000-0000000097f0',
    pg_temp.v('down'), '{"kind": "all_of"}')$q$);
SELECT pg_temp.step('stage edge', $q$SELECT * FROM public.ff_stage_dependency_edge('00000000-0000-4000-8000-0000000097f0',
    '00000000-0000-4000-8000-0000000097e1', pg_temp.v('up'), pg_temp.v('down'), pg_temp.n('rev'))$q$);
SELECT pg_temp.step('apply edge', $q$SELECT * FROM public.ff_apply_dependency_to_child('00000000-0000-4000-8000-0000000097f0',
    '00000000-0000-4000-8000-0000000097e1', pg_temp.v('down'))$q$);
SELECT pg_temp.step('flow tags', $q$SELECT public.ff_set_flow_tag('00000000-0000-4000-8000-0000000097f0', 'a.b', 'c'),
    public.ff_get_flow_tag('00000000-0000-4000-8000-0000000097f0', 'a.b')$q$);
SELECT pg_temp.step('flow reads', $q$INSERT INTO pg_temp.box (k, n) SELECT 'flowreads',
    (SELECT count(*) FROM public.ff_describe_flow('00000000-0000-4000-8000-0000000097f0'))
    OPERATOR(pg_catalog.+) (SELECT count(*) FROM public.ff_list_flows(pg_catalog.format('{fp:%s}',
                                   public.ff_flow_partition('00000000-0000-4000-8000-0000000097f0'))))
    OPERATOR(pg_catalog.+) (SELECT count(*) FROM public.ff_describe_edge('00000000-0000-4000-8000-0000000097f0', '00000000-0000-4000-8000-0000000097e1'))
    OPERATOR(pg_catalog.+) (SELECT count(*) FROM public.ff_list_edges('00000000-0000-4000-8000-0000000097f0', 'outgoing', pg_temp.v('up')))
    OPERATOR(pg_catalog.+) (SELECT count(*) FROM public.ff_project_flow_summary('00000000-0000-4000-8000-0000000097f0'))$q$);
SELECT pg_temp.step('claim upstream', $q$INSERT INTO pg_temp.box (k, b) SELECT 'hu', t.handle FROM public.ff_claim('tap98-hjf', 'w', 'w/1') t$q$);
SELECT pg_temp.step('complete upstream', $q$SELECT public.ff_complete(pg_temp.b('hu'))$q$);
SELECT pg_temp.step('claim downstream', $q$INSERT INTO pg_temp.box (k, b) SELECT 'hd', t.handle FROM public.ff_claim('tap98-hjf', 'w', 'w/1') t$q$);
SELECT pg_temp.step('wait children', $q$SELECT public.ff_wait_children(pg_temp.b('hd'))$q$);
SELECT pg_temp.step('cancel flow', $q$SELECT * FROM public.ff_cancel_flow('00000000-0000-4000-8000-0000000097f0')$q$);
SELECT pg_temp.step('cancel flow header', $q$SELECT * FROM public.ff_cancel_flow_header('00000000-0000-4000-8000-0000000097f0', 'r', 'cancel_all')$q$);
SELECT pg_temp.step('ack cancel', $q$SELECT public.ff_ack_cancel_member('00000000-0000-4000-8000-0000000097f0', pg_temp.v('down'))$q$);
-- scheduler, lanes, worker registry
SELECT pg_temp.step('register', $q$SELECT * FROM public.ff_register_worker('w', 'w/1', '{tap98-hjs}')$q$);
SELECT pg_temp.step('heartbeat', $q$SELECT * FROM public.ff_heartbeat_worker('w/1')$q$);
SELECT pg_temp.step('list workers', $q$SELECT * FROM public.ff_list_workers()$q$);
SELECT pg_temp.step('create 3', $q$SELECT * FROM public.ff_create_execution('tap98-hjs', execution_id => '{fp:97}:00000000-0000-4000-8000-000000009703')$q$);
SELECT pg_temp.step('scan', $q$SELECT * FROM public.ff_scan_eligible_executions('tap98-hjs')$q$);
SELECT pg_temp.step('block route', $q$SELECT * FROM public.ff_block_route('{fp:97}:00000000-0000-4000-8000-000000009703')$q$);
SELECT pg_temp.step('unblock', $q$SELECT * FROM public.ff_unblock_execution('{fp:97}:00000000-0000-4000-8000-000000009703')$q$);
SELECT pg_temp.step('claim for worker', $q$INSERT INTO pg_temp.box (k, v) SELECT 'grant', t.grant_key
    FROM public.ff_claim_for_worker('{tap98-hjs}', 'w', 'w/1') t$q$);
SELECT pg_temp.step('claim with grant', $q$INSERT INTO pg_temp.box (k, b) SELECT 'hg', t.handle FROM public.ff_claim_execution(
    '{fp:97}:00000000-0000-4000-8000-000000009703', pg_temp.v('grant'), 'w', 'w/1') t$q$);
SELECT pg_temp.step('lanes', $q$SELECT * FROM public.ff_pause_lane('tap98-hjs'), public.ff_drain_lane('tap98-hjs'),
    public.ff_resume_lane('tap98-hjs')$q$);
SELECT pg_temp.step('mark dead', $q$SELECT * FROM public.ff_mark_worker_dead('w/1')$q$);
SELECT pg_temp.step('reclaim grant', $q$INSERT INTO pg_temp.box (k, v) SELECT 'rgrant', t.grant_key
    FROM public.ff_issue_reclaim_grant('{fp:97}:00000000-0000-4000-8000-000000009703', 'w', 'w/2') t$q$);
SELECT pg_temp.step('reclaim', $q$SELECT * FROM public.ff_reclaim_execution('{fp:97}:00000000-0000-4000-8000-000000009703',
    pg_temp.v('rgrant'), 'w', 'w/2')$q$);
SELECT pg_temp.step('grant and claim', $q$SELECT * FROM public.ff_create_execution('tap98-hjs', execution_id => '{fp:97}:00000000-0000-4000-8000-000000009704'),
    public.ff_issue_grant_and_claim('{fp:97}:00000000-0000-4000-8000-000000009704')$q$);
-- reconcilers, outboxes, checks, administration
SELECT pg_temp.step('reconcilers', $q$SELECT public.ff_reconcile_lease_expiry(), public.ff_reconcile_attempt_timeout(),
    public.ff_reconcile_delayed_promotion(), public.ff_reconcile_execution_deadline(),
    public.ff_reconcile_suspension_timeout(), public.ff_reconcile_pending_waitpoint_expiry(),
    public.ff_reconcile_dependencies(), public.ff_reconcile_sibling_cancel(), public.ff_reconcile_cancel_backlog(),
    public.ff_reconcile_stream_retention(), public.ff_reconcile_claim_grants(), public.ff_reconcile_worker_expiry()$q$);
SELECT pg_temp.step('outboxes', $q$SELECT (SELECT count(*) FROM public.ff_completion_events()),
    (SELECT count(*) FROM public.ff_lease_events()), (SELECT count(*) FROM public.ff_signal_events()),
    (SELECT count(*) FROM public.ff_operator_events())$q$);
SELECT pg_temp.step('expire suspension', $q$SELECT * FROM public.ff_expire_suspension('{fp:97}:00000000-0000-4000-8000-000000009701')$q$);
SELECT pg_temp.step('suspend 5', $q$SELECT public.ff_create_execution('tap98-hjr', execution_id => '{fp:97}:00000000-0000-4000-8000-000000009705'),
    (SELECT t.outcome FROM public.ff_claim('tap98-hjr', 'w', 'w/1') c, public.ff_suspend(c.handle, '["wpk:r"]') t)$q$);
SELECT pg_temp.step('resume', $q$SELECT public.ff_resume_execution('{fp:97}:00000000-0000-4000-8000-000000009705')$q$);
SELECT pg_temp.step('invariants', $q$INSERT INTO pg_temp.box (k, n) SELECT 'inv', count(*) FROM public.ff_check_invariants()$q$);
SELECT pg_temp.step('classification', $q$SELECT count(*) FROM public.ff_security_classification()$q$);
SELECT pg_temp.step('rotate', $q$SELECT * FROM public.ff_rotate_waitpoint_hmac_secret_all('tap98h2', repeat('7b', 32))$q$);
SELECT pg_temp.step('pure helpers', $q$SELECT public.ff_crc16('\x01'::bytea), public.ff_solo_partition('x'),
    public.ff_execution_partition('{fp:97}:00000000-0000-4000-8000-000000009701'),
    public.ff_split_execution_id('{fp:97}:00000000-0000-4000-8000-000000009701'),
    public.ff_parse_partition_key('{fp:97}'), public.ff_new_execution_id('x'), public.ff_check_lane_id('x'),
    public.ff_check_tag_key('a.b'), public.ff_derive_public_state('runnable', 'eligible_now', 'none'),
    public.ff_handle_describe(pg_temp.b('h4')), public.ff_server_time_ms(), public.ff_ping()$q$);
RESET ROLE;
RESET search_path;

------------------------------------------------------------------------------
-- Nothing of the attacker's ran, everything worked, the results are real.
------------------------------------------------------------------------------
SELECT is((SELECT array_agg(DISTINCT what || ' as ' || who) FROM evil.log), NULL,
          'no shadow function or operator of the attacker ran');
SELECT is((SELECT array_agg(name || ' -> ' || outcome ORDER BY i) FROM pg_temp.steps WHERE outcome <> 'ok'), NULL,
          'every call of the scenario worked under the attacker''s search_path');
SELECT ok((SELECT count(*) FROM pg_temp.steps) >= 70, 'the scenario ran all its steps');
SELECT is((SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'evil' AND c.relname LIKE 'ff\_%' AND c.reltuples > 0), 0::bigint,
          'the attacker''s tables stayed empty');
SELECT is((SELECT count(*) FROM evil.ff_execution), 0::bigint, 'evil.ff_execution is empty');
SELECT is((SELECT count(*) FROM pg_temp.ff_execution), 0::bigint, 'and so is the temp table of that name');
SELECT is(pg_temp.v('c1'), 'waiting', 'create returned the real state');
SELECT is(pg_temp.v('c1dup'), '{fp:97}:00000000-0000-4000-8000-000000009701', 'the idempotency key found the real execution');
SELECT is(pg_temp.v('f1'), 'retry_scheduled', 'fail applied the real retry policy');
SELECT is(pg_temp.v('tag'), 'y', 'tags went to the real row');
SELECT is(pg_temp.v('sig'), 'resume_condition_satisfied', 'the signal resumed the real suspension');
SELECT is(ff_read_execution_state('{fp:97}:00000000-0000-4000-8000-000000009701'), 'completed', 'the execution completed');
SELECT is((SELECT count(*) FROM public.ff_completion_event
            WHERE execution_id = '00000000-0000-4000-8000-000000009701'), 1::bigint, 'one real completion event');
SELECT is(pg_temp.n('inv'), 0::bigint, 'the invariant checker found nothing after the whole scenario');
SELECT is((SELECT count(*) FROM ff_check_invariants()), 0::bigint, 'nor afterwards');

SELECT * FROM finish();
ROLLBACK;

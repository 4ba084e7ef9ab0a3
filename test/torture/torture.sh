#!/usr/bin/env bash
# test/torture/torture.sh [--full | --short] - the crash-safety torture test
# (test/torture/README.md, docs/security.md §8). Prints TAP; exits non-zero
# on any failure.
#
#   --full    16 worker processes, 5000 executions (make torture)
#   --short   4 worker processes, 300 executions, under a minute (make test)
#
# Knobs: TORTURE_CLIENTS, TORTURE_EXECUTIONS, TORTURE_DEADLINE (seconds),
# TORTURE_DIR (private cluster dir), TORTURE_KEEP=1 (keep the cluster dir),
# PG_CONFIG.
#
# It starts its own private PostgreSQL (scripts/pgcluster.sh with its own
# directory; Unix socket only, so the port number cannot collide), with the
# background reconcilers on. Roles: the workers connect as a role holding
# only ff_worker, the signaler as one holding only ff_signaler, the chaos
# driver revokes leases as one holding ff_admin. Then:
#   1. a producer creates the executions: plain ones (with a retry policy),
#      ones that suspend until a signal (or their timeout) resumes them, and
#      flows (chains of three, fan-ins of three into one)
#   2. the worker processes (ff_torture worker: libflowfabric's worker loop)
#      and the signaler run them, while a chaos driver kill -9s random
#      workers (replaced at once) and the signaler, revokes one or two random
#      live leases every half second with
#      ff_revoke_lease, and once crashes PostgreSQL (immediate shutdown) and
#      starts it again
#   3. once every execution is terminal (or the deadline passes): every
#      execution is terminal exactly once, the completion outbox has exactly
#      one event per execution (none lost, none duplicated; the reader
#      returns each once), and ff_check_invariants() returns nothing
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MODE=short
case "${1:-}" in
    --full) MODE=full ;;
    --short | "") MODE=short ;;
    *) echo "usage: $0 [--full | --short]" >&2; exit 2 ;;
esac
if [ "$MODE" = full ]; then
    CLIENTS=${TORTURE_CLIENTS:-16}
    EXECUTIONS=${TORTURE_EXECUTIONS:-5000}
    DEADLINE=${TORTURE_DEADLINE:-900}
    CONCURRENCY=4
else
    CLIENTS=${TORTURE_CLIENTS:-4}
    EXECUTIONS=${TORTURE_EXECUTIONS:-300}
    DEADLINE=${TORTURE_DEADLINE:-100}
    CONCURRENCY=4
fi
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
BINDIR=$("$PG_CONFIG" --bindir)
# Our own cluster, whatever the caller's PG*/FF_TEST_* point at.
export FF_TEST_DIR=${TORTURE_DIR:-/tmp/ff-torture-$MODE-$$}
export FF_TEST_PORT=54399
export FF_TEST_DB=torture
# synchronous_commit on (the test cluster turns it off for speed): the run
# crashes the server and then counts what callers were told had committed
export FF_TEST_EXTRA_CONF="synchronous_commit = on
flowfabric.reconcilers = on
flowfabric.launcher_interval_ms = 1000
flowfabric.lease_expiry_interval_ms = 300
flowfabric.delayed_promotion_interval_ms = 200
flowfabric.suspension_timeout_interval_ms = 500
flowfabric.dependencies_interval_ms = 1000
max_connections = 200"
unset PGHOST PGPORT PGUSER PGDATABASE PGSERVICE PGOPTIONS
WORK=$FF_TEST_DIR/work
TOKENS=$WORK/tokens
N=0
FAILED=0
START=$(date +%s)

tap() { # tap ok|fail description
    N=$((N + 1))
    if [ "$1" = ok ]; then echo "ok $N - $2"; else echo "not ok $N - $2"; FAILED=$((FAILED + 1)); fi
}
note() { echo "# $*"; }
elapsed() { echo $(($(date +%s) - START)); }

# shellcheck source=scripts/pgcluster.sh
. "$ROOT/scripts/pgcluster.sh"
set +e +o pipefail   # pgcluster.sh turns them on; this script checks each step itself
ff_cluster_paths
SOCK=$FF_SOCK
psql_as() { # psql_as ROLE SQL...
    local role=$1
    shift
    PGOPTIONS='-c client_min_messages=warning' "$BINDIR/psql" -X -q -A -t -v ON_ERROR_STOP=1 \
        -h "$SOCK" -p "$FF_TEST_PORT" -U "$role" -d "$FF_TEST_DB" "$@"
}
sql() { psql_as postgres -c "$1"; }

WORKER_PIDS=()
SIGNALER_PID=
cleanup() {
    local p
    for p in "${WORKER_PIDS[@]}" $SIGNALER_PID; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    ff_cluster_stop >/dev/null 2>&1
    if [ "$FAILED" -eq 0 ] && [ "${TORTURE_KEEP:-0}" != 1 ]; then
        rm -rf "$FF_TEST_DIR"
    else
        echo "# cluster directory kept: $FF_TEST_DIR (server log: $FF_LOG)"
    fi
}
trap cleanup EXIT

finish() {
    echo "1..$N"
    [ "$FAILED" -eq 0 ]
    exit $?
}

# ---------------------------------------------------------------------------
# build and start
# ---------------------------------------------------------------------------
if ! make -s -C "$ROOT/test/torture" PG_CONFIG="$PG_CONFIG" >"/tmp/ff-torture-build-$$.log" 2>&1; then
    tap fail "build ff_torture (log: /tmp/ff-torture-build-$$.log)"
    cat "/tmp/ff-torture-build-$$.log" | sed 's/^/# /' | tail -n 20
    finish
fi
rm -f "/tmp/ff-torture-build-$$.log"
CLIENT=$ROOT/test/torture/ff_torture

if ! ff_cluster_start >/dev/null 2>"/tmp/ff-torture-start-$$.log"; then
    tap fail "start a private server in $FF_TEST_DIR"
    sed 's/^/# /' "/tmp/ff-torture-start-$$.log"
    finish
fi
rm -f "/tmp/ff-torture-start-$$.log"
mkdir -p "$WORK"
: >"$TOKENS"
chmod 777 "$WORK"
chmod 666 "$TOKENS"

if ! sql "CREATE EXTENSION flowfabric;
          CREATE ROLE torture_worker LOGIN IN ROLE ff_worker;
          CREATE ROLE torture_signaler LOGIN IN ROLE ff_signaler;
          CREATE ROLE torture_admin LOGIN IN ROLE ff_admin;" >/dev/null; then
    tap fail "create the extension and the roles"
    finish
fi
psql_as torture_admin -c "SELECT outcome FROM ff_seed_waitpoint_hmac_secret('torture', encode(sha256(random()::text::bytea), 'hex'))" >/dev/null
tap ok "private server with the background reconcilers, the extension and three login roles ($MODE: $CLIENTS workers, $EXECUTIONS executions)"

# ---------------------------------------------------------------------------
# 1. produce, as the worker role
# ---------------------------------------------------------------------------
N_FLOWS=$((EXECUTIONS / 15))                     # 3 members each: a fifth of the work
N_SUSPEND=$((EXECUTIONS / 5))
N_PLAIN=$((EXECUTIONS - N_SUSPEND - 3 * N_FLOWS))
POLICY='{"retry_policy": {"max_retries": 3, "backoff": {"type": "fixed", "delay_ms": 20}}}'
produce() {
    psql_as torture_worker <<SQL
SELECT count(*) FROM ff_create_executions('torture', array_fill('plain'::bytea, ARRAY[$N_PLAIN]),
                                          policy => '$POLICY');
SELECT count(*) FROM ff_create_executions('torture', array_fill('suspend'::bytea, ARRAY[$N_SUSPEND]),
                                          policy => '$POLICY');
DO \$\$
DECLARE
    f uuid;
    m text[];
    rev bigint;
BEGIN
    FOR i IN 1..$N_FLOWS LOOP
        f := gen_random_uuid();
        PERFORM ff_create_flow(f);
        m := ARRAY[ff_new_flow_execution_id(f), ff_new_flow_execution_id(f), ff_new_flow_execution_id(f)];
        FOR j IN 1..3 LOOP
            PERFORM ff_create_execution('torture', 'flow'::bytea, execution_id => m[j], policy => '$POLICY');
            PERFORM ff_add_execution_to_flow(f, m[j]);
        END LOOP;
        SELECT graph_revision INTO rev FROM ff_describe_flow(f);
        IF i % 2 = 0 THEN   -- a chain: m1 -> m2 -> m3
            SELECT new_graph_revision INTO rev FROM ff_stage_dependency_edge(f, gen_random_uuid(), m[1], m[2], rev);
            SELECT new_graph_revision INTO rev FROM ff_stage_dependency_edge(f, gen_random_uuid(), m[2], m[3], rev);
        ELSE                -- a fan-in: m1, m2 -> m3
            SELECT new_graph_revision INTO rev FROM ff_stage_dependency_edge(f, gen_random_uuid(), m[1], m[3], rev);
            SELECT new_graph_revision INTO rev FROM ff_stage_dependency_edge(f, gen_random_uuid(), m[2], m[3], rev);
        END IF;
        PERFORM ff_apply_dependency_to_child(f, e.edge_id, e.downstream_execution_id)
           FROM ff_list_edges(f, 'incoming', m[2]) e;
        PERFORM ff_apply_dependency_to_child(f, e.edge_id, e.downstream_execution_id)
           FROM ff_list_edges(f, 'incoming', m[3]) e;
    END LOOP;
END
\$\$;
SQL
}
if produce >/dev/null; then
    TOTAL=$(sql "SELECT count(*) FROM ff_execution")
    if [ "$TOTAL" -eq "$EXECUTIONS" ] || [ "$TOTAL" -eq $((N_PLAIN + N_SUSPEND + 3 * N_FLOWS)) ]; then
        tap ok "the worker role created $TOTAL executions: $N_PLAIN plain, $N_SUSPEND suspending, $N_FLOWS flows of three"
    else
        tap fail "created $TOTAL executions, expected $((N_PLAIN + N_SUSPEND + 3 * N_FLOWS))"
    fi
else
    tap fail "produce the executions as the worker role"
    finish
fi
TOTAL=$(sql "SELECT count(*) FROM ff_execution")

# ---------------------------------------------------------------------------
# 2. run, under chaos
# ---------------------------------------------------------------------------
start_worker() {
    PGHOST=$SOCK PGPORT=$FF_TEST_PORT PGUSER=torture_worker PGDATABASE=$FF_TEST_DB \
        "$CLIENT" worker torture "$CONCURRENCY" "$TOKENS" >>"$WORK/workers.log" 2>&1 &
    WORKER_PIDS+=($!)
}
start_signaler() {
    PGHOST=$SOCK PGPORT=$FF_TEST_PORT PGUSER=torture_signaler PGDATABASE=$FF_TEST_DB \
        "$CLIENT" signaler "$TOKENS" >>"$WORK/signaler.log" 2>&1 &
    SIGNALER_PID=$!
}
for _ in $(seq "$CLIENTS"); do start_worker; done
start_signaler

KILLS=0
SIGNALER_KILLS=0
REVOKES=0
RESTARTS=0
RESTART_AT=$((TOTAL * 35 / 100))   # crash the server once a third is done
terminal=0
last_progress=-1
stalled_since=$(date +%s)
while :; do
    sleep 0.5
    terminal=$(sql "SELECT count(*) FROM ff_execution WHERE lifecycle_phase = 'terminal'" 2>/dev/null || echo "$terminal")
    [ "$terminal" -ge "$TOTAL" ] && break
    if [ "$(elapsed)" -ge "$DEADLINE" ]; then
        note "deadline of ${DEADLINE}s reached with $terminal of $TOTAL terminal"
        break
    fi
    if [ "$terminal" != "$last_progress" ]; then last_progress=$terminal; stalled_since=$(date +%s); fi
    # kill -9 a random worker process, replace it at once
    if [ "$KILLS" -eq 0 ] || [ $((RANDOM % 3)) -eq 0 ]; then
        i=$((RANDOM % ${#WORKER_PIDS[@]}))
        kill -9 "${WORKER_PIDS[$i]}" 2>/dev/null && KILLS=$((KILLS + 1))
        wait "${WORKER_PIDS[$i]}" 2>/dev/null
        unset "WORKER_PIDS[$i]"
        WORKER_PIDS=("${WORKER_PIDS[@]}")
        start_worker
    fi
    # now and then the signaler too
    if [ $((RANDOM % 15)) -eq 0 ]; then
        kill -9 "$SIGNALER_PID" 2>/dev/null && SIGNALER_KILLS=$((SIGNALER_KILLS + 1))
        wait "$SIGNALER_PID" 2>/dev/null
        start_signaler
    fi
    # revoke one or two random live leases, as the administrator role
    ids=$(sql "SELECT ff_format_execution_id(partition_key, execution_id) FROM ff_execution
                WHERE lifecycle_phase = 'active' AND ownership_state = 'leased'
                ORDER BY random() LIMIT $((1 + RANDOM % 2))" 2>/dev/null)
    for id in $ids; do
        out=$(psql_as torture_admin -c "SELECT outcome FROM ff_revoke_lease('$id', reason => 'torture')" 2>/dev/null)
        [ "$out" = revoked ] && REVOKES=$((REVOKES + 1))
    done
    # crash PostgreSQL once, mid-run
    if [ "$RESTARTS" -eq 0 ] && [ "$terminal" -ge "$RESTART_AT" ]; then
        note "crashing PostgreSQL (immediate shutdown) with $terminal of $TOTAL terminal, after $(elapsed)s"
        ff_as_owner "$BINDIR/pg_ctl" -D "$FF_DATA" -m immediate -w -s stop >/dev/null 2>&1
        sleep 0.5
        if ff_as_owner "$BINDIR/pg_ctl" -D "$FF_DATA" -l "$FF_LOG" -w -t 60 -s start >/dev/null 2>&1; then
            RESTARTS=1
        else
            tap fail "restart PostgreSQL after the crash"
            finish
        fi
    fi
    if [ $(($(date +%s) - stalled_since)) -ge 30 ]; then
        note "no progress for 30 s at $terminal of $TOTAL"
        stalled_since=$(date +%s)
    fi
done
RUN_SECONDS=$(elapsed)

for p in "${WORKER_PIDS[@]}" "$SIGNALER_PID"; do kill -TERM "$p" 2>/dev/null; done
for p in "${WORKER_PIDS[@]}" "$SIGNALER_PID"; do
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
done
wait 2>/dev/null
WORKER_PIDS=()
SIGNALER_PID=

# ---------------------------------------------------------------------------
# 3. the verdict
# ---------------------------------------------------------------------------
[ "$RESTARTS" -eq 1 ] && tap ok "PostgreSQL crashed (immediate shutdown) and restarted once mid-run" \
    || tap fail "PostgreSQL was restarted once (it was not: the run ended first)"
[ "$KILLS" -gt 0 ] && tap ok "$KILLS worker processes and $SIGNALER_KILLS signalers killed with SIGKILL" \
    || tap fail "workers were killed"
stats=$(sql "SELECT count(*) FILTER (WHERE event_type = 'revoked'), count(*) FILTER (WHERE event_type = 'reclaimed'),
                    count(*) FILTER (WHERE event_type = 'expired')
               FROM ff_lease_event")
IFS='|' read -r revoked reclaimed expired <<<"$stats"
[ "$REVOKES" -gt 0 ] && [ "$revoked" -ge "$REVOKES" ] \
    && tap ok "$REVOKES leases revoked by ff_revoke_lease; $reclaimed reclaims, $expired lease expiries" \
    || tap fail "leases revoked ($REVOKES, $revoked revoked lease events)"

nonterminal=$(sql "SELECT count(*) FROM ff_execution WHERE lifecycle_phase <> 'terminal'")
if [ "$nonterminal" -eq 0 ]; then
    tap ok "all $TOTAL executions terminal after ${RUN_SECONDS}s"
else
    tap fail "all executions terminal: $nonterminal of $TOTAL are not"
    sql "SELECT public_state, blocking_reason, count(*) FROM ff_execution WHERE lifecycle_phase <> 'terminal'
          GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 10" | sed 's/^/#   /'
fi
outcomes=$(sql "SELECT string_agg(public_state || ' ' || n, ', ' ORDER BY public_state)
                  FROM (SELECT public_state, count(*) n FROM ff_execution GROUP BY 1) s")
note "outcomes: $outcomes"

# exactly one completion event per execution, of its outcome
bad=$(sql "SELECT count(*) FROM ff_execution e
            WHERE (SELECT count(*) FROM ff_completion_event c
                    WHERE c.partition_key = e.partition_key AND c.execution_id = e.execution_id) <> 1")
events=$(sql "SELECT count(*) FROM ff_completion_event")
if [ "$bad" -eq 0 ] && [ "$events" -eq "$TOTAL" ]; then
    tap ok "the completion outbox holds exactly one event per execution ($events): none lost, none duplicated"
else
    tap fail "one completion event per execution: $bad executions with 0 or 2+, $events events for $TOTAL executions"
fi
# the reader, as the worker role, paging by cursor: each execution once
read_check=$(psql_as torture_worker <<'SQL'
CREATE TEMP TABLE seen (event_id bigint, execution_id text);
DO $$
DECLARE
    cursor_id bigint := 0;
    n int;
BEGIN
    LOOP
        INSERT INTO seen SELECT event_id, execution_id FROM ff_completion_events(cursor_id, 997);
        GET DIAGNOSTICS n = ROW_COUNT;
        EXIT WHEN n = 0;
        SELECT max(event_id) INTO cursor_id FROM seen;
    END LOOP;
END $$;
SELECT count(*) || ' ' || count(DISTINCT execution_id) || ' ' || count(DISTINCT event_id) FROM seen;
SQL
)
read -r r_events r_execs r_ids <<<"$read_check"
if [ "${r_events:-0}" -eq "$TOTAL" ] && [ "${r_execs:-0}" -eq "$TOTAL" ] && [ "${r_ids:-0}" -eq "$TOTAL" ]; then
    tap ok "ff_completion_events, paged by cursor as the worker role, returns each of the $TOTAL completions once"
else
    tap fail "the completion reader: ${r_events:-?} events, ${r_execs:-?} executions, ${r_ids:-?} ids for $TOTAL"
fi
susp=$(sql "SELECT count(*) FROM ff_signal_event")
resumed=$(sql "SELECT count(DISTINCT (partition_key, execution_id)) FROM ff_suspension WHERE close_reason IS NOT NULL")
flows=$(sql "SELECT count(*) FILTER (WHERE public_state = 'completed') || ' completed, ' ||
                    count(*) FILTER (WHERE public_state = 'skipped') || ' skipped'
               FROM ff_execution WHERE flow_id IS NOT NULL")
if [ "$resumed" -gt 0 ]; then
    tap ok "suspensions: $resumed executions suspended and resumed ($susp signals delivered by the signaler role); flow members: $flows"
else
    tap fail "suspended executions were resumed ($resumed)"
fi
violations=$(psql_as torture_admin -c "SELECT invariant || ' ' || object_id || ': ' || detail FROM ff_check_invariants()" 2>&1)
if [ -z "$violations" ]; then
    tap ok "ff_check_invariants() finds nothing"
else
    tap fail "ff_check_invariants() finds $(echo "$violations" | wc -l) violations"
    echo "$violations" | head -n 20 | sed 's/^/#   /'
fi
crashes=$(grep -cE 'terminated by signal|PANIC' "$FF_LOG" || true)
if [ "$crashes" -eq 0 ]; then
    tap ok "no backend crashed (server log)"
else
    tap fail "backend crashes in the server log: $crashes"
    grep -E -m 5 'terminated by signal|PANIC' "$FF_LOG" | sed 's/^/#   /'
fi
note "workers: $(grep -c '^worker' "$WORK/workers.log" 2>/dev/null || echo 0) clean exits; signaler: $(tail -n 1 "$WORK/signaler.log" 2>/dev/null)"
finish

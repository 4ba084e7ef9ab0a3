#!/usr/bin/env bash
# `make bench`: build the extension, the client and bench/ffbench, start a
# private server (scripts/pgcluster.sh) with production-like settings, measure
# the per-call instruction counts of claim and complete with callgrind on a
# single-user server, then run ffbench (flowfabric and the plain-SQL baseline
# on the same server) and print its table (or JSON). The server is stopped at
# the end. See docs/performance.md.
#
#   scripts/bench.sh [--quick] [--json] [--no-fsync] [--no-callgrind] [--only LIST] [--keep]
#
#   --quick         scaled-down run, under a minute (for development); no
#                   instruction counts unless --only names callgrind (valgrind
#                   alone takes most of a minute)
#   --json          one JSON document on stdout instead of the table
#   --no-fsync      the test cluster's settings (fsync, synchronous_commit and
#                   full_page_writes off) instead of durable ones
#   --no-callgrind  skip the instruction counts
#   --only LIST     some of: enqueue,cycle,backlog,drain,routing,scale,sustained,
#                   suspend,flow,stream,callgrind
#   --keep          leave the server running afterwards (PG* printed on stderr)
#
# Environment: FF_BENCH_DIR (default /tmp/flowfabric-bench), FF_BENCH_PORT
# (default 54360), PG_CONFIG, FF_BENCH_NICE (e.g. -10: renice the server and
# ffbench, for a machine shared with other work). Both flowfabric and the baseline always run on
# the same server with the same settings.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
exec </dev/null

QUICK=0 JSON=0 FSYNC=1 CALLGRIND=1 KEEP=0 ONLY=
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --json) JSON=1 ;;
        --no-fsync) FSYNC=0 ;;
        --no-callgrind) CALLGRIND=0 ;;
        --keep) KEEP=1 ;;
        --only) ONLY=${2:?--only needs a list}; shift ;;
        *) echo "usage: $0 [--quick] [--json] [--no-fsync] [--no-callgrind] [--only LIST] [--keep]" >&2; exit 2 ;;
    esac
    shift
done

export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
export FF_TEST_DIR=${FF_BENCH_DIR:-/tmp/flowfabric-bench}
export FF_TEST_PORT=${FF_BENCH_PORT:-54360}
export FF_TEST_DB=flowfabric_bench
export PSQL_PAGER='' PAGER=cat

log() { printf '%s\n' "$*" >&2; }

# Server settings: durable by default (what production runs), the same for
# flowfabric and the baseline. The background reconcilers are on.
SETTINGS_COMMON="shared_buffers = 1GB
max_wal_size = 8GB
checkpoint_timeout = 15min
max_connections = 100
flowfabric.reconcilers = on"
if [ "$FSYNC" -eq 1 ]; then
    export FF_TEST_EXTRA_CONF="$SETTINGS_COMMON
fsync = on
synchronous_commit = on
full_page_writes = on"
    SETTINGS_TEXT="fsync=on synchronous_commit=on full_page_writes=on shared_buffers=1GB, background reconcilers on"
else
    export FF_TEST_EXTRA_CONF="$SETTINGS_COMMON"
    SETTINGS_TEXT="fsync=off synchronous_commit=off full_page_writes=off (test-cluster settings) shared_buffers=1GB, background reconcilers on"
fi

log "=== build"
if ! command -v pg_config >/dev/null 2>&1 && [ ! -x "$PG_CONFIG" ]; then
    ./scripts/install-deps.sh >&2
fi
make -s PG_CONFIG="$PG_CONFIG" -j"$(nproc)" >&2
make -s PG_CONFIG="$PG_CONFIG" install >/dev/null
make -s -C bench PG_CONFIG="$PG_CONFIG" >&2

# shellcheck source=scripts/pgcluster.sh
. "$ROOT/scripts/pgcluster.sh"
ff_cluster_paths
STARTED=0
cleanup() {
    if [ "$STARTED" -eq 1 ] && [ "$KEEP" -eq 0 ]; then
        ff_cluster_stop >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "=== private server: $FF_TEST_DIR, port $FF_TEST_PORT ($SETTINGS_TEXT)"
STARTED=1
ff_cluster_start >&2 || { log "bench: could not start the server (log: $FF_LOG)"; exit 1; }
eval "$(ff_cluster_env)"
PSQL=("$FF_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d "$FF_TEST_DB")
PGOPTIONS='-c client_min_messages=warning' "${PSQL[@]}" -c "CREATE EXTENSION flowfabric" >&2
"${PSQL[@]}" -f bench/baseline.sql >/dev/null

# --- instruction counts -------------------------------------------------------
# A single-user server (no postmaster, no background workers, no concurrency)
# runs a fixed workload under callgrind; only the engine's C functions are
# collected (--toggle-collect), so the counts are per call of ff_claim,
# ff_complete, ... and independent of the machine's speed and noise. Warm-up
# calls first prepare the saved plans and fill the caches; ff_crc16 then
# zeroes the counts (--zero-before), so the figures are the steady state.
CG_FILE=$FF_BASE/callgrind.txt
rm -f "$CG_FILE"
if [ "$CALLGRIND" -eq 1 ] && ! [[ ",$ONLY," == *,callgrind,* ]] && { [ -n "$ONLY" ] || [ "$QUICK" -eq 1 ]; }; then
    CALLGRIND=0
fi
if [ "$CALLGRIND" -eq 1 ] && ! command -v valgrind >/dev/null 2>&1; then
    log "bench: valgrind is not installed; no instruction counts"
    CALLGRIND=0
fi

# history_sql N: N finished executions with their attempt and events, written
# directly (the same shape the engine leaves; events get negative ids)
history_sql() {
    local n=$1 t="(SELECT ff_server_time_ms() - 86400000 AS t) x"
    cat <<SQL
INSERT INTO ff_execution (partition_key, execution_id, lane_id, priority, lifecycle_phase, ownership_state,
  eligibility_state, blocking_reason, terminal_outcome, attempt_state, public_state, attempt_index,
  total_attempt_count, lease_epoch, input_payload, result, created_at_ms, last_mutation_at_ms, started_at_ms,
  terminal_at_ms)
SELECT (g % 256)::smallint, md5('h' || g)::uuid, 'bench.history.' || (g % 16), 0, 'terminal', 'unowned',
  'not_applicable', 'none', 'success', 'attempt_terminal', 'completed', 0, 1, 1, '\x7b7d'::bytea, '\x6f6b'::bytea,
  t - g, t - g, t - g, t - g FROM generate_series(1, $n) g, $t;
INSERT INTO ff_attempt (partition_key, execution_id, attempt_index, attempt_id, attempt_type, attempt_lifecycle,
  worker_id, worker_instance_id, lease_id, lease_epoch, lease_ttl_ms, lease_acquired_at_ms, started_at_ms,
  ended_at_ms, end_reason)
SELECT (g % 256)::smallint, md5('h' || g)::uuid, 0, md5('a' || g)::uuid, 'initial', 'ended_success', 'bench',
  'bench/1', md5('l' || g)::uuid, 1, 30000, t - g, t - g, t - g, 'completed' FROM generate_series(1, $n) g, $t;
INSERT INTO ff_lease_event (event_id, partition_key, execution_id, attempt_index, lease_id, lease_epoch,
  event_type, reason, worker_id, worker_instance_id, occurred_at_ms)
SELECT -(2 * g + k), (g % 256)::smallint, md5('h' || g)::uuid, 0, md5('l' || g)::uuid, 1,
  CASE k WHEN 0 THEN 'acquired' ELSE 'released' END, CASE k WHEN 1 THEN 'completed' END, 'bench', 'bench/1', t - g
  FROM generate_series(1, $n) g, generate_series(0, 1) k, $t;
INSERT INTO ff_completion_event (event_id, partition_key, execution_id, outcome, lane_id, attempt_index,
  occurred_at_ms)
SELECT -g, (g % 256)::smallint, md5('h' || g)::uuid, 'success', 'bench.history.' || (g % 16), 0, t - g
  FROM generate_series(1, $n) g, $t;
VACUUM ANALYZE ff_execution, ff_attempt, ff_lease_event, ff_completion_event;
SQL
}

# cg_run PREFIX SUFFIX: one single-user run of the workload on lanes PREFIX.*,
# appending "<function>_per_call<SUFFIX> <instructions>" lines to $CG_FILE
cg_run() {
    local p=$1 sfx=$2 dir=$FF_BASE/callgrind-$1 wl
    mkdir -p "$dir"
    wl=$dir/workload.sql
    {
        # warm-up (plans prepared, caches filled), then ff_crc16 zeroes the counts
        echo "CREATE TABLE ${p}_h (n serial PRIMARY KEY, h bytea)"
        echo "CREATE TABLE ${p}_w (n serial PRIMARY KEY, h bytea)"
        echo "SELECT count(*) FROM ff_create_executions('$p.warm', array_fill(NULL::bytea, ARRAY[5]))"
        for _ in 1 2 3 4 5; do echo "SELECT ff_create_execution('$p.create')"; done
        echo "INSERT INTO ${p}_w (h) SELECT handle FROM ff_claim('$p.warm', 'w', 'w/1', lease_ttl_ms => 86400000, max_claims => 5)"
        echo "SELECT ff_complete(h) FROM ${p}_w WHERE n = 1"
        echo "SELECT count(*) FROM ff_complete_many((SELECT array_agg(h) FROM ${p}_w WHERE n > 1))"
        echo "SELECT count(*) FROM ff_create_executions('$p.claim', array_fill(NULL::bytea, ARRAY[$N]))"
        echo "SELECT count(*) FROM ff_create_executions('$p.done', array_fill(NULL::bytea, ARRAY[$B]))"
        echo "CREATE TABLE ${p}_b AS SELECT handle FROM ff_claim('$p.done', 'w', 'w/1', lease_ttl_ms => 86400000, max_claims => $B)"
        echo "SELECT ff_crc16('\\x00'::bytea)"
        echo "SELECT count(*) FROM ff_create_executions('$p.batch', array_fill(NULL::bytea, ARRAY[$B]))"
        for _ in $(seq "$N"); do echo "SELECT ff_create_execution('$p.create')"; done
        for _ in $(seq "$N"); do echo "INSERT INTO ${p}_h (h) SELECT handle FROM ff_claim('$p.claim', 'w', 'w/1', lease_ttl_ms => 86400000)"; done
        for i in $(seq "$N"); do echo "SELECT ff_complete(h) FROM ${p}_h WHERE n = $i"; done
        echo "SELECT count(*) FROM ff_complete_many((SELECT array_agg(handle) FROM ${p}_b))"
    } >"$wl"
    [ "$(id -u)" -ne 0 ] || chown -R postgres:postgres "$dir"
    if ! ff_as_owner valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out" \
        --toggle-collect=ff_create_execution --toggle-collect=ff_claim --toggle-collect=ff_complete \
        --toggle-collect=ff_create_executions --toggle-collect=ff_complete_many \
        --zero-before=ff_crc16_sql \
        "$FF_BINDIR/postgres" --single -D "$FF_DATA" -c flowfabric.reconcilers=off \
        -c log_min_messages=fatal "$FF_TEST_DB" <"$wl" >"$dir/single.log" 2>"$dir/valgrind.log"; then
        log "bench: callgrind run failed (see $dir/valgrind.log)"
        return 0
    fi
    if grep -q "ERROR" "$dir/single.log"; then
        log "bench: the callgrind workload had errors (see $dir/single.log); its counts are not comparable"
    fi
    callgrind_annotate --inclusive=yes --threshold=100 "$dir/callgrind.out" >"$dir/annotate.txt" 2>/dev/null || true
    cost() { # inclusive instructions of one function
        awk -v f="$1" '$0 ~ ":" f " " { gsub(",", "", $1); print $1; exit }' "$dir/annotate.txt"
    }
    {
        local c f
        for f in ff_create_execution ff_claim ff_complete; do
            c=$(cost "$f")
            [ -z "$c" ] || echo "${f}_per_call$sfx $((c / N))"
        done
        c=$(cost ff_create_executions)
        [ -z "$c" ] || echo "ff_create_executions_per_item$sfx $((c / B))"
        c=$(cost ff_complete_many)
        [ -z "$c" ] || echo "ff_complete_many_per_item$sfx $((c / B))"
    } >>"$CG_FILE"
}

if [ "$CALLGRIND" -eq 1 ]; then
    N=$([ "$QUICK" -eq 1 ] && echo 20 || echo 400)
    B=$([ "$QUICK" -eq 1 ] && echo 20 || echo 100)
    H=$([ "$QUICK" -eq 1 ] && echo 0 || echo 1000000)
    log "=== callgrind: $N calls each of create, claim, complete; batches of $B (single-user server)"
    printf 'calls %s\nbatch_size %s\n' "$N" "$B" >"$CG_FILE"
    ff_cluster_stop
    cg_run cg ""
    if [ "$H" -gt 0 ]; then
        log "=== callgrind again with $H finished executions in the tables"
        ff_as_owner "$FF_BINDIR/pg_ctl" -D "$FF_DATA" -l "$FF_LOG" -w -t 60 -s start >&2
        history_sql "$H" | "${PSQL[@]}" >/dev/null
        "${PSQL[@]}" -c "CHECKPOINT" >/dev/null
        ff_cluster_stop
        echo "history $H" >>"$CG_FILE"
        cg_run cgh "_with_history"
    fi
    log "$(tr '\n' ' ' <"$CG_FILE")"
    ff_as_owner "$FF_BINDIR/pg_ctl" -D "$FF_DATA" -l "$FF_LOG" -w -t 60 -s start >&2
fi
if [ -n "${FF_BENCH_NICE:-}" ]; then
    # optional: favour the benchmark on a shared machine (e.g. FF_BENCH_NICE=-10)
    renice -n "$FF_BENCH_NICE" -p "$(head -n 1 "$FF_DATA/postmaster.pid")" >/dev/null
fi

# --- the benchmark -------------------------------------------------------------
log "=== ffbench"
ARGS=(--settings "$SETTINGS_TEXT")
[ "$QUICK" -eq 1 ] && ARGS+=(--quick)
[ "$JSON" -eq 1 ] && ARGS+=(--json)
[ -n "$ONLY" ] && ARGS+=(--only "$ONLY")
[ -s "$CG_FILE" ] && ARGS+=(--callgrind "$CG_FILE")
${FF_BENCH_NICE:+nice -n "$FF_BENCH_NICE"} ./bench/ffbench "${ARGS[@]}"
if [ "$KEEP" -eq 1 ]; then
    log "server left running: $(ff_cluster_env | tr '\n' ' ')"
fi

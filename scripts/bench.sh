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
#   --quick         scaled-down run, under a minute (for development)
#   --json          one JSON document on stdout instead of the table
#   --no-fsync      the test cluster's settings (fsync, synchronous_commit and
#                   full_page_writes off) instead of durable ones
#   --no-callgrind  skip the instruction counts
#   --only LIST     some of: enqueue,cycle,backlog,drain,routing,scale,sustained
#   --keep          leave the server running afterwards (PG* printed on stderr)
#
# Environment: FF_BENCH_DIR (default /tmp/flowfabric-bench), FF_BENCH_PORT
# (default 54360), PG_CONFIG. Both flowfabric and the baseline always run on
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
# ff_complete, ... and independent of the machine's speed and noise. The
# first call of each also prepares its saved plans; that is amortised over N.
CG_FILE=$FF_BASE/callgrind.txt
rm -f "$CG_FILE"
if [ "$CALLGRIND" -eq 1 ] && { [ -n "$ONLY" ] && ! [[ ",$ONLY," == *,callgrind,* ]]; }; then
    CALLGRIND=0
fi
if [ "$CALLGRIND" -eq 1 ] && ! command -v valgrind >/dev/null 2>&1; then
    log "bench: valgrind is not installed; no instruction counts"
    CALLGRIND=0
fi
if [ "$CALLGRIND" -eq 1 ]; then
    N=$([ "$QUICK" -eq 1 ] && echo 60 || echo 400)
    B=100
    log "=== callgrind: $N calls each of create, claim, complete; batches of $B (single-user server)"
    CG_DIR=$FF_BASE/callgrind
    mkdir -p "$CG_DIR"
    WL=$CG_DIR/workload.sql
    {
        echo "CREATE TABLE cg_h (n serial PRIMARY KEY, h bytea)"
        echo "SELECT count(*) FROM ff_create_executions('cg.claim', array_fill(NULL::bytea, ARRAY[$N]))"
        for _ in $(seq "$N"); do echo "SELECT ff_create_execution('cg.create')"; done
        for _ in $(seq "$N"); do echo "INSERT INTO cg_h (h) SELECT handle FROM ff_claim('cg.claim', 'w', 'w/1')"; done
        for i in $(seq "$N"); do echo "SELECT ff_complete(h) FROM cg_h WHERE n = $i"; done
        echo "SELECT count(*) FROM ff_create_executions('cg.batch', array_fill(NULL::bytea, ARRAY[$B]))"
        echo "CREATE TABLE cg_b AS SELECT handle FROM ff_claim('cg.batch', 'w', 'w/1', max_claims => $B)"
        echo "SELECT count(*) FROM ff_complete_many((SELECT array_agg(handle) FROM cg_b))"
    } >"$WL"
    [ "$(id -u)" -ne 0 ] || chown -R postgres:postgres "$CG_DIR"
    ff_cluster_stop
    if ff_as_owner valgrind --tool=callgrind --callgrind-out-file="$CG_DIR/callgrind.out" \
        --toggle-collect=ff_create_execution --toggle-collect=ff_claim --toggle-collect=ff_complete \
        --toggle-collect=ff_create_executions --toggle-collect=ff_complete_many \
        "$FF_BINDIR/postgres" --single -D "$FF_DATA" -c flowfabric.reconcilers=off \
        -c log_min_messages=fatal "$FF_TEST_DB" <"$WL" >"$CG_DIR/single.log" 2>"$CG_DIR/valgrind.log"; then
        callgrind_annotate --inclusive=yes --threshold=100 "$CG_DIR/callgrind.out" >"$CG_DIR/annotate.txt" 2>/dev/null || true
        cost() { # inclusive instructions of one function
            awk -v f="$1" '$0 ~ ":" f " " || $0 ~ ":" f "$" { gsub(",", "", $1); print $1; exit }' "$CG_DIR/annotate.txt"
        }
        {
            echo "calls $N"
            echo "batch_size $B"
            for f in ff_create_execution ff_claim ff_complete; do
                c=$(cost "$f")
                [ -n "$c" ] && echo "${f}_per_call $((c / N))"
            done
            c=$(cost ff_create_executions)
            [ -n "$c" ] && echo "ff_create_executions_per_item $((c / (N + B)))"
            c=$(cost ff_complete_many)
            [ -n "$c" ] && echo "ff_complete_many_per_item $((c / B))"
        } >"$CG_FILE"
        log "$(tr '\n' ' ' <"$CG_FILE")"
    else
        log "bench: callgrind run failed (see $CG_DIR/valgrind.log)"
    fi
    ff_as_owner "$FF_BINDIR/pg_ctl" -D "$FF_DATA" -l "$FF_LOG" -w -t 60 -s start >&2
fi

# --- the benchmark -------------------------------------------------------------
log "=== ffbench"
ARGS=(--settings "$SETTINGS_TEXT")
[ "$QUICK" -eq 1 ] && ARGS+=(--quick)
[ "$JSON" -eq 1 ] && ARGS+=(--json)
[ -n "$ONLY" ] && ARGS+=(--only "$ONLY")
[ -s "$CG_FILE" ] && ARGS+=(--callgrind "$CG_FILE")
./bench/ffbench "${ARGS[@]}"
if [ "$KEEP" -eq 1 ]; then
    log "server left running: $(ff_cluster_env | tr '\n' ' ')"
fi

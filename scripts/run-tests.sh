#!/usr/bin/env bash
# `make test`: install dependencies, build and install the extension, start a
# private throwaway server and run every test suite against it. The last line
# of output is always "N passed, N failed"; the exit status is non-zero if
# anything failed or a suite could not run.
#
# Suites and what one counted unit is:
#   1. pg_regress   sql/*.sql vs expected/*.out           one unit per test file
#   2. pgTAP        test/pgtap/*.sql via pg_prove          one unit per test file
#   3. isolation    test/isolation/specs/*.spec            one unit per spec
#   4. hooks        test/suites/*.sh (run with bash)       one unit per TAP line
#   5. Perl TAP     test/t/*.pl via prove (own servers)    one unit per test file
#
# Environment knobs: FF_TEST_DIR, FF_TEST_PORT (see scripts/pgcluster.sh),
# FF_TEST_TIMEOUT (seconds per suite command, default 300), PG_CONFIG,
# FF_TEST_SUITES (run only these of: regress pgtap isolation suites perl;
# default all), FF_TEST_PGTAP (glob of the pgTAP files, default
# test/pgtap/*.sql). scripts/sanitize.sh uses the last two.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# CI may give us no stdin at all; nothing here is interactive.
exec </dev/null

export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
export FF_TEST_DIR=${FF_TEST_DIR:-/tmp/flowfabric-test}
export FF_TEST_PORT=${FF_TEST_PORT:-54329}
export FF_TEST_DB=flowfabric_test
FF_TEST_TIMEOUT=${FF_TEST_TIMEOUT:-300}
export PSQL_PAGER='' PAGER=cat

PASSED=0
FAILED=0
CLUSTER_STARTED=0
RESULTS= # set once the server is up; results live under $FF_TEST_DIR

say() { printf '\n=== %s ===\n' "$*"; }

stop_cluster() {
    if [ "$CLUSTER_STARTED" -eq 1 ]; then
        ff_cluster_stop >/dev/null 2>&1 || true
        CLUSTER_STARTED=0
    fi
}
# Always stop the server, whatever happens; must print nothing so the summary
# stays the last line.
trap 'stop_cluster' EXIT
trap 'exit 130' INT TERM

finish() {
    stop_cluster
    if [ "$FAILED" -gt 0 ] && [ -n "$RESULTS" ]; then
        # Point at backend crashes, which show up only in the server log.
        if grep -Eq 'terminated by signal|PANIC|was terminated by exception' "$FF_LOG"; then
            echo "--- server log shows crashes ($FF_LOG):"
            grep -E -B2 -A2 'terminated by signal|PANIC|was terminated by exception' "$FF_LOG" | head -n 60
        fi
        echo "--- results kept in $RESULTS"
    fi
    echo "$PASSED passed, $FAILED failed"
    if [ "$FAILED" -eq 0 ]; then exit 0; fi
    exit 1
}

# A step the whole run depends on failed: report one failure and stop.
abort() {
    echo "run-tests: $*" >&2
    FAILED=$((FAILED + 1))
    finish
}

# Is suite $1 selected by FF_TEST_SUITES (all are when it is unset)?
suite_on() {
    [ -z "${FF_TEST_SUITES:-}" ] || [[ " $FF_TEST_SUITES " == *" $1 "* ]]
}

# Files matching a glob, C-locale sorted, one per line (nothing if no match).
list_files() {
    local f
    for f in $1; do
        if [ -e "$f" ]; then printf '%s\n' "$f"; fi
    done | LC_ALL=C sort
}

# Run a command with a timeout, showing its output live and saving it to $1.
# Sets RC to the command's exit status.
run_logged() {
    local log=$1
    shift
    set +e
    timeout -k 10 "$FF_TEST_TIMEOUT" "$@" 2>&1 | tee "$log"
    RC=${PIPESTATUS[0]}
    set -e
    if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then
        echo "run-tests: timed out after ${FF_TEST_TIMEOUT}s: $*" | tee -a "$log"
    fi
}

# Count pg_regress / pg_isolation_regress results in a log; prints "pass fail".
# Handles the PG <= 15 format ("test name ... ok", "     name ... FAILED") and
# the PG >= 16 TAP format ("ok 1 - name", "not ok 2 + name").
count_regress() {
    awk '
        /^not ok [0-9]+ /            { f++; next }
        /^ok [0-9]+ /                { p++; next }
        / \.\.\. +ok( |$)/           { p++; next }
        / \.\.\. +(FAILED|failed)/   {
            if ($0 ~ /failed \(ignored\)/) next   # pg_regress does not count these either
            f++; next
        }
        END { print p + 0, f + 0 }
    ' "$1"
}

# Fold one regress-style run into the totals: missing results and a non-zero
# exit without any reported failure also count as failures.
tally_regress() {
    local name=$1 log=$2 expected=$3 rc=$4 p f
    read -r p f < <(count_regress "$log")
    if [ $((p + f)) -lt "$expected" ]; then
        echo "run-tests: $name reported $((p + f)) of $expected results; counting the rest as failed"
        f=$((expected - p))
    fi
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "run-tests: $name exited with status $rc"
        f=1
    fi
    echo "[$name] passed=$p failed=$f"
    PASSED=$((PASSED + p))
    FAILED=$((FAILED + f))
}

psql_admin() {
    PGOPTIONS='-c client_min_messages=warning' "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d postgres "$@"
}

# Drop and recreate a database; extensions given as extra args are created in it.
fresh_db() {
    local db=$1 ext
    shift
    psql_admin -c "DROP DATABASE IF EXISTS \"$db\"" -c "CREATE DATABASE \"$db\"" || return 1
    for ext in "$@"; do
        "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d "$db" -c "CREATE EXTENSION $ext" || return 1
    done
}

# ---------------------------------------------------------------------------
say "dependencies"
extra_pkgs=()
if [ -n "$(list_files 'test/t/*.pl')" ]; then
    extra_pkgs+=(libipc-run-perl) # PostgreSQL::Test::Cluster needs IPC::Run
fi
./scripts/install-deps.sh "${extra_pkgs[@]}" || abort "installing dependencies failed"

BINDIR=$("$PG_CONFIG" --bindir) || abort "pg_config not usable: $PG_CONFIG"
# pg_config --pgxs is <pgxs>/src/makefiles/pgxs.mk
PGXS_DIR=$(cd "$(dirname "$("$PG_CONFIG" --pgxs)")/../.." && pwd)
PG_REGRESS=$PGXS_DIR/src/test/regress/pg_regress
PG_ISOLATION_REGRESS=$PGXS_DIR/src/test/isolation/pg_isolation_regress

say "build"
make PG_CONFIG="$PG_CONFIG" -j"$(nproc)" || abort "build failed"
make PG_CONFIG="$PG_CONFIG" install || abort "make install failed"

say "private server"
# shellcheck source=scripts/pgcluster.sh
. "$ROOT/scripts/pgcluster.sh"
ff_cluster_paths
CLUSTER_STARTED=1
ff_cluster_start || abort "could not start the private server (log: $FF_LOG)"
eval "$(ff_cluster_env)"
echo "server running: PGHOST=$PGHOST PGPORT=$PGPORT"

RESULTS=$FF_TEST_DIR/results
mkdir -p "$RESULTS"

# ---------------------------------------------------------------------------
# Suite 1: pg_regress, installcheck style against the private server. The test
# files create the extension themselves.
mapfile -t regress_files < <(suite_on regress && list_files 'sql/*.sql')
if [ "${#regress_files[@]}" -gt 0 ]; then
    say "suite 1: pg_regress (${#regress_files[@]} tests)"
    tests=()
    for f in "${regress_files[@]}"; do tests+=("$(basename "$f" .sql)"); done
    out=$RESULTS/regress
    mkdir -p "$out"
    run_logged "$out/run.log" "$PG_REGRESS" --bindir="$BINDIR" --inputdir=. --outputdir="$out" \
        --host="$PGHOST" --port="$PGPORT" --user=postgres --dbname=flowfabric_regress "${tests[@]}"
    tally_regress regress "$out/run.log" "${#tests[@]}" "$RC"
    if [ "$RC" -ne 0 ] && [ -s "$out/regression.diffs" ]; then
        echo "--- $out/regression.diffs (first 300 lines)"
        head -n 300 "$out/regression.diffs"
    fi
else
    say "suite 1: pg_regress: no sql/*.sql, skipped"
fi

# ---------------------------------------------------------------------------
# Suite 2: pgTAP. Each file runs in its own transaction (BEGIN ... ROLLBACK),
# so one shared database is enough. pg_prove runs once per file so that a
# crashing or mis-planned file cannot hide the others' results.
mapfile -t tap_files < <(suite_on pgtap && list_files "${FF_TEST_PGTAP:-test/pgtap/*.sql}")
if [ "${#tap_files[@]}" -gt 0 ]; then
    say "suite 2: pgTAP (${#tap_files[@]} files)"
    out=$RESULTS/pgtap
    mkdir -p "$out"
    if ! fresh_db flowfabric_tap pgtap flowfabric; then
        echo "run-tests: could not prepare database flowfabric_tap; counting all pgTAP files as failed"
        FAILED=$((FAILED + ${#tap_files[@]}))
    else
        p=0 f=0 assertions=0
        for t in "${tap_files[@]}"; do
            log=$out/$(basename "$t" .sql).log
            set +e
            timeout -k 10 "$FF_TEST_TIMEOUT" pg_prove -d flowfabric_tap "$t" >"$log" 2>&1
            rc=$?
            set -e
            n=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' "$log" | tail -n 1)
            assertions=$((assertions + ${n:-0}))
            if [ "$rc" -eq 0 ]; then
                p=$((p + 1))
                echo "ok   $t (${n:-?} assertions)"
            else
                f=$((f + 1))
                echo "FAIL $t (exit $rc)"
                sed 's/^/    /' "$log"
            fi
        done
        echo "[pgtap] passed=$p failed=$f (files; $assertions assertions run)"
        PASSED=$((PASSED + p))
        FAILED=$((FAILED + f))
    fi
else
    say "suite 2: pgTAP: no test/pgtap/*.sql, skipped"
fi

# ---------------------------------------------------------------------------
# Suite 3: isolation specs. Their setup blocks create the extension.
mapfile -t specs < <(suite_on isolation && list_files 'test/isolation/specs/*.spec')
if [ "${#specs[@]}" -gt 0 ]; then
    say "suite 3: isolation (${#specs[@]} specs)"
    tests=()
    for f in "${specs[@]}"; do tests+=("$(basename "$f" .spec)"); done
    out=$RESULTS/isolation
    mkdir -p "$out"
    run_logged "$out/run.log" "$PG_ISOLATION_REGRESS" --bindir="$BINDIR" \
        --inputdir=test/isolation --outputdir="$out" \
        --host="$PGHOST" --port="$PGPORT" --user=postgres --dbname=flowfabric_iso "${tests[@]}"
    tally_regress isolation "$out/run.log" "${#tests[@]}" "$RC"
    if [ "$RC" -ne 0 ] && [ -s "$out/regression.diffs" ]; then
        echo "--- $out/regression.diffs (first 300 lines)"
        head -n 300 "$out/regression.diffs"
    fi
else
    say "suite 3: isolation: no test/isolation/specs/*.spec, skipped"
fi

# ---------------------------------------------------------------------------
# Suite 4: hook scripts (contract in test/suites/README.md). Each prints TAP
# lines; every "ok N" / "not ok N" line is one unit.
mapfile -t hooks < <(suite_on suites && list_files 'test/suites/*.sh')
if [ "${#hooks[@]}" -gt 0 ]; then
    out=$RESULTS/suites
    mkdir -p "$out"
    export FF_ROOT=$ROOT PG_BINDIR=$BINDIR PG_CONFIG
    for h in "${hooks[@]}"; do
        # run with bash whatever the file mode: a lost executable bit must
        # never make a whole suite vanish from the count
        name=$(basename "$h" .sh)
        say "suite: $h"
        run_logged "$out/$name.log" bash "$h"
        read -r p f todo plan < <(awk '
            /^not ok [0-9]+/ { if ($0 ~ /# *TODO/) t++; else f++; next }
            /^ok [0-9]+/     { p++; next }
            /^1\.\.[0-9]+/   { plan = substr($1, 4) + 0 }
            END { print p + 0, f + 0, t + 0, plan + 0 }' "$out/$name.log")
        seen=$((p + f + todo))
        if [ "$plan" -gt "$seen" ]; then
            echo "run-tests: $h planned $plan tests but reported $seen; counting the rest as failed"
            f=$((f + plan - seen))
        fi
        if [ "$RC" -ne 0 ] && [ "$f" -eq 0 ]; then
            echo "run-tests: $h exited with status $RC"
            f=1
        fi
        echo "[$name] passed=$p failed=$f"
        PASSED=$((PASSED + p))
        FAILED=$((FAILED + f))
    done
fi

# ---------------------------------------------------------------------------
# Suite 5: Perl TAP tests using PostgreSQL::Test::Cluster. They start their own
# servers, and initdb refuses root, so as root they run as `postgres`.
mapfile -t perl_tests < <(suite_on perl && list_files 'test/t/*.pl')
if [ "${#perl_tests[@]}" -gt 0 ]; then
    say "suite 5: Perl TAP (${#perl_tests[@]} files)"
    out=$RESULTS/perl
    mkdir -p "$out"
    workdir=$ROOT
    as_user=()
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres:postgres "$out"
        as_user=(runuser -u postgres --)
        # A clone under e.g. /root is unreadable for postgres: use a copy.
        if ! runuser -u postgres -- test -r "$ROOT/${perl_tests[0]}"; then
            workdir=$RESULTS/perl-src
            mkdir -p "$workdir"
            tar -C "$ROOT" --exclude=.git -cf - . | tar -C "$workdir" -xf -
            chown -R postgres:postgres "$workdir"
        fi
    fi
    p=0 f=0
    for t in "${perl_tests[@]}"; do
        name=$(basename "$t" .pl)
        echo "--- $t"
        mkdir -p "$out/$name"
        [ "${#as_user[@]}" -eq 0 ] || chown postgres:postgres "$out/$name"
        set +e
        (cd "$workdir" && timeout -k 10 "$FF_TEST_TIMEOUT" "${as_user[@]}" env \
            PATH="$BINDIR:$PATH" PG_REGRESS="$PG_REGRESS" PG_CONFIG="$PG_CONFIG" \
            TESTDIR="$out/$name" FF_ROOT="$workdir" \
            prove -I "$PGXS_DIR/src/test/perl" "$t") 2>&1 | tee "$out/$name.prove.log"
        rc=${PIPESTATUS[0]}
        set -e
        if [ "$rc" -eq 0 ]; then
            p=$((p + 1))
        else
            f=$((f + 1))
            echo "FAIL $t (exit $rc); logs under $out/$name/tmp_check/log"
        fi
    done
    echo "[perl] passed=$p failed=$f"
    PASSED=$((PASSED + p))
    FAILED=$((FAILED + f))
fi

if [ $((PASSED + FAILED)) -eq 0 ]; then
    echo "run-tests: no tests found"
fi
say "summary"
finish

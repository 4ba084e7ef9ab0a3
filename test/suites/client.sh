#!/usr/bin/env bash
# test/suites/client.sh - the C client suite (hook contract: test/suites/README.md).
#
# Builds libflowfabric, ffctl, the example and the C tests (test/client/),
# creates a private database with the extension, then runs:
#   test_exec    every library call, success and error paths   (under valgrind)
#   test_events  subscriptions, catch-up across dropped links    (under valgrind)
#   test_batch   the batch calls (create / renew / complete / fail many) (under valgrind)
#   test_worker  the worker runtime end to end                  (natively, then a
#                quick variant under valgrind)
#   test_suspend suspension, waitpoints, signals, the signal-event
#                subscription, a worker resumed by `ffctl signal`  (under valgrind)
#   test_flow    flows: every call and error kind, a diamond, skips, flow
#                cancel, FF_JOB_WAIT_CHILDREN in the worker     (under valgrind)
#   test_budget  budgets, quotas, admission: every call and error kind, a
#                breached budget holding work back, the ffctl budget / quota
#                verbs with --json                              (under valgrind)
#   ffctl_test.sh  ffctl driven as a user would (one run under valgrind)
# Every test line of those programs is re-emitted here as one TAP line; a
# program that dies before its plan, or a valgrind report of errors or
# leaks, is a failure too. Prints the plan 1..N last.
set -u

ROOT=${FF_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
cd "$ROOT" || exit 1
PG_CONFIG=${PG_CONFIG:-pg_config}
PG_BINDIR=${PG_BINDIR:-$("$PG_CONFIG" --bindir)}
DB=ff_client_suite
WORK=$(mktemp -d /tmp/ff-client-suite.XXXXXX)
N=0
PROG_TIMEOUT=${FF_CLIENT_TEST_TIMEOUT:-150}

tap() { # tap ok|fail description
    N=$((N + 1))
    if [ "$1" = ok ]; then echo "ok $N - $2"; else echo "not ok $N - $2"; fi
}

psql_admin() {
    PGOPTIONS='-c client_min_messages=warning' "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d postgres "$@"
}

cleanup() {
    psql_admin -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
    psql_admin -c "DROP ROLE IF EXISTS ff_client_nopriv" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

finish() {
    echo "1..$N"
    exit 0
}

# Runs a TAP-producing program; re-emits its results with our numbering,
# prefixed with [label]. Missing plan or a short count is a failure.
run_tap() { # run_tap label command...
    local label=$1 out=$WORK/$1.out rc planned seen
    shift
    timeout -k 5 "$PROG_TIMEOUT" "$@" >"$out" 2>&1
    rc=$?
    planned=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$out" | tail -n 1)
    seen=0
    while IFS= read -r line; do
        case "$line" in
            "not ok "*)
                seen=$((seen + 1))
                tap fail "[$label] $(echo "$line" | sed -E 's/^not ok [0-9]+ *-? *//')"
                ;;
            "ok "*)
                seen=$((seen + 1))
                tap ok "[$label] $(echo "$line" | sed -E 's/^ok [0-9]+ *-? *//')"
                ;;
            "#"*) echo "$line" ;;
            "1.."*) ;;
            *) echo "# $line" ;;
        esac
    done <"$out"
    if [ -z "$planned" ]; then
        tap fail "[$label] finished its plan (exit status $rc; crashed or timed out?)"
    elif [ "$seen" -ne "$planned" ]; then
        tap fail "[$label] ran $seen of $planned planned tests"
    fi
    return "$rc"
}

VALGRIND=(valgrind -q --error-exitcode=99 --leak-check=full
    --show-leak-kinds=definite,indirect,possible
    --errors-for-leak-kinds=definite,indirect,possible)

# run_tap under memcheck, plus one TAP line for memcheck's verdict
run_valgrind() { # run_valgrind label command...
    local label=$1 log=$WORK/$1.valgrind rc
    shift
    if ! command -v valgrind >/dev/null 2>&1; then
        tap fail "[$label] valgrind is not installed (scripts/install-deps.sh installs it)"
        return
    fi
    run_tap "$label" "${VALGRIND[@]}" --log-file="$log" "$@"
    rc=$?
    if [ "$rc" -eq 99 ] || grep -q 'ERROR SUMMARY: [1-9]\|definitely lost\|indirectly lost\|possibly lost\|Invalid \|uninitialised' "$log" 2>/dev/null; then
        tap fail "[$label] valgrind memcheck: no errors, no leaks"
        sed 's/^/#   /' "$log" | head -n 80
    else
        tap ok "[$label] valgrind memcheck: no errors, no leaks"
    fi
}

# --- build -------------------------------------------------------------------
if make -s -C client PG_CONFIG="$PG_CONFIG" >"$WORK/build.log" 2>&1; then
    tap ok "build libflowfabric (.a, .so, .pc), ffctl and examples/worker with -Wall -Wextra -Werror"
else
    tap fail "build libflowfabric, ffctl and examples/worker"
    sed 's/^/# /' "$WORK/build.log" | tail -n 40
    finish
fi
if make -s -C test/client PG_CONFIG="$PG_CONFIG" >"$WORK/build-tests.log" 2>&1; then
    tap ok "build the C tests"
else
    tap fail "build the C tests"
    sed 's/^/# /' "$WORK/build-tests.log" | tail -n 40
    finish
fi
syms=$(nm -D --defined-only client/libflowfabric.so 2>/dev/null | awk '{print $3}')
if [ -n "$syms" ] && ! echo "$syms" | grep -qv '^ff_'; then
    tap ok "libflowfabric.so exports only ff_* symbols ($(echo "$syms" | wc -l))"
else
    tap fail "libflowfabric.so exports only ff_* symbols"
fi
if grep -q '^Libs: .*-lflowfabric' client/flowfabric.pc && grep -q '^Requires.private: libpq' client/flowfabric.pc; then
    tap ok "flowfabric.pc generated"
else
    tap fail "flowfabric.pc generated"
fi

# --- database ------------------------------------------------------------------
if psql_admin -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" &&
    "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d "$DB" -c "CREATE EXTENSION flowfabric"; then
    tap ok "database $DB with the extension"
else
    tap fail "database $DB with the extension"
    finish
fi
export PGDATABASE=$DB
export FF_TEST_CONNINFO="dbname=$DB"

# --- C tests -------------------------------------------------------------------
run_valgrind test_exec test/client/test_exec
run_valgrind test_events test/client/test_events
run_valgrind test_batch test/client/test_batch
run_tap test_worker test/client/test_worker
FF_TEST_QUICK=1 run_valgrind test_worker_quick test/client/test_worker
FFCTL="$ROOT/client/bin/ffctl" run_valgrind test_suspend test/client/test_suspend
run_valgrind test_flow test/client/test_flow
FFCTL="$ROOT/client/bin/ffctl" run_valgrind test_operator test/client/test_operator
FFCTL="$ROOT/client/bin/ffctl" run_valgrind test_stream test/client/test_stream
FFCTL="$ROOT/client/bin/ffctl" run_valgrind test_budget test/client/test_budget

# --- ffctl ---------------------------------------------------------------------
FFCTL="$ROOT/client/bin/ffctl" run_tap ffctl bash test/client/ffctl_test.sh
FFCTL="$ROOT/client/bin/ffctl" run_tap ffctl_batch bash test/client/ffctl_batch_test.sh

finish

#!/usr/bin/env bash
# scripts/sanitize.sh [--valgrind] - every test suite with the engine under
# AddressSanitizer and UndefinedBehaviorSanitizer (or valgrind memcheck): the
# periodic check of "no undefined behaviour", not part of `make test`
# (docs/operations.md, "Sanitizer runs"). About 4 minutes for all suites.
#
#   * flowfabric.so is built with $FF_SAN_FLAGS through PGXS's COPT; default
#     -fsanitize=address,undefined -fno-omit-frame-pointer
#     -fno-sanitize-recover=undefined -fno-wrapv. PGXS compiles with -fwrapv,
#     which defines signed overflow as wrapping and so hides it from UBSan;
#     in the engine's arithmetic (times in ms, counters) a wrap is a bug.
#   * libflowfabric, ffctl, the C tests, the torture client and ffbench are
#     built with -fsanitize=undefined only: test/suites/client.sh runs them
#     under valgrind memcheck, which covers their memory errors and cannot
#     run ASan-instrumented programs.
#   * PostgreSQL itself is not instrumented. The script copies the
#     installation (so the instrumented library never reaches the system's
#     extension directory, where other servers would load it) and replaces
#     the copy's `postgres` with a wrapper that preloads the ASan and UBSan
#     runtimes, so every server of the run has them: the test server, the
#     torture test's and the Perl TAP tests' own servers, and backends
#     restarted after a crash. detect_leaks=0: PostgreSQL frees by memory
#     context, not by free(). ASan sees only what malloc hands out: memory
#     contexts' blocks, not the chunks palloc carves from them.
#   * A self-test first checks that a server of the copy reports an ASan and
#     a UBSan error of an instrumented library, with its stack, in the logs.
#   * A report ends the backend that hit it (the server restarts, as after a
#     crash), so the tests that ran on it fail too; FF_SAN_RECOVER=1 lets
#     UBSan report and carry on, to list every report in one run.
# --valgrind: no instrumentation; the wrapper runs every server under
#   valgrind --tool=memcheck (slow: about 4 minutes for pg_regress alone;
#   choose suites with FF_SAN_SUITES).
#
# The suites run through scripts/run-tests.sh (FF_TEST_SUITES, FF_TEST_PGTAP)
# in a copy of this working tree, so the build never touches this tree's
# objects. Then the logs are searched: one file per process in
# $FF_SAN_DIR/logs (asan.PID, ubsan.PID, valgrind.PID), and the server logs
# for reports that could not reach them. The last line is "sanitizers: N
# reports"; the exit status is non-zero on a report or a failed test.
#
# Environment:
#   FF_SAN_DIR        work directory, wiped at start   (default /tmp/ff-sanitize)
#   FF_TEST_DIR       the test server's directory       (default $FF_SAN_DIR/cluster)
#   FF_TEST_PORT      its port                          (default 54339)
#   FF_TEST_TIMEOUT   seconds per suite command         (default 1800; 7200 with --valgrind)
#   FF_SAN_FLAGS      compiler flags for flowfabric.so  (above)
#   FF_SAN_RECOVER    1: UBSan reports without stopping the backend
#   FF_SAN_SUITES     suites to run, of: regress pgtap isolation suites perl
#                     (default all; run-tests.sh's FF_TEST_SUITES)
#   FF_SAN_PGTAP      glob of the pgTAP files to run   (default test/pgtap/*.sql)
#   PG_CONFIG         the PostgreSQL installation to copy
#                     (default /usr/lib/postgresql/15/bin/pg_config)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
exec </dev/null

MODE=sanitizers
case "${1:-}" in
    "") ;;
    --valgrind) MODE=valgrind ;;
    *) echo "usage: $0 [--valgrind]" >&2; exit 2 ;;
esac

SAN_DIR=${FF_SAN_DIR:-/tmp/ff-sanitize}
SRC_PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
SAN_FLAGS=${FF_SAN_FLAGS:--fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -fno-wrapv}
UBSAN_FLAGS="-fsanitize=undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
UBSAN_HALT=1
if [ "${FF_SAN_RECOVER:-0}" = 1 ]; then
    SAN_FLAGS=${SAN_FLAGS//-fno-sanitize-recover=/-fsanitize-recover=}
    UBSAN_FLAGS=${UBSAN_FLAGS//-fno-sanitize-recover=/-fsanitize-recover=}
    UBSAN_HALT=0
fi
LOGS=$SAN_DIR/logs
START=$(date +%s)

say() { printf '\n=== sanitize: %s ===\n' "$*"; }
die() { echo "sanitize: $*" >&2; echo "sanitizers: run failed"; exit 1; }

# ---------------------------------------------------------------------------
say "dependencies"
if [ "$MODE" = sanitizers ]; then
    # gcc brings its sanitizer runtimes (libasan8, libubsan1) on Debian 12;
    # name them so a trimmed installation gets them back.
    "$ROOT/scripts/install-deps.sh" libasan8 libubsan1 || die "installing dependencies failed"
else
    "$ROOT/scripts/install-deps.sh" || die "installing dependencies failed"
fi

# The work directory is wiped: guard the rm -rf like pgcluster.sh does.
if [ -d "$SAN_DIR" ] && [ -n "$(ls -A "$SAN_DIR")" ] && [ ! -e "$SAN_DIR/.flowfabric-sanitize" ]; then
    die "$SAN_DIR exists and was not created by sanitize.sh; refusing to wipe it"
fi
# servers a previous, interrupted run may have left running
for d in "$SAN_DIR"/cluster/data "$SAN_DIR"/selftest/cluster/data "$SAN_DIR"/torture/data; do
    if [ -f "$d/postmaster.pid" ] && [ -x "$SAN_DIR/pg/bin/pg_ctl" ]; then
        if [ "$(id -u)" -eq 0 ]; then
            runuser -u postgres -- "$SAN_DIR/pg/bin/pg_ctl" -D "$d" -m immediate stop >/dev/null 2>&1 || true
        else
            "$SAN_DIR/pg/bin/pg_ctl" -D "$d" -m immediate stop >/dev/null 2>&1 || true
        fi
    fi
done
rm -rf "$SAN_DIR"
mkdir -p "$SAN_DIR" "$LOGS"
: >"$SAN_DIR/.flowfabric-sanitize"
chmod 755 "$SAN_DIR"
chmod 1777 "$LOGS" # the servers run as `postgres` when we are root

# ---------------------------------------------------------------------------
say "private PostgreSQL installation"
# Copy the installation keeping its layout (pg_config and the server find
# their directories relative to their own location).
src_bindir=$("$SRC_PG_CONFIG" --bindir) || die "pg_config not usable: $SRC_PG_CONFIG"
for d in "$(dirname "$src_bindir")" "$("$SRC_PG_CONFIG" --sharedir)" "$("$SRC_PG_CONFIG" --includedir)"; do
    mkdir -p "$SAN_DIR/pg$(dirname "$d")"
    cp -a "$d" "$SAN_DIR/pg$d"
done
BINDIR=$SAN_DIR/pg$src_bindir
ln -s "$BINDIR" "$SAN_DIR/pg/bin"
export PG_CONFIG=$BINDIR/pg_config
[ "$("$PG_CONFIG" --pkglibdir)" = "$SAN_DIR/pg$("$SRC_PG_CONFIG" --pkglibdir)" ] ||
    die "the copy of the installation is not relocatable: $PG_CONFIG reports $("$PG_CONFIG" --pkglibdir)"

mv "$BINDIR/postgres" "$BINDIR/postgres.bin"
if [ "$MODE" = sanitizers ]; then
    libasan=$(readlink -f "$(gcc -print-file-name=libasan.so)")
    libubsan=$(readlink -f "$(gcc -print-file-name=libubsan.so)")
    [ -f "$libasan" ] && [ -f "$libubsan" ] || die "gcc's libasan / libubsan not found"
    # allocator_may_return_null: a failed malloc is PostgreSQL's to report
    asan_options="detect_leaks=0:allocator_may_return_null=1:log_path=$LOGS/asan"
    ubsan_options="print_stacktrace=1:halt_on_error=$UBSAN_HALT:log_path=$LOGS/ubsan"
    # A start-up shim, preloaded right after the ASan runtime:
    # * A preloaded ASan runtime starts lazily, at the first malloc, and its
    #   constructor runs after those of the server's libraries (p11-kit,
    #   gnutls, libgpg-error). They call newlocale / bindtextdomain, which
    #   malloc while holding a glibc lock, and an ASan start-up inside that
    #   lock leaves the lock broken: the server hangs in its first
    #   bindtextdomain (google/sanitizers#1270). The shim starts ASan before
    #   those calls take their locks.
    # * UBSan reads UBSAN_OPTIONS only at its first report, from
    #   /proc/self/environ, which the server has overwritten with its
    #   process title by then; the shim hands it its options instead. Its
    #   log_path would not work either: UBSan applies it through
    #   __sanitizer_set_report_path, which the ASan runtime, first in the
    #   lookup order, answers for itself. The shim sets UBSan's own.
    cat >"$SAN_DIR/san-early-init.c" <<'SHIM'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <locale.h>
#include <stddef.h>

extern void __asan_init(void);
const char *__ubsan_default_options(void);

const char *
__ubsan_default_options(void)
{
    return FF_UBSAN_OPTIONS;
}

__attribute__((constructor)) static void
ubsan_report_path(void)
{
    void       *ubsan = dlopen(FF_UBSAN_LIB, RTLD_NOW | RTLD_NOLOAD);
    void        (*set_path) (const char *);

    if (ubsan == NULL)
        return;
    set_path = (void (*) (const char *)) dlsym(ubsan, "__sanitizer_set_report_path");
    if (set_path != NULL)
        set_path(FF_UBSAN_LOG_PATH);
}

#define ASAN_FIRST(ret, name, params, args) \
ret name params \
{ \
    static ret (*real) params; \
    if (real == NULL) \
    { \
        __asan_init(); \
        real = (ret (*) params) dlsym(RTLD_NEXT, #name); \
    } \
    return real args; \
}

ASAN_FIRST(char *, bindtextdomain, (const char *d, const char *dir), (d, dir))
ASAN_FIRST(char *, bind_textdomain_codeset, (const char *d, const char *c), (d, c))
ASAN_FIRST(locale_t, newlocale, (int m, const char *l, locale_t b), (m, l, b))
ASAN_FIRST(locale_t, duplocale, (locale_t l), (l))
SHIM
    gcc -shared -fPIC -O1 -Wall -Werror -DFF_UBSAN_OPTIONS="\"$ubsan_options\"" \
        -DFF_UBSAN_LIB="\"$libubsan\"" -DFF_UBSAN_LOG_PATH="\"$LOGS/ubsan\"" \
        -o "$SAN_DIR/san-early-init.so" "$SAN_DIR/san-early-init.c" -ldl ||
        die "building the sanitizer start-up shim failed"
    # log_path: one file per process, <prefix>.<pid>
    server_env="LD_PRELOAD='$libasan $SAN_DIR/san-early-init.so $libubsan'
ASAN_OPTIONS='$asan_options'
UBSAN_OPTIONS='$ubsan_options'"
    runner=""
else
    server_env=""
    # memcheck follows the postmaster's forks by itself; no exec'd children
    # worth checking (--trace-children=no).
    runner="valgrind --tool=memcheck --log-file=$LOGS/valgrind.%p --error-exitcode=0 \
--leak-check=no --track-origins=yes --read-var-info=no --num-callers=30 \
--suppressions=$SAN_DIR/valgrind.supp"
    # Known false positives of a PostgreSQL built without USE_VALGRIND:
    # struct padding it sends to disk and sockets or hashes (shared
    # invalidation messages), and its regex cache copying an entry onto
    # itself.
    cat >"$SAN_DIR/valgrind.supp" <<'EOF'
{
   pg_padding_to_socket
   Memcheck:Param
   sendto(msg)
   fun:*
   ...
}
{
   pg_padding_to_socket_send
   Memcheck:Param
   send(msg)
   fun:*
   ...
}
{
   pg_padding_to_file
   Memcheck:Param
   write(buf)
   fun:*
   ...
}
{
   pg_padding_to_file_pwrite
   Memcheck:Param
   pwrite64(buf)
   fun:*
   ...
}
{
   pg_padding_to_file_pwritev
   Memcheck:Param
   pwritev(vector[...])
   fun:*
   ...
}
{
   pg_sinval_message_padding
   Memcheck:Cond
   fun:hash_search_with_hash_value
   fun:smgrclosenode
}
{
   pg_sinval_message_padding_value8
   Memcheck:Value8
   fun:hash_search_with_hash_value
   fun:smgrclosenode
}
{
   pg_regex_cache_self_copy
   Memcheck:Overlap
   fun:__memcpy_chk
   fun:RE_compile_and_cache
}
EOF
fi
{
    echo '#!/usr/bin/env bash'
    echo "# scripts/sanitize.sh: the real server is postgres.bin; run it $MODE."
    if [ -n "$server_env" ]; then
        echo "$server_env" | sed 's/^/export /'
    fi
    # the server finds its installation from its own path: same directory
    echo "exec $runner \"\$(dirname \"\$0\")/postgres.bin\" \"\$@\""
} >"$BINDIR/postgres"
chmod 755 "$BINDIR/postgres"
"$BINDIR/postgres" -V >/dev/null || die "the wrapped server does not start: $BINDIR/postgres -V"

export FF_TEST_DIR=${FF_TEST_DIR:-$SAN_DIR/cluster}
export FF_TEST_PORT=${FF_TEST_PORT:-54339}

# ---------------------------------------------------------------------------
# Self-test: a server of this installation must report an ASan and a UBSan
# error of an instrumented library, with a stack, in $LOGS; a setup that
# silently loses reports would otherwise pass every run.
if [ "$MODE" = sanitizers ]; then
    say "self-test: a server reports a heap overflow and a bad shift"
    ST=$SAN_DIR/selftest
    mkdir -p "$ST"
    cat >"$ST/ff_san_canary.c" <<'CANARY'
#include "postgres.h"
#include "fmgr.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(ff_san_heap_overflow);
Datum
ff_san_heap_overflow(PG_FUNCTION_ARGS)
{
	int32		n = PG_GETARG_INT32(0);
	volatile char *p = malloc(n);

	p[n] = 1;					/* one past the end: a size UBSan cannot see */
	free((char *) p);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(ff_san_bad_shift);
Datum
ff_san_bad_shift(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(1 << PG_GETARG_INT32(0));
}
CANARY
    # shellcheck disable=SC2086 # SAN_FLAGS is a list of flags
    gcc $SAN_FLAGS -O1 -g -fPIC -shared -I"$("$PG_CONFIG" --includedir-server)" \
        -o "$ST/ff_san_canary.so" "$ST/ff_san_canary.c" || die "building the self-test library failed"
    (
        # a throwaway server of its own, before anything is built; its
        # commits must survive the crash restart after each report
        export FF_TEST_DIR=$ST/cluster FF_TEST_EXTRA_CONF="shared_preload_libraries = ''
synchronous_commit = on"
        # shellcheck source=scripts/pgcluster.sh
        . "$ROOT/scripts/pgcluster.sh"
        trap 'ff_cluster_stop >/dev/null 2>&1 || true' EXIT
        ff_cluster_start >/dev/null || exit 1
        psql_st() {
            local i
            for i in $(seq 60); do # a backend that reported takes the server through crash recovery
                "$FF_BINDIR/psql" -X -q -h "$FF_SOCK" -p "$FF_TEST_PORT" -U postgres -d postgres \
                    -c 'SELECT 1' >/dev/null 2>&1 && break
                sleep 0.5
            done
            "$FF_BINDIR/psql" -X -q -h "$FF_SOCK" -p "$FF_TEST_PORT" -U postgres -d postgres "$@" >/dev/null 2>&1
        }
        psql_st -c "CREATE FUNCTION ff_san_heap_overflow(int) RETURNS void AS '$ST/ff_san_canary.so' LANGUAGE c STRICT" \
            -c "CREATE FUNCTION ff_san_bad_shift(int) RETURNS int AS '$ST/ff_san_canary.so' LANGUAGE c STRICT" ||
            exit 1
        psql_st -c 'SELECT ff_san_heap_overflow(8)' || true
        psql_st -c 'SELECT ff_san_bad_shift(40)' || true
        psql_st -c 'SELECT 1'
    ) || die "self-test: the throwaway server failed (log: $ST/cluster/postgres.log)"
    mkdir -p "$ST/logs"
    shopt -s nullglob
    st_logs=("$LOGS"/*)
    shopt -u nullglob
    [ "${#st_logs[@]}" -eq 0 ] || mv "${st_logs[@]}" "$ST/logs/"
    grep -qs 'ERROR: AddressSanitizer: heap-buffer-overflow' "$ST"/logs/asan.* &&
        grep -qs 'ff_san_heap_overflow .*ff_san_canary.c' "$ST"/logs/asan.* ||
        die "self-test: no ASan report with a stack in $LOGS (see $ST/logs, $ST/cluster/postgres.log)"
    grep -qs 'runtime error: shift exponent 40' "$ST"/logs/ubsan.* &&
        grep -qs 'ff_san_bad_shift .*ff_san_canary.c' "$ST"/logs/ubsan.* ||
        die "self-test: no UBSan report with a stack in $LOGS (see $ST/logs, $ST/cluster/postgres.log)"
    echo "self-test passed: both reports reached $LOGS with their stacks"
fi

# ---------------------------------------------------------------------------
say "copy of the working tree"
SRC=$SAN_DIR/src
mkdir -p "$SRC"
tar -C "$ROOT" --exclude=.git -cf - . | tar -C "$SRC" -xf -
make -s -C "$SRC" PG_CONFIG="$PG_CONFIG" clean >/dev/null
make -s -C "$SRC/test/torture" PG_CONFIG="$PG_CONFIG" clean >/dev/null

# Client side, built before run-tests.sh so that its builds find them up to
# date: with UBSan (valgrind runs them), not at all with --valgrind.
if [ "$MODE" = sanitizers ]; then
    say "build the client side with UBSan"
    client_cc="gcc $UBSAN_FLAGS"
    make -s -C "$SRC/client" PG_CONFIG="$PG_CONFIG" CC="$client_cc" ||
        die "building the client with UBSan failed"
    for d in test/client test/torture bench; do
        make -s -C "$SRC/$d" PG_CONFIG="$PG_CONFIG" CC="$client_cc" ||
            die "building $d with UBSan failed"
    done
    # The extension: PGXS adds COPT to CFLAGS and LDFLAGS.
    export COPT=$SAN_FLAGS
fi

# ---------------------------------------------------------------------------
say "test suites ($MODE)"
if [ "$MODE" = sanitizers ]; then
    export FF_TEST_TIMEOUT=${FF_TEST_TIMEOUT:-1800}
else
    export FF_TEST_TIMEOUT=${FF_TEST_TIMEOUT:-7200}
fi
export FF_CLIENT_TEST_TIMEOUT=${FF_CLIENT_TEST_TIMEOUT:-900}
export TORTURE_DEADLINE=${TORTURE_DEADLINE:-600}
# keep the torture test's cluster, so that its server log is searched too
export TORTURE_DIR=$SAN_DIR/torture TORTURE_KEEP=1
# client installs go to the work directory, not /usr/local
export PREFIX=$SAN_DIR/prefix
# the client programs' own UBSan reports
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=$UBSAN_HALT:log_path=$LOGS/ubsan"
[ -z "${FF_SAN_SUITES:-}" ] || export FF_TEST_SUITES=$FF_SAN_SUITES
[ -z "${FF_SAN_PGTAP:-}" ] || export FF_TEST_PGTAP=$FF_SAN_PGTAP

set +e
bash "$SRC/scripts/run-tests.sh" 2>&1 | tee "$SAN_DIR/run-tests.log"
tests_rc=${PIPESTATUS[0]}
set -e

if [ "$MODE" = sanitizers ]; then
    # Proof the run was instrumented (a silent fallback would report nothing).
    so=$("$PG_CONFIG" --pkglibdir)/flowfabric.so
    [ "$(nm -D "$so" 2>/dev/null | grep -c '__asan_')" -gt 0 ] || die "$so is not instrumented"
    [ "$(nm "$SRC/client/libflowfabric.a" 2>/dev/null | grep -c '__ubsan_')" -gt 0 ] ||
        die "$SRC/client/libflowfabric.a is not instrumented"
fi

# ---------------------------------------------------------------------------
say "reports"
# ASan: one "ERROR: AddressSanitizer" per report; UBSan: one "runtime
# error:" line per report; memcheck: the count in each ERROR SUMMARY. A
# report that could not reach its log file went to the server log instead.
# (No pipefail: `... | head` may end the command before it.)
set +o pipefail
reports=0
shopt -s nullglob
for f in "$LOGS"/asan.* "$LOGS"/ubsan.*; do
    n=$(grep -Ec 'ERROR: AddressSanitizer|runtime error:' "$f" || true)
    if [ "$n" -gt 0 ]; then
        reports=$((reports + n))
        echo "--- $f ($n)"
        head -n 60 "$f"
    fi
done
for f in "$LOGS"/valgrind.*; do
    n=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$f" | tail -n 1)
    if [ "${n:-0}" -gt 0 ]; then
        reports=$((reports + n))
        echo "--- $f ($n)"
        grep -v '^==[0-9]*== *$' "$f" | head -n 80
    fi
done
# Server logs: the test server's, the torture test's, the Perl TAP tests'.
for f in $(find "$FF_TEST_DIR" "$SAN_DIR/torture" -name '*.log' 2>/dev/null | sort -u); do
    n=$(grep -Ec 'ERROR: AddressSanitizer|runtime error:' "$f" || true)
    if [ "$n" -gt 0 ]; then
        reports=$((reports + n))
        echo "--- $f ($n)"
        grep -E -A30 'ERROR: AddressSanitizer|runtime error:' "$f" | head -n 60
    fi
done
echo "logs: $LOGS; test output: $SAN_DIR/run-tests.log; took $(($(date +%s) - START))s"
echo "tests: $(tail -n 1 "$SAN_DIR/run-tests.log")"
echo "sanitizers: $reports reports"
if [ "$reports" -gt 0 ] || [ "$tests_rc" -ne 0 ]; then
    exit 1
fi

#!/usr/bin/env bash
# test/suites/fuzz_regressions.sh - replays every fuzz seed and regression
# input (test/fuzz/corpus, test/fuzz/regressions) through the libFuzzer
# harnesses, built with address and undefined-behaviour sanitizers (hook
# contract: test/suites/README.md). Skipped when clang and its libFuzzer
# runtime are not installed (`make fuzz` installs them).
ROOT=${FF_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
CLANG=$(command -v clang-14 || command -v clang || true)
if [ -z "$CLANG" ] || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
    echo "1..0 # SKIP clang with libFuzzer is not installed (make fuzz installs it)"
    exit 0
fi
if ! make -s -C "$ROOT/test/fuzz" PG_CONFIG="$PG_CONFIG" CLANG="$CLANG" >/tmp/ff-fuzz-build-$$.log 2>&1; then
    echo "not ok 1 - build the fuzz harnesses (test/fuzz)"
    sed 's/^/# /' /tmp/ff-fuzz-build-$$.log | tail -n 30
    rm -f /tmp/ff-fuzz-build-$$.log
    echo "1..1"
    exit 1
fi
rm -f /tmp/ff-fuzz-build-$$.log
exec "$ROOT/test/fuzz/run.sh" 0

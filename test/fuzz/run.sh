#!/usr/bin/env bash
# test/fuzz/run.sh SECONDS - replay every seed and regression input through
# each target, then (SECONDS > 0) fuzz each target for SECONDS. Prints one
# TAP line per target and step; exits non-zero on any finding. Crashing
# inputs are saved under build/crashes/ (add them to regressions/<target>/).
set -u
cd "$(dirname "$0")"
SECONDS_PER_TARGET=${1:-30}
TARGETS=${FUZZ_TARGETS:-"ids handle policy cond patch token"}
BUILD=${BUILD:-build}
n=0
failed=0
tap() { n=$((n + 1)); if [ "$1" = ok ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }

mkdir -p "$BUILD/crashes"
for t in $TARGETS; do
    bin=$BUILD/fuzz_$t
    if [ ! -x "$bin" ]; then
        tap fail "fuzz_$t is built"
        continue
    fi
    # every seed and regression input, once (libFuzzer runs files given as arguments)
    inputs=$(find corpus/$t regressions/$t -type f 2>/dev/null | sort)
    if [ -n "$inputs" ]; then
        # shellcheck disable=SC2086
        if "$bin" -runs=1 $inputs >"$BUILD/replay-$t.log" 2>&1; then
            tap ok "fuzz_$t replays $(echo "$inputs" | wc -l) seed and regression inputs"
        else
            tap fail "fuzz_$t replays its seed and regression inputs (log: $BUILD/replay-$t.log)"
            tail -n 30 "$BUILD/replay-$t.log" | sed 's/^/# /'
        fi
    fi
    if [ "$SECONDS_PER_TARGET" -gt 0 ]; then
        work=$BUILD/work/$t
        mkdir -p "$work"
        dict=()
        [ -f "dict/$t.dict" ] && dict=(-dict="dict/$t.dict")
        if "$bin" "${dict[@]}" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
                -print_final_stats=1 -artifact_prefix="$BUILD/crashes/$t-" "$work" corpus/$t \
                >"$BUILD/fuzz-$t.log" 2>&1; then
            tap ok "fuzz_$t: ${SECONDS_PER_TARGET}s, $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$BUILD/fuzz-$t.log" | grep -o '[0-9]*$') runs, no finding"
        else
            tap fail "fuzz_$t found a crash (log: $BUILD/fuzz-$t.log, input: $(ls -t "$BUILD"/crashes/$t-* 2>/dev/null | head -n 1))"
            grep -E 'ffz:|ERROR: |SUMMARY' "$BUILD/fuzz-$t.log" | head -n 10 | sed 's/^/# /'
        fi
    fi
done
echo "1..$n"
exit $failed

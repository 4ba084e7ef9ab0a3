#!/usr/bin/env bash
# test/client/ffctl_test.sh - ffctl driven as a user would, against the
# database in PGDATABASE (run by test/suites/client.sh). Prints TAP.
#
# Environment: FFCTL (the binary), PG* (connection), optional PG_BINDIR.
set -u

FFCTL=${FFCTL:-$(pwd)/client/bin/ffctl}
export FFCTL
PSQL=${PG_BINDIR:+$PG_BINDIR/}psql
T=0
FAILS=0
SFX=$$
TMP=$(mktemp -d /tmp/ffctl-test.XXXXXX)
trap 'rm -rf "$TMP"; [ -n "${BGPID:-}" ] && kill "$BGPID" 2>/dev/null' EXIT

ok() { # ok <condition-exit-status> description
    T=$((T + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $T - $2"
    else
        echo "not ok $T - $2"
        FAILS=$((FAILS + 1))
    fi
}
is() { # is got want description
    T=$((T + 1))
    if [ "$1" = "$2" ]; then
        echo "ok $T - $3"
    else
        echo "not ok $T - $3"
        echo "#   got:  '$1'"
        echo "#   want: '$2'"
        FAILS=$((FAILS + 1))
    fi
}
sql() { "$PSQL" -X -Atq -v ON_ERROR_STOP=1 -c "$1"; }
# jget JSON PATH: a value out of a JSON document (PostgreSQL parses it)
jget() { sql "SELECT (\$j\$$1\$j\$::jsonb) #>> '{$2}'"; }
ff() { "$FFCTL" "$@"; }
wait_for() { # wait_for SQL-boolean timeout-seconds
    local i
    for i in $(seq 1 $(($2 * 20))); do
        [ "$(sql "SELECT ($1)::int")" = 1 ] && return 0
        sleep 0.05
    done
    return 1
}

# --- basics ------------------------------------------------------------------
out=$(ff ping)
is "$out" "ok" "ffctl ping"
out=$(ff --json time)
t=$(jget "$out" server_time_ms)
now=$(sql "SELECT ff_server_time_ms()")
ok $(( (now - t) < 60000 && (now - t) > -60000 ? 0 : 1 )) "ffctl --json time is the engine clock"
ff capabilities | grep -q '"supports"'
ok $? "ffctl capabilities"
ff enqueue --help | grep -q -- '--lane LANE'
ok $? "ffctl enqueue --help shows the usage"
ff --help | grep -q 'worker'
ok $? "ffctl --help lists the commands"

# --- enqueue -----------------------------------------------------------------
L=cli-$SFX
id=$(ff enqueue --lane "$L" --payload "hello")
ok $? "enqueue prints the id and exits 0"
is "$(sql "SELECT ff_canonical_execution_id('$id') = '$id' AND ff_execution_partition('$id') = ff_solo_partition('$L')")" "t" \
    "the id is canonical, in the lane's solo partition"
out=$(ff --json enqueue --lane "$L" --payload '{"n": 1}' --namespace ns1 --kind k.one --priority 7 \
    --cap gpu --cap linux --tag app.owner=ada --tag 'app.note=a "quoted" value' --idempotency-key idem-$SFX \
    --policy '{"retry_policy": {"max_retries": 1, "backoff": {"type": "fixed", "delay_ms": 0}}}' --creator tester)
id2=$(jget "$out" execution_id)
is "$(jget "$out" created)/$(jget "$out" public_state)" "true/waiting" "enqueue --json with every option"
is "$(sql "SELECT namespace || '|' || execution_kind || '|' || priority || '|' || array_to_string(required_capabilities, ',') || '|' || (tags ->> 'app.note') || '|' || creator_identity FROM ff_execution WHERE ff_format_execution_id(partition_key, execution_id) = '$id2'")" \
    'ns1|k.one|7|gpu,linux|a "quoted" value|tester' "the options reached the engine (tags JSON-escaped)"
out=$(ff --json enqueue --lane "$L" --payload other --namespace ns1 --idempotency-key idem-$SFX 2>/dev/null)
is "$(jget "$out" created)/$(jget "$out" execution_id)" "false/$id2" "a duplicate idempotency key returns the first execution"
out=$(ff --json enqueue --lane "$L" --delay-ms 3600000)
is "$(jget "$out" public_state)" "delayed" "--delay-ms makes it delayed"
printf 'from\nstdin' | ff enqueue --lane "$L-stdin" --payload-file - >"$TMP/id3"
is "$(sql "SELECT convert_from(input_payload, 'UTF8') FROM ff_execution WHERE ff_format_execution_id(partition_key, execution_id) = '$(cat "$TMP/id3")'")" \
    "$(printf 'from\nstdin')" "--payload-file - reads stdin"

ff enqueue --payload x >/dev/null 2>"$TMP/err"
is "$?" 2 "enqueue without --lane: exit 2 (usage)"
ff enqueue --lane "$L" --bogus 1 >/dev/null 2>&1
is "$?" 2 "unknown option: exit 2"
ff enqueue --lane "$L" --policy '[1]' >/dev/null 2>"$TMP/err"
is "$?" 1 "a policy the engine rejects: exit 1"
grep -q 'invalid_policy_json' "$TMP/err"
ok $? "the engine's error kind is shown"
ff --json enqueue --lane "$L" --cap 'a b' >/dev/null 2>"$TMP/err"
is "$?" 1 "bad capability: exit 1"
err=$(cat "$TMP/err")
is "$(jget "$err" error,kind)/$(jget "$err" error,sqlstate)/$(jget "$err" error,retryable)" "invalid_capabilities/YFV03/false" \
    "--json errors: kind, SQLSTATE, retryable on stderr"
ff --dsn "host=/nonexistent-dir port=1" ping >/dev/null 2>&1
is "$?" 3 "cannot connect: exit 3"

# --- claim, describe, complete ---------------------------------------------------
out=$(ff --json claim --lane "$L" --max 1)
is "$?" 0 "claim --json"
handle=$(jget "$out" 0,handle)
is "$(jget "$out" 0,execution_id)/$(jget "$out" 0,input_payload)/$(jget "$out" 0,attempt_index)/$(jget "$out" 0,lease_epoch)" \
    "$id/hello/0/1" "the oldest execution, its input, attempt 0, epoch 1"
out=$(ff --json describe "$id")
is "$(jget "$out" public_state)/$(jget "$out" lease,lease_epoch)/$(jget "$out" state_vector,ownership_state)" "active/1/leased" \
    "describe --json: active, the lease, the state vector"
ff describe "$id" | grep -q '^state  *active'
ok $? "describe (human)"
ff renew "$handle" | grep -q 'lease renewed until'
ok $? "renew"
ff progress "$handle" --percent 30 --message thirty >/dev/null
is "$(sql "SELECT progress_pct || progress_message FROM ff_execution WHERE ff_format_execution_id(partition_key, execution_id) = '$id'")" \
    "30thirty" "progress"
ff progress "$handle" --percent 130 >/dev/null 2>&1
is "$?" 1 "progress 130: exit 1"
ff complete "$handle" --result '{"done": true}' >/dev/null
is "$?" 0 "complete with a result"
out=$(ff result "$id")
is "$out" '{"done": true}' "ffctl result prints the raw result"
out=$(ff --json describe "$id")
is "$(jget "$out" public_state)/$(jget "$out" result)" 'completed/{"done": true}' "describe --json after completion, with the result"
ff complete "$handle" >/dev/null 2>"$TMP/err"
is "$?" 0 "complete again with the same handle: a replay, exit 0"
ff renew "$handle" >/dev/null 2>"$TMP/err"
is "$?" 5 "renew after completion: exit 5 (lease lost)"
grep -q 'execution_not_active' "$TMP/err"
ok $? "... execution_not_active"
ff describe '{fp:1}:00000000-0000-4000-8000-000000000000' >/dev/null 2>&1
is "$?" 4 "describe an unknown id: exit 4"
ff describe nope >/dev/null 2>&1
is "$?" 1 "describe a malformed id: exit 1"
ff complete zz >/dev/null 2>&1
is "$?" 2 "a handle that is not hex: exit 2"
ff claim --lane "empty-$SFX" >/dev/null 2>&1
is "$?" 6 "claim with nothing to claim: exit 6"

# --- fail, cancel, delay, stale ----------------------------------------------------
out=$(ff --json claim --lane "$L" --cap gpu --cap linux)
handle=$(jget "$out" 0,handle)
is "$(jget "$out" 0,execution_id)" "$id2" "claim with capabilities gets the gpu execution"
out=$(ff --json fail "$handle" --message boom --detail 'trace')
is "$(jget "$out" outcome)" "retry_scheduled" "fail -> retry scheduled (the policy allows 1 retry)"
ff fail "$handle" --message 'another message' >/dev/null 2>&1
is "$?" 5 "fail again with another message (not a replay): the lease is gone, exit 5"
out=$(ff --json claim --lane "$L" --cap gpu --cap linux)
handle=$(jget "$out" 0,handle)
is "$(jget "$out" 0,attempt_index)" 1 "the retry is attempt 1"
ff fail "$handle" --message boom --class sometimes >/dev/null 2>&1
is "$?" 1 "unknown classification: exit 1"
ff fail "$handle" --message 'bad data' --class permanent | grep -q 'failed (terminal)'
ok $? "fail --class permanent: terminal"

L2=cli2-$SFX
a=$(ff enqueue --lane "$L2" --payload a)
b=$(ff enqueue --lane "$L2" --payload b)
h=$(jget "$(ff --json claim --lane "$L2")" 0,handle)
ff cancel "$h" --reason 'not needed' >/dev/null
is "$(sql "SELECT public_state || '/' || cancellation_reason FROM ff_execution WHERE ff_format_execution_id(partition_key, execution_id) = '$a'")" \
    "cancelled/not needed" "cancel --reason"
h=$(jget "$(ff --json claim --lane "$L2" --lease-ttl-ms 1)" 0,handle)
sleep 0.05
ff complete "$h" >/dev/null 2>"$TMP/err"
is "$?" 5 "complete after a 1 ms lease ran out: exit 5"
grep -q 'lease_expired' "$TMP/err"
ok $? "... lease_expired"
ff reconcile lease-expiry | grep -q '^lease-expiry  *[1-9]'
ok $? "reconcile lease-expiry marks it"
h2=$(jget "$(ff --json claim --lane "$L2")" 0,handle)
ff complete "$h" >/dev/null 2>"$TMP/err"
is "$?" 5 "the old handle after a reclaim: exit 5"
grep -q 'stale_lease' "$TMP/err"
ok $? "... stale_lease"
ff delay "$h2" --ms 3600000 >/dev/null
is "$(sql "SELECT public_state FROM ff_execution WHERE ff_format_execution_id(partition_key, execution_id) = '$b'")" \
    "delayed" "delay --ms"
ff delay "$h2" >/dev/null 2>&1
is "$?" 2 "delay without --ms or --until: exit 2"

# --- reads ---------------------------------------------------------------------
ff list --lane "$L2" | grep -c '{fp:' | grep -qx 2
ok $? "list --lane shows the lane's executions"
out=$(ff --json list --lane "$L2")
is "$(sql "SELECT jsonb_array_length(\$j\$$out\$j\$::jsonb)")" 2 "list --json"
ff lanes --limit 1000 | grep -q "^$L2 "
ok $? "lanes"
ff tag set "$a" app.color blue && is "$(ff tag get "$a" app.color)" "blue" "tag set / get"
ff tag get "$a" app.size >/dev/null 2>&1
is "$?" 4 "tag get of a missing tag: exit 4"
ff tag set "$a" Bad x >/dev/null 2>&1
is "$?" 1 "tag set with a bad key: exit 1"
out=$(ff --json reconcile)
is "$(sql "SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(\$j\$$out\$j\$::jsonb) k")" \
    "attempt_timeout,delayed_promotion,execution_deadline,lease_expiry" "reconcile --json runs all four"
ff reconcile nonsense >/dev/null 2>&1
is "$?" 2 "reconcile of an unknown reconciler: exit 2"

# --- events ----------------------------------------------------------------------
cursor=$(sql "SELECT coalesce(max(event_id), 0) FROM ff_completion_event")
ff --json events --follow --after "$cursor" --lane "$L-ev" --count 2 --timeout-ms 15000 >"$TMP/follow" 2>"$TMP/follow.err" &
BGPID=$!
sleep 0.3
for p in one two; do
    ff enqueue --lane "$L-ev" --payload "$p" >/dev/null
done
ff worker --lane "$L-ev" --exec cat --drain >/dev/null 2>&1
wait "$BGPID"
rc=$?
BGPID=
is "$rc" 0 "events --follow --count 2: exit 0"
is "$(wc -l <"$TMP/follow" | tr -d ' ')" 2 "two JSON lines"
is "$(sql "SELECT string_agg(j ->> 'outcome', ',') FROM (SELECT unnest(string_to_array(\$j\$$(cat "$TMP/follow")\$j\$, E'\n'))::jsonb j) x")" \
    "success,success" "the two completions"
ff events --after "$cursor" --lane "$L-ev" | grep -c success | grep -qx 2
ok $? "events (no --follow) reads after the cursor"
ff events --lease --after 0 --limit 5 | grep -qE '^[0-9]+ .* (acquired|reclaimed|renewed|released|expired) '
ok $? "events --lease"
ff events --follow --after "$(sql "SELECT coalesce(max(event_id), 0) FROM ff_completion_event")" --lane none-$SFX \
    --count 1 --timeout-ms 300 >/dev/null 2>&1
is "$?" 6 "events --follow: --count not reached before --timeout-ms: exit 6"

# --- worker --exec -----------------------------------------------------------------
W=wrk-$SFX
for i in $(seq 1 12); do ff enqueue --lane "$W" --payload "item $i" >/dev/null; done
ff --json worker --lane "$W" --concurrency 4 --drain --exec 'tr a-z A-Z' >"$TMP/worker.out" 2>"$TMP/worker.err"
is "$?" 0 "worker --exec --drain: exit 0 when the lane is empty"
is "$(sql "SELECT count(*) FROM ff_execution WHERE lane_id = '$W' AND public_state = 'completed' AND convert_from(result, 'UTF8') = upper(convert_from(input_payload, 'UTF8'))")" \
    12 "12 jobs completed with the command's stdout as result"
is "$(grep -c '"outcome":"complete"' "$TMP/worker.out")" 12 "one JSON line per job"
grep -q '12 claimed, 12 completed' "$TMP/worker.err"
ok $? "summary on stderr"

W2=wrk2-$SFX
e1=$(ff enqueue --lane "$W2" --payload ok)
e2=$(ff enqueue --lane "$W2" --payload bad --policy '{"retry_policy": {"max_retries": 2, "backoff": {"type": "fixed", "delay_ms": 0}}}')
e3=$(ff enqueue --lane "$W2" --payload fatal --policy '{"retry_policy": {"max_retries": 2, "backoff": {"type": "fixed", "delay_ms": 0}}}')
ff worker --lane "$W2" --drain --permanent-exit 9 --exec '
    read -r p
    case "$p" in
        ok) printf "%s|%s|%s" "$FF_EXECUTION_ID" "$FF_ATTEMPT_INDEX" "$FF_LANE_ID"; "$FFCTL" progress "$FF_HANDLE" --percent 77 >/dev/null ;;
        bad) echo "bad input" >&2; exit 3 ;;
        fatal) exit 9 ;;
    esac' >"$TMP/w2.out" 2>"$TMP/w2.err"
is "$?" 0 "worker with failing commands: exit 0"
is "$(ff result "$e1")" "$e1|0|$W2" "the command sees FF_EXECUTION_ID, FF_ATTEMPT_INDEX, FF_LANE_ID"
is "$(sql "SELECT progress_pct FROM ff_execution WHERE ff_format_execution_id(partition_key, execution_id) = '$e1'")" 77 \
    "the command reported progress with ffctl progress \$FF_HANDLE"
is "$(sql "SELECT public_state || '/' || total_attempt_count || '/' || last_failure_message FROM ff_execution WHERE ff_format_execution_id(partition_key, execution_id) = '$e2'")" \
    "failed/3/command exited with status 3" "exit 3: transient, retried twice, then failed"
is "$(sql "SELECT public_state || '/' || total_attempt_count || '/' || last_failure_category FROM ff_execution WHERE ff_format_execution_id(partition_key, execution_id) = '$e3'")" \
    "failed/1/permanent" "--permanent-exit 9: failed without retry"
grep -q 'bad input' "$TMP/w2.err"
ok $? "the command's stderr passes through"

W3=wrk3-$SFX
e4=$(ff enqueue --lane "$W3" --payload slow)
"$FFCTL" worker --lane "$W3" --exec 'sleep 1; cat' >"$TMP/w3.out" 2>&1 &
BGPID=$!
wait_for "(SELECT public_state = 'active' FROM ff_execution WHERE ff_format_execution_id(partition_key, execution_id) = '$e4')" 10
ok $? "a background worker is running the job"
kill -TERM "$BGPID"
wait "$BGPID"
rc=$?
BGPID=
is "$rc" 0 "SIGTERM: the worker exits 0 ..."
is "$(ff result "$e4")" "slow" "... after finishing the running command"

W4=wrk4-$SFX
ff enqueue --lane "$W4" --payload x >/dev/null
ff enqueue --lane "$W4" --payload y >/dev/null
ff worker --lane "$W4" --max-jobs 1 --exec cat >/dev/null 2>&1
is "$(sql "SELECT count(*) FILTER (WHERE public_state = 'completed') || '/' || count(*) FILTER (WHERE public_state = 'waiting') FROM ff_execution WHERE lane_id = '$W4'")" \
    "1/1" "--max-jobs 1 runs one job"
ff worker --lane "$W4" --exec cat --cap 'a b' >/dev/null 2>&1
is "$?" 1 "worker with a bad capability: stops, exit 1"

# --- memcheck of ffctl itself ----------------------------------------------------
if command -v valgrind >/dev/null 2>&1; then
    VG=(valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible
        --errors-for-leak-kinds=definite,indirect,possible)
    "${VG[@]}" "$FFCTL" --json describe "$e1" >/dev/null 2>"$TMP/vg1"
    is "$?" 0 "valgrind: ffctl describe --json, no errors or leaks"
    [ -s "$TMP/vg1" ] && sed 's/^/#   /' "$TMP/vg1" | head -n 40
    ff enqueue --lane "$W4-vg" --payload v >/dev/null
    "${VG[@]}" "$FFCTL" worker --lane "$W4-vg" --concurrency 2 --drain --exec cat >/dev/null 2>"$TMP/vg2"
    is "$?" 0 "valgrind: ffctl worker --exec, no errors or leaks"
    grep -v '^ffctl worker:' "$TMP/vg2" | sed 's/^/#   /' | head -n 40
fi

echo "1..$T"
[ "$FAILS" -eq 0 ]

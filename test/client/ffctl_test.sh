#!/usr/bin/env bash
# test/client/ffctl_test.sh - ffctl driven as a user would, against the
# database in PGDATABASE (run by test/suites/client.sh). Prints TAP.
#
# Environment: FFCTL (the binary), PG* (connection), optional PG_BINDIR.
set -u

FFCTL=${FFCTL:-$(pwd)/client/bin/ffctl}
export FFCTL
PSQL=${PG_BINDIR:+$PG_BINDIR/}psql
SFX=$$
TMP=$(mktemp -d /tmp/ffctl-test.XXXXXX)
trap 'rm -rf "$TMP"; [ -n "${BGPID:-}" ] && kill "$BGPID" 2>/dev/null' EXIT

. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

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
    "attempt_timeout,delayed_promotion,event_retention,execution_deadline,lease_expiry,retention" \
    "reconcile --json runs all six (the retentions too)"
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

# --- suspension, waitpoints and signals (cmd_suspend.c) -------------------------
# (test_suspend ran before in the same database: the keystore has an active kid)
out=$(ff --json hmac list)
kid=$(sql "SELECT e ->> 'kid' FROM jsonb_array_elements(\$j\$$out\$j\$::jsonb) e WHERE (e ->> 'active')::boolean")
ok $([ -n "$kid" ] && echo 0 || echo 1) "hmac list --json shows the active kid ($kid)"
ff hmac seed "seed2-$SFX" --generate >/dev/null 2>"$TMP/err"
is "$?" 1 "hmac seed of a second kid: exit 1 (rotate instead)"
ff hmac seed "k-$SFX" >/dev/null 2>&1
is "$?" 2 "hmac seed without a secret: exit 2"
ff --json hmac rotate "k-$SFX" --secret-hex abc >/dev/null 2>"$TMP/err"
is "$?/$(jget "$(cat "$TMP/err")" error,kind)" "1/invalid_secret_hex" "hmac rotate with a bad secret: invalid_secret_hex"
out=$(ff --json hmac rotate "k-$SFX" --generate --grace-ms 3600000)
is "$(jget "$out" outcome)/$(jget "$out" previous_kid)/$(jget "$out" current_kid)" "rotated/$kid/k-$SFX" \
    "hmac rotate --generate: the new kid is active"
ff hmac list | grep -q "^k-$SFX  *active"
ok $? "hmac list (human)"
sql "SELECT count(*) FROM ff_waitpoint_hmac WHERE kid = 'k-$SFX' AND length(secret) = 32" | grep -qx 1
ok $? "... with a generated 256-bit secret"

S=susp-$SFX
sid=$(ff enqueue --lane "$S" --payload order)
h=$(jget "$(ff --json claim --lane "$S")" 0,handle)
ff suspend "$h" >/dev/null 2>&1
is "$?" 2 "suspend without waitpoints: exit 2"
ff suspend "$h" --waitpoint wpk:x --condition '{"Single": {"waitpoint_key": "wpk:y"}}' >/dev/null 2>"$TMP/err"
is "$?" 1 "suspend with a condition on another key: exit 1"
grep -q 'waitpoint_key_mismatch' "$TMP/err"
ok $? "... the rule is named"
out=$(ff --json suspend "$h" --waitpoint wpk:approval \
    --condition '{"Single": {"waitpoint_key": "wpk:approval", "matcher": {"ByName": "approved"}}}' \
    --reason waiting_for_approval --timeout-ms 3600000 --on-timeout cancel --idempotency-key s1)
is "$(jget "$out" outcome)/$(jget "$out" waitpoints,0,waitpoint_key)/$(jget "$out" handle)" \
    "suspended/wpk:approval/$h" "suspend --json: suspended, the waitpoint, the handle"
wp=$(jget "$out" waitpoints,0,waitpoint_id)
tok=$(jget "$out" waitpoints,0,waitpoint_token)
is "${tok%%:*}" "k-$SFX" "the token is signed by the active kid"
out2=$(ff --json suspend "$h" --waitpoint wpk:approval --idempotency-key s1)
is "$(jget "$out2" waitpoints,0,waitpoint_token)" "$tok" "suspend again with the same key: the first result"
ff suspend "$h" --waitpoint wpk:other >/dev/null 2>"$TMP/err"
is "$?" 1 "suspend again without the key: exit 1"
grep -q 'already_suspended' "$TMP/err"
ok $? "... already_suspended"
is "$(jget "$(ff --json describe "$sid")" public_state)" "suspended" "describe: suspended"
ff suspended --lane "$S" | grep -q "^$sid  *waiting_for_approval"
ok $? "suspended --lane lists it with its reason"
out=$(ff --json suspended --partition "$(sql "SELECT ff_execution_partition('$sid')")" --limit 1000)
is "$(sql "SELECT e ->> 'reason' FROM jsonb_array_elements(\$j\$$out\$j\$::jsonb) e WHERE e ->> 'execution_id' = '$sid'")" \
    "waiting_for_approval" "suspended --partition --json"
out=$(ff --json waitpoints "$sid")
is "$(jget "$out" 0,waitpoint_id)/$(jget "$out" 0,state)/$(jget "$out" 0,required_signal_names,0)/$(jget "$out" 0,token_kid)" \
    "$wp/active/approved/k-$SFX" "waitpoints --json: active, requires approved, token kid"
is "$(jget "$out" 0,token_fingerprint)" "$(echo "${tok#*:}" | cut -c1-16)" "... the token redacted to its fingerprint"
is "$(ff waitpoint token "$sid" "$wp")" "$tok" "waitpoint token EXECUTION_ID WAITPOINT_ID"
ff waitpoint token "$sid" 00000000-0000-4000-8000-000000000001 >/dev/null 2>&1
is "$?" 4 "waitpoint token of an unknown waitpoint: exit 4"
ff waitpoint bogus >/dev/null 2>&1
is "$?" 2 "waitpoint with an unknown subcommand: exit 2"

# tamper with the last hex digit (always changing it)
case "$tok" in *0) bad_tok="${tok%?}1" ;; *) bad_tok="${tok%?}0" ;; esac
ff --json signal --execution "$sid" --waitpoint "$wp" --token "$bad_tok" --name approved >/dev/null 2>"$TMP/err"
is "$?/$(jget "$(cat "$TMP/err")" error,kind)/$(jget "$(cat "$TMP/err")" error,sqlstate)" "1/invalid_token/YFV08" \
    "signal with a tampered token: exit 1, invalid_token"
ff --json signal --execution "$sid" --waitpoint "$wp" --token "nokid-$SFX:${tok#*:}" --name approved >/dev/null 2>"$TMP/err"
is "$(jget "$(cat "$TMP/err")" error,kind)" "invalid_kid" "signal with an unknown kid: invalid_kid"
ff signal --execution "$sid" --waitpoint "$wp" --name approved >/dev/null 2>&1
is "$?" 2 "signal without a token: exit 2"
out=$(ff --json signal --execution "$sid" --waitpoint "$wp" --token "$tok" --name nope)
is "$(jget "$out" result)/$(jget "$out" effect)/$(jget "$out" public_state)" "accepted/signal_ignored_matcher_failed/suspended" \
    "signal with another name: accepted, ignored, still suspended"

cursor=$(sql "SELECT coalesce(max(event_id), 0) FROM ff_signal_event")
ff --json signals --follow --after "$cursor" --execution "$sid" --count 1 --timeout-ms 15000 >"$TMP/sig" 2>"$TMP/sig.err" &
BGPID=$!
sleep 0.3
printf 'the approval' >"$TMP/payload"
echo "$tok" | ff signal --execution "$sid" --waitpoint "$wp" --token-file - --name approved \
    --payload-file "$TMP/payload" --idempotency-key approval-$SFX >"$TMP/out"
is "$?" 0 "signal --token-file - --payload-file: exit 0"
grep -q '^accepted: resume_condition_satisfied .*execution waiting' "$TMP/out"
ok $? "... resume_condition_satisfied, the execution is waiting"
wait "$BGPID"
rc=$?
BGPID=
is "$rc/$(jget "$(cat "$TMP/sig")" effect)/$(jget "$(cat "$TMP/sig")" signal_name)" "0/resume_condition_satisfied/approved" \
    "signals --follow saw the satisfying signal"
out=$(ff --json signal --execution "$sid" --waitpoint "$wp" --token "$tok" --name approved --idempotency-key approval-$SFX)
is "$(jget "$out" result)" "duplicate" "the same signal again: duplicate"
ff signal --execution "$sid" --waitpoint "$wp" --token "$tok" --name approved >/dev/null 2>"$TMP/err"
grep -q 'waitpoint_closed' "$TMP/err"
ok $? "a new signal after the resume: waitpoint_closed"
ff signals --after "$cursor" --execution "$sid" | grep -c 'approved\|nope' | grep -qx 1
ok $? "signals (no --follow) reads after the cursor"
ff suspended --lane "$S" | grep -q "$sid"
ok $(( ! $? )) "no longer listed as suspended"

ff claim-resumed "$sid" --lane "wrong-$SFX" >/dev/null 2>&1
is "$?" 1 "claim-resumed on the wrong lane: exit 1"
out=$(ff --json claim-resumed "$sid" --lane "$S")
h2=$(jget "$out" handle)
is "$(jget "$out" attempt_index)/$(jget "$out" lease_epoch)/$(jget "$out" input_payload)" "0/2/order" \
    "claim-resumed: the same attempt, the next epoch, the input"
out=$(ff --json observe "$h2")
is "$(jget "$out" 0,signal_name)/$(jget "$out" 0,payload)/$(sql "SELECT jsonb_array_length(\$j\$$out\$j\$::jsonb)")" \
    "approved/the approval/1" "observe: the satisfier with its payload"
is "$(sql "SELECT jsonb_array_length(\$j\$$(ff --json observe --all "$h2")\$j\$::jsonb)")" 2 "observe --all: both signals"
ff observe "$h2" | grep -q 'approved signal source=external/- waitpoint=wpk:approval payload=the approval'
ok $? "observe (human)"
ff complete "$h" >/dev/null 2>&1
is "$?" 5 "the handle from before the suspension: exit 5 (stale)"
ff complete "$h2" --result shipped >/dev/null
is "$(ff result "$sid")" "shipped" "the resumed attempt completes"
ff resume "$sid" >/dev/null 2>"$TMP/err"
is "$?" 1 "resume of a completed execution: exit 1"
grep -q 'execution_not_suspended' "$TMP/err"
ok $? "... execution_not_suspended"

# by lease triple; operator resume; approvals
t1=$(ff enqueue --lane "$S-2")
ff claim --lane "$S-2" >/dev/null
d=$(ff --json describe "$t1")
out=$(ff --json suspend --execution "$t1" --lease-id "$(jget "$d" lease,lease_id)" --lease-epoch 1 \
    --attempt-index 0 --waitpoint wpk:t --condition '"OperatorOnly"')
is "$(jget "$out" outcome)" "suspended" "suspend --execution --lease-id --lease-epoch (lease triple)"
ff suspend --execution "$t1" --lease-id "$(jget "$d" lease,lease_id)" --lease-epoch 9 --waitpoint wpk:u >/dev/null 2>&1
is "$?" 5 "suspend by triple with a wrong epoch: exit 5 (stale_lease)"
is "$(ff resume "$t1" --delay-ms 3600000)" "resumed: delayed" "resume --delay-ms (operator)"
ff claim-resumed "$t1" --lane "$S-2" >/dev/null 2>"$TMP/err"
grep -q 'execution_not_leaseable' "$TMP/err"
ok $? "claim-resumed during the resume delay: execution_not_leaseable"

t2=$(ff enqueue --lane "$S-3")
h3=$(jget "$(ff --json claim --lane "$S-3")" 0,handle)
out=$(ff --json suspend "$h3" --waitpoint wpk:ok \
    --condition '{"Single": {"waitpoint_key": "wpk:ok", "matcher": {"ByName": "approved"}}}')
wp3=$(jget "$out" waitpoints,0,waitpoint_id)
out=$(ff --json approve "$t2" --lane "$S-3" --waitpoint "$wp3" --reject)
is "$(jget "$out" effect)" "signal_ignored_matcher_failed" "approve --reject: not what the condition waits for"
out=$(ff --json approve "$t2" --lane "$S-3" --waitpoint "$wp3")
is "$(jget "$out" effect)/$(jget "$out" public_state)" "resume_condition_satisfied/waiting" "approve: resumes it"
is "$(jget "$(ff --json approve "$t2" --lane "$S-3" --waitpoint "$wp3")" result)" "duplicate" \
    "approve again (same waitpoint): duplicate"
ff approve "$t2" --lane "wrong-$SFX" --waitpoint "$wp3" --suffix 2 >/dev/null 2>"$TMP/err"
grep -q 'lane_mismatch' "$TMP/err"
ok $? "approve with the wrong lane: lane_mismatch"

# pending waitpoints
t3=$(ff enqueue --lane "$S-4")
h4=$(jget "$(ff --json claim --lane "$S-4")" 0,handle)
out=$(ff --json waitpoint create "$h4" --key wpk:early --expires-ms 600000)
wp4=$(jget "$out" waitpoint_id)
tok4=$(jget "$out" waitpoint_token)
is "$(jget "$out" waitpoint_key)" "wpk:early" "waitpoint create --json"
out=$(ff --json signal --execution "$t3" --waitpoint "$wp4" --token "$tok4" --name early)
is "$(jget "$out" effect)/$(jget "$out" public_state)" "buffered_for_pending_waitpoint/active" \
    "a signal before the suspension is buffered"
wp5=$(ff waitpoint create "$h4" --expires-ms 600000 | awk '$1 == "waitpoint_id" {print $2}')
is "$(ff waitpoint close "$t3" "$wp5")/$(ff waitpoint close "$t3" "$wp5" --reason again)" "closed/already_closed" \
    "waitpoint close, twice"
ff waitpoint create "$h4" --expires-ms 0 >/dev/null 2>"$TMP/err"
is "$?" 1 "waitpoint create --expires-ms 0: exit 1 (the engine's range)"
out=$(ff --json suspend "$h4" --use-pending "$wp4")
is "$(jget "$out" outcome)/$(jget "$out" waitpoints,0,waitpoint_token)" "already_satisfied/$tok4" \
    "suspend --use-pending: already_satisfied by the buffered signal"
ff complete "$h4" >/dev/null
is "$?" 0 "... and the handle still completes"

out=$(ff --json suspension expire "$t3")
is "$(jget "$out" outcome)/$(jget "$out" public_state)" "not_suspended/completed" "suspension expire of a completed execution"
out=$(ff --json suspension reconcile)
is "$(sql "SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(\$j\$$out\$j\$::jsonb) k")" \
    "pending_waitpoint_expiry,suspension_timeout" "suspension reconcile --json runs both"
ff suspension reconcile nonsense >/dev/null 2>&1
is "$?" 2 "suspension reconcile of an unknown reconciler: exit 2"

if command -v valgrind >/dev/null 2>&1; then
    t5=$(ff enqueue --lane "$S-5")
    h5=$(jget "$(ff --json claim --lane "$S-5")" 0,handle)
    "${VG[@]}" "$FFCTL" --json suspend "$h5" --waitpoint wpk:a --waitpoint wpk:b >"$TMP/vgs" 2>"$TMP/vg3"
    is "$?" 0 "valgrind: ffctl suspend --json, no errors or leaks"
    [ -s "$TMP/vg3" ] && sed 's/^/#   /' "$TMP/vg3" | head -n 40
    out=$(cat "$TMP/vgs")
    "${VG[@]}" "$FFCTL" signal --execution "$t5" --waitpoint "$(jget "$out" waitpoints,1,waitpoint_id)" \
        --token "$(jget "$out" waitpoints,1,waitpoint_token)" --name b --payload x >/dev/null 2>"$TMP/vg4"
    is "$?" 0 "valgrind: ffctl signal, no errors or leaks"
    [ -s "$TMP/vg4" ] && sed 's/^/#   /' "$TMP/vg4" | head -n 40
    "${VG[@]}" "$FFCTL" --json waitpoints "$t5" >/dev/null 2>"$TMP/vg5"
    is "$?" 0 "valgrind: ffctl waitpoints --json, no errors or leaks"
    [ -s "$TMP/vg5" ] && sed 's/^/#   /' "$TMP/vg5" | head -n 40
fi

# --- flows: ffctl flow ..., ffctl wait-children ------------------------------------
FL=flow-$SFX
fstate() { sql "SELECT public_state FROM ff_execution WHERE ff_format_execution_id(partition_key, execution_id) = '$1'"; }
out=$(ff --json flow create --lane "$FL" --kind etl --namespace "ns-$SFX" --member a=input-a --member b \
    --member c --member d --edge a:b:from_a --edge a:c --edge b:d --edge c:d)
is "$?" 0 "flow create --json: a diamond in one transaction"
F=$(jget "$out" flow_id)
A=$(jget "$out" members,a); B=$(jget "$out" members,b); C=$(jget "$out" members,c); D=$(jget "$out" members,d)
is "$(jget "$out" created)/$(jget "$out" graph_revision)/$(sql "SELECT jsonb_array_length(\$j\$$out\$j\$::jsonb -> 'edges')")" \
    "true/8/4" "created, graph revision 8 (4 members + 4 edges), 4 edges"
is "$(sql "SELECT bool_and(ff_execution_partition(m) = ff_flow_partition('$F')) FROM unnest(ARRAY['$A','$B','$C','$D']) m")" \
    "t" "the members were minted on the flow's partition"
is "$(fstate "$A")/$(fstate "$B")/$(fstate "$C")/$(fstate "$D")" "waiting/waiting_children/waiting_children/waiting_children" \
    "only the root is claimable"
out=$(ff --json flow describe "$F")
is "$(jget "$out" public_flow_state)/$(jget "$out" flow_kind)/$(jget "$out" namespace)/$(jget "$out" node_count)/$(jget "$out" edge_count)" \
    "blocked/etl/ns-$SFX/4/4" "flow describe --json: derived state, kind, namespace, counts"
is "$(sql "SELECT string_agg(g ->> 'group_state' || ':' || (g ->> 'total_deps') || ':' || (g -> 'policy' ->> 'kind'), ',' ORDER BY g ->> 'total_deps') FROM jsonb_array_elements(\$j\$$out\$j\$::jsonb -> 'edge_groups') g")" \
    "pending:1:all_of,pending:1:all_of,pending:2:all_of" "... one edge group per downstream, typed"
ff flow describe "$F" | grep -q '^state  *blocked'
ok $? "flow describe (human)"
out=$(ff --json flow edges "$F" "$A" --outgoing)
is "$(sql "SELECT count(*) || ':' || bool_and(e ->> 'direction' = 'outgoing' AND e ->> 'edge_state' = 'applied') FROM jsonb_array_elements(\$j\$$out\$j\$::jsonb) e")" \
    "2:true" "flow edges --outgoing: two applied edges out of a"
is "$(jget "$(ff --json flow edges "$F" "$B")" 0,data_passing_ref)" "from_a" "flow edges: b's incoming edge carries the data ref"
ff flow list --flow "$F" | grep -q "^$F  *active  *blocked"
ok $? "flow list --flow: the flow's partition, the flow active / blocked"
out=$(ff --json flow list --partition "$(sql "SELECT ff_flow_partition('$F')")" --all)
is "$(sql "SELECT count(*) FROM jsonb_array_elements(\$j\$$out\$j\$::jsonb) f WHERE f ->> 'flow_id' = '$F'")" 1 \
    "flow list --partition --json"
h=$(jget "$(ff --json claim --lane "$FL")" 0,handle)
ff complete "$h" --result ra >/dev/null
is "$(fstate "$B")/$(fstate "$C")/$(fstate "$D")" "waiting/waiting/waiting_children" \
    "completing a makes b and c claimable at once"
is "$(sql "SELECT convert_from(input_payload, 'UTF8') FROM ff_execution WHERE ff_format_execution_id(partition_key, execution_id) = '$B'")" \
    "ra" "b's input is a's result (--edge a:b:from_a)"
ff worker --lane "$FL" --drain --exec cat >/dev/null 2>&1
out=$(ff --json flow summary "$F")
is "$(jget "$out" public_flow_state)/$(jget "$out" total_members)/$(jget "$out" members,completed)" "completed/4/4" \
    "after a worker drained the lane: flow summary --json completed 4/4"
ff flow summary "$F" | grep -q '^completed  *4'
ok $? "flow summary (human)"

out=$(ff --json flow create --lane "$FL-fail" --member r=boom --member s --member t --edge r:s --edge s:t)
F1=$(jget "$out" flow_id)
ff worker --lane "$FL-fail" --drain --permanent-exit 3 --exec 'exit 3' >/dev/null 2>&1
is "$(fstate "$(jget "$out" members,r)")/$(fstate "$(jget "$out" members,s)")/$(fstate "$(jget "$out" members,t)")/$(jget "$(ff --json flow describe "$F1")" public_flow_state)" \
    "failed/skipped/skipped/failed" "a failed root skips every descendant; the flow is failed"

F2=$(ff flow create --kind pieces)
ok $? "flow create prints the flow id"
ff flow add "$F2" --lane "$FL-3" --count 3 >"$TMP/members"
is "$(wc -l <"$TMP/members" | tr -d ' ')" 3 "flow add --lane --count 3 creates three members"
X=$(sed -n 1p "$TMP/members"); Y=$(sed -n 2p "$TMP/members"); Z=$(sed -n 3p "$TMP/members")
out=$(ff --json flow add "$F2" "$X")
is "$(jget "$out" members,0,added)/$(jget "$out" node_count)" "false/3" "flow add of a member again: added false"
is "$(ff flow policy "$F2" "$Z" any_of:let_run)" "set" "flow policy any_of:let_run"
is "$(ff flow policy "$F2" "$Z" any_of:let_run)" "already set" "... again: already set"
ff flow policy "$F2" "$Z" most_of >/dev/null 2>&1
is "$?" 2 "flow policy with an unknown policy: exit 2"
ff --json flow policy "$F2" "$Z" quorum:0 >/dev/null 2>"$TMP/err"
is "$?/$(jget "$(cat "$TMP/err")" error,kind)" "1/invalid_input" "flow policy quorum:0: the engine's invalid_input"
out=$(ff --json flow edge "$F2" "$X" "$Z")
E=$(jget "$out" edge_id)
is "$(jget "$out" new_graph_revision)/$(jget "$out" applied)/$(fstate "$Z")" "4/false/waiting" \
    "flow edge (current revision): staged, not applied, z still claimable"
is "$(ff flow apply "$F2" "$E" "$Z" --upstream "$X")" "applied (1 unsatisfied)" "flow apply"
is "$(jget "$(ff --json flow apply "$F2" "$E" "$Z")" outcome)" "already_applied" "flow apply again: already_applied"
out=$(ff --json flow edge "$F2" "$Y" "$Z" --apply --data-ref y)
is "$(jget "$out" applied)/$(jget "$out" unsatisfied_count)/$(fstate "$Z")" "true/2/waiting_children" \
    "flow edge --apply: staged and applied in one step, z blocked"
ff --json flow edge "$F2" "$Z" "$X" >/dev/null 2>"$TMP/err"
rc=$?
err=$(cat "$TMP/err")
is "$rc/$(jget "$err" error,kind)/$(jget "$err" error,sqlstate)" "1/cycle_detected/YFK02" "flow edge closing a cycle: cycle_detected"
ff flow edge "$F2" "$X" "$X" >/dev/null 2>"$TMP/err"
is "$?" 1 "flow edge x -> x: exit 1"
grep -q 'self_referencing_edge' "$TMP/err"
ok $? "... self_referencing_edge"
ff --json flow edge "$F2" "$X" "$Y" --revision 1 >/dev/null 2>"$TMP/err"
rc=$?
err=$(cat "$TMP/err")
is "$rc/$(jget "$err" error,kind)/$(jget "$err" error,retryable)" "1/stale_graph_revision/true" \
    "flow edge --revision 1: stale_graph_revision, retryable"
ff --json flow edge "$F2" "$X" "$Y" --id "$E" >/dev/null 2>"$TMP/err"
is "$(jget "$(cat "$TMP/err")" error,kind)" "dependency_already_exists" "flow edge --id of an existing edge"
U=$(sql "SELECT gen_random_uuid()")
ff flow describe "$U" >/dev/null 2>&1
is "$?" 4 "flow describe of an unknown flow: exit 4"
ff flow add "$U" "$X" >/dev/null 2>"$TMP/err"
is "$?" 4 "flow add to an unknown flow: exit 4 (flow_not_found)"
ff flow add "$F2" "$A" >/dev/null 2>&1
is "$?" 1 "flow add of another flow's member: exit 1"
ff flow describe not-a-uuid >/dev/null 2>&1
is "$?" 1 "flow describe of a malformed id: exit 1"
ff flow create --member a >/dev/null 2>&1
is "$?" 2 "flow create --member without --lane: exit 2"
ff flow create --lane "$FL" --member a --edge a:zz >/dev/null 2>&1
is "$?" 2 "flow create --edge naming an unknown member: exit 2"
ff flow frobnicate >/dev/null 2>&1
is "$?" 2 "flow with an unknown verb: exit 2"
ff flow edge --help | grep -q 'ffctl flow edge FLOW_ID UPSTREAM DOWNSTREAM'
ok $? "flow VERB --help shows the flow usage"
is "$(ff flow eligibility "$Z")" "blocked_by_dependencies flow=$F2" "flow eligibility of a blocked member"
ff flow eligibility '{fp:1}:00000000-0000-4000-8000-000000000000' >/dev/null 2>&1
is "$?" 4 "flow eligibility of an unknown execution: exit 4"
ff flow tag set "$F2" app.owner ada && is "$(ff flow tag get "$F2" app.owner)" "ada" "flow tag set / get"
ff flow tag get "$F2" app.none >/dev/null 2>&1
is "$?" 4 "flow tag get of a missing tag: exit 4"

P=$(ff flow add "$F2" --lane "$FL-4")
hp=$(jget "$(ff --json claim --lane "$FL-4")" 0,handle)
CH=$(ff flow add "$F2" --lane "$FL-4" --payload child)
ff flow edge "$F2" "$CH" "$P" --apply >/dev/null 2>&1
is "$(ff wait-children "$hp")" "waiting_children" "wait-children: the parent gives up its lease for its child"
ff --json wait-children "$hp" >/dev/null 2>"$TMP/err"
is "$?/$(jget "$(cat "$TMP/err")" error,kind)" "5/execution_not_active" "wait-children again: the lease is gone, exit 5"
ff worker --lane "$FL-4" --drain --exec cat >/dev/null 2>&1
is "$(fstate "$P")/$(sql "SELECT total_attempt_count FROM ff_execution WHERE ff_format_execution_id(partition_key, execution_id) = '$P'")/$(fstate "$CH")" \
    "completed/1/completed" "the child ran, then the parent completed in the same attempt"
solo=$(ff enqueue --lane "$FL-5")
hs=$(jget "$(ff --json claim --lane "$FL-5")" 0,handle)
ff wait-children "$hs" >/dev/null 2>"$TMP/err"
is "$?" 1 "wait-children outside a flow: exit 1"
grep -q 'execution_not_in_flow' "$TMP/err"
ok $? "... execution_not_in_flow"
ff wait-children zz >/dev/null 2>&1
is "$?" 2 "wait-children with a handle that is not hex: exit 2"

out=$(ff --json flow create --lane "$FL-6" --member m1 --member m2 --member m3 --edge m2:m3)
F4=$(jget "$out" flow_id)
M1=$(jget "$out" members,m1); M2=$(jget "$out" members,m2); M3=$(jget "$out" members,m3)
h1=$(jget "$(ff --json claim --lane "$FL-6")" 0,handle)
out=$(ff --json flow cancel "$F4" --policy cancel_pending --reason cli-test)
is "$(jget "$out" outcome)/$(jget "$out" cancellation_policy)/$(sql "SELECT string_agg(m, ',' ORDER BY m) FROM jsonb_array_elements_text(\$j\$$out\$j\$::jsonb -> 'member_execution_ids') m")" \
    "cancelled/cancel_pending/$(printf '%s\n' "$M2" "$M3" | LC_ALL=C sort | paste -sd,)" \
    "flow cancel --policy cancel_pending: the waiting and the blocked member"
is "$(fstate "$M1")" "active" "... the running member runs on"
ff flow cancel "$F4" | grep -q '^cancelled (cancel_all): 1 member(s) cancelled'
ok $? "flow cancel (cancel_all) cancels the running member"
ff complete "$h1" >/dev/null 2>&1
is "$?" 5 "its worker's complete: exit 5"
is "$(jget "$(ff --json flow describe "$F4")" public_flow_state)" "cancelled" "the flow is cancelled"
ff flow cancel "$F4" --wait-ms 0 >/dev/null 2>"$TMP/err"
is "$?" 1 "flow cancel --wait-ms 0: exit 1"
grep -q 'invalid_input' "$TMP/err"
ok $? "... invalid_input"
ff flow cancel "$F4" --policy nope >/dev/null 2>&1
is "$?" 2 "flow cancel --policy nope: exit 2"
ff flow cancel "$U" >/dev/null 2>&1
is "$?" 4 "flow cancel of an unknown flow: exit 4"
out=$(ff --json flow reconcile)
is "$(sql "SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(\$j\$$out\$j\$::jsonb) k")" \
    "cancel_backlog,dependencies,sibling_cancel" "flow reconcile --json runs all three"
ff flow reconcile nonsense >/dev/null 2>&1
is "$?" 2 "flow reconcile of an unknown reconciler: exit 2"
ff flow reconcile dependencies --batch 100001 >/dev/null 2>&1
is "$?" 1 "flow reconcile --batch 100001: the engine rejects it, exit 1"

if command -v valgrind >/dev/null 2>&1; then
    VGF=(valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible
        --errors-for-leak-kinds=definite,indirect,possible)
    "${VGF[@]}" "$FFCTL" --json flow create --lane "$FL-vg" --member a --member b --edge a:b --group b=any_of \
        >"$TMP/vgf" 2>"$TMP/vgf1"
    is "$?" 0 "valgrind: ffctl flow create --json with members, no errors or leaks"
    [ -s "$TMP/vgf1" ] && sed 's/^/#   /' "$TMP/vgf1" | head -n 40
    "${VGF[@]}" "$FFCTL" --json flow describe "$(jget "$(cat "$TMP/vgf")" flow_id)" >/dev/null 2>"$TMP/vgf2"
    is "$?" 0 "valgrind: ffctl flow describe --json, no errors or leaks"
    [ -s "$TMP/vgf2" ] && sed 's/^/#   /' "$TMP/vgf2" | head -n 40
    "${VGF[@]}" "$FFCTL" --json flow cancel "$(jget "$(cat "$TMP/vgf")" flow_id)" >/dev/null 2>"$TMP/vgf3"
    is "$?" 0 "valgrind: ffctl flow cancel --json, no errors or leaks"
    [ -s "$TMP/vgf3" ] && sed 's/^/#   /' "$TMP/vgf3" | head -n 40
fi
F5=$(ff flow create)
P5=$(ff flow add "$F5" --lane "$FL-7" --payload parent)
FLOW=$F5 ff worker --lane "$FL-7" --drain --exec '
    read -r p
    if [ "$p" != parent ]; then echo child-done; exit 0; fi
    if [ -n "$("$FFCTL" --json flow edges "$FLOW" "$FF_EXECUTION_ID" --incoming | tr -d "[]")" ]; then
        echo parent-done; exit 0
    fi
    ch=$("$FFCTL" flow add "$FLOW" --lane "$FF_LANE_ID" --payload child) &&
    "$FFCTL" flow edge "$FLOW" "$ch" "$FF_EXECUTION_ID" --apply 2>/dev/null &&
    "$FFCTL" wait-children "$FF_HANDLE" >/dev/null' >/dev/null 2>"$TMP/w7.err"
is "$?/$(ff result "$P5")/$(sql "SELECT total_attempt_count FROM ff_execution WHERE ff_format_execution_id(partition_key, execution_id) = '$P5'")" \
    "0/parent-done/1" "worker --exec: a command creates a child, waits for it, and runs again in the same attempt"
is "$(jget "$(ff --json flow summary "$F5")" members,completed)" 2 "... the child completed too"

echo "1..$T"
[ "$FAILS" -eq 0 ]

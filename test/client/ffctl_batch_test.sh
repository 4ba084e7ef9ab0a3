#!/usr/bin/env bash
# test/client/ffctl_batch_test.sh - ffctl enqueue --file (batched enqueue,
# client/ffctl/cmd_batch.c) against the database in PGDATABASE (run by
# test/suites/client.sh). Prints TAP.
#
# Environment: FFCTL (the binary), PG* (connection), optional PG_BINDIR.
set -u

FFCTL=${FFCTL:-$(pwd)/client/bin/ffctl}
PSQL=${PG_BINDIR:+$PG_BINDIR/}psql
SFX=$$
TMP=$(mktemp -d /tmp/ffctl-batch-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

L=jl-$SFX
cat >"$TMP/jobs.jsonl" <<'EOF'
{"payload": "hello"}
{"payload": {"to": "ada", "n": [1, 2]}, "priority": 5, "tags": {"app.owner": "me"}}

{"payload_hex": "00ff10", "idempotency_key": "k1"}
{"payload": "dup", "idempotency_key": "k1"}
{"lane": "LANE2", "payload": "x\u00e9\ud83d\ude00", "delay_ms": 60000}
{"payload": "again", "caps": ["gpu"]}
EOF
sed -i "s/LANE2/$L-other/" "$TMP/jobs.jsonl"

out=$("$FFCTL" enqueue --file "$TMP/jobs.jsonl" --lane "$L" 2>"$TMP/err")
is "$?" 0 "enqueue --file: exit status 0"
is "$(echo "$out" | wc -l)" 6 "one output line per non-blank input line"
is "$(echo "$out" | sed -n 3p)" "$(echo "$out" | sed -n 4p)" "a repeated idempotency key gets the first line's execution"
is "$(grep -c 'line 5 not created' "$TMP/err")" 1 "... and is reported on stderr with its line number"
is "$(sql "SELECT count(*) FROM ff_execution WHERE lane_id IN ('$L', '$L-other')")" 5 "five executions created"
is "$(sql "SELECT string_agg(encode(input_payload, 'hex') || ':' || priority || ':' || tags::text || ':' || public_state, ' ' ORDER BY encode(input_payload, 'hex')) FROM ff_execution WHERE lane_id = '$L'")" \
    "00ff10:0:{}:waiting 616761696e:0:{}:waiting 68656c6c6f:0:{}:waiting 7b22746f223a2022616461222c20226e223a205b312c20325d7d:5:{\"app.owner\": \"me\"}:waiting" \
    "payloads (string bytes, JSON text, hex), priorities and tags arrive as written"
is "$(sql "SELECT required_capabilities::text FROM ff_execution WHERE lane_id = '$L' AND input_payload = 'again'")" "{gpu}" \
    "caps per line"
is "$(sql "SELECT encode(input_payload, 'hex') || ':' || public_state FROM ff_execution WHERE lane_id = '$L-other'")" \
    "78c3a9f09f9880:delayed" "a line's own lane, \\u escapes (with a surrogate pair) as UTF-8, delay_ms"

json=$("$FFCTL" --json enqueue --file - --lane "$L-json" <"$TMP/jobs.jsonl" 2>/dev/null)
is "$(echo "$json" | sed -n 4p | sed 's/"execution_id":"[^"]*"/ID/')" '{"line":5,ID,"public_state":"waiting","created":false}' \
    "--json: one object per line with the input line number"

printf '{"payload": 1, "bogus": 2}\n' >"$TMP/bad.jsonl"
"$FFCTL" enqueue --file "$TMP/bad.jsonl" --lane "$L-bad" 2>"$TMP/err" >/dev/null
is "$?" 2 "an unknown key: exit status 2"
is "$(grep -c 'line 1: unknown key' "$TMP/err")" 1 "... naming the line"
printf '{"payload": "a"}\n{"payload": "b"\n' >"$TMP/bad.jsonl"
"$FFCTL" enqueue --file "$TMP/bad.jsonl" --lane "$L-bad" 2>/dev/null >/dev/null
is "$?" 2 "malformed JSON: exit status 2"
is "$(sql "SELECT count(*) FROM ff_execution WHERE lane_id = '$L-bad'")" 0 "nothing is sent when a line does not parse"
printf '{"payload": "a"}\n{"payload": "b", "id": "bad"}\n' >"$TMP/bad.jsonl"
"$FFCTL" enqueue --file "$TMP/bad.jsonl" --lane "$L-bad" 2>"$TMP/err" >/dev/null
is "$?" 1 "a batch the engine rejects: exit status 1"
is "$(grep -c 'lines 1-2): invalid_input' "$TMP/err")" 1 "... with the engine's error and the batch's lines"
is "$(sql "SELECT count(*) FROM ff_execution WHERE lane_id = '$L-bad'")" 0 "... and the rejected batch left nothing"

seq 1 2500 | sed 's/.*/{"payload": "&"}/' >"$TMP/many.jsonl"
n=$("$FFCTL" enqueue --file "$TMP/many.jsonl" --lane "$L-many" --batch 1000 | wc -l)
is "$n" 2500 "2500 lines in batches of 1000"
is "$(sql "SELECT count(*) FROM ff_execution WHERE lane_id = '$L-many'")" 2500 "... all created"
"$FFCTL" enqueue --file "$TMP/many.jsonl" --lane "$L-many" --payload x >/dev/null 2>&1
is "$?" 2 "--payload with --file: usage error"

echo "1..$T"

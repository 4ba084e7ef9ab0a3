#!/usr/bin/env bash
# `make demo`, part 2 (run by scripts/demo.sh after demo.sql, with PGHOST,
# PGPORT, PGUSER and PGDATABASE pointing at the demo database): workers end to
# end with the C client - ffctl, then the 30-line C worker of
# client/examples/worker.c that the README shows.
set -euo pipefail

ROOT=${FF_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
cd "$ROOT"
make -s -C client PG_CONFIG="${PG_CONFIG:-pg_config}" >/dev/null
ffctl() { "$ROOT/client/bin/ffctl" "$@"; }
say() { printf '\n--- %s\n' "$*"; }

say "ffctl enqueue: three jobs on lane 'thumbnails' (retry once, no backoff)"
cursor=$(ffctl --json events --after 0 --limit 10000 | tail -n 1 | sed -n 's/.*"event_id":\([0-9]*\).*/\1/p')
policy='{"retry_policy": {"max_retries": 1, "backoff": {"type": "fixed", "delay_ms": 0}}}'
for f in cat.jpg dog.png bird.gif; do
    id=$(ffctl enqueue --lane thumbnails --payload "$f" --policy "$policy")
    echo "$f -> $id"
    [ "$f" = bird.gif ] && bird=$id
done

say "ffctl worker --exec: one shell command per job (payload on stdin, result from stdout)"
echo "(bird.gif fails on its first attempt; the exit status decides complete or fail)"
ffctl worker --lane thumbnails --concurrency 2 --drain --exec '
    read -r file
    if [ "$file" = bird.gif ] && [ "$FF_ATTEMPT_INDEX" = 0 ]; then
        echo "flaky network while fetching $file" >&2
        exit 1
    fi
    echo "thumbnail-of-$file"'

say "ffctl describe $bird"
ffctl describe "$bird"

say "ffctl --json describe (for scripts)"
ffctl --json describe "$bird"

say "ffctl events: the completion outbox after the cursor we noted"
ffctl events --after "${cursor:-0}" --lane thumbnails

say "the C example (client/examples/worker.c) on lane 'greetings'"
for w in hello flowfabric; do ffctl enqueue --lane greetings --payload "$w" >/dev/null; done
"$ROOT/client/examples/worker"
echo "results:"
ffctl list --lane greetings

#!/usr/bin/env bash
# `make demo`: build and install the extension, start a private demo server
# (separate from the test server, so both can run at once), load the extension
# and run the end-to-end example in scripts/demo.sql.
#
# Hook: if scripts/demo-client.sh exists and is executable, it runs afterwards
# with PGHOST/PGPORT/PGUSER/PGDATABASE pointing at the demo database.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
exec </dev/null

export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
export FF_TEST_DIR=${FF_DEMO_DIR:-/tmp/flowfabric-demo}
export FF_TEST_PORT=${FF_DEMO_PORT:-54330}
export FF_TEST_DB=flowfabric_demo
export PSQL_PAGER='' PAGER=cat

./scripts/install-deps.sh
make PG_CONFIG="$PG_CONFIG" -j"$(nproc)"
make PG_CONFIG="$PG_CONFIG" install

# shellcheck source=scripts/pgcluster.sh
. "$ROOT/scripts/pgcluster.sh"
trap 'ff_cluster_stop >/dev/null 2>&1 || true' EXIT
trap 'exit 130' INT TERM
ff_cluster_start
eval "$(ff_cluster_env)"
BINDIR=$("$PG_CONFIG" --bindir)

"$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION flowfabric"
"$BINDIR/psql" -X -v ON_ERROR_STOP=1 -f scripts/demo.sql

# --- hook: client-side demo (e.g. a worker using client/ffctl), added later ---
if [ -x scripts/demo-client.sh ]; then
    echo "--- running scripts/demo-client.sh"
    export FF_ROOT=$ROOT PG_BINDIR=$BINDIR
    ./scripts/demo-client.sh
fi

echo "demo finished OK (server log: $FF_TEST_DIR/postgres.log)"

#!/usr/bin/env bash
# Private, throwaway PostgreSQL 15 cluster for tests and the demo.
#
#   scripts/pgcluster.sh start     wipe any previous cluster in $FF_TEST_DIR, initdb, start
#   scripts/pgcluster.sh stop      fast shutdown (no-op if not running)
#   scripts/pgcluster.sh env       print export lines; use: eval "$(scripts/pgcluster.sh env)"
#
# Can also be sourced; it then only defines the ff_cluster_* functions.
#
# Environment:
#   FF_TEST_DIR         base dir             (default /tmp/flowfabric-test)
#   FF_TEST_PORT        port                 (default 54329)
#   FF_TEST_DB          database to create   (default flowfabric_test)
#   FF_TEST_EXTRA_CONF  extra postgresql.conf lines, appended verbatim
#   PG_CONFIG           pg_config to use     (default /usr/lib/postgresql/15/bin/pg_config)
#
# The server refuses to run as root, so when invoked as root the cluster is
# owned and run by the `postgres` OS user. Unix socket only, trust auth: this
# is never meant to hold anything worth keeping.
set -euo pipefail

: "${FF_TEST_DIR:=/tmp/flowfabric-test}"
: "${FF_TEST_PORT:=54329}"
: "${FF_TEST_DB:=flowfabric_test}"
: "${FF_TEST_EXTRA_CONF:=}"
: "${PG_CONFIG:=/usr/lib/postgresql/15/bin/pg_config}"

ff_cluster_paths() {
    FF_BASE=$FF_TEST_DIR
    FF_DATA=$FF_BASE/data
    FF_SOCK=$FF_BASE/sock
    FF_LOG=$FF_BASE/postgres.log
    FF_BINDIR=$("$PG_CONFIG" --bindir)
}

# Run a command as the cluster owner.
ff_as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

ff_cluster_running() {
    ff_cluster_paths
    [ -f "$FF_DATA/PG_VERSION" ] &&
        ff_as_owner "$FF_BINDIR/pg_ctl" -D "$FF_DATA" status >/dev/null 2>&1
}

ff_cluster_stop() {
    ff_cluster_paths
    if ff_cluster_running; then
        ff_as_owner "$FF_BINDIR/pg_ctl" -D "$FF_DATA" -m fast -w -s stop >/dev/null 2>&1 || true
    fi
}

ff_cluster_env() {
    ff_cluster_paths
    printf 'export PGHOST=%q\n' "$FF_SOCK"
    printf 'export PGPORT=%q\n' "$FF_TEST_PORT"
    printf 'export PGUSER=%q\n' postgres
    printf 'export PGDATABASE=%q\n' "$FF_TEST_DB"
}

ff_cluster_start() {
    ff_cluster_paths
    ff_cluster_stop
    # Guard the rm -rf: only ever wipe a directory this script created.
    if [ -d "$FF_BASE" ] && [ -n "$(ls -A "$FF_BASE")" ] && [ ! -e "$FF_BASE/.flowfabric-cluster" ]; then
        echo "pgcluster: $FF_BASE exists and was not created by pgcluster.sh; refusing to wipe it" >&2
        return 1
    fi
    rm -rf "$FF_BASE"
    mkdir -p "$FF_BASE" "$FF_SOCK"
    : >"$FF_BASE/.flowfabric-cluster"
    # The owner must be able to reach the data dir through every parent.
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres:postgres "$FF_BASE" "$FF_SOCK"
        chmod 755 "$FF_BASE"
        if ! runuser -u postgres -- test -w "$FF_BASE"; then
            echo "pgcluster: $FF_BASE is not reachable by the postgres user (check parent dir permissions)" >&2
            return 1
        fi
    fi

    ff_as_owner "$FF_BINDIR/initdb" -D "$FF_DATA" -U postgres --auth=trust \
        --encoding=UTF8 --locale=C --no-sync >"$FF_BASE/initdb.log" 2>&1 || {
        echo "pgcluster: initdb failed:" >&2
        cat "$FF_BASE/initdb.log" >&2
        return 1
    }

    # fsync & co are off purely for test speed; crash safety of a throwaway
    # cluster is irrelevant.
    {
        echo
        echo "# --- flowfabric private test cluster ---"
        echo "listen_addresses = ''"
        echo "unix_socket_directories = '$FF_SOCK'"
        echo "port = $FF_TEST_PORT"
        echo "shared_preload_libraries = 'flowfabric'"
        # Tests move the clock per session and call the reconcilers themselves:
        # no background reconciler may act behind their back.
        echo "flowfabric.reconcilers = off"
        echo "max_connections = 100"
        echo "fsync = off"
        echo "synchronous_commit = off"
        echo "full_page_writes = off"
        echo "max_prepared_transactions = 10"
        echo "log_min_messages = warning"
        if [ -n "$FF_TEST_EXTRA_CONF" ]; then
            printf '%s\n' "$FF_TEST_EXTRA_CONF"
        fi
    } >>"$FF_DATA/postgresql.conf"

    # The log lives outside the data dir, so create it owned by the server user.
    : >"$FF_LOG"
    [ "$(id -u)" -ne 0 ] || chown postgres:postgres "$FF_LOG"

    if ! ff_as_owner "$FF_BINDIR/pg_ctl" -D "$FF_DATA" -l "$FF_LOG" -w -t 60 -s start </dev/null; then
        echo "pgcluster: server failed to start; last lines of $FF_LOG:" >&2
        tail -n 40 "$FF_LOG" >&2 || true
        return 1
    fi

    local psql=("$FF_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$FF_SOCK" -p "$FF_TEST_PORT" -U postgres -d postgres)
    # A `root` superuser lets the root shell connect as itself without -U.
    if [ "$("${psql[@]}" -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'root'")" != 1 ]; then
        "${psql[@]}" -c "CREATE ROLE root SUPERUSER LOGIN"
    fi
    if [ "$("${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = '$FF_TEST_DB'")" != 1 ]; then
        "${psql[@]}" -c "CREATE DATABASE \"$FF_TEST_DB\""
    fi
}

# CLI dispatch only when executed, not when sourced.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    case "${1:-}" in
        start) ff_cluster_start ;;
        stop) ff_cluster_stop ;;
        env) ff_cluster_env ;;
        status)
            if ff_cluster_running; then echo running; else echo stopped; exit 3; fi
            ;;
        *)
            echo "usage: $0 start|stop|env|status" >&2
            exit 2
            ;;
    esac
fi

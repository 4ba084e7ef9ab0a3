# test/client/tap.sh - the TAP helpers of the shell tests (sourced after
# PSQL is set): ok, is and sql; T counts the tests, FAILS the failures.
T=0
FAILS=0

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

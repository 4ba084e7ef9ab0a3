#!/usr/bin/env bash
# Install the Debian packages needed to build and test flowfabric.
#
#   scripts/install-deps.sh [extra-package...]
#
# Idempotent and quiet when everything is present, so `make test` can call it
# on every run. Extra package names (e.g. libipc-run-perl, only needed by the
# Perl TAP suite) are checked and installed together with the base set.
set -euo pipefail

PACKAGES=(
    postgresql-15
    postgresql-server-dev-15
    postgresql-15-pgtap
    libtap-parser-sourcehandler-pgtap-perl
    libpq-dev
    make
    gcc
    valgrind
    pkg-config
    "$@"
)

if ! command -v dpkg-query >/dev/null 2>&1; then
    # Not Debian: nothing we can install; carry on if the toolchain is there.
    if [ -x /usr/lib/postgresql/15/bin/pg_config ]; then
        echo "install-deps: dpkg-query not found; assuming dependencies are installed" >&2
        exit 0
    fi
    echo "install-deps: not a Debian system and PostgreSQL 15 not found; install: ${PACKAGES[*]}" >&2
    exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [ "$status" != "install ok installed" ]; then
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

echo "install-deps: missing packages: ${missing[*]}"

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "install-deps: need root (or sudo) to install packages" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update
# Install the whole set in one transaction so the server and server-dev
# packages come from the same minor release.
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${PACKAGES[@]}" </dev/null

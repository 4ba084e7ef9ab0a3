#!/usr/bin/env bash
# test/suites/torture.sh - the short crash-safety torture run inside make test
# (hook contract: test/suites/README.md): 4 worker processes, 300 executions,
# kill -9s, lease revocations and one PostgreSQL crash, on a private server
# of its own (the shared test server is not touched). test/torture/README.md.
ROOT=${FF_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
exec "$ROOT/test/torture/torture.sh" --short

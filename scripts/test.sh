#!/usr/bin/env bash
# Runs the whole test suite: unit tests and integration tests against a real Postgres.
# Postgres is found as docs/testing.md says: PGMUX_TEST_PG_URL, else PostgreSQL binaries on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/jdk.sh
exec mvn -B -ntp verify "$@"

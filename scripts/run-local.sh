#!/usr/bin/env bash
# Builds pgmux and starts it in front of a local Postgres.
#
#   scripts/run-local.sh postgresql://USER:PASSWORD@HOST:PORT/DATABASE   # an existing Postgres
#   scripts/run-local.sh                                                  # a throwaway Postgres it starts itself
#
# Clients then connect to 127.0.0.1:6542 (session mode) with the same user and password.
# The JVM gets the options recommended for it (scripts/jdk.sh) and then PGMUX_JAVA_OPTS, if set.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/jdk.sh

upstream=${1:-${PGMUX_UPSTREAM:-}}
if [ -z "$upstream" ]; then
  upstream=$(scripts/throwaway-postgres.sh start)
  trap 'scripts/throwaway-postgres.sh stop' EXIT
fi

mvn -B -q -ntp -DskipTests package
echo "pgmux: upstream ${upstream%%:*}://${upstream#*://*@} (password hidden); session port 6542" >&2
# shellcheck disable=SC2046,SC2086
java $(pgmux_jvm_options) ${PGMUX_JAVA_OPTS:-} -jar proxy/target/pgmux.jar --upstream "$upstream"

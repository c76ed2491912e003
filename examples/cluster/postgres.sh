#!/usr/bin/env bash
# Stops or starts one of the example cluster's two Postgres clusters, to see what pgmux does meanwhile:
#
#   examples/cluster/postgres.sh metadata stop     # pg_ctl stop -m fast: the tenants' database goes away
#   examples/cluster/postgres.sh metadata start    # and comes back, on the same port
#   examples/cluster/postgres.sh upstream stop|start
#
# The cluster is the one in PGMUX_CLUSTER_DIR (default as start.sh's).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

name=${1:-}
action=${2:-}
case "$name" in
  metadata|upstream) ;;
  *) echo "usage: $0 metadata|upstream start|stop" >&2; exit 2 ;;
esac
if [ ! -d "$(pg_home "$name")/data" ]; then
  say "no $name Postgres under $cluster_dir (start.sh first)"
  exit 1
fi
pg_bindir=$(find_pg_bindir)
case "$action" in
  start) pg_start "$name" ;;
  stop) pg_stop "$name" ;;
  *) echo "usage: $0 metadata|upstream start|stop" >&2; exit 2 ;;
esac

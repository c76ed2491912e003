#!/usr/bin/env bash
# Stops the cluster start.sh started, by the pids it recorded, and removes its state directory.
#
#   examples/cluster/stop.sh           # stop everything, remove PGMUX_CLUSTER_DIR
#   examples/cluster/stop.sh --keep    # stop everything, keep the directory (logs, data) for a look
#
# pgmux gets SIGTERM and drains (limits.shutdown_timeout, 10 s here), HAProxy SIGTERM, both Postgres clusters
# pg_ctl stop -m fast. Running it again, or on a half-started cluster, is harmless.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

keep=${PGMUX_CLUSTER_KEEP:-}
case "${1:-}" in
  --keep) keep=1 ;;
  "") ;;
  *) echo "usage: $0 [--keep]" >&2; exit 2 ;;
esac

if [ ! -d "$cluster_dir" ]; then
  say "nothing to stop: no $cluster_dir"
  exit 0
fi
if [ ! -f "$cluster_dir/$cluster_marker" ]; then
  say "$cluster_dir is not a cluster's state directory (no $cluster_marker): left alone"
  exit 1
fi
cluster_dir=$(cd "$cluster_dir" && pwd)

# await_exit NAME PID SECONDS: waits for PID to exit, SIGKILL if it is still there after SECONDS.
await_exit() {
  local name=$1 pid=$2 patience=$3 waited=0
  while ours "$pid" && [ "$waited" -lt $((patience * 5)) ]; do
    sleep 0.2
    waited=$((waited + 1))
  done
  if ours "$pid"; then
    say "$name (pid $pid) still running after ${patience}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
}

# HAProxy first, so that no new client reaches an instance that is stopping; then the instances together.
names=()
pids=()
for pidfile in "$cluster_dir/haproxy.pid" "$cluster_dir"/pgmux-*/pid; do
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  rm -f "$pidfile"
  if ours "$pid"; then
    name=$(basename "$(dirname "$pidfile")")
    [ "$pidfile" = "$cluster_dir/haproxy.pid" ] && name=haproxy
    say "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    if [ "$name" = haproxy ]; then
      await_exit haproxy "$pid" 10
    else
      names+=("$name")
      pids+=("$pid")
    fi
  fi
done
for i in "${!pids[@]}"; do
  await_exit "${names[$i]}" "${pids[$i]}" 30
done

pg_bindir=$(find_pg_bindir)
for name in upstream metadata; do
  if [ -f "$(pg_home "$name")/data/postmaster.pid" ]; then
    say "stopping the $name Postgres"
    pg_stop "$name" || say "pg_ctl stop of the $name Postgres failed: see $(pg_home "$name")/postgres.log"
  fi
done

if [ -n "$keep" ]; then
  say "stopped; state kept in $cluster_dir"
else
  rm -rf "$cluster_dir"
  say "stopped; $cluster_dir removed"
fi

#!/usr/bin/env bash
# What the leases on pool_size and max_clients cost the metadata database, against the number of tenants:
# three pgmux instances share a metadata database holding T tenants (no client connects), and for D seconds
# the script counts each instance's lease syncs and the CPU they take, in the metadata Postgres' lease
# backends and in pgmux.
#
#   bench/lease-sync.sh                 # 10, 1000 and 5000 tenants, 30 s each
#   bench/lease-sync.sh --tenants 100,2000 --duration 20
#
# Everything runs on 127.0.0.1: the private Postgres of scripts/throwaway-postgres.sh (its database
# bench_lease_meta made afresh each time) is the metadata database, and the tenants' upstream (which no one
# logs in to); pgmux from proxy/target/pgmux.jar. See docs/cluster.md, "Sizing a large deployment".
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/jdk.sh

counts=10,1000,5000
duration=30
while [ $# -gt 0 ]; do
  case "$1" in
    --tenants) counts=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    *) echo "usage: bench/lease-sync.sh [--tenants N,N,...] [--duration SECONDS]" >&2; exit 2 ;;
  esac
done

jar=proxy/target/pgmux.jar
[ -f "$jar" ] || { echo "no $jar: build it first (mvn -B -DskipTests package -pl proxy -am)" >&2; exit 1; }
url=$(scripts/throwaway-postgres.sh start)
port=${url##*:}; port=${port%%/*}
export PGPASSWORD=postgres
psql_q() { psql -X -q -t -A -h 127.0.0.1 -p "$port" -U postgres "$@"; }
out=target/bench-results/lease-sync-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"

pids=()
stop_instances() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done; done
  pids=()
}
trap stop_instances EXIT

# CPU time (ms) of a process: utime + stime from /proc, in clock ticks.
cpu_ms() {
  awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) * 1000 / hz }' "/proc/$1/stat"
}
metric() {
  curl -fsS "http://127.0.0.1:$1/metrics" | awk -v name="$2" '$1 == name { print $2 }'
}

printf '%-8s %-22s %-28s %-26s %s\n' tenants "syncs/s per instance" "metadata CPU, lease backends" "pgmux CPU per instance" "rows in slot_leases"
for tenants in ${counts//,/ }; do
  psql_q -d postgres -c "DROP DATABASE IF EXISTS bench_lease_meta WITH (FORCE)" -c "CREATE DATABASE bench_lease_meta"
  for i in 1 2 3; do
    cat >"$out/pgmux-$i.yaml" <<EOF
listen:
  host: 127.0.0.1
  transaction_port: $((17100 + i * 10))
  session_port: $((17101 + i * 10))
  admin_port: $((17102 + i * 10))
  io_threads: 1
cluster:
  metadata_url: postgresql://postgres:postgres@127.0.0.1:$port/bench_lease_meta
  instance_id: bench-$i
EOF
    # shellcheck disable=SC2046
    java $(pgmux_jvm_options) -Xmx512m -jar "$jar" --config "$out/pgmux-$i.yaml" >"$out/pgmux-$i-$tenants.log" 2>&1 &
    pids+=($!)
    until curl -fsS "http://127.0.0.1:$((17102 + i * 10))/ready" >/dev/null 2>&1; do sleep 0.2; done
    if [ "$i" = 1 ]; then # the schema exists now: the tenants, one user each, an upstream no one logs in to
      psql_q -d bench_lease_meta -c "INSERT INTO pgmux.tenants (id, spec) SELECT 't' || n, jsonb_build_object('id', 't' || n,
        'upstream', jsonb_build_object('host', '127.0.0.1', 'port', $port, 'database', 'postgres'), 'pool_size', 2,
        'users', jsonb_build_array(jsonb_build_object('name', 'app', 'password', 'secret'))) FROM generate_series(1, $tenants) n"
    fi
  done
  for i in 1 2 3; do
    until [ "$(metric $((17102 + i * 10)) pgmux_metadata_tenants)" = "$tenants.0" ]; do sleep 0.2; done
  done
  sleep 5 # every instance's leases written once
  backends=$(psql_q -d postgres -c "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE application_name = 'pgmux leases'")
  meta0=0; for b in $backends; do meta0=$(echo "$meta0 + $(cpu_ms "$b")" | bc); done
  syncs0=(); cpu0=()
  for i in 1 2 3; do syncs0+=("$(metric $((17102 + i * 10)) pgmux_leases_syncs_total)"); cpu0+=("$(cpu_ms "${pids[$((i - 1))]}")"); done
  sleep "$duration"
  meta1=0; for b in $backends; do meta1=$(echo "$meta1 + $(cpu_ms "$b")" | bc); done
  syncs=(); cpus=()
  for i in 1 2 3; do
    s1=$(metric $((17102 + i * 10)) pgmux_leases_syncs_total)
    syncs+=("$(echo "scale=1; ($s1 - ${syncs0[$((i - 1))]}) / $duration" | bc)")
    cpus+=("$(echo "scale=1; ($(cpu_ms "${pids[$((i - 1))]}") - ${cpu0[$((i - 1))]}) / $duration / 10" | bc)%")
  done
  rows=$(psql_q -d bench_lease_meta -c "SELECT count(*) FROM pgmux.slot_leases")
  printf '%-8s %-22s %-28s %-26s %s\n' "$tenants" "${syncs[*]}" \
    "$(echo "scale=1; ($meta1 - $meta0) / $duration / 10" | bc)% of a core" "${cpus[*]}" "$rows"
  stop_instances
done
psql_q -d postgres -c "DROP DATABASE IF EXISTS bench_lease_meta WITH (FORCE)"
echo "logs and configurations in $out"

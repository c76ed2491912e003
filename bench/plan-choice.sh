#!/usr/bin/env bash
# Plan choice on skewed data: what pgmux's unnamed-statement cache does to Postgres's plans.
#
# A direct connection parses an unnamed statement afresh at every Parse, so Postgres plans every execution
# for its parameter values. A statement prepared once and executed many times may switch to one generic plan
# after five executions, and on skewed data a generic plan can be far slower for some values. This runs the
# same unnamed-statement workload (pgbench -M extended) against direct Postgres and through pgmux's
# transaction port with unnamed_statement_plans custom, auto, and the cache off, and prints the latency of
# the common value and of the rare ones for each.
#
#   bench/plan-choice.sh                      # 3 rounds of 15 s per target
#   bench/plan-choice.sh --rounds 1 --duration 5
#
# The table: skew(id, status, pad), --rows rows (default 1,000,000); status is 0 in 99% of them, and each
# other value (1 .. rows/100) is in one row; an index on status. The query: SELECT count(*), max(id) FROM skew
# WHERE status = $1, half of the executions with 0 (an index is useless: a sequential scan is best), half with
# a rare value (an index scan of one row is best).
#
# Everything runs on 127.0.0.1: a private cluster under target/bench-plan (created afresh), pgmux from
# proxy/target/pgmux.jar. Stops what it started, by pid.
set -uo pipefail
export LC_NUMERIC=C

rounds=3 duration=15 rows=1000000 clients=4
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift ;;
    --duration) duration=$2; shift ;;
    --rows) rows=$2; shift ;;
    --clients) clients=$2; shift ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 1
# shellcheck source=../scripts/jdk.sh
. scripts/jdk.sh || exit 1
jar=proxy/target/pgmux.jar
[ -f "$jar" ] || { echo "no $jar: build it first (mvn -DskipTests package)" >&2; exit 1; }
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$pgbin/initdb" ] || { echo "no Postgres binaries under /usr/lib/postgresql" >&2; exit 1; }
export PATH="$pgbin:$PATH"

log() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((15000 + RANDOM % 15000))
    [ -z "$(ss -Htan "sport = :$p" 2>/dev/null)" ] && { echo "$p"; return 0; }
  done
  return 1
}

dir="$repo/target/bench-plan"
pgmux_pid="" pg_started=0
cleanup() {
  [ -n "$pgmux_pid" ] && kill "$pgmux_pid" 2>/dev/null && wait "$pgmux_pid" 2>/dev/null
  [ "$pg_started" = 1 ] && as_pg pg_ctl -D "$dir/data" -m fast -w stop >/dev/null 2>&1
}
trap cleanup EXIT INT TERM

rm -rf "$dir" && mkdir -p "$dir" && chmod 755 "$dir"
[ "$(id -u)" = 0 ] && chown postgres "$dir"
pg_port=$(free_port) && tx_port=$(free_port) && session_port=$(free_port) && admin_port=$(free_port) || exit 1
password="plan-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
echo "$password" >"$dir/pwfile" && chmod 644 "$dir/pwfile"
as_pg initdb -D "$dir/data" -U postgres --pwfile="$dir/pwfile" --auth=scram-sha-256 -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 \
  || { echo "initdb failed: $dir/initdb.log" >&2; exit 1; }
rm -f "$dir/pwfile"
cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$dir'
shared_buffers = 256MB
fsync = off
max_parallel_workers_per_gather = 0
EOF
as_pg pg_ctl -D "$dir/data" -l "$dir/postgres.log" -w start >/dev/null || { echo "Postgres did not start: $dir/postgres.log" >&2; exit 1; }
pg_started=1
export PGPASSWORD=$password
psql_su() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres "$@"; }
log "loading skew ($rows rows)"
psql_su -c "CREATE TABLE skew (id int PRIMARY KEY, status int NOT NULL, pad text)" \
  -c "INSERT INTO skew SELECT i, CASE WHEN i % 100 = 0 THEN i / 100 ELSE 0 END, repeat('x', 50) FROM generate_series(1, $rows) i" \
  -c "CREATE INDEX ON skew (status)" -c "VACUUM ANALYZE skew" || exit 1

cat >"$dir/pgmux.yaml" <<EOF
listen: {host: 127.0.0.1, transaction_port: $tx_port, session_port: $session_port, admin_port: $admin_port}
tenants:
  - id: custom
    upstream: {host: 127.0.0.1, port: $pg_port, database: postgres}
    cache_unnamed_statements: true
    users: [{name: postgres, password: "\${PLAN_PASSWORD}"}]
  - id: auto
    upstream: {host: 127.0.0.1, port: $pg_port, database: postgres}
    cache_unnamed_statements: true
    unnamed_statement_plans: auto
    users: [{name: postgres, password: "\${PLAN_PASSWORD}"}]
  - id: off
    upstream: {host: 127.0.0.1, port: $pg_port, database: postgres}
    cache_unnamed_statements: false
    users: [{name: postgres, password: "\${PLAN_PASSWORD}"}]
EOF
# shellcheck disable=SC2046
PLAN_PASSWORD=$password java $(pgmux_jvm_options) -jar "$jar" --config "$dir/pgmux.yaml" >"$dir/pgmux.log" 2>&1 &
pgmux_pid=$!
for _ in $(seq 1 120); do
  psql -X -Atq -h 127.0.0.1 -p "$tx_port" -U postgres.custom -d postgres -c "SELECT 1" >/dev/null 2>&1 && break
  sleep 0.5
done

printf '\\set s 0\nSELECT count(*), max(id) FROM skew WHERE status = :s;\n' >"$dir/common.sql"
printf '\\set s random(1, %d)\nSELECT count(*), max(id) FROM skew WHERE status = :s;\n' $((rows / 100)) >"$dir/rare.sql"

targets=("direct|postgres|$pg_port" "custom|postgres.custom|$tx_port" "auto|postgres.auto|$tx_port" "off|postgres.off|$tx_port")
results="$dir/results.tsv"
: >"$results"
for r in $(seq 1 "$rounds"); do
  n=${#targets[@]}
  for i in $(seq 0 $((n - 1))); do
    IFS='|' read -r name user port <<<"${targets[$(( (i + r - 1) % n ))]}"
    out=$(pgbench -n -M extended -c "$clients" -j 2 -T "$duration" -h 127.0.0.1 -p "$port" -U "$user" \
      -f "$dir/common.sql@50" -f "$dir/rare.sql@50" postgres 2>&1)
    tps=$(awk '/^tps/ {print $3}' <<<"$out")
    common=$(awk '/SQL script 1/ {s=1} s && /latency average/ {print $5; exit}' <<<"$out")
    rare=$(awk '/SQL script 2/ {s=1} s && /latency average/ {print $5; exit}' <<<"$out")
    printf '%s\t%s\t%s\t%s\t%s\n' "$r" "$name" "$tps" "$common" "$rare" >>"$results"
    log "round $r $name: $tps TPS, common $common ms, rare $rare ms"
  done
done

median() { sort -g | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
echo
echo "plan choice on skewed data: $rows rows, pgbench -M extended -c $clients, $rounds round(s) of $duration s, medians"
echo
echo "| target | TPS | status = 0 (common), ms | status = rare, ms |"
echo "|---|---|---|---|"
for t in direct custom auto off; do
  label=$t
  case $t in
    direct) label="direct Postgres" ;;
    custom) label="pgmux, cache_unnamed_statements, unnamed_statement_plans: custom" ;;
    auto) label="pgmux, cache_unnamed_statements, unnamed_statement_plans: auto" ;;
    off) label="pgmux, cache_unnamed_statements: false (default)" ;;
  esac
  tps=$(awk -F'\t' -v t="$t" '$2 == t {print $3}' "$results" | median)
  common=$(awk -F'\t' -v t="$t" '$2 == t {print $4}' "$results" | median)
  rare=$(awk -F'\t' -v t="$t" '$2 == t {print $5}' "$results" | median)
  printf '| %s | %.1f | %.1f | %.2f |\n' "$label" "$tps" "$common" "$rare"
done

#!/usr/bin/env bash
# Checks pgmux's /metrics with a real Prometheus server: starts a throwaway Postgres, pgmux in front of it
# and a Prometheus that scrapes pgmux's admin port every second with a bearer token, runs pgbench through
# both client ports, then asks Prometheus's HTTP API for the target's health and a few key series and
# prints them. Exits non-zero if the target is not healthy or a key series is missing. Everything it
# starts is stopped on exit; everything it writes is in one temporary directory, removed on exit
# (PGMUX_KEEP=1 keeps it).
#
#   scripts/prometheus-check.sh            # 20 s of load
#   PGMUX_LOAD_SECONDS=60 scripts/prometheus-check.sh
#
# Needs: a JDK 21+, Maven (to build pgmux if proxy/target/pgmux.jar is missing), PostgreSQL's server
# binaries and pgbench, Prometheus (Debian: apt-get install prometheus postgresql), curl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/jdk.sh

load_seconds=${PGMUX_LOAD_SECONDS:-20}
prometheus=${PROMETHEUS:-$(command -v prometheus || true)}
promtool=${PROMTOOL:-$(command -v promtool || true)}
pgbin=""
if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
  pgbin=$(pg_config --bindir)
else
  pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
fi
for need in "$prometheus" "$promtool" "$pgbin/initdb" "$pgbin/pgbench" "$(command -v curl || true)" \
    "$(command -v python3 || true)"; do
  if [ -z "$need" ] || [ ! -x "$need" ]; then
    echo "missing: prometheus, promtool, PostgreSQL's initdb and pgbench, curl or python3" \
      "(Debian: apt-get install prometheus postgresql curl python3)" >&2
    exit 1
  fi
done
if [ ! -f proxy/target/pgmux.jar ]; then
  mvn -B -q -ntp package -DskipTests -pl proxy -am
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/pgmux-prometheus.XXXXXX")
pgmux_pid="" prometheus_pid="" bench_pids="" pg_started=""

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
  local status=$?
  for pid in $bench_pids $prometheus_pid $pgmux_pid; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in $bench_pids $prometheus_pid $pgmux_pid; do
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "$pg_started" ]; then
    as_pg "$pgbin/pg_ctl" -D "$work/pg/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  if [ "${PGMUX_KEEP:-}" = 1 ]; then
    echo "kept: $work" >&2
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_for() { # description, seconds, command...
  local what=$1 seconds=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      echo "timed out waiting for $what" >&2
      return 1
    fi
    sleep 0.2
  done
}

pg_port=$(free_port)
tx_port=$(free_port)
session_port=$(free_port)
admin_port=$(free_port)
prom_port=$(free_port)
password=$(python3 -c 'import secrets; print(secrets.token_hex(12))')
token=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')

# A throwaway Postgres: SCRAM, loopback only, its own socket directory.
mkdir -p "$work/pg"
[ "$(id -u)" = 0 ] && chown postgres "$work" "$work/pg"
printf '%s\n' "$password" > "$work/pgpass"
chmod 644 "$work/pgpass"
as_pg "$pgbin/initdb" -D "$work/pg/data" -U postgres --pwfile="$work/pgpass" --auth=scram-sha-256 -E UTF8 \
  --locale=C >/dev/null
rm -f "$work/pgpass"
as_pg "$pgbin/pg_ctl" -D "$work/pg/data" -l "$work/pg/postgres.log" -w \
  -o "-p $pg_port -c listen_addresses=127.0.0.1 -c unix_socket_directories='$work/pg' -c max_connections=50" \
  start >/dev/null
pg_started=1

# pgmux: both client ports, the admin port behind a bearer token (from the environment, as in production).
cat > "$work/pgmux.yaml" <<EOF
listen:
  host: 127.0.0.1
  transaction_port: $tx_port
  session_port: $session_port
  admin_port: $admin_port
admin:
  metrics_token: \${PGMUX_METRICS_TOKEN}
default_tenant: check
tenants:
  - id: check
    upstream:
      host: 127.0.0.1
      port: $pg_port
    pool_size: 8
    users:
      - name: postgres
        password: \${PGMUX_CHECK_PASSWORD}
EOF
# shellcheck disable=SC2046
PGMUX_METRICS_TOKEN=$token PGMUX_CHECK_PASSWORD=$password \
  java $(pgmux_jvm_options) -jar proxy/target/pgmux.jar --config "$work/pgmux.yaml" > "$work/pgmux.log" 2>&1 &
pgmux_pid=$!
wait_for "pgmux's /ready" 60 curl -fsS "http://127.0.0.1:$admin_port/ready"
echo "pgmux: transaction port $tx_port, session port $session_port, admin port $admin_port"

# Prometheus: its own storage, loopback, scraping pgmux every second with the token from a file.
printf '%s' "$token" > "$work/metrics-token"
chmod 600 "$work/metrics-token"
cat > "$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: pgmux
    scrape_interval: 1s
    scrape_timeout: 1s
    authorization:
      type: Bearer
      credentials_file: $work/metrics-token
    static_configs:
      - targets: ['127.0.0.1:$admin_port']
EOF
"$promtool" check config "$work/prometheus.yml" >/dev/null
"$prometheus" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" --log.level=warn > "$work/prometheus.log" 2>&1 &
prometheus_pid=$!
wait_for "Prometheus's /-/ready" 60 curl -fsS "http://127.0.0.1:$prom_port/-/ready"
scraped() { # Prometheus applies its targets a few seconds after start: wait for a stored sample of pgmux's
  curl -fsS --get "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode 'query=up{job="pgmux"} == 1' \
    | grep -q '"value"'
}
wait_for "Prometheus's first scrape of pgmux" 60 scraped
echo "prometheus: 127.0.0.1:$prom_port, scraping 127.0.0.1:$admin_port/metrics every 1s"

# Without the token pgmux refuses the scrape; with it, promtool finds nothing to lint.
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$admin_port/metrics")
echo "GET /metrics without the token: $code"
if [ "$code" != 401 ]; then
  echo "expected 401 without the token" >&2
  exit 1
fi
export PGPASSWORD=$password PGSSLMODE=disable
"$pgbin/pgbench" -h 127.0.0.1 -p "$pg_port" -U postgres -i -q -s 2 postgres >/dev/null 2>&1
# The pool's meters exist from its first client on: a query on each port before the load, one that fails
# (pgmux_client_errors_total), and a session client that leaves inside a transaction, whose server pgmux
# closes (pgmux_server_closes_total, reason client_left_dirty).
for port in "$tx_port" "$session_port"; do
  "$pgbin/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c 'SELECT 1' >/dev/null
  "$pgbin/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c 'SELECT 1/0' >/dev/null 2>&1 || true
done
printf 'BEGIN;\nSELECT 1;\n' | "$pgbin/psql" -X -q -h 127.0.0.1 -p "$session_port" -U postgres -d postgres >/dev/null

# Load, on one pool (the tenant's database and user) that both ports share: the session port's 4 clients
# hold 4 of its 8 servers for their whole session (TPC-B, the extended protocol); the transaction port's 12
# clients share the other 4, one statement at a time, with named prepared statements (-S: pgbench prepares
# each statement with a blocking call, which must not wait for a server while other clients of its
# thread hold servers inside a transaction block).
echo "load: ${load_seconds}s of pgbench: 12 clients on the transaction port (-S -M prepared), 4 on the session port (TPC-B, -M extended)"
load_start=$(date +%s)
"$pgbin/pgbench" -h 127.0.0.1 -p "$tx_port" -U postgres -n -S -M prepared -c 12 -j 2 -T "$load_seconds" postgres \
  > "$work/pgbench-transaction.log" 2>&1 &
tx_bench=$!
"$pgbin/pgbench" -h 127.0.0.1 -p "$session_port" -U postgres -n -M extended -c 4 -j 1 -T "$load_seconds" postgres \
  > "$work/pgbench-session.log" 2>&1 &
session_bench=$!
bench_pids="$tx_bench $session_bench"
bench_failed=""
wait "$tx_bench" || bench_failed=1
wait "$session_bench" || bench_failed=1
bench_pids=""
load_end=$(date +%s)
for log in "$work"/pgbench-*.log; do
  echo "  $(basename "$log" .log): $(grep -E '^tps' "$log" | head -n 1 || true)," \
    "$(grep -E '^number of transactions actually processed' "$log" | sed 's/^number of //' || true)"
done
if [ -n "$bench_failed" ]; then
  cat "$work"/pgbench-*.log >&2
  exit 1
fi
curl -fsS -H "Authorization: Bearer $token" "http://127.0.0.1:$admin_port/metrics" > "$work/scrape.txt"
"$promtool" check metrics < "$work/scrape.txt"
echo "promtool check metrics: no findings ($(grep -c -v '^#' "$work/scrape.txt") samples)"
# One more scrape interval, so the last seconds of load are stored.
sleep 2

# The API's answers, evaluated at the last full second of load.
at=$((load_end - 1))
query() { # title, PromQL[, evaluation time: the end of the load unless given]
  curl -fsS --get "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$2" \
    --data-urlencode "time=${3:-$at}" \
    | python3 -c '
import json, sys
title = sys.argv[1]
answer = json.load(sys.stdin)
result = answer["data"]["result"]
if answer["status"] != "success" or not result:
    print("MISSING " + title)
    sys.exit(1)
print(title)
for series in result:
    labels = ",".join("%s=%s" % kv for kv in sorted(series["metric"].items()))
    value = float(series["value"][1])
    shown = "%d" % value if value.is_integer() and abs(value) < 1e15 else "%.4g" % value
    print("  {%s} %s" % (labels, shown))
' "$1"
}

echo
echo "GET /api/v1/targets"
curl -fsS "http://127.0.0.1:$prom_port/api/v1/targets" | python3 -c '
import json, sys
targets = json.load(sys.stdin)["data"]["activeTargets"]
for t in targets:
    print("  %s %s health=%s lastError=%r lastScrapeDuration=%.4fs"
          % (t["labels"]["job"], t["scrapeUrl"], t["health"], t["lastError"], t["lastScrapeDuration"]))
sys.exit(0 if targets and all(t["health"] == "up" for t in targets) else 1)
'
echo
echo "GET /api/v1/query at the end of the load (time=$at: $((at - load_start)) s after it began)"
missing=0
query "transactions/s by port" \
  'sum by (mode) (rate(pgmux_transaction_duration_seconds_count[10s]))' || missing=1
query "queries/s by port" \
  'sum by (mode) (rate(pgmux_query_duration_seconds_count[10s]))' || missing=1
query "server connections by state" \
  'sum by (state) (pgmux_pool_servers)' || missing=1
query "clients by port and state" \
  'sum by (mode, state) (pgmux_pool_clients)' || missing=1
query "checkout wait p50 (s), by port" \
  'histogram_quantile(0.5, sum by (le, mode) (rate(pgmux_checkout_wait_seconds_bucket[10s])))' || missing=1
query "checkout wait p99 (s), by port" \
  'histogram_quantile(0.99, sum by (le, mode) (rate(pgmux_checkout_wait_seconds_bucket[10s])))' || missing=1
query "longest wait in the last 10 s (s)" \
  'max(max_over_time(pgmux_pool_wait_max_seconds[10s]))' || missing=1
query "transaction p99 (s), by port" \
  'histogram_quantile(0.99, sum by (le, mode) (rate(pgmux_transaction_duration_seconds_bucket[10s])))' || missing=1
query "query p99 (s), by port" \
  'histogram_quantile(0.99, sum by (le, mode) (rate(pgmux_query_duration_seconds_bucket[10s])))' || missing=1
query "named prepared statements since start, by event (transaction port)" \
  'sum by (event) (pgmux_prepared_statements_total{mode="transaction"})' || missing=1
query "bytes/s sent to clients, by port" \
  'sum by (mode) (rate(pgmux_client_sent_bytes_total[10s]))' || missing=1
query "logins by port and result" \
  'sum by (mode, result) (pgmux_client_logins_total)' || missing=1
query "scrape duration (s)" 'scrape_duration_seconds{job="pgmux"}' || missing=1

# Every query of the Grafana dashboard in examples/, its variables set to "All" and $__rate_interval to 10s:
# valid PromQL that finds data.
echo
echo "examples/grafana-dashboard.json: each query, at the end of the load"
python3 - "http://127.0.0.1:$prom_port" "$at" examples/grafana-dashboard.json <<'PY' || missing=1
import json, sys, urllib.parse, urllib.request
base, at, path = sys.argv[1], sys.argv[2], sys.argv[3]
dashboard = json.load(open(path))
queries = []
def panels(items):
    for panel in items:
        yield panel
        yield from panels(panel.get("panels", []))
for panel in panels(dashboard["panels"]):
    for target in panel.get("targets", []):
        queries.append((panel["title"], target["expr"]))
for variable in dashboard["templating"]["list"]:
    definition = variable["definition"]  # label_values(selector, label): the selector must find series
    queries.append(("variable " + variable["name"], definition[len("label_values("):definition.rindex(",")]))
failed = 0
for title, expr in queries:
    promql = expr.replace("$__rate_interval", "10s")
    for name in ("instance", "tenant", "database"):
        promql = promql.replace("$" + name, ".*")
    url = base + "/api/v1/query?" + urllib.parse.urlencode({"query": promql, "time": at})
    try:
        answer = json.load(urllib.request.urlopen(url))
        series = len(answer["data"]["result"])
        status = "ok, %d series" % series if series else "NO DATA"
    except urllib.error.HTTPError as e:
        series, status = 0, "ERROR " + json.load(e).get("error", str(e))
    if not series:
        failed += 1
        print("  %-55s %s: %s" % (title[:55], status, expr))
print("  %d of %d queries answered with data" % (len(queries) - failed, len(queries)))
sys.exit(1 if failed else 0)
PY

echo
echo "GET /api/v1/query now, after the load"
query "transactions counted since start, by port (pgbench's own setup queries included)" \
  'sum by (mode) (pgmux_transaction_duration_seconds_count)' "$(date +%s)" || missing=1
exit "$missing"

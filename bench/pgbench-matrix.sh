#!/usr/bin/env bash
# pgbench matrix: the same pgbench cases against direct Postgres, pgmux (transaction mode and
# session mode) and PgBouncer (transaction mode, when installed), side by side in one run, with
# runs interleaved across targets so that a noisy machine affects every target alike.
#
#   bench/pgbench-matrix.sh                       # full matrix: 3 runs of 15 s per cell
#   bench/pgbench-matrix.sh --quick               # smoke run: 1 run of 3 s, fewer cases
#   bench/pgbench-matrix.sh --runs 6 --markdown /tmp/table.md
#
# Everything runs on 127.0.0.1: a private Postgres cluster under target/bench-postgres (created
# afresh each time), pgmux from proxy/target/pgmux.jar, PgBouncer from /usr/sbin/pgbouncer.
# Logs, configurations and raw pgbench output stay under target/bench-results/<date>/.
# See docs/benchmarks.md for what is measured and how to read it.
set -uo pipefail
export LC_NUMERIC=C

usage() {
  cat <<'EOF'
usage: bench/pgbench-matrix.sh [options]

  --quick                smoke run: --duration 3 --runs 1 --warmup 1 (three runs per load, JIT settled
                         or not), cases simple, prepared, connect-per-transaction and 500 clients only
                         (500 clients run at least 10 s)
  --runs N               runs per cell, interleaved across targets; the median is reported, and pgmux
                         against PgBouncer run by run (geometric mean of the per-run ratios, 95%
                         interval) (default 3)
  --duration S           seconds per pgbench run (default 15)
  --warmup S             untimed pgbench before the first run, per target: three runs of S/3 s of each
                         -S protocol and TPC-B, three of S s of -C, each repeated (up to 12 runs) until
                         pgmux's JIT compiler threads use under 2% of its CPU in a run (default 10)
  --scale N              pgbench -i scale (default 10)
  --pool-size N          server connections per pool, pgmux and PgBouncer alike (default 20)
  --jobs N               pgbench -j (default 2)
  --cases LIST           comma-separated subset of: simple,extended,prepared,tpcb,connect,c500
  --targets LIST         comma-separated subset of: direct,pgmux-tx,pgmux-session,pgbouncer, and
                         pgmux-base when a baseline is given (below)
  --baseline-jar FILE    also run a second pgmux, from this jar, side by side: target pgmux-base, its
                         transaction port (compare two builds in the same rounds)
  --baseline-transport T the baseline pgmux's listen.transport (auto, io_uring, epoll, nio; default
                         auto): compare two transports in the same rounds, from the same jar unless
                         --baseline-jar is given
  --upstream-tls         TLS between pgmux and Postgres: Postgres runs with ssl = on (a self-signed
                         certificate made with openssl), and a second pgmux, target pgmux-base, logs in
                         to it with sslmode=require, in the same rounds as pgmux-tx, which logs in with
                         sslmode=disable; the clients (pgbench, also direct) speak plaintext. The report
                         pairs pgmux-base with pgmux-tx run by run
  --markdown FILE        also write the markdown report to FILE
  --build                build pgmux first even if proxy/target/pgmux.jar exists
  --jar FILE             benchmark this pgmux jar instead of proxy/target/pgmux.jar
  --install-pgbouncer    apt-get install -y pgbouncer when /usr/sbin/pgbouncer is missing
  --no-pgbouncer         leave PgBouncer out even when installed
  --session-all-clients  give session mode the cases' full client counts (by default it gets at most
                         --pool-size clients: with more, pgbench's extra logins wait for a server
                         that its own idle clients hold, until checkout_timeout)
  -h, --help             this text

Environment: PGMUX_JAVA_OPTS is passed to the pgmux JVM after the options scripts/jdk.sh recommends
for it (--sun-misc-unsafe-memory-access=allow on JDK 24 and newer, -XX:+UseCompactObjectHeaders on JDK 25
and newer; a later option wins). PGMUX_BASELINE_JAVA_OPTS does the same for the baseline pgmux (target
pgmux-base), which it also starts on its own, from the same jar as pgmux-tx unless --baseline-jar is
given: compare JVM options in the same rounds. PGMUX_EXTRA_YAML is appended to the pgmux-tx/pgmux-session
configuration (top-level sections, e.g. "log: {log_connections: false}"), not to the baseline's.
PGMUX_TENANT_YAML and PGMUX_BASELINE_TENANT_YAML add settings to the benchmark tenant of pgmux-tx/pgmux-session
and of pgmux-base, one "key: value" per line (e.g. PGMUX_BASELINE_TENANT_YAML="cache_unnamed_statements: false"
compares one build with a tenant setting on and off in the same rounds).
EOF
}

# ---------------------------------------------------------------------------------------------
# Options

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 1
cmdline="bench/pgbench-matrix.sh"
for a in "$@"; do cmdline+=" $(printf '%q' "$a")"; done

runs=3 duration=15 warmup=10 scale=10 pool_size=20 jobs=2
quick=0 build=0 install_pgbouncer=0 use_pgbouncer=1 session_all=0 upstream_tls=0
markdown_out="" jar_arg="" cases_arg="" targets_arg="" baseline_jar_arg="" baseline_transport_arg=""
runs_set=0 duration_set=0 warmup_set=0

need_value() { [ $# -ge 2 ] && [ -n "$2" ] || { echo "$1 needs a value" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --runs) need_value "$@"; runs=$2; runs_set=1; shift ;;
    --duration) need_value "$@"; duration=$2; duration_set=1; shift ;;
    --warmup) need_value "$@"; warmup=$2; warmup_set=1; shift ;;
    --scale) need_value "$@"; scale=$2; shift ;;
    --pool-size) need_value "$@"; pool_size=$2; shift ;;
    --jobs) need_value "$@"; jobs=$2; shift ;;
    --cases) need_value "$@"; cases_arg=$2; shift ;;
    --targets) need_value "$@"; targets_arg=$2; shift ;;
    --markdown) need_value "$@"; markdown_out=$2; shift ;;
    --build) build=1 ;;
    --jar) need_value "$@"; jar_arg=$2; shift ;;
    --baseline-jar) need_value "$@"; baseline_jar_arg=$2; shift ;;
    --baseline-transport) need_value "$@"; baseline_transport_arg=$2; shift ;;
    --install-pgbouncer) install_pgbouncer=1 ;;
    --no-pgbouncer) use_pgbouncer=0 ;;
    --session-all-clients) session_all=1 ;;
    --upstream-tls) upstream_tls=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if [ "$quick" = 1 ]; then
  [ "$runs_set" = 1 ] || runs=1
  [ "$duration_set" = 1 ] || duration=3
  [ "$warmup_set" = 1 ] || warmup=1
  [ -n "$cases_arg" ] || cases_arg="simple,prepared,connect,c500"
fi
for v in runs duration scale pool_size jobs; do
  case "${!v}" in ''|*[!0-9]*|0) echo "--${v//_/-} must be a positive whole number, got '${!v}'" >&2; exit 2 ;; esac
done
case "$warmup" in ''|*[!0-9]*) echo "--warmup must be a whole number, got '$warmup'" >&2; exit 2 ;; esac

# ---------------------------------------------------------------------------------------------
# Cases and targets

# id | label (markdown) | pgbench arguments besides -c | clients
all_cases=(
  "simple|\`-S -c 50 -M simple\`|-S -M simple|50"
  "extended|\`-S -c 50 -M extended\`|-S -M extended|50"
  "prepared|\`-S -c 50 -M prepared\`|-S -M prepared|50"
  "tpcb|TPC-B \`-c 50 -M simple\`|-M simple|50"
  "connect|\`-C -S -c 20\` (connect per transaction)|-C -S -M simple|20"
  "c500|\`-S -c 500\` (500 clients)|-S -M simple|500"
)
all_targets=(direct pgmux-tx pgmux-session pgbouncer)
# A second pgmux (another build, or other JVM options) only when asked for: the runs of two pgmux variants
# then sit in the same rounds, seconds apart, rather than in two runs of the matrix.
baseline=0
if [ -n "$baseline_jar_arg" ] || [ -n "$baseline_transport_arg" ] || [ -n "${PGMUX_BASELINE_JAVA_OPTS:-}" ] \
   || [ -n "${PGMUX_BASELINE_TENANT_YAML:-}" ] || [ "$upstream_tls" = 1 ]; then
  baseline=1
  all_targets=(direct pgmux-tx pgmux-base pgmux-session pgbouncer)
fi

declare -A case_label case_args case_clients target_title
for c in "${all_cases[@]}"; do
  IFS='|' read -r id label args clients <<<"$c"
  case_label[$id]=$label case_args[$id]=$args case_clients[$id]=$clients
done
target_title=([direct]="direct PG" [pgmux-tx]="pgmux transaction" [pgmux-session]="pgmux session" [pgbouncer]="PgBouncer transaction")
[ "$baseline" = 1 ] && target_title[pgmux-base]="pgmux transaction (baseline)"
[ "$upstream_tls" = 1 ] && target_title[pgmux-tx]="pgmux transaction (plaintext upstream)" \
  && target_title[pgmux-base]="pgmux transaction (TLS upstream)"

cases=()
if [ -n "$cases_arg" ]; then
  IFS=',' read -ra wanted <<<"$cases_arg"
  for c in "${all_cases[@]}"; do
    id=${c%%|*}
    for w in "${wanted[@]}"; do [ "$w" = "$id" ] && cases+=("$id"); done
  done
  for w in "${wanted[@]}"; do
    [ -n "${case_label[$w]:-}" ] || { echo "unknown case: $w (known: simple,extended,prepared,tpcb,connect,c500)" >&2; exit 2; }
  done
else
  for c in "${all_cases[@]}"; do cases+=("${c%%|*}"); done
fi
targets=()
if [ -n "$targets_arg" ]; then
  IFS=',' read -ra wanted <<<"$targets_arg"
  for t in "${all_targets[@]}"; do
    for w in "${wanted[@]}"; do [ "$w" = "$t" ] && targets+=("$t"); done
  done
  for w in "${wanted[@]}"; do
    if [ "$w" = pgmux-base ] && [ "$baseline" = 0 ]; then
      echo "target pgmux-base needs --baseline-jar, --baseline-transport, PGMUX_BASELINE_JAVA_OPTS or --upstream-tls" >&2; exit 2
    fi
    [ -n "${target_title[$w]:-}" ] || { echo "unknown target: $w (known: ${all_targets[*]})" >&2; exit 2; }
  done
else
  targets=("${all_targets[@]}")
fi

# ---------------------------------------------------------------------------------------------
# Helpers

log() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
has_target() { local t; for t in "${targets[@]}"; do [ "$t" = "$1" ] && return 0; done; return 1; }
has_pgmux() { has_target pgmux-tx || has_target pgmux-session || has_target pgmux-base; }
jar_facts_of() { echo "$(basename "$1"), built $(date -u -r "$1" '+%Y-%m-%d %H:%M UTC'), sha256 $(sha256sum "$1" | cut -c1-12)"; }
# transport_of LOG: the transport a pgmux process says it started on ("io_uring", "epoll", "nio")
transport_of() { grep -oP -m1 '\(\K[a-z_]+(?= transport)' "$1" 2>/dev/null || echo "unknown"; }
drop_target() {
  local t keep=()
  for t in "${targets[@]}"; do [ "$t" = "$1" ] || keep+=("$t"); done
  targets=("${keep[@]}")
}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# A port below the kernel's ephemeral range (so that no outgoing connection takes it meanwhile) that
# no socket uses in any state (a TIME_WAIT left on a port is enough to make a listener's bind fail).
used_ports=" "
eph_low=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
[ "${eph_low:-0}" -gt 20000 ] 2>/dev/null || eph_low=32768
free_port() {
  local p i
  for i in $(seq 1 500); do
    p=$((15000 + RANDOM % (eph_low - 15000)))
    case "$used_ports" in *" $p "*) continue ;; esac
    if [ -z "$(ss -Htan "sport = :$p" 2>/dev/null)" ]; then
      used_ports+="$p "
      echo "$p"
      return 0
    fi
  done
  return 1
}

# Stops a process this script started: TERM, up to 15 s, then KILL.
stop_pid() {
  local pid=$1 name=$2 i
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }; sleep 0.1; done
  log "$name (pid $pid) did not stop within 15 s: killing it"
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}

median() { # numbers on stdin, one per line -> median (mean of the two middle ones for an even count)
  sort -g | awk '{v[NR]=$1} END {if (NR==0) exit; if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'
}

fmt_int() { # 12345.6 -> 12,346
  LC_ALL=C awk -v x="$1" 'BEGIN {n=sprintf("%.0f", x); s=""; while (length(n) > 3) {s="," substr(n, length(n)-2) s; n=substr(n, 1, length(n)-3)} print n s}'
}

# ---------------------------------------------------------------------------------------------
# Cleanup: only what this script started, by pid; also on Ctrl-C and errors

pgmux_pid="" baseline_pid="" pgbouncer_pid="" bench_pid="" pg_started=0 tmp="" pgbin="" pgdata=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$bench_pid" ]; then stop_pid "$bench_pid" pgbench; fi
  if [ -n "${sampler_pid:-}" ]; then kill "$sampler_pid" 2>/dev/null; fi
  if [ -n "$pgmux_pid" ]; then log "stopping pgmux (pid $pgmux_pid)"; stop_pid "$pgmux_pid" pgmux; fi
  if [ -n "$baseline_pid" ]; then log "stopping the baseline pgmux (pid $baseline_pid)"; stop_pid "$baseline_pid" pgmux; fi
  if [ -n "$pgbouncer_pid" ]; then log "stopping PgBouncer (pid $pgbouncer_pid)"; stop_pid "$pgbouncer_pid" pgbouncer; fi
  if [ "$pg_started" = 1 ]; then
    log "stopping Postgres"
    as_pg timeout 60 "$pgbin/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null 2>&1 \
      || as_pg timeout 30 "$pgbin/pg_ctl" -D "$pgdata" -m immediate -w stop >/dev/null 2>&1
  fi
  [ -n "$tmp" ] && rm -rf "$tmp"
  [ -n "${results_dir:-}" ] && log "logs kept in ${results_dir#"$repo"/}"
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# Prerequisites

command -v pgbench >/dev/null || die "pgbench not found: apt-get install postgresql-client (or postgresql)"
if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
  pgbin=$(pg_config --bindir)
else
  pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
fi
[ -n "$pgbin" ] && [ -x "$pgbin/initdb" ] || die "no PostgreSQL server binaries found: apt-get install postgresql"
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  die "running as root needs a 'postgres' system user to run Postgres and PgBouncer"
fi

mkdir -p target
exec 9>target/bench.lock
flock -n 9 || die "another bench/pgbench-matrix.sh is running (target/bench.lock)"

results_dir="$repo/target/bench-results/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$results_dir/pgbench"
tmp=$(mktemp -d /tmp/pgmux-bench.XXXXXX)
chmod 755 "$tmp"

pgbouncer_bin=/usr/sbin/pgbouncer
pgbouncer_note=""
if has_target pgbouncer; then
  if [ "$use_pgbouncer" = 0 ]; then
    drop_target pgbouncer; pgbouncer_note="PgBouncer left out (--no-pgbouncer)"
  elif [ ! -x "$pgbouncer_bin" ] && [ "$install_pgbouncer" = 1 ]; then
    log "installing PgBouncer (apt-get install -y pgbouncer)"
    # RUNLEVEL=1: the package's own system service is not started; this script runs its own PgBouncer.
    if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
    if ! DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 timeout 600 $sudo apt-get install -y -q pgbouncer \
         >"$results_dir/apt-get.log" 2>&1; then
      log "apt-get install pgbouncer failed (see ${results_dir#"$repo"/}/apt-get.log)"
    fi
  fi
  if has_target pgbouncer && [ ! -x "$pgbouncer_bin" ]; then
    drop_target pgbouncer
    pgbouncer_note="PgBouncer not installed ($pgbouncer_bin missing): its column is left out; --install-pgbouncer installs it"
  fi
fi
[ -n "$pgbouncer_note" ] && log "$pgbouncer_note"

if has_pgmux; then
  # shellcheck disable=SC1091
  . scripts/jdk.sh || die "no JDK 21+ found"
  jar=${jar_arg:-proxy/target/pgmux.jar}
  if [ -z "$jar_arg" ] && { [ "$build" = 1 ] || [ ! -f "$jar" ]; }; then
    log "building pgmux (mvn -B -q -DskipTests package)"
    timeout 900 mvn -B -q -ntp -DskipTests package >"$results_dir/build.log" 2>&1 \
      || die "build failed, see ${results_dir#"$repo"/}/build.log"
  fi
  [ -f "$jar" ] || die "no pgmux jar at $jar"
  # Run a copy, so that a rebuild during the benchmark does not change the jar under the JVM.
  cp "$jar" "$results_dir/pgmux.jar"
  jar_facts=$(jar_facts_of "$jar")
  if has_target pgmux-base; then
    base_jar=${baseline_jar_arg:-$jar}
    [ -f "$base_jar" ] || die "no baseline pgmux jar at $base_jar"
    cp "$base_jar" "$results_dir/pgmux-base.jar"
    base_jar_facts=$(jar_facts_of "$base_jar")
  fi
fi

# ---------------------------------------------------------------------------------------------
# Postgres: a fresh private cluster

pg_password="bench-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
pgdir="$repo/target/bench-postgres"
pgdata="$pgdir/data"
if [ -f "$pgdata/postmaster.pid" ] && as_pg "$pgbin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
  die "a Postgres is still running in target/bench-postgres (left by an interrupted run?): stop it with
       runuser -u postgres -- $pgbin/pg_ctl -D target/bench-postgres/data -m fast stop"
fi
rm -rf "$pgdir"
mkdir -p "$pgdir"
[ "$(id -u)" = 0 ] && chown postgres "$pgdir"
pg_port=$(free_port) || die "no free port"
log "initdb in target/bench-postgres (Postgres on 127.0.0.1:$pg_port)"
echo "$pg_password" >"$tmp/pwfile"
chmod 644 "$tmp/pwfile"
as_pg "$pgbin/initdb" -D "$pgdata" -U postgres --pwfile="$tmp/pwfile" --auth=scram-sha-256 -E UTF8 --locale=C \
  >"$pgdir/initdb.log" 2>&1 || die "initdb failed, see target/bench-postgres/initdb.log"
rm -f "$tmp/pwfile"
pg_settings="max_connections=300 shared_buffers=256MB fsync=off synchronous_commit=off full_page_writes=off max_wal_size=4GB checkpoint_timeout=30min"
{
  echo "# bench/pgbench-matrix.sh: benchmark settings, not for data you want to keep"
  echo "listen_addresses = '127.0.0.1'"
  echo "port = $pg_port"
  echo "unix_socket_directories = '$pgdir'"
  for s in $pg_settings; do echo "${s%%=*} = ${s#*=}"; done
  [ "$upstream_tls" = 1 ] && echo "ssl = on"
} >>"$pgdata/postgresql.conf"
if [ "$upstream_tls" = 1 ]; then
  command -v openssl >/dev/null || die "--upstream-tls needs the openssl command to make Postgres's certificate"
  as_pg openssl req -new -x509 -days 2 -nodes -subj /CN=localhost -addext subjectAltName=DNS:localhost \
    -keyout "$pgdata/server.key" -out "$pgdata/server.crt" >"$pgdir/openssl.log" 2>&1 \
    || die "openssl could not make a certificate, see target/bench-postgres/openssl.log"
  as_pg chmod 600 "$pgdata/server.key"
  pg_settings+=" ssl=on"
  # Only pgmux-base's upstream speaks TLS: pgbench and psql (also direct to Postgres) stay in plaintext.
  export PGSSLMODE=disable
fi
as_pg timeout 120 "$pgbin/pg_ctl" -D "$pgdata" -l "$pgdir/postgres.log" -w -t 60 start >/dev/null 2>&1 \
  || die "Postgres did not start, see target/bench-postgres/postgres.log"
pg_started=1

bench_password="bench-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
export PGCONNECT_TIMEOUT=20
psql_su() { PGPASSWORD=$pg_password psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres "$@"; }
psql_su -c "CREATE ROLE bench LOGIN PASSWORD '$bench_password'" -c "CREATE DATABASE bench OWNER bench" \
  >/dev/null || die "cannot create the bench role and database"
export PGPASSWORD=$bench_password
log "pgbench -i -s $scale"
timeout 1200 pgbench -i -q -s "$scale" -h 127.0.0.1 -p "$pg_port" -U bench bench >"$results_dir/pgbench-init.log" 2>&1 \
  || die "pgbench -i failed, see ${results_dir#"$repo"/}/pgbench-init.log"
psql_su -c "CHECKPOINT" >/dev/null
pg_version=$(psql_su -Atc "SHOW server_version" 2>/dev/null)
scram_secret=$(psql_su -Atc "SELECT rolpassword FROM pg_authid WHERE rolname = 'bench'")

declare -A port
port[direct]=$pg_port

# ---------------------------------------------------------------------------------------------
# pgmux

wait_sql() { # port name pid: waits up to 60 s until a query works through that port
  local p=$1 name=$2 pid=$3 i
  for i in $(seq 1 120); do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    if PGCONNECT_TIMEOUT=5 timeout 10 psql -X -Atq -h 127.0.0.1 -p "$p" -U bench -d bench -c "SELECT 1" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.5
  done
  return 1
}

# tenant_yaml LINES: "key: value" lines indented as keys of the benchmark tenant
tenant_yaml() { [ -n "$1" ] && printf '%s\n' "$1" | sed 's/^[[:space:]]*/    /'; }

# pgmux_config TRANSACTION_PORT SESSION_PORT ADMIN_PORT [TRANSPORT [SSLMODE [TENANT_LINES]]]: the configuration
# each pgmux process runs with
pgmux_config() {
  cat <<EOF
# generated by bench/pgbench-matrix.sh
listen:
  host: 127.0.0.1
  transaction_port: $1
  session_port: $2
  admin_port: $3
  transport: ${4:-auto}
default_tenant: bench
tenants:
  - id: bench
    upstream:
      host: 127.0.0.1
      port: $pg_port
      database: bench${5:+
      sslmode: $5}
    pool_size: $pool_size
    max_clients: 1000
    checkout_timeout: 120s
    users:
      - name: bench
        password: \${PGMUX_BENCH_PASSWORD}
$(tenant_yaml "${6:-}")
EOF
}

# launch_pgmux NAME JAVA_OPTIONS: runs $results_dir/NAME.jar with NAME.yaml in the background, output to
# NAME.log; sets launched_pid.
launch_pgmux() {
  # shellcheck disable=SC2086
  PGMUX_BENCH_PASSWORD=$bench_password java $2 -jar "$results_dir/$1.jar" \
    --config "$results_dir/$1.yaml" >"$results_dir/$1.log" 2>&1 </dev/null &
  launched_pid=$!
}

tx_sslmode="" base_sslmode=""
[ "$upstream_tls" = 1 ] && tx_sslmode=disable base_sslmode=require
if has_target pgmux-tx || has_target pgmux-session; then
  port[pgmux-tx]=$(free_port) && port[pgmux-session]=$(free_port) && pgmux_admin=$(free_port) || die "no free port"
  pgmux_config "${port[pgmux-tx]}" "${port[pgmux-session]}" "$pgmux_admin" auto "$tx_sslmode" "${PGMUX_TENANT_YAML:-}" \
    >"$results_dir/pgmux.yaml"
  if [ -n "${PGMUX_EXTRA_YAML:-}" ]; then
    printf '%s\n' "$PGMUX_EXTRA_YAML" >>"$results_dir/pgmux.yaml"
  fi
  log "starting pgmux: transaction port ${port[pgmux-tx]}, session port ${port[pgmux-session]}, log ${results_dir#"$repo"/}/pgmux.log"
  # shellcheck disable=SC2086
  pgmux_java_opts=$(echo $(pgmux_jvm_options) ${PGMUX_JAVA_OPTS:-}) # word-split and trimmed, for the report
  launch_pgmux pgmux "$pgmux_java_opts"
  pgmux_pid=$launched_pid
  for t in pgmux-tx pgmux-session; do
    has_target "$t" || continue
    wait_sql "${port[$t]}" "$t" "$pgmux_pid" \
      || die "pgmux does not answer on port ${port[$t]} ($t); last lines of its log:
$(tail -n 20 "$results_dir/pgmux.log")"
  done
fi
if has_target pgmux-base; then
  port[pgmux-base]=$(free_port) && base_session=$(free_port) && base_admin=$(free_port) || die "no free port"
  pgmux_config "${port[pgmux-base]}" "$base_session" "$base_admin" "${baseline_transport_arg:-auto}" "$base_sslmode" \
    "${PGMUX_BASELINE_TENANT_YAML:-}" >"$results_dir/pgmux-base.yaml"
  log "starting the baseline pgmux: transaction port ${port[pgmux-base]}, log ${results_dir#"$repo"/}/pgmux-base.log"
  # shellcheck disable=SC2086
  base_java_opts=$(echo $(pgmux_jvm_options) ${PGMUX_BASELINE_JAVA_OPTS:-})
  launch_pgmux pgmux-base "$base_java_opts"
  baseline_pid=$launched_pid
  wait_sql "${port[pgmux-base]}" pgmux-base "$baseline_pid" \
    || die "the baseline pgmux does not answer on port ${port[pgmux-base]}; last lines of its log:
$(tail -n 20 "$results_dir/pgmux-base.log")"
fi
if has_pgmux; then
  java_version=$(java -version 2>&1 | head -n 1)
fi

# ---------------------------------------------------------------------------------------------
# PgBouncer

if has_target pgbouncer; then
  port[pgbouncer]=$(free_port) || die "no free port"
  bdir="$results_dir/pgbouncer"
  mkdir -p "$bdir"
  printf '"bench" "%s"\n' "$scram_secret" >"$bdir/userlist.txt"
  cat >"$bdir/pgbouncer.ini" <<EOF
; generated by bench/pgbench-matrix.sh
[databases]
bench = host=127.0.0.1 port=$pg_port dbname=bench

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port[pgbouncer]}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $bdir/userlist.txt
pool_mode = transaction
default_pool_size = $pool_size
max_client_conn = 1000
logfile = $bdir/pgbouncer.log
pidfile =
EOF
  chmod 600 "$bdir/userlist.txt"
  if [ "$(id -u)" = 0 ]; then
    chown -R postgres "$bdir"
    "$pgbouncer_bin" -u postgres "$bdir/pgbouncer.ini" >"$bdir/stdout.log" 2>&1 </dev/null &
  else
    "$pgbouncer_bin" "$bdir/pgbouncer.ini" >"$bdir/stdout.log" 2>&1 </dev/null &
  fi
  pgbouncer_pid=$!
  log "starting PgBouncer: port ${port[pgbouncer]}, log ${bdir#"$repo"/}/pgbouncer.log"
  wait_sql "${port[pgbouncer]}" pgbouncer "$pgbouncer_pid" \
    || die "PgBouncer does not answer on port ${port[pgbouncer]}; last lines of its log:
$(tail -n 20 "$bdir/pgbouncer.log" "$bdir/stdout.log" 2>/dev/null)"
  pgbouncer_version=$("$pgbouncer_bin" --version 2>/dev/null | head -n 1)
fi

# ---------------------------------------------------------------------------------------------
# One pgbench run

pid_of() { case "$1" in pgmux-base) echo "$baseline_pid" ;; pgmux-*) echo "$pgmux_pid" ;; pgbouncer) echo "$pgbouncer_pid" ;; *) echo "" ;; esac; }

# Session mode gets at most pool_size clients (unless --session-all-clients): pgbench logs all its
# clients in before the first transaction, and a session-mode pooler gives every logged-in client a
# server of its own, so client pool_size+1 waits for a server that an idle client of the same
# pgbench holds, until checkout_timeout. Its ratio is then taken against direct Postgres with the
# same number of clients ("direct-pool", run only for those cases).
session_capped() { has_target pgmux-session && [ "$session_all" = 0 ] && [ "${case_clients[$1]}" -gt "$pool_size" ]; }
clients_for() {
  local c=${case_clients[$1]}
  case "$2" in
    direct-pool) echo "$pool_size" ;;
    pgmux-session) if session_capped "$1"; then echo "$pool_size"; else echo "$c"; fi ;;
    *) echo "$c" ;;
  esac
}
port_for() { if [ "$1" = direct-pool ]; then echo "${port[direct]}"; else echo "${port[$1]}"; fi; }
# 500 logins take seconds of the run: that case runs at least 10 s (pgbench's TPS leaves them out).
duration_for() { if [ "$1" = c500 ] && [ "$duration" -lt 10 ]; then echo 10; else echo "$duration"; fi; }

# Sets ticks (utime+stime, in clock ticks) and name (the command name) from a /proc/.../stat file; fails
# once that process or thread is gone. The name may hold spaces ("C2 CompilerThre"), so the other fields
# are counted from its closing parenthesis.
read_stat() {
  local line f
  read -r line 2>/dev/null <"$1" || return 1
  name=${line#*(} name=${name%)*}
  read -ra f <<<"${line##*) }"
  ticks=$(( f[11] + f[12] ))
}

# "EPOCHREALTIME ticks" every 0.2 s, ticks = utime+stime of the whole process (all threads).
sample_cpu() {
  local pid=$1 ticks name
  while read_stat "/proc/$pid/stat"; do
    echo "$EPOCHREALTIME $ticks"
    sleep 0.2
  done
}

# run_case CASE TARGET RUN: appends one line to runs.tsv:
#   case target run status tps mean_ms p99_ms failed transactions cpu_us_per_txn clients message
run_case() {
  local cs=$1 t=$2 r=$3 c dur out rc pid tps txns failed lat mean p99 win n tmin tmax cpu status msg
  c=$(clients_for "$cs" "$t")
  dur=$(duration_for "$cs")
  out="$results_dir/pgbench/$cs.$t.run$r.out"
  rm -rf "$tmp/log" "$tmp/cpu.samples" && mkdir -p "$tmp/log"
  pid=$(pid_of "$t")
  if [ -n "$pid" ]; then
    sample_cpu "$pid" >"$tmp/cpu.samples" &
    sampler_pid=$!
  fi
  # shellcheck disable=SC2086
  timeout -k 10 $((dur + 180)) pgbench -n -j "$jobs" -T "$dur" -c "$c" ${case_args[$cs]} \
    --log --log-prefix="$tmp/log/txn" -h 127.0.0.1 -p "$(port_for "$t")" -U bench bench >"$out" 2>&1 </dev/null &
  bench_pid=$!
  wait "$bench_pid"; rc=$?
  bench_pid=""
  if [ -n "$sampler_pid" ]; then kill "$sampler_pid" 2>/dev/null; wait "$sampler_pid" 2>/dev/null; sampler_pid=""; fi

  tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$out" | head -n 1)
  txns=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out" | head -n 1)
  failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out" | head -n 1)
  # Per-transaction log lines: "client_id transaction_no time_us script_no epoch_s epoch_us", the
  # epoch being when the transaction completed; failed transactions carry a word instead of a time
  # and are left out of the latency figures. p99 = the ceil(0.99 n)-th smallest latency.
  lat=$(cat "$tmp/log"/txn.* 2>/dev/null | awk '$3 ~ /^[0-9]+$/ {print $3}' | LC_ALL=C sort -n -S 256M \
        | awk '{v[NR]=$1; s+=$1} END {if (NR) {i=int(NR*0.99); if (i<NR*0.99) i++; printf "%.3f %.3f\n", s/NR/1000, v[i]/1000}}')
  read -r mean p99 <<<"$lat"
  # CPU of the pooler per transaction, over the window from the first to the last completed
  # transaction (so the logins before the first transaction are left out, except with -C where
  # every transaction includes its own login), from the samples interpolated at both ends.
  cpu=""
  if [ -n "$pid" ] && [ -s "$tmp/cpu.samples" ]; then
    win=$(cat "$tmp/log"/txn.* 2>/dev/null | awk '$3 ~ /^[0-9]+$/ {t = $5 + $6 / 1e6; if (n == 0 || t < a) a = t; if (n == 0 || t > b) b = t; n++}
                                               END {printf "%d %.6f %.6f\n", n, a, b}')
    read -r n tmin tmax <<<"$win"
    cpu=$(awk -v a="$tmin" -v b="$tmax" -v hz="$clk_tck" -v n="$n" '
      {T[NR] = $1; K[NR] = $2}
      function at(x,   i) {
        if (x <= T[1]) return K[1]
        for (i = 2; i <= NR; i++) if (T[i] >= x) return K[i-1] + (K[i] - K[i-1]) * (x - T[i-1]) / (T[i] - T[i-1])
        return K[NR]
      }
      END {if (NR >= 2 && n >= 2 && b > a) printf "%.1f", (at(b) - at(a)) / hz * 1e6 / (n - 1)}' "$tmp/cpu.samples")
  fi
  status=ok msg=""
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    status=fails msg="no result within $((dur + 180)) s (pgbench stopped)"
  elif [ "$rc" != 0 ] || [ -z "$tps" ] || [ -z "$txns" ] || grep -q '^pgbench: error: ' "$out"; then
    # pgbench 15 reports a failed preparation (PgBouncer's "prepared statement ... already exists") and
    # goes on: an error a client saw fails the run even when pgbench exits 0
    status=fails
    msg=$(grep -m 1 -iE 'error|fatal|abort|could not|failed' "$out")
    [ -n "$msg" ] || msg=$(grep -m 1 . "$out")
    [ -n "$msg" ] || msg="pgbench exit code $rc, no output"
    case "$msg" in *ERROR:*) msg="ERROR: ${msg#*ERROR:}" ;; *FATAL:*) msg="FATAL: ${msg#*FATAL:}" ;; esac
    msg=$(echo "$msg" | tr -s ' \t' ' ' | sed 's/^pgbench: error: //' | cut -c1-140)
    case "$msg" in *"too many clients"*|*"remaining connection slots"*) status=refused ;; esac
  elif [ "$txns" = 0 ]; then
    status=stalled msg="no transaction completed in $dur s"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$cs" "$t" "$r" "$status" "${tps:-}" "${mean:-}" \
    "${p99:-}" "${failed:-0}" "${txns:-0}" "$cpu" "$c" "$msg" >>"$results_dir/runs.tsv"
  if [ "$status" = ok ]; then
    log "  $cs  $(title "$t")  run $r: $(fmt_int "$tps") TPS, mean ${mean:-?} ms, p99 ${p99:-?} ms${cpu:+, $cpu µs/txn}"
  else
    log "  $cs  $(title "$t")  run $r: $status: $msg"
  fi
}

title() { if [ "$1" = direct-pool ]; then echo "direct PG -c $pool_size"; else echo "${target_title[$1]}"; fi; }

clk_tck=$(getconf CLK_TCK)
sampler_pid=""
: >"$results_dir/runs.tsv"

# ---------------------------------------------------------------------------------------------
# Warm-up (untimed): fills Postgres' caches and lets the JVM compile its hot paths

# Each kind of load warms up with at least three pgbench runs, so clients log in and leave three times:
# the JIT recompiles the hot paths when the login and logout branches first show up. Logins are rarer
# than queries (a few hundred a second), so -C gets the full --warmup per run. On pgmux, a kind of load
# runs again (up to 12 runs in all) while its JIT compiler threads still take more than 2% of pgmux's
# CPU in a run: code run once per login reaches the optimising compiler only after thousands of
# logins, about a minute of -C, and would otherwise be compiled during the measured runs.
warmup_round=$(( (warmup + 2) / 3 ))
warmup_min_runs=3 warmup_max_runs=12 jit_settled_percent=2
[ "$quick" = 1 ] && warmup_max_runs=3 # a smoke run checks that everything works, not steady state

# Sets jit and cpu to the CPU ticks of process $1's JIT compiler threads and of the whole process
# (compiler threads that exit take theirs along, which can only make a run look more settled than it
# was: a short extra run at most).
jit_and_cpu_ticks() {
  local task ticks name
  jit=0 cpu=0
  for task in /proc/"$1"/task/*; do
    read_stat "$task/stat" || continue
    case "$name" in C1\ Compiler*|C2\ Compiler*) jit=$(( jit + ticks )) ;; esac
  done
  if read_stat "/proc/$1/stat"; then cpu=$ticks; fi
}

if [ "$warmup" -gt 0 ]; then
  log "warm-up: 3 x $warmup_round s of pgbench -S -c 50 per target and protocol and of TPC-B, 3 x $warmup s of -C (not measured); on pgmux each repeated until its JIT settles"
  for t in "${targets[@]}"; do
    pid=$(pid_of "$t")
    jit_settles=0
    case "$t" in pgmux-*) jit_settles=1 ;; esac
    for m in "-S -M simple" "-S -M extended" "-S -M prepared" "-M simple" "-C -S -M simple"; do
      # As many clients as the -c 50 cases (so a transaction pooler's checkout queue warms up too); a
      # session pooler serves only pool_size of them, and -C logs in per transaction.
      clients=50 seconds=$warmup_round
      if [ "$m" = "-C -S -M simple" ]; then clients=$pool_size seconds=$warmup; fi
      if [ "$t" = pgmux-session ] && [ "$session_all" = 0 ]; then clients=$pool_size; fi
      round=0
      while :; do
        round=$(( round + 1 ))
        if [ "$jit_settles" = 1 ]; then jit_and_cpu_ticks "$pid"; jit0=$jit cpu0=$cpu; fi
        # shellcheck disable=SC2086
        timeout -k 10 $((seconds + 60)) pgbench -n -j "$jobs" -T "$seconds" -c "$clients" $m \
          -h 127.0.0.1 -p "${port[$t]}" -U bench bench >>"$results_dir/warmup.log" 2>&1 </dev/null &
        bench_pid=$!
        wait "$bench_pid"
        bench_pid=""
        [ "$round" -lt "$warmup_min_runs" ] && continue
        [ "$jit_settles" = 1 ] || break
        jit_and_cpu_ticks "$pid"
        jit=$(( jit - jit0 )) cpu=$(( cpu - cpu0 ))
        echo "warm-up $t $m run $round: JIT compiler threads $jit of $cpu CPU ticks" >>"$results_dir/warmup.log"
        if [ $(( jit * 100 )) -le $(( cpu * jit_settled_percent )) ] || [ "$round" -ge "$warmup_max_runs" ]; then
          [ "$round" -gt "$warmup_min_runs" ] && log "warm-up: $t $m took $round runs for pgmux's JIT to settle"
          break
        fi
      done
    done
  done
fi

# ---------------------------------------------------------------------------------------------
# The matrix: run 1 of every case and target, then run 2, ...

started=$(date -u '+%Y-%m-%d %H:%M UTC')
total=0
for cs in "${cases[@]}"; do
  total=$(( total + ${#targets[@]} ))
  has_target direct && session_capped "$cs" && total=$(( total + 1 ))
done
total=$(( total * runs ))
log "matrix: ${#cases[@]} cases x ${#targets[@]} targets x $runs run(s) of $duration s ($total pgbench runs)"
# Each run starts one target further along the list, so that no target always follows the same one
# (and meets whatever that one leaves behind) or always goes first.
for r in $(seq 1 "$runs"); do
  shift_by=$(( (r - 1) % ${#targets[@]} ))
  order=("${targets[@]:$shift_by}" "${targets[@]:0:$shift_by}")
  for cs in "${cases[@]}"; do
    for t in "${order[@]}"; do
      run_case "$cs" "$t" "$r"
      if [ "$t" = direct ] && session_capped "$cs"; then run_case "$cs" direct-pool "$r"; fi
    done
  done
done
finished=$(date -u '+%H:%M UTC')

# ---------------------------------------------------------------------------------------------
# Report

# cell CASE TARGET -> c_status c_msg c_bad c_runs c_tps c_all c_mean c_p99 c_failed c_cpu c_clients (medians
# over ok runs). A run that failed or was refused fails its cell: an error is not noise. A run that stalled
# (no transaction completed, as when the host's steal time outlasts 500 clients' logins) is reported
# beside the other runs' figures (c_bad of c_runs, with its c_msg) rather than hiding them; a cell whose
# every run stalled fails.
cell() {
  local rows bad
  rows=$(awk -F'\t' -v c="$1" -v t="$2" '$1==c && $2==t' "$results_dir/runs.tsv")
  c_status=none c_msg="" c_bad=0 c_runs=0 c_tps="" c_all="" c_mean="" c_p99="" c_failed=0 c_cpu="" c_clients=""
  [ -n "$rows" ] || return 0
  c_status=ok
  c_runs=$(printf '%s\n' "$rows" | wc -l)
  c_clients=$(printf '%s\n' "$rows" | head -n 1 | cut -f11)
  bad=$(printf '%s\n' "$rows" | awk -F'\t' '$4!="ok" && $4!="stalled"' | head -n 1)
  if [ -n "$bad" ]; then
    c_status=$(cut -f4 <<<"$bad") c_msg=$(cut -f12 <<<"$bad")
    return 0
  fi
  bad=$(printf '%s\n' "$rows" | awk -F'\t' '$4=="stalled"')
  if [ -n "$bad" ]; then
    c_bad=$(wc -l <<<"$bad") c_msg=$(head -n 1 <<<"$bad" | cut -f12)
    [ "$c_bad" -lt "$c_runs" ] || c_status=fails
  fi
  c_tps=$(printf '%s\n' "$rows" | awk -F'\t' '$4=="ok" {print $5}' | median)
  c_all=$(printf '%s\n' "$rows" | awk -F'\t' '$4=="ok" {printf "%s%.0f", (n++ ? " / " : ""), $5}')
  c_mean=$(printf '%s\n' "$rows" | awk -F'\t' '$4=="ok" && $6!="" {print $6}' | median)
  c_p99=$(printf '%s\n' "$rows" | awk -F'\t' '$4=="ok" && $7!="" {print $7}' | median)
  c_failed=$(printf '%s\n' "$rows" | awk -F'\t' '{s+=$8} END {print s+0}')
  c_cpu=$(printf '%s\n' "$rows" | awk -F'\t' '$4=="ok" && $10!="" {print $10}' | median)
}

# base CASE TARGET -> b_tps b_note: the direct Postgres TPS this cell is compared with
base() {
  local cs=$1 t=$2
  b_tps="" b_note=""
  if [ "$t" = pgmux-session ] && session_capped "$cs"; then
    cell "$cs" direct-pool
    [ "$c_status" = ok ] && b_tps=$c_tps b_note="vs direct -c $pool_size"
    return 0
  fi
  cell "$cs" direct
  if [ "$c_status" = ok ]; then b_tps=$c_tps; return 0; fi
  if [ "$cs" = c500 ]; then
    cell simple direct
    [ "$c_status" = ok ] && b_tps=$c_tps b_note="vs direct -c 50"
  fi
  return 0
}

ratio() { if [ -n "$1" ] && [ -n "$2" ]; then awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; fi; }
ms() { if [ -n "$1" ]; then awk -v x="$1" 'BEGIN {printf "%.2f", x}'; fi; }

machine_cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
mem_gib=$(awk '/^MemTotal/ {printf "%.1f", $2/1048576}' /proc/meminfo)
git_rev=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$repo" diff --quiet HEAD -- 2>/dev/null || git_rev+=" with uncommitted changes"
machine="$(nproc) CPUs${machine_cpu:+ ($machine_cpu)}, $mem_gib GiB RAM, $(uname -sr)"

text="$results_dir/table.txt"
md="$results_dir/table.md"
detail=$(mktemp "$tmp/detail.XXXXXX")

{
  echo
  echo "pgbench matrix, $started - $finished: median of $runs run(s) of $duration s per cell, runs interleaved across targets, the order rotated each run"
  echo "command:   $cmdline"
  echo "machine:   $machine"
  echo "Postgres:  $pg_version, $pg_settings (benchmark settings), pgbench -i -s $scale, SCRAM-SHA-256"
  [ -n "${java_version:-}" ] && echo "pgmux:     $git_rev, $jar_facts; $java_version${pgmux_java_opts:+, JVM options $pgmux_java_opts}; $(transport_of "$results_dir/pgmux.log") transport; pool_size $pool_size"
  [ -n "${base_jar_facts:-}" ] && echo "baseline:  pgmux-base: $base_jar_facts${base_java_opts:+, JVM options $base_java_opts}; $(transport_of "$results_dir/pgmux-base.log") transport"
  [ -n "${PGMUX_TENANT_YAML:-}" ] && echo "tenant:    pgmux-tx/pgmux-session: $(printf '%s' "$PGMUX_TENANT_YAML" | tr '\n' ';')"
  [ -n "${PGMUX_BASELINE_TENANT_YAML:-}" ] && echo "tenant:    pgmux-base: $(printf '%s' "$PGMUX_BASELINE_TENANT_YAML" | tr '\n' ';')"
  [ -n "${pgbouncer_version:-}" ] && echo "PgBouncer: $pgbouncer_version, pool_mode=transaction, default_pool_size=$pool_size"
  [ -n "$pgbouncer_note" ] && echo "note:      $pgbouncer_note"
  echo "pgbench -n -j $jobs -T $duration after a warm-up per target of 3 x $warmup_round s with each of -S -M simple, -S -M extended, -S -M prepared, TPC-B and of 3 x $warmup s of -C,"
  echo "each repeated on pgmux (up to $warmup_max_runs runs) until its JIT compiler threads take under $jit_settled_percent% of its CPU in a run;"
  echo "mean and p99 latency from pgbench's per-transaction log;"
  echo "CPU = utime+stime of the pooler process per transaction, from first to last completed transaction"
  echo
  printf '%-9s %-28s %4s %9s %6s %8s %8s %7s %8s  %s\n' case target "-c" TPS ratio "mean ms" "p99 ms" failed "CPU µs" "runs (TPS) / note"
} >"$text"

{
  echo "Measured $started with \`$cmdline\`:"
  echo
  echo "- machine: $machine"
  echo "- Postgres $pg_version with \`${pg_settings// /\`, \`}\` (benchmark settings), \`pgbench -i -s $scale\`, SCRAM-SHA-256 to every target, $([ "$upstream_tls" = 1 ] && echo "TLS only between pgmux-base and Postgres" || echo "no TLS")"
  [ -n "${java_version:-}" ] && echo "- pgmux $git_rev ($jar_facts) on $java_version${pgmux_java_opts:+ with \`$pgmux_java_opts\`}, $(transport_of "$results_dir/pgmux.log") transport, \`pool_size: $pool_size\`"
  [ -n "${base_jar_facts:-}" ] && echo "- ${target_title[pgmux-base]}: $base_jar_facts${base_java_opts:+ with \`$base_java_opts\`}, $(transport_of "$results_dir/pgmux-base.log") transport, otherwise the same configuration"
  [ "$upstream_tls" = 1 ] && echo "- upstream TLS: Postgres with \`ssl = on\` (self-signed RSA certificate); pgmux-tx logs in with \`sslmode: disable\`, pgmux-base with \`sslmode: require\`; every client connects in plaintext (\`PGSSLMODE=disable\`)"
  [ -n "${pgbouncer_version:-}" ] && echo "- $pgbouncer_version from Debian, \`pool_mode = transaction\`, \`default_pool_size = $pool_size\`"
  [ -n "$pgbouncer_note" ] && echo "- $pgbouncer_note"
  echo "- \`pgbench -n -j $jobs -T $duration\`, median of $runs run(s) per cell, runs interleaved across targets (the order rotated each run), after an unmeasured warm-up per target: three runs of $warmup_round s with each of \`-S -c 50\` \`-M simple\`, \`-M extended\`, \`-M prepared\` and TPC-B \`-c 50\` (\`-c $pool_size\` for session mode), and three of $warmup s of \`-C -S -c $pool_size\`, each repeated on pgmux (up to $warmup_max_runs runs) until its JIT compiler threads take under $jit_settled_percent% of its CPU in a run"
  echo
  echo "Each cell: TPS (ratio to direct Postgres in the same case) · mean / p99 latency · pooler CPU per transaction."
  echo
  printf '| case (pgbench) |'
  for t in "${targets[@]}"; do printf ' %s |' "${target_title[$t]}"; done
  echo
  printf '|---|'
  for t in "${targets[@]}"; do printf -- '---|'; done
  echo
} >"$md"
{
  echo
  echo "All cells, with the TPS of each run:"
  echo
  echo "| case | target | clients | TPS | ratio | mean ms | p99 ms | failed | CPU µs/txn | TPS of each run |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
} >"$detail"

notes_session=0 notes_c500=0
for cs in "${cases[@]}"; do
  row="| ${case_label[$cs]} |"
  rows_targets=("${targets[@]}")
  if has_target direct && session_capped "$cs"; then
    rows_targets=()
    for t in "${targets[@]}"; do rows_targets+=("$t"); [ "$t" = direct ] && rows_targets+=(direct-pool); done
  fi
  for t in "${rows_targets[@]}"; do
    base "$cs" "$t"
    cell "$cs" "$t"
    m=$(printf '%s' "$c_msg" | sed 's/|/\\|/g; s/`/'"'"'/g') # as markdown code
    if [ "$c_status" = ok ]; then
      r=$(ratio "$c_tps" "$b_tps")
      stalled=""
      [ "$c_bad" != 0 ] && stalled="$c_bad of $c_runs runs stalled"
      note=$b_note
      [ "$c_failed" != 0 ] && note="${note:+$note; }$c_failed failed"
      [ -n "$stalled" ] && note="${note:+$note; }$stalled: $c_msg"
      printf '%-9s %-28s %4s %9s %6s %8s %8s %7s %8s  %s\n' "$cs" "$(title "$t")" "$c_clients" "$(fmt_int "$c_tps")" "${r:--}" \
        "$(ms "$c_mean")" "$(ms "$c_p99")" "$c_failed" "${c_cpu:--}" "$c_all${note:+ ($note)}" >>"$text"
      printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "${case_label[$cs]}" "$(title "$t")" "$c_clients" \
        "$(fmt_int "$c_tps")" "${r:--}${b_note:+ ($b_note)}" "$(ms "$c_mean")" "$(ms "$c_p99")" "$c_failed" "${c_cpu:--}" "$c_all${stalled:+ ($stalled: \`$m\`)}" >>"$detail"
      cellmd="$(fmt_int "$c_tps") (${r:--})<br>$(ms "$c_mean") / $(ms "$c_p99") ms"
      [ -n "$c_cpu" ] && cellmd+="<br>$(printf '%.0f' "$c_cpu") µs/txn"
      [ "$c_failed" != 0 ] && cellmd+="<br>$c_failed failed"
      [ -n "$stalled" ] && cellmd+="<br>**$stalled**: \`$m\`"
      if [ -n "$b_note" ]; then
        if [ "$c_clients" != "${case_clients[$cs]}" ]; then cellmd+="<br>(\`-c $c_clients\`, ratio $b_note)"; else cellmd+="<br>(ratio $b_note)"; fi
        case "$b_note" in *"-c 50"*) notes_c500=1 ;; *) notes_session=1 ;; esac
      fi
    elif [ "$c_status" = none ]; then
      cellmd="–"
    else
      printf '%-9s %-28s %4s %9s %6s %8s %8s %7s %8s  %s\n' "$cs" "$(title "$t")" "$c_clients" "$c_status" - - - - - "$c_msg" >>"$text"
      printf '| %s | %s | %s | %s: `%s` | | | | | | |\n' "${case_label[$cs]}" "$(title "$t")" "$c_clients" "$c_status" "$m" >>"$detail"
      if [ "$c_status" = refused ]; then cellmd="refused: \`$m\`"; else cellmd="**fails**: \`$m\`"; fi
    fi
    [ "$t" = direct-pool ] || row+=" $cellmd |"
  done
  echo "$row" >>"$md"
done
cat "$detail" >>"$md"

# paired CASE TARGET -> p_runs p_tps p_low p_high p_ahead p_cpu: TARGET against PgBouncer run by run
# (bench/paired-ratios.awk, which also pools the runs of several matrices).
paired() {
  read -r p_runs p_tps p_low p_high p_ahead p_cpu p_cpud < <(awk -F'\t' -v c="$1" -v t="$2" -v ref="${3:-pgbouncer}" \
    -f "$repo/bench/paired-ratios.awk" "$results_dir/runs.tsv")
}

paired_rows="" paired_lines=""
if has_target pgbouncer; then
  for cs in "${cases[@]}"; do
    cell "$cs" pgbouncer
    [ "$c_status" = ok ] || continue
    for t in pgmux-tx pgmux-base; do
      has_target "$t" || continue
      paired "$cs" "$t"
      [ "${p_runs:-0}" -gt 1 ] || continue
      paired_rows+="| ${case_label[$cs]} | $(title "$t") | $p_runs | $p_tps ($p_low – $p_high) | $p_ahead of $p_runs | $p_cpu |"$'\n'
      paired_lines+=$(printf '%-9s %-28s runs %2s  TPS ratio %s (%s - %s), more TPS in %s of %s  CPU ratio %s' "$cs" \
        "$(title "$t")" "$p_runs" "$p_tps" "$p_low" "$p_high" "$p_ahead" "$p_runs" "$p_cpu")$'\n'
    done
  done
fi
{
  if [ "$notes_session" = 1 ]; then
    echo
    echo "Session mode ran with at most pool_size = $pool_size clients, and its ratio is to direct Postgres with as many"
    echo "clients: pgbench logs every client in before the first transaction, and a session-mode pooler gives each"
    echo "logged-in client a server of its own, so with more clients than servers the extra logins wait for a"
    echo "server that an idle client of the same pgbench holds, until checkout_timeout or the client's connect"
    echo "timeout (--session-all-clients runs them anyway)."
  fi
  if [ "$notes_c500" = 1 ]; then
    echo
    echo "500 clients: direct Postgres refuses them (max_connections=300); ratios in that row are to direct Postgres"
    echo "with -c 50 -S -M simple."
  fi
} | tee -a "$md" >>"$text"
if [ -n "$paired_rows" ]; then
  {
    echo
    echo "pgmux against PgBouncer run by run (both ran in the same round, so the machine's drift between rounds"
    echo "largely cancels): geometric mean of the per-run ratios of TPS, with a 95% interval, the runs in which"
    echo "pgmux had more TPS, and the geometric mean of the per-run ratios of CPU per transaction. Within a round"
    echo "pgmux's TPS over PgBouncer's equals its ratio to direct Postgres over PgBouncer's, so 1 or more means"
    echo "pgmux's throughput ratio to direct is at least PgBouncer's."
    echo
    echo "| case | target | runs | TPS / PgBouncer's (95% interval) | more TPS in | CPU / PgBouncer's |"
    echo "|---|---|---|---|---|---|"
    printf '%s' "$paired_rows"
  } >>"$md"
  { echo; echo "against PgBouncer run by run (geometric means of per-run ratios, 95% interval):"; printf '%s' "$paired_lines"; } >>"$text"
fi

if [ "$upstream_tls" = 1 ] && has_target pgmux-tx && has_target pgmux-base; then
  tls_rows="" tls_lines=""
  for cs in "${cases[@]}"; do
    paired "$cs" pgmux-base pgmux-tx
    [ "${p_runs:-0}" -gt 0 ] || continue
    tls_rows+="| ${case_label[$cs]} | $p_runs | $p_tps ($p_low – $p_high) | $p_ahead of $p_runs | $p_cpud | $p_cpu |"$'\n'
    tls_lines+=$(printf '%-9s runs %2s  TPS ratio %s (%s - %s), more TPS in %s of %s  CPU %s µs/txn (ratio %s)' "$cs" \
      "$p_runs" "$p_tps" "$p_low" "$p_high" "$p_ahead" "$p_runs" "$p_cpud" "$p_cpu")$'\n'
  done
  {
    echo
    echo "pgmux with a TLS upstream (sslmode=require) against pgmux with a plaintext upstream, run by run (both"
    echo "in the same round): geometric mean of the per-run TPS ratios with a 95% interval, the runs in which"
    echo "the TLS upstream had more TPS, and pgmux's CPU per transaction, TLS minus plaintext (mean of the"
    echo "per-run differences) and as a ratio (geometric mean)."
    echo
    echo "| case | runs | TPS TLS / plaintext (95% interval) | more TPS in | CPU µs/txn, TLS − plaintext | CPU ratio |"
    echo "|---|---|---|---|---|---|"
    printf '%s' "$tls_rows"
  } >>"$md"
  { echo; echo "TLS upstream against plaintext upstream run by run:"; printf '%s' "$tls_lines"; } >>"$text"
fi

cat "$text"
if [ -n "$markdown_out" ]; then
  cp "$md" "$markdown_out" && log "markdown report written to $markdown_out"
fi
log "raw results: ${results_dir#"$repo"/}/runs.tsv, markdown: ${results_dir#"$repo"/}/table.md"

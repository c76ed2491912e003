#!/usr/bin/env bash
# Memory per idle client: opens thousands of authenticated (SCRAM), idle clients on pgmux's transaction
# port and on PgBouncer's, and reports what each costs:
#
#   (a) pgmux's live heap after a full GC (jcmd GC.class_histogram), against a full-GC baseline with no client
#   (b) pgmux's native memory: RSS growth with a fixed, pre-touched heap (-Xms = -Xmx, -XX:+AlwaysPreTouch)
#   (c) pgmux's RSS growth with the JVM options it ships (scripts/jdk.sh pgmux_jvm_options), once idle
#   (d) PgBouncer's RSS growth
#
#   bench/idle-clients.sh                          # 2,000 and 10,000 clients
#   bench/idle-clients.sh --counts 1000 --settle 10 --no-pgbouncer
#   bench/idle-clients.sh --variant 'JDK defaults=' --variant 'G1, no periodic GC=-XX:+UseG1GC'
#
# Everything runs on 127.0.0.1: a private Postgres cluster under target/bench-idle-postgres (created afresh
# each time), pgmux from proxy/target/pgmux.jar, PgBouncer from /usr/sbin/pgbouncer, the clients from
# bench/idle-clients.py. Logs, configurations and class histograms stay under
# target/bench-results/idle-<date>/. See docs/benchmarks.md, "Memory per idle client".
set -uo pipefail
export LC_NUMERIC=C

usage() {
  cat <<'EOF'
usage: bench/idle-clients.sh [options]

  --counts LIST          comma-separated client counts, ascending, all held at once in each run
                         (default 2000,10000)
  --settle S             seconds the process is left idle before each RSS reading: the RSS is read every
                         second meanwhile and the last reading counts (default 70: the shipped options
                         collect once pgmux has gone 30 s without a collection, checked every 30 s)
  --heap SIZE            -Xms and -Xmx of the fixed-heap run (b) (default 512m)
  --top N                classes listed per client from the histogram at the largest count (default 15)
  --variant 'LABEL=OPTS' one more RSS run like (c), with these JVM options instead of the shipped heap
                         options (the JDK's --sun-misc-unsafe-memory-access and compact headers are kept);
                         may be repeated, e.g. --variant 'JDK defaults='
  --runs LIST            comma-separated subset of the runs: shipped (c), fixed (a, b), pgbouncer (d)
                         (default all three; the --variant runs come in addition)
  --nmt                  run (a, b) with -XX:NativeMemoryTracking=summary and report the growth of the JVM's
                         native memory by category (jcmd VM.native_memory summary.diff; tracking itself
                         costs some memory, so (b) then reads a little higher)
  --transport T          pgmux's listen.transport: auto, io_uring, epoll or nio (default auto)
  --jar FILE             measure this pgmux jar instead of proxy/target/pgmux.jar
  --install-pgbouncer    apt-get install -y pgbouncer when /usr/sbin/pgbouncer is missing
  --no-pgbouncer         leave PgBouncer out
  --markdown FILE        also write the report as markdown to FILE
  -h, --help             this text

Environment: PGMUX_JAVA_OPTS is added to every pgmux JVM's options (after the ones of the run).
EOF
}

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 1
cmdline="bench/idle-clients.sh"
for a in "$@"; do cmdline+=" $(printf '%q' "$a")"; done

counts_arg="2000,10000" settle=70 heap=512m top=15 jar_arg="" install_pgbouncer=0 use_pgbouncer=1 markdown_out="" nmt=0 transport_arg=auto runs_arg="shipped,fixed,pgbouncer"
variants=()
need_value() { [ $# -ge 2 ] && [ -n "$2" ] || { echo "$1 needs a value" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case "$1" in
    --counts) need_value "$@"; counts_arg=$2; shift ;;
    --settle) need_value "$@"; settle=$2; shift ;;
    --heap) need_value "$@"; heap=$2; shift ;;
    --top) need_value "$@"; top=$2; shift ;;
    --variant) need_value "$@"; variants+=("$2"); shift ;;
    --jar) need_value "$@"; jar_arg=$2; shift ;;
    --nmt) nmt=1 ;;
    --transport) need_value "$@"; transport_arg=$2; shift ;;
    --runs) need_value "$@"; runs_arg=$2; shift ;;
    --install-pgbouncer) install_pgbouncer=1 ;;
    --no-pgbouncer) use_pgbouncer=0 ;;
    --markdown) need_value "$@"; markdown_out=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
IFS=',' read -ra counts <<<"$counts_arg"
previous=0
for c in "${counts[@]}"; do
  case "$c" in ''|*[!0-9]*|0) echo "--counts takes positive whole numbers, got '$c'" >&2; exit 2 ;; esac
  [ "$c" -gt "$previous" ] || { echo "--counts must be ascending" >&2; exit 2; }
  previous=$c
done
max_count=$previous
for r in ${runs_arg//,/ }; do
  case "$r" in shipped|fixed|pgbouncer) ;; *) echo "unknown run: $r (known: shipped, fixed, pgbouncer)" >&2; exit 2 ;; esac
done
has_run() { case ",$runs_arg," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
for v in settle top; do
  case "${!v}" in ''|*[!0-9]*) echo "--$v must be a whole number, got '${!v}'" >&2; exit 2 ;; esac
done
case "$heap" in *[0-9][kKmMgG]|*[0-9]) ;; *) echo "--heap takes a JVM size such as 512m, got '$heap'" >&2; exit 2 ;; esac
for v in "${variants[@]}"; do
  case "$v" in ?*=*) ;; *) echo "--variant takes LABEL=OPTIONS, got '$v'" >&2; exit 2 ;; esac
done

# ---------------------------------------------------------------------------------------------
# Helpers

log() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
fmt_int() { [ "$1" = - ] && { echo -; return; }; LC_ALL=C awk -v x="$1" 'BEGIN {n=sprintf("%.0f", x); s=""; while (length(n) > 3) {s="," substr(n, length(n)-2) s; n=substr(n, 1, length(n)-3)} print n s}'; }
per_client() { # bytes: (b - a) / n, or - when not measured
  if [ -z "$1" ] || [ -z "$2" ]; then echo -; else awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN {printf "%.0f", (b - a) / n}'; fi
}

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

# ---------------------------------------------------------------------------------------------
# Cleanup: only what this script started, by pid; also on Ctrl-C and errors

target_pid="" helper_pid="" pg_started=0 tmp="" pgbin="" pgdata=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_clients
  if [ -n "$target_pid" ]; then log "stopping $target_name (pid $target_pid)"; stop_pid "$target_pid" "$target_name"; fi
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

command -v python3 >/dev/null || die "python3 not found"
command -v psql >/dev/null || die "psql not found: apt-get install postgresql-client"
pgbin=$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$pgbin" ] && [ -x "$pgbin/initdb" ] || die "no PostgreSQL server binaries found: apt-get install postgresql"
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  die "running as root needs a 'postgres' system user to run Postgres and PgBouncer"
fi
# Each client is a descriptor in the client process and one in the pooler (which inherits this limit).
need_fds=$((max_count + 1000))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need_fds" ]; then
  ulimit -n "$need_fds" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  [ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge "$need_fds" ] \
    || die "$max_count clients need ulimit -n $need_fds; the hard limit is $(ulimit -Hn)"
fi

mkdir -p target
exec 9>target/bench-idle.lock
flock -n 9 || die "another bench/idle-clients.sh is running (target/bench-idle.lock)"

results_dir="$repo/target/bench-results/idle-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$results_dir"
tmp=$(mktemp -d /tmp/pgmux-idle.XXXXXX)
chmod 755 "$tmp"

pgbouncer_bin=/usr/sbin/pgbouncer
pgbouncer_note=""
if [ "$use_pgbouncer" = 1 ] && [ ! -x "$pgbouncer_bin" ] && [ "$install_pgbouncer" = 1 ]; then
  log "installing PgBouncer (apt-get install -y pgbouncer)"
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 timeout 600 $sudo apt-get install -y -q pgbouncer \
    >"$results_dir/apt-get.log" 2>&1 || log "apt-get install pgbouncer failed (see ${results_dir#"$repo"/}/apt-get.log)"
fi
has_run pgbouncer || use_pgbouncer=0
if [ "$use_pgbouncer" = 0 ]; then
  pgbouncer_note="PgBouncer left out (--no-pgbouncer)"
elif [ ! -x "$pgbouncer_bin" ]; then
  use_pgbouncer=0
  pgbouncer_note="PgBouncer not installed ($pgbouncer_bin missing); --install-pgbouncer installs it"
fi
[ -n "$pgbouncer_note" ] && log "$pgbouncer_note"

# shellcheck disable=SC1091
. scripts/jdk.sh || die "no JDK 21+ found"
jar=${jar_arg:-proxy/target/pgmux.jar}
[ -f "$jar" ] || die "no pgmux jar at $jar: build it with mvn -DskipTests package"
cp "$jar" "$results_dir/pgmux.jar"
jar_facts="$(basename "$jar"), built $(date -u -r "$jar" '+%Y-%m-%d %H:%M UTC'), sha256 $(sha256sum "$jar" | cut -c1-12)"
# shellcheck disable=SC2046
shipped_opts=$(echo $(pgmux_jvm_options))
# The options every run keeps: those that are not about the heap or the collector.
base_opts=$(for o in $shipped_opts; do case "$o" in -Xm*|-XX:*GC*|-XX:*Heap*|-XX:*RAM*) ;; *) printf '%s ' "$o" ;; esac; done)
java_version=$(java -version 2>&1 | head -n 1)

# ---------------------------------------------------------------------------------------------
# Postgres: a fresh private cluster with one user for the clients

pg_password="bench-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
pgdir="$repo/target/bench-idle-postgres"
pgdata="$pgdir/data"
if [ -f "$pgdata/postmaster.pid" ] && as_pg "$pgbin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
  die "a Postgres is still running in target/bench-idle-postgres (left by an interrupted run?): stop it with
       runuser -u postgres -- $pgbin/pg_ctl -D target/bench-idle-postgres/data -m fast stop"
fi
rm -rf "$pgdir"
mkdir -p "$pgdir"
[ "$(id -u)" = 0 ] && chown postgres "$pgdir"
pg_port=$(free_port) || die "no free port"
log "initdb in target/bench-idle-postgres (Postgres on 127.0.0.1:$pg_port)"
echo "$pg_password" >"$tmp/pwfile"
chmod 644 "$tmp/pwfile"
as_pg "$pgbin/initdb" -D "$pgdata" -U postgres --pwfile="$tmp/pwfile" --auth=scram-sha-256 -E UTF8 --locale=C \
  >"$pgdir/initdb.log" 2>&1 || die "initdb failed, see target/bench-idle-postgres/initdb.log"
rm -f "$tmp/pwfile"
{
  echo "# bench/idle-clients.sh"
  echo "listen_addresses = '127.0.0.1'"
  echo "port = $pg_port"
  echo "unix_socket_directories = '$pgdir'"
  echo "max_connections = 50"
  echo "fsync = off"
} >>"$pgdata/postgresql.conf"
as_pg timeout 120 "$pgbin/pg_ctl" -D "$pgdata" -l "$pgdir/postgres.log" -w -t 60 start >/dev/null 2>&1 \
  || die "Postgres did not start, see target/bench-idle-postgres/postgres.log"
pg_started=1

bench_password="bench-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
export PGCONNECT_TIMEOUT=20
PGPASSWORD=$pg_password psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres \
  -c "CREATE ROLE bench LOGIN PASSWORD '$bench_password'" -c "CREATE DATABASE bench OWNER bench" >/dev/null \
  || die "cannot create the bench role and database"
pg_version=$(PGPASSWORD=$pg_password psql -X -Atq -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c "SHOW server_version")
scram_secret=$(PGPASSWORD=$pg_password psql -X -Atq -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres \
  -c "SELECT rolpassword FROM pg_authid WHERE rolname = 'bench'")
export PGPASSWORD=$bench_password

# ---------------------------------------------------------------------------------------------
# The clients: bench/idle-clients.py as a coprocess, driven one command at a time

start_clients() { # PORT
  coproc CLIENTS { exec python3 "$repo/bench/idle-clients.py" --port "$1" --user bench.bench --database bench \
    2>>"$results_dir/clients.log"; }
  helper_pid=$CLIENTS_PID
}
clients_say() { # COMMAND: sends it, prints the answer (at most 15 minutes' wait)
  local answer=""
  echo "$1" >&"${CLIENTS[1]}" || return 1
  read -t 900 -r answer <&"${CLIENTS[0]}" || return 1
  echo "$answer"
}
stop_clients() {
  [ -n "$helper_pid" ] || return 0
  if kill -0 "$helper_pid" 2>/dev/null; then
    { clients_say close >/dev/null; } 2>/dev/null
    eval "exec ${CLIENTS[1]}>&-" 2>/dev/null
  fi
  stop_pid "$helper_pid" clients
  helper_pid=""
}
open_clients() { # N
  local answer
  answer=$(clients_say "open $1") || die "the client process stopped answering (see ${results_dir#"$repo"/}/clients.log)"
  case "$answer" in
    opened*) log "$1 idle clients open (logged in in ${answer##* } s)" ;;
    *) die "opening $1 clients on $target_name: $answer" ;;
  esac
}

# Reads RSS every second for --settle seconds, the process left alone; prints the last reading, in bytes.
settled_rss() {
  local i kb=0
  for i in $(seq 1 "$settle"); do sleep 1; kb=$(rss_kb "$target_pid"); done
  [ "$settle" = 0 ] && kb=$(rss_kb "$target_pid")
  echo $((kb * 1024))
}
# The direct memory Netty's buffer allocator holds (pgmux's metric), in bytes, or nothing.
netty_direct() {
  command -v curl >/dev/null || return 0
  curl -s --max-time 10 "http://127.0.0.1:$target_admin/metrics" 2>/dev/null \
    | awk '/^pgmux_netty_direct_memory_used_bytes/ {printf "%.0f", $2; exit}'
}
# Live heap after a full GC: the total of a class histogram (which runs one), in bytes; kept as FILE.
live_heap() { # FILE
  jcmd "$target_pid" GC.class_histogram >"$1" 2>&1 || die "jcmd GC.class_histogram failed: $(head -n 3 "$1")"
  awk '$1 == "Total" {print $3}' "$1"
}

# ---------------------------------------------------------------------------------------------
# pgmux runs

wait_sql() { # PORT: waits up to 60 s until a query works through it
  local i
  for i in $(seq 1 120); do
    kill -0 "$target_pid" 2>/dev/null || return 1
    PGCONNECT_TIMEOUT=5 timeout 10 psql -X -Atq -h 127.0.0.1 -p "$1" -U bench.bench -d bench -c "SELECT 1" \
      >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  return 1
}

# start_pgmux NAME OPTIONS: pgmux with NAME.yaml, output to NAME.log; sets target_pid, target_port
start_pgmux() {
  local tx session admin
  tx=$(free_port) && session=$(free_port) && admin=$(free_port) || die "no free port"
  cat >"$results_dir/$1.yaml" <<EOF
# generated by bench/idle-clients.sh
listen:
  host: 127.0.0.1
  transaction_port: $tx
  session_port: $session
  admin_port: $admin
  transport: $transport_arg
tenants:
  - id: bench
    upstream:
      host: 127.0.0.1
      port: $pg_port
      database: bench
    pool_size: 5
    max_clients: $((max_count + 100))
    users:
      - name: bench
        password: \${PGMUX_BENCH_PASSWORD}
EOF
  target_name="pgmux ($1)"
  log "starting pgmux ($1) with: ${2:-(no options)}"
  # shellcheck disable=SC2086
  PGMUX_BENCH_PASSWORD=$bench_password java $2 ${PGMUX_JAVA_OPTS:-} -jar "$results_dir/pgmux.jar" \
    --config "$results_dir/$1.yaml" >"$results_dir/$1.log" 2>&1 </dev/null &
  target_pid=$!
  target_port=$tx
  target_admin=$admin
  target_log="$results_dir/$1.log"
  wait_sql "$tx" || die "pgmux does not answer on port $tx; last lines of its log:
$(tail -n 20 "$results_dir/$1.log")"
}

stop_target() {
  stop_clients
  stop_pid "$target_pid" "$target_name"
  target_pid=""
}

# Warms the login path up before the baseline: the pool's servers open, and for pgmux its classes loaded and
# the login path compiled (5 rounds of 400 logins: the JIT compiler's code and its memory are a cost of the
# process, not of its clients). PgBouncer has nothing to compile: one round of 200.
warm_up() {
  local round rounds=5 size=400
  [ "$target_name" = PgBouncer ] && rounds=1 size=200
  start_clients "$target_port"
  for round in $(seq 1 "$rounds"); do
    open_clients "$size"
    clients_say close >/dev/null
  done
}

declare -A rss heap direct
# measure_rss KEY: the run's RSS at 0 clients, then at each count, as rss[KEY,N]
measure_rss() {
  local key=$1 n
  warm_up
  rss[$key,0]=$(settled_rss)
  for n in "${counts[@]}"; do
    open_clients "$n"
    rss[$key,$n]=$(settled_rss)
    log "$target_name: RSS $(fmt_int $((rss[$key,$n] / 1024))) kB with $n clients ($(fmt_int $((rss[$key,0] / 1024))) kB with none)"
  done
}

if has_run shipped; then
  log "run (c): the JVM options pgmux ships"
  start_pgmux shipped "$shipped_opts"
  measure_rss shipped
  stop_target
fi

variant_keys=()
declare -A variant_label variant_opts
i=0
for v in "${variants[@]}"; do
  i=$((i + 1))
  label=${v%%=*} opts=${v#*=}
  log "variant: $label"
  start_pgmux "variant$i" "$(echo $base_opts $opts)"
  measure_rss "variant$i"
  variant_keys+=("variant$i")
  variant_label[variant$i]=$label
  variant_opts[variant$i]=$opts
  stop_target
done

fixed_opts=$(echo $shipped_opts -Xms$heap -Xmx$heap -XX:+AlwaysPreTouch)
[ "$nmt" = 1 ] && fixed_opts+=" -XX:NativeMemoryTracking=summary"
if has_run fixed; then
log "runs (a) and (b): a fixed, pre-touched heap of $heap"
start_pgmux fixed "$fixed_opts"
warm_up
rss[fixed,0]=$(settled_rss)
heap[0]=$(live_heap "$results_dir/histogram-0.txt")
direct[0]=$(netty_direct)
[ "$nmt" = 1 ] && { jcmd "$target_pid" VM.native_memory baseline >/dev/null 2>&1 || die "jcmd VM.native_memory baseline failed"; }
for n in "${counts[@]}"; do
  open_clients "$n"
  rss[fixed,$n]=$(settled_rss)
  heap[$n]=$(live_heap "$results_dir/histogram-$n.txt")
  direct[$n]=$(netty_direct)
  [ "$nmt" = 1 ] && jcmd "$target_pid" VM.native_memory summary.diff >"$results_dir/nmt-$n.txt" 2>&1
  log "pgmux: live heap $(fmt_int $((heap[$n] / 1024))) kB with $n clients ($(fmt_int $((heap[0] / 1024))) kB with none)"
done
stop_target
fi

# ---------------------------------------------------------------------------------------------
# PgBouncer

if [ "$use_pgbouncer" = 1 ]; then
  bport=$(free_port) || die "no free port"
  bdir="$results_dir/pgbouncer"
  mkdir -p "$bdir"
  # The clients' user with the SCRAM verifier; the server user (forced in [databases]) with its password.
  printf '"bench.bench" "%s"\n"bench" "%s"\n' "$scram_secret" "$bench_password" >"$bdir/userlist.txt"
  cat >"$bdir/pgbouncer.ini" <<EOF
; generated by bench/idle-clients.sh
[databases]
bench = host=127.0.0.1 port=$pg_port dbname=bench user=bench

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bport
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $bdir/userlist.txt
pool_mode = transaction
default_pool_size = 5
max_client_conn = $((max_count + 100))
logfile = $bdir/pgbouncer.log
log_connections = 0
log_disconnections = 0
pidfile =
EOF
  chmod 600 "$bdir/userlist.txt"
  target_name=PgBouncer
  if [ "$(id -u)" = 0 ]; then
    chown -R postgres "$bdir"
    "$pgbouncer_bin" -u postgres "$bdir/pgbouncer.ini" >"$bdir/stdout.log" 2>&1 </dev/null &
  else
    "$pgbouncer_bin" "$bdir/pgbouncer.ini" >"$bdir/stdout.log" 2>&1 </dev/null &
  fi
  target_pid=$!
  target_port=$bport
  log "PgBouncer on port $bport"
  wait_sql "$bport" || die "PgBouncer does not answer on port $bport; last lines of its log:
$(tail -n 20 "$bdir/pgbouncer.log" "$bdir/stdout.log" 2>/dev/null)"
  pgbouncer_version=$("$pgbouncer_bin" --version 2>/dev/null | head -n 1)
  measure_rss pgbouncer
  stop_target
fi

# ---------------------------------------------------------------------------------------------
# Report

machine_cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
mem_gib=$(awk '/^MemTotal/ {printf "%.1f", $2/1048576}' /proc/meminfo)
git_rev=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$repo" diff --quiet HEAD -- 2>/dev/null || git_rev+=" with uncommitted changes"
transport=$(cat "$results_dir"/*.log 2>/dev/null | grep -oP '\(\K[a-z_]+(?= transport)' | head -n 1)
[ -n "$transport" ] || transport=unknown

md="$results_dir/report.md"
{
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') with \`$cmdline\`:"
  echo
  echo "- machine: $(nproc) CPUs${machine_cpu:+ ($machine_cpu)}, $mem_gib GiB RAM, $(uname -sr)"
  echo "- Postgres $pg_version; clients log in as \`bench.bench\` with SCRAM-SHA-256 and then send nothing"
  echo "- pgmux $git_rev ($jar_facts) on $java_version, $transport transport, transaction port, \`pool_size: 5\`"
  echo "- shipped JVM options (c): \`${shipped_opts:-none}\`; fixed heap (a, b): \`$fixed_opts\`"
  [ -n "${pgbouncer_version:-}" ] && echo "- $pgbouncer_version, \`pool_mode = transaction\`, the same SCRAM verifier"
  [ -n "$pgbouncer_note" ] && echo "- $pgbouncer_note"
  echo "- warm-up before the baseline: 5 rounds of 400 clients logged in and out (pgmux), 1 round of 200 (PgBouncer); then each count held at once; RSS read after $settle s idle"
  echo
  printf '| idle clients | (a) pgmux live heap | (b) pgmux native | (a)+(b) pgmux footprint | (c) pgmux RSS, shipped options |'
  for k in "${variant_keys[@]}"; do printf ' pgmux RSS, %s |' "${variant_label[$k]}"; done
  [ "$use_pgbouncer" = 1 ] && printf ' (d) PgBouncer RSS |'
  echo
  printf '|---|---|---|---|---|'
  for k in "${variant_keys[@]}"; do printf -- '---|'; done
  [ "$use_pgbouncer" = 1 ] && printf -- '---|'
  echo
  for n in "${counts[@]}"; do
    a=$(per_client "${heap[0]:-}" "${heap[$n]:-}" "$n")
    b=$(per_client "${rss[fixed,0]:-}" "${rss[fixed,$n]:-}" "$n")
    printf '| %s | %s B | %s B | **%s B** | %s B |' "$(fmt_int "$n")" "$(fmt_int "$a")" "$(fmt_int "$b")" \
      "$(if [ "$a" = - ] || [ "$b" = - ]; then echo -; else fmt_int $((a + b)); fi)" "$(fmt_int "$(per_client "${rss[shipped,0]:-}" "${rss[shipped,$n]:-}" "$n")")"
    for k in "${variant_keys[@]}"; do printf ' %s B |' "$(fmt_int "$(per_client "${rss[$k,0]:-}" "${rss[$k,$n]:-}" "$n")")"; done
    [ "$use_pgbouncer" = 1 ] && printf ' %s B |' "$(fmt_int "$(per_client "${rss[pgbouncer,0]:-}" "${rss[pgbouncer,$n]:-}" "$n")")"
    echo
  done
  echo
  mib() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }
  printf 'Per client: the growth from no client to that many, divided by their number. With no client:'
  has_run shipped && printf ' pgmux RSS %s MiB with the shipped options;' "$(mib "${rss[shipped,0]:-}")"
  has_run fixed && printf ' pgmux RSS %s MiB with the fixed heap, live heap %s MiB;' "$(mib "${rss[fixed,0]:-}")" "$(mib "${heap[0]:-}")"
  for k in "${variant_keys[@]}"; do printf ' pgmux RSS %s MiB with %s;' "$(mib "${rss[$k,0]:-}")" "${variant_label[$k]}"; done
  [ "$use_pgbouncer" = 1 ] && printf ' PgBouncer RSS %s MiB;' "$(mib "${rss[pgbouncer,0]:-}")"
  echo
  for k in "${variant_keys[@]}"; do echo "Variant ${variant_label[$k]}: \`$(echo $base_opts ${variant_opts[$k]})\`."; done
  if has_run fixed; then
  echo
  echo "Live heap per client at $(fmt_int "$max_count") clients, by class (histogram with $(fmt_int "$max_count") clients minus"
  echo "the one with none; the classes that grew most):"
  echo
  echo "| class | instances per client | bytes per client |"
  echo "|---|---|---|"
  awk -v n="$max_count" -v top="$top" '
    FNR == 1 { file++ }
    $1 ~ /^[0-9]+:$/ { if (file == 1) { i0[$4] = $2; b0[$4] = $3 } else { i1[$4] = $2; b1[$4] = $3 } }
    END {
      for (c in b1) printf "%s\t%.2f\t%.1f\n", c, (i1[c] - i0[c]) / n, (b1[c] - b0[c]) / n
    }' "$results_dir/histogram-0.txt" "$results_dir/histogram-$max_count.txt" \
    | sort -t$'\t' -k3,3gr | head -n "$top" | awk -F'\t' '{printf "| `%s` | %s | %s |\n", $1, $2, $3}'
  if [ -n "${direct[0]:-}" ] && [ -n "${direct[$max_count]:-}" ]; then
    echo
    echo "Netty's direct memory (\`pgmux_netty_direct_memory_used_bytes\`, part of (b)) per client at $(fmt_int "$max_count") clients:"
    echo "$(fmt_int "$(per_client "${direct[0]}" "${direct[$max_count]}" "$max_count")") B."
  fi
  if [ "$nmt" = 1 ]; then
    echo
    echo "Native memory tracking, fixed-heap run: committed memory per client at $(fmt_int "$max_count") clients, by JVM category"
    echo "(summary.diff against a baseline taken with no client; categories that moved by at least 1 byte per client):"
    echo
    echo "| category | bytes per client |"
    echo "|---|---|"
    awk -v n="$max_count" '
      /^-/ && /committed=/ {
        line = $0; sub(/^-[ \t]*/, "", line); name = line; sub(/ \(.*/, "", name)
        d = 0; if (match(line, /committed=[0-9]+KB [+-][0-9]+KB/)) { x = substr(line, RSTART, RLENGTH); sub(/.* /, "", x); d = x + 0 }
        if (d * 1024 / n >= 1 || d * 1024 / n <= -1) printf "| %s | %.0f |\n", name, d * 1024 / n
      }' "$results_dir/nmt-$max_count.txt"
  fi
  fi
} >"$md"

echo
cat "$md"
if [ -n "$markdown_out" ]; then
  cp "$md" "$markdown_out" && log "markdown report written to $markdown_out"
fi

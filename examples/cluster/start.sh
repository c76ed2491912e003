#!/usr/bin/env bash
# Starts a pgmux cluster on this machine: a metadata Postgres (the tenants), an upstream Postgres (the
# tenant's database), three pgmux instances sharing the metadata database, and HAProxy in front of them.
#
#   eval "$(examples/cluster/start.sh)"    # prints export lines (CLUSTER_URL, ...); everything else on stderr
#   examples/cluster/stop.sh               # stops all of it and removes the state directory
#
# Settings (environment):
#   PGMUX_CLUSTER_DIR            the state directory (default ${TMPDIR:-/tmp}/pgmux-cluster): data, configuration,
#                                logs, pids, secrets. It must not exist yet.
#   PGMUX_CLUSTER_BASE_PORT      take 14 consecutive ports from this one (default: free ports picked at random)
#   PGMUX_CLUSTER_PORT_<NAME>    one port, e.g. PGMUX_CLUSTER_PORT_HAPROXY_TRANSACTION=6543 (names below)
#   PGMUX_CLUSTER_POOL_SIZE      the tenant's pool_size (default 6)
#   PGMUX_CLUSTER_START_TIMEOUT  seconds to wait for everything to be ready (default 120)
#   PGMUX_JAR                    the pgmux jar (default proxy/target/pgmux.jar, built when missing)
#   PGMUX_JAVA_OPTS              JVM options of each instance, after scripts/jdk.sh's (default -Xmx256m)
#   PGMUX_PG_BINDIR              PostgreSQL's server binaries (default: pg_config's, else /usr/lib/postgresql/*/bin)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/common.sh"

# The export lines go to the original standard output (descriptor 3), everything else to stderr. The
# processes started in the background close descriptor 3 (3>&-), so that "$(start.sh)" ends with start.sh.
exec 3>&1 1>&2

tenant=demo
tenant_user=app
upstream_db=app
pool_size=${PGMUX_CLUSTER_POOL_SIZE:-6}
start_timeout=${PGMUX_CLUSTER_START_TIMEOUT:-120}
instances=(1 2 3)

# ---- What is needed ---------------------------------------------------------------------------------------
for tool in haproxy curl openssl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    say "$tool is needed (Debian: apt-get install $tool)"
    exit 1
  fi
done
pg_bindir=$(find_pg_bindir)
if [ -z "$pg_bindir" ] || [ ! -x "$pg_bindir/initdb" ]; then
  say "no PostgreSQL server binaries found (apt-get install postgresql, or set PGMUX_PG_BINDIR)"
  exit 1
fi
psql_bin="$pg_bindir/psql"
[ -x "$psql_bin" ] || psql_bin=psql
. "$root/scripts/jdk.sh"

if [ -e "$cluster_dir" ]; then
  if [ -f "$cluster_dir/$cluster_marker" ]; then
    say "a cluster's state is already in $cluster_dir: stop it first ($here/stop.sh), or set PGMUX_CLUSTER_DIR"
  else
    say "$cluster_dir exists and is not a cluster's state directory: set PGMUX_CLUSTER_DIR to a new path"
  fi
  exit 1
fi

jar=${PGMUX_JAR:-$root/proxy/target/pgmux.jar}
if [ ! -f "$jar" ]; then
  say "building pgmux ($jar is missing)"
  (cd "$root" && mvn -B -q -ntp -DskipTests -pl proxy -am package)
fi

mkdir -p "$cluster_dir"
cluster_dir=$(cd "$cluster_dir" && pwd)
touch "$cluster_dir/$cluster_marker"
if [ "$(id -u)" = 0 ]; then
  chmod 755 "$cluster_dir"
  if ! runuser -u postgres -- test -x "$cluster_dir"; then
    say "the postgres OS user cannot reach $cluster_dir (a parent directory is closed to it): set PGMUX_CLUSTER_DIR"
    exit 1
  fi
fi

# From here on a failure stops what was started, keeps the state directory and says where to look.
failing=""
fail() {
  local what=$1 log=${2:-}
  failing=1
  say "FAILED: $what"
  if [ -n "$log" ] && [ -f "$log" ]; then
    say "last lines of $log:"
    tail -n 40 "$log" >&2
  fi
  say "stopping what was started; the state stays in $cluster_dir"
  "$here/stop.sh" --keep || true
  exit 1
}
stop_on_failure() {
  local status=$?
  if [ "$status" -ne 0 ] && [ -z "$failing" ]; then
    failing=1
    say "FAILED (exit status $status); stopping what was started; the state stays in $cluster_dir"
    "$here/stop.sh" --keep || true
  fi
}
trap stop_on_failure EXIT

# ---- Ports ------------------------------------------------------------------------------------------------
port_names=(METADATA_POSTGRES UPSTREAM_POSTGRES HAPROXY_TRANSACTION HAPROXY_SESSION HAPROXY_STATS)
for i in "${instances[@]}"; do
  port_names+=("PGMUX${i}_TRANSACTION" "PGMUX${i}_SESSION" "PGMUX${i}_ADMIN")
done
# Every local port in use (listening or connected), from the kernel's socket tables.
taken=" "
for table in /proc/net/tcp /proc/net/tcp6; do
  [ -r "$table" ] || continue
  while read -r _ local _; do
    taken+="$((16#${local##*:})) "
  done < <(tail -n +2 "$table")
done
declare -A port
next=${PGMUX_CLUSTER_BASE_PORT:-}
for name in "${port_names[@]}"; do
  override="PGMUX_CLUSTER_PORT_$name"
  if [ -n "${!override:-}" ]; then
    port[$name]=${!override}
  elif [ -n "$next" ]; then
    port[$name]=$next
    next=$((next + 1))
  else
    while :; do
      candidate=$((20000 + RANDOM % 40000))
      case "$taken" in *" $candidate "*) continue ;; esac
      break
    done
    port[$name]=$candidate
  fi
  taken+="${port[$name]} "
done
for name in "${port_names[@]}"; do echo "$name=${port[$name]}"; done >"$cluster_dir/ports"
if [ "$(cut -d= -f2 "$cluster_dir/ports" | sort | uniq -d)" != "" ]; then
  fail "a port is given twice: $(tr '\n' ' ' <"$cluster_dir/ports")"
fi

# ---- Secrets ----------------------------------------------------------------------------------------------
secret() {
  openssl rand -hex "${1:-16}"
}
metadata_superuser_password=$(secret)
metadata_password=$(secret)
upstream_superuser_password=$(secret)
tenant_password=$(secret)
jwt_secret=$(secret 32)
(
  umask 077
  cat >"$cluster_dir/secrets.env" <<EOF
METADATA_SUPERUSER_PASSWORD=$metadata_superuser_password
METADATA_PASSWORD=$metadata_password
UPSTREAM_SUPERUSER_PASSWORD=$upstream_superuser_password
UPSTREAM_PASSWORD=$tenant_password
EOF
  printf '%s\n' "$jwt_secret" >"$cluster_dir/api-jwt-secret"
)

# ---- Postgres: metadata and upstream, two clusters of their own -------------------------------------------
# init_postgres NAME PORT SUPERUSER_PASSWORD
init_postgres() {
  local name=$1 pgport=$2 password=$3 home
  home=$(pg_home "$name")
  mkdir -p "$home"
  printf '%s\n' "$password" >"$home/pwfile"
  chmod 600 "$home/pwfile"
  if [ "$(id -u)" = 0 ]; then
    chown -R postgres "$home"
  fi
  say "initdb $name Postgres (port $pgport)"
  as_pg "$pg_bindir/initdb" -D "$home/data" -U postgres --pwfile="$home/pwfile" --auth=scram-sha-256 \
    -E UTF8 --locale=C >"$home/initdb.log" 2>&1 || fail "initdb of the $name Postgres" "$home/initdb.log"
  rm -f "$home/pwfile"
  cat >>"$home/data/postgresql.conf" <<EOF

# pgmux cluster example
port = $pgport
listen_addresses = '127.0.0.1'
unix_socket_directories = '$home'
max_connections = 200
EOF
  pg_start "$name" || fail "start of the $name Postgres" "$home/postgres.log"
}

# sql PORT DATABASE USER PASSWORD [psql options...] < statements
sql() {
  local pgport=$1 db=$2 user=$3 password=$4
  shift 4
  PGPASSWORD=$password PGCONNECT_TIMEOUT=5 "$psql_bin" -X -q -At -v ON_ERROR_STOP=1 \
    -h 127.0.0.1 -p "$pgport" -U "$user" -d "$db" "$@"
}

init_postgres metadata "${port[METADATA_POSTGRES]}" "$metadata_superuser_password"
sql "${port[METADATA_POSTGRES]}" postgres postgres "$metadata_superuser_password" <<EOF
CREATE ROLE pgmux LOGIN PASSWORD '$metadata_password';
CREATE DATABASE pgmux_meta OWNER pgmux;
EOF

init_postgres upstream "${port[UPSTREAM_POSTGRES]}" "$upstream_superuser_password"
# The tenant's servers log in as a role of their own, not a superuser: pg_stat_activity then shows exactly
# the tenant's servers under it.
sql "${port[UPSTREAM_POSTGRES]}" postgres postgres "$upstream_superuser_password" <<EOF
CREATE ROLE $tenant_user LOGIN PASSWORD '$tenant_password';
CREATE DATABASE $upstream_db OWNER $tenant_user;
EOF
# What the upstream stores for that role: the tenant holds this verifier, never the password.
tenant_verifier=$(echo "SELECT rolpassword FROM pg_authid WHERE rolname = '$tenant_user'" \
  | sql "${port[UPSTREAM_POSTGRES]}" postgres postgres "$upstream_superuser_password")

# ---- pgmux: three instances on the metadata database ------------------------------------------------------
metadata_url="postgresql://pgmux:$metadata_password@127.0.0.1:${port[METADATA_POSTGRES]}/pgmux_meta"
admin_urls=()
instance_pids=()
for i in "${instances[@]}"; do
  home="$cluster_dir/pgmux-$i"
  mkdir -p "$home"
  cat >"$home/pgmux.yaml" <<EOF
# pgmux instance $i of the cluster example (written by examples/cluster/start.sh).
# No tenants here: they all come from the metadata database, which every instance names.
listen:
  host: 127.0.0.1
  transaction_port: ${port[PGMUX${i}_TRANSACTION]}
  session_port: ${port[PGMUX${i}_SESSION]}
  admin_port: ${port[PGMUX${i}_ADMIN]}
  io_threads: 1
  # Clients come through HAProxy with a PROXY protocol header; the other instances, passing on cancel
  # requests, connect directly and send none: so optional, with the header believed from HAProxy only.
  proxy_protocol: optional
  proxy_protocol_networks: [127.0.0.1/32]
admin:
  host: 127.0.0.1
  # The tenant API (/api/tenants/...) takes tokens signed with this secret (HS256).
  api_jwt_secret: \${PGMUX_API_JWT_SECRET}
limits:
  shutdown_timeout: 10s
cluster:
  metadata_url: postgresql://pgmux:\${PGMUX_METADATA_PASSWORD}@127.0.0.1:${port[METADATA_POSTGRES]}/pgmux_meta
  instance_id: pgmux-$i
  # How long leases on the tenants' pool_size and max_clients last without renewal: a metadata outage
  # shorter than this changes nothing, and a killed instance's slots go to the others after it.
  instance_timeout: 20s
EOF
  say "starting pgmux-$i (transaction port ${port[PGMUX${i}_TRANSACTION]}, admin port ${port[PGMUX${i}_ADMIN]})"
  # shellcheck disable=SC2046,SC2086
  PGMUX_METADATA_PASSWORD=$metadata_password PGMUX_API_JWT_SECRET=$jwt_secret java $(pgmux_jvm_options) ${PGMUX_JAVA_OPTS:--Xmx256m} \
    -jar "$jar" --config "$home/pgmux.yaml" </dev/null >"$home/pgmux.log" 2>&1 3>&- &
  echo $! >"$home/pid"
  instance_pids+=("$!")
  admin_urls+=("http://127.0.0.1:${port[PGMUX${i}_ADMIN]}")
done

# ---- Waiting until everything is ready --------------------------------------------------------------------
deadline=$((SECONDS + start_timeout))
# wait_for WHAT LOG PID COMMAND...: runs COMMAND until it succeeds; fails when PID (if any) exits first or at
# the deadline, with LOG's last lines.
wait_for() {
  local what=$1 log=$2 pid=$3
  shift 3
  until "$@" >/dev/null 2>&1; do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      fail "$what: the process exited" "$log"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      fail "$what: not within ${start_timeout}s (PGMUX_CLUSTER_START_TIMEOUT)" "$log"
    fi
    sleep 0.2
  done
}
for i in "${instances[@]}"; do
  wait_for "pgmux-$i ready (GET /ready)" "$cluster_dir/pgmux-$i/pgmux.log" "${instance_pids[$((i - 1))]}" \
    curl -fsS -m 2 "${admin_urls[$((i - 1))]}/ready"
done

# ---- HAProxy ----------------------------------------------------------------------------------------------
sed_args=()
for name in "${port_names[@]}"; do
  sed_args+=(-e "s/@${name}_PORT@/${port[$name]}/g")
done
sed "${sed_args[@]}" "$here/haproxy.cfg" >"$cluster_dir/haproxy.cfg"
if grep -q '@[A-Z0-9_]*@' "$cluster_dir/haproxy.cfg"; then
  fail "haproxy.cfg has a placeholder start.sh does not fill: $(grep -o '@[A-Z0-9_]*@' "$cluster_dir/haproxy.cfg" | head -n 1)"
fi
haproxy -c -q -f "$cluster_dir/haproxy.cfg" >"$cluster_dir/haproxy-check.log" 2>&1 \
  || fail "haproxy -c rejects the configuration" "$cluster_dir/haproxy-check.log"
say "starting HAProxy (transaction port ${port[HAPROXY_TRANSACTION]}, session port ${port[HAPROXY_SESSION]}, stats port ${port[HAPROXY_STATS]})"
haproxy -db -f "$cluster_dir/haproxy.cfg" </dev/null >"$cluster_dir/haproxy.log" 2>&1 3>&- &
haproxy_pid=$!
echo "$haproxy_pid" >"$cluster_dir/haproxy.pid"

# ---- The API token ---------------------------------------------------------------------------------------
# An HS256 token for the tenant API, valid for a day, signed with the secret the instances were given.
b64url() {
  openssl base64 -A | tr '+/' '-_' | tr -d '='
}
now=$(date +%s)
jwt_header=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
jwt_payload=$(printf '{"sub":"pgmux-cluster-example","iat":%d,"exp":%d}' "$now" $((now + 86400)) | b64url)
jwt_signature=$(printf '%s.%s' "$jwt_header" "$jwt_payload" \
  | openssl dgst -sha256 -mac HMAC -macopt "key:$jwt_secret" -binary | b64url)
api_jwt="$jwt_header.$jwt_payload.$jwt_signature"

# ---- The tenant -------------------------------------------------------------------------------------------
# Created through the tenant API of the first instance (any instance would do: the API writes the metadata
# database, and every instance follows it). The user's password is the upstream's SCRAM verifier, so pgmux
# logs in upstream with the client's own SCRAM keys and never knows the password.
tenant_spec=$(cat <<EOF
{"upstream": {"host": "127.0.0.1", "port": ${port[UPSTREAM_POSTGRES]}, "database": "$upstream_db"},
 "pool_size": $pool_size,
 "users": [{"name": "$tenant_user", "password": "$tenant_verifier"}]}
EOF
)
create_tenant() {
  curl -fsS -m 10 -X PUT -H "Authorization: Bearer $api_jwt" -H 'Content-Type: application/json' \
    --data "$tenant_spec" "${admin_urls[0]}/api/tenants/$tenant" >"$cluster_dir/tenant-put.json" 2>&1
}
say "creating tenant $tenant (pool_size $pool_size)"
create_tenant || fail "PUT /api/tenants/$tenant on pgmux-1" "$cluster_dir/tenant-put.json"

# Every instance up in HAProxy's view, on both backends.
haproxy_all_up() {
  local up
  up=$(curl -fsS -m 2 "http://127.0.0.1:${port[HAPROXY_STATS]}/;csv" \
    | awk -F, '$2 ~ /^pgmux[0-9]+$/ && $18 == "UP"' | wc -l)
  [ "$up" -eq $((2 * ${#instances[@]})) ]
}
wait_for "HAProxy: every instance UP" "$cluster_dir/haproxy.log" "$haproxy_pid" haproxy_all_up

# A login through HAProxy on each instance (round robin), as the tenant's user.
login_through_haproxy() {
  echo "SELECT 1" | sql "${port[HAPROXY_TRANSACTION]}" "$upstream_db" "$tenant_user.$tenant" "$tenant_password"
}
for i in "${instances[@]}"; do
  wait_for "a login as $tenant_user.$tenant through HAProxy" "$cluster_dir/pgmux-$i/pgmux.log" "$haproxy_pid" \
    login_through_haproxy
done

# ---- The exports ------------------------------------------------------------------------------------------
transaction_ports=()
session_ports=()
for i in "${instances[@]}"; do
  transaction_ports+=("${port[PGMUX${i}_TRANSACTION]}")
  session_ports+=("${port[PGMUX${i}_SESSION]}")
done
{
  echo "export PGMUX_CLUSTER_DIR='$cluster_dir'"
  echo "export CLUSTER_URL='postgresql://$tenant_user.$tenant:$tenant_password@127.0.0.1:${port[HAPROXY_TRANSACTION]}/$upstream_db'"
  echo "export CLUSTER_SESSION_URL='postgresql://$tenant_user.$tenant:$tenant_password@127.0.0.1:${port[HAPROXY_SESSION]}/$upstream_db'"
  echo "export DIRECT_URL='postgresql://postgres:$upstream_superuser_password@127.0.0.1:${port[UPSTREAM_POSTGRES]}/$upstream_db'"
  echo "export UPSTREAM_HOST='127.0.0.1'"
  echo "export UPSTREAM_PORT='${port[UPSTREAM_POSTGRES]}'"
  echo "export UPSTREAM_DB='$upstream_db'"
  echo "export UPSTREAM_USER='$tenant_user'"
  echo "export UPSTREAM_PASSWORD='$tenant_password'"
  echo "export TENANT_ID='$tenant'"
  echo "export POOL_SIZE='$pool_size'"
  echo "export METADATA_URL='$metadata_url'"
  echo "export INSTANCE_PIDS='${instance_pids[*]}'"
  echo "export INSTANCE_TRANSACTION_PORTS='${transaction_ports[*]}'"
  echo "export INSTANCE_SESSION_PORTS='${session_ports[*]}'"
  echo "export ADMIN_URLS='${admin_urls[*]}'"
  echo "export API_URL='${admin_urls[0]}/api'"
  echo "export API_JWT='$api_jwt'"
  echo "export HAPROXY_PID='$haproxy_pid'"
  echo "export HAPROXY_STATS_URL='http://127.0.0.1:${port[HAPROXY_STATS]}/'"
  echo "export METADATA_PGDATA='$(pg_home metadata)/data'"
  echo "export UPSTREAM_PGDATA='$(pg_home upstream)/data'"
} >"$cluster_dir/env"
chmod 600 "$cluster_dir/env"
say "ready: HAProxy on 127.0.0.1:${port[HAPROXY_TRANSACTION]} (transaction) and ${port[HAPROXY_SESSION]} (session), tenant $tenant; state and logs in $cluster_dir"
cat "$cluster_dir/env" >&3

#!/usr/bin/env bash
# Supabase's connection pooling on a laptop, in one command: a Postgres set up as Supabase's images set it up,
# and pgmux in front of it laid out as Supabase's pooler.
#
#   scripts/supabase-local.sh [--project-ref REF] [--upstream URL] [--port PORT] [--session-port PORT]
#
#   --project-ref REF    the tenant, as in postgres.REF user names (default localdev): letters, digits, _ and -
#   --upstream URL       a Postgres of yours, as a superuser URL (postgresql://postgres:PASSWORD@HOST:PORT/DB);
#                        without it a throwaway Postgres is initdb'ed in a temporary directory on a free port
#   --port PORT          the transaction-mode port (default 6543, Supabase's)
#   --session-port PORT  the session-mode port (default 5432, Supabase's, when free; otherwise any free port)
#
# In that database it creates what Supabase's images have: a `pgbouncer` role (LOGIN, a generated password,
# or $PGBOUNCER_PASSWORD when that is set), its schema `pgbouncer` and the function pgbouncer.get_auth(text)
# that returns a user's stored SCRAM verifier to the pooler. pgmux looks clients up with it (auth_user
# pgbouncer, auth_query SELECT * FROM pgbouncer.get_auth($1)): its configuration lists no password but the
# pgbouncer role's, which it takes from the environment. TLS is offered to clients (self-signed).
#
# Once a real login succeeds through both ports, exactly these two lines go to standard output:
#   DATABASE_URL=postgresql://postgres.REF:PASSWORD@127.0.0.1:6543/postgres       (transaction mode)
#   DIRECT_URL=postgresql://postgres.REF:PASSWORD@127.0.0.1:SESSIONPORT/postgres  (session mode)
# Everything else (progress, pgmux's log) goes to standard error. It then waits; Ctrl-C or SIGTERM stops
# pgmux and the throwaway Postgres and removes the temporary directory. See docs/supabase.md.
#
# Needs a JDK 21+ and Maven (pgmux is built when its jar is missing or older than its sources), PostgreSQL's
# binaries (psql; initdb and pg_ctl for the throwaway Postgres) and python3. PGMUX_CMD, if set, is the
# command that runs pgmux instead of the built jar (it gets --config FILE).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "supabase-local: $*" >&2; }
die() { say "$*"; exit 1; }
usage() { sed -n '5,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

ref=localdev upstream="" tx_port=6543 session_port=""
while [ $# -gt 0 ]; do
  case "$1" in
    --project-ref) [ $# -ge 2 ] || usage; ref=$2; shift 2 ;;
    --project-ref=*) ref=${1#*=}; shift ;;
    --upstream) [ $# -ge 2 ] || usage; upstream=$2; shift 2 ;;
    --upstream=*) upstream=${1#*=}; shift ;;
    --port) [ $# -ge 2 ] || usage; tx_port=$2; shift 2 ;;
    --port=*) tx_port=${1#*=}; shift ;;
    --session-port) [ $# -ge 2 ] || usage; session_port=$2; shift 2 ;;
    --session-port=*) session_port=${1#*=}; shift ;;
    -h|--help) usage ;;
    *) say "unknown argument: $1"; usage ;;
  esac
done
# The tenant id rule of pgmux's configuration (tenants[].id).
[[ $ref =~ ^[A-Za-z0-9_-]+$ ]] \
  || die "--project-ref must use only letters, digits, _ and - ([A-Za-z0-9_-]+), got \"$ref\""
for p in "$tx_port" ${session_port:+"$session_port"}; do
  [[ $p =~ ^[0-9]+$ ]] && [ "$p" -ge 1 ] && [ "$p" -le 65535 ] || die "a port must be a number 1..65535, got \"$p\""
done

command -v python3 >/dev/null 2>&1 || die "python3 is needed (Debian: apt-get install python3)"
pgbin=""
if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/psql" ]; then
  pgbin=$(pg_config --bindir)
else
  pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
fi
[ -n "$pgbin" ] && [ -x "$pgbin/psql" ] || die "PostgreSQL's binaries not found (Debian: apt-get install postgresql)"
if [ -z "$upstream" ] && [ ! -x "$pgbin/initdb" ]; then
  die "no initdb in $pgbin for a throwaway Postgres: install PostgreSQL's server binaries or pass --upstream URL"
fi

# pgmux: the built jar (built when missing or older than any source), or PGMUX_CMD.
pgmux_cmd=()
if [ -n "${PGMUX_CMD:-}" ]; then
  pgmux_cmd=("$PGMUX_CMD")
else
  . scripts/jdk.sh
  jar=proxy/target/pgmux.jar
  if [ ! -f "$jar" ] || [ -n "$(find pom.xml protocol/pom.xml config/pom.xml proxy/pom.xml protocol/src/main \
      config/src/main proxy/src/main -newer "$jar" -type f -print -quit 2>/dev/null)" ]; then
    say "building pgmux (mvn package -pl proxy -am)..."
    mvn -B -q -ntp -DskipTests package -pl proxy -am >&2 || die "the build failed"
  fi
  # shellcheck disable=SC2207
  pgmux_cmd=(java $(pgmux_jvm_options) ${PGMUX_JAVA_OPTS:-} -jar "$jar")
fi

port_free() {
  python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
EOF
}
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
secret() { python3 -c 'import secrets; print(secrets.token_hex(16))'; }

port_free "$tx_port" || die "port $tx_port is taken (another pooler, or a Supabase CLI stack?): stop it or pass --port"
if [ -z "$session_port" ]; then
  if port_free 5432; then session_port=5432; else session_port=$(free_port); fi
elif ! port_free "$session_port"; then
  die "port $session_port is taken: pass another --session-port"
fi
[ "$session_port" != "$tx_port" ] || die "--port and --session-port must differ"
admin_port=$(free_port)

work=$(mktemp -d "${TMPDIR:-/tmp}/pgmux-supabase.XXXXXX")
pgmux_pid="" pg_started=""
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$pgmux_pid" ] && kill -0 "$pgmux_pid" 2>/dev/null; then
    kill -TERM "$pgmux_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pgmux_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pgmux_pid" 2>/dev/null || true
  fi
  [ -z "$pgmux_pid" ] || wait "$pgmux_pid" 2>/dev/null || true
  if [ -n "$pg_started" ]; then
    as_pg "$pgbin/pg_ctl" -D "$work/pg/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
  say "stopped; removed $work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
say "working directory $work"

# The Postgres: ours, or the one given. Its superuser's connection, without the password in any argument.
if [ -z "$upstream" ]; then
  pg_port=$(free_port)
  pg_host=127.0.0.1 pg_db=postgres pg_user=postgres pg_password=$(secret) pg_sslmode=""
  mkdir -p "$work/pg"
  [ "$(id -u)" != 0 ] || chown postgres "$work" "$work/pg"
  printf '%s\n' "$pg_password" > "$work/pg/pwfile"
  [ "$(id -u)" != 0 ] || chown postgres "$work/pg/pwfile"
  chmod 600 "$work/pg/pwfile"
  # SCRAM for every connection, as on Supabase: the superuser's password is stored as a SCRAM verifier.
  as_pg "$pgbin/initdb" -D "$work/pg/data" -U postgres --pwfile="$work/pg/pwfile" --auth=scram-sha-256 \
    -E UTF8 --locale=C >/dev/null
  rm -f "$work/pg/pwfile"
  as_pg "$pgbin/pg_ctl" -D "$work/pg/data" -l "$work/pg/postgres.log" -w \
    -o "-p $pg_port -c listen_addresses=127.0.0.1 -c unix_socket_directories='$work/pg' -c password_encryption=scram-sha-256" \
    start >/dev/null || die "the throwaway Postgres did not start: $(tail -n 5 "$work/pg/postgres.log" 2>/dev/null)"
  pg_started=1
  say "throwaway Postgres $("$pgbin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port (data in $work/pg)"
else
  # user, password, host, port, database and sslmode of the URL, one per line (percent-decoded).
  parsed=$(python3 - "$upstream" <<'EOF'
import sys
from urllib.parse import urlsplit, unquote, parse_qs
u = urlsplit(sys.argv[1])
if u.scheme not in ("postgresql", "postgres") or not u.hostname or not u.username or u.password is None:
    sys.exit("--upstream must be postgresql://USER:PASSWORD@HOST[:PORT][/DB][?sslmode=...]")
query = parse_qs(u.query)
unknown = sorted(set(query) - {"sslmode"})
if unknown:
    sys.exit("--upstream: only sslmode is understood as a parameter, got " + ", ".join(unknown))
for value in (unquote(u.username), unquote(u.password), u.hostname, str(u.port or 5432),
              unquote(u.path.lstrip("/")) or "postgres", query.get("sslmode", [""])[0]):
    if "\n" in value:
        sys.exit("--upstream: a line break in the URL")
    print(value)
EOF
  ) || die "cannot use --upstream"
  { read -r pg_user; read -r pg_password; read -r pg_host; read -r pg_port; read -r pg_db; read -r pg_sslmode; } <<< "$parsed"
  say "Postgres at $pg_host:$pg_port, database $pg_db, as $pg_user"
fi

as_superuser() { # psql as the superuser, on the upstream database
  PGPASSWORD=$pg_password PGSSLMODE=${pg_sslmode:-prefer} PGCONNECT_TIMEOUT=10 \
    "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -h "$pg_host" -p "$pg_port" -U "$pg_user" -d "$pg_db" "$@"
}

# SCRAM-SHA-256 verifier of a password (RFC 5802/7677, as Postgres stores it), so that no plaintext password
# travels in a statement that a server with log_statement could log.
scram_verifier() {
  python3 - "$1" <<'EOF'
import base64, hashlib, hmac, os, sys
salt, iterations = os.urandom(16), 4096
salted = hashlib.pbkdf2_hmac("sha256", sys.argv[1].encode(), salt, iterations)
client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
stored_key = hashlib.sha256(client_key).digest()
server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
b64 = lambda b: base64.b64encode(b).decode()
print("SCRAM-SHA-256$%d:%s$%s:%s" % (iterations, b64(salt), b64(stored_key), b64(server_key)))
EOF
}

is_superuser=$(as_superuser -At -c "SELECT rolsuper FROM pg_roles WHERE rolname = current_user") \
  || die "cannot log in to the Postgres as $pg_user"
[ "$is_superuser" = t ] || die "$pg_user is not a superuser: --upstream needs a superuser URL"
stored=$(as_superuser -At -c "SELECT coalesce(left(rolpassword, 14), '') FROM pg_authid WHERE rolname = current_user")
[ "$stored" = 'SCRAM-SHA-256$' ] || die "$pg_user's password is not stored as a SCRAM-SHA-256 verifier (pgmux looks" \
  "it up and uses it for SCRAM): set it again with password_encryption = 'scram-sha-256' (ALTER ROLE ... PASSWORD)"

# The pgbouncer role: created with a generated password, or given one anew, unless PGBOUNCER_PASSWORD says
# what its password already is.
role_exists=$(as_superuser -At -c "SELECT count(*) FROM pg_roles WHERE rolname = 'pgbouncer'")
if [ -n "${PGBOUNCER_PASSWORD:-}" ] && [ "$role_exists" = 1 ]; then
  auth_password=$PGBOUNCER_PASSWORD
  say "role pgbouncer exists: using PGBOUNCER_PASSWORD as its password"
else
  auth_password=${PGBOUNCER_PASSWORD:-$(secret)}
  [ "$role_exists" = 1 ] && say "role pgbouncer exists: its password is set anew (set PGBOUNCER_PASSWORD to keep it)"
  as_superuser -v verifier="$(scram_verifier "$auth_password")" <<'EOF'
SELECT CASE WHEN EXISTS (SELECT FROM pg_roles WHERE rolname = 'pgbouncer')
            THEN 'ALTER ROLE pgbouncer' ELSE 'CREATE ROLE pgbouncer' END AS verb \gset
:verb WITH LOGIN PASSWORD :'verifier';
EOF
fi

# The schema and function of Supabase's images (packaging/supabase-auth.sql), left alone where they exist.
if [ "$(as_superuser -At -c "SELECT to_regprocedure('pgbouncer.get_auth(text)') IS NOT NULL")" = t ]; then
  say "pgbouncer.get_auth(text) exists: kept as it is"
else
  as_superuser -f packaging/supabase-auth.sql
  say "created role pgbouncer, schema pgbouncer and function pgbouncer.get_auth(text)"
fi

# pgmux, laid out as Supabase's pooler: transaction mode on 6543, session mode on 5432, users looked up.
cat > "$work/pgmux.yaml" <<EOF
# Written by scripts/supabase-local.sh: pgmux as Supabase's pooler (docs/supabase.md).
listen:
  host: 127.0.0.1
  transaction_port: $tx_port
  session_port: $session_port
  admin_port: $admin_port
tls:
  mode: allowed
  self_signed: true
limits:
  shutdown_timeout: 5s
tenants:
  - id: $ref
    upstream:
      host: "$pg_host"
      port: $pg_port
      database: "$pg_db"${pg_sslmode:+
      sslmode: $pg_sslmode}
    pool_size: 15
    max_clients: 200
    auth_user:
      name: pgbouncer
      password: \${PGMUX_AUTH_USER_PASSWORD}
    auth_query: SELECT * FROM pgbouncer.get_auth(\$1)
EOF
export PGMUX_AUTH_USER_PASSWORD=$auth_password
"${pgmux_cmd[@]}" check --config "$work/pgmux.yaml" >&2 || die "pgmux refused the configuration above"
"${pgmux_cmd[@]}" --config "$work/pgmux.yaml" >&2 &
pgmux_pid=$!
unset PGMUX_AUTH_USER_PASSWORD

# A real login through each port: psql with TLS when offered, as postgres.REF.
login() { # port -> 0 logged in; prints psql's error otherwise
  PGPASSWORD=$pg_password PGSSLMODE=prefer PGCONNECT_TIMEOUT=5 "$pgbin/psql" -X -At -h 127.0.0.1 -p "$1" \
    -U "$pg_user.$ref" -d "$pg_db" -c "SELECT 1" 2>&1 >/dev/null
}
for port in "$tx_port" "$session_port"; do
  deadline=$((SECONDS + 90))
  while ! error=$(login "$port"); do
    kill -0 "$pgmux_pid" 2>/dev/null || { pgmux_pid=""; die "pgmux exited before it served a login"; }
    case "$error" in
      *"Connection refused"*|*"could not connect"*) ;; # not listening yet
      *) die "login through port $port failed: $error" ;;
    esac
    [ $SECONDS -lt $deadline ] || die "pgmux did not answer on port $port within 90 s: $error"
    sleep 0.2
  done
done

urlencode() { python3 -c 'import sys; from urllib.parse import quote; print(quote(sys.argv[1], safe=""))' "$1"; }
credentials="$(urlencode "$pg_user.$ref"):$(urlencode "$pg_password")"
database=$(urlencode "$pg_db")
echo "DATABASE_URL=postgresql://$credentials@127.0.0.1:$tx_port/$database"
echo "DIRECT_URL=postgresql://$credentials@127.0.0.1:$session_port/$database"
say "ready: transaction mode on 127.0.0.1:$tx_port (DATABASE_URL), session mode on 127.0.0.1:$session_port" \
  "(DIRECT_URL), admin HTTP on 127.0.0.1:$admin_port; Ctrl-C stops it"
wait "$pgmux_pid" || true
pgmux_pid=""
die "pgmux exited"

#!/usr/bin/env bash
# Starts (or stops) a private Postgres cluster under target/dev-postgres for local trials.
#   start: prints its URL, postgresql://postgres:postgres@127.0.0.1:PORT/postgres
#   stop:  stops it (the data stays until target/ is cleaned)
set -euo pipefail
cd "$(dirname "$0")/.."
dir="$PWD/target/dev-postgres"
port=${PGMUX_DEV_PG_PORT:-55432}

bindir=""
if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
  bindir=$(pg_config --bindir)
else
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "no PostgreSQL server binaries found: install them (apt-get install postgresql) or pass a URL" >&2
  exit 1
fi

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-start}" in
  start)
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      mkdir -p "$dir"
      [ "$(id -u)" = 0 ] && chown postgres "$dir"
      pwfile=$(mktemp)
      echo postgres > "$pwfile"
      chmod 644 "$pwfile"
      as_pg "$bindir/initdb" -D "$dir/data" -U postgres --pwfile="$pwfile" --auth=scram-sha-256 -E UTF8 --locale=C >/dev/null
      rm -f "$pwfile"
    fi
    if ! as_pg "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w \
        -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories='$dir'" start >/dev/null
    fi
    echo "postgresql://postgres:postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac

# Sourced by start.sh, stop.sh and postgres.sh: where the cluster's state lives and how Postgres is run.

# The state directory: every data directory, configuration, log, pid and secret of the cluster.
cluster_dir=${PGMUX_CLUSTER_DIR:-${TMPDIR:-/tmp}/pgmux-cluster}
# A file that marks a directory as one of ours: stop.sh removes nothing else.
cluster_marker=.pgmux-cluster

say() {
  echo "pgmux cluster: $*" >&2
}

# PostgreSQL's server binaries: PGMUX_PG_BINDIR, else pg_config's, else the newest /usr/lib/postgresql/*/bin.
find_pg_bindir() {
  if [ -n "${PGMUX_PG_BINDIR:-}" ]; then
    echo "$PGMUX_PG_BINDIR"
  elif command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir
  else
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
  fi
}

# Postgres refuses to run as root: as root, its commands run as the postgres OS user.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The Postgres cluster NAME (metadata or upstream): its directory, data directory and log.
pg_home() {
  echo "$cluster_dir/$1-postgres"
}

# pg_ctl start of cluster NAME, waiting until it accepts connections (its port and addresses are in its
# postgresql.conf, written by start.sh).
pg_start() {
  local home
  home=$(pg_home "$1")
  # 3>&-: start.sh's standard output (kept on descriptor 3 for its export lines) must not stay open in the
  # server, or "eval \"$(start.sh)\"" would wait for it.
  as_pg "$pg_bindir/pg_ctl" -D "$home/data" -l "$home/postgres.log" -w -t 60 start >/dev/null 3>&-
}

# pg_ctl stop -m fast of cluster NAME; nothing when it is not running.
pg_stop() {
  local home
  home=$(pg_home "$1")
  if [ -f "$home/data/postmaster.pid" ]; then
    as_pg "$pg_bindir/pg_ctl" -D "$home/data" -m fast -w -t 60 stop >/dev/null
  fi
}

# Whether process PID is alive and was started by this cluster (its command line names the state directory),
# so that a pid the system has given to another process since is left alone.
ours() {
  local pid=$1
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$cluster_dir/"
}

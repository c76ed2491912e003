# Sourced by the other scripts: exports JAVA_HOME pointing at a JDK 21 or newer.
# Keeps a JAVA_HOME that is already new enough; otherwise takes the newest JDK under /usr/lib/jvm.

java_major() {
  "$1" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2; exit}' | cut -d. -f1
}

pick_jdk() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/javac" ] && [ "$(java_major "$JAVA_HOME/bin/java")" -ge 21 ] 2>/dev/null; then
    return 0
  fi
  if command -v javac >/dev/null 2>&1; then
    local home
    home=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    if [ "$(java_major "$home/bin/java")" -ge 21 ] 2>/dev/null; then
      export JAVA_HOME="$home"
      return 0
    fi
  fi
  local best="" best_major=0 candidate major
  for candidate in /usr/lib/jvm/*/ /opt/java/*/ /opt/jdk*/; do
    [ -x "${candidate}bin/javac" ] || continue
    major=$(java_major "${candidate}bin/java")
    if [ "${major:-0}" -gt "$best_major" ] 2>/dev/null; then
      best="${candidate%/}" best_major=$major
    fi
  done
  if [ "$best_major" -ge 21 ]; then
    export JAVA_HOME="$best"
    return 0
  fi
  echo "pgmux needs a JDK 21 or newer: set JAVA_HOME to one (found none under /usr/lib/jvm)." >&2
  return 1
}

# JVM options pgmux runs best with on the JDK picked above (docs/benchmarks.md, "JVM options"). Compact
# object headers (a product feature from JDK 25) shrink the objects each client touches per transaction;
# with hundreds of clients that cuts pgmux's CPU per transaction measurably. From JDK 25 Netty leaves
# sun.misc.Unsafe alone unless the JVM allows its memory access (JDK 24 warns on it): without it every
# read of a direct buffer goes through checked ByteBuffer calls.
# The heap options make the committed heap (and so the RSS) follow live data more closely than the JDK's
# defaults, which keep the garbage of the last burst of logins (docs/benchmarks.md, "Memory per idle
# client"): G1 always (the JVM would pick the serial collector on a machine or container with one CPU or
# under 1792 MB), a concurrent collection cycle once the process has gone 30 s without any (a busy pgmux
# collects far more often, so this only runs when it is quiet, and it pauses the clients only briefly),
# and the heap kept within 10-30% free rather than 40-70%. -XX:G1PeriodicGCInterval=0 in PGMUX_JAVA_OPTS
# turns the periodic cycle off.
pgmux_heap_options() {
  echo "-XX:+UseG1GC -XX:G1PeriodicGCInterval=30000 -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30"
}

pgmux_jvm_options() {
  local major
  major=$(java_major "$JAVA_HOME/bin/java")
  pgmux_heap_options
  if [ "${major:-0}" -ge 24 ] 2>/dev/null; then
    echo "--sun-misc-unsafe-memory-access=allow"
  fi
  if [ "${major:-0}" -ge 25 ] 2>/dev/null; then
    echo "-XX:+UseCompactObjectHeaders"
  fi
}

pick_jdk || exit 1
export PATH="$JAVA_HOME/bin:$PATH"

#!/usr/bin/env bash
# Reproduces the run and the sweep shown in docs/loadtest.md, and their screenshots.
#
#   scripts/loadtest-demo.sh [postgresql://USER:PASSWORD@HOST:PORT/DB]
#
# Without a URL it starts a throwaway Postgres (scripts/throwaway-postgres.sh) and stops it at the end.
# Builds pgmux and the load-test tool, then writes the reports under target/loadtest-docs/ and the
# screenshots to docs/loadtest-run.png and docs/loadtest-sweep.png (with chromium installed).
# Takes about four minutes and keeps both CPU cores busy meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/jdk.sh

upstream=${1:-}
if [ -z "$upstream" ]; then
  upstream=$(scripts/throwaway-postgres.sh start)
  trap 'scripts/throwaway-postgres.sh stop' EXIT
fi

mvn -B -q -ntp -DskipTests package
out=target/loadtest-docs
rm -rf "$out"
lt=(java -jar loadtest/target/pgmux-loadtest.jar)

# The run: TPC-B-like transactions from 16 clients through pgmux's transaction port, pool_size 8.
"${lt[@]}" run --target pgmux-transaction --upstream "$upstream" --pool-size 8 \
  --scenario tpcb --users 16 --ramp 5s --duration 30s --warmup 5s \
  --assert 'p99<50ms' --assert 'errors<1%' --out "$out/run" || echo "(the run's assertions failed: see its report)"

# The sweep: serverless requests arriving at 250 per second, each connecting, running one SELECT and
# disconnecting; direct and through both pgmux ports, pgmux at pool sizes 1, 2, 4 and 8.
"${lt[@]}" sweep --upstream "$upstream" --targets direct,pgmux-session,pgmux-transaction \
  --pool-sizes 1,2,4,8 --scenario serverless --rate 250 --duration 10s --warmup 2s \
  --assert 'p99<50ms' --out "$out/sweep" || echo "(no pool size qualified for some target: see the sweep report)"

if command -v chromium >/dev/null 2>&1; then
  scripts/loadtest-screenshot.sh "$out/run/report.html" docs/loadtest-run.png 1400x2250
  scripts/loadtest-screenshot.sh "$out/sweep/sweep.html" docs/loadtest-sweep.png 1400x2150
else
  echo "chromium not found: no screenshots (apt-get install -y chromium)" >&2
fi

#!/usr/bin/env bash
# Renders load-test reports to PNG with headless Chromium, to check how they look in a real browser.
#
#   scripts/loadtest-screenshot.sh REPORT.html OUT.png [WIDTHxHEIGHT]
#
# Needs chromium (Debian: apt-get install -y chromium). The report is opened from the file system with
# networking features off, so a report that needed the network would show it.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 REPORT.html OUT.png [WIDTHxHEIGHT]" >&2
  exit 2
fi
report=$(readlink -f "$1")
out=$(readlink -m "$2")
size=${3:-1400x2400}
[ -f "$report" ] || { echo "no such report: $1" >&2; exit 1; }

browser=""
for candidate in chromium chromium-browser google-chrome; do
  if command -v "$candidate" >/dev/null 2>&1; then browser=$candidate; break; fi
done
[ -n "$browser" ] || { echo "chromium not found: apt-get install -y chromium" >&2; exit 1; }

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
sandbox=()
[ "$(id -u)" = 0 ] && sandbox=(--no-sandbox)   # Chromium refuses to run as root with its sandbox

mkdir -p "$(dirname "$out")"
"$browser" --headless "${sandbox[@]}" --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --hide-scrollbars --user-data-dir="$profile" --window-size="${size/x/,}" \
  --screenshot="$out" "file://$report" >/dev/null 2>&1
[ -s "$out" ] || { echo "chromium wrote no screenshot for $report" >&2; exit 1; }
echo "$out"

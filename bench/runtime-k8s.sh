#!/usr/bin/env bash
# `moat watch` end to end over Kubernetes audit events: the recorded audit events of Falco's
# legacy suite (../shared/corpus/falco/.../trace_files/k8s_audit, 47 files) looped to about
# EVENTS events (default 1,000,000) and piped into `moat watch --audit-log -` with every rule
# of the k8saudit plugin's k8s_audit_rules.yaml (alerts written to /dev/null). The generator
# runs outside the measurement: moat's own CPU time (user + system) gives events per second
# per core, its peak RSS the memory. Three runs, the median; then the same at a tenth of the
# events, to show memory flat in the number of events.
#   bench/runtime-k8s.sh            # prints the rows
#   EVENTS=200000 RUNS=1 bench/runtime-k8s.sh
#   MOAT=/path/to/moat bench/runtime-k8s.sh
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${EVENTS:-1000000}
RUNS=${RUNS:-3}
CORPUS=../shared/corpus/falco
RULES=$CORPUS/falcosecurity-plugins/plugins/k8saudit/rules/k8s_audit_rules.yaml
TRACES=$CORPUS/falcosecurity-falco-legacy-tests/test/trace_files/k8s_audit
# MOAT=PATH measures that binary instead of building one.
if [ -z "${MOAT:-}" ]; then
  cargo build --release --locked -q
  MOAT=${CARGO_TARGET_DIR:-$PWD/target}/release/moat
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# One block: every event line of the 47 files (fal_01_003.json is not an event and is left out).
for f in "$TRACES"/*.json; do [ "$(basename "$f")" = fal_01_003.json ] || { cat "$f"; echo; }; done |
  grep -v '^$' > "$tmp/block"
per_block=$(wc -l < "$tmp/block")

run() { # events -> "events cpu_s peak_kib wall_s alerts"
  local n=$1 reps=$(( ($1 + per_block - 1) / per_block ))
  python3 -c "
import sys
b = open('$tmp/block', 'rb').read()
out = sys.stdout.buffer
for _ in range($reps): out.write(b)
" | /usr/bin/time -f '%U %S %M %e' -o "$tmp/t" "$MOAT" watch --rules "$RULES" --audit-log - > /dev/null 2> "$tmp/err"
  local alerts; alerts=$(grep -oE '[0-9]+ alerts' "$tmp/err" | cut -d' ' -f1)
  local events; events=$(grep -oE '[0-9]+ events' "$tmp/err" | cut -d' ' -f1)
  read -r u s m e < "$tmp/t"
  echo "$events $(python3 -c "print($u + $s)") $m $e $alerts"
}

median_row() { # events -> table row
  : > "$tmp/rows"
  for ((i = 0; i < RUNS; i++)); do run "$1" >> "$tmp/rows"; done
  python3 - "$tmp/rows" <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
ev = int(rows[0][0]); al = int(rows[0][4])
cpu = statistics.median(float(r[1]) for r in rows)
mem = statistics.median(int(r[2]) for r in rows)
wall = statistics.median(float(r[3]) for r in rows)
print(f"| {ev:,} | {al:,} | {cpu:.2f} s | {wall:.2f} s | {ev / cpu:,.0f} | {mem / 1024:.1f} MiB |")
PY
}

echo "| events | alerts | moat CPU (user+sys) | wall | events/s per core | peak RSS |"
echo "|---|---|---|---|---|---|"
median_row $((EVENTS / 10))
median_row "$EVENTS"
echo "block: $per_block events; rules: $(grep -c '^- rule:' "$RULES"); load average: $(cut -d' ' -f1-3 /proc/loadavg)"

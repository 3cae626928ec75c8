#!/usr/bin/env bash
# Capture replay speed (issue 13): the six Falco test captures' events, looped to EVENTS
# (default 5,000,000), through the capture reader (blocks, events, parameters), the thread
# and fd state and the extraction of the fields of a few typical conditions (14 fields per
# event, crates/moat-scap/examples/scap_bench.rs), on one thread; each capture's metadata
# (process and fd lists) is read once and timed apart, the passes replay its event blocks
# through the same state. Prints events per second of CPU time (= per core), the metadata
# time per capture, and the peak RSS at 10% of the run and at its end (flat memory: equal).
# The issue's goal for the whole, with every stable rule evaluated, is 2,000,000 events/s
# per core. Then the whole pipeline (`moat watch --capture`'s loop: reader, state, the
# syscall rules of RULES (default: the stable falco_rules.yaml) indexed by event type, each
# alert rendered), over the same events and again without the procinfo events (CPU-time
# samples, 95% of these captures' events, which no rule reads). Median of RUNS.
#   bench/scap.sh
#   EVENTS=1000000 RUNS=1 bench/scap.sh
#   RULES=a.yaml:b.yaml bench/scap.sh
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${EVENTS:-5000000}
RUNS=${RUNS:-3}
TRACES=../shared/corpus/falco/falcosecurity-falco-legacy-tests/test/trace_files
RULES=${RULES:-../shared/corpus/falco/falcosecurity-rules/rules/falco_rules.yaml}
[ -n "${NOBUILD:-}" ] || cargo build --release --locked -q --workspace --example scap_bench
BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/examples/scap_bench
for nf in 14 0; do
  out=$(for ((i = 0; i < RUNS; i++)); do SCAP_BENCH_FIELDS=$nf "$BIN" "$EVENTS" "$TRACES"/*.scap; done)
  echo "$out"
  python3 - "$out" <<'PY'
import sys, statistics
rows = [dict(kv.split('=') for kv in l.split()) for l in sys.argv[1].splitlines() if l.strip()]
med = lambda k: statistics.median(float(r[k]) for r in rows)
nf = int(rows[0]['fields'])
what = f"reader + state + {nf} fields" if nf else "reader + state only"
print(f"| capture replay: {what} | {med('events')/1e6:.1f} M events | "
      f"{med('events_per_cpu_s')/1e6:.2f} M events/s/core | "
      f"{med('metadata_ms_per_capture'):.2f} ms per capture's metadata | "
      f"{med('rss_kib_at_10pct')/1024:.1f} MiB at 10% / {med('rss_kib_end')/1024:.1f} MiB at end | "
      f"load {open('/proc/loadavg').read().split()[0]} |")
PY
done
for noproc in "" 1; do
  out=$(for ((i = 0; i < RUNS; i++)); do
    SCAP_BENCH_RULES=$RULES SCAP_BENCH_NO_PROCINFO=$noproc "$BIN" "$EVENTS" "$TRACES"/*.scap
  done)
  echo "$out"
  python3 - "$out" "$noproc" "$RULES" <<'PY'
import sys, statistics, os
rows = [dict(kv.split('=') for kv in l.split()) for l in sys.argv[1].splitlines() if l.strip()]
med = lambda k: statistics.median(float(r[k]) for r in rows)
files = '+'.join(os.path.basename(f) for f in sys.argv[3].split(':'))
mix = "syscall events without procinfo" if sys.argv[2] else "all events"
print(f"| whole pipeline: reader + state + {files} ({int(med('rules'))} rules), {mix} | "
      f"{med('events')/1e6:.1f} M events, {int(med('alerts'))} alerts | "
      f"{med('events_per_cpu_s')/1e6:.2f} M events/s/core | "
      f"{med('compile_ms'):.0f} ms to load the rules | "
      f"{med('rss_kib_at_10pct')/1024:.1f} MiB at 10% / {med('rss_kib_end')/1024:.1f} MiB at end | "
      f"load {open('/proc/loadavg').read().split()[0]} |")
PY
done

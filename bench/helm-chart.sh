#!/usr/bin/env bash
# Helm charts rendered and checked, side by side with Trivy: `moat config CHART` and
# `trivy-offline config CHART` over moat's own chart (deploy/helm/moat) and Trivy's test chart
# (helm create's scaffold, ../shared/corpus/.../helm_testchart), each cold (a new process; JSON
# output), median of RUNS runs: wall, CPU (user + system: the fair number when the machine is
# shared), peak RSS and moat's speed-up. Then whether the findings agree: per template, the
# Trivy check ids (moat's findings carry them as aliases; moat's own checks without a Trivy
# id are listed apart). Prints BENCHMARKS.md rows.
#   bench/helm-chart.sh
#   RUNS=5 MOAT=/path/to/moat bench/helm-chart.sh   # a binary already built (else cargo build --release)
set -euo pipefail
cd "$(dirname "$0")/.."
PEERS=${MOAT_PEERS:-/var/tmp/moat-peers}/bin
RUNS=${RUNS:-3}
if [ -z "${MOAT:-}" ]; then
  cargo build --release --locked -q -p moat-cli
  MOAT=${CARGO_TARGET_DIR:-$PWD/target}/release/moat
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
source bench/lib.sh
CHARTS=(deploy/helm/moat)
TC=../shared/corpus/k8s-manifests/trivy-tests/integration/testdata/fixtures/repo/helm_testchart
[ -d "$TC" ] && CHARTS+=("$TC")

echo "runs: $RUNS (median); $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
echo
echo "| chart | tool | wall | CPU | peak RSS | moat faster (wall / CPU) |"
echo "|---|---|---|---|---|---|"
for c in "${CHARTS[@]}"; do
  read -r mw mk mc < <(measure "$MOAT" config -q -f json "$c")
  read -r tw tk tc < <(measure "$PEERS/trivy-offline" config -q --format json "$c")
  "$MOAT" config -q -f json -o "$tmp/moat.json" "$c"
  "$PEERS/trivy-offline" config -q --format json "$c" > "$tmp/trivy.json"
  python3 - "$(basename "$c")" "$mw" "$mk" "$mc" "$tw" "$tk" "$tc" "$tmp/moat.json" "$tmp/trivy.json" >> "$tmp/agree" <<'PY'
import json, re, sys
name = sys.argv[1]
mw, mk, mc, tw, tk, tc = (float(x) for x in sys.argv[2:8])
# /usr/bin/time counts CPU in 10 ms ticks: below one tick, say so.
mcs = f"{mc:.3f} s" if mc >= 0.01 else "< 0.01 s"
cpu = f"{tc/mc:.0f}x" if mc >= 0.01 else f"> {tc/0.01:.0f}x"
print(f"| {name} | moat | {mw:.3f} s | {mcs} | {mk/1024:.0f} MiB | — |", file=sys.stderr)
print(f"| {name} | trivy config | {tw:.3f} s | {tc:.3f} s | {tk/1024:.0f} MiB | {tw/mw:.0f}x / {cpu} |", file=sys.stderr)
def ksv(i):
    m = re.fullmatch(r"(?:AVD-)?KSV-?0*(\d+)", i)
    return f"KSV{int(m.group(1)):03d}" if m else None
moat, own = set(), set()
for f in json.load(open(sys.argv[8]))["findings"]:
    t = "templates/" + f["location"]["path"].split("/templates/", 1)[-1]
    ids = {k for k in (ksv(a) for a in f.get("aliases", [])) if k}
    if ids:
        moat |= {(t, k) for k in ids}
    else:
        own.add((t, f["id"]))
trivy = set()
for r in json.load(open(sys.argv[9])).get("Results", []):
    for m in r.get("Misconfigurations") or []:
        trivy.add((r["Target"], ksv(m["ID"]) or m["ID"]))
fmt = lambda s: ", ".join(f"{t.split('/')[-1]} {i}" for t, i in sorted(s)) or "none"
print(f"- **{name}**: both: {fmt(moat & trivy)}; only moat (Trivy ids): {fmt(moat - trivy)}; "
      f"only Trivy: {fmt(trivy - moat)}; moat's checks without a Trivy id: {fmt(own)}")
PY
done 2>&1 | cat
echo
cat "$tmp/agree"

#!/usr/bin/env bash
# The Kubernetes checks side by side with the peers over all of
# ../shared/corpus/k8s-manifests (every *.yaml, *.yml and *.json: the manifests of kubesec's,
# kube-score's, Polaris', checkov's and Trivy's tests, kubernetes/examples, a microservices
# demo): `moat config DIR`, `trivy-offline config DIR` and `checkov -d DIR --framework
# kubernetes`, each writing JSON. Every run is cold (a new process; trivy's check bundle comes
# from its offline cache). Median of RUNS runs: wall time, CPU time (user + system: the fair
# number when the machine is shared) and peak RSS; then files per second and moat's speed-up
# (peer / moat, wall and CPU). Prints BENCHMARKS.md rows.
#   bench/misconfig-k8s.sh
#   RUNS=5 bench/misconfig-k8s.sh
#   MOAT=/path/to/moat bench/misconfig-k8s.sh   # a binary already built (else cargo build --release)
set -euo pipefail
cd "$(dirname "$0")/.."
PEERS=${MOAT_PEERS:-/var/tmp/moat-peers}/bin
RUNS=${RUNS:-3}
CORPUS=$(cd ../shared/corpus/k8s-manifests && pwd)
if [ -z "${MOAT:-}" ]; then
  cargo build --release --locked -q --workspace
  MOAT=${CARGO_TARGET_DIR:-$PWD/target}/release/moat
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
source bench/lib.sh
N=$(find "$CORPUS" -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) | wc -l)

read -r mw mk mc < <(measure "$MOAT" config -q -f json -o "$tmp/moat.json" "$CORPUS")
read -r tw tk tc < <(measure "$PEERS/trivy-offline" config -q --format json "$CORPUS")
read -r cw ck cc < <(measure "$PEERS/checkov" -d "$CORPUS" --framework kubernetes -o json --quiet)
findings=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['findings']))" "$tmp/moat.json")

echo "YAML/JSON files: $N (moat: $findings findings); runs: $RUNS (median); $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
echo
echo "| tool | wall | CPU | peak RSS | files/s (wall) | moat faster (wall / CPU) |"
echo "|---|---|---|---|---|---|"
python3 - "$N" "$mw" "$mk" "$mc" moat "$tw" "$tk" "$tc" "trivy config" "$cw" "$ck" "$cc" checkov <<'PY'
import sys
n = int(sys.argv[1]); v = sys.argv[2:]
mw, mc = float(v[0]), float(v[2])
for i in range(0, len(v), 4):
    w, k, c, name = float(v[i]), int(v[i+1]), float(v[i+2]), v[i+3]
    ratio = "—" if name == "moat" else f"{w/mw:.0f}x / {c/max(mc, 0.001):.0f}x"
    print(f"| {name} | {w:.3f} s | {c:.3f} s | {k/1024:.0f} MiB | {n/max(w, 0.001):.0f} | {ratio} |")
PY

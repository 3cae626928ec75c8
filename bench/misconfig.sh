#!/usr/bin/env bash
# The Dockerfile checks side by side with the peers over every Dockerfile of
# ../shared/corpus/dockerfiles (Dockerfile, Containerfile, Dockerfile.*, *.Dockerfile):
# `moat config DIR`, `hadolint FILES...` (one process for all files), `trivy-offline config
# DIR` and `checkov -d DIR --framework dockerfile`, each writing JSON. Every run is cold (a
# new process; trivy's check bundle comes from its offline cache). Median of RUNS runs:
# wall time, CPU time (user + system: the fair number when the machine is shared) and peak
# RSS; then the time per Dockerfile and moat's speed-up (peer / moat, wall and CPU).
# Prints BENCHMARKS.md rows.
#   bench/misconfig.sh
#   RUNS=5 bench/misconfig.sh
#   MOAT=/path/to/moat bench/misconfig.sh   # a binary already built (else cargo build --release)
set -euo pipefail
cd "$(dirname "$0")/.."
PEERS=${MOAT_PEERS:-/var/tmp/moat-peers}/bin
RUNS=${RUNS:-3}
CORPUS=$(cd ../shared/corpus/dockerfiles && pwd)
if [ -z "${MOAT:-}" ]; then
  cargo build --release --locked -q --workspace
  MOAT=${CARGO_TARGET_DIR:-$PWD/target}/release/moat
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
source bench/lib.sh
mapfile -t FILES < <(find "$CORPUS" -type f \( -name Dockerfile -o -name 'Dockerfile.*' -o -name '*.Dockerfile' \
  -o -name '*.dockerfile' -o -name Containerfile \) | sort)
N=${#FILES[@]}

read -r mw mk mc < <(measure "$MOAT" config -q -f json -o "$tmp/moat.json" "$CORPUS")
read -r hw hk hc < <(measure "$PEERS/hadolint" --no-fail -f json "${FILES[@]}")
read -r tw tk tc < <(measure "$PEERS/trivy-offline" config -q --format json "$CORPUS")
read -r cw ck cc < <(measure "$PEERS/checkov" -d "$CORPUS" --framework dockerfile -o json --quiet)

echo "Dockerfiles: $N; runs: $RUNS (median); $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
echo
echo "| tool | wall | CPU | peak RSS | wall per Dockerfile | moat faster (wall / CPU) |"
echo "|---|---|---|---|---|---|"
python3 - "$N" "$mw" "$mk" "$mc" moat "$hw" "$hk" "$hc" hadolint "$tw" "$tk" "$tc" "trivy config" \
  "$cw" "$ck" "$cc" checkov <<'PY'
import sys
n = int(sys.argv[1]); v = sys.argv[2:]
mw, mc = float(v[0]), float(v[2])
for i in range(0, len(v), 4):
    w, k, c, name = float(v[i]), int(v[i+1]), float(v[i+2]), v[i+3]
    ratio = "—" if name == "moat" else f"{w/mw:.0f}x / {c/max(mc, 0.001):.0f}x"
    print(f"| {name} | {w:.3f} s | {c:.3f} s | {k/1024:.0f} MiB | {w/n*1000:.2f} ms | {ratio} |")
PY

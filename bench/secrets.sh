#!/usr/bin/env bash
# The secret scanner side by side with the peers: `moat scan --scanners secret` against
# `trivy image|fs --scanners secret` on each shared image (docker-archive and OCI layout), and
# against trivy and betterleaks (the fastest secret scanner among the peers) on the language
# benchmark tree (bench/tree.sh). Median of RUNS cold runs, wall time / peak RSS; prints
# BENCHMARKS.md rows with moat/peer ratios (time / memory; below 1: moat faster or smaller).
#   bench/secrets.sh
#   RUNS=5 IMAGES="secrets-leak" NOTREE=1 bench/secrets.sh
# kingfisher is left out: it verifies what it finds over the network by default.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGES_DIR=${MOAT_IMAGES:-/var/tmp/moat-images}/out
PEERS=${MOAT_PEERS:-/var/tmp/moat-peers}/bin
RUNS=${RUNS:-3}
bash ../shared/images/build-all.sh >/dev/null
bash ../shared/peers/setup.sh >/dev/null
cargo build --release --locked -q
MOAT=${CARGO_TARGET_DIR:-$PWD/target}/release/moat
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp/home; mkdir -p "$HOME"

# measure CMD...: runs CMD $RUNS times (exit 0 or 1: findings), prints "median_s median_kib"
measure() {
  local i
  : > "$tmp/m"
  for ((i = 0; i < RUNS; i++)); do
    /usr/bin/time -f '%e %M' -o "$tmp/t" "$@" > /dev/null 2> "$tmp/err" || [ $? -le 1 ] ||
      { echo "failed: $*" >&2; cat "$tmp/err" >&2; return 1; }
    tail -n 1 "$tmp/t" >> "$tmp/m"
  done
  python3 - "$tmp/m" <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
print(statistics.median(float(r[0]) for r in rows), int(statistics.median(int(r[1]) for r in rows)))
PY
}
# row LABEL MOAT_S MOAT_KIB PEER_S PEER_KIB [PEER2_S PEER2_KIB]
row() {
  python3 - "$@" <<'PY'
import sys
lab, *v = sys.argv[1:]
v = [float(x) for x in v]
cell = lambda t, m: f"{t:.3f} s / {m/1024:.0f} MiB"
s = f"| {lab} | {cell(v[0], v[1])} | {cell(v[2], v[3])} |"
s += f" {cell(v[4], v[5])} |" if len(v) > 4 else " |"
s += f" {v[0]/v[2]:.2f} / {v[1]/v[3]:.2f} |"
if len(v) > 4:
    s += f" {v[0]/v[4]:.2f} / {v[1]/v[5]:.2f} |"
else:
    s += " |"
print(s)
PY
}

echo "| input | moat | trivy | betterleaks | moat/trivy | moat/betterleaks |"
echo "|---|---|---|---|---|---|"
for img in ${IMAGES:-debian-base debian-tools lang-app secrets-leak}; do
  for fmt in docker-archive oci; do
    case $fmt in docker-archive) in=$IMAGES_DIR/$img.docker.tar ;; oci) in=$IMAGES_DIR/$img.oci ;; esac
    read -r mt mm < <(measure "$MOAT" scan "$fmt:$in" --scanners secret --format json --quiet)
    read -r tt tm < <(measure "$PEERS/trivy-offline" image --input "$in" --scanners secret --format json \
      --cache-backend memory --skip-db-update --offline-scan -q)
    row "$img ($fmt)" "$mt" "$mm" "$tt" "$tm"
  done
done
if [ -z "${NOTREE:-}" ]; then
  fs=$(bench/tree.sh)
  n=$(find "$fs" -type f | wc -l)
  read -r mt mm < <(measure "$MOAT" scan "dir:$fs" --scanners secret --format json --quiet)
  read -r tt tm < <(measure "$PEERS/trivy-offline" fs --scanners secret --format json \
    --cache-backend memory --skip-db-update --offline-scan -q "$fs")
  read -r bt bm < <(measure "$PEERS/betterleaks" --no-banner -l error --max-archive-depth 0 -o - "$fs")
  row "the bench tree ($n files)" "$mt" "$mm" "$tt" "$tm" "$bt" "$bm"
fi

#!/usr/bin/env bash
# Registry input: cold and warm `moat sbom` of lang-app from a local registry (Debian's
# docker-registry on 127.0.0.1, images pushed by ../shared/images/registry/push-all.sh) against
# `trivy-offline image --insecure --format cyclonedx --cache-backend memory` and
# `syft registry:` on the same registry. Cold: an empty blob cache each run (moat's
# --cache-dir in a fresh directory; trivy's memory cache; syft has none). Warm: moat's cache
# kept from the previous run. Median of RUNS runs: wall / CPU (user + system) / peak RSS, and
# the bytes the registry served per run (from a counting of its access log: near zero warm).
# Prints BENCHMARKS.md rows with moat/peer ratios.
#   bench/registry.sh
#   RUNS=5 MOAT=/path/to/moat NOBUILD=1 bench/registry.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PEERS=${MOAT_PEERS:-/var/tmp/moat-peers}/bin
RUNS=${RUNS:-3}
bash ../shared/images/build-all.sh >/dev/null
bash ../shared/peers/setup.sh >/dev/null
[ -n "${NOBUILD:-}" ] || cargo build --release --locked -q
MOAT=${MOAT:-${CARGO_TARGET_DIR:-$PWD/target}/release/moat}
tmp=$(mktemp -d)
PID=
cleanup() { [ -z "$PID" ] || kill "$PID" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
source bench/lib.sh
export HOME=$tmp/home; mkdir -p "$HOME"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PID=$(bash ../shared/images/registry/start.sh "$PORT" "$tmp/reg")
bash ../shared/images/registry/push-all.sh "$PORT" >/dev/null
REF=127.0.0.1:$PORT/bench/lang-app:latest
LOG=$tmp/reg/registry.log

# served: bytes of blob bodies the registry logged since the log had $1 bytes.
served() {
  tail -c +"$(($1 + 1))" "$LOG" | python3 -c '
import sys, re
n = 0
for l in sys.stdin:
    if "/blobs/sha256:" in l and "GET" in l:
        m = re.search(r"http.response.written=(\d+)", l)
        if m: n += int(m.group(1))
print(n)'
}

# cold moat: a new cache directory each run
cold_moat() { rm -rf "$tmp/cold"; "$MOAT" sbom -q --cache-dir "$tmp/cold" "$REF"; }
# warm moat: the cache kept (filled once before measuring)
"$MOAT" sbom -q --cache-dir "$tmp/warm" "$REF" >/dev/null
warm_moat() { "$MOAT" sbom -q --cache-dir "$tmp/warm" "$REF"; }
export -f cold_moat warm_moat; export MOAT REF tmp

before=$(wc -c < "$LOG"); warm_moat >/dev/null; warm_bytes=$(served "$before")
before=$(wc -c < "$LOG"); cold_moat >/dev/null; cold_bytes=$(served "$before")

read -r cmt cmm cmc < <(measure bash -c cold_moat)
read -r wmt wmm wmc < <(measure bash -c warm_moat)
read -r tt tm tc < <(measure "$PEERS/trivy-offline" image --insecure --format cyclonedx --cache-backend memory \
  --skip-db-update --offline-scan -q "$REF")
read -r st sm sc < <(measure env SYFT_REGISTRY_INSECURE_USE_HTTP=true "$PEERS/syft" "registry:$REF" -o cyclonedx-json -q)

python3 - "$cmt" "$cmm" "$cmc" "$wmt" "$wmm" "$wmc" "$tt" "$tm" "$tc" "$st" "$sm" "$sc" "$cold_bytes" "$warm_bytes" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import sys
a = sys.argv[1:]
v = [float(x) for x in a[:12]]
cold, warm, trivy, syft = v[0:3], v[3:6], v[6:9], v[9:12]
cb, wb, load = int(a[12]), int(a[13]), a[14]
cell = lambda t: f"{t[0]:.2f} s / {t[2]:.2f} s / {t[1]/1024:.0f} MiB"
print("| lang-app from a local registry (wall / CPU / peak RSS) | moat cold | moat warm | trivy | syft | moat cold/trivy | moat cold/syft | moat warm/trivy |")
print("|---|---|---|---|---|---|---|---|")
print(f"| sbom, {cb/1e6:.1f} MB served cold, {wb/1e3:.1f} kB warm | {cell(cold)} | {cell(warm)} | {cell(trivy)} | {cell(syft)} | "
      f"{cold[0]/trivy[0]:.2f} | {cold[0]/syft[0]:.2f} | {warm[0]/trivy[0]:.2f} |")
print(f"\n(load average {load})")
PY

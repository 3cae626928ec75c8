#!/usr/bin/env bash
# The per-layer analysis cache: first and second `moat sbom` of each shared image (docker
# archive) and of lang-app from a local registry, against trivy's first and second run with
# its own cache (fanal's per-layer blob info, `--cache-dir`, filesystem backend). First: an
# empty cache directory each run (moat --cache-dir, trivy --cache-dir); second: the cache the
# first run filled. Median of RUNS runs: wall / CPU (user + system) / peak RSS. Prints
# BENCHMARKS.md rows with moat/trivy ratios.
#   bench/layer-cache.sh
#   RUNS=5 MOAT=/path/to/moat NOBUILD=1 bench/layer-cache.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PEERS=${MOAT_PEERS:-/var/tmp/moat-peers}/bin
RUNS=${RUNS:-3}
bash ../shared/images/build-all.sh >/dev/null
bash ../shared/peers/setup.sh >/dev/null
[ -n "${NOBUILD:-}" ] || cargo build --release --locked -q
MOAT=${MOAT:-${CARGO_TARGET_DIR:-$PWD/target}/release/moat}
OUT=${MOAT_IMAGES:-/var/tmp/moat-images}/out
TRIVY=$PEERS/trivy
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

# trivy's SBOM needs no vulnerability database: --skip-db-update and --offline-scan.

moat_first() { rm -rf "$tmp/m1"; "$MOAT" sbom -q --cache-dir "$tmp/m1" "$@"; }
moat_second() { "$MOAT" sbom -q --cache-dir "$tmp/m2" "$@"; }
# (its stub Java index, as trivy-offline's cache holds it, goes into each new cache directory)
JAVADB=${MOAT_PEERS:-/var/tmp/moat-peers}/trivy-cache/java-db
trivy_dir() { rm -rf "$1"; mkdir -p "$1"; cp -r "$JAVADB" "$1/"; }
trivy_first() { trivy_dir "$tmp/t1"; "$TRIVY" image --cache-dir "$tmp/t1" --format cyclonedx --skip-db-update --skip-java-db-update --offline-scan -q "$@"; }
trivy_second() { "$TRIVY" image --cache-dir "$tmp/t2" --format cyclonedx --skip-db-update --skip-java-db-update --offline-scan -q "$@"; }
export -f moat_first moat_second trivy_first trivy_second trivy_dir
export MOAT TRIVY tmp JAVADB

rows=()
run_one() { # label, moat args..., --, trivy args...
  local label=$1; shift
  local margs=() targs=()
  while [ "$1" != -- ]; do margs+=("$1"); shift; done; shift
  targs=("$@")
  rm -rf "$tmp/m2"; trivy_dir "$tmp/t2"
  moat_second "${margs[@]}" >/dev/null
  trivy_second "${targs[@]}" >/dev/null
  read -r a b c < <(measure bash -c 'moat_first "$@"' _ "${margs[@]}")
  read -r d e f < <(measure bash -c 'moat_second "$@"' _ "${margs[@]}")
  read -r g h i < <(measure bash -c 'trivy_first "$@"' _ "${targs[@]}")
  read -r j k l < <(measure bash -c 'trivy_second "$@"' _ "${targs[@]}")
  rows+=("$label $a $b $c $d $e $f $g $h $i $j $k $l")
}

for img in debian-base debian-tools lang-app secrets-leak; do
  run_one "$img.docker.tar" "docker-archive:$OUT/$img.docker.tar" -- --input "$OUT/$img.docker.tar"
done
run_one "lang-app@registry" "$REF" -- --insecure "$REF"

printf '%s\n' "${rows[@]}" > "$tmp/rows"
python3 - "$tmp/rows" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import sys
load = sys.argv[2]
cell = lambda t: f"{t[0]:.2f} s / {t[2]:.2f} s / {t[1]/1024:.0f} MiB"
print("| sbom (wall / CPU / peak RSS) | moat first | moat second | trivy first | trivy second | moat/trivy first | moat/trivy second | moat second/first |")
print("|---|---|---|---|---|---|---|---|")
for line in open(sys.argv[1]):
    p = line.split()
    v = [float(x) for x in p[1:]]
    mf, ms, tf, ts = v[0:3], v[3:6], v[6:9], v[9:12]
    print(f"| {p[0]} | {cell(mf)} | {cell(ms)} | {cell(tf)} | {cell(ts)} | "
          f"{mf[0]/tf[0]:.2f} | {ms[0]/ts[0]:.2f} | {ms[0]/mf[0]:.2f} |")
print(f"\n(load average {load})")
PY

#!/usr/bin/env bash
# Signing and verification timings: `moat sign-blob` / `verify-blob` on a 64 MiB file and a
# small one, `moat sign` / `moat verify` on a copy of the lang-app OCI layout, with a key
# made by `moat key generate` (scrypt N=65536 decryption included in every signing run), and
# `moat sign` / `moat verify` of lang-app pushed to a local docker-registry (when
# docker-registry and skopeo are installed; the registry is stopped by PID at the end).
# Median of RUNS runs, wall / CPU (user + system) / peak RSS. There is no cosign binary on
# this machine, so these are moat's numbers alone, without a peer ratio.
#   bench/sign.sh
#   RUNS=5 MOAT=/path/to/moat NOBUILD=1 bench/sign.sh
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGES_DIR=${MOAT_IMAGES:-/var/tmp/moat-images}/out
RUNS=${RUNS:-3}
bash ../shared/images/build-all.sh >/dev/null
[ -n "${NOBUILD:-}" ] || cargo build --release --locked -q --workspace
MOAT=${MOAT:-${CARGO_TARGET_DIR:-$PWD/target}/release/moat}
tmp=$(mktemp -d); regpid=
trap '[ -z "$regpid" ] || kill "$regpid" 2>/dev/null; rm -rf "$tmp"' EXIT
source bench/lib.sh
export HOME=$tmp/home MOAT_PASSWORD=bench; mkdir -p "$HOME"; cd "$tmp"

"$MOAT" key generate --output-key-prefix k 2>/dev/null
head -c $((64 << 20)) /dev/urandom > big.bin
printf 'hello' > small.txt
"$MOAT" sign-blob --key k.key --output-signature big.sig big.bin 2>/dev/null
"$MOAT" sign-blob --key k.key --output-signature small.sig small.txt 2>/dev/null
mkdir -p img/blobs/sha256
cp "$IMAGES_DIR/lang-app.oci/index.json" "$IMAGES_DIR/lang-app.oci/oci-layout" img/
ln "$IMAGES_DIR"/lang-app.oci/blobs/sha256/* img/blobs/sha256/ 2>/dev/null ||
  cp "$IMAGES_DIR"/lang-app.oci/blobs/sha256/* img/blobs/sha256/

cell() { awk '{printf "%.3f s / %.3f s / %.0f MiB", $1, $3, $2/1024}'; }
echo "| job (wall / CPU / peak RSS) | moat |"
echo "|---|---|"
echo "| key generate (scrypt N=65536) | $(measure "$MOAT" key generate --output-key-prefix g --force | cell) |"
echo "| sign-blob 5 B (key decryption included) | $(measure "$MOAT" sign-blob --key k.key small.txt | cell) |"
echo "| sign-blob 64 MiB | $(measure "$MOAT" sign-blob --key k.key big.bin | cell) |"
echo "| verify-blob 5 B | $(measure "$MOAT" verify-blob --key k.pub --signature small.sig small.txt | cell) |"
echo "| verify-blob 64 MiB | $(measure "$MOAT" verify-blob --key k.pub --signature big.sig big.bin | cell) |"
echo "| sign oci:lang-app (signatures accumulate) | $(measure "$MOAT" sign oci:img --key k.key | cell) |"
echo "| verify oci:lang-app ($RUNS signatures) | $(measure "$MOAT" verify oci:img --key k.pub | cell) |"
if command -v docker-registry >/dev/null && command -v skopeo >/dev/null; then
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p reg/storage
  printf 'version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
    "$tmp/reg/storage" "$port" > reg/config.yml
  docker-registry serve reg/config.yml > reg/log 2>&1 & regpid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v2/" > /dev/null && break; sleep 0.1; done
  skopeo copy -q --dest-tls-verify=false "oci:$IMAGES_DIR/lang-app.oci:latest" \
    "docker://127.0.0.1:$port/bench/lang-app:latest"
  ref=127.0.0.1:$port/bench/lang-app:latest
  echo "| sign registry lang-app (resolve, fetch .sig, push) | $(measure "$MOAT" sign "$ref" --key k.key | cell) |"
  echo "| verify registry lang-app ($RUNS signatures) | $(measure "$MOAT" verify "$ref" --key k.pub | cell) |"
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

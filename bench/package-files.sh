#!/usr/bin/env bash
# The cost of `--package-files`: `moat inventory --format json` of the shared images (docker
# archives, no cache) without and with the flag, the two runs alternated RUNS times (the
# machine's load hits both alike). Median CPU (user + system), median peak RSS and the
# report's size. Prints BENCHMARKS.md rows with the with/without ratios.
#   bench/package-files.sh                                  # release build
#   RUNS=7 MOAT=/path/to/moat NOBUILD=1 bench/package-files.sh debian-tools lang-app
#   RUNS=2 ... bench/package-files.sh dir:/var/tmp/moat-bench/inventory/apk-200000
# (an argument with a colon is a target as given; see bench/gen-inventory.py for the trees)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
bash ../shared/images/build-all.sh >/dev/null
[ -n "${NOBUILD:-}" ] || cargo build --release --locked -q
MOAT=${MOAT:-${CARGO_TARGET_DIR:-$PWD/target}/release/moat}
OUT=${MOAT_IMAGES:-/var/tmp/moat-images}/out
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp/home XDG_CACHE_HOME=$tmp/cache
mkdir -p "$HOME"
IMAGES=("$@")
[ ${#IMAGES[@]} -gt 0 ] || IMAGES=(debian-tools lang-app)

echo "| image | without: CPU / peak RSS / JSON | with --package-files | CPU / RSS / size ratio |"
echo "|---|---|---|---|"
for img in "${IMAGES[@]}"; do
  : > "$tmp/without"; : > "$tmp/with"
  target=docker-archive:$OUT/$img.docker.tar
  case $img in *:*) target=$img; img=${img##*/} ;; esac
  for ((i = 0; i < RUNS; i++)); do
    for mode in without with; do
      flag=(); [ "$mode" = with ] && flag=(--package-files)
      /usr/bin/time -f '%U %S %M' -o "$tmp/t" "$MOAT" inventory -q --cache off \
        "$target" --format json "${flag[@]}" -o "$tmp/$mode.json"
      echo "$(cat "$tmp/t") $(stat -c %s "$tmp/$mode.json")" >> "$tmp/$mode"
    done
  done
  python3 - "$img" "$tmp/without" "$tmp/with" <<'PY'
import sys, statistics
def med(path):
    rows = [l.split() for l in open(path) if l.strip()]
    cpu = statistics.median(float(r[0]) + float(r[1]) for r in rows)
    rss = statistics.median(int(r[2]) for r in rows) / 1024
    size = int(rows[-1][3]) / 1024
    return cpu, rss, size
a, b = med(sys.argv[2]), med(sys.argv[3])
cell = lambda m: f"{m[0]:.2f} s / {m[1]:.1f} MiB / {m[2] / 1024:.1f} MiB" if m[2] > 10240 \
    else f"{m[0]:.2f} s / {m[1]:.1f} MiB / {m[2]:.0f} KiB"
print(f"| {sys.argv[1]} | {cell(a)} | {cell(b)} | "
      f"{b[0] / a[0]:.2f} / {b[1] / a[1]:.2f} / {b[2] / a[2]:.2f} |")
PY
done

#!/usr/bin/env bash
# Compares two moat binaries on the engine's benchmark inputs: `moat sbom` of lang-app and
# debian-tools (docker-archive) and of the project tree bench/run.sh builds (the shared
# fixtures plus 20,000 generated node_modules packages). Runs alternate between the two
# binaries so that load from other work hits both alike; prints, per input and binary, the
# median and minimum wall time and the median CPU time (user + system), which is the
# steadier number on a busy machine.
#   bench/compare.sh OLD_MOAT NEW_MOAT            # 15 runs each
#   RUNS=30 bench/compare.sh /tmp/moat-before target/release/moat
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: $0 OLD_MOAT NEW_MOAT" >&2; exit 2; }
old=$1 new=$2
RUNS=${RUNS:-15}
IMAGES_DIR=${MOAT_IMAGES:-/var/tmp/moat-images}/out
fs=$(bench/tree.sh)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for target in "docker-archive:$IMAGES_DIR/lang-app.docker.tar" \
              "docker-archive:$IMAGES_DIR/debian-tools.docker.tar" "dir:$fs"; do
  : > "$tmp/old"; : > "$tmp/new"
  for ((i = 0; i < RUNS; i++)); do
    for which in old new; do
      /usr/bin/time -f '%e %U %S' -a -o "$tmp/$which" "${!which}" sbom "$target" \
        --format cyclonedx --quiet -o /dev/null
    done
  done
  for which in old new; do
    python3 - "$tmp/$which" "$which" "$target" <<'PY'
import sys, statistics
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
wall = statistics.median(r[0] for r in rows)
cpu = statistics.median(r[1] + r[2] for r in rows)
print(f"{sys.argv[3].rsplit('/', 1)[-1]:28} {sys.argv[2]:3}  wall median {wall:.3f} s"
      f"  min {min(r[0] for r in rows):.3f} s  cpu median {cpu:.3f} s")
PY
  done
done

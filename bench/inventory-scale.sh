#!/usr/bin/env bash
# The inventory at its design bound: a dpkg `status` and an apk `installed` of N records each
# (default 1,000,000; bench/gen-inventory.py), each scanned as a directory target, a
# CycloneDX SBOM of N components and an SPDX 2.3 JSON SBOM of N packages, each read as the
# target (`sbom:`; an SPDX document over the 256 MiB SBOM budget, as the one of 1,000,000
# packages is, is reported as such), and a package-lock.json of
# min(N, 100,000) entries (as a directory target), with `moat scan --scanners vuln
# --advisories ONE-RECORD.json` (the whole inventory is built and matched; the report, with
# no findings, is small, so the peak is the inventory's). Prints BENCHMARKS.md rows: wall
# time, peak RSS, and peak RSS per package (the peak of the whole run divided by N), for a
# tenth of N and for N (the lockfile's packages counted for the last column).
#   bench/inventory-scale.sh
#   N=200000 RUNS=1 MOAT=/path/to/old/moat bench/inventory-scale.sh
#   KINDS="apk spdx" bench/inventory-scale.sh      (some of dpkg apk sbom spdx npm)
# The generated trees live under $MOAT_BENCH_DIR (default /var/tmp/moat-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
RUNS=${RUNS:-3}
base=${MOAT_BENCH_DIR:-/var/tmp/moat-bench}/inventory
if [ -z "${MOAT:-}" ]; then
  cargo build --release --locked -q --workspace
  MOAT=${CARGO_TARGET_DIR:-$PWD/target}/release/moat
fi

# tree KIND N: the directory of a generated database (built once).
tree() {
  if [ ! -f "$base/.complete-$2" ] || [ ! -f "$base/npm-$2/package-lock.json" ]; then
    mkdir -p "$base"
    python3 bench/gen-inventory.py "$base" "$2"
    touch "$base/.complete-$2"
  fi
  echo "$base/$1-$2"
}

adv=$base/one-advisory.json
mkdir -p "$base"
echo '{"id":"GHSA-xxxx-yyyy-zzzz","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"nothing-here"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.0"}]}]}]}' > "$adv"

# run KIND N: median "seconds kib" of RUNS runs.
run() {
  local target rows
  if [ "$1" = sbom ] || [ "$1" = spdx ]; then
    tree dpkg "$2" > /dev/null
    target=sbom:$base/sbom-$2.cdx.json
    [ "$1" = spdx ] && target=sbom:$base/sbom-$2.spdx.json
  else
    target=dir:$(tree "$1" "$2")
  fi
  rows=$(mktemp)
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f '%e %M' -o "$rows.t" "$MOAT" scan --scanners vuln --advisories "$adv" -q --analyzer-timeout 0 \
      "$target" > /dev/null
    cat "$rows.t" >> "$rows"
  done
  python3 - "$rows" <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
print(statistics.median(float(r[0]) for r in rows), int(statistics.median(int(r[1]) for r in rows)))
PY
  rm -f "$rows" "$rows.t"
}

echo "| input | packages | file size | moat | peak RSS per package |"
echo "|---|---|---|---|---|"
for kind in ${KINDS:-dpkg apk sbom spdx npm}; do
  for n in $((N / 10)) "$N"; do
    dir=$(tree dpkg "$n"); dir=${dir%/dpkg-$n}
    count=$n
    case $kind in
      dpkg) db=$dir/dpkg-$n/var/lib/dpkg/status ;;
      apk) db=$dir/apk-$n/lib/apk/db/installed ;;
      sbom) db=$dir/sbom-$n.cdx.json ;;
      spdx) db=$dir/sbom-$n.spdx.json ;;
      npm) db=$dir/npm-$n/package-lock.json; count=$((n < 100000 ? n : 100000)) ;;
    esac
    size=$(du -m "$db" | cut -f1)
    if [ "$kind" = spdx ] && [ "$(stat -c %s "$db")" -gt $((256 << 20)) ]; then
      # over moat_report::MAX_SBOM_BYTES: refused (exit 2), nothing to measure
      printf '| %s | %s | %s MiB | over the SBOM budget (256 MiB) | - |\n' "$kind" "$count" "$size"
      continue
    fi
    read -r secs kib < <(run "$kind" "$n")
    printf '| %s | %s | %s MiB | %.2f s / %d MiB | %d bytes |\n' \
      "$kind" "$count" "$size" "$secs" $((kib / 1024)) $((kib * 1024 / count))
  done
done

#!/usr/bin/env bash
# The advisory database at mirror scale: imports a set of at least RECORDS records (default
# 500,000: every OSV record of ../shared/data/vulns replicated with renamed ids and package
# names, one OSV all.zip per ecosystem, by bench/gen-advisory-mirror.py) with `moat db import`,
# then runs a full `moat db update` against the same files served by a local HTTP server
# (python3 -m http.server on 127.0.0.1). Prints BENCHMARKS.md rows: wall time, CPU time, peak RSS,
# records per second, the database's size on disk; and the import of a fifth of the set, to
# show that memory does not grow with the number of records.
#   bench/vuln-scale.sh
#   RECORDS=100000 RUNS=1 bench/vuln-scale.sh
#   RECORDS=100000 MOAT=/path/to/moat bench/vuln-scale.sh   (that binary, no cargo build)
#   IMPORT_ONLY=1 bench/vuln-scale.sh                          (no `moat db update` row)
# The generated mirror lives under $MOAT_BENCH_DIR (default /var/tmp/moat-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
RECORDS=${RECORDS:-500000}
RUNS=${RUNS:-3}
base=${MOAT_BENCH_DIR:-/var/tmp/moat-bench}/advisories
if [ -z "${MOAT:-}" ]; then
  cargo build --release --locked -q --workspace
  MOAT=${CARGO_TARGET_DIR:-$PWD/target}/release/moat
fi
tmp=$(mktemp -d -p "${TMPDIR:-/var/tmp}"); server=
cleanup() { [ -z "$server" ] || kill "$server" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

# mirror N: the directory of a generated set of at least N records (built once).
mirror() {
  local m=$base/mirror-$1
  if [ ! -f "$m/.complete" ]; then
    mkdir -p "$base"
    python3 bench/gen-advisory-mirror.py ../shared/data/vulns "$m" "$1" > "$m.counts"
    touch "$m/.complete"
  fi
  echo "$m"
}

# median FILE: "median_seconds median_peak_kib median_cpu_seconds" of the "seconds kib user
# system" lines in FILE (the CPU time tells the work apart from the machine's load).
median() {
  python3 - "$1" <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
print(statistics.median(float(r[0]) for r in rows), int(statistics.median(int(r[1]) for r in rows)),
      statistics.median(float(r[2]) + float(r[3]) for r in rows))
PY
}

# import N: imports every all.zip of mirror N into a new database, $RUNS times; prints
# "seconds kib cpu_seconds records db_bytes".
import_run() {
  local m; m=$(mirror "$1")
  local zips=("$m"/*/all.zip) i
  : > "$tmp/m"
  for ((i = 0; i < RUNS; i++)); do
    rm -f "$tmp/import.db"
    /usr/bin/time -f '%e %M %U %S' -o "$tmp/t" "$MOAT" db import --db "$tmp/import.db" "${zips[@]}" > "$tmp/out"
    cat "$tmp/t" >> "$tmp/m"
  done
  local n; n=$(sed -n 's/^imported \([0-9]*\) records.*/\1/p' "$tmp/out")
  echo "$(median "$tmp/m") $n $(stat -c %s "$tmp/import.db")"
}

read -r it im ic in isz < <(import_run "$RECORDS")
small=$((RECORDS / 5))
read -r st sm sc sn _ < <(import_run "$small")

ut=0 um=0 uc=0 un=0 usz=0 nsrc=0
if [ -z "${IMPORT_ONLY:-}" ]; then
  # A full update from a local mirror: every source the mirror has (OSV archives, the Amazon
  # Linux updateinfo files, Oracle's OVAL, KEV), into a new database each run.
  m=$(mirror "$RECORDS")
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  python3 -m http.server "$port" --bind 127.0.0.1 --directory "$m" > /dev/null 2>&1 & server=$!
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/kev/known_exploited_vulnerabilities.json" -o /dev/null && break; sleep 0.1; done
  ecos=$(cd "$m" && ls -d */all.zip | sed 's#/all.zip##' | paste -sd, -)
  ecos="$ecos,Amazon Linux:2,Amazon Linux:2023,Oracle Linux"
  : > "$tmp/m"
  for ((i = 0; i < RUNS; i++)); do
    rm -f "$tmp/update.db"
    /usr/bin/time -f '%e %M %U %S' -o "$tmp/t" "$MOAT" db update --db "$tmp/update.db" \
      --db-url "http://127.0.0.1:$port" --ecosystems "$ecos" > "$tmp/out"
    cat "$tmp/t" >> "$tmp/m"
  done
  read -r ut um uc < <(median "$tmp/m")
  un=$("$MOAT" db status --db "$tmp/update.db" | sed -n 's/^records: *\([0-9]*\).*/\1/p')
  usz=$(stat -c %s "$tmp/update.db")
  nsrc=$(grep -c ': updated' "$tmp/out" || true)
fi

python3 - "$it" "$im" "$ic" "$in" "$isz" "$st" "$sm" "$sc" "$sn" "$ut" "$um" "$uc" "$un" "$usz" "$nsrc" <<'PY'
import sys
it, im, ic, n, isz, st, sm, sc, sn, ut, um, uc, un, usz, nsrc = sys.argv[1:]
it, ic, st, sc, ut, uc = map(float, (it, ic, st, sc, ut, uc))
im, n, isz, sm, sn, um, un, usz = map(int, (im, n, isz, sm, sn, um, un, usz))
mib = lambda k: f"{k/1024:.0f} MiB"
print(f"| import a mirror-sized set ({n:,} records, {n//1000}k) | {it:.2f} s / {ic:.2f} s / {mib(im)} | {n/it:,.0f} records/s ({ic/n*1e6:.1f} µs CPU/record) | {isz/2**20:.0f} MiB ({isz/n:,.0f} B/record) |")
print(f"| import a fifth of it ({sn:,} records) | {st:.2f} s / {sc:.2f} s / {mib(sm)} | {sn/st:,.0f} records/s ({sc/sn*1e6:.1f} µs CPU/record) | |")
if un:
  print(f"| `moat db update` from a local mirror ({nsrc} sources, {un:,} records) | {ut:.2f} s / {uc:.2f} s / {mib(um)} | {un/ut:,.0f} records/s | {usz/2**20:.0f} MiB ({usz/un:,.0f} B/record) |")
PY

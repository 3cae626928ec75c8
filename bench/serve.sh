#!/usr/bin/env bash
# moat serve: submissions per second and the re-match of every stored inventory when the
# advisory database changes, at N images of P packages (default 10,000 x 300), against the
# rescan way (one `moat scan` of a real image per stored image, timed on a sample and multiplied).
#
#   bench/serve.sh            # IMAGES=10000 PACKAGES=300 MOAT=target/release/moat
#                             # STORE_CACHE=/var/tmp/serve-10000.db: keep / reuse the submitted store
#
# Inputs: moat's inventories of the shared images and of ../shared/data/fixtures (the package
# pool), the advisory database
# of all of ../shared/data/vulns (the "new" database) and of its Go records only (the "old"
# one, so that the re-match has findings to add). Prints a BENCHMARKS.md row.
set -euo pipefail
cd "$(dirname "$0")/.."
MOAT=${MOAT:-${CARGO_TARGET_DIR:-target}/release/moat}
IMAGES=${IMAGES:-10000}
PACKAGES=${PACKAGES:-300}
SAMPLE=${SAMPLE:-20}
OUT=${MOAT_IMAGES:-/var/tmp/moat-images}/out
tmp=$(mktemp -d /var/tmp/moat-bench-serve.XXXXXX)
trap 'kill "${srv:-0}" 2>/dev/null || true; rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME="$tmp/cache"

source bench/lib.sh

serve_inventories
# The lockfiles and package databases of ../shared/data/fixtures: more real names and
# versions of every ecosystem for the pool.
"$MOAT" inventory dir:../shared/data/fixtures --format json --quiet -o "$tmp/fixtures.json"
"$MOAT" db import --db "$tmp/old.db" ../shared/data/vulns/go > /dev/null
"$MOAT" db import --db "$tmp/new.db" ../shared/data/vulns > /dev/null
cp "$tmp/old.db" "$tmp/live.db"
# STORE_CACHE=FILE: the store after the submissions is kept there (with FILE.sub.json, the
# submissions' timing) and reused by the next run with the same FILE (the 10,000 submissions
# take minutes): only the re-matches are measured again.
if [ -n "${STORE_CACHE:-}" ] && [ -f "$STORE_CACHE" ]; then
  cp "$STORE_CACHE" "$tmp/store.db"
  sub=$(cat "$STORE_CACHE.sub.json")
  token=$("$MOAT" serve token create --store "$tmp/store.db" --name bench-again --scope admin)
  serve_start --store "$tmp/store.db" --db "$tmp/live.db"
else
  token=$("$MOAT" serve token create --store "$tmp/store.db" --name bench --scope admin)
  serve_start --store "$tmp/store.db" --db "$tmp/live.db"
  sub=$(python3 bench/gen-server-inventories.py "$url" "$token" --count "$IMAGES" --packages "$PACKAGES" \
    "$tmp/lang-app.json" "$tmp/debian-tools.json" "$tmp/debian-base.json" "$tmp/fixtures.json")
  if [ -n "${STORE_CACHE:-}" ]; then
    sqlite3 "$tmp/store.db" ".backup '$STORE_CACHE'"
    printf '%s' "$sub" > "$STORE_CACHE.sub.json"
  fi
fi
# The database changes: every stored inventory is matched again.
cp "$tmp/new.db" "$tmp/live.db"
# POST /api/v1/rematch answers 202 and the job: polled until it is done; its result.
rematch() {
  local job state
  job=$(curl -s -X POST -H "Authorization: Bearer $token" "$url/api/v1/rematch" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["job"])')
  while :; do
    state=$(curl -s -H "Authorization: Bearer $token" "$url/api/v1/jobs/$job")
    case $(printf '%s' "$state" | python3 -c 'import json, sys; print(json.load(sys.stdin)["state"])') in
      done) printf '%s' "$state" | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["result"]))'; return ;;
      failed) echo "re-match failed: $state" >&2; exit 1 ;;
    esac
    sleep 0.2
  done
}
t0=$(date +%s.%N)
re=$(rematch)
t1=$(date +%s.%N)
# And once more with nothing new (the common case: most updates change few records).
again=$(rematch)
kill "$srv"; wait "$srv" 2>/dev/null || true
store_bytes=$(stat -c %s "$tmp/store.db")
# The rescan way (what a scanner without stored inventories does when advisories change):
# `moat scan` of a real image again, lang-app and debian-tools in turn, timed on a sample.
s0=$(date +%s.%N)
for ((i = 0; i < SAMPLE; i++)); do
  img=lang-app; [ $((i % 2)) -eq 1 ] && img=debian-tools
  "$MOAT" scan "docker-archive:$OUT/$img.docker.tar" --db "$tmp/new.db" --offline --scanners vuln \
    --cache off --format json --quiet > /dev/null
done
s1=$(date +%s.%N)
python3 - "$sub" "$re" "$again" "$t0" "$t1" "$s0" "$s1" "$SAMPLE" "$IMAGES" "$store_bytes" <<'PY'
import json, sys
sub, re_, again = (json.loads(x) for x in sys.argv[1:4])
t0, t1, s0, s1 = map(float, sys.argv[4:8]); sample, images, store = int(sys.argv[8]), int(sys.argv[9]), int(sys.argv[10])
rescan = (s1 - s0) / sample * images
print(f"| {images} images x {sub['packages'] // images} packages (pool {sub['pool']}) | "
      f"{sub['seconds']:.1f} s ({images / sub['seconds']:.0f}/s) | {re_['seconds']:.2f} s, {re_['events']} events | "
      f"{again['seconds']:.2f} s, {again['events']} events | {rescan:.0f} s (x{rescan / re_['seconds']:.0f}) | {store / images / 1024:.1f} KiB |")
PY

#!/usr/bin/env bash
# moat serve under load, bounded in time, on 127.0.0.1 only:
#  1. the query and admission endpoints: the store holds IMAGES generated inventories of 300
#     packages (bench/gen-server-inventories.py) matched against the Go advisories, then
#     re-matched against all of ../shared/data/vulns (so that events exist); then, endpoint by
#     endpoint, CLIENTS keep-alive clients (Python threads, bench/serve-load.py) send requests
#     for DURATION seconds: req/s and p50/p90/p99/max latency per endpoint;
#  2. a worker killed mid-job: JOBS image references (tags of lang-app in a docker-registry on
#     127.0.0.1) queued; two `moat serve --worker` processes (2 workers each, --lease 3) take
#     them; the first is SIGKILLed while it holds jobs; every job must end done, attempted
#     again where the killed worker held it, and every result be a stored image (counted from
#     the API). Needs docker-registry and skopeo (skipped without them).
#
#   bench/serve-load.sh                       # SQLite store
#   DATABASE_URL=postgres://postgres@127.0.0.1:PORT/postgres bench/serve-load.sh
#                                             # PostgreSQL: a fresh database made on that cluster
#   IMAGES=1000 CLIENTS=8 DURATION=10 JOBS=12 THREADS=2 POOL=8 MOAT=target/release/moat
#
# Prints BENCHMARKS.md rows.
set -euo pipefail
cd "$(dirname "$0")/.."
MOAT=${MOAT:-${CARGO_TARGET_DIR:-target}/release/moat}
IMAGES=${IMAGES:-1000}
CLIENTS=${CLIENTS:-8}
DURATION=${DURATION:-10}
JOBS=${JOBS:-12}
THREADS=${THREADS:-2}
POOL=${POOL:-8}
OUT=${MOAT_IMAGES:-/var/tmp/moat-images}/out
tmp=$(mktemp -d /var/tmp/moat-bench-load.XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${srv:-}" "${reg:-}" "${pids[@]}"; do [ -n "$p" ] && kill "$p" 2> /dev/null || true; done
  wait 2> /dev/null || true
  if [ -n "${pgdb:-}" ]; then psql -q "$DATABASE_URL" -c "DROP DATABASE IF EXISTS $pgdb" || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
export XDG_CACHE_HOME="$tmp/cache"
source bench/lib.sh

if [ -n "${DATABASE_URL:-}" ]; then
  pgdb=moat_load_$$
  psql -q "$DATABASE_URL" -c "CREATE DATABASE $pgdb"
  store=("--database-url" "${DATABASE_URL%/*}/$pgdb")
  backend="PostgreSQL (pool $POOL)"
else
  store=("--store" "$tmp/store.db")
  backend=SQLite
fi
serve_inventories
"$MOAT" db import --db "$tmp/old.db" ../shared/data/vulns/go > /dev/null
"$MOAT" db import --db "$tmp/new.db" ../shared/data/vulns > /dev/null 2>&1
cp "$tmp/old.db" "$tmp/live.db"
token=$("$MOAT" serve token create "${store[@]}" --name bench --scope admin)
cat > "$tmp/policy.toml" <<'TOML'
deny_severity = "CRITICAL"
ignore_unfixed = true
unknown_image = "deny"
TOML
serve_start "${store[@]}" --db "$tmp/live.db" --admission-policy "$tmp/policy.toml" \
  --workers 0 --max-queue 10000 --threads "$THREADS" --max-in-flight 1024 --db-pool-size "$POOL" \
  --log-level warn
python3 bench/gen-server-inventories.py "$url" "$token" --count "$IMAGES" --packages 300 \
  "$tmp/lang-app.json" "$tmp/debian-tools.json" "$tmp/debian-base.json" > /dev/null
cp "$tmp/new.db" "$tmp/live.db"
"$MOAT" serve rematch "${store[@]}" --db "$tmp/live.db" >&2
python3 bench/serve-load.py "$url" "$token" --images "$IMAGES" --duration "$DURATION" \
  --clients "$CLIENTS" --label "$backend, $IMAGES images, server --threads $THREADS"

# A worker killed mid-job.
for tool in docker-registry skopeo; do
  command -v "$tool" > /dev/null || { echo "skipped the killed worker: no $tool" >&2; exit 0; }
done
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$tmp/reg"
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
  "$tmp/reg" "$port" > "$tmp/reg.yml"
docker-registry serve "$tmp/reg.yml" > "$tmp/reg.log" 2>&1 &
reg=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v2/" > /dev/null && break; sleep 0.1; done
skopeo copy -q --dest-tls-verify=false "docker-archive:$OUT/lang-app.docker.tar" \
  "docker://127.0.0.1:$port/load/lang-app:t0"
for ((i = 1; i < JOBS; i++)); do
  skopeo copy -q --src-tls-verify=false --dest-tls-verify=false \
    "docker://127.0.0.1:$port/load/lang-app:t0" "docker://127.0.0.1:$port/load/lang-app:t$i"
done
for ((i = 0; i < JOBS; i++)); do
  curl -sf -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"ref\": \"127.0.0.1:$port/load/lang-app:t$i\"}" "$url/api/v1/images" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["job"])' >> "$tmp/jobs"
done
worker=(serve --worker "${store[@]}" --db "$tmp/live.db" --workers 2 --lease 3
  --db-pool-size "$POOL" --scan-arg=--cache=off --log-level warn)
"$MOAT" "${worker[@]}" 2> "$tmp/worker-a.log" &
a=$!
pids+=("$a")
"$MOAT" "${worker[@]}" 2> "$tmp/worker-b.log" &
pids+=($!)
python3 - "$url" "$token" "$tmp/jobs" "$a" "$backend" <<'PY'
import http.client, json, os, signal, sys, time, urllib.parse
url, token, victim, backend = sys.argv[1], sys.argv[2], int(sys.argv[4]), sys.argv[5]
ids = [int(l) for l in open(sys.argv[3]) if l.strip()]
jobs = len(ids)
u = urllib.parse.urlparse(url)
def get(path):
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    c.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    r = c.getresponse()
    return r.status, json.loads(r.read() or b"null")
t0 = time.time()
# The victim holds a running job: kill it then (SIGKILL: no goodbye, its leases just expire).
held = []
while time.time() - t0 < 120:
    states = [get(f"/api/v1/jobs/{i}")[1] for i in ids]
    held = [j["id"] for j in states if j["state"] == "running" and f":{victim}/" in (j["worker"] or "")]
    if held:
        break
    time.sleep(0.1)
if not held:
    sys.exit("the first worker never took a job")
os.kill(victim, signal.SIGKILL)
killed = time.time()
while time.time() - t0 < 600:
    states = [get(f"/api/v1/jobs/{i}")[1] for i in ids]
    if all(j["state"] in ("done", "failed") for j in states):
        break
    time.sleep(0.5)
done = [j for j in states if j["state"] == "done"]
failed = [j for j in states if j["state"] != "done"]
retried = [j for j in states if j["attempts"] > 1]
images = {j["result"]["image_id"] for j in done}
stored = sum(get(f"/api/v1/images/{i}")[0] == 200 for i in images)
names = {get(f"/api/v1/images/{i}")[1]["name"] for i in images}
print(f"| {backend}: {jobs} scan jobs, 2 worker processes x 2, one SIGKILLed holding {len(held)} | "
      f"{len(done)} done, {len(failed)} not | {len(retried)} taken again | {stored} images stored "
      f"({len(names)} names) | {time.time() - killed:.1f} s after the kill |", flush=True)
if failed or len(images) != jobs or stored != jobs:
    print("FAILED: " + json.dumps(failed)[:2000], file=sys.stderr)
    sys.exit(1)
PY

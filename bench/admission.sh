#!/usr/bin/env bash
# moat serve's admission webhook, warm path: the latency of POST /admission (an
# AdmissionReview v1 of a Pod whose image the store knows) over REQUESTS requests from one
# client that keeps its connection alive (Python's http.client), after a warm-up; the store
# holds IMAGES generated inventories of PACKAGES packages (bench/gen-server-inventories.py)
# matched against the whole advisory database. Target: p99 under 10 ms.
#
#   bench/admission.sh        # IMAGES=1000 PACKAGES=300 REQUESTS=10000 MOAT=target/release/moat
#
# The server runs as deployed: --log-level info (a JSON log line per request, to a file).
# Prints a BENCHMARKS.md row.
set -euo pipefail
cd "$(dirname "$0")/.."
MOAT=${MOAT:-${CARGO_TARGET_DIR:-target}/release/moat}
IMAGES=${IMAGES:-1000}
PACKAGES=${PACKAGES:-300}
REQUESTS=${REQUESTS:-10000}
OUT=${MOAT_IMAGES:-/var/tmp/moat-images}/out
tmp=$(mktemp -d /var/tmp/moat-bench-admission.XXXXXX)
trap 'kill "${srv:-0}" 2>/dev/null || true; rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME="$tmp/cache"

source bench/lib.sh

serve_inventories
"$MOAT" db import --db "$tmp/adv.db" ../shared/data/vulns > /dev/null
token=$("$MOAT" serve token create --store "$tmp/store.db" --name bench --scope admin)
cat > "$tmp/policy.toml" <<'TOML'
deny_severity = "CRITICAL"
ignore_unfixed = true
unknown_image = "deny"
TOML
serve_start --store "$tmp/store.db" --db "$tmp/adv.db" --admission-policy "$tmp/policy.toml" \
  --log-format json --log-level info
python3 bench/gen-server-inventories.py "$url" "$token" --count "$IMAGES" --packages "$PACKAGES" \
  "$tmp/lang-app.json" "$tmp/debian-tools.json" "$tmp/debian-base.json" > /dev/null
python3 - "$url" "$REQUESTS" "$IMAGES" <<'PY'
import hashlib, http.client, json, os, sys, time, urllib.parse
url, n, images = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
u = urllib.parse.urlparse(url)
i = images // 2
digest = "sha256:" + hashlib.sha256(str(i).encode()).hexdigest()
review = json.dumps({
    "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
    "request": {
        "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "namespace": "shop", "operation": "CREATE",
        "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller"},
        "object": {"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": "web-1", "namespace": "shop"},
                   "spec": {"containers": [{"name": "app", "image": f"bench/app-{i:05d}:1@{digest}"}]}},
    },
}).encode()
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
def one():
    conn.request("POST", "/admission", review, {"Content-Type": "application/json"})
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        sys.exit(f"HTTP {r.status}: {body[:300]!r}")
    return json.loads(body)
first = one()
allowed = first["response"]["allowed"]
msg = first["response"].get("status", {}).get("message", "")
for _ in range(500):
    one()
lat = []
t0 = time.perf_counter()
for _ in range(n):
    s = time.perf_counter()
    one()
    lat.append(time.perf_counter() - s)
wall = time.perf_counter() - t0
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000
load = os.getloadavg()[0]
print(f"| POST /admission, known image (by digest), store of {images} images x 300 packages, "
      f"{'allowed' if allowed else 'denied'} | {n} | {q(0.5):.2f} ms | {q(0.99):.2f} ms | "
      f"{lat[-1] * 1000:.1f} ms | {n / wall:.0f}/s | {load:.1f} |")
print(f"verdict: allowed={allowed} {msg[:200]}", file=sys.stderr)
PY

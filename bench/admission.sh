#!/usr/bin/env bash
# moat serve's admission webhook, warm path: the latency of POST /admission (an
# AdmissionReview v1 of a Pod whose image the store knows) over REQUESTS requests from one
# client that keeps its connection alive (Python's http.client), after a warm-up; the store
# holds IMAGES generated inventories of PACKAGES packages (bench/gen-server-inventories.py)
# matched against the whole advisory database. Target: p99 under 10 ms.
#
#   bench/admission.sh        # IMAGES=1000 PACKAGES=300 REQUESTS=10000 MOAT=target/release/moat
#   SIGNED=1 bench/admission.sh
#
# SIGNED=1: the policy also requires a signature (lang-app pushed to a docker-registry on
# 127.0.0.1, signed by `moat sign`, scanned by the server) and checks the Pod with moat's
# Kubernetes rules (misconfig_rules and misconfig_deny_severity = "HIGH"); the Pod, hardened so
# that the rules pass, runs lang-app by digest: the warm path is the cached signature verdict,
# the in-memory misconfiguration check and the store's verdict.
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
SIGNED=${SIGNED:-0}
signed_ref=""
if [ "$SIGNED" = 1 ]; then
  reg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p "$tmp/reg"
  printf 'version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
    "$tmp/reg" "$reg_port" > "$tmp/reg.yml"
  docker-registry serve "$tmp/reg.yml" > "$tmp/reg.log" 2>&1 &
  reg=$!
  trap 'kill "${srv:-0}" "${reg:-0}" 2>/dev/null || true; rm -rf "$tmp"' EXIT
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$reg_port/v2/" > /dev/null && break; sleep 0.1; done
  signed_ref="127.0.0.1:$reg_port/bench/signed:1"
  skopeo copy -q --dest-tls-verify=false "oci:$OUT/lang-app.oci:latest" "docker://$signed_ref"
  MOAT_PASSWORD=pw "$MOAT" key generate --output-key-prefix "$tmp/release" > /dev/null 2>&1
  MOAT_PASSWORD=pw "$MOAT" sign "$signed_ref" --key "$tmp/release.key" > /dev/null 2>&1
  cat >> "$tmp/policy.toml" <<'TOML'
require_signature = true
keys = ["release.pub"]
misconfig_rules = ["KSV017", "KSV008", "KSV006"]
misconfig_deny_severity = "HIGH"
TOML
fi
serve_start --store "$tmp/store.db" --db "$tmp/adv.db" --admission-policy "$tmp/policy.toml" \
  --log-format json --log-level info
python3 bench/gen-server-inventories.py "$url" "$token" --count "$IMAGES" --packages "$PACKAGES" \
  "$tmp/lang-app.json" "$tmp/debian-tools.json" "$tmp/debian-base.json" > /dev/null
image=""
if [ -n "$signed_ref" ]; then
  # The server pulls and scans the signed image (a job); the Pod names it by digest.
  image=$(python3 - "$url" "$token" "$signed_ref" <<'PY'
import http.client, json, sys, time, urllib.parse
url, token, ref = sys.argv[1:4]
u = urllib.parse.urlparse(url)
c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
h = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
c.request("POST", "/api/v1/images", json.dumps({"ref": ref}), h)
job = json.loads(c.getresponse().read())["job"]
for _ in range(1200):
    c.request("GET", f"/api/v1/jobs/{job}", headers=h)
    j = json.loads(c.getresponse().read())
    if j["state"] in ("done", "failed"):
        break
    time.sleep(0.1)
if j["state"] != "done":
    sys.exit(f"the scan of {ref}: {j}")
print(ref.rsplit(":", 1)[0] + "@" + j["result"]["digest"])
PY
)
fi
python3 - "$url" "$REQUESTS" "$IMAGES" "$image" <<'PY'
import hashlib, http.client, json, os, sys, time, urllib.parse
url, n, images, signed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
u = urllib.parse.urlparse(url)
i = images // 2
digest = "sha256:" + hashlib.sha256(str(i).encode()).hexdigest()
container = {"name": "app", "image": f"bench/app-{i:05d}:1@{digest}"}
if signed:
    # Hardened: the Kubernetes rules at HIGH pass.
    container = {"name": "app", "image": signed,
                 "resources": {"limits": {"cpu": "1", "memory": "256Mi"},
                               "requests": {"cpu": "100m", "memory": "128Mi"}},
                 "securityContext": {"readOnlyRootFilesystem": True, "runAsNonRoot": True,
                                     "runAsUser": 10001, "allowPrivilegeEscalation": False,
                                     "capabilities": {"drop": ["ALL"]},
                                     "seccompProfile": {"type": "RuntimeDefault"}}}
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
                   "spec": {"containers": [container], "automountServiceAccountToken": False}},
    },
}).encode()
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
def one():
    conn.request("POST", "/admission?timeout=10s", review, {"Content-Type": "application/json"})
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
what = "signed image (by digest) + misconfig rules" if signed else "known image (by digest)"
print(f"| POST /admission, {what}, store of {images} images x 300 packages, "
      f"{'allowed' if allowed else 'denied'} | {n} | {q(0.5):.2f} ms | {q(0.99):.2f} ms | "
      f"{lat[-1] * 1000:.1f} ms | {n / wall:.0f}/s | {load:.1f} |")
print(f"verdict: allowed={allowed} {msg[:200]}", file=sys.stderr)
PY

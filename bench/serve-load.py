#!/usr/bin/env python3
"""Load on a running `moat serve` (bench/serve-load.sh): for each endpoint in turn, CLIENTS
threads, each with its own keep-alive connection (http.client), send requests for DURATION
seconds; prints a BENCHMARKS.md row per endpoint: requests per second and the p50, p90, p99
and max latency, errors (any answer but 200), and the client's CPU time over the phase's wall
time (near 1.0: the Python client, not the server, set the pace).

    serve-load.py URL TOKEN --images N --duration S --clients C --label TEXT
"""
import argparse, hashlib, http.client, json, os, sys, threading, time, urllib.parse

ap = argparse.ArgumentParser()
ap.add_argument("url")
ap.add_argument("token")
ap.add_argument("--images", type=int, required=True)
ap.add_argument("--duration", type=float, default=10)
ap.add_argument("--clients", type=int, default=8)
ap.add_argument("--label", default="")
a = ap.parse_args()
u = urllib.parse.urlparse(a.url)
auth = {"Authorization": f"Bearer {a.token}", "Content-Type": "application/json"}


def get(path):
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    c.request("GET", path, headers=auth)
    r = c.getresponse()
    body = r.read()
    if r.status != 200:
        sys.exit(f"GET {path}: HTTP {r.status}: {body[:300]!r}")
    return json.loads(body)


# What to ask: a package of many images with a version range, vulnerability ids the store
# has, the events of the re-match.
findings = get("/api/v1/findings?severity=high&limit=200")["findings"]
vulns = sorted({f["id"] for f in findings if f["kind"] == "vulnerability"})[:20]
pkgs = sorted({f["package"] for f in findings if f.get("package")})[:20]
if not vulns or not pkgs:
    sys.exit("the store has no HIGH findings to query (was the re-match run?)")
events = get("/api/v1/events?limit=1")["events"]
since = events[0]["time"] if events else "1970-01-01T00:00:00Z"


def review(i):
    digest = "sha256:" + hashlib.sha256(str(i).encode()).hexdigest()
    return json.dumps({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": f"load-{i}", "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "namespace": "shop", "operation": "CREATE",
            "object": {"apiVersion": "v1", "kind": "Pod",
                       "metadata": {"name": f"web-{i}", "namespace": "shop"},
                       "spec": {"containers": [{"name": "app",
                                                "image": f"bench/app-{i:05d}:1@{digest}"}]}},
        },
    }).encode()


reviews = [review(i) for i in range(0, a.images, max(1, a.images // 50))]
q = urllib.parse.quote
endpoints = [
    ("GET /api/v1/images?severity=critical&fixed=true&limit=50",
     lambda n: ("GET", "/api/v1/images?severity=critical&fixed=true&limit=50", None)),
    ("GET /api/v1/images?package=NAME&limit=50",
     lambda n: ("GET", f"/api/v1/images?package={q(pkgs[n % len(pkgs)])}&limit=50", None)),
    ("GET /api/v1/packages?name=NAME&range=>=0",
     lambda n: ("GET", f"/api/v1/packages?name={q(pkgs[n % len(pkgs)])}&range={q('>=0')}", None)),
    ("GET /api/v1/vulnerabilities/ID",
     lambda n: ("GET", f"/api/v1/vulnerabilities/{q(vulns[n % len(vulns)])}", None)),
    ("GET /api/v1/events?since=T&limit=100",
     lambda n: ("GET", f"/api/v1/events?since={q(since)}&limit=100", None)),
    ("POST /admission (known image)",
     lambda n: ("POST", "/admission", reviews[n % len(reviews)])),
]


def phase(make):
    lat, errors, lock = [], [0], threading.Lock()
    stop = time.perf_counter() + a.duration

    def client(k):
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        mine, bad, n = [], 0, k
        while time.perf_counter() < stop:
            method, path, body = make(n)
            n += a.clients
            s = time.perf_counter()
            try:
                c.request(method, path, body, auth)
                r = c.getresponse()
                r.read()
                ok = r.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                c.close()
                c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
            mine.append(time.perf_counter() - s)
            bad += not ok
        with lock:
            lat.extend(mine)
            errors[0] += bad

    cpu0, t0 = time.process_time(), time.perf_counter()
    ts = [threading.Thread(target=client, args=(k,)) for k in range(a.clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    lat.sort()
    pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000
    return len(lat) / wall, pct(0.5), pct(0.9), pct(0.99), lat[-1] * 1000, errors[0], cpu / wall


for name, make in endpoints:
    rps, p50, p90, p99, mx, err, cpu = phase(make)
    load = os.getloadavg()[0]
    print(f"| {a.label} | {name} | {a.clients} | {rps:.0f}/s | {p50:.1f} ms | {p90:.1f} ms | "
          f"{p99:.1f} ms | {mx:.0f} ms | {err} | {cpu:.2f} | {load:.1f} |", flush=True)

#!/usr/bin/env python3
"""Submit N generated image inventories to a running `moat serve` (bench/serve.sh).

    gen-server-inventories.py URL TOKEN --count N --packages P --seed S POOL.json...

Each image is P packages drawn (seeded, without replacement) from the packages of the POOL
inventories (moat's JSON inventory documents of real images), with its own name and digest,
so images share most packages as images of one organisation do. Prints the number of
images and packages submitted, and the wall time of the submissions, as JSON.
"""
import argparse, copy, hashlib, http.client, json, random, sys, time, urllib.parse

ap = argparse.ArgumentParser()
ap.add_argument("url")
ap.add_argument("token")
ap.add_argument("pool", nargs="+")
ap.add_argument("--count", type=int, default=1000)
ap.add_argument("--packages", type=int, default=300)
ap.add_argument("--seed", type=int, default=7)
a = ap.parse_args()

docs = [json.load(open(p)) for p in a.pool]
pool, seen = [], set()
for d in docs:
    for p in d["packages"]:
        if p["id"] not in seen:
            seen.add(p["id"])
            pool.append(p)
base = copy.deepcopy(docs[0])
base["packages"] = []
base["relationships"] = []
base["diagnostics"] = []
rng = random.Random(a.seed)
u = urllib.parse.urlparse(a.url)
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
start = time.time()
n_pkgs = 0
for i in range(a.count):
    doc = dict(base)
    art = dict(base["artifact"])
    art["name"] = f"bench/app-{i:05d}:1"
    digest = "sha256:" + hashlib.sha256(str(i).encode()).hexdigest()
    art["manifest_digest"] = digest
    art["config_digest"] = digest
    doc["artifact"] = art
    doc["packages"] = rng.sample(pool, min(a.packages, len(pool)))
    n_pkgs += len(doc["packages"])
    body = json.dumps(doc).encode()
    conn.request("POST", "/api/v1/reports", body,
                 {"Authorization": f"Bearer {a.token}", "Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    if r.status != 201:
        sys.exit(f"image {i}: HTTP {r.status}: {data[:300]!r}")
print(json.dumps({"images": a.count, "packages": n_pkgs, "pool": len(pool),
                  "seconds": round(time.time() - start, 3)}))

#!/usr/bin/env python3
"""Builds a mirror-sized advisory set for the import scale benchmark (bench/vuln-scale.sh).

    gen-advisory-mirror.py SHARED_VULNS OUT_DIR MIN_RECORDS

Every OSV JSON record of ../shared/data/vulns (Go, RustSec, AlmaLinux, GHSA and the Ubuntu,
Red Hat, Rocky, Chainguard and SUSE samples) is written once as it is, then again and again
with its id and its package names renamed (`GO-2024-3228` -> `GO-2024-3228-M007`, package
`golang.org/x/net` -> `golang.org/x/net-m7`) until there are at least MIN_RECORDS records. The
records go into one OSV `all.zip` per ecosystem, laid out like OSV's bucket
(`OUT_DIR/<ecosystem>/all.zip`), beside the shared KEV catalogue
(`OUT_DIR/kev/known_exploited_vulnerabilities.json`), the Amazon Linux `updateinfo.xml`
samples of lines 2 and 2023 (`OUT_DIR/amazon/<line>/updateinfo.xml.gz`) and the Oracle OVAL sample
(`OUT_DIR/oracle/com.oracle.elsa-all.xml.bz2`): the layout `moat db update --db-url` reads.

Prints one line per ecosystem (`<ecosystem> <records>`) and the total.
"""

import json
import os
import shutil
import sys
import zipfile

OSV_DIRS = [
    "go/osv",
    "rust/osv",
    "almalinux/osv",
    "ghsa",
    "distro-samples/osv",
]


def records(vulns):
    for rel in OSV_DIRS:
        for root, dirs, files in os.walk(os.path.join(vulns, rel)):
            dirs.sort()
            for f in sorted(files):
                if not f.endswith(".json") or f == "all.json":
                    continue
                with open(os.path.join(root, f), "rb") as fh:
                    try:
                        rec = json.load(fh)
                    except ValueError:
                        continue
                if isinstance(rec, dict) and "id" in rec:
                    yield rec


def ecosystem(rec):
    for a in rec.get("affected") or []:
        eco = (a.get("package") or {}).get("ecosystem")
        if eco:
            return eco.split(":")[0]
    return None


def renamed(rec, k):
    if k == 0:
        return rec
    r = dict(rec)
    r["id"] = f"{rec['id']}-M{k:03d}"
    aff = []
    for a in rec.get("affected") or []:
        a = dict(a)
        if isinstance(a.get("package"), dict):
            p = dict(a["package"])
            if "name" in p:
                p["name"] = f"{p['name']}-m{k}"
            p.pop("purl", None)
            a["package"] = p
        aff.append(a)
    r["affected"] = aff
    return r


def main():
    vulns, out, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
    by_eco = {}
    seen = set()
    for rec in records(vulns):
        eco = ecosystem(rec)
        # Records are keyed by id (AlmaLinux publishes a few ids for two releases).
        if eco and rec["id"] not in seen:
            seen.add(rec["id"])
            by_eco.setdefault(eco, []).append(rec)
    base = sum(len(v) for v in by_eco.values())
    copies = -(-want // base)
    shutil.rmtree(out, ignore_errors=True)
    total = 0
    for eco, recs in sorted(by_eco.items()):
        d = os.path.join(out, eco)
        os.makedirs(d, exist_ok=True)
        n = 0
        with zipfile.ZipFile(os.path.join(d, "all.zip"), "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
            for k in range(copies):
                for rec in recs:
                    r = renamed(rec, k)
                    z.writestr(f"{r['id']}.json", json.dumps(r, separators=(",", ":")))
                    n += 1
        print(f"{eco} {n}")
        total += n
    os.makedirs(os.path.join(out, "kev"))
    shutil.copy(
        os.path.join(vulns, "kev/known_exploited_vulnerabilities.json"),
        os.path.join(out, "kev/known_exploited_vulnerabilities.json"),
    )
    alas = os.path.join(vulns, "distro-samples/alas")
    for line, f in [("2", "updateinfo_2_items.xml.gz"), ("2023", "updateinfo_AL2023.xml.gz")]:
        os.makedirs(os.path.join(out, "amazon", line))
        shutil.copy(os.path.join(alas, f), os.path.join(out, "amazon", line, "updateinfo.xml.gz"))
    os.makedirs(os.path.join(out, "oracle"))
    shutil.copy(
        os.path.join(vulns, "distro-samples/oval-oracle/all-positive-data.xml.bz2"),
        os.path.join(out, "oracle/com.oracle.elsa-all.xml.bz2"),
    )
    print(f"total {total}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""moat's Dockerfile findings against `trivy config`'s, per Trivy check, file by file.

    bench/misconfig-agreement-trivy.py MOAT_JSON TRIVY_JSON ROOT [--examples N]

MOAT_JSON: `moat config ROOT -f json`; TRIVY_JSON: `trivy config --format json ROOT` (its
targets are relative to ROOT). Trivy reports some checks without a line, so the unit is the
file: a file counts for a Trivy id when Trivy fails it, and for moat when a moat finding in
it lists that id in `aliases` (MOAT-DF-001 and MOAT-DF-002 both carry DS002).
"""
import json
import os
import sys
from collections import defaultdict

moat = json.load(open(sys.argv[1]))
trivy = json.load(open(sys.argv[2]))
root = sys.argv[3].rstrip("/")
examples = int(sys.argv[sys.argv.index("--examples") + 1]) if "--examples" in sys.argv else 0

m = defaultdict(set)
rules = defaultdict(set)
for f in moat["findings"]:
    path = os.path.relpath(f["location"]["path"], root)
    for a in f.get("aliases", []):
        if a.startswith("DS") and "-" not in a:
            m[a].add(path)
            rules[a].add(f["id"])
t = defaultdict(set)
for r in trivy.get("Results", []):
    for x in r.get("Misconfigurations") or []:
        if x.get("Status") == "FAIL" and x["ID"] in rules:
            t[x["ID"]].add(r["Target"])

print("| Trivy | moat rules | files both | Trivy only | moat only |")
print("|---|---|---|---|---|")
tot = [0, 0, 0]
for c in sorted(rules):
    both, to, mo = m[c] & t[c], t[c] - m[c], m[c] - t[c]
    tot = [tot[0] + len(both), tot[1] + len(to), tot[2] + len(mo)]
    print(f"| {c} | {', '.join(sorted(rules[c]))} | {len(both)} | {len(to)} | {len(mo)} |")
print(f"| all | | {tot[0]} | {tot[1]} | {tot[2]} |")
if examples:
    for c in sorted(rules):
        for label, s in (("trivy only", t[c] - m[c]), ("moat only", m[c] - t[c])):
            for k in sorted(s)[:examples]:
                print(f"{c} {label}: {k}")

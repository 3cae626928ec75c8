#!/usr/bin/env python3
"""moat's Dockerfile findings against hadolint's over the same files, per hadolint rule.

    bench/misconfig-agreement.py MOAT_JSON HADOLINT_JSON [--examples N]

MOAT_JSON: `moat config DIR -f json`; HADOLINT_JSON: `hadolint -f json FILES...`. A finding
is (file, line of the instruction), compared per moat rule: moat's findings of the rule
against hadolint's findings of every code in the rule's `aliases` (MOAT-DF-003 is DL3006
and DL3007). Prints a Markdown table (both, hadolint only, moat only) and, with
--examples, that many examples of each disagreement.
"""
import json
import sys
from collections import defaultdict

moat = json.load(open(sys.argv[1]))
hl = json.load(open(sys.argv[2]))
examples = int(sys.argv[sys.argv.index("--examples") + 1]) if "--examples" in sys.argv else 0

codes = defaultdict(set)  # moat rule -> hadolint codes
m = defaultdict(set)
for f in moat["findings"]:
    loc = f.get("location", {})
    key = (loc.get("path"), loc.get("span", {}).get("start_line"))
    dl = [a for a in f.get("aliases", []) if a.startswith("DL")]
    if dl:
        m[f["id"]].add(key)
        codes[f["id"]].update(dl)
h = defaultdict(set)
for x in hl:
    for rule, cs in codes.items():
        if x["code"] in cs:
            h[rule].add((x["file"], x["line"]))

print("| moat rule | hadolint | both | hadolint only | moat only |")
print("|---|---|---|---|---|")
tot = [0, 0, 0]
for r in sorted(codes):
    both, ho, mo = m[r] & h[r], h[r] - m[r], m[r] - h[r]
    tot = [tot[0] + len(both), tot[1] + len(ho), tot[2] + len(mo)]
    print(f"| {r} | {', '.join(sorted(codes[r]))} | {len(both)} | {len(ho)} | {len(mo)} |")
print(f"| all | | {tot[0]} | {tot[1]} | {tot[2]} |")
if examples:
    for c in sorted(codes):
        for label, s in (("hadolint only", h[c] - m[c]), ("moat only", m[c] - h[c])):
            for k in sorted(s, key=str)[:examples]:
                print(f"{c} {label}: {k[0]}:{k[1]}")

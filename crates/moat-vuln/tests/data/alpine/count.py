#!/usr/bin/env python3
"""Independent counts of the Alpine secdb files used by tests/alpine_secdb.rs.

Usage (from crates/moat-vuln):  python3 tests/data/alpine/count.py
Reads ../../../shared/data/vulns/alpine and ../../../shared/data/oracles/vunnel-provider-fixtures/alpine
and prints, per file: advisories (distinct ids), affected entries (distinct id, package,
version), and how many of those are "never affected" (version "0").

The id rules are written again here, independently of the Rust code, with regular expressions:
parenthesised text is a note; "CVE 2018-1" is "CVE-2018-1"; a token starting with
CVE-YYYY-NNNN or CVE_YYYY-NNNN (any suffix) is that CVE; another token shaped like
LETTERS-part(-part)* with a digit is a non-CVE id; a string with CVEs gives one advisory per
CVE, one without gives one per other id.
"""
import glob
import json
import os
import re

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "../../../../../../shared/data"))

CVE = re.compile(r"^CVE[-_](\d{4})-(\d{4,})", re.I)
OTHER = re.compile(r"^[A-Za-z]+(-[A-Za-z0-9]+)+$")


def ids_of(s):
    s = re.sub(r"\([^)]*\)?", " ", s)
    s = re.sub(r"\bCVE\s+(\d)", r"CVE-\1", s, flags=re.I)
    cves, others = [], []
    for tok in s.split():
        tok = tok.strip("\"',;:.")
        m = CVE.match(tok)
        if m:
            c = "CVE-%s-%s" % (m.group(1), m.group(2))
            if c not in cves:
                cves.append(c)
        elif OTHER.match(tok) and re.search(r"\d", tok) and not tok.upper().startswith("CVE-"):
            if tok not in others:
                others.append(tok)
    return cves if cves else others


def count(doc):
    if "packages" in doc:
        pkgs = [p["pkg"] for p in (doc["packages"] or [])]
    else:
        pkgs = [doc]
    ids, entries = set(), set()
    for p in pkgs:
        for ver, lst in (p.get("secfixes") or {}).items():
            for s in lst or []:
                for i in ids_of(str(s)):
                    ids.add(i)
                    entries.add((i, p["name"], str(ver).strip()))
    na = sum(1 for e in entries if e[2] == "0")
    return len(ids), len(entries), na


def main():
    files = sorted(glob.glob(SHARED + "/vulns/alpine/alpine-secdb-yaml/v3.*/*.yaml"))
    files += sorted(glob.glob(SHARED + "/oracles/vunnel-provider-fixtures/alpine/input/secdb/*/*.yaml"))
    files += sorted(glob.glob(SHARED + "/vulns/alpine/vuln-list-sample/*/*/*.json"))
    total = [0, 0, 0]
    for f in files:
        with open(f) as fh:
            if f.endswith(".json"):
                doc = json.load(fh)
            else:
                # BaseLoader: every scalar stays a string (no float keys such as 1.10).
                doc = yaml.load(fh, Loader=yaml.BaseLoader)
        c = count(doc)
        total = [a + b for a, b in zip(total, c)]
        print("%s %d %d %d" % (os.path.relpath(f, SHARED), *c))
    print("TOTAL %d %d %d" % tuple(total))


main()

#!/usr/bin/env python3
"""Independent counts of the Debian security-tracker files used by tests/debian_tracker.rs.

Usage (from crates/moat-vuln):  python3 tests/data/debian/count.py

For each DSA/DLA list: entries (header lines "[DD Mon YYYY] ID ..."), entries with an id
list "{...}", release lines ("[codename] - pkg version|<state>", not NOTE: lines), and those
release lines split by state: a version (fixed), <not-affected>, <unfixed>, <end-of-life>,
and lines whose codename has no Debian release number.
For the tracker JSON: distinct CVEs, (package, release) pairs, and those by state.
"""
import collections
import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "../../../../../../shared/data"))
KNOWN = set("buzz rex bo hamm slink potato woody sarge etch lenny squeeze wheezy jessie "
            "stretch buster bullseye bookworm trixie forky".split())
HEADER = re.compile(r"^\[(\d\d?) (\w{3}) (\d{4})\] (D[SL]A-[\d-]+)\s")
RELEASE = re.compile(r"^\s+\[([a-z]+)\]\s+-\s+(\S+)\s+(\S+)")


def lists():
    for rel in ["vulns/debian/security-tracker-2023-04/data/DSA/list",
                "vulns/debian/security-tracker-2023-04/data/DLA/list",
                "oracles/vunnel-provider-fixtures/debian/input/DSA"]:
        c = collections.Counter()
        for line in open(os.path.join(SHARED, rel), encoding="utf-8"):
            if HEADER.match(line):
                c["entries"] += 1
            elif re.match(r"^\s+\{", line):
                c["with_ids"] += 1
            else:
                m = RELEASE.match(line)
                if not m:
                    continue
                c["release_lines"] += 1
                if m.group(1) not in KNOWN:
                    c["unknown_release"] += 1
                v = m.group(3)
                c[v if v.startswith("<") else "fixed"] += 1
        print(rel, " ".join("%s=%d" % kv for kv in sorted(c.items())))


def tracker():
    rel = "oracles/vunnel-provider-fixtures/debian/input/debian.json"
    d = json.load(open(os.path.join(SHARED, rel)))
    cves, c = set(), collections.Counter()
    for pkg, entries in d.items():
        for cve, e in entries.items():
            cves.add(cve)
            rels = e.get("releases")
            if not isinstance(rels, dict):
                c["no_releases"] += 1
                continue
            for codename, r in rels.items():
                if codename not in KNOWN:
                    c["skipped_" + codename] += 1
                    continue
                c["pairs"] += 1
                if r["status"] == "resolved":
                    c["not_affected" if r.get("fixed_version") == "0" else "fixed"] += 1
                elif r.get("urgency") == "end-of-life":
                    c["end_of_life"] += 1
                else:
                    c["open"] += 1
    print(rel, "cves=%d" % len(cves), " ".join("%s=%d" % kv for kv in sorted(c.items())))


lists()
tracker()

#!/usr/bin/env python3
"""Writes dsa-dla-fixes.tsv: every release line of the 2023 DSA and DLA lists.

Usage (from crates/moat-vuln):  python3 tests/data/debian/fixes.py > tests/data/debian/dsa-dla-fixes.tsv

Columns: advisory id, release codename, Debian release number, source package, fixed
version (or the state in angle brackets: <not-affected>, <unfixed>, <end-of-life>).
Derived from the lists alone: a dpkg status of Debian release N, scanned as Debian N, must be
flagged by exactly the rows with that release number whose package is installed (by source
package) at a version lower than the fixed version (rows with <unfixed> or <end-of-life>:
any version; <not-affected>: never). NOTE: lines are notes and give no rows.
"""
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "../../../../../../shared/data"))
NUMBERS = dict(zip(
    "buzz rex bo hamm slink potato woody sarge etch lenny squeeze wheezy jessie stretch "
    "buster bullseye bookworm trixie forky".split(),
    "1.1 1.2 1.3 2.0 2.1 2.2 3.0 3.1 4 5 6 7 8 9 10 11 12 13 14".split()))

print("# id\tcodename\trelease\tsource_package\tfixed_version_or_state")
for kind in ["DSA", "DLA"]:
    path = os.path.join(SHARED, "vulns/debian/security-tracker-2023-04/data", kind, "list")
    current = None
    for line in open(path, encoding="utf-8"):
        m = re.match(r"^\[[^\]]*\] (\S+)", line)
        if m:
            current = m.group(1)
            continue
        m = re.match(r"^\s+\[([a-z]+)\]\s+-\s+(\S+)\s+(\S+)", line)
        if m and current:
            codename, pkg, version = m.groups()
            print("\t".join([current, codename, NUMBERS.get(codename, "?"), pkg, version]))

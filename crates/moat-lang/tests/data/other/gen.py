#!/usr/bin/env python3
"""Expected results for the moat-lang conan.lock, mix.lock and pubspec.lock parsers,
computed independently of the Rust code.

Run from the repository root (PyYAML is needed; if the system python lacks it, use a venv
outside the repository: python3 -m venv /tmp/venv && /tmp/venv/bin/pip install pyyaml):

    python3 crates/moat-lang/tests/data/other/gen.py

Reads the read-only fixtures under $MOAT_DATA (default /work/shared/data) and writes one file
per fixture to crates/moat-lang/tests/data/other/expected/: `#` header lines (command, source
path relative to the data root, parser), then sorted rows
`pkg<TAB>name<TAB>version<TAB>flag` (flag `app`, `dev` or `-`).

conan.lock: json. mix.lock: regular expressions over `"key": {:hex, :name, "version"` and
`{:git, url, commit, [... tag: / ref: ...]}` entries. pubspec.lock: yaml.safe_load.
"""
import json
import os
import re
import sys

import yaml

DATA = os.environ.get("MOAT_DATA", "/work/shared/data")
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "expected")
CMD = "python3 crates/moat-lang/tests/data/other/gen.py"

ROOTS = [
    "fixtures/conan",
    "fixtures/hex",
    "fixtures/pub",
    "oracles/trivy-integration/fixtures/repo/conan",
    "oracles/trivy-integration/fixtures/repo/mixlock",
    "oracles/trivy-integration/fixtures/repo/pubspec",
]


def kind_of(rel):
    base = os.path.basename(rel)
    if base == "conan.lock" or rel.startswith("fixtures/conan/osv-scalibr/") or (
        rel.startswith("fixtures/conan/trivy-parser/")
    ):
        return "conan"
    if base == "mix.lock" or rel.startswith("fixtures/hex/"):
        return "mix"
    if base == "pubspec.lock" or (rel.startswith("fixtures/pub/") and not base.endswith((".yaml", ".yml"))):
        return "pubspec"
    return None  # conanfile.txt, conaninfo.txt, vcpkg, pubspec.yaml, README


def conan_ref(r):
    r = r.split(":")[0].split("%")[0].split("#")[0].split("@")[0]
    if "/" not in r:
        return None
    name, version = r.split("/", 1)
    return (name, version) if name and version else None


def ids(v):
    if isinstance(v, list):
        return [x for x in v if isinstance(x, str)]
    if isinstance(v, dict):
        return [x for x in v.values() if isinstance(x, str)]
    return []


def conan(data):
    try:
        doc = json.loads(data)
    except Exception:
        return []
    if not isinstance(doc, dict):
        return []
    rows = []
    nodes = (doc.get("graph_lock") or {}).get("nodes") if isinstance(doc.get("graph_lock"), dict) else None
    if isinstance(nodes, dict):
        required, build = set(), set()
        for n in nodes.values():
            required.update(ids(n.get("requires")))
            required.update(ids(n.get("build_requires")))
            build.update(ids(n.get("build_requires")))
        for nid, n in nodes.items():
            ref = n.get("ref") if isinstance(n.get("ref"), str) else n.get("pref")
            if not isinstance(ref, str):
                continue
            nv = conan_ref(ref)
            if not nv:
                continue
            root = nid == "0" if "0" in nodes else nid not in required
            if root:
                flag = "app"
            elif nid in build or n.get("context") == "build":
                flag = "dev"
            else:
                flag = "-"
            rows.append(("pkg", nv[0], nv[1], flag))
        return rows
    for key, flag in (("requires", "-"), ("build_requires", "dev"), ("python_requires", "dev")):
        for r in doc.get(key) or []:
            if isinstance(r, str) and conan_ref(r):
                rows.append(("pkg", *conan_ref(r), flag))
    return rows


HEX = re.compile(r'"([^"]+)"\s*:\s*\{\s*:hex\s*,\s*:"?([A-Za-z0-9_.-]+)"?\s*,\s*"([^"]+)"')
GIT = re.compile(r'"([^"]+)"\s*:\s*\{\s*:git\s*,\s*"[^"]*"\s*,\s*"[^"]*"\s*,\s*\[([^\]]*)\]')


def mix(data):
    text = data.decode("utf-8", errors="replace")
    rows = [("pkg", m.group(2), m.group(3), "-") for m in HEX.finditer(text)]
    for m in GIT.finditer(text):
        opts = m.group(2)
        t = re.search(r'\btag:\s*"([^"]+)"', opts) or re.search(r'\bref:\s*"([^"]+)"', opts)
        if t:
            rows.append(("pkg", m.group(1), t.group(1), "-"))
    return rows


def pubspec(data):
    try:
        doc = yaml.safe_load(data.decode("utf-8"))
    except Exception:
        return []
    if not isinstance(doc, dict) or not isinstance(doc.get("packages"), dict):
        return []
    rows = []
    for name, info in doc["packages"].items():
        if not isinstance(info, dict) or info.get("version") is None:
            continue
        flag = "dev" if info.get("dependency") == "direct dev" else "-"
        rows.append(("pkg", str(name), str(info["version"]), flag))
    return rows


PARSERS = {"conan": conan, "mix": mix, "pubspec": pubspec}


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    count = 0
    for root in ROOTS:
        for dirpath, _, files in os.walk(os.path.join(DATA, root)):
            for f in sorted(files):
                full = os.path.join(dirpath, f)
                rel = os.path.relpath(full, DATA)
                kind = kind_of(rel)
                if kind is None:
                    continue
                with open(full, "rb") as fh:
                    rows = PARSERS[kind](fh.read())
                slug = re.sub(r"[^A-Za-z0-9._-]", "__", rel)
                with open(os.path.join(OUT, slug + ".txt"), "w") as out:
                    out.write(f"# generated by: {CMD}\n# source: {rel}\n# parser: {kind}\n")
                    for r in sorted("\t".join(r) for r in rows):
                        out.write(r + "\n")
                count += 1
    print(f"wrote {count} expected files to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()

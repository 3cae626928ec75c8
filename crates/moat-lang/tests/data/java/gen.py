#!/usr/bin/env python3
"""Writes the expected package lists for tests/java_files.rs, independently of the Rust code.

Run from the workspace root:

    python3 crates/moat-lang/tests/data/java/gen.py

Reads the read-only fixtures under $MOAT_SHARED_DATA (default /work/shared/data) and writes
one file per fixture to crates/moat-lang/tests/data/java/expected/{pom,gradle}/. Poms are read
with xml.etree; gradle lockfiles with plain string handling. Each expected file starts with
`#` header lines (the command, the fixture path relative to the data root, the kind) and then
lists sorted lines:

    <group:artifact> <version>[ application][ dev]
    !skipped <n>      dependencies whose version cannot be resolved from the file alone
    !no-root          the project's own coordinates cannot be resolved
    !error            the file is not readable XML (no packages expected)

The rules (the semantics moat's parsers implement, written down a second time here):
pom: the project is <groupId> (else <parent><groupId>) : <artifactId> : <version> (else
<parent><version>), `application`. Each <dependencies><dependency> directly under <project>
(not under <dependencyManagement>, <build> or <profiles>) is a package when groupId,
artifactId and version resolve; a missing version or scope comes from the same pom's
<dependencyManagement> (first entry per group:artifact). `${x}` resolves, repeatedly (at most
16 rounds), through project.version / project.groupId / project.artifactId /
project.parent.{version,groupId,artifactId} (also spelled pom.*), then <properties>. A version
`[1.2]` means 1.2; other ranges are skipped. Scopes `test` and `provided` are `dev`. Duplicate
(name, version) pairs are reported once.
gradle: `group:artifact:version[:classifier]=conf,...`; `#` comments, blank lines and `empty=`
are skipped; `dev` when every configuration starts with `test` or contains `Test`.
"""

import os
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

COMMAND = "python3 crates/moat-lang/tests/data/java/gen.py"
HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("MOAT_SHARED_DATA", "/work/shared/data"))

POM_ROOTS = [
    "fixtures/maven",
    "oracles/trivy-integration/fixtures/repo/pom",
    "oracles/osv-scanner/scan",
]
# Poms under other names that osv-scanner's recorded runs read explicitly as pom.xml.
EXTRA_POMS = [
    "oracles/osv-scanner/scan/source/testdata/maven-transitive/abc.xml",
    "oracles/osv-scanner/scan/source/testdata/maven-transitive/encoding.xml",
    "oracles/osv-scanner/scan/source/testdata/maven-transitive/parent.xml",
    "oracles/osv-scanner/scan/source/testdata/maven-transitive/registry.xml",
]
GRADLE_ROOTS = [
    "fixtures/maven",
    "oracles/trivy-integration/fixtures/repo/gradle",
]


def local(tag):
    return tag.rsplit("}", 1)[-1]


def child(el, name):
    if el is None:
        return None
    for c in el:
        if local(c.tag) == name:
            return c
    return None


def children(el, name):
    if el is None:
        return []
    return [c for c in el if local(c.tag) == name]


def text_of(el, name):
    c = child(el, name)
    if c is None or c.text is None:
        return None
    t = c.text.strip()
    return t or None


class Resolver:
    def __init__(self, project):
        self.project = project
        self.parent = child(project, "parent")
        self.props = {}
        for p in list(child(project, "properties") or []):
            self.props[local(p.tag)] = (p.text or "").strip()

    def builtin(self, name):
        for prefix in ("project.", "pom."):
            if name.startswith(prefix):
                key = name[len(prefix):]
                break
        else:
            return None
        p, parent = self.project, self.parent
        if key == "version":
            return text_of(p, "version") or text_of(parent, "version")
        if key == "groupId":
            return text_of(p, "groupId") or text_of(parent, "groupId")
        if key == "artifactId":
            return text_of(p, "artifactId")
        if key.startswith("parent."):
            return text_of(parent, key[len("parent."):]) if key[7:] in (
                "version", "groupId", "artifactId") else None
        return None

    def resolve(self, s):
        if s is None:
            return None
        cur = s.strip()
        for _ in range(16):
            start = cur.find("${")
            if start < 0:
                return cur
            end = cur.find("}", start)
            if end < 0:
                return None
            name = cur[start + 2:end]
            value = self.builtin(name)
            if value is None:
                value = self.props.get(name)
            if value is None:
                return None
            cur = cur[:start] + value.strip() + cur[end + 1:]
        return None if "${" in cur else cur


def single_version(v):
    v = v.strip()
    if v.startswith("[") and v.endswith("]") and "," not in v and v[1:-1].strip():
        return v[1:-1].strip()
    if not v or any(c in v for c in "[](),"):
        return None
    return v


def expect_pom(path):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError:
        return ["!error"]
    if local(root.tag) != "project":
        return ["!error"]
    r = Resolver(root)
    lines = []
    g = r.resolve(r.builtin("project.groupId"))
    a = r.resolve(r.builtin("project.artifactId"))
    v = r.resolve(r.builtin("project.version"))
    if g and a and v:
        lines.append(f"{g}:{a} {v} application")
    else:
        lines.append("!no-root")
    managed = {}
    for d in children(child(child(root, "dependencyManagement"), "dependencies"), "dependency"):
        mg, ma = r.resolve(text_of(d, "groupId")), r.resolve(text_of(d, "artifactId"))
        if mg and ma:
            managed.setdefault(f"{mg}:{ma}", (text_of(d, "version"), text_of(d, "scope")))
    skipped = 0
    seen = set()
    for d in children(child(root, "dependencies"), "dependency"):
        dg, da = r.resolve(text_of(d, "groupId")), r.resolve(text_of(d, "artifactId"))
        if not dg or not da:
            skipped += 1
            continue
        name = f"{dg}:{da}"
        m = managed.get(name, (None, None))
        raw = text_of(d, "version") or m[0]
        ver = r.resolve(raw) if raw else None
        ver = single_version(ver) if ver else None
        if not ver:
            skipped += 1
            continue
        scope = text_of(d, "scope") or m[1]
        scope = r.resolve(scope) if scope else None
        if (name, ver) in seen:
            continue
        seen.add((name, ver))
        lines.append(f"{name} {ver}" + (" dev" if scope in ("test", "provided") else ""))
    if skipped:
        lines.append(f"!skipped {skipped}")
    return sorted(lines)


def is_test_conf(c):
    return c.startswith("test") or "Test" in c


def expect_gradle(path):
    lines = []
    for raw in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("empty="):
            continue
        coord, sep, confs = line.partition("=")
        parts = coord.strip().split(":")
        if len(parts) not in (3, 4) or any(not p.strip() for p in parts[:3]):
            lines.append("!bad-line")
            continue
        dev = False
        if sep:
            cs = [c.strip() for c in confs.split(",") if c.strip()]
            dev = bool(cs) and all(is_test_conf(c) for c in cs)
        name = f"{parts[0].strip()}:{parts[1].strip()}"
        lines.append(f"{name} {parts[2].strip()}" + (" dev" if dev else ""))
    return sorted(lines)


def write(kind, rel, lines):
    out_dir = HERE / "expected" / kind
    out_dir.mkdir(parents=True, exist_ok=True)
    name = rel.replace("/", "__") + ".txt"
    header = [f"# generated by: {COMMAND}", f"# source: {rel}", f"# kind: {kind}"]
    (out_dir / name).write_text("\n".join(header + lines) + "\n")


def main():
    if not DATA.is_dir():
        sys.exit(f"{DATA}: not a directory (set MOAT_SHARED_DATA)")
    for kind in ("pom", "gradle"):
        d = HERE / "expected" / kind
        if d.is_dir():
            for f in d.glob("*.txt"):
                f.unlink()
    n = 0
    for root in POM_ROOTS:
        for p in sorted((DATA / root).rglob("*")):
            if p.is_file() and (p.name == "pom.xml" or p.suffix == ".pom"):
                write("pom", str(p.relative_to(DATA)), expect_pom(p))
                n += 1
    for rel in EXTRA_POMS:
        write("pom", rel, expect_pom(DATA / rel))
        n += 1
    for root in GRADLE_ROOTS:
        for p in sorted((DATA / root).rglob("gradle.lockfile")):
            write("gradle", str(p.relative_to(DATA)), expect_gradle(p))
            n += 1
    print(f"wrote {n} expected files")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Expected results for the moat-lang Python parsers, computed independently of the Rust code.

Run from the repository root:

    python3 crates/moat-lang/tests/data/python/gen.py

Reads the read-only fixtures under $MOAT_DATA (default /work/shared/data), writes one file
per fixture to crates/moat-lang/tests/data/python/expected/. Each file has `#` header lines
(command, source path relative to the data root, parser) and then sorted rows:

    pkg<TAB>name<TAB>version<TAB>flags     flags: "-", "dev" or "app"
    file<TAB>/absolute/path                 (RECORD only)

Methods: email.parser.HeaderParser for METADATA/PKG-INFO; csv + posixpath.normpath for
RECORD; pip's vendored `packaging.requirements.Requirement` for requirement lines (after
pip-style line handling: continuations, `#` comments, options); tomllib for poetry.lock
and uv.lock; json for Pipfile.lock.
"""
import csv
import email.parser
import io
import json
import os
import posixpath
import re
import sys
import tomllib

from pip._vendor.packaging.requirements import InvalidRequirement, Requirement
from pip._vendor.packaging.utils import canonicalize_name
from pip._vendor.packaging.version import InvalidVersion, Version

DATA = os.environ.get("MOAT_DATA", "/work/shared/data")
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "expected")
CMD = "python3 crates/moat-lang/tests/data/python/gen.py"

ROOTS = [
    "fixtures/pypi",
    "oracles/osv-scanner/scan/source/testdata/locks-requirements",
    "oracles/osv-scanner/scan/source/testdata/locks-scalibr",
    "oracles/osv-scanner/scan/image/testdata/python-fixture",
    "oracles/trivy-integration/fixtures/repo/pip",
    "oracles/trivy-integration/fixtures/repo/pipenv",
    "oracles/trivy-integration/fixtures/repo/poetry",
    "oracles/trivy-integration/fixtures/repo/uv",
    "oracles/trivy-integration/fixtures/repo/trivy-ci-test",
]

# Files in those trees that are not inputs of these parsers.
NOT_PYTHON = re.compile(
    r"(pdm\.lock|pyproject\.toml|top_level\.txt|direct_url\.json|LICENSE\.txt|"
    r"installed-files\.txt|registry_response.*\.json|script\.py\.lock|"
    r"trivy-parser-packaging/invalid\.json|/pyenv/.*|osv-scanner\.toml|Cargo\.lock|"
    r"locks-scalibr/(?!uv\.lock).*|main\.py|Dockerfile)$"
)


def kind_of(rel):
    base = posixpath.basename(rel)
    parent = posixpath.basename(posixpath.dirname(rel))
    if NOT_PYTHON.search(rel):
        return None
    if base == "RECORD":
        return "record"
    if (
        base in ("METADATA", "PKG-INFO", "PKG-INFO-INVALID")
        or base.lower().endswith(".egg-info")
        or base.endswith(".METADATA")
        or base.endswith(".PKG-INFO")
        or base.endswith(".dist-info")
        or "osv-scalibr-wheelegg" in rel
    ):
        return "metadata"
    if base.endswith(".txt") and ("requirement" in base or "requirements" in rel):
        return "requirements"
    if base == "poetry.lock" or "poetrylock" in rel or "trivy-parser-poetry" in rel:
        return "poetry"
    if base == "Pipfile.lock" or "pipfilelock" in rel or "trivy-parser-pipenv" in rel:
        return "pipfile"
    if base == "uv.lock" or "trivy-parser-uv" in rel:
        return "uv"
    raise SystemExit(f"unclassified fixture {rel}")


def read_text(data):
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        return data.decode("utf-16", errors="replace")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", errors="replace")


def metadata(rel, data):
    msg = email.parser.HeaderParser().parsestr(read_text(data))
    name = (msg.get("Name") or "").strip()
    version = (msg.get("Version") or "").strip()
    if not name or not version or "\n" in name or "\n" in version:
        return []
    return [("pkg", name, version, "-")]


def record(rel, data):
    dist = posixpath.dirname(rel)
    d = posixpath.basename(dist)
    if not d.lower().endswith(".dist-info"):
        return []
    m = re.match(r"^(.+?)-(\d.*)$", d[: -len(".dist-info")])
    if not m:
        return []
    site = posixpath.dirname(dist)
    # pip --target: `../../bin/x` in a lib/pythonX.Y/*-packages dir lands in <site>/bin/x
    prefix_scheme = posixpath.basename(site).endswith("-packages") and posixpath.basename(
        posixpath.dirname(site)
    ).startswith("python")
    rows = [("pkg", m.group(1), m.group(2), "-")]
    for row in csv.reader(io.StringIO(read_text(data), newline="")):
        if not row or not row[0].strip():
            continue
        p = row[0].strip()
        if prefix_scheme and p.startswith("../../bin/"):
            p = "bin/" + p[len("../../bin/"):]
        full = p if p.startswith("/") else site + "/" + p
        full = posixpath.normpath("/" + full)
        while full.startswith("//"):
            full = full[1:]
        rows.append(("file", full))
    return rows


def requirements(rel, data):
    text = read_text(data)
    # pip joins lines ending in a backslash, then drops comments.
    logical, cur = [], ""
    for line in text.splitlines():
        if line.endswith("\\"):
            cur += line[:-1] + " "
            continue
        logical.append(cur + line)
        cur = ""
    if cur:
        logical.append(cur)
    out, seen = [], set()
    for line in logical:
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        line = re.split(r"\s-", line, maxsplit=1)[0].strip()
        if "://" in line or line.startswith((".", "/")):
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if req.url:
            continue
        exact = [
            s for s in req.specifier if s.operator in ("==", "===") and "*" not in s.version
        ]
        if len(exact) != 1:
            continue
        version = exact[0].version
        if exact[0].operator == "==":
            try:
                Version(version)  # PEP 440
            except InvalidVersion:
                continue
        elif not version.strip():
            continue
        key = (canonicalize_name(req.name), version)
        if key in seen:
            continue
        seen.add(key)
        out.append(("pkg", req.name, version, "-"))
    return out


def poetry(rel, data):
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except Exception:
        return []
    out = []
    for p in doc.get("package", []):
        if "name" not in p or "version" not in p:
            continue
        groups = p.get("groups")
        dev = p.get("category") == "dev" or (bool(groups) and "main" not in groups)
        out.append(("pkg", p["name"], p["version"], "dev" if dev else "-"))
    return out


def pipfile(rel, data):
    try:
        doc = json.loads(data)
    except Exception:
        return []
    if not isinstance(doc, dict):
        return []
    out, seen = [], set()
    for section, dev in (("default", False), ("develop", True)):
        sec = doc.get(section)
        if not isinstance(sec, dict):
            continue
        for name, info in sec.items():
            v = info.get("version") if isinstance(info, dict) else None
            if not isinstance(v, str):
                continue
            v = v.strip()
            v = v[3:] if v.startswith("===") else v[2:] if v.startswith("==") else v
            if not v or name in seen:
                continue
            seen.add(name)
            out.append(("pkg", name, v, "dev" if dev else "-"))
    return out


def uv(rel, data):
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except Exception:
        return []
    pkgs = [p for p in doc.get("package", []) if "name" in p]

    def names(lst):
        return [d["name"] for d in lst or [] if "name" in d]

    def group_names(tbl):
        return [n for g in (tbl or {}).values() for n in names(g)]

    edges = {}
    for p in pkgs:
        e = edges.setdefault(p["name"], [])
        e += names(p.get("dependencies")) + group_names(p.get("optional-dependencies"))
    roots = [p for p in pkgs if {"editable", "virtual"} & set(p.get("source", {}))]

    def reach(start):
        seen, todo = set(), list(start)
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.add(n)
                todo += edges.get(n, [])
        return seen

    prod = reach(
        n for r in roots for n in names(r.get("dependencies")) + group_names(r.get("optional-dependencies"))
    )
    dev = reach(n for r in roots for n in group_names(r.get("dev-dependencies")))
    root_names = {r["name"] for r in roots}
    out = []
    for p in pkgs:
        if "version" not in p:
            continue
        if p["name"] in root_names:
            flag = "app"
        else:
            flag = "dev" if p["name"] in dev and p["name"] not in prod else "-"
        out.append(("pkg", p["name"], p["version"], flag))
    return out


def record_path(rel, full):
    """The path handed to the RECORD parser. Fixture RECORDs whose directory is not named
    `name-version.dist-info` are given one, from the sibling METADATA (or PKG-INFO), placed
    in a `lib/python3.8/site-packages` directory next to the fixture so that `..` entries
    resolve inside the data tree."""
    d = posixpath.basename(posixpath.dirname(rel))
    if re.match(r"^.+?-\d.*\.dist-info$", d, re.I):
        return rel
    for meta in ("METADATA", "PKG-INFO"):
        mp = os.path.join(os.path.dirname(full), meta)
        if os.path.isfile(mp):
            with open(mp, "rb") as fh:
                rows = metadata(rel, fh.read())
            if rows:
                _, name, version, _ = rows[0]
                base = posixpath.dirname(posixpath.dirname(rel))
                return f"{base}/lib/python3.8/site-packages/{name}-{version}.dist-info/RECORD"
    return rel


PARSERS = {
    "metadata": metadata,
    "record": record,
    "requirements": requirements,
    "poetry": poetry,
    "pipfile": pipfile,
    "uv": uv,
}


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
                path = rel
                if kind == "record":
                    path = record_path(rel, full)
                with open(full, "rb") as fh:
                    rows = PARSERS[kind](path, fh.read())
                lines = sorted("\t".join(r) for r in rows)
                slug = re.sub(r"[^A-Za-z0-9._-]", "__", rel)
                with open(os.path.join(OUT, slug + ".txt"), "w") as out:
                    out.write(f"# generated by: {CMD}\n# source: {rel}\n# parser: {kind}\n")
                    if path != rel:
                        out.write(f"# path: {path}\n")
                    for line in lines:
                        out.write(line + "\n")
                count += 1
    print(f"wrote {count} expected files to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes the `*.expected` files of this directory from the read-only fixtures.

Command (from the workspace root; needs PyYAML, e.g. a venv under /tmp):
    python3 -m venv /tmp/moatvenv && /tmp/moatvenv/bin/pip install pyyaml
    /tmp/moatvenv/bin/python crates/moat-lang/tests/data/npm/gen.py [/work/shared/data]

An independent reading of the formats (json module, PyYAML's BaseLoader so every scalar stays
a string, and its own yarn v1 line reader), written from the format descriptions, not from the
Rust parser. Each output line is `name<TAB>version<TAB>flags` (flags: `app`, `dev`, `-`),
sorted; package-lock.json lists one line per install path (nested copies kept); yarn and
pnpm list each (name, version) once. `# invalid` marks a file that is not the format at all.
"""

import json
import os
import sys

import yaml

ROOT = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data"
OUT = os.path.dirname(os.path.abspath(__file__))
CMD = "/tmp/moatvenv/bin/python crates/moat-lang/tests/data/npm/gen.py"


class Invalid(Exception):
    pass


def split_at(spec):
    """`name@range` -> (name, range); the name may be `@scope/name`."""
    i = spec.find("@", 1 if spec.startswith("@") else 0)
    if i < 0:
        return spec, ""
    return spec[:i], spec[i + 1 :]


def line(name, version, app=False, dev=False):
    return (name, version, "app" if app else ("dev" if dev else "-"))


def load_json(path):
    try:
        with open(path, "rb") as f:
            return json.loads(f.read().decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise Invalid(str(e))


# --- package-lock.json -----------------------------------------------------------------


def package_lock(path):
    doc = load_json(path)
    if not isinstance(doc, dict):
        raise Invalid("not an object")
    rows = []
    s = lambda v: v if isinstance(v, str) else None
    pkgs = doc.get("packages")
    if isinstance(pkgs, dict):
        for key, e in pkgs.items():
            if not isinstance(e, dict):
                continue
            if key == "":
                n = s(e.get("name")) if s(e.get("name")) is not None else s(doc.get("name"))
                v = s(e.get("version")) if s(e.get("version")) is not None else s(doc.get("version"))
                if n is not None and v is not None:
                    rows.append(line(n, v, app=True))
                continue
            if e.get("link") is True:
                continue
            v = s(e.get("version"))
            if v is None:
                continue
            if "node_modules/" in key:
                pname = key.split("node_modules/")[-1]
            else:
                pname = key.split("/")[-1]
            n = s(e.get("name"))
            if n is None:
                n = pname
            if n == "":
                continue
            dev = e.get("dev") is True or e.get("devOptional") is True
            rows.append(line(n, v, dev=dev))
        return rows
    n, v = s(doc.get("name")), s(doc.get("version"))
    if n is not None and v is not None:
        rows.append(line(n, v, app=True))

    def walk(deps):
        for key, e in deps.items():
            v = s(e.get("version")) if isinstance(e, dict) else None
            if v is None:
                continue
            n = key
            if v.startswith("npm:") and "@" in v[5:]:
                n, v = split_at(v[4:])
            rows.append(line(n, v, dev=e.get("dev") is True))
            if isinstance(e.get("dependencies"), dict):
                walk(e["dependencies"])

    if isinstance(doc.get("dependencies"), dict):
        walk(doc["dependencies"])
    return rows


# --- yarn.lock --------------------------------------------------------------------------


def dedupe(rows):
    """(name, version) once: app if any copy is, dev only if every copy is."""
    merged = {}
    for n, v, f in rows:
        k = (n, v)
        if k not in merged:
            merged[k] = f
        else:
            old = merged[k]
            if "app" in (old, f):
                merged[k] = "app"
            elif old == "dev" and f == "dev":
                merged[k] = "dev"
            else:
                merged[k] = "-"
    return [(n, v, f) for (n, v), f in merged.items()]


def spec_name(spec):
    n, rng = split_at(spec)
    if rng.startswith("npm:") and "@" in rng[5:]:
        real, real_rng = split_at(rng[4:])
        return real, real_rng
    return n, rng


def specs_of(key):
    out = []
    for part in key.split(","):
        part = part.strip().strip('"').strip()
        if part:
            out.append(part)
    return out


def yarn(path):
    with open(path, "rb") as f:
        text = f.read().decode("utf-8")
    if any(l.startswith("__metadata:") or l.startswith('"__metadata":') for l in text.split("\n")):
        try:
            doc = yaml.load(text, Loader=yaml.BaseLoader)
        except yaml.YAMLError as e:
            raise Invalid(str(e))
        rows = []
        for key, e in (doc or {}).items():
            if key == "__metadata" or not isinstance(e, dict):
                continue
            specs = specs_of(key)
            if not specs:
                continue
            n, rng = spec_name(specs[0])
            app = rng.startswith("workspace:")
            res = e.get("resolution")
            if isinstance(res, str):
                rn, rr = split_at(res)
                if rn:
                    n = rn
                app = app or rr.startswith("workspace:")
            if not isinstance(e.get("version"), str):
                continue
            rows.append(line(n, e["version"], app=app))
        return dedupe(rows)
    # yarn v1: a header line at column 0 ending in ':', then indented `key value` lines.
    rows = []
    current = None
    for raw in text.split("\n"):
        l = raw.rstrip()
        st = l.strip()
        if not st or st.startswith("#"):
            continue
        if not l[0].isspace():
            if current:
                rows.append(current)
            specs = specs_of(l[:-1] if l.endswith(":") else l)
            current = [specs, None]
            continue
        if current is None:
            continue
        indent = len(l) - len(l.lstrip())
        if indent <= 2:
            words = st.split(None, 1)
            k = words[0].strip('"').rstrip(":").strip('"')
            if k == "version" and len(words) == 2:
                current[1] = words[1].strip().lstrip(":").strip().strip('"')
    if current:
        rows.append(current)
    out = []
    for specs, version in rows:
        if not specs or version is None:
            continue
        n, _ = spec_name(specs[0])
        out.append(line(n, version))
    return dedupe(out)


# --- pnpm-lock.yaml -------------------------------------------------------------------


def pnpm_key(key, major):
    if major >= 6:
        k = key[1:] if key.startswith("/") else key
        k = k.split("(")[0]
        n, v = split_at(k)
        if not n or not v:
            return None
        return n, v
    if key.startswith("/"):
        k = key[1:]
    elif "/" in key:
        k = key.split("/", 1)[1]
    else:
        return None
    parts = k.split("/")
    if k.startswith("@"):
        if len(parts) < 3:
            return None
        n, rest = parts[0] + "/" + parts[1], "/".join(parts[2:])
    else:
        if len(parts) < 2:
            return None
        n, rest = parts[0], "/".join(parts[1:])
    v = rest.split("_")[0]
    if len(n) <= (1 if k.startswith("@") else 0) or not v[:1].isdigit() or "/" in v:
        return None
    return n, v


def pnpm(path):
    with open(path, "rb") as f:
        text = f.read().decode("utf-8")
    try:
        docs = [d for d in yaml.load_all(text, Loader=yaml.BaseLoader) if d not in (None, "")]
    except yaml.YAMLError as e:
        raise Invalid(str(e))
    if not docs:
        return []
    doc = docs[-1]
    if not isinstance(doc, dict):
        raise Invalid("not a mapping")
    lv = doc.get("lockfileVersion")
    try:
        major = int(str(lv).strip().split(".")[0]) if lv is not None else 0
    except ValueError:
        major = 0
    packages = doc.get("packages") or {}
    snapshots = doc.get("snapshots") or {}
    dev_only = set()
    if major >= 9 and isinstance(doc.get("importers"), dict):

        def skey(n, v):
            if v.startswith("link:") or (v.startswith("file:") and "@" not in v):
                return None
            if not v:
                return None
            if not v[0].isdigit() and "@" in v[1:]:
                return v
            return n + "@" + v

        def walk(roots):
            seen = set()
            stack = list(roots)
            while stack:
                k = stack.pop()
                if k in seen:
                    continue
                seen.add(k)
                snap = snapshots.get(k)
                if isinstance(snap, dict):
                    for field in ("dependencies", "optionalDependencies"):
                        for dn, dv in (snap.get(field) or {}).items():
                            nk = skey(dn, dv)
                            if nk:
                                stack.append(nk)
            return {pnpm_key(k, 9) for k in seen} - {None}

        prod, dev = [], []
        for imp in doc["importers"].values():
            if not isinstance(imp, dict):
                continue
            for field, target in (
                ("dependencies", prod),
                ("optionalDependencies", prod),
                ("devDependencies", dev),
            ):
                for dn, d in (imp.get(field) or {}).items():
                    v = d.get("version", "") if isinstance(d, dict) else d
                    k = skey(dn, v)
                    if k:
                        target.append(k)
        dev_only = walk(dev) - walk(prod)
    rows = []
    for key, e in packages.items():
        e = e if isinstance(e, dict) else {}
        parsed = pnpm_key(key, major)
        n = e.get("name") or (parsed[0] if parsed else None)
        v = e.get("version") or (parsed[1] if parsed else None)
        if not n or not v:
            continue
        if major >= 9:
            k = parsed if parsed else (n, v)
            dev = k in dev_only
        else:
            dev = e.get("dev") == "true"
        rows.append(line(n, v, dev=dev))
    return dedupe(rows)


# --- node_modules/**/package.json --------------------------------------------------------


def package_json(path):
    doc = load_json(path)
    if not isinstance(doc, dict):
        return []
    n, v = doc.get("name"), doc.get("version")
    if isinstance(n, str) and isinstance(v, str) and n and v:
        return [line(n, v)]
    return []


# --- driver -------------------------------------------------------------------------------


def classify(rel):
    base = os.path.basename(rel)
    d = os.path.dirname(rel)
    if base == "package.json":
        return "package-json" if "node_modules/" in rel else None
    if d.endswith("syft/pkg-json"):
        return "package-json"
    if "osv-scalibr-packagelockjson" in d or base in ("npm-shrinkwrap.json",) or (
        "package-lock" in base and base.endswith(".json")
    ):
        return "package-lock"
    if "osv-scalibr-yarnlock" in d or "trivy-parser-yarn" in d or base.endswith("yarn.lock"):
        return "yarn"
    if "osv-scalibr-pnpmlock" in d or (base.startswith("pnpm-lock") and base.endswith(".yaml")):
        return "pnpm"
    return None


def sources():
    roots = [
        "fixtures/npm",
        "oracles/osv-scanner/scan",
        "oracles/trivy-integration/fixtures/repo/npm",
        "oracles/trivy-integration/fixtures/repo/yarn",
        "oracles/trivy-integration/fixtures/repo/pnpm",
    ]
    for r in roots:
        for dp, _, files in os.walk(os.path.join(ROOT, r)):
            for f in files:
                rel = os.path.relpath(os.path.join(dp, f), ROOT)
                kind = classify(rel)
                if kind:
                    yield rel, kind


def out_name(rel):
    for pre, short in (
        ("fixtures/npm/", ""),
        ("oracles/osv-scanner/scan/", "osv-scanner/"),
        ("oracles/trivy-integration/fixtures/repo/", "trivy-integration/"),
    ):
        if rel.startswith(pre):
            rel = short + rel[len(pre) :]
    return rel.replace("/testdata/", "/").replace("/", "__") + ".expected"


PARSERS = {"package-lock": package_lock, "yarn": yarn, "pnpm": pnpm, "package-json": package_json}


def main():
    for name in os.listdir(OUT):
        if name.endswith(".expected"):
            os.remove(os.path.join(OUT, name))
    n = 0
    for rel, kind in sorted(sources()):
        try:
            rows = sorted(set(PARSERS[kind](os.path.join(ROOT, rel)))) if kind != "package-lock" else sorted(
                PARSERS[kind](os.path.join(ROOT, rel))
            )
            invalid = False
        except Invalid:
            rows, invalid = [], True
        with open(os.path.join(OUT, out_name(rel)), "w") as f:
            f.write(f"# generated by: {CMD}\n")
            f.write(f"# source: {rel}\n")
            f.write(f"# parser: {kind}\n")
            if invalid:
                f.write("# invalid\n")
            for r in rows:
                f.write("\t".join(r) + "\n")
        n += 1
    print(f"{n} expected files")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Expected vulnerability findings for lang-app's language packages, derived without moat.

Usage (from the repository root, images built by ../shared/images/build-all.sh):

    python3 crates/moat-cli/tests/data/oracles/lang_app_expected.py \
        ../shared ${MOAT_IMAGES:-/var/tmp/moat-images}/out/lang-app.docker.tar \
        > crates/moat-cli/tests/data/oracles/lang_app_expected.tsv

1. The pins, read from the image itself (a `docker save` archive, read with `tarfile`):
   PyPI: the `*.dist-info/METADATA` that pip installed under /usr/local/lib/python3.11/dist-packages
   (the dpkg-owned PyYAML and six under /usr/lib/python3 belong to Debian packages);
   npm: /app/node/package-lock.json (`packages`); crates: /app/rust/Cargo.lock;
   Go: the build info of /usr/local/bin/benchgoapp (Go version and module deps);
   Maven: the `pom.properties` of /app/java/lib/*.jar and of the jars nested in /app/java/*.war,
   plus spring3-core's MANIFEST (Implementation-Version; README: org.springframework:spring-core);
   RubyGems: /usr/share/rubygems-integration/all/specifications/*.gemspec file names.
2. The advisories, read directly from ../shared/data/vulns: Go vulndb OSV JSON, RustSec (OSV JSON
   export, and the native TOML-in-Markdown for records the export lacks), the PyPA OSV YAML, and
   the GHSA OSV JSON files.
3. OSV's evaluation rules: per `affected[]` entry, `versions[]` as exact strings; ECOSYSTEM and
   SEMVER ranges with events sorted by version (introduced "0" first), `introduced` sets,
   `fixed` and `last_affected` (strictly below) clear; `limit` bounds; GIT ranges skipped;
   withdrawn records ignored. PyPI versions compare with pip's vendored `packaging.version`;
   Go, crates.io and npm with SemVer 2.0 (Go without its `v`); RustSec native records with Cargo's
   requirement syntax (affected unless a `patched` or `unaffected` requirement matches).
   Maven and RubyGems use the small comparators below (enough for the versions involved).
4. Records matching one package are grouped when they share any id or alias; a group's primary id
   is its CVE when it names exactly one, else the id of its first record (GHSA- records first,
   then by id). moat documents the same rule (crates/moat-vuln/src/matcher.rs).

Output, tab-separated, sorted: ecosystem, package (PyPI names PEP 503-normalised), version,
primary id, the matched record ids (comma-separated, sorted).
"""

import io
import json
import os
import re
import sys
import tarfile
import tomllib
import zipfile

import yaml  # PyYAML
from pip._vendor.packaging.version import InvalidVersion, Version

SHARED, ARCHIVE = sys.argv[1], sys.argv[2]
VULNS = os.path.join(SHARED, "data", "vulns")


def pep503(name):
    return re.sub(r"[-_.]+", "-", name).lower()


# ---------------------------------------------------------------- image files


def image_files(path, want):
    """The final content of the image files whose path satisfies `want` (layers in order)."""
    files = {}
    with tarfile.open(path) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))
        for layer in manifest[0]["Layers"]:
            data = outer.extractfile(layer).read()
            with tarfile.open(fileobj=io.BytesIO(data)) as t:
                for m in t:
                    name = m.name.lstrip("./")
                    base = os.path.basename(name)
                    if base.startswith(".wh."):
                        files.pop(os.path.join(os.path.dirname(name), base[4:]), None)
                        continue
                    if m.isfile() and want(name):
                        files[name] = t.extractfile(m).read()
    return files


def uvarint(b, i):
    x = shift = 0
    while True:
        c = b[i]
        i += 1
        x |= (c & 0x7F) << shift
        if c < 0x80:
            return x, i
        shift += 7


def go_buildinfo(binary):
    """(Go version, [(module, version)]) from a Go >= 1.18 binary's inline build info."""
    at = binary.index(b"\xff Go buildinf:")
    flags = binary[at + 15]
    assert flags & 2, "inline build info (Go >= 1.18)"
    i = at + 32
    n, i = uvarint(binary, i)
    goversion = binary[i : i + n].decode()
    i += n
    n, i = uvarint(binary, i)
    modinfo = binary[i : i + n].decode(errors="replace")
    deps = []
    for line in modinfo.splitlines():
        f = line.split("\t")
        if f[0] in ("dep", "=>") and len(f) >= 3:
            if f[0] == "=>":
                deps.pop()
            deps.append((f[1], f[2]))
    return goversion, deps


def pins():
    def want(n):
        return (
            (n.startswith("usr/local/lib/python3.11/dist-packages/") and n.endswith(".dist-info/METADATA"))
            or n in ("app/node/package-lock.json", "app/rust/Cargo.lock", "usr/local/bin/benchgoapp")
            or (n.startswith("app/java/") and n.endswith((".jar", ".war")))
            or (n.startswith("usr/share/rubygems-integration/all/specifications/") and n.endswith(".gemspec"))
        )

    files = image_files(ARCHIVE, want)
    out = set()
    for name, data in files.items():
        if name.endswith("METADATA"):
            meta = dict(
                l.split(": ", 1) for l in data.decode().split("\n\n")[0].splitlines() if ": " in l
            )
            out.add(("PyPI", pep503(meta["Name"]), meta["Version"]))
    lock = json.loads(files["app/node/package-lock.json"])
    for path, p in lock["packages"].items():
        if path and "version" in p:
            out.add(("npm", p.get("name") or path.split("node_modules/")[-1], p["version"]))
    for p in tomllib.loads(files["app/rust/Cargo.lock"].decode())["package"]:
        out.add(("crates.io", p["name"], p["version"]))
    gov, deps = go_buildinfo(files["usr/local/bin/benchgoapp"])
    out.add(("Go", "stdlib", "v" + gov.removeprefix("go")))
    for m, v in deps:
        out.add(("Go", m, v))

    def jar(data, nested=False):
        z = zipfile.ZipFile(io.BytesIO(data))
        found = False
        for n in z.namelist():
            if n.endswith("pom.properties"):
                props = dict(
                    l.split("=", 1) for l in z.read(n).decode().splitlines() if "=" in l and not l.startswith("#")
                )
                out.add(("Maven", f"{props['groupId']}:{props['artifactId']}", props["version"]))
                found = True
            elif n.endswith(".jar"):
                jar(z.read(n), True)
        if not found and not nested and "META-INF/MANIFEST.MF" in z.namelist():
            mf = z.read("META-INF/MANIFEST.MF").decode()
            m = re.search(r"^Implementation-Version: *(\S+)", mf, re.M)
            if m and "spring" in mf.lower():
                out.add(("Maven", "org.springframework:spring-core", m.group(1)))

    for name, data in files.items():
        if name.endswith((".jar", ".war")):
            jar(data)
        if name.endswith(".gemspec"):
            stem = os.path.basename(name)[: -len(".gemspec")]
            gem, ver = stem.rsplit("-", 1)
            out.add(("RubyGems", gem, ver))
    return out


# ---------------------------------------------------------------- version orders


def semver_key(v):
    v = v.removeprefix("v").split("+", 1)[0]
    core, _, pre = v.partition("-")
    nums = [int(x) for x in core.split(".")]
    while len(nums) < 3:
        nums.append(0)
    if not pre:
        return (nums, 1, [])
    ids = [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")]
    return (nums, 0, ids)


def semver_cmp(a, b):
    ka, kb = semver_key(a), semver_key(b)
    return (ka > kb) - (ka < kb)


def pep440_cmp(a, b):
    try:
        va, vb = Version(a), Version(b)
    except InvalidVersion:
        return (a > b) - (a < b)
    return (va > vb) - (va < vb)


QUALIFIERS = {"alpha": 1, "a": 1, "beta": 2, "b": 2, "milestone": 3, "m": 3, "rc": 4, "cr": 4, "snapshot": 5,
              "": 6, "ga": 6, "final": 6, "release": 6, "sp": 7}


def maven_key(v):
    toks = re.findall(r"\d+|[A-Za-z]+", v.lower())
    key = [(2, int(t), "") if t.isdigit() else (1, QUALIFIERS.get(t, 8), t if t not in QUALIFIERS else "") for t in toks]
    while key and key[-1] in ((2, 0, ""), (1, 6, "")):
        key.pop()
    return key


def maven_cmp(a, b):
    ka, kb = maven_key(a), maven_key(b)
    pad = (1, 6, "")
    for i in range(max(len(ka), len(kb))):
        x = ka[i] if i < len(ka) else pad
        y = kb[i] if i < len(kb) else pad
        if x[0] == 2 and y[0] == 1 and y[1] == 6:
            y = (2, 0, "")
        if y[0] == 2 and x[0] == 1 and x[1] == 6:
            x = (2, 0, "")
        if x != y:
            return -1 if x < y else 1
    return 0


def gem_key(v):
    segs = [int(s) if s.isdigit() else s for s in re.findall(r"\d+|[A-Za-z]+", v)]
    while segs and segs[-1] == 0:
        segs.pop()
    return segs


def gem_cmp(a, b):
    ka, kb = gem_key(a), gem_key(b)
    for i in range(max(len(ka), len(kb))):
        x = ka[i] if i < len(ka) else 0
        y = kb[i] if i < len(kb) else 0
        if type(x) is not type(y):
            return -1 if isinstance(x, str) else 1
        if x != y:
            return -1 if x < y else 1
    return 0


CMP = {"PyPI": pep440_cmp, "Go": semver_cmp, "crates.io": semver_cmp, "npm": semver_cmp,
       "Maven": maven_cmp, "RubyGems": gem_cmp}


# ---------------------------------------------------------------- OSV evaluation


def range_affects(events, version, cmp):
    def key(e):
        kind, v = next(iter(e.items()))
        return v

    import functools

    def order(a, b):
        va, vb = key(a), key(b)
        if va == "0" and "introduced" in a:
            return -1
        if vb == "0" and "introduced" in b:
            return 1
        return cmp(va, vb)

    evs = sorted((e for e in events if set(e) & {"introduced", "fixed", "last_affected"}), key=functools.cmp_to_key(order))
    limits = [e["limit"] for e in events if "limit" in e]
    affected = False
    for e in evs:
        if "introduced" in e and (e["introduced"] == "0" or cmp(e["introduced"], version) <= 0):
            affected = True
        elif "fixed" in e and cmp(e["fixed"], version) <= 0:
            affected = False
        elif "last_affected" in e and cmp(e["last_affected"], version) < 0:
            affected = False
    if affected and limits and "*" not in limits:
        affected = any(cmp(version, l) < 0 for l in limits)
    return affected


def osv_affects(record, eco, name, version):
    if record.get("withdrawn"):
        return False
    cmp = CMP[eco]
    key = pep503 if eco == "PyPI" else (lambda s: s)
    for a in record.get("affected", []):
        pkg = a.get("package", {})
        if pkg.get("ecosystem") != eco or key(pkg.get("name", "")) != key(name):
            continue
        if version in (a.get("versions") or []):
            return True
        for r in a.get("ranges") or []:
            if r.get("type") in ("ECOSYSTEM", "SEMVER") and range_affects(r["events"], version, cmp):
                return True
    return False


def cargo_req_matches(req, version):
    """Cargo requirement syntax (comma-separated comparators, all must hold)."""
    v = semver_key(version)
    for comp in req.split(","):
        comp = comp.strip()
        m = re.fullmatch(r"(>=|<=|>|<|=|\^|~)?\s*(\d+)(?:\.(\d+|\*))?(?:\.(\d+|\*))?(-[0-9A-Za-z.-]+)?", comp)
        assert m, comp
        op = m.group(1) or "^"
        parts = [m.group(2), m.group(3), m.group(4)]
        given = [p for p in parts if p not in (None, "*")]
        base = ".".join(given + ["0"] * (3 - len(given))) + (m.group(5) or "")
        b = semver_key(base)
        if op in ("^", "~", "="):
            nums = [int(x) for x in given]
            if op == "=" and len(given) == 3:
                ok = v == b
            else:
                if op == "^":
                    idx = next((i for i, n in enumerate(nums) if n != 0), len(nums) - 1)
                    upper = nums[: idx + 1]
                elif op == "~":
                    upper = nums[: 2] if len(nums) >= 2 else nums[:1]
                else:
                    upper = nums
                upper = upper[:-1] + [upper[-1] + 1]
                up = semver_key(".".join(str(x) for x in upper + [0] * (3 - len(upper))) + "-0")
                ok = b <= v < up
        elif op == ">=":
            ok = v >= b
        elif op == ">":
            ok = v > b
        elif op == "<=":
            ok = v <= b
        else:
            ok = v < b
        if not ok:
            return False
    return True


def rustsec_md_affects(front, name, version):
    adv = front["advisory"]
    if adv.get("withdrawn") or adv.get("package") != name:
        return False
    vers = front.get("versions", {})
    reqs = vers.get("patched", []) + vers.get("unaffected", [])
    return not any(cargo_req_matches(r, version) for r in reqs)


# ---------------------------------------------------------------- advisory data


def load_records():
    """Yields (ecosystem or None, record) in the OSV shape (RustSec native -> 'rustsec-md')."""
    recs = []
    for d, _, fs in os.walk(os.path.join(VULNS, "go", "osv")):
        recs += [json.load(open(os.path.join(d, f))) for f in fs if f.endswith(".json")]
    rust_json = set()
    for d, _, fs in os.walk(os.path.join(VULNS, "rust", "osv")):
        for f in fs:
            if f.endswith(".json"):
                r = json.load(open(os.path.join(d, f)))
                rust_json.add(r["id"])
                recs.append(r)
    for d, _, fs in os.walk(os.path.join(VULNS, "pypi", "pypa-osv-yaml")):
        recs += [yaml.safe_load(open(os.path.join(d, f))) for f in fs if f.endswith(".yaml")]
    for d, _, fs in os.walk(os.path.join(VULNS, "ghsa")):
        for f in fs:
            if f.endswith(".json"):
                doc = json.load(open(os.path.join(d, f)))
                recs += doc["vulns"] if "vulns" in doc else [doc]
    md = []
    for d, _, fs in os.walk(os.path.join(VULNS, "rust", "advisory-db-toml-md")):
        for f in fs:
            if f.endswith(".md"):
                text = open(os.path.join(d, f)).read()
                m = re.search(r"```toml\n(.*?)```", text, re.S)
                front = tomllib.loads(m.group(1))
                if front["advisory"]["id"] not in rust_json:
                    md.append(front)
    return recs, md


def main():
    recs, md = load_records()
    rows = []
    for eco, name, version in sorted(pins()):
        if eco == "Go" and version.startswith("("):
            continue  # the main module's "(devel)" is not a release version
        matched = {}
        for r in recs:
            if osv_affects(r, eco, name, version):
                matched[r["id"]] = set(r.get("aliases") or [])
        if eco == "crates.io":
            for f in md:
                if rustsec_md_affects(f, name, version):
                    matched[f["advisory"]["id"]] = set(f["advisory"].get("aliases", []))
        # union-find over shared ids
        groups = []
        for rid, aliases in sorted(matched.items()):
            ids = {rid} | aliases
            merged = [g for g in groups if g["ids"] & ids]
            g = {"ids": set(ids), "recs": {rid}}
            for m in merged:
                groups.remove(m)
                g["ids"] |= m["ids"]
                g["recs"] |= m["recs"]
            groups.append(g)
        for g in groups:
            cves = sorted(i for i in g["ids"] if i.startswith("CVE-"))
            if len(cves) == 1:
                primary = cves[0]
            else:
                primary = sorted(g["recs"], key=lambda i: (not i.startswith("GHSA-"), i))[0]
            rows.append((eco, name, version, primary, ",".join(sorted(g["recs"]))))
    print("# generated by: python3 crates/moat-cli/tests/data/oracles/lang_app_expected.py "
          "../shared ${MOAT_IMAGES:-/var/tmp/moat-images}/out/lang-app.docker.tar")
    print("# ecosystem\tpackage\tversion\tprimary_id\tmatched_records")
    for r in sorted(rows):
        print("\t".join(r))


main()

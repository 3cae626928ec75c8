#!/usr/bin/env python3
"""A seeded corpus for scoring secret scanners: files of source-like filler with planted
real-format fake credentials of every moat rule (true positives) and decoys (documentation
examples such as AKIAIOSFODNN7EXAMPLE, placeholders, hashes, UUIDs, public keys, test
fixtures) that no scanner should report, plus the ground truth.

    bench/gen-secret-corpus.py OUT [--seed 7] [--files 3000] [--per-rule 8] [--filler 40]

writes OUT/tree/** (the files to scan) and OUT/truth.tsv, one line per planted item:

    kind  rule-or-decoy  path  first_line  last_line

(`kind` is `secret` or `decoy`; paths relative to OUT/tree; lines 1-based, inclusive).

True positives come from each rule's documented example (crates/moat-secrets/src/rules/*.rs,
read from the source): the secret inside the example is found with the rule's own regex and
its characters re-drawn from the same classes (digits, lower, upper; hex stays hex), so every
planted value is new but keeps the provider's format (prefixes, lengths, separators). Formats
with structure are built: JWTs (a JSON header and payload, base64url) and GitHub-style tokens
(`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `npm_`: 30 random characters and the base62 CRC-32
checksum the providers append). PEM private keys are DER structures of the right shape with
random integers (RSA PKCS#1, SEC 1 EC, PKCS#8); the other key formats keep the rule's example.
Decoys are each rule's near misses plus generic ones. The generic rules' secrets
(`password = ...` assignments and the like) are planted in code and configuration files, not
in Markdown documentation, where moat by design does not run those rules (documentation
examples). Same seed, same corpus.

    bench/gen-secret-corpus.py score OUT moat=moat.json trivy=trivy.json ...

scores reports (moat, trivy, detect-secrets, trufflehog3, kingfisher, betterleaks JSON) against
the ground truth: a finding whose lines meet a planted secret's lines finds it; any other
finding is a false positive (one per file and line), counted by the decoy it hit ("filler"
for none). Prints BENCHMARKS.md tables: recall and false positives per tool, misses per rule.
"""

import argparse
import base64
import json
import os
import random
import re
import string
import sys
import uuid
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
RULES_DIR = os.path.join(HERE, "..", "crates", "moat-secrets", "src", "rules")


# ---------------------------------------------------------------- rules from the source
def rust_str(src, i):
    """The Rust string literal starting at src[i] ("..." or r#"..."#): (value, end)."""
    if src.startswith('r#"', i):
        j = src.index('"#', i + 3)
        return src[i + 3 : j], j + 2
    if src.startswith('r"', i):
        j = src.index('"', i + 2)
        return src[i + 2 : j], j + 1
    assert src[i] == '"', src[i : i + 20]
    out, j = [], i + 1
    while src[j] != '"':
        c = src[j]
        if c == "\\":
            n = src[j + 1]
            if n == "n":
                out.append("\n")
            elif n == "t":
                out.append("\t")
            elif n == "r":
                out.append("\r")
            elif n == "0":
                out.append("\0")
            elif n == "u":
                k = src.index("}", j)
                out.append(chr(int(src[j + 3 : k], 16)))
                j = k - 1
            elif n == "\n":  # line continuation: skip the newline and leading blanks
                j += 2
                while src[j] in " \t\n":
                    j += 1
                continue
            else:
                out.append(n)
            j += 2
        else:
            out.append(c)
            j += 1
    return "".join(out), j + 1


def load_rules():
    rules = []
    for name in sorted(os.listdir(RULES_DIR)):
        if not name.endswith(".rs"):
            continue
        src = open(os.path.join(RULES_DIR, name), encoding="utf-8").read()
        for m in re.finditer(r"\n    Rule \{", src):
            start = m.end()
            end = src.find("\n    },", start)
            block = src[start:end]
            rule = {}
            for field in ("id", "regex", "example"):
                k = block.index(f"{field}: ")
                rule[field], _ = rust_str(block, k + len(field) + 2)
            nm = []
            k = block.index("near_misses: &[")
            j = k + len("near_misses: &[")
            while True:
                while block[j] in " \n\t,":
                    j += 1
                if block[j] == "]":
                    break
                s, j = rust_str(block, j)
                nm.append(s)
            rule["near_misses"] = nm
            rule["generic"] = "generic: true" in block
            rules.append(rule)
    return rules


def py_regex(rx):
    """The rule's regex for Python's `re` (close enough for finding the example's secret)."""
    try:
        return re.compile(rx)
    except re.error:
        return None


# ---------------------------------------------------------------- value generators
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def base62(n, width):
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = B62[r] + out
    return out.rjust(width, "0")


def redraw(rng, s):
    """Each character re-drawn from its class as the string uses it: hex stays hex."""
    hexlow = all(c in "0123456789abcdef" for c in s if c.isalnum())
    hexup = all(c in "0123456789ABCDEF" for c in s if c.isalnum())
    b32 = all(c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" for c in s if c.isalnum())
    out = []
    for c in s:
        if c.isdigit():
            out.append(rng.choice("234567" if b32 and not c in "01" else string.digits))
        elif c.islower() and c.isascii():
            out.append(rng.choice("abcdef" if hexlow else string.ascii_lowercase))
        elif c.isupper() and c.isascii():
            out.append(rng.choice("ABCDEF" if hexup else string.ascii_uppercase))
        else:
            out.append(c)
    return "".join(out)


def github_style(rng, prefix):
    body = "".join(rng.choice(B62) for _ in range(30))
    return prefix + body + base62(zlib.crc32(body.encode()) & 0xFFFFFFFF, 6)


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt(rng):
    header = {"alg": rng.choice(["HS256", "RS256", "ES256"]), "typ": "JWT"}
    payload = {
        "sub": "svc-" + "".join(rng.choice(string.ascii_lowercase) for _ in range(8)),
        "iss": rng.choice(["auth.internal", "https://login.example.net", "billing"]),
        "iat": rng.randrange(1_600_000_000, 1_760_000_000),
        "scope": rng.choice(["admin", "read write", "deploy"]),
    }
    sig = bytes(rng.randrange(256) for _ in range(32))
    return ".".join(
        [
            b64url(json.dumps(header, separators=(",", ":")).encode()),
            b64url(json.dumps(payload, separators=(",", ":")).encode()),
            b64url(sig),
        ]
    )


def der(tag, body):
    n = len(body)
    if n < 128:
        ln = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        ln = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + ln + body


def der_int(rng, nbytes):
    b = bytes([rng.randrange(1, 128)]) + bytes(rng.randrange(256) for _ in range(nbytes - 1))
    return der(0x02, b)


def rsa_der(rng):
    ints = [der(0x02, b"\x00")] + [der_int(rng, n) for n in (128, 3, 128, 64, 64, 64, 64, 64)]
    return der(0x30, b"".join(ints))


def ec_der(rng):
    oid = der(0x06, bytes.fromhex("2a8648ce3d030107"))
    pub = der(0x03, b"\x00\x04" + bytes(rng.randrange(256) for _ in range(64)))
    return der(
        0x30,
        der(0x02, b"\x01")
        + der(0x04, bytes(rng.randrange(256) for _ in range(32)))
        + der(0xA0, oid)
        + der(0xA1, pub),
    )


def pkcs8_der(rng):
    alg = der(0x30, der(0x06, bytes.fromhex("2a864886f70d010101")) + der(0x05, b""))
    return der(0x30, der(0x02, b"\x00") + alg + der(0x04, rsa_der(rng)))


def pem(label, body):
    b = base64.b64encode(body).decode()
    lines = [b[i : i + 64] for i in range(0, len(b), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----"


BUILT = {
    "rsa-private-key": lambda rng: pem("RSA PRIVATE KEY", rsa_der(rng)),
    "ec-private-key": lambda rng: pem("EC PRIVATE KEY", ec_der(rng)),
    "pkcs8-private-key": lambda rng: pem("PRIVATE KEY", pkcs8_der(rng)),
}
GENERIC_RULES = ("generic-password", "generic-secret", "kubernetes-env-secret", "cli-password-argument")
GITHUB_STYLE = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "npm_")


def planted(rng, rule, rx):
    """A new true positive for the rule: its example with the secret re-drawn."""
    if rule["id"] in BUILT:
        return BUILT[rule["id"]](rng)
    ex = rule["example"]
    if rule["id"] == "jwt":
        m = re.search(r"eyJ[\w\-]+\.eyJ[\w\-]+\.[\w\-]+", ex)
        return ex[: m.start()] + jwt(rng) + ex[m.end() :]
    if rule["id"] in ("docker-config-auth", "http-basic-auth"):
        # base64 of user:password, as the format is
        m = re.search(r'(?:"auth"\s*:\s*"|Basic )([A-Za-z0-9+/]+=*)', ex)
        user = rng.choice(["deploy", "ci", "billing", "robot"])
        pw = "".join(rng.choice(B62 + "-_!") for _ in range(rng.randrange(14, 24)))
        cred = base64.b64encode(f"{user}:{pw}".encode()).decode()
        return ex[: m.start(1)] + cred + ex[m.end(1) :]
    for p in GITHUB_STYLE:
        m = re.search(re.escape(p) + r"[A-Za-z0-9]{36}\b", ex)
        if m:
            return ex[: m.start()] + github_style(rng, p) + ex[m.end() :]
    if rx is None or "PRIVATE KEY" in ex or "PuTTY" in ex:
        return ex
    m = rx.search(ex)
    if not m:
        return ex
    names = [n for n in rx.groupindex if n.startswith("secret") and m.group(n)]
    if names:
        s, e = m.span(names[0])
    else:
        s, e = m.span()
    secret = ex[s:e]
    # Keep the literal parts of the format (`AKIA`, `https://hooks.slack.com/`, a trailing
    # `AA`): the shortest kept prefix (and, failing that, suffix) for which re-drawn values
    # still match the rule.
    for keep_end in (0, 2, 4):
        for cut in range(0, max(1, len(secret) - keep_end - 8)):
            for _ in range(4):
                tail = len(secret) - keep_end
                new = secret[:cut] + redraw(rng, secret[cut:tail]) + secret[tail:]
                cand = ex[:s] + new + ex[e:]
                if new != secret and rx.search(cand):
                    return cand
    return ex


# ---------------------------------------------------------------- decoys and filler
def decoys(rng):
    """(name, text) pairs no scanner should report."""
    u = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    hx = lambda n: "".join(rng.choice("0123456789abcdef") for _ in range(n))
    b64 = lambda n: base64.b64encode(bytes(rng.randrange(256) for _ in range(n))).decode()
    word = lambda: rng.choice(["alpha", "bravo", "delta", "kilo", "lima", "oscar", "tango"])
    return [
        ("aws-doc-example", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE"),
        ("aws-doc-example", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        ("uuid", f'request_id = "{u}"'),
        ("uuid", f"  tenant_id: {u}"),
        ("hash", f'sha256 = "{hx(64)}"'),
        ("hash", f"commit {hx(40)}"),
        ("hash", f'  "integrity": "sha512-{b64(64)}",'),
        ("hash", f"github.com/{word()}/lib v1.2.3 h1:{b64(32)}"),
        ("hash", f"{hx(32)}  dist/{word()}.tar.gz"),
        ("placeholder", 'password = "changeme"'),
        ("placeholder", "API_KEY=<your-api-key>"),
        ("placeholder", "GITHUB_TOKEN=${GITHUB_TOKEN}"),
        ("placeholder", 'password: "{{ .Values.db.password }}"'),
        ("placeholder", "SECRET_KEY=xxxxxxxxxxxxxxxxxxxxxxxx"),
        ("placeholder", 'api_key = "YOUR_API_KEY_HERE"'),
        ("placeholder", 'db_password = os.environ["DB_PASSWORD"]'),
        ("placeholder", "  password: ********"),
        ("placeholder", "token: <REDACTED>"),
        ("placeholder", 'const token = process.env.API_TOKEN || "";'),
        ("test-fixture", 'token = "test-token"'),
        ("test-fixture", 'api_key: "dummy-api-key-for-tests"'),
        ("test-fixture", 'password = "example-password"'),
        ("test-fixture", 'assert check_password("fake_password_123") is False'),
        ("public-key", f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{b64(32)[:43]} {word()}@build"),
        ("public-key", "-----BEGIN PUBLIC KEY-----"),
        ("public-key", "-----BEGIN CERTIFICATE-----"),
        ("data-uri", f'background: url("data:image/png;base64,{b64(96)}");'),
        ("url", f"https://{word()}.example.com/api/v1/items?page=2"),
        ("url", f"postgres://{word()}@db.internal:5432/app"),
        ("identifier", f"const {word()}Handler{hx(8).upper()} = useCallback(() => null, []);"),
        ("identifier", f"color: #{hx(6)}; border-color: #{hx(6)};"),
        ("identifier", f"password_reset_token_ttl = {rng.randrange(60, 9000)}"),
        ("identifier", f"def rotate_secret_key(self, key_id: str) -> None:"),
    ]


FILLER = {
    "py": [
        "import os",
        "import json",
        "def handler_{n}(event, context):",
        "    items = [x * {n} for x in range(10)]",
        "    return {{'status': 200, 'count': len(items)}}",
        "# TODO: move this to the settings module",
        "class Worker{n}(object):",
        "    timeout = {n}",
        "logger.info('processed %d items', {n})",
    ],
    "js": [
        "const express = require('express');",
        "function render{n}(props) {{ return props.items.map(i => i.name); }}",
        "module.exports = {{ limit: {n} }};",
        "// retry with exponential backoff",
        "app.get('/health', (req, res) => res.send('ok'));",
        "let total = items.reduce((a, b) => a + b, {n});",
    ],
    "yaml": [
        "apiVersion: apps/v1",
        "kind: Deployment",
        "metadata:",
        "  name: web-{n}",
        "  replicas: {n}",
        "  labels:",
        "    app: web",
        "  image: registry.example.com/web:1.{n}",
    ],
    "env": ["DEBUG=false", "PORT={n}", "LOG_LEVEL=info", "REGION=eu-west-1", "WORKERS={n}"],
    "go": [
        "package main",
        'import "fmt"',
        "func compute{n}(x int) int {{ return x * {n} }}",
        'fmt.Println("started", {n})',
        "if err != nil {{ return err }}",
    ],
    "tf": [
        'resource "aws_s3_bucket" "b{n}" {{',
        '  bucket = "logs-{n}"',
        '  acl    = "private"',
        "}}",
        'variable "region" {{ default = "eu-west-1" }}',
    ],
    "json": ['  "name": "app-{n}",', '  "version": "1.{n}.0",', '  "private": true,'],
    "sh": ["set -euo pipefail", 'echo "step {n}"', "cd /srv/app && make build", "exit 0"],
    "md": ["## Configuration", "Set the options below before running the service.", "- item {n}"],
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--files", type=int, default=3000)
    ap.add_argument("--per-rule", type=int, default=8)
    ap.add_argument("--filler", type=int, default=40, help="mean filler lines per file")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    rules = load_rules()
    items = []  # (kind, name, text)
    for r in rules:
        rx = py_regex(r["regex"])
        for _ in range(a.per_rule):
            items.append(("secret", r["id"], planted(rng, r, rx)))
        for nm in r["near_misses"]:
            items.append(("decoy", "near-miss:" + r["id"], nm))
    for _ in range(max(1, a.files // 30)):
        for name, text in decoys(rng):
            items.append(("decoy", name, text))
    rng.shuffle(items)
    tree = os.path.join(a.out, "tree")
    os.makedirs(tree, exist_ok=True)
    exts = list(FILLER)
    per_file = [[] for _ in range(a.files)]
    for it in items:
        i = rng.randrange(a.files)
        # moat does not run its generic rules over documentation (README examples are full
        # of `password = ...`): generic secrets go to code and configuration files only
        while it[0] == "secret" and it[1] in GENERIC_RULES and exts[i % len(exts)] == "md":
            i = rng.randrange(a.files)
        per_file[i].append(it)
    truth = []
    for i, planted_items in enumerate(per_file):
        ext = exts[i % len(exts)]
        d = os.path.join(f"svc{i % 37:02d}", rng.choice(["src", "config", "deploy", "lib", "docs"]))
        name = f"{d}/file{i:05d}.{ext}"
        lines = []
        n_fill = max(1, int(rng.expovariate(1 / a.filler)))
        slots = sorted(rng.randrange(n_fill + 1) for _ in planted_items)
        k = 0
        for j in range(n_fill + 1):
            while k < len(planted_items) and slots[k] == j:
                kind, rule, text = planted_items[k]
                first = len(lines) + 1
                lines.extend(text.split("\n"))
                truth.append((kind, rule, name, first, len(lines)))
                k += 1
            if j < n_fill:
                lines.append(rng.choice(FILLER[ext]).format(n=rng.randrange(1, 999)))
        p = os.path.join(tree, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    with open(os.path.join(a.out, "truth.tsv"), "w", encoding="utf-8") as f:
        for t in truth:
            f.write("\t".join(map(str, t)) + "\n")
    s = sum(1 for t in truth if t[0] == "secret")
    print(f"{a.files} files, {s} planted secrets of {len(rules)} rules, {len(truth) - s} decoys", file=sys.stderr)


# ---------------------------------------------------------------- scoring
def corpus_path(p):
    """A report's path as the corpus' truth names it (from the `svcNN/` part on)."""
    m = re.search(r"svc\d\d/.*", p)
    return m.group(0) if m else None


def tool_findings(tool, path, norm=corpus_path):
    """(path under the tree, first line, last line, rule) of each finding in a report."""
    raw = open(path, encoding="utf-8", errors="replace").read().strip()
    # kingfisher appends a second JSON document (its summary): read the first one
    doc, _ = json.JSONDecoder().raw_decode(raw) if raw else ({}, 0)
    out = []
    if tool == "moat":
        for f in doc.get("findings", []):
            loc = f.get("location") or {}
            span = loc.get("span") or {}
            if loc.get("path") and span.get("start_line"):
                out.append((loc["path"], span["start_line"], span.get("end_line") or span["start_line"], f.get("rule", f.get("id"))))
    elif tool == "trivy":
        for r in doc.get("Results") or []:
            for s in r.get("Secrets") or []:
                out.append((r["Target"], s["StartLine"], s["EndLine"], s["RuleID"]))
    elif tool == "detect-secrets":
        for fname, items in (doc.get("results") or {}).items():
            for s in items:
                out.append((fname, s["line_number"], s["line_number"], s["type"]))
    elif tool == "trufflehog3":
        for s in doc if isinstance(doc, list) else []:
            out.append((s["path"], int(s["line"]), int(s["line"]), s["rule"]["id"]))
    elif tool == "kingfisher":
        for f in doc.get("findings", []):
            g = f["finding"]
            out.append((g["path"], g["line"], g["line"], f["rule"]["id"]))
    elif tool == "betterleaks":
        for f in doc.get("findings") or []:
            loc = f["location"]
            out.append((loc["path"], loc["start_line"], loc.get("end_line") or loc["start_line"], f["rule_id"]))
    else:
        raise SystemExit(f"unknown tool {tool}")
    kept = []
    for p, a, b, r in out:
        q = norm(p)
        if q is not None:
            kept.append((q, int(a), int(b), r))
    return kept


def compare(root, reports):
    """Each report's findings as file:line under ROOT, against the first report's."""
    root = root.rstrip("/") + "/"

    def under(p):
        i = p.find(root)
        return p[i + len(root):] if i >= 0 else p.lstrip("/")

    sets = []
    for spec in reports:
        label, report = spec.split("=", 1)
        tool = label.split(":")[0]
        sets.append((label, {(p, a) for p, a, _, _ in tool_findings(tool, report, under)}))
    ref_label, ref = sets[0]
    print(f"| report | findings (file:line) | files | also in {ref_label} | not in {ref_label} |")
    print("|---|---|---|---|---|")
    for label, s in sets:
        files = len({p for p, _ in s})
        print(f"| {label} | {len(s)} | {files} | {len(s & ref)} | {len(s - ref)} |")
    for label, s in sets[1:]:
        for p, a in sorted(s ^ ref)[:10]:
            side = label if (p, a) in s else ref_label
            print(f"  only in {side}: {p}:{a}")


def score(out_dir, reports):
    truth = [l.rstrip("\n").split("\t") for l in open(os.path.join(out_dir, "truth.tsv"), encoding="utf-8")]
    by_path = {}
    for kind, name, p, a, b in truth:
        by_path.setdefault(p, []).append((kind, name, int(a), int(b)))
    planted = [(name, p, int(a)) for kind, name, p, a, b in truth if kind == "secret"]
    per_rule = {}
    for name, _, _ in planted:
        per_rule[name] = per_rule.get(name, 0) + 1
    rows, misses = [], {}
    for spec in reports:
        tool, report = spec.split("=", 1)
        found, fps, fp_kinds, fp_rules = set(), set(), {}, {}
        for p, a, b, rule in tool_findings(tool, report):
            hit = False
            kinds = []
            for kind, name, s, e in by_path.get(p, []):
                if a <= e and s <= b:
                    if kind == "secret":
                        found.add((name, p, s))
                        hit = True
                    else:
                        kinds.append(name.split(":")[0])
            if not hit and (p, a) not in fps:
                fps.add((p, a))
                k = kinds[0] if kinds else "filler"
                fp_kinds[k] = fp_kinds.get(k, 0) + 1
                fp_rules[rule] = fp_rules.get(rule, 0) + 1
        missed = {}
        for name, p, a in planted:
            if (name, p, a) not in found:
                missed[name] = missed.get(name, 0) + 1
        misses[tool] = missed
        rows.append((tool, len(found), len(planted), len(fps), fp_kinds, fp_rules))
    print("| tool | recall | planted found | false positives | false positives by decoy kind | noisiest rules |")
    print("|---|---|---|---|---|---|")
    for tool, f, n, fp, kinds, rules in rows:
        k = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items(), key=lambda x: -x[1]))
        r = ", ".join(f"{k} {v}" for k, v in sorted(rules.items(), key=lambda x: -x[1])[:4])
        print(f"| {tool} | {100 * f / n:.1f}% | {f}/{n} | {fp} | {k} | {r} |")
    print()
    print("| tool | rules with every planted secret found | rules partly missed | rules wholly missed |")
    print("|---|---|---|---|")
    for tool, missed in misses.items():
        whole = sum(1 for r, n in per_rule.items() if missed.get(r, 0) == n)
        part = sum(1 for r, n in per_rule.items() if 0 < missed.get(r, 0) < n)
        print(f"| {tool} | {len(per_rule) - whole - part} of {len(per_rule)} | {part} | {whole} |")
    print()
    print("| moat rule | planted | " + " | ".join(f"{t} missed" for t in misses) + " |")
    print("|---|---|" + "---|" * len(misses))
    for rule in sorted(per_rule):
        cells = [misses[t].get(rule, 0) for t in misses]
        print(f"| {rule} | {per_rule[rule]} | " + " | ".join(str(c) for c in cells) + " |")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "score":
        # gen-secret-corpus.py score OUT TOOL=REPORT...  (moat, trivy, detect-secrets,
        # trufflehog3, kingfisher, betterleaks): recall, false positives, per-rule misses.
        score(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) > 1 and sys.argv[1] == "compare":
        # gen-secret-corpus.py compare ROOT LABEL=REPORT...  (LABEL: a tool name, then
        # optionally `:something`): each report's file:line findings under ROOT against the
        # first one's.
        compare(sys.argv[2], sys.argv[3:])
    else:
        main()

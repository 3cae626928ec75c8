#!/usr/bin/env python3
"""Writes directory targets holding one OS package database of N records each, for
bench/inventory-scale.sh: OUT/dpkg-N (etc/os-release of Debian 12, var/lib/dpkg/status) and
OUT/apk-N (etc/os-release of Alpine 3.19, lib/apk/db/installed with one owned file per
package), OUT/sbom-N.cdx.json / OUT/sbom-N.spdx.json (N npm components with purls,
licences and one dependency each), and OUT/npm-N/package-lock.json (a lockfile v3 of
min(N, 100,000) entries, the most moat keeps of one lockfile, with integrity, licence and one
dependency each). Records look like real ones (maintainer, source package, depends, sizes),
with unique names.
    gen-inventory.py OUT N
"""
import json
import os
import sys

out, n = sys.argv[1], int(sys.argv[2])


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


root = os.path.join(out, f"dpkg-{n}")
write(os.path.join(root, "etc/os-release"),
      'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'
      'VERSION_CODENAME=bookworm\n')
os.makedirs(os.path.join(root, "var/lib/dpkg"), exist_ok=True)
with open(os.path.join(root, "var/lib/dpkg/status"), "w") as f:
    for i in range(n):
        f.write(
            f"Package: pkg{i:07d}\nStatus: install ok installed\nPriority: optional\n"
            f"Section: libs\nInstalled-Size: {100 + i % 900}\n"
            f"Maintainer: Debian Library Team <debian-lib@lists.debian.org>\n"
            f"Architecture: amd64\nMulti-Arch: same\nSource: src{i // 4:07d} ({i % 7}.{i % 13}.{i % 5}-{1 + i % 3})\n"
            f"Version: {i % 7}.{i % 13}.{i % 5}-{1 + i % 3}+deb12u1\n"
            f"Depends: libc6 (>= 2.36), pkg{(i * 7) % n:07d}\n"
            f"Description: generated library number {i}\n"
            f" A package of the inventory-scale benchmark.\n\n")

root = os.path.join(out, f"apk-{n}")
write(os.path.join(root, "etc/os-release"),
      'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\n'
      'PRETTY_NAME="Alpine Linux v3.19"\n')
os.makedirs(os.path.join(root, "lib/apk/db"), exist_ok=True)
with open(os.path.join(root, "lib/apk/db/installed"), "w") as f:
    for i in range(n):
        f.write(
            f"C:Q1{i:027d}=\nP:pkg{i:07d}\nV:{i % 7}.{i % 13}.{i % 5}-r{i % 3}\nA:x86_64\n"
            f"S:{2000 + i % 5000}\nI:{8000 + i % 9000}\nT:generated library number {i}\n"
            f"U:https://example.org/pkg{i:07d}\nL:MIT\no:src{i // 4:07d}\n"
            f"m:Alpine Maintainers <maint@example.org>\nt:1700000000\nc:{i:040x}\n"
            f"D:so:libc.musl-x86_64.so.1 pkg{(i * 7) % n:07d}\n"
            f"p:so:libpkg{i}.so.1=1\nF:usr/lib\nR:libpkg{i}.so.1\nZ:Q1{i:027d}=\n\n")

# SBOM documents of N components (npm packages with purls), CycloneDX 1.5 and SPDX 2.3.
with open(os.path.join(out, f"sbom-{n}.cdx.json"), "w") as f:
    f.write('{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,'
            '"metadata":{"component":{"type":"application","name":"app","bom-ref":"app"}},'
            '"components":[')
    for i in range(n):
        f.write(("," if i else "") +
                f'{{"type":"library","bom-ref":"pkg:npm/p{i:07d}@1.{i % 10}.0","name":"p{i:07d}",'
                f'"version":"1.{i % 10}.0","purl":"pkg:npm/p{i:07d}@1.{i % 10}.0",'
                f'"licenses":[{{"license":{{"id":"MIT"}}}}]}}')
    f.write('],"dependencies":[')
    for i in range(n):
        f.write(("," if i else "") +
                f'{{"ref":"pkg:npm/p{i:07d}@1.{i % 10}.0","dependsOn":["pkg:npm/p{(i * 7) % n:07d}@1.{(i * 7) % n % 10}.0"]}}')
    f.write(']}')
with open(os.path.join(out, f"sbom-{n}.spdx.json"), "w") as f:
    f.write('{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT",'
            '"name":"app","documentNamespace":"https://example.org/app",'
            '"creationInfo":{"created":"2024-01-01T00:00:00Z","creators":["Tool: gen"]},'
            '"packages":[')
    for i in range(n):
        f.write(("," if i else "") +
                f'{{"SPDXID":"SPDXRef-p{i}","name":"p{i:07d}","versionInfo":"1.{i % 10}.0",'
                f'"downloadLocation":"NOASSERTION","licenseConcluded":"MIT",'
                f'"externalRefs":[{{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl",'
                f'"referenceLocator":"pkg:npm/p{i:07d}@1.{i % 10}.0"}}]}}')
    f.write('],"relationships":[')
    for i in range(n):
        f.write(("," if i else "") +
                f'{{"spdxElementId":"SPDXRef-p{i}","relationshipType":"DEPENDS_ON",'
                f'"relatedSpdxElement":"SPDXRef-p{(i * 7) % n}"}}')
    f.write(']}')

# A package-lock.json v3 of min(N, 100,000) entries (moat keeps at most 100,000 per file).
m = min(n, 100000)
packages = {"": {"name": "app", "version": "1.0.0"}}
for i in range(m):
    packages[f"node_modules/p{i:07d}"] = {
        "version": f"1.{i % 10}.0",
        "resolved": f"https://registry.npmjs.org/p{i:07d}/-/p{i:07d}-1.{i % 10}.0.tgz",
        "integrity": "sha512-" + "A" * 86 + "==",
        "license": "MIT",
        "dependencies": {f"p{(i * 7) % m:07d}": "^1.0.0"},
    }
write(os.path.join(out, f"npm-{n}", "package-lock.json"),
      json.dumps({"name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": True,
                  "packages": packages}))

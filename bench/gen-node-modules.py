#!/usr/bin/env python3
"""Writes a node project with N installed packages: DIR/package.json, DIR/package-lock.json
(lockfileVersion 3) and DIR/node_modules/<name>/package.json, a tenth of them nested one level
(node_modules/<parent>/node_modules/<name>). Deterministic. Usage: gen-node-modules.py DIR N"""
import json, os, sys

root, n = sys.argv[1], int(sys.argv[2])
os.makedirs(root, exist_ok=True)
packages = {"": {"name": "bench-tree", "version": "1.0.0", "dependencies": {}}}
for i in range(n):
    name = f"pkg-{i:05d}"
    version = f"{i % 7}.{i % 13}.{i % 5}"
    rel = f"node_modules/{name}" if i % 10 else f"node_modules/pkg-{i + 1:05d}/node_modules/{name}"
    d = os.path.join(root, rel)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "package.json"), "w") as f:
        json.dump({"name": name, "version": version, "license": "MIT",
                   "dependencies": {f"pkg-{(i * 7) % n:05d}": "*"}}, f)
    packages[rel] = {"version": version, "license": "MIT"}
    if i % 10:
        packages[""]["dependencies"][name] = version
with open(os.path.join(root, "package.json"), "w") as f:
    json.dump({"name": "bench-tree", "version": "1.0.0", "dependencies": packages[""]["dependencies"]}, f)
with open(os.path.join(root, "package-lock.json"), "w") as f:
    json.dump({"name": "bench-tree", "version": "1.0.0", "lockfileVersion": 3, "requires": True,
               "packages": packages}, f)
print(f"wrote {n} packages under {root}")

#!/usr/bin/env python3
"""Builds examples/debian-mini.oci, the small image the README's first command scans.

Its files are real: the dpkg status stanzas, file lists, copyright files and os-release
come from a Debian 12 root filesystem (the debian-tools image of ../shared/images, unpacked
with `umoci unpack`). Two gzip layers, an OCI image layout with one manifest:
  layer 0 "debootstrap (subset)":  os-release (+ /etc symlink), 6 packages
  layer 1 "RUN apt-get install curl openssl ca-certificates && apt-get purge libexpat1":
          adds 5 packages, removes libexpat1 (its list file is whited out)
Usage: make-example.py ROOTFS OUTDIR   (deterministic: fixed mtimes, sorted entries)
"""
import gzip, hashlib, io, json, os, sys, tarfile

ROOT, OUT = sys.argv[1], sys.argv[2]
L0 = ["base-files", "bash", "libc6", "zlib1g", "libexpat1", "libncursesw6"]
L1_ADD = ["curl", "libcurl4", "openssl", "libssl3", "ca-certificates"]
L1_DEL = ["libexpat1"]

def stanzas():
    text = open(os.path.join(ROOT, "var/lib/dpkg/status"), encoding="utf-8").read()
    out = {}
    for s in text.strip().split("\n\n"):
        name = next(l.split(": ", 1)[1] for l in s.splitlines() if l.startswith("Package: "))
        out[name] = s
    return out

ST = stanzas()

def read(p):
    return open(os.path.join(ROOT, p), "rb").read()

def list_name(pkg):
    for cand in (f"{pkg}:amd64.list", f"{pkg}.list"):
        if os.path.exists(os.path.join(ROOT, "var/lib/dpkg/info", cand)):
            return cand
    raise SystemExit(f"no list file for {pkg}")

def tar_layer(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, data in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1700000000
            ti.uid = ti.gid = 0
            if kind == "dir":
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                t.addfile(ti)
            elif kind == "sym":
                ti.type, ti.linkname, ti.mode = tarfile.SYMTYPE, data, 0o777
                t.addfile(ti)
            else:
                ti.size, ti.mode = len(data), 0o644
                t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()

def pkg_files(pkgs):
    e = []
    for p in pkgs:
        e.append((f"var/lib/dpkg/info/{list_name(p)}", "file", read(f"var/lib/dpkg/info/{list_name(p)}")))
        doc = os.path.join(ROOT, "usr/share/doc", p)
        if os.path.islink(doc):  # e.g. libgcc-s1 -> gcc-12-base: keep the link and its target's copyright
            target = os.readlink(doc)
            e.append((f"usr/share/doc/{p}", "sym", target))
            e.append((f"usr/share/doc/{target}/copyright", "file", read(f"usr/share/doc/{target}/copyright")))
        else:
            e.append((f"usr/share/doc/{p}/copyright", "file", read(f"usr/share/doc/{p}/copyright")))
    return e

def status(pkgs):
    return ("\n\n".join(ST[p] for p in pkgs) + "\n").encode()

layer0 = [("etc/os-release", "sym", "../usr/lib/os-release"),
          ("usr/lib/os-release", "file", read("usr/lib/os-release")),
          ("var/lib/dpkg/status", "file", status(L0))] + pkg_files(L0)
final = [p for p in L0 if p not in L1_DEL] + L1_ADD
layer1 = [("var/lib/dpkg/status", "file", status(final))] + pkg_files(L1_ADD)
for p in L1_DEL:
    layer1.append((f"var/lib/dpkg/info/.wh.{list_name(p)}", "file", b""))
    layer1.append((f"usr/share/doc/.wh.{p}", "file", b""))

def sorted_with_dirs(entries):
    dirs = set()
    for name, _, _ in entries:
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:i]))
    return [(d, "dir", None) for d in sorted(dirs)] + sorted(entries, key=lambda x: x[0])

blobs = {}
def put(data):
    d = hashlib.sha256(data).hexdigest()
    blobs[d] = data
    return "sha256:" + d

layers, diff_ids = [], []
for entries in (layer0, layer1):
    raw = tar_layer(sorted_with_dirs(entries))
    diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
    gz = gzip.compress(raw, mtime=0)
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": put(gz), "size": len(gz)})

config = {
    "created": "2026-11-01T00:00:00Z", "architecture": "amd64", "os": "linux",
    "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["/bin/bash"]},
    "rootfs": {"type": "layers", "diff_ids": diff_ids},
    "history": [
        {"created": "2026-11-01T00:00:00Z", "created_by": "debootstrap --variant=minbase bookworm (subset)"},
        {"created": "2026-11-01T00:00:00Z", "created_by": "RUN apt-get install -y curl openssl ca-certificates && apt-get purge -y libexpat1"},
        {"created": "2026-11-01T00:00:00Z", "created_by": "CMD [\"/bin/bash\"]", "empty_layer": True},
    ],
}
cfg = json.dumps(config, indent=2, sort_keys=True).encode()
manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(cfg), "size": len(cfg)},
            "layers": layers}
man = json.dumps(manifest, indent=2).encode()
index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
         "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": put(man), "size": len(man),
                        "platform": {"architecture": "amd64", "os": "linux"},
                        "annotations": {"org.opencontainers.image.ref.name": "example/debian-mini:latest"}}]}
os.makedirs(os.path.join(OUT, "blobs/sha256"), exist_ok=True)
for d, data in blobs.items():
    open(os.path.join(OUT, "blobs/sha256", d), "wb").write(data)
open(os.path.join(OUT, "oci-layout"), "w").write('{"imageLayoutVersion": "1.0.0"}\n')
open(os.path.join(OUT, "index.json"), "w").write(json.dumps(index, indent=2) + "\n")
print(f"wrote {OUT}: {len(blobs)} blobs, {sum(len(b) for b in blobs.values())} bytes")

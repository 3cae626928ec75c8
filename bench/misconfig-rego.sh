#!/usr/bin/env bash
# Users' Rego policies: the example policies (examples/policies, Trivy's custom-check style)
# over every Dockerfile of ../shared/corpus/dockerfiles, with `moat config --policy` and
# `trivy-offline config --config-check --namespaces user` (cold processes). Prints
#   1. agreement: (check id, file, line) of every finding of the `user` checks, in both
#      tools, over the corpus and over examples/policies/testdata (Compose excluded:
#      Trivy gives custom checks no Compose input);
#   2. BENCHMARKS.md rows: median of RUNS runs, wall and CPU (user + system) and peak RSS,
#      moat's speed-up. moat's number includes its built-in rules; Trivy's its built-in
#      checks too (both tools run everything by default).
#   bench/misconfig-rego.sh
#   RUNS=5 MOAT=/path/to/moat bench/misconfig-rego.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PEERS=${MOAT_PEERS:-/var/tmp/moat-peers}/bin
RUNS=${RUNS:-3}
CORPUS=$(cd ../shared/corpus/dockerfiles && pwd)
POL=$PWD/examples/policies
if [ -z "${MOAT:-}" ]; then
  cargo build --release --locked -q --workspace
  MOAT=${CARGO_TARGET_DIR:-$PWD/target}/release/moat
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
source bench/lib.sh
N=$(find "$CORPUS" -type f \( -name Dockerfile -o -name 'Dockerfile.*' -o -name '*.Dockerfile' \
  -o -name '*.dockerfile' -o -name Containerfile \) | wc -l)

agree() { # DIR NAME
  "$MOAT" config -q -f json --policy "$POL" -o "$tmp/m.json" "$1" || [ $? -le 1 ]
  "$PEERS/trivy-offline" config -q -f json --config-check "$POL" --namespaces user "$1" > "$tmp/t.json"
  python3 - "$tmp/m.json" "$tmp/t.json" "$1" "$2" <<'PY'
import json, sys, os
m, t, root, name = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3], sys.argv[4]
def rel(p): return os.path.relpath(p, root) if os.path.isabs(p) else p
ours = set()
for f in m.get("findings", []):
    if "rego" in f.get("tags", []) and not f["id"].startswith("USR-COMPOSE"):
        ours.add((f["id"], rel(f["location"]["path"]), (f["location"].get("span") or {}).get("start_line", 0)))
theirs = set()
for r in t.get("Results") or []:
    for x in r.get("Misconfigurations") or []:
        if x.get("Namespace", "").startswith("user."):
            theirs.add((x["ID"], r["Target"], x["CauseMetadata"].get("StartLine") or 0))
both = ours & theirs
print(f"{name}: moat {len(ours)}, trivy {len(theirs)}, both {len(both)}, "
      f"agreement {100 * len(both) / max(len(ours | theirs), 1):.1f}%")
for x in sorted(ours - theirs)[:20]: print("  only moat: ", x)
for x in sorted(theirs - ours)[:20]: print("  only trivy:", x)
PY
}

echo "== agreement (user checks of examples/policies)"
agree "$POL/testdata" "examples/policies/testdata"
agree "$CORPUS" "corpus/dockerfiles ($N Dockerfiles)"

read -r mw mk mc < <(measure "$MOAT" config -q -f json -o "$tmp/moat.json" --policy "$POL" "$CORPUS")
read -r bw bk bc < <(measure "$MOAT" config -q -f json -o "$tmp/moat.json" "$CORPUS")
read -r tw tk tc < <(measure "$PEERS/trivy-offline" config -q --format json --config-check "$POL" --namespaces user "$CORPUS")

echo
echo "Dockerfiles: $N; runs: $RUNS (median); $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
echo
echo "| tool | wall | CPU | peak RSS | wall per Dockerfile | moat faster (wall / CPU) |"
echo "|---|---|---|---|---|---|"
python3 - "$N" "$mw" "$mk" "$mc" "moat config --policy" "$bw" "$bk" "$bc" "moat config (no policies)" \
  "$tw" "$tk" "$tc" "trivy config --config-check" <<'PY'
import sys
n = int(sys.argv[1]); v = sys.argv[2:]
mw, mc = float(v[0]), float(v[2])
for i in range(0, len(v), 4):
    w, k, c, name = float(v[i]), int(v[i+1]), float(v[i+2]), v[i+3]
    ratio = f"{w/mw:.0f}x / {c/max(mc, 0.001):.0f}x" if name.startswith("trivy") else "—"
    print(f"| {name} | {w:.2f} s | {c:.2f} s | {k/1024:.0f} MiB | {1000*w/n:.1f} ms | {ratio} |")
PY

#!/usr/bin/env bash
# Compares `moat sbom` with syft and trivy (offline) on the shared images, cold, three runs
# each, and writes the median wall time and peak RSS, with ratios, to BENCHMARKS.md.
#   bench/run.sh            # all four images
#   RUNS=5 bench/run.sh lang-app
# Needs ../shared/images/build-all.sh and ../shared/peers/setup.sh (run here if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGES_DIR=${MOAT_IMAGES:-/var/tmp/moat-images}/out
PEERS=${MOAT_PEERS:-/var/tmp/moat-peers}/bin
RUNS=${RUNS:-3}
images=("$@"); [ ${#images[@]} -gt 0 ] || images=(debian-base debian-tools lang-app secrets-leak)
bash ../shared/images/build-all.sh >/dev/null
bash ../shared/peers/setup.sh >/dev/null
cargo build --release --locked -q
MOAT=${CARGO_TARGET_DIR:-$PWD/target}/release/moat
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# measure NAME CMD...: runs CMD $RUNS times, prints "median_seconds median_peak_kib"
measure() {
  local i out
  : > "$tmp/m"
  for ((i = 0; i < RUNS; i++)); do
    /usr/bin/time -f '%e %M' -o "$tmp/t" "$@" > /dev/null 2> "$tmp/err" || { echo "failed: $*" >&2; cat "$tmp/err" >&2; return 1; }
    cat "$tmp/t" >> "$tmp/m"
  done
  python3 - "$tmp/m" <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
print(statistics.median(float(r[0]) for r in rows), int(statistics.median(int(r[1]) for r in rows)))
PY
}

rows=()
for img in "${images[@]}"; do
  d=$IMAGES_DIR/$img
  # Trivy reads docker-archive and OCI layout; it cannot read an oci-archive, so moat's
  # oci-archive time is compared with Trivy's on the OCI layout.
  for fmt in docker-archive oci oci-archive; do
    case $fmt in
      docker-archive) in=$d.docker.tar; trivy_in=$d.docker.tar; syft_t=docker-archive:$in ;;
      oci) in=$d.oci; trivy_in=$d.oci; syft_t=oci-dir:$in ;;
      oci-archive) in=$d.oci.tar; trivy_in=$d.oci; syft_t=oci-archive:$in ;;
    esac
    read -r mt mm < <(measure "$MOAT" sbom "$fmt:$in" --format cyclonedx --quiet)
    read -r tt tm < <(measure "$PEERS/trivy-offline" image --input "$trivy_in" --format cyclonedx \
      --cache-backend memory --skip-db-update --offline-scan -q)
    read -r st sm < <(measure "$PEERS/syft" scan "$syft_t" -o cyclonedx-json -q)
    rows+=("$(python3 -c "
mt,mm,tt,tm,st,sm=$mt,$mm,$tt,$tm,$st,$sm
print(f'| $img | $fmt | {mt:.3f} s / {mm/1024:.0f} MiB | {tt:.3f} s / {tm/1024:.0f} MiB | {st:.3f} s / {sm/1024:.0f} MiB | {mt/tt:.2f} / {mm/tm:.2f} | {mt/st:.2f} / {mm/sm:.2f} |')")")
    echo "${rows[-1]}"
  done
done

# Language ecosystems: a large project tree (every shared fixture plus a generated node_modules
# tree of 20,000 packages), and lang-app's docker-archive.
fs=$(bench/tree.sh)
drows=()
for case in tree lang-app; do
  case $case in
    tree) m=(dir:"$fs"); t=(fs "$fs"); s=(dir:"$fs"); label="fixtures + 20,000 node_modules" ;;
    lang-app) m=(docker-archive:"$IMAGES_DIR/lang-app.docker.tar"); t=(image --input "$IMAGES_DIR/lang-app.docker.tar");
              s=(docker-archive:"$IMAGES_DIR/lang-app.docker.tar"); label="lang-app (docker-archive)" ;;
  esac
  read -r mt mm < <(measure "$MOAT" sbom "${m[@]}" --format cyclonedx --quiet)
  read -r tt tm < <(measure "$PEERS/trivy-offline" "${t[@]}" --format cyclonedx --cache-backend memory \
    --skip-db-update --offline-scan -q)
  read -r st sm < <(measure "$PEERS/syft" scan "${s[@]}" -o cyclonedx-json -q)
  drows+=("$(python3 -c "
mt,mm,tt,tm,st,sm=$mt,$mm,$tt,$tm,$st,$sm
print(f'| $label | {mt:.3f} s / {mm/1024:.0f} MiB | {tt:.3f} s / {tm/1024:.0f} MiB | {st:.3f} s / {sm/1024:.0f} MiB | {mt/tt:.2f} / {mm/tm:.2f} | {mt/st:.2f} / {mm/sm:.2f} |')")")
  echo "${drows[-1]}"
done

# Vulnerabilities: import throughput, matching throughput, full scans.
db="$tmp/moat.db"
cat > "$tmp/import.sh" <<EOS
#!/bin/sh
rm -f "$db"
exec "$MOAT" db import --db "$db" ../shared/data/vulns
EOS
chmod +x "$tmp/import.sh"
read -r it im < <(measure "$tmp/import.sh")
records=$("$MOAT" db status --db "$db" | awk '/^records:/{print $2}')
vrows=()
vrows+=("$(python3 -c "print(f'| import all of ../shared/data/vulns ($records records) | {$it:.3f} s / {$im/1024:.0f} MiB | {$records/$it:,.0f} records/s |')")")
"$MOAT" sbom dir:"$fs" --format cyclonedx --quiet -o "$tmp/tree.cdx.json"
npk=$(python3 -c "import json;print(len(json.load(open('$tmp/tree.cdx.json')).get('components',[])))")
read -r mt2 mm2 < <(measure "$MOAT" scan "$tmp/tree.cdx.json" --db "$db" --offline --quiet -o /dev/null)
vrows+=("$(python3 -c "print(f'| match an SBOM of {$npk} packages (the tree above) | {$mt2:.3f} s / {$mm2/1024:.0f} MiB | {$npk/$mt2:,.0f} packages/s |')")")
srows=()
for img in "${images[@]}"; do
  read -r st2 sm2 < <(measure "$MOAT" scan docker-archive:"$IMAGES_DIR/$img.docker.tar" --db "$db" --offline --quiet -o /dev/null)
  read -r tt2 tm2 < <(measure "$PEERS/trivy-offline" image --input "$IMAGES_DIR/$img.docker.tar" --format cyclonedx \
    --cache-backend memory --skip-db-update --offline-scan -q)
  srows+=("$(python3 -c "print(f'| $img | {$st2:.3f} s / {$sm2/1024:.0f} MiB | {$tt2:.3f} s / {$tm2/1024:.0f} MiB | {$st2/$tt2:.2f} / {$sm2/$tm2:.2f} |')")")
  echo "${srows[-1]}"
done

OUT=$(mktemp)
{
  echo "# Benchmarks"
  echo
  echo "The sections from here to \"Scanning an image\" are generated by \`bench/run.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB)."
  echo "Each cell: median of $RUNS cold runs, wall time / peak RSS. Ratio columns are moat / peer"
  echo "(time / memory; below 1 means moat is faster or smaller). moat: \`moat sbom FORMAT:PATH --format cyclonedx\`"
  echo "(no cache exists); trivy $("$PEERS/trivy" --version | awk 'NR==1{print $2}'): \`trivy image --input PATH --format cyclonedx"
  echo "--cache-backend memory\` (offline; on the OCI layout for the oci-archive rows, as trivy cannot"
  echo "read an oci-archive); syft $("$PEERS/syft" version | awk '/^Version/{print $2}'): \`syft scan FORMAT:PATH -o cyclonedx-json\`."
  echo
  echo "All three tools catalogue OS and language packages; trivy's image scan also runs its secret"
  echo "scanner by default (it cannot be turned off without a vulnerability database here)."
  echo
  echo "## SBOM of an image (\`moat sbom\`)"
  echo
  echo "| image | format | moat | trivy | syft | moat/trivy | moat/syft |"
  echo "|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "## Language ecosystems (\`moat sbom\` of a project tree and of lang-app)"
  echo
  echo "The tree is every file of \`../shared/data/fixtures\` plus \`bench/gen-node-modules.py\`'s"
  echo "node_modules of 20,000 packages; trivy runs \`trivy fs\` on it, syft \`syft scan dir:\`."
  echo
  echo "| input | moat | trivy | syft | moat/trivy | moat/syft |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${drows[@]}"
  echo
  echo "## Vulnerabilities (\`moat db import\`, \`moat scan\`)"
  echo
  echo "| job | moat | throughput |"
  echo "|---|---|---|"
  printf '%s\n' "${vrows[@]}"
  echo
  echo "## Scanning an image (\`moat scan\`)"
  echo
  echo "A full \`moat scan\` of each image (docker-archive) with the whole imported database, next to"
  echo "trivy's cold SBOM-only time on the same image (trivy cannot scan for vulnerabilities here"
  echo "without its own database, which cannot be downloaded)."
  echo
  echo "| image | moat scan | trivy SBOM only | moat/trivy (time / memory) |"
  echo "|---|---|---|---|"
  printf '%s\n' "${srows[@]}"
} > "$OUT"
# Replace only the sections this script writes (the preamble and each "## " section it
# generates, matched by heading); the sections other bench scripts keep stay where they are.
python3 - "$OUT" BENCHMARKS.md <<'PY'
import sys

def sections(text):
    """(heading or None for the preamble, its lines) in order."""
    out = [(None, [])]
    for line in text.split("\n"):
        if line.startswith("## "):
            out.append((line, []))
        out[-1][1].append(line)
    return out

new = sections(open(sys.argv[1]).read())
try:
    old = sections(open(sys.argv[2]).read())
except FileNotFoundError:
    old = [(None, [])]
generated = dict(new)
merged = [generated.get(head, body) for head, body in old]
merged += [body for head, body in new if head not in dict(old)]
text = "\n\n".join("\n".join(b).strip("\n") for b in merged if "".join(b).strip())
open(sys.argv[2], "w").write(text + "\n")
PY
rm -f "$OUT"
echo "updated bench/run.sh's sections of BENCHMARKS.md"

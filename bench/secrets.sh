#!/usr/bin/env bash
# The secret scanner side by side with the peers: `moat scan --scanners secret` against
# `trivy image|fs --scanners secret` on each shared image (docker-archive and OCI layout), and
# against trivy and betterleaks (the fastest secret scanner among the peers) on the language
# benchmark tree (bench/tree.sh). Median of RUNS cold runs, wall time / CPU time (user +
# system) / peak RSS; prints BENCHMARKS.md rows with moat/peer ratios (wall / CPU / memory;
# below 1: moat faster or smaller), and the load average (the machine may be shared).
# Then the generated corpus (bench/gen-secret-corpus.py, seeded): every peer (trivy,
# betterleaks, kingfisher --no-validate, trufflehog3, detect-secrets) scored against the
# ground truth (recall, false positives, misses per rule), and timed on the corpus and on
# the tree: wall, CPU (user + system: the fair number when the machine is shared), MB/s.
#   bench/secrets.sh
#   RUNS=5 IMAGES="secrets-leak" NOTREE=1 NOCORPUS=1 bench/secrets.sh
#   MOAT=/path/to/moat NOBUILD=1 bench/secrets.sh     (another binary, e.g. main's)
#   IMAGES= NOTREE=1 TOOLS="moat betterleaks kingfisher" bench/secrets.sh   (some peers only)
#   IMAGES= NOCORPUS=1 TREE_TOOLS="moat-skip betterleaks" bench/secrets.sh  (the tree like for like)
#   WARM=1 IMAGES=secrets-leak NOTREE=1 NOCORPUS=1 bench/secrets.sh  (also second scans, caches warm)
#   FLOOR=1 IMAGES=secrets-leak NOTREE=1 NOCORPUS=1 bench/secrets.sh (also moat reading and
#     verifying each image with no secret analysis, against the same trivy run)
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGES_DIR=${MOAT_IMAGES:-/var/tmp/moat-images}/out
PEERS=${MOAT_PEERS:-/var/tmp/moat-peers}/bin
RUNS=${RUNS:-3}
bash ../shared/images/build-all.sh >/dev/null
bash ../shared/peers/setup.sh >/dev/null
[ -n "${NOBUILD:-}" ] || cargo build --release --locked -q
MOAT=${MOAT:-${CARGO_TARGET_DIR:-$PWD/target}/release/moat}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
source bench/lib.sh
export HOME=$tmp/home; mkdir -p "$HOME"

# row LABEL MOAT_S MOAT_KIB MOAT_CPU PEER_S PEER_KIB PEER_CPU [PEER2_S PEER2_KIB PEER2_CPU]
row() {
  python3 - "$@" <<'PY'
import sys
lab, *v = sys.argv[1:]
v = [float(x) for x in v]
cell = lambda t, m, c: f"{t:.2f} s / {c:.2f} s / {m/1024:.0f} MiB"
ratio = lambda a, b: f" {a[0]/b[0]:.2f} / {a[2]/max(b[2], 0.005):.2f} / {a[1]/b[1]:.2f} |"
moat, peer, peer2 = v[0:3], v[3:6], v[6:9]
s = f"| {lab} | {cell(*moat)} | {cell(*peer)} |"
s += f" {cell(*peer2)} |" if peer2 else " |"
s += ratio(moat, peer)
s += ratio(moat, peer2) if peer2 else " |"
print(s)
PY
}

echo "| input (wall / CPU / peak RSS) | moat | trivy | betterleaks | moat/trivy | moat/betterleaks |"
echo "|---|---|---|---|---|---|"
for img in ${IMAGES-debian-base debian-tools lang-app secrets-leak}; do
  for fmt in docker-archive oci; do
    case $fmt in docker-archive) in=$IMAGES_DIR/$img.docker.tar ;; oci) in=$IMAGES_DIR/$img.oci ;; esac
    # --cache off: every run reads every layer, as trivy's memory cache backend does
    read -r mt mm mc < <(measure "$MOAT" scan "$fmt:$in" --scanners secret --format json --quiet --cache off)
    read -r tt tm tc < <(measure "$PEERS/trivy-offline" image --input "$in" --scanners secret --format json \
      --cache-backend memory --skip-db-update --offline-scan -q)
    row "$img ($fmt)" "$mt" "$mm" "$mc" "$tt" "$tm" "$tc"
    if [ -n "${FLOOR:-}" ]; then
      # the same image read and verified with no secret analysis (the misconfig scanner
      # only opens Dockerfiles and manifests): what the secret engine cannot go below
      read -r ft fm fc < <(measure "$MOAT" scan "$fmt:$in" --scanners misconfig --format json --quiet --cache off)
      row "$img ($fmt), moat reading and verifying only" "$ft" "$fm" "$fc" "$tt" "$tm" "$tc"
    fi
  done
done
# WARM=1: a second scan of each docker-archive, moat's layer cache and trivy's fs cache warm
if [ -n "${WARM:-}" ]; then
  for img in ${IMAGES-debian-base debian-tools lang-app secrets-leak}; do
    in=$IMAGES_DIR/$img.docker.tar
    moat_warm() { "$MOAT" scan "docker-archive:$in" --scanners secret --format json --quiet; }
    trivy_warm() { "$PEERS/trivy-offline" image --input "$in" --scanners secret --format json \
      --cache-dir "$tmp/trivy-cache" --skip-db-update --offline-scan -q; }
    moat_warm > /dev/null || ok_status $?; trivy_warm > /dev/null || ok_status $?
    read -r mt mm mc < <(measure "$MOAT" scan "docker-archive:$in" --scanners secret --format json --quiet)
    read -r tt tm tc < <(measure "$PEERS/trivy-offline" image --input "$in" --scanners secret --format json \
      --cache-dir "$tmp/trivy-cache" --skip-db-update --offline-scan -q)
    row "$img (docker-archive, second scan, caches warm)" "$mt" "$mm" "$mc" "$tt" "$tm" "$tc"
  done
fi
if [ -z "${NOTREE:-}" ]; then
  fs=$(bench/tree.sh)
  n=$(find "$fs" -type f | wc -l)
  read -r mt mm mc < <(measure "$MOAT" scan "dir:$fs" --scanners secret --format json --quiet)
  read -r tt tm tc < <(measure "$PEERS/trivy-offline" fs --scanners secret --format json \
    --cache-backend memory --skip-db-update --offline-scan -q "$fs")
  read -r bt bm bc < <(measure "$PEERS/betterleaks" --no-banner -l error --max-archive-depth 0 -o - "$fs")
  row "the bench tree ($n files; moat reads all, betterleaks skips node_modules)" "$mt" "$mm" "$mc" "$tt" "$tm" "$tc" "$bt" "$bm" "$bc"

  # The tree like for like. betterleaks' default allowlist (its config/generate/base) skips
  # node_modules, bower_components, vendored Go/Ruby trees, virtualenvs and site-packages,
  # *.dist-info, .git, lockfiles, go.mod/go.sum, Gradle/Maven wrappers, images, fonts and
  # office documents; moat-skip leaves out the same paths with --skip-dirs/--skip-files, and
  # kingfisher-skip with --exclude. Each run's files opened (strace: successful open/openat
  # calls of regular files under the tree, or relative to a directory held open), then the
  # findings (file:line) against moat-skip's.
  bl_dirs='**/{node_modules,bower_components,.git,*.dist-info},**/vendor/{bundle,ruby,github.com,golang.org/x,google.golang.org,gopkg.in,istio.io,k8s.io,sigs.k8s.io},**/{venv,env,virtualenv}/{lib,lib64},**/{lib,lib64}/python{2,3}.*'
  bl_files='**/*.{bmp,gif,jpg,jpeg,png,svg,tif,tiff,eot,ttf,otf,woff,woff2,doc,docx,xls,xlsx,pdf,bin,socket,exe,dll,pdb,gem},**/{go.mod,go.sum,go.work,go.work.sum,deno.lock,npm-shrinkwrap.json,package-lock.json,pnpm-lock.yaml,yarn.lock,Pipfile.lock,poetry.lock,gradlew,gradlew.bat,mvnw,mvnw.cmd,gradle.lockfile,verification-metadata.xml,javascript.json}'
  tree_cmd() {
    local tool=$1 out=$2
    case $tool in
      moat) "$MOAT" scan "dir:$fs" --scanners secret --format json --quiet -o "$out" ;;
      moat-skip) "$MOAT" scan "dir:$fs" --scanners secret --format json --quiet -o "$out" \
                   --skip-dirs "$bl_dirs" --skip-files "$bl_files" ;;
      betterleaks) "$PEERS/betterleaks" --no-banner -l error --max-archive-depth 0 -o "$out" "$fs" > /dev/null ;;
      kingfisher) "$PEERS/kingfisher" scan "$fs" --no-validate --no-update-check --format json > "$out" 2>/dev/null ;;
      kingfisher-skip) "$PEERS/kingfisher" scan "$fs" --no-validate --no-update-check --format json \
                         --exclude '**/node_modules' --exclude '**/node_modules/**' > "$out" 2>/dev/null ;;
    esac
  }
  export -f tree_cmd ok_status; export MOAT PEERS fs bl_dirs bl_files
  # opened TOOL: files the run opened
  opened() {
    strace -f -qq -e trace=open,openat -o "$tmp/strace" bash -c 'tree_cmd "$0" "$1"' "$1" "$tmp/o.json" || ok_status $? || return 1
    python3 - "$tmp/strace" "$fs" <<'PY'
import os, re, sys
fs = sys.argv[2].rstrip("/") + "/"
n = 0
for l in open(sys.argv[1], errors="replace"):
    m = re.search(r'\bopen(?:at)?\((?:[^,"]+, )?"([^"]*)", ([^)]*)\) = \d+', l)
    if not m or "O_DIRECTORY" in m.group(2):
        continue
    p = m.group(1)
    # a path relative to a directory held open (moat), or a file under the tree (Go opens
    # directories without O_DIRECTORY)
    if not p.startswith("/") or (p.startswith(fs) and os.path.isfile(p)):
        n += 1
print(n)
PY
  }
  echo
  echo "| the bench tree, like for like | files opened | wall / CPU / peak RSS | moat-skip/tool (wall / CPU) |"
  echo "|---|---|---|---|"
  tree_tools=${TREE_TOOLS:-moat-skip moat betterleaks kingfisher-skip kingfisher}
  reports=()
  ref_w="" ref_c=""
  for t in $tree_tools; do
    files=$(opened "$t") || { echo "| $t | failed | | |"; continue; }
    read -r w m c < <(measure bash -c 'tree_cmd "$0" "$1"' "$t" "$tmp/o.json") || { echo "| $t | $files | failed | |"; continue; }
    tree_cmd "$t" "$tmp/tree-$t.json" || ok_status $? || true
    case $t in *-skip) label=${t%-skip}:skip ;; *) label=$t ;; esac
    reports+=("$label=$tmp/tree-$t.json")
    [ "$t" = moat-skip ] && { ref_w=$w; ref_c=$c; }
    python3 -c "import sys; t,f,w,m,c,rw,rc=sys.argv[1:]; w,m,c=float(w),float(m),float(c)
r = f'{float(rw)/w:.2f} / {float(rc)/max(c,0.005):.2f}' if rw else ''
print(f'| {t} | {f} | {w:.2f} s / {c:.2f} s / {m/1024:.0f} MiB | {r} |')" "$t" "$files" "$w" "$m" "$c" "$ref_w" "$ref_c"
  done
  echo
  [ ${#reports[@]} -gt 0 ] && python3 bench/gen-secret-corpus.py compare "$fs" "${reports[@]}"
fi

# The generated corpus: scores, then speed on the corpus and the tree, every peer.
if [ -z "${NOCORPUS:-}" ]; then
  corpus=${MOAT_BENCH_DIR:-/var/tmp/moat-bench}/secret-corpus
  if [ ! -f "$corpus/.complete" ]; then
    rm -rf "$corpus"
    python3 bench/gen-secret-corpus.py "$corpus" --seed 7 --files 3000 >&2
    touch "$corpus/.complete"
  fi
  rep=$tmp/reports; mkdir -p "$rep"
  # each tool's command line over DIR, writing its JSON to stdout (or to FILE, $2)
  run_tool() {
    local tool=$1 dir=$2 out=$3
    case $tool in
      moat) "$MOAT" scan "dir:$dir" --scanners secret --format json --quiet -o "$out" ;;
      trivy) "$PEERS/trivy-offline" fs --scanners secret --format json --cache-backend memory \
               --skip-db-update --offline-scan -q -o "$out" "$dir" ;;
      betterleaks) "$PEERS/betterleaks" --no-banner -l error --max-archive-depth 0 -o "$out" "$dir" > /dev/null ;;
      kingfisher) "$PEERS/kingfisher" scan "$dir" --no-validate --no-update-check --format json > "$out" 2>/dev/null ;;
      trufflehog3) "$PEERS/trufflehog3" --no-history -f JSON -z -o "$out" "$dir" 2>/dev/null ;;
      detect-secrets) (cd "$dir" && "$PEERS/detect-secrets" scan --all-files .) > "$out" 2>/dev/null ;;
    esac
  }
  export -f run_tool ok_status; export MOAT PEERS
  tools=${TOOLS:-moat trivy betterleaks kingfisher trufflehog3 detect-secrets}
  args=()
  for t in $tools; do
    run_tool "$t" "$corpus/tree" "$rep/$t.json" || ok_status $? ||
      { echo "failed: $t" >&2; continue; }
    args+=("$t=$rep/$t.json")
  done
  echo
  python3 bench/gen-secret-corpus.py score "$corpus" "${args[@]}"
  echo
  fs=${fs:-$(bench/tree.sh)}
  cmb=$(du -sm "$corpus/tree" | cut -f1); tmb=$(du -sm "$fs" | cut -f1)
  echo "| tool | corpus ($cmb MB): wall / CPU / peak RSS / MB/s | tree ($tmb MB): wall / CPU / peak RSS / MB/s |"
  echo "|---|---|---|"
  for t in $tools; do
    cells=""
    for d in "$corpus/tree:$cmb" "$fs:$tmb"; do
      dir=${d%:*}; mb=${d##*:}
      if [ "$t" = detect-secrets ] && [ "$dir" = "$fs" ] && [ -z "${SLOW:-}" ]; then
        cells+=" (not run: minutes; SLOW=1) |"; continue
      fi
      read -r w m c < <(measure bash -c 'run_tool "$0" "$1" "$2"' "$t" "$dir" "$tmp/out.json") ||
        { cells+=" failed |"; continue; }
      cells+=$(python3 -c "import sys; w,m,c,mb=map(float,sys.argv[1:]); print(f' {w:.2f} s / {c:.2f} s / {m/1024:.0f} MiB / {mb/w:.0f} |', end='')" "$w" "$m" "$c" "$mb")
    done
    echo "| $t |$cells"
  done
  echo
  echo "load: $(uptime)"
fi

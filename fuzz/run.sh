#!/usr/bin/env bash
# Builds every fuzz target, replays the inputs kept in regressions/<target>/ (every crash ever
# found; see regressions/README.md), then fuzzes each target seeded with the real fixtures of
# ../shared and those regressions.
#   fuzz/run.sh                        # FUZZ_SECONDS per target (default 60)
#   FUZZ_TARGETS="rpm_db rpm_sqlite" fuzz/run.sh   # only these targets
# The default of 60 s per target (12 targets: ~12 minutes plus the build) is what a CI run
# can afford and long enough to get past the seeds into new paths; a nightly job can raise it.
# cargo-fuzz needs nightly features; on the stable toolchain RUSTC_BOOTSTRAP=1 enables them.
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
SECS=${FUZZ_SECONDS:-60}
SHARED=../../shared
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked -q
seeds() { # target -> seed directories that exist
  case $1 in
    dpkg_status) echo "$SHARED/data/fixtures/dpkg/osv-scalibr/dpkg $SHARED/data/fixtures/dpkg/claircore" ;;
    apk_installed) echo "$SHARED/data/fixtures/apk/osv-scalibr $SHARED/data/fixtures/apk/syft" ;;
    rpm_db) echo "$SHARED/data/fixtures/rpm/osv-scalibr $SHARED/data/fixtures/rpm/syft" ;;
    rpm_header) echo "$SHARED/data/fixtures/rpm/claircore" ;;
    vuln_importers) echo "$SHARED/data/vulns/kev $SHARED/data/vulns/alpine/vuln-list-sample $SHARED/data/vulns/osv-distro-samples" ;;
    lang_parsers) echo "$SHARED/data/fixtures/npm $SHARED/data/fixtures/cargo $SHARED/data/fixtures/pypi $SHARED/data/fixtures/maven" ;;
    secret_rules) echo "${MOAT_IMAGES:-/var/tmp/moat-images}/fixtures/secrets-dir $SHARED/corpus/k8s-manifests" ;;
    *) echo "" ;;
  esac
}
for t in ${FUZZ_TARGETS:-$(cargo fuzz list)}; do
  mkdir -p "corpus/$t"
  dirs=("corpus/$t")
  if [ -d "regressions/$t" ]; then
    echo "fuzz: $t: replaying regressions/$t"
    if ! cargo fuzz run "$t" "regressions/$t" -- -runs=0 -rss_limit_mb=2048 -timeout=30; then
      echo "fuzz: $t: a kept regression input fails again (regressions/$t/)"
      exit 1
    fi
    dirs+=("regressions/$t")
  fi
  for s in $(seeds "$t"); do [ -d "$s" ] && dirs+=("$s"); done
  echo "fuzz: $t (${SECS}s)"
  log=$(mktemp)
  if ! cargo fuzz run "$t" "${dirs[@]}" -- -max_total_time="$SECS" -max_len=1048576 -rss_limit_mb=2048 > "$log" 2>&1; then
    grep -E "panicked at|ERROR|SUMMARY|Test unit written" "$log" | head -n 20
    tail -n 40 "$log"
    echo "fuzz: $t failed (the input is in fuzz/artifacts/$t/; once fixed, keep it in fuzz/regressions/$t/)"
    exit 1
  fi
  tail -n 1 "$log"
  rm -f "$log"
done
echo "fuzz: all targets ran without a crash"

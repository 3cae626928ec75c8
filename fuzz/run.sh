#!/usr/bin/env bash
# Builds every fuzz target, replays the inputs kept in regressions/<target>/ (every crash ever
# found; see regressions/README.md), then fuzzes each target seeded with the real fixtures of
# ../shared and those regressions.
#   fuzz/run.sh                                    # the CI schedule below
#   FUZZ_TARGETS="rpm_db rpm_sqlite" fuzz/run.sh   # only these targets
#   FUZZ_SECONDS=600 FUZZ_SECONDS_OTHER=600 fuzz/run.sh   # a long (nightly) run of all
#   FUZZ_JOBS=1 fuzz/run.sh                        # one target at a time
# The schedule CI can afford: FUZZ_SECONDS (default 60) for each target whose parser's code
# changed in the commit under test (HEAD against its first parent; every target when that
# cannot be told, e.g. in a shallow clone), FUZZ_SECONDS_OTHER (default 10) for the rest:
# about 25 x 10 s plus a minute per changed parser, besides the build, on as many targets at
# a time as there are cores (FUZZ_JOBS).
# cargo-fuzz needs nightly features; on the stable toolchain RUSTC_BOOTSTRAP=1 enables them.
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
SECS=${FUZZ_SECONDS:-60}
OTHER_SECS=${FUZZ_SECONDS_OTHER:-10}
# The files each target's parser lives in (besides the target itself).
sources() {
  case $1 in
    dpkg_status|apk_installed|rpm_db|rpm_header|rpm_sqlite|os_release) echo crates/moat-pkgdb ;;
    image_archive) echo crates/moat-image ;;
    tar_stream) echo crates/moat-image/src/tarstream.rs ;;
    layer_walk) echo "crates/moat-image crates/moat-scan" ;;
    lang_parsers) echo "crates/moat-lang crates/moat-scan/src/analyzers" ;;
    sbom_and_policy) echo "crates/moat-report/src/sbom_in crates/moat-pipeline/src/policy" ;;
    versions) echo crates/moat-model/src/version ;;
    vuln_importers) echo crates/moat-vuln/src/import ;;
    osv_fast_path) echo "crates/moat-vuln/src/import/borrowed.rs crates/moat-vuln/src/import/osv.rs crates/moat-vuln/src/import/mod.rs crates/moat-vuln/src/db/build.rs crates/moat-model/src/advisory.rs" ;;
    advisory_db_codec) echo "crates/moat-vuln/src/db/codec.rs crates/moat-vuln/src/db/mod.rs" ;;
    secret_rules) echo crates/moat-secrets ;;
    dockerfile) echo crates/moat-misconfig ;;
    k8s_compose) echo "crates/moat-misconfig/src/k8s crates/moat-misconfig/src/compose.rs" ;;
    helm_template) echo crates/moat-misconfig/src/helm ;;
    sign_parsers) echo crates/moat-sign ;;
    registry_parsers) echo crates/moat-registry ;;
    scap_reader) echo "crates/moat-scap crates/moat-runtime/src/field.rs" ;;
    runtime_rules) echo "crates/moat-runtime/src/load.rs crates/moat-runtime/src/compile.rs crates/moat-runtime/src/cond.rs crates/moat-runtime/src/output.rs" ;;
    live_parsers) echo crates/moat-runtime/src/live ;;
    runtime_condition) echo "crates/moat-runtime/src/cond.rs crates/moat-runtime/src/json.rs crates/moat-runtime/src/k8s.rs crates/moat-runtime/src/eval.rs" ;;
    *) echo crates ;;
  esac
}
changed=$(git -C .. diff --name-only HEAD^1 HEAD 2>/dev/null || echo ALL)
secs_for() { # target -> seconds
  [ "$changed" = ALL ] && { echo "$SECS"; return; }
  for p in "fuzz/fuzz_targets/$1.rs" $(sources "$1"); do
    if grep -q "^$p" <<<"$changed"; then echo "$SECS"; return; fi
  done
  echo "$OTHER_SECS"
}
SHARED=../../shared
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked -q
seeds() { # target -> seed directories that exist
  case $1 in
    dpkg_status) echo "$SHARED/data/fixtures/dpkg/osv-scalibr/dpkg $SHARED/data/fixtures/dpkg/claircore" ;;
    apk_installed) echo "$SHARED/data/fixtures/apk/osv-scalibr $SHARED/data/fixtures/apk/syft" ;;
    rpm_db) echo "$SHARED/data/fixtures/rpm/osv-scalibr $SHARED/data/fixtures/rpm/syft" ;;
    rpm_header) echo "$SHARED/data/fixtures/rpm/claircore" ;;
    osv_fast_path) echo "$SHARED/data/vulns/go/osv $SHARED/data/vulns/rust/osv $SHARED/data/vulns/ghsa $SHARED/data/vulns/distro-samples/osv $SHARED/data/vulns/osv-distro-samples" ;;
    vuln_importers) echo "$SHARED/data/vulns/kev $SHARED/data/vulns/alpine/vuln-list-sample $SHARED/data/vulns/osv-distro-samples $SHARED/data/vulns/ghsa $SHARED/data/vulns/distro-samples/osv $SHARED/data/vulns/distro-samples/csaf-redhat/vex $SHARED/data/vulns/distro-samples/oval-azurelinux $SHARED/data/vulns/distro-samples/oval-oracle $SHARED/data/vulns/distro-samples/alas" ;;
    lang_parsers) echo "$SHARED/data/fixtures/npm $SHARED/data/fixtures/cargo $SHARED/data/fixtures/pypi $SHARED/data/fixtures/maven" ;;
    secret_rules) echo "${MOAT_IMAGES:-/var/tmp/moat-images}/fixtures/secrets-dir $SHARED/corpus/k8s-manifests" ;;
    dockerfile) echo "$SHARED/corpus/dockerfiles" ;;
    k8s_compose) echo "$SHARED/corpus/k8s-manifests/kubernetes-examples $SHARED/corpus/k8s-manifests/microservices-demo" ;;
    helm_template) echo "../deploy/helm/moat/templates $SHARED/corpus/k8s-manifests/microservices-demo/helm-chart/templates $SHARED/corpus/k8s-manifests/trivy-tests/integration/testdata/fixtures/repo/helm_testchart/templates" ;;
    scap_reader) echo "$SHARED/corpus/falco/falcosecurity-falco-legacy-tests/test/trace_files" ;;
    sign_parsers) echo "$SHARED/corpus/cosign/sigstore-rs/tests/data/keys $SHARED/corpus/cosign/sigstore-rs/examples/key_interface/key_pair_import $SHARED/corpus/cosign/cosign/release" ;;
    runtime_rules) echo "$SHARED/corpus/falco/falcosecurity-rules/rules $SHARED/corpus/falco/falcosecurity-falco-legacy-tests/test/rules" ;;
    runtime_condition) echo "$SHARED/corpus/falco/falcosecurity-falco-legacy-tests/test/trace_files/k8s_audit" ;;
    *) echo "" ;;
  esac
}
# run_one T: replays T's kept regressions, then fuzzes T; everything it prints goes to
# $logs/T.log (shown once every target is done). Fails with the reason at the log's end.
run_one() {
  local t=$1 log=$logs/$1.log
  {
    mkdir -p "corpus/$t"
    local dirs=("corpus/$t")
    if [ -d "regressions/$t" ]; then
      echo "fuzz: $t: replaying regressions/$t"
      if ! cargo fuzz run "$t" "regressions/$t" -- -runs=0 -rss_limit_mb=2048 -timeout=30 > "$log.run" 2>&1; then
        tail -n 40 "$log.run"
        echo "fuzz: $t: a kept regression input fails again (regressions/$t/)"
        return 1
      fi
      tail -n 1 "$log.run"
      dirs+=("regressions/$t")
    fi
    for s in $(seeds "$t"); do [ -d "$s" ] && dirs+=("$s"); done
    local secs; secs=$(secs_for "$t")
    echo "fuzz: $t (${secs}s)"
    if ! cargo fuzz run "$t" "${dirs[@]}" -- -max_total_time="$secs" -max_len=1048576 -rss_limit_mb=2048 > "$log.run" 2>&1; then
      grep -E "panicked at|ERROR|SUMMARY|Test unit written" "$log.run" | head -n 20
      tail -n 40 "$log.run"
      echo "fuzz: $t failed (the input is in fuzz/artifacts/$t/; once fixed, keep it in fuzz/regressions/$t/)"
      return 1
    fi
    tail -n 1 "$log.run"
    rm -f "$log.run"
  } > "$log" 2>&1
}

# Every target built once, then FUZZ_JOBS targets (default: one a core) fuzzed at a time: a
# libFuzzer process uses one core, so on two cores two at a time halve the wall time.
targets=(${FUZZ_TARGETS:-$(cargo fuzz list)})
if [ -n "${FUZZ_TARGETS:-}" ]; then
  for t in "${targets[@]}"; do cargo fuzz build "$t"; done
else
  cargo fuzz build
fi
jobs=${FUZZ_JOBS:-$(nproc)}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
failed=0 running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
  run_one "$t" &
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
for t in "${targets[@]}"; do cat "$logs/$t.log"; done
if [ "$failed" != 0 ]; then
  echo "fuzz: a target failed (above)"
  exit 1
fi
echo "fuzz: all targets ran without a crash"

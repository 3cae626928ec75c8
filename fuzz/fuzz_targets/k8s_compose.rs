//! Kubernetes manifests and Compose files: arbitrary bytes split into YAML documents (or read
//! as JSON), reduced to workloads, checked by the Pod Security Standards and every other
//! rule; every finding must point at a line of the input. YAML bombs must stay bounded.
#![no_main]
use libfuzzer_sys::fuzz_target;
use moat_misconfig::{compose, k8s};

fuzz_target!(|data: &[u8]| {
    let lines = data.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
    let checked = k8s::check(&[("m.yaml".to_string(), data.to_vec())], k8s::Checks::All);
    let compose = compose::check("compose.yaml", data);
    for f in checked.findings.iter().chain(&compose.findings) {
        let span = f.location.as_ref().and_then(|l| l.span).expect("a located finding");
        assert!(span.start_line >= 1 && span.end_line <= lines, "{span:?}");
    }
});

//! SBOM input (CycloneDX / SPDX JSON), the ignore file and OpenVEX documents.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = moat_report::read_sbom(data, "fuzz.json");
    let _ = moat_pipeline::policy::parse_ignore_file(data);
    let _ = moat_pipeline::policy::parse_openvex(data);
});

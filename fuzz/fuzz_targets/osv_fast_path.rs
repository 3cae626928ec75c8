//! The borrowing fast path of an OSV entry (most records of an import go through it) against
//! the typed path: it declines the bytes or stores exactly what the typed path stores. A
//! target of its own so that it gets many runs in CI's short slot (the importers' target
//! runs every advisory parser, YAML and zip included, on each input).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    assert!(moat_vuln::import::fast_path_agrees(data));
});

//! The engine (walk, every analyzer, merge, join) over an arbitrary (uncompressed) tar stream.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = moat_scan::ScanOptions { max_entry_bytes: 1 << 20, ..Default::default() };
    let _ = moat_scan::scan_tar(data, &opts);
});

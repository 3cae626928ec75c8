//! One rpm header blob.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = moat_pkgdb::rpm::parse_header(data);
});

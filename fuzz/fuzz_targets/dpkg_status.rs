//! dpkg status, file lists and copyright files.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = moat_pkgdb::dpkg::parse_status(data);
    let _ = moat_pkgdb::dpkg::parse_list(data);
    let _ = moat_pkgdb::dpkg::copyright_licenses(data);
});

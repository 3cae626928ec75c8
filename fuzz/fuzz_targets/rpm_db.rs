//! rpm databases (sqlite, BerkeleyDB hash, NDB), detected by magic, and the distroless
//! CBL-Mariner rpm manifest (text).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = moat_pkgdb::rpm::read(data);
    let _ = moat_pkgdb::rpm::bdb::read(data);
    let _ = moat_pkgdb::rpm::ndb::read(data);
    let _ = moat_pkgdb::rpm::manifest::read(data);
});

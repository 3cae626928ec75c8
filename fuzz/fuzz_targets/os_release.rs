//! os-release and distro marker files.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = moat_pkgdb::osrelease::parse_os_release(data);
    for m in moat_pkgdb::osrelease::MARKER_FILES {
        let _ = moat_pkgdb::osrelease::from_marker(m, data);
    }
});

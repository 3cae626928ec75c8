//! Every advisory importer over the same bytes (the OSV fast path against the typed one has a
//! target of its own: `osv_fast_path`).
#![no_main]
use libfuzzer_sys::fuzz_target;
use moat_vuln::import::{alas, alpine, azurelinux, csaf, debian, kev, osv, oval, rustsec};

fuzz_target!(|data: &[u8]| {
    let _ = osv::parse_json(data);
    let _ = osv::parse_yaml(data);
    let _ = osv::read_zip(data);
    let _ = rustsec::parse(data);
    let _ = kev::parse(data);
    let _ = alpine::parse_secdb_yaml(data);
    let _ = alpine::parse_secdb_json(data);
    let _ = debian::parse_list(data, debian::ListKind::Dsa);
    let _ = debian::parse_tracker_json(data);
    let _ = csaf::parse(data);
    let _ = alas::parse(data);
    let _ = oval::parse(data);
    let _ = azurelinux::parse(data);
});

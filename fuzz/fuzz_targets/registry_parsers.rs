//! moat-registry's parsers of what a user or a registry writes: image references, digests and
//! `WWW-Authenticate` challenges (a registry's header, read before any authentication). None
//! may panic; a reference that parses gives API paths without a panic too.
#![no_main]
use libfuzzer_sys::fuzz_target;
use moat_registry::{Digest, Reference, auth};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(r) = Reference::parse(s) {
        let _ = r.api_host();
        let _ = r.manifest_ref();
    }
    if let Ok(d) = Digest::parse(s) {
        let _ = d.hex();
        let _ = d.of_same_kind(data);
    }
    let _ = auth::parse_challenge(s);
});

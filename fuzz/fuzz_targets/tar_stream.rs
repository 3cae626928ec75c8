//! The layer tar reader over arbitrary bytes: every entry's header and logical content read
//! (bounded), with small limits so that the caps are reached; it must never panic, and a
//! sparse entry's content is exactly its logical size.
#![no_main]
use libfuzzer_sys::fuzz_target;
use moat_image::tarstream::{TarLimits, TarReader};
use std::io::Read;

fuzz_target!(|data: &[u8]| {
    let limits = TarLimits { max_header_bytes: 4096 };
    let mut tar = TarReader::new(data).with_limits(limits);
    let mut entries = 0;
    while let Ok(Some(h)) = tar.next_entry() {
        entries += 1;
        if entries > 10_000 {
            break;
        }
        let (size, readable) = (h.size(), h.unreadable().is_none());
        let mut sink = Vec::new();
        match tar.data().take(1 << 20).read_to_end(&mut sink) {
            Ok(n) => assert!(readable && n as u64 == size.min(1 << 20)),
            Err(_) => {}
        }
    }
});

//! The decoders of an advisory database's values (package id lists, a package's record
//! list, blocks of records, zstd blocks) over arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    moat_vuln::db::fuzz_codec(data);
});

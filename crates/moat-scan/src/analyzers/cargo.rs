//! `cargo-lock`: `Cargo.lock` (v1 to v4), a Rust project's resolved dependencies. The join
//! marks the crates of a lock whose root crate is also a binary's root but that the binary
//! does not contain (platform-specific ones) `in_binary=false`; the binary's own list comes
//! from [`super::binary`] (cargo-auditable).

use super::lang::LangAnalyzer;
use moat_lang::LangFile;

pub const CARGO_LOCK: LangAnalyzer =
    LangAnalyzer::declared("cargo-lock", 1, &[LangFile::CargoLock]);

//! `cargo-lock`: `Cargo.lock` (v1 to v4), a Rust project's resolved dependencies. The join
//! marks the crates of a lock whose root crate is also a binary's root but that the binary
//! does not contain (platform-specific ones) `in_binary=false`; the binary's own list comes
//! from [`super::binary`] (cargo-auditable).
//!
//! `cargo-toml`: the project's `Cargo.toml` (and its workspace members'), whose
//! `[dev-dependencies]` and `[build-dependencies]` the join applies to the `Cargo.lock`
//! above them (a lockfile does not say which crates are only for tests or build scripts).

use super::lang::{LangAnalyzer, ManifestAnalyzer};
use moat_lang::LangFile;
use moat_lang::project::ManifestFile;

pub const CARGO_LOCK: LangAnalyzer =
    LangAnalyzer::declared("cargo-lock", 1, &[LangFile::CargoLock]);
pub const CARGO_TOML: ManifestAnalyzer =
    ManifestAnalyzer::new("cargo-toml", 1, ManifestFile::CargoToml);

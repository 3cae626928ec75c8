//! # Compiled binaries: Go build info and cargo-auditable dependency lists
//!
//! [`parse`] takes the whole bytes of an executable (ELF in practice; the Go part also works on
//! any format because it can fall back to a byte scan) and looks for two kinds of embedded
//! inventory, one file each:
//!
//! * `go.rs`: the Go build info (module path, dependencies with replacements, build
//!   settings, toolchain version as a `stdlib` package);
//! * `auditable.rs`: cargo-auditable's `.dep-v0` section (the crates a Rust binary was built
//!   from).
//!
//! A binary with neither gives an empty result and no diagnostic; malformed or hostile data
//! gives diagnostics (`parse-error`, or `too-large` for a length over a limit), never a
//! panic. Messages name the section or structure (`.dep-v0 section does not decompress:
//! ...`), never the file: the engine adds its path.
//!
//! Rejected alternative: running `go version -m` or `cargo audit bin` on the file (a
//! toolchain in the scanner, and executing tools on hostile input).

mod auditable;
mod go;

pub use auditable::MAX_AUDIT_JSON;
pub use go::{MAX_GO_STRING, go_semver};

use moat_model::Diagnostic;

use crate::LangParsed;

/// Reads the inventories embedded in an executable.
pub fn parse(_path: &str, bytes: &[u8]) -> LangParsed {
    let mut out = LangParsed::default();
    let elf = match object::File::parse(bytes) {
        Ok(f) => Some(f),
        Err(e) => {
            if bytes.starts_with(b"\x7fELF") {
                out.warn(Diagnostic::parse(format!(
                    "ELF headers unreadable ({e}); scanning raw bytes"
                )));
            }
            None
        }
    };
    go::read(bytes, elf.as_ref(), &mut out);
    if let Some(f) = &elf {
        auditable::read(f, &mut out);
    }
    out
}

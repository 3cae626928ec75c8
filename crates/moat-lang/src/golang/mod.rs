//! # Go: `go.mod` and `go.sum`
//!
//! Two line-oriented formats, one file each: [`parse_mod`] (`go_mod.rs`: directives,
//! requirements, replacements) and [`parse_sum`] (`go_sum.rs`: the checksum list, a fallback
//! when there is no readable `go.mod`). Both read UTF-8 text of at most [`MAX_BYTES`] (a
//! larger file is one `too-large` diagnostic, a file that is not UTF-8 one `parse-error`),
//! and both give every diagnostic the 1-based line it is about.
//!
//! Diagnostics are capped per file at [`MAX_WARNINGS`] (a hostile file could otherwise make
//! one per line); the ones dropped are counted in a final `too-large` diagnostic ("N more
//! problems not listed"): the cap is a memory bound, and `too-large` is the code for "cut
//! short at a limit".
//!
//! Compiled Go binaries carry their module list too; [`crate::binary`] reads them.

mod go_mod;
mod go_sum;

pub use go_mod::parse_mod;
pub use go_sum::parse_sum;

use moat_model::{Code, Diagnostic};

use crate::read;

/// Largest `go.mod` / `go.sum` accepted.
pub const MAX_BYTES: usize = 64 << 20;
/// Diagnostics kept per file before the rest are only counted.
pub const MAX_WARNINGS: usize = 10;

/// The text of a `go.mod` / `go.sum` within [`MAX_BYTES`].
fn text_of(bytes: &[u8]) -> Result<&str, Diagnostic> {
    read::check_size(bytes, MAX_BYTES)?;
    read::utf8(bytes)
}

/// The diagnostics of one file, at most [`MAX_WARNINGS`] kept.
#[derive(Default)]
struct Capped {
    kept: Vec<Diagnostic>,
    dropped: usize,
}

impl Capped {
    /// A `parse-error` at 1-based `line` (0: no line).
    fn at(&mut self, line: usize, message: String) {
        let d = Diagnostic::parse(message);
        let d = if line > 0 {
            d.line(read::line_no(line))
        } else {
            d
        };
        if self.kept.len() < MAX_WARNINGS {
            self.kept.push(d);
        } else {
            self.dropped += 1;
        }
    }

    fn finish(mut self) -> Vec<Diagnostic> {
        if self.dropped > 0 {
            let more = format!("{} more warnings not listed", self.dropped);
            self.kept.push(Diagnostic::new(Code::TooLarge, more));
        }
        self.kept
    }
}

//! # Ruby: `Gemfile.lock` and installed `specifications/*.gemspec`
//!
//! | parser | file | module |
//! |---|---|---|
//! | [`parse_gemfile_lock`] | `Gemfile.lock` / `gems.locked` | `gemfile_lock.rs` |
//! | [`parse_gemspec`] | `specifications/*.gemspec` of an installed gem | `gemspec.rs` |
//!
//! Both are read as text (UTF-8, BOM tolerated, invalid bytes replaced); nothing here runs
//! Ruby. A `Gemfile.lock` spec line that cannot be read is a `parse-error` at its line; a
//! gemspec that names no gem is one `parse-error`.

mod gemfile_lock;
mod gemspec;

pub use crate::read::MAX_PACKAGES;
pub use gemfile_lock::parse_gemfile_lock;
pub use gemspec::parse_gemspec;

/// Text of a Ruby file: UTF-8, BOM tolerated, invalid bytes replaced.
fn text_of(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    String::from_utf8_lossy(bytes).into_owned()
}

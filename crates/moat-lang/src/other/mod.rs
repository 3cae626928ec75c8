//! # Conan, Hex (mix), Pub and Julia lockfiles
//!
//! Four small ecosystems, one file each:
//!
//! | parser | file | module |
//! |---|---|---|
//! | [`parse_conan_lock`] | `conan.lock` v1 (graph lock) and v2 (C/C++) | `conan.rs` |
//! | [`parse_mix_lock`] | `mix.lock` (Elixir, Hex) | `mix.rs` |
//! | [`parse_pubspec_lock`] | `pubspec.lock` (Dart, Flutter) | `pubspec.rs` |
//! | [`parse_julia_manifest`] | `Manifest.toml` formats 1 and 2.0 (Julia) | `julia.rs` |
//!
//! They share nothing but the conventions of the crate: unreadable input is a `parse-error`
//! (with its line where the format and the parser know it: JSON and YAML errors, the Elixir
//! term where `mix.lock` stops parsing, a `mix.lock` entry), more than
//! [`MAX_PACKAGES`] packages end with a `too-large` diagnostic.

mod conan;
mod julia;
mod mix;
mod pubspec;

pub use crate::read::MAX_PACKAGES;
pub use conan::parse_conan_lock;
pub use julia::parse_julia_manifest;
pub use mix::parse_mix_lock;
pub use pubspec::parse_pubspec_lock;

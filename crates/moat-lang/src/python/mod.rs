//! # Python: installed metadata and lockfiles
//!
//! Every function reads the bytes of one file and returns the PyPI packages it names; one
//! file per format:
//!
//! | parser | file | module |
//! |---|---|---|
//! | [`parse_metadata`] | `*.dist-info/METADATA`, `*.egg-info/PKG-INFO`, single-file `*.egg-info` | `metadata.rs` |
//! | [`parse_record`] | `*.dist-info/RECORD` | `record.rs` |
//! | [`parse_requirements`] | pip `requirements*.txt` | `requirements.rs` |
//! | [`parse_poetry_lock`] | `poetry.lock` | `poetry.rs` |
//! | [`parse_pipfile_lock`] | `Pipfile.lock` | `pipfile.rs` |
//! | [`parse_uv_lock`] | `uv.lock` | `uv.rs` |
//! | [`parse_pylock`] | `pylock.toml`, `pylock.<name>.toml` (PEP 751) | `pylock.rs` |
//!
//! Installed metadata describes one package per file (the engine joins a METADATA with its
//! RECORD on metadata `dist_dir`); lockfiles and requirements list many. What they share
//! lives here: PEP 508 name and plain-version checks and the path arithmetic that turns a
//! dist-info's relative paths into absolute ones.
//!
//! Nothing panics; input sizes are bounded by the caller's bytes, output by [`MAX_PACKAGES`]
//! (a file cut short there ends with a `too-large` diagnostic). Unreadable input is a
//! `parse-error` (TOML and JSON errors and requirement lines carry their line); a RECORD whose
//! directory name gives no name and version is `bad-path`.

mod metadata;
mod pipfile;
mod poetry;
mod pylock;
mod record;
mod requirements;
mod uv;

pub use crate::read::MAX_PACKAGES;
pub use metadata::parse_metadata;
pub use pipfile::parse_pipfile_lock;
pub use poetry::parse_poetry_lock;
pub use pylock::parse_pylock;
pub use record::{MAX_FILES, parse_record};
pub use requirements::parse_requirements;
pub use uv::parse_uv_lock;

use crate::read::absolute_path as absolute;
use crate::{Ecosystem, LangPackage};

fn pkg(name: &str, version: &str) -> LangPackage {
    LangPackage::new(Ecosystem::PyPI, name, version)
}

/// The directory part of a relative path (`""` when none).
fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

fn last_component(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// PEP 508 project name: ASCII letters/digits, `.`, `_`, `-` inside, alphanumeric ends.
fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 256
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

fn toml_str<'a>(t: &'a toml::Table, key: &str) -> Option<&'a str> {
    t.get(key).and_then(|v| v.as_str())
}

/// The `[[package]]` array of a TOML lockfile (`poetry.lock`, `uv.lock`); empty when absent.
fn toml_packages(doc: &toml::Table) -> &[toml::Value] {
    doc.get("package")
        .and_then(|v| v.as_array())
        .map_or(&[], Vec::as_slice)
}

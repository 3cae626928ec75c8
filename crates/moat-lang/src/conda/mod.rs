//! # Conda: installed packages and environment files
//!
//! | parser | file | module |
//! |---|---|---|
//! | [`parse_conda_meta`] | `<prefix>/conda-meta/<name>-<version>-<build>.json`: one installed package | `meta.rs` |
//! | [`parse_environment`] | `environment.yml` / `environment.yaml`: the pins of an environment | `environment.rs` |
//!
//! Conda packages are `pkg:conda/<name>@<version>` with the `build`, `channel` and
//! `subdir` qualifiers where known. OSV has no Conda ecosystem and no public advisory
//! source names Conda packages: they are inventory (and SBOM) only. Python packages a
//! conda environment installs also carry their own `*.dist-info`, found and matched as
//! PyPI packages.

mod environment;
mod meta;

pub use environment::parse_environment;
pub use meta::parse_conda_meta;

use crate::{Ecosystem, LangPackage};

fn pkg(name: &str, version: &str) -> LangPackage {
    LangPackage::new(Ecosystem::Conda, name, version)
}

/// The short name of a channel (`conda-forge` for
/// `https://conda.anaconda.org/conda-forge/linux-64` with subdir `linux-64`, `main` for
/// `pkgs/main`).
pub fn channel_name(channel: &str, subdir: Option<&str>) -> String {
    let mut c = channel.trim().trim_end_matches('/');
    if let Some(sub) = subdir.filter(|s| !s.is_empty())
        && let Some(head) = c.strip_suffix(sub)
        && head.ends_with('/')
    {
        c = head.trim_end_matches('/');
    }
    c.rsplit('/').next().unwrap_or(c).to_string()
}

//! Analyzers: each looks at single files and turns their bytes into [`Fact`]s.
//!
//! An analyzer never asks for another file. What needs two files (a dpkg status and its
//! `info/*.list` file lists, a package and its copyright file) is joined after the layers
//! are merged, in [`crate::inventory`]. Path tests are cheap string checks run on every
//! entry of every layer, so they must not allocate.

use moat_model::OsInfo;
use moat_pkgdb::{Parsed, apk, dpkg, osrelease, rpm};

/// What an analyzer learned from one file.
#[derive(Debug, Clone)]
pub enum Fact {
    /// `etc/os-release` or `usr/lib/os-release`.
    OsRelease(OsInfo),
    /// A distro marker file (`etc/alpine-release`, `etc/redhat-release`, ...).
    OsMarker(OsInfo),
    /// `var/lib/dpkg/status` (or a distroless `status.d/<name>` file).
    Dpkg(Parsed<dpkg::DpkgPackage>),
    /// `var/lib/dpkg/info/<pkg>[:arch].list`, or distroless `status.d/<pkg>.md5sums`.
    DpkgFiles {
        package: String,
        arch: Option<String>,
        files: Vec<String>,
    },
    /// `usr/share/doc/<pkg>/copyright`.
    Copyright {
        package: String,
        licenses: Vec<String>,
    },
    /// `lib/apk/db/installed`.
    Apk(Parsed<apk::ApkPackage>),
    /// An rpm database (`rpmdb.sqlite`, `Packages`, `Packages.db`).
    Rpm(Parsed<rpm::RpmPackage>),
    /// The file was wanted but could not be read.
    Unreadable(String),
    /// A language lockfile, installed metadata, archive or binary.
    Lang(moat_lang::LangParsed),
}

/// Which analyzer wants a path (relative, no leading `/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Want {
    OsRelease,
    OsMarker,
    DpkgStatus,
    DpkgStatusD,
    DpkgList,
    DpkgMd5sums,
    Copyright,
    Apk,
    Rpm,
    Lang(moat_lang::LangFile),
    /// An executable whose first bytes say it is a binary moat reads (ELF).
    Binary,
}

/// Directories that may hold an rpm database.
pub const RPM_DIRS: &[&str] = &["var/lib/rpm/", "usr/lib/sysimage/rpm/", "usr/share/rpm/"];
/// rpm database file names, best first.
pub const RPM_FILES: &[&str] = &["rpmdb.sqlite", "Packages.db", "Packages"];

/// Decides whether any analyzer wants `path`. Called for every entry: no allocation.
pub fn wants(path: &str) -> Option<Want> {
    match path {
        "etc/os-release" | "usr/lib/os-release" => return Some(Want::OsRelease),
        "var/lib/dpkg/status" => return Some(Want::DpkgStatus),
        "lib/apk/db/installed" => return Some(Want::Apk),
        _ => {}
    }
    if osrelease::MARKER_FILES.contains(&path) {
        return Some(Want::OsMarker);
    }
    if let Some(rest) = path.strip_prefix("var/lib/dpkg/") {
        if let Some(name) = rest.strip_prefix("status.d/") {
            if name.is_empty() || name.contains('/') {
                return None;
            }
            if name.ends_with(".md5sums") {
                return Some(Want::DpkgMd5sums);
            }
            // distroless writes one stanza file per package; skip maintainer scripts etc.
            if !name.contains('.') {
                return Some(Want::DpkgStatusD);
            }
            return None;
        }
        if let Some(name) = rest.strip_prefix("info/")
            && name.ends_with(".list")
            && !name.contains('/')
        {
            return Some(Want::DpkgList);
        }
        return None;
    }
    if let Some(rest) = path.strip_prefix("usr/share/doc/")
        && let Some(pkg) = rest.strip_suffix("/copyright")
        && !pkg.contains('/')
    {
        return Some(Want::Copyright);
    }
    for dir in RPM_DIRS {
        if let Some(name) = path.strip_prefix(dir)
            && RPM_FILES.contains(&name)
        {
            return Some(Want::Rpm);
        }
    }
    moat_lang::wants(path).map(Want::Lang)
}

/// Runs the analyzer for `want` over the bytes of `path`.
pub fn analyze(want: Want, path: &str, data: &[u8]) -> Fact {
    match want {
        Want::OsRelease => match osrelease::parse_os_release(data) {
            Some(os) => Fact::OsRelease(os),
            None => Fact::Unreadable("os-release has no usable ID".into()),
        },
        Want::OsMarker => match osrelease::from_marker(path, data) {
            Some(os) => Fact::OsMarker(os),
            None => Fact::Unreadable("unrecognised distro marker file".into()),
        },
        Want::DpkgStatus | Want::DpkgStatusD => Fact::Dpkg(dpkg::parse_status(data)),
        Want::DpkgList => {
            let (package, arch) = dpkg::info_file_package(path).unwrap_or_default();
            Fact::DpkgFiles {
                package,
                arch,
                files: dpkg::parse_list(data),
            }
        }
        Want::DpkgMd5sums => {
            let name = path.rsplit('/').next().unwrap_or(path);
            let package = name.trim_end_matches(".md5sums").to_string();
            Fact::DpkgFiles {
                package,
                arch: None,
                files: dpkg::parse_md5sums(data),
            }
        }
        Want::Copyright => {
            let package = path
                .trim_start_matches("usr/share/doc/")
                .trim_end_matches("/copyright")
                .to_string();
            Fact::Copyright {
                package,
                licenses: dpkg::copyright_licenses(data),
            }
        }
        Want::Apk => Fact::Apk(apk::parse_installed(data)),
        Want::Lang(kind) => Fact::Lang(moat_lang::parse(kind, path, data)),
        Want::Binary => Fact::Lang(moat_lang::binary::parse(path, data)),
        Want::Rpm => match rpm::read(data) {
            Ok(p) => Fact::Rpm(p),
            Err(e) => Fact::Unreadable(format!("rpm database: {e}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wanted_paths() {
        assert_eq!(wants("var/lib/dpkg/status"), Some(Want::DpkgStatus));
        assert_eq!(wants("var/lib/dpkg/status-old"), None);
        assert_eq!(
            wants("var/lib/dpkg/status.d/libc6"),
            Some(Want::DpkgStatusD)
        );
        assert_eq!(
            wants("var/lib/dpkg/status.d/libc6.md5sums"),
            Some(Want::DpkgMd5sums)
        );
        assert_eq!(wants("var/lib/dpkg/status.d/libc6.preinst"), None);
        assert_eq!(
            wants("var/lib/dpkg/info/libc6:amd64.list"),
            Some(Want::DpkgList)
        );
        assert_eq!(wants("var/lib/dpkg/info/libc6:amd64.md5sums"), None);
        assert_eq!(wants("usr/share/doc/bash/copyright"), Some(Want::Copyright));
        assert_eq!(wants("usr/share/doc/bash/examples/copyright"), None);
        assert_eq!(wants("usr/lib/sysimage/rpm/rpmdb.sqlite"), Some(Want::Rpm));
        assert_eq!(wants("var/lib/rpm/Packages"), Some(Want::Rpm));
        assert_eq!(wants("var/lib/rpm/Index.db"), None);
        assert_eq!(wants("etc/os-release"), Some(Want::OsRelease));
        assert_eq!(wants("usr/bin/bash"), None);
    }
}

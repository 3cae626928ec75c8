//! dpkg/opkg readers against the shared fixtures and the expectations recorded
//! from the real `dpkg-query` in `tests/data/dpkg/*.expected` (see
//! `tests/data/dpkg/generate.sh` for how each file was made).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "dpkg_support.rs"]
mod common;

use common::{shared_dir, txtar};
use moat_pkgdb::dpkg::{
    DpkgPackage, copyright_licenses, info_file_package, parse_list, parse_md5sums, parse_status,
};
use std::path::{Path, PathBuf};

fn fixtures() -> Option<PathBuf> {
    shared_dir().map(|d| d.join("data/fixtures/dpkg"))
}

/// Reads a fixture as `kind path [args]` from an expected file's header and
/// returns what moat makes of it (status.d files are parsed one by one, as the
/// scanner does).
fn run(fx: &Path, spec: &str) -> (Vec<DpkgPackage>, Vec<String>) {
    let messages = |p: &moat_pkgdb::Parsed<DpkgPackage>| -> Vec<String> {
        p.warnings.iter().map(|w| w.message.clone()).collect()
    };
    let mut words = spec.split_whitespace();
    let kind = words.next().expect("kind");
    let path = words.next().expect("path");
    let rest: Vec<&str> = words.collect();
    let read = |p: &str| std::fs::read(fx.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    match kind {
        "status" => {
            let p = parse_status(&read(path));
            let w = messages(&p);
            (p.packages, w)
        }
        "txtar" => {
            let bundle = read(path);
            let sections = txtar(&bundle);
            let (_, body) = sections
                .iter()
                .find(|(n, _)| n == rest[0])
                .unwrap_or_else(|| panic!("{path}: no section {}", rest[0]));
            let p = parse_status(body.as_bytes());
            let w = messages(&p);
            (p.packages, w)
        }
        "statusd" => {
            let mut pkgs = Vec::new();
            let mut warns = Vec::new();
            for f in std::iter::once(path).chain(rest) {
                let p = parse_status(&read(f));
                warns.extend(messages(&p));
                pkgs.extend(p.packages);
            }
            (pkgs, warns)
        }
        other => panic!("unknown fixture kind {other}"),
    }
}

/// The data line dpkg-query prints for a package (`${source:Package}` and
/// `${source:Version}` fall back to the package's own name and version).
fn line(p: &DpkgPackage) -> String {
    let abbrev = if p.status.as_deref().is_some_and(|s| s.starts_with("hold")) {
        "hi "
    } else {
        "ii "
    };
    format!(
        "{abbrev}\t{}\t{}\t{}\t{}\t{}",
        p.name,
        p.version,
        p.arch.as_deref().unwrap_or(""),
        p.source_name.as_deref().unwrap_or(&p.name),
        p.source_version.as_deref().unwrap_or(&p.version),
    )
}

/// Packages moat reports beyond dpkg-query's list, on purpose: a stanza with no
/// `Status` field counts as installed (distroless status.d semantics), while
/// dpkg-query treats it as not-installed.
fn moat_extra(name: &str) -> &'static [&'static str] {
    match name {
        "scalibr-dpkg-statusfield" | "scalibr-opkg-statusfield" => {
            &["ii \twantnostatus\t1.0\t\twantnostatus\t1.0"]
        }
        _ => &[],
    }
}

/// The exact warnings moat gives per fixture (all others: none).
fn expected_warnings(name: &str) -> Vec<&'static str> {
    match name {
        "scalibr-dpkg-invalid" | "scalibr-opkg-invalid" => vec![
            "stanza 1: no fields (1 malformed line(s))",
            "stanza 2: no fields (1 malformed line(s))",
        ],
        "scalibr-dpkg-nopackage" => vec!["stanza 2: no Package field"],
        "scalibr-opkg-nopackage" => vec!["stanza 2: no Package field"],
        "scalibr-dpkg-noversion" => vec!["stanza 2 (acl): no Version field"],
        "scalibr-opkg-noversion" => vec!["stanza 2 (libuci20130104): no Version field"],
        "syft-image-dpkg" | "syft-statusd-empty" => vec!["stanza 1: no Package field"],
        // vcpkg's per-feature stanzas (`Feature:`) have no Version.
        "claircore-vcpkg" => vec![
            "stanza 4 (curl): no Version field",
            "stanza 5 (curl): no Version field",
            "stanza 6 (curl): no Version field",
            "stanza 17 (libarchive): no Version field",
            "stanza 18 (libarchive): no Version field",
            "stanza 19 (libarchive): no Version field",
            "stanza 20 (libarchive): no Version field",
            "stanza 21 (libarchive): no Version field",
            "stanza 22 (libarchive): no Version field",
        ],
        "trivy-corrupsed" => vec![
            "stanza 4 (brokenPackageWithNoVersionThatShouldGetThrownOut): no Version field",
            "stanza 6 (invalidpkg): invalid version \"1:5.#\": invalid character",
        ],
        // "Pakij: apt", "Stratus: ...": fields, but none dpkg knows.
        "syft-statusd-corrupt" => vec!["stanza 1: no Package field"],
        "syft-statusd-multiple" => {
            vec![
                "stanza 1: no Package field",
                "stanza 2 (no-version): no Version field",
            ]
        }
        "syft-statusd-libpam-runtime" => vec![
            "stanza 2 (debconf1): no Version field",
            "stanza 3 (debconf2): no Version field",
            "stanza 4 (debconf-2.0): no Version field",
            "stanza 5 (cdebconf): no Version field",
            "stanza 6 (libpam-modules): no Version field",
        ],
        "syft-statusd-doc-examples" => vec![
            "stanza 6 (made-up-package-5): no Version field",
            "stanza 7 (foo): no Version field",
            "stanza 8 (bar): no Version field",
            "stanza 9 (kernel-headers-2.2.10): no Version field",
            "stanza 10 (hurd-dev): no Version field",
            "stanza 11 (gnumach-dev): no Version field",
            "stanza 12 (default-mta): no Version field",
            "stanza 13 (mail-transport-agent): no Version field",
            "stanza 14 (libc6): no Version field",
            "stanza 15 (libluajit5.1-dev): no Version field",
            "stanza 16 (liblua5.1-dev): no Version field",
        ],
        _ => vec![],
    }
}

#[test]
fn status_files_match_dpkg_query() {
    let Some(fx) = fixtures() else { return };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/dpkg");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "expected"))
        .collect();
    names.sort();
    assert!(names.len() >= 40, "expected files missing: {}", names.len());
    let mut failures = Vec::new();
    for path in &names {
        let name = path.file_stem().unwrap().to_str().unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        let spec = text
            .lines()
            .find_map(|l| l.strip_prefix("# fixture: "))
            .unwrap_or_else(|| panic!("{name}: no fixture header"));
        let mut want: Vec<String> = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(String::from)
            .collect();
        want.extend(moat_extra(name).iter().map(|s| s.to_string()));
        want.sort();
        let (pkgs, warnings) = run(&fx, spec);
        let mut got: Vec<String> = pkgs.iter().map(line).collect();
        got.sort();
        if got != want {
            failures.push(format!(
                "{name}: packages differ\n got: {got:#?}\nwant: {want:#?}"
            ));
        }
        if warnings != expected_warnings(name) {
            failures.push(format!("{name}: warnings {warnings:#?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn trivy_valid_details() {
    let Some(fx) = fixtures() else { return };
    let bundle = std::fs::read(fx.join("trivy-analyzer-dpkg/valid.txtar")).unwrap();
    let sections = txtar(&bundle);
    let status = &sections
        .iter()
        .find(|(n, _)| n == "var/lib/dpkg/status")
        .unwrap()
        .1;
    let p = parse_status(status.as_bytes());
    assert!(p.warnings.is_empty());
    let fdisk = p.packages.iter().find(|p| p.name == "fdisk").unwrap();
    assert_eq!(fdisk.version, "2.31.1-0.4ubuntu3.1");
    assert_eq!(fdisk.source_name.as_deref(), Some("util-linux"));
    assert_eq!(fdisk.source_version.as_deref(), Some("2.31.1-0.4ubuntu3.1"));
    assert_eq!(fdisk.arch.as_deref(), Some("amd64"));
    assert_eq!(fdisk.installed_size, Some(427));
    assert_eq!(fdisk.status.as_deref(), Some("install ok installed"));
    assert_eq!(
        fdisk.depends,
        [
            "libc6",
            "libfdisk1",
            "libmount1",
            "libncursesw5",
            "libsmartcols1",
            "libtinfo5"
        ]
    );
    assert_eq!(
        fdisk.maintainer.as_deref(),
        Some("Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>")
    );
    // Continuation lines in Depends, alternatives, duplicates.
    let pam = p
        .packages
        .iter()
        .find(|p| p.name == "libpam-runtime")
        .unwrap();
    assert_eq!(pam.source_name.as_deref(), Some("pam"));
    assert_eq!(&pam.depends[..3], ["debconf", "debconf-2.0", "cdebconf"]);
}

#[test]
fn status_d_relationships_and_sizes() {
    let Some(fx) = fixtures() else { return };
    let sd = fx.join("syft-status.d/var/lib/dpkg/status.d");
    let p = parse_status(&std::fs::read(sd.join("coreutils-relationships")).unwrap());
    let core = p
        .packages
        .iter()
        .find(|p| p.name == "coreutils")
        .expect("coreutils");
    assert!(
        core.depends
            .iter()
            .all(|d| !d.contains([' ', '(', ':', '|'])),
        "{:?}",
        core.depends
    );
    let p = parse_status(&std::fs::read(sd.join("doc-examples")).unwrap());
    let by = |n: &str| {
        p.packages
            .iter()
            .find(|p| p.name == n)
            .unwrap()
            .depends
            .clone()
    };
    assert_eq!(
        by("mutt"),
        [
            "libc6",
            "default-mta",
            "mail-transport-agent",
            "not-installed"
        ]
    );
    assert_eq!(
        by("made-up-package-1"),
        ["kernel-headers-2.2.10", "hurd-dev", "gnumach-dev"]
    );
    assert_eq!(
        by("made-up-package-2"),
        ["libluajit5.1-dev", "liblua5.1-dev"]
    );
    let p = parse_status(&std::fs::read(sd.join("installed-size-4KB")).unwrap());
    assert_eq!(p.packages[0].installed_size, Some(4));
    let p = parse_status(&std::fs::read(sd.join("deinstall")).unwrap());
    assert_eq!(p.packages.len(), 1);
    assert_eq!(p.packages[0].provides[..2], ["fuse-module", "linux-image"]);
}

#[test]
fn md5sums_and_info_files() {
    let Some(fx) = fixtures() else { return };
    let bundle = std::fs::read(fx.join("trivy-analyzer-dpkg/md5sums.txtar")).unwrap();
    let sections = txtar(&bundle);
    let (name, body) = sections
        .iter()
        .find(|(n, _)| n.ends_with(".md5sums"))
        .unwrap();
    assert_eq!(info_file_package(name), Some(("tar".into(), None)));
    let files = parse_md5sums(body.as_bytes());
    assert_eq!(files.len(), 13);
    assert_eq!(files[0], "/usr/bin/tar");
    assert_eq!(files[12], "/usr/share/man/man8/rmt-tar.8.gz");
    let md5 = std::fs::read(
        fx.join("syft-image-distroless-deb/var/lib/dpkg/status.d/libsqlite3-0.md5sums"),
    )
    .unwrap();
    assert!(parse_md5sums(&md5).iter().all(|f| f.starts_with("/usr/")));
    assert_eq!(
        info_file_package("var/lib/dpkg/status.d/libsqlite3-0.md5sums"),
        Some(("libsqlite3-0".into(), None))
    );
}

#[test]
fn list_files() {
    // No .list file is among the shared fixtures: a hand-written one in dpkg's layout.
    let list = b"/.\n/usr\n/usr/lib\n/usr/lib/x86_64-linux-gnu/libc.so.6\r\n\n/etc/ld.so.conf.d";
    assert_eq!(
        parse_list(list),
        [
            "/usr",
            "/usr/lib",
            "/usr/lib/x86_64-linux-gnu/libc.so.6",
            "/etc/ld.so.conf.d"
        ]
    );
    assert_eq!(
        info_file_package("var/lib/dpkg/info/libc6:amd64.list"),
        Some(("libc6".into(), Some("amd64".into())))
    );
    assert_eq!(
        info_file_package("var/lib/dpkg/info/libc6:amd64.md5sums"),
        Some(("libc6".into(), Some("amd64".into())))
    );
    assert_eq!(info_file_package("var/lib/dpkg/info/format"), None);
    assert!(parse_list(b"").is_empty());
}

#[test]
fn copyright_fixtures() {
    let Some(fx) = fixtures() else { return };
    let lic = |p: &str| copyright_licenses(&std::fs::read(fx.join(p)).unwrap());
    assert_eq!(
        lic("trivy-analyzer-dpkg/all-patterns-copyright"),
        ["GPL-2.0-or-later", "GPL-2.0-only"]
    );
    assert_eq!(
        lic("trivy-analyzer-dpkg/common-license-copyright"),
        ["GPL-2.0-only"]
    );
    assert_eq!(
        lic("trivy-analyzer-dpkg/license-pattern-and-classifier-copyright"),
        [
            "GPL-1.0-or-later",
            "Artistic",
            "BSD-4-clause-POWERDOG",
            "Zlib"
        ]
    );
    assert!(lic("trivy-analyzer-dpkg/no-license-copyright").is_empty());
    assert_eq!(
        lic("syft-image-distroless-deb/usr/share/doc/libsqlite3-0/copyright"),
        ["public-domain", "GPL-2.0-or-later"]
    );
}

#[test]
fn copyright_hand_written() {
    let dep5 = b"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: LGPL-2.1+ or BSD-3-clause\n\nFiles: x\nLicense: Expat\n\nLicense: Expat\n text\n";
    assert_eq!(
        copyright_licenses(dep5),
        ["LGPL-2.1-or-later", "BSD-3-Clause", "MIT"]
    );
    // In a machine-readable file, common-licenses mentions are not counted.
    let dep5b = b"Format: x\n\nFiles: *\nLicense: GPL-3+\n see /usr/share/common-licenses/GPL-3.\n";
    assert_eq!(copyright_licenses(dep5b), ["GPL-3.0-or-later"]);
    let free =
        b"See /usr/share/common-licenses/Apache-2.0 and /usr/share/common-licenses/LGPL-2.1.";
    assert_eq!(copyright_licenses(free), ["Apache-2.0", "LGPL-2.1-only"]);
}

#[test]
fn never_panics_on_fixtures_and_prefixes() {
    let Some(fx) = fixtures() else { return };
    let mut stack = vec![fx];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let bytes = std::fs::read(&p).unwrap();
            let step = (bytes.len() / 64).max(1);
            for cut in (0..=bytes.len()).step_by(step) {
                let b = &bytes[..cut];
                let _ = parse_status(b);
                let _ = parse_list(b);
                let _ = parse_md5sums(b);
                let _ = copyright_licenses(b);
            }
        }
    }
}

//! OS detection: hand-written os-release files for each supported distro
//! (`tests/data/os/*.os-release`), marker files, and a mapping of every
//! distribution bucket of trivy's OS-package detector fixtures
//! (`oracles/trivy-detector-ospkg/*/testdata/fixtures/*.yaml`, top-level
//! `- bucket: <os> <version>` lines) to the OsInfo moat must produce for it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "dpkg_support.rs"]
mod common;

use common::shared_dir;
use moat_model::OsInfo;
use moat_pkgdb::osrelease::{MARKER_FILES, from_marker, parse_os_release};
use std::path::Path;

fn os_file(name: &str) -> Option<OsInfo> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/os")
        .join(format!("{name}.os-release"));
    parse_os_release(&std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
}

/// (file, id, family, version, codename)
type Row = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
);

const OS_RELEASE: &[Row] = &[
    (
        "debian-12",
        "debian",
        "debian",
        Some("12"),
        Some("bookworm"),
    ),
    ("debian-9", "debian", "debian", Some("9"), Some("stretch")),
    (
        "debian-trixie-sid",
        "debian",
        "debian",
        Some("13"),
        Some("trixie"),
    ),
    ("debian-sid", "debian", "debian", None, Some("sid")),
    (
        "ubuntu-19.04",
        "ubuntu",
        "debian",
        Some("19.04"),
        Some("disco"),
    ),
    (
        "ubuntu-20.04",
        "ubuntu",
        "debian",
        Some("20.04"),
        Some("focal"),
    ),
    (
        "ubuntu-21.04",
        "ubuntu",
        "debian",
        Some("21.04"),
        Some("hirsute"),
    ),
    (
        "ubuntu-22.04",
        "ubuntu",
        "debian",
        Some("22.04"),
        Some("jammy"),
    ),
    ("alpine-3.10", "alpine", "alpine", Some("3.10.9"), None),
    ("rhel-9", "rhel", "redhat", Some("9.3"), None),
    ("centos-7", "centos", "redhat", Some("7"), None),
    ("rocky-8", "rocky", "redhat", Some("8.9"), None),
    ("almalinux-8", "almalinux", "redhat", Some("8.9"), None),
    ("ol-7", "ol", "redhat", Some("7.9"), None),
    ("fedora-39", "fedora", "redhat", Some("39"), None),
    ("amzn-1", "amzn", "redhat", Some("2018.03"), None),
    ("amzn-2", "amzn", "redhat", Some("2"), None),
    ("amzn-2022", "amzn", "redhat", Some("2022"), None),
    ("amzn-2023", "amzn", "redhat", Some("2023"), None),
    ("sles-15.3", "sles", "suse", Some("15.3"), None),
    ("sle-micro-5.3", "sle-micro", "suse", Some("5.3"), None),
    (
        "opensuse-leap-15.3",
        "opensuse-leap",
        "suse",
        Some("15.3"),
        None,
    ),
    (
        "opensuse-tumbleweed",
        "opensuse-tumbleweed",
        "suse",
        Some("20240101"),
        None,
    ),
    ("mariner-1.0", "mariner", "mariner", Some("1.0"), None),
    ("mariner-2.0", "mariner", "mariner", Some("2.0"), None),
    ("azurelinux-3.0", "azurelinux", "mariner", Some("3.0"), None),
    ("wolfi", "wolfi", "wolfi", Some("20230201"), None),
    ("chainguard", "chainguard", "wolfi", Some("20230214"), None),
    ("photon-1.0", "photon", "photon", Some("1.0"), None),
    (
        "bottlerocket",
        "bottlerocket",
        "bottlerocket",
        Some("1.19.1"),
        None,
    ),
];

#[test]
fn hand_written_os_release() {
    for (file, id, family, version, codename) in OS_RELEASE {
        let os = os_file(file).unwrap_or_else(|| panic!("{file}: not detected"));
        assert_eq!(
            (
                os.id.as_str(),
                os.family.as_str(),
                os.version.as_deref(),
                os.codename.as_deref()
            ),
            (*id, *family, *version, *codename),
            "{file}"
        );
        assert!(!os.name.is_empty() && !os.distroless, "{file}");
    }
    assert_eq!(
        os_file("debian-12").unwrap().name,
        "Debian GNU/Linux 12 (bookworm)"
    );
    assert_eq!(
        os_file("sles-15.3").unwrap().name,
        "SUSE Linux Enterprise Server 15 SP3"
    );
}

#[test]
fn quoting_comments_escapes() {
    let os = os_file("quoting").unwrap();
    assert_eq!(os.id, "ubuntu");
    assert_eq!(os.family, "debian");
    assert_eq!(os.version.as_deref(), Some("24.04"));
    assert_eq!(os.codename.as_deref(), Some("noble"));
    assert_eq!(os.name, r#"Ubuntu "Noble" $HOME \ 24.04"#);
    // NAME in single quotes keeps backslashes; used when PRETTY_NAME is absent.
    let os = parse_os_release(b"NAME='Quoted \\ \"Distro\"'\nID=Foo\nID_LIKE=\"rhel fedora\"\n")
        .unwrap();
    assert_eq!(os.name, r#"Quoted \ "Distro""#);
    assert_eq!((os.id.as_str(), os.family.as_str()), ("foo", "redhat"));
    // No ID: nothing to detect.
    assert_eq!(parse_os_release(b"NAME=Linux\nVERSION_ID=1\n"), None);
    assert_eq!(parse_os_release(b""), None);
    assert_eq!(parse_os_release(b"ID=\"\"\n"), None);
    // Unknown id with an ID_LIKE family, and one without.
    assert_eq!(
        parse_os_release(b"ID=pop\nID_LIKE=\"ubuntu debian\"\n")
            .unwrap()
            .family,
        "debian"
    );
    assert_eq!(parse_os_release(b"ID=gentoo\n").unwrap().family, "gentoo");
}

#[test]
fn marker_files() {
    let m = |p: &str, s: &str| {
        let os = from_marker(p, s.as_bytes()).unwrap_or_else(|| panic!("{p}: {s:?}"));
        (os.id, os.family, os.version, os.codename)
    };
    let t = |id: &str, fam: &str, v: Option<&str>, c: Option<&str>| {
        (
            id.to_string(),
            fam.to_string(),
            v.map(String::from),
            c.map(String::from),
        )
    };
    assert_eq!(
        m("etc/alpine-release", "3.19.1\n"),
        t("alpine", "alpine", Some("3.19.1"), None)
    );
    assert_eq!(
        m("/etc/debian_version", "12.5\n"),
        t("debian", "debian", Some("12"), Some("bookworm"))
    );
    assert_eq!(
        m("etc/debian_version", "trixie/sid\n"),
        t("debian", "debian", Some("13"), Some("trixie"))
    );
    assert_eq!(
        m("etc/debian_version", "sid\n"),
        t("debian", "debian", None, Some("sid"))
    );
    assert_eq!(
        m(
            "etc/redhat-release",
            "Red Hat Enterprise Linux Server release 6.10 (Santiago)\n"
        ),
        t("rhel", "redhat", Some("6.10"), Some("Santiago"))
    );
    assert_eq!(
        m(
            "etc/redhat-release",
            "CentOS Linux release 7.9.2009 (Core)\n"
        ),
        t("centos", "redhat", Some("7.9.2009"), Some("Core"))
    );
    assert_eq!(
        m("etc/centos-release", "CentOS Stream release 9\n"),
        t("centos", "redhat", Some("9"), None)
    );
    assert_eq!(
        m("etc/rocky-release", "Rocky Linux release 9.3 (Blue Onyx)\n"),
        t("rocky", "redhat", Some("9.3"), Some("Blue Onyx"))
    );
    assert_eq!(
        m(
            "etc/almalinux-release",
            "AlmaLinux release 9.3 (Shamrock Pearl)\n"
        ),
        t("almalinux", "redhat", Some("9.3"), Some("Shamrock Pearl"))
    );
    assert_eq!(
        m("etc/oracle-release", "Oracle Linux Server release 7.9\n"),
        t("ol", "redhat", Some("7.9"), None)
    );
    assert_eq!(
        m("etc/fedora-release", "Fedora release 39 (Thirty Nine)\n"),
        t("fedora", "redhat", Some("39"), Some("Thirty Nine"))
    );
    assert_eq!(
        m("etc/system-release", "Amazon Linux release 2 (Karoo)\n"),
        t("amzn", "redhat", Some("2"), Some("Karoo"))
    );
    assert_eq!(
        m("etc/system-release", "Amazon Linux AMI release 2018.03\n"),
        t("amzn", "redhat", Some("2018.03"), None)
    );
    assert_eq!(
        m(
            "etc/amazon-linux-release",
            "Amazon Linux release 2023 (Amazon Linux)\n"
        ),
        t("amzn", "redhat", Some("2023"), Some("Amazon Linux"))
    );
    assert_eq!(
        m(
            "etc/SuSE-release",
            "SUSE Linux Enterprise Server 12 (x86_64)\nVERSION = 12\nPATCHLEVEL = 3\n"
        ),
        t("sles", "suse", Some("12.3"), None)
    );
    assert_eq!(
        m(
            "etc/SuSE-release",
            "openSUSE 13.2 (x86_64)\nVERSION = 13.2\nCODENAME = Harlequin\n"
        ),
        t("opensuse-leap", "suse", Some("13.2"), None)
    );
    assert_eq!(
        m(
            "etc/lsb-release",
            "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\nDISTRIB_CODENAME=jammy\nDISTRIB_DESCRIPTION=\"Ubuntu 22.04.3 LTS\"\n"
        ),
        t("ubuntu", "debian", Some("22.04"), Some("jammy"))
    );
    assert_eq!(
        m(
            "etc/mariner-release",
            "CBL-Mariner 2.0.20240301\nMARINER_BUILD_NUMBER=abc\n"
        ),
        t("mariner", "mariner", Some("2.0"), None)
    );
    assert_eq!(
        m("etc/azurelinux-release", "Azure Linux 3.0.20240727\n"),
        t("azurelinux", "mariner", Some("3.0"), None)
    );
    assert_eq!(
        m("etc/os-release", "ID=wolfi\n"),
        t("wolfi", "wolfi", None, None)
    );
    // Unknown paths and junk contents.
    assert_eq!(from_marker("etc/hostname", b"box\n"), None);
    assert_eq!(
        from_marker("etc/redhat-release", b"Something else release 1\n"),
        None
    );
    assert_eq!(from_marker("etc/alpine-release", b"\n\n"), None);
    assert_eq!(from_marker("etc/alpine-release", b"edge\n"), None);
    // Every listed marker is relative and understood by from_marker.
    for p in MARKER_FILES {
        assert!(!p.starts_with('/'), "{p}");
    }
    for p in [
        "etc/alpine-release",
        "etc/debian_version",
        "etc/redhat-release",
        "etc/centos-release",
        "etc/rocky-release",
        "etc/almalinux-release",
        "etc/oracle-release",
        "etc/fedora-release",
        "etc/system-release",
        "etc/SuSE-release",
        "etc/lsb-release",
        "etc/mariner-release",
    ] {
        assert!(MARKER_FILES.contains(&p), "{p} missing from MARKER_FILES");
    }
}

/// trivy detector bucket → the hand-written os-release (or marker file) of that
/// release and what moat must say: (id, family, version).
fn bucket_expectation(bucket: &str) -> Option<(OsInfo, &'static str, &'static str, &'static str)> {
    let (file, id, fam, ver) = match bucket {
        "alpine 3.10" => ("alpine-3.10", "alpine", "alpine", "3.10.9"),
        "debian 9" => ("debian-9", "debian", "debian", "9"),
        "debian 12" => ("debian-12", "debian", "debian", "12"),
        "ubuntu 19.04" => ("ubuntu-19.04", "ubuntu", "debian", "19.04"),
        "ubuntu 20.04" => ("ubuntu-20.04", "ubuntu", "debian", "20.04"),
        "ubuntu 21.04" => ("ubuntu-21.04", "ubuntu", "debian", "21.04"),
        "alma 8" => ("almalinux-8", "almalinux", "redhat", "8.9"),
        "rocky 8" => ("rocky-8", "rocky", "redhat", "8.9"),
        "Oracle Linux 7" => ("ol-7", "ol", "redhat", "7.9"),
        "amazon linux 1" => ("amzn-1", "amzn", "redhat", "2018.03"),
        "amazon linux 2" => ("amzn-2", "amzn", "redhat", "2"),
        "amazon linux 2022" => ("amzn-2022", "amzn", "redhat", "2022"),
        "amazon linux 2023" => ("amzn-2023", "amzn", "redhat", "2023"),
        "CBL-Mariner 1.0" => ("mariner-1.0", "mariner", "mariner", "1.0"),
        "CBL-Mariner 2.0" => ("mariner-2.0", "mariner", "mariner", "2.0"),
        "Azure Linux 3.0" => ("azurelinux-3.0", "azurelinux", "mariner", "3.0"),
        "SUSE Linux Enterprise 15.3" => ("sles-15.3", "sles", "suse", "15.3"),
        "SUSE Linux Enterprise Micro 5.3" => ("sle-micro-5.3", "sle-micro", "suse", "5.3"),
        "openSUSE Leap 15.3" => ("opensuse-leap-15.3", "opensuse-leap", "suse", "15.3"),
        "openSUSE Tumbleweed" => (
            "opensuse-tumbleweed",
            "opensuse-tumbleweed",
            "suse",
            "20240101",
        ),
        "wolfi" => ("wolfi", "wolfi", "wolfi", "20230201"),
        "chainguard" => ("chainguard", "chainguard", "wolfi", "20230214"),
        "Photon OS 1.0" => ("photon-1.0", "photon", "photon", "1.0"),
        "bottlerocket" => ("bottlerocket", "bottlerocket", "bottlerocket", "1.19.1"),
        // RHEL 6 has no os-release: its marker file.
        "Red Hat Enterprise Linux 6" => {
            let os = from_marker(
                "etc/redhat-release",
                b"Red Hat Enterprise Linux Server release 6.10 (Santiago)\n",
            )?;
            return Some((os, "rhel", "redhat", "6.10"));
        }
        // "Red Hat" (+ "CPE"): trivy's version-less RHEL buckets, any rhel release.
        "Red Hat" | "Red Hat CPE" => ("rhel-9", "rhel", "redhat", "9.3"),
        _ => return None,
    };
    Some((os_file(file)?, id, fam, ver))
}

/// Buckets that are not an operating system moat detects from os-release:
/// vendor patch streams layered on another distro (echo, minimos, rapidfort,
/// root.io, seal) whose images carry the base distro's os-release.
fn unmapped(bucket: &str) -> bool {
    bucket == "data-source"
        || bucket == "echo"
        || bucket == "minimos"
        || ["rapidfort ", "root.io ", "seal "]
            .iter()
            .any(|p| bucket.starts_with(p))
}

#[test]
fn trivy_detector_buckets() {
    let Some(shared) = shared_dir() else { return };
    let root = shared.join("data/oracles/trivy-detector-ospkg");
    if !root.is_dir() {
        assert!(
            std::env::var("CI").map(|v| v != "true").unwrap_or(true),
            "missing {}",
            root.display()
        );
        eprintln!("skipped: {} missing", root.display());
        return;
    }
    let mut buckets = std::collections::BTreeSet::new();
    for distro in std::fs::read_dir(&root).unwrap().flatten() {
        let fixtures = distro.path().join("testdata/fixtures");
        let Ok(files) = std::fs::read_dir(&fixtures) else {
            continue;
        };
        for f in files.flatten() {
            let text = std::fs::read_to_string(f.path()).unwrap_or_default();
            for line in text.lines() {
                if let Some(b) = line.strip_prefix("- bucket:") {
                    buckets.insert(b.trim().trim_matches('"').to_string());
                }
            }
        }
    }
    assert!(buckets.len() > 20, "{buckets:?}");
    let mut mapped = 0;
    for b in &buckets {
        if unmapped(b) {
            continue;
        }
        let (os, id, fam, ver) =
            bucket_expectation(b).unwrap_or_else(|| panic!("trivy bucket {b:?} has no mapping"));
        assert_eq!(
            (os.id.as_str(), os.family.as_str(), os.version.as_deref()),
            (id, fam, Some(ver)),
            "{b}"
        );
        mapped += 1;
    }
    assert!(mapped >= 25, "only {mapped} buckets mapped");
}

#[test]
fn grype_debian_rootfs() {
    let Some(shared) = shared_dir() else { return };
    let p = shared.join("data/oracles/grype/test/integration/testdata/image-debian-match-coverage/usr/lib/os-release");
    let Ok(bytes) = std::fs::read(&p) else { return };
    let os = from_marker("usr/lib/os-release", &bytes).unwrap();
    assert_eq!(
        (os.id.as_str(), os.family.as_str(), os.version.as_deref()),
        ("debian", "debian", Some("8"))
    );
    assert_eq!(os.name, "Debian GNU/Linux 8 (jessie)");
    // No VERSION_CODENAME in this file: for Debian it comes from PRETTY_NAME.
    assert_eq!(os.codename.as_deref(), Some("jessie"));
}

#[test]
fn never_panics() {
    let samples: [&[u8]; 8] = [
        b"ID=\"",
        b"ID='\\",
        b"ID=\\",
        b"\xff\xfe=\xff",
        b"=\n=\n",
        b"ID=a\\\n",
        b"#",
        b"ID=debian\nPRETTY_NAME=\"/\"",
    ];
    for s in samples {
        let _ = parse_os_release(s);
        for m in MARKER_FILES {
            let _ = from_marker(m, s);
        }
    }
    let big = vec![b'A'; 1 << 20];
    let _ = parse_os_release(&big);
    let _ = from_marker("etc/debian_version", &big);
}

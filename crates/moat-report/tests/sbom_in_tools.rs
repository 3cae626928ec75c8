//! Real SBOMs of other tools, made here from the shared `debian-tools` image: Trivy's
//! CycloneDX and SPDX, Syft's CycloneDX and SPDX (`/var/tmp/moat-peers/bin`, or
//! `$MOAT_PEERS/bin`; the image from `$MOAT_IMAGES/out`, default `/var/tmp/moat-images`).
//! Read back, every deb package must keep the Debian 12 context and its source package,
//! and the four documents must agree on the (name, version) set. Missing tools or image:
//! "skipped", or a failure when `CI=true`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_model::Inventory;
use moat_report::read_sbom;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn skip_or_fail(what: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{what} is missing and CI=true");
    }
    eprintln!("skipped: {what} not found (set MOAT_PEERS / MOAT_IMAGES)");
}

fn peers_bin(name: &str) -> Option<PathBuf> {
    let root = std::env::var_os("MOAT_PEERS")
        .map_or_else(|| PathBuf::from("/var/tmp/moat-peers"), PathBuf::from);
    let p = root.join("bin").join(name);
    if p.is_file() {
        Some(p)
    } else {
        skip_or_fail(&p.display().to_string());
        None
    }
}

fn image() -> Option<PathBuf> {
    let root = std::env::var_os("MOAT_IMAGES")
        .map_or_else(|| PathBuf::from("/var/tmp/moat-images"), PathBuf::from);
    let p = root.join("out/debian-tools.docker.tar");
    if p.is_file() {
        Some(p)
    } else {
        skip_or_fail(&p.display().to_string());
        None
    }
}

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn trivy(bin: &Path, image: &Path, format: &str) -> Vec<u8> {
    run(Command::new(bin)
        .args(["image", "--input"])
        .arg(image)
        .args([
            "--format",
            format,
            "--cache-backend",
            "memory",
            "--skip-db-update",
            "--offline-scan",
            "-q",
        ]))
}

/// Both Syft documents from one run.
fn syft(bin: &Path, image: &Path, dir: &Path) -> (Vec<u8>, Vec<u8>) {
    let cdx = dir.join("syft.cdx.json");
    let spdx = dir.join("syft.spdx.json");
    let mut target = std::ffi::OsString::from("docker-archive:");
    target.push(image);
    run(Command::new(bin)
        .arg("scan")
        .arg(target)
        .arg("-o")
        .arg(format!("cyclonedx-json={}", cdx.display()))
        .arg("-o")
        .arg(format!("spdx-json={}", spdx.display()))
        .arg("-q"));
    (
        std::fs::read(&cdx).expect("syft cyclonedx"),
        std::fs::read(&spdx).expect("syft spdx"),
    )
}

fn debs(inv: &Inventory) -> BTreeSet<(String, String)> {
    inv.packages
        .iter()
        .filter(|p| p.kind == "deb")
        .map(|p| (p.name.to_string(), p.version.to_string()))
        .collect()
}

#[test]
fn other_tools_sboms_keep_the_distro_context() {
    let (Some(trivy_bin), Some(syft_bin), Some(image)) =
        (peers_bin("trivy-offline"), peers_bin("syft"), image())
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let (syft_cdx, syft_spdx) = syft(&syft_bin, &image, dir.path());
    let docs = [
        ("trivy.cdx.json", trivy(&trivy_bin, &image, "cyclonedx")),
        ("trivy.spdx.json", trivy(&trivy_bin, &image, "spdx-json")),
        ("syft.cdx.json", syft_cdx),
        ("syft.spdx.json", syft_spdx),
    ];
    let mut sets: BTreeMap<&str, BTreeSet<(String, String)>> = BTreeMap::new();
    let mut sources: BTreeMap<&str, BTreeMap<String, (String, String)>> = BTreeMap::new();
    for (name, bytes) in &docs {
        let inv = read_sbom(bytes, name).unwrap_or_else(|e| panic!("{e}"));
        let debs_of = debs(&inv);
        assert!(
            debs_of.len() > 50,
            "{name}: only {} deb packages",
            debs_of.len()
        );
        for p in inv.packages.iter().filter(|p| p.kind == "deb") {
            assert_eq!(
                p.ecosystem.as_deref(),
                Some("Debian:12"),
                "{name}: {} {}",
                p.name,
                p.version
            );
            assert!(
                p.source_name.is_some() && p.source_version.is_some(),
                "{name}: {} has no source",
                p.name
            );
            assert!(
                moat_model::Purl::parse(&p.purl()).is_ok(),
                "{name}: {}",
                p.purl()
            );
        }
        let os = inv.artifact.os.as_ref().expect("os");
        assert_eq!(os.id, "debian", "{name}");
        let src = |n: &str| {
            inv.packages
                .iter()
                .find(|p| p.name == n)
                .and_then(|p| p.source_name.clone())
                .unwrap_or_else(|| panic!("{name}: no {n}"))
        };
        assert_eq!(src("libc6"), "glibc", "{name}");
        assert_eq!(src("bsdutils"), "util-linux", "{name}");
        assert_eq!(src("login"), "shadow", "{name}");
        let bsd = inv.packages.iter().find(|p| p.name == "bsdutils").unwrap();
        assert!(
            bsd.version.starts_with("1:") && bsd.epoch == Some(1),
            "{name}: bsdutils {}",
            bsd.version
        );
        sets.insert(name, debs_of);
        sources.insert(
            name,
            inv.packages
                .iter()
                .filter(|p| p.kind == "deb")
                .map(|p| {
                    (
                        format!("{} {}", p.name, p.version),
                        (
                            p.source_name.as_deref().unwrap_or_default().to_string(),
                            p.source_version.as_deref().unwrap_or_default().to_string(),
                        ),
                    )
                })
                .collect(),
        );
    }
    let (first, want) = sets.iter().next().unwrap();
    for (name, got) in &sets {
        assert_eq!(
            got,
            want,
            "{name} and {first} disagree: only in {name}: {:?}; only in {first}: {:?}",
            got.difference(want).collect::<Vec<_>>(),
            want.difference(got).collect::<Vec<_>>()
        );
    }
    // and so do the source packages (name and version) of every deb
    let (first, want) = sources.iter().next().unwrap();
    for (name, got) in &sources {
        assert_eq!(got, want, "{name} and {first} disagree on source packages");
    }
}

#[test]
fn other_tools_language_packages_get_their_ecosystems() {
    let (Some(trivy_bin), Some(syft_bin)) = (peers_bin("trivy-offline"), peers_bin("syft")) else {
        return;
    };
    let root = std::env::var_os("MOAT_IMAGES")
        .map_or_else(|| PathBuf::from("/var/tmp/moat-images"), PathBuf::from);
    let image = root.join("out/lang-app.docker.tar");
    if !image.is_file() {
        skip_or_fail(&image.display().to_string());
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (syft_cdx, _) = syft(&syft_bin, &image, dir.path());
    let docs = [
        ("trivy.cdx.json", trivy(&trivy_bin, &image, "cyclonedx")),
        ("syft.cdx.json", syft_cdx),
    ];
    let want = [
        ("npm", "npm"),
        ("pypi", "PyPI"),
        ("cargo", "crates.io"),
        ("maven", "Maven"),
        ("golang", "Go"),
        ("gem", "RubyGems"),
        ("deb", "Debian:12"),
    ];
    for (name, bytes) in &docs {
        let inv = read_sbom(bytes, name).unwrap_or_else(|e| panic!("{e}"));
        for (kind, eco) in want {
            let of_kind: Vec<_> = inv.packages.iter().filter(|p| p.kind == kind).collect();
            assert!(!of_kind.is_empty(), "{name}: no {kind} packages");
            for p in of_kind {
                assert_eq!(p.ecosystem.as_deref(), Some(eco), "{name}: {}", p.name);
            }
        }
        let jackson = inv
            .packages
            .iter()
            .find(|p| p.purl().contains("jackson-databind"))
            .expect("jackson-databind");
        assert_eq!(
            jackson.name, "com.fasterxml.jackson.core:jackson-databind",
            "{name}"
        );
    }
}

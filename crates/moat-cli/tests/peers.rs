//! Agreement with the peer tools (trivy 0.59.1 and syft 1.18.1 from ../shared/peers) on the
//! Debian packages of the four shared images. The package sets must be equal; the known
//! differences in how the tools spell things are normalised here, each with its reason:
//! - trivy writes a deb epoch as a purl qualifier (`zlib1g@1.2.13.dfsg-1?epoch=1`); moat and
//!   syft keep it in the version (`1:1.2.13.dfsg-1`), as the purl-spec deb examples do
//!   (`pkg:deb/debian/attr@1:2.4.47-2?arch=source`);
//! - trivy's `distro` qualifier is the point release from /etc/debian_version
//!   (`debian-12.15`); moat and syft use os-release's VERSION_ID (`debian-12`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Command;

fn components(doc: &Value) -> BTreeSet<(String, String)> {
    doc["components"]
        .as_array()
        .map(|c| c.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|c| {
            let purl = moat_model::Purl::parse(c["purl"].as_str()?).ok()?;
            if purl.ty != "deb" {
                return None;
            }
            let v = purl.version.clone().unwrap_or_default();
            let v = match purl.qualifiers.get("epoch") {
                Some(e) if !v.contains(':') => format!("{e}:{v}"),
                _ => v,
            };
            Some((purl.name, v))
        })
        .collect()
}

fn run_json(cmd: &mut Command) -> Value {
    let o = cmd.output().expect("peer tool runs");
    assert!(
        o.status.success(),
        "{:?}: {}",
        cmd,
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("peer JSON")
}

#[test]
fn debian_packages_agree_with_trivy_and_syft() {
    let Some(out) = images() else { return };
    let Some(peers) = peers() else { return };
    for image in ["debian-base", "debian-tools", "lang-app", "secrets-leak"] {
        let tar = out.join(format!("{image}.docker.tar"));
        let ours = {
            let o = moat([
                "sbom",
                tar.to_str().expect("utf-8"),
                "--format",
                "cyclonedx",
                "--quiet",
            ]);
            assert!(o.status.success(), "{}", stderr(&o));
            components(&serde_json::from_slice(&o.stdout).expect("json"))
        };
        let trivy = components(&run_json(
            Command::new(peers.join("trivy-offline"))
                .args(["image", "--input"])
                .arg(&tar)
                .args([
                    "--format",
                    "cyclonedx",
                    "--cache-backend",
                    "memory",
                    "--skip-db-update",
                    "--offline-scan",
                    "-q",
                ]),
        ));
        let syft = components(&run_json(
            Command::new(peers.join("syft"))
                .arg("scan")
                .arg(format!("docker-archive:{}", tar.display()))
                .args(["-o", "cyclonedx-json", "-q"]),
        ));
        assert!(ours.len() >= 88, "{image}: {}", ours.len());
        assert_eq!(ours, trivy, "{image}: moat and trivy differ");
        assert_eq!(ours, syft, "{image}: moat and syft differ");
        eprintln!(
            "{image}: {} Debian packages, identical in moat, trivy and syft",
            ours.len()
        );
    }
}

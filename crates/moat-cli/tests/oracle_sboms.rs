//! Oracle: an image scanned directly and the SBOMs other tools write of the same image
//! (Trivy and Syft, CycloneDX and SPDX JSON) give the same findings.
//!
//! For debian-tools and lang-app (../shared/images, docker-archive), the test writes the four
//! peer SBOMs, reads the inventory of all five targets, and builds one database from
//! `../shared/data/vulns` plus one *probe* advisory per (ecosystem, name, version) any of the
//! five inventories holds: an `ECOSYSTEM` range `introduced: V, last_affected: V`, which
//! matches exactly the packages whose version the ecosystem orders equal to `V` (for Debian,
//! the source package and its version, epoch included). The real advisories check what
//! users see (the Debian 12 images get none from the 2023 Debian lists, so without probes
//! debian-tools would compare two empty sets); the probes check every package's ecosystem,
//! name, version and source package.
//!
//! Each scan's findings become (id, package name by the ecosystem's rules, version): Syft
//! writes PyPI names in lower case (`django`), which PEP 503 says is the same project. The
//! sets of each SBOM and of the direct scan must be equal up to the differences listed in
//! [`KNOWN`], each with its reason; a listed difference that no longer occurs fails the test
//! too, so the list stays true.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use moat_model::normalize_name;
use moat_model::version::{Scheme, parse_ok};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

const IMAGES: [&str; 2] = ["debian-tools", "lang-app"];
const PEERS: [&str; 4] = ["trivy-cdx", "trivy-spdx", "syft-cdx", "syft-spdx"];

/// A difference that is known and why: in `image`, scanning the SBOMs of `peer` (a prefix of
/// the `PEERS` label: `trivy`, `syft-spdx`, ...), findings for `package` (by the ecosystem's
/// name rule) only on `side` (`direct` or `sbom`).
struct Known {
    image: &'static str,
    peer: &'static str,
    side: &'static str,
    package: &'static str,
    reason: &'static str,
}

const KNOWN: &[Known] = &[
    Known {
        image: "lang-app",
        peer: "syft",
        side: "sbom",
        package: "bench-node-app",
        reason: "the project itself (package.json's own name): moat's inventory marks it \
                 `application` and never matches it; an SBOM does not say which component \
                 is the project",
    },
    Known {
        image: "lang-app",
        peer: "trivy",
        side: "sbom",
        package: "bench-node-app",
        reason: "the project itself, as above",
    },
    Known {
        image: "lang-app",
        peer: "syft",
        side: "sbom",
        package: "benchrust",
        reason: "the project itself (the Rust binary's own crate), as above",
    },
    Known {
        image: "lang-app",
        peer: "trivy",
        side: "sbom",
        package: "benchrust",
        reason: "the project itself (the Rust binary's own crate), as above",
    },
    Known {
        image: "lang-app",
        peer: "syft",
        side: "sbom",
        package: "bench-app:bench-app",
        reason: "the project itself (the jar's own pom.properties), as above",
    },
    Known {
        image: "lang-app",
        peer: "trivy",
        side: "direct",
        package: "org.springframework:spring-core",
        reason: "/app/java/lib/spring3-core-3.x.jar has no pom.properties: moat names it \
                 from its MANIFEST.MF (Implementation-Title spring-core, Implementation-\
                 Version 4.3.30.RELEASE, group from its class directories); Trivy names \
                 such a jar only from its Java index (by digest), which it has not offline, \
                 and leaves it out",
    },
    Known {
        image: "lang-app",
        peer: "syft",
        side: "direct",
        package: "org.springframework:spring-core",
        reason: "the same jar: Syft names it from its file name (`spring3-core` `3.x`, next \
                 entry) rather than from its manifest",
    },
    Known {
        image: "lang-app",
        peer: "syft",
        side: "sbom",
        package: "spring3-core:spring3-core",
        reason: "the same jar as Syft names it from its file name",
    },
    Known {
        image: "lang-app",
        peer: "syft",
        side: "sbom",
        package: "pyyaml",
        reason: "/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info belongs to the Debian \
                 package python3-yaml: moat (and Trivy) report the deb, whose advisories are \
                 the distro's; Syft reports the Python package too",
    },
    Known {
        image: "lang-app",
        peer: "syft",
        side: "sbom",
        package: "six",
        reason: "six-1.16.0.egg-info belongs to the Debian package python3-six, as above",
    },
    Known {
        image: "lang-app",
        peer: "syft",
        side: "direct",
        package: "winapi",
        reason: "Syft reads Rust dependencies in images only from the binary's cargo-auditable \
                 section (its Cargo.lock cataloger runs on directories), which lists what was \
                 compiled into the Linux binary; moat also reads /app/rust/Cargo.lock, which \
                 holds the Windows-only winapi crates",
    },
    Known {
        image: "lang-app",
        peer: "syft",
        side: "direct",
        package: "winapi-i686-pc-windows-gnu",
        reason: "a Windows-only crate of Cargo.lock, as above",
    },
    Known {
        image: "lang-app",
        peer: "syft",
        side: "direct",
        package: "winapi-x86_64-pc-windows-gnu",
        reason: "a Windows-only crate of Cargo.lock, as above",
    },
];

fn shared_vulns() -> Option<PathBuf> {
    needed(
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/vulns"
        )),
        "../shared/data/vulns",
    )
}

/// Runs a peer tool; its failure fails the test.
fn peer(tool: &Path, args: &[&OsStr]) {
    let o = Command::new(tool)
        .args(args)
        .output()
        .expect("peer tool runs");
    assert!(
        o.status.success(),
        "{} {args:?}: {}",
        tool.display(),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Writes the four peer SBOMs of `tar` into `dir`; returns (label, path) of each.
fn peer_sboms(peers: &Path, tar: &Path, dir: &Path) -> Vec<(&'static str, PathBuf)> {
    let out: Vec<(&'static str, PathBuf)> = PEERS
        .iter()
        .map(|p| (*p, dir.join(format!("{p}.json"))))
        .collect();
    let os = OsStr::new;
    for (fmt, path) in [("cyclonedx", &out[0].1), ("spdx-json", &out[1].1)] {
        peer(
            &peers.join("trivy-offline"),
            &[
                os("image"),
                os("--input"),
                tar.as_os_str(),
                os("--format"),
                os(fmt),
                os("--cache-backend"),
                os("memory"),
                os("--skip-db-update"),
                os("--offline-scan"),
                os("-q"),
                os("--output"),
                path.as_os_str(),
            ],
        );
    }
    let src = format!("docker-archive:{}", tar.display());
    let cdx = format!("cyclonedx-json={}", out[2].1.display());
    let spdx = format!("spdx-json={}", out[3].1.display());
    peer(
        &peers.join("syft"),
        &[
            os("-q"),
            os("scan"),
            os(&src),
            os("-o"),
            os(&cdx),
            os("-o"),
            os(&spdx),
        ],
    );
    out
}

/// `moat inventory|scan TARGET --format json` (plus `extra`), parsed.
fn moat_json(verb: &str, target: &Path, extra: &[&OsStr], home: &Path) -> Value {
    let o = run(isolated(home)
        .arg(verb)
        .arg(target)
        .args(["--format", "json", "-q"])
        .args(extra));
    assert_eq!(
        code(&o),
        0,
        "moat {verb} {}: {}",
        target.display(),
        stderr(&o)
    );
    serde_json::from_slice(&o.stdout).expect("JSON report")
}

/// The probe advisories (OSV JSON, source `oracle`) for every package of `inventory` that
/// the matcher would look up: (ecosystem, name looked up, version compared) -> record.
fn probes(inventory: &Value, out: &mut BTreeMap<(String, String, String), Value>) {
    for p in inventory["packages"].as_array().expect("packages") {
        let s = |k: &str| p[k].as_str().unwrap_or_default().to_string();
        let eco = s("ecosystem");
        let Some(scheme) = Scheme::for_ecosystem(&eco) else {
            continue;
        };
        let (name, mut version) = if s("type") == "deb" && !s("source_name").is_empty() {
            let v = s("source_version");
            (
                s("source_name"),
                if v.is_empty() { s("version") } else { v },
            )
        } else {
            (s("name"), s("version"))
        };
        if eco == "Go" {
            version = moat_model::version::go::canonical(&name, &version);
            version = version.strip_prefix('v').unwrap_or(&version).to_string();
        }
        if version.is_empty() || !parse_ok(scheme, &version) {
            continue;
        }
        let key = (eco.clone(), normalize_name(&eco, &name), version.clone());
        out.entry(key).or_insert_with(|| {
            serde_json::json!({
                "id": format!("ORACLE:{eco}/{name}@{version}"),
                "modified": "2024-01-01T00:00:00Z",
                "source": "oracle",
                "summary": "probe",
                "affected": [{
                    "package": {"ecosystem": eco, "name": name},
                    "ranges": [{"type": "ECOSYSTEM", "events": [
                        {"introduced": version}, {"last_affected": version}]}],
                }],
            })
        });
    }
}

/// (id, package name by its ecosystem's rule, package version) of every finding.
type Key = (String, String, String);

fn finding_keys(report: &Value) -> BTreeSet<Key> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let eco = f["match"][0]["ecosystem"].as_str().unwrap_or_default();
            let name = f["package"]["name"].as_str().expect("package name");
            (
                f["id"].as_str().expect("id").to_string(),
                normalize_name(eco, name),
                f["package"]["version"]
                    .as_str()
                    .expect("version")
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn sboms_of_trivy_and_syft_give_the_findings_of_the_image() {
    let (Some(images), Some(peers), Some(vulns)) = (images(), peers(), shared_vulns()) else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let h = home.path();

    // The targets: each image and its four peer SBOMs.
    let mut targets: Vec<(&str, &str, PathBuf)> = Vec::new();
    for image in IMAGES {
        let tar = images.join(format!("{image}.docker.tar"));
        let dir = h.join(image);
        std::fs::create_dir_all(&dir).unwrap();
        targets.push((image, "direct", tar.clone()));
        for (label, path) in peer_sboms(&peers, &tar, &dir) {
            targets.push((image, label, path));
        }
    }

    // One database: the shared advisories and a probe for every package of every target.
    let mut probe_records = BTreeMap::new();
    for (_, _, t) in &targets {
        probes(&moat_json("inventory", t, &[], h), &mut probe_records);
    }
    let probe_dir = h.join("probes");
    std::fs::create_dir_all(&probe_dir).unwrap();
    for (i, rec) in probe_records.values().enumerate() {
        std::fs::write(
            probe_dir.join(format!("probe-{i}.json")),
            serde_json::to_vec(rec).unwrap(),
        )
        .unwrap();
    }
    let db = h.join("oracle.db");
    let o = moat([
        OsStr::new("db"),
        OsStr::new("import"),
        OsStr::new("--db"),
        db.as_os_str(),
        vulns.as_os_str(),
        probe_dir.as_os_str(),
    ]);
    assert!(o.status.success(), "db import: {}", stderr(&o));

    // Every target's findings.
    let mut findings: BTreeMap<(&str, &str), BTreeSet<Key>> = BTreeMap::new();
    for (image, label, t) in &targets {
        // Vulnerabilities only: the comparison is about matching (the secret scanner, on by
        // default, finds lang-app's real Coveralls token in the image but not in an SBOM).
        let report = moat_json(
            "scan",
            t,
            &[
                OsStr::new("--scanners"),
                OsStr::new("vuln"),
                OsStr::new("--db"),
                db.as_os_str(),
            ],
            h,
        );
        findings.insert((image, label), finding_keys(&report));
    }

    let mut unexplained: Vec<String> = Vec::new();
    let mut used = vec![false; KNOWN.len()];
    for image in IMAGES {
        let direct = &findings[&(image, "direct")];
        // Sanity: the real advisories and the probes both found something.
        if image == "lang-app" {
            assert!(
                direct
                    .iter()
                    .any(|k| k.0 == "CVE-2021-35042" && k.1 == "django"),
                "{direct:?}"
            );
        }
        let probes_found = direct.iter().filter(|k| k.0.starts_with("ORACLE:")).count();
        assert!(probes_found > 100, "{image}: {probes_found} probes matched");
        for label in PEERS {
            let sbom = &findings[&(image, label)];
            // Syft names the Go standard library `go1.19.8`: read as `v1.19.8`, it gets the
            // probe of that version (and no advisory as if it were the lowest version).
            if image == "lang-app" {
                let stdlib = (
                    "ORACLE:Go/stdlib@1.19.8".to_string(),
                    "stdlib".to_string(),
                    "v1.19.8".to_string(),
                );
                assert!(sbom.contains(&stdlib), "{label}: {sbom:?}");
            }
            let sides = [
                ("direct", direct.difference(sbom)),
                ("sbom", sbom.difference(direct)),
            ];
            for (side, diff) in sides {
                for k in diff {
                    match KNOWN.iter().position(|r| {
                        r.image == image
                            && label.starts_with(r.peer)
                            && r.side == side
                            && r.package == k.1
                    }) {
                        Some(i) => used[i] = true,
                        None => unexplained.push(format!(
                            "{image} {label}: only {side}: {} {} {}",
                            k.0, k.1, k.2
                        )),
                    }
                }
            }
        }
    }
    assert!(
        unexplained.is_empty(),
        "{} unexplained differences:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
    let stale: Vec<String> = KNOWN
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(r, _)| {
            format!(
                "{} {} {} {}: {}",
                r.image, r.peer, r.side, r.package, r.reason
            )
        })
        .collect();
    assert!(
        stale.is_empty(),
        "listed differences that no longer occur:\n{}",
        stale.join("\n")
    );
}

//! SBOM input: versions as other tools spell them, brought to the spelling of moat's own
//! inventory (which the matcher compares), each case a small document.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_report::read_sbom;

/// A CycloneDX document of `(name, version, purl)` components (an empty version is left out).
fn cdx(components: &[(&str, &str, &str)]) -> Vec<u8> {
    let comps: Vec<serde_json::Value> = components
        .iter()
        .map(|(name, version, purl)| {
            let mut c = serde_json::json!({"type": "library", "name": name, "purl": purl});
            if !version.is_empty() {
                c["version"] = serde_json::json!(version);
            }
            c
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "metadata": {"component": {"type": "container", "name": "img"}},
        "components": comps,
    }))
    .unwrap()
}

/// (name, version, ecosystem, epoch) of each package, in document order.
fn read(doc: &[u8]) -> Vec<(String, String, Option<String>, Option<u64>)> {
    let inv = read_sbom(doc, "t.json").unwrap();
    assert!(inv.diagnostics.is_empty(), "{:?}", inv.diagnostics);
    inv.packages
        .into_iter()
        .map(|p| {
            (
                p.name.into(),
                p.version.into(),
                p.ecosystem.map(String::from),
                p.epoch.map(u64::from),
            )
        })
        .collect()
}

fn row(
    name: &str,
    version: &str,
    eco: &str,
    epoch: Option<u64>,
) -> (String, String, Option<String>, Option<u64>) {
    (name.into(), version.into(), Some(eco.into()), epoch)
}

#[test]
fn go_versions_get_the_module_spelling() {
    let doc = cdx(&[
        // Syft: the toolchain's spelling in the version, none in the purl
        ("stdlib", "go1.19.8", "pkg:golang/stdlib@1.19.8"),
        // Trivy
        ("stdlib", "v1.20.3", "pkg:golang/stdlib@v1.20.3"),
        ("stdlib", "go1.21rc2", "pkg:golang/stdlib@1.21rc2"),
        // a purl without the `v`, and no component version
        ("", "", "pkg:golang/golang.org/x/net@0.35.0"),
        (
            "github.com/google/uuid",
            "v1.3.0",
            "pkg:golang/github.com/google/uuid@v1.3.0",
        ),
        // no version: kept as written (the matcher leaves it unmatched)
        (
            "example.com/app",
            "(devel)",
            "pkg:golang/example.com/app@(devel)",
        ),
    ]);
    assert_eq!(
        read(&doc),
        [
            row("stdlib", "v1.19.8", "Go", None),
            row("stdlib", "v1.20.3", "Go", None),
            row("stdlib", "v1.21.0-rc.2", "Go", None),
            row("golang.org/x/net", "v0.35.0", "Go", None),
            row("github.com/google/uuid", "v1.3.0", "Go", None),
            row("example.com/app", "(devel)", "Go", None),
        ]
    );
}

#[test]
fn epochs_from_qualifiers_and_rpm_releases() {
    let doc = cdx(&[
        // Trivy: the epoch in a qualifier, not in the version
        (
            "bsdutils",
            "2.38.1-5+deb12u3",
            "pkg:deb/debian/bsdutils@2.38.1-5%2Bdeb12u3?arch=amd64&distro=debian-12.15&epoch=1",
        ),
        // the version only in the purl
        (
            "libgmp10",
            "",
            "pkg:deb/debian/libgmp10@6.2.1%2Bdfsg1-1.1?distro=debian-12&epoch=2",
        ),
        // already in the version: not doubled
        (
            "login",
            "1:4.13+dfsg1-1",
            "pkg:deb/debian/login@1:4.13%2Bdfsg1-1?distro=debian-12&epoch=1",
        ),
        // epoch 0 is no epoch
        (
            "bash",
            "5.2.15-2+b2",
            "pkg:deb/debian/bash@5.2.15-2%2Bb2?distro=debian-12&epoch=0",
        ),
        // rpm: `version-release` with the epoch put in front
        (
            "openssl-libs",
            "3.0.7-27.el9",
            "pkg:rpm/redhat/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=redhat-9.3&epoch=1",
        ),
    ]);
    assert_eq!(
        read(&doc),
        [
            row("bsdutils", "1:2.38.1-5+deb12u3", "Debian:12", Some(1)),
            row("libgmp10", "2:6.2.1+dfsg1-1.1", "Debian:12", Some(2)),
            row("login", "1:4.13+dfsg1-1", "Debian:12", Some(1)),
            row("bash", "5.2.15-2+b2", "Debian:12", None),
            row("openssl-libs", "1:3.0.7-27.el9", "Red Hat:9", Some(1)),
        ]
    );
}

#[test]
fn qualifiers_are_never_part_of_a_version() {
    let doc = cdx(&[
        (
            "",
            "",
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.19.0?classifier=sources&type=jar",
        ),
        (
            "log4j-api",
            "2.19.0",
            "pkg:maven/org.apache.logging.log4j/log4j-api@2.19.0?classifier=javadoc",
        ),
        (
            "",
            "",
            "pkg:conan/openssl@3.0.3?rrev=1d3cc9f3b2d2a1e1&prev=aa11",
        ),
    ]);
    assert_eq!(
        read(&doc),
        [
            row(
                "org.apache.logging.log4j:log4j-core",
                "2.19.0",
                "Maven",
                None
            ),
            row(
                "org.apache.logging.log4j:log4j-api",
                "2.19.0",
                "Maven",
                None
            ),
            row("openssl", "3.0.3", "ConanCenter", None),
        ]
    );
}

#[test]
fn syft_spdx_stdlib_gets_the_module_spelling() {
    let doc = serde_json::json!({
        "spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "img",
        "packages": [{
            "SPDXID": "SPDXRef-Package-go-module-stdlib", "name": "stdlib",
            "versionInfo": "go1.19.8",
            "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                              "referenceLocator": "pkg:golang/stdlib@1.19.8"}],
        }],
    });
    assert_eq!(
        read(&serde_json::to_vec(&doc).unwrap()),
        [row("stdlib", "v1.19.8", "Go", None)]
    );
}

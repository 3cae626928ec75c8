//! SBOM input: moat's own CycloneDX and SPDX read back, other tools' ways of writing the
//! distro context (written here as small documents), and the errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use moat_model::{ArtifactKind, Inventory, Package};
use moat_report::{SbomError, read_sbom};

/// (name, version, purl, ecosystem, source name, source version) of every package, sorted.
type Key = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn keys(inv: &Inventory) -> Vec<Key> {
    let mut v: Vec<Key> = inv
        .packages
        .iter()
        .map(|p| {
            (
                p.name.to_string(),
                p.version.to_string(),
                p.purl().into_owned(),
                p.ecosystem.as_deref().map(str::to_string),
                p.source_name.as_deref().map(str::to_string),
                p.source_version.as_deref().map(str::to_string),
            )
        })
        .collect();
    v.sort();
    v
}

fn by_name<'a>(inv: &'a Inventory, name: &str) -> &'a Package {
    inv.packages
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no package {name}"))
}

#[test]
fn moat_cyclonedx_round_trips() {
    let inv = common::debian();
    let bytes = moat_report::cyclonedx(&inv, &common::options());
    let back = read_sbom(&bytes, "debian.cdx.json").expect("reads");
    assert_eq!(keys(&back), keys(&inv));

    // CycloneDX carries everything else moat knows about a package, too
    let mut want = inv.packages.clone();
    want.sort_by(|a, b| a.id.cmp(&b.id));
    let mut got = back.packages.clone();
    got.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(got, want);
    let mut rels = inv.relationships.clone();
    rels.retain(|r| r.to != "npm:missing@1.0.0");
    rels.sort();
    rels.dedup();
    assert_eq!(back.relationships, rels);

    let (a, b) = (&back.artifact, &inv.artifact);
    assert_eq!(a.name, b.name);
    assert_eq!(a.kind, ArtifactKind::DockerArchive);
    assert_eq!(a.path, "debian.cdx.json");
    assert_eq!(
        (
            &a.manifest_digest,
            &a.config_digest,
            &a.platform,
            &a.repo_tags
        ),
        (
            &b.manifest_digest,
            &b.config_digest,
            &b.platform,
            &b.repo_tags
        )
    );
    assert_eq!(a.layers, b.layers);
    assert_eq!(a.os, b.os);
}

#[test]
fn moat_spdx_round_trips() {
    let inv = common::debian();
    let bytes = moat_report::spdx(&inv, &common::options());
    let back = read_sbom(&bytes, "debian.spdx.json").expect("reads");
    assert_eq!(keys(&back), keys(&inv));
    let libc = by_name(&back, "libc6");
    assert_eq!(libc.layer, Some(0));
    assert_eq!(libc.arch.as_deref(), Some("amd64"));
    assert_eq!(libc.locations[0].path, "/var/lib/dpkg/status");
    assert!(by_name(&back, "left-pad").dev);
    let os = back.artifact.os.as_ref().expect("os");
    assert_eq!(
        (os.id.as_str(), os.version.as_deref()),
        ("debian", Some("12"))
    );
    assert_eq!(back.artifact.manifest_digest, inv.artifact.manifest_digest);
    assert_eq!(back.relationships.len(), 1, "perl-base depends on libc6");
}

#[test]
fn rootfs_and_empty_round_trip() {
    for inv in [common::rootfs(), common::empty()] {
        let o = common::options();
        for (bytes, path) in [
            (moat_report::cyclonedx(&inv, &o), "x.cdx.json"),
            (moat_report::spdx(&inv, &o), "x.spdx.json"),
        ] {
            let back = read_sbom(&bytes, path).expect("reads");
            assert_eq!(keys(&back), keys(&inv), "{path}");
        }
    }
}

#[test]
fn hostile_inventory_reads_without_panicking() {
    let inv = common::hostile();
    let o = common::options();
    read_sbom(&moat_report::cyclonedx(&inv, &o), "h.cdx.json").expect("reads");
    read_sbom(&moat_report::spdx(&inv, &o), "h.spdx.json").expect("reads");
}

/// Trivy's way: distro with a point release, the epoch as a qualifier, the source in
/// properties, layers by diff id; a lockfile "application" that is not a package.
const TRIVY_CDX: &str = r#"{
  "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
  "metadata": {
    "tools": {"components": [{"type": "application", "name": "trivy", "version": "0.59.1"}]},
    "component": {"bom-ref": "root", "type": "container", "name": "img.tar",
      "properties": [
        {"name": "aquasecurity:trivy:DiffID", "value": "sha256:aaaa"},
        {"name": "aquasecurity:trivy:DiffID", "value": "sha256:bbbb"},
        {"name": "aquasecurity:trivy:ImageID", "value": "sha256:cccc"},
        {"name": "aquasecurity:trivy:RepoTag", "value": "app:1"}]}
  },
  "components": [
    {"bom-ref": "os", "type": "operating-system", "name": "debian", "version": "12.15"},
    {"bom-ref": "bsd", "type": "library", "name": "bsdutils", "version": "2.38.1-5+deb12u3",
     "purl": "pkg:deb/debian/bsdutils@2.38.1-5%2Bdeb12u3?arch=amd64&distro=debian-12.15&epoch=1",
     "properties": [
        {"name": "aquasecurity:trivy:LayerDiffID", "value": "sha256:bbbb"},
        {"name": "aquasecurity:trivy:SrcName", "value": "util-linux"},
        {"name": "aquasecurity:trivy:SrcRelease", "value": "5+deb12u3"},
        {"name": "aquasecurity:trivy:SrcVersion", "value": "2.38.1"}]},
    {"bom-ref": "gmp", "type": "library", "name": "libgmp10", "version": "6.2.1+dfsg1-1.1",
     "purl": "pkg:deb/debian/libgmp10@6.2.1%2Bdfsg1-1.1?arch=amd64&distro=debian-12.15&epoch=2",
     "properties": [
        {"name": "aquasecurity:trivy:SrcEpoch", "value": "2"},
        {"name": "aquasecurity:trivy:SrcName", "value": "gmp"},
        {"name": "aquasecurity:trivy:SrcRelease", "value": "1.1"},
        {"name": "aquasecurity:trivy:SrcVersion", "value": "6.2.1+dfsg1"}]},
    {"bom-ref": "ssl", "type": "library", "name": "openssl-libs", "version": "3.0.7-27.el9",
     "purl": "pkg:rpm/redhat/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=redhat-9.4&epoch=1"},
    {"bom-ref": "musl", "type": "library", "name": "musl", "version": "1.2.4-r2",
     "purl": "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=3.19.1"},
    {"bom-ref": "lock", "type": "application", "name": "app/poetry.lock",
     "properties": [{"name": "aquasecurity:trivy:Type", "value": "poetry"}]},
    {"bom-ref": "req", "type": "library", "name": "requests", "version": "2.25.0",
     "purl": "pkg:pypi/requests@2.25.0",
     "properties": [{"name": "aquasecurity:trivy:FilePath", "value": "app/poetry.lock"}]},
    {"bom-ref": "log4j", "type": "library", "group": "org.apache.logging.log4j", "name": "log4j-core",
     "version": "2.14.1", "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"},
    {"bom-ref": "xnet", "type": "library", "name": "golang.org/x/net", "version": "v0.7.0",
     "purl": "pkg:golang/golang.org/x/net@v0.7.0"},
    {"bom-ref": "bad", "type": "library", "name": "broken", "version": "1", "purl": "pkg:%zz"}
  ],
  "dependencies": [
    {"ref": "root", "dependsOn": ["bsd", "gmp"]},
    {"ref": "lock", "dependsOn": ["req"]},
    {"ref": "req", "dependsOn": ["xnet", "nowhere"]}
  ]
}"#;

#[test]
fn trivy_style_distro_context() {
    let inv = read_sbom(TRIVY_CDX.as_bytes(), "trivy.cdx.json").expect("reads");
    let bsd = by_name(&inv, "bsdutils");
    assert_eq!(bsd.version, "1:2.38.1-5+deb12u3");
    assert_eq!(bsd.epoch, Some(1));
    assert_eq!(bsd.ecosystem.as_deref(), Some("Debian:12"));
    assert_eq!(bsd.source_name.as_deref(), Some("util-linux"));
    assert_eq!(bsd.source_version.as_deref(), Some("2.38.1-5+deb12u3"));
    assert_eq!(bsd.layer, Some(1));
    let gmp = by_name(&inv, "libgmp10");
    assert_eq!(gmp.version, "2:6.2.1+dfsg1-1.1");
    assert_eq!(gmp.source_version.as_deref(), Some("2:6.2.1+dfsg1-1.1"));
    let ssl = by_name(&inv, "openssl-libs");
    assert_eq!(ssl.version, "1:3.0.7-27.el9");
    assert_eq!(ssl.ecosystem.as_deref(), Some("Red Hat:9"));
    // Trivy writes Alpine's distro qualifier without the id; the namespace and the
    // version are enough
    let musl = by_name(&inv, "musl");
    assert_eq!(musl.ecosystem.as_deref(), Some("Alpine:v3.19"));
    assert_eq!(musl.source_name.as_deref(), Some("musl"));
    let req = by_name(&inv, "requests");
    assert_eq!(req.ecosystem.as_deref(), Some("PyPI"));
    assert_eq!(req.locations[0].path, "app/poetry.lock");
    assert_eq!(
        by_name(&inv, "org.apache.logging.log4j:log4j-core")
            .ecosystem
            .as_deref(),
        Some("Maven")
    );
    assert_eq!(
        by_name(&inv, "golang.org/x/net").ecosystem.as_deref(),
        Some("Go")
    );
    assert!(!inv.packages.iter().any(|p| p.name == "app/poetry.lock"));
    // the broken purl: kept by name, warned about
    assert_eq!(by_name(&inv, "broken").purl(), "");
    assert!(inv.diagnostics.iter().any(|w| w.message.contains("broken")));
    let a = &inv.artifact;
    assert_eq!(a.name, "img.tar");
    assert_eq!(a.kind, ArtifactKind::Dir);
    assert_eq!(a.layers.len(), 2);
    assert_eq!(a.config_digest.as_deref(), Some("sha256:cccc"));
    assert_eq!(a.repo_tags, vec!["app:1".to_string()]);
    assert_eq!(a.os.as_ref().unwrap().version.as_deref(), Some("12.15"));
    assert_eq!(inv.relationships.len(), 1, "requests -> x/net only");
}

#[test]
fn alpine_distro_qualifier_of_moat_and_syft() {
    let doc = r#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[
      {"type":"library","name":"busybox","version":"1.36.1-r15",
       "purl":"pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1&upstream=busybox"},
      {"type":"library","name":"ssl_client","version":"1.36.1-r15",
       "purl":"pkg:apk/alpine/ssl_client@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1&upstream=busybox"},
      {"type":"library","name":"libcrypto3","version":"3.1.4-r5",
       "purl":"pkg:apk/alpine/libcrypto3@3.1.4-r5?distro=alpine-3.19.1",
       "properties":[{"name":"syft:metadata:originPackage","value":"openssl"}]},
      {"type":"library","name":"Django","version":"4.0","purl":"pkg:pypi/django@4.0"},
      {"type":"library","name":"core","version":"7.0.0","purl":"pkg:npm/%40babel/core@7.0.0"},
      {"type":"library","name":"libc6","version":"2.35-0ubuntu3.6",
       "purl":"pkg:deb/ubuntu/libc6@2.35-0ubuntu3.6?arch=amd64&distro=ubuntu-22.04&upstream=glibc"}
    ]}"#;
    let inv = read_sbom(doc.as_bytes(), "a.json").expect("reads");
    let ssl = by_name(&inv, "ssl_client");
    assert_eq!(ssl.ecosystem.as_deref(), Some("Alpine:v3.19"));
    assert_eq!(ssl.source_name.as_deref(), Some("busybox"));
    assert_eq!(ssl.source_version.as_deref(), Some("1.36.1-r15"));
    assert_eq!(
        by_name(&inv, "libcrypto3").source_name.as_deref(),
        Some("openssl")
    );
    assert_eq!(by_name(&inv, "Django").ecosystem.as_deref(), Some("PyPI"));
    assert_eq!(
        by_name(&inv, "@babel/core").ecosystem.as_deref(),
        Some("npm")
    );
    let libc = by_name(&inv, "libc6");
    assert_eq!(libc.ecosystem.as_deref(), Some("Ubuntu:22.04"));
    assert_eq!(libc.source_name.as_deref(), Some("glibc"));
    // no operating-system component: the distro most packages name
    let os = inv.artifact.os.as_ref().expect("os from qualifiers");
    assert_eq!(
        (os.id.as_str(), os.version.as_deref()),
        ("alpine", Some("3.19.1"))
    );
}

#[test]
fn trivy_spdx_source_info() {
    let doc = r#"{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"img",
      "creationInfo":{"creators":["Tool: trivy-0.59.1"]},
      "packages":[
        {"name":"img","SPDXID":"SPDXRef-Image","primaryPackagePurpose":"CONTAINER",
         "annotations":[{"annotator":"Tool: trivy-0.59.1","comment":"DiffID: sha256:aaaa"}]},
        {"name":"debian","SPDXID":"SPDXRef-OS","versionInfo":"12.4","primaryPackagePurpose":"OPERATING-SYSTEM"},
        {"name":"libc6","SPDXID":"SPDXRef-P1","versionInfo":"2.36-9+deb12u4",
         "sourceInfo":"built package from: glibc 2.36-9+deb12u4",
         "licenseDeclared":"LicenseRef-abc",
         "externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl",
           "referenceLocator":"pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12.4"}],
         "annotations":[{"annotator":"Tool: trivy-0.59.1","comment":"LayerDiffID: sha256:aaaa"}]},
        {"name":"libbz2-1.0","SPDXID":"SPDXRef-P2","versionInfo":"1.0.8-5",
         "externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl",
           "referenceLocator":"pkg:deb/debian/libbz2-1.0@1.0.8-5?arch=amd64"}]}
      ],
      "hasExtractedLicensingInfos":[{"licenseId":"LicenseRef-abc","extractedText":"GNU Lesser"}],
      "relationships":[
        {"spdxElementId":"SPDXRef-DOCUMENT","relationshipType":"DESCRIBES","relatedSpdxElement":"SPDXRef-Image"},
        {"spdxElementId":"SPDXRef-P1","relationshipType":"DEPENDENCY_OF","relatedSpdxElement":"SPDXRef-P2"}
      ]}"#;
    let inv = read_sbom(doc.as_bytes(), "t.spdx.json").expect("reads");
    assert_eq!(inv.packages.len(), 2);
    let libc = by_name(&inv, "libc6");
    assert_eq!(libc.ecosystem.as_deref(), Some("Debian:12"));
    assert_eq!(libc.source_name.as_deref(), Some("glibc"));
    assert_eq!(libc.source_version.as_deref(), Some("2.36-9+deb12u4"));
    assert_eq!(libc.layer, Some(0));
    assert_eq!(libc.licenses, vec!["GNU Lesser".to_string()]);
    // no distro qualifier: the document's OS
    let bz = by_name(&inv, "libbz2-1.0");
    assert_eq!(bz.ecosystem.as_deref(), Some("Debian:12"));
    assert_eq!(bz.source_name.as_deref(), Some("libbz2-1.0"));
    assert_eq!(inv.artifact.name, "img");
    assert_eq!(inv.relationships.len(), 1);
    assert_eq!(inv.relationships[0].from, bz.id);
}

fn err(bytes: &[u8]) -> String {
    match read_sbom(bytes, "/in/sbom.json") {
        Ok(_) => panic!("{:?} read", String::from_utf8_lossy(bytes)),
        Err(e) => {
            let text = e.to_string();
            assert!(text.starts_with("/in/sbom.json: "), "{text}");
            text
        }
    }
}

#[test]
fn errors_name_the_file_and_the_problem() {
    assert!(err(b"").contains("empty"));
    assert!(err(b"  \n").contains("empty"));
    assert!(err(b"{\"bomFormat\": ").contains("not valid JSON"));
    assert!(err(b"<?xml version=\"1.0\"?><bom/>").contains("XML"));
    assert!(err(b"SPDXVersion: SPDX-2.3\n").contains("tag-value"));
    assert!(err(b"[1, 2]").contains("not a JSON object"));
    assert!(err(b"{\"name\": \"x\"}").contains("neither"));
    assert!(err(b"{\"bomFormat\": \"SWID\"}").contains("\"SWID\""));
    assert!(err(b"{\"spdxVersion\": \"SPDX-3.0\"}").contains("SPDX-3.0"));
    assert!(
        err(b"{\"@context\": \"https://spdx.org/rdf/3.0.0/spdx-context.jsonld\"}")
            .contains("SPDX 3")
    );
    let e = err(b"{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.6\", \"components\": {}}");
    assert!(
        e.contains("malformed CycloneDX") && e.contains("line 1"),
        "{e}"
    );
    let e = err(b"{\"spdxVersion\": \"SPDX-2.3\", \"packages\": [{\"name\": 3}]}");
    assert!(e.contains("malformed SPDX"), "{e}");
    assert!(matches!(
        read_sbom(b"{}", "x"),
        Err(SbomError::UnknownFormat { .. })
    ));
}

#[test]
fn minimal_documents_and_nulls() {
    let inv = read_sbom(
        br#"{"bomFormat":"CycloneDX","specVersion":"1.4","components":null,"metadata":{"tools":[{"name":"x"}]}}"#,
        "m.json",
    )
    .expect("reads");
    assert!(inv.packages.is_empty());
    assert_eq!(inv.artifact.name, "m.json");
    let inv = read_sbom(
        "\u{feff}{\"spdxVersion\":\"SPDX-2.2\",\"packages\":null}".as_bytes(),
        "s.json",
    )
    .expect("reads");
    assert!(inv.packages.is_empty());
}

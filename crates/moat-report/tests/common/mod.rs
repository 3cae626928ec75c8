//! Inventories shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use moat_model::*;
use std::path::PathBuf;
use std::process::Command;

pub const TIMESTAMP: &str = "2026-11-29T01:02:03Z";

pub fn options() -> moat_report::RenderOptions {
    moat_report::RenderOptions {
        timestamp: TIMESTAMP.to_string(),
        color: false,
    }
}

fn digest(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

pub fn package(id: &str, name: &str, version: &str, kind: &str, purl: &str) -> Package {
    Package {
        id: id.into(),
        name: name.into(),
        version: version.into(),
        kind: kind.into(),
        purl: purl.into(),
        ecosystem: None,
        arch: None,
        epoch: None,
        source_name: None,
        source_version: None,
        licenses: Default::default(),
        layer: None,
        locations: Default::default(),
        dev: false,
        application: false,
        file_count: None,
        metadata: Default::default(),
    }
}

pub fn artifact(name: &str, kind: ArtifactKind) -> Artifact {
    Artifact {
        name: name.into(),
        kind,
        path: format!("/tmp/{name}"),
        repo_tags: vec![],
        manifest_digest: None,
        index_digest: None,
        config_digest: None,
        platform: None,
        os: None,
        layers: vec![],
        config: None,
    }
}

pub fn inventory(artifact: Artifact, packages: Vec<Package>) -> Inventory {
    Inventory {
        schema_version: SCHEMA_VERSION.into(),
        tool: Tool {
            name: "moat".into(),
            version: "0.1.0".into(),
            analyzers: vec![],
        },
        artifact,
        packages,
        relationships: vec![],
        diagnostics: vec![],
        package_files: Default::default(),
    }
}

/// A Debian 12 image with two layers: two deb packages in the base layer (one with an
/// SPDX id licence, one with a free-text licence and a dependency on the other) and an
/// npm development dependency with a licence expression in the second.
pub fn debian() -> Inventory {
    let mut art = artifact("docker.io/library/debian:12", ArtifactKind::DockerArchive);
    art.repo_tags = vec!["debian:12".into(), "docker.io/library/debian:12".into()];
    art.manifest_digest = Some(digest('a'));
    art.config_digest = Some(digest('b'));
    art.platform = Some(Platform {
        os: "linux".into(),
        architecture: "amd64".into(),
        variant: None,
    });
    art.os = Some(OsInfo {
        id: "debian".into(),
        family: "debian".into(),
        version: Some("12".into()),
        codename: Some("bookworm".into()),
        name: "Debian GNU/Linux 12 (bookworm)".into(),
        distroless: false,
    });
    art.layers = vec![
        Layer {
            index: 0,
            digest: Some(digest('c')),
            diff_id: Some(digest('d')),
            media_type: Some("application/vnd.oci.image.layer.v1.tar+gzip".into()),
            size: Some(29_150_000),
            created_by: Some("# debian.sh --arch 'amd64' out/ 'bookworm' '@1700000000'".into()),
        },
        Layer {
            index: 1,
            digest: Some(digest('e')),
            diff_id: Some(digest('f')),
            media_type: Some("application/vnd.oci.image.layer.v1.tar+gzip".into()),
            size: Some(1_024),
            created_by: Some("RUN npm ci --include=dev".into()),
        },
    ];
    art.config = Some(ImageConfig {
        cmd: vec!["bash".into()],
        ..Default::default()
    });

    let mut libc = package(
        "deb:libc6@2.36-9+deb12u4",
        "libc6",
        "2.36-9+deb12u4",
        "deb",
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12",
    );
    libc.ecosystem = Some("Debian:12".into());
    libc.arch = Some("amd64".into());
    libc.source_name = Some("glibc".into());
    libc.source_version = Some("2.36-9+deb12u4".into());
    libc.licenses = vec!["LGPL-2.1-or-later".into()].into();
    libc.layer = Some(0);
    libc.locations = vec![Location {
        path: "/var/lib/dpkg/status".into(),
        layer: Some(0),
    }]
    .into();
    libc.file_count = Some(213);
    libc.metadata.insert(
        "maintainer".into(),
        "GNU Libc Maintainers <debian-glibc@lists.debian.org>".into(),
    );

    let mut perl = package(
        "deb:perl-base@5.36.0-7+deb12u1",
        "perl-base",
        "5.36.0-7+deb12u1",
        "deb",
        "pkg:deb/debian/perl-base@5.36.0-7%2Bdeb12u1?arch=amd64&distro=debian-12",
    );
    perl.ecosystem = Some("Debian:12".into());
    perl.arch = Some("amd64".into());
    perl.source_name = Some("perl".into());
    perl.source_version = Some("5.36.0-7+deb12u1".into());
    perl.licenses = vec!["Artistic".into(), "GPL-1.0-or-later".into()].into();
    perl.layer = Some(0);
    perl.locations = vec![Location {
        path: "/var/lib/dpkg/status".into(),
        layer: Some(0),
    }]
    .into();

    let mut pad = package(
        "npm:left-pad@1.3.0",
        "left-pad",
        "1.3.0",
        "npm",
        "pkg:npm/left-pad@1.3.0",
    );
    pad.ecosystem = Some("npm".into());
    pad.licenses = vec!["GPL-2.0-or-later OR MIT".into()].into();
    pad.layer = Some(1);
    pad.locations = vec![Location {
        path: "/app/package-lock.json".into(),
        layer: Some(1),
    }]
    .into();
    pad.dev = true;

    // Found in scan order, not output order: the reporters sort.
    let mut inv = inventory(art, vec![pad, perl, libc]);
    let edge = |from: &str, to: &str| Relationship {
        from: from.into(),
        to: to.into(),
        kind: RelationshipKind::DependsOn,
    };
    inv.relationships = vec![
        edge("deb:perl-base@5.36.0-7+deb12u1", "deb:libc6@2.36-9+deb12u4"),
        // a repeated edge and one to a package that is not in the inventory: both dropped
        edge("deb:perl-base@5.36.0-7+deb12u1", "deb:libc6@2.36-9+deb12u4"),
        edge("npm:left-pad@1.3.0", "npm:missing@1.0.0"),
    ];
    inv.diagnostics = vec![
        Diagnostic::parse("unreadable package-lock.json").at("/srv/package-lock.json", Some(1)),
    ];
    inv
}

/// An image with no packages at all (scratch-like).
pub fn empty() -> Inventory {
    let mut art = artifact("scratch:latest", ArtifactKind::OciArchive);
    art.config_digest = Some(digest('9'));
    inventory(art, vec![])
}

/// A root filesystem: no digests, no layers, no OS release.
pub fn rootfs() -> Inventory {
    let mut p = package(
        "apk:busybox@1.36.1-r15",
        "busybox",
        "1.36.1-r15",
        "apk",
        "pkg:apk/alpine/busybox@1.36.1-r15",
    );
    p.licenses = vec!["GPL-2.0-only".into()].into();
    p.locations = vec![Location {
        path: "/lib/apk/db/installed".into(),
        layer: None,
    }]
    .into();
    inventory(artifact("/srv/rootfs", ArtifactKind::Rootfs), vec![p])
}

/// Everything the model allows but should not happen: repeated ids, ids that sanitise
/// alike, empty names and versions, a purl that is not one, control characters, odd and
/// LicenseRef licences, a self edge, a timestamp that is not one.
pub fn hostile() -> Inventory {
    let mut art = artifact("", ArtifactKind::Dir);
    art.manifest_digest = Some("md5:nothex".into());
    art.os = Some(OsInfo {
        id: String::new(),
        family: String::new(),
        version: None,
        codename: None,
        name: String::new(),
        distroless: true,
    });
    let mut a = package("x", "a\u{1b}[31m", "", "generic", "not a purl");
    a.licenses = vec![
        "LicenseRef-foo".into(),
        "Public Domain".into(),
        "Public/Domain".into(),
        "NOASSERTION".into(),
        " ".into(),
    ]
    .into();
    let mut b = package("x", "", "1", "generic", "");
    b.licenses = vec![
        "MIT".into(),
        "MIT".into(),
        "Apache-2.0 OR MIT".into(),
        "(BSD-3-Clause AND MIT)".into(),
    ]
    .into();
    b.layer = Some(7);
    let c = package("x#2", "日本語", "1", "generic", "pkg:generic/x@1");
    let d = package("SPDXRef-Artifact", "d", "1", "generic", "pkg:generic/d@1");
    let e = package("artifact:", "e", "1", "generic", "pkg:generic/e@1");
    let mut inv = inventory(art, vec![a, b, c, d, e]);
    let edge = |from: &str, to: &str| Relationship {
        from: from.into(),
        to: to.into(),
        kind: RelationshipKind::DependsOn,
    };
    inv.relationships = vec![edge("x", "x"), edge("x", "x#2"), edge("x#2", "x")];
    inv
}

// ---------------------------------------------------------------------------------------
// golden files and validators

pub fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Compares `actual` with the golden file, or rewrites the file when MOAT_UPDATE_GOLDEN is
/// set. A mismatch names the first differing line and shows both sides around it.
pub fn check(name: &str, actual: &[u8]) {
    let path = golden_path(name);
    if std::env::var_os("MOAT_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    let expected = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "reading {}: {e}\nrun `MOAT_UPDATE_GOLDEN=1 cargo test -p moat-report` to create it",
            path.display()
        )
    });
    if expected == actual {
        return;
    }
    let (exp, act) = (
        String::from_utf8_lossy(&expected),
        String::from_utf8_lossy(actual),
    );
    let (exp, act): (Vec<&str>, Vec<&str>) = (exp.lines().collect(), act.lines().collect());
    let first = exp
        .iter()
        .zip(&act)
        .position(|(e, a)| e != a)
        .unwrap_or(exp.len().min(act.len()));
    let from = first.saturating_sub(3);
    let mut msg = format!(
        "{name} differs from {} at line {} (expected {} lines, got {}).\n",
        path.display(),
        first + 1,
        exp.len(),
        act.len()
    );
    for (label, lines) in [("--- expected", &exp), ("+++ actual", &act)] {
        msg.push_str(label);
        msg.push('\n');
        for (i, l) in lines.iter().enumerate().skip(from).take(first - from + 4) {
            msg.push_str(&format!(
                "{:>5}{} {l}\n",
                i + 1,
                if i == first { '>' } else { ' ' }
            ));
        }
    }
    msg.push_str("If the change is intended: MOAT_UPDATE_GOLDEN=1 cargo test -p moat-report, then review `git diff`.");
    panic!("{msg}");
}

/// The reference validator `name` in `$MOAT_PEERS/bin` (default `/var/tmp/moat-peers`), or
/// `None` with a skip notice; a missing validator fails the test when `CI=true`.
pub fn validator(name: &str) -> Option<PathBuf> {
    let root = std::env::var_os("MOAT_PEERS")
        .map_or_else(|| PathBuf::from("/var/tmp/moat-peers"), PathBuf::from);
    let path = root.join("bin").join(name);
    if path.is_file() {
        return Some(path);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{} is missing and CI=true", path.display());
    }
    eprintln!("skipped: {} not found (set MOAT_PEERS)", path.display());
    None
}

/// Runs the validator `name` over `files`; fails the test when it rejects one.
pub fn validate(name: &str, files: &[PathBuf]) {
    let Some(bin) = validator(name) else {
        return;
    };
    let out = Command::new(&bin)
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", bin.display()));
    assert!(
        out.status.success(),
        "{name} rejected a document:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

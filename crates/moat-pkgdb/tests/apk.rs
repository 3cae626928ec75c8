//! apk reader against the shared fixtures and `tests/data/apk/*.expected`
//! (derived from the raw files by `tests/data/apk/generate.sh`; apk-tools is not
//! available on Debian to produce them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "dpkg_support.rs"]
mod common;

use common::shared_dir;
use moat_pkgdb::apk::{ApkPackage, Installed, parse_installed};
use std::path::{Path, PathBuf};

fn fixtures() -> Option<PathBuf> {
    shared_dir().map(|d| d.join("data/fixtures/apk"))
}

fn line(db: &Installed, p: &ApkPackage) -> String {
    let files: Vec<&str> = db.files(p).collect();
    format!(
        "{}\t{}\t{}\t{}\t{}\t{}\t{}",
        p.name,
        p.version,
        p.arch.as_deref().unwrap_or(""),
        p.origin.as_deref().unwrap_or(""),
        p.license.as_deref().unwrap_or(""),
        files.len(),
        files.first().copied().unwrap_or(""),
    )
}

fn expected_warnings(name: &str) -> Vec<&'static str> {
    match name {
        "scalibr-invalid" => vec![
            "stanza 1: no fields (1 malformed line(s))",
            "stanza 2: no fields (1 malformed line(s))",
        ],
        "syft-corrupt" => vec!["stanza 1: no fields (1 malformed line(s))"],
        "syft-glob-paths" => vec!["stanza 1: no fields (1 malformed line(s))"],
        "trivy-apk" => vec!["stanza 2 (invalidPackageWithoutAVersion): no V: (version) field"],
        _ => vec![],
    }
}

#[test]
fn installed_files_match_expected() {
    let Some(fx) = fixtures() else { return };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/apk");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "expected"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 15, "expected files missing");
    let mut failures = Vec::new();
    for path in &paths {
        let name = path.file_stem().unwrap().to_str().unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        let fixture = text
            .lines()
            .find_map(|l| l.strip_prefix("# fixture: "))
            .expect("header");
        let want: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .collect();
        let p = parse_installed(&std::fs::read(fx.join(fixture.trim())).unwrap());
        let got: Vec<String> = p.packages.iter().map(|x| line(&p, x)).collect();
        if got != want {
            failures.push(format!(
                "{name}: packages differ\n got: {got:#?}\nwant: {want:#?}"
            ));
        }
        let warnings: Vec<&str> = p.warnings.iter().map(|w| w.message.as_str()).collect();
        if warnings != expected_warnings(name) {
            failures.push(format!("{name}: warnings {:#?}", p.warnings));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn trivy_apk_details() {
    let Some(fx) = fixtures() else { return };
    let p = parse_installed(&std::fs::read(fx.join("trivy-analyzer-apk/apk")).unwrap());
    let musl = &p.packages[0];
    assert_eq!(musl.name, "musl");
    assert_eq!(
        musl.checksum.as_deref(),
        Some("Q11otALzX1d1D0kVawy06IairTXS0=")
    );
    assert_eq!(
        musl.maintainer.as_deref(),
        Some("Timo Teräs <timo.teras@iki.fi>")
    );
    assert_eq!(p.provides(musl), ["so:libc.musl-x86_64.so.1"]);
    assert_eq!(
        p.files(musl).collect::<Vec<_>>(),
        ["/lib/libc.musl-x86_64.so.1", "/lib/ld-musl-x86_64.so.1"]
    );
    let busybox = p.packages.iter().find(|p| p.name == "busybox").unwrap();
    assert_eq!(p.depends(busybox), ["so:libc.musl-x86_64.so.1"]);
    let ada = p.packages.iter().find(|p| p.name == "ada-libs").unwrap();
    assert_eq!(
        ada.license.as_deref(),
        Some("( Apache-2.0 OR MIT ) AND MPL-2.0")
    );
}

#[test]
fn syft_details() {
    let Some(fx) = fixtures() else { return };
    let p = parse_installed(&std::fs::read(fx.join("syft/extra-file-attributes")).unwrap());
    let jre = &p.packages[0];
    assert_eq!(
        p.depends(jre)[..3],
        ["java-cacerts", "nss", "so:libX11.so.6"]
    );
    assert!(p.depends(jre).iter().any(|d| d == "so:openjdk8:libjvm.so"));
    assert_eq!(p.provides(jre)[0], "so:openjdk8:libawt_xawt.so");
    assert_eq!(
        p.files(jre).next(),
        Some("/usr/lib/jvm/java-1.8-openjdk/bin/policytool")
    );
    let p = parse_installed(&std::fs::read(fx.join("syft/empty-deps-and-provides")).unwrap());
    let first = &p.packages[0];
    assert!(p.depends(first).is_empty() && p.provides(first).is_empty());
    let p = parse_installed(&std::fs::read(fx.join("osv-scalibr/no-origin")).unwrap());
    assert_eq!(p.packages[0].origin, None);
}

#[test]
fn hand_written_constraints() {
    let db =
        b"P:a\nV:1-r0\nD:b>=1.2 c=2 d~3 e<4 !f g@edge cmd:sh pc:zlib>=1\np:cmd:a=1-r0 pc:a=1\n";
    let p = parse_installed(db);
    let a = &p.packages[0];
    assert_eq!(p.depends(a), ["b", "c", "d", "e", "g", "cmd:sh", "pc:zlib"]);
    assert_eq!(p.provides(a), ["cmd:a", "pc:a"]);
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
                let _ = parse_installed(&bytes[..cut]);
            }
        }
    }
}

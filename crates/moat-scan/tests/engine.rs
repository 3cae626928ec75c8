//! The engine with analyzers of the tests' own: every regular file of every layer is offered
//! once, deleted ones included; analyzers wanting the same file share one read; content
//! findings are located and marked deleted; extra analyzers leave the inventory alone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{E, OS_RELEASE, open, status};
use moat_model::finding::SecretDetail;
use moat_model::{Detail, Finding, Severity};
use moat_scan::{
    Analyzer, AnalyzerInfo, Entry, Fact, Interest, ScanOptions, Scanned, Scanner, Scanners, Scope,
    analyzers, scan, scan_with,
};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// (layer, path) -> (times seen, address and length of the bytes last seen)
type Seen = BTreeMap<(Option<usize>, String), (usize, usize, usize)>;

/// Wants every regular file up to `cap` bytes, in every layer; reports a secret finding for
/// each file that contains `SECRET`, and remembers what it saw and where the bytes were.
struct Toy {
    info: AnalyzerInfo,
    cap: u64,
    seen: Mutex<Seen>,
}

impl Toy {
    fn new(id: &'static str, cap: u64) -> Toy {
        Toy {
            info: AnalyzerInfo {
                id,
                version: 7,
                scanner: Scanner::Secret,
                scope: Scope::EveryLayer,
            },
            cap,
            seen: Mutex::new(BTreeMap::new()),
        }
    }

    fn seen(&self) -> Seen {
        self.seen.lock().unwrap().clone()
    }

    /// (layer, path) of every file seen, each with how many times.
    fn counts(&self) -> Vec<(Option<usize>, String, usize)> {
        self.seen()
            .into_iter()
            .map(|((l, p), (n, _, _))| (l, p, n))
            .collect()
    }
}

impl Analyzer for Toy {
    fn info(&self) -> &AnalyzerInfo {
        &self.info
    }
    fn wants(&self, e: &Entry) -> Interest {
        Interest::from(e.size <= self.cap)
    }
    fn analyze(&self, e: &Entry, data: &[u8]) -> Option<Fact> {
        let mut seen = self.seen.lock().unwrap();
        let slot = seen
            .entry((e.layer, e.path.to_string()))
            .or_insert((0, 0, 0));
        *slot = (slot.0 + 1, data.as_ptr() as usize, data.len());
        let secret = data.windows(6).any(|w| w == b"SECRET");
        secret.then(|| {
            Fact::Findings(vec![Finding::new(
                "toy-secret",
                Severity::High,
                Detail::Secret(SecretDetail {
                    redacted: "SECRET=****".into(),
                    ..Default::default()
                }),
            )])
        })
    }
}

fn secrets() -> ScanOptions {
    ScanOptions {
        scanners: Scanners::default().with(Scanner::Secret),
        ..ScanOptions::default()
    }
}

/// Three layers: a base with OS files and secrets; a layer that deletes one secret file,
/// replaces another and hides a directory; a layer with a large file over an old secret.
fn layers() -> Vec<Vec<E>> {
    vec![
        vec![
            E::Dir("etc"),
            E::File("etc/os-release", OS_RELEASE.to_vec()),
            E::File("var/lib/dpkg/status", status(&[("bash", "5.2-1")])),
            E::File("app/gone.env", b"SECRET=1".to_vec()),
            E::File("app/replaced.env", b"SECRET=2".to_vec()),
            E::File("app/kept.env", b"SECRET=3".to_vec()),
            E::File("app/big.env", b"SECRET=4".to_vec()),
            E::File("cache/x", b"SECRET=5".to_vec()),
            E::Mode("usr/bin/tool", 0o755, b"#!/bin/sh\necho hi\n".to_vec()),
            E::Symlink("usr/bin/alias", "tool"),
        ],
        vec![
            E::Whiteout("app/gone.env"),
            E::File("app/replaced.env", b"nothing here".to_vec()),
            E::Opaque("cache"),
            E::File("cache/y", b"fresh".to_vec()),
        ],
        vec![
            E::File("app/big.env", vec![b'x'; 200]),
            E::File("app/new.env", b"SECRET=6".to_vec()),
            E::Hardlink("app/link.env", "app/new.env"),
        ],
    ]
}

fn run(analyzers: &[Arc<dyn Analyzer>], opts: &ScanOptions) -> Scanned {
    let (_dir, source) = open(&layers());
    scan_with(&source, opts, analyzers).unwrap()
}

/// (path, layer, deleted) of each finding.
fn located(findings: &[Finding]) -> Vec<(String, Option<usize>, bool)> {
    findings
        .iter()
        .map(|f| {
            let loc = f.location.clone().unwrap_or_default();
            let deleted = matches!(&f.detail, Detail::Secret(s) if s.deleted);
            (loc.path.unwrap_or_default(), loc.layer, deleted)
        })
        .collect()
}

#[test]
fn a_content_analyzer_sees_every_file_once_per_layer_deleted_ones_included() {
    let toy = Arc::new(Toy::new("toy-counter", 100));
    let shared: Arc<dyn Analyzer> = toy.clone();
    let scanned = run(std::slice::from_ref(&shared), &secrets());
    let l = |i: usize, p: &str| (Some(i), p.to_string(), 1);
    assert_eq!(
        toy.counts(),
        vec![
            l(0, "app/big.env"),
            l(0, "app/gone.env"),
            l(0, "app/kept.env"),
            l(0, "app/replaced.env"),
            l(0, "cache/x"),
            l(0, "etc/os-release"),
            l(0, "usr/bin/tool"),
            l(0, "var/lib/dpkg/status"),
            l(1, "app/replaced.env"),
            l(1, "cache/y"),
            // app/big.env of layer 2 is over the toy's cap; the hardlink is the toy's too,
            // analysed from the bytes kept of app/new.env
            l(2, "app/link.env"),
            l(2, "app/new.env"),
        ]
    );
    assert_eq!(
        located(&scanned.findings),
        vec![
            ("/app/gone.env".to_string(), Some(0), true),
            ("/app/replaced.env".to_string(), Some(0), true),
            ("/app/kept.env".to_string(), Some(0), false),
            // replaced by a file the toy did not want: gone from the final view all the same
            ("/app/big.env".to_string(), Some(0), true),
            ("/cache/x".to_string(), Some(0), true),
            ("/app/new.env".to_string(), Some(2), false),
            ("/app/link.env".to_string(), Some(2), false),
        ]
    );
    assert_eq!(
        scanned.inventory.tool.analyzers,
        vec![moat_model::AnalyzerVersion {
            id: "toy-counter".into(),
            version: 7
        }]
    );
}

#[test]
fn analyzers_wanting_the_same_file_share_one_read() {
    let (a, b) = (
        Arc::new(Toy::new("toy-a", 1 << 20)),
        Arc::new(Toy::new("toy-b", 1 << 20)),
    );
    run(&[a.clone(), b.clone()], &secrets());
    let (sa, sb) = (a.seen(), b.seen());
    assert_eq!(sa.len(), 13);
    assert_eq!(sa.keys().collect::<Vec<_>>(), sb.keys().collect::<Vec<_>>());
    for (k, (n, addr, len)) in &sa {
        let (m, addr_b, len_b) = sb[k];
        assert_eq!((*n, m), (1, 1), "{k:?} offered more than once");
        // the very same bytes in memory: one read, handed to both
        assert_eq!((*addr, *len), (addr_b, len_b), "{k:?} read twice");
    }
}

#[test]
fn analyzers_of_scanners_that_are_off_never_run() {
    let toy = Arc::new(Toy::new("toy-counter", 100));
    let shared: Arc<dyn Analyzer> = toy.clone();
    let scanned = run(std::slice::from_ref(&shared), &ScanOptions::default());
    assert!(toy.counts().is_empty());
    assert!(scanned.findings.is_empty());
    assert!(scanned.inventory.tool.analyzers.is_empty());
}

/// Wants the os-release files, which `os-release` reads too, and says something else about
/// them (after `os-release` in the list, its fact comes second).
struct SecondOsRelease;

const SECOND: AnalyzerInfo = AnalyzerInfo::packages("second-os-release", 1);

impl Analyzer for SecondOsRelease {
    fn info(&self) -> &AnalyzerInfo {
        &SECOND
    }
    fn wants(&self, e: &Entry) -> Interest {
        Interest::from(e.path.ends_with("os-release"))
    }
    fn analyze(&self, _e: &Entry, data: &[u8]) -> Option<Fact> {
        let mut os = moat_pkgdb::osrelease::parse_os_release(data)?;
        os.id = "not-debian".into();
        Some(Fact::OsRelease(os))
    }
}

/// The inventory of `source` with the registry, and with [`SecondOsRelease`] after it.
fn with_and_without_second(
    source: &moat_image::Source,
) -> (moat_model::Inventory, moat_model::Inventory) {
    let opts = ScanOptions::default();
    let plain = scan(source, &opts).unwrap().inventory;
    let instances = analyzers::Instances::new(analyzers::REGISTRY, &opts);
    let mut list = instances.list();
    list.push(Arc::new(SecondOsRelease));
    let more = scan_with(source, &opts, &list).unwrap().inventory;
    (plain, more)
}

#[test]
fn a_second_analyzer_of_the_same_file_leaves_the_inventory_alone() {
    let (_dir, source) = open(&layers());
    let (plain, more) = with_and_without_second(&source);

    let os = plain.artifact.os.as_ref().map(|o| o.id.as_str());
    assert_eq!(os, Some("debian"));
    let names: Vec<(&str, String)> = plain
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.purl().into_owned()))
        .collect();
    assert_eq!(
        names,
        [(
            "bash",
            "pkg:deb/debian/bash@5.2-1?arch=amd64&distro=debian-12".to_string()
        )]
    );
    assert_eq!(
        more.tool.analyzers.last().map(|a| a.id.as_str()),
        Some("second-os-release")
    );
    assert_eq!(more.tool.analyzers.len(), plain.tool.analyzers.len() + 1);
    assert_eq!(without_analyzers(&plain), without_analyzers(&more));
}

/// The inventory's JSON without `tool.analyzers`.
fn without_analyzers(inv: &moat_model::Inventory) -> serde_json::Value {
    let mut v = serde_json::to_value(inv).unwrap();
    v["tool"]["analyzers"] = serde_json::Value::Null;
    v
}

#[test]
fn a_second_analyzer_of_os_release_leaves_real_inventories_alone() {
    let base = std::env::var_os("MOAT_IMAGES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "/var/tmp/moat-images".into());
    let archive = base.join("out/debian-tools.docker.tar");
    if !archive.exists() {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "{} is missing (CI=true)",
            archive.display()
        );
        eprintln!("skipped: {} not found", archive.display());
        return;
    }
    let source = moat_image::open(
        &moat_image::TargetSpec::DockerArchive(archive),
        &moat_image::OpenOptions::default(),
    )
    .unwrap();
    let (plain, more) = with_and_without_second(&source);
    assert!(plain.packages.len() > 50);
    assert_eq!(plain.artifact.os.as_ref().unwrap().id, "debian");
    assert_eq!(more.tool.analyzers.last().unwrap().id, "second-os-release");
    assert_eq!(without_analyzers(&plain), without_analyzers(&more));
}

#[test]
fn the_registry_runs_in_order_and_is_reported() {
    let (_dir, source) = open(&layers());
    let inv = scan(&source, &ScanOptions::default()).unwrap().inventory;
    let ids: Vec<&str> = inv.tool.analyzers.iter().map(|a| a.id.as_str()).collect();
    // every analyzer of the scanners that are on (the default: the inventory's)
    let opts = ScanOptions::default();
    let instances = analyzers::Instances::new(analyzers::REGISTRY, &opts);
    let inventory_analyzers = instances
        .list()
        .iter()
        .filter(|a| a.info().scanner == Scanner::Packages)
        .count();
    assert_eq!(ids.len(), inventory_analyzers);
    assert_eq!(ids.first(), Some(&"os-release"));
    assert_eq!(ids.last(), Some(&"elf-binary"));
    assert!(ids.contains(&"dpkg-status") && ids.contains(&"npm-lock"));
    // an analyzer's version goes up when what it makes of the same bytes changes (the layer
    // cache keys by it): rpm-db's 2 reads the distroless CBL-Mariner manifest too
    let versions: Vec<(&str, u32)> = inv
        .tool
        .analyzers
        .iter()
        .filter(|a| a.version != 1)
        .map(|a| (a.id.as_str(), a.version))
        .collect();
    assert_eq!(versions, [("rpm-db", 2)]);
}

#[test]
fn a_directory_target_gives_relative_finding_paths() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("app")).unwrap();
    std::fs::write(dir.path().join("app/.env"), b"SECRET=1").unwrap();
    std::fs::write(dir.path().join("README"), b"nothing").unwrap();
    let source = moat_image::open(
        &moat_image::TargetSpec::Dir(dir.path().to_path_buf()),
        &moat_image::OpenOptions::default(),
    )
    .unwrap();
    let toy = Arc::new(Toy::new("toy-counter", 100));
    let shared: Arc<dyn Analyzer> = toy.clone();
    let scanned = scan_with(&source, &secrets(), std::slice::from_ref(&shared)).unwrap();
    assert_eq!(
        toy.counts(),
        [(None, "README".into(), 1), (None, "app/.env".into(), 1)]
    );
    assert_eq!(
        located(&scanned.findings),
        [("app/.env".to_string(), None, false)]
    );
}

#[test]
fn files_over_the_entry_limit() {
    let (_dir, source) = open(&[vec![
        E::File("var/lib/dpkg/status", status(&[("bash", "5.2-1")])),
        E::Mode("usr/bin/big", 0o755, b"\x7fELF".repeat(10)),
    ]]);
    let opts = ScanOptions {
        max_entry_bytes: 16,
        ..ScanOptions::default()
    };
    let inv = scan(&source, &opts).unwrap().inventory;
    assert!(inv.packages.is_empty());
    // the database a path analyzer wanted is reported; the binary only sniffed for is not
    let d: Vec<String> = inv.diagnostics.iter().map(|d| d.to_string()).collect();
    assert_eq!(
        d,
        ["layer 0: /var/lib/dpkg/status: 97 bytes is over the entry limit of 16; not analysed"]
    );
    assert_eq!(inv.diagnostics[0].code, moat_model::Code::TooLarge);
}

/// The toy, never returning from the files whose path holds `kept`.
struct Stuck(Toy);

impl Analyzer for Stuck {
    fn info(&self) -> &AnalyzerInfo {
        self.0.info()
    }
    fn wants(&self, e: &Entry) -> Interest {
        self.0.wants(e)
    }
    fn analyze(&self, e: &Entry, data: &[u8]) -> Option<Fact> {
        while e.path.contains("kept") {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        self.0.analyze(e, data)
    }
}

/// The slow-file warnings of a scan: (path, message).
fn slow_files(scanned: &Scanned) -> Vec<(String, String)> {
    scanned
        .inventory
        .diagnostics
        .iter()
        .filter(|d| d.code == moat_model::Code::SlowFile)
        .map(|d| (d.path.clone().unwrap_or_default(), d.message.clone()))
        .collect()
}

#[test]
fn a_stuck_analyzer_is_abandoned_and_the_scan_goes_on() {
    let opts = ScanOptions {
        analyzer_timeout: Some(std::time::Duration::from_millis(300)),
        ..secrets()
    };
    let abandoned = "analyzer toy-counter was abandoned on this file after the per-file budget of 300 ms (--analyzer-timeout); the scan went on without its result";
    // an image: every other file's findings, and the warning naming the file
    let start = std::time::Instant::now();
    let scanned = run(&[Arc::new(Stuck(Toy::new("toy-counter", 100)))], &opts);
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(
        located(&scanned.findings),
        vec![
            ("/app/gone.env".to_string(), Some(0), true),
            ("/app/replaced.env".to_string(), Some(0), true),
            ("/app/big.env".to_string(), Some(0), true),
            ("/cache/x".to_string(), Some(0), true),
            ("/app/new.env".to_string(), Some(2), false),
            ("/app/link.env".to_string(), Some(2), false),
        ]
    );
    assert_eq!(
        slow_files(&scanned),
        [("/app/kept.env".to_string(), abandoned.to_string())]
    );
    // a directory
    let dir = tempfile::tempdir().unwrap();
    for (p, text) in [
        ("a.env", "SECRET=1"),
        ("kept.env", "SECRET=2"),
        ("z.env", "SECRET=3"),
    ] {
        std::fs::write(dir.path().join(p), text).unwrap();
    }
    let source = moat_image::open(
        &moat_image::TargetSpec::Dir(dir.path().to_path_buf()),
        &moat_image::OpenOptions::default(),
    )
    .unwrap();
    let start = std::time::Instant::now();
    let scanned = scan_with(
        &source,
        &opts,
        &[Arc::new(Stuck(Toy::new("toy-counter", 100)))],
    )
    .unwrap();
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(
        located(&scanned.findings),
        [
            ("a.env".to_string(), None, false),
            ("z.env".to_string(), None, false)
        ]
    );
    assert_eq!(
        slow_files(&scanned),
        [("/kept.env".to_string(), abandoned.to_string())]
    );
}

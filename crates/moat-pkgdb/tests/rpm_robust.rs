//! rpm readers on damaged and synthetic input: truncated and bit-flipped fixtures must give
//! errors or warnings, never a panic or a runaway; plus the cases no fixture covers
//! (gpg-pubkey exclusion, big-endian BerkeleyDB, hostile header counts).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use moat_pkgdb::Error;
use moat_pkgdb::rpm::{self, DbKind};

fn fixtures() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/fixtures/rpm");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("fixture directory {} is missing (CI=true)", dir.display());
    }
    println!("skipped: fixture directory {} is missing", dir.display());
    None
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Runs `f` on many damaged copies of `bytes`; `f` must not panic.
fn mangle(bytes: &[u8], rounds: usize, hot: &[std::ops::Range<usize>], f: &dyn Fn(&[u8])) {
    // Truncations: every length near the start, then a spread.
    let len = bytes.len();
    let mut cuts: Vec<usize> = (0..64.min(len)).collect();
    cuts.extend((1..64).map(|i| len * i / 64));
    cuts.extend([len.saturating_sub(1), len.saturating_sub(17)]);
    for cut in cuts {
        f(&bytes[..cut]);
    }
    // Random bit flips, over the whole file and over the structural "hot" ranges.
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ len as u64);
    let mut copy = bytes.to_vec();
    for round in 0..rounds {
        copy.copy_from_slice(bytes);
        let flips = 1 + rng.below(8);
        for _ in 0..flips {
            let at = if !hot.is_empty() && round % 2 == 0 {
                let r = &hot[rng.below(hot.len())];
                let r = r.start.min(len)..r.end.min(len);
                if r.is_empty() {
                    rng.below(len)
                } else {
                    r.start + rng.below(r.len())
                }
            } else {
                rng.below(len)
            };
            copy[at] ^= 1 << rng.below(8);
        }
        f(&copy);
    }
}

fn check_db(bytes: &[u8]) {
    // Whatever happens, it is a value: Ok with bounded output, or an Err.
    if let Ok(p) = rpm::read(bytes) {
        assert!(p.packages.len() + p.warnings.len() <= bytes.len());
    }
}

#[test]
fn rpm_robust_bdb_fixtures() {
    let Some(dir) = fixtures() else { return };
    for rel in [
        "go-rpmdb/libuuid/Packages",
        "syft/Packages",
        "osv-scalibr/Packages_epoch",
    ] {
        let bytes = std::fs::read(dir.join(rel)).unwrap();
        // Page headers and the first bytes of each page (item index, off-page items).
        let hot: Vec<_> = (0..bytes.len() / 4096)
            .map(|p| p * 4096..p * 4096 + 64)
            .collect();
        mangle(&bytes, 3000, &hot, &check_db);
        // Hash page item areas hold the off-page references: hit the page tails too.
        let tails: Vec<_> = (1..=bytes.len() / 4096)
            .map(|p| p * 4096 - 32..p * 4096)
            .collect();
        mangle(&bytes, 1000, &tails, &check_db);
    }
}

#[test]
fn rpm_robust_ndb_fixture() {
    let Some(dir) = fixtures() else { return };
    let bytes = std::fs::read(dir.join("go-rpmdb/sle15-bci/Packages.db")).unwrap();
    // File header and slot table.
    mangle(&bytes, 500, std::slice::from_ref(&(0..1024)), &check_db);
}

#[test]
fn rpm_robust_sqlite_fixture() {
    let Some(dir) = fixtures() else { return };
    let bytes = std::fs::read(dir.join("go-rpmdb/cbl-mariner-2.0/rpmdb.sqlite")).unwrap();
    let page = 4096;
    let hot: Vec<_> = (0..bytes.len() / page)
        .step_by(7)
        .map(|p| p * page..p * page + 16)
        .collect();
    mangle(&bytes, 150, &hot, &check_db);
}

#[test]
fn rpm_robust_header_blob() {
    let Some(dir) = fixtures() else { return };
    let bytes = std::fs::read(dir.join("claircore/package.header")).unwrap();
    // Every bit of the index, one at a time.
    let index_end = 8 + 16 * 0x4e;
    let mut copy = bytes.clone();
    for at in 0..index_end {
        for bit in 0..8 {
            copy[at] ^= 1 << bit;
            let _ = rpm::parse_header(&copy);
            copy[at] ^= 1 << bit;
        }
    }
    mangle(&bytes, 5000, std::slice::from_ref(&(0..index_end)), &|b| {
        let _ = rpm::parse_header(b);
    });
}

// ---- synthetic headers -------------------------------------------------------------

enum V<'a> {
    S(&'a str),
    A(&'a [&'a str]),
    I(&'a [u32]),
}

/// Builds a header blob: `il dl`, index entries, data store.
fn header(entries: &[(u32, V<'_>)]) -> Vec<u8> {
    let mut index = Vec::new();
    let mut store = Vec::new();
    for (tag, v) in entries {
        let (ty, count) = match v {
            V::S(_) => (6u32, 1usize),
            V::A(a) => (8, a.len()),
            V::I(i) => {
                while store.len() % 4 != 0 {
                    store.push(0);
                }
                (4, i.len())
            }
        };
        index.extend(tag.to_be_bytes());
        index.extend(ty.to_be_bytes());
        index.extend((store.len() as u32).to_be_bytes());
        index.extend((count as u32).to_be_bytes());
        match v {
            V::S(s) => store.extend(s.bytes().chain([0])),
            V::A(a) => a.iter().for_each(|s| store.extend(s.bytes().chain([0]))),
            V::I(i) => i.iter().for_each(|n| store.extend(n.to_be_bytes())),
        }
    }
    let mut out = Vec::new();
    out.extend((entries.len() as u32).to_be_bytes());
    out.extend((store.len() as u32).to_be_bytes());
    out.extend(index);
    out.extend(store);
    out
}

fn nvr(name: &str) -> Vec<(u32, V<'_>)> {
    vec![
        (1000, V::S(name)),
        (1001, V::S("1.0")),
        (1002, V::S("1.el9")),
    ]
}

#[test]
fn rpm_synthetic_header_fields() {
    let mut e = nvr("foo");
    e.push((1003, V::I(&[7])));
    e.push((1022, V::S("noarch")));
    e.push((1118, V::A(&["/usr/bin/", "/etc/"])));
    e.push((1117, V::A(&["foo", "foo.conf", "bar"])));
    e.push((1116, V::I(&[0, 1, 0])));
    e.push((1009, V::I(&[1234])));
    e.push((5096, V::S("perl:5.30:8030020200528083513:466ec5f2")));
    let p = rpm::parse_header(&header(&e)).unwrap();
    assert_eq!(p.evr(), "7:1.0-1.el9");
    assert_eq!(p.files, ["/usr/bin/foo", "/etc/foo.conf", "/usr/bin/bar"]);
    assert_eq!(p.size, Some(1234));
    assert_eq!(p.arch.as_deref(), Some("noarch"));
    assert_eq!(
        p.modularity_label.as_deref(),
        Some("perl:5.30:8030020200528083513:466ec5f2")
    );

    // OLDFILENAMES when there are no BASENAMES.
    let mut e = nvr("old");
    e.push((1027, V::A(&["/a", "/b/c"])));
    assert_eq!(
        rpm::parse_header(&header(&e)).unwrap().files,
        ["/a", "/b/c"]
    );
}

#[test]
fn rpm_synthetic_header_hostile() {
    // Missing NAME.
    let e = vec![(1001, V::S("1")), (1002, V::S("1"))];
    assert!(matches!(
        rpm::parse_header(&header(&e)),
        Err(Error::Corrupt { .. })
    ));
    // DIRINDEXES pointing past DIRNAMES.
    let mut e = nvr("x");
    e.push((1118, V::A(&["/"])));
    e.push((1117, V::A(&["a"])));
    e.push((1116, V::I(&[5])));
    assert!(matches!(
        rpm::parse_header(&header(&e)),
        Err(Error::Corrupt { .. })
    ));
    // Quadratic file list: one long dirname shared by many one-byte basenames.
    let long = format!("/{}/", "d".repeat(60_000));
    let bases: Vec<String> = (0..20_000).map(|_| "f".to_string()).collect();
    let bases: Vec<&str> = bases.iter().map(String::as_str).collect();
    let idx = vec![0u32; bases.len()];
    let dirs = [long.as_str()];
    let mut e = nvr("x");
    e.push((1118, V::A(&dirs)));
    e.push((1117, V::A(&bases)));
    e.push((1116, V::I(&idx)));
    match rpm::parse_header(&header(&e)) {
        Err(Error::Corrupt { reason, .. }) => assert!(reason.contains("file list"), "{reason}"),
        other => panic!("expected the file list bound to trip, got {other:?}"),
    }
    // Huge counts and offsets: rejected without allocating.
    let mut h = header(&nvr("x"));
    h[8 + 12..8 + 16].copy_from_slice(&u32::MAX.to_be_bytes()); // NAME count
    assert!(rpm::parse_header(&h).is_err());
    let mut h = header(&nvr("x"));
    h[8 + 8..8 + 12].copy_from_slice(&u32::MAX.to_be_bytes()); // NAME offset
    assert!(rpm::parse_header(&h).is_err());
    let mut h = header(&nvr("x"));
    h[0..4].copy_from_slice(&u32::MAX.to_be_bytes()); // il
    assert!(rpm::parse_header(&h).is_err());
    let mut h = header(&nvr("x"));
    h[4..8].copy_from_slice(&0x0fff_0000u32.to_be_bytes()); // dl
    assert!(rpm::parse_header(&h).is_err());
    assert!(rpm::parse_header(&[]).is_err());
}

#[test]
fn rpm_gpg_pubkey_is_not_a_package() {
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE Packages(hnum INTEGER PRIMARY KEY, blob BLOB)")
        .unwrap();
    for (n, name) in [(1, "gpg-pubkey"), (2, "bash"), (3, "gpg-pubkey")] {
        conn.execute(
            "INSERT INTO Packages VALUES (?1, ?2)",
            rusqlite::params![n, header(&nvr(name))],
        )
        .unwrap();
    }
    let bytes = conn.serialize(rusqlite::MAIN_DB).unwrap().to_vec();
    assert_eq!(rpm::detect(&bytes), Some(DbKind::Sqlite));
    let parsed = rpm::read(&bytes).unwrap();
    assert_eq!(parsed.warnings, Vec::new());
    let names: Vec<_> = parsed.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["bash"]);
}

/// Rewrites a little-endian BerkeleyDB hash file as its big-endian twin (only the fields
/// a hash `Packages` uses), so the big-endian path is tested on real data.
fn bdb_to_big_endian(le: &[u8]) -> Vec<u8> {
    fn swap(b: &mut [u8], at: usize, n: usize) {
        b[at..at + n].reverse();
    }
    let mut b = le.to_vec();
    let ps = u32::from_le_bytes(le[20..24].try_into().unwrap()) as usize;
    for at in [8, 12, 16, 20, 28, 32, 36, 40, 44, 48] {
        swap(&mut b, at, 4);
    }
    for at in (72..224).step_by(4) {
        swap(&mut b, at, 4); // max_bucket .. spares
    }
    for p in 1..le.len() / ps {
        let base = p * ps;
        let page = &le[base..base + ps];
        for at in [8, 12, 16] {
            swap(&mut b, base + at, 4);
        }
        swap(&mut b, base + 20, 2);
        swap(&mut b, base + 22, 2);
        if page[25] == 13 || page[25] == 2 {
            let entries = u16::from_le_bytes([page[20], page[21]]) as usize;
            for i in 0..entries {
                let at = 26 + 2 * i;
                let off = u16::from_le_bytes([page[at], page[at + 1]]) as usize;
                let end = if i == 0 {
                    ps
                } else {
                    u16::from_le_bytes([page[at - 2], page[at - 1]]) as usize
                };
                swap(&mut b, base + at, 2);
                match page[off] {
                    3 => {
                        swap(&mut b, base + off + 4, 4);
                        swap(&mut b, base + off + 8, 4);
                    }
                    1 if i % 2 == 0 && end - off == 5 => swap(&mut b, base + off + 1, 4), // hnum key
                    _ => {}
                }
            }
        }
    }
    b
}

#[test]
fn rpm_bdb_big_endian() {
    let Some(dir) = fixtures() else { return };
    for rel in [
        "go-rpmdb/libuuid/Packages",
        "syft/Packages",
        "osv-scalibr/Packages_epoch",
    ] {
        let le = std::fs::read(dir.join(rel)).unwrap();
        let be = bdb_to_big_endian(&le);
        assert_eq!(&be[12..16], &[0x00, 0x06, 0x15, 0x61]);
        assert_eq!(rpm::detect(&be), Some(DbKind::BerkeleyDb));
        let a = rpm::read(&le).unwrap();
        let b = rpm::read(&be).unwrap();
        assert!(!a.packages.is_empty());
        assert_eq!(a, b, "{rel}");
    }
}

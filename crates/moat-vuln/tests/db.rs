//! The advisory database: building, reading, replacing sources, errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_model::advisory::{Advisory, Affected, AffectedPackage};
use moat_vuln::db::{self, Builder, Database, DbError, SourceMeta};
use moat_vuln::import::{self, ImportBatch, KevEntry};
use std::path::{Path, PathBuf};

fn adv(id: &str, eco: &str, name: &str, aliases: &[&str]) -> Advisory {
    Advisory {
        id: id.into(),
        modified: Some("2024-01-01T00:00:00Z".into()),
        aliases: aliases.iter().map(|s| s.to_string()).collect(),
        affected: vec![Affected {
            package: AffectedPackage {
                ecosystem: eco.into(),
                name: name.into(),
                purl: None,
            },
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn batch(advs: Vec<Advisory>) -> ImportBatch {
    ImportBatch {
        advisories: advs,
        ..Default::default()
    }
}

fn kev(cve: &str) -> KevEntry {
    KevEntry {
        cve: cve.into(),
        date_added: "2021-12-10".into(),
        vendor: "Apache".into(),
        product: "Log4j2".into(),
        name: "Log4Shell".into(),
        due_date: None,
        ransomware: Some("Known".into()),
    }
}

fn build(path: &Path) {
    let mut b = Builder::create(path).unwrap();
    let mut withdrawn = adv("PYSEC-2", "PyPI", "Other_Pkg", &[]);
    withdrawn.withdrawn = Some("2024-02-01T00:00:00Z".into());
    let n = b
        .replace_source(
            "osv:PyPI",
            &batch(vec![
                adv(
                    "PYSEC-1",
                    "PyPI",
                    "Foo.Bar_baz",
                    &["CVE-2024-1", "GHSA-xxxx"],
                ),
                withdrawn,
            ]),
            SourceMeta {
                url: Some("http://x/PyPI/all.zip".into()),
                etag: Some("\"e1\"".into()),
                last_modified: None,
            },
        )
        .unwrap();
    assert_eq!(n, 2);
    let kb = ImportBatch {
        kev: vec![kev("CVE-2021-44228"), kev("CVE-2024-1")],
        ..Default::default()
    };
    assert_eq!(
        b.replace_source("kev", &kb, SourceMeta::default()).unwrap(),
        2
    );
    assert_eq!(
        b.source_meta("osv:PyPI").unwrap().unwrap().etag.as_deref(),
        Some("\"e1\"")
    );
    assert_eq!(b.source_meta("nope").unwrap(), None);
    b.commit().unwrap();
}

/// [`build`], then the schema version set to `version`.
fn build_with_schema(path: &Path, version: &str) {
    build(path);
    rusqlite::Connection::open(path)
        .unwrap()
        .execute(
            "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
            [version],
        )
        .unwrap();
}

#[test]
fn build_and_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/moat.db");
    build(&path);
    assert_eq!(
        std::fs::read_dir(dir.path().join("sub")).unwrap().count(),
        1,
        "no temp file left"
    );

    let db = Database::open_read_only(&path).unwrap();
    // PEP 503: any spelling finds it.
    for spelling in ["foo-bar-baz", "Foo.Bar_baz", "FOO__BAR.baz"] {
        let found = db.advisories_for("PyPI", spelling).unwrap();
        assert_eq!(found.len(), 1, "{spelling}");
        assert_eq!(found[0].id, "PYSEC-1");
        assert_eq!(found[0].source, "osv:PyPI");
    }
    assert!(db.advisories_for("npm", "foo-bar-baz").unwrap().is_empty());
    // Withdrawn records are stored.
    let w = db.advisories_for("PyPI", "other-pkg").unwrap();
    assert!(w[0].withdrawn.is_some());
    assert_eq!(
        db.advisory("PYSEC-1").unwrap().unwrap().aliases,
        ["CVE-2024-1", "GHSA-xxxx"]
    );
    assert_eq!(db.advisory("nope").unwrap(), None);
    assert_eq!(db.ids_for_alias("CVE-2024-1").unwrap(), ["PYSEC-1"]);
    let k = db.kev_ids().unwrap();
    assert!(k.contains("CVE-2021-44228") && k.len() == 2);

    let st = db.status().unwrap();
    assert_eq!(st.schema, db::SCHEMA_VERSION);
    assert!(st.built_at.as_deref().unwrap().ends_with('Z'));
    assert_eq!(st.advisories, 2);
    assert_eq!(st.kev, 2);
    assert_eq!(st.ecosystems, [("PyPI".to_string(), 2)]);
    let names: Vec<_> = st
        .sources
        .iter()
        .map(|s| (s.name.as_str(), s.records))
        .collect();
    assert_eq!(names, [("kev", 2), ("osv:PyPI", 2)]);
    assert_eq!(
        st.sources[1].meta.url.as_deref(),
        Some("http://x/PyPI/all.zip")
    );
}

#[test]
fn replace_source_and_later_import_wins() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moat.db");
    build(&path);

    let mut b = Builder::from_existing(&path).unwrap();
    assert!(b.rebuilt().is_none());
    // A second source takes over PYSEC-1 with another package.
    b.replace_source(
        "ghsa",
        &batch(vec![adv("PYSEC-1", "PyPI", "new-name", &["CVE-2024-9"])]),
        SourceMeta::default(),
    )
    .unwrap();
    // The first source is replaced by a batch without PYSEC-2.
    b.replace_source(
        "osv:PyPI",
        &batch(vec![adv("PYSEC-3", "PyPI", "third", &[])]),
        SourceMeta::default(),
    )
    .unwrap();
    b.commit().unwrap();

    let db = Database::open_read_only(&path).unwrap();
    assert!(
        db.advisories_for("PyPI", "foo-bar-baz").unwrap().is_empty(),
        "old affected rows are gone"
    );
    let a = db.advisories_for("PyPI", "new-name").unwrap();
    assert_eq!(
        (a[0].id.as_str(), a[0].source.as_str()),
        ("PYSEC-1", "ghsa")
    );
    assert!(db.ids_for_alias("CVE-2024-1").unwrap().is_empty());
    assert_eq!(db.ids_for_alias("CVE-2024-9").unwrap(), ["PYSEC-1"]);
    assert_eq!(db.advisory("PYSEC-2").unwrap(), None);
    let st = db.status().unwrap();
    let names: Vec<_> = st
        .sources
        .iter()
        .map(|s| (s.name.as_str(), s.records))
        .collect();
    assert_eq!(names, [("ghsa", 1), ("kev", 2), ("osv:PyPI", 1)]);
}

#[test]
fn drop_without_commit_leaves_target_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moat.db");
    build(&path);
    let before = std::fs::read(&path).unwrap();
    {
        let mut b = Builder::from_existing(&path).unwrap();
        b.replace_source("osv:PyPI", &ImportBatch::default(), SourceMeta::default())
            .unwrap();
        assert!(b.temp_path().exists());
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "temp file removed"
    );
}

#[test]
fn errors_name_the_file_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db");
    let e = Database::open_read_only(&missing).unwrap_err();
    assert!(matches!(e, DbError::NotFound { .. }));
    let msg = e.to_string();
    assert!(
        msg.contains("missing.db") && msg.contains("moat db update"),
        "{msg}"
    );

    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![0x5a; 8192]).unwrap();
    let e = Database::open_read_only(&garbage).unwrap_err();
    assert!(matches!(e, DbError::Corrupt { .. }), "{e:?}");
    assert!(e.to_string().contains("garbage.db") && e.to_string().contains("moat db update"));

    // SQLite, but not a moat database.
    let other = dir.path().join("other.db");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE t(x);")
        .unwrap();
    assert!(matches!(
        Database::open_read_only(&other).unwrap_err(),
        DbError::Corrupt { .. }
    ));

    // Another schema version.
    let old = dir.path().join("old.db");
    build_with_schema(&old, "0");
    let e = Database::open_read_only(&old).unwrap_err();
    assert!(
        matches!(e, DbError::Schema { ref found, want: 7, .. } if found == "0"),
        "{e:?}"
    );

    // The schema this moat wrote before NuGet and Packagist names were stored in lower case:
    // refused with the fix, and `moat db update` (Builder::from_existing) starts afresh.
    let v1 = dir.path().join("v1.db");
    build_with_schema(&v1, "1");
    let msg = Database::open_read_only(&v1).unwrap_err().to_string();
    assert!(
        msg.contains("v1.db has schema version 1, this moat reads version 7")
            && msg.contains("moat db update"),
        "{msg}"
    );
    let b = Builder::from_existing(&v1).unwrap();
    assert!(
        b.rebuilt().unwrap().contains("schema version 1"),
        "{:?}",
        b.rebuilt()
    );
    assert_eq!(b.source_names().unwrap(), Vec::<String>::new());
    drop(b);
    assert!(
        Database::open_read_only(&v1).is_err(),
        "untouched until commit"
    );

    // A truncated database file.
    let cut = dir.path().join("cut.db");
    build(&cut);
    let bytes = std::fs::read(&cut).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    let r = Database::open_read_only(&cut).and_then(|db| db.advisories_for("PyPI", "foo-bar-baz"));
    // Either refused at open or on first read; never a panic, never silent wrong data.
    if let Err(e) = r {
        assert!(e.to_string().contains("cut.db"));
    }
}

#[test]
fn from_existing_rebuilds_a_corrupt_db() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moat.db");
    std::fs::write(&path, b"this is not a database at all, just garbage bytes").unwrap();
    let mut b = Builder::from_existing(&path).unwrap();
    assert!(
        b.rebuilt().unwrap().contains("corrupt"),
        "{:?}",
        b.rebuilt()
    );
    b.replace_source(
        "osv:Go",
        &batch(vec![adv("GO-1", "Go", "example.com/x", &[])]),
        SourceMeta::default(),
    )
    .unwrap();
    b.commit().unwrap();
    let db = Database::open_read_only(&path).unwrap();
    assert_eq!(db.advisories_for("Go", "example.com/x").unwrap().len(), 1);
}

/// Imports all of `shared/data/vulns` into a fresh database, one `replace_source` per source,
/// and prints the throughput (no timed assertion; `bench/` measures it in release mode).
#[test]
fn import_everything_throughput() {
    let v = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/vulns"
    ));
    if !v.is_dir() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "shared data missing"
        );
        eprintln!("skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moat.db");
    let t0 = std::time::Instant::now();
    let mut all = import::import_path(&v).unwrap();
    let t_parse = t0.elapsed();
    let groups = import::split_by_source(&mut all);
    let mut b = Builder::create(&path).unwrap();
    let mut records = 0;
    for (source, g) in &groups {
        let n = b.replace_source(source, g, SourceMeta::default()).unwrap();
        eprintln!("  {source}: {n} records");
        records += g.advisories.len() + g.kev.len();
    }
    b.commit().unwrap();
    let dt = t0.elapsed().as_secs_f64();
    eprintln!(
        "imported {records} records from {} files in {dt:.2}s (parse {:.2}s): {:.0} records/s; {} malformed, {} skipped",
        all.files,
        t_parse.as_secs_f64(),
        records as f64 / dt,
        all.malformed.len(),
        all.skipped.len()
    );
    let db = Database::open_read_only(&path).unwrap();
    let st = db.status().unwrap();
    let records = |name: &str| {
        st.sources
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.records)
    };
    assert_eq!(records("osv:Go"), Some(4291));
    assert_eq!(records("osv:PyPI"), Some(2661));
    // 5680 files, 5637 distinct ids: 43 records appear under both almalinux8/ and almalinux9/
    // python3 -c "import json,glob; print(len({json.load(open(f))['id'] for f in
    //   glob.glob('almalinux/**/*.json', recursive=True)}))"  => 5637
    assert_eq!(records("osv:AlmaLinux"), Some(5637));
    assert_eq!(records("rustsec"), Some(1225));
    // RustSec's OSV export: 1206 records, 1205 taken over by the `rustsec` import (sorted after
    // it, so imported later): only RUSTSEC-2025-0000 stays.
    assert_eq!(records("osv:crates.io"), Some(1));
    assert_eq!(records("kev"), Some(1404));
    assert_eq!(st.kev, 1404);
    assert_eq!(
        db.advisory("RUSTSEC-2021-0001").unwrap().unwrap().source,
        "rustsec",
        "later import wins"
    );
}

/// Enough records of one source to train its zstd dictionary (schema 4): every record reads
/// back as written, a record replaced by a later write (another source taking it over, a
/// merge into the source with its stored dictionary) reads back as the later one, aliases
/// point to their records, and the file stays small.
#[test]
fn compressed_records_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moat.db");
    let record = |i: usize| {
        let mut a = adv(
            &format!("GO-2024-{i:04}"),
            "Go",
            &format!("example.com/mod{i}"),
            &[&format!("CVE-2024-{i}")],
        );
        a.summary = Some(format!(
            "Denial of service in example.com/mod{i} via crafted input"
        ));
        a.details = Some(format!(
            "A crafted request to the parser of example.com/mod{i} makes it allocate without \
             bound. Version {i}.0.1 caps the allocation."
        ));
        a
    };
    let n = 2000;
    let mut b = Builder::create(&path).unwrap();
    b.replace_source(
        "osv:Go",
        &batch((0..n).map(record).collect()),
        SourceMeta::default(),
    )
    .unwrap();
    // GO-2024-0007 taken over by another source (fewer records than a dictionary needs).
    let mut taken = record(7);
    taken.summary = Some("taken over".into());
    b.replace_source("osv:Other", &batch(vec![taken]), SourceMeta::default())
        .unwrap();
    // Merged into osv:Go: compressed with its stored dictionary, replacing GO-2024-0009.
    let mut merged = record(9);
    merged.summary = Some("merged".into());
    b.merge_source("osv:Go", &batch(vec![merged]), SourceMeta::default())
        .unwrap();
    b.commit().unwrap();

    let db = Database::open_read_only(&path).unwrap();
    for i in [0, 1, 500, 1023, 1024, 1999] {
        let found = db
            .advisories_for("Go", &format!("example.com/mod{i}"))
            .unwrap();
        let mut want = record(i);
        want.source = "osv:Go".into();
        assert_eq!(found, vec![want], "record {i}");
    }
    let t = db.advisory("GO-2024-0007").unwrap().unwrap();
    assert_eq!(
        (t.summary.as_deref(), t.source.as_str()),
        (Some("taken over"), "osv:Other")
    );
    let m = db.advisories_for("Go", "example.com/mod9").unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].summary.as_deref(), Some("merged"));
    assert_eq!(
        db.ids_for_alias("CVE-2024-9").unwrap(),
        vec!["GO-2024-0009"]
    );
    let st = db.status().unwrap();
    let count = |name: &str| st.sources.iter().find(|s| s.name == name).unwrap().records;
    assert_eq!((count("osv:Go"), count("osv:Other")), (n as u64 - 1, 1));
    let bytes = std::fs::metadata(&path).unwrap().len();
    assert!(
        bytes < 400 * n as u64,
        "{bytes} bytes for {n} records: the dictionary is not used"
    );

    // Replacing the source drops its records and its old dictionary, and trains a new one.
    let mut b = Builder::from_existing(&path).unwrap();
    b.replace_source(
        "osv:Go",
        &batch((0..100).map(record).collect()),
        SourceMeta::default(),
    )
    .unwrap();
    b.commit().unwrap();
    let db = Database::open_read_only(&path).unwrap();
    assert_eq!(
        db.advisories_for("Go", "example.com/mod99").unwrap().len(),
        1
    );
    assert!(
        db.advisories_for("Go", "example.com/mod100")
            .unwrap()
            .is_empty()
    );
    // GO-2024-0007 moved to osv:Go again (the later write wins).
    assert_eq!(
        db.advisory("GO-2024-0007").unwrap().unwrap().source,
        "osv:Go"
    );
    assert_eq!(db.status().unwrap().advisories, 100);
}

/// The stored blocks of a database: (their compressed bytes, their slots, the live records).
fn block_usage(path: &Path) -> (i64, i64, i64) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row(
        "SELECT (SELECT sum(length(data)) FROM blocks), (SELECT sum(records) FROM blocks), \
         (SELECT count(*) FROM advisories)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .unwrap()
}

/// Incremental updates replace records in place, leaving their old bytes in their blocks;
/// a writer compacts the blocks it thinned below half at finish. Replacing two thirds of a
/// source's records twice (new text and a new alias each time) keeps the stored bytes near
/// those of one copy of the records, no block more than half dead, and every lookup (by
/// package, by id, by old and new alias) right.
#[test]
fn updates_replacing_records_do_not_grow_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moat.db");
    let n = 2000;
    let record = |i: usize, round: usize| {
        let mut a = adv(
            &format!("GO-2024-{i:04}"),
            "Go",
            &format!("example.com/mod{i}"),
            &[&format!("CVE-{}-{i}", 2024 + round)],
        );
        a.summary = Some(format!(
            "Denial of service in example.com/mod{i}, round {round}"
        ));
        a.details = Some(format!(
            "A crafted request to the parser of example.com/mod{i} makes it allocate without \
             bound. Version {i}.{round}.1 caps the allocation."
        ));
        a
    };
    let round_of = |i: usize, round: usize| if i.is_multiple_of(3) { 0 } else { round };
    let mut b = Builder::create(&path).unwrap();
    b.replace_source(
        "osv:Go",
        &batch((0..n).map(|i| record(i, 0)).collect()),
        SourceMeta::default(),
    )
    .unwrap();
    b.commit().unwrap();
    let (bytes0, slots0, live0) = block_usage(&path);
    assert_eq!((slots0, live0), (n as i64, n as i64));
    let file0 = std::fs::metadata(&path).unwrap().len();

    for round in 1..=3 {
        let mut b = Builder::from_existing(&path).unwrap();
        let mut changed: Vec<Advisory> = (0..n)
            .filter(|i| !i.is_multiple_of(3))
            .map(|i| record(i, round))
            .collect();
        // An id written twice in one update: the later write wins, its first copy (still in
        // the block being filled) is dead.
        let mut first = record(5, round);
        first.summary = Some("overwritten in the same update".into());
        changed.insert(0, first);
        b.merge_source("osv:Go", &batch(changed), SourceMeta::default())
            .unwrap();
        b.commit().unwrap();

        let (bytes, slots, live) = block_usage(&path);
        assert_eq!(live, n as i64, "round {round}");
        assert!(
            slots - live <= live,
            "round {round}: {slots} slots for {live} live records"
        );
        assert!(
            bytes * 5 <= bytes0 * 7,
            "round {round}: {bytes} bytes of blocks against {bytes0} for one copy"
        );
        let file = std::fs::metadata(&path).unwrap().len();
        assert!(
            file <= file0 * 2,
            "round {round}: file of {file} bytes against {file0}"
        );

        let db = Database::open_read_only(&path).unwrap();
        for i in [0, 1, 2, 3, 5, 999, 1000, 1998, 1999] {
            let mut want = record(i, round_of(i, round));
            want.source = "osv:Go".into();
            let found = db
                .advisories_for("Go", &format!("example.com/mod{i}"))
                .unwrap();
            assert_eq!(found, vec![want.clone()], "round {round}, record {i}");
            assert_eq!(db.advisory(&want.id).unwrap(), Some(want.clone()));
            let alias = format!("CVE-{}-{i}", 2024 + round_of(i, round));
            assert_eq!(db.ids_for_alias(&alias).unwrap(), vec![want.id.clone()]);
            if round_of(i, round) != 0 {
                // The alias of the record it replaced is gone.
                let old = format!("CVE-{}-{i}", 2024 + round - 1);
                assert!(db.ids_for_alias(&old).unwrap().is_empty(), "{old}");
            }
        }
        assert_eq!(db.status().unwrap().advisories, n as u64);
    }
}

/// A new database defers its unique index on ids (and knows its ids and package keys by
/// hash): an id written twice (in one writer, then in a later one) still ends as one
/// record, the later write winning, with only its own package and alias rows; a writer that
/// built the index for a second write of an id and is rolled back leaves the first one; the
/// committed file has the unique index on ids.
#[test]
fn a_new_database_keeps_ids_unique_and_links_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moat.db");
    let mut b = Builder::create(&path).unwrap();
    {
        let mut w = b.writer(db::Mode::Merge).unwrap();
        for i in 0..300 {
            let a = adv(
                &format!("GO-{i}"),
                "Go",
                &format!("example.com/m{i}"),
                &[&format!("CVE-{i}")],
            );
            w.advisory("osv:Go", &a).unwrap();
        }
        // GO-7 again, for another package and alias: replaces the first.
        w.advisory(
            "osv:Go",
            &adv("GO-7", "Go", "example.com/other", &["CVE-777"]),
        )
        .unwrap();
        w.finish().unwrap();
    }
    {
        // A writer that builds the index (a second GO-8) and is dropped.
        let mut w = b.writer(db::Mode::Merge).unwrap();
        w.advisory("osv:npm", &adv("NPM-1", "npm", "left-pad", &["CVE-9001"]))
            .unwrap();
        w.finish().unwrap();
        let mut w = b.writer(db::Mode::Merge).unwrap();
        w.advisory("osv:Go", &adv("GO-8", "Go", "example.com/gone", &[]))
            .unwrap();
        drop(w);
    }
    b.commit().unwrap();

    let db = Database::open_read_only(&path).unwrap();
    assert_eq!(db.status().unwrap().advisories, 301);
    assert!(
        db.advisories_for("Go", "example.com/m7")
            .unwrap()
            .is_empty()
    );
    let other = db.advisories_for("Go", "example.com/other").unwrap();
    assert_eq!(other.len(), 1);
    assert_eq!(other[0].aliases, ["CVE-777"]);
    assert!(db.ids_for_alias("CVE-7").unwrap().is_empty());
    assert_eq!(db.ids_for_alias("CVE-777").unwrap(), ["GO-7"]);
    assert_eq!(
        db.advisories_for("Go", "example.com/m8").unwrap()[0].id,
        "GO-8"
    );
    assert!(
        db.advisories_for("Go", "example.com/gone")
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        db.advisories_for("Go", "example.com/m299").unwrap()[0].id,
        "GO-299"
    );
    assert_eq!(db.ids_for_alias("CVE-9001").unwrap(), ["NPM-1"]);
    assert_eq!(db.advisories_for("npm", "left-pad").unwrap()[0].id, "NPM-1");
    drop(db);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let unique: i64 = conn
        .query_row(
            "SELECT count(*) FROM pragma_index_list('advisories') WHERE \"unique\" = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(unique, 1);
    let err = conn
        .execute(
            "INSERT INTO advisories(id, source, packages, block, slot) VALUES ('GO-1', 's', x'', 1, 0)",
            [],
        )
        .unwrap_err();
    assert!(err.to_string().contains("UNIQUE"), "{err}");
}

/// Blocks are compressed on the writer's compressor thread: a record replaced while its old
/// block is held for the dictionary being collected, or still with the compressor, or
/// already stored, reads back as the later write, and every block is compressed against the
/// source's one dictionary.
#[test]
fn records_replaced_while_their_blocks_are_being_compressed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moat.db");
    let record = |id: usize, version: &str| {
        let mut a = adv(
            &format!("GO-{id}"),
            "Go",
            &format!("example.com/{version}/m{id}"),
            &[&format!("CVE-{version}-{id}")],
        );
        a.details = Some(format!(
            "Record {id} ({version}): a crafted request makes example.com/m{id} allocate \
             without bound; upgrade to {id}.0.1."
        ));
        a
    };
    // (position in the stream, id replaced there): within the training window (its block
    // held), right after it (its block with the compressor), and far later (stored).
    let replaced = [(200, 5), (1100, 1050), (1700, 1690), (2900, 2)];
    let mut b = Builder::create(&path).unwrap();
    {
        let mut w = b.writer(db::Mode::Merge).unwrap();
        for i in 0..3000 {
            w.advisory("osv:Go", &record(i, "v1")).unwrap();
            for &(at, id) in &replaced {
                if at == i {
                    w.advisory("osv:Go", &record(id, "v2")).unwrap();
                }
            }
        }
        w.finish().unwrap();
    }
    b.commit().unwrap();

    let db = Database::open_read_only(&path).unwrap();
    assert_eq!(db.status().unwrap().advisories, 3000);
    for i in 0..3000 {
        let v = if replaced.iter().any(|&(_, id)| id == i) {
            "v2"
        } else {
            "v1"
        };
        let found = db
            .advisories_for("Go", &format!("example.com/{v}/m{i}"))
            .unwrap();
        let mut want = record(i, v);
        want.source = "osv:Go".into();
        assert_eq!(found, vec![want], "record {i}");
        assert_eq!(
            db.ids_for_alias(&format!("CVE-{v}-{i}")).unwrap(),
            [format!("GO-{i}")]
        );
    }
    for (_, id) in replaced {
        assert!(
            db.advisories_for("Go", &format!("example.com/v1/m{id}"))
                .unwrap()
                .is_empty()
        );
        assert!(
            db.ids_for_alias(&format!("CVE-v1-{id}"))
                .unwrap()
                .is_empty()
        );
    }
    drop(db);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let (dicts, plain): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM dicts), \
                    (SELECT count(*) FROM blocks WHERE dict IS NULL)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((dicts, plain), (1, 0));
}

/// A new database stages its `affected` and `aliases` rows (one row a record, ids and
/// aliases as JSON arrays) and moves them at commit: aliases with characters JSON escapes,
/// a record with many packages, one with none, and a writer dropped before it finished
/// read back exactly as written, and the staging leaves nothing in the file.
#[test]
fn staged_link_rows_read_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moat.db");
    let odd = [
        "CVE-\"quoted\"",
        "GHSA-back\\slash",
        "ALIAS-é-\u{1F600}",
        "TAB\there",
    ];
    let mut b = Builder::create(&path).unwrap();
    {
        let mut w = b.writer(db::Mode::Merge).unwrap();
        w.advisory("osv:Go", &adv("GO-ODD", "Go", "example.com/odd", &odd))
            .unwrap();
        let mut many = adv("GO-MANY", "Go", "example.com/p0", &[]);
        for i in 1..40 {
            let mut a = many.affected[0].clone();
            a.package.name = format!("example.com/p{i}");
            many.affected.push(a);
        }
        w.advisory("osv:Go", &many).unwrap();
        let mut none = adv("GO-NONE", "Go", "x", &[]);
        none.affected.clear();
        w.advisory("osv:Go", &none).unwrap();
        w.finish().unwrap();
    }
    {
        // Dropped: its staged rows go with its transaction.
        let mut w = b.writer(db::Mode::Merge).unwrap();
        w.advisory("osv:npm", &adv("NPM-GONE", "npm", "gone", &["CVE-GONE"]))
            .unwrap();
        drop(w);
    }
    b.commit().unwrap();

    let db = Database::open_read_only(&path).unwrap();
    for alias in odd {
        assert_eq!(db.ids_for_alias(alias).unwrap(), ["GO-ODD"], "{alias}");
    }
    for i in 0..40 {
        let found = db
            .advisories_for("Go", &format!("example.com/p{i}"))
            .unwrap();
        assert_eq!(found.len(), 1, "p{i}");
        assert_eq!(found[0].id, "GO-MANY");
    }
    assert!(db.advisories_for("npm", "gone").unwrap().is_empty());
    assert!(db.ids_for_alias("CVE-GONE").unwrap().is_empty());
    assert_eq!(db.status().unwrap().advisories, 3);
    drop(db);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM affected"), 41);
    assert_eq!(count("SELECT count(*) FROM aliases"), 4);
    assert_eq!(
        count("SELECT count(*) FROM sqlite_master WHERE name LIKE '%stage%'"),
        0
    );
}

/// A package's list of records as a crafted or damaged file may hold it: bytes that are
/// not a list, more entries than any real package has, a record that is gone. Each lookup
/// fails naming the file (or finds nothing), never panics or allocates without bound.
#[test]
fn damaged_package_lists_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lists.db");
    build(&path);
    let set = |list: &[u8]| {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let n = conn
            .execute(
                "UPDATE affected SET advisories = ?1 WHERE package = \
                 (SELECT id FROM packages WHERE ecosystem = 'PyPI' AND name = 'foo-bar-baz')",
                [list],
            )
            .unwrap();
        assert_eq!(n, 1);
    };
    let lookup = || {
        Database::open_read_only(&path)
            .unwrap()
            .advisories_for("PyPI", "Foo.Bar_baz")
    };
    assert_eq!(lookup().unwrap().len(), 1);
    // Not varints, a repeated record (a gap of 0), a varint past 32 bits.
    for bad in [&[0x80u8][..], &[1, 0], &[0xff, 0xff, 0xff, 0xff, 0x7f]] {
        set(bad);
        let e = lookup().unwrap_err();
        assert!(matches!(e, DbError::Corrupt { .. }), "{bad:?}: {e:?}");
        let msg = e.to_string();
        assert!(
            msg.contains("lists.db") && msg.contains("does not decode"),
            "{msg}"
        );
    }
    // More records than a list may name (a gap of 1 each, 5 MB).
    set(&vec![1u8; 5_000_000]);
    let msg = lookup().unwrap_err().to_string();
    assert!(
        msg.contains("lists.db") && msg.contains("does not decode"),
        "{msg}"
    );
    // Records that are not there: nothing found (as a join would find nothing).
    set(&[100, 7]);
    assert!(lookup().unwrap().is_empty());
}

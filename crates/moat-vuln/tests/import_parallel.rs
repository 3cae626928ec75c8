//! The parallel read of an OSV `all.zip` (`stream_path_mapped`: entries inflated and parsed
//! on all cores) hands on exactly what the sequential read (`stream_path`) does, in the same
//! order, and stops when its consumer stops.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_vuln::import::{self, Item, Stop};
use std::io::Write;
use std::path::Path;

fn record(i: usize) -> String {
    // Every few records an alias, a second package, a severity label, an upstream id.
    format!(
        r#"{{"id":"GO-2099-{i:05}","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2099-{i}"],"upstream":["CVE-2098-{i}"],"summary":"record {i}","affected":[{{"package":{{"ecosystem":"Go","name":"example.com/m{m}"}},"ranges":[{{"type":"SEMVER","events":[{{"introduced":"0"}},{{"fixed":"1.{i}.0"}}]}}]}}{extra}],"database_specific":{{"severity":"{sev}"}}}}"#,
        m = i % 37,
        extra = if i.is_multiple_of(3) {
            r#",{"package":{"ecosystem":"Go","name":"example.com/other"}}"#
        } else {
            ""
        },
        sev = ["LOW", "MODERATE", "HIGH"][i % 3],
    )
}

/// An `all.zip` of `n` records, with a stored entry, a file that is not JSON, a record that
/// does not parse, one without an id and a directory among them.
fn archive(n: usize) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..n {
        let opts = if i.is_multiple_of(101) {
            stored
        } else {
            deflated
        };
        w.start_file(format!("GO-2099-{i:05}.json"), opts).unwrap();
        w.write_all(record(i).as_bytes()).unwrap();
        match i {
            10 => {
                w.start_file("README.txt", deflated).unwrap();
                w.write_all(b"not a record").unwrap();
            }
            20 => {
                w.start_file("broken.json", deflated).unwrap();
                w.write_all(b"{\"id\": ").unwrap();
            }
            30 => {
                w.start_file("noid.json", deflated).unwrap();
                w.write_all(br#"{"id":"","affected":[]}"#).unwrap();
            }
            40 => w.add_directory("sub/", deflated).unwrap(),
            _ => {}
        }
    }
    w.finish().unwrap().into_inner()
}

/// What the sequential read hands on, as text.
fn sequential(p: &Path) -> Vec<String> {
    let mut out = Vec::new();
    import::stream_path(p, &mut |item| {
        out.push(shown(&item));
        Ok(())
    })
    .unwrap();
    out
}

/// What the parallel read hands on, as text, and the sizes of the batches.
fn parallel(p: &Path, batch: usize) -> (Vec<String>, Vec<usize>) {
    let mut out = Vec::new();
    let mut sizes = Vec::new();
    import::stream_path_mapped(p, batch, &|item| shown(&item), &mut |items| {
        sizes.push(items.len());
        out.append(items);
        Ok(())
    })
    .unwrap();
    (out, sizes)
}

fn shown(item: &Item) -> String {
    format!("{item:?}")
}

#[test]
fn parallel_zip_read_hands_on_what_the_sequential_one_does() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("all.zip");
    std::fs::write(&p, archive(3_000)).unwrap();
    let want = sequential(&p);
    // 3,000 records, 3,002 `File`s (the records, broken.json, noid.json), README skipped, two malformed.
    assert_eq!(
        want.iter().filter(|s| s.starts_with("Advisory")).count(),
        3_000
    );
    assert_eq!(want.iter().filter(|s| s.starts_with("File")).count(), 3_002);
    let malformed: Vec<&String> = want.iter().filter(|s| s.starts_with("Malformed")).collect();
    assert_eq!(malformed.len(), 2, "{malformed:?}");
    assert!(
        malformed[0].contains("all.zip!broken.json"),
        "{}",
        malformed[0]
    );
    assert!(
        malformed[1].contains("all.zip!noid.json"),
        "{}",
        malformed[1]
    );
    assert!(
        want.iter()
            .any(|s| s.contains("Skipped(") && s.contains("all.zip!README.txt"))
    );
    // upstream ids became aliases, severities ratings: the items are the processed ones.
    assert!(want[1].contains("CVE-2098-0"), "{}", want[1]);
    for batch in [1, 7, 256, 10_000] {
        let (got, sizes) = parallel(&p, batch);
        assert_eq!(got.len(), want.len(), "batches of {batch}");
        assert!(got == want, "batches of {batch}: items differ");
        assert!(
            sizes.iter().all(|&n| n > 0),
            "batches of {batch}: an empty batch"
        );
    }
}

#[test]
fn parallel_zip_read_of_damaged_archives() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = archive(500);
    // Cut off part-way: the records before the cut, then one damaged archive.
    let cut = dir.path().join("cut.zip");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let want = sequential(&cut);
    assert!(
        want.last().unwrap().contains("cut.zip!(zip)"),
        "{:?}",
        want.last()
    );
    assert_eq!(parallel(&cut, 64).0, want);
    // Not a zip at all.
    let junk = dir.path().join("junk.zip");
    std::fs::write(&junk, b"not a zip").unwrap();
    let want = sequential(&junk);
    assert_eq!(want.len(), 1);
    assert!(want[0].contains("junk.zip!(zip)"), "{}", want[0]);
    assert_eq!(parallel(&junk, 64).0, want);
    // A missing file is an error.
    assert!(
        import::stream_path_mapped(&dir.path().join("missing.zip"), 8, &|i| i, &mut |_| Ok(()))
            .is_err()
    );
}

#[test]
fn a_corrupt_entry_is_one_malformed_record() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = archive(200);
    // Flip bytes inside the compressed data of the entry of record 150.
    let name = b"GO-2099-00150.json";
    let at = bytes.windows(name.len()).position(|w| w == name).unwrap();
    for b in &mut bytes[at + name.len() + 20..at + name.len() + 40] {
        *b ^= 0x5a;
    }
    let p = dir.path().join("all.zip");
    std::fs::write(&p, &bytes).unwrap();
    let (got, _) = parallel(&p, 16);
    let bad: Vec<&String> = got.iter().filter(|s| s.contains("GO-2099-00150")).collect();
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(bad[0].starts_with("Malformed"), "{}", bad[0]);
    assert!(bad[0].contains("all.zip!GO-2099-00150.json"), "{}", bad[0]);
    assert_eq!(
        got.iter().filter(|s| s.starts_with("Advisory")).count(),
        199
    );
    // The sequential read agrees on everything but the reason's wording.
    let reasonless = |v: &[String]| -> Vec<String> {
        v.iter()
            .map(|s| match s.find("\", \"") {
                Some(i) if s.starts_with("Malformed") => s[..i].to_string(),
                _ => s.clone(),
            })
            .collect()
    };
    assert_eq!(reasonless(&got), reasonless(&sequential(&p)));
}

#[test]
fn a_consumer_that_stops_stops_the_parallel_read() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("all.zip");
    std::fs::write(&p, archive(5_000)).unwrap();
    let mut batches = 0;
    let r = import::stream_path_mapped(&p, 16, &|i| i, &mut |_| {
        batches += 1;
        if batches == 3 { Err(Stop) } else { Ok(()) }
    });
    assert!(
        matches!(r, Err(import::ImportError::Stopped { .. })),
        "{r:?}"
    );
    assert_eq!(batches, 3);
}

/// A zip of stored entries written by hand: (name bytes, UTF-8 flag, extra field length,
/// data), with a central directory.
fn hand_zip(entries: &[(Vec<u8>, bool, usize, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, utf8, extra, data) in entries {
        let offset = out.len() as u32;
        let flags: u16 = if *utf8 { 0x0800 } else { 0 };
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let crc = crc.sum();
        let mut common = Vec::new();
        common.extend_from_slice(&20u16.to_le_bytes()); // version needed
        common.extend_from_slice(&flags.to_le_bytes());
        common.extend_from_slice(&0u16.to_le_bytes()); // stored
        common.extend_from_slice(&0u32.to_le_bytes()); // time, date
        common.extend_from_slice(&crc.to_le_bytes());
        common.extend_from_slice(&(data.len() as u32).to_le_bytes());
        common.extend_from_slice(&(data.len() as u32).to_le_bytes());
        common.extend_from_slice(&(name.len() as u16).to_le_bytes());
        common.extend_from_slice(&(*extra as u16).to_le_bytes());
        // An extra field of unknown id 0xcafe, `extra` bytes in all (header included).
        let mut field = Vec::new();
        if *extra >= 4 {
            field.extend_from_slice(&0xcafeu16.to_le_bytes());
            field.extend_from_slice(&((*extra - 4) as u16).to_le_bytes());
            field.resize(*extra, 0x5a);
        }
        out.extend_from_slice(b"PK\x03\x04");
        out.extend_from_slice(&common);
        out.extend_from_slice(name);
        out.extend_from_slice(&field);
        out.extend_from_slice(data);
        central.extend_from_slice(b"PK\x01\x02");
        central.extend_from_slice(&20u16.to_le_bytes()); // version made by
        central.extend_from_slice(&common);
        central.extend_from_slice(&[0; 8]); // comment length, disk, internal attributes
        central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name);
        central.extend_from_slice(&field);
    }
    let at = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&at.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// Entries the fast reader takes (ASCII names, extra fields of any length) around ones it
/// leaves to the zip crate (a CP437 name): the reader goes back to where each of those
/// starts, which it knows from the entries before it without asking the file.
#[test]
fn entries_left_to_the_zip_crate_are_found_after_plain_ones() {
    let mut entries = Vec::new();
    for i in 0..12usize {
        let mut name = format!("GO-2099-{i:05}").into_bytes();
        if i % 4 == 2 {
            // 0x81 is "ü" in CP437: not ASCII, and no UTF-8 flag.
            name.push(0x81);
        }
        name.extend_from_slice(b".json");
        entries.push((
            name,
            false,
            [0, 4, 9, 13][i % 4] * (i % 3),
            record(i).into_bytes(),
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("all.zip");
    std::fs::write(&p, hand_zip(&entries)).unwrap();
    let got = sequential(&p);
    let ids: Vec<usize> = (0..12)
        .filter(|&i| {
            got.iter()
                .any(|s| s.contains(&format!("\"GO-2099-{i:05}\"")))
        })
        .collect();
    assert_eq!(ids, (0..12).collect::<Vec<_>>(), "{got:#?}");
    assert_eq!(got.iter().filter(|s| s.starts_with("Advisory")).count(), 12);
    assert!(!got.iter().any(|s| s.starts_with("Malformed")), "{got:#?}");
    assert_eq!(parallel(&p, 5).0, got);
}

//! Bad input from the command line: each case gives one clear error naming the input
//! (and layer), exit code 2, no panic; problems inside a readable target are warnings.
//! Every run is under a memory limit (1 GiB of address space, 512 MiB where the case is
//! about memory) and a wall-clock limit, as in the hostile suite (`hostile.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use std::path::Path;

fn layout(dir: &Path, layers: &[TestLayer]) -> String {
    write_oci(dir, layers);
    format!("oci:{}", dir.display())
}

fn blob_path(dir: &Path, blob: &[u8]) -> std::path::PathBuf {
    dir.join("blobs/sha256").join(&sha256(blob)[7..])
}

/// Address-space limit of every run (MiB), as in the hostile suite (`hostile.rs`): 1 GiB.
const MEMORY_MIB: u64 = 1 << 10;
/// Wall-clock limit of every run: a guard against hangs, not a speed test.
const WALL: std::time::Duration = std::time::Duration::from_secs(120);

/// Runs `moat inventory args...` with its address space limited to `mib` MiB and killed
/// past [`WALL`] ([`run_under_limits`]), without the layer cache (each case reads its layers
/// and leaves nothing in ~/.cache); returns its output and how long it took.
fn limited(mib: u64, args: &[&str]) -> (std::process::Output, f64) {
    let mut all = vec!["inventory"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--cache", "off"]);
    run_under_limits(mib << 10, WALL, &all, |_| {})
}

/// Runs `moat inventory` under the memory and time limits ([`limited`]) and returns (exit
/// code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let (o, _) = limited(MEMORY_MIB, args);
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "moat panicked: {err}");
    no_repeated_cause(&err);
    (o.status.code().unwrap_or(-1), stdout(&o), err)
}

/// No message says its cause twice (`X: X`): no part between `: ` separators comes back on
/// the same line.
fn no_repeated_cause(err: &str) {
    for line in err.lines() {
        let parts: Vec<&str> = line.split(": ").map(str::trim).collect();
        for (i, p) in parts.iter().enumerate() {
            let again = parts[i + 1..].iter().any(|q| q == p);
            assert!(
                !(again && (p.len() >= 12 || parts.get(i + 1) == Some(p))),
                "the cause {p:?} is repeated: {line}"
            );
        }
    }
}

/// Runs `moat inventory` with its address space limited to `mib` MiB (and the time limit);
/// returns (exit code, stderr, seconds).
fn run_limited(mib: u64, args: &[&str]) -> (i32, String, f64) {
    let (o, secs) = limited(mib, args);
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "moat panicked: {err}");
    no_repeated_cause(&err);
    (o.status.code().unwrap_or(-1), err, secs)
}

fn good_layer() -> TestLayer {
    TestLayer::gz(
        &debian_layer(&[("base-files", "12.4"), ("libc6", "2.36-9")], vec![]),
        "base",
    )
}

#[test]
fn a_readable_image_scans() {
    let d = tempfile::tempdir().expect("tempdir");
    let t = layout(d.path(), &[good_layer()]);
    let (code, out, err) = run(&[&t]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("libc6") && out.contains("2.36-9"), "{out}");
}

#[test]
fn truncated_layer_is_an_error_naming_input_and_layer() {
    let d = tempfile::tempdir().expect("tempdir");
    let l = good_layer();
    let t = layout(d.path(), &[l]);
    let l = good_layer();
    let p = blob_path(d.path(), &l.blob);
    std::fs::write(&p, &l.blob[..l.blob.len() / 2]).expect("truncate");
    let (code, _, err) = run(&[&t]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&d.path().display().to_string()),
        "names the input: {err}"
    );
    assert!(err.contains("layer 0"), "names the layer: {err}");
}

#[test]
fn corrupt_gzip_is_an_error() {
    let d = tempfile::tempdir().expect("tempdir");
    let l = good_layer();
    let mut bad = l.blob.clone();
    let mid = bad.len() / 2;
    for b in &mut bad[mid..mid + 16] {
        *b ^= 0xff;
    }
    let t = layout(d.path(), &[l]);
    let p = blob_path(d.path(), &good_layer().blob);
    std::fs::write(&p, &bad).expect("corrupt");
    let (code, _, err) = run(&[&t]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("layer 0"), "{err}");
}

#[test]
fn layer_digest_mismatch_is_an_error() {
    let d = tempfile::tempdir().expect("tempdir");
    let l = good_layer();
    let t = layout(d.path(), &[l]);
    // the same content, but other stored bytes: the gzip header's MTIME field differs
    let mut other = good_layer().blob;
    other[4] ^= 0x5a;
    std::fs::write(blob_path(d.path(), &good_layer().blob), &other).expect("swap");
    let (code, _, err) = run(&[&t]);
    assert_eq!(code, 2, "{err}");
    assert!(err.to_lowercase().contains("digest"), "{err}");
    assert!(
        err.contains(&sha256(&good_layer().blob)[7..19]),
        "names the expected digest: {err}"
    );
}

#[test]
fn decompression_bomb_is_stopped_by_the_size_cap_and_the_ratio() {
    let d = tempfile::tempdir().expect("tempdir");
    let zeros = vec![0u8; 80 << 20];
    let bomb = TestLayer::gz(&[E::File("zeros", zeros)], "bomb");
    assert!(bomb.blob.len() < 1 << 20);
    let t = layout(d.path(), &[bomb]);
    // ratio: 80 MiB from well under 1 MiB is over the default 200:1 once past 64 MiB
    let (code, _, err) = run(&[&t]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("layer 0"), "{err}");
    // size cap, configurable
    let (code, _, err) = run(&[&t, "--max-layer-bytes", "1000000", "--max-ratio", "100000"]);
    assert_eq!(code, 2, "{err}");
    // and with both raised the same layer is fine
    let (code, _, err) = run(&[&t, "--max-ratio", "100000"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn entry_names_escaping_the_root_are_errors() {
    for name in ["../etc/passwd", "a/../../b"] {
        let d = tempfile::tempdir().expect("tempdir");
        let l = TestLayer::gz(&[E::RawFile(name, b"x".to_vec())], "x");
        let t = layout(d.path(), &[l]);
        let (code, _, err) = run(&[&t]);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(
            err.contains("layer 0") && err.contains(name),
            "{name}: {err}"
        );
    }
}

#[test]
fn symlink_loop_is_a_warning_not_a_failure() {
    let d = tempfile::tempdir().expect("tempdir");
    let l = TestLayer::gz(
        &[
            E::Symlink("etc/os-release", "../etc/loop"),
            E::Symlink("etc/loop", "os-release"),
            E::File("var/lib/dpkg/status", status(&[("bash", "5.2")])),
        ],
        "loop",
    );
    let t = layout(d.path(), &[l]);
    let (code, out, err) = run(&[&t, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("symlink loop"), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert!(
        v["diagnostics"]
            .as_array()
            .expect("warnings")
            .iter()
            .any(|w| w["message"].as_str().is_some_and(|m| m.contains("loop")))
    );
    assert_eq!(v["packages"][0]["name"], "bash");
}

/// Names, types and data of a hand-written layer tar (the `tar` crate refuses some of the
/// forms written here).
#[derive(Default)]
struct Raw(Vec<u8>);

impl Raw {
    /// A POSIX (ustar) header, as GNU tar writes beside PAX records (an old-GNU header
    /// there makes GNU tar misread a sparse 1.0 member).
    fn header(&mut self, name: &[u8], kind: u8, size: u64, link: &[u8]) -> &mut Raw {
        let mut h = tar::Header::new_ustar();
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.as_old_mut().linkname[..link.len()].copy_from_slice(link);
        h.set_entry_type(tar::EntryType::new(kind));
        h.set_mode(0o644);
        h.set_size(size);
        h.set_cksum();
        self.0.extend_from_slice(h.as_bytes());
        self
    }
    fn data(&mut self, d: &[u8]) -> &mut Raw {
        self.0.extend_from_slice(d);
        self.0.resize(self.0.len().div_ceil(512) * 512, 0);
        self
    }
    fn file(&mut self, name: &[u8], d: &[u8]) -> &mut Raw {
        self.header(name, b'0', d.len() as u64, b"").data(d)
    }
    fn pax(&mut self, records: &[(&str, &str)]) -> &mut Raw {
        let mut body = String::new();
        for (k, v) in records {
            let rest = format!(" {k}={v}\n");
            let mut n = rest.len() + 1;
            while n.to_string().len() + rest.len() != n {
                n += 1;
            }
            body.push_str(&format!("{n}{rest}"));
        }
        self.header(b"PaxHeaders/0", b'x', body.len() as u64, b"")
            .data(body.as_bytes())
    }
    /// A sparse file in a GNU form (`old`, `0.0`, `0.1`, `1.0`), its data in one segment at
    /// `at` of a file of `size` bytes.
    fn sparse(&mut self, form: &str, name: &str, size: u64, at: u64, d: &[u8]) -> &mut Raw {
        let (size_s, at_s, len_s) = (size.to_string(), at.to_string(), d.len().to_string());
        match form {
            "old" => {
                let mut h = tar::Header::new_gnu();
                h.set_path(name).expect("path");
                h.set_entry_type(tar::EntryType::GNUSparse);
                h.set_mode(0o644);
                h.set_size(d.len() as u64);
                let g = h.as_gnu_mut().expect("gnu header");
                g.realsize
                    .copy_from_slice(format!("{size:011o}\0").as_bytes());
                g.sparse[0]
                    .offset
                    .copy_from_slice(format!("{at:011o}\0").as_bytes());
                g.sparse[0]
                    .numbytes
                    .copy_from_slice(format!("{:011o}\0", d.len()).as_bytes());
                h.set_cksum();
                self.0.extend_from_slice(h.as_bytes());
                self.data(d)
            }
            "0.0" => self
                .pax(&[
                    ("GNU.sparse.size", &size_s),
                    ("GNU.sparse.numblocks", "1"),
                    ("GNU.sparse.offset", &at_s),
                    ("GNU.sparse.numbytes", &len_s),
                ])
                .file(name.as_bytes(), d),
            "0.1" => self
                .pax(&[
                    ("GNU.sparse.size", &size_s),
                    ("GNU.sparse.numblocks", "1"),
                    ("GNU.sparse.name", name),
                    ("GNU.sparse.map", &format!("{at},{}", d.len())),
                ])
                .file(b"GNUSparseFile.1/x", d),
            _ => {
                let mut data = format!("1\n{at}\n{}\n", d.len()).into_bytes();
                data.resize(512, 0);
                data.extend_from_slice(d);
                self.pax(&[
                    ("GNU.sparse.major", "1"),
                    ("GNU.sparse.minor", "0"),
                    ("GNU.sparse.name", name),
                    ("GNU.sparse.realsize", &size_s),
                ])
                .file(b"GNUSparseFile.1/x", &data)
            }
        }
    }
    fn layer(&mut self) -> TestLayer {
        self.0.extend_from_slice(&[0; 1024]);
        let t = std::mem::take(&mut self.0);
        TestLayer {
            blob: gzip(&t),
            tar: t,
            created_by: "raw",
        }
    }
}

const OS_RELEASE: &[u8] = b"ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n";

/// Names of the packages `moat inventory --format json` finds, and its warnings.
fn inventory(layers: &[TestLayer]) -> (Vec<String>, Vec<serde_json::Value>) {
    let d = tempfile::tempdir().expect("tempdir");
    let t = layout(d.path(), layers);
    let (code, out, err) = run(&[&t, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let names = v["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| p["name"].as_str().unwrap_or_default().to_string())
        .collect();
    (
        names,
        v["diagnostics"].as_array().cloned().unwrap_or_default(),
    )
}

/// The names of the packages in the `var/lib/dpkg/status` that GNU tar extracts from the
/// layer, or `None` when GNU tar is not installed (outside CI).
fn gnu_tar_packages(what: &str, layer: &TestLayer) -> Option<Vec<String>> {
    use std::io::Write;
    let d = tempfile::tempdir().unwrap();
    let child = std::process::Command::new("tar")
        .args(["-x", "-f", "-", "-C"])
        .arg(d.path())
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        assert!(std::env::var("CI").is_err(), "GNU tar is needed under CI");
        eprintln!("skipped: no tar to compare with");
        return None;
    };
    child.stdin.take().unwrap().write_all(&layer.tar).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{what}: GNU tar: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(d.path().join("var/lib/dpkg/status")).unwrap();
    Some(
        text.lines()
            .filter_map(|l| l.strip_prefix("Package: "))
            .map(str::to_string)
            .collect(),
    )
}

/// Each entry form Docker's and containerd's unpackers accept (GNU sparse in its four forms,
/// a GNU long name, a PAX `path` override) holds a dpkg database: moat reads the packages
/// GNU tar extracts, no more and no fewer.
#[test]
fn entry_forms_are_read_as_gnu_tar_extracts_them() {
    let text = status(&[("bash", "5.2"), ("libc6", "2.36-9"), ("zlib1g", "1.2.13")]);
    let path = "var/lib/dpkg/status";
    let mut layers: Vec<(String, TestLayer)> = ["old", "0.0", "0.1", "1.0"]
        .into_iter()
        .map(|form| {
            let l = Raw::default()
                .file(b"etc/os-release", OS_RELEASE)
                .sparse(form, path, text.len() as u64, 0, &text)
                .layer();
            (format!("sparse {form}"), l)
        })
        .collect();
    let mut long = path.as_bytes().to_vec();
    long.push(0);
    layers.push((
        "GNU long name".into(),
        Raw::default()
            .file(b"etc/os-release", OS_RELEASE)
            .header(b"././@LongLink", b'L', long.len() as u64, b"")
            .data(&long)
            .file(b"var/lib/dpkg/stat", &text)
            .layer(),
    ));
    layers.push((
        "PAX path".into(),
        Raw::default()
            .file(b"etc/os-release", OS_RELEASE)
            .pax(&[("path", path)])
            .file(b"placeholder", &text)
            .layer(),
    ));
    for (what, l) in layers {
        let Some(gnu) = gnu_tar_packages(&what, &l) else {
            return;
        };
        assert_eq!(gnu, ["bash", "libc6", "zlib1g"], "{what}: GNU tar");
        let (names, warnings) = inventory(&[l]);
        assert_eq!(names, gnu, "{what}: moat");
        assert!(warnings.is_empty(), "{what}: {warnings:?}");
    }
}

#[test]
fn huge_sparse_entries_cost_only_what_is_read() {
    // Nobody reads /var/log/lastlog: the 2 GiB it claims cost nothing, even with 512 MiB of
    // address space. The dpkg database claims 4 GiB: it is wanted, over the entry limit, and
    // a warning; nothing fails.
    let d = tempfile::tempdir().expect("tempdir");
    let l = Raw::default()
        .file(b"etc/os-release", OS_RELEASE)
        .file(b"usr/lib/os-release", OS_RELEASE)
        .sparse("1.0", "var/log/lastlog", 2 << 30, (2 << 30) - 4, b"last")
        .sparse("old", "var/log/wtmp", 3 << 30, 0, b"w")
        .layer();
    let t = layout(d.path(), &[l]);
    let (code, err, _) = run_limited(512, &[&t]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("warning"), "{err}");

    let l = Raw::default()
        .file(b"etc/os-release", OS_RELEASE)
        .sparse(
            "old",
            "var/lib/dpkg/status",
            1 << 32,
            (1 << 32) - 512,
            &[b'x'; 512],
        )
        .layer();
    let (names, warnings) = inventory(&[l]);
    assert!(names.is_empty(), "{names:?}");
    assert!(
        warnings.iter().any(|w| w["code"] == "too-large"
            && w["path"] == "/var/lib/dpkg/status"
            && w["layer"] == 0),
        "{warnings:?}"
    );
}

/// A gzip layer whose tar opens with a 3 GiB extension record (`x`: a PAX `path=`; `L`: a
/// GNU long name): the header, then the record's bytes as 64 MiB gzip members repeated, so
/// the blob is a few MB and no 3 GiB buffer exists in the test either.
fn huge_header_layer(kind: u8) -> TestLayer {
    let size: u64 = 3 << 30;
    let mut h = if kind == b'x' {
        tar::Header::new_ustar()
    } else {
        tar::Header::new_gnu()
    };
    h.as_old_mut().name[..13].copy_from_slice(b"././@LongLink");
    h.set_entry_type(tar::EntryType::new(kind));
    h.set_size(size);
    h.set_cksum();
    let (head, tail): (&[u8], &[u8]) = if kind == b'x' {
        (b"3221225472 path=", b"\n")
    } else {
        (b"", b"\0")
    };
    let chunk = 64usize << 20;
    let body = size as usize - head.len() - tail.len();
    let mut first = h.as_bytes().to_vec();
    first.extend_from_slice(head);
    let mut blob = gzip(&first);
    let full = gzip(&vec![b'a'; chunk]);
    for _ in 0..body / chunk {
        blob.extend_from_slice(&full);
    }
    let mut last = vec![b'a'; body % chunk];
    last.extend_from_slice(tail);
    last.resize(last.len().div_ceil(512) * 512 + 1024, 0);
    blob.extend_from_slice(&gzip(&last));
    TestLayer {
        blob,
        tar: Vec::new(), // the diff_id is never reached
        created_by: "huge header",
    }
}

#[test]
fn a_3_gib_pax_header_or_long_name_is_an_error_in_bounded_memory() {
    for (kind, what) in [(b'x', "PAX extended header"), (b'L', "GNU long name")] {
        let d = tempfile::tempdir().expect("tempdir");
        let layer = huge_header_layer(kind);
        assert!(layer.blob.len() < 8 << 20);
        let t = layout(d.path(), &[layer]);
        let (code, err, secs) = run_limited(512, &[&t]);
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains(&format!(
                "layer 0: {what} \"././@LongLink\" of 3221225472 bytes (offset 0) is over the limit of 1048576 bytes"
            )),
            "{err}"
        );
        assert!(secs < 20.0, "{secs} s");
    }
}

#[test]
fn names_resolve_as_the_runtime_resolves_them() {
    let pkgs = [("bash", "5.2")];
    // an absolute name lands under the root; `..` inside the root is the parent
    for name in [&b"/var/lib/dpkg/status"[..], b"var/lib/x/../dpkg/status"] {
        let l = Raw::default()
            .file(b"etc/os-release", OS_RELEASE)
            .file(name, &status(&pkgs))
            .layer();
        let (names, warnings) = inventory(&[l]);
        assert_eq!(names, ["bash"], "{}", String::from_utf8_lossy(name));
        assert!(warnings.is_empty(), "{warnings:?}");
    }
    // names that are not UTF-8 are legal: the image stays readable
    let l = Raw::default()
        .file(b"etc/os-release", OS_RELEASE)
        .file(b"usr/share/doc/caf\xe9/README", b"x")
        .file(b"var/lib/dpkg/status", &status(&pkgs))
        .layer();
    assert_eq!(inventory(&[l]).0, ["bash"]);
    // a file replaced by a directory later in the same layer is gone
    let l = Raw::default()
        .file(b"etc/os-release", OS_RELEASE)
        .file(b"var/lib/dpkg/status", &status(&pkgs))
        .header(b"var/lib/dpkg/status/", b'5', 0, b"")
        .layer();
    assert!(inventory(&[l]).0.is_empty());
    // so is a directory of packages replaced by a file in a later layer
    let lower = Raw::default()
        .file(b"etc/os-release", OS_RELEASE)
        .file(b"var/lib/dpkg/status", &status(&pkgs))
        .layer();
    let upper = Raw::default()
        .file(b"var/lib/dpkg", b"not a directory")
        .layer();
    assert!(inventory(&[lower, upper]).0.is_empty());
}

#[test]
fn a_hardlink_out_of_the_root_is_an_error() {
    let d = tempfile::tempdir().expect("tempdir");
    let l = Raw::default()
        .file(b"etc/os-release", OS_RELEASE)
        .header(b"etc/shadow", b'1', 0, b"../../etc/passwd")
        .layer();
    let t = layout(d.path(), &[l]);
    let (code, _, err) = run(&[&t]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(
            "layer 0: hardlink \"etc/shadow\" to \"../../etc/passwd\" escapes the layer root"
        ),
        "{err}"
    );
}

#[test]
fn layers_that_are_no_gzip_zstd_or_tar_say_so() {
    let garbage: Vec<u8> = (0..4000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    for (magic, named) in [
        (&b"\xfd7zXZ\x00"[..], Some("xz")),
        (b"BZh91AY&SY", Some("bzip2")),
        (b"Q", None),
    ] {
        let d = tempfile::tempdir().expect("tempdir");
        let blob = [magic, &garbage].concat();
        let l = TestLayer {
            tar: blob.clone(),
            blob,
            created_by: "odd",
        };
        let t = layout(d.path(), &[l]);
        let (code, _, err) = run(&[&t]);
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains("layer 0: unsupported or corrupt layer compression"),
            "{err}"
        );
        match named {
            Some(c) => assert!(
                err.contains(&format!(
                    "compression: {c} (moat reads gzip, zstd and uncompressed layers)"
                )),
                "{err}"
            ),
            None => assert!(
                err.contains("neither gzip, zstd nor a tar archive"),
                "{err}"
            ),
        }
    }
}

#[test]
fn a_directory_or_fifo_where_a_blob_should_be_is_named() {
    for kind in ["directory", "FIFO"] {
        let d = tempfile::tempdir().expect("tempdir");
        let t = layout(d.path(), &[good_layer()]);
        let p = blob_path(d.path(), &good_layer().blob);
        std::fs::remove_file(&p).expect("rm");
        if kind == "directory" {
            std::fs::create_dir(&p).expect("mkdir");
        } else {
            let ok = std::process::Command::new("mkfifo")
                .arg(&p)
                .status()
                .expect("mkfifo");
            assert!(ok.success());
        }
        let (code, _, err) = run(&[&t]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(&format!("is a {kind}, not a file")), "{err}");
        assert!(!err.contains("missing"), "{err}");
    }
}

#[test]
fn invalid_manifest_json_names_the_file() {
    let d = tempfile::tempdir().expect("tempdir");
    let t = layout(d.path(), &[good_layer()]);
    std::fs::write(d.path().join("index.json"), b"{\"manifests\": [").expect("write");
    let (code, _, err) = run(&[&t]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("index.json"), "{err}");
}

#[test]
fn no_matching_platform_lists_what_there_is() {
    let d = tempfile::tempdir().expect("tempdir");
    let t = layout(d.path(), &[good_layer()]);
    let (code, _, err) = run(&[&t, "--platform", "linux/s390x"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("linux/amd64"),
        "lists the available platform: {err}"
    );
}

#[test]
fn missing_target_and_usage_errors_exit_2() {
    let (code, _, err) = run(&["/nonexistent/image.tar"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/image.tar"), "{err}");
    let (code, _, _) = run(&["--no-such-flag", "x"]);
    assert_eq!(code, 2);
    let (code, _, err) = run(&["examples", "--platform", "linux"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn broken_package_databases_are_warnings() {
    let d = tempfile::tempdir().expect("tempdir");
    let l = TestLayer::gz(
        &debian_layer(
            &[("bash", "5.2")],
            vec![E::File(
                "var/lib/rpm/Packages",
                b"this is not a berkeley db at all".repeat(100),
            )],
        ),
        "x",
    );
    let t = layout(d.path(), &[l]);
    let (code, out, err) = run(&[&t, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let w = v["diagnostics"].as_array().expect("warnings");
    assert!(
        w.iter()
            .any(|w| w["path"] == "/var/lib/rpm/Packages" && w["layer"] == 0),
        "{w:?}"
    );
    assert!(
        err.contains("warning") && err.contains("/var/lib/rpm/Packages"),
        "{err}"
    );
    assert_eq!(v["packages"].as_array().expect("packages").len(), 1);
}

/// Each cause is said once, in exactly these words (`/x: No such file or directory (os error
/// 2): No such file or directory (os error 2)` was printed before): a missing target, a
/// missing directory to check, a missing configuration file, an SBOM that is a directory
/// and one that is not JSON.
#[test]
fn error_messages_say_each_cause_once() {
    let d = tempfile::tempdir().expect("tempdir");
    let home = d.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let missing = d.path().join("missing");
    let not_json = d.path().join("not.json");
    std::fs::write(&not_json, b"\xff\xfe").unwrap();
    let (m, dir, nj) = (
        missing.display().to_string(),
        d.path().display().to_string(),
        not_json.display().to_string(),
    );
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            vec!["inventory".into(), format!("sbom:{m}")],
            format!("moat: error: {m}: No such file or directory (os error 2)\n"),
        ),
        (
            vec!["config".into(), m.clone()],
            format!("moat: error: {m}: No such file or directory (os error 2)\n"),
        ),
        (
            vec![
                "--config".into(),
                format!("{m}/moat.toml"),
                "inventory".into(),
                format!("dir:{dir}"),
            ],
            format!(
                "moat: error: cannot read the configuration file {m}/moat.toml: No such file or directory (os error 2)\n"
            ),
        ),
        (
            vec!["inventory".into(), format!("sbom:{dir}")],
            format!("moat: error: {dir}: Is a directory (os error 21)\n"),
        ),
        (
            vec!["inventory".into(), format!("sbom:{nj}")],
            format!("moat: error: {nj}: not valid JSON: expected value at line 1 column 1\n"),
        ),
    ];
    for (args, want) in cases {
        let o = isolated(&home).args(&args).output().unwrap();
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o), want, "{args:?}");
    }
}

//! Every tar entry form, seen by moat as GNU tar extracts it: for each layer (made by GNU
//! tar in every format it writes, and crafted by hand for the forms it writes only on some
//! inputs), the files and symlinks of the final view with the sha256 of what the analyzers
//! were given are compared with `tar -x` into a temporary directory.

use super::*;
use crate::analyzer::{Analyzer, AnalyzerInfo};
use crate::fact::Fact;
use crate::merge::Merged;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;
use std::process::Command;

/// Wants every file; its fact carries the sha256 of the bytes it was given.
struct Hasher;

const HASHER: AnalyzerInfo = AnalyzerInfo::packages("hasher", 1);

impl Analyzer for Hasher {
    fn info(&self) -> &AnalyzerInfo {
        &HASHER
    }
    fn wants(&self, _e: &Entry) -> Interest {
        Interest::Yes
    }
    fn analyze(&self, _e: &Entry, data: &[u8]) -> Option<Fact> {
        Some(Fact::Diagnostic(Diagnostic::parse(hex::encode(
            Sha256::digest(data),
        ))))
    }
}

/// path -> `file <sha256>` or `symlink <target>`.
type View = BTreeMap<String, String>;

/// The files and symlinks moat sees in `layer`, and its diagnostics.
fn moat_view(layer: &[u8]) -> (View, Vec<Diagnostic>) {
    let opts = crate::options::ScanOptions::default();
    let pool = Pool::new(
        vec![Arc::new(Hasher)],
        opts.analyzer_timeout,
        opts.max_entry_bytes,
        Arc::default(),
    );
    let facts = walk_tar(layer, 0, "test", None, &pool).unwrap();
    let mut m = Merged::default();
    m.apply(Some(0), &facts);
    let view = m
        .view()
        .map(|(p, c)| {
            let what = match c {
                Change::File(f) => match f.facts().next() {
                    Some(Fact::Diagnostic(d)) => format!("file {}", d.message),
                    _ => "file ?".to_string(),
                },
                Change::Symlink(t) => format!("symlink {t}"),
                _ => "other".to_string(),
            };
            (p.to_string(), what)
        })
        .collect();
    (view, facts.diagnostics)
}

/// The files and symlinks `tar -x` makes of `layer` (names shown as moat shows them,
/// [`name_text`]).
fn gnu_view(layer: &[u8]) -> View {
    let d = tempfile::tempdir().unwrap();
    let (archive, out) = (d.path().join("layer.tar"), d.path().join("out"));
    std::fs::write(&archive, layer).unwrap();
    std::fs::create_dir(&out).unwrap();
    let o = Command::new("tar")
        .arg("-xf")
        .arg(&archive)
        .arg("-C")
        .arg(&out)
        .arg("--no-same-owner")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "tar -x: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut view = View::new();
    for e in walkdir::WalkDir::new(&out).min_depth(1) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(&out).unwrap();
        let rel = name_text(rel.as_os_str().as_bytes()).into_owned();
        let ft = e.file_type();
        if ft.is_symlink() {
            let t = std::fs::read_link(e.path()).unwrap();
            let t = name_text(t.as_os_str().as_bytes()).into_owned();
            view.insert(rel, format!("symlink {t}"));
        } else if ft.is_file() {
            let data = std::fs::read(e.path()).unwrap();
            view.insert(rel, format!("file {}", hex::encode(Sha256::digest(&data))));
        }
    }
    view
}

fn gnu_tar_present() -> bool {
    let ok = Command::new("tar")
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("GNU tar"));
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "GNU tar is needed (CI=true)"
        );
        eprintln!("skipped: GNU tar not found");
    }
    ok
}

/// Asserts that moat and GNU tar see the same files; returns moat's diagnostics.
fn same_view(what: &str, layer: &[u8]) -> Vec<Diagnostic> {
    if let Some(dir) = std::env::var_os("MOAT_DUMP_LAYERS") {
        std::fs::write(Path::new(&dir).join(format!("{what}.tar")), layer).unwrap();
    }
    let (moat, diagnostics) = moat_view(layer);
    assert_eq!(moat, gnu_view(layer), "{what}: moat vs GNU tar");
    diagnostics
}

/// Sparse entries in a layer, by the reader's own account.
fn sparse_entries(layer: &[u8]) -> usize {
    let mut tar = TarReader::new(layer);
    let mut n = 0;
    while let Some(h) = tar.next_entry().unwrap() {
        n += usize::from(h.is_sparse());
    }
    n
}

/// A tree with every kind of file GNU tar stores in a special way.
fn source_tree(root: &Path) {
    use std::io::{Seek, SeekFrom, Write};
    let put = |p: &str, data: &[u8]| {
        let p = root.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    };
    let holes = |p: &str, parts: &[(u64, &[u8])], size: u64| {
        let p = root.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let mut f = std::fs::File::create(p).unwrap();
        for (at, data) in parts {
            f.seek(SeekFrom::Start(*at)).unwrap();
            f.write_all(data).unwrap();
        }
        f.set_len(size).unwrap();
    };
    put("var/lib/dpkg/status", &status_text());
    std::fs::hard_link(
        root.join("var/lib/dpkg/status"),
        root.join("var/lib/dpkg/status-old"),
    )
    .unwrap();
    put("usr/lib/os-release", b"ID=debian\n");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::os::unix::fs::symlink("../usr/lib/os-release", root.join("etc/os-release")).unwrap();
    holes(
        "holes/middle",
        &[(0, b"head"), (1 << 20, b"middle"), (3 << 20, b"tail")],
        (3 << 20) + 4,
    );
    holes("holes/start", &[(2 << 20, b"data")], (2 << 20) + 4);
    holes("holes/end", &[(0, &[b'x'; 5000])], 1 << 20);
    holes("holes/none", &[], 64 << 10);
    let long = format!(
        "long/{}/{}",
        "directory-name-".repeat(10),
        "file-with-a-long-name-".repeat(8)
    );
    put(&long, b"long");
    std::os::unix::fs::symlink("../".to_string() + &"t".repeat(150), root.join("long/link"))
        .unwrap();
    let odd = root.join(std::ffi::OsStr::from_bytes(b"caf\xe9"));
    std::fs::write(odd, b"not utf-8").unwrap();
    put("sizes/0", b"");
    put("sizes/512", &[b'a'; 512]);
    put("sizes/513", &[b'b'; 513]);
}

fn status_text() -> Vec<u8> {
    let mut s = String::new();
    for (n, v) in [
        ("base-files", "12.4"),
        ("libc6", "2.36-9"),
        ("bash", "5.2.15-2"),
    ] {
        s.push_str(&format!(
            "Package: {n}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {v}\nDescription: test\n\n"
        ));
    }
    s.into_bytes()
}

#[test]
fn layers_written_by_gnu_tar_in_every_format() {
    if !gnu_tar_present() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    source_tree(d.path());
    let formats: [(&str, &[&str]); 6] = [
        ("gnu", &["--format=gnu", "--sparse"]),
        ("oldgnu", &["--format=oldgnu", "--sparse"]),
        (
            "pax 0.0",
            &["--format=pax", "--sparse", "--sparse-version=0.0"],
        ),
        (
            "pax 0.1",
            &["--format=pax", "--sparse", "--sparse-version=0.1"],
        ),
        (
            "pax 1.0",
            &["--format=pax", "--sparse", "--sparse-version=1.0"],
        ),
        ("pax", &["--format=pax"]),
    ];
    for (name, args) in formats {
        let o = Command::new("tar")
            .args(args)
            .arg("-cf")
            .arg("-")
            .arg("-C")
            .arg(d.path())
            .arg(".")
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let layer = o.stdout;
        if name != "pax" {
            assert!(
                sparse_entries(&layer) >= 3,
                "{name}: GNU tar wrote sparse entries"
            );
        }
        let diagnostics = same_view(name, &layer);
        assert!(diagnostics.is_empty(), "{name}: {diagnostics:?}");
    }
}

// ---- layers crafted block by block ----

/// A header block with a valid checksum.
fn header(name: &[u8], typeflag: u8, size: u64, gnu: bool) -> [u8; 512] {
    let mut b = [0u8; 512];
    b[..name.len()].copy_from_slice(name);
    b[100..107].copy_from_slice(b"0000644");
    b[108..115].copy_from_slice(b"0000000");
    b[116..123].copy_from_slice(b"0000000");
    b[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
    b[136..147].copy_from_slice(b"14000000000");
    b[156] = typeflag;
    if gnu {
        b[257..265].copy_from_slice(b"ustar  \0");
    } else {
        b[257..263].copy_from_slice(b"ustar\0");
        b[263..265].copy_from_slice(b"00");
    }
    checksum(&mut b);
    b
}

fn checksum(b: &mut [u8; 512]) {
    b[148..156].copy_from_slice(b"        ");
    let s: u32 = b.iter().map(|&c| u32::from(c)).sum();
    b[148..155].copy_from_slice(format!("{s:06o}\0").as_bytes());
}

fn octal12(v: u64) -> [u8; 12] {
    let mut f = [0u8; 12];
    f[..11].copy_from_slice(format!("{v:011o}").as_bytes());
    f
}

/// A layer written block by block.
#[derive(Default)]
struct Layer(Vec<u8>);

impl Layer {
    fn block(&mut self, b: &[u8; 512]) -> &mut Self {
        self.0.extend_from_slice(b);
        self
    }
    fn data(&mut self, d: &[u8]) -> &mut Self {
        self.0.extend_from_slice(d);
        let pad = (512 - d.len() % 512) % 512;
        self.0.resize(self.0.len() + pad, 0);
        self
    }
    fn file(&mut self, name: &str, d: &[u8]) -> &mut Self {
        self.block(&header(name.as_bytes(), b'0', d.len() as u64, false))
            .data(d)
    }
    fn typed(&mut self, name: &str, typeflag: u8, link: &str) -> &mut Self {
        let mut h = header(name.as_bytes(), typeflag, 0, false);
        h[157..157 + link.len()].copy_from_slice(link.as_bytes());
        checksum(&mut h);
        self.block(&h)
    }
    fn pax(&mut self, records: &[(&str, &[u8])]) -> &mut Self {
        let mut body = Vec::new();
        for (k, v) in records {
            let rest = [b" ", k.as_bytes(), b"=", v, b"\n"].concat();
            let mut n = rest.len() + 1;
            while n.to_string().len() + rest.len() != n {
                n += 1;
            }
            body.extend_from_slice(n.to_string().as_bytes());
            body.extend_from_slice(&rest);
        }
        self.block(&header(b"PaxHeaders/e", b'x', body.len() as u64, false))
            .data(&body)
    }
    /// The data of sparse segments, one after the other.
    fn packed(segments: &[(u64, &[u8])]) -> Vec<u8> {
        segments.iter().flat_map(|(_, d)| d.to_vec()).collect()
    }
    fn old_gnu_sparse(&mut self, name: &str, size: u64, segments: &[(u64, &[u8])]) -> &mut Self {
        let packed = Self::packed(segments);
        let mut h = header(name.as_bytes(), b'S', packed.len() as u64, true);
        h[483..495].copy_from_slice(&octal12(size));
        let mut pairs = segments.iter().map(|(o, d)| (*o, d.len() as u64));
        for slot in 0..4 {
            if let Some((o, l)) = pairs.next() {
                h[386 + slot * 24..398 + slot * 24].copy_from_slice(&octal12(o));
                h[398 + slot * 24..410 + slot * 24].copy_from_slice(&octal12(l));
            }
        }
        let rest: Vec<(u64, u64)> = pairs.collect();
        h[482] = u8::from(!rest.is_empty());
        checksum(&mut h);
        self.block(&h);
        let chunks: Vec<&[(u64, u64)]> = rest.chunks(21).collect();
        for (i, chunk) in chunks.iter().enumerate() {
            let mut ext = [0u8; 512];
            for (slot, (o, l)) in chunk.iter().enumerate() {
                ext[slot * 24..slot * 24 + 12].copy_from_slice(&octal12(*o));
                ext[slot * 24 + 12..slot * 24 + 24].copy_from_slice(&octal12(*l));
            }
            ext[504] = u8::from(i + 1 < chunks.len());
            self.block(&ext);
        }
        self.data(&packed)
    }
    fn pax_sparse(
        &mut self,
        version: &str,
        name: &str,
        size: u64,
        segments: &[(u64, &[u8])],
    ) -> &mut Self {
        let packed = Self::packed(segments);
        let numbers: Vec<String> = segments
            .iter()
            .flat_map(|(o, d)| [o.to_string(), d.len().to_string()])
            .collect();
        let (size_s, count) = (size.to_string(), segments.len().to_string());
        match version {
            "0.0" => {
                let mut recs: Vec<(&str, &[u8])> = vec![
                    ("GNU.sparse.size", size_s.as_bytes()),
                    ("GNU.sparse.numblocks", count.as_bytes()),
                ];
                for pair in numbers.chunks(2) {
                    recs.push(("GNU.sparse.offset", pair[0].as_bytes()));
                    recs.push(("GNU.sparse.numbytes", pair[1].as_bytes()));
                }
                self.pax(&recs);
                self.block(&header(name.as_bytes(), b'0', packed.len() as u64, false))
                    .data(&packed)
            }
            "0.1" => {
                let map = numbers.join(",");
                self.pax(&[
                    ("GNU.sparse.size", size_s.as_bytes()),
                    ("GNU.sparse.numblocks", count.as_bytes()),
                    ("GNU.sparse.name", name.as_bytes()),
                    ("GNU.sparse.map", map.as_bytes()),
                ]);
                self.block(&header(
                    b"GNUSparseFile.7/f",
                    b'0',
                    packed.len() as u64,
                    false,
                ))
                .data(&packed)
            }
            _ => {
                self.pax(&[
                    ("GNU.sparse.major", b"1"),
                    ("GNU.sparse.minor", b"0"),
                    ("GNU.sparse.name", name.as_bytes()),
                    ("GNU.sparse.realsize", size_s.as_bytes()),
                ]);
                let mut d = format!("{count}\n{}\n", numbers.join("\n")).into_bytes();
                d.resize(d.len().div_ceil(512) * 512, 0);
                d.extend_from_slice(&packed);
                self.block(&header(b"GNUSparseFile.7/f", b'0', d.len() as u64, false))
                    .data(&d)
            }
        }
    }
    fn end(&mut self) -> Vec<u8> {
        self.0.extend_from_slice(&[0u8; 1024]);
        std::mem::take(&mut self.0)
    }
}

const SPARSE_FORMS: [&str; 4] = ["old GNU", "0.0", "0.1", "1.0"];

fn sparse(l: &mut Layer, form: &str, name: &str, size: u64, segments: &[(u64, &[u8])]) {
    if form == "old GNU" {
        l.old_gnu_sparse(name, size, segments);
    } else {
        l.pax_sparse(form, name, size, segments);
    }
}

#[test]
fn sparse_entries_crafted_in_every_form() {
    if !gnu_tar_present() {
        return;
    }
    // GNU tar reads segments block by block (it writes them so): segments start and end on
    // block boundaries but for the last, which ends at the file's end (GNU tar writes an
    // empty one there when the file ends in a hole, and without it makes the file end with
    // the last data). moat reads the other maps as Go's reader, the runtimes' one, does:
    // unaligned segments, and the file always of its real size (see the tarstream tests).
    let text = status_text();
    let many: Vec<(u64, Vec<u8>)> = (0..30u64)
        .map(|i| (i * 4096, format!("segment {i:<503}\n").into_bytes()))
        .collect();
    let mut many: Vec<(u64, &[u8])> = many.iter().map(|(o, d)| (*o, d.as_slice())).collect();
    many.push((200_000, b""));
    let block = [b'x'; 512];
    for form in SPARSE_FORMS {
        let mut l = Layer::default();
        // a dpkg database as one segment, no holes: what an attacker would hide
        sparse(
            &mut l,
            form,
            "var/lib/dpkg/status",
            text.len() as u64,
            &[(0, &text)],
        );
        // holes between, before and after data; 30 segments (two extension blocks)
        sparse(
            &mut l,
            form,
            "holes/a",
            10_000,
            &[(1024, &block), (9997, b"xyz")],
        );
        sparse(
            &mut l,
            form,
            "holes/b",
            10_000,
            &[(0, &block), (4096, &block), (10_000, b"")],
        );
        sparse(&mut l, form, "holes/many", 200_000, &many);
        // all hole: GNU tar writes one empty segment at the end
        sparse(&mut l, form, "holes/empty", 4096, &[(4096, b"")]);
        l.file("after", b"the entry after is framed right");
        let layer = l.end();
        assert_eq!(sparse_entries(&layer), 5, "{form}");
        let diagnostics = same_view(form, &layer);
        assert!(diagnostics.is_empty(), "{form}: {diagnostics:?}");
    }
}

#[test]
fn long_names_links_and_pax_overrides_crafted() {
    if !gnu_tar_present() {
        return;
    }
    let long = "n/".repeat(150) + "file";
    let target = "t/".repeat(120) + "target";
    let mut l = Layer::default();
    l.block(&header(b"././@LongLink", b'L', long.len() as u64 + 1, true))
        .data(format!("{long}\0").as_bytes())
        .block(&header(b"short-name", b'0', 4, true))
        .data(b"long")
        .block(&header(
            b"././@LongLink",
            b'K',
            target.len() as u64 + 1,
            true,
        ))
        .data(format!("{target}\0").as_bytes())
        .typed("link-long", b'2', "short")
        .pax(&[("path", b"pax/path/name"), ("size", b"5")])
        .block(&header(b"ustar-name", b'0', 0, false))
        .data(b"sized")
        .pax(&[("linkpath", b"pax-target")])
        .typed("pax-link", b'2', "ustar-target")
        .file("hard/src", b"shared bytes")
        .pax(&[("path", b"hard/dst"), ("linkpath", b"hard/src")])
        .typed("ignored", b'1', "ignored");
    // a ustar prefix
    let mut h = header(b"status", b'0', 3, false);
    h[345..357].copy_from_slice(b"var/lib/dpkg");
    checksum(&mut h);
    l.block(&h).data(b"abc");
    // a legacy `\0` type with a trailing slash is a directory
    l.block(&header(b"legacy/", 0, 0, false));
    l.file("legacy/inside", b"in");
    let layer = l.end();
    let (view, _) = moat_view(&layer);
    assert_eq!(
        view[&long],
        format!("file {}", hex::encode(Sha256::digest(b"long")))
    );
    assert_eq!(view["link-long"], format!("symlink {target}"));
    assert_eq!(view["pax-link"], "symlink pax-target");
    assert_eq!(view["hard/dst"], view["hard/src"]);
    same_view("long names and PAX overrides", &layer);
}

#[test]
fn replacements_inside_one_layer() {
    if !gnu_tar_present() {
        return;
    }
    let text = status_text();
    let mut l = Layer::default();
    // a file replaced by a directory
    l.file("var/lib/dpkg/status", &text)
        .typed("var/lib/dpkg/status", b'5', "")
        .file("var/lib/dpkg/status/inside", b"x");
    // a symlink replaced by a file, a file by a symlink
    l.typed("a", b'2', "b").file("a", b"now a file");
    l.file("c", b"was a file").typed("c", b'2', "d");
    // the same file twice: the last wins
    l.file("e", b"first").file("e", b"second");
    let layer = l.end();
    let (view, _) = moat_view(&layer);
    assert!(!view.contains_key("var/lib/dpkg/status"), "{view:?}");
    same_view("replacements", &layer);
}

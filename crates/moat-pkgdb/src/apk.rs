//! # apk database (`lib/apk/db/installed`)
//!
//! Alpine's, Wolfi's and Chainguard's installed-package database: stanzas
//! separated by blank lines, each line `K:value` with a one-character key.
//! Keys read here:
//!
//! | key | field |
//! |---|---|
//! | `P` | name |
//! | `V` | version |
//! | `A` | arch |
//! | `o` | origin (source package) |
//! | `L` | license (as written, e.g. `GPL-2.0-only AND MIT`) |
//! | `m` | maintainer |
//! | `D` | depends |
//! | `p` | provides |
//! | `F` | a directory; following `R` lines are files in it |
//! | `R` | a file in the last `F` directory (at `/` when no `F` came before) |
//! | `C` | checksum of the package control data (`Q1…`) |
//!
//! Other keys (`U`, `S`, `I`, `T`, `t`, `c`, `a`, `M`, `Z`, `r`, `i`, `k`, `q`, ...) are
//! ignored (the url is unique per package and nothing reads it: a database of a million
//! packages would keep a million of them). CRLF line ends, a missing final newline and several blank lines are
//! tolerated; invalid UTF-8 is replaced (lossy).
//!
//! **Depends** (`D:`): whitespace-separated entries; conflicts (`!name`) are
//! dropped, version constraints (`name>=1.2`, `name=1.2`, `name~1.2`, `name<2`)
//! and a `@tag` pin are stripped. Virtual entries `so:libc.musl-x86_64.so.1`,
//! `cmd:sh`, `pc:zlib` are kept as written (minus a version constraint): the
//! scan engine resolves them against other packages' `provides`.
//! **Provides** (`p:`): the same, so `so:libc.musl-x86_64.so.1=1` becomes
//! `so:libc.musl-x86_64.so.1`.
//! **Files**: absolute paths of the `R:` entries only (directories from `F:` are
//! not listed themselves), in order.
//!
//! A stanza without `P:` or `V:`, or made only of malformed lines, becomes a
//! `parse-error` diagnostic (`stanza N: ...`, N from 1) at the line the stanza starts,
//! and the rest of the file is still read. Diagnostics are capped at
//! [`crate::MAX_WARNINGS`] (+ one `too-large` "more" diagnostic).

use crate::{Parsed, Warnings, dedup_in_order, records_room};
use moat_model::{Interner, Str};

/// One package from `lib/apk/db/installed`. Its strings other than file paths are shared
/// ([`Str`]): one parse interns them, so the architecture, licence, maintainer and origin
/// repeated across packages are stored once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApkPackage {
    pub name: Str,
    pub version: Str,
    pub arch: Option<Str>,
    pub origin: Option<Str>,
    pub license: Option<Str>,
    pub maintainer: Option<Str>,
    /// See the module docs: package names and `so:`/`cmd:`/`pc:` entries.
    pub depends: Vec<Str>,
    pub provides: Vec<Str>,
    /// Absolute paths from `F:`/`R:` lines.
    pub files: Vec<String>,
    pub checksum: Option<Str>,
}

#[derive(Default)]
struct Builder {
    name: Option<Str>,
    version: Option<Str>,
    arch: Option<Str>,
    origin: Option<Str>,
    license: Option<Str>,
    maintainer: Option<Str>,
    depends: Vec<Str>,
    provides: Vec<Str>,
    files: Vec<String>,
    checksum: Option<Str>,
    dir: String,
    lines: usize,
    bad_lines: usize,
    /// The 1-based line of the stanza's first line.
    start: usize,
}

/// Reads `lib/apk/db/installed`. Never fails: unreadable stanzas become diagnostics.
pub fn parse_installed(bytes: &[u8]) -> Parsed<ApkPackage> {
    let text = String::from_utf8_lossy(bytes);
    let mut db = Db::with_capacity(records_room(&text, "P:"));
    for line in text.split('\n') {
        db.line(line);
    }
    db.finish()
}

/// [`parse_installed`] reading from `r` line by line: the same result from the same bytes
/// (invalid UTF-8 replaced per line, which is the same as in the whole text: a newline is
/// never part of a UTF-8 sequence), without holding the file. Fails only when reading fails.
pub fn read_installed(mut r: impl std::io::BufRead) -> std::io::Result<Parsed<ApkPackage>> {
    let mut db = Db::with_capacity(0);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
        db.line(&String::from_utf8_lossy(line));
    }
    Ok(db.finish())
}

/// The packages and diagnostics of the lines read so far.
struct Db {
    packages: Vec<ApkPackage>,
    warnings: Warnings,
    stanza_no: usize,
    /// Lines so far.
    lineno: usize,
    cur: Builder,
    strings: Interner,
}

impl Db {
    fn with_capacity(n: usize) -> Db {
        Db {
            packages: Vec::with_capacity(n),
            warnings: Warnings::default(),
            stanza_no: 0,
            lineno: 0,
            cur: Builder::default(),
            strings: Interner::new(),
        }
    }

    /// The stanza read so far, as a package or a diagnostic.
    fn end_stanza(&mut self) {
        let b = std::mem::take(&mut self.cur);
        if b.lines == 0 && b.bad_lines == 0 {
            return;
        }
        self.stanza_no += 1;
        let n = self.stanza_no;
        let problem = match (&b.name, &b.version) {
            _ if b.lines == 0 => Some(format!(
                "stanza {n}: no fields ({} malformed line(s))",
                b.bad_lines
            )),
            (None, _) => Some(format!("stanza {n}: no P: (name) field")),
            (Some(name), None) => Some(format!("stanza {n} ({name}): no V: (version) field")),
            _ => None,
        };
        if let Some(msg) = problem {
            self.warnings.at_line(b.start, msg);
            return;
        }
        // Kept for the whole scan: vectors grown by pushing hold room for 4 (a million
        // packages' spare room was about 160 MB).
        let (mut depends, mut provides, mut files) = (b.depends, b.provides, b.files);
        dedup_in_order(&mut depends);
        dedup_in_order(&mut provides);
        depends.shrink_to_fit();
        provides.shrink_to_fit();
        files.shrink_to_fit();
        self.packages.push(ApkPackage {
            name: b.name.unwrap_or_default(),
            version: b.version.unwrap_or_default(),
            arch: b.arch,
            origin: b.origin,
            license: b.license,
            maintainer: b.maintainer,
            depends,
            provides,
            files,
            checksum: b.checksum,
        });
    }

    /// The next line, without its `\n`.
    fn line(&mut self, line: &str) {
        self.lineno += 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            self.end_stanza();
            return;
        }
        let (cur, strings) = (&mut self.cur, &mut self.strings);
        if cur.lines == 0 && cur.bad_lines == 0 {
            cur.start = self.lineno;
        }
        let mut chars = line.chars();
        let (Some(key), Some(':')) = (chars.next(), chars.next()) else {
            cur.bad_lines += 1;
            return;
        };
        let value = chars.as_str().trim();
        cur.lines += 1;
        let mut opt = || (!value.is_empty()).then(|| strings.get(value));
        // values of their own (no other package repeats them): not interned
        let unique = || (!value.is_empty()).then(|| Str::from(value));
        match key {
            'P' => cur.name = opt(),
            'V' => cur.version = opt(),
            'A' => cur.arch = opt(),
            'o' => cur.origin = opt(),
            'L' => cur.license = opt(),
            'm' => cur.maintainer = opt(),
            'C' => cur.checksum = unique(),
            'D' => dependency_names(value, &mut cur.depends, strings),
            'p' => dependency_names(value, &mut cur.provides, strings),
            'F' => {
                cur.dir.clear();
                cur.dir.push_str(value.trim_matches('/'));
            }
            'R' if !value.is_empty() => {
                let file = value.trim_start_matches('/');
                // exact size: kept for the whole scan
                let mut path = String::with_capacity(cur.dir.len() + file.len() + 2);
                path.push('/');
                if !cur.dir.is_empty() {
                    path.push_str(&cur.dir);
                    path.push('/');
                }
                path.push_str(file);
                cur.files.push(path);
            }
            _ => {}
        }
    }

    fn finish(mut self) -> Parsed<ApkPackage> {
        self.end_stanza();
        // Kept for the whole scan: no spare capacity.
        self.packages.shrink_to_fit();
        Parsed {
            packages: self.packages,
            warnings: self.warnings.finish(),
        }
    }
}

/// Appends the names of a `D:`/`p:` value to `out` (see the module docs).
fn dependency_names(value: &str, out: &mut Vec<Str>, strings: &mut Interner) {
    for entry in value.split_whitespace() {
        if entry.starts_with('!') {
            continue;
        }
        let end = entry.find(['=', '<', '>', '~', '@']).unwrap_or(entry.len());
        let name = &entry[..end];
        if !name.is_empty() {
            out.push(strings.get(name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic() {
        let db = b"C:Q1abc=\r\nP:musl\r\nV:1.2-r0\r\nD:so:libc.so=1 foo>=2 !bar baz\r\np:so:libc.musl-x86_64.so.1=1 cmd:sh\r\nR:top\r\nF:lib\r\nR:libc.so\r\nF:usr/lib/\r\nR:x\r\n\r\n\r\nP:noversion\n\nP:last\nV:1";
        let p = parse_installed(db);
        assert_eq!(p.packages.len(), 2);
        assert_eq!(
            p.warnings.iter().map(|w| &w.message).collect::<Vec<_>>(),
            vec!["stanza 2 (noversion): no V: (version) field"]
        );
        assert_eq!(p.warnings[0].line, Some(13));
        assert_eq!(p.warnings[0].code, crate::Code::ParseError);
        let m = &p.packages[0];
        assert_eq!(m.checksum.as_deref(), Some("Q1abc="));
        assert_eq!(m.depends, vec!["so:libc.so", "foo", "baz"]);
        assert_eq!(m.provides, vec!["so:libc.musl-x86_64.so.1", "cmd:sh"]);
        assert_eq!(m.files, vec!["/top", "/lib/libc.so", "/usr/lib/x"]);
        assert_eq!(p.packages[1].name, "last");
    }

    #[test]
    fn reading_a_stream_gives_what_parsing_the_bytes_gives() {
        let inputs: [&[u8]; 5] = [
            b"C:Q1abc=\r\nP:musl\r\nV:1.2-r0\r\nD:so:libc.so=1 foo>=2 !bar baz foo\r\np:so:libc.musl-x86_64.so.1=1 cmd:sh\r\nR:top\r\nF:lib\r\nR:libc.so\r\nF:usr/lib/\r\nR:x\r\nU:https://x\r\n\r\n\r\nP:noversion\n\nP:last\nV:1",
            b"P:caf\xc3\xa9\xff\nV:1\xfe\nL:MIT\no:src\nm:M <m@x>\nA:x86_64\n\nasdf\n\n",
            b"",
            b"\n\n\n",
            b"R:\nF:\nR:/\nP:p\nV:2\n",
        ];
        for input in inputs {
            for cap in [1, 3, 4096] {
                let r = std::io::BufReader::with_capacity(cap, input);
                let read = read_installed(r).unwrap();
                assert_eq!(
                    read,
                    parse_installed(input),
                    "{}",
                    String::from_utf8_lossy(input)
                );
            }
        }
    }

    #[test]
    fn garbage() {
        let p = parse_installed(b"asdf\n\nyolo\n");
        assert!(p.packages.is_empty());
        assert_eq!(p.warnings.len(), 2);
        for input in [&b"\xff:\n:"[..], b"P", b"P:\nV:", b"\n\n", b"R:\nF:\nR:/"] {
            let _ = parse_installed(input);
        }
    }
}

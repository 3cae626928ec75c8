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
//! The lists of all packages (depends, provides, files) are kept flat in the database
//! ([`Installed`]: one vector of names, one string of paths), not in vectors of their own:
//! a million packages' small vectors were about 140 MB, and since the scan engine reads the
//! database on an analysis thread and builds its packages on another, memory they gave back
//! could not be reused for the packages. Read them with [`Installed::depends`],
//! [`Installed::provides`] and [`Installed::files`].
//!
//! A stanza without `P:` or `V:`, or made only of malformed lines, becomes a
//! `parse-error` diagnostic (`stanza N: ...`, N from 1) at the line the stanza starts,
//! and the rest of the file is still read. Diagnostics are capped at
//! [`crate::MAX_WARNINGS`] (+ one `too-large` "more" diagnostic).

use crate::{Diagnostic, Warnings, dedup_in_order, records_room};
use moat_model::{Interner, Str};

/// One package from `lib/apk/db/installed`. Its strings are shared ([`Str`]): one parse
/// interns them, so the architecture, licence, maintainer and origin repeated across
/// packages are stored once. Its lists are in the database it was read from
/// ([`Installed::depends`], [`Installed::provides`], [`Installed::files`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApkPackage {
    pub name: Str,
    pub version: Str,
    pub arch: Option<Str>,
    pub origin: Option<Str>,
    pub license: Option<Str>,
    pub maintainer: Option<Str>,
    pub checksum: Option<Str>,
    /// Its depends are `names[names..provides]`, its provides `names[provides..end]`.
    names: usize,
    provides: usize,
    end: usize,
    /// Its files are `paths[files.0..files.1]`, each ended by a newline.
    files: (usize, usize),
}

/// A read `lib/apk/db/installed`: the packages it could read, with their lists, and what it
/// could not read (as [`crate::Parsed`] for the other databases).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Installed {
    pub packages: Vec<ApkPackage>,
    /// One diagnostic per stanza that was skipped (see the module docs).
    pub warnings: Vec<Diagnostic>,
    /// The depends and provides of every package, flat.
    names: Vec<Str>,
    /// The files of every package, each ended by a newline (a line of the database holds
    /// no newline).
    paths: String,
}

impl Installed {
    /// See the module docs: package names and `so:`/`cmd:`/`pc:` entries (none for a
    /// package of another database).
    pub fn depends(&self, p: &ApkPackage) -> &[Str] {
        self.names.get(p.names..p.provides).unwrap_or_default()
    }

    /// What `p` provides, as [`Installed::depends`] reads its depends.
    pub fn provides(&self, p: &ApkPackage) -> &[Str] {
        self.names.get(p.provides..p.end).unwrap_or_default()
    }

    /// The absolute paths of `p`'s `F:`/`R:` lines, in order.
    pub fn files<'a>(&'a self, p: &ApkPackage) -> impl Iterator<Item = &'a str> + 'a {
        let text = self.paths.get(p.files.0..p.files.1).unwrap_or_default();
        text.split_terminator('\n')
    }

    /// The diagnostics (no path or layer: the caller knows where the bytes came from).
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        self.warnings.clone()
    }

    /// Takes the packages and their lists out (without diagnostics), leaving the diagnostics.
    pub fn take_packages(&mut self) -> Installed {
        Installed {
            packages: std::mem::take(&mut self.packages),
            warnings: Vec::new(),
            names: std::mem::take(&mut self.names),
            paths: std::mem::take(&mut self.paths),
        }
    }

    /// Drops the packages and their lists, keeping the diagnostics.
    pub fn release(&mut self) {
        drop(self.take_packages());
    }
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
    /// Where the stanza's files begin in the database's paths.
    files: usize,
    checksum: Option<Str>,
    dir: String,
    lines: usize,
    bad_lines: usize,
    /// The 1-based line of the stanza's first line.
    start: usize,
}

/// Reads `lib/apk/db/installed`. Never fails: unreadable stanzas become diagnostics.
pub fn parse_installed(bytes: &[u8]) -> Installed {
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
pub fn read_installed(mut r: impl std::io::BufRead) -> std::io::Result<Installed> {
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
    names: Vec<Str>,
    paths: String,
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
            names: Vec::new(),
            paths: String::new(),
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
        // the lists' vectors serve the next stanza too
        let (mut depends, mut provides) = (b.depends, b.provides);
        let reuse = |cur: &mut Builder, mut d: Vec<Str>, mut p: Vec<Str>| {
            d.clear();
            p.clear();
            (cur.depends, cur.provides) = (d, p);
        };
        if b.lines == 0 && b.bad_lines == 0 {
            reuse(&mut self.cur, depends, provides);
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
            // its files are no package's
            self.paths.truncate(b.files);
            reuse(&mut self.cur, depends, provides);
            return;
        }
        dedup_in_order(&mut depends);
        dedup_in_order(&mut provides);
        let names = self.names.len();
        self.names.append(&mut depends);
        let provides_at = self.names.len();
        self.names.append(&mut provides);
        self.packages.push(ApkPackage {
            name: b.name.unwrap_or_default(),
            version: b.version.unwrap_or_default(),
            arch: b.arch,
            origin: b.origin,
            license: b.license,
            maintainer: b.maintainer,
            checksum: b.checksum,
            names,
            provides: provides_at,
            end: self.names.len(),
            files: (b.files, self.paths.len()),
        });
        reuse(&mut self.cur, depends, provides);
    }

    /// The next line, without its `\n`.
    fn line(&mut self, line: &str) {
        self.lineno += 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            self.end_stanza();
            return;
        }
        let (cur, strings, paths) = (&mut self.cur, &mut self.strings, &mut self.paths);
        if cur.lines == 0 && cur.bad_lines == 0 {
            cur.start = self.lineno;
            cur.files = paths.len();
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
                paths.push('/');
                if !cur.dir.is_empty() {
                    paths.push_str(&cur.dir);
                    paths.push('/');
                }
                paths.push_str(file);
                paths.push('\n');
            }
            _ => {}
        }
    }

    fn finish(mut self) -> Installed {
        self.end_stanza();
        // Kept for the whole scan: no spare capacity.
        self.packages.shrink_to_fit();
        self.names.shrink_to_fit();
        self.paths.shrink_to_fit();
        Installed {
            packages: self.packages,
            warnings: self.warnings.finish(),
            names: self.names,
            paths: self.paths,
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
        assert_eq!(p.depends(m), ["so:libc.so", "foo", "baz"]);
        assert_eq!(p.provides(m), ["so:libc.musl-x86_64.so.1", "cmd:sh"]);
        let files: Vec<&str> = p.files(m).collect();
        assert_eq!(files, ["/top", "/lib/libc.so", "/usr/lib/x"]);
        let last = &p.packages[1];
        assert_eq!(last.name, "last");
        assert!(p.depends(last).is_empty() && p.provides(last).is_empty());
        assert_eq!(p.files(last).count(), 0);
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
    fn files_of_a_skipped_stanza_are_nobodys() {
        let db = b"P:a\nV:1\nR:a1\nD:x y\n\nP:broken\nF:x\nR:b1\nR:b2\nD:z\n\nP:c\nV:2\nF:/y/\nR:/c1\np:q\n";
        let p = parse_installed(db);
        assert_eq!(p.packages.len(), 2);
        let (a, c) = (&p.packages[0], &p.packages[1]);
        assert_eq!(p.files(a).collect::<Vec<_>>(), ["/a1"]);
        assert_eq!(p.files(c).collect::<Vec<_>>(), ["/y/c1"]);
        assert_eq!(p.paths, "/a1\n/y/c1\n");
        assert_eq!(p.depends(a), ["x", "y"]);
        assert!(p.provides(a).is_empty() && p.depends(c).is_empty());
        assert_eq!(p.provides(c), ["q"]);
        assert_eq!(p.names, ["x", "y", "q"]);
        let mut taken = p.clone();
        assert_eq!(taken.take_packages().packages, p.packages);
        assert!(taken.packages.is_empty() && taken.paths.is_empty());
        assert_eq!(taken.warnings, p.warnings);
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

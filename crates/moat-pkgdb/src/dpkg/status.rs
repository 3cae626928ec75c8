//! `var/lib/dpkg/status`, `status.d/*` and opkg status files: [`parse_status`].
//!
//! ## Format
//! Stanzas of `Field: value` lines separated by blank (or whitespace-only) lines;
//! lines starting with a space or tab continue the previous field. CRLF line ends,
//! a missing final newline, leading/trailing blank lines and `#` comment lines are
//! tolerated; field names are case-insensitive. Invalid UTF-8 is replaced (lossy).
//!
//! A stanza is an installed package when its `Status` is `<want> <flag> installed`
//! with want `install` or `hold` and a flag that is not `reinstreq` (dpkg's `ok`;
//! opkg also writes `user`, so `install user installed` counts), or when it has
//! no `Status` at all (distroless `status.d` files never have one). Other stanzas
//! (`deinstall ok config-files`, `install ok half-installed`, `purge ok installed`,
//! ...) are skipped silently. An installed stanza without `Package` or `Version`,
//! with a version dpkg itself would reject (characters outside `[A-Za-z0-9.+~:-]`,
//! a non-numeric epoch, an empty upstream part), or made only of malformed lines,
//! becomes a `parse-error` diagnostic (`stanza N: ...`, N counting from 1) at the line
//! where the stanza starts; the rest of the file is still read. Diagnostics are capped at
//! [`MAX_WARNINGS`](crate::MAX_WARNINGS) (+ one `too-large` "more" diagnostic).
//!
//! ## Dependencies
//! [`DpkgPackage::depends`] holds the package names of `Pre-Depends` and `Depends`
//! (in that order): every alternative of `a | b`, with version constraints
//! (`(>= 1.0)`), architecture qualifiers (`:any`, `:amd64`) and restriction lists
//! (`[amd64]`, `<!nocheck>`) stripped, deduplicated, in order of appearance.
//! [`DpkgPackage::provides`] is the same for `Provides`.
//!

use super::deb822::{Stanza, each_stanza, read_stanzas};
use crate::{Parsed, Warnings, dedup_in_order};
use moat_model::{Interner, Str};

/// One installed package from a dpkg/opkg status file. Its strings are shared ([`Str`]):
/// one parse interns every value, so the architecture, status, maintainer and source of a
/// thousand packages are stored once, and a dependency's name is the same allocation as
/// the name of the package it names.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DpkgPackage {
    pub name: Str,
    pub version: Str,
    /// `Architecture` (`amd64`, `all`, opkg `x86_64`, ...).
    pub arch: Option<Str>,
    /// Name from `Source:`; None when the field is absent.
    pub source_name: Option<Str>,
    /// Version in `Source: name (version)`, else the package version when a
    /// `Source:` field is present; None when the field is absent.
    pub source_version: Option<Str>,
    /// The `Status` field as written; None in distroless `status.d` stanzas.
    pub status: Option<Str>,
    /// Package names from `Pre-Depends` + `Depends` (see the module docs).
    pub depends: Vec<Str>,
    /// Package names from `Provides`, version constraints stripped.
    pub provides: Vec<Str>,
    pub maintainer: Option<Str>,
    /// `Installed-Size` in KiB (a `KB`/`MB` unit suffix is understood); None when
    /// absent or unreadable.
    pub installed_size: Option<u64>,
    pub homepage: Option<Str>,
}

/// Reads a dpkg `status` file, one `status.d/*` file, or an opkg status file.
/// Returns the installed packages in file order; never fails (see module docs).
pub fn parse_status(bytes: &[u8]) -> Parsed<DpkgPackage> {
    let text = String::from_utf8_lossy(bytes);
    let mut db = Db::with_capacity(crate::records_room(&text, "Package:"));
    each_stanza(&text, |stanza| db.stanza(stanza));
    db.finish()
}

/// [`parse_status`] reading from `r` line by line: the same result from the same bytes,
/// without holding the file (a database of a million packages is 366 MB of text). Fails
/// only when reading fails.
pub fn read_status(r: impl std::io::BufRead) -> std::io::Result<Parsed<DpkgPackage>> {
    let mut db = Db::with_capacity(0);
    read_stanzas(r, |stanza| db.stanza(stanza))?;
    Ok(db.finish())
}

/// The packages and diagnostics of the stanzas read so far.
struct Db {
    packages: Vec<DpkgPackage>,
    warn: Warnings,
    /// Stanzas so far.
    n: usize,
    strings: Interner,
}

impl Db {
    fn with_capacity(n: usize) -> Db {
        Db {
            packages: Vec::with_capacity(n),
            warn: Warnings::default(),
            n: 0,
            strings: Interner::new(),
        }
    }

    fn stanza(&mut self, stanza: &Stanza) {
        self.n += 1;
        let n = self.n;
        if stanza.fields().is_empty() {
            let msg = format!(
                "stanza {n}: no fields ({} malformed line(s))",
                stanza.bad_lines
            );
            self.warn.at_line(stanza.line, msg);
            return;
        }
        let status = stanza.get("Status");
        if status.is_some_and(|s| !is_installed(s)) {
            return;
        }
        let name = stanza.get("Package").unwrap_or("").trim();
        let version = stanza.get("Version").unwrap_or("").trim();
        let problem = if name.is_empty() {
            format!("stanza {n}: no Package field")
        } else if version.is_empty() {
            format!("stanza {n} ({name}): no Version field")
        } else if let Err(why) = check_version(version) {
            format!("stanza {n} ({name}): invalid version {version:?}: {why}")
        } else {
            let p = package(stanza, name, version, &mut self.strings);
            self.packages.push(p);
            return;
        };
        self.warn.at_line(stanza.line, problem);
    }

    fn finish(mut self) -> Parsed<DpkgPackage> {
        // Kept for the whole scan: no spare capacity.
        self.packages.shrink_to_fit();
        Parsed {
            packages: self.packages,
            warnings: self.warn.finish(),
        }
    }
}

/// The package of an installed stanza with a valid name and version.
fn package(stanza: &Stanza, name: &str, version: &str, s: &mut Interner) -> DpkgPackage {
    let (source_name, source_version) = match stanza.get("Source").map(str::trim) {
        None | Some("") => (None, None),
        Some(src) => {
            let (sname, sver) = split_source(src);
            (Some(s.get(sname)), Some(s.get(sver.unwrap_or(version))))
        }
    };
    let mut depends = Vec::new();
    for field in ["Pre-Depends", "Depends"] {
        if let Some(v) = stanza.get(field) {
            relation_names(v, &mut depends, s);
        }
    }
    let mut provides = Vec::new();
    if let Some(v) = stanza.get("Provides") {
        relation_names(v, &mut provides, s);
    }
    dedup_in_order(&mut depends);
    dedup_in_order(&mut provides);
    // kept for the whole parse and the join: no room for 4 names where there are 2
    depends.shrink_to_fit();
    provides.shrink_to_fit();
    DpkgPackage {
        arch: s.opt(stanza.get_nonempty("Architecture")),
        maintainer: s.opt(stanza.get_nonempty("Maintainer")),
        homepage: s.opt(stanza.get_nonempty("Homepage")),
        name: s.get(name),
        version: s.get(version),
        source_name,
        source_version,
        status: s.opt(stanza.get("Status")),
        depends,
        provides,
        installed_size: stanza.get("Installed-Size").and_then(parse_size),
    }
}

/// `Installed-Size` in KiB: `427`; also `4KB`, `4 kB`, `4KiB`, `2MB` as some
/// image builders write it.
fn parse_size(v: &str) -> Option<u64> {
    let v = v.trim();
    let digits = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let n: u64 = v[..digits].parse().ok()?;
    match v[digits..].trim().to_ascii_lowercase().as_str() {
        "" | "k" | "kb" | "kib" => Some(n),
        "m" | "mb" | "mib" => n.checked_mul(1024),
        _ => None,
    }
}

fn is_installed(status: &str) -> bool {
    let words: Vec<&str> = status.split_whitespace().collect();
    let [want, flags, state] = words.as_slice() else {
        return false;
    };
    matches!(*want, "install" | "hold")
        && *state == "installed"
        && !flags
            .split(',')
            .any(|f| f == "reinstreq" || f == "reinst-required")
}

/// Checks a version the way dpkg's parser would reject it.
fn check_version(v: &str) -> Result<(), &'static str> {
    if v.contains(char::is_whitespace) {
        return Err("embedded whitespace");
    }
    let rest = match v.split_once(':') {
        Some((epoch, rest)) => {
            if epoch.is_empty() || !epoch.bytes().all(|b| b.is_ascii_digit()) {
                return Err("epoch is not a number");
            }
            if epoch.parse::<u32>().is_err() {
                return Err("epoch is too large");
            }
            rest
        }
        None => v,
    };
    let upstream = match rest.rsplit_once('-') {
        Some((u, _rev)) => u,
        None => rest,
    };
    if upstream.is_empty() {
        return Err("empty upstream version");
    }
    if !rest
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b".+~:-".contains(&b))
    {
        return Err("invalid character");
    }
    Ok(())
}

/// `glibc (2.36-9)` → (`glibc`, Some(`2.36-9`)); `foo` → (`foo`, None).
fn split_source(src: &str) -> (&str, Option<&str>) {
    match src.split_once('(') {
        Some((name, rest)) => {
            let ver = rest.split(')').next().unwrap_or("").trim();
            (name.trim(), if ver.is_empty() { None } else { Some(ver) })
        }
        None => (src.split_whitespace().next().unwrap_or(src), None),
    }
}

/// Appends the package names of a relationship field (`a (>= 1) | b:any, c`) to `out`.
fn relation_names(field: &str, out: &mut Vec<Str>, s: &mut Interner) {
    for group in field.split(',') {
        for alt in group.split('|') {
            let alt = alt.trim();
            let end = alt
                .find(|c: char| c.is_whitespace() || "(:[<".contains(c))
                .unwrap_or(alt.len());
            let name = &alt[..end];
            if !name.is_empty() {
                out.push(s.get(name));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MAX_WARNINGS;

    #[test]
    fn stanza_basics() {
        let input = b"Package: a\r\nStatus: install ok installed\r\nVersion: 1.0\r\nSource: src (2.0)\r\nDepends: b (>= 1) | c:any, d [amd64], b\r\nPre-Depends: z\r\n\r\n\r\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1\n\nPackage: nostatus\nVersion: 2\nSource: s2";
        let p = parse_status(input);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert_eq!(p.packages.len(), 2);
        let a = &p.packages[0];
        assert_eq!(a.source_name.as_deref(), Some("src"));
        assert_eq!(a.source_version.as_deref(), Some("2.0"));
        assert_eq!(a.depends, vec!["z", "b", "c", "d"]);
        let b = &p.packages[1];
        assert_eq!(b.name, "nostatus");
        assert_eq!(b.source_version.as_deref(), Some("2"));
        assert_eq!(b.status, None);
    }

    #[test]
    fn reading_a_stream_gives_what_parsing_the_bytes_gives() {
        let inputs: [&[u8]; 6] = [
            b"Package: a\r\nStatus: install ok installed\r\nVersion: 1.0\r\nDescription: x\r\n more\r\n .\r\n\r\n# c\nPackage: b\nVersion: 2\n",
            b"Package: caf\xc3\xa9\xff\nVersion: 1\xfe\n\n\n \nbogus\nPackage: c\nVersion: 1:2-3\nProvides: x (= 1), y\n",
            b" leading continuation\n\nPackage: \nVersion: 1\n\nPackage: v\nVersion: a b\n",
            b"",
            b"\n\n#only\n",
            b"Package: last\nVersion: 9\nMaintainer: M <m@x>\nInstalled-Size: 4 MB",
        ];
        for input in inputs {
            for cap in [1, 3, 4096] {
                let r = std::io::BufReader::with_capacity(cap, input);
                let read = read_status(r).unwrap();
                assert_eq!(
                    read,
                    parse_status(input),
                    "{}",
                    String::from_utf8_lossy(input)
                );
            }
        }
    }

    #[test]
    fn statuses() {
        assert!(is_installed("install ok installed"));
        assert!(is_installed("hold ok installed"));
        assert!(is_installed("install user installed"));
        assert!(!is_installed("deinstall ok installed"));
        assert!(!is_installed("install reinstreq installed"));
        assert!(!is_installed("install ok half-installed"));
        assert!(!is_installed(""));
    }

    #[test]
    fn versions() {
        assert!(check_version("1:5.1.1-12ubuntu1").is_ok());
        assert!(check_version("2024.10.20~252a9b0c-r1").is_ok());
        assert!(check_version("1:5.#").is_err());
        assert!(check_version("x:1").is_err());
        assert!(check_version("1:").is_err());
    }

    #[test]
    fn large_hostile_inputs_stay_linear() {
        let many = "a".repeat(3) + &", x".repeat(200_000);
        let status = format!("Package: p\nVersion: 1\nDepends: {many}\nProvides: {many}\n");
        let p = parse_status(status.as_bytes());
        assert_eq!(p.packages[0].depends, ["aaa", "x"]);
        let warn = "junk\n\n".repeat(5_000);
        let p = parse_status(warn.as_bytes());
        assert_eq!(p.warnings.len(), MAX_WARNINGS + 1);
        let last = &p.warnings[MAX_WARNINGS];
        assert_eq!(last.code, moat_model::Code::TooLarge);
        assert_eq!(last.message, "... 4000 more warnings");
        assert_eq!(p.warnings[999].line, Some(1999));
    }

    #[test]
    fn diagnostics_point_at_the_stanza() {
        let status = b"Package: ok\nVersion: 1\n\n# gone\nPackage: nover\nStatus: install ok installed\n\nPackage: bad\nVersion: 1:5.#\n";
        let p = parse_status(status);
        let got: Vec<(Option<u32>, &str)> = p
            .warnings
            .iter()
            .map(|d| (d.line, d.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (Some(5), "stanza 2 (nover): no Version field"),
                (
                    Some(8),
                    "stanza 3 (bad): invalid version \"1:5.#\": invalid character"
                ),
            ]
        );
        assert!(
            p.warnings
                .iter()
                .all(|d| d.code == moat_model::Code::ParseError)
        );
    }
}

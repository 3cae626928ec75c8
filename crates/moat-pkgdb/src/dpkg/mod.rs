//! # dpkg (and opkg) databases
//!
//! Readers for the files dpkg leaves in an image:
//!
//! * [`parse_status`]: `var/lib/dpkg/status`, each file of the distroless
//!   `var/lib/dpkg/status.d/` directory, and opkg's `usr/lib/opkg/status` /
//!   `var/lib/opkg/status` (same deb822 format, fewer fields);
//! * [`parse_list`] / [`parse_md5sums`]: `var/lib/dpkg/info/<pkg>[:arch].list` and
//!   `.md5sums` (also `status.d/<pkg>.md5sums`), the files a package owns;
//! * [`info_file_package`]: which package an `info/` (or `status.d/`) file belongs to;
//! * [`copyright_licenses`]: the licences named by `usr/share/doc/<pkg>/copyright`.
//!
//! ## Status file format
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
//! becomes a warning (`stanza N: ...`, N counting from 1); the rest of the file is
//! still read. Warnings are capped at [`MAX_WARNINGS`] (+ one "more" line).
//!
//! ## Dependencies
//! [`DpkgPackage::depends`] holds the package names of `Pre-Depends` and `Depends`
//! (in that order): every alternative of `a | b`, with version constraints
//! (`(>= 1.0)`), architecture qualifiers (`:any`, `:amd64`) and restriction lists
//! (`[amd64]`, `<!nocheck>`) stripped, deduplicated, in order of appearance.
//! [`DpkgPackage::provides`] is the same for `Provides`.
//!
//! ## Licences
//! See [`copyright_licenses`].

use crate::Parsed;

/// At most this many warnings are returned by one call; further ones are counted
/// in one final "... more warnings" line.
pub const MAX_WARNINGS: usize = 1000;

/// One installed package from a dpkg/opkg status file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpkgPackage {
    pub name: String,
    pub version: String,
    /// `Architecture` (`amd64`, `all`, opkg `x86_64`, ...).
    pub arch: Option<String>,
    /// Name from `Source:`; None when the field is absent.
    pub source_name: Option<String>,
    /// Version in `Source: name (version)`, else the package version when a
    /// `Source:` field is present; None when the field is absent.
    pub source_version: Option<String>,
    /// The `Status` field as written; None in distroless `status.d` stanzas.
    pub status: Option<String>,
    /// Package names from `Pre-Depends` + `Depends` (see the module docs).
    pub depends: Vec<String>,
    /// Package names from `Provides`, version constraints stripped.
    pub provides: Vec<String>,
    pub maintainer: Option<String>,
    /// `Installed-Size` in KiB (a `KB`/`MB` unit suffix is understood); None when
    /// absent or unreadable.
    pub installed_size: Option<u64>,
    pub homepage: Option<String>,
}

/// Reads a dpkg `status` file, one `status.d/*` file, or an opkg status file.
/// Returns the installed packages in file order; never fails (see module docs).
pub fn parse_status(bytes: &[u8]) -> Parsed<DpkgPackage> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Parsed {
        packages: Vec::new(),
        warnings: Vec::new(),
    };
    let mut warn = Warnings::default();
    for (idx, stanza) in stanzas(&text).into_iter().enumerate() {
        let n = idx + 1;
        if stanza.fields.is_empty() {
            warn.push(
                &mut out.warnings,
                format!(
                    "stanza {n}: no fields ({} malformed line(s))",
                    stanza.bad_lines
                ),
            );
            continue;
        }
        let status = stanza.get("Status").map(str::to_string);
        if let Some(s) = &status
            && !is_installed(s)
        {
            continue;
        }
        let name = stanza.get("Package").unwrap_or("").trim();
        if name.is_empty() {
            warn.push(&mut out.warnings, format!("stanza {n}: no Package field"));
            continue;
        }
        let version = stanza.get("Version").unwrap_or("").trim();
        if version.is_empty() {
            warn.push(
                &mut out.warnings,
                format!("stanza {n} ({name}): no Version field"),
            );
            continue;
        }
        if let Err(why) = check_version(version) {
            warn.push(
                &mut out.warnings,
                format!("stanza {n} ({name}): invalid version {version:?}: {why}"),
            );
            continue;
        }
        let (source_name, source_version) = match stanza.get("Source").map(str::trim) {
            None | Some("") => (None, None),
            Some(src) => {
                let (sname, sver) = split_source(src);
                (
                    Some(sname.to_string()),
                    Some(sver.unwrap_or(version).to_string()),
                )
            }
        };
        let mut depends = Vec::new();
        for field in ["Pre-Depends", "Depends"] {
            if let Some(v) = stanza.get(field) {
                relation_names(v, &mut depends);
            }
        }
        let mut provides = Vec::new();
        if let Some(v) = stanza.get("Provides") {
            relation_names(v, &mut provides);
        }
        dedup_in_order(&mut depends);
        dedup_in_order(&mut provides);
        out.packages.push(DpkgPackage {
            name: name.to_string(),
            version: version.to_string(),
            arch: stanza.get_nonempty("Architecture"),
            source_name,
            source_version,
            status,
            depends,
            provides,
            maintainer: stanza.get_nonempty("Maintainer"),
            installed_size: stanza.get("Installed-Size").and_then(parse_size),
            homepage: stanza.get_nonempty("Homepage"),
        });
    }
    warn.finish(&mut out.warnings);
    out
}

/// Reads an `info/<pkg>.list` file: one path per line. Returns absolute paths
/// (a missing leading `/` is added), without the `/.` root entry and blank lines.
pub fn parse_list(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    text.lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .filter(|l| !l.trim().is_empty())
        .filter_map(absolute)
        .collect()
}

/// Reads an `info/<pkg>.md5sums` (or `status.d/<pkg>.md5sums`) file:
/// `<digest>  <path>` lines. Returns the absolute paths, in order; lines
/// without a digest and a path are skipped.
pub fn parse_md5sums(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    text.lines()
        .filter_map(|l| {
            let l = l.strip_suffix('\r').unwrap_or(l);
            let (digest, path) = l.split_once(char::is_whitespace)?;
            if digest.is_empty() || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            let path = path.trim_start();
            if path.is_empty() {
                None
            } else {
                absolute(path)
            }
        })
        .collect()
}

fn absolute(path: &str) -> Option<String> {
    if path == "/." || path == "." || path == "/" {
        return None;
    }
    if path.starts_with('/') {
        Some(path.to_string())
    } else {
        Some(format!("/{path}"))
    }
}

/// Suffixes of the per-package files dpkg keeps in `info/` (and distroless
/// images in `status.d/`).
const INFO_SUFFIXES: &[&str] = &[
    ".list",
    ".md5sums",
    ".conffiles",
    ".preinst",
    ".postinst",
    ".prerm",
    ".postrm",
    ".config",
    ".templates",
    ".triggers",
    ".shlibs",
    ".symbols",
];

/// The package (and architecture qualifier) an `info/` file belongs to:
/// `"var/lib/dpkg/info/libc6:amd64.list"` → `("libc6", Some("amd64"))`,
/// `"…/info/tar.md5sums"` → `("tar", None)`. Only the file name is looked at;
/// None for other suffixes or an empty package name.
pub fn info_file_package(path: &str) -> Option<(String, Option<String>)> {
    let base = path.rsplit('/').next().unwrap_or(path);
    let stem = INFO_SUFFIXES.iter().find_map(|s| base.strip_suffix(s))?;
    let (name, arch) = match stem.split_once(':') {
        Some((n, a)) => (n, Some(a)),
        None => (stem, None),
    };
    if name.is_empty() || arch == Some("") {
        return None;
    }
    Some((name.to_string(), arch.map(str::to_string)))
}

/// `License:` values longer than this are ignored (real ones are < 100 bytes).
const MAX_LICENSE_VALUE: usize = 512;

/// The licences a `usr/share/doc/<pkg>/copyright` file names, deduplicated, in
/// order of appearance.
///
/// * Machine-readable (DEP-5) files (a `Format:` field in the first paragraph):
///   the first-line value of every `License:` field. Expressions are split into
///   their licences at ` or `, ` and ` and `,` (the structure is not kept); a
///   ` with <exception>` part stays attached to its licence. Values over 512
///   bytes are ignored.
/// * Other files: `License:` lines at the start of a line whose value is short
///   (at most 64 characters and 4 words), and every reference to
///   `/usr/share/common-licenses/<NAME>`.
///
/// Each licence is normalised to an SPDX id where the Debian short name is
/// unambiguous ([`normalize_license`]); others are kept as written.
pub fn copyright_licenses(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let machine_readable = is_dep5(&text);
    let mut out: Vec<String> = Vec::new();
    let add = |s: String, out: &mut Vec<String>| {
        if !s.is_empty() {
            out.push(s);
        }
    };
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if let Some(value) = field_value(line, "License") {
            let value = value.trim();
            let accept = value.len() <= MAX_LICENSE_VALUE
                && (machine_readable
                    || (value.len() <= 64 && value.split_whitespace().count() <= 4));
            if accept {
                for part in split_license_expression(value) {
                    add(normalize_license(&part), &mut out);
                }
            }
        }
        if !machine_readable {
            let mut rest = line;
            const MARK: &str = "/usr/share/common-licenses/";
            while let Some(pos) = rest.find(MARK) {
                rest = &rest[pos + MARK.len()..];
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || "._+-".contains(c)))
                    .unwrap_or(rest.len());
                let name = rest[..end].trim_end_matches('.');
                if !name.is_empty() {
                    add(normalize_license(name), &mut out);
                }
                rest = &rest[end..];
            }
        }
    }
    dedup_in_order(&mut out);
    out
}

/// Maps a Debian licence short name to its SPDX id where that is unambiguous:
/// `GPL-2` → `GPL-2.0-only`, `GPL-2+`/`GPLv2+` → `GPL-2.0-or-later`, `LGPL-2.1+`
/// → `LGPL-2.1-or-later`, `BSD-3-clause` → `BSD-3-Clause`, `Expat` → `MIT`,
/// `Apache-2` → `Apache-2.0`, ... Unknown or ambiguous names (`GPL`, `BSD`,
/// `Artistic`, `public-domain`, `custom`) are returned trimmed, as written.
pub fn normalize_license(name: &str) -> String {
    let name = name.trim().trim_end_matches([',', '.', ';']).trim();
    if let Some((lic, exc)) = split_ci(name, " with ") {
        return format!("{} with {}", normalize_license_id(lic), exc.trim());
    }
    normalize_license_id(name)
}

/// [`normalize_license`] without the ` with <exception>` handling.
fn normalize_license_id(name: &str) -> String {
    let name = name.trim().trim_end_matches([',', '.', ';']).trim();
    let lower = name.to_ascii_lowercase();
    let fixed = match lower.as_str() {
        "expat" | "mit" => Some("MIT"),
        "bsd-2-clause" => Some("BSD-2-Clause"),
        "bsd-3-clause" => Some("BSD-3-Clause"),
        "bsd-4-clause" => Some("BSD-4-Clause"),
        "apache-2" | "apache-2.0" => Some("Apache-2.0"),
        "apache-1.1" => Some("Apache-1.1"),
        "zlib" => Some("Zlib"),
        "isc" => Some("ISC"),
        "mpl-1.1" => Some("MPL-1.1"),
        "mpl-2.0" | "mpl-2" => Some("MPL-2.0"),
        "artistic-2.0" | "artistic-2" => Some("Artistic-2.0"),
        "cc0" | "cc0-1.0" => Some("CC0-1.0"),
        "psf-2" => Some("PSF-2.0"),
        "openssl" => Some("OpenSSL"),
        "curl" => Some("curl"),
        "unicode-dfs-2016" => Some("Unicode-DFS-2016"),
        _ => None,
    };
    if let Some(f) = fixed {
        return f.to_string();
    }
    for (prefix, spdx) in [
        ("agpl", "AGPL"),
        ("lgpl", "LGPL"),
        ("gfdl", "GFDL"),
        ("gpl", "GPL"),
    ] {
        if let Some(rest) = lower.strip_prefix(prefix) {
            let rest = rest
                .strip_prefix('-')
                .or_else(|| rest.strip_prefix('v'))
                .unwrap_or(rest);
            let (ver, plus) = if let Some(v) = rest.strip_suffix('+') {
                (v, true)
            } else if let Some(v) = rest.strip_suffix("-or-later") {
                (v, true)
            } else {
                (rest.strip_suffix("-only").unwrap_or(rest), false)
            };
            let ok = !ver.is_empty()
                && ver.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                && !ver.starts_with('.')
                && !ver.ends_with('.');
            if !ok {
                break;
            }
            let ver = if ver.contains('.') {
                ver.to_string()
            } else {
                format!("{ver}.0")
            };
            let known = matches!(
                (spdx, ver.as_str()),
                ("GPL", "1.0" | "2.0" | "3.0")
                    | ("LGPL", "2.0" | "2.1" | "3.0")
                    | ("AGPL", "1.0" | "3.0")
                    | ("GFDL", "1.1" | "1.2" | "1.3")
            );
            if !known {
                break;
            }
            let suffix = if plus { "or-later" } else { "only" };
            return format!("{spdx}-{ver}-{suffix}");
        }
    }
    name.to_string()
}

// ---------------------------------------------------------------- internals

#[derive(Default)]
struct Warnings {
    dropped: usize,
}

impl Warnings {
    fn push(&mut self, list: &mut Vec<String>, w: String) {
        if list.len() < MAX_WARNINGS {
            list.push(w);
        } else {
            self.dropped += 1;
        }
    }
    fn finish(self, list: &mut Vec<String>) {
        if self.dropped > 0 {
            list.push(format!("... {} more warnings", self.dropped));
        }
    }
}

/// One deb822 paragraph: fields in order (names as written) and the number of
/// lines that were neither fields nor continuations.
pub(crate) struct Stanza<'a> {
    pub(crate) fields: Vec<(&'a str, String)>,
    pub(crate) bad_lines: usize,
}

impl Stanza<'_> {
    /// First field of that name (case-insensitive).
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn get_nonempty(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }
}

/// Splits deb822 text into paragraphs. Paragraphs with neither fields nor
/// malformed lines (comments only) are dropped.
pub(crate) fn stanzas(text: &str) -> Vec<Stanza<'_>> {
    let mut out = Vec::new();
    let mut cur = Stanza {
        fields: Vec::new(),
        bad_lines: 0,
    };
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            if !cur.fields.is_empty() || cur.bad_lines > 0 {
                out.push(std::mem::replace(
                    &mut cur,
                    Stanza {
                        fields: Vec::new(),
                        bad_lines: 0,
                    },
                ));
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            match cur.fields.last_mut() {
                Some((_, v)) => {
                    v.push('\n');
                    v.push_str(line.trim());
                }
                None => cur.bad_lines += 1,
            }
            continue;
        }
        match line.split_once(':') {
            Some((k, v)) if !k.is_empty() && !k.contains(char::is_whitespace) => {
                cur.fields.push((k, v.trim().to_string()));
            }
            _ => cur.bad_lines += 1,
        }
    }
    if !cur.fields.is_empty() || cur.bad_lines > 0 {
        out.push(cur);
    }
    out
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
fn relation_names(field: &str, out: &mut Vec<String>) {
    for group in field.split(',') {
        for alt in group.split('|') {
            let alt = alt.trim();
            let end = alt
                .find(|c: char| c.is_whitespace() || "(:[<".contains(c))
                .unwrap_or(alt.len());
            let name = &alt[..end];
            if !name.is_empty() {
                out.push(name.to_string());
            }
        }
    }
}

/// Removes repeated entries, keeping the first of each (linear time).
pub(crate) fn dedup_in_order(v: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::with_capacity(v.len());
    v.retain(|s| seen.insert(s.clone()));
}

/// `Name: value` → value when the line starts with that field name (case-insensitive).
fn field_value<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let (k, v) = line.split_once(':')?;
    k.eq_ignore_ascii_case(name).then_some(v)
}

fn is_dep5(text: &str) -> bool {
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            return false; // end of the first paragraph
        }
        if field_value(line, "Format").is_some() {
            return true;
        }
    }
    false
}

/// Splits `GPL-1+ or Artistic, and BSD-4-clause` into its licence names.
fn split_license_expression(value: &str) -> Vec<String> {
    let mut parts = vec![value.to_string()];
    for sep in [",", " or ", " and ", " | ", " & "] {
        parts = parts
            .iter()
            .flat_map(|p| split_all_ci(p, sep))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
    }
    parts
        .into_iter()
        .map(|p| {
            // "and BSD" left over after splitting at ", and"
            let p = p
                .strip_prefix("and ")
                .or_else(|| p.strip_prefix("or "))
                .unwrap_or(&p);
            p.trim().to_string()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

fn split_all_ci(s: &str, sep: &str) -> Vec<String> {
    // ASCII lowercasing keeps byte offsets, so match positions are char
    // boundaries in `s` too.
    let lower = s.to_ascii_lowercase();
    let sep = sep.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut start = 0;
    for (pos, _) in lower.match_indices(&sep) {
        if pos >= start {
            out.push(s[start..pos].to_string());
            start = pos + sep.len();
        }
    }
    out.push(s[start..].to_string());
    out
}

/// Splits at the first ASCII-case-insensitive occurrence of `sep`.
fn split_ci<'a>(s: &'a str, sep: &str) -> Option<(&'a str, &'a str)> {
    let lower = s.to_ascii_lowercase();
    let pos = lower.find(&sep.to_ascii_lowercase())?;
    // ASCII lowercasing keeps byte offsets, so `pos` is a char boundary in `s`.
    Some((&s[..pos], &s[pos + sep.len()..]))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn info_files() {
        assert_eq!(
            info_file_package("var/lib/dpkg/info/libc6:amd64.list"),
            Some(("libc6".into(), Some("amd64".into())))
        );
        assert_eq!(
            info_file_package("info/tar.md5sums"),
            Some(("tar".into(), None))
        );
        assert_eq!(info_file_package("info/tar.txt"), None);
        assert_eq!(info_file_package(".list"), None);
        assert_eq!(
            parse_list(b"/.\n/usr\r\n\nusr/bin/x\n"),
            vec!["/usr", "/usr/bin/x"]
        );
        assert_eq!(
            parse_md5sums(b"abc123  usr/bin/tar\nbad\n"),
            vec!["/usr/bin/tar"]
        );
    }

    #[test]
    fn licenses() {
        assert_eq!(normalize_license("GPL-2+"), "GPL-2.0-or-later");
        assert_eq!(normalize_license("GPLv2+"), "GPL-2.0-or-later");
        assert_eq!(normalize_license("GPL-2"), "GPL-2.0-only");
        assert_eq!(normalize_license("LGPL-2.1+"), "LGPL-2.1-or-later");
        assert_eq!(normalize_license("BSD-3-clause"), "BSD-3-Clause");
        assert_eq!(normalize_license("Expat"), "MIT");
        assert_eq!(normalize_license("public-domain"), "public-domain");
        assert_eq!(normalize_license("GPL"), "GPL");
        assert_eq!(normalize_license("GPL-7"), "GPL-7");
        assert_eq!(
            normalize_license("GPL-2+ with OpenSSL exception"),
            "GPL-2.0-or-later with OpenSSL exception"
        );
    }

    #[test]
    fn large_hostile_inputs_stay_linear() {
        let many = "a".repeat(3) + &", x".repeat(200_000);
        let status = format!("Package: p\nVersion: 1\nDepends: {many}\nProvides: {many}\n");
        let p = parse_status(status.as_bytes());
        assert_eq!(p.packages[0].depends, ["aaa", "x"]);
        let lic = format!("Format: x\n\nLicense: {}\n", " with a".repeat(60));
        assert_eq!(copyright_licenses(lic.as_bytes()).len(), 1);
        let lic = "Format: x\n\n".to_string() + &"License: GPL-2+, MIT or x\n".repeat(100_000);
        assert_eq!(
            copyright_licenses(lic.as_bytes()),
            ["GPL-2.0-or-later", "MIT", "x"]
        );
        let refs = "/usr/share/common-licenses/GPL-3 ".repeat(100_000);
        assert_eq!(copyright_licenses(refs.as_bytes()), ["GPL-3.0-only"]);
        let warn = "junk\n\n".repeat(5_000);
        let p = parse_status(warn.as_bytes());
        assert_eq!(p.warnings.len(), MAX_WARNINGS + 1);
    }

    #[test]
    fn never_panics_on_odd_bytes() {
        for input in [
            &b"\xff\xfe:\n \n:"[..],
            b"Package:\xc3",
            b"\n\n\n",
            b": :",
            b"Source: (",
        ] {
            let _ = parse_status(input);
            let _ = parse_list(input);
            let _ = copyright_licenses(input);
        }
    }
}

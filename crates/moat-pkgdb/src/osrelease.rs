//! # Operating-system detection
//!
//! * [`parse_os_release`]: `etc/os-release` / `usr/lib/os-release` (the
//!   freedesktop format: `KEY=value` lines, values unquoted, `"double"` or
//!   `'single'` quoted, backslash escapes, `#` comments; CRLF tolerated);
//! * [`from_marker`]: the older distro marker files listed in [`MARKER_FILES`]
//!   (`etc/alpine-release`, `etc/debian_version`, `etc/redhat-release`, ...),
//!   for images without os-release.
//!
//! ## Normalisation
//! `id` is the lower-cased os-release `ID`, with these aliases: `opensuse` →
//! `opensuse-leap`, `sle_hpc`/`sles_sap` → `sles`, `amazon` → `amzn`, `oracle`
//! → `ol`, `redhat` → `rhel`, `alma` → `almalinux`, `cbl-mariner` → `mariner`.
//! `family`:
//!
//! | family | ids |
//! |---|---|
//! | `debian` | `debian`, `ubuntu` |
//! | `alpine` | `alpine` |
//! | `redhat` | `rhel`, `centos`, `rocky`, `almalinux`, `ol`, `fedora`, `amzn` |
//! | `suse` | `sles`, `sle-micro`, `opensuse-leap`, `opensuse-tumbleweed`, `opensuse-*`, `suse` |
//! | `mariner` | `mariner`, `azurelinux` |
//! | `wolfi` | `wolfi`, `chainguard` |
//!
//! Any other id takes its family from `ID_LIKE` (first entry that is one of the
//! families above, `ubuntu` → `debian`, `rhel`/`fedora`/`centos` → `redhat`),
//! else the id itself.
//!
//! `version` is `VERSION_ID` as written. Without it (Debian testing/sid) the
//! version comes from the Debian codename (`trixie` → `13`, see
//! [`debian_codename_version`]) or stays None (`sid`). `codename` is
//! `VERSION_CODENAME`, else `UBUNTU_CODENAME`, else (Debian only) the last word
//! of `PRETTY_NAME` when it is a lower-case word (`(jessie)`, `trixie/sid`). `name` is `PRETTY_NAME`, else
//! `NAME VERSION`, else the id. A file without an `ID` gives None.
//!
//! Everything is bounded: at most [`MAX_INPUT`] bytes are looked at.

use moat_model::OsInfo;

/// Only the first this many bytes of a file are read (real files are < 1 KiB).
pub const MAX_INPUT: usize = 64 * 1024;

/// Distro marker files, relative to the root, in order of preference: a caller
/// that finds several should use the first one in this list that gives a result
/// (`etc/debian_version` is last because Ubuntu has one too, and
/// `etc/redhat-release`/`etc/system-release` come after the rebuilds' own files).
pub const MARKER_FILES: &[&str] = &[
    "etc/alpine-release",
    "etc/lsb-release",
    "etc/rocky-release",
    "etc/almalinux-release",
    "etc/oracle-release",
    "etc/centos-release",
    "etc/fedora-release",
    "etc/amazon-linux-release",
    "etc/redhat-release",
    "etc/system-release",
    "etc/mariner-release",
    "etc/azurelinux-release",
    "etc/SuSE-release",
    "etc/debian_version",
];

/// Parses an os-release file. None when it has no `ID`.
pub fn parse_os_release(bytes: &[u8]) -> Option<OsInfo> {
    let kv = parse_kv(bytes);
    let get = |k: &str| -> Option<&str> {
        kv.iter()
            .rev()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let raw_id = get("ID")?.trim().to_ascii_lowercase();
    let id = normalize_id(&raw_id);
    if id.is_empty() {
        return None;
    }
    let family = family_of(&id, get("ID_LIKE"));
    let codename = get("VERSION_CODENAME")
        .or_else(|| get("UBUNTU_CODENAME"))
        .map(|s| s.trim().to_string());
    let version = match get("VERSION_ID") {
        Some(v) => Some(v.trim().to_string()),
        None if id == "debian" => codename
            .as_deref()
            .or_else(|| get("PRETTY_NAME").and_then(pretty_codename))
            .and_then(debian_codename_version)
            .map(str::to_string),
        None => None,
    };
    let codename = codename.or_else(|| {
        if id == "debian" {
            get("PRETTY_NAME")
                .and_then(pretty_codename)
                .map(str::to_string)
        } else {
            None
        }
    });
    let name = match (get("PRETTY_NAME"), get("NAME"), get("VERSION")) {
        (Some(p), _, _) => p.to_string(),
        (None, Some(n), Some(v)) => format!("{n} {v}"),
        (None, Some(n), None) => n.to_string(),
        (None, None, _) => id.clone(),
    };
    Some(OsInfo {
        family,
        ..info(&id, version, codename, name)
    })
}

/// Reads a marker file; `path` is the file's path relative to the root (a
/// leading `/` or `./` is ignored). `etc/os-release` and `usr/lib/os-release`
/// are handed to [`parse_os_release`]. None for unknown paths or contents.
///
/// | file | content | result |
/// |---|---|---|
/// | `etc/alpine-release` | `3.19.1` | alpine, `3.19.1` |
/// | `etc/debian_version` | `12.5` / `bookworm/sid` | debian, major `12` / codename version (`sid` → None) |
/// | `etc/lsb-release` | `DISTRIB_ID=Ubuntu` ... | id from `DISTRIB_ID`, version `DISTRIB_RELEASE` |
/// | RH-style `*-release` | `Rocky Linux release 9.3 (Blue Onyx)` | id from the text, version after `release` as written |
/// | `etc/mariner-release`, `etc/azurelinux-release` | `CBL-Mariner 2.0.20240301` | version `major.minor` (`2.0`) |
/// | `etc/SuSE-release` | `SUSE Linux Enterprise Server 12 (x86_64)` + `VERSION = 12`, `PATCHLEVEL = 3` | sles `12.3` |
pub fn from_marker(path: &str, bytes: &[u8]) -> Option<OsInfo> {
    let path = path.trim_start_matches("./").trim_start_matches('/');
    let bytes = &bytes[..bytes.len().min(MAX_INPUT)];
    let text = String::from_utf8_lossy(bytes);
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))?;
    match path {
        "etc/os-release" | "usr/lib/os-release" => parse_os_release(bytes),
        "etc/alpine-release" => {
            let v = first.split_whitespace().next()?;
            if !v.starts_with(|c: char| c.is_ascii_digit()) {
                return None;
            }
            Some(info(
                "alpine",
                Some(v.to_string()),
                None,
                format!("Alpine Linux v{v}"),
            ))
        }
        "etc/debian_version" => {
            let v = first.split_whitespace().next()?;
            if v.starts_with(|c: char| c.is_ascii_digit()) {
                let major = v.split('.').next().unwrap_or(v).to_string();
                let codename = debian_version_codename(&major).map(str::to_string);
                let mut i = info("debian", Some(major), None, format!("Debian GNU/Linux {v}"));
                i.codename = codename;
                Some(i)
            } else {
                // "bookworm/sid", "trixie/sid", "sid"
                let code = v.split('/').next().unwrap_or(v).to_ascii_lowercase();
                if !code.bytes().all(|b| b.is_ascii_lowercase()) || code.is_empty() {
                    return None;
                }
                let version = debian_codename_version(&code).map(str::to_string);
                let mut i = info("debian", version, None, format!("Debian GNU/Linux {v}"));
                i.codename = Some(code);
                Some(i)
            }
        }
        "etc/lsb-release" => {
            let kv = parse_kv(bytes);
            let get = |k: &str| {
                kv.iter()
                    .rev()
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v.trim())
                    .filter(|v| !v.is_empty())
            };
            let id = normalize_id(&get("DISTRIB_ID")?.to_ascii_lowercase().replace(' ', ""));
            let version = get("DISTRIB_RELEASE").map(str::to_string);
            let name = get("DISTRIB_DESCRIPTION")
                .map(str::to_string)
                .unwrap_or_else(|| {
                    format!("{id} {}", version.as_deref().unwrap_or(""))
                        .trim()
                        .to_string()
                });
            let mut i = info(&id, version, None, name);
            i.codename = get("DISTRIB_CODENAME").map(str::to_string);
            Some(i)
        }
        "etc/mariner-release" | "etc/azurelinux-release" => {
            let lower = first.to_ascii_lowercase();
            let id = if lower.starts_with("azure linux") {
                "azurelinux"
            } else if lower.starts_with("cbl-mariner") {
                "mariner"
            } else {
                return None;
            };
            let full = first
                .split_whitespace()
                .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))?;
            let version = full.split('.').take(2).collect::<Vec<_>>().join(".");
            Some(info(id, Some(version), None, first.to_string()))
        }
        "etc/SuSE-release" => {
            let lower = first.to_ascii_lowercase();
            let id = if lower.starts_with("suse linux enterprise") || lower.starts_with("sles") {
                "sles"
            } else if lower.starts_with("opensuse") {
                if lower.contains("tumbleweed") {
                    "opensuse-tumbleweed"
                } else {
                    "opensuse-leap"
                }
            } else {
                return None;
            };
            let mut version = None;
            let mut patch = None;
            for l in text.lines() {
                if let Some((k, v)) = l.split_once('=') {
                    match k.trim() {
                        "VERSION" => version = Some(v.trim().to_string()),
                        "PATCHLEVEL" => patch = Some(v.trim().to_string()),
                        _ => {}
                    }
                }
            }
            let version = match (version, patch) {
                (Some(v), Some(p)) if p != "0" && !v.contains('.') => Some(format!("{v}.{p}")),
                (v, _) => v,
            };
            let name = first.trim_end_matches(|c: char| c != ')').trim();
            let name = if name.is_empty() { first } else { name };
            Some(info(id, version, None, name.to_string()))
        }
        p if is_rh_marker(p) => {
            let id = rh_id(first)?;
            let lower = first.to_ascii_lowercase();
            let version = lower
                .find(" release ")
                .map(|pos| &first[pos + " release ".len()..])
                .and_then(|rest| rest.split_whitespace().next())
                .filter(|v| v.starts_with(|c: char| c.is_ascii_digit()))
                .map(str::to_string);
            let codename = first
                .rsplit_once('(')
                .map(|(_, c)| c.trim_end_matches(')').trim().to_string())
                .filter(|c| !c.is_empty());
            let mut i = info(id, version, None, first.to_string());
            i.codename = codename;
            Some(i)
        }
        _ => None,
    }
}

/// Debian release number of a codename: `buster` → `10`, `bookworm` → `12`,
/// `trixie` → `13`; None for `sid` and unknown names.
pub fn debian_codename_version(codename: &str) -> Option<&'static str> {
    DEBIAN_CODENAMES
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(codename.trim()))
        .map(|(_, v)| *v)
}

const DEBIAN_CODENAMES: &[(&str, &str)] = &[
    ("squeeze", "6"),
    ("wheezy", "7"),
    ("jessie", "8"),
    ("stretch", "9"),
    ("buster", "10"),
    ("bullseye", "11"),
    ("bookworm", "12"),
    ("trixie", "13"),
    ("forky", "14"),
    ("duke", "15"),
];

fn debian_version_codename(major: &str) -> Option<&'static str> {
    DEBIAN_CODENAMES
        .iter()
        .find(|(_, v)| *v == major)
        .map(|(c, _)| *c)
}

/// `Debian GNU/Linux trixie/sid` → `trixie`.
fn pretty_codename(pretty: &str) -> Option<&str> {
    let last = pretty.split_whitespace().last()?;
    let code = last
        .split('/')
        .next()?
        .trim_matches(|c| c == '(' || c == ')');
    (!code.is_empty() && code.bytes().all(|b| b.is_ascii_lowercase())).then_some(code)
}

fn info(id: &str, version: Option<String>, codename: Option<String>, name: String) -> OsInfo {
    let id = normalize_id(id);
    let family = family_of(&id, None);
    OsInfo {
        id,
        family,
        version,
        codename,
        name,
        distroless: false,
    }
}

fn normalize_id(id: &str) -> String {
    let id = id.trim();
    match id {
        "opensuse" => "opensuse-leap",
        "sle_hpc" | "sles_sap" => "sles",
        "amazon" => "amzn",
        "oracle" => "ol",
        "redhat" => "rhel",
        "alma" => "almalinux",
        "cbl-mariner" => "mariner",
        other => other,
    }
    .to_string()
}

fn family_of(id: &str, id_like: Option<&str>) -> String {
    fn known(id: &str) -> Option<&'static str> {
        Some(match id {
            "debian" | "ubuntu" => "debian",
            "alpine" => "alpine",
            "rhel" | "centos" | "rocky" | "almalinux" | "ol" | "fedora" | "amzn" => "redhat",
            "sles" | "sle-micro" | "suse" | "opensuse-leap" | "opensuse-tumbleweed" => "suse",
            s if s.starts_with("opensuse") => "suse",
            "mariner" | "azurelinux" => "mariner",
            "wolfi" | "chainguard" => "wolfi",
            _ => return None,
        })
    }
    if let Some(f) = known(id) {
        return f.to_string();
    }
    if let Some(like) = id_like {
        for l in like.split_whitespace() {
            if let Some(f) = known(&l.to_ascii_lowercase()) {
                return f.to_string();
            }
        }
    }
    id.to_string()
}

fn is_rh_marker(path: &str) -> bool {
    matches!(
        path,
        "etc/redhat-release"
            | "etc/centos-release"
            | "etc/rocky-release"
            | "etc/almalinux-release"
            | "etc/oracle-release"
            | "etc/fedora-release"
            | "etc/system-release"
            | "etc/amazon-linux-release"
    )
}

/// The id named by a Red Hat style release line.
fn rh_id(line: &str) -> Option<&'static str> {
    let l = line.to_ascii_lowercase();
    let table: &[(&str, &str)] = &[
        ("red hat enterprise linux", "rhel"),
        ("centos", "centos"),
        ("rocky linux", "rocky"),
        ("almalinux", "almalinux"),
        ("oracle linux", "ol"),
        ("fedora", "fedora"),
        ("amazon linux", "amzn"),
    ];
    table
        .iter()
        .find(|(p, _)| l.starts_with(p))
        .map(|(_, id)| *id)
}

/// `KEY=value` pairs of an os-release/lsb-release file, in order.
fn parse_kv(bytes: &[u8]) -> Vec<(String, String)> {
    let bytes = &bytes[..bytes.len().min(MAX_INPUT)];
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let k = k.trim();
        if k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            continue;
        }
        out.push((k.to_string(), unquote(v.trim())));
    }
    out
}

/// Shell-like unquoting of one value: `"a \"b\""`, `'a b'`, `a\ b`; a trailing
/// unquoted `# comment` is dropped.
fn unquote(v: &str) -> String {
    let mut out = String::new();
    let mut chars = v.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => out.push(c),
            (_, '\\') => {
                if let Some(n) = chars.next() {
                    if quote == Some('"') && !matches!(n, '"' | '\\' | '$' | '`') {
                        out.push('\\');
                    }
                    out.push(n);
                }
            }
            (None, '#') if out.is_empty() || out.ends_with(char::is_whitespace) => break,
            (_, c) => out.push(c),
        }
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquoting() {
        assert_eq!(
            unquote(r#""Debian GNU/Linux 12 (bookworm)""#),
            "Debian GNU/Linux 12 (bookworm)"
        );
        assert_eq!(unquote("'x y'"), "x y");
        assert_eq!(unquote(r#""a \"b\" \$c""#), r#"a "b" $c"#);
        assert_eq!(unquote(r"a\ b"), "a b");
        assert_eq!(unquote("debian # comment"), "debian");
        assert_eq!(unquote(r#""unterminated"#), "unterminated");
    }

    #[test]
    fn never_panics() {
        for input in [&b"ID=\"\\"[..], b"=", b"ID", b"\xff=\xff", b"ID='"] {
            let _ = parse_os_release(input);
            for m in MARKER_FILES {
                let _ = from_marker(m, input);
            }
        }
    }
}

//! `usr/share/doc/<pkg>/copyright`: the licences a package declares ([`copyright_licenses`]),
//! normalised to SPDX ids where the Debian name is unambiguous ([`normalize_license`]).
//! Free text as often as not; nothing here reports diagnostics.

use crate::dedup_in_order;

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
        let lic = format!("Format: x\n\nLicense: {}\n", " with a".repeat(60));
        assert_eq!(copyright_licenses(lic.as_bytes()).len(), 1);
        let lic = "Format: x\n\n".to_string() + &"License: GPL-2+, MIT or x\n".repeat(100_000);
        assert_eq!(
            copyright_licenses(lic.as_bytes()),
            ["GPL-2.0-or-later", "MIT", "x"]
        );
        let refs = "/usr/share/common-licenses/GPL-3 ".repeat(100_000);
        assert_eq!(copyright_licenses(refs.as_bytes()), ["GPL-3.0-only"]);
    }
}

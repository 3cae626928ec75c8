//! [`parse_requirements`]: pip requirements files. Only exact pins (`==V`, `===V`, with
//! a plain version, no `*`) are packages; unpinned and ranged requirements are skipped
//! silently (they carry no exact version); `name @ url` is skipped. Continuation lines are
//! joined; everything from the first `#` on is a comment; per-requirement options
//! (`--hash=`, `--config-settings`, `-C`, ...) start at the first whitespace-preceded `-`
//! (hashes go to metadata `hashes`); markers after `;` go to metadata `marker`; extras to
//! `extras`. Lines starting with `-` (`-r`, `-c`, `-e`, `--index-url`, ...) are ignored:
//! a parser sees one file and cannot follow includes (no diagnostic is emitted for them).
//! Names must match PEP 508; a malformed pin is a `parse-error` at the line where its
//! logical line starts. A pin repeated under the
//! same PEP 503 normalised name and version is reported once, as first written. UTF-8 (BOM tolerated)
//! and UTF-16 with a BOM are decoded.

use std::collections::BTreeSet;

use moat_model::Diagnostic;

use super::{MAX_PACKAGES, pkg, valid_name};
use crate::{LangParsed, read};

/// A plain version (no wildcard, no whitespace, no quoting or templating).
fn valid_version(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 256
        && v.bytes().any(|c| c.is_ascii_digit())
        && v.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'+' | b'!'))
}

/// Logical lines with the 1-based line each starts at: continuations joined, comments
/// removed, blank lines dropped.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut start = 1;
    for (n, raw) in text.lines().enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let (line, continued) = match raw.strip_suffix('\\') {
            Some(l) => (l, true),
            None => (raw, false),
        };
        if cur.is_empty() {
            start = n + 1;
        }
        if cur.len() < 1 << 20 {
            cur.push_str(line);
            cur.push(' ');
        }
        if !continued {
            out.push((start, std::mem::take(&mut cur)));
        }
    }
    if !cur.is_empty() {
        out.push((start, cur));
    }
    out.into_iter()
        .map(|(n, l)| match l.find('#') {
            Some(i) => (n, l[..i].trim().to_string()),
            None => (n, l.trim().to_string()),
        })
        .filter(|(_, l)| !l.is_empty())
        .collect()
}

/// Parses a pip requirements file: exact pins only.
pub fn parse_requirements(_path: &str, bytes: &[u8]) -> LangParsed {
    let text = read::decode_lossy(bytes);
    let mut out = LangParsed::default();
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    for (lineno, line) in logical_lines(&text) {
        if out.packages.len() >= MAX_PACKAGES {
            out.warn(read::too_many("requirements").line(read::line_no(lineno)));
            break;
        }
        let bad = |msg: String| Diagnostic::parse(msg).line(read::line_no(lineno));
        if line.starts_with('-') {
            continue; // -r/-c includes, -e, --index-url, ...: not a requirement of this file
        }
        // Per-requirement options start at the first whitespace-preceded '-'.
        let mut req_end = line.len();
        let mut prev_ws = false;
        for (i, c) in line.char_indices() {
            if c == '-' && prev_ws {
                req_end = i;
                break;
            }
            prev_ws = c.is_whitespace();
        }
        let (req, opts) = line.split_at(req_end);
        let mut hashes: Vec<&str> = Vec::new();
        let mut toks = opts.split_whitespace().peekable();
        while let Some(t) = toks.next() {
            if let Some(h) = t.strip_prefix("--hash=") {
                if !h.is_empty() {
                    hashes.push(h);
                }
            } else if t == "--hash"
                && let Some(h) = toks.next_if(|n| !n.starts_with('-'))
            {
                hashes.push(h);
            }
        }
        let (spec, marker) = match req.split_once(';') {
            Some((s, m)) => (s.trim(), Some(m.trim())),
            None => (req.trim(), None),
        };
        if spec.contains("://") || spec.starts_with(['.', '/']) {
            continue; // a URL or local path: no exact version
        }
        // Name, optional [extras], then the version specifier.
        let name_end = spec
            .find(|c: char| c == '[' || c.is_whitespace() || "=<>!~@".contains(c))
            .unwrap_or(spec.len());
        let name = &spec[..name_end];
        let mut rest = spec[name_end..].trim_start();
        let mut extras = String::new();
        if let Some(r) = rest.strip_prefix('[') {
            match r.split_once(']') {
                Some((e, after)) => {
                    extras = e
                        .split(',')
                        .map(str::trim)
                        .filter(|x| !x.is_empty())
                        .collect::<Vec<_>>()
                        .join(",");
                    rest = after.trim_start();
                }
                None => {
                    out.warn(bad(format!("unclosed extras in {line:?}")));
                    continue;
                }
            }
        }
        if rest.starts_with('@') {
            continue; // name @ url
        }
        if rest.is_empty() {
            if !valid_name(name) {
                out.warn(bad(format!("cannot read {line:?}")));
            }
            continue; // unpinned
        }
        if !valid_name(name) || !rest.starts_with(['=', '<', '>', '!', '~']) {
            out.warn(bad(format!("cannot read {line:?}")));
            continue;
        }
        let mut pinned: Option<&str> = None;
        let mut invalid = false;
        for clause in rest.split(',') {
            let clause = clause.trim();
            let v = clause
                .strip_prefix("===")
                .or_else(|| clause.strip_prefix("=="))
                .map(str::trim);
            if let Some(v) = v {
                if v.contains('*') {
                    continue; // wildcard: not exact
                }
                if !valid_version(v) {
                    invalid = true;
                } else if pinned.is_none() {
                    pinned = Some(v);
                }
            }
        }
        if invalid {
            out.warn(bad(format!("invalid version in {line:?}")));
            continue;
        }
        let Some(version) = pinned else { continue };
        if !seen.insert((moat_model::pep503_name(name), version.to_string())) {
            continue; // the same pin twice (e.g. `django==1` and `Django==1`)
        }
        let mut p = pkg(name, version);
        if let Some(m) = marker.filter(|m| !m.is_empty()) {
            p.metadata.insert("marker".into(), m.to_string().into());
        }
        if !extras.is_empty() {
            p.metadata.insert("extras".into(), extras.into());
        }
        if !hashes.is_empty() {
            p.metadata.insert("hashes".into(), hashes.join(",").into());
        }
        out.packages.push(p);
    }
    out
}

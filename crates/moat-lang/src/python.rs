//! # Python: installed metadata and lockfiles
//!
//! Every function reads the bytes of one file and returns the PyPI packages it names.
//!
//! * [`parse_metadata`]: `*.dist-info/METADATA`, `*.egg-info/PKG-INFO` and single-file
//!   `*.egg-info`. RFC 822 style headers (continuation lines start with a space or tab; the
//!   header block ends at the first empty line or at the first line that is neither a header
//!   nor a continuation, as Python's `email` parser does). Repeated single-valued headers keep
//!   the first value. One package: `Name` as written, `Version`, licenses (`License-Expression`,
//!   else a one-line `License` other than `UNKNOWN`, then the `X` of every
//!   `Classifier: License :: OSI Approved :: X`), `Requires-Dist` names (extras, markers and
//!   version specifiers stripped). Metadata `dist_dir` holds the absolute dist-info directory
//!   when the file sits in a `*.dist-info` directory (the engine joins the `RECORD` on it).
//! * [`parse_record`]: `*.dist-info/RECORD` (CSV `path,hash,size`, quoted fields). One
//!   package named after the directory (`name-version.dist-info`, split at the first `-`
//!   followed by a digit), `files` resolved against the site-packages directory (`..`
//!   normalised), metadata `record_only=true` and `dist_dir`. One exception: in a
//!   `lib/pythonX.Y/*-packages` directory, `../../bin/x` entries (written by
//!   `pip install --target`, whose scripts end up in `<site>/bin`) resolve to `<site>/bin/x`
//!   and set metadata `layout=pip-target`.
//! * [`parse_requirements`]: pip requirements files. Only exact pins (`==V`, `===V`, with
//!   a plain version, no `*`) are packages; unpinned and ranged requirements are skipped
//!   silently (they carry no exact version); `name @ url` is skipped. Continuation lines are
//!   joined; everything from the first `#` on is a comment; per-requirement options
//!   (`--hash=`, `--config-settings`, `-C`, ...) start at the first whitespace-preceded `-`
//!   (hashes go to metadata `hashes`); markers after `;` go to metadata `marker`; extras to
//!   `extras`. Lines starting with `-` (`-r`, `-c`, `-e`, `--index-url`, ...) are ignored:
//!   a parser sees one file and cannot follow includes (no warning is emitted for them).
//!   Names must match PEP 508; malformed pins produce a warning. A pin repeated under the
//!   same PEP 503 normalised name and version is reported once, as first written. UTF-8 (BOM tolerated)
//!   and UTF-16 with a BOM are decoded.
//! * [`parse_poetry_lock`]: `[[package]]`; dev when `category = "dev"` or when `groups`
//!   is present without `"main"`. Dependencies from the `dependencies` table keys.
//! * [`parse_pipfile_lock`]: `default` and `develop` (dev) objects; `version` is `==V`.
//!   A name in both sections is reported once, as non-dev. Entries without a version (git,
//!   path) are skipped.
//! * [`parse_uv_lock`]: `[[package]]`; packages whose `source` is `editable` or `virtual`
//!   are the project (application). Dev: packages reachable from a project's
//!   `dev-dependencies` but not from its `dependencies`/`optional-dependencies`
//!   (following every package's `dependencies` and `optional-dependencies` by name).
//!   Packages without a version are skipped.
//!
//! Nothing panics; input sizes are bounded by the caller's bytes, output by [`MAX_PACKAGES`].

use std::collections::{BTreeMap, BTreeSet};

use crate::{Ecosystem, LangPackage, LangParsed};

/// Upper bound on packages returned from one file.
pub const MAX_PACKAGES: usize = 100_000;
/// Upper bound on files listed from one RECORD.
pub const MAX_FILES: usize = 500_000;

fn decode_text(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xff, 0xfe]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    String::from_utf8_lossy(bytes).into_owned()
}

fn pkg(name: &str, version: &str) -> LangPackage {
    LangPackage::new(Ecosystem::PyPI, name, version)
}

/// The directory part of a relative path (`""` when none).
fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

fn last_component(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn ends_with_ci(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len()
        && s.is_char_boundary(s.len() - suffix.len())
        && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// Absolute form of a relative path (`/` prefixed, `.`/`..`/empty components resolved).
fn absolute(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    for p in parts {
        out.push('/');
        out.push_str(p);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// PEP 508 project name: ASCII letters/digits, `.`, `_`, `-` inside, alphanumeric ends.
fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 256
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

/// A plain version (no wildcard, no whitespace, no quoting or templating).
fn valid_version(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 256
        && v.bytes().any(|c| c.is_ascii_digit())
        && v.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'+' | b'!'))
}

// ---------------------------------------------------------------------------------------------
// METADATA / PKG-INFO

/// Header block of an RFC 822 style document: (lower-case key, value) in order.
fn parse_headers(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut()
                && last.1.len() < 1 << 20
            {
                last.1.push('\n');
                last.1.push_str(line.trim());
            }
            continue;
        }
        match line.split_once(':') {
            Some((k, v)) if !k.is_empty() && !k.contains([' ', '\t']) => {
                out.push((k.to_ascii_lowercase(), v.trim().to_string()));
            }
            // Not a header: the header block ends here (Python's email parser does the same).
            _ => break,
        }
    }
    out
}

/// The project name of a `Requires-Dist` value.
fn requirement_name(req: &str) -> Option<&str> {
    let end = req
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .unwrap_or(req.len());
    let name = &req[..end];
    valid_name(name).then_some(name)
}

/// Parses `*.dist-info/METADATA`, `*.egg-info/PKG-INFO` or a single-file `*.egg-info`.
pub fn parse_metadata(path: &str, bytes: &[u8]) -> LangParsed {
    let text = decode_text(bytes);
    let headers = parse_headers(&text);
    let first = |key: &str| {
        headers
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let name = first("name").unwrap_or("").trim();
    let version = first("version").unwrap_or("").trim();
    if name.is_empty() || version.is_empty() || name.contains('\n') || version.contains('\n') {
        return LangParsed::warning(format!("{path}: no Name and Version headers"));
    }
    let mut p = pkg(name, version);
    let mut licenses: Vec<String> = Vec::new();
    if let Some(expr) = first("license-expression").filter(|e| !e.is_empty()) {
        licenses.push(expr.to_string());
    } else {
        if let Some(lic) = first("license") {
            let lic = lic.trim();
            if !lic.is_empty()
                && !lic.contains('\n')
                && lic.len() <= 200
                && !lic.eq_ignore_ascii_case("UNKNOWN")
            {
                licenses.push(lic.to_string());
            }
        }
        for (k, v) in &headers {
            if k != "classifier" {
                continue;
            }
            if let Some(l) = v.strip_prefix("License :: OSI Approved :: ") {
                let l = l.trim();
                if !l.is_empty() && !licenses.iter().any(|x| x == l) {
                    licenses.push(l.to_string());
                }
            }
        }
    }
    p.licenses = licenses;
    for (k, v) in &headers {
        if k == "requires-dist"
            && let Some(n) = requirement_name(v.trim())
            && !p.depends.iter().any(|d| d == n)
        {
            p.depends.push(n.to_string());
        }
    }
    let dir = parent_dir(path);
    if ends_with_ci(last_component(dir), ".dist-info") {
        p.metadata.insert("dist_dir".into(), absolute(dir));
    }
    LangParsed {
        packages: vec![p],
        warnings: Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// RECORD

/// First field of every CSV row (RFC 4180 quoting, `""` escapes a quote).
fn csv_first_fields(text: &str, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut col = 0usize;
    let mut in_quotes = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    if col == 0 {
                        field.push('"');
                    }
                } else {
                    in_quotes = false;
                }
            } else if col == 0 {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' => in_quotes = true,
            ',' => col += 1,
            '\n' => {
                if !field.is_empty() {
                    if out.len() >= limit {
                        return out;
                    }
                    out.push(std::mem::take(&mut field));
                }
                field.clear();
                col = 0;
            }
            '\r' => {}
            c if col == 0 => field.push(c),
            _ => {}
        }
    }
    if !field.is_empty() && out.len() < limit {
        out.push(field);
    }
    out
}

/// `name-version` of a dist-info directory name without the suffix.
fn split_name_version(stem: &str) -> Option<(&str, &str)> {
    let bytes = stem.as_bytes();
    let idx = (0..bytes.len()).find(|&i| {
        bytes[i] == b'-' && i > 0 && bytes.get(i + 1).is_some_and(|c| c.is_ascii_digit())
    })?;
    let (n, v) = (&stem[..idx], &stem[idx + 1..]);
    (!n.is_empty() && !v.is_empty()).then_some((n, v))
}

/// Parses `*.dist-info/RECORD` into one `record_only` package carrying the file list.
pub fn parse_record(path: &str, bytes: &[u8]) -> LangParsed {
    let dist_dir = parent_dir(path);
    let dir_name = last_component(dist_dir);
    if !ends_with_ci(dir_name, ".dist-info") {
        return LangParsed::warning(format!("{path}: RECORD outside a *.dist-info directory"));
    }
    let stem = &dir_name[..dir_name.len() - ".dist-info".len()];
    let Some((name, version)) = split_name_version(stem) else {
        return LangParsed::warning(format!(
            "{path}: cannot read name and version from {dir_name}"
        ));
    };
    let site = parent_dir(dist_dir);
    // `pip install --target DIR` installs with the home scheme into a temporary directory
    // (purelib `home/lib/python`, scripts `home/bin`) and then moves both into DIR, so its
    // RECORD lists scripts as `../../bin/x` although they end up in `DIR/bin/x`. In the
    // prefix scheme (`.../lib/pythonX.Y/{site,dist}-packages`) scripts are three levels up,
    // so a `../../bin/` entry there can only come from such a `--target` install.
    let prefix_scheme = last_component(site).ends_with("-packages")
        && last_component(parent_dir(site)).starts_with("python");
    let text = decode_text(bytes);
    let mut p = pkg(name, version);
    let mut target_layout = false;
    for f in csv_first_fields(&text, MAX_FILES) {
        let f = f.trim();
        if f.is_empty() {
            continue;
        }
        let abs = if f.starts_with('/') {
            absolute(f)
        } else if let Some(script) = f.strip_prefix("../../bin/").filter(|_| prefix_scheme) {
            target_layout = true;
            absolute(&format!("{site}/bin/{script}"))
        } else {
            absolute(&format!("{site}/{f}"))
        };
        p.files.push(abs);
    }
    if target_layout {
        p.metadata.insert("layout".into(), "pip-target".into());
    }
    p.metadata.insert("record_only".into(), "true".into());
    p.metadata.insert("dist_dir".into(), absolute(dist_dir));
    LangParsed {
        packages: vec![p],
        warnings: Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// requirements.txt

/// Logical lines: continuations joined, comments removed, blank lines dropped.
fn logical_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for raw in text.lines() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let (line, continued) = match raw.strip_suffix('\\') {
            Some(l) => (l, true),
            None => (raw, false),
        };
        if cur.len() < 1 << 20 {
            cur.push_str(line);
            cur.push(' ');
        }
        if !continued {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out.into_iter()
        .map(|l| match l.find('#') {
            Some(i) => l[..i].trim().to_string(),
            None => l.trim().to_string(),
        })
        .filter(|l| !l.is_empty())
        .collect()
}

/// Parses a pip requirements file: exact pins only.
pub fn parse_requirements(path: &str, bytes: &[u8]) -> LangParsed {
    let text = decode_text(bytes);
    let mut out = LangParsed::default();
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    for line in logical_lines(&text) {
        if out.packages.len() >= MAX_PACKAGES {
            out.warnings.push(format!("{path}: too many requirements"));
            break;
        }
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
                    out.warnings
                        .push(format!("{path}: unclosed extras in {line:?}"));
                    continue;
                }
            }
        }
        if rest.starts_with('@') {
            continue; // name @ url
        }
        if rest.is_empty() {
            if !valid_name(name) {
                out.warnings.push(format!("{path}: cannot read {line:?}"));
            }
            continue; // unpinned
        }
        if !valid_name(name) || !rest.starts_with(['=', '<', '>', '!', '~']) {
            out.warnings.push(format!("{path}: cannot read {line:?}"));
            continue;
        }
        let mut pinned: Option<&str> = None;
        let mut bad = false;
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
                    bad = true;
                } else if pinned.is_none() {
                    pinned = Some(v);
                }
            }
        }
        if bad {
            out.warnings
                .push(format!("{path}: invalid version in {line:?}"));
            continue;
        }
        let Some(version) = pinned else { continue };
        if !seen.insert((moat_model::pep503_name(name), version.to_string())) {
            continue; // the same pin twice (e.g. `django==1` and `Django==1`)
        }
        let mut p = pkg(name, version);
        if let Some(m) = marker.filter(|m| !m.is_empty()) {
            p.metadata.insert("marker".into(), m.to_string());
        }
        if !extras.is_empty() {
            p.metadata.insert("extras".into(), extras);
        }
        if !hashes.is_empty() {
            p.metadata.insert("hashes".into(), hashes.join(","));
        }
        out.packages.push(p);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// poetry.lock

fn toml_doc(path: &str, bytes: &[u8]) -> Result<toml::Table, LangParsed> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| LangParsed::warning(format!("{path}: not UTF-8")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.parse::<toml::Table>()
        .map_err(|e| LangParsed::warning(format!("{path}: invalid TOML: {}", e.message())))
}

fn toml_str<'a>(t: &'a toml::Table, key: &str) -> Option<&'a str> {
    t.get(key).and_then(|v| v.as_str())
}

/// Parses `poetry.lock` (lock versions 1.x and 2.x).
pub fn parse_poetry_lock(path: &str, bytes: &[u8]) -> LangParsed {
    let doc = match toml_doc(path, bytes) {
        Ok(d) => d,
        Err(w) => return w,
    };
    let mut out = LangParsed::default();
    let Some(list) = doc.get("package").and_then(|v| v.as_array()) else {
        return out;
    };
    for entry in list {
        if out.packages.len() >= MAX_PACKAGES {
            out.warnings.push(format!("{path}: too many packages"));
            break;
        }
        let Some(t) = entry.as_table() else { continue };
        let (Some(name), Some(version)) = (toml_str(t, "name"), toml_str(t, "version")) else {
            out.warnings
                .push(format!("{path}: [[package]] without name or version"));
            continue;
        };
        let mut p = pkg(name, version);
        let category_dev = toml_str(t, "category") == Some("dev");
        let groups_dev = t
            .get("groups")
            .and_then(|g| g.as_array())
            .is_some_and(|g| !g.is_empty() && !g.iter().any(|x| x.as_str() == Some("main")));
        p.dev = category_dev || groups_dev;
        if let Some(deps) = t.get("dependencies").and_then(|d| d.as_table()) {
            p.depends = deps.keys().cloned().collect();
        }
        if t.get("optional").and_then(|o| o.as_bool()) == Some(true) {
            p.metadata.insert("optional".into(), "true".into());
        }
        if let Some(src) = t.get("source").and_then(|s| s.as_table()) {
            if let Some(ty) = toml_str(src, "type") {
                p.metadata.insert("source".into(), ty.to_string());
            }
            if let Some(url) = toml_str(src, "url") {
                p.metadata.insert("source_url".into(), url.to_string());
            }
        }
        out.packages.push(p);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Pipfile.lock

/// Parses `Pipfile.lock` (JSON).
pub fn parse_pipfile_lock(path: &str, bytes: &[u8]) -> LangParsed {
    let doc: serde_json::Value = match serde_json::from_slice(bytes) {
        Ok(d) => d,
        Err(e) => return LangParsed::warning(format!("{path}: invalid JSON: {e}")),
    };
    let mut out = LangParsed::default();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for (section, dev) in [("default", false), ("develop", true)] {
        let Some(obj) = doc.get(section).and_then(|s| s.as_object()) else {
            continue;
        };
        for (name, info) in obj {
            if out.packages.len() >= MAX_PACKAGES {
                out.warnings.push(format!("{path}: too many packages"));
                return out;
            }
            let Some(v) = info.get("version").and_then(|v| v.as_str()) else {
                continue; // git / path / editable entries carry no version
            };
            let v = v
                .trim()
                .strip_prefix("===")
                .or_else(|| v.trim().strip_prefix("=="))
                .unwrap_or(v.trim());
            if v.is_empty() || !seen.insert(name.clone()) {
                continue;
            }
            let mut p = pkg(name, v);
            p.dev = dev;
            if let Some(m) = info.get("markers").and_then(|m| m.as_str()) {
                p.metadata.insert("marker".into(), m.to_string());
            }
            out.packages.push(p);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// uv.lock

fn dep_names(v: Option<&toml::Value>, into: &mut Vec<String>) {
    let Some(arr) = v.and_then(|v| v.as_array()) else {
        return;
    };
    for d in arr {
        if let Some(n) = d.as_table().and_then(|t| toml_str(t, "name")) {
            into.push(n.to_string());
        }
    }
}

/// `dependencies` of a table-of-groups value (`optional-dependencies`, `dev-dependencies`).
fn group_dep_names(v: Option<&toml::Value>, into: &mut Vec<String>) {
    if let Some(t) = v.and_then(|v| v.as_table()) {
        for g in t.values() {
            dep_names(Some(g), into);
        }
    }
}

/// Parses `uv.lock`.
pub fn parse_uv_lock(path: &str, bytes: &[u8]) -> LangParsed {
    let doc = match toml_doc(path, bytes) {
        Ok(d) => d,
        Err(w) => return w,
    };
    let mut out = LangParsed::default();
    let Some(list) = doc.get("package").and_then(|v| v.as_array()) else {
        return out;
    };
    // name -> (runtime edges, dev edges from this package)
    let mut edges: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut roots: Vec<&toml::Table> = Vec::new();
    let mut entries: Vec<&toml::Table> = Vec::new();
    for entry in list.iter().take(MAX_PACKAGES) {
        let Some(t) = entry.as_table() else { continue };
        let Some(name) = toml_str(t, "name") else {
            out.warnings
                .push(format!("{path}: [[package]] without name"));
            continue;
        };
        let mut deps = Vec::new();
        dep_names(t.get("dependencies"), &mut deps);
        group_dep_names(t.get("optional-dependencies"), &mut deps);
        edges.entry(name.to_string()).or_default().extend(deps);
        let is_root = t
            .get("source")
            .and_then(|s| s.as_table())
            .is_some_and(|s| s.contains_key("editable") || s.contains_key("virtual"));
        if is_root {
            roots.push(t);
        }
        entries.push(t);
    }
    let reach = |starts: Vec<String>| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = starts;
        while let Some(n) = stack.pop() {
            if seen.insert(n.clone())
                && let Some(next) = edges.get(&n)
            {
                stack.extend(next.iter().cloned());
            }
        }
        seen
    };
    let root_names: BTreeSet<&str> = roots.iter().filter_map(|t| toml_str(t, "name")).collect();
    let mut prod_starts = Vec::new();
    let mut dev_starts = Vec::new();
    for r in &roots {
        dep_names(r.get("dependencies"), &mut prod_starts);
        group_dep_names(r.get("optional-dependencies"), &mut prod_starts);
        group_dep_names(r.get("dev-dependencies"), &mut dev_starts);
    }
    let prod = reach(prod_starts);
    let dev = reach(dev_starts);
    for t in entries {
        let name = toml_str(t, "name").unwrap_or_default();
        let Some(version) = toml_str(t, "version") else {
            continue; // virtual workspace members may have no version
        };
        let mut p = pkg(name, version);
        if root_names.contains(name) {
            p.application = true;
        } else {
            p.dev = dev.contains(name) && !prod.contains(name);
        }
        let mut deps = Vec::new();
        dep_names(t.get("dependencies"), &mut deps);
        deps.dedup();
        p.depends = deps;
        if let Some(src) = t.get("source").and_then(|s| s.as_table())
            && let Some((k, v)) = src.iter().next()
        {
            p.metadata.insert("source".into(), k.clone());
            if let Some(v) = v.as_str() {
                p.metadata.insert("source_url".into(), v.to_string());
            }
        }
        out.packages.push(p);
    }
    out
}

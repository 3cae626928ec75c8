//! [`parse_metadata`]: `*.dist-info/METADATA`, `*.egg-info/PKG-INFO` and single-file
//! `*.egg-info`. RFC 822 style headers (continuation lines start with a space or tab; the
//! header block ends at the first empty line or at the first line that is neither a header
//! nor a continuation, as Python's `email` parser does). Repeated single-valued headers keep
//! the first value. One package: `Name` as written, `Version`, licenses (`License-Expression`,
//! else a one-line `License` other than `UNKNOWN`, then the `X` of every
//! `Classifier: License :: OSI Approved :: X`), `Requires-Dist` names (extras, markers and
//! version specifiers stripped). Metadata `dist_dir` holds the absolute dist-info directory
//! when the file sits in a `*.dist-info` directory (the engine joins the `RECORD` on it).
//!
//! A file without one-line `Name` and `Version` headers is one `parse-error`.

use moat_model::Diagnostic;

use super::{absolute, last_component, parent_dir, pkg, valid_name};
use crate::{LangParsed, read};

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
    let text = read::decode_lossy(bytes);
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
        return Diagnostic::parse("no Name and Version headers").into();
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
    if read::ends_with_ci(last_component(dir), ".dist-info") {
        p.metadata.insert("dist_dir".into(), absolute(dir).into());
    }
    LangParsed::one(p)
}

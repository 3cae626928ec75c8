//! [`parse_gemspec`]: the Ruby file rubygems writes for an installed gem. No Ruby is
//! evaluated: a line parser reads `<var>.name = "x"`, `<var>.version = "1.0"` (string
//! literals `"..."`, `'...'`, `%q{...}` and friends, with or without `.freeze`),
//! `<var>.licenses = [...]` / `<var>.license = "..."` and `add_dependency` /
//! `add_runtime_dependency` names (development dependencies are left out). A missing name
//! or version falls back to the `# stub: name version platform` comment.
//!
//! A file that gives neither a name and version nor a stub line is one `parse-error`.

use moat_model::Diagnostic;

use super::text_of;
use crate::{Ecosystem, LangPackage, LangParsed};

/// A Ruby string literal at the start of `s`: its value and the rest after it.
fn ruby_string(s: &str) -> Option<(String, &str)> {
    let s = s.trim_start();
    let (open, close, body) = if let Some(r) = s.strip_prefix('"') {
        ('"', '"', r)
    } else if let Some(r) = s.strip_prefix('\'') {
        ('\'', '\'', r)
    } else if let Some(r) = s.strip_prefix("%q").or_else(|| s.strip_prefix("%Q")) {
        let mut cs = r.chars();
        let o = cs.next()?;
        let c = match o {
            '{' => '}',
            '<' => '>',
            '(' => ')',
            '[' => ']',
            x if x.is_ascii_punctuation() => x,
            _ => return None,
        };
        (o, c, cs.as_str())
    } else {
        return None;
    };
    let _ = open;
    let mut val = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        if c == '\\' {
            if let Some((_, n)) = chars.next() {
                match n {
                    'n' => val.push('\n'),
                    't' => val.push('\t'),
                    other => val.push(other),
                }
            }
        } else if c == close {
            let rest = &body[i + c.len_utf8()..];
            let rest = rest.strip_prefix(".freeze").unwrap_or(rest);
            return Some((val, rest));
        } else {
            val.push(c);
        }
    }
    None
}

/// String literals of a `[...]` array (or a single literal).
fn ruby_strings(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let s = s.trim_start();
    let mut rest = s.strip_prefix('[').unwrap_or(s);
    while let Some((v, r)) = ruby_string(rest) {
        out.push(v);
        let r = r.trim_start();
        match r.strip_prefix(',') {
            Some(r) => rest = r,
            None => break,
        }
        if out.len() > 1000 {
            break;
        }
    }
    out
}

/// The value of `<var>.<attr> = ...` on a line, if the line assigns that attribute.
fn assignment<'a>(line: &'a str, attr: &str) -> Option<&'a str> {
    let (lhs, rhs) = line.split_once('=')?;
    let lhs = lhs.trim();
    let (var, a) = lhs.rsplit_once('.')?;
    if a != attr || var.is_empty() || !var.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    // `==` is a comparison, not an assignment.
    (!rhs.starts_with('=')).then_some(rhs)
}

/// Parses an installed gem's `specifications/*.gemspec`.
pub fn parse_gemspec(_path: &str, bytes: &[u8]) -> LangParsed {
    let text = text_of(bytes);
    let mut name: Option<String> = None;
    let mut version: Option<String> = None;
    let mut stub: Option<(String, String)> = None;
    let mut licenses: Vec<String> = Vec::new();
    let mut depends: Vec<String> = Vec::new();
    for raw in text.lines() {
        let line = raw.trim();
        if let Some(s) = line.strip_prefix("# stub:") {
            let mut it = s.split_whitespace();
            if let (Some(n), Some(v)) = (it.next(), it.next()) {
                stub = Some((n.to_string(), v.to_string()));
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if name.is_none()
            && let Some((v, _)) = assignment(line, "name").and_then(ruby_string)
        {
            name = Some(v);
            continue;
        }
        if version.is_none()
            && let Some(rhs) = assignment(line, "version")
        {
            let rhs = rhs.trim_start();
            let rhs = rhs.strip_prefix("Gem::Version.new(").unwrap_or(rhs);
            if let Some((v, _)) = ruby_string(rhs) {
                version = Some(v);
                continue;
            }
        }
        if let Some(rhs) = assignment(line, "licenses").or_else(|| assignment(line, "license")) {
            for l in ruby_strings(rhs) {
                if !l.is_empty() && !licenses.contains(&l) {
                    licenses.push(l);
                }
            }
            continue;
        }
        for call in ["add_runtime_dependency", "add_dependency"] {
            let Some(i) = line.find(&format!(".{call}")) else {
                continue;
            };
            let rest = &line[i + call.len() + 1..];
            let rest = rest.trim_start();
            let rest = rest.strip_prefix('(').unwrap_or(rest);
            if let Some((d, _)) = ruby_string(rest)
                && !d.is_empty()
                && !depends.contains(&d)
                && depends.len() < 10_000
            {
                depends.push(d);
            }
            break;
        }
    }
    let (stub_name, stub_version) = match stub {
        Some((n, v)) => (Some(n), Some(v)),
        None => (None, None),
    };
    let name = name.or(stub_name).filter(|n| !n.trim().is_empty());
    let version = version.or(stub_version).filter(|v| !v.trim().is_empty());
    let (Some(name), Some(version)) = (name, version) else {
        return Diagnostic::parse("no gem name and version").into();
    };
    let mut p = LangPackage::new(Ecosystem::RubyGems, name, version);
    p.licenses = licenses;
    p.depends = depends;
    LangParsed::one(p)
}

//! # Ruby: `Gemfile.lock` and installed `specifications/*.gemspec`
//!
//! * [`parse_gemfile_lock`]: the `GEM`, `GIT` and `PATH` sections (and `PLUGIN SOURCE`):
//!   inside their `specs:` block, every 4-space indented `name (version)` line is a gem and
//!   the 6-space indented lines under it are its dependencies. A platform suffix on the
//!   version (`1.13.10-x86_64-linux`, `-java`, ...) is stripped into metadata `platform`; a gem
//!   locked for several platforms at the same version is reported once with the platforms
//!   joined by `,`. Metadata `source` is `gem`, `git` or `path` (and `remote`/`revision`
//!   where given). `PLATFORMS`, `DEPENDENCIES`, `RUBY VERSION` and `BUNDLED WITH` are not
//!   packages. Gemfile.lock does not say which gems are development-only.
//! * [`parse_gemspec`]: the Ruby file rubygems writes for an installed gem. No Ruby is
//!   evaluated: a line parser reads `<var>.name = "x"`, `<var>.version = "1.0"` (string
//!   literals `"..."`, `'...'`, `%q{...}` and friends, with or without `.freeze`),
//!   `<var>.licenses = [...]` / `<var>.license = "..."` and `add_dependency` /
//!   `add_runtime_dependency` names (development dependencies are left out). A missing name
//!   or version falls back to the `# stub: name version platform` comment.

use crate::{Ecosystem, LangPackage, LangParsed};

/// Upper bound on packages returned from one file.
pub const MAX_PACKAGES: usize = 100_000;

fn text_of(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    String::from_utf8_lossy(bytes).into_owned()
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// `name (version)` or `name` of a specs line (already trimmed).
fn name_and_paren(s: &str) -> (&str, Option<&str>) {
    match s.split_once(" (") {
        Some((n, rest)) => (
            n.trim(),
            Some(rest.strip_suffix(')').unwrap_or(rest).trim()),
        ),
        None => (s.trim(), None),
    }
}

fn split_platform(v: &str) -> (&str, Option<&str>) {
    match v.split_once('-') {
        Some((ver, plat)) if !ver.is_empty() && !plat.is_empty() => (ver, Some(plat)),
        _ => (v, None),
    }
}

/// Parses a `Gemfile.lock` (or `gems.locked`).
pub fn parse_gemfile_lock(path: &str, bytes: &[u8]) -> LangParsed {
    let text = text_of(bytes);
    let mut out = LangParsed::default();
    let mut source: Option<&'static str> = None;
    let mut remote: Option<String> = None;
    let mut revision: Option<String> = None;
    let mut in_specs = false;
    // Index into out.packages of the gem whose dependency lines follow.
    let mut current: Option<usize> = None;
    for raw in text.lines() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            continue;
        }
        let ind = indent(line);
        let body = line.trim();
        if ind == 0 {
            source = match body {
                "GEM" => Some("gem"),
                "GIT" => Some("git"),
                "PATH" => Some("path"),
                "PLUGIN SOURCE" => Some("plugin"),
                _ => None,
            };
            remote = None;
            revision = None;
            in_specs = false;
            current = None;
            continue;
        }
        let Some(src) = source else { continue };
        if ind == 2 {
            current = None;
            in_specs = body == "specs:";
            if let Some(r) = body.strip_prefix("remote:") {
                remote = Some(r.trim().to_string());
            } else if let Some(r) = body.strip_prefix("revision:") {
                revision = Some(r.trim().to_string());
            }
            continue;
        }
        if !in_specs {
            continue;
        }
        if ind == 4 {
            current = None;
            let (name, ver) = name_and_paren(body);
            let Some(ver) = ver.filter(|v| !v.is_empty() && !name.is_empty()) else {
                out.warnings
                    .push(format!("{path}: cannot read spec line {body:?}"));
                continue;
            };
            let (version, platform) = split_platform(ver);
            if let Some(i) = out
                .packages
                .iter()
                .position(|p| p.name == name && p.version == version)
            {
                if let Some(plat) = platform {
                    let e = out.packages[i]
                        .metadata
                        .entry("platform".into())
                        .or_default();
                    if !e.split(',').any(|x| x == plat) {
                        if !e.is_empty() {
                            e.push(',');
                        }
                        e.push_str(plat);
                    }
                }
                current = Some(i);
                continue;
            }
            if out.packages.len() >= MAX_PACKAGES {
                out.warnings.push(format!("{path}: too many gems"));
                break;
            }
            let mut p = LangPackage::new(Ecosystem::RubyGems, name, version);
            p.metadata.insert("source".into(), src.into());
            if let Some(plat) = platform {
                p.metadata.insert("platform".into(), plat.into());
            }
            if let Some(r) = &remote {
                p.metadata.insert("remote".into(), r.clone());
            }
            if let Some(r) = &revision {
                p.metadata.insert("revision".into(), r.clone());
            }
            out.packages.push(p);
            current = Some(out.packages.len() - 1);
        } else if ind >= 6
            && let Some(i) = current
        {
            {
                let (dep, _) = name_and_paren(body);
                let p = &mut out.packages[i];
                if !dep.is_empty() && !p.depends.iter().any(|d| d == dep) {
                    p.depends.push(dep.to_string());
                }
            }
        }
    }
    out
}

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
pub fn parse_gemspec(path: &str, bytes: &[u8]) -> LangParsed {
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
        return LangParsed::warning(format!("{path}: no gem name and version"));
    };
    let mut p = LangPackage::new(Ecosystem::RubyGems, name, version);
    p.licenses = licenses;
    p.depends = depends;
    LangParsed {
        packages: vec![p],
        warnings: Vec::new(),
    }
}

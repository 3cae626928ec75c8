//! `yarn.lock` v1: yarn's own indented syntax, read line by line.
//!
//! An entry starts at an unindented key line (`"a@^1", a@^2:`); its two-space indented
//! `version` line gives the version and its `dependencies:` / `optionalDependencies:` blocks
//! (four spaces) the dependency names. An entry without a version is a `parse-error` at the
//! line of its key.

use moat_model::Diagnostic;

use super::yarn::{spec_name, split_specs, unquote};
use super::{dep_target_name, pkg};
use crate::{LangParsed, read};

/// Splits a yarn v1 line `key value` (either may be quoted) at the first unquoted space.
fn v1_key_value(line: &str) -> (&str, &str) {
    let line = line.trim();
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ' ' | ':' if !quoted => {
                let rest = line[i + 1..].trim_start_matches(':').trim();
                return (unquote(&line[..i]), unquote(rest));
            }
            _ => {}
        }
    }
    (unquote(line.trim_end_matches(':')), "")
}

pub(super) fn parse(text: &str) -> LangParsed {
    struct Entry {
        line: usize,
        specs: Vec<String>,
        version: Option<String>,
        depends: Vec<String>,
    }
    let mut out = LangParsed::default();
    let mut entries: Vec<Entry> = Vec::new();
    let mut in_deps = false;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim_end();
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        if indent == 0 {
            in_deps = false;
            let header = line.strip_suffix(':').unwrap_or(line);
            let specs = split_specs(header);
            entries.push(Entry {
                line: n + 1,
                specs,
                version: None,
                depends: Vec::new(),
            });
            continue;
        }
        let Some(entry) = entries.last_mut() else {
            continue;
        };
        if indent <= 2 {
            let (k, v) = v1_key_value(line);
            in_deps = false;
            match k {
                "version" => entry.version = Some(v.to_string()),
                "dependencies" | "optionalDependencies" if v.is_empty() => in_deps = true,
                _ => {}
            }
        } else if in_deps {
            let (k, v) = v1_key_value(line);
            let target = dep_target_name(k, v).to_string();
            if !entry.depends.contains(&target) {
                entry.depends.push(target);
            }
        }
    }
    for e in entries {
        let Some(first) = e.specs.first() else {
            continue;
        };
        let (name, alias, _) = spec_name(first);
        let Some(version) = e.version else {
            out.warn(
                Diagnostic::parse(format!("{name}: entry without version"))
                    .line(read::line_no(e.line)),
            );
            continue;
        };
        let mut p = pkg(&name, &version);
        if let Some(a) = alias {
            p.metadata.insert("alias".into(), a.into());
        }
        p.depends = e.depends;
        p.depends.sort();
        out.packages.push(p);
    }
    out
}

//! [`parse_gemfile_lock`]: the `GEM`, `GIT` and `PATH` sections (and `PLUGIN SOURCE`):
//! inside their `specs:` block, every 4-space indented `name (version)` line is a gem and
//! the 6-space indented lines under it are its dependencies. A platform suffix on the
//! version (`1.13.10-x86_64-linux`, `-java`, ...) is stripped into metadata `platform`; a gem
//! locked for several platforms at the same version is reported once with the platforms
//! joined by `,`. Metadata `source` is `gem`, `git` or `path` (and `remote`/`revision`
//! where given). `PLATFORMS`, `DEPENDENCIES`, `RUBY VERSION` and `BUNDLED WITH` are not
//! packages. Gemfile.lock does not say which gems are development-only.
//!
//! A spec line that is not `name (version)` is a `parse-error` at its line and is skipped.

use moat_model::Diagnostic;

use super::{MAX_PACKAGES, text_of};
use crate::{Ecosystem, LangPackage, LangParsed, read};

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
pub fn parse_gemfile_lock(_path: &str, bytes: &[u8]) -> LangParsed {
    let text = text_of(bytes);
    let mut out = LangParsed::default();
    let mut source: Option<&'static str> = None;
    let mut remote: Option<String> = None;
    let mut revision: Option<String> = None;
    let mut in_specs = false;
    // Index into out.packages of the gem whose dependency lines follow.
    let mut current: Option<usize> = None;
    for (n, raw) in text.lines().enumerate() {
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
                let msg = format!("cannot read spec line {body:?}");
                out.warn(Diagnostic::parse(msg).line(read::line_no(n + 1)));
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
                        *e = if e.is_empty() {
                            plat.into()
                        } else {
                            format!("{e},{plat}").into()
                        };
                    }
                }
                current = Some(i);
                continue;
            }
            if out.packages.len() >= MAX_PACKAGES {
                out.warn(read::too_many("gems").line(read::line_no(n + 1)));
                break;
            }
            let mut p = LangPackage::new(Ecosystem::RubyGems, name, version);
            p.metadata.insert("source".into(), src.into());
            if let Some(plat) = platform {
                p.metadata.insert("platform".into(), plat.into());
            }
            if let Some(r) = &remote {
                p.metadata.insert("remote".into(), r.clone().into());
            }
            if let Some(r) = &revision {
                p.metadata.insert("revision".into(), r.clone().into());
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

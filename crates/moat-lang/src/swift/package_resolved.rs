//! [`parse_package_resolved`]: SwiftPM's `Package.resolved`, versions 1 to 3 (JSON).
//!
//! * v1: `object.pins[]` with `package`, `repositoryURL` and `state` (`version`,
//!   `revision`, `branch`);
//! * v2 and v3 (v3 adds `originHash`): `pins[]` with `identity`, `kind`
//!   (`remoteSourceControl`, `localSourceControl`, `registry`), `location` and `state`.
//!
//! A pin with a `version` is a package named by its repository URL ([`swift_url_name`]:
//! `https://github.com/apple/swift-nio.git` is `github.com/apple/swift-nio`), with
//! `metadata["revision"]`. Pins without a version (a branch or a bare revision, a local
//! package) have nothing to match and are left out, counted in one `unsupported`
//! diagnostic; so are registry pins (named `scope.name`, not by URL). A document that is
//! not JSON is one `parse-error` with its line.

use serde_json::Value;

use crate::read::{self, MAX_PACKAGES};
use crate::{Ecosystem, LangPackage, LangParsed};

/// Largest `Package.resolved` read.
const MAX_BYTES: usize = 16 << 20;

/// The SwiftURL name of a repository URL: no scheme, user, `.git` or trailing `/`
/// (`git@github.com:a/b.git` and `ssh://git@github.com/a/b` are `github.com/a/b`).
pub fn swift_url_name(url: &str) -> String {
    let mut s = url.trim();
    if let Some((_, rest)) = s.split_once("://") {
        s = rest;
    }
    if let Some((user, rest)) = s.split_once('@')
        && !user.contains('/')
    {
        s = rest;
    }
    let s = s.trim_end_matches('/');
    let s = s.strip_suffix(".git").unwrap_or(s);
    // scp-like `host:path`
    match s.split_once(':') {
        Some((host, path))
            if !host.contains('/') && !path.starts_with(|c: char| c.is_ascii_digit()) =>
        {
            format!("{host}/{path}")
        }
        _ => s.to_string(),
    }
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Parses a `Package.resolved`.
pub fn parse_package_resolved(_path: &str, bytes: &[u8]) -> LangParsed {
    let doc = match read::json_object_within(bytes, MAX_BYTES, "Package.resolved") {
        Ok(d) => d,
        Err(d) => return d.into(),
    };
    let format = doc.get("version").and_then(Value::as_u64).unwrap_or(0);
    let pins = doc
        .get("pins")
        .or_else(|| doc.get("object").and_then(|o| o.get("pins")))
        .and_then(Value::as_array);
    let mut out = LangParsed::default();
    let mut skipped: Vec<String> = Vec::new();
    for pin in pins.into_iter().flatten() {
        if out.packages.len() >= MAX_PACKAGES {
            out.warn(read::too_many("pins"));
            break;
        }
        let label = text(pin, "identity")
            .or_else(|| text(pin, "package"))
            .unwrap_or("?")
            .to_string();
        let url = text(pin, "location").or_else(|| text(pin, "repositoryURL"));
        let state = pin.get("state").unwrap_or(&Value::Null);
        let version = text(state, "version");
        let registry = text(pin, "kind") == Some("registry");
        let (Some(url), Some(version), false) = (url, version, registry) else {
            skipped.push(label);
            continue;
        };
        let mut p = LangPackage::new(Ecosystem::SwiftURL, swift_url_name(url), version);
        if let Some(r) = text(state, "revision") {
            p.metadata.insert("revision".into(), r.to_string().into());
        }
        if format > 0 {
            p.metadata
                .insert("lockfile_version".into(), format.to_string().into());
        }
        out.packages.push(p);
    }
    out.warnings.extend(read::left_out(
        "pins without a version to match (a branch, a revision, a local or registry package) left out",
        &skipped,
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_names() {
        for (url, want) in [
            (
                "https://github.com/apple/swift-nio.git",
                "github.com/apple/swift-nio",
            ),
            (
                "https://github.com/apple/swift-nio",
                "github.com/apple/swift-nio",
            ),
            (
                "git@github.com:apple/swift-nio.git",
                "github.com/apple/swift-nio",
            ),
            (
                "ssh://git@github.com/apple/swift-nio.git/",
                "github.com/apple/swift-nio",
            ),
            (
                "https://gitlab.example.com:8443/team/pkg.git",
                "gitlab.example.com:8443/team/pkg",
            ),
        ] {
            assert_eq!(swift_url_name(url), want, "{url}");
        }
    }
}

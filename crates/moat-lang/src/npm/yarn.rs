//! [`parse_yarn_lock`]: `yarn.lock`, yarn v1 (its own indented syntax, parsed line by line here) and
//! yarn berry (YAML with `__metadata`). The name comes from the entry key (berry: from
//! `resolution` when present), scoped names handled; `alias@npm:real@range` keys give the
//! real name with `metadata["alias"]`. Workspace entries (`@workspace:`) are applications.
//! Identical (name, version) pairs are reported once. Yarn lockfiles carry no dev flag.//!
//! This file tells the two formats apart (a berry lockfile has a `__metadata` key) and holds
//! what both need: splitting an entry key into its specifiers and a specifier into name,
//! alias and range. `yarn_v1.rs` and `yarn_berry.rs` read the entries.

use super::{dedupe, split_name_at, yarn_berry, yarn_v1};
use crate::{LangParsed, read};

/// Parses `yarn.lock`, v1 or berry.
pub fn parse_yarn_lock(_path: &str, bytes: &[u8]) -> LangParsed {
    let text = match read::utf8(bytes) {
        Ok(t) => t,
        Err(d) => return d.into(),
    };
    let berry = text
        .lines()
        .any(|l| l.starts_with("__metadata:") || l.starts_with("\"__metadata\":"));
    let mut out = if berry {
        yarn_berry::parse(text)
    } else {
        yarn_v1::parse(text)
    };
    dedupe(&mut out.packages);
    out
}

pub(super) fn unquote(s: &str) -> &str {
    let s = s.trim();
    if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

/// Name (real name for `alias@npm:real@range`), alias and range of one key specifier.
pub(super) fn spec_name(spec: &str) -> (String, Option<String>, String) {
    let (name, range) = split_name_at(spec);
    if let Some(rest) = range.strip_prefix("npm:")
        && rest.len() > 1
        && rest[1..].contains('@')
    {
        let (real, real_range) = split_name_at(rest);
        return (
            real.to_string(),
            Some(name.to_string()),
            real_range.to_string(),
        );
    }
    (name.to_string(), None, range.to_string())
}

/// Splits a lock key `"a@^1", a@^2` / `"a@npm:^1, a@npm:^2"` into specifiers.
pub(super) fn split_specs(header: &str) -> Vec<String> {
    header
        .split(',')
        .map(|s| unquote(unquote(s)).trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

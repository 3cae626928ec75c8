//! `.moatignore`: entries that suppress findings of any kind, with a reason and an expiry.
//!
//! The file is YAML: a list of entries, or a mapping `{ignore: [...]}`. An entry:
//!
//! ```yaml
//! - id: CVE-2023-45853            # a finding id or alias, or a secret rule / check id; "*": any
//!   kind: vulnerability           # optional: vulnerability | secret | misconfiguration | runtime
//!   package: zlib1g               # optional: a package name or a purl (vulnerabilities)
//!   path: /usr/lib/               # optional: a path prefix, or a glob: "**/*.env", "/app/*/x.yaml"
//!   reason: minizip is not used   # required
//!   expires: 2027-01-31           # optional: after this day the finding is reported again
//! ```
//!
//! A missing or empty reason, a missing id, an unknown key, a malformed date, an unknown kind
//! or a malformed glob is an error naming the entry (its position and id). Parsing runs with
//! moat's YAML budget (`moat_lang::yaml_options`: depth, nodes, aliases and their replay,
//! scalar bytes), tightened for a small file, so a hostile file cannot blow up memory.

use super::{MAX_BYTES, PolicyError};
use moat_model::{Finding, FindingKind};
use serde::Deserialize;

/// One entry of an ignore file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreEntry {
    /// A finding id or alias, a rule or check id, or `*` for every id.
    pub id: String,
    /// Only findings of this kind.
    pub kind: Option<FindingKind>,
    /// A package name or a purl.
    pub package: Option<String>,
    /// A prefix of the finding's path, or a glob when it holds `*`, `?`, `[` or `{`.
    pub path: Option<String>,
    pub reason: String,
    /// `YYYY-MM-DD`; the entry applies up to and including that day.
    pub expires: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    id: Option<String>,
    kind: Option<String>,
    package: Option<String>,
    path: Option<String>,
    reason: Option<String>,
    expires: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawFile {
    List(Vec<RawEntry>),
    Map { ignore: Option<Vec<RawEntry>> },
}

/// moat's YAML budget, tightened for a small, flat file: an ignore file is two levels deep
/// and needs no aliases to speak of.
fn yaml_options() -> serde_saphyr::Options {
    let mut options = moat_lang::yaml_options();
    if let Some(b) = options.budget.as_mut() {
        (b.max_depth, b.flow_nesting_limit) = (16, 16);
        (b.max_aliases, b.max_anchors, b.max_documents) = (100, 100, 1);
    }
    options
}

fn kind_named(s: &str) -> Option<FindingKind> {
    [
        FindingKind::Vulnerability,
        FindingKind::Secret,
        FindingKind::Misconfiguration,
        FindingKind::Runtime,
    ]
    .into_iter()
    .find(|k| k.as_str() == s.trim())
}

/// Parses an ignore file (YAML list or `{ignore: [...]}`); an empty file has no entries.
pub fn parse_ignore_file(bytes: &[u8]) -> Result<Vec<IgnoreEntry>, PolicyError> {
    if bytes.len() > MAX_BYTES {
        return Err(PolicyError::TooLarge {
            what: "ignore file",
            bytes: bytes.len(),
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|_| PolicyError::NotUtf8("ignore file"))?;
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Ok(Vec::new());
    }
    let raw: RawFile = serde_saphyr::from_str_with_options(text, yaml_options()).map_err(|e| {
        // the first line says what is wrong; the rest is a source snippet
        let msg = e.to_string();
        PolicyError::Yaml(msg.lines().next().unwrap_or_default().to_string())
    })?;
    let raw = match raw {
        RawFile::List(v) => v,
        RawFile::Map { ignore } => ignore.unwrap_or_default(),
    };
    let mut out = Vec::with_capacity(raw.len());
    for (i, e) in raw.into_iter().enumerate() {
        let n = i + 1;
        let bad = |id: &str, what: String| PolicyError::Entry {
            n,
            id: id.to_string(),
            what,
        };
        let id =
            e.id.map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .ok_or_else(|| bad("", "missing `id`".into()))?;
        let reason = e
            .reason
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad(&id, "missing `reason`".into()))?;
        if let Some(d) = &e.expires
            && d.parse::<jiff::civil::Date>().is_err()
        {
            return Err(bad(&id, format!("`expires` must be YYYY-MM-DD, got {d:?}")));
        }
        let kind = match e.kind.as_deref() {
            None => None,
            Some(k) => Some(kind_named(k).ok_or_else(|| {
                bad(
                    &id,
                    format!(
                        "unknown `kind` {k:?} (vulnerability, secret, misconfiguration, runtime)"
                    ),
                )
            })?),
        };
        let path = e.path.filter(|s| !s.trim().is_empty());
        if let Some(p) = &path
            && is_glob(p)
        {
            glob(p).map_err(|err| bad(&id, format!("`path` {p:?} is not a valid glob: {err}")))?;
        }
        out.push(IgnoreEntry {
            id,
            kind,
            package: e.package.filter(|s| !s.trim().is_empty()),
            path,
            reason,
            expires: e.expires,
        });
    }
    Ok(out)
}

fn is_glob(p: &str) -> bool {
    p.contains(['*', '?', '[', '{'])
}

/// A glob over absolute paths: `*` stays inside one directory, `**` crosses them; a pattern
/// that does not start with `/` matches at any depth.
fn glob(p: &str) -> Result<globset::GlobMatcher, globset::Error> {
    let anchored = if p.starts_with('/') || p.starts_with("**") {
        p.to_string()
    } else {
        format!("**/{p}")
    };
    Ok(globset::GlobBuilder::new(&anchored)
        .literal_separator(true)
        .build()?
        .compile_matcher())
}

/// An entry ready to match: its glob compiled once.
pub(super) struct Compiled<'a> {
    pub entry: &'a IgnoreEntry,
    glob: Option<globset::GlobMatcher>,
}

impl<'a> Compiled<'a> {
    pub fn new(entry: &'a IgnoreEntry) -> Compiled<'a> {
        let glob = entry
            .path
            .as_deref()
            .filter(|p| is_glob(p))
            .and_then(|p| glob(p).ok());
        Compiled { entry, glob }
    }

    /// Whether the entry suppresses `f`.
    pub fn matches(&self, f: &Finding) -> bool {
        let e = self.entry;
        if e.id.trim() != "*" && !super::id_matches(&e.id, f) {
            return false;
        }
        if e.kind.is_some_and(|k| k != f.kind()) {
            return false;
        }
        if let Some(want) = &e.package {
            let Some(p) = f.package() else { return false };
            let ok = if want.starts_with("pkg:") {
                super::purl_matches(want, &p.purl)
            } else {
                *want == p.name
            };
            if !ok {
                return false;
            }
        }
        if let Some(pattern) = &e.path {
            let Some(path) = f.path() else { return false };
            let ok = match &self.glob {
                Some(g) => g.is_match(path),
                None => path.starts_with(pattern.as_str()),
            };
            if !ok {
                return false;
            }
        }
        true
    }
}

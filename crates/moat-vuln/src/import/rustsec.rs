//! RustSec's native advisory format (`crates/<name>/RUSTSEC-YYYY-NNNN.md` in
//! `rustsec/advisory-db`): a Markdown file that opens with a fenced TOML block
//! (`[advisory]` id, package, date, url, references, aliases, related, cvss, keywords,
//! informational, withdrawn; `[versions]` patched, unaffected; `[affected]` functions, os,
//! arch), followed by `# Title` and the description.
//!
//! ## From requirement lists to OSV ranges
//! RustSec lists the versions that are *not* affected: `patched` and `unaffected` are lists of
//! Cargo requirements (`">= 1.2.3, < 1.3"`, `"^0.9.5"`, `"=0.2.0"`, a bare `"0.54.2"` meaning
//! `^0.54.2`). Each requirement becomes one half-open interval `[lo, hi)` on the SemVer total
//! order (pre-releases included, build metadata ignored), its comma-separated comparators
//! intersected:
//!
//! | comparator | interval |
//! |---|---|
//! | `>= v` | `[v, ∞)` |
//! | `> v` | `[succ(v), ∞)` |
//! | `< v` | `[0.0.0-0, v)` |
//! | `<= v` | `[0.0.0-0, succ(v))` |
//! | `= v` | `[v, succ(v))` |
//! | `^v`, bare `v` | `[v, next breaking-0)`: `^1.2.3` → `2.0.0-0`, `^0.9.5` → `0.10.0-0`, `^0.0.3` → `0.0.4-0` |
//! | `~v` | `[v, next minor-0)` (`~1` → `2.0.0-0`) |
//!
//! Partial versions are filled with zeros (`< 0.12` is `< 0.12.0`). `succ(v)` is the smallest
//! version above `v`: `1.2.3` → `1.2.4-0`, `1.0.0-alpha` → `1.0.0-alpha.0`. The affected
//! versions are the complement of the union of those intervals, written as one SEMVER range
//! with an `introduced` / `fixed` pair per affected interval (`introduced: "0"` when it starts
//! at the lowest version; no `fixed` when it never ends). This gives the same ranges as
//! RustSec's own OSV export (which writes `0.0.0-0` where we write `0`); the import test
//! checks that for every advisory present in both forms.
//!
//! `[affected] functions`, `os` and `arch` are not kept (the matcher works on packages).
//! RustSec records carry no modification time: `modified` stays empty and `published` is the
//! advisory date at noon UTC (as RustSec's export writes it; a date that is not a calendar
//! date is kept as written).
//!
//! A file that cannot be read is a [`RustSecError`]; a requirement that cannot be read names
//! the advisory, the requirement and a [`RequirementError`].

use moat_model::advisory::{
    Advisory, Affected, AffectedPackage, Event, Range, RangeType, Reference, SeverityScore,
};
use serde::Deserialize;
use std::cmp::Ordering;

/// Why a RustSec advisory file was not read.
#[derive(Debug, thiserror::Error)]
pub enum RustSecError {
    #[error("not UTF-8")]
    NotUtf8,
    #[error("does not start with a ```toml block")]
    NoFrontMatter,
    #[error("unterminated ```toml block")]
    Unterminated,
    #[error("bad TOML front matter: {0}")]
    Toml(#[source] Box<toml::de::Error>),
    #[error("advisory id or package is empty")]
    Empty,
    #[error("{id}: version requirement {requirement:?}: {reason}")]
    Requirement {
        id: String,
        requirement: String,
        #[source]
        reason: RequirementError,
    },
}

/// Why a Cargo version requirement was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequirementError {
    #[error("not a version: {0:?}")]
    NotVersion(String),
    #[error("empty pre-release identifier in {0:?}")]
    EmptyPreRelease(String),
    #[error("bad pre-release in {0:?}")]
    BadPreRelease(String),
    #[error("unsupported comparator {0:?}")]
    Comparator(String),
    #[error("unsupported operator {0:?}")]
    Operator(String),
    #[error("empty requirement")]
    Empty,
}

#[derive(Deserialize)]
struct Front {
    advisory: Meta,
    #[serde(default)]
    versions: Versions,
}

#[derive(Deserialize)]
struct Meta {
    id: String,
    package: String,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    references: Vec<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    related: Vec<String>,
    #[serde(default)]
    cvss: Option<String>,
    #[serde(default)]
    withdrawn: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize, Default)]
struct Versions {
    #[serde(default)]
    patched: Vec<String>,
    #[serde(default)]
    unaffected: Vec<String>,
}

/// One RustSec advisory (TOML-in-Markdown) as an OSV-shaped record with `source = "rustsec"`.
pub fn parse(bytes: &[u8]) -> Result<Advisory, RustSecError> {
    let text = std::str::from_utf8(bytes).map_err(|_| RustSecError::NotUtf8)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let body = text
        .trim_start()
        .strip_prefix("```toml")
        .ok_or(RustSecError::NoFrontMatter)?;
    let end = body.find("\n```").ok_or(RustSecError::Unterminated)?;
    let (toml_text, rest) = (&body[..end], &body[end + 4..]);
    let front: Front = toml::from_str(toml_text).map_err(|e| RustSecError::Toml(Box::new(e)))?;
    let m = front.advisory;
    if m.id.trim().is_empty() || m.package.trim().is_empty() {
        return Err(RustSecError::Empty);
    }

    // Markdown: `# Title` then the description.
    let rest = rest.trim_start_matches(|c: char| c != '\n').trim();
    let (title, details) = match rest.strip_prefix("# ") {
        Some(r) => {
            let (t, d) = r.split_once('\n').unwrap_or((r, ""));
            (Some(t.trim().to_string()), d.trim().to_string())
        }
        None => (None, rest.to_string()),
    };
    let title = title.or(m.title).filter(|t| !t.is_empty());
    let details = Some(details).filter(|d| !d.is_empty()).or(m.description);

    let mut reqs = Vec::new();
    for r in front
        .versions
        .patched
        .iter()
        .chain(&front.versions.unaffected)
    {
        reqs.push(requirement(r).map_err(|reason| RustSecError::Requirement {
            id: m.id.clone(),
            requirement: r.clone(),
            reason,
        })?);
    }
    let events = affected_events(reqs);

    let noon = |d: &str| match d.trim().parse::<jiff::civil::Date>() {
        Ok(date) => format!("{date}T12:00:00Z"),
        Err(_) => d.to_string(),
    };
    let mut references = vec![
        Reference {
            kind: "PACKAGE".into(),
            url: format!("https://crates.io/crates/{}", m.package),
        },
        Reference {
            kind: "ADVISORY".into(),
            url: format!("https://rustsec.org/advisories/{}.html", m.id),
        },
    ];
    references.extend(m.url.iter().chain(&m.references).map(|u| Reference {
        kind: "WEB".into(),
        url: u.clone(),
    }));
    let severity = m
        .cvss
        .iter()
        .map(|v| SeverityScore {
            kind: if v.starts_with("CVSS:4") {
                "CVSS_V4"
            } else if v.starts_with("CVSS:3") {
                "CVSS_V3"
            } else {
                "CVSS_V2"
            }
            .into(),
            score: v.clone(),
        })
        .collect();
    Ok(Advisory {
        id: m.id,
        modified: None,
        published: m.date.as_deref().map(noon),
        withdrawn: m.withdrawn.as_deref().map(noon),
        aliases: m.aliases,
        related: m.related,
        upstream: Vec::new(),
        summary: title,
        details,
        severity,
        affected: vec![Affected {
            package: AffectedPackage {
                ecosystem: "crates.io".into(),
                purl: Some(format!("pkg:cargo/{}", m.package)),
                name: m.package,
            },
            ranges: vec![Range {
                kind: RangeType::Semver,
                repo: None,
                events,
            }],
            versions: Vec::new(),
            status: None,
            severity: None,
        }],
        references,
        source: "rustsec".into(),
        rating: None,
    })
}

/// A SemVer version (build metadata dropped), ordered by SemVer precedence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: Vec<Ident>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Ident {
    // Numeric identifiers sort before alphanumeric ones.
    Num(u64),
    Alpha(String),
}

impl Ord for Version {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(o.major, o.minor, o.patch))
            .then_with(|| match (self.pre.is_empty(), o.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self.pre.cmp(&o.pre),
            })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        for (i, p) in self.pre.iter().enumerate() {
            f.write_str(if i == 0 { "-" } else { "." })?;
            match p {
                Ident::Num(n) => write!(f, "{n}")?,
                Ident::Alpha(s) => f.write_str(s)?,
            }
        }
        Ok(())
    }
}

impl Version {
    const MIN: Version = Version {
        major: 0,
        minor: 0,
        patch: 0,
        pre: Vec::new(),
    };

    fn min() -> Version {
        Version {
            pre: vec![Ident::Num(0)],
            ..Self::MIN
        }
    }

    fn new(major: u64, minor: u64, patch: u64) -> Version {
        Version {
            major,
            minor,
            patch,
            pre: Vec::new(),
        }
    }

    /// The lowest pre-release of this release (`1.2.3` → `1.2.3-0`).
    fn pre0(mut self) -> Version {
        self.pre = vec![Ident::Num(0)];
        self
    }

    /// The smallest version above this one.
    fn succ(&self) -> Version {
        if self.pre.is_empty() {
            Version::new(self.major, self.minor, self.patch + 1).pre0()
        } else {
            let mut v = self.clone();
            v.pre.push(Ident::Num(0));
            v
        }
    }

    /// Parses `1`, `1.2`, `1.2.3`, `1.2.3-pre.1+build`; returns the version with missing parts
    /// as zero and how many numeric parts were written.
    pub(crate) fn parse_partial(s: &str) -> Result<(Version, usize), RequirementError> {
        let s = s.trim();
        let s = s.split_once('+').map_or(s, |(v, _)| v);
        let (core, pre) = match s.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (s, None),
        };
        let mut nums = [0u64; 3];
        let parts: Vec<&str> = core.split('.').collect();
        if parts.is_empty() || parts.len() > 3 {
            return Err(RequirementError::NotVersion(s.to_string()));
        }
        for (i, p) in parts.iter().enumerate() {
            nums[i] = p
                .parse()
                .map_err(|_| RequirementError::NotVersion(s.to_string()))?;
        }
        let pre = match pre {
            None => Vec::new(),
            Some(p) => p
                .split('.')
                .map(|id| {
                    if id.is_empty() {
                        Err(RequirementError::EmptyPreRelease(s.to_string()))
                    } else if id.bytes().all(|b| b.is_ascii_digit()) {
                        id.parse()
                            .map(Ident::Num)
                            .map_err(|_| RequirementError::BadPreRelease(s.to_string()))
                    } else {
                        Ok(Ident::Alpha(id.to_string()))
                    }
                })
                .collect::<Result<_, _>>()?,
        };
        Ok((
            Version {
                major: nums[0],
                minor: nums[1],
                patch: nums[2],
                pre,
            },
            parts.len(),
        ))
    }

    /// Parses a full or partial version.
    #[cfg(test)]
    pub(crate) fn parse(s: &str) -> Result<Version, RequirementError> {
        Self::parse_partial(s).map(|(v, _)| v)
    }
}

/// `[lo, hi)`; `hi == None` is unbounded.
type Interval = (Version, Option<Version>);

/// One requirement (comma-separated comparators, all of which must hold) as an interval.
fn requirement(req: &str) -> Result<Option<Interval>, RequirementError> {
    let mut lo = Version::min();
    let mut hi: Option<Version> = None;
    let mut any = false;
    for comp in req.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        any = true;
        let (op, ver) = match comp.find(|c: char| c.is_ascii_digit()) {
            Some(i) => (comp[..i].trim(), &comp[i..]),
            None => return Err(RequirementError::Comparator(comp.to_string())),
        };
        let (v, parts) = Version::parse_partial(ver)?;
        let (l, h) = match op {
            ">=" => (v, None),
            ">" => (v.succ(), None),
            "<" => (Version::min(), Some(v)),
            "<=" => (Version::min(), Some(v.succ())),
            "=" => (v.clone(), Some(v.succ())),
            "^" | "" => {
                let upper = if v.major > 0 || parts == 1 {
                    Version::new(v.major + 1, 0, 0)
                } else if v.minor > 0 || parts == 2 {
                    Version::new(0, v.minor + 1, 0)
                } else {
                    Version::new(0, 0, v.patch + 1)
                };
                (v, Some(upper.pre0()))
            }
            "~" => {
                let upper = if parts == 1 {
                    Version::new(v.major + 1, 0, 0)
                } else {
                    Version::new(v.major, v.minor + 1, 0)
                };
                (v, Some(upper.pre0()))
            }
            _ => return Err(RequirementError::Operator(op.to_string())),
        };
        lo = lo.max(l);
        hi = match (hi, h) {
            (None, h) | (h, None) => h,
            (Some(a), Some(b)) => Some(a.min(b)),
        };
    }
    if !any {
        return Err(RequirementError::Empty);
    }
    Ok(match &hi {
        Some(h) if *h <= lo => None,
        _ => Some((lo, hi)),
    })
}

/// The complement of the unaffected intervals as OSV events.
fn affected_events(reqs: Vec<Option<Interval>>) -> Vec<Event> {
    let mut unaffected: Vec<Interval> = reqs.into_iter().flatten().collect();
    unaffected.sort_by(|a, b| a.0.cmp(&b.0));
    let mut events = Vec::new();
    let mut cursor = Some(Version::min());
    let push = |events: &mut Vec<Event>, from: &Version, to: Option<&Version>| {
        let intro = if *from == Version::min() {
            "0".to_string()
        } else {
            from.to_string()
        };
        events.push(Event::Introduced(intro));
        if let Some(t) = to {
            events.push(Event::Fixed(t.to_string()));
        }
    };
    for (lo, hi) in &unaffected {
        let Some(cur) = cursor.clone() else { break };
        if *lo > cur {
            push(&mut events, &cur, Some(lo));
        }
        cursor = hi.as_ref().map(|h| if *h > cur { h.clone() } else { cur });
    }
    if let Some(cur) = cursor {
        push(&mut events, &cur, None);
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(reqs: &[&str]) -> Vec<String> {
        let r = reqs.iter().map(|r| requirement(r).unwrap()).collect();
        affected_events(r)
            .iter()
            .map(|e| match e {
                Event::Introduced(v) => format!("i{v}"),
                Event::Fixed(v) => format!("f{v}"),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn ranges() {
        assert_eq!(ev(&[]), ["i0"]);
        assert_eq!(ev(&[">= 1.2.3"]), ["i0", "f1.2.3"]);
        assert_eq!(
            ev(&[">= 1.2.3, < 1.3", ">= 1.3.4"]),
            ["i0", "f1.2.3", "i1.3.0", "f1.3.4"]
        );
        assert_eq!(
            ev(&["^0.9.5", ">= 0.10.2"]),
            ["i0", "f0.9.5", "i0.10.0-0", "f0.10.2"]
        );
        assert_eq!(ev(&["> 0"]), ["i0", "f0.0.1-0"]);
        assert_eq!(ev(&["<= 0.3.0", ">= 0.6.1"]), ["i0.3.1-0", "f0.6.1"]);
        assert_eq!(
            ev(&["=0.2.0", ">= 0.2.23"]),
            ["i0", "f0.2.0", "i0.2.1-0", "f0.2.23"]
        );
        assert_eq!(ev(&["< 0.3", "^0.7.1"]), ["i0.3.0", "f0.7.1", "i0.8.0-0"]);
        assert_eq!(ev(&["~1.2.3"]), ["i0", "f1.2.3", "i1.3.0-0"]);
        assert!(Version::parse("1.0.0-alpha").unwrap() < Version::parse("1.0.0-alpha.1").unwrap());
        assert!(Version::parse("1.0.0-alpha.1").unwrap() < Version::parse("1.0.0-beta").unwrap());
        assert!(Version::parse("1.0.0-rc.1").unwrap() < Version::parse("1.0.0").unwrap());
        assert!(Version::parse("1.0.0-2").unwrap() < Version::parse("1.0.0-11").unwrap());
    }
}

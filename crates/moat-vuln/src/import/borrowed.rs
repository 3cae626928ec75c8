//! The stored record of an OSV JSON entry built from the entry's bytes: a borrowing mirror
//! of [`Advisory`] ([`Record`]: the same fields, names, order and serde attributes, its
//! strings borrowed from the input where they hold no escapes) is parsed, given what the
//! typed path gives a record (its `source` label, the rating in `database_specific.severity`,
//! its single upstream id as an alias) and serialised as stored. The JSON written is the one
//! [`Prepared::new`] writes for the same record parsed into an [`Advisory`], byte for byte;
//! only the owned model (a string allocated per field, freed again after serialising) is
//! skipped.
//!
//! [`prepare`] takes only the common case: one JSON object that parses, that the typed path
//! accepts as it is and that is within every value cap of [`moat_model::limits`] (nothing
//! to cut). Anything else (an array, an error to report, a summary to cut, ...) returns
//! `None` and goes the typed way, which reports or cuts it as before.

use crate::db::Prepared;
use moat_model::advisory::{RangeType, Status};
use moat_model::limits::{
    MAX_DETAILS, MAX_FIELD, MAX_ID, MAX_NAME, MAX_PURL, MAX_SUMMARY, MAX_VERSION,
};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// A JSON string, borrowed from the input when it has no escapes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct S<'a>(Cow<'a, str>);

impl S<'_> {
    fn as_str(&self) -> &str {
        &self.0
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for S<'_> {
    fn serialize<Z: serde::Serializer>(&self, s: Z) -> Result<Z::Ok, Z::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for S<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = S<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<S<'de>, E> {
                Ok(S(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<S<'de>, E> {
                Ok(S(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<S<'de>, E> {
                Ok(S(Cow::Owned(v)))
            }
        }
        d.deserialize_string(V)
    }
}

/// [`moat_model::advisory::Advisory`], borrowed (same fields in the same order, same
/// attributes: the same JSON out), plus the `database_specific` the rating is read from.
#[derive(Debug, Deserialize, Serialize)]
struct Record<'a> {
    #[serde(borrow)]
    id: S<'a>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    modified: Option<S<'a>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    published: Option<S<'a>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    withdrawn: Option<S<'a>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", borrow)]
    aliases: Vec<S<'a>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", borrow)]
    related: Vec<S<'a>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", borrow)]
    upstream: Vec<S<'a>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    summary: Option<S<'a>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    details: Option<S<'a>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", borrow)]
    severity: Vec<Score<'a>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", borrow)]
    affected: Vec<Affected<'a>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", borrow)]
    references: Vec<Reference<'a>>,
    #[serde(default = "S::empty", skip_serializing_if = "S::is_empty", borrow)]
    source: S<'a>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    rating: Option<S<'a>>,
    /// Not stored: where the rating comes from when `rating` is absent.
    #[serde(default, skip_serializing, borrow)]
    database_specific: Option<Extra<'a>>,
}

impl S<'_> {
    fn empty() -> Self {
        S(Cow::Borrowed(""))
    }
}

#[derive(Debug, Deserialize, Serialize)]
struct Score<'a> {
    #[serde(rename = "type", borrow)]
    kind: S<'a>,
    #[serde(borrow)]
    score: S<'a>,
}

#[derive(Debug, Deserialize, Serialize)]
struct Reference<'a> {
    #[serde(rename = "type", default = "S::empty", borrow)]
    kind: S<'a>,
    #[serde(borrow)]
    url: S<'a>,
}

#[derive(Debug, Deserialize, Serialize)]
struct Affected<'a> {
    #[serde(borrow)]
    package: Package<'a>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", borrow)]
    ranges: Vec<Range<'a>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", borrow)]
    versions: Vec<S<'a>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<Status>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    severity: Option<S<'a>>,
}

#[derive(Debug, Deserialize, Serialize)]
struct Package<'a> {
    #[serde(borrow)]
    ecosystem: S<'a>,
    #[serde(borrow)]
    name: S<'a>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    purl: Option<S<'a>>,
}

#[derive(Debug, Deserialize, Serialize)]
struct Range<'a> {
    #[serde(rename = "type")]
    kind: RangeType,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    repo: Option<S<'a>>,
    #[serde(default, borrow)]
    events: Vec<Event<'a>>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
enum Event<'a> {
    Introduced(#[serde(borrow)] S<'a>),
    Fixed(#[serde(borrow)] S<'a>),
    LastAffected(#[serde(borrow)] S<'a>),
    Limit(#[serde(borrow)] S<'a>),
}

impl Event<'_> {
    fn version(&self) -> &S<'_> {
        match self {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => v,
        }
    }
}

/// `database_specific` as [`super::osv`] reads it: a text `severity`, anything else ignored.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Extra<'a> {
    Specific(#[serde(borrow)] DatabaseSpecific<'a>),
    #[allow(dead_code)]
    Other(serde::de::IgnoredAny),
}

#[derive(Debug, Deserialize)]
struct DatabaseSpecific<'a> {
    #[serde(default, borrow)]
    severity: Option<Label<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Label<'a> {
    Text(#[serde(borrow)] S<'a>),
    #[allow(dead_code)]
    Other(serde::de::IgnoredAny),
}

/// Whether `s` is over `max` bytes (the typed path would cut it).
fn over(s: Option<&S<'_>>, max: usize) -> bool {
    s.is_some_and(|s| s.len() > max)
}

impl Record<'_> {
    /// Whether the typed path takes the record as it is: [`super::osv`]'s checks pass and
    /// [`moat_model::limits::advisory`] neither rejects nor cuts anything.
    fn plain(&self) -> bool {
        let id = self.id.as_str();
        if id.trim().is_empty() || id.len() > MAX_ID {
            return false;
        }
        if [
            &self.modified,
            &self.published,
            &self.withdrawn,
            &self.rating,
        ]
        .iter()
        .any(|f| over(f.as_ref(), MAX_FIELD))
            || over(self.summary.as_ref(), MAX_SUMMARY)
            || over(self.details.as_ref(), MAX_DETAILS)
        {
            return false;
        }
        if [&self.aliases, &self.related, &self.upstream]
            .iter()
            .any(|ids| ids.iter().any(|i| i.len() > MAX_ID))
        {
            return false;
        }
        if self
            .severity
            .iter()
            .any(|s| s.kind.len() > MAX_FIELD || s.score.len() > MAX_FIELD)
            || self
                .references
                .iter()
                .any(|r| r.kind.len() > MAX_FIELD || r.url.len() > MAX_FIELD)
        {
            return false;
        }
        self.affected.iter().all(|a| {
            !(a.package.name.is_empty() && a.ranges.is_empty())
                && a.package.name.len() <= MAX_NAME
                && a.package.ecosystem.len() <= MAX_FIELD
                && !over(a.package.purl.as_ref(), MAX_PURL)
                && !over(a.severity.as_ref(), MAX_FIELD)
                && a.versions.iter().all(|v| v.len() <= MAX_VERSION)
                && a.ranges.iter().all(|r| {
                    !over(r.repo.as_ref(), MAX_FIELD)
                        && r.events.iter().all(|e| e.version().len() <= MAX_VERSION)
                })
        })
    }
}

/// The stored record of the OSV JSON entry `bytes`, in the source `label` (`None`: the
/// record's own, as [`super::osv`] labels it), when the entry is the common case (see the
/// module docs); `None` when the typed path must read it.
pub(crate) fn prepare(bytes: &[u8], label: Option<&str>) -> Option<Prepared> {
    // One object: arrays and `{"vulns": [...]}` answers go the typed way.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return None;
    }
    let mut rec: Record<'_> = serde_json::from_slice(bytes).ok()?;
    if rec.rating.is_none()
        && let Some(Extra::Specific(DatabaseSpecific {
            severity: Some(Label::Text(t)),
        })) = &rec.database_specific
        // As [`super::osv`]: without escapes, a record with no `"severity"` text has no label.
        && (super::contains(bytes, b"\\u")
            || (super::contains(bytes, b"database_specific")
                && super::contains(bytes, b"\"severity\"")))
    {
        let t = t.as_str().trim();
        if !t.is_empty() {
            rec.rating = Some(S(Cow::Owned(t.to_string())));
        }
    }
    if !rec.plain() {
        return None;
    }
    if rec.source.is_empty() {
        let eco = rec
            .affected
            .first()
            .map(|a| a.package.ecosystem.as_str())
            .unwrap_or_default();
        rec.source = S(Cow::Owned(if eco.is_empty() {
            "osv".to_string()
        } else {
            format!("osv:{}", eco.split(':').next().unwrap_or_default())
        }));
    }
    // [`super::upstream_alias`].
    if let [one] = rec.upstream.as_slice()
        && one != &rec.id
        && !rec.aliases.contains(one)
    {
        let one = one.clone();
        rec.aliases.push(one);
    }
    if let Some(label) = label {
        rec.source = S(Cow::Borrowed(label));
    }
    let mut out = Vec::with_capacity(bytes.len());
    let json = match serde_json::to_writer(&mut out, &rec) {
        // serde_json writes UTF-8 only.
        Ok(()) => String::from_utf8(out).map_err(|e| format!("{}: {e}", rec.id.as_str())),
        Err(e) => Err(format!("{}: {e}", rec.id.as_str())),
    };
    Some(Prepared::from_parts(
        rec.id.as_str(),
        rec.source.as_str(),
        json,
        rec.affected
            .iter()
            .map(|a| (a.package.ecosystem.as_str(), a.package.name.as_str())),
        rec.affected.len(),
        rec.aliases.iter().map(S::as_str),
        rec.aliases.len(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{Item, limited, osv, upstream_alias};

    /// What the typed path makes of one OSV JSON entry: parse, checks, upstream alias, value
    /// caps, [`Prepared::new`]; `None` when it is not exactly one accepted record.
    fn typed(bytes: &[u8], label: Option<&str>) -> Option<Prepared> {
        let mut list = osv::parse_json(bytes).ok()?;
        if list.len() != 1 {
            return None;
        }
        let mut a = list.pop()?;
        upstream_alias(&mut a);
        match limited(Item::Advisory(a)) {
            Item::Advisory(a) => {
                let source = label.unwrap_or(a.source.as_str()).to_string();
                Some(Prepared::new(&source, &a))
            }
            _ => None,
        }
    }

    /// `bytes` through both paths: the borrowed one either declines or agrees exactly.
    fn same(bytes: &str) -> Option<Prepared> {
        for label in [None, Some("osv:Label")] {
            let fast = prepare(bytes.as_bytes(), label);
            if let Some(f) = &fast {
                assert_eq!(Some(f), typed(bytes.as_bytes(), label).as_ref(), "{bytes}");
            }
        }
        prepare(bytes.as_bytes(), None)
    }

    fn json(p: &Prepared) -> &str {
        p.json.as_deref().unwrap_or("error")
    }

    #[test]
    fn plain_records_match_the_typed_path() {
        let p = same(
            r#"{"schema_version":"1.6.0","id":"GHSA-xxxx","modified":"2024-01-01T00:00:00Z",
            "aliases":["CVE-2024-1","GHSA-xxxx"],"upstream":["CVE-2024-2"],
            "summary":"tab\there \u00e9 \"q\"","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N"}],
            "affected":[{"package":{"ecosystem":"PyPI","name":"Foo_Bar","purl":"pkg:pypi/foo-bar"},
              "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.2"}]}],
              "versions":["1.0"],"ecosystem_specific":{"x":[1,2]},"database_specific":{"y":null}},
              {"package":{"ecosystem":"PyPI","name":"foo-bar"}}],
            "references":[{"type":"WEB","url":"https://example.com/a"},{"url":"https://b"}],
            "database_specific":{"severity":" HIGH ","cwe_ids":["CWE-79"]}}"#,
        )
        .expect("taken");
        assert_eq!(
            json(&p),
            r#"{"id":"GHSA-xxxx","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2024-1","GHSA-xxxx","CVE-2024-2"],"upstream":["CVE-2024-2"],"summary":"tab\there é \"q\"","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N"}],"affected":[{"package":{"ecosystem":"PyPI","name":"Foo_Bar","purl":"pkg:pypi/foo-bar"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.2"}]}],"versions":["1.0"]},{"package":{"ecosystem":"PyPI","name":"foo-bar"}}],"references":[{"type":"WEB","url":"https://example.com/a"},{"type":"","url":"https://b"}],"source":"osv:PyPI","rating":"HIGH"}"#
        );
        assert_eq!(p.source(), "osv:PyPI");
        assert_eq!(p.aliases, ["CVE-2024-1", "CVE-2024-2"]);
        assert_eq!(p.packages.len(), 1, "one distinct lookup key");
        // Its own rating wins over database_specific; a source and release suffix.
        let p = same(
            r#"{"id":"DEBIAN-1","rating":"low","source":"","database_specific":{"severity":"HIGH"},
            "affected":[{"package":{"ecosystem":"Debian:12","name":"openssl"},"status":"will_not_fix"}]}"#,
        )
        .expect("taken");
        assert_eq!(
            json(&p),
            r#"{"id":"DEBIAN-1","affected":[{"package":{"ecosystem":"Debian:12","name":"openssl"},"status":"will_not_fix"}],"source":"osv:Debian","rating":"low"}"#
        );
        // database_specific shaped otherwise: no rating, the record still taken.
        for odd in [
            r#"{"id":"X-1","database_specific":[1]}"#,
            r#"{"id":"X-1","database_specific":{"severity":7}}"#,
            r#"{"id":"X-1","database_specific":{"severity":"  "}}"#,
            r#"{"id":"X-1","database_specific":null}"#,
            r#"{"id":"X-1","database_specific":"HIGH"}"#,
        ] {
            let p = same(odd).expect(odd);
            assert_eq!(json(&p), r#"{"id":"X-1","source":"osv"}"#, "{odd}");
        }
        // A sequence is read as the struct's fields in order, when the text has the key.
        let p = same(r#"{"id":"X-1","database_specific":["LOW"]}"#).expect("taken");
        assert_eq!(json(&p), r#"{"id":"X-1","source":"osv"}"#);
        let p =
            same(r#"{"id":"X-1","x":{"severity":1},"database_specific":["LOW"]}"#).expect("taken");
        assert_eq!(json(&p), r#"{"id":"X-1","source":"osv","rating":"LOW"}"#);
    }

    #[test]
    fn anything_to_cut_or_report_goes_the_typed_way() {
        let long = "x".repeat(MAX_SUMMARY + 1);
        let huge_id = "I".repeat(MAX_ID + 1);
        let name = "n".repeat(MAX_NAME + 1);
        let version = "1".repeat(MAX_VERSION + 1);
        for declined in [
            format!(r#"{{"id":"A-1","summary":"{long}"}}"#),
            format!(r#"{{"id":"{huge_id}"}}"#),
            format!(r#"{{"id":"A-1","aliases":["{huge_id}"]}}"#),
            format!(r#"{{"id":"A-1","upstream":["{huge_id}"]}}"#),
            format!(r#"{{"id":"A-1","affected":[{{"package":{{"ecosystem":"Go","name":"{name}"}}}}]}}"#),
            format!(
                r#"{{"id":"A-1","affected":[{{"package":{{"ecosystem":"Go","name":"a"}},"versions":["{version}"]}}]}}"#
            ),
            format!(
                r#"{{"id":"A-1","affected":[{{"package":{{"ecosystem":"Go","name":"a"}},"ranges":[{{"type":"SEMVER","events":[{{"fixed":"{version}"}}]}}]}}]}}"#
            ),
            r#"{"id":"  "}"#.to_string(),
            r#"{"id":"A-1","affected":[{"package":{"ecosystem":"Go","name":""}}]}"#.to_string(),
            r#"[{"id":"A-1"}]"#.to_string(),
            r#"{"vulns":[{"id":"A-1"}]}"#.to_string(),
            r#"{"id":"A-1","id":"A-2"}"#.to_string(),
            r#"{"id":"A-1","affected":[{"package":{"ecosystem":"Go","name":"a"},"ranges":[{"type":"OTHER"}]}]}"#.to_string(),
            r#"{"id":"A-1""#.to_string(),
        ] {
            assert_eq!(prepare(declined.as_bytes(), None), None, "{declined}");
        }
    }

    /// Every OSV JSON record of ../shared/data/vulns: the borrowed path takes nearly all of
    /// them and makes exactly the typed path's stored record of each.
    #[test]
    fn shared_records_match_the_typed_path() {
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/vulns");
        if !root.is_dir() {
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "{} is missing",
                root.display()
            );
            eprintln!("skipped: {} is missing", root.display());
            return;
        }
        let mut stack = vec![root];
        let (mut taken, mut declined) = (0usize, 0usize);
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                if p.extension().is_none_or(|x| x != "json") {
                    continue;
                }
                let bytes = std::fs::read(&p).expect("read");
                for label in [None] {
                    match prepare(&bytes, label) {
                        Some(f) => {
                            assert_eq!(Some(f), typed(&bytes, label), "{}", p.display());
                            taken += 1;
                        }
                        None => declined += 1,
                    }
                }
            }
        }
        eprintln!("taken {taken}, declined {declined}");
        assert!(taken > 10_000, "taken {taken}, declined {declined}");
    }
}

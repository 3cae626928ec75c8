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
use serde::Deserialize;
use std::borrow::Cow;

/// A JSON string, borrowed from the input when it has no escapes.
#[derive(Debug, Clone)]
struct S<'a> {
    text: Cow<'a, str>,
    /// Borrowed from the input as it stood between its quotes: serde_json borrows a string
    /// only when it holds no escape, and refuses control characters in any string, so no
    /// byte of it needs escaping again (it is written as it is, not scanned).
    raw: bool,
}

impl PartialEq for S<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for S<'_> {}

impl<'a> S<'a> {
    /// Text made here (not read from the input): escaped when written.
    fn made(text: impl Into<Cow<'a, str>>) -> Self {
        S {
            text: text.into(),
            raw: false,
        }
    }
    fn as_str(&self) -> &str {
        &self.text
    }
    fn len(&self) -> usize {
        self.text.len()
    }
    fn is_empty(&self) -> bool {
        self.text.is_empty()
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
                Ok(S {
                    text: Cow::Borrowed(v),
                    raw: true,
                })
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<S<'de>, E> {
                Ok(S::made(v.to_string()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<S<'de>, E> {
                Ok(S::made(v))
            }
        }
        d.deserialize_string(V)
    }
}

/// [`moat_model::advisory::Advisory`], borrowed (same fields in the same order, same
/// attributes: the same JSON out), plus the `database_specific` the rating is read from.
#[derive(Debug, Deserialize)]
struct Record<'a> {
    #[serde(borrow)]
    id: S<'a>,
    #[serde(default, borrow)]
    modified: Option<S<'a>>,
    #[serde(default, borrow)]
    published: Option<S<'a>>,
    #[serde(default, borrow)]
    withdrawn: Option<S<'a>>,
    #[serde(default, borrow)]
    aliases: Vec<S<'a>>,
    #[serde(default, borrow)]
    related: Vec<S<'a>>,
    #[serde(default, borrow)]
    upstream: Vec<S<'a>>,
    #[serde(default, borrow)]
    summary: Option<S<'a>>,
    #[serde(default, borrow)]
    details: Option<S<'a>>,
    #[serde(default, borrow)]
    severity: Vec<Score<'a>>,
    #[serde(default, borrow)]
    affected: Vec<Affected<'a>>,
    #[serde(default, borrow)]
    references: Vec<Reference<'a>>,
    #[serde(default = "S::empty", borrow)]
    source: S<'a>,
    #[serde(default, borrow)]
    rating: Option<S<'a>>,
    /// Not stored: where the rating comes from when `rating` is absent.
    #[serde(default, borrow)]
    database_specific: Option<Extra<'a>>,
}

impl S<'_> {
    fn empty() -> Self {
        S {
            text: Cow::Borrowed(""),
            raw: true,
        }
    }
}

#[derive(Debug, Deserialize)]
struct Score<'a> {
    #[serde(rename = "type", borrow)]
    kind: S<'a>,
    #[serde(borrow)]
    score: S<'a>,
}

#[derive(Debug, Deserialize)]
struct Reference<'a> {
    #[serde(rename = "type", default = "S::empty", borrow)]
    kind: S<'a>,
    #[serde(borrow)]
    url: S<'a>,
}

#[derive(Debug, Deserialize)]
struct Affected<'a> {
    #[serde(borrow)]
    package: Package<'a>,
    #[serde(default, borrow)]
    ranges: Vec<Range<'a>>,
    #[serde(default, borrow)]
    versions: Vec<S<'a>>,
    #[serde(default)]
    status: Option<Status>,
    #[serde(default, borrow)]
    severity: Option<S<'a>>,
}

#[derive(Debug, Deserialize)]
struct Package<'a> {
    #[serde(borrow)]
    ecosystem: S<'a>,
    #[serde(borrow)]
    name: S<'a>,
    #[serde(default, borrow)]
    purl: Option<S<'a>>,
}

#[derive(Debug, Deserialize)]
struct Range<'a> {
    #[serde(rename = "type")]
    kind: RangeType,
    #[serde(default, borrow)]
    repo: Option<S<'a>>,
    #[serde(default, borrow)]
    events: Vec<Event<'a>>,
}

#[derive(Debug, Deserialize)]
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

/// Writes JSON by hand, as serde_json writes the typed [`moat_model::advisory::Advisory`]
/// (compact, fields in declaration order, empty lists and absent values left out): the
/// strings borrowed from the input are copied as they are, without serde_json's byte by
/// byte escape scan, straight into a `String` (no UTF-8 check of the result).
/// `shared_records_match_the_typed_path` and the other tests compare it with the typed
/// path byte for byte.
struct Json<'o> {
    out: &'o mut String,
    /// Whether the object or array being written has a value yet (a comma before the next).
    first: bool,
}

impl Json<'_> {
    fn str(&mut self, s: &S<'_>) {
        if s.raw {
            self.out.push('"');
            self.out.push_str(s.as_str());
            self.out.push('"');
        } else {
            escaped(self.out, s.as_str());
        }
    }
    fn open(&mut self, c: char) {
        self.out.push(c);
        self.first = true;
    }
    fn close(&mut self, c: char) {
        self.out.push(c);
        self.first = false;
    }
    fn comma(&mut self) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
    }
    /// `"key":` after a comma when needed.
    fn key(&mut self, key: &str) {
        self.comma();
        self.out.push('"');
        self.out.push_str(key);
        self.out.push_str("\":");
    }
    fn field(&mut self, key: &str, v: &S<'_>) {
        self.key(key);
        self.str(v);
    }
    fn opt(&mut self, key: &str, v: Option<&S<'_>>) {
        if let Some(v) = v {
            self.field(key, v);
        }
    }
    fn strs(&mut self, key: &str, list: &[S<'_>]) {
        if list.is_empty() {
            return;
        }
        self.key(key);
        self.open('[');
        for v in list {
            self.comma();
            self.str(v);
        }
        self.close(']');
    }
    fn record(&mut self, r: &Record<'_>) {
        self.open('{');
        self.field("id", &r.id);
        self.opt("modified", r.modified.as_ref());
        self.opt("published", r.published.as_ref());
        self.opt("withdrawn", r.withdrawn.as_ref());
        self.strs("aliases", &r.aliases);
        self.strs("related", &r.related);
        self.strs("upstream", &r.upstream);
        self.opt("summary", r.summary.as_ref());
        self.opt("details", r.details.as_ref());
        if !r.severity.is_empty() {
            self.key("severity");
            self.open('[');
            for s in &r.severity {
                self.comma();
                self.open('{');
                self.field("type", &s.kind);
                self.field("score", &s.score);
                self.close('}');
            }
            self.close(']');
        }
        if !r.affected.is_empty() {
            self.key("affected");
            self.open('[');
            for a in &r.affected {
                self.comma();
                self.affected(a);
            }
            self.close(']');
        }
        if !r.references.is_empty() {
            self.key("references");
            self.open('[');
            for x in &r.references {
                self.comma();
                self.open('{');
                self.field("type", &x.kind);
                self.field("url", &x.url);
                self.close('}');
            }
            self.close(']');
        }
        if !r.source.is_empty() {
            self.field("source", &r.source);
        }
        self.opt("rating", r.rating.as_ref());
        self.close('}');
    }
    fn affected(&mut self, a: &Affected<'_>) {
        self.open('{');
        self.key("package");
        self.open('{');
        self.field("ecosystem", &a.package.ecosystem);
        self.field("name", &a.package.name);
        self.opt("purl", a.package.purl.as_ref());
        self.close('}');
        if !a.ranges.is_empty() {
            self.key("ranges");
            self.open('[');
            for r in &a.ranges {
                self.comma();
                self.open('{');
                self.key("type");
                self.out.push_str(match r.kind {
                    RangeType::Semver => "\"SEMVER\"",
                    RangeType::Ecosystem => "\"ECOSYSTEM\"",
                    RangeType::Git => "\"GIT\"",
                });
                self.opt("repo", r.repo.as_ref());
                self.key("events");
                self.open('[');
                for e in &r.events {
                    self.comma();
                    self.open('{');
                    match e {
                        Event::Introduced(v) => self.field("introduced", v),
                        Event::Fixed(v) => self.field("fixed", v),
                        Event::LastAffected(v) => self.field("last_affected", v),
                        Event::Limit(v) => self.field("limit", v),
                    }
                    self.close('}');
                }
                self.close(']');
                self.close('}');
            }
            self.close(']');
        }
        self.strs("versions", &a.versions);
        if let Some(st) = a.status {
            self.key("status");
            self.out.push('"');
            self.out.push_str(st.as_str());
            self.out.push('"');
        }
        self.opt("severity", a.severity.as_ref());
        self.close('}');
    }
}

/// `s` as a JSON string, escaped as serde_json escapes it: `"`, backslash, `\b`, `\f`,
/// `\n`, `\r`, `\t`, other control characters as `\u00xx` (lowercase), nothing else. The
/// text between escapes is found eight bytes at a time (the records' `details` are the
/// longest strings, and most of them have escapes: newlines).
fn escaped(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let bytes = s.as_bytes();
    let (mut start, mut i) = (0, 0);
    while let Some(&b) = bytes.get(i) {
        if let Some(w) = bytes
            .get(i..i + 8)
            .and_then(|c| <[u8; 8]>::try_from(c).ok())
            && !needs_escape(u64::from_le_bytes(w))
        {
            i += 8;
            continue;
        }
        let hex;
        let esc = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0c => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..0x20 => {
                hex = [
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 0xf)],
                ];
                std::str::from_utf8(&hex).unwrap_or_default()
            }
            _ => {
                i += 1;
                continue;
            }
        };
        // `i` is at an ASCII byte and `start` just after one: both are char boundaries.
        out.push_str(s.get(start..i).unwrap_or_default());
        out.push_str(esc);
        i += 1;
        start = i;
    }
    out.push_str(s.get(start..).unwrap_or_default());
    out.push('"');
}

/// Whether one of the eight bytes of `w` is a control character, `"` or backslash (the
/// classic has-zero-byte / has-less-than tests: exact as a yes or no).
fn needs_escape(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    (below_space | zero(w ^ (ONES * u64::from(b'"'))) | zero(w ^ (ONES * u64::from(b'\\')))) != 0
}

/// The stored record of the OSV JSON entry `bytes`, in the source `label` (`None`: the
/// record's own, as [`super::osv`] labels it), when the entry is the common case (see the
/// module docs); `None` when the typed path must read it.
pub(crate) fn prepare(bytes: &[u8], label: Option<&str>) -> Option<Prepared> {
    // One object: arrays and `{"vulns": [...]}` answers go the typed way.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return None;
    }
    // The entry checked as UTF-8 once, whole, rather than each string as serde_json reads
    // it from bytes (a call per string). Not UTF-8: the typed path reports it.
    let text = std::str::from_utf8(bytes).ok()?;
    let mut rec: Record<'_> = serde_json::from_str(text).ok()?;
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
            rec.rating = Some(S::made(t.to_string()));
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
        rec.source = S::made(if eco.is_empty() {
            "osv".to_string()
        } else {
            format!("osv:{}", eco.split(':').next().unwrap_or_default())
        });
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
        rec.source = S::made(label);
    }
    let mut out = String::with_capacity(bytes.len());
    Json {
        out: &mut out,
        first: true,
    }
    .record(&rec);
    let json = Ok(out);
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

/// What the typed path makes of one OSV JSON entry: parse, checks, upstream alias, value
/// caps, [`Prepared::new`]; `None` when it is not exactly one accepted record.
fn typed(bytes: &[u8], label: Option<&str>) -> Option<Prepared> {
    use crate::import::{Item, limited, osv, upstream_alias};
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

/// Whether [`prepare`] either declines `bytes` or makes of them exactly what the typed path
/// makes (with the entry's own source label and with another one): what the importers' fuzz
/// target checks on arbitrary bytes.
pub(crate) fn agrees(bytes: &[u8]) -> bool {
    [None, Some("osv:Label")].into_iter().all(|label| {
        prepare(bytes, label).is_none_or(|fast| typed(bytes, label).as_ref() == Some(&fast))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `bytes` through both paths: the borrowed one either declines or agrees exactly.
    fn same(bytes: &str) -> Option<Prepared> {
        for label in [None, Some("osv:Label")] {
            let fast = prepare(bytes.as_bytes(), label);
            if let Some(f) = &fast {
                assert_eq!(Some(f), typed(bytes.as_bytes(), label).as_ref(), "{bytes}");
            }
        }
        assert!(agrees(bytes.as_bytes()), "{bytes}");
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

    /// Strings the writer did not read from the input (labels, ratings, escaped text) are
    /// escaped as serde_json escapes them; borrowed ones are copied as they are.
    #[test]
    fn written_strings_are_escaped_as_serde_json_does() {
        let bytes = r#"{"id":"A-1","summary":"a\u0001b\\c\"d\/e","details":"caf\u00e9 \ud83d\ude00",
            "affected":[{"package":{"ecosystem":"Go","name":"x/y"},"ranges":[{"type":"GIT","repo":"r","events":[]}],
            "status":"fix_deferred","severity":"Low"}],"database_specific":{"severity":" q\"x\t "}}"#;
        for label in [None, Some("osv:\"odd\\label\u{1}\u{7f}\u{2028}")] {
            let fast = prepare(bytes.as_bytes(), label).expect("taken");
            assert_eq!(
                Some(&fast),
                typed(bytes.as_bytes(), label).as_ref(),
                "{label:?}"
            );
        }
        let p = prepare(bytes.as_bytes(), None).expect("taken");
        assert_eq!(
            json(&p),
            r#"{"id":"A-1","summary":"a\u0001b\\c\"d/e","details":"café 😀","affected":[{"package":{"ecosystem":"Go","name":"x/y"},"ranges":[{"type":"GIT","repo":"r","events":[]}],"status":"fix_deferred","severity":"Low"}],"source":"osv:Go","rating":"q\"x"}"#
        );
    }

    #[test]
    fn escaping_matches_serde_json() {
        let mut cases: Vec<String> = (0u8..0x80).map(|b| char::from(b).to_string()).collect();
        let all: String = (0u8..0x80).map(char::from).collect();
        cases.push(all.clone());
        cases.push(format!("{all}{all}é\u{2028}😀 end"));
        for n in 0..40 {
            // Escapes at every offset of the eight-byte steps.
            let mut t = "abcdefghijklmnopqrstuvwxyzabcdefghijklmn".to_string();
            t.insert(n, ['"', '\\', '\n', '\u{1f}', '\u{7f}', 'é'][n % 6]);
            cases.push(t);
        }
        cases.push(String::new());
        for c in cases {
            let mut out = String::new();
            escaped(&mut out, &c);
            assert_eq!(out, serde_json::to_string(&c).expect("json"), "{c:?}");
        }
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

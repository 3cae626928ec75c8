//! The Debian security tracker: the DSA/DLA list text files and the tracker JSON.
//!
//! # `data/DSA/list`, `data/DLA/list` ([`parse_list`])
//!
//! ```text
//! [29 Mar 2023] DSA-5380-1 xorg-server - security update
//!     {CVE-2023-1393}
//!     [bullseye] - xorg-server 2:1.20.11-1+deb11u6
//!     [buster] - xorg-server <not-affected> (Vulnerable code not present)
//!     NOTE: fixed in testing at time of DSA
//! ```
//!
//! One [`Advisory`] per entry: `id` = `DSA-5380-1`, `aliases` = the ids in `{...}`,
//! `published` = the date (`2023-03-29T00:00:00Z`), `summary` = the rest of the header
//! (`xorg-server - security update`), `details` = the `NOTE:` lines, `source` =
//! `debian-dsa` / `debian-dla`, and one `affected` entry per release line:
//!
//! * ecosystem `Debian:<number>` from the codename ([`release_number`]: buzz 1.1 … woody
//!   3.0, sarge 3.1, etch 4 … bookworm 12, trixie 13, forky 14); lines naming any other
//!   release (sid, a misspelling) are skipped and reported;
//! * name = the source package of the line;
//! * a version `V`: range `ECOSYSTEM [introduced "0", fixed V]`, `status` unset;
//! * `<not-affected>`: no range, `status = NotAffected`;
//! * `<unfixed>`: `[introduced "0"]`, `status = Affected`;
//! * `<end-of-life>`: `[introduced "0"]`, `status = EndOfLife`;
//! * `<no-dsa>` / `<postponed>`: `[introduced "0"]`, `status = FixDeferred` (no DSA; a fix
//!   may come in a point release); `<ignored>`: `WillNotFix`; any other `<tag>`: `Affected`;
//! * a parenthesised note is kept out of the version; an urgency word in it (`(bug #1;
//!   medium)`) becomes `Affected::severity`.
//!
//! `NOTE:` lines are notes even when they look like release lines. Entries without release
//! lines (announcements such as `DSA-4205-1 jessie end-of-life`) are still advisories, with
//! no `affected`.
//!
//! # Tracker JSON ([`parse_tracker_json`])
//!
//! `https://security-tracker.debian.org/tracker/data/json`: `{source package: {CVE: {description,
//! scope, releases: {codename: {status, repositories, fixed_version, urgency, nodsa,
//! nodsa_reason}}}}}`. One advisory per CVE (the entries of every package merged), `source` =
//! `debian-tracker`, `details` = the description, one `affected` per (package, release), with
//! statuses in Trivy's words:
//!
//! | tracker | moat |
//! |---|---|
//! | `resolved`, `fixed_version` `"0"` | no range, `NotAffected` |
//! | `resolved`, `fixed_version` V | `[introduced "0", fixed V]`, status unset (fixed) |
//! | `open`, urgency `end-of-life` | `[introduced "0"]`, `EndOfLife` |
//! | `open`, `nodsa_reason` `ignored` | `[introduced "0"]`, `WillNotFix` |
//! | `open`, `nodsa_reason` `postponed` | `[introduced "0"]`, `FixDeferred` |
//! | `open` (otherwise), `undetermined` | `[introduced "0"]`, `Affected` |
//!
//! `Affected::severity` is the urgency without the `*` marks (`high**` → `high`; `not yet
//! assigned` kept as written; `end-of-life` is a state, not a rating, and is dropped).
//! `sid` (no release number) and unknown codenames are skipped and reported, as are releases
//! that are not objects and a `resolved` release without `fixed_version`.
//!
//! # Errors
//!
//! The `parse_*` functions return the advisories; the `import_*` variants also return the
//! skipped records with reasons (the text of a [`RecordError`]). Bad lines never abort a list
//! import (a truncated last line is reported); a list with no entry at all, or JSON that does
//! not parse, is a [`DebianError`]. Dates are read with `jiff` (a date that is not in the
//! calendar, `31 Apr 2023`, is a bad header).

use moat_model::advisory::{
    Advisory, Affected, AffectedPackage, Event, Range, RangeType, Reference, Status,
};
use serde_json::Value;
use std::collections::HashMap;

/// A Debian file that could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum DebianError {
    #[error("Debian {list} list: no `[DD Mon YYYY] ID ...` entry in {lines} non-empty lines")]
    NoEntries { list: &'static str, lines: usize },
    #[error("Debian tracker JSON: {0}")]
    TrackerJson(#[source] serde_json::Error),
    #[error("Debian tracker JSON: the document is not an object")]
    TrackerNotObject,
}

/// Why one line of a list or one release of the tracker was skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("header without the closing `]` of its date")]
    HeaderBracket,
    #[error("bad date {0:?}")]
    BadDate(String),
    #[error("{id:?} is not a {prefix} id")]
    NotAnId { id: String, prefix: &'static str },
    #[error("release line without the closing `]`")]
    ReleaseBracket,
    #[error("release line without ` - ` after the release")]
    ReleaseDash,
    #[error("release line without a package")]
    NoPackage,
    #[error("release line for {0} without a version or <state>")]
    NoVersion(String),
    #[error("unexpected {0:?} after the version")]
    Trailing(String),
    #[error("unknown release {0:?} (no Debian release number)")]
    UnknownRelease(String),
    #[error("release entry is not an object")]
    ReleaseNotObject,
    #[error("release entry without `status`")]
    NoStatus,
    #[error("`resolved` without a `fixed_version`")]
    ResolvedWithoutFix,
    #[error("unknown status {0:?}")]
    UnknownStatus(String),
}

/// Which list a DSA/DLA text file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    Dsa,
    Dla,
}

impl ListKind {
    /// The `Advisory::source` of its records.
    pub fn source(self) -> &'static str {
        match self {
            ListKind::Dsa => "debian-dsa",
            ListKind::Dla => "debian-dla",
        }
    }

    /// `DSA` / `DLA`.
    pub fn name(self) -> &'static str {
        match self {
            ListKind::Dsa => "DSA",
            ListKind::Dla => "DLA",
        }
    }
}

/// `source` of the records [`parse_tracker_json`] makes.
pub const TRACKER_SOURCE: &str = "debian-tracker";

/// What one file gave: the advisories and the skipped records `(record, reason)`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct DebianImport {
    pub advisories: Vec<Advisory>,
    pub skipped: Vec<(String, String)>,
}

/// The Debian release number of a codename (`bookworm` → `12`), as OSV writes it in
/// `Debian:<number>`.
pub fn release_number(codename: &str) -> Option<&'static str> {
    Some(match codename {
        "buzz" => "1.1",
        "rex" => "1.2",
        "bo" => "1.3",
        "hamm" => "2.0",
        "slink" => "2.1",
        "potato" => "2.2",
        "woody" => "3.0",
        "sarge" => "3.1",
        "etch" => "4",
        "lenny" => "5",
        "squeeze" => "6",
        "wheezy" => "7",
        "jessie" => "8",
        "stretch" => "9",
        "buster" => "10",
        "bullseye" => "11",
        "bookworm" => "12",
        "trixie" => "13",
        "forky" => "14",
        _ => return None,
    })
}

/// `data/DSA/list` or `data/DLA/list` text.
pub fn parse_list(bytes: &[u8], kind: ListKind) -> Result<Vec<Advisory>, DebianError> {
    import_list(bytes, kind).map(|r| r.advisories)
}

/// The tracker's JSON (`{source package: {CVE: {releases: {...}}}}`).
pub fn parse_tracker_json(bytes: &[u8]) -> Result<Vec<Advisory>, DebianError> {
    import_tracker_json(bytes).map(|r| r.advisories)
}

fn range(fixed: Option<&str>) -> Vec<Range> {
    let mut events = vec![Event::Introduced("0".into())];
    if let Some(v) = fixed {
        events.push(Event::Fixed(v.to_string()));
    }
    vec![Range {
        kind: RangeType::Ecosystem,
        repo: None,
        events,
    }]
}

fn tracker_reference(id: &str) -> Reference {
    Reference {
        kind: "ADVISORY".into(),
        url: format!("https://security-tracker.debian.org/tracker/{id}"),
    }
}

const URGENCIES: [&str; 4] = ["unimportant", "low", "medium", "high"];

/// [`parse_list`] with the skipped lines.
pub fn import_list(bytes: &[u8], kind: ListKind) -> Result<DebianImport, DebianError> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = DebianImport::default();
    if matches!(text, std::borrow::Cow::Owned(_)) {
        out.skipped.push((
            "(file)".into(),
            "invalid UTF-8 was replaced by U+FFFD".into(),
        ));
    }
    let mut notes: Vec<String> = Vec::new();
    let mut seen_lines = 0usize;
    for (n, line) in text.lines().enumerate() {
        let lineno = n + 1;
        let record = |msg: &str| (format!("line {lineno}: {}", line.trim()), msg.to_string());
        if line.trim().is_empty() {
            continue;
        }
        seen_lines += 1;
        if line.starts_with('[') {
            flush_notes(&mut out, &mut notes);
            match parse_header(line, kind) {
                Ok(adv) => out.advisories.push(adv),
                Err(e) => out.skipped.push(record(&e.to_string())),
            }
            continue;
        }
        let body = line.trim();
        let Some(adv) = out.advisories.last_mut() else {
            out.skipped
                .push(record("a body line before any DSA/DLA header"));
            continue;
        };
        if let Some(note) = body.strip_prefix("NOTE:") {
            notes.push(note.trim().to_string());
        } else if let Some(inner) = body.strip_prefix('{') {
            let Some(inner) = inner.strip_suffix('}') else {
                out.skipped
                    .push(record("an id list without its closing `}`"));
                continue;
            };
            for id in inner.split_whitespace() {
                if !adv.aliases.iter().any(|a| a == id) && id != adv.id {
                    adv.aliases.push(id.to_string());
                }
            }
        } else if body.starts_with('[') {
            match parse_release_line(body) {
                Ok(a) => adv.affected.push(a),
                Err(e) => out.skipped.push(record(&e.to_string())),
            }
        } else {
            out.skipped.push(record("unrecognised line"));
        }
    }
    flush_notes(&mut out, &mut notes);
    if out.advisories.is_empty() && seen_lines > 0 {
        return Err(DebianError::NoEntries {
            list: kind.name(),
            lines: seen_lines,
        });
    }
    Ok(out)
}

fn flush_notes(out: &mut DebianImport, notes: &mut Vec<String>) {
    if notes.is_empty() {
        return;
    }
    if let Some(adv) = out.advisories.last_mut() {
        adv.details = Some(notes.join("\n"));
    }
    notes.clear();
}

/// `[29 Mar 2023] DSA-5380-1 xorg-server - security update`
fn parse_header(line: &str, kind: ListKind) -> Result<Advisory, RecordError> {
    let (date, rest) = line[1..]
        .split_once(']')
        .ok_or(RecordError::HeaderBracket)?;
    let published = iso_date(date.trim()).ok_or_else(|| RecordError::BadDate(date.into()))?;
    let rest = rest.trim();
    let (id, title) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let prefix = match kind {
        ListKind::Dsa => "DSA-",
        ListKind::Dla => "DLA-",
    };
    let not_an_id = || RecordError::NotAnId {
        id: id.to_string(),
        prefix,
    };
    let number = id.strip_prefix(prefix).ok_or_else(not_an_id)?;
    if number.is_empty()
        || !number
            .split('-')
            .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
    {
        return Err(not_an_id());
    }
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    Ok(Advisory {
        id: id.to_string(),
        published: Some(published),
        summary: (!title.is_empty()).then_some(title),
        references: vec![tracker_reference(id)],
        source: kind.source().to_string(),
        ..Advisory::default()
    })
}

/// `29 Mar 2023` → `2023-03-29T00:00:00Z` (a four-digit year; days that are not in the
/// calendar are refused).
fn iso_date(s: &str) -> Option<String> {
    let words: Vec<&str> = s.split_whitespace().collect();
    let [_, _, year] = words.as_slice() else {
        return None;
    };
    if year.len() != 4 || !year.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let date = jiff::civil::Date::strptime("%d %b %Y", words.join(" ")).ok()?;
    Some(format!("{date}T00:00:00Z"))
}

/// `[bullseye] - pkg 1.2-3 (note)` / `[woody] - pkg <not-affected> (reason)`.
fn parse_release_line(body: &str) -> Result<Affected, RecordError> {
    let (codename, rest) = body[1..]
        .split_once(']')
        .ok_or(RecordError::ReleaseBracket)?;
    let codename = codename.trim();
    let rest = rest.trim_start();
    let rest = rest.strip_prefix('-').ok_or(RecordError::ReleaseDash)?;
    // The note (in parentheses) is not part of the version.
    let (main, note) = match rest.find('(') {
        Some(i) => (&rest[..i], Some(&rest[i..])),
        None => (rest, None),
    };
    let mut words = main.split_whitespace();
    let name = words.next().ok_or(RecordError::NoPackage)?;
    let version = words
        .next()
        .ok_or_else(|| RecordError::NoVersion(name.to_string()))?;
    if let Some(extra) = words.next() {
        return Err(RecordError::Trailing(extra.to_string()));
    }
    let number = release_number(codename)
        .ok_or_else(|| RecordError::UnknownRelease(codename.to_string()))?;
    let severity = note.and_then(|n| {
        n.trim_matches(|c| c == '(' || c == ')')
            .split(';')
            .map(str::trim)
            .find(|w| URGENCIES.contains(w))
            .map(str::to_string)
    });
    let (ranges, status) = match version {
        "<not-affected>" => (Vec::new(), Some(Status::NotAffected)),
        "<unfixed>" | "<undetermined>" => (range(None), Some(Status::Affected)),
        "<end-of-life>" => (range(None), Some(Status::EndOfLife)),
        "<no-dsa>" | "<postponed>" => (range(None), Some(Status::FixDeferred)),
        "<ignored>" => (range(None), Some(Status::WillNotFix)),
        v if v.starts_with('<') => (range(None), Some(Status::Affected)),
        v => (range(Some(v)), None),
    };
    Ok(Affected {
        package: AffectedPackage {
            ecosystem: format!("Debian:{number}"),
            name: name.to_string(),
            purl: None,
        },
        ranges,
        versions: Vec::new(),
        status,
        severity,
    })
}

/// [`parse_tracker_json`] with the skipped records.
pub fn import_tracker_json(bytes: &[u8]) -> Result<DebianImport, DebianError> {
    let doc: Value = serde_json::from_slice(bytes).map_err(DebianError::TrackerJson)?;
    let Value::Object(packages) = doc else {
        return Err(DebianError::TrackerNotObject);
    };
    let mut out = DebianImport::default();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (pkg, cves) in &packages {
        let Value::Object(cves) = cves else {
            out.skipped
                .push((pkg.clone(), "package entry is not an object".into()));
            continue;
        };
        for (cve, entry) in cves {
            let record = format!("{pkg} {cve}");
            let Value::Object(entry) = entry else {
                out.skipped
                    .push((record, "CVE entry is not an object".into()));
                continue;
            };
            let i = *index.entry(cve.clone()).or_insert_with(|| {
                // `DEBIAN-CVE-…` (as OSV names the tracker's records), the CVE as an alias:
                // the database keys records by id, and other feeds use the bare CVE id.
                out.advisories.push(Advisory {
                    id: format!("DEBIAN-{cve}"),
                    aliases: vec![cve.clone()],
                    references: vec![tracker_reference(cve)],
                    source: TRACKER_SOURCE.to_string(),
                    ..Advisory::default()
                });
                out.advisories.len() - 1
            });
            let adv = &mut out.advisories[i];
            if adv.details.is_none()
                && let Some(Value::String(d)) = entry.get("description")
                && !d.trim().is_empty()
            {
                adv.details = Some(d.trim().to_string());
            }
            let releases = match entry.get("releases") {
                Some(Value::Object(r)) => r,
                Some(Value::Array(a)) if a.is_empty() => {
                    out.skipped
                        .push((record, "no releases (an empty list)".into()));
                    continue;
                }
                _ => {
                    out.skipped
                        .push((record, "`releases` is not an object".into()));
                    continue;
                }
            };
            for (codename, rel) in releases {
                let record = format!("{pkg} {cve} {codename}");
                let Some(number) = release_number(codename) else {
                    let why = if codename == "sid" {
                        "sid (unstable) has no release number".to_string()
                    } else {
                        format!("unknown release {codename:?}")
                    };
                    out.skipped.push((record, why));
                    continue;
                };
                match tracker_release(rel) {
                    Ok((ranges, status, severity)) => adv.affected.push(Affected {
                        package: AffectedPackage {
                            ecosystem: format!("Debian:{number}"),
                            name: pkg.clone(),
                            purl: None,
                        },
                        ranges,
                        versions: Vec::new(),
                        status,
                        severity,
                    }),
                    Err(e) => out.skipped.push((record, e.to_string())),
                }
            }
        }
    }
    Ok(out)
}

type ReleaseState = (Vec<Range>, Option<Status>, Option<String>);

fn tracker_release(rel: &Value) -> Result<ReleaseState, RecordError> {
    let Value::Object(rel) = rel else {
        return Err(RecordError::ReleaseNotObject);
    };
    let text = |k: &str| rel.get(k).and_then(Value::as_str).map(str::trim);
    let urgency = text("urgency").map(|u| u.trim_end_matches('*').trim().to_string());
    let severity = urgency
        .clone()
        .filter(|u| !u.is_empty() && u != "end-of-life");
    let status = text("status").ok_or(RecordError::NoStatus)?;
    let (ranges, state) = match status {
        "resolved" => match text("fixed_version") {
            Some("0") => (Vec::new(), Some(Status::NotAffected)),
            Some(v) if !v.is_empty() => (range(Some(v)), None),
            _ => return Err(RecordError::ResolvedWithoutFix),
        },
        "open" | "undetermined" => {
            let state = if urgency.as_deref() == Some("end-of-life") {
                Status::EndOfLife
            } else {
                match text("nodsa_reason") {
                    Some("ignored") => Status::WillNotFix,
                    Some("postponed") => Status::FixDeferred,
                    _ => Status::Affected,
                }
            };
            (range(None), Some(state))
        }
        other => return Err(RecordError::UnknownStatus(other.to_string())),
    };
    Ok((ranges, state, severity))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_release_lines() {
        assert_eq!(
            iso_date("05 Aug 2002").as_deref(),
            Some("2002-08-05T00:00:00Z")
        );
        assert_eq!(iso_date("5 Aug 02"), None);
        assert_eq!(
            iso_date("5  Aug 2002").as_deref(),
            Some("2002-08-05T00:00:00Z")
        );
        assert_eq!(iso_date("31 Apr 2023"), None);
        assert_eq!(iso_date("29 Feb 2023"), None);
        assert_eq!(
            iso_date("29 Feb 2024").as_deref(),
            Some("2024-02-29T00:00:00Z")
        );
        assert_eq!(iso_date("29 Mar 2023 x"), None);
        assert_eq!(iso_date("29 Mär 2023"), None);
        let a = parse_release_line("[sarge] - awstats 6.4-1sarge1 (bug #322591; medium)").unwrap();
        assert_eq!(a.package.ecosystem, "Debian:3.1");
        assert_eq!(a.severity.as_deref(), Some("medium"));
        assert_eq!(a.ranges[0].events[1], Event::Fixed("6.4-1sarge1".into()));
        let a = parse_release_line("[woody] - sash <not-affected> (Older zlib not vulnerable)")
            .unwrap();
        assert_eq!(a.status, Some(Status::NotAffected));
        assert!(a.ranges.is_empty());
        assert!(parse_release_line("[sid] - x 1.0").is_err());
        assert!(parse_release_line("[bullseye] - xorg-ser").is_err());
    }
}

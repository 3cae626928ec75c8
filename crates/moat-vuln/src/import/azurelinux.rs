//! Azure Linux and CBL-Mariner advisories from Microsoft's OVAL definitions
//! (`azurelinux-3.0-oval.xml`, `cbl-mariner-2.0-oval.xml`, `cbl-mariner-1.0-oval.xml`).
//!
//! ## Format
//! OVAL 5 definitions (<https://oval.mitre.org/language/version5.11/>): one `<definition
//! class="vulnerability">` per CVE and package, with `<metadata>` (`<title>`, `<reference
//! source="CVE" ref_id ref_url>`, `<patchable>`, `<advisory_date>`, `<severity>`,
//! `<description>`) and a `<criteria operator="AND">` of `<criterion test_ref>`s. Each test
//! (`<rpminfo_test>`, after the definitions) names an `<rpminfo_object>` (the package name)
//! and an `<rpminfo_state>` (an `<evr operation=...>`). Unlike Oracle's, the criterion
//! comments do not carry the versions whole (`Package mysql is earlier than 8.0.33-1`, the
//! state says `0:8.0.33-1.cm2`), so the tests are resolved: the document is read in one
//! pass, the definitions kept until the tests, objects and states that follow them are read.
//!
//! | state `operation` | range |
//! |---|---|
//! | `less than` | fixed in that version |
//! | `less than or equal` | up to and including it, no fix (`patchable` false) |
//! | `greater than` | from that version (OSV ranges start inclusive: the bound is a bare version with the dist tag, `0:1.19.0.cm2`, below every real release of it, `1.19.0-1.cm2`) |
//!
//! A definition whose `patchable` is `Not Applicable` says the CVE never applied, or no
//! longer does: it becomes nothing (as vunnel reads it).
//!
//! ## Records
//! One advisory per CVE and release: id `AZL-<release>-<CVE>` (`AZL-2-CVE-2023-29404`), the
//! CVE as its alias, `rating` the severity, an `affected[]` entry per package of ecosystem
//! `Azure Linux:<release>` (CBL-Mariner 1.0 and 2.0 are `Azure Linux:1` and `:2`, as OSV files
//! them). The release is the dist tag of the versions (`.cm1`, `.cm2`, `.azl3`); a
//! definition without one is malformed.
//!
//! Source label: `azurelinux-oval`.

use super::xml::{El, XmlError, for_each_record_of};
use super::{Item, Sink, Stop};
use moat_model::advisory::{
    Advisory, Affected, AffectedPackage, Event, Range, RangeType, Reference, Status,
};
use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;

/// The source label of Azure Linux's OVAL records.
pub const SOURCE: &str = "azurelinux-oval";

/// Definitions, tests, objects and states held at most while a document is read (each a
/// few short strings): the full Azure Linux 3.0 file has tens of thousands.
const MAX_HELD: usize = 2_000_000;

/// Why an OVAL file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AzureOvalError {
    #[error(transparent)]
    Xml(#[from] XmlError),
    #[error("more than {MAX_HELD} definitions, tests, objects and states")]
    TooMany,
}

/// One definition as read: what its metadata says and the tests its criteria name.
struct Definition {
    cve: String,
    title: Option<String>,
    description: Option<String>,
    severity: Option<String>,
    date: Option<String>,
    url: Option<String>,
    not_applicable: bool,
    tests: Vec<String>,
}

/// What a document holds, by OVAL id.
#[derive(Default)]
struct Document {
    definitions: Vec<Definition>,
    /// test -> (object, state)
    tests: HashMap<String, (String, String)>,
    /// object -> package name
    objects: HashMap<String, String>,
    /// state -> (operation, evr)
    states: HashMap<String, (String, String)>,
}

impl Document {
    fn held(&self) -> usize {
        self.definitions.len() + self.tests.len() + self.objects.len() + self.states.len()
    }

    fn take(&mut self, el: El) {
        let id = el.attr("id").unwrap_or_default().to_string();
        match el.name.as_str() {
            "definition" => {
                if let Some(d) = definition(&el) {
                    self.definitions.push(d);
                }
            }
            "rpminfo_test" => {
                let object = el.child("object").and_then(|o| o.attr("object_ref"));
                let state = el.child("state").and_then(|s| s.attr("state_ref"));
                if let (Some(o), Some(s)) = (object, state) {
                    self.tests.insert(id, (o.to_string(), s.to_string()));
                }
            }
            "rpminfo_object" => {
                if let Some(name) = el.text_of("name") {
                    self.objects.insert(id, name);
                }
            }
            "rpminfo_state" => {
                if let Some(evr) = el.child("evr") {
                    let op = evr.attr("operation").unwrap_or("equals").to_string();
                    self.states.insert(id, (op, evr.text.trim().to_string()));
                }
            }
            _ => {}
        }
    }
}

fn definition(def: &El) -> Option<Definition> {
    let meta = def.child("metadata")?;
    let cve_ref = meta.children("reference").find(|r| {
        r.attr("source") == Some("CVE") && r.attr("ref_id").is_some_and(|id| id.starts_with("CVE-"))
    });
    let cve = match cve_ref.and_then(|r| r.attr("ref_id")) {
        Some(id) => id.to_string(),
        None => meta
            .text_of("title")?
            .split_whitespace()
            .next()
            .filter(|t| t.starts_with("CVE-"))?
            .to_string(),
    };
    let mut tests = Vec::new();
    let mut stack: Vec<&El> = def.children("criteria").collect();
    while let Some(c) = stack.pop() {
        for child in &c.children {
            match child.name.as_str() {
                "criterion" => tests.extend(child.attr("test_ref").map(str::to_string)),
                "criteria" => stack.push(child),
                _ => {}
            }
        }
    }
    Some(Definition {
        cve,
        title: meta.text_of("title"),
        description: meta.text_of("description"),
        severity: meta.text_of("severity"),
        date: meta
            .text_of("advisory_date")
            .filter(|d| d.len() >= 10 && d.is_char_boundary(10)),
        url: cve_ref
            .and_then(|r| r.attr("ref_url"))
            .filter(|u| !u.is_empty())
            .map(str::to_string),
        not_applicable: meta
            .text_of("patchable")
            .is_some_and(|p| p.eq_ignore_ascii_case("not applicable")),
        tests,
    })
}

/// The release a version's dist tag names: `0:8.0.33-1.cm2` -> `2`, `0:3.2.8-1.azl3` -> `3`.
fn release_of(evr: &str) -> Option<&str> {
    let tag = evr.rsplit('.').next()?;
    let digits = tag.strip_prefix("azl").or_else(|| tag.strip_prefix("cm"))?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// The advisories of a document's definitions, one per CVE and release, in the order of
/// their first definitions; a definition whose tests cannot be resolved is malformed.
fn advisories(doc: &Document) -> (Vec<Advisory>, Vec<(String, String)>) {
    let mut out: Vec<Advisory> = Vec::new();
    let mut at: BTreeMap<String, usize> = BTreeMap::new();
    let mut malformed = Vec::new();
    for d in &doc.definitions {
        if d.not_applicable {
            continue;
        }
        // package -> its range's events, the release from the versions' dist tag
        let mut name: Option<&str> = None;
        let mut events: Vec<Event> = Vec::new();
        let mut release: Option<&str> = None;
        let mut problem = None;
        for t in &d.tests {
            let resolved = doc
                .tests
                .get(t)
                .and_then(|(o, s)| Some((doc.objects.get(o)?.as_str(), doc.states.get(s)?)));
            let Some((package, (op, evr))) = resolved else {
                problem = Some(format!(
                    "test {t} does not resolve to a package and a version"
                ));
                break;
            };
            if name.is_some_and(|n| n != package) {
                problem = Some(format!(
                    "tests of two packages ({}, {package})",
                    name.unwrap_or_default()
                ));
                break;
            }
            name = Some(package);
            release = release.or(release_of(evr));
            match op.as_str() {
                "less than" => events.push(Event::Fixed(evr.clone())),
                "less than or equal" => events.push(Event::LastAffected(evr.clone())),
                "greater than" | "greater than or equal" => {
                    events.insert(0, Event::Introduced(evr.clone()))
                }
                other => {
                    problem = Some(format!("an evr operation moat does not read: {other:?}"));
                    break;
                }
            }
        }
        let (Some(name), Some(release), None) = (name, release, &problem) else {
            let why = problem.unwrap_or_else(|| {
                if name.is_none() {
                    "no package test".to_string()
                } else {
                    "no release in the versions' dist tag (.cmN, .azlN)".to_string()
                }
            });
            malformed.push((d.cve.clone(), why));
            continue;
        };
        if !matches!(events.first(), Some(Event::Introduced(_))) {
            events.insert(0, Event::Introduced("0".into()));
        }
        // without a fix (an unfixed `<=` range) the package is `affected`
        let fixed = events.iter().any(|e| matches!(e, Event::Fixed(_)));
        let affected = Affected {
            package: AffectedPackage {
                ecosystem: format!("Azure Linux:{release}"),
                name: name.to_string(),
                purl: None,
            },
            ranges: vec![Range {
                kind: RangeType::Ecosystem,
                repo: None,
                events,
            }],
            status: (!fixed).then_some(Status::Affected),
            ..Affected::default()
        };
        let id = format!("AZL-{release}-{}", d.cve);
        let i = *at.entry(id.clone()).or_insert_with(|| {
            let published = d.date.as_ref().map(|t| format!("{}T00:00:00Z", &t[..10]));
            out.push(Advisory {
                id,
                published: published.clone(),
                modified: published,
                aliases: vec![d.cve.clone()],
                summary: d.title.clone(),
                details: d.description.clone(),
                references: d
                    .url
                    .iter()
                    .map(|u| Reference {
                        kind: "WEB".into(),
                        url: u.clone(),
                    })
                    .collect(),
                source: SOURCE.to_string(),
                rating: d.severity.clone(),
                ..Advisory::default()
            });
            out.len() - 1
        });
        if let Some(a) = out.get_mut(i)
            && !a.affected.contains(&affected)
        {
            a.affected.push(affected);
        }
    }
    (out, malformed)
}

/// Every definition of an Azure Linux / CBL-Mariner OVAL document, as advisories handed to
/// `sink` once the document is read (its tests come after its definitions). The inner
/// result says whether the sink stopped.
pub fn stream<R: BufRead>(
    reader: R,
    sink: &mut Sink<'_>,
) -> Result<Result<(), Stop>, AzureOvalError> {
    let mut doc = Document::default();
    let mut over = false;
    let read = for_each_record_of(
        reader,
        &[
            "definition",
            "rpminfo_test",
            "rpminfo_object",
            "rpminfo_state",
        ],
        &mut |el| {
            if doc.held() >= MAX_HELD {
                over = true;
                return Err(Stop);
            }
            doc.take(el);
            Ok(())
        },
    )?;
    if over {
        return Err(AzureOvalError::TooMany);
    }
    if let Err(stop) = read {
        return Ok(Err(stop));
    }
    let (advisories, malformed) = advisories(&doc);
    let run = || -> Result<(), Stop> {
        for _ in &doc.definitions {
            sink(Item::File)?;
        }
        for a in advisories {
            sink(Item::Advisory(a))?;
        }
        for (cve, why) in malformed {
            sink(Item::Malformed(cve, why))?;
        }
        Ok(())
    };
    Ok(run())
}

/// Every advisory of an Azure Linux / CBL-Mariner OVAL document in memory.
pub fn parse(bytes: &[u8]) -> Result<Vec<Advisory>, AzureOvalError> {
    super::collect_advisories(|sink| stream(bytes, sink))
}

#[cfg(test)]
mod tests {
    use super::release_of;

    #[test]
    fn the_release_is_the_dist_tag() {
        assert_eq!(release_of("0:8.0.33-1.cm2"), Some("2"));
        assert_eq!(release_of("0:1.19.0.cm2"), Some("2"));
        assert_eq!(release_of("0:3.2.8-1.azl3"), Some("3"));
        assert_eq!(release_of("0:2.28-19.cm1"), Some("1"));
        for none in ["0:1.2-3", "0:1.2-3.el9", "0:1.2-3.cm", "0:1.2-3.azlx", ""] {
            assert_eq!(release_of(none), None, "{none}");
        }
    }
}

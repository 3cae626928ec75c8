//! Oracle Linux ELSA advisories from Oracle's OVAL definitions
//! (`com.oracle.elsa-all.xml.bz2`, or one ELSA's `.xml`).
//!
//! ## Format
//! OVAL 5 definitions (<https://oval.mitre.org/language/version5.3/>): one
//! `<definition class="patch">` per ELSA, with `<metadata>` (`<title>`, `<reference
//! source="elsa"|"CVE" ref_id ref_url>`, `<description>`, `<advisory>` with `<severity>`,
//! `<issued date>` and `<cve cvss3="score/vector">`) and a `<criteria>` tree. Oracle writes
//! every test's meaning into its criterion's `comment`, which is what is read here (as
//! vunnel and trivy do), so the `<tests>`, `<objects>` and `<states>` sections that follow
//! the definitions are not needed and the file is read in one streaming pass:
//!
//! | comment | meaning |
//! |---|---|
//! | `Oracle Linux 8 is installed` | the release of the criteria it sits in |
//! | `Oracle Linux arch is aarch64` | the architecture of the criteria it sits in |
//! | `openssl is earlier than 2:1.1.1g-15.ksplice1.el8_3` | a package and its fixed version |
//! | `openssl is signed with the Oracle Linux 8 key`, `openssl is ksplice-based` | ignored (Ksplice builds are told by their version, see [`crate::distro`]) |
//!
//! ## Records
//! One advisory per definition: id `ELSA-2022-4803`, the CVEs as aliases, `rating` the
//! severity (`IMPORTANT`), CVSS vectors from the `<cve>` elements. Each package becomes an
//! `affected[]` entry of ecosystem `Oracle Linux:<release>` with an `ECOSYSTEM` range
//! `introduced 0, fixed <EVR>`; a package respun per architecture at different versions
//! gets one entry per architecture (its purl names it, see [`crate::distro::applies`]).
//!
//! Azure Linux's OVAL is read by [`super::azurelinux`] (its versions are in its tests' states);
//! SUSE's is not read: OSV publishes its data.
//!
//! Source label: `oracle-oval`.

use super::alas::entries;
use super::xml::{El, XmlError, for_each_record};
use super::{Item, Sink, Stop};
use moat_model::advisory::{Advisory, Reference, SeverityScore};
use std::collections::BTreeMap;
use std::io::BufRead;

/// The source label of Oracle's OVAL records.
pub const SOURCE: &str = "oracle-oval";

/// Why an OVAL file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OvalError {
    #[error(transparent)]
    Xml(#[from] XmlError),
}

/// What a criteria block's criterion comments set for everything inside it.
#[derive(Debug, Clone, Default)]
struct Context {
    release: Option<String>,
    arch: Option<String>,
}

/// (release, name) -> architecture ("" for any) -> fixed EVR.
type Fixes = BTreeMap<(String, String), BTreeMap<String, String>>;

fn walk(criteria: &El, inherited: &Context, fixes: &mut Fixes, order: &mut Vec<(String, String)>) {
    let mut ctx = inherited.clone();
    // Release and architecture criteria come first in their block, but read them all first
    // anyway: they apply to the whole block.
    for c in criteria.children("criterion") {
        let comment = c.attr("comment").unwrap_or_default();
        if let Some(rest) = comment.strip_prefix("Oracle Linux ") {
            if let Some(release) = rest.strip_suffix(" is installed") {
                ctx.release = Some(release.trim().to_string());
            } else if let Some(arch) = rest.strip_prefix("arch is ") {
                ctx.arch = Some(arch.trim().to_string());
            }
        }
    }
    for child in &criteria.children {
        match child.name.as_str() {
            "criterion" => {
                let comment = child.attr("comment").unwrap_or_default();
                let Some((name, evr)) = comment.split_once(" is earlier than ") else {
                    continue;
                };
                let Some(release) = ctx.release.clone() else {
                    continue;
                };
                let key = (release, name.trim().to_string());
                if !fixes.contains_key(&key) {
                    order.push(key.clone());
                }
                let arch = ctx.arch.clone().unwrap_or_default();
                let evr = evr.trim().to_string();
                let per_arch = fixes.entry(key).or_default();
                // Two fixes for one package and architecture: the lower one is what fixed it.
                match per_arch.get(&arch) {
                    Some(old)
                        if moat_model::version::compare(
                            moat_model::version::Scheme::Rpm,
                            old,
                            &evr,
                        )
                        .is_le() => {}
                    _ => {
                        per_arch.insert(arch, evr);
                    }
                }
            }
            "criteria" => walk(child, &ctx, fixes, order),
            _ => {}
        }
    }
}

/// One ELSA definition as an advisory (`None` when it has no ELSA id).
pub fn advisory(def: &El) -> Option<Advisory> {
    let meta = def.child("metadata")?;
    let refs: Vec<&El> = meta.children("reference").collect();
    let elsa = refs.iter().find(|r| {
        r.attr("source")
            .is_some_and(|s| s.eq_ignore_ascii_case("elsa"))
    });
    let id = elsa
        .and_then(|r| r.attr("ref_id"))
        .map(str::to_string)
        .or_else(|| {
            meta.text_of("title")
                .and_then(|t| t.split(':').next().map(|s| s.trim().to_string()))
                .filter(|t| t.starts_with("ELSA-"))
        })?;
    let mut aliases: Vec<String> = Vec::new();
    let mut references: Vec<Reference> = Vec::new();
    for r in &refs {
        if let Some(url) = r.attr("ref_url").filter(|u| !u.is_empty()) {
            references.push(Reference {
                kind: if r.attr("source") == Some("CVE") {
                    "WEB".into()
                } else {
                    "ADVISORY".into()
                },
                url: url.to_string(),
            });
        }
        if r.attr("source") == Some("CVE")
            && let Some(cve) = r.attr("ref_id").filter(|c| c.starts_with("CVE-"))
            && !aliases.iter().any(|a| a == cve)
        {
            aliases.push(cve.to_string());
        }
    }
    let advisory = meta.child("advisory");
    let mut severity: Vec<SeverityScore> = Vec::new();
    for cve in advisory.into_iter().flat_map(|a| a.children("cve")) {
        let id = cve.text.trim();
        if id.starts_with("CVE-") && !aliases.iter().any(|a| a == id) {
            aliases.push(id.to_string());
        }
        for (attr, kind) in [("cvss3", "CVSS_V3"), ("cvss2", "CVSS_V2")] {
            if let Some(v) = cve
                .attr(attr)
                .and_then(|s| s.split_once('/'))
                .map(|(_, v)| v)
                && !v.is_empty()
                && !severity.iter().any(|s| s.score == v)
            {
                severity.push(SeverityScore {
                    kind: kind.into(),
                    score: v.to_string(),
                });
            }
        }
    }
    let mut fixes = Fixes::new();
    let mut order = Vec::new();
    for c in def.children("criteria") {
        walk(c, &Context::default(), &mut fixes, &mut order);
    }
    let mut affected = Vec::new();
    for key in order {
        let Some(arches) = fixes.get(&key) else {
            continue;
        };
        let (release, name) = &key;
        // An architecture-less fix covers every architecture.
        let arches = match arches.get("") {
            Some(evr) => BTreeMap::from([(String::new(), evr.clone())]),
            None => arches.clone(),
        };
        affected.extend(entries(
            &format!("Oracle Linux:{release}"),
            "oraclelinux",
            name,
            &arches,
        ));
    }
    let issued = advisory
        .and_then(|a| a.child("issued"))
        .and_then(|i| i.attr("date"))
        .filter(|d| d.len() == 10)
        .map(|d| format!("{d}T00:00:00Z"));
    Some(Advisory {
        id,
        published: issued.clone(),
        modified: issued,
        aliases,
        summary: meta.text_of("title"),
        details: meta.text_of("description"),
        severity,
        affected,
        references,
        source: SOURCE.to_string(),
        rating: advisory.and_then(|a| a.text_of("severity")),
        ..Advisory::default()
    })
}

/// Every ELSA definition of an OVAL document, handed to `sink` as it is read. The inner
/// result says whether the sink stopped.
pub fn stream<R: BufRead>(reader: R, sink: &mut Sink<'_>) -> Result<Result<(), Stop>, OvalError> {
    Ok(for_each_record(reader, "definition", &mut |d| {
        sink(Item::File)?;
        match advisory(&d) {
            Some(a) => sink(Item::Advisory(a)),
            None => Ok(()),
        }
    })?)
}

/// Every ELSA definition of an OVAL document in memory.
pub fn parse(bytes: &[u8]) -> Result<Vec<Advisory>, OvalError> {
    super::collect_advisories(|sink| stream(bytes, sink))
}

//! Red Hat's CSAF 2.0 documents: VEX files (one CVE each,
//! `https://security.access.redhat.com/data/csaf/v2/vex/`) and security advisories (one RHSA
//! each, `.../csaf/v2/advisories/`).
//!
//! ## Format
//! CSAF 2.0 (<https://docs.oasis-open.org/csaf/csaf/v2.0/csaf-v2.0.html>): `document`
//! (`category` `csaf_vex` or `csaf_security_advisory`, `tracking.id`, dates,
//! `aggregate_severity`), `product_tree` (`branches` whose leaf products carry a
//! `product_identification_helper`: a CPE for a product stream, a purl for a package; and
//! `relationships` joining a package to a stream as one product id,
//! `AppStream-9.2.0.Z.EUS:curl-0:7.76.1-23.el9_2.4.x86_64` or
//! `red_hat_enterprise_linux_9:samba`) and `vulnerabilities` (`cve`, `product_status`,
//! `remediations`, `threats`, `scores`, `notes`).
//!
//! ## Records
//! One advisory per vulnerability: id `REDHAT-<CVE>` for a VEX document (the CVE as alias),
//! the RHSA id for an advisory (its CVEs as aliases). Each product id becomes an
//! `affected[]` entry whose ecosystem is the stream's CPE as OSV writes Red Hat's
//! (`cpe:/a:redhat:enterprise_linux:9::appstream` -> `Red Hat:enterprise_linux:9::appstream`,
//! which [`crate::distro::release_key`] files under `Red Hat:9`; extended-support streams
//! stay separate) and whose purl is the package's (its `arch` and `rpmmod` qualifiers are
//! what [`crate::distro::applies`] checks):
//!
//! | product status | entry |
//! |---|---|
//! | `fixed` | `ECOSYSTEM` range `introduced 0, fixed <epoch>:<version>-<release>` |
//! | `known_affected` | `status`: `will_not_fix` (remediation `no_fix_planned`, "Will not fix"), `end_of_life` ("Out of support scope"), `fix_deferred` ("Fix deferred"), else `affected`; no range |
//! | `known_not_affected`, `under_investigation` | none (nothing to report) |
//!
//! `rating` is the document's `aggregate_severity` (`Moderate`); CVSS vectors come from
//! `scores`, the summary from the vulnerability's title, details from its `description`
//! note. Limits: [`MAX_PRODUCTS`] products per document, branch depth [`MAX_DEPTH`].
//!
//! Source label: `redhat-csaf`.

use moat_model::Purl;
use moat_model::advisory::{
    Advisory, Affected, AffectedPackage, Event, Range, RangeType, Reference, SeverityScore, Status,
};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// The source label of Red Hat's CSAF records.
pub const SOURCE: &str = "redhat-csaf";
/// Most products read from one document.
pub const MAX_PRODUCTS: usize = 500_000;
/// Deepest product-tree branch read.
pub const MAX_DEPTH: usize = 32;

/// Why a CSAF document was not read.
#[derive(Debug, thiserror::Error)]
pub enum CsafError {
    #[error("not JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    #[error("not a CSAF document (no document.category)")]
    NotCsaf,
    #[error("CSAF category {0:?} is not read (only csaf_vex and csaf_security_advisory)")]
    Category(String),
    #[error("more than {MAX_PRODUCTS} products")]
    TooManyProducts,
}

/// What the product tree says about one product id.
#[derive(Debug, Default, Clone)]
struct Product {
    cpe: Option<String>,
    purl: Option<String>,
    name: String,
}

fn collect_products(
    branches: &[Value],
    depth: usize,
    out: &mut HashMap<String, Product>,
) -> Result<(), CsafError> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    for b in branches {
        if let Some(p) = b.get("product") {
            add_product(p, out)?;
        }
        if let Some(children) = b.get("branches").and_then(Value::as_array) {
            collect_products(children, depth + 1, out)?;
        }
    }
    Ok(())
}

fn add_product(p: &Value, out: &mut HashMap<String, Product>) -> Result<(), CsafError> {
    let Some(id) = p.get("product_id").and_then(Value::as_str) else {
        return Ok(());
    };
    if out.len() >= MAX_PRODUCTS {
        return Err(CsafError::TooManyProducts);
    }
    let helper = p.get("product_identification_helper");
    let text = |k: &str| {
        helper
            .and_then(|h| h.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    out.insert(
        id.to_string(),
        Product {
            cpe: text("cpe"),
            purl: text("purl"),
            name: p
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or(id)
                .to_string(),
        },
    );
    Ok(())
}

/// `cpe:/a:redhat:enterprise_linux:9::appstream` -> `Red Hat:enterprise_linux:9::appstream`.
pub fn ecosystem_of_cpe(cpe: &str) -> Option<String> {
    let rest = cpe
        .strip_prefix("cpe:/a:redhat:")
        .or_else(|| cpe.strip_prefix("cpe:/o:redhat:"))?;
    Some(format!("Red Hat:{rest}"))
}

/// A package's name and `epoch:version-release` from its purl (`pkg:rpm/redhat/curl@7.76.1-23.el9?arch=src&epoch=1`),
/// else from a product id's NEVRA (`curl-1:7.76.1-23.el9.src`).
fn name_and_evr(purl: Option<&Purl>, product_ref: &str) -> Option<(String, Option<String>)> {
    if let Some(p) = purl {
        let evr = p.version.as_ref().map(|v| {
            let epoch = p.qualifiers.get("epoch").map_or("0", String::as_str);
            format!("{epoch}:{v}")
        });
        return Some((p.name.clone(), evr));
    }
    // name-epoch:version-release.arch
    let (name_epoch, rest) = product_ref.split_once(':')?;
    let (name, epoch) = name_epoch.rsplit_once('-')?;
    let vr = rest.rsplit_once('.').map_or(rest, |(vr, _)| vr);
    Some((name.to_string(), Some(format!("{epoch}:{vr}"))))
}

/// The status of a `known_affected` product from its remediation.
fn unfixed_status(category: &str, details: &str) -> Status {
    let d = details.to_ascii_lowercase();
    if category == "no_fix_planned" || d.contains("will not fix") {
        if d.contains("out of support scope") {
            Status::EndOfLife
        } else {
            Status::WillNotFix
        }
    } else if d.contains("out of support scope") {
        Status::EndOfLife
    } else if d.contains("fix deferred") || d.contains("deferred") {
        Status::FixDeferred
    } else {
        Status::Affected
    }
}

/// The advisories of one CSAF document (VEX or security advisory).
pub fn parse(bytes: &[u8]) -> Result<Vec<Advisory>, CsafError> {
    let doc: Value = serde_json::from_slice(bytes).map_err(CsafError::NotJson)?;
    let document = doc.get("document").ok_or(CsafError::NotCsaf)?;
    let category = document
        .get("category")
        .and_then(Value::as_str)
        .ok_or(CsafError::NotCsaf)?;
    let vex = match category {
        "csaf_vex" => true,
        "csaf_security_advisory" => false,
        other => return Err(CsafError::Category(other.to_string())),
    };
    let tracking = document.get("tracking");
    let tracking_text = |k: &str| {
        tracking
            .and_then(|t| t.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let rating = document
        .get("aggregate_severity")
        .and_then(|s| s.get("text"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut doc_refs: Vec<Reference> = Vec::new();
    for r in document
        .get("references")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(url) = r.get("url").and_then(Value::as_str) {
            doc_refs.push(Reference {
                kind: if r.get("category").and_then(Value::as_str) == Some("self") {
                    "ADVISORY".into()
                } else {
                    "WEB".into()
                },
                url: url.to_string(),
            });
        }
    }

    let tree = doc.get("product_tree");
    let mut products: HashMap<String, Product> = HashMap::new();
    if let Some(b) = tree
        .and_then(|t| t.get("branches"))
        .and_then(Value::as_array)
    {
        collect_products(b, 0, &mut products)?;
    }
    if let Some(fp) = tree
        .and_then(|t| t.get("full_product_names"))
        .and_then(Value::as_array)
    {
        for p in fp {
            add_product(p, &mut products)?;
        }
    }
    // product id -> (package reference, stream reference)
    let mut relations: HashMap<String, (String, String)> = HashMap::new();
    for r in tree
        .and_then(|t| t.get("relationships"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let get = |k: &str| r.get(k).and_then(Value::as_str).map(str::to_string);
        if let (Some(id), Some(pkg), Some(stream)) = (
            r.get("full_product_name")
                .and_then(|f| f.get("product_id"))
                .and_then(Value::as_str)
                .map(str::to_string),
            get("product_reference"),
            get("relates_to_product_reference"),
        ) {
            relations.insert(id, (pkg, stream));
        }
    }

    let vulns = doc
        .get("vulnerabilities")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let all_cves: Vec<String> = vulns
        .iter()
        .filter_map(|v| v.get("cve").and_then(Value::as_str).map(str::to_string))
        .collect();
    let mut out = Vec::new();
    if vex {
        for v in &vulns {
            let Some(cve) = v.get("cve").and_then(Value::as_str) else {
                continue;
            };
            let mut a = base(
                format!("REDHAT-{cve}"),
                vec![cve.to_string()],
                &tracking_text,
                &rating,
                &doc_refs,
            );
            add_vulnerability(&mut a, v, &products, &relations);
            out.push(a);
        }
    } else if let Some(id) = tracking_text("id") {
        let mut a = base(id, all_cves, &tracking_text, &rating, &doc_refs);
        a.summary = document
            .get("title")
            .and_then(Value::as_str)
            .map(str::to_string);
        for v in &vulns {
            add_vulnerability(&mut a, v, &products, &relations);
        }
        out.push(a);
    }
    Ok(out)
}

fn base(
    id: String,
    aliases: Vec<String>,
    tracking_text: &dyn Fn(&str) -> Option<String>,
    rating: &Option<String>,
    refs: &[Reference],
) -> Advisory {
    Advisory {
        id,
        aliases,
        published: tracking_text("initial_release_date"),
        modified: tracking_text("current_release_date"),
        references: refs.to_vec(),
        source: SOURCE.to_string(),
        rating: rating.clone(),
        ..Advisory::default()
    }
}

/// Adds one vulnerability's products, scores, notes and remediation links to `a`.
fn add_vulnerability(
    a: &mut Advisory,
    v: &Value,
    products: &HashMap<String, Product>,
    relations: &HashMap<String, (String, String)>,
) {
    if a.summary.is_none() {
        a.summary = v.get("title").and_then(Value::as_str).map(str::to_string);
    }
    if a.details.is_none() {
        a.details = v
            .get("notes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|n| n.get("category").and_then(Value::as_str) == Some("description"))
            .and_then(|n| n.get("text"))
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    for s in v
        .get("scores")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for (key, kind) in [("cvss_v3", "CVSS_V3"), ("cvss_v2", "CVSS_V2")] {
            if let Some(vector) = s
                .get(key)
                .and_then(|c| c.get("vectorString"))
                .and_then(Value::as_str)
                && !a.severity.iter().any(|x| x.score == vector)
            {
                a.severity.push(SeverityScore {
                    kind: kind.into(),
                    score: vector.to_string(),
                });
            }
        }
    }
    // product id -> (category, details) of its remediation
    let mut remedies: HashMap<&str, (&str, &str)> = HashMap::new();
    for r in v
        .get("remediations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let category = r.get("category").and_then(Value::as_str).unwrap_or("");
        let details = r.get("details").and_then(Value::as_str).unwrap_or("");
        if category == "vendor_fix"
            && let Some(url) = r.get("url").and_then(Value::as_str)
            && !a.references.iter().any(|x| x.url == url)
        {
            a.references.push(Reference {
                kind: "ADVISORY".into(),
                url: url.to_string(),
            });
        }
        for id in r
            .get("product_ids")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if category != "workaround" {
                remedies.insert(id, (category, details));
            }
        }
    }
    let status = v.get("product_status");
    let ids = |k: &str| -> Vec<&str> {
        status
            .and_then(|s| s.get(k))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect()
    };
    // (ecosystem, name, purl) -> entry, in first-seen order
    let mut seen: BTreeMap<(String, String, Option<String>), usize> = BTreeMap::new();
    for (list, fixed) in [("fixed", true), ("known_affected", false)] {
        for id in ids(list) {
            let Some((pkg_ref, stream_ref)) = relations.get(id) else {
                continue;
            };
            let Some((ecosystem, module)) = stream_of(stream_ref, products, relations) else {
                continue;
            };
            let pkg = products.get(pkg_ref);
            let purl_text = pkg.and_then(|p| p.purl.clone());
            let mut purl = purl_text.as_deref().and_then(|p| Purl::parse(p).ok());
            if purl.as_ref().is_some_and(|p| p.ty != "rpm") {
                continue; // modules themselves, container images and other non-rpm products
            }
            if let (Some(p), Some(m)) = (purl.as_mut(), module) {
                p.qualifiers.entry("rpmmod".into()).or_insert(m);
            }
            let Some((name, evr)) = name_and_evr(
                purl.as_ref(),
                pkg.map_or(pkg_ref.as_str(), |p| p.name.as_str()),
            ) else {
                continue;
            };
            // The purl without its version: the entry is about the package, arch and module.
            let entry_purl = purl.map(|mut p| {
                p.version = None;
                p.qualifiers.remove("epoch");
                p.to_string()
            });
            let entry = if fixed {
                let Some(evr) = evr else { continue };
                Affected {
                    package: AffectedPackage {
                        ecosystem: ecosystem.clone(),
                        name: name.clone(),
                        purl: entry_purl.clone(),
                    },
                    ranges: vec![Range {
                        kind: RangeType::Ecosystem,
                        repo: None,
                        events: vec![Event::Introduced("0".into()), Event::Fixed(evr)],
                    }],
                    ..Affected::default()
                }
            } else {
                let (category, details) = remedies.get(id).copied().unwrap_or(("", ""));
                Affected {
                    package: AffectedPackage {
                        ecosystem: ecosystem.clone(),
                        name: name.clone(),
                        purl: entry_purl.clone(),
                    },
                    status: Some(unfixed_status(category, details)),
                    ..Affected::default()
                }
            };
            let key = (ecosystem, name, entry_purl);
            match seen.get(&key) {
                // One fix per package and stream: the lowest (several RHSAs may list it).
                Some(&i) if fixed => {
                    let lower = match (fixed_of(&a.affected[i]), fixed_of(&entry)) {
                        (Some(old), Some(new)) => {
                            moat_model::version::compare(moat_model::version::Scheme::Rpm, new, old)
                                .is_lt()
                        }
                        _ => false,
                    };
                    if lower {
                        a.affected[i] = entry;
                    }
                }
                Some(_) => {}
                None => {
                    seen.insert(key, a.affected.len());
                    a.affected.push(entry);
                }
            }
        }
    }
}

/// The ecosystem of a stream reference, and the module stream (`python39:3.9`) when the
/// package sits in a module that sits in the stream (relationships nest:
/// `AppStream-8.6.0.Z.AUS:python39:3.9:...:PyYAML-0:5.4.1-...src`).
fn stream_of(
    stream_ref: &str,
    products: &HashMap<String, Product>,
    relations: &HashMap<String, (String, String)>,
) -> Option<(String, Option<String>)> {
    if let Some(eco) = products
        .get(stream_ref)
        .and_then(|p| p.cpe.as_deref())
        .and_then(ecosystem_of_cpe)
    {
        return Some((eco, None));
    }
    let (module_ref, outer) = relations.get(stream_ref)?;
    let outer_eco = products
        .get(outer)
        .and_then(|p| p.cpe.as_deref())
        .and_then(ecosystem_of_cpe)?;
    let module = products
        .get(module_ref)
        .and_then(|p| p.purl.as_deref())
        .and_then(|p| Purl::parse(p).ok())
        .filter(|p| p.ty == "rpmmod")
        .map(|p| {
            let stream = p.version.as_deref().unwrap_or_default();
            let stream = stream.split(':').next().unwrap_or_default();
            format!("{}:{stream}", p.name)
        });
    Some((outer_eco, module))
}

fn fixed_of(a: &Affected) -> Option<&str> {
    a.ranges
        .iter()
        .flat_map(|r| &r.events)
        .find_map(|e| match e {
            Event::Fixed(f) => Some(f.as_str()),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions() {
        assert_eq!(
            ecosystem_of_cpe("cpe:/a:redhat:enterprise_linux:9::appstream").as_deref(),
            Some("Red Hat:enterprise_linux:9::appstream")
        );
        assert_eq!(ecosystem_of_cpe("cpe:/a:oracle:linux:9"), None);
        let p = Purl::parse("pkg:rpm/redhat/curl@7.76.1-23.el9?arch=src&epoch=1").unwrap();
        assert_eq!(
            name_and_evr(Some(&p), "x"),
            Some(("curl".into(), Some("1:7.76.1-23.el9".into())))
        );
        assert_eq!(
            name_and_evr(None, "cri-tools-0:1.29.0-3.1.el9.aarch64"),
            Some(("cri-tools".into(), Some("0:1.29.0-3.1.el9".into())))
        );
        assert_eq!(
            unfixed_status("no_fix_planned", "Will not fix"),
            Status::WillNotFix
        );
        assert_eq!(
            unfixed_status("no_fix_planned", "Out of support scope"),
            Status::EndOfLife
        );
        assert_eq!(
            unfixed_status("none_available", "Fix deferred"),
            Status::FixDeferred
        );
        assert_eq!(
            unfixed_status("none_available", "Affected"),
            Status::Affected
        );
    }
}

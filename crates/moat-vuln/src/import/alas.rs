//! Amazon Linux Security Advisories (ALAS) from a repository's `updateinfo.xml` (`repodata/`
//! serves it gzip-compressed: the importer's XML feed reader decompresses it, by its magic
//! bytes, before it reaches [`stream`]).
//!
//! ## Format
//! The yum/dnf `updateinfo.xml` of createrepo (no formal schema; see createrepo_c's
//! `updateinfo` documentation and libdnf's reader): `<updates>` of `<update type="security">`
//! with `<id>`, `<title>`, `<issued date>`, `<updated date>`, `<severity>`, `<description>`,
//! `<references><reference type="cve" id=... href=.../></references>` and
//! `<pkglist><collection><package name epoch version release arch/></collection></pkglist>`.
//! Amazon publishes one per line and repository (`amazonlinux` core repositories of
//! Amazon Linux 1 (the 2018.03 AMI), 2, 2022 and 2023; `moat db update` follows the
//! repository's `mirror.list` and `repodata/repomd.xml` to it).
//!
//! ## Records
//! One advisory per `<update>`: id `ALAS2-2018-942`, the CVEs as aliases, the title as
//! summary, `rating` the severity as written (`important`), `published` / `modified` from the
//! dates. Each package becomes an `affected[]` entry of ecosystem `Amazon Linux:<line>`
//! (what [`moat_model::os_ecosystem`] gives `amzn` images) with one `ECOSYSTEM` range
//! `introduced 0, fixed <epoch>:<version>-<release>`; a package whose architectures were
//! fixed at different versions gets one entry per architecture, its purl naming it
//! (`pkg:rpm/amazonlinux/<name>?arch=aarch64`, see [`crate::distro::applies`]).
//!
//! The line comes from the id's prefix: `ALAS-` 1, `ALAS2-` 2, `ALAS2022-` 2022,
//! `ALAS2023-` 2023. Other prefixes are Amazon Linux 2 Extras topics (`ALAS2KERNEL-5.10-`,
//! `ALAS2DOCKER-`, ...): their packages replace the core ones only where the topic is
//! enabled, which an image does not say, so they are filed under `Amazon Linux:2:extras`
//! (kept, not matched by default). Non-security updates are skipped.
//!
//! Source label: `alas:<line>`.

use super::xml::{El, XmlError, for_each_record};
use super::{Item, Sink, Stop};
use moat_model::advisory::{
    Advisory, Affected, AffectedPackage, Event, Range, RangeType, Reference,
};
use std::collections::BTreeMap;
use std::io::BufRead;

/// Why an `updateinfo.xml` could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AlasError {
    #[error(transparent)]
    Xml(#[from] XmlError),
}

/// The Amazon Linux line of an ALAS id, or `None` for an Extras topic.
pub fn line_of(id: &str) -> Option<&'static str> {
    let prefix = id.rsplitn(3, '-').nth(2)?;
    Some(match prefix {
        "ALAS" => "1",
        "ALAS2" => "2",
        "ALAS2022" => "2022",
        "ALAS2023" => "2023",
        _ => return None,
    })
}

/// The ALAS page of an advisory.
fn page(id: &str, line: Option<&str>) -> String {
    match line {
        Some("1") => format!("https://alas.aws.amazon.com/{id}.html"),
        Some(l) => format!("https://alas.aws.amazon.com/AL{l}/{id}.html"),
        None => format!("https://alas.aws.amazon.com/AL2/{id}.html"),
    }
}

/// `2018-02-07 18:49` -> `2018-02-07T18:49:00Z` (a bare date gets midnight).
fn timestamp(date: &str) -> Option<String> {
    let d = date.trim();
    let (day, time) = d.split_once(' ').unwrap_or((d, "00:00:00"));
    if day.len() != 10 {
        return None;
    }
    let time = match time.matches(':').count() {
        1 => format!("{time}:00"),
        _ => time.to_string(),
    };
    Some(format!("{day}T{time}Z"))
}

/// One `<update>` as an advisory (`None` for a non-security update or one without an id).
pub fn advisory(u: &El) -> Option<Advisory> {
    if u.attr("type").is_some_and(|t| t != "security") {
        return None;
    }
    let id = u.text_of("id")?;
    let line = line_of(&id);
    let ecosystem = match line {
        Some(l) => format!("Amazon Linux:{l}"),
        None => "Amazon Linux:2:extras".to_string(),
    };
    let mut aliases = Vec::new();
    let mut references = vec![Reference {
        kind: "ADVISORY".into(),
        url: page(&id, line),
    }];
    if let Some(refs) = u.child("references") {
        for r in refs.children("reference") {
            if r.attr("type") == Some("cve")
                && let Some(cve) = r.attr("id").filter(|c| c.starts_with("CVE-"))
                && !aliases.iter().any(|a| a == cve)
            {
                aliases.push(cve.to_string());
            }
            if let Some(href) = r.attr("href").filter(|h| !h.is_empty()) {
                references.push(Reference {
                    kind: "WEB".into(),
                    url: href.to_string(),
                });
            }
        }
    }
    // (name) -> (arch -> fixed EVR), in document order of names.
    let mut packages: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    if let Some(list) = u.child("pkglist") {
        for p in list
            .descendants()
            .into_iter()
            .filter(|e| e.name == "package")
        {
            let (Some(name), Some(version), Some(release)) =
                (p.attr("name"), p.attr("version"), p.attr("release"))
            else {
                continue;
            };
            let epoch = p.attr("epoch").filter(|e| !e.is_empty()).unwrap_or("0");
            let evr = format!("{epoch}:{version}-{release}");
            let arch = p.attr("arch").unwrap_or("").to_string();
            if !packages.contains_key(name) {
                order.push(name.to_string());
            }
            packages
                .entry(name.to_string())
                .or_default()
                .insert(arch, evr);
        }
    }
    let mut affected = Vec::new();
    for name in order {
        let Some(arches) = packages.get(&name) else {
            continue;
        };
        affected.extend(entries(&ecosystem, "amazonlinux", &name, arches));
    }
    Some(Advisory {
        id: id.clone(),
        modified: u
            .child("updated")
            .and_then(|d| d.attr("date"))
            .and_then(timestamp),
        published: u
            .child("issued")
            .and_then(|d| d.attr("date"))
            .and_then(timestamp),
        aliases,
        summary: u.text_of("title"),
        details: u.text_of("description"),
        affected,
        references,
        source: format!("alas:{}", line.unwrap_or("2:extras")),
        rating: u.text_of("severity"),
        ..Advisory::default()
    })
}

/// The `affected[]` entries of one package fixed at `arches` (architecture -> EVR): one
/// entry when every architecture has the same fixed version, else one per architecture with
/// the architecture in its purl. Shared with the Oracle OVAL importer.
pub(crate) fn entries(
    ecosystem: &str,
    purl_namespace: &str,
    name: &str,
    arches: &BTreeMap<String, String>,
) -> Vec<Affected> {
    let fixed = |evr: &str, purl: Option<String>| Affected {
        package: AffectedPackage {
            ecosystem: ecosystem.to_string(),
            name: name.to_string(),
            purl,
        },
        ranges: vec![Range {
            kind: RangeType::Ecosystem,
            repo: None,
            events: vec![Event::Introduced("0".into()), Event::Fixed(evr.to_string())],
        }],
        ..Affected::default()
    };
    let mut versions: Vec<&String> = arches.values().collect();
    versions.sort();
    versions.dedup();
    match versions.as_slice() {
        [] => Vec::new(),
        [one] => vec![fixed(one, None)],
        _ => arches
            .iter()
            .map(|(arch, evr)| {
                let purl = moat_model::Purl::new("rpm", name)
                    .with_namespace(purl_namespace)
                    .with_qualifier("arch", arch.as_str());
                fixed(evr, Some(purl.to_string()))
            })
            .collect(),
    }
}

/// Every security update of an `updateinfo.xml`, handed to `sink` as it is read. The inner
/// result says whether the sink stopped.
pub fn stream<R: BufRead>(reader: R, sink: &mut Sink<'_>) -> Result<Result<(), Stop>, AlasError> {
    Ok(for_each_record(reader, "update", &mut |u| {
        sink(Item::File)?;
        match advisory(&u) {
            Some(a) => sink(Item::Advisory(a)),
            None => Ok(()),
        }
    })?)
}

/// Every security update of an `updateinfo.xml` in memory.
pub fn parse(bytes: &[u8]) -> Result<Vec<Advisory>, AlasError> {
    super::collect_advisories(|sink| stream(bytes, sink))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_dates() {
        assert_eq!(line_of("ALAS2-2018-942"), Some("2"));
        assert_eq!(line_of("ALAS-2018-1034"), Some("1"));
        assert_eq!(line_of("ALAS2023-2023-001"), Some("2023"));
        assert_eq!(line_of("ALAS2022-2021-001"), Some("2022"));
        assert_eq!(line_of("ALAS2KERNEL-5.10-2022-001"), None);
        assert_eq!(line_of("nonsense"), None);
        assert_eq!(
            timestamp("2018-02-07 18:49").as_deref(),
            Some("2018-02-07T18:49:00Z")
        );
        assert_eq!(
            timestamp("2023-02-17").as_deref(),
            Some("2023-02-17T00:00:00Z")
        );
        assert_eq!(timestamp("Feb 7"), None);
    }
}

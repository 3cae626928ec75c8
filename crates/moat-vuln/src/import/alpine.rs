//! Alpine secdb (`secdb.alpinelinux.org`): YAML (v3.3–v3.11 era files) and JSON.
//!
//! # Input
//!
//! A secdb file describes one release and one repository:
//!
//! ```yaml
//! distroversion: v3.10
//! reponame: main
//! packages:
//!   - pkg:
//!       name: xen            # the origin (source) package
//!       secfixes:
//!         4.12.1-r0:
//!           - CVE-2019-17340 XSA-284
//!         "0":
//!           - CVE-2020-1     # "0": this release was never affected
//! ```
//!
//! [`parse_secdb_json`] reads the same document written as JSON (`v3.x/main.json`) and also
//! the per-package form that `aquasecurity/vuln-list` stores (`alpine/3.21/main/zlib.json`:
//! the `pkg` object itself, with `name`, `secfixes` and `distroversion` at the top level).
//!
//! # Output: one [`Advisory`] per vulnerability id per file
//!
//! Advisories come in order of first mention (packages in file order, each package's
//! versions in byte order of the version string).
//!
//! As in OSV's own Alpine records, every id mentioned in the file becomes one advisory whose
//! `affected` lists every package (and fixed version) the file names for it:
//!
//! * `id`: the CVE; `source`: `alpine-secdb`; a reference to
//!   `https://security.alpinelinux.org/vuln/<id>`.
//! * `affected[].package`: ecosystem `Alpine:<distroversion>` (`Alpine:v3.10`), name = the
//!   secdb package name, which is the origin package (apk's source package).
//! * a fixed version `V`: range `ECOSYSTEM [introduced "0", fixed V]`, `status` unset;
//! * the pseudo version `"0"`: no range, `status = NotAffected` (Alpine writes "0" for
//!   "this release never shipped a vulnerable version").
//!
//! ## Ids inside a secfixes string
//!
//! A string may hold several ids and free text (`"CVE-2017-8904 XSA-214"`,
//! `"CVE-2017-5753 CVE-2017-5715 CVE-2017-5754 XSA-254 XPTI"`, `"CVE-2018-10103 (SMB -
//! partially fixed)"`). The rules:
//!
//! * every CVE id is an advisory id; misspellings seen in real files are normalised:
//!   `CVE_2019-2426`, `CVE 2018-16859`, `CVE-2017-8073.patch` and `CVE-2017-17434-1` (a
//!   numbered part of one CVE) all become the plain `CVE-YYYY-NNNN`;
//! * other ids (`XSA-214`, `TALOS-2017-0488`, `ZBX-11023`, `wnpa-sec-2017-18`,
//!   `ALPINE-13661`, `GHSA-...`) are kept: with exactly one CVE in the string they become its
//!   `aliases`; with several CVEs they go to `related` of each (an XSA covering three CVEs is
//!   not the same vulnerability as any one of them); with no CVE each is an advisory id itself;
//! * placeholders (`CVE-????-?????`), parenthesised notes and plain words are not ids; they are
//!   ignored (a string with no id at all is reported as skipped).
//!
//! The same id listed twice for one package and version is recorded once; listed for one
//! package under two versions (a later re-fix) it gives two `affected` entries, which OSV
//! evaluates independently.
//!
//! ## Wolfi and Chainguard
//!
//! Wolfi (`packages.wolfi.dev/os/security.json`) and Chainguard (`packages.cgr.dev` /
//! `libraries.cgr.dev`, `reponame: chainguard`) publish the same JSON for their rolling
//! distros, without `distroversion`: the feed is told by its `urlprefix` (or `reponame`),
//! and its advisories are those above with ecosystem `Wolfi` or `Chainguard` (no release,
//! as OSV's records of both), ids `WOLFI-<id>` / `CHAINGUARD-<id>`, sources `wolfi-secdb` /
//! `chainguard-secdb`, and a reference to `https://images.chainguard.dev/security/<id>`.
//!
//! Problems in single records (a package without a name, a secfixes value that is not a
//! list, ...) skip that record and are reported by [`import_secdb_yaml`] /
//! [`import_secdb_json`]; [`parse_secdb_yaml`] / [`parse_secdb_json`] return only the
//! advisories. A document that cannot be read at all (bad YAML/JSON, a truncated file, no
//! `distroversion` and no Wolfi or Chainguard `urlprefix`, a YAML alias bomb that exceeds the
//! parser budget) is a [`SecdbError`].

use moat_model::advisory::{
    Advisory, Affected, AffectedPackage, Event, Range, RangeType, Reference, Status,
};
use serde_json::Value;
use std::collections::HashMap;

/// A secdb document that could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum SecdbError {
    #[error("alpine secdb JSON: {0}")]
    Json(#[source] serde_json::Error),
    #[error("alpine secdb YAML: {0}")]
    Yaml(#[source] Box<serde_saphyr::Error>),
    #[error("alpine secdb: the document is not a mapping")]
    NotMapping,
    #[error(
        "alpine secdb: no `distroversion` (the release, e.g. v3.19), nor a Wolfi or Chainguard `urlprefix`"
    )]
    NoRelease,
    #[error("alpine secdb: `packages` is not a list")]
    PackagesNotList,
    #[error("alpine secdb: neither `packages` nor a package `name`")]
    NoPackages,
}

/// The `source` of the advisories of Alpine's secdb.
pub const SOURCE: &str = "alpine-secdb";
/// The `source` of the advisories of Wolfi's secdb.
pub const WOLFI_SOURCE: &str = "wolfi-secdb";
/// The `source` of the advisories of Chainguard's secdb.
pub const CHAINGUARD_SOURCE: &str = "chainguard-secdb";

/// The distro a secdb document describes.
struct Feed {
    /// The ecosystem of its packages (`Alpine:v3.19`, `Wolfi`, `Chainguard`).
    ecosystem: String,
    /// The `source` of its advisories.
    source: &'static str,
    /// Its advisories' ids: this, then the vulnerability id.
    id_prefix: String,
    /// Its advisories' reference: this, then the vulnerability id.
    url: &'static str,
}

impl Feed {
    /// The feed of a secdb document: Alpine's release from `distroversion`, else Wolfi or
    /// Chainguard from `urlprefix` / `reponame`.
    fn of(top: &serde_json::Map<String, Value>) -> Result<Feed, SecdbError> {
        if let Some(release) = top
            .get("distroversion")
            .and_then(scalar_text)
            .filter(|s| !s.is_empty())
        {
            let release = if release.starts_with('v') {
                release
            } else {
                format!("v{release}")
            };
            return Ok(Feed {
                ecosystem: format!("Alpine:{release}"),
                source: SOURCE,
                // Record ids are unique per release (`ALPINE-v3.10-CVE-2019-1234`, the CVE
                // as an alias): one CVE has a record in every release file, and the database
                // keys records by id, so a bare CVE id would let one release's record
                // replace another's.
                id_prefix: format!("ALPINE-{release}-"),
                url: "https://security.alpinelinux.org/vuln/",
            });
        }
        let text = |k: &str| top.get(k).and_then(scalar_text).unwrap_or_default();
        let (prefix, repo) = (text("urlprefix"), text("reponame"));
        let host = prefix
            .split("://")
            .last()
            .unwrap_or_default()
            .split('/')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let (ecosystem, source) = if host == "packages.wolfi.dev" {
            ("Wolfi", WOLFI_SOURCE)
        } else if host.ends_with(".cgr.dev") || repo == "chainguard" {
            ("Chainguard", CHAINGUARD_SOURCE)
        } else {
            return Err(SecdbError::NoRelease);
        };
        Ok(Feed {
            ecosystem: ecosystem.into(),
            source,
            id_prefix: format!("{}-", ecosystem.to_ascii_uppercase()),
            url: "https://images.chainguard.dev/security/",
        })
    }
}

/// What one secdb file gave: the advisories and the records that were skipped, each with
/// `(record, reason)`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SecdbImport {
    pub advisories: Vec<Advisory>,
    pub skipped: Vec<(String, String)>,
}

/// Alpine secdb in YAML (v3.3-v3.11 style `packages: - pkg: {name, secfixes: {ver: [CVE..]}}`).
pub fn parse_secdb_yaml(bytes: &[u8]) -> Result<Vec<Advisory>, SecdbError> {
    import_secdb_yaml(bytes).map(|r| r.advisories)
}

/// Alpine secdb in the current JSON form.
pub fn parse_secdb_json(bytes: &[u8]) -> Result<Vec<Advisory>, SecdbError> {
    import_secdb_json(bytes).map(|r| r.advisories)
}

/// [`parse_secdb_yaml`] with the skipped records.
pub fn import_secdb_yaml(bytes: &[u8]) -> Result<SecdbImport, SecdbError> {
    let doc = yaml_value(bytes)?;
    convert(&doc)
}

/// [`parse_secdb_json`] with the skipped records.
pub fn import_secdb_json(bytes: &[u8]) -> Result<SecdbImport, SecdbError> {
    let doc: Value = serde_json::from_slice(bytes).map_err(SecdbError::Json)?;
    convert(&doc)
}

/// Reads YAML into a JSON value under a strict budget: secdb files have no anchors, so a
/// handful of aliases is plenty and an alias bomb fails fast.
fn yaml_value(bytes: &[u8]) -> Result<Value, SecdbError> {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_reader_input_bytes = Some(512 * 1024 * 1024);
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_events = 20_000_000;
    budget.max_nodes = 10_000_000;
    budget.max_recorded_anchor_events = 100_000;
    budget.max_recorded_anchor_bytes = 4 * 1024 * 1024;
    budget.max_documents = 2;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = 100_000;
    options.alias_limits.max_alias_expansions_per_anchor = 100;
    serde_saphyr::from_slice_with_options::<Value>(bytes, options)
        .map_err(|e| SecdbError::Yaml(Box::new(e)))
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Accumulates advisories in order of first mention.
struct Builder {
    feed: Feed,
    index: HashMap<String, usize>,
    out: SecdbImport,
}

impl Builder {
    fn add(&mut self, id: &str, aliases: &[String], related: &[String], pkg: &str, fixed: &str) {
        let record_id = format!("{}{id}", self.feed.id_prefix);
        let i = *self.index.entry(id.to_string()).or_insert_with(|| {
            self.out.advisories.push(Advisory {
                id: record_id,
                aliases: vec![id.to_string()],
                source: self.feed.source.to_string(),
                references: vec![Reference {
                    kind: "ADVISORY".into(),
                    url: format!("{}{id}", self.feed.url),
                }],
                ..Advisory::default()
            });
            self.out.advisories.len() - 1
        });
        let package = self.package(pkg);
        let adv = &mut self.out.advisories[i];
        for a in aliases {
            if a != &adv.id && !adv.aliases.contains(a) {
                adv.aliases.push(a.clone());
            }
        }
        for r in related {
            if r != id && !adv.related.contains(r) {
                adv.related.push(r.clone());
            }
        }
        let affected = if fixed == "0" {
            Affected {
                package,
                status: Some(Status::NotAffected),
                ..Affected::default()
            }
        } else {
            Affected {
                package,
                ranges: vec![Range {
                    kind: RangeType::Ecosystem,
                    repo: None,
                    events: vec![
                        Event::Introduced("0".into()),
                        Event::Fixed(fixed.to_string()),
                    ],
                }],
                ..Affected::default()
            }
        };
        if !adv.affected.contains(&affected) {
            adv.affected.push(affected);
        }
    }

    fn package(&self, name: &str) -> AffectedPackage {
        AffectedPackage {
            ecosystem: self.feed.ecosystem.clone(),
            name: name.to_string(),
            purl: None,
        }
    }
}

fn convert(doc: &Value) -> Result<SecdbImport, SecdbError> {
    let Value::Object(top) = doc else {
        return Err(SecdbError::NotMapping);
    };
    let mut b = Builder {
        feed: Feed::of(top)?,
        index: HashMap::new(),
        out: SecdbImport::default(),
    };
    match (top.get("packages"), top.get("name")) {
        (Some(Value::Array(pkgs)), _) => {
            for (n, entry) in pkgs.iter().enumerate() {
                match entry.get("pkg") {
                    Some(pkg @ Value::Object(_)) => package(&mut b, pkg, n),
                    _ => b.out.skipped.push((
                        format!("packages[{n}]"),
                        "entry has no `pkg` mapping".into(),
                    )),
                }
            }
        }
        // An empty repository (`packages:` with nothing after it) is valid.
        (Some(Value::Null), _) => {}
        (Some(_), _) => return Err(SecdbError::PackagesNotList),
        // vuln-list's per-package JSON: the `pkg` object with the file's metadata.
        (None, Some(_)) => package(&mut b, doc, 0),
        (None, None) => return Err(SecdbError::NoPackages),
    }
    Ok(b.out)
}

fn package(b: &mut Builder, pkg: &Value, n: usize) {
    let Some(name) = pkg
        .get("name")
        .and_then(scalar_text)
        .filter(|s| !s.is_empty())
    else {
        b.out
            .skipped
            .push((format!("packages[{n}]"), "package without a `name`".into()));
        return;
    };
    let secfixes = match pkg.get("secfixes") {
        Some(Value::Object(m)) => m,
        // A package listed without fixes names no vulnerability.
        None | Some(Value::Null) => return,
        Some(_) => {
            b.out
                .skipped
                .push((name, "`secfixes` is not a mapping".into()));
            return;
        }
    };
    // Sorted, so the output does not depend on serde_json's map order (`preserve_order`).
    let mut secfixes: Vec<(&String, &Value)> = secfixes.iter().collect();
    secfixes.sort_by(|a, b| a.0.cmp(b.0));
    for (version, ids) in secfixes {
        let version = version.trim();
        let record = format!("{name} {version}");
        if version.is_empty() || version.contains(char::is_whitespace) {
            b.out
                .skipped
                .push((record, "the fixed version is empty or has spaces".into()));
            continue;
        }
        let items: Vec<&Value> = match ids {
            Value::Array(a) => a.iter().collect(),
            Value::String(_) => vec![ids],
            Value::Null => continue,
            _ => {
                b.out
                    .skipped
                    .push((record, "the id list is not a list of strings".into()));
                continue;
            }
        };
        for item in items {
            let Some(text) = scalar_text(item) else {
                b.out
                    .skipped
                    .push((record.clone(), format!("not an id string: {item}")));
                continue;
            };
            let ids = split_ids(&text);
            if ids.cves.is_empty() && ids.others.is_empty() {
                if !text.is_empty() {
                    b.out
                        .skipped
                        .push((record.clone(), format!("no vulnerability id in {text:?}")));
                }
                continue;
            }
            if ids.cves.is_empty() {
                for id in &ids.others {
                    b.add(id, &[], &[], &name, version);
                }
            } else if ids.cves.len() == 1 {
                b.add(&ids.cves[0], &ids.others, &[], &name, version);
            } else {
                for cve in &ids.cves {
                    b.add(cve, &[], &ids.others, &name, version);
                }
            }
        }
    }
}

/// The ids found in one secfixes string.
#[derive(Debug, Default, PartialEq)]
pub struct SecfixIds {
    /// Normalised CVE ids, in order, without duplicates.
    pub cves: Vec<String>,
    /// Other advisory ids (`XSA-214`, `TALOS-2017-0488`, ...).
    pub others: Vec<String>,
}

/// Splits one secfixes string into ids (see the module docs for the rules).
pub fn split_ids(text: &str) -> SecfixIds {
    let mut out = SecfixIds::default();
    // `CVE 2018-16859`: join a bare "CVE" with the number after it.
    let mut tokens: Vec<String> = Vec::new();
    let mut depth = 0usize;
    for raw in text.split_whitespace() {
        // Words inside parentheses are notes.
        let opens = raw.matches('(').count();
        let closes = raw.matches(')').count();
        let in_note = depth > 0 || raw.starts_with('(');
        depth = (depth + opens).saturating_sub(closes);
        if in_note {
            continue;
        }
        let tok = raw.trim_matches(|c: char| matches!(c, '"' | '\'' | ',' | ';' | ':' | '.'));
        if let Some(prev) = tokens.last_mut()
            && prev.eq_ignore_ascii_case("CVE")
            && tok.starts_with(|c: char| c.is_ascii_digit())
        {
            *prev = format!("CVE-{tok}");
            continue;
        }
        tokens.push(tok.to_string());
    }
    for tok in tokens {
        if let Some(cve) = normalise_cve(&tok) {
            if !out.cves.contains(&cve) {
                out.cves.push(cve);
            }
        } else if is_other_id(&tok) && !out.others.contains(&tok) {
            out.others.push(tok);
        }
    }
    out
}

/// `CVE-2019-1234`, `CVE_2019-1234`, `CVE-2019-1234.patch`, `CVE-2019-1234-1` ->
/// `CVE-2019-1234`; anything else (including `CVE-????-?????`) -> `None`.
fn normalise_cve(tok: &str) -> Option<String> {
    let upper = tok.to_ascii_uppercase();
    let rest = upper
        .strip_prefix("CVE-")
        .or_else(|| upper.strip_prefix("CVE_"))?;
    let (year, rest) = rest.split_once('-')?;
    if year.len() != 4 || !year.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let number: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    if number.len() < 4 {
        return None;
    }
    Some(format!("CVE-{year}-{number}"))
}

/// An advisory id that is not a CVE: a prefix of letters, then `-`-separated parts of
/// letters and digits with at least one digit (`XSA-214`, `wnpa-sec-2017-18`, `GHSA-xxxx-...`).
fn is_other_id(tok: &str) -> bool {
    let mut parts = tok.split('-');
    let Some(prefix) = parts.next() else {
        return false;
    };
    let rest: Vec<&str> = parts.collect();
    !prefix.is_empty()
        && prefix.chars().all(|c| c.is_ascii_alphabetic())
        && !prefix.eq_ignore_ascii_case("CVE")
        && !rest.is_empty()
        && rest
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()))
        && tok.chars().any(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_in_strings() {
        let s = split_ids("CVE-2017-5753 CVE-2017-5715 CVE-2017-5754 XSA-254 XPTI");
        assert_eq!(s.cves, ["CVE-2017-5753", "CVE-2017-5715", "CVE-2017-5754"]);
        assert_eq!(s.others, ["XSA-254"]);
        assert_eq!(split_ids("CVE 2018-16859").cves, ["CVE-2018-16859"]);
        assert_eq!(split_ids("CVE_2019-2426").cves, ["CVE-2019-2426"]);
        assert_eq!(split_ids("CVE-2017-8073.patch").cves, ["CVE-2017-8073"]);
        assert_eq!(split_ids("CVE-2017-17434-1").cves, ["CVE-2017-17434"]);
        let s = split_ids("CVE-????-?????  XSA-295");
        assert!(s.cves.is_empty());
        assert_eq!(s.others, ["XSA-295"]);
        let s = split_ids("CVE-2018-10103 (SMB - partially fixed, but SMB-2 printing disabled)");
        assert_eq!(s.cves, ["CVE-2018-10103"]);
        assert!(s.others.is_empty());
        assert_eq!(split_ids("wnpa-sec-2017-18").others, ["wnpa-sec-2017-18"]);
        assert_eq!(
            split_ids("CVE-2017-2616 (+ regression fix)").cves,
            ["CVE-2017-2616"]
        );
    }
}

//! # Matching: packages x advisories -> findings
//!
//! [`match_inventory`] asks an [`AdvisorySource`] for the advisories of every package of an
//! [`Inventory`], decides with OSV's evaluation rules whether the installed version is
//! affected, collapses records that describe the same vulnerability, and returns one
//! [`Finding`] per (package, vulnerability) with a [`MatchDetail`] for every record that
//! matched, plus typed [`Diagnostic`]s for what could not be evaluated (see "Diagnostics").
//!
//! ## Lookup
//!
//! * Application packages (the project itself) are never matched.
//! * Language packages are looked up by (`Package::ecosystem`, `Package::name`). Names are
//!   passed as the inventory writes them; the *source* brings them to the ecosystem's lookup
//!   form with [`moat_model::normalize_name`] (PEP 503 for PyPI; lower case for NuGet and
//!   Packagist, whose names are case-insensitive; Go module paths and Maven
//!   `group:artifact` as published), the one rule that the database's index,
//!   [`MemorySource`] and the matcher (when it compares `affected[].package.name`) share. A
//!   language package without an ecosystem gets the OSV name of its purl type
//!   ([`Ecosystem::from_purl_type`]: `pypi` -> `PyPI`, `cargo` -> `crates.io`, ...).
//! * OS packages (`deb`, `rpm`, `apk`) are looked up by (ecosystem, `source_name`) *and*
//!   (ecosystem, `name`), deduplicated per record (Debian advisories name source packages,
//!   Alpine and RPM feeds mostly binary ones). A source-name match compares the
//!   `source_version` when the inventory has one. Their ecosystem carries the release
//!   (`Debian:12`), so only the distro's own records are ever consulted: upstream ranges
//!   cannot override a distro's backported fix.
//! * An `affected[]` entry applies only when its `package.ecosystem` names the package's
//!   ecosystem (a `Debian:12` entry never matches a `Debian:11` package; distro streams such
//!   as `Ubuntu:Pro:22.04:LTS` name their release, and distro rules on modules,
//!   architectures and Ksplice builds apply: [`crate::distro::applies`]) and its name is the
//!   looked-up name.
//! * Go: the installed version is compared without its leading `v` (vulndb writes
//!   `1.20.5`); the toolchain is the package `stdlib` (or `toolchain`), whose version may be
//!   spelt as the toolchain spells it (`go1.19.8`, as Syft writes it, is `1.19.8`;
//!   [`moat_model::version::go::canonical`]).
//!
//! ## Version rules (OSV schema, "Evaluation")
//!
//! For every `affected[]` entry, independently (a record may list one package several
//! times):
//!
//! * `versions[]`: the installed version matches an entry as an exact string, whether or
//!   not it parses.
//! * `ranges[]` of type `ECOSYSTEM` (ordered with the ecosystem's [`Scheme`]) and `SEMVER`
//!   (always the SemVer scheme): the events are sorted by version, `introduced: "0"` first;
//!   walking them, `introduced` (`"0"` or `<= installed`) sets affected, `fixed`
//!   (`<= installed`) and `last_affected` (`< installed`) clear it. `introduced: "0"` covers
//!   every version, pre-releases and Go pseudo-versions included. When a range has `limit`
//!   events the installed version must also be below one of them (`"*"` is no limit).
//! * `GIT` ranges cannot be evaluated against a package version: they are skipped, with a
//!   diagnostic when the entry did not match by other means (so it marks a match that may
//!   have been missed).
//! * `ECOSYSTEM` ranges of an ecosystem moat has no ordering for are skipped with a
//!   diagnostic.
//! * An installed version that does not parse in the range's scheme
//!   ([`moat_model::version::parse_ok`]: `(devel)`, an empty version, `not-a-version`) is
//!   outside every `SEMVER` and `ECOSYSTEM` range, with a diagnostic for each range skipped.
//!   Every scheme orders such strings somewhere (most before every valid version), so
//!   evaluating them would put them inside every `introduced: "0"` range: one unparsed
//!   version would be reported with every advisory of its package. An exact `versions[]`
//!   entry still matches it.
//! * Withdrawn records are ignored.
//! * moat's distro extension [`Affected::status`]: `not_affected` -> no finding from that
//!   entry; `affected`, `will_not_fix`, `fix_deferred`, `end_of_life` with no range or
//!   version list -> the installed version is affected, with that status. A matching range
//!   with a `fixed` event above the installed version gives status `fixed` and the fixed
//!   version.
//!
//! ## Collapsing aliases
//!
//! The records that matched one package are grouped by union-find over their ids and
//! aliases (across sources): records sharing any id form one finding. A record whose
//! `upstream` names several ids (one upstream id is already an alias) then joins the group
//! those ids lead to, when they lead to exactly one and every upstream CVE is in it (a
//! Chainguard record of a CVE and its GHSA joins Wolfi's record of the CVE; an RHSA of two
//! CVEs stays apart).
//!
//! * Primary id: the CVE when the group names exactly one CVE; otherwise the id of the first
//!   record by source priority: distro records (matched for an OS package: deb, rpm
//!   or apk), then `GHSA-` records, then the others; ties by id.
//! * `aliases`: every other id of the group, sorted.
//! * `matched`: every record's [`MatchDetail`], the primary's record first, then by priority.
//! * `fixed_version`: the lowest fixed version above the installed one among the group.
//! * `status`: `fixed` with a fixed version; else the first distro state other than
//!   `affected` (by priority); else `affected`.
//!
//! ## Severity
//!
//! OS packages: the distro's rating (`Affected::severity`, else the record's `rating`) mapped
//! with [`Severity::from_label`], highest wins (an "unknown"/"not yet assigned" rating does
//! not count). Otherwise (and for every language package) the highest CVSS base score of the
//! group ([`crate::score`]) via [`Severity::from_score`]; else the highest feed rating label;
//! else `UNKNOWN` (the OSV importer keeps a record's `database_specific.severity`, GHSA's
//! label, as its rating). `cvss` lists every distinct vector with its base score. `kev` is
//! set when any id of the group is in the KEV catalogue. `title` is the primary record's
//! `summary` (else the first summary in the group), else the first sentence of the first
//! `details` (at most [`TITLE_CHARS`] characters; PyPA's records have no summary).
//! `references` are the unique URLs, at most 20.
//!
//! Findings are sorted by package name, package version, severity (highest first), id.
//!
//! ## Diagnostics
//!
//! What a reader of the report needs is which matches may be missing and why, not one line
//! per advisory: a Go module can carry hundreds of `GIT` ranges. So like problems are counted
//! together, one [`Diagnostic`] per (code, ecosystem, reason), naming the advisories and
//! packages concerned (the first few, then how many more):
//!
//! | code | when | message (one / several) |
//! |---|---|---|
//! | `range-skipped` | a `GIT` range, the entry did not match otherwise | `GIT range skipped in GO-1 (Go/m): commit ranges cannot be compared to a package version` / `12 GIT ranges skipped (Go): commit ranges cannot ...: GO-1 (m), ... and 7 more` |
//! | `range-skipped` | an `ECOSYSTEM` range without an ordering | `ECOSYSTEM range skipped in X-1 (SwiftURL/p): no version ordering for ecosystem SwiftURL` / `3 ECOSYSTEM ranges skipped (SwiftURL): no version ordering ...: X-1 (p), ...` |
//! | `range-skipped` | the installed version does not parse | `SEMVER range skipped in GO-1 (Go/m@(devel)): the installed version is not a semver version` / `4 SEMVER ranges skipped (Go): the installed version is not ...: GO-1 (m@(devel)), ...` |
//! | `lookup-failed` | the source failed ([`LookupError`]) | `lookup of npm/a failed: <error>` / `lookup of 40 npm packages failed: <error>: a, b, ... and 35 more` |
//! | `other` | packages without an ecosystem (an OS package of an unknown release) | `3 package(s) without an ecosystem were not matched` |
//!
//! The rejected alternative, one diagnostic per skipped range (what the free-text notes of
//! earlier versions were), buried the one failed lookup among thousands of lines.

use crate::db::DbError;
use crate::score::base_score;
use moat_model::advisory::{Advisory, Affected, Event, Range, RangeType};
use moat_model::ecosystem::is_os_purl_type;
use moat_model::finding::{
    CvssScore, Detail, Finding, FindingLocation, FindingPackage, MatchDetail, Severity, Status,
    VulnerabilityDetail,
};
use moat_model::version::{Scheme, compare, parse_ok};
use moat_model::{Code, Diagnostic, Ecosystem, Inventory, Package, normalize_name};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Where advisories come from: the database ([`crate::db::Database`] is one), or memory for
/// tests and SBOM-only runs.
pub trait AdvisorySource {
    /// Every advisory with an `affected[]` entry for (`ecosystem`, `name`). `name` is passed
    /// as the inventory writes it; the source brings it to its lookup form with
    /// [`moat_model::normalize_name`]. Returning extra records is harmless: the matcher
    /// filters entries itself.
    fn advisories_for(&self, ecosystem: &str, name: &str) -> Result<Vec<Advisory>, LookupError>;
    /// Whether `id` is in CISA's Known Exploited Vulnerabilities catalogue.
    fn is_kev(&self, id: &str) -> bool;
}

/// Why an [`AdvisorySource`] could not answer. The matcher turns it into a `lookup-failed`
/// diagnostic and goes on with the next package.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// The advisory database failed (locked, damaged, removed during the scan).
    #[error(transparent)]
    Db(#[from] DbError),
    /// Any other source (a remote service, a test double).
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

impl LookupError {
    /// A failure of a source other than the database (`LookupError::other("timed out")`).
    pub fn other(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> LookupError {
        LookupError::Other(e.into())
    }
}

/// Advisories held in memory, indexed by (ecosystem, normalised name).
#[derive(Debug, Default, Clone)]
pub struct MemorySource {
    advisories: Vec<Advisory>,
    index: HashMap<(String, String), Vec<usize>>,
    kev: HashSet<String>,
}

impl MemorySource {
    pub fn new(advs: Vec<Advisory>, kev: HashSet<String>) -> Self {
        let mut index: HashMap<(String, String), Vec<usize>> = HashMap::new();
        for (i, a) in advs.iter().enumerate() {
            for aff in &a.affected {
                let eco = crate::distro::release_key(&aff.package.ecosystem).into_owned();
                let key = (eco.clone(), normalize_name(&eco, &aff.package.name));
                let v = index.entry(key).or_default();
                if v.last() != Some(&i) {
                    v.push(i);
                }
            }
        }
        MemorySource {
            advisories: advs,
            index,
            kev,
        }
    }

    /// Number of records held.
    pub fn len(&self) -> usize {
        self.advisories.len()
    }

    pub fn is_empty(&self) -> bool {
        self.advisories.is_empty()
    }
}

impl AdvisorySource for MemorySource {
    fn advisories_for(&self, ecosystem: &str, name: &str) -> Result<Vec<Advisory>, LookupError> {
        let key = (ecosystem.to_string(), normalize_name(ecosystem, name));
        Ok(self
            .index
            .get(&key)
            .map(|ix| ix.iter().map(|&i| self.advisories[i].clone()).collect())
            .unwrap_or_default())
    }

    fn is_kev(&self, id: &str) -> bool {
        self.kev.contains(id)
    }
}

/// Matching options (room for later: reachability, ecosystem filters, ...).
#[derive(Debug, Clone, Default)]
pub struct MatchOptions {}

/// Matches every package of `inv` against `src`. Returns the findings (sorted) and the
/// diagnostics (see the module docs), in the order their problems were first met.
pub fn match_inventory(
    inv: &Inventory,
    src: &dyn AdvisorySource,
    _opts: &MatchOptions,
) -> (Vec<Finding>, Vec<Diagnostic>) {
    let mut findings = Vec::new();
    let mut diags = Diagnostics::default();
    let mut no_ecosystem = 0usize;
    for pkg in &inv.packages {
        if pkg.application {
            continue;
        }
        let Some(eco) = package_ecosystem(pkg) else {
            no_ecosystem += 1;
            continue;
        };
        let records = records_for(pkg, &eco, src, &mut diags);
        findings.extend(collapse(pkg, &eco, records, src));
    }
    let mut diagnostics = diags.finish();
    if no_ecosystem > 0 {
        diagnostics.push(Diagnostic::new(
            Code::Other,
            format!("{no_ecosystem} package(s) without an ecosystem were not matched"),
        ));
    }
    sort_findings(&mut findings);
    (findings, diagnostics)
}

/// Why a diagnostic was raised: with the ecosystem, the key under which like ones count.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Problem {
    /// A `GIT` range (the entry did not match otherwise).
    GitRange,
    /// An `ECOSYSTEM` range of an ecosystem without a version ordering.
    NoOrdering,
    /// A range of this kind whose scheme does not parse the installed version.
    Unparsable(RangeType, Scheme),
    /// The source failed, with this message.
    Lookup(String),
}

/// The advisories and packages one problem was met with, each once, in first-seen order.
#[derive(Default)]
struct Subjects {
    seen: HashSet<(String, String)>,
    list: Vec<(String, String)>,
}

/// Diagnostics counted per (problem, ecosystem).
#[derive(Default)]
struct Diagnostics {
    groups: Vec<((Problem, String), Subjects)>,
    index: HashMap<(Problem, String), usize>,
}

/// How many advisories or packages a counted diagnostic names before "and N more".
const EXAMPLES: usize = 5;

impl Diagnostics {
    /// Records `problem` in `eco` for package `name` (and advisory `advisory`, when the
    /// problem is one record's: empty for lookups).
    fn add(&mut self, problem: Problem, eco: &str, advisory: &str, name: &str) {
        let key = (problem, eco.to_string());
        let i = match self.index.get(&key) {
            Some(&i) => i,
            None => {
                self.index.insert(key.clone(), self.groups.len());
                self.groups.push((key, Subjects::default()));
                self.groups.len() - 1
            }
        };
        let subjects = &mut self.groups[i].1;
        let subject = (advisory.to_string(), name.to_string());
        if subjects.seen.insert(subject.clone()) {
            subjects.list.push(subject);
        }
    }

    fn finish(self) -> Vec<Diagnostic> {
        self.groups
            .into_iter()
            .map(|((problem, eco), subjects)| message(&problem, &eco, &subjects.list))
            .collect()
    }
}

/// One diagnostic for one problem in one ecosystem: a single line naming the advisory and
/// package for one subject, a count with examples for several.
/// The matcher's order of findings: by package name and version, the most severe first,
/// then by id.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        let (pa, pb) = (a.package(), b.package());
        pa.map(|p| &p.name)
            .cmp(&pb.map(|p| &p.name))
            .then_with(|| pa.map(|p| &p.version).cmp(&pb.map(|p| &p.version)))
            .then_with(|| b.severity.cmp(&a.severity))
            .then_with(|| a.id.cmp(&b.id))
    });
}

fn message(problem: &Problem, eco: &str, subjects: &[(String, String)]) -> Diagnostic {
    // The range kind, `None` for a lookup.
    let (code, range, why) = match problem {
        Problem::Lookup(why) => (Code::LookupFailed, None, why.clone()),
        Problem::GitRange => (
            Code::RangeSkipped,
            Some("GIT"),
            "commit ranges cannot be compared to a package version".to_string(),
        ),
        Problem::NoOrdering => (
            Code::RangeSkipped,
            Some("ECOSYSTEM"),
            format!("no version ordering for ecosystem {eco}"),
        ),
        Problem::Unparsable(kind, scheme) => (
            Code::RangeSkipped,
            Some(range_kind(*kind)),
            format!("the installed version is not a {} version", scheme.as_str()),
        ),
    };
    let n = subjects.len();
    let text = match (subjects, range) {
        ([(_, name)], None) => format!("lookup of {eco}/{name} failed: {why}"),
        ([(id, name)], Some(kind)) => {
            format!("{kind} range skipped in {id} ({eco}/{name}): {why}")
        }
        (_, None) => format!(
            "lookup of {n} {eco} packages failed: {why}: {}",
            examples(subjects)
        ),
        (_, Some(kind)) => format!(
            "{n} {kind} ranges skipped ({eco}): {why}: {}",
            examples(subjects)
        ),
    };
    Diagnostic::new(code, text)
}

/// `GO-1 (m), GO-2 (m) and 4 more` (packages alone when there is no advisory).
fn examples(subjects: &[(String, String)]) -> String {
    let shown: Vec<String> = subjects
        .iter()
        .take(EXAMPLES)
        .map(|(id, name)| {
            if id.is_empty() {
                name.clone()
            } else {
                format!("{id} ({name})")
            }
        })
        .collect();
    let mut list = shown.join(", ");
    if subjects.len() > EXAMPLES {
        list.push_str(&format!(" and {} more", subjects.len() - EXAMPLES));
    }
    list
}

/// The package's OSV ecosystem; for language packages without one, the purl type's.
pub fn package_ecosystem(pkg: &Package) -> Option<String> {
    if let Some(e) = pkg.ecosystem.as_deref().filter(|e| !e.is_empty()) {
        return Some(e.to_string());
    }
    Ecosystem::from_purl_type(&pkg.kind).map(|e| e.osv_name().to_string())
}

/// The installed version of package `name` as compared in an ecosystem (Go: the canonical
/// spelling without its leading `v`).
fn installed_for(eco: &str, name: &str, v: &str) -> String {
    if eco == "Go" {
        let c = moat_model::version::go::canonical(name, v);
        c.strip_prefix('v').map(str::to_string).unwrap_or(c)
    } else {
        v.to_string()
    }
}

/// One record that matched one package.
struct Record {
    adv: Advisory,
    details: Vec<MatchDetail>,
    /// A distro state from a matching entry (other than `affected`), if any.
    state: Option<Status>,
    /// The distro's rating of a matching entry (`Affected::severity`).
    entry_rating: Option<String>,
    distro: bool,
}

fn records_for(
    pkg: &Package,
    eco: &str,
    src: &dyn AdvisorySource,
    diags: &mut Diagnostics,
) -> Vec<Record> {
    // (name looked up, version compared)
    let mut lookups: Vec<(String, String)> = Vec::new();
    if is_os_purl_type(&pkg.kind)
        && let Some(sn) = pkg.source_name.as_deref().filter(|s| !s.is_empty())
    {
        let sv = pkg
            .source_version
            .clone()
            .unwrap_or_else(|| pkg.version.clone());
        lookups.push((sn.to_string(), sv.to_string()));
    }
    // Debian's feeds (DSA/DLA lists, the tracker, OSV's Debian records) name source
    // packages only: a binary package is looked up by its source package alone (a binary
    // named like some other source package must not borrow that package's advisories).
    // Alpine and rpm feeds name binary packages too, so those are looked up both ways.
    let source_only = pkg.kind == "deb" && !lookups.is_empty();
    if !source_only && !lookups.iter().any(|(n, _)| n == &pkg.name) {
        lookups.push((pkg.name.to_string(), pkg.version.to_string()));
    }

    let scheme = Scheme::for_ecosystem(eco);
    // A distro's record: the package is an OS package (the ecosystem names its release).
    let distro = moat_model::ecosystem::is_os_purl_type(&pkg.kind);
    let mut out: Vec<Record> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    for (name, version) in &lookups {
        let advs = match src.advisories_for(eco, name) {
            Ok(a) => a,
            Err(e) => {
                diags.add(Problem::Lookup(e.to_string()), eco, "", name);
                continue;
            }
        };
        let installed = installed_for(eco, name, version);
        let key_name = normalize_name(eco, name);
        for adv in advs {
            if adv.withdrawn.is_some() {
                continue;
            }
            let mut details = Vec::new();
            let mut state = None;
            let mut entry_rating = None;
            for aff in &adv.affected {
                if !crate::distro::applies(aff, pkg, eco)
                    || normalize_name(eco, &aff.package.name) != key_name
                {
                    continue;
                }
                if let Some(d) = eval_affected(&adv, aff, eco, name, &installed, scheme, diags) {
                    if d.fixed.is_none()
                        && let Some(s) = aff.status.filter(|s| *s != Status::Affected)
                    {
                        state.get_or_insert(s);
                    }
                    if entry_rating.is_none() {
                        entry_rating = aff.severity.clone();
                    }
                    details.push(d);
                }
            }
            if details.is_empty() {
                continue;
            }
            let key = (adv.source.clone(), adv.id.clone());
            if let Some(&i) = index.get(&key) {
                let r: &mut Record = &mut out[i];
                r.details.extend(details);
                if r.state.is_none() {
                    r.state = state;
                }
                if r.entry_rating.is_none() {
                    r.entry_rating = entry_rating;
                }
            } else {
                index.insert(key, out.len());
                out.push(Record {
                    adv,
                    details,
                    state,
                    entry_rating,
                    distro,
                });
            }
        }
    }
    out
}

/// Evaluates one `affected[]` entry; `Some` with how it matched when `installed` is affected.
fn eval_affected(
    adv: &Advisory,
    aff: &Affected,
    eco: &str,
    name: &str,
    installed: &str,
    scheme: Option<Scheme>,
    diags: &mut Diagnostics,
) -> Option<MatchDetail> {
    if aff.status == Some(Status::NotAffected) {
        return None;
    }
    let detail = |range: String, fixed: Option<String>| MatchDetail {
        advisory: adv.id.clone(),
        source: adv.source.clone(),
        ecosystem: eco.to_string(),
        package: name.to_string(),
        range,
        installed: installed.to_string(),
        fixed,
    };
    if aff.versions.iter().any(|v| v == installed) {
        // A range may still know the fixed version.
        let fixed = aff
            .ranges
            .iter()
            .find_map(|r| range_scheme(r, scheme).and_then(|s| next_fixed(r, s, installed)));
        return Some(detail(format!("versions contains {installed}"), fixed));
    }
    let mut skipped_git = false;
    for r in &aff.ranges {
        if r.kind == RangeType::Git {
            skipped_git = true;
            continue;
        }
        let Some(s) = range_scheme(r, scheme) else {
            diags.add(Problem::NoOrdering, eco, &adv.id, name);
            continue;
        };
        if !parse_ok(s, installed) {
            let subject = format!("{name}@{installed}");
            diags.add(Problem::Unparsable(r.kind, s), eco, &adv.id, &subject);
            continue;
        }
        if range_affects(r, s, installed) {
            return Some(detail(range_text(r, s), next_fixed(r, s, installed)));
        }
    }
    if skipped_git {
        diags.add(Problem::GitRange, eco, &adv.id, name);
    }
    if aff.ranges.is_empty()
        && aff.versions.is_empty()
        && let Some(st) = aff.status
    {
        return Some(detail(format!("status {}", st.as_str()), None));
    }
    None
}

/// The ordering a range is evaluated with.
fn range_scheme(r: &Range, eco_scheme: Option<Scheme>) -> Option<Scheme> {
    match r.kind {
        RangeType::Semver => Some(Scheme::Semver),
        RangeType::Ecosystem => eco_scheme,
        RangeType::Git => None,
    }
}

/// The range's events sorted by version, `introduced: "0"` first (stable for ties).
fn sorted_events(r: &Range, s: Scheme) -> Vec<&Event> {
    let mut ev: Vec<&Event> = r.events.iter().collect();
    ev.sort_by(|a, b| {
        let za = matches!(a, Event::Introduced(v) if v == "0");
        let zb = matches!(b, Event::Introduced(v) if v == "0");
        match (za, zb) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => compare(s, a.version(), b.version()),
        }
    });
    ev
}

/// OSV's evaluation of one SEMVER or ECOSYSTEM range.
fn range_affects(r: &Range, s: Scheme, v: &str) -> bool {
    let limits: Vec<&str> = r
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Limit(l) => Some(l.as_str()),
            _ => None,
        })
        .collect();
    if !limits.is_empty()
        && !limits
            .iter()
            .any(|l| *l == "*" || compare(s, v, l) == Ordering::Less)
    {
        return false;
    }
    let mut affected = false;
    for e in sorted_events(r, s) {
        match e {
            Event::Introduced(i) => {
                if i == "0" || compare(s, v, i) != Ordering::Less {
                    affected = true;
                }
            }
            Event::Fixed(f) => {
                if compare(s, v, f) != Ordering::Less {
                    affected = false;
                }
            }
            Event::LastAffected(l) => {
                if compare(s, v, l) == Ordering::Greater {
                    affected = false;
                }
            }
            Event::Limit(_) => {}
        }
    }
    affected
}

/// The lowest `fixed` event of the range above `v`.
fn next_fixed(r: &Range, s: Scheme, v: &str) -> Option<String> {
    r.events
        .iter()
        .filter_map(|e| match e {
            Event::Fixed(f) if compare(s, f, v) == Ordering::Greater => Some(f.as_str()),
            _ => None,
        })
        .min_by(|a, b| compare(s, a, b))
        .map(str::to_string)
}

/// `ECOSYSTEM introduced 0, fixed 2.36-9+deb12u4`.
fn range_text(r: &Range, s: Scheme) -> String {
    let kind = range_kind(r.kind);
    let parts: Vec<String> = sorted_events(r, s)
        .into_iter()
        .map(|e| {
            let k = match e {
                Event::Introduced(_) => "introduced",
                Event::Fixed(_) => "fixed",
                Event::LastAffected(_) => "last_affected",
                Event::Limit(_) => "limit",
            };
            format!("{k} {}", e.version())
        })
        .collect();
    format!("{kind} {}", parts.join(", "))
}

/// `SEMVER`, `ECOSYSTEM`, `GIT`.
fn range_kind(kind: RangeType) -> &'static str {
    match kind {
        RangeType::Semver => "SEMVER",
        RangeType::Ecosystem => "ECOSYSTEM",
        RangeType::Git => "GIT",
    }
}

/// The longest title made from an advisory's `details`, in characters.
pub const TITLE_CHARS: usize = 160;

/// A title from an advisory's `details`: the first sentence (to the first word ending in
/// `.`, `!` or `?` that is no abbreviation like `e.g.`) of its first paragraph with text
/// other than markdown headings, white space collapsed; cut at a word to [`TITLE_CHARS`]
/// characters with `…`. `None` when there is no text.
fn title_from_details(details: &str) -> Option<String> {
    let words: Vec<&str> = details
        .split("\n\n")
        .map(|p| {
            p.lines()
                .filter(|l| !l.trim_start().starts_with('#'))
                .flat_map(str::split_whitespace)
                .collect::<Vec<&str>>()
        })
        .find(|w| !w.is_empty())?;
    let mut out = String::new();
    for w in words {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
        let abbreviation = ["e.g.", "i.e.", "etc.", "vs.", "Inc.", "Ltd."]
            .iter()
            .any(|a| w.eq_ignore_ascii_case(a));
        if w.ends_with(['.', '!', '?']) && w.chars().count() > 2 && !abbreviation {
            break;
        }
    }
    if out.chars().count() > TITLE_CHARS {
        let cut: String = out.chars().take(TITLE_CHARS - 1).collect();
        let cut = match cut.rfind(' ') {
            Some(i) if i > TITLE_CHARS / 2 => &cut[..i],
            _ => cut.as_str(),
        };
        out = format!("{}…", cut.trim_end_matches([',', ';', ':', ' ']));
    }
    Some(out)
}

/// 0 distro, 1 GHSA, 2 others.
fn priority(r: &Record) -> u8 {
    if r.distro {
        0
    } else if r.adv.id.starts_with("GHSA-") {
        1
    } else {
        2
    }
}

/// Union-find over record ids and aliases; one finding per group.
fn collapse(
    pkg: &Package,
    eco: &str,
    records: Vec<Record>,
    src: &dyn AdvisorySource,
) -> Vec<Finding> {
    if records.is_empty() {
        return Vec::new();
    }
    let n = records.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    /// Joins the groups of `i` and `j` (the lower root stays the root).
    fn union(p: &mut [usize], i: usize, j: usize) {
        let (a, b) = (find(p, i), find(p, j));
        if a != b {
            p[a.max(b)] = a.min(b);
        }
    }
    let mut owner: HashMap<&str, usize> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        for id in std::iter::once(&r.adv.id).chain(r.adv.aliases.iter()) {
            if let Some(&j) = owner.get(id.as_str()) {
                union(&mut parent, i, j);
            } else {
                owner.insert(id.as_str(), i);
            }
        }
    }
    // A record derived from several upstream ids (`upstream`, which the importers take as
    // an alias only when it is one id) joins the group those ids lead to when they lead to
    // exactly one and name no CVE outside it: Chainguard's `CGA-` record of CVE-X and
    // GHSA-Y (one vulnerability) and Wolfi's secdb record of CVE-X are one finding, while an
    // RHSA derived from two CVEs stays apart from the record of either (each its own
    // vulnerability).
    for (i, r) in records.iter().enumerate() {
        if r.adv.upstream.len() < 2 {
            continue;
        }
        let own = find(&mut parent, i);
        let mut led: Option<usize> = None;
        let mut joins = true;
        for id in &r.adv.upstream {
            let Some(&j) = owner.get(id.as_str()) else {
                // A CVE no record here stands for: another vulnerability.
                joins &= !id.starts_with("CVE-");
                continue;
            };
            let root = find(&mut parent, j);
            if root == own || led == Some(root) {
                continue;
            }
            joins &= led.is_none();
            led = Some(root);
        }
        if let (Some(root), true) = (led, joins) {
            union(&mut parent, own, root);
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..n {
        let root = find(&mut parent, i);
        groups.entry(root).or_default().push(i);
    }
    let scheme = Scheme::for_ecosystem(eco);
    groups
        .into_values()
        .map(|members| {
            let mut group: Vec<&Record> = members.iter().map(|&i| &records[i]).collect();
            group.sort_by(|a, b| {
                priority(a)
                    .cmp(&priority(b))
                    .then_with(|| a.adv.id.cmp(&b.adv.id))
            });
            build_finding(pkg, scheme, group, src)
        })
        .collect()
}

fn build_finding(
    pkg: &Package,
    scheme: Option<Scheme>,
    mut group: Vec<&Record>,
    src: &dyn AdvisorySource,
) -> Finding {
    let mut ids: BTreeSet<String> = BTreeSet::new();
    for r in &group {
        ids.insert(r.adv.id.clone());
        ids.extend(r.adv.aliases.iter().cloned());
    }
    let cves: Vec<&String> = ids.iter().filter(|i| i.starts_with("CVE-")).collect();
    let primary = if cves.len() == 1 {
        cves[0].clone()
    } else {
        group[0].adv.id.clone()
    };
    // The primary's record (if it is one) goes first.
    if let Some(pos) = group.iter().position(|r| r.adv.id == primary) {
        let r = group.remove(pos);
        group.insert(0, r);
    }
    let aliases: Vec<String> = ids.iter().filter(|i| **i != primary).cloned().collect();
    let matched: Vec<MatchDetail> = group
        .iter()
        .flat_map(|r| r.details.iter().cloned())
        .collect();

    let fixed_version = matched
        .iter()
        .filter_map(|d| d.fixed.as_deref())
        .min_by(|a, b| match scheme {
            Some(s) => compare(s, a, b),
            None => a.cmp(b),
        })
        .map(str::to_string);
    let status = if fixed_version.is_some() {
        Status::Fixed
    } else {
        group
            .iter()
            .find_map(|r| r.state)
            .unwrap_or(Status::Affected)
    };

    // CVSS vectors, deduplicated.
    let mut cvss: Vec<CvssScore> = Vec::new();
    for r in &group {
        for s in &r.adv.severity {
            if !s.kind.starts_with("CVSS") || cvss.iter().any(|c| c.vector == s.score) {
                continue;
            }
            let scored = base_score(&s.score);
            cvss.push(CvssScore {
                version: scored.map(|(v, _)| v.to_string()).unwrap_or(s.kind.clone()),
                vector: s.score.clone(),
                score: scored.map(|(_, x)| x),
            });
        }
    }
    let label = |l: &Option<String>| {
        l.as_deref()
            .and_then(Severity::from_label)
            .filter(|s| *s != Severity::Unknown)
    };
    let distro_rating = group
        .iter()
        .filter(|r| r.distro)
        .filter_map(|r| label(&r.entry_rating).or_else(|| label(&r.adv.rating)))
        .max();
    let cvss_rating = cvss
        .iter()
        .filter_map(|c| c.score)
        .max_by(|a, b| a.total_cmp(b))
        .map(Severity::from_score)
        .filter(|s| *s != Severity::Unknown);
    let feed_rating = group
        .iter()
        .flat_map(|r| [label(&r.entry_rating), label(&r.adv.rating)])
        .flatten()
        .max();
    let severity = distro_rating
        .or(cvss_rating)
        .or(feed_rating)
        .unwrap_or(Severity::Unknown);

    let kev = ids.iter().any(|i| src.is_kev(i));
    let title = group
        .iter()
        .find_map(|r| r.adv.summary.clone().filter(|s| !s.trim().is_empty()))
        .or_else(|| {
            group
                .iter()
                .find_map(|r| r.adv.details.as_deref().and_then(title_from_details))
        });
    let mut references: Vec<String> = Vec::new();
    'refs: for r in &group {
        for rf in &r.adv.references {
            if references.len() >= 20 {
                break 'refs;
            }
            if !references.contains(&rf.url) {
                references.push(rf.url.clone());
            }
        }
    }
    let loc = pkg.locations.first();
    let layer = pkg.layer_index().or_else(|| loc.and_then(|l| l.layer));
    let path = loc.map(|l| l.path.to_string());
    Finding {
        id: primary,
        aliases,
        severity,
        status,
        title,
        location: path.clone().map(|p| FindingLocation::file(p, layer)),
        detail: Detail::Vulnerability(VulnerabilityDetail {
            package: Some(FindingPackage {
                id: pkg.id.to_string(),
                name: pkg.name.to_string(),
                version: pkg.version.to_string(),
                purl: pkg.purl().into_owned(),
                layer,
                path,
            }),
            fixed_version,
            cvss,
            kev,
            references,
            matched,
        }),
        suppressed: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_diagnostics_are_counted() {
        let mut d = Diagnostics::default();
        for i in 0..7 {
            d.add(Problem::GitRange, "Go", &format!("GO-{i}"), "m");
        }
        d.add(Problem::GitRange, "Go", "GO-0", "m");
        d.add(Problem::GitRange, "npm", "GHSA-1", "left-pad");
        let e = Problem::Lookup("database is locked".into());
        d.add(e.clone(), "PyPI", "", "a");
        d.add(e, "PyPI", "", "b");
        let out = d.finish();
        let text: Vec<(Code, &str)> = out.iter().map(|d| (d.code, d.message.as_str())).collect();
        assert_eq!(
            text,
            [
                (
                    Code::RangeSkipped,
                    "7 GIT ranges skipped (Go): commit ranges cannot be compared to a package \
                     version: GO-0 (m), GO-1 (m), GO-2 (m), GO-3 (m), GO-4 (m) and 2 more"
                ),
                (
                    Code::RangeSkipped,
                    "GIT range skipped in GHSA-1 (npm/left-pad): commit ranges cannot be \
                     compared to a package version"
                ),
                (
                    Code::LookupFailed,
                    "lookup of 2 PyPI packages failed: database is locked: a, b"
                ),
            ]
        );
    }

    #[test]
    fn range_text_sorted() {
        let r = Range {
            kind: RangeType::Ecosystem,
            repo: None,
            events: vec![
                Event::Fixed("2.36-9+deb12u4".into()),
                Event::Introduced("0".into()),
            ],
        };
        assert_eq!(
            range_text(&r, Scheme::Dpkg),
            "ECOSYSTEM introduced 0, fixed 2.36-9+deb12u4"
        );
    }
}

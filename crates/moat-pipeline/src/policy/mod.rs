//! # The gate: ignore files, OpenVEX, severity and fix filters
//!
//! Decides which findings of a scan are reported and which are suppressed, and why. It works
//! the same for every kind of finding (vulnerabilities, secrets, misconfigurations, runtime
//! alerts).
//!
//! * [`parse_ignore_file`] ([`ignore`]) reads `.moatignore`; [`parse_openvex`] ([`vex`]) reads
//!   OpenVEX 0.2 documents.
//! * [`apply`] runs VEX first, then the ignore entries:
//!   * a VEX statement suppresses a finding when its vulnerability is the finding's id or an
//!     alias, one of its products (or their subcomponents) names the finding's package purl
//!     (see "Comparing purls"; a statement without products applies to every package), and
//!     its status is `not_affected` or `fixed`. The suppression keeps the
//!     status and the justification (or impact statement). `affected` and
//!     `under_investigation` statements suppress nothing. When several statements match, the
//!     last one in the document wins (OpenVEX: later statements supersede earlier ones).
//!   * an ignore entry suppresses a finding when its id is the finding's id or an alias (or
//!     `*`), its `kind` (if any) is the finding's kind, its `package` (if any) is the package
//!     name or its purl (without qualifiers when the entry has none; the version must match
//!     only when the entry names one), and its `path` (if any) is a prefix of the finding's
//!     path (its location, else its package's file) or, when it holds glob characters, matches
//!     it as a glob. An entry whose `expires` date is before `today` no longer suppresses and
//!     is returned in `expired_ignores`; a live entry that suppressed nothing is returned in
//!     `unused_ignores`.
//! * [`Gate`] is the severity filter (`--severity`) and `--ignore-unfixed` (vulnerabilities
//!   only: a secret has no fixed version), applied to what [`apply`] reported.
//!
//! ## Comparing purls
//!
//! A purl in a VEX statement or an ignore entry (`want`) names a package's purl (`have`)
//! when, after both are brought to one spelling, type, namespace and name are the same, and
//! version, qualifiers and subpath are where `want` has them:
//!
//! * names by the ecosystem's rules ([`moat_model::normalize_name`], the rule the advisory
//!   database and the matcher apply): `pkg:nuget/newtonsoft.json` names
//!   `pkg:nuget/Newtonsoft.Json`, `pkg:pypi/Zope.Interface` names `pkg:pypi/zope-interface`;
//! * versions as the ecosystem spells and orders them: a deb or rpm `epoch` qualifier is
//!   part of the version (`@2.38.1-5?epoch=1` is `@1:2.38.1-5`), a Go version has its `v`
//!   (`pkg:golang/golang.org/x/net@0.35.0` is the module version `v0.35.0`; the standard
//!   library's `go1.19.8` is `v1.19.8`), and two versions that both parse are the same
//!   when the ecosystem's ordering says so (Maven `1.0` is `1.0.0`);
//! * qualifiers, other than `epoch`, compared as written, each of `want`'s present in `have`
//!   with the same value (`have`'s others do not matter: OpenVEX's purl matching, spec
//!   issue 27): `?arch=amd64` names `?arch=amd64&distro=debian-12`, `?distro=debian-11` does
//!   not.

pub mod ignore;
pub mod vex;

pub use ignore::{IgnoreEntry, parse_ignore_file};
pub use vex::{VexStatement, parse_openvex};

use moat_model::finding::{Finding, FindingKind, Severity, Status, Suppression};
use moat_model::version::{Scheme, compare, parse_ok};
use moat_model::{Ecosystem, Purl};
use std::collections::BTreeMap;

/// Largest ignore file or VEX document read.
const MAX_BYTES: usize = 16 << 20;

/// An ignore file or VEX document that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{what} too large ({bytes} bytes)")]
    TooLarge { what: &'static str, bytes: usize },
    #[error("{0} is not UTF-8")]
    NotUtf8(&'static str),
    #[error("ignore file: {0}")]
    Yaml(String),
    #[error("ignore entry {n}{}: {what}", paren(id))]
    Entry { n: usize, id: String, what: String },
    #[error("not an OpenVEX document ({0})")]
    NotVex(String),
    #[error("VEX statement {n}{}: {what}", paren(id))]
    Statement { n: usize, id: String, what: String },
}

fn paren(id: &str) -> String {
    if id.is_empty() {
        String::new()
    } else {
        format!(" ({id})")
    }
}

/// What the gate decided.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PolicyOutcome {
    pub reported: Vec<Finding>,
    /// Suppressed findings, each with [`Finding::suppressed`] set.
    pub suppressed: Vec<Finding>,
    /// Live entries that suppressed nothing.
    pub unused_ignores: Vec<IgnoreEntry>,
    /// Entries past their `expires` date (they suppress nothing).
    pub expired_ignores: Vec<IgnoreEntry>,
}

/// Applies VEX statements, then ignore entries, to `findings` as of `today` (`YYYY-MM-DD`).
pub fn apply(
    findings: Vec<Finding>,
    ignores: &[IgnoreEntry],
    vex: &[VexStatement],
    today: &str,
) -> PolicyOutcome {
    let (live, expired): (Vec<&IgnoreEntry>, Vec<&IgnoreEntry>) = ignores
        .iter()
        .partition(|e| e.expires.as_deref().is_none_or(|d| d >= today));
    let live: Vec<ignore::Compiled> = live.into_iter().map(ignore::Compiled::new).collect();
    let mut used = vec![false; live.len()];
    let mut out = PolicyOutcome::default();
    for mut f in findings {
        if let Some(s) = vex
            .iter()
            .rev()
            .find(|s| vex_matches(s, &f))
            .filter(|s| s.status == "not_affected" || s.status == "fixed")
        {
            f.suppressed = Some(Suppression {
                by: "vex".into(),
                reason: s.status.clone(),
                justification: s.justification.clone().or_else(|| s.impact.clone()),
            });
            out.suppressed.push(f);
            continue;
        }
        let matching: Vec<usize> = live
            .iter()
            .enumerate()
            .filter(|(_, e)| e.matches(&f))
            .map(|(i, _)| i)
            .collect();
        if let Some(&first) = matching.first() {
            for &i in &matching {
                used[i] = true;
            }
            f.suppressed = Some(Suppression {
                by: "ignore".into(),
                reason: live[first].entry.reason.clone(),
                justification: None,
            });
            out.suppressed.push(f);
            continue;
        }
        out.reported.push(f);
    }
    out.unused_ignores = live
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(e, _)| e.entry.clone())
        .collect();
    out.expired_ignores = expired.into_iter().cloned().collect();
    out
}

/// The severity filter and `--ignore-unfixed`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gate {
    /// Report only these severities (all when empty).
    pub severities: Vec<Severity>,
    /// Leave out vulnerabilities without a fixed version.
    pub ignore_unfixed: bool,
}

impl Gate {
    /// Whether a reported finding stays in the report.
    pub fn keeps(&self, f: &Finding) -> bool {
        (self.severities.is_empty() || self.severities.contains(&f.severity))
            && !(self.ignore_unfixed
                && f.kind() == FindingKind::Vulnerability
                && f.status != Status::Fixed)
    }
}

fn id_matches(id: &str, f: &Finding) -> bool {
    let id = id.trim();
    f.id.eq_ignore_ascii_case(id) || f.aliases.iter().any(|a| a.eq_ignore_ascii_case(id))
}

/// A purl in the one spelling two purls are compared in (see "Comparing purls").
#[derive(Debug, PartialEq, Eq)]
struct PurlKey {
    ty: String,
    /// The ecosystem's lookup form of the name (namespace included).
    name: String,
    version: Option<String>,
    /// Without `epoch` (folded into the version).
    qualifiers: BTreeMap<String, String>,
    subpath: Option<String>,
    scheme: Option<Scheme>,
}

impl PurlKey {
    fn new(p: Purl) -> PurlKey {
        let ty = p.ty.to_ascii_lowercase();
        let mut qualifiers = p.qualifiers;
        let epoch = qualifiers.remove("epoch");
        let eco = Ecosystem::from_purl_type(&ty);
        let (name, scheme) = match eco {
            Some(e) => {
                let n = e.name_from_purl(p.namespace.as_deref(), &p.name);
                (e.normalize_name(&n), Scheme::for_ecosystem(e.osv_name()))
            }
            None => {
                let n = match &p.namespace {
                    Some(ns) => format!("{ns}/{}", p.name),
                    None => p.name.clone(),
                };
                let scheme = match ty.as_str() {
                    "deb" => Some(Scheme::Dpkg),
                    "rpm" => Some(Scheme::Rpm),
                    "apk" => Some(Scheme::Apk),
                    _ => None,
                };
                (n, scheme)
            }
        };
        let version = p.version.map(|v| match (eco, epoch.as_deref()) {
            (Some(Ecosystem::Go), _) => moat_model::version::go::canonical(&p.name, &v),
            (None, Some(e))
                if matches!(ty.as_str(), "deb" | "rpm")
                    && !v.contains(':')
                    && !e.is_empty()
                    && e != "0" =>
            {
                format!("{e}:{v}")
            }
            _ => v,
        });
        PurlKey {
            ty,
            name,
            version,
            qualifiers,
            subpath: p.subpath,
            scheme,
        }
    }

    /// Whether `self` (wanted) names `have`.
    fn names(&self, have: &PurlKey) -> bool {
        let version_ok = match (&self.version, &have.version) {
            (None, _) => true,
            (Some(w), Some(h)) => {
                w == h
                    || self.scheme.is_some_and(|s| {
                        parse_ok(s, w) && parse_ok(s, h) && compare(s, w, h).is_eq()
                    })
            }
            (Some(_), None) => false,
        };
        self.ty == have.ty
            && self.name == have.name
            && version_ok
            // OpenVEX's purl matching: the wanted purl's qualifiers narrow it, the
            // package's others do not matter (`?arch=amd64` names `?arch=amd64&distro=...`)
            && self
                .qualifiers
                .iter()
                .all(|(k, v)| have.qualifiers.get(k) == Some(v))
            && (self.subpath.is_none() || self.subpath == have.subpath)
    }
}

/// Whether the purl `want` names the purl `have` (see "Comparing purls"): type, namespace
/// and name always; version, qualifiers and subpath only when `want` has them.
fn purl_matches(want: &str, have: &str) -> bool {
    if want == have {
        return true;
    }
    let (Ok(w), Ok(h)) = (Purl::parse(want), Purl::parse(have)) else {
        return false;
    };
    PurlKey::new(w).names(&PurlKey::new(h))
}

fn vex_matches(s: &VexStatement, f: &Finding) -> bool {
    if !id_matches(&s.vulnerability, f) {
        return false;
    }
    if s.products.is_empty() {
        return true;
    }
    let Some(p) = f.package() else { return false };
    s.products.iter().any(|want| purl_matches(want, &p.purl))
}

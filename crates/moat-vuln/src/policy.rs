//! # The gate: ignore files and OpenVEX
//!
//! Decides which findings of a scan are reported and which are suppressed, and why.
//!
//! * [`parse_ignore_file`] reads `.moatignore` (YAML): either a list of entries or a mapping
//!   `{ignore: [...]}`. Each entry has `id`, optional `package` (a name or a purl), optional
//!   `path`, a required `reason` and optional `expires: YYYY-MM-DD`. A missing or empty
//!   reason, a missing id, an unknown key or a malformed date is an error naming the entry
//!   (its position and id). Parsing runs with a small YAML budget (depth, nodes, aliases,
//!   scalar bytes) so a hostile file cannot blow up memory.
//! * [`parse_openvex`] reads an OpenVEX 0.2 JSON document: `statements[]` with
//!   `vulnerability` (an object with `name`, or a string), `products[]` (objects with `@id`,
//!   or strings), `status`, `justification`, `impact_statement`.
//! * [`apply`] runs VEX first, then the ignore entries:
//!   * a VEX statement suppresses a finding when its vulnerability is the finding's id or an
//!     alias, one of its products is the finding's package purl (compared without qualifiers
//!     and subpath when the product has none; a statement without products applies to every
//!     package), and its status is `not_affected` or `fixed`. The suppression keeps the
//!     status and the justification (or impact statement). `affected` and
//!     `under_investigation` statements suppress nothing. When several statements match, the
//!     last one in the document wins (OpenVEX: later statements supersede earlier ones).
//!   * an ignore entry suppresses a finding when its id is the finding's id or an alias, its
//!     `package` (if any) is the package name or its purl (without qualifiers when the entry
//!     has none; the version must match only when the entry names one), and its `path` (if
//!     any) is a prefix of the package's location path. An entry whose `expires` date is
//!     before `today` no longer suppresses and is returned in `expired_ignores`; a live
//!     entry that suppressed nothing is returned in `unused_ignores`.
//!
//! Severity filtering and `--ignore-unfixed` are the CLI's business, not this module's.

use moat_model::Purl;
use moat_model::finding::{Finding, Suppression};
use serde::Deserialize;

/// One entry of an ignore file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreEntry {
    pub id: String,
    /// A package name or a purl.
    pub package: Option<String>,
    /// A prefix of the package's location path.
    pub path: Option<String>,
    pub reason: String,
    /// `YYYY-MM-DD`; the entry applies up to and including that day.
    pub expires: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    id: Option<String>,
    package: Option<String>,
    path: Option<String>,
    reason: Option<String>,
    expires: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawFile {
    List(Vec<RawEntry>),
    Map { ignore: Option<Vec<RawEntry>> },
}

/// Limits for the YAML parser: an ignore file is small.
fn yaml_options() -> serde_saphyr::Options {
    let mut b = serde_saphyr::Budget::default();
    b.max_depth = 16;
    b.flow_nesting_limit = 16;
    b.max_nodes = 100_000;
    b.max_events = 400_000;
    b.max_aliases = 100;
    b.max_anchors = 100;
    b.max_documents = 1;
    b.max_total_scalar_bytes = 8 << 20;
    let mut o = serde_saphyr::Options::default();
    o.budget = Some(b);
    o
}

/// Maximum size of an ignore file or VEX document.
const MAX_BYTES: usize = 16 << 20;

/// Parses an ignore file (YAML list or `{ignore: [...]}`); an empty file has no entries.
pub fn parse_ignore_file(bytes: &[u8]) -> Result<Vec<IgnoreEntry>, String> {
    if bytes.len() > MAX_BYTES {
        return Err(format!("ignore file too large ({} bytes)", bytes.len()));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| "ignore file is not UTF-8".to_string())?;
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Ok(Vec::new());
    }
    let raw: RawFile = serde_saphyr::from_str_with_options(text, yaml_options())
        .map_err(|e| format!("ignore file: {e}"))?;
    let raw = match raw {
        RawFile::List(v) => v,
        RawFile::Map { ignore } => ignore.unwrap_or_default(),
    };
    let mut out = Vec::with_capacity(raw.len());
    for (i, e) in raw.into_iter().enumerate() {
        let n = i + 1;
        let id =
            e.id.map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .ok_or_else(|| format!("ignore entry {n}: missing `id`"))?;
        let reason = e
            .reason
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("ignore entry {n} ({id}): missing `reason`"))?;
        if let Some(d) = &e.expires
            && !valid_date(d)
        {
            return Err(format!(
                "ignore entry {n} ({id}): `expires` must be YYYY-MM-DD, got {d:?}"
            ));
        }
        out.push(IgnoreEntry {
            id,
            package: e.package.filter(|s| !s.trim().is_empty()),
            path: e.path.filter(|s| !s.trim().is_empty()),
            reason,
            expires: e.expires,
        });
    }
    Ok(out)
}

/// `YYYY-MM-DD` with a plausible month and day.
fn valid_date(d: &str) -> bool {
    let b = d.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if !(digits(0..4) && digits(5..7) && digits(8..10)) {
        return false;
    }
    let m: u32 = d[5..7].parse().unwrap_or(0);
    let day: u32 = d[8..10].parse().unwrap_or(0);
    (1..=12).contains(&m) && (1..=31).contains(&day)
}

/// One OpenVEX statement, flattened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VexStatement {
    pub vulnerability: String,
    /// Product identifiers (purls).
    pub products: Vec<String>,
    /// `not_affected`, `fixed`, `affected` or `under_investigation`.
    pub status: String,
    pub justification: Option<String>,
    pub impact: Option<String>,
}

#[derive(Deserialize)]
struct RawVex {
    #[serde(rename = "@context")]
    context: Option<String>,
    #[serde(default)]
    statements: Vec<RawStatement>,
}

#[derive(Deserialize)]
struct RawStatement {
    vulnerability: Option<NameOrObject>,
    #[serde(default)]
    products: Vec<NameOrObject>,
    status: Option<String>,
    justification: Option<String>,
    impact_statement: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NameOrObject {
    Name(String),
    Object {
        #[serde(rename = "@id")]
        id: Option<String>,
        name: Option<String>,
        /// The packages inside a product (an image) the statement is about, as
        /// `vexctl --subcomponents` and Trivy write them.
        #[serde(default)]
        subcomponents: Vec<NameOrObject>,
    },
}

impl NameOrObject {
    fn product_id(self) -> Option<String> {
        match self {
            NameOrObject::Name(s) => Some(s),
            NameOrObject::Object { id, name, .. } => id.or(name),
        }
    }
    /// The product's id and its subcomponents' ids: a statement about a product's
    /// subcomponent applies to that package (the product itself, an image, is no package).
    fn product_ids(self) -> Vec<String> {
        match self {
            NameOrObject::Name(s) => vec![s],
            NameOrObject::Object {
                id,
                name,
                subcomponents,
            } => id
                .or(name)
                .into_iter()
                .chain(
                    subcomponents
                        .into_iter()
                        .filter_map(NameOrObject::product_id),
                )
                .collect(),
        }
    }
    fn vuln_name(self) -> Option<String> {
        match self {
            NameOrObject::Name(s) => Some(s),
            NameOrObject::Object { id, name, .. } => name.or(id),
        }
    }
}

const VEX_STATUSES: [&str; 4] = ["not_affected", "fixed", "affected", "under_investigation"];

/// Parses an OpenVEX 0.2 JSON document.
pub fn parse_openvex(bytes: &[u8]) -> Result<Vec<VexStatement>, String> {
    if bytes.len() > MAX_BYTES {
        return Err(format!("VEX document too large ({} bytes)", bytes.len()));
    }
    let raw: RawVex =
        serde_json::from_slice(bytes).map_err(|e| format!("not an OpenVEX document: {e}"))?;
    match raw.context.as_deref() {
        Some(c) if c.starts_with("https://openvex.dev/ns") => {}
        Some(c) => return Err(format!("not an OpenVEX document (@context {c:?})")),
        None => return Err("not an OpenVEX document (no @context)".into()),
    }
    let mut out = Vec::with_capacity(raw.statements.len());
    for (i, s) in raw.statements.into_iter().enumerate() {
        let n = i + 1;
        let vulnerability = s
            .vulnerability
            .and_then(NameOrObject::vuln_name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("VEX statement {n}: no vulnerability name"))?;
        let status = s
            .status
            .ok_or_else(|| format!("VEX statement {n} ({vulnerability}): no status"))?;
        if !VEX_STATUSES.contains(&status.as_str()) {
            return Err(format!(
                "VEX statement {n} ({vulnerability}): unknown status {status:?}"
            ));
        }
        out.push(VexStatement {
            vulnerability,
            products: s
                .products
                .into_iter()
                .flat_map(NameOrObject::product_ids)
                .collect(),
            status,
            justification: s.justification,
            impact: s.impact_statement,
        });
    }
    Ok(out)
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
        if let Some(i) = live.iter().position(|e| ignore_matches(e, &f)) {
            used[i] = true;
            // Mark every other matching entry as used too.
            for (j, e) in live.iter().enumerate().skip(i + 1) {
                if ignore_matches(e, &f) {
                    used[j] = true;
                }
            }
            f.suppressed = Some(Suppression {
                by: "ignore".into(),
                reason: live[i].reason.clone(),
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
        .map(|(e, _)| (*e).clone())
        .collect();
    out.expired_ignores = expired.into_iter().cloned().collect();
    out
}

fn id_matches(id: &str, f: &Finding) -> bool {
    let id = id.trim();
    f.id.eq_ignore_ascii_case(id) || f.aliases.iter().any(|a| a.eq_ignore_ascii_case(id))
}

/// Whether the purl `want` names the purl `have`: type, namespace and name always; version,
/// qualifiers and subpath only when `want` has them.
fn purl_matches(want: &str, have: &str) -> bool {
    if want == have {
        return true;
    }
    let (Ok(w), Ok(h)) = (Purl::parse(want), Purl::parse(have)) else {
        return false;
    };
    w.ty == h.ty
        && w.namespace == h.namespace
        && w.name == h.name
        && (w.version.is_none() || w.version == h.version)
        && (w.qualifiers.is_empty() || w.qualifiers == h.qualifiers)
        && (w.subpath.is_none() || w.subpath == h.subpath)
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

fn ignore_matches(e: &IgnoreEntry, f: &Finding) -> bool {
    if !id_matches(&e.id, f) {
        return false;
    }
    if let Some(want) = &e.package {
        let Some(p) = f.package() else { return false };
        let ok = if want.starts_with("pkg:") {
            purl_matches(want, &p.purl)
        } else {
            *want == p.name
        };
        if !ok {
            return false;
        }
    }
    if let Some(prefix) = &e.path {
        let Some(path) = f.path() else {
            return false;
        };
        if !path.starts_with(prefix.as_str()) {
            return false;
        }
    }
    true
}

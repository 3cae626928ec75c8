//! # moat-report: an [`Inventory`] or a [`ScanReport`] in, bytes out
//!
//! Every reporter here is a pure function of a [`moat_model::Inventory`] (or a scan
//! report) and, where the format records when it was made, a [`RenderOptions`] carrying
//! the timestamp. Nothing reads files, the network, the clock or the environment: the CLI
//! decides what "now" is and passes it down ([`format_timestamp`] writes it the one way every
//! report does). Same input + same options = the same bytes, which is
//! what golden tests, caches and reproducible builds need.
//!
//! | function | output | module |
//! |---|---|---|
//! | [`json`] | moat's own JSON document: the serde form of [`Inventory`], pretty, `\n`-terminated | here |
//! | [`cyclonedx`] | CycloneDX 1.6 JSON | `cyclonedx.rs` |
//! | [`spdx`] | SPDX 2.3 JSON | `spdx.rs` |
//! | [`table`] | a human table: PACKAGE, VERSION, TYPE, LAYER | `table.rs` |
//! | [`scan_json`], [`sarif`], [`cyclonedx_vulns`], [`scan_table`], [`scan_html`] | the reports of `moat scan`, for every kind of finding | [`scan`] |
//! | [`read_sbom`] | the other way: a CycloneDX or SPDX JSON document into an [`Inventory`] | [`sbom_in`] |
//!
//! Shared helpers: `term.rs` (terminal cell widths, escaping, cutting, colour, columns for
//! both tables), `time.rs` (RFC 3339 timestamps through `jiff`), `license.rs` (SPDX licence
//! ids and expressions).
//!
//! ## How the SBOMs are built
//!
//! Each format has its own private serde structs (`cyclonedx.rs`, `spdx.rs`) that mirror
//! the parts of the specification we emit, field for field, with `skip_serializing_if`
//! for absent values. Building a typed document and serialising it once keeps the shape
//! checked by the compiler and the key order fixed by the struct, so the output is
//! deterministic without sorting maps.
//!
//! Packages are ordered by (type, name, version, id) in every output, so the result does
//! not depend on the order in which a parallel scan happened to find them. Relationships
//! are deduplicated, those naming unknown package ids are dropped, and both formats
//! guarantee unique references even when the inventory (against the model's promise)
//! repeats a package id: the second `x` becomes `x#2`.
//!
//! Licences go through `license.rs`: a valid SPDX id becomes a CycloneDX
//! `license.id`, a valid expression an `expression`, anything else a `license.name`; in
//! SPDX the declared licence is the AND of all of them, with free-text names turned into
//! `LicenseRef-`s that are defined in `hasExtractedLicensingInfos`.
//!
//! Identity: the CycloneDX `serialNumber` and the SPDX `documentNamespace` both derive
//! from SHA-256 over the artifact digest (or its kind, name and path when there is none),
//! the tool version and the timestamp, shaped as a version-4 UUID. A re-run with the same
//! timestamp (`SOURCE_DATE_EPOCH`) reproduces the document; a new scan gets a new id.
//!
//! Timestamps: the options' timestamp is normalised to `YYYY-MM-DDTHH:MM:SSZ`, the one
//! form both validators accept (offsets are converted, fractions dropped); an unreadable
//! timestamp becomes `1970-01-01T00:00:00Z` rather than an invalid document. The calendar
//! arithmetic is `jiff`'s (the crate the advisory database and the CLI use too); `time.rs`
//! only fixes the forms read and written.
//!
//! Nothing here panics on odd input: strings from the scanned image (package names,
//! history lines, file names, matched lines) are data; the tables replace control
//! characters so that a hostile package or file name cannot drive the terminal.
//!
//! ## Rejected alternatives
//!
//! * `serde_json::Value`-built documents: nothing checks the shape, and key order follows
//!   the map type rather than the specification.
//! * The `cyclonedx-bom` crate: its model is larger than what we emit and lags behind the
//!   specification versions; the part of CycloneDX 1.6 we need is a few small structs.
//! * A hand-written civil-date conversion (this crate had one): a second calendar in the
//!   workspace once other crates need dates; `jiff` with only `std` (no time-zone
//!   database) is small and pure Rust.
//! * A table crate: a few columns need a width function, `pad` and `format!`.
//!
//! ## Tests and golden files
//!
//! `tests/golden.rs` renders a fixed inventory with a fixed timestamp and compares the
//! four outputs with `tests/golden/{inventory.json, cyclonedx.json, spdx.json, table.txt}`.
//! After an intended change, regenerate them and review the diff:
//!
//! ```text
//! MOAT_UPDATE_GOLDEN=1 cargo test -p moat-report
//! ```
//!
//! `tests/scan.rs` does the same for the scan reports of `tests/scan_fixture.rs`: a
//! vulnerability-only report (`scan.*`) and one with a finding of every kind (`scan-all.*`:
//! JSON, SARIF, CycloneDX, table plain and in colour).
//!
//! `tests/validate.rs` and `tests/scan_validate.rs` run the reference validators
//! (`$MOAT_PEERS/bin/validate-cyclonedx`, `validate-spdx`, `validate-sarif`, `MOAT_PEERS`
//! defaulting to `/var/tmp/moat-peers`) over the fixtures, an empty inventory, a rootfs
//! without digests and hostile input. Without the validators they print a skip notice,
//! unless `CI=true`, where they fail.

mod cyclonedx;
mod license;
pub mod sbom_in;
pub mod scan;
mod spdx;
mod table;
mod term;
mod time;

#[cfg(doc)]
use moat_model::ScanReport;
use moat_model::{Artifact, Inventory, Layer, Package, Purl};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap, HashSet};

pub use sbom_in::{MAX_SBOM_BYTES, SbomError, read_sbom};
pub use scan::{
    DEFAULT_WIDTH, cyclonedx_vulns, sarif, scan_html, scan_json, scan_table, scan_table_width,
};
pub use term::escape as escape_terminal;

/// Options shared by the reporters that need more than the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderOptions {
    /// When the document was made: RFC 3339 UTC, e.g. `2026-11-29T01:02:03Z` (see
    /// [`format_timestamp`]). Other RFC 3339 forms are normalised; garbage becomes the epoch.
    pub timestamp: String,
    /// ANSI colour (bold headers) in [`table`]; the SBOMs ignore it.
    pub color: bool,
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (years clamped to 0000..=9999): the
/// form every report writes. The caller says what "now" is; nothing here reads the clock.
pub fn format_timestamp(secs: i64) -> String {
    time::format_utc(secs)
}

/// Seconds since the Unix epoch of an RFC 3339 timestamp (`2026-11-29T01:02:03Z`, offsets and
/// fractions allowed); `None` when it cannot be read.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    time::parse_rfc3339(s)
}

/// A pretty-printed JSON object `doc` with `"name": value` added as its last member (indented
/// like the rest), everything before it byte for byte as it was; `doc` unchanged when it is
/// not an object.
pub fn with_json_field(mut doc: Vec<u8>, name: &str, value: &serde_json::Value) -> Vec<u8> {
    let Some(end) = doc.iter().rposition(|b| *b == b'}') else {
        return doc;
    };
    let (Ok(pretty), Ok(name)) = (
        serde_json::to_string_pretty(value),
        serde_json::to_string(name),
    ) else {
        return doc;
    };
    let tail = doc.split_off(end);
    let mut out = doc.trim_ascii_end().to_vec();
    out.extend_from_slice(if out.ends_with(b"{") { b"\n" } else { b",\n" });
    out.extend_from_slice(format!("  {name}: {}\n", pretty.replace('\n', "\n  ")).as_bytes());
    out.extend_from_slice(&tail);
    out
}

/// moat's own JSON document: the serde form of the inventory, pretty-printed, with a
/// trailing newline.
pub fn json(inv: &Inventory) -> Vec<u8> {
    to_pretty(inv)
}

/// A CycloneDX 1.6 JSON document.
pub fn cyclonedx(inv: &Inventory, o: &RenderOptions) -> Vec<u8> {
    to_pretty(&cyclonedx::build(inv, o))
}

/// An SPDX 2.3 JSON document.
pub fn spdx(inv: &Inventory, o: &RenderOptions) -> Vec<u8> {
    to_pretty(&spdx::build(inv, o))
}

/// A human-readable table of the packages.
pub fn table(inv: &Inventory, o: &RenderOptions) -> String {
    table::render(inv, o)
}

/// Pretty JSON plus `\n`. Serialising these types cannot fail (string keys only, no
/// custom serialisers); should it ever, the output is empty rather than a panic.
fn to_pretty<T: serde::Serialize>(value: &T) -> Vec<u8> {
    match serde_json::to_vec_pretty(value) {
        Ok(mut v) => {
            v.push(b'\n');
            v
        }
        Err(_) => Vec::new(),
    }
}

/// Replaces every character outside `[A-Za-z0-9.-]` (the SPDX id alphabet) with `-`.
pub(crate) fn sanitize_id(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The packages in output order, each with a reference unique in the document, and the
/// dependency edges between them as indices into that order.
pub(crate) struct Prepared<'a> {
    pub packages: Vec<&'a Package>,
    /// `refs[i]`: the package id, or `id#n` for the n-th repetition of an id.
    pub refs: Vec<String>,
    /// `deps[i]`: indices of the packages that package `i` depends on, sorted, unique.
    pub deps: Vec<Vec<usize>>,
}

impl<'a> Prepared<'a> {
    pub fn new(inv: &'a Inventory) -> Prepared<'a> {
        let mut packages: Vec<&Package> = inv.packages.iter().collect();
        packages.sort_by(|a, b| {
            (&a.kind, &a.name, &a.version, &a.id).cmp(&(&b.kind, &b.name, &b.version, &b.id))
        });
        let mut used = HashSet::new();
        let mut first: HashMap<&str, usize> = HashMap::new();
        let mut refs = Vec::with_capacity(packages.len());
        for (i, p) in packages.iter().enumerate() {
            first.entry(p.id.as_str()).or_insert(i);
            refs.push(unique(&p.id, &mut used, "#"));
        }
        let mut deps: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); packages.len()];
        for r in &inv.relationships {
            if let (Some(&from), Some(&to)) = (first.get(r.from.as_str()), first.get(r.to.as_str()))
                && from != to
            {
                deps[from].insert(to);
            }
        }
        Prepared {
            packages,
            refs,
            deps: deps.into_iter().map(|s| s.into_iter().collect()).collect(),
        }
    }

    /// A reference for a non-package element that collides with no package reference.
    /// `taken` lists other references already handed out.
    pub fn extra_ref(&self, want: &str, taken: &[&str]) -> String {
        let mut used: HashSet<String> = self.refs.iter().cloned().collect();
        used.extend(taken.iter().map(|t| t.to_string()));
        unique(want, &mut used, "-")
    }
}

/// `want`, or `want<sep>2`, `want<sep>3`, ... whichever is not in `used` yet; records it.
fn unique(want: &str, used: &mut HashSet<String>, sep: &str) -> String {
    let mut candidate = want.to_string();
    let mut n = 2;
    while used.contains(&candidate) {
        candidate = format!("{want}{sep}{n}");
        n += 1;
    }
    used.insert(candidate.clone());
    candidate
}

/// The layer a package came from, when the inventory knows it.
pub(crate) fn layer_of(artifact: &Artifact, index: usize) -> Option<&Layer> {
    artifact.layers.iter().find(|l| l.index == index)
}

/// The document's UUID: SHA-256 over the artifact identity, tool version and timestamp,
/// with the version (4) and variant (10xx) bits set like a random UUID's.
pub(crate) fn document_uuid(inv: &Inventory, timestamp: &str) -> String {
    let identity = match inv.artifact.digest() {
        Some(d) => d.to_string(),
        None => format!(
            "{}:{}:{}",
            inv.artifact.kind.as_str(),
            inv.artifact.name,
            inv.artifact.path
        ),
    };
    let mut h = Sha256::new();
    for part in [
        identity.as_str(),
        inv.tool.name.as_str(),
        inv.tool.version.as_str(),
        timestamp,
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

/// The image reference without tag or digest: `docker.io/library/debian:12` ->
/// `docker.io/library/debian`, `localhost:5000/app@sha256:..` -> `localhost:5000/app`.
fn repository_of(name: &str) -> &str {
    let name = name.split('@').next().unwrap_or(name);
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    match name[last_slash..].rfind(':') {
        Some(i) => &name[..last_slash + i],
        None => name,
    }
}

/// `pkg:oci/<last segment>@<digest>?repository_url=<repository>` for an image with a
/// digest; `None` otherwise (a rootfs or directory has no OCI identity).
pub(crate) fn image_purl(artifact: &Artifact) -> Option<String> {
    let digest = artifact.digest()?;
    let repo = repository_of(&artifact.name);
    let last = repo.rsplit('/').next().unwrap_or(repo).to_ascii_lowercase();
    if last.is_empty() {
        return None;
    }
    let p = Purl::new("oci", &last)
        .with_version(digest)
        .with_qualifier("repository_url", repo);
    Some(p.to_string())
}

/// A package's purl when it parses as one; reporters drop malformed purls rather than
/// emit documents that fail validation.
pub(crate) fn valid_purl(p: &Package) -> Option<String> {
    let purl = p.purl();
    Purl::parse(&purl).ok().map(|_| purl.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_strips_tag_and_digest_but_not_port() {
        assert_eq!(
            repository_of("docker.io/library/debian:12"),
            "docker.io/library/debian"
        );
        assert_eq!(repository_of("localhost:5000/app"), "localhost:5000/app");
        assert_eq!(
            repository_of("localhost:5000/app:1@sha256:ab"),
            "localhost:5000/app"
        );
        assert_eq!(repository_of("alpine"), "alpine");
    }

    #[test]
    fn uuid_is_v4_shaped_and_stable() {
        let mut artifact = crate::sbom_in::bare_artifact("x", "/x");
        artifact.kind = moat_model::ArtifactKind::Rootfs;
        let inv = Inventory {
            schema_version: moat_model::SCHEMA_VERSION.into(),
            tool: moat_model::Tool {
                name: "moat".into(),
                version: "0.1.0".into(),
                analyzers: vec![],
            },
            artifact,
            packages: vec![],
            relationships: vec![],
            diagnostics: vec![],
            package_files: Default::default(),
        };
        let a = document_uuid(&inv, "2026-11-29T01:02:03Z");
        assert_eq!(a, document_uuid(&inv, "2026-11-29T01:02:03Z"));
        assert_ne!(a, document_uuid(&inv, "2026-11-29T01:02:04Z"));
        let b = a.as_bytes();
        assert_eq!(a.len(), 36);
        assert_eq!(b[14], b'4');
        assert!(matches!(b[19], b'8' | b'9' | b'a' | b'b'));
    }

    #[test]
    fn sanitize() {
        assert_eq!(
            sanitize_id("deb:libc6@2.36-9+deb12u4"),
            "deb-libc6-2.36-9-deb12u4"
        );
    }
}

//! cargo-auditable (`.dep-v0`)
//!
//! `cargo auditable build` stores a zlib-compressed JSON document in the ELF section
//! `.dep-v0`: `{"packages":[{"name","version","source","kind","dependencies":[indices],
//! "root"}]}` (`kind` is `runtime` when absent, or `build`; `source` is `crates.io`, `git`,
//! `local`, `registry` or other). The section is decompressed with an output cap
//! ([`MAX_AUDIT_JSON`]) and parsed with serde_json (whose recursion limit bounds nesting).
//! Output, ecosystem [`Ecosystem::Cargo`]: one package per entry, in order; the `root` entry is
//! `application: true`; metadata `source` and, for build-time dependencies, `kind=build`;
//! `depends` lists the names of the entries the indices point to (out-of-range indices give
//! one `parse-error`). A section or its JSON over the limits is `too-large` and not read.

use std::io::Read;

use moat_model::{Code, Diagnostic};
use object::{Object, ObjectSection};
use serde::Deserialize;

use crate::{Ecosystem, LangPackage, LangParsed};

/// Largest decompressed cargo-auditable JSON accepted.
pub const MAX_AUDIT_JSON: usize = 8 << 20;
/// Largest compressed `.dep-v0` section accepted.
const MAX_AUDIT_SECTION: usize = 8 << 20;

#[derive(Deserialize)]
struct AuditInfo {
    packages: Vec<AuditPackage>,
}

#[derive(Deserialize)]
struct AuditPackage {
    name: String,
    version: String,
    #[serde(default)]
    source: Option<serde_json::Value>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    dependencies: Vec<u64>,
    #[serde(default)]
    root: bool,
}

/// Reads the `.dep-v0` section of an ELF file, if it has one, into `out`.
pub(super) fn read(elf: &object::File<'_>, out: &mut LangParsed) {
    let Some(section) = elf.section_by_name(".dep-v0") else {
        return;
    };
    match section.data() {
        Ok(d) => audit_packages(d, out),
        Err(e) => out.warn(Diagnostic::parse(format!(
            ".dep-v0 section unreadable: {e}"
        ))),
    }
}

fn audit_packages(compressed: &[u8], out: &mut LangParsed) {
    if compressed.len() > MAX_AUDIT_SECTION {
        out.warn(Diagnostic::new(
            Code::TooLarge,
            format!(
                ".dep-v0 section of {} bytes exceeds the {MAX_AUDIT_SECTION}-byte limit",
                compressed.len()
            ),
        ));
        return;
    }
    let mut json = Vec::new();
    let reader = flate2::read::ZlibDecoder::new(compressed);
    if let Err(e) = reader
        .take(MAX_AUDIT_JSON as u64 + 1)
        .read_to_end(&mut json)
    {
        out.warn(Diagnostic::parse(format!(
            ".dep-v0 section does not decompress: {e}"
        )));
        return;
    }
    if json.len() > MAX_AUDIT_JSON {
        out.warn(Diagnostic::new(
            Code::TooLarge,
            format!(".dep-v0 decompresses to more than {MAX_AUDIT_JSON} bytes"),
        ));
        return;
    }
    let info: AuditInfo = match serde_json::from_slice(&json) {
        Ok(i) => i,
        Err(e) => {
            out.warn(Diagnostic::parse(format!(
                ".dep-v0 JSON is not readable: {e}"
            )));
            return;
        }
    };
    let names: Vec<&str> = info.packages.iter().map(|p| p.name.as_str()).collect();
    let mut bad_indices = 0usize;
    for p in &info.packages {
        let mut pkg = LangPackage::new(Ecosystem::Cargo, &p.name, &p.version);
        pkg.application = p.root;
        match &p.source {
            Some(serde_json::Value::String(s)) => {
                pkg.metadata.insert("source".into(), s.clone().into());
            }
            Some(serde_json::Value::Null) | None => {}
            Some(other) => {
                pkg.metadata
                    .insert("source".into(), other.to_string().into());
            }
        }
        if p.kind.as_deref() == Some("build") {
            pkg.metadata.insert("kind".into(), "build".into());
        }
        for &i in &p.dependencies {
            match usize::try_from(i).ok().and_then(|i| names.get(i)) {
                Some(n) => {
                    if !pkg.depends.iter().any(|d| d == n) {
                        pkg.depends.push(n.to_string());
                    }
                }
                None => bad_indices += 1,
            }
        }
        out.packages.push(pkg);
    }
    if bad_indices > 0 {
        out.warn(Diagnostic::parse(format!(
            ".dep-v0 has {bad_indices} dependency index(es) out of range"
        )));
    }
}

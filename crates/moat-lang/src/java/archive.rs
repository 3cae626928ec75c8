//! JAR, WAR and EAR archives, read in memory, nested archives included, within limits.
//!
//! Diagnostics name the place inside the archive, never the archive's own path (the engine
//! adds that): a problem with the archive handed in has no prefix (`not a readable zip
//! archive: ...`), one inside it names the entry (`META-INF/maven/g/a/pom.properties: no
//! version`), one inside a nested archive the chain of entries (`WEB-INF/lib/x.jar!/META-INF/
//! MANIFEST.MF: ...`). A limit hit is `too-large`, anything unreadable `parse-error`.

use std::collections::BTreeSet;
use std::io::{Cursor, Read};

use moat_model::{Code, Diagnostic};
use zip::ZipArchive;

use super::ARCHIVE_EXTENSIONS;
use super::manifest::{
    Identity, Manifest, identify_file_name, identify_manifest, parse_properties,
};
use crate::{Ecosystem, LangPackage, LangParsed, read};

/// Bounds on what one top-level archive may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// How deep archives inside archives are opened (the top-level archive is depth 0).
    pub max_depth: usize,
    /// Largest nested archive read into memory, uncompressed bytes.
    pub max_entry: u64,
    /// Largest `pom.properties` or `MANIFEST.MF` read, uncompressed bytes.
    pub max_meta_entry: u64,
    /// Uncompressed bytes read from all entries of one top-level archive together.
    pub max_total: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_depth: 4,
            max_entry: 256 << 20,
            max_meta_entry: 1 << 20,
            max_total: 1 << 30,
        }
    }
}

/// `name` ends with one of `exts` (ASCII case-insensitive) and has a stem before it.
fn has_ext(name: &str, exts: &[&str]) -> bool {
    exts.iter()
        .any(|e| name.len() > e.len() && read::ends_with_ci(name, e))
}

/// Where inside the top-level archive: `entry` of the archive at `inner` (`""` for the
/// archive handed in).
fn inside(inner: &str, entry: &str) -> String {
    if inner.is_empty() {
        entry.to_string()
    } else {
        format!("{inner}!/{entry}")
    }
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Parses a Java archive with the default [`ArchiveLimits`].
pub fn parse_archive(path: &str, bytes: &[u8]) -> LangParsed {
    parse_archive_with_limits(path, bytes, &ArchiveLimits::default())
}

/// Parses a Java archive (JAR, WAR, EAR, ...) and the archives nested in it.
pub fn parse_archive_with_limits(path: &str, bytes: &[u8], limits: &ArchiveLimits) -> LangParsed {
    let mut walk = Walk {
        top: path,
        limits,
        used: 0,
        out: LangParsed::default(),
        depth_warned: false,
    };
    walk.visit(path, "", base_name(path), bytes, 0);
    walk.out
}

struct Walk<'a> {
    /// The path handed in: metadata `archive` of everything found.
    top: &'a str,
    limits: &'a ArchiveLimits,
    /// Uncompressed bytes read so far from this top-level archive.
    used: u64,
    out: LangParsed,
    depth_warned: bool,
}

/// Why an entry was not read in full.
#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error("declares {declared} bytes uncompressed, over the {cap}-byte limit per entry")]
    OverEntryLimit { declared: u64, cap: u64 },
    #[error(
        "declares {declared} bytes uncompressed, over what is left of the {total}-byte limit per archive"
    )]
    OverArchiveLimit { declared: u64, total: u64 },
    #[error("inflates past {cap} bytes although it declares {declared} (zip bomb?)")]
    Inflates { cap: u64, declared: u64 },
    #[error("{0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl ReadError {
    fn code(&self) -> Code {
        match self {
            ReadError::Zip(_) | ReadError::Io(_) => Code::ParseError,
            _ => Code::TooLarge,
        }
    }
}

impl Walk<'_> {
    /// A diagnostic about `place` inside the archive (`""`: the archive handed in).
    fn warn(&mut self, code: Code, place: &str, msg: impl std::fmt::Display) {
        let message = if place.is_empty() {
            msg.to_string()
        } else {
            format!("{place}: {msg}")
        };
        self.out.warn(Diagnostic::new(code, message));
    }

    fn warn_read(&mut self, place: &str, e: &ReadError) {
        self.warn(e.code(), place, e);
    }

    /// Reads entry `index` whole, refusing more than `cap` uncompressed bytes (and more than
    /// is left of the per-archive budget), whatever the entry declares.
    fn read_entry(
        &mut self,
        zip: &mut ZipArchive<Cursor<&[u8]>>,
        index: usize,
        cap: u64,
    ) -> Result<Vec<u8>, ReadError> {
        let left = self.limits.max_total.saturating_sub(self.used);
        let cap_here = cap.min(left);
        let file = zip.by_index(index)?;
        let declared = file.size();
        if declared > cap {
            return Err(ReadError::OverEntryLimit { declared, cap });
        }
        if declared > left {
            return Err(ReadError::OverArchiveLimit {
                declared,
                total: self.limits.max_total,
            });
        }
        // The declared size may lie: count what inflates, one byte past the cap at most.
        let mut buf = Vec::with_capacity(usize::try_from(declared).unwrap_or(0).min(1 << 20));
        let result = file.take(cap_here.saturating_add(1)).read_to_end(&mut buf);
        self.used = self.used.saturating_add(buf.len() as u64);
        if buf.len() as u64 > cap_here {
            return Err(ReadError::Inflates {
                cap: cap_here,
                declared,
            });
        }
        result?;
        Ok(buf)
    }

    /// `chain` names this archive for `nested_in` (`a.war!/WEB-INF/lib/b.jar`), `inner` for
    /// diagnostics (the same without the top-level path: `WEB-INF/lib/b.jar`, `""` at the
    /// top); `file_name` is its base name; `depth` 0 is the archive handed in.
    fn visit(&mut self, chain: &str, inner: &str, file_name: &str, bytes: &[u8], depth: usize) {
        let mut zip = match ZipArchive::new(Cursor::new(bytes)) {
            Ok(z) => z,
            Err(e) => {
                let msg = format!("not a readable zip archive: {e}");
                self.warn(Code::ParseError, inner, msg);
                return;
            }
        };
        let mut pom_props: Vec<(usize, String)> = Vec::new();
        let mut manifest_index = None;
        let mut nested: Vec<(usize, String)> = Vec::new();
        for i in 0..zip.len() {
            let Ok(entry) = zip.by_index_data(i) else {
                continue;
            };
            if entry.is_dir() {
                continue;
            }
            let Ok(name) = entry.name() else {
                continue;
            };
            let name = name.into_owned();
            let parts: Vec<&str> = name.split('/').collect();
            if parts.len() == 5
                && parts[0] == "META-INF"
                && parts[1] == "maven"
                && parts[4] == "pom.properties"
            {
                pom_props.push((i, name));
            } else if name.eq_ignore_ascii_case("META-INF/MANIFEST.MF") {
                manifest_index = Some(i);
            } else if has_ext(&name, &ARCHIVE_EXTENSIONS) {
                nested.push((i, name));
            }
        }

        let application = is_application_archive(file_name);
        let mut found: Vec<LangPackage> = Vec::new();
        for (i, name) in &pom_props {
            let bytes = match self.read_entry(&mut zip, *i, self.limits.max_meta_entry) {
                Ok(b) => b,
                Err(e) => {
                    self.warn_read(&inside(inner, name), &e);
                    continue;
                }
            };
            let props = parse_properties(&bytes);
            let get = |k: &str| {
                props
                    .iter()
                    .find(|(pk, _)| pk == k)
                    .map(|(_, v)| v.trim())
                    .filter(|v| !v.is_empty())
            };
            let parts: Vec<&str> = name.split('/').collect();
            let group = get("groupId").unwrap_or(parts[2]);
            let artifact = get("artifactId").unwrap_or(parts[3]);
            let Some(version) = get("version") else {
                self.warn(Code::ParseError, &inside(inner, name), "no version");
                continue;
            };
            let mut p = LangPackage::new(Ecosystem::Maven, format!("{group}:{artifact}"), version);
            p.metadata
                .insert("identified_by".into(), "pom.properties".into());
            found.push(p);
        }
        if found.is_empty() {
            let manifest = match manifest_index {
                Some(i) => match self.read_entry(&mut zip, i, self.limits.max_meta_entry) {
                    Ok(b) => Some(Manifest::parse(&b)),
                    Err(e) => {
                        self.warn_read(&inside(inner, "META-INF/MANIFEST.MF"), &e);
                        None
                    }
                },
                None => None,
            };
            let ident = manifest
                .as_ref()
                .and_then(|m| identify_manifest(m, file_name))
                .map(|i| (i, "manifest"))
                .or_else(|| identify_file_name(file_name).map(|i| (i, "filename")));
            match ident {
                Some((id, how)) => found.push(identity_package(id, how)),
                None => self.warn(
                    Code::ParseError,
                    inner,
                    "no pom.properties, manifest or file name gives a version",
                ),
            }
        }
        if application {
            // The WAR/EAR's own identity: the only one, or the one named like the file.
            let (file_artifact, _) = super::manifest::split_file_name(file_name);
            let n = found.len();
            for p in &mut found {
                if n == 1 || p.name.rsplit(':').next() == Some(file_artifact.as_str()) {
                    p.application = true;
                }
            }
        }

        let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
        for mut p in found {
            if !seen.insert((p.name.clone(), p.version.clone())) {
                continue;
            }
            p.metadata
                .insert("archive".into(), self.top.to_string().into());
            if depth > 0 {
                p.metadata
                    .insert("nested_in".into(), chain.to_string().into());
            }
            self.out.packages.push(p);
        }

        for (i, name) in nested {
            let nested_chain = format!("{chain}!/{name}");
            let nested_inner = inside(inner, &name);
            if depth + 1 > self.limits.max_depth {
                if !self.depth_warned {
                    self.depth_warned = true;
                    let msg = format!(
                        "archives nested deeper than {} are not opened",
                        self.limits.max_depth
                    );
                    self.warn(Code::TooLarge, &nested_inner, msg);
                }
                continue;
            }
            if self.used >= self.limits.max_total {
                let msg = format!(
                    "stopped opening nested archives at the {}-byte limit per archive",
                    self.limits.max_total
                );
                self.warn(Code::TooLarge, inner, msg);
                return;
            }
            match self.read_entry(&mut zip, i, self.limits.max_entry) {
                Ok(bytes) => self.visit(
                    &nested_chain,
                    &nested_inner,
                    base_name(&name),
                    &bytes,
                    depth + 1,
                ),
                Err(e) => self.warn_read(&nested_inner, &e),
            }
        }
    }
}

/// WARs and EARs are applications; their contents are dependencies.
fn is_application_archive(file_name: &str) -> bool {
    has_ext(file_name, &[".war", ".ear"])
}

fn identity_package(id: Identity, how: &str) -> LangPackage {
    let mut p = LangPackage::new(
        Ecosystem::Maven,
        format!("{}:{}", id.group, id.artifact),
        id.version,
    );
    p.metadata.insert("identified_by".into(), how.into());
    if id.group_guessed {
        p.metadata.insert("group_guessed".into(), "true".into());
    }
    p
}

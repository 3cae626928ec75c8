//! `moat config PATH...`: misconfiguration checks on files and directories as they are on
//! disk, without an image or an inventory.
//!
//! Each path is a file or a directory, walked recursively (symlinks not followed, `.git`
//! skipped) in sorted order. What a file is comes from its name ([`kind_of`]): a Dockerfile's
//! name ([`moat_misconfig::dockerfile::is_dockerfile_name`]), a Compose file's
//! ([`moat_misconfig::compose::is_compose_file`]), or `*.yaml`/`*.yml`/`*.json`, which is a
//! Kubernetes manifest when its documents have `apiVersion` and `kind`
//! ([`moat_misconfig::k8s::looks_like_manifest`]; other YAML and JSON is passed over, and so
//! are Helm templates found in a directory, [`moat_misconfig::k8s::looks_like_template`]). A file
//! named on the command line whose name says nothing is checked as a Dockerfile (the user
//! named it). The manifests of one run are checked together, so that a NetworkPolicy in one
//! file covers the workloads of another; `--pss` ([`ConfigSettings::k8s`]) runs only the Pod
//! Security Standards on them. Findings name the file as it was reached from the path given.
//! The report is the scan report's shape (an inventory of kind `dir` without packages, the
//! findings, the suppressed findings) and goes through the same policy: VEX, ignore entries,
//! the gate.
//!
//! Users' Rego policies ([`ConfigSettings::policies`], loaded by [`load_policies`] from
//! `--policy DIR`: every `*.rego` under each directory, `*_test.rego` skipped) run on the
//! same files beside the built-in rules ([`moat_misconfig::rego`]); with `--pss` they do not.
//!
//! Bounds: files over their parser's cap are a `too-large` diagnostic; at most
//! [`MAX_FILES`] files are checked (a note says when more were found).

use crate::policy::{Gate, IgnoreEntry, VexStatement};
use crate::{AdvisoryInfo, Error, Outcome, Policy, finish};
use moat_misconfig::rego::{self, Policies, PolicyError};
use moat_misconfig::{compose, dockerfile, k8s};
use moat_model::{Artifact, ArtifactKind, Code, Diagnostic, Inventory};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The most files one run checks.
pub const MAX_FILES: usize = 100_000;

/// What `moat config` needs, resolved.
#[derive(Debug, Clone)]
pub struct ConfigSettings {
    pub paths: Vec<PathBuf>,
    pub ignores: Vec<IgnoreEntry>,
    pub vex: Vec<VexStatement>,
    pub gate: Gate,
    pub now: jiff::Timestamp,
    /// Which checks manifests get: all of them (the default), or only the Pod Security
    /// Standards at one level and version (then Dockerfiles and Compose files are not checked).
    pub k8s: k8s::Checks,
    /// Users' Rego policies, run beside the built-in rules (not with `--pss`).
    pub policies: Option<Arc<Policies>>,
}

/// Loads the Rego policies under `paths` (files, or directories searched recursively for
/// `*.rego`, `*_test.rego` skipped, in sorted order) for the checks in `namespaces` (empty:
/// `user`). A policy that does not parse is an error naming its file and line.
pub fn load_policies(paths: &[PathBuf], namespaces: &[String]) -> Result<Policies, Error> {
    let mut files = Vec::new();
    walk_paths(paths, &mut files, |p, e, files| {
        let e = e.map_err(|err| Error::Io {
            path: err.path().unwrap_or(p).to_path_buf(),
            source: err.into(),
        })?;
        let name = e.file_name().to_string_lossy();
        if e.file_type().is_file() && name.ends_with(".rego") && !name.ends_with("_test.rego") {
            files.push(e.into_path());
        }
        if files.len() > rego::MAX_POLICY_FILES {
            return Err(PolicyError::TooMany.into());
        }
        Ok(())
    })?;
    let mut sources = Vec::with_capacity(files.len());
    for f in files {
        let name = f.display().to_string();
        let bytes = read_file(&f, rego::MAX_POLICY_BYTES, "a policy").map_err(|d| {
            if d.code == Code::TooLarge {
                Error::from(PolicyError::TooLarge {
                    path: name.clone(),
                    size: std::fs::metadata(&f).map_or(0, |m| m.len() as usize),
                })
            } else {
                Error::Io {
                    path: f.clone(),
                    source: std::io::Error::other(d.message),
                }
            }
        })?;
        sources.push((name, bytes));
    }
    Ok(Policies::load(&sources, namespaces)?)
}

/// What a file is, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dockerfile,
    Compose,
    /// YAML or JSON: a Kubernetes manifest if its content says so.
    Manifest,
}

/// What the file name says the file is (`None`: nothing moat checks).
pub fn kind_of(name: &str) -> Option<Kind> {
    let lower = name.to_ascii_lowercase();
    if dockerfile::is_dockerfile_name(name) {
        Some(Kind::Dockerfile)
    } else if compose::is_compose_file(name) {
        Some(Kind::Compose)
    } else if lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json") {
        Some(Kind::Manifest)
    } else {
        None
    }
}

/// Each of `paths`: a file is taken as it is; a directory is walked (sorted, symlinks not
/// followed, `.git` skipped) and each entry handed to `entry` with the directory.
fn walk_paths(
    paths: &[PathBuf],
    files: &mut Vec<PathBuf>,
    mut entry: impl FnMut(
        &Path,
        walkdir::Result<walkdir::DirEntry>,
        &mut Vec<PathBuf>,
    ) -> Result<(), Error>,
) -> Result<(), Error> {
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|source| Error::Io {
            path: p.clone(),
            source,
        })?;
        if !meta.is_dir() {
            files.push(p.clone());
            continue;
        }
        for e in walkdir::WalkDir::new(p)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || e.file_name() != ".git")
        {
            entry(p, e, files)?;
        }
    }
    Ok(())
}

/// The files to check under `paths`, and notes about what was skipped.
pub fn discover(paths: &[PathBuf]) -> Result<(Vec<PathBuf>, Vec<Diagnostic>), Error> {
    let mut files = Vec::new();
    let mut notes = Vec::new();
    walk_paths(paths, &mut files, |p, e, files| {
        match e {
            Ok(e) => {
                if e.file_type().is_file() && e.file_name().to_str().and_then(kind_of).is_some() {
                    files.push(e.into_path());
                }
            }
            Err(err) => notes.push(
                Diagnostic::new(Code::Unreadable, err.to_string())
                    .at(err.path().unwrap_or(p).display().to_string(), None),
            ),
        }
        Ok(())
    })?;
    if files.len() > MAX_FILES {
        notes.push(Diagnostic::new(
            Code::TooLarge,
            format!(
                "{} files found: only the first {MAX_FILES} were checked",
                files.len()
            ),
        ));
        files.truncate(MAX_FILES);
    }
    Ok((files, notes))
}

/// The bytes of a file of at most `limit` bytes, or the diagnostic saying why not.
fn read_file(path: &Path, limit: usize, what: &str) -> Result<Vec<u8>, Diagnostic> {
    let name = path.display().to_string();
    let unreadable =
        |e: std::io::Error| Diagnostic::new(Code::Unreadable, e.to_string()).at(name.clone(), None);
    match std::fs::metadata(path) {
        Ok(m) if m.len() > limit as u64 => {
            return Err(Diagnostic::new(
                Code::TooLarge,
                format!("{} bytes, over the {limit}-byte limit of {what}", m.len()),
            )
            .at(name.clone(), None));
        }
        Ok(_) => {}
        Err(e) => return Err(unreadable(e)),
    }
    std::fs::read(path).map_err(unreadable)
}

/// Checks one Dockerfile or Compose file (and runs the policies on it): its findings and
/// diagnostics.
fn check_file(path: &Path, kind: Kind, policies: Option<&Policies>) -> dockerfile::Checked {
    let name = path.display().to_string();
    let (limit, what, t) = match kind {
        Kind::Compose => (
            compose::MAX_FILE_BYTES,
            "a Compose file",
            rego::FileType::Compose,
        ),
        _ => (
            dockerfile::parse::MAX_FILE_BYTES,
            "a Dockerfile",
            rego::FileType::Dockerfile,
        ),
    };
    match read_file(path, limit, what) {
        Ok(bytes) => {
            let mut c = if kind == Kind::Compose {
                compose::check(&name, &bytes)
            } else {
                dockerfile::check(&name, &bytes)
            };
            if let Some(p) = policies {
                let r = p.check(t, &name, &bytes);
                c.findings.extend(r.findings);
                // A file that does not parse already said so.
                c.diagnostics.extend(
                    r.diagnostics
                        .into_iter()
                        .filter(|d| d.code != Code::ParseError),
                );
            }
            c
        }
        Err(d) => dockerfile::Checked {
            diagnostics: vec![d],
            ..Default::default()
        },
    }
}

/// Runs the checks and the policy.
pub fn run(settings: &ConfigSettings) -> Result<Outcome, Error> {
    let (files, mut diagnostics) = discover(&settings.paths)?;
    let named: Vec<&Path> = settings.paths.iter().map(PathBuf::as_path).collect();
    let only_pss = matches!(settings.k8s, k8s::Checks::Pss(..));
    let mut findings = Vec::new();
    let mut manifests = Vec::new();
    for f in &files {
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        // A file named on the command line whose name says nothing is a Dockerfile.
        let kind =
            kind_of(name).or_else(|| named.contains(&f.as_path()).then_some(Kind::Dockerfile));
        match kind {
            Some(Kind::Manifest) => match read_file(f, k8s::MAX_FILE_BYTES, "a manifest") {
                // A Helm template in a directory is passed over: not YAML until rendered.
                Ok(bytes)
                    if k8s::looks_like_template(&bytes) && !named.contains(&f.as_path()) => {}
                Ok(bytes) if k8s::looks_like_manifest(&bytes) => {
                    if let Some(p) = settings.policies.as_ref().filter(|_| !only_pss) {
                        let c = p.check(rego::FileType::Kubernetes, &f.display().to_string(), &bytes);
                        findings.extend(c.findings);
                        diagnostics.extend(c.diagnostics);
                    }
                    manifests.push((f.display().to_string(), bytes));
                }
                Ok(_) if named.contains(&f.as_path()) => diagnostics.push(
                    Diagnostic::new(
                        Code::Unsupported,
                        "not a Kubernetes manifest (no document with apiVersion and kind): not checked".to_string(),
                    )
                    .at(f.display().to_string(), None),
                ),
                Ok(_) => {}
                Err(d) => diagnostics.push(d),
            },
            Some(k) if !only_pss => {
                let c = check_file(f, k, settings.policies.as_deref());
                findings.extend(c.findings);
                diagnostics.extend(c.diagnostics);
            }
            _ => {}
        }
    }
    let c = k8s::check(&manifests, settings.k8s);
    findings.extend(c.findings);
    diagnostics.extend(c.diagnostics);
    let name = settings
        .paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" ");
    let inventory = Inventory {
        schema_version: moat_model::SCHEMA_VERSION.to_string(),
        tool: moat_model::Tool::default(),
        artifact: Artifact::new(name.clone(), ArtifactKind::Dir, name),
        packages: Vec::new(),
        relationships: Vec::new(),
        diagnostics,
        package_files: Default::default(),
    };
    Ok(finish(
        inventory,
        findings,
        &Policy {
            ignores: &settings.ignores,
            vex: &settings.vex,
            gate: &settings.gate,
            now: settings.now,
        },
        AdvisoryInfo::default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(paths: Vec<PathBuf>) -> ConfigSettings {
        ConfigSettings {
            paths,
            ignores: Vec::new(),
            vex: Vec::new(),
            gate: Gate::default(),
            now: jiff::Timestamp::UNIX_EPOCH,
            k8s: Default::default(),
            policies: None,
        }
    }

    #[test]
    fn finds_dockerfiles_recursively_and_checks_named_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/.git")).unwrap();
        std::fs::write(
            root.join("a/Dockerfile"),
            "FROM alpine:3\nUSER root\nHEALTHCHECK NONE\n",
        )
        .unwrap();
        std::fs::write(root.join("a/.git/Dockerfile"), "FROM alpine\n").unwrap();
        std::fs::write(
            root.join("a/api.Dockerfile"),
            "FROM alpine:3\nUSER app\nHEALTHCHECK NONE\nMAINTAINER x\n",
        )
        .unwrap();
        std::fs::write(root.join("a/notes.txt"), "FROM alpine\n").unwrap();
        std::fs::write(
            root.join("odd-name"),
            "FROM scratch\nUSER 1\nHEALTHCHECK NONE\nEXPOSE 22\n",
        )
        .unwrap();
        let out = run(&settings(vec![root.join("a"), root.join("odd-name")])).unwrap();
        let got: Vec<(String, String)> = out
            .report
            .findings
            .iter()
            .map(|f| {
                let p = f.path().unwrap();
                (p.rsplit('/').next().unwrap().to_string(), f.id.clone())
            })
            .collect();
        assert_eq!(
            got,
            [
                ("Dockerfile".to_string(), "MOAT-DF-001".to_string()),
                ("api.Dockerfile".to_string(), "MOAT-DF-032".to_string()),
                ("odd-name".to_string(), "MOAT-DF-021".to_string()),
            ]
        );
        assert!(out.findings_remain());
    }

    #[test]
    fn the_gate_and_ignore_file_apply() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("Dockerfile");
        std::fs::write(&f, "FROM alpine\nUSER root\nHEALTHCHECK NONE\n").unwrap();
        let mut s = settings(vec![f]);
        s.ignores =
            crate::policy::parse_ignore_file(b"- id: DL3007\n  reason: hadolint's id works\n")
                .unwrap();
        s.gate.severities = vec![moat_model::Severity::High, moat_model::Severity::Medium];
        let out = run(&s).unwrap();
        let ids: Vec<&str> = out.report.findings.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["MOAT-DF-001"]);
        assert_eq!(out.report.suppressed.len(), 1);
    }

    #[test]
    fn a_missing_path_is_an_error() {
        assert!(matches!(
            run(&settings(vec!["/nonexistent/x".into()])),
            Err(Error::Io { .. })
        ));
    }
}

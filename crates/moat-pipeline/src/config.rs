//! `moat config PATH...`: misconfiguration checks on files and directories as they are on
//! disk, without an image or an inventory.
//!
//! Each path is a file (checked as a Dockerfile whatever its name: the user named it) or a
//! directory, walked recursively (symlinks not followed, `.git` skipped) for files whose
//! name is a Dockerfile's ([`moat_misconfig::dockerfile::is_dockerfile_name`]), in sorted
//! order. Findings name the file as it was reached from the path given. The report is the
//! scan report's shape (an inventory of kind `dir` without packages, the findings, the
//! suppressed findings) and goes through the same policy: VEX, ignore entries, the gate.
//!
//! Bounds: files over the parser's cap are a `too-large` diagnostic; at most
//! [`MAX_FILES`] files are checked (a note says when more were found).

use crate::policy::{Gate, IgnoreEntry, VexStatement};
use crate::{AdvisoryInfo, Error, Outcome, Policy, finish};
use moat_misconfig::dockerfile;
use moat_model::{Artifact, ArtifactKind, Code, Diagnostic, Inventory};
use std::path::{Path, PathBuf};

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
}

/// The files to check under `paths`, and notes about what was skipped.
pub fn discover(paths: &[PathBuf]) -> Result<(Vec<PathBuf>, Vec<Diagnostic>), Error> {
    let mut files = Vec::new();
    let mut notes = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|source| Error::Io {
            path: p.clone(),
            source,
        })?;
        if !meta.is_dir() {
            files.push(p.clone());
            continue;
        }
        let walk = walkdir::WalkDir::new(p)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || e.file_name() != ".git");
        for e in walk {
            match e {
                Ok(e) => {
                    if e.file_type().is_file()
                        && e.file_name()
                            .to_str()
                            .is_some_and(dockerfile::is_dockerfile_name)
                    {
                        files.push(e.into_path());
                    }
                }
                Err(err) => notes.push(
                    Diagnostic::new(Code::Unreadable, err.to_string())
                        .at(err.path().unwrap_or(p).display().to_string(), None),
                ),
            }
        }
    }
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

/// Checks one file: its findings and diagnostics.
fn check_file(path: &Path) -> dockerfile::Checked {
    let name = path.display().to_string();
    let too_large = |size: u64| dockerfile::Checked {
        diagnostics: vec![
            Diagnostic::new(
                Code::TooLarge,
                format!(
                    "{size} bytes, over the {}-byte limit of a Dockerfile",
                    dockerfile::parse::MAX_FILE_BYTES
                ),
            )
            .at(name.clone(), None),
        ],
        ..Default::default()
    };
    let unreadable = |e: std::io::Error| dockerfile::Checked {
        diagnostics: vec![Diagnostic::new(Code::Unreadable, e.to_string()).at(name.clone(), None)],
        ..Default::default()
    };
    match std::fs::metadata(path) {
        Ok(m) if m.len() > dockerfile::parse::MAX_FILE_BYTES as u64 => return too_large(m.len()),
        Ok(_) => {}
        Err(e) => return unreadable(e),
    }
    match std::fs::read(path) {
        Ok(bytes) => dockerfile::check(&name, &bytes),
        Err(e) => unreadable(e),
    }
}

/// Runs the checks and the policy.
pub fn run(settings: &ConfigSettings) -> Result<Outcome, Error> {
    let (files, mut diagnostics) = discover(&settings.paths)?;
    let mut findings = Vec::new();
    for f in &files {
        let c = check_file(f);
        findings.extend(c.findings);
        diagnostics.extend(c.diagnostics);
    }
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

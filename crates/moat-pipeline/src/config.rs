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
//! Helm charts (a directory with `Chart.yaml` and `templates/`) are rendered
//! ([`moat_misconfig::helm`]) with their `values.yaml`, then [`ConfigSettings::helm_values`],
//! then [`ConfigSettings::helm_set`], and each rendered template is checked with the other
//! manifests under the template's path (`CHART/templates/x.yaml`; line numbers are the
//! rendered document's). The chart's own files (`Chart.yaml`, `values*.yaml`, `templates/`,
//! `charts/`) are then not checked as plain files. A chart whose Chart.yaml does not read
//! is a diagnostic; a values file or `--helm-set` entry that does not read is an error.
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
use moat_misconfig::{compose, dockerfile, helm, k8s};
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
    /// Values files for Helm charts (`--helm-values`), merged in order over values.yaml.
    pub helm_values: Vec<PathBuf>,
    /// `--helm-set` entries (Helm's `--set` syntax), merged last.
    pub helm_set: Vec<String>,
}

/// The most bytes of one chart's files read.
pub const MAX_CHART_BYTES: u64 = 64 << 20;

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

/// Whether `dir` is a Helm chart: `Chart.yaml` and a `templates` directory.
pub fn is_chart_dir(dir: &Path) -> bool {
    dir.join("Chart.yaml").is_file() && dir.join("templates").is_dir()
}

/// Whether `path`, inside the chart at `root`, is one of the chart's own files (rendered,
/// not checked as it is).
fn chart_own_file(root: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(root) else {
        return false;
    };
    let mut parts = rel.components();
    let first = parts
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned());
    let nested = parts.next().is_some();
    match first.as_deref() {
        Some("templates" | "charts") => true,
        Some(name) if !nested => {
            name == "Chart.yaml"
                || name == "Chart.lock"
                || name == "values.schema.json"
                || (name.starts_with("values")
                    && (name.ends_with(".yaml") || name.ends_with(".yml")))
        }
        _ => false,
    }
}

/// What to check under `paths`: the files, the Helm charts' directories, and notes about
/// what was skipped.
pub struct Discovered {
    pub files: Vec<PathBuf>,
    pub charts: Vec<PathBuf>,
    pub notes: Vec<Diagnostic>,
}

/// The files to check under `paths`, and notes about what was skipped.
pub fn discover(paths: &[PathBuf]) -> Result<(Vec<PathBuf>, Vec<Diagnostic>), Error> {
    let d = discover_all(paths)?;
    Ok((d.files, d.notes))
}

/// The files and the Helm charts to check under `paths`.
pub fn discover_all(paths: &[PathBuf]) -> Result<Discovered, Error> {
    let mut files = Vec::new();
    let mut notes = Vec::new();
    let mut charts: Vec<PathBuf> = Vec::new();
    walk_paths(paths, &mut files, |p, e, files| {
        match e {
            Ok(e) => {
                let in_chart = charts
                    .iter()
                    .any(|c| e.path() != c && chart_own_file(c, e.path()));
                if e.file_type().is_dir() && !in_chart && is_chart_dir(e.path()) {
                    charts.push(e.path().to_path_buf());
                } else if !in_chart
                    && e.file_type().is_file()
                    && e.file_name().to_str().and_then(kind_of).is_some()
                {
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
    Ok(Discovered {
        files,
        charts,
        notes,
    })
}

/// The files of the chart at `root` (relative `/`-separated paths), at most
/// [`MAX_CHART_BYTES`] in all and [`MAX_FILES`] of them.
fn read_chart(root: &Path) -> Result<Vec<(String, Vec<u8>)>, Diagnostic> {
    let name = root.display().to_string();
    let mut out = Vec::new();
    let mut total = 0u64;
    for e in walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || e.file_name() != ".git")
    {
        let e = e.map_err(|err| {
            Diagnostic::new(Code::Unreadable, err.to_string())
                .at(err.path().unwrap_or(root).display().to_string(), None)
        })?;
        if !e.file_type().is_file() {
            continue;
        }
        let rel = e
            .path()
            .strip_prefix(root)
            .unwrap_or(e.path())
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let bytes = read_file(e.path(), k8s::MAX_FILE_BYTES, "a chart's file")?;
        total += bytes.len() as u64;
        if total > MAX_CHART_BYTES || out.len() >= MAX_FILES {
            return Err(Diagnostic::new(
                Code::TooLarge,
                format!("the chart's files are over {MAX_CHART_BYTES} bytes: not rendered"),
            )
            .at(name, None));
        }
        out.push((rel, bytes));
    }
    Ok(out)
}

/// The `--helm-values` files and `--helm-set` entries, read and checked once.
fn helm_overrides(settings: &ConfigSettings) -> Result<helm::Overrides, Error> {
    let mut o = helm::Overrides {
        values: Vec::new(),
        set: settings.helm_set.clone(),
    };
    for f in &settings.helm_values {
        let bytes = read_file(f, k8s::MAX_FILE_BYTES, "a values file").map_err(|d| Error::Io {
            path: f.clone(),
            source: std::io::Error::other(d.message),
        })?;
        o.values.push((f.display().to_string(), bytes));
    }
    let mut scratch = helm::value::Map::new();
    for e in &o.set {
        helm::apply_set(e, &mut scratch)?;
    }
    Ok(o)
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
    let Discovered {
        files,
        charts,
        notes: mut diagnostics,
    } = discover_all(&settings.paths)?;
    let named: Vec<&Path> = settings.paths.iter().map(PathBuf::as_path).collect();
    let only_pss = matches!(settings.k8s, k8s::Checks::Pss(..));
    let mut findings = Vec::new();
    let mut manifests = Vec::new();
    let overrides = helm_overrides(settings)?;
    for root in &charts {
        let chart = root.display().to_string();
        let rendered = match read_chart(root) {
            Ok(chart_files) => helm::render(&chart, &chart_files, &overrides),
            Err(d) => {
                diagnostics.push(d);
                continue;
            }
        };
        let rendered = match rendered {
            Ok(r) => r,
            Err(e @ helm::ChartError::ChartYaml { .. }) => {
                diagnostics.push(
                    Diagnostic::parse(format!("{e}: chart not rendered"))
                        .at(format!("{chart}/Chart.yaml"), None),
                );
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        diagnostics.extend(rendered.diagnostics);
        for (path, text) in rendered.files {
            let name = format!("{chart}/{path}");
            let bytes = text.into_bytes();
            if !k8s::looks_like_manifest(&bytes) {
                continue;
            }
            if let Some(p) = settings.policies.as_ref().filter(|_| !only_pss) {
                let c = p.check(rego::FileType::Kubernetes, &name, &bytes);
                findings.extend(c.findings);
                diagnostics.extend(c.diagnostics);
            }
            manifests.push((name, bytes));
        }
    }
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
            helm_values: Vec::new(),
            helm_set: Vec::new(),
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

    fn chart(root: &Path) -> PathBuf {
        let c = root.join("chart");
        std::fs::create_dir_all(c.join("templates")).unwrap();
        std::fs::write(
            c.join("Chart.yaml"),
            "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
        )
        .unwrap();
        std::fs::write(c.join("values.yaml"), "privileged: true\n").unwrap();
        std::fs::write(
            c.join("templates/_h.tpl"),
            "{{- define \"demo.name\" -}}{{ .Release.Name }}-{{ .Chart.Name }}{{- end -}}\n",
        )
        .unwrap();
        std::fs::write(
            c.join("templates/pod.yaml"),
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ include \"demo.name\" . }}\nspec:\n  containers:\n    - name: app\n      image: app:1\n      securityContext:\n        privileged: {{ .Values.privileged }}\n",
        )
        .unwrap();
        c
    }

    fn ids_at(out: &Outcome, suffix: &str) -> std::collections::BTreeSet<String> {
        out.report
            .findings
            .iter()
            .filter(|f| f.path().is_some_and(|p| p.ends_with(suffix)))
            .map(|f| f.id.clone())
            .collect()
    }

    #[test]
    fn a_chart_is_rendered_with_its_values_then_the_users() {
        let dir = tempfile::tempdir().unwrap();
        let c = chart(dir.path());
        let out = run(&settings(vec![dir.path().to_path_buf()])).unwrap();
        assert!(
            out.report.inventory.diagnostics.is_empty(),
            "{:?}",
            out.report.inventory.diagnostics
        );
        let privileged = ids_at(&out, "chart/templates/pod.yaml");
        assert!(!privileged.is_empty());
        let r = out
            .report
            .findings
            .iter()
            .find_map(|f| f.location.as_ref()?.resource.clone());
        assert_eq!(r.as_deref(), Some("Pod/release-name-demo"));
        // --helm-set over values.yaml; a values file under it.
        let mut s = settings(vec![c.clone()]);
        s.helm_set = vec!["privileged=false".into()];
        let fewer = ids_at(&run(&s).unwrap(), "chart/templates/pod.yaml");
        assert!(fewer.len() < privileged.len(), "{fewer:?} {privileged:?}");
        let v = dir.path().join("v.yaml");
        std::fs::write(&v, "privileged: false\n").unwrap();
        let mut s = settings(vec![c.clone()]);
        s.helm_values = vec![v];
        assert_eq!(ids_at(&run(&s).unwrap(), "chart/templates/pod.yaml"), fewer);
        // Errors: a --helm-set entry, a missing values file.
        let mut s = settings(vec![c.clone()]);
        s.helm_set = vec!["noequals".into()];
        assert!(matches!(run(&s), Err(Error::Helm(_))));
        let mut s = settings(vec![c.clone()]);
        s.helm_values = vec![dir.path().join("missing.yaml")];
        assert!(matches!(run(&s), Err(Error::Io { .. })));
        // A Chart.yaml that does not read: a diagnostic naming it.
        std::fs::write(c.join("Chart.yaml"), "name: [\n").unwrap();
        let out = run(&settings(vec![c.clone()])).unwrap();
        let d = &out.report.inventory.diagnostics;
        assert!(
            d.iter().any(|d| d
                .path
                .as_deref()
                .is_some_and(|p| p.ends_with("chart/Chart.yaml"))),
            "{d:?}"
        );
    }

    #[test]
    fn a_missing_path_is_an_error() {
        assert!(matches!(
            run(&settings(vec!["/nonexistent/x".into()])),
            Err(Error::Io { .. })
        ));
    }
}

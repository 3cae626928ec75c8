//! # moat-pipeline: the scan as a library
//!
//! One entry point, [`run`], takes resolved [`Settings`] (target, scanners, advisories, policy,
//! limits) and returns an [`Outcome`]: the report (inventory, findings, suppressed findings,
//! diagnostics) plus what the policy and the advisory source have to say. The CLI parses
//! arguments, resolves settings (flags, environment, defaults: libraries never read the
//! environment), calls [`run`] and prints; the server will call the same function.
//!
//! The steps, in order:
//!
//! 1. the [`Target`] becomes an inventory: an image or directory is scanned by `moat-scan`
//!    (one streaming pass per layer, the analyzers of the enabled scanners; with `secret`
//!    on, the secret analyzer reads every text file of every layer and the image config,
//!    whose echo in the report is then redacted), an SBOM file is read by `moat-report`,
//!    a git repository's history (`git:PATH`) is read by `moat-git` for secrets only (it
//!    has no packages: the vulnerability scanner is skipped with a note);
//! 2. with the vulnerability scanner on, the advisories are opened ([`Advisories`]: the
//!    database, with the sources the inventory needs downloaded first when it lacks them and
//!    the network is allowed, or files read into memory) and
//!    `moat-vuln` matches the packages; a release the advisories hold nothing for, and an
//!    end-of-life release, are warnings ([`advisories::os_diagnostics`]);
//! 3. the [`policy`]: VEX, then ignore entries, then the [`policy::Gate`] (severities,
//!    `--ignore-unfixed`), for every kind of finding alike;
//! 4. the report: every diagnostic of every step (`diagnostics` in the JSON document).
//!
//! Which findings remain decides the exit code in the CLI ([`Outcome::findings_remain`]).
//!
//! [`config::run`] is `moat config`: the misconfiguration checks on files and directories
//! named directly (no image, no inventory), through the same policy and report.
//!
//! Rejected alternatives: the CLI doing the orchestration (the server would have to copy it);
//! a trait object per step (there is one implementation of each, and the order never changes).

pub mod advisories;
pub mod config;
pub mod db_artifact;
pub mod policy;
pub mod target;

pub use advisories::{Advisories, AdvisoryInfo, DatabaseSettings, DbRepository, SourceInfo};
pub use target::{GitTarget, Target};

use moat_model::{Code, Diagnostic, Finding, Inventory, ScanReport};
use moat_scan::{Progress, ScanOptions};
use policy::{Gate, IgnoreEntry, VexStatement};
use std::path::PathBuf;
use std::sync::Arc;

/// The scanners `--scanners` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scanner {
    /// Known vulnerabilities in packages.
    Vuln,
    /// Secrets in files, the image config and history.
    Secret,
    /// Misconfigurations in Dockerfiles, manifests and the image config.
    Misconfig,
}

impl Scanner {
    pub const ALL: [Scanner; 3] = [Scanner::Vuln, Scanner::Secret, Scanner::Misconfig];

    pub fn as_str(self) -> &'static str {
        match self {
            Scanner::Vuln => "vuln",
            Scanner::Secret => "secret",
            Scanner::Misconfig => "misconfig",
        }
    }

    /// Whether this build of moat has the scanner.
    pub fn available(self) -> bool {
        matches!(self, Scanner::Vuln | Scanner::Secret | Scanner::Misconfig)
    }

    /// The scanners that run when none are named: vulnerabilities and secrets, as users of
    /// other scanners expect (for an SBOM target the secret scanner has nothing to read).
    pub const DEFAULT: [Scanner; 2] = [Scanner::Vuln, Scanner::Secret];
}

/// How to read the target.
#[derive(Debug, Clone, Default)]
pub struct ReadSettings {
    /// Platform, image choice and layer limits.
    pub open: moat_image::OpenOptions,
    /// Largest file read for analysis (default: the engine's).
    pub max_entry_bytes: Option<u64>,
    /// Leave out development dependencies.
    pub skip_dev: bool,
    /// Directories and files not read (`--skip-dirs`, `--skip-files`).
    pub skip: moat_scan::PathSkip,
    /// The time one analyzer may spend on one file before a `slow-file` warning (default: the
    /// engine's, [`moat_scan::DEFAULT_ANALYZER_TIMEOUT`]; zero: no budget).
    pub analyzer_timeout: Option<std::time::Duration>,
    /// The secret scanner's rules (built-in or from `moat-secrets.toml`), size cap per
    /// file, binaries, and whether secrets are shown.
    pub secrets: moat_secrets::Settings,
    /// Users' Rego policies for the misconfiguration scanner (`--policy DIR`,
    /// [`config::load_policies`]).
    pub policies: Option<Arc<moat_misconfig::rego::Policies>>,
    /// The per-layer analysis cache of image targets (`None`: every layer is read).
    pub layer_cache: Option<Arc<moat_scan::LayerCache>>,
    /// A digest of the user's secret rules and Rego policies, for the layer cache's key
    /// (`None`: a scan with either does not use the cache; see
    /// [`moat_scan::ScanOptions::cache_inputs`]).
    pub cache_inputs: Option<String>,
    /// Keep every package's installed files in the inventory (`--package-files`;
    /// [`moat_scan::ScanOptions::package_files`]).
    pub package_files: bool,
}

/// Everything a scan needs, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    pub target: Target,
    pub read: ReadSettings,
    pub scanners: Vec<Scanner>,
    pub advisories: Advisories,
    pub ignores: Vec<IgnoreEntry>,
    pub vex: Vec<VexStatement>,
    pub gate: Gate,
    /// Now: for ignore-entry expiry and the database's age.
    pub now: jiff::Timestamp,
}

/// What a scan produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub report: ScanReport,
    /// Ignore entries past their `expires` date.
    pub expired_ignores: Vec<IgnoreEntry>,
    /// Live ignore entries that suppressed nothing.
    pub unused_ignores: Vec<IgnoreEntry>,
    pub advisories: AdvisoryInfo,
}

impl Outcome {
    /// Findings are left after the policy and the gate (the CLI's `--exit-code` case).
    pub fn findings_remain(&self) -> bool {
        !self.report.findings.is_empty()
    }
}

/// A scan that could not run: a usage problem or a target that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the {} scanner is not available in this version of moat", .0.as_str())]
    ScannerUnavailable(Scanner),
    #[error(transparent)]
    Image(#[from] moat_image::ImageError),
    #[error(transparent)]
    Scan(#[from] moat_scan::ScanError),
    #[error(transparent)]
    Git(#[from] moat_git::GitError),
    #[error(
        "{}: a git repository has no package inventory; scan its history for secrets with `moat scan --scanners secret git:PATH`",
        .0.display()
    )]
    GitInventory(PathBuf),
    /// Its message starts with the file's path already.
    #[error(transparent)]
    Sbom(moat_report::SbomError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("reading advisories from {}: {source}", path.display())]
    Advisories {
        path: PathBuf,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(
        "no usable advisory database at {} ({why}): run `moat db update` or `moat db import PATH...`",
        path.display()
    )]
    NoDatabase { path: PathBuf, why: String },
    #[error(transparent)]
    Database(Box<dyn std::error::Error + Send + Sync>),
    #[error(transparent)]
    Update(Box<dyn std::error::Error + Send + Sync>),
    /// A Rego policy that could not be loaded (its message names the file and line).
    #[error("policy not loaded: {0}")]
    Policy(moat_misconfig::rego::PolicyError),
    /// A Helm chart's Chart.yaml, a values file or a `--helm-set` entry that does not read
    /// (its message names it).
    #[error(transparent)]
    Helm(#[from] moat_misconfig::helm::ChartError),
}

impl From<moat_misconfig::rego::PolicyError> for Error {
    fn from(e: moat_misconfig::rego::PolicyError) -> Error {
        Error::Policy(e)
    }
}

/// The inventory of a target (scanned, or read from an SBOM).
pub fn inventory(
    target: &Target,
    read: &ReadSettings,
    progress: Option<Arc<Progress>>,
) -> Result<Inventory, Error> {
    let engine = moat_scan::Scanners::only(moat_scan::Scanner::Packages);
    read_target(target, read, engine, progress).map(|(inv, _)| inv)
}

/// The engine's analyzer groups for the scanners: packages for `vuln`, the content
/// analyzers for `secret` and `misconfig`.
fn engine_scanners(scanners: &[Scanner]) -> moat_scan::Scanners {
    scanners.iter().fold(moat_scan::Scanners::NONE, |set, s| {
        set.with(match s {
            Scanner::Vuln => moat_scan::Scanner::Packages,
            Scanner::Secret => moat_scan::Scanner::Secret,
            Scanner::Misconfig => moat_scan::Scanner::Misconfig,
        })
    })
}

/// The inventory of a target and the findings of the content analyzers that ran.
fn read_target(
    target: &Target,
    read: &ReadSettings,
    scanners: moat_scan::Scanners,
    progress: Option<Arc<Progress>>,
) -> Result<(Inventory, Vec<Finding>), Error> {
    match target {
        Target::Sbom(path) => {
            // One byte over the SBOM budget is enough for the reader to refuse it.
            let mut bytes = Vec::new();
            std::fs::File::open(path)
                .and_then(|f| {
                    use std::io::Read;
                    let max = moat_report::MAX_SBOM_BYTES as u64 + 1;
                    let len = f.metadata().map_or(0, |m| m.len()).min(max);
                    bytes.reserve_exact(usize::try_from(len).unwrap_or(0));
                    f.take(max).read_to_end(&mut bytes)
                })
                .map_err(|source| Error::Io {
                    path: path.clone(),
                    source,
                })?;
            let mut inv =
                moat_report::read_sbom(&bytes, &path.display().to_string()).map_err(Error::Sbom)?;
            // The value caps the scan engine applies to what it finds, for an SBOM's packages.
            moat_model::limits::inventory(&mut inv);
            Ok((inv, Vec::new()))
        }
        Target::Git(git) => {
            if !scanners.contains(moat_scan::Scanner::Secret) {
                return Err(Error::GitInventory(git.path.clone()));
            }
            let history = moat_git::scan(
                &git.path,
                &moat_git::Options {
                    since: git.since.clone(),
                    secrets: read.secrets.clone(),
                },
            )?;
            let path = git.path.display().to_string();
            let artifact =
                moat_model::Artifact::new(path.clone(), moat_model::ArtifactKind::Git, path);
            let inv = Inventory {
                schema_version: moat_model::SCHEMA_VERSION.to_string(),
                tool: moat_model::Tool::default(),
                artifact,
                packages: Vec::new(),
                relationships: Vec::new(),
                diagnostics: history.diagnostics,
                package_files: Default::default(),
            };
            Ok((inv, history.findings))
        }
        Target::Image(spec) => {
            // The engine downloads the layers of a registry image that its layer cache lacks.
            let mut open = read.open.clone();
            open.registry.defer_layers = true;
            let source = moat_image::open(spec, &open)?;
            let mut opts = ScanOptions {
                skip_dev: read.skip_dev,
                progress,
                scanners,
                secrets: read.secrets.clone(),
                policies: read.policies.clone(),
                layer_cache: read.layer_cache.clone(),
                cache_inputs: read.cache_inputs.clone(),
                skip: read.skip.clone(),
                package_files: read.package_files,
                ..ScanOptions::default()
            };
            if let Some(v) = read.max_entry_bytes {
                opts.max_entry_bytes = v;
            }
            if let Some(t) = read.analyzer_timeout {
                opts.analyzer_timeout = (!t.is_zero()).then_some(t);
            }
            let mut scanned = moat_scan::scan(&source, &opts)?;
            if scanners.contains(moat_scan::Scanner::Secret) && !read.secrets.show_secrets {
                redact_config(&mut scanned.inventory.artifact, &read.secrets);
            }
            Ok((scanned.inventory, scanned.findings))
        }
    }
}

/// The image config is echoed in the report (`artifact.config`, each layer's
/// `created_by`): with the secret scanner on, the secrets it holds are redacted there as
/// they are in the findings, unless secrets are to be shown.
fn redact_config(artifact: &mut moat_model::Artifact, secrets: &moat_secrets::Settings) {
    let Some(rules) = secrets.rules() else {
        return;
    };
    if let Some(config) = &mut artifact.config {
        for env in &mut config.env {
            let name = env.split_once('=').map_or("", |(n, _)| n).to_string();
            *env = rules.redact_text(&format!("config:env/{name}"), env);
        }
        for (name, value) in &mut config.labels {
            let line = format!("{name}={value}");
            let redacted = rules.redact_text(&format!("config:label/{name}"), &line);
            if redacted != line {
                *value = redacted
                    .strip_prefix(&format!("{name}="))
                    .unwrap_or(&redacted)
                    .to_string();
            }
        }
        for (field, list) in [
            ("config:entrypoint", &mut config.entrypoint),
            ("config:cmd", &mut config.cmd),
        ] {
            for arg in list.iter_mut() {
                *arg = rules.redact_text(field, arg);
            }
        }
        for (i, h) in config.history.iter_mut().enumerate() {
            if let Some(c) = &mut h.created_by {
                *c = rules.redact_text(&format!("config:history/{i}"), c);
            }
        }
    }
    for layer in &mut artifact.layers {
        if let Some(c) = &mut layer.created_by {
            *c = rules.redact_text("config:history", c);
        }
    }
}

/// Runs a scan: inventory, matching, policy. `notify` hears progress messages worth showing
/// (a database download); `progress` receives the engine's counters.
pub fn run(
    settings: &Settings,
    progress: Option<Arc<Progress>>,
    notify: &mut dyn FnMut(&str),
) -> Result<Outcome, Error> {
    run_with(settings, progress, notify, true)
}

/// A scan whose packages are listed but not matched (whatever the scanners): the report's
/// inventory for a matcher elsewhere (`moat serve` matches against its own database), with
/// the findings of the content scanners asked for.
pub fn run_unmatched(settings: &Settings) -> Result<Outcome, Error> {
    run_with(settings, None, &mut |_: &str| {}, false)
}

fn run_with(
    settings: &Settings,
    progress: Option<Arc<Progress>>,
    notify: &mut dyn FnMut(&str),
    matching: bool,
) -> Result<Outcome, Error> {
    if let Some(s) = settings.scanners.iter().find(|s| !s.available()) {
        return Err(Error::ScannerUnavailable(*s));
    }
    let git = matches!(settings.target, Target::Git(_));
    let vuln = matching && settings.scanners.contains(&Scanner::Vuln) && !git;
    let mut engine = engine_scanners(&settings.scanners);
    if !matching {
        engine = engine.with(moat_scan::Scanner::Packages);
    }
    let mut diagnostics = Vec::new();
    if git && settings.scanners.contains(&Scanner::Vuln) {
        diagnostics.push(Diagnostic::new(
            Code::Other,
            "a git history has no packages: the vuln scanner was skipped",
        ));
    }
    // What cannot work whatever the target needs (--offline without a database) fails
    // before the (long) scan; the advisories are opened after it, so that only the sources
    // the inventory needs are downloaded.
    if vuln {
        advisories::precheck(&settings.advisories)?;
    }
    let (mut inventory, mut findings) =
        read_target(&settings.target, &settings.read, engine, progress)?;
    let source = if vuln {
        Some(advisories::open(
            &settings.advisories,
            &inventory,
            settings.now,
            notify,
            &mut diagnostics,
        )?)
    } else {
        None
    };
    let mut info = AdvisoryInfo::default();
    if let Some(opened) = source {
        let (vulns, notes) = moat_vuln::matcher::match_inventory(
            &inventory,
            opened.source.as_ref(),
            &moat_vuln::matcher::MatchOptions::default(),
        );
        findings.extend(vulns);
        diagnostics.extend(notes);
        diagnostics.extend(advisories::os_diagnostics(
            &inventory,
            &opened,
            settings.now,
        ));
        info = opened.info;
    }
    inventory.diagnostics.extend(diagnostics);
    Ok(finish(
        inventory,
        findings,
        &Policy {
            ignores: &settings.ignores,
            vex: &settings.vex,
            gate: &settings.gate,
            now: settings.now,
        },
        info,
    ))
}

/// The policy a report goes through.
pub(crate) struct Policy<'a> {
    pub ignores: &'a [IgnoreEntry],
    pub vex: &'a [VexStatement],
    pub gate: &'a Gate,
    pub now: jiff::Timestamp,
}

/// VEX, ignore entries and the gate over `findings`; their notes join the inventory's
/// diagnostics.
pub(crate) fn finish(
    mut inventory: Inventory,
    findings: Vec<Finding>,
    p: &Policy,
    info: AdvisoryInfo,
) -> Outcome {
    let today = p.now.strftime("%Y-%m-%d").to_string();
    let outcome = policy::apply(findings, p.ignores, p.vex, &today);
    let mut diagnostics = Vec::new();
    for e in &outcome.expired_ignores {
        diagnostics.push(Diagnostic::new(
            Code::IgnoreEntry,
            format!(
                "ignore entry for {} expired on {}",
                e.id,
                e.expires.as_deref().unwrap_or("?")
            ),
        ));
    }
    for e in &outcome.unused_ignores {
        diagnostics.push(Diagnostic::new(
            Code::IgnoreEntry,
            format!("ignore entry for {} matched nothing", e.id),
        ));
    }
    inventory.diagnostics.extend(diagnostics);
    let findings = outcome
        .reported
        .into_iter()
        .filter(|f| p.gate.keeps(f))
        .collect();
    Outcome {
        report: ScanReport {
            inventory,
            findings,
            suppressed: outcome.suppressed,
        },
        expired_ignores: outcome.expired_ignores,
        unused_ignores: outcome.unused_ignores,
        advisories: info,
    }
}

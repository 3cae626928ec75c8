//! `moat scan`: settings from the flags, [`moat_pipeline::run`], the report, the exit code.

use crate::output::{print_diagnostics, write_out};
use crate::progress::Ticker;
use crate::settings::{DbArgs, Env, TargetArgs, timestamp};
use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use moat_model::Severity;
use moat_pipeline::policy::{self, Gate};
use moat_pipeline::{Advisories, Scanner, Settings, Target};
use moat_report::RenderOptions;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum ScanFormat {
    Table,
    Json,
    Sarif,
    Cyclonedx,
    /// One self-contained HTML page.
    Html,
}

/// The names `--scanners` takes.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum ScannerName {
    Vuln,
    Secret,
    Misconfig,
}

impl From<ScannerName> for Scanner {
    fn from(s: ScannerName) -> Scanner {
        match s {
            ScannerName::Vuln => Scanner::Vuln,
            ScannerName::Secret => Scanner::Secret,
            ScannerName::Misconfig => Scanner::Misconfig,
        }
    }
}

#[derive(Args)]
pub struct ScanArgs {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    policies: crate::settings::PolicyArgs,
    #[command(flatten)]
    trust: crate::cmd::sign::TrustArgs,
    /// Scanners to run (comma-separated: vuln, secret, misconfig) [default: vuln,secret;
    /// secret for a git: target].
    #[arg(long, value_enum, value_delimiter = ',')]
    scanners: Vec<ScannerName>,
    /// With a git:PATH target: only the commits after this revision (a commit id, branch,
    /// tag or reference name).
    #[arg(long, value_name = "REV")]
    since: Option<String>,
    /// Secret rules and allowlists (moat's or gitleaks' TOML; default: moat-secrets.toml in
    /// the working directory, if present).
    #[arg(long, value_name = "FILE")]
    secret_config: Option<PathBuf>,
    /// Largest file the secret scanner reads (bytes, or with a KiB/MiB/GiB suffix).
    #[arg(long, value_name = "SIZE", default_value = "10MiB", value_parser = parse_size)]
    secret_max_file_size: u64,
    /// Scan binary files for secrets too (by default files with a NUL byte in their first
    /// 8 KiB are skipped).
    #[arg(long)]
    secret_scan_binaries: bool,
    /// Put the secrets themselves into the report (`value` in JSON), not only their
    /// redacted form.
    #[arg(long)]
    show_secrets: bool,
    /// Report only these severities (comma-separated: CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    severity: Vec<String>,
    /// Leave out vulnerabilities that have no fixed version.
    #[arg(long)]
    ignore_unfixed: bool,
    /// Exit with this code when any reported finding remains (not 2: that means an error).
    #[arg(long, default_value_t = 0, value_name = "N", value_parser = parse_exit_code)]
    exit_code: u8,
    /// Also submit the report to a `moat serve` at this URL (its token in --server-token or
    /// $MOAT_SERVER_TOKEN, scope write).
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    #[arg(long, value_name = "TOKEN", requires = "server")]
    server_token: Option<String>,
    /// CA certificates (PEM) trusted for an https:// --server, besides the system's roots.
    #[arg(long, value_name = "FILE", requires = "server")]
    server_ca: Option<PathBuf>,
    /// A label kept with the image on the server (key=value; repeatable).
    #[arg(long, value_name = "KEY=VALUE", requires = "server")]
    server_label: Vec<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ScanFormat::Table)]
    format: ScanFormat,
    /// Write to this file instead of stdout.
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
    /// Ignore file (default: .moatignore in the working directory, if present).
    #[arg(long, value_name = "PATH")]
    ignorefile: Option<PathBuf>,
    /// OpenVEX documents whose not_affected / fixed statements suppress findings.
    #[arg(long, value_name = "FILE")]
    vex: Vec<PathBuf>,
    /// Warn when the database is older than this many days [default: 7, or the
    /// configuration's `db.max-age`].
    #[arg(long, value_name = "DAYS")]
    db_max_age: Option<u64>,
    /// Refresh a downloaded source the target needs when it is older than this (`12h`,
    /// `3d` is `72h`; `0`: scans never refresh, `moat db update` does) [default: 24h, or the
    /// configuration's `db.refresh-after`].
    #[arg(long, value_name = "DURATION", value_parser = crate::settings::parse_duration)]
    db_refresh_after: Option<std::time::Duration>,
    /// Use the database as it is: download only sources it lacks, refresh none (as Trivy's
    /// flag of the same name; `--offline` downloads nothing at all).
    #[arg(long)]
    skip_db_update: bool,
    /// Match against the advisories in these files or directories instead of the database
    /// (any format `moat db import` reads).
    #[arg(long, value_name = "PATH")]
    advisories: Vec<PathBuf>,
}

/// `10485760`, `10MiB`, `512KiB`, `1GiB` (also `K`, `M`, `G`, `KB`, `MB`, `GB`: powers of 1024).
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?}: expected a size such as 10MiB or 1048576"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        u => return Err(format!("{s:?}: unknown unit {u:?} (KiB, MiB or GiB)")),
    };
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("{s:?}: too large"))
}

/// The file a flag names, else `name` in the working directory when it is there.
fn given_or_local(flag: &Option<PathBuf>, name: &str) -> Option<PathBuf> {
    flag.clone()
        .or_else(|| Some(PathBuf::from(name)).filter(|p| p.is_file()))
}

/// The secret scanner's settings: the rules of `--secret-config` (else `moat-secrets.toml`
/// in the working directory, else the built-in ones), compiled now so that a broken file
/// is a usage error before any work; what the file holds that moat does not use is said
/// on stderr.
/// With the digest of the secret configuration file, when one is read (for the layer
/// cache's key).
fn secret_settings(
    a: &ScanArgs,
    quiet: bool,
) -> anyhow::Result<(moat_secrets::Settings, Option<String>)> {
    let path = given_or_local(&a.secret_config, "moat-secrets.toml");
    let mut digest = None;
    let rules = match &path {
        Some(p) => {
            crate::settings::refuse_special(p, "secret configuration")?;
            let bytes = std::fs::read(p)
                .with_context(|| format!("reading secret configuration {}", p.display()))?;
            digest = Some(moat_scan::input_digest(&bytes));
            let config =
                moat_secrets::Config::parse(&bytes).with_context(|| p.display().to_string())?;
            if !quiet {
                for w in &config.warnings {
                    eprintln!("moat: {}: {w}", p.display());
                }
            }
            let rules =
                moat_secrets::Rules::new(&config).with_context(|| p.display().to_string())?;
            Some(std::sync::Arc::new(rules))
        }
        None => None,
    };
    Ok((
        moat_secrets::Settings {
            rules,
            max_file_size: a.secret_max_file_size,
            scan_binaries: a.secret_scan_binaries,
            show_secrets: a.show_secrets,
        },
        digest,
    ))
}

/// `--exit-code`: 0-255 except 2, which moat uses for errors; CI could not tell "findings"
/// from "the scan failed".
pub(crate) fn parse_exit_code(s: &str) -> Result<u8, String> {
    match s.parse::<u8>() {
        Ok(2) => Err(
            "2 is the exit code of errors (an unreadable target, a usage error), so findings \
             could not be told from failures: use another code, e.g. 1"
                .into(),
        ),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("{s:?}: {e} (expected 0-255, not 2)")),
    }
}

/// `--severity` words -> severities.
pub(crate) fn severities(words: &[String]) -> anyhow::Result<Vec<Severity>> {
    words
        .iter()
        .map(|s| match Severity::from_label(s) {
            Some(sev) if s.eq_ignore_ascii_case(sev.as_str()) => Ok(sev),
            _ => bail!("--severity {s:?}: expected CRITICAL, HIGH, MEDIUM, LOW or UNKNOWN"),
        })
        .collect()
}

/// The ignore file of `--ignorefile` (else `.moatignore` in the working directory), parsed.
pub(crate) fn read_ignores(flag: &Option<PathBuf>) -> anyhow::Result<Vec<policy::IgnoreEntry>> {
    Ok(match &given_or_local(flag, ".moatignore") {
        Some(p) => {
            crate::settings::refuse_special(p, "ignore file")?;
            let bytes =
                std::fs::read(p).with_context(|| format!("reading ignore file {}", p.display()))?;
            policy::parse_ignore_file(&bytes).with_context(|| p.display().to_string())?
        }
        None => Vec::new(),
    })
}

/// The statements of the `--vex` documents.
pub(crate) fn read_vex(paths: &[PathBuf]) -> anyhow::Result<Vec<policy::VexStatement>> {
    let mut vex = Vec::new();
    for p in paths {
        crate::settings::refuse_special(p, "VEX document")?;
        let bytes =
            std::fs::read(p).with_context(|| format!("reading VEX document {}", p.display()))?;
        vex.extend(policy::parse_openvex(&bytes).with_context(|| p.display().to_string())?);
    }
    Ok(vex)
}

impl ScanArgs {
    /// Flags, environment and defaults -> the pipeline's settings. Policy files are read
    /// here, so a broken ignore file is a usage error before any work.
    pub(crate) fn settings(&self, env: &Env) -> anyhow::Result<Settings> {
        let severities = severities(&self.severity)?;
        let ignores = read_ignores(&self.ignorefile)?;
        let vex = read_vex(&self.vex)?;
        for p in &self.advisories {
            crate::settings::refuse_special(p, "advisories")?;
        }
        crate::settings::refuse_special(&self.db.path(env), "advisory database")?;
        let mut target = self.target.target()?;
        let mut scanners: Vec<Scanner> = self.scanners.iter().map(|&s| s.into()).collect();
        match &mut target {
            Target::Git(git) => {
                git.since.clone_from(&self.since);
                if scanners.is_empty() {
                    scanners.push(Scanner::Secret);
                }
            }
            _ if self.since.is_some() => {
                bail!("--since applies to a git:PATH target only")
            }
            _ => {}
        }
        if scanners.is_empty() {
            scanners.extend(Scanner::DEFAULT);
        }
        scanners.sort();
        scanners.dedup();
        let mut read = self.target.read_settings(env)?;
        if scanners.contains(&Scanner::Secret) {
            let (secrets, digest) = secret_settings(self, self.target.quiet)?;
            read.secrets = secrets;
            // User rules are in the layer cache's key by their digest; user policies are
            // not hashed, so a scan with --policy does not use the cache.
            read.cache_inputs = digest.map(|d| format!("secret-config {d}"));
        }
        if !self.policies.policy.is_empty() && !scanners.contains(&Scanner::Misconfig) {
            bail!("--policy applies to the misconfig scanner: add --scanners misconfig");
        }
        read.policies = self.policies.load()?;
        if read.policies.is_some() {
            read.cache_inputs = None;
        }
        let advisories = if self.advisories.is_empty() {
            Advisories::Database(Box::new(self.db.database(
                env,
                self.db_max_age,
                self.db_refresh_after,
                self.skip_db_update,
                &read.open.registry,
            )?))
        } else {
            Advisories::Files(self.advisories.clone())
        };
        Ok(Settings {
            target,
            read,
            scanners,
            advisories,
            ignores,
            vex,
            gate: Gate {
                severities,
                ignore_unfixed: self.ignore_unfixed,
            },
            now: env.now(),
        })
    }
}

pub fn run(a: ScanArgs, env: &Env) -> anyhow::Result<ExitCode> {
    a.target.start_watchdog();
    let mut settings = a.settings(env)?;
    let quiet = a.target.quiet;
    let mut gate = if a.trust.require_signature || a.trust.attest || !a.trust.keys.is_empty() {
        Some(crate::cmd::sign::scan_gate(
            &a.trust,
            &mut settings.target,
            &settings.read.open,
        )?)
    } else {
        None
    };
    let signature = match gate.as_ref().and_then(|g| g.status.as_ref()) {
        Some(st) if !st.verified => {
            eprintln!(
                "moat: signature required: {}",
                crate::output::escape(st.reason.as_deref().unwrap_or_default())
            );
            if a.format == ScanFormat::Json {
                let doc = serde_json::json!({"target": a.target.target, "signature": st});
                let mut out = serde_json::to_vec_pretty(&doc)?;
                out.push(b'\n');
                write_out(a.output.as_ref(), &out)?;
            }
            return Ok(ExitCode::from(1));
        }
        Some(st) => {
            if !quiet {
                eprintln!(
                    "moat: signature verified: {} signed by {} ({})",
                    st.digest.as_deref().unwrap_or_default(),
                    crate::output::escape(st.key.as_deref().unwrap_or_default()),
                    st.fingerprint.as_deref().unwrap_or_default()
                );
            }
            Some(serde_json::to_value(st)?)
        }
        None => None,
    };
    let progress = a.target.progress();
    let ticker = Ticker::start(progress.clone(), &mut settings.read.open.registry);
    let mut notify = |msg: &str| {
        if !quiet {
            eprintln!("moat: {}", crate::output::escape(msg));
        }
    };
    let result = moat_pipeline::run(&settings, progress, &mut notify);
    ticker.stop();
    crate::settings::debug_layer_cache(env, &settings.read);
    let outcome = result?;
    let report = &outcome.report;
    if !quiet {
        print_diagnostics(&report.inventory.diagnostics);
    }
    let ro = RenderOptions {
        timestamp: timestamp(settings.now),
        color: env.color() && a.output.is_none(),
    };
    let info = &outcome.advisories;
    let bytes = match a.format {
        ScanFormat::Table => {
            let mut t = moat_report::scan_table(report, &ro);
            t.push_str(&info.footer().unwrap_or_default());
            t.into_bytes()
        }
        ScanFormat::Json => {
            let doc = info.add_to_json(moat_report::scan_json(report));
            match &signature {
                Some(st) => moat_report::with_json_field(doc, "signature", st),
                None => doc,
            }
        }
        ScanFormat::Sarif => moat_report::sarif(report, &ro),
        ScanFormat::Cyclonedx => moat_report::cyclonedx_vulns(report, &ro),
        ScanFormat::Html => moat_report::scan_html(report, &ro, info.footer().as_deref()),
    };
    write_out(a.output.as_ref(), &bytes)?;
    if let Some(url) = &a.server {
        let token = a
            .server_token
            .clone()
            .or_else(|| {
                std::env::var("MOAT_SERVER_TOKEN")
                    .ok()
                    .filter(|t| !t.is_empty())
            })
            .context("--server needs a token: --server-token or $MOAT_SERVER_TOKEN")?;
        let mut labels = std::collections::BTreeMap::new();
        for l in &a.server_label {
            let (k, v) = l
                .split_once('=')
                .with_context(|| format!("--server-label {l:?}: use key=value"))?;
            labels.insert(k.trim().to_string(), v.trim().to_string());
        }
        let body = moat_report::scan_json(report);
        let done = moat_server::client::submit(
            url,
            &token,
            &labels,
            &body,
            std::time::Duration::from_secs(120),
            a.server_ca.as_deref(),
        )
        .context("submitting the report")?;
        if !quiet {
            eprintln!("moat: submitted to {url}: image {}", done.id);
        }
    }
    if let Some(g) = &mut gate {
        let bom = match a.format {
            ScanFormat::Cyclonedx => bytes,
            _ => moat_report::cyclonedx_vulns(report, &ro),
        };
        if let Some(msg) = g.attest(&bom)?
            && !quiet
        {
            eprintln!("moat: {msg}");
        }
    }
    if a.exit_code != 0 && outcome.findings_remain() {
        return Ok(ExitCode::from(a.exit_code));
    }
    Ok(ExitCode::SUCCESS)
}

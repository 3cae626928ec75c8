//! `moat scan` and `moat db`: settings, the advisory source, the policy gate, output.

use crate::{TargetArgs, inventory_of, write_out};
use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use moat_model::Inventory;
use moat_model::{Finding, ScanReport, Severity, Status};
use moat_report::RenderOptions;
use moat_vuln::db::{self, Builder, Database, SourceMeta};
use moat_vuln::matcher::{
    AdvisorySource, LookupError, MatchOptions, MemorySource, match_inventory,
};
use moat_vuln::{import, policy, update};
use std::collections::{BTreeMap, HashSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `println!` for command output: a closed pipe (`moat db status | head`) ends the output
/// quietly instead of panicking, as [`write_out`] does for reports; other write errors are
/// errors.
macro_rules! say {
    ($($arg:tt)*) => {
        write_out(None, format!("{}\n", format_args!($($arg)*)).as_bytes())?
    };
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ScanFormat {
    Table,
    Json,
    Sarif,
    Cyclonedx,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Scanner {
    Vuln,
}

/// Where advisories come from.
#[derive(Args)]
pub struct DbArgs {
    /// The advisory database (default: $MOAT_DB, else the user's cache directory).
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Never touch the network (a missing database is then an error).
    #[arg(long)]
    pub offline: bool,
    /// Base URL of the OSV ecosystem archives (default: $MOAT_DB_URL, else OSV's bucket).
    #[arg(long, value_name = "URL")]
    pub db_url: Option<String>,
}

impl DbArgs {
    fn path(&self) -> PathBuf {
        self.db.clone().unwrap_or_else(db::default_path)
    }
    fn update_options(&self) -> update::UpdateOptions {
        let base_url = self
            .db_url
            .clone()
            .or_else(|| std::env::var("MOAT_DB_URL").ok())
            .unwrap_or_else(|| update::DEFAULT_BASE_URL.to_string());
        // A local mirror serves KEV beside the archives; the public default has its own URL.
        let kev_url = if self.db_url.is_some() || std::env::var_os("MOAT_DB_URL").is_some() {
            Some(format!(
                "{}/kev/known_exploited_vulnerabilities.json",
                base_url.trim_end_matches('/')
            ))
        } else {
            Some(update::DEFAULT_KEV_URL.to_string())
        };
        update::UpdateOptions {
            base_url,
            ecosystems: update::DEFAULT_ECOSYSTEMS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            kev_url,
            timeout: std::time::Duration::from_secs(60),
        }
    }
}

#[derive(Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub db: DbArgs,
    /// Scanners to run.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "vuln")]
    pub scanners: Vec<Scanner>,
    /// Report only these severities (comma-separated: CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub severity: Vec<String>,
    /// Leave out findings that have no fixed version.
    #[arg(long)]
    pub ignore_unfixed: bool,
    /// Exit with this code when any reported finding remains.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub exit_code: u8,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ScanFormat::Table)]
    pub format: ScanFormat,
    /// Write to this file instead of stdout.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    /// Ignore file (default: .moatignore in the working directory, if present).
    #[arg(long, value_name = "PATH")]
    pub ignorefile: Option<PathBuf>,
    /// OpenVEX documents whose not_affected / fixed statements suppress findings.
    #[arg(long, value_name = "FILE")]
    pub vex: Vec<PathBuf>,
    /// Warn when the database is older than this many days.
    #[arg(long, default_value_t = 7, value_name = "DAYS")]
    pub db_max_age: u64,
    /// Match against the advisories in these files or directories instead of the database
    /// (any format `moat db import` reads).
    #[arg(long, value_name = "PATH")]
    pub advisories: Vec<PathBuf>,
}

#[derive(Subcommand)]
pub enum DbCommand {
    /// Import advisories from files, directories or OSV all.zip archives.
    Import {
        #[command(flatten)]
        db: DbArgs,
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Download the OSV ecosystem archives and KEV that changed.
    Update {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Print sources, record counts and age.
    Status {
        #[command(flatten)]
        db: DbArgs,
    },
}

/// The database as an advisory source for the matcher.
struct DbSource {
    db: Database,
    kev: HashSet<String>,
}

impl AdvisorySource for DbSource {
    fn advisories_for(
        &self,
        ecosystem: &str,
        name: &str,
    ) -> Result<Vec<moat_model::advisory::Advisory>, LookupError> {
        Ok(self.db.advisories_for(ecosystem, name)?)
    }
    fn is_kev(&self, id: &str) -> bool {
        self.kev.contains(id)
    }
}

fn today() -> String {
    moat_report::timestamp_now().chars().take(10).collect()
}

/// Calendar days (UTC) since an RFC 3339 timestamp's date (0 when it cannot be read or is in
/// the future).
fn age_days(ts: &str) -> u64 {
    let day = |s: &str| moat_report::parse_timestamp(s).map(|secs| secs.div_euclid(86_400));
    match (day(&moat_report::timestamp_now()), day(ts)) {
        (Some(a), Some(b)) if a >= b => (a - b) as u64,
        _ => 0,
    }
}

fn open_source(a: &ScanArgs, quiet: bool) -> anyhow::Result<Box<dyn AdvisorySource>> {
    if !a.advisories.is_empty() {
        let mut advs = Vec::new();
        let mut kev = HashSet::new();
        for p in &a.advisories {
            let batch = import::import_path(p)
                .with_context(|| format!("reading advisories from {}", p.display()))?;
            advs.extend(batch.advisories);
            kev.extend(batch.kev.into_iter().map(|k| k.cve));
        }
        return Ok(Box::new(MemorySource::new(advs, kev)));
    }
    let path = a.db.path();
    if !path.exists() {
        if a.db.offline {
            bail!(
                "no advisory database at {} and --offline is set: run `moat db update` or `moat db import PATH...`",
                path.display()
            );
        }
        if !quiet {
            eprintln!(
                "moat: no advisory database at {}; downloading it",
                path.display()
            );
        }
        run_update(&a.db, quiet).map_err(|e| {
            anyhow::anyhow!(
                "{e:#}\nno usable advisory database at {}: run `moat db update` or `moat db import PATH...`",
                path.display()
            )
        })?;
    }
    let db = Database::open_read_only(&path)?;
    if !quiet && let Ok(st) = db.status() {
        let age = st.built_at.as_deref().map(age_days).unwrap_or(0);
        if age > a.db_max_age {
            eprintln!(
                "moat: warning: the advisory database {} is {age} days old (--db-max-age {}): run `moat db update`",
                path.display(),
                a.db_max_age
            );
        }
    }
    let kev = db.kev_ids()?;
    Ok(Box::new(DbSource { db, kev }))
}

/// A target that is a JSON file is an SBOM to match; anything else is scanned.
fn scan_inventory(t: &TargetArgs) -> anyhow::Result<Inventory> {
    let p = Path::new(&t.target);
    let looks_like_json = p.is_file()
        && !t.target.contains(':')
        && std::fs::File::open(p).ok().and_then(|mut f| {
            use std::io::Read;
            let mut head = [0u8; 64];
            let n = f.read(&mut head).ok()?;
            Some(head[..n].iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{'))
        }) == Some(true);
    if looks_like_json {
        let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
        return Ok(moat_report::read_sbom(&bytes, &t.target)?);
    }
    inventory_of(t)
}

fn keep(f: &Finding, severities: &[Severity], ignore_unfixed: bool) -> bool {
    (severities.is_empty() || severities.contains(&f.severity))
        && !(ignore_unfixed && f.status != Status::Fixed)
}

pub fn scan(a: ScanArgs, color: bool) -> anyhow::Result<ExitCode> {
    let severities: Vec<Severity> = a
        .severity
        .iter()
        .map(|s| match Severity::from_label(s) {
            Some(sev) if s.eq_ignore_ascii_case(sev.as_str()) => Ok(sev),
            _ => bail!("--severity {s:?}: expected CRITICAL, HIGH, MEDIUM, LOW or UNKNOWN"),
        })
        .collect::<anyhow::Result<_>>()?;
    // Read the policy inputs first: a broken ignore file is a usage error before any work.
    let ignore_path = a
        .ignorefile
        .clone()
        .or_else(|| Some(PathBuf::from(".moatignore")).filter(|p| p.is_file()));
    let ignores = match &ignore_path {
        Some(p) => {
            let bytes =
                std::fs::read(p).with_context(|| format!("reading ignore file {}", p.display()))?;
            policy::parse_ignore_file(&bytes)
                .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?
        }
        None => Vec::new(),
    };
    let mut vex = Vec::new();
    for p in &a.vex {
        let bytes =
            std::fs::read(p).with_context(|| format!("reading VEX document {}", p.display()))?;
        vex.extend(
            policy::parse_openvex(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?,
        );
    }
    let source = open_source(&a, a.target.quiet)?;
    let inventory = scan_inventory(&a.target)?;
    let (findings, notes) = match_inventory(&inventory, source.as_ref(), &MatchOptions::default());
    if std::env::var_os("MOAT_DEBUG").is_some() {
        for n in &notes {
            eprintln!("moat: note: {n}");
        }
    }
    let outcome = policy::apply(findings, &ignores, &vex, &today());
    if !a.target.quiet {
        for e in &outcome.expired_ignores {
            eprintln!(
                "moat: warning: ignore entry for {} expired on {}",
                e.id,
                e.expires.as_deref().unwrap_or("?")
            );
        }
        for e in &outcome.unused_ignores {
            eprintln!("moat: warning: ignore entry for {} matched nothing", e.id);
        }
    }
    let reported: Vec<Finding> = outcome
        .reported
        .into_iter()
        .filter(|f| keep(f, &severities, a.ignore_unfixed))
        .collect();
    let report = ScanReport {
        inventory,
        findings: reported,
        suppressed: outcome.suppressed,
    };
    let ro = RenderOptions {
        timestamp: moat_report::timestamp_now(),
        color: color && a.output.is_none(),
    };
    let bytes = match a.format {
        ScanFormat::Table => moat_report::scan_table(&report, &ro).into_bytes(),
        ScanFormat::Json => moat_report::scan_json(&report),
        ScanFormat::Sarif => moat_report::sarif(&report, &ro),
        ScanFormat::Cyclonedx => moat_report::cyclonedx_vulns(&report, &ro),
    };
    write_out(a.output.as_ref(), &bytes)?;
    if a.exit_code != 0 && !report.findings.is_empty() {
        return Ok(ExitCode::from(a.exit_code));
    }
    Ok(ExitCode::SUCCESS)
}

fn run_update(d: &DbArgs, quiet: bool) -> anyhow::Result<update::UpdateSummary> {
    let path = d.path();
    if d.offline {
        bail!(
            "--offline is set: `moat db update` needs the network (use `moat db import` for air-gapped use)"
        );
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let show = !quiet && std::io::stderr().is_terminal();
    let mut progress = |msg: &str| {
        if show {
            eprintln!("moat: {msg}");
        }
    };
    Ok(update::update(&path, &d.update_options(), &mut progress)?)
}

pub fn db(cmd: DbCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        DbCommand::Import { db: d, paths } => {
            let path = d.path();
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            let mut b = Builder::from_existing(&path)?;
            // Every path is read before anything is written, and the records of one source
            // from several paths are replaced together: replacing per path would keep only the
            // last path's records of a source that two paths share.
            let mut merged: BTreeMap<String, (Vec<String>, import::ImportBatch)> = BTreeMap::new();
            for p in &paths {
                let mut batch = import::import_path(p)?;
                if let Some((what, why)) = batch.malformed.first() {
                    eprintln!(
                        "moat: warning: {}: {} malformed record(s), e.g. {what}: {why}",
                        p.display(),
                        batch.malformed.len()
                    );
                }
                for (source, part) in import::split_by_source(&mut batch) {
                    say!(
                        "{}: {} records as source {source}",
                        p.display(),
                        part.advisories.len() + part.kev.len()
                    );
                    let entry = merged.entry(source).or_default();
                    entry.0.push(p.display().to_string());
                    entry.1.extend(part);
                }
            }
            let mut total = 0;
            for (source, (from, part)) in merged {
                let meta = SourceMeta {
                    url: Some(from.join(", ")),
                    etag: None,
                    last_modified: None,
                };
                total += b.replace_source(&source, &part, meta)?;
            }
            b.commit()?;
            say!("imported {total} records into {}", path.display());
        }
        DbCommand::Update { db: d } => {
            let summary = run_update(&d, false)?;
            for (source, outcome) in &summary.per_source {
                let what = match outcome {
                    update::SourceOutcome::Updated { records } => {
                        format!("updated, {records} records")
                    }
                    update::SourceOutcome::NotModified => "not modified".to_string(),
                    update::SourceOutcome::Failed { reason } => format!("failed: {reason}"),
                };
                say!("{source}: {what}");
            }
        }
        DbCommand::Status { db: d } => {
            let path = d.path();
            let db = Database::open_read_only(&path)?;
            let st = db.status()?;
            say!("database: {}", path.display());
            say!("schema:   {}", st.schema);
            match &st.built_at {
                Some(b) => say!("built:    {b} ({} days ago)", age_days(b)),
                None => say!("built:    unknown"),
            }
            say!("records:  {}", st.advisories);
            say!("KEV:      {} entries", st.kev);
            say!("\nSOURCE  RECORDS  IMPORTED  FROM");
            for s in &st.sources {
                say!(
                    "{}  {}  {}  {}",
                    s.name,
                    s.records,
                    s.imported_at,
                    s.meta.url.as_deref().unwrap_or("-")
                );
            }
            say!("\nECOSYSTEM  RECORDS");
            for (eco, n) in &st.ecosystems {
                say!("{eco}  {n}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

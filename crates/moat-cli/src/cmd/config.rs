//! `moat config PATH...`: misconfiguration checks on files and directories
//! ([`moat_pipeline::config::run`]): the report, the exit code. The policy flags
//! (`--severity`, `--ignorefile`, `--vex`, `--exit-code`) and the output flags are
//! `moat scan`'s, read by the same code; `--policy DIR` adds users' Rego policies
//! ([`moat_misconfig::rego`]).

use super::scan::{parse_exit_code, read_ignores, read_vex, severities};
use crate::output::{print_diagnostics, write_out};
use crate::settings::{Env, timestamp};
use clap::{Args, ValueEnum};
use moat_misconfig::k8s::Checks;
use moat_misconfig::k8s::pss::{Level, Version};
use moat_pipeline::config::ConfigSettings;
use moat_pipeline::policy::Gate;
use moat_report::RenderOptions;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum ConfigFormat {
    Table,
    Json,
    Sarif,
}

#[derive(Args)]
pub struct ConfigArgs {
    /// Files or directories (searched recursively for Dockerfile, Containerfile,
    /// Dockerfile.*, *.Dockerfile, compose.yaml / docker-compose.yml, Kubernetes
    /// manifests in *.yaml, *.yml, *.json, and Helm charts, which are rendered); a named
    /// file whose name says nothing is checked as a Dockerfile.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Report only these severities (comma-separated: CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    severity: Vec<String>,
    /// Exit with this code when any reported finding remains (not 2: that means an error).
    #[arg(long, default_value_t = 0, value_name = "N", value_parser = parse_exit_code)]
    exit_code: u8,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ConfigFormat::Table)]
    format: ConfigFormat,
    /// Write to this file instead of stdout.
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
    /// Ignore file (default: .moatignore in the working directory, if present); entries
    /// may name moat's rule ids or the peers' (DL3002, DS002, CKV_DOCKER_8).
    #[arg(long, value_name = "PATH")]
    ignorefile: Option<PathBuf>,
    /// OpenVEX documents whose statements suppress findings.
    #[arg(long, value_name = "FILE")]
    vex: Vec<PathBuf>,
    /// No diagnostics on stderr.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Run only the Pod Security Standards on Kubernetes manifests, at this level
    /// (baseline or restricted); Dockerfiles and Compose files are then not checked.
    #[arg(long, value_name = "LEVEL", value_parser = parse_pss_level)]
    pss: Option<Level>,
    /// The Kubernetes version whose Pod Security Standards `--pss` applies (`1.N`;
    /// default: the latest, 1.37).
    #[arg(long, value_name = "1.N", requires = "pss", value_parser = parse_pss_version)]
    pss_version: Option<Version>,
    /// A values file for the Helm charts found (repeatable; merged in order over each
    /// chart's values.yaml, as `helm template -f`).
    #[arg(long, value_name = "FILE")]
    helm_values: Vec<PathBuf>,
    /// A value for the Helm charts found, in Helm's `--set` syntax (`a.b=c`, `l={x,y}`,
    /// `a[0].b=c`; repeatable, merged last).
    #[arg(long, value_name = "KEY=VALUE")]
    helm_set: Vec<String>,
    #[command(flatten)]
    policies: crate::settings::PolicyArgs,
}

fn parse_pss_level(s: &str) -> Result<Level, String> {
    Level::parse(s).ok_or_else(|| format!("{s:?}: expected baseline or restricted"))
}

fn parse_pss_version(s: &str) -> Result<Version, String> {
    Version::parse(s).ok_or_else(|| format!("{s:?}: expected a Kubernetes version such as 1.30"))
}

pub fn run(a: ConfigArgs, env: &Env) -> anyhow::Result<ExitCode> {
    let settings = ConfigSettings {
        paths: a.paths.clone(),
        ignores: read_ignores(&a.ignorefile)?,
        vex: read_vex(&a.vex)?,
        gate: Gate {
            severities: severities(&a.severity)?,
            ignore_unfixed: false,
        },
        now: env.now(),
        k8s: match a.pss {
            Some(level) => Checks::Pss(
                level,
                a.pss_version.unwrap_or(moat_misconfig::k8s::pss::LATEST),
            ),
            None => Checks::All,
        },
        policies: a.policies.load()?,
        helm_values: a.helm_values.clone(),
        helm_set: a.helm_set.clone(),
    };
    let outcome = moat_pipeline::config::run(&settings)?;
    let report = &outcome.report;
    if !a.quiet {
        print_diagnostics(&report.inventory.diagnostics);
    }
    let ro = RenderOptions {
        timestamp: timestamp(settings.now),
        color: env.color() && a.output.is_none(),
    };
    let bytes = match a.format {
        ConfigFormat::Table => moat_report::scan_table(report, &ro).into_bytes(),
        ConfigFormat::Json => moat_report::scan_json(report),
        ConfigFormat::Sarif => moat_report::sarif(report, &ro),
    };
    write_out(a.output.as_ref(), &bytes)?;
    if a.exit_code != 0 && outcome.findings_remain() {
        return Ok(ExitCode::from(a.exit_code));
    }
    Ok(ExitCode::SUCCESS)
}

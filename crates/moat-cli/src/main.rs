//! The `moat` command line: parses arguments, resolves settings, runs the library
//! crates, prints. It is the only crate that writes to stdout or stderr.
//!
//! Exit codes: 0 when the command ran (findings or not, warnings or not); 2 for usage
//! errors and for a target that cannot be read at all.

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use moat_image::{Limits, OpenOptions, TargetSpec};
use moat_model::Inventory;
use moat_report::RenderOptions;
use moat_scan::{Progress, ScanOptions};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;

mod vuln;

#[derive(Parser)]
#[command(name = "moat", version, about = "Container security: inventory, SBOM, and more", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Find known vulnerabilities in a target (an image, a directory, or an SBOM file).
    Scan(Box<vuln::ScanArgs>),
    /// Manage the advisory database.
    Db {
        #[command(subcommand)]
        command: vuln::DbCommand,
    },
    /// Write a software bill of materials for a target.
    Sbom {
        #[command(flatten)]
        target: TargetArgs,
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = SbomFormat::Cyclonedx)]
        format: SbomFormat,
        /// Write to this file instead of stdout.
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
    },
    /// List the packages in a target.
    Inventory {
        #[command(flatten)]
        target: TargetArgs,
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = InventoryFormat::Table)]
        format: InventoryFormat,
        /// Write to this file instead of stdout.
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum SbomFormat {
    Cyclonedx,
    #[value(name = "spdx-json", alias = "spdx")]
    SpdxJson,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum InventoryFormat {
    Table,
    Json,
}

#[derive(Args)]
pub(crate) struct TargetArgs {
    /// What to scan: docker-archive:PATH, oci-archive:PATH, oci:DIR, rootfs:DIR, dir:DIR,
    /// or a path whose kind is detected.
    pub(crate) target: String,
    /// Pick this platform from a multi-platform index (os/arch[/variant]; default: the host's).
    #[arg(long)]
    platform: Option<String>,
    /// Pick this image (REPO:TAG or tag) from an archive or layout holding several.
    #[arg(long)]
    image: Option<String>,
    /// No progress display and no warnings on stderr.
    #[arg(long, short = 'q')]
    pub(crate) quiet: bool,
    /// Largest uncompressed size of one layer, in bytes.
    #[arg(long, value_name = "BYTES")]
    max_layer_bytes: Option<u64>,
    /// Largest ratio of uncompressed to stored layer bytes (checked past 64 MiB).
    #[arg(long, value_name = "N")]
    max_ratio: Option<u64>,
    /// Largest single file read for analysis, in bytes.
    #[arg(long, value_name = "BYTES")]
    max_entry_bytes: Option<u64>,
    /// Leave out development dependencies (as lockfiles mark them).
    #[arg(long)]
    skip_dev_deps: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("moat: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Opens and scans a target, with a progress display when stderr is a terminal.
pub(crate) fn inventory_of(t: &TargetArgs) -> anyhow::Result<Inventory> {
    let spec = TargetSpec::parse(&t.target)?;
    let mut limits = Limits::default();
    if let Some(v) = t.max_layer_bytes {
        limits.max_layer_bytes = v;
    }
    if let Some(v) = t.max_ratio {
        limits.max_ratio = v;
    }
    let platform = t
        .platform
        .as_deref()
        .map(moat_image::parse_platform)
        .transpose()?;
    let opts = OpenOptions {
        platform,
        image: t.image.clone(),
        limits,
    };
    let source = moat_image::open(&spec, &opts)?;
    let mut scan_opts = ScanOptions {
        skip_dev: t.skip_dev_deps,
        ..ScanOptions::default()
    };
    if let Some(v) = t.max_entry_bytes {
        scan_opts.max_entry_bytes = v;
    }
    let show_progress = !t.quiet && std::io::stderr().is_terminal();
    let progress = show_progress.then(|| Arc::new(Progress::default()));
    scan_opts.progress = progress.clone();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ticker = progress.map(|p| {
        let done = done.clone();
        std::thread::spawn(move || {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} layers {msg} [{bar:30}] {bytes}/{total_bytes}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            while !done.load(Ordering::Relaxed) {
                bar.set_length(p.bytes_total.load(Ordering::Relaxed));
                bar.set_position(p.bytes_done());
                bar.set_message(format!(
                    "{}/{}",
                    p.layers_done.load(Ordering::Relaxed),
                    p.layers_total.load(Ordering::Relaxed)
                ));
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            bar.finish_and_clear();
        })
    });
    let result = moat_scan::scan(&source, &scan_opts);
    done.store(true, Ordering::Relaxed);
    if let Some(h) = ticker {
        let _ = h.join();
    }
    let inv = result?.inventory;
    if !t.quiet {
        for w in &inv.diagnostics {
            eprintln!("moat: warning: {w}");
        }
    }
    Ok(inv)
}

pub(crate) fn write_out(output: Option<&PathBuf>, bytes: &[u8]) -> anyhow::Result<()> {
    match output {
        Some(p) => std::fs::write(p, bytes).with_context(|| format!("writing {}", p.display())),
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(bytes).and_then(|_| out.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                r => r.context("writing to stdout"),
            }
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let ro = |color: bool| RenderOptions {
        timestamp: moat_report::timestamp_now(),
        color,
    };
    match cli.command {
        Command::Scan(args) => return vuln::scan(*args, color),
        Command::Db { command } => return vuln::db(command),
        Command::Sbom {
            target,
            format,
            output,
        } => {
            let inv = inventory_of(&target)?;
            let bytes = match format {
                SbomFormat::Cyclonedx => moat_report::cyclonedx(&inv, &ro(false)),
                SbomFormat::SpdxJson => moat_report::spdx(&inv, &ro(false)),
                SbomFormat::Json => moat_report::json(&inv),
            };
            write_out(output.as_ref(), &bytes)?;
        }
        Command::Inventory {
            target,
            format,
            output,
        } => {
            let inv = inventory_of(&target)?;
            let bytes = match format {
                InventoryFormat::Table => {
                    moat_report::table(&inv, &ro(color && output.is_none())).into_bytes()
                }
                InventoryFormat::Json => moat_report::json(&inv),
            };
            write_out(output.as_ref(), &bytes)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

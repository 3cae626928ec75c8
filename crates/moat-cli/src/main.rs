//! The `moat` command line: parses arguments, resolves settings ([`settings`]), calls the
//! libraries (the scan itself is [`moat_pipeline::run`]) and prints. It is the only crate
//! that writes to stdout or stderr, and the only one that reads the environment.
//!
//! One file per command under [`cmd`]; [`output`] writes reports and diagnostics;
//! [`progress`] draws the progress bar on a terminal.
//!
//! Exit codes: 0 when the command ran (findings or not, warnings or not); N with
//! `--exit-code N` when findings remain; 2 for usage errors and for a target that cannot be
//! read at all.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cmd;
mod output;
mod progress;
mod settings;

#[derive(Parser)]
#[command(name = "moat", version, about = "Container security: inventory, SBOM, vulnerabilities", long_about = None)]
struct Cli {
    /// The configuration file (default: $MOAT_CONFIG, else ~/.config/moat/config.toml when it
    /// exists).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Find known vulnerabilities in a target (an image, a directory, or an SBOM file).
    Scan(Box<cmd::scan::ScanArgs>),
    /// Manage the advisory database.
    Db {
        #[command(subcommand)]
        command: cmd::db::DbCommand,
    },
    /// Write a software bill of materials for a target.
    Sbom(cmd::sbom::SbomArgs),
    /// List the packages in a target.
    Inventory(cmd::inventory::InventoryArgs),
    /// Check configuration files (Dockerfiles) for misconfigurations.
    Config(cmd::config::ConfigArgs),
    /// Manage the registry blob cache.
    Cache {
        #[command(subcommand)]
        command: cmd::cache::CacheCommand,
    },
    /// Manage signing keys (cosign-compatible).
    Key {
        #[command(subcommand)]
        command: cmd::sign::KeyCommand,
    },
    /// Sign a file: print (or write) its base64 signature, as cosign does.
    SignBlob(cmd::sign::SignBlobArgs),
    /// Verify a file's signature (exit 0 verified, 1 not verified, 2 error).
    VerifyBlob(cmd::sign::VerifyBlobArgs),
    /// Sign an image's manifest digest; the signature is stored as cosign stores it.
    Sign(cmd::sign::SignArgs),
    /// Verify an image's signatures offline (exit 0 verified, 1 not verified, 2 error).
    Verify(cmd::sign::VerifyArgs),
    /// Attach a signed in-toto attestation (DSSE) to an image, as cosign does.
    Attest(cmd::sign::AttestArgs),
    /// Verify an image's attestations and print their predicates.
    VerifyAttestation(cmd::sign::VerifyAttestationArgs),
    /// Run Falco rules over runtime events (Kubernetes audit logs); alerts on stdout.
    Watch(Box<cmd::watch::WatchArgs>),
    /// Run the server: every image's inventory and findings, re-matched on new advisories.
    Serve(cmd::serve::ServeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = settings::Env::read(cli.config.as_deref()).and_then(|env| match cli.command {
        Command::Scan(a) => cmd::scan::run(*a, &env),
        Command::Db { command } => cmd::db::run(command, &env).map(|()| ExitCode::SUCCESS),
        Command::Sbom(a) => cmd::sbom::run(a, &env).map(|()| ExitCode::SUCCESS),
        Command::Inventory(a) => cmd::inventory::run(a, &env).map(|()| ExitCode::SUCCESS),
        Command::Config(a) => cmd::config::run(a, &env),
        Command::Cache { command } => cmd::cache::run(command, &env).map(|()| ExitCode::SUCCESS),
        Command::Key { command } => cmd::sign::key(command),
        Command::SignBlob(a) => cmd::sign::sign_blob(a),
        Command::VerifyBlob(a) => cmd::sign::verify_blob(a),
        Command::Sign(a) => cmd::sign::sign(a, &env),
        Command::Verify(a) => cmd::sign::verify(a, &env),
        Command::Attest(a) => cmd::sign::attest(a, &env),
        Command::VerifyAttestation(a) => cmd::sign::verify_attestation(a, &env),
        Command::Watch(a) => cmd::watch::run(*a, &env),
        Command::Serve(a) => cmd::serve::run(a, &env),
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            // An error's causes can quote the target (a file name, a package name).
            eprintln!("moat: error: {}", output::escape(&output::error_chain(&e)));
            ExitCode::from(2)
        }
    }
}

//! `moat sbom`: a software bill of materials for a target.

use crate::output::write_out;
use crate::settings::{Env, TargetArgs, timestamp};
use clap::{Args, ValueEnum};
use moat_report::RenderOptions;
use std::path::PathBuf;

#[derive(Args)]
pub struct SbomArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = SbomFormat::Cyclonedx)]
    format: SbomFormat,
    /// Write to this file instead of stdout.
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum SbomFormat {
    Cyclonedx,
    #[value(name = "spdx-json", alias = "spdx")]
    SpdxJson,
    Json,
}

pub fn run(a: SbomArgs, env: &Env) -> anyhow::Result<()> {
    let inv = super::inventory_of(&a.target, env)?;
    let ro = RenderOptions {
        timestamp: timestamp(env.now()),
        color: false,
    };
    let bytes = match a.format {
        SbomFormat::Cyclonedx => moat_report::cyclonedx(&inv, &ro),
        SbomFormat::SpdxJson => moat_report::spdx(&inv, &ro),
        SbomFormat::Json => moat_report::json(&inv),
    };
    write_out(a.output.as_ref(), &bytes)
}

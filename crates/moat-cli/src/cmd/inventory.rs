//! `moat inventory`: the packages of a target, as a table or moat's JSON document.

use crate::output::write_out;
use crate::settings::{Env, TargetArgs, timestamp};
use clap::{Args, ValueEnum};
use moat_report::RenderOptions;
use std::path::PathBuf;

#[derive(Args)]
pub struct InventoryArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = InventoryFormat::Table)]
    format: InventoryFormat,
    /// Write to this file instead of stdout.
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum InventoryFormat {
    Table,
    Json,
}

pub fn run(a: InventoryArgs, env: &Env) -> anyhow::Result<()> {
    let inv = super::inventory_of(&a.target, env)?;
    let bytes = match a.format {
        InventoryFormat::Table => {
            let ro = RenderOptions {
                timestamp: timestamp(env.now()),
                color: env.color() && a.output.is_none(),
            };
            moat_report::table(&inv, &ro).into_bytes()
        }
        InventoryFormat::Json => moat_report::json(&inv),
    };
    write_out(a.output.as_ref(), &bytes)
}

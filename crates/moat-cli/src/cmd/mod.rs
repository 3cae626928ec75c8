//! One file per command.

pub mod cache;
pub mod config;
pub mod db;
pub mod inventory;
pub mod sbom;
pub mod scan;
pub mod serve;
pub mod sign;
pub mod watch;

use crate::output::print_diagnostics;
use crate::progress::Ticker;
use crate::settings::TargetArgs;
use moat_model::Inventory;

/// Reads the target's inventory (scanned, or from an SBOM) with a progress display on a
/// terminal, and prints its diagnostics unless `--quiet`.
pub fn inventory_of(t: &TargetArgs, env: &crate::settings::Env) -> anyhow::Result<Inventory> {
    t.start_watchdog();
    let target = t.target()?;
    let mut read = t.read_settings(env)?;
    let progress = t.progress();
    let ticker = Ticker::start(progress.clone(), &mut read.open.registry);
    let result = moat_pipeline::inventory(&target, &read, progress);
    ticker.stop();
    crate::settings::debug_layer_cache(env, &read);
    let inv = result?;
    if !t.quiet {
        print_diagnostics(&inv.diagnostics);
    }
    Ok(inv)
}

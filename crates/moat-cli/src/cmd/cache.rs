//! `moat cache`: the registry blob cache and the per-layer analysis cache.

use crate::settings::Env;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum CacheCommand {
    /// Remove every cached blob and every cached layer analysis.
    Clean {
        /// The cache directory [default: $XDG_CACHE_HOME/moat/blobs].
        #[arg(long, value_name = "DIR")]
        cache_dir: Option<PathBuf>,
    },
}

pub fn run(c: CacheCommand, env: &Env) -> anyhow::Result<()> {
    match c {
        CacheCommand::Clean { cache_dir } => {
            let dir = cache_dir.unwrap_or_else(|| env.default_blob_cache());
            let layers = moat_scan::LayerCache::new(&dir, 0);
            let freed_layers = layers
                .clean()
                .map_err(|e| anyhow::anyhow!("removing {}: {e}", layers.dir().display()))?;
            let freed = moat_registry::BlobCache::new(&dir).clean()? + freed_layers;
            println!("removed {} ({} bytes)", dir.display(), freed);
            Ok(())
        }
    }
}

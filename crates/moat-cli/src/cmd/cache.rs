//! `moat cache`: the registry blob cache.

use crate::settings::Env;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum CacheCommand {
    /// Remove every cached blob.
    Clean {
        /// The blob cache directory [default: $XDG_CACHE_HOME/moat/blobs].
        #[arg(long, value_name = "DIR")]
        cache_dir: Option<PathBuf>,
    },
}

pub fn run(c: CacheCommand, env: &Env) -> anyhow::Result<()> {
    match c {
        CacheCommand::Clean { cache_dir } => {
            let dir = cache_dir.unwrap_or_else(|| env.default_blob_cache());
            let freed = moat_registry::BlobCache::new(&dir).clean()?;
            println!("removed {} ({} bytes)", dir.display(), freed);
            Ok(())
        }
    }
}

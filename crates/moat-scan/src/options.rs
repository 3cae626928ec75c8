//! What a scan is asked to do ([`ScanOptions`]) and the counters it keeps for a progress
//! display ([`Progress`]).

use crate::analyzer::Scanners;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Knobs of a scan.
#[derive(Clone)]
pub struct ScanOptions {
    /// Largest file that is read into memory for analysis; bigger wanted files are
    /// skipped with a warning (a sparse entry claiming more is an error).
    pub max_entry_bytes: u64,
    /// Live counters for a progress display.
    pub progress: Option<Arc<Progress>>,
    /// Leave out development dependencies (as lockfiles mark them).
    pub skip_dev: bool,
    /// Which scanners run: analyzers of the others are never asked about a file.
    /// Default: the inventory alone.
    pub scanners: Scanners,
    /// The secret scanner's rules, size cap and output (used when it runs).
    pub secrets: moat_secrets::Settings,
    /// The time one analyzer may spend on one file (`None`: no budget). Past it the call
    /// is abandoned (its thread left running, see `walk/pool.rs`): the file gets a
    /// `slow-file` warning naming it and the analyzer, and the scan goes on.
    pub analyzer_timeout: Option<std::time::Duration>,
    /// Users' Rego policies for the misconfiguration scanner (`--policy DIR`); `None`: none.
    pub policies: Option<Arc<moat_misconfig::rego::Policies>>,
    /// The per-layer analysis cache (`None`: every layer is read).
    pub layer_cache: Option<Arc<crate::LayerCache>>,
    /// A digest of what the analyzers read besides the bytes and that the engine cannot
    /// hash itself (the user's secret rules and Rego policies), for the cache key. Without
    /// it, a scan with user rules or policies does not use the cache.
    pub cache_inputs: Option<String>,
    /// Directories and files the walkers leave alone (`--skip-dirs`, `--skip-files`).
    pub skip: crate::PathSkip,
    /// Keep every package's installed files (`--package-files`) in
    /// [`moat_model::Inventory::package_files`]. The analyzers read the file lists either
    /// way (for the counts and the ownership join): this changes the join only, not what a
    /// layer's cached analysis holds.
    pub package_files: bool,
}

/// The default of [`ScanOptions::analyzer_timeout`].
pub const DEFAULT_ANALYZER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            max_entry_bytes: 512 << 20,
            skip_dev: false,
            progress: None,
            scanners: Scanners::default(),
            secrets: moat_secrets::Settings::default(),
            analyzer_timeout: Some(DEFAULT_ANALYZER_TIMEOUT),
            policies: None,
            layer_cache: None,
            cache_inputs: None,
            skip: crate::PathSkip::default(),
            package_files: false,
        }
    }
}

/// Counters a progress display polls while a scan runs.
#[derive(Default, Debug)]
pub struct Progress {
    pub layers_total: AtomicUsize,
    pub layers_done: AtomicUsize,
    /// Sum of the stored sizes of all layers.
    pub bytes_total: AtomicU64,
    readers: Mutex<Vec<Arc<AtomicU64>>>,
}

impl Progress {
    /// Stored bytes read so far, over all layers.
    pub fn bytes_done(&self) -> u64 {
        match self.readers.lock() {
            Ok(r) => r.iter().map(|c| c.load(Ordering::Relaxed)).sum(),
            Err(_) => 0,
        }
    }
    pub(crate) fn track(&self, counter: Arc<AtomicU64>) {
        if let Ok(mut r) = self.readers.lock() {
            r.push(counter);
        }
    }
}

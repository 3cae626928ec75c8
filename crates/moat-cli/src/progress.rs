//! The progress display on a terminal: a registry image's download (bytes received of the
//! blobs not in the cache), then layers done and stored bytes read, polled from the engine's
//! counters by a thread that draws a bar until the scan ends.

use moat_registry::FetchProgress;
use moat_scan::Progress;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

/// A running progress display; [`Ticker::stop`] clears it.
pub struct Ticker {
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    /// Starts drawing `p` (given when stderr is a terminal and not `--quiet`), and the
    /// download counters of `registry` first when the target is a registry image.
    pub fn start(p: Option<Arc<Progress>>, registry: &mut moat_image::RegistryOptions) -> Ticker {
        let done = Arc::new(AtomicBool::new(false));
        let download = p.is_some().then(Arc::<FetchProgress>::default);
        registry.progress = download.clone();
        let thread = p.map(|p| {
            let done = done.clone();
            std::thread::spawn(move || {
                let bar = indicatif::ProgressBar::new(0);
                let style = |t: &str| {
                    indicatif::ProgressStyle::with_template(t)
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                };
                bar.set_style(style("{spinner} layers {msg} [{bar:30}] {bytes}/{total_bytes}"));
                let mut downloading = false;
                while !done.load(Ordering::Relaxed) {
                    let total = p.layers_total.load(Ordering::Relaxed);
                    match &download {
                        // Until the engine has layers, a download may be under way.
                        Some(d) if total == 0 && d.bytes_total.load(Ordering::Relaxed) > 0 => {
                            if !downloading {
                                bar.set_style(style(
                                    "{spinner} downloading [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
                                ));
                                downloading = true;
                            }
                            bar.set_length(d.bytes_total.load(Ordering::Relaxed));
                            bar.set_position(d.bytes_done.load(Ordering::Relaxed));
                        }
                        _ => {
                            if downloading {
                                bar.set_style(style(
                                    "{spinner} layers {msg} [{bar:30}] {bytes}/{total_bytes}",
                                ));
                                downloading = false;
                            }
                            bar.set_length(p.bytes_total.load(Ordering::Relaxed));
                            bar.set_position(p.bytes_done());
                            bar.set_message(format!(
                                "{}/{}",
                                p.layers_done.load(Ordering::Relaxed),
                                total
                            ));
                        }
                    }
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                bar.finish_and_clear();
            })
        });
        Ticker { done, thread }
    }

    pub fn stop(mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(h) = self.thread.take() {
            let _ = h.join();
        }
    }
}

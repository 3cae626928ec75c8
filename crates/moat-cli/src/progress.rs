//! The progress display on a terminal: layers done and stored bytes read, polled from the
//! engine's counters by a thread that draws a bar until the scan ends.

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
    /// Starts drawing `p` when `show` (stderr is a terminal and not `--quiet`).
    pub fn start(p: Option<Arc<Progress>>) -> Ticker {
        let done = Arc::new(AtomicBool::new(false));
        let thread = p.map(|p| {
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
        Ticker { done, thread }
    }

    pub fn stop(mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(h) = self.thread.take() {
            let _ = h.join();
        }
    }
}

//! `/metrics` in Prometheus' text format: counters kept here, gauges read from the store
//! at scrape time.

use crate::rematch::Summary;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, Default)]
struct Counters {
    /// Responses by status code.
    requests: BTreeMap<u16, u64>,
    request_seconds: f64,
    submitted: u64,
    rematches: u64,
    rematch_seconds: f64,
    events: BTreeMap<String, u64>,
}

/// The server's counters.
#[derive(Debug, Default)]
pub struct Metrics(Mutex<Counters>);

impl Metrics {
    fn with<T>(&self, f: impl FnOnce(&mut Counters) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
    pub fn request(&self, status: u16, took: Duration) {
        self.with(|c| {
            *c.requests.entry(status).or_default() += 1;
            c.request_seconds += took.as_secs_f64();
        });
    }
    pub fn submitted(&self) {
        self.with(|c| c.submitted += 1);
    }
    pub fn rematched(&self, s: &Summary) {
        self.with(|c| {
            c.rematches += 1;
            c.rematch_seconds += s.seconds;
            for e in &s.events {
                *c.events.entry(e.kind.clone()).or_default() += 1;
            }
        });
    }

    /// The exposition text. `totals`: images and findings per severity in the store.
    pub fn render(
        &self,
        totals: &(u64, BTreeMap<String, u64>),
        free_slots: usize,
        slots: usize,
    ) -> String {
        let mut o = String::new();
        self.with(|c| {
            o.push_str("# HELP moat_http_requests_total HTTP responses by status code.\n# TYPE moat_http_requests_total counter\n");
            for (code, n) in &c.requests {
                let _ = writeln!(o, "moat_http_requests_total{{code=\"{code}\"}} {n}");
            }
            let total: u64 = c.requests.values().sum();
            let _ = write!(
                o,
                "# HELP moat_http_request_seconds Time spent answering requests.\n# TYPE moat_http_request_seconds summary\nmoat_http_request_seconds_sum {}\nmoat_http_request_seconds_count {total}\n",
                c.request_seconds
            );
            let _ = write!(
                o,
                "# HELP moat_reports_submitted_total Reports and SBOMs stored.\n# TYPE moat_reports_submitted_total counter\nmoat_reports_submitted_total {}\n",
                c.submitted
            );
            let _ = write!(
                o,
                "# HELP moat_rematch_seconds Re-matches of every stored inventory.\n# TYPE moat_rematch_seconds summary\nmoat_rematch_seconds_sum {}\nmoat_rematch_seconds_count {}\n",
                c.rematch_seconds, c.rematches
            );
            o.push_str("# HELP moat_finding_events_total Finding changes found by re-matching.\n# TYPE moat_finding_events_total counter\n");
            for kind in ["new", "fixed_upstream", "gone"] {
                let n = c.events.get(kind).copied().unwrap_or(0);
                let _ = writeln!(o, "moat_finding_events_total{{kind=\"{kind}\"}} {n}");
            }
        });
        let _ = write!(
            o,
            "# HELP moat_requests_in_flight Requests being answered.\n# TYPE moat_requests_in_flight gauge\nmoat_requests_in_flight {}\n",
            slots.saturating_sub(free_slots)
        );
        let _ = write!(
            o,
            "# HELP moat_images Images in the store.\n# TYPE moat_images gauge\nmoat_images {}\n",
            totals.0
        );
        o.push_str(
            "# HELP moat_findings Findings in the store by severity.\n# TYPE moat_findings gauge\n",
        );
        for (sev, n) in &totals.1 {
            let _ = writeln!(o, "moat_findings{{severity=\"{sev}\"}} {n}");
        }
        o
    }
}

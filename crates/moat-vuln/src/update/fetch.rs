//! HTTP for the updater: one agent for the whole update, and for every request retries with
//! exponential backoff and jitter on `429`, `5xx`, connection errors and bodies cut off,
//! honouring `Retry-After` (seconds or an HTTP date, capped at [`Retry::max_delay`]), all
//! within the update's time budget (`timeout_global` of each request is what is left of it).
//!
//! A host that could not be reached at all (connection errors through every attempt) is
//! remembered as down for the rest of the update: the next sources skip it at once and go
//! to their next mirror, instead of waiting through the same retries for every source.
//!
//! Which mirror to try next is the caller's business ([`super::update_sources_with`]); this
//! module fetches one URL.

use super::{FetchError, MAX_DOWNLOAD_BYTES};
use crate::db::SourceMeta;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How failed requests are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Attempts per URL (1: no retry).
    pub attempts: u32,
    /// The wait after the first failure; doubled after each further one, plus up to half of
    /// it again as random jitter.
    pub base_delay: Duration,
    /// The longest single wait, and the cap on a server's `Retry-After`.
    pub max_delay: Duration,
}

impl Retry {
    /// One attempt, no waiting.
    pub const NONE: Retry = Retry {
        attempts: 1,
        base_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
    };

    /// The wait after `failed` failed attempts (1, 2, ...) without a `Retry-After`:
    /// `base * 2^(failed-1)` plus `jitter` (0..1) times half of that, capped.
    pub fn backoff(&self, failed: u32, jitter: f64) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << failed.saturating_sub(1).min(16));
        let extra = Duration::try_from_secs_f64(exp.as_secs_f64() * jitter.clamp(0.0, 1.0) / 2.0)
            .unwrap_or(Duration::ZERO);
        exp.saturating_add(extra).min(self.max_delay)
    }
}

impl Default for Retry {
    /// Three attempts, waiting about 1 s then 2 s; a `Retry-After` up to a minute is honoured.
    fn default() -> Self {
        Retry {
            attempts: 3,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
        }
    }
}

/// A number in 0..1 that differs between calls and processes (jitter needs no more).
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// The wait a `Retry-After` value asks for: delay-seconds, or an HTTP date (RFC 9110) from
/// `now`. `None` when unreadable.
pub fn retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(v)
        .ok()?;
    let now = jiff::Timestamp::try_from(now).ok()?;
    let secs = when.as_second().saturating_sub(now.as_second());
    Some(Duration::from_secs(secs.max(0) as u64))
}

/// Why one attempt failed: worth another try (with the server's `Retry-After`), or not.
pub(super) enum Failure {
    Again(FetchError, Option<Duration>),
    Final(FetchError),
}

/// A body that broke off while `url` was read: worth another try.
fn cut_off(url: &str) -> impl Fn(std::io::Error) -> Failure + '_ {
    move |source| {
        Failure::Again(
            FetchError::CutOff {
                url: url.to_string(),
                source,
            },
            None,
        )
    }
}

/// The validators of a response: (`ETag`, `Last-Modified`).
pub(super) type Validators = (Option<String>, Option<String>);

/// The update's HTTP client: the agent, the retry policy, the deadline, what was fetched.
pub(super) struct Http {
    agent: ureq::Agent,
    retry: Retry,
    budget: Duration,
    deadline: Instant,
    /// Hosts that could not be reached, with the last error (shared with the clients
    /// [`Http::fork`] made).
    down: Arc<Mutex<HashMap<String, String>>>,
    /// Body bytes received (every attempt, every source).
    pub bytes: u64,
    /// Set when the update no longer wants what this client is downloading
    /// ([`Http::fork`]).
    cancel: Option<Arc<AtomicBool>>,
}

impl Http {
    /// `timeout`: connect and per-read; `budget`: the whole update. The proxy from the
    /// environment is not used when every URL is on a loopback host.
    pub fn new(urls: &[&str], timeout: Duration, budget: Duration, retry: Retry) -> Http {
        let mut cfg = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(timeout))
            .timeout_recv_response(Some(timeout))
            .timeout_per_read(Some(timeout))
            .user_agent(concat!("moat/", env!("CARGO_PKG_VERSION")));
        if urls.iter().all(|u| is_loopback(u)) {
            cfg = cfg.proxy(None);
        }
        Http {
            agent: cfg.build().into(),
            retry,
            budget,
            deadline: Instant::now() + budget,
            down: Arc::default(),
            bytes: 0,
            cancel: None,
        }
    }

    /// A client for another thread: the same agent, retries and deadline, the same list of
    /// hosts found down, none of the bytes; its downloads stop when `cancel` is set.
    pub fn fork(&self, cancel: Arc<AtomicBool>) -> Http {
        Http {
            agent: self.agent.clone(),
            retry: self.retry,
            budget: self.budget,
            deadline: self.deadline,
            down: Arc::clone(&self.down),
            bytes: 0,
            cancel: Some(cancel),
        }
    }

    /// The hosts found down so far (a client that panicked holding them left them as
    /// they were).
    fn down(&self) -> MutexGuard<'_, HashMap<String, String>> {
        self.down
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// What is left of the budget (`None`: nothing).
    pub fn left(&self) -> Option<Duration> {
        self.deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }

    fn out_of_time(&self, url: &str, last: Option<&FetchError>) -> FetchError {
        FetchError::OutOfTime {
            url: url.to_string(),
            budget: self.budget,
            last: last.map(|e| format!(" (last: {e})")).unwrap_or_default(),
        }
    }

    /// Runs `attempt` until it succeeds, fails for good, the attempts run out or the budget
    /// does. Each attempt gets what is left of the budget.
    fn retrying<T>(
        &mut self,
        url: &str,
        progress: &mut dyn FnMut(&str),
        mut attempt: impl FnMut(&mut Http, Duration, &mut dyn FnMut(&str)) -> Result<T, Failure>,
    ) -> Result<T, FetchError> {
        let host = host_of(url);
        if let Some(why) = self.down().get(&host).cloned() {
            return Err(FetchError::HostDown {
                url: url.to_string(),
                why,
            });
        }
        let mut failed = 0u32;
        let mut unreachable = true;
        loop {
            let Some(left) = self.left() else {
                return Err(self.out_of_time(url, None));
            };
            let (e, after) = match attempt(self, left, progress) {
                Ok(v) => return Ok(v),
                Err(Failure::Final(e)) => return Err(e),
                Err(Failure::Again(e, after)) => (e, after),
            };
            unreachable &= matches!(e, FetchError::Request { .. });
            failed += 1;
            if failed >= self.retry.attempts.max(1) {
                if unreachable {
                    self.down().insert(host, e.to_string());
                }
                return Err(e);
            }
            let wait = match after {
                Some(a) => a.min(self.retry.max_delay),
                None => self.retry.backoff(failed, jitter()),
            };
            match self.left() {
                Some(left) if left > wait => {}
                _ => return Err(self.out_of_time(url, Some(&e))),
            }
            progress(&format!(
                "{e}; retrying in {:.1} s ({} of {} attempts)",
                wait.as_secs_f64(),
                failed + 1,
                self.retry.attempts
            ));
            std::thread::sleep(wait);
        }
    }

    /// Sends a GET with what is left of the budget as its whole-exchange limit.
    fn get(
        &self,
        url: &str,
        left: Duration,
        headers: &[(&str, &str)],
    ) -> Result<ureq::http::Response<ureq::Body>, Failure> {
        let mut req = self
            .agent
            .get(url)
            .config()
            .timeout_global(Some(left))
            .build();
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.call().map_err(|e| {
            let retry = matches!(
                e,
                ureq::Error::Io(_)
                    | ureq::Error::Timeout(_)
                    | ureq::Error::ConnectionFailed
                    | ureq::Error::Protocol(_)
                    | ureq::Error::BodyStalled
            );
            let e = FetchError::Request {
                url: url.to_string(),
                source: Box::new(e),
            };
            if retry {
                Failure::Again(e, None)
            } else {
                Failure::Final(e)
            }
        })?;
        let status = resp.status().as_u16();
        if status == 429 || (500..600).contains(&status) {
            let after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry_after(v, std::time::SystemTime::now()));
            return Err(Failure::Again(
                FetchError::Status {
                    url: url.to_string(),
                    status,
                },
                after,
            ));
        }
        Ok(resp)
    }

    /// A GET that must answer 200: `None` on 404, any other status final.
    fn get_found(
        &self,
        url: &str,
        left: Duration,
    ) -> Result<Option<ureq::http::Response<ureq::Body>>, Failure> {
        let resp = self.get(url, left, &[])?;
        match resp.status().as_u16() {
            200 => Ok(Some(resp)),
            404 => Ok(None),
            status => Err(Failure::Final(FetchError::Status {
                url: url.to_string(),
                status,
            })),
        }
    }

    /// A small resource (a `mirror.list`, a `repomd.xml`) read whole, up to `max` bytes;
    /// `None` on 404.
    pub fn small(
        &mut self,
        url: &str,
        max: u64,
        progress: &mut dyn FnMut(&str),
    ) -> Result<Option<Vec<u8>>, FetchError> {
        self.retrying(url, progress, |http, left, _| {
            let Some(resp) = http.get_found(url, left)? else {
                return Ok(None);
            };
            let mut body = Vec::new();
            resp.into_body()
                .into_reader()
                .take(max)
                .read_to_end(&mut body)
                .map_err(cut_off(url))?;
            http.bytes += body.len() as u64;
            Ok(Some(body))
        })
    }

    /// The lines of a text resource read as they arrive, until `line` returns false or
    /// the body ends (at most `max` bytes); `Ok(false)` on 404. A retry starts over, so
    /// `line` must tolerate seeing the first lines again (`restart` is called first).
    pub fn lines(
        &mut self,
        url: &str,
        max: u64,
        progress: &mut dyn FnMut(&str),
        restart: &mut dyn FnMut(),
        line: &mut dyn FnMut(&str) -> bool,
    ) -> Result<bool, FetchError> {
        use std::io::BufRead;
        self.retrying(url, progress, |http, left, _| {
            restart();
            let Some(resp) = http.get_found(url, left)? else {
                return Ok(false);
            };
            let mut reader = std::io::BufReader::new(resp.into_body().into_reader().take(max));
            let mut buf = String::new();
            loop {
                buf.clear();
                let n = reader.read_line(&mut buf).map_err(cut_off(url))?;
                http.bytes += n as u64;
                if n == 0 || !line(buf.trim_end_matches(['\r', '\n'])) {
                    return Ok(true);
                }
            }
        })
    }

    /// Downloads `url` into `download`: `None` when not modified (`stored`'s validators
    /// answered with 304), else the response's validators.
    pub fn download(
        &mut self,
        label: &str,
        url: &str,
        stored: Option<&SourceMeta>,
        download: &Download,
        progress: &mut dyn FnMut(&str),
    ) -> Result<Option<Validators>, FetchError> {
        let mut headers: Vec<(&str, &str)> = Vec::new();
        if let Some(m) = stored {
            if let Some(e) = &m.etag {
                headers.push(("If-None-Match", e.as_str()));
            }
            if let Some(lm) = &m.last_modified {
                headers.push(("If-Modified-Since", lm.as_str()));
            }
        }
        self.retrying(url, progress, |http, left, progress| {
            let resp = http.get(url, left, &headers)?;
            http.body_to_file(label, url, resp, stored.is_some(), download, progress)
        })
    }

    fn body_to_file(
        &mut self,
        label: &str,
        url: &str,
        resp: ureq::http::Response<ureq::Body>,
        conditional: bool,
        download: &Download,
        progress: &mut dyn FnMut(&str),
    ) -> Result<Option<Validators>, Failure> {
        let url_owned = || url.to_string();
        let status = resp.status().as_u16();
        if status == 304 {
            if !conditional {
                return Err(Failure::Final(FetchError::UnexpectedNotModified {
                    url: url_owned(),
                }));
            }
            return Ok(None);
        }
        if status != 200 {
            return Err(Failure::Final(FetchError::Status {
                url: url_owned(),
                status,
            }));
        }
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let etag = header("etag");
        let last_modified = header("last-modified");
        let expected: Option<u64> = header("content-length").and_then(|v| v.parse().ok());
        if let Some(n) = expected
            && n > MAX_DOWNLOAD_BYTES
        {
            return Err(Failure::Final(FetchError::TooLarge {
                url: url_owned(),
                bytes: n,
            }));
        }
        let file_err = |source| {
            Failure::Final(FetchError::File {
                url: url_owned(),
                path: download.path.clone(),
                source,
            })
        };
        let mut out = std::io::BufWriter::with_capacity(
            1 << 20,
            std::fs::File::create(&download.path).map_err(file_err)?,
        );
        let mut reader = resp.into_body().into_reader();
        let mut chunk = vec![0u8; 256 << 10];
        let mut got: u64 = 0;
        let mut next_report: u64 = 16 << 20;
        loop {
            if self
                .cancel
                .as_ref()
                .is_some_and(|c| c.load(Ordering::Relaxed))
            {
                self.bytes += got;
                return Err(Failure::Final(FetchError::Cancelled { url: url_owned() }));
            }
            let n = match reader.read(&mut chunk) {
                Ok(n) => n,
                Err(source) => {
                    self.bytes += got;
                    return Err(Failure::Again(
                        FetchError::CutOff {
                            url: url_owned(),
                            source,
                        },
                        None,
                    ));
                }
            };
            if n == 0 {
                break;
            }
            got += n as u64;
            if got > MAX_DOWNLOAD_BYTES {
                return Err(Failure::Final(FetchError::TooLargeWhileReading {
                    url: url_owned(),
                }));
            }
            out.write_all(&chunk[..n]).map_err(file_err)?;
            if got >= next_report {
                progress(&format!("{label}: {} MiB", got >> 20));
                next_report += 16 << 20;
            }
        }
        self.bytes += got;
        out.flush().map_err(file_err)?;
        drop(out);
        if let Some(n) = expected
            && n != got
        {
            return Err(Failure::Again(
                FetchError::Short {
                    url: url_owned(),
                    got,
                    expected: n,
                },
                None,
            ));
        }
        Ok(Some((etag, last_modified)))
    }
}

/// `scheme://host:port` of a URL (the unit [`Http`] remembers as down).
fn host_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let host = rest.split('/').next().unwrap_or_default();
    format!("{scheme}://{host}")
}

pub(super) fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', ':']).next().unwrap_or_default();
    host == "localhost" || host.starts_with("127.") || rest.starts_with("[::1]")
}

/// The temporary file downloads go to (`<db>.download-<pid>`), removed when dropped.
pub(super) struct Download {
    pub path: PathBuf,
}

impl Download {
    pub fn beside(db: &Path) -> Download {
        Self::named(db, String::new())
    }

    /// The file of the download made ahead for the source at `index` of an update
    /// (`<db>.download-<pid>-<index>`).
    pub fn ahead(db: &Path, index: usize) -> Download {
        Self::named(db, format!("-{index}"))
    }

    fn named(db: &Path, suffix: String) -> Download {
        let mut name = db
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_else(|| "moat.db".into());
        name.push(format!(".download-{}{suffix}", std::process::id()));
        Download {
            path: db.with_file_name(name),
        }
    }
}

impl Drop for Download {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_and_as_a_date() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_727_740_800); // 2024-10-01
        assert_eq!(retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after("Tue, 01 Oct 2024 00:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after("Mon, 30 Sep 2024 00:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon", now), None);
    }

    #[test]
    fn backoff_doubles_with_jitter_and_a_cap() {
        let r = Retry {
            attempts: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(5),
        };
        assert_eq!(r.backoff(1, 0.0), Duration::from_secs(1));
        assert_eq!(r.backoff(2, 0.0), Duration::from_secs(2));
        assert_eq!(r.backoff(2, 1.0), Duration::from_secs(3));
        assert_eq!(r.backoff(3, 0.5), Duration::from_secs(5));
        assert_eq!(r.backoff(30, 0.0), Duration::from_secs(5));
        let j = jitter();
        assert!((0.0..1.0).contains(&j));
    }

    /// A closed port on the loopback host.
    fn closed_port() -> u16 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    }

    /// The URL of a server on the loopback host that answers one request with `body`.
    fn serve_once(body: &'static [u8]) -> String {
        use std::io::BufRead;
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/a.zip", l.local_addr().unwrap());
        std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut r = std::io::BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            while r.read_line(&mut line).unwrap_or(0) > 2 {
                line.clear();
            }
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(body);
        });
        url
    }

    fn once() -> Retry {
        Retry {
            attempts: 1,
            base_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
        }
    }

    /// A host one client found down is down for the client it was forked from (and the other
    /// way round): the update's thread and the downloader never both wait on it.
    #[test]
    fn forks_share_the_hosts_found_down() {
        let port = closed_port();
        let url = |f: &str| format!("http://127.0.0.1:{port}/{f}");
        let mut http = Http::new(
            &[&url("a")],
            Duration::from_secs(5),
            Duration::from_secs(30),
            once(),
        );
        let mut fork = http.fork(Arc::new(AtomicBool::new(false)));
        let dir = tempfile::tempdir().unwrap();
        let file = Download::beside(&dir.path().join("moat.db"));
        let first = fork.download("x", &url("a.zip"), None, &file, &mut |_| {});
        assert!(
            matches!(first, Err(FetchError::Request { .. })),
            "{first:?}"
        );
        let second = http.download("x", &url("b.zip"), None, &file, &mut |_| {});
        assert!(
            matches!(second, Err(FetchError::HostDown { .. })),
            "{second:?}"
        );
    }

    /// A fork's download stops when its flag is set (the update returned), and not before.
    #[test]
    fn a_forks_download_stops_when_told() {
        let dir = tempfile::tempdir().unwrap();
        let file = Download::beside(&dir.path().join("moat.db"));
        let url = serve_once(b"hello");
        let http = Http::new(
            &[&url],
            Duration::from_secs(5),
            Duration::from_secs(30),
            once(),
        );
        let stop = Arc::new(AtomicBool::new(false));
        let mut fork = http.fork(stop.clone());
        assert!(matches!(
            fork.download("x", &url, None, &file, &mut |_| {}),
            Ok(Some(_))
        ));
        assert_eq!(std::fs::read(&file.path).unwrap(), b"hello");
        let url = serve_once(b"hello");
        stop.store(true, Ordering::Relaxed);
        let stopped = fork.download("x", &url, None, &file, &mut |_| {});
        assert!(
            matches!(stopped, Err(FetchError::Cancelled { .. })),
            "{stopped:?}"
        );
    }

    #[test]
    fn hosts() {
        assert_eq!(host_of("http://127.0.0.1:8/a/b"), "http://127.0.0.1:8");
        assert!(is_loopback("http://127.0.0.1:8080/x"));
        assert!(is_loopback("http://localhost/x"));
        assert!(!is_loopback(super::super::DEFAULT_BASE_URL));
    }
}

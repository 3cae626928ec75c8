//! `moat watch --listen`: the Kubernetes API server's audit webhook. An HTTP/1.1 server
//! (plain TCP, no TLS: put a TLS-terminating proxy in front of a non-loopback address) that
//! accepts POSTs of audit `EventList` batches, single `Event`s or arrays of them, and hands
//! each request's events to the caller through a bounded channel (a full channel holds the
//! request: back-pressure, not loss). Bodies are bounded (413 over the limit), connections
//! are bounded (503 over the limit), idle connections time out; a body that is not audit
//! events is answered 400 with what is wrong, and none of its events are used.

use crate::json::Doc;
use crate::k8s::{AuditEvent, events_of};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::SyncSender;
use std::thread::JoinHandle;
use std::time::Duration;

/// Limits of the server.
#[derive(Debug, Clone, Copy)]
pub struct ListenOptions {
    /// The largest request body accepted.
    pub max_body: usize,
    /// Connections served at once; more are answered 503 and closed.
    pub max_connections: usize,
    /// A connection idle (or a request arriving) for longer than this is closed.
    pub timeout: Duration,
}

impl Default for ListenOptions {
    fn default() -> Self {
        ListenOptions {
            max_body: 16 << 20,
            max_connections: 64,
            timeout: Duration::from_secs(30),
        }
    }
}

/// The largest request head (request line and headers).
const MAX_HEAD: usize = 64 << 10;

/// Why the server cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error(
        "refusing to listen on {0}: not a loopback address (moat serves plain HTTP; to accept \
         the API server's webhook from elsewhere, put a TLS proxy in front, or pass \
         --listen-allow-remote)"
    )]
    NotLoopback(SocketAddr),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A bound server, not yet accepting.
pub struct Server {
    listener: TcpListener,
    addr: SocketAddr,
    opts: ListenOptions,
}

impl Server {
    /// Binds `addr`; a non-loopback address only when `allow_remote`.
    pub fn bind(
        addr: SocketAddr,
        allow_remote: bool,
        opts: ListenOptions,
    ) -> Result<Server, ListenError> {
        if !addr.ip().is_loopback() && !allow_remote {
            return Err(ListenError::NotLoopback(addr));
        }
        let bind = |source| ListenError::Bind { addr, source };
        let listener = TcpListener::bind(addr).map_err(bind)?;
        let addr = listener.local_addr().map_err(bind)?;
        listener.set_nonblocking(true).map_err(bind)?;
        Ok(Server {
            listener,
            addr,
            opts,
        })
    }

    /// The bound address (the port chosen when 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Accepts connections on a thread until `stop` is set; each request's events go to
    /// `tx` (the call blocks while the channel is full).
    pub fn spawn(self, tx: SyncSender<Vec<AuditEvent>>, stop: Arc<AtomicBool>) -> JoinHandle<()> {
        std::thread::spawn(move || self.accept_loop(&tx, &stop))
    }

    fn accept_loop(self, tx: &SyncSender<Vec<AuditEvent>>, stop: &Arc<AtomicBool>) {
        let active = Arc::new(AtomicUsize::new(0));
        while !stop.load(Ordering::SeqCst) {
            let conn = match self.listener.accept() {
                Ok((c, _)) => c,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
                Err(_) => {
                    // EMFILE and the like: wait, do not spin.
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                }
            };
            let _ = conn.set_nonblocking(false);
            let _ = conn.set_read_timeout(Some(self.opts.timeout));
            let _ = conn.set_write_timeout(Some(self.opts.timeout));
            if active.fetch_add(1, Ordering::SeqCst) >= self.opts.max_connections {
                active.fetch_sub(1, Ordering::SeqCst);
                let mut conn = conn;
                let _ = respond(&mut conn, 503, "too many connections", true);
                continue;
            }
            let (tx, stop, active, opts) =
                (tx.clone(), Arc::clone(stop), Arc::clone(&active), self.opts);
            std::thread::spawn(move || {
                serve(conn, &opts, &tx, &stop);
                active.fetch_sub(1, Ordering::SeqCst);
            });
        }
    }
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        400 => "Bad Request",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

fn respond(conn: &mut TcpStream, code: u16, body: &str, close: bool) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {code} {}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\n{}\r\n",
        reason(code),
        body.len() + 1,
        if close { "connection: close\r\n" } else { "" }
    );
    let mut msg = head.into_bytes();
    msg.extend_from_slice(body.as_bytes());
    msg.push(b'\n');
    conn.write_all(&msg)?;
    conn.flush()
}

/// One parsed request head.
struct Head {
    len: usize,
    method: String,
    content_length: Option<usize>,
    bad_length: bool,
    chunked: bool,
    expect_continue: bool,
    close: bool,
}

fn parse_head(buf: &[u8]) -> Result<Option<Head>, String> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    let len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(format!("malformed HTTP request: {e}")),
    };
    let mut h = Head {
        len,
        method: req.method.unwrap_or("").to_string(),
        content_length: None,
        bad_length: false,
        chunked: false,
        expect_continue: false,
        close: req.version == Some(0),
    };
    for hd in req.headers.iter() {
        let v = String::from_utf8_lossy(hd.value);
        let v = v.trim();
        if hd.name.eq_ignore_ascii_case("content-length") {
            match v.parse::<usize>() {
                Ok(n) if h.content_length.is_none_or(|m| m == n) => h.content_length = Some(n),
                _ => h.bad_length = true,
            }
        } else if hd.name.eq_ignore_ascii_case("transfer-encoding") {
            h.chunked = !v.eq_ignore_ascii_case("identity");
        } else if hd.name.eq_ignore_ascii_case("expect") {
            h.expect_continue = v.eq_ignore_ascii_case("100-continue");
        } else if hd.name.eq_ignore_ascii_case("connection") {
            if v.eq_ignore_ascii_case("close") {
                h.close = true;
            } else if v.eq_ignore_ascii_case("keep-alive") {
                h.close = false;
            }
        }
    }
    Ok(Some(h))
}

/// Serves one connection's requests (keep-alive) until it closes, errs or `stop` is set.
fn serve(
    mut conn: TcpStream,
    opts: &ListenOptions,
    tx: &SyncSender<Vec<AuditEvent>>,
    stop: &AtomicBool,
) {
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 16 << 10];
    loop {
        // The head.
        let head = loop {
            match parse_head(&buf) {
                Ok(Some(h)) => break h,
                Ok(None) if buf.len() > MAX_HEAD => {
                    let _ = respond(&mut conn, 431, "request head larger than 64 KiB", true);
                    return;
                }
                Ok(None) => {}
                Err(msg) => {
                    let _ = respond(&mut conn, 400, &msg, true);
                    return;
                }
            }
            match conn.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        buf.drain(..head.len);
        if head.chunked {
            let _ = respond(
                &mut conn,
                411,
                "chunked request bodies are not supported: send Content-Length",
                true,
            );
            return;
        }
        if head.bad_length {
            let _ = respond(&mut conn, 400, "invalid Content-Length", true);
            return;
        }
        if head.method != "POST" {
            let _ = respond(
                &mut conn,
                405,
                &format!(
                    "method {} not allowed: POST audit events (an EventList or Event)",
                    head.method
                ),
                true,
            );
            return;
        }
        let Some(len) = head.content_length else {
            let _ = respond(&mut conn, 411, "Content-Length required", true);
            return;
        };
        if len > opts.max_body {
            let _ = respond(
                &mut conn,
                413,
                &format!(
                    "request body of {len} bytes is larger than the limit of {} bytes",
                    opts.max_body
                ),
                true,
            );
            return;
        }
        if head.expect_continue
            && buf.len() < len
            && conn.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").is_err()
        {
            return;
        }
        while buf.len() < len {
            match conn.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let rest = buf.split_off(len);
        let body = std::mem::replace(&mut buf, rest);
        let (code, msg) = match parse_body(body) {
            Ok(events) => {
                let n = events.len();
                if tx.send(events).is_err() {
                    (503, "moat is shutting down".to_string())
                } else {
                    (200, format!("ok: {n} events"))
                }
            }
            Err(msg) => (400, msg),
        };
        let close = head.close || code == 503 || stop.load(Ordering::SeqCst);
        if respond(&mut conn, code, &msg, close).is_err() || close {
            return;
        }
    }
}

/// A request body's events: all of them, or what is wrong with the first bad one.
pub fn parse_body(body: Vec<u8>) -> Result<Vec<AuditEvent>, String> {
    let doc = Doc::parse(body).map_err(|e| format!("request body is not JSON: {e}"))?;
    let items = events_of(doc).map_err(|e| format!("request body: {e}"))?;
    let mut out = Vec::with_capacity(items.len());
    for (i, it) in items.into_iter().enumerate() {
        out.push(it.map_err(|e| format!("event {i} of the request body: {e}"))?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::sync::mpsc::{Receiver, sync_channel};

    const EVENT: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete","verb":"get","stageTimestamp":"2024-05-01T10:00:00.123456Z"}"#;

    fn start(
        opts: ListenOptions,
    ) -> (
        SocketAddr,
        Receiver<Vec<AuditEvent>>,
        Arc<AtomicBool>,
        JoinHandle<()>,
    ) {
        let srv = Server::bind("127.0.0.1:0".parse().unwrap(), false, opts).unwrap();
        let addr = srv.local_addr();
        let (tx, rx) = sync_channel(16);
        let stop = Arc::new(AtomicBool::new(false));
        let h = srv.spawn(tx, Arc::clone(&stop));
        (addr, rx, stop, h)
    }

    /// Sends raw requests on one connection and reads `n` responses (status, body).
    fn exchange(addr: SocketAddr, raw: &[u8], n: usize) -> Vec<(u16, String)> {
        let mut c = TcpStream::connect(addr).unwrap();
        c.write_all(raw).unwrap();
        let mut r = BufReader::new(c);
        let mut out = Vec::new();
        for _ in 0..n {
            let mut line = String::new();
            if r.read_line(&mut line).unwrap() == 0 {
                break;
            }
            let code: u16 = line.split(' ').nth(1).unwrap().parse().unwrap();
            let mut len = 0;
            loop {
                let mut h = String::new();
                r.read_line(&mut h).unwrap();
                if h == "\r\n" {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            out.push((code, String::from_utf8(body).unwrap()));
        }
        out
    }

    fn post(body: &str) -> Vec<u8> {
        format!(
            "POST /k8s-audit HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    #[test]
    fn batches_keep_alive_and_errors() {
        let (addr, rx, stop, h) = start(ListenOptions {
            max_body: 4096,
            ..ListenOptions::default()
        });
        let list = format!(r#"{{"kind":"EventList","items":[{EVENT},{EVENT}]}}"#);
        // Two requests on one connection, the second an event alone.
        let mut raw = post(&list);
        raw.extend(post(EVENT));
        let r = exchange(addr, &raw, 2);
        assert_eq!(
            r,
            [
                (200, "ok: 2 events\n".into()),
                (200, "ok: 1 events\n".into())
            ]
        );
        assert_eq!(rx.recv().unwrap().len(), 2);
        assert_eq!(rx.recv().unwrap().len(), 1);

        let r = exchange(addr, &post("{not json"), 1);
        assert_eq!(r[0].0, 400);
        assert!(r[0].1.contains("not JSON"), "{}", r[0].1);
        let r = exchange(addr, &post(r#"{"kind":"Pod"}"#), 1);
        assert_eq!(r[0].0, 400);
        assert!(r[0].1.contains("not recognized"), "{}", r[0].1);
        let bad = format!(r#"{{"kind":"EventList","items":[{EVENT},{{"kind":"Event"}}]}}"#);
        let r = exchange(addr, &post(&bad), 1);
        assert_eq!(r[0].0, 400);
        assert!(r[0].1.contains("event 1"), "{}", r[0].1);
        assert!(rx.try_recv().is_err(), "nothing of a bad batch is used");

        let big = format!("{:5000}", "");
        let r = exchange(addr, &post(&big), 1);
        assert_eq!(r[0].0, 413);
        assert!(r[0].1.contains("limit of 4096 bytes"), "{}", r[0].1);
        let r = exchange(addr, b"GET / HTTP/1.1\r\nhost: x\r\n\r\n", 1);
        assert_eq!(r[0].0, 405);
        let r = exchange(
            addr,
            b"POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n",
            1,
        );
        assert_eq!(r[0].0, 411);
        let r = exchange(addr, b"POST / HTTP/1.1\r\n\r\n", 1);
        assert_eq!(r[0].0, 411);
        let r = exchange(addr, b"\x01\x02 garbage\r\n\r\n", 1);
        assert_eq!(r[0].0, 400);
        // Expect: 100-continue: the head alone, then the body once told to continue.
        let mut c = TcpStream::connect(addr).unwrap();
        write!(
            c,
            "POST / HTTP/1.1\r\nexpect: 100-continue\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
            EVENT.len()
        )
        .unwrap();
        let mut got = [0u8; 25];
        c.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"HTTP/1.1 100 Continue\r\n\r\n");
        c.write_all(EVENT.as_bytes()).unwrap();
        let mut rest = String::new();
        c.read_to_string(&mut rest).unwrap();
        assert!(rest.starts_with("HTTP/1.1 200 OK\r\n"), "{rest}");
        assert!(rest.ends_with("\r\n\r\nok: 1 events\n"), "{rest}");
        assert_eq!(rx.recv().unwrap().len(), 1);

        stop.store(true, Ordering::SeqCst);
        h.join().unwrap();
    }

    #[test]
    fn connections_are_bounded_and_remote_needs_asking() {
        let (addr, _rx, stop, h) = start(ListenOptions {
            max_connections: 1,
            ..ListenOptions::default()
        });
        // The first connection holds the only slot (its request is incomplete).
        let mut first = TcpStream::connect(addr).unwrap();
        // Connections are accepted in order, so it has the slot before the next one comes.
        first.write_all(b"POST / HTTP/1.1\r\n").unwrap();
        let r = exchange(addr, &post(EVENT), 1);
        assert_eq!(r[0].0, 503);
        drop(first);
        stop.store(true, Ordering::SeqCst);
        h.join().unwrap();

        let e = Server::bind(
            "0.0.0.0:0".parse().unwrap(),
            false,
            ListenOptions::default(),
        )
        .err()
        .unwrap();
        assert!(e.to_string().contains("not a loopback address"), "{e}");
    }
}

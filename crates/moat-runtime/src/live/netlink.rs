//! The kernel's process-events connector (`NETLINK_CONNECTOR`, `CN_IDX_PROC`): a netlink
//! socket that, once subscribed with `PROC_CN_MCAST_LISTEN`, receives a message for every
//! fork, exec and exit on the host. Needs `CAP_NET_ADMIN` (root) in the initial user and
//! PID namespaces; elsewhere the kernel refuses the subscription or sends nothing.
//!
//! Messages are `nlmsghdr` + `cn_msg` + `proc_event`, in the host's byte order.

use super::LiveError;
use rustix::net::netlink::{self, SocketAddrNetlink};
use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketType};
use std::os::fd::OwnedFd;
use std::time::Duration;

/// `CN_IDX_PROC` / `CN_VAL_PROC`: the connector's process-events channel.
pub const CN_IDX_PROC: u32 = 1;
pub const CN_VAL_PROC: u32 = 1;
/// `PROC_CN_MCAST_LISTEN`.
pub const MCAST_LISTEN: u32 = 1;
const NLMSG_HDRLEN: usize = 16;
const CN_MSG_LEN: usize = 20;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLMSG_OVERRUN: u16 = 4;
const PROC_EVENT_NONE: u32 = 0x0;
const PROC_EVENT_FORK: u32 = 0x1;
const PROC_EVENT_EXEC: u32 = 0x2;
const PROC_EVENT_EXIT: u32 = 0x8000_0000;

/// One process event, as the kernel reports it (pids in the initial PID namespace).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelEvent {
    /// A new task: `child_pid == child_tgid` for a process, a thread otherwise.
    Fork {
        time_ns: u64,
        parent_tgid: i64,
        child_pid: i64,
        child_tgid: i64,
    },
    Exec {
        time_ns: u64,
        pid: i64,
        tgid: i64,
    },
    /// A task ended: the process when `pid == tgid` (its last thread is the leader).
    Exit {
        time_ns: u64,
        pid: i64,
        tgid: i64,
        exit_code: u32,
    },
    /// The kernel dropped messages (the socket's buffer overflowed).
    Overrun,
    /// The answer to the subscription: 0, or an errno.
    Ack {
        err: u32,
    },
}

/// A message that does not have the connector's shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed process-events message at byte {offset}: {problem}")]
pub struct MalformedMessage {
    pub offset: usize,
    pub problem: &'static str,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Parses one datagram (one or more netlink messages) into the process events it carries;
/// other connector messages (the subscription's acknowledgement, uid/gid/sid/ptrace/comm
/// changes) are skipped. Never panics, whatever the bytes.
pub fn parse(datagram: &[u8], out: &mut Vec<KernelEvent>) -> Result<(), MalformedMessage> {
    let mut off = 0;
    while off < datagram.len() {
        let bad = |problem| MalformedMessage {
            offset: off,
            problem,
        };
        let len = u32_at(datagram, off).ok_or(bad("truncated netlink header"))? as usize;
        let ty = u16_at(datagram, off + 4).ok_or(bad("truncated netlink header"))?;
        if len < NLMSG_HDRLEN || len > datagram.len() - off {
            return Err(bad("netlink length out of bounds"));
        }
        let msg = &datagram[off + NLMSG_HDRLEN..off + len];
        match ty {
            NLMSG_OVERRUN => out.push(KernelEvent::Overrun),
            NLMSG_ERROR => {
                // An error reply (to the subscription): its errno is the first field.
                let errno = u32_at(msg, 0).map_or(0, |e| e as i32);
                if errno != 0 {
                    return Err(bad("the kernel refused the subscription"));
                }
            }
            NLMSG_DONE => parse_cn(msg, out).map_err(bad)?,
            _ => {}
        }
        // Messages are aligned to 4 bytes.
        off += (len + 3) & !3;
    }
    Ok(())
}

fn parse_cn(msg: &[u8], out: &mut Vec<KernelEvent>) -> Result<(), &'static str> {
    let idx = u32_at(msg, 0).ok_or("truncated connector header")?;
    let val = u32_at(msg, 4).ok_or("truncated connector header")?;
    let len = u16_at(msg, 16).ok_or("truncated connector header")? as usize;
    if idx != CN_IDX_PROC || val != CN_VAL_PROC {
        return Ok(());
    }
    let data = msg
        .get(CN_MSG_LEN..CN_MSG_LEN + len)
        .ok_or("connector length out of bounds")?;
    // proc_event: what u32, cpu u32, timestamp_ns u64, then the event's data.
    let what = u32_at(data, 0).ok_or("truncated process event")?;
    let time_ns = u64_at(data, 8).ok_or("truncated process event")?;
    let d = |i: usize| -> Result<i64, &'static str> {
        u32_at(data, 16 + 4 * i)
            .map(|v| i64::from(v as i32))
            .ok_or("truncated process event")
    };
    match what {
        PROC_EVENT_NONE => out.push(KernelEvent::Ack {
            err: u32_at(data, 16).ok_or("truncated process event")?,
        }),
        PROC_EVENT_FORK => out.push(KernelEvent::Fork {
            time_ns,
            parent_tgid: d(1)?,
            child_pid: d(2)?,
            child_tgid: d(3)?,
        }),
        PROC_EVENT_EXEC => out.push(KernelEvent::Exec {
            time_ns,
            pid: d(0)?,
            tgid: d(1)?,
        }),
        PROC_EVENT_EXIT => out.push(KernelEvent::Exit {
            time_ns,
            pid: d(0)?,
            tgid: d(1)?,
            exit_code: u32_at(data, 24).ok_or("truncated process event")?,
        }),
        _ => {}
    }
    Ok(())
}

/// The subscription message: `nlmsghdr` + `cn_msg` + `PROC_CN_MCAST_LISTEN`.
pub fn subscribe_message(port: u32) -> Vec<u8> {
    let mut m = Vec::with_capacity(NLMSG_HDRLEN + CN_MSG_LEN + 4);
    m.extend_from_slice(&((NLMSG_HDRLEN + CN_MSG_LEN + 4) as u32).to_ne_bytes());
    m.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
    m.extend_from_slice(&0u16.to_ne_bytes()); // flags
    m.extend_from_slice(&0u32.to_ne_bytes()); // seq
    m.extend_from_slice(&port.to_ne_bytes());
    m.extend_from_slice(&CN_IDX_PROC.to_ne_bytes());
    m.extend_from_slice(&CN_VAL_PROC.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes()); // seq
    m.extend_from_slice(&0u32.to_ne_bytes()); // ack
    m.extend_from_slice(&4u16.to_ne_bytes()); // len
    m.extend_from_slice(&0u16.to_ne_bytes()); // flags
    m.extend_from_slice(&MCAST_LISTEN.to_ne_bytes());
    m
}

/// A subscribed process-events socket.
pub struct Connector {
    fd: OwnedFd,
    buf: Vec<u8>,
}

impl Connector {
    /// Opens the socket, joins the process-events group and subscribes.
    pub fn open() -> Result<Connector, LiveError> {
        let err = |what: &'static str| {
            move |e: rustix::io::Errno| LiveError::Netlink {
                what,
                source: std::io::Error::from(e),
            }
        };
        let fd = rustix::net::socket(
            AddressFamily::NETLINK,
            SocketType::DGRAM,
            Some(netlink::CONNECTOR),
        )
        .map_err(err("socket"))?;
        rustix::net::bind(&fd, &SocketAddrNetlink::new(0, CN_IDX_PROC)).map_err(err("bind"))?;
        // A larger buffer rides out bursts (fork storms) without overruns; best effort.
        let _ = rustix::net::sockopt::set_socket_recv_buffer_size(&fd, 4 << 20);
        rustix::net::send(
            &fd,
            &subscribe_message(std::process::id()),
            SendFlags::empty(),
        )
        .map_err(err("subscribe"))?;
        let mut c = Connector {
            fd,
            buf: vec![0; 1 << 16],
        };
        // The kernel acknowledges a subscription it accepts; outside the initial user and PID
        // namespaces (in a container) older kernels ignore it silently, and no events come.
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        let mut evs = Vec::new();
        loop {
            let now = std::time::Instant::now();
            if now >= deadline {
                return Err(LiveError::Netlink {
                    what: "subscribe",
                    source: std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "no acknowledgement (not in the host's initial PID and user namespaces?)",
                    ),
                });
            }
            evs.clear();
            c.recv(deadline - now, &mut evs)?;
            for e in &evs {
                if let KernelEvent::Ack { err } = *e {
                    if err != 0 {
                        return Err(LiveError::Netlink {
                            what: "subscribe",
                            source: std::io::Error::from_raw_os_error(err as i32),
                        });
                    }
                    return Ok(c);
                }
            }
        }
    }

    /// Waits up to `timeout` for one datagram and parses it into `out`. Returns false when
    /// the time passed with nothing received.
    pub fn recv(
        &mut self,
        timeout: Duration,
        out: &mut Vec<KernelEvent>,
    ) -> Result<bool, LiveError> {
        let timeout = timeout.max(Duration::from_millis(1));
        rustix::net::sockopt::set_socket_timeout(
            &self.fd,
            rustix::net::sockopt::Timeout::Recv,
            Some(timeout),
        )
        .map_err(|e| LiveError::Netlink {
            what: "set timeout",
            source: e.into(),
        })?;
        match rustix::net::recv(&self.fd, &mut self.buf[..], RecvFlags::empty()) {
            Ok((n, _)) => {
                parse(&self.buf[..n], out).map_err(LiveError::Malformed)?;
                Ok(true)
            }
            Err(e) if e == rustix::io::Errno::AGAIN || e == rustix::io::Errno::INTR => Ok(false),
            Err(e) if e == rustix::io::Errno::NOBUFS => {
                out.push(KernelEvent::Overrun);
                Ok(true)
            }
            Err(e) => Err(LiveError::Netlink {
                what: "recv",
                source: e.into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(what: u32, data: &[u32]) -> Vec<u8> {
        let mut ev = Vec::new();
        ev.extend_from_slice(&what.to_ne_bytes());
        ev.extend_from_slice(&3u32.to_ne_bytes()); // cpu
        ev.extend_from_slice(&123_456_789u64.to_ne_bytes());
        for d in data {
            ev.extend_from_slice(&d.to_ne_bytes());
        }
        let mut m = subscribe_message(0);
        m.truncate(NLMSG_HDRLEN + CN_MSG_LEN);
        m[NLMSG_HDRLEN + 16..NLMSG_HDRLEN + 18].copy_from_slice(&(ev.len() as u16).to_ne_bytes());
        m.extend_from_slice(&ev);
        let len = m.len() as u32;
        m[..4].copy_from_slice(&len.to_ne_bytes());
        m
    }

    #[test]
    fn parses_fork_exec_exit() {
        let mut d = message(PROC_EVENT_FORK, &[10, 10, 11, 11]);
        while !d.len().is_multiple_of(4) {
            d.push(0);
        }
        d.extend(message(PROC_EVENT_EXEC, &[11, 11]));
        d.extend(message(PROC_EVENT_EXIT, &[11, 11, 256, 17, 10, 10]));
        d.extend(message(0, &[0, 0])); // the subscription's acknowledgement
        let mut out = Vec::new();
        parse(&d, &mut out).unwrap();
        assert_eq!(
            out,
            vec![
                KernelEvent::Fork {
                    time_ns: 123_456_789,
                    parent_tgid: 10,
                    child_pid: 11,
                    child_tgid: 11
                },
                KernelEvent::Exec {
                    time_ns: 123_456_789,
                    pid: 11,
                    tgid: 11
                },
                KernelEvent::Exit {
                    time_ns: 123_456_789,
                    pid: 11,
                    tgid: 11,
                    exit_code: 256
                },
                KernelEvent::Ack { err: 0 },
            ]
        );
    }

    #[test]
    fn malformed_messages_are_errors_not_panics() {
        let good = message(PROC_EVENT_EXEC, &[11, 11]);
        let mut out = Vec::new();
        for cut in 0..good.len() {
            let _ = parse(&good[..cut], &mut out);
        }
        let mut long = good.clone();
        long[..4].copy_from_slice(&1000u32.to_ne_bytes());
        assert_eq!(
            parse(&long, &mut out).unwrap_err().problem,
            "netlink length out of bounds"
        );
        let mut short_ev = message(PROC_EVENT_EXEC, &[]);
        assert_eq!(
            parse(&short_ev, &mut out).unwrap_err().problem,
            "truncated process event"
        );
        short_ev[NLMSG_HDRLEN + 16..NLMSG_HDRLEN + 18].copy_from_slice(&500u16.to_ne_bytes());
        assert_eq!(
            parse(&short_ev, &mut out).unwrap_err().problem,
            "connector length out of bounds"
        );
    }
}

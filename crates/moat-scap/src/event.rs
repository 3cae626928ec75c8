//! One syscall event as read from a capture: header fields and its parameters, decoded on
//! demand by the type the event table gives each parameter.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::event_table::{EVENTS, EventInfo, SYSCALL_NAMES};

/// Parameter types of the capture format (`enum ppm_param_type` in falcosecurity/libs
/// `driver/ppm_events_public.h`; the numbers are the format's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    None,
    Int8,
    Int16,
    Int32,
    Int64,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
    Charbuf,
    Bytebuf,
    Errno,
    Sockaddr,
    Socktuple,
    Fd,
    Pid,
    Fdlist,
    Fspath,
    Syscallid,
    Sigtype,
    Reltime,
    Abstime,
    Port,
    L4proto,
    Sockfamily,
    Bool,
    Ipv4addr,
    Dyn,
    Flags8,
    Flags16,
    Flags32,
    Uid,
    Gid,
    Double,
    Sigset,
    Charbufarray,
    CharbufPairArray,
    Ipv4net,
    Ipv6addr,
    Ipv6net,
    Ipaddr,
    Ipnet,
    Mode,
    Fsrelpath,
    Enumflags8,
    Enumflags16,
    Enumflags32,
    Fd32,
    Pid32,
}

impl ParamType {
    /// Signed integer types (the value is sign-extended).
    pub fn is_signed(self) -> bool {
        matches!(
            self,
            ParamType::Int8
                | ParamType::Int16
                | ParamType::Int32
                | ParamType::Int64
                | ParamType::Errno
                | ParamType::Fd
                | ParamType::Pid
                | ParamType::Reltime
                | ParamType::Fd32
                | ParamType::Pid32
        )
    }

    /// Text types (NUL-terminated strings in the capture).
    pub fn is_text(self) -> bool {
        matches!(
            self,
            ParamType::Charbuf | ParamType::Fspath | ParamType::Fsrelpath
        )
    }

    /// Integer types of any width and sign.
    pub fn is_integer(self) -> bool {
        !matches!(
            self,
            ParamType::None
                | ParamType::Charbuf
                | ParamType::Bytebuf
                | ParamType::Sockaddr
                | ParamType::Socktuple
                | ParamType::Fdlist
                | ParamType::Fspath
                | ParamType::Fsrelpath
                | ParamType::Dyn
                | ParamType::Double
                | ParamType::Charbufarray
                | ParamType::CharbufPairArray
                | ParamType::Ipv4addr
                | ParamType::Ipv4net
                | ParamType::Ipv6addr
                | ParamType::Ipv6net
                | ParamType::Ipaddr
                | ParamType::Ipnet
        )
    }
}

/// What a code beyond the table reads as (the reader never returns one; an event built by
/// hand may carry one).
static UNKNOWN_EVENT: EventInfo = EventInfo {
    name: "NA",
    flags: 0,
    params: &[],
    flag_names: &[],
};

/// Event direction: even codes are enter events (`>`), odd codes exit events (`<`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Enter,
    Exit,
}

/// A decoded socket address (`PT_SOCKADDR`) or one side of a tuple.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SockAddr<'a> {
    Inet(IpAddr, u16),
    Unix(&'a [u8]),
    Other(u8),
}

/// A decoded socket tuple (`PT_SOCKTUPLE`): source and destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SockTuple<'a> {
    Inet {
        src: (IpAddr, u16),
        dst: (IpAddr, u16),
    },
    Unix {
        path: &'a [u8],
    },
    Other(u8),
}

/// Address families as the capture encodes them (`PPM_AF_*`).
pub const AF_UNIX: u8 = 1;
pub const AF_INET: u8 = 2;
pub const AF_INET6: u8 = 10;
pub const AF_NETLINK: u8 = 16;

/// One event. Its bytes live in a buffer the reader reuses from event to event.
#[derive(Debug, Default)]
pub struct Event {
    /// Position of the event in the capture, from 1 (`evt.num`).
    pub num: u64,
    /// Nanoseconds since the epoch.
    pub ts: u64,
    /// The thread that made the syscall.
    pub tid: i64,
    /// The CPU that recorded it.
    pub cpu: u16,
    /// Flags of `EVF` blocks (0 in plain event blocks).
    pub flags: u32,
    /// The event code (index of the event table).
    pub code: u16,
    pub(crate) buf: Vec<u8>,
    /// `(start, len)` of each parameter in `buf`.
    pub(crate) params: Vec<(u32, u32)>,
    /// Set by the state: the slot of the event's thread in the thread table.
    pub(crate) thread: Option<u32>,
    /// Set by the state: the slot of the fd the event operates on.
    pub(crate) fd: Option<u32>,
    /// Set by the state: the fd number the event operates on.
    pub(crate) fd_num: Option<i64>,
}

impl Clone for Event {
    fn clone(&self) -> Self {
        let mut e = Event::default();
        e.clone_from(self);
        e
    }

    /// Reuses this event's buffers (the state keeps each thread's last enter event this way).
    fn clone_from(&mut self, src: &Self) {
        self.num = src.num;
        self.ts = src.ts;
        self.tid = src.tid;
        self.cpu = src.cpu;
        self.flags = src.flags;
        self.code = src.code;
        self.buf.clear();
        self.buf.extend_from_slice(&src.buf);
        self.params.clear();
        self.params.extend_from_slice(&src.params);
        self.thread = src.thread;
        self.fd = src.fd;
        self.fd_num = src.fd_num;
    }
}

impl Event {
    /// The event table's entry for this event's code.
    pub fn info(&self) -> &'static EventInfo {
        EVENTS.get(usize::from(self.code)).unwrap_or(&UNKNOWN_EVENT)
    }

    /// The event's name as `evt.type` shows it (`open`, `execve`); for generic `syscall`
    /// events (syscalls without events of their own) the syscall's name (`madvise`).
    pub fn name(&self) -> &'static str {
        if self.code < 2
            && let Some(name) = self
                .uint(0)
                .and_then(|id| SYSCALL_NAMES.get(usize::try_from(id).ok()?))
                .filter(|n| !n.is_empty())
        {
            return name;
        }
        self.info().name
    }

    pub fn direction(&self) -> Direction {
        if self.code & 1 == 0 {
            Direction::Enter
        } else {
            Direction::Exit
        }
    }

    /// Number of parameters present in this event (old captures have fewer than the table).
    pub fn param_count(&self) -> usize {
        self.params.len()
    }

    /// The raw bytes of parameter `i`.
    pub fn raw(&self, i: usize) -> Option<&[u8]> {
        let &(start, len) = self.params.get(i)?;
        self.buf.get(start as usize..start as usize + len as usize)
    }

    /// The table's name and type of parameter `i`.
    pub fn param_info(&self, i: usize) -> Option<(&'static str, ParamType)> {
        self.info().params.get(i).copied()
    }

    /// Index of the parameter named `name`, if this event has it.
    pub fn param_index(&self, name: &str) -> Option<usize> {
        let i = self.info().params.iter().position(|(n, _)| *n == name)?;
        (i < self.params.len()).then_some(i)
    }

    /// Parameter `i` as a signed integer (any integer type; sign-extended where signed).
    pub fn int(&self, i: usize) -> Option<i64> {
        let (_, ty) = self.param_info(i)?;
        decode_int(self.raw(i)?, ty)
    }

    /// Parameter `i` as an unsigned integer (the bits of any integer type).
    pub fn uint(&self, i: usize) -> Option<u64> {
        let (_, ty) = self.param_info(i)?;
        let b = self.raw(i)?;
        if ty.is_signed() {
            return decode_int(b, ty).map(|v| v as u64);
        }
        le_uint(b)
    }

    /// Parameter `i` as text: the bytes before the first NUL.
    pub fn text(&self, i: usize) -> Option<&[u8]> {
        let b = self.raw(i)?;
        Some(until_nul(b))
    }

    /// Named parameter helpers.
    pub fn int_named(&self, name: &str) -> Option<i64> {
        self.int(self.param_index(name)?)
    }
    pub fn uint_named(&self, name: &str) -> Option<u64> {
        self.uint(self.param_index(name)?)
    }
    pub fn text_named(&self, name: &str) -> Option<&[u8]> {
        self.text(self.param_index(name)?)
    }
    pub fn raw_named(&self, name: &str) -> Option<&[u8]> {
        self.raw(self.param_index(name)?)
    }

    /// The return value: the first parameter of an exit event when it is named `res`
    /// (or is the fd / pid a syscall returns).
    pub fn res(&self) -> Option<i64> {
        if self.direction() != Direction::Exit {
            return None;
        }
        let (name, ty) = self.param_info(0)?;
        if name == "res" || (name == "fd" && matches!(ty, ParamType::Fd)) {
            return self.int(0);
        }
        None
    }

    /// Parameter `i` as a socket address.
    pub fn sockaddr(&self, i: usize) -> Option<SockAddr<'_>> {
        decode_sockaddr(self.raw(i)?)
    }

    /// Parameter `i` as a socket tuple.
    pub fn socktuple(&self, i: usize) -> Option<SockTuple<'_>> {
        decode_socktuple(self.raw(i)?)
    }
}

pub(crate) fn until_nul(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(n) => &b[..n],
        None => b,
    }
}

fn le_uint(b: &[u8]) -> Option<u64> {
    Some(match b.len() {
        1 => u64::from(b[0]),
        2 => u64::from(u16::from_le_bytes([b[0], b[1]])),
        4 => u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        8 => u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        _ => return None,
    })
}

fn decode_int(b: &[u8], ty: ParamType) -> Option<i64> {
    let u = le_uint(b)?;
    if !ty.is_signed() {
        return Some(u as i64);
    }
    Some(match b.len() {
        1 => i64::from(u as u8 as i8),
        2 => i64::from(u as u16 as i16),
        4 => i64::from(u as u32 as i32),
        _ => u as i64,
    })
}

fn ipv4(b: &[u8]) -> Option<IpAddr> {
    let a: [u8; 4] = b.get(..4)?.try_into().ok()?;
    Some(IpAddr::V4(Ipv4Addr::from(a)))
}

fn ipv6(b: &[u8]) -> Option<IpAddr> {
    let a: [u8; 16] = b.get(..16)?.try_into().ok()?;
    let v6 = Ipv6Addr::from(a);
    // IPv4-mapped addresses are shown as IPv4, as libsinsp does for mapped tuples.
    Some(match v6.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(v6),
    })
}

fn port(b: &[u8]) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(..2)?.try_into().ok()?))
}

/// `PT_SOCKADDR`: family byte, then for inet the address (network order) and the port (host
/// order, little-endian in these captures); for unix the path.
pub fn decode_sockaddr(b: &[u8]) -> Option<SockAddr<'_>> {
    let (&family, rest) = b.split_first()?;
    Some(match family {
        AF_INET => SockAddr::Inet(ipv4(rest)?, port(rest.get(4..)?)?),
        AF_INET6 => SockAddr::Inet(ipv6(rest)?, port(rest.get(16..)?)?),
        AF_UNIX => SockAddr::Unix(until_nul(rest)),
        other => SockAddr::Other(other),
    })
}

/// `PT_SOCKTUPLE`: family byte; inet: source address and port, destination address and port;
/// unix: two 64-bit kernel pointers and the path.
pub fn decode_socktuple(b: &[u8]) -> Option<SockTuple<'_>> {
    let (&family, rest) = b.split_first()?;
    Some(match family {
        AF_INET => SockTuple::Inet {
            src: (ipv4(rest)?, port(rest.get(4..)?)?),
            dst: (ipv4(rest.get(6..)?)?, port(rest.get(10..)?)?),
        },
        AF_INET6 => SockTuple::Inet {
            src: (ipv6(rest)?, port(rest.get(16..)?)?),
            dst: (ipv6(rest.get(18..)?)?, port(rest.get(34..)?)?),
        },
        AF_UNIX => SockTuple::Unix {
            path: until_nul(rest.get(16..).unwrap_or(&[])),
        },
        other => SockTuple::Other(other),
    })
}

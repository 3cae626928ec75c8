//! Parameters as text (`evt.arg.NAME`, `evt.args`), the way libsinsp shows them for rules:
//! paths and strings as they are, flags as `O_RDONLY|O_CLOEXEC` (names from the event
//! table's flag tables), uids and gids as user and group names when the capture's user list
//! has them, errors as `ENOENT`, addresses as `ip:port` and tuples as `ip:port->ip:port`.

use std::borrow::Cow;

use crate::event::{Event, ParamType, SockAddr, SockTuple};
use crate::state::State;

/// Linux errno names by number (asm-generic/errno-base.h and errno.h, x86-64 numbering).
const ERRNO: &[&str] = &[
    "",
    "EPERM",
    "ENOENT",
    "ESRCH",
    "EINTR",
    "EIO",
    "ENXIO",
    "E2BIG",
    "ENOEXEC",
    "EBADF",
    "ECHILD",
    "EAGAIN",
    "ENOMEM",
    "EACCES",
    "EFAULT",
    "ENOTBLK",
    "EBUSY",
    "EEXIST",
    "EXDEV",
    "ENODEV",
    "ENOTDIR",
    "EISDIR",
    "EINVAL",
    "ENFILE",
    "EMFILE",
    "ENOTTY",
    "ETXTBSY",
    "EFBIG",
    "ENOSPC",
    "ESPIPE",
    "EROFS",
    "EMLINK",
    "EPIPE",
    "EDOM",
    "ERANGE",
    "EDEADLK",
    "ENAMETOOLONG",
    "ENOLCK",
    "ENOSYS",
    "ENOTEMPTY",
    "ELOOP",
    "",
    "ENOMSG",
    "EIDRM",
    "ECHRNG",
    "EL2NSYNC",
    "EL3HLT",
    "EL3RST",
    "ELNRNG",
    "EUNATCH",
    "ENOCSI",
    "EL2HLT",
    "EBADE",
    "EBADR",
    "EXFULL",
    "ENOANO",
    "EBADRQC",
    "EBADSLT",
    "",
    "EBFONT",
    "ENOSTR",
    "ENODATA",
    "ETIME",
    "ENOSR",
    "ENONET",
    "ENOPKG",
    "EREMOTE",
    "ENOLINK",
    "EADV",
    "ESRMNT",
    "ECOMM",
    "EPROTO",
    "EMULTIHOP",
    "EDOTDOT",
    "EBADMSG",
    "EOVERFLOW",
    "ENOTUNIQ",
    "EBADFD",
    "EREMCHG",
    "ELIBACC",
    "ELIBBAD",
    "ELIBSCN",
    "ELIBMAX",
    "ELIBEXEC",
    "EILSEQ",
    "ERESTART",
    "ESTRPIPE",
    "EUSERS",
    "ENOTSOCK",
    "EDESTADDRREQ",
    "EMSGSIZE",
    "EPROTOTYPE",
    "ENOPROTOOPT",
    "EPROTONOSUPPORT",
    "ESOCKTNOSUPPORT",
    "EOPNOTSUPP",
    "EPFNOSUPPORT",
    "EAFNOSUPPORT",
    "EADDRINUSE",
    "EADDRNOTAVAIL",
    "ENETDOWN",
    "ENETUNREACH",
    "ENETRESET",
    "ECONNABORTED",
    "ECONNRESET",
    "ENOBUFS",
    "EISCONN",
    "ENOTCONN",
    "ESHUTDOWN",
    "ETOOMANYREFS",
    "ETIMEDOUT",
    "ECONNREFUSED",
    "EHOSTDOWN",
    "EHOSTUNREACH",
    "EALREADY",
    "EINPROGRESS",
    "ESTALE",
    "EUCLEAN",
    "ENOTNAM",
    "ENAVAIL",
    "EISNAM",
    "EREMOTEIO",
    "EDQUOT",
    "ENOMEDIUM",
    "EMEDIUMTYPE",
    "ECANCELED",
    "ENOKEY",
    "EKEYEXPIRED",
    "EKEYREVOKED",
    "EKEYREJECTED",
    "EOWNERDEAD",
    "ENOTRECOVERABLE",
    "ERFKILL",
    "EHWPOISON",
];

/// The name of a negative return value (`-2` is `ENOENT`).
pub fn errno_name(res: i64) -> Option<&'static str> {
    let n = usize::try_from(res.checked_neg()?).ok()?;
    ERRNO.get(n).copied().filter(|s| !s.is_empty())
}

/// Linux capability names by bit (linux/capability.h).
const CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// A capability set as libsinsp shows it: names separated by spaces.
pub fn caps(set: u64) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, name) in CAPS.iter().enumerate() {
        if set & (1 << i) != 0 {
            if !out.is_empty() {
                out.push(b' ');
            }
            out.extend_from_slice(name.as_bytes());
        }
    }
    out
}

fn flags_text(table: &[(&str, u32)], val: u32, enumerated: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut push = |n: &str| {
        if !out.is_empty() {
            out.push(b'|');
        }
        out.extend_from_slice(n.as_bytes());
    };
    if enumerated {
        if let Some((n, _)) = table.iter().find(|(_, v)| *v == val) {
            push(n);
        }
        return out;
    }
    let mut rest = val;
    for &(n, v) in table {
        let hit = if v == 0 { val == 0 } else { rest & v == v };
        if hit {
            push(n);
            rest &= !v;
        }
    }
    out
}

/// Parameter `i` of `ev` as text.
pub fn param_text<'e>(state: &'e State, ev: &'e Event, i: usize) -> Option<Cow<'e, [u8]>> {
    let (_, ty) = ev.param_info(i)?;
    let raw = ev.raw(i)?;
    let owned = |s: String| Some(Cow::Owned(s.into_bytes()));
    match ty {
        t if t.is_text() => Some(Cow::Borrowed(ev.text(i)?)),
        ParamType::Bytebuf | ParamType::Charbufarray | ParamType::CharbufPairArray => {
            Some(Cow::Borrowed(raw))
        }
        ParamType::Flags8
        | ParamType::Flags16
        | ParamType::Flags32
        | ParamType::Enumflags8
        | ParamType::Enumflags16
        | ParamType::Enumflags32
        | ParamType::Mode => {
            let v = ev.uint(i)? as u32;
            let table = ev.info().flag_names.get(i).copied().flatten();
            let enumerated = matches!(
                ty,
                ParamType::Enumflags8 | ParamType::Enumflags16 | ParamType::Enumflags32
            );
            match table {
                Some(t) => {
                    let names = flags_text(t, v, enumerated);
                    if names.is_empty() {
                        owned(v.to_string())
                    } else {
                        Some(Cow::Owned(names))
                    }
                }
                None => owned(v.to_string()),
            }
        }
        ParamType::Uid => {
            let v = ev.uint(i)? as u32;
            match state.user_name(v) {
                Some(n) if !n.is_empty() => Some(Cow::Borrowed(n)),
                _ => owned(v.to_string()),
            }
        }
        ParamType::Gid => {
            let v = ev.uint(i)? as u32;
            match state.group_name(v) {
                Some(n) if !n.is_empty() => Some(Cow::Borrowed(n)),
                _ => owned(v.to_string()),
            }
        }
        ParamType::Errno => {
            let v = ev.int(i)?;
            match errno_name(v) {
                Some(n) if v < 0 => Some(Cow::Borrowed(n.as_bytes())),
                _ => owned(v.to_string()),
            }
        }
        ParamType::Sockaddr => match ev.sockaddr(i)? {
            SockAddr::Inet(ip, p) => owned(format!("{ip}:{p}")),
            SockAddr::Unix(path) => Some(Cow::Borrowed(path)),
            SockAddr::Other(f) => owned(format!("family {f}")),
        },
        ParamType::Socktuple => match ev.socktuple(i)? {
            SockTuple::Inet { src, dst } => {
                owned(format!("{}:{}->{}:{}", src.0, src.1, dst.0, dst.1))
            }
            SockTuple::Unix { path } => Some(Cow::Borrowed(path)),
            SockTuple::Other(f) => owned(format!("family {f}")),
        },
        ParamType::Ipv4addr => {
            let a: [u8; 4] = raw.get(..4)?.try_into().ok()?;
            owned(std::net::Ipv4Addr::from(a).to_string())
        }
        t if t.is_integer() => {
            if t.is_signed() {
                owned(ev.int(i)?.to_string())
            } else {
                owned(ev.uint(i)?.to_string())
            }
        }
        _ => Some(Cow::Borrowed(raw)),
    }
}

/// `evt.args`: every parameter as `name=value`, separated by spaces.
pub fn args_line(state: &State, ev: &Event) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..ev.param_count() {
        let Some((name, _)) = ev.param_info(i) else {
            break;
        };
        if !out.is_empty() {
            out.push(b' ');
        }
        out.extend_from_slice(name.as_bytes());
        out.push(b'=');
        if let Some(v) = param_text(state, ev, i) {
            out.extend(v.iter().map(|&c| if c == 0 { b'.' } else { c }));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_and_caps() {
        assert_eq!(errno_name(-2), Some("ENOENT"));
        assert_eq!(errno_name(-115), Some("EINPROGRESS"));
        assert_eq!(errno_name(0), None);
        assert_eq!(caps((1 << 21) | 1), b"CAP_CHOWN CAP_SYS_ADMIN");
    }

    #[test]
    fn flags_render_like_libsinsp() {
        let t = &[
            ("O_RDWR", 3),
            ("O_WRONLY", 2),
            ("O_RDONLY", 1),
            ("O_CREAT", 4),
            ("O_TRUNC", 256),
        ];
        assert_eq!(flags_text(t, 1, false), b"O_RDONLY");
        assert_eq!(flags_text(t, 3 | 4, false), b"O_RDWR|O_CREAT");
        assert_eq!(flags_text(t, 2 | 256, false), b"O_WRONLY|O_TRUNC");
        assert_eq!(flags_text(&[("A", 0), ("B", 1)], 0, true), b"A");
    }
}

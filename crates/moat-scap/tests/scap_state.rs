//! The thread and fd state over a synthetic capture written here (current event versions,
//! V2 event blocks): clone, execve, openat relative to the cwd, dup2, close (the closing
//! event still sees the fd, the next does not), socket + connect, procexit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_runtime::field::{FieldArg, FieldSource, Value};
use moat_scap::event_table::{EF_OLD_VERSION, EVENTS};
use moat_scap::{Event, ParamType, State};

enum P<'a> {
    I(i64),
    S(&'a str),
    B(&'a [u8]),
}

fn width(t: ParamType) -> usize {
    use ParamType as T;
    match t {
        T::Int8
        | T::Uint8
        | T::Flags8
        | T::Enumflags8
        | T::Sigtype
        | T::L4proto
        | T::Sockfamily => 1,
        T::Int16 | T::Uint16 | T::Flags16 | T::Enumflags16 | T::Port | T::Syscallid => 2,
        T::Int32
        | T::Uint32
        | T::Flags32
        | T::Enumflags32
        | T::Uid
        | T::Gid
        | T::Mode
        | T::Bool
        | T::Ipv4addr
        | T::Sigset
        | T::Fd32
        | T::Pid32 => 4,
        _ => 8,
    }
}

/// The newest code named `name` in this direction (current drivers mark every enter event
/// old: exit events carry the arguments; enter events are still read from older captures).
fn code(name: &str, exit: bool) -> u16 {
    let named = |c: &usize| EVENTS[*c].name == name && (c % 2 == 1) == exit;
    let current = (0..EVENTS.len())
        .rev()
        .filter(named)
        .find(|&c| EVENTS[c].flags & EF_OLD_VERSION == 0);
    current
        .or_else(|| (0..EVENTS.len()).rev().find(named))
        .unwrap_or_else(|| panic!("no event {name}")) as u16
}

struct Cap {
    bytes: Vec<u8>,
    ts: u64,
}

impl Cap {
    fn new() -> Cap {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&0x0A0D_0D0Au32.to_le_bytes());
        bytes.extend_from_slice(&28u32.to_le_bytes());
        bytes.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes());
        bytes.extend_from_slice(&[1, 0, 2, 0]);
        bytes.extend_from_slice(&u64::MAX.to_le_bytes());
        bytes.extend_from_slice(&28u32.to_le_bytes());
        Cap {
            bytes,
            ts: 1_700_000_000_000_000_000,
        }
    }

    /// An event with the named parameters given (the others empty).
    fn ev(&mut self, tid: i64, name: &str, exit: bool, params: &[(&str, P)]) {
        let c = code(name, exit);
        let info = &EVENTS[usize::from(c)];
        let mut lens = Vec::new();
        let mut data = Vec::new();
        for (pname, ty) in info.params {
            let start = data.len();
            if let Some((_, v)) = params.iter().find(|(n, _)| n == pname) {
                match v {
                    P::I(i) => data.extend_from_slice(&i.to_le_bytes()[..width(*ty)]),
                    P::S(s) => {
                        data.extend_from_slice(s.as_bytes());
                        data.push(0);
                    }
                    P::B(b) => data.extend_from_slice(b),
                }
            }
            lens.push((data.len() - start) as u16);
        }
        for (n, _) in params {
            assert!(
                info.params.iter().any(|(p, _)| p == n),
                "{name} has no parameter {n}"
            );
        }
        let evlen = 26 + 2 * lens.len() + data.len();
        let body = 2 + evlen;
        let pad = (4 - body % 4) % 4;
        let total = (8 + body + pad + 4) as u32;
        self.ts += 1000;
        let b = &mut self.bytes;
        b.extend_from_slice(&0x216u32.to_le_bytes());
        b.extend_from_slice(&total.to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&self.ts.to_le_bytes());
        b.extend_from_slice(&tid.to_le_bytes());
        b.extend_from_slice(&(evlen as u32).to_le_bytes());
        b.extend_from_slice(&c.to_le_bytes());
        b.extend_from_slice(&(lens.len() as u32).to_le_bytes());
        for l in &lens {
            b.extend_from_slice(&l.to_le_bytes());
        }
        b.extend_from_slice(&data);
        b.extend(std::iter::repeat_n(0, pad));
        b.extend_from_slice(&total.to_le_bytes());
    }
}

fn tuple(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16) -> Vec<u8> {
    let mut v = vec![2];
    v.extend_from_slice(&src);
    v.extend_from_slice(&sport.to_le_bytes());
    v.extend_from_slice(&dst);
    v.extend_from_slice(&dport.to_le_bytes());
    v
}

fn get(st: &State, ev: &Event, name: &str) -> Vec<String> {
    let (name, arg) = match name.split_once('[') {
        Some((n, a)) => (n, FieldArg::Index(a.trim_end_matches(']').parse().unwrap())),
        None => (name, FieldArg::None),
    };
    let f = st.resolve(name, &arg).unwrap().0;
    let mut out = Vec::new();
    st.extract(ev, &f, &mut out);
    out.iter()
        .map(|v| match v {
            Value::Str(s) | Value::Bytes(s) => String::from_utf8_lossy(s).into_owned(),
            Value::Uint(n) => n.to_string(),
            Value::Int(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Ip(ip) => ip.to_string(),
        })
        .collect()
}

const ID: &str = "3ad7b26ded6d8e7b23da7d48fe889434573036c27ae5a74837233de441c3601e";

#[test]
fn state_follows_clone_exec_open_dup_close_connect_exit() {
    let mut c = Cap::new();
    let cg = format!("cpu=/docker/{ID}\0memory=/docker/{ID}\0");
    // 1, 2: bash (100) forks 101.
    c.ev(100, "clone", false, &[]);
    c.ev(
        100,
        "clone",
        true,
        &[
            ("res", P::I(101)),
            ("exe", P::S("/bin/bash")),
            ("args", P::B(b"-c\0ls -la\0")),
            ("tid", P::I(100)),
            ("pid", P::I(100)),
            ("ptid", P::I(1)),
            ("cwd", P::S("/home/u")),
            ("comm", P::S("bash")),
            ("flags", P::I(0)),
            ("uid", P::I(1000)),
            ("gid", P::I(1000)),
        ],
    );
    // 3, 4: 101 runs ls in a container.
    c.ev(101, "execve", false, &[("filename", P::S("/usr/bin/ls"))]);
    c.ev(
        101,
        "execve",
        true,
        &[
            ("res", P::I(0)),
            ("exe", P::S("ls")),
            ("args", P::B(b"-la\0")),
            ("tid", P::I(101)),
            ("pid", P::I(101)),
            ("ptid", P::I(100)),
            ("cwd", P::S("/home/u")),
            ("comm", P::S("ls")),
            ("cgroups", P::B(cg.as_bytes())),
            ("loginuid", P::I(1000)),
            ("uid", P::I(1000)),
            ("gid", P::I(1000)),
            ("trusted_exepath", P::S("/usr/bin/ls")),
        ],
    );
    // 5, 6: openat(AT_FDCWD, "notes/../notes.txt", O_RDONLY) = 3
    c.ev(
        101,
        "openat",
        false,
        &[
            ("dirfd", P::I(-100)),
            ("name", P::S("notes/../notes.txt")),
            ("flags", P::I(1)),
        ],
    );
    c.ev(
        101,
        "openat",
        true,
        &[
            ("fd", P::I(3)),
            ("dirfd", P::I(-100)),
            ("name", P::S("notes/../notes.txt")),
            ("flags", P::I(1)),
        ],
    );
    // 7, 8: dup2(3, 5) = 5
    c.ev(101, "dup2", false, &[("fd", P::I(3))]);
    c.ev(
        101,
        "dup2",
        true,
        &[("res", P::I(5)), ("oldfd", P::I(3)), ("newfd", P::I(5))],
    );
    // 9, 10: close(3) = 0; 11: read(3) after it
    c.ev(101, "close", false, &[("fd", P::I(3))]);
    c.ev(101, "close", true, &[("res", P::I(0))]);
    c.ev(101, "read", false, &[("fd", P::I(3)), ("size", P::I(10))]);
    // 12: read(5): the dup still names the file
    c.ev(101, "read", false, &[("fd", P::I(5)), ("size", P::I(10))]);
    // 13, 14: socket(AF_INET, SOCK_STREAM, 0) = 4; 15, 16: connect(4, 93.184.216.34:443)
    c.ev(
        101,
        "socket",
        false,
        &[("domain", P::I(2)), ("type", P::I(1)), ("proto", P::I(0))],
    );
    c.ev(101, "socket", true, &[("fd", P::I(4))]);
    c.ev(101, "connect", false, &[("fd", P::I(4))]);
    let t = tuple([10, 0, 0, 5], 40000, [93, 184, 216, 34], 443);
    c.ev(
        101,
        "connect",
        true,
        &[("res", P::I(0)), ("tuple", P::B(&t)), ("fd", P::I(4))],
    );
    // 17: ls exits; 18: an event of 101 after that
    c.ev(101, "procexit", false, &[("status", P::I(0))]);
    c.ev(101, "read", false, &[("fd", P::I(5)), ("size", P::I(10))]);

    let mut r = moat_scap::from_bytes(&c.bytes, "synthetic.scap").unwrap();
    let mut st = State::new(r.metadata());
    let mut ev = Event::default();
    let mut seen = 0;
    while r.next_event(&mut ev).unwrap() {
        st.process(&mut ev);
        seen += 1;
        let g = |n: &str| get(&st, &ev, n);
        match ev.num {
            2 => {
                assert_eq!(g("evt.type"), ["clone"]);
                assert_eq!(g("evt.rawres"), ["101"]);
                let child = st.thread(101).unwrap();
                assert_eq!((child.pid, child.ptid), (101, 100));
                assert_eq!(child.comm, b"bash");
            }
            3 => {
                assert_eq!(g("proc.name"), ["bash"]);
                assert_eq!(g("proc.pid"), ["101"]);
                assert_eq!(g("evt.arg.filename"), ["/usr/bin/ls"]);
                assert_eq!(g("container.id"), ["host"]);
            }
            4 => {
                assert_eq!(g("proc.name"), ["ls"]);
                assert_eq!(g("proc.cmdline"), ["ls -la"]);
                assert_eq!(g("proc.exepath"), ["/usr/bin/ls"]);
                assert_eq!(g("proc.pname"), ["bash"]);
                assert_eq!(g("proc.pcmdline"), ["bash -c ls -la"]);
                assert_eq!(g("proc.ppid"), ["100"]);
                assert_eq!(g("container.id"), [&ID[..12]]);
                assert_eq!(g("user.uid"), ["1000"]);
                assert_eq!(g("user.loginuid"), ["1000"]);
            }
            5 => {
                assert_eq!(
                    g("evt.is_open_read"),
                    ["false"],
                    "enter events are not opens"
                );
                assert!(g("fd.name").is_empty());
            }
            6 => {
                assert_eq!(g("fd.name"), ["/home/u/notes.txt"]);
                assert_eq!(g("fd.directory"), ["/home/u"]);
                assert_eq!(g("fd.filename"), ["notes.txt"]);
                assert_eq!(g("fd.num"), ["3"]);
                assert_eq!(g("evt.is_open_read"), ["true"]);
                assert_eq!(g("evt.is_open_write"), ["false"]);
                assert_eq!(g("evt.arg.flags"), ["O_RDONLY"]);
                assert_eq!(g("evt.rawarg.flags"), ["1"]);
                assert_eq!(g("evt.arg.dirfd"), ["-100"]);
            }
            8 => {
                assert_eq!(g("fd.num"), ["5"]);
                assert_eq!(g("fd.name"), ["/home/u/notes.txt"]);
            }
            9 | 10 => assert_eq!(g("fd.name"), ["/home/u/notes.txt"], "event {}", ev.num),
            11 => {
                assert!(g("fd.name").is_empty(), "fd 3 is closed");
                assert_eq!(g("fd.num"), ["3"]);
            }
            12 => assert_eq!(g("fd.name"), ["/home/u/notes.txt"]),
            14 => {
                assert_eq!(g("fd.typechar"), ["4"]);
                assert_eq!(g("fd.l4proto"), ["tcp"]);
            }
            16 => {
                assert_eq!(g("fd.name"), ["10.0.0.5:40000->93.184.216.34:443"]);
                assert_eq!(g("fd.sip"), ["93.184.216.34"]);
                assert_eq!(g("fd.rip"), ["93.184.216.34"]);
                assert_eq!(g("fd.cip"), ["10.0.0.5"]);
                assert_eq!(g("fd.lport"), ["40000"]);
                assert_eq!(g("fd.sport"), ["443"]);
                assert_eq!(g("fd.connected"), ["true"]);
                assert_eq!(g("fd.sockfamily"), ["ip"]);
                assert_eq!(g("evt.arg.tuple"), ["10.0.0.5:40000->93.184.216.34:443"]);
                assert_eq!(g("fd.ip"), ["10.0.0.5", "93.184.216.34"]);
            }
            17 => {
                assert_eq!(g("evt.type"), ["procexit"]);
                assert_eq!(
                    g("proc.name"),
                    ["ls"],
                    "the exiting event still sees its process"
                );
            }
            18 => {
                assert!(g("proc.name").is_empty(), "101 is gone");
                assert!(g("fd.name").is_empty(), "and its fds with it");
            }
            _ => {}
        }
    }
    assert_eq!(seen, 18);
    assert_eq!(st.dropped, 0);
}

#[test]
fn threads_share_their_process_fds_and_forks_copy_them() {
    const CLONE_THREAD: i64 = 1 << 13;
    let mut c = Cap::new();
    // 200 opens /etc/passwd as fd 7, then starts thread 201 and forks process 202.
    c.ev(
        200,
        "open",
        true,
        &[
            ("fd", P::I(7)),
            ("name", P::S("/etc/passwd")),
            ("flags", P::I(1)),
        ],
    );
    let clone = |c: &mut Cap, res: i64, flags: i64| {
        c.ev(
            200,
            "clone",
            true,
            &[
                ("res", P::I(res)),
                ("exe", P::S("/usr/bin/python3")),
                ("tid", P::I(200)),
                ("pid", P::I(200)),
                ("ptid", P::I(1)),
                ("comm", P::S("python3")),
                ("flags", P::I(flags)),
            ],
        )
    };
    clone(&mut c, 201, CLONE_THREAD);
    clone(&mut c, 202, 0);
    c.ev(201, "read", false, &[("fd", P::I(7))]);
    c.ev(202, "read", false, &[("fd", P::I(7))]);
    // 202 closes its copy; 200's stays.
    c.ev(202, "close", false, &[("fd", P::I(7))]);
    c.ev(202, "close", true, &[("res", P::I(0))]);
    c.ev(200, "read", false, &[("fd", P::I(7))]);
    c.ev(202, "read", false, &[("fd", P::I(7))]);

    let mut r = moat_scap::from_bytes(&c.bytes, "synthetic.scap").unwrap();
    let mut st = State::new(r.metadata());
    let mut ev = Event::default();
    let mut names = Vec::new();
    while r.next_event(&mut ev).unwrap() {
        st.process(&mut ev);
        if ev.name() == "read" {
            names.push((ev.tid, get(&st, &ev, "fd.name"), get(&st, &ev, "proc.pid")));
        }
    }
    let passwd = || vec!["/etc/passwd".to_string()];
    assert_eq!(
        names,
        vec![
            (201, passwd(), vec!["200".to_string()]),
            (202, passwd(), vec!["202".to_string()]),
            (200, passwd(), vec!["200".to_string()]),
            (202, vec![], vec!["202".to_string()]),
        ]
    );
    let t = st.thread(201).unwrap();
    assert_eq!(
        (t.pid, t.ptid),
        (200, 1),
        "a thread's parent is its process's parent"
    );
}

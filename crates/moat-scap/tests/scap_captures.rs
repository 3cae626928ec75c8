//! The six Falco test captures (`../shared/corpus/falco/falcosecurity-falco-legacy-tests/
//! test/trace_files/*.scap`): each reads to its end with the event count a second, independent
//! walk of the block stream finds; the process table of one; field values on chosen events;
//! and the counts Falco's legacy tests expect of simple rules, evaluated here by hand over the
//! fields.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::borrow::Cow;
use std::io::Read;
use std::path::PathBuf;

use moat_runtime::field::{FieldArg, FieldSource, FieldType, Value};
use moat_scap::{Event, State};

const TRACES: &str = "corpus/falco/falcosecurity-falco-legacy-tests/test/trace_files";

fn shared_or_skip(rel: &str) -> Option<PathBuf> {
    let p = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/")).join(rel);
    if p.exists() {
        return Some(p);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{} is missing (CI=true)", p.display());
    }
    eprintln!("skipped: {} not found", p.display());
    None
}

fn trace(name: &str) -> Option<PathBuf> {
    shared_or_skip(&format!("{TRACES}/{name}"))
}

fn gunzip(path: &std::path::Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Counts event blocks by walking block headers only (type, length), independently of the
/// reader: the second way of counting.
fn count_event_blocks(bytes: &[u8]) -> u64 {
    let mut off = 0;
    let mut n = 0;
    while off + 8 <= bytes.len() {
        let ty = u32::from_le_bytes(bytes[off..off + 4].try_into().unwrap());
        let len = u32::from_le_bytes(bytes[off + 4..off + 8].try_into().unwrap()) as usize;
        if matches!(
            ty,
            0x204 | 0x208 | 0x216 | 0x217 | 0x221 | 0x222 | 0x8010_ABCD
        ) {
            n += 1;
        }
        assert!(len >= 12);
        off += len;
    }
    assert_eq!(off, bytes.len());
    n
}

/// Runs a capture through the reader and state, calling `f` on every event.
fn replay(path: &std::path::Path, mut f: impl FnMut(&State, &Event)) -> u64 {
    let mut r = moat_scap::open(path).unwrap();
    let mut st = State::new(r.metadata());
    let mut ev = Event::default();
    while r.next_event(&mut ev).unwrap() {
        st.process(&mut ev);
        f(&st, &ev);
    }
    r.events_read()
}

fn field(st: &State, name: &str) -> moat_scap::Field {
    let (name, arg) = match name.split_once('[') {
        Some((n, a)) => {
            let a = a.trim_end_matches(']');
            (
                n,
                a.parse::<u64>()
                    .map(FieldArg::Index)
                    .unwrap_or_else(|_| FieldArg::Key(a.to_string())),
            )
        }
        None => (name, FieldArg::None),
    };
    st.resolve(name, &arg).unwrap().0
}

/// The values of a field on an event, as strings.
fn get(st: &State, ev: &Event, name: &str) -> Vec<String> {
    let f = field(st, name);
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

fn one(st: &State, ev: &Event, name: &str) -> String {
    let v = get(st, ev, name);
    assert_eq!(
        v.len(),
        1,
        "{name} on event {} ({}): {v:?}",
        ev.num,
        ev.name()
    );
    v.into_iter().next().unwrap()
}

#[test]
fn every_capture_reads_to_the_end_with_its_event_count() {
    let expected = [
        ("cat_write.scap", 345),
        ("connect_localhost.scap", 374),
        ("empty.scap", 143),
        ("open-multiple-files.scap", 1272),
        ("ping_sendto.scap", 1526),
        ("syscall.scap", 368),
    ];
    for (name, count) in expected {
        let Some(p) = trace(name) else { return };
        let independent = count_event_blocks(&gunzip(&p));
        assert_eq!(independent, count, "{name}: block walk");
        let mut last = 0;
        let n = replay(&p, |_, ev| {
            assert_eq!(ev.num, last + 1);
            last = ev.num;
        });
        assert_eq!(n, count, "{name}: reader");
    }
}

#[test]
fn the_process_table_of_cat_write() {
    let Some(p) = trace("cat_write.scap") else {
        return;
    };
    let r = moat_scap::open(&p).unwrap();
    let m = r.metadata();
    assert_eq!(m.header.major, 1);
    assert_eq!(m.machine.as_ref().unwrap().hostname, b"ubuntu");
    assert_eq!(m.machine.as_ref().unwrap().num_cpus, 2);
    assert_eq!(
        (
            m.procs.len(),
            m.fds.len(),
            m.users.len(),
            m.groups.len(),
            m.interfaces.len()
        ),
        (73, 384, 32, 61, 5)
    );
    let init = m.procs.iter().find(|p| p.tid == 1).unwrap();
    assert_eq!(
        (init.comm.as_slice(), init.exe.as_slice(), init.ptid),
        (&b"systemd"[..], &b"/sbin/init"[..], 0)
    );
    let bash = m.procs.iter().find(|p| p.tid == 11310).unwrap();
    assert_eq!(bash.comm, b"bash");
    assert_eq!(bash.args, b"--noediting\0-i\0");
    assert_eq!((bash.pid, bash.ptid, bash.uid), (11310, 1077, 1000));
    let sysdig = m.procs.iter().find(|p| p.tid == 20070).unwrap();
    assert_eq!(sysdig.args, b"-zw\0cat_write.scap\0proc.name=cat\0");
    assert_eq!(
        m.users.iter().find(|u| u.uid == 1000).unwrap().name,
        b"mstemm"
    );
    let lo: Vec<String> = m
        .interfaces
        .iter()
        .map(|i| format!("{} {}", String::from_utf8_lossy(&i.name), i.addr))
        .collect();
    assert!(
        lo.contains(&"lo 127.0.0.1".to_string()) && lo.contains(&"docker0 172.17.0.1".to_string()),
        "{lo:?}"
    );

    let st = State::new(m);
    let t = st.thread(11310).unwrap();
    assert_eq!(st.parent(t).unwrap().tid, 1077);
    assert!(st.threads().count() >= 73);
}

#[test]
fn fields_of_the_cat_exec_in_cat_write() {
    let Some(p) = trace("cat_write.scap") else {
        return;
    };
    let mut seen_exec = false;
    let mut reads = 0;
    replay(&p, |st, ev| {
        if ev.name() == "execve" && ev.num == 131 {
            seen_exec = true;
            assert_eq!(one(st, ev, "evt.type"), "execve");
            assert_eq!(one(st, ev, "evt.dir"), "<");
            assert_eq!(one(st, ev, "evt.res"), "SUCCESS");
            assert_eq!(one(st, ev, "evt.rawres"), "0");
            assert_eq!(one(st, ev, "proc.name"), "cat");
            assert_eq!(one(st, ev, "proc.exe"), "cat");
            assert_eq!(one(st, ev, "proc.cmdline"), "cat /dev/null");
            assert_eq!(one(st, ev, "proc.args"), "/dev/null");
            assert_eq!(one(st, ev, "proc.pid"), "20072");
            assert_eq!(one(st, ev, "proc.ppid"), "11310");
            assert_eq!(one(st, ev, "proc.pname"), "bash");
            assert_eq!(one(st, ev, "proc.pcmdline"), "bash --noediting -i");
            assert_eq!(one(st, ev, "proc.aname[0]"), "cat");
            assert_eq!(one(st, ev, "proc.aname[1]"), "bash");
            assert_eq!(get(st, ev, "proc.aname")[0], "bash");
            assert_eq!(
                one(st, ev, "proc.cwd"),
                "/mnt/sf_mstemm/work/src/agent/build/release/userspace/dragent"
            );
            assert_eq!(one(st, ev, "user.name"), "mstemm");
            assert_eq!(one(st, ev, "user.uid"), "1000");
            assert_eq!(one(st, ev, "container.id"), "host");
            assert_eq!(one(st, ev, "evt.arg.exe"), "cat");
            assert_eq!(one(st, ev, "evt.arg[0]"), "0");
            assert!(get(st, ev, "container.image.repository").is_empty());
            assert!(get(st, ev, "fd.name").is_empty());
        }
        if ev.name() == "read" && ev.tid == 20072 && get(st, ev, "fd.name") == ["/dev/null"] {
            reads += 1;
            assert_eq!(one(st, ev, "fd.typechar"), "f");
            assert_eq!(one(st, ev, "fd.type"), "file");
            assert_eq!(one(st, ev, "fd.directory"), "/dev");
            assert_eq!(one(st, ev, "fd.filename"), "null");
            assert_eq!(one(st, ev, "fd.num"), "3");
            assert_eq!(one(st, ev, "proc.name"), "cat");
        }
        if ev.name() == "open" && ev.num == 197 {
            assert_eq!(one(st, ev, "fd.name"), "/dev/null");
            assert_eq!(one(st, ev, "evt.arg.flags"), "O_RDONLY");
            assert_eq!(one(st, ev, "evt.is_open_read"), "true");
            assert_eq!(one(st, ev, "evt.is_open_write"), "false");
            assert_eq!(
                one(st, ev, "evt.args"),
                "fd=3 name=/dev/null flags=O_RDONLY mode=0"
            );
        }
        if ev.name() == "access"
            && ev.direction() == moat_scap::Direction::Exit
            && ev.tid == 20072
            && ev.num == 135
        {
            assert_eq!(one(st, ev, "evt.res"), "ENOENT");
            assert_eq!(one(st, ev, "evt.rawres"), "-2");
            assert_eq!(one(st, ev, "evt.failed"), "true");
        }
    });
    assert!(seen_exec);
    assert_eq!(reads, 2, "the read of /dev/null, enter and exit");
}

/// Falco's legacy tests name rules and the number of times each fires on these captures;
/// their conditions are simple enough to evaluate here over the fields.
#[test]
fn legacy_test_counts_over_the_fields() {
    let Some(cat) = trace("cat_write.scap") else {
        return;
    };
    // single_rule.yaml / double_rule.yaml: open_from_cat 8, exec_from_cat 1
    // (evt.type=open and proc.name in (cat), evt.type=execve and proc.name in (cat)).
    // catchall_order.yaml: open_dev_null 1 then dev_null 6 (first matching rule wins).
    let (mut open_cat, mut exec_cat, mut open_null, mut dev_null) = (0, 0, 0, 0);
    replay(&cat, |st, ev| {
        let name = get(st, ev, "proc.name");
        let is_cat = name == ["cat"];
        let ty = one(st, ev, "evt.type");
        if ty == "open" && is_cat {
            open_cat += 1;
        }
        if ty == "execve" && is_cat {
            exec_cat += 1;
        }
        let null = get(st, ev, "fd.name") == ["/dev/null"];
        if ty == "open" && null {
            open_null += 1;
        } else if null {
            dev_null += 1;
        }
    });
    assert_eq!((open_cat, exec_cat, open_null, dev_null), (8, 1, 1, 6));

    // syscalls.yaml on syscall.scap: detect_madvise 2 (a generic event whose evt.type is the
    // syscall's name), detect_open 2.
    let Some(sys) = trace("syscall.scap") else {
        return;
    };
    let (mut madvise, mut open) = (0, 0);
    let mut codes = None;
    replay(&sys, |st, ev| {
        codes.get_or_insert_with(|| st.event_type_codes("madvise").unwrap());
        let exit = one(st, ev, "evt.dir") == "<";
        let ty = one(st, ev, "evt.type");
        if ty == "madvise" && exit {
            assert!(
                codes
                    .as_ref()
                    .unwrap()
                    .contains(&st.event_type(ev).unwrap())
            );
            madvise += 1;
        }
        if ty == "open" && exit && get(st, ev, "fd.name") == ["/dev/null"] {
            open += 1;
        }
    });
    assert_eq!((madvise, open), (2, 2));

    // detect_connect_using_in.yaml on connect_localhost.scap: evt.type=connect and fd.net in
    // ("127.0.0.1/24") fires (the connect's exit, once the tuple is known).
    let Some(conn) = trace("connect_localhost.scap") else {
        return;
    };
    let mut hits = Vec::new();
    replay(&conn, |st, ev| {
        if one(st, ev, "evt.type") == "connect" {
            let f = field(st, "fd.net");
            let mut out = Vec::new();
            st.extract(ev, &f, &mut out);
            let local = out.iter().any(|v| matches!(v, Value::Ip(std::net::IpAddr::V4(a)) if a.octets()[..3] == [127, 0, 0]));
            if local {
                hits.push((
                    ev.num,
                    one(st, ev, "fd.name"),
                    one(st, ev, "fd.sport"),
                    one(st, ev, "fd.l4proto"),
                    one(st, ev, "fd.typechar"),
                ));
                assert_eq!(one(st, ev, "evt.res"), "EINPROGRESS");
                assert_eq!(one(st, ev, "fd.lport"), "47192");
                assert_eq!(one(st, ev, "fd.rip"), "127.0.0.1");
            }
        }
    });
    assert_eq!(
        hits,
        vec![(
            187,
            "127.0.0.1:47192->127.0.0.1:80".to_string(),
            "80".to_string(),
            "tcp".to_string(),
            "4".to_string()
        )]
    );
}

#[test]
fn open_multiple_files_counts() {
    // tagged_rules.yaml's rules each match one file name (open_1 ... open_13); with no tag
    // filter each fires once on open-multiple-files.scap: the open exits with those names.
    let Some(p) = trace("open-multiple-files.scap") else {
        return;
    };
    let mut names = Vec::new();
    replay(&p, |st, ev| {
        // macro open_read: evt.type in (open,openat,openat2) and evt.is_open_read=true and
        // fd.typechar='f'
        let ty = one(st, ev, "evt.type");
        if ["open", "openat", "openat2"].contains(&ty.as_str())
            && one(st, ev, "evt.is_open_read") == "true"
            && get(st, ev, "fd.typechar") == ["f"]
        {
            names.extend(get(st, ev, "fd.name"));
        }
    });
    for i in 1..=13 {
        let want = format!("/tmp/file-{i}");
        assert_eq!(
            names.iter().filter(|n| **n == want).count(),
            1,
            "{want} in {names:?}"
        );
    }
}

#[test]
fn resolve_contract() {
    let Some(p) = trace("empty.scap") else { return };
    let r = moat_scap::open(&p).unwrap();
    let st = State::new(r.metadata());
    assert_eq!(st.source_name(), "syscall");
    assert_eq!(
        st.resolve("proc.name", &FieldArg::None).unwrap().1,
        FieldType::Str
    );
    assert_eq!(
        st.resolve("fd.net", &FieldArg::None).unwrap().1,
        FieldType::IpNet
    );
    assert_eq!(
        st.resolve("evt.rawres", &FieldArg::None).unwrap().1,
        FieldType::Int
    );
    assert_eq!(
        st.resolve("evt.arg.flags", &FieldArg::None).unwrap().1,
        FieldType::Str
    );
    assert_eq!(
        st.resolve("evt.rawarg.res", &FieldArg::None).unwrap().1,
        FieldType::Int
    );
    assert_eq!(
        st.resolve("evt.arg", &FieldArg::Key("path".into()))
            .unwrap()
            .1,
        FieldType::Str
    );
    assert_eq!(
        st.resolve("container.image.repository", &FieldArg::None)
            .unwrap()
            .0,
        moat_scap::Field::Unavailable
    );
    assert_eq!(
        st.resolve(
            "container.mount.dest",
            &FieldArg::Key("/var/run/docker.sock".into())
        )
        .unwrap()
        .0,
        moat_scap::Field::Unavailable
    );
    assert!(st.resolve("proc.nobody", &FieldArg::None).is_err());
    assert!(st.resolve("proc.name", &FieldArg::Index(1)).is_err());
    assert!(
        st.resolve("evt.rawarg.no_such_param", &FieldArg::None)
            .is_err()
    );
    // evt.type names map to both directions of every version.
    let open = st.event_type_codes("open").unwrap();
    assert_eq!(open, vec![2, 3]);
    // A syscall without events of its own is recorded as a generic event.
    assert_eq!(st.event_type_codes("madvise").unwrap(), vec![0, 1]);
    let execve = st.event_type_codes("execve").unwrap();
    assert!(
        execve.contains(&12) && execve.contains(&13) && execve.contains(&293) && execve.len() >= 16,
        "{execve:?}"
    );
    let connect = st.event_type_codes("connect").unwrap();
    assert!(connect.contains(&22) && connect.contains(&23));
    assert_eq!(
        st.event_type_codes("no_such_syscall").unwrap(),
        Vec::<u16>::new()
    );
    let _ = Cow::Borrowed(&b""[..]);
}

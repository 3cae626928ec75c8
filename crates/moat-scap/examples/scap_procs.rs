//! Prints a capture's process list and fd list: `cargo run --example scap_procs FILE`.
#![allow(clippy::unwrap_used)]

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let r = moat_scap::open(std::path::Path::new(&args[1])).unwrap();
    let m = r.metadata();
    println!(
        "machine {:?}",
        m.machine.as_ref().map(|x| (
            x.num_cpus,
            String::from_utf8_lossy(&x.hostname).into_owned()
        ))
    );
    println!(
        "procs {} fds {} users {} groups {} ifaces {}",
        m.procs.len(),
        m.fds.len(),
        m.users.len(),
        m.groups.len(),
        m.interfaces.len()
    );
    for p in &m.procs {
        println!(
            "{} {} {} {:?} {:?} {:?} {:?} uid={} loginuid={} tty={} cg={}",
            p.tid,
            p.pid,
            p.ptid,
            String::from_utf8_lossy(&p.comm),
            String::from_utf8_lossy(&p.exe),
            String::from_utf8_lossy(&p.exepath),
            String::from_utf8_lossy(&p.args),
            p.uid,
            p.loginuid,
            p.tty,
            String::from_utf8_lossy(&p.cgroups).len()
        );
    }
    for i in &m.interfaces {
        println!(
            "iface {:?} {} {}",
            String::from_utf8_lossy(&i.name),
            i.addr,
            i.netmask
        );
    }
    for u in &m.users {
        println!("user {} {:?}", u.uid, String::from_utf8_lossy(&u.name));
    }
}

//! Live process events: the process-events connector's datagrams and the /proc files each
//! event is enriched from (status, stat, cmdline, cgroup, passwd).
#![no_main]
use libfuzzer_sys::fuzz_target;
use moat_runtime::live::{container_id, container_id_from_proc, netlink, procfs};

fuzz_target!(|data: &[u8]| {
    let mut out = Vec::new();
    let _ = netlink::parse(data, &mut out);
    let _ = procfs::parse_status(data);
    let _ = procfs::parse_stat(data);
    let (_, args) = procfs::parse_cmdline(data);
    let p = procfs::Proc { comm: data.iter().copied().take(15).collect(), args, ..Default::default() };
    let _ = (p.cmdline(), p.args_joined());
    let _ = procfs::parse_passwd(data);
    let _ = container_id(data);
    let _ = container_id_from_proc(data);
});

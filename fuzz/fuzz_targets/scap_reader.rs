//! Capture files (.scap, plain or gzip): the block reader, the thread/fd state and the field
//! extraction over every event read.
#![no_main]
use libfuzzer_sys::fuzz_target;
use moat_runtime::field::{FieldArg, FieldSource};

const FIELDS: &[&str] = &[
    "evt.type", "evt.res", "evt.args", "evt.arg.flags", "evt.rawarg.res", "evt.buffer", "proc.name",
    "proc.cmdline", "proc.pcmdline", "proc.exepath", "proc.aname", "user.name", "group.name",
    "fd.name", "fd.directory", "fd.typechar", "fd.net", "fd.lport", "fd.l4proto", "container.id",
    "thread.cap_effective",
];

fuzz_target!(|data: &[u8]| {
    let Ok(mut r) = moat_scap::from_bytes(data, "fuzz") else { return };
    let mut st = moat_scap::State::new(r.metadata());
    let fields: Vec<_> = FIELDS.iter().filter_map(|f| st.resolve(f, &FieldArg::None).ok()).map(|(f, _)| f).collect();
    let mut ev = moat_scap::Event::default();
    while let Ok(true) = r.next_event(&mut ev) {
        st.process(&mut ev);
        for f in &fields {
            let mut out = Vec::new();
            st.extract(&ev, f, &mut out);
        }
        let _ = st.event_type(&ev);
    }
});

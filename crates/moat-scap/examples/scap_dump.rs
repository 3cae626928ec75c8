//! Prints a capture's events with a few fields: `cargo run --example scap_dump FILE [N]`.
#![allow(clippy::unwrap_used)]

use moat_runtime::field::{FieldArg, FieldSource};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut r = moat_scap::open(std::path::Path::new(&args[1])).unwrap();
    let limit: u64 = args.get(2).map(|s| s.parse().unwrap()).unwrap_or(u64::MAX);
    let mut st = moat_scap::State::new(r.metadata());
    let mut ev = moat_scap::Event::default();
    let fields: Vec<_> = ["proc.name", "proc.cmdline", "fd.name", "evt.args"]
        .iter()
        .map(|n| st.resolve(n, &FieldArg::None).unwrap().0)
        .collect();
    while r.next_event(&mut ev).unwrap() {
        st.process(&mut ev);
        if ev.num > limit {
            continue;
        }
        let mut line = format!(
            "{} {} {} {} {}",
            ev.num,
            ev.tid,
            if ev.code & 1 == 0 { ">" } else { "<" },
            ev.name(),
            ev.code
        );
        let mut out = Vec::new();
        for f in &fields {
            out.clear();
            st.extract(&ev, f, &mut out);
            line.push_str(&format!(
                " | {:?}",
                out.iter()
                    .map(|v| match v {
                        moat_runtime::field::Value::Str(s) =>
                            String::from_utf8_lossy(s).into_owned(),
                        other => format!("{other:?}"),
                    })
                    .collect::<Vec<_>>()
            ));
        }
        println!("{line}");
    }
    eprintln!(
        "events {} skipped {} blocks {:x?}",
        r.events_read(),
        r.skipped_events,
        r.metadata().blocks
    );
}

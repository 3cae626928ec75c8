//! The Dockerfile parser and every Dockerfile rule: arbitrary bytes parsed (directives,
//! continuations, heredocs, JSON forms, stages, ARG expansion) and checked; every
//! instruction and finding must point at a line of the input.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let lines = data.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
    if let Ok(df) = moat_misconfig::dockerfile::parse(data) {
        for i in &df.instructions {
            assert!(i.line >= 1 && i.end_line >= i.line && i.end_line <= lines, "{i:?}");
        }
        assert!(!df.stages.is_empty());
    }
    let checked = moat_misconfig::dockerfile::check("Dockerfile", data);
    for f in &checked.findings {
        let span = f.location.as_ref().and_then(|l| l.span).expect("a located finding");
        assert!(span.start_line >= 1 && span.end_line <= lines);
    }
});

//! Helm templates: arbitrary bytes as a chart's template (and, after a `\n---values---\n`
//! line, its values.yaml) parsed by the Go text/template subset and rendered with the Sprig
//! and Helm functions. Never a panic; output, include depth and loop steps stay bounded; a
//! template that fails is a warning naming it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use moat_misconfig::helm;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (template, values) = text.split_once("\n---values---\n").unwrap_or((&text, ""));
    let _ = helm::parse::parse(template);
    let files = vec![
        ("Chart.yaml".to_string(), b"apiVersion: v2\nname: fuzz\nversion: 0.1.0\n".to_vec()),
        ("values.yaml".to_string(), values.as_bytes().to_vec()),
        ("templates/_helpers.tpl".to_string(), template.as_bytes().to_vec()),
        ("templates/t.yaml".to_string(), template.as_bytes().to_vec()),
    ];
    if let Ok(r) = helm::render("fuzz", &files, &helm::Overrides::default()) {
        for d in &r.diagnostics {
            assert!(d.path.as_deref().is_some_and(|p| p.starts_with("fuzz/")), "{d:?}");
        }
        for (_, out) in &r.files {
            assert!(out.len() <= helm::exec::Limits::default().max_output);
        }
    }
});

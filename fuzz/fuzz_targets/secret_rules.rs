//! The secret rule engine: arbitrary bytes through the built-in rules (the keyword
//! prefilter, every rule it wakes, the checks that decode PEM bodies, JWTs and base64
//! credentials, the Kubernetes Secret decoding), and the same bytes as a configuration
//! (moat's or gitleaks' TOML) compiled and run over themselves.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static RULES: OnceLock<Option<moat_secrets::Rules>> = OnceLock::new();
    if let Some(rules) = RULES.get_or_init(|| moat_secrets::Rules::builtin().ok()) {
        for hit in rules.scan("app/deploy/secret.yaml", data) {
            assert!(hit.span.start_line >= 1 && hit.span.end_line >= hit.span.start_line);
            assert!(hit.redacted.contains("***("));
        }
    }
    if let Ok(config) = moat_secrets::Config::parse(data)
        && let Ok(rules) = moat_secrets::Rules::new(&config)
    {
        let _ = rules.scan("x", data);
    }
});

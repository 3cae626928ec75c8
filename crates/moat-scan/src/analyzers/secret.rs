//! The secret scanner: every text file of every layer, and the image config.
//!
//! It wants every regular file up to the size cap (`--secret-max-file-size`, default
//! 10 MiB), decides from the first bytes whether it is text ([`moat_secrets::sniff`]:
//! a NUL byte means binary; `--secret-scan-binaries` takes binaries too), and hands the
//! bytes the walker read once to [`moat_secrets::Rules::scan`]. Its scope is
//! [`Scope::EveryLayer`]: a secret in a file a later layer deletes or replaces is still in
//! the image, and the engine keeps it with the layer that removed it.
//!
//! The image config is scanned through [`Analyzer::analyze_config`]: environment variables
//! (`config:env/NAME`), labels (`config:label/NAME`), entrypoint and cmd
//! (`config:entrypoint`, `config:cmd`) and each history entry's `created_by`
//! (`config:history/N`, where build-time `ARG` and `ENV` values end up). Those findings
//! carry the field in their location and no path, layer or line.
//!
//! Built once per scan ([`crate::analyzers::Registration::Configured`]) from
//! [`crate::ScanOptions::secrets`]: the compiled rules are shared (`Arc`), so building is
//! free. An instance built for a scan without the secret scanner wants nothing.

use crate::analyzer::{Analyzer, AnalyzerInfo, Entry, Interest, Scanner};
use crate::fact::{Fact, Scope};
use crate::options::ScanOptions;
use moat_model::{Finding, FindingLocation, ImageConfig};
use moat_secrets::{Hit, Rules, Settings};
use std::sync::Arc;

const INFO: AnalyzerInfo = AnalyzerInfo {
    id: "secret",
    version: 1,
    scanner: Scanner::Secret,
    scope: Scope::EveryLayer,
};

/// The secret analyzer of one scan.
pub struct SecretAnalyzer {
    rules: Option<Arc<Rules>>,
    settings: Settings,
}

/// [`crate::analyzers::Registration::Configured`]'s constructor.
pub fn build(opts: &ScanOptions) -> Option<Box<dyn Analyzer>> {
    let on = opts.scanners.contains(Scanner::Secret);
    Some(Box::new(SecretAnalyzer {
        rules: if on { opts.secrets.rules() } else { None },
        settings: opts.secrets.clone(),
    }))
}

impl SecretAnalyzer {
    /// A finding for one hit; `field` for a hit in the image config.
    fn finding(&self, hit: &Hit, field: Option<String>) -> Finding {
        let mut f = hit.finding(self.settings.show_secrets);
        if let Some(field) = field {
            f.location = Some(FindingLocation {
                field: Some(field),
                ..Default::default()
            });
        }
        f
    }
}

impl Analyzer for SecretAnalyzer {
    fn info(&self) -> &AnalyzerInfo {
        &INFO
    }

    fn wants(&self, e: &Entry) -> Interest {
        let Some(rules) = &self.rules else {
            return Interest::No;
        };
        if e.size == 0 || e.size > self.settings.max_file_size || rules.skips_path(e.path) {
            return Interest::No;
        }
        if self.settings.scan_binaries {
            Interest::Yes
        } else {
            Interest::Sniff(moat_secrets::sniff::SNIFF_BYTES)
        }
    }

    fn wants_below(&self, dir: &str) -> bool {
        // a path allowlist covering the whole directory (`**/node_modules/**`)
        self.rules.as_ref().is_some_and(|r| !r.skips_dir(dir))
    }

    fn wants_head(&self, _e: &Entry, head: &[u8]) -> bool {
        !moat_secrets::sniff::is_binary(head)
    }

    fn analyze(&self, e: &Entry, data: &[u8]) -> Option<Fact> {
        let rules = self.rules.as_ref()?;
        let hits = rules.scan(e.path, data);
        if hits.is_empty() {
            return None;
        }
        Some(Fact::Findings(
            hits.iter().map(|h| self.finding(h, None)).collect(),
        ))
    }

    fn analyze_config(&self, config: &ImageConfig) -> Vec<Finding> {
        let Some(rules) = &self.rules else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut scan = |field: String, text: &str| {
            for h in rules.scan(&field, text.as_bytes()) {
                out.push(self.finding(&h, Some(field.clone())));
            }
        };
        for env in &config.env {
            let name = env.split_once('=').map_or(env.as_str(), |(n, _)| n);
            scan(format!("config:env/{name}"), env);
        }
        for (name, value) in &config.labels {
            scan(format!("config:label/{name}"), &format!("{name}={value}"));
        }
        if !config.entrypoint.is_empty() {
            scan("config:entrypoint".into(), &config.entrypoint.join(" "));
        }
        if !config.cmd.is_empty() {
            scan("config:cmd".into(), &config.cmd.join(" "));
        }
        for (i, h) in config.history.iter().enumerate() {
            if let Some(created_by) = &h.created_by {
                scan(format!("config:history/{i}"), created_by);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyzer::Scanners;
    use moat_model::{Detail, HistoryEntry};

    fn analyzer(show: bool) -> Box<dyn Analyzer> {
        let opts = ScanOptions {
            scanners: Scanners::only(Scanner::Secret),
            secrets: Settings {
                show_secrets: show,
                ..Settings::default()
            },
            ..ScanOptions::default()
        };
        build(&opts).unwrap()
    }

    #[test]
    fn wants_text_files_under_the_cap() {
        let a = analyzer(false);
        assert_eq!(
            a.wants(&Entry::new("app/.env", 0o644, 100, Some(1))),
            Interest::Sniff(8192)
        );
        assert_eq!(
            a.wants(&Entry::new("app/big", 0o644, 11 << 20, Some(1))),
            Interest::No
        );
        assert_eq!(a.wants(&Entry::new("empty", 0o644, 0, None)), Interest::No);
        let e = Entry::new("usr/bin/x", 0o755, 100, Some(0));
        assert!(!a.wants_head(&e, b"\x7fELF\x02\x01\x01\x00"));
        assert!(a.wants_head(&e, b"#!/bin/sh\n"));
        // built for a scan without the secret scanner: wants nothing
        let off = build(&ScanOptions::default()).unwrap();
        assert_eq!(
            off.wants(&Entry::new("app/.env", 0o644, 100, None)),
            Interest::No
        );
    }

    #[test]
    fn findings_carry_the_rule_and_the_redacted_secret() {
        let e = Entry::new("app/.env", 0o644, 60, Some(1));
        let data = b"# x\nGITHUB_TOKEN=ghp_JC6RQuFlBnDomtQhA14VqnPa5lwOo0OpGcSD\n";
        let Some(Fact::Findings(f)) = analyzer(false).analyze(&e, data) else {
            panic!("no findings");
        };
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].id, "github-pat");
        let Detail::Secret(s) = &f[0].detail else {
            panic!("not a secret");
        };
        assert_eq!(
            (s.rule.as_str(), s.redacted.as_str()),
            ("github-pat", "ghp_***(40)")
        );
        assert_eq!(s.value, None);
        let span = f[0].location.as_ref().and_then(|l| l.span).unwrap();
        assert_eq!((span.start_line, span.start_column), (2, Some(14)));
        let Some(Fact::Findings(shown)) = analyzer(true).analyze(&e, data) else {
            panic!("no findings");
        };
        let Detail::Secret(s) = &shown[0].detail else {
            panic!("not a secret");
        };
        assert_eq!(
            s.value.as_deref(),
            Some("ghp_JC6RQuFlBnDomtQhA14VqnPa5lwOo0OpGcSD")
        );
    }

    #[test]
    fn the_image_config_is_scanned_field_by_field() {
        let config = ImageConfig {
            env: vec![
                "PATH=/usr/bin".into(),
                "GITHUB_TOKEN=ghp_JC6RQuFlBnDomtQhA14VqnPa5lwOo0OpGcSD".into(),
            ],
            labels: [(
                "db.password".to_string(),
                "Sup3rS3cretPassw0rd!".to_string(),
            )]
            .into(),
            history: vec![
                HistoryEntry {
                    created_by: Some("debootstrap".into()),
                    ..Default::default()
                },
                HistoryEntry {
                    created_by: Some(
                        "ENV GITHUB_TOKEN=ghp_JC6RQuFlBnDomtQhA14VqnPa5lwOo0OpGcSD".into(),
                    ),
                    empty_layer: true,
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let got: Vec<(String, String)> = analyzer(false)
            .analyze_config(&config)
            .into_iter()
            .map(|f| {
                let loc = f.location.unwrap_or_default();
                assert!(loc.path.is_none() && loc.span.is_none() && loc.layer.is_none());
                (f.id, loc.field.unwrap_or_default())
            })
            .collect();
        let want = [
            ("github-pat", "config:env/GITHUB_TOKEN"),
            ("generic-password", "config:label/db.password"),
            ("github-pat", "config:history/1"),
        ];
        assert_eq!(
            got,
            want.map(|(a, b)| (a.to_string(), b.to_string())).to_vec()
        );
    }
}

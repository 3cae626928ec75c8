//! `moat-secrets.toml`: custom rules, rules turned off, allowlists; and the same file shape
//! as gitleaks' (`[[rules]]` with `description`, `secretGroup`, `[rules.allowlist]`, a
//! global `[allowlist]` whose `paths` are regexes), so a gitleaks rule file imports as is.
//!
//! ```toml
//! builtin = true                      # keep the built-in rules (the default)
//! default-allowlist = true            # generic rules skip third-party trees (the default)
//! disable = ["generic-secret"]        # rule ids turned off
//!
//! [[rules]]
//! id = "acme-api-key"
//! title = "ACME API key"              # gitleaks: description
//! severity = "HIGH"                   # default MEDIUM
//! regex = '''acme_[0-9a-z]{32}'''
//! secret-group = 0                    # gitleaks: secretGroup; default: the whole match
//! keywords = ["acme_"]
//! entropy = 3.0
//! path = '''\.env$'''                 # only files whose path matches
//!
//! [[allow]]                           # every condition given must hold
//! description = "test fixtures"
//! rules = ["github-pat"]              # default: every rule
//! paths = ["app/test/**"]             # globs, with or without the leading /
//! regexes = ['''^ghp_0{36}$''']       # over the secret
//! stopwords = ["fixture"]
//! ```
//!
//! Parsing checks the shape ([`Config::parse`]); compiling the regexes and globs is
//! [`crate::Rules::new`]'s job, so that every error names the rule or entry at fault.
//! Keys moat does not know (gitleaks' `[extend]`, `tags`, `commits`) are listed in
//! [`Config::warnings`] and otherwise ignored.

use serde::Deserialize;
use std::collections::BTreeMap;

/// Why a configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("not a valid secret configuration: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("rule {rule}: {message}")]
    Rule { rule: String, message: String },
    #[error("allowlist entry {index}: {message}")]
    Allow { index: usize, message: String },
    #[error("the secret configuration is {0} bytes, over the limit of 4 MiB")]
    TooLarge(usize),
}

/// A parsed configuration, before compiling.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Keep the built-in rules.
    pub builtin: bool,
    /// The generic rules skip third-party and documentation trees
    /// ([`crate::allow::GENERIC_SKIP`]).
    pub default_allowlist: bool,
    /// Rule ids turned off.
    pub disable: Vec<String>,
    pub rules: Vec<CustomRule>,
    pub allow: Vec<AllowSpec>,
    /// What moat read but does not use.
    pub warnings: Vec<String>,
}

/// A rule from the configuration.
#[derive(Debug, Clone, Default)]
pub struct CustomRule {
    pub id: String,
    pub title: Option<String>,
    pub severity: Option<String>,
    pub category: Option<String>,
    pub regex: String,
    /// The capture group holding the secret (0: the whole match); default: the group named
    /// `secret`, else the whole match.
    pub secret_group: Option<usize>,
    pub entropy: Option<f64>,
    pub keywords: Vec<String>,
    /// A regex the file's path must match.
    pub path: Option<String>,
    /// The rule's own allowlists.
    pub allow: Vec<AllowSpec>,
}

/// An allowlist entry as written.
#[derive(Debug, Clone, Default)]
pub struct AllowSpec {
    pub description: Option<String>,
    pub rules: Vec<String>,
    /// Globs (moat) or regexes (gitleaks), per [`AllowSpec::path_regexes`].
    pub paths: Vec<String>,
    pub path_regexes: bool,
    pub regexes: Vec<String>,
    /// `secret` (default), `match` or `line`.
    pub regex_target: Option<String>,
    pub stopwords: Vec<String>,
    /// Any condition suffices (gitleaks), rather than all.
    pub any: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Raw {
    builtin: Option<bool>,
    default_allowlist: Option<bool>,
    #[serde(default)]
    disable: Vec<String>,
    #[serde(default)]
    rules: Vec<RawRule>,
    #[serde(default)]
    allow: Vec<RawMoatAllow>,
    allowlist: Option<RawLeaksAllow>,
    #[serde(default)]
    allowlists: Vec<RawLeaksAllow>,
    #[serde(flatten)]
    rest: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawRule {
    id: String,
    title: Option<String>,
    description: Option<String>,
    severity: Option<String>,
    category: Option<String>,
    regex: Option<String>,
    #[serde(alias = "secretGroup")]
    secret_group: Option<usize>,
    entropy: Option<f64>,
    #[serde(default)]
    keywords: Vec<String>,
    path: Option<String>,
    allowlist: Option<RawLeaksAllow>,
    #[serde(default)]
    allowlists: Vec<RawLeaksAllow>,
    #[serde(flatten)]
    rest: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawMoatAllow {
    #[serde(alias = "reason")]
    description: Option<String>,
    #[serde(default)]
    rules: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    regexes: Vec<String>,
    #[serde(alias = "regexTarget")]
    regex_target: Option<String>,
    #[serde(default)]
    stopwords: Vec<String>,
}

#[derive(Deserialize)]
struct RawLeaksAllow {
    description: Option<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    regexes: Vec<String>,
    #[serde(rename = "regexTarget")]
    regex_target: Option<String>,
    #[serde(default)]
    stopwords: Vec<String>,
    condition: Option<String>,
    #[serde(default, rename = "targetRules")]
    target_rules: Vec<String>,
    #[serde(flatten)]
    rest: BTreeMap<String, toml::Value>,
}

/// The largest configuration read.
const MAX_CONFIG_BYTES: usize = 4 << 20;

impl RawLeaksAllow {
    fn into_spec(self, rules: Vec<String>, what: &str, warnings: &mut Vec<String>) -> AllowSpec {
        for k in self.rest.keys() {
            warnings.push(format!("{what}: `{k}` is not used by moat"));
        }
        let rules = if self.target_rules.is_empty() {
            rules
        } else {
            self.target_rules
        };
        AllowSpec {
            description: self.description,
            rules,
            paths: self.paths,
            path_regexes: true,
            regexes: self.regexes,
            regex_target: self.regex_target,
            stopwords: self.stopwords,
            any: !self
                .condition
                .is_some_and(|c| c.trim().eq_ignore_ascii_case("and")),
        }
    }
}

impl Config {
    /// The built-in rules and nothing else.
    pub fn builtin() -> Config {
        Config {
            builtin: true,
            default_allowlist: true,
            ..Config::default()
        }
    }

    /// Parses a configuration (moat's shape or gitleaks').
    pub fn parse(bytes: &[u8]) -> Result<Config, ConfigError> {
        if bytes.len() > MAX_CONFIG_BYTES {
            return Err(ConfigError::TooLarge(bytes.len()));
        }
        let text = String::from_utf8_lossy(bytes);
        let raw: Raw = toml::from_str(&text)?;
        let mut warnings = Vec::new();
        for k in raw.rest.keys() {
            if k != "title" {
                warnings.push(format!("`{k}` is not used by moat"));
            }
        }
        let mut allow: Vec<AllowSpec> = raw
            .allow
            .into_iter()
            .map(|a| AllowSpec {
                description: a.description,
                rules: a.rules,
                paths: a.paths,
                path_regexes: false,
                regexes: a.regexes,
                regex_target: a.regex_target,
                stopwords: a.stopwords,
                any: false,
            })
            .collect();
        for a in raw.allowlist.into_iter().chain(raw.allowlists) {
            allow.push(a.into_spec(Vec::new(), "[allowlist]", &mut warnings));
        }
        let mut rules = Vec::new();
        for r in raw.rules {
            for k in r.rest.keys() {
                if k != "tags" {
                    warnings.push(format!("rule {}: `{k}` is not used by moat", r.id));
                }
            }
            let Some(regex) = r.regex else {
                warnings.push(format!(
                    "rule {}: a rule without a regex (path only) is not supported; skipped",
                    r.id
                ));
                continue;
            };
            let what = format!("rule {} allowlist", r.id);
            let own: Vec<AllowSpec> = r
                .allowlist
                .into_iter()
                .chain(r.allowlists)
                .map(|a| a.into_spec(vec![r.id.clone()], &what, &mut warnings))
                .collect();
            rules.push(CustomRule {
                title: r.title.or(r.description),
                id: r.id,
                severity: r.severity,
                category: r.category,
                regex,
                secret_group: r.secret_group,
                entropy: r.entropy,
                keywords: r.keywords,
                path: r.path,
                allow: own,
            });
        }
        Ok(Config {
            builtin: raw.builtin.unwrap_or(true),
            default_allowlist: raw.default_allowlist.unwrap_or(true),
            disable: raw.disable,
            rules,
            allow,
            warnings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moat_shape() {
        let c = Config::parse(
            br#"
disable = ["generic-secret"]
[[rules]]
id = "acme-api-key"
title = "ACME API key"
severity = "HIGH"
regex = '''acme_[0-9a-z]{32}'''
keywords = ["acme_"]
[[allow]]
reason = "fixtures"
paths = ["app/test/**"]
"#,
        )
        .unwrap();
        assert!(c.builtin);
        assert_eq!(c.disable, ["generic-secret"]);
        assert_eq!(c.rules[0].title.as_deref(), Some("ACME API key"));
        assert_eq!(c.allow[0].paths, ["app/test/**"]);
        assert!(!c.allow[0].path_regexes && !c.allow[0].any);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn gitleaks_shape() {
        let c = Config::parse(
            br#"
title = "custom gitleaks config"
[extend]
useDefault = true
[allowlist]
description = "global"
paths = ['''(^|/)testdata/''']
[[rules]]
id = "acme"
description = "ACME token"
regex = '''(acme_[a-z0-9]{16})'''
secretGroup = 1
entropy = 3.5
keywords = ["acme"]
tags = ["x"]
[rules.allowlist]
regexes = ['''acme_0+''']
[[rules]]
id = "pem-files"
path = '''\.pem$'''
"#,
        )
        .unwrap();
        assert_eq!(c.rules.len(), 1);
        let r = &c.rules[0];
        assert_eq!(
            (r.title.as_deref(), r.secret_group),
            (Some("ACME token"), Some(1))
        );
        assert_eq!(r.allow[0].rules, ["acme"]);
        assert!(c.allow[0].path_regexes && c.allow[0].any);
        assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
        assert!(c.warnings.iter().any(|w| w.contains("extend")));
        assert!(c.warnings.iter().any(|w| w.contains("pem-files")));
    }

    #[test]
    fn errors_say_what() {
        let e = Config::parse(b"[[rules]]\nregex = 'x'\n").unwrap_err();
        assert!(e.to_string().contains("id"), "{e}");
    }
}

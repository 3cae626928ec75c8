//! # moat-secrets: secrets in bytes
//!
//! Pure functions over bytes, no I/O: given a file's path and contents, [`Rules::scan`]
//! returns the secrets in it as [`Hit`]s (the rule, the line and column span, the secret,
//! its redacted form, its entropy). The scan engine calls it for every file of every layer
//! (`moat-scan`'s secret analyzer), for the image config's values, and for every blob of a
//! git history (`moat-git`); nothing here knows about images or repositories.
//! [`Hit::finding`] makes the report's finding of a hit for all of them.
//!
//! ## Main types
//! * [`Rule`]: a built-in rule as written, with its documentation in the shape
//!   `moat rules explain` prints (What it does / Why is this bad? / Example / Fix). One file
//!   per family under `rules/` (cloud, infra, vcs, chat, payment, saas, packages, keys, web,
//!   generic); [`rules::builtin`] lists them. Every rule's example is its true-positive
//!   test and its near misses (documentation values such as `AKIAIOSFODNN7EXAMPLE`,
//!   placeholders, hashes, UUIDs, test values) its negative tests.
//! * [`Rules`]: a rule set compiled once: one Aho-Corasick automaton over every rule's
//!   keywords (the prefilter), one `regex` per rule over bytes, the allowlists. Most files
//!   contain no keyword and cost one automaton pass; see [`engine`] for the steps.
//! * [`Config`]: `moat-secrets.toml` (custom rules, rules turned off, allowlists by path
//!   glob, rule, regex and stop word), which also reads gitleaks' rule files.
//! * [`Settings`]: what a scan needs besides the rules (size cap per file, whether binary
//!   files are scanned, whether secrets are shown).
//! * [`redact`]: `ghp_***(40)`; [`sniff::is_binary`]: the NUL-byte test.
//!
//! Near misses are kept out three ways: every rule's secret must not be a placeholder
//! ([`shape::is_placeholder`]); rules may set an entropy floor and a check (a PEM body must
//! decode to a key, a JWT header must name an algorithm, a URL's password must not be
//! `password`); the generic rules look at the variable's name and the value's shape.
//! A `moat:ignore` comment on the line drops a hit.
//!
//! Kubernetes `Secret` manifests are base64-decoded before scanning ([`kube`]).
//!
//! Rejected alternatives: one `RegexSet` over all rules (it says which rules match but not
//! where, so every matching rule runs again; and the set is slower than the keyword
//! automaton on the common file that matches nothing); running every regex on every file
//! (most rules have a literal prefix, but over a hundred passes per file add up);
//! PCRE-style look-around (not in the `regex` crate, whose linear time matters on hostile
//! input: rules consume a trailing boundary character and name the secret group instead);
//! a YAML parser for Kubernetes manifests (see [`kube`]).

pub mod allow;
pub mod config;
pub mod engine;
pub mod kube;
pub mod redact;
pub mod rule;
pub mod rules;
pub mod shape;
pub mod sniff;

pub use config::{Config, ConfigError};
pub use engine::{Hit, RuleInfo, Rules};
pub use redact::{entropy, redact};
pub use rule::{Candidate, Rule, Verdict};

use std::sync::Arc;

/// The default size cap per file: 10 MiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 << 20;

/// What a secret scan needs besides the bytes.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The rules; `None` for the built-in ones ([`Rules::shared_builtin`]).
    pub rules: Option<Arc<Rules>>,
    /// Larger files are not scanned.
    pub max_file_size: u64,
    /// Scan files whose first bytes say they are binary.
    pub scan_binaries: bool,
    /// Put the secret itself into findings (`value`), not only its redacted form.
    pub show_secrets: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            rules: None,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            scan_binaries: false,
            show_secrets: false,
        }
    }
}

impl Settings {
    /// The rules to scan with.
    pub fn rules(&self) -> Option<Arc<Rules>> {
        self.rules.clone().or_else(Rules::shared_builtin)
    }
}

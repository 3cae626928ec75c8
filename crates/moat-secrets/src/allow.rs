//! Allowlists: which hits are not reported.
//!
//! One [`AllowEntry`] covers some rules (all when none are named) and says when a hit is
//! allowed: by the file's path (globs from moat's own `[[allow]]` entries, regexes from
//! gitleaks' `[allowlist]`), by a regex over the secret (or the whole match, or its line),
//! or by a stop word inside the secret. moat's entries need every condition they give to
//! hold; gitleaks' need any one of them, unless they say `condition = "AND"`.

use globset::{Glob, GlobMatcher, GlobSet, GlobSetBuilder};
use regex::bytes::Regex;

/// Where the generic rules do not look by default (`default-allowlist = false` turns this
/// off): third-party package trees, documentation and lockfiles, whose examples, tests and
/// hashes are full of `password = "..."`-like lines that are nobody's secret. Specific rules (a `ghp_` token, a
/// private key) still run there.
pub const GENERIC_SKIP: &[&str] = &[
    "**/node_modules/**",
    "**/site-packages/**",
    "**/dist-packages/**",
    "**/vendor/**",
    "**/gems/**",
    "**/pkg/mod/**",
    "**/.cargo/registry/**",
    "usr/lib/python*/**",
    "usr/local/lib/python*/**",
    "usr/lib/ruby/**",
    "usr/share/ruby*/**",
    "usr/share/perl*/**",
    "usr/lib/*/perl*/**",
    "usr/share/javascript/**",
    "usr/share/doc/**",
    "usr/share/man/**",
    "usr/share/info/**",
    "usr/include/**",
    "**/test/**",
    "**/tests/**",
    "**/testdata/**",
    "**/fixtures/**",
    "**/*.md",
    "**/*.rst",
    "**/*.adoc",
    // lockfiles: package names, versions and integrity hashes, written by tools
    "**/package-lock.json",
    "**/npm-shrinkwrap.json",
    "**/yarn.lock",
    "**/pnpm-lock.yaml",
    "**/Cargo.lock",
    "**/go.sum",
    "**/poetry.lock",
    "**/Pipfile.lock",
    "**/composer.lock",
    "**/Gemfile.lock",
];

/// [`GENERIC_SKIP`] compiled.
pub fn generic_skip() -> Result<GlobSet, globset::Error> {
    let mut b = GlobSetBuilder::new();
    for p in GENERIC_SKIP {
        b.add(
            globset::GlobBuilder::new(p)
                .literal_separator(true)
                .build()?,
        );
    }
    b.build()
}

/// How a path condition is written.
#[derive(Debug, Clone)]
pub enum PathPattern {
    /// A glob over the path without its leading `/` (`app/test/**`, `**/*.pem`); with the
    /// glob of the directories it covers whole when it ends in `/**` (`app/test`).
    Glob(GlobMatcher, Option<GlobMatcher>),
    /// A regex over the path without its leading `/` (gitleaks' `paths`).
    Regex(Regex),
}

impl PathPattern {
    /// A glob; a leading `/` is dropped, `*` does not cross `/`.
    pub fn glob(pattern: &str) -> Result<PathPattern, globset::Error> {
        let build = |p: &str| {
            globset::GlobBuilder::new(p)
                .literal_separator(true)
                .build()
                .map(|g| Glob::compile_matcher(&g))
        };
        let pattern = pattern.trim_start_matches('/');
        // `P/**` matches every path below a directory that `P` matches
        let below = match pattern.strip_suffix("/**") {
            Some(dir) if !dir.is_empty() => Some(build(dir)?),
            _ => None,
        };
        Ok(PathPattern::Glob(build(pattern)?, below))
    }

    pub fn matches(&self, path: &str) -> bool {
        match self {
            PathPattern::Glob(g, _) => g.is_match(path),
            PathPattern::Regex(r) => r.is_match(path.as_bytes()),
        }
    }

    /// Whether the pattern matches every path below the directory `dir` (no leading `/`):
    /// a glob ending in `/**` whose directory part matches it. (A regex is never said to.)
    pub fn covers_dir(&self, dir: &str) -> bool {
        matches!(self, PathPattern::Glob(_, Some(below)) if below.is_match(dir))
    }
}

/// What an allowlist regex is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RegexTarget {
    #[default]
    Secret,
    /// The rule's whole match.
    Match,
    /// The line the secret starts on.
    Line,
}

/// One allowlist entry.
#[derive(Debug, Clone, Default)]
pub struct AllowEntry {
    /// A note for people reading the config.
    pub description: Option<String>,
    /// The rules it covers; empty for all.
    pub rules: Vec<String>,
    pub paths: Vec<PathPattern>,
    pub regexes: Vec<Regex>,
    pub regex_target: RegexTarget,
    /// Lowercase words; a secret holding one is allowed.
    pub stopwords: Vec<String>,
    /// Any one condition suffices (gitleaks' default), instead of all of them.
    pub any: bool,
}

/// What an entry sees of a hit.
pub(crate) struct Seen<'a> {
    pub rule: &'a str,
    pub path: &'a str,
    pub secret: &'a [u8],
    pub matched: &'a [u8],
    pub line: &'a [u8],
}

impl AllowEntry {
    fn covers(&self, rule: &str) -> bool {
        self.rules.is_empty() || self.rules.iter().any(|r| r == rule)
    }

    /// Whether the entry allows every hit in a file at `path`, whatever it is.
    pub(crate) fn allows_path(&self, path: &str) -> bool {
        self.rules.is_empty()
            && self.regexes.is_empty()
            && self.stopwords.is_empty()
            && !self.paths.is_empty()
            && self.paths.iter().any(|p| p.matches(path))
    }

    /// Whether the entry allows every hit in every file below the directory `dir`.
    pub(crate) fn allows_dir(&self, dir: &str) -> bool {
        self.rules.is_empty()
            && self.regexes.is_empty()
            && self.stopwords.is_empty()
            && self.paths.iter().any(|p| p.covers_dir(dir))
    }

    pub(crate) fn allows(&self, s: &Seen) -> bool {
        if !self.covers(s.rule) {
            return false;
        }
        let path = (!self.paths.is_empty()).then(|| self.paths.iter().any(|p| p.matches(s.path)));
        let regex = (!self.regexes.is_empty()).then(|| {
            let target = match self.regex_target {
                RegexTarget::Secret => s.secret,
                RegexTarget::Match => s.matched,
                RegexTarget::Line => s.line,
            };
            self.regexes.iter().any(|r| r.is_match(target))
        });
        let stop = (!self.stopwords.is_empty()).then(|| {
            let lower = s.secret.to_ascii_lowercase();
            self.stopwords
                .iter()
                .any(|w| crate::shape::contains(&lower, w.as_bytes()))
        });
        let given = [path, regex, stop].into_iter().flatten();
        if self.any {
            given.into_iter().any(|x| x)
        } else {
            let mut any_given = false;
            for x in given {
                if !x {
                    return false;
                }
                any_given = true;
            }
            // an entry naming only rules turns them off
            any_given || !self.rules.is_empty()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen<'a>(rule: &'a str, path: &'a str, secret: &'a [u8]) -> Seen<'a> {
        Seen {
            rule,
            path,
            secret,
            matched: secret,
            line: secret,
        }
    }

    #[test]
    fn every_condition_of_a_moat_entry_must_hold() {
        let e = AllowEntry {
            rules: vec!["github-pat".into()],
            paths: vec![PathPattern::glob("/app/test/**").unwrap()],
            ..Default::default()
        };
        assert!(e.allows(&seen("github-pat", "app/test/fixtures/x.env", b"ghp_1")));
        assert!(!e.allows(&seen("github-pat", "app/src/x.env", b"ghp_1")));
        assert!(!e.allows(&seen("gitlab-pat", "app/test/x.env", b"glpat-1")));
        assert!(!e.allows_path("app/test/x"));
        let only_path = AllowEntry {
            paths: vec![PathPattern::glob("**/*.md").unwrap()],
            ..Default::default()
        };
        assert!(only_path.allows_path("usr/share/doc/README.md"));
        assert!(!only_path.allows_path("app/.env"));
        assert!(!only_path.allows_dir("usr/share/doc"));
    }

    #[test]
    fn a_glob_ending_in_double_star_covers_whole_directories() {
        let e = AllowEntry {
            paths: vec![
                PathPattern::glob("**/node_modules/**").unwrap(),
                PathPattern::glob("/app/test/**").unwrap(),
                PathPattern::glob("**/*.md").unwrap(),
                PathPattern::Regex(Regex::new(r"(^|/)vendor/").unwrap()),
            ],
            ..Default::default()
        };
        for dir in [
            "node_modules",
            "app/node_modules",
            "a/node_modules/b/node_modules",
            "app/test",
        ] {
            assert!(e.allows_dir(dir), "{dir}");
            assert!(e.allows_path(&format!("{dir}/x/y.js")), "{dir}");
        }
        for dir in [
            "app",
            "app/node_modules_old",
            "x/app/test",
            "docs",
            "go/vendor",
        ] {
            assert!(!e.allows_dir(dir), "{dir}");
        }
        // an entry with other conditions, or for some rules, covers no directory
        let some = AllowEntry {
            rules: vec!["github-pat".into()],
            ..e.clone()
        };
        assert!(!some.allows_dir("node_modules"));
        let stop = AllowEntry {
            stopwords: vec!["fixture".into()],
            ..e
        };
        assert!(!stop.allows_dir("node_modules"));
    }

    #[test]
    fn any_condition_of_a_gitleaks_entry_suffices() {
        let e = AllowEntry {
            paths: vec![PathPattern::Regex(Regex::new(r"(^|/)vendor/").unwrap())],
            stopwords: vec!["fixture".into()],
            any: true,
            ..Default::default()
        };
        assert!(e.allows(&seen("x", "go/vendor/a.go", b"abc")));
        assert!(e.allows(&seen("x", "src/a.go", b"abcFIXTUREdef")));
        assert!(!e.allows(&seen("x", "src/a.go", b"abcdef")));
    }
}

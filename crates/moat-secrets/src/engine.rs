//! The compiled rule set ([`Rules`]) and the scan of one file ([`Rules::scan`]).
//!
//! A scan runs in four steps over the file's bytes, which it reads once each:
//! 1. the keyword prefilter: one Aho-Corasick automaton over every rule's keywords
//!    (ASCII case-insensitive) says which rules can match at all; most files wake none;
//! 2. each woken rule's regex runs over the file; a match becomes a candidate when its
//!    secret passes the rule's entropy floor, the placeholder test and the rule's check;
//! 3. candidates on the same bytes are settled: a specific rule beats a generic one, an
//!    earlier rule a later one; allowlists and an inline `moat:ignore` on the line drop
//!    the rest;
//! 4. lines and columns are counted once, in one forward pass over the kept hits.
//!
//! A Kubernetes `Secret`'s `data:` values are base64: they are decoded and scanned as
//! `key: value` text, each hit reported on the manifest's line ([`crate::kube`]).
//!
//! Limits: at most [`MAX_CANDIDATES`] matches are examined per rule and file and
//! [`MAX_HITS`] hits kept per file; a secret's text is kept up to [`MAX_SECRET_BYTES`].

use crate::allow::{AllowEntry, PathPattern, RegexTarget, Seen};
use crate::config::{AllowSpec, Config, ConfigError, CustomRule};
use crate::redact::{entropy, redact};
use crate::rule::{Candidate, Check, Rule, Verdict};
use crate::shape::is_placeholder;
use aho_corasick::MatchKind;
use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;
use moat_model::{Severity, Span};
use regex::bytes::{Regex, RegexBuilder};
use std::sync::{Arc, OnceLock};

/// Most regex matches examined per rule and file.
pub const MAX_CANDIDATES: usize = 10_000;
/// Most hits kept per file.
pub const MAX_HITS: usize = 1_000;
/// Longest secret text kept (a longer one is cut; its length is still reported).
pub const MAX_SECRET_BYTES: usize = 16 << 10;
/// Compiled size limit of one regex.
const REGEX_SIZE_LIMIT: usize = 4 << 20;

/// What a report says about a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInfo {
    pub id: String,
    pub title: String,
    pub category: String,
    pub severity: Severity,
}

/// Built-in rules whose regex runs on the lines where the keyword prefilter found one of their
/// keywords, not on the whole file. Each is checked by reading its pattern: every alternative
/// needs one of the rule's keywords (ASCII case-insensitive) inside the match; a match never
/// holds a newline, except the boundary character before the key, which may be the newline
/// ending the line before; and no alternative looks past the end of its line. The generic
/// rules' patterns start with a character class, so the regex engine cannot skip ahead to a
/// literal and would otherwise read every byte of every file that mentions `key` or `pass`
/// (most of them). The regex sees the lines alone, so no alternative may need what comes
/// before the newline that starts its window: a `^` or a boundary class at that newline
/// cannot begin a match, since a key is made of letters, digits and `_.-`.
/// `line_local_equals_whole_file` tests the equivalence.
const LINE_LOCAL: &[&str] = &["generic-password", "generic-secret"];

/// A rule's regex with the capture groups it names.
struct Matcher {
    regex: Regex,
    /// Capture groups holding the secret, in order of preference; empty: the whole match.
    secret_groups: Vec<usize>,
    key_groups: Vec<usize>,
}

struct Compiled {
    info: RuleInfo,
    /// A built-in rule's pattern is compiled the first time a file's keywords wake the rule
    /// (a scan wakes few of the rules: compiling all of them up front was most of the time
    /// of a small image's scan); the crate's tests compile every built-in pattern. A custom
    /// rule's is compiled when the configuration is read, so that its errors are reported.
    pattern: &'static str,
    matcher: OnceLock<Option<Matcher>>,
    entropy: f64,
    generic: bool,
    /// Every match of the rule's regex lies on one line (it may begin with the newline that
    /// ends the line before) and holds one of its keywords there: the regex then runs on the
    /// lines holding a keyword only, not over the whole file ([`LINE_LOCAL`]).
    line_local: bool,
    check: Check,
    /// Only files whose path matches (custom rules).
    path: Option<Regex>,
    /// Hits of this rule that the rule's own allowlists drop (custom rules).
    allow: Vec<AllowEntry>,
}

/// One secret found in a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit<'r> {
    pub rule: &'r RuleInfo,
    /// The rule's severity, unless its check said otherwise (an encrypted key).
    pub severity: Severity,
    /// What the check noticed (`RSA`, `encrypted`, `decoded from a Kubernetes Secret`).
    pub note: Option<String>,
    /// Where the secret is: 1-based lines, 1-based character columns (end exclusive); no
    /// columns for a secret decoded from base64.
    pub span: Span,
    /// The secret (cut at [`MAX_SECRET_BYTES`]; invalid UTF-8 replaced).
    pub secret: String,
    /// The secret's length in characters, uncut.
    pub length: usize,
    /// `ghp_***(40)`, or for a secret assigned to a variable `DB_PASSWORD=Sup3***(20)`.
    pub redacted: String,
    pub entropy: f64,
}

impl Hit<'_> {
    /// The report's finding for this hit: the rule, the severity, the title (with the
    /// check's note), the redacted secret (the secret itself when `show_secret`), and the
    /// span as the location. The caller adds the rest of the location (path, layer, or the
    /// image config's field) and, for a git history, the commit.
    pub fn finding(&self, show_secret: bool) -> moat_model::Finding {
        let mut f = moat_model::Finding::new(
            self.rule.id.clone(),
            self.severity,
            moat_model::Detail::Secret(moat_model::finding::SecretDetail {
                rule: self.rule.id.clone(),
                category: Some(self.rule.category.clone()),
                redacted: self.redacted.clone(),
                value: show_secret.then(|| self.secret.clone()),
                entropy: Some(self.entropy),
                ..Default::default()
            }),
        );
        f.title = Some(match &self.note {
            Some(n) => format!("{} ({n})", self.rule.title),
            None => self.rule.title.clone(),
        });
        f.location = Some(moat_model::FindingLocation {
            span: Some(self.span),
            ..Default::default()
        });
        f
    }
}

/// A rule set, compiled once and shared by every scan (it is `Send + Sync`).
pub struct Rules {
    rules: Vec<Compiled>,
    prefilter: Option<Keywords>,
    /// Keyword pattern index -> the rules it wakes.
    woken_by: Vec<Vec<usize>>,
    /// Keyword pattern index -> the line-local rules it wakes.
    local_by: Vec<Vec<usize>>,
    /// Rules without keywords: they run on every file.
    always: Vec<usize>,
    allow: Vec<AllowEntry>,
    /// Paths where the generic rules do not run.
    generic_skip: Option<globset::GlobSet>,
}

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rules")
            .field("rules", &self.rules.len())
            .field("allow", &self.allow.len())
            .finish_non_exhaustive()
    }
}

fn build_regex(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
}

/// Capture groups whose names start with `prefix`, in pattern order.
fn named_groups(regex: &Regex, prefix: &str) -> Vec<usize> {
    regex
        .capture_names()
        .enumerate()
        .filter_map(|(i, n)| n.filter(|n| n.starts_with(prefix)).map(|_| i))
        .collect()
}

impl Compiled {
    fn builtin(r: &'static Rule) -> Compiled {
        Compiled {
            info: RuleInfo {
                id: r.id.to_string(),
                title: r.title.to_string(),
                category: r.category.to_string(),
                severity: r.severity,
            },
            pattern: r.regex,
            matcher: OnceLock::new(),
            entropy: r.entropy,
            generic: r.generic,
            line_local: LINE_LOCAL.contains(&r.id),
            check: r.check,
            path: None,
            allow: Vec::new(),
        }
    }

    /// The rule's compiled regex; `None` for a built-in pattern that does not compile,
    /// which the crate's tests rule out.
    fn matcher(&self) -> Option<&Matcher> {
        self.matcher
            .get_or_init(|| {
                build_regex(self.pattern).ok().map(|regex| Matcher {
                    secret_groups: named_groups(&regex, "secret"),
                    key_groups: named_groups(&regex, "key"),
                    regex,
                })
            })
            .as_ref()
    }

    fn custom(r: &CustomRule) -> Result<Compiled, ConfigError> {
        let fail = |message: String| ConfigError::Rule {
            rule: r.id.clone(),
            message,
        };
        let regex = build_regex(&r.regex).map_err(|e| fail(e.to_string()))?;
        let secret_groups = match r.secret_group {
            Some(0) => Vec::new(),
            Some(g) if g < regex.captures_len() => vec![g],
            Some(g) => return Err(fail(format!("the regex has no capture group {g}"))),
            None => named_groups(&regex, "secret"),
        };
        let severity = match &r.severity {
            Some(s) => {
                Severity::from_label(s).ok_or_else(|| fail(format!("unknown severity {s:?}")))?
            }
            None => Severity::Medium,
        };
        let path = r
            .path
            .as_deref()
            .map(build_regex)
            .transpose()
            .map_err(|e| fail(format!("path: {e}")))?;
        let allow = r
            .allow
            .iter()
            .map(|a| compile_allow(a).map_err(&fail))
            .collect::<Result<_, _>>()?;
        Ok(Compiled {
            info: RuleInfo {
                id: r.id.clone(),
                title: r.title.clone().unwrap_or_else(|| r.id.clone()),
                category: r.category.clone().unwrap_or_else(|| "Custom".into()),
                severity,
            },
            pattern: "",
            matcher: OnceLock::from(Some(Matcher {
                key_groups: named_groups(&regex, "key"),
                secret_groups,
                regex,
            })),
            entropy: r.entropy.unwrap_or(0.0),
            generic: false,
            line_local: false,
            check: None,
            path,
            allow,
        })
    }
}

fn compile_allow(a: &AllowSpec) -> Result<AllowEntry, String> {
    let paths = a
        .paths
        .iter()
        .map(|p| {
            if a.path_regexes {
                build_regex(p)
                    .map(PathPattern::Regex)
                    .map_err(|e| format!("path {p:?}: {e}"))
            } else {
                PathPattern::glob(p).map_err(|e| format!("path {p:?}: {e}"))
            }
        })
        .collect::<Result<_, _>>()?;
    let regexes = a
        .regexes
        .iter()
        .map(|r| build_regex(r).map_err(|e| format!("regex {r:?}: {e}")))
        .collect::<Result<_, _>>()?;
    let regex_target = match a.regex_target.as_deref().map(str::to_ascii_lowercase) {
        None => RegexTarget::Secret,
        Some(t) if t == "secret" => RegexTarget::Secret,
        Some(t) if t == "match" => RegexTarget::Match,
        Some(t) if t == "line" => RegexTarget::Line,
        Some(t) => return Err(format!("regexTarget {t:?}: expected secret, match or line")),
    };
    Ok(AllowEntry {
        description: a.description.clone(),
        rules: a.rules.clone(),
        paths,
        regexes,
        regex_target,
        stopwords: a.stopwords.iter().map(|s| s.to_ascii_lowercase()).collect(),
        any: a.any,
    })
}

/// A match that passed its rule's tests, not yet located.
struct Found {
    rule: usize,
    /// Byte range of the secret, and of the whole match.
    secret: (usize, usize),
    matched: (usize, usize),
    /// The bytes before the secret on its line inside the match (`DB_PASSWORD=`).
    context: (usize, usize),
    verdict: Verdict,
}

impl Rules {
    /// The built-in rules alone.
    pub fn builtin() -> Result<Rules, ConfigError> {
        Rules::new(&Config::builtin())
    }

    /// The built-in rules, compiled once per process on first use. `None` only if they do
    /// not compile, which the crate's tests rule out.
    pub fn shared_builtin() -> Option<Arc<Rules>> {
        static BUILTIN: OnceLock<Option<Arc<Rules>>> = OnceLock::new();
        BUILTIN
            .get_or_init(|| Rules::builtin().ok().map(Arc::new))
            .clone()
    }

    /// Compiles a configuration: the built-in rules it keeps, its own rules (one with a
    /// built-in's id replaces it), its allowlists.
    pub fn new(config: &Config) -> Result<Rules, ConfigError> {
        let mut rules: Vec<Compiled> = Vec::new();
        let mut keywords: Vec<Vec<String>> = Vec::new();
        let off = |id: &str| {
            config.disable.iter().any(|d| d == id) || config.rules.iter().any(|c| c.id == id)
        };
        if config.builtin {
            for r in crate::rules::builtin().filter(|r| !off(r.id)) {
                rules.push(Compiled::builtin(r));
                keywords.push(r.keywords.iter().map(|k| k.to_string()).collect());
            }
        }
        for r in &config.rules {
            if config.disable.iter().any(|d| d == &r.id) {
                continue;
            }
            rules.push(Compiled::custom(r)?);
            keywords.push(r.keywords.iter().map(|k| k.to_ascii_lowercase()).collect());
        }
        let mut patterns: Vec<String> = Vec::new();
        let mut woken_by: Vec<Vec<usize>> = Vec::new();
        let mut always = Vec::new();
        for (i, kws) in keywords.iter().enumerate() {
            let kws: Vec<&String> = kws.iter().filter(|k| !k.is_empty()).collect();
            if kws.is_empty() {
                always.push(i);
            }
            for k in kws {
                match patterns.iter().position(|p| p == k) {
                    Some(at) => woken_by[at].push(i),
                    None => {
                        patterns.push(k.clone());
                        woken_by.push(vec![i]);
                    }
                }
            }
        }
        let prefilter = if patterns.is_empty() {
            None
        } else {
            Some(
                Keywords::new(&patterns).map_err(|message| ConfigError::Rule {
                    rule: "(keywords)".into(),
                    message,
                })?,
            )
        };
        let allow = config
            .allow
            .iter()
            .enumerate()
            .map(|(index, a)| {
                compile_allow(a).map_err(|message| ConfigError::Allow { index, message })
            })
            .collect::<Result<_, _>>()?;
        let generic_skip = if config.default_allowlist {
            Some(crate::allow::generic_skip().map_err(|e| ConfigError::Rule {
                rule: "(default allowlist)".into(),
                message: e.to_string(),
            })?)
        } else {
            None
        };
        let local_by = woken_by
            .iter()
            .map(|rs| {
                rs.iter()
                    .copied()
                    .filter(|&r| rules[r].line_local)
                    .collect()
            })
            .collect();
        Ok(Rules {
            rules,
            prefilter,
            woken_by,
            local_by,
            always,
            allow,
            generic_skip,
        })
    }

    /// Compiles every rule's regex now (a built-in one is otherwise compiled on first use)
    /// and returns the ids of those that do not compile.
    pub fn compile_all(&self) -> Vec<&str> {
        self.rules
            .iter()
            .filter(|r| r.matcher().is_none())
            .map(|r| r.info.id.as_str())
            .collect()
    }

    /// The rules, in the order they run.
    pub fn infos(&self) -> impl Iterator<Item = &RuleInfo> {
        self.rules.iter().map(|r| &r.info)
    }

    /// Whether an allowlist entry drops every hit of the file at `path` (no leading `/`),
    /// so that it need not be read.
    pub fn skips_path(&self, path: &str) -> bool {
        let path = path.trim_start_matches('/');
        self.allow.iter().any(|a| a.allows_path(path))
    }

    /// Whether an allowlist entry drops every hit of every file below the directory `dir`
    /// (no leading `/`), so that it need not be listed.
    pub fn skips_dir(&self, dir: &str) -> bool {
        let dir = dir.trim_start_matches('/');
        self.allow.iter().any(|a| a.allows_dir(dir))
    }

    /// The secrets in one file. `path` (no leading `/`; a config field such as
    /// `config:env/NAME` is fine) is matched by path allowlists and path-bound rules.
    pub fn scan<'r>(&'r self, path: &str, bytes: &[u8]) -> Vec<Hit<'r>> {
        let path = path.trim_start_matches('/');
        if self.skips_path(path) {
            return Vec::new();
        }
        let mut hits = self.scan_text(path, bytes);
        let data = crate::kube::secret_data(bytes);
        if !data.is_empty() {
            // the decoded values stand for their base64 lines
            hits.retain(|h| !data.iter().any(|(line, _)| *line == h.span.start_line));
            for (line, text) in data {
                for mut h in self.scan_text(path, &text) {
                    h.span = Span::lines(line, line);
                    h.note = Some(match h.note {
                        Some(n) => format!("{n}, base64 in a Kubernetes Secret"),
                        None => "base64 in a Kubernetes Secret".into(),
                    });
                    hits.push(h);
                }
            }
            hits.truncate(MAX_HITS);
        }
        hits
    }

    /// `text` with every secret the rules find in it replaced by its redacted form (for
    /// echoing scanned values, such as the image config, in a report).
    pub fn redact_text(&self, field: &str, text: &str) -> String {
        let mut out = text.to_string();
        for h in self.scan(field, text.as_bytes()) {
            if h.secret.len() < MAX_SECRET_BYTES && !h.secret.is_empty() {
                out = out.replace(&h.secret, &redact(&h.secret));
            }
        }
        out
    }

    /// Which rules the keywords in `bytes` wake, in rule order, and where the keywords of the
    /// woken line-local rules are: `(rule, offset)`, in no particular order.
    fn woken(&self, bytes: &[u8]) -> (Vec<usize>, Vec<(usize, usize)>) {
        let mut on = vec![false; self.rules.len()];
        let mut at = Vec::new();
        for &i in &self.always {
            on[i] = true;
        }
        if let Some(kw) = &self.prefilter {
            let mut left = self.woken_by.len();
            let mut seen = vec![false; self.woken_by.len()];
            let no_local = self.local_by.iter().all(Vec::is_empty);
            kw.each_match(bytes, |p, start| {
                for &r in &self.local_by[p] {
                    at.push((r, start));
                }
                if !std::mem::replace(&mut seen[p], true) {
                    for &r in &self.woken_by[p] {
                        on[r] = true;
                    }
                    left -= 1;
                    // line-local rules need every keyword's place
                    return left == 0 && no_local;
                }
                false
            });
        }
        let on = on
            .iter()
            .enumerate()
            .filter_map(|(i, &x)| x.then_some(i))
            .collect();
        (on, at)
    }

    /// The candidates of rule `ri` in `bytes`; for a line-local rule, `keywords` are the
    /// offsets of its keywords and only their lines are searched.
    fn candidates(&self, ri: usize, bytes: &[u8], keywords: &[usize], out: &mut Vec<Found>) {
        let rule = &self.rules[ri];
        let Some(m) = rule.matcher() else { return };
        let lines = if rule.line_local {
            keyword_lines(bytes, keywords)
        } else {
            Vec::new()
        };
        // a file whose keywords are on most of its lines is read whole: one search costs
        // less than many short ones (the result is the same)
        if !rule.line_local || lines.iter().map(|(s, e)| e - s).sum::<usize>() * 2 > bytes.len() {
            for caps in m.regex.captures_iter(bytes).take(MAX_CANDIDATES) {
                self.candidate(ri, m, bytes, 0, &caps, out);
            }
            return;
        }
        let mut examined = 0;
        for (start, end) in lines {
            // the window starts at the newline before its line (or the file's start) and
            // ends after its line's newline: no match of a line-local rule starts before
            // the newline (`^` there cannot begin one) or goes past the line
            let window = &bytes[start..end];
            for caps in m.regex.captures_iter(window) {
                if examined == MAX_CANDIDATES {
                    return;
                }
                examined += 1;
                self.candidate(ri, m, window, start, &caps, out);
            }
        }
    }

    /// One regex match of rule `ri` in `bytes`, which start at offset `base` of the file: a
    /// candidate if its secret passes the rule's tests.
    fn candidate(
        &self,
        ri: usize,
        m: &Matcher,
        bytes: &[u8],
        base: usize,
        caps: &regex::bytes::Captures,
        out: &mut Vec<Found>,
    ) {
        let rule = &self.rules[ri];
        let Some(whole) = caps.get(0) else { return };
        let secret = if m.secret_groups.is_empty() {
            Some(whole)
        } else {
            m.secret_groups.iter().find_map(|&g| caps.get(g))
        };
        let Some(secret) = secret else { return };
        let s = secret.as_bytes();
        if s.is_empty() || is_placeholder(s) {
            return;
        }
        if rule.entropy > 0.0 && entropy(s) < rule.entropy {
            return;
        }
        let key = m.key_groups.iter().find_map(|&g| caps.get(g));
        let verdict = match rule.check {
            Some(check) => check(&Candidate {
                matched: whole.as_bytes(),
                secret: s,
                key: key.map(|k| k.as_bytes()),
            }),
            None => Verdict::KEEP,
        };
        if verdict == Verdict::Reject {
            return;
        }
        // the text before the secret on its line, inside the match
        let line_start = bytes[whole.start()..secret.start()]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(whole.start(), |p| whole.start() + p + 1);
        out.push(Found {
            rule: ri,
            secret: (base + secret.start(), base + secret.end()),
            matched: (base + whole.start(), base + whole.end()),
            context: (base + line_start, base + secret.start()),
            verdict,
        });
    }

    /// Steps 1 to 4 of the module documentation, without the Kubernetes decoding.
    fn scan_text<'r>(&'r self, path: &str, bytes: &[u8]) -> Vec<Hit<'r>> {
        let mut found = Vec::new();
        let skip_generic = self.generic_skip.as_ref().is_some_and(|g| g.is_match(path));
        let (woken, mut keywords) = self.woken(bytes);
        keywords.sort_unstable();
        for ri in woken {
            let rule = &self.rules[ri];
            if (skip_generic && rule.generic)
                || rule
                    .path
                    .as_ref()
                    .is_some_and(|p| !p.is_match(path.as_bytes()))
            {
                continue;
            }
            let from = keywords.partition_point(|&(r, _)| r < ri);
            let to = keywords.partition_point(|&(r, _)| r <= ri);
            let at: Vec<usize> = keywords[from..to].iter().map(|&(_, o)| o).collect();
            self.candidates(ri, bytes, &at, &mut found);
        }
        if found.is_empty() {
            return Vec::new();
        }
        // specific before generic, then rule order; the first claim on some bytes wins,
        // even when an allowlist then drops it (a generic rule does not report it instead)
        found.sort_by_key(|f| (self.rules[f.rule].generic, f.rule, f.secret.0));
        let mut claimed: Vec<(usize, usize)> = Vec::new();
        let mut kept: Vec<Found> = Vec::new();
        for f in found {
            if kept.len() >= MAX_HITS {
                break;
            }
            let (start, end) = f.secret;
            if claimed.iter().any(|&(s, e)| start < e && s < end) {
                continue;
            }
            claimed.push(f.secret);
            if !self.allowed(path, bytes, &f) {
                kept.push(f);
            }
        }
        kept.sort_by_key(|f| (f.secret.0, f.rule));
        self.locate(bytes, kept)
    }

    /// Whether an inline `moat:ignore` or an allowlist drops the hit.
    fn allowed(&self, path: &str, bytes: &[u8], f: &Found) -> bool {
        let line = line_around(bytes, f.secret.0);
        if crate::shape::contains(line, b"moat:ignore") {
            return true;
        }
        let rule = &self.rules[f.rule];
        let seen = Seen {
            rule: &rule.info.id,
            path,
            secret: &bytes[f.secret.0..f.secret.1],
            matched: &bytes[f.matched.0..f.matched.1],
            line,
        };
        self.allow
            .iter()
            .chain(&rule.allow)
            .any(|a| a.allows(&seen))
    }

    /// Lines and columns of hits sorted by offset, counted in one forward pass.
    fn locate<'r>(&'r self, bytes: &[u8], kept: Vec<Found>) -> Vec<Hit<'r>> {
        let mut cursor = Cursor::default();
        kept.into_iter()
            .map(|f| {
                let (start_line, start_column) = cursor.advance(bytes, f.secret.0);
                let (end_line, end_column) = cursor.peek(bytes, f.secret.1);
                let s = &bytes[f.secret.0..f.secret.1];
                let text = String::from_utf8_lossy(s);
                let length = text.chars().count();
                let mut redacted = redact(&text);
                if !redacted.starts_with("-----BEGIN ") {
                    let context = String::from_utf8_lossy(&bytes[f.context.0..f.context.1]);
                    let context = context.trim_start().trim_end_matches(['"', '\'', '`']);
                    if !context.is_empty() && context.len() <= 80 {
                        redacted = format!("{context}{redacted}");
                    }
                }
                let cut = s.len().min(MAX_SECRET_BYTES);
                let rule = &self.rules[f.rule];
                let (note, severity) = match f.verdict {
                    Verdict::Keep { note, severity } => (note, severity),
                    Verdict::Reject => (None, None),
                };
                Hit {
                    rule: &rule.info,
                    severity: severity.unwrap_or(rule.info.severity),
                    note,
                    span: Span {
                        start_line,
                        start_column: Some(start_column),
                        end_line,
                        end_column: Some(end_column),
                    },
                    secret: String::from_utf8_lossy(&s[..cut]).into_owned(),
                    length,
                    redacted,
                    entropy: (entropy(s) * 100.0).round() / 100.0,
                }
            })
            .collect()
    }
}

/// The keyword prefilter: every rule's keywords in one Aho-Corasick DFA (ASCII
/// case-insensitive, all matches, overlapping), run by hand over the bytes: one table lookup
/// per byte, and a match costs a few instructions instead of a return from a search call
/// (the frequent short keywords, `key`, `pass`, `sk`, `pat`, match thousands of times in a
/// file). A long text is cut into [`LANES`] stretches searched in lock step, each stretch
/// starting the longest keyword's length early so that its automaton is in the state a
/// search from the file's start would be in when the stretch begins: the lanes' lookups do
/// not wait on each other, so the processor overlaps them.
struct Keywords {
    dfa: DFA,
    start: StateID,
    /// Each keyword's length.
    lens: Vec<usize>,
    max_len: usize,
}

/// Stretches searched in lock step.
const LANES: usize = 4;

/// One stretch of [`Keywords::each_match`]: the next byte to read, the bytes whose matches
/// it reports, and its automaton's state.
struct Lane {
    at: usize,
    from: usize,
    to: usize,
    sid: StateID,
}
/// Texts shorter than this are searched in one stretch.
const LANES_FROM: usize = 4 << 10;

impl Keywords {
    fn new(patterns: &[String]) -> Result<Keywords, String> {
        let dfa = aho_corasick::dfa::Builder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .prefilter(false)
            .build(patterns)
            .map_err(|e| e.to_string())?;
        let start = dfa
            .start_state(aho_corasick::Anchored::No)
            .map_err(|e| e.to_string())?;
        let lens: Vec<usize> = patterns.iter().map(String::len).collect();
        let max_len = lens.iter().copied().max().unwrap_or(0);
        Ok(Keywords {
            dfa,
            start,
            lens,
            max_len,
        })
    }

    /// Calls `f(keyword, start offset)` for every occurrence of every keyword in `bytes`
    /// (overlapping ones too), in no particular order, until `f` returns true.
    fn each_match(&self, bytes: &[u8], mut f: impl FnMut(usize, usize) -> bool) {
        let dfa = &self.dfa;
        // the keywords ending at byte `i` (reached in state `sid`); true: stop
        let mut report = |sid: StateID, i: usize| {
            for k in 0..dfa.match_len(sid) {
                let p = dfa.match_pattern(sid, k).as_usize();
                if f(p, (i + 1).saturating_sub(self.lens[p])) {
                    return true;
                }
            }
            false
        };
        if bytes.len() < LANES_FROM {
            let mut sid = self.start;
            for (i, &b) in bytes.iter().enumerate() {
                sid = dfa.next_state(aho_corasick::Anchored::No, sid, b);
                if dfa.is_match(sid) && report(sid, i) {
                    return;
                }
            }
            return;
        }
        // lane k reports the matches ending in its stretch, [from, to), and reads from `at`
        let stretch = bytes.len().div_ceil(LANES);
        let mut lanes: [Lane; LANES] = std::array::from_fn(|k| Lane {
            at: (k * stretch).saturating_sub(self.max_len),
            from: k * stretch,
            to: ((k + 1) * stretch).min(bytes.len()),
            sid: self.start,
        });
        // every lane reads at least this many bytes (the last stretch may be shorter)
        let common = lanes.iter().map(|l| l.to - l.at).min().unwrap_or(0);
        for _ in 0..common {
            for l in &mut lanes {
                let i = l.at;
                l.sid = dfa.next_state(aho_corasick::Anchored::No, l.sid, bytes[i]);
                if dfa.is_match(l.sid) && i >= l.from && report(l.sid, i) {
                    return;
                }
                l.at = i + 1;
            }
        }
        for l in &mut lanes {
            for (i, &b) in bytes.iter().enumerate().take(l.to).skip(l.at) {
                l.sid = dfa.next_state(aho_corasick::Anchored::No, l.sid, b);
                if dfa.is_match(l.sid) && i >= l.from && report(l.sid, i) {
                    return;
                }
            }
        }
    }
}

/// The line holding `at`, without its newline.
fn line_around(bytes: &[u8], at: usize) -> &[u8] {
    let start = bytes[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let end = bytes[at..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| at + p);
    &bytes[start..end]
}

/// A forward-only line counter.
#[derive(Default)]
struct Cursor {
    /// Offset reached, its 0-based line, and where that line starts.
    at: usize,
    line: u32,
    line_start: usize,
}

impl Cursor {
    /// Moves to `to` (never backwards) and gives its 1-based line and character column.
    fn advance(&mut self, bytes: &[u8], to: usize) -> (u32, u32) {
        let to = to.max(self.at).min(bytes.len());
        for (i, &b) in bytes[self.at..to].iter().enumerate() {
            if b == b'\n' {
                self.line = self.line.saturating_add(1);
                self.line_start = self.at + i + 1;
            }
        }
        self.at = to;
        (self.line + 1, column(&bytes[self.line_start..to]))
    }

    /// The line and column of `to` without moving.
    fn peek(&self, bytes: &[u8], to: usize) -> (u32, u32) {
        let mut c = Cursor {
            at: self.at,
            line: self.line,
            line_start: self.line_start,
        };
        c.advance(bytes, to)
    }
}

/// The 1-based character column after `before` (the bytes of the line before a position).
fn column(before: &[u8]) -> u32 {
    let chars = before.iter().filter(|&&b| (b & 0xC0) != 0x80).count();
    u32::try_from(chars).unwrap_or(u32::MAX).saturating_add(1)
}

/// The lines of `bytes` holding the keyword offsets `at` (sorted), as byte ranges: from the
/// newline ending the line before (a line-local match may begin with it; 0 on the first line)
/// to after the line's own newline (or the end). Touching lines are merged into one range.
fn keyword_lines(bytes: &[u8], at: &[usize]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for &k in at {
        if out.last().is_some_and(|&(_, end)| k < end) {
            continue;
        }
        let start = memchr::memrchr(b'\n', &bytes[..k]).unwrap_or(0);
        let end = memchr::memchr(b'\n', &bytes[k..]).map_or(bytes.len(), |n| k + n + 1);
        match out.last_mut() {
            Some(last) if start < last.1 => last.1 = end,
            _ => out.push((start, end)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(toml: &str) -> Rules {
        Rules::new(&Config::parse(toml.as_bytes()).unwrap()).unwrap()
    }

    /// (rule, line, start column, end column, redacted)
    type Located<'a> = (&'a str, u32, Option<u32>, Option<u32>, &'a str);

    #[test]
    fn hits_are_located_and_redacted() {
        let r = Rules::builtin().unwrap();
        let text = "# FAKE\nGITHUB_TOKEN=ghp_JC6RQuFlBnDomtQhA14VqnPa5lwOo0OpGcSD\nDB_PASSWORD=Sup3rS3cretPassw0rd!\n";
        let hits = r.scan("/app/.env", text.as_bytes());
        let got: Vec<Located> = hits
            .iter()
            .map(|h| {
                (
                    h.rule.id.as_str(),
                    h.span.start_line,
                    h.span.start_column,
                    h.span.end_column,
                    h.redacted.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("github-pat", 2, Some(14), Some(54), "ghp_***(40)"),
                (
                    "generic-password",
                    3,
                    Some(13),
                    Some(33),
                    "DB_PASSWORD=Sup3***(20)"
                ),
            ]
        );
        assert_eq!(hits[0].secret, "ghp_JC6RQuFlBnDomtQhA14VqnPa5lwOo0OpGcSD");
        assert_eq!(hits[0].length, 40);
    }

    #[test]
    fn a_specific_rule_beats_a_generic_one_on_the_same_bytes() {
        let r = Rules::builtin().unwrap();
        let hits = r.scan(
            "x.py",
            b"api_token = \"ghp_JC6RQuFlBnDomtQhA14VqnPa5lwOo0OpGcSD\"\n",
        );
        let ids: Vec<&str> = hits.iter().map(|h| h.rule.id.as_str()).collect();
        assert_eq!(ids, ["github-pat"]);
    }

    #[test]
    fn inline_ignore_and_allowlists() {
        let line = "token: ghp_JC6RQuFlBnDomtQhA14VqnPa5lwOo0OpGcSD";
        let r = Rules::builtin().unwrap();
        assert_eq!(r.scan("a.yaml", line.as_bytes()).len(), 1);
        let ignored = format!("{line} # moat:ignore\n");
        assert!(r.scan("a.yaml", ignored.as_bytes()).is_empty());

        let by_path = rules("[[allow]]\npaths = ['app/test/**']\n");
        assert!(by_path.skips_path("/app/test/x.yaml"));
        assert!(by_path.scan("/app/test/x.yaml", line.as_bytes()).is_empty());
        assert_eq!(by_path.scan("/app/x.yaml", line.as_bytes()).len(), 1);

        // with the specific rule off, the generic one reports the assignment
        let by_rule = rules("disable = ['github-pat']\n");
        let ids: Vec<String> = by_rule
            .scan("a.yaml", line.as_bytes())
            .into_iter()
            .map(|h| h.rule.id.clone())
            .collect();
        assert_eq!(ids, ["generic-secret"]);
        let both = rules("disable = ['github-pat', 'generic-secret']\n");
        assert!(both.scan("a.yaml", line.as_bytes()).is_empty());
        let by_regex = rules("[[allow]]\nregexes = ['^ghp_JC6']\n");
        assert!(by_regex.scan("a.yaml", line.as_bytes()).is_empty());
        let by_stopword = rules("[[allow]]\nrules = ['github-pat']\nstopwords = ['lwoo0']\n");
        assert!(by_stopword.scan("a.yaml", line.as_bytes()).is_empty());
    }

    #[test]
    fn generic_rules_skip_third_party_trees_unless_told() {
        let text = b"DB_PASSWORD = 'Sup3rS3cretPassw0rd!'\nGH = 'ghp_JC6RQuFlBnDomtQhA14VqnPa5lwOo0OpGcSD'\n";
        let ids = |r: &Rules, path: &str| -> Vec<String> {
            r.scan(path, text)
                .into_iter()
                .map(|h| h.rule.id.clone())
                .collect()
        };
        let r = Rules::builtin().unwrap();
        assert_eq!(
            ids(&r, "app/settings.py"),
            ["generic-password", "github-pat"]
        );
        for path in [
            "usr/lib/python3.11/urllib/request.py",
            "app/node/node_modules/axios/README.md",
            "src/tests/conftest.py",
            "web/package-lock.json",
            "go.sum",
        ] {
            assert_eq!(ids(&r, path), ["github-pat"], "{path}");
        }
        let everywhere = rules("default-allowlist = false\n");
        assert_eq!(
            ids(&everywhere, "usr/lib/python3.11/urllib/request.py"),
            ["generic-password", "github-pat"]
        );
    }

    #[test]
    fn kubernetes_secret_data_is_reported_decoded_only() {
        let yaml = b"kind: Secret\ndata:\n  token: Z2hwX0pDNlJRdUZsQm5Eb210UWhBMTRWcW5QYTVsd09vME9wR2NTRA==\n";
        let r = Rules::builtin().unwrap();
        let hits = r.scan("k8s/s.yaml", yaml);
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0].rule.id, "github-pat");
        assert_eq!(hits[0].span, Span::lines(3, 3));
        assert_eq!(
            hits[0].note.as_deref(),
            Some("base64 in a Kubernetes Secret")
        );
    }

    #[test]
    fn text_is_redacted() {
        let r = Rules::builtin().unwrap();
        assert_eq!(
            r.redact_text(
                "config:history/4",
                "ENV A=1 GITHUB_TOKEN=ghp_JC6RQuFlBnDomtQhA14VqnPa5lwOo0OpGcSD B=2"
            ),
            "ENV A=1 GITHUB_TOKEN=ghp_***(40) B=2"
        );
        assert_eq!(r.redact_text("x", "PATH=/usr/bin"), "PATH=/usr/bin");
    }

    #[test]
    fn custom_and_gitleaks_rules() {
        let r = rules(
            r#"
builtin = false
[[rules]]
id = "acme"
description = "ACME token"
regex = '''key=(acme_[a-z0-9]{16})'''
secretGroup = 1
keywords = ["ACME_"]
path = '''\.conf$'''
[rules.allowlist]
regexes = ['''acme_0+$''']
"#,
        );
        assert_eq!(r.infos().count(), 1);
        let hits = r.scan(
            "a.conf",
            b"key=acme_k3j9x8q2m4n7b1v5\nkey=acme_0000000000000000\n",
        );
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].secret, "acme_k3j9x8q2m4n7b1v5");
        assert_eq!(hits[0].rule.title, "ACME token");
        assert_eq!(hits[0].severity, Severity::Medium);
        assert_eq!(hits[0].redacted, "key=acme***(21)");
        assert!(r.scan("a.txt", b"key=acme_k3j9x8q2m4n7b1v5").is_empty());
    }

    #[test]
    fn bad_configurations_are_errors_naming_the_rule() {
        let bad = |t: &str| {
            Rules::new(&Config::parse(t.as_bytes()).unwrap())
                .unwrap_err()
                .to_string()
        };
        assert!(bad("[[rules]]\nid = 'x'\nregex = '('\n").contains("rule x"));
        assert!(bad("[[rules]]\nid = 'x'\nregex = 'a'\nsecret-group = 3\n").contains("group 3"));
        assert!(bad("[[rules]]\nid = 'x'\nregex = 'a'\nseverity = 'huge'\n").contains("severity"));
        assert!(bad("[[allow]]\npaths = ['a[']\n").contains("allowlist entry 0"));
    }

    #[test]
    fn columns_count_characters() {
        assert_eq!(column(b""), 1);
        assert_eq!(column("é=".as_bytes()), 3);
        let mut c = Cursor::default();
        assert_eq!(c.advance(b"ab\ncd\nef", 4), (2, 2));
        assert_eq!(c.peek(b"ab\ncd\nef", 7), (3, 2));
        assert_eq!(c.advance(b"ab\ncd\nef", 2), (2, 2));
    }

    /// The fuzz target's properties over pseudo-random mixes of rule keywords, key
    /// armour, base64, separators and raw bytes (a seeded generator: the same inputs on
    /// every run): no panic, spans inside the text, every secret redacted.
    #[test]
    fn arbitrary_bytes_keep_the_engine_sane() {
        let r = Rules::builtin().unwrap();
        let parts: &[&[u8]] = &[
            b"ghp_",
            b"AKIA",
            b"sk_live_",
            b"xoxb-",
            b"glpat-",
            b"password",
            b"SECRET",
            b"token",
            b"-----BEGIN PRIVATE KEY-----",
            b"-----END",
            b"eyJ",
            b"data:",
            b"kind: Secret",
            b"postgres://u:",
            b"@h/db",
            b"=",
            b": ",
            b"\n",
            b"\n  ",
            b"\"",
            b"'",
            b"\0",
            b"\xff\xfe",
            b"Zm9vYmFyYmF6cXV4",
            b"Sup3rS3cret!",
            b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            b"moat:ignore",
            b"\r\n",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..3000 {
            let mut text = Vec::new();
            for _ in 0..(next() % 40) {
                let n = next();
                if n % 5 == 0 {
                    text.extend((0..n % 30).map(|i| (n >> (i % 56)) as u8));
                } else {
                    text.extend_from_slice(parts[(n as usize) % parts.len()]);
                }
            }
            let lines = text.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
            for hit in r.scan("app/deploy/secret.yaml", &text) {
                assert!(hit.span.start_line >= 1, "{text:?}");
                assert!(hit.span.end_line >= hit.span.start_line, "{text:?}");
                assert!(hit.span.end_line <= lines, "{text:?}");
                assert!(hit.redacted.contains("***("), "{text:?}");
            }
            if let Ok(config) = Config::parse(&text)
                && let Ok(rules) = Rules::new(&config)
            {
                let _ = rules.scan("x", &text);
            }
        }
    }

    /// The rules as they were before line-local search: every regex over the whole file.
    fn whole_file_rules() -> Rules {
        let mut r = Rules::builtin().unwrap();
        for c in &mut r.rules {
            c.line_local = false;
        }
        for l in &mut r.local_by {
            l.clear();
        }
        r
    }

    #[test]
    fn keyword_lines_cover_the_line_and_the_newline_before() {
        let text = b"a\npassword=1\nx\nkey=2\nkey=3\nlast key";
        let at = |w: &str| {
            let t = std::str::from_utf8(text).unwrap();
            t.match_indices(w).map(|(i, _)| i).collect::<Vec<_>>()
        };
        assert_eq!(keyword_lines(text, &at("password")), vec![(1, 13)]);
        // adjacent lines merge; the last line has no newline
        let mut k = at("key");
        k.sort_unstable();
        assert_eq!(keyword_lines(text, &k), vec![(14, 35)]);
        assert_eq!(keyword_lines(b"pw=1", &[0]), vec![(0, 4)]);
        assert_eq!(keyword_lines(b"", &[]), vec![]);
    }

    #[test]
    fn line_local_equals_whole_file() {
        let fast = Rules::builtin().unwrap();
        let slow = whole_file_rules();
        assert!(
            LINE_LOCAL
                .iter()
                .all(|id| fast.infos().any(|i| i.id == *id))
        );
        // every rule's example and near misses, the generic rules' own cases, and lines that
        // put keywords and values at the edges of lines and files
        let mut pieces: Vec<String> = Vec::new();
        for r in crate::rules::builtin() {
            pieces.push(r.example.to_string());
            pieces.extend(r.near_misses.iter().map(|s| s.to_string()));
        }
        pieces.extend(
            [
                "password=Xk9#mQ2vL7pZ",
                "PASSWORD=Xk9#mQ2vL7pZ\r",
                "my_pw: 'Zq8!rT4wE6yU'",
                "<password>Yh7$kL3mN9pQ</password>",
                "ENV DB_PASS Vb5^nM8kJ2hG",
                "  ARG API_TOKEN=Rt6&yU8iO0pL",
                "secret_key=",
                "Wq2@eR4tY6uI",
                "token = \"Kj8*hG5fD3sA1zX\" password = \"Lp0)oI9uY8tR\"",
                "\"apiKey\": \"Mn3$bV5cX7zL9kJ\",",
                "passwd",
                "credential:Tg4%rE2wQ8yU",
                "KEY",
                "x",
                "",
            ]
            .map(String::from),
        );
        let check = |text: &str| {
            let a = fast.scan("app/config.env", text.as_bytes());
            let b = slow.scan("app/config.env", text.as_bytes());
            assert_eq!(a, b, "differs on {text:?}");
        };
        for p in &pieces {
            check(p);
        }
        // a keyword line among many others: its line alone is searched
        let filler = "The quick brown fox jumps over the lazy dog 0123456789\n".repeat(20);
        let sparse = format!("{filler}DB_PASSWORD=Sup3rS3cretPassw0rd!\n{filler}x = 1");
        assert_eq!(fast.scan("app/config.env", sparse.as_bytes()).len(), 1);
        check(&sparse);
        // deterministic mixes: pieces joined by \n, \r\n or nothing, with and without a
        // final newline
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let mut found = 0;
        for _ in 0..400 {
            let mut text = String::new();
            for _ in 0..1 + next(8) {
                text.push_str(&pieces[next(pieces.len())]);
                if next(3) == 0 {
                    // a line no line-local rule wakes on: the keyword lines are searched alone
                    text.push_str("\nThe quick brown fox jumps over the lazy dog 0123456789");
                }
                text.push_str(["\n", "\r\n", " ", "\n\n", ""][next(5)]);
            }
            found += fast.scan("app/config.env", text.as_bytes()).len();
            check(&text);
        }
        assert!(found > 100, "the mixes find too little to compare: {found}");
    }

    /// The hand-run prefilter finds what the library's overlapping search finds, in one
    /// stretch and in lanes, with keywords straddling the lanes' edges.
    #[test]
    fn keyword_search_in_lanes_finds_every_overlapping_match() {
        let mut patterns: Vec<String> = Vec::new();
        for r in crate::rules::builtin() {
            for k in r.keywords {
                if !patterns.iter().any(|p| p == k) {
                    patterns.push(k.to_string());
                }
            }
        }
        let kw = Keywords::new(&patterns).unwrap();
        let ac = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&patterns)
            .unwrap();
        let mut pieces: Vec<String> = patterns.iter().map(|p| p.to_ascii_uppercase()).collect();
        pieces.extend(patterns.iter().cloned());
        pieces
            .extend(["\n", "x", "password=Sup3r", "-----BEGIN RSA PRIVATE KEY"].map(String::from));
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for round in 0..60 {
            // short texts take one stretch, long ones the lanes
            let target = if round % 3 == 0 {
                300
            } else {
                LANES_FROM + next(20_000)
            };
            let mut text = String::new();
            while text.len() < target {
                text.push_str(&pieces[next(pieces.len())]);
                if next(2) == 0 {
                    text.push_str(&"a".repeat(next(40)));
                }
            }
            let mut want: Vec<(usize, usize)> = ac
                .find_overlapping_iter(text.as_bytes())
                .map(|m| (m.pattern().as_usize(), m.start()))
                .collect();
            let mut got = Vec::new();
            kw.each_match(text.as_bytes(), |p, start| {
                got.push((p, start));
                false
            });
            want.sort_unstable();
            got.sort_unstable();
            assert!(want.len() > 10);
            assert_eq!(got, want, "round {round}, {} bytes", text.len());
        }
        // stopping early stops
        let mut n = 0;
        kw.each_match("key ".repeat(5000).as_bytes(), |_, _| {
            n += 1;
            n == 3
        });
        assert_eq!(n, 3);
    }
}

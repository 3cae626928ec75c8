//! A rule as written: [`Rule`] (built in, with its documentation) and the checks a rule may
//! run on a candidate before it becomes a hit ([`Check`], [`Candidate`], [`Verdict`]).

use moat_model::Severity;

/// A built-in rule: what it matches, how sure a match is, and its documentation in the
/// shape `moat rules explain` prints (what it does, why it is bad, an example, the fix).
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Stable, kebab-case (`aws-access-key-id`): the finding's id. Never reused.
    pub id: &'static str,
    /// One line for reports (`AWS access key ID`).
    pub title: &'static str,
    /// The provider or family (`AWS`, `GitHub`, `PrivateKey`, `Generic`).
    pub category: &'static str,
    pub severity: Severity,
    /// Lowercase ASCII literals; the regex runs only on files holding one of them (matched
    /// case-insensitively). Every match of the regex contains one of them.
    pub keywords: &'static [&'static str],
    /// The pattern, `regex` syntax, matched on bytes with ASCII classes. The secret is the
    /// first participating group whose name starts with `secret`, else the whole match; a
    /// group whose name starts with `key` names the variable it is assigned to.
    pub regex: &'static str,
    /// Least Shannon entropy of the secret in bits per byte; `0.0` for none.
    pub entropy: f64,
    /// A rule of last resort (an assignment to a variable named like a password): a
    /// specific rule's hit on the same bytes replaces it.
    pub generic: bool,
    /// A further test of each candidate.
    pub check: Check,
    /// What it does.
    pub what: &'static str,
    /// Why is this bad?
    pub why: &'static str,
    /// Fix.
    pub fix: &'static str,
    /// A true positive: the documentation's example and the rule's test.
    pub example: &'static str,
    /// Text the rule must not report: documentation examples, placeholders, hashes, test
    /// values, neighbouring formats.
    pub near_misses: &'static [&'static str],
}

impl Rule {
    /// The documentation, as Markdown: title, id and severity, then What it does / Why is
    /// this bad? / Example / Fix.
    pub fn explain(&self) -> String {
        format!(
            "# {} (`{}`)\n\nSeverity: {}. Category: {}.\n\n## What it does\n{}\n\n## Why is this bad?\n{}\n\n## Example\n```\n{}\n```\n\n## Fix\n{}\n",
            self.title,
            self.id,
            self.severity.as_str(),
            self.category,
            self.what,
            self.why,
            self.example,
            self.fix
        )
    }
}

/// What a rule's candidate looks like to its check.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// The whole match.
    pub matched: &'a [u8],
    /// The secret inside it.
    pub secret: &'a [u8],
    /// The variable the secret is assigned to, where the rule captures it.
    pub key: Option<&'a [u8]>,
}

/// A check's answer: drop the candidate, or keep it, possibly with a note for the title and
/// a different severity (an encrypted private key is less severe).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Reject,
    Keep {
        note: Option<String>,
        severity: Option<Severity>,
    },
}

impl Verdict {
    /// Kept as is.
    pub const KEEP: Verdict = Verdict::Keep {
        note: None,
        severity: None,
    };

    /// Kept or rejected.
    pub fn from_bool(keep: bool) -> Verdict {
        if keep { Verdict::KEEP } else { Verdict::Reject }
    }

    /// Kept with a note.
    pub fn note(note: impl Into<String>) -> Verdict {
        Verdict::Keep {
            note: Some(note.into()),
            severity: None,
        }
    }
}

/// A rule's further test of a candidate (a plain function, so rules stay `const` data).
pub type Check = Option<fn(&Candidate) -> Verdict>;

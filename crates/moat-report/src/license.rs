//! Licence strings as packages declare them -> what the SBOM formats can carry.
//!
//! A package's licence strings come from package metadata written by people: `MIT`,
//! `GPL-2.0-or-later OR MIT`, `Artistic`, `GPL-2+`, `BSD-3-clause and MIT`. Each string is
//! classified once ([`classify`]) with the `spdx` crate in strict mode (deprecated ids
//! allowed, because they are still on the SPDX list):
//!
//! * a single licence id without `+` or `WITH` -> [`Lic::Id`] (the canonical spelling);
//! * any other valid expression of listed ids -> [`Lic::Expr`], re-printed canonically;
//! * anything else, including expressions with `LicenseRef-`s (they would need definitions
//!   we do not have) -> [`Lic::Name`], kept verbatim.
//!
//! `NOASSERTION`, `NONE` and blank strings carry no information and are dropped.

use spdx::expression::{ExprNode, Operator};
use spdx::{Expression, LicenseItem, ParseMode};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lic {
    Id(String),
    Expr(String),
    Name(String),
}

const MODE: ParseMode = ParseMode {
    allow_deprecated: true,
    ..ParseMode::STRICT
};

/// Classifies one licence string; `None` for strings that say nothing.
pub(crate) fn classify(raw: &str) -> Option<Lic> {
    let s = raw.trim();
    if s.is_empty() || s == "NOASSERTION" || s == "NONE" {
        return None;
    }
    let Ok(expr) = Expression::parse_mode(s, MODE) else {
        return Some(Lic::Name(s.to_string()));
    };
    if expr.requirements().any(|r| {
        matches!(r.req.license, LicenseItem::Other(_))
            || r.req.addition.as_ref().is_some_and(|a| a.id().is_none())
    }) {
        return Some(Lic::Name(s.to_string()));
    }
    let reqs: Vec<_> = expr.requirements().collect();
    if let [only] = reqs.as_slice()
        && let LicenseItem::Spdx {
            id,
            or_later: false,
        } = only.req.license
        && only.req.addition.is_none()
    {
        return Some(Lic::Id(id.name.to_string()));
    }
    match canonical(&expr) {
        Some(text) => Some(Lic::Expr(text)),
        None => Some(Lic::Name(s.to_string())),
    }
}

/// Re-prints an expression from its postfix form with single spaces, upper-case
/// operators and only the parentheses precedence needs (AND binds tighter than OR).
fn canonical(expr: &Expression) -> Option<String> {
    // (text, top-level operator of that text)
    let mut stack: Vec<(String, Option<Operator>)> = Vec::new();
    for node in expr.iter() {
        match node {
            ExprNode::Req(r) => stack.push((r.req.to_string(), None)),
            ExprNode::Op(op) => {
                let (b, bop) = stack.pop()?;
                let (a, aop) = stack.pop()?;
                let wrap = |t: String, o: Option<Operator>| {
                    if *op == Operator::And && o == Some(Operator::Or) {
                        format!("({t})")
                    } else {
                        t
                    }
                };
                let word = if *op == Operator::And { "AND" } else { "OR" };
                stack.push((
                    format!("{} {word} {}", wrap(a, aop), wrap(b, bop)),
                    Some(*op),
                ));
            }
        }
    }
    let (text, _) = stack.pop()?;
    stack.is_empty().then_some(text)
}

/// True when a canonical expression has an OR outside parentheses, i.e. needs
/// parentheses to be joined with others by AND.
pub(crate) fn needs_parens(text: &str) -> bool {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ' ' if depth == 0 && text[i..].starts_with(" OR ") => return true,
            _ => {}
        }
    }
    false
}

/// Maps free-text licence names to `LicenseRef-` ids that are unique within a document:
/// the name with every character outside `[A-Za-z0-9.-]` replaced by `-`, then `-2`,
/// `-3`, ... for the rare different names that sanitise alike.
#[derive(Debug, Default)]
pub(crate) struct LicenseRefs {
    /// (name, ref) in first-use order.
    entries: Vec<(String, String)>,
}

impl LicenseRefs {
    pub(crate) fn get(&mut self, name: &str) -> String {
        if let Some((_, r)) = self.entries.iter().find(|(n, _)| n == name) {
            return r.clone();
        }
        // A name that already is a well-formed `LicenseRef-x` keeps its spelling.
        let bare = name
            .strip_prefix("LicenseRef-")
            .filter(|rest| !rest.is_empty() && crate::sanitize_id(rest) == *rest);
        let base = match bare {
            Some(rest) => format!("LicenseRef-{rest}"),
            None => {
                let s = crate::sanitize_id(name);
                format!("LicenseRef-{}", if s.is_empty() { "unknown" } else { &s })
            }
        };
        let mut candidate = base.clone();
        let mut n = 2;
        while self.entries.iter().any(|(_, r)| *r == candidate) {
            candidate = format!("{base}-{n}");
            n += 1;
        }
        self.entries.push((name.to_string(), candidate.clone()));
        candidate
    }

    /// (name, ref) pairs in first-use order.
    pub(crate) fn into_entries(self) -> Vec<(String, String)> {
        self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert_eq!(classify(" MIT "), Some(Lic::Id("MIT".into())));
        assert_eq!(classify("GPL-2.0"), Some(Lic::Id("GPL-2.0".into())));
        assert_eq!(
            classify("GPL-2.0-or-later OR MIT"),
            Some(Lic::Expr("GPL-2.0-or-later OR MIT".into()))
        );
        assert_eq!(classify("mit"), Some(Lic::Name("mit".into())));
        assert_eq!(classify("Artistic"), Some(Lic::Name("Artistic".into())));
        assert_eq!(classify("GPL-2+"), Some(Lic::Name("GPL-2+".into())));
        assert_eq!(
            classify("LicenseRef-foo"),
            Some(Lic::Name("LicenseRef-foo".into()))
        );
        assert_eq!(
            classify("Apache-2.0+"),
            Some(Lic::Expr("Apache-2.0+".into()))
        );
        assert_eq!(
            classify("GPL-3.0-only WITH Classpath-exception-2.0"),
            Some(Lic::Expr(
                "GPL-3.0-only WITH Classpath-exception-2.0".into()
            ))
        );
        assert_eq!(classify("NOASSERTION"), None);
        assert_eq!(classify("  "), None);
    }

    #[test]
    fn canonical_printing_keeps_needed_parentheses_only() {
        assert_eq!(
            classify("(MIT or Apache-2.0) and  BSD-3-Clause"),
            Some(Lic::Expr("(MIT OR Apache-2.0) AND BSD-3-Clause".into()))
        );
        assert_eq!(
            classify("MIT OR (Apache-2.0 AND BSD-3-Clause)"),
            Some(Lic::Expr("MIT OR Apache-2.0 AND BSD-3-Clause".into()))
        );
        assert_eq!(classify("((MIT))"), Some(Lic::Id("MIT".into())));
    }

    #[test]
    fn license_refs_are_unique() {
        let mut refs = LicenseRefs::default();
        assert_eq!(refs.get("Artistic"), "LicenseRef-Artistic");
        assert_eq!(refs.get("Public Domain"), "LicenseRef-Public-Domain");
        assert_eq!(refs.get("Public/Domain"), "LicenseRef-Public-Domain-2");
        assert_eq!(refs.get("Public Domain"), "LicenseRef-Public-Domain");
        assert_eq!(refs.get("ü"), "LicenseRef--");
        assert_eq!(refs.get("LicenseRef-foo"), "LicenseRef-foo");
        assert_eq!(
            refs.get("LicenseRef-foo bar"),
            "LicenseRef-LicenseRef-foo-bar"
        );
        assert_eq!(refs.into_entries().len(), 6);
    }

    #[test]
    fn parentheses_for_and() {
        assert!(needs_parens("MIT OR Apache-2.0"));
        assert!(!needs_parens("(MIT OR Apache-2.0) AND BSD-3-Clause"));
        assert!(!needs_parens("BSD-3-Clause AND MIT"));
        assert!(!needs_parens("GPL-3.0-only WITH Classpath-exception-2.0"));
    }
}

//! The built-in rules, one file per family, each rule with its documentation (what it
//! does, why it is bad, an example, the fix) and its test (the example is a true positive,
//! the near misses must not be reported; see the tests below).
//!
//! Ids are stable and kebab-case: a finding's id is its rule's id, and ignore files and
//! allowlists name them. Families are listed specific first; the generic rules come last
//! and give way to any specific rule's hit on the same bytes.

use crate::rule::Rule;

pub mod chat;
pub mod checks;
pub mod cloud;
pub mod generic;
pub mod infra;
pub mod keys;
pub mod packages;
pub mod payment;
pub mod saas;
pub mod vcs;
pub mod web;

/// The families, in the order their rules run.
pub const FAMILIES: &[&[Rule]] = &[
    cloud::RULES,
    infra::RULES,
    vcs::RULES,
    chat::RULES,
    payment::RULES,
    saas::RULES,
    packages::RULES,
    keys::RULES,
    web::RULES,
    generic::RULES,
];

/// Every built-in rule, in order.
pub fn builtin() -> impl Iterator<Item = &'static Rule> {
    FAMILIES.iter().flat_map(|f| f.iter())
}

/// The built-in rule with this id.
pub fn find(id: &str) -> Option<&'static Rule> {
    builtin().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rules;
    use std::collections::HashSet;

    #[test]
    fn at_least_a_hundred_rules_with_unique_kebab_case_ids_and_full_docs() {
        let all: Vec<&Rule> = builtin().collect();
        assert!(all.len() >= 100, "{} rules", all.len());
        let ids: HashSet<&str> = all.iter().map(|r| r.id).collect();
        assert_eq!(ids.len(), all.len(), "duplicate rule id");
        for r in &all {
            assert!(
                r.id.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{}",
                r.id
            );
            assert!(!r.keywords.is_empty(), "{}: no keywords", r.id);
            assert!(
                r.keywords
                    .iter()
                    .all(|k| !k.is_empty() && *k == k.to_ascii_lowercase()),
                "{}: keywords must be lowercase",
                r.id
            );
            for (what, text) in [("title", r.title), ("what", r.what), ("why", r.why)] {
                assert!(!text.trim().is_empty(), "{}: no {what}", r.id);
            }
            assert!(
                !r.fix.trim().is_empty() && !r.example.is_empty(),
                "{}",
                r.id
            );
            assert!(!r.near_misses.is_empty(), "{}: no near miss", r.id);
            let doc = r.explain();
            for part in [
                "## What it does",
                "## Why is this bad?",
                "## Example",
                "## Fix",
            ] {
                assert!(doc.contains(part), "{}", r.id);
            }
        }
    }

    /// Built-in patterns are compiled on first use: every one of them must compile.
    #[test]
    fn every_builtin_pattern_compiles() {
        let rules = Rules::builtin().unwrap();
        assert_eq!(rules.compile_all(), Vec::<&str>::new());
        assert_eq!(rules.infos().count(), builtin().count());
    }

    /// Every rule's example is reported by that rule, and none of its near misses is.
    #[test]
    fn every_rule_finds_its_example_and_none_of_its_near_misses() {
        let rules = Rules::builtin().unwrap();
        let mut failures = Vec::new();
        for r in builtin() {
            let hits = rules.scan("example.txt", r.example.as_bytes());
            if !hits.iter().any(|h| h.rule.id == r.id) {
                let got: Vec<&str> = hits.iter().map(|h| h.rule.id.as_str()).collect();
                failures.push(format!("{}: example not found (got {got:?})", r.id));
            }
            for nm in r.near_misses {
                let hits = rules.scan("example.txt", nm.as_bytes());
                if hits.iter().any(|h| h.rule.id == r.id) {
                    failures.push(format!("{}: near miss reported: {nm:?}", r.id));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// The examples keep to one finding each: no second rule claims the same secret.
    #[test]
    fn examples_are_found_once() {
        let rules = Rules::builtin().unwrap();
        for r in builtin() {
            let hits = rules.scan("example.txt", r.example.as_bytes());
            assert_eq!(hits.len(), 1, "{}: {:?}", r.id, hits);
        }
    }
}

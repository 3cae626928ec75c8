//! `go.sum` ([`parse_sum`])
//!
//! A fallback for projects without a readable `go.mod`: lines `<module> <version>[/go.mod]
//! <hash>`. One package per distinct `(module, version)`, in order of first appearance;
//! `/go.mod`-only lines are skipped (they record a module's go.mod only, not its code, so the
//! module was not built), versions are kept exactly as written (`+incompatible` included).
//! Malformed lines give a `parse-error` each, with its line (at most
//! [`MAX_WARNINGS`](super::MAX_WARNINGS), then a count).

use super::{Capped, text_of};
use crate::{Ecosystem, LangPackage, LangParsed};

/// Parses a `go.sum`.
pub fn parse_sum(_path: &str, bytes: &[u8]) -> LangParsed {
    let text = match text_of(bytes) {
        Ok(t) => t,
        Err(d) => return d.into(),
    };
    let mut warnings = Capped::default();
    let mut seen = std::collections::HashSet::new();
    let mut out = LangParsed::default();
    for (lineno, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        if fields.len() != 3 {
            warnings.at(lineno + 1, "malformed go.sum line".into());
            continue;
        }
        let (module, version) = (fields[0], fields[1]);
        if version.ends_with("/go.mod") {
            continue;
        }
        if seen.insert((module, version)) {
            out.packages
                .push(LangPackage::new(Ecosystem::Go, module, version));
        }
    }
    out.warnings = warnings.finish();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use moat_model::Code;

    #[test]
    fn sum_dedupes() {
        let s = b"a v1.0.0 h1:x=\na v1.0.0/go.mod h1:y=\nb v2.0.0+incompatible/go.mod h1:z=\na v1.0.0 h1:x=\nbroken\n";
        let p = parse_sum("go.sum", s);
        assert_eq!(p.packages.len(), 1);
        assert_eq!(p.warnings.len(), 1);
        assert_eq!(p.warnings[0].line, Some(5));
        assert_eq!(p.warnings[0].message, "malformed go.sum line");
    }

    #[test]
    fn many_bad_lines_are_capped() {
        let s = "x\n".repeat(25);
        let p = parse_sum("go.sum", s.as_bytes());
        assert_eq!(p.warnings.len(), super::super::MAX_WARNINGS + 1);
        assert_eq!(p.warnings[9].line, Some(10));
        let last = &p.warnings[10];
        assert_eq!(last.code, Code::TooLarge);
        assert_eq!(last.message, "15 more warnings not listed");
        assert_eq!(last.line, None);
    }
}

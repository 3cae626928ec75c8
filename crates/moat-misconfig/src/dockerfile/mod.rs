//! Dockerfiles: [`parse`] (BuildKit's grammar, see [`parse`'s module](parse)), [`shell`]
//! (the commands inside RUN), and [`rules`], one file per rule. [`check`] runs every rule
//! over one file and makes findings (`target_type` `dockerfile`, the file's path, the
//! lines, the stage as `resource`); a file that does not parse gives one located
//! diagnostic and no findings.

pub mod parse;
pub mod rules;
pub mod shell;

pub use parse::{Dockerfile, Instruction, ParseError, Stage, parse};

use moat_model::{Code, Diagnostic, Finding};

/// The `target_type` of Dockerfile findings.
pub const TARGET_TYPE: &str = "dockerfile";

/// What checking one file gave.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Checked {
    pub findings: Vec<Finding>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Whether a file name is a Dockerfile's: `Dockerfile` and `Containerfile` (any case),
/// `Dockerfile.*` and `Containerfile.*` (as capitalised, and not a known other kind of
/// file: `Dockerfile.md`, `dockerfile.vim`), `*.Dockerfile` / `*.dockerfile`.
pub fn is_dockerfile_name(name: &str) -> bool {
    const NOT: &[&str] = &[
        "md",
        "txt",
        "rst",
        "html",
        "vim",
        "el",
        "gz",
        "bz2",
        "xz",
        "zip",
        "json",
        "yaml",
        "yml",
        "toml",
        "sh",
        "bash",
        "go",
        "py",
        "rs",
        "js",
        "ts",
        "rb",
        "lock",
        "orig",
        "rej",
        "swp",
        "bak",
        "dockerignore",
        "j2",
        "tpl",
        "tmpl",
        "erb",
    ];
    let lower = name.to_ascii_lowercase();
    if lower == "dockerfile" || lower == "containerfile" {
        return true;
    }
    if let Some(rest) = name
        .strip_prefix("Dockerfile.")
        .or_else(|| name.strip_prefix("Containerfile."))
    {
        let ext = rest.rsplit('.').next().unwrap_or(rest).to_ascii_lowercase();
        return !rest.is_empty() && !NOT.contains(&ext.as_str());
    }
    lower.ends_with(".dockerfile") && lower.len() > ".dockerfile".len()
}

/// Parses `bytes` and runs every rule; `path` is what findings and diagnostics name.
pub fn check(path: &str, bytes: &[u8]) -> Checked {
    match parse(bytes) {
        Ok(df) => Checked {
            findings: check_parsed(path, &df),
            diagnostics: df
                .warnings
                .iter()
                .map(|(line, w)| {
                    Diagnostic::new(Code::ParseError, w.clone())
                        .at(path, None)
                        .line(*line)
                })
                .collect(),
        },
        Err(e) => {
            let code = match e {
                ParseError::TooLarge(_) => Code::TooLarge,
                _ => Code::ParseError,
            };
            let mut d =
                Diagnostic::new(code, format!("Dockerfile not checked: {e}")).at(path, None);
            if let Some(line) = e.line() {
                d = d.line(line);
            }
            Checked {
                findings: Vec::new(),
                diagnostics: vec![d],
            }
        }
    }
}

/// Every rule over a parsed file, findings in rule order then line order.
pub fn check_parsed(path: &str, df: &Dockerfile) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut hits = Vec::new();
    for rule in rules::ALL {
        hits.clear();
        (rule.check)(df, &mut hits);
        hits.sort_by_key(|h| (h.start_line, h.end_line));
        hits.dedup();
        for h in hits.drain(..) {
            out.push(rule.finding(TARGET_TYPE, path, h));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerfile_names() {
        for n in [
            "Dockerfile",
            "dockerfile",
            "Containerfile",
            "Dockerfile.dev",
            "Dockerfile.run.basic",
            "app.Dockerfile",
            "x.dockerfile",
        ] {
            assert!(is_dockerfile_name(n), "{n}");
        }
        for n in [
            "Dockerfile-alpine.template",
            ".dockerfile",
            "dockerfile_test.go",
            "Dockerfiles",
            "dockerfile.vim",
            "Dockerfile.md",
            "Dockerfile.dev.j2",
        ] {
            assert!(!is_dockerfile_name(n), "{n}");
        }
    }

    #[test]
    fn a_broken_file_is_one_located_diagnostic() {
        let c = check("x/Dockerfile", b"FROM a\nRUN x\nCOPY <<EOF /a\nno end\n");
        assert!(c.findings.is_empty());
        assert_eq!(c.diagnostics.len(), 1);
        assert_eq!(c.diagnostics[0].line, Some(3));
        assert_eq!(c.diagnostics[0].path.as_deref(), Some("x/Dockerfile"));
        assert_eq!(c.diagnostics[0].code, Code::ParseError);
    }

    #[test]
    fn an_unknown_instruction_is_a_located_warning_and_the_rest_is_checked() {
        let c = check("Dockerfile", b"FROM a:1\nFROBNICATE b\nUSER root\n");
        assert_eq!(c.diagnostics.len(), 1);
        assert_eq!(c.diagnostics[0].line, Some(2));
        assert!(c.findings.iter().any(|f| f.id == "MOAT-DF-001"));
    }
}

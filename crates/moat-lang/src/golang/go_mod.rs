//! `go.mod` ([`parse_mod`])
//!
//! A line-oriented file of directives, each either on one line (`require a v1`) or as a
//! parenthesised block (`require (` ... `)`). Tokens may be Go-quoted (`"a b"`); `//` starts a
//! comment. The parser reads:
//!
//! * `module <path>`: the project itself, a package with `application: true` and an empty
//!   version; `go <version>` and `toolchain <name>` become its metadata `go_version` and
//!   `toolchain` (they are dropped when there is no `module` directive).
//! * `require <path> <version>`: one package each, in file order (duplicates kept). A
//!   trailing `// indirect` comment sets metadata `indirect=true`.
//! * `replace <path> [<version>] => <path'> [<version'>]`: applied after reading the whole
//!   file. A replacement with an old version applies only to requires of that exact version,
//!   one without to every version of the module; a replacement nothing requires is ignored.
//!   When the new side is a module (`<path'> <version'>`) the package takes its name and
//!   version; metadata `original_name` / `original_version` keep the required ones and
//!   `replaced_by` is `"<path'> <version'>"`. When the new side is a file-system path
//!   (`./x`, `../x`, `/x`: no version), the package keeps its name and version and gets
//!   `replaced_by=<dir>` and `local_replace=true` (the code is not the published module;
//!   the consumer decides whether to match it).
//! * `exclude`, `retract`, `godebug`, `tool`, `ignore`: read and ignored.
//!
//! An unknown directive (e.g. `ruire (`) gives a `parse-error` with its line, and its line,
//! or block, is skipped; so does a malformed directive. The rest of the file still counts.
//! An empty file gives nothing and no diagnostic.
//!

use super::{Capped, text_of};
use crate::read::is_local_path;
use crate::{Ecosystem, LangPackage, LangParsed};

/// Splits a go.mod line into tokens (Go-quoted and back-quoted strings are one token) and
/// returns them with the comment text after `//`, if any.
fn tokenize(line: &str) -> (Vec<String>, Option<&str>) {
    let mut tokens = Vec::new();
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if line[i..].starts_with("//") {
            return (tokens, Some(line[i + 2..].trim()));
        } else if c == b'"' {
            let mut s = String::new();
            let mut j = i + 1;
            let mut chars = line[j..].char_indices();
            let mut closed = false;
            while let Some((off, ch)) = chars.next() {
                match ch {
                    '"' => {
                        j += off + 1;
                        closed = true;
                        break;
                    }
                    '\\' => {
                        if let Some((_, esc)) = chars.next() {
                            s.push(match esc {
                                'n' => '\n',
                                't' => '\t',
                                other => other,
                            });
                        }
                    }
                    other => s.push(other),
                }
            }
            if !closed {
                j = bytes.len();
            }
            tokens.push(s);
            i = j;
        } else if c == b'`' {
            let rest = &line[i + 1..];
            match rest.find('`') {
                Some(end) => {
                    tokens.push(rest[..end].to_string());
                    i += end + 2;
                }
                None => {
                    tokens.push(rest.to_string());
                    i = bytes.len();
                }
            }
        } else {
            let start = i;
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                if bytes[i..].starts_with(b"//") && i > start {
                    break;
                }
                i += 1;
            }
            tokens.push(line[start..i].to_string());
        }
    }
    (tokens, None)
}

struct Replace {
    old_path: String,
    old_version: Option<String>,
    new_path: String,
    new_version: Option<String>,
}

/// Parses a `go.mod`.
pub fn parse_mod(_path: &str, bytes: &[u8]) -> LangParsed {
    let text = match text_of(bytes) {
        Ok(t) => t,
        Err(d) => return d.into(),
    };
    let mut warnings = Capped::default();
    // The line of the block's opening `(`.
    let mut block_line = 0;
    let mut module: Option<String> = None;
    let mut go_version: Option<String> = None;
    let mut toolchain: Option<String> = None;
    let mut requires: Vec<LangPackage> = Vec::new();
    let mut replaces: Vec<Replace> = Vec::new();
    // The verb of the block we are in (`Some("require")` between `require (` and `)`).
    let mut block: Option<String> = None;

    for (lineno, line) in text.lines().enumerate() {
        let lineno = lineno + 1;
        let (tokens, comment) = tokenize(line);
        if tokens.is_empty() {
            continue;
        }
        let (verb, args): (String, &[String]) = match &block {
            Some(b) => {
                if tokens.len() == 1 && tokens[0] == ")" {
                    block = None;
                    continue;
                }
                (b.clone(), &tokens[..])
            }
            None => {
                if tokens.len() == 2 && tokens[1] == "(" {
                    block = Some(tokens[0].clone());
                    block_line = lineno;
                    if !is_known_verb(&tokens[0]) {
                        warnings.at(
                            lineno,
                            format!("unknown directive `{}`; block skipped", tokens[0]),
                        );
                    }
                    continue;
                }
                (tokens[0].clone(), &tokens[1..])
            }
        };
        match verb.as_str() {
            "module" => match args.first() {
                Some(m) if args.len() == 1 => module = Some(m.clone()),
                _ => warnings.at(lineno, "malformed `module` directive".into()),
            },
            "go" => match args.first() {
                Some(v) if args.len() == 1 => go_version = Some(v.clone()),
                _ => warnings.at(lineno, "malformed `go` directive".into()),
            },
            "toolchain" => match args.first() {
                Some(v) if args.len() == 1 => toolchain = Some(v.clone()),
                _ => warnings.at(lineno, "malformed `toolchain` directive".into()),
            },
            "require" => {
                if args.len() != 2 {
                    warnings.at(lineno, "malformed `require` line".into());
                    continue;
                }
                let mut pkg = LangPackage::new(Ecosystem::Go, &args[0], &args[1]);
                if comment.is_some_and(|c| c.split(';').any(|part| part.trim() == "indirect")) {
                    pkg.metadata.insert("indirect".into(), "true".into());
                }
                requires.push(pkg);
            }
            "replace" => {
                let Some(arrow) = args.iter().position(|t| t == "=>") else {
                    warnings.at(lineno, "`replace` without `=>`".into());
                    continue;
                };
                let (old, new) = (&args[..arrow], &args[arrow + 1..]);
                if old.is_empty() || old.len() > 2 || new.is_empty() || new.len() > 2 {
                    warnings.at(lineno, "malformed `replace` line".into());
                    continue;
                }
                replaces.push(Replace {
                    old_path: old[0].clone(),
                    old_version: old.get(1).cloned(),
                    new_path: new[0].clone(),
                    new_version: new.get(1).cloned(),
                });
            }
            "exclude" | "retract" | "godebug" | "tool" | "ignore" => {}
            other => {
                if block.is_none() {
                    warnings.at(lineno, format!("unknown directive `{other}`"));
                }
            }
        }
    }
    if block.is_some() {
        warnings.at(block_line, "unterminated `(` block".into());
    }

    for pkg in &mut requires {
        // A versioned replacement wins over a version-less one (as in Go).
        let rep = replaces
            .iter()
            .rev()
            .find(|r| r.old_path == pkg.name && r.old_version.as_deref() == Some(&pkg.version))
            .or_else(|| {
                replaces
                    .iter()
                    .rev()
                    .find(|r| r.old_path == pkg.name && r.old_version.is_none())
            });
        let Some(rep) = rep else { continue };
        match &rep.new_version {
            Some(v) if !is_local_path(&rep.new_path) => {
                pkg.metadata
                    .insert("original_name".into(), std::mem::take(&mut pkg.name).into());
                pkg.metadata.insert(
                    "original_version".into(),
                    std::mem::take(&mut pkg.version).into(),
                );
                pkg.metadata
                    .insert("replaced_by".into(), format!("{} {v}", rep.new_path).into());
                pkg.name = rep.new_path.clone();
                pkg.version = v.clone();
            }
            _ => {
                pkg.metadata
                    .insert("replaced_by".into(), rep.new_path.clone().into());
                pkg.metadata.insert("local_replace".into(), "true".into());
            }
        }
    }

    let mut out = LangParsed::default();
    if let Some(m) = module {
        let mut app = LangPackage::new(Ecosystem::Go, m, "");
        app.application = true;
        if let Some(g) = go_version {
            app.metadata.insert("go_version".into(), g.into());
        }
        if let Some(t) = toolchain {
            app.metadata.insert("toolchain".into(), t.into());
        }
        out.packages.push(app);
    }
    out.packages.extend(requires);
    out.warnings = warnings.finish();
    out
}

fn is_known_verb(v: &str) -> bool {
    matches!(
        v,
        "module"
            | "go"
            | "toolchain"
            | "require"
            | "replace"
            | "exclude"
            | "retract"
            | "godebug"
            | "tool"
            | "ignore"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_comments() {
        let (t, c) = tokenize("\t\"quoted path\" v1.0.0 // indirect");
        assert_eq!(t, vec!["quoted path", "v1.0.0"]);
        assert_eq!(c, Some("indirect"));
    }

    #[test]
    fn replacements() {
        let m = b"module x\n\ngo 1.21\ntoolchain go1.21.3\nrequire (\n a v1.0.0 // indirect\n b v1.0.0\n c v2.0.0\n)\nreplace a v1.0.0 => z v9.0.0\nreplace b => ../b\nreplace c v1.0.0 => y v1.0.0\nexclude a v0.1.0\n";
        let p = parse_mod("go.mod", m);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert_eq!(p.packages[0].name, "x");
        assert!(p.packages[0].application);
        assert_eq!(p.packages[0].metadata["go_version"], "1.21");
        assert_eq!(p.packages[0].metadata["toolchain"], "go1.21.3");
        assert_eq!(
            (p.packages[1].name.as_str(), p.packages[1].version.as_str()),
            ("z", "v9.0.0")
        );
        assert_eq!(p.packages[1].metadata["original_name"], "a");
        assert_eq!(p.packages[1].metadata["indirect"], "true");
        assert_eq!(p.packages[2].name, "b");
        assert_eq!(p.packages[2].metadata["local_replace"], "true");
        assert_eq!(p.packages[3].name, "c");
        assert!(p.packages[3].metadata.is_empty());
    }
}

#[cfg(test)]
mod fuzz_regressions {
    /// A `// comment` right after a multi-byte character used to slice inside it
    /// (found by the `lang_parsers` fuzz target).
    #[test]
    fn multibyte_before_a_comment() {
        let _ = super::parse_mod(
            "go.mod",
            "module é//x\nrequire a.b/c v1.0.0 é//y\n".as_bytes(),
        );
    }
}

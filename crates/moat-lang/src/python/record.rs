//! [`parse_record`]: `*.dist-info/RECORD` (CSV `path,hash,size`, quoted fields). One
//! package named after the directory (`name-version.dist-info`, split at the first `-`
//! followed by a digit), `files` resolved against the site-packages directory (`..`
//! normalised), metadata `record_only=true` and `dist_dir`. One exception: in a
//! `lib/pythonX.Y/*-packages` directory, `../../bin/x` entries (written by
//! `pip install --target`, whose scripts end up in `<site>/bin`) resolve to `<site>/bin/x`
//! and set metadata `layout=pip-target`.
//!
//! A RECORD outside a `*.dist-info` directory, or one whose directory name gives no name and
//! version, is `bad-path` (the file's name, not its content, is what cannot be used). At most
//! [`MAX_FILES`] files are listed.

use moat_model::{Code, Diagnostic};

use super::{absolute, last_component, parent_dir, pkg};
use crate::{LangParsed, read};

/// Upper bound on files listed from one RECORD.
pub const MAX_FILES: usize = 500_000;

/// First field of every CSV row (RFC 4180 quoting, `""` escapes a quote).
fn csv_first_fields(text: &str, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut col = 0usize;
    let mut in_quotes = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    if col == 0 {
                        field.push('"');
                    }
                } else {
                    in_quotes = false;
                }
            } else if col == 0 {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' => in_quotes = true,
            ',' => col += 1,
            '\n' => {
                if !field.is_empty() {
                    if out.len() >= limit {
                        return out;
                    }
                    out.push(std::mem::take(&mut field));
                }
                field.clear();
                col = 0;
            }
            '\r' => {}
            c if col == 0 => field.push(c),
            _ => {}
        }
    }
    if !field.is_empty() && out.len() < limit {
        out.push(field);
    }
    out
}

/// `name-version` of a dist-info directory name without the suffix.
fn split_name_version(stem: &str) -> Option<(&str, &str)> {
    let bytes = stem.as_bytes();
    let idx = (0..bytes.len()).find(|&i| {
        bytes[i] == b'-' && i > 0 && bytes.get(i + 1).is_some_and(|c| c.is_ascii_digit())
    })?;
    let (n, v) = (&stem[..idx], &stem[idx + 1..]);
    (!n.is_empty() && !v.is_empty()).then_some((n, v))
}

/// Parses `*.dist-info/RECORD` into one `record_only` package carrying the file list.
pub fn parse_record(path: &str, bytes: &[u8]) -> LangParsed {
    let dist_dir = parent_dir(path);
    let dir_name = last_component(dist_dir);
    if !read::ends_with_ci(dir_name, ".dist-info") {
        return Diagnostic::new(Code::BadPath, "RECORD outside a *.dist-info directory").into();
    }
    let stem = &dir_name[..dir_name.len() - ".dist-info".len()];
    let Some((name, version)) = split_name_version(stem) else {
        let msg = format!("cannot read name and version from {dir_name}");
        return Diagnostic::new(Code::BadPath, msg).into();
    };
    let site = parent_dir(dist_dir);
    // `pip install --target DIR` installs with the home scheme into a temporary directory
    // (purelib `home/lib/python`, scripts `home/bin`) and then moves both into DIR, so its
    // RECORD lists scripts as `../../bin/x` although they end up in `DIR/bin/x`. In the
    // prefix scheme (`.../lib/pythonX.Y/{site,dist}-packages`) scripts are three levels up,
    // so a `../../bin/` entry there can only come from such a `--target` install.
    let prefix_scheme = last_component(site).ends_with("-packages")
        && last_component(parent_dir(site)).starts_with("python");
    let text = read::decode_lossy(bytes);
    let mut p = pkg(name, version);
    let mut target_layout = false;
    for f in csv_first_fields(&text, MAX_FILES) {
        let f = f.trim();
        if f.is_empty() {
            continue;
        }
        let abs = if f.starts_with('/') {
            absolute(f)
        } else if let Some(script) = f.strip_prefix("../../bin/").filter(|_| prefix_scheme) {
            target_layout = true;
            absolute(&format!("{site}/bin/{script}"))
        } else {
            absolute(&format!("{site}/{f}"))
        };
        p.files.push(abs);
    }
    if target_layout {
        p.metadata.insert("layout".into(), "pip-target".into());
    }
    p.metadata.insert("record_only".into(), "true".into());
    p.metadata
        .insert("dist_dir".into(), absolute(dist_dir).into());
    LangParsed::one(p)
}

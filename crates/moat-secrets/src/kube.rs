//! Kubernetes `Secret` manifests: their `data:` values are base64, so the rules would see
//! nothing in them. [`secret_data`] finds, in each YAML document whose `kind` is `Secret`,
//! the single-line entries of its `data:` map, decodes them, and gives back `key: value`
//! text for the rules with the manifest's line. (`stringData:` is plain text and is
//! scanned as it stands.)
//!
//! Line-based on purpose: a YAML parser would cost more than the scan for every manifest,
//! and Secret data is written one `key: base64` per line by every tool that writes it.
//! Bounded: at most [`MAX_ENTRIES`] entries per file, each at most [`MAX_VALUE_BYTES`].

use crate::shape::{base64_decode, contains};

pub const MAX_ENTRIES: usize = 1_000;
pub const MAX_VALUE_BYTES: usize = 64 << 10;

/// `(line, "key: decoded value")` for each base64 data entry of each `Secret` in `bytes`.
pub fn secret_data(bytes: &[u8]) -> Vec<(u32, Vec<u8>)> {
    let mut out = Vec::new();
    if !contains(bytes, b"Secret") || !contains(bytes, b"data:") {
        return out;
    }
    let mut doc_start = 0usize; // line index where the current document starts
    let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    let mut i = 0;
    while i <= lines.len() && out.len() < MAX_ENTRIES {
        let end_of_doc = i == lines.len() || lines[i].starts_with(b"---");
        if end_of_doc {
            scan_document(&lines, doc_start, i, &mut out);
            doc_start = i + 1;
        }
        i += 1;
    }
    out.truncate(MAX_ENTRIES);
    out
}

fn indent(line: &[u8]) -> usize {
    line.iter().take_while(|&&b| b == b' ').count()
}

/// `key: value` split at the first `: `, both trimmed of blanks and quotes.
fn key_value(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = line.windows(2).position(|w| w == b": ")?;
    let key = strip(&line[..at]);
    let value = strip(&line[at + 2..]);
    Some((key, value))
}

fn strip(s: &[u8]) -> &[u8] {
    let s = s.trim_ascii();
    let s = s.strip_prefix(b"\"").unwrap_or(s);
    let s = s.strip_suffix(b"\"").unwrap_or(s);
    let s = s.strip_prefix(b"'").unwrap_or(s);
    s.strip_suffix(b"'").unwrap_or(s)
}

fn scan_document(lines: &[&[u8]], from: usize, to: usize, out: &mut Vec<(u32, Vec<u8>)>) {
    let doc = &lines[from..to];
    let is_secret = doc
        .iter()
        .any(|l| indent(l) == 0 && matches!(key_value(l), Some((b"kind", v)) if v == b"Secret"));
    if !is_secret {
        return;
    }
    let mut j = 0;
    while j < doc.len() {
        let l = doc[j];
        let base = indent(l);
        if l.trim_ascii() == b"data:" {
            j += 1;
            while j < doc.len() && (doc[j].trim_ascii().is_empty() || indent(doc[j]) > base) {
                if out.len() >= MAX_ENTRIES {
                    return;
                }
                if let Some((key, value)) = key_value(doc[j])
                    && !value.is_empty()
                    && value.len() <= MAX_VALUE_BYTES
                    && value
                        .iter()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
                {
                    let decoded = base64_decode(value, MAX_VALUE_BYTES);
                    if !decoded.is_empty() && !decoded.contains(&0) {
                        let mut text = key.to_vec();
                        text.extend_from_slice(b": ");
                        text.extend_from_slice(&decoded);
                        let line = u32::try_from(from + j + 1).unwrap_or(u32::MAX);
                        out.push((line, text));
                    }
                }
                j += 1;
            }
            continue;
        }
        j += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_of_secrets_only() {
        let yaml = b"apiVersion: v1\nkind: ConfigMap\ndata:\n  a: aGVsbG8=\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: U3VwM3JTM2NyZXRQYXNzdzByZCE=\n  user: \"YWRtaW4=\"\ntype: Opaque\n";
        let got = secret_data(yaml);
        assert_eq!(
            got,
            vec![
                (11, b"password: Sup3rS3cretPassw0rd!".to_vec()),
                (12, b"user: admin".to_vec())
            ]
        );
        assert!(secret_data(b"kind: Secret\nstringData:\n  a: b\n").is_empty());
    }
}

//! PEM: the first `-----BEGIN L-----` ... `-----END L-----` block of a text.

use crate::SignError;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// One PEM block: its label and its decoded body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pem {
    pub label: String,
    pub der: Vec<u8>,
}

/// Parses the first PEM block of `text`; `what` names the input in errors.
pub fn parse(text: &[u8], what: &str) -> Result<Pem, SignError> {
    let err = |reason: &str| SignError::Pem {
        what: what.to_string(),
        reason: reason.to_string(),
    };
    let text = std::str::from_utf8(text).map_err(|_| err("not UTF-8 text"))?;
    let start = text
        .find("-----BEGIN ")
        .ok_or_else(|| err("no -----BEGIN line"))?;
    let after = &text[start + "-----BEGIN ".len()..];
    let label_end = after
        .find("-----")
        .ok_or_else(|| err("unterminated BEGIN line"))?;
    let label = &after[..label_end];
    if label.is_empty() || label.len() > 64 || label.contains('\n') {
        return Err(err("malformed BEGIN line"));
    }
    let body_and_rest = &after[label_end + 5..];
    let end_marker = format!("-----END {label}-----");
    let end = body_and_rest
        .find(&end_marker)
        .ok_or_else(|| err(&format!("no {end_marker} line")))?;
    let body = &body_and_rest[..end];
    if body.contains(':') {
        return Err(err(
            "PEM headers (legacy OpenSSL encryption, Proc-Type) are not supported",
        ));
    }
    let compact: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| err(&format!("invalid base64 body: {e}")))?;
    if der.is_empty() {
        return Err(err("empty body"));
    }
    Ok(Pem {
        label: label.to_string(),
        der,
    })
}

/// Encodes a PEM block with 64-character lines, as Go's `pem.Encode` does.
pub fn encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let der: Vec<u8> = (0..=200u8).collect();
        let text = encode("PUBLIC KEY", &der);
        assert!(text.lines().all(|l| l.len() <= 64));
        let p = parse(text.as_bytes(), "k").unwrap();
        assert_eq!(p.label, "PUBLIC KEY");
        assert_eq!(p.der, der);
        let e = parse(b"hello", "k.pub").unwrap_err().to_string();
        assert_eq!(e, "k.pub: not PEM: no -----BEGIN line");
        let e = parse(b"-----BEGIN X-----\n@@@\n-----END X-----\n", "k")
            .unwrap_err()
            .to_string();
        assert!(e.contains("invalid base64 body"), "{e}");
        let e = parse(b"-----BEGIN X-----\nAAAA\n", "k")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no -----END X----- line"), "{e}");
    }
}

//! The checks rules run on their candidates (see [`crate::rule::Check`]): looking inside
//! private keys, tokens and encoded credentials, and gating the generic rules on the
//! variable's name and the value's shape.

use crate::rule::{Candidate, Verdict};
use crate::shape::{
    base64_decode, contains, is_literal_secret, is_password_name, is_placeholder, is_secret_name,
};
use moat_model::Severity;

/// Bytes decoded from the start of a key body: enough for every header looked at.
const HEAD_BYTES: usize = 512;

/// The base64 body of a PEM block: the lines after the `-----BEGIN` line and its
/// `Name: value` headers. Also returns whether a header said the key is encrypted.
fn pem_body(matched: &[u8]) -> (&[u8], bool) {
    let mut rest = matched;
    let mut encrypted = false;
    // skip the BEGIN line
    if let Some(p) = rest.iter().position(|&b| b == b'\n') {
        rest = &rest[p + 1..];
    }
    loop {
        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let line = &rest[..end];
        if line.contains(&b':') {
            encrypted |= contains(line, b"ENCRYPTED");
            rest = rest.get(end + 1..).unwrap_or_default();
        } else {
            break;
        }
    }
    let end = rest
        .windows(5)
        .position(|w| w == b"-----")
        .unwrap_or(rest.len());
    (&rest[..end], encrypted)
}

/// DER: the length of the element at the start of `der` and where its content starts
/// (short and one- or two-byte long forms; longer ones are not in the keys looked at).
fn der_head(der: &[u8]) -> Option<(usize, usize)> {
    match *der.get(1)? {
        n if n < 0x80 => Some((usize::from(n), 2)),
        0x81 => Some((usize::from(*der.get(2)?), 3)),
        0x82 => Some((
            usize::from(*der.get(2)?) << 8 | usize::from(*der.get(3)?),
            4,
        )),
        _ => None,
    }
}

/// DER: the tag and the content of the element at the start of `der`.
fn der_element(der: &[u8]) -> Option<(u8, &[u8])> {
    let tag = *der.first()?;
    let (len, at) = der_head(der)?;
    // the head decoded is cut short: the content may run past it
    let end = (at + len).min(der.len());
    Some((tag, der.get(at..end)?))
}

/// The element after the one at the start of `der`.
fn der_skip(der: &[u8]) -> Option<&[u8]> {
    let (len, at) = der_head(der)?;
    der.get(at + len..)
}

/// The algorithm named by a PKCS#8 `PrivateKeyInfo` (version, then an `AlgorithmIdentifier`).
fn pkcs8_algorithm(der: &[u8]) -> Option<&'static str> {
    let (0x30, info) = der_element(der)? else {
        return None;
    };
    let after_version = der_skip(info)?;
    let (0x30, alg) = der_element(after_version)? else {
        return None;
    };
    let (0x06, oid) = der_element(alg)? else {
        return None;
    };
    Some(match oid {
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01] => "RSA",
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a] => "RSA-PSS",
        [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01] => "EC",
        [0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01] => "DSA",
        [0x2b, 0x65, 0x70] => "Ed25519",
        [0x2b, 0x65, 0x71] => "Ed448",
        [0x2b, 0x65, 0x6e] => "X25519",
        [0x2b, 0x65, 0x6f] => "X448",
        _ => "unknown algorithm",
    })
}

/// An SSH wire-format string at the start of `b`, and what follows it.
fn ssh_string(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = u32::from_be_bytes(b.get(..4)?.try_into().ok()?) as usize;
    Some((b.get(4..4 + len)?, b.get(4 + len..)?))
}

/// An `openssh-key-v1` blob: (key type, encrypted).
fn openssh_key(blob: &[u8]) -> Option<(String, bool)> {
    let rest = blob.strip_prefix(b"openssh-key-v1\0")?;
    let (cipher, rest) = ssh_string(rest)?;
    let (_kdf, rest) = ssh_string(rest)?;
    let (_kdf_options, rest) = ssh_string(rest)?;
    let rest = rest.get(4..)?; // number of keys
    let (public, _) = ssh_string(rest)?;
    let (kind, _) = ssh_string(public)?;
    let kind = match kind {
        b"ssh-ed25519" => "Ed25519".to_string(),
        b"ssh-rsa" => "RSA".to_string(),
        b"ssh-dss" => "DSA".to_string(),
        k if k.starts_with(b"ecdsa-sha2-") => "ECDSA".to_string(),
        k if k.starts_with(b"sk-") => "security key".to_string(),
        k => String::from_utf8_lossy(k).into_owned(),
    };
    Some((kind, cipher != b"none"))
}

/// An encrypted key: noted, one level lower.
fn encrypted(kind: Option<&str>) -> Verdict {
    Verdict::Keep {
        note: Some(match kind {
            Some(k) => format!("{k}, encrypted"),
            None => "encrypted".to_string(),
        }),
        severity: Some(Severity::Medium),
    }
}

/// PEM private keys: the body must decode to what the header says; encrypted keys are
/// noted and lowered; PKCS#8 and OpenSSH keys are named by their algorithm.
pub fn private_key(c: &Candidate) -> Verdict {
    let (body, header_encrypted) = pem_body(c.matched);
    if header_encrypted {
        return encrypted(None);
    }
    let der = base64_decode(body, HEAD_BYTES);
    let header = c.matched.get(..40).unwrap_or(c.matched);
    if contains(header, b"OPENSSH PRIVATE KEY") {
        return match openssh_key(&der) {
            Some((kind, true)) => encrypted(Some(&kind)),
            Some((kind, false)) => Verdict::note(kind),
            None => Verdict::Reject,
        };
    }
    if der.first() != Some(&0x30) || der.len() < 16 {
        return Verdict::Reject;
    }
    if contains(header, b"ENCRYPTED PRIVATE KEY") {
        return encrypted(None);
    }
    if contains(header, b"BEGIN PRIVATE KEY") {
        return match pkcs8_algorithm(&der) {
            Some(alg) => Verdict::note(alg),
            None => Verdict::Reject,
        };
    }
    Verdict::KEEP
}

/// A PEM key JSON-escaped inside a file (a Google service account key): the body must be
/// a DER sequence.
pub fn der_pem(c: &Candidate) -> Verdict {
    let body = match c.secret.iter().position(|&b| b == b'\\') {
        Some(p) => &c.secret[p..],
        None => c.secret,
    };
    let der = base64_decode(body, HEAD_BYTES);
    Verdict::from_bool(der.first() == Some(&0x30) && der.len() >= 16)
}

/// Armoured blocks: no `...` standing in for the body.
pub fn no_ellipsis(c: &Candidate) -> Verdict {
    Verdict::from_bool(!contains(c.matched, b"..."))
}

/// PuTTY key files: a key with `Encryption:` other than `none` is encrypted.
pub fn putty(c: &Candidate) -> Verdict {
    if contains(c.matched, b"Encryption: none") {
        Verdict::KEEP
    } else {
        encrypted(None)
    }
}

/// JWTs: the header must be JSON naming an algorithm; `alg: none` is an unsigned token
/// (reported low); the jwt.io sample is not reported.
pub fn jwt(c: &Candidate) -> Verdict {
    let mut parts = c.secret.split(|&b| b == b'.');
    let (Some(header), Some(payload)) = (parts.next(), parts.next()) else {
        return Verdict::Reject;
    };
    let header = base64_decode(header, HEAD_BYTES);
    let payload = base64_decode(payload, 4096);
    if !contains(&header, b"\"alg\"") {
        return Verdict::Reject;
    }
    if contains(&payload, b"\"John Doe\"") || contains(&payload, b"\"1234567890\"") {
        return Verdict::Reject;
    }
    let compact: Vec<u8> = header.iter().copied().filter(|b| *b != b' ').collect();
    if contains(&compact.to_ascii_lowercase(), b"\"alg\":\"none\"") {
        return Verdict::Keep {
            note: Some("unsigned".into()),
            severity: Some(Severity::Low),
        };
    }
    Verdict::KEEP
}

/// Bearer tokens: a JWT among them must pass the JWT check (the jwt.io sample is a
/// documentation value whichever header carries it).
pub fn bearer(c: &Candidate) -> Verdict {
    if c.secret.starts_with(b"eyJ") && jwt(c) == Verdict::Reject {
        return Verdict::Reject;
    }
    Verdict::KEEP
}

/// Passwords that stand for "a password goes here".
fn placeholder_password(p: &[u8]) -> bool {
    const WORDS: &[&[u8]] = &[
        b"password",
        b"passwd",
        b"pass",
        b"pwd",
        b"secret",
        b"changeme",
        b"pw",
        b"xxx",
        b"token",
        b"admin",
        b"root",
        b"test",
        b"guest",
        b"user",
        b"example",
        b"foobar",
        b"mypassword",
        b"yourpassword",
        b"x-oauth-basic",
    ];
    let lower = p.to_ascii_lowercase();
    WORDS.contains(&lower.as_slice())
        || is_placeholder(p)
        || p.iter().all(|&b| b == b'*' || b == b'x' || b == b'X')
        || matches!(p.first(), Some(b'$' | b'%' | b'<' | b'{'))
        || contains(p, b"${")
        || contains(p, b"{{")
}

/// URLs with a password: not a placeholder, not the user name again.
pub fn url_password(c: &Candidate) -> Verdict {
    if placeholder_password(c.secret) {
        return Verdict::Reject;
    }
    Verdict::from_bool(c.key != Some(c.secret))
}

/// `user:password` decoded from base64: both parts present, the password no placeholder.
fn user_password(encoded: &[u8]) -> bool {
    let decoded = base64_decode(encoded, 1024);
    if decoded.iter().any(|b| !(0x20..0x7f).contains(b)) {
        return false;
    }
    match decoded.iter().position(|&b| b == b':') {
        Some(at) => {
            let (user, pass) = (&decoded[..at], &decoded[at + 1..]);
            !user.is_empty() && pass.len() >= 4 && !placeholder_password(pass) && user != pass
        }
        None => false,
    }
}

/// Docker `config.json` `"auth"` values.
pub fn docker_auth(c: &Candidate) -> Verdict {
    Verdict::from_bool(user_password(c.secret))
}

/// `Authorization: Basic` headers.
pub fn basic_auth(c: &Candidate) -> Verdict {
    Verdict::from_bool(user_password(c.secret))
}

/// A password-like name and a literal value.
pub fn generic_password(c: &Candidate) -> Verdict {
    let named = c.key.is_some_and(is_password_name);
    Verdict::from_bool(named && is_literal_secret(c.secret))
}

/// A secret-like name and a literal value of at least 12 characters.
pub fn generic_secret(c: &Candidate) -> Verdict {
    let named = c.key.is_some_and(is_secret_name);
    Verdict::from_bool(named && c.secret.len() >= 12 && is_literal_secret(c.secret))
}

/// Kubernetes `env` entries: a secret-like name and a literal value.
pub fn kube_env(c: &Candidate) -> Verdict {
    let named = c
        .key
        .is_some_and(|k| is_password_name(k) || is_secret_name(k));
    Verdict::from_bool(named && is_literal_secret(c.secret))
}

/// npm registry credentials: a value, not an identifier.
pub fn npmrc(c: &Candidate) -> Verdict {
    let identifier = c
        .secret
        .iter()
        .all(|b| b.is_ascii_alphabetic() || matches!(b, b'_' | b'.' | b'-'));
    Verdict::from_bool(!identifier)
}

/// Command lines: a literal value.
pub fn cli_password(c: &Candidate) -> Verdict {
    Verdict::from_bool(is_literal_secret(c.secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths() {
        assert_eq!(
            der_element(&[0x30, 0x03, 1, 2, 3]),
            Some((0x30, &[1u8, 2, 3][..]))
        );
        assert_eq!(
            der_element(&[0x30, 0x81, 0x02, 1, 2]),
            Some((0x30, &[1u8, 2][..]))
        );
        assert_eq!(der_element(&[0x30]), None);
        assert_eq!(der_skip(&[0x02, 0x01, 0x00, 0x30]), Some(&[0x30u8][..]));
    }

    #[test]
    fn pkcs8_algorithms() {
        let ed25519 = base64_decode(
            b"MC4CAQAwBQYDK2VwBCIEIJDiKOXHapMbSrJh3LwIYqfGhnQpx2Rl9kKMQTxxiDb9",
            512,
        );
        assert_eq!(pkcs8_algorithm(&ed25519), Some("Ed25519"));
        let rsa = base64_decode(
            b"MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQCSun+3ZYYTzLiC",
            512,
        );
        assert_eq!(pkcs8_algorithm(&rsa), Some("RSA"));
    }

    #[test]
    fn url_and_basic_credentials() {
        let cand = |key: &'static [u8], secret: &'static [u8]| Candidate {
            matched: secret,
            secret,
            key: Some(key),
        };
        assert_eq!(url_password(&cand(b"app", b"Xk29-qlm")), Verdict::KEEP);
        assert_eq!(url_password(&cand(b"app", b"app")), Verdict::Reject);
        assert_eq!(url_password(&cand(b"app", b"password")), Verdict::Reject);
        assert_eq!(url_password(&cand(b"app", b"${DB_PASS}")), Verdict::Reject);
        assert!(user_password(b"ZGVwbG95OlI0bmQwbS1QQHNzLTgyNzE="));
        assert!(!user_password(b"dXNlcjpwYXNzd29yZA=="));
        assert!(!user_password(b"bm9jb2xvbg=="));
    }
}

//! What makes a candidate a near miss: placeholders and documentation values (for every
//! rule), and, for the generic rules, variable names that are not secrets and values that are
//! not literals (references, expressions, paths, hashes, UUIDs, test values). Also a lenient
//! base64 decoder for the checks that look inside encoded values.

use crate::redact::entropy;

/// Words that mark a value as a placeholder or a documentation example, for every rule.
const PLACEHOLDERS: &[&str] = &[
    "example",
    "placeholder",
    "dummy",
    "changeme",
    "change_me",
    "redacted",
    "xxxxxx",
    "******",
    "your_",
    "your-",
    "yourkey",
    "yourtoken",
    "12345678",
    "abcdefgh",
    "01234567",
    // Telegram's Bot API documentation token
    "abc-def1234ghikl-zyx57w2v1u123ew11",
];

/// Words that, besides [`PLACEHOLDERS`], mark a generic value as a test or sample value.
const GENERIC_PLACEHOLDERS: &[&str] = &[
    "sample",
    "test",
    "fake",
    "mock",
    "foobar",
    "password",
    "secret",
    "changeit",
    "insert",
    "replace",
    "token",
    "your",
    "xxxx",
    "****",
    "todo",
    "none",
    "null",
    "undefined",
    "default",
    "sandbox",
];

/// Whether a secret is a placeholder: a documentation example (`AKIAIOSFODNN7EXAMPLE`), a
/// mask, an obvious sequence, or one character repeated.
pub fn is_placeholder(secret: &[u8]) -> bool {
    let lower = secret.to_ascii_lowercase();
    if PLACEHOLDERS.iter().any(|w| contains(&lower, w.as_bytes())) {
        return true;
    }
    // one or two distinct characters over a long run (`0000...`, `abababab`), or one
    // character making up more than half of it (`dop_v1_000...`, a zero UUID)
    if secret.len() >= 8 {
        let mut counts = [0usize; 256];
        for &b in secret {
            counts[usize::from(b)] += 1;
        }
        let distinct = counts.iter().filter(|&&c| c > 0).count();
        let most = counts.iter().max().copied().unwrap_or(0);
        if distinct <= 2 || (secret.len() >= 12 && most * 2 > secret.len()) {
            return true;
        }
    }
    false
}

/// Whether `needle` occurs in `haystack` (SIMD substring search: the Kubernetes test runs
/// on every file).
pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

/// The lowercase words of a variable name: split at `_`, `-`, `.`, spaces and camel-case
/// humps (`dbPassword` -> `db`, `password`; `AWS_SECRET` -> `aws`, `secret`).
pub fn words(name: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for &b in name {
        if !b.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if b.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = b.is_ascii_lowercase() || b.is_ascii_digit();
        cur.push(char::from(b.to_ascii_lowercase()));
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Words that make a variable something other than a secret (`password_hash`,
/// `token_type`, `secret_name`, `PASSWORD_FILE`, `access_key_id`).
const NOT_SECRET_WORDS: &[&str] = &[
    "hash",
    "hashed",
    "digest",
    "checksum",
    "sha",
    "sha1",
    "sha256",
    "sha512",
    "md5",
    "bcrypt",
    "fingerprint",
    "salt",
    "id",
    "ids",
    "uuid",
    "name",
    "names",
    "type",
    "types",
    "file",
    "files",
    "path",
    "paths",
    "dir",
    "url",
    "uri",
    "endpoint",
    "host",
    "length",
    "len",
    "size",
    "min",
    "max",
    "count",
    "expiry",
    "expires",
    "expiration",
    "ttl",
    "timeout",
    "format",
    "field",
    "prompt",
    "label",
    "header",
    "param",
    "policy",
    "regex",
    "pattern",
    "mode",
    "hint",
    "reset",
    "confirm",
    "required",
    "enabled",
    "enable",
    "disabled",
    "manager",
    "store",
    "ref",
    "env",
    "var",
    "placeholder",
    "example",
    "public",
    "prefix",
    "suffix",
    "algorithm",
    "alg",
    "cipher",
    "rotation",
    "validator",
    "strength",
    "version",
    "provider",
    "kind",
    "class",
    "location",
    "source",
    "template",
    "generator",
    "helper",
    "command",
    "cmd",
    "method",
];

/// Whether a variable name reads as a password (`DB_PASSWORD`, `mysqlRootPassword`,
/// `db_pass`), and not as something about one (`password_hash`, `PASSWORD_FILE`) or as the
/// shell's working directory (`PWD`, `OLDPWD`).
pub fn is_password_name(name: &[u8]) -> bool {
    let w = words(name);
    if w.iter().any(|x| NOT_SECRET_WORDS.contains(&x.as_str())) {
        return false;
    }
    if w.len() == 1 && matches!(w[0].as_str(), "pwd" | "oldpwd") {
        return false;
    }
    w.iter().any(|x| {
        x.contains("password")
            || x.contains("passwd")
            || x.contains("passphrase")
            || matches!(x.as_str(), "pass" | "pwd" | "pw" | "passwort")
    })
}

/// Whether a variable name reads as a secret, a token, an API key or a credential
/// (`SECRET_KEY`, `apiKey`, `AUTH_TOKEN`, `client_secret`), and not as something about one
/// (`token_type`, `secret_name`, `access_key_id`, `tokenizer`).
pub fn is_secret_name(name: &[u8]) -> bool {
    let w = words(name);
    if w.iter().any(|x| NOT_SECRET_WORDS.contains(&x.as_str())) {
        return false;
    }
    const PAIRED: &[&str] = &[
        "api",
        "access",
        "private",
        "secret",
        "signing",
        "encryption",
        "master",
        "license",
    ];
    let single = w.iter().any(|x| {
        x.contains("secret")
            || matches!(
                x.as_str(),
                "token" | "tokens" | "credential" | "credentials"
            )
            || (x.ends_with("token") && x.len() > 5)
            || matches!(
                x.as_str(),
                "apikey" | "accesskey" | "privatekey" | "secretkey" | "signingkey" | "authkey"
            )
    });
    let paired = w
        .windows(2)
        .any(|p| p[1] == "key" && PAIRED.contains(&p[0].as_str()))
        || w.windows(2).any(|p| p[0] == "auth" && p[1] == "key");
    single || paired
}

/// Whether a value assigned to a secret-named variable looks like a literal secret: long
/// enough, varied enough, and none of a reference (`${DB_PASSWORD}`, `$PASS`,
/// `{{ .Values.pw }}`), an expression (`os.getenv("X")`), an identifier
/// (`settings.password`), a path, a URL, a number, a UUID, or a test value.
pub fn is_literal_secret(value: &[u8]) -> bool {
    let n = value.len();
    if !(8..=200).contains(&n) {
        return false;
    }
    if is_placeholder(value) {
        return false;
    }
    let lower = value.to_ascii_lowercase();
    if GENERIC_PLACEHOLDERS
        .iter()
        .any(|w| contains(&lower, w.as_bytes()))
    {
        return false;
    }
    if matches!(
        value[0],
        b'$' | b'%' | b'&' | b'*' | b'@' | b'!' | b'/' | b'~' | b'#'
    ) || value.starts_with(b"./")
        || value.starts_with(b"../")
    {
        return false;
    }
    if value.iter().any(|b| {
        matches!(
            b,
            b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'<' | b'>' | b'\\'
        )
    }) {
        return false;
    }
    if contains(value, b"://") || contains(value, b"${") || contains(value, b"%s") {
        return false;
    }
    // publishable keys, public by design (Stripe `pk_live_`, Mapbox `pk.eyJ`)
    if value.starts_with(b"pk_") || value.starts_with(b"pk.") {
        return false;
    }
    // identifiers, dotted names and words: letters with `_`, `-`, `.` and nothing else
    if value
        .iter()
        .all(|b| b.is_ascii_alphabetic() || matches!(b, b'_' | b'-' | b'.'))
    {
        return false;
    }
    // numbers, versions, dates
    if value
        .iter()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b':' | b'+'))
    {
        return false;
    }
    if is_uuid(value) || is_version(value) {
        return false;
    }
    let classes = [
        value.iter().any(u8::is_ascii_lowercase),
        value.iter().any(u8::is_ascii_uppercase),
        value.iter().any(u8::is_ascii_digit),
        value.iter().any(|b| !b.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|&&c| c)
    .count();
    let min_entropy = (0.75 * (n as f64).log2()).min(3.2);
    classes >= 2 && entropy(value) >= min_entropy
}

/// A package version: digits, a dot, digits, then only version characters
/// (`1.5.0-1+b1`, `0.0~git20200101.abc123-2`, `14.0.1_beta`).
fn is_version(v: &[u8]) -> bool {
    let major = v.iter().take_while(|b| b.is_ascii_digit()).count();
    major > 0
        && v.get(major) == Some(&b'.')
        && v.get(major + 1).is_some_and(u8::is_ascii_digit)
        && v.iter().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'~' | b':' | b'-' | b'_')
        })
}

/// `8-4-4-4-12` hex digits.
pub fn is_uuid(v: &[u8]) -> bool {
    v.len() == 36
        && v.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// Decodes standard or URL-safe base64, skipping whitespace and the `\n` escapes of JSON
/// strings, stopping at `=` or at the first other byte; at most `max` bytes out.
pub fn base64_decode(input: &[u8], max: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity((input.len() / 4 * 3).min(max));
    let (mut acc, mut bits) = (0u32, 0u32);
    let mut i = 0;
    while i < input.len() && out.len() < max {
        let b = input[i];
        i += 1;
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            b'\\' if input.get(i) == Some(&b'n') => {
                i += 1;
                continue;
            }
            _ => break,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        assert!(is_placeholder(b"AKIAIOSFODNN7EXAMPLE"));
        assert!(is_placeholder(b"ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"));
        assert!(is_placeholder(b"00000000000000000000"));
        assert!(is_placeholder(b"sk_live_1234567890abcdefghijklmn"));
        assert!(!is_placeholder(b"AKIAB3SKCZTKMBF6JDPY"));
    }

    #[test]
    fn variable_names() {
        assert_eq!(words(b"dbPassword"), ["db", "password"]);
        assert_eq!(
            words(b"AWS_SECRET_ACCESS_KEY"),
            ["aws", "secret", "access", "key"]
        );
        assert_eq!(words(b"X-API-Key"), ["x", "api", "key"]);
        assert!(is_password_name(b"DB_PASSWORD"));
        assert!(is_password_name(b"mysqlRootPassword"));
        assert!(is_password_name(b"db_pass"));
        assert!(!is_password_name(b"password_hash"));
        assert!(!is_password_name(b"PASSWORD_FILE"));
        assert!(!is_password_name(b"PWD"));
        assert!(!is_password_name(b"bypass"));
        assert!(is_secret_name(b"SECRET_KEY"));
        assert!(is_secret_name(b"apiKey"));
        assert!(is_secret_name(b"AUTH_TOKEN"));
        assert!(is_secret_name(b"client_secret"));
        assert!(!is_secret_name(b"token_type"));
        assert!(!is_secret_name(b"secret_name"));
        assert!(!is_secret_name(b"access_key_id"));
        assert!(!is_secret_name(b"tokenizer"));
        assert!(!is_secret_name(b"keyboard"));
    }

    #[test]
    fn literal_values() {
        assert!(is_literal_secret(b"Sup3rS3cretPassw0rd!"));
        assert!(is_literal_secret(b"q8Zr!x2Lw9"));
        for v in [
            &b"${DB_PASSWORD}"[..],
            b"$DB_PASSWORD",
            b"{{ .Values.password }}",
            b"os.getenv(\"X\")",
            b"settings.password",
            b"get_password",
            b"/run/secrets/db",
            b"https://vault/x",
            b"123e4567-e89b-12d3-a456-426614174000",
            b"12.4.1",
            b"changeme123",
            b"test1234!",
            b"short",
            b"aaaaaaaaaaaa",
            b"pk_live_51HxQ2kLmZ9vR4tYw8",
            b"pk.eyJ1IjoiYndXwLFnY8h6KZTBo96",
            b"sandbox_n5WtfXMSd-Nq3SlE5lLtbaZD",
            b"123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11",
            b"1.5.0-1+b1",
            b"0.0~git20200101.abc123f-2",
        ] {
            assert!(!is_literal_secret(v), "{}", String::from_utf8_lossy(v));
        }
    }

    #[test]
    fn base64() {
        assert_eq!(base64_decode(b"aGVsbG8gd29ybGQ=", 100), b"hello world");
        assert_eq!(base64_decode(b"aGVs\nbG8=", 100), b"hello");
        assert_eq!(base64_decode(b"aGVs\\nbG8", 100), b"hello");
        assert_eq!(base64_decode(b"aGVsbG8gd29ybGQ=", 3), b"hel");
        assert_eq!(base64_decode(b"", 3), b"");
    }
}

//! Redaction and entropy.
//!
//! A secret is shown as its first characters, `***`, and its length in characters:
//! `ghp_***(40)`. Four characters are shown from 16 characters up, a quarter of the length
//! below that (a short password keeps most of itself hidden), none below four. A PEM block
//! shows its `-----BEGIN ...-----` line instead, which says what it is and nothing more.

/// The redacted form of `secret`.
pub fn redact(secret: &str) -> String {
    let n = secret.chars().count();
    if secret.starts_with("-----BEGIN ")
        && let Some(line) = secret.lines().next()
    {
        return format!("{}***({n})", line.trim_end());
    }
    let shown = if n >= 16 { 4 } else { n / 4 };
    let head: String = secret.chars().take(shown).collect();
    format!("{head}***({n})")
}

/// Shannon entropy of `bytes` in bits per byte (0 for empty input).
pub fn entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[usize::from(b)] += 1;
    }
    let n = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_shows_a_head_and_the_length() {
        assert_eq!(
            redact("ghp_JC6RQuFlBnDomtQhA14VqnPa5lwOo0OpGcSD"),
            "ghp_***(40)"
        );
        assert_eq!(redact("Sup3rS3cretPassw0rd!"), "Sup3***(20)");
        assert_eq!(redact("hunter2!"), "hu***(8)");
        assert_eq!(redact("abc"), "***(3)");
        assert_eq!(redact("ééééééééééééééééé"), "éééé***(17)");
        assert_eq!(
            redact("-----BEGIN PRIVATE KEY-----\nMC4CAQAw\n-----END PRIVATE KEY-----"),
            "-----BEGIN PRIVATE KEY-----***(62)"
        );
    }

    #[test]
    fn entropy_in_bits_per_byte() {
        assert_eq!(entropy(b""), 0.0);
        assert_eq!(entropy(b"aaaa"), 0.0);
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-9);
        assert!(entropy(b"Sup3rS3cretPassw0rd!") > 3.7);
    }
}

//! The trust policy of `moat scan --require-signature`: which registries images may come
//! from and whose signatures count, a small TOML file:
//!
//! ```toml
//! # host, or host/repository prefix; `*` matches within one path component, `**` across them.
//! trusted-registries = ["registry.example.com", "ghcr.io/acme/*"]
//!
//! [[signers]]
//! key = "keys/release.pub"        # relative to the policy file
//! scope = ["ghcr.io/acme/**"]     # optional: only for these images (default: all)
//! ```
//!
//! An image passes when it comes from a trusted registry (any, when the list is absent or
//! empty; OCI layouts come from no registry and are not subject to the list) and carries a
//! signature of its digest that verifies with the key of a signer whose scope covers it.

use crate::image::{Verification, verify_image};
use crate::store::ArtifactStore;
use crate::{PublicKey, SignError};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Policy files and their keys are small: read at most this much of them.
const MAX_FILE: u64 = 1 << 20;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct File {
    #[serde(default)]
    trusted_registries: Vec<String>,
    #[serde(default)]
    signers: Vec<SignerEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignerEntry {
    key: PathBuf,
    #[serde(default)]
    scope: Vec<String>,
}

/// A key whose signatures count, for the images its scope matches (all when empty).
#[derive(Debug, Clone)]
pub struct Signer {
    pub key: PublicKey,
    /// The key file, for messages.
    pub path: PathBuf,
    pub scope: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct TrustPolicy {
    pub trusted_registries: Vec<String>,
    pub signers: Vec<Signer>,
}

/// Reads a public key file (PEM `PUBLIC KEY`).
pub fn read_public_key(path: &Path) -> Result<PublicKey, SignError> {
    PublicKey::from_pem(
        &crate::store::read_bounded(path, MAX_FILE)?,
        &path.display().to_string(),
    )
}

fn check_pattern(path: &Path, p: &str) -> Result<(), SignError> {
    if p.is_empty() || p.starts_with('/') || p.contains("//") || p.chars().any(char::is_whitespace)
    {
        return Err(SignError::invalid(
            path.display().to_string(),
            format!("pattern {p:?}: expected host[/repository], with * or ** globs"),
        ));
    }
    Ok(())
}

impl TrustPolicy {
    /// Reads a policy file; key paths are relative to its directory.
    pub fn read(path: &Path) -> Result<TrustPolicy, SignError> {
        let bytes = crate::store::read_bounded(path, MAX_FILE)?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| SignError::invalid(path.display().to_string(), "not UTF-8 text"))?;
        let file: File = toml::from_str(text).map_err(|e| {
            SignError::invalid(path.display().to_string(), format!("invalid TOML: {e}"))
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        for p in &file.trusted_registries {
            check_pattern(path, p)?;
        }
        let mut signers = Vec::new();
        for s in file.signers {
            for p in &s.scope {
                check_pattern(path, p)?;
            }
            let key_path = dir.join(&s.key);
            let key = read_public_key(&key_path).map_err(|e| {
                SignError::invalid(path.display().to_string(), format!("signer key: {e}"))
            })?;
            signers.push(Signer {
                key,
                path: key_path,
                scope: s.scope,
            });
        }
        Ok(TrustPolicy {
            trusted_registries: file.trusted_registries,
            signers,
        })
    }

    /// Whether `name` (`host/repository`) comes from a trusted registry: true when the
    /// policy lists none.
    pub fn registry_trusted(&self, name: &str) -> bool {
        self.trusted_registries.is_empty()
            || self.trusted_registries.iter().any(|p| matches(p, name))
    }

    /// The signers whose scope covers the image `name` (`host/repository`; `None`: an image
    /// not in a registry, which only unscoped signers cover).
    pub fn signers_for(&self, name: Option<&str>) -> Vec<&Signer> {
        self.signers
            .iter()
            .filter(|s| {
                s.scope.is_empty() || name.is_some_and(|n| s.scope.iter().any(|p| matches(p, n)))
            })
            .collect()
    }
}

/// Whether `pattern` matches `name` or a leading part of it that ends at a `/`:
/// `ghcr.io/acme` matches `ghcr.io/acme/app`, not `ghcr.io/acmeco/app`. `*` matches any run of
/// characters but `/`, `**` any run. Time O(pattern × name), whatever the pattern.
pub fn matches(pattern: &str, name: &str) -> bool {
    enum Tok {
        Lit(u8),
        Star,
        Any,
    }
    let p = pattern.as_bytes();
    let mut toks = Vec::with_capacity(p.len());
    let mut i = 0;
    while i < p.len() {
        if p[i] == b'*' {
            if p.get(i + 1) == Some(&b'*') {
                toks.push(Tok::Any);
                i += 2;
            } else {
                toks.push(Tok::Star);
                i += 1;
            }
        } else {
            toks.push(Tok::Lit(p[i]));
            i += 1;
        }
    }
    let s = name.as_bytes();
    let n = s.len();
    // next[j]: the tokens after the current one match from s[j] (to the end or a `/`).
    let mut next: Vec<bool> = (0..=n).map(|j| j == n || s[j] == b'/').collect();
    for t in toks.iter().rev() {
        let mut cur = vec![false; n + 1];
        for j in (0..=n).rev() {
            cur[j] = match t {
                Tok::Lit(c) => j < n && s[j] == *c && next[j + 1],
                Tok::Star => next[j] || (j < n && s[j] != b'/' && cur[j + 1]),
                Tok::Any => next[j] || (j < n && cur[j + 1]),
            };
        }
        next = cur;
    }
    next[0]
}

/// What `require_signature` found: the verification by the first key that verifies.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub key_path: PathBuf,
    pub verification: Verification,
}

/// Checks that the image `digest` stored in `store` carries a signature verifying with one
/// of `keys` (key file, key). `Err(SignError::NotVerified(reason))` when none does.
pub fn require_signature(
    store: &dyn ArtifactStore,
    digest: &str,
    keys: &[(&Path, &PublicKey)],
) -> Result<Accepted, SignError> {
    if keys.is_empty() {
        return Err(SignError::NotVerified(
            "no key is allowed for this image (--key, or the trust policy's signers)".into(),
        ));
    }
    let mut reasons = Vec::new();
    for (path, key) in keys {
        let v = verify_image(store, key, digest)?;
        if v.verified {
            return Ok(Accepted {
                key_path: path.to_path_buf(),
                verification: v,
            });
        }
        for s in &v.signatures {
            let r = s.reason.clone().unwrap_or_default();
            if !reasons.contains(&r) {
                reasons.push(r);
            }
        }
    }
    let names: Vec<String> = keys.iter().map(|(p, _)| p.display().to_string()).collect();
    Err(SignError::NotVerified(format!(
        "no signature of {digest} in {} verifies with an allowed key ({}): {}",
        store.location(),
        names.join(", "),
        reasons.join("; ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(matches("127.0.0.1:5000", "127.0.0.1:5000/app"));
        assert!(matches("127.0.0.1:5000", "127.0.0.1:5000/team/app"));
        assert!(!matches("127.0.0.1:5000", "127.0.0.1:50001/app"));
        assert!(matches("ghcr.io/acme", "ghcr.io/acme/app"));
        assert!(!matches("ghcr.io/acme", "ghcr.io/acmeco/app"));
        assert!(matches("ghcr.io/*/app", "ghcr.io/acme/app"));
        assert!(!matches("ghcr.io/*/app", "ghcr.io/acme/x/app"));
        assert!(matches("ghcr.io/**/app", "ghcr.io/acme/x/app"));
        assert!(matches("*.example.com", "r.example.com/x"));
        assert!(!matches("*.example.com", "example.com/x"));
        assert!(matches("**", "anything/at/all"));
        assert!(!matches("ghcr.io/*", "ghcr.io"));
        assert!(matches("127.0.0.1:*", "127.0.0.1:5000/app"));
        // No exponential blow-up.
        let long = format!("{}b", "a".repeat(4000));
        assert!(!matches(&"**a".repeat(30), &format!("{long}/c")));
        assert!(matches(&"**a".repeat(30), &long.replace('b', "a")));
    }

    #[test]
    fn policy_file() {
        let t = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let (k, _) = crate::SigningKey::generate_ecdsa_p256().unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(t.path().join("a.pub"), k.public_key().to_pem())
            .unwrap_or_else(|e| panic!("{e}"));
        let p = t.path().join("policy.toml");
        std::fs::write(
            &p,
            "trusted-registries = [\"r.example.com\"]\n[[signers]]\nkey = \"a.pub\"\n[[signers]]\nkey = \"a.pub\"\nscope = [\"r.example.com/team\"]\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let pol = TrustPolicy::read(&p).unwrap_or_else(|e| panic!("{e}"));
        assert!(pol.registry_trusted("r.example.com/team/app"));
        assert!(!pol.registry_trusted("evil.example.com/team/app"));
        assert_eq!(pol.signers_for(Some("r.example.com/team/app")).len(), 2);
        assert_eq!(pol.signers_for(Some("r.example.com/other")).len(), 1);
        assert_eq!(pol.signers_for(None).len(), 1);
        std::fs::write(&p, "trusted = []\n").unwrap_or_else(|e| panic!("{e}"));
        let e = TrustPolicy::read(&p)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("policy.toml: invalid TOML") && e.contains("trusted"),
            "{e}"
        );
        std::fs::write(&p, "[[signers]]\nkey = \"missing.pub\"\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let e = TrustPolicy::read(&p)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("signer key") && e.contains("missing.pub"), "{e}");
    }
}

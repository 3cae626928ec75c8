//! Signatures at admission: an image must carry a cosign signature of its digest that
//! verifies with a key the policy trusts for it (`keys`, and the signers of a
//! `trust_policy` file whose scope covers the image), read from its registry as
//! `moat verify` reads it ([`moat_sign::policy::require_signature`]).
//!
//! Verdicts are kept per (repository, digest) for `signature_cache_seconds` (bounded: the
//! oldest go first), so the warm path does no registry request; a reference by tag is
//! resolved to the digest it names now through the registry, and that resolution is kept
//! `tag_cache_seconds`. Registry work runs on tokio's blocking pool; the request waits for it
//! until its deadline and denies, saying so, past it (the work goes on and fills the cache
//! for the next request). Registry failures (unreachable, refused) deny and are not kept.

use moat_registry::{Client, Reference, RegistryError};
use moat_sign::SignError;
use moat_sign::policy::TrustPolicy;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Makes a client for a reference's registry (credentials, TLS and timeouts are the
/// caller's: the CLI gives `moat scan`'s).
#[derive(Clone)]
pub struct Connector(pub Arc<ConnectFn>);

/// What a [`Connector`] calls.
pub type ConnectFn = dyn Fn(&Reference) -> Result<Client, RegistryError> + Send + Sync;

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Connector")
    }
}

impl Default for Connector {
    /// Anonymous, Mozilla's roots, plain HTTP for loopback registries, 10 s per read, no
    /// retries (the API server's budget is short).
    fn default() -> Connector {
        Connector(Arc::new(|r: &Reference| {
            let opts = moat_registry::ClientOptions {
                timeout: Duration::from_secs(10),
                attempts: 1,
                ..Default::default()
            };
            Client::connect(r.api_host(), &opts)
        }))
    }
}

/// Entries kept in each cache at most.
pub const MAX_ENTRIES: usize = 10_000;

/// A bounded map whose entries expire.
struct Ttl<V> {
    ttl: Duration,
    map: HashMap<String, (Instant, V)>,
}

impl<V: Clone> Ttl<V> {
    fn new(ttl: Duration) -> Ttl<V> {
        Ttl {
            ttl,
            map: HashMap::new(),
        }
    }

    fn get(&self, k: &str) -> Option<V> {
        self.map
            .get(k)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| v.clone())
    }

    fn put(&mut self, k: String, v: V) {
        if self.ttl.is_zero() {
            return;
        }
        if self.map.len() >= MAX_ENTRIES && !self.map.contains_key(&k) {
            let ttl = self.ttl;
            self.map.retain(|_, (at, _)| at.elapsed() < ttl);
            if self.map.len() >= MAX_ENTRIES {
                // Still full of live entries: the oldest tenth goes.
                let mut ages: Vec<Instant> = self.map.values().map(|(at, _)| *at).collect();
                ages.sort();
                let cut = ages[ages.len() / 10];
                self.map.retain(|_, (at, _)| *at > cut);
            }
        }
        self.map.insert(k, (Instant::now(), v));
    }
}

/// A signature verdict: the key that verified, or why none did.
pub type Verdict = Result<String, String>;

/// The verifier with its caches and registry clients.
pub struct Signatures {
    trust: TrustPolicy,
    connector: Connector,
    verdicts: Mutex<Ttl<Verdict>>,
    tags: Mutex<Ttl<String>>,
    clients: Mutex<HashMap<String, Client>>,
}

impl std::fmt::Debug for Signatures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signatures")
            .field("signers", &self.trust.signers.len())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Signatures {
    pub fn new(
        trust: TrustPolicy,
        connector: Connector,
        verdict_ttl: Duration,
        tag_ttl: Duration,
    ) -> Signatures {
        Signatures {
            trust,
            connector,
            verdicts: Mutex::new(Ttl::new(verdict_ttl)),
            tags: Mutex::new(Ttl::new(tag_ttl)),
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The verdict on `image` (as the Pod spec writes it), waiting for registry work until
    /// `deadline`. `Ok(key file)` admits; `Err(reason)` denies.
    pub async fn check(self: &Arc<Self>, image: &str, deadline: tokio::time::Instant) -> Verdict {
        let r = Reference::parse(image.trim())
            .map_err(|e| format!("its signature cannot be checked: {e}"))?;
        let name = format!("{}/{}", r.registry, r.repository);
        if !self.trust.registry_trusted(&name) {
            return Err(format!(
                "{name} is not in a trusted registry (the trust policy's trusted-registries: {})",
                self.trust.trusted_registries.join(", ")
            ));
        }
        if self.trust.signers_for(Some(&name)).is_empty() {
            return Err(format!(
                "a signature is required and no key of the policy covers {name}"
            ));
        }
        let digest = match &r.digest {
            Some(d) => Some(d.to_string()),
            None => lock(&self.tags).get(&r.to_string()),
        };
        if let Some(d) = &digest
            && let Some(v) = lock(&self.verdicts).get(&format!("{name}@{d}"))
        {
            return v;
        }
        let me = self.clone();
        let work = tokio::task::spawn_blocking(move || me.verify(r, digest));
        match tokio::time::timeout_at(deadline, work).await {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => Err(format!("its signature check failed: {e}")),
            Err(_) => Err(
                "its signature could not be checked within the time budget (the check goes on: \
                 its verdict answers the next request)"
                    .to_string(),
            ),
        }
    }

    fn client(&self, r: &Reference) -> Result<Client, RegistryError> {
        if let Some(c) = lock(&self.clients).get(&r.registry) {
            return Ok(c.clone());
        }
        let c = (self.connector.0)(r)?;
        lock(&self.clients).insert(r.registry.clone(), c.clone());
        Ok(c)
    }

    /// Registry work (blocking): the tag resolved when no digest is known, the signatures
    /// read and verified; the verdict kept.
    fn verify(&self, r: Reference, digest: Option<String>) -> Verdict {
        let name = format!("{}/{}", r.registry, r.repository);
        let client = self
            .client(&r)
            .map_err(|e| format!("its registry cannot be reached to check its signature: {e}"))?;
        let tag_key = r.to_string();
        let store = moat_sign::registry::RegistryStore::new(client, r);
        let digest = match digest {
            Some(d) => d,
            None => {
                let d = store
                    .resolve_image()
                    .map_err(|e| format!("its tag cannot be resolved to a digest: {e}"))?
                    .digest;
                lock(&self.tags).put(tag_key, d.clone());
                d
            }
        };
        let keys: Vec<(&std::path::Path, &moat_sign::PublicKey)> = self
            .trust
            .signers_for(Some(&name))
            .into_iter()
            .map(|s| (s.path.as_path(), &s.key))
            .collect();
        let verdict = match moat_sign::policy::require_signature(&store, &digest, &keys) {
            Ok(a) => Ok(a.key_path.display().to_string()),
            Err(SignError::NotVerified(reason)) => {
                let names: Vec<String> =
                    keys.iter().map(|(p, _)| p.display().to_string()).collect();
                Err(format!(
                    "not signed by a trusted key ({}): {reason}",
                    names.join(", ")
                ))
            }
            // The registry failed: not a verdict on the image, not kept.
            Err(e) => return Err(format!("its signature could not be read: {e}")),
        };
        lock(&self.verdicts).put(format!("{name}@{digest}"), verdict.clone());
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caches_expire_and_stay_bounded() {
        let mut t: Ttl<u32> = Ttl::new(Duration::from_secs(60));
        for i in 0..(MAX_ENTRIES + 5) {
            t.put(format!("k{i}"), i as u32);
        }
        assert!(t.map.len() <= MAX_ENTRIES);
        assert_eq!(
            t.get(&format!("k{}", MAX_ENTRIES + 4)),
            Some((MAX_ENTRIES + 4) as u32)
        );
        let mut z: Ttl<u32> = Ttl::new(Duration::ZERO);
        z.put("a".into(), 1);
        assert_eq!(z.get("a"), None);
        let mut short: Ttl<u32> = Ttl::new(Duration::from_millis(1));
        short.put("a".into(), 1);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(short.get("a"), None);
    }
}

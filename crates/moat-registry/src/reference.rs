//! Image references as Docker reads them: `[REGISTRY/]REPO[:TAG][@DIGEST]`.
//!
//! The first component is a registry when it has a `.` or a `:` or is `localhost`; otherwise
//! the registry is `docker.io` (served by `registry-1.docker.io`), where a one-component
//! repository gets `library/`. No tag and no digest means `:latest`.

use crate::digest::Digest;
use crate::error::RegistryError;
use std::fmt;

/// Docker Hub's name and the host that serves its API.
pub const DOCKER_HUB: &str = "docker.io";
const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The registry as written (`docker.io`, `127.0.0.1:5000`, `ghcr.io`).
    pub registry: String,
    /// The repository (`library/debian`, `bench/lang-app`).
    pub repository: String,
    /// The tag, when one was given or implied (`latest`).
    pub tag: Option<String>,
    /// The digest, when one was given.
    pub digest: Option<Digest>,
}

impl Reference {
    /// Parses a reference. Errors say what is wrong with it.
    pub fn parse(s: &str) -> Result<Reference, RegistryError> {
        let bad = |reason: &str| RegistryError::InvalidReference {
            reference: s.to_string(),
            reason: reason.to_string(),
        };
        if s.is_empty() {
            return Err(bad("empty"));
        }
        if s.len() > 4096 {
            return Err(bad("longer than 4096 bytes"));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (
                r,
                Some(Digest::parse(d).map_err(|_| {
                    bad("the part after @ is not a digest (sha256:<64 hex digits>)")
                })?),
            ),
            None => (s, None),
        };
        let (name, tag) = match rest.rfind(':') {
            Some(i) if !rest[i..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
            _ => (rest, None),
        };
        if let Some(t) = tag
            && !valid_tag(t)
        {
            return Err(bad(
                "invalid tag (letters, digits, `_`, `.`, `-`; up to 128, not starting with `.` or `-`)",
            ));
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, p))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_string(), p.to_string())
            }
            _ => (DOCKER_HUB.to_string(), name.to_string()),
        };
        if !valid_registry(&registry) {
            return Err(bad("invalid registry host"));
        }
        let registry = if registry == "index.docker.io" {
            DOCKER_HUB.to_string()
        } else {
            registry
        };
        if path.is_empty() || !path.split('/').all(valid_component) {
            return Err(bad(
                "invalid repository name (lower-case letters, digits and `.`, `_`, `-` between them, components separated by `/`)",
            ));
        }
        let repository = if registry == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        let tag = match (tag, &digest) {
            (Some(t), _) => Some(t.to_string()),
            (None, None) => Some("latest".to_string()),
            (None, Some(_)) => None,
        };
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// The host (and port) to talk to: `registry-1.docker.io` for Docker Hub.
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }

    /// What to ask the manifests endpoint for: the digest when given, else the tag.
    pub fn manifest_ref(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_string(),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// An image reference read leniently and normalised for comparison, as Kubernetes objects,
/// container runtimes and reports spell images: `nginx`, `docker.io/library/nginx:latest`
/// and `index.docker.io/library/nginx` are one image. Unlike [`Reference`] it accepts any
/// digest algorithm and does not check each component's grammar: it answers "is this the
/// same image?", not "can this be pulled?" (use [`Reference::parse`] for that).
///
/// The repository is `registry/repository` in lower case, Docker Hub spelled
/// `docker.io/library/x` (one component) or `docker.io/u/x` (`index.docker.io` and
/// `registry-1.docker.io` are `docker.io`); the tag is `latest` when there is neither tag
/// nor digest; the digest is in lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageRef {
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parses `[registry/]repo[:tag][@algorithm:digest]`; `None` for an empty reference, one
    /// with white space, or a digest without an algorithm.
    pub fn parse(s: &str) -> Option<ImageRef> {
        let s = s.trim();
        if s.is_empty() || s.chars().any(char::is_whitespace) {
            return None;
        }
        let (name, digest) = match s.split_once('@') {
            Some((n, d)) if d.contains(':') => (n, Some(d.to_ascii_lowercase())),
            Some(_) => return None,
            None => (s, None),
        };
        // A tag is after the last ':' that follows the last '/'.
        let slash = name.rfind('/').map_or(0, |i| i + 1);
        let (repo, tag) = match name[slash..].rfind(':') {
            Some(i) => (&name[..slash + i], Some(name[slash + i + 1..].to_string())),
            None => (name, None),
        };
        if repo.is_empty() {
            return None;
        }
        let first = repo.split('/').next().unwrap_or(repo);
        let has_registry = repo.contains('/')
            && (first.contains('.') || first.contains(':') || first == "localhost");
        let mut repository = if has_registry {
            repo.to_ascii_lowercase()
        } else if repo.contains('/') {
            format!("docker.io/{}", repo.to_ascii_lowercase())
        } else {
            format!("docker.io/library/{}", repo.to_ascii_lowercase())
        };
        for alias in ["index.docker.io/", "registry-1.docker.io/"] {
            if let Some(rest) = repository.strip_prefix(alias) {
                repository = format!("docker.io/{rest}");
            }
        }
        if repository.starts_with("docker.io/") && repository.matches('/').count() == 1 {
            repository = repository.replacen("docker.io/", "docker.io/library/", 1);
        }
        let tag = tag.or_else(|| digest.is_none().then(|| "latest".to_string()));
        Some(ImageRef {
            repository,
            tag,
            digest,
        })
    }

    /// `repository:tag` (or the repository alone when there is no tag).
    pub fn name(&self) -> String {
        match &self.tag {
            Some(t) => format!("{}:{t}", self.repository),
            None => self.repository.clone(),
        }
    }
}

fn valid_tag(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 128
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        && !t.starts_with(['.', '-'])
}

fn valid_registry(r: &str) -> bool {
    let (host, port) = match r.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || r.starts_with('[') => (h, Some(p)),
        _ => (r, None),
    };
    if let Some(p) = port
        && (p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 5)
    {
        return false;
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return !v6.is_empty() && v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':');
    }
    !host.is_empty()
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// A path component: `[a-z0-9]+` joined by `.`, `_`, `__` or `-`s.
fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    if b.is_empty() || !is_alnum(b[0]) || !is_alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if is_alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !is_alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// Whether a host (with or without a port) is `localhost` or in 127.0.0.0/8 or `::1`: such a
/// registry may be spoken to in plain HTTP without `--insecure`, as Docker allows.
pub fn is_loopback(registry: &str) -> bool {
    let host = match registry.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !h.ends_with(':') => h,
        _ => registry,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host == "localhost" || host == "::1" {
        return true;
    }
    host.parse::<std::net::Ipv4Addr>()
        .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Reference {
        Reference::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn docker_defaults() {
        let r = p("debian");
        assert_eq!(r.to_string(), "docker.io/library/debian:latest");
        assert_eq!(r.api_host(), "registry-1.docker.io");
        assert_eq!(p("debian:12").to_string(), "docker.io/library/debian:12");
        assert_eq!(
            p("index.docker.io/library/debian:12").to_string(),
            "docker.io/library/debian:12"
        );
        assert_eq!(p("user/app").to_string(), "docker.io/user/app:latest");
        let r = p("127.0.0.1:5000/bench/lang-app:v1");
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("127.0.0.1:5000", "bench/lang-app", Some("v1"))
        );
        assert_eq!(r.api_host(), "127.0.0.1:5000");
        let h = "a".repeat(64);
        let r = p(&format!("localhost/x@sha256:{h}"));
        assert_eq!(r.tag, None);
        assert_eq!(r.manifest_ref(), format!("sha256:{h}"));
        let r = p(&format!("ghcr.io/o/x:1.0@sha256:{h}"));
        assert_eq!(r.tag.as_deref(), Some("1.0"));
        assert_eq!(r.manifest_ref(), format!("sha256:{h}"));
    }

    #[test]
    fn invalid_references() {
        for s in [
            "",
            "/abs/path",
            "./x",
            "Upper/x",
            "x:",
            "x:-tag",
            "a//b",
            "a/b@sha256:zz",
            "host:port/x",
            "x/../y",
        ] {
            assert!(Reference::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn image_refs_normalise() {
        let n = |s: &str| ImageRef::parse(s).unwrap_or_else(|| panic!("{s}"));
        assert_eq!(n("nginx"), n("docker.io/library/nginx:latest"));
        assert_eq!(n("nginx").name(), "docker.io/library/nginx:latest");
        assert_eq!(n("nginx:1.25"), n("index.docker.io/library/nginx:1.25"));
        assert_eq!(
            n("nginx:1.25"),
            n("registry-1.docker.io/library/nginx:1.25")
        );
        assert_eq!(n("docker.io/nginx:1.25"), n("nginx:1.25"));
        assert_eq!(n("bitnami/redis:7").name(), "docker.io/bitnami/redis:7");
        let r = n("localhost:5000/a/b:2@sha256:ABC");
        assert_eq!(r.repository, "localhost:5000/a/b");
        assert_eq!(r.tag.as_deref(), Some("2"));
        assert_eq!(r.digest.as_deref(), Some("sha256:abc"));
        let r = n("ghcr.io/o/r@sha256:abc");
        assert_eq!((r.name(), r.tag), ("ghcr.io/o/r".to_string(), None));
        assert_eq!(n("127.0.0.1:5000/App:1").repository, "127.0.0.1:5000/app");
        assert!(ImageRef::parse("").is_none());
        assert!(ImageRef::parse("a b").is_none());
        assert!(ImageRef::parse("x@nodigest").is_none());
        assert!(ImageRef::parse(":tag").is_none());
    }

    #[test]
    fn loopback() {
        for s in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:80",
        ] {
            assert!(is_loopback(s), "{s}");
        }
        for s in ["example.com", "10.0.0.1:5000", "localhost.example.com"] {
            assert!(!is_loopback(s), "{s}");
        }
    }
}

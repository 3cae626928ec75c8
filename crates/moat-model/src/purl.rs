//! Package URLs (<https://github.com/package-url/purl-spec>).
//!
//! Building: [`Purl::new`] then the `with_*` setters, then `to_string()`. Components are
//! percent-encoded as the specification says: every byte outside the unreserved set
//! `A-Z a-z 0-9 . - _ ~` is encoded, except `:` which need not be. Qualifier keys are
//! lower-cased and sorted, empty values are dropped.

use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Purl {
    pub ty: String,
    pub namespace: Option<String>,
    pub name: String,
    pub version: Option<String>,
    pub qualifiers: BTreeMap<String, String>,
    pub subpath: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurlError(pub String);

impl fmt::Display for PurlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid package URL: {}", self.0)
    }
}
impl std::error::Error for PurlError {}

impl Purl {
    pub fn new(ty: &str, name: &str) -> Purl {
        Purl {
            ty: ty.to_ascii_lowercase(),
            name: name.to_string(),
            ..Default::default()
        }
    }
    pub fn with_namespace(mut self, ns: impl Into<String>) -> Purl {
        let ns = ns.into();
        self.namespace = if ns.is_empty() { None } else { Some(ns) };
        self
    }
    pub fn with_version(mut self, v: impl Into<String>) -> Purl {
        let v = v.into();
        self.version = if v.is_empty() { None } else { Some(v) };
        self
    }
    /// Adds a qualifier; an empty value is ignored.
    pub fn with_qualifier(mut self, k: &str, v: impl Into<String>) -> Purl {
        let v = v.into();
        if !v.is_empty() {
            self.qualifiers.insert(k.to_ascii_lowercase(), v);
        }
        self
    }
    pub fn with_subpath(mut self, s: impl Into<String>) -> Purl {
        let s = s.into();
        self.subpath = if s.is_empty() { None } else { Some(s) };
        self
    }

    /// Parses a purl string (the inverse of `to_string`).
    pub fn parse(s: &str) -> Result<Purl, PurlError> {
        let rest = s
            .strip_prefix("pkg:")
            .ok_or_else(|| PurlError(format!("{s:?} does not start with pkg:")))?;
        let rest = rest.trim_start_matches('/');
        let (rest, subpath) = match rest.split_once('#') {
            Some((a, b)) => (a, Some(b)),
            None => (rest, None),
        };
        let (rest, quals) = match rest.split_once('?') {
            Some((a, b)) => (a, Some(b)),
            None => (rest, None),
        };
        let (ty, rest) = rest
            .split_once('/')
            .ok_or_else(|| PurlError(format!("{s:?} has no type/name")))?;
        if ty.is_empty() {
            return Err(PurlError(format!("{s:?} has an empty type")));
        }
        let rest = rest.trim_end_matches('/');
        let (path, version) = match rest.rfind('@') {
            Some(i) if !rest[i..].contains('/') => (&rest[..i], Some(decode(&rest[i + 1..])?)),
            _ => (rest, None),
        };
        let (ns, name) = match path.rsplit_once('/') {
            Some((ns, n)) => {
                let segs: Result<Vec<String>, _> = ns
                    .split('/')
                    .filter(|x| !x.is_empty())
                    .map(decode)
                    .collect();
                (Some(segs?.join("/")), decode(n)?)
            }
            None => (None, decode(path)?),
        };
        if name.is_empty() {
            return Err(PurlError(format!("{s:?} has an empty name")));
        }
        let mut p = Purl::new(ty, &name);
        p.namespace = ns.filter(|x| !x.is_empty());
        p.version = version;
        if let Some(q) = quals {
            for kv in q.split('&').filter(|x| !x.is_empty()) {
                let (k, v) = kv
                    .split_once('=')
                    .ok_or_else(|| PurlError(format!("qualifier {kv:?} has no '='")))?;
                p = p.with_qualifier(k, decode(v)?);
            }
        }
        if let Some(sp) = subpath {
            let segs: Result<Vec<String>, _> = sp
                .split('/')
                .filter(|x| !x.is_empty() && *x != "." && *x != "..")
                .map(decode)
                .collect();
            p = p.with_subpath(segs?.join("/"));
        }
        Ok(p)
    }
}

fn encode_into(out: &mut String, s: &str) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~' | b':') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

fn decode(s: &str) -> Result<String, PurlError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .ok_or_else(|| PurlError(format!("bad escape in {s:?}")))?;
            let v = u8::from_str_radix(hex, 16)
                .map_err(|_| PurlError(format!("bad escape in {s:?}")))?;
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| PurlError(format!("{s:?} is not UTF-8 once decoded")))
}

impl fmt::Display for Purl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(64);
        s.push_str("pkg:");
        s.push_str(&self.ty);
        s.push('/');
        if let Some(ns) = &self.namespace {
            for seg in ns.split('/').filter(|x| !x.is_empty()) {
                encode_into(&mut s, seg);
                s.push('/');
            }
        }
        encode_into(&mut s, &self.name);
        if let Some(v) = &self.version {
            s.push('@');
            encode_into(&mut s, v);
        }
        let mut first = true;
        for (k, v) in &self.qualifiers {
            s.push(if first { '?' } else { '&' });
            first = false;
            s.push_str(k);
            s.push('=');
            encode_into(&mut s, v);
        }
        if let Some(sp) = &self.subpath {
            s.push('#');
            let mut firstseg = true;
            for seg in sp.split('/').filter(|x| !x.is_empty()) {
                if !firstseg {
                    s.push('/');
                }
                firstseg = false;
                encode_into(&mut s, seg);
            }
        }
        f.write_str(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deb_purl_encodes_plus_and_keeps_epoch_colon() {
        let p = Purl::new("deb", "libc6")
            .with_namespace("debian")
            .with_version("1:2.36-9+deb12u4")
            .with_qualifier("distro", "debian-12")
            .with_qualifier("arch", "amd64");
        assert_eq!(
            p.to_string(),
            "pkg:deb/debian/libc6@1:2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12"
        );
        assert_eq!(Purl::parse(&p.to_string()).unwrap(), p);
    }

    #[test]
    fn npm_scoped_and_subpath_round_trip() {
        let p = Purl::new("npm", "core")
            .with_namespace("@babel")
            .with_version("7.0.0")
            .with_subpath("lib/x");
        assert_eq!(p.to_string(), "pkg:npm/%40babel/core@7.0.0#lib/x");
        assert_eq!(Purl::parse(&p.to_string()).unwrap(), p);
    }

    #[test]
    fn parse_errors_are_reported() {
        assert!(Purl::parse("deb/debian/x").is_err());
        assert!(Purl::parse("pkg:deb").is_err());
        assert!(Purl::parse("pkg:deb/x%zz").is_err());
    }
}

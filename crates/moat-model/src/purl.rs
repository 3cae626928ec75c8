//! Package URLs (<https://github.com/package-url/purl-spec>).
//!
//! Building: [`Purl::new`] then the `with_*` setters, then `to_string()`. Components are
//! percent-encoded as the specification says: every byte outside the unreserved set
//! `A-Z a-z 0-9 . - _ ~` is encoded, except `:` which need not be. Qualifier keys are
//! lower-cased and sorted, empty values are dropped.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

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

/// A package's purl as the package keeps it: its text, or, for the packages of an OS
/// database (a million of them in the largest), the form shared by the whole database,
/// rendered from the package's own fields when asked ([`crate::Package::purl`]). A rendered
/// purl was about 100 bytes of each package, for text made of its name, version,
/// architecture and source, which the package holds anyway. 16 bytes inline.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PackageUrl(Repr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    Text(Box<str>),
    Derived(Arc<PurlForm>),
}

/// How the purl of an OS package is made from its fields: `pkg:TYPE/NS/NAME@VERSION` with
/// the `arch`, `distro` and `upstream` qualifiers (the source package, when it differs from
/// the package's name), as [`Purl`] writes them. One per database.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PurlForm {
    pub ty: String,
    pub namespace: String,
    /// The `distro` qualifier (`debian-12`); empty: none.
    pub distro: String,
    pub upstream: Upstream,
}

/// What the `upstream` qualifier of a [`PurlForm`] says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Upstream {
    /// The source package's name (apk's origin).
    Source,
    /// The source package's name, with `@VERSION` when its version differs from the
    /// package's (dpkg's `Source: NAME (VERSION)`).
    SourceAtVersion,
}

/// The fields of a package a [`PurlForm`] reads.
pub struct PurlFields<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub arch: Option<&'a str>,
    pub source_name: Option<&'a str>,
    pub source_version: Option<&'a str>,
}

impl PurlForm {
    /// The purl of the package with these fields.
    pub fn render(&self, f: &PurlFields<'_>) -> String {
        let mut p = Purl::new(&self.ty, f.name)
            .with_namespace(self.namespace.as_str())
            .with_version(f.version)
            .with_qualifier("arch", f.arch.unwrap_or_default())
            .with_qualifier("distro", self.distro.as_str());
        if let Some(src) = f.source_name
            && src != f.name
        {
            let up = match (self.upstream, f.source_version) {
                (Upstream::SourceAtVersion, Some(sv)) if sv != f.version => format!("{src}@{sv}"),
                _ => src.to_string(),
            };
            p = p.with_qualifier("upstream", up);
        }
        p.to_string()
    }

    /// An upper bound of the length of [`PurlForm::render`] (every byte of a field
    /// percent-encoded), to check a limit without rendering.
    pub fn max_len(&self, f: &PurlFields<'_>) -> usize {
        let len = |s: Option<&str>| s.map_or(0, str::len);
        let fixed = "pkg:/?arch=&distro=&upstream=@".len() + 2 + self.ty.len();
        fixed
            + 3 * (self.namespace.len()
                + f.name.len()
                + 2 * f.version.len()
                + len(f.arch)
                + self.distro.len()
                + len(f.source_name)
                + len(f.source_version))
    }
}

impl PackageUrl {
    /// A purl kept as its text.
    pub fn text(s: impl Into<Box<str>>) -> PackageUrl {
        PackageUrl(Repr::Text(s.into()))
    }

    /// A purl made from the package's fields when asked.
    pub fn derived(form: Arc<PurlForm>) -> PackageUrl {
        PackageUrl(Repr::Derived(form))
    }

    /// The text, when kept as text.
    pub fn as_text(&self) -> Option<&str> {
        match &self.0 {
            Repr::Text(t) => Some(t),
            Repr::Derived(_) => None,
        }
    }

    /// The shared form, when made from the package's fields.
    pub fn form(&self) -> Option<&PurlForm> {
        match &self.0 {
            Repr::Text(_) => None,
            Repr::Derived(f) => Some(f),
        }
    }
}

impl Default for PackageUrl {
    fn default() -> PackageUrl {
        PackageUrl::text("")
    }
}

impl fmt::Debug for PackageUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Text(t) => fmt::Debug::fmt(t, f),
            Repr::Derived(form) => fmt::Debug::fmt(form, f),
        }
    }
}

impl From<String> for PackageUrl {
    fn from(s: String) -> PackageUrl {
        PackageUrl::text(s)
    }
}

impl From<&str> for PackageUrl {
    fn from(s: &str) -> PackageUrl {
        PackageUrl::text(s)
    }
}

impl From<&String> for PackageUrl {
    fn from(s: &String) -> PackageUrl {
        PackageUrl::text(s.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for PackageUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<PackageUrl, D::Error> {
        <String as serde::Deserialize>::deserialize(d).map(PackageUrl::from)
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
    fn a_form_renders_what_the_builder_writes() {
        assert_eq!(std::mem::size_of::<PackageUrl>(), 16);
        let deb = PurlForm {
            ty: "deb".into(),
            namespace: "debian".into(),
            distro: "debian-12".into(),
            upstream: Upstream::SourceAtVersion,
        };
        let f = |name, version, arch, src, srcv| PurlFields {
            name,
            version,
            arch,
            source_name: src,
            source_version: srcv,
        };
        let cases = [
            // (fields, upstream written by the builder)
            (
                f(
                    "libc6",
                    "2.36-9+deb12u4",
                    Some("amd64"),
                    Some("libc6"),
                    Some("2.36-9+deb12u4"),
                ),
                None,
            ),
            (
                f(
                    "libc-bin",
                    "2.36-9",
                    Some("amd64"),
                    Some("glibc"),
                    Some("2.36-9"),
                ),
                Some("glibc"),
            ),
            (
                f("libx", "1:2.0-1", None, Some("x src"), Some("1.9-1")),
                Some("x src@1.9-1"),
            ),
        ];
        for (fields, upstream) in cases {
            let mut want = Purl::new("deb", fields.name)
                .with_namespace("debian")
                .with_version(fields.version)
                .with_qualifier("arch", fields.arch.unwrap_or_default())
                .with_qualifier("distro", "debian-12");
            if let Some(u) = upstream {
                want = want.with_qualifier("upstream", u);
            }
            let got = deb.render(&fields);
            assert_eq!(got, want.to_string());
            assert!(got.len() <= deb.max_len(&fields));
        }
        let apk = PurlForm {
            ty: "apk".into(),
            namespace: "alpine".into(),
            distro: String::new(),
            upstream: Upstream::Source,
        };
        assert_eq!(
            apk.render(&f(
                "busybox-binsh",
                "1.36.1-r15",
                Some("x86_64"),
                Some("busybox"),
                Some("1.36.1-r15")
            )),
            "pkg:apk/alpine/busybox-binsh@1.36.1-r15?arch=x86_64&upstream=busybox"
        );
        // apk's upstream never carries a version
        assert_eq!(
            apk.render(&f("a", "1-r0", None, Some("b"), Some("2-r0"))),
            "pkg:apk/alpine/a@1-r0?upstream=b"
        );
    }

    #[test]
    fn parse_errors_are_reported() {
        assert!(Purl::parse("deb/debian/x").is_err());
        assert!(Purl::parse("pkg:deb").is_err());
        assert!(Purl::parse("pkg:deb/x%zz").is_err());
    }
}

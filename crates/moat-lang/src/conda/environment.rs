//! [`parse_environment`]: a conda `environment.yml`, the file `conda env create` reads and
//! `conda env export` writes.
//!
//! Each string of `dependencies` is a conda match spec; those that pin one version are
//! packages: `name=1.2.3`, `name==1.2.3`, `name=1.2.3=build` and `name 1.2.3 build` (the
//! build goes to `metadata["build"]`), with an optional `channel::` prefix (to
//! `metadata["channel"]`). Ranges (`>=`, `<`, `,`, `|`), wildcards and bare names pin
//! nothing and are skipped. The `pip:` list holds pip requirements: its exact pins
//! (`requests==2.31.0`) are PyPI packages, read as [`crate::python::parse_requirements`]
//! reads a requirements file.
//!
//! Invalid YAML is one `parse-error` with its line; a document without a `dependencies`
//! list gives nothing (an `environment.yml` of another tool is not an error).

use serde_json::Value;

use super::pkg;
use crate::read::{self, MAX_PACKAGES};
use crate::{LangPackage, LangParsed};

/// Largest file read.
const MAX_BYTES: usize = 8 << 20;

/// A match spec's name, pinned version and build, when it pins one version.
fn pinned(spec: &str) -> Option<(Option<&str>, &str, &str, Option<&str>)> {
    let spec = spec.split('#').next().unwrap_or(spec).trim();
    let (channel, spec) = match spec.rsplit_once("::") {
        Some((c, s)) => (Some(c.trim()), s.trim()),
        None => (None, spec),
    };
    let (name, version, build) = if spec.contains(' ') && !spec.contains(['=', '<', '>', '!']) {
        let mut parts = spec.split_whitespace();
        (parts.next()?, parts.next()?, parts.next())
    } else {
        let cut = spec.find(['=', '<', '>', '!', '~', ' '])?;
        let (name, rest) = spec.split_at(cut);
        let rest = rest.strip_prefix("==").or_else(|| rest.strip_prefix('='))?;
        match rest.split_once('=') {
            Some((v, b)) => (name, v, Some(b)),
            None => (name, rest, None),
        }
    };
    let name = name.trim();
    let version = version.trim();
    let literal = !version.is_empty()
        && version.bytes().any(|c| c.is_ascii_digit())
        && !version.contains(['*', ',', '|', '<', '>', '!', '=', ' ', '~']);
    (!name.is_empty() && literal).then_some((channel, name, version, build.map(str::trim)))
}

/// Parses an `environment.yml`.
pub fn parse_environment(path: &str, bytes: &[u8]) -> LangParsed {
    let doc = match read::yaml_within(bytes, MAX_BYTES) {
        Ok(Some(d)) => d,
        Ok(None) => return LangParsed::default(),
        Err(d) => return d.into(),
    };
    let mut out = LangParsed::default();
    let Some(deps) = doc.get("dependencies").and_then(Value::as_array) else {
        return out;
    };
    let mut pip: Vec<&str> = Vec::new();
    for d in deps {
        if out.packages.len() >= MAX_PACKAGES {
            out.warn(read::too_many("packages"));
            break;
        }
        match d {
            Value::String(spec) => {
                if let Some((channel, name, version, build)) = pinned(spec) {
                    let mut p: LangPackage = pkg(name, version);
                    if let Some(b) = build.filter(|b| !b.is_empty()) {
                        p.metadata.insert("build".into(), b.to_string().into());
                    }
                    if let Some(c) = channel.filter(|c| !c.is_empty()) {
                        p.metadata
                            .insert("channel".into(), super::channel_name(c, None).into());
                    }
                    out.packages.push(p);
                }
            }
            Value::Object(o) => {
                if let Some(list) = o.get("pip").and_then(Value::as_array) {
                    pip.extend(list.iter().filter_map(Value::as_str));
                }
            }
            _ => {}
        }
    }
    if !pip.is_empty() {
        let reqs = crate::python::parse_requirements(path, pip.join("\n").as_bytes());
        out.packages.extend(reqs.packages);
        // Lines of the joined list are not lines of this file.
        out.warnings.extend(reqs.warnings.into_iter().map(|mut d| {
            d.line = None;
            d
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_specs() {
        assert_eq!(
            pinned("python=3.11.6"),
            Some((None, "python", "3.11.6", None))
        );
        assert_eq!(
            pinned("numpy=1.26.4=py311h64a7726_0"),
            Some((None, "numpy", "1.26.4", Some("py311h64a7726_0")))
        );
        assert_eq!(
            pinned("conda-forge::pandas==2.1.4"),
            Some((Some("conda-forge"), "pandas", "2.1.4", None))
        );
        assert_eq!(
            pinned("openssl 3.0.13 h4ab18f5_1"),
            Some((None, "openssl", "3.0.13", Some("h4ab18f5_1")))
        );
        for unpinned in [
            "scipy>=1.11",
            "pip",
            "numpy=1.26.*",
            "x>=1,<2",
            "r-base",
            "a=1|2",
        ] {
            assert_eq!(pinned(unpinned), None, "{unpinned}");
        }
    }
}

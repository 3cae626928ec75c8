//! Go module versions (`golang.org/x/mod/semver`): `vMAJOR[.MINOR[.PATCH[-PRE][+BUILD]]]`.
//!
//! SemVer 2.0.0 ordering with Go's rules: the shorthands `v1` and `v1.2` mean `v1.0.0`
//! and `v1.2.0` (only without pre-release or build); numbers may not have leading zeros;
//! build metadata is ignored, so `v2.0.0+incompatible = v2.0.0`. Pseudo-versions need no
//! special case: `v0.0.0-20191109021931-daa7c04131f5` is a pre-release of `v0.0.0`, and
//! `v1.2.4-0.20191109021931-daa7c04131f5` sorts after `v1.2.3` and before `v1.2.4`
//! (ordered by their timestamps, which are fixed-width digit runs).
//!
//! The leading `v` is optional here because OSV writes Go versions without it
//! (`1.2.3`); `v1.2.3 = 1.2.3`.
//!
//! Fallback: Go says that invalid versions are older than every valid one and equal to
//! each other; here they are older than every valid one and ordered byte-wise among
//! themselves, which keeps the order total and antisymmetric.
//!
//! Spellings: the standard library's version is its toolchain's release (`go1.19.8`,
//! `go1.20`, `go1.22rc1`), which the Go vulnerability database writes as a module version
//! (`v1.19.8`, `v1.20.0`, `v1.22.0-rc.1`): [`toolchain_semver`] converts, and
//! [`canonical`] brings any spelling other tools write (Syft's `go1.19.8`, a purl's
//! `0.35.0` without the `v`, osv.dev's `1.19`) to the one inventories use (`v1.19.8`,
//! `v0.35.0`, `v1.19.0`).

use super::all_digits;
use super::semver::{Parsed, cmp_precedence, identifiers_ok, split_pre_build, with_fallback};
use std::cmp::Ordering;

fn parse(v: &str) -> Option<Parsed<'_>> {
    let s = v.strip_prefix('v').unwrap_or(v);
    let (core, pre, build) = split_pre_build(s);
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty()
        || parts.len() > 3
        || !parts
            .iter()
            .all(|p| all_digits(p) && (p.len() == 1 || !p.starts_with('0')))
    {
        return None;
    }
    if parts.len() < 3 && (pre.is_some() || build.is_some()) {
        return None;
    }
    if !pre.is_none_or(|p| identifiers_ok(p, true))
        || !build.is_none_or(|b| identifiers_ok(b, false))
    {
        return None;
    }
    Some(Parsed {
        core: parts,
        pre,
        build,
    })
}

/// Compares two Go module versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    with_fallback(a, b, parse, cmp_precedence)
}

/// Whether `v` (with or without the leading `v`) is a valid Go module version.
pub fn parse_ok(v: &str) -> bool {
    parse(v).is_some()
}

/// The packages whose version is the Go toolchain's (`stdlib`, `toolchain`).
pub fn is_toolchain_package(name: &str) -> bool {
    matches!(name, "stdlib" | "toolchain")
}

/// A Go toolchain version (`go1.19.8`, `go1.20`, `go1.22rc1`, `go1.21.0 X:boringcrypto`) as
/// the module version the Go vulnerability database uses for the standard library
/// (`v1.19.8`, `v1.20.0`, `v1.22.0-rc.1`); `None` for development builds and other text.
pub fn toolchain_semver(go_version: &str) -> Option<String> {
    let v = go_version.split_whitespace().next()?.strip_prefix("go")?;
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let n = digits(v);
    if n == 0 {
        return None;
    }
    let major = &v[..n];
    let rest = v[n..].strip_prefix('.')?;
    let n = digits(rest);
    if n == 0 {
        return None;
    }
    let minor = &rest[..n];
    let mut rest = &rest[n..];
    let mut patch = "0";
    if let Some(r) = rest.strip_prefix('.') {
        let n = digits(r);
        if n > 0 {
            patch = &r[..n];
            rest = &r[n..];
        }
    }
    let mut pre = String::new();
    for tag in ["rc", "beta", "alpha"] {
        if let Some(r) = rest.strip_prefix(tag) {
            let n = digits(r);
            if n > 0 {
                pre = format!("-{tag}.{}", &r[..n]);
            }
            break;
        }
    }
    let trim = |s: &str| {
        let t = s.trim_start_matches('0');
        if t.is_empty() {
            "0".to_string()
        } else {
            t.to_string()
        }
    };
    Some(format!(
        "v{}.{}.{}{pre}",
        trim(major),
        trim(minor),
        trim(patch)
    ))
}

/// The spelling inventories use for the version of Go package `name`: a module version with
/// its `v` and all three numbers (`1.3.0` -> `v1.3.0`, `v1.19` -> `v1.19.0`, as
/// `golang.org/x/mod/semver` reads the shorthand); for the standard library and the
/// toolchain also from the toolchain's own spelling (`go1.19.8` -> `v1.19.8`). Anything
/// else (`(devel)`, an empty version) is returned unchanged.
pub fn canonical(name: &str, version: &str) -> String {
    let v = version.trim();
    if is_toolchain_package(name)
        && v.starts_with("go")
        && let Some(s) = toolchain_semver(v)
    {
        return s;
    }
    let Some(parsed) = parse(v) else {
        return v.to_string();
    };
    // `golang.org/x/mod/semver`'s shorthands: `v1.19` is `v1.19.0`, `v2` is `v2.0.0`
    // (osv.dev's queries name the standard library `1.19`).
    let mut out = format!("v{}", parsed.core.join("."));
    for _ in parsed.core.len()..3 {
        out.push_str(".0");
    }
    if let Some(p) = parsed.pre {
        out.push('-');
        out.push_str(p);
    }
    if let Some(b) = parsed.build {
        out.push('+');
        out.push_str(b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toolchain_versions_as_module_versions() {
        assert_eq!(toolchain_semver("go1.19.8").as_deref(), Some("v1.19.8"));
        assert_eq!(toolchain_semver("go1.20").as_deref(), Some("v1.20.0"));
        assert_eq!(
            toolchain_semver("go1.22rc1").as_deref(),
            Some("v1.22.0-rc.1")
        );
        assert_eq!(toolchain_semver("devel go1.23-abcdef"), None);
        assert_eq!(toolchain_semver("1.19.8"), None);
    }

    #[test]
    fn canonical_spellings() {
        assert_eq!(canonical("stdlib", "go1.19.8"), "v1.19.8");
        assert_eq!(canonical("stdlib", "1.19.8"), "v1.19.8");
        assert_eq!(canonical("stdlib", "v1.19.8"), "v1.19.8");
        assert_eq!(canonical("toolchain", "go1.21rc2"), "v1.21.0-rc.2");
        assert_eq!(canonical("golang.org/x/net", "0.35.0"), "v0.35.0");
        assert_eq!(canonical("golang.org/x/net", "v0.35.0"), "v0.35.0");
        // Go's shorthands are the full version.
        assert_eq!(canonical("stdlib", "1.19"), "v1.19.0");
        assert_eq!(canonical("stdlib", "v1.19"), "v1.19.0");
        assert_eq!(canonical("example.com/m/v2", "v2"), "v2.0.0");
        assert_eq!(
            canonical("example.com/m", "0.0.0-20191109021931-daa7c04131f5"),
            "v0.0.0-20191109021931-daa7c04131f5"
        );
        assert_eq!(
            canonical("example.com/m", "v1.2.3+incompatible"),
            "v1.2.3+incompatible"
        );
        // `go` is no prefix of module versions; what is no version stays as written.
        assert_eq!(canonical("example.com/m", "go1.19.8"), "go1.19.8");
        assert_eq!(canonical("example.com/m", "(devel)"), "(devel)");
        assert_eq!(canonical("example.com/m", ""), "");
    }
}

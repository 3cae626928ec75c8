//! One format-neutral record into a [`Package`]: what matters for matching (kind,
//! ecosystem, the ecosystem's form of the name, version with its epoch, source package) read
//! from wherever moat, Trivy and Syft put it. Versions are brought to the spelling moat's
//! own inventory uses: a deb or rpm epoch from the purl's `epoch` qualifier, Go versions
//! with their `v` (Syft's `go1.19.8` for the standard library is `v1.19.8`); qualifiers
//! (Maven's `classifier`, Conan's `rrev`) are never part of the version.

use super::distro::distro_ecosystem;
use super::{Context, Raw};
use moat_model::ecosystem::is_os_purl_type;
use moat_model::version::rpm::split_source_rpm;
use moat_model::{Code, Diagnostic, Ecosystem, Location, Package, Purl, Str};

/// The ecosystem's own form of a language package's name from its purl (Maven
/// `group:artifact`, Go, npm and Composer `namespace/name`); `None` for other purl types.
fn language_name(p: &Purl) -> Option<String> {
    Ecosystem::from_purl_type(&p.ty).map(|e| e.name_from_purl(p.namespace.as_deref(), &p.name))
}

/// The package a record describes, or `None` for records that are not packages (Trivy's
/// lockfile "applications", nameless entries). A purl that does not parse is a diagnostic,
/// and the package is read without one.
pub(super) fn package(
    raw: &Raw,
    ctx: &mut Context,
    path: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Package> {
    let moat = raw.is_moat();
    let purl = match raw.purl.as_deref().map(Purl::parse) {
        Some(Ok(p)) => Some(p),
        Some(Err(e)) => {
            diagnostics.push(Diagnostic {
                code: Code::SbomComponent,
                line: None,
                message: format!(
                    "component {:?}: {e}; read without a purl",
                    if raw.name.is_empty() {
                        &raw.reference
                    } else {
                        &raw.name
                    }
                ),
                path: Some(path.to_string()),
                layer: None,
            });
            None
        }
        None => None,
    };
    // containers of packages (Trivy's lockfile "applications") have neither
    if purl.is_none() && raw.version.is_none() && !moat {
        return None;
    }
    if raw.name.trim().is_empty() && purl.is_none() {
        return None;
    }
    let kind = raw
        .prop("moat:package:type")
        .map(str::to_string)
        .or_else(|| purl.as_ref().map(|p| p.ty.clone()))
        .or_else(|| raw.prop("syft:package:type").map(str::to_string))
        .unwrap_or_else(|| "generic".to_string());
    let ty = purl
        .as_ref()
        .map_or(kind.as_str(), |p| p.ty.as_str())
        .to_string();
    let qual = |k: &str| purl.as_ref().and_then(|p| p.qualifiers.get(k)).cloned();
    let os_type = is_os_purl_type(&ty);

    let name = if moat || (raw.group.is_none() && !raw.name.is_empty() && os_type) {
        raw.name.clone()
    } else {
        let as_written = || match &raw.group {
            Some(g) => format!("{g}:{}", raw.name),
            None => raw.name.clone(),
        };
        match &purl {
            // the name as written where the purl has no namespace to add (a purl may
            // normalise it: PyPI `Django` is `pkg:pypi/django`)
            Some(p) if p.namespace.is_none() && !raw.name.is_empty() && raw.group.is_none() => {
                raw.name.clone()
            }
            Some(p) => language_name(p).unwrap_or_else(|| {
                if raw.name.is_empty() {
                    p.name.clone()
                } else {
                    as_written()
                }
            }),
            None => as_written(),
        }
    };

    // version, with the epoch put back where a tool moved it into a qualifier
    let mut version = raw
        .version
        .clone()
        .or_else(|| purl.as_ref().and_then(|p| p.version.clone()))
        .unwrap_or_default();
    // (dpkg never writes an epoch of 0: `epoch=0` on a deb is no epoch; rpm headers may
    // hold an explicit 0, which moat's inventory keeps)
    if !moat
        && matches!(ty.as_str(), "deb" | "rpm")
        && let Some(e) =
            qual("epoch").filter(|e| !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()))
        && !(ty == "deb" && e.bytes().all(|b| b == b'0'))
        && !version.contains(':')
        && !version.is_empty()
    {
        version = format!("{e}:{version}");
    }
    // other tools' spellings of a Go version: Syft names the standard library `go1.19.8`,
    // purls may leave out the `v` (`pkg:golang/golang.org/x/net@0.35.0`)
    if !moat && ty == "golang" {
        version = moat_model::version::go::canonical(&name, &version);
    }
    let epoch = if let Some(e) = raw.prop("moat:package:epoch") {
        e.parse().ok()
    } else if matches!(ty.as_str(), "deb" | "rpm") {
        version.split_once(':').and_then(|(e, _)| e.parse().ok())
    } else {
        None
    };

    let arch = if moat {
        raw.prop("moat:package:arch").map(str::to_string)
    } else {
        qual("arch").filter(|a| !a.is_empty())
    };

    let ecosystem = if moat {
        raw.prop("moat:package:ecosystem").map(str::to_string)
    } else if os_type {
        distro_ecosystem(purl.as_ref(), ctx)
    } else {
        purl.as_ref()
            .and_then(|p| Ecosystem::from_purl_type(&p.ty))
            .map(|e| e.osv_name().to_string())
    };

    let (source_name, source_version) = if moat {
        (
            raw.prop("moat:package:source_name").map(str::to_string),
            raw.prop("moat:package:source_version").map(str::to_string),
        )
    } else if os_type {
        source_of(raw, &ty, &name, &version, qual("upstream"))
    } else {
        (None, None)
    };

    let layer = if moat {
        raw.prop("moat:package:layer").and_then(|l| l.parse().ok())
    } else {
        raw.prop("aquasecurity:trivy:LayerDiffID").and_then(|d| {
            ctx.layers
                .iter()
                .find(|l| l.diff_id.as_deref() == Some(d))
                .map(|l| l.index)
        })
    };

    let mut locations: Vec<Location> = Vec::new();
    let mut push_loc = |p: &str| {
        if !p.is_empty() && !locations.iter().any(|l| l.path == p) {
            locations.push(Location {
                path: p.into(),
                layer,
            });
        }
    };
    if moat {
        raw.props("moat:package:location").for_each(&mut push_loc);
    } else {
        raw.props("aquasecurity:trivy:FilePath")
            .for_each(&mut push_loc);
        for (k, v) in &raw.props {
            if k.starts_with("syft:location:") && k.ends_with(":path") {
                push_loc(v);
            }
        }
    }

    let metadata: moat_model::Metadata = raw
        .props
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("moat:package:metadata:")
                .map(|k| (k.to_string(), v.clone()))
        })
        .collect();

    let id = {
        let arch_suffix = match (ty.as_str(), &arch) {
            ("deb", Some(a)) => format!(":{a}"),
            ("rpm", Some(a)) => format!(".{a}"),
            _ => String::new(),
        };
        format!("{kind}:{name}@{version}{arch_suffix}")
    };

    Some(Package {
        id: id.into(),
        name: name.into(),
        version: version.into(),
        kind: ctx.strings.get(&kind),
        purl: purl.map(|p| p.to_string()).unwrap_or_default().into(),
        ecosystem: ctx.strings.opt(ecosystem.as_deref()),
        arch: ctx.strings.opt(arch.as_deref()),
        epoch,
        source_name: source_name.map(Str::from),
        source_version: source_version.map(Str::from),
        licenses: {
            let l: Vec<Str> = raw.licenses.iter().map(|l| ctx.strings.get(l)).collect();
            ctx.licenses.get(&l)
        },
        layer: layer.and_then(|l| u32::try_from(l).ok()),
        locations: ctx.locations.get(&locations),
        dev: moat && raw.prop("moat:package:dev") == Some("true"),
        application: moat && raw.role == "application",
        file_count: raw
            .prop("moat:package:file_count")
            .and_then(|n| n.parse().ok()),
        metadata,
    })
}

/// Source package (name, version) of an OS package from whichever place the tool put it.
fn source_of(
    raw: &Raw,
    ty: &str,
    name: &str,
    version: &str,
    upstream: Option<String>,
) -> (Option<String>, Option<String>) {
    let own_version = Some(version.to_string()).filter(|v| !v.is_empty());
    // Trivy
    if let Some(src) = raw.prop("aquasecurity:trivy:SrcName") {
        let v = raw.prop("aquasecurity:trivy:SrcVersion").map(|v| {
            let mut s = v.to_string();
            if let Some(rel) = raw.prop("aquasecurity:trivy:SrcRelease") {
                s = format!("{s}-{rel}");
            }
            if let Some(e) = raw
                .prop("aquasecurity:trivy:SrcEpoch")
                .filter(|e| *e != "0")
            {
                s = format!("{e}:{s}");
            }
            s
        });
        return (Some(src.to_string()), v.or(own_version));
    }
    // Syft
    if let Some(srpm) = raw.prop("syft:metadata:sourceRpm")
        && let Some((n, v)) = split_source_rpm(srpm)
    {
        return (Some(n), Some(v));
    }
    if let Some(src) = raw
        .prop("syft:metadata:source")
        .or_else(|| raw.prop("syft:metadata:originPackage"))
    {
        let v = raw
            .prop("syft:metadata:sourceVersion")
            .map(str::to_string)
            .or(own_version);
        return (Some(src.to_string()), v);
    }
    // the purl
    if let Some(up) = upstream.filter(|u| !u.is_empty()) {
        if ty == "rpm"
            && let Some((n, v)) = split_source_rpm(&up)
        {
            return (Some(n), Some(v));
        }
        return match up.split_once('@') {
            Some((n, v)) if !v.is_empty() => (Some(n.to_string()), Some(v.to_string())),
            Some((n, _)) => (Some(n.to_string()), own_version),
            None => (Some(up), own_version),
        };
    }
    // Trivy's SPDX
    if let Some(info) = raw
        .source_info
        .as_deref()
        .and_then(|s| s.strip_prefix("built package from: "))
    {
        let mut parts = info.split_whitespace();
        if let Some(n) = parts.next() {
            let v = parts.next().map(str::to_string).or(own_version);
            return (Some(n.to_string()), v);
        }
    }
    // Debian and Alpine packages without a named source are their own source
    if matches!(ty, "deb" | "apk") {
        return (Some(name.to_string()), own_version);
    }
    (None, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_names() {
        let cases = [
            (
                "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
                "org.apache.logging.log4j:log4j-core",
            ),
            ("pkg:golang/golang.org/x/net@v0.1.0", "golang.org/x/net"),
            ("pkg:npm/%40babel/core@7.0.0", "@babel/core"),
        ];
        for (purl, want) in cases {
            let p = Purl::parse(purl).unwrap();
            assert_eq!(language_name(&p).as_deref(), Some(want), "{purl}");
        }
        let deb = Purl::parse("pkg:deb/debian/libc6@2.36").unwrap();
        assert_eq!(language_name(&deb), None);
    }
}

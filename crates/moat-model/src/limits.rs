//! Maximum lengths of the values moat keeps from its input, and the one way to cut them.
//!
//! Every string here comes from a target, an SBOM or an advisory feed, and a hostile one can
//! be a 100 MB line. The caps are far above any real value (the longest real package names
//! are a few hundred bytes) and are applied centrally: where a [`crate::Diagnostic`] is built
//! (its message and path), where the scan engine collects packages, and where the importer
//! normalises an advisory before it is stored. A value over its cap is cut by [`truncate`],
//! which leaves a visible marker (`...[truncated, 104857600 bytes]`) so that a cut value is
//! never mistaken for the real one; a value that cannot be cut without changing what it
//! identifies (a package name, an advisory id) is dropped with a diagnostic instead.

/// A package name (bytes). Longer: the package is dropped with a `too-large` diagnostic.
pub const MAX_NAME: usize = 1024;
/// A package version (bytes). Longer: truncated with a marker.
pub const MAX_VERSION: usize = 512;
/// A package id or purl (bytes): a name, a version and qualifiers. Longer: truncated.
pub const MAX_PURL: usize = 2048;
/// Any other short field of a package or advisory (licence, arch, ecosystem, source name,
/// metadata value, alias, reference, severity vector). Longer: truncated.
pub const MAX_FIELD: usize = 4096;
/// An advisory id (bytes). Longer: the advisory is rejected as malformed.
pub const MAX_ID: usize = 256;
/// An advisory summary (one line, bytes). Longer: truncated.
pub const MAX_SUMMARY: usize = 1024;
/// An advisory's details (bytes). Longer: truncated.
pub const MAX_DETAILS: usize = 64 << 10;
/// A diagnostic message (bytes). Longer: truncated.
pub const MAX_MESSAGE: usize = 4096;
/// A path inside a target (bytes, Linux `PATH_MAX`). Longer: truncated where reported.
pub const MAX_PATH: usize = 4096;

/// Cuts `s` to at most `max` bytes (on a character boundary) ending in a marker that says
/// how long it was. Returns whether it cut. A `max` too small for the marker cuts without it.
pub fn truncate(s: &mut String, max: usize) -> bool {
    if s.len() <= max {
        return false;
    }
    let marker = format!("...[truncated, {} bytes]", s.len());
    let (keep, marker) = if marker.len() < max {
        (max - marker.len(), marker.as_str())
    } else {
        (max, "")
    };
    let mut cut = keep;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    s.push_str(marker);
    true
}

/// [`truncate`] of a shared string: replaces it with a cut copy when it is over `max`.
pub fn truncate_shared(s: &mut crate::Str, max: usize) -> bool {
    if s.len() <= max {
        return false;
    }
    *s = truncated(s, max).into();
    true
}

/// [`truncate_shared`] of an optional value.
pub fn truncate_shared_opt(s: &mut Option<crate::Str>, max: usize) -> bool {
    s.as_mut().is_some_and(|s| truncate_shared(s, max))
}

/// [`truncate`] on a copy: borrows `s` when it is within `max`.
pub fn truncated(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if s.len() <= max {
        return std::borrow::Cow::Borrowed(s);
    }
    // Copy only what is kept (plus room for the marker), never the whole value.
    let mut cut = max.min(s.len());
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut out = String::with_capacity(max + 1);
    out.push_str(&s[..cut]);
    let marker = format!("...[truncated, {} bytes]", s.len());
    let keep = max.saturating_sub(marker.len());
    if marker.len() < max {
        let mut cut = keep;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str(&marker);
    }
    std::borrow::Cow::Owned(out)
}

/// Normalises an advisory from a feed before it is stored: a summary, details, severity
/// vector or reference over its cap is cut; an alias, related or upstream id over
/// [`MAX_ID`] is dropped. An advisory that cannot be cut without changing what it says (an
/// empty or over-long id, an affected package name over [`MAX_NAME`], a version in a range
/// or list over [`MAX_VERSION`]) is an `Err` with the reason, to be reported as malformed.
pub fn advisory(a: &mut crate::advisory::Advisory) -> Result<(), String> {
    if a.id.is_empty() || a.id.len() > MAX_ID {
        return Err(format!(
            "advisory id of {} bytes (the limit is {MAX_ID})",
            a.id.len()
        ));
    }
    for af in &a.affected {
        if af.package.name.len() > MAX_NAME {
            return Err(format!(
                "affected package name of {} bytes (the limit is {MAX_NAME})",
                af.package.name.len()
            ));
        }
        let events = af
            .ranges
            .iter()
            .flat_map(|r| r.events.iter().map(|e| e.version()));
        if let Some(v) = events
            .chain(af.versions.iter().map(String::as_str))
            .find(|v| v.len() > MAX_VERSION)
        {
            return Err(format!(
                "affected version of {} bytes (the limit is {MAX_VERSION})",
                v.len()
            ));
        }
    }
    truncate_opt(&mut a.summary, MAX_SUMMARY);
    truncate_opt(&mut a.details, MAX_DETAILS);
    for ids in [&mut a.aliases, &mut a.related, &mut a.upstream] {
        ids.retain(|id| id.len() <= MAX_ID);
    }
    for s in &mut a.severity {
        truncate(&mut s.kind, MAX_FIELD);
        truncate(&mut s.score, MAX_FIELD);
    }
    for r in &mut a.references {
        truncate(&mut r.kind, MAX_FIELD);
        truncate(&mut r.url, MAX_FIELD);
    }
    for f in [
        &mut a.modified,
        &mut a.published,
        &mut a.withdrawn,
        &mut a.rating,
    ] {
        truncate_opt(f, MAX_FIELD);
    }
    for af in &mut a.affected {
        truncate(&mut af.package.ecosystem, MAX_FIELD);
        truncate_opt(&mut af.package.purl, MAX_PURL);
        truncate_opt(&mut af.severity, MAX_FIELD);
        for r in &mut af.ranges {
            truncate_opt(&mut r.repo, MAX_FIELD);
        }
    }
    Ok(())
}

/// Checks and cuts one package: `Err` with the diagnostic when it must not be emitted at all
/// (no name, or a name over [`MAX_NAME`]: cutting it would name another package); `Ok(Some)`
/// with a `too-large` diagnostic when a version, id, purl or other field was cut; else
/// `Ok(None)`. Diagnostics are placed at the package's first location.
pub fn package(p: &mut crate::Package) -> Result<Option<crate::Diagnostic>, crate::Diagnostic> {
    use crate::{Code, Diagnostic};
    let located = |d: Diagnostic, p: &crate::Package| match p.locations.first() {
        Some(l) => d.at(l.path.clone(), l.layer),
        None => d,
    };
    if p.name.trim().is_empty() {
        let d = Diagnostic::new(
            Code::ParseError,
            format!("{} package without a name: dropped", p.kind),
        );
        return Err(located(d, p));
    }
    if p.name.len() > MAX_NAME {
        let d = Diagnostic::new(
            Code::TooLarge,
            format!(
                "{} package name of {} bytes is over the {MAX_NAME}-byte limit: dropped",
                p.kind,
                p.name.len()
            ),
        );
        return Err(located(d, p));
    }
    // a purl made from the fields is made now, whole, when it or a field it reads is to be
    // cut (it is cut as the text it was, not made again from cut fields)
    if let Some(form) = p.purl.form()
        && form.max_len(&p.purl_fields()) > MAX_PURL
    {
        let text = p.purl().into_owned();
        p.set_purl(text);
    }
    let mut any = truncate_shared(&mut p.version, MAX_VERSION);
    any |= truncate_shared(&mut p.id, MAX_PURL);
    if let Some(t) = p.purl.as_text()
        && t.len() > MAX_PURL
    {
        let cut = truncated(t, MAX_PURL).into_owned();
        p.set_purl(cut);
        any = true;
    }
    any |= truncate_shared(&mut p.kind, MAX_FIELD);
    for f in [
        &mut p.ecosystem,
        &mut p.arch,
        &mut p.source_name,
        &mut p.source_version,
    ] {
        any |= truncate_shared_opt(f, MAX_FIELD);
    }
    // the lists are shared: copied only when one of them is cut
    if p.licenses.iter().any(|l| l.len() > MAX_FIELD) {
        for l in p.licenses.make_mut() {
            any |= truncate_shared(l, MAX_FIELD);
        }
    }
    if p.locations.iter().any(|l| l.path.len() > MAX_PATH) {
        for l in p.locations.make_mut() {
            any |= truncate_shared(&mut l.path, MAX_PATH);
        }
    }
    for v in p.metadata.values_mut() {
        any |= truncate_shared(v, MAX_FIELD);
    }
    if !any {
        return Ok(None);
    }
    let d = Diagnostic::new(
        Code::TooLarge,
        format!("package {}: over-long fields cut (with a marker)", p.name),
    );
    Ok(Some(located(d, p)))
}

/// [`package`] on every package of an inventory that did not come from the scan engine (an
/// SBOM read as a target): dropped packages leave with their relationships, diagnostics are
/// appended.
pub fn inventory(inv: &mut crate::Inventory) {
    let mut dropped = std::collections::HashSet::new();
    let mut diags = Vec::new();
    inv.packages.retain_mut(|p| match package(p) {
        Ok(d) => {
            diags.extend(d);
            true
        }
        Err(d) => {
            diags.push(d);
            dropped.insert(p.id.clone());
            false
        }
    });
    if !dropped.is_empty() {
        inv.relationships
            .retain(|r| !dropped.contains(&r.from) && !dropped.contains(&r.to));
    }
    inv.diagnostics.extend(diags);
}

/// [`truncate`] on an optional value.
pub fn truncate_opt(s: &mut Option<String>, max: usize) -> bool {
    s.as_mut().is_some_and(|s| truncate(s, max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_with_a_marker_on_a_char_boundary() {
        let mut s = "é".repeat(1000); // 2000 bytes
        assert!(truncate(&mut s, 100));
        assert!(s.len() <= 100, "{}", s.len());
        assert!(s.ends_with("...[truncated, 2000 bytes]"), "{s}");
        assert!(s.starts_with("éé"));
        let mut short = "abc".to_string();
        assert!(!truncate(&mut short, 3));
        assert_eq!(short, "abc");
        let mut tiny = "abcdef".to_string();
        assert!(truncate(&mut tiny, 4));
        assert_eq!(tiny, "abcd");
        let long = "x".repeat(10_000);
        let t = truncated(&long, MAX_SUMMARY);
        assert_eq!(t.len(), MAX_SUMMARY);
        assert!(t.ends_with("...[truncated, 10000 bytes]"));
        assert_eq!(truncated("ok", 10), "ok");
        let mut a: crate::advisory::Advisory = serde_json::from_str(
            r#"{"id":"X-1","affected":[{"package":{"ecosystem":"PyPI","name":"x"},"versions":["1"]}]}"#,
        )
        .unwrap();
        a.summary = Some("s".repeat(300 << 20));
        a.aliases = vec!["CVE-1".into(), "C".repeat(MAX_ID + 1)];
        advisory(&mut a).unwrap();
        assert_eq!(a.summary.as_ref().map(String::len), Some(MAX_SUMMARY));
        assert_eq!(a.aliases, ["CVE-1"]);
        a.affected[0].versions.push("9".repeat(MAX_VERSION + 1));
        assert_eq!(
            advisory(&mut a),
            Err("affected version of 513 bytes (the limit is 512)".into())
        );
        a.id = "I".repeat(MAX_ID + 1);
        assert_eq!(
            advisory(&mut a),
            Err("advisory id of 257 bytes (the limit is 256)".into())
        );
        let mut o = Some("y".repeat(50));
        assert!(truncate_opt(&mut o, 40));
        assert_eq!(o.map(|s| s.len()), Some(40));
    }
}

//! The one place where the value caps of [`moat_model::limits`] meet packages: every
//! package of every group passes here before ids are made unique ([`group::assemble`]), so
//! no parser has to repeat the checks.
//!
//! * a package without a name (a malformed Go build-info line, a lockfile entry with an
//!   empty key) is never emitted: dropped with a `parse-error` diagnostic;
//! * a name over [`limits::MAX_NAME`] is dropped with a `too-large` diagnostic (cutting it
//!   would make another package's name);
//! * a version, id, purl or other field over its cap is cut with a marker, with one
//!   `too-large` diagnostic per package.
//!
//! [`group::assemble`]: super::group::assemble

use super::group::Group;
use moat_model::{Diagnostic, limits};

/// Applies the caps to every group; `notes` (indices into all groups' packages, in order)
/// are renumbered for the packages that are dropped.
pub(crate) fn apply(
    groups: &mut [Group],
    notes: &mut Vec<(usize, String)>,
    out: &mut Vec<Diagnostic>,
) {
    // old flat index -> new flat index (None: dropped)
    let mut renumber: Vec<Option<usize>> = Vec::new();
    let mut kept_total = 0usize;
    // In place: a scan's packages are its largest data, never copied to a second vector.
    for g in groups.iter_mut() {
        let mut keep = Vec::with_capacity(g.packages.len());
        for p in &mut g.packages {
            match limits::package(p) {
                Err(d) => {
                    out.push(d);
                    renumber.push(None);
                    keep.push(false);
                }
                Ok(cut) => {
                    out.extend(cut);
                    renumber.push(Some(kept_total));
                    kept_total += 1;
                    keep.push(true);
                }
            }
        }
        if keep.iter().all(|&k| k) {
            continue;
        }
        let mut i = 0;
        g.packages.retain(|_| {
            let k = keep.get(i).copied().unwrap_or(true);
            i += 1;
            k
        });
        g.provides.retain(&keep);
        g.depends.retain(&keep);
        // the kept packages' file lists, renumbered within the group
        let mut new_index = Vec::with_capacity(keep.len());
        let mut n = 0;
        for &k in &keep {
            new_index.push(k.then_some(n));
            n += usize::from(k);
        }
        g.files
            .retain_mut(|(i, _)| match new_index.get(*i).copied().flatten() {
                Some(new) => {
                    *i = new;
                    true
                }
                None => false,
            });
    }
    notes.retain_mut(|(i, _)| match renumber.get(*i).copied().flatten() {
        Some(new) => {
            *i = new;
            true
        }
        None => false,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::join::group::Names;
    use moat_model::Package;

    fn name_lists(per_package: &[&[&str]]) -> Names {
        let mut n = Names::default();
        for names in per_package {
            n.push(names.iter().map(|&s| s.into()));
        }
        n
    }

    /// A file list told apart by `n`.
    fn added(n: usize) -> moat_model::files::Added {
        moat_model::files::Added {
            over_package: n,
            ..Default::default()
        }
    }

    fn pkg(name: &str, version: &str) -> Package {
        let mut p: Package = serde_json::from_str(&format!(
            r#"{{"id":"npm:{name}@{version}","name":"{name}","version":"{version}","type":"npm","purl":"pkg:npm/{name}@{version}"}}"#
        ))
        .unwrap();
        p.locations.push(moat_model::Location {
            path: "/app/package-lock.json".into(),
            layer: Some(1),
        });
        p
    }

    #[test]
    fn drops_nameless_and_oversized_names_cuts_versions_renumbers_notes() {
        let long_name = "n".repeat(limits::MAX_NAME + 1);
        let long_version = "1".repeat(10 << 20);
        let mut groups = vec![
            Group {
                packages: vec![pkg("", "1"), pkg("a", "1")],
                provides: name_lists(&[&[""], &["a"]]),
                depends: name_lists(&[&[], &[]]),
                files: vec![(0, added(1)), (1, added(2))],
            },
            Group {
                packages: vec![pkg(&long_name, "1"), pkg("b", &long_version)],
                files: vec![(1, added(3))],
                ..Group::default()
            },
        ];
        let mut notes = vec![
            (0, "x".to_string()),
            (1, "y".to_string()),
            (3, "z".to_string()),
        ];
        let mut out = Vec::new();
        apply(&mut groups, &mut notes, &mut out);
        assert_eq!(notes, [(0, "y".to_string()), (1, "z".to_string())]);
        let names: Vec<&str> = groups
            .iter()
            .flat_map(|g| g.packages.iter().map(|p| p.name.as_str()))
            .collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(groups[0].provides, name_lists(&[&["a"]]));
        // file lists follow their packages
        assert_eq!(groups[0].files, [(0, added(2))]);
        assert_eq!(groups[1].files, [(0, added(3))]);
        let b = &groups[1].packages[0];
        assert_eq!(b.version.len(), limits::MAX_VERSION);
        assert!(b.version.ends_with("...[truncated, 10485760 bytes]"));
        assert!(b.purl().len() <= limits::MAX_PURL);
        let msgs: Vec<String> = out.iter().map(ToString::to_string).collect();
        assert_eq!(
            msgs,
            [
                "layer 1: /app/package-lock.json: npm package without a name: dropped",
                "layer 1: /app/package-lock.json: npm package name of 1025 bytes is over the 1024-byte limit: dropped",
                "layer 1: /app/package-lock.json: package b: over-long fields cut (with a marker)",
            ]
        );
    }
}

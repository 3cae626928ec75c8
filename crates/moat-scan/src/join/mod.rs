//! The join after the merge: from the facts of the final view to packages and edges.
//!
//! 1. the diagnostics inside facts (a damaged database, an unreadable marker file) are
//!    collected once per file and layer;
//! 2. [`os`]: the OS is detected and the OS package databases (dpkg, apk, rpm) are read,
//!    each package joined with its file list and licences, with the layer that introduced it
//!    (the dpkg `status` and apk databases are taken out of the view and consumed record
//!    by record);
//! 3. [`lang`]: language packages are collected and joined (a dist-info's RECORD) before
//!    step 2, so that the OS join keeps the owners of their metadata files only (not every
//!    file list of every OS package, nor a map of them all), then dropped where an OS package
//!    owns their metadata, and deduplicated; then the OS databases' package lists leave the
//!    merged view (their packages share their strings, and nothing after this reads them);
//! 4. [`limits`]: packages without a name or with an over-long one are dropped, other
//!    over-long fields cut (the value caps of `moat_model::limits`, applied here only);
//! 5. [`group`]: every package manager's packages get unique ids and their dependency edges.
//!
//! With `--package-files` ([`crate::ScanOptions::package_files`]), steps 2 and 3 also append
//! each package's file list (the same list its `file_count` counts) to one
//! [`moat_model::PackageFiles`] buffer and note (package index, range) in its group; step 4
//! renumbers those notes with the packages it drops, and after step 5 each range is given to
//! its package's final id ([`Built::files`]), with a `too-large` warning where a cap of
//! [`moat_model::files`] left paths out. Without it nothing is kept or noted.
//!
//! Dependencies point one way: this module calls `os`, `lang` and `group`; `os` and `lang`
//! build [`group::Group`]s and know nothing of each other (what `lang` needs from the OS
//! packages, their file ownership, is handed to it).

mod group;
mod lang;
mod limits;
mod os;

use crate::fact::Fact;
use crate::merge::Merged;
use moat_model::files::Added;
use moat_model::{Code, Diagnostic, OsInfo, Package, PackageFiles, Relationship, files};
use std::collections::{HashMap, HashSet};

/// What the join makes of the final view.
pub struct Built {
    pub os: Option<OsInfo>,
    pub packages: Vec<Package>,
    pub relationships: Vec<Relationship>,
    pub diagnostics: Vec<Diagnostic>,
    /// The packages' file lists, when asked for.
    pub files: PackageFiles,
}

/// Builds packages and relationships from the merged view. The OS databases' package lists
/// leave the view once their packages are built ([`Merged::release_databases`]): a database
/// of a million packages is not kept beside its packages while ids and edges are made.
/// With `keep_files`, every package's file list is kept ([`Built::files`]; the OS
/// databases' lists, a dist-info's RECORD), within the caps of [`moat_model::files`].
pub fn build(m: &mut Merged, skip_dev: bool, keep_files: bool) -> Built {
    let mut files = keep_files.then(PackageFiles::new);
    let mut diagnostics = Vec::new();
    collect_fact_diagnostics(m, &mut diagnostics);
    let (dpkg, apk) = (os::take_dpkg(m), os::take_apk(m));
    // The language packages are collected first (their diagnostics follow the OS join's):
    // the OS join keeps the owners of their metadata files only, not every file list.
    let mut lang_diagnostics = Vec::new();
    let collected = lang::collect(m, &mut lang_diagnostics);
    let wanted = collected.paths();
    let (os, os_groups) = os::groups(m, dpkg, apk, &wanted, files.as_mut(), &mut diagnostics);
    diagnostics.append(&mut lang_diagnostics);

    // Language packages; those whose metadata an OS package owns stay with the OS package.
    let mut notes: Vec<(usize, String)> = Vec::new();
    let lang_groups = {
        let mut owners: HashMap<&str, usize> = HashMap::new();
        let mut base = 0;
        for g in &os_groups {
            for (f, i) in &g.owned {
                owners.insert(f, base + i);
            }
            base += g.group.packages.len();
        }
        lang::groups(collected, &owners, skip_dev, &mut notes, files.as_mut())
    };
    let mut groups: Vec<group::Group> = os_groups.into_iter().map(|g| g.group).collect();
    groups.extend(lang_groups);
    m.release_databases(|f| match f {
        Fact::Dpkg(p) => p.packages = Vec::new(),
        Fact::Apk(p) => p.release(),
        Fact::Rpm(p) => p.packages = Vec::new(),
        _ => {}
    });
    limits::apply(&mut groups, &mut notes, &mut diagnostics);
    let (packages, relationships, kept) = group::assemble(groups, notes);
    let mut files = files.unwrap_or_default();
    for (i, added) in kept {
        if let Some(p) = packages.get(i) {
            files.assign(p.id.clone(), added.range);
            file_caps(p, &added, &mut diagnostics);
        }
    }
    Built {
        os,
        packages,
        relationships,
        diagnostics,
        files,
    }
}

/// The `too-large` warnings for the paths of `p` left out of its kept file list.
fn file_caps(p: &Package, added: &Added, out: &mut Vec<Diagnostic>) {
    let at = |d: Diagnostic| match p.locations.first() {
        Some(l) => d.at(l.path.as_str(), l.layer),
        None => d,
    };
    if added.over_package > 0 {
        out.push(at(Diagnostic::new(
            Code::TooLarge,
            format!(
                "package {}: {} of its files left out of its file list (more than {} files, or paths over {} bytes)",
                p.id,
                added.over_package,
                files::MAX_PER_PACKAGE,
                moat_model::limits::MAX_PATH
            ),
        )));
    }
    if added.first_full {
        out.push(at(Diagnostic::new(
            Code::TooLarge,
            format!(
                "package file lists: over {} paths or {} MiB in all; {} of package {}'s files and all files of the packages after it left out",
                files::MAX_PATHS,
                files::MAX_BYTES >> 20,
                added.over_total,
                p.id
            ),
        )));
    }
}

/// The diagnostics inside the facts of every state of every analysed file (language
/// parsers' are collected by [`lang`], from the final view), each once.
fn collect_fact_diagnostics(m: &Merged, out: &mut Vec<Diagnostic>) {
    let mut seen = HashSet::new();
    for (path, history) in m.histories() {
        for (layer, facts) in history {
            let Some(facts) = facts else { continue };
            for fact in facts.facts() {
                let diags: Vec<Diagnostic> = match fact {
                    Fact::Diagnostic(d) => vec![d.clone()],
                    Fact::Dpkg(p) => p.diagnostics(),
                    Fact::Apk(p) => p.diagnostics(),
                    Fact::Rpm(p) => p.diagnostics(),
                    _ => vec![],
                };
                for d in diags {
                    let d = d.at(format!("/{path}"), *layer);
                    if seen.insert(d.clone()) {
                        out.push(d);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_lists_over_their_caps_are_warned_about_at_the_package() {
        let p: Package = serde_json::from_str(
            r#"{"id":"deb:x@1","name":"x","version":"1","type":"deb","purl":"pkg:deb/x@1",
                "locations":[{"path":"/var/lib/dpkg/status","layer":2}]}"#,
        )
        .unwrap();
        let mut out = Vec::new();
        file_caps(&p, &Added::default(), &mut out);
        assert!(out.is_empty());
        let added = Added {
            over_package: 3,
            over_total: 5,
            first_full: true,
            ..Added::default()
        };
        file_caps(&p, &added, &mut out);
        let text: Vec<String> = out.iter().map(|d| d.message.clone()).collect();
        assert_eq!(out.len(), 2, "{text:?}");
        assert!(out.iter().all(|d| d.code == Code::TooLarge));
        assert_eq!(out[0].path.as_deref(), Some("/var/lib/dpkg/status"));
        assert_eq!(out[0].layer, Some(2));
        assert!(
            text[0].starts_with("package deb:x@1: 3 of its files left out"),
            "{text:?}"
        );
        assert!(text[1].contains("5 of package deb:x@1's files"), "{text:?}");
    }
}

//! Findings of content analyzers ([`Fact::Findings`]), gathered from every layer, and the
//! findings of analyzers that read the image config.
//!
//! While the layers are merged, every file that holds findings is noted with its layer
//! ([`Collector::note`]); once the final view is known ([`Collector::finish`]) each finding
//! gets its file and layer, and a file that is not in the final view (a later layer deleted
//! or replaced it) is marked: an [`Scope::EveryLayer`] analyzer's secret finding stays,
//! with `deleted` set and `deleted_in_layer` naming the layer that removed the file (read
//! from the path's history); a [`Scope::FinalView`] analyzer's findings there are dropped.
//! A secret that a later layer wrote again at the same place (same rule, line and redacted
//! value: a `chmod -R` or a re-`COPY` duplicates files) is reported once, from the layer
//! that still has it.
//!
//! After the files come the findings about the image config: every active analyzer's
//! [`Analyzer::analyze_config`] hook, once per image (the config's values are small and
//! need no walk). A hook beside the analyzers rather than a step in the pipeline: the
//! analyzer that scans files for secrets is the one that knows the rules, and
//! misconfiguration checks of the image config will use the same hook.

use crate::analyzer::Analyzer;
use crate::fact::Scope;
use crate::fact::{Fact, FileFacts};
use crate::merge::Merged;
use crate::walk::{Change, LayerFacts};
use moat_model::{Artifact, ArtifactKind, Detail, Finding, Span};
use std::collections::HashSet;
use std::sync::Arc;

/// Files with findings, in layer and archive order.
#[derive(Default)]
pub(crate) struct Collector {
    files: Vec<(String, Option<usize>, Arc<FileFacts>)>,
}

/// What makes two secret findings the same secret at the same place.
type Key = (String, Option<Span>, String);

fn key(f: &Finding) -> Option<Key> {
    match &f.detail {
        Detail::Secret(s) => Some((
            f.id.clone(),
            f.location.as_ref().and_then(|l| l.span),
            s.redacted.clone(),
        )),
        _ => None,
    }
}

/// The secret findings of a file's facts, by [`key`].
fn keys(facts: &FileFacts) -> HashSet<Key> {
    facts
        .facts()
        .filter_map(|f| match f {
            Fact::Findings(list) => Some(list.iter().filter_map(key)),
            _ => None,
        })
        .flatten()
        .collect()
}

/// For a file no longer in the final view: the layer that deleted or replaced this version
/// of it, and the findings of the version that replaced it (if a file replaced it).
fn removal(merged: &Merged, path: &str, facts: &Arc<FileFacts>) -> (Option<usize>, HashSet<Key>) {
    let history = merged.history(path);
    let next = history
        .iter()
        .position(|(_, f)| f.as_ref().is_some_and(|f| Arc::ptr_eq(f, facts)))
        .and_then(|i| history.get(i + 1));
    match next {
        Some((layer, Some(replacement))) => (*layer, keys(replacement)),
        Some((layer, None)) => (*layer, HashSet::new()),
        None => (None, HashSet::new()),
    }
}

impl Collector {
    /// Notes the files of one layer that hold findings.
    pub(crate) fn note(&mut self, layer: Option<usize>, facts: &LayerFacts) {
        for (path, change) in &facts.changes {
            if let Change::File(f) = change
                && f.has_findings()
            {
                self.files.push((path.clone(), layer, f.clone()));
            }
        }
    }

    /// The findings, located, then those about the image config. Paths are relative to
    /// a project directory's root (`dir:`), absolute inside an image or root filesystem.
    pub(crate) fn finish(
        self,
        merged: &Merged,
        artifact: &Artifact,
        active: &[&dyn Analyzer],
    ) -> Vec<Finding> {
        let relative = artifact.kind == ArtifactKind::Dir;
        let mut out = Vec::new();
        for (path, layer, facts) in self.files {
            let current = merged.stored(&path).is_some_and(|f| Arc::ptr_eq(f, &facts));
            let (removed_in, rewritten) = if current {
                (None, HashSet::new())
            } else {
                removal(merged, &path, &facts)
            };
            for tagged in facts.tagged() {
                let Fact::Findings(list) = &tagged.fact else {
                    continue;
                };
                if !current && tagged.scope == Scope::FinalView {
                    continue;
                }
                for finding in list {
                    if !current && key(finding).is_some_and(|k| rewritten.contains(&k)) {
                        continue;
                    }
                    let mut finding = finding.clone();
                    let loc = finding.location.get_or_insert_with(Default::default);
                    if loc.path.is_none() {
                        loc.path = Some(if relative {
                            path.clone()
                        } else {
                            format!("/{path}")
                        });
                    }
                    if loc.layer.is_none() {
                        loc.layer = layer;
                    }
                    if !current && let Detail::Secret(s) = &mut finding.detail {
                        s.deleted = true;
                        s.deleted_in_layer = removed_in;
                    }
                    out.push(finding);
                }
            }
        }
        if let Some(config) = &artifact.config {
            for a in active {
                out.extend(a.analyze_config(config));
            }
        }
        out
    }
}

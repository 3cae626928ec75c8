//! Findings of content analyzers ([`Fact::Findings`]), gathered from every layer.
//!
//! While the layers are merged, every file that holds findings is noted with its layer
//! ([`Collector::note`]); once the final view is known ([`Collector::finish`]) each finding
//! gets its file and layer, and a file that is not in the final view (a later layer deleted
//! or replaced it) is marked: an [`Scope::EveryLayer`] analyzer's secret finding stays, with
//! `deleted` set; a [`Scope::FinalView`] analyzer's findings there are dropped.

use crate::fact::Scope;
use crate::fact::{Fact, FileFacts};
use crate::merge::Merged;
use crate::walk::{Change, LayerFacts};
use moat_model::{Detail, Finding};
use std::sync::Arc;

/// Files with findings, in layer and archive order.
#[derive(Default)]
pub(crate) struct Collector {
    files: Vec<(String, Option<usize>, Arc<FileFacts>)>,
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

    /// The findings, located. `relative`: paths relative to a project directory's root
    /// rather than absolute inside an image or root filesystem.
    pub(crate) fn finish(self, merged: &Merged, relative: bool) -> Vec<Finding> {
        let mut out = Vec::new();
        for (path, layer, facts) in self.files {
            let current = merged.stored(&path).is_some_and(|f| Arc::ptr_eq(f, &facts));
            for tagged in facts.tagged() {
                let Fact::Findings(list) = &tagged.fact else {
                    continue;
                };
                if !current && tagged.scope == Scope::FinalView {
                    continue;
                }
                for finding in list {
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
                    }
                    out.push(finding);
                }
            }
        }
        out
    }
}

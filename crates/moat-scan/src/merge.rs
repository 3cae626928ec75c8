//! The ordered merge: applies each layer's changes on top of the layers below it.
//!
//! Whiteouts and opaque directories of a layer apply to the lower layers only, so each
//! layer's deletions are applied before its own files. The other changes apply in archive
//! order, as an unpacker writes them: a file, symlink or shadow (anything that is not a
//! directory) replaces what stood at its path and hides everything below it, in lower
//! layers and earlier in the same layer (Docker removes the tree; overlayfs hides it); a
//! directory replaces a file or symlink at its path and keeps what lies below. The result, [`Merged`], is the final
//! view of the analysed files and symlinks, plus the history of every analysed path (which
//! layer wrote or deleted it), from which the join tells which layer introduced a package.
//! Each file's state holds the facts of all analyzers that read it. The joins read it
//! through methods ([`Merged::file`] resolves symlinks, [`Merged::files_under`] lists a
//! directory, [`Merged::history`]); its maps are private so that its representation can
//! change (a per-layer cache, say) without touching them.

use crate::fact::{Fact, FileFacts};
use crate::walk::{Change, LayerFacts};
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Arc;

/// One state of a path in its history: the layer and the facts, or `None` once deleted.
pub type HistoryEntry = (Option<usize>, Option<Arc<FileFacts>>);

/// A file found in the final view.
#[derive(Debug)]
pub struct FoundFile<'a> {
    pub facts: &'a FileFacts,
    /// Its path once symlinks are resolved.
    pub path: String,
}

/// A symlink loop met while resolving a path.
#[derive(Debug, Clone, thiserror::Error)]
#[error("symlink loop (at /{at})")]
pub struct SymlinkLoop {
    /// Where the last link followed was.
    pub at: String,
}

#[derive(Debug, Default)]
pub struct Merged {
    /// Final view: analysed files and symlinks that survive all layers.
    fs: BTreeMap<String, (Option<usize>, Change)>,
    /// Every state each analysed file path went through, oldest first.
    history: HashMap<String, Vec<HistoryEntry>>,
}

/// Most symlinks followed while resolving one path (as Linux's `MAXSYMLINKS`).
const MAX_SYMLINK_HOPS: usize = 40;

impl Merged {
    /// Applies one layer on top of what is there.
    pub fn apply(&mut self, layer: Option<usize>, facts: &LayerFacts) {
        for (path, change) in &facts.changes {
            match change {
                Change::Whiteout => self.delete(layer, path, true),
                Change::Opaque => self.delete(layer, path, false),
                _ => {}
            }
        }
        for (path, change) in &facts.changes {
            match change {
                Change::File(f) => {
                    self.delete(layer, path, false);
                    self.history
                        .entry(path.clone())
                        .or_default()
                        .push((layer, Some(f.clone())));
                    self.fs.insert(path.clone(), (layer, change.clone()));
                }
                Change::Symlink(_) => {
                    self.delete(layer, path, true);
                    self.fs.insert(path.clone(), (layer, change.clone()));
                }
                Change::Shadow => self.delete(layer, path, true),
                Change::Dir => self.replace(layer, path),
                Change::Whiteout | Change::Opaque => {}
            }
        }
    }

    /// A directory now stands at `path`: a file or symlink that was there leaves the final
    /// view; the entries below a directory stay (only an opaque marker or a whiteout hides
    /// them).
    fn replace(&mut self, layer: Option<usize>, path: &str) {
        if let Some((_, old)) = self.fs.remove(path)
            && matches!(old, Change::File(_))
        {
            self.history
                .entry(path.to_string())
                .or_default()
                .push((layer, None));
        }
    }

    /// Removes `path` (when `itself`) and everything below it. Something that is not a
    /// directory hides all that was below its path, as a whiteout does.
    fn delete(&mut self, layer: Option<usize>, path: &str, itself: bool) {
        let mut gone: Vec<String> = Vec::new();
        if itself && self.fs.contains_key(path) {
            gone.push(path.to_string());
        }
        if path.is_empty() {
            gone.extend(self.fs.keys().cloned());
        } else {
            // keys below `path` start with `path/`; `/` sorts right after `.`, `-` and the
            // like, so the range starts at `path/` and ends at the first key without it
            let below = self
                .fs
                .range::<str, _>((Bound::Excluded(path), Bound::Unbounded))
                .take_while(|(k, _)| k.starts_with(path))
                .filter(|(k, _)| k.as_bytes().get(path.len()) == Some(&b'/'))
                .map(|(k, _)| k.clone());
            gone.extend(below);
        }
        for k in gone {
            if let Some((_, Change::File(_))) = self.fs.remove(&k) {
                self.history.entry(k).or_default().push((layer, None));
            }
        }
    }

    /// Resolves symlinks in `path` against the final view, never leaving the root.
    /// Errors on a loop (more than [`MAX_SYMLINK_HOPS`] links).
    pub fn resolve(&self, path: &str) -> Result<String, SymlinkLoop> {
        let mut pending: std::collections::VecDeque<String> =
            path.split('/').map(str::to_string).collect();
        let mut cur: Vec<String> = Vec::new();
        let mut hops = 0;
        while let Some(c) = pending.pop_front() {
            match c.as_str() {
                "" | "." => continue,
                ".." => {
                    cur.pop();
                    continue;
                }
                _ => {}
            }
            cur.push(c);
            let joined = cur.join("/");
            if let Some((_, Change::Symlink(target))) = self.fs.get(&joined) {
                hops += 1;
                if hops > MAX_SYMLINK_HOPS {
                    return Err(SymlinkLoop { at: joined });
                }
                cur.pop();
                if target.starts_with('/') {
                    cur.clear();
                }
                for (i, t) in target.split('/').enumerate() {
                    pending.insert(i, t.to_string());
                }
            }
        }
        Ok(cur.join("/"))
    }

    /// The facts of the file at `path` after resolving symlinks, with the resolved path.
    pub fn file(&self, path: &str) -> Result<Option<FoundFile<'_>>, SymlinkLoop> {
        let real = self.resolve(path)?;
        Ok(match self.fs.get(&real) {
            Some((_, Change::File(f))) => Some(FoundFile {
                facts: f,
                path: real,
            }),
            _ => None,
        })
    }

    /// The file stored at exactly `path` in the final view (no symlinks followed).
    pub fn stored(&self, path: &str) -> Option<&Arc<FileFacts>> {
        match self.fs.get(path) {
            Some((_, Change::File(f))) => Some(f),
            _ => None,
        }
    }

    /// Final files whose path starts with `prefix`, in path order.
    pub fn files_under<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, Option<usize>, &'a FileFacts)> + 'a {
        self.fs
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(move |(k, _)| k.starts_with(prefix))
            .filter_map(|(k, (l, c))| match c {
                Change::File(f) => Some((k.as_str(), *l, f.as_ref())),
                _ => None,
            })
    }

    /// Every state the file at `path` went through, oldest first (empty when none).
    pub fn history(&self, path: &str) -> &[HistoryEntry] {
        self.history.get(path).map_or(&[], Vec::as_slice)
    }

    /// The final view: every analysed file and symlink, in path order.
    #[cfg(test)]
    pub(crate) fn view(&self) -> impl Iterator<Item = (&str, &Change)> {
        self.fs.iter().map(|(k, (_, c))| (k.as_str(), c))
    }

    /// Empties, with `strip`, what the join has used up (the package lists of the OS
    /// databases), in every state of every file, in place: a database's memory goes as soon
    /// as its packages are built, not with the view. The view and the history hold the same
    /// `Arc` of a file's facts; facts shared beyond them (the findings collector keeps the
    /// files with findings) are left as they are.
    pub fn release_databases(&mut self, strip: impl Fn(&mut Fact)) {
        for (path, states) in &mut self.history {
            let mut in_view = match self.fs.get_mut(path.as_str()) {
                Some((_, Change::File(f))) => Some(f),
                _ => None,
            };
            for (_, state) in states.iter_mut() {
                let Some(facts) = state else { continue };
                // drop the view's clone for a moment, so that this one is unique
                let lent = match in_view.as_deref_mut() {
                    Some(v) if Arc::ptr_eq(v, facts) => {
                        *v = Arc::default();
                        true
                    }
                    _ => false,
                };
                if let Some(unique) = Arc::get_mut(facts) {
                    unique.facts_mut().for_each(&strip);
                }
                if lent && let Some(v) = in_view.as_deref_mut() {
                    *v = facts.clone();
                }
            }
        }
    }

    /// Takes something out of the facts of the final file at `path` (a resolved path; the
    /// first fact `take` gives something for), so that the caller owns it and can free it
    /// piece by piece: a database of a million packages is consumed as its packages are
    /// built instead of living beside them. The view and the history hold the same `Arc` of
    /// the file's facts; both are lent for a moment so that it is unique. `None` when no
    /// fact gives anything, or when the facts are shared beyond the view and its history
    /// (the findings collector keeps the files with findings): then nothing is changed and
    /// the caller reads them in place.
    pub fn take_from<T>(
        &mut self,
        path: &str,
        mut take: impl FnMut(&mut Fact) -> Option<T>,
    ) -> Option<T> {
        let Some((_, Change::File(view))) = self.fs.get_mut(path) else {
            return None;
        };
        let mut facts = std::mem::take(view);
        let mut lent = Vec::new();
        if let Some(states) = self.history.get_mut(path) {
            for (i, (_, state)) in states.iter_mut().enumerate() {
                if let Some(f) = state
                    && Arc::ptr_eq(f, &facts)
                {
                    *f = Arc::default();
                    lent.push(i);
                }
            }
        }
        let got = Arc::get_mut(&mut facts).and_then(|f| f.facts_mut().find_map(&mut take));
        if let Some(states) = self.history.get_mut(path) {
            for i in lent {
                states[i].1 = Some(facts.clone());
            }
        }
        *view = facts;
        got
    }

    /// Every analysed path with its history, in path order.
    pub fn histories(&self) -> Vec<(&str, &[HistoryEntry])> {
        let mut all: Vec<(&str, &[HistoryEntry])> = self
            .history
            .iter()
            .map(|(k, h)| (k.as_str(), h.as_slice()))
            .collect();
        all.sort_unstable_by_key(|(k, _)| *k);
        all
    }
}

/// The layer that introduced each package of a database (see [`introduced_layers`]).
#[derive(Debug)]
pub enum Introduced<K> {
    /// The database has one state since it last appeared: every package it holds came
    /// with that layer (no map: a database of a million packages needs none).
    All(Option<usize>),
    /// Per package key.
    Each(HashMap<K, Option<usize>>),
}

impl<K: std::hash::Hash + Eq> Introduced<K> {
    /// The layer of the package `key` of the final state (None when unknown).
    pub fn get<Q>(&self, key: &Q) -> Option<usize>
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        match self {
            Introduced::All(layer) => *layer,
            Introduced::Each(map) => map.get(key).copied().flatten(),
        }
    }
}

/// For the history of one database path, finds the layer that introduced each package
/// still present at the end: the first layer of the unbroken run of states in which the
/// package had its final version. `extract` lists (key, version) pairs of a fact (of every
/// fact of the file, in turn). Only keys of the final state may be asked for.
/// Keys and versions may borrow from the facts (a database of a million packages is not
/// copied for this), and a database written once since it last appeared (the common case,
/// and every `dir:` target) needs no map at all.
pub fn introduced_layers<'a, K, V, F>(history: &'a [HistoryEntry], extract: F) -> Introduced<K>
where
    K: std::hash::Hash + Eq + Clone,
    V: PartialEq,
    F: Fn(&'a Fact) -> Vec<(K, V)>,
{
    let since = history
        .iter()
        .rposition(|(_, f)| f.is_none())
        .map_or(0, |i| i + 1);
    let run = &history[since..];
    match run {
        [] => return Introduced::All(None),
        [(layer, _)] => return Introduced::All(*layer),
        _ => {}
    }
    let mut state: HashMap<K, (V, Option<usize>)> = HashMap::new();
    for (layer, facts) in run {
        let Some(facts) = facts else {
            continue;
        };
        let mut now: HashMap<K, V> = HashMap::new();
        for fact in facts.facts() {
            now.extend(extract(fact));
        }
        state.retain(|k, (v, _)| now.get(k) == Some(v));
        for (k, v) in now {
            state.entry(k).or_insert((v, *layer));
        }
    }
    Introduced::Each(state.into_iter().map(|(k, (_, l))| (k, l)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use moat_model::Diagnostic;

    /// Facts holding only a note (the merge does not look inside facts).
    fn facts(note: &str) -> Arc<FileFacts> {
        Arc::new(FileFacts::from(Fact::Diagnostic(Diagnostic::parse(note))))
    }

    fn file(n: &str) -> Change {
        Change::File(facts(n))
    }

    fn layer(changes: Vec<(&str, Change)>) -> LayerFacts {
        LayerFacts {
            changes: changes
                .into_iter()
                .map(|(p, c)| (p.to_string(), c))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn whiteouts_and_opaque_dirs_hide_lower_layers_only() {
        let mut m = Merged::default();
        m.apply(
            Some(0),
            &layer(vec![
                ("a/x", file("1")),
                ("a/y", file("1")),
                ("b/z", file("1")),
            ]),
        );
        m.apply(
            Some(1),
            &layer(vec![
                ("a", Change::Opaque),
                ("a/new", file("2")),
                ("b/.keep", file("2")),
                ("b", Change::Whiteout),
            ]),
        );
        let keys: Vec<&String> = m.fs.keys().collect();
        // the layer's own b/.keep survives its whiteout of b (whiteouts hide lower layers only)
        assert_eq!(keys, vec!["a/new", "b/.keep"]);
        assert_eq!(m.history["a/x"].len(), 2);
        assert!(m.history["a/x"][1].1.is_none());
    }

    #[test]
    fn a_shadow_replaces_a_lower_file_or_symlink_but_not_what_lies_below() {
        let mut m = Merged::default();
        m.apply(
            Some(0),
            &layer(vec![
                ("usr/bin/tool", file("elf")),
                ("lib", Change::Symlink("usr/lib".into())),
                ("opt/a", file("1")),
            ]),
        );
        m.apply(
            Some(1),
            &layer(vec![
                ("usr/bin/tool", Change::Shadow),
                ("lib", Change::Dir),
                ("opt", Change::Dir),
            ]),
        );
        assert_eq!(m.fs.keys().collect::<Vec<_>>(), ["opt/a"]);
        assert_eq!(m.history("usr/bin/tool").len(), 2);
        assert!(m.history("usr/bin/tool")[1].1.is_none());
        assert_eq!(m.resolve("lib/x").unwrap(), "lib/x");
    }

    #[test]
    fn what_is_no_directory_hides_all_below_its_path() {
        let mut m = Merged::default();
        m.apply(
            Some(0),
            &layer(vec![
                ("a/x", file("1")),
                ("a/y/z", file("1")),
                ("a-sibling", file("1")),
                ("b/x", file("1")),
                ("c/x", file("1")),
                ("d", file("1")),
            ]),
        );
        m.apply(
            Some(1),
            &layer(vec![
                // a file, a symlink and something nobody reads, each over a directory
                ("a", file("2")),
                ("b", Change::Symlink("elsewhere".into())),
                ("c", Change::Shadow),
                // a file replaced by a directory, then by a file below it, in one layer
                ("d", Change::Dir),
                ("d/new", file("2")),
            ]),
        );
        assert_eq!(
            m.fs.keys().collect::<Vec<_>>(),
            ["a", "a-sibling", "b", "d/new"]
        );
        assert!(m.history("a/y/z")[1].1.is_none());
        assert_eq!(m.history("a/y/z")[1].0, Some(1));
        // in one layer: a file, then a directory at its path
        let mut m = Merged::default();
        m.apply(
            Some(0),
            &layer(vec![
                ("var/lib/dpkg/status", file("88 packages")),
                ("var/lib/dpkg/status", Change::Dir),
            ]),
        );
        assert!(m.file("var/lib/dpkg/status").unwrap().is_none());
    }

    #[test]
    fn symlinks_resolve_inside_root_with_loop_detection() {
        let mut m = Merged::default();
        m.apply(
            Some(0),
            &layer(vec![
                ("usr/lib/os-release", file("1")),
                (
                    "etc/os-release",
                    Change::Symlink("../usr/lib/os-release".into()),
                ),
                (
                    "var/lib/rpm",
                    Change::Symlink("/usr/../../../usr/lib/sysimage/rpm".into()),
                ),
                ("loop/a", Change::Symlink("b".into())),
                ("loop/b", Change::Symlink("a".into())),
            ]),
        );
        assert_eq!(m.resolve("etc/os-release").unwrap(), "usr/lib/os-release");
        assert_eq!(
            m.resolve("var/lib/rpm/rpmdb.sqlite").unwrap(),
            "usr/lib/sysimage/rpm/rpmdb.sqlite"
        );
        assert!(
            m.resolve("loop/a")
                .unwrap_err()
                .to_string()
                .contains("loop")
        );
        assert!(m.file("etc/os-release").unwrap().is_some());
    }

    #[test]
    fn introduced_layer_follows_version_changes() {
        let h: Vec<HistoryEntry> = vec![
            (Some(0), Some(facts("a=1 b=1"))),
            (Some(1), Some(facts("a=1 b=2 c=1"))),
            (Some(2), Some(facts("a=1 b=2 c=1"))),
        ];
        let got = introduced_layers(&h, |f| match f {
            Fact::Diagnostic(d) => d
                .message
                .split(' ')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            _ => vec![],
        });
        assert_eq!(got.get("a"), Some(0));
        assert_eq!(got.get("b"), Some(1));
        assert_eq!(got.get("c"), Some(1));
        // written once since it last appeared: no map
        let h: Vec<HistoryEntry> = vec![
            (Some(0), Some(facts("a=1"))),
            (Some(1), None),
            (Some(2), Some(facts("a=1"))),
        ];
        let got = introduced_layers(&h, |_| Vec::<(String, String)>::new());
        assert!(matches!(got, Introduced::All(Some(2))));
        assert_eq!(got.get("a"), Some(2));
    }
}

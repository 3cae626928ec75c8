//! The ordered merge: applies each layer's changes on top of the layers below it.
//!
//! Whiteouts and opaque directories of a layer apply to the lower layers only, so each
//! layer's deletions are applied before its own files. The result is the final view of
//! the wanted paths and symlinks, plus the history of every wanted path (which layer
//! wrote or deleted it), from which the inventory tells which layer introduced a package.

use crate::analyzers::Fact;
use crate::walk::{Change, LayerFacts};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// One state of a path in its history: the layer and the facts, or `None` once deleted.
pub type HistoryEntry = (Option<usize>, Option<Arc<Fact>>);

/// A file found in the final view: (layer that wrote it, its facts, its real path).
pub type FoundFile<'a> = (Option<usize>, &'a Arc<Fact>, String);

#[derive(Debug, Default)]
pub struct Merged {
    /// Final view: wanted files and symlinks that survive all layers.
    pub fs: BTreeMap<String, (Option<usize>, Change)>,
    /// Every state each wanted file path went through, oldest first.
    pub history: HashMap<String, Vec<HistoryEntry>>,
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
                    self.history
                        .entry(path.clone())
                        .or_default()
                        .push((layer, Some(f.clone())));
                    self.fs.insert(path.clone(), (layer, change.clone()));
                }
                Change::Symlink(_) => {
                    if let Some((_, Change::File(_))) = self.fs.get(path) {
                        self.history
                            .entry(path.clone())
                            .or_default()
                            .push((layer, None));
                    }
                    self.fs.insert(path.clone(), (layer, change.clone()));
                }
                _ => {}
            }
        }
    }

    /// Removes `path` (when `itself`) and everything below it.
    fn delete(&mut self, layer: Option<usize>, path: &str, itself: bool) {
        let prefix = if path.is_empty() {
            String::new()
        } else {
            format!("{path}/")
        };
        let mut gone: Vec<String> = self
            .fs
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.clone())
            .collect();
        if itself && self.fs.contains_key(path) {
            gone.push(path.to_string());
        }
        for k in gone {
            if let Some((_, Change::File(_))) = self.fs.remove(&k) {
                self.history.entry(k).or_default().push((layer, None));
            }
        }
    }

    /// Resolves symlinks in `path` against the final view, never leaving the root.
    /// Errors on a loop (more than [`MAX_SYMLINK_HOPS`] links).
    pub fn resolve(&self, path: &str) -> Result<String, String> {
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
                    return Err(format!("symlink loop resolving /{path} (at /{joined})"));
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

    /// The facts of the file at `path` after resolving symlinks, with the layer that wrote it
    /// and the resolved path.
    pub fn file(&self, path: &str) -> Result<Option<FoundFile<'_>>, String> {
        let real = self.resolve(path)?;
        Ok(match self.fs.get(&real) {
            Some((layer, Change::File(f))) => Some((*layer, f, real)),
            _ => None,
        })
    }

    /// Final wanted files whose path starts with `prefix`, in path order.
    pub fn files_under<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a String, Option<usize>, &'a Arc<Fact>)> + 'a {
        self.fs
            .range(prefix.to_string()..)
            .take_while(move |(k, _)| k.starts_with(prefix))
            .filter_map(|(k, (l, c))| match c {
                Change::File(f) => Some((k, *l, f)),
                _ => None,
            })
    }
}

/// For the history of one database path, finds the layer that introduced each package
/// still present at the end: the first layer of the unbroken run of states in which the
/// package had its final version. `extract` lists (key, version) pairs of a fact.
pub fn introduced_layers<K, F>(history: &[HistoryEntry], extract: F) -> HashMap<K, Option<usize>>
where
    K: std::hash::Hash + Eq + Clone,
    F: Fn(&Fact) -> Vec<(K, String)>,
{
    let mut state: HashMap<K, (String, Option<usize>)> = HashMap::new();
    for (layer, fact) in history {
        let Some(fact) = fact else {
            state.clear();
            continue;
        };
        let now: HashMap<K, String> = extract(fact).into_iter().collect();
        state.retain(|k, (v, _)| now.get(k) == Some(v));
        for (k, v) in now {
            state.entry(k).or_insert((v, *layer));
        }
    }
    state.into_iter().map(|(k, (_, l))| (k, l)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(n: &str) -> Change {
        Change::File(Arc::new(Fact::Unreadable(n.into())))
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
        assert!(m.resolve("loop/a").unwrap_err().contains("loop"));
        assert!(m.file("etc/os-release").unwrap().is_some());
    }

    #[test]
    fn introduced_layer_follows_version_changes() {
        let h: Vec<HistoryEntry> = vec![
            (Some(0), Some(Arc::new(Fact::Unreadable("a=1 b=1".into())))),
            (
                Some(1),
                Some(Arc::new(Fact::Unreadable("a=1 b=2 c=1".into()))),
            ),
            (
                Some(2),
                Some(Arc::new(Fact::Unreadable("a=1 b=2 c=1".into()))),
            ),
        ];
        let got = introduced_layers(&h, |f| match f {
            Fact::Unreadable(s) => s
                .split(' ')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            _ => vec![],
        });
        assert_eq!(got["a"], Some(0));
        assert_eq!(got["b"], Some(1));
        assert_eq!(got["c"], Some(1));
    }
}

//! [`Group`]: the packages of one package manager with the names each provides and depends
//! on, and [`assemble`], which gives all packages unique ids and draws the dependency edges
//! within each group.

use moat_model::files::Added;
use moat_model::{Package, Relationship, RelationshipKind, Str};
use std::collections::{BTreeMap, HashSet};

/// Packages of one package manager, with the names each provides and depends on. The
/// names are shared strings (an OS database's own: a database of a million packages is
/// not copied for its edges), kept flat (one vector per group, not one per package), and
/// the group borrows nothing: the facts it was built from can go before the ids and edges
/// are made.
#[derive(Default)]
pub(crate) struct Group {
    pub packages: Vec<Package>,
    /// Per package: its own name first, then what it provides.
    pub provides: Names,
    pub depends: Names,
    /// The file lists kept for packages (`--package-files`): (package index, its paths in
    /// the scan's [`moat_model::PackageFiles`]); empty when they are not kept.
    pub files: Vec<(usize, Added)>,
}

/// Names per package, flat: package `i`'s are `names[ends[i - 1]..ends[i]]`.
#[derive(Default, Debug, PartialEq)]
pub(crate) struct Names {
    names: Vec<Str>,
    ends: Vec<usize>,
}

impl Names {
    /// Adds the names of the next package.
    pub fn push(&mut self, names: impl IntoIterator<Item = Str>) {
        self.names.extend(names);
        self.ends.push(self.names.len());
    }

    /// Room for `packages` more packages with `names` names in all (the vectors of a
    /// million packages grown by doubling would hold up to twice that).
    pub fn reserve(&mut self, packages: usize, names: usize) {
        self.ends.reserve_exact(packages);
        self.names.reserve_exact(names);
    }

    /// The names of all packages.
    pub fn total(&self) -> usize {
        self.names.len()
    }

    /// The name at place `k` of the flat list (empty past the end).
    fn at(&self, k: usize) -> &str {
        self.names.get(k).map_or("", |n| n.as_str())
    }

    /// The package whose names hold place `k` of the flat list.
    fn owner(&self, k: usize) -> usize {
        self.ends.partition_point(|&end| end <= k)
    }

    /// The names of package `i` (none past the end).
    pub fn get(&self, i: usize) -> &[Str] {
        let start = match i.checked_sub(1) {
            Some(p) => self.ends.get(p).copied().unwrap_or(self.names.len()),
            None => 0,
        };
        let end = self.ends.get(i).copied().unwrap_or(start);
        self.names.get(start..end).unwrap_or_default()
    }

    /// Per package, in order.
    pub fn iter(&self) -> impl Iterator<Item = &[Str]> {
        (0..self.ends.len()).map(|i| self.get(i))
    }

    /// Keeps the packages `keep` says (missing entries are kept).
    pub fn retain(&mut self, keep: &[bool]) {
        let mut out = Names::default();
        for (i, names) in self.iter().enumerate() {
            if keep.get(i).copied().unwrap_or(true) {
                out.push(names.iter().cloned());
            }
        }
        *self = out;
    }
}

/// Whether two packages of the groups have the same id. Compares the ids' hashes (8 bytes a
/// package, sorted), and on a repeated hash the ids themselves; a set of every id, as
/// [`unique_ids`] keeps, was 34 MB for a million packages, which almost never share one.
fn ids_repeat(groups: &[Group]) -> bool {
    use std::hash::BuildHasher;
    let ids = || groups.iter().flat_map(|g| g.packages.iter().map(|p| &p.id));
    let hasher = std::hash::RandomState::new();
    let mut hashes: Vec<u64> = ids().map(|id| hasher.hash_one(id.as_str())).collect();
    hashes.sort_unstable();
    if !hashes.windows(2).any(|w| w[0] == w[1]) {
        return false;
    }
    drop(hashes);
    let mut seen = HashSet::new();
    !ids().all(|id| seen.insert(id.as_str()))
}

/// Gives the packages unique ids, in order: a repeated id gets `#2`, `#3`, ...
fn unique_ids(groups: &mut [Group]) {
    // ids are shared strings: the set holds the packages' own
    let mut used_ids: HashSet<Str> = HashSet::new();
    for p in groups.iter_mut().flat_map(|g| g.packages.iter_mut()) {
        if used_ids.contains(&p.id) {
            let mut n = 2;
            let mut id = format!("{}#{n}", p.id);
            while used_ids.contains(id.as_str()) {
                n += 1;
                id = format!("{}#{n}", p.id);
            }
            p.id = id.into();
        }
        used_ids.insert(p.id.clone());
    }
}

/// What [`assemble`] makes: the packages, their edges and their kept file lists (index
/// into the packages, paths).
pub(crate) type Assembled = (Vec<Package>, Vec<Relationship>, Vec<(usize, Added)>);

/// All groups' packages, in order, with unique ids (`#2`, `#3` for repeats), the
/// `depends_on` edges each group's names resolve to, and the groups' kept file lists.
/// `notes` are (package index, note) pairs recorded as the package's `language_packages`
/// metadata.
pub(crate) fn assemble(mut groups: Vec<Group>, notes: Vec<(usize, String)>) -> Assembled {
    if ids_repeat(&groups) {
        unique_ids(&mut groups);
    }
    let mut packages: Vec<Package> = Vec::new();
    let mut relationships = Vec::new();
    let mut files = Vec::new();
    for mut g in groups {
        // Moved, not copied: the first group's vector becomes the result.
        let base = packages.len();
        files.extend(g.files.iter().map(|&(i, added)| (base + i, added)));
        if packages.is_empty() {
            packages = std::mem::take(&mut g.packages);
        } else {
            packages.append(&mut g.packages);
        }
        let id = |i: usize| &packages[base + i].id;
        // name (and provided names) -> the first package giving it, within one package
        // manager: the places of the names in the group's flat list, sorted by name (8 bytes
        // a name; a hash map of the two million names of a million packages was about
        // 100 MB, a sorted vector of (name, package) pairs 48 MB)
        let names = &g.provides;
        let mut by_name: Vec<usize> = (0..names.total()).collect();
        by_name.sort_unstable_by(|&a, &b| (names.at(a), a).cmp(&(names.at(b), b)));
        by_name.dedup_by(|later, first| names.at(*later) == names.at(*first));
        let provider = |name: &str| {
            by_name
                .binary_search_by(|&k| names.at(k).cmp(name))
                .ok()
                .map(|k| names.owner(by_name[k]))
        };
        let mut edges: Vec<(usize, usize)> = Vec::new();
        for (i, deps) in g.depends.iter().enumerate() {
            for d in deps {
                if let Some(to) = provider(d.as_str())
                    && id(to) != id(i)
                {
                    edges.push((i, to));
                }
            }
        }
        drop(by_name);
        edges.sort_unstable_by(|a, b| (id(a.0), id(a.1)).cmp(&(id(b.0), id(b.1))));
        edges.dedup_by(|a, b| (id(a.0), id(a.1)) == (id(b.0), id(b.1)));
        relationships.extend(edges.into_iter().map(|(from, to)| Relationship {
            from: id(from).clone(),
            to: id(to).clone(),
            kind: RelationshipKind::DependsOn,
        }));
    }
    let mut by_owner: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (i, note) in notes {
        by_owner.entry(i).or_default().push(note);
    }
    for (i, notes) in by_owner {
        if let Some(p) = packages.get_mut(i) {
            p.metadata
                .insert("language_packages".into(), notes.join(" ").into());
        }
    }
    (packages, relationships, files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(id: &str) -> Package {
        serde_json::from_str(&format!(
            r#"{{"id":"{id}","name":"n","version":"1","type":"apk","purl":"pkg:apk/n@1"}}"#
        ))
        .unwrap()
    }

    fn names(lists: &[&[&str]]) -> Names {
        let mut n = Names::default();
        for l in lists {
            n.push(l.iter().map(|&s| Str::from(s)));
        }
        n
    }

    #[test]
    fn repeated_ids_numbered_and_edges_to_the_first_provider() {
        let groups = vec![
            Group {
                packages: vec![pkg("a"), pkg("b"), pkg("a"), pkg("a#2")],
                provides: names(&[&["a", "so:x"], &[], &["a2", "so:x"], &["c"]]),
                depends: names(&[&["c"], &["so:x", "nothing"], &[], &[]]),
                files: Vec::new(),
            },
            Group {
                packages: vec![pkg("b")],
                provides: names(&[&["b"]]),
                depends: names(&[&["a"]]),
                files: vec![(0, Added::default())],
            },
        ];
        let (packages, relationships, files) = assemble(groups, vec![(1, "pypi:x@1".into())]);
        // the second group's first package is the fifth
        assert_eq!(files, [(4, Added::default())]);
        let ids: Vec<&str> = packages.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "a#2", "a#2#2", "b#2"]);
        let edges: Vec<(&str, &str)> = relationships
            .iter()
            .map(|r| (r.from.as_str(), r.to.as_str()))
            .collect();
        // so:x is provided by packages 0 and 2: the first one; names of another group and
        // names nobody provides draw no edge
        assert_eq!(edges, [("a", "a#2#2"), ("b", "a")]);
        assert_eq!(
            packages[1]
                .metadata
                .get("language_packages")
                .map(|v| v.as_str()),
            Some("pypi:x@1")
        );
        let unique = vec![Group {
            packages: vec![pkg("x"), pkg("y")],
            ..Group::default()
        }];
        assert!(!ids_repeat(&unique));
        let (packages, _, _) = assemble(unique, vec![]);
        assert_eq!(packages[1].id, "y");
    }
}

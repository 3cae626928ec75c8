//! [`Group`]: the packages of one package manager with the names each provides and depends
//! on, and [`assemble`], which gives all packages unique ids and draws the dependency edges
//! within each group.

use moat_model::{Package, Relationship, RelationshipKind};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Packages of one package manager, with the names each provides and depends on. The
/// names borrow from the facts where they are there as written (OS databases), so a
/// database of a million packages is not copied for its edges.
#[derive(Default)]
pub(crate) struct Group<'a> {
    pub packages: Vec<Package>,
    /// Per package: its own name first, then what it provides.
    pub provides: Vec<Vec<Cow<'a, str>>>,
    pub depends: Vec<Vec<Cow<'a, str>>>,
}

/// All groups' packages, in order, with unique ids (`#2`, `#3` for repeats), and the
/// `depends_on` edges each group's names resolve to. `notes` are (package index, note)
/// pairs recorded as the package's `language_packages` metadata.
pub(crate) fn assemble(
    groups: Vec<Group<'_>>,
    notes: Vec<(usize, String)>,
) -> (Vec<Package>, Vec<Relationship>) {
    let mut packages: Vec<Package> = Vec::new();
    let mut relationships = Vec::new();
    let mut used_ids: HashSet<String> = HashSet::new();
    for mut g in groups {
        for p in &mut g.packages {
            if used_ids.contains(&p.id) {
                let mut n = 2;
                let mut id = format!("{}#{n}", p.id);
                while used_ids.contains(&id) {
                    n += 1;
                    id = format!("{}#{n}", p.id);
                }
                p.id = id;
            }
            used_ids.insert(p.id.clone());
        }
        // Moved, not copied: the first group's vector becomes the result.
        let base = packages.len();
        if packages.is_empty() {
            packages = std::mem::take(&mut g.packages);
        } else {
            packages.append(&mut g.packages);
        }
        let id = |i: usize| packages[base + i].id.as_str();
        // name (and provided names) -> package index, within one package manager
        let mut by_name: HashMap<&str, usize> = HashMap::new();
        for (i, names) in g.provides.iter().enumerate() {
            for n in names {
                by_name.entry(&**n).or_insert(i);
            }
        }
        let mut edges: Vec<(usize, usize)> = Vec::new();
        for (i, deps) in g.depends.iter().enumerate() {
            for d in deps {
                if let Some(&to) = by_name.get(&**d)
                    && id(to) != id(i)
                {
                    edges.push((i, to));
                }
            }
        }
        edges.sort_unstable_by(|a, b| (id(a.0), id(a.1)).cmp(&(id(b.0), id(b.1))));
        edges.dedup_by(|a, b| (id(a.0), id(a.1)) == (id(b.0), id(b.1)));
        relationships.extend(edges.into_iter().map(|(from, to)| Relationship {
            from: id(from).to_string(),
            to: id(to).to_string(),
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
                .insert("language_packages".into(), notes.join(" "));
        }
    }
    (packages, relationships)
}

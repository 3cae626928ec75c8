//! [`Group`]: the packages of one package manager with the names each provides and depends
//! on, and [`assemble`], which gives all packages unique ids and draws the dependency edges
//! within each group.

use moat_model::{Package, Relationship, RelationshipKind};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Packages of one package manager, with the names each provides and depends on.
#[derive(Default)]
pub(crate) struct Group {
    pub packages: Vec<Package>,
    /// Per package: its own name first, then what it provides.
    pub provides: Vec<Vec<String>>,
    pub depends: Vec<Vec<String>>,
}

/// All groups' packages, in order, with unique ids (`#2`, `#3` for repeats), and the
/// `depends_on` edges each group's names resolve to. `notes` are (package index, note)
/// pairs recorded as the package's `language_packages` metadata.
pub(crate) fn assemble(
    groups: Vec<Group>,
    notes: Vec<(usize, String)>,
) -> (Vec<Package>, Vec<Relationship>) {
    let mut packages = Vec::new();
    let mut relationships = Vec::new();
    let mut used_ids: HashSet<String> = HashSet::new();
    for g in groups {
        let mut ids = Vec::with_capacity(g.packages.len());
        for mut p in g.packages {
            let mut id = p.id.clone();
            let mut n = 2;
            while !used_ids.insert(id.clone()) {
                id = format!("{}#{n}", p.id);
                n += 1;
            }
            p.id = id.clone();
            ids.push(id);
            packages.push(p);
        }
        // name (and provided names) -> package id, within one package manager
        let mut by_name: HashMap<&str, &str> = HashMap::new();
        for (i, names) in g.provides.iter().enumerate() {
            for n in names {
                by_name.entry(n.as_str()).or_insert(ids[i].as_str());
            }
        }
        let mut edges = BTreeMap::new();
        for (i, deps) in g.depends.iter().enumerate() {
            for d in deps {
                if let Some(&to) = by_name.get(d.as_str())
                    && to != ids[i]
                {
                    edges.insert((ids[i].clone(), to.to_string()), ());
                }
            }
        }
        relationships.extend(edges.into_keys().map(|(from, to)| Relationship {
            from,
            to,
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

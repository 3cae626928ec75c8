//! [`Metadata`]: a package's ecosystem-specific extras, ordered string pairs.
//!
//! A sorted vector of pairs with the part of `BTreeMap`'s interface that moat uses
//! (`insert`, `get`, `entry(..).or_insert`, `remove`, iteration in key order, `map["key"]`),
//! serialised as the same JSON object. Why not the `BTreeMap` itself: a package has a
//! handful of extras, and a `BTreeMap` with one entry already allocates a node for eleven
//! (about 550 bytes for `String` pairs), which was the largest single cost of a package in
//! an inventory of a million. Here a package pays for the pairs it has.
//!
//! Lookups are binary searches, inserts shift the pairs after the key: both are cheap for
//! the few keys a package has. Keys and values are shared strings ([`Str`]): in a database
//! of a million packages the keys, and values such as the maintainer, are the same in most
//! packages, and a parser that interns them pays for each distinct one once (a values'
//! `String`s were the next largest cost of a package). Values are replaced, not edited in
//! place (`get_mut`, `values_mut` and `entry` give a `&mut Str`).

use crate::shared::Str;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

/// Ordered `key -> value` extras of a package (see the module docs). Keys and values are
/// [`Str`]s: the same key (and often the same value, a maintainer, a licence) repeats in
/// every package of a database, and a parser that interns them makes them shared.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Metadata(Vec<(Str, Str)>);

impl Metadata {
    pub fn new() -> Metadata {
        Metadata(Vec::new())
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// Sets `key` to `value`; returns the value it replaced.
    pub fn insert(&mut self, key: Str, value: Str) -> Option<Str> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (key, value));
                None
            }
        }
    }

    pub fn get(&self, key: &str) -> Option<&Str> {
        self.find(key).ok().map(|i| &self.0[i].1)
    }

    /// The value of `key`, to be replaced in place.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Str> {
        self.find(key).ok().map(|i| &mut self.0[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Removes `key`; returns its value.
    pub fn remove(&mut self, key: &str) -> Option<Str> {
        self.find(key).ok().map(|i| self.0.remove(i).1)
    }

    /// The value of `key`, to be set with [`Entry::or_insert`] when absent.
    pub fn entry(&mut self, key: Str) -> Entry<'_> {
        Entry { map: self, key }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The pairs in key order.
    pub fn iter(&self) -> Iter<'_> {
        self.0.iter().map(pair_ref)
    }

    pub fn keys(&self) -> impl Iterator<Item = &Str> {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &Str> {
        self.0.iter().map(|(_, v)| v)
    }

    /// The values, to be replaced in place.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Str> {
        self.0.iter_mut().map(|(_, v)| v)
    }

    /// Drops spare capacity (for metadata kept for the whole scan).
    pub fn shrink_to_fit(&mut self) {
        self.0.shrink_to_fit();
    }
}

/// A key of [`Metadata::entry`].
pub struct Entry<'a> {
    map: &'a mut Metadata,
    key: Str,
}

impl<'a> Entry<'a> {
    /// The value, set to `value` first when the key is absent.
    pub fn or_insert(self, value: Str) -> &'a mut Str {
        let i = match self.map.find(&self.key) {
            Ok(i) => i,
            Err(i) => {
                self.map.0.insert(i, (self.key, value));
                i
            }
        };
        &mut self.map.0[i].1
    }

    /// The value, set to the empty string first when the key is absent.
    pub fn or_default(self) -> &'a mut Str {
        self.or_insert(Str::default())
    }
}

fn pair_ref((k, v): &(Str, Str)) -> (&Str, &Str) {
    (k, v)
}

/// The iterator of [`Metadata::iter`].
pub type Iter<'a> =
    std::iter::Map<std::slice::Iter<'a, (Str, Str)>, fn(&(Str, Str)) -> (&Str, &Str)>;

impl<'a> IntoIterator for &'a Metadata {
    type Item = (&'a Str, &'a Str);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl IntoIterator for Metadata {
    type Item = (Str, Str);
    type IntoIter = std::vec::IntoIter<(Str, Str)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<K: Into<Str>, V: Into<Str>> FromIterator<(K, V)> for Metadata {
    /// A repeated key keeps its last value, as in a `BTreeMap`.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Metadata {
        let mut m = Metadata::new();
        m.extend(iter);
        m.0.shrink_to_fit();
        m
    }
}

impl<K: Into<Str>, V: Into<Str>> Extend<(K, V)> for Metadata {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k.into(), v.into());
        }
    }
}

impl From<BTreeMap<String, String>> for Metadata {
    fn from(map: BTreeMap<String, String>) -> Metadata {
        // Already sorted and unique.
        Metadata(
            map.into_iter()
                .map(|(k, v)| (Str::from(k), Str::from(v)))
                .collect(),
        )
    }
}

impl<K: Into<Str>, V: Into<Str>, const N: usize> From<[(K, V); N]> for Metadata {
    fn from(pairs: [(K, V); N]) -> Metadata {
        pairs.into_iter().collect()
    }
}

impl std::ops::Index<&str> for Metadata {
    type Output = Str;
    /// The value of `key`; panics when it is absent, as a `BTreeMap` does.
    fn index(&self, key: &str) -> &Str {
        match self.get(key) {
            Some(v) => v,
            None => panic!("no metadata key {key:?}"),
        }
    }
}

impl std::fmt::Debug for Metadata {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Metadata {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Metadata {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Metadata, D::Error> {
        BTreeMap::<String, String>::deserialize(d).map(Metadata::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_as_the_sorted_map_it_replaces() {
        let mut m = Metadata::new();
        assert!(m.is_empty());
        assert_eq!(m.insert("b".into(), "2".into()), None);
        assert_eq!(m.insert("a".into(), "1".into()), None);
        assert_eq!(m.insert("c".into(), "3".into()), None);
        assert_eq!(m.insert("b".into(), "two".into()), Some("2".into()));
        assert_eq!(m.keys().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(m["b"], "two");
        assert_eq!(m.get("z"), None);
        assert!(m.contains_key("c"));
        assert_eq!(*m.entry("a".into()).or_insert("x".into()), "1");
        *m.entry("d".into()).or_insert("4".into()) = "4!".into();
        assert_eq!(m.remove("c"), Some("3".into()));
        assert_eq!(m.len(), 3);
        for v in m.values_mut() {
            *v = format!("{v}.").into();
        }
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"{"a":"1.","b":"two.","d":"4!."}"#);
        let back: Metadata = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        assert_eq!(format!("{m:?}"), r#"{"a": "1.", "b": "two.", "d": "4!."}"#);
        let map: BTreeMap<String, String> = [("y".to_string(), "1".to_string())].into();
        let from: Metadata = map.clone().into();
        assert_eq!(
            from.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            map
        );
        let collected: Metadata = [("k", "1"), ("j", "2"), ("k", "3")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(
            collected.into_iter().collect::<Vec<_>>(),
            [
                (Str::from("j"), Str::from("2")),
                (Str::from("k"), Str::from("3"))
            ]
        );
    }
}

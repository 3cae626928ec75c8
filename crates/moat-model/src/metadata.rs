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
//! the few keys a package has.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

/// Ordered `key -> value` extras of a package (see the module docs).
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Metadata(Vec<(String, String)>);

impl Metadata {
    pub fn new() -> Metadata {
        Metadata(Vec::new())
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// Sets `key` to `value`; returns the value it replaced.
    pub fn insert(&mut self, key: String, value: String) -> Option<String> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (key, value));
                None
            }
        }
    }

    pub fn get(&self, key: &str) -> Option<&String> {
        self.find(key).ok().map(|i| &self.0[i].1)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut String> {
        self.find(key).ok().map(|i| &mut self.0[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Removes `key`; returns its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.find(key).ok().map(|i| self.0.remove(i).1)
    }

    /// The value of `key`, to be set with [`Entry::or_insert`] when absent.
    pub fn entry(&mut self, key: String) -> Entry<'_> {
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

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(_, v)| v)
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut String> {
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
    key: String,
}

impl<'a> Entry<'a> {
    /// The value, set to `value` first when the key is absent.
    pub fn or_insert(self, value: String) -> &'a mut String {
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
    pub fn or_default(self) -> &'a mut String {
        self.or_insert(String::new())
    }
}

fn pair_ref((k, v): &(String, String)) -> (&String, &String) {
    (k, v)
}

/// The iterator of [`Metadata::iter`].
pub type Iter<'a> = std::iter::Map<
    std::slice::Iter<'a, (String, String)>,
    fn(&(String, String)) -> (&String, &String),
>;

impl<'a> IntoIterator for &'a Metadata {
    type Item = (&'a String, &'a String);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl IntoIterator for Metadata {
    type Item = (String, String);
    type IntoIter = std::vec::IntoIter<(String, String)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl FromIterator<(String, String)> for Metadata {
    /// A repeated key keeps its last value, as in a `BTreeMap`.
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Metadata {
        let mut m = Metadata::new();
        m.extend(iter);
        m.0.shrink_to_fit();
        m
    }
}

impl Extend<(String, String)> for Metadata {
    fn extend<I: IntoIterator<Item = (String, String)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl From<BTreeMap<String, String>> for Metadata {
    fn from(map: BTreeMap<String, String>) -> Metadata {
        // Already sorted and unique.
        Metadata(map.into_iter().collect())
    }
}

impl<const N: usize> From<[(String, String); N]> for Metadata {
    fn from(pairs: [(String, String); N]) -> Metadata {
        pairs.into_iter().collect()
    }
}

impl std::ops::Index<&str> for Metadata {
    type Output = String;
    /// The value of `key`; panics when it is absent, as a `BTreeMap` does.
    fn index(&self, key: &str) -> &String {
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
        assert_eq!(m.entry("a".into()).or_insert("x".into()), "1");
        m.entry("d".into()).or_insert("4".into()).push('!');
        assert_eq!(m.remove("c"), Some("3".into()));
        assert_eq!(m.len(), 3);
        for v in m.values_mut() {
            v.push('.');
        }
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"{"a":"1.","b":"two.","d":"4!."}"#);
        let back: Metadata = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        assert_eq!(format!("{m:?}"), r#"{"a": "1.", "b": "two.", "d": "4!."}"#);
        let map: BTreeMap<String, String> = [("y".to_string(), "1".to_string())].into();
        let from: Metadata = map.clone().into();
        assert_eq!(
            from.iter().collect::<Vec<_>>(),
            map.iter().collect::<Vec<_>>()
        );
        let collected: Metadata = [("k", "1"), ("j", "2"), ("k", "3")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(
            collected.into_iter().collect::<Vec<_>>(),
            [
                ("j".to_string(), "2".to_string()),
                ("k".to_string(), "3".to_string())
            ]
        );
    }
}

//! [`List`]: an immutable, shared list (a package's licences and locations), and
//! [`Lists`], which hands out one [`List`] per distinct list.
//!
//! Why: every package of a database has the same location (the database's path and the
//! layer that wrote it) and, in most databases, one of a few licence lists. As a
//! `Vec` per package each was 24 bytes inline and an allocation of 32-48 bytes, about 100
//! bytes of each of a million packages for data the whole database shares. A [`List`] is
//! 16 bytes inline (an `Arc<[T]>`, or nothing for the empty list, which allocates nothing),
//! and a join that makes its lists through [`Lists`] pays for each distinct one once.
//!
//! It behaves like a slice (it derefs to `[T]`), compares with vectors, arrays and slices,
//! and is serialised as a JSON array. Changing it (`push`, `make_mut`) copies it first when
//! it is shared (copy on write): rare, the lists are made whole by the joins.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Borrow;
use std::collections::HashSet;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

/// A shared, immutable list (see the module docs). The empty list allocates nothing.
pub struct List<T>(Option<Arc<[T]>>);

impl<T> List<T> {
    /// The empty list.
    pub const fn new() -> List<T> {
        List(None)
    }

    /// The elements.
    pub fn as_slice(&self) -> &[T] {
        match &self.0 {
            Some(a) => a,
            None => &[],
        }
    }

    /// Whether `self` and `other` share one allocation (for tests of sharing).
    pub fn ptr_eq(&self, other: &List<T>) -> bool {
        match (&self.0, &other.0) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        }
    }
}

impl<T: Clone> List<T> {
    /// The elements, to be changed in place (a shared list is copied first).
    pub fn make_mut(&mut self) -> &mut [T] {
        let Some(a) = &mut self.0 else {
            return &mut [];
        };
        if Arc::get_mut(a).is_none() {
            *a = Arc::from(a.to_vec());
        }
        match Arc::get_mut(a) {
            Some(v) => v,
            // unreachable: the list was made unique just above
            None => &mut [],
        }
    }

    /// Appends `item` (the list is copied: lists are made whole, this is for the rare
    /// addition).
    pub fn push(&mut self, item: T) {
        let mut v = self.as_slice().to_vec();
        v.push(item);
        *self = List::from(v);
    }

    /// A `Vec` copy of the elements.
    pub fn to_vec(&self) -> Vec<T> {
        self.as_slice().to_vec()
    }
}

impl<T> Default for List<T> {
    fn default() -> List<T> {
        List(None)
    }
}

impl<T> Clone for List<T> {
    fn clone(&self) -> List<T> {
        List(self.0.clone())
    }
}

impl<T> Deref for List<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T> AsRef<[T]> for List<T> {
    fn as_ref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T> Borrow<[T]> for List<T> {
    fn borrow(&self) -> &[T] {
        self.as_slice()
    }
}

impl<'a, T> IntoIterator for &'a List<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

impl<T> From<Vec<T>> for List<T> {
    fn from(v: Vec<T>) -> List<T> {
        match v.is_empty() {
            true => List(None),
            false => List(Some(Arc::from(v))),
        }
    }
}

impl<T: Clone> From<&[T]> for List<T> {
    fn from(v: &[T]) -> List<T> {
        match v.is_empty() {
            true => List(None),
            false => List(Some(Arc::from(v))),
        }
    }
}

impl<T, const N: usize> From<[T; N]> for List<T> {
    fn from(v: [T; N]) -> List<T> {
        List::from(Vec::from(v))
    }
}

impl<T> FromIterator<T> for List<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> List<T> {
        List::from(iter.into_iter().collect::<Vec<T>>())
    }
}

impl<T: PartialEq> PartialEq for List<T> {
    fn eq(&self, other: &List<T>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<T: Eq> Eq for List<T> {}

impl<T: PartialOrd> PartialOrd for List<T> {
    fn partial_cmp(&self, other: &List<T>) -> Option<std::cmp::Ordering> {
        self.as_slice().partial_cmp(other.as_slice())
    }
}

impl<T: Ord> Ord for List<T> {
    fn cmp(&self, other: &List<T>) -> std::cmp::Ordering {
        self.as_slice().cmp(other.as_slice())
    }
}

impl<T: PartialEq<U>, U> PartialEq<Vec<U>> for List<T> {
    fn eq(&self, other: &Vec<U>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<T: PartialEq<U>, U> PartialEq<[U]> for List<T> {
    fn eq(&self, other: &[U]) -> bool {
        self.as_slice() == other
    }
}

impl<T: PartialEq<U>, U, const N: usize> PartialEq<[U; N]> for List<T> {
    fn eq(&self, other: &[U; N]) -> bool {
        self.as_slice() == other.as_slice()
    }
}

/// Hashes as its slice (so a set of lists is looked up with a slice).
impl<T: Hash> Hash for List<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state)
    }
}

impl<T: fmt::Debug> fmt::Debug for List<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_slice(), f)
    }
}

impl<T: Serialize> Serialize for List<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.as_slice().serialize(s)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<List<T>, D::Error> {
        Vec::<T>::deserialize(d).map(List::from)
    }
}

/// Hands out one [`List`] per distinct list: the packages of a database that have the same
/// licences or location share one allocation. Bounded by the distinct lists it was given;
/// drop it when the database is read.
#[derive(Debug)]
pub struct Lists<T> {
    seen: HashSet<List<T>>,
}

impl<T> Default for Lists<T> {
    fn default() -> Lists<T> {
        Lists {
            seen: HashSet::new(),
        }
    }
}

impl<T: Hash + Eq + Clone> Lists<T> {
    pub fn new() -> Lists<T> {
        Lists::default()
    }

    /// The shared list equal to `items`, made on first sight.
    pub fn get(&mut self, items: &[T]) -> List<T> {
        if items.is_empty() {
            return List::new();
        }
        if let Some(v) = self.seen.get(items) {
            return v.clone();
        }
        let v = List::from(items);
        self.seen.insert(v.clone());
        v
    }

    /// The number of distinct lists.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Str;

    #[test]
    fn empty_list_allocates_nothing_and_is_16_bytes() {
        assert_eq!(std::mem::size_of::<List<Str>>(), 16);
        let e: List<Str> = Vec::new().into();
        assert!(e.0.is_none());
        assert!(e.is_empty());
        assert_eq!(serde_json::to_string(&e).unwrap(), "[]");
    }

    #[test]
    fn lists_share_equal_lists_and_compare_as_slices() {
        let mut lists = Lists::new();
        let a = lists.get(&[Str::from("MIT"), Str::from("BSD-3-Clause")]);
        let b = lists.get(&[Str::from("MIT"), Str::from("BSD-3-Clause")]);
        let c = lists.get(&[Str::from("MIT")]);
        assert!(a.ptr_eq(&b));
        assert!(!a.ptr_eq(&c));
        assert_eq!(lists.len(), 2);
        assert_eq!(a, ["MIT", "BSD-3-Clause"]);
        assert_eq!(c, vec!["MIT".to_string()]);
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            r#"["MIT","BSD-3-Clause"]"#
        );
        let back: List<Str> = serde_json::from_str(r#"["MIT","BSD-3-Clause"]"#).unwrap();
        assert_eq!(back, a);
    }

    #[test]
    fn changes_copy_a_shared_list_first() {
        let a: List<Str> = vec![Str::from("MIT")].into();
        let mut b = a.clone();
        b.push(Str::from("GPL-2.0-only"));
        b.make_mut()[0] = Str::from("ISC");
        assert_eq!(a, ["MIT"]);
        assert_eq!(b, ["ISC", "GPL-2.0-only"]);
        let mut e: List<Str> = List::new();
        assert!(e.make_mut().is_empty());
    }
}

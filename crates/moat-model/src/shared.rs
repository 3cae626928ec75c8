//! [`Str`]: an immutable, shared string, and [`Interner`], which hands out one [`Str`] per
//! distinct value.
//!
//! Why: an inventory of a million packages repeats the same few values in every package
//! (the purl type, the ecosystem, the architecture, the database path, the maintainer, the
//! licence), and a `String` per field per package is an allocation of 32 bytes or more
//! each. A [`Str`] is a reference-counted `str` (16 bytes inline, no capacity field):
//! cloning it shares the bytes, and a parser that interns repeated values makes the whole
//! inventory pay for each distinct value once. The package databases' facts and the
//! packages built from them share the same strings, so holding both during the join does
//! not double the strings.
//!
//! It behaves like a `str` where that matters: it derefs to `str`, compares, orders and
//! hashes as its text (so a `HashMap<Str, _>` is looked up with a `&str`), and is
//! serialised as a plain JSON string.
//!
//! Rejected alternatives: a global interner (memory that lives as long as the process,
//! and a lock on every parse), and `&'static str` leaks.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::{Borrow, Cow};
use std::collections::HashSet;
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, LazyLock};

/// A shared, immutable string (see the module docs).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Str(Arc<str>);

static EMPTY: LazyLock<Str> = LazyLock::new(|| Str(Arc::from("")));

impl Str {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A `String` copy of the text.
    pub fn to_owned_string(&self) -> String {
        self.0.to_string()
    }

    /// Whether `self` and `other` share one allocation (for tests of interning).
    pub fn ptr_eq(&self, other: &Str) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Default for Str {
    fn default() -> Str {
        EMPTY.clone()
    }
}

impl Deref for Str {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Str {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl From<&str> for Str {
    fn from(s: &str) -> Str {
        if s.is_empty() {
            return Str::default();
        }
        Str(Arc::from(s))
    }
}

impl From<&String> for Str {
    fn from(s: &String) -> Str {
        Str::from(s.as_str())
    }
}

impl From<String> for Str {
    fn from(s: String) -> Str {
        Str::from(s.as_str())
    }
}

impl From<Box<str>> for Str {
    fn from(s: Box<str>) -> Str {
        Str::from(&*s)
    }
}

impl From<Cow<'_, str>> for Str {
    fn from(s: Cow<'_, str>) -> Str {
        Str::from(&*s)
    }
}

impl From<&Str> for Str {
    fn from(s: &Str) -> Str {
        s.clone()
    }
}

impl From<Str> for String {
    fn from(s: Str) -> String {
        s.0.to_string()
    }
}

impl From<&Str> for String {
    fn from(s: &Str) -> String {
        s.0.to_string()
    }
}

impl PartialEq<str> for Str {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Str {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Str {
    fn eq(&self, other: &String) -> bool {
        &*self.0 == other.as_str()
    }
}

impl PartialEq<Str> for str {
    fn eq(&self, other: &Str) -> bool {
        self == &*other.0
    }
}

impl PartialEq<Str> for &str {
    fn eq(&self, other: &Str) -> bool {
        *self == &*other.0
    }
}

impl PartialEq<Str> for String {
    fn eq(&self, other: &Str) -> bool {
        self.as_str() == &*other.0
    }
}

impl Serialize for Str {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Str {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Str, D::Error> {
        Cow::<'de, str>::deserialize(d).map(Str::from)
    }
}

/// Hands out one [`Str`] per distinct value: the repeated values of one scan (or one
/// parse) share their bytes. Its memory is bounded by the distinct values it was given,
/// which the caller already holds; drop it when the input is read.
#[derive(Debug, Default)]
pub struct Interner {
    seen: HashSet<Str>,
}

impl Interner {
    pub fn new() -> Interner {
        Interner::default()
    }

    /// The shared string equal to `s`, made on first sight.
    pub fn get(&mut self, s: &str) -> Str {
        if let Some(v) = self.seen.get(s) {
            return v.clone();
        }
        let v = Str::from(s);
        self.seen.insert(v.clone());
        v
    }

    /// The shared string equal to `s` if it was handed out before (nothing is made).
    pub fn find(&self, s: &str) -> Option<Str> {
        self.seen.get(s).cloned()
    }

    /// [`Interner::get`] for an optional value.
    pub fn opt(&mut self, s: Option<&str>) -> Option<Str> {
        s.map(|s| self.get(s))
    }

    /// The number of distinct values.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

/// The elements of `v` in order, each moved out as it is reached, the vector's own memory
/// given back as it empties (every [`Consumed::SHRINK_EVERY`] elements): a list of a
/// million records turned one by one into something else does not keep its whole buffer
/// until the end (as `into_iter` does).
pub fn consume<T>(mut v: Vec<T>) -> Consumed<T> {
    v.reverse();
    Consumed(v)
}

/// The iterator of [`consume`].
pub struct Consumed<T>(Vec<T>);

impl<T> Consumed<T> {
    pub const SHRINK_EVERY: usize = 1 << 16;
}

impl<T> Iterator for Consumed<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        let item = self.0.pop()?;
        if self.0.len().is_multiple_of(Self::SHRINK_EVERY) {
            self.0.shrink_to_fit();
        }
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.0.len(), Some(self.0.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_as_its_text() {
        let a = Str::from("deb");
        assert_eq!(a, "deb");
        assert_eq!("deb", a);
        assert_eq!(a, String::from("deb"));
        assert_eq!(a.as_str(), "deb");
        assert_eq!(a.len(), 3);
        assert_eq!(format!("{a} {a:?}"), "deb \"deb\"");
        let (x, y) = (Str::from("a"), Str::from("b"));
        assert!(x < y, "ordered like str");
        assert_eq!(Str::default(), "");
        let mut m = std::collections::HashMap::new();
        m.insert(a.clone(), 1);
        assert_eq!(m.get("deb"), Some(&1));
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"deb\"");
        let back: Str = serde_json::from_str("\"a\\\"b\"").unwrap();
        assert_eq!(back, "a\"b");
        assert_eq!(String::from(back), "a\"b");
    }

    #[test]
    fn consumed_in_order_giving_memory_back() {
        let n = Consumed::<u32>::SHRINK_EVERY + 3;
        let mut it = consume((0..n as u32).collect());
        assert_eq!(it.next(), Some(0));
        assert_eq!(it.size_hint(), (n - 1, Some(n - 1)));
        let rest: Vec<u32> = it.by_ref().take(2).collect();
        assert_eq!(rest, [1, 2]);
        assert_eq!(it.0.capacity(), Consumed::<u32>::SHRINK_EVERY, "shrunk");
        assert_eq!(it.last(), Some(n as u32 - 1));
    }

    #[test]
    fn interned_values_share_their_bytes() {
        let mut i = Interner::new();
        let a = i.get("amd64");
        let b = i.get("amd64");
        assert!(a.ptr_eq(&b));
        assert!(!a.ptr_eq(&Str::from("amd64")));
        assert_eq!(i.opt(None), None);
        assert!(i.find("amd64").is_some_and(|c| c.ptr_eq(&a)));
        assert_eq!(i.find("arm64"), None);
        assert_eq!(i.len(), 1);
        assert_eq!(std::mem::size_of::<Str>(), 16);
        assert_eq!(std::mem::size_of::<Option<Str>>(), 16);
    }
}

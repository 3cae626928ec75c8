//! [`PackageFiles`]: the installed files of an inventory's packages, kept only when a scan
//! is asked for them (`--package-files`).
//!
//! Why a table beside the packages and not a field of [`crate::Package`]: most scans need
//! only each package's file count, and a field would cost every package of every scan (16
//! bytes inline for an empty shared list, a million packages' worth) for a list that is
//! almost always empty. The table costs an empty map when unused.
//!
//! Why one buffer: a Debian image's packages own tens of thousands of paths, most of them
//! short; a `String` per path is an allocation of 24 bytes plus the text. Here every path is
//! appended to one `String` and ended by an offset (4 bytes a path), and each package id maps
//! to the range of its paths.
//!
//! Bounded: [`MAX_PER_PACKAGE`] paths a package, [`MAX_PATHS`] paths and [`MAX_BYTES`]
//! bytes in all, paths no longer than [`crate::limits::MAX_PATH`]; what is left out is
//! counted ([`Added`]) so the caller can say so.
//!
//! Written into moat's JSON document as each package's `files` array (see
//! [`crate::Inventory`]'s serialisation) and into CycloneDX as `evidence.occurrences`.

use crate::Str;
use serde::{Serialize, Serializer};
use std::collections::HashMap;

/// The most paths kept for one package.
pub const MAX_PER_PACKAGE: usize = 200_000;
/// The most paths kept for all packages together.
pub const MAX_PATHS: usize = 4_000_000;
/// The most bytes of paths kept for all packages together.
pub const MAX_BYTES: usize = 256 << 20;

/// The files of packages, by package id (see the module docs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PackageFiles {
    /// Every kept path, one after the other.
    text: String,
    /// The end of each path in `text`.
    ends: Vec<u32>,
    /// Package id -> the indexes of its paths in `ends`.
    owners: HashMap<Str, FileRange>,
    /// Whether a path was left out for the total caps.
    full: bool,
}

/// The paths of one package in a [`PackageFiles`] (indexes of its paths).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileRange {
    start: u32,
    end: u32,
}

impl FileRange {
    /// The number of paths.
    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// What [`PackageFiles::add`] kept and left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Added {
    pub range: FileRange,
    /// Paths left out because the package has more than [`MAX_PER_PACKAGE`] or a path is
    /// longer than [`crate::limits::MAX_PATH`].
    pub over_package: usize,
    /// Paths left out because the table is full ([`MAX_PATHS`], [`MAX_BYTES`]).
    pub over_total: usize,
    /// Whether this call is the first to find the table full (say so once).
    pub first_full: bool,
}

impl PackageFiles {
    pub fn new() -> PackageFiles {
        PackageFiles::default()
    }

    /// Whether no package has files here.
    pub fn is_empty(&self) -> bool {
        self.owners.is_empty()
    }

    /// The number of packages with files.
    pub fn len(&self) -> usize {
        self.owners.len()
    }

    /// The number of paths kept, all packages together.
    pub fn paths(&self) -> usize {
        self.ends.len()
    }

    /// Appends the paths of one package (see [`PackageFiles::assign`] to give them an id),
    /// within the caps.
    pub fn add<'s>(&mut self, paths: impl IntoIterator<Item = &'s str>) -> Added {
        self.add_within(paths, [MAX_PER_PACKAGE, MAX_PATHS, MAX_BYTES])
    }

    /// [`PackageFiles::add`] with these caps (per package, paths, bytes).
    fn add_within<'s>(
        &mut self,
        paths: impl IntoIterator<Item = &'s str>,
        [per_package, max_paths, max_bytes]: [usize; 3],
    ) -> Added {
        let start = self.ends.len();
        let mut added = Added::default();
        for p in paths {
            if self.ends.len() - start >= per_package || p.len() > crate::limits::MAX_PATH {
                added.over_package += 1;
                continue;
            }
            if self.full || self.ends.len() >= max_paths || self.text.len() + p.len() > max_bytes {
                added.first_full |= !self.full;
                self.full = true;
                added.over_total += 1;
                continue;
            }
            self.text.push_str(p);
            // within MAX_BYTES, far below u32::MAX
            self.ends.push(self.text.len() as u32);
        }
        added.range = FileRange {
            start: start as u32,
            end: self.ends.len() as u32,
        };
        added
    }

    /// Gives the paths of `range` (from [`PackageFiles::add`]) to the package `id`; an empty
    /// range gives it none.
    pub fn assign(&mut self, id: Str, range: FileRange) {
        if range.is_empty() {
            self.owners.remove(&id);
        } else {
            self.owners.insert(id, range);
        }
    }

    /// [`PackageFiles::add`] and [`PackageFiles::assign`] at once.
    pub fn insert<'s>(&mut self, id: Str, paths: impl IntoIterator<Item = &'s str>) -> Added {
        let added = self.add(paths);
        self.assign(id, added.range);
        added
    }

    /// The paths of the package `id`, in the order they were added.
    pub fn get(&self, id: &str) -> Option<Paths<'_>> {
        self.owners.get(id).map(|&r| Paths {
            files: self,
            next: r.start,
            end: r.end,
        })
    }

    /// Keeps the packages `keep` says (by id); their paths stay in the buffer.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.owners.retain(|id, _| keep(id));
    }

    fn path(&self, i: u32) -> &str {
        let i = i as usize;
        let start = match i.checked_sub(1) {
            Some(p) => self.ends.get(p).map_or(0, |&e| e as usize),
            None => 0,
        };
        let end = self.ends.get(i).map_or(start, |&e| e as usize);
        self.text.get(start..end).unwrap_or_default()
    }
}

/// The paths of one package (an iterator of `&str`, serialised as a JSON array).
#[derive(Clone)]
pub struct Paths<'a> {
    files: &'a PackageFiles,
    next: u32,
    end: u32,
}

impl<'a> Iterator for Paths<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        if self.next >= self.end {
            return None;
        }
        let p = self.files.path(self.next);
        self.next += 1;
        Some(p)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.end.saturating_sub(self.next) as usize;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Paths<'_> {}

impl std::fmt::Debug for Paths<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl Serialize for Paths<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_by_package_in_one_buffer() {
        let mut f = PackageFiles::new();
        assert!(f.is_empty());
        let a = f.add(["/bin/bash", "/usr/share/doc/bash/copyright"]);
        let b = f.insert("deb:ls".into(), ["/usr/bin/ls"]);
        assert_eq!((a.range.len(), b.range.len()), (2, 1));
        assert_eq!(f.len(), 1, "a range is nobody's until assigned");
        f.assign("deb:bash".into(), a.range);
        let none = f.add([]).range;
        f.assign("deb:none".into(), none);
        let bash: Vec<&str> = f.get("deb:bash").unwrap().collect();
        assert_eq!(bash, ["/bin/bash", "/usr/share/doc/bash/copyright"]);
        assert_eq!(f.get("deb:ls").unwrap().len(), 1);
        assert!(f.get("deb:none").is_none());
        assert_eq!(
            serde_json::to_string(&f.get("deb:bash").unwrap()).unwrap(),
            r#"["/bin/bash","/usr/share/doc/bash/copyright"]"#
        );
        assert_eq!((f.len(), f.paths()), (2, 3));
        f.retain(|id| id != "deb:ls");
        assert!(f.get("deb:ls").is_none());
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn caps_leave_paths_out_and_say_so() {
        let mut f = PackageFiles::new();
        let long = "/".repeat(crate::limits::MAX_PATH + 1);
        let caps = [3, 5, 30];
        let a = f.add_within(["/a", "/b", long.as_str(), "/c", "/d", "/e"], caps);
        assert_eq!(a.range.len(), 3);
        assert_eq!((a.over_package, a.over_total, a.first_full), (3, 0, false));
        // five paths in all
        let b = f.add_within(["/f", "/g", "/h"], caps);
        assert_eq!((b.range.len(), b.over_total, b.first_full), (2, 1, true));
        let c = f.add_within(["/i"], caps);
        assert_eq!((c.range.len(), c.over_total, c.first_full), (0, 1, false));
        // 30 bytes in all
        let mut g = PackageFiles::new();
        let d = g.add_within(["/0123456789", "/0123456789", "/0123456789"], caps);
        assert_eq!((d.range.len(), d.over_total, d.first_full), (2, 1, true));
        g.assign("x".into(), d.range);
        assert_eq!(
            g.get("x").unwrap().collect::<String>(),
            "/0123456789/0123456789"
        );
    }
}

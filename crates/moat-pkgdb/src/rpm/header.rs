//! The rpm header blob ("immutable region" export format), parsed by hand.
//!
//! Layout (all integers big-endian):
//!
//! ```text
//! il: u32          number of index entries
//! dl: u32          size of the data store
//! il x { tag: u32, type: u32, offset: u32, count: u32 }
//! dl bytes of data store; entry values live at data[offset..]
//! ```

use super::RpmPackage;
use crate::Error;

const FORMAT: &str = "rpm header";

/// rpm's own limits (`HEADER_TAGS_MAX`, `HEADER_DATA_MAX`).
const MAX_INDEX_ENTRIES: usize = 0xffff;
const MAX_DATA: usize = 0x0fff_ffff;

/// Total bytes of file paths one header may expand to, relative to the blob size. Paths
/// share their directory names, so the file list is legitimately larger than the blob, but a
/// hostile blob (one long dirname, many one-byte basenames) must not grow quadratically.
const FILES_EXPANSION: usize = 32;
const FILES_SLACK: usize = 1 << 20;

mod tag {
    pub const NAME: u32 = 1000;
    pub const VERSION: u32 = 1001;
    pub const RELEASE: u32 = 1002;
    pub const EPOCH: u32 = 1003;
    pub const SIZE: u32 = 1009;
    pub const VENDOR: u32 = 1011;
    pub const LICENSE: u32 = 1014;
    pub const ARCH: u32 = 1022;
    pub const OLDFILENAMES: u32 = 1027;
    pub const SOURCERPM: u32 = 1044;
    pub const PROVIDENAME: u32 = 1047;
    pub const REQUIRENAME: u32 = 1049;
    pub const DIRINDEXES: u32 = 1116;
    pub const BASENAMES: u32 = 1117;
    pub const DIRNAMES: u32 = 1118;
    pub const LONGSIZE: u32 = 5009;
    pub const MODULARITYLABEL: u32 = 5096;
}

mod ty {
    pub const INT32: u32 = 4;
    pub const INT64: u32 = 5;
    pub const STRING: u32 = 6;
    pub const STRING_ARRAY: u32 = 8;
    pub const I18NSTRING: u32 = 9;
}

fn corrupt(reason: impl Into<String>) -> Error {
    Error::Corrupt {
        format: FORMAT,
        reason: reason.into(),
    }
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

#[derive(Clone, Copy)]
struct Entry {
    tag: u32,
    ty: u32,
    offset: usize,
    count: usize,
}

struct Header<'a> {
    entries: Vec<Entry>,
    data: &'a [u8],
}

impl<'a> Header<'a> {
    fn parse(blob: &'a [u8]) -> Result<Self, Error> {
        let il = be32(blob, 0)
            .ok_or_else(|| corrupt(format!("{} bytes: too short for a header", blob.len())))?
            as usize;
        let dl = be32(blob, 4)
            .ok_or_else(|| corrupt(format!("{} bytes: too short for a header", blob.len())))?
            as usize;
        if il == 0 || il > MAX_INDEX_ENTRIES {
            return Err(corrupt(format!("index entry count {il} out of range")));
        }
        if dl > MAX_DATA {
            return Err(corrupt(format!("data size {dl} out of range")));
        }
        let data_start = 8 + il * 16; // il <= 0xffff: no overflow
        let data_end = data_start + dl;
        if data_end > blob.len() {
            return Err(corrupt(format!(
                "header claims {il} entries and {dl} data bytes ({data_end} total) but only {} bytes are present",
                blob.len()
            )));
        }
        let data = &blob[data_start..data_end];
        let mut entries = Vec::with_capacity(il);
        for i in 0..il {
            let at = 8 + i * 16;
            // In bounds: at + 16 <= data_start <= blob.len().
            let (tag, ty, offset, count) = (
                be32(blob, at),
                be32(blob, at + 4),
                be32(blob, at + 8),
                be32(blob, at + 12),
            );
            let (Some(tag), Some(ty), Some(offset), Some(count)) = (tag, ty, offset, count) else {
                return Err(corrupt("index entry out of bounds"));
            };
            entries.push(Entry {
                tag,
                ty,
                offset: offset as usize,
                count: count as usize,
            });
        }
        Ok(Header { entries, data })
    }

    /// The last entry for `tag` (entries appended after the immutable region override it).
    fn find(&self, tag: u32) -> Option<Entry> {
        self.entries.iter().rev().find(|e| e.tag == tag).copied()
    }

    /// `count` NUL-terminated strings starting at `offset`.
    fn strings(&self, e: Entry, what: &str) -> Result<Vec<String>, Error> {
        // Every string takes at least one byte: bounds the count before allocating.
        if e.offset > self.data.len() || e.count > self.data.len() - e.offset {
            return Err(corrupt(format!(
                "{what}: {} strings at offset {} do not fit in {} data bytes",
                e.count,
                e.offset,
                self.data.len()
            )));
        }
        let mut out = Vec::with_capacity(e.count);
        let mut pos = e.offset;
        for _ in 0..e.count {
            let rest = &self.data[pos..];
            let Some(nul) = rest.iter().position(|&b| b == 0) else {
                return Err(corrupt(format!(
                    "{what}: unterminated string at offset {pos}"
                )));
            };
            out.push(String::from_utf8_lossy(&rest[..nul]).into_owned());
            pos += nul + 1;
        }
        Ok(out)
    }

    fn string(&self, tag: u32, what: &str) -> Result<Option<String>, Error> {
        let Some(e) = self.find(tag) else {
            return Ok(None);
        };
        let ok = match e.ty {
            ty::STRING => e.count == 1,
            // The first string of the I18N/array forms is the default; the count must
            // still be plausible (each string takes at least one byte).
            ty::I18NSTRING | ty::STRING_ARRAY => e.count >= 1 && e.count <= self.data.len(),
            _ => false,
        };
        if !ok {
            return Err(corrupt(format!(
                "{what}: unexpected type {} count {}",
                e.ty, e.count
            )));
        }
        Ok(self.strings(Entry { count: 1, ..e }, what)?.pop())
    }

    fn string_array(&self, tag: u32, what: &str) -> Result<Vec<String>, Error> {
        let Some(e) = self.find(tag) else {
            return Ok(Vec::new());
        };
        match e.ty {
            ty::STRING_ARRAY | ty::I18NSTRING => self.strings(e, what),
            ty::STRING if e.count == 1 => self.strings(e, what),
            _ => Err(corrupt(format!("{what}: unexpected type {}", e.ty))),
        }
    }

    fn ints(&self, tag: u32, what: &str) -> Result<Vec<u64>, Error> {
        let Some(e) = self.find(tag) else {
            return Ok(Vec::new());
        };
        let width = match e.ty {
            ty::INT32 => 4,
            ty::INT64 => 8,
            _ => return Err(corrupt(format!("{what}: unexpected type {}", e.ty))),
        };
        let fits = e
            .count
            .checked_mul(width)
            .and_then(|n| n.checked_add(e.offset))
            .is_some_and(|end| end <= self.data.len());
        if !fits {
            return Err(corrupt(format!(
                "{what}: {} integers at offset {} do not fit in {} data bytes",
                e.count,
                e.offset,
                self.data.len()
            )));
        }
        let bytes = &self.data[e.offset..e.offset + e.count * width];
        Ok(bytes
            .chunks_exact(width)
            .map(|c| {
                let mut v = 0u64;
                for &b in c {
                    v = (v << 8) | u64::from(b);
                }
                v
            })
            .collect())
    }

    fn int(&self, tag: u32, what: &str) -> Result<Option<u64>, Error> {
        Ok(self.ints(tag, what)?.first().copied())
    }
}

pub(super) fn parse(blob: &[u8]) -> Result<RpmPackage, Error> {
    let h = Header::parse(blob)?;
    let required = |tag, what: &str| -> Result<String, Error> {
        h.string(tag, what)?
            .ok_or_else(|| corrupt(format!("no {what} tag")))
    };
    let name = required(tag::NAME, "NAME")?;
    let version = required(tag::VERSION, "VERSION")?;
    let release = required(tag::RELEASE, "RELEASE")?;
    let epoch = match h.int(tag::EPOCH, "EPOCH")? {
        None => None,
        Some(e) => Some(u32::try_from(e).map_err(|_| corrupt(format!("EPOCH {e} out of range")))?),
    };
    let size = match h.int(tag::LONGSIZE, "LONGSIZE")? {
        Some(s) => Some(s),
        None => h.int(tag::SIZE, "SIZE")?,
    };
    let files = files(&h, blob.len())?;
    Ok(RpmPackage {
        name,
        epoch,
        version,
        release,
        arch: h.string(tag::ARCH, "ARCH")?,
        source_rpm: h.string(tag::SOURCERPM, "SOURCERPM")?,
        license: h.string(tag::LICENSE, "LICENSE")?,
        vendor: h.string(tag::VENDOR, "VENDOR")?,
        size,
        files,
        requires: h.string_array(tag::REQUIRENAME, "REQUIRENAME")?,
        provides: h.string_array(tag::PROVIDENAME, "PROVIDENAME")?,
        modularity_label: h.string(tag::MODULARITYLABEL, "MODULARITYLABEL")?,
    })
}

fn files(h: &Header<'_>, blob_len: usize) -> Result<Vec<String>, Error> {
    let basenames = h.string_array(tag::BASENAMES, "BASENAMES")?;
    if basenames.is_empty() {
        return h.string_array(tag::OLDFILENAMES, "OLDFILENAMES");
    }
    let dirnames = h.string_array(tag::DIRNAMES, "DIRNAMES")?;
    let dirindexes = h.ints(tag::DIRINDEXES, "DIRINDEXES")?;
    if dirindexes.len() != basenames.len() {
        return Err(corrupt(format!(
            "{} BASENAMES but {} DIRINDEXES",
            basenames.len(),
            dirindexes.len()
        )));
    }
    let budget = blob_len
        .saturating_mul(FILES_EXPANSION)
        .saturating_add(FILES_SLACK);
    let mut used = 0usize;
    let mut out = Vec::with_capacity(basenames.len());
    for (base, &di) in basenames.iter().zip(&dirindexes) {
        let dir = usize::try_from(di)
            .ok()
            .and_then(|i| dirnames.get(i))
            .ok_or_else(|| {
                corrupt(format!(
                    "DIRINDEXES value {di} but only {} DIRNAMES",
                    dirnames.len()
                ))
            })?;
        used = used.saturating_add(dir.len() + base.len());
        if used > budget {
            return Err(corrupt(format!("file list expands beyond {budget} bytes")));
        }
        let mut path = String::with_capacity(dir.len() + base.len());
        path.push_str(dir);
        path.push_str(base);
        out.push(path);
    }
    Ok(out)
}

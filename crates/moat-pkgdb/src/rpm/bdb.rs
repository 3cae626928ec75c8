//! BerkeleyDB hash database `Packages` (rpm <= 4.15 default; RHEL/CentOS 7-8, old SUSE).
//!
//! Only what rpm writes is supported: a single hash database (no sub-databases), no
//! encryption, no page checksums. Page 0 is the hash metadata page (`magic` 0x061561 at
//! byte 12, its byte order gives the file's byte order; `pagesize` at 20; page `type` 8 at
//! 25). Every other page starts with the generic 26-byte page header
//! (`lsn[8] pgno prev_pgno next_pgno entries:u16 hf_offset:u16 level:u8 type:u8`).
//!
//! Hash pages (type 13, or 2 for the older unsorted kind) carry `entries` 16-bit item
//! offsets after the header; items alternate key, data. An item starts with its kind:
//! `1` = inline bytes (length from the neighbouring offsets), `3` = off-page
//! (`kind u8, pad[3], pgno u32, tlen u32`): the value is a chain of overflow pages
//! (type 7) linked by `next_pgno`, each holding `hf_offset` bytes after its header.
//! Keys are rpm's 4-byte header numbers; values are header blobs.
//!
//! Rather than walking the bucket array (which needs the `spares` table), every page of
//! the file is visited once and each hash page's pairs are read: freed pages are marked
//! invalid (type 0) by BerkeleyDB, so this sees exactly the live pairs, and a damaged
//! metadata page cannot hide the rest of the file. Overflow chains are bounded by the
//! page count and by the declared `tlen`, which is checked against the file size first.

use super::{Collector, RpmPackage};
use crate::{Error, Parsed};

/// Why a key or data item could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum ItemError {
    #[error("overflow length {0} exceeds the file size")]
    OverflowTooLong(usize),
    #[error("overflow page {0} is beyond the end of the file")]
    PageBeyondEnd(usize),
    #[error("page {pgno} in an overflow chain has type {page_type}")]
    NotOverflow { pgno: usize, page_type: u8 },
    #[error("overflow page {pgno} holds {len} bytes, more than expected")]
    PageTooFull { pgno: usize, len: usize },
    #[error("overflow chain ends after {got} of {want} bytes")]
    ChainShort { got: usize, want: usize },
    #[error("overflow chain longer than the file (loop?)")]
    ChainLoop,
    #[error("truncated off-page item")]
    TruncatedOffPage,
    #[error("unsupported item kind {0} (duplicates are not used by rpm)")]
    Kind(u8),
}

const FORMAT: &str = "rpm BerkeleyDB";
pub(super) const HASH_MAGIC: u32 = 0x0006_1561;
const PAGE_HEADER: usize = 26;

const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASHMETA: u8 = 8;
const P_BTREEMETA: u8 = 9;
const P_HASH: u8 = 13;

const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;

fn format_err(reason: impl Into<String>) -> Error {
    Error::Format {
        format: FORMAT,
        reason: reason.into(),
    }
}

/// Byte order of the file, from the metadata page magic.
pub(super) fn byte_order(bytes: &[u8]) -> Option<bool> {
    let m = bytes.get(12..16)?;
    let m = [m[0], m[1], m[2], m[3]];
    if u32::from_le_bytes(m) == HASH_MAGIC {
        Some(false)
    } else if u32::from_be_bytes(m) == HASH_MAGIC {
        Some(true)
    } else {
        None
    }
}

struct Db<'a> {
    bytes: &'a [u8],
    big_endian: bool,
    page_size: usize,
    pages: usize,
}

impl<'a> Db<'a> {
    fn u32_at(&self, b: &[u8], at: usize) -> Option<u32> {
        let s = b.get(at..at.checked_add(4)?)?;
        let a = [s[0], s[1], s[2], s[3]];
        Some(if self.big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    }

    fn u16_at(&self, b: &[u8], at: usize) -> Option<u16> {
        let s = b.get(at..at.checked_add(2)?)?;
        let a = [s[0], s[1]];
        Some(if self.big_endian {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        })
    }

    fn page(&self, pgno: usize) -> Option<&'a [u8]> {
        if pgno >= self.pages {
            return None;
        }
        self.bytes
            .get(pgno * self.page_size..(pgno + 1) * self.page_size)
    }

    /// Reads the value stored in the overflow chain starting at `pgno`.
    fn overflow(&self, mut pgno: usize, tlen: usize) -> Result<Vec<u8>, ItemError> {
        if tlen > self.bytes.len() {
            return Err(ItemError::OverflowTooLong(tlen));
        }
        let mut out = Vec::with_capacity(tlen);
        // Each page holds at least one byte of a non-empty value, and a chain can visit
        // each page at most once: both bound the walk.
        for _ in 0..self.pages {
            let Some(page) = self.page(pgno) else {
                return Err(ItemError::PageBeyondEnd(pgno));
            };
            if page[25] != P_OVERFLOW {
                return Err(ItemError::NotOverflow {
                    pgno,
                    page_type: page[25],
                });
            }
            let len = self.u16_at(page, 22).unwrap_or(0) as usize;
            if len > self.page_size - PAGE_HEADER || out.len() + len > tlen {
                return Err(ItemError::PageTooFull { pgno, len });
            }
            out.extend_from_slice(&page[PAGE_HEADER..PAGE_HEADER + len]);
            let next = self.u32_at(page, 16).unwrap_or(0) as usize;
            if out.len() == tlen {
                return Ok(out);
            }
            if next == 0 || len == 0 {
                return Err(ItemError::ChainShort {
                    got: out.len(),
                    want: tlen,
                });
            }
            pgno = next;
        }
        Err(ItemError::ChainLoop)
    }

    /// The raw item `i` of a hash page: kind byte followed by its payload.
    fn item(&self, page: &'a [u8], entries: usize, i: usize) -> Option<&'a [u8]> {
        let start = self.u16_at(page, PAGE_HEADER + 2 * i)? as usize;
        let end = if i == 0 {
            self.page_size
        } else {
            self.u16_at(page, PAGE_HEADER + 2 * (i - 1))? as usize
        };
        if start < PAGE_HEADER + 2 * entries || start >= end || end > self.page_size {
            return None;
        }
        page.get(start..end)
    }

    /// The bytes of a key or data item, following it off-page when needed.
    fn value(&self, item: &[u8]) -> Result<Vec<u8>, ItemError> {
        match item[0] {
            H_KEYDATA => Ok(item[1..].to_vec()),
            H_OFFPAGE => {
                let (Some(pgno), Some(tlen)) = (self.u32_at(item, 4), self.u32_at(item, 8)) else {
                    return Err(ItemError::TruncatedOffPage);
                };
                self.overflow(pgno as usize, tlen as usize)
            }
            k => Err(ItemError::Kind(k)),
        }
    }
}

/// Reads a BerkeleyDB hash `Packages` file held in memory.
pub fn read(bytes: &[u8]) -> Result<Parsed<RpmPackage>, Error> {
    let Some(big_endian) = byte_order(bytes) else {
        return Err(format_err("no hash magic 0x061561 at byte 12"));
    };
    let probe = Db {
        bytes,
        big_endian,
        page_size: 0,
        pages: 0,
    };
    let version = probe.u32_at(bytes, 16).unwrap_or(0);
    let page_size = probe.u32_at(bytes, 20).unwrap_or(0) as usize;
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(format_err(format!(
            "page size {page_size} is not a power of two in 512..=65536"
        )));
    }
    if !(8..=10).contains(&version) {
        return Err(format_err(format!(
            "hash version {version} (only 8-10 are known)"
        )));
    }
    let encrypt = bytes.get(24).copied().unwrap_or(0);
    let meta_type = bytes.get(25).copied().unwrap_or(0);
    let meta_flags = bytes.get(26).copied().unwrap_or(0);
    match meta_type {
        P_HASHMETA => {}
        P_BTREEMETA => return Err(format_err("a btree database (an rpm index, not Packages)")),
        t => {
            return Err(format_err(format!(
                "metadata page type {t}, expected hash (8)"
            )));
        }
    }
    if encrypt != 0 {
        return Err(format_err("encrypted database"));
    }
    if meta_flags & 0x01 != 0 {
        return Err(format_err(
            "page checksums are enabled (not written by rpm; unsupported)",
        ));
    }
    let db = Db {
        bytes,
        big_endian,
        page_size,
        pages: bytes.len() / page_size,
    };
    if db.pages == 0 {
        return Err(Error::Corrupt {
            format: FORMAT,
            reason: "shorter than one page".into(),
        });
    }
    let mut out = Collector::default();
    if !bytes.len().is_multiple_of(page_size) {
        let trailing = bytes.len() % page_size;
        out.warn(
            "file",
            format!("{trailing} trailing bytes after the last whole page"),
        );
    }
    let mut seen = std::collections::BTreeSet::new();
    for pgno in 1..db.pages {
        let Some(page) = db.page(pgno) else { break };
        if page[25] != P_HASH && page[25] != P_HASH_UNSORTED {
            continue;
        }
        let entries = db.u16_at(page, 20).unwrap_or(0) as usize;
        if PAGE_HEADER + 2 * entries > page_size {
            out.warn(
                &format!("page {pgno}"),
                format!("{entries} entries do not fit in the page"),
            );
            continue;
        }
        if !entries.is_multiple_of(2) {
            out.warn(
                &format!("page {pgno}"),
                format!("odd number of items ({entries})"),
            );
        }
        for pair in 0..entries / 2 {
            let id = format!("page {pgno} pair {pair}");
            let (Some(key), Some(data)) = (
                db.item(page, entries, 2 * pair),
                db.item(page, entries, 2 * pair + 1),
            ) else {
                out.warn(&id, "item offsets out of order or out of the page");
                continue;
            };
            let key = match db.value(key) {
                Ok(k) => k,
                Err(e) => {
                    out.warn(&id, format!("key: {e}"));
                    continue;
                }
            };
            // rpm's record 0 (4-byte key of zeros) is bookkeeping, not a header.
            let hnum = if key.len() == 4 {
                db.u32_at(&key, 0)
            } else {
                None
            };
            if hnum == Some(0) {
                continue;
            }
            let id = match hnum {
                Some(n) => format!("hnum {n}"),
                None => id,
            };
            match db.value(data) {
                Ok(blob) => {
                    if let Some(n) = hnum
                        && !seen.insert(n)
                    {
                        out.warn(&id, "duplicate header number; later copy ignored");
                        continue;
                    }
                    out.blob_sorted(hnum.unwrap_or(u32::MAX), &id, &blob);
                }
                Err(e) => out.warn(&id, e),
            }
        }
    }
    Ok(out.finish())
}

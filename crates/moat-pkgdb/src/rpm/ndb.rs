//! rpm's own "ndb" package database `Packages.db` (SUSE since SLE 15 SP?/openSUSE).
//!
//! Little-endian throughout, in 4096-byte pages and 16-byte blocks:
//!
//! ```text
//! 0   "RpmP" version:u32(=0) generation:u32 slot_npages:u32 next_pkgidx:u32  (+ 12 bytes)
//! 32  slots, 16 bytes each, filling slot_npages pages:
//!     "Slot" pkgidx:u32 blkoff:u32 blkcnt:u32      (pkgidx 0 = free slot)
//! blkoff*16: "BlbS" pkgidx:u32 generation:u32 bloblen:u32, bloblen bytes of header blob,
//!     zero padding, then at the end of ceil((16+bloblen+12)/16) blocks:
//!     adler32:u32 bloblen:u32 "BlbE"   (adler32 over everything before the trailer)
//! ```
//!
//! Every slot's block range is checked against the file and the slot area, the blob header
//! must name the slot's package index, the trailer must repeat the length and carry a
//! matching checksum; a blob failing any check (a `BlobError`) is skipped with a
//! `parse-error` diagnostic naming its package index.

use super::{Collector, RpmPackage};
use crate::{Error, Parsed};

/// Why a slot's blob was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum BlobError {
    #[error("block offset or count overflows")]
    Overflow,
    #[error("blocks {blkoff}+{blkcnt} lie outside the blob area")]
    OutOfArea { blkoff: usize, blkcnt: usize },
    #[error("no \"BlbS\" magic at block {blkoff}")]
    NoMagic { blkoff: usize },
    #[error("blob at block {blkoff} belongs to package index {owner}")]
    WrongOwner { blkoff: usize, owner: u32 },
    #[error("blob length {len} exceeds its {blkcnt} blocks")]
    TooLong { len: usize, blkcnt: usize },
    #[error("blob at block {blkoff}: bad trailer")]
    BadTrailer { blkoff: usize },
    #[error("blob at block {blkoff}: checksum {actual:08x}, trailer says {expected:08x}")]
    Checksum {
        blkoff: usize,
        actual: u32,
        expected: u32,
    },
}

const FORMAT: &str = "rpm ndb";
pub(super) const MAGIC: &[u8; 4] = b"RpmP";
const PAGE: usize = 4096;
const BLOCK: usize = 16;
const SLOT: usize = 16;
const SLOT_START: usize = 32;

fn le32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

pub(super) fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 is the largest n with 255*n*(n+1)/2 + (n+1)*(MOD-1) < 2^32.
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

/// Reads an NDB `Packages.db` held in memory.
pub fn read(bytes: &[u8]) -> Result<Parsed<RpmPackage>, Error> {
    if !bytes.starts_with(MAGIC) {
        return Err(Error::Format {
            format: FORMAT,
            reason: "no \"RpmP\" magic".into(),
        });
    }
    let corrupt = |reason: String| Error::Corrupt {
        format: FORMAT,
        reason,
    };
    let (Some(version), Some(slot_npages)) = (le32(bytes, 4), le32(bytes, 12)) else {
        return Err(corrupt(format!(
            "{} bytes: truncated file header",
            bytes.len()
        )));
    };
    if version != 0 {
        return Err(Error::Format {
            format: FORMAT,
            reason: format!("version {version}, only 0 is known"),
        });
    }
    let slot_npages = slot_npages as usize;
    let slot_end = slot_npages
        .checked_mul(PAGE)
        .filter(|&e| slot_npages > 0 && e <= bytes.len())
        .ok_or_else(|| {
            corrupt(format!(
                "{slot_npages} slot pages do not fit in {} bytes",
                bytes.len()
            ))
        })?;

    let mut out = Collector::default();
    let mut seen = std::collections::BTreeSet::new();
    for at in (SLOT_START..slot_end).step_by(SLOT) {
        let slot = &bytes[at..at + SLOT]; // slot_end is page aligned: whole slots only
        let n = (at - SLOT_START) / SLOT;
        let id = format!("slot {n}");
        if &slot[..4] != b"Slot" {
            out.warn(&id, "bad slot magic");
            continue;
        }
        let (pkgidx, blkoff, blkcnt) = (
            le32(slot, 4).unwrap_or(0),
            le32(slot, 8).unwrap_or(0) as usize,
            le32(slot, 12).unwrap_or(0) as usize,
        );
        if pkgidx == 0 {
            continue; // free slot
        }
        let id = format!("pkgidx {pkgidx}");
        if !seen.insert(pkgidx) {
            out.warn(&id, "second slot for the same package index ignored");
            continue;
        }
        match blob(bytes, slot_end, pkgidx, blkoff, blkcnt) {
            Ok(b) => out.blob_sorted(pkgidx, &id, b),
            Err(e) => out.warn(&id, e),
        }
    }
    Ok(out.finish())
}

fn blob(
    bytes: &[u8],
    slot_end: usize,
    pkgidx: u32,
    blkoff: usize,
    blkcnt: usize,
) -> Result<&[u8], BlobError> {
    let start = blkoff.checked_mul(BLOCK).ok_or(BlobError::Overflow)?;
    let end = blkcnt
        .checked_mul(BLOCK)
        .and_then(|n| n.checked_add(start))
        .ok_or(BlobError::Overflow)?;
    if start < slot_end || end > bytes.len() || end < start + 2 * BLOCK {
        return Err(BlobError::OutOfArea { blkoff, blkcnt });
    }
    let area = &bytes[start..end];
    if &area[..4] != b"BlbS" {
        return Err(BlobError::NoMagic { blkoff });
    }
    let owner = le32(area, 4).unwrap_or(0);
    if owner != pkgidx {
        return Err(BlobError::WrongOwner { blkoff, owner });
    }
    let len = le32(area, 12).unwrap_or(0) as usize;
    let used = len
        .checked_add(16 + 12 + BLOCK - 1)
        .map(|n| n / BLOCK * BLOCK)
        .filter(|&n| n <= area.len());
    let Some(used) = used else {
        return Err(BlobError::TooLong { len, blkcnt });
    };
    let trailer = &area[used - 12..used];
    let (sum, len2) = (
        le32(trailer, 0).unwrap_or(0),
        le32(trailer, 4).unwrap_or(0) as usize,
    );
    if &trailer[8..12] != b"BlbE" || len2 != len {
        return Err(BlobError::BadTrailer { blkoff });
    }
    let actual = adler32(&area[..used - 12]);
    if actual != sum {
        return Err(BlobError::Checksum {
            blkoff,
            actual,
            expected: sum,
        });
    }
    Ok(&area[16..16 + len])
}

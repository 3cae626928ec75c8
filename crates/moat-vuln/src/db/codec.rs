//! How records are stored: zstd blocks of records of one source, against a dictionary
//! trained on the records of that source.
//!
//! One OSV record is ~1.3-3 kB of JSON, and records of one feed share most of their text
//! (field names, reference URLs, boilerplate of the details). The writer therefore holds back
//! the first records of a source it has no dictionary for ([`TRAIN_RECORDS`],
//! [`TRAIN_BYTES`]), trains a [`DICT_BYTES`] dictionary on them, stores it in `dicts`, and
//! packs the source's records, in the order they are written, into blocks of up to
//! [`BLOCK_RECORDS`] records or [`BLOCK_BYTES`] bytes ([`BlockBuf`]), each one zstd frame
//! compressed against the dictionary; a source with too few records
//! ([`MIN_TRAIN_RECORDS`]) gets blocks without one. A lookup decompresses the blocks of the
//! records it returns (at most 64 KiB each, a few tens of microseconds; the last
//! [`CACHED_BLOCKS`] decoded stay cached, records of one lookup often share one).
//!
//! Measured on the Go feed of `../shared` (records of ~2 kB, level 3, 64 KiB dictionary
//! trained on 1,024 records, zstd's command line): alone, a record compresses to 723 B; alone against the
//! dictionary, to 329 B; in blocks of 16 against the dictionary to 246 B, of 32 to 236 B. On
//! the bench's mirror set (renamed copies of the shared records, so neighbours are near
//! duplicates) blocks of 32 keep 44 B a record where single records keep 194 B. Blocks also
//! turn 32 compression calls (each setting up its context and dictionary) into one.
//!
//! Rejected: one frame per record (what the first cut of this layout did: 2.7x the bytes
//! and a call per record); larger blocks (64 records: 224 B, 5% smaller, twice the bytes
//! inflated per lookup); blocks without a dictionary (256 B: a block's first records have
//! nothing to refer to). A record replaced later (an incremental update, a merge) leaves its old
//! bytes in their block until every record of the block is gone (replacing a source drops
//! whole blocks); see the README's database section.
//!
//! Crate choice: `zstd` (the C library's bindings) is already in the tree (moat-image reads
//! zstd layers), so dictionary training and compression cost no new build. The pure-Rust
//! `ruzstd` has no dictionary training, and its encoder is slower and has fewer levels;
//! deflate (flate2) has no trained dictionaries (only a 32 kB preset window) and compresses
//! these records about a third worse.

use super::DbError;
use std::collections::HashMap;
use std::path::Path;

/// The zstd level records are compressed at.
pub(super) const LEVEL: i32 = 3;
/// Records held back to train a source's dictionary.
pub(super) const TRAIN_RECORDS: usize = 1024;
/// Bytes held back to train a source's dictionary (whichever of the two limits comes first).
pub(super) const TRAIN_BYTES: usize = 4 << 20;
/// Fewest records worth a dictionary.
pub(super) const MIN_TRAIN_RECORDS: usize = 64;
/// Largest dictionary trained.
const DICT_BYTES: usize = 64 << 10;
/// Largest block decompressed (a block is at most [`BLOCK_BYTES`] and one imported record,
/// < 32 MiB).
const MAX_RECORD_BYTES: u64 = 64 << 20;

/// A dictionary trained on `samples`, or `None` when there are too few or training fails
/// (the records are then compressed without one).
pub(super) fn train(samples: &[&[u8]]) -> Option<Vec<u8>> {
    if samples.len() < MIN_TRAIN_RECORDS {
        return None;
    }
    zstd::dict::from_samples(samples, DICT_BYTES).ok()
}

/// A compressor with the dictionary `dict` (none: plain zstd).
pub(super) fn compressor(dict: Option<&[u8]>) -> std::io::Result<zstd::bulk::Compressor<'static>> {
    let mut c = match dict {
        Some(d) => zstd::bulk::Compressor::with_dictionary(LEVEL, d)?,
        None => zstd::bulk::Compressor::new(LEVEL)?,
    };
    // The row says which dictionary; the frame need not (4 bytes a record).
    c.set_parameter(zstd::zstd_safe::CParameter::DictIdFlag(false))?;
    Ok(c)
}

/// A block of records being filled: each record's bytes appended, with its length.
#[derive(Debug, Default)]
pub(super) struct BlockBuf {
    lens: Vec<usize>,
    data: Vec<u8>,
}

impl BlockBuf {
    /// Appends a record; returns its slot.
    pub(super) fn push(&mut self, record: &[u8]) -> usize {
        self.lens.push(record.len());
        self.data.extend_from_slice(record);
        self.lens.len() - 1
    }

    /// Whether the block is full ([`BLOCK_RECORDS`] records or [`BLOCK_BYTES`] bytes).
    pub(super) fn is_full(&self) -> bool {
        self.lens.len() >= BLOCK_RECORDS || self.data.len() >= BLOCK_BYTES
    }

    /// The block as stored before compression: the record count and each record's length
    /// (varints), then the records.
    pub(super) fn encode(&self) -> Vec<u8> {
        let lens: Vec<i64> = self.lens.iter().map(|&n| n as i64).collect();
        let mut out = encode_ids(&[lens.len() as i64]);
        out.extend_from_slice(&encode_ids(&lens));
        out.extend_from_slice(&self.data);
        out
    }
}

/// Records packed into one zstd frame (compressing a block of similar records together
/// keeps a third less than compressing each alone against the same dictionary, and costs one
/// call instead of one per record).
pub(super) const BLOCK_RECORDS: usize = 32;
/// Bytes of records after which a block is closed (whichever limit comes first).
pub(super) const BLOCK_BYTES: usize = 64 << 10;

/// The record in `slot` of the decoded block `block` (see [`BlockBuf::encode`]); `None` when
/// the block is not shaped so.
pub(super) fn slot(block: &[u8], slot: usize) -> Option<&[u8]> {
    let mut pos = 0usize;
    let mut next = || -> Option<usize> {
        let mut v: u64 = 0;
        let mut shift = 0u32;
        loop {
            let b = *block.get(pos)?;
            pos += 1;
            if shift > 56 {
                return None;
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return usize::try_from(v).ok();
            }
            shift += 7;
        }
    };
    let count = next()?;
    if slot >= count || count > block.len() {
        return None;
    }
    let mut start = 0usize;
    let mut len = 0usize;
    for i in 0..count {
        let n = next()?;
        if i < slot {
            start = start.checked_add(n)?;
        } else if i == slot {
            len = n;
        }
    }
    let from = pos.checked_add(start)?;
    block.get(from..from.checked_add(len)?)
}

/// Most decoded blocks a database keeps (a lookup's records often share blocks).
const CACHED_BLOCKS: usize = 8;

/// Decompressors by dictionary id (0: none), made once per opened database, and the blocks
/// decoded last.
#[derive(Default)]
pub(super) struct Decompressors {
    by_dict: HashMap<i64, zstd::bulk::Decompressor<'static>>,
    /// Decoded blocks by id, the newest last.
    blocks: std::collections::VecDeque<(i64, Vec<u8>)>,
}

impl Decompressors {
    /// The decoded block `id`, cached.
    pub(super) fn cached(&self, id: i64) -> Option<&[u8]> {
        self.blocks
            .iter()
            .find(|(b, _)| *b == id)
            .map(|(_, data)| data.as_slice())
    }

    /// Decompresses block `id` (`data` compressed with dictionary `dict`, its bytes read by
    /// `load` the first time it is needed) and caches it.
    pub(super) fn decode(
        &mut self,
        path: &Path,
        id: i64,
        dict: Option<i64>,
        data: &[u8],
        load: impl FnOnce(i64) -> Result<Vec<u8>, DbError>,
    ) -> Result<&[u8], DbError> {
        let corrupt = |reason: String| DbError::Corrupt {
            path: path.to_path_buf(),
            reason,
        };
        let key = dict.unwrap_or(0);
        let d = match self.by_dict.entry(key) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => v.insert(
                match dict {
                    Some(id) => zstd::bulk::Decompressor::with_dictionary(&load(id)?),
                    None => zstd::bulk::Decompressor::new(),
                }
                .map_err(|e| corrupt(format!("dictionary {key}: {e}")))?,
            ),
        };
        let size = match zstd::zstd_safe::get_frame_content_size(data) {
            Ok(Some(n)) if n <= MAX_RECORD_BYTES => n as usize,
            _ => return Err(corrupt(format!("block {id} has no valid size"))),
        };
        let decoded = d
            .decompress(data, size)
            .map_err(|e| corrupt(format!("block {id} does not decompress: {e}")))?;
        if self.blocks.len() >= CACHED_BLOCKS {
            self.blocks.pop_front();
        }
        self.blocks.push_back((id, decoded));
        match self.blocks.back() {
            Some((_, b)) => Ok(b.as_slice()),
            None => Err(corrupt(format!("block {id} lost"))),
        }
    }
}

/// Package ids as LEB128 varints (the `advisories.packages` column: which `affected` rows a
/// record has, so that replacing it deletes them without an index on `affected.advisory`).
pub(super) fn encode_ids(ids: &[i64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ids.len() * 3);
    for &id in ids {
        let mut v = id.max(0) as u64;
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                break;
            }
            out.push(byte | 0x80);
        }
    }
    out
}

/// The ids of [`encode_ids`]; `None` when the bytes are not a list of varints.
pub(super) fn decode_ids(bytes: &[u8]) -> Option<Vec<i64>> {
    let mut ids = Vec::new();
    let mut v: u64 = 0;
    let mut shift = 0u32;
    for &b in bytes {
        if shift > 56 {
            return None;
        }
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            ids.push(i64::try_from(v).ok()?);
            v = 0;
            shift = 0;
        } else {
            shift += 7;
        }
    }
    (shift == 0).then_some(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        let ids = [1, 127, 128, 300, 16_384, 1 << 40, i64::MAX >> 1];
        assert_eq!(decode_ids(&encode_ids(&ids)).unwrap(), ids);
        assert_eq!(encode_ids(&[1, 128]), vec![1, 0x80, 1]);
        assert_eq!(decode_ids(&[]).unwrap(), Vec::<i64>::new());
        // Cut off inside a varint, or longer than a u64.
        assert_eq!(decode_ids(&[0x80]), None);
        assert_eq!(decode_ids(&[0xff; 10]), None);
    }

    #[test]
    fn blocks_hold_records_by_slot() {
        let mut b = BlockBuf::default();
        let long = vec![b'x'; 300];
        assert_eq!(b.push(b"{\"a\":1}"), 0);
        assert_eq!(b.push(b""), 1);
        assert_eq!(b.push(&long), 2);
        let enc = b.encode();
        assert_eq!(&enc[..5], &[3, 7, 0, 0xac, 2]);
        assert_eq!(slot(&enc, 0).unwrap(), b"{\"a\":1}");
        assert_eq!(slot(&enc, 1).unwrap(), b"");
        assert_eq!(slot(&enc, 2).unwrap(), long.as_slice());
        assert_eq!(slot(&enc, 3), None);
        // Cut off: the last record is missing bytes.
        assert_eq!(slot(&enc[..enc.len() - 1], 2), None);
        assert_eq!(slot(&[], 0), None);
        assert_eq!(slot(&[0xff; 12], 0), None);
        assert!(!b.is_full());
    }
}

//! How records are stored: zstd, against a dictionary trained on the records of their source.
//!
//! One OSV record is ~1.3-3 kB of JSON, and records of one feed share most of their text
//! (field names, reference URLs, boilerplate of the details). Compressed alone, a record
//! keeps ~40% of its size; compressed against a dictionary trained on a few hundred records
//! of the same feed it keeps ~10-15%. The writer therefore holds back the first records of a
//! source it has no dictionary for ([`TRAIN_RECORDS`], [`TRAIN_BYTES`]), trains a
//! [`DICT_BYTES`] dictionary on them, stores it in `dicts` and compresses every record of that
//! source with it; a source with too few records ([`MIN_TRAIN_RECORDS`]) is compressed
//! without one. Reading decompresses only the records a lookup returns.
//!
//! Crate choice: `zstd` (the C library's bindings) is already in the tree (moat-image reads
//! zstd layers), so dictionary training and compression cost no new build; its level-3
//! compression of a 2 kB record against a prepared dictionary takes a few microseconds. The
//! pure-Rust `ruzstd` has no dictionary training, and its encoder is slower and has fewer
//! levels; deflate (flate2) has no trained dictionaries (only a 32 kB preset window) and
//! compresses these records about a third worse.

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
/// Largest record decompressed (a stored record is at most an imported one, < 32 MiB).
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

/// Decompressors by dictionary id (0: none), made once per opened database.
#[derive(Default)]
pub(super) struct Decompressors {
    by_dict: HashMap<i64, zstd::bulk::Decompressor<'static>>,
}

impl Decompressors {
    /// The record `data` compressed with dictionary `dict` (its bytes read by `load` the first
    /// time it is needed).
    pub(super) fn decompress(
        &mut self,
        path: &Path,
        dict: Option<i64>,
        data: &[u8],
        load: impl FnOnce(i64) -> Result<Vec<u8>, DbError>,
    ) -> Result<Vec<u8>, DbError> {
        let corrupt = |reason: String| DbError::Corrupt {
            path: path.to_path_buf(),
            reason,
        };
        let key = dict.unwrap_or(0);
        if !self.by_dict.contains_key(&key) {
            let d = match dict {
                Some(id) => zstd::bulk::Decompressor::with_dictionary(&load(id)?),
                None => zstd::bulk::Decompressor::new(),
            }
            .map_err(|e| corrupt(format!("dictionary {key}: {e}")))?;
            self.by_dict.insert(key, d);
        }
        let Some(d) = self.by_dict.get_mut(&key) else {
            return Err(corrupt(format!("dictionary {key} missing")));
        };
        let size = match zstd::zstd_safe::get_frame_content_size(data) {
            Ok(Some(n)) if n <= MAX_RECORD_BYTES => n as usize,
            _ => return Err(corrupt("stored record has no valid size".into())),
        };
        d.decompress(data, size)
            .map_err(|e| corrupt(format!("stored record does not decompress: {e}")))
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
}

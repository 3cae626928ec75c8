//! How records are stored: zstd blocks of records of one source, against a dictionary
//! trained on the records of that source.
//!
//! One OSV record is ~1.3-3 kB of JSON, and records of one feed share most of their text
//! (field names, reference URLs, boilerplate of the details). The writer therefore samples
//! the first records of a source it has no dictionary for ([`TRAIN_RECORDS`],
//! [`TRAIN_BYTES`]), trains a [`DICT_BYTES`] dictionary on them, stores it in `dicts`, and
//! packs the source's records, in the order they are written, into blocks of up to
//! [`BLOCK_RECORDS`] records or [`BLOCK_BYTES`] bytes ([`BlockBuf`]), each one zstd frame
//! compressed against the dictionary; a source with too few records
//! ([`MIN_TRAIN_RECORDS`]) gets blocks without one. A lookup decompresses the blocks of the
//! records it returns (at most 128 KiB each, well under a millisecond; the last
//! [`CACHED_BLOCKS`] decoded stay cached, records of one lookup often share one).
//!
//! Measured (schema 5, level 3) on the Go feed of `../shared` (records of ~2 kB, 64 KiB dictionary
//! trained on 1,024 records, zstd's command line): alone, a record compresses to 723 B; alone against the
//! dictionary, to 329 B; in blocks of 16 against the dictionary to 246 B, of 32 to 236 B. On
//! the bench's mirror set (renamed copies of the shared records, so neighbours are near
//! duplicates) blocks of 32 keep 44 B a record where single records keep 194 B. Blocks also
//! turn 32 compression calls (each setting up its context and dictionary) into one.
//!
//! Schema 5 packs 64 records (128 KiB) a block: on 4,096 AlmaLinux and Go records of the
//! mirror set (zstd's command line, level 3, 64 KiB dictionary) 4% fewer bytes than blocks
//! of 32 (176 against 183 B a record, 109 against 113), at the price of twice the bytes
//! inflated per lookup (a lookup's blocks stay well under a millisecond). The compressor is
//! a [`Packer`]: one long-lived context per source and the dictionary digested once
//! (`ZSTD_createCDict`); loading the raw dictionary into the context (what schema 4 did)
//! made zstd hash the 64 KiB dictionary again for every block.
//!
//! Rejected: one frame per record (what the first cut of this layout did: 2.7x the bytes
//! and a call per record); blocks without a dictionary (256 B: a block's first records have
//! nothing to refer to); level 5 (8% fewer bytes than level 3, but a third of its speed:
//! 25 against 66 MB/s with the dictionary, zstd -b on the same machine under load); a 128
//! KiB dictionary (no smaller: 183 against 176 B). Level 1 is used since schema 7: on the
//! 500k mirror set 2.7% more bytes than level 3 (440 against 429 B a record, the whole
//! file) for 0.15-0.2 s less of the 6.7 s import (level 2: 436 B, 0.1 s; level -1: 494 B,
//! no faster); schema 6's files, with one row a link, had no room under 500 B for it.
//! A record replaced later (an incremental update, a merge) leaves its old bytes in
//! their block; a writer rewrites the blocks it left under half live at its end (see
//! [`super::Writer::finish`]), and replacing a source drops whole blocks.
//!
//! Crate choice: `zstd` (the C library's bindings) is already in the tree (moat-image reads
//! zstd layers), so dictionary training and compression cost no new build. The pure-Rust
//! `ruzstd` has no dictionary training, and its encoder is slower and has fewer levels;
//! deflate (flate2) has no trained dictionaries (only a 32 kB preset window) and compresses
//! these records about a third worse.

use super::DbError;
use std::collections::HashMap;
use std::path::Path;

/// The zstd level records are compressed at (see the module documentation).
pub(super) const LEVEL: i32 = 1;
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

/// The FastCover segment size the dictionary is trained with (see [`train_continuous`]).
const TRAIN_K: u32 = 1024;

/// A dictionary trained on the samples `data` cut at `sizes`, or `None` when there are too
/// few or training fails (the records are then compressed without one).
///
/// Trained by FastCover in one pass with fixed parameters (segments of [`TRAIN_K`] bytes,
/// d = 8, f = 20), not by `ZDICT_trainFromBuffer` (what `zstd::dict::from_continuous`
/// calls), which trains five dictionaries (k from 50 to 2,000) on three quarters of the
/// samples, compresses the last quarter with each at level 3 to pick one, then trains
/// again: 4-6 times the time (92 against 16 ms on 1,024 AlmaLinux records of the mirror set,
/// 59 against 13 ms on 1,024 Go records), all of it on the compressor's thread while the
/// writer, and then the workers, wait for the source's first blocks to be taken. The
/// dictionaries are as good: on the 500k mirror set the file is 0.27% larger (221.6 against
/// 221.0 MB), on samples of its raw AlmaLinux and Go records 1.7% and 0.5% smaller.
pub(super) fn train_continuous(data: &[u8], sizes: &[usize]) -> Option<Vec<u8>> {
    use zstd::zstd_safe::zstd_sys;
    if sizes.len() < MIN_TRAIN_RECORDS || sizes.iter().sum::<usize>() != data.len() {
        return None;
    }
    let count = u32::try_from(sizes.len()).ok()?;
    let params = zstd_sys::ZDICT_fastCover_params_t {
        k: TRAIN_K,
        d: 8,
        f: 20,
        steps: 0,
        nbThreads: 0,
        splitPoint: 1.0,
        accel: 1,
        shrinkDict: 0,
        shrinkDictMaxRegression: 0,
        zParams: zstd_sys::ZDICT_params_t {
            compressionLevel: LEVEL,
            notificationLevel: 0,
            dictID: 0,
        },
    };
    // What it writes is checked again by zstd when the dictionary is digested
    // (`CDict::try_create`); a dictionary zstd refuses is reported there.
    let mut dict = vec![0u8; DICT_BYTES];
    // SAFETY: `dict` is writable for `dict.len()` bytes; `data` is readable for
    // `data.len()` bytes, which is the sum of the `count` lengths in `sizes` (checked
    // above); `params` is a plain C struct passed by value; the call keeps no pointer.
    #[allow(unsafe_code)]
    let n = unsafe {
        zstd_sys::ZDICT_trainFromBuffer_fastCover(
            dict.as_mut_ptr().cast(),
            dict.len(),
            data.as_ptr().cast(),
            sizes.as_ptr(),
            count,
            params,
        )
    };
    // SAFETY: a pure function of its argument.
    #[allow(unsafe_code)]
    let failed = unsafe { zstd_sys::ZDICT_isError(n) } != 0;
    if failed || n > dict.len() {
        return None;
    }
    dict.truncate(n);
    Some(dict)
}

/// Most zstd contexts the compressor keeps alive at once (an import writes one source after
/// the other; a context with a 64 KiB dictionary digested holds a few MiB).
pub(super) const MAX_PACKERS: usize = 2;

/// A long-lived compressor: one zstd context, and the dictionary digested once
/// (`ZSTD_createCDict`) instead of loaded into the context again for every frame (which
/// hashed the 64 KiB dictionary once per block: about a third of the compression time).
pub(super) struct Packer {
    cctx: zstd::zstd_safe::CCtx<'static>,
    cdict: Option<zstd::zstd_safe::CDict<'static>>,
}

impl Packer {
    /// A compressor with the dictionary `dict` (none: plain zstd).
    pub(super) fn new(dict: Option<&[u8]>) -> std::io::Result<Packer> {
        let fail = |what: &str| std::io::Error::other(format!("zstd: cannot create {what}"));
        let mut cctx = zstd::zstd_safe::CCtx::try_create().ok_or_else(|| fail("a context"))?;
        // The digested dictionary is referred to where it lies ("attached"), not copied
        // into the context for every block: for blocks of this size zstd would copy it, and
        // then matches into it take a slower path (same bytes out at this level; -20% time
        // on 20,000 records of the mirror set, Go's and AlmaLinux's alike).
        cctx.set_parameter(zstd::zstd_safe::CParameter::ForceAttachDict(
            zstd::zstd_safe::DictAttachPref::ForceAttach,
        ))
        .map_err(|_| fail("a context"))?;
        let cdict = match dict {
            Some(d) => Some(
                zstd::zstd_safe::CDict::try_create(d, LEVEL)
                    .ok_or_else(|| fail("the dictionary"))?,
            ),
            None => None,
        };
        Ok(Packer { cctx, cdict })
    }

    /// `src` compressed into one frame (with the dictionary's id, 4 bytes a block), into
    /// `out` (cleared first; its room reused, grown to zstd's bound for `src` when smaller).
    pub(super) fn compress_into(&mut self, src: &[u8], out: &mut Vec<u8>) -> std::io::Result<()> {
        out.clear();
        out.reserve(zstd::zstd_safe::compress_bound(src.len()));
        let done = match &self.cdict {
            Some(d) => self
                .cctx
                .ref_cdict(d)
                .and_then(|_| self.cctx.compress2(out, src)),
            None => self.cctx.compress(out, src, LEVEL),
        };
        done.map_err(|code| {
            std::io::Error::other(zstd::zstd_safe::get_error_name(code).to_string())
        })?;
        Ok(())
    }
}

/// A block of records being filled: each record's bytes appended, with its length.
#[derive(Debug, Default)]
pub(super) struct BlockBuf {
    lens: Vec<usize>,
    data: Vec<u8>,
}

impl BlockBuf {
    /// An empty block with room for a full one (no growing while it fills).
    pub(super) fn full_size() -> BlockBuf {
        BlockBuf {
            lens: Vec::with_capacity(BLOCK_RECORDS),
            data: Vec::with_capacity(BLOCK_BYTES + (4 << 10)),
        }
    }

    /// Appends a record; returns its slot.
    pub(super) fn push(&mut self, record: &[u8]) -> usize {
        self.lens.push(record.len());
        self.data.extend_from_slice(record);
        self.lens.len() - 1
    }

    /// The records in the block.
    pub(super) fn len(&self) -> usize {
        self.lens.len()
    }

    /// The record in `slot`.
    pub(super) fn get(&self, slot: usize) -> Option<&[u8]> {
        let start: usize = self.lens.get(..slot)?.iter().sum();
        self.data
            .get(start..start.checked_add(*self.lens.get(slot)?)?)
    }

    /// Whether the block is full ([`BLOCK_RECORDS`] records or [`BLOCK_BYTES`] bytes).
    pub(super) fn is_full(&self) -> bool {
        self.lens.len() >= BLOCK_RECORDS || self.data.len() >= BLOCK_BYTES
    }

    /// The block as stored before compression: the record count and each record's length
    /// (varints), then the records; into `out` (cleared first, its room reused).
    pub(super) fn encode_into(&self, out: &mut Vec<u8>) {
        out.clear();
        out.reserve(self.data.len() + 10 * (self.lens.len() + 1));
        push_varint(out, self.lens.len() as u64);
        for &n in &self.lens {
            push_varint(out, n as u64);
        }
        out.extend_from_slice(&self.data);
    }

    /// Empties the block, keeping its room (a block is reused once compressed).
    pub(super) fn clear(&mut self) {
        self.lens.clear();
        self.data.clear();
    }
}

/// Records packed into one zstd frame (compressing a block of similar records together
/// keeps a third less than compressing each alone against the same dictionary, and costs one
/// call instead of one per record).
pub(super) const BLOCK_RECORDS: usize = 64;
/// Bytes of records after which a block is closed (whichever limit comes first).
pub(super) const BLOCK_BYTES: usize = 128 << 10;

/// The record in `slot` of the decoded block `block` (see [`BlockBuf::encode`]); `None` when
/// the block is not shaped so.
pub(super) fn slot(block: &[u8], slot: usize) -> Option<&[u8]> {
    let mut pos = 0usize;
    let mut next = || read_varint(block, &mut pos).and_then(|v| usize::try_from(v).ok());
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
        push_varint(&mut out, id.max(0) as u64);
    }
    out
}

/// `v` as a LEB128 varint (seven bits a byte, the low ones first, the high bit set on every
/// byte but the last), appended to `out`: the encoding of every integer list here.
fn push_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The varint of [`push_varint`] at `pos` in `bytes`, `pos` moved past it; `None` when it is
/// cut off or has a byte past the ninth (a shift over 56).
fn read_varint(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v: u64 = 0;
    let mut shift = 0u32;
    loop {
        let b = *bytes.get(*pos)?;
        *pos += 1;
        if shift > 56 {
            return None;
        }
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
        shift += 7;
    }
}

/// The ids of [`encode_ids`]; `None` when the bytes are not a list of varints.
pub(super) fn decode_ids(bytes: &[u8]) -> Option<Vec<i64>> {
    let mut ids = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        ids.push(i64::try_from(read_varint(bytes, &mut pos)?).ok()?);
    }
    Some(ids)
}

/// Most advisories one package's list may name when read (a crafted file cannot make a
/// lookup decode more).
pub(super) const MAX_LINKS_PER_PACKAGE: usize = 1 << 22;

/// Strictly increasing record rowids as LEB128 varints of their gaps (the first one as it
/// is): the `affected.advisories` column, which records name one package.
pub(super) fn encode_sorted_ids(ids: &[u32], out: &mut Vec<u8>) {
    out.clear();
    let mut last = 0u32;
    for &id in ids {
        push_varint(out, u64::from(id.wrapping_sub(last)));
        last = id;
    }
}

/// The rowids of [`encode_sorted_ids`], appended to `out`; `false` when the bytes are not
/// such a list (a varint cut off or over 32 bits, a gap of zero after the first, a sum past
/// `u32`, more than [`MAX_LINKS_PER_PACKAGE`] ids).
pub(super) fn decode_sorted_ids(bytes: &[u8], out: &mut Vec<u32>) -> bool {
    let start = out.len();
    let mut last = 0u32;
    let mut pos = 0;
    while pos < bytes.len() {
        let at = pos;
        // At most five bytes (32 bits), and a gap that fits.
        let Some(v) = read_varint(bytes, &mut pos)
            .filter(|_| pos - at <= 5)
            .and_then(|v| u32::try_from(v).ok())
        else {
            return false;
        };
        let first = out.len() == start;
        if !first && v == 0 {
            return false;
        }
        let Some(id) = last.checked_add(v) else {
            return false;
        };
        if out.len() - start >= MAX_LINKS_PER_PACKAGE {
            return false;
        }
        out.push(id);
        last = id;
    }
    true
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
    fn sorted_ids_round_trip() {
        let ids = [0u32, 1, 2, 129, 300, 16_384, 1 << 30, u32::MAX];
        let mut enc = Vec::new();
        encode_sorted_ids(&ids, &mut enc);
        let mut back = vec![7];
        assert!(decode_sorted_ids(&enc, &mut back));
        assert_eq!(back[1..], ids);
        encode_sorted_ids(&[5, 6, 200], &mut enc);
        assert_eq!(enc, vec![5, 1, 0xc2, 1]);
        let mut out = Vec::new();
        assert!(decode_sorted_ids(&[], &mut out) && out.is_empty());
        // A repeated id (gap 0), a varint cut off, one past 32 bits, a sum past u32.
        for bad in [
            &[5u8, 0][..],
            &[0x80],
            &[0xff, 0xff, 0xff, 0xff, 0x1f],
            &[0xff, 0xff, 0xff, 0xff, 0x0f, 1],
        ] {
            out.clear();
            assert!(!decode_sorted_ids(bad, &mut out), "{bad:?}");
        }
    }

    #[test]
    fn blocks_hold_records_by_slot() {
        let mut b = BlockBuf::default();
        let long = vec![b'x'; 300];
        assert_eq!(b.push(b"{\"a\":1}"), 0);
        assert_eq!(b.push(b""), 1);
        assert_eq!(b.push(&long), 2);
        let mut enc = Vec::new();
        b.encode_into(&mut enc);
        assert_eq!(&enc[..5], &[3, 7, 0, 0xac, 2]);
        assert_eq!(slot(&enc, 0).unwrap(), b"{\"a\":1}");
        assert_eq!(slot(&enc, 1).unwrap(), b"");
        assert_eq!(slot(&enc, 2).unwrap(), long.as_slice());
        assert_eq!(slot(&enc, 3), None);
        assert_eq!(b.len(), 3);
        assert_eq!(b.get(0).unwrap(), b"{\"a\":1}");
        assert_eq!(b.get(1).unwrap(), b"");
        assert_eq!(b.get(2).unwrap(), long.as_slice());
        assert_eq!(b.get(3), None);
        // Cut off: the last record is missing bytes.
        assert_eq!(slot(&enc[..enc.len() - 1], 2), None);
        assert_eq!(slot(&[], 0), None);
        assert_eq!(slot(&[0xff; 12], 0), None);
        assert!(!b.is_full());
    }

    #[test]
    fn reused_blocks_and_buffers_give_the_bytes_of_fresh_ones() {
        let fill = |b: &mut BlockBuf, n: usize| {
            for i in 0..n {
                b.push(format!("{{\"id\":\"GO-{i}\",\"x\":\"{}\"}}", "y".repeat(i)).as_bytes());
            }
        };
        let mut first = BlockBuf::full_size();
        fill(&mut first, 40);
        let (mut enc, mut out) = (Vec::new(), Vec::new());
        let mut packer = Packer::new(None).unwrap();
        first.encode_into(&mut enc);
        packer.compress_into(&enc, &mut out).unwrap();
        let (enc_a, out_a) = (enc.clone(), out.clone());
        // The same block again after a larger one went through the same buffers.
        first.clear();
        assert_eq!(first.len(), 0);
        fill(&mut first, 64);
        first.encode_into(&mut enc);
        packer.compress_into(&enc, &mut out).unwrap();
        first.clear();
        fill(&mut first, 40);
        first.encode_into(&mut enc);
        packer.compress_into(&enc, &mut out).unwrap();
        assert_eq!(enc, enc_a);
        assert_eq!(out, out_a);
        let back = zstd::bulk::decompress(&out, 1 << 20).unwrap();
        assert_eq!(back, enc_a);
        assert_eq!(slot(&back, 39).unwrap(), first.get(39).unwrap());
    }

    #[test]
    fn dictionaries_are_trained_the_same_way_each_time_and_shrink_blocks() {
        // Records shaped like a distro's OSV feed: the same keys and phrases, other values.
        let recs: Vec<Vec<u8>> = (0..600)
            .map(|i| {
                format!(
                    "{{\"id\":\"ALSA-2024:{i:04}\",\"modified\":\"2024-0{}-1{}T00:00:00Z\",\
                     \"summary\":\"Important: kernel-{} security update\",\"affected\":[{{\
                     \"package\":{{\"ecosystem\":\"AlmaLinux:9\",\"name\":\"pkg-{}\"}},\
                     \"ranges\":[{{\"type\":\"ECOSYSTEM\",\"events\":[{{\"introduced\":\"0\"}},\
                     {{\"fixed\":\"5.14.0-{}.el9_{}\"}}]}}]}}],\"references\":[{{\"type\":\
                     \"ADVISORY\",\"url\":\"https://errata.almalinux.org/9/ALSA-2024-{i:04}.html\"}}]}}",
                    i % 9 + 1,
                    i % 10,
                    i * 7 % 31,
                    i * 13 % 97,
                    300 + i,
                    i % 5
                )
                .into_bytes()
            })
            .collect();
        let sizes: Vec<usize> = recs.iter().map(Vec::len).collect();
        let data = recs.concat();
        let dict = train_continuous(&data, &sizes).unwrap();
        assert!(!dict.is_empty() && dict.len() <= DICT_BYTES);
        // The database's bytes may not depend on the run: the same samples, the same bytes.
        assert_eq!(train_continuous(&data, &sizes).unwrap(), dict);
        // zstd takes it, and a block of records compresses at least a quarter smaller with it
        // than without (814 against 1,191 bytes).
        let mut block = BlockBuf::full_size();
        for r in &recs[..64] {
            block.push(r);
        }
        let mut enc = Vec::new();
        block.encode_into(&mut enc);
        let (mut with, mut without) = (Vec::new(), Vec::new());
        Packer::new(Some(&dict))
            .unwrap()
            .compress_into(&enc, &mut with)
            .unwrap();
        Packer::new(None)
            .unwrap()
            .compress_into(&enc, &mut without)
            .unwrap();
        assert!(
            with.len() * 4 < without.len() * 3,
            "{} against {} bytes",
            with.len(),
            without.len()
        );
        let back = zstd::bulk::Decompressor::with_dictionary(&dict)
            .unwrap()
            .decompress(&with, 1 << 20)
            .unwrap();
        assert_eq!(back, enc);
        // Too few samples, or lengths that do not add up: no dictionary.
        assert!(train_continuous(&recs[..10].concat(), &sizes[..10]).is_none());
        assert!(train_continuous(&data[1..], &sizes).is_none());
    }
}

//! OSV records: JSON (one record, an array of records, or a `{"vulns": [...]}` query answer),
//! YAML (the PyPA advisory database writes OSV as YAML) and the per-ecosystem `all.zip`
//! archives OSV publishes (a flat zip of one JSON record per entry).
//!
//! [`Advisory`] deserialises OSV directly, so this module only adds framing, limits, the
//! `source` label (`osv:<ecosystem>`, the ecosystem of the first `affected` entry without its
//! release suffix: `Debian:12` gives `osv:Debian`) and what OSV keeps in free-form maps:
//! the record's `database_specific.severity` label (GitHub's advisory database writes
//! `LOW`, `MODERATE`, `HIGH` or `CRITICAL` there) becomes [`Advisory::rating`], which the
//! matcher uses when no CVSS vector scores the vulnerability. A `database_specific` that is
//! not shaped like that is ignored.
//!
//! Limits on untrusted archives ([`read_zip`]): at most [`MAX_ZIP_ENTRIES`] entries, each at
//! most [`MAX_ENTRY_BYTES`] decompressed (checked while decompressing, not trusted from the
//! header), at most [`MAX_ZIP_TOTAL_BYTES`] decompressed in total. Entries over a limit are
//! counted as malformed; the rest of the archive is still read.
//!
//! Errors are [`OsvError`] (a file or record) and [`ArchiveError`] (a zip that cannot be read
//! at all); their messages name the record id where there is one.

use super::{ImportBatch, Item, Sink, Stop};
use moat_model::advisory::Advisory;
use serde::Deserialize;
use std::io::{Read, Seek};
use std::sync::mpsc::{Receiver, SyncSender};

/// Most entries read from one zip.
pub const MAX_ZIP_ENTRIES: usize = 2_000_000;
/// Largest decompressed zip entry (an OSV record is a few kB; the largest real ones are < 2 MB).
pub const MAX_ENTRY_BYTES: u64 = 32 << 20;
/// Most decompressed bytes read from one zip.
pub const MAX_ZIP_TOTAL_BYTES: u64 = 8 << 30;

/// The `source` label of an OSV record: `osv:<ecosystem without release>`, or `osv`.
pub fn source_label(adv: &Advisory) -> String {
    match adv.affected.first() {
        Some(a) if !a.package.ecosystem.is_empty() => {
            let eco = a.package.ecosystem.split(':').next().unwrap_or_default();
            format!("osv:{eco}")
        }
        _ => "osv".to_string(),
    }
}

/// Why an OSV file or record was not read.
#[derive(Debug, thiserror::Error)]
pub enum OsvError {
    #[error("not JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    #[error("`vulns` is not an array")]
    VulnsNotArray,
    #[error("not an OSV record (expected an object or an array)")]
    NotRecord,
    /// A record (`id`, `?` when it has none) whose fields do not have OSV's types.
    #[error("{id}: {source}")]
    Record {
        id: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("record has an empty id")]
    EmptyId,
    #[error("{id}: affected entry without package name (ecosystem {ecosystem:?})")]
    NoPackageName { id: String, ecosystem: String },
    #[error("not OSV YAML: {0}")]
    Yaml(#[source] Box<serde_saphyr::Error>),
}

/// A zip archive that cannot be read at all (single entries are counted as malformed instead).
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("not a readable zip archive: {0}")]
    Unreadable(#[source] zip::result::ZipError),
    #[error("{entries} entries, more than the limit of {MAX_ZIP_ENTRIES}")]
    TooManyEntries { entries: usize },
}

/// The parts of an OSV record outside [`Advisory`] that are kept.
#[derive(Debug, Default, Deserialize)]
struct Extras {
    #[serde(default)]
    database_specific: Option<DatabaseSpecific>,
}

#[derive(Debug, Default, Deserialize)]
struct DatabaseSpecific {
    #[serde(default)]
    severity: Option<Label>,
}

/// A severity label, or anything else (ignored).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Label {
    Text(String),
    #[allow(dead_code)]
    Other(serde::de::IgnoredAny),
}

impl Extras {
    /// The extras of a record, `None` when they are not shaped as expected (or there are
    /// none: a record without the text `database_specific` is not parsed a second time).
    fn of_json(bytes: &[u8]) -> Option<Extras> {
        // A key written with escapes (`\u0064atabase_specific`) is looked at too; without
        // escapes, a record with no `"severity"` key anywhere has no label to read (most
        // records: Go's, AlmaLinux's), and is not parsed twice.
        let plain = !super::contains(bytes, b"\\u");
        if plain
            && !(super::contains(bytes, b"database_specific")
                && super::contains(bytes, b"\"severity\""))
        {
            return None;
        }
        serde_json::from_slice(bytes).ok()
    }

    fn of_value(v: &serde_json::Value) -> Option<Extras> {
        Extras::deserialize(v).ok()
    }

    /// The `database_specific.severity` label, trimmed, if it is text.
    fn severity(&self) -> Option<String> {
        match self.database_specific.as_ref()?.severity.as_ref()? {
            Label::Text(t) if !t.trim().is_empty() => Some(t.trim().to_string()),
            _ => None,
        }
    }
}

/// The record's rating from its extras, where it has none yet.
fn with_extras(mut adv: Advisory, extras: Option<&Extras>) -> Advisory {
    if adv.rating.is_none() {
        adv.rating = extras.and_then(Extras::severity);
    }
    adv
}

fn check(mut adv: Advisory) -> Result<Advisory, OsvError> {
    if adv.id.trim().is_empty() {
        return Err(OsvError::EmptyId);
    }
    if let Some(a) = adv
        .affected
        .iter()
        .find(|a| a.package.name.is_empty() && a.ranges.is_empty())
    {
        return Err(OsvError::NoPackageName {
            id: adv.id.clone(),
            ecosystem: a.package.ecosystem.clone(),
        });
    }
    if adv.source.is_empty() {
        adv.source = source_label(&adv);
    }
    Ok(adv)
}

/// How many entries `bytes` lists when it is an index of records rather than records: a JSON
/// array of objects that each hold an `id` and a `modified` time and nothing else, as
/// Chainguard publishes its feed's `all.json` beside one file a record. Read as records,
/// such entries (valid OSV, `id` and `modified` being all the schema requires) replaced the
/// real records of the same ids with empty ones, as they came later in the directory.
/// `None` for anything else (an array of records fails at its first other field).
pub(crate) fn index_entries(bytes: &[u8]) -> Option<usize> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Entry<'a> {
        #[serde(borrow)]
        id: std::borrow::Cow<'a, str>,
        #[serde(borrow)]
        modified: std::borrow::Cow<'a, str>,
    }
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'[') {
        return None;
    }
    let list = serde_json::from_slice::<Vec<Entry<'_>>>(bytes).ok()?;
    let named = |e: &Entry<'_>| !e.id.trim().is_empty() && !e.modified.trim().is_empty();
    (!list.is_empty() && list.iter().all(named)).then_some(list.len())
}

/// One OSV JSON file, record by record: the outer error is a file that is not JSON or not
/// OSV-shaped; inner errors are single records of an array that do not parse.
pub(crate) fn parse_json_records(
    bytes: &[u8],
) -> Result<Vec<Result<Advisory, OsvError>>, OsvError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(OsvError::NotJson)?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        serde_json::Value::Object(mut map)
            if !map.contains_key("id") && map.contains_key("vulns") =>
        {
            match map.remove("vulns") {
                Some(serde_json::Value::Array(items)) => items,
                _ => return Err(OsvError::VulnsNotArray),
            }
        }
        v @ serde_json::Value::Object(_) => vec![v],
        _ => return Err(OsvError::NotRecord),
    };
    Ok(items
        .into_iter()
        .map(|v| {
            let id = v
                .get("id")
                .and_then(|i| i.as_str())
                .unwrap_or("?")
                .to_string();
            let extras = Extras::of_value(&v);
            serde_json::from_value::<Advisory>(v)
                .map(|a| with_extras(a, extras.as_ref()))
                .map_err(|source| OsvError::Record { id, source })
                .and_then(check)
        })
        .collect())
}

/// Every record of one OSV JSON file: all of them when the file parses as a whole, else the
/// readable records of an array with the others in `malformed` under `name`. A feed's index
/// ([`index_entries`]) is not records: it goes to `skipped` under `name`, and the answer is
/// `false` (whether it is a directory's file, a zip's entry or a download). `files` is not
/// counted here.
pub(crate) fn read_json_into(bytes: &[u8], name: &str, batch: &mut ImportBatch) -> bool {
    if let Some(n) = index_entries(bytes) {
        batch
            .skipped
            .push(format!("{name} (an index of {n} record ids, not records)"));
        return false;
    }
    let whole = match parse_json(bytes) {
        Ok(list) => {
            batch.advisories.extend(list);
            return true;
        }
        Err(e) => e,
    };
    match parse_json_records(bytes) {
        Ok(records) => {
            for r in records {
                match r {
                    Ok(a) => batch.advisories.push(a),
                    Err(e) => batch.malformed.push((name.to_string(), e.to_string())),
                }
            }
        }
        Err(_) => batch.malformed.push((name.to_string(), whole.to_string())),
    }
    true
}

/// One OSV record in JSON, or an array of them (or an OSV API `{"vulns": [...]}` answer).
/// Fails on the first record that does not parse.
pub fn parse_json(bytes: &[u8]) -> Result<Vec<Advisory>, OsvError> {
    // The common case, one record, without the intermediate `Value`.
    if let Ok(adv) = serde_json::from_slice::<Advisory>(bytes) {
        let adv = with_extras(adv, Extras::of_json(bytes).as_ref());
        return check(adv).map(|a| vec![a]);
    }
    parse_json_records(bytes)?.into_iter().collect()
}

/// One OSV record in YAML (or a YAML list of records). serde-saphyr's default budgets bound
/// aliases, depth and event counts.
pub fn parse_yaml(bytes: &[u8]) -> Result<Vec<Advisory>, OsvError> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(Box<Advisory>),
        Many(Vec<Advisory>),
    }
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum ExtrasOneOrMany {
        // A list first: a struct also deserialises from a sequence.
        Many(Vec<Extras>),
        One(Extras),
    }
    let parsed: OneOrMany =
        serde_saphyr::from_slice(bytes).map_err(|e| OsvError::Yaml(Box::new(e)))?;
    let list = match parsed {
        OneOrMany::One(a) => vec![*a],
        OneOrMany::Many(v) => v,
    };
    // The extras, record by record, when the document has them in the same shape.
    let extras: Vec<Extras> = match serde_saphyr::from_slice::<ExtrasOneOrMany>(bytes) {
        Ok(ExtrasOneOrMany::One(e)) => vec![e],
        Ok(ExtrasOneOrMany::Many(v)) if v.len() == list.len() => v,
        _ => Vec::new(),
    };
    list.into_iter()
        .enumerate()
        .map(|(i, a)| check(with_extras(a, extras.get(i))))
        .collect()
}

/// Every `*.json` entry of an OSV `all.zip`. A damaged archive (one `malformed` entry named
/// `(zip)`), oversized or unparsable entries are counted in `malformed` (named `<entry>`);
/// other entries are skipped.
pub fn read_zip(bytes: &[u8]) -> ImportBatch {
    try_read_zip(bytes).unwrap_or_else(|e| ImportBatch {
        malformed: vec![("(zip)".into(), e.to_string())],
        ..ImportBatch::default()
    })
}

/// [`read_zip`], with an archive that cannot be read at all as an error.
pub fn try_read_zip(bytes: &[u8]) -> Result<ImportBatch, ArchiveError> {
    let mut batch = ImportBatch::default();
    // The sink never stops.
    let _ = stream_zip(std::io::Cursor::new(bytes), &mut |item| {
        batch.push(item);
        Ok(())
    })?;
    Ok(batch)
}

/// Every `*.json` entry of an OSV `all.zip`, handed to `sink` entry by entry as it is read
/// (a [`Item::File`] per JSON entry, then its records or why it is malformed). The archive
/// is read front to back through its local headers, so memory does not grow with the
/// number of entries; an archive whose entries keep their sizes after the data (streamed
/// zips) is read through its central directory instead, from the entry the front-to-back
/// pass stopped at. An archive that cannot be read at all is an [`ArchiveError`]; one
/// damaged part-way is a malformed `(zip)` record after the entries before it. The inner
/// result says whether the sink stopped the read.
pub fn stream_zip<R: Read + Seek>(
    reader: R,
    sink: &mut Sink<'_>,
) -> Result<Result<(), Stop>, ArchiveError> {
    let mut inflater = Inflater::default();
    stream_units(reader, false, None, &mut |unit| match unit {
        Unit::Item(item) => sink(item),
        Unit::Raw(raw) => raw.items(&mut inflater, sink),
    })
}

/// [`stream_zip`] handing on units: with `defer`, the plain JSON entries are handed on as
/// [`Unit::Raw`] (read, not inflated or parsed), everything else as [`Unit::Item`].
fn stream_units<R: Read + Seek>(
    mut reader: R,
    defer: bool,
    recycled: Option<Receiver<Vec<u8>>>,
    sink: &mut UnitSink<'_>,
) -> Result<Result<(), Stop>, ArchiveError> {
    let mut state = ZipState {
        defer,
        recycled,
        ..ZipState::default()
    };
    loop {
        match state.plain_entry(&mut reader, sink) {
            Plain::Read(Err(stop)) => return Ok(Err(stop)),
            Plain::Read(Ok(false)) => return Ok(Ok(())),
            Plain::Read(Ok(true)) => continue,
            // The zip crate reads the entry (or says where the entries end).
            Plain::Other => {}
        }
        let entry = match zip::read::read_zipfile_from_stream(&mut reader) {
            Ok(Some(e)) => e,
            Ok(None) => return Ok(Ok(())),
            Err(zip::result::ZipError::UnsupportedArchive(_)) => break,
            Err(e) if state.entries == 0 => return Err(ArchiveError::Unreadable(e)),
            Err(e) => {
                return Ok(sink(Unit::Item(Item::Malformed(
                    "(zip)".into(),
                    e.to_string(),
                ))));
            }
        };
        state.entries += 1;
        if state.entries > MAX_ZIP_ENTRIES {
            return Err(ArchiveError::TooManyEntries {
                entries: state.entries,
            });
        }
        let i = state.entries - 1;
        match state.entry(i, entry, sink) {
            Err(stop) => return Ok(Err(stop)),
            Ok(false) => return Ok(Ok(())),
            Ok(true) => {}
        }
    }
    // Sizes after the data: the central directory says where each entry ends.
    reader
        .seek(std::io::SeekFrom::Start(0))
        .map_err(|e| ArchiveError::Unreadable(e.into()))?;
    let mut zip = zip::ZipArchive::new(reader).map_err(ArchiveError::Unreadable)?;
    if zip.len() > MAX_ZIP_ENTRIES {
        return Err(ArchiveError::TooManyEntries { entries: zip.len() });
    }
    for i in state.entries..zip.len() {
        let entry = match zip.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                let bad = Item::Malformed(format!("(zip entry {i})"), e.to_string());
                if let Err(stop) = sink(Unit::Item(bad)) {
                    return Ok(Err(stop));
                }
                continue;
            }
        };
        match state.entry(i, entry, sink) {
            Err(stop) => return Ok(Err(stop)),
            Ok(false) => break,
            Ok(true) => {}
        }
    }
    Ok(Ok(()))
}

/// What [`stream_zip`] has read so far.
#[derive(Default)]
struct ZipState {
    entries: usize,
    total: u64,
    buf: Vec<u8>,
    /// The compressed bytes of the entry read last ([`ZipState::plain_entry`]).
    packed: Vec<u8>,
    /// One inflater for every entry.
    inflate: Option<libdeflater::Decompressor>,
    /// Plain JSON entries are handed on as [`Unit::Raw`] ([`stream_units`]).
    defer: bool,
    /// The deferred entry [`ZipState::read_plain`] read last.
    raw: Option<RawEntry>,
    /// The reader's position after the last plain entry (`None`: unknown, ask the reader).
    pos: Option<u64>,
    /// Buffers of deferred entries the workers are done with ([`Inflater::give_back`]),
    /// filled again here: made and freed on this thread.
    recycled: Option<Receiver<Vec<u8>>>,
}

/// What [`stream_units`] hands on: an item as [`stream_zip`] hands it, or a plain JSON entry
/// read but not yet inflated or parsed ([`RawEntry::items`] does that, on any thread).
// Units move through a sink one at a time or in batches of a few hundred: the size of an
// inline item costs less than boxing every record of the sequential read.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Unit {
    Item(Item),
    Raw(RawEntry),
}

/// Where [`stream_units`] hands each [`Unit`].
type UnitSink<'a> = dyn FnMut(Unit) -> Result<(), Stop> + 'a;

/// A plain (stored or deflated) JSON entry of an `all.zip`, its bytes as in the archive.
#[derive(Debug)]
pub struct RawEntry {
    name: String,
    packed: Vec<u8>,
    /// Decompressed size and CRC-32, from the local header.
    size: u32,
    crc: u32,
    stored: bool,
}

/// The buffers [`RawEntry::items`] reuses from one entry to the next.
#[derive(Default)]
pub struct Inflater {
    buf: Vec<u8>,
    inflate: Option<libdeflater::Decompressor>,
    /// Where the buffers of a deferred entry go once read: back to the thread that reads
    /// the archive ([`ZipState::spare`]), so that they are freed where they were made.
    back: Option<SyncSender<Vec<u8>>>,
}

/// Most buffers waiting to be filled again by the archive's reader, and the largest kept
/// (a larger one is freed: a rare big entry does not stay in the pool).
const RECYCLED: usize = 1024;
const RECYCLED_BYTES: usize = 16 << 10;

impl Inflater {
    /// Hands `buf` back to the archive's reader (freed here when it is too large, or the
    /// reader has enough).
    fn give_back(&self, buf: Vec<u8>) {
        if let Some(back) = &self.back
            && buf.capacity() <= RECYCLED_BYTES
        {
            let _ = back.try_send(buf);
        }
    }
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater").finish_non_exhaustive()
    }
}

impl RawEntry {
    /// Inflates and parses the entry, handing `sink` what [`stream_zip`] would have for it:
    /// an [`Item::File`], then its records or why it is malformed.
    pub fn items(self, inflater: &mut Inflater, sink: &mut Sink<'_>) -> Result<(), Stop> {
        self.items_fast::<()>(inflater, &|_| None, sink).map(|_| ())
    }

    /// [`RawEntry::items`], the inflated entry first given to `fast`: when that returns an
    /// output, `sink` gets only the entry's [`Item::File`] and the output is returned (the
    /// records are not parsed into items).
    fn items_fast<T>(
        self,
        inflater: &mut Inflater,
        fast: &(dyn Fn(&[u8]) -> Option<T> + Sync),
        sink: &mut Sink<'_>,
    ) -> Result<Option<T>, Stop> {
        sink(Item::File)?;
        let inflated = inflate_checked(
            &mut inflater.inflate,
            &self.packed,
            self.stored,
            self.size,
            self.crc,
            &mut inflater.buf,
        );
        inflater.give_back(self.packed);
        match inflated {
            Ok(()) => {
                if let Some(t) = fast(&inflater.buf) {
                    inflater.give_back(self.name.into_bytes());
                    return Ok(Some(t));
                }
                let mut one = ImportBatch::default();
                read_json_into(&inflater.buf, &self.name, &mut one);
                inflater.give_back(self.name.into_bytes());
                one.drain_into(sink).map(|()| None)
            }
            Err(why) => sink(Item::Malformed(
                self.name,
                format!("cannot decompress: {why}"),
            ))
            .map(|()| None),
        }
    }
}

/// Inflates (or copies, `stored`) `packed` into `out`, checking the size and CRC-32 the
/// local header gave.
///
/// An entry's size is known (and capped) before it is read, so the whole entry is inflated
/// in one call into a buffer of that size, by libdeflate: on the OSV records of the bench's
/// mirror set 3.1 against 4.0 µs a Go record and 4.0 against 5.5 µs an AlmaLinux one with
/// zlib-rs through flate2 (most of the difference is building each entry's Huffman tables).
/// Data that would inflate past the size fails as too long, never writes past the buffer.
fn inflate_checked(
    inflate: &mut Option<libdeflater::Decompressor>,
    packed: &[u8],
    stored: bool,
    size: u32,
    crc: u32,
    out: &mut Vec<u8>,
) -> Result<(), &'static str> {
    let size = size as usize;
    if stored {
        out.clear();
        out.extend_from_slice(packed);
    } else {
        // `out` is the worker's buffer, reused entry after entry: only bytes past what it
        // holds are zeroed (clearing it first zeroed every entry's whole size before
        // libdeflate wrote over it: 0.6% of an import's instructions). Only the `n` bytes
        // inflated are kept.
        out.resize(size, 0);
        let d = inflate.get_or_insert_with(libdeflater::Decompressor::new);
        let n = d.deflate_decompress(packed, out).map_err(|e| match e {
            libdeflater::DecompressionError::InsufficientSpace => {
                "deflate data is longer than its header says"
            }
            libdeflater::DecompressionError::BadData => "invalid deflate data",
        })?;
        out.truncate(n);
    }
    if out.len() != size {
        return Err("size differs from the header's");
    }
    // libdeflate's CRC-32 (512-bit carry-less multiplies where the CPU has them): 0.45%
    // of the 500k import's samples where flate2's (zlib-rs) took 1.0%.
    if libdeflater::crc32(out) != crc {
        return Err("CRC-32 mismatch");
    }
    Ok(())
}

/// What [`ZipState::plain_entry`] did.
enum Plain {
    /// It read the entry: as [`ZipState::entry`].
    Read(Result<bool, Stop>),
    /// Not a plain entry (the central directory, a data descriptor, Zip64, another method,
    /// encryption, a size over a limit, damage): the reader is back where it was.
    Other,
}

/// The local file header's signature and fixed length.
const LOCAL_HEADER: [u8; 4] = *b"PK\x03\x04";
const LOCAL_HEADER_LEN: usize = 30;

impl ZipState {
    /// An empty buffer, one the workers gave back when there is one.
    fn spare(&mut self) -> Vec<u8> {
        let mut b = self
            .recycled
            .as_ref()
            .and_then(|r| r.try_recv().ok())
            .unwrap_or_default();
        b.clear();
        b
    }

    /// Reads the next entry directly when it is a plain one (a stored or deflated entry whose
    /// sizes and CRC are in its local header, within the limits), inflating with one
    /// reused inflater: the zip crate sets up a decoder and its buffers for each entry, which
    /// costs more than inflating a 2 kB record. Anything else is left to the zip crate
    /// ([`Plain::Other`]), which reads it or reports it as before.
    fn plain_entry<R: Read + Seek>(&mut self, reader: &mut R, sink: &mut UnitSink<'_>) -> Plain {
        // Where the entry starts: known from the last plain entry (asking the reader is a
        // system call a record: `BufReader` asks the file).
        let start = match self.pos.take() {
            Some(at) => at,
            None => match reader.stream_position() {
                Ok(at) => at,
                Err(_) => return Plain::Other,
            },
        };
        // Past the entry limit, the zip crate's pass reports it.
        if self.entries < MAX_ZIP_ENTRIES
            && let Some((name, read)) = self.read_plain(reader)
        {
            self.entries += 1;
            self.pos = start.checked_add(read);
            return Plain::Read(self.after_read(name, sink));
        }
        // Should the seek fail, the zip crate's read fails and reports the archive.
        let _ = reader.seek(std::io::SeekFrom::Start(start));
        Plain::Other
    }

    /// The name of the plain entry at the reader and the bytes read, its data in `buf`
    /// (`None` when it is not plain: see [`ZipState::plain_entry`]); a directory or a name
    /// not ending in `.json` leaves `buf` empty.
    fn read_plain<R: Read>(&mut self, reader: &mut R) -> Option<(String, u64)> {
        let mut h = [0u8; LOCAL_HEADER_LEN];
        reader.read_exact(&mut h).ok()?;
        let u16_at = |i: usize| Some(u16::from_le_bytes([*h.get(i)?, *h.get(i + 1)?]));
        let u32_at = |i: usize| {
            Some(u32::from_le_bytes([
                *h.get(i)?,
                *h.get(i + 1)?,
                *h.get(i + 2)?,
                *h.get(i + 3)?,
            ]))
        };
        if !h.starts_with(&LOCAL_HEADER) {
            return None;
        }
        let flags = u16_at(6)?;
        let method = u16_at(8)?;
        let crc = u32_at(14)?;
        let packed = u32_at(18)?;
        let size = u32_at(22)?;
        let name_len = usize::from(u16_at(26)?);
        let extra_len = usize::from(u16_at(28)?);
        // Encrypted, sizes after the data, Zip64 sizes, a method other than stored or
        // deflated, or over the entry limit.
        if flags & 0x0009 != 0
            || packed == u32::MAX
            || size == u32::MAX
            || !(method == 0 || method == 8)
            || u64::from(size) > MAX_ENTRY_BYTES
            || u64::from(packed) > MAX_ENTRY_BYTES
        {
            return None;
        }
        let mut name = self.spare();
        name.resize(name_len, 0);
        reader.read_exact(&mut name).ok()?;
        // ASCII or flagged UTF-8 (CP437 names are left to the zip crate).
        if !name.is_ascii() && flags & 0x0800 == 0 {
            return None;
        }
        let name = String::from_utf8(name).ok()?;
        let skipped = std::io::copy(
            &mut reader.by_ref().take(extra_len as u64),
            &mut std::io::sink(),
        )
        .ok()?;
        // Cut off in the extra field: the zip crate reads it again and reports it.
        if skipped != extra_len as u64 {
            return None;
        }
        self.packed.clear();
        if self.packed.capacity() == 0 {
            self.packed = self.spare();
        }
        // Sized from the header (up to 1 MiB before any byte is read): growing the buffer
        // as it fills was a reallocation or two per entry.
        self.packed.reserve_exact((packed as usize).min(1 << 20));
        let got = reader
            .by_ref()
            .take(u64::from(packed))
            .read_to_end(&mut self.packed)
            .ok()?;
        if got as u64 != u64::from(packed) {
            return None;
        }
        let read = (LOCAL_HEADER_LEN + name_len + extra_len) as u64 + u64::from(packed);
        self.buf.clear();
        if name.ends_with('/') || !name.ends_with(".json") {
            return Some((name, read));
        }
        if self.defer {
            self.raw = Some(RawEntry {
                name: String::new(),
                packed: std::mem::take(&mut self.packed),
                size,
                crc,
                stored: method == 0,
            });
            return Some((name, read));
        }
        inflate_checked(
            &mut self.inflate,
            &self.packed,
            method == 0,
            size,
            crc,
            &mut self.buf,
        )
        .ok()?;
        Some((name, read))
    }

    /// What [`ZipState::entry`] does with an entry read whole into `buf`.
    fn after_read(&mut self, name: String, sink: &mut UnitSink<'_>) -> Result<bool, Stop> {
        if let Some(mut raw) = self.raw.take() {
            // Deferred: the size is the header's, which the inflating checks.
            self.total += u64::from(raw.size);
            if self.total > MAX_ZIP_TOTAL_BYTES {
                return self.parse(name, sink);
            }
            raw.name = name;
            sink(Unit::Raw(raw))?;
            return Ok(true);
        }
        if name.ends_with('/') {
            return Ok(true);
        }
        if !name.ends_with(".json") {
            sink(Unit::Item(Item::Skipped(name)))?;
            return Ok(true);
        }
        self.total += self.buf.len() as u64;
        self.parse(name, sink)
    }

    /// Reads one entry (`i`: its index) and hands on what it holds; `Ok(false)` when the
    /// rest of the archive cannot be read (cut off, or past the total limit).
    fn entry<R: Read>(
        &mut self,
        i: usize,
        mut entry: zip::read::ZipFile<'_, R>,
        sink: &mut UnitSink<'_>,
    ) -> Result<bool, Stop> {
        let name = entry
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| format!("(zip entry {i})"));
        if entry.is_dir() {
            return Ok(true);
        }
        if !name.ends_with(".json") {
            sink(Unit::Item(Item::Skipped(name)))?;
            return Ok(true);
        }
        if entry.size() > MAX_ENTRY_BYTES {
            sink(Unit::Item(Item::Malformed(
                name,
                format!(
                    "entry of {} bytes, over the limit of {MAX_ENTRY_BYTES}",
                    entry.size()
                ),
            )))?;
            return Ok(true);
        }
        self.buf.clear();
        let read = (&mut entry)
            .take(MAX_ENTRY_BYTES + 1)
            .read_to_end(&mut self.buf);
        match read {
            // The archive ends inside the entry: one damaged archive, not a bad record.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                sink(Unit::Item(Item::Malformed(
                    "(zip)".into(),
                    format!("archive cut off in {name}: {e}"),
                )))?;
                return Ok(false);
            }
            Err(e) => {
                sink(Unit::Item(Item::File))?;
                sink(Unit::Item(Item::Malformed(
                    name,
                    format!("cannot decompress: {e}"),
                )))?;
                return Ok(true);
            }
            Ok(n) if n as u64 > MAX_ENTRY_BYTES => {
                sink(Unit::Item(Item::File))?;
                sink(Unit::Item(Item::Malformed(
                    name,
                    format!("entry decompresses past the limit of {MAX_ENTRY_BYTES} bytes"),
                )))?;
                return Ok(true);
            }
            Ok(n) => self.total += n as u64,
        }
        self.parse(name, sink)
    }

    /// Hands on the records of the entry `name` read into `buf` (its bytes already counted
    /// in `total`); `Ok(false)` when the archive is past its total limit.
    fn parse(&mut self, name: String, sink: &mut UnitSink<'_>) -> Result<bool, Stop> {
        sink(Unit::Item(Item::File))?;
        if self.total > MAX_ZIP_TOTAL_BYTES {
            sink(Unit::Item(Item::Malformed(
                name,
                format!(
                    "archive decompresses past the limit of {MAX_ZIP_TOTAL_BYTES} bytes; rest not read"
                ),
            )))?;
            return Ok(false);
        }
        let mut one = ImportBatch::default();
        read_json_into(&self.buf, &name, &mut one);
        one.drain_into(&mut |item| sink(Unit::Item(item)))?;
        Ok(true)
    }
}

/// [`stream_zip`] on several threads ([`super::ordered::workers`]): this thread's caller's
/// reader is read on a thread of its own, the JSON entries are inflated and parsed, and
/// `map` applied to every item, on the workers; `consume` gets the mapped items in batches
/// of up to `batch` entries, in the order [`stream_zip`] hands them on (to read or take out
/// of: what it leaves is freed on the worker that made it). When `consume` stops,
/// the read stops too (`Ok(Err(Stop))`). A corrupt plain entry is a malformed record
/// (`cannot decompress: ...`) rather than one the zip crate reads a second time.
pub fn stream_zip_mapped<R: Read + Seek + Send, T: Send>(
    reader: R,
    batch: usize,
    map: &(dyn Fn(Item) -> T + Sync),
    consume: &mut dyn FnMut(&mut Vec<T>) -> Result<(), Stop>,
) -> Result<Result<(), Stop>, ArchiveError> {
    stream_zip_fast(reader, batch, &|_| None, map, consume)
}

/// [`stream_zip_mapped`] with a shortcut: every plain JSON entry, once inflated, is first
/// given to `fast`; when it returns an output, that output follows the entry's
/// [`Item::File`] instead of what parsing the entry gives (`map` of its records).
pub(crate) fn stream_zip_fast<R: Read + Seek + Send, T: Send>(
    reader: R,
    batch: usize,
    fast: &(dyn Fn(&[u8]) -> Option<T> + Sync),
    map: &(dyn Fn(Item) -> T + Sync),
    consume: &mut dyn FnMut(&mut Vec<T>) -> Result<(), Stop>,
) -> Result<Result<(), Stop>, ArchiveError> {
    let work = |inflater: &mut Inflater, unit: Unit, out: &mut Vec<T>| match unit {
        Unit::Item(item) => out.push(map(item)),
        Unit::Raw(raw) => {
            // The sink never stops.
            let got = raw.items_fast(inflater, fast, &mut |item| {
                out.push(map(item));
                Ok(())
            });
            if let Ok(Some(t)) = got {
                out.push(t);
            }
        }
    };
    // The entries' buffers, from the workers back to the reader that made them.
    let (back, recycled) = std::sync::mpsc::sync_channel::<Vec<u8>>(RECYCLED);
    let (read, stopped) = super::ordered::run(
        super::ordered::workers(),
        batch,
        move |sink| stream_units(reader, true, Some(recycled), sink),
        &|| Inflater {
            back: Some(back.clone()),
            ..Inflater::default()
        },
        &work,
        consume,
    );
    if stopped {
        return Ok(Err(Stop));
    }
    read
}

#[cfg(test)]
mod tests {
    use super::{index_entries, inflate_checked};
    use std::io::Write;

    /// Only an array of objects that each hold an id and a modified time, and nothing
    /// else, is an index; records, single objects and empty arrays are not.
    #[test]
    fn an_index_is_ids_and_modified_times_only() {
        let index = br#" [{"id": "CGA-1", "modified": "2026-01-07T00:00:00Z"},
            {"modified": "2026-02-01T00:00:00Z", "id": "CGA-2"}] "#;
        assert_eq!(index_entries(index), Some(2));
        for not_index in [
            &br#"[{"id": "CGA-1", "modified": "2026-01-07T00:00:00Z", "summary": "x"}]"#[..],
            br#"[{"id": "CGA-1", "modified": "2026-01-07T00:00:00Z"}, {"id": "CGA-2"}]"#,
            br#"[{"id": "", "modified": "2026-01-07T00:00:00Z"}]"#,
            br#"{"id": "CGA-1", "modified": "2026-01-07T00:00:00Z"}"#,
            b"[]",
            b"[1, 2]",
            b"[{\"id\": \"CGA-1\", \"modified\": ",
        ] {
            assert_eq!(
                index_entries(not_index),
                None,
                "{}",
                String::from_utf8_lossy(not_index)
            );
        }
    }

    fn deflated(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn crc(data: &[u8]) -> u32 {
        let mut c = flate2::Crc::new();
        c.update(data);
        c.sum()
    }

    #[test]
    fn a_reused_buffer_holds_exactly_each_entry_inflated() {
        let long: Vec<u8> = (0..5000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
        let short = b"{\"id\":\"GO-1\"}".to_vec();
        let mut inflate = None;
        let mut out = Vec::new();
        // `data` deflated (or stored) and read back into `out` against a local header that
        // gives `size` and `sum` as its size and CRC-32.
        let mut entry = |out: &mut Vec<u8>, data: &[u8], size: usize, sum: u32, stored: bool| {
            let packed = if stored {
                data.to_vec()
            } else {
                deflated(data)
            };
            inflate_checked(&mut inflate, &packed, stored, size as u32, sum, out)
        };
        for data in [&long, &short, &long, &short] {
            entry(&mut out, data, data.len(), crc(data), false).unwrap();
            assert_eq!(&out, data);
        }
        // Bad entries after a longer one fail, and the next entry is whole again.
        let bad_crc = entry(&mut out, &long, long.len(), 1, false);
        assert_eq!(bad_crc, Err("CRC-32 mismatch"));
        let too_short = entry(&mut out, &short, short.len() + 7, crc(&short), false);
        assert_eq!(too_short, Err("size differs from the header's"));
        let too_long = entry(&mut out, &long, 100, 0, false);
        assert_eq!(too_long, Err("deflate data is longer than its header says"));
        entry(&mut out, &short, short.len(), crc(&short), false).unwrap();
        assert_eq!(out, short);
        // Stored entries are copied whole, whatever the buffer held.
        entry(&mut out, &long, long.len(), crc(&long), false).unwrap();
        entry(&mut out, &short, short.len(), crc(&short), true).unwrap();
        assert_eq!(out, short);
    }
}

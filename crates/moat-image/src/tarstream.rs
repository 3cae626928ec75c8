//! A streaming tar reader for hostile input: [`TarReader`].
//!
//! It reads any [`Read`] (a layer's decompressed stream) one 512-byte block at a time and
//! yields each entry's [`TarHeader`] and, on request, its *logical* content
//! ([`TarReader::data`]). It reads every entry form that the container runtimes' unpacker
//! (Go's `archive/tar`, used by Docker, containerd and podman) and GNU tar accept:
//!
//! * ustar, old GNU and v7 headers (checksums checked, signed or unsigned; octal and
//!   base-256 numbers; the ustar `prefix`);
//! * PAX extended headers (`x`): `path`, `linkpath` and `size` override the header; a
//!   global header (`g`) is skipped, as Docker does;
//! * GNU long names and long link names (`L`, `K`);
//! * sparse files in every GNU form: old GNU (`S`, with the map in the header and in
//!   extension blocks), PAX 0.0 (`GNU.sparse.offset`/`numbytes` records), 0.1
//!   (`GNU.sparse.map`) and 1.0 (the map at the start of the data). The logical content
//!   is the data segments placed at their offsets with zeros in between;
//! * hardlinks, symlinks, directories (and a `\0` type with a trailing `/`, and GNU dumpdirs),
//!   devices and FIFOs. Other type flags are [`EntryKind::Other`] for the caller to report.
//!
//! Nothing grows with the input: a PAX header, a long name or link, and a sparse map (in
//! extension blocks or at the start of 1.0 data) are each read into memory only up to
//! [`TarLimits::max_header_bytes`] (1 MiB by default, the limit of Go's `archive/tar`, so
//! any larger one makes the layer unusable to the runtimes too); over it is
//! [`TarError::TooLarge`]. The data of an entry is never buffered: the caller reads it, or
//! the reader skips it when asked for the next entry, so an entry's claimed size costs
//! nothing unless its content is read.
//!
//! A sparse entry whose map cannot be used (an unknown GNU sparse version, a map that is
//! unsorted, overlapping, past the file's end or needing more data than the entry holds)
//! still frames correctly (its stored size is known): its header says why in
//! [`TarHeader::unreadable`] and reading its data fails. Damage that breaks the framing (a
//! bad checksum, an unparsable size, a PAX record out of order, a stream that ends inside
//! an entry) is a [`TarError`].
//!
//! Rejected alternatives: the `tar` crate (reads PAX records and long names whole into
//! memory, does not read PAX sparse entries); `jdx-tar` (weeks old at the time of writing,
//! built around extraction, fixed limits); extraction with GNU tar (a process per layer,
//! and a hostile archive writes to disk).

use std::io::{self, BufRead, BufReader, Read, Seek};

/// Size of a tar block.
pub const BLOCK: u64 = 512;

const ZERO_BLOCK: [u8; 512] = [0; 512];

/// Caps on what the reader holds in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TarLimits {
    /// Largest PAX extended header, GNU long name or link, or sparse map (default 1 MiB).
    pub max_header_bytes: u64,
}

impl Default for TarLimits {
    fn default() -> Self {
        TarLimits {
            max_header_bytes: 1 << 20,
        }
    }
}

/// What an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EntryKind {
    /// A regular file (types `0`, `\0`, `7`, sparse `S` and the PAX sparse forms).
    #[default]
    File,
    HardLink,
    Symlink,
    CharDevice,
    BlockDevice,
    /// A directory (`5`, a `\0` type whose name ends in `/`, a GNU dumpdir `D`).
    Dir,
    Fifo,
    /// Any other type flag (a GNU volume label or multi-volume continuation, a vendor
    /// type): the runtimes refuse these.
    Other(u8),
}

/// Why a tar stream cannot be read on.
#[derive(Debug, thiserror::Error)]
pub enum TarError {
    /// The underlying reader failed (for a layer: a digest, limit or decompression error).
    #[error(transparent)]
    Io(io::Error),
    #[error("tar stream ends inside {what} (offset {offset})")]
    Truncated { offset: u64, what: &'static str },
    #[error("corrupt tar header at offset {offset}: {reason}")]
    Corrupt { offset: u64, reason: String },
    #[error("{what} of {size} bytes (offset {offset}) is over the limit of {limit} bytes")]
    TooLarge {
        offset: u64,
        what: String,
        size: u64,
        limit: u64,
    },
}

impl TarError {
    /// The stream offset the error is about, when it is about the tar format.
    pub fn offset(&self) -> Option<u64> {
        match self {
            TarError::Io(_) => None,
            TarError::Truncated { offset, .. }
            | TarError::Corrupt { offset, .. }
            | TarError::TooLarge { offset, .. } => Some(*offset),
        }
    }
}

/// One entry's header, once extension headers are applied.
#[derive(Debug, Clone, Default)]
pub struct TarHeader {
    path: Vec<u8>,
    link: Vec<u8>,
    kind: EntryKind,
    mode: u32,
    size: u64,
    stored: u64,
    offset: u64,
    data_offset: u64,
    sparse: bool,
    unreadable: Option<String>,
}

impl TarHeader {
    /// The entry name as stored (bytes: Linux names need not be UTF-8).
    pub fn path(&self) -> &[u8] {
        &self.path
    }
    /// The target of a symlink or hardlink, as stored.
    pub fn link(&self) -> &[u8] {
        &self.link
    }
    pub fn kind(&self) -> EntryKind {
        self.kind
    }
    /// Permission bits (`0o7777` at most).
    pub fn mode(&self) -> u32 {
        self.mode
    }
    /// Size of the logical content: the expanded size of a sparse file; 0 for types that
    /// carry no data (links, directories but GNU dumpdirs, devices, FIFOs).
    pub fn size(&self) -> u64 {
        self.size
    }
    /// Bytes the entry's data takes in the archive (without padding).
    pub fn stored_size(&self) -> u64 {
        self.stored
    }
    /// Stream offset of the entry's first header block (its extension headers included).
    pub fn offset(&self) -> u64 {
        self.offset
    }
    /// Stream offset of the entry's first data byte (after a 1.0 sparse map).
    pub fn data_offset(&self) -> u64 {
        self.data_offset
    }
    pub fn is_sparse(&self) -> bool {
        self.sparse
    }
    /// Why the content of this entry cannot be read (an unusable sparse map), if so.
    pub fn unreadable(&self) -> Option<&str> {
        self.unreadable.as_deref()
    }
}

/// Records of a PAX extended header that matter here.
#[derive(Debug, Default)]
struct Pax {
    path: Option<Vec<u8>>,
    linkpath: Option<Vec<u8>>,
    size: Option<u64>,
    sparse_major: Option<Vec<u8>>,
    sparse_minor: Option<Vec<u8>>,
    sparse_name: Option<Vec<u8>>,
    sparse_size: Option<Vec<u8>>,
    sparse_realsize: Option<Vec<u8>>,
    sparse_numblocks: Option<Vec<u8>>,
    sparse_map: Option<Vec<u8>>,
    /// `GNU.sparse.offset` / `GNU.sparse.numbytes` values of format 0.0, in order.
    sparse_pairs: Vec<u64>,
    /// A problem with the 0.0 records (out of order, not numbers).
    sparse_problem: Option<String>,
}

/// The buffer of a reader over a stream. At least the layer reader's own buffer
/// (`layer::BUF_SIZE`): a `BufReader` hands a read at least as large as its buffer straight
/// to what it wraps, so an uncompressed layer's bytes go from the file into this buffer with
/// no copy in between.
const STREAM_BUF: usize = 128 << 10;

/// How the reader gets past data it does not read.
type Skipper<R> = fn(&mut BufReader<R>, u64) -> io::Result<u64>;

/// A streaming tar reader; see the module documentation.
pub struct TarReader<R> {
    input: BufReader<R>,
    skipper: Skipper<R>,
    limits: TarLimits,
    /// Stream offset of the next byte of `input`.
    pos: u64,
    /// Data bytes of the current entry not yet consumed from the stream.
    remaining: u64,
    /// Padding after the current entry's data.
    padding: u64,
    header: TarHeader,
    /// Sparse map of the current entry: (offset, length) of each data segment.
    segments: Vec<(u64, u64)>,
    /// Logical content delivered so far of the current entry.
    delivered: u64,
    /// First segment not wholly delivered.
    segment: usize,
    done: bool,
    record: Vec<u8>,
    pax: Pax,
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
}

impl<R> std::fmt::Debug for TarReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TarReader")
            .field("pos", &self.pos)
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

/// Skips by reading and discarding through the buffer.
fn skip_by_reading<R: Read>(input: &mut BufReader<R>, n: u64) -> io::Result<u64> {
    let mut left = n;
    while left > 0 {
        let buf = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            break;
        }
        let k = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
        input.consume(k);
        left -= k as u64;
    }
    Ok(n - left)
}

/// Skips by seeking (the caller checks sizes against the file's length).
fn skip_by_seeking<R: Read + Seek>(input: &mut BufReader<R>, n: u64) -> io::Result<u64> {
    let step = i64::try_from(n).map_err(|_| io::Error::other("skip too large"))?;
    input.seek_relative(step)?;
    Ok(n)
}

impl<R: Read> TarReader<R> {
    /// A reader over a stream (data skipped by reading it).
    pub fn new(input: R) -> TarReader<R> {
        Self::build(input, STREAM_BUF, skip_by_reading::<R>)
    }
}

impl<R: Read + Seek> TarReader<R> {
    /// A reader over a file positioned at the archive's start: data that is not read is
    /// seeked over, and [`TarHeader::data_offset`] tells where each entry's data lies.
    pub fn seekable(input: R) -> TarReader<R> {
        Self::build(input, BLOCK as usize, skip_by_seeking::<R>)
    }
}

impl<R: Read> TarReader<R> {
    fn build(input: R, capacity: usize, skipper: Skipper<R>) -> TarReader<R> {
        TarReader {
            input: BufReader::with_capacity(capacity, input),
            skipper,
            limits: TarLimits::default(),
            pos: 0,
            remaining: 0,
            padding: 0,
            header: TarHeader::default(),
            segments: Vec::new(),
            delivered: 0,
            segment: 0,
            done: false,
            record: Vec::new(),
            pax: Pax::default(),
            long_name: None,
            long_link: None,
        }
    }

    /// Sets the limits.
    pub fn with_limits(mut self, limits: TarLimits) -> TarReader<R> {
        self.limits = limits;
        self
    }

    /// The header of the entry last returned by [`TarReader::next_entry`].
    pub fn header(&self) -> &TarHeader {
        &self.header
    }

    /// Stream offset of the next unread byte.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// The logical content of the current entry (read it, or leave it: the next call to
    /// [`TarReader::next_entry`] skips what is left).
    pub fn data(&mut self) -> Data<'_, R> {
        Data { tar: self }
    }

    /// The next entry, or `None` at the end of the archive (two zero blocks, or the end of
    /// the stream at a block boundary).
    pub fn next_entry(&mut self) -> Result<Option<&TarHeader>, TarError> {
        if self.done {
            return Ok(None);
        }
        self.skip_rest()?;
        if self.done {
            return Ok(None);
        }
        self.pax = Pax::default();
        self.long_name = None;
        self.long_link = None;
        let first = self.pos;
        let mut blk = [0u8; 512];
        loop {
            let at = self.pos;
            if !self.read_block(&mut blk, "a header")? {
                self.done = true;
                return Ok(None);
            }
            if blk == ZERO_BLOCK {
                let mut next = [0u8; 512];
                if !self.read_block(&mut next, "the end-of-archive marker")? || next == ZERO_BLOCK {
                    self.done = true;
                    return Ok(None);
                }
                return Err(corrupt(
                    at + BLOCK,
                    "a header after a zero block (the end-of-archive marker)",
                ));
            }
            check_checksum(&blk, at)?;
            let size = parse_numeric(&blk[124..136])
                .filter(|&s| s >= 0)
                .and_then(|s| u64::try_from(s).ok())
                .ok_or_else(|| corrupt(at, "unreadable size field"))?;
            match blk[156] {
                b'x' => {
                    self.read_record(size, at, "PAX extended header", &blk)?;
                    self.pax = parse_pax(&self.record, at)?;
                }
                b'g' => {
                    // Global records are not applied (Docker ignores them); skip the data.
                    self.skip_exact(size.saturating_add(padding(size)), "a PAX global header")?;
                }
                b'L' => {
                    self.read_record(size, at, "GNU long name", &blk)?;
                    self.long_name = Some(until_nul(&self.record).to_vec());
                }
                b'K' => {
                    self.read_record(size, at, "GNU long link name", &blk)?;
                    self.long_link = Some(until_nul(&self.record).to_vec());
                }
                _ => {
                    self.entry(&blk, size, first)?;
                    return Ok(Some(&self.header));
                }
            }
        }
    }

    /// Fills the header of an entry from its block and the pending extension headers, and
    /// reads what a sparse entry keeps before its data.
    fn entry(&mut self, blk: &[u8; 512], size: u64, first: u64) -> Result<(), TarError> {
        let at = self.pos - BLOCK;
        let typeflag = blk[156];
        let h = &mut self.header;
        h.offset = first;
        h.unreadable = None;
        h.sparse = false;
        h.mode = parse_numeric(&blk[100..108])
            .and_then(|m| u32::try_from(m & 0o7777).ok())
            .unwrap_or(0);
        // Name: GNU long name, else PAX path, else the header's (prefix/)name.
        h.path.clear();
        if let Some(n) = self.long_name.take() {
            h.path = n;
        } else if let Some(p) = self.pax.path.take() {
            h.path = p;
        } else {
            header_name(blk, &mut h.path);
        }
        h.link.clear();
        if let Some(l) = self.long_link.take() {
            h.link = l;
        } else if let Some(l) = self.pax.linkpath.take() {
            h.link = l;
        } else {
            h.link.extend_from_slice(until_nul(&blk[157..257]));
        }
        let size = self.pax.size.unwrap_or(size);
        h.kind = match typeflag {
            b'0' | b'7' | b'S' => EntryKind::File,
            0 if h.path.ends_with(b"/") => EntryKind::Dir,
            0 => EntryKind::File,
            b'1' => EntryKind::HardLink,
            b'2' => EntryKind::Symlink,
            b'3' => EntryKind::CharDevice,
            b'4' => EntryKind::BlockDevice,
            b'5' | b'D' => EntryKind::Dir,
            b'6' => EntryKind::Fifo,
            t => EntryKind::Other(t),
        };
        // Types that carry no data whatever their size says (as Go's reader).
        let header_only =
            matches!(typeflag, b'1'..=b'6') || (typeflag == 0 && h.kind == EntryKind::Dir);
        h.stored = if header_only { 0 } else { size };
        h.size = h.stored;
        self.remaining = h.stored;
        self.padding = padding(h.stored);
        self.segments.clear();
        self.delivered = 0;
        self.segment = 0;
        if typeflag == b'S' {
            self.old_gnu_sparse(blk, at)?;
        } else if h.kind == EntryKind::File {
            self.pax_sparse(at)?;
        }
        self.header.data_offset = self.pos;
        if self.header.sparse && self.header.unreadable.is_none() {
            let why = check_map(&self.segments, self.header.size, self.remaining);
            self.header.unreadable = why;
        }
        Ok(())
    }

    /// Old GNU sparse (`S`): the real size and the first four segments are in the header,
    /// more in extension blocks that follow it (outside the entry's size).
    fn old_gnu_sparse(&mut self, blk: &[u8; 512], at: u64) -> Result<(), TarError> {
        self.header.sparse = true;
        match parse_numeric(&blk[483..495]).and_then(|s| u64::try_from(s).ok()) {
            Some(real) => self.header.size = real,
            None => self.header.unreadable = Some("unreadable real size of a sparse file".into()),
        }
        let mut problem = None;
        read_segments(&blk[386..482], &mut self.segments, &mut problem);
        let mut extended = blk[482] != 0;
        let mut ext = [0u8; 512];
        let mut read = 0u64;
        while extended {
            read += BLOCK;
            if read > self.limits.max_header_bytes {
                return Err(TarError::TooLarge {
                    offset: at,
                    what: format!("old GNU sparse map of {}", quoted(&self.header.path)),
                    size: read,
                    limit: self.limits.max_header_bytes,
                });
            }
            if !self.read_block(&mut ext, "a sparse map")? {
                return Err(TarError::Truncated {
                    offset: self.pos,
                    what: "a sparse map",
                });
            }
            read_segments(&ext[..504], &mut self.segments, &mut problem);
            extended = ext[504] != 0;
        }
        if self.header.unreadable.is_none() {
            self.header.unreadable = problem;
        }
        Ok(())
    }

    /// The PAX forms of GNU sparse files (0.0, 0.1, 1.0), recognised as Go's reader does.
    fn pax_sparse(&mut self, at: u64) -> Result<(), TarError> {
        let pax = &self.pax;
        let version = match (pax.sparse_major.as_deref(), pax.sparse_minor.as_deref()) {
            (Some(b"0"), Some(b"0" | b"1")) => Some(0),
            (Some(b"1"), Some(b"0")) => Some(1),
            (None, None) if pax.sparse_map.is_some() || !pax.sparse_pairs.is_empty() => Some(0),
            (None, None) if pax.sparse_problem.is_some() => Some(0),
            (None, None) => return Ok(()),
            (major, minor) => {
                self.header.sparse = true;
                self.header.unreadable = Some(format!(
                    "GNU sparse format {}.{} is not one moat reads",
                    String::from_utf8_lossy(major.unwrap_or(b"?")),
                    String::from_utf8_lossy(minor.unwrap_or(b"?"))
                ));
                None
            }
        };
        let Some(version) = version else {
            return Ok(());
        };
        self.header.sparse = true;
        if let Some(name) = self.pax.sparse_name.take() {
            self.header.path = name;
        }
        let real = self
            .pax
            .sparse_size
            .as_deref()
            .or(self.pax.sparse_realsize.as_deref());
        if let Some(real) = real {
            match parse_decimal(real) {
                Some(n) => self.header.size = n,
                None => {
                    self.header.unreadable = Some("unreadable GNU.sparse size".into());
                    return Ok(());
                }
            }
        }
        if version == 1 {
            return self.sparse_map_1_0(at);
        }
        if let Some(p) = self.pax.sparse_problem.take() {
            self.header.unreadable = Some(p);
            return Ok(());
        }
        let count = self.pax.sparse_numblocks.as_deref().and_then(parse_decimal);
        let mut numbers = std::mem::take(&mut self.pax.sparse_pairs);
        if let Some(map) = &self.pax.sparse_map {
            numbers.clear();
            if !map.is_empty() {
                for n in map.split(|&b| b == b',') {
                    match parse_decimal(n) {
                        Some(v) => numbers.push(v),
                        None => {
                            self.header.unreadable = Some("unreadable GNU.sparse.map".into());
                            return Ok(());
                        }
                    }
                }
            }
        }
        if count.and_then(|c| c.checked_mul(2)) != Some(numbers.len() as u64) {
            self.header.unreadable =
                Some("GNU.sparse.numblocks does not match the sparse map".into());
            return Ok(());
        }
        self.segments
            .extend(numbers.chunks_exact(2).map(|p| (p[0], p[1])));
        Ok(())
    }

    /// Format 1.0: the map is decimal numbers, one per line, at the start of the data,
    /// padded to a block: the count, then an offset and a length per segment.
    fn sparse_map_1_0(&mut self, at: u64) -> Result<(), TarError> {
        let mut text: Vec<u8> = Vec::new();
        let mut blk = [0u8; 512];
        let mut wanted: Option<u64> = None;
        let mut lines = 0u64;
        let mut scanned = 0usize;
        loop {
            if let Some(w) = wanted
                && lines > w
            {
                break;
            }
            if self.remaining < BLOCK {
                self.header.unreadable = Some("the sparse map runs past the entry's data".into());
                return Ok(());
            }
            if text.len() as u64 + BLOCK > self.limits.max_header_bytes {
                return Err(TarError::TooLarge {
                    offset: at,
                    what: format!("GNU sparse 1.0 map of {}", quoted(&self.header.path)),
                    size: text.len() as u64 + BLOCK,
                    limit: self.limits.max_header_bytes,
                });
            }
            if !self.read_block(&mut blk, "a sparse map")? {
                return Err(TarError::Truncated {
                    offset: self.pos,
                    what: "a sparse map",
                });
            }
            self.remaining -= BLOCK;
            text.extend_from_slice(&blk);
            for (i, &b) in text.iter().enumerate().skip(scanned) {
                if b != b'\n' {
                    continue;
                }
                lines += 1;
                if lines == 1 {
                    let count = parse_decimal(&text[..i]).and_then(|c| c.checked_mul(2));
                    match count {
                        Some(c) => wanted = Some(c),
                        None => {
                            self.header.unreadable =
                                Some("unreadable count in the GNU sparse 1.0 map".into());
                            return Ok(());
                        }
                    }
                }
            }
            scanned = text.len();
        }
        let mut numbers = text.split(|&b| b == b'\n').skip(1);
        let count = wanted.unwrap_or(0) / 2;
        for _ in 0..count {
            let (Some(o), Some(l)) = (
                numbers.next().and_then(parse_decimal),
                numbers.next().and_then(parse_decimal),
            ) else {
                self.header.unreadable = Some("unreadable GNU sparse 1.0 map".into());
                return Ok(());
            };
            self.segments.push((o, l));
        }
        Ok(())
    }

    /// Reads a meta entry's data (PAX records, a long name) into `self.record`, capped.
    fn read_record(
        &mut self,
        size: u64,
        at: u64,
        what: &'static str,
        blk: &[u8; 512],
    ) -> Result<(), TarError> {
        if size > self.limits.max_header_bytes {
            let mut name = Vec::new();
            header_name(blk, &mut name);
            return Err(TarError::TooLarge {
                offset: at,
                what: format!("{what} {}", quoted(&name)),
                size,
                limit: self.limits.max_header_bytes,
            });
        }
        self.record.clear();
        let n = usize::try_from(size).unwrap_or(usize::MAX);
        self.record.resize(n, 0);
        let mut got = 0;
        while got < n {
            match self.input.read(&mut self.record[got..]) {
                Ok(0) => {
                    return Err(TarError::Truncated {
                        offset: self.pos,
                        what,
                    });
                }
                Ok(k) => {
                    got += k;
                    self.pos += k as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(TarError::Io(e)),
            }
        }
        self.skip_exact(padding(size), what)
    }

    /// Skips what is left of the current entry (data and padding). A stream that ends
    /// inside the padding of the last entry ends the archive, as for Go's reader.
    fn skip_rest(&mut self) -> Result<(), TarError> {
        let data = std::mem::take(&mut self.remaining);
        let pad = std::mem::take(&mut self.padding);
        if data > 0 {
            self.skip_exact(data, "the data of an entry")?;
        }
        if pad > 0 {
            let got = (self.skipper)(&mut self.input, pad).map_err(TarError::Io)?;
            self.pos += got;
            if got < pad {
                self.done = true;
            }
        }
        Ok(())
    }

    fn skip_exact(&mut self, n: u64, what: &'static str) -> Result<(), TarError> {
        let got = (self.skipper)(&mut self.input, n).map_err(TarError::Io)?;
        self.pos += got;
        if got < n {
            return Err(TarError::Truncated {
                offset: self.pos,
                what,
            });
        }
        Ok(())
    }

    /// Reads one block; `false` at the end of the stream before its first byte.
    fn read_block(&mut self, blk: &mut [u8; 512], what: &'static str) -> Result<bool, TarError> {
        let mut got = 0;
        while got < blk.len() {
            match self.input.read(&mut blk[got..]) {
                Ok(0) if got == 0 => return Ok(false),
                Ok(0) => {
                    self.pos += got as u64;
                    return Err(TarError::Truncated {
                        offset: self.pos,
                        what,
                    });
                }
                Ok(k) => got += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(TarError::Io(e)),
            }
        }
        self.pos += BLOCK;
        Ok(true)
    }

    /// Reads stored data bytes of the current entry.
    fn read_stored(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = usize::try_from(self.remaining)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        if n == 0 {
            return Ok(0);
        }
        let k = loop {
            match self.input.read(&mut buf[..n]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => break r?,
            }
        };
        if k == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "tar stream ends inside the data of an entry (offset {})",
                    self.pos
                ),
            ));
        }
        self.remaining -= k as u64;
        self.pos += k as u64;
        Ok(k)
    }

    /// Reads the logical content of the current entry.
    fn read_content(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(why) = &self.header.unreadable {
            return Err(io::Error::new(io::ErrorKind::Unsupported, why.clone()));
        }
        if !self.header.sparse {
            return self.read_stored(buf);
        }
        let size = self.header.size;
        let pos = self.delivered;
        if pos >= size || buf.is_empty() {
            return Ok(0);
        }
        while self
            .segments
            .get(self.segment)
            .is_some_and(|&(o, l)| o + l <= pos)
        {
            self.segment += 1;
        }
        let room = usize::try_from(size - pos)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = match self.segments.get(self.segment) {
            Some(&(o, l)) if o <= pos => {
                let n = usize::try_from(o + l - pos).unwrap_or(usize::MAX).min(room);
                self.read_stored(&mut buf[..n])?
            }
            next => {
                let end = next.map_or(size, |&(o, _)| o);
                let n = usize::try_from(end - pos).unwrap_or(usize::MAX).min(room);
                buf[..n].fill(0);
                n
            }
        };
        self.delivered += n as u64;
        Ok(n)
    }
}

/// The logical content of the current entry ([`TarReader::data`]).
pub struct Data<'a, R> {
    tar: &'a mut TarReader<R>,
}

impl<R: Read> Read for Data<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.tar.read_content(buf)
    }
}

fn corrupt(offset: u64, reason: &str) -> TarError {
    TarError::Corrupt {
        offset,
        reason: reason.to_string(),
    }
}

fn padding(size: u64) -> u64 {
    (BLOCK - size % BLOCK) % BLOCK
}

/// A name for messages: lossy, quoted, at most 100 characters.
fn quoted(name: &[u8]) -> String {
    let s = String::from_utf8_lossy(name);
    let cut: String = s.chars().take(100).collect();
    format!("{cut:?}")
}

fn until_nul(b: &[u8]) -> &[u8] {
    b.iter().position(|&c| c == 0).map_or(b, |i| &b[..i])
}

/// The header's own name: ustar `prefix/name`, or `name`.
fn header_name(blk: &[u8; 512], out: &mut Vec<u8>) {
    let name = until_nul(&blk[..100]);
    if &blk[257..263] == b"ustar\0" {
        let prefix = if &blk[508..512] == b"tar\0" {
            until_nul(&blk[345..476])
        } else {
            until_nul(&blk[345..500])
        };
        if !prefix.is_empty() {
            out.extend_from_slice(prefix);
            out.push(b'/');
        }
    }
    out.extend_from_slice(name);
}

/// Checks the header checksum (the unsigned or the signed sum, as historic tars differ).
fn check_checksum(blk: &[u8; 512], at: u64) -> Result<(), TarError> {
    let Some(want) = parse_octal(&blk[148..156]) else {
        return Err(corrupt(at, "unreadable checksum field"));
    };
    let (mut unsigned, mut signed) = (0i64, 0i64);
    for (i, &c) in blk.iter().enumerate() {
        let c = if (148..156).contains(&i) { b' ' } else { c };
        unsigned += i64::from(c);
        signed += i64::from(c as i8);
    }
    if want != unsigned && want != signed {
        return Err(corrupt(at, "checksum mismatch"));
    }
    Ok(())
}

/// A numeric header field: base-256 when the high bit is set, else octal.
fn parse_numeric(b: &[u8]) -> Option<i64> {
    let first = *b.first()?;
    if first & 0x80 != 0 {
        let negative = first & 0x40 != 0;
        let inv = if negative { 0xff } else { 0 };
        let mut x: u64 = 0;
        for (i, &c) in b.iter().enumerate() {
            let mut c = c ^ inv;
            if i == 0 {
                c &= 0x7f;
            }
            if x >> 56 != 0 {
                return None;
            }
            x = x << 8 | u64::from(c);
        }
        let x = i64::try_from(x).ok()?;
        return Some(if negative { !x } else { x });
    }
    parse_octal(b)
}

/// Octal digits, with leading and trailing spaces and NULs ignored, up to the first NUL.
fn parse_octal(b: &[u8]) -> Option<i64> {
    let start = b.iter().position(|&c| c != b' ' && c != 0)?;
    let digits = until_nul(&b[start..]);
    let digits = match digits.iter().rposition(|&c| c != b' ') {
        Some(end) => &digits[..=end],
        None => return Some(0),
    };
    let mut x: i64 = 0;
    for &c in digits {
        if !(b'0'..=b'7').contains(&c) {
            return None;
        }
        x = x.checked_mul(8)?.checked_add(i64::from(c - b'0'))?;
    }
    Some(x)
}

/// A non-empty string of decimal digits.
fn parse_decimal(b: &[u8]) -> Option<u64> {
    if b.is_empty() {
        return None;
    }
    let mut x: u64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        x = x.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(x)
}

/// Old GNU sparse segments from 24-byte (offset, length) pairs, up to an empty one.
fn read_segments(area: &[u8], out: &mut Vec<(u64, u64)>, problem: &mut Option<String>) {
    for pair in area.chunks_exact(24) {
        if pair[0] == 0 {
            return;
        }
        let o = parse_numeric(&pair[..12]).and_then(|v| u64::try_from(v).ok());
        let l = parse_numeric(&pair[12..]).and_then(|v| u64::try_from(v).ok());
        match (o, l) {
            (Some(o), Some(l)) => out.push((o, l)),
            _ => {
                problem.get_or_insert_with(|| "unreadable number in a sparse map".into());
                return;
            }
        }
    }
}

/// Why a sparse map cannot be used: segments must be in order, apart, inside the file,
/// and their data must be in the entry.
fn check_map(segments: &[(u64, u64)], size: u64, stored: u64) -> Option<String> {
    let mut end = 0u64;
    let mut data = 0u64;
    for &(o, l) in segments {
        let Some(e) = o.checked_add(l) else {
            return Some("a sparse map segment overflows".into());
        };
        if o < end {
            return Some("sparse map segments overlap or are out of order".into());
        }
        if e > size {
            return Some(format!(
                "a sparse map segment ends at {e}, past the file's size of {size}"
            ));
        }
        end = e;
        data += l;
    }
    if data > stored {
        return Some(format!(
            "the sparse map needs {data} bytes of data, the entry holds {stored}"
        ));
    }
    None
}

/// Parses PAX records (`<len> <key>=<value>\n`), keeping those that matter.
fn parse_pax(mut rec: &[u8], at: u64) -> Result<Pax, TarError> {
    let bad = |why: &str| corrupt(at, &format!("bad PAX extended header: {why}"));
    let mut pax = Pax::default();
    let mut expect_numbytes = false;
    while !rec.is_empty() {
        if rec.iter().all(|&b| b == 0) {
            break; // NUL padding some writers leave
        }
        let sp = rec
            .iter()
            .position(|&b| b == b' ')
            .ok_or_else(|| bad("record without a length"))?;
        let len = parse_decimal(&rec[..sp])
            .and_then(|n| usize::try_from(n).ok())
            .filter(|&n| n > sp + 1 && n <= rec.len())
            .ok_or_else(|| bad("record length out of range"))?;
        let (this, rest) = rec.split_at(len);
        rec = rest;
        let Some((&b'\n', body)) = this[sp + 1..].split_last() else {
            return Err(bad("record does not end in a newline"));
        };
        let eq = body
            .iter()
            .position(|&b| b == b'=')
            .ok_or_else(|| bad("record without '='"))?;
        let (key, value) = (&body[..eq], &body[eq + 1..]);
        if key.is_empty() {
            return Err(bad("empty key"));
        }
        let text = || (!value.is_empty()).then(|| value.to_vec());
        match key {
            b"path" | b"linkpath" if value.contains(&0) => {
                return Err(bad("a path with a NUL byte"));
            }
            b"path" => pax.path = text(),
            b"linkpath" => pax.linkpath = text(),
            b"size" => {
                pax.size = if value.is_empty() {
                    None
                } else {
                    Some(parse_decimal(value).ok_or_else(|| bad("unreadable size"))?)
                }
            }
            b"GNU.sparse.major" => pax.sparse_major = text(),
            b"GNU.sparse.minor" => pax.sparse_minor = text(),
            b"GNU.sparse.name" => pax.sparse_name = text(),
            b"GNU.sparse.size" => pax.sparse_size = text(),
            b"GNU.sparse.realsize" => pax.sparse_realsize = text(),
            b"GNU.sparse.numblocks" => pax.sparse_numblocks = text(),
            b"GNU.sparse.map" => pax.sparse_map = Some(value.to_vec()),
            b"GNU.sparse.offset" | b"GNU.sparse.numbytes" => {
                let is_offset = key == b"GNU.sparse.offset";
                match parse_decimal(value) {
                    Some(v) if is_offset != expect_numbytes => pax.sparse_pairs.push(v),
                    _ => {
                        pax.sparse_problem
                            .get_or_insert_with(|| "bad GNU sparse 0.0 records".into());
                    }
                }
                expect_numbytes = is_offset;
            }
            _ => {}
        }
    }
    if pax.sparse_pairs.len() % 2 == 1 {
        pax.sparse_problem
            .get_or_insert_with(|| "bad GNU sparse 0.0 records".into());
    }
    Ok(pax)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header block: name, type, size, with a valid checksum; `gnu` picks the magic.
    fn block(name: &[u8], typeflag: u8, size: u64, gnu: bool) -> [u8; 512] {
        let mut b = [0u8; 512];
        b[..name.len()].copy_from_slice(name);
        b[100..107].copy_from_slice(b"0000644");
        b[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
        b[156] = typeflag;
        if gnu {
            b[257..265].copy_from_slice(b"ustar  \0");
        } else {
            b[257..263].copy_from_slice(b"ustar\0");
            b[263..265].copy_from_slice(b"00");
        }
        sum(&mut b);
        b
    }

    fn sum(b: &mut [u8; 512]) {
        b[148..156].copy_from_slice(b"        ");
        let s: u32 = b.iter().map(|&c| u32::from(c)).sum();
        b[148..155].copy_from_slice(format!("{s:06o}\0").as_bytes());
    }

    fn data(out: &mut Vec<u8>, bytes: &[u8]) {
        out.extend_from_slice(bytes);
        out.resize(out.len() + padding(bytes.len() as u64) as usize, 0);
    }

    fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
        let body = [key.as_bytes(), b"=", value, b"\n"].concat();
        let mut n = body.len() + 2;
        while format!("{n} ").len() + body.len() != n {
            n += 1;
        }
        [format!("{n} ").as_bytes(), &body].concat()
    }

    fn pax(out: &mut Vec<u8>, records: &[(&str, &[u8])]) {
        let body: Vec<u8> = records.iter().flat_map(|(k, v)| pax_record(k, v)).collect();
        out.extend_from_slice(&block(b"PaxHeaders/x", b'x', body.len() as u64, false));
        data(out, &body);
    }

    /// (path, kind, logical content or the reason it is unreadable) of every entry.
    fn entries(
        bytes: &[u8],
        limits: TarLimits,
    ) -> Result<Vec<(String, EntryKind, String)>, TarError> {
        let mut tar = TarReader::new(bytes).with_limits(limits);
        let mut out = Vec::new();
        while let Some(h) = tar.next_entry()? {
            let (path, kind) = (String::from_utf8_lossy(h.path()).into_owned(), h.kind());
            let link = String::from_utf8_lossy(h.link()).into_owned();
            let mut content = Vec::new();
            let what = match tar.data().read_to_end(&mut content) {
                Ok(_) if kind == EntryKind::File => String::from_utf8_lossy(&content).into_owned(),
                Ok(_) => link,
                Err(e) => format!("unreadable: {e}"),
            };
            out.push((path, kind, what));
        }
        Ok(out)
    }

    fn one(bytes: &[u8]) -> (String, EntryKind, String) {
        let mut all = entries(bytes, TarLimits::default()).unwrap();
        assert_eq!(all.len(), 1, "{all:?}");
        all.remove(0)
    }

    #[test]
    fn plain_entries_and_end_of_archive() {
        let mut t = Vec::new();
        t.extend_from_slice(&block(b"etc/hostname", b'0', 5, false));
        data(&mut t, b"moat\n");
        t.extend_from_slice(&block(b"etc/", b'5', 0, false));
        let mut l = block(b"bin/sh", b'2', 99, false); // a symlink's size is ignored
        l[157..161].copy_from_slice(b"bash");
        sum(&mut l);
        t.extend_from_slice(&l);
        t.extend_from_slice(&block(b"legacy/", 0, 0, false));
        let got = entries(&t, TarLimits::default()).unwrap();
        assert_eq!(
            got,
            vec![
                ("etc/hostname".into(), EntryKind::File, "moat\n".into()),
                ("etc/".into(), EntryKind::Dir, String::new()),
                ("bin/sh".into(), EntryKind::Symlink, "bash".into()),
                ("legacy/".into(), EntryKind::Dir, String::new()),
            ]
        );
        // two zero blocks end the archive; what follows is not read
        let mut ended = t.clone();
        ended.extend_from_slice(&[0; 1024]);
        ended.extend_from_slice(&block(b"hidden", b'0', 0, false));
        assert_eq!(entries(&ended, TarLimits::default()).unwrap().len(), 4);
        // a lone zero block followed by a header is corrupt (as for Go's reader)
        let mut lone = t.clone();
        lone.extend_from_slice(&[0; 512]);
        lone.extend_from_slice(&block(b"hidden", b'0', 0, false));
        let e = entries(&lone, TarLimits::default()).unwrap_err();
        assert!(e.to_string().contains("after a zero block"), "{e}");
    }

    #[test]
    fn damaged_streams_are_errors() {
        let mut t = Vec::new();
        t.extend_from_slice(&block(b"a", b'0', 1000, false));
        t.extend_from_slice(&[b'x'; 600]);
        let e = entries(&t, TarLimits::default()).unwrap_err();
        assert!(matches!(e, TarError::Truncated { .. }), "{e}");
        let mut bad = block(b"a", b'0', 0, false);
        bad[0] = b'b';
        let e = entries(&bad, TarLimits::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "corrupt tar header at offset 0: checksum mismatch"
        );
        assert_eq!(e.offset(), Some(0));
        let e = entries(&[7u8; 100], TarLimits::default()).unwrap_err();
        assert!(matches!(e, TarError::Truncated { offset: 100, .. }), "{e}");
        // a stream ending inside the last entry's padding ends the archive
        let mut t = Vec::new();
        t.extend_from_slice(&block(b"a", b'0', 3, false));
        t.extend_from_slice(b"abc");
        assert_eq!(one(&t).2, "abc");
    }

    #[test]
    fn long_names_and_pax_overrides() {
        let long = "d/".repeat(200) + "file";
        let mut t = Vec::new();
        t.extend_from_slice(&block(b"././@LongLink", b'L', long.len() as u64 + 1, true));
        data(&mut t, format!("{long}\0").as_bytes());
        t.extend_from_slice(&block(b"short", b'0', 2, true));
        data(&mut t, b"hi");
        pax(
            &mut t,
            &[("path", b"pax/name\xff"), ("size", b"3"), ("mtime", b"1.5")],
        );
        t.extend_from_slice(&block(b"ustar-name", b'0', 0, false));
        data(&mut t, b"abc");
        pax(&mut t, &[("linkpath", b"/usr/lib/os-release")]);
        t.extend_from_slice(&block(b"etc/os-release", b'2', 0, false));
        let got = entries(&t, TarLimits::default()).unwrap();
        assert_eq!(got[0], (long, EntryKind::File, "hi".into()));
        assert_eq!(
            got[1],
            ("pax/name\u{fffd}".into(), EntryKind::File, "abc".into())
        );
        assert_eq!(got[2].2, "/usr/lib/os-release");
    }

    #[test]
    fn ustar_prefix_and_base256_size() {
        let mut b = block(b"status", b'0', 0, false);
        b[345..357].copy_from_slice(b"var/lib/dpkg");
        b[124..136].copy_from_slice(&[0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4]);
        sum(&mut b);
        let mut t = b.to_vec();
        data(&mut t, b"four");
        assert_eq!(
            one(&t),
            ("var/lib/dpkg/status".into(), EntryKind::File, "four".into())
        );
    }

    #[test]
    fn oversized_header_records_are_errors_without_reading_them() {
        for (ty, what) in [
            (b'x', "PAX extended header"),
            (b'L', "GNU long name"),
            (b'K', "GNU long link name"),
        ] {
            // a 3 GB record: only its header block exists; nothing past it is read
            let t = block(b"././@LongLink", ty, 3 << 30, ty != b'x');
            let e = entries(&t, TarLimits::default()).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!(
                    "{what} \"././@LongLink\" of 3221225472 bytes (offset 0) is over the limit of 1048576 bytes"
                )
            );
        }
        // the limit is a setting
        let mut t = Vec::new();
        pax(&mut t, &[("path", "p".repeat(600).as_bytes())]);
        t.extend_from_slice(&block(b"x", b'0', 0, false));
        assert!(
            entries(
                &t,
                TarLimits {
                    max_header_bytes: 512
                }
            )
            .is_err()
        );
        assert_eq!(entries(&t, TarLimits::default()).unwrap()[0].0.len(), 600);
    }

    #[test]
    fn bad_pax_records_are_errors() {
        for body in [
            &b"5 a=b\n"[..],
            b"99 path=x\n",
            b"7 path\n",
            b"9 path=\0\n",
            b"x",
        ] {
            let mut t = block(b"h", b'x', body.len() as u64, false).to_vec();
            data(&mut t, body);
            t.extend_from_slice(&block(b"f", b'0', 0, false));
            let e = entries(&t, TarLimits::default()).unwrap_err();
            assert!(
                e.to_string().contains("bad PAX extended header"),
                "{body:?}: {e}"
            );
        }
    }

    /// "ab" at 0, "cd" at 10, size 14: the logical content.
    const EXPANDED: &str = "ab\0\0\0\0\0\0\0\0cd\0\0";

    #[test]
    fn old_gnu_sparse_with_extension_blocks() {
        let mut b = block(b"sparse", b'S', 4, true);
        let pairs: [(u64, u64); 2] = [(0, 2), (10, 2)];
        // the first in the header, the second in an extension block
        b[386..398].copy_from_slice(format!("{:011o}\0", pairs[0].0).as_bytes());
        b[398..410].copy_from_slice(format!("{:011o}\0", pairs[0].1).as_bytes());
        b[482] = 1;
        b[483..495].copy_from_slice(format!("{:011o}\0", 14).as_bytes());
        sum(&mut b);
        let mut ext = [0u8; 512];
        ext[0..12].copy_from_slice(format!("{:011o}\0", pairs[1].0).as_bytes());
        ext[12..24].copy_from_slice(format!("{:011o}\0", pairs[1].1).as_bytes());
        let mut t = b.to_vec();
        t.extend_from_slice(&ext);
        data(&mut t, b"abcd");
        t.extend_from_slice(&block(b"next", b'0', 1, false));
        data(&mut t, b"n");
        let got = entries(&t, TarLimits::default()).unwrap();
        assert_eq!(got[0], ("sparse".into(), EntryKind::File, EXPANDED.into()));
        assert_eq!(got[1].2, "n");
        // endless extension blocks are capped
        let mut t = b.to_vec();
        let mut ext = [0u8; 512];
        ext[504] = 1;
        for _ in 0..3000 {
            t.extend_from_slice(&ext);
        }
        let e = entries(&t, TarLimits::default()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("old GNU sparse map of \"sparse\""),
            "{e}"
        );
    }

    #[test]
    fn pax_sparse_formats() {
        // 0.0: repeated offset/numbytes records; the header holds the name
        let mut t = Vec::new();
        pax(
            &mut t,
            &[
                ("GNU.sparse.size", b"14"),
                ("GNU.sparse.numblocks", b"2"),
                ("GNU.sparse.offset", b"0"),
                ("GNU.sparse.numbytes", b"2"),
                ("GNU.sparse.offset", b"10"),
                ("GNU.sparse.numbytes", b"2"),
            ],
        );
        t.extend_from_slice(&block(b"v00", b'0', 4, false));
        data(&mut t, b"abcd");
        // 0.1: the map in one record; the name in GNU.sparse.name
        pax(
            &mut t,
            &[
                ("GNU.sparse.size", b"14"),
                ("GNU.sparse.numblocks", b"2"),
                ("GNU.sparse.name", b"v01"),
                ("GNU.sparse.map", b"0,2,10,2"),
            ],
        );
        t.extend_from_slice(&block(b"GNUSparseFile.1/v01", b'0', 4, false));
        data(&mut t, b"abcd");
        // 1.0: the map at the start of the data
        pax(
            &mut t,
            &[
                ("GNU.sparse.major", b"1"),
                ("GNU.sparse.minor", b"0"),
                ("GNU.sparse.name", b"v10"),
                ("GNU.sparse.realsize", b"14"),
            ],
        );
        let mut d = b"2\n0\n2\n10\n2\n".to_vec();
        d.resize(512, 0);
        d.extend_from_slice(b"abcd");
        t.extend_from_slice(&block(b"GNUSparseFile.1/v10", b'0', d.len() as u64, false));
        data(&mut t, &d);
        // an unknown version: framed, named, unreadable
        pax(
            &mut t,
            &[("GNU.sparse.major", b"2"), ("GNU.sparse.minor", b"0")],
        );
        t.extend_from_slice(&block(b"v20", b'0', 4, false));
        data(&mut t, b"abcd");
        t.extend_from_slice(&block(b"after", b'0', 1, false));
        data(&mut t, b"z");
        let got = entries(&t, TarLimits::default()).unwrap();
        let want = |n: &str| (n.to_string(), EntryKind::File, EXPANDED.to_string());
        assert_eq!(got[0], want("v00"));
        assert_eq!(got[1], want("v01"));
        assert_eq!(got[2], want("v10"));
        assert_eq!(
            got[3].2,
            "unreadable: GNU sparse format 2.0 is not one moat reads"
        );
        assert_eq!(got[4].2, "z");
    }

    #[test]
    fn unusable_sparse_maps_are_named_and_skipped() {
        for (map, why) in [
            ("10,2,0,2", "overlap or are out of order"),
            ("0,2,13,2", "past the file's size"),
            ("0,4,10,2", "needs 6 bytes of data, the entry holds 4"),
            ("0,2", "numblocks does not match"),
        ] {
            let mut t = Vec::new();
            pax(
                &mut t,
                &[
                    ("GNU.sparse.size", b"14"),
                    ("GNU.sparse.numblocks", b"2"),
                    ("GNU.sparse.map", map.as_bytes()),
                ],
            );
            t.extend_from_slice(&block(b"f", b'0', 4, false));
            data(&mut t, b"abcd");
            t.extend_from_slice(&block(b"g", b'0', 1, false));
            data(&mut t, b"g");
            let got = entries(&t, TarLimits::default()).unwrap();
            assert!(got[0].2.contains(why), "{map}: {got:?}");
            assert_eq!(got[1].2, "g");
        }
    }

    #[test]
    fn a_huge_sparse_file_costs_nothing_unless_read() {
        let mut t = Vec::new();
        pax(
            &mut t,
            &[
                ("GNU.sparse.major", b"1"),
                ("GNU.sparse.minor", b"0"),
                ("GNU.sparse.name", b"var/log/lastlog"),
                ("GNU.sparse.realsize", b"2147483648"),
            ],
        );
        let mut d = b"1\n2147483647\n1\n".to_vec();
        d.resize(512, 0);
        d.push(b'!');
        t.extend_from_slice(&block(
            b"GNUSparseFile.1/lastlog",
            b'0',
            d.len() as u64,
            false,
        ));
        data(&mut t, &d);
        let mut tar = TarReader::new(&t[..]);
        let h = tar.next_entry().unwrap().unwrap();
        assert_eq!(
            (h.size(), h.stored_size(), h.is_sparse()),
            (2 << 30, 513, true)
        );
        assert!(tar.next_entry().unwrap().is_none());
        // reading its tail gives the one data byte at the end
        let mut tar = TarReader::new(&t[..]);
        tar.next_entry().unwrap();
        let mut d = tar.data();
        let mut chunk = vec![0u8; 1 << 20];
        let mut total = 0u64;
        let mut last = 0u8;
        while total < (16 << 20) {
            let n = d.read(&mut chunk).unwrap();
            total += n as u64;
            last = chunk[n - 1];
        }
        assert_eq!(last, 0);
    }

    #[test]
    fn seekable_reader_gives_data_offsets() {
        let mut t = Vec::new();
        t.extend_from_slice(&block(b"a", b'0', 700, false));
        data(&mut t, &[b'a'; 700]);
        t.extend_from_slice(&block(b"b", b'0', 1, false));
        data(&mut t, b"b");
        let mut tar = TarReader::seekable(io::Cursor::new(&t));
        let mut seen = Vec::new();
        while let Some(h) = tar.next_entry().unwrap() {
            seen.push((h.path().to_vec(), h.stored_size()));
            seen.push((vec![], h.data_offset()));
        }
        assert_eq!(
            seen,
            vec![
                (b"a".to_vec(), 700),
                (vec![], 512),
                (b"b".to_vec(), 1),
                (vec![], 512 * 4)
            ]
        );
    }
}

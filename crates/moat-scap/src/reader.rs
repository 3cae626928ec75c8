//! The block reader of Falco/sysdig capture files (`.scap`, pcapng-shaped).
//!
//! Block layout as libscap writes and reads it (falcosecurity/libs
//! `userspace/libscap/scap_savefile.h` for block type numbers and
//! `userspace/libscap/engine/savefile/scap_savefile.c` for each block's body): every block is
//! `u32 type, u32 total_length, body, u32 total_length`, little-endian. The section header
//! comes first (magic `0x1A2B3C4D`, major version 1); then machine info, process list (nine
//! versions), fd lists, interface list, user/group list blocks; then event blocks (with or
//! without a 32-bit flags word, with or without `nparams` in the event header). Unknown blocks
//! are skipped. Captures compressed with gzip (as the Falco test captures are) are
//! decompressed while reading.
//!
//! Bounded by construction: every length is checked against the bytes its block holds; a
//! block's bytes are read as they arrive (a header claiming a huge block allocates only what
//! the file really holds) and block lengths are capped; a truncated or hostile file is an
//! error naming the offset.

use std::fs::File;
use std::io::{BufReader, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use crate::error::{Result, ScapError};
use crate::event::Event;
use crate::event_table::{EF_LARGE_PAYLOAD, EVENT_MAX, EVENTS};

pub const SHB_BLOCK_TYPE: u32 = 0x0A0D_0D0A;
pub const SHB_MAGIC: u32 = 0x1A2B_3C4D;
const MI_BLOCK_TYPE: u32 = 0x201;
const MI_BLOCK_TYPE_INT: u32 = 0x8002_ABCD;
const PL_V1: u32 = 0x202;
const PL_V1_INT: u32 = 0x8000_ABCD;
const PL_V2: u32 = 0x207;
const PL_V2_INT: u32 = 0x8013_ABCD;
const PL_V3: u32 = 0x209;
const PL_V3_INT: u32 = 0x8014_ABCD;
const PL_V4: u32 = 0x210;
const PL_V5: u32 = 0x211;
const PL_V6: u32 = 0x212;
const PL_V7: u32 = 0x213;
const PL_V8: u32 = 0x214;
const PL_V9: u32 = 0x215;
const FDL_BLOCK_TYPE: u32 = 0x203;
const FDL_BLOCK_TYPE_INT: u32 = 0x8001_ABCD;
const FDL_BLOCK_TYPE_V2: u32 = 0x218;
const EV_BLOCK_TYPE: u32 = 0x204;
const EV_BLOCK_TYPE_INT: u32 = 0x8010_ABCD;
const EV_BLOCK_TYPE_V2: u32 = 0x216;
const EV_BLOCK_TYPE_V2_LARGE: u32 = 0x221;
const IL_BLOCK_TYPE: u32 = 0x205;
const IL_BLOCK_TYPE_INT: u32 = 0x8011_ABCD;
const IL_BLOCK_TYPE_V2: u32 = 0x219;
const UL_BLOCK_TYPE: u32 = 0x206;
const UL_BLOCK_TYPE_INT: u32 = 0x8012_ABCD;
const UL_BLOCK_TYPE_V2: u32 = 0x220;
const EVF_BLOCK_TYPE: u32 = 0x208;
const EVF_BLOCK_TYPE_V2: u32 = 0x217;
const EVF_BLOCK_TYPE_V2_LARGE: u32 = 0x222;

/// Largest event block of the non-large types (libscap's reader buffer, 64 KiB).
const MAX_EVENT_BLOCK: u32 = 1 << 16;
/// Largest block of any other type this reader accepts.
pub const MAX_BLOCK: u32 = 256 << 20;
/// Event codes whose length old captures store 3 bytes too long (libscap corrects them).
const PPME_NOTIFICATION_E: u16 = 280;
const PPME_INFRASTRUCTURE_EVENT_E: u16 = 286;
/// Longest string field of the process list (libscap's `SCAP_MAX_PATH_SIZE` and friends are
/// smaller; this only bounds hostile input).
const MAX_STR: usize = 1 << 16;

/// The section header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SectionHeader {
    pub major: u16,
    pub minor: u16,
}

/// The machine info block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MachineInfo {
    pub num_cpus: u32,
    pub memory_bytes: u64,
    pub max_pid: u64,
    pub hostname: Vec<u8>,
    pub boot_ts: u64,
}

/// One entry of the process list (a thread, as /proc showed it when the capture started).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcEntry {
    pub tid: i64,
    pub pid: i64,
    pub ptid: i64,
    pub sid: i64,
    pub vpgid: i64,
    pub pgid: i64,
    pub comm: Vec<u8>,
    pub exe: Vec<u8>,
    pub exepath: Vec<u8>,
    /// Arguments after argv[0], each NUL-terminated.
    pub args: Vec<u8>,
    pub cwd: Vec<u8>,
    pub fdlimit: u64,
    pub flags: u32,
    pub uid: u32,
    pub gid: u32,
    pub env: Vec<u8>,
    pub vtid: i64,
    pub vpid: i64,
    /// `subsystem=path` entries, each NUL-terminated.
    pub cgroups: Vec<u8>,
    pub root: Vec<u8>,
    pub pidns_init_start_ts: u64,
    pub tty: u32,
    pub loginuid: u32,
    pub exe_writable: bool,
    pub cap_inheritable: u64,
    pub cap_permitted: u64,
    pub cap_effective: u64,
    pub exe_upper_layer: bool,
    pub exe_ino: u64,
    pub exe_ino_ctime: u64,
    pub exe_ino_mtime: u64,
    pub exe_from_memfd: bool,
    pub exe_lower_layer: bool,
}

/// fd types of the capture (`scap_fd_type` in falcosecurity/libs `userspace/libscap/scap.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FdKind {
    #[default]
    Unknown,
    File,
    Directory,
    Ipv4Sock,
    Ipv6Sock,
    Ipv4ServSock,
    Ipv6ServSock,
    Fifo,
    UnixSock,
    Event,
    Unsupported,
    Signalfd,
    Eventpoll,
    Inotify,
    Timerfd,
    Netlink,
    Bpf,
    Userfaultfd,
    IoUring,
    Memfd,
    Pidfd,
}

impl FdKind {
    fn from_code(c: u8) -> Option<FdKind> {
        Some(match c {
            0 => FdKind::Unknown,
            1 | 16 => FdKind::File,
            2 => FdKind::Directory,
            3 => FdKind::Ipv4Sock,
            4 => FdKind::Ipv6Sock,
            5 => FdKind::Ipv4ServSock,
            6 => FdKind::Ipv6ServSock,
            7 => FdKind::Fifo,
            8 => FdKind::UnixSock,
            9 => FdKind::Event,
            10 => FdKind::Unsupported,
            11 => FdKind::Signalfd,
            12 => FdKind::Eventpoll,
            13 => FdKind::Inotify,
            14 => FdKind::Timerfd,
            15 => FdKind::Netlink,
            17 => FdKind::Bpf,
            18 => FdKind::Userfaultfd,
            19 => FdKind::IoUring,
            20 => FdKind::Memfd,
            21 => FdKind::Pidfd,
            _ => return None,
        })
    }
}

/// One entry of an fd list block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FdEntry {
    pub tid: i64,
    pub fd: i64,
    pub ino: u64,
    pub kind: FdKind,
    /// File name, unix socket path, or empty.
    pub name: Vec<u8>,
    /// Open flags of files (`PPM_O_*`), 0 when not recorded.
    pub open_flags: u32,
    /// Source / destination (or the server's own address) of inet sockets.
    pub sip: Option<IpAddr>,
    pub dip: Option<IpAddr>,
    pub sport: u16,
    pub dport: u16,
    pub l4proto: u8,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct User {
    pub uid: u32,
    pub gid: u32,
    pub name: Vec<u8>,
    pub home: Vec<u8>,
    pub shell: Vec<u8>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Group {
    pub gid: u32,
    pub name: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    pub name: Vec<u8>,
    pub addr: IpAddr,
    pub netmask: IpAddr,
}

/// Everything the metadata blocks say.
#[derive(Debug, Clone, Default)]
pub struct Metadata {
    pub header: SectionHeader,
    pub machine: Option<MachineInfo>,
    pub procs: Vec<ProcEntry>,
    pub fds: Vec<FdEntry>,
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    pub interfaces: Vec<Interface>,
    /// Block types seen, with how many of each (in order of first appearance).
    pub blocks: Vec<(u32, u64)>,
    /// Blocks of unknown types that were skipped.
    pub skipped_blocks: u64,
}

impl Metadata {
    fn count_block(&mut self, ty: u32) {
        match self.blocks.iter_mut().find(|(t, _)| *t == ty) {
            Some((_, n)) => *n += 1,
            None => self.blocks.push((ty, 1)),
        }
    }
}

/// Reads a capture: the metadata when opened, then one event at a time.
pub struct Reader<R> {
    src: R,
    file: String,
    offset: u64,
    meta: Metadata,
    block: Vec<u8>,
    /// The header of the first event block, read while looking for the end of the metadata.
    pending: Option<(u32, u32, u64)>,
    events: u64,
    /// Events skipped because their code is beyond the event table.
    pub skipped_events: u64,
    /// Set when the capture ended inside a block (see [`Reader::truncated`]).
    truncated: bool,
}

/// Opens a capture file (plain or gzip-compressed).
pub fn open(path: &Path) -> Result<Reader<Box<dyn Read + Send>>> {
    let name = path.display().to_string();
    let f = File::open(path).map_err(|source| ScapError::Io {
        file: name.clone(),
        source,
    })?;
    let mut br = BufReader::with_capacity(1 << 16, f);
    let gz = {
        use std::io::BufRead;
        let head = br.fill_buf().map_err(|source| ScapError::Io {
            file: name.clone(),
            source,
        })?;
        head.starts_with(&[0x1f, 0x8b])
    };
    let src: Box<dyn Read + Send> = if gz {
        Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::read::MultiGzDecoder::new(br),
        ))
    } else {
        Box::new(br)
    };
    Reader::new(src, name)
}

/// Opens a capture held in memory (plain or gzip-compressed).
pub fn from_bytes<'a>(bytes: &'a [u8], name: &str) -> Result<Reader<Box<dyn Read + 'a>>> {
    let src: Box<dyn Read + 'a> = if bytes.starts_with(&[0x1f, 0x8b]) {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(bytes)))
    } else {
        Box::new(bytes)
    };
    Reader::new(src, name.to_string())
}

/// A bounds-checked little-endian cursor over a block body; errors name the file offset.
struct Cur<'a> {
    b: &'a [u8],
    pos: usize,
    base: u64,
}

impl<'a> Cur<'a> {
    fn new(b: &'a [u8], base: u64) -> Self {
        Cur { b, pos: 0, base }
    }
    fn left(&self) -> usize {
        self.b.len() - self.pos
    }
    fn off(&self) -> u64 {
        self.base + self.pos as u64
    }
    fn take(&mut self, n: usize, what: &str) -> std::result::Result<&'a [u8], (u64, String)> {
        if n > self.left() {
            return Err((
                self.off(),
                format!(
                    "{what}: needs {n} bytes, the block has {} left",
                    self.left()
                ),
            ));
        }
        let s = &self.b[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u8(&mut self, what: &str) -> std::result::Result<u8, (u64, String)> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &str) -> std::result::Result<u16, (u64, String)> {
        let s = self.take(2, what)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }
    fn u32(&mut self, what: &str) -> std::result::Result<u32, (u64, String)> {
        let s = self.take(4, what)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn u64(&mut self, what: &str) -> std::result::Result<u64, (u64, String)> {
        let s = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(u64::from_le_bytes(a))
    }
    fn i64(&mut self, what: &str) -> std::result::Result<i64, (u64, String)> {
        Ok(self.u64(what)? as i64)
    }
    /// A `u16` length and that many bytes; the bytes stop at a NUL if there is one.
    fn str16(&mut self, what: &str, max: usize) -> std::result::Result<Vec<u8>, (u64, String)> {
        let at = self.off();
        let n = usize::from(self.u16(what)?);
        if n > max {
            return Err((at, format!("{what}: length {n} is over the limit {max}")));
        }
        Ok(self.take(n, what)?.to_vec())
    }
}

type CurResult<T> = std::result::Result<T, (u64, String)>;

fn strip_nul(mut v: Vec<u8>) -> Vec<u8> {
    if let Some(n) = v.iter().position(|&c| c == 0) {
        v.truncate(n);
    }
    v
}

impl<R: Read> Reader<R> {
    /// Reads the section header and the metadata blocks up to the first event block.
    pub fn new(src: R, file: String) -> Result<Self> {
        let mut r = Reader {
            src,
            file,
            offset: 0,
            meta: Metadata::default(),
            block: Vec::new(),
            pending: None,
            events: 0,
            skipped_events: 0,
            truncated: false,
        };
        let Some((ty, len, at)) = r.read_block_header()? else {
            return Err(r.fmt_err(0, "empty file: no section header".into()));
        };
        if ty != SHB_BLOCK_TYPE {
            return Err(r.fmt_err(
                at,
                format!("not a capture: first block type {ty:#x}, expected the section header"),
            ));
        }
        r.read_block_body(len, at, MAX_BLOCK)?;
        r.meta.count_block(ty);
        let body = std::mem::take(&mut r.block);
        let res = r.parse_section_header(&body, at + 8);
        r.block = body;
        res?;
        loop {
            let Some((ty, len, at)) = r.read_block_header()? else {
                return Ok(r);
            };
            if is_event_block(ty) {
                r.pending = Some((ty, len, at));
                return Ok(r);
            }
            r.metadata_block(ty, len, at)?;
        }
    }

    /// The metadata read so far (the blocks before the first event, and any met later).
    pub fn metadata(&self) -> &Metadata {
        &self.meta
    }

    /// The file name errors use.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Events returned so far.
    pub fn events_read(&self) -> u64 {
        self.events
    }

    /// Whether the last error was the capture ending inside a block (a file cut while it was
    /// written or copied): the events before it are whole, and a caller may keep them.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    fn fmt_err(&self, offset: u64, problem: String) -> ScapError {
        ScapError::Format {
            file: self.file.clone(),
            offset,
            problem,
        }
    }

    fn io_err(&self, source: std::io::Error) -> ScapError {
        ScapError::Io {
            file: self.file.clone(),
            source,
        }
    }

    /// Reads up to 8 bytes of a block header: `None` at a clean end of file.
    fn read_block_header(&mut self) -> Result<Option<(u32, u32, u64)>> {
        let at = self.offset;
        let mut h = [0u8; 8];
        let mut got = 0;
        while got < 8 {
            match self.src.read(&mut h[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io_err(e)),
            }
        }
        self.offset += got as u64;
        if got == 0 {
            return Ok(None);
        }
        if got < 8 {
            self.truncated = true;
            return Err(self.fmt_err(at, format!("truncated block header: {got} of 8 bytes")));
        }
        let ty = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
        let len = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
        Ok(Some((ty, len, at)))
    }

    /// Reads the rest of a block (body and trailer) into `self.block`, checks the trailer and
    /// leaves only the body there.
    fn read_block_body(&mut self, len: u32, at: u64, cap: u32) -> Result<()> {
        if len < 12 {
            return Err(self.fmt_err(
                at,
                format!("block length {len} is shorter than a block header and trailer (12)"),
            ));
        }
        if len > cap {
            return Err(self.fmt_err(at, format!("block length {len} is over the limit {cap}")));
        }
        let want = u64::from(len - 8);
        self.block.clear();
        let got = if len <= MAX_EVENT_BLOCK + 8 {
            // Small blocks (every non-large event block): one buffer of the claimed size.
            self.block.resize(want as usize, 0);
            let mut got = 0;
            while got < self.block.len() {
                match self.src.read(&mut self.block[got..]) {
                    Ok(0) => break,
                    Ok(n) => got += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(self.io_err(e)),
                }
            }
            self.block.truncate(got);
            got
        } else {
            // Larger ones grow with the bytes actually there, so a lying header costs nothing.
            (&mut self.src)
                .take(want)
                .read_to_end(&mut self.block)
                .map_err(|e| self.io_err(e))?
        };
        self.offset += got as u64;
        if (got as u64) < want {
            self.truncated = true;
            return Err(self.fmt_err(
                at,
                format!(
                    "truncated block: length {len}, only {} bytes in the file",
                    got + 8
                ),
            ));
        }
        let n = self.block.len();
        let trailer = u32::from_le_bytes([
            self.block[n - 4],
            self.block[n - 3],
            self.block[n - 2],
            self.block[n - 1],
        ]);
        if trailer != len {
            return Err(self.fmt_err(
                at + u64::from(len) - 4,
                format!("block trailer length {trailer} differs from the header's {len}"),
            ));
        }
        self.block.truncate(n - 4);
        Ok(())
    }

    fn parse_section_header(&mut self, body: &[u8], base: u64) -> Result<()> {
        let mut c = Cur::new(body, base);
        let res: CurResult<()> = (|| {
            let magic = c.u32("section header magic")?;
            if magic == SHB_MAGIC.swap_bytes() {
                return Err((base, "big-endian captures are not supported".to_string()));
            }
            if magic != SHB_MAGIC {
                return Err((base, format!("bad section header magic {magic:#x}")));
            }
            let major = c.u16("major version")?;
            let minor = c.u16("minor version")?;
            c.u64("section length")?;
            if major > 1 {
                return Err((
                    base + 4,
                    format!(
                        "capture format version {major}.{minor} is newer than this reader (1.x)"
                    ),
                ));
            }
            self.meta.header = SectionHeader { major, minor };
            Ok(())
        })();
        res.map_err(|(o, p)| self.fmt_err(o, p))
    }

    fn metadata_block(&mut self, ty: u32, len: u32, at: u64) -> Result<()> {
        self.read_block_body(len, at, MAX_BLOCK)?;
        self.meta.count_block(ty);
        let body = std::mem::take(&mut self.block);
        let base = at + 8;
        let res = match ty {
            MI_BLOCK_TYPE | MI_BLOCK_TYPE_INT => {
                parse_machine(&body, base).map(|m| self.meta.machine = Some(m))
            }
            PL_V1 | PL_V1_INT | PL_V2 | PL_V2_INT | PL_V3 | PL_V3_INT | PL_V4 | PL_V5 | PL_V6
            | PL_V7 | PL_V8 | PL_V9 => parse_proclist(&body, base, ty, &mut self.meta.procs),
            FDL_BLOCK_TYPE | FDL_BLOCK_TYPE_INT | FDL_BLOCK_TYPE_V2 => {
                parse_fdlist(&body, base, ty == FDL_BLOCK_TYPE_V2, &mut self.meta.fds)
            }
            IL_BLOCK_TYPE | IL_BLOCK_TYPE_INT | IL_BLOCK_TYPE_V2 => parse_iflist(
                &body,
                base,
                ty == IL_BLOCK_TYPE_V2,
                &mut self.meta.interfaces,
            ),
            UL_BLOCK_TYPE | UL_BLOCK_TYPE_INT | UL_BLOCK_TYPE_V2 => parse_userlist(
                &body,
                base,
                ty == UL_BLOCK_TYPE_V2,
                &mut self.meta.users,
                &mut self.meta.groups,
            ),
            SHB_BLOCK_TYPE => self.parse_section_header(&body, base).map_err(|e| match e {
                ScapError::Format {
                    offset, problem, ..
                } => (offset, problem),
                ScapError::Io { source, .. } => (base, source.to_string()),
            }),
            _ => {
                self.meta.skipped_blocks += 1;
                Ok(())
            }
        };
        self.block = body;
        res.map_err(|(o, p)| self.fmt_err(o, p))
    }

    /// Reads the next event into `ev` (its buffers are reused). `Ok(false)` at the end of the
    /// capture. Metadata blocks met between events are read into [`Reader::metadata`].
    pub fn next_event(&mut self, ev: &mut Event) -> Result<bool> {
        let res = self.next_event_inner(ev);
        if let Err(ScapError::Io { source, .. }) = &res
            && source.kind() == std::io::ErrorKind::UnexpectedEof
        {
            // A gzip stream that stops mid-member.
            self.truncated = true;
        }
        res
    }

    fn next_event_inner(&mut self, ev: &mut Event) -> Result<bool> {
        loop {
            let (ty, len, at) = match self.pending.take() {
                Some(h) => h,
                None => match self.read_block_header()? {
                    Some(h) => h,
                    None => return Ok(false),
                },
            };
            if !is_event_block(ty) {
                self.metadata_block(ty, len, at)?;
                continue;
            }
            let large = matches!(ty, EV_BLOCK_TYPE_V2_LARGE | EVF_BLOCK_TYPE_V2_LARGE);
            let cap = if large {
                MAX_BLOCK
            } else {
                MAX_EVENT_BLOCK + 8
            };
            // Read straight into the event's buffer.
            std::mem::swap(&mut self.block, &mut ev.buf);
            let res = self.read_block_body(len, at, cap);
            std::mem::swap(&mut self.block, &mut ev.buf);
            res?;
            self.meta.count_block(ty);
            match decode_event_block(ty, ev, at + 8) {
                Ok(true) => {
                    self.events += 1;
                    ev.num = self.events;
                    ev.thread = None;
                    ev.fd = None;
                    ev.fd_num = None;
                    return Ok(true);
                }
                Ok(false) => {
                    self.skipped_events += 1;
                    continue;
                }
                Err((o, p)) => return Err(self.fmt_err(o, p)),
            }
        }
    }
}

fn is_event_block(ty: u32) -> bool {
    matches!(
        ty,
        EV_BLOCK_TYPE
            | EV_BLOCK_TYPE_INT
            | EV_BLOCK_TYPE_V2
            | EV_BLOCK_TYPE_V2_LARGE
            | EVF_BLOCK_TYPE
            | EVF_BLOCK_TYPE_V2
            | EVF_BLOCK_TYPE_V2_LARGE
    )
}

/// Decodes the event in `ev.buf` (a block body): header fields and parameter offsets.
/// `Ok(false)`: an event code beyond the table (skipped, as libscap does).
fn decode_event_block(ty: u32, ev: &mut Event, base: u64) -> CurResult<bool> {
    let v2 = matches!(
        ty,
        EV_BLOCK_TYPE_V2 | EV_BLOCK_TYPE_V2_LARGE | EVF_BLOCK_TYPE_V2 | EVF_BLOCK_TYPE_V2_LARGE
    );
    let with_flags = matches!(
        ty,
        EVF_BLOCK_TYPE | EVF_BLOCK_TYPE_V2 | EVF_BLOCK_TYPE_V2_LARGE
    );
    let buf = &ev.buf;
    let mut c = Cur::new(buf, base);
    ev.cpu = c.u16("event cpu id")?;
    ev.flags = if with_flags { c.u32("event flags")? } else { 0 };
    let start = c.pos;
    ev.ts = c.u64("event timestamp")?;
    ev.tid = c.i64("event thread id")?;
    let len_at = c.off();
    let evlen = c.u32("event length")? as usize;
    let code = c.u16("event type")?;
    let hdr_len = if v2 { 26 } else { 22 };
    let nparams_hdr = if v2 {
        Some(c.u32("event parameter count")?)
    } else {
        None
    };
    let avail = buf.len() - start;
    if evlen < hdr_len {
        return Err((
            len_at,
            format!("event length {evlen} is shorter than the event header ({hdr_len})"),
        ));
    }
    if evlen > avail {
        return Err((
            len_at,
            format!("event length {evlen} is over the {avail} bytes of its block"),
        ));
    }
    if code >= EVENT_MAX {
        return Ok(false);
    }
    ev.code = code;
    let mut end = start + evlen;
    let lens_at = start + hdr_len;
    let info = &EVENTS[usize::from(code)];
    ev.params.clear();
    match nparams_hdr {
        Some(n) => {
            let lsize = if info.flags & EF_LARGE_PAYLOAD != 0 {
                4
            } else {
                2
            };
            let n = n as usize;
            if n.saturating_mul(lsize) > end - lens_at {
                return Err((
                    len_at,
                    format!("{n} parameters do not fit in event length {evlen}"),
                ));
            }
            let mut p = lens_at + n * lsize;
            for i in 0..n {
                let l = if lsize == 4 {
                    let o = lens_at + i * 4;
                    u32::from_le_bytes([buf[o], buf[o + 1], buf[o + 2], buf[o + 3]]) as usize
                } else {
                    let o = lens_at + i * 2;
                    usize::from(u16::from_le_bytes([buf[o], buf[o + 1]]))
                };
                if l > end - p {
                    return Err((
                        base + (lens_at + i * lsize) as u64,
                        format!("parameter {i} length {l} is over the event's end"),
                    ));
                }
                ev.params.push((p as u32, l as u32));
                p += l;
            }
        }
        None => {
            if (code == PPME_NOTIFICATION_E || code == PPME_INFRASTRUCTURE_EVENT_E)
                && end >= lens_at + 3
            {
                end -= 3;
            }
            // Old event headers do not say how many parameters follow: take the most the table
            // allows whose lengths add up exactly to the event's end (libscap's rule).
            let mut found = None;
            for n in (0..=info.params.len()).rev() {
                let vals = lens_at + 2 * n;
                if vals > end {
                    continue;
                }
                let mut total = 0usize;
                for i in 0..n {
                    let o = lens_at + 2 * i;
                    total += usize::from(u16::from_le_bytes([buf[o], buf[o + 1]]));
                }
                if vals + total < end {
                    return Err((
                        len_at,
                        format!("event length {evlen} does not match its parameters (code {code})"),
                    ));
                }
                if vals + total == end {
                    found = Some(n);
                    break;
                }
            }
            let Some(n) = found else {
                return Err((
                    len_at,
                    format!(
                        "cannot work out the parameters of event code {code} from length {evlen}"
                    ),
                ));
            };
            let mut p = lens_at + 2 * n;
            for i in 0..n {
                let o = lens_at + 2 * i;
                let l = usize::from(u16::from_le_bytes([buf[o], buf[o + 1]]));
                ev.params.push((p as u32, l as u32));
                p += l;
            }
        }
    }
    Ok(true)
}

fn parse_machine(b: &[u8], base: u64) -> CurResult<MachineInfo> {
    let mut c = Cur::new(b, base);
    let num_cpus = c.u32("machine info cpus")?;
    let memory_bytes = c.u64("machine info memory")?;
    let max_pid = c.u64("machine info max pid")?;
    let hostname = strip_nul(c.take(128, "machine info hostname")?.to_vec());
    let boot_ts = if c.left() >= 8 {
        c.u64("boot time")?
    } else {
        0
    };
    Ok(MachineInfo {
        num_cpus,
        memory_bytes,
        max_pid,
        hostname,
        boot_ts,
    })
}

fn parse_proclist(b: &[u8], base: u64, ty: u32, out: &mut Vec<ProcEntry>) -> CurResult<()> {
    let mut c = Cur::new(b, base);
    let ver = match ty {
        PL_V1 | PL_V1_INT => 1,
        PL_V2 | PL_V2_INT => 2,
        PL_V3 | PL_V3_INT => 3,
        PL_V4 => 4,
        PL_V5 => 5,
        PL_V6 => 6,
        PL_V7 => 7,
        PL_V8 => 8,
        _ => 9,
    };
    while c.left() >= 4 {
        let entry_at = c.pos;
        let sub_len = if ver >= 9 {
            c.u32("process entry length")? as usize
        } else {
            0
        };
        if sub_len != 0 && sub_len > c.left() + 4 {
            return Err((
                c.off() - 4,
                format!("process entry length {sub_len} is over the block's end"),
            ));
        }
        let mut t = ProcEntry {
            loginuid: u32::MAX,
            vtid: -1,
            vpid: -1,
            sid: -1,
            vpgid: -1,
            pgid: -1,
            ..Default::default()
        };
        t.tid = c.i64("tid")?;
        t.pid = c.i64("pid")?;
        t.ptid = c.i64("ptid")?;
        if ver >= 6 {
            t.sid = c.i64("sid")?;
        }
        if ver >= 8 {
            t.vpgid = c.i64("vpgid")?;
        }
        t.comm = strip_nul(c.str16("comm", MAX_STR)?);
        t.exe = strip_nul(c.str16("exe", MAX_STR)?);
        if ver >= 7 {
            t.exepath = strip_nul(c.str16("exepath", MAX_STR)?);
        }
        t.args = c.str16("args", MAX_STR)?;
        t.cwd = strip_nul(c.str16("cwd", MAX_STR)?);
        t.fdlimit = c.u64("fdlimit")?;
        t.flags = c.u32("flags")?;
        t.uid = c.u32("uid")?;
        t.gid = c.u32("gid")?;
        if ver >= 2 {
            c.u32("vmsize")?;
            c.u32("vmrss")?;
            c.u32("vmswap")?;
            c.u64("pfmajor")?;
            c.u64("pfminor")?;
            if ver >= 3 {
                t.env = c.str16("env", MAX_STR)?;
            }
            if ver >= 4 {
                t.vtid = c.i64("vtid")?;
                t.vpid = c.i64("vpid")?;
                t.cgroups = c.str16("cgroups", MAX_STR)?;
                if ver >= 5 {
                    t.root = strip_nul(c.str16("root", MAX_STR)?);
                }
            }
        }
        if sub_len != 0 {
            // Later fields exist only when the entry's length leaves room for them. Captures
            // from libs before 0.10 have at most 29 more bytes and lack the first two.
            let entry_end = entry_at + sub_len;
            let room = |c: &Cur, n: usize| c.pos + n <= entry_end;
            let pre_0_10 = entry_end.saturating_sub(c.pos) <= 29;
            if !pre_0_10 {
                if room(&c, 8) {
                    t.pidns_init_start_ts = c.u64("pidns_init_start_ts")?;
                }
                if room(&c, 4) {
                    t.tty = c.u32("tty")?;
                }
            }
            if room(&c, 4) {
                t.loginuid = c.u32("loginuid")?;
            }
            if room(&c, 1) {
                t.exe_writable = c.u8("exe_writable")? != 0;
            }
            if room(&c, 8) {
                t.cap_inheritable = c.u64("cap_inheritable")?;
            }
            if room(&c, 8) {
                t.cap_permitted = c.u64("cap_permitted")?;
            }
            if room(&c, 8) {
                t.cap_effective = c.u64("cap_effective")?;
            }
            if room(&c, 1) {
                t.exe_upper_layer = c.u8("exe_upper_layer")? != 0;
            }
            if room(&c, 8) {
                t.exe_ino = c.u64("exe_ino")?;
            }
            if room(&c, 8) {
                t.exe_ino_ctime = c.u64("exe_ino_ctime")?;
            }
            if room(&c, 8) {
                t.exe_ino_mtime = c.u64("exe_ino_mtime")?;
            }
            if room(&c, 1) {
                t.exe_from_memfd = c.u8("exe_from_memfd")? != 0;
            }
            if room(&c, 1) {
                t.exe_lower_layer = c.u8("exe_lower_layer")? != 0;
            }
            if room(&c, 8) {
                t.pgid = c.i64("pgid")?;
            }
            if c.pos > entry_end {
                return Err((
                    base + entry_at as u64,
                    format!("process entry read past its length {sub_len}"),
                ));
            }
            let skip = entry_end - c.pos;
            c.take(skip, "process entry padding")?;
        }
        out.push(t);
    }
    Ok(())
}

fn parse_fdlist(b: &[u8], base: u64, v2: bool, out: &mut Vec<FdEntry>) -> CurResult<()> {
    let mut c = Cur::new(b, base);
    let tid = c.i64("fd list tid")?;
    while c.left() >= 4 {
        let entry_at = c.pos;
        let sub_len = if v2 {
            c.u32("fd entry length")? as usize
        } else {
            0
        };
        let mut e = FdEntry {
            tid,
            ..Default::default()
        };
        e.fd = c.i64("fd")?;
        e.ino = c.u64("fd inode")?;
        let code = c.u8("fd type")?;
        let kind = FdKind::from_code(code);
        e.kind = kind.unwrap_or(FdKind::Unsupported);
        match kind {
            Some(FdKind::Ipv4Sock) => {
                e.sip = Some(IpAddr::V4(Ipv4Addr::from(
                    <[u8; 4]>::try_from(c.take(4, "fd sip")?).unwrap_or_default(),
                )));
                e.dip = Some(IpAddr::V4(Ipv4Addr::from(
                    <[u8; 4]>::try_from(c.take(4, "fd dip")?).unwrap_or_default(),
                )));
                e.sport = c.u16("fd sport")?;
                e.dport = c.u16("fd dport")?;
                e.l4proto = c.u8("fd l4proto")?;
            }
            Some(FdKind::Ipv4ServSock) => {
                e.sip = Some(IpAddr::V4(Ipv4Addr::from(
                    <[u8; 4]>::try_from(c.take(4, "fd ip")?).unwrap_or_default(),
                )));
                e.sport = c.u16("fd port")?;
                e.l4proto = c.u8("fd l4proto")?;
            }
            Some(FdKind::Ipv6Sock) => {
                e.sip = Some(IpAddr::V6(Ipv6Addr::from(
                    <[u8; 16]>::try_from(c.take(16, "fd sip")?).unwrap_or_default(),
                )));
                e.dip = Some(IpAddr::V6(Ipv6Addr::from(
                    <[u8; 16]>::try_from(c.take(16, "fd dip")?).unwrap_or_default(),
                )));
                e.sport = c.u16("fd sport")?;
                e.dport = c.u16("fd dport")?;
                e.l4proto = c.u8("fd l4proto")?;
            }
            Some(FdKind::Ipv6ServSock) => {
                e.sip = Some(IpAddr::V6(Ipv6Addr::from(
                    <[u8; 16]>::try_from(c.take(16, "fd ip")?).unwrap_or_default(),
                )));
                e.sport = c.u16("fd port")?;
                e.l4proto = c.u8("fd l4proto")?;
            }
            Some(FdKind::UnixSock) => {
                c.u64("unix socket source")?;
                c.u64("unix socket destination")?;
                e.name = strip_nul(c.str16("unix socket path", MAX_STR)?);
            }
            Some(FdKind::File) if code == 16 => {
                e.open_flags = c.u32("fd open flags")?;
                e.name = strip_nul(c.str16("fd name", MAX_STR)?);
                if sub_len != 0 && c.pos - entry_at + 4 <= sub_len {
                    c.u32("fd dev")?;
                }
            }
            Some(FdKind::Unknown) => {}
            Some(_) => e.name = strip_nul(c.str16("fd name", MAX_STR)?),
            None => e.name = format!("unknown-type:[{code}]").into_bytes(),
        }
        if sub_len != 0 {
            let read = c.pos - entry_at;
            if read > sub_len {
                return Err((
                    base + entry_at as u64,
                    format!("fd entry read {read} bytes past its length {sub_len}"),
                ));
            }
            c.take(sub_len - read, "fd entry padding")?;
        }
        out.push(e);
    }
    Ok(())
}

fn parse_iflist(b: &[u8], base: u64, v2: bool, out: &mut Vec<Interface>) -> CurResult<()> {
    const IPV4: u16 = 1;
    const IPV6: u16 = 2;
    const IPV4_NOLINKSPEED: u16 = 3;
    const IPV6_NOLINKSPEED: u16 = 4;
    let mut c = Cur::new(b, base);
    while c.left() >= 4 {
        let entry_len = if v2 {
            Some(c.u32("interface entry length")? as usize)
        } else {
            None
        };
        let entry_at = c.pos;
        let at = c.off();
        let ty = c.u16("interface type")?;
        let namelen = usize::from(c.u16("interface name length")?);
        let (addr, netmask) = match ty {
            IPV4 | IPV4_NOLINKSPEED => {
                let a = <[u8; 4]>::try_from(c.take(4, "interface address")?).unwrap_or_default();
                let m = <[u8; 4]>::try_from(c.take(4, "interface netmask")?).unwrap_or_default();
                c.take(4, "interface broadcast")?;
                (IpAddr::V4(Ipv4Addr::from(a)), IpAddr::V4(Ipv4Addr::from(m)))
            }
            IPV6 | IPV6_NOLINKSPEED => {
                let a = <[u8; 16]>::try_from(c.take(16, "interface address")?).unwrap_or_default();
                let m = <[u8; 16]>::try_from(c.take(16, "interface netmask")?).unwrap_or_default();
                c.take(16, "interface broadcast")?;
                (IpAddr::V6(Ipv6Addr::from(a)), IpAddr::V6(Ipv6Addr::from(m)))
            }
            other => return Err((at, format!("unknown interface type {other}"))),
        };
        if matches!(ty, IPV4 | IPV6) {
            c.u64("interface link speed")?;
        }
        let name = strip_nul(c.take(namelen, "interface name")?.to_vec());
        if let Some(l) = entry_len {
            let read = c.pos - entry_at;
            if read > l {
                return Err((
                    at,
                    format!("interface entry read {read} bytes past its length {l}"),
                ));
            }
            c.take(l - read, "interface entry padding")?;
        }
        out.push(Interface {
            name,
            addr,
            netmask,
        });
    }
    Ok(())
}

fn parse_userlist(
    b: &[u8],
    base: u64,
    v2: bool,
    users: &mut Vec<User>,
    groups: &mut Vec<Group>,
) -> CurResult<()> {
    const USER: u8 = 0;
    const MAX_CRED: usize = 1024;
    let mut c = Cur::new(b, base);
    while c.left() >= 4 {
        let entry_at = c.pos;
        let sub_len = if v2 {
            c.u32("user entry length")? as usize
        } else {
            0
        };
        let ty = c.u8("user entry type")?;
        if ty == USER {
            let uid = c.u32("uid")?;
            let gid = c.u32("gid")?;
            let name = strip_nul(c.str16("user name", MAX_CRED)?);
            let home = strip_nul(c.str16("user home", MAX_CRED)?);
            let shell = strip_nul(c.str16("user shell", MAX_CRED)?);
            users.push(User {
                uid,
                gid,
                name,
                home,
                shell,
            });
        } else {
            let gid = c.u32("gid")?;
            let name = strip_nul(c.str16("group name", MAX_CRED)?);
            groups.push(Group { gid, name });
        }
        if sub_len != 0 {
            let read = c.pos - entry_at;
            if read > sub_len {
                return Err((
                    base + entry_at as u64,
                    format!("user entry read {read} bytes past its length {sub_len}"),
                ));
            }
            c.take(sub_len - read, "user entry padding")?;
        }
    }
    Ok(())
}

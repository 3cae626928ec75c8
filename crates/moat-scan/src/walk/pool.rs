//! The analysis threads of a scan, and the time budget they are held to.
//!
//! A scan starts one [`Pool`]: a few worker threads (the machine's parallelism, at least
//! 2, at most [`MAX_WORKERS`]) fed over one queue by the walkers of its layers. A walker
//! keeps reading its stream in order (a tar stream is sequential) and hands each wanted
//! file to the pool as a [`Job`]: the bytes it read, or for a directory target the file's
//! [`Place`], which the worker opens, sniffs and reads itself. A directory target's
//! directories are listed by the same workers ([`Task::List`]), each opened relative to its
//! parent's descriptor and held open ([`DirFd`], at most [`MAX_HELD_DIRS`] at once) so that
//! its files and subdirectories are opened by their names alone: the kernel resolves one
//! name, not every directory of a long path (`node_modules/a/node_modules/b/...`), which was
//! half of the CPU time of a tree of small files. Each walker owns a [`Feed`]: it numbers
//! what it hands over, keeps at most [`MAX_IN_FLIGHT_BYTES`] of read bytes and
//! [`MAX_IN_FLIGHT_JOBS`] jobs in flight (so memory stays bounded however fast it reads),
//! and puts the results back in its own order, so the facts are the same, in the same
//! order, as a walk on one thread would give.
//!
//! The per-file budget ([`crate::ScanOptions::analyzer_timeout`]): every analyzer call runs
//! in a worker's [`Slot`] with its start time. While a walker waits for results it looks at
//! the slots (the watchdog): a call over the budget is abandoned. Rust cannot stop a
//! thread, so the worker is detached (it exits if the call ever returns), the file is
//! handed to the pool again without that analyzer, whose place in the file's facts is a
//! `slow-file` warning saying it was abandoned, and a new worker takes the old one's place.
//! At most [`MAX_ABANDONED`] workers are replaced in one process: after that, an analyzer
//! that overruns is abandoned on that file and left out of every later file of the scan
//! (each gets a warning), and no thread is started. If no worker is left at all, the
//! walkers list directories themselves and the files still waiting get a warning each: the
//! scan always ends, and what it could not analyse is said file by file.
//!
//! Rejected alternatives: analysing on the walking thread (one core per layer; a stuck
//! analyzer stalls the scan, since the call cannot be preempted); a thread per analyzer
//! call (thousands of spawns for a tree of small files); rayon for the analyses (its
//! threads cannot be abandoned: a stuck call would hang the scope that waits for it).

use crate::analyzer::{Analyzer, Entry, Interest, MAX_SNIFF};
use crate::fact::{Fact, FileFacts, Tagged};
use moat_model::{Code, Diagnostic};
use rustix::fs::{AtFlags, FileType, Mode, OFlags, RawDir};
use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::time::{Duration, Instant};

/// Workers of one scan at most (and at least 2).
pub const MAX_WORKERS: usize = 8;
/// Workers replaced after an abandoned analyzer call, in one process.
pub const MAX_ABANDONED: usize = 4;
/// Bytes one walker may have read and handed over but not yet seen analysed (one file
/// larger than this goes alone).
pub const MAX_IN_FLIGHT_BYTES: usize = 64 << 20;
/// The read buffer of a streaming analyzer ([`Analyzer::streams`]).
const STREAM_BUFFER: usize = 256 << 10;
/// Jobs one walker may have handed over and not yet seen analysed.
pub const MAX_IN_FLIGHT_JOBS: usize = 4096;
/// Directories of directory targets held open at once in one process (each while files or
/// subdirectories of it wait to be opened); past it, a directory's entries are opened by
/// their full paths. Well under the usual limit of 1,024 open files.
pub const MAX_HELD_DIRS: usize = 256;
/// Directories one walker may have handed to the pool to list and not had back.
const MAX_LISTS_IN_FLIGHT: usize = 32;
/// The buffer a worker lists directories through (`getdents64`).
const DIR_BUFFER: usize = 32 << 10;

/// The directories held open now.
static HELD_DIRS: AtomicUsize = AtomicUsize::new(0);

/// A directory of a directory target, held open for its entries to be opened relative to it.
pub(crate) struct DirFd(OwnedFd);

impl DirFd {
    /// Holds `fd` open, unless [`MAX_HELD_DIRS`] are held already.
    pub(crate) fn hold(fd: OwnedFd) -> Option<Arc<DirFd>> {
        HELD_DIRS
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < MAX_HELD_DIRS).then_some(n + 1)
            })
            .ok()?;
        Some(Arc::new(DirFd(fd)))
    }
}

impl Drop for DirFd {
    fn drop(&mut self) {
        HELD_DIRS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Where a file or directory of a directory target is.
#[derive(Clone)]
pub(crate) enum Place {
    /// A name in a directory held open.
    In(Arc<DirFd>, OsString),
    /// A path (the root, or below a directory that could not be held open).
    Path(PathBuf),
}

impl Place {
    /// Opens it with `flags`, close-on-exec; a symlink in its last part is followed only
    /// when `follow`.
    fn open(&self, flags: OFlags, follow: bool) -> std::io::Result<OwnedFd> {
        let mut flags = flags | OFlags::CLOEXEC;
        if !follow {
            flags |= OFlags::NOFOLLOW;
        }
        let opened = match self {
            Place::In(dir, name) => {
                rustix::fs::openat(&dir.0, name.as_os_str(), flags, Mode::empty())
            }
            Place::Path(path) => {
                rustix::fs::openat(rustix::fs::CWD, path.as_path(), flags, Mode::empty())
            }
        };
        Ok(opened?)
    }
}

/// The workers replaced so far in this process.
static ABANDONED: AtomicUsize = AtomicUsize::new(0);

/// An analyzer as the workers share it.
pub type Shared = Arc<dyn Analyzer>;

/// Where a job's bytes are.
#[derive(Clone)]
pub(crate) enum Data {
    /// Read by the walker.
    Bytes(Arc<Vec<u8>>),
    /// A file of a directory target: the worker opens and reads it.
    File(Place),
}

/// A file as a walker offers it to the pool.
#[derive(Clone)]
pub(crate) struct Offer {
    pub path: String,
    pub mode: u32,
    pub size: u64,
    pub layer: Option<usize>,
    /// The interested analyzers (index into the pool's list), in registry order, as the
    /// walker's sniff left them.
    pub interested: Vec<(usize, Interest)>,
    pub data: Data,
}

/// One file for the analyzers that want it.
#[derive(Clone)]
pub(crate) struct Job {
    /// The walker's number for it.
    seq: usize,
    file: Offer,
    /// Analyzers abandoned on this file, with the warning that takes their place.
    skipped: Vec<(usize, String)>,
    /// Bytes it counts against the walker's budget.
    cost: usize,
    reply: mpsc::Sender<Reply>,
}

/// A directory for a worker to list.
pub(crate) struct List {
    /// Where it is opened.
    pub place: Place,
    /// Its path on disk (for messages, and for its entries if it cannot be held open).
    pub dir: PathBuf,
    /// Its path relative to the root, `/`-separated bytes (empty for the root).
    pub rel: Vec<u8>,
    pub depth: usize,
    reply: mpsc::Sender<Reply>,
}

/// What a directory holds, as a worker listed it.
pub(crate) struct Listing {
    pub dir: PathBuf,
    /// The directory held open for its entries, if it could be.
    pub held: Option<Arc<DirFd>>,
    pub rel: Vec<u8>,
    pub depth: usize,
    pub result: std::io::Result<Vec<Listed>>,
}

/// One entry of a [`Listing`].
pub(crate) struct Listed {
    pub name: OsString,
    pub kind: ListedKind,
}

pub(crate) enum ListedKind {
    Dir,
    /// A regular file: permission bits and size (0 and 0 when they cannot be read).
    File {
        mode: u32,
        size: u64,
    },
    Symlink(std::io::Result<PathBuf>),
    /// A device, FIFO or socket.
    Other,
    /// The entry's type could not be read.
    Error(std::io::Error),
}

enum Task {
    Analyze(Job),
    List(List),
}

/// What a worker made of a file.
pub(crate) enum Analysis {
    Read(FileFacts),
    /// Only sniffers were interested, and their sniffs said no.
    Declined,
}

enum Reply {
    Analyzed {
        seq: usize,
        cost: usize,
        result: std::io::Result<Analysis>,
    },
    Listed(Listing),
}

/// The analyzer call a worker is in.
struct Running {
    job: Arc<Job>,
    analyzer: usize,
    started: Instant,
}

/// A worker's state as the watchdog sees it.
#[derive(Default)]
struct Slot {
    running: Mutex<Option<Running>>,
    abandoned: AtomicBool,
    /// The worker's thread, joined when the pool is dropped.
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Slot {
    fn enter(&self, job: &Arc<Job>, analyzer: usize) {
        *lock(&self.running) = Some(Running {
            job: Arc::clone(job),
            analyzer,
            started: Instant::now(),
        });
    }

    /// Leaves the call; false when the watchdog abandoned it meanwhile.
    fn leave(&self) -> bool {
        let mut running = lock(&self.running);
        if self.abandoned.load(Ordering::SeqCst) {
            return false;
        }
        *running = None;
        true
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What the workers share.
struct Inner {
    analyzers: Vec<Shared>,
    /// Analyzers left out of the rest of the scan.
    disabled: Vec<AtomicBool>,
    tasks: Mutex<mpsc::Receiver<Task>>,
    /// The live (not abandoned) workers.
    slots: Mutex<Vec<Arc<Slot>>>,
    timeout: Option<Duration>,
    max_entry_bytes: u64,
    /// Workers replaced so far, and how many may be.
    replaced: &'static AtomicUsize,
    max_replaced: usize,
}

/// The analysis threads of one scan.
pub(crate) struct Pool {
    tasks: mpsc::Sender<Task>,
    inner: Arc<Inner>,
    /// What the walkers leave alone.
    skip: Arc<crate::PathSkip>,
}

impl Pool {
    /// A pool for `analyzers` with the machine's parallelism.
    pub(crate) fn new(
        analyzers: Vec<Shared>,
        timeout: Option<Duration>,
        max_entry_bytes: u64,
        skip: Arc<crate::PathSkip>,
    ) -> Pool {
        let workers = std::thread::available_parallelism()
            .map_or(2, usize::from)
            .clamp(2, MAX_WORKERS);
        let mut pool = Pool::with(
            analyzers,
            timeout,
            max_entry_bytes,
            workers,
            &ABANDONED,
            MAX_ABANDONED,
        );
        pool.skip = skip;
        pool
    }

    fn with(
        analyzers: Vec<Shared>,
        timeout: Option<Duration>,
        max_entry_bytes: u64,
        workers: usize,
        replaced: &'static AtomicUsize,
        max_replaced: usize,
    ) -> Pool {
        let (tx, rx) = mpsc::channel();
        let inner = Arc::new(Inner {
            disabled: analyzers.iter().map(|_| AtomicBool::new(false)).collect(),
            analyzers,
            tasks: Mutex::new(rx),
            slots: Mutex::new(Vec::new()),
            timeout,
            max_entry_bytes,
            replaced,
            max_replaced,
        });
        let pool = Pool {
            tasks: tx,
            inner,
            skip: Arc::default(),
        };
        {
            let mut slots = lock(&pool.inner.slots);
            for _ in 0..workers {
                pool.spawn(&mut slots);
            }
        }
        pool
    }

    pub(crate) fn analyzers(&self) -> &[Shared] {
        &self.inner.analyzers
    }

    pub(crate) fn max_entry_bytes(&self) -> u64 {
        self.inner.max_entry_bytes
    }

    /// The directories and files the walkers leave alone.
    pub(crate) fn skip(&self) -> &crate::PathSkip {
        &self.skip
    }

    /// Starts a worker (none when the system refuses a thread).
    fn spawn(&self, slots: &mut Vec<Arc<Slot>>) {
        let slot = Arc::new(Slot::default());
        let (inner, mine) = (Arc::clone(&self.inner), Arc::clone(&slot));
        let started = std::thread::Builder::new()
            .name("moat-analyze".into())
            .spawn(move || work(&inner, &mine));
        if let Ok(thread) = started {
            *lock(&slot.thread) = Some(thread);
            slots.push(slot);
        }
    }

    fn send(&self, task: Task) {
        // the receiver lives in `inner`, which this pool holds: sending cannot fail
        let _ = self.tasks.send(task);
    }

    /// The watchdog: abandons every analyzer call over the budget.
    fn watch(&self) {
        let Some(budget) = self.inner.timeout else {
            return;
        };
        let mut slots = lock(&self.inner.slots);
        let mut i = 0;
        while i < slots.len() {
            let over = {
                let mut running = lock(&slots[i].running);
                match &*running {
                    Some(r) if r.started.elapsed() > budget => {
                        slots[i].abandoned.store(true, Ordering::SeqCst);
                        running.take()
                    }
                    _ => None,
                }
            };
            match over {
                Some(run) => {
                    slots.swap_remove(i);
                    self.abandon(run, budget, &mut slots);
                }
                None => i += 1,
            }
        }
    }

    /// Hands the file of an abandoned call to the pool again without that analyzer, and
    /// replaces the worker while the process may.
    fn abandon(&self, run: Running, budget: Duration, slots: &mut Vec<Arc<Slot>>) {
        let inner = &self.inner;
        let id = inner.analyzers[run.analyzer].info().id;
        let replace = inner
            .replaced
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < inner.max_replaced).then_some(n + 1)
            })
            .is_ok();
        let mut message = format!(
            "analyzer {id} was abandoned on this file after the per-file budget of {} (--analyzer-timeout); the scan went on without its result",
            span(budget)
        );
        if !replace {
            inner.disabled[run.analyzer].store(true, Ordering::SeqCst);
            message.push_str(&format!(
                ", and without it on the rest of the scan's files ({} analysis threads were abandoned already)",
                inner.max_replaced
            ));
        }
        let mut job = (*run.job).clone();
        job.skipped.push((run.analyzer, message));
        self.send(Task::Analyze(job));
        if replace {
            self.spawn(slots);
        }
    }

    /// With no worker left, does their work in a way that cannot stall: lists the
    /// directories waiting, and answers every file waiting with a warning per analyzer.
    fn rescue(&self) {
        if !lock(&self.inner.slots).is_empty() {
            return;
        }
        let Ok(tasks) = self.inner.tasks.try_lock() else {
            return;
        };
        while let Ok(task) = tasks.try_recv() {
            match task {
                Task::List(list) => {
                    let listing = list_dir(&list, &mut Vec::new());
                    let _ = list.reply.send(Reply::Listed(listing));
                }
                Task::Analyze(job) => {
                    let mut facts = FileFacts::default();
                    for &(i, _) in &job.file.interested {
                        let a = &self.inner.analyzers[i];
                        let message = match job.skipped.iter().find(|(k, _)| *k == i) {
                            Some((_, m)) => m.clone(),
                            None => format!(
                                "not analysed by {}: every analysis thread was abandoned on an earlier file (--analyzer-timeout)",
                                a.info().id
                            ),
                        };
                        facts.push(warning(a.as_ref(), message));
                    }
                    let _ = job.reply.send(Reply::Analyzed {
                        seq: job.seq,
                        cost: job.cost,
                        result: Ok(Analysis::Read(facts)),
                    });
                }
            }
        }
    }
}

/// How long a dropped pool waits for its workers to end.
const JOIN_BUDGET: Duration = Duration::from_secs(2);

impl Drop for Pool {
    /// Closes the queue, drops the tasks still in it, and joins the workers that end within
    /// [`JOIN_BUDGET`], so that no thread of this scan outlives it (and its thread-locals are
    /// gone). A worker still in an analyzer call (after a walk error, or abandoned by the
    /// watchdog) is left to end on its own: the queue is closed, so it takes no more work.
    fn drop(&mut self) {
        drop(std::mem::replace(&mut self.tasks, mpsc::channel().0));
        while lock(&self.inner.tasks).try_recv().is_ok() {}
        let mut threads: Vec<_> = lock(&self.inner.slots)
            .iter()
            .filter_map(|s| lock(&s.thread).take())
            .collect();
        let deadline = Instant::now() + JOIN_BUDGET;
        let mut spins = 0u32;
        while !threads.is_empty() && Instant::now() < deadline {
            let (done, running): (Vec<_>, Vec<_>) =
                threads.into_iter().partition(|t| t.is_finished());
            for t in done {
                let _ = t.join();
            }
            threads = running;
            // an idle worker ends within microseconds of the queue closing
            spins += 1;
            if spins < 1000 {
                std::thread::yield_now();
            } else if !threads.is_empty() {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

/// A duration for a message: `30.0 s` from a second up, `40 ms` below (a budget of 1 ms is
/// not "0.0 s").
fn span(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{:.1} s", d.as_secs_f64())
    } else if d >= Duration::from_millis(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{} µs", d.as_micros())
    }
}

/// A `slow-file` warning in the place of `a`'s fact.
fn warning(a: &dyn Analyzer, message: String) -> Tagged {
    Tagged {
        analyzer: a.info().id,
        scope: a.info().scope,
        fact: Fact::Diagnostic(Diagnostic::new(Code::SlowFile, message)),
    }
}

/// A worker: takes tasks until the pool is gone or its call is abandoned.
fn work(inner: &Inner, slot: &Slot) {
    let (mut buf, mut dir_buf) = (Vec::new(), Vec::new());
    loop {
        let task = lock(&inner.tasks).recv();
        let Ok(task) = task else {
            return;
        };
        match task {
            Task::List(list) => {
                let listing = list_dir(&list, &mut dir_buf);
                let _ = list.reply.send(Reply::Listed(listing));
            }
            Task::Analyze(job) => {
                let job = Arc::new(job);
                let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    analyze(inner, slot, &job, &mut buf)
                }));
                let result = match done {
                    Ok(Some(result)) => result,
                    // abandoned: the watchdog handed the file over again
                    Ok(None) => return,
                    Err(_) => {
                        if !slot.leave() {
                            return;
                        }
                        buf = Vec::new();
                        Err(std::io::Error::other("an analyzer failed (panicked) on it"))
                    }
                };
                if buf.capacity() > MAX_IN_FLIGHT_BYTES {
                    buf = Vec::new();
                }
                let _ = job.reply.send(Reply::Analyzed {
                    seq: job.seq,
                    cost: job.cost,
                    result,
                });
            }
        }
    }
}

/// Runs a job; `None` when its call was abandoned.
fn analyze(
    inner: &Inner,
    slot: &Slot,
    job: &Arc<Job>,
    buf: &mut Vec<u8>,
) -> Option<std::io::Result<Analysis>> {
    let file = &job.file;
    let e = Entry::new(&file.path, file.mode, file.size, file.layer);
    let mut interested = file.interested.clone();
    if let Data::File(place) = &file.data
        && let [(i, Interest::Yes)] = interested[..]
        && inner.analyzers[i].streams()
        && job.skipped.is_empty()
        && !inner.disabled[i].load(Ordering::SeqCst)
    {
        return stream(inner, slot, job, &e, place, i);
    }
    let data: &[u8] = match &file.data {
        Data::Bytes(b) => b.as_slice(),
        Data::File(place) => {
            let opened = open_regular(place).and_then(|(f, size)| {
                read_sized(
                    f,
                    Some(size),
                    &e,
                    &inner.analyzers,
                    &mut interested,
                    inner.max_entry_bytes,
                    buf,
                )
            });
            match opened {
                Ok(true) => buf.as_slice(),
                Ok(false) => return Some(Ok(Analysis::Declined)),
                Err(err) => return Some(Err(err)),
            }
        }
    };
    let mut facts = FileFacts::default();
    for &(i, _) in &interested {
        let a = inner.analyzers[i].as_ref();
        if let Some((_, message)) = job.skipped.iter().find(|(k, _)| *k == i) {
            facts.push(warning(a, message.clone()));
            continue;
        }
        if inner.disabled[i].load(Ordering::SeqCst) {
            facts.push(warning(
                a,
                format!(
                    "not analysed by {}: the analyzer was abandoned on an earlier file and moat abandons at most {} analysis threads (--analyzer-timeout)",
                    a.info().id,
                    inner.max_replaced
                ),
            ));
            continue;
        }
        slot.enter(job, i);
        let start = Instant::now();
        let fact = a.analyze(&e, data);
        if !slot.leave() {
            return None;
        }
        keep(inner, a, start, fact, &mut facts);
    }
    Some(Ok(Analysis::Read(facts)))
}

/// The facts of analyzer `a`'s call started at `start`: its fact, after a warning when it
/// took longer than the budget but was done before the watchdog looked (the result is kept).
fn keep(
    inner: &Inner,
    a: &dyn Analyzer,
    start: Instant,
    fact: Option<Fact>,
    facts: &mut FileFacts,
) {
    if let Some(budget) = inner.timeout
        && start.elapsed() > budget
    {
        facts.push(warning(
            a,
            format!(
                "analyzer {} took {} on this file, over the per-file budget of {} (--analyzer-timeout)",
                a.info().id,
                span(start.elapsed()),
                span(budget)
            ),
        ));
    }
    if let Some(fact) = fact {
        facts.push(Tagged {
            analyzer: a.info().id,
            scope: a.info().scope,
            fact,
        });
    }
}

/// Runs a job whose one analyzer [streams](Analyzer::streams) on the file of a directory
/// target, read through a small buffer (up to the same `max_entry_bytes` as a file read
/// whole): the file is never held whole beside what is made of it. `None` when the call
/// was abandoned.
fn stream(
    inner: &Inner,
    slot: &Slot,
    job: &Arc<Job>,
    e: &Entry,
    place: &Place,
    i: usize,
) -> Option<std::io::Result<Analysis>> {
    let a = inner.analyzers[i].as_ref();
    let file = match open_regular(place) {
        Ok((f, _)) => f,
        Err(err) => return Some(Err(err)),
    };
    let mut reader =
        std::io::BufReader::with_capacity(STREAM_BUFFER, file.take(inner.max_entry_bytes));
    slot.enter(job, i);
    let start = Instant::now();
    let fact = a.analyze_reader(e, &mut reader);
    if !slot.leave() {
        return None;
    }
    let fact = match fact {
        Ok(f) => f,
        Err(err) => return Some(Err(err)),
    };
    let mut facts = FileFacts::default();
    keep(inner, a, start, fact, &mut facts);
    Some(Ok(Analysis::Read(facts)))
}

/// Opens a file the listing saw as a regular file, refusing what replaced it since: a
/// symlink (`O_NOFOLLOW`: it could point out of the target) or a FIFO, socket or device
/// (opened non-blocking, so a FIFO with no writer cannot stall a worker, then refused).
/// Returns the file and its size as it is now.
pub(crate) fn open_regular(place: &Place) -> std::io::Result<(std::fs::File, u64)> {
    let fd = place.open(OFlags::RDONLY | OFlags::NONBLOCK, false)?;
    let st = rustix::fs::fstat(&fd)?;
    if FileType::from_raw_mode(st.st_mode) == FileType::RegularFile {
        Ok((std::fs::File::from(fd), st.st_size.max(0) as u64))
    } else {
        Err(std::io::Error::other(
            "no longer a regular file (replaced since the directory was listed); not read",
        ))
    }
}

/// Reads a file for the `interested` analyzers into `buf` (cleared first): the head
/// first when some sniff, dropping the sniffers that decline; the rest up to `max`
/// bytes. False when nobody is left interested.
pub(crate) fn read_file<R: Read>(
    reader: R,
    e: &Entry,
    analyzers: &[Shared],
    interested: &mut Vec<(usize, Interest)>,
    max: u64,
    buf: &mut Vec<u8>,
) -> std::io::Result<bool> {
    // the entry's size is exact (a sparse file's is its expanded size): the head read
    // takes no more room than the file, and the file no more reads than it needs
    read_sized(reader, Some(e.size), e, analyzers, interested, max, buf)
}

/// [`read_file`], and when the file's size is known (`size`, from `fstat` of the open file)
/// a read that comes back short with that many bytes read is its end, so a small file takes
/// one `read`, not the two or three that find the end by reading nothing (a layer's files
/// are read from memory, where that costs nothing: `None`).
fn read_sized<R: Read>(
    mut reader: R,
    size: Option<u64>,
    e: &Entry,
    analyzers: &[Shared],
    interested: &mut Vec<(usize, Interest)>,
    max: u64,
    buf: &mut Vec<u8>,
) -> std::io::Result<bool> {
    buf.clear();
    let size = size.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    let head = interested
        .iter()
        .filter_map(|(_, i)| match i {
            Interest::Sniff(n) => Some(*n),
            _ => None,
        })
        .max()
        .map(|n| n.min(MAX_SNIFF));
    if let Some(head) = head {
        let ended = match size {
            Some(_) => read_upto(&mut reader, head as u64, size, buf)?,
            None => {
                read_head(&mut reader, head, buf)?;
                false
            }
        };
        let got = &*buf;
        interested.retain(|&(i, interest)| match interest {
            Interest::Sniff(n) => analyzers[i].wants_head(e, &got[..n.min(got.len())]),
            _ => true,
        });
        if interested.is_empty() {
            return Ok(false);
        }
        if ended {
            return Ok(true);
        }
    }
    let limit = max.saturating_sub(buf.len() as u64);
    if size.is_some() {
        read_upto(&mut reader, limit, size, buf)?;
    } else {
        buf.reserve((e.size.min(max) as usize).saturating_sub(buf.len()));
        reader.take(limit).read_to_end(buf)?;
    }
    Ok(true)
}

/// Reads up to `n` bytes (fewer at the end of the file) onto the end of `buf`.
fn read_head<R: Read>(r: &mut R, n: usize, buf: &mut Vec<u8>) -> std::io::Result<()> {
    let start = buf.len();
    buf.resize(start + n, 0);
    let mut got = 0;
    while got < n {
        match r.read(&mut buf[start + got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                buf.truncate(start);
                return Err(e);
            }
        }
    }
    buf.truncate(start + got);
    Ok(())
}

/// Reads up to `limit` bytes (fewer at the end of the file) onto the end of `buf`; true when
/// the end of the file was seen: a read gave nothing, or came back short with `buf` holding
/// `size` bytes (the file's size, when known).
fn read_upto<R: Read>(
    r: &mut R,
    limit: u64,
    size: Option<usize>,
    buf: &mut Vec<u8>,
) -> std::io::Result<bool> {
    let end = buf
        .len()
        .saturating_add(usize::try_from(limit).unwrap_or(usize::MAX));
    let mut filled = buf.len();
    let mut ended = false;
    while filled < end {
        if filled == buf.len() {
            // room for the rest of a file of known size and one byte more (so its end shows
            // as a short read), else for twice what is read so far
            let want = match size {
                Some(n) if n >= filled => n.saturating_add(1),
                _ => filled.saturating_mul(2).max(filled.saturating_add(8192)),
            };
            buf.resize(want.min(end), 0);
        }
        match r.read(&mut buf[filled..]) {
            Ok(0) => {
                ended = true;
                break;
            }
            Ok(k) => {
                filled += k;
                if Some(filled) == size && filled < buf.len() {
                    ended = true;
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                buf.truncate(filled);
                return Err(e);
            }
        }
    }
    buf.truncate(filled);
    Ok(ended)
}

/// Lists a directory through `buf`: every entry's type, a regular file's mode and size, a
/// symlink's target (nothing is followed; a directory below the root that became a symlink
/// since its parent was listed is refused). The directory is held open for its entries when
/// it has files or directories and fewer than [`MAX_HELD_DIRS`] are held.
fn list_dir(list: &List, buf: &mut Vec<u8>) -> Listing {
    let mut held = None;
    let result = read_listing(list, buf).map(|(fd, out)| {
        if out
            .iter()
            .any(|l| matches!(l.kind, ListedKind::Dir | ListedKind::File { .. }))
        {
            held = DirFd::hold(fd);
        }
        out
    });
    Listing {
        dir: list.dir.clone(),
        held,
        rel: list.rel.clone(),
        depth: list.depth,
        result,
    }
}

/// Opens and reads the directory of `list`; its descriptor and its entries.
fn read_listing(list: &List, buf: &mut Vec<u8>) -> std::io::Result<(OwnedFd, Vec<Listed>)> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NONBLOCK;
    // the root is the user's path, followed if it is a symlink; nothing below it is
    let fd = list.place.open(flags, list.depth == 0)?;
    buf.clear();
    buf.reserve(DIR_BUFFER);
    let mut out = Vec::new();
    let mut entries = RawDir::new(&fd, buf.spare_capacity_mut());
    while let Some(entry) = entries.next() {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        let name = OsStr::from_bytes(name);
        let kind = match entry.file_type() {
            // the file system does not say: ask for the entry itself
            FileType::Unknown => rustix::fs::statat(&fd, name, AtFlags::SYMLINK_NOFOLLOW)
                .map(|st| FileType::from_raw_mode(st.st_mode)),
            known => Ok(known),
        };
        let kind = match kind {
            Err(e) => ListedKind::Error(e.into()),
            Ok(FileType::Directory) => ListedKind::Dir,
            Ok(FileType::RegularFile) => {
                let (mode, size) = rustix::fs::statat(&fd, name, AtFlags::SYMLINK_NOFOLLOW)
                    .map_or((0, 0), |st| (st.st_mode & 0o7777, st.st_size.max(0) as u64));
                ListedKind::File { mode, size }
            }
            Ok(FileType::Symlink) => ListedKind::Symlink(
                rustix::fs::readlinkat(&fd, name, Vec::new())
                    .map(|t| PathBuf::from(OsString::from_vec(t.into_bytes())))
                    .map_err(std::io::Error::from),
            ),
            Ok(_) => ListedKind::Other,
        };
        out.push(Listed {
            name: name.to_os_string(),
            kind,
        });
    }
    Ok((fd, out))
}

/// What a walker handed over, in its order, as results come back.
pub(crate) enum Item<C> {
    /// Known when it was pushed, or resolved since.
    Done(C),
    /// A job whose result has not come back: `path`, and whether a file no analyzer
    /// took still leaves a change (a layer) or none (a directory target).
    Waiting {
        path: String,
        shadows: bool,
        layer: Option<usize>,
    },
}

/// What one walker made, in order: changes and diagnostics.
pub(crate) enum Made {
    Change(String, crate::walk::Change),
    Diagnostic(Diagnostic),
    Nothing,
}

/// One walker's side of the pool: numbers its jobs, bounds what is in flight, and puts
/// results back in its order.
pub(crate) struct Feed<'p> {
    pool: &'p Pool,
    /// Analyses answered, and directories listed: apart, so that a walker waiting for a
    /// listing is not woken by every file analysed meanwhile (a thread switch a file on a
    /// tree of small files), and takes those when it next hands a file over.
    analysed: (mpsc::Sender<Reply>, mpsc::Receiver<Reply>),
    listed: (mpsc::Sender<Reply>, mpsc::Receiver<Reply>),
    /// Everything the walker made, in its order.
    pub items: Vec<Item<Made>>,
    pending: usize,
    in_flight: usize,
    /// Directory listings received, for the walker to take.
    listings: Vec<Listing>,
    /// Directories to list, not handed to the pool yet.
    to_list: Vec<List>,
    /// Directories handed to the pool and not listed yet.
    lists_pending: usize,
    watched: Instant,
}

/// How long a waiting walker sleeps between looks at the workers.
fn tick(timeout: Option<Duration>) -> Duration {
    timeout.map_or(Duration::from_millis(250), |t| {
        (t / 4).clamp(Duration::from_millis(2), Duration::from_millis(250))
    })
}

impl<'p> Feed<'p> {
    pub(crate) fn new(pool: &'p Pool) -> Feed<'p> {
        Feed {
            pool,
            analysed: mpsc::channel(),
            listed: mpsc::channel(),
            items: Vec::new(),
            pending: 0,
            in_flight: 0,
            listings: Vec::new(),
            to_list: Vec::new(),
            lists_pending: 0,
            watched: Instant::now(),
        }
    }

    pub(crate) fn push(&mut self, made: Made) {
        self.items.push(Item::Done(made));
    }

    /// Hands a file to the pool; `shadows`: a file no analyzer took still leaves a change.
    /// Waits while too much is in flight.
    pub(crate) fn analyze(&mut self, file: Offer, shadows: bool) {
        let cost = match &file.data {
            Data::Bytes(b) => b.len(),
            Data::File(_) => 0,
        };
        self.take_ready();
        while self.pending > 0
            && (self.pending >= MAX_IN_FLIGHT_JOBS || self.in_flight + cost > MAX_IN_FLIGHT_BYTES)
        {
            self.wait(false);
        }
        let seq = self.items.len();
        self.items.push(Item::Waiting {
            path: file.path.clone(),
            shadows,
            layer: file.layer,
        });
        self.pending += 1;
        self.in_flight += cost;
        self.pool.send(Task::Analyze(Job {
            seq,
            file,
            skipped: Vec::new(),
            cost,
            reply: self.analysed.0.clone(),
        }));
    }

    /// Asks the pool to list the directory at `place` (at `dir` on disk;
    /// [`Feed::next_listing`] returns it).
    pub(crate) fn list(&mut self, place: Place, dir: PathBuf, rel: Vec<u8>, depth: usize) {
        self.to_list.push(List {
            place,
            dir,
            rel,
            depth,
            reply: self.listed.0.clone(),
        });
        self.send_lists();
    }

    /// Hands directories to list to the pool, the last asked for first, while fewer than
    /// [`MAX_LISTS_IN_FLIGHT`] are: the files of the directories listed then go to the
    /// workers right behind them, not behind every directory of a wide tree (a
    /// `node_modules` of 20,000 packages), and few directories are held open meanwhile.
    /// With no worker left, all of them (the walker then lists them itself).
    fn send_lists(&mut self) {
        let unbounded = lock(&self.pool.inner.slots).is_empty();
        while unbounded || self.lists_pending < MAX_LISTS_IN_FLIGHT {
            let Some(list) = self.to_list.pop() else {
                return;
            };
            self.lists_pending += 1;
            self.pool.send(Task::List(list));
        }
    }

    /// The next directory listing, while some are asked for.
    pub(crate) fn next_listing(&mut self) -> Option<Listing> {
        loop {
            if let Some(l) = self.listings.pop() {
                return Some(l);
            }
            self.send_lists();
            if self.lists_pending == 0 {
                return None;
            }
            self.wait(true);
        }
    }

    /// Every result, in the walker's order.
    pub(crate) fn finish(mut self) -> Vec<Made> {
        while self.lists_pending > 0 {
            self.wait(true);
        }
        while self.pending > 0 {
            self.wait(false);
        }
        self.items
            .into_iter()
            .map(|i| match i {
                Item::Done(m) => m,
                // every job answered
                Item::Waiting { .. } => Made::Nothing,
            })
            .collect()
    }

    fn take_ready(&mut self) {
        while let Ok(reply) = self.analysed.1.try_recv() {
            self.take(reply);
        }
    }

    /// Waits for one directory listing (`listing`) or one analysis, looking at the workers
    /// meanwhile.
    fn wait(&mut self, listing: bool) {
        let tick = tick(self.pool.inner.timeout);
        loop {
            if self.watched.elapsed() >= tick {
                self.pool.watch();
                self.pool.rescue();
                self.watched = Instant::now();
            }
            let rx = if listing {
                &self.listed.1
            } else {
                &self.analysed.1
            };
            // the feed holds a sender: never disconnected, only timed out
            if let Ok(reply) = rx.recv_timeout(tick) {
                self.take(reply);
                return;
            }
        }
    }

    fn take(&mut self, reply: Reply) {
        match reply {
            Reply::Listed(l) => {
                self.lists_pending -= 1;
                self.listings.push(l);
            }
            Reply::Analyzed { seq, cost, result } => {
                self.pending -= 1;
                self.in_flight -= cost;
                let Some(item) = self.items.get_mut(seq) else {
                    return;
                };
                let Item::Waiting {
                    path,
                    shadows,
                    layer,
                } = item
                else {
                    return;
                };
                let (path, shadows, layer) = (std::mem::take(path), *shadows, *layer);
                use crate::walk::Change;
                *item = Item::Done(match result {
                    Ok(Analysis::Read(facts)) if !facts.is_empty() => {
                        Made::Change(path, Change::File(Arc::new(facts)))
                    }
                    Ok(_) if shadows => Made::Change(path, Change::Shadow),
                    Ok(_) => Made::Nothing,
                    Err(err) => Made::Diagnostic(
                        Diagnostic::new(Code::Unreadable, format!("cannot read: {err}"))
                            .at(format!("/{path}"), layer),
                    ),
                });
            }
        }
    }
}

#[cfg(test)]
pub(crate) fn test_pool(
    analyzers: Vec<Shared>,
    timeout: Option<Duration>,
    workers: usize,
    replaced: &'static AtomicUsize,
    max_replaced: usize,
) -> Pool {
    Pool::with(
        analyzers,
        timeout,
        512 << 20,
        workers,
        replaced,
        max_replaced,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gives at most `chunk` bytes a read, counting the calls.
    struct Reads<'a> {
        data: &'a [u8],
        chunk: usize,
        calls: usize,
    }

    impl Read for Reads<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            self.calls += 1;
            let n = out.len().min(self.chunk).min(self.data.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    /// Reads `data` whose size fstat said is `size`, a sniff of 8 bytes first when `sniff`,
    /// up to `max` bytes: (bytes read, read calls).
    fn read(
        data: &[u8],
        size: Option<u64>,
        sniff: bool,
        max: u64,
        chunk: usize,
    ) -> (Vec<u8>, usize) {
        struct Text;
        const TEXT: crate::analyzer::AnalyzerInfo =
            crate::analyzer::AnalyzerInfo::packages("text", 1);
        impl Analyzer for Text {
            fn info(&self) -> &crate::analyzer::AnalyzerInfo {
                &TEXT
            }
            fn wants(&self, _e: &Entry) -> Interest {
                Interest::Yes
            }
            fn wants_head(&self, _e: &Entry, head: &[u8]) -> bool {
                !head.contains(&0)
            }
            fn analyze(&self, _e: &Entry, _data: &[u8]) -> Option<Fact> {
                None
            }
        }
        let analyzers: Vec<Shared> = vec![Arc::new(Text)];
        let mut interested = vec![(
            0,
            if sniff {
                Interest::Sniff(8)
            } else {
                Interest::Yes
            },
        )];
        let e = Entry::new("f", 0o644, data.len() as u64, None);
        let mut r = Reads {
            data,
            chunk,
            calls: 0,
        };
        let mut buf = vec![7; 3];
        let kept =
            read_sized(&mut r, size, &e, &analyzers, &mut interested, max, &mut buf).unwrap();
        assert!(kept);
        (buf, r.calls)
    }

    #[test]
    fn a_dropped_pool_has_joined_its_workers() {
        static REPLACED: AtomicUsize = AtomicUsize::new(0);
        for _ in 0..50 {
            let pool = test_pool(Vec::new(), None, 4, &REPLACED, 0);
            assert_eq!(lock(&pool.inner.slots).len(), 4);
            let inner = Arc::downgrade(&pool.inner);
            drop(pool);
            // each worker held the pool's state until its thread ended
            assert_eq!(inner.strong_count(), 0);
        }
    }

    #[test]
    fn a_file_of_known_size_is_read_whole_and_its_end_seen_without_an_empty_read() {
        let data: Vec<u8> = (1..=100u8).collect();
        let len = data.len() as u64;
        for sniff in [false, true] {
            // the size known: one read when the file fits the sniff, else two
            let (got, calls) = read(&data, Some(len), sniff, 1 << 20, usize::MAX);
            assert_eq!(
                (got.as_slice(), calls),
                (&data[..], if sniff { 2 } else { 1 })
            );
            // not known (a layer's reader): the end is a read that gives nothing
            let (got, calls) = read(&data, None, sniff, 1 << 20, usize::MAX);
            assert_eq!(got, data);
            assert!(calls > if sniff { 2 } else { 1 });
            // short reads, a file that grew or shrank since fstat: every byte, no more
            for size in [Some(len), Some(10), Some(1000), None] {
                assert_eq!(read(&data, size, sniff, 1 << 20, 7).0, data);
            }
            // never more than the entry limit
            for size in [Some(len), Some(10), None] {
                assert_eq!(read(&data, size, sniff, 50, 7).0, &data[..50]);
                assert_eq!(read(&data, size, sniff, 50, usize::MAX).0, &data[..50]);
            }
        }
        // a small file that fits the sniff: one read however it is read
        let (got, calls) = read(b"abc", Some(3), true, 1 << 20, usize::MAX);
        assert_eq!((got.as_slice(), calls), (&b"abc"[..], 1));
    }
}

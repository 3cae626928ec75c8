//! The writer's compressor: dictionary training and block compression on a thread of their
//! own, so the thread writing SQLite only places records and inserts rows.
//!
//! A [`super::Writer`] sends [`Job`]s in the order it makes them (a source's dictionary
//! before any of its blocks) and takes back [`Done`]s in the same order (one thread, first
//! in first out). What the thread computes does not depend on when it runs: the dictionary
//! is trained on the samples the writer chose, a block is compressed against its source's
//! dictionary with a fresh frame, so the database is the same byte for byte as when the
//! writer compressed inline (only the order in which `blocks` rows are inserted moves).
//!
//! Memory is bounded: at most [`QUEUE`] jobs wait (a block is at most
//! [`codec::BLOCK_BYTES`] and a record), at most [`codec::MAX_PACKERS`] zstd contexts are
//! alive, and the thread keeps each source's dictionary (64 KiB) to make a context again.

use super::{DbError, codec};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};

/// Jobs waiting for the thread: enough blocks (about 3,000 records, ~30 ms of the writer's
/// work) to keep the writer going while a dictionary is trained (13-16 ms on the mirror
/// set's samples: see [`codec::train_continuous`]), ~6 MiB at most.
const QUEUE: usize = 48;

/// What the writer asks of the compressor.
pub(super) enum Job {
    /// Train `source`'s dictionary on the samples (`data` cut at `sizes`); blocks of the
    /// source sent later use it (none when there are too few samples or training fails).
    Train {
        source: String,
        data: Vec<u8>,
        sizes: Vec<usize>,
    },
    /// Use this dictionary (stored before) for `source`'s blocks; `None`: no dictionary.
    Use {
        source: String,
        dict: Option<Vec<u8>>,
    },
    /// Compress block `id` of `source`.
    Block {
        id: i64,
        source: String,
        buf: codec::BlockBuf,
    },
}

/// What the compressor hands back, in the order of the jobs.
pub(super) enum Done {
    /// The dictionary trained for `source` (`None`: none).
    Trained {
        source: String,
        dict: Option<Vec<u8>>,
    },
    /// Block `id` of `source` compressed: `records` slots, `data` one zstd frame; `buf`
    /// the block's buffer handed back emptied, for the writer to fill again (made and freed
    /// on the writer's thread, not one allocation of 132 KiB a block freed on this one).
    Block {
        id: i64,
        source: String,
        records: usize,
        data: Vec<u8>,
        buf: codec::BlockBuf,
    },
    /// A block that could not be compressed, or a dictionary zstd refused: why.
    Failed(String),
}

/// The writer's end of the compressor thread (started on first use, stopped and joined when
/// dropped).
#[derive(Default)]
pub(super) struct Compressor {
    pipe: Option<Pipe>,
    /// Jobs sent whose result was not taken yet (a `Use` has none).
    outstanding: usize,
}

struct Pipe {
    jobs: Option<SyncSender<Job>>,
    done: Receiver<Done>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Pipe {
    fn drop(&mut self) {
        // The thread ends once its queue is closed and drained.
        drop(self.jobs.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The compressor thread stopped (a panic in zstd): what the writer reports.
const STOPPED: &str = "the compressor thread stopped";

/// What [`Compressor`] hands each result to.
pub(super) type Take<'a> = dyn FnMut(Done) -> Result<(), DbError> + 'a;

fn stopped(path: &Path) -> DbError {
    DbError::Corrupt {
        path: path.to_path_buf(),
        reason: STOPPED.into(),
    }
}

impl Compressor {
    /// Sends a job, first taking the results that are ready (handed to `take`).
    pub(super) fn send(
        &mut self,
        job: Job,
        path: &Path,
        take: &mut Take<'_>,
    ) -> Result<(), DbError> {
        self.ready(path, take)?;
        let counts = !matches!(job, Job::Use { .. });
        let pipe = self.pipe.get_or_insert_with(Pipe::start);
        let Some(jobs) = &pipe.jobs else {
            return Err(stopped(path));
        };
        jobs.send(job).map_err(|_| stopped(path))?;
        if counts {
            self.outstanding += 1;
        }
        Ok(())
    }

    /// Hands `take` the results that are ready, without waiting.
    pub(super) fn ready(&mut self, path: &Path, take: &mut Take<'_>) -> Result<(), DbError> {
        let Some(pipe) = &self.pipe else {
            return Ok(());
        };
        while self.outstanding > 0 {
            match pipe.done.try_recv() {
                Ok(d) => {
                    self.outstanding -= 1;
                    take(d)?;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return Err(stopped(path)),
            }
        }
        Ok(())
    }

    /// Waits for every job sent so far, handing `take` their results.
    pub(super) fn sync(&mut self, path: &Path, take: &mut Take<'_>) -> Result<(), DbError> {
        let Some(pipe) = &self.pipe else {
            return Ok(());
        };
        while self.outstanding > 0 {
            let d = pipe.done.recv().map_err(|_| stopped(path))?;
            self.outstanding -= 1;
            take(d)?;
        }
        Ok(())
    }

    /// Whether results are still to come.
    pub(super) fn busy(&self) -> bool {
        self.outstanding > 0
    }
}

impl Pipe {
    fn start() -> Pipe {
        let (jobs, rx) = sync_channel::<Job>(QUEUE);
        // Never full in practice: at most QUEUE + 1 results are ever pending, as the writer
        // takes the ready ones before every send.
        let (tx, done) = sync_channel::<Done>(4 * QUEUE);
        let thread = std::thread::Builder::new()
            .name("moat-db-zstd".into())
            .spawn(move || run(rx, tx))
            .ok();
        Pipe {
            jobs: thread.is_some().then_some(jobs),
            done,
            thread,
        }
    }
}

/// The thread: trains, compresses and hands back, until the writer closes the queue.
fn run(jobs: Receiver<Job>, done: SyncSender<Done>) {
    let mut dicts: HashMap<String, Option<Arc<Vec<u8>>>> = HashMap::new();
    // The contexts alive, most recently used last.
    let mut packers: Vec<(String, codec::Packer)> = Vec::new();
    // A block as compressed, and zstd's output: reused from block to block.
    let mut scratch = Scratch::default();
    for job in jobs.iter() {
        let out = match job {
            Job::Train {
                source,
                data,
                sizes,
            } => {
                let dict = codec::train_continuous(&data, &sizes);
                drop(data);
                packers.retain(|(s, _)| *s != source);
                dicts.insert(source.clone(), dict.clone().map(Arc::new));
                Done::Trained { source, dict }
            }
            Job::Use { source, dict } => {
                packers.retain(|(s, _)| *s != source);
                dicts.insert(source, dict.map(Arc::new));
                continue;
            }
            Job::Block { id, source, buf } => {
                compress(&mut packers, &dicts, &mut scratch, id, source, buf)
            }
        };
        if done.send(out).is_err() {
            break;
        }
    }
}

/// The compressor thread's buffers, kept from one block to the next.
#[derive(Default)]
struct Scratch {
    encoded: Vec<u8>,
    out: Vec<u8>,
}

fn compress(
    packers: &mut Vec<(String, codec::Packer)>,
    dicts: &HashMap<String, Option<Arc<Vec<u8>>>>,
    scratch: &mut Scratch,
    id: i64,
    source: String,
    mut buf: codec::BlockBuf,
) -> Done {
    let at = match packers.iter().position(|(s, _)| *s == source) {
        Some(i) => i,
        None => {
            let dict = dicts.get(&source).cloned().flatten();
            match codec::Packer::new(dict.as_deref().map(Vec::as_slice)) {
                Ok(p) => {
                    if packers.len() >= codec::MAX_PACKERS {
                        packers.remove(0);
                    }
                    packers.push((source.clone(), p));
                    packers.len() - 1
                }
                Err(e) => return Done::Failed(format!("zstd dictionary of {source}: {e}")),
            }
        }
    };
    // Most recently used last.
    let used = packers.remove(at);
    packers.push(used);
    let Some((_, packer)) = packers.last_mut() else {
        return Done::Failed(STOPPED.into());
    };
    buf.encode_into(&mut scratch.encoded);
    match packer.compress_into(&scratch.encoded, &mut scratch.out) {
        Ok(()) => {
            let records = buf.len();
            buf.clear();
            Done::Block {
                id,
                source,
                records,
                // Its own allocation, of the compressed size (a few KiB, not zstd's bound).
                data: scratch.out.clone(),
                buf,
            }
        }
        Err(e) => Done::Failed(format!("{source}: cannot compress block {id}: {e}")),
    }
}

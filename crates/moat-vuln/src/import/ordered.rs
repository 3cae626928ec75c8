//! An ordered parallel map: one thread produces units (reading a file), several workers turn
//! batches of them into outputs (inflating, parsing, serialising), and the caller's thread
//! consumes the outputs batch by batch in the order the units were produced, whatever the
//! number of workers or which of them finishes first. Memory is bounded: at most
//! `2 * workers + 2` batches are between the producer and the consumer at any time, and at
//! most as many consumed ones wait for their maker to free them.
//!
//! The consumer borrows each batch; what it leaves in it goes back to the worker that made
//! it, which frees it there (and fills the emptied list again). A batch freed on the
//! consumer's thread had every allocation of its outputs freed on another thread than the
//! one that made it: with glibc's allocator that is a lock of the maker's arena per free,
//! taken while the maker allocates, and tens of thousands of threads put to sleep on it in
//! an import of 500,000 records.

use super::Stop;
use std::collections::BTreeMap;
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex};

/// The number of workers for this machine: its available cores, at most 8.
pub fn workers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8)
}

/// Runs `produce` on a thread of its own, handing it a sink for units (which returns
/// [`Stop`] once the consumer has stopped); `workers` threads apply `work` to every unit of a
/// batch of up to `batch` units (with a state of their own made by `state`, e.g. reused
/// buffers), pushing any number of outputs; `consume` gets each batch's outputs in the order
/// the units were produced (to read, or to take outputs out of: what it leaves is freed by
/// the worker that made them). Returns what `produce` returned and whether `consume` stopped.
pub fn run<U, T, S, P>(
    workers: usize,
    batch: usize,
    produce: impl FnOnce(&mut dyn FnMut(U) -> Result<(), Stop>) -> P + Send,
    state: &(dyn Fn() -> S + Sync),
    work: &(dyn Fn(&mut S, U, &mut Vec<T>) + Sync),
    consume: &mut dyn FnMut(&mut Vec<T>) -> Result<(), Stop>,
) -> (P, bool)
where
    U: Send,
    T: Send,
    P: Send,
{
    let workers = workers.max(1);
    let batch = batch.max(1);
    let in_flight = 2 * workers + 2;
    let (job_tx, job_rx) = sync_channel::<(u64, Vec<U>)>(workers);
    let job_rx = Arc::new(Mutex::new(job_rx));
    let (done_tx, done_rx) = sync_channel::<(u64, usize, Vec<T>)>(in_flight);
    // Each worker's consumed batches, back to it. Never full: a worker takes its returned
    // batches before making another, so at most `in_flight` of its batches are out.
    let mut returns = Vec::with_capacity(workers);
    let mut back_rxs = Vec::with_capacity(workers);
    for _ in 0..workers {
        let (tx, rx) = sync_channel::<Vec<T>>(in_flight + 1);
        returns.push(tx);
        back_rxs.push(rx);
    }
    // Tokens: the producer takes one for every batch it sends, the consumer gives it back
    // once it has consumed that batch, so the reordering never holds more than `in_flight`.
    let (token_tx, token_rx) = sync_channel::<()>(in_flight);
    for _ in 0..in_flight {
        // The receiver is alive and the channel has room for every token.
        let _ = token_tx.send(());
    }
    std::thread::scope(|scope| {
        for (me, back) in back_rxs.into_iter().enumerate() {
            let done_tx = done_tx.clone();
            // Each worker holds the job receiver: when all have stopped, the producer's send
            // fails instead of blocking.
            let job_rx = Arc::clone(&job_rx);
            scope.spawn(move || {
                let mut st = state();
                let mut spare: Option<Vec<T>> = None;
                loop {
                    // Free what the consumer is done with, here where it was made.
                    while let Ok(mut used) = back.try_recv() {
                        used.clear();
                        spare = Some(used);
                    }
                    let next = match job_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => break,
                    };
                    let Ok((seq, units)) = next else { break };
                    let mut out = spare
                        .take()
                        .unwrap_or_else(|| Vec::with_capacity(units.len()));
                    for u in units {
                        work(&mut st, u, &mut out);
                    }
                    if done_tx.send((seq, me, out)).is_err() {
                        break;
                    }
                }
                // No more batches to make: free the ones still coming back until the consumer
                // is done (it then drops the senders).
                drop(done_tx);
                for used in back.iter() {
                    drop(used);
                }
            });
        }
        drop(done_tx);
        drop(job_rx);
        let producer = scope.spawn(move || {
            let mut seq = 0u64;
            let mut buf: Vec<U> = Vec::with_capacity(batch);
            let mut send = |units: Vec<U>| -> Result<(), Stop> {
                token_rx.recv().map_err(|_| Stop)?;
                job_tx.send((seq, units)).map_err(|_| Stop)?;
                seq += 1;
                Ok(())
            };
            let r = produce(&mut |u| {
                buf.push(u);
                if buf.len() >= batch {
                    send(std::mem::replace(&mut buf, Vec::with_capacity(batch)))?;
                }
                Ok(())
            });
            if !buf.is_empty() {
                // A consumer that stopped is reported by the caller.
                let _ = send(buf);
            }
            r
        });
        // A batch back to the worker that made it, to be freed and filled there (a worker
        // that has stopped no longer takes its batches: freed here).
        let give_back = |maker: usize, out: Vec<T>| {
            if let Some(back) = returns.get(maker) {
                let _ = back.try_send(out);
            }
        };
        let mut pending: BTreeMap<u64, (usize, Vec<T>)> = BTreeMap::new();
        let mut next = 0u64;
        let mut stopped = false;
        'consume: for (seq, maker, out) in done_rx.iter() {
            pending.insert(seq, (maker, out));
            while let Some((maker, mut out)) = pending.remove(&next) {
                next += 1;
                let r = consume(&mut out);
                give_back(maker, out);
                if r.is_err() {
                    stopped = true;
                    break 'consume;
                }
                // The producer may have finished: no one to give the token to.
                let _ = token_tx.send(());
            }
        }
        // Stopped: the batches waiting for their turn go back to their makers too (one that
        // comes in after this is freed here, with the channel).
        let waiting = std::mem::take(&mut pending).into_values();
        for (maker, out) in waiting.chain(std::iter::from_fn(|| {
            done_rx.try_recv().ok().map(|(_, maker, out)| (maker, out))
        })) {
            give_back(maker, out);
        }
        drop(returns);
        // Stopping: the producer's next send fails, the workers' too.
        drop(done_rx);
        drop(token_tx);
        drop(pending);
        let produced = match producer.join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        (produced, stopped)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn squares(
        workers: usize,
        batch: usize,
        n: u64,
        stop_after: Option<usize>,
    ) -> (Vec<u64>, bool, Result<(), Stop>) {
        let mut got = Vec::new();
        let (produced, stopped) = run(
            workers,
            batch,
            |sink: &mut dyn FnMut(u64) -> Result<(), Stop>| {
                for i in 0..n {
                    sink(i)?;
                }
                Ok(())
            },
            &|| 0u64,
            &|calls: &mut u64, u: u64, out: &mut Vec<u64>| {
                *calls += 1;
                // Uneven work, so workers finish out of order.
                if u.is_multiple_of(7) {
                    std::thread::yield_now();
                }
                out.push(u * u);
                if u.is_multiple_of(5) {
                    out.push(u);
                }
            },
            &mut |out: &mut Vec<u64>| {
                got.append(out);
                match stop_after {
                    Some(k) if got.len() >= k => Err(Stop),
                    _ => Ok(()),
                }
            },
        );
        (got, stopped, produced)
    }

    fn expected(n: u64) -> Vec<u64> {
        let mut v = Vec::new();
        for u in 0..n {
            v.push(u * u);
            if u.is_multiple_of(5) {
                v.push(u);
            }
        }
        v
    }

    #[test]
    fn outputs_come_in_the_order_of_the_units_whatever_the_workers() {
        for workers in [1, 2, 3, 8] {
            for batch in [1, 7, 256] {
                let (got, stopped, produced) = squares(workers, batch, 5_000, None);
                assert_eq!(
                    got,
                    expected(5_000),
                    "{workers} workers, batches of {batch}"
                );
                assert!(!stopped);
                assert_eq!(produced, Ok(()));
            }
        }
    }

    /// An output that records whether it was freed on the thread that made it.
    struct Tracked {
        made_on: std::thread::ThreadId,
        log: Arc<Mutex<Vec<bool>>>,
    }

    impl Drop for Tracked {
        fn drop(&mut self) {
            if let Ok(mut log) = self.log.lock() {
                log.push(self.made_on == std::thread::current().id());
            }
        }
    }

    #[test]
    fn outputs_left_in_a_batch_are_freed_by_their_maker() {
        for stop_after in [None, Some(3)] {
            let log = Arc::new(Mutex::new(Vec::new()));
            let made = std::sync::atomic::AtomicUsize::new(0);
            let mut batches = 0usize;
            let (_, stopped): (Result<(), Stop>, bool) = run(
                2,
                8,
                |sink: &mut dyn FnMut(u64) -> Result<(), Stop>| {
                    for i in 0..2_000 {
                        sink(i)?;
                    }
                    Ok(())
                },
                &|| (),
                &|_: &mut (), _u: u64, out: &mut Vec<Tracked>| {
                    made.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    out.push(Tracked {
                        made_on: std::thread::current().id(),
                        log: Arc::clone(&log),
                    });
                },
                &mut |out: &mut Vec<Tracked>| {
                    batches += 1;
                    assert!(out.len() <= 8);
                    // Taking one out frees it here: not the maker.
                    if batches == 1 {
                        drop(out.pop());
                    }
                    match stop_after {
                        Some(n) if batches >= n => Err(Stop),
                        _ => Ok(()),
                    }
                },
            );
            assert_eq!(stopped, stop_after.is_some());
            let log = log.lock().unwrap();
            // Everything made is freed, once.
            assert_eq!(log.len(), made.load(std::sync::atomic::Ordering::Relaxed));
            let elsewhere = log.iter().filter(|&&on_maker| !on_maker).count();
            if stop_after.is_none() {
                assert_eq!(log.len(), 2_000);
                // Only the one the consumer took out.
                assert_eq!(elsewhere, 1);
            } else {
                // Stopping, batches racing the channel's close may be freed here: at most
                // those in flight (6 batches of 8).
                assert!(elsewhere <= 1 + 6 * 8, "{elsewhere} of {}", log.len());
            }
        }
    }

    #[test]
    fn nothing_produced_is_nothing_consumed() {
        let (got, stopped, produced) = squares(2, 16, 0, None);
        assert!(got.is_empty());
        assert!(!stopped);
        assert_eq!(produced, Ok(()));
    }

    #[test]
    fn a_consumer_that_stops_stops_the_producer() {
        // Far more units than fit in flight: the producer must see Stop, not hang.
        let (got, stopped, produced) = squares(2, 4, 1_000_000, Some(100));
        assert!(stopped);
        assert_eq!(produced, Err(Stop));
        assert_eq!(got[..100], expected(1_000_000)[..100]);
        assert!(got.len() < 200, "consumed {} after stopping", got.len());
    }
}

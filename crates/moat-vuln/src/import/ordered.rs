//! An ordered parallel map: one thread produces units (reading a file), several workers turn
//! batches of them into outputs (inflating, parsing, serialising), and the caller's thread
//! consumes the outputs batch by batch in the order the units were produced, whatever the
//! number of workers or which of them finishes first. Memory is bounded: at most
//! `2 * workers + 2` batches are between the producer and the consumer at any time.

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
/// the units were produced. Returns what `produce` returned and whether `consume` stopped.
pub fn run<U, T, S, P>(
    workers: usize,
    batch: usize,
    produce: impl FnOnce(&mut dyn FnMut(U) -> Result<(), Stop>) -> P + Send,
    state: &(dyn Fn() -> S + Sync),
    work: &(dyn Fn(&mut S, U, &mut Vec<T>) + Sync),
    consume: &mut dyn FnMut(Vec<T>) -> Result<(), Stop>,
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
    let (done_tx, done_rx) = sync_channel::<(u64, Vec<T>)>(in_flight);
    // Tokens: the producer takes one for every batch it sends, the consumer gives it back
    // once it has consumed that batch, so the reordering never holds more than `in_flight`.
    let (token_tx, token_rx) = sync_channel::<()>(in_flight);
    for _ in 0..in_flight {
        // The receiver is alive and the channel has room for every token.
        let _ = token_tx.send(());
    }
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let done_tx = done_tx.clone();
            // Each worker holds the job receiver: when all have stopped, the producer's send
            // fails instead of blocking.
            let job_rx = Arc::clone(&job_rx);
            scope.spawn(move || {
                let mut st = state();
                loop {
                    let next = match job_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => break,
                    };
                    let Ok((seq, units)) = next else { break };
                    let mut out = Vec::with_capacity(units.len());
                    for u in units {
                        work(&mut st, u, &mut out);
                    }
                    if done_tx.send((seq, out)).is_err() {
                        break;
                    }
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
        let mut pending: BTreeMap<u64, Vec<T>> = BTreeMap::new();
        let mut next = 0u64;
        let mut stopped = false;
        'consume: for (seq, out) in done_rx.iter() {
            pending.insert(seq, out);
            while let Some(out) = pending.remove(&next) {
                next += 1;
                if consume(out).is_err() {
                    stopped = true;
                    break 'consume;
                }
                // The producer may have finished: no one to give the token to.
                let _ = token_tx.send(());
            }
        }
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
            &mut |out: Vec<u64>| {
                got.extend(out);
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

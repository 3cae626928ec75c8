//! The job queue, a table of the store: work the server does later, taken by workers.
//!
//! ```text
//! jobs  kind (`scan`: an image reference to pull and scan; `rematch`: the whole store),
//!       payload (JSON), state (queued / running / done / failed), attempts, the worker
//!       holding it and its lease (ms since the epoch), the error, the result (JSON), times
//! ```
//!
//! A worker takes the oldest job that is queued, or running under a lease that expired (its
//! worker died or hung), in one statement, and renews the lease while the job runs. A
//! worker finishes a job only while it still holds it: one that lost its lease has its
//! answer dropped (the job ran again elsewhere; storing a report twice replaces it with
//! itself). A job whose lease expired `max_attempts` times is failed with that reason. A job
//! whose work returns an error is failed with it at once (the error is the image's, not the
//! worker's: a retry would repeat it). At most one re-match runs at a time.

use crate::store::{Store, StoreError, rfc3339};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::Value;

pub(crate) const SCHEMA_2: &str = "
CREATE TABLE IF NOT EXISTS jobs (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  lease_until INTEGER,
  worker TEXT,
  error TEXT,
  result TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, id);
";

/// What a job does.
pub const SCAN: &str = "scan";
pub const REMATCH: &str = "rematch";

/// A job as `GET /api/v1/jobs/{id}` shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: Value,
    /// `queued`, `running`, `done` or `failed`.
    pub state: String,
    pub attempts: i64,
    pub worker: Option<String>,
    pub error: Option<String>,
    pub result: Option<Value>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

/// A job a worker took.
#[derive(Debug, Clone, PartialEq)]
pub struct Taken {
    pub id: i64,
    pub kind: String,
    pub payload: Value,
    pub attempts: i64,
}

/// What [`Store::enqueue`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    Queued(i64),
    /// The same work is already queued (a re-match): that job.
    Existing(i64),
    /// The queue holds `max_queue` jobs: nothing queued.
    Full(u64),
}

/// Queue depth: jobs queued, and running.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Depth {
    pub queued: u64,
    pub running: u64,
}

fn secs(ms: i64) -> String {
    rfc3339(ms.div_euclid(1000))
}

impl Store {
    /// Queues a job unless `max_queue` jobs wait or run already. A re-match already queued
    /// is not queued twice.
    pub fn enqueue(
        &self,
        kind: &str,
        payload: &Value,
        max_queue: usize,
        max_attempts: u32,
        now_ms: i64,
    ) -> Result<Enqueued, StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        if kind == REMATCH {
            let queued: Option<i64> = tx
                .query_row(
                    "SELECT id FROM jobs WHERE kind = ?1 AND state = 'queued' ORDER BY id LIMIT 1",
                    [kind],
                    |r| r.get(0),
                )
                .optional()
                .map_err(|e| self.err(e))?;
            if let Some(id) = queued {
                return Ok(Enqueued::Existing(id));
            }
        }
        let depth: i64 = tx
            .query_row(
                "SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        let depth = depth.max(0) as u64;
        if depth >= max_queue as u64 {
            return Ok(Enqueued::Full(depth));
        }
        tx.execute(
            "INSERT INTO jobs (kind, payload, state, max_attempts, created_at) VALUES (?1, ?2, 'queued', ?3, ?4)",
            params![kind, payload.to_string(), max_attempts.max(1), now_ms],
        )
        .map_err(|e| self.err(e))?;
        let id = tx.last_insert_rowid();
        tx.commit().map_err(|e| self.err(e))?;
        Ok(Enqueued::Queued(id))
    }

    /// Takes the oldest job that is queued or whose lease expired, for `worker` until
    /// `now_ms + lease_ms`. Jobs whose lease expired for the last allowed time are failed
    /// first.
    pub fn take_job(
        &self,
        worker: &str,
        lease_ms: i64,
        now_ms: i64,
    ) -> Result<Option<Taken>, StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        tx.execute(
            "UPDATE jobs SET state = 'failed', finished_at = ?1,
               error = 'its worker (' || ifnull(worker, '?') || ') stopped holding it ' || attempts || ' times'
             WHERE state = 'running' AND lease_until < ?1 AND attempts >= max_attempts",
            [now_ms],
        )
        .map_err(|e| self.err(e))?;
        let taken: Option<(i64, String, String, i64)> = tx
            .query_row(
                "UPDATE jobs SET state = 'running', worker = ?1, lease_until = ?2 + ?3,
                   attempts = attempts + 1, started_at = ?2
                 WHERE id = (
                   SELECT id FROM jobs
                   WHERE (state = 'queued' OR (state = 'running' AND lease_until < ?2))
                     AND NOT (kind = 'rematch' AND EXISTS (
                       SELECT 1 FROM jobs r WHERE r.kind = 'rematch' AND r.state = 'running'
                         AND r.lease_until >= ?2))
                   ORDER BY id LIMIT 1)
                 RETURNING id, kind, payload, attempts",
                params![worker, now_ms, lease_ms],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(taken.map(|(id, kind, payload, attempts)| Taken {
            id,
            kind,
            payload: serde_json::from_str(&payload).unwrap_or(Value::Null),
            attempts,
        }))
    }

    /// Extends `worker`'s lease on job `id`; false when it no longer holds it.
    pub fn renew_lease(&self, id: i64, worker: &str, until_ms: i64) -> Result<bool, StoreError> {
        let conn = self.lock();
        let n = conn
            .execute(
                "UPDATE jobs SET lease_until = ?3 WHERE id = ?1 AND worker = ?2 AND state = 'running'",
                params![id, worker, until_ms],
            )
            .map_err(|e| self.err(e))?;
        Ok(n == 1)
    }

    /// Records job `id`'s outcome if `worker` still holds it (false: it does not; nothing
    /// is written).
    pub fn finish_job(
        &self,
        id: i64,
        worker: &str,
        outcome: &Result<Value, String>,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let (state, result, error) = match outcome {
            Ok(v) => ("done", Some(v.to_string()), None),
            Err(e) => ("failed", None, Some(e.as_str())),
        };
        let conn = self.lock();
        let n = conn
            .execute(
                "UPDATE jobs SET state = ?3, result = ?4, error = ?5, finished_at = ?6, lease_until = NULL
                 WHERE id = ?1 AND worker = ?2 AND state = 'running'",
                params![id, worker, state, result, error, now_ms],
            )
            .map_err(|e| self.err(e))?;
        Ok(n == 1)
    }

    /// Job `id`.
    pub fn job(&self, id: i64) -> Result<Option<Job>, StoreError> {
        let conn = self.lock();
        type Row = (
            i64,
            String,
            String,
            String,
            i64,
            Option<String>,
            Option<String>,
            Option<String>,
            i64,
            Option<i64>,
            Option<i64>,
        );
        let row: Option<Row> = conn
            .query_row(
                "SELECT id, kind, payload, state, attempts, worker, error, result, created_at, started_at, finished_at FROM jobs WHERE id = ?1",
                [id],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                        r.get(9)?,
                        r.get(10)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(row.map(
            |(id, kind, payload, state, attempts, worker, error, result, c, s, f)| Job {
                id,
                kind,
                payload: serde_json::from_str(&payload).unwrap_or(Value::Null),
                state,
                attempts,
                worker,
                error,
                result: result.and_then(|r| serde_json::from_str(&r).ok()),
                created_at: secs(c),
                started_at: s.map(secs),
                finished_at: f.map(secs),
            },
        ))
    }

    /// Jobs queued and running.
    pub fn queue_depth(&self) -> Result<Depth, StoreError> {
        let conn = self.lock();
        let mut st = conn
            .prepare_cached(
                "SELECT state, count(*) FROM jobs WHERE state IN ('queued', 'running') GROUP BY state",
            )
            .map_err(|e| self.err(e))?;
        let rows: Vec<(String, i64)> = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(Iterator::collect)
            .map_err(|e| self.err(e))?;
        let mut d = Depth::default();
        for (state, n) in rows {
            match state.as_str() {
                "queued" => d.queued = n.max(0) as u64,
                _ => d.running = n.max(0) as u64,
            }
        }
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn a_job_is_taken_once_and_an_expired_lease_makes_it_takeable_again() {
        let t = tempfile::tempdir().unwrap();
        let s = Store::open(&t.path().join("s.db")).unwrap();
        let Enqueued::Queued(id) = s.enqueue(SCAN, &json!({"ref": "a"}), 2, 2, 1000).unwrap()
        else {
            panic!("not queued")
        };
        assert!(matches!(
            s.enqueue(SCAN, &json!({"ref": "b"}), 2, 2, 1000).unwrap(),
            Enqueued::Queued(_)
        ));
        assert_eq!(
            s.enqueue(SCAN, &json!({"ref": "c"}), 2, 2, 1000).unwrap(),
            Enqueued::Full(2)
        );
        let a = s.take_job("w1", 500, 2000).unwrap().unwrap();
        assert_eq!((a.id, a.attempts), (id, 1));
        assert_eq!(a.payload["ref"], "a");
        let b = s.take_job("w2", 500, 2000).unwrap().unwrap();
        assert_ne!(b.id, id);
        assert_eq!(s.take_job("w2", 500, 2100).unwrap(), None);
        assert_eq!(
            s.queue_depth().unwrap(),
            Depth {
                queued: 0,
                running: 2
            }
        );
        // w1 renews; w2's lease runs out and w3 takes its job.
        assert!(s.renew_lease(id, "w1", 4000).unwrap());
        let again = s.take_job("w3", 500, 2600).unwrap().unwrap();
        assert_eq!((again.id, again.attempts), (b.id, 2));
        assert!(!s.finish_job(b.id, "w2", &Ok(json!({})), 2700).unwrap());
        assert!(
            s.finish_job(b.id, "w3", &Ok(json!({"image_id": 7})), 2700)
                .unwrap()
        );
        let j = s.job(b.id).unwrap().unwrap();
        assert_eq!((j.state.as_str(), j.attempts), ("done", 2));
        assert_eq!(j.result, Some(json!({"image_id": 7})));
        assert_eq!(j.worker.as_deref(), Some("w3"));
        // w1 dies: after its second expiry (max_attempts 2) the job is failed.
        assert_eq!(s.take_job("w4", 500, 4100).unwrap().unwrap().id, id);
        assert_eq!(s.take_job("w5", 500, 4700).unwrap(), None);
        let j = s.job(id).unwrap().unwrap();
        assert_eq!(j.state, "failed");
        assert!(j.error.unwrap().contains("w4"));
        assert_eq!(s.queue_depth().unwrap(), Depth::default());
    }

    #[test]
    fn one_rematch_at_a_time_and_never_two_queued() {
        let t = tempfile::tempdir().unwrap();
        let s = Store::open(&t.path().join("s.db")).unwrap();
        let Enqueued::Queued(r1) = s.enqueue(REMATCH, &json!({}), 10, 1, 0).unwrap() else {
            panic!()
        };
        assert_eq!(
            s.enqueue(REMATCH, &json!({}), 10, 1, 0).unwrap(),
            Enqueued::Existing(r1)
        );
        assert_eq!(s.take_job("w1", 1000, 10).unwrap().unwrap().id, r1);
        let Enqueued::Queued(r2) = s.enqueue(REMATCH, &json!({}), 10, 1, 20).unwrap() else {
            panic!()
        };
        let Enqueued::Queued(scan) = s.enqueue(SCAN, &json!({}), 10, 1, 20).unwrap() else {
            panic!()
        };
        // The second re-match waits for the first; the scan goes past it.
        assert_eq!(s.take_job("w2", 1000, 30).unwrap().unwrap().id, scan);
        assert_eq!(s.take_job("w2", 1000, 30).unwrap(), None);
        assert!(s.finish_job(r1, "w1", &Err("x".into()), 40).unwrap());
        assert_eq!(s.job(r1).unwrap().unwrap().error.as_deref(), Some("x"));
        assert_eq!(s.take_job("w2", 1000, 50).unwrap().unwrap().id, r2);
    }
}

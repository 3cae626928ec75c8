//! The store's two SQL backends behind one small interface: SQLite (rusqlite, a file) and
//! PostgreSQL (the synchronous `postgres` client, `postgres://` URLs).
//!
//! Statements are written once, with `?N` parameters; for PostgreSQL they become `$N`.
//! Values cross as [`Val`] (null, integer, text, bytes) and rows come back as [`Row`]s of
//! them, so the store's code does not know which backend answers. What differs is written
//! per backend where it is used: the schema's column types ([`crate::store::MIGRATIONS`]
//! holds both), case-insensitive names (SQLite's `COLLATE NOCASE` columns, PostgreSQL's
//! `lower()` indexes: [`ci`]) and the job queue's `FOR UPDATE SKIP LOCKED`.

use bytes::BytesMut;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// A value bound to a statement or read from a row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::Int(v)
    }
}
impl From<bool> for Val {
    fn from(v: bool) -> Val {
        Val::Int(i64::from(v))
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::Text(v.to_string())
    }
}
impl From<String> for Val {
    fn from(v: String) -> Val {
        Val::Text(v)
    }
}
impl From<&String> for Val {
    fn from(v: &String) -> Val {
        Val::Text(v.clone())
    }
}
impl From<Vec<u8>> for Val {
    fn from(v: Vec<u8>) -> Val {
        Val::Blob(v)
    }
}
impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(v: Option<T>) -> Val {
        v.map_or(Val::Null, Into::into)
    }
}

/// `vals![a, b, c]`: a parameter list.
macro_rules! vals {
    ($($v:expr),* $(,)?) => { &[$($crate::db::Val::from($v)),*][..] };
}
pub(crate) use vals;

/// A problem of either backend.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Postgres(#[from] postgres::Error),
    #[error("column {0}: {1}")]
    Type(usize, &'static str),
    #[error(
        "no free PostgreSQL connection within {} s (all {size} in use: raise --db-pool-size)",
        waited.as_secs_f64()
    )]
    PoolTimeout { size: usize, waited: Duration },
}

/// One result row.
#[derive(Debug, Clone)]
pub(crate) struct Row(pub Vec<Val>);

impl Row {
    fn at(&self, i: usize) -> Result<&Val, DbError> {
        self.0.get(i).ok_or(DbError::Type(i, "no such column"))
    }
    pub fn i64(&self, i: usize) -> Result<i64, DbError> {
        match self.at(i)? {
            Val::Int(v) => Ok(*v),
            _ => Err(DbError::Type(i, "not an integer")),
        }
    }
    pub fn opt_i64(&self, i: usize) -> Result<Option<i64>, DbError> {
        match self.at(i)? {
            Val::Null => Ok(None),
            _ => self.i64(i).map(Some),
        }
    }
    pub fn text(&self, i: usize) -> Result<String, DbError> {
        match self.at(i)? {
            Val::Text(v) => Ok(v.clone()),
            _ => Err(DbError::Type(i, "not text")),
        }
    }
    pub fn opt_text(&self, i: usize) -> Result<Option<String>, DbError> {
        match self.at(i)? {
            Val::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }
    pub fn opt_blob(&self, i: usize) -> Result<Option<Vec<u8>>, DbError> {
        match self.at(i)? {
            Val::Null => Ok(None),
            _ => self.blob(i).map(Some),
        }
    }
    pub fn blob(&self, i: usize) -> Result<Vec<u8>, DbError> {
        match self.at(i)? {
            Val::Blob(v) => Ok(v.clone()),
            Val::Text(v) => Ok(v.clone().into_bytes()),
            _ => Err(DbError::Type(i, "not bytes")),
        }
    }
}

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Val::Null => ValueRef::Null,
            Val::Int(v) => ValueRef::Integer(*v),
            Val::Text(v) => ValueRef::Text(v.as_bytes()),
            Val::Blob(v) => ValueRef::Blob(v),
        }))
    }
}

impl ToSql for Val {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Val::Null => Ok(IsNull::Yes),
            Val::Int(v) => match *ty {
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                Type::BOOL => (*v != 0).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => v.to_string().to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            Val::Text(v) => v.to_sql(ty, out),
            Val::Blob(v) => v.to_sql(ty, out),
        }
    }
    fn accepts(_: &Type) -> bool {
        true
    }
    to_sql_checked!();
}

/// A connection to either backend.
pub(crate) enum Conn {
    Lite(rusqlite::Connection),
    Pg(Box<postgres::Client>),
}

/// A case-insensitive comparison key: the column itself in SQLite (its collation is
/// NOCASE), `lower(...)` in PostgreSQL (`pg`; indexed so).
pub(crate) fn ci(pg: bool, expr: &str) -> String {
    if pg {
        format!("lower({expr})")
    } else {
        expr.to_string()
    }
}

/// `?N` -> `$N` (outside quotes).
fn dollar(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    for c in sql.chars() {
        if c == '\'' {
            quoted = !quoted;
        }
        out.push(if c == '?' && !quoted { '$' } else { c });
    }
    out
}

impl Conn {
    pub fn is_pg(&self) -> bool {
        matches!(self, Conn::Pg(_))
    }

    /// Statements without parameters or results (a schema, BEGIN, COMMIT).
    pub fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        match self {
            Conn::Lite(c) => Ok(c.execute_batch(sql)?),
            Conn::Pg(c) => Ok(c.batch_execute(sql)?),
        }
    }

    /// Runs a statement; the rows it changed.
    pub fn exec(&mut self, sql: &str, p: &[Val]) -> Result<u64, DbError> {
        match self {
            Conn::Lite(c) => {
                let mut st = c.prepare_cached(sql)?;
                Ok(st.execute(rusqlite::params_from_iter(p.iter()))? as u64)
            }
            Conn::Pg(c) => {
                let params: Vec<&(dyn ToSql + Sync)> =
                    p.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
                Ok(c.execute(dollar(sql).as_str(), &params)?)
            }
        }
    }

    /// Runs a query; its rows.
    pub fn query(&mut self, sql: &str, p: &[Val]) -> Result<Vec<Row>, DbError> {
        match self {
            Conn::Lite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let n = st.column_count();
                let mut rows = st.query(rusqlite::params_from_iter(p.iter()))?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    let mut row = Vec::with_capacity(n);
                    for i in 0..n {
                        use rusqlite::types::ValueRef;
                        row.push(match r.get_ref(i)? {
                            ValueRef::Null => Val::Null,
                            ValueRef::Integer(v) => Val::Int(v),
                            ValueRef::Real(v) => Val::Int(v as i64),
                            ValueRef::Text(t) => Val::Text(String::from_utf8_lossy(t).into()),
                            ValueRef::Blob(b) => Val::Blob(b.to_vec()),
                        });
                    }
                    out.push(Row(row));
                }
                Ok(out)
            }
            Conn::Pg(c) => {
                let params: Vec<&(dyn ToSql + Sync)> =
                    p.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
                let rows = c.query(dollar(sql).as_str(), &params)?;
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    let mut row = Vec::with_capacity(r.len());
                    for (i, col) in r.columns().iter().enumerate() {
                        let v = match *col.type_() {
                            Type::INT8 => r.try_get::<_, Option<i64>>(i)?.map(Val::Int),
                            Type::INT4 => {
                                r.try_get::<_, Option<i32>>(i)?.map(|v| Val::Int(v.into()))
                            }
                            Type::INT2 => {
                                r.try_get::<_, Option<i16>>(i)?.map(|v| Val::Int(v.into()))
                            }
                            Type::BOOL => {
                                r.try_get::<_, Option<bool>>(i)?.map(|v| Val::Int(v.into()))
                            }
                            Type::BYTEA => r.try_get::<_, Option<Vec<u8>>>(i)?.map(Val::Blob),
                            _ => r.try_get::<_, Option<String>>(i)?.map(Val::Text),
                        };
                        row.push(v.unwrap_or(Val::Null));
                    }
                    out.push(Row(row));
                }
                Ok(out)
            }
        }
    }

    /// The first row of a query, if any.
    pub fn query_opt(&mut self, sql: &str, p: &[Val]) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, p)?.into_iter().next())
    }

    /// The first row of a query, which must have one.
    pub fn query_one(&mut self, sql: &str, p: &[Val]) -> Result<Row, DbError> {
        self.query_opt(sql, p)?
            .ok_or(DbError::Type(0, "the query returned no row"))
    }

    /// Begins a transaction (SQLite: taking the write lock at once).
    pub fn begin(&mut self) -> Result<(), DbError> {
        self.batch(if self.is_pg() {
            "BEGIN"
        } else {
            "BEGIN IMMEDIATE"
        })
    }

    pub fn commit(&mut self) -> Result<(), DbError> {
        self.batch("COMMIT")
    }

    /// Rolls back (after an error: its own failure is not worth reporting over the first).
    pub fn rollback(&mut self) {
        let _ = self.batch("ROLLBACK");
    }

    /// Runs `f` in a transaction: committed when it returns Ok, rolled back otherwise.
    pub fn tx<T, E: From<DbError>>(
        &mut self,
        f: impl FnOnce(&mut Conn) -> Result<T, E>,
    ) -> Result<T, E> {
        self.begin()?;
        match f(self) {
            Ok(v) => {
                if let Err(e) = self.commit() {
                    self.rollback();
                    return Err(e.into());
                }
                Ok(v)
            }
            Err(e) => {
                self.rollback();
                Err(e)
            }
        }
    }
}

/// A bounded pool of PostgreSQL connections: at most `size` open, opened when needed (the
/// first at [`PgPool::connect`]), a connection that broke (the server closed it) dropped on
/// its return and replaced by the next checkout. A checkout waits at most `timeout` for a
/// free one ([`DbError::PoolTimeout`] past it).
pub(crate) struct PgPool {
    url: String,
    size: usize,
    timeout: Duration,
    state: Mutex<PoolState>,
    freed: Condvar,
}

struct PoolState {
    idle: Vec<postgres::Client>,
    /// Connections open: idle, checked out, or being opened.
    open: usize,
}

impl PgPool {
    /// A pool of at most `size` connections to `url`, with one opened now (so that a wrong
    /// URL is an error at start).
    pub fn connect(url: &str, size: usize, timeout: Duration) -> Result<PgPool, DbError> {
        let first = postgres::Client::connect(url, postgres::NoTls)?;
        Ok(PgPool {
            url: url.to_string(),
            size: size.max(1),
            timeout,
            state: Mutex::new(PoolState {
                idle: vec![first],
                open: 1,
            }),
            freed: Condvar::new(),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A connection, for as long as the guard lives.
    pub fn get(&self) -> Result<Pooled<'_>, DbError> {
        let start = Instant::now();
        let mut st = self.state();
        loop {
            if let Some(c) = st.idle.pop() {
                if c.is_closed() {
                    st.open -= 1;
                    continue;
                }
                return Ok(Pooled {
                    pool: self,
                    conn: Some(Conn::Pg(Box::new(c))),
                });
            }
            if st.open < self.size {
                st.open += 1;
                drop(st);
                return match postgres::Client::connect(&self.url, postgres::NoTls) {
                    Ok(c) => Ok(Pooled {
                        pool: self,
                        conn: Some(Conn::Pg(Box::new(c))),
                    }),
                    Err(e) => {
                        self.state().open -= 1;
                        self.freed.notify_one();
                        Err(e.into())
                    }
                };
            }
            let waited = start.elapsed();
            let Some(left) = self.timeout.checked_sub(waited).filter(|l| !l.is_zero()) else {
                return Err(DbError::PoolTimeout {
                    size: self.size,
                    waited,
                });
            };
            st = self
                .freed
                .wait_timeout(st, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    fn put(&self, conn: Conn) {
        let mut st = self.state();
        match conn {
            // Not after a panic (a transaction may be open), nor a closed one.
            Conn::Pg(c) if !c.is_closed() && !std::thread::panicking() => st.idle.push(*c),
            Conn::Pg(c) => {
                st.open -= 1;
                drop(st);
                close(vec![*c]);
            }
            Conn::Lite(_) => st.open -= 1,
        }
        self.freed.notify_one();
    }

    /// Connections open now, and idle among them.
    #[cfg(test)]
    pub fn counts(&self) -> (usize, usize) {
        let st = self.state();
        (st.open, st.idle.len())
    }
}

impl Drop for PgPool {
    fn drop(&mut self) {
        let st = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        close(std::mem::take(&mut st.idle));
    }
}

/// Closes PostgreSQL connections. A `postgres::Client` closes by blocking on its own
/// runtime, which panics on a thread that drives another (the server's tokio runtime, where
/// the store is dropped at shutdown): there, they are closed on a thread of their own.
fn close(clients: Vec<postgres::Client>) {
    if clients.is_empty() {
        return;
    }
    if tokio::runtime::Handle::try_current().is_ok() {
        let _ = std::thread::spawn(move || drop(clients)).join();
    } else {
        drop(clients);
    }
}

/// A connection checked out of a [`PgPool`], returned to it when dropped.
pub(crate) struct Pooled<'a> {
    pool: &'a PgPool,
    conn: Option<Conn>,
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        // Some until drop.
        self.conn.as_ref().unwrap_or_else(|| unreachable!())
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn.as_mut().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            self.pool.put(c);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parameters_become_dollars_outside_quotes() {
        assert_eq!(
            super::dollar("SELECT '?' || a FROM t WHERE b = ?1 AND c = ?12"),
            "SELECT '?' || a FROM t WHERE b = $1 AND c = $12"
        );
    }
}

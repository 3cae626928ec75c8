//! Writing a database: the [`Builder`].
//!
//! A builder works on a temporary file beside its target (`<target>.tmp-<pid>`), either a new
//! empty database ([`Builder::create`]) or a copy of the current one
//! ([`Builder::from_existing`]); [`Builder::replace_source`] swaps one feed's records in one
//! transaction; [`Builder::commit`] writes `meta`, fsyncs and renames the file over the target.
//! The temporary file is owned by a guard that removes it when the builder is dropped without
//! committing, so an error anywhere (or a panic) leaves no file behind and the target
//! untouched. A builder holds the writer's lock ([`super::file::WriteLock`]) from before it
//! reads the target until it is committed or dropped, writes beside the file a symlinked
//! target names, and first removes the temporaries killed writers left ([`super::file`]).
//!
//! A new database is bulk-loaded without its secondary indexes (the unique index on ids
//! among them): they are built at commit, one sort each instead of a B-tree insert per row
//! (the import's main cost besides JSON), with full pages. Until then the builder knows every
//! source it wrote, so replacing a source it never wrote deletes nothing, and the hashes of
//! the ids it wrote, so a new id needs no index; the first write that has to delete or
//! replace (an id written twice, a source replaced twice) builds the indexes first, so
//! deletes never scan and a second write of an id fails the unique index as usual.
//!
//! The per-record work that needs no connection (serialising the record, computing its
//! lookup keys) is [`Prepared::new`], which callers can run on another thread than the one
//! writing ([`Writer::prepared`]). The writer packs records into blocks of their source,
//! compressed against the source's dictionary (trained on the source's first records,
//! `codec.rs`), interns package keys and links them by rowid, one list of records a
//! package written once per package ([`Links`]; the layout is in [`schema`]).
//! Training and compression run on the writer's compressor thread (`compress.rs`): the
//! writing thread places each record in its block and inserts its rows at once, and stores
//! the dictionary and the compressed blocks as they come back (in order, before anything
//! reads a block), so the database is the same as if it compressed them itself.
//! A new id costs one insert (an id already stored fails its UNIQUE constraint and is then
//! replaced in place); on a new database a set of the hashes of the package keys written
//! says which keys are new, so a key the (capped) cache lacks is inserted without a lookup.
//!
//! **Compaction.** A record replaced in place leaves its old bytes in its block. The writer
//! remembers the blocks it thinned so, and [`Writer::finish`] rewrites those left with fewer
//! live records than half their slots (`blocks.records`): the live records are packed into
//! new blocks of their source and the old block is dropped. Every block a writer touched is
//! therefore at least half live when it commits, so the dead bytes stay below the live ones
//! however many incremental updates replace the same records (the test
//! `updates_replacing_records_do_not_grow_the_file`). Finding the live records of those
//! blocks costs one pass over `advisories` (no index on `block`: it would cost every record
//! bytes on disk for the benefit of updates only).
//!
//! **Memory** does not grow with the number of records: SQLite's page cache is fixed
//! ([`WRITER_CACHE_KIB`]), the package-key cache is capped ([`MAX_PACKAGE_CACHE`]), so are
//! the links not yet written ([`MAX_PENDING_LINKS`]), at most
//! [`MAX_COMPRESSORS`] zstd contexts are alive, blocks are sealed at [`MAX_OPEN_BLOCKS`], and
//! the importer hands records over in bounded batches.
//!
//! Times are written as RFC 3339 UTC with whole seconds (`2026-01-02T03:04:05Z`), through
//! `jiff`.

use super::compress::{Compressor, Done, Job};
use super::file::{self, WriteLock};
use super::{Database, DbError, classify, codec, schema, sqlite_err, strings};
use crate::import::{ImportBatch, KevEntry};
use moat_model::advisory::Advisory;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Download metadata of one source, kept for conditional requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceMeta {
    pub url: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// A writable database being built on a temporary file beside its target.
pub struct Builder {
    // Declared before `tmp`: the connection is closed before the file is removed.
    conn: Connection,
    tmp: TmpFile,
    /// Declared after `tmp`: released once the file is renamed or removed.
    lock: WriteLock,
    /// The database file (a symlinked path resolved: the link stays a link).
    target: PathBuf,
    rebuilt: Option<String>,
    /// While the secondary indexes are not built (a new database). `None` once they are.
    deferred: Option<Deferred>,
}

/// What a builder of a new database knows while its secondary indexes are deferred: no
/// record was replaced or deleted yet, so every write was a plain insert.
#[derive(Debug, Default)]
struct Deferred {
    /// The sources written so far.
    written: HashSet<String>,
    /// The hashes of every package key inserted so far (`None` past [`MAX_KEY_HASHES`]): a
    /// key whose hash is not in it is new and inserted without a lookup (a hash in it, from
    /// a collision, a key that left the capped cache or a rolled back writer, costs one).
    /// Without it a mirror-sized import looked up every key its cache had dropped.
    keys: Option<HashedKeys>,
    /// The rowid of every advisory id inserted so far, by the id's hash: the unique index on
    /// ids is deferred too, so an id whose hash is in it is looked at by that rowid; the
    /// same id (written twice: a record in two feeds, as OSV's SUSE and openSUSE or Wolfi and
    /// Chainguard archives hold theirs) is replaced in place with the bulk load going on,
    /// another one (a collision, a row of a writer rolled back) builds the indexes first
    /// ([`Writer::index`]) and then goes the way of an id already stored. Past
    /// [`MAX_KEY_HASHES`] the indexes are built.
    ids: HashedIds,
    /// The `coverage` table counted as records were written: source -> ecosystem ->
    /// advisories (`None` past [`MAX_COVERAGE_KEYS`]: computed by SQL at commit instead).
    coverage: Option<Coverage>,
}

/// Source -> ecosystem (release key) -> distinct advisories.
type Coverage = ByName<ByName<i64>>;

/// A map keyed by a source label or an ecosystem, looked up several times a record (its
/// block, dictionary, label id, count and coverage): hashed by foldhash (already built for
/// hashbrown), not std's SipHash, which was ~1% of an import's instructions for these
/// short keys. Seeded at random per process like std's, so labels written without knowing
/// the seed cannot pick collisions.
type ByName<V> = HashMap<String, V, foldhash::fast::RandomState>;

/// Most (source, ecosystem) pairs counted while writing.
const MAX_COVERAGE_KEYS: usize = 65_536;

/// Adds `from` to `into`; false when the result would have more than [`MAX_COVERAGE_KEYS`]
/// pairs.
fn add_coverage(into: &mut Coverage, from: Coverage) -> bool {
    for (source, ecos) in from {
        let to = into.entry(source).or_default();
        for (eco, n) in ecos {
            *to.entry(eco).or_default() += n;
        }
    }
    into.values().map(HashMap::len).sum::<usize>() <= MAX_COVERAGE_KEYS
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("tmp", &self.tmp.path)
            .field("target", &self.target)
            .finish()
    }
}

/// The temporary file of a builder, removed (with its journal) on drop unless
/// [`TmpFile::keep`] says it was renamed into place.
struct TmpFile {
    path: PathBuf,
}

impl TmpFile {
    /// `<target>.tmp-<pid>`, with whatever an earlier run of this process left there removed.
    fn beside(target: &Path) -> TmpFile {
        let mut name = target
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_else(|| "moat.db".into());
        name.push(format!(".tmp-{}", std::process::id()));
        let path = target.with_file_name(name);
        remove_quietly(&path);
        TmpFile { path }
    }

    fn keep(mut self) {
        self.path = PathBuf::new();
    }
}

impl Drop for TmpFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            remove_quietly(&self.path);
        }
    }
}

fn remove_quietly(tmp: &Path) {
    let _ = std::fs::remove_file(tmp);
    let mut j = tmp.as_os_str().to_os_string();
    j.push("-journal");
    let _ = std::fs::remove_file(PathBuf::from(j));
}

/// The writer's SQLite page cache, in KiB.
const WRITER_CACHE_KIB: u32 = 8192;
/// The page cache while [`Builder::commit`] sorts, in KiB: it also sizes the sorter's runs.
const COMMIT_CACHE_KIB: u32 = 1024;
/// Helper threads SQLite's sorter may use while [`Builder::commit`] sorts (measured on two
/// cores: 3 was no faster than 2).
const COMMIT_SORT_THREADS: u32 = 2;

fn open_writable(tmp: &Path) -> Result<Connection, DbError> {
    let conn = Connection::open(tmp).map_err(sqlite_err(tmp))?;
    // The temporary file is renamed into place only after an explicit fsync in `commit`, so
    // SQLite's own syncing buys nothing here. The rollback journal is a file beside it (not
    // memory): replacing a large source journals its old pages, which must not grow memory.
    //
    // The page cache is small and fixed ([`WRITER_CACHE_KIB`]): the writer's memory must not
    // grow with the file (a bigger cache bought little: the import's inserts go mostly to
    // the ends of the tables).
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = TRUNCATE; PRAGMA synchronous = OFF; PRAGMA cache_size = -{WRITER_CACHE_KIB};"
    ))
    .map_err(sqlite_err(tmp))?;
    Ok(conn)
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> DbError + '_ {
    move |source| DbError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A UTC time as RFC 3339 with whole seconds (`2026-01-02T03:04:05Z`).
fn rfc3339(t: jiff::Timestamp) -> String {
    jiff::Timestamp::from_second(t.as_second())
        .unwrap_or(t)
        .to_string()
}

/// The current UTC time as RFC 3339 (`2026-01-02T03:04:05Z`).
fn now_rfc3339() -> String {
    rfc3339(jiff::Timestamp::now())
}

impl Builder {
    /// A new, empty database at `<target>.tmp-<pid>` (the target's directory is created).
    pub fn create(target: &Path) -> Result<Builder, DbError> {
        let (target, lock) = Self::locked(target)?;
        Self::create_locked(&target, lock)
    }

    /// The resolved target, locked (waiting up to [`file::DEFAULT_LOCK_TIMEOUT`]; a caller
    /// that took the lock itself is not blocked), with stale temporaries removed.
    fn locked(target: &Path) -> Result<(PathBuf, WriteLock), DbError> {
        let target = file::resolve(target)?;
        let lock = WriteLock::acquire(&target, file::DEFAULT_LOCK_TIMEOUT, &mut |_| {})?;
        file::remove_stale(&target);
        Ok((target, lock))
    }

    fn create_locked(target: &Path, lock: WriteLock) -> Result<Builder, DbError> {
        if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        let tmp = TmpFile::beside(target);
        let conn = open_writable(&tmp.path)?;
        schema::create_tables(&conn, &tmp.path)?;
        conn.execute_batch(STAGE_SQL)
            .map_err(sqlite_err(&tmp.path))?;
        Ok(Builder {
            conn,
            tmp,
            lock,
            target: target.to_path_buf(),
            rebuilt: None,
            deferred: Some(Deferred {
                written: HashSet::new(),
                keys: Some(HashedKeys::default()),
                ids: HashedIds::default(),
                coverage: Some(Coverage::default()),
            }),
        })
    }

    /// A copy of the current database at the temporary path. A missing target, or one that is
    /// corrupt or of another schema, starts empty instead (that is how `moat db update` rebuilds
    /// a broken or older database); [`Builder::rebuilt`] then says why.
    pub fn from_existing(target: &Path) -> Result<Builder, DbError> {
        let (target, lock) = Self::locked(target)?;
        let target = target.as_path();
        let reason = match Database::open_read_only(target) {
            Ok(db) => {
                drop(db);
                match Self::copy_of(target) {
                    Ok((conn, tmp)) => {
                        return Ok(Builder {
                            conn,
                            tmp,
                            lock,
                            target: target.to_path_buf(),
                            rebuilt: None,
                            deferred: None,
                        });
                    }
                    Err(e) => e.to_string(),
                }
            }
            Err(DbError::NotFound { .. }) => {
                return Self::create_locked(target, lock);
            }
            Err(e) => e.to_string(),
        };
        let mut b = Self::create_locked(target, lock)?;
        b.rebuilt = Some(reason);
        Ok(b)
    }

    /// A checked copy of `target` at the temporary path, opened.
    fn copy_of(target: &Path) -> Result<(Connection, TmpFile), DbError> {
        let tmp = TmpFile::beside(target);
        std::fs::copy(target, &tmp.path).map_err(io_err(&tmp.path))?;
        let conn = open_writable(&tmp.path)?;
        schema::check_meta(&conn, &tmp.path)?;
        let ok: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(sqlite_err(&tmp.path))?;
        if ok != "ok" {
            return Err(DbError::Corrupt {
                path: target.to_path_buf(),
                reason: ok,
            });
        }
        Ok((conn, tmp))
    }

    /// Set when [`Builder::from_existing`] could not use the existing database and started
    /// empty: why.
    pub fn rebuilt(&self) -> Option<&str> {
        self.rebuilt.as_deref()
    }

    /// The temporary file being written.
    pub fn temp_path(&self) -> &Path {
        &self.tmp.path
    }

    /// Replaces everything of `source` with `batch` in one transaction: the source's advisories
    /// and KEV entries are dropped, the batch's are inserted (each advisory's `source` set to
    /// `source`; an id already stored by another source is taken over, the later import wins),
    /// and `sources` gets `meta` and the time. Package names are stored in the lookup form of
    /// [`moat_model::normalize_name`]. Returns the number of records the source now holds
    /// (advisories plus KEV entries; duplicate ids in the batch count once).
    pub fn replace_source(
        &mut self,
        source: &str,
        batch: &ImportBatch,
        meta: SourceMeta,
    ) -> Result<usize, DbError> {
        self.write_source(source, batch, meta, Mode::Replace)
    }

    /// Adds or replaces the records of `batch` in `source`, keyed by record id (KEV entries
    /// by CVE): the source's other records stay. Otherwise as [`Builder::replace_source`].
    pub fn merge_source(
        &mut self,
        source: &str,
        batch: &ImportBatch,
        meta: SourceMeta,
    ) -> Result<usize, DbError> {
        self.write_source(source, batch, meta, Mode::Merge)
    }

    fn write_source(
        &mut self,
        source: &str,
        batch: &ImportBatch,
        meta: SourceMeta,
        mode: Mode,
    ) -> Result<usize, DbError> {
        let mut w = self.writer(mode)?;
        w.touch(source)?;
        for adv in &batch.advisories {
            w.advisory(source, adv)?;
        }
        for k in &batch.kev {
            w.kev(source, k)?;
        }
        w.set_meta(source, meta);
        let counts = w.finish()?;
        Ok(counts.get(source).copied().unwrap_or(0))
    }

    /// A [`Writer`]: one transaction that records are streamed into (see its docs). Dropping
    /// it without [`Writer::finish`] rolls everything it wrote back.
    pub fn writer(&mut self, mode: Mode) -> Result<Writer<'_>, DbError> {
        let tmp = self.tmp.path.clone();
        // The transaction and the writer's held statements share the connection, which
        // this builder lends for as long as the writer lives (so no second transaction
        // can start on it).
        let conn: &Connection = &self.conn;
        let tx =
            rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Deferred)
                .map_err(sqlite_err(&tmp))?;
        Ok(Writer {
            tx,
            statements: Statements::new(conn),
            tmp,
            mode,
            touched: BTreeMap::new(),
            deferred: &mut self.deferred,
            coverage: Coverage::default(),
            coverage_keys: 0,
            collecting: None,
            held: Vec::new(),
            zstd: Compressor::default(),
            spare: Vec::new(),
            codecs: ByName::default(),
            decoders: codec::Decompressors::default(),
            thinned: HashSet::new(),
            thinned_all: false,
            fresh: HashSet::new(),
            packages: KeyCache::default(),
            pstaged: true,
            key: String::new(),
            next_package: None,
            blocks: ByName::default(),
            next_block: None,
            deleted: false,
            counted: ByName::default(),
            uncounted: false,
            labels: ByName::default(),
            links: Links::default(),
        })
    }

    /// The stored download metadata of a source (None when the source was never imported).
    pub fn source_meta(&self, source: &str) -> Result<Option<SourceMeta>, DbError> {
        self.conn
            .query_row(
                "SELECT url, etag, last_modified FROM sources WHERE name = ?1",
                [source],
                |r| {
                    Ok(SourceMeta {
                        url: r.get(0)?,
                        etag: r.get(1)?,
                        last_modified: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(sqlite_err(&self.tmp.path))
    }

    /// The records `source` holds now (advisories plus KEV entries; 0 when never imported).
    pub fn source_records(&self, source: &str) -> Result<u64, DbError> {
        self.conn
            .query_row(
                "SELECT (SELECT count(*) FROM advisories \
                 WHERE source = (SELECT id FROM labels WHERE name = ?1)) \
                 + (SELECT count(*) FROM kev WHERE source = ?1)",
                [source],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(sqlite_err(&self.tmp.path))
    }

    /// Names of the sources stored so far.
    pub fn source_names(&self) -> Result<Vec<String>, DbError> {
        strings(
            &self.conn,
            &self.tmp.path,
            "SELECT name FROM sources ORDER BY name",
            [],
        )
    }

    /// Writes `meta` (schema version, `built_at`), closes the connection, fsyncs the file and
    /// renames it over the target (atomic on one filesystem), then fsyncs the directory.
    pub fn commit(self) -> Result<(), DbError> {
        let Builder {
            conn,
            tmp,
            target,
            deferred,
            lock,
            ..
        } = self;
        let path = tmp.path.clone();
        // The file's pages written so far (all of an import's records) go to the disk while
        // this thread builds the keys and indexes below, on a core that is otherwise idle;
        // the fsync at the end then has only what those wrote. Best effort: an error here
        // shows again in the final fsync.
        let early = {
            let path = path.clone();
            std::thread::Builder::new()
                .name("moat-db-sync".into())
                .spawn(move || std::fs::File::open(&path).and_then(|f| f.sync_data()))
                .ok()
        };
        // What is left is sorting: the staged package keys and aliases, and the id index.
        // SQLite's sorter hands each run it fills to a helper thread to sort and write
        // while it reads on, so the commit's one busy core becomes about two; small runs
        // (a small page cache, which is what sizes them) keep both busy sooner. On the
        // 500k mirror set this moved the staged keys and aliases in 0.46-0.50 s instead of
        // 0.62-0.67 s and built the id index in 0.10-0.11 s instead of 0.13-0.14 s, with
        // the same peak memory (BENCHMARKS.md, Session 34).
        conn.execute_batch(&format!(
            "PRAGMA threads = {COMMIT_SORT_THREADS}; PRAGMA cache_size = -{COMMIT_CACHE_KIB};"
        ))
        .map_err(sqlite_err(&path))?;
        // Always (not only when deferred): a writer that moved the staged rows and built
        // the indexes, then was rolled back, took both with it.
        unstage(&conn, &path)?;
        schema::create_indexes(&conn, &path)?;
        match deferred.and_then(|d| d.coverage) {
            Some(counted) => {
                let rows = counted.iter().flat_map(|(source, ecos)| {
                    ecos.iter()
                        .map(move |(eco, n)| (eco.as_str(), source.as_str(), *n))
                });
                schema::write_coverage_rows(&conn, &path, rows)?;
            }
            None => schema::write_coverage(&conn, &path)?,
        }
        schema::write_meta(&conn, &path, Some(&now_rfc3339()))?;
        conn.execute_batch("PRAGMA journal_mode = DELETE; PRAGMA optimize;")
            .map_err(sqlite_err(&path))?;
        conn.close().map_err(|(_, e)| sqlite_err(&path)(e))?;
        if let Some(t) = early {
            let _ = t.join();
        }
        std::fs::File::open(&path)
            .and_then(|f| f.sync_all())
            .map_err(io_err(&path))?;
        std::fs::rename(&path, &target).map_err(io_err(&target))?;
        tmp.keep();
        if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Make the rename durable; not every platform can open a directory.
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        drop(lock);
        Ok(())
    }
}

/// One advisory made ready for [`Writer::prepared`]: its stored JSON and its lookup keys,
/// computed without the database (so on any thread).
///
/// Its keys are kept in one buffer (`keys`, cut by `packages`) rather than two strings a
/// package: a record is made on a worker and freed on the writing thread, and every
/// allocation crossing threads so costs the allocator more than the copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    id: String,
    source: String,
    /// The record as stored (its `source` set), or why it could not be serialised.
    pub(crate) json: Result<String, String>,
    /// The text of the distinct (release key, lookup name) pairs of its `affected` entries,
    /// in order, one after the other.
    keys: String,
    /// Where each pair ends in `keys`: (end of the release key, end of the name).
    pub(crate) packages: Vec<(usize, usize)>,
    /// Distinct aliases other than the id, in order.
    pub(crate) aliases: Vec<String>,
    /// Where in `packages` each distinct ecosystem first occurs.
    ecosystems: Vec<usize>,
}

/// Records with more distinct keys than this find duplicates through a hash map
/// ([`first_seen`]) rather than by comparing with every key before.
const LINEAR_DEDUP: usize = 16;

/// The index of the first item seen under each (already mixed) hash: [`first_seen`]'s map.
type FirstSeen = HashMap<u64, usize, std::hash::BuildHasherDefault<Mixed>>;

/// Whether the item at index `at`, hashed `h`, is seen for the first time: compared
/// (`same`) with the first item under `h`, and with every earlier item (`earlier`) when that
/// one differs (another item under the same hash). A new item is recorded under `h` unless
/// one is there already.
fn first_seen(
    first: &mut FirstSeen,
    h: u64,
    at: usize,
    same: impl Fn(usize) -> bool,
    mut earlier: impl Iterator<Item = usize>,
) -> bool {
    let new = match first.get(&h) {
        None => true,
        Some(&i) if same(i) => false,
        Some(_) => !earlier.any(same),
    };
    if new {
        first.entry(h).or_insert(at);
    }
    new
}

impl Prepared {
    /// The source the record is stored in.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The `i`th distinct (release key, lookup name) pair.
    fn package(&self, i: usize) -> Option<(&str, &str)> {
        let &(eco_end, name_end) = self.packages.get(i)?;
        let start = match i.checked_sub(1) {
            Some(prev) => self.packages.get(prev)?.1,
            None => 0,
        };
        Some((
            self.keys.get(start..eco_end)?,
            self.keys.get(eco_end..name_end)?,
        ))
    }

    /// `adv` as it is stored in `source`: package names in the lookup form of
    /// [`moat_model::normalize_name`], ecosystems as the release their entries apply to
    /// ([`crate::distro::release_key`]).
    pub fn new(source: &str, adv: &Advisory) -> Prepared {
        let written = if adv.source == source {
            to_json(adv)
        } else {
            let mut a = adv.clone();
            a.source = source.to_string();
            to_json(&a)
        };
        Prepared::from_parts(
            &adv.id,
            source,
            written.map_err(|err| format!("{}: {err}", adv.id)),
            adv.affected
                .iter()
                .map(|a| (a.package.ecosystem.as_str(), a.package.name.as_str())),
            adv.affected.len(),
            adv.aliases.iter().map(String::as_str),
            adv.aliases.len(),
        )
    }

    /// A record from its parts: `json` as stored, the (ecosystem, name) of each `affected`
    /// entry (`n_packages` of them) and its aliases (`n_aliases`), as written in the record.
    pub(crate) fn from_parts<'x>(
        id: &str,
        source: &str,
        json: Result<String, String>,
        packages: impl Iterator<Item = (&'x str, &'x str)>,
        n_packages: usize,
        aliases: impl Iterator<Item = &'x str>,
        n_aliases: usize,
    ) -> Prepared {
        let mut p = Prepared {
            id: id.to_string(),
            source: source.to_string(),
            json,
            // Room for typical keys (ecosystem and name ~30 B): grown as pushed, it was
            // reallocated a few times a record.
            keys: String::with_capacity(n_packages.min(4096) * 32),
            packages: Vec::with_capacity(n_packages),
            aliases: Vec::new(),
            ecosystems: Vec::new(),
        };
        // Distinct keys and ecosystems, first occurrences kept: compared with the ones before
        // in a record with few entries; in one with many, found through maps from a keyed
        // hash to the first key with it, compared on a hit (a different key under the same
        // hash, a chance of 2^-64, falls back to comparing with every key before). The hash
        // is foldhash seeded at random per process (a feed, written without knowing the
        // seed, cannot pick keys that collide), not std's SipHash: ~0.5% of an import's time
        // went to SipHash here. Sets of owned strings cost three allocations and two hashes
        // a key, on the 61% of the mirror set's keys that are in records with many.
        let many = n_packages > LINEAR_DEDUP;
        let state = foldhash::fast::RandomState::default();
        let mut first_key = FirstSeen::default();
        let mut first_eco = FirstSeen::default();
        for (ecosystem, package) in packages {
            let eco = crate::distro::release_key(ecosystem);
            let name = moat_model::normalize_name(&eco, package);
            let n = p.packages.len();
            let same_key = |i: usize| p.package(i) == Some((&eco, &name));
            let new = if many {
                let h = std::hash::BuildHasher::hash_one(&state, (&*eco, &*name));
                first_seen(&mut first_key, h, n, same_key, 0..n)
            } else {
                !(0..n).any(same_key)
            };
            if !new {
                continue;
            }
            let same_eco = |i: usize| p.package(i).is_some_and(|(e, _)| e == eco);
            let mut earlier = p.ecosystems.iter().copied();
            let eco_is_new = if many {
                let h = std::hash::BuildHasher::hash_one(&state, &*eco);
                first_seen(&mut first_eco, h, n, same_eco, earlier)
            } else {
                !earlier.any(same_eco)
            };
            p.keys.push_str(&eco);
            let eco_end = p.keys.len();
            p.keys.push_str(&name);
            p.packages.push((eco_end, p.keys.len()));
            if eco_is_new {
                p.ecosystems.push(n);
            }
        }
        let many = n_aliases > LINEAR_DEDUP;
        let mut seen: HashSet<&str, foldhash::fast::RandomState> = HashSet::default();
        for alias in aliases {
            if alias == id {
                continue;
            }
            let new = if many {
                seen.insert(alias)
            } else {
                !p.aliases.iter().any(|a| a == alias)
            };
            if new {
                p.aliases.push(alias.to_string());
            }
        }
        p
    }
}

/// `adv` as stored: compact JSON, written into a buffer sized for a typical record.
fn to_json(adv: &Advisory) -> serde_json::Result<String> {
    let mut out = Vec::with_capacity(4096);
    serde_json::to_writer(&mut out, adv)?;
    // serde_json writes UTF-8 only.
    String::from_utf8(out).map_err(|e| serde::ser::Error::custom(e.to_string()))
}

/// Most emptied block buffers a [`Writer`] keeps to fill again: a block is filled while the
/// compressor works on the ones before, so a few are enough to make none while writing.
const SPARE_BLOCKS: usize = 4;

/// Every source's count, from its rows in `advisories` and `kev`.
const RECOUNT_SQL: &str = "UPDATE sources SET records = \
   coalesce((SELECT n FROM (SELECT l.name AS source, count(*) AS n FROM advisories a \
     JOIN labels l ON l.id = a.source GROUP BY a.source) WHERE source = sources.name), 0) \
 + coalesce((SELECT n FROM (SELECT source, count(*) AS n FROM kev GROUP BY source) WHERE source = sources.name), 0)";

/// How a [`Writer`] treats the records a source already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The first time a source is written to (or [`Writer::touch`]ed), its stored records are
    /// dropped: the source becomes exactly what is written (`moat db update`, `moat db import
    /// --replace-source`).
    Replace,
    /// Records are added or replaced by id (KEV entries by CVE); the source's other records
    /// stay (`moat db import`).
    Merge,
}

/// Records streamed into the database in one transaction: [`Writer::advisory`] and
/// [`Writer::kev`] one at a time (memory stays flat however many there are),
/// [`Writer::finish`] updates `sources` and commits. Dropped unfinished, everything it wrote
/// is rolled back (the transaction's journal is a file beside the temporary database, so a
/// large replacement does not grow memory either).
///
/// An id already stored replaces the stored record with its `affected` and `aliases` rows,
/// whichever source held it: the later write wins, and that source's count is recomputed.
///
/// Records are stored zstd-compressed against a dictionary of their source (see
/// `codec.rs`): the first records of a source without one (or of a source this writer
/// replaces) are written at once and copied as samples until there are enough to train it
/// (or a record of another source, or [`Writer::finish`], comes first); their blocks are
/// held until the training is asked for. The order of writes, and so which of two records
/// with one id wins, is the order of calls.
pub struct Writer<'a> {
    tx: rusqlite::Transaction<'a>,
    /// The statements run once a record or more, prepared once a writer.
    statements: Statements<'a>,
    tmp: PathBuf,
    mode: Mode,
    /// Sources written to, with the metadata to store for them.
    touched: BTreeMap<String, Option<SourceMeta>>,
    /// The builder's, while the secondary indexes are deferred.
    deferred: &'a mut Option<Deferred>,
    /// Coverage counted by this transaction (added to the builder's when it commits).
    coverage: Coverage,
    coverage_keys: usize,
    /// The samples being collected to train a source's dictionary (the source's first
    /// records, while no other source's come between).
    collecting: Option<Collecting>,
    /// Blocks of the source being collected for, sealed before its dictionary was asked
    /// for: sent to the compressor after the training job.
    held: Vec<(i64, String, codec::BlockBuf)>,
    /// Dictionary training and block compression, on a thread of their own.
    zstd: Compressor,
    /// Emptied block buffers the compressor handed back, to fill again (at most
    /// [`SPARE_BLOCKS`]).
    spare: Vec<codec::BlockBuf>,
    /// The dictionary of each source written to so far.
    codecs: ByName<Dict>,
    /// Decompressors for stored blocks (a replaced record's aliases, compaction).
    decoders: codec::Decompressors,
    /// Blocks that lost records to this writer (replaced in place): compacted at finish when
    /// under half of their records are live. At most [`MAX_THINNED`], then `thinned_all`.
    thinned: HashSet<i64>,
    /// More blocks thinned than `thinned` holds: every block is looked at.
    thinned_all: bool,
    /// Sources whose stored records this writer dropped: they get a new dictionary.
    fresh: HashSet<String>,
    /// Package ids by the key of `ecosystem NUL name` ([`KeyCache`]).
    packages: KeyCache,
    /// Whether new package keys may be staged in `temp.pstage` (moved into `packages` before
    /// a lookup: [`flush_packages`]).
    pstaged: bool,
    /// The key of the package looked up last (one buffer, not two strings a lookup).
    key: String,
    /// The next new package id (read from the table when first needed).
    next_package: Option<i64>,
    /// The block being filled for each source, with the id it will be stored under.
    blocks: ByName<(i64, codec::BlockBuf)>,
    /// The next new block id (read from the table when first needed).
    next_block: Option<i64>,
    /// Whether records were deleted or replaced (unused dictionaries and packages are
    /// dropped at finish).
    deleted: bool,
    /// The number of records of each source this writer knows exactly: sources it emptied
    /// (replaced) or that a new database never had, plus what it wrote to them since.
    /// [`Writer::finish`] stores these instead of counting every source's rows again (a
    /// pass over all of `advisories`, once a source: ~0.08 s at 500,000 records).
    counted: ByName<i64>,
    /// A record was added to or taken from a source whose count this writer does not know:
    /// [`Writer::finish`] counts every source.
    uncounted: bool,
    /// The id of each source label in `labels` (what `advisories.source` holds).
    labels: ByName<i64>,
    /// Links between packages and records added or removed, not yet in `affected`.
    links: Links,
}

/// The statements a writer runs for (nearly) every record, each prepared the first time it
/// is needed and held until the writer ends, instead of found again in rusqlite's statement
/// cache by its text at every use (hashing the text twice a use, the cache's own
/// bookkeeping: ~2% of the 500k import's instructions, for three statements run about 1.4
/// million times).
struct Statements<'a> {
    conn: &'a Connection,
    insert_advisory: Option<rusqlite::Statement<'a>>,
    stage_key: Option<rusqlite::Statement<'a>>,
    stage_aliases: Option<rusqlite::Statement<'a>>,
}

/// Which of the [`Statements`].
#[derive(Clone, Copy)]
enum Sql {
    InsertAdvisory,
    StageKey,
    StageAliases,
}

impl<'a> Statements<'a> {
    fn new(conn: &'a Connection) -> Statements<'a> {
        Statements {
            conn,
            insert_advisory: None,
            stage_key: None,
            stage_aliases: None,
        }
    }

    /// The statement `which`, prepared on first use.
    fn get(&mut self, which: Sql) -> rusqlite::Result<&mut rusqlite::Statement<'a>> {
        let (slot, sql) = match which {
            Sql::InsertAdvisory => (
                &mut self.insert_advisory,
                "INSERT INTO advisories(id, source, packages, block, slot) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            ),
            Sql::StageKey => (
                &mut self.stage_key,
                "INSERT INTO temp.pstage(ecosystem, name, id) VALUES (?1, ?2, ?3)",
            ),
            Sql::StageAliases => (
                &mut self.stage_aliases,
                "INSERT INTO temp.stage(advisory, aliases) VALUES (?1, ?2)",
            ),
        };
        match slot {
            Some(st) => Ok(st),
            None => Ok(slot.insert(self.conn.prepare(sql)?)),
        }
    }
}

/// The (package, record) links a writer added and removed since it last wrote `affected`
/// ([`Writer::apply_links`], at [`Writer::finish`] or when [`MAX_PENDING_LINKS`] are
/// pending): one `u64` each, the package id in the high 32 bits, the record's rowid in the
/// next 31 and whether the link is added in the lowest. Sorted (stably: of two operations on
/// one link the later wins), they give each package's changes in one run, so each
/// package's row is written once however many records name it: `affected` holds a list
/// per package (schema 7), and the 3.2 million links of the bench's 500k set become 590,715
/// rows written in key order.
#[derive(Debug, Default)]
struct Links {
    ops: Vec<u64>,
    /// Whether any operation removes a link (if not, no order among equal links matters).
    removes: bool,
}

/// Most link operations a writer holds before writing them (8 B each). Measured on the
/// 500k set (590,715 packages, 3.2 M links): 65,536 / 262,144 / 1,048,576 / 4,194,304 took
/// 6.90 / 6.81 / 6.78 / 6.77 s and 97 / 101 / 126 / 118 MiB at peak; writing a package's
/// row several times costs little because most records link new packages.
const MAX_PENDING_LINKS: usize = if cfg!(test) { 64 } else { 1 << 18 };

impl Links {
    /// Records that `rowid` now names (`add`) or no longer names `package`; false when an id
    /// is out of the range the packing holds (a package id past `u32`, a rowid past `2^31`).
    fn push(&mut self, package: i64, rowid: i64, add: bool) -> bool {
        let (Ok(p), Ok(r)) = (u32::try_from(package), u32::try_from(rowid)) else {
            return false;
        };
        if r >= 1 << 31 {
            return false;
        }
        self.ops
            .push((u64::from(p) << 32) | (u64::from(r) << 1) | u64::from(add));
        self.removes |= !add;
        true
    }
}

/// The dictionary of a source's blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dict {
    /// Stored under this id (`None`: the source's blocks have no dictionary).
    Known(Option<i64>),
    /// Being trained by the compressor (its result comes before the source's blocks').
    Training,
}

/// The first records of a source, collected to train its dictionary: their bytes one
/// after the other, and each one's length.
struct Collecting {
    source: String,
    data: Vec<u8>,
    sizes: Vec<usize>,
}

/// The alias rows of a new database, staged: a writer of a new database appends one row per
/// record with aliases to this temporary table (SQLite's temporary file, not the database;
/// keyed by the record's rowid, so every insert goes to the end): the rowid of the record
/// and its aliases as a JSON array; a record replaced while the indexes are deferred drops
/// its row first ([`Deferred::ids`]). Inserting into the WITHOUT ROWID `aliases` table
/// directly was a statement per row and, the aliases coming in no order, a B-tree search
/// and an insert in the middle of the tree for each. [`unstage`] moves the rows sorted by
/// key, one statement, before the secondary indexes are built (at commit, or before the
/// first delete). (The package links went the same way until schema 7; they are now
/// [`Links`].)
///
/// New package keys are staged the same way (`pstage`: ecosystem, name, id, appended in
/// the order the ids are given): inserting them into the WITHOUT ROWID `packages` tree by
/// their text key, in no order, was most of the writing thread's SQLite time once the link
/// rows were staged. They are moved sorted by key before anything reads `packages` (a
/// lookup of a key the writer may have written, [`flush_packages`]), and by [`unstage`].
const STAGE_SQL: &str = "CREATE TEMP TABLE IF NOT EXISTS stage(\
    advisory INTEGER PRIMARY KEY, aliases TEXT NOT NULL);
    CREATE TEMP TABLE IF NOT EXISTS pstage(\
    ecosystem TEXT NOT NULL, name TEXT NOT NULL, id INTEGER NOT NULL)";

/// Moves the staged package keys (if any) into `packages`, in key order, leaving the stage
/// empty (it stays: later new keys are staged again).
fn flush_packages(conn: &Connection, path: &Path) -> Result<(), DbError> {
    if !has_temp_table(conn, path, "pstage")? {
        return Ok(());
    }
    conn.execute_batch(
        "INSERT INTO packages(ecosystem, name, id) \
           SELECT ecosystem, name, id FROM temp.pstage ORDER BY 1, 2;
         DELETE FROM temp.pstage;",
    )
    .map_err(sqlite_err(path))
}

/// Whether the temporary table `name` exists.
fn has_temp_table(conn: &Connection, path: &Path, name: &str) -> Result<bool, DbError> {
    conn.prepare_cached(
        "SELECT count(*) FROM temp.sqlite_master WHERE type = 'table' AND name = ?1",
    )
    .and_then(|mut st| st.query_row([name], |r| r.get::<_, i64>(0)))
    .map(|n| n > 0)
    .map_err(sqlite_err(path))
}

/// Moves the staged package keys and alias rows (if any) into `packages` and `aliases`, in
/// key order.
fn unstage(conn: &Connection, path: &Path) -> Result<(), DbError> {
    let e = sqlite_err(path);
    if has_temp_table(conn, path, "pstage")? {
        flush_packages(conn, path)?;
        conn.execute_batch("DROP TABLE temp.pstage;").map_err(&e)?;
    }
    if !has_temp_table(conn, path, "stage")? {
        return Ok(());
    }
    conn.execute_batch(
        "INSERT OR IGNORE INTO aliases(alias, advisory) \
           SELECT j.value, s.advisory FROM temp.stage s, json_each(s.aliases) j ORDER BY 1, 2;
         DROP TABLE temp.stage;",
    )
    .map_err(&e)
}

/// `stored` without `dels`, with `adds` (each sorted, `dels` and `adds` disjoint), into
/// `out`, sorted.
fn merge_links(stored: &[u32], dels: &[u32], adds: &[u32], out: &mut Vec<u32>) {
    out.clear();
    let (mut d, mut a) = (0, 0);
    for &id in stored {
        while dels.get(d).is_some_and(|&x| x < id) {
            d += 1;
        }
        if dels.get(d) == Some(&id) {
            continue;
        }
        while let Some(&x) = adds.get(a).filter(|&&x| x <= id) {
            if x < id {
                out.push(x);
            }
            a += 1;
        }
        out.push(id);
    }
    out.extend_from_slice(adds.get(a..).unwrap_or_default());
}

/// Most package ids in each generation of a writer's [`KeyCache`] (~3 MiB a generation).
const MAX_PACKAGE_CACHE: usize = 32_768;

/// Package ids by the [`key_hash`] of `ecosystem NUL name` (with the key, compared on a
/// hit; hashed once a key, by the hash the builder's key set needs anyway), in two
/// generations of at most [`MAX_PACKAGE_CACHE`]: when the current one is full it becomes
/// the previous one (the one before is dropped), and a key found in the previous one is
/// copied into the current one. A key it lacks is looked up in the database unless
/// [`Deferred::keys`] says it is new, and on a new database that lookup first moves the
/// staged keys into `packages` ([`flush_packages`]: a statement over the stage and inserts
/// all over the table). One generation cleared when full (what this was) dropped the keys
/// records keep using too: on the 500k mirror set (590,715 keys) 13,730 such lookups and
/// flushes, ~0.5 s of the 8.7 s import; with two generations none.
#[derive(Default)]
struct KeyCache {
    current: HashMap<u64, (Box<str>, i64), std::hash::BuildHasherDefault<Mixed>>,
    previous: HashMap<u64, (Box<str>, i64), std::hash::BuildHasherDefault<Mixed>>,
}

impl KeyCache {
    /// The id of `key` (whose [`key_hash`] is `hash`), when cached.
    fn get(&mut self, hash: u64, key: &str) -> Option<i64> {
        if let Some((k, id)) = self.current.get(&hash)
            && **k == *key
        {
            return Some(*id);
        }
        let id = match self.previous.get(&hash) {
            Some((k, id)) if **k == *key => *id,
            _ => return None,
        };
        self.insert(hash, key, id);
        Some(id)
    }

    /// Remembers the id of `key`.
    fn insert(&mut self, hash: u64, key: &str, id: i64) {
        if self.current.len() >= MAX_PACKAGE_CACHE {
            std::mem::swap(&mut self.current, &mut self.previous);
            self.current.clear();
        }
        self.current.insert(hash, (key.into(), id));
    }
}

/// Most key hashes a builder of a new database remembers (8 B each and the set's slack:
/// at most ~36 MiB; past it, a key the cache lacks is looked up), and most id hashes (16 B
/// each with the rowid: at most ~72 MiB; past it, the indexes are built).
const MAX_KEY_HASHES: usize = 1 << 21;

/// The 64-bit hash of a package key (`ecosystem NUL name`) or an id, for [`Deferred::keys`]
/// and [`Deferred::ids`].
///
/// A fixed hash (the same key gives the same hash for the whole builder; collisions only
/// cost a lookup or an early index build), eight bytes a step and a final mix: SipHash,
/// which this was, cost ~1.5% of an import's CPU for keys that are hashed only to be
/// remembered. Its keys were fixed too (zero), so it was no harder to collide on purpose.
fn key_hash(key: &str) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let bytes = key.as_bytes();
    let mut h = (bytes.len() as u64).wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(29);
    }
    let mut w = [0u8; 8];
    let rest = chunks.remainder();
    w[..rest.len()].copy_from_slice(rest);
    h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K);
    // murmur3's finaliser: every input bit reaches every output bit.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// A set of [`key_hash`]es, hashed as they are (they are mixed already).
type HashedKeys = HashSet<u64, std::hash::BuildHasherDefault<Mixed>>;

/// Rowids by the [`key_hash`] of their advisory's id: [`Deferred::ids`].
type HashedIds = HashMap<u64, i64, std::hash::BuildHasherDefault<Mixed>>;

/// The hasher of [`HashedKeys`]: the value itself.
#[derive(Default)]
struct Mixed(u64);

impl std::hash::Hasher for Mixed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Not used for u64 keys; any other input is folded in.
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// Most thinned blocks remembered one by one.
const MAX_THINNED: usize = 1 << 20;

/// Most blocks a writer fills at once (one per source; past this they are all sealed).
const MAX_OPEN_BLOCKS: usize = 64;

impl std::fmt::Debug for Writer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("tmp", &self.tmp)
            .field("mode", &self.mode)
            .finish()
    }
}

impl Writer<'_> {
    /// Marks `source` as written by this transaction (in [`Mode::Replace`], drops its stored
    /// records the first time). Writing records does this too; call it for a source that may
    /// turn out empty.
    pub fn touch(&mut self, source: &str) -> Result<(), DbError> {
        if self.touched.contains_key(source) {
            return Ok(());
        }
        self.touched.insert(source.to_string(), None);
        // A source never written to this new database has nothing to drop.
        let unwritten = self
            .deferred
            .as_mut()
            .is_some_and(|d| d.written.insert(source.to_string()));
        if unwritten || self.mode == Mode::Replace {
            // Empty now: a new database's source, or one this writer replaces.
            self.counted.insert(source.to_string(), 0);
        }
        if self.mode == Mode::Replace && !unwritten {
            self.index()?;
            self.deleted = true;
            self.fresh.insert(source.to_string());
            let stored: Vec<(i64, Vec<u8>)> = super::rows(
                &self.tx,
                &self.tmp,
                "SELECT rowid, packages FROM advisories \
                 WHERE source = (SELECT id FROM labels WHERE name = ?1)",
                [source],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            for (rowid, packages) in stored {
                self.unlink_packages(rowid, &packages)?;
            }
            let e = sqlite_err(&self.tmp);
            for sql in [
                "DELETE FROM aliases WHERE advisory IN (SELECT rowid FROM advisories \
                 WHERE source = (SELECT id FROM labels WHERE name = ?1))",
                "DELETE FROM advisories WHERE source = (SELECT id FROM labels WHERE name = ?1)",
                "DELETE FROM kev WHERE source = ?1",
            ] {
                self.tx.execute(sql, [source]).map_err(&e)?;
            }
        }
        Ok(())
    }

    /// The download metadata stored for `source` at [`Writer::finish`] (none: no URL).
    pub fn set_meta(&mut self, source: &str, meta: SourceMeta) {
        self.touched.insert(source.to_string(), Some(meta));
    }

    /// Builds the deferred secondary indexes (before a delete, which would scan without
    /// them).
    fn index(&mut self) -> Result<(), DbError> {
        if self.deferred.take().is_some() {
            unstage(&self.tx, &self.tmp)?;
            schema::create_indexes(&self.tx, &self.tmp)?;
        }
        Ok(())
    }

    /// Adds or replaces one advisory (by id) in `source`. Package names are stored in the
    /// lookup form of [`moat_model::normalize_name`], ecosystems as the release their entries
    /// apply to ([`crate::distro::release_key`]). The same as [`Writer::prepared`] with
    /// [`Prepared::new`].
    pub fn advisory(&mut self, source: &str, adv: &Advisory) -> Result<(), DbError> {
        let p = Prepared::new(source, adv);
        self.prepared(&p)
    }

    /// Adds or replaces one advisory made ready by [`Prepared::new`] (possibly on another
    /// thread).
    pub fn prepared(&mut self, p: &Prepared) -> Result<(), DbError> {
        if let Err(reason) = &p.json {
            return Err(DbError::Corrupt {
                path: self.tmp.clone(),
                reason: reason.clone(),
            });
        }
        if self
            .collecting
            .as_ref()
            .is_some_and(|c| c.source != p.source)
        {
            self.train()?;
        }
        self.touch(&p.source)?;
        let json = p.json.as_deref().unwrap_or_default().as_bytes();
        if !self.codecs.contains_key(&p.source) && self.collecting.is_none() {
            let stored = if self.fresh.contains(&p.source) {
                None
            } else {
                self.stored_dict(&p.source)?
            };
            match stored {
                // A source with a dictionary already (merged into): use it.
                Some((id, dict)) => self.use_dict(&p.source, Some(id), Some(dict))?,
                None => {
                    self.collecting = Some(Collecting {
                        source: p.source.clone(),
                        data: Vec::with_capacity(codec::TRAIN_BYTES.min(1 << 20)),
                        sizes: Vec::new(),
                    });
                }
            }
        }
        let full = match &mut self.collecting {
            Some(c) => {
                c.data.extend_from_slice(json);
                c.sizes.push(json.len());
                c.sizes.len() >= codec::TRAIN_RECORDS || c.data.len() >= codec::TRAIN_BYTES
            }
            None => false,
        };
        self.write(p)?;
        if full {
            self.train()?;
        }
        Ok(())
    }

    /// The newest stored dictionary of `source`.
    fn stored_dict(&self, source: &str) -> Result<Option<(i64, Vec<u8>)>, DbError> {
        self.tx
            .prepare_cached("SELECT id, dict FROM dicts WHERE source = ?1 ORDER BY id DESC LIMIT 1")
            .and_then(|mut st| {
                st.query_row([source], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(sqlite_err(&self.tmp))
    }

    /// Compresses the blocks of `source` against the stored dictionary `id` (`bytes`; none:
    /// without one).
    fn use_dict(
        &mut self,
        source: &str,
        id: Option<i64>,
        bytes: Option<Vec<u8>>,
    ) -> Result<(), DbError> {
        self.codecs.insert(source.to_string(), Dict::Known(id));
        let job = Job::Use {
            source: source.to_string(),
            dict: bytes,
        };
        self.send(job)
    }

    /// Sends a job to the compressor, first storing the results that are ready.
    fn send(&mut self, job: Job) -> Result<(), DbError> {
        let (tx, tmp, codecs, spare) = (&self.tx, &self.tmp, &mut self.codecs, &mut self.spare);
        self.zstd
            .send(job, tmp, &mut |d| Self::stored(tx, tmp, codecs, spare, d))
    }

    /// Waits for the compressor and stores everything it did: every block sealed so far is
    /// in `blocks` afterwards.
    fn sync(&mut self) -> Result<(), DbError> {
        let (tx, tmp, codecs, spare) = (&self.tx, &self.tmp, &mut self.codecs, &mut self.spare);
        self.zstd
            .sync(tmp, &mut |d| Self::stored(tx, tmp, codecs, spare, d))
    }

    /// Stores what the compressor did: a trained dictionary, a compressed block.
    fn stored(
        tx: &rusqlite::Transaction<'_>,
        tmp: &Path,
        codecs: &mut ByName<Dict>,
        spare: &mut Vec<codec::BlockBuf>,
        done: Done,
    ) -> Result<(), DbError> {
        let corrupt = |reason: String| DbError::Corrupt {
            path: tmp.to_path_buf(),
            reason,
        };
        match done {
            Done::Trained { source, dict } => {
                let id = match dict {
                    Some(dict) => {
                        tx.prepare_cached("INSERT INTO dicts(source, dict) VALUES (?1, ?2)")
                            .and_then(|mut st| st.execute(params![source, dict]))
                            .map_err(sqlite_err(tmp))?;
                        Some(tx.last_insert_rowid())
                    }
                    None => None,
                };
                codecs.insert(source, Dict::Known(id));
            }
            Done::Block {
                id,
                source,
                records,
                data,
                buf,
            } => {
                if spare.len() < SPARE_BLOCKS {
                    spare.push(buf);
                }
                let Some(Dict::Known(dict)) = codecs.get(&source).copied() else {
                    return Err(corrupt(format!("block {id}: no dictionary for {source}")));
                };
                tx.prepare_cached(
                    "INSERT INTO blocks(id, dict, records, data) VALUES (?1, ?2, ?3, ?4)",
                )
                .and_then(|mut st| st.execute(params![id, dict, records as i64, data]))
                .map_err(sqlite_err(tmp))?;
            }
            Done::Failed(reason) => return Err(corrupt(reason)),
        }
        Ok(())
    }

    /// The stored dictionary `id`.
    fn dict_bytes(tx: &rusqlite::Transaction<'_>, tmp: &Path, id: i64) -> Result<Vec<u8>, DbError> {
        tx.prepare_cached("SELECT dict FROM dicts WHERE id = ?1")
            .and_then(|mut st| st.query_row([id], |r| r.get::<_, Vec<u8>>(0)).optional())
            .map_err(sqlite_err(tmp))?
            .ok_or_else(|| DbError::Corrupt {
                path: tmp.to_path_buf(),
                reason: format!("dictionary {id} is missing"),
            })
    }

    /// Asks the compressor to train the dictionary of the source being collected for (on
    /// the samples collected; none when too few), then to compress the source's blocks
    /// sealed meanwhile.
    fn train(&mut self) -> Result<(), DbError> {
        let Some(c) = self.collecting.take() else {
            return Ok(());
        };
        self.codecs.insert(c.source.clone(), Dict::Training);
        self.send(Job::Train {
            source: c.source,
            data: c.data,
            sizes: c.sizes,
        })?;
        for (id, source, buf) in std::mem::take(&mut self.held) {
            self.send(Job::Block { id, source, buf })?;
        }
        Ok(())
    }

    /// The id of a package key, inserted when new.
    fn package(&mut self, eco: &str, name: &str) -> Result<i64, DbError> {
        self.key.clear();
        self.key.push_str(eco);
        self.key.push('\0');
        self.key.push_str(name);
        let hash = key_hash(&self.key);
        if let Some(id) = self.packages.get(hash, &self.key) {
            return Ok(id);
        }
        let e = sqlite_err(&self.tmp);
        if self.next_package.is_none() {
            // Staged keys (an earlier writer's) have ids too.
            if self.pstaged {
                flush_packages(&self.tx, &self.tmp)?;
                self.pstaged = false;
            }
            let next: i64 = self
                .tx
                .query_row("SELECT coalesce(max(id), 0) + 1 FROM packages", [], |r| {
                    r.get(0)
                })
                .map_err(&e)?;
            self.next_package = Some(next);
        }
        let new = self
            .deferred
            .as_ref()
            .and_then(|d| d.keys.as_ref())
            .is_some_and(|known| !known.contains(&hash));
        let stored: Option<i64> = if new {
            None
        } else {
            if self.pstaged {
                flush_packages(&self.tx, &self.tmp)?;
                self.pstaged = false;
            }
            self.tx
                .prepare_cached("SELECT id FROM packages WHERE ecosystem = ?1 AND name = ?2")
                .and_then(|mut st| st.query_row([eco, name], |r| r.get(0)).optional())
                .map_err(&e)?
        };
        let id = match stored {
            Some(id) => id,
            None => {
                let id = self.next_package.unwrap_or(1);
                self.next_package = Some(id + 1);
                // A new database stages its new keys: see [`STAGE_SQL`].
                if self.deferred.is_some() {
                    self.pstaged = true;
                    self.statements
                        .get(Sql::StageKey)
                        .and_then(|st| st.execute(params![eco, name, id]))
                } else {
                    self.tx
                        .prepare_cached(
                            "INSERT INTO packages(ecosystem, name, id) VALUES (?1, ?2, ?3)",
                        )
                        .and_then(|mut st| st.execute(params![eco, name, id]))
                }
                .map_err(&e)?;
                if let Some(d) = self.deferred.as_mut() {
                    match &mut d.keys {
                        Some(known) if known.len() < MAX_KEY_HASHES => {
                            known.insert(hash);
                        }
                        _ => d.keys = None,
                    }
                }
                id
            }
        };
        self.packages.insert(hash, &self.key, id);
        Ok(id)
    }

    /// Removes the record `rowid` from the lists of its packages, whose ids are `packages`
    /// (its `advisories.packages`).
    fn unlink_packages(&mut self, rowid: i64, packages: &[u8]) -> Result<(), DbError> {
        let Some(ids) = codec::decode_ids(packages) else {
            return Err(DbError::Corrupt {
                path: self.tmp.clone(),
                reason: format!("record {rowid}: package list does not decode"),
            });
        };
        for id in ids {
            self.link(id, rowid, false)?;
        }
        Ok(())
    }

    /// Adds (`add`) or removes the link between `package` and the record `rowid`, written
    /// to `affected` later ([`Links`]).
    fn link(&mut self, package: i64, rowid: i64, add: bool) -> Result<(), DbError> {
        if !self.links.push(package, rowid, add) {
            return Err(DbError::Corrupt {
                path: self.tmp.clone(),
                reason: format!(
                    "package {package} or record {rowid} is past the ids this schema links"
                ),
            });
        }
        if self.links.ops.len() >= MAX_PENDING_LINKS {
            self.apply_links()?;
        }
        Ok(())
    }

    /// Writes the pending [`Links`] into `affected`: each package's row read (when it may
    /// exist), changed and written once.
    fn apply_links(&mut self) -> Result<(), DbError> {
        if self.links.ops.is_empty() {
            return Ok(());
        }
        let Links { mut ops, removes } = std::mem::take(&mut self.links);
        if removes {
            ops.sort_by_key(|k| k >> 1);
        } else {
            // Adds only: equal links are equal values, any order serves.
            ops.sort_unstable();
        }
        let e = sqlite_err(&self.tmp);
        // Packages past the largest with a row have none: no lookup (a new database).
        let stored_max: i64 = self
            .tx
            .query_row("SELECT coalesce(max(package), 0) FROM affected", [], |r| {
                r.get(0)
            })
            .map_err(&e)?;
        let mut get = self
            .tx
            .prepare_cached("SELECT advisories FROM affected WHERE package = ?1")
            .map_err(&e)?;
        let mut put = self
            .tx
            .prepare_cached("INSERT OR REPLACE INTO affected(package, advisories) VALUES (?1, ?2)")
            .map_err(&e)?;
        let mut del = self
            .tx
            .prepare_cached("DELETE FROM affected WHERE package = ?1")
            .map_err(&e)?;
        let (mut adds, mut dels, mut stored, mut merged) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut bytes = Vec::new();
        for group in ops.chunk_by(|a, b| a >> 32 == b >> 32) {
            let package = i64::try_from(group.first().map_or(0, |k| k >> 32)).unwrap_or(0);
            adds.clear();
            dels.clear();
            // The last operation on each link decides it.
            for (k, op) in group.iter().enumerate() {
                if group.get(k + 1).is_some_and(|next| next >> 1 == op >> 1) {
                    continue;
                }
                let rowid = ((op >> 1) & 0x7fff_ffff) as u32;
                if op & 1 == 1 {
                    adds.push(rowid);
                } else {
                    dels.push(rowid);
                }
            }
            stored.clear();
            let had = package <= stored_max
                && match get
                    .query_row([package], |r| r.get::<_, Vec<u8>>(0))
                    .optional()
                    .map_err(&e)?
                {
                    Some(list) => {
                        if !codec::decode_sorted_ids(&list, &mut stored) {
                            return Err(DbError::Corrupt {
                                path: self.tmp.clone(),
                                reason: format!("package {package}: advisory list does not decode"),
                            });
                        }
                        true
                    }
                    None => false,
                };
            let list = if had {
                merge_links(&stored, &dels, &adds, &mut merged);
                &merged
            } else {
                &adds
            };
            if list.is_empty() {
                if had {
                    del.execute([package]).map_err(&e)?;
                }
                continue;
            }
            codec::encode_sorted_ids(list, &mut bytes);
            put.execute(params![package, bytes]).map_err(&e)?;
        }
        // The buffer is kept for the next links (it would grow again from nothing).
        ops.clear();
        self.links.ops = ops;
        Ok(())
    }

    /// Appends a record to the open block of `source` (a new one when there is none);
    /// returns (block id, slot). A full block is sealed.
    fn place(&mut self, source: &str, json: &[u8]) -> Result<(i64, usize), DbError> {
        if !self.blocks.contains_key(source) {
            if self.blocks.len() >= MAX_OPEN_BLOCKS {
                self.seal_all()?;
            }
            let id = match self.next_block {
                Some(n) => n,
                None => self
                    .tx
                    .query_row("SELECT coalesce(max(id), 0) + 1 FROM blocks", [], |r| {
                        r.get(0)
                    })
                    .map_err(sqlite_err(&self.tmp))?,
            };
            self.next_block = Some(id + 1);
            let buf = self.spare.pop().unwrap_or_else(codec::BlockBuf::full_size);
            self.blocks.insert(source.to_string(), (id, buf));
        }
        let Some((id, buf)) = self.blocks.get_mut(source) else {
            return Err(DbError::Corrupt {
                path: self.tmp.clone(),
                reason: format!("no open block for {source}"),
            });
        };
        let placed = (*id, buf.push(json));
        if buf.is_full() {
            self.seal(source)?;
        }
        Ok(placed)
    }

    /// Hands the open block of `source` to the compressor (which stores it compressed with
    /// its source's dictionary), or holds it while that dictionary is still being collected
    /// for.
    fn seal(&mut self, source: &str) -> Result<(), DbError> {
        let Some((id, buf)) = self.blocks.remove(source) else {
            return Ok(());
        };
        if self.collecting.as_ref().is_some_and(|c| c.source == source) {
            self.held.push((id, source.to_string(), buf));
            return Ok(());
        }
        if !self.codecs.contains_key(source) {
            return Err(DbError::Corrupt {
                path: self.tmp.clone(),
                reason: format!("block {id}: no dictionary for {source}"),
            });
        }
        self.send(Job::Block {
            id,
            source: source.to_string(),
            buf,
        })
    }

    /// Seals every open block.
    fn seal_all(&mut self) -> Result<(), DbError> {
        let sources: Vec<String> = self.blocks.keys().cloned().collect();
        for source in sources {
            self.seal(&source)?;
        }
        Ok(())
    }

    /// Writes one record into the open block of its source.
    fn write(&mut self, p: &Prepared) -> Result<(), DbError> {
        let json = p.json.as_deref().unwrap_or_default();
        let mut ids = Vec::with_capacity(p.packages.len());
        for i in 0..p.packages.len() {
            if let Some((eco, name)) = p.package(i) {
                ids.push(self.package(eco, name)?);
            }
        }
        let packages = codec::encode_ids(&ids);
        // While the unique index on ids is deferred, an id whose hash was written before is
        // looked at by the rowid kept for it: the same id is replaced in place; another one
        // (a collision) builds the index first, so that the insert below fails as for any
        // stored id. See [`Deferred::ids`].
        let hash = key_hash(&p.id);
        let mut again = None;
        match self
            .deferred
            .as_ref()
            .map(|d| (d.ids.len(), d.ids.get(&hash)))
        {
            Some((n, _)) if n >= MAX_KEY_HASHES => self.index()?,
            Some((_, Some(&rowid))) => {
                if self.stored_id(rowid)?.as_deref() == Some(p.id.as_str()) {
                    again = Some(rowid);
                } else {
                    self.index()?;
                }
            }
            Some((_, None)) | None => {}
        }
        let (block, slot) = self.place(&p.source, json.as_bytes())?;
        let slot = slot as i64;
        let label = self.label(&p.source)?;
        // A new id (the common case) is one insert; an id already stored fails its UNIQUE
        // constraint (or was found above) and is replaced in place, keeping its rowid (its
        // old bytes stay in their block, which is compacted at finish when under half of it
        // is live).
        let rowid = match again {
            Some(rowid) => self.replace_in_place(p, Some(rowid), label, &packages, block, slot)?,
            None => match self
                .statements
                .get(Sql::InsertAdvisory)
                .and_then(|st| st.execute(params![p.id, label, packages, block, slot]))
            {
                Ok(_) => {
                    self.count(&p.source, 1);
                    let rowid = self.tx.last_insert_rowid();
                    if let Some(d) = self.deferred.as_mut() {
                        d.ids.insert(hash, rowid);
                    }
                    rowid
                }
                Err(rusqlite::Error::SqliteFailure(f, _))
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    self.replace_in_place(p, None, label, &packages, block, slot)?
                }
                Err(err) => return Err(classify(&self.tmp, err)),
            },
        };
        for &package in &ids {
            self.link(package, rowid, true)?;
        }
        let e = |err| classify(&self.tmp, err);
        if self.deferred.is_some() {
            // A new database stages its alias rows: see [`STAGE_SQL`].
            if !p.aliases.is_empty() {
                let aliases =
                    serde_json::to_string(&p.aliases).map_err(|err| DbError::Corrupt {
                        path: self.tmp.clone(),
                        reason: format!("{}: aliases: {err}", p.id),
                    })?;
                self.statements
                    .get(Sql::StageAliases)
                    .and_then(|st| st.execute(params![rowid, aliases]))
                    .map_err(e)?;
            }
        } else {
            if !p.aliases.is_empty() {
                let mut ins_ali = self
                    .tx
                    .prepare_cached(
                        "INSERT OR IGNORE INTO aliases(alias, advisory) VALUES (?1, ?2)",
                    )
                    .map_err(e)?;
                for alias in &p.aliases {
                    ins_ali.execute(params![alias, rowid]).map_err(e)?;
                }
            }
        }
        if self.deferred.is_some() {
            self.cover(p, 1);
        }
        Ok(())
    }

    /// Adds `n` (taken away when negative) to the coverage counted while writing, for each
    /// ecosystem of `p` in its source; nothing once past [`MAX_COVERAGE_KEYS`].
    fn cover(&mut self, p: &Prepared, n: i64) {
        if self.coverage_keys > MAX_COVERAGE_KEYS {
            return;
        }
        if !self.coverage.contains_key(&p.source) {
            self.coverage.insert(p.source.clone(), ByName::default());
        }
        let Some(ecos) = self.coverage.get_mut(&p.source) else {
            return;
        };
        for &i in &p.ecosystems {
            if let Some((eco, _)) = p.package(i) {
                match ecos.get_mut(eco) {
                    Some(c) => *c += n,
                    None => {
                        ecos.insert(eco.to_string(), n);
                        self.coverage_keys += 1;
                    }
                }
            }
        }
    }

    /// `n` more records in `source` (fewer when negative), when this writer knows its count.
    fn count(&mut self, source: &str, n: i64) {
        match self.counted.get_mut(source) {
            Some(c) => *c += n,
            None => self.uncounted = true,
        }
    }

    /// The stored record of `p.id` replaced by `p` (now in `block`, `slot`): its `affected`
    /// and `aliases` rows deleted (the aliases read from its stored text), its row pointed
    /// at the new place. Returns its rowid. `known`: its rowid, found by [`Deferred::ids`]
    /// (the secondary indexes still deferred: its staged alias row and its part of the
    /// counted coverage go instead).
    fn replace_in_place(
        &mut self,
        p: &Prepared,
        known: Option<i64>,
        label: i64,
        packages: &[u8],
        block: i64,
        slot: i64,
    ) -> Result<i64, DbError> {
        let (sql, key) = match known {
            Some(rowid) => (
                "SELECT rowid, packages, block, slot, source FROM advisories WHERE rowid = ?1",
                rusqlite::types::Value::Integer(rowid),
            ),
            None => (
                "SELECT rowid, packages, block, slot, source FROM advisories WHERE id = ?1",
                rusqlite::types::Value::Text(p.id.clone()),
            ),
        };
        let (rowid, old, old_block, old_slot, old_label): (i64, Vec<u8>, i64, i64, i64) = self
            .tx
            .prepare_cached(sql)
            .and_then(|mut st| {
                st.query_row([key], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })
            })
            .map_err(sqlite_err(&self.tmp))?;
        let from = if old_label == label {
            Some(p.source.clone())
        } else {
            self.tx
                .prepare_cached("SELECT name FROM labels WHERE id = ?1")
                .and_then(|mut st| st.query_row([old_label], |r| r.get::<_, String>(0)))
                .optional()
                .map_err(sqlite_err(&self.tmp))?
        };
        if old_label != label {
            // The record moves from one source to another.
            match &from {
                Some(from) => self.count(from, -1),
                None => self.uncounted = true,
            }
            self.count(&p.source, 1);
        }
        if known.is_none() {
            self.index()?;
        }
        self.deleted = true;
        self.unlink_packages(rowid, &old)?;
        let tmp = self.tmp.clone();
        let e = |err| classify(&tmp, err);
        if self.deferred.is_some() {
            // Its aliases are still staged (one row a record), its ecosystems counted.
            let stored = self.stored_record(old_block, old_slot)?;
            self.uncount(from.as_deref(), stored.as_deref());
            self.tx
                .prepare_cached("DELETE FROM temp.stage WHERE advisory = ?1")
                .and_then(|mut st| st.execute([rowid]))
                .map_err(e)?;
        } else {
            match self.stored_aliases(old_block, old_slot)? {
                Some(aliases) => {
                    let mut del = self
                        .tx
                        .prepare_cached("DELETE FROM aliases WHERE alias = ?1 AND advisory = ?2")
                        .map_err(e)?;
                    for alias in aliases {
                        del.execute(params![alias, rowid]).map_err(e)?;
                    }
                }
                // Not readable: every row is looked at.
                None => {
                    self.tx
                        .execute("DELETE FROM aliases WHERE advisory = ?1", [rowid])
                        .map_err(e)?;
                }
            }
        }
        self.tx
            .prepare_cached(
                "UPDATE advisories SET source = ?2, packages = ?3, block = ?4, \
                 slot = ?5 WHERE rowid = ?1",
            )
            .and_then(|mut st| st.execute(params![rowid, label, packages, block, slot]))
            .map_err(e)?;
        self.thin(old_block);
        Ok(rowid)
    }

    /// Rewrites the blocks this writer thinned that hold fewer live records than half of
    /// their slots: their live records are packed into new blocks of their source (with the
    /// source's current dictionary) and the old blocks dropped. So a record replaced over and
    /// over (incremental updates, merges) does not grow the file without bound: every block
    /// a writer touched is at least half live afterwards (blocks shrink with their records).
    fn compact(&mut self) -> Result<(), DbError> {
        if self.thinned.is_empty() && !self.thinned_all {
            return Ok(());
        }
        let all = std::mem::take(&mut self.thinned_all);
        let thinned = std::mem::take(&mut self.thinned);
        let tmp = self.tmp.clone();
        let e = |err| classify(&tmp, err);
        // Live records per candidate block: one pass over `advisories` (no index on block).
        let mut live: HashMap<i64, i64> = HashMap::new();
        {
            let mut st = self.tx.prepare("SELECT block FROM advisories").map_err(e)?;
            let mut rows = st.query([]).map_err(e)?;
            while let Some(r) = rows.next().map_err(e)? {
                let block: i64 = r.get(0).map_err(e)?;
                if all || thinned.contains(&block) {
                    *live.entry(block).or_default() += 1;
                }
            }
        }
        let mut sparse: Vec<i64> = Vec::new();
        {
            let mut st = self
                .tx
                .prepare(if all {
                    "SELECT id, records FROM blocks"
                } else {
                    "SELECT id, records FROM blocks WHERE id IN (SELECT value FROM json_each(?1))"
                })
                .map_err(e)?;
            let ids = if all {
                String::new()
            } else {
                serde_json::to_string(&thinned.iter().collect::<Vec<_>>()).unwrap_or_default()
            };
            let read = |r: &rusqlite::Row<'_>| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?));
            let rows: Vec<(i64, i64)> = if all {
                st.query_map([], read)
            } else {
                st.query_map([ids], read)
            }
            .and_then(|rows| rows.collect())
            .map_err(e)?;
            for (id, records) in rows {
                let n = live.get(&id).copied().unwrap_or(0);
                // Empty blocks are dropped at finish without being read.
                if n > 0 && n * 2 < records {
                    sparse.push(id);
                }
            }
        }
        drop(live);
        sparse.sort_unstable();
        // The live records of the sparse blocks (under half of each block's slots).
        let mut moved: Vec<(i64, i64, i64, String)> = Vec::new();
        for chunk in sparse.chunks(4096) {
            moved.clear();
            {
                let ids = serde_json::to_string(chunk).unwrap_or_default();
                let mut st = self
                    .tx
                    .prepare(
                        "SELECT block, slot, rowid, (SELECT name FROM labels WHERE id = advisories.source) \
                         FROM advisories \
                         WHERE block IN (SELECT value FROM json_each(?1)) ORDER BY block, slot",
                    )
                    .map_err(e)?;
                let rows = st
                    .query_map([ids], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                    .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                    .map_err(e)?;
                moved.extend(rows);
            }
            for (block, slot, rowid, source) in std::mem::take(&mut moved) {
                let Some(json) = self.stored_record(block, slot)? else {
                    return Err(DbError::Corrupt {
                        path: self.tmp.clone(),
                        reason: format!("block {block} has no record {slot}"),
                    });
                };
                self.ensure_codec(&source)?;
                let (to, at) = self.place(&source, &json)?;
                self.tx
                    .prepare_cached("UPDATE advisories SET block = ?2, slot = ?3 WHERE rowid = ?1")
                    .and_then(|mut st| st.execute(params![rowid, to, at as i64]))
                    .map_err(sqlite_err(&self.tmp))?;
            }
            let ids = serde_json::to_string(chunk).unwrap_or_default();
            self.tx
                .execute(
                    "DELETE FROM blocks WHERE id IN (SELECT value FROM json_each(?1))",
                    [ids],
                )
                .map_err(sqlite_err(&self.tmp))?;
        }
        self.seal_all()
    }

    /// The id of the label `source` in `labels` (added when new).
    fn label(&mut self, source: &str) -> Result<i64, DbError> {
        if let Some(&id) = self.labels.get(source) {
            return Ok(id);
        }
        let e = sqlite_err(&self.tmp);
        self.tx
            .prepare_cached("INSERT OR IGNORE INTO labels(name) VALUES (?1)")
            .and_then(|mut st| st.execute([source]))
            .map_err(&e)?;
        let id: i64 = self
            .tx
            .prepare_cached("SELECT id FROM labels WHERE name = ?1")
            .and_then(|mut st| st.query_row([source], |r| r.get(0)))
            .map_err(&e)?;
        self.labels.insert(source.to_string(), id);
        Ok(id)
    }

    /// Makes sure `source` has a codec (its newest stored dictionary, or none).
    fn ensure_codec(&mut self, source: &str) -> Result<(), DbError> {
        if self.codecs.contains_key(source) {
            return Ok(());
        }
        match self.stored_dict(source)? {
            Some((id, dict)) => self.use_dict(source, Some(id), Some(dict)),
            None => self.use_dict(source, None, None),
        }
    }

    /// Notes that `block` lost a record.
    fn thin(&mut self, block: i64) {
        if self.thinned.len() < MAX_THINNED {
            self.thinned.insert(block);
        } else {
            self.thinned_all = true;
        }
    }

    /// The record in `slot` of `block` as stored: from the block being filled, or
    /// decompressed from the table.
    fn stored_record(&mut self, block: i64, slot: i64) -> Result<Option<Vec<u8>>, DbError> {
        let Ok(slot) = usize::try_from(slot) else {
            return Ok(None);
        };
        if let Some((_, buf)) = self.blocks.values().find(|(id, _)| *id == block) {
            return Ok(buf.get(slot).map(<[u8]>::to_vec));
        }
        if let Some((_, _, buf)) = self.held.iter().find(|(id, _, _)| *id == block) {
            return Ok(buf.get(slot).map(<[u8]>::to_vec));
        }
        if self.decoders.cached(block).is_none() {
            // The block may still be with the compressor.
            if self.zstd.busy() {
                self.sync()?;
            }
            let stored: Option<(Option<i64>, Vec<u8>)> = super::pair(
                &self.tx,
                &self.tmp,
                "SELECT dict, data FROM blocks WHERE id = ?1",
                block,
            )?;
            let Some((dict, data)) = stored else {
                return Ok(None);
            };
            let (tx, tmp) = (&self.tx, self.tmp.as_path());
            self.decoders
                .decode(tmp, block, dict, &data, |id| Self::dict_bytes(tx, tmp, id))?;
        }
        Ok(self
            .decoders
            .cached(block)
            .and_then(|b| codec::slot(b, slot))
            .map(<[u8]>::to_vec))
    }

    /// The id of the record in row `rowid`, if there is one.
    fn stored_id(&self, rowid: i64) -> Result<Option<String>, DbError> {
        self.tx
            .prepare_cached("SELECT id FROM advisories WHERE rowid = ?1")
            .and_then(|mut st| st.query_row([rowid], |r| r.get(0)).optional())
            .map_err(sqlite_err(&self.tmp))
    }

    /// Takes a replaced record (its stored text `json`, in `source`) out of the coverage
    /// counted while writing; one that cannot be read makes the coverage counted again at
    /// commit instead.
    fn uncount(&mut self, source: Option<&str>, json: Option<&[u8]>) {
        if self.coverage_keys > MAX_COVERAGE_KEYS {
            return;
        }
        #[derive(serde::Deserialize)]
        struct Stored {
            #[serde(default)]
            affected: Vec<StoredAffected>,
        }
        #[derive(serde::Deserialize)]
        struct StoredAffected {
            package: StoredPackage,
        }
        #[derive(serde::Deserialize)]
        struct StoredPackage {
            ecosystem: String,
            name: String,
        }
        let stored = json.and_then(|j| serde_json::from_slice::<Stored>(j).ok());
        let (Some(source), Some(stored)) = (source, stored) else {
            self.coverage_keys = MAX_COVERAGE_KEYS + 1;
            return;
        };
        // Its keys and ecosystems as [`Prepared::new`] made them (the text is not needed).
        let old = Prepared::from_parts(
            "",
            source,
            Ok(String::new()),
            stored
                .affected
                .iter()
                .map(|a| (a.package.ecosystem.as_str(), a.package.name.as_str())),
            stored.affected.len(),
            std::iter::empty(),
            0,
        );
        self.cover(&old, -1);
    }

    /// The alias rows of the record stored in `slot` of `block` (what [`Prepared::new`]
    /// made of its aliases); `None` when the record cannot be read.
    fn stored_aliases(&mut self, block: i64, slot: i64) -> Result<Option<Vec<String>>, DbError> {
        #[derive(serde::Deserialize)]
        struct Ids {
            id: String,
            #[serde(default)]
            aliases: Vec<String>,
        }
        let Some(json) = self.stored_record(block, slot)? else {
            return Ok(None);
        };
        Ok(serde_json::from_slice::<Ids>(&json).ok().map(|r| {
            let mut a = r.aliases;
            a.retain(|x| *x != r.id);
            a
        }))
    }

    /// Adds or replaces one KEV entry (by CVE) in `source`.
    pub fn kev(&mut self, source: &str, k: &KevEntry) -> Result<(), DbError> {
        self.touch(source)?;
        // An entry another source holds moves here: that source's count changes too.
        let holder: Option<String> = self
            .tx
            .prepare_cached("SELECT source FROM kev WHERE cve = ?1")
            .and_then(|mut st| st.query_row([&k.cve], |r| r.get(0)).optional())
            .map_err(sqlite_err(&self.tmp))?;
        if holder.is_some_and(|h| h != source && !self.counted.contains_key(&h)) {
            self.uncounted = true;
        }
        self.tx
            .prepare_cached(
                "INSERT OR REPLACE INTO kev(cve, source, date_added, vendor, product, name, \
                 due_date, ransomware) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    k.cve,
                    source,
                    k.date_added,
                    k.vendor,
                    k.product,
                    k.name,
                    k.due_date,
                    k.ransomware
                ])
            })
            .map_err(sqlite_err(&self.tmp))?;
        Ok(())
    }

    /// Writes a `sources` row for every source written to (metadata and time), recounts
    /// every source's records (records taken over from other sources change their counts) and
    /// commits. Returns the records each written source now holds (advisories plus KEV
    /// entries).
    pub fn finish(mut self) -> Result<BTreeMap<String, usize>, DbError> {
        self.train()?;
        self.seal_all()?;
        self.sync()?;
        self.compact()?;
        self.sync()?;
        self.apply_links()?;
        if self.deleted {
            // Staged keys are packages too: the ones left without records go as well.
            if self.pstaged {
                flush_packages(&self.tx, &self.tmp)?;
                self.pstaged = false;
            }
            self.tx
                .execute_batch(
                    "DELETE FROM blocks WHERE id NOT IN (SELECT block FROM advisories);
                     DELETE FROM dicts WHERE id NOT IN \
                       (SELECT DISTINCT dict FROM blocks WHERE dict IS NOT NULL);
                     DELETE FROM packages WHERE NOT EXISTS \
                       (SELECT 1 FROM affected WHERE package = packages.id);",
                )
                .map_err(sqlite_err(&self.tmp))?;
        }
        let Writer {
            tx,
            tmp,
            touched,
            deferred,
            coverage,
            coverage_keys,
            counted,
            uncounted,
            ..
        } = self;
        let e = sqlite_err(&tmp);
        let now = now_rfc3339();
        for (source, meta) in &touched {
            let meta = meta.clone().unwrap_or_default();
            tx.execute(
                "INSERT OR REPLACE INTO sources(name, url, etag, last_modified, imported_at, records) \
                 VALUES (?1, ?2, ?3, ?4, ?5, 0)",
                params![source, meta.url, meta.etag, meta.last_modified, now],
            )
            .map_err(&e)?;
        }
        if uncounted || touched.keys().any(|s| !counted.contains_key(s)) {
            tx.execute_batch(RECOUNT_SQL).map_err(&e)?;
        } else {
            // Only the sources this writer changed, whose records it counted (the KEV table
            // is small: counted again).
            let mut st = tx
                .prepare(
                    "UPDATE sources SET records = ?2 + \
                       (SELECT count(*) FROM kev WHERE source = ?1) WHERE name = ?1",
                )
                .map_err(&e)?;
            for (source, n) in &counted {
                st.execute(params![source, n]).map_err(&e)?;
            }
        }
        let mut counts = BTreeMap::new();
        for source in touched.keys() {
            let n: i64 = tx
                .query_row(
                    "SELECT records FROM sources WHERE name = ?1",
                    [source],
                    |r| r.get(0),
                )
                .map_err(&e)?;
            counts.insert(source.clone(), n as usize);
        }
        tx.commit().map_err(&e)?;
        if let Some(d) = deferred {
            d.coverage = match d.coverage.take() {
                Some(mut all) if coverage_keys <= MAX_COVERAGE_KEYS => {
                    add_coverage(&mut all, coverage).then_some(all)
                }
                _ => None,
            };
        }
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use moat_model::advisory::{Affected, AffectedPackage};

    fn affected(eco: &str, name: &str) -> Affected {
        Affected {
            package: AffectedPackage {
                ecosystem: eco.into(),
                name: name.into(),
                purl: None,
            },
            ..Default::default()
        }
    }

    fn keys(p: &Prepared) -> Vec<(String, String)> {
        (0..p.packages.len())
            .map(|i| {
                let (e, n) = p.package(i).unwrap();
                (e.to_string(), n.to_string())
            })
            .collect()
    }

    #[test]
    fn prepared_keys_are_distinct_release_keys_and_lookup_names() {
        let adv = Advisory {
            id: "UBUNTU-CVE-1".into(),
            aliases: vec![
                "CVE-1".into(),
                "UBUNTU-CVE-1".into(),
                "CVE-1".into(),
                "X-2".into(),
            ],
            affected: vec![
                affected("Ubuntu:22.04:LTS", "openssl"),
                affected("Ubuntu:Pro:22.04:LTS", "openssl"),
                affected("PyPI", "Foo_Bar"),
                affected("Ubuntu:24.04:LTS", "openssl"),
                affected("PyPI", "foo-bar"),
            ],
            ..Default::default()
        };
        let p = Prepared::new("osv:Ubuntu", &adv);
        let want = [
            ("Ubuntu:22.04", "openssl"),
            ("PyPI", "foo-bar"),
            ("Ubuntu:24.04", "openssl"),
        ]
        .map(|(e, n)| (e.to_string(), n.to_string()));
        assert_eq!(keys(&p), want);
        assert_eq!(p.ecosystems, [0, 1, 2]);
        assert_eq!(p.aliases, ["CVE-1", "X-2"]);
        assert_eq!(p.package(3), None);
        assert_eq!(p.source(), "osv:Ubuntu");

        // Many entries: the same through the sets.
        let mut many = adv.clone();
        many.affected = (0..40)
            .map(|i| {
                affected(
                    if i % 2 == 0 { "Go" } else { "npm" },
                    &format!("m{}", i % 25),
                )
            })
            .collect();
        many.aliases = (0..40).map(|i| format!("CVE-{}", i % 30)).collect();
        let p = Prepared::new("osv:Go", &many);
        let mut want = Vec::new();
        for i in 0..40 {
            let k = (
                if i % 2 == 0 { "Go" } else { "npm" }.to_string(),
                format!("m{}", i % 25),
            );
            if !want.contains(&k) {
                want.push(k);
            }
        }
        assert_eq!(keys(&p), want);
        assert_eq!(p.ecosystems, [0, 1]);
        assert_eq!(p.aliases.len(), 30);
        assert_eq!(p.aliases[29], "CVE-29");

        // Many ecosystems, every key twice: 60 distinct keys (the pairs repeat after 60),
        // each ecosystem first seen at its index.
        many.affected = (0..120)
            .map(|i| affected(&format!("E{}", i % 20), &format!("n{}", i % 30)))
            .collect();
        let p = Prepared::new("osv:Go", &many);
        let want: Vec<_> = (0..60)
            .map(|i| (format!("E{}", i % 20), format!("n{}", i % 30)))
            .collect();
        assert_eq!(keys(&p), want);
        assert_eq!(p.ecosystems, (0..20).collect::<Vec<_>>());
    }

    #[test]
    fn key_cache_keeps_keys_in_use_and_stays_bounded() {
        let mut cache = KeyCache::default();
        let key = |i: usize| format!("npm\0pkg-{i}");
        cache.insert(key_hash("npm\0hot"), "npm\0hot", 1);
        for i in 0..3 * MAX_PACKAGE_CACHE {
            let k = key(i);
            cache.insert(key_hash(&k), &k, i as i64 + 2);
            if i % 1000 == 0 {
                // A key used all along survives every generation (one cleared when full
                // lost it each time it filled).
                assert_eq!(cache.get(key_hash("npm\0hot"), "npm\0hot"), Some(1), "{i}");
            }
            assert!(cache.current.len() + cache.previous.len() <= 2 * MAX_PACKAGE_CACHE);
        }
        // Recent keys are there, old ones not; a hash hit with another key is no hit.
        let last = key(3 * MAX_PACKAGE_CACHE - 1);
        assert_eq!(
            cache.get(key_hash(&last), &last),
            Some(3 * MAX_PACKAGE_CACHE as i64 + 1)
        );
        assert_eq!(cache.get(key_hash(&key(0)), &key(0)), None);
        assert_eq!(cache.get(key_hash(&last), "npm\0other"), None);
    }

    #[test]
    fn merged_links_drop_and_add_in_order() {
        let mut out = Vec::new();
        merge_links(&[2, 4, 6, 8], &[4, 8], &[1, 5, 9], &mut out);
        assert_eq!(out, [1, 2, 5, 6, 9]);
        merge_links(&[], &[3], &[3, 7], &mut out);
        assert_eq!(out, [3, 7]);
        merge_links(&[1, 2], &[1, 2], &[], &mut out);
        assert!(out.is_empty());
        // An add of a link already stored keeps one.
        merge_links(&[1, 2], &[], &[2, 3], &mut out);
        assert_eq!(out, [1, 2, 3]);
    }

    /// Every path that changes links (new records, a record replaced in the writer that
    /// wrote it and in a later one, a source replaced), through pending links written to
    /// `affected` many times over (the unit tests' cap is 64 links), gives the lists a
    /// scan reads, and packages no record names lose their rows.
    #[test]
    fn links_follow_writes_replacements_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("links.db");
        let adv = |id: &str, names: &[&str]| Advisory {
            id: id.into(),
            affected: names.iter().map(|n| affected("npm", n)).collect(),
            ..Default::default()
        };
        let ids = |db: &Database, name: &str| -> Vec<String> {
            db.advisories_for("npm", name)
                .unwrap()
                .into_iter()
                .map(|a| a.id)
                .collect()
        };
        let mut b = Builder::create(&path).unwrap();
        let mut w = b.writer(Mode::Merge).unwrap();
        w.advisory("one", &adv("DUP", &["a", "b"])).unwrap();
        for i in 0..300 {
            let p = format!("p{}", i % 50);
            w.advisory("one", &adv(&format!("R-{i:03}"), &[&p, "shared"]))
                .unwrap();
        }
        // The same id again in the same writer: its old links go, `b` stays.
        w.advisory("one", &adv("DUP", &["b", "c"])).unwrap();
        w.finish().unwrap();
        let mut w = b.writer(Mode::Merge).unwrap();
        for i in 0..40 {
            w.advisory("two", &adv(&format!("X-{i:02}"), &["shared", "x"]))
                .unwrap();
        }
        w.finish().unwrap();
        b.commit().unwrap();
        let db = Database::open_read_only(&path).unwrap();
        assert!(ids(&db, "a").is_empty());
        assert_eq!(ids(&db, "b"), ["DUP"]);
        assert_eq!(ids(&db, "c"), ["DUP"]);
        assert_eq!(ids(&db, "shared").len(), 340);
        assert_eq!(
            ids(&db, "p7"),
            ["R-007", "R-057", "R-107", "R-157", "R-207", "R-257"]
        );
        assert_eq!(ids(&db, "x").len(), 40);
        drop(db);

        // A later update: R-007 moves to a new package, source two is replaced by fewer.
        let mut b = Builder::from_existing(&path).unwrap();
        let mut w = b.writer(Mode::Merge).unwrap();
        w.advisory("one", &adv("R-007", &["new"])).unwrap();
        w.finish().unwrap();
        let mut w = b.writer(Mode::Replace).unwrap();
        for i in 0..5 {
            w.advisory("two", &adv(&format!("X-{i:02}"), &["x"]))
                .unwrap();
        }
        w.advisory("two", &adv("Y-1", &["shared"])).unwrap();
        w.finish().unwrap();
        b.commit().unwrap();
        let db = Database::open_read_only(&path).unwrap();
        assert_eq!(
            ids(&db, "p7"),
            ["R-057", "R-107", "R-157", "R-207", "R-257"]
        );
        assert_eq!(ids(&db, "new"), ["R-007"]);
        let shared = ids(&db, "shared");
        assert_eq!(shared.len(), 299 + 1);
        assert!(
            !shared
                .iter()
                .any(|id| id == "R-007" || id.starts_with("X-"))
        );
        assert_eq!(ids(&db, "x"), ["X-00", "X-01", "X-02", "X-03", "X-04"]);
        drop(db);
        let conn = Connection::open(&path).unwrap();
        let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
        // a (no record) is gone; b, c, p0-p49, shared, x, new remain, each with one row.
        assert_eq!(count("SELECT count(*) FROM packages"), 2 + 50 + 3);
        assert_eq!(count("SELECT count(*) FROM affected"), 2 + 50 + 3);
        assert_eq!(
            count("SELECT count(*) FROM packages WHERE id NOT IN (SELECT package FROM affected)"),
            0
        );
        // Coverage recounted from the lists: distinct records per (ecosystem, source).
        let coverage: Vec<(String, String, i64)> = conn
            .prepare("SELECT ecosystem, source, advisories FROM coverage ORDER BY 1, 2")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            coverage,
            [
                ("npm".to_string(), "one".to_string(), 301),
                ("npm".to_string(), "two".to_string(), 6)
            ]
        );
    }

    /// What each writer stores as a source's count, whether it counted it or every source was
    /// counted again, is the number of its rows in `advisories` and `kev`.
    #[test]
    fn source_counts_match_their_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("counts.db");
        let adv = |id: &str| Advisory {
            id: id.into(),
            affected: vec![affected("npm", id)],
            ..Default::default()
        };
        let kev = |cve: &str| crate::import::KevEntry {
            cve: cve.into(),
            date_added: "2021-12-10".into(),
            vendor: "v".into(),
            product: "p".into(),
            name: "n".into(),
            due_date: None,
            ransomware: None,
        };
        // Runs the writer `step` (in replace mode when `what` says so), then checks that
        // each source's stored count is its rows' (as recounted), is `want`, and whether the
        // writer counted every source again.
        type Step<'s> = &'s dyn Fn(&mut Writer<'_>);
        let check =
            |b: &mut Builder, what: &str, recounts: bool, want: [i64; 3], step: Step<'_>| {
                let mut w = b
                    .writer(if what.starts_with("replace") {
                        Mode::Replace
                    } else {
                        Mode::Merge
                    })
                    .unwrap();
                step(&mut w);
                assert_eq!(w.uncounted, recounts, "{what}");
                w.finish().unwrap();
                let counts = |b: &Builder| -> Vec<(String, i64)> {
                    crate::db::rows(
                        &b.conn,
                        &b.tmp.path,
                        "SELECT name, records FROM sources ORDER BY name",
                        [],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .unwrap()
                };
                let stored = counts(b);
                b.conn.execute_batch(RECOUNT_SQL).unwrap();
                assert_eq!(stored, counts(b), "{what}");
                let names = ["kev", "one", "two"].map(String::from);
                assert_eq!(
                    stored,
                    names.into_iter().zip(want).collect::<Vec<_>>(),
                    "{what}"
                );
            };
        let mut b = Builder::create(&path).unwrap();
        // A new database: both sources counted by the writer.
        check(
            &mut b,
            "merge into a new database",
            false,
            [2, 30, 7],
            &|w| {
                for i in 0..30 {
                    w.advisory("one", &adv(&format!("A-{i}"))).unwrap();
                }
                for i in 0..7 {
                    w.advisory("two", &adv(&format!("B-{i}"))).unwrap();
                }
                w.kev("kev", &kev("CVE-1")).unwrap();
                w.kev("kev", &kev("CVE-2")).unwrap();
            },
        );
        // Replaced, taking records from a source whose count it does not know: recounted.
        check(
            &mut b,
            "replace two, taking A-1 and A-2",
            true,
            [2, 28, 4],
            &|w| {
                for id in ["B-0", "B-1", "A-1", "A-2"] {
                    w.advisory("two", &adv(id)).unwrap();
                }
            },
        );
        // Replacing sources: one taking records the other wrote in the same writer, an id
        // written twice, the KEV source emptied and written again.
        check(&mut b, "replace one, two and kev", false, [1, 8, 3], &|w| {
            w.touch("one").unwrap();
            w.touch("two").unwrap();
            for i in 0..10 {
                w.advisory("one", &adv(&format!("A-{i}"))).unwrap();
            }
            w.advisory("one", &adv("A-3")).unwrap();
            for id in ["B-9", "A-4", "A-5"] {
                w.advisory("two", &adv(id)).unwrap();
            }
            w.kev("kev", &kev("CVE-3")).unwrap();
        });
        // Merging into a stored source: recounted.
        check(&mut b, "merge into one", true, [2, 9, 3], &|w| {
            w.advisory("one", &adv("A-77")).unwrap();
            w.kev("kev", &kev("CVE-4")).unwrap();
        });
        // Replacing a source, taking a record from one not emptied first: recounted.
        check(&mut b, "replace one, taking A-4", true, [2, 1, 2], &|w| {
            w.advisory("one", &adv("A-4")).unwrap();
        });
        // A KEV entry taken by another source: recounted.
        check(&mut b, "replace two, taking CVE-4", true, [1, 1, 3], &|w| {
            w.advisory("two", &adv("B-0")).unwrap();
            w.kev("two", &kev("CVE-4")).unwrap();
            w.kev("two", &kev("CVE-5")).unwrap();
        });
        b.commit().unwrap();
    }

    /// Everything a reader sees of the database at `path`, by name rather than by rowid or
    /// package id (which follow the order things were written in): each record's source and
    /// packages, each package's records (and the id, source and summary a lookup reads),
    /// the package keys, the aliases, the coverage and the source counts.
    fn contents(path: &Path) -> Vec<String> {
        let conn = Connection::open(path).unwrap();
        let map = |sql: &str| -> HashMap<i64, String> {
            crate::db::rows(&conn, path, sql, [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap()
        };
        let ids = map("SELECT rowid, id FROM advisories");
        let names = map("SELECT id, ecosystem || '/' || name FROM packages");
        let mut out: Vec<String> = Vec::new();
        let db = Database::open_read_only(path).unwrap();
        let recs: Vec<(String, String, Vec<u8>)> = crate::db::rows(
            &conn,
            path,
            "SELECT a.id, l.name, a.packages FROM advisories a JOIN labels l ON l.id = a.source",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
        for (id, source, packages) in recs {
            let mut pk: Vec<&str> = codec::decode_ids(&packages)
                .unwrap()
                .iter()
                .map(|p| names[p].as_str())
                .collect();
            pk.sort();
            out.push(format!("record {id} {source} {pk:?}"));
        }
        let lists: Vec<(i64, Vec<u8>)> = crate::db::rows(
            &conn,
            path,
            "SELECT package, advisories FROM affected",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
        for (package, list) in lists {
            let mut rowids = Vec::new();
            assert!(codec::decode_sorted_ids(&list, &mut rowids));
            let mut recs: Vec<&str> = rowids
                .iter()
                .map(|r| ids[&i64::from(*r)].as_str())
                .collect();
            recs.sort();
            let (eco, name) = names[&package].split_once('/').unwrap();
            let stored: Vec<String> = db
                .advisories_for(eco, name)
                .unwrap()
                .iter()
                .map(|a| {
                    format!(
                        "{}:{}:{}",
                        a.id,
                        a.source,
                        a.summary.as_deref().unwrap_or("")
                    )
                })
                .collect();
            out.push(format!("package {} {recs:?} {stored:?}", names[&package]));
        }
        let more: Vec<String> = crate::db::rows(
            &conn,
            path,
            "SELECT 'alias ' || alias || ' ' || (SELECT id FROM advisories WHERE rowid = advisory) \
               FROM aliases \
             UNION ALL SELECT 'coverage ' || ecosystem || ' ' || source || ' ' || advisories \
               FROM coverage \
             UNION ALL SELECT 'source ' || name || ' ' || records FROM sources \
             UNION ALL SELECT 'key ' || ecosystem || '/' || name FROM packages",
            [],
            |r| r.get(0),
        )
        .unwrap();
        out.extend(more);
        out.sort();
        out
    }

    /// A new database keeps its bulk load (indexes, alias and key rows deferred) when an id
    /// comes again (in the writer that wrote it, in a later one, from another source), and
    /// ends up as it does when the indexes are built at the first record; a hash that names
    /// another record's row (a collision, a rolled back writer's row) builds them then.
    #[test]
    fn ids_written_again_keep_the_bulk_load() {
        let dir = tempfile::tempdir().unwrap();
        let adv = |id: &str, eco: &str, names: &[&str], alias: &str, summary: &str| Advisory {
            id: id.into(),
            aliases: vec![alias.into()],
            summary: Some(summary.into()),
            affected: names.iter().map(|n| affected(eco, n)).collect(),
            ..Default::default()
        };
        // How a build goes: the indexes built first (what an id written again did before),
        // deferred throughout, or with a colliding hash put in before the second writer.
        #[derive(PartialEq)]
        enum How {
            Indexed,
            Deferred,
            Collision,
        }
        let build = |how: How| {
            let path = dir.path().join(match how {
                How::Indexed => "indexed.db",
                How::Deferred => "deferred.db",
                How::Collision => "collision.db",
            });
            let mut b = Builder::create(&path).unwrap();
            let mut w = b.writer(Mode::Merge).unwrap();
            if how == How::Indexed {
                w.index().unwrap();
            }
            for i in 0..60 {
                let name = format!("a{}", i % 7);
                let id = format!("W-{i}");
                // W-3's own package goes with it in this writer, its key still staged.
                let names = if i == 3 {
                    vec![name.as_str(), "shared", "dropped"]
                } else {
                    vec![name.as_str(), "shared"]
                };
                w.advisory("wolfi", &adv(&id, "npm", &names, &format!("CVE-{i}"), "w"))
                    .unwrap();
            }
            w.advisory("solo", &adv("S-1", "npm", &["s"], "CVE-S", "solo"))
                .unwrap();
            let first = ["x", "shared", "only-first"];
            w.advisory("wolfi", &adv("CGA-1", "npm", &first, "CVE-A", "first"))
                .unwrap();
            // Again in the writer that wrote it: other packages, alias and text.
            w.advisory("wolfi", &adv("W-3", "npm", &["b", "c"], "CVE-X", "second"))
                .unwrap();
            w.finish().unwrap();
            assert_eq!(b.deferred.is_some(), how != How::Indexed);
            // W-3's first package went at that writer's finish, staged or not.
            let dropped = "SELECT count(*) FROM packages WHERE name = 'dropped'";
            assert_eq!(
                b.conn
                    .query_row(dropped, [], |r| r.get::<_, i64>(0))
                    .unwrap(),
                0
            );
            if has_temp_table(&b.conn, &b.tmp.path, "pstage").unwrap() {
                let staged = "SELECT count(*) FROM temp.pstage WHERE name = 'dropped'";
                assert_eq!(
                    b.conn
                        .query_row(staged, [], |r| r.get::<_, i64>(0))
                        .unwrap(),
                    0
                );
            }
            if how == How::Collision {
                // C-1's hash names W-1's row.
                let d = b.deferred.as_mut().unwrap();
                let w1 = d.ids[&key_hash("W-1")];
                d.ids.insert(key_hash("C-1"), w1);
            }
            let mut w = b.writer(Mode::Merge).unwrap();
            // Moves to another source, and one to another ecosystem.
            w.advisory(
                "chainguard",
                &adv("CGA-1", "npm", &["y"], "CVE-B", "chainguard"),
            )
            .unwrap();
            w.advisory("chainguard", &adv("W-5", "PyPI", &["p"], "CVE-5", "moved"))
                .unwrap();
            // The only record of its source.
            w.advisory("chainguard", &adv("S-1", "npm", &["s"], "CVE-S", "taken"))
                .unwrap();
            for i in 0..10 {
                let id = format!("C-{i}");
                w.advisory(
                    "chainguard",
                    &adv(&id, "npm", &["shared", "x"], "CVE-C", "c"),
                )
                .unwrap();
            }
            w.finish().unwrap();
            assert_eq!(b.deferred.is_some(), how == How::Deferred);
            if how == How::Collision {
                // A writer rolled back: its rows' rowids are given again.
                let mut w = b.writer(Mode::Merge).unwrap();
                w.advisory("chainguard", &adv("R-1", "npm", &["r"], "CVE-R", "gone"))
                    .unwrap();
                drop(w);
            }
            let mut w = b.writer(Mode::Merge).unwrap();
            w.advisory("third", &adv("T-0", "npm", &["t"], "CVE-T", "t"))
                .unwrap();
            w.advisory("third", &adv("R-1", "npm", &["r"], "CVE-R", "kept"))
                .unwrap();
            w.finish().unwrap();
            // The coverage counted while writing is what commit stores.
            assert_eq!(b.deferred.is_some(), how == How::Deferred);
            b.commit().unwrap();
            contents(&path)
        };
        let indexed = build(How::Indexed);
        for line in [
            "record CGA-1 chainguard [\"npm/y\"]",
            "record W-5 chainguard [\"PyPI/p\"]",
            "record W-3 wolfi [\"npm/b\", \"npm/c\"]",
            "alias CVE-B CGA-1",
            "coverage npm wolfi 59",
            "coverage PyPI chainguard 1",
            "coverage npm chainguard 12",
            "source wolfi 59",
            "key npm/y",
        ] {
            assert!(indexed.iter().any(|l| l == line), "{line}");
        }
        // Gone: the first versions' aliases and packages (W-3 from a3 too), and the coverage
        // of the source whose only record moved.
        let gone = |l: &String| {
            ["CVE-A", "CVE-3 ", "only-first", "dropped"]
                .iter()
                .any(|x| l.contains(x))
                || l.starts_with("coverage npm solo")
                || (l.starts_with("package npm/a3 ") && l.contains("\"W-3\""))
        };
        assert!(!indexed.iter().any(gone), "{indexed:?}");
        assert_eq!(build(How::Deferred), indexed);
        assert_eq!(build(How::Collision), indexed);
    }

    #[test]
    fn key_hashes_differ_for_near_keys() {
        let keys: Vec<String> = (0..20_000)
            .map(|i| format!("Go\0example.com/m{i}"))
            .chain(["", "a", "b", "ab", "ba", "abcdefgh", "abcdefghi"].map(String::from))
            .collect();
        let hashes: HashSet<u64> = keys.iter().map(|k| key_hash(k)).collect();
        assert_eq!(hashes.len(), keys.len());
        // Fixed: the same key, the same hash.
        assert_eq!(key_hash("Go\0x"), key_hash("Go\0x"));
        let mut set = HashedKeys::default();
        assert!(set.insert(key_hash("a")));
        assert!(!set.insert(key_hash("a")));
    }

    #[test]
    fn timestamps() {
        let at = |s| rfc3339(jiff::Timestamp::from_second(s).unwrap());
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_767_225_599), "2025-12-31T23:59:59Z");
        // Fractions of a second are cut, not rounded.
        let t = jiff::Timestamp::new(1_767_225_599, 999_999_999).unwrap();
        assert_eq!(rfc3339(t), "2025-12-31T23:59:59Z");
        assert!(now_rfc3339().ends_with('Z') && now_rfc3339().len() == 20);
    }
}

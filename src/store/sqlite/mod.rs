//! Sessions in one SQLite database file (feature `sqlite`): shared by every
//! process and thread on one machine, crash-safe.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

use crate::clock::{to_millis, Clock};
use crate::store::{at_rest, Durability, Record, Store, UserIndex};
use crate::{Error, SessionId};

mod busy;
mod log;
mod pool;
mod schema;
mod users;

use pool::{Gate, Pool};

/// Default wait for a lock another connection holds.
const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Default number of idle connections kept open.
const DEFAULT_POOL_SIZE: usize = 8;
/// Default number of expired rows each write removes, at most.
const DEFAULT_CLEANUP_BATCH: usize = 100;
/// Rows one transaction of `purge_expired` removes.
const PURGE_BATCH: i64 = 1_000;

const GET: &str = "SELECT expires_at, record FROM sessions WHERE key = ?1";
const UPSERT: &str = "INSERT INTO sessions (key, expires_at, record) VALUES (?1, ?2, ?3) \
     ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at, record = excluded.record";
/// Inserts, or replaces a record that expired by `?4`; changes one row if so.
const CREATE: &str = "INSERT INTO sessions (key, expires_at, record) VALUES (?1, ?2, ?3) \
     ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at, record = excluded.record \
     WHERE sessions.expires_at IS NOT NULL AND sessions.expires_at <= ?4";
const UPDATE: &str = "UPDATE sessions SET expires_at = ?2, record = ?3 WHERE key = ?1";
const DELETE: &str = "DELETE FROM sessions WHERE key = ?1";
const DELETE_IF_EXPIRED: &str = "DELETE FROM sessions WHERE key = ?1 AND expires_at <= ?2";
const TAKE: &str = "DELETE FROM sessions WHERE key = ?1 RETURNING expires_at, record";
/// The statement that finds the keys of at most `limit` rows expired by
/// `?1`, through the index. One `SELECT`, then a `DELETE` by key for each:
/// the single `DELETE … WHERE rowid IN (SELECT … LIMIT ?2)` cost every write
/// about 39,000 instructions more even when nothing had expired, the usual
/// case (a third of an update; BENCHMARKS.md).
///
/// The limit is written into the text, not bound: SQLite reads a bound
/// `LIMIT` when it compiles the statement, and so compiles it again each
/// time that parameter is bound anew, which a cached statement is on every
/// use (about 28,000 instructions a write, more than the rest of the
/// cleanup).
fn expired_sql(limit: i64) -> String {
    format!("SELECT key FROM sessions WHERE expires_at <= ?1 LIMIT {limit}")
}
/// Removes the user index entries of a record that expired.
const UNINDEX: &str = "DELETE FROM user_sessions WHERE record_key = ?1";
const COUNT: &str = "SELECT count(*) FROM sessions";

/// Sessions in one SQLite database file (cargo feature `sqlite`; SQLite is
/// compiled in, no system library needed): they survive restarts, and every
/// process and thread on the machine can share them: CGI programs, several
/// servers, a threaded server.
///
/// Each session is one row of the table `sessions`, keyed by the SHA-256 of
/// the session ID's bytes (never the ID), holding [`Record::encode`]'s JSON
/// (the one format of the text stores: every field of the record
/// round-trips, and a field added later needs no new column) and its expiry
/// time in a column of its own, indexed, for the cleanup. Schema version 1:
///
/// ```sql
/// CREATE TABLE sessions (
///     key        BLOB PRIMARY KEY NOT NULL, -- SHA-256 of the session ID's 32 bytes
///     expires_at INTEGER,                   -- ms since 1970 (store's clock); NULL: never
///     record     TEXT NOT NULL              -- Record::encode's JSON
/// ) STRICT;
/// CREATE INDEX sessions_expires_at ON sessions (expires_at);
/// CREATE TABLE user_sessions (              -- the UserIndex
///     user_hash  BLOB NOT NULL,             -- SHA-256 of the user name
///     handle     BLOB NOT NULL,             -- the revocation handle's 16 bytes
///     record_key BLOB NOT NULL,             -- the session's `key`
///     PRIMARY KEY (user_hash, handle)
/// ) STRICT, WITHOUT ROWID;
/// CREATE INDEX user_sessions_record_key ON user_sessions (record_key);
/// PRAGMA application_id = 0x68747373;       -- "htss"
/// PRAGMA user_version = 1;
/// ```
///
/// Guarantees:
///
/// - **atomic updates across threads and processes**: every read-modify-write
///   ([`Store::update`], [`Store::take`], [`Store::create`], a user index
///   change) is one `BEGIN IMMEDIATE` transaction, which holds SQLite's
///   write lock from its first read, so concurrent updates lose nothing and
///   of two concurrent takes exactly one gets the record. A panic in an
///   update closure rolls its transaction back;
/// - **crash-safe**: write-ahead logging (WAL) with `synchronous = FULL`: a
///   process killed at any moment leaves every session in its state before
///   or after the write it was making, and a write that returned is on disk;
/// - **expiry by the store's clock**: an expired row is never returned (its
///   `expires_at` is compared with the [`Clock`] the store was built with),
///   and is removed when read;
/// - **cleanup on by default, with no thread**: each write also removes up
///   to 100 expired rows ([`SqliteStoreBuilder::cleanup_batch`]), found
///   through the index on `expires_at`; [`purge_expired`](Store::purge_expired)
///   removes them all. An expired row's user index entries go with it, so
///   the index does not keep the sessions of users who never come back;
/// - **waits are bounded**: a call waits at most the busy timeout (default
///   5 s, [`SqliteStoreBuilder::busy_timeout`]) for a lock other processes
///   hold, then fails with [`Error::Store`]; in one process, writers line up
///   behind one another without polling;
/// - **no live ID at rest**: no row holds a session ID, so a copy of the
///   file or a backup hands out no working cookie. The user index keeps the
///   SHA-256 of each user name, beside the session's handle and key;
/// - **private**: on Unix a new file is created `0600` (and its directory
///   `0700` if missing); SQLite gives the `-wal` and `-shm` files the
///   database file's mode. An existing file keeps its mode;
/// - **one schema version**: a new file gets this build's schema; a file of
///   a newer version of this crate, of another application, or that is no
///   database is refused with an error that says which, and left untouched.
///
/// **Processes and threads.** Each process opens the file itself; a CGI
/// program does so once per request ([`open`](SqliteStore::open) and its
/// schema check took about 50 µs in the crate's benchmark). Inside a
/// process, the store keeps a few connections
/// ([`SqliteStoreBuilder::pool_size`], default 8) and opens more when more
/// threads need one at once. Reads never wait for writers (WAL), unless
/// they find a row expired and delete it. Writes take turns: one at a time
/// across all processes, each a short transaction. Do not call the store
/// from inside an update closure: the closure runs while its write holds
/// the turn.
/// The file must be on a local disk: SQLite's locks do not hold on a
/// network file system, and WAL needs shared memory between the processes.
/// The path must not be a symbolic link.
///
/// To end every session, delete the rows (`DELETE FROM sessions;` in the
/// `sqlite3` shell), not the file: processes that have it open would go on
/// with the deleted file.
///
/// ```
/// use http_session::{Session, SqliteStore};
///
/// # let tmp = std::env::temp_dir().join(format!("doc-sqlite-store-{}", std::process::id()));
/// # let path = tmp.join("sessions.db");
/// let store = SqliteStore::open(&path)?;
/// let session = Session::with_store(store);
/// let id = session.create(serde_json::json!({"user": "ana"}))?;
///
/// // Another process (or a restarted one) opening the file sees the session.
/// let again = Session::with_store(SqliteStore::open(&path)?);
/// assert_eq!(again.get(&id)?.unwrap()["user"], "ana");
/// # drop((session, again));
/// # std::fs::remove_dir_all(&tmp).unwrap();
/// # Ok::<(), http_session::Error>(())
/// ```
///
/// `Debug` shows the path and the settings, never a row.
pub struct SqliteStore {
    path: PathBuf,
    clock: Clock,
    busy_timeout: Duration,
    cleanup_batch: i64,
    /// [`expired_sql`] of `cleanup_batch`.
    cleanup_sql: String,
    durability: Durability,
    pool: Pool,
    gate: Gate,
}

/// Settings for a [`SqliteStore`].
///
/// ```
/// use http_session::SqliteStore;
/// use std::time::Duration;
///
/// # let tmp = std::env::temp_dir().join(format!("doc-sqlite-builder-{}", std::process::id()));
/// # let path = tmp.join("sessions.db");
/// let store = SqliteStore::builder(&path)
///     .busy_timeout(Duration::from_secs(2))
///     .pool_size(4)
///     .cleanup_batch(500)
///     .build()?;
/// assert_eq!(store.path(), path.as_path());
///
/// assert!(SqliteStore::builder(&path).pool_size(0).build().is_err());
/// # drop(store);
/// # std::fs::remove_dir_all(&tmp).unwrap();
/// # Ok::<(), http_session::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct SqliteStoreBuilder {
    path: PathBuf,
    clock: Clock,
    busy_timeout: Duration,
    pool_size: usize,
    cleanup_batch: usize,
    durability: Durability,
}

impl SqliteStoreBuilder {
    /// The clock expiry is judged by (default: the system clock).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// How long a call waits for a lock that another connection holds (a
    /// writer in another process, or one setting up the file) before it
    /// fails with [`Error::Store`] (default 5 s; longer than zero).
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// The most idle connections kept open for reuse (default 8, at least
    /// 1). More are opened when more threads use the store at once, and
    /// closed when done. A threaded server keeps about as many as it has
    /// worker threads; a CGI program needs one.
    pub fn pool_size(mut self, size: usize) -> Self {
        self.pool_size = size;
        self
    }

    /// How many expired rows each write removes at most, in its own
    /// transaction (default 100; 0 turns the cleanup off, and then
    /// [`purge_expired`](Store::purge_expired) is the only way they go).
    /// Each session is created by a write, so the default removes expired
    /// sessions a hundred times faster than they can pile up.
    pub fn cleanup_batch(mut self, rows: usize) -> Self {
        self.cleanup_batch = rows;
        self
    }

    /// What a write must survive before the call returns (default
    /// [`Durability::PowerCut`]: SQLite's `synchronous = FULL`, one `fsync`
    /// of the log per commit). [`Durability::ProcessCrash`] is `synchronous
    /// = NORMAL`, SQLite's advice for write-ahead logging: commits are not
    /// synced, the log is at each checkpoint. A power cut may roll back the
    /// last commits, all of them after a point, and never damages the
    /// database. `delete`, `take` and every change to the user index still
    /// commit with `FULL`, which puts every commit before them on disk too.
    ///
    /// ```
    /// use http_session::{Durability, SqliteStore};
    ///
    /// # let tmp = std::env::temp_dir().join(format!("doc-sqlite-durability-{}", std::process::id()));
    /// let store = SqliteStore::builder(tmp.join("sessions.db"))
    ///     .durability(Durability::ProcessCrash)
    ///     .build()?;
    /// assert!(format!("{store:?}").contains("ProcessCrash"));
    /// # drop(store);
    /// # std::fs::remove_dir_all(&tmp).unwrap();
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// Opens the database, creating the file if needed (`0600` on Unix, and
    /// its directory `0700`), and makes sure it holds this build's schema.
    ///
    /// Fails with [`Error::InvalidConfig`] for a setting out of range, and
    /// with [`Error::Store`] (saying what is wrong with the file) if the file
    /// cannot be opened for writing, is not a SQLite database, belongs to
    /// another application, or was written by a newer version of this crate.
    pub fn build(self) -> Result<SqliteStore, Error> {
        if self.pool_size == 0 {
            return Err(Error::config("SqliteStore pool_size must be at least 1"));
        }
        if self.busy_timeout.is_zero() {
            return Err(Error::config(
                "SqliteStore busy_timeout must be longer than zero",
            ));
        }
        schema::create_private_file(&self.path)?;
        let mut first = schema::connect(&self.path, self.busy_timeout, self.durability)?;
        schema::prepare(&mut first, &self.path, self.busy_timeout)?;
        let cleanup_batch = i64::try_from(self.cleanup_batch).unwrap_or(i64::MAX);
        Ok(SqliteStore {
            pool: Pool::new(first, self.pool_size),
            path: self.path,
            clock: self.clock,
            busy_timeout: self.busy_timeout,
            cleanup_batch,
            cleanup_sql: expired_sql(cleanup_batch),
            durability: self.durability,
            gate: Gate::new(),
        })
    }
}

impl SqliteStore {
    /// Opens (creating it if needed) the database at `path` with the default
    /// settings (see [`SqliteStoreBuilder::build`]).
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, Error> {
        SqliteStore::builder(path).build()
    }

    /// Settings for a store in the database file at `path`.
    pub fn builder(path: impl AsRef<Path>) -> SqliteStoreBuilder {
        SqliteStoreBuilder {
            path: path.as_ref().to_path_buf(),
            clock: Clock::system(),
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            pool_size: DEFAULT_POOL_SIZE,
            cleanup_batch: DEFAULT_CLEANUP_BATCH,
            durability: Durability::default(),
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Now by the store's clock, in ms since 1970.
    fn now_ms(&self) -> i64 {
        millis(to_millis(self.clock.now()))
    }

    fn error(&self, doing: &str, e: rusqlite::Error) -> Error {
        Error::store(
            format!("{doing} ({})", self.path.display()),
            schema::describe(e),
        )
    }

    /// A new connection with this store's settings, for the pool.
    fn connect(&self) -> Result<Connection, Error> {
        schema::connect(&self.path, self.busy_timeout, self.durability)
    }

    /// Runs `op` on a pooled connection, outside any transaction.
    fn read<T>(
        &self,
        doing: &str,
        op: impl FnOnce(&Connection) -> Result<T, Failure>,
    ) -> Result<T, Error> {
        busy::arm(self.busy_timeout);
        let mut pooled = self.pool.get(|| self.connect())?;
        op(pooled.connection()?).map_err(|f| f.into_error(self, doing))
    }

    /// Runs `op` in one `BEGIN IMMEDIATE` transaction, committed if `op`
    /// returns `Ok` and rolled back otherwise (a panic in `op` included).
    /// One thread of this process at a time; SQLite's lock orders them with
    /// other processes.
    fn write<T>(
        &self,
        doing: &str,
        op: impl FnOnce(&Connection) -> Result<T, Failure>,
    ) -> Result<T, Error> {
        self.transact(doing, false, op)
    }

    /// [`write`](Self::write) for what security depends on (ending a
    /// session, changing a user's index): on disk before it returns, whatever
    /// the durability.
    fn write_end<T>(
        &self,
        doing: &str,
        op: impl FnOnce(&Connection) -> Result<T, Failure>,
    ) -> Result<T, Error> {
        self.transact(doing, true, op)
    }

    fn transact<T>(
        &self,
        doing: &str,
        end: bool,
        op: impl FnOnce(&Connection) -> Result<T, Failure>,
    ) -> Result<T, Error> {
        let Some(_turn) = self.gate.enter(self.busy_timeout) else {
            return Err(Error::store(
                format!("{doing} ({})", self.path.display()),
                format!(
                    "other threads of this process kept writing for longer than the busy \
                     timeout ({:?})",
                    self.busy_timeout
                ),
            ));
        };
        busy::arm(self.busy_timeout);
        let mut pooled = self.pool.get(|| self.connect())?;
        let conn = pooled.connection()?;
        // The connection syncs no commit: this one it must.
        let sync_this = end && !self.durability.syncs_every_write();
        if sync_this {
            schema::set_synchronous(conn, Durability::PowerCut)
                .map_err(|e| self.error(doing, e))?;
        }
        let result = (|| {
            let tx = Immediate::begin(conn).map_err(|e| self.error(doing, e))?;
            let value = op(conn).map_err(|f| f.into_error(self, doing))?;
            tx.commit().map_err(|e| self.error(doing, e))?;
            Ok(value)
        })();
        if sync_this {
            // Failing leaves the connection syncing every commit: slower,
            // never less safe.
            let _ = schema::set_synchronous(conn, self.durability);
        }
        result
    }

    /// Removes up to the cleanup batch of rows expired by `now`.
    fn cleanup(&self, conn: &Connection, now: i64) -> Result<(), Failure> {
        if self.cleanup_batch > 0 {
            remove_expired(conn, now, &self.cleanup_sql)?;
        }
        Ok(())
    }
}

/// A `BEGIN IMMEDIATE` transaction, rolled back when dropped before
/// [`commit`](Immediate::commit) (a failure or a panic in between).
/// `BEGIN`, `COMMIT` and `ROLLBACK` run as cached statements: rusqlite's
/// `Transaction` runs them as SQL text, compiled anew each time, about
/// 8,000 instructions a write.
struct Immediate<'c> {
    conn: &'c Connection,
}

impl<'c> Immediate<'c> {
    fn begin(conn: &'c Connection) -> rusqlite::Result<Immediate<'c>> {
        conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        Ok(Immediate { conn })
    }

    /// Commits; if that fails, the drop rolls back.
    fn commit(self) -> rusqlite::Result<()> {
        self.conn.prepare_cached("COMMIT")?.execute([])?;
        Ok(())
    }
}

impl Drop for Immediate<'_> {
    fn drop(&mut self) {
        if !self.conn.is_autocommit() {
            // If this fails too, the connection is still in the transaction,
            // and the pool closes it instead of lending it out again.
            let _ = self
                .conn
                .prepare_cached("ROLLBACK")
                .and_then(|mut rollback| rollback.execute([]));
        }
    }
}

/// Removes the rows expired by `now` that `expired` (an [`expired_sql`])
/// finds, and the user index entries that point to them; returns how many
/// rows.
///
/// Entries of an expired record can go at once: no regeneration of it can
/// be under way (a take finds it expired and stops), and a bind under way
/// finds it expired too and undoes its entry. An entry of a record deleted
/// for another reason (a logout) stays, for the `Session` to prune.
fn remove_expired(conn: &Connection, now: i64, expired: &str) -> Result<usize, Failure> {
    let keys = conn
        .prepare_cached(expired)?
        .query_map([now], |row| row.get::<_, Vec<u8>>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    for key in &keys {
        conn.prepare_cached(DELETE)?.execute([key])?;
        unindex(conn, key)?;
    }
    Ok(keys.len())
}

/// Removes the user index entries of the record under `key`, which expired.
fn unindex(conn: &Connection, key: &[u8]) -> Result<(), Failure> {
    conn.prepare_cached(UNINDEX)?.execute([key])?;
    Ok(())
}

/// A failure inside a connection's work: SQLite's, or the crate's own
/// (a record that does not decode, one that does not encode).
enum Failure {
    Sqlite(rusqlite::Error),
    Crate(Error),
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Failure {
        Failure::Sqlite(e)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Crate(e)
    }
}

impl Failure {
    fn into_error(self, store: &SqliteStore, doing: &str) -> Error {
        match self {
            Failure::Sqlite(e) => store.error(doing, e),
            Failure::Crate(e) => e,
        }
    }
}

/// ms since 1970 as SQLite keeps integers (past year 292 million: the most).
fn millis(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

/// The `expires_at` column of `record`.
fn expires_column(record: &Record) -> Option<i64> {
    record.expires_at.map(|at| millis(to_millis(at)))
}

/// Whether a row whose `expires_at` column is `expires` has expired at `now`:
/// the same judgement as [`Record::is_expired`] on the decoded record (both
/// are whole milliseconds).
fn expired(expires: Option<i64>, now: i64) -> bool {
    expires.is_some_and(|at| at <= now)
}

/// A row's record column, decoded.
fn decode(row: &rusqlite::Row<'_>, column: usize) -> Result<Record, Failure> {
    let text = row
        .get_ref(column)?
        .as_str()
        .map_err(|_| Error::CorruptRecord {
            reason: "the record column does not hold UTF-8 text".to_owned(),
        })?;
    Ok(Record::decode(text)?)
}

/// Settings and counts only: rows hold session data.
impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .field("busy_timeout", &self.busy_timeout)
            .field("pool_size", &self.pool.keep)
            .field("idle_connections", &self.pool.idle_now())
            .field("cleanup_batch", &self.cleanup_batch)
            .field("durability", &self.durability)
            .field("clock", &self.clock)
            .finish()
    }
}

impl Store for SqliteStore {
    /// One read; a row found expired is deleted (in a write of its own).
    fn get(&self, id: &SessionId) -> Result<Option<Record>, Error> {
        let key = at_rest::hash(id);
        let now = self.now_ms();
        let found = self.read("reading a session", |conn| {
            let mut stmt = conn.prepare_cached(GET)?;
            let mut rows = stmt.query([&key[..]])?;
            match rows.next()? {
                None => Ok(None),
                Some(row) if expired(row.get(0)?, now) => Ok(Some(None)),
                Some(row) => Ok(Some(Some(decode(row, 1)?))),
            }
        })?;
        match found {
            Some(Some(record)) => Ok(Some(record)),
            Some(None) => {
                // Best effort: the row is never returned either way, and the
                // cleanup of a later write removes it if this fails.
                let _ = self.write("deleting an expired session", |conn| {
                    if conn
                        .prepare_cached(DELETE_IF_EXPIRED)?
                        .execute((&key[..], now))?
                        == 1
                    {
                        unindex(conn, &key)?;
                    }
                    Ok(())
                });
                Ok(None)
            }
            None => Ok(None),
        }
    }

    fn set(&self, id: &SessionId, record: Record) -> Result<(), Error> {
        let key = at_rest::hash(id);
        let text = record.encode()?;
        let now = self.now_ms();
        self.write("writing a session", |conn| {
            conn.prepare_cached(UPSERT)?
                .execute((&key[..], expires_column(&record), &text))?;
            self.cleanup(conn, now)
        })
    }

    fn delete(&self, id: &SessionId) -> Result<(), Error> {
        let key = at_rest::hash(id);
        self.write_end("deleting a session", |conn| {
            conn.prepare_cached(DELETE)?.execute([&key[..]])?;
            Ok(())
        })
    }

    /// Reads, runs `f` and writes in one `BEGIN IMMEDIATE` transaction. An
    /// expired row is deleted (its user index entries too), and `false`.
    fn update(
        &self,
        id: &SessionId,
        f: &mut dyn FnMut(&mut Record) -> bool,
    ) -> Result<bool, Error> {
        let key = at_rest::hash(id);
        let now = self.now_ms();
        self.write("updating a session", |conn| {
            let found = {
                let mut stmt = conn.prepare_cached(GET)?;
                let mut rows = stmt.query([&key[..]])?;
                match rows.next()? {
                    None => None,
                    Some(row) if expired(row.get(0)?, now) => Some(None),
                    Some(row) => Some(Some(decode(row, 1)?)),
                }
            };
            let mut record = match found {
                None => return Ok(false),
                Some(None) => {
                    conn.prepare_cached(DELETE)?.execute([&key[..]])?;
                    unindex(conn, &key)?;
                    return Ok(false);
                }
                Some(Some(record)) => record,
            };
            // A panic in `f` unwinds through `write`, which rolls back.
            if !f(&mut record) {
                return Ok(true);
            }
            let text = record.encode()?;
            conn.prepare_cached(UPDATE)?
                .execute((&key[..], expires_column(&record), &text))?;
            self.cleanup(conn, now)?;
            Ok(true)
        })
    }

    /// `DELETE … RETURNING` in a transaction that commits before the record
    /// is handed out. An expired row is deleted all the same (its user
    /// index entries too), and `None`; a row that does not decode stays (the
    /// transaction is rolled back).
    fn take(&self, id: &SessionId) -> Result<Option<Record>, Error> {
        let key = at_rest::hash(id);
        let now = self.now_ms();
        self.write_end("taking a session", |conn| {
            let taken = {
                let mut stmt = conn.prepare_cached(TAKE)?;
                let mut rows = stmt.query([&key[..]])?;
                match rows.next()? {
                    None => None,
                    Some(row) if expired(row.get(0)?, now) => Some(None),
                    Some(row) => Some(Some(decode(row, 1)?)),
                }
            };
            match taken {
                Some(None) => {
                    unindex(conn, &key)?;
                    Ok(None)
                }
                other => Ok(other.flatten()),
            }
        })
    }

    /// One upsert that writes only if the row is absent or expired.
    fn create(&self, id: &SessionId, record: Record) -> Result<bool, Error> {
        let key = at_rest::hash(id);
        let text = record.encode()?;
        let now = self.now_ms();
        self.write("creating a session", |conn| {
            let changed = conn.prepare_cached(CREATE)?.execute((
                &key[..],
                expires_column(&record),
                &text,
                now,
            ))?;
            self.cleanup(conn, now)?;
            Ok(changed == 1)
        })
    }

    /// Deletes every expired row and its user index entries, a thousand rows
    /// per transaction (so writers in other processes get their turn in
    /// between), and returns how many rows.
    fn purge_expired(&self) -> Result<usize, Error> {
        let now = self.now_ms();
        let expired = expired_sql(PURGE_BATCH);
        let mut removed = 0usize;
        // Bounded: each round but the last removes a full batch.
        for _ in 0..u32::MAX {
            let batch = self.write("deleting expired sessions", |conn| {
                remove_expired(conn, now, &expired)
            })?;
            removed = removed.saturating_add(batch);
            if i64::try_from(batch).unwrap_or(i64::MAX) < PURGE_BATCH {
                break;
            }
        }
        Ok(removed)
    }

    fn user_index(&self) -> Option<&dyn UserIndex> {
        Some(self)
    }

    /// `SELECT count(*)`: expired rows not yet removed included.
    fn count(&self) -> Result<Option<u64>, Error> {
        self.read("counting sessions", |conn| {
            let n: i64 = conn
                .prepare_cached(COUNT)?
                .query_row([], |row| row.get(0))?;
            Ok(Some(u64::try_from(n).unwrap_or(0)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_expiry_column_judges_as_the_record_does() {
        use std::time::{Duration, UNIX_EPOCH};
        let at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        let record = Record::expiring(crate::Data::new(), at);
        let column = expires_column(&record);
        for now in [
            at - Duration::from_millis(1),
            at - Duration::from_nanos(1),
            at,
            at + Duration::from_nanos(999_999),
            at + Duration::from_millis(1),
        ] {
            assert_eq!(
                expired(column, millis(to_millis(now))),
                record.is_expired(now),
                "{now:?}"
            );
        }
        assert!(!expired(None, i64::MAX));
    }
}

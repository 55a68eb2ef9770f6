//! The connection pool of a `PostgresStore`: at most `size` connections,
//! opened on demand, reused, dropped when broken; a call waits a bounded time
//! for one, and opening one (authentication included) is bounded too.
//!
//! **Opening.** The `postgres` client bounds only the TCP connect by itself;
//! a server that accepts the connection and then never answers would hold the
//! caller forever. So a connection is opened on a helper thread, and the
//! caller waits for it at most the connect timeout. A caller that gives up
//! leaves the thread to finish on its own: it keeps its pool slot until then,
//! so at most `size` such threads ever exist, and it closes what it opened.
//!
//! **Dead idle connections.** A pooled connection that the server ended
//! while it sat idle (a restart, `pg_terminate_backend`, an idle timeout)
//! shows it only when used: the `postgres` client reads its socket only
//! inside a call. The store retries such a call once on a fresh connection
//! ([`Pool::get`] with `fresh`), when that is safe (see `PostgresStore::run`).

use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use postgres::error::{DbError, Severity};
use postgres::{Client, Statement};

use super::schema::{Stmt, Tables};
use crate::Error;

/// What a step on a connection can fail with: the driver (the connection may
/// be broken), or this crate (a corrupt record: the connection is fine).
pub(super) enum Fail {
    /// The driver failed; the step may be tried again on a fresh connection
    /// if this one died before the call did anything.
    Pg(postgres::Error),
    /// The driver failed where trying again is never safe: a `COMMIT`,
    /// which may have been carried out before its reply was lost.
    Committing(postgres::Error),
    Store(Error),
}

impl From<postgres::Error> for Fail {
    fn from(e: postgres::Error) -> Fail {
        Fail::Pg(e)
    }
}

impl From<Error> for Fail {
    fn from(e: Error) -> Fail {
        Fail::Store(e)
    }
}

/// A driver error as text, without what could hold session data: a server
/// error's `DETAIL` (a failing row, a key's value) is left out, and so is its
/// `HINT`; the severity, the SQLSTATE code and the message stay.
#[derive(Debug)]
pub(super) struct PgFailure(String);

impl PgFailure {
    pub(super) fn new(e: &postgres::Error) -> PgFailure {
        let mut text = match e.as_db_error() {
            Some(db) => describe_db(db),
            None => {
                let mut text = e.to_string();
                let mut source = std::error::Error::source(e);
                // Bounded: a chain of causes is finite, and 8 is plenty.
                for _ in 0..8 {
                    let Some(cause) = source else { break };
                    text.push_str(": ");
                    match cause.downcast_ref::<DbError>() {
                        Some(db) => text.push_str(&describe_db(db)),
                        None => text.push_str(&cause.to_string()),
                    }
                    source = cause.source();
                }
                text
            }
        };
        if e.code() == Some(&postgres::error::SqlState::QUERY_CANCELED) {
            text.push_str(
                " (the query ran past the store's query_timeout: raise \
                 PostgresStoreBuilder::query_timeout if the database is only slow)",
            );
        }
        PgFailure(text)
    }

    pub(super) fn text(text: impl Into<String>) -> PgFailure {
        PgFailure(text.into())
    }
}

fn describe_db(db: &DbError) -> String {
    format!("{} {}: {}", db.severity(), db.code().code(), db.message())
}

impl fmt::Display for PgFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PgFailure {}

/// Whether `e` means the connection can no longer be used.
pub(super) fn is_fatal(e: &postgres::Error) -> bool {
    match e.as_db_error() {
        // An error reply leaves the connection usable, unless it ends the
        // session (FATAL: terminated by an administrator, shut down, an idle
        // transaction timed out).
        Some(db) => matches!(
            db.parsed_severity(),
            Some(Severity::Fatal) | Some(Severity::Panic)
        ),
        // I/O, a closed connection, an unexpected message: never reused.
        None => true,
    }
}

/// One connection and the statements prepared on it so far.
pub(super) struct Conn {
    pub(super) client: Client,
    prepared: Vec<Option<Statement>>,
}

impl Conn {
    fn new(client: Client) -> Conn {
        Conn {
            client,
            prepared: vec![None; Stmt::ALL.len()],
        }
    }

    /// `stmt`, prepared on this connection the first time it is used.
    pub(super) fn statement(&mut self, tables: &Tables, stmt: Stmt) -> Result<Statement, Fail> {
        if let Some(Some(prepared)) = self.prepared.get(stmt.index()) {
            return Ok(prepared.clone());
        }
        let prepared = self.client.prepare(tables.sql(stmt))?;
        if let Some(slot) = self.prepared.get_mut(stmt.index()) {
            *slot = Some(prepared.clone());
        }
        Ok(prepared)
    }
}

/// Opens one connection, ready for use (session settings applied).
pub(super) type Connect = Box<dyn Fn() -> Result<Client, postgres::Error> + Send + Sync>;

/// Open connections: idle ones to reuse, and a count bounded by `size`.
pub(super) struct Pool {
    shared: Arc<Shared>,
    pub(super) size: usize,
    wait: Duration,
}

struct Shared {
    connect: Connect,
    state: Mutex<PoolState>,
    freed: Condvar,
}

struct PoolState {
    idle: Vec<Conn>,
    /// Connections open, idle or in use, or being opened.
    open: usize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // Every change under the lock is a single push, pop or count change.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn release_slot(&self) {
        let mut state = self.lock();
        state.open = state.open.saturating_sub(1);
        drop(state);
        self.freed.notify_one();
    }
}

/// Why a connection could not be had.
pub(super) enum GetError {
    /// Opening one failed: the driver's error.
    Connect(postgres::Error),
    /// Anything else, said in words (busy pool, timeout, no thread).
    Other(String),
}

/// A connection being opened on a helper thread, and whether its caller has
/// given up on it.
struct Handoff {
    result: Option<Result<Client, postgres::Error>>,
    abandoned: bool,
}

/// A connection lent out by the pool; it goes back on drop unless broken.
pub(super) struct Pooled<'p> {
    pool: &'p Pool,
    conn: Option<Conn>,
    /// It sat idle in the pool before: the server may have ended it since.
    pub(super) reused: bool,
    pub(super) broken: bool,
}

impl Pool {
    /// An empty pool of at most `size` connections opened by `connect`; a
    /// call waits at most `wait` for one, free or new.
    pub(super) fn new(connect: Connect, size: usize, wait: Duration) -> Pool {
        Pool {
            shared: Arc::new(Shared {
                connect,
                state: Mutex::new(PoolState {
                    idle: Vec::new(),
                    open: 0,
                }),
                freed: Condvar::new(),
            }),
            size,
            wait,
        }
    }

    /// A connection: an idle one if there is one, unless `fresh` asks for a
    /// newly opened one (an idle one is then closed to make room if the pool
    /// is full).
    pub(super) fn get(&self, fresh: bool) -> Result<Pooled<'_>, GetError> {
        let deadline = Instant::now() + self.wait;
        let mut state = self.shared.lock();
        // Each round takes an idle connection, opens one, or waits until the
        // deadline.
        loop {
            if !fresh {
                if let Some(conn) = state.idle.pop() {
                    drop(state);
                    return Ok(self.lend(conn, true));
                }
            }
            if state.open < self.size {
                state.open += 1;
                drop(state);
                return self.open(deadline);
            }
            if let Some(conn) = state.idle.pop() {
                // Full, but with an idle connection: its slot is reused.
                drop(state);
                drop(conn);
                return self.open(deadline);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(GetError::Other(format!(
                    "all {} pooled connections stayed busy for {:?}; raise pool_size",
                    self.size, self.wait
                )));
            }
            state = self
                .shared
                .freed
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Closes every idle connection: after one turned out dead, the others
    /// (from the same server, before its restart) likely are too.
    pub(super) fn drain_idle(&self) {
        let mut state = self.shared.lock();
        let idle = std::mem::take(&mut state.idle);
        state.open = state.open.saturating_sub(idle.len());
        drop(state);
        drop(idle);
        self.shared.freed.notify_all();
    }

    /// Opens a connection in a slot already counted in `open`, waiting until
    /// `deadline` at most. The slot is released if the open fails, or by the
    /// helper thread if the caller gave up before it finished.
    fn open(&self, deadline: Instant) -> Result<Pooled<'_>, GetError> {
        let handoff = Arc::new((
            Mutex::new(Handoff {
                result: None,
                abandoned: false,
            }),
            Condvar::new(),
        ));
        let shared = Arc::clone(&self.shared);
        let theirs = Arc::clone(&handoff);
        let spawned = thread::Builder::new()
            .name("http-session-postgres-connect".to_owned())
            .spawn(move || {
                let result = (shared.connect)();
                let (lock, done) = &*theirs;
                let mut handoff = lock.lock().unwrap_or_else(PoisonError::into_inner);
                if handoff.abandoned {
                    drop(handoff);
                    // Closes the connection, if one was opened.
                    drop(result);
                    shared.release_slot();
                } else {
                    handoff.result = Some(result);
                    drop(handoff);
                    done.notify_one();
                }
            });
        if let Err(e) = spawned {
            self.shared.release_slot();
            return Err(GetError::Other(format!(
                "could not start a thread to connect: {e}"
            )));
        }
        let (lock, done) = &*handoff;
        let mut waiting = lock.lock().unwrap_or_else(PoisonError::into_inner);
        // Each round waits until the result is in or the deadline passes.
        loop {
            if let Some(result) = waiting.result.take() {
                drop(waiting);
                return match result {
                    Ok(client) => Ok(self.lend(Conn::new(client), false)),
                    Err(e) => {
                        self.shared.release_slot();
                        Err(GetError::Connect(e))
                    }
                };
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                // The helper thread releases the slot when it is done.
                waiting.abandoned = true;
                return Err(GetError::Other(format!(
                    "no connection within the connect timeout ({:?}): the server \
                     accepted no connection, or did not complete the login",
                    self.wait
                )));
            }
            waiting = done
                .wait_timeout(waiting, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn lend(&self, conn: Conn, reused: bool) -> Pooled<'_> {
        Pooled {
            pool: self,
            conn: Some(conn),
            reused,
            broken: false,
        }
    }
}

impl Pooled<'_> {
    pub(super) fn conn(&mut self) -> Result<&mut Conn, Error> {
        // `conn` is only taken in `drop`.
        self.conn
            .as_mut()
            .ok_or_else(|| Error::store("using a pooled connection", "used after drop"))
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        match self.conn.take() {
            // A panic (in an update closure) may have left a transaction
            // half-done on the connection: never reuse it then.
            Some(conn) if !self.broken && !thread::panicking() && !conn.client.is_closed() => {
                self.pool.shared.lock().idle.push(conn);
                self.pool.shared.freed.notify_one();
            }
            _ => self.pool.shared.release_slot(),
        }
    }
}

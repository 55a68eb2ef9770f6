//! Opening the database file: its permissions, each connection's settings,
//! and the schema, versioned with `PRAGMA user_version`.
//!
//! Schema version 1:
//!
//! ```sql
//! CREATE TABLE sessions (
//!     key        BLOB PRIMARY KEY NOT NULL, -- SHA-256 of the session ID's 32 bytes
//!     expires_at INTEGER,                   -- ms since 1970 (store's clock); NULL: never
//!     record     TEXT NOT NULL              -- Record::encode's JSON
//! ) STRICT;
//! CREATE INDEX sessions_expires_at ON sessions (expires_at);
//! CREATE TABLE user_sessions (
//!     user_hash  BLOB NOT NULL,             -- SHA-256 of the user name
//!     handle     BLOB NOT NULL,             -- the revocation handle's 16 bytes
//!     record_key BLOB NOT NULL,             -- the session's `key`
//!     PRIMARY KEY (user_hash, handle)
//! ) STRICT, WITHOUT ROWID;
//! CREATE INDEX user_sessions_record_key ON user_sessions (record_key);
//! PRAGMA application_id = 0x68747373; -- "htss": this file is http-session's
//! PRAGMA user_version = 1;
//! ```

use std::fs;
use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};

use crate::store::Durability;
use crate::Error;

/// The schema version this build writes and reads.
pub(crate) const SCHEMA_VERSION: i64 = 1;
/// `PRAGMA application_id` of a session database: "htss" in ASCII.
pub(crate) const APPLICATION_ID: i64 = 0x6874_7373;

/// Version 1, created in one transaction with the two pragmas.
const CREATE_V1: &str = "
CREATE TABLE sessions (
    key        BLOB PRIMARY KEY NOT NULL,
    expires_at INTEGER,
    record     TEXT NOT NULL
) STRICT;
CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE TABLE user_sessions (
    user_hash  BLOB NOT NULL,
    handle     BLOB NOT NULL,
    record_key BLOB NOT NULL,
    PRIMARY KEY (user_hash, handle)
) STRICT, WITHOUT ROWID;
CREATE INDEX user_sessions_record_key ON user_sessions (record_key);
PRAGMA application_id = 1752462195;
PRAGMA user_version = 1;
";

/// What an error while opening says it was doing.
pub(super) fn opening(path: &Path) -> String {
    format!("opening the session database {}", path.display())
}

/// Creates the file (`0600` on Unix) and its directory (`0700`) if missing,
/// so that SQLite, which gives its `-wal` and `-shm` files the mode of the
/// database file, makes them private too. An existing file keeps its mode.
pub(super) fn create_private_file(path: &Path) -> Result<(), Error> {
    let fail = |e: io::Error| Error::store(opening(path), e);
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        if !dir.exists() {
            let mut builder = fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                builder.mode(0o700);
            }
            builder.create(dir).map_err(fail)?;
        }
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        // Already there (or made by another process just now): SQLite opens
        // it, or says why not.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        // Not ours to create (a read-only directory): SQLite says more.
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied && path.exists() => Ok(()),
        Err(e) => Err(fail(e)),
    }
}

/// Statements each connection keeps compiled: more than the store runs (21
/// with `BEGIN`, `COMMIT` and `ROLLBACK`; rusqlite keeps 16 by default), so
/// none is compiled again because others pushed it out.
const STATEMENT_CACHE: usize = 32;

/// A new connection, read-write, with this store's settings: the busy
/// timeout, the `synchronous` setting of `durability`, the short log (see
/// `log`) and room for every statement in the statement cache. A symbolic
/// link is refused.
pub(super) fn connect(
    path: &Path,
    busy_timeout: Duration,
    durability: Durability,
) -> Result<Connection, Error> {
    let fail = |e: rusqlite::Error| Error::store(opening(path), describe(e));
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_NOFOLLOW;
    let mut conn = Connection::open_with_flags(path, flags).map_err(fail)?;
    // SQLite falls back to read-only when it may not write the file.
    if conn.is_readonly("main").map_err(fail)? {
        return Err(Error::store(
            opening(path),
            "the file is read-only to this process: sessions need to write it, and its \
             directory (for the -wal and -shm files); check their owner and permissions",
        ));
    }
    // Short sleeps between tries, bounded by the timeout (see `busy`).
    super::busy::arm(busy_timeout);
    conn.busy_handler(Some(super::busy::handler))
        .map_err(fail)?;
    set_synchronous(&conn, durability).map_err(fail)?;
    super::log::keep_short(&mut conn).map_err(fail)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// `synchronous = FULL` for [`Durability::PowerCut`] (each commit is on
/// disk before it returns), `NORMAL` for [`Durability::ProcessCrash`]
/// (commits are not synced; checkpoints are).
pub(super) fn set_synchronous(conn: &Connection, durability: Durability) -> rusqlite::Result<()> {
    let level = if durability.syncs_every_write() {
        "FULL"
    } else {
        "NORMAL"
    };
    conn.pragma_update(None, "synchronous", level)
}

/// Makes sure `conn`'s database holds this build's schema: a new (empty)
/// database gets it, and write-ahead logging; a database of another
/// application, of a newer version of this crate, or a file that is no
/// database is refused, and left as it was.
///
/// Waits at most `busy_timeout` for other processes opening the same file.
pub(super) fn prepare(
    conn: &mut Connection,
    path: &Path,
    busy_timeout: Duration,
) -> Result<(), Error> {
    let deadline = Instant::now() + busy_timeout;
    // Bounded: each round finishes, fails, or waits out part of the deadline.
    let mut last = None;
    for _ in 0..10_000 {
        match try_prepare(conn, path) {
            Ok(()) => return Ok(()),
            Err(Attempt::Failed(e)) => return Err(e),
            Err(Attempt::Busy(e)) => last = Some(e),
        }
        if Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Err(last.unwrap_or_else(|| {
        Error::store(
            opening(path),
            "other processes kept the database locked while it was being set up",
        )
    }))
}

enum Attempt {
    /// Another connection held a lock: worth another try.
    Busy(Error),
    Failed(Error),
}

fn try_prepare(conn: &mut Connection, path: &Path) -> Result<(), Attempt> {
    let fail = |e: rusqlite::Error| {
        let busy = matches!(
            e.sqlite_error_code(),
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
        );
        let error = Error::store(opening(path), describe(e));
        if busy {
            Attempt::Busy(error)
        } else {
            Attempt::Failed(error)
        }
    };
    let refuse = |reason: String| Attempt::Failed(Error::store(opening(path), reason));
    // Reading the header is where a file that is no database fails.
    if is_current(conn).map_err(fail)? {
        return ensure_wal(conn).map_err(fail)?.map_err(refuse);
    }
    let state = read_state(conn).map_err(fail)?;
    if state == (SCHEMA_VERSION, APPLICATION_ID, true) {
        return ensure_wal(conn).map_err(fail)?.map_err(refuse);
    }
    check_version(state).map_err(refuse)?;
    // Version 0 and empty: a new database. Write-ahead logging first (it
    // cannot change inside a transaction), then the schema, in one
    // transaction that another process creating it at the same time waits
    // for; the state is read again inside it.
    ensure_wal(conn).map_err(fail)?.map_err(refuse)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(fail)?;
    let state = read_state(&tx).map_err(fail)?;
    check_version(state).map_err(refuse)?;
    if state.0 == 0 {
        tx.execute_batch(CREATE_V1).map_err(fail)?;
    }
    tx.commit().map_err(fail)
}

/// Whether the database holds this build's schema, read the cheap way: what
/// a program that opens the database at each request (CGI) pays. The two
/// pragmas are written by the transaction that makes the tables and never
/// change afterwards, so reading them one after the other, each in a
/// snapshot of its own, tells as much as [`read_state`]'s one snapshot when
/// they say "this build's"; anything else (a new database, one being
/// created by another process right now, a damaged one) goes the careful
/// way. Compiling `read_state`'s statement (two table-valued pragma
/// functions) costs several times these.
fn is_current(conn: &Connection) -> rusqlite::Result<bool> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version != SCHEMA_VERSION {
        return Ok(false);
    }
    let application: i64 = conn.pragma_query_value(None, "application_id", |row| row.get(0))?;
    Ok(application == APPLICATION_ID && conn.table_exists(None, "sessions")?)
}

/// The schema version, the application id, and whether the database has
/// any table, from one snapshot (one statement): another process may be
/// creating the schema meanwhile.
fn read_state(conn: &Connection) -> rusqlite::Result<(i64, i64, bool)> {
    conn.query_row(
        "SELECT (SELECT user_version FROM pragma_user_version), \
                (SELECT application_id FROM pragma_application_id), \
                (SELECT count(*) FROM sqlite_schema)",
        [],
        |row| Ok((row.get(0)?, row.get(1)?, row.get::<_, i64>(2)? > 0)),
    )
}

/// Why a database with schema `version` and `application` id (and `tables`
/// or not) cannot be used; `Ok` for this build's schema, and for a new,
/// empty database (version 0, no tables).
fn check_version((version, application, tables): (i64, i64, bool)) -> Result<(), String> {
    if application != APPLICATION_ID && (application != 0 || version != 0 || tables) {
        return Err(format!(
            "the file holds another application's database (application id {application:#x}, \
             schema version {version}), not http-session's: give the sessions a file of \
             their own"
        ));
    }
    if version > SCHEMA_VERSION {
        return Err(format!(
            "its schema version is {version}, newer than this build of http-session knows \
             (up to {SCHEMA_VERSION}): it was written by a newer version; upgrade \
             http-session, or give this one another file"
        ));
    }
    if version < 0 || (version == 0 && tables) {
        return Err(format!(
            "its schema version {version} is not one http-session ever wrote (this build \
             knows 1 to {SCHEMA_VERSION}): the file is damaged or not a session database"
        ));
    }
    if version > 0 && !tables {
        return Err(format!(
            "it says schema version {version} but holds no tables: the file is damaged; \
             give the sessions a new file"
        ));
    }
    Ok(())
}

/// Switches the database to write-ahead logging if it is not in it yet
/// (the mode is kept in the file); `Err` says why it could not.
fn ensure_wal(conn: &Connection) -> rusqlite::Result<Result<(), String>> {
    let mode: String = conn.pragma_query_value(None, "journal_mode", |row| row.get(0))?;
    if mode.eq_ignore_ascii_case("wal") {
        return Ok(Ok(()));
    }
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    Ok(if mode.eq_ignore_ascii_case("wal") {
        Ok(())
    } else {
        Err(format!(
            "write-ahead logging could not be turned on (the journal mode stays {mode})"
        ))
    })
}

/// SQLite's error, with a word of advice for the ones a user meets when
/// pointing the store at the wrong file.
pub(super) fn describe(e: rusqlite::Error) -> Box<dyn std::error::Error + Send + Sync> {
    let hint = match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => {
            "the file is not a SQLite database (corrupt, or another kind of file): give \
             the sessions a file of their own"
        }
        Some(ErrorCode::DatabaseCorrupt) => {
            "the database is corrupt: restore it from a backup, or start a new file"
        }
        Some(ErrorCode::ReadOnly) => {
            "the database is read-only to this process: check the permissions of the file \
             and its directory"
        }
        Some(ErrorCode::CannotOpen) => {
            "check that the path is a file (not a directory, not a symbolic link) in a \
             directory this process may write"
        }
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            "other connections held the database locked for longer than the busy timeout"
        }
        _ => return Box::new(e),
    };
    format!("{e}; {hint}").into()
}

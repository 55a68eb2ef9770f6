//! The write-ahead log, kept short for programs that live one request.
//!
//! SQLite's defaults suit a long-lived process: the log grows to 1,000
//! pages before a checkpoint copies it into the database, and the last
//! connection to close checkpoints it and deletes it. A CGI program opens
//! and closes the database on every request, and is often the only one
//! open: its close then costs a checkpoint (two `fsync`s) and the next
//! request's first commit a new log (two more). Without the checkpoint on
//! close, the first connection of a process alone rebuilds the log's index
//! by reading the whole log, and loses count of what was copied already, so
//! the log would never start over and grow without end.
//!
//! So: no checkpoint on close, and after a commit that leaves the log at
//! [`LOG_PAGES`] pages or more, a `TRUNCATE` checkpoint, which copies it
//! into the database and empties it. It never waits: if another connection
//! reads or writes at that moment, it copies what it can and the next
//! commit tries again. A process alone thus reads at most about
//! [`LOG_PAGES`] pages of log when it opens the database.

use std::os::raw::c_int;

use rusqlite::config::DbConfig;
use rusqlite::hooks::Wal;
use rusqlite::wal::CheckpointMode;
use rusqlite::Connection;

/// Pages (of 4 KiB) the log may hold before a commit empties it: about 20
/// updates of a session.
pub(super) const LOG_PAGES: c_int = 64;

/// Sets `conn` up to keep the log short (see the module's documentation).
pub(super) fn keep_short(conn: &mut Connection) -> rusqlite::Result<()> {
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
    // Replaces SQLite's automatic checkpoint (itself a log hook).
    conn.wal_hook(Some(|wal: &mut Wal, pages: c_int| {
        if pages >= LOG_PAGES {
            // Busy (another connection at work) is no error: the next
            // commit tries again.
            let _ = super::busy::without_waiting(|| wal.checkpoint_v2(CheckpointMode::TRUNCATE));
        }
        Ok(())
    }))
}

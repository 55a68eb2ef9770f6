//! SqliteStore's [`UserIndex`]: the table `user_sessions`, one row per bound
//! session: the SHA-256 of the user name, the session's revocation handle
//! and its record key.
//!
//! The user name is hashed so that the index table holds fixed-size keys and
//! no names. (It is no secret: the owner's name is in the session's record,
//! and names are easy to guess; the table is as private as the file.)

use rusqlite::OptionalExtension;

use super::{decode, expired, Failure, SqliteStore};
use crate::store::at_rest::user_hash;
use crate::store::{IndexEntry, Record, RecordKey, RevocationHandle, UserIndex};
use crate::{Error, SessionId};

const ENTRIES: &str = "SELECT handle, record_key FROM user_sessions WHERE user_hash = ?1";
const ENTRY: &str = "SELECT record_key FROM user_sessions WHERE user_hash = ?1 AND handle = ?2";
const INSERT: &str =
    "INSERT INTO user_sessions (user_hash, handle, record_key) VALUES (?1, ?2, ?3)";
const MOVE: &str = "UPDATE user_sessions SET record_key = ?3 WHERE user_hash = ?1 AND handle = ?2";
const REMOVE: &str = "DELETE FROM user_sessions WHERE user_hash = ?1 AND handle = ?2";
/// The record under `?2`, if `?2` is an entry of user `?1`'s index.
const RECORD: &str = "SELECT expires_at, record FROM sessions WHERE key = ?2 \
     AND EXISTS (SELECT 1 FROM user_sessions WHERE user_hash = ?1 AND record_key = ?2)";
/// Deletes the record under `?2`, if `?2` is an entry of user `?1`'s index.
const REMOVE_RECORD: &str = "DELETE FROM sessions WHERE key = ?2 \
     AND EXISTS (SELECT 1 FROM user_sessions WHERE user_hash = ?1 AND record_key = ?2)";

fn corrupt_entry() -> Error {
    Error::CorruptRecord {
        reason: "a user index row does not hold a 16-byte handle and a 32-byte key".to_owned(),
    }
}

/// The handle a row's 16 bytes stand for.
fn handle_of(bytes: &[u8]) -> Result<RevocationHandle, Error> {
    let bytes: [u8; 16] = bytes.try_into().map_err(|_| corrupt_entry())?;
    Ok(RevocationHandle::from_bytes(bytes))
}

/// The record key a row's 32 bytes stand for.
fn key_of(bytes: &[u8]) -> Result<RecordKey, Error> {
    let bytes: [u8; 32] = bytes.try_into().map_err(|_| corrupt_entry())?;
    Ok(RecordKey::from_bytes(bytes))
}

/// Every method is one statement or one `BEGIN IMMEDIATE` transaction, so
/// each is atomic across threads and processes. [`UserIndex::record`] and
/// [`UserIndex::remove_record`] reach a record only through an entry of the
/// user's index, as the trait asks.
impl UserIndex for SqliteStore {
    fn entries(&self, user: &str) -> Result<Vec<IndexEntry>, Error> {
        let user = user_hash(user);
        self.read("listing a user's sessions", |conn| {
            let mut stmt = conn.prepare_cached(ENTRIES)?;
            let mut rows = stmt.query([&user[..]])?;
            let mut entries = Vec::new();
            while let Some(row) = rows.next()? {
                entries.push(IndexEntry {
                    handle: handle_of(row.get_ref(0)?.as_blob().map_err(|_| corrupt_entry())?)?,
                    key: key_of(row.get_ref(1)?.as_blob().map_err(|_| corrupt_entry())?)?,
                });
            }
            Ok(entries)
        })
    }

    fn swap_entry(
        &self,
        user: &str,
        handle: &RevocationHandle,
        expected: Option<&RecordKey>,
        new: Option<&SessionId>,
    ) -> Result<bool, Error> {
        let user = user_hash(user);
        let handle = &handle.as_bytes()[..];
        let new = new.map(RecordKey::of);
        self.write_end("changing a user's index", |conn| {
            let current: Option<Vec<u8>> = conn
                .prepare_cached(ENTRY)?
                .query_row((&user[..], handle), |row| row.get(0))
                .optional()?;
            let matches = match (&current, expected) {
                (None, None) => true,
                (Some(current), Some(expected)) => current[..] == expected.as_bytes()[..],
                _ => false,
            };
            if !matches {
                return Ok(false);
            }
            match (current, new) {
                (None, Some(new)) => {
                    conn.prepare_cached(INSERT)?.execute((
                        &user[..],
                        handle,
                        &new.as_bytes()[..],
                    ))?;
                }
                (Some(_), Some(new)) => {
                    conn.prepare_cached(MOVE)?
                        .execute((&user[..], handle, &new.as_bytes()[..]))?;
                }
                (Some(_), None) => {
                    conn.prepare_cached(REMOVE)?.execute((&user[..], handle))?;
                }
                (None, None) => {}
            }
            Ok(true)
        })
    }

    fn record(&self, user: &str, key: &RecordKey) -> Result<Option<Record>, Error> {
        let user = user_hash(user);
        let now = self.now_ms();
        self.read("reading a user's session", |conn| {
            let mut stmt = conn.prepare_cached(RECORD)?;
            let mut rows = stmt.query((&user[..], &key.as_bytes()[..]))?;
            match rows.next()? {
                Some(row) if !expired(row.get(0)?, now) => Ok(Some(decode(row, 1)?)),
                _ => Ok(None),
            }
        })
    }

    fn remove_record(&self, user: &str, key: &RecordKey) -> Result<bool, Error> {
        let user = user_hash(user);
        self.write_end("revoking a user's session", |conn| {
            let removed = conn
                .prepare_cached(REMOVE_RECORD)?
                .execute((&user[..], &key.as_bytes()[..]))?;
            Ok::<bool, Failure>(removed > 0)
        })
    }
}

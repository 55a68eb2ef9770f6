//! PostgresStore's [`UserIndex`]: one row per bound session in the users
//! table, `(user_hash, handle) → record_key`.
//!
//! The user is kept as the SHA-256 of the user name's UTF-8 bytes, never the
//! name: a dump shows which rows belong together, not to whom. The hash is
//! not a secret (a user name is guessable, so whoever reads the table can
//! test whether a given user has sessions), as with RedisStore's index keys.
//!
//! Every [`UserIndex::swap_entry`] is one statement, so atomic on its own:
//! an `INSERT … ON CONFLICT DO NOTHING` to add, an `UPDATE … WHERE
//! record_key = expected` to move, a `DELETE … WHERE record_key = expected`
//! to remove. [`UserIndex::record`] and [`UserIndex::remove_record`] are the
//! store's own read and delete by record key.

use super::schema::Stmt;
use super::{Attempt, PostgresStore};
use crate::store::at_rest::user_hash;
use crate::store::{IndexEntry, Record, RecordKey, RevocationHandle, UserIndex};
use crate::{Error, SessionId};

/// A row of the index whose columns do not have the lengths this store
/// writes: someone else's row, or a damaged one. Names neither the user nor
/// the values.
fn corrupt_row() -> Error {
    Error::CorruptRecord {
        reason: "a row of the user index has a handle or record key of the wrong length \
                 (not written by this store)"
            .to_owned(),
    }
}

impl UserIndex for PostgresStore {
    fn entries(&self, user: &str) -> Result<Vec<IndexEntry>, Error> {
        let user = user_hash(user);
        let user: &[u8] = &user;
        self.run("reading a user's sessions", |conn, _| {
            let stmt = conn.statement(&self.tables, Stmt::Entries)?;
            let rows = conn.client.query(&stmt, &[&user])?;
            let mut entries = Vec::with_capacity(rows.len());
            for row in rows {
                let handle: &[u8] = row.try_get(0)?;
                let key: &[u8] = row.try_get(1)?;
                let (Ok(handle), Ok(key)) =
                    (<[u8; 16]>::try_from(handle), <[u8; 32]>::try_from(key))
                else {
                    return Err(corrupt_row().into());
                };
                entries.push(IndexEntry {
                    handle: RevocationHandle::from_bytes(handle),
                    key: RecordKey::from_bytes(key),
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
        let user: &[u8] = &user;
        let handle: &[u8] = handle.as_bytes();
        let expected: Option<&[u8]> = expected.map(|key| &key.as_bytes()[..]);
        let new = new.map(RecordKey::of);
        let new: Option<&[u8]> = new.as_ref().map(|key| &key.as_bytes()[..]);
        let doing = "changing a user's session index";
        self.run(doing, |conn, attempt| {
            let changed = match (expected, new) {
                (None, None) => {
                    // Nothing to change: "absent" holds if it is absent.
                    let stmt = conn.statement(&self.tables, Stmt::HasEntry)?;
                    let exists: bool = conn
                        .client
                        .query_one(&stmt, &[&user, &handle])?
                        .try_get(0)?;
                    return Ok(!exists);
                }
                (None, Some(new)) => {
                    let stmt = conn.statement(&self.tables, Stmt::AddEntry)?;
                    conn.client.execute(&stmt, &[&user, &handle, &new])?
                }
                (Some(expected), Some(new)) => {
                    let stmt = conn.statement(&self.tables, Stmt::MoveEntry)?;
                    conn.client
                        .execute(&stmt, &[&user, &handle, &expected, &new])?
                }
                (Some(expected), None) => {
                    let stmt = conn.statement(&self.tables, Stmt::RemoveEntry)?;
                    conn.client.execute(&stmt, &[&user, &handle, &expected])?
                }
            };
            match (changed, attempt) {
                (1, _) => Ok(true),
                // The entry no longer as expected may be the first try's doing.
                (_, Attempt::Retry) => Err(self.ambiguous(doing, "found the entry changed")),
                _ => Ok(false),
            }
        })
    }

    fn record(&self, _user: &str, key: &RecordKey) -> Result<Option<Record>, Error> {
        self.read(key.as_bytes(), "reading a user's session")
    }

    fn remove_record(&self, _user: &str, key: &RecordKey) -> Result<bool, Error> {
        self.remove(key.as_bytes(), "ending a user's session")
    }
}

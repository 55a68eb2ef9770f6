//! FileStore's [`UserIndex`]: one index file per user, changed only under a
//! file lock.
//!
//! Layout, inside the store's directory (created on the first bind):
//!
//! - `.users/` (`0700`): one index file (`0600`) per user with at least one
//!   entry, named by the lowercase hex of the SHA-256 of the user name (the
//!   name itself is in no file name, nor in the index). It holds one line
//!   per entry, `<handle: 32 hex digits> <record key: 64 hex digits>\n`,
//!   and nothing else: no session ID (a record key is the SHA-256 of one,
//!   the name of its session file) and no user name;
//! - `.users/.locks/`: 256 lock files, one per shard of users (the first
//!   byte of the user name's SHA-256), never deleted, as `.locks/` is for
//!   records;
//! - `.users/.tmp-*`: an index being written.
//!
//! Locking: [`UserIndex::swap_entry`] reads, changes and writes the index
//! under an exclusive lock on its user's lock file (never on the index file
//! itself, which is replaced by a rename). [`UserIndex::entries`] reads
//! without a lock: a rename is atomic, so it sees the old index or the new
//! one. [`UserIndex::record`] reads a record as
//! [`Store::get`](crate::Store::get) does, and [`UserIndex::remove_record`]
//! deletes it under the record's lock in `.locks/` as
//! [`Store::delete`](crate::Store::delete) does. No call holds two locks, so
//! there is no lock order to get wrong.
//!
//! Crashes: an index is written as a record is (temporary file, `fsync`,
//! rename, `fsync` of `.users/`), and removed with the directory flushed when
//! its last entry goes, so a crash leaves the old index or the new one,
//! never a torn file. Between the steps of one [`Session`](crate::Session)
//! call, each step is on disk before the next begins, and their order keeps
//! the index a superset of the user's bound sessions (see
//! [`Session::revoke_all`](crate::Session::revoke_all)): a crash can leave
//! an entry whose record is gone, which the next listing prunes, never a
//! bound session that `revoke_all` misses. A temporary file left by a crash
//! is never read, and [`Store::purge_expired`](crate::Store::purge_expired)
//! removes it once stale.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::{
    modified_before, private_options, sync_dir, temp_name, FileStore, LOCK_DIR, STALE_TEMP_AGE,
    TEMP_PREFIX,
};
use crate::store::{at_rest, IndexEntry, Record, RecordKey, RevocationHandle, UserIndex};
use crate::{Error, SessionId};

/// The folder of the index files, in the store's directory.
pub(super) const USERS_DIR: &str = ".users";
/// Length of one entry's line: handle, space, record key, newline.
const LINE_LEN: usize = 32 + 1 + at_rest::NAME_LEN + 1;
/// The largest index file read or written: 1 MiB, 10,699 entries. A bigger
/// file is refused as corrupt, so a stray file cannot make every call read
/// without bound.
const MAX_INDEX_BYTES: u64 = 1 << 20;
/// The most entries one user's index holds (what fits in
/// [`MAX_INDEX_BYTES`]).
const MAX_ENTRIES: usize = (MAX_INDEX_BYTES as usize) / LINE_LEN;

/// One user's index file and the lock file that guards it.
struct IndexFile {
    /// `.users/` in the store's directory.
    users: PathBuf,
    /// The SHA-256 of the user name: the file's name, and its lock's shard.
    hash: [u8; 32],
}

impl IndexFile {
    fn path(&self) -> PathBuf {
        self.users.join(at_rest::hex(&self.hash))
    }

    /// The name an error shows: the index's path inside the store's
    /// directory (derived from the user name, never from a session ID).
    fn shown(&self) -> String {
        format!("{USERS_DIR}/{}", at_rest::hex(&self.hash))
    }

    /// Takes the exclusive lock of the user's shard, held until the returned
    /// file is dropped. Creates `.users/` and its lock folder on first use.
    fn lock(&self) -> Result<File, Error> {
        let locks = self.users.join(LOCK_DIR);
        let path = locks.join(format!("{:02x}", self.hash[0]));
        let open = || {
            private_options()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
        };
        let file = match open() {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                create_users_dir(&locks).and_then(|()| open())
            }
            other => other,
        }
        .map_err(|e| Error::store("opening a user index lock file", e))?;
        file.lock()
            .map_err(|e| Error::store("locking a user index lock file", e))?;
        Ok(file)
    }

    /// The entries, in file order; none if there is no index file (or no
    /// `.users/` yet).
    fn read(&self) -> Result<Vec<IndexEntry>, Error> {
        let path = self.path();
        // Looked at before opening, so that a FIFO or a device in its place
        // is refused rather than opened (opening a FIFO blocks).
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_file() => {}
            Ok(_) => {
                return Err(Error::store(
                    "reading a user index file",
                    format!("{} is not a regular file", self.shown()),
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::store("reading a user index file", e)),
        }
        let mut bytes = Vec::new();
        let read = File::open(&path).and_then(|file| {
            file.take(MAX_INDEX_BYTES + 1).read_to_end(&mut bytes)?;
            Ok(())
        });
        match read {
            Ok(()) => {}
            // Its last entry removed meanwhile.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::store("reading a user index file", e)),
        }
        if bytes.len() as u64 > MAX_INDEX_BYTES {
            return Err(self.corrupt("it is larger than 1 MiB, the most an index holds"));
        }
        parse(&bytes).map_err(|what| self.corrupt(&what))
    }

    /// Replaces the index with `entries` (crash-safely), or removes it if
    /// there are none. The caller holds the lock.
    fn write(&self, entries: &[IndexEntry]) -> Result<(), Error> {
        let path = self.path();
        if entries.is_empty() {
            return match fs::remove_file(&path) {
                Ok(()) => sync_dir(&self.users),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(e),
            }
            .map_err(|e| Error::store("removing an empty user index file", e));
        }
        let text = encode(entries);
        let temp = self.users.join(temp_name());
        let written = (|| {
            let mut file = private_options().write(true).create_new(true).open(&temp)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            drop(file);
            fs::rename(&temp, &path)?;
            sync_dir(&self.users)
        })();
        written.map_err(|e| {
            // The rename may not have happened: don't leave the temp file behind.
            let _ = fs::remove_file(&temp);
            Error::store("writing a user index file", e)
        })
    }

    /// The error for an index file that cannot be read back, saying what to
    /// do about it.
    fn corrupt(&self, what: &str) -> Error {
        Error::CorruptRecord {
            reason: format!(
                "the user index file {} in the session directory is unreadable ({what}); \
                 the user's sessions cannot be listed, bound or revoked until it is deleted. \
                 Deleting it starts the user's index afresh: sessions it listed stay valid \
                 until they expire but no longer show in listings nor end with revoke_all, so \
                 delete the session files whose record names the user too",
                self.shown()
            ),
        }
    }
}

/// Creates `.users/` and `.users/.locks/` (`0700`) and flushes the store's
/// directory, so that the folder survives a crash with the index written in
/// it.
fn create_users_dir(locks: &Path) -> io::Result<()> {
    super::create_private_dir(locks)?;
    if let Some(users) = locks.parent() {
        sync_dir(users)?;
        if let Some(dir) = users.parent() {
            sync_dir(dir)?;
        }
    }
    Ok(())
}

/// The entries in an index file's bytes, or what is wrong with them.
fn parse(bytes: &[u8]) -> Result<Vec<IndexEntry>, String> {
    if !bytes.len().is_multiple_of(LINE_LEN) {
        return Err("its length is not a whole number of entries: a torn or foreign file".into());
    }
    let mut entries: Vec<IndexEntry> = Vec::with_capacity(bytes.len() / LINE_LEN);
    for (n, line) in bytes.chunks_exact(LINE_LEN).enumerate() {
        let bad = || format!("entry {} is not `<handle> <record key>`", n + 1);
        let text = std::str::from_utf8(line).map_err(|_| bad())?;
        let text = text.strip_suffix('\n').ok_or_else(bad)?;
        let (handle, key) = text.split_once(' ').ok_or_else(bad)?;
        let handle: RevocationHandle = handle.parse().map_err(|_| bad())?;
        let key = RecordKey::from_hex(key).ok_or_else(bad)?;
        if entries.iter().any(|entry| entry.handle == handle) {
            return Err(format!("entry {} repeats a handle", n + 1));
        }
        entries.push(IndexEntry { handle, key });
    }
    Ok(entries)
}

/// The bytes of an index file holding `entries`.
fn encode(entries: &[IndexEntry]) -> String {
    let mut text = String::with_capacity(entries.len() * LINE_LEN);
    for entry in entries {
        text.push_str(&entry.handle.to_string());
        text.push(' ');
        text.push_str(&entry.key.to_hex());
        text.push('\n');
    }
    text
}

impl FileStore {
    /// `user`'s index file.
    fn index_file(&self, user: &str) -> IndexFile {
        IndexFile {
            users: self.dir.join(USERS_DIR),
            hash: at_rest::user_hash(user),
        }
    }

    /// Removes temporary index files left for more than ten minutes by a
    /// writer that crashed (the purge's part for `.users/`). Best effort: a
    /// file that cannot be removed is left for the next purge.
    pub(super) fn purge_index_temps(&self) {
        let Ok(entries) = fs::read_dir(self.dir.join(USERS_DIR)) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name.to_str().is_some_and(|n| n.starts_with(TEMP_PREFIX))
                && entry
                    .metadata()
                    .is_ok_and(|meta| modified_before(&meta, SystemTime::now(), STALE_TEMP_AGE))
            {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

/// One index file per user in `.users/`, named by the SHA-256 of the user
/// name and holding one `<handle> <record key>` line per session (no session
/// ID, no user name), at most 1 MiB. [`swap_entry`](UserIndex::swap_entry)
/// reads, changes and rewrites it (crash-safely, as a record) under a lock
/// file of its own in `.users/.locks/`, so it is atomic across threads and
/// processes; [`entries`](UserIndex::entries) reads without a lock. An index
/// that does not parse is an [`Error::CorruptRecord`] naming the file to
/// delete.
impl UserIndex for FileStore {
    fn entries(&self, user: &str) -> Result<Vec<IndexEntry>, Error> {
        self.index_file(user).read()
    }

    fn swap_entry(
        &self,
        user: &str,
        handle: &RevocationHandle,
        expected: Option<&RecordKey>,
        new: Option<&SessionId>,
    ) -> Result<bool, Error> {
        let index = self.index_file(user);
        let _lock = index.lock()?;
        let mut entries = index.read()?;
        let at = entries.iter().position(|entry| entry.handle == *handle);
        match (at, expected, new) {
            (None, None, Some(id)) => {
                if entries.len() >= MAX_ENTRIES {
                    return Err(Error::store(
                        "binding a session to its user",
                        format!(
                            "the user's index holds {MAX_ENTRIES} sessions, the most a FileStore \
                             keeps for one user: set max_sessions_per_user, or list the user's \
                             sessions to prune those that ended"
                        ),
                    ));
                }
                entries.push(IndexEntry {
                    handle: *handle,
                    key: RecordKey::of(id),
                });
            }
            (None, None, None) => return Ok(true),
            (Some(at), Some(expected), new) if entries[at].key == *expected => match new {
                Some(id) => entries[at].key = RecordKey::of(id),
                None => {
                    entries.remove(at);
                }
            },
            _ => return Ok(false),
        }
        index.write(&entries)?;
        Ok(true)
    }

    /// The record file named by `key`, read as
    /// [`Store::get`](crate::Store::get) reads one (without a lock; expired
    /// is `None`). `user` is not consulted: the key names the file.
    fn record(&self, _user: &str, key: &RecordKey) -> Result<Option<Record>, Error> {
        self.get_named(key.as_bytes())
    }

    /// Deletes the record file named by `key` as
    /// [`Store::delete`](crate::Store::delete) does. `user` is not consulted.
    fn remove_record(&self, _user: &str, key: &RecordKey) -> Result<bool, Error> {
        self.delete_named(key.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> IndexEntry {
        IndexEntry {
            handle: RevocationHandle::generate(),
            key: RecordKey::of(&SessionId::generate()),
        }
    }

    #[test]
    fn entries_round_trip_one_fixed_length_line_each() {
        let entries: Vec<IndexEntry> = (0..5).map(|_| entry()).collect();
        let text = encode(&entries);
        assert_eq!(text.len(), 5 * LINE_LEN);
        assert_eq!(text.lines().count(), 5);
        assert_eq!(parse(text.as_bytes()), Ok(entries));
        assert_eq!(parse(b""), Ok(Vec::new()));
    }

    #[test]
    fn anything_else_is_refused() {
        let good = encode(&[entry()]);
        let mut repeated = good.clone();
        repeated.push_str(&good);
        let cases = [
            good[..good.len() - 1].to_owned(),      // torn: no newline
            good.replace(' ', "\t"),                // another separator
            good.to_uppercase(),                    // uppercase hex
            format!("{}\n", &good[..LINE_LEN - 2]), // a digit short
            "x".repeat(LINE_LEN),
            repeated,
        ];
        for bad in cases {
            assert!(parse(bad.as_bytes()).is_err(), "{bad:?}");
        }
        assert!(parse(&[0xff; LINE_LEN]).is_err());
    }

    #[test]
    fn the_bound_is_a_whole_number_of_entries() {
        assert_eq!(MAX_ENTRIES, 10_699);
        assert!((MAX_ENTRIES * LINE_LEN) as u64 <= MAX_INDEX_BYTES);
    }

    #[test]
    fn users_dir_is_never_a_session_name() {
        assert!(at_rest::parse(USERS_DIR).is_none());
    }
}

//! Sessions on the local disk: one file per session, safe across processes.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use crate::clock::{to_millis, Clock};
use crate::store::{at_rest, Record, Store, UserIndex};
use crate::{Error, SessionId};

mod users;

/// Hidden folder of lock files, one per shard of records, never deleted (deleting a
/// lock file that another process has open would let two processes "hold" it).
const LOCK_DIR: &str = ".locks";
/// Marker that records, across processes, when the last sweep ran.
const SWEEP_MARKER: &str = ".last-sweep";
/// Temporary files start with this; they are renamed over the session file.
const TEMP_PREFIX: &str = ".tmp-";
/// A temporary file older than this was left by a writer that crashed.
const STALE_TEMP_AGE: Duration = Duration::from_secs(10 * 60);
/// A session file that does not parse and has not been modified for this long
/// is deleted by the purge: the default absolute lifetime (12 hours), after
/// which a session left alone that long would have ended anyway, and long
/// enough for the error it causes to be noticed.
const CORRUPT_FILE_AGE: Duration = Duration::from_secs(12 * 60 * 60);

/// Sessions in files under one directory: they survive restarts, and any number
/// of processes (CGI programs, several servers on one machine) can share them.
///
/// Each session is one file named by the lowercase hex of the SHA-256 of the
/// ID's bytes (never by the ID, nor by a client's string), holding
/// [`Record::encode`]'s JSON. Guarantees:
///
/// - **crash-safe writes**: a record is written to a temporary file in the same
///   directory, flushed to disk (`fsync`), renamed over the session file, and the
///   directory is flushed too. A crash at any point leaves the old record or the
///   new one, never a torn file;
/// - **atomic updates across threads and processes**: [`Store::update`],
///   [`Store::create`], `set` and `delete` hold an exclusive [`File::lock`] on one
///   of 256 lock files (in `.locks/`, chosen by the first byte of the ID's
///   SHA-256, so a purge that sees only file names takes the same lock) while they
///   read and write, so concurrent updates lose nothing. A panic in an update
///   closure leaves the file as it was. Reads take no lock: a rename is atomic,
///   so a reader sees the old file or the new one;
/// - **expiry**: an expired record is never returned;
///   [`purge_expired`](Store::purge_expired) deletes expired files, and
///   [`FileStoreBuilder::sweep_interval`] makes writes run it now and then;
/// - **foreign files are left alone**: files whose names are not session names
///   are never read or deleted;
/// - **corrupt files are reported, then purged**: a session file that does not
///   parse is an [`Error::CorruptRecord`] for its own ID (never for others), and
///   [`purge_expired`](Store::purge_expired) deletes it once it has not been
///   modified for 12 hours (the default absolute lifetime,
///   [`DEFAULT_ABSOLUTE_LIFETIME`](crate::DEFAULT_ABSOLUTE_LIFETIME), by the
///   store's clock), so a record that can never be read back does not stay
///   forever;
/// - **no live ID at rest**: no file name or content holds a session ID, so a
///   directory listing or a backup hands out no working cookie. A record
///   written by an older version under the raw ID's hex is not found;
/// - **a user's sessions** ([`UserIndex`]): one index file per user in
///   `.users/`, named by the SHA-256 of the user name and holding only
///   handles and record names, rewritten as records are and changed under a
///   lock file of its own (`.users/.locks/`), so concurrent logins in several
///   processes keep [`max_sessions_per_user`](crate::SessionBuilder::max_sessions_per_user);
/// - **private**: on Unix the directory is created `0700` and files are `0600`.
///
/// Locks are advisory `flock`-style locks: they hold between processes on one
/// machine, not on a network file system shared by several machines (use
/// Redis to share sessions across machines).
///
/// ```
/// use http_session::{FileStore, Session};
///
/// # let tmp = std::env::temp_dir().join(format!("doc-file-store-{}", std::process::id()));
/// # let dir = tmp.join("sessions");
/// let store = FileStore::open(&dir)?;
/// let session = Session::with_store(store);
/// let id = session.create(serde_json::json!({"user": "ana"}))?;
///
/// // Another process (or a restarted one) opening the directory sees the session.
/// let again = Session::with_store(FileStore::open(&dir)?);
/// assert_eq!(again.get(&id)?.unwrap()["user"], "ana");
/// # std::fs::remove_dir_all(&tmp).unwrap();
/// # Ok::<(), http_session::Error>(())
/// ```
#[derive(Debug)]
pub struct FileStore {
    dir: PathBuf,
    clock: Clock,
    sweep_interval_ms: Option<u64>,
    /// When this process may sweep next (ms since 1970 by `clock`); 0: look at
    /// the marker file first.
    next_sweep_ms: AtomicU64,
}

/// Settings for a [`FileStore`].
///
/// ```
/// use http_session::FileStore;
/// use std::time::Duration;
///
/// # let tmp = std::env::temp_dir().join(format!("doc-file-builder-{}", std::process::id()));
/// # let dir = tmp.join("sessions");
/// let store = FileStore::builder(&dir)
///     .sweep_interval(Duration::from_secs(15 * 60))
///     .build()?;
/// assert_eq!(store.dir(), dir.as_path());
/// # std::fs::remove_dir_all(&tmp).unwrap();
/// # Ok::<(), http_session::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct FileStoreBuilder {
    dir: PathBuf,
    clock: Clock,
    sweep_interval: Option<Duration>,
}

impl FileStoreBuilder {
    /// The clock expiry is judged by (default: the system clock).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Opt-in sweep: writes run [`purge_expired`](Store::purge_expired) when
    /// this long has passed since the last sweep by any process sharing the
    /// directory (recorded in the file `.last-sweep`). Off by default: a sweep
    /// reads every file, so big directories are better purged by a cron job or
    /// a background thread calling `purge_expired`.
    pub fn sweep_interval(mut self, interval: Duration) -> Self {
        self.sweep_interval = Some(interval);
        self
    }

    /// Creates the directory if needed (`0700` on Unix, parents included) and
    /// opens the store. An existing directory keeps its permissions.
    ///
    /// Fails with [`Error::Store`] if the directory cannot be created or written.
    pub fn build(self) -> Result<FileStore, Error> {
        let context = || format!("opening the session directory {}", self.dir.display());
        create_private_dir(&self.dir).map_err(|e| Error::store(context(), e))?;
        create_private_dir(&self.dir.join(LOCK_DIR)).map_err(|e| Error::store(context(), e))?;
        Ok(FileStore {
            dir: self.dir,
            clock: self.clock,
            sweep_interval_ms: self
                .sweep_interval
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            next_sweep_ms: AtomicU64::new(0),
        })
    }
}

impl FileStore {
    /// Opens (creating it if needed) a store in `dir` with the default settings.
    pub fn open(dir: impl AsRef<Path>) -> Result<FileStore, Error> {
        FileStore::builder(dir).build()
    }

    /// Settings for a store in `dir`.
    pub fn builder(dir: impl AsRef<Path>) -> FileStoreBuilder {
        FileStoreBuilder {
            dir: dir.as_ref().to_path_buf(),
            clock: Clock::system(),
            sweep_interval: None,
        }
    }

    /// The directory the sessions live in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path of the file that holds the session whose ID hashes to `hash`
    /// (it may not exist).
    fn path_of(&self, hash: &[u8; 32]) -> PathBuf {
        self.dir.join(at_rest::hex(hash))
    }

    /// Takes the lock of the shard of the record named by `hash` (its first
    /// byte), held until the returned file is dropped.
    fn lock(&self, hash: &[u8; 32]) -> Result<File, Error> {
        let path = self.dir.join(LOCK_DIR).join(format!("{:02x}", hash[0]));
        let file = private_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| Error::store("opening a session lock file", e))?;
        file.lock()
            .map_err(|e| Error::store("locking a session lock file", e))?;
        Ok(file)
    }

    /// The record in `path`, expired or not; `None` if there is no file.
    fn read(&self, path: &Path) -> Result<Option<Record>, Error> {
        let mut bytes = Vec::new();
        match File::open(path).and_then(|mut f| f.read_to_end(&mut bytes)) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::store("reading a session file", e)),
        }
        let text = std::str::from_utf8(&bytes).map_err(|_| Error::CorruptRecord {
            reason: "session file is not UTF-8 text".to_owned(),
        })?;
        Record::decode(text).map(Some)
    }

    /// The live record in `path`; an expired one is deleted (the caller holds
    /// the lock) and reported as absent.
    fn read_live(&self, path: &Path) -> Result<Option<Record>, Error> {
        match self.read(path)? {
            Some(record) if record.is_expired(self.clock.now()) => {
                remove_if_present(path)?;
                Ok(None)
            }
            other => Ok(other),
        }
    }

    /// Writes `record` to `path` atomically: temp file, fsync, rename, fsync dir.
    fn write(&self, path: &Path, record: &Record) -> Result<(), Error> {
        let text = record.encode()?;
        let temp = self.dir.join(temp_name());
        let written = (|| {
            let mut file = private_options().write(true).create_new(true).open(&temp)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            drop(file);
            fs::rename(&temp, path)?;
            sync_dir(&self.dir)
        })();
        written.map_err(|e| {
            // The rename may not have happened: don't leave the temp file behind.
            let _ = fs::remove_file(&temp);
            Error::store("writing a session file", e)
        })
    }

    /// Runs the opt-in sweep if it is due.
    fn maybe_sweep(&self) {
        let Some(interval) = self.sweep_interval_ms else {
            return;
        };
        let now = to_millis(self.clock.now());
        let next = self.next_sweep_ms.load(Ordering::Relaxed);
        if now < next {
            return;
        }
        let marker = self.dir.join(SWEEP_MARKER);
        if next == 0 {
            // First write of this process: another process may have swept lately.
            let last = fs::read_to_string(&marker)
                .ok()
                .and_then(|text| text.trim().parse::<u64>().ok());
            if let Some(last) = last {
                let due = last.saturating_add(interval);
                if now < due && last <= now {
                    self.next_sweep_ms.store(due, Ordering::Relaxed);
                    return;
                }
            }
        }
        // Claim the sweep for this process; a lost race just means two sweeps.
        if self
            .next_sweep_ms
            .compare_exchange(
                next,
                now.saturating_add(interval),
                Ordering::Relaxed,
                Ordering::Relaxed,
            )
            .is_err()
        {
            return;
        }
        let _ = fs::write(&marker, now.to_string());
        // A failed sweep is retried at the next interval; the write succeeded.
        let _ = self.purge_expired();
    }
}

impl Store for FileStore {
    fn get(&self, id: &SessionId) -> Result<Option<Record>, Error> {
        match self.read(&self.path_of(&at_rest::hash(id)))? {
            Some(record) if record.is_expired(self.clock.now()) => Ok(None),
            other => Ok(other),
        }
    }

    fn set(&self, id: &SessionId, record: Record) -> Result<(), Error> {
        {
            let hash = at_rest::hash(id);
            let _lock = self.lock(&hash)?;
            self.write(&self.path_of(&hash), &record)?;
        }
        self.maybe_sweep();
        Ok(())
    }

    fn delete(&self, id: &SessionId) -> Result<(), Error> {
        let hash = at_rest::hash(id);
        let _lock = self.lock(&hash)?;
        remove_if_present(&self.path_of(&hash))?;
        sync_dir(&self.dir).map_err(|e| Error::store("deleting a session file", e))
    }

    fn update(
        &self,
        id: &SessionId,
        f: &mut dyn FnMut(&mut Record) -> bool,
    ) -> Result<bool, Error> {
        let hash = at_rest::hash(id);
        let path = self.path_of(&hash);
        let lock = self.lock(&hash)?;
        let Some(mut record) = self.read_live(&path)? else {
            return Ok(false);
        };
        // A panic in `f` unwinds here: the file is untouched and the lock is
        // released when `lock` is dropped.
        if !f(&mut record) {
            return Ok(true);
        }
        self.write(&path, &record)?;
        drop(lock);
        self.maybe_sweep();
        Ok(true)
    }

    /// Under the record's lock: reads the live record, unlinks the file and
    /// flushes the directory, so a crash cannot bring the file back after
    /// the record was handed out (an expired one is unlinked, and `None`).
    fn take(&self, id: &SessionId) -> Result<Option<Record>, Error> {
        let hash = at_rest::hash(id);
        let path = self.path_of(&hash);
        let _lock = self.lock(&hash)?;
        let Some(record) = self.read_live(&path)? else {
            return Ok(None);
        };
        remove_if_present(&path)?;
        // If the removal may not be on disk, the record is not handed out:
        // the session could come back under this ID after a crash.
        sync_dir(&self.dir).map_err(|e| Error::store("deleting a session file", e))?;
        Ok(Some(record))
    }

    fn create(&self, id: &SessionId, record: Record) -> Result<bool, Error> {
        {
            let hash = at_rest::hash(id);
            let path = self.path_of(&hash);
            let _lock = self.lock(&hash)?;
            if self.read_live(&path)?.is_some() {
                return Ok(false);
            }
            self.write(&path, &record)?;
        }
        self.maybe_sweep();
        Ok(true)
    }

    /// Deletes every expired session file, every session file that does not
    /// parse and has not been modified for 12 hours (the default absolute
    /// lifetime, judged by the store's clock), and temporary files left for
    /// more than ten minutes by a writer that crashed (in `.users/` too).
    /// User index entries are left for the [`Session`](crate::Session) to
    /// prune. Returns how many
    /// session files it deleted (corrupt ones included). Files with other
    /// names are left alone.
    fn purge_expired(&self) -> Result<usize, Error> {
        let entries = fs::read_dir(&self.dir)
            .map_err(|e| Error::store("listing the session directory", e))?;
        let mut removed = 0;
        for entry in entries {
            let Ok(entry) = entry else { continue };
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            // A session file's name is a hash: the purge needs no ID.
            if let Some(hash) = at_rest::parse(name) {
                let _lock = self.lock(&hash)?;
                let now = self.clock.now();
                let expired = match self.read(&entry.path()) {
                    Ok(Some(record)) => record.is_expired(now),
                    // Reported on access for a while before it goes, so that
                    // a bug writing bad files is seen, not silently purged.
                    Err(Error::CorruptRecord { .. }) => {
                        is_older_than(&entry, now, CORRUPT_FILE_AGE)
                    }
                    // Gone meanwhile, or unreadable (left for the next purge).
                    _ => false,
                };
                if expired {
                    remove_if_present(&entry.path())?;
                    removed += 1;
                }
            } else if name.starts_with(TEMP_PREFIX) && is_stale(&entry) {
                let _ = fs::remove_file(entry.path());
            }
        }
        if removed > 0 {
            sync_dir(&self.dir).map_err(|e| Error::store("deleting expired session files", e))?;
        }
        self.purge_index_temps();
        Ok(removed)
    }

    /// The per-user index files in `.users/`, each changed under a file lock
    /// (see [`UserIndex`]'s implementation below).
    fn user_index(&self) -> Option<&dyn UserIndex> {
        Some(self)
    }

    /// The number of session files: one listing of the directory, opening
    /// no file, so expired files not yet purged and corrupt ones count too.
    /// Its cost grows with the directory (tens of milliseconds for 10,000
    /// files): for monitoring, not for every request.
    fn count(&self) -> Result<Option<u64>, Error> {
        let entries = fs::read_dir(&self.dir)
            .map_err(|e| Error::store("listing the session directory", e))?;
        let mut count = 0;
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name.to_str().and_then(at_rest::parse).is_some()
                && entry.file_type().is_ok_and(|t| t.is_file())
            {
                count += 1;
            }
        }
        Ok(Some(count))
    }
}

/// A name no other writer uses at the same time: process ID, a counter and a
/// random part (a PID can be reused after a crash).
fn temp_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let salt: u64 = rand::random();
    format!("{TEMP_PREFIX}{}-{n}-{salt:016x}", std::process::id())
}

fn is_stale(entry: &fs::DirEntry) -> bool {
    is_older_than(entry, SystemTime::now(), STALE_TEMP_AGE)
}

/// Whether `entry` was last modified more than `age` before `now`.
fn is_older_than(entry: &fs::DirEntry, now: SystemTime, age: Duration) -> bool {
    entry
        .metadata()
        .and_then(|m| m.modified())
        .ok()
        .and_then(|modified| now.duration_since(modified).ok())
        .is_some_and(|elapsed| elapsed > age)
}

fn remove_if_present(path: &Path) -> Result<(), Error> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::store("deleting a session file", e)),
    }
}

/// Options that create files readable by the owner only (Unix).
fn private_options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Flushes the directory entry changes (a rename, a removal) to disk. Only Unix
/// can open a directory as a file; elsewhere the rename itself is relied on.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_and_marker_names_are_never_session_names() {
        assert!(at_rest::parse(&temp_name()).is_none());
        assert!(at_rest::parse(LOCK_DIR).is_none());
        assert!(at_rest::parse(SWEEP_MARKER).is_none());
    }
}

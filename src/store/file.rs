//! Sessions on the local disk: one file per session, safe across processes.

use std::fmt;
use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, TryLockError};
use std::time::{Duration, SystemTime};

use crate::clock::{to_millis, Clock};
use crate::store::{at_rest, Durability, Record, Store, UserIndex};
use crate::{Error, SessionId};

mod users;

/// Hidden folder of lock files, one per shard of records, never deleted (deleting a
/// lock file that another process has open would let two processes "hold" it).
const LOCK_DIR: &str = ".locks";
/// Marker that tells every process sharing the directory where the cleanup
/// stands: when the current pass over the directory started, and how far it got.
const SWEEP_MARKER: &str = ".last-sweep";
/// The marker is one short line; a longer file is not read past this.
const MARKER_MAX_LEN: u64 = 64;
/// Temporary files start with this; they are renamed over the session file.
const TEMP_PREFIX: &str = ".tmp-";
/// A temporary file older than this was left by a writer that died: a write
/// (one record of at most `max_record_size`, then its `fsync`) takes far less.
const STALE_TEMP_AGE: Duration = Duration::from_secs(10 * 60);
/// A session file that does not parse and has not been modified for this long
/// is deleted by the cleanup: the default absolute lifetime (12 hours), after
/// which a session left alone that long would have ended anyway, and long
/// enough for the error it causes to be noticed.
const CORRUPT_FILE_AGE: Duration = Duration::from_secs(12 * 60 * 60);
/// How many times a read without `O_NOFOLLOW` tries again when the path was
/// replaced while it was being opened (a concurrent write renames over it).
const OPEN_ATTEMPTS: usize = 4;

/// `O_NOFOLLOW | O_NONBLOCK` for `open(2)`, where this crate knows their
/// values (Linux and Android on the common architectures; the values are the
/// kernel's ABI, the same as `libc`'s constants). `O_NOFOLLOW` makes opening a
/// symbolic link fail, also when creating (a dangling link's target is never
/// created); `O_NONBLOCK` makes opening a FIFO return at once. Elsewhere
/// ([`None`]) each open is checked before and after instead: see
/// [`open_checked`].
const NO_FOLLOW: Option<i32> = no_follow_flags();

const fn no_follow_flags() -> Option<i32> {
    const O_NONBLOCK: i32 = 0o4000;
    if cfg!(all(
        any(target_os = "linux", target_os = "android"),
        any(
            target_arch = "x86",
            target_arch = "x86_64",
            target_arch = "riscv32",
            target_arch = "riscv64",
            target_arch = "s390x",
            target_arch = "loongarch64"
        )
    )) {
        Some(0o400_000 | O_NONBLOCK)
    } else if cfg!(all(
        any(target_os = "linux", target_os = "android"),
        any(
            target_arch = "arm",
            target_arch = "aarch64",
            target_arch = "powerpc",
            target_arch = "powerpc64"
        )
    )) {
        Some(0o100_000 | O_NONBLOCK)
    } else {
        None
    }
}

/// Why a file named like a session is not read.
const NOT_REGULAR: &str = "session file is not a regular file (a symbolic link, a FIFO, a \
     directory or a device), so it was neither followed nor read; remove it";

/// Why a lock file is not used.
const LOCK_NOT_REGULAR: &str = "a file in the lock directory .locks is not a regular file (a \
     symbolic link, a FIFO or a directory), so it was neither followed nor used; remove it (the \
     store creates it again) and find out who put it there";

/// Sessions in files under one directory: they survive restarts, and any number
/// of processes (CGI programs, several servers on one machine) can share them.
///
/// Each session is one file named by the lowercase hex of the SHA-256 of the
/// ID's bytes (never by the ID, nor by a client's string), holding
/// [`Record::encode`]'s JSON. Guarantees:
///
/// - **crash-safe writes**: a record is written to a temporary file in the same
///   directory, flushed to disk (`fsync`), renamed over the session file, and the
///   directory is flushed too (after the record's lock is released, so the next
///   writer of the session does not wait for that sync; the call returns only
///   once it is done). A crash at any point leaves the old record or the
///   new one, never a torn file. [`Durability::ProcessCrash`]
///   (see [`FileStoreBuilder::durability`]) skips both syncs for `set`,
///   `create` and `update`, not for `delete`, `take` and the user index;
/// - **atomic updates across threads and processes**: [`Store::update`],
///   [`Store::create`], `set`, `delete` and `take` hold an exclusive
///   [`File::lock`] on one of 256 lock files (in `.locks/`, chosen by the first
///   byte of the ID's SHA-256, so a cleanup that sees only file names takes the
///   same lock) while they read and write, so concurrent updates lose nothing.
///   A panic in an update closure leaves the file as it was. Reads take no
///   lock: a rename is atomic, so a reader sees the old file or the new one;
/// - **expiry, with cleanup on by default**: an expired record is never
///   returned, and is deleted when a read finds it (`get`, `update`, `take`,
///   `create`). Every write (`set`, `create`, an `update` that stores) also
///   cleans up a bounded batch of the directory: it looks at most
///   [`sweep_batch`](FileStoreBuilder::sweep_batch) entries (default
///   [`FileStore::DEFAULT_SWEEP_BATCH`], 16), in a pass over the directory that
///   every process sharing it continues where the last one stopped. The batch
///   deletes expired session files, session files that do not parse and were
///   not modified for 12 hours, and temporary files left for more than ten
///   minutes by a writer that died. A new pass starts at most every
///   [`sweep_interval`](FileStoreBuilder::sweep_interval) (default one
///   minute). No thread, no cron job; [`purge_expired`](Store::purge_expired)
///   does a whole pass at once;
/// - **bounded reads**: a file larger than
///   [`max_record_size`](FileStoreBuilder::max_record_size) (default
///   [`FileStore::DEFAULT_MAX_RECORD_SIZE`], 4 MiB) is refused without being
///   read, and no larger record is written;
/// - **links and special files are never followed**: a symbolic link, FIFO,
///   directory or device named like a session is an [`Error::CorruptRecord`]
///   for that ID, never opened for its contents (no read blocks on a FIFO), and
///   left alone by the cleanup; a lock file or the `.last-sweep` marker
///   replaced by a link is never followed, so no file is created through it;
/// - **foreign files are left alone**: files whose names are not session names
///   are never read or deleted;
/// - **corrupt files are reported, then purged**: a session file that does not
///   parse is an [`Error::CorruptRecord`] for its own ID (never for others), and
///   the cleanup deletes it once it has not been modified for 12 hours (the
///   default absolute lifetime,
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
/// - **private**: on Unix the directory is created `0700` and every file the
///   store creates is `0600`; an existing directory that its group or others
///   can write to is refused unless
///   [`allow_shared_dir`](FileStoreBuilder::allow_shared_dir) says otherwise;
/// - **emptying the directory ends every session and nothing else**: the store
///   keeps working, and makes `.locks` again when it is gone. (A directory that
///   was removed altogether is not made again: it may be the mount point of a
///   volume that is not mounted. Calls fail until it is back.)
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
pub struct FileStore {
    dir: PathBuf,
    clock: Clock,
    max_record_size: usize,
    sweep_batch: usize,
    sweep_interval_ms: u64,
    allow_shared_dir: bool,
    durability: Durability,
    /// This process's part of the cleanup; `try_lock`ed, so a write never
    /// waits for another thread's batch.
    sweep: Mutex<Sweep>,
}

/// Where this process stands in the cleanup.
#[derive(Default)]
struct Sweep {
    /// The pass under way, continued by this process's next write.
    pass: Option<Pass>,
    /// No pass starts before this (ms since 1970 by the store's clock); 0: ask
    /// the marker.
    next_pass_ms: u64,
}

/// A pass over the directory: a listing read a batch at a time.
struct Pass {
    entries: fs::ReadDir,
    /// When the pass started (ms since 1970 by the store's clock).
    started_ms: u64,
    /// How many entries before the cursor are still there (those looked at
    /// and not removed): where a fresh listing resumes, in another process.
    position: u64,
}

impl fmt::Debug for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileStore")
            .field("dir", &self.dir)
            .field("clock", &self.clock)
            .field("max_record_size", &self.max_record_size)
            .field("sweep_batch", &self.sweep_batch)
            .field(
                "sweep_interval",
                &Duration::from_millis(self.sweep_interval_ms),
            )
            .field("allow_shared_dir", &self.allow_shared_dir)
            .field("durability", &self.durability)
            .finish_non_exhaustive()
    }
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
    max_record_size: usize,
    sweep_batch: usize,
    sweep_interval: Duration,
    allow_shared_dir: bool,
    durability: Durability,
}

impl FileStoreBuilder {
    /// The clock expiry is judged by (default: the system clock).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// How often a new cleanup pass over the directory may start, shared by
    /// every process using it through the file `.last-sweep` (default
    /// [`FileStore::DEFAULT_SWEEP_INTERVAL`], one minute). Within a pass, each
    /// write looks at [`sweep_batch`](Self::sweep_batch) entries, so a pass over
    /// `n` files takes `n / batch` writes; an expired file is deleted at most
    /// one interval plus one pass after it expired (or as soon as it is read).
    /// `Duration::ZERO` starts the next pass as soon as one ends.
    ///
    /// ```
    /// use http_session::FileStore;
    /// use std::time::Duration;
    ///
    /// # let tmp = std::env::temp_dir().join(format!("doc-file-interval-{}", std::process::id()));
    /// let store = FileStore::builder(&tmp)
    ///     .sweep_interval(Duration::from_secs(15 * 60))
    ///     .build()?;
    /// assert!(format!("{store:?}").contains("sweep_interval: 900s"));
    /// # std::fs::remove_dir_all(&tmp).unwrap();
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn sweep_interval(mut self, interval: Duration) -> Self {
        self.sweep_interval = interval;
        self
    }

    /// At most how many directory entries each write looks at to clean up
    /// (default [`FileStore::DEFAULT_SWEEP_BATCH`], 16): each is a name; a
    /// session file among them is read (one file of at most
    /// [`max_record_size`](Self::max_record_size)), and deleted if it expired.
    /// The write's own cost grows by at most that much, whatever the size of
    /// the directory, apart from the listing: a process that joins a pass
    /// (a CGI program, on its first write) lists the names before the point
    /// where the pass stands, without opening those files.
    ///
    /// Since each write adds at most one file and looks at `batch` entries,
    /// the directory never holds many more files than the live sessions, the
    /// expired ones of the last interval, and those of one pass.
    ///
    /// `0` turns the cleanup off: expired files are then deleted only when
    /// read, or by [`purge_expired`](Store::purge_expired) (from a cron job or
    /// a thread of your own).
    ///
    /// ```
    /// use http_session::FileStore;
    ///
    /// # let tmp = std::env::temp_dir().join(format!("doc-file-batch-{}", std::process::id()));
    /// // Writes never delete another session's file: a cron job purges.
    /// let store = FileStore::builder(&tmp).sweep_batch(0).build()?;
    /// assert!(format!("{store:?}").contains("sweep_batch: 0"));
    /// # std::fs::remove_dir_all(&tmp).unwrap();
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn sweep_batch(mut self, entries: usize) -> Self {
        self.sweep_batch = entries;
        self
    }

    /// The largest record, in bytes of JSON, the store writes or reads
    /// (default [`FileStore::DEFAULT_MAX_RECORD_SIZE`], 4 MiB). A write of a
    /// larger record fails with [`Error::Store`] and changes nothing; a larger
    /// file is an [`Error::CorruptRecord`] for its ID, refused from its size
    /// alone without reading it, so a planted or runaway file costs no memory.
    ///
    /// A record is the session's data plus at most 100 bytes: keep this above
    /// [`SessionBuilder::max_data_size`](crate::SessionBuilder::max_data_size)
    /// (64 KiB by default) plus 100.
    ///
    /// ```
    /// use http_session::{FileStore, Record, SessionId, Store};
    ///
    /// # let tmp = std::env::temp_dir().join(format!("doc-file-max-{}", std::process::id()));
    /// let store = FileStore::builder(&tmp).max_record_size(1024).build()?;
    /// let mut data = http_session::Data::new();
    /// data.insert("note".into(), "x".repeat(2000).into());
    /// let err = store.set(&SessionId::generate(), Record::new(data)).unwrap_err();
    /// assert!(err.to_string().contains("max_record_size"), "{err}");
    /// # std::fs::remove_dir_all(&tmp).unwrap();
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn max_record_size(mut self, bytes: usize) -> Self {
        self.max_record_size = bytes;
        self
    }

    /// Accepts an existing directory that its group or others can write to
    /// (default `false`: [`build`](Self::build) refuses it with
    /// [`Error::InvalidConfig`], since anyone who can write there can plant,
    /// replace or remove session files). Only for a directory shared on
    /// purpose; on other systems than Unix there is no such check.
    ///
    /// ```
    /// use http_session::FileStore;
    ///
    /// # let tmp = std::env::temp_dir().join(format!("doc-file-shared-{}", std::process::id()));
    /// # std::fs::create_dir_all(&tmp)?;
    /// # #[cfg(unix)]
    /// # {
    /// # use std::os::unix::fs::PermissionsExt;
    /// # std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o770))?;
    /// # }
    /// // A directory writable by a group of server accounts, on purpose.
    /// let store = FileStore::builder(&tmp).allow_shared_dir(true).build()?;
    /// # std::fs::remove_dir_all(&tmp).unwrap();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allow_shared_dir(mut self, allow: bool) -> Self {
        self.allow_shared_dir = allow;
        self
    }

    /// What a write must survive before the call returns (default
    /// [`Durability::PowerCut`]: the record file and the directory are
    /// synced to disk, two `fsync`s, before a write returns).
    /// [`Durability::ProcessCrash`] leaves the writes of `set`, `create`
    /// and `update` in the operating system's cache; `delete`, `take` and
    /// the user index still sync. After a power cut such a record is the
    /// old one, the new one, or (on file systems that do not order a
    /// rename after the data it names; ext4 does) a torn file, which reads
    /// as no session for a request and is removed by the cleanup.
    ///
    /// ```
    /// use http_session::{Durability, FileStore};
    ///
    /// # let tmp = std::env::temp_dir().join(format!("doc-file-durability-{}", std::process::id()));
    /// let store = FileStore::builder(&tmp)
    ///     .durability(Durability::ProcessCrash)
    ///     .build()?;
    /// assert!(format!("{store:?}").contains("ProcessCrash"));
    /// # std::fs::remove_dir_all(&tmp).unwrap();
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// Creates the directory if needed (`0700` on Unix, parents included) and
    /// opens the store. An existing directory keeps its permissions, and is
    /// refused if its group or others can write to it (see
    /// [`allow_shared_dir`](Self::allow_shared_dir)).
    ///
    /// Fails with [`Error::Store`] if the directory cannot be created or written,
    /// and with [`Error::InvalidConfig`] if it is group- or world-writable.
    pub fn build(self) -> Result<FileStore, Error> {
        let context = || format!("opening the session directory {}", self.dir.display());
        create_private_dir(&self.dir).map_err(|e| Error::store(context(), e))?;
        if !self.allow_shared_dir {
            refuse_shared_dir(&self.dir).map_err(|e| match e {
                Shared::Io(e) => Error::store(context(), e),
                Shared::Writable(reason) => Error::config(reason),
            })?;
        }
        create_private_dir(&self.dir.join(LOCK_DIR)).map_err(|e| Error::store(context(), e))?;
        Ok(FileStore {
            dir: self.dir,
            clock: self.clock,
            max_record_size: self.max_record_size,
            sweep_batch: self.sweep_batch,
            sweep_interval_ms: u64::try_from(self.sweep_interval.as_millis()).unwrap_or(u64::MAX),
            allow_shared_dir: self.allow_shared_dir,
            durability: self.durability,
            sweep: Mutex::new(Sweep::default()),
        })
    }
}

impl FileStore {
    /// The default [`FileStoreBuilder::max_record_size`]: 4 MiB, 64 times
    /// [`DEFAULT_MAX_DATA_SIZE`](crate::DEFAULT_MAX_DATA_SIZE), so a
    /// `Session` whose data limit was raised a good deal still fits.
    ///
    /// ```
    /// assert_eq!(http_session::FileStore::DEFAULT_MAX_RECORD_SIZE, 4 * 1024 * 1024);
    /// ```
    pub const DEFAULT_MAX_RECORD_SIZE: usize = 4 * 1024 * 1024;

    /// The default [`FileStoreBuilder::sweep_batch`]: each write looks at 16
    /// directory entries at most.
    ///
    /// ```
    /// assert_eq!(http_session::FileStore::DEFAULT_SWEEP_BATCH, 16);
    /// ```
    pub const DEFAULT_SWEEP_BATCH: usize = 16;

    /// The default [`FileStoreBuilder::sweep_interval`]: a new cleanup pass
    /// starts at most once a minute.
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(http_session::FileStore::DEFAULT_SWEEP_INTERVAL, Duration::from_secs(60));
    /// ```
    pub const DEFAULT_SWEEP_INTERVAL: Duration = Duration::from_secs(60);

    /// Opens (creating it if needed) a store in `dir` with the default settings.
    pub fn open(dir: impl AsRef<Path>) -> Result<FileStore, Error> {
        FileStore::builder(dir).build()
    }

    /// Settings for a store in `dir`.
    pub fn builder(dir: impl AsRef<Path>) -> FileStoreBuilder {
        FileStoreBuilder {
            dir: dir.as_ref().to_path_buf(),
            clock: Clock::system(),
            max_record_size: FileStore::DEFAULT_MAX_RECORD_SIZE,
            sweep_batch: FileStore::DEFAULT_SWEEP_BATCH,
            sweep_interval: FileStore::DEFAULT_SWEEP_INTERVAL,
            allow_shared_dir: false,
            durability: Durability::default(),
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
    /// byte), held until the returned file is dropped. A lock file that is not
    /// a regular file is refused, never followed; a missing `.locks` (the
    /// directory was emptied) is made again.
    fn lock(&self, hash: &[u8; 32]) -> Result<File, Error> {
        let locks = self.dir.join(LOCK_DIR);
        let path = locks.join(format!("{:02x}", hash[0]));
        let opened = match open_checked(&path, Access::Create, NO_FOLLOW) {
            // Only `.locks` itself, never the session directory: a directory
            // that is gone may be a volume that is not mounted.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                create_lock_dir(&locks)
                    .map_err(|e| Error::store("making the lock directory .locks again", e))?;
                open_checked(&path, Access::Create, NO_FOLLOW)
            }
            other => other,
        }
        .map_err(|e| Error::store("opening a session lock file", e))?;
        let file = match opened {
            Opened::File(file, _) => file,
            Opened::NotRegular => {
                return Err(Error::store(
                    "opening a session lock file",
                    io::Error::other(LOCK_NOT_REGULAR),
                ))
            }
            Opened::Missing => {
                return Err(Error::store(
                    "opening a session lock file",
                    io::Error::from(io::ErrorKind::NotFound),
                ))
            }
        };
        file.lock()
            .map_err(|e| Error::store("locking a session lock file", e))?;
        Ok(file)
    }

    /// What the file at `path` holds, read only if it is a regular file no
    /// larger than `max_record_size`.
    fn load(&self, path: &Path) -> Result<Loaded, Error> {
        let reading = |e| Error::store("reading a session file", e);
        let (file, meta) = match open_checked(path, Access::Read, NO_FOLLOW).map_err(reading)? {
            Opened::File(file, meta) => (file, meta),
            Opened::Missing => return Ok(Loaded::Missing),
            Opened::NotRegular => return Ok(Loaded::NotRegular),
        };
        let limit = self.max_record_size;
        if meta.len() > u64::try_from(limit).unwrap_or(u64::MAX) {
            return Ok(Loaded::Corrupt(too_large_to_read(meta.len(), limit), meta));
        }
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        // A file that grows after its size was checked is cut off past the
        // limit, never read whole.
        let cap = u64::try_from(limit.saturating_add(1)).unwrap_or(u64::MAX);
        file.take(cap).read_to_end(&mut bytes).map_err(reading)?;
        if bytes.len() > limit {
            let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
            return Ok(Loaded::Corrupt(too_large_to_read(len, limit), meta));
        }
        let record = std::str::from_utf8(&bytes)
            .map_err(|_| Error::CorruptRecord {
                reason: "session file is not UTF-8 text".to_owned(),
            })
            .and_then(Record::decode);
        Ok(match record {
            Ok(record) => Loaded::Record(record),
            Err(e) => Loaded::Corrupt(e, meta),
        })
    }

    /// The record in `path`, expired or not; `None` if there is no file.
    fn read(&self, path: &Path) -> Result<Option<Record>, Error> {
        match self.load(path)? {
            Loaded::Missing => Ok(None),
            Loaded::Record(record) => Ok(Some(record)),
            Loaded::NotRegular => Err(Error::CorruptRecord {
                reason: NOT_REGULAR.to_owned(),
            }),
            Loaded::Corrupt(e, _) => Err(e),
        }
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

    /// Writes `record` to `path` atomically: temp file, fsync (unless the
    /// durability is [`Durability::ProcessCrash`]), rename. The caller
    /// flushes the directory ([`flush_dir`](Self::flush_dir)) once it has
    /// released the record's lock.
    fn write(&self, path: &Path, record: &Record) -> Result<(), Error> {
        let text = record.encode()?;
        if text.len() > self.max_record_size {
            return Err(Error::store(
                "writing a session file",
                io::Error::new(
                    io::ErrorKind::FileTooLarge,
                    format!(
                        "the record is {} bytes, over this FileStore's max_record_size of {}, so \
                         nothing was written; store less in the session, or raise \
                         FileStoreBuilder::max_record_size",
                        text.len(),
                        self.max_record_size
                    ),
                ),
            ));
        }
        let temp = self.dir.join(temp_name());
        let written = (|| {
            // `create_new` (O_EXCL) never opens through a link.
            let mut file = private_options().write(true).create_new(true).open(&temp)?;
            file.write_all(text.as_bytes())?;
            if self.durability.syncs_every_write() {
                file.sync_all()?;
            }
            drop(file);
            fs::rename(&temp, path)
        })();
        written.map_err(|e| {
            // The rename may not have happened: don't leave the temp file behind.
            let _ = fs::remove_file(&temp);
            Error::store("writing a session file", e)
        })
    }

    /// Flushes the directory, so that the renames and removals before it
    /// survive a crash. Called after the record's lock is released: the
    /// rename already made the change atomic and visible, and a crash before
    /// the flush leaves the old record or the new one, so holding the lock
    /// through the flush would only make the next writer of the session wait
    /// for a disk sync it does not need.
    ///
    /// With [`Durability::ProcessCrash`], a rename is left to the operating
    /// system like the data it names.
    fn flush_dir(&self) -> Result<(), Error> {
        if !self.durability.syncs_every_write() {
            return Ok(());
        }
        sync_dir(&self.dir).map_err(|e| Error::store("flushing the session directory", e))
    }

    /// Deletes the file at `path` (the record named by `hash`) if the cleanup
    /// should: expired, or corrupt and not modified for 12 hours. Looks first
    /// without the lock (most files are live), then again under it, so a
    /// record renewed in between stays. Returns whether it deleted the file.
    fn remove_if_due(&self, hash: &[u8; 32], path: &Path, now: SystemTime) -> Result<bool, Error> {
        let due = |path: &Path| match self.load(path) {
            Ok(Loaded::Record(record)) => record.is_expired(now),
            // Reported on access for a while before it goes, so that a bug
            // writing bad files is seen, not silently purged.
            Ok(Loaded::Corrupt(_, meta)) => modified_before(&meta, now, CORRUPT_FILE_AGE),
            // Gone, not a regular file (left alone), or unreadable (left for
            // the next pass).
            _ => false,
        };
        if !due(path) {
            return Ok(false);
        }
        let _lock = self.lock(hash)?;
        if !due(path) {
            return Ok(false);
        }
        remove_if_present(path)?;
        Ok(true)
    }

    /// The cleanup's work on one directory entry: an expired or long-corrupt
    /// session file, or a stale temporary file, is deleted. Anything that is
    /// not a regular file is left alone, unopened. Returns whether a session
    /// file was deleted.
    fn sweep_entry(&self, entry: &fs::DirEntry, now: SystemTime) -> Result<bool, Error> {
        // The entry's own type: a link is not followed to find it.
        if !entry.file_type().is_ok_and(|t| t.is_file()) {
            return Ok(false);
        }
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            return Ok(false);
        };
        // A session file's name is a hash: the cleanup needs no ID.
        if let Some(hash) = at_rest::parse(name) {
            return self.remove_if_due(&hash, &entry.path(), now);
        }
        // Temp files are judged by the real time, which their mtime is in.
        if name.starts_with(TEMP_PREFIX)
            && entry
                .metadata()
                .is_ok_and(|meta| modified_before(&meta, SystemTime::now(), STALE_TEMP_AGE))
        {
            let _ = fs::remove_file(entry.path());
        }
        Ok(false)
    }

    /// The cleanup's share of a write: at most `sweep_batch` entries of the
    /// pass under way (or of a new one, when due). Never fails the write: an
    /// entry that could not be cleaned up is looked at again in the next pass.
    fn sweep_some(&self) {
        if self.sweep_batch == 0 {
            return;
        }
        let mut sweep = match self.sweep.try_lock() {
            Ok(sweep) => sweep,
            // Another thread is cleaning up: this write does not wait.
            Err(TryLockError::WouldBlock) => return,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
        };
        let now = self.clock.now();
        let now_ms = to_millis(now);
        let mut pass = match sweep.pass.take() {
            Some(pass) => pass,
            // Not yet; unless the clock went back, past the whole interval.
            None if now_ms < sweep.next_pass_ms
                && sweep.next_pass_ms <= now_ms.saturating_add(self.sweep_interval_ms) =>
            {
                return
            }
            None => match self.open_pass(now_ms) {
                Ok(pass) => pass,
                Err(not_before_ms) => {
                    sweep.next_pass_ms = not_before_ms;
                    return;
                }
            },
        };
        let mut finished = false;
        for _ in 0..self.sweep_batch {
            let Some(entry) = pass.entries.next() else {
                finished = true;
                break;
            };
            let removed = entry.is_ok_and(|entry| self.sweep_entry(&entry, now).unwrap_or(false));
            if !removed {
                pass.position = pass.position.saturating_add(1);
            }
        }
        self.write_marker(pass.started_ms, (!finished).then_some(pass.position));
        if finished {
            sweep.next_pass_ms = pass.started_ms.saturating_add(self.sweep_interval_ms);
        } else {
            sweep.pass = Some(pass);
        }
    }

    /// The pass to join (another process's, where it stopped) or to start, or
    /// `Err(ms)`: no pass before that time (0: try again at the next write).
    fn open_pass(&self, now_ms: u64) -> Result<Pass, u64> {
        let (started_ms, skip) = match self.read_marker() {
            Some((started, Some(position))) if started <= now_ms => (started, position),
            Some((started, None)) if started <= now_ms => {
                let next = started.saturating_add(self.sweep_interval_ms);
                if now_ms < next {
                    return Err(next);
                }
                (now_ms, 0)
            }
            // No marker yet, an unreadable one, or one from a clock ahead of ours.
            _ => (now_ms, 0),
        };
        let mut entries = fs::read_dir(&self.dir).map_err(|_| 0_u64)?;
        // Past what earlier batches looked at: names only, no file is opened.
        let mut position = 0;
        while position < skip && entries.next().is_some() {
            position += 1;
        }
        Ok(Pass {
            entries,
            started_ms,
            position,
        })
    }

    /// The marker's pass: when it started, and where it stands (`None`: done).
    fn read_marker(&self) -> Option<(u64, Option<u64>)> {
        let path = self.dir.join(SWEEP_MARKER);
        let Ok(Opened::File(file, _)) = open_checked(&path, Access::Read, NO_FOLLOW) else {
            return None;
        };
        let mut text = String::new();
        file.take(MARKER_MAX_LEN).read_to_string(&mut text).ok()?;
        let mut words = text.lines().next()?.split(' ');
        let started = words.next()?.parse().ok()?;
        let position = match words.next()? {
            "done" => None,
            number => Some(number.parse().ok()?),
        };
        Some((started, position))
    }

    /// Records the pass in the marker (`0600`, never through a link). A marker
    /// that is not a regular file is replaced: the name is the store's.
    fn write_marker(&self, started_ms: u64, position: Option<u64>) {
        let text = match position {
            Some(position) => format!("{started_ms} {position}\n"),
            None => format!("{started_ms} done\n"),
        };
        let path = self.dir.join(SWEEP_MARKER);
        let file = match open_checked(&path, Access::Create, NO_FOLLOW) {
            Ok(Opened::File(file, _)) => file,
            Ok(Opened::NotRegular) => {
                let _ = fs::remove_file(&path);
                match open_checked(&path, Access::Create, NO_FOLLOW) {
                    Ok(Opened::File(file, _)) => file,
                    _ => return,
                }
            }
            _ => return,
        };
        // Over the old line, then cut: a reader sees a whole first line, or
        // (a torn read) starts a new pass, which costs time, not correctness.
        let _ = (&file)
            .write_all(text.as_bytes())
            .and_then(|()| file.set_len(u64::try_from(text.len()).unwrap_or(0)));
    }
}

impl FileStore {
    /// [`Store::get`] of the record named `hash`: an expired one is deleted
    /// (best effort) and not returned. The user index reads through here too.
    pub(super) fn get_named(&self, hash: &[u8; 32]) -> Result<Option<Record>, Error> {
        let path = self.path_of(hash);
        match self.read(&path)? {
            Some(record) if record.is_expired(self.clock.now()) => {
                // Best effort: the record is absent either way.
                if let Ok(_lock) = self.lock(hash) {
                    let _ = self.read_live(&path);
                }
                Ok(None)
            }
            other => Ok(other),
        }
    }

    /// [`Store::delete`] of the record named `hash`: under its lock, with the
    /// directory flushed.
    /// Says whether there was a file to delete.
    pub(super) fn delete_named(&self, hash: &[u8; 32]) -> Result<bool, Error> {
        let removed = {
            let _lock = self.lock(hash)?;
            remove_if_present(&self.path_of(hash))?
        };
        // Whatever the durability: a session ended stays ended after a crash.
        sync_dir(&self.dir).map_err(|e| Error::store("deleting a session file", e))?;
        Ok(removed)
    }
}

impl Store for FileStore {
    /// The live record; an expired one is deleted (under the record's lock,
    /// after reading it again) and reported as absent.
    fn get(&self, id: &SessionId) -> Result<Option<Record>, Error> {
        self.get_named(&at_rest::hash(id))
    }

    fn set(&self, id: &SessionId, record: Record) -> Result<(), Error> {
        {
            let hash = at_rest::hash(id);
            let _lock = self.lock(&hash)?;
            self.write(&self.path_of(&hash), &record)?;
        }
        self.flush_dir()?;
        self.sweep_some();
        Ok(())
    }

    fn delete(&self, id: &SessionId) -> Result<(), Error> {
        self.delete_named(&at_rest::hash(id)).map(|_| ())
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
        self.flush_dir()?;
        self.sweep_some();
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
        self.flush_dir()?;
        self.sweep_some();
        Ok(true)
    }

    /// A whole cleanup pass at once: deletes every expired session file, every
    /// session file that does not parse (or is over `max_record_size`) and has
    /// not been modified for 12 hours (the default absolute lifetime, judged by
    /// the store's clock), and temporary files left for more than ten minutes
    /// by a writer that died (in `.users/` too). User index entries are left for
    /// the [`Session`](crate::Session) to prune. Returns how many session files it deleted
    /// (corrupt ones included). Files with other names, and anything that is
    /// not a regular file, are left alone.
    fn purge_expired(&self) -> Result<usize, Error> {
        let entries = fs::read_dir(&self.dir)
            .map_err(|e| Error::store("listing the session directory", e))?;
        let now = self.clock.now();
        let mut removed = 0;
        for entry in entries {
            let Ok(entry) = entry else { continue };
            if self.sweep_entry(&entry, now)? {
                removed += 1;
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

/// What a file named like a session holds.
enum Loaded {
    Missing,
    /// A link, FIFO, directory or device: not read.
    NotRegular,
    Record(Record),
    /// An [`Error::CorruptRecord`] (does not parse, or too large), and the
    /// file's metadata for its age.
    Corrupt(Error, Metadata),
}

/// What opening a path without following a symbolic link found.
#[derive(Debug)]
enum Opened {
    /// A regular file, with the open file's own metadata.
    File(File, Metadata),
    /// Nothing by that name.
    Missing,
    /// A symbolic link, a FIFO, a directory, a device or a socket.
    NotRegular,
}

/// How [`open_checked`] opens.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Access {
    /// Read only; a missing file is [`Opened::Missing`].
    Read,
    /// Read and write, created (`0600`) if missing; a missing parent is an
    /// error of kind `NotFound`.
    Create,
}

/// Opens `path` only if it is a regular file, never through a symbolic link
/// and never blocking on a FIFO.
///
/// With `flags` (`O_NOFOLLOW | O_NONBLOCK`, see [`NO_FOLLOW`]) the kernel
/// refuses a link, also when creating, and a FIFO opens at once; what was
/// opened must then be a regular file. Without them: the path is looked at
/// first (`lstat`: anything but a regular file is not opened at all), created
/// only with `O_EXCL` (which never follows a link), and after opening it must
/// still name the very file that was opened (same device and inode), so a link
/// swapped in between is never read; a FIFO swapped in within that instant
/// can still block the open, which only the flags rule out.
fn open_checked(path: &Path, access: Access, flags: Option<i32>) -> io::Result<Opened> {
    let mut options = private_options();
    options.read(true);
    if access == Access::Create {
        options.write(true);
    }
    #[cfg(unix)]
    if let Some(flags) = flags {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(flags);
        if access == Access::Create {
            options.create(true).truncate(false);
        }
        return match options.open(path) {
            Ok(file) => regular(file),
            Err(e) if e.kind() == io::ErrorKind::NotFound && access == Access::Read => {
                Ok(Opened::Missing)
            }
            // ELOOP for a link, EISDIR for a directory opened to write, ...
            Err(e) => not_regular_or(path, e),
        };
    }
    #[cfg(not(unix))]
    let _ = flags;
    for _ in 0..OPEN_ATTEMPTS {
        match fs::symlink_metadata(path) {
            Ok(meta) if !meta.is_file() => return Ok(Opened::NotRegular),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if access == Access::Read {
                    return Ok(Opened::Missing);
                }
                match options.clone().create_new(true).open(path) {
                    Ok(file) => return regular(file),
                    // Made by another process meanwhile (or a link: see below).
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        }
        let file = match options.open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return not_regular_or(path, e),
        };
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Ok(Opened::NotRegular);
        }
        // Replaced between the look and the open (renamed over by a writer,
        // or by a link): look again.
        match fs::symlink_metadata(path) {
            Ok(now) if now.is_file() && same_file(&now, &meta) => {
                return Ok(Opened::File(file, meta))
            }
            _ => continue,
        }
    }
    Err(io::Error::other(
        "the file kept being replaced while it was opened; try again",
    ))
}

/// `file`, if it is a regular file.
fn regular(file: File) -> io::Result<Opened> {
    let meta = file.metadata()?;
    Ok(if meta.is_file() {
        Opened::File(file, meta)
    } else {
        Opened::NotRegular
    })
}

/// [`Opened::NotRegular`] if `path` is not a regular file (why the open
/// failed), else the open's error.
fn not_regular_or(path: &Path, error: io::Error) -> io::Result<Opened> {
    match fs::symlink_metadata(path) {
        Ok(meta) if !meta.is_file() => Ok(Opened::NotRegular),
        _ => Err(error),
    }
}

/// Whether two metadata are of one file: same device and inode on Unix;
/// elsewhere there is no such number to compare, and the look before opening
/// is all there is.
fn same_file(a: &Metadata, b: &Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        a.dev() == b.dev() && a.ino() == b.ino()
    }
    #[cfg(not(unix))]
    {
        let _ = (a, b);
        true
    }
}

/// [`Error::CorruptRecord`] for a file of `len` bytes, over `limit`.
fn too_large_to_read(len: u64, limit: usize) -> Error {
    Error::CorruptRecord {
        reason: format!(
            "session file is {len} bytes, over this FileStore's max_record_size of {limit}, so \
             it was not read; raise FileStoreBuilder::max_record_size if sessions are meant to \
             be that large, else remove the file (the cleanup does once it is 12 hours old)"
        ),
    }
}

/// Why [`refuse_shared_dir`] refused.
enum Shared {
    Io(io::Error),
    Writable(String),
}

/// Refuses a directory its group or others can write to (Unix).
fn refuse_shared_dir(dir: &Path) -> Result<(), Shared> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(dir).map_err(Shared::Io)?.permissions().mode();
        let who = match (mode & 0o020 != 0, mode & 0o002 != 0) {
            (false, false) => return Ok(()),
            (true, false) => "its group",
            (false, true) => "others",
            (true, true) => "its group and by others",
        };
        Err(Shared::Writable(format!(
            "the session directory {} is writable by {who} (mode {:o}), so they could plant, \
             replace or remove session files; make it private (chmod 700 {}), or, if it is \
             shared on purpose, opt in with FileStoreBuilder::allow_shared_dir(true)",
            dir.display(),
            mode & 0o7777,
            dir.display(),
        )))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// A name no other writer uses at the same time: process ID, a counter and
/// the time in nanoseconds (a PID can be reused after a crash, and a
/// temporary file left by the crash keeps its name). Not random: nothing
/// depends on guessing it (it is created with `O_EXCL`, in a directory only
/// the owner may write), and seeding a random generator would cost a CGI
/// process more than its write.
fn temp_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    format!("{TEMP_PREFIX}{}-{n}-{nanos:x}", std::process::id())
}

/// Whether the file of `meta` was last modified more than `age` before `now`.
fn modified_before(meta: &Metadata, now: SystemTime, age: Duration) -> bool {
    meta.modified()
        .ok()
        .and_then(|modified| now.duration_since(modified).ok())
        .is_some_and(|elapsed| elapsed > age)
}

/// Deletes the file at `path`; `Ok(false)` if there was none.
fn remove_if_present(path: &Path) -> Result<bool, Error> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
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

/// Makes `.locks` again (`0700`), inside a session directory that must exist.
fn create_lock_dir(locks: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    match builder.create(locks) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    }
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

    /// `open_checked` with this platform's flags, and without them (the
    /// fallback other systems use, run here too): links, FIFOs and
    /// directories are refused, never followed, never waited on.
    #[cfg(unix)]
    #[test]
    fn open_checked_refuses_what_is_not_a_regular_file_with_and_without_the_flags() {
        use std::os::unix::fs::{symlink, PermissionsExt};
        use std::sync::mpsc;

        let tmp = tempfile::tempdir().unwrap();
        let outside = tmp.path().join("outside");
        fs::write(&outside, "secret").unwrap();
        let fifo = tmp.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        symlink(&outside, tmp.path().join("link")).unwrap();
        symlink(tmp.path().join("nowhere"), tmp.path().join("dangling")).unwrap();
        fs::create_dir(tmp.path().join("dir")).unwrap();
        fs::write(tmp.path().join("plain"), "plain").unwrap();

        let mut modes = vec![None];
        if NO_FOLLOW.is_some() {
            modes.push(NO_FOLLOW);
        }
        for flags in modes {
            let dir = tmp.path().to_owned();
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                let kind = |name: &str, access| match open_checked(&dir.join(name), access, flags) {
                    Ok(Opened::File(..)) => "file",
                    Ok(Opened::Missing) => "missing",
                    Ok(Opened::NotRegular) => "not regular",
                    Err(_) => "error",
                };
                let seen = [
                    kind("plain", Access::Read),
                    kind("absent", Access::Read),
                    kind("link", Access::Read),
                    kind("dangling", Access::Read),
                    kind("fifo", Access::Read),
                    kind("dir", Access::Read),
                    kind("link", Access::Create),
                    kind("dangling", Access::Create),
                    kind("fifo", Access::Create),
                    kind("dir", Access::Create),
                    kind("created", Access::Create),
                ];
                let _ = tx.send(seen);
            });
            let seen = rx
                .recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|_| panic!("open_checked blocked (flags {flags:?})"));
            let not = "not regular";
            assert_eq!(
                seen,
                ["file", "missing", not, not, not, not, not, not, not, not, "file"],
                "flags {flags:?}"
            );
            assert!(
                !tmp.path().join("nowhere").exists(),
                "no file made through a link"
            );
            let mode = fs::metadata(tmp.path().join("created"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            fs::remove_file(tmp.path().join("created")).unwrap();
        }
        assert_eq!(fs::read_to_string(&outside).unwrap(), "secret");
    }
}

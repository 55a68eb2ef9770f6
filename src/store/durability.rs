//! What a store's write must survive before the call returns: a power cut,
//! or only a crash of the process.

/// What a write to a [`FileStore`](crate::FileStore) or a
/// `SqliteStore` (feature `sqlite`) must survive before the call returns.
///
/// A disk sync (`fsync`) takes from a tenth of a millisecond to several on
/// common disks, and a store waits for one or two per write. Where many
/// requests write one session (a counter, a cart), they wait for each
/// other's syncs: with a program started per request (CGI), that sync is
/// most of what a write costs. [`ProcessCrash`](Durability::ProcessCrash)
/// leaves ordinary writes to the operating system, as PHP's file sessions
/// and SQLite's own recommended setting for write-ahead logging do, and
/// still syncs what security depends on.
///
/// ```
/// use http_session::{Durability, FileStore};
///
/// # let tmp = std::env::temp_dir().join(format!("doc-durability-{}", std::process::id()));
/// # let dir = tmp.join("sessions");
/// // The default: every write is on disk before the call returns.
/// let store = FileStore::open(&dir)?;
/// # drop(store);
///
/// // Writes in the OS's cache; ends of sessions and user indexes synced.
/// let store = FileStore::builder(&dir)
///     .durability(Durability::ProcessCrash)
///     .build()?;
/// # drop(store);
/// # std::fs::remove_dir_all(&tmp).unwrap();
/// # Ok::<(), http_session::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Durability {
    /// Every write is on disk before the call returns (the default): it
    /// survives a power cut or a crash of the operating system.
    #[default]
    PowerCut,
    /// A write is in the operating system's cache when the call returns: it
    /// survives a crash or kill of the process (every CGI process ends that
    /// way), not always a power cut or a crash of the operating system,
    /// which may lose the writes of the last seconds (Linux writes its cache
    /// back within about 30 s). After such a loss every session is as it was
    /// at some moment before: the store is never left damaged, and a session
    /// comes back older or not at all.
    ///
    /// What security depends on is still on disk before the call returns:
    /// ending a session (`delete`, so a logout; `take`, so the old ID of a
    /// regenerated session) and every change to a user's index (binding,
    /// revoking). So a session that was ended stays ended after a power cut,
    /// and [`Session::revoke_all`](crate::Session::revoke_all) still finds
    /// every session of the user.
    ProcessCrash,
}

impl Durability {
    /// Whether an ordinary write (not an end, not the user index) waits for
    /// the disk.
    pub(crate) fn syncs_every_write(self) -> bool {
        self == Durability::PowerCut
    }
}

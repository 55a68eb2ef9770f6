//! Where session data lives: the [`Store`] trait, [`Record`], and the stores.

use std::sync::Arc;
use std::time::SystemTime;

use crate::{Error, SessionId};

mod at_rest;
mod durability;
mod file;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
mod record;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "sqlite")]
mod sqlite;
mod user_index;

#[cfg(feature = "postgres")]
pub use self::postgres::{PostgresStore, PostgresStoreBuilder};
#[cfg(feature = "redis")]
pub use self::redis::{RedisStore, RedisStoreBuilder};
#[cfg(feature = "sqlite")]
pub use self::sqlite::{SqliteStore, SqliteStoreBuilder};
pub use durability::Durability;
pub use file::{FileStore, FileStoreBuilder};
pub use memory::{MemoryStore, MemoryStoreBuilder};
pub use record::Record;
pub(crate) use user_index::UserIndexOf;
pub use user_index::{IndexEntry, Owner, RecordKey, RevocationHandle, UserIndex};

/// A place to keep sessions: memory, files, Redis, a database.
///
/// Only [`get`](Store::get), [`set`](Store::set) and [`delete`](Store::delete) are
/// required. The provided [`update`](Store::update) and
/// [`create`](Store::create) are a plain read then write: correct for one request at
/// a time, but two concurrent updates of one session can lose a write. Stores used
/// by concurrent servers override both atomically (every store in this crate does).
///
/// Rules for implementors:
/// - never return a record whose `expires_at` has passed (the [`Session`](crate::Session)
///   checks again, but an expired record must not be handed out);
/// - take `&self` and do your own locking: one store serves all worker threads;
/// - wrap back-end failures with [`Error::store`].
///
/// A store over a `HashMap`, with only the three required methods:
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use http_session::{Error, Record, Session, SessionId, Store};
///
/// #[derive(Default)]
/// struct MapStore(Mutex<HashMap<String, String>>);
///
/// impl Store for MapStore {
///     fn get(&self, id: &SessionId) -> Result<Option<Record>, Error> {
///         let map = self.0.lock().unwrap();
///         map.get(id.as_str()).map(|text| Record::decode(text)).transpose()
///     }
///     fn set(&self, id: &SessionId, record: Record) -> Result<(), Error> {
///         self.0.lock().unwrap().insert(id.to_string(), record.encode()?);
///         Ok(())
///     }
///     fn delete(&self, id: &SessionId) -> Result<(), Error> {
///         self.0.lock().unwrap().remove(id.as_str());
///         Ok(())
///     }
/// }
///
/// let session = Session::with_store(MapStore::default());
/// let id = session.create(serde_json::json!({"userId": "123"}))?;
/// assert_eq!(session.get(&id)?.unwrap()["userId"], "123");
/// # Ok::<(), Error>(())
/// ```
pub trait Store: Send + Sync {
    /// The record stored under `id`, unless it is absent or expired.
    fn get(&self, id: &SessionId) -> Result<Option<Record>, Error>;

    /// Stores `record` under `id`, replacing any record there.
    fn set(&self, id: &SessionId, record: Record) -> Result<(), Error>;

    /// Removes the record under `id`; removing an absent record is not an error.
    fn delete(&self, id: &SessionId) -> Result<(), Error>;

    /// Runs `f` on the live record under `id` and stores the record as `f` left
    /// it, if `f` returns `true`; `false` leaves the stored record exactly as it
    /// was (nothing is written: a change turned out too large, or there was none).
    /// Returns `Ok(false)` when there is no live record (and `f` does not run).
    /// If `f` panics the stored record must be left as it was.
    ///
    /// A store may run `f` more than once, each time on a freshly read record
    /// (an optimistic store such as Redis retries after losing a race); only the
    /// last run counts. So `f` should only change the record and its own
    /// captured state, resetting that state on each run.
    ///
    /// The default reads and then writes; it is not atomic.
    ///
    /// ```
    /// use http_session::{MemoryStore, Record, SessionId, Store};
    ///
    /// let store = MemoryStore::new();
    /// let id = SessionId::generate();
    /// store.set(&id, Record::new(serde_json::json!({"n": 1}).as_object().unwrap().clone()))?;
    /// // Stored: the closure returns true.
    /// assert!(store.update(&id, &mut |record| {
    ///     record.data.insert("n".into(), 2.into());
    ///     true
    /// })?);
    /// // Not stored: the closure returns false, the record stays as it was.
    /// assert!(store.update(&id, &mut |record| {
    ///     record.data.insert("n".into(), 3.into());
    ///     false
    /// })?);
    /// assert_eq!(store.get(&id)?.unwrap().data["n"], 2);
    /// // No live record: `false`, and the closure does not run.
    /// assert!(!store.update(&SessionId::generate(), &mut |_| unreachable!())?);
    /// # Ok::<(), http_session::Error>(())
    /// ```
    fn update(
        &self,
        id: &SessionId,
        f: &mut dyn FnMut(&mut Record) -> bool,
    ) -> Result<bool, Error> {
        match self.get(id)? {
            Some(mut record) => {
                if f(&mut record) {
                    self.set(id, record)?;
                }
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Removes the live record under `id` and returns it, in one atomic step:
    /// of two concurrent calls for one ID, exactly one gets the record and the
    /// other `None`. `None` also when there is no live record. Regeneration is
    /// built on it ([`Session::regenerate`](crate::Session::regenerate)): the
    /// old ID is taken out, and the session goes on under a fresh one, so
    /// nothing is ever written under the old ID and a session never forks.
    ///
    /// The default claims the record inside [`update`](Store::update) (it marks
    /// it expired there, so no later `update` or `take` sees it live) and then
    /// deletes it: it is atomic exactly when `update` is. Every store in this
    /// crate overrides it with one atomic operation.
    ///
    /// ```
    /// use http_session::{MemoryStore, Record, SessionId, Store};
    ///
    /// let store = MemoryStore::new();
    /// let id = SessionId::generate();
    /// store.set(&id, Record::new(serde_json::json!({"n": 1}).as_object().unwrap().clone()))?;
    /// assert_eq!(store.take(&id)?.unwrap().data["n"], 1);
    /// assert_eq!(store.take(&id)?, None);
    /// assert_eq!(store.get(&id)?, None);
    /// # Ok::<(), http_session::Error>(())
    /// ```
    fn take(&self, id: &SessionId) -> Result<Option<Record>, Error> {
        // The claim mark: expired since 1970, whatever the store's clock.
        let claimed = Some(SystemTime::UNIX_EPOCH);
        let mut taken = None;
        self.update(id, &mut |record| {
            taken = None;
            // Claimed by a concurrent take, which is deleting it: not live.
            if record.expires_at == claimed {
                return false;
            }
            taken = Some(record.clone());
            record.expires_at = claimed;
            true
        })?;
        if taken.is_some() {
            self.delete(id)?;
        }
        Ok(taken)
    }

    /// Stores `record` under `id` only if no live record is there; `Ok(false)` when
    /// one is. The session relies on this to never overwrite a session with a new one.
    ///
    /// The default reads and then writes; it is not atomic.
    fn create(&self, id: &SessionId, record: Record) -> Result<bool, Error> {
        if self.get(id)?.is_some() {
            return Ok(false);
        }
        self.set(id, record)?;
        Ok(true)
    }

    /// Removes every expired record and returns how many were removed. Stores
    /// that expire records by themselves (Redis) may return `Ok(0)`, the default.
    fn purge_expired(&self) -> Result<usize, Error> {
        Ok(0)
    }

    /// The store's index of sessions by user, if it keeps one: what
    /// [`Session::sessions_of`](crate::Session::sessions_of),
    /// [`revoke`](crate::Session::revoke) and binding a session to a user
    /// need. The default is `None`; a store that implements [`UserIndex`]
    /// returns `Some(self)`.
    fn user_index(&self) -> Option<&dyn UserIndex> {
        None
    }

    /// How many sessions the store holds, if it can tell cheaply (`Ok(None)`
    /// if not, the default). It may count expired ones not yet removed.
    fn count(&self) -> Result<Option<u64>, Error> {
        Ok(None)
    }
}

macro_rules! forward_store {
    ($($ptr:ty),*) => {$(
        /// Forwards to the store behind the pointer, so one store can be shared.
        impl<S: Store + ?Sized> Store for $ptr {
            fn get(&self, id: &SessionId) -> Result<Option<Record>, Error> {
                (**self).get(id)
            }
            fn set(&self, id: &SessionId, record: Record) -> Result<(), Error> {
                (**self).set(id, record)
            }
            fn delete(&self, id: &SessionId) -> Result<(), Error> {
                (**self).delete(id)
            }
            fn update(
                &self,
                id: &SessionId,
                f: &mut dyn FnMut(&mut Record) -> bool,
            ) -> Result<bool, Error> {
                (**self).update(id, f)
            }
            fn create(&self, id: &SessionId, record: Record) -> Result<bool, Error> {
                (**self).create(id, record)
            }
            fn take(&self, id: &SessionId) -> Result<Option<Record>, Error> {
                (**self).take(id)
            }
            fn purge_expired(&self) -> Result<usize, Error> {
                (**self).purge_expired()
            }
            fn user_index(&self) -> Option<&dyn UserIndex> {
                (**self).user_index()
            }
            fn count(&self) -> Result<Option<u64>, Error> {
                (**self).count()
            }
        }
    )*};
}

forward_store!(Arc<S>, Box<S>, &S);

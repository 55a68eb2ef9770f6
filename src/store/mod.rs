//! Where session data lives: the [`Store`] trait, [`Record`], and the stores.

use std::sync::Arc;
use std::time::SystemTime;

use serde_json::Value;

use crate::clock::{from_millis, to_millis};
use crate::{Data, Error, SessionId};

mod file;
mod memory;
#[cfg(feature = "redis")]
mod redis;

#[cfg(feature = "redis")]
pub use self::redis::{RedisStore, RedisStoreBuilder};
pub use file::{FileStore, FileStoreBuilder};
pub use memory::{MemoryStore, MemoryStoreBuilder};

/// One session as a store keeps it: its data and when it expires.
///
/// ```
/// use http_session::Record;
/// use std::time::{Duration, SystemTime};
///
/// let mut data = http_session::Data::new();
/// data.insert("user".into(), "ana".into());
/// let mut record = Record::new(data);
/// assert!(!record.is_expired(SystemTime::now()));
///
/// record.expires_at = Some(SystemTime::now() - Duration::from_secs(1));
/// assert!(record.is_expired(SystemTime::now()));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Record {
    /// The session's data.
    pub data: Data,
    /// When the session ends (`None`: never). Rolled forward on activity when the
    /// session has an idle timeout.
    pub expires_at: Option<SystemTime>,
    /// The absolute end of the session's life (`None`: no cap): activity never
    /// rolls `expires_at` past it.
    pub deadline: Option<SystemTime>,
}

impl Record {
    /// A record that never expires.
    pub fn new(data: Data) -> Record {
        Record {
            data,
            expires_at: None,
            deadline: None,
        }
    }

    /// A record that expires at `expires_at`.
    pub fn expiring(data: Data, expires_at: SystemTime) -> Record {
        Record {
            data,
            expires_at: Some(expires_at),
            deadline: None,
        }
    }

    /// Whether the record has expired at time `now`.
    pub fn is_expired(&self, now: SystemTime) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// Encodes the record as one JSON document, the format [`Record::decode`] reads:
    /// `{"data":{...},"expires_at":<ms since 1970>,"deadline":<ms since 1970>}`
    /// (the times only when set). Stores that keep records as text can use it.
    ///
    /// ```
    /// use http_session::Record;
    /// use std::time::{Duration, UNIX_EPOCH};
    ///
    /// let mut data = http_session::Data::new();
    /// data.insert("n".into(), 1.into());
    /// let record = Record::expiring(data, UNIX_EPOCH + Duration::from_millis(1_500));
    /// let text = record.encode()?;
    /// assert_eq!(text, r#"{"data":{"n":1},"expires_at":1500}"#);
    /// assert_eq!(Record::decode(&text)?, record);
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn encode(&self) -> Result<String, Error> {
        let mut doc = Data::new();
        doc.insert("data".to_owned(), Value::Object(self.data.clone()));
        if let Some(at) = self.expires_at {
            doc.insert("expires_at".to_owned(), to_millis(at).into());
        }
        if let Some(at) = self.deadline {
            doc.insert("deadline".to_owned(), to_millis(at).into());
        }
        Ok(serde_json::to_string(&doc)?)
    }

    /// Reads a record written by [`Record::encode`]; anything else is
    /// [`Error::CorruptRecord`].
    pub fn decode(text: &str) -> Result<Record, Error> {
        let corrupt = |reason: &str| Error::CorruptRecord {
            reason: reason.to_owned(),
        };
        let doc: Data = serde_json::from_str(text)
            .map_err(|_| corrupt("not a JSON object with a \"data\" object"))?;
        let mut record = Record::new(Data::new());
        let mut has_data = false;
        for (key, value) in doc {
            match (key.as_str(), value) {
                ("data", Value::Object(data)) => {
                    record.data = data;
                    has_data = true;
                }
                ("expires_at", Value::Number(n)) => {
                    record.expires_at =
                        Some(from_millis(n.as_u64().ok_or_else(|| {
                            corrupt("expires_at is not a whole number")
                        })?))
                }
                ("deadline", Value::Number(n)) => {
                    record.deadline = Some(from_millis(
                        n.as_u64()
                            .ok_or_else(|| corrupt("deadline is not a whole number"))?,
                    ))
                }
                _ => return Err(corrupt("unexpected field or field type")),
            }
        }
        if !has_data {
            return Err(corrupt("no \"data\" object"));
        }
        Ok(record)
    }
}

/// A place to keep sessions: memory, files, Redis, a database.
///
/// Only [`get`](Store::get), [`set`](Store::set) and [`delete`](Store::delete) are
/// required, as in the TypeScript seed. The provided [`update`](Store::update) and
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
/// A store over a `HashMap`, in the seed's shape:
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
        }
    )*};
}

forward_store!(Arc<S>, Box<S>, &S);

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn decode_refuses_foreign_text() {
        for text in [
            "",
            "null",
            "[]",
            "{\"data\":1}",
            "{\"data\":{},\"expires_at\":-1}",
            "{\"data\":{},\"expires_at\":1.5}",
            "{\"data\":{},\"other\":1}",
            "{\"data\":{}",
            "{}",
        ] {
            assert!(
                matches!(Record::decode(text), Err(Error::CorruptRecord { .. })),
                "{text:?}"
            );
        }
    }

    #[test]
    fn encode_decode_round_trip_with_deadline() {
        let mut data = Data::new();
        data.insert("ü".into(), serde_json::json!({"nested": [1, "two", null]}));
        let mut record = Record::expiring(data, UNIX_EPOCH + Duration::from_millis(5));
        record.deadline = Some(UNIX_EPOCH + Duration::from_millis(9));
        assert_eq!(Record::decode(&record.encode().unwrap()).unwrap(), record);
    }
}

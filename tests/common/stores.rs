//! The stores the conformance suite runs against, each fresh and empty.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use http_session::{Clock, Durability, Error, FileStore, MemoryStore, Record, SessionId, Store};

use super::suite::{Fixture, Traits};

pub fn memory(clock: Clock) -> Fixture {
    Fixture {
        store: Arc::new(MemoryStore::builder().clock(clock).build()),
        traits: Traits {
            atomic: true,
            honours_expiry: true,
            purges: true,
        },
        _keep: Box::new(()),
    }
}

pub fn file(clock: Clock) -> Fixture {
    file_with(clock, Durability::PowerCut)
}

/// A FileStore that leaves ordinary writes in the OS's cache.
pub fn file_process_crash(clock: Clock) -> Fixture {
    file_with(clock, Durability::ProcessCrash)
}

fn file_with(clock: Clock, durability: Durability) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::builder(dir.path().join("sessions"))
        .clock(clock)
        .durability(durability)
        .build()
        .unwrap();
    Fixture {
        store: Arc::new(store),
        traits: Traits {
            atomic: true,
            honours_expiry: true,
            purges: true,
        },
        _keep: Box::new(dir),
    }
}

/// A store as a user would write one from the seed's interface: only get, set
/// and delete, over a `Mutex<HashMap>`, knowing nothing of expiry. Its
/// `update` and `create` are the trait's defaults (get then set), which are
/// not atomic by contract.
#[derive(Debug, Default)]
pub struct MapStore(Mutex<HashMap<String, String>>);

impl Store for MapStore {
    fn get(&self, id: &SessionId) -> Result<Option<Record>, Error> {
        let map = self.0.lock().unwrap();
        map.get(id.as_str())
            .map(|text| Record::decode(text))
            .transpose()
    }
    fn set(&self, id: &SessionId, record: Record) -> Result<(), Error> {
        self.0
            .lock()
            .unwrap()
            .insert(id.to_string(), record.encode()?);
        Ok(())
    }
    fn delete(&self, id: &SessionId) -> Result<(), Error> {
        self.0.lock().unwrap().remove(id.as_str());
        Ok(())
    }
}

pub fn custom(_clock: Clock) -> Fixture {
    Fixture {
        store: Arc::new(MapStore::default()),
        traits: Traits {
            atomic: false,
            honours_expiry: false,
            purges: false,
        },
        _keep: Box::new(()),
    }
}

/// A user's store that makes `update` atomic, one `Mutex` over a map of
/// encoded records, and overrides nothing but get, set, delete and update:
/// `take` and `create` are the trait's provided ones. The provided `take`
/// claims the record through `update`, so it is atomic here too; the provided
/// `create` is still get-then-set (registered `create: not_atomic`). It
/// honours expiry by the clock it is given, as the trait asks.
#[derive(Debug)]
pub struct AtomicUpdateStore {
    records: Mutex<HashMap<String, String>>,
    clock: Clock,
}

impl AtomicUpdateStore {
    /// The map; a lock poisoned by a panicking update closure is taken over:
    /// the closure works on a copy, so the map is never half-changed.
    fn records(&self) -> MutexGuard<'_, HashMap<String, String>> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn live(&self, text: &str) -> Result<Option<Record>, Error> {
        let record = Record::decode(text)?;
        Ok((!record.is_expired(self.clock.now())).then_some(record))
    }
}

impl Store for AtomicUpdateStore {
    fn get(&self, id: &SessionId) -> Result<Option<Record>, Error> {
        match self.records().get(id.as_str()) {
            Some(text) => self.live(text),
            None => Ok(None),
        }
    }
    fn set(&self, id: &SessionId, record: Record) -> Result<(), Error> {
        let text = record.encode()?;
        self.records().insert(id.to_string(), text);
        Ok(())
    }
    fn delete(&self, id: &SessionId) -> Result<(), Error> {
        self.records().remove(id.as_str());
        Ok(())
    }
    /// Read, run `f`, write, all under the one lock. An absent or expired
    /// record: `false`, and `f` does not run. `f` returning `false`, or
    /// panicking: the stored text is untouched.
    fn update(
        &self,
        id: &SessionId,
        f: &mut dyn FnMut(&mut Record) -> bool,
    ) -> Result<bool, Error> {
        let mut records = self.records();
        let Some(mut record) = records
            .get(id.as_str())
            .map(|text| self.live(text))
            .transpose()?
            .flatten()
        else {
            return Ok(false);
        };
        if f(&mut record) {
            records.insert(id.to_string(), record.encode()?);
        }
        Ok(true)
    }
}

pub fn custom_atomic_update(clock: Clock) -> Fixture {
    Fixture {
        store: Arc::new(AtomicUpdateStore {
            records: Mutex::new(HashMap::new()),
            clock,
        }),
        traits: Traits {
            atomic: true,
            honours_expiry: true,
            purges: false,
        },
        _keep: Box::new(()),
    }
}

#[cfg(feature = "redis")]
pub fn redis(clock: Clock) -> Fixture {
    use super::redis_server::{unique_prefix, KeyCleanup, SHARED_URL};
    let prefix = unique_prefix();
    let store = http_session::RedisStore::builder(SHARED_URL)
        .prefix(&prefix)
        .pool_size(16)
        .clock(clock)
        .build()
        .unwrap();
    Fixture {
        store: Arc::new(store),
        traits: Traits {
            atomic: true,
            honours_expiry: true,
            purges: false,
        },
        _keep: Box::new(KeyCleanup::new(SHARED_URL, &prefix)),
    }
}

#[cfg(feature = "postgres")]
pub fn postgres(clock: Clock) -> Fixture {
    use super::postgres_server::{unique_prefix, TableCleanup, PARAMS};
    let prefix = unique_prefix();
    let store = http_session::PostgresStore::builder(PARAMS)
        .table_prefix(&prefix)
        .pool_size(8)
        .clock(clock)
        .build()
        .unwrap();
    Fixture {
        store: Arc::new(store),
        traits: Traits {
            atomic: true,
            honours_expiry: true,
            purges: true,
        },
        _keep: Box::new(TableCleanup::new(&prefix)),
    }
}

/// A SqliteStore on a fresh database file in a temp dir.
#[cfg(feature = "sqlite")]
pub fn sqlite(clock: Clock) -> Fixture {
    sqlite_with(clock, Durability::PowerCut)
}

/// A SqliteStore with `synchronous = NORMAL`.
#[cfg(feature = "sqlite")]
pub fn sqlite_process_crash(clock: Clock) -> Fixture {
    sqlite_with(clock, Durability::ProcessCrash)
}

#[cfg(feature = "sqlite")]
fn sqlite_with(clock: Clock, durability: Durability) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = http_session::SqliteStore::builder(dir.path().join("sessions.db"))
        .clock(clock)
        .durability(durability)
        .build()
        .unwrap();
    Fixture {
        store: Arc::new(store),
        traits: Traits {
            atomic: true,
            honours_expiry: true,
            purges: true,
        },
        _keep: Box::new(dir),
    }
}

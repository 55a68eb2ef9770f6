//! The stores the conformance suite runs against, each fresh and empty.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use http_session::{Clock, Error, FileStore, MemoryStore, Record, SessionId, Store};

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
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::builder(dir.path().join("sessions"))
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

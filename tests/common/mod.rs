//! Helpers shared by the integration tests: counting and seed-shaped stores,
//! the conformance suite, the stores under test, Redis servers and child processes.
#![allow(dead_code)]

#[cfg(feature = "redis")]
pub mod redis_server;
pub mod stores;
pub mod suite;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use http_session::{Error, Record, SessionId, Store};

/// Wraps a store and counts the calls that reach it.
#[derive(Debug, Default)]
pub struct CountingStore<S> {
    pub inner: S,
    pub gets: AtomicUsize,
    pub writes: AtomicUsize,
    pub seen: Mutex<Vec<String>>,
}

impl<S: Store> CountingStore<S> {
    pub fn new(inner: S) -> Self {
        CountingStore {
            inner,
            gets: AtomicUsize::new(0),
            writes: AtomicUsize::new(0),
            seen: Mutex::new(Vec::new()),
        }
    }

    pub fn gets(&self) -> usize {
        self.gets.load(Ordering::SeqCst)
    }

    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }

    fn saw(&self, id: &SessionId) {
        self.seen.lock().unwrap().push(id.as_str().to_owned());
    }
}

impl<S: Store> Store for CountingStore<S> {
    fn get(&self, id: &SessionId) -> Result<Option<Record>, Error> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        self.saw(id);
        self.inner.get(id)
    }
    fn set(&self, id: &SessionId, record: Record) -> Result<(), Error> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.saw(id);
        self.inner.set(id, record)
    }
    fn delete(&self, id: &SessionId) -> Result<(), Error> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.saw(id);
        self.inner.delete(id)
    }
    fn update(
        &self,
        id: &SessionId,
        f: &mut dyn FnMut(&mut Record) -> bool,
    ) -> Result<bool, Error> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.saw(id);
        self.inner.update(id, f)
    }
    fn create(&self, id: &SessionId, record: Record) -> Result<bool, Error> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.saw(id);
        self.inner.create(id, record)
    }
    fn purge_expired(&self) -> Result<usize, Error> {
        self.inner.purge_expired()
    }
}

/// The seed's custom store shape: only get/set/delete, over a HashMap, and it
/// never looks at expiry (a store that "forgets" it).
#[derive(Debug, Default)]
pub struct MapStore(pub Mutex<HashMap<String, Record>>);

impl Store for MapStore {
    fn get(&self, id: &SessionId) -> Result<Option<Record>, Error> {
        Ok(self.0.lock().unwrap().get(id.as_str()).cloned())
    }
    fn set(&self, id: &SessionId, record: Record) -> Result<(), Error> {
        self.0.lock().unwrap().insert(id.to_string(), record);
        Ok(())
    }
    fn delete(&self, id: &SessionId) -> Result<(), Error> {
        self.0.lock().unwrap().remove(id.as_str());
        Ok(())
    }
}

/// The `name=value` part of a `Set-Cookie` value, as a browser sends it back.
pub fn cookie_pair(set_cookie: &str) -> &str {
    set_cookie.split(';').next().unwrap()
}

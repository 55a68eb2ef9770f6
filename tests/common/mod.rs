//! Helpers shared by the integration tests: counting and seed-shaped stores,
//! the conformance suite, the stores under test, Redis servers and child processes.
#![allow(dead_code)]

pub mod linearizability;
#[cfg(feature = "redis")]
pub mod redis_server;
pub mod stores;
pub mod suite;

use std::collections::HashMap;
use std::sync::Mutex;

use http_session::{Error, Record, SessionId, Store};

// The counting store the fuzz checks use, so there is one of it.
#[path = "../fuzz_checks/mod.rs"]
mod fuzz_checks;
#[allow(unused_imports)] // not every test crate counts
pub use fuzz_checks::{CountingStore, FilePath, UnknownId};

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

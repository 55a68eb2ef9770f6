//! Helpers shared by the integration tests, the one helper tree: counting and
//! seed-shaped stores, the conformance suite, the stores under test, Redis
//! servers, the fuzz properties, and a real HTTP client for end-to-end runs.
//! Each test binary (`tests/<behaviour>/main.rs`) includes it once.
#![allow(dead_code)]

/// The properties shared with the fuzz targets (`fuzz/fuzz_targets/` include
/// this file by path too).
pub mod fuzz_checks;
pub mod linearizability;
/// PostgreSQL on 127.0.0.1:5432, with tables of each test's own.
#[cfg(feature = "postgres")]
pub mod postgres_server;
/// A hand-rolled HTTP/1.1 server on a `TcpListener`.
pub mod raw;
#[cfg(feature = "redis")]
pub mod redis_server;
pub mod stores;
pub mod suite;
/// The conformance suite's user-index section.
pub mod user_suite;
/// A cookie-keeping HTTP client, example programs, the login flow.
pub mod web;
/// A store that logs what was written under which ID.
pub mod write_log;

use std::collections::HashMap;
use std::sync::Mutex;

use http_session::{Error, Record, SessionId, Store};

// The counting store the fuzz checks use, so there is one of it.
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

/// A store that is down: every call fails with `Error::Store`.
#[derive(Debug, Default)]
pub struct DownStore;

impl Store for DownStore {
    fn get(&self, _: &SessionId) -> Result<Option<Record>, Error> {
        Err(Error::store("reading", std::io::Error::other("down")))
    }
    fn set(&self, _: &SessionId, _: Record) -> Result<(), Error> {
        Err(Error::store("writing", std::io::Error::other("down")))
    }
    fn delete(&self, _: &SessionId) -> Result<(), Error> {
        Err(Error::store("deleting", std::io::Error::other("down")))
    }
}

/// The `name=value` part of a `Set-Cookie` value, as a browser sends it back.
pub fn cookie_pair(set_cookie: &str) -> &str {
    set_cookie.split(';').next().unwrap()
}

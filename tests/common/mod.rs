//! Shared test code: the conformance suite, the stores under test, and helpers
//! for Redis servers and child processes.
#![allow(dead_code)]

#[cfg(feature = "redis")]
pub mod redis_server;
pub mod stores;
pub mod suite;

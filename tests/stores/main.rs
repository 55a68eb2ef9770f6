//! The stores: the conformance suite against every store, FileStore,
//! SqliteStore and RedisStore beyond it (Redis Cluster and rediss:// with
//! their features),
//! linearizable histories, several processes sharing one store, and no live
//! ID kept at rest by the persistent stores.

#[path = "../common/mod.rs"]
mod common;

mod conformance;
mod file_store;
mod linearizability;
mod no_live_id_at_rest;
mod processes;
#[cfg(feature = "redis-cluster")]
mod redis_cluster;
#[cfg(feature = "redis")]
mod redis_store;
#[cfg(feature = "redis-tls")]
mod redis_tls;
#[cfg(feature = "sqlite")]
mod sqlite_store;
mod take_is_atomic;

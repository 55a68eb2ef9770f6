//! The stores: the conformance suite against every store, FileStore and
//! RedisStore beyond it (Redis Cluster and rediss:// with their features),
//! linearizable histories, and several processes sharing one store.

#[path = "../common/mod.rs"]
mod common;

mod conformance;
mod file_store;
mod linearizability;
mod processes;
#[cfg(feature = "redis-cluster")]
mod redis_cluster;
#[cfg(feature = "redis")]
mod redis_store;
#[cfg(feature = "redis-tls")]
mod redis_tls;
mod take_is_atomic;

//! The stores: the conformance suite against every store, FileStore (and its
//! index of a user's sessions), SqliteStore, RedisStore (Redis Cluster and
//! rediss:// with their features) and PostgresStore beyond it, linearizable
//! histories, several processes sharing one store, and no live ID kept at rest
//! by the persistent stores.

#[path = "../common/mod.rs"]
mod common;

mod conformance;
mod durability;
mod file_store;
mod file_user_index;
mod linearizability;
mod no_live_id_at_rest;
#[cfg(feature = "postgres")]
mod postgres_store;
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

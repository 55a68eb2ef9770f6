//! The conformance suite (tests/common/suite.rs) against every store:
//! MemoryStore, FileStore, a user's get/set/delete-only store, and RedisStore
//! on the real redis-server at 127.0.0.1:6379 (with `--features redis`).

mod common;

conformance!(memory, common::stores::memory);
conformance!(file, common::stores::file);
conformance!(custom_map_store, common::stores::custom);
#[cfg(feature = "redis")]
conformance!(redis, common::stores::redis);

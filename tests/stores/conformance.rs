//! The conformance suite (`tests/common/suite.rs`) against every store:
//! MemoryStore, FileStore, a user's get/set/delete-only store, a user's store
//! that adds only an atomic `update` (and so gets an atomic `take` from the
//! trait), RedisStore on the real redis-server at 127.0.0.1:6379 (with
//! `--features redis`), and SqliteStore on a fresh database file (with
//! `--features sqlite`).

use crate::common;
use crate::conformance;
use crate::user_index_conformance;

conformance!(memory, common::stores::memory);
conformance!(file, common::stores::file);
conformance!(custom_map_store, common::stores::custom);
// Its `create` is the provided get-then-set: no create race check.
conformance!(
    custom_atomic_update,
    common::stores::custom_atomic_update,
    create: not_atomic
);
#[cfg(feature = "redis")]
conformance!(redis, common::stores::redis);
#[cfg(feature = "sqlite")]
conformance!(sqlite, common::stores::sqlite);

// The user-index section, on every store that keeps an index.
user_index_conformance!(memory_user_index, common::stores::memory);
#[cfg(feature = "sqlite")]
user_index_conformance!(sqlite_user_index, common::stores::sqlite);

//! The conformance suite (`tests/common/suite.rs`) against every store:
//! MemoryStore, FileStore, a user's get/set/delete-only store, a user's store
//! that adds only an atomic `update` (and so gets an atomic `take` from the
//! trait), RedisStore on the real redis-server at 127.0.0.1:6379 (with
//! `--features redis`), PostgresStore on the PostgreSQL at 127.0.0.1:5432
//! (with `--features postgres`, on tables of each test's own), and SqliteStore on a fresh database file
//! (with `--features sqlite`).

use crate::common;
use crate::conformance;
use crate::user_index_conformance;

conformance!(memory, common::stores::memory);
conformance!(file, common::stores::file);
// Durability::ProcessCrash changes what a write waits for, nothing a caller sees.
conformance!(file_process_crash, common::stores::file_process_crash);
conformance!(custom_map_store, common::stores::custom);
// Its `create` is the provided get-then-set: no create race check.
conformance!(
    custom_atomic_update,
    common::stores::custom_atomic_update,
    create: not_atomic
);
#[cfg(feature = "redis")]
conformance!(redis, common::stores::redis);
#[cfg(feature = "postgres")]
conformance!(postgres, common::stores::postgres);

#[cfg(feature = "sqlite")]
conformance!(sqlite, common::stores::sqlite);
#[cfg(feature = "sqlite")]
conformance!(sqlite_process_crash, common::stores::sqlite_process_crash);

// The user-index section, on every store that keeps an index.
user_index_conformance!(memory_user_index, common::stores::memory);
user_index_conformance!(file_user_index, common::stores::file);
user_index_conformance!(
    file_process_crash_user_index,
    common::stores::file_process_crash
);
#[cfg(feature = "redis")]
user_index_conformance!(redis_user_index, common::stores::redis);
#[cfg(feature = "postgres")]
user_index_conformance!(postgres_user_index, common::stores::postgres);
#[cfg(feature = "sqlite")]
user_index_conformance!(sqlite_user_index, common::stores::sqlite);
#[cfg(feature = "sqlite")]
user_index_conformance!(
    sqlite_process_crash_user_index,
    common::stores::sqlite_process_crash
);

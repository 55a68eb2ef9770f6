//! PostgreSQL for tests: the machine's server on 127.0.0.1:5432 (`.ci/run`
//! starts it if it is not answering), with tables of their own for each
//! test (a unique table prefix, dropped afterwards), and an admin connection
//! to look at rows and to end the store's connections.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use http_session::PostgresStore;

/// The machine's PostgreSQL: trust authentication, database `test`.
pub const PARAMS: &str = "host=127.0.0.1 port=5432 user=postgres dbname=test";

/// A table prefix no other test or test run uses: `t<pid>_<n>_<time>_`.
pub fn unique_prefix() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "t{}_{}_{:x}_",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        nanos % (1 << 40)
    )
}

/// A port on 127.0.0.1 that nothing listens on (just now).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A connection of the test's own, beside the store's pool.
pub fn admin() -> postgres::Client {
    let mut config: postgres::Config = PARAMS.parse().unwrap();
    config.application_name("http-session-test-admin");
    config.connect(postgres::NoTls).unwrap()
}

/// Drops the tables under its prefix when dropped.
pub struct TableCleanup {
    prefix: String,
}

impl TableCleanup {
    pub fn new(prefix: &str) -> TableCleanup {
        TableCleanup {
            prefix: prefix.to_owned(),
        }
    }

    /// The prefix whose tables go when this is dropped.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

impl Drop for TableCleanup {
    fn drop(&mut self) {
        let p = &self.prefix;
        // Not unwrap: a test that already failed should show its own panic.
        if let Ok(mut admin) = postgres::Client::connect(PARAMS, postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP TABLE IF EXISTS \"{p}sessions\", \"{p}users\", \"{p}schema\""
            ));
        }
    }
}

/// A store on tables of its own (default settings otherwise), and the guard
/// that drops them at the end of the test.
pub fn private_store() -> (PostgresStore, TableCleanup) {
    let prefix = unique_prefix();
    let store = PostgresStore::builder(PARAMS)
        .table_prefix(&prefix)
        .build()
        .unwrap();
    (store, TableCleanup::new(&prefix))
}

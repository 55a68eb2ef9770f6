//! Sessions in PostgreSQL (feature `postgres`): shared by every server that
//! can reach the database.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use postgres::config::{Host, SslMode};
use postgres::{Config, NoTls, Row};

use crate::clock::{from_millis, to_millis, Clock};
use crate::store::{Record, RecordKey, Store, UserIndex};
use crate::{Error, SessionId};

mod pool;
mod schema;
mod users;

use pool::{is_fatal, Conn, Connect, Fail, GetError, PgFailure, Pool};

/// Which try of a call a step is: a call on a pooled connection that turned
/// out dead is run again once, on a fresh one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Attempt {
    First,
    Retry,
}
use schema::{Stmt, Tables, DEFAULT_PREFIX};

/// Default number of connections kept open.
const DEFAULT_POOL_SIZE: usize = 8;
/// Default limit on opening a connection, and on waiting for a free one.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Default limit on each statement.
const DEFAULT_QUERY_TIMEOUT: Duration = Duration::from_secs(2);
/// Default most expired rows one write's cleanup deletes.
const DEFAULT_CLEANUP_BATCH: u32 = 500;
/// Default time between two cleanups by one store.
const DEFAULT_CLEANUP_INTERVAL: Duration = Duration::from_secs(60);
/// Rows one batch of [`Store::purge_expired`] deletes when write cleanup is off.
const PURGE_BATCH: u32 = 1_000;
/// Most batches one [`Store::purge_expired`] runs: 10 million rows at the
/// default batch size, far past any backlog, yet a bound.
const MAX_PURGE_BATCHES: usize = 10_000;

/// Sessions in PostgreSQL tables, shared by every server process on every
/// machine that can reach the database. Needs the cargo feature `postgres`
/// (the synchronous [`postgres`](https://docs.rs/postgres) client; no async
/// runtime is exposed to your code).
///
/// # Tables
///
/// The store creates its three tables if they are missing, on its first call
/// (or [`ping`](PostgresStore::ping)); names start with the
/// [table prefix](PostgresStoreBuilder::table_prefix) (default
/// `http_session_`), in the [schema](PostgresStoreBuilder::schema) you name
/// (default: the connection's `search_path`, usually `public`):
///
/// ```sql
/// CREATE TABLE http_session_sessions (
///     key        bytea PRIMARY KEY,  -- SHA-256 of the session ID, never the ID
///     data       bytea NOT NULL,     -- the record as Record::encode's JSON, UTF-8
///     expires_at timestamptz         -- NULL: never expires
/// );
/// CREATE INDEX http_session_sessions_expires_at
///     ON http_session_sessions (expires_at) WHERE expires_at IS NOT NULL;
/// CREATE TABLE http_session_users (  -- the user index: a user's sessions
///     user_hash  bytea NOT NULL,     -- SHA-256 of the user name, never the name
///     handle     bytea NOT NULL,     -- the session's RevocationHandle
///     record_key bytea NOT NULL,     -- the key of the session's row
///     PRIMARY KEY (user_hash, handle)
/// );
/// CREATE TABLE http_session_schema (
///     singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
///     version   integer NOT NULL     -- 1
/// );
/// ```
///
/// Why `data` is `bytea` holding [`Record::encode`]'s text rather than
/// `jsonb`: the record comes back byte for byte as written and is read by
/// the same [`Record::decode`] as every other store's; `jsonb` refuses the
/// `\u0000` escape that JSON (and so session data) allows, and would make the
/// server parse and re-serialize every write for nothing, as the store never
/// queries inside the data. `bytea` rather than `text`: a database whose
/// encoding is not UTF-8 (`SQL_ASCII`, `LATIN1`) would refuse or mangle text
/// it cannot represent. `SELECT convert_from(data, 'UTF8')` shows a record.
///
/// # Guarantees
///
/// - **atomic updates, no lost writes**: [`Store::update`] runs one
///   transaction at `READ COMMITTED`: `SELECT … FOR UPDATE` locks the row,
///   the closure runs, `UPDATE` writes, `COMMIT`. A concurrent update of the
///   same session, from any process on any machine, waits for the row lock and
///   then reads the committed result, so nothing is lost and the closure runs
///   exactly once, never retried. Why not `REPEATABLE READ` or `SERIALIZABLE`:
///   there a concurrent update fails with a serialization error and would have
///   to be retried, while the row lock already orders the writers. Why not
///   one statement: the closure is Rust code, so the record must travel to the
///   client and back. A panic or `false` from the closure rolls back: the row
///   stays as it was;
/// - **create never overwrites**: [`Store::create`] is one
///   `INSERT … ON CONFLICT (key) DO UPDATE … WHERE` the row there has expired:
///   a live session keeps its ID, an expired one is replaced;
/// - **atomic take**: [`Store::take`] is one `DELETE … RETURNING`, so of two
///   servers regenerating one session exactly one gets it;
/// - **expiry by `expires_at`**: every read compares the column with the
///   store's clock, passed as a parameter (so tests can use a
///   [`ManualClock`](crate::ManualClock)); an expired row is never returned;
/// - **cleanup by default**: a write (`set`, `create`, a stored `update`)
///   deletes up to [`cleanup_batch`](PostgresStoreBuilder::cleanup_batch)
///   expired rows (default 500) once per
///   [`cleanup_interval`](PostgresStoreBuilder::cleanup_interval) (default a
///   minute) per store, sooner while a backlog remains. No thread and no cron
///   job needed; [`purge_expired`](Store::purge_expired) empties the backlog
///   at once, batch after batch;
/// - **no live ID at rest**: rows are keyed by the SHA-256 of the ID, and no
///   column holds an ID, so a dump or a backup hands out no working cookie;
/// - **bounded waits**: opening a connection (login included) and waiting for
///   a free one take at most
///   [`connect_timeout`](PostgresStoreBuilder::connect_timeout); every
///   statement is bounded by the server's `statement_timeout`, set on each
///   connection to [`query_timeout`](PostgresStoreBuilder::query_timeout)
///   (so is a transaction left idle, by `idle_in_transaction_session_timeout`,
///   so a client that froze mid-update releases its row lock), and a server
///   or network that vanishes is noticed by `TCP_USER_TIMEOUT` and keepalives
///   set from the same timeout. When PostgreSQL is down every call fails with
///   [`Error::Store`], naming the server and the cause;
/// - **recovery without rebuilding**: a connection that failed is dropped,
///   never reused, so calls work again as soon as the server does. One that
///   the server ended while it sat in the pool (a restart,
///   `pg_terminate_backend`) shows it only when next used: that call is run
///   again, once, on a fresh connection (the other idle ones are closed too),
///   so the caller sees nothing. Only where the first try may have been
///   carried out and the retry cannot tell (a `take` or `create` whose retry
///   finds the session gone or the ID taken, an index entry found changed) is
///   the call an error instead of a silent `None` or `false`; a failed
///   `COMMIT` is never run again;
/// - **a user index** ([`UserIndex`]): every change of an entry is one
///   statement;
/// - **schema versioned**: a store refuses tables made by a newer version of
///   this crate, with an error that says so.
///
/// Not covered: a server process frozen while its machine still answers TCP
/// (a `SIGSTOP`, a debugger) is not detected from the client side: the
/// `postgres` client has no per-call timeout of its own. TLS is not
/// supported yet (`sslmode=require` is refused at build): reach PostgreSQL
/// over its Unix socket, `localhost` or a private network.
///
/// `Debug` of the store and of its builder never shows the connection
/// string: only hosts, ports and the database name.
///
/// ```no_run
/// use http_session::{PostgresStore, Session};
/// use std::time::Duration;
///
/// let store = PostgresStore::builder("host=127.0.0.1 user=postgres dbname=test")
///     .pool_size(16)
///     .query_timeout(Duration::from_millis(500))
///     .build()?;
/// store.ping()?; // fail at start-up, not on the first request, if the database is unreachable
/// let session = Session::with_store(store);
/// let id = session.create(serde_json::json!({"userId": "123"}))?;
/// assert_eq!(session.get(&id)?.unwrap()["userId"], "123");
/// # Ok::<(), http_session::Error>(())
/// ```
pub struct PostgresStore {
    pool: Pool,
    tables: Tables,
    clock: Clock,
    server: String,
    /// Whether the tables were set up (created if missing, version checked).
    ready: AtomicBool,
    cleanup_batch: u32,
    cleanup_interval_ms: u64,
    /// When this store may clean up next (ms since 1970 by `clock`).
    next_cleanup_ms: AtomicU64,
}

/// Settings for a [`PostgresStore`].
///
/// ```
/// use http_session::PostgresStore;
/// use std::time::Duration;
///
/// // Building checks the settings but does not connect.
/// let store = PostgresStore::builder("host=127.0.0.1 user=postgres dbname=test")
///     .schema("myapp")
///     .table_prefix("shop_")
///     .pool_size(4)
///     .connect_timeout(Duration::from_secs(1))
///     .query_timeout(Duration::from_millis(250))
///     .build()?;
/// assert_eq!(store.sessions_table(), "myapp.shop_sessions");
///
/// assert!(PostgresStore::builder("host=127.0.0.1").table_prefix("a-b").build().is_err());
/// assert!(PostgresStore::builder("host=127.0.0.1").pool_size(0).build().is_err());
/// assert!(PostgresStore::builder("not a connection string").build().is_err());
/// # Ok::<(), http_session::Error>(())
/// ```
#[derive(Clone)]
pub struct PostgresStoreBuilder {
    params: String,
    schema: Option<String>,
    prefix: String,
    pool_size: usize,
    connect_timeout: Duration,
    query_timeout: Duration,
    cleanup_batch: u32,
    cleanup_interval: Duration,
    clock: Clock,
}

impl PostgresStoreBuilder {
    /// The schema the tables live in, created if missing (default: none,
    /// so the connection's `search_path` decides, usually `public`). ASCII
    /// letters, digits and `_`.
    ///
    /// ```
    /// let store = http_session::PostgresStore::builder("host=127.0.0.1").schema("sessions").build()?;
    /// assert_eq!(store.sessions_table(), "sessions.http_session_sessions");
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn schema(mut self, schema: &str) -> Self {
        self.schema = Some(schema.to_owned());
        self
    }

    /// The start of each table's name (default `http_session_`: tables
    /// `http_session_sessions`, `http_session_users`, `http_session_schema`),
    /// so several applications, or test runs, can share one database. ASCII
    /// letters, digits and `_`, at most 44 bytes.
    ///
    /// ```
    /// let store = http_session::PostgresStore::builder("host=127.0.0.1").table_prefix("shop_").build()?;
    /// assert_eq!(store.sessions_table(), "shop_sessions");
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn table_prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.to_owned();
        self
    }

    /// The most connections open at once (default 8, at least 1). Give it
    /// at least as many as your server has worker threads.
    ///
    /// ```
    /// let store = http_session::PostgresStore::builder("host=127.0.0.1").pool_size(32).build()?;
    /// assert!(format!("{store:?}").contains("pool_size: 32"));
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn pool_size(mut self, size: usize) -> Self {
        self.pool_size = size;
        self
    }

    /// How long a call waits to open a connection (login included), or for a
    /// pooled one to be free (default 2 s).
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = http_session::PostgresStore::builder("host=127.0.0.1")
    ///     .connect_timeout(Duration::from_millis(500));
    /// assert!(builder.build().is_ok());
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The longest one statement may run, and a transaction stay idle,
    /// before the server cancels it (default 2 s; whole milliseconds). An
    /// update waiting for another update's row lock counts as running.
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = http_session::PostgresStore::builder("host=127.0.0.1")
    ///     .query_timeout(Duration::from_millis(250));
    /// assert!(builder.build().is_ok());
    /// ```
    pub fn query_timeout(mut self, timeout: Duration) -> Self {
        self.query_timeout = timeout;
        self
    }

    /// The most expired rows one write deletes (default 500); `0` turns the
    /// cleanup on writes off (then call [`purge_expired`](Store::purge_expired)
    /// yourself).
    ///
    /// ```
    /// // Cleanup by a job of your own instead: writes delete nothing.
    /// let store = http_session::PostgresStore::builder("host=127.0.0.1").cleanup_batch(0).build()?;
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn cleanup_batch(mut self, rows: u32) -> Self {
        self.cleanup_batch = rows;
        self
    }

    /// How often this store's writes clean up (default every 60 s by the
    /// store's clock); a cleanup that found a full batch runs again on the
    /// next write.
    ///
    /// ```
    /// use std::time::Duration;
    /// let store = http_session::PostgresStore::builder("host=127.0.0.1")
    ///     .cleanup_interval(Duration::from_secs(10))
    ///     .build()?;
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn cleanup_interval(mut self, interval: Duration) -> Self {
        self.cleanup_interval = interval;
        self
    }

    /// The clock expiry is judged by (default: the system clock).
    ///
    /// ```
    /// use http_session::ManualClock;
    /// use std::time::SystemTime;
    /// let time = ManualClock::new(SystemTime::now());
    /// let store = http_session::PostgresStore::builder("host=127.0.0.1")
    ///     .clock(time.clock())
    ///     .build()?;
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Checks the settings and the connection string and builds the store,
    /// without connecting: a server can start while the database is down, and
    /// calls succeed once it is up. The tables are created (if missing) by
    /// the first call; [`PostgresStore::ping`] does it at once.
    ///
    /// The connection string is libpq's: `host=… port=… user=… password=…
    /// dbname=…` or `postgresql://user:password@host:port/dbname`. The store
    /// sets `connect_timeout`, `tcp_user_timeout` and keepalives from its own
    /// settings.
    ///
    /// ```
    /// use http_session::PostgresStore;
    /// // Nothing listens on port 1: building works all the same.
    /// let store = PostgresStore::builder("host=127.0.0.1 port=1 user=app password=secret").build()?;
    /// let err = store.ping().unwrap_err();
    /// assert!(err.to_string().contains("127.0.0.1:1") && !err.to_string().contains("secret"));
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn build(self) -> Result<PostgresStore, Error> {
        if self.pool_size == 0 {
            return Err(Error::config("PostgresStore pool_size must be at least 1"));
        }
        if self.connect_timeout.is_zero() || self.query_timeout.as_millis() == 0 {
            return Err(Error::config(
                "PostgresStore connect_timeout and query_timeout must be at least a millisecond",
            ));
        }
        let tables = Tables::new(self.schema.clone(), self.prefix.clone())?;
        let mut config: Config = self.params.parse().map_err(|_| {
            // The parser's message may quote part of the string, a password
            // included: not shown.
            Error::config(
                "not a usable PostgreSQL connection string (its text is not shown: it may hold \
                 a password); expected `host=… port=… user=… password=… dbname=…` or \
                 postgresql://user:password@host:port/dbname",
            )
        })?;
        if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
            return Err(Error::config(
                "the PostgreSQL connection string names no host: add host=127.0.0.1, or \
                 host=/var/run/postgresql for the local socket",
            ));
        }
        if matches!(config.get_ssl_mode(), SslMode::Require) {
            return Err(Error::config(
                "PostgresStore does not support TLS yet: sslmode=require cannot be met; reach \
                 PostgreSQL over its Unix socket, localhost or a private network",
            ));
        }
        let server = describe_server(&config);
        let query_ms = u64::try_from(self.query_timeout.as_millis()).unwrap_or(u64::MAX);
        // TCP keepalive counts whole seconds.
        let keepalive = Duration::from_secs(self.query_timeout.as_secs().max(1));
        config
            .connect_timeout(self.connect_timeout)
            .tcp_user_timeout(self.query_timeout)
            .keepalives(true)
            .keepalives_idle(keepalive)
            .keepalives_interval(keepalive)
            .keepalives_retries(2);
        if config.get_application_name().is_none() {
            config.application_name("http-session");
        }
        let settings = format!(
            "SET statement_timeout = {query_ms}; \
             SET idle_in_transaction_session_timeout = {query_ms}"
        );
        let connect: Connect = Box::new(move || {
            let mut client = config.connect(NoTls)?;
            client.batch_execute(&settings)?;
            Ok(client)
        });
        Ok(PostgresStore {
            pool: Pool::new(connect, self.pool_size, self.connect_timeout),
            tables,
            clock: self.clock,
            server,
            ready: AtomicBool::new(false),
            cleanup_batch: self.cleanup_batch,
            cleanup_interval_ms: u64::try_from(self.cleanup_interval.as_millis())
                .unwrap_or(u64::MAX),
            next_cleanup_ms: AtomicU64::new(0),
        })
    }
}

/// Hosts, ports and database, for messages: never the user or password.
fn describe_server(config: &Config) -> String {
    let ports = config.get_ports();
    let port = |i: usize| {
        ports
            .get(i)
            .or_else(|| ports.first())
            .copied()
            .unwrap_or(5432)
    };
    let mut places: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| match host {
            Host::Tcp(name) => format!("{name}:{}", port(i)),
            #[cfg(unix)]
            Host::Unix(path) => format!("{}/.s.PGSQL.{}", path.display(), port(i)),
        })
        .collect();
    if places.is_empty() {
        places = config
            .get_hostaddrs()
            .iter()
            .enumerate()
            .map(|(i, addr)| format!("{addr}:{}", port(i)))
            .collect();
    }
    let db = config
        .get_dbname()
        .or_else(|| config.get_user())
        .map_or(String::new(), |db| format!(", database {db}"));
    format!("PostgreSQL at {}{db}", places.join(","))
}

impl PostgresStore {
    /// A store on the database `params` names, with the default settings (see
    /// [`PostgresStoreBuilder`]).
    ///
    /// ```no_run
    /// let store = http_session::PostgresStore::open("postgresql://app@db.internal/app")?;
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn open(params: &str) -> Result<PostgresStore, Error> {
        PostgresStore::builder(params).build()
    }

    /// Settings for a store on the database `params` names: a libpq
    /// connection string, `host=… user=… dbname=…` or a `postgresql://` URL.
    ///
    /// ```
    /// let builder = http_session::PostgresStore::builder("host=127.0.0.1 user=postgres dbname=test");
    /// # let _ = builder;
    /// ```
    pub fn builder(params: &str) -> PostgresStoreBuilder {
        PostgresStoreBuilder {
            params: params.to_owned(),
            schema: None,
            prefix: DEFAULT_PREFIX.to_owned(),
            pool_size: DEFAULT_POOL_SIZE,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            query_timeout: DEFAULT_QUERY_TIMEOUT,
            cleanup_batch: DEFAULT_CLEANUP_BATCH,
            cleanup_interval: DEFAULT_CLEANUP_INTERVAL,
            clock: Clock::system(),
        }
    }

    /// Checks that PostgreSQL answers, and creates the tables if missing (or
    /// refuses tables of a newer version), as the first call would.
    ///
    /// ```no_run
    /// let store = http_session::PostgresStore::open("host=127.0.0.1 user=postgres dbname=test")?;
    /// store.ping()?;
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn ping(&self) -> Result<(), Error> {
        self.run("pinging", |conn, _| {
            conn.client.batch_execute("")?;
            Ok(())
        })
    }

    /// The sessions table, as `schema.name` or `name`.
    ///
    /// ```
    /// let store = http_session::PostgresStore::open("host=127.0.0.1")?;
    /// assert_eq!(store.sessions_table(), "http_session_sessions");
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn sessions_table(&self) -> String {
        self.table("sessions")
    }

    /// The user index table, as `schema.name` or `name`.
    ///
    /// ```
    /// let store = http_session::PostgresStore::builder("host=127.0.0.1").table_prefix("app_").build()?;
    /// assert_eq!(store.users_table(), "app_users");
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn users_table(&self) -> String {
        self.table("users")
    }

    /// The schema version table, as `schema.name` or `name`.
    ///
    /// ```
    /// let store = http_session::PostgresStore::builder("host=127.0.0.1").schema("s").build()?;
    /// assert_eq!(store.schema_table(), "s.http_session_schema");
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn schema_table(&self) -> String {
        self.table("schema")
    }

    fn table(&self, suffix: &str) -> String {
        match &self.tables.schema {
            Some(schema) => format!("{schema}.{}", self.tables.name(suffix)),
            None => self.tables.name(suffix),
        }
    }

    /// Runs `op` on a pooled connection, after setting the tables up if this
    /// store has not yet. A connection that failed with anything but a plain
    /// error reply is dropped.
    ///
    /// A connection that sat idle in the pool may have been ended by the
    /// server meanwhile (a restart, `pg_terminate_backend`), which shows only
    /// when it is used. So a call that finds its reused connection dead is
    /// run again, once, on a fresh connection (the other idle ones are closed
    /// too). Every step is safe to run again: reads and idempotent writes
    /// are; a transaction that did not reach its `COMMIT` left nothing behind
    /// (a failed `COMMIT`, which may have been carried out, is never run
    /// again); and a single statement whose first try may have been carried
    /// out is told it is the second `attempt`, so that it can report a result
    /// it cannot tell from that first try's as an error.
    fn run<T>(
        &self,
        doing: &str,
        mut op: impl FnMut(&mut Conn, Attempt) -> Result<T, Fail>,
    ) -> Result<T, Error> {
        let mut attempt = Attempt::First;
        loop {
            let mut pooled = self
                .pool
                .get(attempt == Attempt::Retry)
                .map_err(|e| match e {
                    GetError::Connect(e) => self.error(&format!("{doing}: connecting"), &e),
                    GetError::Other(text) => {
                        Error::store(format!("{doing} ({})", self.server), PgFailure::text(text))
                    }
                })?;
            let conn = pooled.conn()?;
            let mut stage = doing;
            let outcome = match self.set_up(conn) {
                Ok(()) => op(conn, attempt),
                Err(e) => {
                    stage = "creating or checking the session tables";
                    Err(e)
                }
            };
            let (e, may_retry) = match outcome {
                Ok(value) => return Ok(value),
                Err(Fail::Store(e)) => return Err(e),
                Err(Fail::Pg(e)) => (e, true),
                Err(Fail::Committing(e)) => (e, false),
            };
            let dead = is_fatal(&e) || conn.client.is_closed();
            pooled.broken = dead;
            if dead && may_retry && pooled.reused && attempt == Attempt::First {
                drop(pooled);
                self.pool.drain_idle();
                attempt = Attempt::Retry;
                continue;
            }
            return Err(self.error(stage, &e));
        }
    }

    /// The error for a result that a retried statement cannot tell apart
    /// from its first, lost try having been carried out.
    fn ambiguous(&self, doing: &str, what: &str) -> Fail {
        Fail::Store(Error::store(
            format!("{doing} ({})", self.server),
            PgFailure::text(format!(
                "the connection dropped during the first try and the retry {what}: the \
                 dropped try may have done it; check the session before trying again"
            )),
        ))
    }

    /// Creates the tables if missing and checks their version, once.
    fn set_up(&self, conn: &mut Conn) -> Result<(), Fail> {
        if self.ready.load(Ordering::Acquire) {
            return Ok(());
        }
        let mut tx = conn.client.transaction()?;
        self.tables.set_up(&mut tx)?;
        // Run again, a lost COMMIT finds the tables made: safe to retry.
        tx.commit()?;
        self.ready.store(true, Ordering::Release);
        Ok(())
    }

    fn error(&self, doing: &str, e: &postgres::Error) -> Error {
        Error::store(format!("{doing} ({})", self.server), PgFailure::new(e))
    }

    /// Now by the store's clock, in the range the column keeps (1970 to 9999,
    /// whole milliseconds, as records keep times).
    fn now(&self) -> SystemTime {
        clamp(self.clock.now())
    }

    /// Deletes a batch of expired rows if this store's cleanup is due; on
    /// the connection of the write that called it. Its failure is not the
    /// write's: it is left for the next write to try again.
    fn clean_up_if_due(&self, conn: &mut Conn) {
        if self.cleanup_batch == 0 {
            return;
        }
        let now = self.now();
        let now_ms = to_millis(now);
        let next = self.next_cleanup_ms.load(Ordering::Relaxed);
        if now_ms < next {
            return;
        }
        let later = now_ms.saturating_add(self.cleanup_interval_ms);
        // One thread of this store cleans up per interval.
        if self
            .next_cleanup_ms
            .compare_exchange(next, later, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        if let Ok(deleted) = self.sweep(conn, now, self.cleanup_batch) {
            if deleted >= u64::from(self.cleanup_batch) {
                // A backlog: the next write goes on with it.
                self.next_cleanup_ms.store(now_ms, Ordering::Relaxed);
            }
        }
    }

    /// Deletes up to `batch` rows expired at `now`; rows being written by
    /// someone else are skipped, not waited for.
    fn sweep(&self, conn: &mut Conn, now: SystemTime, batch: u32) -> Result<u64, Fail> {
        let stmt = conn.statement(&self.tables, Stmt::Sweep)?;
        Ok(conn.client.execute(&stmt, &[&now, &i64::from(batch)])?)
    }
}

/// `t` in whole milliseconds between 1970 and the year 9999: what records
/// keep, and safely inside what `timestamptz` and the driver can hold.
fn clamp(t: SystemTime) -> SystemTime {
    from_millis(to_millis(t))
}

/// The `expires_at` column for `record`.
fn expires_at(record: &Record) -> Option<SystemTime> {
    record.expires_at.map(clamp)
}

/// The record in a `data` column.
fn decode(data: &[u8]) -> Result<Record, Error> {
    let text = std::str::from_utf8(data).map_err(|_| Error::CorruptRecord {
        reason: "the data column is not UTF-8 text".to_owned(),
    })?;
    Record::decode(text)
}

/// The record in column 0 of `row`.
fn decode_row(row: &Row) -> Result<Record, Fail> {
    let data: &[u8] = row.try_get(0)?;
    Ok(decode(data)?)
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("server", &self.server)
            .field("tables", &self.tables)
            .field("pool_size", &self.pool.size)
            .field("cleanup_batch", &self.cleanup_batch)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

/// Shows the server as [`PostgresStore`]'s `Debug` does (hosts, ports,
/// database), never the connection string, which may hold a password.
impl fmt::Debug for PostgresStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let server = self.params.parse::<Config>().map_or_else(
            |_| "an unparsable connection string".to_owned(),
            |config| describe_server(&config),
        );
        f.debug_struct("PostgresStoreBuilder")
            .field("server", &server)
            .field("schema", &self.schema)
            .field("prefix", &self.prefix)
            .field("pool_size", &self.pool_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("query_timeout", &self.query_timeout)
            .field("cleanup_batch", &self.cleanup_batch)
            .field("cleanup_interval", &self.cleanup_interval)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl Store for PostgresStore {
    fn get(&self, id: &SessionId) -> Result<Option<Record>, Error> {
        let key = RecordKey::of(id);
        self.read(key.as_bytes(), "reading a session")
    }

    fn set(&self, id: &SessionId, record: Record) -> Result<(), Error> {
        let key = RecordKey::of(id);
        let key: &[u8] = key.as_bytes();
        let data = record.encode()?.into_bytes();
        let expires = expires_at(&record);
        self.run("writing a session", |conn, _| {
            let stmt = conn.statement(&self.tables, Stmt::Set)?;
            conn.client.execute(&stmt, &[&key, &data, &expires])?;
            self.clean_up_if_due(conn);
            Ok(())
        })
    }

    fn delete(&self, id: &SessionId) -> Result<(), Error> {
        let key = RecordKey::of(id);
        self.remove(key.as_bytes(), "deleting a session")
            .map(|_| ())
    }

    /// One `READ COMMITTED` transaction: `SELECT … FOR UPDATE`, the closure,
    /// `UPDATE`, `COMMIT` (see the type's documentation).
    fn update(
        &self,
        id: &SessionId,
        f: &mut dyn FnMut(&mut Record) -> bool,
    ) -> Result<bool, Error> {
        let key = RecordKey::of(id);
        let key: &[u8] = key.as_bytes();
        let now = self.now();
        self.run("updating a session", |conn, _| {
            let select = conn.statement(&self.tables, Stmt::GetForUpdate)?;
            let write = conn.statement(&self.tables, Stmt::Write)?;
            let mut tx = conn.client.transaction()?;
            let Some(row) = tx.query_opt(&select, &[&key, &now])? else {
                tx.rollback()?;
                return Ok(false);
            };
            // A corrupt record: the transaction rolls back as it is dropped.
            let mut record = decode_row(&row)?;
            if !f(&mut record) {
                tx.rollback()?;
                return Ok(true);
            }
            let data = record.encode()?.into_bytes();
            tx.execute(&write, &[&key, &data, &expires_at(&record)])?;
            tx.commit().map_err(Fail::Committing)?;
            self.clean_up_if_due(conn);
            Ok(true)
        })
    }

    /// One `DELETE … RETURNING`. A row expired by the store's clock is
    /// deleted all the same, and `None`; so is a corrupt one, which is an
    /// error.
    fn take(&self, id: &SessionId) -> Result<Option<Record>, Error> {
        let key = RecordKey::of(id);
        let key: &[u8] = key.as_bytes();
        let now = self.now();
        self.run("taking a session", |conn, attempt| {
            let stmt = conn.statement(&self.tables, Stmt::Take)?;
            let Some(row) = conn.client.query_opt(&stmt, &[&key, &now])? else {
                // A row leaves the table once: after a dropped first try,
                // "none" may mean that try took it.
                return match attempt {
                    Attempt::First => Ok(None),
                    Attempt::Retry => Err(self.ambiguous("taking a session", "found no session")),
                };
            };
            let live: bool = row.try_get(1)?;
            if !live {
                return Ok(None);
            }
            Ok(Some(decode_row(&row)?))
        })
    }

    /// One `INSERT … ON CONFLICT (key) DO UPDATE … WHERE` the row there has
    /// expired.
    fn create(&self, id: &SessionId, record: Record) -> Result<bool, Error> {
        let key = RecordKey::of(id);
        let key: &[u8] = key.as_bytes();
        let data = record.encode()?.into_bytes();
        let expires = expires_at(&record);
        let now = self.now();
        self.run("creating a session", |conn, attempt| {
            let stmt = conn.statement(&self.tables, Stmt::Create)?;
            let stored = conn.client.execute(&stmt, &[&key, &data, &expires, &now])?;
            if stored == 0 && attempt == Attempt::Retry {
                // The live row in the way may be the dropped first try's.
                return Err(self.ambiguous("creating a session", "found the ID taken"));
            }
            self.clean_up_if_due(conn);
            Ok(stored == 1)
        })
    }

    /// Deletes every row expired by the store's clock, a batch at a time
    /// (the cleanup batch, or 1,000 if cleanup is off), at most 10,000
    /// batches.
    fn purge_expired(&self) -> Result<usize, Error> {
        let batch = match self.cleanup_batch {
            0 => PURGE_BATCH,
            n => n,
        };
        let now = self.now();
        let mut total: u64 = 0;
        for _ in 0..MAX_PURGE_BATCHES {
            let deleted = self.run("purging expired sessions", |conn, _| {
                self.sweep(conn, now, batch)
            })?;
            total = total.saturating_add(deleted);
            if deleted < u64::from(batch) {
                break;
            }
        }
        Ok(usize::try_from(total).unwrap_or(usize::MAX))
    }

    fn user_index(&self) -> Option<&dyn UserIndex> {
        Some(self)
    }

    /// `SELECT count(*)`: a scan of the table's primary key index, so
    /// milliseconds for thousands of sessions, longer for millions. Counts
    /// expired rows not yet cleaned up.
    fn count(&self) -> Result<Option<u64>, Error> {
        self.run("counting sessions", |conn, _| {
            let stmt = conn.statement(&self.tables, Stmt::Count)?;
            let count: i64 = conn.client.query_one(&stmt, &[])?.try_get(0)?;
            Ok(Some(u64::try_from(count).unwrap_or(0)))
        })
    }
}

impl PostgresStore {
    /// The live record under `key`.
    fn read(&self, key: &[u8; 32], doing: &str) -> Result<Option<Record>, Error> {
        let key: &[u8] = key;
        let now = self.now();
        self.run(doing, |conn, _| {
            let stmt = conn.statement(&self.tables, Stmt::Get)?;
            conn.client
                .query_opt(&stmt, &[&key, &now])?
                .map(|row| decode_row(&row))
                .transpose()
        })
    }

    /// Deletes the row under `key`, if any.
    /// Deletes the row of `key`; says whether there was one.
    fn remove(&self, key: &[u8; 32], doing: &str) -> Result<bool, Error> {
        let key: &[u8] = key;
        self.run(doing, |conn, _| {
            let stmt = conn.statement(&self.tables, Stmt::Delete)?;
            Ok(conn.client.execute(&stmt, &[&key])? > 0)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamp_keeps_whole_milliseconds_between_1970_and_9999() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_789);
        assert_eq!(
            clamp(t),
            SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123)
        );
        assert_eq!(
            clamp(SystemTime::UNIX_EPOCH - Duration::from_secs(5)),
            SystemTime::UNIX_EPOCH
        );
        let far = SystemTime::UNIX_EPOCH + Duration::from_secs(400_000 * 365 * 86_400);
        assert!(clamp(far) < far);
    }

    #[test]
    fn the_server_is_described_without_credentials() {
        for (params, shown) in [
            (
                "host=db.internal port=6543 user=app password=s3cret dbname=shop",
                "PostgreSQL at db.internal:6543, database shop",
            ),
            (
                "postgresql://app:s3cret@10.0.0.5/shop",
                "PostgreSQL at 10.0.0.5:5432, database shop",
            ),
            (
                "host=/var/run/postgresql user=app password=s3cret",
                "PostgreSQL at /var/run/postgresql/.s.PGSQL.5432, database app",
            ),
        ] {
            let config: Config = params.parse().unwrap();
            assert_eq!(describe_server(&config), shown);
        }
    }
}

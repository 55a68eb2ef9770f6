//! Sessions in Redis (feature `redis`): shared by every server that can reach it.

use std::fmt;
use std::time::Duration;

use redis::{ConnectionLike, ErrorKind, RedisError, RedisResult, Script};

use crate::clock::Clock;
use crate::store::{at_rest, Record, Store, UserIndex};
use crate::{Error, SessionId};

mod connect;
mod pool;
mod users;

#[cfg(feature = "redis-cluster")]
use connect::cluster_connector;
use connect::{single_connector, Target};
use pool::Pool;

/// Default key prefix.
const DEFAULT_PREFIX: &str = "session:";
/// Default number of connections kept open.
const DEFAULT_POOL_SIZE: usize = 16;
/// Default limit on opening a connection, and on waiting for a free one.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Default limit on each command's reply.
const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(1);
/// Default number of tries of an optimistic update before giving up.
const DEFAULT_MAX_UPDATE_ATTEMPTS: u32 = 100;

/// Compare-and-set: writes the new value only if the key still holds exactly
/// the value the update read. One key, so it runs on Redis Cluster too.
/// ARGV: expected value, new value, time to live in ms (-1: none, 0: expired).
const CAS_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local ttl = tonumber(ARGV[3])
if ttl < 0 then redis.call('SET', KEYS[1], ARGV[2])
elseif ttl == 0 then redis.call('DEL', KEYS[1])
else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1
";

/// Take: returns the value under the key and deletes it, in one step (what
/// `GETDEL` does, on every Redis version with scripting, not only 6.2 and
/// later). One key, so it runs on Redis Cluster too.
const TAKE_SCRIPT: &str = r"
local value = redis.call('GET', KEYS[1])
if value then redis.call('DEL', KEYS[1]) end
return value
";

/// Sessions in Redis, shared by every server process on every machine that can
/// reach it. Needs the cargo feature `redis`.
///
/// Each session is one Redis string under `<prefix><hash>` (default prefix
/// `session:`), where `<hash>` is the lowercase hex of the SHA-256 of the ID's
/// bytes, holding [`Record::encode`]'s JSON. Guarantees:
///
/// - **create never overwrites**: [`Store::create`] is `SET key value NX PX ttl`;
/// - **expiry by Redis itself**: a record that expires is stored with a time to
///   live (`PX`), so Redis deletes it on time and no sweep is needed
///   ([`purge_expired`](Store::purge_expired) returns `Ok(0)`). The store also
///   checks `expires_at` against its clock on every read, so clock skew between
///   servers never hands out an expired record;
/// - **atomic updates across servers**: [`Store::update`] reads the record, runs
///   the closure, and writes the result with a compare-and-set Lua script that
///   succeeds only if the record is unchanged; otherwise it reads again and
///   re-runs the closure (so the closure may run more than once). Concurrent
///   updates from any number of servers lose nothing. A panic in the closure
///   leaves the record as it was;
/// - **atomic take**: [`Store::take`] reads and deletes the record in one Lua
///   script (a `GETDEL` that also runs on Redis before 6.2), so of two servers
///   regenerating one session exactly one gets it;
/// - **no live ID at rest**: no key or value holds a session ID, so a `SCAN`,
///   a dump or a backup hands out no working cookie. A record written by an
///   older version under `<prefix><id>` is not found;
/// - **bounded waits**: every call waits at most `connect_timeout` for a
///   connection (a free pooled one, or a new one) and `command_timeout` for each
///   reply; when Redis is down every call fails with [`Error::Store`] naming the
///   server and the cause, and the store reconnects by itself when Redis is back.
///   Connections that failed are dropped, never reused;
/// - **a user's sessions** ([`UserIndex`]): the sessions bound to a user are
///   listed in one hash per user, at `<prefix>user:<hash>` where `<hash>` is
///   the hex of the SHA-256 of the user name (never the name itself), each
///   field a revocation handle mapped to a record's key. Every change is one
///   script on that hash alone, so it works on Redis Cluster too. The hash is
///   deleted with its last field, and the [`Session`](crate::Session) prunes
///   the fields of ended sessions at each login, listing and revoke. It has no
///   time to live of its own: each record's lifetime grows whenever its idle
///   timeout rolls forward, with no bound the store knows, and an index that
///   expired before one of its records would let
///   [`revoke_all`](crate::Session::revoke_all) miss that session;
/// - **no count**: [`Store::count`] is `Ok(None)`. `DBSIZE` counts every key
///   of the database (another application's, the user indexes) and counting
///   this store's keys takes a `SCAN` of the whole keyspace;
/// - **a pool sized by you**: at most `pool_size` connections (default 16),
///   opened on demand and reused. Give it at least as many connections as your
///   server has worker threads.
///
/// URLs: `redis://[user:password@]host[:port][/db]`, `unix:///path/to/redis.sock`,
/// and `rediss://...` for TLS (feature `redis-tls`: rustls with the `ring`
/// provider, the system's root certificates or yours with
/// [`RedisStoreBuilder::tls_root_certificates`]). If your program enables
/// another rustls provider too, install one with
/// `rustls::crypto::CryptoProvider::install_default` before building the store.
///
/// `Debug` of the store and of its builder never shows a credential: the
/// store keeps only the server's address, and the builder shows its URLs
/// without user, password, query string or fragment.
///
/// **Redis Cluster** (feature `redis-cluster`, [`RedisStore::cluster_builder`]):
/// every command touches one key (the update, take and user index scripts too), so everything works
/// on a cluster, and keys spread over the slots by the ID's hash. Not supported: a prefix
/// with a `{hash tag}` (it would put every session in one slot; it still works,
/// but on one node), reading from replicas (reads go to the master so an update
/// is seen at once), and Redis Sentinel. A call during a failover fails with an
/// error after a couple of quick retries rather than waiting for the cluster.
///
/// ```no_run
/// use http_session::{RedisStore, Session};
/// use std::time::Duration;
///
/// let store = RedisStore::builder("redis://127.0.0.1:6379")
///     .prefix("myapp:session:")
///     .pool_size(32)
///     .command_timeout(Duration::from_millis(500))
///     .build()?;
/// store.ping()?; // fail at start-up, not on the first request, if Redis is unreachable
/// let session = Session::with_store(store);
/// let id = session.create(serde_json::json!({"userId": "123"}))?;
/// assert_eq!(session.get(&id)?.unwrap()["userId"], "123");
/// # Ok::<(), http_session::Error>(())
/// ```
pub struct RedisStore {
    pool: Pool,
    prefix: String,
    clock: Clock,
    server: String,
    max_update_attempts: u32,
    cas: Script,
    take: Script,
    swap_entry: Script,
}

/// Settings for a [`RedisStore`].
///
/// ```
/// use http_session::RedisStore;
/// use std::time::Duration;
///
/// // Building checks the settings but does not connect.
/// let store = RedisStore::builder("redis://127.0.0.1:6379/0")
///     .prefix("shop:sess:")
///     .pool_size(8)
///     .connect_timeout(Duration::from_secs(1))
///     .command_timeout(Duration::from_millis(250))
///     .build()?;
/// assert_eq!(store.prefix(), "shop:sess:");
///
/// assert!(RedisStore::builder("http://127.0.0.1").build().is_err());
/// assert!(RedisStore::builder("redis://127.0.0.1").pool_size(0).build().is_err());
/// # Ok::<(), http_session::Error>(())
/// ```
#[derive(Clone)]
pub struct RedisStoreBuilder {
    target: Target,
    prefix: String,
    pool_size: usize,
    connect_timeout: Duration,
    command_timeout: Duration,
    max_update_attempts: u32,
    clock: Clock,
    #[cfg(feature = "redis-tls")]
    tls_root_certificates: Option<Vec<u8>>,
}

impl RedisStoreBuilder {
    /// The prefix of every key (default `session:`), so several applications
    /// can share one Redis database.
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.to_owned();
        self
    }

    /// The most connections open at once (default 16, at least 1).
    pub fn pool_size(mut self, size: usize) -> Self {
        self.pool_size = size;
        self
    }

    /// How long a call waits to open a connection, or for a pooled one to be
    /// free (default 2 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a call waits for each reply from Redis (default 1 s).
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }

    /// How many times an update re-reads and retries when other servers keep
    /// changing the same session under it (default 100, at least 1).
    pub fn max_update_attempts(mut self, attempts: u32) -> Self {
        self.max_update_attempts = attempts;
        self
    }

    /// The clock the store checks `expires_at` against and computes time to
    /// live from (default: the system clock).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// CA certificates (PEM) that a `rediss://` server's certificate must chain
    /// to, instead of the system's roots: for a private CA (feature `redis-tls`).
    ///
    /// ```
    /// # let ca_pem: Vec<u8> = Vec::new();
    /// let store = http_session::RedisStore::builder("rediss://redis.internal:6380")
    ///     .tls_root_certificates(&ca_pem)
    ///     .build();
    /// ```
    #[cfg(feature = "redis-tls")]
    pub fn tls_root_certificates(mut self, pem: &[u8]) -> Self {
        self.tls_root_certificates = Some(pem.to_vec());
        self
    }

    /// Checks the settings and the URL and builds the store, without
    /// connecting: a server can start while Redis is down, and calls succeed
    /// once it is up. Call [`RedisStore::ping`] to check the connection.
    pub fn build(self) -> Result<RedisStore, Error> {
        if self.pool_size == 0 {
            return Err(Error::config("RedisStore pool_size must be at least 1"));
        }
        if self.connect_timeout.is_zero() || self.command_timeout.is_zero() {
            return Err(Error::config(
                "RedisStore connect_timeout and command_timeout must be longer than zero",
            ));
        }
        if self.max_update_attempts == 0 {
            return Err(Error::config(
                "RedisStore max_update_attempts must be at least 1",
            ));
        }
        let (connect, server) = match &self.target {
            Target::Single(url) => single_connector(url, &self)?,
            #[cfg(feature = "redis-cluster")]
            Target::Cluster(urls) => cluster_connector(urls, &self)?,
        };
        Ok(RedisStore {
            pool: Pool::new(connect, self.pool_size, self.connect_timeout),
            prefix: self.prefix,
            clock: self.clock,
            server,
            max_update_attempts: self.max_update_attempts,
            cas: Script::new(CAS_SCRIPT),
            take: Script::new(TAKE_SCRIPT),
            swap_entry: Script::new(users::SWAP_ENTRY_SCRIPT),
        })
    }
}

impl RedisStore {
    /// A store on the Redis at `url` with the default settings (see
    /// [`RedisStoreBuilder`]).
    pub fn open(url: &str) -> Result<RedisStore, Error> {
        RedisStore::builder(url).build()
    }

    /// Settings for a store on the Redis at `url`.
    pub fn builder(url: &str) -> RedisStoreBuilder {
        RedisStoreBuilder::new(Target::Single(url.to_owned()))
    }

    /// Settings for a store on a Redis Cluster, reached through any of
    /// `node_urls` (feature `redis-cluster`).
    ///
    /// ```no_run
    /// use http_session::RedisStore;
    /// let store = RedisStore::cluster_builder(&["redis://10.0.0.1:7000", "redis://10.0.0.2:7000"])
    ///     .pool_size(16)
    ///     .build()?;
    /// store.ping()?;
    /// # Ok::<(), http_session::Error>(())
    /// ```
    #[cfg(feature = "redis-cluster")]
    pub fn cluster_builder(node_urls: &[&str]) -> RedisStoreBuilder {
        RedisStoreBuilder::new(Target::Cluster(
            node_urls.iter().map(|url| (*url).to_owned()).collect(),
        ))
    }

    /// The prefix of every key.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The Redis key of session `id`: the prefix followed by the lowercase
    /// hex of the SHA-256 of the ID's bytes (never the ID itself).
    fn key_of(&self, id: &SessionId) -> String {
        let name = at_rest::hex(&at_rest::hash(id));
        let mut key = String::with_capacity(self.prefix.len() + name.len());
        key.push_str(&self.prefix);
        key.push_str(&name);
        key
    }

    /// Checks that Redis answers, with a `PING`.
    pub fn ping(&self) -> Result<(), Error> {
        self.run("pinging", |conn| redis::cmd("PING").query::<String>(conn))
            .map(|_| ())
    }

    /// Runs `op` on a pooled connection. A connection that failed for any
    /// reason but an error reply from Redis is dropped. A reused connection that
    /// turns out to be dead (Redis restarted while it sat idle) is retried once
    /// on a fresh one, and the other idle connections are closed.
    fn run<T>(
        &self,
        doing: &str,
        op: impl FnMut(&mut dyn ConnectionLike) -> RedisResult<T>,
    ) -> Result<T, Error> {
        self.run_with(doing, true, op)
    }

    /// Like [`run`](Self::run), never retried: for the compare-and-set, which
    /// a server could have run just before the connection died, and which
    /// always follows a `GET` that has already cleared out dead connections.
    fn run_once<T>(
        &self,
        doing: &str,
        op: impl FnMut(&mut dyn ConnectionLike) -> RedisResult<T>,
    ) -> Result<T, Error> {
        self.run_with(doing, false, op)
    }

    fn run_with<T>(
        &self,
        doing: &str,
        retry_dead: bool,
        mut op: impl FnMut(&mut dyn ConnectionLike) -> RedisResult<T>,
    ) -> Result<T, Error> {
        let mut retried = !retry_dead;
        loop {
            let mut conn = self.pool.get().map_err(|e| self.error(doing, e))?;
            match op(conn.connection()) {
                Ok(value) => return Ok(value),
                Err(e) if is_reply(&e) => return Err(self.error(doing, e)),
                Err(e) => {
                    conn.broken = true;
                    if conn.reused && !retried && e.is_connection_dropped() {
                        // The other idle connections date from the same server.
                        drop(conn);
                        self.pool.drain_idle();
                        retried = true;
                        continue;
                    }
                    return Err(self.error(doing, e));
                }
            }
        }
    }

    fn error(&self, doing: &str, e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Error {
        Error::store(format!("{doing} ({})", self.server), e)
    }

    /// Time to live of `record` for Redis: `None` for no expiry, `Some(0)` if
    /// it has already expired, else milliseconds (rounded up, so Redis never
    /// drops a record before the store itself would call it expired).
    fn ttl_ms(&self, record: &Record) -> Option<u64> {
        record
            .expires_at
            .map(|at| match at.duration_since(self.clock.now()) {
                Ok(left) if !left.is_zero() => {
                    let ms = left
                        .as_millis()
                        .saturating_add(u128::from(left.subsec_nanos() % 1_000_000 != 0));
                    u64::try_from(ms).unwrap_or(u64::MAX).min(MAX_TTL_MS)
                }
                _ => 0,
            })
    }

    /// The record in `value`, unless expired by the store's clock.
    fn live(&self, value: &[u8]) -> Result<Option<Record>, Error> {
        let record = decode(value)?;
        Ok((!record.is_expired(self.clock.now())).then_some(record))
    }
}

/// Redis refuses a time to live that overflows its clock; about 292 years.
const MAX_TTL_MS: u64 = i64::MAX as u64 / 1_000_000;

fn decode(value: &[u8]) -> Result<Record, Error> {
    let text = std::str::from_utf8(value).map_err(|_| Error::CorruptRecord {
        reason: "Redis value is not UTF-8 text".to_owned(),
    })?;
    Record::decode(text)
}

/// Whether `e` is an error reply from Redis, which leaves the connection usable.
fn is_reply(e: &RedisError) -> bool {
    matches!(e.kind(), ErrorKind::Server(_) | ErrorKind::Extension)
}

impl RedisStoreBuilder {
    fn new(target: Target) -> RedisStoreBuilder {
        RedisStoreBuilder {
            target,
            prefix: DEFAULT_PREFIX.to_owned(),
            pool_size: DEFAULT_POOL_SIZE,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
            max_update_attempts: DEFAULT_MAX_UPDATE_ATTEMPTS,
            clock: Clock::system(),
            #[cfg(feature = "redis-tls")]
            tls_root_certificates: None,
        }
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("server", &self.server)
            .field("prefix", &self.prefix)
            .field("pool_size", &self.pool.size)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStoreBuilder")
            .field("target", &self.target)
            .field("prefix", &self.prefix)
            .field("pool_size", &self.pool_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("command_timeout", &self.command_timeout)
            .field("max_update_attempts", &self.max_update_attempts)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl Store for RedisStore {
    fn get(&self, id: &SessionId) -> Result<Option<Record>, Error> {
        match self.read_raw(&self.key_of(id), "reading a session")? {
            Some(value) => self.live(&value),
            None => Ok(None),
        }
    }

    fn set(&self, id: &SessionId, record: Record) -> Result<(), Error> {
        let key = self.key_of(id);
        let value = record.encode()?;
        let ttl = self.ttl_ms(&record);
        let mut cmd;
        if ttl == Some(0) {
            // Already expired: storing it would only hide it from Redis's TTL.
            cmd = redis::cmd("DEL");
            cmd.arg(&key);
        } else {
            cmd = redis::cmd("SET");
            cmd.arg(&key).arg(&value);
            if let Some(ms) = ttl {
                cmd.arg("PX").arg(ms);
            }
        }
        self.run("writing a session", |conn| cmd.query::<()>(conn))
    }

    fn delete(&self, id: &SessionId) -> Result<(), Error> {
        let key = self.key_of(id);
        self.run("deleting a session", |conn| {
            redis::cmd("DEL").arg(&key).query::<()>(conn)
        })
    }

    fn update(
        &self,
        id: &SessionId,
        f: &mut dyn FnMut(&mut Record) -> bool,
    ) -> Result<bool, Error> {
        let key = self.key_of(id);
        for attempt in 0..self.max_update_attempts {
            let Some(old) = self.read_raw(&key, "reading a session to update it")? else {
                return Ok(false);
            };
            let Some(mut record) = self.live(&old)? else {
                return Ok(false);
            };
            if !f(&mut record) {
                return Ok(true);
            }
            if self.compare_and_set(&key, &old, &record)? {
                return Ok(true);
            }
            backoff(attempt);
        }
        Err(self.contention("updating a session"))
    }

    /// One script reads and deletes the value. A value expired by this
    /// store's clock but not yet by Redis's (clock skew) is deleted all the
    /// same, and `None`.
    fn take(&self, id: &SessionId) -> Result<Option<Record>, Error> {
        let key = self.key_of(id);
        // `run` retries once on a fresh connection when a reused one turns
        // out dead. The first try may have run just before the connection
        // died (its reply lost), so a retry that finds nothing cannot tell
        // "never there" from "taken by the lost try": that is an error, never
        // a silent `None` for a session that existed. A retry that finds the
        // value proves the first try took nothing (the value leaves Redis
        // once), so it is safe; this keeps a restart under idle connections
        // invisible whenever the session survived it.
        let mut tries = 0u32;
        let value: Option<Vec<u8>> = self.run("taking a session", |conn| {
            tries += 1;
            self.take.key(&key).invoke(conn)
        })?;
        match value {
            Some(value) => self.live(&value),
            None if tries > 1 => Err(self.error(
                "taking a session",
                "the connection dropped during the take and the retry found no \
                 session: the dropped try may have removed it",
            )),
            None => Ok(None),
        }
    }

    fn create(&self, id: &SessionId, record: Record) -> Result<bool, Error> {
        let key = self.key_of(id);
        let ttl = self.ttl_ms(&record);
        let value = record.encode()?;
        for attempt in 0..self.max_update_attempts {
            if ttl != Some(0) {
                let mut cmd = redis::cmd("SET");
                cmd.arg(&key).arg(&value).arg("NX");
                if let Some(ms) = ttl {
                    cmd.arg("PX").arg(ms);
                }
                let set: Option<String> = self.run("creating a session", |conn| cmd.query(conn))?;
                if set.is_some() {
                    return Ok(true);
                }
            }
            // A value is there (or the new record has already expired and must
            // not be stored): only a live record keeps the ID taken. One that is
            // expired by this store's clock but not yet by Redis's (clock skew)
            // is replaced with a compare-and-set.
            match self.read_raw(&key, "creating a session")? {
                None if ttl == Some(0) => return Ok(true),
                None => {}
                Some(old) => {
                    if self.live(&old)?.is_some() {
                        return Ok(false);
                    }
                    if self.compare_and_set(&key, &old, &record)? {
                        return Ok(true);
                    }
                }
            }
            backoff(attempt);
        }
        Err(self.contention("creating a session"))
    }

    /// One hash per user; see the store's documentation.
    fn user_index(&self) -> Option<&dyn UserIndex> {
        Some(self)
    }
}

impl RedisStore {
    fn read_raw(&self, key: &str, doing: &str) -> Result<Option<Vec<u8>>, Error> {
        self.run(doing, |conn| redis::cmd("GET").arg(key).query(conn))
    }

    /// Replaces the value `old` under `key` with `record`, unless the value
    /// changed in between; `false` if it did.
    fn compare_and_set(&self, key: &str, old: &[u8], record: &Record) -> Result<bool, Error> {
        let new = record.encode()?;
        let ttl = self
            .ttl_ms(record)
            .map_or(-1, |ms| i64::try_from(ms).unwrap_or(i64::MAX));
        let written: i64 = self.run_once("writing a session", |conn| {
            self.cas.key(key).arg(old).arg(&new).arg(ttl).invoke(conn)
        })?;
        Ok(written == 1)
    }

    fn contention(&self, doing: &str) -> Error {
        self.error(
            doing,
            format!(
                "the session changed under each of {} attempts; raise \
                 RedisStoreBuilder::max_update_attempts if one session is written \
                 this often at once",
                self.max_update_attempts
            ),
        )
    }
}

/// Waits a little before retrying a compare-and-set that lost a race: more
/// after each loss, with jitter so the racers spread out.
fn backoff(attempt: u32) {
    let micros = 50 * u64::from(attempt.min(20) + 1);
    std::thread::sleep(Duration::from_micros(
        micros + rand::random::<u64>() % micros,
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ManualClock;
    use std::time::UNIX_EPOCH;

    #[cfg(not(feature = "redis-tls"))]
    #[test]
    fn rediss_without_the_tls_feature_says_which_feature() {
        let err = RedisStore::open("rediss://127.0.0.1:6380").unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
        assert!(err.to_string().contains("redis-tls"), "{err}");
    }

    #[test]
    fn ttl_rounds_up_and_marks_the_past() {
        let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_000));
        let store = RedisStore::builder("redis://127.0.0.1:1")
            .clock(clock.clock())
            .build()
            .unwrap();
        let at = |d: Duration| Record::expiring(crate::Data::new(), clock.now() + d);
        assert_eq!(store.ttl_ms(&Record::new(crate::Data::new())), None);
        assert_eq!(store.ttl_ms(&at(Duration::from_millis(1500))), Some(1500));
        assert_eq!(store.ttl_ms(&at(Duration::from_micros(1))), Some(1));
        assert_eq!(store.ttl_ms(&at(Duration::ZERO)), Some(0));
        let past = Record::expiring(crate::Data::new(), clock.now() - Duration::from_secs(1));
        assert_eq!(store.ttl_ms(&past), Some(0));
    }
}

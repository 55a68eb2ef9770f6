//! SqliteStore's own SQL statements, run raw through rusqlite: the baseline
//! of the `sqlite_store` criterion group and of the `sqlite-*` operations of
//! the instruction counter (both include this file by path). The raw side
//! gets its keys hashed and its record text encoded beforehand; the store
//! hashes the ID (SHA-256), encodes and decodes the record (JSON), takes a
//! pooled connection and its process's write turn on every call.

use std::borrow::Cow;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_session::store::RecordKey;
use http_session::{Data, Record, SessionId, SqliteStore, Store};
use rusqlite::Connection;
use serde_json::{json, Value};

/// Sessions in each database before the clock starts.
pub const SESSIONS: usize = 10_000;

// The statements the store runs (src/store/sqlite/mod.rs), verbatim.
const GET: &str = "SELECT expires_at, record FROM sessions WHERE key = ?1";
const CREATE: &str = "INSERT INTO sessions (key, expires_at, record) VALUES (?1, ?2, ?3) \
     ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at, record = excluded.record \
     WHERE sessions.expires_at IS NOT NULL AND sessions.expires_at <= ?4";
const UPDATE: &str = "UPDATE sessions SET expires_at = ?2, record = ?3 WHERE key = ?1";
/// The store's `expired_sql(100)`: the limit in the text.
const EXPIRED: &str = "SELECT key FROM sessions WHERE expires_at <= ?1 LIMIT 100";
const DELETE: &str = "DELETE FROM sessions WHERE key = ?1";
const UNINDEX: &str = "DELETE FROM user_sessions WHERE record_key = ?1";

/// The cleanup every write of the store runs: the keys of up to 100 rows
/// expired by `now`, then each row and its user index entries deleted
/// (none here: nothing expires).
fn cleanup(conn: &Connection, now: i64) {
    let keys = conn
        .prepare_cached(EXPIRED)
        .expect("prepare")
        .query_map([now], |row| row.get::<_, Vec<u8>>(0))
        .expect("cleanup")
        .collect::<Result<Vec<_>, _>>()
        .expect("cleanup");
    for key in &keys {
        for sql in [DELETE, UNINDEX] {
            conn.prepare_cached(sql)
                .expect("prepare")
                .execute([key])
                .expect("cleanup");
        }
    }
}

/// Every session's data: `{"user_id":"123","role":"admin","n":5}`.
pub fn data() -> Data {
    with_n(5)
}

/// `{"user_id":"123","role":"admin","n":n}`.
fn with_n(n: i64) -> Data {
    match json!({"user_id": "123", "role": "admin", "n": n}) {
        Value::Object(map) => map,
        _ => Data::new(),
    }
}

/// Milliseconds since 1970, as the `expires_at` column keeps them.
pub fn ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as i64
}

/// When the benchmark's sessions expire: an hour after the first call, the
/// same time for every session and every write of the run (so no write
/// moves a row in the `expires_at` index, on either side).
pub fn expires() -> SystemTime {
    static AT: std::sync::OnceLock<SystemTime> = std::sync::OnceLock::new();
    *AT.get_or_init(|| SystemTime::now() + Duration::from_secs(3600))
}

/// A store on a fresh file at `path` holding [`SESSIONS`] sessions that
/// expire in an hour (written raw, in one transaction), and their IDs.
pub fn populate(path: &Path) -> (SqliteStore, Vec<SessionId>) {
    let (store, ids, ()) = populate_around(path, || ());
    (store, ids)
}

/// [`populate`], calling `opened` once the store has made the schema and
/// before the rows go in.
fn populate_around<T>(path: &Path, opened: impl FnOnce() -> T) -> (SqliteStore, Vec<SessionId>, T) {
    let store = SqliteStore::open(path).expect("open the store");
    let made = opened();
    let expires = expires();
    let ids: Vec<SessionId> = (0..SESSIONS).map(|_| SessionId::generate()).collect();
    let text = Record::expiring(data(), expires).encode().expect("encode");
    let mut conn = connection(path);
    let tx = conn.transaction().expect("begin");
    for id in &ids {
        tx.execute(
            "INSERT INTO sessions (key, expires_at, record) VALUES (?1, ?2, ?3)",
            (&RecordKey::of(id).as_bytes()[..], ms(expires), &text),
        )
        .expect("insert");
    }
    tx.commit().expect("commit");
    (store, ids, made)
}

/// A connection set up as the store sets up its own: `synchronous = FULL`
/// (the default durability), and its log kept short (no checkpoint on
/// close; a commit that leaves 64 pages or more in the log empties it with a
/// `TRUNCATE` checkpoint, src/store/sqlite/log.rs).
pub fn connection(path: &Path) -> Connection {
    let mut conn = Connection::open(path).expect("open raw");
    conn.busy_timeout(Duration::from_secs(5)).expect("busy");
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("synchronous");
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
        true,
    )
    .expect("no checkpoint on close");
    conn.wal_hook(Some(|wal: &mut rusqlite::hooks::Wal, pages: i32| {
        if pages >= 64 {
            let _ = wal.checkpoint_v2(rusqlite::wal::CheckpointMode::TRUNCATE);
        }
        Ok(())
    }))
    .expect("log hook");
    conn
}

/// The raw side: a database like the store's, its connection, its keys
/// (hashed beforehand) and its record texts (encoded beforehand).
pub struct Raw {
    pub conn: Connection,
    /// The sessions' IDs, for the variant that hashes them at each call.
    pub ids: Vec<SessionId>,
    pub keys: Vec<[u8; 32]>,
    /// The record every row starts with (`n` = 5), which `create` writes.
    pub text: String,
    /// The same record with `n` = 6: the same size, other bytes.
    pub other: String,
    /// For each row, whether it holds `other` now (else `text`).
    holds_other: Vec<bool>,
    pub expires: i64,
}

impl Raw {
    /// A fresh database at `path` holding [`SESSIONS`] sessions.
    pub fn new(path: &Path) -> Raw {
        // The raw connection is open while the rows go in, as the store's
        // is: one that has read the database before the insert's commit
        // emptied the log keeps the database's size from the log's index,
        // while one opened afterwards asks the file (an `fstat`) at every
        // read until something is written again.
        let (store, ids, conn) = populate_around(path, || {
            let conn = connection(path);
            conn.query_row("SELECT count(*) FROM sessions", [], |_| Ok(()))
                .expect("a first read");
            conn
        });
        drop(store);
        let expires = expires();
        Raw {
            conn,
            keys: ids.iter().map(|id| *RecordKey::of(id).as_bytes()).collect(),
            ids,
            text: Record::expiring(data(), expires).encode().expect("encode"),
            other: Record::expiring(with_n(6), expires)
                .encode()
                .expect("encode"),
            holds_other: vec![false; SESSIONS],
            expires: ms(expires),
        }
    }

    /// The store's `get`: the `SELECT`, the record read as text, its expiry
    /// compared; with `decode`, the text turned into a `Record` too.
    pub fn get(&self, i: usize, decode: bool) {
        self.get_by_key(&self.keys[i], decode);
    }

    /// [`get`](Raw::get) with the work every store of the crate does around
    /// its statements: the ID hashed (SHA-256) at the call, the record
    /// decoded. What is left between this and the store is the store's own.
    pub fn get_hashed(&self, i: usize) {
        self.get_by_key(RecordKey::of(&self.ids[i]).as_bytes(), true);
    }

    fn get_by_key(&self, key: &[u8; 32], decode: bool) {
        let mut stmt = self.conn.prepare_cached(GET).expect("prepare");
        let row: (Option<i64>, String) = stmt
            .query_row([&key[..]], |row| Ok((row.get(0)?, row.get(1)?)))
            .expect("row");
        black_box(row.0.is_some_and(|at| at <= ms(SystemTime::now())));
        if decode {
            black_box(Record::decode(&row.1).expect("decode"));
        } else {
            black_box(row.1);
        }
    }

    /// The store's `update`: `BEGIN IMMEDIATE`, the `SELECT`, the `UPDATE`,
    /// the cleanup, `COMMIT`. The `UPDATE` writes a record text of the same
    /// size as the row's but other bytes (`n` 5 and 6 in turn), as an update
    /// that changes the record does: SQLite leaves a page alone when a row
    /// is overwritten with the bytes it holds, so writing the row's own text
    /// back would skip the table page's write to the log, half of what an
    /// update writes here.
    pub fn update(&mut self, i: usize) {
        let holds_other = !self.holds_other[i];
        self.holds_other[i] = holds_other;
        let expires = self.expires;
        let text = if holds_other { &self.other } else { &self.text };
        update_row(&self.conn, &self.keys[i], |_, _| {
            (Some(expires), Cow::Borrowed(text))
        });
    }

    /// [`update`](Raw::update) with the work every store of the crate does
    /// around its statements: the ID hashed at the call, the record decoded,
    /// changed (`n` + 1) and encoded again. A hand-written SQL session store
    /// would do this much; what is left is the store's own.
    pub fn update_hashed(&mut self, i: usize) {
        let key = *RecordKey::of(&self.ids[i]).as_bytes();
        update_row(&self.conn, &key, |expires, text| {
            let mut record = Record::decode(&text).expect("decode");
            let n = record.data["n"].as_i64().unwrap_or(0) + 1;
            record.data.insert("n".into(), n.into());
            (expires, Cow::Owned(record.encode().expect("encode")))
        });
    }

    /// The store's `create` of `key`: `BEGIN IMMEDIATE`, the
    /// insert-unless-live upsert, the cleanup, `COMMIT`.
    pub fn create(&mut self, key: &[u8; 32]) -> bool {
        let now = ms(SystemTime::now());
        let conn = &self.conn;
        run(conn, "BEGIN IMMEDIATE");
        let created = conn
            .prepare_cached(CREATE)
            .expect("prepare")
            .execute((&key[..], self.expires, &self.text, now))
            .expect("create");
        cleanup(conn, now);
        run(conn, "COMMIT");
        created == 1
    }
}

/// One update transaction of the row under `key`: `BEGIN IMMEDIATE`, the
/// `SELECT`, the `UPDATE` with what `change` makes of the `expires_at` and
/// record text read, the cleanup, `COMMIT`.
fn update_row<'t>(
    conn: &Connection,
    key: &[u8; 32],
    change: impl FnOnce(Option<i64>, String) -> (Option<i64>, Cow<'t, str>),
) {
    let now = ms(SystemTime::now());
    run(conn, "BEGIN IMMEDIATE");
    {
        let mut stmt = conn.prepare_cached(GET).expect("prepare");
        let (expires, text): (Option<i64>, String) = stmt
            .query_row([&key[..]], |row| Ok((row.get(0)?, row.get(1)?)))
            .expect("row");
        let (expires, text) = change(expires, text);
        conn.prepare_cached(UPDATE)
            .expect("prepare")
            .execute((&key[..], expires, &*text))
            .expect("update");
        cleanup(conn, now);
    }
    run(conn, "COMMIT");
}

/// `BEGIN IMMEDIATE` or `COMMIT` as the store runs them: cached statements.
fn run(conn: &Connection, sql: &str) {
    conn.prepare_cached(sql)
        .expect("prepare")
        .execute([])
        .expect(sql);
}

/// The store's side of `update`: `Store::update` adding one to `n`.
pub fn store_update(store: &SqliteStore, id: &SessionId) -> bool {
    store
        .update(id, &mut |record| {
            let n = record.data["n"].as_i64().unwrap_or(0) + 1;
            record.data.insert("n".into(), n.into());
            true
        })
        .expect("update")
}

//! `SqliteStore` against its own SQL statements run raw through rusqlite, in
//! one run, each on a database file of its own holding 10,000 sessions of
//! `{"user_id":"123","role":"admin","n":5}` (WAL, `synchronous = FULL`, as
//! the store sets them).
//!
//! Twice: on the disk (the system's temp dir: each write waits for an
//! `fsync`, a cost both sides pay alike and that varies with everything else
//! the disk does), and on tmpfs (`/dev/shm`, where `fsync` returns at once,
//! so what is left is the CPU work and the difference between the two sides
//! stands out of the noise). Groups `sqlite_store/disk`, `sqlite_store/tmpfs`.
//!
//! - `get`: the store's `Store::get`; raw: the same `SELECT expires_at,
//!   record … WHERE key = ?` on a cached statement, the record read as text
//!   and its expiry compared.
//! - `update`: `Store::update` adding one to `n`; raw: `BEGIN IMMEDIATE`, the
//!   same `SELECT`, the `UPDATE` with a record text of the same size, the
//!   cleanup `DELETE` of expired rows the store runs on each write, `COMMIT`.
//! - `create`: `Store::create` of a fresh ID; raw: `BEGIN IMMEDIATE`, the
//!   same insert-unless-live upsert, the cleanup `DELETE`, `COMMIT`.
//!
//! The raw side gets its keys hashed and its record text encoded before the
//! clock starts; the store hashes the ID (SHA-256), encodes and decodes the
//! record (JSON), takes a pooled connection and the process's write turn on
//! every call. That is the overhead measured.
//!
//! Then the same three, interleaved (see [`interleaved`]): printed as
//! `interleaved get: SqliteStore … µs, raw rusqlite … µs: +…%`.
//!
//! `cargo bench -p http-session-bench --bench sqlite_store -- --warm-up-time 1 --measurement-time 5`

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use std::time::Instant;

use criterion::{criterion_group, BatchSize, Criterion};
use http_session::store::RecordKey;
use http_session::{Data, Record, SessionId, SqliteStore, Store};
use rusqlite::{Connection, TransactionBehavior};
use serde_json::{json, Value};

const SESSIONS: usize = 10_000;

// The statements the store runs (src/store/sqlite/mod.rs), verbatim.
const GET: &str = "SELECT expires_at, record FROM sessions WHERE key = ?1";
const CREATE: &str = "INSERT INTO sessions (key, expires_at, record) VALUES (?1, ?2, ?3) \
     ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at, record = excluded.record \
     WHERE sessions.expires_at IS NOT NULL AND sessions.expires_at <= ?4";
const UPDATE: &str = "UPDATE sessions SET expires_at = ?2, record = ?3 WHERE key = ?1";
const CLEANUP: &str = "DELETE FROM sessions WHERE rowid IN \
     (SELECT rowid FROM sessions WHERE expires_at <= ?1 LIMIT ?2)";

fn data() -> Data {
    match json!({"user_id": "123", "role": "admin", "n": 5}) {
        Value::Object(map) => map,
        _ => Data::new(),
    }
}

fn ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as i64
}

/// A fresh store file with `SESSIONS` sessions expiring in an hour; their IDs.
fn populate(path: &Path) -> (SqliteStore, Vec<SessionId>) {
    let store = SqliteStore::open(path).expect("open the store");
    let expires = SystemTime::now() + Duration::from_secs(3600);
    let ids: Vec<SessionId> = (0..SESSIONS).map(|_| SessionId::generate()).collect();
    let text = Record::expiring(data(), expires).encode().expect("encode");
    let mut conn = raw_connection(path);
    let tx = conn.transaction().expect("begin");
    for id in &ids {
        tx.execute(
            "INSERT INTO sessions (key, expires_at, record) VALUES (?1, ?2, ?3)",
            (&RecordKey::of(id).as_bytes()[..], ms(expires), &text),
        )
        .expect("insert");
    }
    tx.commit().expect("commit");
    (store, ids)
}

/// A connection set up as the store sets up its own.
fn raw_connection(path: &Path) -> Connection {
    let conn = Connection::open(path).expect("open raw");
    conn.busy_timeout(Duration::from_secs(5)).expect("busy");
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("synchronous");
    conn
}

fn bench(c: &mut Criterion) {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        let dir = tempfile::tempdir_in(shm).expect("temp dir in /dev/shm");
        group(c, "sqlite_store/tmpfs", &dir);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    group(c, "sqlite_store/disk", &dir);
}

fn group(c: &mut Criterion, name: &str, dir: &tempfile::TempDir) {
    let (store, ids) = populate(&dir.path().join("store.db"));
    let raw_path = dir.path().join("raw.db");
    let (raw_store, raw_ids) = populate(&raw_path);
    drop(raw_store);
    let conn = raw_connection(&raw_path);
    let keys: Vec<[u8; 32]> = raw_ids
        .iter()
        .map(|id| *RecordKey::of(id).as_bytes())
        .collect();
    let expires = SystemTime::now() + Duration::from_secs(3600);
    let text = Record::expiring(data(), expires).encode().expect("encode");
    let now = || ms(SystemTime::now());

    let mut group = c.benchmark_group(name);
    let mut i = 0usize;
    group.bench_function("get/SqliteStore", |b| {
        b.iter(|| {
            i = (i + 1) % SESSIONS;
            black_box(store.get(&ids[i]).expect("get"))
        })
    });
    let mut i = 0usize;
    group.bench_function("get/raw rusqlite", |b| {
        b.iter(|| {
            i = (i + 1) % SESSIONS;
            let mut stmt = conn.prepare_cached(GET).expect("prepare");
            let row: (Option<i64>, String) = stmt
                .query_row([&keys[i][..]], |row| Ok((row.get(0)?, row.get(1)?)))
                .expect("row");
            black_box(row.0.is_some_and(|at| at <= now()));
            black_box(row.1)
        })
    });

    let mut i = 0usize;
    group.bench_function("update/SqliteStore", |b| {
        b.iter(|| {
            i = (i + 1) % SESSIONS;
            black_box(
                store
                    .update(&ids[i], &mut |record| {
                        let n = record.data["n"].as_i64().unwrap_or(0) + 1;
                        record.data.insert("n".into(), n.into());
                        true
                    })
                    .expect("update"),
            )
        })
    });
    let mut i = 0usize;
    let mut conn = conn;
    group.bench_function("update/raw rusqlite", |b| {
        b.iter(|| {
            i = (i + 1) % SESSIONS;
            let now = now();
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .expect("begin");
            {
                let mut stmt = tx.prepare_cached(GET).expect("prepare");
                let row: (Option<i64>, String) = stmt
                    .query_row([&keys[i][..]], |row| Ok((row.get(0)?, row.get(1)?)))
                    .expect("row");
                black_box(row);
                tx.prepare_cached(UPDATE)
                    .expect("prepare")
                    .execute((&keys[i][..], ms(expires), &text))
                    .expect("update");
                tx.prepare_cached(CLEANUP)
                    .expect("prepare")
                    .execute((now, 100))
                    .expect("cleanup");
            }
            tx.commit().expect("commit");
        })
    });

    group.bench_function("create/SqliteStore", |b| {
        b.iter_batched(
            || (SessionId::generate(), Record::expiring(data(), expires)),
            |(id, record)| black_box(store.create(&id, record).expect("create")),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("create/raw rusqlite", |b| {
        b.iter_batched(
            || *RecordKey::of(&SessionId::generate()).as_bytes(),
            |key| {
                let now = now();
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .expect("begin");
                let created = tx
                    .prepare_cached(CREATE)
                    .expect("prepare")
                    .execute((&key[..], ms(expires), &text, now))
                    .expect("create");
                tx.prepare_cached(CLEANUP)
                    .expect("prepare")
                    .execute((now, 100))
                    .expect("cleanup");
                tx.commit().expect("commit");
                black_box(created == 1)
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

/// The same three comparisons, interleaved: rounds of `OPS` store calls and
/// `OPS` raw ones, alternating which goes first, on tmpfs; the median time
/// per call of each side over `ROUNDS` rounds. On a machine shared with
/// other work, criterion's groups run minutes apart and see different
/// loads; here both sides see the same.
fn interleaved() {
    const ROUNDS: usize = 51;
    const OPS: usize = 2_000;
    let Ok(dir) = tempfile::tempdir_in("/dev/shm") else {
        println!("interleaved: no /dev/shm, skipped");
        return;
    };
    let (store, ids) = populate(&dir.path().join("store.db"));
    let raw_path = dir.path().join("raw.db");
    let (raw_store, raw_ids) = populate(&raw_path);
    drop(raw_store);
    let mut conn = raw_connection(&raw_path);
    let keys: Vec<[u8; 32]> = raw_ids
        .iter()
        .map(|id| *RecordKey::of(id).as_bytes())
        .collect();
    let expires = SystemTime::now() + Duration::from_secs(3600);
    let text = Record::expiring(data(), expires).encode().expect("encode");
    let now = || ms(SystemTime::now());
    let mut i = 0usize;
    let mut next = || {
        i = (i + 1) % SESSIONS;
        i
    };
    type Op<'a> = Box<dyn FnMut() + 'a>;
    let median = |mut times: Vec<f64>| {
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    };
    let compare = |name: &str, mut ours: Op<'_>, mut raw: Op<'_>| {
        let (mut t_ours, mut t_raw) = (Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            let time = |op: &mut Op<'_>| {
                let start = Instant::now();
                for _ in 0..OPS {
                    op();
                }
                start.elapsed().as_secs_f64() * 1e6 / OPS as f64
            };
            if round % 2 == 0 {
                t_ours.push(time(&mut ours));
                t_raw.push(time(&mut raw));
            } else {
                t_raw.push(time(&mut raw));
                t_ours.push(time(&mut ours));
            }
        }
        let (ours, raw) = (median(t_ours), median(t_raw));
        println!(
            "interleaved {name}: SqliteStore {ours:.2} µs ({:.0}/s), raw rusqlite {raw:.2} µs \
             ({:.0}/s): {:+.1}%",
            1e6 / ours,
            1e6 / raw,
            (ours / raw - 1.0) * 100.0
        );
    };
    let conn = std::cell::RefCell::new(&mut conn);
    let ids = &ids;
    let keys = &keys;
    let store = &store;
    let text = &text;
    let next = std::cell::RefCell::new(&mut next);
    compare(
        "get",
        Box::new(|| {
            let i = (next.borrow_mut())();
            black_box(store.get(&ids[i]).expect("get"));
        }),
        Box::new(|| {
            let i = (next.borrow_mut())();
            let conn = conn.borrow();
            let mut stmt = conn.prepare_cached(GET).expect("prepare");
            let row: (Option<i64>, String) = stmt
                .query_row([&keys[i][..]], |row| Ok((row.get(0)?, row.get(1)?)))
                .expect("row");
            black_box(row.0.is_some_and(|at| at <= now()));
            black_box(row.1);
        }),
    );
    // What the store adds to a get beyond its statement: mostly turning the
    // record's JSON into a `Record` (its data map), which the raw side above
    // leaves as text. The same statement, then `Record::decode`:
    compare(
        "get, raw side decoding the record too",
        Box::new(|| {
            let i = (next.borrow_mut())();
            black_box(store.get(&ids[i]).expect("get"));
        }),
        Box::new(|| {
            let i = (next.borrow_mut())();
            let conn = conn.borrow();
            let mut stmt = conn.prepare_cached(GET).expect("prepare");
            let row: (Option<i64>, String) = stmt
                .query_row([&keys[i][..]], |row| Ok((row.get(0)?, row.get(1)?)))
                .expect("row");
            black_box(row.0.is_some_and(|at| at <= now()));
            black_box(Record::decode(&row.1).expect("decode"));
        }),
    );
    compare(
        "update",
        Box::new(|| {
            let i = (next.borrow_mut())();
            black_box(
                store
                    .update(&ids[i], &mut |record| {
                        let n = record.data["n"].as_i64().unwrap_or(0) + 1;
                        record.data.insert("n".into(), n.into());
                        true
                    })
                    .expect("update"),
            );
        }),
        Box::new(|| {
            let i = (next.borrow_mut())();
            let now = now();
            let mut conn = conn.borrow_mut();
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .expect("begin");
            {
                let mut stmt = tx.prepare_cached(GET).expect("prepare");
                let row: (Option<i64>, String) = stmt
                    .query_row([&keys[i][..]], |row| Ok((row.get(0)?, row.get(1)?)))
                    .expect("row");
                black_box(row);
                tx.prepare_cached(UPDATE)
                    .expect("prepare")
                    .execute((&keys[i][..], ms(expires), text))
                    .expect("update");
                tx.prepare_cached(CLEANUP)
                    .expect("prepare")
                    .execute((now, 100))
                    .expect("cleanup");
            }
            tx.commit().expect("commit");
        }),
    );
    compare(
        "create",
        Box::new(|| {
            let record = Record::expiring(data(), expires);
            black_box(
                store
                    .create(&SessionId::generate(), record)
                    .expect("create"),
            );
        }),
        Box::new(|| {
            let key = *RecordKey::of(&SessionId::generate()).as_bytes();
            let now = now();
            let mut conn = conn.borrow_mut();
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .expect("begin");
            let created = tx
                .prepare_cached(CREATE)
                .expect("prepare")
                .execute((&key[..], ms(expires), text, now))
                .expect("create");
            tx.prepare_cached(CLEANUP)
                .expect("prepare")
                .execute((now, 100))
                .expect("cleanup");
            tx.commit().expect("commit");
            black_box(created == 1);
        }),
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // Only when benchmarking: not under `cargo test --benches`.
    if std::env::args().any(|arg| arg == "--bench") {
        interleaved();
    }
}

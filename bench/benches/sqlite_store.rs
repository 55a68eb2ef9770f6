//! `SqliteStore` against its own SQL statements run raw through rusqlite
//! (`bench/src/sqlite_raw.rs`), in one run, each on a database file of its
//! own holding 10,000 sessions of `{"user_id":"123","role":"admin","n":5}`
//! (WAL, `synchronous = FULL`, as the store sets them).
//!
//! - `get`: `Store::get`; raw: the same `SELECT expires_at, record … WHERE
//!   key = ?` on a cached statement, the record read as text and its expiry
//!   compared.
//! - `update`: `Store::update` adding one to `n`; raw: `BEGIN IMMEDIATE`, the
//!   same `SELECT`, the `UPDATE` with a record text of the same size as the
//!   row's but other bytes (as the store's, which changes `n`), the cleanup
//!   of expired rows the store runs on each write, `COMMIT`.
//! - `create`: `Store::create` of a fresh ID and its record, both made
//!   beforehand, untimed; raw: `BEGIN IMMEDIATE`, the same
//!   insert-unless-live upsert with a key hashed beforehand, the cleanup,
//!   `COMMIT`.
//! - `open`: `SqliteStore::open` of the file and its drop, what a CGI
//!   program pays per request; raw: a connection opened with the store's
//!   settings, and closed.
//!
//! Twice: on tmpfs (`/dev/shm`, where `fsync` returns at once, so what is
//! left is the work of the CPU) and on the disk (the system's temp dir: each
//! write waits for an `fsync`, which both sides pay alike and which varies
//! with whatever else the disk does). Groups `sqlite_store/tmpfs` and
//! `sqlite_store/disk`.
//!
//! Then the same comparisons interleaved on tmpfs ([`interleaved`]), printed
//! as `interleaved get: SqliteStore … µs, raw rusqlite … µs: +…%`: on a
//! machine shared with other work, criterion's groups run minutes apart and
//! see different loads. For figures no load disturbs, count instructions
//! (`bench/src/bin/instructions.rs`, operations `sqlite-*`).
//!
//! `cargo bench -p http-session-bench --bench sqlite_store -- --warm-up-time 2 --measurement-time 10`

#[path = "../src/sqlite_raw.rs"]
mod sqlite_raw;

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use criterion::{criterion_group, BatchSize, Criterion};
use http_session::store::RecordKey;
use http_session::{Record, SessionId, SqliteStore, Store};
use sqlite_raw::{data, expires, populate, store_update, Raw, SESSIONS};

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
    let mut raw = Raw::new(&dir.path().join("raw.db"));
    let expires = expires();

    let mut group = c.benchmark_group(name);
    let mut i = 0usize;
    let mut next = move || {
        i = (i + 1) % SESSIONS;
        i
    };
    group.bench_function("get/SqliteStore", |b| {
        b.iter(|| black_box(store.get(&ids[next()]).expect("get")))
    });
    group.bench_function("get/raw rusqlite", |b| b.iter(|| raw.get(next(), false)));
    group.bench_function("update/SqliteStore", |b| {
        b.iter(|| black_box(store_update(&store, &ids[next()])))
    });
    group.bench_function("update/raw rusqlite", |b| b.iter(|| raw.update(next())));
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
            |key| black_box(raw.create(&key)),
            BatchSize::SmallInput,
        )
    });
    // What a CGI program pays once per request: opening the file (the
    // schema check included) and closing it; raw: a connection with the
    // store's settings, opened and closed.
    let path = dir.path().join("store.db");
    group.bench_function("open/SqliteStore", |b| {
        b.iter(|| drop(black_box(SqliteStore::open(&path).expect("open"))))
    });
    let raw_path = dir.path().join("raw.db");
    group.bench_function("open/raw rusqlite", |b| {
        b.iter(|| drop(black_box(sqlite_raw::connection(&raw_path))))
    });
    group.finish();
}

/// A side of a comparison: one call, given a fresh index.
type Side<'a> = Box<dyn FnMut(usize) + 'a>;

/// The comparisons interleaved, on tmpfs: `ROUNDS` rounds of `OPS` store
/// calls and `OPS` raw ones, alternating which side goes first; the median
/// time per call of each side. Both sides see the same load. What a `create`
/// takes is made before each round, untimed.
fn interleaved() {
    const ROUNDS: usize = 51;
    const OPS: usize = 2_000;
    let Ok(dir) = tempfile::tempdir_in("/dev/shm") else {
        println!("interleaved: no /dev/shm, skipped");
        return;
    };
    let (store, ids) = populate(&dir.path().join("store.db"));
    let raw = std::cell::RefCell::new(Raw::new(&dir.path().join("raw.db")));
    let expires = expires();
    let median = |mut times: Vec<f64>| {
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    };
    let mut i = 0usize;
    // `prepare` runs before each side's round, untimed.
    let mut compare =
        |name: &str, mut ours: Side<'_>, mut theirs: Side<'_>, prepare: &mut dyn FnMut()| {
            let (mut t_ours, mut t_raw) = (Vec::new(), Vec::new());
            let mut time = |side: &mut Side<'_>| {
                prepare();
                let start = Instant::now();
                for _ in 0..OPS {
                    i = (i + 1) % SESSIONS;
                    side(i);
                }
                start.elapsed().as_secs_f64() * 1e6 / OPS as f64
            };
            for round in 0..ROUNDS {
                if round % 2 == 0 {
                    t_ours.push(time(&mut ours));
                    t_raw.push(time(&mut theirs));
                } else {
                    t_raw.push(time(&mut theirs));
                    t_ours.push(time(&mut ours));
                }
            }
            let (ours, theirs) = (median(t_ours), median(t_raw));
            println!(
            "interleaved {name}: SqliteStore {ours:.2} µs ({:.0}/s), raw rusqlite {theirs:.2} µs \
             ({:.0}/s): {:+.1}%",
            1e6 / ours,
            1e6 / theirs,
            (ours / theirs - 1.0) * 100.0
        );
        };
    let get: fn(&SqliteStore, &[SessionId], usize) = |store, ids, i| {
        black_box(store.get(&ids[i]).expect("get"));
    };
    compare(
        "get",
        Box::new(|i| get(&store, &ids, i)),
        Box::new(|i| raw.borrow().get(i, false)),
        &mut || {},
    );
    // What the store adds to a get beyond its statement is the work every
    // store of the crate does: hashing the ID (SHA-256) and turning the
    // record's JSON into a `Record` (a map), which the raw side above skips.
    // The same statement with both:
    compare(
        "get, the raw side hashing the ID and decoding the record too",
        Box::new(|i| get(&store, &ids, i)),
        Box::new(|i| raw.borrow().get_hashed(i)),
        &mut || {},
    );
    compare(
        "update",
        Box::new(|i| {
            black_box(store_update(&store, &ids[i]));
        }),
        Box::new(|i| raw.borrow_mut().update(i)),
        &mut || {},
    );
    compare(
        "update, the raw side hashing the ID, decoding and encoding the record too",
        Box::new(|i| {
            black_box(store_update(&store, &ids[i]));
        }),
        Box::new(|i| raw.borrow_mut().update_hashed(i)),
        &mut || {},
    );
    // What `create` takes is made before each round, untimed, as
    // criterion's setup does: fresh IDs with their records (the caller's
    // work), and for the raw side their keys (hashed beforehand).
    let made = std::cell::RefCell::new(Vec::new());
    let made_keys = std::cell::RefCell::new(Vec::new());
    compare(
        "create",
        Box::new(|_| {
            let (id, record) = made.borrow_mut().pop().expect("made");
            black_box(store.create(&id, record).expect("create"));
        }),
        Box::new(|_| {
            let key = made_keys.borrow_mut().pop().expect("made");
            black_box(raw.borrow_mut().create(&key));
        }),
        &mut || {
            let (mut made, mut keys) = (made.borrow_mut(), made_keys.borrow_mut());
            while made.len() < OPS {
                made.push((SessionId::generate(), Record::expiring(data(), expires)));
            }
            while keys.len() < OPS {
                keys.push(*RecordKey::of(&SessionId::generate()).as_bytes());
            }
        },
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

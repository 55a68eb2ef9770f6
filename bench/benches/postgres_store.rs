//! `PostgresStore` against the same SQL run raw through the same driver (the
//! synchronous `postgres` crate), in one process and one run, on the
//! machine's PostgreSQL (127.0.0.1:5432, database `test`, tables of the run's
//! own, dropped at the end).
//!
//! Operations, one thread, 1,000 sessions of `{"user_id":"123","role":"admin","n":5}`:
//!
//! - `get`: ours is `Store::get`; raw is the store's `SELECT data … WHERE key
//!   = $1 AND (expires_at IS NULL OR expires_at > $2)`, prepared once;
//! - `update`: ours is `Store::update` adding one to `n`; raw is the store's
//!   transaction: `BEGIN`, `SELECT … FOR UPDATE`, `UPDATE`, `COMMIT`,
//!   writing bytes encoded beforehand;
//! - `create`: ours is `Store::create` under a fresh ID; raw is the store's
//!   `INSERT … ON CONFLICT … DO UPDATE … WHERE` with a random key and bytes
//!   encoded beforehand.
//!
//! Raw is the strictest baseline: SQL alone, with the key hashed and the
//! record encoded beforehand. What ours adds is all the rest: hashing the ID,
//! the pool, the clock, encoding and decoding the record's JSON, the
//! closure. After the criterion groups, a paired run calls the two in turn
//! (2,000 calls each per operation) and compares their median latencies, 5
//! times, each on new connections: a burst of load on a busy machine hits
//! both alike, where two criterion medians taken a minute apart can differ
//! by the load alone. It prints each repetition and the median overhead.
//!
//! `cargo bench -p http-session-bench --bench postgres_store`

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

use criterion::{criterion_group, criterion_main, Criterion};
use http_session::store::RecordKey;
use http_session::{PostgresStore, Record, SessionId, Store};
use postgres::{Client, NoTls, Statement};

const PARAMS: &str = "host=127.0.0.1 port=5432 user=postgres dbname=test";
const SESSIONS: usize = 1_000;
/// Calls of each contender in one paired repetition, per operation.
const PAIRED_CALLS: usize = 2_000;
/// Paired repetitions, each on new connections.
const PAIRED_REPETITIONS: usize = 5;

fn initial() -> Record {
    let data = serde_json::json!({"user_id": "123", "role": "admin", "n": 5});
    Record::expiring(
        data.as_object().cloned().unwrap_or_default(),
        SystemTime::now() + Duration::from_secs(3600),
    )
}

/// The store's statements, prepared once on a connection of the bench's own.
struct Raw {
    client: Client,
    get: Statement,
    lock: Statement,
    write: Statement,
    create: Statement,
    /// A record as the store would write it, encoded beforehand.
    data: Vec<u8>,
    expires: SystemTime,
}

impl Raw {
    fn new(table: &str) -> Raw {
        let mut client = Client::connect(PARAMS, NoTls).unwrap();
        let live = "(expires_at IS NULL OR expires_at > $2)";
        let get = client
            .prepare(&format!(
                "SELECT data FROM {table} WHERE key = $1 AND {live}"
            ))
            .unwrap();
        let lock = client
            .prepare(&format!(
                "SELECT data FROM {table} WHERE key = $1 AND {live} FOR UPDATE"
            ))
            .unwrap();
        let write = client
            .prepare(&format!(
                "UPDATE {table} SET data = $2, expires_at = $3 WHERE key = $1"
            ))
            .unwrap();
        let create = client
            .prepare(&format!(
                "INSERT INTO {table} AS s (key, data, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data, \
                 expires_at = EXCLUDED.expires_at \
                 WHERE s.expires_at IS NOT NULL AND s.expires_at <= $4"
            ))
            .unwrap();
        let record = initial();
        Raw {
            client,
            get,
            lock,
            write,
            create,
            data: record.encode().unwrap().into_bytes(),
            expires: record.expires_at.unwrap(),
        }
    }

    fn get(&mut self, key: &[u8]) -> usize {
        let now = SystemTime::now();
        let row = self.client.query_opt(&self.get, &[&key, &now]).unwrap();
        row.map_or(0, |row| row.get::<_, &[u8]>(0).len())
    }

    fn update(&mut self, key: &[u8]) {
        let now = SystemTime::now();
        let mut tx = self.client.transaction().unwrap();
        let row = tx.query_opt(&self.lock, &[&key, &now]).unwrap();
        assert!(row.is_some());
        tx.execute(&self.write, &[&key, &self.data, &self.expires])
            .unwrap();
        tx.commit().unwrap();
    }

    fn create(&mut self) -> bool {
        let key: [u8; 32] = rand::random();
        let key: &[u8] = &key;
        let now = SystemTime::now();
        self.client
            .execute(&self.create, &[&key, &self.data, &self.expires, &now])
            .unwrap()
            == 1
    }
}

fn ours_update(store: &PostgresStore, id: &SessionId) {
    let found = store
        .update(id, &mut |record| {
            let n = record.data.get("n").and_then(|n| n.as_i64()).unwrap_or(0);
            record.data.insert("n".into(), (n + 1).into());
            true
        })
        .unwrap();
    assert!(found);
}

/// Latencies of `ours` and `raw` called alternately, one call each in turn
/// (which goes first alternates too), `calls` times: a burst of load on the
/// machine hits both alike. Returns each one's median and the ratio of the
/// medians.
fn paired(calls: usize, mut ours: impl FnMut(), mut raw: impl FnMut()) -> (Duration, Duration) {
    let mut ours_times = Vec::with_capacity(calls);
    let mut raw_times = Vec::with_capacity(calls);
    let time = |f: &mut dyn FnMut(), into: &mut Vec<Duration>| {
        let started = Instant::now();
        f();
        into.push(started.elapsed());
    };
    for call in 0..calls {
        if call % 2 == 0 {
            time(&mut ours, &mut ours_times);
            time(&mut raw, &mut raw_times);
        } else {
            time(&mut raw, &mut raw_times);
            time(&mut ours, &mut ours_times);
        }
    }
    let median = |times: &mut Vec<Duration>| {
        times.sort();
        times[times.len() / 2]
    };
    (median(&mut ours_times), median(&mut raw_times))
}

fn bench(c: &mut Criterion) {
    let prefix = format!("bench_{}_", std::process::id());
    let store = PostgresStore::builder(PARAMS)
        .table_prefix(&prefix)
        .build()
        .unwrap();
    if let Err(e) = store.ping() {
        eprintln!("postgres_store: skipped, no PostgreSQL to measure: {e}");
        return;
    }
    let table = store.sessions_table();
    let ids: Vec<SessionId> = (0..SESSIONS).map(|_| SessionId::generate()).collect();
    for id in &ids {
        store.set(id, initial()).unwrap();
    }
    let keys: Vec<[u8; 32]> = ids.iter().map(|id| *RecordKey::of(id).as_bytes()).collect();
    let mut raw = Raw::new(&table);
    assert!(store.get(&ids[0]).unwrap().is_some());
    assert!(raw.get(&keys[0]) > 0, "raw reads the store's rows");

    let mut g = c.benchmark_group("postgres_store");
    let mut i = 0;
    let mut next = || {
        i = (i + 1) % SESSIONS;
        i
    };
    g.bench_function("get: PostgresStore", |b| {
        b.iter(|| store.get(black_box(&ids[next()])).unwrap())
    });
    g.bench_function("get: raw SQL", |b| {
        b.iter(|| raw.get(black_box(&keys[next()])))
    });
    g.bench_function("update: PostgresStore", |b| {
        b.iter(|| ours_update(&store, black_box(&ids[next()])))
    });
    g.bench_function("update: raw SQL", |b| {
        b.iter(|| raw.update(black_box(&keys[next()])))
    });
    g.bench_function("create: PostgresStore", |b| {
        b.iter(|| assert!(store.create(&SessionId::generate(), initial()).unwrap()))
    });
    g.bench_function("create: raw SQL", |b| b.iter(|| assert!(raw.create())));
    g.finish();

    // The same, paired: raw and ours called in turn, medians compared, in
    // several repetitions, each on new connections (a new store, a new raw
    // client): on 2 busy cores a connection's server process can sit for
    // seconds where every call takes twice as long, whoever makes it.
    drop(raw);
    let record = initial();
    let mut results: Vec<(&str, Vec<(Duration, Duration)>)> = vec![
        ("get", Vec::new()),
        ("update", Vec::new()),
        ("create", Vec::new()),
    ];
    for _ in 0..PAIRED_REPETITIONS {
        let ours = PostgresStore::builder(PARAMS)
            .table_prefix(&prefix)
            .build()
            .unwrap();
        let raw = std::cell::RefCell::new(Raw::new(&table));
        let (mut j, mut k) = (0, 0);
        results[0].1.push(paired(
            PAIRED_CALLS,
            || {
                j = (j + 1) % SESSIONS;
                black_box(ours.get(&ids[j]).unwrap());
            },
            || {
                k = (k + 1) % SESSIONS;
                black_box(raw.borrow_mut().get(&keys[k]));
            },
        ));
        results[1].1.push(paired(
            PAIRED_CALLS,
            || {
                j = (j + 1) % SESSIONS;
                ours_update(&ours, &ids[j]);
            },
            || {
                k = (k + 1) % SESSIONS;
                raw.borrow_mut().update(&keys[k]);
            },
        ));
        results[2].1.push(paired(
            PAIRED_CALLS,
            || assert!(ours.create(&SessionId::generate(), record.clone()).unwrap()),
            || assert!(raw.borrow_mut().create()),
        ));
    }
    for (op, runs) in results {
        let per_second = |d: Duration| 1.0 / d.as_secs_f64();
        let mut overheads: Vec<f64> = runs
            .iter()
            .map(|(ours, raw)| (ours.as_secs_f64() / raw.as_secs_f64() - 1.0) * 100.0)
            .collect();
        overheads.sort_by(f64::total_cmp);
        let shown: Vec<String> = runs
            .iter()
            .map(|(ours, raw)| format!("{:.0}/{:.0}", per_second(*ours), per_second(*raw)))
            .collect();
        println!(
            "postgres_store paired {op}: {PAIRED_REPETITIONS} x {PAIRED_CALLS} calls each, in turn; \
             median calls/s PostgresStore/raw per repetition: {}; overhead median {:+.1}% \
             (from {:+.1}% to {:+.1}%)",
            shown.join(", "),
            overheads[overheads.len() / 2],
            overheads[0],
            overheads[overheads.len() - 1],
        );
    }

    drop(store);
    let mut client = Client::connect(PARAMS, NoTls).unwrap();
    let _ = client.batch_execute(&format!(
        "DROP TABLE IF EXISTS \"{prefix}sessions\", \"{prefix}users\", \"{prefix}schema\""
    ));
}

criterion_group!(benches, bench);
criterion_main!(benches);

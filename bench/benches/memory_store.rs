//! `MemoryStore` behind `Session`, against a plain `Mutex<HashMap<String,
//! serde_json::Map>>` and `tower-sessions`' `MemoryStore`, in one process, with
//! 10,000 and 1,000,000 sessions present, on 1 and 2 threads.
//!
//! Every session starts as `{"user_id":"123","role":"admin","n":5}`. The
//! operations (see BENCHMARKS.md for the exact definitions):
//!
//! - `get`: load one session's data as an owned map;
//! - `counter`: read-modify-write of the counter `n` (load, `n += 1`, save);
//!   ours is `Session::update_with`, atomic under the shard lock;
//! - `update`: `Session::update(&id, json!({"n": i}))`, a merge of a value
//!   computed beforehand; the baselines load, insert `n`, save;
//! - `create`: create a session with the data above and delete it again, so
//!   the population stays the same.
//!
//! Sessions are visited in the (random) order their IDs were made, so each
//! access lands somewhere unpredictable in the table, as real traffic does.
//! With 2 threads each thread walks its own half of the IDs; the time reported
//! is wall time divided by the operations of both threads, so "2 threads" at
//! half the time of "1 thread" means twice the throughput.
//!
//! Two more groups explain the figures rather than compete: `counter_own_shards`
//! (2 threads that never share a shard, so no cache line passes between the
//! cores) and `random_load` (one dependent load from a random line of a table
//! as large as ours: the memory latency every store pays per cold session).
//!
//! `cargo bench -p http-session-bench --bench memory_store` (or `-- update` for one operation).

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode};
use http_session::{Data, MemoryStore, Session, SessionId};
use serde_json::{json, Value};
use tower_sessions::session::{Id, Record as TowerRecord};
use tower_sessions::{MemoryStore as TowerStore, SessionStore};

const SIZES: [usize; 2] = [10_000, 1_000_000];
const THREADS: [usize; 2] = [1, 2];

fn initial() -> Value {
    json!({"user_id": "123", "role": "admin", "n": 5})
}

fn initial_map() -> Data {
    match initial() {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

/// `n += 1` on a session's data, the same code for every contender.
fn increment(data: &mut Data) -> i64 {
    let n = data.get("n").and_then(Value::as_i64).unwrap_or(0) + 1;
    if let Some(slot) = data.get_mut("n") {
        *slot = n.into();
    }
    n
}

fn increment_tower(data: &mut HashMap<String, Value>) -> i64 {
    let n = data.get("n").and_then(Value::as_i64).unwrap_or(0) + 1;
    if let Some(slot) = data.get_mut("n") {
        *slot = n.into();
    }
    n
}

// ---- the contenders ------------------------------------------------------

struct Ours {
    session: Session<MemoryStore>,
    ids: Vec<SessionId>,
}

impl Ours {
    fn new(n: usize) -> Ours {
        let store = MemoryStore::builder().max_sessions(n * 2).build();
        let session = Session::builder()
            .store(store)
            .build()
            .expect("valid settings");
        let ids = (0..n)
            .map(|_| session.create(initial()).expect("create"))
            .collect();
        Ours { session, ids }
    }
}

/// The map a hand-rolled server would keep, behind the seed's store interface:
/// `get` hands out a copy, `set` inserts under an owned key.
#[derive(Default)]
struct Plain {
    map: Mutex<HashMap<String, Data>>,
    ids: Vec<String>,
}

impl Plain {
    fn new(n: usize) -> Plain {
        let mut plain = Plain::default();
        let mut map = HashMap::with_capacity(n);
        for _ in 0..n {
            let id = SessionId::generate().to_string();
            map.insert(id.clone(), initial_map());
            plain.ids.push(id);
        }
        plain.map = Mutex::new(map);
        plain
    }

    fn load(&self, id: &str) -> Option<Data> {
        self.map.lock().unwrap().get(id).cloned()
    }

    /// The seed's `set(id, data)`: insert under an owned key, replacing.
    fn save(&self, id: &str, data: Data) {
        self.map.lock().unwrap().insert(id.to_owned(), data);
    }

    fn create(&self, data: Data) -> String {
        let id = SessionId::generate().to_string();
        self.map.lock().unwrap().entry(id.clone()).or_insert(data);
        id
    }

    fn delete(&self, id: &str) {
        self.map.lock().unwrap().remove(id);
    }
}

struct Tower {
    store: TowerStore,
    ids: Vec<Id>,
}

fn tower_expiry() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc() + time::Duration::minutes(30)
}

fn tower_data() -> HashMap<String, Value> {
    initial_map().into_iter().collect()
}

impl Tower {
    fn new(n: usize) -> Tower {
        let store = TowerStore::default();
        let rt = runtime();
        let ids = rt.block_on(async {
            let mut ids = Vec::with_capacity(n);
            for _ in 0..n {
                let mut record = TowerRecord {
                    id: Id::default(),
                    data: tower_data(),
                    expiry_date: tower_expiry(),
                };
                store.create(&mut record).await.expect("create");
                ids.push(record.id);
            }
            ids
        });
        Tower { store, ids }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
}

// ---- measuring -----------------------------------------------------------

/// Runs `iters` operations split over `threads` threads and returns the wall
/// time: each thread prepares with `setup(t)` (not timed), then all start
/// together and each runs its share with `work(&prepared, t, share)`.
fn timed<P, S, W>(threads: usize, iters: u64, setup: S, work: W) -> Duration
where
    S: Fn(usize) -> P + Sync,
    W: Fn(&P, usize, u64) + Sync,
{
    let share = iters.div_ceil(threads as u64);
    let barrier = std::sync::Barrier::new(threads + 1);
    std::thread::scope(|scope| {
        for t in 0..threads {
            let (setup, work, barrier) = (&setup, &work, &barrier);
            scope.spawn(move || {
                let prepared = setup(t);
                barrier.wait();
                work(&prepared, t, share);
                barrier.wait();
            });
        }
        barrier.wait();
        let start = Instant::now();
        barrier.wait();
        // Scale to `iters`: the threads ran `share * threads` operations.
        start
            .elapsed()
            .mul_f64(iters as f64 / (share * threads as u64) as f64)
    })
}

/// `op(thread, i)` for each thread's share of `iters` operations.
fn run_threads<F>(threads: usize, iters: u64, op: F) -> Duration
where
    F: Fn(usize, u64) + Sync,
{
    timed(
        threads,
        iters,
        |_| (),
        |(), t, share| {
            for i in 0..share {
                op(t, i);
            }
        },
    )
}

/// Like `run_threads`, each thread on its own current-thread Tokio runtime,
/// with its whole share in one `block_on` (as an async server would run it).
fn run_tower<F, Fut>(threads: usize, iters: u64, op: F) -> Duration
where
    F: Fn(usize, u64) -> Fut + Sync,
    Fut: std::future::Future<Output = ()>,
{
    timed(
        threads,
        iters,
        |_| runtime(),
        |rt, t, share| {
            rt.block_on(async {
                for i in 0..share {
                    op(t, i).await;
                }
            })
        },
    )
}

/// The `i`-th ID of thread `t`'s half (or the whole list for one thread).
fn pick<T>(ids: &[T], threads: usize, t: usize, i: u64) -> &T {
    let part = ids.len() / threads;
    &ids[t * part + (i as usize % part)]
}

/// A group measured the same way as every other here: ten flat samples of
/// about 1 s in all (each iteration is a whole batch of operations).
fn group(c: &mut Criterion, name: String) -> BenchmarkGroup<'_, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_millis(1000));
    g
}

/// The sizes to run: all, or those listed in `MEMORY_STORE_SIZES` (comma
/// separated), since building a million sessions takes a while when iterating.
fn sizes() -> Vec<usize> {
    // `cargo test --benches` runs each routine once, without `--bench`: keep
    // that quick and small.
    if !std::env::args().any(|a| a == "--bench") {
        return vec![1_000];
    }
    match std::env::var("MEMORY_STORE_SIZES") {
        Ok(list) => list
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect(),
        Err(_) => SIZES.to_vec(),
    }
}

fn bench(c: &mut Criterion) {
    for n in sizes() {
        let ours = Ours::new(n);
        let plain = Plain::new(n);
        let tower = Tower::new(n);

        for op in ["get", "counter", "update", "create"] {
            let mut g = group(c, format!("memory_store/{op}/{n}"));
            for threads in THREADS {
                let label = |who: &str| {
                    format!(
                        "{who}/{threads} thread{}",
                        if threads > 1 { "s" } else { "" }
                    )
                };
                g.bench_function(label("http-session"), |b| {
                    b.iter_custom(|iters| {
                        run_threads(threads, iters, |t, i| {
                            let id = pick(&ours.ids, threads, t, i);
                            let s = &ours.session;
                            match op {
                                "get" => {
                                    black_box(s.get(id).expect("get"));
                                }
                                "counter" => {
                                    black_box(s.update_with(id, increment).expect("update_with"));
                                }
                                "update" => {
                                    black_box(s.update(id, json!({"n": i})).expect("update"));
                                }
                                _ => {
                                    let new = s.create(initial()).expect("create");
                                    http_session::Store::delete(s.store(), &new).expect("delete");
                                }
                            }
                        })
                    })
                });
                g.bench_function(label("Mutex<HashMap>"), |b| {
                    b.iter_custom(|iters| {
                        run_threads(threads, iters, |t, i| {
                            let id = pick(&plain.ids, threads, t, i);
                            match op {
                                "get" => {
                                    black_box(plain.load(id));
                                }
                                "counter" => {
                                    if let Some(mut data) = plain.load(id) {
                                        black_box(increment(&mut data));
                                        plain.save(id, data);
                                    }
                                }
                                "update" => {
                                    if let Some(mut data) = plain.load(id) {
                                        data.insert("n".to_owned(), json!(i));
                                        plain.save(id, data);
                                    }
                                }
                                _ => {
                                    let data = match initial() {
                                        Value::Object(map) => map,
                                        _ => unreachable!(),
                                    };
                                    let new = plain.create(data);
                                    plain.delete(&new);
                                }
                            }
                        })
                    })
                });
                g.bench_function(label("tower-sessions"), |b| {
                    b.iter_custom(|iters| {
                        run_tower(threads, iters, |t, i| {
                            let id = *pick(&tower.ids, threads, t, i);
                            let store = &tower.store;
                            async move {
                                match op {
                                    "get" => {
                                        black_box(store.load(&id).await.expect("load"));
                                    }
                                    "counter" => {
                                        if let Some(mut record) =
                                            store.load(&id).await.expect("load")
                                        {
                                            black_box(increment_tower(&mut record.data));
                                            store.save(&record).await.expect("save");
                                        }
                                    }
                                    "update" => {
                                        if let Some(mut record) =
                                            store.load(&id).await.expect("load")
                                        {
                                            record.data.insert("n".to_owned(), json!(i));
                                            store.save(&record).await.expect("save");
                                        }
                                    }
                                    _ => {
                                        let mut record = TowerRecord {
                                            id: Id::default(),
                                            data: match initial() {
                                                Value::Object(map) => map.into_iter().collect(),
                                                _ => unreachable!(),
                                            },
                                            expiry_date: tower_expiry(),
                                        };
                                        store.create(&mut record).await.expect("create");
                                        store.delete(&record.id).await.expect("delete");
                                    }
                                }
                            }
                        })
                    })
                });
            }
            g.finish();
        }
    }
}

/// A diagnostic for the 2-thread figures, not a contender: the same counter
/// increments, with each thread given only sessions that live in its own
/// half of `MemoryStore`'s shards (the shard is chosen by bits of the ID's
/// ninth byte; an odd/even split of that byte splits the shards). No cache
/// line is then written by both threads. Comparing this with the usual
/// 2-thread run (threads on random shards, as real traffic is) shows what the
/// cores' passing of shared lines back and forth costs.
fn bench_disjoint(c: &mut Criterion) {
    for n in sizes() {
        let ours = Ours::new(n);
        let halves: [Vec<&SessionId>; 2] = [0, 1].map(|parity| {
            ours.ids
                .iter()
                .filter(|id| id.as_bytes()[8] % 2 == parity)
                .collect()
        });
        let mut g = group(c, format!("memory_store/counter_own_shards/{n}"));
        g.bench_function("http-session/2 threads", |b| {
            b.iter_custom(|iters| {
                run_threads(2, iters, |t, i| {
                    let half = &halves[t];
                    let id = half[i as usize % half.len()];
                    black_box(
                        ours.session
                            .update_with(id, increment)
                            .expect("update_with"),
                    );
                })
            })
        });
        g.finish();
    }
}

/// A reference for the 1,000,000-session figures: one load from a random
/// cache line of a table as large as `MemoryStore`'s at `n` sessions (about
/// 200 bytes a session), each load's address read from the one before, as a
/// hash lookup's slot address depends on its hash and control bytes. Every
/// store pays at least this once per operation on a session not in cache.
fn bench_random_load(c: &mut Criterion) {
    for n in sizes() {
        let lines = (n * 200 / 64).max(2);
        // A random cycle through all lines, one u64 link per 64-byte line.
        let mut order: Vec<usize> = (0..lines).collect();
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for i in (1..lines).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            order.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let mut next = vec![0u64; lines * 8];
        for i in 0..lines {
            next[order[i] * 8] = (order[(i + 1) % lines] * 8) as u64;
        }
        let mut g = group(c, format!("memory_store/random_load/{n}"));
        g.bench_function("dependent load", |b| {
            let mut at = order[0] * 8;
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    at = next[at] as usize;
                }
                black_box(at);
                start.elapsed()
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench, bench_disjoint, bench_random_load);
criterion_main!(benches);

//! Linearizability: concurrent histories of `get`, `update`, `update_with`,
//! `touch` and `delete` on each store, checked against a model of one session
//! (tests/common/linearizability.rs holds the checker).

use crate::common;

use std::collections::BTreeMap;
use std::sync::Barrier;
use std::time::Duration;

use common::linearizability::{self, check, render, Entry, Model, Outcome, Ticker};
use http_session::{FileStore, Headers, MemoryStore, Session, SessionId, Store};
use serde_json::{json, Value};

/// One session: its data, or `None` once deleted. Values are integers only.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct OneSession(Option<BTreeMap<String, i64>>);

#[derive(Clone, Debug, PartialEq)]
enum Op {
    Get,
    /// `update` with the one-key patch `{key: value}`.
    Update(&'static str, i64),
    /// `update_with` adding one to `n`.
    Increment,
    Touch,
    Delete,
}

#[derive(Clone, Debug, PartialEq)]
enum Ret {
    Data(Option<BTreeMap<String, i64>>),
    Updated(bool),
    Incremented(Option<i64>),
    Touched(bool),
    Deleted,
}

impl Model for OneSession {
    type Op = Op;
    type Ret = Ret;

    fn step(&self, op: &Op) -> (OneSession, Ret) {
        let mut next = self.clone();
        let ret = match (op, &mut next.0) {
            (Op::Get, data) => Ret::Data(data.clone()),
            (Op::Update(key, value), Some(data)) => {
                data.insert((*key).to_owned(), *value);
                Ret::Updated(true)
            }
            (Op::Update(..), None) => Ret::Updated(false),
            (Op::Increment, Some(data)) => {
                let n = data.get("n").copied().unwrap_or(0) + 1;
                data.insert("n".to_owned(), n);
                Ret::Incremented(Some(n))
            }
            (Op::Increment, None) => Ret::Incremented(None),
            (Op::Touch, data) => Ret::Touched(data.is_some()),
            (Op::Delete, data) => {
                *data = None;
                Ret::Deleted
            }
        };
        (next, ret)
    }
}

type History = Vec<Entry<Op, Ret>>;

/// Far more than any session history here needs (a few thousand states).
const BUDGET: usize = 200_000;

/// Every session starts as `{}`.
fn fresh() -> OneSession {
    OneSession(Some(BTreeMap::new()))
}

/// SplitMix64: the op mix needs no more, and it keeps seeds portable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn to_map(data: http_session::Data) -> BTreeMap<String, i64> {
    data.into_iter()
        .map(|(key, value)| {
            let n = value
                .as_i64()
                .unwrap_or_else(|| panic!("{key} holds {value}, not an integer"));
            (key, n)
        })
        .collect()
}

fn increment(data: &mut http_session::Data) -> i64 {
    let n = data.get("n").and_then(Value::as_i64).unwrap_or(0) + 1;
    data.insert("n".into(), n.into());
    n
}

/// Runs `threads` threads of `ops_per_thread` random operations on `sessions`
/// fresh sessions, all released together, and returns each session's history.
fn run_history<S: Store>(
    session: &Session<S>,
    seed: u64,
    threads: usize,
    sessions: usize,
    ops_per_thread: usize,
) -> Vec<History> {
    let ids: Vec<SessionId> = (0..sessions)
        .map(|_| session.create(json!({})).unwrap())
        .collect();
    let ticker = Ticker::default();
    let start = Barrier::new(threads);
    let recorded: Vec<Vec<(usize, Entry<Op, Ret>)>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|thread| {
                let (ids, ticker, start) = (&ids, &ticker, &start);
                scope.spawn(move || {
                    let mut rng = Rng(seed ^ (thread as u64).wrapping_mul(0xA24B_AED4_963E_E407));
                    let mut entries = Vec::with_capacity(ops_per_thread);
                    start.wait();
                    for i in 0..ops_per_thread {
                        let which = rng.below(ids.len() as u64) as usize;
                        let id = &ids[which];
                        let op = match rng.below(100) {
                            0..25 => Op::Get,
                            // Unique values, so a read tells which write it saw.
                            25..50 => Op::Update(
                                ["a", "n"][rng.below(2) as usize],
                                (thread * 1000 + i) as i64,
                            ),
                            50..85 => Op::Increment,
                            85..96 => Op::Touch,
                            _ => Op::Delete,
                        };
                        let call = ticker.tick();
                        let result = match &op {
                            Op::Get => Ret::Data(session.get(id).unwrap().map(to_map)),
                            Op::Update(key, value) => {
                                Ret::Updated(session.update(id, json!({ *key: value })).unwrap())
                            }
                            Op::Increment => {
                                Ret::Incremented(session.update_with(id, increment).unwrap())
                            }
                            Op::Touch => Ret::Touched(session.touch(id).unwrap()),
                            Op::Delete => {
                                session.delete(id, &mut Headers::new()).unwrap();
                                Ret::Deleted
                            }
                        };
                        let ret = ticker.tick();
                        let entry = Entry {
                            thread,
                            call,
                            ret,
                            op,
                            result,
                        };
                        entries.push((which, entry));
                    }
                    entries
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let mut histories = vec![History::new(); sessions];
    for (which, entry) in recorded.into_iter().flatten() {
        histories[which].push(entry);
    }
    histories
}

/// The run's base seed: `LINEARIZABILITY_SEED`, or a fresh one. It fixes
/// each thread's operations; the interleaving is still the scheduler's.
fn base_seed() -> u64 {
    match std::env::var("LINEARIZABILITY_SEED") {
        Ok(text) => text.parse().expect("LINEARIZABILITY_SEED must be a u64"),
        Err(_) => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            nanos as u64 ^ u64::from(std::process::id()).rotate_left(32)
        }
    }
}

/// Records `histories` histories on `store` (4 threads, 3 sessions, 30 ops a
/// thread) and checks every session's history. Fails on any violation, or if
/// more than a tenth of the checks run out of budget.
fn check_store<S: Store>(name: &str, store: S, histories: usize) {
    // A day of idle time: nothing expires during the test, so the model
    // needs no clock.
    let session = Session::builder()
        .store(store)
        .ttl(Duration::from_secs(24 * 60 * 60))
        .build()
        .unwrap();
    let base = base_seed();
    println!("{name}: LINEARIZABILITY_SEED={base}");
    let (mut checked, mut unknown) = (0, 0);
    let mut violations = Vec::new();
    for h in 0..histories {
        let seed = base.wrapping_add(h as u64);
        for (s, history) in run_history(&session, seed, 4, 3, 30)
            .into_iter()
            .enumerate()
        {
            checked += 1;
            match check(fresh(), &history, BUDGET) {
                Outcome::Linearizable => {}
                Outcome::Unknown { .. } => unknown += 1,
                Outcome::NotLinearizable(why) => violations.push((h, s, why, history)),
            }
        }
    }
    let runs_hit = violations
        .iter()
        .map(|(h, ..)| h)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    println!(
        "{name}: {} of {checked} session histories (in {runs_hit} of {histories} runs) \
         not linearizable, {unknown} unknown",
        violations.len()
    );
    if let Some((h, s, why, history)) = violations.first() {
        // One line a violation: the operations that fit nowhere.
        let mut list = String::new();
        for (h, s, why, _) in &violations {
            let stuck: Vec<_> = why
                .stuck
                .iter()
                .map(|(entry, model)| format!("{entry} (model: {model:?})"))
                .collect();
            list += &format!("  run {h}, session {s}: {}\n", stuck.join("; "));
        }
        panic!(
            "{name}: {} of {checked} session histories (in {runs_hit} of {histories} runs) \
             not linearizable; rerun with LINEARIZABILITY_SEED={base}\n{list}\
             First: run {h}, session {s}:\n{why}  whole session history:\n{}",
            violations.len(),
            render(history)
        );
    }
    assert!(
        unknown * 10 <= checked,
        "{name}: {unknown} of {checked} checks ran out of budget \
         (rerun with LINEARIZABILITY_SEED={base})"
    );
}

#[test]
fn memory_store_is_linearizable() {
    check_store("memory", MemoryStore::new(), 60);
}

#[test]
fn file_store_is_linearizable() {
    let dir = tempfile::tempdir().unwrap();
    check_store("file", FileStore::open(dir.path()).unwrap(), 20);
}

#[cfg(feature = "sqlite")]
#[test]
fn sqlite_store_is_linearizable() {
    let dir = tempfile::tempdir().unwrap();
    let store = http_session::SqliteStore::open(dir.path().join("sessions.db")).unwrap();
    check_store("sqlite", store, 30);
}

#[cfg(feature = "redis")]
#[test]
fn redis_store_is_linearizable() {
    let (store, _cleanup) = common::redis_server::shared_store();
    check_store("redis", store, 90);
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_store_is_linearizable() {
    let (store, _cleanup) = common::postgres_server::private_store();
    check_store("postgres", store, 40);
}

/// The checker on hand-made histories.
mod checker {
    use super::*;

    /// `(thread, call, ret, op, result)` rows.
    fn history(rows: &[(usize, u64, u64, Op, Ret)]) -> History {
        rows.iter()
            .map(|(thread, call, ret, op, result)| Entry {
                thread: *thread,
                call: *call,
                ret: *ret,
                op: op.clone(),
                result: result.clone(),
            })
            .collect()
    }

    fn data(pairs: &[(&str, i64)]) -> Ret {
        Ret::Data(Some(
            pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
        ))
    }

    fn verdict(rows: &[(usize, u64, u64, Op, Ret)]) -> Outcome<OneSession> {
        check(fresh(), &history(rows), BUDGET)
    }

    #[test]
    fn a_sequential_history_is_linearizable() {
        let outcome = verdict(&[
            (0, 0, 1, Op::Update("a", 1), Ret::Updated(true)),
            (1, 2, 3, Op::Get, data(&[("a", 1)])),
            (0, 4, 5, Op::Increment, Ret::Incremented(Some(1))),
            (1, 6, 7, Op::Touch, Ret::Touched(true)),
            (0, 8, 9, Op::Delete, Ret::Deleted),
            (1, 10, 11, Op::Get, Ret::Data(None)),
            (0, 12, 13, Op::Increment, Ret::Incremented(None)),
            (1, 14, 15, Op::Update("n", 5), Ret::Updated(false)),
            (0, 16, 17, Op::Touch, Ret::Touched(false)),
        ]);
        assert!(outcome.is_linearizable(), "{outcome:?}");
    }

    #[test]
    fn overlapping_operations_may_take_either_order() {
        // The read overlaps the write, so it may see the data before or after.
        for seen in [data(&[]), data(&[("a", 1)])] {
            let outcome = verdict(&[
                (0, 0, 3, Op::Update("a", 1), Ret::Updated(true)),
                (1, 1, 2, Op::Get, seen),
            ]);
            assert!(outcome.is_linearizable(), "{outcome:?}");
        }
        // Two overlapping increments: whichever ran second saw the first.
        let outcome = verdict(&[
            (0, 0, 10, Op::Increment, Ret::Incremented(Some(2))),
            (1, 1, 5, Op::Increment, Ret::Incremented(Some(1))),
            (2, 6, 7, Op::Get, data(&[("n", 1)])),
        ]);
        assert!(outcome.is_linearizable(), "{outcome:?}");
    }

    #[test]
    fn a_stale_read_after_a_completed_write_is_not() {
        let outcome = verdict(&[
            (0, 0, 1, Op::Update("a", 1), Ret::Updated(true)),
            (1, 2, 3, Op::Get, data(&[])),
        ]);
        let Outcome::NotLinearizable(why) = outcome else {
            panic!("{outcome:?}");
        };
        assert_eq!(why.prefix.len(), 1);
        assert_eq!(why.stuck.len(), 1);
        assert_eq!(why.stuck[0].0.op, Op::Get);
        assert_eq!(why.stuck[0].1, data(&[("a", 1)]));
        let text = why.to_string();
        assert!(text.contains("at most 1 of 2 operations"), "{text}");
        assert!(text.contains("thread 1 [2..3] Get"), "{text}");
    }

    /// Redis's optimistic update: thread 0's increment read `{}`, lost its
    /// compare-and-set to thread 1's increment, retried after the delete,
    /// found nothing, and still returned the first attempt's value.
    fn update_with_after_delete(result: Ret) -> Outcome<OneSession> {
        verdict(&[
            (0, 0, 9, Op::Increment, result),
            (1, 1, 2, Op::Increment, Ret::Incremented(Some(1))),
            (1, 3, 4, Op::Delete, Ret::Deleted),
            (2, 5, 6, Op::Get, Ret::Data(None)),
        ])
    }

    #[test]
    fn update_with_returning_a_value_after_a_concurrent_delete_is_not() {
        let outcome = update_with_after_delete(Ret::Incremented(Some(1)));
        let Outcome::NotLinearizable(why) = outcome else {
            panic!("{outcome:?}");
        };
        let text = why.to_string();
        assert!(text.contains("Increment -> Incremented(Some(1))"), "{text}");
        // What the fixed code returns is fine.
        assert!(update_with_after_delete(Ret::Incremented(None)).is_linearizable());
        assert!(update_with_after_delete(Ret::Incremented(Some(2))).is_linearizable());
    }

    #[test]
    fn a_tiny_budget_gives_unknown() {
        // Ten overlapping writes and a read no order explains: proving that
        // takes thousands of states (subsets of the writes times last writer).
        let mut rows = Vec::new();
        for t in 0..10 {
            let write = Op::Update("a", t as i64);
            rows.push((t, t as u64, 100, write, Ret::Updated(true)));
        }
        rows.push((10, 101, 102, Op::Get, data(&[("a", 99)])));
        let history = history(&rows);
        let outcome = check(fresh(), &history, 100);
        assert!(
            matches!(outcome, Outcome::Unknown { explored: 101 }),
            "{outcome:?}"
        );
        // With room enough, the same search decides.
        assert!(matches!(
            check(fresh(), &history, BUDGET),
            Outcome::NotLinearizable(_)
        ));
    }

    #[test]
    fn an_empty_history_is_linearizable() {
        assert!(check(fresh(), &[], 0).is_linearizable());
    }

    #[test]
    fn the_whole_history_renders_by_invocation() {
        let text = linearizability::render(&history(&[
            (1, 2, 3, Op::Get, data(&[])),
            (0, 0, 1, Op::Delete, Ret::Deleted),
        ]));
        assert_eq!(
            text,
            "    thread 0 [0..1] Delete -> Deleted\n    thread 1 [2..3] Get -> Data(Some({}))\n"
        );
    }
}

//! `MemoryStore::take` removes and returns under one shard lock: of several
//! threads taking one session at the same instant, exactly one gets it. A
//! get-then-delete take would hand the record to two racing regenerations
//! (two live copies of one login). On a store this fast the race window is
//! tiny, so this adds many more rounds than the conformance suite's 50; the
//! detection stays probabilistic (see SECURITY.md, "Mutation check").

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, SystemTime};

use http_session::{MemoryStore, Record, SessionId, Store};
use serde_json::json;

#[test]
fn racing_takes_of_one_memory_session_give_it_to_exactly_one() {
    const THREADS: usize = 4;
    const ROUNDS: usize = 2_000;
    let store = MemoryStore::new();
    let ids: Vec<SessionId> = (0..ROUNDS).map(|_| SessionId::generate()).collect();
    for (round, id) in ids.iter().enumerate() {
        let data = json!({ "round": round }).as_object().unwrap().clone();
        let record = Record::expiring(data, SystemTime::now() + Duration::from_secs(600));
        store.set(id, record).unwrap();
    }
    let winners: Vec<AtomicUsize> = (0..ROUNDS).map(|_| AtomicUsize::new(0)).collect();
    let barrier = Barrier::new(THREADS);
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for (round, id) in ids.iter().enumerate() {
                    barrier.wait();
                    if let Some(record) = store.take(id).unwrap() {
                        assert_eq!(record.data["round"], round);
                        winners[round].fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
        }
    });
    let shared: Vec<usize> = (0..ROUNDS)
        .filter(|&round| winners[round].load(Ordering::SeqCst) != 1)
        .collect();
    assert!(
        shared.is_empty(),
        "{} of {ROUNDS} rounds did not have exactly one winner (first: {:?})",
        shared.len(),
        shared.first()
    );
    assert!(store.is_empty());
}

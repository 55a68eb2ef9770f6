//! Counters through the per-request handle lose nothing: `update(key, f)` is
//! replayed on the stored value at commit, where `insert` is last-write-wins.

use std::sync::{Arc, Barrier};
use std::thread;

use http_session::{CommitOutcome, Error, FileStore, Headers, Session, Store};
use serde_json::json;

/// `threads` × `each` requests at once on one session, each counting a visit.
fn count_in_parallel<S: Store + 'static>(session: Arc<Session<S>>, threads: usize, each: u64) {
    let id = session.create(json!({"visits": 0})).unwrap();
    let request = Headers::new().with("Cookie", &format!("session_id={id}"));
    let start = Arc::new(Barrier::new(threads));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (session, start, request) =
                (Arc::clone(&session), Arc::clone(&start), request.clone());
            thread::spawn(move || {
                start.wait();
                for _ in 0..each {
                    let mut handle = session.handle(&request);
                    let shown = handle
                        .update("visits", |n: Option<u64>| n.unwrap_or(0) + 1)
                        .unwrap();
                    assert!(shown >= 1);
                    assert_eq!(
                        handle.commit(&mut Headers::new()).unwrap(),
                        CommitOutcome::Saved
                    );
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let visits = session.get(&id).unwrap().unwrap()["visits"].clone();
    assert_eq!(visits, json!(threads as u64 * each));
}

#[test]
fn parallel_counting_through_the_handle_loses_no_increment() {
    count_in_parallel(Arc::new(Session::new()), 8, 200);
    let dir = tempfile::tempdir().unwrap();
    let files = Session::with_store(FileStore::open(dir.path().join("s")).unwrap());
    count_in_parallel(Arc::new(files), 8, 25);
}

#[test]
fn update_starts_a_session_and_shows_the_new_value_at_once() {
    let session = Session::new();
    let mut handle = session.handle(&Headers::new());
    assert_eq!(
        handle
            .update("n", |n: Option<i64>| n.unwrap_or(10) * 2)
            .unwrap(),
        20
    );
    assert_eq!(
        handle
            .update("n", |n: Option<i64>| n.unwrap_or(10) * 2)
            .unwrap(),
        40
    );
    assert_eq!(handle.get::<i64>("n").unwrap(), Some(40));
    let mut res = Headers::new();
    assert_eq!(handle.commit(&mut res).unwrap(), CommitOutcome::Created);
    let cookie = res
        .get("Set-Cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let data = session
        .from_request(&Headers::new().with("Cookie", &cookie))
        .unwrap();
    assert_eq!(data.unwrap()["n"], 40);
}

#[test]
fn a_value_of_another_type_at_commit_fails_the_commit_and_stores_nothing() {
    let session = Session::new();
    let id = session.create(json!({"n": 1, "other": "kept"})).unwrap();
    let request = Headers::new().with("Cookie", &format!("session_id={id}"));
    let mut handle = session.handle(&request);
    assert_eq!(
        handle
            .update("n", |n: Option<u64>| n.unwrap_or(0) + 1)
            .unwrap(),
        2
    );
    handle.insert("other", "changed").unwrap();
    // Another request stores a string under the key meanwhile.
    session.update(&id, json!({"n": "not a number"})).unwrap();
    let err = handle.commit(&mut Headers::new()).unwrap_err();
    assert!(matches!(err, Error::Deserialize { .. }), "{err:?}");
    let stored = session.get(&id).unwrap().unwrap();
    assert_eq!(stored["n"], "not a number");
    assert_eq!(
        stored["other"], "kept",
        "nothing of the failed commit stored"
    );

    // A value of another type now is an error now, and changes nothing.
    let mut handle = session.handle(&request);
    assert!(handle
        .update("n", |n: Option<u64>| n.unwrap_or(0) + 1)
        .is_err());
    assert_eq!(
        handle.commit(&mut Headers::new()).unwrap(),
        CommitOutcome::Unchanged
    );
}

#[test]
fn insert_is_last_write_wins() {
    let session = Session::new();
    let id = session.create(json!({"n": 1})).unwrap();
    let request = Headers::new().with("Cookie", &format!("session_id={id}"));
    let (mut a, mut b) = (session.handle(&request), session.handle(&request));
    let n_a = a.get::<u64>("n").unwrap().unwrap() + 1;
    let n_b = b.get::<u64>("n").unwrap().unwrap() + 1;
    a.insert("n", n_a).unwrap();
    b.insert("n", n_b).unwrap();
    a.commit(&mut Headers::new()).unwrap();
    b.commit(&mut Headers::new()).unwrap();
    // Documented: one increment lost. `update` is the tool for counters.
    assert_eq!(session.get(&id).unwrap().unwrap()["n"], 2);
}

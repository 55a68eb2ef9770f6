//! `Session::update_with`: an atomic read-modify-write of a session's data.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http_session::{Error, ManualClock, Session};
use serde_json::{json, Value};

fn increment(data: &mut http_session::Data) -> u64 {
    let n = data.get("n").and_then(Value::as_u64).unwrap_or(0) + 1;
    data.insert("n".into(), n.into());
    n
}

#[test]
fn concurrent_increments_lose_nothing() {
    let session = Arc::new(Session::new());
    let id = session.create(json!({"n": 0})).unwrap();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (session, id) = (session.clone(), id.clone());
            std::thread::spawn(move || {
                for _ in 0..500 {
                    session.update_with(&id, increment).unwrap().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(session.get(&id).unwrap().unwrap()["n"], 4000);
}

#[test]
fn too_large_a_change_leaves_the_data_as_it_was() {
    let session = Session::builder().max_data_size(64).build().unwrap();
    let id = session.create(json!({"user": "ana", "n": 1})).unwrap();
    let result = session.update_with(&id, |data| {
        data.insert("n".into(), 2.into());
        data.insert("blob".into(), "x".repeat(100).into());
        data.remove("user");
    });
    match result {
        Err(Error::DataTooLarge { size, limit: 64 }) => assert!(size > 64),
        other => panic!("expected DataTooLarge, got {other:?}"),
    }
    assert_eq!(
        session.get(&id).unwrap().unwrap(),
        *json!({"user": "ana", "n": 1}).as_object().unwrap()
    );
    // The session still works afterwards.
    assert_eq!(session.update_with(&id, increment).unwrap(), Some(2));
}

#[test]
fn unknown_and_expired_sessions_are_none() {
    let clock = ManualClock::new(SystemTime::now());
    let session = Session::builder()
        .ttl(Duration::from_secs(60))
        .clock(clock.clock())
        .build()
        .unwrap();
    let unknown = http_session::SessionId::generate();
    let mut called = false;
    assert_eq!(
        session.update_with(&unknown, |_| called = true).unwrap(),
        None
    );
    assert!(
        !called,
        "the closure never sees a session that is not there"
    );

    let id = session.create(json!({"n": 1})).unwrap();
    clock.advance(Duration::from_secs(61));
    assert_eq!(session.update_with(&id, increment).unwrap(), None);
    assert_eq!(session.store().len(), 0, "the expired session was removed");
}

#[test]
fn update_with_rolls_the_idle_timeout() {
    let clock = ManualClock::new(SystemTime::now());
    let session = Session::builder()
        .ttl(Duration::from_secs(60))
        .clock(clock.clock())
        .build()
        .unwrap();
    let id = session.create(json!({"n": 1})).unwrap();
    for _ in 0..5 {
        clock.advance(Duration::from_secs(50));
        assert!(session.update_with(&id, increment).unwrap().is_some());
    }
    assert_eq!(session.get(&id).unwrap().unwrap()["n"], 6);
}

#[test]
fn a_nested_call_on_another_session_works() {
    // A closure that itself updates another session (on a store other than the
    // memory one this would not deadlock) must not trip the reused buffers.
    let outer = Session::new();
    let inner = Session::new();
    let a = outer.create(json!({"n": 1})).unwrap();
    let b = inner.create(json!({"n": 10})).unwrap();
    let got = outer
        .update_with(&a, |data| {
            let nested = inner.update_with(&b, increment).unwrap();
            increment(data) + nested.unwrap()
        })
        .unwrap();
    assert_eq!(got, Some(2 + 11));
    assert_eq!(inner.get(&b).unwrap().unwrap()["n"], 11);
}

#[test]
fn sessions_of_different_shapes_updated_in_turn_stay_exact() {
    // MemoryStore decodes into the record it used last on this thread; sessions
    // with other keys, escapes, floats and nesting must come back exactly.
    let session = Session::new();
    let shapes = [
        json!({"n": 0, "role": "admin", "user_id": "123"}),
        json!({"n": 0, "quote\"key": "tab\there", "nested": {"a": [1, 2.5, null]}}),
        json!({"n": 0}),
        json!({"n": 0, "role": "ünïcode ✓", "neg": -7, "big": u64::MAX}),
    ];
    let ids: Vec<_> = shapes
        .iter()
        .map(|shape| session.create(shape.clone()).unwrap())
        .collect();
    for round in 1..=5u64 {
        for (id, shape) in ids.iter().zip(&shapes) {
            assert_eq!(session.update_with(id, increment).unwrap(), Some(round));
            let mut expected = shape.as_object().unwrap().clone();
            expected.insert("n".into(), round.into());
            assert_eq!(session.get(id).unwrap().unwrap(), expected);
        }
    }
}

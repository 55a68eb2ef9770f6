//! Security properties of the core: IDs, fixation, regeneration, expiry,
//! concurrency and panics.

mod common;

use std::sync::Arc;
use std::thread;
use std::time::{Duration, SystemTime};

use common::{cookie_pair, CountingStore, MapStore};
use http_session::{Error, Headers, ManualClock, MemoryStore, Session, SessionId, Store};
use serde_json::json;

#[test]
fn malformed_ids_never_reach_the_store() {
    let session = Session::with_store(CountingStore::new(MemoryStore::new()));
    let good = SessionId::generate().to_string();
    let malformed = [
        String::new(),
        "1".into(),
        good[..42].to_owned(),
        format!("{good}x"),
        good.replace(&good[..1], "+"),
        "../../etc/passwd".into(),
        "x".repeat(4096),
        format!("{}é", &good[..41]),
        "*".into(),
        "session:other-tenant".into(),
    ];
    for value in &malformed {
        let req = Headers::new().with("Cookie", &format!("session_id={value}"));
        assert_eq!(session.from_request(&req).unwrap(), None, "{value:?}");
        assert_eq!(session.id_from_request(&req), None, "{value:?}");
    }
    assert_eq!(session.store().gets(), 0);
    assert_eq!(session.store().writes(), 0);
}

#[test]
fn unknown_ids_are_never_adopted() {
    let session = Session::new();
    let planted = SessionId::generate();
    let req = Headers::new().with("Cookie", &format!("session_id={planted}"));
    assert_eq!(session.from_request(&req).unwrap(), None);
    // Updating or touching an unknown ID does not create it.
    assert!(!session.update(&planted, json!({"user": "victim"})).unwrap());
    assert!(!session.touch(&planted).unwrap());
    assert_eq!(session.get(&planted).unwrap(), None);
    assert_eq!(session.store().len(), 0);
    // Logging in creates a fresh ID, never the planted one.
    let fresh = session.create(json!({"user": "victim"})).unwrap();
    assert_ne!(fresh, planted);
    let mut res = Headers::new();
    assert_eq!(session.regenerate(&planted, &mut res).unwrap(), None);
    assert!(res.is_empty());
}

#[test]
fn regenerate_kills_the_old_id() {
    let session = Session::new();
    let old = session
        .create(json!({"user": "ana", "cart": [1, 2]}))
        .unwrap();
    let mut res = Headers::new();
    let new = session.regenerate(&old, &mut res).unwrap().unwrap();
    assert_ne!(new, old);
    assert_eq!(session.get(&old).unwrap(), None);
    assert!(!session.update(&old, json!({"x": 1})).unwrap());
    assert_eq!(
        session.get(&new).unwrap().unwrap(),
        *json!({"user": "ana", "cart": [1, 2]}).as_object().unwrap()
    );
    let header = res.get("Set-Cookie").unwrap();
    assert_eq!(cookie_pair(header), format!("session_id={new}"));
    // Replaying the old cookie finds nothing.
    let replay = Headers::new().with("Cookie", &format!("session_id={old}"));
    assert_eq!(session.from_request(&replay).unwrap(), None);
}

#[test]
fn ids_are_distinct_and_well_formed() {
    let ids: std::collections::HashSet<String> = (0..10_000)
        .map(|_| SessionId::generate().to_string())
        .collect();
    assert_eq!(ids.len(), 10_000);
    for id in &ids {
        assert_eq!(id.len(), 43);
        assert_eq!(id.parse::<SessionId>().unwrap().as_str(), id);
    }
}

#[test]
fn ids_never_appear_in_debug_or_errors() {
    let session = Session::new();
    let id = session.create(json!({"n": 1})).unwrap();
    assert!(!format!("{id:?}").contains(id.as_str()));
    assert!(!format!("{session:?}").contains(id.as_str()));
    let err = session
        .update(&id, json!({"big": "x".repeat(70_000)}))
        .unwrap_err();
    assert!(!err.to_string().contains(id.as_str()));
    assert!(!format!("{err:?}").contains(id.as_str()));
}

#[test]
fn expired_sessions_stay_dead() {
    let time = ManualClock::new(SystemTime::now());
    let session = Session::builder()
        .ttl(Duration::from_secs(60))
        .clock(time.clock())
        .store(MemoryStore::builder().clock(time.clock()).build())
        .build()
        .unwrap();
    let id = session.create(json!({"user": "ana"})).unwrap();
    time.advance(Duration::from_secs(61));
    assert_eq!(session.get(&id).unwrap(), None);
    assert!(!session.update(&id, json!({"n": 1})).unwrap());
    assert!(!session.touch(&id).unwrap());
    let mut res = Headers::new();
    assert_eq!(session.regenerate(&id, &mut res).unwrap(), None);
    // Even with the clock turned back, the record is gone.
    time.set(time.now() - Duration::from_secs(120));
    assert_eq!(session.get(&id).unwrap(), None);
}

#[test]
fn a_store_that_forgets_expiry_never_revives_a_session() {
    let time = ManualClock::new(SystemTime::now());
    let session = Session::builder()
        .store(MapStore::default())
        .ttl(Duration::from_secs(60))
        .clock(time.clock())
        .build()
        .unwrap();
    let id = session.create(json!({"user": "ana"})).unwrap();
    time.advance(Duration::from_secs(61));
    let req = Headers::new().with("Cookie", &format!("session_id={id}"));
    assert_eq!(session.from_request(&req).unwrap(), None);
    assert!(!session.update(&id, json!({"n": 1})).unwrap());
    assert!(!session.touch(&id).unwrap());
    // The session also cleaned the dead record out of the forgetful store.
    assert!(session.store().0.lock().unwrap().is_empty());
}

#[test]
fn concurrent_updates_lose_nothing() {
    let session = Arc::new(Session::new());
    let id = session.create(json!({})).unwrap();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let session = Arc::clone(&session);
            let id = id.clone();
            thread::spawn(move || {
                for i in 0..250 {
                    assert!(session
                        .update(&id, json!({format!("t{t}-{i}"): i}))
                        .unwrap());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let data = session.get(&id).unwrap().unwrap();
    assert_eq!(data.len(), 8 * 250);
    for t in 0..8 {
        for i in 0..250 {
            assert_eq!(data[&format!("t{t}-{i}")], i);
        }
    }
}

#[test]
fn a_panic_while_holding_a_shard_lock_does_not_break_the_store() {
    let session = Arc::new(Session::new());
    let id = session.create(json!({"n": 1})).unwrap();
    let s = Arc::clone(&session);
    let victim = id.clone();
    let result = thread::spawn(move || {
        let _ = s.store().update(&victim, &mut |record| {
            record.data.insert("half".into(), json!("done"));
            panic!("handler bug");
        });
    })
    .join();
    assert!(result.is_err(), "the closure panicked");
    // The record is as it was, and every operation still works.
    assert_eq!(
        session.get(&id).unwrap().unwrap(),
        *json!({"n": 1}).as_object().unwrap()
    );
    assert!(session.update(&id, json!({"n": 2})).unwrap());
    assert_eq!(session.get(&id).unwrap().unwrap()["n"], 2);
    let other = session.create(json!({"m": 1})).unwrap();
    assert!(session.get(&other).unwrap().is_some());
}

#[test]
fn a_panicking_serialize_changes_nothing() {
    struct Explodes;
    impl serde::Serialize for Explodes {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            panic!("user Serialize impl bug")
        }
    }
    let session = Arc::new(Session::new());
    let id = session.create(json!({"n": 1})).unwrap();
    let s = Arc::clone(&session);
    let target = id.clone();
    assert!(thread::spawn(move || s.update(&target, Explodes))
        .join()
        .is_err());
    assert_eq!(session.get(&id).unwrap().unwrap()["n"], 1);
    assert!(session.update(&id, json!({"n": 2})).unwrap());
}

#[test]
fn non_object_data_is_refused_and_nothing_is_stored() {
    let session = Session::new();
    for (data, kind) in [
        (json!(null), "null"),
        (json!(1), "a number"),
        (json!("s"), "a string"),
        (json!([1]), "an array"),
        (json!(true), "a boolean"),
    ] {
        match session.create(&data) {
            Err(Error::NotAnObject { found }) => assert_eq!(found, kind),
            other => panic!("{data} gave {other:?}"),
        }
    }
    assert_eq!(session.store().len(), 0);
    let id = session.create(json!({"keep": true})).unwrap();
    assert!(matches!(
        session.update(&id, json!([1, 2])),
        Err(Error::NotAnObject { .. })
    ));
    assert_eq!(
        session.get(&id).unwrap().unwrap(),
        *json!({"keep": true}).as_object().unwrap()
    );
}

#[test]
fn oversized_data_is_refused_and_nothing_is_lost() {
    let session = Session::builder().max_data_size(100).build().unwrap();
    let err = session.create(json!({"x": "y".repeat(200)})).unwrap_err();
    assert!(
        matches!(err, Error::DataTooLarge { limit: 100, .. }),
        "{err}"
    );
    assert_eq!(session.store().len(), 0);

    let id = session.create(json!({"a": "b".repeat(40)})).unwrap();
    let err = session
        .update(&id, json!({"a": "short", "c": "d".repeat(90)}))
        .unwrap_err();
    assert!(matches!(err, Error::DataTooLarge { .. }));
    assert_eq!(
        session.get(&id).unwrap().unwrap(),
        *json!({"a": "b".repeat(40)}).as_object().unwrap(),
        "a refused merge leaves every key as it was"
    );
    assert!(session.update(&id, json!({"c": "small"})).unwrap());
}

#[test]
fn delete_on_a_failing_store_sets_no_cookie() {
    struct Down;
    impl Store for Down {
        fn get(&self, _: &SessionId) -> Result<Option<http_session::Record>, Error> {
            Err(Error::store("reading", std::io::Error::other("down")))
        }
        fn set(&self, _: &SessionId, _: http_session::Record) -> Result<(), Error> {
            Err(Error::store("writing", std::io::Error::other("down")))
        }
        fn delete(&self, _: &SessionId) -> Result<(), Error> {
            Err(Error::store("deleting", std::io::Error::other("down")))
        }
    }
    let session = Session::with_store(Down);
    let id = SessionId::generate();
    let mut res = Headers::new();
    assert!(matches!(
        session.delete(&id, &mut res),
        Err(Error::Store { .. })
    ));
    assert!(matches!(
        session.regenerate(&id, &mut res),
        Err(Error::Store { .. })
    ));
    assert!(matches!(
        session.create(json!({})),
        Err(Error::Store { .. })
    ));
    assert!(res.is_empty());
    let req = Headers::new().with("Cookie", &format!("session_id={id}"));
    assert!(session.from_request(&req).is_err());
}

//! Regeneration (login, privilege change), by ID and through the handle: the
//! session moves to a fresh ID, the old one is worthless, nothing is ever
//! written under it, it never forks, a concurrent logout is not undone, and
//! it keeps its absolute deadline; a store failure after the old record is
//! taken ends the session (`fails_closed`).

#[path = "../common/mod.rs"]
mod common;

mod fails_closed;

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, SystemTime};

use common::cookie_pair;
use common::write_log::WriteLog;
use http_session::{
    CommitOutcome, Error, FileStore, Headers, ManualClock, MemoryStore, Session, SessionId, Store,
};
use serde_json::json;

const MIN: Duration = Duration::from_secs(60);

fn request_for(id: &SessionId) -> Headers {
    Headers::new().with("Cookie", &format!("session_id={id}"))
}

fn set_cookies(res: &Headers) -> Vec<&str> {
    res.get_all("Set-Cookie").collect()
}

/// The planted-ID attack: the changes of a login (the user's ID) must never
/// reach the old ID, not even for an instant, or a request carrying the
/// planted ID between two writes is served as the victim.
#[test]
fn a_login_writes_nothing_under_the_old_id() {
    let session = Session::with_store(WriteLog::new(MemoryStore::new()));
    let planted = session.create(json!({"cart": [1]})).unwrap();

    let request = request_for(&planted);
    let mut handle = session.handle(&request);
    handle.insert("user", "ana").unwrap();
    handle.regenerate().unwrap();
    let mut res = Headers::new();
    assert_eq!(handle.commit(&mut res).unwrap(), CommitOutcome::Regenerated);

    // Created once, then only taken out: never updated, set or re-created.
    assert_eq!(session.store().writes_to(&planted), ["create", "take"]);
    assert_eq!(session.from_request(&request).unwrap(), None);
    let cookie = common::cookie_pair(res.get("Set-Cookie").unwrap()).to_owned();
    let data = session
        .from_request(&Headers::new().with("Cookie", &cookie))
        .unwrap()
        .unwrap();
    assert_eq!(data["user"], "ana");
    assert_eq!(data["cart"][0], 1);

    // The ID-based call takes the same path.
    let id = session.create(json!({})).unwrap();
    session
        .regenerate(&id, &mut Headers::new())
        .unwrap()
        .unwrap();
    assert_eq!(session.store().writes_to(&id), ["create", "take"]);
}

/// While a login runs, a request with the planted ID is served either the
/// anonymous session (before) or nothing (after): never the logged-in user.
#[test]
fn a_request_racing_a_login_is_never_served_as_the_user() {
    for round in 0..200 {
        let session = Arc::new(Session::new());
        let planted = session.create(json!({"visitor": true})).unwrap();
        let start = Arc::new(Barrier::new(2));
        let login = {
            let (session, start, planted) =
                (Arc::clone(&session), Arc::clone(&start), planted.clone());
            thread::spawn(move || {
                let request = request_for(&planted);
                let mut handle = session.handle(&request);
                handle.insert("user", "victim").unwrap();
                handle.regenerate().unwrap();
                start.wait();
                handle.commit(&mut Headers::new()).unwrap()
            })
        };
        start.wait();
        for _ in 0..20 {
            if let Some(data) = session.from_request(&request_for(&planted)).unwrap() {
                assert!(
                    data.get("user").is_none(),
                    "round {round}: served as the user"
                );
            }
        }
        assert_eq!(login.join().unwrap(), CommitOutcome::Regenerated);
    }
}

fn two_regenerations_at_once<S: Store + 'static>(session: Arc<Session<S>>, rounds: usize) {
    for round in 0..rounds {
        let id = session.create(json!({"user": "ana"})).unwrap();
        let start = Arc::new(Barrier::new(2));
        let racers: Vec<_> = (0..2)
            .map(|_| {
                let (session, start, id) = (Arc::clone(&session), Arc::clone(&start), id.clone());
                thread::spawn(move || {
                    start.wait();
                    session.regenerate(&id, &mut Headers::new()).unwrap()
                })
            })
            .collect();
        let won: Vec<SessionId> = racers
            .into_iter()
            .filter_map(|racer| racer.join().unwrap())
            .collect();
        assert_eq!(won.len(), 1, "round {round}: {} got the session", won.len());
        assert_eq!(session.get(&id).unwrap(), None);
        assert_eq!(session.get(&won[0]).unwrap().unwrap()["user"], "ana");
    }
}

#[test]
fn of_two_concurrent_regenerations_exactly_one_gets_the_session() {
    two_regenerations_at_once(Arc::new(Session::new()), 300);
    let dir = tempfile::tempdir().unwrap();
    let files = Session::with_store(FileStore::open(dir.path().join("s")).unwrap());
    two_regenerations_at_once(Arc::new(files), 50);
}

/// ASVS 7.3.2: regenerating every 9 minutes must not keep a session with a
/// one-hour cap alive past the hour.
#[test]
fn regeneration_keeps_the_absolute_deadline() {
    let clock = ManualClock::new(SystemTime::now());
    let session = Session::builder()
        .store(MemoryStore::builder().clock(clock.clock()).build())
        .clock(clock.clock())
        .ttl(30 * MIN)
        .absolute_lifetime(60 * MIN)
        .build()
        .unwrap();
    let mut id = session.create(json!({"user": "ana"})).unwrap();
    let mut alive_for = Duration::ZERO;
    loop {
        clock.advance(9 * MIN);
        let mut res = Headers::new();
        match session.regenerate(&id, &mut res).unwrap() {
            Some(new_id) => {
                alive_for += 9 * MIN;
                id = new_id;
                // The cookie never outlives the deadline either.
                let header = res.get("Set-Cookie").unwrap();
                assert!(header.contains("; Max-Age="), "{header}");
            }
            None => break,
        }
        assert!(
            alive_for < 24 * 60 * MIN,
            "regeneration kept it alive a day"
        );
    }
    assert_eq!(alive_for, 54 * MIN, "the last regeneration before the hour");
    assert_eq!(session.get(&id).unwrap(), None);

    // Through the handle too.
    let id = session.create(json!({"user": "bo"})).unwrap();
    clock.advance(25 * MIN);
    let request = request_for(&id);
    let mut handle = session.handle(&request);
    handle.regenerate().unwrap();
    let mut res = Headers::new();
    assert_eq!(handle.commit(&mut res).unwrap(), CommitOutcome::Regenerated);
    let cookie = common::cookie_pair(res.get("Set-Cookie").unwrap()).to_owned();
    let request = Headers::new().with("Cookie", &cookie);
    clock.advance(25 * MIN);
    assert!(session.from_request(&request).unwrap().is_some());
    clock.advance(11 * MIN); // 61 minutes after creation
    assert_eq!(session.from_request(&request).unwrap(), None);
}

/// A regeneration whose changes are refused (too large) puts the session
/// back as it was: the request's error does not log the user out.
#[test]
fn a_refused_regeneration_leaves_the_session_as_it_was() {
    let session = Session::builder().max_data_size(100).build().unwrap();
    let id = session.create(json!({"user": "ana"})).unwrap();
    let request = request_for(&id);
    let mut handle = session.handle(&request);
    handle.insert("note", "x".repeat(60)).unwrap();
    handle.regenerate().unwrap();
    let stored = session.get(&id).unwrap().unwrap();
    // Another request grows the stored session meanwhile: the replay is too large.
    session
        .update(&id, json!({"other": "y".repeat(40)}))
        .unwrap();
    let err = handle.commit(&mut Headers::new()).unwrap_err();
    assert!(matches!(err, Error::DataTooLarge { .. }), "{err:?}");
    let now = session.get(&id).unwrap().unwrap();
    assert_eq!(now["user"], stored["user"]);
    assert!(now.get("note").is_none());
    assert_eq!(session.store().len(), 1);
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
fn a_regenerate_after_a_concurrent_logout_does_not_bring_the_session_back() {
    let session = Session::new();
    let id = session.create(json!({"user": "ana"})).unwrap();
    let mut handle = session.handle(&request_for(&id));
    handle.insert("role", "admin").unwrap();
    handle.regenerate().unwrap();
    session.delete(&id, &mut Headers::new()).unwrap();
    let mut res = Headers::new();
    assert_eq!(handle.commit(&mut res).unwrap(), CommitOutcome::Gone);
    assert!(session.store().is_empty());
    assert!(res.is_empty());
}

#[test]
fn regenerate_moves_the_data_and_the_changes_to_a_fresh_id() {
    let session = Session::new();
    let id = session.create(json!({"user": "ana"})).unwrap();
    let mut handle = session.handle(&request_for(&id));
    handle.insert("role", "admin").unwrap();
    handle.regenerate().unwrap();
    let mut res = Headers::new();
    assert_eq!(handle.commit(&mut res).unwrap(), CommitOutcome::Regenerated);

    assert_eq!(session.get(&id).unwrap(), None, "the old ID is worthless");
    let cookies = set_cookies(&res);
    assert_eq!(cookies.len(), 1);
    let fresh = Headers::new().with("Cookie", cookie_pair(cookies[0]));
    assert_eq!(
        session.from_request(&fresh).unwrap().unwrap(),
        *json!({"user": "ana", "role": "admin"}).as_object().unwrap()
    );
    assert_eq!(session.store().len(), 1);
}

#[test]
fn regenerate_without_changes_moves_the_session() {
    let session = Session::new();
    let id = session.create(json!({"user": "ana"})).unwrap();
    let mut handle = session.handle(&request_for(&id));
    handle.regenerate().unwrap();
    let mut res = Headers::new();
    assert_eq!(handle.commit(&mut res).unwrap(), CommitOutcome::Regenerated);
    assert_eq!(session.get(&id).unwrap(), None);
    assert_eq!(session.store().len(), 1);
    assert_eq!(set_cookies(&res).len(), 1);
}

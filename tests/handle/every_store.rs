//! The per-request handle's life cycle on every store of the crate: memory,
//! files, and (with `--features redis`) the real redis-server on 127.0.0.1:6379,
//! whose update may run the handle's closure more than once.

use crate::common;

use std::sync::Arc;

use common::suite::Fixture;
use common::{cookie_pair, CountingStore};
use http_session::{Clock, CommitOutcome, Headers, Session};

fn life_cycle(make: fn(Clock) -> Fixture) {
    let fixture = make(Clock::system());
    let store = Arc::new(CountingStore::new(Arc::clone(&fixture.store)));
    let session = Session::with_store(Arc::clone(&store));
    let commit = |handle: http_session::SessionHandle<'_, _>| {
        let mut res = Headers::new();
        let outcome = handle.commit(&mut res).unwrap();
        (outcome, res)
    };

    // A visitor who only reads: nothing stored, no cookie.
    let handle = session.handle(&Headers::new());
    assert_eq!(handle.get::<String>("user").unwrap(), None);
    let (outcome, res) = commit(handle);
    assert_eq!(
        (outcome, res.len(), store.writes()),
        (CommitOutcome::Unchanged, 0, 0)
    );

    // Log in: one create, one cookie.
    let mut handle = session.handle(&Headers::new());
    handle.insert("user", "ana").unwrap();
    let (outcome, res) = commit(handle);
    assert_eq!((outcome, store.writes()), (CommitOutcome::Created, 1));
    let request = Headers::new().with("Cookie", cookie_pair(res.get("Set-Cookie").unwrap()));
    let id = session.id_from_request(&request).unwrap();

    // Read it back: no write, no cookie.
    let handle = session.handle(&request);
    assert_eq!(
        handle.get::<String>("user").unwrap().as_deref(),
        Some("ana")
    );
    let (outcome, res) = commit(handle);
    assert_eq!(
        (outcome, res.len(), store.writes()),
        (CommitOutcome::Unchanged, 0, 1)
    );

    // A change: exactly one write (one Store::update), the rolled cookie.
    let mut handle = session.handle(&request);
    handle.insert("visits", 1).unwrap();
    let (outcome, res) = commit(handle);
    assert_eq!((outcome, store.writes()), (CommitOutcome::Saved, 2));
    assert_eq!(res.get_all("Set-Cookie").count(), 1);
    assert_eq!(session.get(&id).unwrap().unwrap()["visits"], 1);

    // Handles on eight threads, each adding a key: none lost.
    std::thread::scope(|scope| {
        for t in 0..8 {
            let (session, request) = (&session, &request);
            scope.spawn(move || {
                let mut handle = session.handle(request);
                handle.insert(&format!("t{t}"), t).unwrap();
                assert_eq!(
                    handle.commit(&mut Headers::new()).unwrap(),
                    CommitOutcome::Saved
                );
            });
        }
    });
    assert_eq!(session.get(&id).unwrap().unwrap().len(), 2 + 8);

    // A logout in another tab while this request runs: the commit does not
    // bring the session back.
    let mut handle = session.handle(&request);
    handle.insert("visits", 2).unwrap();
    session.delete(&id, &mut Headers::new()).unwrap();
    let (outcome, res) = commit(handle);
    assert_eq!((outcome, res.len()), (CommitOutcome::Gone, 0));
    assert_eq!(session.get(&id).unwrap(), None);

    // Log in again, regenerate, then destroy.
    let mut handle = session.handle(&request);
    handle.insert("user", "bob").unwrap();
    let (_, res) = commit(handle);
    let request = Headers::new().with("Cookie", cookie_pair(res.get("Set-Cookie").unwrap()));
    let old = session.id_from_request(&request).unwrap();
    let mut handle = session.handle(&request);
    handle.regenerate().unwrap();
    let (outcome, res) = commit(handle);
    assert_eq!(outcome, CommitOutcome::Regenerated);
    assert_eq!(session.get(&old).unwrap(), None);
    let request = Headers::new().with("Cookie", cookie_pair(res.get("Set-Cookie").unwrap()));
    let mut handle = session.handle(&request);
    handle.destroy().unwrap();
    let (outcome, res) = commit(handle);
    assert_eq!(outcome, CommitOutcome::Destroyed);
    assert!(res.get("Set-Cookie").unwrap().contains("Max-Age=0"));
    assert_eq!(session.from_request(&request).unwrap(), None);
}

#[test]
fn memory_store() {
    life_cycle(common::stores::memory);
}

#[test]
fn file_store() {
    life_cycle(common::stores::file);
}

#[cfg(feature = "redis")]
#[test]
fn redis_store() {
    life_cycle(common::stores::redis);
}

//! Session IDs: only well-formed IDs the server generated are used (no
//! fixation), they come from `Cookie` headers only, they are distinct and
//! never overwrite a session, and they stay out of `Debug` output and errors.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::CountingStore;
use http_session::{Error, Headers, MemoryStore, Record, Session, SessionId, Store};
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

/// The ID is read from `Cookie` headers only: never from a URL, a query string
/// or another header, which would leak it into logs and Referer headers and
/// allow fixation by link.
#[test]
fn the_session_id_is_read_from_cookie_headers_only() {
    let session = Session::new();
    let id = session.create(json!({"user": "ana"})).unwrap();
    for (name, value) in [
        ("X-Session-Id", id.to_string()),
        ("Authorization", format!("Bearer {id}")),
        ("Referer", format!("https://example.com/?session_id={id}")),
        (":path", format!("/account?session_id={id}")),
        ("Set-Cookie", format!("session_id={id}")),
        ("Cookie2", format!("session_id={id}")),
    ] {
        let req = Headers::new().with(name, &value);
        assert_eq!(session.from_request(&req).unwrap(), None, "{name}");
        assert_eq!(session.id_from_request(&req), None, "{name}");
    }
    let req = Headers::new().with("Cookie", &format!("session_id={id}"));
    assert!(session.from_request(&req).unwrap().is_some());
}

/// A store that claims the first `taken` IDs offered to `create` already exist.
struct Crowded {
    inner: MemoryStore,
    taken: AtomicUsize,
}

impl Store for Crowded {
    fn get(&self, id: &SessionId) -> Result<Option<Record>, Error> {
        self.inner.get(id)
    }
    fn set(&self, id: &SessionId, record: Record) -> Result<(), Error> {
        self.inner.set(id, record)
    }
    fn delete(&self, id: &SessionId) -> Result<(), Error> {
        self.inner.delete(id)
    }
    fn create(&self, id: &SessionId, record: Record) -> Result<bool, Error> {
        let left = self.taken.load(Ordering::SeqCst);
        if left > 0 {
            self.taken.store(left - 1, Ordering::SeqCst);
            return Ok(false);
        }
        self.inner.create(id, record)
    }
}

/// A new session never replaces an existing one: `create` inserts only if the
/// ID is free, and the session retries with a fresh ID, then gives up with a
/// clear error rather than overwrite anything.
#[test]
fn create_never_overwrites_an_existing_session() {
    // The store's side of the contract: an occupied ID is left alone.
    let store = MemoryStore::new();
    let id = SessionId::generate();
    let mut mine = http_session::Data::new();
    mine.insert("user".into(), "ana".into());
    assert!(store.create(&id, Record::new(mine.clone())).unwrap());
    assert!(!store
        .create(&id, Record::new(http_session::Data::new()))
        .unwrap());
    assert_eq!(store.get(&id).unwrap().unwrap().data, mine);

    // The session's side: a taken ID is retried with a fresh one...
    let session = Session::with_store(Crowded {
        inner: MemoryStore::new(),
        taken: AtomicUsize::new(3),
    });
    let id = session.create(json!({"user": "bo"})).unwrap();
    assert_eq!(session.get(&id).unwrap().unwrap()["user"], "bo");

    // ...and a store where every ID is taken is an error, not an overwrite.
    let session = Session::with_store(Crowded {
        inner: MemoryStore::new(),
        taken: AtomicUsize::new(usize::MAX),
    });
    let err = session.create(json!({"user": "cy"})).unwrap_err();
    assert!(matches!(err, Error::IdCollision { attempts: 4 }), "{err:?}");
    assert!(err
        .to_string()
        .contains("random number generator or the store"));
}

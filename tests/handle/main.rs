//! The per-request handle: it writes only what changed, creates a session only
//! when data goes in, and never undoes what other requests did meanwhile;
//! counters through `update` lose nothing (`counters`), on every store
//! (`every_store`). Its `regenerate` is tested in the `regeneration` binary.

#[path = "../common/mod.rs"]
mod common;

mod counters;
mod every_store;

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use common::{cookie_pair, CountingStore};
use http_session::{
    CommitOutcome, Data, Error, Headers, ManualClock, MemoryStore, Record, Session, SessionId,
    Store,
};
use serde_json::json;

type Counted = Arc<CountingStore<MemoryStore>>;

fn counted() -> (Session<Counted>, Counted) {
    let store = Arc::new(CountingStore::new(MemoryStore::new()));
    (Session::with_store(Arc::clone(&store)), store)
}

/// A request carrying the session cookie for `id`.
fn request_for(id: &SessionId) -> Headers {
    Headers::new().with("Cookie", &format!("session_id={id}"))
}

/// A session with a 60 s idle timeout on a manual clock, the store on the
/// same clock.
fn clocked_session() -> (ManualClock, Session) {
    let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_000_000));
    let session = Session::builder()
        .clock(clock.clock())
        .store(MemoryStore::builder().clock(clock.clock()).build())
        .ttl(Duration::from_secs(60))
        // Reads never renew here, so expiry times are exact; renewal on reads
        // has tests of its own (tests/expiry/renewal.rs).
        .renew_after(1.0)
        .build()
        .unwrap();
    (clock, session)
}

fn set_cookies(res: &Headers) -> Vec<&str> {
    res.get_all("Set-Cookie").collect()
}

#[test]
fn reading_an_existing_session_writes_nothing_and_sets_no_cookie() {
    let (session, store) = counted();
    let id = session.create(json!({"user": "ana", "visits": 1})).unwrap();
    let writes = store.writes();

    let handle = session.handle(&request_for(&id));
    assert_eq!(
        handle.get::<String>("user").unwrap().as_deref(),
        Some("ana")
    );
    assert_eq!(handle.get::<u32>("visits").unwrap(), Some(1));
    assert_eq!(handle.data().unwrap().len(), 2);
    assert_eq!(handle.id().unwrap(), Some(id.clone()));
    let mut res = Headers::new();
    assert_eq!(handle.commit(&mut res).unwrap(), CommitOutcome::Unchanged);

    assert_eq!(store.writes(), writes, "no store write");
    assert!(res.is_empty(), "no Set-Cookie: {res:?}");
    assert_eq!(store.gets(), 1, "loaded once for three reads");
}

#[test]
fn a_handle_never_used_asks_the_store_nothing() {
    let (session, store) = counted();
    let id = session.create(json!({"user": "ana"})).unwrap();
    let (gets, writes) = (store.gets(), store.writes());
    let handle = session.handle(&request_for(&id));
    let mut res = Headers::new();
    assert_eq!(handle.commit(&mut res).unwrap(), CommitOutcome::Unchanged);
    assert_eq!((store.gets(), store.writes()), (gets, writes));
    assert!(res.is_empty());
}

#[test]
fn a_change_is_exactly_one_write_and_resends_the_rolled_cookie() {
    let (session, store) = counted();
    let id = session.create(json!({"user": "ana", "visits": 1})).unwrap();
    let writes = store.writes();

    let mut handle = session.handle(&request_for(&id));
    let visits: u32 = handle.get("visits").unwrap().unwrap();
    handle.insert("visits", visits + 1).unwrap();
    handle.insert("role", "admin").unwrap();
    handle.remove("user").unwrap();
    let mut res = Headers::new();
    assert_eq!(handle.commit(&mut res).unwrap(), CommitOutcome::Saved);

    assert_eq!(store.writes(), writes + 1, "one Store::update");
    assert_eq!(
        session.get(&id).unwrap().unwrap(),
        *json!({"visits": 2, "role": "admin"}).as_object().unwrap()
    );
    let cookies = set_cookies(&res);
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    assert!(cookies[0].starts_with(&format!("session_id={id};")));
    assert!(cookies[0].contains("Max-Age=1800"), "{}", cookies[0]);
}

#[test]
fn inserting_a_value_already_there_is_no_change() {
    let (session, store) = counted();
    let id = session.create(json!({"user": "ana"})).unwrap();
    let writes = store.writes();
    let mut handle = session.handle(&request_for(&id));
    handle.insert("user", "ana").unwrap();
    assert!(!handle.remove("absent").unwrap());
    let mut res = Headers::new();
    assert_eq!(handle.commit(&mut res).unwrap(), CommitOutcome::Unchanged);
    assert_eq!(store.writes(), writes);
    assert!(res.is_empty());
}

#[test]
fn without_an_idle_timeout_a_change_sends_no_cookie() {
    let session = Session::builder().ttl(None).build().unwrap();
    let id = session.create(json!({"n": 1})).unwrap();
    let mut handle = session.handle(&request_for(&id));
    handle.insert("n", 2).unwrap();
    let mut res = Headers::new();
    assert_eq!(handle.commit(&mut res).unwrap(), CommitOutcome::Saved);
    assert_eq!(session.get(&id).unwrap().unwrap()["n"], 2);
    assert!(res.is_empty(), "the lifetime did not roll: {res:?}");
}

#[test]
fn a_request_that_only_reads_creates_no_session() {
    let (session, store) = counted();
    let unknown = SessionId::generate();
    for request in [
        Headers::new(),
        request_for(&unknown),
        Headers::new().with("Cookie", "session_id=not-an-id; other=1"),
    ] {
        let mut handle = session.handle(&request);
        assert_eq!(handle.get::<String>("user").unwrap(), None);
        assert!(handle.data().unwrap().is_empty());
        assert_eq!(handle.id().unwrap(), None);
        handle.clear().unwrap();
        assert!(!handle.remove("user").unwrap());
        assert_eq!(handle.take::<String>("flash").unwrap(), None);
        let mut res = Headers::new();
        assert_eq!(handle.commit(&mut res).unwrap(), CommitOutcome::Unchanged);
        assert!(res.is_empty());
    }
    assert_eq!(store.writes(), 0);
    assert!(store.inner.is_empty());
    assert_eq!(
        store.gets(),
        1,
        "only the well-formed unknown ID was looked up"
    );
}

#[test]
fn inserting_then_removing_creates_nothing() {
    let (session, store) = counted();
    let mut handle = session.handle(&Headers::new());
    handle.insert("a", 1).unwrap();
    handle.remove("a").unwrap();
    let mut res = Headers::new();
    assert_eq!(handle.commit(&mut res).unwrap(), CommitOutcome::Unchanged);
    assert_eq!(store.writes(), 0);
    assert!(res.is_empty());
}

#[test]
fn the_first_insert_creates_a_session_under_a_fresh_id_never_the_clients() {
    let (session, store) = counted();
    let planted = SessionId::generate(); // an attacker's choice, unknown to the store
    let mut handle = session.handle(&request_for(&planted));
    handle.insert("user", "ana").unwrap();
    let mut res = Headers::new();
    assert_eq!(handle.commit(&mut res).unwrap(), CommitOutcome::Created);

    assert_eq!(store.writes(), 1, "one Store::create");
    let cookies = set_cookies(&res);
    assert_eq!(cookies.len(), 1);
    let id: SessionId = cookie_pair(cookies[0])["session_id=".len()..]
        .parse()
        .unwrap();
    assert_ne!(id, planted);
    assert_eq!(session.get(&planted).unwrap(), None);
    assert_eq!(session.get(&id).unwrap().unwrap()["user"], "ana");
}

#[test]
fn a_commit_after_a_concurrent_logout_does_not_bring_the_session_back() {
    let session = Session::new();
    let id = session.create(json!({"user": "ana", "visits": 1})).unwrap();
    let request = request_for(&id);

    // Tab 1 reads the session and is about to count a visit...
    let mut handle = session.handle(&request);
    let visits: u32 = handle.get("visits").unwrap().unwrap();
    handle.insert("visits", visits + 1).unwrap();
    // ...when tab 2 logs out.
    session.delete(&id, &mut Headers::new()).unwrap();

    let mut res = Headers::new();
    assert_eq!(handle.commit(&mut res).unwrap(), CommitOutcome::Gone);
    assert_eq!(session.get(&id).unwrap(), None);
    assert_eq!(session.from_request(&request).unwrap(), None);
    assert!(session.store().is_empty(), "nothing created in its place");
    assert!(res.is_empty(), "the cookie is left alone: {res:?}");
}

#[test]
fn a_commit_keeps_what_other_requests_wrote_meanwhile() {
    let session = Session::new();
    let id = session.create(json!({"user": "ana", "cart": []})).unwrap();
    let mut handle = session.handle(&request_for(&id));
    assert_eq!(
        handle.get::<String>("user").unwrap().as_deref(),
        Some("ana")
    );
    // Another request adds to the cart after this one loaded the session.
    assert!(session.update(&id, json!({"cart": ["apple"]})).unwrap());
    handle.insert("theme", "dark").unwrap();
    assert_eq!(
        handle.commit(&mut Headers::new()).unwrap(),
        CommitOutcome::Saved
    );
    assert_eq!(
        session.get(&id).unwrap().unwrap(),
        *json!({"user": "ana", "cart": ["apple"], "theme": "dark"})
            .as_object()
            .unwrap()
    );
}

/// A store whose `update` runs the closure on a throw-away copy first, as an
/// optimistic store does when its first attempt loses a race, and then for real.
#[derive(Debug, Default)]
struct RetryingStore {
    inner: MemoryStore,
}

impl Store for RetryingStore {
    fn get(&self, id: &SessionId) -> Result<Option<Record>, Error> {
        self.inner.get(id)
    }
    fn set(&self, id: &SessionId, record: Record) -> Result<(), Error> {
        self.inner.set(id, record)
    }
    fn delete(&self, id: &SessionId) -> Result<(), Error> {
        self.inner.delete(id)
    }
    fn update(
        &self,
        id: &SessionId,
        f: &mut dyn FnMut(&mut Record) -> bool,
    ) -> Result<bool, Error> {
        if let Some(mut lost_race) = self.inner.get(id)? {
            f(&mut lost_race);
        }
        self.inner.update(id, f)
    }
    fn create(&self, id: &SessionId, record: Record) -> Result<bool, Error> {
        self.inner.create(id, record)
    }
}

#[test]
fn a_store_that_retries_the_update_closure_gets_the_same_result() {
    let session = Session::with_store(RetryingStore::default());
    let id = session
        .create(json!({"keep": 1, "drop": 2, "list": [1]}))
        .unwrap();
    let mut handle = session.handle(&request_for(&id));
    handle.insert("list", [1, 2]).unwrap();
    handle.remove("drop").unwrap();
    handle.insert("flash", "hi").unwrap();
    assert_eq!(
        handle.take::<String>("flash").unwrap().as_deref(),
        Some("hi")
    );
    handle.insert("n", 1).unwrap();
    let mut res = Headers::new();
    assert_eq!(handle.commit(&mut res).unwrap(), CommitOutcome::Saved);
    assert_eq!(
        session.get(&id).unwrap().unwrap(),
        *json!({"keep": 1, "list": [1, 2], "n": 1})
            .as_object()
            .unwrap()
    );
    assert_eq!(set_cookies(&res).len(), 1);

    let mut handle = session.handle(&request_for(&id));
    handle.clear().unwrap();
    handle.insert("only", true).unwrap();
    handle.commit(&mut Headers::new()).unwrap();
    assert_eq!(
        session.get(&id).unwrap().unwrap(),
        *json!({"only": true}).as_object().unwrap()
    );
}

#[test]
fn destroy_deletes_the_session_and_clears_the_cookie() {
    let (session, store) = counted();
    let id = session.create(json!({"user": "ana"})).unwrap();
    let mut handle = session.handle(&request_for(&id));
    handle.insert("ignored", 1).unwrap();
    handle.destroy().unwrap();
    assert_eq!(handle.get::<String>("user").unwrap(), None);
    assert_eq!(handle.id().unwrap(), None);
    let mut res = Headers::new();
    assert_eq!(handle.commit(&mut res).unwrap(), CommitOutcome::Destroyed);
    assert!(store.inner.is_empty());
    let cookies = set_cookies(&res);
    assert_eq!(cookies.len(), 1);
    assert!(cookies[0].starts_with("session_id=;"), "{}", cookies[0]);
    assert!(cookies[0].contains("Max-Age=0"));
}

#[test]
fn destroy_then_insert_starts_a_new_session() {
    let session = Session::new();
    let id = session.create(json!({"user": "ana"})).unwrap();
    let mut handle = session.handle(&request_for(&id));
    handle.destroy().unwrap();
    handle.insert("flash", "You are logged out.").unwrap();
    let mut res = Headers::new();
    assert_eq!(handle.commit(&mut res).unwrap(), CommitOutcome::Created);
    assert_eq!(session.get(&id).unwrap(), None);
    let cookies = set_cookies(&res);
    assert_eq!(cookies.len(), 1, "only the new cookie: {cookies:?}");
    let fresh = Headers::new().with("Cookie", cookie_pair(cookies[0]));
    let data = session.from_request(&fresh).unwrap().unwrap();
    assert_eq!(
        data,
        *json!({"flash": "You are logged out."}).as_object().unwrap()
    );
}

#[test]
fn destroy_without_a_session_still_clears_the_cookie() {
    let session = Session::new();
    let mut handle = session.handle(&request_for(&SessionId::generate()));
    handle.destroy().unwrap();
    let mut res = Headers::new();
    assert_eq!(handle.commit(&mut res).unwrap(), CommitOutcome::Destroyed);
    assert!(res.get("Set-Cookie").unwrap().contains("Max-Age=0"));
}

#[test]
fn touch_rolls_the_idle_timeout_and_resends_the_cookie() {
    let (clock, session) = clocked_session();
    let id = session.create(json!({"user": "ana"})).unwrap();

    clock.advance(Duration::from_secs(50));
    let mut handle = session.handle(&request_for(&id));
    handle.touch().unwrap();
    let mut res = Headers::new();
    assert_eq!(handle.commit(&mut res).unwrap(), CommitOutcome::Saved);
    assert!(res.get("Set-Cookie").unwrap().contains("Max-Age=60"));

    clock.advance(Duration::from_secs(50)); // 100 s after creation, 50 after the touch
    assert!(session.get(&id).unwrap().is_some());
    clock.advance(Duration::from_secs(10));
    let mut handle = session.handle(&request_for(&id));
    assert_eq!(handle.get::<String>("user").unwrap(), None, "expired");
    handle.insert("user", "bob").unwrap();
    assert_eq!(
        handle.commit(&mut Headers::new()).unwrap(),
        CommitOutcome::Created,
        "an expired session is not revived: a new one is made"
    );
    assert_eq!(session.get(&id).unwrap(), None);
}

#[test]
fn a_session_that_expires_before_the_commit_is_not_revived() {
    let (clock, session) = clocked_session();
    let id = session.create(json!({"n": 1})).unwrap();
    let mut handle = session.handle(&request_for(&id));
    handle.insert("n", 2).unwrap();
    clock.advance(Duration::from_secs(61));
    assert_eq!(
        handle.commit(&mut Headers::new()).unwrap(),
        CommitOutcome::Gone
    );
    assert_eq!(session.get(&id).unwrap(), None);
}

#[test]
fn a_value_of_the_wrong_type_is_a_clear_error_and_stays() {
    let session = Session::new();
    let id = session.create(json!({"flash": 42})).unwrap();
    let mut handle = session.handle(&request_for(&id));
    let err = handle.take::<String>("flash").unwrap_err();
    assert!(matches!(&err, Error::Deserialize { key, .. } if key == "flash"));
    assert!(err.to_string().contains("\"flash\""), "{err}");
    assert!(std::error::Error::source(&err).is_none());
    assert_eq!(handle.get::<u32>("flash").unwrap(), Some(42), "not taken");
    assert_eq!(
        handle.commit(&mut Headers::new()).unwrap(),
        CommitOutcome::Unchanged
    );
    assert_eq!(session.get(&id).unwrap().unwrap()["flash"], 42);
}

#[test]
fn too_much_data_is_refused_and_nothing_is_lost() {
    let session = Session::builder().max_data_size(100).build().unwrap();
    let id = session.create(json!({"user": "ana"})).unwrap();
    let mut handle = session.handle(&request_for(&id));
    let err = handle.insert("blob", "x".repeat(200)).unwrap_err();
    assert!(
        matches!(err, Error::DataTooLarge { limit: 100, .. }),
        "{err}"
    );
    let err = handle.insert("user", "y".repeat(200)).unwrap_err();
    assert!(matches!(err, Error::DataTooLarge { .. }));
    assert_eq!(
        handle.get::<String>("user").unwrap().as_deref(),
        Some("ana")
    );
    assert_eq!(handle.get::<String>("blob").unwrap(), None);
    assert_eq!(
        handle.commit(&mut Headers::new()).unwrap(),
        CommitOutcome::Unchanged
    );
    assert_eq!(
        session.get(&id).unwrap().unwrap(),
        *json!({"user": "ana"}).as_object().unwrap()
    );
}

#[test]
fn growth_by_another_request_that_makes_the_commit_too_large_changes_nothing() {
    let session = Session::builder().max_data_size(100).build().unwrap();
    let id = session.create(json!({"a": ""})).unwrap();
    let mut handle = session.handle(&request_for(&id));
    handle.insert("b", "y".repeat(50)).unwrap();
    assert!(session.update(&id, json!({"a": "x".repeat(50)})).unwrap());
    let mut res = Headers::new();
    let err = handle.commit(&mut res).unwrap_err();
    assert!(matches!(err, Error::DataTooLarge { .. }), "{err}");
    assert!(res.is_empty());
    assert_eq!(
        session.get(&id).unwrap().unwrap(),
        *json!({"a": "x".repeat(50)}).as_object().unwrap()
    );
}

#[test]
fn data_that_is_not_json_is_refused() {
    use std::collections::HashMap;
    let session = Session::new();
    let mut handle = session.handle(&Headers::new());
    // Map keys must be strings in JSON.
    let err = handle
        .insert("map", HashMap::from([((1, 2), "x")]))
        .unwrap_err();
    assert!(matches!(err, Error::Serialize(_)), "{err}");
    assert_eq!(
        handle.commit(&mut Headers::new()).unwrap(),
        CommitOutcome::Unchanged
    );
    assert!(session.store().is_empty());
}

/// A store that is down.
#[derive(Debug)]
struct DownStore;

impl Store for DownStore {
    fn get(&self, _: &SessionId) -> Result<Option<Record>, Error> {
        Err(Error::store(
            "reading",
            std::io::Error::other("connection refused"),
        ))
    }
    fn set(&self, _: &SessionId, _: Record) -> Result<(), Error> {
        Err(Error::store(
            "writing",
            std::io::Error::other("connection refused"),
        ))
    }
    fn delete(&self, _: &SessionId) -> Result<(), Error> {
        Err(Error::store(
            "deleting",
            std::io::Error::other("connection refused"),
        ))
    }
}

#[test]
fn a_store_that_is_down_is_an_error_and_the_response_gets_no_cookie() {
    let session = Session::with_store(DownStore);
    let request = request_for(&SessionId::generate());
    let handle = session.handle(&request);
    assert!(matches!(
        handle.get::<String>("user"),
        Err(Error::Store { .. })
    ));

    let mut handle = session.handle(&Headers::new()); // no cookie: nothing to read
    handle.insert("user", "ana").unwrap();
    let mut res = Headers::new();
    assert!(matches!(handle.commit(&mut res), Err(Error::Store { .. })));
    assert!(res.is_empty());
}

#[test]
fn the_first_known_of_several_cookies_wins() {
    let session = Session::new();
    let id = session.create(json!({"user": "ana"})).unwrap();
    let request = Headers::new()
        .with("Cookie", &format!("session_id={}", SessionId::generate()))
        .with("Cookie", &format!("session_id=junk; session_id={id}"));
    let handle = session.handle(&request);
    assert_eq!(handle.id().unwrap(), Some(id));
}

#[test]
fn debug_shows_no_id_and_no_values() {
    let session = Session::new();
    let mut data = Data::new();
    data.insert("secret".into(), json!("hunter2"));
    let id = session.create(data).unwrap();
    let handle = session.handle(&request_for(&id));
    handle.get::<String>("secret").unwrap();
    let debug = format!("{handle:?}");
    assert!(!debug.contains(id.as_str()), "{debug}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(debug.contains("1 keys"), "{debug}");
}

#[test]
fn handles_on_many_threads_share_one_session() {
    let session = Arc::new(Session::new());
    let id = session.create(json!({})).unwrap();
    std::thread::scope(|scope| {
        for t in 0..8 {
            let session = &session;
            let id = &id;
            scope.spawn(move || {
                let mut handle = session.handle(&request_for(id));
                handle.insert(&format!("thread{t}"), t).unwrap();
                assert_eq!(
                    handle.commit(&mut Headers::new()).unwrap(),
                    CommitOutcome::Saved
                );
            });
        }
    });
    assert_eq!(session.get(&id).unwrap().unwrap().len(), 8, "no write lost");
}

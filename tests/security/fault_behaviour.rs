//! Faults: panics in user code, poisoned locks, concurrent updates, and stores
//! that fail mid-request. The store must stay consistent and usable, and a
//! response must never carry a cookie for a session that was not stored.

use crate::common::DownStore as Down;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use http_session::{Data, Error, Headers, MemoryStore, Record, Session, SessionId, Store};
use serde::ser::{Error as _, Serialize, Serializer};
use serde_json::json;

/// One shard, so every session shares the lock a panic may poison.
fn one_shard_store() -> MemoryStore {
    MemoryStore::builder().max_sessions(50).build()
}

fn data(value: serde_json::Value) -> Data {
    value.as_object().unwrap().clone()
}

/// Session data whose `Serialize` panics halfway through.
struct PanicsWhenSerialized;

impl Serialize for PanicsWhenSerialized {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        panic!("user Serialize impl panicked");
    }
}

/// Session data whose `Serialize` fails.
struct FailsWhenSerialized;

impl Serialize for FailsWhenSerialized {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(S::Error::custom("cannot serialize this"))
    }
}

#[test]
fn a_panicking_update_closure_leaves_the_record_as_it_was() {
    let store = one_shard_store();
    let id = SessionId::generate();
    let other = SessionId::generate();
    store.set(&id, Record::new(data(json!({"n": 1})))).unwrap();
    store
        .set(&other, Record::new(data(json!({"m": 1}))))
        .unwrap();

    let outcome = catch_unwind(AssertUnwindSafe(|| {
        store.update(&id, &mut |record| {
            record.data.insert("n".into(), 2.into());
            record.data.insert("half".into(), true.into());
            panic!("closure panicked halfway");
        })
    }));
    assert!(outcome.is_err());
    assert_eq!(store.get(&id).unwrap().unwrap().data, data(json!({"n": 1})));
    assert_eq!(
        store.get(&other).unwrap().unwrap().data,
        data(json!({"m": 1}))
    );
    assert!(store
        .update(&id, &mut |r| {
            r.data.insert("n".into(), 3.into());
            true
        })
        .unwrap());
    assert_eq!(store.get(&id).unwrap().unwrap().data["n"], 3);
    assert_eq!(store.len(), 2);
}

#[test]
fn a_panicking_serialize_impl_stores_nothing_and_changes_nothing() {
    let session = Session::with_store(one_shard_store());
    let id = session.create(json!({"user": "ana"})).unwrap();

    assert!(catch_unwind(AssertUnwindSafe(|| session.create(PanicsWhenSerialized))).is_err());
    assert_eq!(session.store().len(), 1, "no half-made session");

    assert!(catch_unwind(AssertUnwindSafe(
        || session.update(&id, PanicsWhenSerialized)
    ))
    .is_err());
    assert_eq!(
        session.get(&id).unwrap(),
        Some(data(json!({"user": "ana"})))
    );

    // A failing (not panicking) impl is a clear error, and nothing changes either.
    assert!(matches!(
        session.create(FailsWhenSerialized),
        Err(Error::Serialize(_))
    ));
    let err = session.update(&id, FailsWhenSerialized).unwrap_err();
    assert!(err.to_string().contains("cannot serialize this"), "{err}");
    assert_eq!(session.store().len(), 1);

    // The session and the store carry on.
    assert!(session.update(&id, json!({"role": "admin"})).unwrap());
    let second = session.create(json!({"user": "bo"})).unwrap();
    assert_eq!(session.get(&second).unwrap().unwrap()["user"], "bo");
}

#[test]
fn a_poisoned_lock_is_recovered_by_every_operation() {
    let session = Arc::new(Session::with_store(one_shard_store()));
    let id = session.create(json!({"n": 1})).unwrap();

    // A worker thread panics while holding the (only) shard lock.
    let worker = Arc::clone(&session);
    let worker_id = id.clone();
    let joined = std::thread::spawn(move || {
        let _ = worker
            .store()
            .update(&worker_id, &mut |_| panic!("worker died"));
    })
    .join();
    assert!(joined.is_err(), "the worker panicked under the lock");

    // Every operation still works, on the old session and on new ones.
    assert_eq!(session.get(&id).unwrap(), Some(data(json!({"n": 1}))));
    assert!(session.update(&id, json!({"n": 2})).unwrap());
    assert!(session.touch(&id).unwrap());
    let fresh = session.create(json!({"m": 1})).unwrap();
    let req = Headers::new().with("Cookie", &format!("session_id={fresh}"));
    assert!(session.from_request(&req).unwrap().is_some());
    let mut res = Headers::new();
    let moved = session.regenerate(&fresh, &mut res).unwrap().unwrap();
    assert!(session.get(&fresh).unwrap().is_none());
    session.delete(&moved, &mut res).unwrap();
    assert_eq!(session.store().purge_expired().unwrap(), 0);
    assert_eq!(session.store().len(), 1);
}

// ---------------------------------------------------------------------------
// A store that goes down mid-request.

/// Wraps a store and fails every call from call number `fail_from` on (calls
/// count from 0), the way a store whose server dies mid-request does.
struct FailingStore {
    inner: MemoryStore,
    calls: AtomicUsize,
    fail_from: AtomicUsize,
}

impl FailingStore {
    fn new() -> Self {
        FailingStore {
            inner: MemoryStore::new(),
            calls: AtomicUsize::new(0),
            fail_from: AtomicUsize::new(usize::MAX),
        }
    }

    /// Healthy for `n` more calls, then down.
    fn fail_after(&self, n: usize) {
        self.calls.store(0, Ordering::SeqCst);
        self.fail_from.store(n, Ordering::SeqCst);
    }

    fn heal(&self) {
        self.fail_from.store(usize::MAX, Ordering::SeqCst);
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Sessions held, counted without a (failing) store call.
    fn inner_len(&self) -> usize {
        self.inner.len()
    }

    fn check(&self) -> Result<(), Error> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        if n >= self.fail_from.load(Ordering::SeqCst) {
            return Err(Error::store(
                "talking to the test store",
                io::Error::new(io::ErrorKind::ConnectionReset, "injected failure"),
            ));
        }
        Ok(())
    }
}

impl Store for FailingStore {
    fn get(&self, id: &SessionId) -> Result<Option<Record>, Error> {
        self.check()?;
        self.inner.get(id)
    }
    fn set(&self, id: &SessionId, record: Record) -> Result<(), Error> {
        self.check()?;
        self.inner.set(id, record)
    }
    fn delete(&self, id: &SessionId) -> Result<(), Error> {
        self.check()?;
        self.inner.delete(id)
    }
    fn update(
        &self,
        id: &SessionId,
        f: &mut dyn FnMut(&mut Record) -> bool,
    ) -> Result<bool, Error> {
        self.check()?;
        self.inner.update(id, f)
    }
    fn create(&self, id: &SessionId, record: Record) -> Result<bool, Error> {
        self.check()?;
        self.inner.create(id, record)
    }
    fn take(&self, id: &SessionId) -> Result<Option<Record>, Error> {
        self.check()?;
        self.inner.take(id)
    }
    fn purge_expired(&self) -> Result<usize, Error> {
        self.check()?;
        self.inner.purge_expired()
    }
}

/// The session IDs that a response's `Set-Cookie` headers set (not clear).
fn cookies_set(res: &Headers) -> Vec<SessionId> {
    res.get_all("Set-Cookie")
        .filter_map(|h| http_session::cookie::parse(h).next())
        .filter_map(|(_, value)| value.parse().ok())
        .collect()
}

type Failing = Session<Arc<FailingStore>>;

/// Runs `request` with the store failing at every possible point in turn, and
/// checks that each run either fails with the store's error and adds no header
/// at all, or succeeds with cookies only for sessions the store really holds and
/// with its effect really stored (`done` checks that, once the store is back).
fn at_every_failure_point(
    request: impl Fn(&Failing, &SessionId, &mut Headers) -> Result<(), Error>,
    done: impl Fn(&Failing, &SessionId, &Headers),
) {
    let store = Arc::new(FailingStore::new());
    let session = Session::with_store(Arc::clone(&store));
    // A healthy run counts the store calls the request makes.
    let id = session.create(json!({"user": "ana"})).unwrap();
    store.fail_after(usize::MAX);
    let mut res = Headers::new();
    request(&session, &id, &mut res).unwrap();
    let calls = store.calls();
    assert!(calls > 0);
    done(&session, &id, &res);

    for fail_from in 0..calls {
        store.heal();
        let id = session.create(json!({"user": "ana"})).unwrap();
        store.fail_after(fail_from);
        let mut res = Headers::new();
        match request(&session, &id, &mut res) {
            Err(err) => {
                assert!(
                    matches!(&err, Error::Store { .. }),
                    "failure {fail_from}: {err:?}"
                );
                assert!(err.to_string().contains("injected failure"));
                assert!(res.is_empty(), "failure {fail_from}: half-set {res:?}");
            }
            Ok(()) => {
                store.heal();
                for set in cookies_set(&res) {
                    assert!(
                        session.get(&set).unwrap().is_some(),
                        "cookie for a lost session"
                    );
                }
                done(&session, &id, &res);
            }
        }
        // The session layer keeps serving once the store is back.
        store.heal();
        assert!(session.get(&id).is_ok());
        let next = session.create(json!({"next": true})).unwrap();
        assert!(session.get(&next).unwrap().is_some());
    }
}

/// The one session a response's cookie names, with its data.
fn the_new_session(session: &Failing, res: &Headers) -> http_session::Data {
    let set = cookies_set(res);
    assert_eq!(set.len(), 1, "{res:?}");
    session
        .get(&set[0])
        .unwrap()
        .expect("the cookie's session is stored")
}

fn gone(session: &Failing, id: &SessionId) {
    assert_eq!(session.get(id).unwrap(), None, "the old session lives on");
}

#[test]
fn login_with_a_failing_store_sets_no_cookie() {
    at_every_failure_point(
        |session, _, res| {
            let id = session.create(json!({"user": "bo"}))?;
            session.set_cookie(res, &id)
        },
        |session, _, res| assert_eq!(the_new_session(session, res)["user"], "bo"),
    );
}

#[test]
fn regenerate_with_a_failing_store_sets_no_cookie_and_never_forks() {
    at_every_failure_point(
        |session, id, res| {
            let before = session.store().inner_len();
            let outcome = session.regenerate(id, res);
            if outcome.is_err() {
                // Failed before the old record was taken out: the user's
                // cookie still works, unchanged. After: the session ended
                // (fail closed: the user logs in again). Never both, never a
                // second copy.
                session.store().heal();
                let after = session.store().inner_len();
                match session.get(id).unwrap() {
                    Some(data) => {
                        assert_eq!(data["user"], "ana");
                        assert_eq!(after, before);
                    }
                    None => assert_eq!(after, before - 1),
                }
            }
            outcome.map(|new| assert!(new.is_some()))
        },
        |session, id, res| {
            gone(session, id);
            assert_eq!(the_new_session(session, res)["user"], "ana");
        },
    );
}

#[test]
fn logout_with_a_failing_store_keeps_the_cookie() {
    at_every_failure_point(
        |session, id, res| session.delete(id, res),
        |session, id, res| {
            gone(session, id);
            assert!(res.get("Set-Cookie").unwrap().contains("Max-Age=0"));
        },
    );
}

#[test]
fn reading_and_updating_with_a_failing_store_return_the_error() {
    at_every_failure_point(
        |session, id, _| {
            let req = Headers::new().with("Cookie", &format!("session_id={id}"));
            assert!(session.from_request(&req)?.is_some());
            assert!(session.update(id, json!({"n": 1}))?);
            assert!(session.touch(id)?);
            Ok(())
        },
        |session, id, _| assert_eq!(session.get(id).unwrap().unwrap()["n"], 1),
    );
}

/// "Store down" is an error, never "no session": a server that took it for
/// "no session" would start a new anonymous session and log the user out.
#[test]
fn a_store_that_is_down_is_not_mistaken_for_no_session() {
    let store = Arc::new(FailingStore::new());
    let session = Session::with_store(Arc::clone(&store));
    let id = session.create(json!({})).unwrap();
    store.fail_after(0);
    let req = Headers::new().with("Cookie", &format!("session_id={id}"));
    assert!(matches!(
        session.from_request(&req),
        Err(Error::Store { .. })
    ));
    assert!(matches!(session.get(&id), Err(Error::Store { .. })));
    assert!(session.update(&id, json!({"n": 1})).is_err());
    let err = session.create(json!({})).unwrap_err();
    assert!(!err.to_string().contains(id.as_str()));
}

/// The per-request handle's commit, at every failure point of every kind of
/// commit: a new session, a change, a regenerate, a logout.
#[test]
fn handle_commit_with_a_failing_store_sets_no_cookie() {
    let with_cookie = |id: &SessionId| Headers::new().with("Cookie", &format!("session_id={id}"));
    // A new session for an anonymous visitor.
    at_every_failure_point(
        |session, _, res| {
            let req = Headers::new();
            let mut handle = session.handle(&req);
            handle.insert("user", "bo")?;
            handle.commit(res).map(|_| ())
        },
        |session, _, res| assert_eq!(the_new_session(session, res)["user"], "bo"),
    );
    // A change to the existing session.
    at_every_failure_point(
        |session, id, res| {
            let req = with_cookie(id);
            let mut handle = session.handle(&req);
            handle.insert("n", 1)?;
            handle.commit(res).map(|_| ())
        },
        |session, id, _| assert_eq!(session.get(id).unwrap().unwrap()["n"], 1),
    );
    // Login: change and move to a fresh ID.
    at_every_failure_point(
        |session, id, res| {
            let req = with_cookie(id);
            let mut handle = session.handle(&req);
            handle.insert("role", "admin")?;
            handle.regenerate()?;
            handle.commit(res).map(|_| ())
        },
        |session, id, res| {
            gone(session, id);
            assert_eq!(the_new_session(session, res)["role"], "admin");
        },
    );
    // Logout.
    at_every_failure_point(
        |session, id, res| {
            let req = with_cookie(id);
            let mut handle = session.handle(&req);
            handle.destroy()?;
            handle.commit(res).map(|_| ())
        },
        |session, id, _| gone(session, id),
    );
}

/// A server that wraps handlers in `catch_unwind` can capture the shared
/// session (and its builder) without `AssertUnwindSafe`.
#[test]
fn a_session_can_be_used_inside_catch_unwind() {
    fn unwind_safe<T: std::panic::UnwindSafe + std::panic::RefUnwindSafe>(_: &T) {}
    let session = Session::builder()
        .clock(http_session::Clock::from_fn(std::time::SystemTime::now))
        .on_rejection(|_| {})
        .build()
        .unwrap();
    unwind_safe(&session);
    unwind_safe(&Session::builder());
    let dir = tempfile::tempdir().unwrap();
    unwind_safe(&Session::with_store(
        http_session::FileStore::open(dir.path().join("s")).unwrap(),
    ));
    let served = catch_unwind(|| session.create(json!({"user": "ana"})).map(|_| ()));
    assert!(matches!(served, Ok(Ok(()))));
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
fn delete_on_a_failing_store_sets_no_cookie() {
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

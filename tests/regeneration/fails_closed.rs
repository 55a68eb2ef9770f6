//! Regeneration fails closed: once the old record is taken out, a store
//! failure ends the session. The old ID is never put back, not even when the
//! store recovers at once (a transient failure), so an ID planted before the
//! login never comes back to life.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

use http_session::{CommitOutcome, Error, Headers, MemoryStore, Record, Session, SessionId, Store};
use serde_json::json;

/// A `MemoryStore` whose next `create` fails once, when armed; every other
/// call (and every later `create`) works.
#[derive(Default)]
struct CreateFailsOnce {
    inner: MemoryStore,
    armed: AtomicBool,
}

impl Store for CreateFailsOnce {
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
        self.inner.update(id, f)
    }
    fn create(&self, id: &SessionId, record: Record) -> Result<bool, Error> {
        if self.armed.swap(false, Ordering::SeqCst) {
            return Err(Error::store(
                "talking to the test store",
                io::Error::new(io::ErrorKind::ConnectionReset, "injected failure"),
            ));
        }
        self.inner.create(id, record)
    }
    fn take(&self, id: &SessionId) -> Result<Option<Record>, Error> {
        self.inner.take(id)
    }
}

fn session() -> Session<CreateFailsOnce> {
    Session::with_store(CreateFailsOnce::default())
}

#[test]
fn a_failure_after_the_take_ends_the_session_for_good() {
    let session = session();
    let planted = session.create(json!({"user": "ana"})).unwrap();
    session.store().armed.store(true, Ordering::SeqCst);

    let mut res = Headers::new();
    let err = session.regenerate(&planted, &mut res).unwrap_err();
    assert!(matches!(err, Error::Store { .. }), "{err:?}");
    assert!(
        res.is_empty(),
        "no cookie after a failed regenerate: {res:?}"
    );
    // The store works again, yet the old ID stays dead: fail closed.
    assert_eq!(session.get(&planted).unwrap(), None, "the old ID came back");
    assert_eq!(session.store().inner.len(), 0);
}

#[test]
fn the_handle_fails_closed_too() {
    let session = session();
    let planted = session.create(json!({"cart": [1]})).unwrap();
    let request = Headers::new().with("Cookie", &format!("session_id={planted}"));
    let mut handle = session.handle(&request);
    handle.insert("user", "ana").unwrap();
    handle.regenerate().unwrap();
    session.store().armed.store(true, Ordering::SeqCst);

    let mut res = Headers::new();
    let err = handle.commit(&mut res).unwrap_err();
    assert!(matches!(err, Error::Store { .. }), "{err:?}");
    assert!(res.is_empty(), "{res:?}");
    assert_eq!(session.from_request(&request).unwrap(), None);
    assert_eq!(session.store().inner.len(), 0);

    // The next login starts afresh under a fresh ID.
    let mut handle = session.handle(&request);
    handle.insert("user", "ana").unwrap();
    let mut res = Headers::new();
    assert_eq!(handle.commit(&mut res).unwrap(), CommitOutcome::Created);
    assert!(!res.get("Set-Cookie").unwrap().contains(planted.as_str()));
}

/// A `MemoryStore` where, at the moment of `take`, another request grows the
/// session just before it is taken out and a logout runs just after.
#[derive(Default)]
struct RacedTake {
    inner: MemoryStore,
}

impl Store for RacedTake {
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
        self.inner.update(id, f)
    }
    fn create(&self, id: &SessionId, record: Record) -> Result<bool, Error> {
        self.inner.create(id, record)
    }
    fn take(&self, id: &SessionId) -> Result<Option<Record>, Error> {
        self.inner.update(id, &mut |record| {
            record.data.insert("other".into(), "y".repeat(60).into());
            true
        })?;
        let taken = self.inner.take(id);
        self.inner.delete(id)?; // the logout: the session is already out
        taken
    }
}

/// Changes refused only after the take (the stored data grew in between)
/// end the session: putting it back would undo the logout that ran meanwhile.
#[test]
fn a_regeneration_refused_after_the_take_never_undoes_a_logout() {
    let session = Session::builder()
        .store(RacedTake::default())
        .max_data_size(100)
        .build()
        .unwrap();
    let id = session.create(json!({"user": "ana"})).unwrap();
    let request = Headers::new().with("Cookie", &format!("session_id={id}"));
    let mut handle = session.handle(&request);
    handle.insert("note", "x".repeat(30)).unwrap();
    handle.regenerate().unwrap();
    let mut res = Headers::new();
    let err = handle.commit(&mut res).unwrap_err();
    assert!(matches!(err, Error::DataTooLarge { .. }), "{err:?}");
    assert!(res.is_empty(), "{res:?}");
    assert_eq!(
        session.get(&id).unwrap(),
        None,
        "the logged-out session came back"
    );
    assert_eq!(session.store().inner.len(), 0);
}

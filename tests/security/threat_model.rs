//! Protections named in SECURITY.md that no other test file covers on its own:
//! where the ID may come from, `__Host-` cookies end to end, and create never
//! overwriting a session.

use std::sync::atomic::{AtomicUsize, Ordering};

use http_session::cookie::CookieOptions;
use http_session::{Error, Headers, MemoryStore, Record, Session, SessionId, Store};
use serde_json::json;

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

/// ASVS 3.3.1 and 3.3.3: a `__Host-` name gives a cookie that no subdomain and
/// no other path can set or shadow. The builder accepts it with the defaults
/// and refuses any option that would break the prefix's rules.
#[test]
fn a_host_prefixed_session_cookie_works_end_to_end() {
    let session = Session::builder().cookie_name("__Host-id").build().unwrap();
    let id = session.create(json!({"user": "ana"})).unwrap();
    let mut res = Headers::new();
    session.set_cookie(&mut res, &id).unwrap();
    let header = res.get("Set-Cookie").unwrap();
    assert!(
        header.starts_with(&format!("__Host-id={id}; Path=/;")),
        "{header}"
    );
    assert!(
        header.contains("; Secure") && !header.contains("Domain"),
        "{header}"
    );

    let req = Headers::new().with("Cookie", &format!("__Host-id={id}"));
    assert!(session.from_request(&req).unwrap().is_some());

    for options in [
        CookieOptions::default().secure(false),
        CookieOptions::default().domain("example.com"),
        CookieOptions::default().path("/app"),
    ] {
        let refused = Session::builder()
            .cookie_name("__Host-id")
            .cookie_options(options.clone())
            .build();
        assert!(
            matches!(refused, Err(Error::InvalidCookieAttribute { .. })),
            "{options:?}"
        );
    }
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

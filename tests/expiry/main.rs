//! Idle timeout, absolute lifetime, and the cookie lifetime that follows them,
//! all on a manual clock: no sleeping. Expired sessions stay dead, even over a
//! store that forgets expiry; reads renew the idle timeout (`renewal`).

#[path = "../common/mod.rs"]
mod common;

mod renewal;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::MapStore;
use http_session::cookie::CookieOptions;
use http_session::{
    Error, Headers, ManualClock, MemoryStore, Session, Store, DEFAULT_ABSOLUTE_LIFETIME,
    DEFAULT_TTL,
};
use serde_json::json;

const MIN: Duration = Duration::from_secs(60);

fn session_at(time: &ManualClock, ttl: Option<Duration>, lifetime: Option<Duration>) -> Session {
    Session::builder()
        .store(MemoryStore::builder().clock(time.clock()).build())
        .clock(time.clock())
        .ttl(ttl)
        .absolute_lifetime(lifetime)
        .build()
        .unwrap()
}

#[test]
fn defaults_are_documented_values() {
    let session = Session::new();
    assert_eq!(session.ttl(), Some(DEFAULT_TTL));
    assert_eq!(DEFAULT_TTL, 30 * MIN);
    assert_eq!(session.absolute_lifetime(), Some(DEFAULT_ABSOLUTE_LIFETIME));
    assert_eq!(DEFAULT_ABSOLUTE_LIFETIME, 12 * 60 * MIN);
}

#[test]
fn idle_timeout_rolls_on_update_and_touch() {
    let time = ManualClock::new(SystemTime::now());
    let session = session_at(&time, Some(10 * MIN), None);
    let id = session.create(json!({"n": 0})).unwrap();
    for n in 1..=5 {
        time.advance(9 * MIN);
        assert!(
            session.update(&id, json!({ "n": n })).unwrap(),
            "update {n}"
        );
    }
    for _ in 0..5 {
        time.advance(9 * MIN);
        assert!(session.touch(&id).unwrap());
    }
    // Reads roll it too, once half of it has passed (the default renew_after).
    for _ in 0..5 {
        time.advance(9 * MIN);
        assert!(session.get(&id).unwrap().is_some());
    }
    // Unused for longer than the idle timeout: gone.
    time.advance(10 * MIN);
    assert_eq!(session.get(&id).unwrap(), None);
}

#[test]
fn absolute_lifetime_caps_activity() {
    let time = ManualClock::new(SystemTime::now());
    let session = session_at(&time, Some(10 * MIN), Some(30 * MIN));
    let id = session.create(json!({})).unwrap();
    for _ in 0..3 {
        time.advance(9 * MIN);
        assert!(session.touch(&id).unwrap());
    }
    // 27 minutes in: the idle timeout would allow 37, the cap says 30.
    let record = session.store().get(&id).unwrap().unwrap();
    assert_eq!(record.expires_at, record.deadline);
    time.advance(3 * MIN);
    assert_eq!(session.get(&id).unwrap(), None);
    assert!(!session.touch(&id).unwrap());
}

#[test]
fn no_expiry_when_both_are_off() {
    let time = ManualClock::new(SystemTime::now());
    let session = session_at(&time, None, None);
    let id = session.create(json!({})).unwrap();
    time.advance(Duration::from_secs(10 * 365 * 24 * 3600));
    assert!(session.get(&id).unwrap().is_some());
    let mut res = Headers::new();
    session.set_cookie(&mut res, &id).unwrap();
    let header = res.get("Set-Cookie").unwrap();
    assert!(
        !header.contains("Max-Age") && !header.contains("Expires"),
        "{header}"
    );
}

#[test]
fn cookie_lifetime_follows_the_session() {
    let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let time = ManualClock::new(start);
    let session = session_at(&time, Some(10 * MIN), Some(60 * MIN));
    let id = session.create(json!({})).unwrap();
    let mut res = Headers::new();
    session.set_cookie(&mut res, &id).unwrap();
    let header = res.get("Set-Cookie").unwrap();
    assert!(header.contains("; Max-Age=600;"), "{header}");
    assert!(
        header.contains("; Expires=Tue, 14 Nov 2023 22:23:20 GMT;"),
        "{header}"
    );

    // Explicit cookie options win.
    let custom = Session::builder()
        .clock(time.clock())
        .cookie_options(CookieOptions::default().max_age(Duration::from_secs(42)))
        .build()
        .unwrap();
    let mut res = Headers::new();
    custom.set_cookie(&mut res, &id).unwrap();
    let header = res.get("Set-Cookie").unwrap();
    // ...and Expires follows their Max-Age, for browsers that only read Expires.
    assert!(
        header.contains("; Max-Age=42; Expires=Tue, 14 Nov 2023 22:14:02 GMT;"),
        "{header}"
    );
}

#[test]
fn cookie_lifetime_is_capped_at_400_days() {
    let time = ManualClock::new(SystemTime::now());
    let year = Duration::from_secs(365 * 24 * 3600);
    let session = session_at(&time, Some(5 * year), None);
    let id = session.create(json!({})).unwrap();
    let mut res = Headers::new();
    session.set_cookie(&mut res, &id).unwrap();
    assert!(res
        .get("Set-Cookie")
        .unwrap()
        .contains(&format!("Max-Age={}", 400 * 24 * 3600)));
    // The server-side session keeps its own, longer, lifetime.
    time.advance(2 * year);
    assert!(session.get(&id).unwrap().is_some());
}

#[test]
fn absurd_lifetimes_are_refused_at_build() {
    for bad in [
        Session::builder().ttl(Duration::ZERO).build(),
        Session::builder().ttl(Duration::from_millis(999)).build(),
        Session::builder()
            .absolute_lifetime(Duration::from_millis(1))
            .build(),
        Session::builder().ttl(Duration::MAX).build(),
        Session::builder()
            .absolute_lifetime(Duration::from_secs(u64::MAX))
            .build(),
    ] {
        let err = bad.unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
    }
    assert!(matches!(
        Session::builder().max_data_size(0).build(),
        Err(Error::InvalidConfig { .. })
    ));
}

#[test]
fn expiry_near_the_end_of_time_is_an_error_not_a_panic() {
    // An hour from a clock near the last instant an HTTP date can name.
    let late = UNIX_EPOCH + Duration::from_secs(253_402_300_000);
    let session = Session::builder()
        .clock(http_session::Clock::from_fn(move || late))
        .ttl(Duration::from_secs(3600))
        .build()
        .unwrap();
    let id = session.create(json!({})).unwrap();
    let mut res = Headers::new();
    let err = session.set_cookie(&mut res, &id).unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidCookieAttribute {
            attribute: "Expires",
            ..
        }
    ));
    assert!(res.is_empty());
}

#[test]
fn purge_removes_only_expired_sessions() {
    let time = ManualClock::new(SystemTime::now());
    let session = session_at(&time, Some(10 * MIN), None);
    let old: Vec<_> = (0..5).map(|_| session.create(json!({})).unwrap()).collect();
    time.advance(6 * MIN);
    let young: Vec<_> = (0..3).map(|_| session.create(json!({})).unwrap()).collect();
    time.advance(5 * MIN);
    assert_eq!(session.store().purge_expired().unwrap(), 5);
    assert_eq!(session.store().len(), 3);
    assert!(old.iter().all(|id| session.get(id).unwrap().is_none()));
    assert!(young.iter().all(|id| session.get(id).unwrap().is_some()));
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

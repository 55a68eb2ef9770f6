//! Activity renews the idle timeout: reads roll it forward once a share of it
//! has passed (`renew_after`, default one half), at most one write per window,
//! never past the absolute deadline.

use crate::common;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use common::CountingStore;
use http_session::{CommitOutcome, Error, Headers, ManualClock, MemoryStore, Session, SessionId};
use serde_json::json;

const MIN: Duration = Duration::from_secs(60);

type Counted = Session<Arc<CountingStore<MemoryStore>>>;

fn session(clock: &ManualClock, renew_after: f64, lifetime: Option<Duration>) -> Counted {
    let store = MemoryStore::builder().clock(clock.clock()).build();
    Session::builder()
        .store(Arc::new(CountingStore::new(store)))
        .clock(clock.clock())
        .ttl(30 * MIN)
        .absolute_lifetime(lifetime)
        .renew_after(renew_after)
        .build()
        .unwrap()
}

fn request_for(id: &SessionId) -> Headers {
    Headers::new().with("Cookie", &format!("session_id={id}"))
}

#[test]
fn a_session_only_read_every_ten_minutes_stays_alive() {
    let clock = ManualClock::new(SystemTime::now());
    let session = session(&clock, 0.5, None);
    let id = session.create(json!({"user": "ana"})).unwrap();
    for round in 0..12 {
        clock.advance(10 * MIN);
        // Through each read path in turn.
        let alive = match round % 3 {
            0 => session.get(&id).unwrap().is_some(),
            1 => session.from_request(&request_for(&id)).unwrap().is_some(),
            _ => {
                let request = request_for(&id);
                let handle = session.handle(&request);
                let alive = handle.get::<String>("user").unwrap().is_some();
                handle.commit(&mut Headers::new()).unwrap();
                alive
            }
        };
        assert!(alive, "expired after {} minutes of reads", (round + 1) * 10);
    }
    // Unused for the whole idle timeout: gone.
    clock.advance(30 * MIN);
    assert_eq!(session.get(&id).unwrap(), None);
}

#[test]
fn reads_write_at_most_once_per_window() {
    let clock = ManualClock::new(SystemTime::now());
    let session = session(&clock, 0.5, None);
    let id = session.create(json!({"user": "ana"})).unwrap();
    let writes = || session.store().updates();
    let before = writes();
    // Reads in the first half of the window write nothing.
    for _ in 0..14 {
        clock.advance(MIN);
        assert!(session.get(&id).unwrap().is_some());
    }
    assert_eq!(writes(), before, "a read before half-time wrote");
    // The first read past half-time renews, once; the next ones do not.
    clock.advance(MIN);
    for _ in 0..10 {
        assert!(session.get(&id).unwrap().is_some());
    }
    assert_eq!(writes(), before + 1);
}

#[test]
fn the_handle_renews_and_resends_the_cookie_on_commit() {
    let clock = ManualClock::new(SystemTime::now());
    let session = session(&clock, 0.5, None);
    let id = session.create(json!({"user": "ana"})).unwrap();
    let request = request_for(&id);

    clock.advance(10 * MIN); // a third of the window: nothing to do
    let handle = session.handle(&request);
    assert!(handle.get::<String>("user").unwrap().is_some());
    let mut res = Headers::new();
    assert_eq!(handle.commit(&mut res).unwrap(), CommitOutcome::Unchanged);
    assert!(res.is_empty());

    clock.advance(10 * MIN); // two thirds: renew
    let handle = session.handle(&request);
    assert!(handle.get::<String>("user").unwrap().is_some());
    let mut res = Headers::new();
    assert_eq!(handle.commit(&mut res).unwrap(), CommitOutcome::Renewed);
    let cookie = res.get("Set-Cookie").unwrap();
    assert!(cookie.starts_with(&format!("session_id={id};")), "{cookie}");
    assert!(cookie.contains("; Max-Age=1800;"), "{cookie}");

    // A handle dropped without a commit renews nothing.
    clock.advance(20 * MIN);
    let handle = session.handle(&request);
    assert!(handle.get::<String>("user").unwrap().is_some());
    let writes = session.store().updates();
    drop(handle);
    assert_eq!(session.store().updates(), writes);
    clock.advance(11 * MIN); // 31 minutes after the renewal
    assert_eq!(session.get(&id).unwrap(), None);
}

#[test]
fn renewal_never_passes_the_absolute_deadline() {
    let clock = ManualClock::new(SystemTime::now());
    let session = session(&clock, 0.0, Some(45 * MIN));
    let id = session.create(json!({})).unwrap();
    let before = session.store().updates();
    for _ in 0..4 {
        clock.advance(10 * MIN);
        assert!(session.get(&id).unwrap().is_some());
    }
    // Renewed at 10 minutes (to 40) and 20 (to the deadline, 45); from then
    // on the deadline caps it, so reads have nothing to write.
    assert_eq!(session.store().updates(), before + 2);
    clock.advance(5 * MIN);
    assert_eq!(session.get(&id).unwrap(), None);
}

#[test]
fn renew_after_one_leaves_renewal_to_writes() {
    let clock = ManualClock::new(SystemTime::now());
    let session = session(&clock, 1.0, None);
    let id = session.create(json!({})).unwrap();
    clock.advance(29 * MIN);
    assert!(session.get(&id).unwrap().is_some());
    clock.advance(MIN);
    assert_eq!(session.get(&id).unwrap(), None);

    let id = session.create(json!({})).unwrap();
    clock.advance(29 * MIN);
    assert!(
        session.touch(&id).unwrap(),
        "touch renews whatever the setting"
    );
    clock.advance(29 * MIN);
    assert!(session.get(&id).unwrap().is_some());
}

#[test]
fn renew_after_outside_zero_to_one_is_refused_at_build() {
    for share in [-0.1, 1.01, f64::NAN, f64::INFINITY] {
        let err = Session::builder().renew_after(share).build().unwrap_err();
        assert!(
            matches!(err, Error::InvalidConfig { .. }),
            "{share}: {err:?}"
        );
        assert!(err.to_string().contains("renew_after"), "{err}");
    }
}

/// A session stored before the size limit was lowered still reads, renews
/// and touches; only a change of its data meets the new limit.
#[test]
fn renewal_of_a_session_over_a_lowered_limit_still_works() {
    let clock = ManualClock::new(SystemTime::now());
    let store = Arc::new(CountingStore::new(
        MemoryStore::builder().clock(clock.clock()).build(),
    ));
    let build = |limit: usize| {
        Session::builder()
            .store(Arc::clone(&store))
            .clock(clock.clock())
            .ttl(30 * MIN)
            .max_data_size(limit)
            .build()
            .unwrap()
    };
    let id = build(64 * 1024)
        .create(json!({"note": "x".repeat(500)}))
        .unwrap();
    let session = build(100);
    clock.advance(20 * MIN);
    assert!(session.get(&id).unwrap().is_some(), "read and renewed");
    assert!(session.touch(&id).unwrap());
    let request = request_for(&id);
    let mut handle = session.handle(&request);
    handle.touch().unwrap();
    assert_eq!(
        handle.commit(&mut Headers::new()).unwrap(),
        CommitOutcome::Saved
    );
    let err = session.update(&id, json!({"more": 1})).unwrap_err();
    assert!(matches!(err, Error::DataTooLarge { .. }), "{err:?}");
}

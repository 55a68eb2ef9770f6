//! The `on_rejection` hook: a signal for session-ID guessing, never a leak.

use std::sync::{Arc, Mutex};

use crate::common::fuzz_checks::{CountingStore, UnknownId};
use http_session::{Headers, MemoryStore, Rejection, Session, SessionId, MAX_CANDIDATES};
use serde_json::json;

type Reports = Arc<Mutex<Vec<Rejection>>>;

fn watched_session() -> (Session<Arc<CountingStore<MemoryStore>>>, Reports) {
    let reports: Reports = Arc::default();
    let sink = Arc::clone(&reports);
    let store = Arc::new(CountingStore::new(MemoryStore::new()));
    let session = Session::builder()
        .store(store)
        .on_rejection(move |r| sink.lock().unwrap().push(r))
        .build()
        .unwrap();
    (session, reports)
}

fn cookie(value: &str) -> Headers {
    Headers::new().with("Cookie", value)
}

#[test]
fn unknown_well_formed_id_is_reported_with_a_redacted_prefix() {
    let (session, reports) = watched_session();
    let guess = SessionId::generate();
    assert_eq!(
        session
            .from_request(&cookie(&format!("session_id={guess}")))
            .unwrap(),
        None
    );
    let reports = reports.lock().unwrap();
    assert_eq!(*reports, [Rejection::unknown(&guess)]);
    let Rejection::UnknownId { prefix } = reports[0] else {
        panic!("{reports:?}")
    };
    assert_eq!(prefix.as_str(), &guess.as_str()[..4]);
    for shown in [
        format!("{:?}", reports[0]),
        reports[0].to_string(),
        prefix.to_string(),
    ] {
        assert!(!shown.contains(guess.as_str()), "{shown}");
        assert!(shown.len() < 60, "{shown}");
    }
}

#[test]
fn malformed_session_cookies_are_reported_once_per_request() {
    let (session, reports) = watched_session();
    let junk = (0..1000)
        .map(|i| format!("session_id=guess{i}"))
        .collect::<Vec<_>>()
        .join("; ");
    assert_eq!(session.from_request(&cookie(&junk)).unwrap(), None);
    assert_eq!(
        session.store().gets(),
        0,
        "malformed values never reach the store"
    );
    assert_eq!(*reports.lock().unwrap(), [Rejection::MalformedCookie]);
}

#[test]
fn hook_calls_per_request_are_bounded() {
    let (session, reports) = watched_session();
    let mut header = String::new();
    for _ in 0..10_000 {
        header.push_str(&format!(
            "session_id={}; session_id=bad; ",
            SessionId::generate()
        ));
    }
    assert_eq!(session.from_request(&cookie(&header)).unwrap(), None);
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), MAX_CANDIDATES + 1, "{reports:?}");
    let malformed = reports.iter().filter(|r| **r == Rejection::MalformedCookie);
    assert_eq!(malformed.count(), 1, "{reports:?}");
}

#[test]
fn a_live_session_and_other_cookies_are_not_reported() {
    let (session, reports) = watched_session();
    let id = session.create(json!({"user": "ana"})).unwrap();
    let req = cookie(&format!("theme=dark; session_id={id}; lang=pt"));
    assert!(session.from_request(&req).unwrap().is_some());
    assert!(session
        .from_request(&cookie("theme=dark"))
        .unwrap()
        .is_none());
    assert!(session.from_request(&Headers::new()).unwrap().is_none());
    assert!(reports.lock().unwrap().is_empty());
}

#[test]
fn a_tossed_cookie_before_the_real_one_is_reported_and_the_real_one_wins() {
    let (session, reports) = watched_session();
    let id = session.create(json!({"user": "ana"})).unwrap();
    let tossed = SessionId::generate();
    let req = cookie(&format!("session_id={tossed}; session_id={id}"));
    let (matched, _) = session.lookup(&req).unwrap().unwrap();
    assert_eq!(matched, id);
    assert_eq!(*reports.lock().unwrap(), [Rejection::unknown(&tossed)]);
}

#[test]
fn an_expired_session_is_reported_as_unknown() {
    let clock = http_session::ManualClock::new(std::time::SystemTime::now());
    let reports: Reports = Arc::default();
    let sink = Arc::clone(&reports);
    let session = Session::builder()
        .clock(clock.clock())
        .store(MemoryStore::builder().clock(clock.clock()).build())
        .on_rejection(move |r| sink.lock().unwrap().push(r))
        .build()
        .unwrap();
    let id = session.create(json!({})).unwrap();
    clock.advance(session.ttl().unwrap());
    let req = cookie(&format!("session_id={id}"));
    assert_eq!(session.from_request(&req).unwrap(), None);
    assert_eq!(*reports.lock().unwrap(), [Rejection::unknown(&id)]);
}

#[test]
fn the_per_request_handle_reports_too() {
    let (session, reports) = watched_session();
    let live = session.create(json!({"user": "ana"})).unwrap();
    let guess = SessionId::generate();

    let req = cookie(&format!("session_id=junk; session_id={guess}"));
    let handle = session.handle(&req);
    assert_eq!(*reports.lock().unwrap(), [Rejection::MalformedCookie]);
    assert_eq!(handle.get::<String>("user").unwrap(), None);
    assert_eq!(
        *reports.lock().unwrap(),
        [Rejection::MalformedCookie, Rejection::unknown(&guess)]
    );

    // A live session through the handle: nothing to report.
    reports.lock().unwrap().clear();
    let req = cookie(&format!("session_id={live}"));
    let handle = session.handle(&req);
    assert_eq!(
        handle.get::<String>("user").unwrap().as_deref(),
        Some("ana")
    );
    assert!(reports.lock().unwrap().is_empty());
}

/// Guessing through the ID-based calls is reported too, not only through
/// `from_request`: each call with an unknown ID is one report.
#[test]
fn id_based_calls_report_unknown_ids() {
    let (session, reports) = watched_session();
    let probes: Vec<SessionId> = (0..100).map(|_| SessionId::generate()).collect();
    for id in &probes {
        assert_eq!(session.get(id).unwrap(), None);
        assert!(!session.update(id, json!({"x": 1})).unwrap());
        assert_eq!(session.update_with(id, |_| ()).unwrap(), None);
        assert!(!session.touch(id).unwrap());
        assert_eq!(session.regenerate(id, &mut Headers::new()).unwrap(), None);
    }
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 5 * probes.len());
    for (report, id) in reports.chunks(5).zip(&probes) {
        assert_eq!(report, [Rejection::unknown(id); 5]);
    }
}

//! `SessionBuilder::on_event`: each kind of event is reported once, where it
//! happens, and no event ever shows a session ID.

use crate::common::DownStore as Down;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use http_session::store::RecordKey;
use http_session::{
    Error, Headers, ManualClock, Rejection, Session, SessionEvent, SessionId, Store,
};
use serde_json::json;

use crate::common::MapStore;

type Log = Arc<Mutex<Vec<SessionEvent>>>;

fn logged(clock: &ManualClock) -> (Session, Log) {
    let log: Log = Arc::default();
    let sink = Arc::clone(&log);
    let session = Session::builder()
        .clock(clock.clock())
        .max_sessions_per_user(2)
        .on_event(move |event: &SessionEvent| sink.lock().unwrap().push(event.clone()))
        .build()
        .unwrap();
    (session, log)
}

fn drain(log: &Log) -> Vec<SessionEvent> {
    std::mem::take(&mut *log.lock().unwrap())
}

fn cookie(id: &SessionId) -> Headers {
    Headers::new().with("Cookie", &format!("session_id={id}"))
}

#[test]
fn each_event_is_reported_where_it_happens() {
    let clock = ManualClock::new(SystemTime::now());
    let (session, log) = logged(&clock);

    let id = session.create(json!({})).unwrap();
    assert_eq!(drain(&log), [SessionEvent::Created]);

    session.bind_user(&id, "ana").unwrap();
    let handle = session.sessions_of("ana", None).unwrap()[0].handle;
    assert_eq!(
        drain(&log),
        [SessionEvent::Bound {
            user: "ana".into(),
            handle
        }]
    );

    let id = session
        .regenerate(&id, &mut Headers::new())
        .unwrap()
        .unwrap();
    assert_eq!(
        drain(&log),
        [SessionEvent::Regenerated {
            user: Some("ana".into())
        }]
    );

    // Through the handle: destroy on commit.
    let mut h = session.handle(&cookie(&id));
    h.destroy().unwrap();
    h.commit(&mut Headers::new()).unwrap();
    assert_eq!(drain(&log), [SessionEvent::Destroyed]);

    // The cap of 2: the third login revokes the least recently seen.
    let mut ids = Vec::new();
    for _ in 0..3 {
        let id = session.create(json!({})).unwrap();
        session.bind_user(&id, "ana").unwrap();
        ids.push(id);
        clock.advance(Duration::from_secs(1));
    }
    let events = drain(&log);
    let revoked: Vec<_> = events
        .iter()
        .filter(|e| matches!(e, SessionEvent::Revoked { .. }))
        .collect();
    assert_eq!(revoked.len(), 1, "{events:?}");
    assert_eq!(session.get(&ids[0]).unwrap(), None);
    drain(&log); // the get's rejection

    // revoke_all reports each session it ends.
    assert_eq!(session.revoke_all("ana", None).unwrap(), 2);
    let events = drain(&log);
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events
        .iter()
        .all(|e| matches!(e, SessionEvent::Revoked { user, .. } if user == "ana")));

    // Expired on read.
    let id = session.create(json!({})).unwrap();
    clock.advance(Duration::from_secs(31 * 60));
    drain(&log);
    assert_eq!(session.get(&id).unwrap(), None);
    let events = drain(&log);
    assert_eq!(events[0], SessionEvent::ExpiredOnRead, "{events:?}");
    assert!(matches!(
        events[1],
        SessionEvent::Rejected(Rejection::UnknownId { .. })
    ));

    // Rejections: the same reports as on_rejection.
    let junk = Headers::new().with("Cookie", "session_id=nonsense");
    assert_eq!(session.from_request(&junk).unwrap(), None);
    assert_eq!(
        drain(&log),
        [SessionEvent::Rejected(Rejection::MalformedCookie)]
    );
}

#[test]
fn a_store_failure_is_reported_once_with_its_operation() {
    let log: Log = Arc::default();
    let sink = Arc::clone(&log);
    let session = Session::builder()
        .store(Down)
        .on_event(move |event: &SessionEvent| sink.lock().unwrap().push(event.clone()))
        .build()
        .unwrap();
    let id = SessionId::generate();

    assert!(session.get(&id).is_err());
    let events = drain(&log);
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(
        matches!(&events[0], SessionEvent::StoreError { operation: "get", message } if message.contains("down"))
    );

    // A handle's commit that creates: one event, for the commit.
    let mut h = session.handle(&Headers::new());
    h.insert("n", 1).unwrap();
    assert!(h.commit(&mut Headers::new()).is_err());
    let events = drain(&log);
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(matches!(
        &events[0],
        SessionEvent::StoreError {
            operation: "commit",
            ..
        }
    ));
}

#[test]
fn no_event_shows_an_id_or_a_key_derived_from_one() {
    let clock = ManualClock::new(SystemTime::now());
    let (session, log) = logged(&clock);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let id = session.create(json!({"secret": "s3cr3t"})).unwrap();
        session.bind_user(&id, "ana").unwrap();
        let id = session
            .regenerate(&id, &mut Headers::new())
            .unwrap()
            .unwrap();
        ids.push(id);
        clock.advance(Duration::from_secs(1));
    }
    session.revoke_all("ana", None).unwrap();
    session.from_request(&cookie(&ids[0])).unwrap();
    let shown: String = drain(&log).iter().map(|e| format!("{e} {e:?}\n")).collect();
    assert!(shown.contains("revoked"), "{shown}");
    for id in &ids {
        assert!(!shown.contains(id.as_str()), "{shown}");
        assert!(!shown.contains(&RecordKey::of(id).to_hex()), "{shown}");
    }
    assert!(!shown.contains("s3cr3t"));
}

#[test]
fn user_calls_on_a_store_without_an_index_say_so() {
    let session = Session::with_store(MapStore::default());
    let id = session.create(json!({})).unwrap();
    for err in [
        session.bind_user(&id, "ana").unwrap_err(),
        session.sessions_of("ana", None).unwrap_err(),
        session.revoke_all("ana", None).unwrap_err(),
        session.handle(&cookie(&id)).set_user("ana").unwrap_err(),
    ] {
        assert!(matches!(err, Error::NoUserIndex), "{err:?}");
        assert!(err.to_string().contains("UserIndex"), "{err}");
    }
    // Nothing was lost: the session is as it was.
    assert_eq!(session.get(&id).unwrap(), Some(Default::default()));
    assert_eq!(session.store().count().unwrap(), None);
}

#[test]
fn bad_user_names_and_handles_are_refused_with_a_clear_error() {
    let session = Session::new();
    let id = session.create(json!({"n": 1})).unwrap();
    for bad in ["", "a\nb", &"x".repeat(257)] {
        let err = session.bind_user(&id, bad).unwrap_err();
        assert!(matches!(err, Error::InvalidUser { .. }), "{bad:?}: {err:?}");
        assert!(err.to_string().starts_with("invalid user name"), "{err}");
    }
    assert!(session.sessions_of("ana", None).unwrap().is_empty());
    assert_eq!(session.get(&id).unwrap().unwrap()["n"], 1);
    assert_eq!(session.store().count().unwrap(), Some(1));
    for bad in ["", "xyz", &"A".repeat(32), &"0".repeat(31), &"0".repeat(33)] {
        let err = bad
            .parse::<http_session::store::RevocationHandle>()
            .unwrap_err();
        assert!(matches!(err, Error::InvalidHandle), "{bad:?}");
        assert!(err.to_string().contains("32 lowercase hex digits"));
    }
}

#[test]
fn client_details_are_cut_and_cleaned() {
    let session = Session::new();
    let id = session.create(json!({})).unwrap();
    let agent = format!("Mozilla\r\nX-Evil: 1{}", "é".repeat(300));
    session
        .bind_user_with(&id, "ana", Some(&agent), Some("192.0.2.1"))
        .unwrap();
    let info = &session.sessions_of("ana", None).unwrap()[0];
    let kept = info.user_agent.as_deref().unwrap();
    assert!(kept.len() <= 256, "{}", kept.len());
    assert!(kept.starts_with("MozillaX-Evil: 1é"));
    assert!(!kept.chars().any(char::is_control));
    assert_eq!(info.ip.as_deref(), Some("192.0.2.1"));
}

#[test]
fn set_client_alone_binds_nothing_and_creates_no_session() {
    let session = Session::new();
    let mut handle = session.handle(&Headers::new());
    handle.set_client(Some("Firefox/140"), Some("192.0.2.1"));
    let mut response = Headers::new();
    assert_eq!(
        handle.commit(&mut response).unwrap(),
        http_session::CommitOutcome::Unchanged
    );
    assert!(response.is_empty());
    assert_eq!(session.store().len(), 0);
}

#[test]
fn a_cap_of_zero_sessions_per_user_is_refused_at_build() {
    let err = Session::builder()
        .max_sessions_per_user(0)
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidConfig { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("max_sessions_per_user must be at least 1"),
        "{err}"
    );
    assert!(Session::builder().max_sessions_per_user(1).build().is_ok());
}

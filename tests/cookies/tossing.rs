//! Cookie tossing: a cookie planted beside the victim's (by a sibling
//! subdomain, a plain-HTTP response) that names a session the store knows,
//! the attacker's own. Two or more live sessions in one request's cookies:
//! none is used, the cookie is cleared, and the hook hears of it.

use std::sync::{Arc, Mutex};

use crate::common::UnknownId;
use http_session::{CommitOutcome, Headers, Rejection, Session, SessionId};
use serde_json::json;

type Reports = Arc<Mutex<Vec<Rejection>>>;

fn watched() -> (Session, Reports) {
    let reports: Reports = Arc::default();
    let sink = Arc::clone(&reports);
    let session = Session::builder()
        .on_rejection(move |r| sink.lock().unwrap().push(r))
        .build()
        .unwrap();
    (session, reports)
}

fn cookies(ids: &[&SessionId]) -> Headers {
    let header = ids
        .iter()
        .map(|id| format!("session_id={id}"))
        .collect::<Vec<_>>()
        .join("; ");
    Headers::new().with("Cookie", &header)
}

#[test]
fn two_known_session_cookies_use_neither() {
    let (session, reports) = watched();
    let victim = session.create(json!({"user": "victim"})).unwrap();
    let attacker = session.create(json!({"user": "attacker"})).unwrap();
    // The tossed cookie comes first (a longer Path sorts first in browsers).
    for request in [
        cookies(&[&attacker, &victim]),
        cookies(&[&victim, &attacker]),
    ] {
        assert_eq!(session.lookup(&request).unwrap(), None);
        assert_eq!(session.from_request(&request).unwrap(), None);
    }
    assert_eq!(
        *reports.lock().unwrap(),
        [Rejection::SeveralKnownIds; 4],
        "each request reported once"
    );
    // Both sessions are left as they were.
    assert_eq!(session.get(&victim).unwrap().unwrap()["user"], "victim");
    assert_eq!(session.get(&attacker).unwrap().unwrap()["user"], "attacker");
}

#[test]
fn the_handle_serves_no_session_and_clears_the_cookie() {
    let (session, reports) = watched();
    let victim = session.create(json!({"user": "victim"})).unwrap();
    let attacker = session.create(json!({"user": "attacker"})).unwrap();
    let request = cookies(&[&attacker, &victim]);

    let handle = session.handle(&request);
    assert_eq!(handle.get::<String>("user").unwrap(), None);
    assert_eq!(handle.id().unwrap(), None);
    let mut res = Headers::new();
    assert_eq!(handle.commit(&mut res).unwrap(), CommitOutcome::Cleared);
    let cleared = res.get("Set-Cookie").unwrap();
    assert!(
        cleared.starts_with("session_id=; Path=/; Max-Age=0;"),
        "{cleared}"
    );
    assert_eq!(*reports.lock().unwrap(), [Rejection::SeveralKnownIds]);

    // A write in that request goes to a fresh session, never the attacker's.
    let mut handle = session.handle(&request);
    handle.insert("cart", vec![1]).unwrap();
    let mut res = Headers::new();
    assert_eq!(handle.commit(&mut res).unwrap(), CommitOutcome::Created);
    let set = res.get("Set-Cookie").unwrap();
    assert!(!set.contains(attacker.as_str()) && !set.contains(victim.as_str()));
    assert!(session
        .get(&attacker)
        .unwrap()
        .unwrap()
        .get("cart")
        .is_none());
}

#[test]
fn a_stale_cookie_beside_the_live_one_is_not_tossing() {
    let (session, reports) = watched();
    let live = session.create(json!({"user": "ana"})).unwrap();
    let stale = SessionId::generate(); // expired, or from another path
    let request = cookies(&[&stale, &live, &live]);
    let (id, data) = session.lookup(&request).unwrap().unwrap();
    assert_eq!((id, &data["user"]), (live.clone(), &json!("ana")));
    assert_eq!(*reports.lock().unwrap(), [Rejection::unknown(&stale)]);
}

//! The conformance suite's user-index section: binding, listing, revoking
//! and capping a user's sessions, through `Session`, on any store whose
//! `Store::user_index` is `Some`. `user_index_conformance!` runs it on a
//! store (see `tests/stores/conformance.rs`).

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_session::store::RecordKey;
use http_session::{CommitOutcome, Headers, ManualClock, Session, SessionId, Store};
use serde_json::json;

use super::suite::{Fixture, Make};

fn start() -> ManualClock {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    ManualClock::new(UNIX_EPOCH + Duration::from_millis(now))
}

fn session_on(f: &Fixture, clock: &ManualClock, cap: Option<usize>) -> Session<Arc<dyn Store>> {
    let builder = Session::builder()
        .store(Arc::clone(&f.store))
        .clock(clock.clock());
    match cap {
        Some(cap) => builder.max_sessions_per_user(cap),
        None => builder,
    }
    .build()
    .unwrap()
}

/// A fresh session bound to `user`; the clock moves on a second after it, so
/// logins are ordered.
fn login(session: &Session<Arc<dyn Store>>, clock: &ManualClock, user: &str) -> SessionId {
    let id = session.create(json!({ "user": user })).unwrap();
    assert!(session.bind_user(&id, user).unwrap());
    clock.advance(Duration::from_secs(1));
    id
}

/// A user name no other test run uses: Redis is shared between runs.
fn user(tag: &str) -> String {
    format!(
        "{tag}-{}",
        SessionId::generate().as_str().get(..12).unwrap()
    )
}

fn cookie_of(id: &SessionId) -> Headers {
    Headers::new().with("Cookie", &format!("session_id={id}"))
}

pub fn bind_list_revoke(make: Make) {
    let clock = start();
    let f = make(clock.clock());
    let session = session_on(&f, &clock, None);
    let (ana, bob) = (user("ana"), user("bob"));
    assert!(session.sessions_of(&ana, None).unwrap().is_empty());

    let laptop = login(&session, &clock, &ana);
    let phone = login(&session, &clock, &ana);
    let bobs = login(&session, &clock, &bob);
    let listed = session.sessions_of(&ana, Some(&phone)).unwrap();
    assert_eq!(listed.len(), 2);
    // Most recently seen first; the request's own marked.
    assert!(listed[0].current && !listed[1].current);
    assert!(listed[0].last_seen > listed[1].last_seen);
    assert_ne!(listed[0].handle, listed[1].handle);

    // Another user's handle ends nothing.
    let bob_handle = session.sessions_of(&bob, None).unwrap()[0].handle;
    assert!(!session.revoke(&ana, &bob_handle).unwrap());
    assert!(session.get(&bobs).unwrap().is_some());

    // Revoking the laptop's handle ends the laptop, only.
    assert!(session.revoke(&ana, &listed[1].handle).unwrap());
    assert_eq!(session.get(&laptop).unwrap(), None);
    assert!(session.get(&phone).unwrap().is_some());
    assert_eq!(session.sessions_of(&ana, None).unwrap().len(), 1);
    // Twice: nothing left to end.
    assert!(!session.revoke(&ana, &listed[1].handle).unwrap());
}

pub fn revoke_all_keeps_only_the_exception(make: Make) {
    let clock = start();
    let f = make(clock.clock());
    let session = session_on(&f, &clock, None);
    let ana = user("ana");
    let ids: Vec<SessionId> = (0..5).map(|_| login(&session, &clock, &ana)).collect();
    let other = login(&session, &clock, &user("bob"));

    assert_eq!(session.revoke_all(&ana, Some(&ids[2])).unwrap(), 4);
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(session.get(id).unwrap().is_some(), i == 2, "session {i}");
    }
    assert!(
        session.get(&other).unwrap().is_some(),
        "another user's session"
    );
    let listed = session.sessions_of(&ana, Some(&ids[2])).unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].current);
    // Again: nothing more to end. Then all of them.
    assert_eq!(session.revoke_all(&ana, Some(&ids[2])).unwrap(), 0);
    assert_eq!(session.revoke_all(&ana, None).unwrap(), 1);
    assert!(session.sessions_of(&ana, None).unwrap().is_empty());
}

pub fn regeneration_keeps_the_binding(make: Make) {
    let clock = start();
    let f = make(clock.clock());
    let session = session_on(&f, &clock, None);
    let ana = user("ana");
    let before = login(&session, &clock, &ana);
    let handle = session.sessions_of(&ana, None).unwrap()[0].handle;

    let after = session
        .regenerate(&before, &mut Headers::new())
        .unwrap()
        .unwrap();
    let listed = session.sessions_of(&ana, Some(&after)).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].handle, handle, "the handle survives regeneration");
    assert!(listed[0].current);

    // Through a handle too: regenerating on commit keeps it.
    let mut h = session.handle(&cookie_of(&after));
    h.regenerate().unwrap();
    let mut res = Headers::new();
    assert_eq!(h.commit(&mut res).unwrap(), CommitOutcome::Regenerated);
    let cookie = res.get("Set-Cookie").unwrap().split(';').next().unwrap();
    let last: SessionId = cookie.strip_prefix("session_id=").unwrap().parse().unwrap();
    assert_eq!(
        session.sessions_of(&ana, Some(&last)).unwrap()[0].handle,
        handle
    );

    // The handle ends the session under its newest ID.
    assert!(session.revoke(&ana, &handle).unwrap());
    assert_eq!(session.get(&last).unwrap(), None);
}

pub fn ended_sessions_are_never_listed(make: Make) {
    let clock = start();
    let f = make(clock.clock());
    let session = session_on(&f, &clock, None);
    let ana = user("ana");
    let logged_out = login(&session, &clock, &ana);
    let destroyed = login(&session, &clock, &ana);
    let kept = login(&session, &clock, &ana);
    assert_eq!(session.sessions_of(&ana, None).unwrap().len(), 3);

    session.delete(&logged_out, &mut Headers::new()).unwrap();
    let mut h = session.handle(&cookie_of(&destroyed));
    h.destroy().unwrap();
    assert_eq!(
        h.commit(&mut Headers::new()).unwrap(),
        CommitOutcome::Destroyed
    );
    let listed = session.sessions_of(&ana, Some(&kept)).unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].current);

    // Expired: idle for longer than the timeout.
    clock.advance(session.ttl().unwrap() + Duration::from_secs(1));
    assert!(session.sessions_of(&ana, None).unwrap().is_empty());
    // The index was pruned on the way: nothing left to revoke.
    assert_eq!(session.revoke_all(&ana, None).unwrap(), 0);
    if let Some(index) = f.store.user_index() {
        assert!(index.entries(&ana).unwrap().is_empty());
    }
}

pub fn cap_ends_the_least_recently_seen(make: Make) {
    let clock = start();
    let f = make(clock.clock());
    let session = session_on(&f, &clock, Some(3));
    let ana = user("ana");
    let first = login(&session, &clock, &ana);
    let second = login(&session, &clock, &ana);
    let third = login(&session, &clock, &ana);
    // The first is used again: the second is now the least recently seen.
    assert!(session.update(&first, json!({"seen": true})).unwrap());
    clock.advance(Duration::from_secs(1));
    let fourth = login(&session, &clock, &ana);

    assert_eq!(session.get(&second).unwrap(), None);
    for id in [&first, &third, &fourth] {
        assert!(session.get(id).unwrap().is_some());
    }
    assert_eq!(session.sessions_of(&ana, None).unwrap().len(), 3);
}

pub fn concurrent_logins_beyond_the_cap_leave_exactly_the_cap(make: Make) {
    let clock = start();
    let f = make(clock.clock());
    let session = Arc::new(session_on(&f, &clock, Some(3)));
    let ana = Arc::new(user("ana"));
    let ids: Vec<SessionId> = (0..8).map(|_| session.create(json!({})).unwrap()).collect();
    let barrier = Arc::new(Barrier::new(ids.len()));
    let threads: Vec<_> = ids
        .iter()
        .cloned()
        .map(|id| {
            let (session, ana, barrier) = (session.clone(), ana.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                session.bind_user(&id, &ana).unwrap();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let live = ids
        .iter()
        .filter(|id| session.get(id).unwrap().is_some())
        .count();
    assert_eq!(live, 3, "live sessions after 8 concurrent logins, cap 3");
    assert_eq!(session.sessions_of(&ana, None).unwrap().len(), 3);
}

pub fn an_in_flight_commit_after_revoke_all_finds_it_gone(make: Make) {
    let clock = start();
    let f = make(clock.clock());
    let session = session_on(&f, &clock, None);
    let ana = user("ana");
    let laptop = login(&session, &clock, &ana);
    let phone = login(&session, &clock, &ana);

    // A request of the phone, loaded before the revoke, commits after it.
    let request = cookie_of(&phone);
    let mut in_flight = session.handle(&request);
    assert_eq!(
        in_flight
            .update("visits", |n: Option<u64>| n.unwrap_or(0) + 1)
            .unwrap(),
        1
    );
    assert_eq!(session.revoke_all(&ana, Some(&laptop)).unwrap(), 1);
    assert_eq!(
        in_flight.commit(&mut Headers::new()).unwrap(),
        CommitOutcome::Gone
    );
    assert_eq!(session.get(&phone).unwrap(), None);
    assert_eq!(session.from_request(&request).unwrap(), None);
    assert!(session.get(&laptop).unwrap().is_some());
}

pub fn revoke_all_racing_regeneration_ends_both(make: Make) {
    let clock = start();
    let f = make(clock.clock());
    let session = Arc::new(session_on(&f, &clock, None));
    for round in 0..30 {
        let ana = user("ana");
        let old = login(&session, &clock, &ana);
        let barrier = Arc::new(Barrier::new(2));
        let regenerating = {
            let (session, barrier, old) = (session.clone(), barrier.clone(), old.clone());
            thread::spawn(move || {
                barrier.wait();
                session.regenerate(&old, &mut Headers::new()).unwrap()
            })
        };
        barrier.wait();
        session.revoke_all(&ana, None).unwrap();
        let new = regenerating.join().unwrap();
        assert_eq!(session.get(&old).unwrap(), None, "round {round}: old ID");
        if let Some(new) = new {
            assert_eq!(
                session.get(&new).unwrap(),
                None,
                "round {round}: new ID lives on"
            );
        }
        assert!(session.sessions_of(&ana, None).unwrap().is_empty());
    }
}

pub fn last_seen_moves_only_when_the_timeout_rolls(make: Make) {
    let clock = start();
    let f = make(clock.clock());
    let session = session_on(&f, &clock, None);
    let ana = user("ana");
    let id = session.create(json!({})).unwrap();
    session.bind_user(&id, &ana).unwrap();
    let bound_at = clock.clock().now();
    let seen = || session.sessions_of(&ana, None).unwrap()[0].last_seen;
    assert_eq!(seen(), bound_at);

    // A read before the renewal point writes nothing: last_seen stays.
    clock.advance(Duration::from_secs(5 * 60));
    session.get(&id).unwrap().unwrap();
    assert_eq!(seen(), bound_at);
    // A read past it renews the timeout, and last_seen with it.
    clock.advance(Duration::from_secs(20 * 60));
    session.get(&id).unwrap().unwrap();
    assert_eq!(seen(), clock.clock().now());
    // So does a write.
    clock.advance(Duration::from_secs(60));
    session.update(&id, json!({"n": 1})).unwrap();
    assert_eq!(seen(), clock.clock().now());
    let listed = session.sessions_of(&ana, None).unwrap();
    assert_eq!(listed[0].created_at, bound_at);
}

pub fn listing_reveals_no_session_id(make: Make) {
    let clock = start();
    let f = make(clock.clock());
    let session = session_on(&f, &clock, None);
    let ana = user("ana");
    let ids: Vec<SessionId> = (0..3).map(|_| login(&session, &clock, &ana)).collect();
    let listed = session.sessions_of(&ana, Some(&ids[0])).unwrap();
    let mut shown = format!("{listed:?}");
    for info in &listed {
        shown.push_str(&info.handle.to_string());
    }
    for id in &ids {
        assert!(!shown.contains(id.as_str()));
        assert!(!shown.contains(&RecordKey::of(id).to_hex()));
        let raw_hex: String = id.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert!(!shown.contains(&raw_hex));
    }
}

pub fn binding_to_another_user_moves_the_session(make: Make) {
    let clock = start();
    let f = make(clock.clock());
    let session = session_on(&f, &clock, None);
    let (ana, bob) = (user("ana"), user("bob"));
    let id = login(&session, &clock, &ana);
    assert!(session.bind_user(&id, &bob).unwrap());
    assert!(session.sessions_of(&ana, None).unwrap().is_empty());
    assert_eq!(session.sessions_of(&bob, Some(&id)).unwrap().len(), 1);
    // Ana's revoke_all no longer reaches it; Bob's does.
    assert_eq!(session.revoke_all(&ana, None).unwrap(), 0);
    assert!(session.get(&id).unwrap().is_some());
    assert_eq!(session.revoke_all(&bob, None).unwrap(), 1);
    assert_eq!(session.get(&id).unwrap(), None);
    // Binding an ended session binds nothing.
    assert!(!session.bind_user(&id, &ana).unwrap());
    assert!(session.sessions_of(&ana, None).unwrap().is_empty());
}

/// Generates one `#[test]` per user-index check for a store.
#[macro_export]
macro_rules! user_index_conformance {
    ($name:ident, $make:expr) => {
        mod $name {
            use super::*;
            const MAKE: $crate::common::suite::Make = $make;
            $crate::user_index_conformance!(@tests MAKE:
                bind_list_revoke,
                revoke_all_keeps_only_the_exception,
                regeneration_keeps_the_binding,
                ended_sessions_are_never_listed,
                cap_ends_the_least_recently_seen,
                concurrent_logins_beyond_the_cap_leave_exactly_the_cap,
                an_in_flight_commit_after_revoke_all_finds_it_gone,
                revoke_all_racing_regeneration_ends_both,
                last_seen_moves_only_when_the_timeout_rolls,
                listing_reveals_no_session_id,
                binding_to_another_user_moves_the_session,
            );
        }
    };
    (@tests $make:ident: $($check:ident,)*) => {
        $(
            #[test]
            fn $check() {
                $crate::common::user_suite::$check($make)
            }
        )*
    };
}

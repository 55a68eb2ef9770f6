//! The store conformance suite: one set of checks, run against every store by
//! `conformance!` (see `tests/stores/conformance.rs`).

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::write_log::WriteLog;

use http_session::{Clock, Data, Error, Headers, ManualClock, Record, Session, SessionId, Store};
use serde_json::{json, Value};

/// What a store promises beyond get/set/delete.
#[derive(Debug, Clone, Copy)]
pub struct Traits {
    /// `update` is atomic under concurrency, and so `take` (the provided one
    /// claims the record through `update`) and `create`. A store whose
    /// `create` is the provided get-then-set while its `update` is atomic is
    /// registered with `conformance!(name, make, create: not_atomic)`: that
    /// cannot be a field here, as other test modules (tests/stores/redis_cluster.rs)
    /// build `Traits` field by field.
    pub atomic: bool,
    /// The store itself never returns an expired record (by the clock it was
    /// given). A user's naive store may not: the `Session` then filters.
    pub honours_expiry: bool,
    /// `purge_expired` deletes expired records and counts them (Redis expires
    /// them by itself and returns 0).
    pub purges: bool,
}

/// A store under test, with whatever must live as long as it (a temp dir).
pub struct Fixture {
    pub store: Arc<dyn Store>,
    pub traits: Traits,
    pub _keep: Box<dyn Any>,
}

/// Builds a fresh, empty store whose expiry follows `clock`.
pub type Make = fn(Clock) -> Fixture;

fn data(value: Value) -> Data {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

/// A time with whole milliseconds: the precision every store keeps.
fn at_ms(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

fn start() -> ManualClock {
    // Near the real time, so stores whose server has its own clock (Redis)
    // compute sane times to live.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    ManualClock::new(at_ms(now))
}

fn session_on(fixture: &Fixture, clock: &ManualClock) -> Session<Arc<dyn Store>> {
    Session::builder()
        .store(Arc::clone(&fixture.store))
        .clock(clock.clock())
        .build()
        .unwrap()
}

pub fn get_set_delete(make: Make) {
    let clock = start();
    let f = make(clock.clock());
    let store = &f.store;
    let id = SessionId::generate();
    assert_eq!(store.get(&id).unwrap(), None);

    let mut record = Record::expiring(
        data(json!({"user": "ana", "n": 1})),
        clock.now() + Duration::from_secs(3600),
    );
    record.deadline = Some(clock.now() + Duration::from_secs(7200));
    store.set(&id, record.clone()).unwrap();
    assert_eq!(
        store.get(&id).unwrap(),
        Some(record.clone()),
        "expires_at and deadline round-trip"
    );

    let forever = Record::new(data(json!({"user": "bo"})));
    store.set(&id, forever.clone()).unwrap();
    assert_eq!(store.get(&id).unwrap(), Some(forever), "set replaces");

    let other = SessionId::generate();
    store.set(&other, record.clone()).unwrap();
    store.delete(&id).unwrap();
    assert_eq!(store.get(&id).unwrap(), None);
    assert_eq!(
        store.get(&other).unwrap(),
        Some(record),
        "delete touches one ID only"
    );
    store.delete(&id).unwrap(); // deleting an absent record is fine
    store.delete(&other).unwrap();
}

pub fn create_if_absent(make: Make) {
    let clock = start();
    let f = make(clock.clock());
    let store = &f.store;
    let id = SessionId::generate();
    let first = Record::new(data(json!({"who": "first"})));
    let second = Record::new(data(json!({"who": "second"})));
    assert!(store.create(&id, first.clone()).unwrap());
    assert!(
        !store.create(&id, second.clone()).unwrap(),
        "create never overwrites"
    );
    assert_eq!(store.get(&id).unwrap(), Some(first));
    store.delete(&id).unwrap();
    assert!(store.create(&id, second.clone()).unwrap());
    assert_eq!(store.get(&id).unwrap(), Some(second));
    store.delete(&id).unwrap();
}

pub fn create_is_atomic_under_threads(make: Make) {
    let clock = start();
    let f = make(clock.clock());
    if !f.traits.atomic {
        return;
    }
    for _ in 0..20 {
        let id = SessionId::generate();
        let winners: usize = thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|t| {
                    let store = &f.store;
                    let id = &id;
                    s.spawn(move || {
                        let record = Record::new(data(json!({ "thread": t })));
                        usize::from(store.create(id, record).unwrap())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(winners, 1, "exactly one of 8 racing creates wins");
        f.store.delete(&id).unwrap();
    }
}

pub fn update_semantics(make: Make) {
    let clock = start();
    let f = make(clock.clock());
    let store = &f.store;
    let id = SessionId::generate();
    let mut calls = 0;
    assert!(
        !store
            .update(&id, &mut |_| {
                calls += 1;
                true
            })
            .unwrap(),
        "absent: false"
    );
    assert_eq!(calls, 0, "closure not run for an absent record");

    let record = Record::expiring(data(json!({"n": 1})), clock.now() + Duration::from_secs(60));
    store.set(&id, record.clone()).unwrap();
    assert!(store
        .update(&id, &mut |r| {
            r.data.insert("n".into(), json!(2));
            r.expires_at = Some(clock.now() + Duration::from_secs(120));
            true
        })
        .unwrap());
    let got = store.get(&id).unwrap().unwrap();
    assert_eq!(got.data, data(json!({"n": 2})));
    assert_eq!(got.expires_at, Some(clock.now() + Duration::from_secs(120)));

    // A panicking closure leaves the record as it was, and the store usable.
    let before = store.get(&id).unwrap();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        store.update(&id, &mut |r| {
            r.data.insert("n".into(), json!("half-done"));
            panic!("closure failed");
        })
    }));
    assert!(outcome.is_err());
    assert_eq!(store.get(&id).unwrap(), before);
    assert!(store
        .update(&id, &mut |r| {
            r.data.insert("n".into(), json!(3));
            true
        })
        .unwrap());
    assert_eq!(store.get(&id).unwrap().unwrap().data["n"], 3);

    // A closure that returns false is not stored: the record stays as it was.
    let before = store.get(&id).unwrap();
    assert!(
        store
            .update(&id, &mut |r| {
                r.data.insert("n".into(), json!("not kept"));
                r.expires_at = Some(clock.now() + Duration::from_secs(999));
                false
            })
            .unwrap(),
        "a live record was found"
    );
    assert_eq!(store.get(&id).unwrap(), before, "nothing stored");
    store.delete(&id).unwrap();
    assert!(!store.update(&id, &mut |_| true).unwrap(), "deleted: false");
}

/// 8 threads each add their own keys and bump a shared counter. For the
/// custom store, whose default `update` is get-then-set and not atomic by
/// contract, the same updates run one thread at a time: only the single-thread
/// semantics are checked there.
pub fn update_is_atomic_under_8_threads(make: Make) {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 50;
    let clock = start();
    let f = make(clock.clock());
    let store = &f.store;
    let id = SessionId::generate();
    store
        .set(&id, Record::new(data(json!({"count": 0}))))
        .unwrap();
    let work = |t: usize| {
        for i in 0..PER_THREAD {
            assert!(store
                .update(&id, &mut |r| {
                    let n = r.data["count"].as_u64().unwrap();
                    r.data.insert("count".into(), json!(n + 1));
                    r.data.insert(format!("t{t}-{i}"), json!(true));
                    true
                })
                .unwrap());
        }
    };
    if f.traits.atomic {
        thread::scope(|s| {
            for t in 0..THREADS {
                s.spawn(move || work(t));
            }
        });
    } else {
        (0..THREADS).for_each(work);
    }
    let record = store.get(&id).unwrap().unwrap();
    assert_eq!(
        record.data["count"],
        (THREADS * PER_THREAD) as u64,
        "no update lost"
    );
    assert_eq!(record.data.len(), THREADS * PER_THREAD + 1);
    store.delete(&id).unwrap();
}

pub fn expiry(make: Make) {
    let clock = start();
    let f = make(clock.clock());
    let store = &f.store;
    let id = SessionId::generate();
    let soon = clock.now() + Duration::from_secs(10);
    store
        .set(&id, Record::expiring(data(json!({"a": 1})), soon))
        .unwrap();
    assert!(store.get(&id).unwrap().is_some());
    clock.advance(Duration::from_secs(9));
    assert!(store.get(&id).unwrap().is_some(), "alive until expires_at");
    clock.advance(Duration::from_secs(1));
    if f.traits.honours_expiry {
        assert_eq!(store.get(&id).unwrap(), None, "expired at expires_at");
        let mut ran = false;
        assert!(!store
            .update(&id, &mut |_| {
                ran = true;
                true
            })
            .unwrap());
        assert!(!ran, "an expired record is never handed to an update");
        assert!(
            store
                .create(&id, Record::new(data(json!({"b": 2}))))
                .unwrap(),
            "an expired record does not keep its ID taken"
        );
        assert_eq!(store.get(&id).unwrap().unwrap().data, data(json!({"b": 2})));
    }
    store.delete(&id).unwrap();

    // Whatever the store does, a Session never returns an expired session.
    let session = Session::builder()
        .store(Arc::clone(&f.store))
        .clock(clock.clock())
        .ttl(Duration::from_secs(60))
        .renew_after(1.0) // reads do not renew: the expiry below is exact
        .build()
        .unwrap();
    let id = session.create(json!({"user": "ana"})).unwrap();
    clock.advance(Duration::from_secs(30));
    assert!(session.touch(&id).unwrap(), "touch rolls the idle timeout");
    clock.advance(Duration::from_secs(45));
    assert!(
        session.get(&id).unwrap().is_some(),
        "alive 45 s after the touch"
    );
    clock.advance(Duration::from_secs(16));
    assert_eq!(session.get(&id).unwrap(), None);
    assert!(!session.update(&id, json!({"x": 1})).unwrap());
    assert_eq!(
        f.store.get(&id).unwrap(),
        None,
        "the session dropped it from the store"
    );
}

pub fn purge(make: Make) {
    let clock = start();
    let f = make(clock.clock());
    let store = &f.store;
    let now = clock.now();
    let expired = SessionId::generate();
    let live = SessionId::generate();
    let forever = SessionId::generate();
    store
        .set(
            &expired,
            Record::expiring(data(json!({"e": 1})), now + Duration::from_secs(5)),
        )
        .unwrap();
    store
        .set(
            &live,
            Record::expiring(data(json!({"l": 1})), now + Duration::from_secs(500)),
        )
        .unwrap();
    store
        .set(&forever, Record::new(data(json!({"f": 1}))))
        .unwrap();
    assert_eq!(store.purge_expired().unwrap(), 0, "nothing expired yet");
    clock.advance(Duration::from_secs(6));
    let purged = store.purge_expired().unwrap();
    if f.traits.purges {
        assert_eq!(purged, 1);
        assert_eq!(store.purge_expired().unwrap(), 0, "purge is idempotent");
    } else {
        assert_eq!(purged, 0, "stores that expire by themselves report 0");
    }
    if f.traits.honours_expiry {
        assert_eq!(store.get(&expired).unwrap(), None);
    }
    assert!(
        store.get(&live).unwrap().is_some(),
        "live records survive a purge"
    );
    assert!(store.get(&forever).unwrap().is_some());
    for id in [expired, live, forever] {
        store.delete(&id).unwrap();
    }
}

pub fn regenerate(make: Make) {
    let clock = start();
    let f = make(clock.clock());
    let session = session_on(&f, &clock);
    let old = session
        .create(json!({"user": "ana", "cart": [1, 2]}))
        .unwrap();
    let mut res = Headers::new();
    let new = session.regenerate(&old, &mut res).unwrap().unwrap();
    assert_ne!(new, old);
    assert_eq!(session.get(&old).unwrap(), None, "old ID is gone");
    assert_eq!(f.store.get(&old).unwrap(), None);
    assert_eq!(session.get(&new).unwrap().unwrap()["cart"], json!([1, 2]));
    let cookie = res.get("Set-Cookie").unwrap();
    assert!(
        cookie.starts_with(&format!("session_id={new};")),
        "{cookie}"
    );
    let unknown = SessionId::generate();
    assert_eq!(
        session.regenerate(&unknown, &mut Headers::new()).unwrap(),
        None
    );
    session.delete(&new, &mut Headers::new()).unwrap();
}

/// `take` hands out the live record whole, once, and leaves the ID free.
pub fn take_semantics(make: Make) {
    let clock = start();
    let f = make(clock.clock());
    let store = &f.store;
    let id = SessionId::generate();
    let mut record = Record::expiring(
        data(json!({"user": "ana", "cart": [1, 2]})),
        clock.now() + Duration::from_secs(3600),
    );
    record.deadline = Some(clock.now() + Duration::from_secs(7200));
    store.set(&id, record.clone()).unwrap();
    let forever = SessionId::generate();
    let forever_record = Record::new(data(json!({"f": 1})));
    store.set(&forever, forever_record.clone()).unwrap();

    assert_eq!(
        store.take(&id).unwrap(),
        Some(record),
        "data, expires_at and deadline intact"
    );
    assert_eq!(store.take(&id).unwrap(), None, "a record is taken once");
    assert_eq!(store.get(&id).unwrap(), None, "taken: gone");
    let mut ran = false;
    assert!(
        !store
            .update(&id, &mut |_| {
                ran = true;
                true
            })
            .unwrap(),
        "taken: nothing to update"
    );
    assert!(!ran, "the closure does not run on a taken record");
    let again = Record::new(data(json!({"again": true})));
    assert!(
        store.create(&id, again.clone()).unwrap(),
        "taken: the ID is free"
    );
    assert_eq!(store.get(&id).unwrap(), Some(again));
    assert_eq!(
        store.get(&forever).unwrap(),
        Some(forever_record.clone()),
        "take touches one ID only"
    );
    assert_eq!(
        store.take(&SessionId::generate()).unwrap(),
        None,
        "unknown ID"
    );
    assert_eq!(
        store.take(&forever).unwrap(),
        Some(forever_record),
        "a record that never expires"
    );

    if f.traits.honours_expiry {
        let old = SessionId::generate();
        store
            .set(
                &old,
                Record::expiring(data(json!({"e": 1})), clock.now() + Duration::from_secs(10)),
            )
            .unwrap();
        clock.advance(Duration::from_secs(10));
        // (Redis still holds it by its own clock: the skew case.)
        assert_eq!(store.take(&old).unwrap(), None, "expired: None");
        assert_eq!(store.get(&old).unwrap(), None);
        let new = Record::new(data(json!({"new": 1})));
        assert!(
            store.create(&old, new.clone()).unwrap(),
            "an expired record taken does not keep its ID"
        );
        assert_eq!(store.take(&old).unwrap(), Some(new));
    }
    store.delete(&id).unwrap();
}

/// 8 threads take one record at the same instant, round after round: exactly
/// one of them gets it each time.
pub fn take_is_atomic_under_threads(make: Make) {
    const THREADS: usize = 8;
    const ROUNDS: usize = 50;
    let clock = start();
    let f = make(clock.clock());
    if !f.traits.atomic {
        return;
    }
    let ids: Vec<SessionId> = (0..ROUNDS).map(|_| SessionId::generate()).collect();
    for (round, id) in ids.iter().enumerate() {
        let record = Record::expiring(
            data(json!({ "round": round })),
            clock.now() + Duration::from_secs(600),
        );
        f.store.set(id, record).unwrap();
    }
    let winners: Vec<AtomicUsize> = (0..ROUNDS).map(|_| AtomicUsize::new(0)).collect();
    let barrier = Barrier::new(THREADS);
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for (round, id) in ids.iter().enumerate() {
                    barrier.wait();
                    if let Some(record) = f.store.take(id).unwrap() {
                        assert_eq!(record.data["round"], round);
                        winners[round].fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
        }
    });
    for (round, count) in winners.iter().enumerate() {
        assert_eq!(
            count.load(Ordering::SeqCst),
            1,
            "round {round}: exactly one of {THREADS} racing takes gets the record"
        );
        assert_eq!(f.store.get(&ids[round]).unwrap(), None);
    }
}

/// Two requests regenerate one session at once, round after round, through
/// `Session`: exactly one gets the session (under a new ID, with its data),
/// the other `None`, and the old ID is gone.
pub fn regeneration_race(make: Make) {
    const ROUNDS: usize = 30;
    let clock = start();
    let f = make(clock.clock());
    if !f.traits.atomic {
        return;
    }
    let session = session_on(&f, &clock);
    for round in 0..ROUNDS {
        let old = session
            .create(json!({"user": "ana", "round": round}))
            .unwrap();
        let barrier = Barrier::new(2);
        let results: Vec<Option<SessionId>> = thread::scope(|s| {
            let racers: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        session.regenerate(&old, &mut Headers::new()).unwrap()
                    })
                })
                .collect();
            racers.into_iter().map(|r| r.join().unwrap()).collect()
        });
        let winners: Vec<SessionId> = results.into_iter().flatten().collect();
        assert_eq!(
            winners.len(),
            1,
            "round {round}: exactly one of two racing regenerations gets the session"
        );
        let new = &winners[0];
        assert_ne!(new, &old);
        assert_eq!(
            f.store.get(&old).unwrap(),
            None,
            "round {round}: old ID gone"
        );
        assert_eq!(
            session.get(new).unwrap().unwrap(),
            data(json!({"user": "ana", "round": round})),
            "round {round}: the winner's new ID has the data"
        );
        session.delete(new, &mut Headers::new()).unwrap();
    }
}

/// Regeneration, one at a time, on every store: the data and the absolute
/// deadline carry over to the new ID, nothing is written under the old one,
/// and regenerating every 20 minutes never keeps a session past its
/// one-hour absolute lifetime.
pub fn regenerate_keeps_data_and_deadline(make: Make) {
    const MINUTE: Duration = Duration::from_secs(60);
    let clock = start();
    let f = make(clock.clock());
    let log = Arc::new(WriteLog::new(Arc::clone(&f.store)));
    let session = Session::builder()
        .store(Arc::clone(&log))
        .clock(clock.clock())
        .ttl(30 * MINUTE)
        .absolute_lifetime(60 * MINUTE)
        .build()
        .unwrap();
    let deadline = clock.now() + 60 * MINUTE;
    let contents = data(json!({"user": "ana", "cart": [1, 2]}));
    let mut id = session.create(&contents).unwrap();
    assert_eq!(f.store.get(&id).unwrap().unwrap().deadline, Some(deadline));
    for minute in [20, 40] {
        clock.advance(20 * MINUTE);
        let old = id;
        log.forget(); // its creation, or the last regeneration
        let new = session
            .regenerate(&old, &mut Headers::new())
            .unwrap()
            .unwrap_or_else(|| panic!("minute {minute}: live, yet not regenerated"));
        assert_ne!(new, old);
        assert!(
            !log.wrote(&old),
            "minute {minute}: something was written under the old ID"
        );
        assert_eq!(
            f.store.get(&old).unwrap(),
            None,
            "minute {minute}: old ID gone"
        );
        let record = f.store.get(&new).unwrap().unwrap();
        assert_eq!(record.data, contents, "minute {minute}: data kept");
        assert_eq!(
            record.deadline,
            Some(deadline),
            "minute {minute}: the absolute deadline carries over"
        );
        assert!(
            record.expires_at.is_some_and(|at| at <= deadline),
            "minute {minute}: expires_at {:?} past the deadline",
            record.expires_at
        );
        id = new;
    }
    clock.advance(20 * MINUTE);
    assert_eq!(
        session.get(&id).unwrap(),
        None,
        "gone at the absolute deadline, however often it was regenerated"
    );
    assert_eq!(session.regenerate(&id, &mut Headers::new()).unwrap(), None);
    f.store.delete(&id).unwrap();
}

pub fn large_records(make: Make) {
    const MB: usize = 1024 * 1024;
    let clock = start();
    let f = make(clock.clock());
    let store = &f.store;
    let id = SessionId::generate();
    let big: String = "0123456789abcdef".repeat(MB / 16);
    let record = Record::new(data(json!({"blob": big, "list": vec![7u8; 1000]})));
    store.set(&id, record.clone()).unwrap();
    assert_eq!(store.get(&id).unwrap(), Some(record));
    assert!(store
        .update(&id, &mut |r| {
            r.data.insert("more".into(), json!("x".repeat(MB)));
            true
        })
        .unwrap());
    let got = store.get(&id).unwrap().unwrap();
    assert_eq!(got.data["more"].as_str().unwrap().len(), MB);
    assert_eq!(got.data["blob"].as_str().unwrap().len(), MB);
    store.delete(&id).unwrap();

    // Through Session, with its 64 KiB default limit raised.
    let session = Session::builder()
        .store(Arc::clone(&f.store))
        .clock(clock.clock())
        .max_data_size(4 * MB)
        .build()
        .unwrap();
    let id = session.create(json!({"blob": "y".repeat(MB)})).unwrap();
    assert!(session
        .update(&id, json!({"second": "z".repeat(MB)}))
        .unwrap());
    let got = session.get(&id).unwrap().unwrap();
    assert_eq!(got["blob"].as_str().unwrap().len(), MB);
    assert_eq!(got["second"].as_str().unwrap().len(), MB);
    // Over the limit: refused, and the stored session is unchanged.
    let err = session
        .update(&id, json!({"third": "w".repeat(3 * MB)}))
        .unwrap_err();
    assert!(matches!(err, Error::DataTooLarge { .. }), "{err}");
    assert!(session.get(&id).unwrap().unwrap().get("third").is_none());
    session.delete(&id, &mut Headers::new()).unwrap();
}

pub fn unicode_keys_and_values(make: Make) {
    let clock = start();
    let f = make(clock.clock());
    let store = &f.store;
    let id = SessionId::generate();
    let value = json!({
        "ключ": "значение",
        "🔑": "🦀 crab 🦀",
        "日本語": ["東京", "大阪"],
        "e\u{301}": "combining accent",
        "nul\u{0}and\ncontrols\t": "quote \" backslash \\ bell \u{7}",
        "rtl \u{202e}": {"nested": "\u{10FFFF}\u{FEFF}"},
        "": "empty key",
    });
    let record = Record::new(data(value.clone()));
    store.set(&id, record.clone()).unwrap();
    assert_eq!(store.get(&id).unwrap(), Some(record));
    assert!(store
        .update(&id, &mut |r| {
            r.data.insert("ñandú".into(), json!("ünïcödé"));
            true
        })
        .unwrap());
    let got = store.get(&id).unwrap().unwrap();
    assert_eq!(got.data["ñandú"], "ünïcödé");
    assert_eq!(got.data["🔑"], "🦀 crab 🦀");
    assert_eq!(
        got.data["nul\u{0}and\ncontrols\t"],
        value["nul\u{0}and\ncontrols\t"]
    );
    store.delete(&id).unwrap();
}

/// The seed's flow, through `Session`: login, profile, update-role, logout.
pub fn seed_flow_through_session(make: Make) {
    let clock = start();
    let f = make(clock.clock());
    let session = session_on(&f, &clock);

    let mut res = Headers::new();
    let id = session.create(json!({"userId": "123"})).unwrap();
    session.set_cookie(&mut res, &id).unwrap();
    let set_cookie = res.get("Set-Cookie").unwrap();
    let cookie = set_cookie.split(';').next().unwrap();

    let req = Headers::new().with("Cookie", &format!("theme=dark; {cookie}"));
    assert_eq!(
        session.from_request(&req).unwrap().unwrap()["userId"],
        "123"
    );

    let id = session.id_from_request(&req).unwrap();
    assert!(session.update(&id, json!({"role": "admin"})).unwrap());
    assert_eq!(
        session.get(&id).unwrap().unwrap(),
        data(json!({"userId": "123", "role": "admin"}))
    );

    let mut res = Headers::new();
    session.delete(&id, &mut res).unwrap();
    assert!(res.get("Set-Cookie").unwrap().contains("Max-Age=0"));
    assert_eq!(session.from_request(&req).unwrap(), None);
    assert_eq!(f.store.get(&id).unwrap(), None);
}

/// Generates one `#[test]` per suite check for a store.
///
/// `conformance!(name, make, create: not_atomic)` is for a store whose
/// `update` is atomic (`Traits::atomic`) but whose `create` is the provided
/// get-then-set: every check but `create_is_atomic_under_threads`.
#[macro_export]
macro_rules! conformance {
    ($name:ident, $make:expr) => {
        $crate::conformance!(@checks $name, $make, {
            #[test]
            fn create_is_atomic_under_threads() {
                $crate::common::suite::create_is_atomic_under_threads(MAKE)
            }
        });
    };
    ($name:ident, $make:expr, create: not_atomic) => {
        $crate::conformance!(@checks $name, $make, {});
    };
    (@checks $name:ident, $make:expr, { $($create_is_atomic:item)* }) => {
        mod $name {
            use super::*;
            const MAKE: $crate::common::suite::Make = $make;
            $($create_is_atomic)*
            #[test]
            fn get_set_delete() {
                $crate::common::suite::get_set_delete(MAKE)
            }
            #[test]
            fn create_if_absent() {
                $crate::common::suite::create_if_absent(MAKE)
            }
            #[test]
            fn update_semantics() {
                $crate::common::suite::update_semantics(MAKE)
            }
            #[test]
            fn update_is_atomic_under_8_threads() {
                $crate::common::suite::update_is_atomic_under_8_threads(MAKE)
            }
            #[test]
            fn expiry() {
                $crate::common::suite::expiry(MAKE)
            }
            #[test]
            fn purge() {
                $crate::common::suite::purge(MAKE)
            }
            #[test]
            fn regenerate() {
                $crate::common::suite::regenerate(MAKE)
            }
            #[test]
            fn take_semantics() {
                $crate::common::suite::take_semantics(MAKE)
            }
            #[test]
            fn take_is_atomic_under_threads() {
                $crate::common::suite::take_is_atomic_under_threads(MAKE)
            }
            #[test]
            fn regeneration_race() {
                $crate::common::suite::regeneration_race(MAKE)
            }
            #[test]
            fn regenerate_keeps_data_and_deadline() {
                $crate::common::suite::regenerate_keeps_data_and_deadline(MAKE)
            }
            #[test]
            fn large_records() {
                $crate::common::suite::large_records(MAKE)
            }
            #[test]
            fn unicode_keys_and_values() {
                $crate::common::suite::unicode_keys_and_values(MAKE)
            }
            #[test]
            fn seed_flow_through_session() {
                $crate::common::suite::seed_flow_through_session(MAKE)
            }
        }
    };
}

//! RedisStore beyond the conformance suite, on real redis-servers: time to
//! live, corrupt values, settings, and faults (a private server killed,
//! paused and restarted mid-traffic).
//!
//! Measured durations are printed: run with `--nocapture`.
#![cfg(feature = "redis")]

use crate::common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use common::redis_server::KeyOf;
use common::redis_server::{
    connect, shared_store, unique_prefix, KeyCleanup, PrivateRedis, SHARED_URL,
};
use http_session::store::{IndexEntry, RecordKey, RevocationHandle, UserIndex};
use http_session::{Error, ManualClock, Record, RedisStore, SessionId, Store};
use serde_json::json;

fn record(n: i64) -> Record {
    Record::new(json!({ "n": n }).as_object().unwrap().clone())
}

fn pttl(key: &str) -> i64 {
    redis::cmd("PTTL")
        .arg(key)
        .query(&mut connect(SHARED_URL))
        .unwrap()
}

#[test]
fn expiring_records_carry_a_redis_ttl() {
    let clock = ManualClock::new(SystemTime::now());
    let prefix = unique_prefix();
    let _cleanup = KeyCleanup::new(SHARED_URL, &prefix);
    let store = RedisStore::builder(SHARED_URL)
        .prefix(&prefix)
        .clock(clock.clock())
        .build()
        .unwrap();
    let id = SessionId::generate();
    let key = store.key_of(&id);
    assert!(key.starts_with(&prefix) && !key.contains(id.as_str()));

    let in_60s = Record::expiring(record(1).data, clock.now() + Duration::from_secs(60));
    assert!(store.create(&id, in_60s).unwrap());
    let ttl = pttl(&key);
    assert!(ttl > 0 && ttl <= 60_000, "PX set on create: {ttl}");

    assert!(store
        .update(&id, &mut |r| {
            r.expires_at = Some(clock.now() + Duration::from_secs(600));
            true
        })
        .unwrap());
    let ttl = pttl(&key);
    assert!(
        ttl > 60_000 && ttl <= 600_000,
        "update moves the TTL: {ttl}"
    );

    store.set(&id, record(2)).unwrap();
    assert_eq!(pttl(&key), -1, "a record without expiry has no TTL");

    // A record written already expired is not stored at all.
    let past = Record::expiring(record(3).data, clock.now() - Duration::from_secs(1));
    store.set(&id, past.clone()).unwrap();
    assert_eq!(pttl(&key), -2, "key gone");
    assert!(store.create(&id, past).unwrap());
    assert_eq!(pttl(&key), -2);
}

#[test]
fn redis_evicts_expired_sessions_by_itself() {
    let (store, _cleanup) = shared_store();
    let id = SessionId::generate();
    let soon = SystemTime::now() + Duration::from_millis(200);
    assert!(store
        .create(&id, Record::expiring(record(1).data, soon))
        .unwrap());
    while SystemTime::now() < soon + Duration::from_millis(50) {
        thread::sleep(Duration::from_millis(50));
    }
    // Redis expires a key once its time has passed: no purge involved.
    let exists: bool = redis::cmd("EXISTS")
        .arg(store.key_of(&id))
        .query(&mut connect(SHARED_URL))
        .unwrap();
    assert!(!exists);
    assert_eq!(store.get(&id).unwrap(), None);
    assert_eq!(store.purge_expired().unwrap(), 0);
}

#[test]
fn corrupt_and_foreign_values_are_errors_for_their_id_only() {
    let (store, _cleanup) = shared_store();
    let good = SessionId::generate();
    store.set(&good, record(7)).unwrap();
    let mut conn = connect(SHARED_URL);
    for bytes in [&b"not json"[..], b"{\"data\":[]}", b"\xff\xfe\x00"] {
        let id = SessionId::generate();
        let key = store.key_of(&id);
        let _: () = redis::cmd("SET")
            .arg(&key)
            .arg(bytes)
            .query(&mut conn)
            .unwrap();
        let err = store.get(&id).unwrap_err();
        assert!(matches!(err, Error::CorruptRecord { .. }), "{err}");
        let mut ran = false;
        assert!(matches!(
            store.update(&id, &mut |_| {
                ran = true;
                true
            }),
            Err(Error::CorruptRecord { .. })
        ));
        assert!(!ran);
        assert!(store.create(&id, record(1)).is_err());
        let still: Vec<u8> = redis::cmd("GET").arg(&key).query(&mut conn).unwrap();
        assert_eq!(still, bytes, "left as it was");
        store.delete(&id).unwrap();
        assert_eq!(store.get(&id).unwrap(), None);
    }
    // A key of another type: Redis's own error, and the connection stays usable.
    let id = SessionId::generate();
    let _: () = redis::cmd("RPUSH")
        .arg(store.key_of(&id))
        .arg("x")
        .query(&mut conn)
        .unwrap();
    let err = store.get(&id).unwrap_err();
    assert!(err.to_string().contains("WRONGTYPE"), "{err}");
    assert_eq!(
        store.get(&good).unwrap(),
        Some(record(7)),
        "nothing else lost"
    );
}

#[test]
fn update_retries_when_another_writer_wins_and_gives_up_clearly() {
    let prefix = unique_prefix();
    let _cleanup = KeyCleanup::new(SHARED_URL, &prefix);
    let store = RedisStore::builder(SHARED_URL)
        .prefix(&prefix)
        .max_update_attempts(3)
        .build()
        .unwrap();
    let id = SessionId::generate();
    let key = store.key_of(&id);
    store.set(&id, record(0)).unwrap();
    let mut other = connect(SHARED_URL);
    let mut interfere = |n: i64| {
        let value = record(n).encode().unwrap();
        let _: () = redis::cmd("SET")
            .arg(&key)
            .arg(value)
            .query(&mut other)
            .unwrap();
    };

    // Another server writes during the first two runs of the closure.
    let mut calls = 0;
    assert!(store
        .update(&id, &mut |r| {
            calls += 1;
            if calls <= 2 {
                interfere(100 + calls);
            }
            let n = r.data["n"].as_i64().unwrap();
            r.data.insert("n".into(), json!(n + 1));
            true
        })
        .unwrap());
    assert_eq!(calls, 3, "re-read and re-run after each lost race");
    assert_eq!(
        store.get(&id).unwrap().unwrap().data["n"],
        103,
        "built on the winner's write"
    );

    // Losing every race: a clear error, and the other writer's data intact.
    let mut other_writes = 500;
    let err = store
        .update(&id, &mut |r| {
            other_writes += 1;
            interfere(other_writes);
            r.data.insert("n".into(), json!(-1));
            true
        })
        .unwrap_err();
    assert!(err.to_string().contains("max_update_attempts"), "{err}");
    assert_eq!(other_writes, 503, "three attempts");
    assert_eq!(store.get(&id).unwrap().unwrap().data["n"], 503);
}

#[test]
fn bad_settings_are_refused_at_build() {
    for url in ["http://127.0.0.1", "127.0.0.1:6379", "", "redis://[::1"] {
        let err = RedisStore::builder(url).build().unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }), "{url}: {err}");
    }
    let builder = || RedisStore::builder("redis://127.0.0.1");
    assert!(builder().pool_size(0).build().is_err());
    assert!(builder().connect_timeout(Duration::ZERO).build().is_err());
    assert!(builder().command_timeout(Duration::ZERO).build().is_err());
    assert!(builder().max_update_attempts(0).build().is_err());
    let store = builder().build().unwrap();
    assert!(format!("{store:?}").contains("127.0.0.1:6379"));
}

#[test]
fn passwords_stay_out_of_errors_and_debug() {
    let port = common::redis_server::free_port(); // nothing listens there
    let store = RedisStore::builder(&format!("redis://user:s3cret@127.0.0.1:{port}/0"))
        .build()
        .unwrap();
    let err = store.ping().unwrap_err();
    let message = err.to_string();
    assert!(!message.contains("s3cret"), "{message}");
    assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
    assert!(!format!("{store:?}").contains("s3cret"));
    let builder = RedisStore::builder("redis://user:s3cret@127.0.0.1:6379/0");
    let shown = format!("{builder:?}");
    assert!(
        !shown.contains("s3cret") && shown.contains("127.0.0.1:6379"),
        "{shown}"
    );
}

/// A store for fault tests: short timeouts so a failing call returns soon.
fn fault_store(server: &PrivateRedis) -> RedisStore {
    RedisStore::builder(&server.url())
        .pool_size(8)
        .connect_timeout(Duration::from_millis(500))
        .command_timeout(Duration::from_millis(500))
        .build()
        .unwrap()
}

fn calls_while_down(store: &RedisStore, id: &SessionId, rounds: usize) -> Duration {
    let mut longest = Duration::ZERO;
    for _ in 0..rounds {
        let calls: [&dyn Fn() -> bool; 5] = [
            &|| store.get(id).is_err(),
            &|| store.set(id, record(1)).is_err(),
            &|| store.update(id, &mut |_| true).is_err(),
            &|| store.create(&SessionId::generate(), record(1)).is_err(),
            &|| store.delete(id).is_err(),
        ];
        for call in calls {
            let started = Instant::now();
            assert!(call(), "a call succeeded with Redis down");
            longest = longest.max(started.elapsed());
        }
    }
    longest
}

#[test]
fn killed_redis_fails_calls_cleanly_and_recovery_is_automatic() {
    let mut server = PrivateRedis::start();
    let store = fault_store(&server);
    let id = SessionId::generate();
    store.set(&id, record(0)).unwrap();

    // Traffic from 4 threads while the server is killed under them.
    let stop = AtomicBool::new(false);
    let (ok, failed) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let longest_failure = std::sync::Mutex::new(Duration::ZERO);
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..100_000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let started = Instant::now();
                    match store.update(&id, &mut |r| {
                        let n = r.data["n"].as_i64().unwrap();
                        r.data.insert("n".into(), json!(n + 1));
                        true
                    }) {
                        Ok(_) => ok.fetch_add(1, Ordering::Relaxed),
                        Err(e) => {
                            assert!(matches!(e, Error::Store { .. }), "{e}");
                            let mut longest = longest_failure.lock().unwrap();
                            *longest = (*longest).max(started.elapsed());
                            failed.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                }
            });
        }
        while ok.load(Ordering::Relaxed) < 200 {
            thread::sleep(Duration::from_millis(1));
        }
        server.kill();
        while failed.load(Ordering::Relaxed) < 100 {
            thread::sleep(Duration::from_millis(1));
        }
        stop.store(true, Ordering::Relaxed);
    });
    let longest_in_traffic = *longest_failure.lock().unwrap();

    // Down: every kind of call fails with a clear error.
    let err = store.get(&id).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("Redis at 127.0.0.1") && message.contains("reading a session"),
        "{message}"
    );
    let longest_down = calls_while_down(&store, &id, 20);

    // Back: the very first call succeeds, on a fresh connection.
    server.restart();
    let started = Instant::now();
    store.ping().unwrap();
    let first_after_restart = started.elapsed();
    assert_eq!(
        store.get(&id).unwrap(),
        None,
        "no persistence: the data went with it"
    );
    store.set(&id, record(1)).unwrap();
    assert!(store
        .update(&id, &mut |r| {
            *r = record(2);
            true
        })
        .unwrap());
    assert_eq!(store.get(&id).unwrap(), Some(record(2)));

    println!(
        "Redis killed mid-traffic: {} updates ok, then {} failed cleanly (longest {:?}); \
         100 calls on a dead server, longest {:?}; first call after restart ok in {:?}",
        ok.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
        longest_in_traffic,
        longest_down,
        first_after_restart,
    );
}

#[test]
fn hung_redis_fails_calls_at_the_command_timeout() {
    let server = PrivateRedis::start();
    let store = fault_store(&server);
    let id = SessionId::generate();
    store.set(&id, record(0)).unwrap();

    server.pause(); // accepts connections, answers nothing
    let started = Instant::now();
    let err = store.get(&id).unwrap_err();
    let first = started.elapsed();
    assert!(matches!(err, Error::Store { .. }), "{err}");
    let mut longest = first;
    for _ in 0..4 {
        let started = Instant::now();
        assert!(store.update(&id, &mut |_| true).is_err());
        longest = longest.max(started.elapsed());
    }
    server.resume();

    // Timed-out connections were dropped: no reply meant for an old command
    // is ever read as the answer to a new one.
    for n in 1..=20 {
        store.set(&id, record(n)).unwrap();
        assert_eq!(store.get(&id).unwrap(), Some(record(n)));
    }
    println!(
        "Redis paused (SIGSTOP), command timeout 500 ms: first call failed after {first:?}, \
         longest of 5 {longest:?}; all calls ok after SIGCONT"
    );
}

#[test]
fn store_built_while_redis_is_down_works_once_it_is_up() {
    let mut server = PrivateRedis::start();
    server.kill();
    let store = fault_store(&server);
    let started = Instant::now();
    assert!(store.ping().is_err());
    let refused = started.elapsed();
    server.restart();
    store.ping().unwrap();
    let id = SessionId::generate();
    assert!(store.create(&id, record(1)).unwrap());
    assert_eq!(store.get(&id).unwrap(), Some(record(1)));
    println!("Redis not running at start-up: ping failed after {refused:?}, then recovered");
}

#[test]
fn restart_while_connections_sit_idle_is_invisible_to_callers() {
    let mut server = PrivateRedis::start();
    let store = fault_store(&server);
    let ids: Vec<SessionId> = (0..4).map(|_| SessionId::generate()).collect();
    // Open several pooled connections at once, then let them sit idle.
    thread::scope(|s| {
        for id in &ids {
            let store = &store;
            s.spawn(move || {
                for n in 0..50 {
                    store.set(id, record(n)).unwrap();
                }
            });
        }
    });
    server.kill();
    server.restart();
    // Every idle connection is dead now; the first calls still succeed.
    let started = Instant::now();
    assert!(
        store.create(&ids[0], record(1)).unwrap(),
        "the restart emptied Redis"
    );
    let first = started.elapsed();
    assert!(store
        .update(&ids[0], &mut |r| {
            *r = record(2);
            true
        })
        .unwrap());
    for id in &ids[1..] {
        assert_eq!(store.get(id).unwrap(), None);
        store.set(id, record(3)).unwrap();
    }
    assert_eq!(store.get(&ids[0]).unwrap(), Some(record(2)));
    println!("Redis restarted under idle pooled connections: first call ok in {first:?}");
}

/// A value this store's clock calls expired while Redis still holds it
/// (clock skew between servers): `take` deletes it and returns `None`. A
/// corrupt value is an error, and taken out all the same.
#[test]
fn take_deletes_what_it_does_not_hand_out() {
    let clock = ManualClock::new(SystemTime::now());
    let prefix = unique_prefix();
    let _cleanup = KeyCleanup::new(SHARED_URL, &prefix);
    let store = RedisStore::builder(SHARED_URL)
        .prefix(&prefix)
        .clock(clock.clock())
        .build()
        .unwrap();
    let exists = |key: &str| -> bool {
        redis::cmd("EXISTS")
            .arg(key)
            .query(&mut connect(SHARED_URL))
            .unwrap()
    };
    let skewed = SessionId::generate();
    store
        .set(
            &skewed,
            Record::expiring(record(1).data, clock.now() + Duration::from_secs(60)),
        )
        .unwrap();
    clock.advance(Duration::from_secs(61));
    assert!(exists(&store.key_of(&skewed)), "Redis's clock: still live");
    assert_eq!(store.take(&skewed).unwrap(), None);
    assert!(!exists(&store.key_of(&skewed)), "deleted anyway");

    let corrupt = SessionId::generate();
    let _: () = redis::cmd("SET")
        .arg(store.key_of(&corrupt))
        .arg("not json")
        .query(&mut connect(SHARED_URL))
        .unwrap();
    let err = store.take(&corrupt).unwrap_err();
    assert!(matches!(err, Error::CorruptRecord { .. }), "{err}");
    assert!(!exists(&store.key_of(&corrupt)));
}

/// A take on a pooled connection that died while idle (Redis restarted) is
/// retried on a fresh one. The dead try may have run before the connection
/// died, so a retry that finds nothing is an error, never a silent `None`;
/// a retry that finds the session hands it out.
#[test]
fn take_after_a_restart_under_idle_connections_never_loses_a_session_silently() {
    let mut server = PrivateRedis::start();
    let store = fault_store(&server);
    let fill_pool = || {
        thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for n in 0..20 {
                        store.set(&SessionId::generate(), record(n)).unwrap();
                    }
                });
            }
        })
    };

    // The restart emptied Redis: the retry finds nothing, which is ambiguous.
    let gone = SessionId::generate();
    store.set(&gone, record(1)).unwrap();
    fill_pool();
    server.kill();
    server.restart();
    let err = store.take(&gone).unwrap_err();
    assert!(matches!(err, Error::Store { .. }), "{err}");
    assert!(err.to_string().contains("taking a session"), "{err}");
    assert_eq!(
        store.take(&gone).unwrap(),
        None,
        "a fresh connection: a clear None"
    );

    // The session is there after the restart: the retry hands it out.
    fill_pool();
    server.kill();
    server.restart();
    let kept = SessionId::generate();
    let _: () = redis::cmd("SET")
        .arg(store.key_of(&kept))
        .arg(record(2).encode().unwrap())
        .query(&mut connect(&server.url()))
        .unwrap();
    assert_eq!(store.take(&kept).unwrap(), Some(record(2)));
    assert_eq!(store.get(&kept).unwrap(), None);
}

// ---- A user's sessions: the index is one hash per user ----

/// SHA-256 of `text`'s bytes, lowercase hex: how the store names a user's
/// index, computed here independently.
fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn hgetall(key: &str) -> std::collections::HashMap<String, String> {
    redis::cmd("HGETALL")
        .arg(key)
        .query(&mut connect(SHARED_URL))
        .unwrap()
}

/// The index of user `u` is the hash `<prefix>user:<SHA-256 hex of u>`:
/// field = the handle a listing shows, value = the record's key. A
/// regeneration moves the value, a revoke removes the field, and the last
/// removal deletes the hash. The hash has no TTL (see `RedisStore`'s docs:
/// no bound on its records' lifetimes is known), and `count` is `None`.
#[test]
fn a_users_index_is_one_hash_named_by_the_hash_of_the_name() {
    use http_session::{Headers, Session};
    let (store, cleanup) = shared_store();
    assert_eq!(store.count().unwrap(), None, "DBSIZE is not ours to count");
    let session = Session::with_store(store);
    let user = "ana@example.com";
    let index = format!("{}user:{}", cleanup.prefix(), sha256_hex(user));
    assert!(!index.contains(user));
    let ids: Vec<SessionId> = (0..3)
        .map(|n| {
            let id = session.create(json!({ "n": n })).unwrap();
            assert!(session.bind_user(&id, user).unwrap());
            id
        })
        .collect();

    let listed = session.sessions_of(user, None).unwrap();
    let fields = hgetall(&index);
    assert_eq!(fields.len(), 3);
    for info in &listed {
        let value = &fields[&info.handle.to_string()];
        assert!(
            ids.iter()
                .any(|id| *value == common::fuzz_checks::hashed_name(id)),
            "each value is the key of one bound record"
        );
    }
    assert_eq!(pttl(&index), -1, "no TTL of its own");

    // Regenerating moves the entry to the new record's key.
    let old_value = fields[&listed[0].handle.to_string()].clone();
    let moved = ids
        .iter()
        .find(|id| common::fuzz_checks::hashed_name(id) == old_value)
        .unwrap();
    let fresh = session
        .regenerate(moved, &mut Headers::new())
        .unwrap()
        .unwrap();
    let fields = hgetall(&index);
    assert_eq!(
        fields[&listed[0].handle.to_string()],
        common::fuzz_checks::hashed_name(&fresh)
    );

    // One revoke removes one field; the last one takes the hash with it.
    assert!(session.revoke(user, &listed[1].handle).unwrap());
    assert_eq!(hgetall(&index).len(), 2);
    assert_eq!(session.revoke_all(user, None).unwrap(), 2);
    let exists: bool = redis::cmd("EXISTS")
        .arg(&index)
        .query(&mut connect(SHARED_URL))
        .unwrap();
    assert!(!exists, "an empty index is deleted");
    assert_eq!(
        common::redis_server::keys(SHARED_URL, cleanup.prefix()),
        Vec::<String>::new()
    );
}

/// An index entry whose record ended without the index knowing (here a
/// plain delete; in production Redis's own expiry) is pruned by the next
/// listing: a listing never shows it, and the field goes.
#[test]
fn entries_of_ended_records_are_pruned_on_read() {
    use http_session::Session;
    let (store, cleanup) = shared_store();
    let session = Session::with_store(store);
    let index = format!("{}user:{}", cleanup.prefix(), sha256_hex("ana"));
    let kept = session.create(json!({})).unwrap();
    let gone = session.create(json!({})).unwrap();
    session.bind_user(&kept, "ana").unwrap();
    session.bind_user(&gone, "ana").unwrap();
    session.store().delete(&gone).unwrap();
    assert_eq!(hgetall(&index).len(), 2, "the index does not know yet");
    assert_eq!(session.sessions_of("ana", None).unwrap().len(), 1);
    let fields = hgetall(&index);
    assert_eq!(fields.len(), 1, "pruned by the listing");
    assert_eq!(
        fields.values().next().unwrap(),
        &common::fuzz_checks::hashed_name(&kept)
    );
}

/// A field the store did not write (a newer version's format, tampering)
/// fails the listing and `revoke_all` with `CorruptRecord` rather than being
/// skipped: a skipped entry could be a live session that `revoke_all` would
/// report ended. The error names neither the user nor the field. Once the
/// field is deleted, everything works again.
#[test]
fn a_malformed_index_field_fails_closed() {
    use http_session::Session;
    let (store, cleanup) = shared_store();
    let session = Session::with_store(store);
    let user = "bob";
    let index = format!("{}user:{}", cleanup.prefix(), sha256_hex(user));
    let id = session.create(json!({})).unwrap();
    session.bind_user(&id, user).unwrap();
    let mut conn = connect(SHARED_URL);
    let bad_field = "not-a-handle-secret-field";
    let good_value = common::fuzz_checks::hashed_name(&id);
    for (field, value) in [
        (bad_field, good_value.as_str()),
        (
            "00112233445566778899aabbccddeeff",
            "not-a-record-key-secret",
        ),
    ] {
        let _: () = redis::cmd("HSET")
            .arg(&index)
            .arg(field)
            .arg(value)
            .query(&mut conn)
            .unwrap();
        for err in [
            session.sessions_of(user, None).unwrap_err(),
            session.revoke_all(user, None).unwrap_err(),
        ] {
            assert!(matches!(err, Error::CorruptRecord { .. }), "{err}");
            let message = format!("{err} {err:?}");
            for secret in [user, field, value, &index, id.as_str()] {
                assert!(!message.contains(secret), "{message}");
            }
        }
        let _: () = redis::cmd("HDEL")
            .arg(&index)
            .arg(field)
            .query(&mut conn)
            .unwrap();
    }
    assert_eq!(session.sessions_of(user, None).unwrap().len(), 1);
    assert_eq!(session.revoke_all(user, None).unwrap(), 1);
    assert_eq!(session.get(&id).unwrap(), None);
}

/// Which step of `revoke_all` a [`Tripwire`] fires before.
#[derive(Clone, Copy, PartialEq)]
enum Step {
    /// Deleting a record (`DEL`).
    RemoveRecord,
    /// Removing the entry (the swap script).
    SwapEntry,
}

/// A RedisStore that calls `trip` once, just before the `at`-th call of a
/// step of the user index after [`arm`](Tripwire::arm): a fault injected at a
/// known point of `revoke_all`, instead of a race with a timer.
struct Tripwire<'a> {
    store: RedisStore,
    trip: &'a (dyn Fn() + Sync),
    armed: std::sync::Mutex<Option<(Step, usize)>>,
}

impl<'a> Tripwire<'a> {
    fn new(store: RedisStore, trip: &'a (dyn Fn() + Sync)) -> Tripwire<'a> {
        Tripwire {
            store,
            trip,
            armed: std::sync::Mutex::new(None),
        }
    }

    fn arm(&self, step: Step, at: usize) {
        *self.armed.lock().unwrap() = Some((step, at));
    }

    fn step(&self, step: Step) {
        let mut armed = self.armed.lock().unwrap();
        if let Some((armed_step, left)) = armed.as_mut() {
            if *armed_step == step {
                *left -= 1;
                if *left == 0 {
                    *armed = None;
                    drop(armed);
                    (self.trip)();
                }
            }
        }
    }
}

impl Store for Tripwire<'_> {
    fn get(&self, id: &SessionId) -> Result<Option<Record>, Error> {
        self.store.get(id)
    }
    fn set(&self, id: &SessionId, record: Record) -> Result<(), Error> {
        self.store.set(id, record)
    }
    fn delete(&self, id: &SessionId) -> Result<(), Error> {
        self.store.delete(id)
    }
    fn update(
        &self,
        id: &SessionId,
        f: &mut dyn FnMut(&mut Record) -> bool,
    ) -> Result<bool, Error> {
        self.store.update(id, f)
    }
    fn create(&self, id: &SessionId, record: Record) -> Result<bool, Error> {
        self.store.create(id, record)
    }
    fn take(&self, id: &SessionId) -> Result<Option<Record>, Error> {
        self.store.take(id)
    }
    fn user_index(&self) -> Option<&dyn UserIndex> {
        Some(self)
    }
}

impl UserIndex for Tripwire<'_> {
    fn entries(&self, user: &str) -> Result<Vec<IndexEntry>, Error> {
        self.store.entries(user)
    }
    fn swap_entry(
        &self,
        user: &str,
        handle: &RevocationHandle,
        expected: Option<&RecordKey>,
        new: Option<&SessionId>,
    ) -> Result<bool, Error> {
        self.step(Step::SwapEntry);
        self.store.swap_entry(user, handle, expected, new)
    }
    fn record(&self, user: &str, key: &RecordKey) -> Result<Option<Record>, Error> {
        self.store.record(user, key)
    }
    fn remove_record(&self, user: &str, key: &RecordKey) -> Result<bool, Error> {
        self.step(Step::RemoveRecord);
        self.store.remove_record(user, key)
    }
}

/// `user`'s sessions on `session`: `n` of them, each bound.
fn bound_sessions<S: Store>(
    session: &http_session::Session<S>,
    user: &str,
    n: usize,
) -> Vec<SessionId> {
    (0..n)
        .map(|i| {
            let id = session.create(json!({ "device": i })).unwrap();
            assert!(session.bind_user(&id, user).unwrap());
            id
        })
        .collect()
}

/// The fault test: Redis fails while `revoke_all` runs through 50
/// sessions, `revoke_all` returns an error (neither a panic nor `Ok`), and
/// calling it again once Redis is back completes the revoke: none of the 50
/// sessions is served afterwards.
///
/// The server is stopped with SIGSTOP rather than killed: this Redis keeps
/// nothing on disk, so a killed and restarted one would be empty, and the
/// retry would complete nothing but a wipe. A stopped server is the same
/// fault for the client (commands go unanswered; the store's command timeout
/// turns that into an error) and keeps its data for the retry. It is
/// stopped at a known step, twice: before the 20th record deletion, then in
/// the second attempt before the 10th entry removal (the swap script).
#[test]
fn redis_stopped_during_revoke_all_fails_it_and_a_retry_completes_it() {
    use http_session::Session;
    let server = PrivateRedis::start();
    let stop = || server.pause();
    let session = Session::with_store(Tripwire::new(fault_store(&server), &stop));
    let user = "carol";
    let ids = bound_sessions(&session, user, 50);
    assert_eq!(session.sessions_of(user, None).unwrap().len(), 50);

    for (step, at) in [(Step::RemoveRecord, 20), (Step::SwapEntry, 10)] {
        session.store().arm(step, at);
        let started = Instant::now();
        let err = session.revoke_all(user, None).unwrap_err();
        let failed_after = started.elapsed();
        assert!(matches!(err, Error::Store { .. }), "{err}");
        let message = format!("{err} {err:?}");
        assert!(!message.contains(user), "{message}");
        for id in &ids {
            assert!(!message.contains(id.as_str()), "{message}");
            assert!(
                !message.contains(&common::fuzz_checks::hashed_name(id)),
                "{message}"
            );
        }
        server.resume();
        println!("Redis stopped before step {at}: revoke_all failed after {failed_after:?}");
    }
    let served_before_retry = ids
        .iter()
        .filter(|id| session.get(id).unwrap().is_some())
        .count();
    assert!(
        (1..50).contains(&served_before_retry),
        "the failed attempts ended some sessions, not all: {served_before_retry} left"
    );

    let ended = session.revoke_all(user, None).unwrap();
    assert_eq!(ended, served_before_retry, "the retry ends the rest");
    println!("after the two failed attempts, the retry ended the {ended} sessions left of 50");
    for id in &ids {
        assert_eq!(
            session.get(id).unwrap(),
            None,
            "a revoked session is served"
        );
    }
    assert!(session.sessions_of(user, None).unwrap().is_empty());
    let index_left: bool = redis::cmd("EXISTS")
        .arg(format!("session:user:{}", sha256_hex(user)))
        .query(&mut connect(&server.url()))
        .unwrap();
    assert!(!index_left, "the index is gone with its last entry");
}

/// The same fault as a real kill (SIGKILL before the 20th record deletion):
/// `revoke_all` returns an error, not a panic or `Ok`. A restarted Redis
/// without persistence is empty, so the retry succeeds with nothing left to
/// end and no session is served; see the test above for a retry that has
/// work left.
#[test]
fn redis_killed_during_revoke_all_fails_it_cleanly() {
    use http_session::Session;
    let server = std::sync::Mutex::new(PrivateRedis::start());
    let store = fault_store(&server.lock().unwrap());
    let url = server.lock().unwrap().url();
    let kill = || server.lock().unwrap().kill();
    let session = Session::with_store(Tripwire::new(store, &kill));
    let user = "dave";
    let ids = bound_sessions(&session, user, 50);

    session.store().arm(Step::RemoveRecord, 20);
    let err = session.revoke_all(user, None).unwrap_err();
    assert!(matches!(err, Error::Store { .. }), "{err}");
    assert!(
        err.to_string().contains(&url[8..]),
        "names the server: {err}"
    );
    assert!(session.sessions_of(user, None).is_err(), "still down");

    server.lock().unwrap().restart();
    assert_eq!(session.revoke_all(user, None).unwrap(), 0);
    for id in &ids {
        assert_eq!(session.get(id).unwrap(), None);
    }
}

/// The swap script is never retried on a fresh connection (it may have run
/// before the old one died), yet a restart under idle pooled connections
/// does not fail a bind or a revoke: each first reads through `run`, which
/// retries once and clears out the dead connections before the swap.
#[test]
fn a_restart_under_idle_connections_fails_no_bind_nor_revoke() {
    use http_session::Session;
    let mut server = PrivateRedis::start();
    let session = Session::with_store(fault_store(&server));
    let fill_pool = |session: &Session<RedisStore>| {
        thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for n in 0..20 {
                        session
                            .store()
                            .set(&SessionId::generate(), record(n))
                            .unwrap();
                    }
                });
            }
        })
    };
    // A session Redis still holds after the restart (written again by hand:
    // this Redis keeps nothing on disk).
    let id = SessionId::generate();
    let value = Record::expiring(record(1).data, SystemTime::now() + Duration::from_secs(600))
        .encode()
        .unwrap();
    fill_pool(&session);
    server.kill();
    server.restart();
    let _: () = redis::cmd("SET")
        .arg(session.store().key_of(&id))
        .arg(&value)
        .query(&mut connect(&server.url()))
        .unwrap();
    assert!(session.bind_user(&id, "erin").unwrap());
    let listed = session.sessions_of("erin", None).unwrap();
    assert_eq!(listed.len(), 1);

    // Both the record and the index held after a restart (copied back by
    // hand): revoke_all ends the session.
    let bound = redis::cmd("GET")
        .arg(session.store().key_of(&id))
        .query::<Vec<u8>>(&mut connect(&server.url()))
        .unwrap();
    let index = format!("session:user:{}", sha256_hex("erin"));
    fill_pool(&session);
    server.kill();
    server.restart();
    let mut conn = connect(&server.url());
    let _: () = redis::cmd("SET")
        .arg(session.store().key_of(&id))
        .arg(&bound)
        .query(&mut conn)
        .unwrap();
    let _: () = redis::cmd("HSET")
        .arg(&index)
        .arg(listed[0].handle.to_string())
        .arg(common::fuzz_checks::hashed_name(&id))
        .query(&mut conn)
        .unwrap();
    assert_eq!(session.revoke_all("erin", None).unwrap(), 1);
    assert_eq!(session.get(&id).unwrap(), None);
    assert!(session.sessions_of("erin", None).unwrap().is_empty());
}

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

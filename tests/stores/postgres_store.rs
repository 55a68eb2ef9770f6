//! PostgresStore beyond the conformance suite, on the machine's PostgreSQL
//! (each test on tables of its own): the documented schema, its version
//! check, corrupt rows, cleanup in bounded batches, settings, credentials kept
//! out of errors and `Debug`, and faults (connections terminated with
//! `pg_terminate_backend` mid-traffic, a locked table, servers that never
//! answer or refuse the password).
//!
//! Measured durations are printed: run with `--nocapture`.
#![cfg(feature = "postgres")]

use crate::common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use common::postgres_server::{admin, private_store, unique_prefix, TableCleanup, PARAMS};
use http_session::store::RecordKey;
use http_session::{Error, ManualClock, PostgresStore, Record, Session, SessionId, Store};
use serde_json::json;

fn record(n: i64) -> Record {
    Record::new(json!({ "n": n }).as_object().unwrap().clone())
}

/// The raw `data` of `id`'s row, if there is one.
fn raw_data(
    admin: &mut postgres::Client,
    store: &PostgresStore,
    id: &SessionId,
) -> Option<Vec<u8>> {
    let key = RecordKey::of(id);
    let key: &[u8] = key.as_bytes();
    admin
        .query_opt(
            &format!("SELECT data FROM {} WHERE key = $1", store.sessions_table()),
            &[&key],
        )
        .unwrap()
        .map(|row| row.get(0))
}

fn count_rows(admin: &mut postgres::Client, table: &str) -> i64 {
    admin
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .unwrap()
        .get(0)
}

#[test]
fn the_tables_follow_the_documented_schema() {
    let (store, cleanup) = private_store();
    store.ping().unwrap();
    let p = cleanup.prefix();
    let mut admin = admin();
    let columns = |admin: &mut postgres::Client, table: &str| -> Vec<(String, String, String)> {
        admin
            .query(
                "SELECT column_name::text, data_type::text, is_nullable::text \
                 FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position",
                &[&format!("{p}{table}")],
            )
            .unwrap()
            .iter()
            .map(|row| (row.get(0), row.get(1), row.get(2)))
            .collect()
    };
    let col = |name: &str, ty: &str, null: &str| (name.to_owned(), ty.to_owned(), null.to_owned());
    assert_eq!(
        columns(&mut admin, "sessions"),
        [
            col("key", "bytea", "NO"),
            col("data", "bytea", "NO"),
            col("expires_at", "timestamp with time zone", "YES"),
        ]
    );
    assert_eq!(
        columns(&mut admin, "users"),
        [
            col("user_hash", "bytea", "NO"),
            col("handle", "bytea", "NO"),
            col("record_key", "bytea", "NO"),
        ]
    );
    assert_eq!(
        columns(&mut admin, "schema"),
        [
            col("singleton", "boolean", "NO"),
            col("version", "integer", "NO")
        ]
    );
    let primary_key = |table: &str, admin: &mut postgres::Client| -> String {
        admin
            .query_one(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint \
                 WHERE conrelid = to_regclass($1) AND contype = 'p'",
                &[&format!("\"{p}{table}\"")],
            )
            .unwrap()
            .get(0)
    };
    assert_eq!(primary_key("sessions", &mut admin), "PRIMARY KEY (key)");
    assert_eq!(
        primary_key("users", &mut admin),
        "PRIMARY KEY (user_hash, handle)"
    );
    let index: String = admin
        .query_one(
            "SELECT indexdef FROM pg_indexes WHERE indexname = $1",
            &[&format!("{p}sessions_expires_at")],
        )
        .unwrap()
        .get(0);
    assert!(
        index.contains("(expires_at)") && index.contains("WHERE (expires_at IS NOT NULL)"),
        "{index}"
    );
    let version: i32 = admin
        .query_one(
            &format!("SELECT version FROM {}", store.schema_table()),
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(version, 1);

    // A row: the key is the SHA-256 of the ID, the data Record::encode's text.
    let id = SessionId::generate();
    let expires = SystemTime::UNIX_EPOCH + Duration::from_millis(4_102_444_800_123);
    let stored = Record::expiring(record(7).data, expires);
    store.set(&id, stored.clone()).unwrap();
    let row = admin
        .query_one(
            &format!(
                "SELECT key, data, expires_at FROM {}",
                store.sessions_table()
            ),
            &[],
        )
        .unwrap();
    let key: Vec<u8> = row.get(0);
    assert_eq!(key, RecordKey::of(&id).as_bytes());
    let data: Vec<u8> = row.get(1);
    assert_eq!(String::from_utf8(data).unwrap(), stored.encode().unwrap());
    let at: SystemTime = row.get(2);
    assert_eq!(at, expires);
}

#[test]
fn a_schema_of_its_own_is_created_and_used() {
    let schema = unique_prefix().trim_end_matches('_').to_owned();
    let store = PostgresStore::builder(PARAMS)
        .schema(&schema)
        .build()
        .unwrap();
    assert_eq!(
        store.sessions_table(),
        format!("{schema}.http_session_sessions")
    );
    let id = SessionId::generate();
    store.set(&id, record(1)).unwrap();
    assert_eq!(store.get(&id).unwrap(), Some(record(1)));
    let mut admin = admin();
    assert_eq!(count_rows(&mut admin, &store.sessions_table()), 1);
    drop(store);
    admin
        .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .unwrap();
}

#[test]
fn concurrent_first_calls_set_up_the_tables_once() {
    let prefix = unique_prefix();
    let _cleanup = TableCleanup::new(&prefix);
    let stores: Vec<PostgresStore> = (0..6)
        .map(|_| {
            PostgresStore::builder(PARAMS)
                .table_prefix(&prefix)
                .build()
                .unwrap()
        })
        .collect();
    let barrier = Barrier::new(stores.len());
    thread::scope(|s| {
        for store in &stores {
            let barrier = &barrier;
            s.spawn(move || {
                barrier.wait();
                let id = SessionId::generate();
                assert!(store.create(&id, record(1)).unwrap());
            });
        }
    });
    let mut admin = admin();
    assert_eq!(
        count_rows(&mut admin, &stores[0].sessions_table()),
        stores.len() as i64
    );
    assert_eq!(count_rows(&mut admin, &stores[0].schema_table()), 1);
}

#[test]
fn a_newer_schema_version_is_refused_and_left_as_it_was() {
    let (store, cleanup) = private_store();
    let id = SessionId::generate();
    store.set(&id, record(1)).unwrap();
    let mut admin = admin();
    admin
        .batch_execute(&format!("UPDATE {} SET version = 2", store.schema_table()))
        .unwrap();

    // A store opened on those tables now, as an older program would.
    let older = PostgresStore::builder(PARAMS)
        .table_prefix(cleanup.prefix())
        .build()
        .unwrap();
    let err = older.ping().unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, Error::Store { .. }), "{message}");
    assert!(
        message.contains("newer version of http-session")
            && message.contains("schema version 2")
            && message.contains("upgrade http-session"),
        "{message}"
    );
    // Every call says the same, and nothing is read or written.
    let err = older.get(&id).unwrap_err().to_string();
    assert!(err.contains("schema version 2"), "{err}");
    assert!(older.set(&id, record(2)).is_err());
    assert!(older.create(&SessionId::generate(), record(2)).is_err());
    assert_eq!(
        raw_data(&mut admin, &store, &id).unwrap(),
        record(1).encode().unwrap().into_bytes(),
        "the session is as it was"
    );
    assert_eq!(count_rows(&mut admin, &store.sessions_table()), 1);
    let version: i32 = admin
        .query_one(
            &format!("SELECT version FROM {}", store.schema_table()),
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(version, 2, "the version is left as it was");

    // A version table without its row is refused too, and named.
    admin
        .batch_execute(&format!("DELETE FROM {}", store.schema_table()))
        .unwrap();
    let fresh = PostgresStore::builder(PARAMS)
        .table_prefix(cleanup.prefix())
        .build()
        .unwrap();
    let message = fresh.ping().unwrap_err().to_string();
    assert!(
        message.contains("holds no row") && message.contains(&store.schema_table()),
        "{message}"
    );
}

#[test]
fn corrupt_rows_are_errors_for_their_id_only() {
    let (store, _cleanup) = private_store();
    let good = SessionId::generate();
    store.set(&good, record(7)).unwrap();
    let mut admin = admin();
    for bytes in [&b"not json"[..], b"{\"data\":[]}", b"\xff\xfe\x00", b""] {
        let id = SessionId::generate();
        let key = RecordKey::of(&id);
        let key: &[u8] = key.as_bytes();
        admin
            .execute(
                &format!(
                    "INSERT INTO {} (key, data, expires_at) VALUES ($1, $2, NULL)",
                    store.sessions_table()
                ),
                &[&key, &bytes],
            )
            .unwrap();
        let err = store.get(&id).unwrap_err();
        assert!(matches!(err, Error::CorruptRecord { .. }), "{err}");
        let mut ran = false;
        let err = store
            .update(&id, &mut |_| {
                ran = true;
                true
            })
            .unwrap_err();
        assert!(matches!(err, Error::CorruptRecord { .. }), "{err}");
        assert!(!ran, "the closure never sees a corrupt record");
        assert!(
            !store.create(&id, record(1)).unwrap(),
            "a live row keeps its ID, readable or not"
        );
        assert_eq!(
            raw_data(&mut admin, &store, &id).as_deref(),
            Some(bytes),
            "left as it was"
        );
        // Taken out all the same (it can never be read), and an error.
        let err = store.take(&id).unwrap_err();
        assert!(matches!(err, Error::CorruptRecord { .. }), "{err}");
        assert_eq!(raw_data(&mut admin, &store, &id), None);
        assert_eq!(store.get(&id).unwrap(), None);
    }
    assert_eq!(
        store.get(&good).unwrap(),
        Some(record(7)),
        "nothing else lost"
    );
    // The pool's connections survived the errors.
    store.set(&good, record(8)).unwrap();
    assert_eq!(store.get(&good).unwrap(), Some(record(8)));
}

/// A server error whose `DETAIL` quotes the failing row (here a constraint
/// someone added) is reported without that detail: the row holds the key
/// and the session's data.
#[test]
fn server_errors_never_quote_the_row() {
    let (store, _cleanup) = private_store();
    store.ping().unwrap();
    let mut admin = admin();
    admin
        .batch_execute(&format!(
            "ALTER TABLE {} ADD CONSTRAINT small CHECK (octet_length(data) < 20)",
            store.sessions_table()
        ))
        .unwrap();
    let id = SessionId::generate();
    let secret = Record::new(
        json!({"csrf": "t0p-s3cret-token"})
            .as_object()
            .unwrap()
            .clone(),
    );
    let err = store.set(&id, secret).unwrap_err();
    let message = format!("{err} {err:?}");
    assert!(
        message.contains("23514") && message.contains("small"),
        "{message}"
    );
    let key_hex: String = RecordKey::of(&id)
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    for leaked in [&key_hex[..16], "t0p-s3cret", "Failing row", id.as_str()] {
        assert!(!message.contains(leaked), "{leaked} in {message}");
    }
    assert_eq!(store.get(&id).unwrap(), None, "nothing stored");
}

#[test]
fn a_corrupt_user_index_row_is_an_error_that_names_no_one() {
    let (store, _cleanup) = private_store();
    let session = Session::with_store(store);
    let id = session.create(json!({})).unwrap();
    assert!(session.bind_user(&id, "ana").unwrap());
    let mut admin = admin();
    let table = session.store().users_table();
    admin
        .batch_execute(&format!("UPDATE {table} SET handle = '\\x00'"))
        .unwrap();
    let err = session.sessions_of("ana", None).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, Error::CorruptRecord { .. }), "{message}");
    assert!(
        message.contains("user index") && !message.contains("ana"),
        "{message}"
    );
    assert!(
        session.get(&id).unwrap().is_some(),
        "the session is untouched"
    );
}

/// Expired rows go a bounded batch per write, by the store's clock, with no
/// purge call; reads delete nothing.
#[test]
fn writes_clean_up_expired_rows_in_bounded_batches() {
    const BATCH: u32 = 100;
    let clock = ManualClock::new(SystemTime::now());
    let prefix = unique_prefix();
    let _cleanup = TableCleanup::new(&prefix);
    let store = PostgresStore::builder(PARAMS)
        .table_prefix(&prefix)
        .cleanup_batch(BATCH)
        .cleanup_interval(Duration::from_secs(60))
        .clock(clock.clock())
        .build()
        .unwrap();
    let soon = clock.now() + Duration::from_secs(10);
    for _ in 0..250 {
        let id = SessionId::generate();
        store
            .set(&id, Record::expiring(record(1).data, soon))
            .unwrap();
    }
    let forever = SessionId::generate();
    store.set(&forever, record(2)).unwrap();
    let mut admin = admin();
    let table = store.sessions_table();
    let expired = |admin: &mut postgres::Client| -> i64 {
        admin
            .query_one(
                &format!("SELECT count(*) FROM {table} WHERE expires_at <= $1"),
                &[&clock.now()],
            )
            .unwrap()
            .get(0)
    };
    clock.advance(Duration::from_secs(61));
    assert_eq!(expired(&mut admin), 250);
    assert_eq!(store.get(&forever).unwrap(), Some(record(2)));
    assert_eq!(expired(&mut admin), 250, "a read deletes nothing");

    let mut left = Vec::new();
    for n in 0..4 {
        store.set(&SessionId::generate(), record(n)).unwrap();
        left.push(expired(&mut admin));
    }
    // One batch per write while a backlog remains, then nothing to do.
    assert_eq!(left, [150, 50, 0, 0]);
    assert_eq!(
        store.get(&forever).unwrap(),
        Some(record(2)),
        "live rows stay"
    );
    assert_eq!(count_rows(&mut admin, &table), 1 + 4);

    // Due again a minute later: an update cleans up too.
    let id = SessionId::generate();
    store
        .set(
            &id,
            Record::expiring(record(3).data, clock.now() + Duration::from_secs(1)),
        )
        .unwrap();
    store.set(&forever, record(4)).unwrap();
    clock.advance(Duration::from_secs(61));
    assert_eq!(expired(&mut admin), 1);
    assert!(store.update(&forever, &mut |_| true).unwrap());
    assert_eq!(expired(&mut admin), 0);
}

#[test]
fn with_cleanup_off_writes_delete_nothing_and_purge_deletes_everything() {
    let clock = ManualClock::new(SystemTime::now());
    let prefix = unique_prefix();
    let _cleanup = TableCleanup::new(&prefix);
    let store = PostgresStore::builder(PARAMS)
        .table_prefix(&prefix)
        .cleanup_batch(0)
        .clock(clock.clock())
        .build()
        .unwrap();
    let soon = clock.now() + Duration::from_secs(10);
    for _ in 0..1_500 {
        store
            .set(
                &SessionId::generate(),
                Record::expiring(record(1).data, soon),
            )
            .unwrap();
    }
    clock.advance(Duration::from_secs(3600));
    for n in 0..3 {
        store.set(&SessionId::generate(), record(n)).unwrap();
    }
    assert_eq!(store.count().unwrap(), Some(1_503), "nothing cleaned up");
    // Two batches of 1,000.
    assert_eq!(store.purge_expired().unwrap(), 1_500);
    assert_eq!(store.purge_expired().unwrap(), 0);
    assert_eq!(store.count().unwrap(), Some(3));
}

#[test]
fn bad_settings_are_refused_at_build() {
    let builder = || PostgresStore::builder(PARAMS);
    let refused = |b: http_session::PostgresStoreBuilder, says: &str| {
        let err = b.build().unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
        assert!(err.to_string().contains(says), "{err}");
    };
    refused(builder().pool_size(0), "pool_size");
    refused(builder().connect_timeout(Duration::ZERO), "connect_timeout");
    refused(
        builder().query_timeout(Duration::from_micros(10)),
        "query_timeout",
    );
    for prefix in ["a-b", "1abc", "a b", "x\"; DROP TABLE users; --", "é"] {
        refused(builder().table_prefix(prefix), "table_prefix");
    }
    refused(builder().table_prefix(&"a".repeat(45)), "too long");
    for schema in ["", "a.b", "3d", "public\""] {
        refused(builder().schema(schema), "schema");
    }
    refused(builder().schema(&"s".repeat(64)), "too long");
    refused(PostgresStore::builder("dbname=test"), "no host");
    refused(
        PostgresStore::builder("host=127.0.0.1 sslmode=require"),
        "TLS",
    );
    // A string the parser refuses: its text (a password) is not shown.
    for params in [
        "host=127.0.0.1 password='s3cret",
        "host=127.0.0.1 password=s3cret port=notaport",
        "postgresql://app:s3cret@127.0.0.1:notaport/db",
        "host=127.0.0.1 s3cret",
    ] {
        let err = PostgresStore::builder(params).build().unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, Error::InvalidConfig { .. }), "{message}");
        assert!(!message.contains("s3cret"), "{message}");
        assert!(message.contains("connection string"), "{message}");
    }
    // An empty prefix is allowed: tables `sessions`, `users`, `schema`.
    let store = builder().table_prefix("").build().unwrap();
    assert_eq!(store.sessions_table(), "sessions");
}

/// A server on 127.0.0.1 that asks for a cleartext password, keeps it, and
/// refuses it, as PostgreSQL does: `connections` times.
fn password_refusing_server(connections: usize) -> (u16, thread::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = thread::spawn(move || {
        let mut passwords = Vec::new();
        for stream in listener.incoming().take(connections) {
            let mut stream = stream.unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            // The startup message (after an SSL request, answered 'N').
            let mut body = read_untyped(&mut stream);
            if body == [0x04, 0xd2, 0x16, 0x2f] {
                stream.write_all(b"N").unwrap();
                body = read_untyped(&mut stream);
            }
            assert_eq!(&body[..4], &[0, 3, 0, 0], "protocol 3.0");
            // AuthenticationCleartextPassword.
            stream.write_all(&[b'R', 0, 0, 0, 8, 0, 0, 0, 3]).unwrap();
            let mut tag = [0u8; 1];
            stream.read_exact(&mut tag).unwrap();
            assert_eq!(tag[0], b'p');
            let password = read_untyped(&mut stream);
            passwords.push(
                String::from_utf8(password)
                    .unwrap()
                    .trim_end_matches('\0')
                    .to_owned(),
            );
            let mut fields = Vec::new();
            for (code, value) in [
                (b'S', "FATAL"),
                (b'V', "FATAL"),
                (b'C', "28P01"),
                (b'M', "password authentication failed for user \"app\""),
            ] {
                fields.push(code);
                fields.extend_from_slice(value.as_bytes());
                fields.push(0);
            }
            fields.push(0);
            let mut message = vec![b'E'];
            message.extend_from_slice(&(fields.len() as u32 + 4).to_be_bytes());
            message.extend_from_slice(&fields);
            stream.write_all(&message).unwrap();
        }
        passwords
    });
    (port, server)
}

/// A message's body after its 4-byte length (which counts itself).
fn read_untyped(stream: &mut TcpStream) -> Vec<u8> {
    let mut len = [0u8; 4];
    stream.read_exact(&mut len).unwrap();
    let mut body = vec![0u8; u32::from_be_bytes(len) as usize - 4];
    stream.read_exact(&mut body).unwrap();
    body
}

#[test]
fn a_refused_password_is_a_clear_error_without_the_password() {
    let (port, server) = password_refusing_server(2);
    for params in [
        format!("host=127.0.0.1 port={port} user=app password=s3cret-pw dbname=shop"),
        format!("postgresql://app:s3cret-pw@127.0.0.1:{port}/shop"),
    ] {
        let store = PostgresStore::builder(&params)
            .connect_timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let err = store.ping().unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, Error::Store { .. }), "{message}");
        assert!(
            message.contains("password authentication failed")
                && message.contains("28P01")
                && message.contains(&format!("PostgreSQL at 127.0.0.1:{port}, database shop")),
            "{message}"
        );
        assert!(!message.contains("s3cret"), "{message}");
        assert!(!format!("{err:?}").contains("s3cret"));
        assert!(!format!("{store:?}").contains("s3cret"));
        let builder = format!("{:?}", PostgresStore::builder(&params));
        assert!(
            !builder.contains("s3cret") && builder.contains("127.0.0.1"),
            "{builder}"
        );
    }
    assert_eq!(
        server.join().unwrap(),
        ["s3cret-pw", "s3cret-pw"],
        "the password was sent, so the error came after it"
    );
}

#[test]
fn an_unreachable_server_is_a_clear_error_without_the_password() {
    let port = common::postgres_server::free_port();
    let store = PostgresStore::builder(&format!(
        "host=127.0.0.1 port={port} user=app password=s3cret dbname=shop"
    ))
    .build()
    .unwrap();
    let started = Instant::now();
    let err = store.get(&SessionId::generate()).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, Error::Store { .. }), "{message}");
    assert!(
        message.contains("reading a session: connecting")
            && message.contains(&format!("127.0.0.1:{port}"))
            && message.contains("refused"),
        "{message}"
    );
    assert!(!message.contains("s3cret"), "{message}");
    println!(
        "nothing listening: the call failed after {:?}",
        started.elapsed()
    );
}

/// A server that accepts connections and never says a word: the call fails
/// at the connect timeout, and the connection being opened keeps its pool
/// slot until it ends by itself, then gives it back.
#[test]
fn a_server_that_never_answers_fails_calls_at_the_connect_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let store = PostgresStore::builder(&format!("host=127.0.0.1 port={port} user=app dbname=x"))
        .pool_size(1)
        .connect_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = store.ping().unwrap_err();
    let waited = started.elapsed();
    let message = err.to_string();
    assert!(message.contains("connect timeout"), "{message}");
    assert!(
        waited < Duration::from_secs(10),
        "the call hung for {waited:?}"
    );
    // The silent server's connection is still being opened: the one slot is
    // taken, so the next call waits for it, bounded, and says so.
    let (silent, _) = listener.accept().unwrap();
    let err = store.ping().unwrap_err().to_string();
    assert!(
        err.contains("busy") || err.contains("connect timeout"),
        "{err}"
    );
    // The server hangs up: the opening thread ends and frees the slot.
    drop(silent);
    drop(listener);
    let mut last = String::new();
    for _ in 0..100 {
        last = store.ping().unwrap_err().to_string();
        if last.contains("refused") {
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    assert!(last.contains("refused"), "{last}");
    println!("a silent server: the call failed after {waited:?} (connect timeout 300 ms)");
}

/// A store whose connections a test can find (by application name) and end.
fn fault_store(prefix: &str, app: &str) -> PostgresStore {
    PostgresStore::builder(&format!("{PARAMS} application_name={app}"))
        .table_prefix(prefix)
        .pool_size(8)
        .connect_timeout(Duration::from_secs(1))
        .query_timeout(Duration::from_secs(1))
        .build()
        .unwrap()
}

/// Ends every backend of application `app`; returns how many.
fn terminate(admin: &mut postgres::Client, app: &str) -> i64 {
    admin
        .query_one(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = $1 AND pid <> pg_backend_pid()) t",
            &[&app],
        )
        .unwrap()
        .get(0)
}

fn increment(store: &PostgresStore, id: &SessionId) -> Result<bool, Error> {
    store.update(id, &mut |r| {
        let n = r.data["n"].as_i64().unwrap();
        r.data.insert("n".into(), json!(n + 1));
        true
    })
}

#[test]
fn terminated_connections_fail_calls_cleanly_and_recovery_is_automatic() {
    let prefix = unique_prefix();
    let _cleanup = TableCleanup::new(&prefix);
    let app = format!("hs_fault_{prefix}");
    let store = fault_store(&prefix, &app);
    let id = SessionId::generate();
    store.set(&id, record(0)).unwrap();
    let mut admin = admin();

    // Traffic from 4 threads while every connection is terminated, 5 times.
    let stop = AtomicBool::new(false);
    let (ok, failed) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let longest_failure = Mutex::new(Duration::ZERO);
    let first_failure = Mutex::new(None::<String>);
    let mut terminated = 0;
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..100_000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let started = Instant::now();
                    match increment(&store, &id) {
                        Ok(found) => {
                            assert!(found);
                            ok.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            assert!(matches!(e, Error::Store { .. }), "{e}");
                            let mut longest = longest_failure.lock().unwrap();
                            *longest = (*longest).max(started.elapsed());
                            first_failure.lock().unwrap().get_or_insert(e.to_string());
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            });
        }
        for round in 1..=5 {
            let deadline = Instant::now() + Duration::from_secs(60);
            while ok.load(Ordering::Relaxed) < 100 * round && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(1));
            }
            terminated += terminate(&mut admin, &app);
        }
        // Traffic goes on after the last termination.
        let after = ok.load(Ordering::Relaxed) + 100;
        let deadline = Instant::now() + Duration::from_secs(60);
        while ok.load(Ordering::Relaxed) < after && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1));
        }
        stop.store(true, Ordering::Relaxed);
    });
    let (ok, failed) = (ok.into_inner(), failed.into_inner());
    let longest = *longest_failure.lock().unwrap();
    assert!(
        ok >= 600,
        "traffic resumed after every termination: {ok} ok"
    );
    assert!(terminated > 0, "no connection was terminated");
    assert!(
        longest < Duration::from_secs(10),
        "a failing call took {longest:?}"
    );

    // No increment that succeeded was lost; one that failed at its COMMIT
    // may or may not have been stored (its reply was lost).
    let n = store.get(&id).unwrap().unwrap().data["n"].as_i64().unwrap() as usize;
    assert!(
        n >= ok && n <= ok + failed,
        "n = {n}, {ok} ok, {failed} failed"
    );

    // Connections ended while idle in the pool are replaced before use: the
    // very next calls succeed.
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..20 {
                    increment(&store, &id).unwrap();
                }
            });
        }
    });
    let idle = terminate(&mut admin, &app);
    assert!(idle > 0);
    // pg_terminate_backend only signals: wait until they are gone.
    for _ in 0..500 {
        let left: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                &[&app],
            )
            .unwrap()
            .get(0);
        if left == 0 {
            break;
        }
        thread::sleep(Duration::from_millis(10));
    }
    for _ in 0..20 {
        increment(&store, &id).unwrap();
    }
    let end = store.get(&id).unwrap().unwrap().data["n"].as_i64().unwrap() as usize;
    assert_eq!(end, n + 80 + 20);
    println!(
        "pg_terminate_backend of every connection, 5 times under 4 threads of updates: {ok} \
         updates ok, {failed} failed cleanly (longest {longest:?}), {terminated} backends \
         ended; {idle} idle connections ended, then 20 updates ok at once; first failure: {:?}",
        first_failure.into_inner().unwrap()
    );
}

/// Fills the pool with idle connections, then ends them all and waits until
/// they are gone.
fn end_idle_connections(store: &PostgresStore, admin: &mut postgres::Client, app: &str) {
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..10 {
                    store.get(&SessionId::generate()).unwrap();
                }
            });
        }
    });
    assert!(terminate(admin, app) > 0);
    for _ in 0..500 {
        let left: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                &[&app],
            )
            .unwrap()
            .get(0);
        if left == 0 {
            return;
        }
        thread::sleep(Duration::from_millis(10));
    }
    panic!("the terminated connections did not go");
}

/// A call on a pooled connection that the server ended while it was idle is
/// run again on a fresh one. A take or a create whose retry finds what the
/// first, dropped try could have done itself is an error, never a silent
/// `None` or `false`; one whose retry finds a clear answer gives it.
#[test]
fn retries_after_idle_connections_were_ended_never_hide_a_lost_result() {
    let prefix = unique_prefix();
    let _cleanup = TableCleanup::new(&prefix);
    let app = format!("hs_idle_{prefix}");
    let store = fault_store(&prefix, &app);
    let mut admin = admin();
    let kept = SessionId::generate();
    store.set(&kept, record(1)).unwrap();

    // The session is there: the retry takes it, so the first try did not.
    end_idle_connections(&store, &mut admin, &app);
    assert_eq!(store.take(&kept).unwrap(), Some(record(1)));

    // No session: the retry cannot tell "never there" from "taken by the
    // dropped try".
    end_idle_connections(&store, &mut admin, &app);
    let err = store.take(&kept).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, Error::Store { .. }), "{message}");
    assert!(
        message.contains("taking a session") && message.contains("retry found no session"),
        "{message}"
    );
    assert_eq!(
        store.take(&kept).unwrap(),
        None,
        "on a live connection: a clear None"
    );

    // Creating: a free ID is created; a taken one is an error, not `false`.
    let taken = SessionId::generate();
    store.set(&taken, record(2)).unwrap();
    end_idle_connections(&store, &mut admin, &app);
    let free = SessionId::generate();
    assert!(store.create(&free, record(3)).unwrap());
    end_idle_connections(&store, &mut admin, &app);
    let err = store.create(&taken, record(4)).unwrap_err().to_string();
    assert!(err.contains("found the ID taken"), "{err}");
    assert_eq!(
        store.get(&taken).unwrap(),
        Some(record(2)),
        "not overwritten"
    );
    assert!(!store.create(&taken, record(4)).unwrap());

    // Reads, writes and updates simply succeed.
    end_idle_connections(&store, &mut admin, &app);
    assert_eq!(store.get(&free).unwrap(), Some(record(3)));
    end_idle_connections(&store, &mut admin, &app);
    assert!(increment(&store, &free).unwrap());
    assert_eq!(store.get(&free).unwrap(), Some(record(4)));
}

/// A table locked by someone else: calls fail at the query timeout (the
/// server's statement_timeout), nothing is half-written, and the store goes
/// on once the lock is gone. The same for an update waiting on a row lock.
#[test]
fn locks_held_too_long_fail_calls_at_the_query_timeout() {
    let prefix = unique_prefix();
    let _cleanup = TableCleanup::new(&prefix);
    let store = PostgresStore::builder(PARAMS)
        .table_prefix(&prefix)
        .query_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let id = SessionId::generate();
    store.set(&id, record(1)).unwrap();
    let mut admin = admin();

    let mut tx = admin.transaction().unwrap();
    tx.batch_execute(&format!(
        "LOCK TABLE {} IN ACCESS EXCLUSIVE MODE",
        store.sessions_table()
    ))
    .unwrap();
    let started = Instant::now();
    let err = store.get(&id).unwrap_err();
    let waited = started.elapsed();
    let message = err.to_string();
    assert!(
        message.contains("57014") && message.contains("query_timeout"),
        "{message}"
    );
    assert!(waited < Duration::from_secs(10), "hung for {waited:?}");
    tx.rollback().unwrap();
    assert_eq!(store.get(&id).unwrap(), Some(record(1)));

    // A row lock: the update waits for it, gives up, and writes nothing.
    let key = RecordKey::of(&id);
    let key: &[u8] = key.as_bytes();
    let mut tx = admin.transaction().unwrap();
    tx.query(
        &format!(
            "SELECT 1 FROM {} WHERE key = $1 FOR UPDATE",
            store.sessions_table()
        ),
        &[&key],
    )
    .unwrap();
    let mut ran = false;
    let err = store
        .update(&id, &mut |r| {
            ran = true;
            r.data.insert("n".into(), json!(2));
            true
        })
        .unwrap_err();
    assert!(err.to_string().contains("57014"), "{err}");
    assert!(!ran, "the closure never ran: the row was never read");
    tx.rollback().unwrap();
    assert_eq!(store.get(&id).unwrap(), Some(record(1)));
    assert!(increment(&store, &id).unwrap());
    println!("table locked elsewhere, query timeout 300 ms: the call failed after {waited:?}");
}

/// An update closure that panics: the transaction rolls back, the row stays
/// as it was, the row lock is released (another update goes through at
/// once), and the connection the panic left is not reused.
#[test]
fn a_panicking_update_rolls_back_and_releases_the_row() {
    let (store, _cleanup) = private_store();
    let store = Arc::new(store);
    let id = SessionId::generate();
    store.set(&id, record(1)).unwrap();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        store.update(&id, &mut |r| {
            r.data.insert("n".into(), json!(99));
            panic!("closure failed");
        })
    }));
    assert!(outcome.is_err());
    assert_eq!(store.get(&id).unwrap(), Some(record(1)));
    assert!(increment(&store, &id).unwrap());
    assert_eq!(store.get(&id).unwrap(), Some(record(2)));
}

#[test]
fn count_counts_rows_and_user_index_is_offered() {
    let (store, _cleanup) = private_store();
    assert_eq!(store.count().unwrap(), Some(0));
    for n in 0..5 {
        store.set(&SessionId::generate(), record(n)).unwrap();
    }
    assert_eq!(store.count().unwrap(), Some(5));
    assert!(store.user_index().is_some());
}

/// SECURITY.md's way to end every session at once: `TRUNCATE` the sessions
/// and users tables; the running store goes on.
#[test]
fn truncating_the_tables_ends_every_session_and_the_store_goes_on() {
    let (store, _cleanup) = private_store();
    let session = Session::with_store(store);
    let ids: Vec<SessionId> = (0..3)
        .map(|_| session.create(json!({"user": "ana"})).unwrap())
        .collect();
    for id in &ids {
        assert!(session.bind_user(id, "ana").unwrap());
    }
    let mut admin = admin();
    admin
        .batch_execute(&format!(
            "TRUNCATE {}, {}",
            session.store().sessions_table(),
            session.store().users_table()
        ))
        .unwrap();
    for id in &ids {
        assert_eq!(session.get(id).unwrap(), None);
    }
    assert!(session.sessions_of("ana", None).unwrap().is_empty());
    let id = session.create(json!({"user": "bo"})).unwrap();
    assert_eq!(session.get(&id).unwrap().unwrap()["user"], "bo");
}

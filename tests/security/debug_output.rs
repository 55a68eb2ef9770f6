//! `Debug` output of sessions, handles, stores and builders never carries a
//! session ID, session data or a credential: logging application state with
//! `{:?}` must not hand out a working cookie or a Redis password. It shows
//! counts and settings.

use http_session::{FileStore, Headers, MemoryStore, Record, Session, SessionId, Store};
use serde_json::json;

/// Every way `id` could show up in a `Debug` dump of a store: its text, its
/// bytes as an array (`[12, 34, ...]`), and a run of its first bytes.
fn assert_no_id(shown: &str, id: &SessionId) {
    assert!(!shown.contains(id.as_str()), "ID text in {shown}");
    let bytes = id.as_bytes();
    assert!(
        !shown.contains(&format!("{bytes:?}")),
        "ID bytes in {shown}"
    );
    let first = format!("{:?}", &bytes[..4]);
    let run = first.trim_start_matches('[').trim_end_matches(']');
    assert!(!shown.contains(run), "ID bytes {run} in {shown}");
}

#[test]
fn memory_store_debug_shows_counts_and_settings_only() {
    let session = Session::with_store(MemoryStore::builder().max_sessions(1_000).build());
    let ids: Vec<SessionId> = (0..3)
        .map(|n| {
            session
                .create(json!({"secret": format!("hunter2-{n}"), "n": n}))
                .unwrap()
        })
        .collect();
    for shown in [
        format!("{:?}", session.store()),
        format!("{:#?}", session.store()),
        format!("{session:?}"),
    ] {
        for id in &ids {
            assert_no_id(&shown, id);
        }
        assert!(!shown.contains("hunter2"), "session data in {shown}");
        assert!(!shown.contains("Key"), "{shown}");
    }
    let shown = format!("{:?}", session.store());
    assert!(shown.contains("len: Some(3)"), "{shown}");
    assert!(shown.contains("max_sessions: 1000"), "{shown}");
}

/// `Debug` inside an update closure (a log line there) must not wait for the
/// shard lock the update holds: the count is then unknown, not a deadlock.
#[test]
fn memory_store_debug_inside_an_update_does_not_deadlock() {
    let store = MemoryStore::builder().max_sessions(10).build(); // one shard
    let id = SessionId::generate();
    store
        .set(
            &id,
            Record::new(json!({"n": 1}).as_object().unwrap().clone()),
        )
        .unwrap();
    let mut shown = String::new();
    assert!(store
        .update(&id, &mut |_| {
            shown = format!("{store:?}");
            false
        })
        .unwrap());
    assert!(shown.contains("len: None"), "{shown}");
    assert!(format!("{store:?}").contains("len: Some(1)"));
}

#[test]
fn file_store_debug_shows_no_session() {
    let tmp = tempfile::tempdir().unwrap();
    let store = FileStore::open(tmp.path()).unwrap();
    let id = SessionId::generate();
    store
        .set(
            &id,
            Record::new(json!({"secret": "hunter2"}).as_object().unwrap().clone()),
        )
        .unwrap();
    let shown = format!("{store:?}");
    assert_no_id(&shown, &id);
    assert!(!shown.contains("hunter2"), "{shown}");
}

#[test]
fn session_and_builder_debug_show_no_id_and_no_data() {
    let session = Session::builder()
        .cookie_name("sid")
        .on_rejection(|_| {})
        .build()
        .unwrap();
    let ids: Vec<_> = (0..20)
        .map(|i| {
            session
                .create(json!({"secret": format!("s3cr3t-{i}")}))
                .unwrap()
        })
        .collect();
    let request = Headers::new().with("Cookie", &format!("sid={}", ids[0]));
    let handle = session.handle(&request);
    handle.get::<String>("secret").unwrap();
    for shown in [
        format!("{session:?}"),
        format!("{session:#?}"),
        format!("{:?}", Session::builder()),
        format!("{handle:?}"),
    ] {
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(!shown.contains("Key("), "{shown}");
        for id in &ids {
            assert!(!shown.contains(id.as_str()), "{shown}");
            assert!(!shown.contains(&id.as_str()[..12]), "{shown}");
        }
        assert!(shown.len() < 2_000, "{} bytes: {shown}", shown.len());
    }
    let shown = format!("{session:?}");
    assert!(
        shown.contains("\"sid\"") && shown.contains("ttl"),
        "{shown}"
    );
}

#[cfg(feature = "redis")]
mod redis {
    use http_session::RedisStore;

    /// `(url, secrets that must not show, what must show)`: every credential
    /// form redis-rs reads (userinfo in any scheme, `user=`/`pass=` query
    /// parameters of socket URLs), `password=` too, percent-encoded ones,
    /// and malformed URLs whose secrets hold `?` or `@`.
    const URLS: &[(&str, &[&str], &str)] = &[
        (
            "redis://bob:s3cret@127.0.0.1:6379/0",
            &["bob", "s3cret"],
            "127.0.0.1:6379/0",
        ),
        (
            "redis://:s3cret@127.0.0.1:6379",
            &["s3cret"],
            "127.0.0.1:6379",
        ),
        (
            "redis://bob:s3cret@127.0.0.1/0?protocol=resp3",
            &["bob", "s3cret"],
            "127.0.0.1/0",
        ),
        (
            "rediss://bob:s3cret@redis.internal:6380/#insecure",
            &["bob", "s3cret"],
            "redis.internal:6380",
        ),
        (
            "valkey://bob:s3cret@127.0.0.1:6379",
            &["bob", "s3cret"],
            "127.0.0.1:6379",
        ),
        (
            "valkeys://bob:s3cret@127.0.0.1:6379",
            &["bob", "s3cret"],
            "127.0.0.1:6379",
        ),
        (
            "unix:///run/redis.sock?pass=s3cret",
            &["s3cret"],
            "/run/redis.sock",
        ),
        (
            "unix:///run/redis.sock?db=2&user=bob&pass=s3cret",
            &["bob", "s3cret"],
            "/run/redis.sock",
        ),
        (
            "redis+unix:///run/redis.sock?password=s3cret",
            &["s3cret"],
            "/run/redis.sock",
        ),
        (
            "valkey+unix:///run/redis.sock?user=bob&pass=s3cret",
            &["bob", "s3cret"],
            "/run/redis.sock",
        ),
        (
            "redis://bob:s3%40cr%3At@127.0.0.1:6379",
            &["bob", "s3%40cr", "cr%3At"],
            "127.0.0.1:6379",
        ),
        (
            "unix:///run/redis.sock?pass=s3cr%26t%3D",
            &["s3cr"],
            "/run/redis.sock",
        ),
        // Malformed: a raw '?' or '@' in the secret.
        (
            "redis://bob:s3c?ret@127.0.0.1:6379",
            &["bob", "s3c", "ret"],
            "redis://",
        ),
        (
            "unix:///run/redis.sock?pass=s3c@ret",
            &["s3c", "ret"],
            "unix://",
        ),
        (
            "bob:s3cret@127.0.0.1:6379",
            &["bob", "s3cret"],
            "127.0.0.1:6379",
        ),
    ];

    fn check(shown: &str, url: &str, secrets: &[&str], kept: &str) {
        for secret in secrets {
            assert!(
                !shown.contains(secret),
                "{url}: {secret:?} shows in {shown}"
            );
        }
        assert!(
            shown.contains(kept),
            "{url}: {kept:?} is missing from {shown}"
        );
    }

    #[test]
    fn redis_builder_debug_redacts_every_credential_form() {
        for &(url, secrets, kept) in URLS {
            let builder = RedisStore::builder(url);
            check(&format!("{builder:?}"), url, secrets, kept);
            check(&format!("{builder:#?}"), url, secrets, kept);
        }
    }

    /// Built stores keep only the address, in `Debug` and in every error.
    #[test]
    fn redis_store_debug_and_errors_carry_no_credential() {
        let urls = [
            "redis://bob:s3cret@127.0.0.1:1/0",
            "redis://bob:s3cret@127.0.0.1:1/0?protocol=resp3",
            "unix:///nonexistent/redis.sock?user=bob&pass=s3cret",
            "redis+unix:///nonexistent/redis.sock?pass=s3cret&db=1",
        ];
        for url in urls {
            let store = RedisStore::builder(url)
                .connect_timeout(std::time::Duration::from_millis(200))
                .build()
                .unwrap();
            let shown = format!("{store:?}");
            assert!(
                !shown.contains("s3cret") && !shown.contains("bob"),
                "{shown}"
            );
            let err = store.ping().unwrap_err();
            let message = format!("{err} / {err:?}");
            assert!(
                !message.contains("s3cret") && !message.contains("bob"),
                "{message}"
            );
        }
        // Refused URLs do not echo a secret either.
        for url in [
            "valkey://bob:s3cret@127.0.0.1:6379",
            "http://bob:s3cret@127.0.0.1",
            "redis://bob:s3cret@127.0.0.1:6379/notadb",
            "unix:///run/redis.sock?pass=s3cret&protocol=9",
        ] {
            let err = RedisStore::builder(url).build().unwrap_err();
            let message = format!("{err} / {err:?}");
            assert!(
                !message.contains("s3cret") && !message.contains("bob"),
                "{message}"
            );
        }
    }

    #[cfg(feature = "redis-cluster")]
    #[test]
    fn redis_cluster_builder_debug_redacts_every_node_url() {
        let builder = RedisStore::cluster_builder(&[
            "redis://bob:s3cret@10.0.0.1:7000",
            "redis://:s3cret@10.0.0.2:7000/?protocol=resp3",
        ]);
        let shown = format!("{builder:?}");
        check(&shown, "cluster", &["bob", "s3cret"], "10.0.0.1:7000");
        assert!(shown.contains("10.0.0.2:7000"), "{shown}");
    }
}

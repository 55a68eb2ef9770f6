//! No live session ID at rest (DESIGN "IDs at rest"): everything FileStore,
//! RedisStore, SqliteStore and PostgresStore keep, names and contents alike,
//! is read back in full, and no live ID shows up in any encoding. A directory
//! listing, a Redis `SCAN`, a copy of the database, a dump or a backup hands
//! out no working cookie.

use std::fs;
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use http_session::{FileStore, Headers, Session, SessionId, Store};
use serde_json::json;

/// Every encoding an ID could be kept in: base64url text (the cookie), the
/// padded standard base64 of its bytes, lowercase and uppercase hex, and the
/// raw 32 bytes.
fn encodings(id: &SessionId) -> Vec<(&'static str, Vec<u8>)> {
    let bytes = id.as_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    vec![
        ("base64url text", id.as_str().as_bytes().to_vec()),
        (
            "standard base64",
            base64::engine::general_purpose::STANDARD
                .encode(bytes)
                .into_bytes(),
        ),
        ("lowercase hex", hex.clone().into_bytes()),
        ("uppercase hex", hex.to_uppercase().into_bytes()),
        ("raw bytes", bytes.to_vec()),
    ]
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Fails if any live ID, in any encoding, is in `what` (a name or a content).
fn assert_no_live_id(ids: &[SessionId], where_: &str, what: &[u8]) {
    for id in ids {
        for (encoding, needle) in encodings(id) {
            assert!(
                !contains(what, &needle),
                "a live ID's {encoding} is at rest in {where_}"
            );
        }
    }
}

/// Sessions with data, one updated and one regenerated, so every write path
/// (create, update, take and create again) has run.
fn live_sessions<S: Store>(session: &Session<S>) -> Vec<SessionId> {
    let mut ids: Vec<SessionId> = (0..8)
        .map(|n| {
            session
                .create(json!({"user": format!("user-{n}"), "n": n, "cart": [1, 2, 3]}))
                .unwrap()
        })
        .collect();
    assert!(session
        .store()
        .update(&ids[0], &mut |record| {
            record.data.insert("n".into(), 100.into());
            true
        })
        .unwrap());
    let old = ids.pop().unwrap();
    let new = session
        .regenerate(&old, &mut Headers::new())
        .unwrap()
        .unwrap();
    assert_eq!(session.get(&old).unwrap(), None);
    ids.push(new);
    for id in &ids {
        assert!(session.get(id).unwrap().is_some(), "live");
    }
    ids
}

/// Every name under `dir` and every file's content, recursively.
fn read_all(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let name = entry.file_name();
        out.push((
            format!("the name {}", path.display()),
            name.as_encoded_bytes().to_vec(),
        ));
        if entry.file_type().unwrap().is_dir() {
            read_all(&path, out);
        } else {
            out.push((
                format!("the file {}", path.display()),
                fs::read(&path).unwrap(),
            ));
        }
    }
}

#[test]
fn file_store_keeps_no_live_id_in_any_name_or_file() {
    let tmp = tempfile::tempdir().unwrap();
    // The opt-in sweep, so the `.last-sweep` marker is there to be read too.
    let store = FileStore::builder(tmp.path())
        .sweep_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    let session = Session::with_store(store);
    let ids = live_sessions(&session);

    let mut everything = Vec::new();
    read_all(tmp.path(), &mut everything);
    let files = everything
        .iter()
        .filter(|(what, _)| what.starts_with("the file"))
        .count();
    assert!(
        files >= ids.len() + 2,
        "the sessions, a lock file and the marker were read: {files} files"
    );
    assert!(tmp.path().join(".last-sweep").exists());
    for (what, bytes) in &everything {
        assert_no_live_id(&ids, what, bytes);
    }
}

/// Also the user index: sessions bound to users (one regenerated while
/// bound, one revoked), so the index hashes are there to read. No key and no
/// field or value of an index names a user; record values do (the owner is
/// part of the record), and hold no ID either.
#[cfg(feature = "redis")]
#[test]
fn redis_store_keeps_no_live_id_in_any_key_or_value() {
    use crate::common::redis_server::{connect, keys, shared_store, SHARED_URL};
    use std::collections::HashMap;

    let (store, cleanup) = shared_store();
    let session = Session::with_store(store);
    let mut ids = live_sessions(&session);
    let users = ["ana@example.com", "Bob Builder", "carol"];
    for (n, id) in ids.iter().enumerate() {
        assert!(session.bind_user(id, users[n % users.len()]).unwrap());
    }
    // A bound session regenerated (its entry moves) and one revoked.
    let old = ids.remove(0);
    ids.push(
        session
            .regenerate(&old, &mut Headers::new())
            .unwrap()
            .unwrap(),
    );
    let revoked = session.sessions_of(users[1], None).unwrap()[0].handle;
    assert!(session.revoke(users[1], &revoked).unwrap());
    ids.retain(|id| session.get(id).unwrap().is_some());
    let listed: usize = users
        .iter()
        .map(|user| session.sessions_of(user, None).unwrap().len())
        .sum();
    assert_eq!(listed, ids.len(), "every live session is bound and listed");

    let names = keys(SHARED_URL, cleanup.prefix());
    assert_eq!(
        names.len(),
        ids.len() + users.len(),
        "one key per live session and one per user: {names:?}"
    );
    let mut conn = connect(SHARED_URL);
    let mut indexes = 0;
    for key in &names {
        assert_no_live_id(&ids, &format!("the key {key}"), key.as_bytes());
        assert_no_user(&users, &format!("the key {key}"), key.as_bytes());
        let kind: String = redis::cmd("TYPE").arg(key).query(&mut conn).unwrap();
        if kind == "hash" {
            indexes += 1;
            let fields: HashMap<Vec<u8>, Vec<u8>> =
                redis::cmd("HGETALL").arg(key).query(&mut conn).unwrap();
            assert!(!fields.is_empty());
            for (field, value) in &fields {
                for (what, bytes) in [("a field", field), ("a value", value)] {
                    let where_ = format!("{what} of the index {key}");
                    assert_no_live_id(&ids, &where_, bytes);
                    assert_no_user(&users, &where_, bytes);
                }
            }
        } else {
            let value: Vec<u8> = redis::cmd("GET").arg(key).query(&mut conn).unwrap();
            assert!(!value.is_empty());
            assert_no_live_id(&ids, &format!("the value of {key}"), &value);
        }
    }
    assert_eq!(indexes, users.len());
}

/// Fails if a user name, as text, lowercase or uppercase, is in `what`.
#[cfg(feature = "redis")]
fn assert_no_user(users: &[&str], where_: &str, what: &[u8]) {
    let text = String::from_utf8_lossy(what).to_lowercase();
    for user in users {
        assert!(
            !text.contains(&user.to_lowercase()),
            "a user name is in {where_}"
        );
    }
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_store_keeps_no_live_id_in_any_row() {
    use crate::common::postgres_server::{admin, private_store};

    let (store, cleanup) = private_store();
    let session = Session::with_store(store);
    let ids = live_sessions(&session);
    // Bound to users too, so the user index has rows to read.
    for (n, id) in ids.iter().enumerate() {
        assert!(session.bind_user(id, &format!("user-{}", n % 3)).unwrap());
    }

    let mut admin = admin();
    let p = cleanup.prefix();
    let mut rows = 0;
    for (table, bytea_columns) in [
        ("sessions", &["key", "data"][..]),
        ("users", &["user_hash", "handle", "record_key"][..]),
        ("schema", &[][..]),
    ] {
        // Every row whole, as PostgreSQL prints it (bytea as \x hex), and
        // every bytea column's raw bytes.
        let select = format!("SELECT row_to_json(t)::text, t.* FROM \"{p}{table}\" t");
        for row in admin.query(&select, &[]).unwrap() {
            rows += 1;
            let text: String = row.get(0);
            assert_no_live_id(&ids, &format!("a row of {p}{table}"), text.as_bytes());
            for column in bytea_columns {
                let bytes: Vec<u8> = row.get(*column);
                assert!(!bytes.is_empty());
                assert_no_live_id(&ids, &format!("{p}{table}.{column}"), &bytes);
            }
        }
    }
    assert_eq!(
        rows,
        2 * ids.len() + 1,
        "a row per session, an index row per session, the version row"
    );
}

/// Every row of every table, read through SQL, and the raw bytes of the
/// database file and its write-ahead log (free pages and old frames
/// included), while the store is open; sessions bound to a user too, so the
/// user index has rows.
#[cfg(feature = "sqlite")]
#[test]
fn sqlite_store_keeps_no_live_id_in_any_row_or_file() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("sessions.db");
    let session = Session::with_store(http_session::SqliteStore::open(&path).unwrap());
    let ids = live_sessions(&session);
    for (n, id) in ids.iter().enumerate() {
        assert!(session.bind_user(id, &format!("user-{}", n % 3)).unwrap());
    }
    assert_eq!(session.sessions_of("user-0", None).unwrap().len(), 3);

    let conn = rusqlite::Connection::open(&path).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(tables.contains(&"sessions".to_owned()), "{tables:?}");
    assert!(tables.contains(&"user_sessions".to_owned()), "{tables:?}");
    let mut rows_per_table = Vec::new();
    for table in &tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        let mut count = 0;
        while let Some(row) = rows.next().unwrap() {
            count += 1;
            for c in 0..columns {
                use rusqlite::types::ValueRef;
                let bytes = match row.get_ref(c).unwrap() {
                    ValueRef::Null => Vec::new(),
                    ValueRef::Integer(n) => n.to_string().into_bytes(),
                    ValueRef::Real(x) => x.to_string().into_bytes(),
                    ValueRef::Text(t) | ValueRef::Blob(t) => t.to_vec(),
                };
                let what = format!("table {table}, row {count}, column {c}");
                assert_no_live_id(&ids, &what, &bytes);
                if table == "user_sessions" {
                    assert!(!contains(&bytes, b"user-"), "a user name in {what}");
                }
            }
        }
        rows_per_table.push((table.clone(), count));
    }
    assert!(
        rows_per_table.contains(&("sessions".to_owned(), ids.len()))
            && rows_per_table.contains(&("user_sessions".to_owned(), ids.len())),
        "one row per live session, one index row per bound session: {rows_per_table:?}"
    );
    let mut files = 0;
    for suffix in ["", "-wal", "-shm"] {
        let file = tmp.path().join(format!("sessions.db{suffix}"));
        if let Ok(bytes) = fs::read(&file) {
            files += 1;
            assert_no_live_id(&ids, &format!("the file {}", file.display()), &bytes);
        }
    }
    assert!(files >= 2, "the database and its log were read");
}

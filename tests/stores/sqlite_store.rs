//! SqliteStore beyond the conformance suite: the file it makes (schema,
//! version, WAL, permissions), the files it refuses (newer, foreign, not a
//! database, read-only, a directory, a symbolic link) and leaves as they
//! were, the cleanup of expired rows, corrupt rows, a locked database, two
//! stores on one file, a damaged user index row, and what its `Debug` and
//! errors show.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_session::store::RecordKey;
use http_session::{
    Data, Durability, Error, ManualClock, Record, Session, SessionId, SqliteStore,
    SqliteStoreBuilder, Store,
};
use rusqlite::Connection;
use serde_json::json;

fn data(value: serde_json::Value) -> Data {
    value.as_object().unwrap().clone()
}

/// A fresh temp dir and the database path in it.
fn db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.db");
    (dir, path)
}

/// A clock at a whole millisecond near now.
fn clock() -> ManualClock {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    ManualClock::new(UNIX_EPOCH + Duration::from_millis(now.as_millis() as u64))
}

/// A store on `path` whose expiry follows `clock`, with the cleanup on
/// writes off: what `purge_expired` and reads do is all that removes rows.
fn without_cleanup(path: &Path, clock: &ManualClock) -> SqliteStore {
    SqliteStore::builder(path)
        .clock(clock.clock())
        .cleanup_batch(0)
        .build()
        .unwrap()
}

/// A raw connection to the file, as the `sqlite3` shell would open it.
fn raw(path: &Path) -> Connection {
    Connection::open(path).unwrap()
}

fn pragma(path: &Path, name: &str) -> i64 {
    raw(path)
        .pragma_query_value(None, name, |row| row.get(0))
        .unwrap()
}

fn rows(path: &Path, table: &str) -> i64 {
    raw(path)
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
            row.get(0)
        })
        .unwrap()
}

/// The error `builder` fails with.
fn refused(builder: SqliteStoreBuilder) -> Error {
    match builder.build() {
        Ok(store) => panic!("opened: {store:?}"),
        Err(e) => e,
    }
}

/// Sessions written through a store, then the store closed: what a refusal
/// must not lose.
fn with_sessions(path: &Path) -> Vec<(SessionId, Record)> {
    let store = SqliteStore::open(path).unwrap();
    (0..3)
        .map(|n| {
            let id = SessionId::generate();
            let record = Record::new(data(json!({ "n": n })));
            store.set(&id, record.clone()).unwrap();
            (id, record)
        })
        .collect()
}

fn all_there(path: &Path, sessions: &[(SessionId, Record)]) {
    let store = SqliteStore::open(path).unwrap();
    for (id, record) in sessions {
        assert_eq!(store.get(id).unwrap().as_ref(), Some(record));
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_new_file_gets_the_current_schema_wal_and_private_permissions() {
    let dir = tempfile::tempdir().unwrap();
    // A directory that does not exist yet is created.
    let path = dir.path().join("not-yet").join("sessions.db");
    let store = SqliteStore::open(&path).unwrap();
    store
        .set(&SessionId::generate(), Record::new(data(json!({"a": 1}))))
        .unwrap();
    assert_eq!(pragma(&path, "user_version"), 1);
    assert_eq!(pragma(&path, "application_id"), 0x6874_7373);
    let journal: String = raw(&path)
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .unwrap();
    assert_eq!(journal, "wal");
    let names: Vec<String> = raw(&path)
        .prepare("SELECT name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        names,
        [
            "sessions",
            "sessions_expires_at",
            "user_sessions",
            "user_sessions_record_key"
        ]
    );
    #[cfg(unix)]
    {
        assert_eq!(mode(path.parent().unwrap()), 0o700, "the directory");
        for suffix in ["", "-wal", "-shm"] {
            let file = PathBuf::from(format!("{}{suffix}", path.display()));
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
    }
    // A second store on the file, and a zero-byte file, open as well.
    drop(SqliteStore::open(&path).unwrap());
    let empty = dir.path().join("empty.db");
    fs::write(&empty, b"").unwrap();
    drop(SqliteStore::open(&empty).unwrap());
    assert_eq!(pragma(&empty, "user_version"), 1);
}

/// Eight stores (as eight CGI processes would) open a file that does not
/// exist yet, at once: each opens, the schema is made once, and each store
/// then reads what the others wrote.
#[test]
fn stores_opening_a_new_file_at_once_all_open_it() {
    const STORES: usize = 8;
    let (_dir, path) = db();
    let barrier = std::sync::Barrier::new(STORES);
    let stores: Vec<SqliteStore> = thread::scope(|s| {
        let opening: Vec<_> = (0..STORES)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    SqliteStore::open(&path).unwrap()
                })
            })
            .collect();
        opening.into_iter().map(|t| t.join().unwrap()).collect()
    });
    assert_eq!(pragma(&path, "user_version"), 1);
    let ids: Vec<SessionId> = stores
        .iter()
        .enumerate()
        .map(|(n, store)| {
            let id = SessionId::generate();
            assert!(store
                .create(&id, Record::new(data(json!({ "n": n }))))
                .unwrap());
            id
        })
        .collect();
    for store in &stores {
        for (n, id) in ids.iter().enumerate() {
            assert_eq!(store.get(id).unwrap().unwrap().data["n"], n);
        }
    }
}

#[test]
fn a_database_of_a_newer_version_is_refused_and_left_as_it_was() {
    let (_dir, path) = db();
    let sessions = with_sessions(&path);
    raw(&path).pragma_update(None, "user_version", 7).unwrap();
    let before = fs::read(&path).unwrap();

    let err = refused(SqliteStore::builder(&path));
    let text = err.to_string();
    assert!(matches!(err, Error::Store { .. }), "{err:?}");
    assert!(
        text.contains("schema version is 7") && text.contains("up to 1"),
        "says what it found and what it knows: {text}"
    );
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert_eq!(fs::read(&path).unwrap(), before, "the file is untouched");
    assert_eq!(pragma(&path, "user_version"), 7);

    // Nothing was lost: back at version 1 (as a downgrade would), every
    // session reads.
    raw(&path).pragma_update(None, "user_version", 1).unwrap();
    all_there(&path, &sessions);
}

#[test]
fn another_applications_database_is_refused_and_left_as_it_was() {
    let (dir, path) = db();
    {
        let conn = raw(&path);
        conn.execute_batch(
            "CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('ana'), ('bo');",
        )
        .unwrap();
    }
    let before = fs::read(&path).unwrap();
    let err = refused(SqliteStore::builder(&path));
    assert!(
        err.to_string().contains("another application's database"),
        "{err}"
    );
    assert_eq!(fs::read(&path).unwrap(), before, "the file is untouched");
    assert_eq!(rows(&path, "users"), 2);

    // Another application's id on a file with our version number.
    let other = dir.path().join("other.db");
    raw(&other)
        .execute_batch("PRAGMA application_id = 42; PRAGMA user_version = 1;")
        .unwrap();
    let err = refused(SqliteStore::builder(&other));
    assert!(err.to_string().contains("application id 0x2a"), "{err}");
    assert_eq!(pragma(&other, "application_id"), 42);
}

#[test]
fn a_file_that_is_no_database_is_refused_and_left_as_it_was() {
    let (dir, path) = db();
    let text = "not a database: a text file someone pointed the store at\n".repeat(40);
    let mut noise = vec![0u8; 8192];
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    for byte in &mut noise {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *byte = x as u8;
    }
    for (name, bytes) in [("text", text.into_bytes()), ("noise", noise)] {
        fs::write(&path, &bytes).unwrap();
        let err = refused(SqliteStore::builder(&path));
        assert!(
            err.to_string().contains("not a SQLite database"),
            "{name}: {err}"
        );
        assert_eq!(fs::read(&path).unwrap(), bytes, "{name}: untouched");
        assert!(
            !dir.path().join("sessions.db-wal").exists(),
            "{name}: no log made for it"
        );
    }
}

/// Our application id with a schema version this crate never wrote, or
/// with version 1 but no tables: damaged, refused, and left as it was.
#[test]
fn a_damaged_schema_is_refused_and_left_as_it_was() {
    let (dir, _path) = db();
    for (name, version, tables) in [("negative", -1, true), ("no-tables", 1, false)] {
        let path = dir.path().join(format!("{name}.db"));
        let conn = raw(&path);
        conn.execute_batch("PRAGMA application_id = 1752462195;")
            .unwrap();
        conn.pragma_update(None, "user_version", version).unwrap();
        if tables {
            conn.execute_batch("CREATE TABLE sessions (x);").unwrap();
        }
        drop(conn);
        let before = fs::read(&path).unwrap();
        let err = refused(SqliteStore::builder(&path));
        assert!(matches!(err, Error::Store { .. }), "{name}: {err:?}");
        assert!(err.to_string().contains("damaged"), "{name}: {err}");
        assert_eq!(fs::read(&path).unwrap(), before, "{name}: untouched");
        assert_eq!(pragma(&path, "user_version"), version, "{name}");
    }
}

#[test]
fn a_directory_or_a_symbolic_link_is_refused() {
    let (dir, path) = db();
    fs::create_dir(&path).unwrap();
    let err = refused(SqliteStore::builder(&path));
    assert!(err.to_string().contains("sessions.db"), "{err}");
    #[cfg(unix)]
    {
        let real = dir.path().join("real.db");
        let sessions = with_sessions(&real);
        let link = dir.path().join("link.db");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let err = refused(SqliteStore::builder(&link));
        assert!(err.to_string().contains("symbolic link"), "{err}");
        all_there(&real, &sessions);
    }
}

#[test]
fn settings_out_of_range_are_refused_before_any_file_is_made() {
    let (_dir, path) = db();
    for builder in [
        SqliteStore::builder(&path).pool_size(0),
        SqliteStore::builder(&path).busy_timeout(Duration::ZERO),
    ] {
        let err = refused(builder);
        assert!(matches!(err, Error::InvalidConfig { .. }), "{err:?}");
    }
    assert!(!path.exists());
}

const READ_ONLY_CHILD: &str = "HTTP_SESSION_SQLITE_READ_ONLY";

/// Opens the database named in `READ_ONLY_CHILD` and checks the refusal;
/// run by `a_read_only_file_is_refused_clearly` as another user.
#[test]
#[ignore = "run by a_read_only_file_is_refused_clearly, as a child process"]
fn read_only_child() {
    let Ok(path) = std::env::var(READ_ONLY_CHILD) else {
        return;
    };
    check_read_only_refusal(Path::new(&path));
}

fn check_read_only_refusal(path: &Path) {
    let err = refused(SqliteStore::builder(path));
    assert!(matches!(err, Error::Store { .. }), "{err:?}");
    assert!(err.to_string().contains("read-only"), "{err}");
    println!("READ-ONLY-REFUSED");
}

/// A file this process may read but not write. Root may write any file, so
/// as root the check runs in a child process of this test binary under the
/// user `nobody` (uid 65534).
#[cfg(unix)]
#[test]
fn a_read_only_file_is_refused_clearly() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::os::unix::process::CommandExt;
    let (dir, path) = db();
    let sessions = with_sessions(&path);
    let before = fs::read(&path).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).unwrap();
    let root = fs::metadata(&path).unwrap().uid() == 0;
    if root {
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["sqlite_store::read_only_child", "--exact", "--ignored"])
            .args(["--nocapture", "--test-threads", "1"])
            .env(READ_ONLY_CHILD, &path)
            .uid(65534)
            .gid(65534)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("READ-ONLY-REFUSED"),
            "child as nobody: {}\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    } else {
        check_read_only_refusal(&path);
    }
    assert_eq!(fs::read(&path).unwrap(), before, "the file is untouched");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    all_there(&path, &sessions);
}

#[test]
fn expired_rows_go_a_batch_per_write_by_default() {
    let (_dir, path) = db();
    let clock = clock();
    let store = SqliteStore::builder(&path)
        .clock(clock.clock())
        .build()
        .unwrap();
    let soon = clock.now() + Duration::from_secs(10);
    let expiring: Vec<SessionId> = (0..250).map(|_| SessionId::generate()).collect();
    for id in &expiring {
        store
            .set(id, Record::expiring(data(json!({"e": 1})), soon))
            .unwrap();
    }
    let live = SessionId::generate();
    store
        .set(&live, Record::new(data(json!({"l": 1}))))
        .unwrap();
    assert_eq!(rows(&path, "sessions"), 251, "nothing expired yet");
    clock.advance(Duration::from_secs(10));
    for left in [152, 53, 4] {
        let id = SessionId::generate();
        assert!(store.create(&id, Record::new(data(json!({})))).unwrap());
        assert_eq!(rows(&path, "sessions"), left, "at most 100 a write");
    }
    assert_eq!(
        store.purge_expired().unwrap(),
        0,
        "the writes took them all"
    );
    assert!(store.get(&live).unwrap().is_some());
}

#[test]
fn the_cleanup_batch_bounds_what_each_write_removes() {
    for (batch, left) in [(7, [24, 18, 12]), (usize::MAX, [1, 2, 3])] {
        let (_dir, path) = db();
        let clock = clock();
        let store = SqliteStore::builder(&path)
            .clock(clock.clock())
            .cleanup_batch(batch)
            .build()
            .unwrap();
        let soon = clock.now() + Duration::from_secs(10);
        for _ in 0..30 {
            store
                .set(
                    &SessionId::generate(),
                    Record::expiring(data(json!({"e": 1})), soon),
                )
                .unwrap();
        }
        clock.advance(Duration::from_secs(10));
        for left in left {
            let id = SessionId::generate();
            assert!(store.create(&id, Record::new(data(json!({})))).unwrap());
            assert_eq!(rows(&path, "sessions"), left, "batch {batch}");
        }
    }
}

#[test]
fn with_the_cleanup_off_purge_expired_removes_them_all() {
    let (_dir, path) = db();
    let clock = clock();
    let store = without_cleanup(&path, &clock);
    // 2,500 expired rows, written raw in one transaction (a write each
    // would take 2,500 commits); then one live session.
    let soon = clock.now() + Duration::from_secs(10);
    let expires_ms = soon.duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
    let text = Record::expiring(data(json!({"e": 1})), soon)
        .encode()
        .unwrap();
    {
        let mut conn = raw(&path);
        let tx = conn.transaction().unwrap();
        for _ in 0..2_500 {
            let key = RecordKey::of(&SessionId::generate());
            tx.execute(
                "INSERT INTO sessions (key, expires_at, record) VALUES (?1, ?2, ?3)",
                (&key.as_bytes()[..], expires_ms, &text),
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    let live = SessionId::generate();
    store
        .set(&live, Record::new(data(json!({"l": 1}))))
        .unwrap();
    clock.advance(Duration::from_secs(10));
    store
        .set(&SessionId::generate(), Record::new(data(json!({}))))
        .unwrap();
    assert_eq!(rows(&path, "sessions"), 2_502, "no cleanup on writes");
    assert_eq!(store.count().unwrap(), Some(2_502));
    assert_eq!(store.purge_expired().unwrap(), 2_500, "in three batches");
    assert_eq!(rows(&path, "sessions"), 2);
    assert_eq!(store.purge_expired().unwrap(), 0);
    assert!(store.get(&live).unwrap().is_some());
}

#[test]
fn an_expired_row_is_deleted_when_read() {
    let (_dir, path) = db();
    let clock = clock();
    let store = without_cleanup(&path, &clock);
    let id = SessionId::generate();
    let at = clock.now() + Duration::from_secs(5);
    store
        .set(&id, Record::expiring(data(json!({"a": 1})), at))
        .unwrap();
    clock.advance(Duration::from_secs(4));
    assert!(store.get(&id).unwrap().is_some());
    assert_eq!(rows(&path, "sessions"), 1);
    clock.advance(Duration::from_secs(1));
    assert_eq!(store.get(&id).unwrap(), None);
    assert_eq!(rows(&path, "sessions"), 0, "deleted when read");
}

/// A row someone damaged by hand is an error for its own session only, and
/// no call on it loses it: the update, the take and the regeneration that
/// fail leave it exactly as it was.
#[test]
fn a_corrupt_row_is_an_error_for_its_own_id_only_and_stays() {
    let (_dir, path) = db();
    let store = SqliteStore::open(&path).unwrap();
    let (bad, good) = (SessionId::generate(), SessionId::generate());
    store.set(&bad, Record::new(data(json!({"a": 1})))).unwrap();
    store
        .set(&good, Record::new(data(json!({"b": 2}))))
        .unwrap();
    let key = RecordKey::of(&bad);
    raw(&path)
        .execute(
            "UPDATE sessions SET record = '{\"data\": oops' WHERE key = ?1",
            [&key.as_bytes()[..]],
        )
        .unwrap();
    let damaged = || -> String {
        raw(&path)
            .query_row(
                "SELECT record FROM sessions WHERE key = ?1",
                [&key.as_bytes()[..]],
                |row| row.get(0),
            )
            .unwrap()
    };
    let corrupt = |result: Result<(), Error>, what: &str| {
        let err = result.unwrap_err();
        assert!(
            matches!(err, Error::CorruptRecord { .. }),
            "{what}: {err:?}"
        );
        let text = format!("{err} {err:?}");
        assert!(!text.contains(bad.as_str()), "{what}: the ID in {text}");
        assert!(!text.contains(&key.to_hex()), "{what}: the key in {text}");
        assert_eq!(damaged(), "{\"data\": oops", "{what}: the row stays");
    };
    corrupt(store.get(&bad).map(drop), "get");
    corrupt(store.update(&bad, &mut |_| true).map(drop), "update");
    corrupt(store.take(&bad).map(drop), "take");
    let session = Session::with_store(&store);
    corrupt(
        session
            .regenerate(&bad, &mut http_session::Headers::new())
            .map(drop),
        "regenerate",
    );
    assert_eq!(
        store.get(&good).unwrap().unwrap().data,
        data(json!({"b": 2}))
    );
    // A row whose record is not text at all.
    raw(&path)
        .execute(
            "UPDATE sessions SET record = CAST(x'ff00' AS TEXT) WHERE key = ?1",
            [&key.as_bytes()[..]],
        )
        .unwrap();
    assert!(store.get(&bad).is_err());
    store.delete(&bad).unwrap();
    assert_eq!(store.get(&bad).unwrap(), None);
}

/// Another connection holds the write lock (a writer in another process):
/// writes fail once the busy timeout has passed, with an error that says
/// so, reads go on, nothing is lost, and writes work again once it lets go.
#[test]
fn a_locked_database_fails_writes_after_the_busy_timeout_and_loses_nothing() {
    let (_dir, path) = db();
    let store = SqliteStore::builder(&path)
        .busy_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let id = SessionId::generate();
    store.set(&id, Record::new(data(json!({"n": 1})))).unwrap();

    let holder = raw(&path);
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let err = store
        .update(&id, &mut |r| {
            r.data.insert("n".into(), 2.into());
            true
        })
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Store { .. }), "{err:?}");
    assert!(
        text.contains("locked") && text.contains("busy timeout"),
        "{text}"
    );
    assert!(!text.contains(id.as_str()));
    let err = store
        .create(&SessionId::generate(), Record::new(Data::new()))
        .unwrap_err();
    assert!(err.to_string().contains("locked"), "{err}");
    // Readers do not wait for the writer.
    assert_eq!(store.get(&id).unwrap().unwrap().data["n"], 1);
    holder.execute_batch("ROLLBACK").unwrap();

    assert!(store
        .update(&id, &mut |r| {
            r.data.insert("n".into(), 2.into());
            true
        })
        .unwrap());
    assert_eq!(store.get(&id).unwrap().unwrap().data["n"], 2);
}

/// Two stores on one file (as two processes would have), four threads on
/// each, more threads than connections kept: every increment counts.
#[test]
fn two_stores_on_one_file_lose_no_update() {
    const THREADS: usize = 4;
    const INCREMENTS: usize = 50;
    let (_dir, path) = db();
    let stores = [
        Arc::new(SqliteStore::builder(&path).pool_size(1).build().unwrap()),
        Arc::new(SqliteStore::builder(&path).pool_size(2).build().unwrap()),
    ];
    let first = Session::with_store(Arc::clone(&stores[0]));
    let id = first.create(json!({"n": 0})).unwrap();
    thread::scope(|s| {
        for store in &stores {
            for _ in 0..THREADS {
                let session = Session::with_store(Arc::clone(store));
                let id = &id;
                s.spawn(move || {
                    for _ in 0..INCREMENTS {
                        let n = session
                            .update_with(id, |data| {
                                let n = data["n"].as_u64().unwrap() + 1;
                                data.insert("n".into(), n.into());
                            })
                            .unwrap();
                        assert!(n.is_some());
                    }
                });
            }
        }
    });
    assert_eq!(
        first.get(&id).unwrap().unwrap()["n"],
        (2 * THREADS * INCREMENTS) as u64
    );
}

#[test]
fn debug_shows_settings_never_an_id_a_key_or_data() {
    let (_dir, path) = db();
    let builder = SqliteStore::builder(&path).pool_size(3);
    let builder_text = format!("{builder:?}");
    let store = builder.build().unwrap();
    let id = SessionId::generate();
    store
        .set(&id, Record::new(data(json!({"secret": "hunter2"}))))
        .unwrap();
    let text = format!("{store:?}");
    assert!(
        text.contains("sessions.db") && text.contains("pool_size: 3"),
        "{text}"
    );
    for shown in [&text, &builder_text] {
        assert!(!shown.contains(id.as_str()), "{shown}");
        assert!(!shown.contains(&RecordKey::of(&id).to_hex()), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}

#[test]
fn the_store_can_be_shared_and_used_across_unwinding() {
    fn check<T: Send + Sync + std::panic::UnwindSafe + std::panic::RefUnwindSafe>() {}
    check::<SqliteStore>();
    check::<Session<SqliteStore>>();
}

/// A user index row damaged by hand (a handle of the wrong length) makes
/// listing that user's sessions an error that says so; the session itself
/// and its row are left as they were.
#[test]
fn a_damaged_user_index_row_is_an_error_and_stays() {
    let (_dir, path) = db();
    let session = Session::with_store(SqliteStore::open(&path).unwrap());
    let id = session.create(json!({"a": 1})).unwrap();
    assert!(session.bind_user(&id, "ana").unwrap());
    raw(&path)
        .execute("UPDATE user_sessions SET handle = x'00'", [])
        .unwrap();
    let err = session.sessions_of("ana", None).unwrap_err();
    assert!(matches!(err, Error::CorruptRecord { .. }), "{err:?}");
    assert!(err.to_string().contains("user index"), "{err}");
    assert!(!err.to_string().contains(id.as_str()));
    assert!(session.get(&id).unwrap().is_some(), "the session stays");
    assert_eq!(rows(&path, "user_sessions"), 1, "the row stays");
}

/// A bound session that expires takes its user index entry with it, however
/// its row goes (a read, an update, a take, a write's cleanup), so the index
/// keeps nothing of users who never come back. A logout deletes only the
/// row: its entry stays until the user's next listing prunes it.
#[test]
fn an_expired_sessions_index_entry_goes_with_its_row() {
    let (_dir, path) = db();
    let clock = clock();
    let store = Arc::new(
        SqliteStore::builder(&path)
            .clock(clock.clock())
            .build()
            .unwrap(),
    );
    let session = Session::builder()
        .store(Arc::clone(&store))
        .clock(clock.clock())
        .ttl(Duration::from_secs(60))
        .build()
        .unwrap();
    let ids: Vec<SessionId> = (0..5)
        .map(|_| {
            let id = session.create(json!({})).unwrap();
            assert!(session.bind_user(&id, "ana").unwrap());
            id
        })
        .collect();
    let entries = || rows(&path, "user_sessions");
    assert_eq!(entries(), 5);
    session
        .delete(&ids[4], &mut http_session::Headers::new())
        .unwrap();
    assert_eq!(entries(), 5, "a logout leaves the entry");
    clock.advance(Duration::from_secs(61));
    assert_eq!(store.get(&ids[0]).unwrap(), None);
    assert_eq!(entries(), 4, "read");
    assert!(!store.update(&ids[1], &mut |_| true).unwrap());
    assert_eq!(entries(), 3, "update");
    assert_eq!(store.take(&ids[2]).unwrap(), None);
    assert_eq!(entries(), 2, "take");
    assert!(store
        .create(&SessionId::generate(), Record::new(Data::new()))
        .unwrap());
    assert_eq!(entries(), 1, "a write's cleanup");
    assert!(session.sessions_of("ana", None).unwrap().is_empty());
    assert_eq!(entries(), 0, "the listing pruned the logout's entry");
}

/// A CGI program opens the database, writes once and closes it, each time
/// often alone. The log must neither grow without end (without a checkpoint
/// on close, a connection alone loses count of what was copied) nor lose a
/// write: 400 such processes, each store opened, updated once and dropped,
/// two durabilities in turn, leave a log of at most about 64 pages (the
/// store's limit, plus the commit that crossed it) and the counter at 400.
#[test]
fn a_store_opened_per_request_keeps_its_log_short() {
    let (_dir, path) = db();
    let id = SessionId::generate();
    let mut log_sizes = Vec::new();
    {
        let store = SqliteStore::open(&path).unwrap();
        assert!(store.create(&id, Record::new(Data::new())).unwrap());
    }
    let wal = {
        let mut name = path.clone().into_os_string();
        name.push("-wal");
        PathBuf::from(name)
    };
    for visit in 0..400 {
        let durability = if visit % 2 == 0 {
            Durability::PowerCut
        } else {
            Durability::ProcessCrash
        };
        let store = SqliteStore::builder(&path)
            .durability(durability)
            .build()
            .unwrap();
        assert!(store
            .update(&id, &mut |r| {
                let n = r.data.get("n").and_then(|n| n.as_i64()).unwrap_or(0);
                r.data.insert("n".into(), json!(n + 1));
                true
            })
            .unwrap());
        drop(store);
        log_sizes.push(fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
    }
    let largest = log_sizes.iter().copied().max().unwrap_or(0);
    // 64 pages of 4 KiB plus their frame headers, the commit that crossed
    // the limit (a few pages) and the log's header.
    let bound = (64 + 8) * (4096 + 24) + 32;
    assert!(
        largest <= bound,
        "the log reached {largest} bytes (bound {bound}); sizes: {log_sizes:?}"
    );
    assert!(
        log_sizes.iter().filter(|&&size| size == 0).count() >= 10,
        "the log was emptied again and again: {log_sizes:?}"
    );
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.get(&id).unwrap().unwrap().data["n"], 400);
}

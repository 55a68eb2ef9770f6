//! FileStore beyond the conformance suite: permissions, corrupt and foreign
//! files, stale temp files, the cleanup writes do, bad directories, and what a
//! hostile or careless hand can put in the directory (links, FIFOs, huge
//! files, shared permissions, an emptied directory).

use std::fs;
use std::path::Path;
use std::sync::{mpsc, Arc};
use std::time::{Duration, SystemTime};

use crate::common::fuzz_checks::hashed_name;
use crate::common::FilePath;
use http_session::{Error, FileStore, ManualClock, Record, Session, SessionId, Store};
use serde_json::json;

fn record(n: i64) -> Record {
    Record::new(json!({ "n": n }).as_object().unwrap().clone())
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[cfg(unix)]
#[test]
fn directory_is_0700_and_files_are_0600() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a/b/sessions");
    let store = FileStore::open(&dir).unwrap();
    let id = SessionId::generate();
    store.set(&id, record(1)).unwrap();
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join(".locks")), 0o700);
    assert_eq!(mode(&store.path_of(&id)), 0o600);
    for lock in fs::read_dir(dir.join(".locks")).unwrap() {
        assert_eq!(mode(&lock.unwrap().path()), 0o600);
    }
    // Updates replace the file: the new one is private too.
    assert!(store
        .update(&id, &mut |r| {
            *r = record(2);
            true
        })
        .unwrap());
    assert_eq!(mode(&store.path_of(&id)), 0o600);
}

#[test]
fn file_is_named_by_lowercase_hex_of_the_sha256_of_the_id() {
    let tmp = tempfile::tempdir().unwrap();
    let store = FileStore::open(tmp.path()).unwrap();
    let id = SessionId::from_bytes([0xC3; 32]);
    store.set(&id, record(1)).unwrap();
    // SHA-256 of the 32 bytes 0xC3, in lowercase hex (`hashed_name` too).
    let name = "4b80290f1d4d74e661a0ea719372cba50562116c980eda7f250ae4115017c641";
    assert_eq!(name, crate::common::fuzz_checks::hashed_name(&id));
    // Besides the session: the lock files, and the cleanup's marker.
    assert_eq!(names(tmp.path()), [".last-sweep", ".locks", name]);
    let text = fs::read_to_string(store.path_of(&id)).unwrap();
    assert_eq!(
        Record::decode(&text).unwrap(),
        record(1),
        "the format is Record::encode"
    );
}

#[test]
fn corrupt_files_are_errors_for_their_id_only() {
    let tmp = tempfile::tempdir().unwrap();
    let store = FileStore::open(tmp.path()).unwrap();
    let good = SessionId::generate();
    store.set(&good, record(7)).unwrap();
    let cases: [&[u8]; 5] = [
        b"",                        // what a torn write would look like
        b"{\"data\":{\"n\":1}",     // truncated JSON
        b"[1,2,3]",                 // JSON, but not a record
        b"\xff\xfe not utf-8 \x00", // not text
        b"{\"data\":{},\"expires_at\":\"soon\"}",
    ];
    for bytes in cases {
        let id = SessionId::generate();
        fs::write(store.path_of(&id), bytes).unwrap();
        let err = store.get(&id).unwrap_err();
        assert!(matches!(err, Error::CorruptRecord { .. }), "{err}");
        assert!(!err.to_string().contains(id.as_str()), "no ID in messages");
        let mut ran = false;
        let err = store
            .update(&id, &mut |_| {
                ran = true;
                true
            })
            .unwrap_err();
        assert!(matches!(err, Error::CorruptRecord { .. }), "{err}");
        assert!(!ran);
        assert!(
            store.create(&id, record(1)).is_err(),
            "create does not paper over it"
        );
        let err = store.take(&id).unwrap_err();
        assert!(matches!(err, Error::CorruptRecord { .. }), "{err}");
        assert_eq!(
            fs::read(store.path_of(&id)).unwrap(),
            bytes,
            "left as it was"
        );
        assert_eq!(
            store.purge_expired().unwrap(),
            0,
            "purge skips it while fresh"
        );
        assert!(store.path_of(&id).exists());
        // Deleting the session removes the bad file.
        store.delete(&id).unwrap();
        assert_eq!(store.get(&id).unwrap(), None);
    }
    assert_eq!(
        store.get(&good).unwrap(),
        Some(record(7)),
        "nothing else lost"
    );
}

#[test]
fn foreign_files_are_left_alone() {
    let clock = ManualClock::new(SystemTime::now());
    let tmp = tempfile::tempdir().unwrap();
    let store = FileStore::builder(tmp.path())
        .clock(clock.clock())
        .build()
        .unwrap();
    let expired = SessionId::generate();
    store
        .set(
            &expired,
            Record::expiring(record(1).data, clock.now() + Duration::from_secs(1)),
        )
        .unwrap();
    let upper = "AB".repeat(32); // uppercase hex: not a session name
    let foreign = [
        "README",
        upper.as_str(),
        "0123",
        ".hidden",
        ".tmp-not-stale-yet",
    ];
    for name in foreign {
        fs::write(tmp.path().join(name), "{\"data\":{},\"expires_at\":0}").unwrap();
    }
    // A directory where the session file of `id` would be.
    let id = SessionId::from_bytes([0xEF; 32]);
    let dir_named_like_a_session = crate::common::fuzz_checks::hashed_name(&id);
    fs::create_dir(tmp.path().join(&dir_named_like_a_session)).unwrap();
    clock.advance(Duration::from_secs(2));
    assert_eq!(
        store.purge_expired().unwrap(),
        1,
        "only the expired session"
    );
    for name in foreign.iter().chain([&dir_named_like_a_session.as_str()]) {
        assert!(tmp.path().join(name).exists(), "{name} was touched");
    }
    assert!(!store.path_of(&expired).exists());
    // Reading the ID whose "file" is a directory is an error, not a panic.
    assert!(store.get(&id).is_err());
}

/// A session file that does not parse can never be read back: the purge
/// deletes it once its modification time is 12 hours old (the default
/// absolute lifetime) by the store's clock, and leaves younger ones to be
/// reported.
#[test]
fn purge_removes_corrupt_files_once_12_hours_old() {
    const HOUR: Duration = Duration::from_secs(3600);
    let clock = ManualClock::new(SystemTime::now());
    let tmp = tempfile::tempdir().unwrap();
    let store = FileStore::builder(tmp.path())
        .clock(clock.clock())
        .build()
        .unwrap();
    let good = SessionId::generate();
    store.set(&good, record(1)).unwrap();
    let corrupt = |hours_ago: u32| {
        let id = SessionId::generate();
        let path = store.path_of(&id);
        fs::write(&path, b"{\"data\":{\"n\":1}").unwrap(); // truncated
        fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(clock.now() - HOUR * hours_ago)
            .unwrap();
        id
    };
    let old = corrupt(13);
    let younger = corrupt(11);
    let fresh = corrupt(0);
    assert_eq!(store.purge_expired().unwrap(), 1, "the 13-hour-old one");
    assert!(!store.path_of(&old).exists());
    assert_eq!(store.get(&old).unwrap(), None);
    assert!(matches!(
        store.get(&younger),
        Err(Error::CorruptRecord { .. })
    ));
    assert!(store.path_of(&fresh).exists());

    clock.advance(2 * HOUR);
    assert_eq!(store.purge_expired().unwrap(), 1, "now 13 hours old too");
    assert!(!store.path_of(&younger).exists());
    assert!(store.path_of(&fresh).exists(), "2 hours old: kept");
    assert_eq!(
        store.get(&good).unwrap(),
        Some(record(1)),
        "live record kept"
    );
}

#[test]
fn purge_removes_stale_temp_files_only() {
    let tmp = tempfile::tempdir().unwrap();
    let store = FileStore::open(tmp.path()).unwrap();
    let stale = tmp.path().join(".tmp-crashed-writer");
    let fresh = tmp.path().join(".tmp-writing-now");
    fs::write(&stale, "half").unwrap();
    fs::write(&fresh, "half").unwrap();
    fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
    assert_eq!(
        store.purge_expired().unwrap(),
        0,
        "temp files are not sessions"
    );
    assert!(!stale.exists());
    assert!(fresh.exists());
}

/// A record of `store`'s test data that expires `secs` after `clock`'s now.
fn expiring(clock: &ManualClock, secs: u64) -> Record {
    Record::expiring(record(1).data, clock.now() + Duration::from_secs(secs))
}

/// How many of `ids` still have a file.
fn on_disk(store: &FileStore, ids: &[SessionId]) -> usize {
    ids.iter().filter(|id| store.path_of(id).exists()).count()
}

/// Sessions written by a store with the cleanup off (another process, say),
/// so that none is swept before the test looks.
fn write_sessions(dir: &Path, clock: &ManualClock, n: usize, secs: Option<u64>) -> Vec<SessionId> {
    let writer = FileStore::builder(dir)
        .clock(clock.clock())
        .sweep_batch(0)
        .build()
        .unwrap();
    (0..n)
        .map(|_| {
            let id = SessionId::generate();
            let rec = secs.map_or_else(|| record(1), |secs| expiring(clock, secs));
            writer.set(&id, rec).unwrap();
            id
        })
        .collect()
}

fn rewrite(store: &FileStore, id: &SessionId) {
    assert!(store
        .update(id, &mut |r| {
            r.data.insert("n".into(), json!(2));
            true
        })
        .unwrap());
}

/// Cleanup is on by default (what PHP's off-by-default collection shows is
/// needed): each write deletes expired files, looking at no more than
/// `DEFAULT_SWEEP_BATCH` (16) directory entries, so a few writes clean them
/// all; then no new pass starts before `sweep_interval` (one minute).
#[test]
fn writes_clean_up_expired_files_by_default_a_bounded_batch_at_a_time() {
    let clock = ManualClock::new(SystemTime::now());
    let tmp = tempfile::tempdir().unwrap();
    let expired = write_sessions(tmp.path(), &clock, 100, Some(1));
    let live = write_sessions(tmp.path(), &clock, 1, None).remove(0);
    clock.advance(Duration::from_secs(2));

    let store = FileStore::builder(tmp.path())
        .clock(clock.clock())
        .build()
        .unwrap();
    assert_eq!(FileStore::DEFAULT_SWEEP_BATCH, 16);
    rewrite(&store, &live);
    // 16 entries looked at: all but `.locks` and `live` can be expired files.
    let deleted = 100 - on_disk(&store, &expired);
    assert!((14..=16).contains(&deleted), "one write deleted {deleted}");
    let mut writes = 1;
    while on_disk(&store, &expired) > 0 {
        let before = on_disk(&store, &expired);
        rewrite(&store, &live);
        writes += 1;
        let deleted = before - on_disk(&store, &expired);
        assert!(deleted <= 16, "one write deleted {deleted} files");
        assert!(writes <= 10, "a pass over 102 entries takes 7 writes");
    }
    assert!(writes >= 7, "{writes} writes: at most 16 entries each");
    assert_eq!(store.get(&live).unwrap().unwrap().data["n"], 2);

    // The pass is over: files that expire now wait for the next one, which
    // starts one minute after this one started.
    let later = write_sessions(tmp.path(), &clock, 5, Some(1));
    clock.advance(Duration::from_secs(2));
    for _ in 0..3 {
        rewrite(&store, &live);
    }
    // Nor in another process: the marker says the pass is done, and when it
    // started.
    let other_process = FileStore::builder(tmp.path())
        .clock(clock.clock())
        .build()
        .unwrap();
    rewrite(&other_process, &live);
    assert_eq!(
        on_disk(&store, &later),
        5,
        "no new pass within the interval"
    );
    clock.advance(Duration::from_secs(60));
    rewrite(&store, &live);
    assert_eq!(on_disk(&store, &later), 0, "the next pass");
    assert!(store.get(&live).unwrap().is_some());
}

/// A clock set back (by an administrator, or NTP after a wrong jump) does not
/// stop the cleanup until it catches up: a pass that seems to lie in the
/// future by more than the interval is not waited for.
#[test]
fn the_cleanup_survives_the_clock_going_back() {
    let start = SystemTime::now();
    let clock = ManualClock::new(start);
    let tmp = tempfile::tempdir().unwrap();
    let store = FileStore::builder(tmp.path())
        .clock(clock.clock())
        .build()
        .unwrap();
    let live = write_sessions(tmp.path(), &clock, 1, None).remove(0);
    rewrite(&store, &live); // a pass over 2 entries: done

    clock.set(start - Duration::from_secs(24 * 3600));
    let expired = write_sessions(tmp.path(), &clock, 3, Some(1));
    clock.advance(Duration::from_secs(2));
    rewrite(&store, &live);
    assert_eq!(
        on_disk(&store, &expired),
        0,
        "swept a day \"before\" the last pass"
    );
}

/// CGI: every request is a new process with one write. Each continues the
/// pass where the last one stopped (the `.last-sweep` marker says where), so
/// the expired files are all reached, even behind many live ones; a process
/// that started over at the top would look at the same live files forever.
#[test]
fn one_write_processes_continue_the_pass_where_the_last_one_stopped() {
    let clock = ManualClock::new(SystemTime::now());
    let tmp = tempfile::tempdir().unwrap();
    let live = write_sessions(tmp.path(), &clock, 40, None);
    let expired = write_sessions(tmp.path(), &clock, 10, Some(1));
    clock.advance(Duration::from_secs(2));

    let process = || {
        FileStore::builder(tmp.path())
            .clock(clock.clock())
            .sweep_batch(4)
            .sweep_interval(Duration::ZERO)
            .build()
            .unwrap()
    };
    let mut processes = 0;
    while on_disk(&process(), &expired) > 0 {
        let store = process();
        let before = on_disk(&store, &expired);
        rewrite(&store, &live[0]);
        processes += 1;
        assert!(before - on_disk(&store, &expired) <= 4, "a batch of 4");
        assert!(
            processes <= 26,
            "52 entries, 4 per process: a pass takes 13 processes"
        );
    }
    assert_eq!(on_disk(&process(), &live), 40, "live sessions kept");
    // The marker: when the pass started, and how far it got (or "done").
    let marker = fs::read_to_string(tmp.path().join(".last-sweep")).unwrap();
    let words: Vec<&str> = marker.trim_end().split(' ').collect();
    assert!(marker.ends_with('\n') && words.len() == 2, "{marker:?}");
    assert!(words[0].parse::<u64>().is_ok(), "{marker:?}");
    assert!(
        words[1] == "done" || words[1].parse::<u64>().is_ok(),
        "{marker:?}"
    );
}

/// `sweep_batch(0)` turns the cleanup off (a cron job calls `purge_expired`
/// instead), and a smaller batch deletes fewer files per write.
#[test]
fn the_cleanup_can_be_turned_off_or_tuned() {
    let clock = ManualClock::new(SystemTime::now());
    let tmp = tempfile::tempdir().unwrap();
    let expired = write_sessions(tmp.path(), &clock, 20, Some(1));
    clock.advance(Duration::from_secs(2));

    let off = FileStore::builder(tmp.path())
        .clock(clock.clock())
        .sweep_batch(0)
        .build()
        .unwrap();
    let id = SessionId::generate();
    off.set(&id, record(1)).unwrap();
    assert!(off.create(&SessionId::generate(), record(1)).unwrap());
    rewrite(&off, &id);
    assert_eq!(
        on_disk(&off, &expired),
        20,
        "writes never delete another file"
    );
    assert!(!tmp.path().join(".last-sweep").exists());

    let small = FileStore::builder(tmp.path())
        .clock(clock.clock())
        .sweep_batch(2)
        .sweep_interval(Duration::ZERO)
        .build()
        .unwrap();
    for _ in 0..5 {
        let before = on_disk(&small, &expired);
        rewrite(&small, &id);
        assert!(before - on_disk(&small, &expired) <= 2);
    }
    let left = on_disk(&off, &expired);
    assert!(left >= 10, "5 writes of 2: {left} left");
    assert_eq!(off.purge_expired().unwrap(), left, "the rest, at once");
    assert_eq!(on_disk(&off, &expired), 0);
}

/// A temporary file left by a writer killed mid-write is deleted by the
/// cleanup a write does, once older than the longest write (ten minutes),
/// without anyone calling `purge_expired`. A younger one is left: it may be a
/// write under way.
#[test]
fn a_write_removes_a_temp_file_left_by_a_dead_writer() {
    let tmp = tempfile::tempdir().unwrap();
    let store = FileStore::open(tmp.path()).unwrap();
    let stale = tmp.path().join(".tmp-killed-writer");
    let fresh = tmp.path().join(".tmp-writing-now");
    fs::write(&stale, "{\"data\":{\"half").unwrap();
    fs::write(&fresh, "{\"data\":{\"half").unwrap();
    fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(11 * 60))
        .unwrap();
    let id = SessionId::generate();
    store.set(&id, record(1)).unwrap();
    assert!(!stale.exists(), "removed by the write's cleanup");
    assert!(fresh.exists());
    assert_eq!(store.get(&id).unwrap(), Some(record(1)));
}

/// An expired file is deleted when a read finds it, as MemoryStore does:
/// `get`, `update` and `take` (with the cleanup off, so it is the read).
#[test]
fn an_expired_file_is_deleted_when_read() {
    let clock = ManualClock::new(SystemTime::now());
    let tmp = tempfile::tempdir().unwrap();
    let store = FileStore::builder(tmp.path())
        .clock(clock.clock())
        .sweep_batch(0)
        .build()
        .unwrap();
    let [by_get, by_update, by_take, live] = [(); 4].map(|()| SessionId::generate());
    for id in [&by_get, &by_update, &by_take] {
        store.set(id, expiring(&clock, 1)).unwrap();
    }
    store.set(&live, expiring(&clock, 3600)).unwrap();
    clock.advance(Duration::from_secs(2));

    assert_eq!(store.get(&by_get).unwrap(), None);
    assert!(!store.path_of(&by_get).exists(), "get deleted it");
    assert!(!store.update(&by_update, &mut |_| unreachable!()).unwrap());
    assert!(!store.path_of(&by_update).exists(), "update deleted it");
    assert_eq!(store.take(&by_take).unwrap(), None);
    assert!(!store.path_of(&by_take).exists(), "take deleted it");
    assert!(store.get(&live).unwrap().is_some());
    assert!(store.path_of(&live).exists(), "a live record stays");
}

#[test]
fn unusable_directories_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    fs::write(&file, "x").unwrap();
    let err = FileStore::open(&file).unwrap_err();
    assert!(matches!(err, Error::Store { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("a-file"), "{message}");

    // A directory removed under a running store: errors, no panic.
    let dir = tmp.path().join("gone");
    let store = FileStore::open(&dir).unwrap();
    fs::remove_dir_all(&dir).unwrap();
    let id = SessionId::generate();
    assert_eq!(store.get(&id).unwrap(), None);
    assert!(matches!(
        store.set(&id, record(1)),
        Err(Error::Store { .. })
    ));
    assert!(matches!(store.purge_expired(), Err(Error::Store { .. })));
    assert!(!dir.exists(), "a removed directory is not made again");
}

// What a hostile or careless hand can put in the directory. Each was
// reproduced against `FileStore::open(dir)` before the store defended itself.

/// Runs `f` on a thread of its own and returns its result; fails the test if
/// it has not returned within 10 seconds. A bounded wait for a call that
/// would otherwise block forever, not a measure of its speed.
fn within<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(10))
        .unwrap_or_else(|_| panic!("{what} did not return within 10 s: it blocked"))
}

/// `err` is `Error::CorruptRecord` whose message says `says`, and shows no ID.
fn assert_corrupt(err: &Error, says: &str, id: &SessionId) {
    assert!(matches!(err, Error::CorruptRecord { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains(says), "{message}");
    assert!(!message.contains(id.as_str()), "no ID: {message}");
    assert!(!message.contains(&hashed_name(id)), "no hash: {message}");
}

/// A record file, as `FileStore` would write it, holding `data`.
fn record_text(data: serde_json::Value) -> String {
    Record::new(data.as_object().unwrap().clone())
        .encode()
        .unwrap()
}

/// A symbolic link named like a session, pointing at a readable record
/// outside the directory, is never followed: every call on that ID is an
/// `Error::CorruptRecord` saying the file is not a regular file (so a
/// `Session` treats the cookie as unknown), the target is neither returned
/// nor changed, the cleanup leaves the link, and `delete` removes the link
/// only.
#[cfg(unix)]
#[test]
fn a_symlink_named_like_a_session_is_never_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let store = FileStore::open(tmp.path().join("sessions")).unwrap();
    let good = SessionId::generate();
    store.set(&good, record(7)).unwrap();
    let outside = tmp.path().join("outside.json");
    let secret = record_text(json!({"secret": "from outside"}));
    fs::write(&outside, &secret).unwrap();
    let id = SessionId::generate();
    std::os::unix::fs::symlink(&outside, store.path_of(&id)).unwrap();

    let err = store.get(&id).unwrap_err();
    assert_corrupt(&err, "not a regular file", &id);
    assert!(!err.to_string().contains("from outside"));
    let mut ran = false;
    let err = store
        .update(&id, &mut |_| {
            ran = true;
            true
        })
        .unwrap_err();
    assert_corrupt(&err, "not a regular file", &id);
    assert!(!ran, "the outside record never reached the closure");
    assert_corrupt(&store.take(&id).unwrap_err(), "not a regular file", &id);
    assert_corrupt(
        &store.create(&id, record(1)).unwrap_err(),
        "not a regular file",
        &id,
    );
    // Through a Session: an unknown session, not the outside data.
    let session = Session::with_store(&store);
    assert!(!matches!(session.get(&id), Ok(Some(_))));

    assert_eq!(store.purge_expired().unwrap(), 0);
    store.set(&SessionId::generate(), record(1)).unwrap(); // a write's cleanup
    assert!(store.path_of(&id).is_symlink(), "left alone");
    assert_eq!(fs::read_to_string(&outside).unwrap(), secret, "unchanged");

    store.delete(&id).unwrap();
    assert!(!store.path_of(&id).is_symlink(), "the link is gone");
    assert_eq!(
        fs::read_to_string(&outside).unwrap(),
        secret,
        "not its target"
    );
    assert_eq!(store.get(&id).unwrap(), None);
    assert_eq!(
        store.get(&good).unwrap(),
        Some(record(7)),
        "nothing else lost"
    );
}

/// A FIFO named like a session blocks nothing: `get`, `update`, `take`,
/// `create`, `purge_expired` and a write's cleanup all return (each run under
/// a 10-second bound), the reads with `Error::CorruptRecord`; the FIFO is
/// left for `delete` to remove.
#[cfg(unix)]
#[test]
fn a_fifo_named_like_a_session_blocks_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::open(tmp.path()).unwrap());
    let good = SessionId::generate();
    store.set(&good, record(7)).unwrap();
    let id = SessionId::generate();
    let made = std::process::Command::new("mkfifo")
        .arg(store.path_of(&id))
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo");

    let call = |what: &str, f: fn(&FileStore, &SessionId) -> Result<String, Error>| {
        let (store, id) = (Arc::clone(&store), id.clone());
        within(what, move || f(&store, &id))
    };
    let err = call("get", |s, id| s.get(id).map(|r| format!("{r:?}"))).unwrap_err();
    assert_corrupt(&err, "not a regular file", &id);
    let err = call("update", |s, id| {
        s.update(id, &mut |_| true).map(|r| r.to_string())
    })
    .unwrap_err();
    assert_corrupt(&err, "not a regular file", &id);
    let err = call("take", |s, id| s.take(id).map(|r| format!("{r:?}"))).unwrap_err();
    assert_corrupt(&err, "not a regular file", &id);
    let err = call("create", |s, id| {
        s.create(id, record(1)).map(|r| r.to_string())
    })
    .unwrap_err();
    assert_corrupt(&err, "not a regular file", &id);
    let purged = call("purge_expired", |s, _| {
        s.purge_expired().map(|n| n.to_string())
    });
    assert_eq!(purged.unwrap(), "0");
    let written = call("a write and its cleanup", |s, _| {
        s.set(&SessionId::generate(), record(2))
            .map(|()| String::new())
    });
    assert!(written.is_ok());

    use std::os::unix::fs::FileTypeExt;
    let kind = fs::symlink_metadata(store.path_of(&id))
        .unwrap()
        .file_type();
    assert!(kind.is_fifo(), "left alone");
    call("delete", |s, id| s.delete(id).map(|()| String::new())).unwrap();
    assert!(!store.path_of(&id).exists());
    assert_eq!(
        store.get(&good).unwrap(),
        Some(record(7)),
        "nothing else lost"
    );
}

/// A lock file replaced by a dangling symbolic link: `set` and every other
/// locked call on that shard fail with a clear `Error::Store`, and never
/// create the link's target outside the directory. The session there is
/// kept, other shards work, and once the link is removed the lock file is
/// made again (`0600`).
#[cfg(unix)]
#[test]
fn a_lock_file_replaced_by_a_dangling_symlink_is_never_followed() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let store = FileStore::open(tmp.path().join("sessions")).unwrap();
    let id = SessionId::generate();
    store.set(&id, record(1)).unwrap();
    let shard = &hashed_name(&id)[..2];
    let lock = store.dir().join(".locks").join(shard);
    assert!(lock.is_file());
    let planted = tmp.path().join("planted");
    fs::remove_file(&lock).unwrap();
    std::os::unix::fs::symlink(&planted, &lock).unwrap();

    let refused = |err: Error| {
        assert!(matches!(err, Error::Store { .. }), "{err}");
        let message = err.to_string();
        assert!(message.contains("not a regular file"), "{message}");
        assert!(message.contains(".locks"), "{message}");
        assert!(!message.contains(&hashed_name(&id)), "no hash: {message}");
        assert!(!planted.exists(), "no file made through the link");
    };
    refused(store.set(&id, record(2)).unwrap_err());
    refused(store.update(&id, &mut |_| true).unwrap_err());
    refused(store.take(&id).unwrap_err());
    refused(store.delete(&id).unwrap_err());
    let mut other = SessionId::generate();
    while hashed_name(&other)[..2] == *shard {
        other = SessionId::generate();
    }
    store.set(&other, record(3)).unwrap();
    assert_eq!(store.get(&id).unwrap(), Some(record(1)), "nothing lost");

    fs::remove_file(&lock).unwrap();
    store.set(&id, record(2)).unwrap();
    assert_eq!(store.get(&id).unwrap(), Some(record(2)));
    let meta = fs::symlink_metadata(&lock).unwrap();
    assert!(meta.is_file());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert!(!planted.exists());
}

/// The `.last-sweep` marker is created `0600`, and when it is replaced by a
/// dangling symbolic link, the write it goes with succeeds, the link's
/// target is never created, and the marker is a private regular file again.
#[cfg(unix)]
#[test]
fn the_sweep_marker_is_private_and_never_followed() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let store = FileStore::open(tmp.path().join("sessions")).unwrap();
    let marker = store.dir().join(".last-sweep");
    store.set(&SessionId::generate(), record(1)).unwrap();
    let mode = |p: &Path| fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777;
    assert!(fs::symlink_metadata(&marker).unwrap().is_file());
    assert_eq!(mode(&marker), 0o600);

    let planted = tmp.path().join("planted-marker");
    fs::remove_file(&marker).unwrap();
    std::os::unix::fs::symlink(&planted, &marker).unwrap();
    // A fresh store (another process), which reads the marker first.
    let store = FileStore::builder(store.dir())
        .sweep_interval(Duration::ZERO)
        .build()
        .unwrap();
    let id = SessionId::generate();
    store.set(&id, record(2)).unwrap();
    assert!(!planted.exists(), "no file made through the link");
    assert!(fs::symlink_metadata(&marker).unwrap().is_file());
    assert_eq!(mode(&marker), 0o600);
    assert_eq!(store.get(&id).unwrap(), Some(record(2)));
}

/// A valid 16 MiB record is refused from its size alone with an
/// `Error::CorruptRecord` that names `max_record_size`, by every read, and
/// left as it was; so is a sparse file of 1 TiB, which reading would not
/// survive. Nothing else is lost.
#[test]
fn a_record_over_the_size_limit_is_refused_without_reading_it() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::open(tmp.path()).unwrap());
    let good = SessionId::generate();
    store.set(&good, record(7)).unwrap();
    let id = SessionId::generate();
    let huge = record_text(json!({"blob": "x".repeat(16 << 20)}));
    fs::write(store.path_of(&id), &huge).unwrap();

    let err = store.get(&id).unwrap_err();
    assert_corrupt(&err, "max_record_size", &id);
    assert!(err.to_string().contains(&huge.len().to_string()), "{err}");
    let mut ran = false;
    let err = store
        .update(&id, &mut |_| {
            ran = true;
            true
        })
        .unwrap_err();
    assert_corrupt(&err, "max_record_size", &id);
    assert!(!ran);
    assert_corrupt(&store.take(&id).unwrap_err(), "max_record_size", &id);
    assert_eq!(
        store.purge_expired().unwrap(),
        0,
        "fresh: reported, not purged"
    );
    assert_eq!(
        fs::metadata(store.path_of(&id)).unwrap().len(),
        huge.len() as u64
    );

    let sparse = SessionId::generate();
    let file = fs::File::create(store.path_of(&sparse)).unwrap();
    if file.set_len(1 << 40).is_ok() {
        let (store, sparse) = (Arc::clone(&store), sparse.clone());
        let err = within("get of a 1 TiB file", move || store.get(&sparse)).unwrap_err();
        assert!(err.to_string().contains("max_record_size"), "{err}");
    }
    assert_eq!(
        store.get(&good).unwrap(),
        Some(record(7)),
        "nothing else lost"
    );
}

/// The limit is one for writes and reads: a record of exactly
/// `max_record_size` bytes is written and read back; one byte more is refused
/// with a clear `Error::Store` by `set`, `update` and `create`, and the stored
/// record is left as it was. A store with a lower limit refuses to read what
/// the first one wrote, rather than read more than it allows.
#[test]
fn the_store_writes_nothing_larger_than_it_would_read() {
    let tmp = tempfile::tempdir().unwrap();
    let fits = record_text(json!({"n": 1, "pad": "p".repeat(1000)}));
    let limit = fits.len();
    let store = FileStore::builder(tmp.path())
        .max_record_size(limit)
        .build()
        .unwrap();
    let id = SessionId::generate();
    let full = Record::decode(&fits).unwrap();
    store.set(&id, full.clone()).unwrap();
    assert_eq!(store.get(&id).unwrap(), Some(full.clone()));

    let over = Record::new(
        json!({"n": 1, "pad": "p".repeat(1001)})
            .as_object()
            .unwrap()
            .clone(),
    );
    let refused = |err: Error| {
        assert!(matches!(err, Error::Store { .. }), "{err}");
        let message = err.to_string();
        assert!(message.contains("max_record_size"), "{message}");
        assert!(message.contains(&(limit + 1).to_string()), "{message}");
        assert!(!message.contains(id.as_str()), "{message}");
    };
    refused(store.set(&id, over.clone()).unwrap_err());
    refused(
        store
            .update(&id, &mut |r| {
                r.data.insert("pad".into(), json!("p".repeat(1001)));
                true
            })
            .unwrap_err(),
    );
    let new = SessionId::generate();
    refused(store.create(&new, over).unwrap_err());
    assert!(!store.path_of(&new).exists());
    assert_eq!(store.get(&id).unwrap(), Some(full), "left as it was");

    let stricter = FileStore::builder(tmp.path())
        .max_record_size(limit - 1)
        .build()
        .unwrap();
    assert_corrupt(&stricter.get(&id).unwrap_err(), "max_record_size", &id);
}

/// An existing directory its group or others can write to (anyone there could
/// plant session files) is refused at open with `Error::InvalidConfig` that
/// says how to fix it; nothing is created in it or changed. `allow_shared_dir`
/// opts in; a directory only others can read is fine.
#[cfg(unix)]
#[test]
fn a_group_or_world_writable_directory_is_refused_unless_allowed() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("shared");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("keep"), "x").unwrap();
    let chmod = |mode| fs::set_permissions(&dir, fs::Permissions::from_mode(mode)).unwrap();
    let cases = [
        (0o777, "its group and by others"),
        (0o1777, "its group and by others"), // sticky, like /tmp
        (0o770, "its group"),
        (0o703, "others"),
    ];
    for (mode, who) in cases {
        chmod(mode);
        let err = FileStore::open(&dir).unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
        let message = err.to_string();
        for says in [
            who,
            "chmod 700",
            "allow_shared_dir(true)",
            &dir.display().to_string(),
        ] {
            assert!(message.contains(says), "{mode:o}: {message}");
        }
        assert_eq!(names(&dir), ["keep"], "nothing created");
        let now = fs::metadata(&dir).unwrap().permissions().mode() & 0o7777;
        assert_eq!(now, mode, "permissions left as they were");
    }

    chmod(0o777);
    let store = FileStore::builder(&dir)
        .allow_shared_dir(true)
        .build()
        .unwrap();
    let id = SessionId::generate();
    store.set(&id, record(1)).unwrap();
    assert_eq!(store.get(&id).unwrap(), Some(record(1)));

    chmod(0o755);
    let store = FileStore::open(&dir).unwrap();
    assert_eq!(store.get(&id).unwrap(), Some(record(1)));
    assert_eq!(fs::read_to_string(dir.join("keep")).unwrap(), "x");
}

/// Emptying the directory (`rm -rf dir/* dir/.*`, the way SECURITY.md gives
/// to end every session) while stores are open ends every session, and
/// nothing else: `.locks` is made again, and every call keeps working in
/// this store and in one opened earlier (another process).
#[test]
fn emptying_the_directory_ends_every_session_and_the_store_keeps_working() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sessions");
    let store = FileStore::open(&dir).unwrap();
    let other_process = FileStore::open(&dir).unwrap();
    let old: Vec<SessionId> = (0..5).map(|_| SessionId::generate()).collect();
    for id in &old {
        store.set(id, record(1)).unwrap();
    }
    fs::write(dir.join(".tmp-half-written"), "x").unwrap();
    assert!(dir.join(".last-sweep").exists());

    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            fs::remove_dir_all(&path).unwrap();
        } else {
            fs::remove_file(&path).unwrap();
        }
    }
    assert!(names(&dir).is_empty());

    for id in &old {
        assert_eq!(store.get(id).unwrap(), None, "ended");
        assert!(!store.update(id, &mut |_| true).unwrap());
    }
    let session = Session::with_store(&store);
    let id = session.create(json!({"user": "ana"})).unwrap();
    assert_eq!(session.get(&id).unwrap().unwrap()["user"], "ana");
    assert!(dir.join(".locks").is_dir(), "made again");
    let new = SessionId::generate();
    assert!(other_process.create(&new, record(2)).unwrap());
    assert!(other_process
        .update(&new, &mut |r| {
            *r = record(3);
            true
        })
        .unwrap());
    assert_eq!(store.take(&new).unwrap(), Some(record(3)));
    store.delete(&id).unwrap();
    assert_eq!(store.purge_expired().unwrap(), 0);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(dir.join(".locks"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}

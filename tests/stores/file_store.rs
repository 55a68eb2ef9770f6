//! FileStore beyond the conformance suite: permissions, corrupt and foreign
//! files, stale temp files, the opt-in sweep, bad directories.

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::common::FilePath;
use http_session::{Error, FileStore, ManualClock, Record, SessionId, Store};
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
    assert_eq!(names(tmp.path()), [".locks".to_owned(), name.to_owned()]);
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

#[test]
fn sweep_is_opt_in_and_shared_through_the_marker() {
    let clock = ManualClock::new(SystemTime::now());
    let tmp = tempfile::tempdir().unwrap();
    let expiring = |secs| Record::expiring(record(1).data, clock.now() + Duration::from_secs(secs));

    // Off by default: writes never delete other files.
    let plain = FileStore::builder(tmp.path())
        .clock(clock.clock())
        .build()
        .unwrap();
    let old = SessionId::generate();
    plain.set(&old, expiring(1)).unwrap();
    clock.advance(Duration::from_secs(5));
    plain.set(&SessionId::generate(), record(1)).unwrap();
    assert!(plain.path_of(&old).exists());

    // With an interval: the first write sweeps, and records when.
    let sweeping = FileStore::builder(tmp.path())
        .clock(clock.clock())
        .sweep_interval(Duration::from_secs(60))
        .build()
        .unwrap();
    sweeping.set(&SessionId::generate(), record(2)).unwrap();
    assert!(!plain.path_of(&old).exists(), "swept");
    assert!(tmp.path().join(".last-sweep").exists());

    // Within the interval nobody sweeps, not even a new process (store).
    let second = SessionId::generate();
    sweeping.set(&second, expiring(1)).unwrap();
    clock.advance(Duration::from_secs(30));
    let other_process = FileStore::builder(tmp.path())
        .clock(clock.clock())
        .sweep_interval(Duration::from_secs(60))
        .build()
        .unwrap();
    other_process
        .set(&SessionId::generate(), record(3))
        .unwrap();
    assert!(sweeping.path_of(&second).exists(), "not due yet");

    // Once due, an update sweeps too.
    clock.advance(Duration::from_secs(31));
    let live = SessionId::generate();
    other_process.set(&live, record(4)).unwrap();
    assert!(
        !sweeping.path_of(&second).exists(),
        "swept after the interval"
    );
    assert!(other_process
        .update(&live, &mut |r| {
            *r = record(5);
            true
        })
        .unwrap());
    assert_eq!(other_process.get(&live).unwrap(), Some(record(5)));
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
}

//! FileStore's index of a user's sessions (`.users/`), through the
//! `Session`: binding, listing, revoking, the files it writes (no session ID,
//! no user name in a name), crash leftovers, corrupt and oversized indexes,
//! and `Store::count`.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::common::FilePath;
use http_session::store::RecordKey;
use http_session::{Error, FileStore, Headers, ManualClock, Session, SessionId, Store};
use serde_json::json;

/// SHA-256 of "ana", in lowercase hex (`printf ana | sha256sum`).
const ANA_HASH: &str = "24d4b96f58da6d4a8512313bbd02a28ebf0ca95dec6e4c86ef78ce7f01e788ac";

fn session_in(dir: &Path) -> Session<FileStore> {
    Session::with_store(FileStore::open(dir).unwrap())
}

fn index_of(dir: &Path, hash: &str) -> PathBuf {
    dir.join(".users").join(hash)
}

/// Every name under `dir` and every file's content, recursively.
fn read_all(dir: &Path, out: &mut Vec<(PathBuf, Option<Vec<u8>>)>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.push((path.clone(), None));
            read_all(&path, out);
        } else {
            let bytes = fs::read(&path).unwrap();
            out.push((path, Some(bytes)));
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn bind_list_revoke_and_revoke_all() {
    let tmp = tempfile::tempdir().unwrap();
    let session = session_in(tmp.path());
    assert!(
        !tmp.path().join(".users").exists(),
        "made on the first bind"
    );
    let ids: Vec<SessionId> = (0..4)
        .map(|n| session.create(json!({ "n": n })).unwrap())
        .collect();
    for id in &ids[..3] {
        assert!(session.bind_user(id, "ana").unwrap());
    }
    // The fourth logs in through a handle, from a browser.
    let request = Headers::new().with("Cookie", &format!("session_id={}", ids[3]));
    let mut handle = session.handle(&request);
    handle.set_user("ana").unwrap();
    handle.set_client(Some("Firefox/140"), Some("192.0.2.7"));
    handle.commit(&mut Headers::new()).unwrap();
    assert!(session
        .bind_user(&SessionId::generate(), "ana")
        .is_ok_and(|b| !b));

    let listed = session.sessions_of("ana", Some(&ids[3])).unwrap();
    assert_eq!(listed.len(), 4);
    let current: Vec<_> = listed.iter().filter(|s| s.current).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].user_agent.as_deref(), Some("Firefox/140"));
    assert_eq!(current[0].ip.as_deref(), Some("192.0.2.7"));
    assert!(session.sessions_of("bob", None).unwrap().is_empty());

    // Another process sees the same index.
    let other = session_in(tmp.path());
    assert_eq!(other.sessions_of("ana", None).unwrap().len(), 4);

    // Revoke one by its handle: not bob's to revoke.
    let first = listed.iter().find(|s| !s.current).unwrap().handle;
    assert!(!other.revoke("bob", &first).unwrap());
    assert!(other.revoke("ana", &first).unwrap());
    assert!(!other.revoke("ana", &first).unwrap(), "already ended");
    let served = ids.iter().filter(|id| session.get(id).unwrap().is_some());
    assert_eq!(served.count(), 3);

    // Log out everywhere else, from the fourth.
    assert_eq!(other.revoke_all("ana", Some(&ids[3])).unwrap(), 2);
    for id in &ids[..3] {
        assert_eq!(session.get(id).unwrap(), None);
    }
    let left = session.sessions_of("ana", None).unwrap();
    assert_eq!(left.len(), 1);
    assert!(session.get(&ids[3]).unwrap().is_some());
    let text = fs::read_to_string(index_of(tmp.path(), ANA_HASH)).unwrap();
    assert_eq!(text.lines().count(), 1, "one entry left: {text:?}");

    // The last one goes: so does the index file.
    assert_eq!(session.revoke_all("ana", None).unwrap(), 1);
    assert!(!index_of(tmp.path(), ANA_HASH).exists());
    assert!(session.sessions_of("ana", None).unwrap().is_empty());
}

#[test]
fn regenerating_moves_the_entry_to_the_new_record() {
    let tmp = tempfile::tempdir().unwrap();
    let session = session_in(tmp.path());
    let old = session.create(json!({})).unwrap();
    assert!(session.bind_user(&old, "ana").unwrap());
    let handle = session.sessions_of("ana", None).unwrap()[0].handle;
    let new = session
        .regenerate(&old, &mut Headers::new())
        .unwrap()
        .unwrap();
    let text = fs::read_to_string(index_of(tmp.path(), ANA_HASH)).unwrap();
    assert_eq!(
        text,
        format!("{handle} {}\n", RecordKey::of(&new).to_hex()),
        "the format: `<handle> <record key>` per line"
    );
    let listed = session.sessions_of("ana", Some(&new)).unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].current);
    assert_eq!(listed[0].handle, handle, "kept across regeneration");
    assert!(session.revoke("ana", &handle).unwrap());
    assert_eq!(session.get(&new).unwrap(), None);
}

#[test]
fn index_files_hold_no_session_id_and_no_user_name() {
    let tmp = tempfile::tempdir().unwrap();
    let session = session_in(tmp.path());
    let user = "ana@example.com";
    let mut ids: Vec<SessionId> = (0..5)
        .map(|_| {
            let id = session.create(json!({})).unwrap();
            assert!(session.bind_user(&id, user).unwrap());
            id
        })
        .collect();
    let old = ids.pop().unwrap();
    ids.push(
        session
            .regenerate(&old, &mut Headers::new())
            .unwrap()
            .unwrap(),
    );
    assert_eq!(session.sessions_of(user, None).unwrap().len(), 5);

    let mut everything = Vec::new();
    read_all(tmp.path(), &mut everything);
    let users = tmp.path().join(".users");
    let index_files: Vec<&PathBuf> = everything
        .iter()
        .filter(|(path, bytes)| bytes.is_some() && path.parent() == Some(users.as_path()))
        .map(|(path, _)| path)
        .collect();
    assert_eq!(index_files.len(), 1, "one index file per user");
    let name = index_files[0].file_name().unwrap().to_str().unwrap();
    assert_eq!(name.len(), 64);
    assert!(name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
    for (path, bytes) in &everything {
        let shown = path.strip_prefix(tmp.path()).unwrap().to_string_lossy();
        assert!(
            !shown.contains("ana"),
            "a user name in a file name: {shown}"
        );
        for id in &ids {
            let hex: String = id.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
            for needle in [id.as_str().as_bytes(), hex.as_bytes(), id.as_bytes()] {
                assert!(!contains(shown.as_bytes(), needle), "an ID in {shown}");
                if let Some(bytes) = bytes {
                    assert!(!contains(bytes, needle), "an ID in {shown}");
                }
            }
        }
    }
    let index = fs::read(index_files[0]).unwrap();
    assert!(!contains(&index, b"ana"), "no user name in the index");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&users), 0o700);
        assert_eq!(mode(&users.join(".locks")), 0o700);
        assert_eq!(mode(index_files[0]), 0o600);
        for lock in fs::read_dir(users.join(".locks")).unwrap() {
            assert_eq!(mode(&lock.unwrap().path()), 0o600);
        }
    }
}

#[test]
fn a_crash_leftover_temp_file_is_ignored_then_purged() {
    let tmp = tempfile::tempdir().unwrap();
    let session = session_in(tmp.path());
    let id = session.create(json!({})).unwrap();
    assert!(session.bind_user(&id, "ana").unwrap());
    // What a writer killed before its rename leaves: a torn index.
    let users = tmp.path().join(".users");
    let stale = users.join(".tmp-1234-0-00000000deadbeef");
    let fresh = users.join(".tmp-1234-1-00000000deadbeef");
    for temp in [&stale, &fresh] {
        fs::write(temp, "0123 torn").unwrap();
    }
    fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(3600))
        .unwrap();

    let second = session.create(json!({})).unwrap();
    assert!(session.bind_user(&second, "ana").unwrap());
    assert_eq!(session.sessions_of("ana", None).unwrap().len(), 2);
    assert_eq!(session.store().purge_expired().unwrap(), 0);
    assert!(!stale.exists(), "stale: purged");
    assert!(fresh.exists(), "perhaps being written: kept");
    assert_eq!(session.revoke_all("ana", None).unwrap(), 2);
}

#[test]
fn a_corrupt_index_is_an_error_that_says_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let session = session_in(tmp.path());
    let id = session.create(json!({})).unwrap();
    assert!(session.bind_user(&id, "ana").unwrap());
    let index = index_of(tmp.path(), ANA_HASH);
    let good = fs::read(&index).unwrap();
    let oversized = vec![b'0'; (1 << 20) + 1];
    let cases: [&[u8]; 4] = [
        &good[..good.len() - 1], // torn
        b"not an index\n",
        &[0xff; 98],
        &oversized,
    ];
    for bytes in cases {
        fs::write(&index, bytes).unwrap();
        for err in [
            session.sessions_of("ana", None).unwrap_err(),
            session.revoke_all("ana", None).unwrap_err(),
            session.bind_user(&id, "ana").unwrap_err(),
        ] {
            assert!(matches!(err, Error::CorruptRecord { .. }), "{err}");
            let message = err.to_string();
            assert!(message.contains(&format!(".users/{ANA_HASH}")), "{message}");
            assert!(message.contains("delete"), "{message}");
            assert!(!message.contains("ana"), "{message}");
            assert!(!message.contains(id.as_str()), "{message}");
            assert!(!message.contains(&RecordKey::of(&id).to_hex()), "{message}");
        }
        assert_eq!(fs::read(&index).unwrap(), bytes, "left as it was");
        assert!(
            session.get(&id).unwrap().is_some(),
            "the session is untouched"
        );
    }
    // What the message says: delete it, and the user can log in again.
    fs::remove_file(&index).unwrap();
    assert!(session.sessions_of("ana", None).unwrap().is_empty());
    let again = session.create(json!({})).unwrap();
    assert!(session.bind_user(&again, "ana").unwrap());
    assert_eq!(session.sessions_of("ana", None).unwrap().len(), 1);
}

/// 10,699 entries (98 bytes each) fit in the 1 MiB bound: such an index is
/// read, but a bind that would grow it past the bound is refused, saying what
/// to do.
#[test]
fn a_full_index_refuses_one_more_entry() {
    let tmp = tempfile::tempdir().unwrap();
    let session = session_in(tmp.path());
    let first = session.create(json!({})).unwrap();
    assert!(session.bind_user(&first, "ana").unwrap());
    let index = index_of(tmp.path(), ANA_HASH);
    let mut text = String::new();
    for _ in 0..10_699 {
        let handle = http_session::store::RevocationHandle::generate();
        let key = RecordKey::of(&SessionId::generate()).to_hex();
        text.push_str(&format!("{handle} {key}\n"));
    }
    assert!(text.len() <= 1 << 20);
    fs::write(&index, &text).unwrap();
    let store = session.store().user_index().unwrap();
    assert_eq!(store.entries("ana").unwrap().len(), 10_699);

    let one_more = session.create(json!({})).unwrap();
    let err = session.bind_user(&one_more, "ana").unwrap_err();
    assert!(matches!(err, Error::Store { .. }), "{err}");
    assert!(err.to_string().contains("max_sessions_per_user"), "{err}");
    assert_eq!(fs::read_to_string(&index).unwrap(), text, "unchanged");
}

#[test]
fn a_directory_in_place_of_an_index_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let session = session_in(tmp.path());
    let id = session.create(json!({})).unwrap();
    fs::create_dir_all(index_of(tmp.path(), ANA_HASH)).unwrap();
    let err = session.bind_user(&id, "ana").unwrap_err();
    assert!(matches!(err, Error::Store { .. }), "{err}");
    assert!(session.sessions_of("ana", None).is_err());
}

#[test]
fn expired_sessions_are_not_listed_and_their_entries_go() {
    let clock = ManualClock::new(SystemTime::now());
    let tmp = tempfile::tempdir().unwrap();
    let store = FileStore::builder(tmp.path())
        .clock(clock.clock())
        .build()
        .unwrap();
    let session = Session::builder()
        .store(store)
        .clock(clock.clock())
        .ttl(Duration::from_secs(60))
        .build()
        .unwrap();
    let short = session.create(json!({})).unwrap();
    assert!(session.bind_user(&short, "ana").unwrap());
    clock.advance(Duration::from_secs(50));
    let kept = session.create(json!({})).unwrap();
    assert!(session.bind_user(&kept, "ana").unwrap());
    clock.advance(Duration::from_secs(20));
    let listed = session.sessions_of("ana", Some(&kept)).unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].current);
    let text = fs::read_to_string(index_of(tmp.path(), ANA_HASH)).unwrap();
    assert_eq!(text.lines().count(), 1, "the expired entry was pruned");
    // The listing read the expired file, and so deleted it.
    assert!(!session.store().path_of(&short).exists());
    assert_eq!(session.store().purge_expired().unwrap(), 0);
}

/// Deleting a bound session (a logout) leaves its entry: the next listing
/// prunes it.
#[test]
fn a_logout_leaves_an_entry_that_the_next_listing_prunes() {
    let tmp = tempfile::tempdir().unwrap();
    let session = session_in(tmp.path());
    let id = session.create(json!({})).unwrap();
    assert!(session.bind_user(&id, "ana").unwrap());
    session.delete(&id, &mut Headers::new()).unwrap();
    assert!(index_of(tmp.path(), ANA_HASH).exists());
    assert!(session.sessions_of("ana", None).unwrap().is_empty());
    assert!(!index_of(tmp.path(), ANA_HASH).exists());
}

#[test]
fn count_is_the_number_of_session_files() {
    let tmp = tempfile::tempdir().unwrap();
    let session = session_in(tmp.path());
    assert_eq!(session.store().count().unwrap(), Some(0));
    let ids: Vec<SessionId> = (0..7).map(|_| session.create(json!({})).unwrap()).collect();
    for id in &ids[..3] {
        assert!(session.bind_user(id, "ana").unwrap());
    }
    fs::write(tmp.path().join("README"), "not a session").unwrap();
    fs::create_dir(
        tmp.path()
            .join(RecordKey::of(&SessionId::generate()).to_hex()),
    )
    .unwrap();
    assert_eq!(session.store().count().unwrap(), Some(7));
    session.delete(&ids[0], &mut Headers::new()).unwrap();
    assert_eq!(session.store().count().unwrap(), Some(6));
}

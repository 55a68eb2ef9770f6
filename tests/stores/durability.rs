//! `Durability`: what each write of a FileStore or a SqliteStore waits for.
//!
//! - `ProcessCrash` changes nothing a caller sees: the conformance suite runs
//!   on both stores with it (tests/stores/conformance.rs), and a write is
//!   there for another process once the writer is killed right after it
//!   (below);
//! - which calls sync: each operation runs in a child process (this test
//!   binary again, `durability::sync_child`) under `strace`, which counts its
//!   `fsync`/`fdatasync` calls between two markers. Ordinary writes sync
//!   under `PowerCut` and not under `ProcessCrash`; ending a session and
//!   changing a user's index sync under both. These need `strace`, so they
//!   are `#[ignore]`d in plain `cargo test`; `.ci/run` installs it and runs
//!   them.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use http_session::store::{RecordKey, RevocationHandle};
use http_session::{Durability, FileStore, Record, SessionId, Store};
use serde_json::json;

const CHILD: &str = "HTTP_SESSION_SYNC_CHILD";
const START: &str = "SYNC-COUNT-START";
const END: &str = "SYNC-COUNT-END";
/// Orders for `kill_child`: the store, the session's ID and the path.
const KILL_CHILD: &str = "HTTP_SESSION_KILL_CHILD";

fn durability(name: &str) -> Durability {
    match name {
        "power-cut" => Durability::PowerCut,
        "process-crash" => Durability::ProcessCrash,
        other => panic!("unknown durability {other:?}"),
    }
}

/// `file` or `sqlite`, at `path` (a directory, or a database file).
fn open(kind: &str, path: &Path, durability: Durability) -> Arc<dyn Store> {
    match kind {
        "file" => Arc::new(
            FileStore::builder(path)
                .durability(durability)
                .build()
                .unwrap(),
        ),
        #[cfg(feature = "sqlite")]
        "sqlite" => Arc::new(
            http_session::SqliteStore::builder(path)
                .durability(durability)
                .build()
                .unwrap(),
        ),
        other => panic!("unknown store {other:?}"),
    }
}

/// The test `name` of this module as the harness names it, to run it again
/// as a child process.
fn child_test(name: &str) -> String {
    match module_path!().split_once("::") {
        Some((_crate, module)) => format!("{module}::{name}"),
        None => name.to_owned(),
    }
}

fn record(n: i64) -> Record {
    let mut data = http_session::Data::new();
    data.insert("n".into(), json!(n));
    Record::new(data)
}

/// Runs one operation on the store, between the two markers on stderr (so
/// the store's opening and the set-up writes are not counted).
#[test]
#[ignore = "run by the sync-count tests, as a child process under strace"]
fn sync_child() {
    let Ok(orders) = std::env::var(CHILD) else {
        return;
    };
    let mut words = orders.splitn(4, ' ');
    let (kind, mode, op, path) = (
        words.next().unwrap(),
        words.next().unwrap(),
        words.next().unwrap(),
        Path::new(words.next().unwrap()),
    );
    let store = open(kind, path, durability(mode));
    let index = store.user_index().unwrap();
    // Set-up: the session the operation works on, bound to a user; one
    // more write so that SQLite's log is under way (its first commit
    // writes and syncs a log header whatever the setting).
    let id = SessionId::generate();
    assert!(store.create(&id, record(0)).unwrap());
    let handle = RevocationHandle::generate();
    assert!(index.swap_entry("ana", &handle, None, Some(&id)).unwrap());
    let key = RecordKey::of(&id);
    store.create(&SessionId::generate(), record(0)).unwrap();
    let other = SessionId::generate();

    eprintln!("{START}");
    match op {
        "create" => assert!(store.create(&other, record(1)).unwrap()),
        "set" => store.set(&id, record(2)).unwrap(),
        "update" => assert!(store
            .update(&id, &mut |r| {
                r.data.insert("n".into(), json!(3));
                true
            })
            .unwrap()),
        "delete" => store.delete(&id).unwrap(),
        "take" => assert!(store.take(&id).unwrap().is_some()),
        "bind" => assert!(index
            .swap_entry("bob", &RevocationHandle::generate(), None, Some(&other))
            .unwrap()),
        "revoke" => assert!(index.remove_record("ana", &key).unwrap()),
        other => panic!("unknown operation {other:?}"),
    }
    eprintln!("{END}");
}

/// How many `fsync`/`fdatasync` calls `op` made on a fresh `kind` store
/// with `mode`, counted by strace.
fn syncs(kind: &str, mode: &str, op: &str) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let path = match kind {
        "sqlite" => dir.path().join("sessions.db"),
        _ => dir.path().join("sessions"),
    };
    let log = dir.path().join("strace.log");
    let test = child_test("sync_child");
    let out = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=fsync,fdatasync,write", "-o"])
        .arg(&log)
        .arg(std::env::current_exe().unwrap())
        .args([test.as_str(), "--exact", "--ignored", "--nocapture"])
        .args(["--test-threads", "1"])
        .env(CHILD, format!("{kind} {mode} {op} {}", path.display()))
        .output()
        .unwrap_or_else(|e| panic!("cannot run strace ({e}): install it (apt-get install strace)"));
    assert!(
        out.status.success(),
        "child {kind} {mode} {op}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let trace = std::fs::read_to_string(&log).unwrap();
    let start = trace
        .find(START)
        .unwrap_or_else(|| panic!("no start marker in the trace:\n{trace}"));
    let end = trace[start..]
        .find(END)
        .unwrap_or_else(|| panic!("no end marker in the trace:\n{trace}"))
        + start;
    trace[start..end]
        .lines()
        .filter(|line| line.contains("fsync(") || line.contains("fdatasync("))
        .count()
}

fn check_syncs(kind: &str) {
    let mut table = Vec::new();
    for op in [
        "create", "set", "update", "delete", "take", "bind", "revoke",
    ] {
        let power = syncs(kind, "power-cut", op);
        let crash = syncs(kind, "process-crash", op);
        table.push(format!(
            "{kind} {op}: PowerCut {power}, ProcessCrash {crash}"
        ));
        assert!(power >= 1, "{kind} {op} under PowerCut made no sync");
        match op {
            // Ordinary writes: left to the OS.
            "create" | "set" | "update" => {
                assert_eq!(crash, 0, "{kind} {op} under ProcessCrash synced")
            }
            // Ends and the user index: synced anyway.
            _ => assert!(crash >= 1, "{kind} {op} under ProcessCrash made no sync"),
        }
    }
    println!("{}", table.join("\n"));
}

#[test]
#[ignore = "needs strace (run by .ci/run)"]
fn file_store_syncs_what_its_durability_says() {
    check_syncs("file");
}

#[cfg(feature = "sqlite")]
#[test]
#[ignore = "needs strace (run by .ci/run)"]
fn sqlite_store_syncs_what_its_durability_says() {
    check_syncs("sqlite");
}

/// Writes under `ProcessCrash`, then aborts: no destructor, no flush.
#[test]
#[ignore = "run by a_write_survives_the_writer_killed_right_after_it, as a child process"]
fn kill_child() {
    let Ok(orders) = std::env::var(KILL_CHILD) else {
        return;
    };
    let (kind, rest) = orders.split_once(' ').unwrap();
    let (id, path) = rest.split_once(' ').unwrap();
    let id: SessionId = id.parse().unwrap();
    let store = open(kind, Path::new(path), Durability::ProcessCrash);
    assert!(store
        .update(&id, &mut |r| {
            r.data.insert("n".into(), json!(42));
            true
        })
        .unwrap());
    std::process::abort();
}

fn survives_kill(kind: &str, path: &Path) {
    let store = open(kind, path, Durability::ProcessCrash);
    let id = SessionId::generate();
    assert!(store.create(&id, record(0)).unwrap());
    let test = child_test("kill_child");
    let out = Command::new(std::env::current_exe().unwrap())
        .args([test.as_str(), "--exact", "--ignored", "--test-threads", "1"])
        .env(
            KILL_CHILD,
            format!("{kind} {} {}", id.as_str(), path.display()),
        )
        .output()
        .unwrap();
    assert!(!out.status.success(), "the child was to abort");
    // Another process (this one, a store opened afresh) reads the write.
    drop(store);
    let store = open(kind, path, Durability::ProcessCrash);
    let got = store.get(&id).unwrap().expect("the session is there");
    assert_eq!(
        got.data["n"], 42,
        "the write made before the abort is there"
    );
}

#[test]
fn a_file_store_write_survives_the_writer_killed_right_after_it() {
    let dir = tempfile::tempdir().unwrap();
    survives_kill("file", &dir.path().join("sessions"));
}

#[cfg(feature = "sqlite")]
#[test]
fn a_sqlite_store_write_survives_the_writer_killed_right_after_it() {
    let dir = tempfile::tempdir().unwrap();
    survives_kill("sqlite", &dir.path().join("sessions.db"));
}

#[test]
fn the_default_durability_is_power_cut() {
    assert_eq!(Durability::default(), Durability::PowerCut);
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path()).unwrap();
    assert!(
        format!("{store:?}").contains("durability: PowerCut"),
        "{store:?}"
    );
}

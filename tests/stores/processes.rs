//! Several real processes sharing one store: a FileStore directory, a
//! SqliteStore database file, one Redis, or one PostgreSQL database. The
//! children are this test binary run again with `child_process`
//! (`processes::child_process`) selected and its orders in environment variables.
//!
//! Figures (kills, sessions checked) are printed: run with `--nocapture`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use http_session::{CommitOutcome, FileStore, Headers, Record, Session, SessionId, Store};
use serde_json::json;

const MODE: &str = "HTTP_SESSION_CHILD";
const STORE: &str = "HTTP_SESSION_CHILD_STORE";
const ARGS: &str = "HTTP_SESSION_CHILD_ARGS";

/// Where a child finds the store: `file:<dir>`, `sqlite:<path>`,
/// `redis:<url> <prefix>` or `postgres:<table prefix>` (on the machine's
/// PostgreSQL).
fn open_store(spec: &str) -> Arc<dyn Store> {
    if let Some(dir) = spec.strip_prefix("file:") {
        return Arc::new(FileStore::open(dir).unwrap());
    }
    #[cfg(feature = "sqlite")]
    if let Some(path) = spec.strip_prefix("sqlite:") {
        return Arc::new(http_session::SqliteStore::open(path).unwrap());
    }
    #[cfg(feature = "redis")]
    if let Some(rest) = spec.strip_prefix("redis:") {
        let (url, prefix) = rest.split_once(' ').unwrap();
        return Arc::new(
            http_session::RedisStore::builder(url)
                .prefix(prefix)
                .build()
                .unwrap(),
        );
    }
    #[cfg(feature = "postgres")]
    if let Some(prefix) = spec.strip_prefix("postgres:") {
        return Arc::new(
            http_session::PostgresStore::builder(crate::common::postgres_server::PARAMS)
                .table_prefix(prefix)
                .build()
                .unwrap(),
        );
    }
    panic!("unknown store spec {spec:?}");
}

/// `child_process` as the test harness names it: its path below the crate
/// root (`processes::child_process` in the `stores` binary).
fn child_test_name() -> String {
    match module_path!().split_once("::") {
        Some((_crate, module)) => format!("{module}::child_process"),
        None => "child_process".to_owned(),
    }
}

fn spawn_child(mode: &str, store: &str, args: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .arg(child_test_name())
        .args(["--exact", "--ignored", "--nocapture"])
        .args(["--test-threads", "1"])
        .env(MODE, mode)
        .env(STORE, store)
        .env(ARGS, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

fn wait_ok(mut child: Child) {
    let status = child.wait().unwrap();
    assert!(status.success(), "child failed: {status}");
}

/// The body of every child process; does nothing unless a parent test set
/// its orders.
#[test]
#[ignore = "run by the other tests of this file, in child processes"]
fn child_process() {
    let (Ok(mode), Ok(spec), Ok(args)) = (
        std::env::var(MODE),
        std::env::var(STORE),
        std::env::var(ARGS),
    ) else {
        eprintln!("child_process runs only as a child of the tests in this file");
        return;
    };
    let store = open_store(&spec);
    let args: Vec<&str> = args.split(' ').collect();
    match mode.as_str() {
        "updates" => child_updates(&store, &args),
        "increments" => child_increments(store, &args),
        "crash-writer" => child_crash_writer(&store, &args),
        "share" => child_share(store, &args),
        "login" => child_login(store, &args),
        "committer" => child_committer(store, &args),
        other => panic!("unknown child mode {other}"),
    }
}

// ---- N processes x M updates of one session --------------------------------

/// args: id, tag, count. Adds `count` keys `<tag>-<i>` and bumps `count`.
fn child_updates(store: &Arc<dyn Store>, args: &[&str]) {
    let id: SessionId = args[0].parse().unwrap();
    let count: usize = args[2].parse().unwrap();
    for i in 0..count {
        let found = store
            .update(&id, &mut |r| {
                let n = r.data["count"].as_u64().unwrap();
                r.data.insert("count".into(), json!(n + 1));
                r.data.insert(format!("{}-{i}", args[1]), json!(i));
                true
            })
            .unwrap();
        assert!(found);
    }
}

/// 4 processes update one session `updates` times each, at once.
fn n_processes_m_updates(spec: &str, store: &dyn Store, updates: usize) {
    const PROCESSES: usize = 4;
    let id = SessionId::generate();
    assert!(store
        .create(
            &id,
            Record::new(json!({"count": 0}).as_object().unwrap().clone())
        )
        .unwrap());
    let children: Vec<Child> = (0..PROCESSES)
        .map(|p| spawn_child("updates", spec, &format!("{id} p{p} {updates}")))
        .collect();
    children.into_iter().for_each(wait_ok);
    let record = store.get(&id).unwrap().unwrap();
    assert_eq!(record.data["count"], (PROCESSES * updates) as u64);
    for p in 0..PROCESSES {
        for i in 0..updates {
            assert_eq!(record.data[&format!("p{p}-{i}")], i, "p{p}-{i} lost");
        }
    }
    println!(
        "{PROCESSES} processes x {updates} updates of one session: count = {}, all {} keys present",
        record.data["count"],
        PROCESSES * updates
    );
}

#[test]
fn file_store_n_processes_m_updates() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path()).unwrap();
    n_processes_m_updates(&format!("file:{}", dir.path().display()), &store, 100);
}

#[cfg(feature = "redis")]
#[test]
fn redis_store_n_processes_m_updates() {
    use crate::common::redis_server::{shared_store, SHARED_URL};
    let (store, cleanup) = shared_store();
    n_processes_m_updates(
        &format!("redis:{SHARED_URL} {}", cleanup.prefix()),
        &store,
        100,
    );
}

/// 4 processes x 250 increments of one session in one database: 1,000.
#[cfg(feature = "postgres")]
#[test]
fn postgres_store_n_processes_m_updates() {
    use crate::common::postgres_server::private_store;
    let (store, cleanup) = private_store();
    n_processes_m_updates(&format!("postgres:{}", cleanup.prefix()), &store, 250);
}

// ---- N processes x M increments through Session::update_with -------------

/// args: id, count. Adds one to `n`, `count` times, through
/// `Session::update_with` (the closure runs inside the store's update).
fn child_increments(store: Arc<dyn Store>, args: &[&str]) {
    let session = Session::with_store(store);
    let id: SessionId = args[0].parse().unwrap();
    let count: usize = args[1].parse().unwrap();
    for _ in 0..count {
        let n = session
            .update_with(&id, |data| {
                let n = data["n"].as_u64().unwrap() + 1;
                data.insert("n".into(), json!(n));
                n
            })
            .unwrap();
        assert!(n.is_some(), "the session is live");
    }
}

/// 4 processes each add one to one session's counter 250 times: 1,000.
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
fn n_processes_increment(spec: &str, store: Arc<dyn Store>) {
    const PROCESSES: usize = 4;
    const INCREMENTS: usize = 250;
    let session = Session::with_store(store);
    let id = session.create(json!({"n": 0})).unwrap();
    let children: Vec<Child> = (0..PROCESSES)
        .map(|_| spawn_child("increments", spec, &format!("{id} {INCREMENTS}")))
        .collect();
    children.into_iter().for_each(wait_ok);
    let n = &session.get(&id).unwrap().unwrap()["n"];
    assert_eq!(n, (PROCESSES * INCREMENTS) as u64, "increments lost");
    println!("{PROCESSES} processes x {INCREMENTS} increments through update_with: n = {n}");
}

// ---- Two Sessions in two processes ----------------------------------------

const SHARED_UPDATES: usize = 200;

/// args: the parent's session ID. Reads the parent's session through its
/// cookie, creates one of its own and prints its ID, waits for the parent's
/// "go", then updates the parent's session concurrently with the parent.
fn child_share(store: Arc<dyn Store>, args: &[&str]) {
    let session = Session::with_store(store);
    let req = Headers::new().with("Cookie", &format!("session_id={}", args[0]));
    let parents = session
        .from_request(&req)
        .unwrap()
        .expect("parent's session is visible");
    assert_eq!(parents["owner"], "parent");
    let mine = session.create(json!({"owner": "child"})).unwrap();
    println!("CHILD-CREATED {mine}");
    let id = session.id_from_request(&req).unwrap();
    let started = Instant::now();
    while session.get(&id).unwrap().unwrap().get("go").is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no go from the parent"
        );
        thread::sleep(Duration::from_millis(1));
    }
    for i in 0..SHARED_UPDATES {
        assert!(session
            .update(&id, json!({ format!("child-{i}"): i }))
            .unwrap());
    }
}

fn two_sessions_share(spec: &str, store: Arc<dyn Store>) {
    let session = Session::with_store(store);
    let id = session.create(json!({"owner": "parent"})).unwrap();
    let mut child = spawn_child("share", spec, id.as_str());
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let child_id: SessionId = lines
        .by_ref()
        .map_while(Result::ok)
        // libtest may print "test child_process ... " on the same line first.
        .find_map(|line| {
            line.split_once("CHILD-CREATED ")
                .map(|(_, id)| id.to_owned())
        })
        .expect("the child reports its session")
        .parse()
        .unwrap();
    let childs = session
        .get(&child_id)
        .unwrap()
        .expect("child's session is visible here");
    assert_eq!(childs["owner"], "child");

    assert!(session.update(&id, json!({"go": true})).unwrap());
    for i in 0..SHARED_UPDATES {
        assert!(session
            .update(&id, json!({ format!("parent-{i}"): i }))
            .unwrap());
    }
    lines.for_each(drop);
    wait_ok(child);
    let data = session.get(&id).unwrap().unwrap();
    for who in ["parent", "child"] {
        for i in 0..SHARED_UPDATES {
            assert_eq!(data[&format!("{who}-{i}")], i, "{who}-{i} lost");
        }
    }
    println!(
        "two processes, {SHARED_UPDATES} concurrent updates each: all {} keys present",
        2 * SHARED_UPDATES
    );
}

#[test]
fn file_store_two_processes_share_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::open(dir.path()).unwrap());
    two_sessions_share(&format!("file:{}", dir.path().display()), store);
}

#[cfg(feature = "redis")]
#[test]
fn redis_store_two_processes_share_sessions() {
    use crate::common::redis_server::{shared_store, SHARED_URL};
    let (store, cleanup) = shared_store();
    let name = format!("redis:{SHARED_URL} {}", cleanup.prefix());
    two_sessions_share(&name, Arc::new(store));
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_store_two_processes_share_sessions() {
    use crate::common::postgres_server::private_store;
    let (store, cleanup) = private_store();
    let name = format!("postgres:{}", cleanup.prefix());
    two_sessions_share(&name, Arc::new(store));
}

// ---- A user's sessions across processes (FileStore's user index) ----------

/// The cap the login test runs under.
const CAP: usize = 3;

/// Waits (bounded) until the file `go` exists: the parent's start signal.
fn wait_for(go: &Path) {
    let started = Instant::now();
    while !go.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no go from the parent"
        );
        thread::sleep(Duration::from_millis(1));
    }
}

/// The lines of `child`'s output that start with `tag` (libtest may print
/// "test child_process ... " on the same line first), until it exits.
fn tagged(child: &mut Child, tag: &str) -> Vec<String> {
    let out = BufReader::new(child.stdout.take().unwrap());
    out.lines()
        .map_while(Result::ok)
        .filter_map(|line| line.split_once(tag).map(|(_, rest)| rest.to_owned()))
        .collect()
}

fn cookie(id: &SessionId) -> Headers {
    Headers::new().with("Cookie", &format!("session_id={id}"))
}

/// args: go file, user, count. Waits for the go, then logs `count` fresh
/// sessions in as `user` under the cap, printing each ID.
fn child_login(store: Arc<dyn Store>, args: &[&str]) {
    let session = Session::builder()
        .max_sessions_per_user(CAP)
        .store(store)
        .build()
        .unwrap();
    let count: usize = args[2].parse().unwrap();
    wait_for(Path::new(args[0]));
    for _ in 0..count {
        let id = session.create(json!({})).unwrap();
        println!("LOGIN {id}");
        assert!(session.bind_user(&id, args[1]).unwrap(), "bound");
    }
}

#[test]
fn file_store_concurrent_logins_in_4_processes_leave_the_cap() {
    const PROCESSES: usize = 4;
    const LOGINS: usize = 6;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sessions");
    let go = tmp.path().join("go");
    let session = Session::builder()
        .max_sessions_per_user(CAP)
        .store(FileStore::open(&dir).unwrap())
        .build()
        .unwrap();
    let spec = format!("file:{}", dir.display());
    let args = format!("{} ana {LOGINS}", go.display());
    let mut children: Vec<Child> = (0..PROCESSES)
        .map(|_| spawn_child("login", &spec, &args))
        .collect();
    std::fs::write(&go, "").unwrap();
    let mut ids = Vec::new();
    for child in &mut children {
        ids.extend(
            tagged(child, "LOGIN ")
                .iter()
                .map(|id| id.parse::<SessionId>().unwrap()),
        );
    }
    children.into_iter().for_each(wait_ok);
    assert_eq!(ids.len(), PROCESSES * LOGINS);

    let live = ids
        .iter()
        .filter(|id| session.get(id).unwrap().is_some())
        .count();
    assert_eq!(live, CAP, "live sessions after {} logins", ids.len());
    assert_eq!(session.sessions_of("ana", None).unwrap().len(), CAP);
    let index = session.store().user_index().unwrap();
    assert_eq!(index.entries("ana").unwrap().len(), CAP, "index pruned");
    assert_eq!(session.store().count().unwrap(), Some(CAP as u64));
    println!(
        "{PROCESSES} processes x {LOGINS} concurrent logins of one user, cap {CAP}: {live} live, \
         {CAP} listed"
    );
}

/// args: go file, marker file, the session IDs. Until every session has
/// ended (bounded): one request per session per round, which bumps a
/// counter and, every 4th round, regenerates; prints every ID it was handed
/// (`HELD`). A request that starts once the marker exists (revoke_all has
/// returned) must find its session gone.
fn child_committer(store: Arc<dyn Store>, args: &[&str]) {
    let session = Session::with_store(store);
    let marker = Path::new(args[1]);
    let mut ids: Vec<Option<SessionId>> =
        args[2..].iter().map(|a| Some(a.parse().unwrap())).collect();
    wait_for(Path::new(args[0]));
    let started = Instant::now();
    let (mut commits, mut gone_on_commit) = (0, 0);
    for round in 0..100_000 {
        if ids.iter().all(Option::is_none) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "sessions outlived revoke_all"
        );
        for slot in &mut ids {
            let Some(id) = slot.clone() else { continue };
            let revoked = marker.exists();
            let request = cookie(&id);
            let mut handle = session.handle(&request);
            if handle.id().unwrap().is_none() {
                *slot = None; // ended: not served
                continue;
            }
            assert!(!revoked, "a revoked session was served");
            handle
                .update("n", |n: Option<u64>| n.unwrap_or(0) + 1)
                .unwrap();
            if round % 4 == 3 {
                handle.regenerate().unwrap();
            }
            let mut res = Headers::new();
            match handle.commit(&mut res).unwrap() {
                CommitOutcome::Saved => {}
                CommitOutcome::Regenerated => {
                    let set = res.get("Set-Cookie").unwrap();
                    let value = set.split(';').next().unwrap();
                    let new = value.strip_prefix("session_id=").unwrap();
                    println!("HELD {new}");
                    *slot = Some(new.parse().unwrap());
                }
                CommitOutcome::Gone => {
                    gone_on_commit += 1;
                    *slot = None;
                }
                other => panic!("unexpected commit outcome {other:?}"),
            }
            commits += 1;
        }
        if round == 0 {
            println!("STARTED");
        }
    }
    assert!(
        ids.iter().all(Option::is_none),
        "sessions outlived revoke_all"
    );
    println!("DONE {commits} {gone_on_commit}");
}

#[test]
fn file_store_revoke_all_while_other_processes_commit() {
    const PROCESSES: usize = 3;
    const SESSIONS: usize = 3;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sessions");
    let (go, marker) = (tmp.path().join("go"), tmp.path().join("revoked"));
    let session = Session::with_store(FileStore::open(&dir).unwrap());
    let login = || {
        let id = session.create(json!({})).unwrap();
        assert!(session.bind_user(&id, "ana").unwrap());
        id
    };
    let kept = login();
    let spec = format!("file:{}", dir.display());
    let mut held = Vec::new();
    let mut children: Vec<Child> = (0..PROCESSES)
        .map(|_| {
            let ids: Vec<SessionId> = (0..SESSIONS).map(|_| login()).collect();
            let list: Vec<&str> = ids.iter().map(SessionId::as_str).collect();
            held.extend(ids.iter().cloned());
            let args = format!("{} {} {}", go.display(), marker.display(), list.join(" "));
            spawn_child("committer", &spec, &args)
        })
        .collect();
    assert_eq!(
        session.sessions_of("ana", None).unwrap().len(),
        PROCESSES * SESSIONS + 1
    );
    std::fs::write(&go, "").unwrap();
    // Once every child has committed a round, revoke while they go on.
    let mut outputs = Vec::new();
    for child in &mut children {
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut output = Vec::new();
        for line in lines.by_ref().map_while(Result::ok) {
            let started = line.contains("STARTED");
            output.push(line);
            if started {
                break;
            }
        }
        outputs.push((output, lines));
    }
    let ended = session.revoke_all("ana", Some(&kept)).unwrap();
    std::fs::write(&marker, "").unwrap();
    assert!(ended <= PROCESSES * SESSIONS);
    for (output, lines) in &mut outputs {
        output.extend(lines.map_while(Result::ok));
    }
    children.into_iter().for_each(wait_ok);

    let mut done = Vec::new();
    for (output, _) in &outputs {
        for line in output {
            if let Some((_, id)) = line.split_once("HELD ") {
                held.push(id.parse().unwrap());
            }
            if let Some((_, figures)) = line.split_once("DONE ") {
                done.push(figures.to_owned());
            }
        }
    }
    assert_eq!(done.len(), PROCESSES, "every child finished: {outputs:?}");
    for id in &held {
        assert_eq!(
            session.get(id).unwrap(),
            None,
            "a revoked session is served"
        );
    }
    let listed = session.sessions_of("ana", Some(&kept)).unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].current);
    assert!(session.get(&kept).unwrap().is_some(), "the exception lives");
    assert_eq!(session.store().count().unwrap(), Some(1), "no stray record");
    println!(
        "revoke_all while {PROCESSES} processes commit to {} sessions (regenerating every 4th \
         round): {ended} ended by it, {} IDs held in all, none served after; per child \
         (commits, commits that found it gone): {done:?}",
        PROCESSES * SESSIONS,
        held.len()
    );
}

// ---- FileStore crash safety ------------------------------------------------

/// A payload that spells out its sequence number, so a record mixing two
/// writes is caught: 16 KiB, so a write takes a while and kills land inside.
fn payload(seq: u64) -> String {
    let unit = format!("{seq:>12}|");
    unit.repeat(16 * 1024 / unit.len())
}

fn crash_record(seq: u64) -> Record {
    Record::new(
        json!({"seq": seq, "payload": payload(seq)})
            .as_object()
            .unwrap()
            .clone(),
    )
}

/// args: the session IDs. Rewrites them round-robin, by update and by set,
/// until killed (or after a bound no test reaches).
fn child_crash_writer(store: &Arc<dyn Store>, args: &[&str]) {
    let ids: Vec<SessionId> = args.iter().map(|a| a.parse().unwrap()).collect();
    for round in 0..1_000_000u64 {
        for (k, id) in ids.iter().enumerate() {
            if (round + k as u64).is_multiple_of(2) {
                store
                    .update(id, &mut |r| {
                        let seq = r.data["seq"].as_u64().unwrap() + 1;
                        *r = crash_record(seq);
                        true
                    })
                    .unwrap();
            } else {
                let seq = store.get(id).unwrap().unwrap().data["seq"]
                    .as_u64()
                    .unwrap();
                store.set(id, crash_record(seq + 1)).unwrap();
            }
        }
    }
}

/// Checks every file in `dir`: session files parse and are consistent.
/// Returns (session files checked, temp files left by killed writers).
fn check_dir(dir: &Path) -> (usize, usize) {
    let (mut sessions, mut temps) = (0, 0);
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        if name.starts_with(".tmp-") {
            temps += 1;
        } else if name.len() == 64 {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            let record = Record::decode(&text).unwrap_or_else(|e| panic!("torn file: {e}"));
            let seq = record.data["seq"].as_u64().unwrap();
            assert_eq!(
                record.data["payload"],
                payload(seq),
                "record mixes two writes"
            );
            sessions += 1;
        }
    }
    (sessions, temps)
}

#[test]
fn file_store_survives_sigkill_mid_write() {
    const SESSIONS: usize = 8;
    const KILLS: usize = 40;
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path()).unwrap();
    let ids: Vec<SessionId> = (0..SESSIONS).map(|_| SessionId::generate()).collect();
    for id in &ids {
        store.set(id, crash_record(0)).unwrap();
    }
    let spec = format!("file:{}", dir.path().display());
    let args: Vec<&str> = ids.iter().map(SessionId::as_str).collect();
    let args = args.join(" ");
    let mut last_seq = [0u64; SESSIONS];
    let (mut checked, mut max_temps) = (0, 0);
    for kill in 0..KILLS {
        let mut child = spawn_child("crash-writer", &spec, &args);
        // Kill at a different point of the write loop each time.
        thread::sleep(Duration::from_millis(30 + (kill as u64 * 7919) % 70));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let (files, temps) = check_dir(dir.path());
        assert_eq!(files, SESSIONS);
        max_temps = max_temps.max(temps);
        for (k, id) in ids.iter().enumerate() {
            // The next child must be able to lock: a killed holder releases.
            let record = store.get(id).unwrap().expect("session survives");
            let seq = record.data["seq"].as_u64().unwrap();
            assert!(seq >= last_seq[k], "a completed write was lost");
            last_seq[k] = seq;
            checked += 1;
        }
    }
    let writes: u64 = last_seq.iter().sum();
    assert!(
        writes > 0,
        "the children never wrote: the test proved nothing"
    );
    // Temp files left by killed writers are removed by a purge once stale.
    let mut stale = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name().to_string_lossy().starts_with(".tmp-") {
            let old = std::time::SystemTime::now() - Duration::from_secs(3600);
            std::fs::File::options()
                .write(true)
                .open(entry.path())
                .unwrap()
                .set_modified(old)
                .unwrap();
            stale += 1;
        }
    }
    assert_eq!(store.purge_expired().unwrap(), 0);
    assert_eq!(check_dir(dir.path()), (SESSIONS, 0));
    println!(
        "FileStore crash test: {KILLS} SIGKILLs of a writing child, {SESSIONS} sessions x {KILLS} \
         = {checked} session reads checked after kills, {SESSIONS} files parsed after each kill \
         ({} files in all), {writes} writes completed; {max_temps} kills landed mid-write (left a \
         temp file), {stale} such temp files removed by purge once stale",
        SESSIONS * KILLS
    );
}

// ---- SqliteStore: several processes on one database file -------------------

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use http_session::SqliteStore;

    fn db(dir: &tempfile::TempDir) -> (std::path::PathBuf, String) {
        let path = dir.path().join("sessions.db");
        let spec = format!("sqlite:{}", path.display());
        (path, spec)
    }

    #[test]
    fn sqlite_store_n_processes_m_updates() {
        let dir = tempfile::tempdir().unwrap();
        let (path, spec) = db(&dir);
        let store = SqliteStore::open(&path).unwrap();
        n_processes_m_updates(&spec, &store, 100);
    }

    #[test]
    fn sqlite_store_4_processes_250_increments_each_make_1000() {
        let dir = tempfile::tempdir().unwrap();
        let (path, spec) = db(&dir);
        n_processes_increment(&spec, Arc::new(SqliteStore::open(&path).unwrap()));
    }

    #[test]
    fn sqlite_store_two_processes_share_sessions() {
        let dir = tempfile::tempdir().unwrap();
        let (path, spec) = db(&dir);
        two_sessions_share(&spec, Arc::new(SqliteStore::open(&path).unwrap()));
    }

    /// `PRAGMA integrity_check` on a connection of its own: "ok", or what
    /// SQLite found wrong.
    fn integrity(path: &Path) -> String {
        let conn = rusqlite::Connection::open(path).unwrap();
        let lines: Vec<String> = conn
            .prepare("PRAGMA integrity_check")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        lines.join("; ")
    }

    /// A writer child (updates and sets, 16 KiB records that spell out their
    /// sequence number) is killed with SIGKILL at a different moment each
    /// time, 30 times. After each kill the database passes SQLite's
    /// integrity check, opens, and holds every session whole: its old state
    /// or its new one, never a mix, never older than a state already seen.
    #[test]
    fn sqlite_store_survives_sigkill_mid_write() {
        const SESSIONS: usize = 8;
        const KILLS: usize = 30;
        let dir = tempfile::tempdir().unwrap();
        let (path, spec) = db(&dir);
        let ids: Vec<SessionId> = (0..SESSIONS).map(|_| SessionId::generate()).collect();
        {
            let store = SqliteStore::open(&path).unwrap();
            for id in &ids {
                store.set(id, crash_record(0)).unwrap();
            }
        }
        let args: Vec<&str> = ids.iter().map(SessionId::as_str).collect();
        let args = args.join(" ");
        let mut last_seq = [0u64; SESSIONS];
        let mut checked = 0;
        let mut wal_left = 0;
        for kill in 0..KILLS {
            let mut child = spawn_child("crash-writer", &spec, &args);
            thread::sleep(Duration::from_millis(30 + (kill as u64 * 7919) % 70));
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            if dir.path().join("sessions.db-wal").exists() {
                wal_left += 1;
            }
            assert_eq!(integrity(&path), "ok", "after kill {kill}");
            // The database opens (recovering the killed writer's log), and
            // every session reads whole.
            let store = SqliteStore::open(&path).unwrap();
            assert_eq!(store.count().unwrap(), Some(SESSIONS as u64));
            for (k, id) in ids.iter().enumerate() {
                let record = store.get(id).unwrap().expect("session survives");
                let seq = record.data["seq"].as_u64().unwrap();
                assert_eq!(
                    record.data["payload"],
                    payload(seq),
                    "record mixes two writes"
                );
                assert!(seq >= last_seq[k], "a completed write was lost");
                last_seq[k] = seq;
                checked += 1;
            }
        }
        let writes: u64 = last_seq.iter().sum();
        assert!(
            writes > 0,
            "the children never wrote: the test proved nothing"
        );
        println!(
            "SqliteStore crash test: {KILLS} SIGKILLs of a writing child, {checked} session \
             reads checked after kills (integrity_check ok each time), {writes} writes \
             completed; {wal_left} kills left a write-ahead log to recover"
        );
    }
}

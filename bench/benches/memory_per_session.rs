//! Resident memory per session: inserts 1,000,000 sessions
//! `{"user_id":"123","role":"admin","n":5}` (with expiry) and reports the growth
//! of the process's resident set divided by the number of sessions, for
//! `MemoryStore` (behind `Session`), a plain
//! `Mutex<HashMap<String, serde_json::Map>>` and `tower-sessions`' `MemoryStore`.
//!
//! Each store is measured in a child process of its own, so memory freed by one
//! (and kept by the allocator) never flatters the other.
//!
//! `cargo bench -p http-session-bench --bench memory_per_session` (target: at most 250 bytes per
//! session for `MemoryStore`).

use std::collections::HashMap;
use std::process::Command;
use std::sync::Mutex;

use http_session::{Data, MemoryStore, Session, SessionId};
use serde_json::{json, Value};

const SESSIONS: usize = 1_000_000;

fn data() -> Value {
    json!({"user_id": "123", "role": "admin", "n": 5})
}

/// Resident set size in bytes, from `/proc/self/statm` (pages).
fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a resident page count");
    pages * 4096
}

fn measure(which: &str) -> f64 {
    let before = resident_bytes();
    let held: Box<dyn std::any::Any> = match which {
        "http-session" => {
            // The default bound is exactly 1,000,000: raise it so nothing is evicted.
            let store = MemoryStore::builder().max_sessions(2 * SESSIONS).build();
            let session = Session::with_store(store);
            for _ in 0..SESSIONS {
                session.create(data()).expect("create");
            }
            assert_eq!(session.store().len(), SESSIONS);
            Box::new(session)
        }
        "Mutex<HashMap<String, Map>>" => {
            let map: Mutex<HashMap<String, Data>> = Mutex::new(HashMap::new());
            for _ in 0..SESSIONS {
                let Value::Object(data) = data() else {
                    unreachable!()
                };
                map.lock()
                    .unwrap()
                    .insert(SessionId::generate().to_string(), data);
            }
            assert_eq!(map.lock().unwrap().len(), SESSIONS);
            Box::new(map)
        }
        "tower-sessions MemoryStore" => {
            use tower_sessions::session::{Id, Record};
            use tower_sessions::SessionStore;
            let store = tower_sessions::MemoryStore::default();
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime");
            rt.block_on(async {
                for _ in 0..SESSIONS {
                    let Value::Object(data) = data() else {
                        unreachable!()
                    };
                    let mut record = Record {
                        id: Id::default(),
                        data: data.into_iter().collect(),
                        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::minutes(30),
                    };
                    store.create(&mut record).await.expect("create");
                }
            });
            Box::new(store)
        }
        other => panic!("unknown store {other}"),
    };
    let after = resident_bytes();
    drop(held);
    (after - before) as f64 / SESSIONS as f64
}

fn main() {
    // Child mode: measure one store and print the figure.
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--measure") {
        println!("{:.1}", measure(&args[pos + 1]));
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` passes no such flag
    // and this is no test, so do nothing then.
    if !args.iter().any(|a| a == "--bench") {
        return;
    }
    let exe = std::env::current_exe().expect("own path");
    println!("memory per session, {SESSIONS} sessions {{\"user_id\":\"123\",\"role\":\"admin\",\"n\":5}}:");
    let mut results = Vec::new();
    for which in [
        "http-session",
        "Mutex<HashMap<String, Map>>",
        "tower-sessions MemoryStore",
    ] {
        let out = Command::new(&exe)
            .args(["--measure", which])
            .output()
            .expect("run child");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bytes: f64 = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("a figure");
        println!("  {which:<30} {bytes:>7.1} bytes/session");
        results.push(bytes);
    }
    for (i, which) in ["Mutex<HashMap<String, Map>>", "tower-sessions MemoryStore"]
        .iter()
        .enumerate()
    {
        println!(
            "  {which} / http-session: {:.2}x",
            results[i + 1] / results[0]
        );
    }
}

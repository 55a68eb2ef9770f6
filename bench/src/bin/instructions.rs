//! Runs one hot-path operation N times, for counting instructions with
//! callgrind (which the machine's load does not disturb, unlike timings):
//!
//! ```sh
//! cargo build --release -p http-session-bench --bin instructions
//! for n in 0 20000; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/instructions counter $n 2>&1 | grep Collected
//! done   # (second - first) / 20000 = instructions per operation
//! ```
//!
//! Operations: `parse`, `find`, `naive` (cookie header, 6 cookies), `serialize`,
//! `set_cookie`, `generate`, `get`, `update`, `counter` (`update_with`), and
//! `plain-counter` (the `Mutex<HashMap<String, Map>>` baseline). Setup (10,000
//! sessions) is the same for every N, so it cancels out in the difference.
//!
//! A user's sessions (issue 11), as in `benches/user_sessions.rs`: these also
//! bind 10,000 more sessions over 1,000 users (10 each) and create 1,000 fresh
//! unbound ones, again the same for every N. `get-unbound` (the baseline) and
//! `get-bound`; `sessions-of` (a user's 10, current marked); `bind` (a fresh
//! session to a user with 10); `bind-cap` (the same with
//! `max_sessions_per_user(10)`: ends one); `revoke` (one handle);
//! `revoke-all` (9 of 10). The last four change the population, so iteration
//! i visits user i, each once: N at most 1,000 (`for n in 0 1000`, divide by
//! 1,000). `record-key`: `RecordKey::of`, the SHA-256 that names a record at
//! rest (and that several of these compute).
//!
//! SqliteStore (a database of 10,000 sessions in `/dev/shm`, see
//! `bench/src/sqlite_raw.rs`): `sqlite-get`, `sqlite-update`, `sqlite-create`
//! through the store, and `sqlite-raw-get`, `sqlite-raw-get-decode` (the
//! record decoded too), `sqlite-raw-get-hashed` (the ID hashed at the call
//! and the record decoded), `sqlite-raw-update`, `sqlite-raw-update-hashed`
//! (the ID hashed, the record decoded and encoded), `sqlite-raw-create`: its
//! statements run raw through rusqlite. The IDs, records and keys that
//! `create` takes are made before the loop, as many for N = 0 as for N =
//! 10,000, so only the operations themselves count (run with N at most
//! 10,000). Callgrind counts SQLite's C code too,
//! not the kernel's (the writes and `fsync`s themselves). Under valgrind the
//! `sha2` crate finds no SHA instructions and hashes in software (about
//! 3,400 instructions a hash); on a CPU with them (`sha_ni`) it takes far
//! fewer.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use http_session::store::{RecordKey, RevocationHandle};
#[path = "../sqlite_raw.rs"]
mod sqlite_raw;

use http_session::{CookieOptions, Data, MemoryStore, Response, Session, SessionId, Store};
use serde_json::{json, Value};

const SID: &str = "k3Jx9QvB2mT7LwZp4HnYc8RsE1uGfD6aVb0NqXoKiUw";

struct Sink(usize);

impl Response for Sink {
    fn append_header(&mut self, _name: &str, value: &str) {
        self.0 += value.len();
    }
}

fn increment(data: &mut Data) -> i64 {
    let n = data.get("n").and_then(Value::as_i64).unwrap_or(0) + 1;
    if let Some(slot) = data.get_mut("n") {
        *slot = n.into();
    }
    n
}

/// Users and their sessions for the user operations.
const USERS: usize = 1_000;
const PER_USER: usize = 10;

/// The user operations' population: 1,000 users with 10 bound sessions each
/// (ID and handle), and 1,000 fresh unbound sessions, one per user.
struct Users {
    names: Vec<String>,
    bound: Vec<Vec<(SessionId, RevocationHandle)>>,
    fresh: Vec<SessionId>,
}

impl Users {
    fn new(session: &Session<MemoryStore>) -> Users {
        let names: Vec<String> = (0..USERS).map(|u| format!("user-{u:04}")).collect();
        let bound = names
            .iter()
            .map(|user| {
                (0..PER_USER)
                    .map(|_| {
                        let id = session.create(initial()).expect("create");
                        assert!(session.bind_user(&id, user).expect("bind"));
                        let handle = session
                            .store()
                            .get(&id)
                            .expect("get")
                            .and_then(|record| record.owner)
                            .expect("bound")
                            .handle;
                        (id, handle)
                    })
                    .collect()
            })
            .collect();
        let fresh = (0..USERS)
            .map(|_| session.create(initial()).expect("create"))
            .collect();
        Users {
            names,
            bound,
            fresh,
        }
    }
}

fn initial() -> Value {
    json!({"user_id": "123", "role": "admin", "n": 5})
}

const USER_OPS: [&str; 7] = [
    "get-unbound",
    "get-bound",
    "sessions-of",
    "bind",
    "bind-cap",
    "revoke",
    "revoke-all",
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(op), Some(n)) = (
        args.get(1),
        args.get(2).and_then(|n| n.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: instructions OPERATION N");
        std::process::exit(2);
    };
    if let Some(op) = op.strip_prefix("sqlite-") {
        sqlite(op, n);
        return;
    }
    let header = format!(
        "_ga=GA1.2.1848372615.1700000000; theme=dark; session_id={SID}; lang=\"en-US\"; \
         _gid=GA1.2.921334455.1700000000; consent=stats:on"
    );
    let store = MemoryStore::builder().max_sessions(100_000).build();
    let session = Session::builder()
        .store(store)
        .build()
        .expect("valid settings");
    // The same store, with the cap (for `bind-cap`).
    let capped = Session::builder()
        .store(session.store())
        .max_sessions_per_user(PER_USER)
        .build()
        .expect("valid settings");
    let ids: Vec<SessionId> = (0..10_000)
        .map(|_| session.create(initial()).expect("create"))
        .collect();
    let users = USER_OPS
        .contains(&op.as_str())
        .then(|| Users::new(&session));
    if users.is_some()
        && !matches!(op.as_str(), "get-unbound" | "get-bound" | "sessions-of")
        && n > USERS
    {
        eprintln!("{op} visits each of the {USERS} users once: N at most {USERS}");
        std::process::exit(2);
    }
    let plain: Mutex<HashMap<String, Data>> = Mutex::new(
        ids.iter()
            .map(|id| {
                (
                    id.to_string(),
                    json!({"user_id": "123", "role": "admin", "n": 5}),
                )
            })
            .map(|(id, v)| (id, v.as_object().cloned().unwrap_or_default()))
            .collect(),
    );
    let plain_ids: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    let options = CookieOptions::default()
        .max_age(Duration::from_secs(3600))
        .expires(SystemTime::now());
    let id: SessionId = SID.parse().expect("a valid ID");

    let mut acc = 0usize;
    for i in 0..n {
        let some = &ids[i % ids.len()];
        match op.as_str() {
            "parse" => {
                acc += http_session::cookie::parse(black_box(&header))
                    .map(|(a, b)| a.len() + b.len())
                    .sum::<usize>()
            }
            "find" => {
                acc += http_session::cookie::parse(black_box(&header))
                    .find(|(name, _)| *name == "session_id")
                    .map_or(0, |(_, v)| v.len())
            }
            "naive" => {
                acc += black_box(&header)
                    .split(';')
                    .filter_map(|p| p.split_once('='))
                    .map(|(a, b)| a.trim().len() + b.trim().len())
                    .sum::<usize>()
            }
            "serialize" => {
                acc += http_session::cookie::serialize("session_id", black_box(SID), &options)
                    .map_or(0, |s| s.len())
            }
            "set_cookie" => {
                let mut sink = Sink(0);
                let _ = session.set_cookie(&mut sink, black_box(&id));
                acc += sink.0;
            }
            "generate" => acc += usize::from(SessionId::generate().as_bytes()[0]),
            "get" => acc += session.get(some).ok().flatten().map_or(0, |d| d.len()),
            "update" => acc += usize::from(session.update(some, json!({"n": i})).unwrap_or(false)),
            "counter" => {
                acc += session
                    .update_with(some, increment)
                    .ok()
                    .flatten()
                    .unwrap_or(0) as usize
            }
            "plain-counter" => {
                let key = &plain_ids[i % plain_ids.len()];
                let loaded = plain.lock().ok().and_then(|m| m.get(key).cloned());
                if let Some(mut data) = loaded {
                    acc += increment(&mut data) as usize;
                    if let Ok(mut map) = plain.lock() {
                        map.insert(key.clone(), data);
                    }
                }
            }
            "get-unbound" => acc += session.get(some).ok().flatten().map_or(0, |d| d.len()),
            "record-key" => acc += usize::from(RecordKey::of(black_box(some)).as_bytes()[0]),
            user_op => {
                let Some(users) = &users else {
                    eprintln!("unknown operation {user_op}");
                    std::process::exit(2);
                };
                let u = i % USERS;
                let user = &users.names[u];
                let mine = &users.bound[u];
                acc += match user_op {
                    "get-bound" => {
                        let (id, _) = &mine[(i / USERS) % PER_USER];
                        session.get(id).ok().flatten().map_or(0, |d| d.len())
                    }
                    "sessions-of" => session
                        .sessions_of(user, Some(&mine[0].0))
                        .map_or(0, |listed| listed.len()),
                    "bind" => {
                        usize::from(session.bind_user(&users.fresh[u], user).unwrap_or(false))
                    }
                    "bind-cap" => {
                        usize::from(capped.bind_user(&users.fresh[u], user).unwrap_or(false))
                    }
                    "revoke" => usize::from(session.revoke(user, &mine[1].1).unwrap_or(false)),
                    "revoke-all" => session.revoke_all(user, Some(&mine[0].0)).unwrap_or(0),
                    _ => unreachable!(),
                };
            }
        }
    }
    println!("{acc}");
}

/// The `sqlite-*` operations, `n` times.
fn sqlite(op: &str, n: usize) {
    use http_session::store::RecordKey;
    use http_session::Record;
    use sqlite_raw::{data, expires, populate, store_update, Raw, SESSIONS};

    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
    .expect("a temp dir");
    let (store, ids) = populate(&dir.path().join("store.db"));
    let mut raw = Raw::new(&dir.path().join("raw.db"));
    let expires = expires();
    // What `create` takes, made before the loop: fresh IDs with their
    // records (the caller's work), and their keys for the raw side (hashed
    // beforehand). As many for every N up to SESSIONS, so that making them
    // cancels out in the difference, as the rest of the setup does.
    let made = n.max(SESSIONS);
    let fresh: Vec<SessionId> = (0..made).map(|_| SessionId::generate()).collect();
    let keys: Vec<[u8; 32]> = fresh
        .iter()
        .map(|id| *RecordKey::of(id).as_bytes())
        .collect();
    let mut records = (0..made)
        .map(|_| Record::expiring(data(), expires))
        .collect::<Vec<_>>()
        .into_iter();
    let mut acc = 0usize;
    for i in 0..n {
        let k = i % SESSIONS;
        match op {
            "get" => {
                acc += store
                    .get(&ids[k])
                    .ok()
                    .flatten()
                    .map_or(0, |r| r.data.len())
            }
            "raw-get" => raw.get(k, false),
            "raw-get-decode" => raw.get(k, true),
            "raw-get-hashed" => raw.get_hashed(k),
            "update" => acc += usize::from(store_update(&store, &ids[k])),
            "raw-update" => raw.update(k),
            "raw-update-hashed" => raw.update_hashed(k),
            "create" => {
                let record = records.next().unwrap_or_else(|| Record::new(data()));
                acc += usize::from(store.create(&fresh[i], record).unwrap_or(false));
            }
            "raw-create" => acc += usize::from(raw.create(&keys[i])),
            other => {
                eprintln!("unknown operation sqlite-{other}");
                std::process::exit(2);
            }
        }
    }
    // The records `create` did not take are left undropped, for every N
    // alike: a record `create` takes is dropped inside it, and counts.
    std::mem::forget(records);
    println!("{acc}");
}

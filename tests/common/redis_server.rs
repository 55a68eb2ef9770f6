//! Redis for tests: the shared server on 127.0.0.1:6379 (with a unique key
//! prefix per test, cleaned up afterwards), and private servers that tests may
//! kill, pause and restart.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The machine's Redis (`.ci/run` starts one if none is running).
pub const SHARED_URL: &str = "redis://127.0.0.1:6379";

/// The key a `RedisStore` keeps session `id` under, computed as the store
/// does: its prefix, then the lowercase hex of the SHA-256 of the ID's bytes.
pub trait KeyOf {
    fn key_of(&self, id: &http_session::SessionId) -> String;
}

impl KeyOf for http_session::RedisStore {
    fn key_of(&self, id: &http_session::SessionId) -> String {
        format!("{}{}", self.prefix(), super::fuzz_checks::hashed_name(id))
    }
}

/// A key prefix no other test or test run uses.
pub fn unique_prefix() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "http-session-test:{}:{nanos}:{}:",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn connect(url: &str) -> redis::Connection {
    let conn = redis::Client::open(url)
        .unwrap()
        .get_connection_with_timeout(Duration::from_secs(5))
        .unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    conn
}

/// The keys under `prefix`.
pub fn keys(url: &str, prefix: &str) -> Vec<String> {
    let mut conn = connect(url);
    let mut found = Vec::new();
    let mut cursor = 0u64;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(1000)
            .query(&mut conn)
            .unwrap();
        found.extend(batch);
        if next == 0 {
            return found;
        }
        cursor = next;
    }
}

/// Deletes every key under its prefix when dropped.
pub struct KeyCleanup {
    url: String,
    prefix: String,
}

impl KeyCleanup {
    pub fn new(url: &str, prefix: &str) -> KeyCleanup {
        KeyCleanup {
            url: url.to_owned(),
            prefix: prefix.to_owned(),
        }
    }

    /// The prefix whose keys go when this is dropped.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

/// A store on the shared Redis under a prefix of its own, and the guard that
/// deletes that prefix's keys at the end of the test.
pub fn shared_store() -> (http_session::RedisStore, KeyCleanup) {
    let prefix = unique_prefix();
    let store = http_session::RedisStore::builder(SHARED_URL)
        .prefix(&prefix)
        .build()
        .unwrap();
    (store, KeyCleanup::new(SHARED_URL, &prefix))
}

impl Drop for KeyCleanup {
    fn drop(&mut self) {
        let keys = keys(&self.url, &self.prefix);
        if !keys.is_empty() {
            let mut conn = connect(&self.url);
            let _: () = redis::cmd("DEL").arg(&keys).query(&mut conn).unwrap();
        }
    }
}

/// A redis-server of the test's own, on a free port, without persistence.
pub struct PrivateRedis {
    pub port: u16,
    child: Option<Child>,
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl PrivateRedis {
    pub fn start() -> PrivateRedis {
        let mut server = PrivateRedis {
            port: free_port(),
            child: None,
        };
        server.restart();
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again) on its port and waits until it answers.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (.ci/run installs it)");
        self.child = Some(child);
        for _ in 0..500 {
            if let Ok(client) = redis::Client::open(self.url()) {
                if let Ok(mut conn) = client.get_connection_with_timeout(Duration::from_secs(1)) {
                    if redis::cmd("PING").query::<String>(&mut conn).is_ok() {
                        return;
                    }
                }
            }
            thread::sleep(Duration::from_millis(20));
        }
        panic!("private redis-server on port {} did not start", self.port);
    }

    /// SIGKILL, as a crash or an OOM kill would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGSTOP: the port still accepts connections but nothing answers.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// SIGCONT after [`pause`](Self::pause).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("not running").id();
        // The shell's own `kill`: no dependency on procps being installed.
        let status = Command::new("sh")
            .args(["-c", "kill \"$0\" \"$1\"", signal, &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.resume();
        }
        self.kill();
    }
}

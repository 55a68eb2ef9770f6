//! RedisStore on a real Redis Cluster (feature `redis-cluster`): three private
//! redis-server nodes, joined with `redis-cli --cluster create`, run the whole
//! conformance suite.
#![cfg(feature = "redis-cluster")]

use crate::common;

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use common::redis_server::{free_port, unique_prefix};
use common::suite::{self, Fixture, Traits};
use http_session::{Clock, RedisStore};

struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_cluster(dir: &std::path::Path) -> (Vec<Node>, Vec<u16>) {
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let nodes = ports
        .iter()
        .map(|port| {
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--cluster-enabled", "yes"])
                .args(["--cluster-config-file", &format!("nodes-{port}.conf")])
                .args(["--dir", &dir.display().to_string()])
                .args(["--save", "", "--appendonly", "no"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server must be installed");
            Node(child)
        })
        .collect();
    let cli = |port: u16, args: &[&str]| {
        Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &port.to_string()])
            .args(args)
            .stderr(Stdio::null())
            .output()
            .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
            .unwrap_or_default()
    };
    for port in &ports {
        let mut up = false;
        for _ in 0..500 {
            if cli(*port, &["ping"]).contains("PONG") {
                up = true;
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
        assert!(up, "cluster node on {port} did not start");
    }
    let addresses: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let mut create = vec!["--cluster", "create"];
    create.extend(addresses.iter().map(String::as_str));
    create.extend(["--cluster-replicas", "0", "--cluster-yes"]);
    cli(ports[0], &create);
    for port in &ports {
        let mut ok = false;
        for _ in 0..500 {
            if cli(*port, &["cluster", "info"]).contains("cluster_state:ok") {
                ok = true;
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
        assert!(ok, "cluster did not reach state ok");
    }
    (nodes, ports)
}

/// The node URL the suite's stores connect through (one test runs at a time
/// through it: the suite's `Make` is a plain function).
static ENTRY: Mutex<Option<String>> = Mutex::new(None);

fn cluster_store(clock: Clock) -> Fixture {
    let url = ENTRY.lock().unwrap().clone().unwrap();
    let store = RedisStore::cluster_builder(&[url.as_str()])
        .prefix(&unique_prefix())
        .pool_size(8)
        .clock(clock)
        .build()
        .unwrap();
    Fixture {
        store: Arc::new(store),
        traits: Traits {
            atomic: true,
            honours_expiry: true,
            purges: false,
        },
        // The whole cluster is thrown away at the end of the test.
        _keep: Box::new(()),
    }
}

#[test]
fn cluster_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let (_nodes, ports) = start_cluster(dir.path());
    *ENTRY.lock().unwrap() = Some(format!("redis://127.0.0.1:{}", ports[0]));
    type Check = (&'static str, fn(suite::Make));
    let checks: [Check; 15] = [
        ("get_set_delete", suite::get_set_delete),
        ("create_if_absent", suite::create_if_absent),
        (
            "create_is_atomic_under_threads",
            suite::create_is_atomic_under_threads,
        ),
        ("update_semantics", suite::update_semantics),
        (
            "update_is_atomic_under_8_threads",
            suite::update_is_atomic_under_8_threads,
        ),
        ("expiry", suite::expiry),
        ("purge", suite::purge),
        ("regenerate", suite::regenerate),
        ("take_semantics", suite::take_semantics),
        (
            "take_is_atomic_under_threads",
            suite::take_is_atomic_under_threads,
        ),
        ("regeneration_race", suite::regeneration_race),
        (
            "regenerate_keeps_data_and_deadline",
            suite::regenerate_keeps_data_and_deadline,
        ),
        ("large_records", suite::large_records),
        ("unicode_keys_and_values", suite::unicode_keys_and_values),
        (
            "seed_flow_through_session",
            suite::seed_flow_through_session,
        ),
    ];
    for (name, check) in checks {
        check(cluster_store);
        println!("cluster: {name} ok");
    }
    // Sessions really spread over the nodes: each holds some keys.
    let store = cluster_store(Clock::system());
    for _ in 0..60 {
        store
            .store
            .set(
                &http_session::SessionId::generate(),
                http_session::Record::new(Default::default()),
            )
            .unwrap();
    }
    for port in ports {
        let mut conn = common::redis_server::connect(&format!("redis://127.0.0.1:{port}"));
        let keys: i64 = redis::cmd("DBSIZE").query(&mut conn).unwrap();
        assert!(keys > 0, "node {port} holds no session");
    }
}

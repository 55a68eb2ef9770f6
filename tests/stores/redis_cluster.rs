//! RedisStore on a real Redis Cluster (feature `redis-cluster`): three private
//! redis-server nodes, joined with `redis-cli --cluster create`, run the whole
//! conformance suite, its user-index section included (a user's index and
//! their records lie in different slots, on different nodes).
#![cfg(feature = "redis-cluster")]

use crate::common;

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use common::redis_server::{free_port, unique_prefix};
use common::suite::{self, Fixture, Traits};
use common::user_suite;
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
    let user_checks: [Check; 11] = [
        ("bind_list_revoke", user_suite::bind_list_revoke),
        (
            "revoke_all_keeps_only_the_exception",
            user_suite::revoke_all_keeps_only_the_exception,
        ),
        (
            "regeneration_keeps_the_binding",
            user_suite::regeneration_keeps_the_binding,
        ),
        (
            "ended_sessions_are_never_listed",
            user_suite::ended_sessions_are_never_listed,
        ),
        (
            "cap_ends_the_least_recently_seen",
            user_suite::cap_ends_the_least_recently_seen,
        ),
        (
            "concurrent_logins_beyond_the_cap_leave_exactly_the_cap",
            user_suite::concurrent_logins_beyond_the_cap_leave_exactly_the_cap,
        ),
        (
            "an_in_flight_commit_after_revoke_all_finds_it_gone",
            user_suite::an_in_flight_commit_after_revoke_all_finds_it_gone,
        ),
        (
            "revoke_all_racing_regeneration_ends_both",
            user_suite::revoke_all_racing_regeneration_ends_both,
        ),
        (
            "last_seen_moves_only_when_the_timeout_rolls",
            user_suite::last_seen_moves_only_when_the_timeout_rolls,
        ),
        (
            "listing_reveals_no_session_id",
            user_suite::listing_reveals_no_session_id,
        ),
        (
            "binding_to_another_user_moves_the_session",
            user_suite::binding_to_another_user_moves_the_session,
        ),
    ];
    for (name, check) in user_checks {
        check(cluster_store);
        println!("cluster: user index: {name} ok");
    }
    a_users_sessions_span_slots_and_are_revoked_across_them(&ports);
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

/// 20 sessions of one user, bound and then revoked at once: their records
/// lie in other slots than the user's index (so the user-index section above
/// ran across slots, not by luck within one), and `revoke_all` ends them all
/// with single-key steps.
fn a_users_sessions_span_slots_and_are_revoked_across_them(ports: &[u16]) {
    use http_session::{Session, SessionId};
    let prefix = unique_prefix();
    let url = format!("redis://127.0.0.1:{}", ports[0]);
    let store = RedisStore::cluster_builder(&[url.as_str()])
        .prefix(&prefix)
        .build()
        .unwrap();
    let session = Session::with_store(store);
    let ids: Vec<SessionId> = (0..20)
        .map(|_| {
            let id = session.create(serde_json::json!({})).unwrap();
            assert!(session.bind_user(&id, "ana").unwrap());
            id
        })
        .collect();
    let mut conn = common::redis_server::connect(&url);
    let mut slot_of = |key: &str| -> i64 {
        redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(key)
            .query(&mut conn)
            .unwrap()
    };
    let index_name: String = {
        use sha2::{Digest, Sha256};
        Sha256::digest(b"ana")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let index_slot = slot_of(&format!("{prefix}user:{index_name}"));
    let elsewhere = ids
        .iter()
        .filter(|id| {
            let key = format!("{prefix}{}", common::fuzz_checks::hashed_name(id));
            slot_of(&key) != index_slot
        })
        .count();
    assert!(elsewhere >= 19, "records in other slots: {elsewhere} of 20");
    assert_eq!(session.sessions_of("ana", None).unwrap().len(), 20);
    assert_eq!(session.revoke_all("ana", None).unwrap(), 20);
    for id in &ids {
        assert_eq!(session.get(id).unwrap(), None);
    }
    assert!(session.sessions_of("ana", None).unwrap().is_empty());
    println!("cluster: 20 sessions of one user across {elsewhere} other slots revoked");
}

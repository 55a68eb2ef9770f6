//! RedisStore over rediss:// (feature `redis-tls`), against a private
//! redis-server with TLS and a test CA made with the openssl command.
#![cfg(feature = "redis-tls")]

use crate::common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::Duration;

use common::redis_server::free_port;
use http_session::{Error, Record, RedisStore, Session, SessionId, Store};
use serde_json::json;

fn openssl(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the openssl command must be installed (.ci/run installs it)");
    assert!(status.success(), "openssl {args:?}");
}

/// A CA, and a certificate for 127.0.0.1 signed by it, in `dir`.
fn make_certificates(dir: &Path, ca: &str) {
    let days = ["-days", "2"];
    openssl(
        dir,
        &[
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &format!("{ca}.key"),
                "-out",
                &format!("{ca}.crt"),
                "-subj",
                "/CN=http-session test CA",
            ][..],
            &days,
        ]
        .concat(),
    );
    if ca == "ca" {
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=127.0.0.1",
            ],
        );
        std::fs::write(
            dir.join("ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
        )
        .unwrap();
        openssl(
            dir,
            &[
                &[
                    "x509",
                    "-req",
                    "-in",
                    "server.csr",
                    "-CA",
                    "ca.crt",
                    "-CAkey",
                    "ca.key",
                    "-CAcreateserial",
                    "-out",
                    "server.crt",
                    "-extfile",
                    "ext",
                ][..],
                &days,
            ]
            .concat(),
        );
    }
}

struct TlsRedis(Child);

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_tls_redis(dir: &Path, port: u16) -> TlsRedis {
    let path = |name: &str| dir.join(name).display().to_string();
    let child = Command::new("redis-server")
        .args([
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .args([
            "--tls-cert-file",
            &path("server.crt"),
            "--tls-key-file",
            &path("server.key"),
        ])
        .args([
            "--tls-ca-cert-file",
            &path("ca.crt"),
            "--tls-auth-clients",
            "no",
        ])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = TlsRedis(child);
    for _ in 0..500 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return server;
        }
        thread::sleep(Duration::from_millis(20));
    }
    panic!("TLS redis-server did not start");
}

#[test]
fn rediss_urls_work_with_a_private_ca_and_refuse_strangers() {
    let dir = tempfile::tempdir().unwrap();
    make_certificates(dir.path(), "ca");
    make_certificates(dir.path(), "other-ca");
    let port = free_port();
    let _server = start_tls_redis(dir.path(), port);
    let ca = std::fs::read(dir.path().join("ca.crt")).unwrap();
    let url = format!("rediss://127.0.0.1:{port}");

    let store = RedisStore::builder(&url)
        .tls_root_certificates(&ca)
        .build()
        .unwrap();
    store.ping().unwrap();
    let session = Session::with_store(store);
    let id = session.create(json!({"userId": "123"})).unwrap();
    assert!(session.update(&id, json!({"role": "admin"})).unwrap());
    assert_eq!(session.get(&id).unwrap().unwrap()["role"], "admin");
    let store = session.store();
    let other = SessionId::generate();
    assert!(store
        .create(&other, Record::new(Default::default()))
        .unwrap());
    assert!(!store
        .create(&other, Record::new(Default::default()))
        .unwrap());

    // A server whose certificate does not chain to the given CA is refused.
    let stranger = std::fs::read(dir.path().join("other-ca.crt")).unwrap();
    let wary = RedisStore::builder(&url)
        .tls_root_certificates(&stranger)
        .build()
        .unwrap();
    let err = wary.ping().unwrap_err();
    assert!(matches!(err, Error::Store { .. }), "{err}");
    assert!(wary.get(&id).is_err());

    // Plain redis:// to a TLS port fails cleanly (no reply it can read).
    let plain = RedisStore::builder(&format!("redis://127.0.0.1:{port}"))
        .command_timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    assert!(plain.get(&id).is_err());
    println!("rediss:// with a private CA: ok; wrong CA refused with: {err}");
}

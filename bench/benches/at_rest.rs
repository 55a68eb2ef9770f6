//! The cost of keeping no live ID at rest: FileStore and RedisStore name each
//! record by the lowercase hex of the SHA-256 of the ID's 32 bytes (what
//! `src/store/at_rest.rs` computes, with the same `sha2` crate), once per
//! operation. Baseline: the old name, the hex of the raw ID bytes alone. For
//! scale, a whole `FileStore::get` of a small record (its name included).
//!
//! `cargo bench -p http-session-bench --bench at_rest -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use http_session::{FileStore, Record, SessionId, Store};
use sha2::{Digest, Sha256};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Lowercase hex of 32 bytes, as the stores write it.
fn hex(bytes: &[u8; 32]) -> String {
    let mut name = String::with_capacity(64);
    for &b in bytes {
        name.push(char::from(HEX[usize::from(b >> 4)]));
        name.push(char::from(HEX[usize::from(b & 0xF)]));
    }
    name
}

/// The name a persistent store keeps `id` under now.
fn hashed_name(id: &SessionId) -> String {
    hex(&Sha256::digest(id.as_bytes()).into())
}

/// The name FileStore used before: the ID's own bytes in hex.
fn raw_name(id: &SessionId) -> String {
    hex(id.as_bytes())
}

fn bench(c: &mut Criterion) {
    let id = SessionId::generate();
    assert_eq!(hashed_name(&id).len(), 64);
    assert_ne!(hashed_name(&id), raw_name(&id));

    let dir = std::env::temp_dir().join(format!("at-rest-bench-{}", std::process::id()));
    let store = FileStore::open(&dir).expect("a temporary directory");
    let data = serde_json::json!({"user_id": "123", "role": "admin", "n": 5});
    store
        .set(&id, Record::new(data.as_object().unwrap().clone()))
        .unwrap();

    let mut g = c.benchmark_group("at_rest");
    g.bench_function("name: sha256 + hex (now)", |b| {
        b.iter(|| hashed_name(black_box(&id)))
    });
    g.bench_function("name: hex of the raw ID (before)", |b| {
        b.iter(|| raw_name(black_box(&id)))
    });
    g.bench_function("FileStore::get (reference)", |b| {
        b.iter(|| store.get(black_box(&id)).unwrap())
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);

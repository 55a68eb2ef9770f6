//! Hostile inputs at two sizes, 1x and 10x: linear-time code shows the same
//! throughput (bytes per second) at both. Run: `cargo bench -p http-session-bench --bench abuse`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use http_session::{cookie, Headers, MemoryStore, Session, SessionId};
use serde_json::json;

/// Headers built to hurt a parser, each `bytes` long.
fn hostile(bytes: usize) -> Vec<(&'static str, String)> {
    let fill = |piece: &str| piece.repeat(bytes.div_ceil(piece.len()));
    vec![
        ("quotes", fill("\"\"\"a=\"\"\";")),
        ("semicolons", ";".repeat(bytes)),
        ("equals", "=".repeat(bytes)),
        ("blanks", fill(" \t")),
        ("pairs", fill("a=b; ")),
        ("session_junk", fill("session_id=\"AAAA.\"; ")),
        ("non_ascii", fill("ñ=€;")),
    ]
}

const SIZES: [usize; 2] = [100 * 1024, 1024 * 1024];

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("cookie_parse_hostile");
    group.sample_size(20);
    for size in SIZES {
        for (shape, header) in hostile(size) {
            group.throughput(Throughput::Bytes(header.len() as u64));
            group.bench_with_input(BenchmarkId::new(shape, size), &header, |b, h| {
                b.iter(|| cookie::parse(black_box(h)).count())
            });
        }
    }
    group.finish();
}

fn from_request(c: &mut Criterion) {
    let session = Session::new();
    let id = session.create(json!({"user": "ana"})).unwrap();
    let mut group = c.benchmark_group("from_request_hostile");
    group.sample_size(20);
    for size in SIZES {
        for (shape, header) in hostile(size) {
            let req = Headers::new().with("Cookie", &format!("{header}; session_id={id}"));
            group.throughput(Throughput::Bytes(header.len() as u64));
            group.bench_with_input(BenchmarkId::new(shape, size), &req, |b, req| {
                b.iter(|| session.from_request(black_box(req)).unwrap())
            });
        }
    }
    group.finish();
}

/// Creates into a store that is already full: each must make room.
fn full_store_create(c: &mut Criterion) {
    let mut group = c.benchmark_group("memory_store_full_create");
    for bound in [10_000, 100_000] {
        let session = Session::with_store(MemoryStore::builder().max_sessions(bound).build());
        for _ in 0..2 * bound {
            session.create(json!({})).unwrap();
        }
        group.bench_function(BenchmarkId::from_parameter(bound), |b| {
            b.iter(|| session.create(json!({"n": 1})).unwrap())
        });
    }
    group.finish();
}

fn id_parse(c: &mut Criterion) {
    let good = SessionId::generate().to_string();
    let bad = format!("{}!", &good[..42]);
    c.bench_function("session_id_parse_good", |b| {
        b.iter(|| black_box(&good).parse::<SessionId>().is_ok())
    });
    c.bench_function("session_id_parse_bad", |b| {
        b.iter(|| black_box(&bad).parse::<SessionId>().is_ok())
    });
}

criterion_group!(benches, parse, from_request, full_store_create, id_parse);
criterion_main!(benches);

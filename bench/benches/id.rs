//! Session ID generation: `SessionId::generate` against `rand`'s thread RNG
//! filling 32 bytes + base64url encoding (the `base64` crate), and against the
//! operating system's RNG per ID (`getrandom` through `rand::rngs::SysRng`).
//!
//! `cargo bench -p http-session-bench --bench id`

use std::hint::black_box;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use criterion::{criterion_group, criterion_main, Criterion};
use http_session::SessionId;
use rand::{Rng, TryRng};

fn thread_rng_and_encode() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn os_rng_and_encode() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::SysRng
        .try_fill_bytes(&mut bytes)
        .expect("the OS RNG works");
    URL_SAFE_NO_PAD.encode(bytes)
}

fn bench(c: &mut Criterion) {
    // The three produce the same shape of ID.
    assert_eq!(thread_rng_and_encode().len(), 43);
    assert_eq!(os_rng_and_encode().len(), 43);
    let ours = SessionId::generate();
    let bytes = *ours.as_bytes();
    assert_eq!(URL_SAFE_NO_PAD.encode(bytes), ours.as_str());

    let mut g = c.benchmark_group("id");
    g.measurement_time(Duration::from_millis(1500))
        .warm_up_time(Duration::from_millis(500));
    g.bench_function("http-session SessionId::generate", |b| {
        b.iter(SessionId::generate)
    });
    g.bench_function("thread rng + base64", |b| b.iter(thread_rng_and_encode));
    g.bench_function("OS rng per ID + base64", |b| b.iter(os_rng_and_encode));
    g.finish();
    black_box(());
}

criterion_group!(benches, bench);
criterion_main!(benches);

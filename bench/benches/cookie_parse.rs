//! Cookie header parsing: `http_session::cookie::parse` against the `cookie`
//! crate's `Cookie::split_parse` and a naive `split(';')` + `split_once('=')`
//! loop, in the same process.
//!
//! `cargo bench -p http-session-bench --bench cookie_parse`

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

/// A 43-character session ID (canonical: its last character's low bits are zero).
const SID: &str = "k3Jx9QvB2mT7LwZp4HnYc8RsE1uGfD6aVb0NqXoKiUw";

/// The realistic header: six cookies, 164 bytes, the session ID among analytics
/// and preference cookies, one quoted value.
fn six_cookie_header() -> String {
    let header = format!(
        "_ga=GA1.2.1848372615.1700000000; theme=dark; session_id={SID}; lang=\"en-US\"; \
         _gid=GA1.2.921334455.1700000000; consent=stats:on"
    );
    assert_eq!(header.len(), 164);
    header
}

fn one_cookie_header() -> String {
    format!("session_id={SID}")
}

/// The naive loop a hand-rolled server would write.
fn naive(header: &str) -> impl Iterator<Item = (&str, &str)> {
    header
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (name.trim(), value.trim()))
}

/// What "iterate all" does with each pair: touch both halves.
fn consume<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> usize {
    pairs.map(|(n, v)| n.len() + v.len()).sum()
}

fn bench(c: &mut Criterion) {
    for (label, header) in [
        ("6 cookies", six_cookie_header()),
        ("1 cookie", one_cookie_header()),
    ] {
        // All three agree on what they see before anything is timed.
        let ours: Vec<_> = http_session::cookie::parse(&header).collect();
        let theirs: Vec<_> = cookie::Cookie::split_parse(header.as_str())
            .filter_map(Result::ok)
            .map(|c| (c.name().to_owned(), c.value_trimmed().to_owned()))
            .collect();
        let ours_owned: Vec<_> = ours
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        assert_eq!(ours_owned, theirs);
        assert_eq!(ours.len(), naive(&header).count());

        let mut g = c.benchmark_group(format!("cookie_parse/{label}"));
        g.measurement_time(Duration::from_millis(1500))
            .warm_up_time(Duration::from_millis(500));
        let h = header.as_str();
        g.bench_function("iterate all/http-session", |b| {
            b.iter(|| consume(http_session::cookie::parse(black_box(h))))
        });
        g.bench_function("iterate all/cookie crate", |b| {
            b.iter(|| {
                cookie::Cookie::split_parse(black_box(h))
                    .filter_map(Result::ok)
                    .map(|c| c.name().len() + c.value_trimmed().len())
                    .sum::<usize>()
            })
        });
        g.bench_function("iterate all/naive split", |b| {
            b.iter(|| consume(naive(black_box(h))))
        });
        g.bench_function("find session_id/http-session", |b| {
            b.iter(|| {
                http_session::cookie::parse(black_box(h))
                    .find(|(n, _)| *n == "session_id")
                    .map(|(_, v)| v.len())
            })
        });
        g.bench_function("find session_id/cookie crate", |b| {
            b.iter(|| {
                cookie::Cookie::split_parse(black_box(h))
                    .filter_map(Result::ok)
                    .find(|c| c.name() == "session_id")
                    .map(|c| c.value_trimmed().len())
            })
        });
        g.bench_function("find session_id/naive split", |b| {
            b.iter(|| {
                naive(black_box(h))
                    .find(|(n, _)| *n == "session_id")
                    .map(|(_, v)| v.len())
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

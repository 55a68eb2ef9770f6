//! `Set-Cookie` serialization with Path, HttpOnly, Secure, SameSite=Lax,
//! Max-Age=3600 and Expires: http-session against the `cookie` crate's builder
//! + `to_string()` and a hand-written `format!` + `httpdate`, in one process.
//!
//! Every variant computes the expiry from the current time, as a server does
//! for each response. `cargo bench -p http-session-bench --bench set_cookie`

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::{criterion_group, criterion_main, Criterion};
use http_session::cookie::{serialize, CookieOptions};
use http_session::{Response, Session, SessionId};

const HOUR: Duration = Duration::from_secs(3600);

/// A response that keeps only the last header's length: the header text is
/// built by the code under test; storing it is the server's business.
struct Sink(usize);

impl Response for Sink {
    fn append_header(&mut self, _name: &str, value: &str) {
        self.0 = black_box(value.len());
    }
}

fn cookie_crate(id: &str) -> String {
    use cookie::{time::OffsetDateTime, Cookie, SameSite};
    Cookie::build(("session_id", id))
        .path("/")
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(3600))
        .expires(OffsetDateTime::now_utc() + cookie::time::Duration::seconds(3600))
        .build()
        .to_string()
}

fn format_httpdate(id: &str) -> String {
    format!(
        "session_id={id}; Path=/; Max-Age=3600; Expires={}; HttpOnly; Secure; SameSite=Lax",
        httpdate::fmt_http_date(SystemTime::now() + HOUR)
    )
}

fn bench(c: &mut Criterion) {
    let id = SessionId::generate();
    // One-hour sessions, so `set_cookie` renders Max-Age=3600 and Expires=now+1h.
    let session = Session::builder()
        .ttl(HOUR)
        .absolute_lifetime(HOUR)
        .build()
        .expect("valid settings");
    let options = CookieOptions::default().max_age(HOUR);

    // Same attributes everywhere (order aside); the date may tick between calls.
    let mut headers = http_session::Headers::new();
    session.set_cookie(&mut headers, &id).expect("set_cookie");
    let ours = headers.get("Set-Cookie").expect("a header").to_owned();
    let theirs = cookie_crate(id.as_str());
    let formatted = format_httpdate(id.as_str());
    for text in [&ours, &theirs, &formatted] {
        for part in [
            "session_id=",
            "Path=/",
            "Max-Age=3600",
            "Expires=",
            "HttpOnly",
            "Secure",
            "SameSite=Lax",
        ] {
            assert!(text.contains(part), "{text} lacks {part}");
        }
    }

    let mut g = c.benchmark_group("set_cookie");
    g.measurement_time(Duration::from_millis(1500))
        .warm_up_time(Duration::from_millis(500));
    g.bench_function("http-session Session::set_cookie", |b| {
        let mut sink = Sink(0);
        b.iter(|| session.set_cookie(&mut sink, black_box(&id)))
    });
    g.bench_function("http-session cookie::serialize", |b| {
        b.iter(|| {
            let opts = options.clone().expires(SystemTime::now() + HOUR);
            serialize("session_id", black_box(id.as_str()), &opts)
        })
    });
    g.bench_function("cookie crate", |b| {
        b.iter(|| cookie_crate(black_box(id.as_str())))
    });
    g.bench_function("format! + httpdate", |b| {
        b.iter(|| format_httpdate(black_box(id.as_str())))
    });
    g.bench_function("httpdate alone", |b| {
        b.iter(|| httpdate::fmt_http_date(black_box(SystemTime::now()) + HOUR))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! The two servers `bench/http_load.sh` drives with `wrk`:
//!
//! - `hello`: tiny_http answering every request with a fixed body after reading
//!   its `Cookie` header, the floor any session library adds to;
//! - `session`: the same server doing, on every request, what a session-backed
//!   page does: `lookup` (`from_request` that also returns the matched ID),
//!   an atomic increment of the session's counter (`update_with`), and
//!   `set_cookie` (rolling expiry).
//!
//! `cargo run --release -p http-session-bench --bin http_load_server -- session 8080 4`
//! (mode, port, worker threads). Routes of the session server: `/login` creates
//! a session `{"n":0}` and sets its cookie; `/count` reads the counter without
//! changing it; `/stats` reports how many increments the server made; anything
//! else increments it. All worker threads share one
//! `Session`, and `wrk` sends one cookie, so they all update one session.
//!
//! tiny_http's request and response are used directly, through the crate's
//! `tiny_http` adapter (on in this package's dependency on http-session).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Increments this server made, counted apart from the session: `/stats`
/// reports it, so the load script can tell a lost update (counter below this)
/// from a response the load generator did not count.
static INCREMENTS: AtomicU64 = AtomicU64::new(0);

use http_session::{Data, Request, Session};
use serde_json::{json, Value};

fn increment(data: &mut Data) -> u64 {
    let n = data.get("n").and_then(Value::as_u64).unwrap_or(0) + 1;
    if let Some(slot) = data.get_mut("n") {
        *slot = n.into();
    }
    n
}

fn hello(request: tiny_http::Request) {
    // Read the cookie header, as any page does, and ignore it.
    let cookie_len = request.header_values("cookie").map(str::len).sum::<usize>();
    std::hint::black_box(cookie_len);
    let _ = request.respond(tiny_http::Response::from_string("hello"));
}

fn session_page(session: &Session, request: tiny_http::Request) {
    let path = request.url().to_owned();
    let (status, body, id) = if path == "/login" {
        match session.create(json!({"n": 0})) {
            Ok(id) => (200, "created".to_owned(), Some(id)),
            Err(e) => (500, e.to_string(), None),
        }
    } else {
        // `lookup` is `from_request` returning the matched ID too, so the
        // cookie header is read once.
        match session.lookup(&request) {
            Ok(Some((id, data))) => match path.as_str() {
                "/count" => (200, format!("count={}", data["n"]), Some(id)),
                "/stats" => (
                    200,
                    format!("increments={}", INCREMENTS.load(Ordering::SeqCst)),
                    None,
                ),
                _ => match session.update_with(&id, increment) {
                    Ok(Some(n)) => {
                        INCREMENTS.fetch_add(1, Ordering::SeqCst);
                        (200, format!("n={n}"), Some(id))
                    }
                    Ok(None) => (401, "session gone".to_owned(), None),
                    Err(e) => (500, e.to_string(), None),
                },
            },
            Ok(None) => (401, "no session".to_owned(), None),
            Err(e) => (500, e.to_string(), None),
        }
    };
    let mut res = tiny_http::Response::from_string(body).with_status_code(status);
    if let Some(id) = id {
        if let Err(e) = session.set_cookie(&mut res, &id) {
            res = tiny_http::Response::from_string(e.to_string()).with_status_code(500);
        }
    }
    let _ = request.respond(res);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args
        .get(1)
        .map(String::as_str)
        .unwrap_or("session")
        .to_owned();
    let port: u16 = args.get(2).and_then(|p| p.parse().ok()).unwrap_or(0);
    let workers: usize = args.get(3).and_then(|w| w.parse().ok()).unwrap_or(4);

    let server = Arc::new(tiny_http::Server::http(("127.0.0.1", port)).expect("bind 127.0.0.1"));
    let session = Arc::new(
        Session::builder()
            // wrk speaks plain HTTP; `Secure` changes nothing for it but is honest.
            .cookie_options(http_session::CookieOptions::default().secure(false))
            .build()
            .expect("valid settings"),
    );
    println!(
        "{mode} server on http://{} with {workers} workers",
        server.server_addr()
    );

    let threads: Vec<_> = (0..workers)
        .map(|_| {
            let (server, session, mode) = (server.clone(), session.clone(), mode.clone());
            std::thread::spawn(move || {
                while let Ok(request) = server.recv() {
                    if mode == "hello" {
                        hello(request);
                    } else {
                        session_page(&session, request);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}

//! One session counted from many clients at once, end to end over TCP:
//! 8 clients × 50 requests with one cookie, each request a visit that the page
//! counts with `SessionHandle::update`; the counter must rise by exactly the
//! number of `200` answers (`web::counts_every_parallel_visit`).
//!
//! Here: the login example as a real process (`MemoryStore`), and an
//! in-process tiny_http server on `RedisStore` (feature `redis`). The CGI
//! example under lighttpd (`FileStore`, one process per request) is in
//! `tests/end_to_end/cgi_host.rs`, with the lighttpd harness.

use crate::common::web;

#[cfg(feature = "redis")]
use crate::common;

use web::{counts_every_parallel_visit, start_example};

#[test]
fn the_login_example_loses_no_visit_of_parallel_requests() {
    let (_server, url) = start_example("login", &[]);
    let count = counts_every_parallel_visit(&format!("{url}profile"));
    assert!(count.failures.is_empty(), "{:#?}", count.failures);
}

#[cfg(feature = "redis")]
mod redis {
    use std::io::Cursor;
    use std::sync::Arc;
    use std::thread;

    use http_session::{Error, RedisStore, Response as _, Session};
    use tiny_http::{Response, Server};

    use super::common::redis_server::shared_store;
    use super::web::counts_every_parallel_visit;

    /// A visit counter page, the README's way.
    fn profile(
        session: &Session<RedisStore>,
        request: &tiny_http::Request,
    ) -> Result<Response<Cursor<Vec<u8>>>, Error> {
        let mut handle = session.handle(request);
        let visits = handle.update("visits", |n: Option<u64>| n.unwrap_or(0) + 1)?;
        let mut response = Response::from_string(format!("<b id=\"visits\">{visits}</b>\n"));
        response.append_header("Content-Type", "text/html; charset=utf-8");
        response.append_header("Cache-Control", "no-store");
        response.append_header("Vary", "Cookie");
        handle.commit(&mut response)?;
        Ok(response)
    }

    #[test]
    fn a_tiny_http_server_on_redis_loses_no_visit_of_parallel_requests() {
        let (store, _cleanup) = shared_store();
        let session = Arc::new(Session::builder().store(store).build().unwrap());
        let server = Arc::new(Server::http("127.0.0.1:0").unwrap());
        let port = server.server_addr().to_ip().unwrap().port();
        // Four worker threads, as the login example has; they idle once the
        // test is done and end with the test process.
        for _ in 0..4 {
            let (server, session) = (Arc::clone(&server), Arc::clone(&session));
            thread::spawn(move || {
                for request in server.incoming_requests() {
                    let response = profile(&session, &request).unwrap_or_else(|e| {
                        Response::from_string(format!("{e}\n")).with_status_code(500)
                    });
                    let _ = request.respond(response);
                }
            });
        }
        let count = counts_every_parallel_visit(&format!("http://127.0.0.1:{port}/profile"));
        assert!(count.failures.is_empty(), "{:#?}", count.failures);
    }
}

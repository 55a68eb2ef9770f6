//! The README's tiny_http and rouille handlers, served on port 0 and driven by
//! a real client with a cookie jar: the visit count rises per client.

mod support;

use http_session::{Error, Session};
use support::Client;

/// Three visits with one jar count 1, 2, 3; a new client starts at 1.
fn counts_per_client(url: &str) {
    let client = Client::new();
    for visit in 1..=3 {
        let answer = client.get(url);
        assert_eq!(answer.status, 200, "{answer:?}");
        assert_eq!(answer.body, format!("visit {visit}\n"));
        support::assert_sets_session_cookie(&answer, true);
    }
    assert_eq!(Client::new().get(url).body, "visit 1\n");
}

mod tiny_http_readme {
    use super::*;
    use tiny_http::{Request, Response};

    // The README's handler, as printed there.
    fn count(
        session: &Session,
        request: &Request,
    ) -> Result<Response<std::io::Cursor<Vec<u8>>>, Error> {
        let mut handle = session.handle(request);
        let visits = handle.get::<u64>("visits")?.unwrap_or(0) + 1;
        handle.insert("visits", visits)?;
        let mut response = Response::from_string(format!("visit {visits}\n"))
            .with_header(tiny_http::Header::from_bytes("Cache-Control", "no-store").unwrap())
            .with_header(tiny_http::Header::from_bytes("Vary", "Cookie").unwrap());
        handle.commit(&mut response)?;
        Ok(response)
    }

    #[test]
    fn the_readme_tiny_http_handler_counts_visits() {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let port = server.server_addr().to_ip().unwrap().port();
        std::thread::spawn(move || {
            let session = Session::new();
            for request in server.incoming_requests() {
                let response = count(&session, &request)
                    .unwrap_or_else(|e| Response::from_string(e.to_string()).with_status_code(500));
                let _ = request.respond(response);
            }
        });
        counts_per_client(&format!("http://127.0.0.1:{port}/"));
    }
}

#[cfg(feature = "rouille")]
mod rouille_readme {
    use super::*;
    use rouille::{Request, Response};

    // The README's handler, as printed there.
    fn count(session: &Session, request: &Request) -> Result<Response, Error> {
        let mut handle = session.handle(request);
        let visits = handle.get::<u64>("visits")?.unwrap_or(0) + 1;
        handle.insert("visits", visits)?;
        let mut response = Response::text(format!("visit {visits}\n"))
            .with_additional_header("Cache-Control", "no-store")
            .with_additional_header("Vary", "Cookie");
        handle.commit(&mut response)?;
        Ok(response)
    }

    #[test]
    fn the_readme_rouille_handler_counts_visits() {
        let session = Session::new();
        let server = rouille::Server::new("127.0.0.1:0", move |request| {
            count(&session, request)
                .unwrap_or_else(|_| Response::text("try again\n").with_status_code(500))
        })
        .unwrap();
        let port = server.server_addr().port();
        let (running, stop) = server.stoppable();
        counts_per_client(&format!("http://127.0.0.1:{port}/"));
        stop.send(()).unwrap();
        running.join().unwrap();
    }
}

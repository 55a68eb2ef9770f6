//! The README's snippets, as printed there: the quick start runs, and the
//! tiny_http, rouille, http and hand-rolled handlers are served on port 0 and
//! driven by a real client with a cookie jar: the visit count rises per client.

use crate::common::web;

use crate::common::raw::{self, RawResponse};
use http_session::{Error, Session};
use web::Client;

/// The README's "Managing a user's sessions" snippet, as printed there.
#[test]
fn the_readme_user_sessions_snippet_runs() -> Result<(), Error> {
    use http_session::Headers;

    let session = Session::builder()
        .max_sessions_per_user(5) // a sixth login ends the least recently seen
        .build()?;

    // POST /login: regenerate, then bind (the handle does both on commit).
    let request = Headers::new().with("User-Agent", "Firefox/140");
    let mut handle = session.handle(&request);
    handle.insert("user", "ana")?;
    handle.regenerate()?;
    handle.set_user("ana")?;
    handle.set_client(request.get("User-Agent"), Some("192.0.2.7"));
    handle.commit(&mut Headers::new())?;

    // GET /devices: the user's sessions, most recently seen first.
    for device in session.sessions_of("ana", None)? {
        println!(
            "{:?} from {:?}, last seen {:?}, revoke with {}",
            device.user_agent, device.ip, device.last_seen, device.handle
        );
    }

    // What the comments say.
    let listed = session.sessions_of("ana", None)?;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].user_agent.as_deref(), Some("Firefox/140"));

    // POST /devices/revoke: end one (a handle of another user's does nothing).
    let handle = session.sessions_of("ana", None)?[0].handle;
    session.revoke("ana", &handle)?;
    // POST /devices/revoke-others: all but the request's own session.
    session.revoke_all("ana", None)?;

    assert!(session.sessions_of("ana", None)?.is_empty());
    assert_eq!(session.store().len(), 0);
    Ok(())
}

/// The README's quick start, as printed there (the seed's calls).
#[test]
fn the_readme_quick_start_runs() -> Result<(), Error> {
    use http_session::Headers;
    use serde_json::json;

    let session = Session::new(); // memory store, cookie "session_id"

    let mut res = Headers::new(); // GET /login
    let id = session.create(json!({"userId": "123"}))?;
    session.set_cookie(&mut res, &id)?; // Set-Cookie: session_id=…; HttpOnly; Secure; SameSite=Lax

    let req = Headers::new().with("Cookie", &format!("session_id={id}"));
    let user = session.from_request(&req)?; // GET /profile: Some({"userId": "123"})

    let (id, _data) = session.lookup(&req)?.unwrap(); // GET /update-role: the ID the store knows
    session.update(&id, json!({"role": "admin"}))?; // shallow merge, atomic

    session.delete(&id, &mut res)?; // GET /logout: store entry gone, cookie cleared

    // What the comments say.
    assert_eq!(user.unwrap()["userId"], "123");
    let cookies: Vec<&str> = res
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("Set-Cookie"))
        .map(|(_, value)| value)
        .collect();
    assert!(cookies[0].starts_with(&format!("session_id={id};")));
    assert!(cookies[0].ends_with("; HttpOnly; Secure; SameSite=Lax"));
    assert!(cookies[1].contains("Max-Age=0"), "{cookies:?}");
    assert_eq!(session.from_request(&req)?, None);
    Ok(())
}

/// Three visits with one jar count 1, 2, 3; a new client starts at 1.
fn counts_per_client(url: &str) {
    let client = Client::new();
    for visit in 1..=3 {
        let answer = client.get(url);
        assert_eq!(answer.status, 200, "{answer:?}");
        assert_eq!(answer.body, format!("visit {visit}\n"));
        web::assert_sets_session_cookie(&answer, true);
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
        let visits = handle.update("visits", |n: Option<u64>| n.unwrap_or(0) + 1)?;
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
        let visits = handle.update("visits", |n: Option<u64>| n.unwrap_or(0) + 1)?;
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

#[cfg(feature = "http")]
pub(crate) mod http_readme {
    use super::*;
    use http::header::{HeaderValue, CACHE_CONTROL, VARY};

    // The README's handler, as printed there.
    fn count(
        session: &Session,
        request: &http::Request<()>,
    ) -> Result<http::Response<String>, Error> {
        let mut handle = session.handle(request);
        let visits = handle.update("visits", |n: Option<u64>| n.unwrap_or(0) + 1)?;
        let mut response = http::Response::new(format!("visit {visits}\n"));
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
            .headers_mut()
            .insert(VARY, HeaderValue::from_static("Cookie"));
        handle.commit(&mut response)?;
        Ok(response)
    }

    /// Serves the handler on a free port over a hand-rolled loop; its port.
    pub(crate) fn serve() -> u16 {
        let session = Session::new();
        raw::serve(move |raw| {
            let mut request = http::Request::builder()
                .method(raw.method.as_str())
                .uri(raw.path.as_str());
            for (name, value) in &raw.headers {
                request = request.header(name.as_str(), value.as_str());
            }
            let request = request.body(()).expect("a valid request");
            match count(&session, &request) {
                Ok(response) => RawResponse {
                    status: response.status().as_u16(),
                    headers: response
                        .headers()
                        .iter()
                        .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
                        .collect(),
                    body: response.into_body(),
                },
                Err(e) => RawResponse {
                    status: 500,
                    headers: Vec::new(),
                    body: e.to_string(),
                },
            }
        })
    }

    #[test]
    fn the_readme_http_handler_counts_visits() {
        let port = serve();
        counts_per_client(&format!("http://127.0.0.1:{port}/"));
    }
}

pub(crate) mod hand_rolled_readme {
    use super::*;
    use http_session::Headers;

    /// `GET /` counts visits, `POST /reset` ends the session.
    // The README's handler, as printed there.
    fn counter(
        session: &Session,
        method: &str,
        request: &Headers,
    ) -> Result<(Headers, String), Error> {
        let mut handle = session.handle(request);
        let body = if method == "POST" {
            handle.destroy()?;
            "reset\n".to_owned()
        } else {
            let visits = handle.update("visits", |n: Option<u64>| n.unwrap_or(0) + 1)?;
            format!("visit {visits}\n")
        };
        let mut response = Headers::new()
            .with("Content-Type", "text/plain; charset=utf-8")
            .with("Cache-Control", "no-store")
            .with("Vary", "Cookie");
        handle.commit(&mut response)?;
        Ok((response, body))
    }

    /// Serves the handler on a free port over a hand-rolled loop; its URL.
    pub(crate) fn start() -> String {
        let session = Session::new();
        let port = raw::serve(move |raw| {
            let request: Headers = raw
                .headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            match counter(&session, &raw.method, &request) {
                Ok((headers, body)) => RawResponse {
                    status: 200,
                    headers: headers
                        .iter()
                        .map(|(n, v)| (n.to_owned(), v.to_owned()))
                        .collect(),
                    body,
                },
                Err(e) => RawResponse {
                    status: 500,
                    headers: Vec::new(),
                    body: e.to_string(),
                },
            }
        });
        format!("http://127.0.0.1:{port}/")
    }

    #[test]
    fn the_readme_hand_rolled_handler_counts_visits_and_resets() {
        let url = start();
        counts_per_client(&url);
        let client = Client::new();
        assert_eq!(client.get(&url).body, "visit 1\n");
        let reset = client.post(&format!("{url}reset"), &[]);
        assert_eq!(reset.body, "reset\n");
        assert!(reset.set_cookies()[0].contains("Max-Age=0"), "{reset:?}");
        assert_eq!(client.get(&url).body, "visit 1\n", "a new session");
    }
}

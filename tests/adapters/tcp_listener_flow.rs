//! The README's hand-rolled server: a `TcpListener` loop, `Headers` for the
//! request and the response, and the per-request handle; driven over TCP by a
//! real client with a cookie jar.

use crate::common::web;

use crate::common::raw::{self, RawResponse};
use http_session::{Error, Headers, Session};
use web::Client;

/// A handler as the README writes it: `GET /` counts visits, `POST /reset` ends the session.
fn counter(session: &Session, method: &str, request: &Headers) -> Result<(Headers, String), Error> {
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

fn start() -> String {
    let session = Session::new();
    let port = raw::serve(move |request| {
        let headers: Headers = request
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        match counter(&session, &request.method, &headers) {
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
fn visits_rise_in_the_jar_and_a_reset_ends_the_session() {
    let url = start();
    let client = Client::new();
    for visit in 1..=3 {
        let answer = client.get(&url);
        assert_eq!(answer.body, format!("visit {visit}\n"));
        web::assert_sets_session_cookie(&answer, true);
    }
    let old = client.session_cookie().unwrap();
    let reset = client.post(&format!("{url}reset"), &[]);
    assert!(reset.set_cookies()[0].contains("Max-Age=0"));
    assert_eq!(client.session_cookie(), None);
    assert_eq!(client.get(&url).body, "visit 1\n");
    assert_eq!(
        Client::get_with_cookie(&url, &old).body,
        "visit 1\n",
        "the old cookie counts for nothing"
    );
}

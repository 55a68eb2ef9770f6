//! The README's `http` handler (the types hyper and axum use), served by a
//! hand-rolled `TcpListener` loop and driven by a real client with a cookie jar.

use crate::common::web;

use crate::common::raw::{self, RawResponse};
use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, VARY};
use http_session::{Error, Session};
use web::Client;

/// A handler as the README writes it: counts visits in the session.
fn counter(
    session: &Session,
    request: &http::Request<()>,
) -> Result<http::Response<String>, Error> {
    let mut handle = session.handle(request);
    let visits = handle.update("visits", |n: Option<u64>| n.unwrap_or(0) + 1)?;
    let mut response = http::Response::new(format!("visit {visits}\n"));
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(VARY, HeaderValue::from_static("Cookie"));
    handle.commit(&mut response)?;
    Ok(response)
}

#[test]
fn visits_rise_through_http_request_and_response() {
    let session = Session::new();
    let port = raw::serve(move |raw| {
        let mut request = http::Request::builder()
            .method(raw.method.as_str())
            .uri(raw.path.as_str());
        for (name, value) in &raw.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let request = request.body(()).expect("a valid request");
        match counter(&session, &request) {
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
    });
    let url = format!("http://127.0.0.1:{port}/");
    let client = Client::new();
    for visit in 1..=3 {
        let answer = client.get(&url);
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body, format!("visit {visit}\n"));
        web::assert_sets_session_cookie(&answer, true);
    }
    assert_eq!(
        Client::new().get(&url).body,
        "visit 1\n",
        "another client, another session"
    );
}

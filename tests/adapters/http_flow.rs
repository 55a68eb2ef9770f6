//! The README's `http` handler (the types hyper and axum use), served by a
//! hand-rolled `TcpListener` loop and driven by a real client with a cookie jar.

use crate::common::web;

use web::Client;

#[test]
fn visits_rise_through_http_request_and_response() {
    // The README's handler, served over a hand-rolled loop.
    let port = crate::readme_handlers::http_readme::serve();
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

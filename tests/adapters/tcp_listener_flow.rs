//! The README's hand-rolled server: a `TcpListener` loop, `Headers` for the
//! request and the response, and the per-request handle; driven over TCP by a
//! real client with a cookie jar.

use crate::common::web;

use web::Client;

/// The README's handler, served over a hand-rolled loop.
fn start() -> String {
    crate::readme_handlers::hand_rolled_readme::start()
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

//! `Max-Age` is written in whole seconds, a fraction rounded up: `Max-Age=0`
//! deletes a cookie, so a lifetime under a second must never round down to it.
//! Only a zero duration writes `Max-Age=0`.

use std::time::Duration;

use http_session::cookie::{self, CookieOptions};
use http_session::{Headers, Session};
use serde_json::json;

fn max_age_written(max_age: Duration) -> String {
    let header = cookie::serialize("id", "42", &CookieOptions::default().max_age(max_age)).unwrap();
    let attribute = header
        .split("; ")
        .find(|a| a.starts_with("Max-Age="))
        .unwrap_or_else(|| panic!("no Max-Age in {header}"));
    attribute["Max-Age=".len()..].to_owned()
}

#[test]
fn a_fraction_of_a_second_rounds_up() {
    assert_eq!(max_age_written(Duration::from_millis(999)), "1");
    assert_eq!(max_age_written(Duration::from_nanos(1)), "1");
    assert_eq!(max_age_written(Duration::from_millis(1_500)), "2");
    assert_eq!(max_age_written(Duration::from_millis(3_599_001)), "3600");
}

#[test]
fn whole_seconds_are_written_as_they_are() {
    assert_eq!(max_age_written(Duration::from_secs(1)), "1");
    assert_eq!(max_age_written(Duration::from_secs(3_600)), "3600");
}

#[test]
fn zero_still_deletes() {
    assert_eq!(max_age_written(Duration::ZERO), "0");
}

#[test]
fn the_longest_duration_does_not_overflow() {
    assert_eq!(max_age_written(Duration::MAX), u64::MAX.to_string());
}

#[test]
fn set_cookie_with_keeps_a_sub_second_cookie() {
    let session = Session::new();
    let id = session.create(json!({"user": "ana"})).unwrap();
    let mut response = Headers::new();
    let options = CookieOptions::default().max_age(Duration::from_millis(999));
    session
        .set_cookie_with(&mut response, &id, &options)
        .unwrap();
    let header = response.get("Set-Cookie").unwrap();
    assert!(
        header.starts_with(&format!("session_id={id}; Path=/; Max-Age=1; ")),
        "{header}"
    );
}

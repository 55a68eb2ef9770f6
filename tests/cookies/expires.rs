//! `set_cookie_with` writes `Expires` beside a `Max-Age`, as `set_cookie`
//! does: browsers that know only `Expires` (old IE, some embedded clients)
//! would otherwise keep the session cookie until the browser closes, or
//! forever, instead of letting it lapse with the session.

use std::time::{Duration, SystemTime};

use http_session::cookie::CookieOptions;
use http_session::{Headers, ManualClock, Session};
use serde_json::json;

fn attribute<'h>(header: &'h str, name: &str) -> Option<&'h str> {
    header
        .split("; ")
        .find_map(|a| a.strip_prefix(name)?.strip_prefix('='))
}

#[test]
fn a_max_age_gets_the_matching_expires_by_the_sessions_clock() {
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let clock = ManualClock::new(start);
    let session = Session::builder().clock(clock.clock()).build().unwrap();
    let id = session.create(json!({"user": "ana"})).unwrap();
    let mut res = Headers::new();
    let options = CookieOptions::default().max_age(Duration::from_secs(3600));
    session.set_cookie_with(&mut res, &id, &options).unwrap();
    let header = res.get("Set-Cookie").unwrap();
    assert_eq!(attribute(header, "Max-Age"), Some("3600"), "{header}");
    let expected = httpdate::fmt_http_date(start + Duration::from_secs(3600));
    assert_eq!(
        attribute(header, "Expires"),
        Some(expected.as_str()),
        "{header}"
    );
}

#[test]
fn an_expires_in_the_options_is_kept_and_none_is_added_without_a_max_age() {
    let session = Session::new();
    let id = session.create(json!({})).unwrap();
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000);
    let mut res = Headers::new();
    let options = CookieOptions::default()
        .max_age(Duration::from_secs(60))
        .expires(at);
    session.set_cookie_with(&mut res, &id, &options).unwrap();
    let header = res.get("Set-Cookie").unwrap();
    let expected = httpdate::fmt_http_date(at);
    assert_eq!(attribute(header, "Expires"), Some(expected.as_str()));

    // No Max-Age asked for: a browser-session cookie, no Expires either.
    let mut res = Headers::new();
    session
        .set_cookie_with(&mut res, &id, &CookieOptions::default())
        .unwrap();
    let header = res.get("Set-Cookie").unwrap();
    assert_eq!(attribute(header, "Expires"), None, "{header}");
    assert_eq!(attribute(header, "Max-Age"), None, "{header}");
}

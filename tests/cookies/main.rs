//! Cookies: the `Cookie` request header parser and the `Set-Cookie`
//! serializer, through the public API, including how the session picks its
//! cookie among others and `__Host-` cookies end to end; `Max-Age` rounding,
//! `Expires`, cookie tossing, and `HTTP_COOKIE` in CGI requests.

#[path = "../common/mod.rs"]
mod common;

mod cgi_cookie_header;
mod expires;
mod max_age;
mod tossing;

use common::CountingStore;
use http_session::cookie::{self, CookieOptions, SameSite};
use http_session::{Error, Headers, MemoryStore, Session, SessionId};
use proptest::prelude::*;
use serde_json::json;
use std::time::{Duration, UNIX_EPOCH};

fn pairs(header: &str) -> Vec<(&str, &str)> {
    cookie::parse(header).collect()
}

#[test]
fn whitespace_quotes_and_separators() {
    assert_eq!(
        pairs("  a = 1 ;\tb=\"two words\";c=\"\";  d=x=y=; ;e=;"),
        [
            ("a", "1"),
            ("b", "two words"),
            ("c", ""),
            ("d", "x=y="),
            ("e", "")
        ]
    );
}

#[test]
fn missing_equals_and_empty_names_are_skipped() {
    assert_eq!(pairs("flag; =v; = ; a=1; secure"), [("a", "1")]);
}

#[test]
fn trailing_and_repeated_semicolons() {
    assert_eq!(pairs("a=1;"), [("a", "1")]);
    assert_eq!(pairs("a=1;;;;b=2;;"), [("a", "1"), ("b", "2")]);
}

#[test]
fn non_ascii_is_kept_untouched() {
    assert_eq!(
        pairs("naïve=café; 名前=値"),
        [("naïve", "café"), ("名前", "値")]
    );
}

#[test]
fn one_megabyte_header() {
    let value = "v".repeat(1 << 20);
    let header = format!("big={value}; small=1");
    let got = pairs(&header);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].1.len(), 1 << 20);
    assert_eq!(got[1], ("small", "1"));

    let junk = ";=\"".repeat(350_000);
    assert_eq!(pairs(&junk), []);
}

#[test]
fn ten_thousand_cookies() {
    let header: String = (0..10_000).map(|i| format!("c{i}={i}; ")).collect();
    let got = pairs(&header);
    assert_eq!(got.len(), 10_000);
    assert_eq!(got[9_999], ("c9999", "9999"));
}

#[test]
fn session_cookie_found_among_others() {
    let session = Session::new();
    let id = session.create(json!({"user": "ana"})).unwrap();
    let header = format!(
        "_ga=GA1.2.3; theme=\"dark\"; session_idx=nope; session_id={id}; lang=pt; _gid=xyz"
    );
    let req = Headers::new().with("Cookie", &header);
    assert_eq!(session.id_from_request(&req), Some(id.clone()));
    assert_eq!(session.from_request(&req).unwrap().unwrap()["user"], "ana");
}

#[test]
fn quoted_session_cookie_is_read() {
    let session = Session::new();
    let id = session.create(json!({"user": "ana"})).unwrap();
    let req = Headers::new().with("Cookie", &format!("session_id=\"{id}\""));
    assert!(session.from_request(&req).unwrap().is_some());
}

#[test]
fn several_session_cookies_the_one_known_wins() {
    let session = Session::with_store(CountingStore::new(MemoryStore::new()));
    let known = session.create(json!({"user": "ana"})).unwrap();
    let unknown = SessionId::generate();
    let header = format!("session_id=garbage; session_id={unknown}; session_id={known}");
    let req = Headers::new().with("Cookie", &header);
    let before = session.store().gets();
    let (id, data) = session.lookup(&req).unwrap().unwrap();
    assert_eq!(id, known);
    assert_eq!(data["user"], "ana");
    // garbage never reached the store; unknown and known did
    assert_eq!(session.store().gets() - before, 2);
    // id_from_request is the first well-formed one, known or not
    assert_eq!(session.id_from_request(&req), Some(unknown));
}

#[test]
fn cookie_headers_sent_more_than_once_are_all_read() {
    let session = Session::new();
    let id = session.create(json!({"n": 1})).unwrap();
    let req = Headers::new()
        .with("Cookie", "a=1; b=2")
        .with("cookie", &format!("session_id={id}"));
    assert!(session.from_request(&req).unwrap().is_some());
}

#[test]
fn set_cookie_every_attribute() {
    let opts = CookieOptions::default()
        .path("/app")
        .domain("example.com")
        .max_age(Duration::from_secs(3600))
        .expires(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        .same_site(SameSite::None)
        .partitioned(true);
    assert_eq!(
        cookie::serialize("sid", "abc", &opts).unwrap(),
        "sid=abc; Path=/app; Domain=example.com; Max-Age=3600; \
         Expires=Tue, 14 Nov 2023 22:13:20 GMT; HttpOnly; Secure; SameSite=None; Partitioned"
    );
}

#[test]
fn set_cookie_refusals_write_no_header() {
    let session = Session::new();
    let id = session.create(json!({})).unwrap();
    let bad = [
        CookieOptions::default().path("/a;b"),
        CookieOptions::default().path("/a\r\nSet-Cookie: x=y"),
        CookieOptions::default().domain("evil.example; Secure"),
        CookieOptions::default()
            .secure(false)
            .same_site(SameSite::None),
        CookieOptions::default().secure(false).partitioned(true),
        CookieOptions::default().expires(UNIX_EPOCH - Duration::from_secs(1)),
    ];
    for opts in bad {
        let mut res = Headers::new();
        assert!(session.set_cookie_with(&mut res, &id, &opts).is_err());
        assert!(res.is_empty(), "no header on error: {opts:?}");
    }
}

#[test]
fn builder_refuses_bad_cookie_settings_at_start_up() {
    let cases = [
        Session::builder().cookie_name("").build(),
        Session::builder().cookie_name("a b").build(),
        Session::builder().cookie_name("sid\r\n").build(),
        Session::builder()
            .cookie_name("__Host-sid")
            .cookie_options(CookieOptions::default().path("/app"))
            .build(),
        Session::builder()
            .cookie_name("__Secure-sid")
            .cookie_options(CookieOptions::default().secure(false))
            .build(),
        Session::builder()
            .cookie_options(CookieOptions::default().domain("a;b"))
            .build(),
        Session::builder()
            .cookie_options(CookieOptions::default().max_age(Duration::from_millis(500)))
            .build(),
    ];
    for case in cases {
        assert!(case.is_err());
    }
    let host = Session::builder()
        .cookie_name("__Host-sid")
        .build()
        .unwrap();
    let id = host.create(json!({})).unwrap();
    let mut res = Headers::new();
    host.set_cookie(&mut res, &id).unwrap();
    assert!(res.get("Set-Cookie").unwrap().starts_with("__Host-sid="));
}

#[test]
fn removal_matches_the_original_path_and_domain() {
    let session = Session::builder()
        .cookie_options(CookieOptions::default().path("/app").domain("example.com"))
        .build()
        .unwrap();
    let id = session.create(json!({})).unwrap();
    let mut res = Headers::new();
    session.delete(&id, &mut res).unwrap();
    let header = res.get("Set-Cookie").unwrap();
    assert!(
        header.contains("; Path=/app; Domain=example.com; Max-Age=0;"),
        "{header}"
    );
}

#[test]
fn invalid_value_error_says_where() {
    let err = cookie::serialize("a", "ok bad", &CookieOptions::default()).unwrap_err();
    assert!(matches!(err, Error::InvalidCookieValue { position: 2 }));
    assert!(err.to_string().contains("byte 2"));
}

fn token() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}").unwrap()
}

fn cookie_value() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[!#-+\\--:<-\\[\\]-~]{0,40}").unwrap()
}

proptest! {
    #[test]
    fn parser_never_panics(header in any::<String>()) {
        for (name, value) in cookie::parse(&header) {
            prop_assert!(!name.is_empty());
            prop_assert!(!name.contains(';') && !value.contains(';'));
        }
    }

    #[test]
    fn parser_never_panics_on_cookie_shaped_noise(header in "[a-z=; \t\"]{0,200}") {
        let n = cookie::parse(&header).count();
        prop_assert!(n <= header.len());
    }

    #[test]
    fn serialized_cookies_parse_back(name in token(), value in cookie_value(), path in "/[a-z/]{0,10}", max_age in 1u64..10_000_000) {
        let opts = CookieOptions::default().path(&path).max_age(Duration::from_secs(max_age));
        let header = cookie::serialize(&name, &value, &opts).unwrap();
        prop_assert!(!header.contains('\r') && !header.contains('\n'));
        // A browser sends back the part before the first ';'.
        let sent_back = header.split(';').next().unwrap();
        let got: Vec<_> = cookie::parse(sent_back).collect();
        prop_assert_eq!(got, vec![(name.as_str(), value.as_str())]);
    }

    #[test]
    fn serializer_refuses_or_stays_on_one_line(name in any::<String>(), value in any::<String>(), path in any::<String>()) {
        if let Ok(header) = cookie::serialize(&name, &value, &CookieOptions::default().path(&path)) {
            prop_assert!(!header.bytes().any(|b| b.is_ascii_control()));
            let first = cookie::parse(header.split(';').next().unwrap()).next();
            prop_assert_eq!(first, Some((name.as_str(), value.as_str())));
        }
    }
}

/// ASVS 3.3.1 and 3.3.3: a `__Host-` name gives a cookie that no subdomain and
/// no other path can set or shadow. The builder accepts it with the defaults
/// and refuses any option that would break the prefix's rules.
#[test]
fn a_host_prefixed_session_cookie_works_end_to_end() {
    let session = Session::builder().cookie_name("__Host-id").build().unwrap();
    let id = session.create(json!({"user": "ana"})).unwrap();
    let mut res = Headers::new();
    session.set_cookie(&mut res, &id).unwrap();
    let header = res.get("Set-Cookie").unwrap();
    assert!(
        header.starts_with(&format!("__Host-id={id}; Path=/;")),
        "{header}"
    );
    assert!(
        header.contains("; Secure") && !header.contains("Domain"),
        "{header}"
    );

    let req = Headers::new().with("Cookie", &format!("__Host-id={id}"));
    assert!(session.from_request(&req).unwrap().is_some());

    for options in [
        CookieOptions::default().secure(false),
        CookieOptions::default().domain("example.com"),
        CookieOptions::default().path("/app"),
    ] {
        let refused = Session::builder()
            .cookie_name("__Host-id")
            .cookie_options(options.clone())
            .build();
        assert!(
            matches!(refused, Err(Error::InvalidCookieAttribute { .. })),
            "{options:?}"
        );
    }
}

//! Every example of the seed's documentation (the TypeScript `Session` class),
//! written against this crate.

use crate::common;

use std::time::Duration;

use common::{cookie_pair, MapStore};
use http_session::cookie::CookieOptions;
use http_session::{Headers, Request, Session};
use serde_json::json;

/// The browser's side: the cookie a `Set-Cookie` response header hands back.
fn browser_request(res: &Headers) -> Headers {
    let set_cookie = res.get("Set-Cookie").expect("a Set-Cookie header");
    Headers::new().with("Cookie", cookie_pair(set_cookie))
}

#[test]
fn getting_started_defaults() {
    let session = Session::new();
    assert_eq!(session.cookie_name(), "session_id");
    assert_eq!(session.store().len(), 0);
}

#[test]
fn creating_a_session_and_setting_the_cookie() {
    let session = Session::new();
    let session_id = session.create(json!({"userId": "123"})).unwrap();
    let mut res = Headers::new();
    let options = CookieOptions::default().http_only(true).secure(true);
    session
        .set_cookie_with(&mut res, &session_id, &options)
        .unwrap();

    let header = res.get("Set-Cookie").unwrap();
    assert!(header.starts_with(&format!("session_id={session_id};")));
    assert!(header.contains("; HttpOnly"));
    assert!(header.contains("; Secure"));
    assert_eq!(
        session.get(&session_id).unwrap().unwrap(),
        *json!({"userId": "123"}).as_object().unwrap()
    );
}

#[test]
fn retrieving_a_session_from_the_request() {
    let session = Session::new();
    let id = session.create(json!({"userId": "123"})).unwrap();
    let mut res = Headers::new();
    session.set_cookie(&mut res, &id).unwrap();

    // authenticated
    let user = session.from_request(&browser_request(&res)).unwrap();
    assert_eq!(user.unwrap()["userId"], "123");

    // unauthenticated: no cookie, another cookie, a cookie naming nothing
    assert_eq!(session.from_request(&Headers::new()).unwrap(), None);
    let other = Headers::new().with("Cookie", "theme=dark");
    assert_eq!(session.from_request(&other).unwrap(), None);
    let stale = Headers::new().with(
        "Cookie",
        &format!("session_id={}", http_session::SessionId::generate()),
    );
    assert_eq!(session.from_request(&stale).unwrap(), None);
}

#[test]
fn updating_a_session_merges() {
    let session = Session::new();
    let id = session
        .create(json!({"userId": "123", "role": "user"}))
        .unwrap();
    let req = Headers::new().with("Cookie", &format!("session_id={id}"));

    let session_id = session.id_from_request(&req).unwrap();
    assert!(session
        .update(&session_id, json!({"role": "admin"}))
        .unwrap());
    assert_eq!(
        session.get(&id).unwrap().unwrap(),
        *json!({"userId": "123", "role": "admin"})
            .as_object()
            .unwrap()
    );

    // "Session not found."
    let unknown = http_session::SessionId::generate();
    assert!(!session.update(&unknown, json!({"role": "admin"})).unwrap());
    assert_eq!(session.get(&unknown).unwrap(), None);
}

#[test]
fn deleting_a_session_clears_the_cookie() {
    let session = Session::new();
    let id = session.create(json!({"userId": "123"})).unwrap();
    let req = Headers::new().with("Cookie", &format!("session_id={id}"));

    let mut res = Headers::new();
    match session.id_from_request(&req) {
        Some(session_id) => session.delete(&session_id, &mut res).unwrap(),
        None => panic!("the cookie carries a session"),
    }
    assert_eq!(session.get(&id).unwrap(), None);
    assert_eq!(session.store().len(), 0);
    let clearing = res.get("Set-Cookie").unwrap();
    assert!(clearing.starts_with("session_id=;"));
    assert!(clearing.contains("Max-Age=0"));
    assert!(clearing.contains("Expires=Thu, 01 Jan 1970 00:00:00 GMT"));
    assert_eq!(session.from_request(&req).unwrap(), None);

    // "No session to delete."
    assert_eq!(session.id_from_request(&Headers::new()), None);
}

#[test]
fn setting_the_cookie_with_max_age() {
    let session = Session::new();
    let id = session.create(json!({})).unwrap();
    let mut res = Headers::new();
    let options = CookieOptions::default()
        .http_only(true)
        .secure(true)
        .max_age(Duration::from_secs(3600));
    session.set_cookie_with(&mut res, &id, &options).unwrap();
    let header = res.get("Set-Cookie").unwrap();
    assert!(header.contains("; Max-Age=3600"), "{header}");
    assert_eq!(res.header_values("set-cookie").count(), 1);
}

#[test]
fn custom_cookie_name() {
    let session = Session::builder()
        .cookie_name("my_custom_cookie")
        .build()
        .unwrap();
    let id = session.create(json!({"userId": "123"})).unwrap();
    let mut res = Headers::new();
    session.set_cookie(&mut res, &id).unwrap();
    assert!(res
        .get("Set-Cookie")
        .unwrap()
        .starts_with("my_custom_cookie="));
    assert!(session
        .from_request(&browser_request(&res))
        .unwrap()
        .is_some());

    // The default name is not read any more.
    let req = Headers::new().with("Cookie", &format!("session_id={id}"));
    assert_eq!(session.from_request(&req).unwrap(), None);
}

#[test]
fn custom_store_with_only_get_set_delete() {
    let session = Session::with_store(MapStore::default());
    let id = session.create(json!({"userId": "123"})).unwrap();
    assert_eq!(session.get(&id).unwrap().unwrap()["userId"], "123");
    assert!(session.update(&id, json!({"role": "admin"})).unwrap());
    assert_eq!(session.get(&id).unwrap().unwrap()["role"], "admin");
    let mut res = Headers::new();
    session.delete(&id, &mut res).unwrap();
    assert_eq!(session.get(&id).unwrap(), None);
    assert!(session.store().0.lock().unwrap().is_empty());
}

#[test]
fn full_seed_flow_with_typed_data() {
    #[derive(serde::Serialize)]
    struct Login<'a> {
        #[serde(rename = "userId")]
        user_id: &'a str,
    }
    let session = Session::new();
    let id = session.create(Login { user_id: "123" }).unwrap();
    let mut res = Headers::new();
    session.set_cookie(&mut res, &id).unwrap();
    let req = browser_request(&res);
    assert_eq!(
        session.from_request(&req).unwrap().unwrap()["userId"],
        "123"
    );
}

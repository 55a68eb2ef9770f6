//! `HTTP_COOKIE` in a CGI request is read as browsers write the `Cookie`
//! header: a cookie value runs to `;` (RFC 6265bis §5.6), so a comma is part
//! of the value it stands in and never starts another cookie.

use http_session::cookie;
use http_session::{CgiRequest, Request, Session};
use serde_json::json;

fn cgi_request(cookie_header: &str) -> CgiRequest {
    CgiRequest::from_vars([("HTTP_COOKIE", cookie_header)])
}

fn cookies(request: &CgiRequest) -> Vec<(String, String)> {
    request
        .header_values("Cookie")
        .flat_map(cookie::parse)
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
}

#[test]
fn a_session_id_after_a_comma_belongs_to_the_cookie_before_it() {
    let session = Session::new();
    let id = session.create(json!({"user": "ana"})).unwrap();
    let request = cgi_request(&format!("pref=x,session_id={id}"));

    assert_eq!(
        cookies(&request),
        [("pref".to_owned(), format!("x,session_id={id}"))]
    );
    assert_eq!(session.id_from_request(&request), None);
    assert_eq!(session.from_request(&request).unwrap(), None);
}

#[test]
fn a_comma_does_not_smuggle_a_host_prefixed_cookie() {
    // A `__Host-` cookie can only be set by the host itself, over HTTPS, for
    // the whole site; a subdomain or plain-HTTP page can set `pref` to a value
    // that looks like one after a comma.
    let session = Session::builder()
        .cookie_name("__Host-sid")
        .build()
        .unwrap();
    let id = session.create(json!({"user": "ana"})).unwrap();
    let request = cgi_request(&format!("pref=x,__Host-sid={id}"));

    assert_eq!(
        cookies(&request),
        [("pref".to_owned(), format!("x,__Host-sid={id}"))]
    );
    assert_eq!(session.id_from_request(&request), None);
    assert_eq!(session.from_request(&request).unwrap(), None);

    // The real `__Host-` cookie, after a `;`, is found as ever.
    let request = cgi_request(&format!("pref=x; __Host-sid={id}"));
    assert_eq!(
        session.from_request(&request).unwrap().unwrap()["user"],
        "ana"
    );
}

#[test]
fn the_cookie_variable_is_one_header_value() {
    let request = cgi_request("a=1, b=2,c=3; d=4");
    assert_eq!(
        request.header_values("cookie").collect::<Vec<_>>(),
        ["a=1, b=2,c=3; d=4"]
    );
}

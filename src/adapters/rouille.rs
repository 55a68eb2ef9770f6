//! [rouille](https://docs.rs/rouille): [`Request`] for `rouille::Request` and
//! [`Response`] for `rouille::Response` (cargo feature `rouille`).
//!
//! ```no_run
//! use http_session::Session;
//!
//! let session = Session::new();
//! rouille::start_server("127.0.0.1:8080", move |request| {
//!     let mut handle = session.handle(request);
//!     let visits = handle.update("visits", |n: Option<u64>| n.unwrap_or(0) + 1).unwrap_or(0);
//!     let mut response = rouille::Response::text(format!("visit {visits}\n"));
//!     match handle.commit(&mut response) {
//!         Ok(_) => response,
//!         Err(_) => rouille::Response::text("session store failed\n").with_status_code(500),
//!     }
//! });
//! ```

use crate::{Request, Response};

/// Reads the request's headers; a repeated header yields every copy.
impl Request for ::rouille::Request {
    fn header(&self, name: &str) -> Option<&str> {
        ::rouille::Request::header(self, name)
    }

    fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
}

/// Pushes onto `headers`, which keeps every `Set-Cookie`.
///
/// rouille hands headers to tiny_http, which writes them to the wire as they
/// are, so a header whose name is not a token or whose value holds CR, LF, NUL
/// or another control character (but tab) is dropped here: it would split the
/// response.
impl Response for ::rouille::Response {
    fn append_header(&mut self, name: &str, value: &str) {
        if !(crate::headers::is_token(name) && crate::headers::is_field_value(value)) {
            return;
        }
        self.headers
            .push((name.to_owned().into(), value.to_owned().into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)]) -> ::rouille::Request {
        let headers = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        ::rouille::Request::fake_http("GET", "/", headers, Vec::new())
    }

    #[test]
    fn reads_every_cookie_header() {
        let req = request(&[("Cookie", "a=1"), ("Host", "x"), ("cookie", "b=2")]);
        assert_eq!(Request::header(&req, "COOKIE"), Some("a=1"));
        assert_eq!(
            req.header_values("Cookie").collect::<Vec<_>>(),
            ["a=1", "b=2"]
        );
        assert_eq!(req.header_values("Missing").count(), 0);
    }

    #[test]
    fn the_session_is_found_in_the_second_cookie_header() {
        let session = crate::Session::new();
        let id = session.create(serde_json::json!({"user": "ana"})).unwrap();
        let cookie = format!("session_id={id}");
        let req = request(&[("Cookie", "theme=dark"), ("Cookie", &cookie)]);
        assert_eq!(session.from_request(&req).unwrap().unwrap()["user"], "ana");
    }

    #[test]
    fn set_cookie_headers_stay_apart() {
        let mut res = ::rouille::Response::text("ok");
        res.append_header("Set-Cookie", "a=1");
        res.append_header("Set-Cookie", "b=2");
        let cookies: Vec<_> = res
            .headers
            .iter()
            .filter(|(n, _)| n == "Set-Cookie")
            .map(|(_, v)| v.to_string())
            .collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
    }
}

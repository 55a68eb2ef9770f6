//! The [http](https://docs.rs/http) crate's types (cargo feature `http`):
//! [`Request`] for `http::Request<B>`, `http::request::Parts` and
//! `http::HeaderMap`; [`Response`] for `http::Response<B>`,
//! `http::response::Parts` and `http::HeaderMap`. hyper and axum use these
//! types, so their users plug in here (in axum, extract the `HeaderMap` and
//! return `(HeaderMap, body)`; call the blocking store with
//! `tokio::task::spawn_blocking` if it does I/O).
//!
//! ```
//! use http_session::Session;
//!
//! let session = Session::new();
//!
//! // GET /login
//! let mut response = http::Response::new("logged in");
//! let id = session.create(serde_json::json!({"user": "ana"}))?;
//! session.set_cookie(&mut response, &id)?;
//! let set_cookie = response.headers()["set-cookie"].to_str().unwrap();
//!
//! // GET /profile, with the cookie sent back
//! let request = http::Request::builder()
//!     .header("cookie", set_cookie.split(';').next().unwrap())
//!     .body(())
//!     .unwrap();
//! assert_eq!(session.from_request(&request)?.unwrap()["user"], "ana");
//! # Ok::<(), http_session::Error>(())
//! ```
//!
//! A header value that is not UTF-8 is skipped (tried no further), and a name
//! or value that `http` refuses (control characters, for one) is dropped.

use ::http::header::{HeaderMap, HeaderName, HeaderValue};

use crate::{Request, Response};

fn text(value: &HeaderValue) -> Option<&str> {
    std::str::from_utf8(value.as_bytes()).ok()
}

/// Case-insensitive, as `http` stores names in lowercase; non-UTF-8 values skipped.
impl Request for HeaderMap {
    fn header(&self, name: &str) -> Option<&str> {
        self.get_all(name).iter().find_map(text)
    }

    fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.get_all(name).iter().filter_map(text)
    }
}

/// Appends (`HeaderMap::append`), so every `Set-Cookie` is kept.
impl Response for HeaderMap {
    fn append_header(&mut self, name: &str, value: &str) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            self.append(name, value);
        }
    }
}

macro_rules! through_headers {
    ($request:ty, $response:ty) => {
        /// Reads the headers, as for `HeaderMap`.
        impl<B> Request for $request {
            fn header(&self, name: &str) -> Option<&str> {
                self.headers().header(name)
            }

            fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
                self.headers().header_values(name)
            }
        }

        /// Appends to the headers, as for `HeaderMap`.
        impl<B> Response for $response {
            fn append_header(&mut self, name: &str, value: &str) {
                self.headers_mut().append_header(name, value)
            }
        }
    };
}

through_headers!(::http::Request<B>, ::http::Response<B>);

/// Reads the headers, as for `HeaderMap`.
impl Request for ::http::request::Parts {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.header(name)
    }

    fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers.header_values(name)
    }
}

/// Appends to the headers, as for `HeaderMap`.
impl Response for ::http::response::Parts {
    fn append_header(&mut self, name: &str, value: &str) {
        self.headers.append_header(name, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_cookie_header_and_skips_non_utf8() {
        let mut headers = HeaderMap::new();
        headers.append("cookie", HeaderValue::from_bytes(b"bad=\xff").unwrap());
        headers.append("cookie", HeaderValue::from_static("a=1"));
        headers.append(
            "Cookie",
            HeaderValue::from_bytes("b=caf\u{e9}".as_bytes()).unwrap(),
        );
        assert_eq!(headers.header("COOKIE"), Some("a=1"));
        assert_eq!(
            headers.header_values("Cookie").collect::<Vec<_>>(),
            ["a=1", "b=caf\u{e9}"]
        );
    }

    #[test]
    fn request_parts_and_response_types_plug_in() {
        let session = crate::Session::new();
        let id = session.create(serde_json::json!({"user": "ana"})).unwrap();

        let request = ::http::Request::builder()
            .header("Cookie", "theme=dark")
            .header("Cookie", format!("session_id={id}"))
            .body(())
            .unwrap();
        assert_eq!(
            session.from_request(&request).unwrap().unwrap()["user"],
            "ana"
        );
        let (parts, ()) = request.into_parts();
        assert_eq!(
            session.from_request(&parts).unwrap().unwrap()["user"],
            "ana"
        );

        let mut response = ::http::Response::new(());
        session.set_cookie(&mut response, &id).unwrap();
        session.clear_cookie(&mut response);
        response.append_header("X-Bad", "a\r\nb"); // refused by http: dropped
        assert_eq!(response.headers().get_all("set-cookie").iter().count(), 2);
        assert!(response.headers().get("x-bad").is_none());
        let (mut parts, ()) = response.into_parts();
        parts.append_header("Vary", "Cookie");
        assert_eq!(parts.headers["vary"], "Cookie");
    }
}

//! [tiny_http](https://docs.rs/tiny_http): [`Request`] for `tiny_http::Request`
//! and [`Response`] for `tiny_http::Response<R>` (cargo feature `tiny_http`).
//!
//! ```no_run
//! use http_session::Session;
//!
//! let session = Session::new();
//! let server = tiny_http::Server::http("127.0.0.1:8080").unwrap();
//! for request in server.incoming_requests() {
//!     let mut handle = session.handle(&request);
//!     let visits = handle.update("visits", |n: Option<u64>| n.unwrap_or(0) + 1).unwrap_or(0);
//!     let mut response = tiny_http::Response::from_string(format!("visit {visits}\n"));
//!     if handle.commit(&mut response).is_err() {
//!         response = tiny_http::Response::from_string("session store failed\n").with_status_code(500);
//!     }
//!     let _ = request.respond(response);
//! }
//! ```

use crate::{Request, Response};

fn is(header: &::tiny_http::Header, name: &str) -> bool {
    header.field.as_str().as_str().eq_ignore_ascii_case(name)
}

/// Reads the request's headers; a repeated header yields every copy.
///
/// ```
/// use http_session::Request;
///
/// # fn check(request: &tiny_http::Request) {
/// let cookies: Vec<&str> = request.header_values("Cookie").collect();
/// # }
/// ```
impl Request for ::tiny_http::Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers()
            .iter()
            .find(|h| is(h, name))
            .map(|h| h.value.as_str())
    }

    fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers()
            .iter()
            .filter(move |h| is(h, name))
            .map(|h| h.value.as_str())
    }
}

/// Adds a header with `add_header`, which keeps every `Set-Cookie`.
///
/// tiny_http writes names and values to the wire as they are, so a header
/// whose name is not a token or whose value holds CR, LF, NUL or another
/// control character (but tab) is dropped here: it would split the response.
/// tiny_http also takes only ASCII, and handles `Content-Length`, `Connection`
/// and `Transfer-Encoding` itself: anything else is dropped.
impl<R: std::io::Read> Response for ::tiny_http::Response<R> {
    fn append_header(&mut self, name: &str, value: &str) {
        if !(crate::headers::is_token(name) && crate::headers::is_field_value(value)) {
            return;
        }
        if let Ok(header) = ::tiny_http::Header::from_bytes(name, value) {
            self.add_header(header);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpStream;

    /// A real tiny_http server on a free port receives one raw request.
    fn receive(raw: &str) -> ::tiny_http::Request {
        let server = ::tiny_http::Server::http("127.0.0.1:0").unwrap();
        let port = server.server_addr().to_ip().unwrap().port();
        let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
        client.write_all(raw.as_bytes()).unwrap();
        server.recv().unwrap()
    }

    #[test]
    fn reads_every_cookie_header_of_a_real_request() {
        let request = receive(
            "GET / HTTP/1.1\r\nHost: x\r\ncookie: a=1\r\nX-Other: y\r\nCOOKIE: session_id=2\r\n\r\n",
        );
        assert_eq!(request.header("Cookie"), Some("a=1"));
        assert_eq!(
            request.header_values("cookie").collect::<Vec<_>>(),
            ["a=1", "session_id=2"]
        );
        assert_eq!(request.header("Missing"), None);
        assert_eq!(request.header_values("Missing").count(), 0);
    }

    #[test]
    fn the_session_is_found_in_the_second_cookie_header() {
        let session = crate::Session::new();
        let id = session.create(serde_json::json!({"user": "ana"})).unwrap();
        let request = receive(&format!(
            "GET / HTTP/1.1\r\nHost: x\r\nCookie: theme=dark\r\nCookie: session_id={id}\r\n\r\n"
        ));
        assert_eq!(
            session.from_request(&request).unwrap().unwrap()["user"],
            "ana"
        );
    }

    #[test]
    fn two_set_cookie_headers_reach_the_wire_apart() {
        let server = ::tiny_http::Server::http("127.0.0.1:0").unwrap();
        let port = server.server_addr().to_ip().unwrap().port();
        let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
        client
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let request = server.recv().unwrap();
        let mut response = ::tiny_http::Response::from_string("ok");
        response.append_header("Set-Cookie", "a=1; Path=/");
        response.append_header("Set-Cookie", "b=2; Path=/");
        response.append_header("X-Bad", "caf\u{e9}"); // not ASCII: dropped
        request.respond(response).unwrap();
        let mut raw = String::new();
        client.read_to_string(&mut raw).unwrap();
        assert!(raw.contains("\r\nSet-Cookie: a=1; Path=/\r\n"), "{raw}");
        assert!(raw.contains("\r\nSet-Cookie: b=2; Path=/\r\n"), "{raw}");
        assert!(!raw.contains("X-Bad"), "{raw}");
    }
}

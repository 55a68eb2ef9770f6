//! No response type lets a header split the response: a header value holding
//! CR, LF or NUL (or a name that is not a token) never reaches the output of
//! any adapter. The same cases run over every one: CGI (the bytes `write_to`
//! writes), tiny_http and rouille (the raw bytes a real server puts on the
//! wire), `http` (the header map), and `Headers` (what the README's
//! hand-rolled server writes from it).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use http_session::{CgiResponse, Headers, Response};

/// Header name and value pairs that would smuggle an `X-Injected` line in.
const CASES: [(&str, &str, &str); 5] = [
    ("CRLF", "X-Carrier", "a\r\nX-Injected: 1"),
    ("CR", "X-Carrier", "a\rX-Injected: 1"),
    ("LF", "X-Carrier", "a\nX-Injected: 1"),
    ("NUL", "X-Carrier", "a\0X-Injected: 1"),
    ("CRLF in the name", "X-Carrier\r\nX-Injected", "1"),
];

/// The check every adapter passes: the refused header is not in `output`,
/// neither the line it carried in nor any part of it.
fn assert_not_injected(adapter: &str, case: &str, output: &[u8]) {
    let text = String::from_utf8_lossy(output).to_ascii_lowercase();
    assert!(
        !text.contains("x-injected"),
        "{adapter}, {case}: an injected header reached the output:\n{text}"
    );
    assert!(
        !text.contains("x-carrier"),
        "{adapter}, {case}: the refused header reached the output:\n{text}"
    );
    assert!(
        !output.contains(&0),
        "{adapter}, {case}: a NUL reached the output:\n{text}"
    );
}

/// Runs `output` over every case; it adds the case's header, plus a good
/// `X-Fine: ok`, through the `Response` trait and returns what goes out.
fn check(adapter: &str, output: impl Fn(&str, &str) -> Vec<u8>) {
    for (case, name, value) in CASES {
        assert_not_injected(adapter, case, &output(name, value));
    }
}

fn head_of(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    text.split("\r\n\r\n").next().unwrap_or_default().to_owned()
}

#[test]
fn cgi() {
    check("CgiResponse through Response", |name, value| {
        let mut response = CgiResponse::new();
        response.append_header("X-Fine", "ok");
        response.append_header(name, value);
        let mut out = Vec::new();
        assert!(response.write_to(&mut out).is_err(), "refused, saying why");
        out
    });
    check("CgiResponse::with_header", |name, value| {
        let response = CgiResponse::new().with_header(name, value);
        let mut out = Vec::new();
        let _ = response.write_to(&mut out);
        out
    });
    // A good header alone is written.
    let mut response = CgiResponse::new();
    response.append_header("X-Fine", "ok\tstill ok");
    let mut out = Vec::new();
    response.write_to(&mut out).unwrap();
    assert!(head_of(&out).contains("\r\nX-Fine: ok\tstill ok"));
}

/// The README's hand-rolled server writes each of a `Headers`' pairs as
/// `name: value` and CRLF.
#[test]
fn headers_as_the_hand_rolled_server_writes_them() {
    check("Headers", |name, value| {
        let mut headers = Headers::new();
        headers.append_header("X-Fine", "ok");
        headers.append_header(name, value);
        let mut out = Vec::new();
        for (name, value) in headers.iter() {
            write!(out, "{name}: {value}\r\n").unwrap();
        }
        out
    });
}

/// Sends one raw request to `port` and returns the raw response bytes.
fn exchange(port: u16) -> Vec<u8> {
    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    client
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut raw = Vec::new();
    client.read_to_end(&mut raw).unwrap();
    raw
}

#[test]
fn tiny_http_on_the_wire() {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let port = server.server_addr().to_ip().unwrap().port();
    let wire = |name: &str, value: &str| {
        let (name, value) = (name.to_owned(), value.to_owned());
        let client = std::thread::spawn(move || exchange(port));
        let request = server.recv().unwrap();
        let mut response = tiny_http::Response::from_string("ok");
        response.append_header("X-Fine", "ok");
        response.append_header(&name, &value);
        request.respond(response).unwrap();
        let raw = client.join().unwrap();
        assert!(head_of(&raw).contains("\r\nX-Fine: ok"), "{raw:?}");
        raw
    };
    check("tiny_http", wire);
}

#[cfg(feature = "rouille")]
#[test]
fn rouille_on_the_wire() {
    for (case, name, value) in CASES {
        let (name, value) = (name.to_owned(), value.to_owned());
        let server = rouille::Server::new("127.0.0.1:0", move |_request| {
            let mut response = rouille::Response::text("ok");
            response.append_header("X-Fine", "ok");
            response.append_header(&name, &value);
            response
        })
        .unwrap();
        let port = server.server_addr().port();
        let (running, stop) = server.stoppable();
        let raw = exchange(port);
        stop.send(()).unwrap();
        running.join().unwrap();
        assert!(head_of(&raw).contains("\r\nX-Fine: ok"), "{raw:?}");
        assert_not_injected("rouille", case, &raw);
    }
}

#[cfg(feature = "http")]
#[test]
fn http_types() {
    fn written(headers: &http::HeaderMap) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, value) in headers {
            out.extend_from_slice(name.as_str().as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out
    }
    check("http::Response", |name, value| {
        let mut response = http::Response::new(());
        response.append_header("X-Fine", "ok");
        response.append_header(name, value);
        assert_eq!(response.headers()["x-fine"], "ok");
        written(response.headers())
    });
    check("http::HeaderMap", |name, value| {
        let mut headers = http::HeaderMap::new();
        headers.append_header(name, value);
        written(&headers)
    });
}

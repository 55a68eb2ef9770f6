//! CGI ([RFC 3875](https://www.rfc-editor.org/rfc/rfc3875)), with no dependency:
//! [`CgiRequest`] reads the request from the environment the web server sets
//! (`HTTP_COOKIE` and friends), [`CgiResponse`] collects the status, headers and
//! body and writes them to stdout in CGI form.
//!
//! Each request is a new process, so sessions must live in a store outside it
//! ([`FileStore`](crate::FileStore), Redis): a `MemoryStore` is empty on every
//! request.
//!
//! ```
//! use http_session::{CgiRequest, CgiResponse, FileStore, Session};
//!
//! # let dir = std::env::temp_dir().join(format!("doc-cgi-{}", std::process::id()));
//! let session = Session::with_store(FileStore::open(&dir)?);
//! let request = CgiRequest::from_env();
//! let mut handle = session.handle(&request);
//! let visits = handle.update("visits", |n: Option<u64>| n.unwrap_or(0) + 1)?;
//!
//! let mut response = CgiResponse::new()
//!     .with_header("Content-Type", "text/plain; charset=utf-8")
//!     .with_body(format!("visit {visits}\n"));
//! handle.commit(&mut response)?;
//! let mut stdout = Vec::new(); // std::io::stdout().lock() in a real program
//! response.write_to(&mut stdout)?;
//! assert!(stdout.starts_with(b"Status: 200 OK\r\n"));
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), http_session::Error>(())
//! ```

use std::io::{self, Read, Write};

use crate::headers::{is_field_value, is_token};
use crate::{Headers, Request, Response};

/// What [`CgiRequest::read_body`] reserves before the body's bytes arrive.
const INITIAL_BODY_CAPACITY: usize = 8 * 1024;

/// A CGI request: the meta-variables the web server passed in the environment.
///
/// Header `Name-Here` is read from meta-variable `HTTP_NAME_HERE`
/// (`Content-Type` and `Content-Length` from `CONTENT_TYPE` and
/// `CONTENT_LENGTH`), as RFC 3875 maps them. A variable holds one value, so
/// [`header_values`](Request::header_values) yields it whole: `HTTP_COOKIE` is
/// never split at commas. A comma belongs to the cookie value it stands in, as
/// browsers read it (RFC 6265bis §5.6: a value runs to `;`) and as
/// [`cookie::parse`](crate::cookie::parse) does; splitting there would let
/// `pref=x,__Host-sid=…` pass a forged `__Host-` cookie.
///
/// ```
/// use http_session::{cookie, CgiRequest, Request};
///
/// let request = CgiRequest::from_vars([
///     ("REQUEST_METHOD", "POST"),
///     ("PATH_INFO", "/login"),
///     ("HTTP_COOKIE", "theme=dark; pref=a,session_id=abc"),
///     ("HTTP_X_FORWARDED_FOR", "10.0.0.1"),
/// ]);
/// assert_eq!(request.method(), "POST");
/// assert_eq!(request.path_info(), "/login");
/// assert_eq!(request.header("x-forwarded-for"), Some("10.0.0.1"));
/// let cookies: Vec<_> = request.header_values("Cookie").flat_map(cookie::parse).collect();
/// assert_eq!(cookies, [("theme", "dark"), ("pref", "a,session_id=abc")]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CgiRequest {
    vars: Vec<(String, String)>,
}

impl CgiRequest {
    /// The request the web server passed to this process. Variables whose name
    /// or value is not UTF-8 are left out.
    pub fn from_env() -> CgiRequest {
        CgiRequest {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    /// A request from explicit meta-variables: for tests, or for a server that
    /// speaks CGI-like protocols (SCGI, FastCGI) and hands over the same names.
    pub fn from_vars<I, K, V>(vars: I) -> CgiRequest
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        CgiRequest {
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// Meta-variable `name` (exact, case-sensitive as environment names are).
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `REQUEST_METHOD` (`GET` if the server left it out).
    pub fn method(&self) -> &str {
        self.var("REQUEST_METHOD").unwrap_or("GET")
    }

    /// `PATH_INFO`: the part of the URL path after the script's name (`""` if none).
    pub fn path_info(&self) -> &str {
        self.var("PATH_INFO").unwrap_or("")
    }

    /// `QUERY_STRING`, still URL-encoded (`""` if none).
    pub fn query_string(&self) -> &str {
        self.var("QUERY_STRING").unwrap_or("")
    }

    /// `CONTENT_LENGTH`, if present and a number.
    pub fn content_length(&self) -> Option<usize> {
        self.var("CONTENT_LENGTH")?.trim().parse().ok()
    }

    /// Reads the request body (`CONTENT_LENGTH` bytes) from `input`, normally
    /// stdin. A body longer than `limit`, or shorter than announced, is an error;
    /// no `CONTENT_LENGTH` means no body. Memory grows with the bytes that
    /// arrive, never to the length announced ahead of them.
    ///
    /// ```
    /// use http_session::CgiRequest;
    ///
    /// let request = CgiRequest::from_vars([("CONTENT_LENGTH", "9")]);
    /// assert_eq!(request.read_body(&b"user=ana&rest"[..], 1024)?, b"user=ana&");
    /// assert!(request.read_body(&b"user=ana&"[..], 4).is_err());
    /// assert!(request.read_body(&b"short"[..], 1024).is_err());
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn read_body(&self, input: impl Read, limit: usize) -> io::Result<Vec<u8>> {
        let Some(length) = self.content_length() else {
            return Ok(Vec::new());
        };
        if length > limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("request body of {length} bytes is over the limit of {limit}"),
            ));
        }
        // The buffer grows as bytes arrive: `CONTENT_LENGTH` is only a claim,
        // and reserving it up front would let a 4-byte body claim a terabyte.
        let mut body = Vec::with_capacity(length.min(INITIAL_BODY_CAPACITY));
        let announced = u64::try_from(length).unwrap_or(u64::MAX);
        input.take(announced).read_to_end(&mut body)?;
        if body.len() < length {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("request body ended after {} of {length} bytes", body.len()),
            ));
        }
        Ok(body)
    }

    fn meta_variable(&self, header: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(k, _)| names_header(k, header))
            .map(|(_, v)| v.as_str())
    }
}

/// Whether meta-variable `var` carries header `header` (RFC 3875 §4.1.18).
fn names_header(var: &str, header: &str) -> bool {
    if header.is_empty() {
        return false;
    }
    if header.eq_ignore_ascii_case("content-type") {
        return var == "CONTENT_TYPE";
    }
    if header.eq_ignore_ascii_case("content-length") {
        return var == "CONTENT_LENGTH";
    }
    let Some(rest) = var.strip_prefix("HTTP_") else {
        return false;
    };
    rest.len() == header.len()
        && rest
            .bytes()
            .zip(header.bytes())
            .all(|(v, h)| v == h.to_ascii_uppercase() || (v == b'_' && h == b'-'))
}

/// One value per header: the meta-variable, whole (no comma splitting).
impl Request for CgiRequest {
    fn header(&self, name: &str) -> Option<&str> {
        self.meta_variable(name)
    }
}

/// A CGI response: status, headers and body, written to stdout by
/// [`write_to`](CgiResponse::write_to).
///
/// ```
/// use http_session::{CgiResponse, Response};
///
/// let mut response = CgiResponse::new().with_status(303).with_header("Location", "/profile");
/// response.append_header("Set-Cookie", "a=1");
/// response.append_header("Set-Cookie", "b=2");
/// let mut out = Vec::new();
/// response.write_to(&mut out)?;
/// assert_eq!(
///     String::from_utf8(out).unwrap(),
///     "Status: 303 See Other\r\nLocation: /profile\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n"
/// );
/// # Ok::<(), http_session::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgiResponse {
    status: u16,
    headers: Headers,
    body: Vec<u8>,
}

impl Default for CgiResponse {
    fn default() -> Self {
        CgiResponse::new()
    }
}

impl CgiResponse {
    /// `200 OK`, no headers, no body.
    pub fn new() -> CgiResponse {
        CgiResponse {
            status: 200,
            headers: Headers::new(),
            body: Vec::new(),
        }
    }

    /// Sets the status code: three digits, 100 to 999.
    ///
    /// Setting never fails, so a response is built in one expression; any
    /// other code is refused by [`write_to`](CgiResponse::write_to), which
    /// writes nothing and says why. That is the one place every part of the
    /// response is checked, headers included (they arrive through
    /// [`Response::append_header`], which cannot fail), so a CGI program has
    /// one error to handle, and `?` turns it into [`Error::Io`](crate::Error::Io).
    ///
    /// ```
    /// use http_session::CgiResponse;
    /// assert!(CgiResponse::new().with_status(404).write_to(Vec::new()).is_ok());
    /// assert!(CgiResponse::new().with_status(42).write_to(Vec::new()).is_err());
    /// ```
    pub fn with_status(mut self, status: u16) -> CgiResponse {
        self.status = status;
        self
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> CgiResponse {
        // Kept, so that `write_to` can refuse the response and say why.
        self.headers.push(name, value);
        self
    }

    /// Sets the body. A body needs a `Content-Type` header (RFC 3875 §6.3.1).
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> CgiResponse {
        self.body = body.into();
        self
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The headers, in order.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Writes the response in CGI form: `Status:`, the headers, an empty line,
    /// the body. Lines end in CRLF, which every server accepts.
    ///
    /// Nothing is written, and an `InvalidInput` error says why, if the status
    /// is out of range, a header name is not a token, a value holds a line break
    /// or other control character, or a body has no `Content-Type`.
    pub fn write_to(&self, mut out: impl Write) -> io::Result<()> {
        self.check()?;
        let mut head = format!("Status: {} {}\r\n", self.status, reason(self.status));
        for (name, value) in self.headers.iter() {
            head.push_str(name);
            head.push_str(": ");
            head.push_str(value);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        out.write_all(head.as_bytes())?;
        out.write_all(&self.body)?;
        out.flush()
    }

    fn check(&self) -> io::Result<()> {
        let invalid = |what: String| Err(io::Error::new(io::ErrorKind::InvalidInput, what));
        if !(100..=999).contains(&self.status) {
            return invalid(format!(
                "CGI status {} is not a three-digit code",
                self.status
            ));
        }
        for (name, value) in self.headers.iter() {
            if !is_token(name) {
                return invalid(format!("header name {name:?} is not a token"));
            }
            // No value in the message: it may be a session cookie.
            if !is_field_value(value) {
                return invalid(format!(
                    "the value of header {name} holds a line break or control character"
                ));
            }
        }
        if !self.body.is_empty() && self.headers.get("Content-Type").is_none() {
            return invalid("a CGI response with a body needs a Content-Type header".to_owned());
        }
        Ok(())
    }
}

impl Response for CgiResponse {
    fn append_header(&mut self, name: &str, value: &str) {
        self.headers.push(name, value);
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_map_to_meta_variables() {
        let req = CgiRequest::from_vars([
            ("HTTP_COOKIE", "a=1"),
            ("CONTENT_TYPE", "text/plain"),
            ("CONTENT_LENGTH", " 12 "),
            ("HTTP_ACCEPT_LANGUAGE", "pt"),
            ("COOKIE", "not a header"),
            ("HTTP_", "empty name"),
        ]);
        assert_eq!(req.header("cookie"), Some("a=1"));
        assert_eq!(req.header("Content-Type"), Some("text/plain"));
        assert_eq!(req.content_length(), Some(12));
        assert_eq!(req.header("accept-language"), Some("pt"));
        assert_eq!(req.header("accept_language"), Some("pt"));
        assert_eq!(req.header("accept-languag"), None);
        assert_eq!(req.header(""), None);
        assert_eq!(req.header("Host"), None);
        assert_eq!(req.method(), "GET");
        assert_eq!(req.path_info(), "");
        assert_eq!(req.query_string(), "");
    }

    #[test]
    fn a_comma_in_the_cookie_variable_is_part_of_a_value() {
        let session = crate::Session::new();
        let id = session.create(serde_json::json!({"user": "ana"})).unwrap();
        let smuggled = format!("theme=dark, session_id={id}, lang=pt");
        let req = CgiRequest::from_vars([("HTTP_COOKIE", smuggled.as_str())]);
        assert_eq!(
            req.header_values("Cookie").collect::<Vec<_>>(),
            [smuggled.as_str()]
        );
        let cookies: Vec<_> = crate::cookie::parse(&smuggled).collect();
        assert_eq!(cookies, [("theme", &smuggled["theme=".len()..])]);
        assert_eq!(session.from_request(&req).unwrap(), None);
        // Cookies separated by `;` are read as ever.
        let separate = format!("theme=dark; session_id={id}; lang=pt");
        let req = CgiRequest::from_vars([("HTTP_COOKIE", separate.as_str())]);
        assert_eq!(session.from_request(&req).unwrap().unwrap()["user"], "ana");
        // Other headers keep their commas too.
        let req = CgiRequest::from_vars([("HTTP_IF_MODIFIED_SINCE", "Sun, 06 Nov 1994")]);
        assert_eq!(req.header_values("If-Modified-Since").count(), 1);
    }

    #[test]
    fn bad_responses_write_nothing_and_say_why() {
        let cases = [
            (CgiResponse::new().with_status(42), "three-digit"),
            (
                CgiResponse::new().with_header("Bad Name", "v"),
                "not a token",
            ),
            (CgiResponse::new().with_header("", "v"), "not a token"),
            (
                CgiResponse::new().with_header("X-Split", "a\r\nSet-Cookie: evil=1"),
                "line break",
            ),
            (CgiResponse::new().with_body("text"), "Content-Type"),
        ];
        for (response, message) in cases {
            let mut out = Vec::new();
            let err = response.write_to(&mut out).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            assert!(err.to_string().contains(message), "{err}");
            assert!(out.is_empty());
        }
    }

    #[test]
    fn a_full_response_is_written_in_cgi_form() {
        let session = crate::Session::new();
        let id = session.create(serde_json::json!({})).unwrap();
        let mut response = CgiResponse::new()
            .with_header("Content-Type", "text/html")
            .with_body("<p>hi</p>");
        session.set_cookie(&mut response, &id).unwrap();
        let mut out = Vec::new();
        response.write_to(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert_eq!(body, "<p>hi</p>");
        let lines: Vec<_> = head.split("\r\n").collect();
        assert_eq!(lines[0], "Status: 200 OK");
        assert_eq!(lines[1], "Content-Type: text/html");
        assert!(lines[2].starts_with(&format!("Set-Cookie: session_id={id}; ")));
        assert_eq!(CgiResponse::new().with_status(299).status(), 299);
    }
}

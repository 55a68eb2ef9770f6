//! The two traits through which any server plugs in, over plain `&str` headers
//! ([`Request`], [`Response`]), and [`Headers`], an owned list that is both.

/// A request whose headers can be read.
///
/// Implement [`header`](Request::header) for your server's request type; override
/// [`header_values`](Request::header_values) too if a header can arrive more than
/// once (HTTP/2 and some proxies send several `Cookie` fields).
///
/// ```
/// use http_session::Request;
///
/// struct MyRequest { cookie: String }
///
/// impl Request for MyRequest {
///     fn header(&self, name: &str) -> Option<&str> {
///         name.eq_ignore_ascii_case("cookie").then_some(self.cookie.as_str())
///     }
/// }
///
/// let req = MyRequest { cookie: "a=1".into() };
/// assert_eq!(req.header("Cookie"), Some("a=1"));
/// ```
pub trait Request {
    /// The value of header `name` (matched case-insensitively), if present.
    fn header(&self, name: &str) -> Option<&str>;

    /// Every value of header `name`, in order. The default yields at most the
    /// one that [`header`](Request::header) returns.
    fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.header(name).into_iter()
    }
}

/// A response that headers can be added to.
///
/// ```
/// use http_session::Response;
///
/// struct MyResponse { headers: Vec<(String, String)> }
///
/// impl Response for MyResponse {
///     fn append_header(&mut self, name: &str, value: &str) {
///         self.headers.push((name.to_owned(), value.to_owned()));
///     }
/// }
/// ```
pub trait Response {
    /// Adds a header, keeping any of the same name already present
    /// (`Set-Cookie` must never be merged into one line).
    ///
    /// A header whose name is not a token, or whose value holds CR, LF, NUL or
    /// another control character but tab, must never reach the wire, where it
    /// would split the response: the server adapters of this crate drop it
    /// (or, for `CgiResponse`, refuse to write the response).
    fn append_header(&mut self, name: &str, value: &str);
}

impl<R: Request + ?Sized> Request for &R {
    fn header(&self, name: &str) -> Option<&str> {
        (**self).header(name)
    }

    fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        (**self).header_values(name)
    }
}

impl<R: Response + ?Sized> Response for &mut R {
    fn append_header(&mut self, name: &str, value: &str) {
        (**self).append_header(name, value)
    }
}

/// An owned list of headers, usable as a [`Request`] and as a [`Response`]:
/// for tests, CGI programs and hand-rolled servers.
///
/// Names are matched case-insensitively; repeated headers are kept in order.
/// As a request it holds whatever it is given (a client may send anything);
/// as a [`Response`] it drops a header that would split the response (a name
/// that is not a token, a value with CR, LF, NUL or another control character
/// but tab), like every server adapter of this crate, so a hand-rolled server
/// can write its pairs to the wire as they are.
///
/// ```
/// use http_session::{Headers, Request, Response};
///
/// let mut headers = Headers::new().with("Cookie", "a=1").with("cookie", "b=2");
/// assert_eq!(headers.header("COOKIE"), Some("a=1"));
/// assert_eq!(headers.header_values("Cookie").collect::<Vec<_>>(), ["a=1", "b=2"]);
///
/// headers.append_header("Set-Cookie", "c=3");
/// headers.append_header("X-Note", "split\r\nSet-Cookie: evil=1"); // dropped
/// assert_eq!(headers.len(), 3);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    entries: Vec<(String, String)>,
}

impl Headers {
    /// An empty list.
    pub fn new() -> Headers {
        Headers::default()
    }

    /// Adds a header and returns the list, for building requests in one expression.
    /// Kept as given, like a request's headers: see [`Headers`].
    pub fn with(mut self, name: &str, value: &str) -> Headers {
        self.push(name, value);
        self
    }

    /// Adds a header as given, unchecked.
    pub(crate) fn push(&mut self, name: &str, value: &str) {
        self.entries.push((name.to_owned(), value.to_owned()));
    }

    /// The first value of `name`, if any.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    ///
    /// ```
    /// let h = http_session::Headers::new().with("Set-Cookie", "a=1").with("set-cookie", "b=2");
    /// assert_eq!(h.get_all("SET-COOKIE").collect::<Vec<_>>(), ["a=1", "b=2"]);
    /// ```
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.entries
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every `(name, value)` pair, in order.
    ///
    /// ```
    /// let h: http_session::Headers = [("Cookie", "a=1")].into_iter().collect();
    /// assert_eq!(h.iter().collect::<Vec<_>>(), [("Cookie", "a=1")]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Number of headers.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Request for Headers {
    fn header(&self, name: &str) -> Option<&str> {
        self.get(name)
    }

    fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.get_all(name)
    }
}

impl Response for Headers {
    /// Drops a header that would split the response: see [`Headers`].
    fn append_header(&mut self, name: &str, value: &str) {
        if is_token(name) && is_field_value(value) {
            self.entries.push((name.to_owned(), value.to_owned()));
        }
    }
}

impl<'a> FromIterator<(&'a str, &'a str)> for Headers {
    fn from_iter<I: IntoIterator<Item = (&'a str, &'a str)>>(iter: I) -> Self {
        let mut headers = Headers::new();
        for (name, value) in iter {
            headers = headers.with(name, value);
        }
        headers
    }
}

/// Whether `name` is an RFC 9110 token: what a header name must be.
pub(crate) fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Whether `value` may stand in a header on the wire: no control character but
/// horizontal tab (CR and LF would split the response, NUL cuts it short in
/// some clients).
pub(crate) fn is_field_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

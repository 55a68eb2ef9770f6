//! [`Request`](crate::Request) and [`Response`](crate::Response) for the servers
//! people run, so `session.from_request(&request)` and
//! `session.set_cookie(&mut response, &id)` take their own types directly.
//!
//! | server | types | cargo feature |
//! |---|---|---|
//! | [tiny_http](https://docs.rs/tiny_http) | `tiny_http::Request`, `tiny_http::Response<R>` | `tiny_http` |
//! | [rouille](https://docs.rs/rouille) | `rouille::Request`, `rouille::Response` | `rouille` |
//! | [http](https://docs.rs/http) (hyper, axum) | `http::Request<B>`, `http::Response<B>`, `http::HeaderMap`, `http::request::Parts`, `http::response::Parts` | `http` |
//! | CGI ([RFC 3875](https://www.rfc-editor.org/rfc/rfc3875)) | [`CgiRequest`](cgi::CgiRequest), [`CgiResponse`](cgi::CgiResponse) | none: always there |
//!
//! Every request type reads every copy of a repeated header (HTTP/2 and some
//! proxies send several `Cookie` fields), and every response type appends
//! headers, never merging two `Set-Cookie` lines into one.
//!
//! No response type lets a header split the response: a name that is not a
//! token, or a value holding CR, LF, NUL or any other control character but
//! horizontal tab, never reaches the output. The tiny_http, rouille and `http`
//! types drop such a header, since the [`Response`](crate::Response) trait
//! cannot fail (tiny_http also takes only ASCII); [`CgiResponse`](cgi::CgiResponse)
//! keeps it and refuses to write the response, saying why. The `Set-Cookie`
//! values this crate writes are always accepted.

pub mod cgi;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "rouille")]
pub mod rouille;
#[cfg(feature = "tiny_http")]
pub mod tiny_http;

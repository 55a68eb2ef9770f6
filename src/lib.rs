//! Server-side HTTP sessions for **synchronous** Rust servers.
//!
//! A random session ID travels in a cookie; the session's data, a JSON object,
//! lives in a pluggable [`Store`] (in memory by default). Any blocking server —
//! tiny_http, rouille, a CGI program, your own `TcpListener` loop — plugs in
//! through two small traits over plain `&str` headers, [`Request`] and
//! [`Response`].
//!
//! # Quick start
//!
//! ```
//! use http_session::{Headers, Session};
//! use serde_json::json;
//!
//! let session = Session::new();                        // memory store, cookie "session_id"
//!
//! // /login: create a session and send its cookie.
//! let mut res = Headers::new();
//! let id = session.create(json!({"userId": "123"}))?;
//! session.set_cookie(&mut res, &id)?;
//!
//! // /profile: the browser sends the cookie back.
//! let req = Headers::new().with("Cookie", &format!("session_id={id}"));
//! let user = session.from_request(&req)?;             // Some({"userId": "123"})
//! assert_eq!(user.unwrap()["userId"], "123");
//!
//! // /update-role: merge new data in, under the ID the store knows
//! // (`lookup`, not the first cookie: that may be a stale or planted one).
//! let (id, _) = session.lookup(&req)?.unwrap();
//! assert!(session.update(&id, json!({"role": "admin"}))?);
//!
//! // /logout: delete the session and clear the cookie.
//! session.delete(&id, &mut Headers::new())?;
//! assert_eq!(session.get(&id)?, None);
//! # Ok::<(), http_session::Error>(())
//! ```
//!
//! # Per request: [`SessionHandle`]
//!
//! [`Session::handle`] loads a request's session lazily, reads and inserts typed
//! values, and writes back once: no store write and no `Set-Cookie` when nothing
//! changed, a new session only when data goes in, changes replayed through
//! [`Store::update`] so a concurrent logout is never undone.
//!
//! # Servers
//!
//! [`adapters`] implements [`Request`] and [`Response`] for tiny_http, rouille
//! and the `http` crate (cargo features of the same names) and for CGI
//! ([`CgiRequest`], [`CgiResponse`], always there). `cargo run --example login`
//! starts a login server on tiny_http.
//!
//! # Secure by default
//!
//! - IDs are 256 bits from a CSPRNG ([`SessionId`]); a cookie value of any other
//!   shape never reaches the store, and an unknown ID is never adopted.
//! - Cookies are `Path=/; HttpOnly; Secure; SameSite=Lax`; change them with
//!   [`SessionBuilder::cookie_options`] (plain-HTTP development needs
//!   `.secure(false)`).
//! - Sessions expire after 30 idle minutes and 12 hours at most
//!   ([`SessionBuilder::ttl`], [`SessionBuilder::absolute_lifetime`]).
//! - Call [`Session::regenerate`] on login and privilege changes.
//! - Send `Cache-Control: no-store` with responses that set the cookie, and
//!   `Vary: Cookie` with responses that depend on the session.
//!
//! - Session cookies that lead nowhere (malformed, or an ID the store does not
//!   know) are reported to [`SessionBuilder::on_rejection`], for logging and
//!   rate-limiting ID guessing.
//!
//! Nothing here panics on any input, and no error message carries a session ID.
//! The threat model, the limits and the OWASP/ASVS coverage are in `SECURITY.md`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod adapters;
mod clock;
pub mod cookie;
mod data;
mod error;
mod handle;
mod headers;
mod id;
mod rejection;
mod session;
pub mod store;

pub use adapters::cgi::{CgiRequest, CgiResponse};
pub use clock::{Clock, ManualClock};
pub use cookie::{CookieOptions, SameSite};
pub use data::Data;
pub use error::Error;
pub use handle::{CommitOutcome, SessionHandle};
pub use headers::{Headers, Request, Response};
pub use id::SessionId;
pub use rejection::{IdPrefix, Rejection};
pub use session::{
    Session, SessionBuilder, DEFAULT_ABSOLUTE_LIFETIME, DEFAULT_MAX_DATA_SIZE, DEFAULT_TTL,
    MAX_CANDIDATES,
};
pub use store::{FileStore, FileStoreBuilder, MemoryStore, MemoryStoreBuilder, Record, Store};
#[cfg(feature = "redis")]
pub use store::{RedisStore, RedisStoreBuilder};

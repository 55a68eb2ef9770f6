//! Server-side HTTP sessions for **synchronous** Rust servers.
//!
//! A random session ID travels in a cookie; the session's data, a JSON object
//! ([`Data`]), lives in a [`Store`] on the server. Any blocking server plugs in
//! through two small traits over plain `&str` headers, [`Request`] and
//! [`Response`].
//!
//! # A request's session: [`SessionHandle`]
//!
//! Keep one [`Session`] for the whole server (it is `Send + Sync`). In each
//! handler, [`Session::handle`] gives the request's session: it is loaded on
//! first use, read and changed with typed values, and written back by one
//! [`commit`](SessionHandle::commit), which reports a [`CommitOutcome`]:
//!
//! ```
//! use http_session::{Headers, Session};
//!
//! let session = Session::new(); // in memory, cookie "session_id"
//!
//! // POST /login: the first insert creates the session, commit sets its cookie.
//! let mut handle = session.handle(&Headers::new());
//! handle.insert("user", "ana")?;
//! handle.regenerate()?; // a fresh ID at every login
//! let mut response = Headers::new();
//! handle.commit(&mut response)?;
//! let cookie = response.get("Set-Cookie").unwrap().split(';').next().unwrap();
//!
//! // GET /: the browser sends the cookie back.
//! let request = Headers::new().with("Cookie", cookie);
//! let mut handle = session.handle(&request);
//! assert_eq!(handle.get::<String>("user")?.as_deref(), Some("ana"));
//! let visits = handle.update("visits", |n: Option<u64>| n.unwrap_or(0) + 1)?;
//! assert_eq!(visits, 1);
//! handle.commit(&mut Headers::new())?;
//!
//! // POST /logout: the store entry goes, the cookie is cleared.
//! let mut handle = session.handle(&request);
//! handle.destroy()?;
//! handle.commit(&mut Headers::new())?;
//! # Ok::<(), http_session::Error>(())
//! ```
//!
//! Nothing is written when nothing changed, a session is created only when
//! data goes in, and changes are replayed inside [`Store::update`], so
//! parallel requests lose no write and a concurrent logout is never undone.
//!
//! # By ID
//!
//! Below the handle, [`Session`] has one call per store operation, each
//! taking a [`SessionId`]: [`create`](Session::create), [`get`](Session::get),
//! [`update`](Session::update), [`delete`](Session::delete),
//! [`regenerate`](Session::regenerate), [`touch`](Session::touch),
//! [`set_cookie`](Session::set_cookie), [`from_request`](Session::from_request)
//! and [`lookup`](Session::lookup) (the request's session and its ID). They
//! act at once, for code that works with IDs; the handle is built on them.
//! [`SessionBuilder`] holds the settings ([`DEFAULT_TTL`],
//! [`DEFAULT_ABSOLUTE_LIFETIME`], [`DEFAULT_MAX_DATA_SIZE`] are the defaults).
//!
//! # Stores
//!
//! - [`MemoryStore`] (the default): sharded, bounded, gone with the process.
//! - [`FileStore`]: one file per session, shared by processes on one machine
//!   (CGI programs).
//! - `SqliteStore` (cargo feature `sqlite`): one SQLite database file,
//!   shared by the processes and threads of one machine (CGI programs,
//!   threaded servers), crash-safe.
//! - `RedisStore` (cargo feature `redis`; `redis-tls`, `redis-cluster`):
//!   shared by every server that can reach it.
//! - `PostgresStore` (cargo feature `postgres`): sessions in PostgreSQL
//!   tables, shared by every server that can reach the database.
//! - Your own: implement [`Store`]'s `get`, `set` and `delete` on [`Record`]s;
//!   `Arc<S>`, `Box<S>` and `&S` are stores too.
//!
//! # Servers
//!
//! [`adapters`] implements [`Request`] and [`Response`] for tiny_http, rouille
//! and the `http` crate (cargo features of the same names) and for CGI
//! ([`CgiRequest`], [`CgiResponse`], always there). [`Headers`] is both, for
//! tests and hand-rolled servers. The traits' names clash with servers' own
//! `Request`/`Response` types: import them as `use http_session::Response as _;`
//! to call their methods. [`cookie`] reads and writes any cookie, not only the
//! session's.
//!
//! # Errors and time
//!
//! Every fallible call returns [`Error`], whose messages say what to fix and
//! never carry a session ID or value; `?` converts the CGI helpers' I/O errors
//! too. Expiry reads one [`Clock`] per session, which a test replaces with a
//! [`ManualClock`] to move time without sleeping.
//!
//! # Secure by default
//!
//! - IDs are 256 bits from a CSPRNG ([`SessionId`]); a cookie value of any other
//!   shape never reaches the store, at most [`MAX_CANDIDATES`] IDs per request
//!   do, and an unknown ID is never adopted.
//! - Cookies are `Path=/; HttpOnly; Secure; SameSite=Lax`; change them with
//!   [`SessionBuilder::cookie_options`] (plain-HTTP development needs
//!   `.secure(false)`).
//! - Sessions expire after 30 idle minutes and 12 hours at most
//!   ([`SessionBuilder::ttl`], [`SessionBuilder::absolute_lifetime`]).
//! - Regenerate the ID on login and privilege changes
//!   ([`SessionHandle::regenerate`], [`Session::regenerate`]).
//! - Send `Cache-Control: no-store` with responses that set the cookie, and
//!   `Vary: Cookie` with responses that depend on the session.
//! - Session cookies that lead nowhere (malformed, unknown, or several live
//!   ones: cookie tossing) are reported as a [`Rejection`] (naming an ID only
//!   by its [`IdPrefix`]) to [`SessionBuilder::on_rejection`], for logging and
//!   rate-limiting ID guessing.
//!
//! Nothing here panics on any input. The threat model, the limits and the
//! OWASP/ASVS coverage are in `SECURITY.md`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod adapters;
mod clock;
pub mod cookie;
mod data;
mod error;
mod event;
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
pub use event::SessionEvent;
pub use handle::{CommitOutcome, SessionHandle};
pub use headers::{Headers, Request, Response};
pub use id::SessionId;
pub use rejection::{IdPrefix, Rejection};
pub use session::{
    Session, SessionBuilder, SessionInfo, DEFAULT_ABSOLUTE_LIFETIME, DEFAULT_MAX_DATA_SIZE,
    DEFAULT_TTL, MAX_CANDIDATES,
};
pub use store::{
    Durability, FileStore, FileStoreBuilder, MemoryStore, MemoryStoreBuilder, Record, Store,
};
#[cfg(feature = "postgres")]
pub use store::{PostgresStore, PostgresStoreBuilder};
#[cfg(feature = "redis")]
pub use store::{RedisStore, RedisStoreBuilder};
#[cfg(feature = "sqlite")]
pub use store::{SqliteStore, SqliteStoreBuilder};

//! Cookies by hand: reading the `Cookie` request header and writing `Set-Cookie`.
//!
//! Both halves are public, since a server reads other cookies too:
//!
//! ```
//! use http_session::cookie::{self, CookieOptions, SameSite};
//!
//! let pairs: Vec<_> = cookie::parse("theme=dark; lang=\"pt\"").collect();
//! assert_eq!(pairs, [("theme", "dark"), ("lang", "pt")]);
//!
//! let header = cookie::serialize("theme", "light", &CookieOptions::default().same_site(SameSite::Strict))?;
//! assert_eq!(header, "theme=light; Path=/; HttpOnly; Secure; SameSite=Strict");
//! # Ok::<(), http_session::Error>(())
//! ```
//!
//! This module knows nothing of sessions or stores.

mod http_date;
mod parse;
mod set_cookie;

pub use parse::{parse, Cookies};
pub use set_cookie::{serialize, serialize_removal, CookieOptions, SameSite, MAX_NAME_VALUE_LEN};
pub(crate) use set_cookie::{serialize_with_lifetime, MAX_COOKIE_LIFETIME};

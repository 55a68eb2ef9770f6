//! The crate's one error type.

use std::fmt;

/// Everything that can go wrong in this crate, with a message that says what to fix.
///
/// Store back-ends wrap their own failures (I/O, Redis, a database driver) in
/// [`Error::Store`], so a server handles one type whatever the store.
///
/// No variant carries a session ID: error messages end up in logs, and a logged
/// ID is a stolen session.
///
/// ```
/// use http_session::cookie::{serialize, CookieOptions};
/// use http_session::Error;
///
/// let err = serialize("bad name", "v", &CookieOptions::default()).unwrap_err();
/// assert!(matches!(err, Error::InvalidCookieName { .. }));
/// assert!(err.to_string().contains("token"));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Session data must serialize to a JSON object (`{...}`); it serialized to
    /// something else (a string, a number, an array, `null`).
    NotAnObject {
        /// The JSON kind the data serialized to, such as `"array"`.
        found: &'static str,
    },
    /// The data's `Serialize` implementation failed, or a stored record could
    /// not be encoded.
    Serialize(serde_json::Error),
    /// A session value could not be read as the type asked for
    /// ([`SessionHandle::get`](crate::SessionHandle::get)); the value is left as it was.
    ///
    /// Only the value's JSON kind is kept, never its text nor serde's message
    /// (which quotes it): session values are secrets (a CSRF token, a name).
    Deserialize {
        /// The key whose value did not fit.
        key: String,
        /// The JSON kind of the stored value, such as `"a string"`.
        found: &'static str,
        /// The Rust type asked for, as [`std::any::type_name`] gives it.
        expected: &'static str,
    },
    /// The session's data would grow past the configured size limit.
    DataTooLarge {
        /// Size of the data as JSON, in bytes.
        size: usize,
        /// The limit set with [`SessionBuilder::max_data_size`](crate::SessionBuilder::max_data_size).
        limit: usize,
    },
    /// The session's data nests arrays and objects deeper than the limit, so it
    /// could not be read back once stored.
    DataTooDeep {
        /// The deepest nesting accepted (the data object itself is level 1).
        limit: usize,
    },
    /// A string is not a well-formed session ID (43 characters of base64url).
    InvalidSessionId,
    /// A string is not a [`RevocationHandle`](crate::store::RevocationHandle)
    /// (32 lowercase hex digits).
    InvalidHandle,
    /// A user name passed to bind or list sessions is refused.
    InvalidUser {
        /// Why, and what is accepted.
        reason: &'static str,
    },
    /// The call needs a store that keeps an index of sessions by user
    /// ([`UserIndex`](crate::store::UserIndex)); this store keeps none.
    NoUserIndex,
    /// A cookie name is not an RFC 7230 token.
    InvalidCookieName {
        /// The refused name.
        name: String,
    },
    /// A cookie value holds a byte that RFC 6265 does not allow in a cookie value.
    InvalidCookieValue {
        /// Byte offset of the first refused byte.
        position: usize,
    },
    /// A `Set-Cookie` attribute, or a combination of them, is refused.
    InvalidCookieAttribute {
        /// The attribute, such as `"Path"` or `"SameSite"`.
        attribute: &'static str,
        /// Why it is refused and what to do instead.
        reason: &'static str,
    },
    /// A setting passed to a builder is out of range.
    InvalidConfig {
        /// What is wrong and what is accepted.
        reason: String,
    },
    /// A time computation overflowed (a clock or lifetime far outside any sane range).
    TimeOverflow,
    /// Fresh session IDs kept colliding with existing ones: the random number
    /// generator or the store is broken.
    IdCollision {
        /// How many fresh IDs were tried.
        attempts: u32,
    },
    /// A stored record could not be read back (a corrupt file, a foreign value).
    CorruptRecord {
        /// What is wrong with it.
        reason: String,
    },
    /// Reading a request or writing a response failed: the CGI helpers
    /// ([`CgiRequest::read_body`](crate::CgiRequest::read_body),
    /// [`CgiResponse::write_to`](crate::CgiResponse::write_to)) return
    /// [`std::io::Error`], and `?` turns it into this variant, so a CGI
    /// program's `main` can return `Result<(), http_session::Error>`. Store
    /// I/O failures are [`Error::Store`], never this.
    ///
    /// ```
    /// use http_session::{CgiResponse, Error};
    ///
    /// fn respond(out: &mut Vec<u8>) -> Result<(), Error> {
    ///     CgiResponse::new().with_status(42).write_to(out)?; // not a status code
    ///     Ok(())
    /// }
    /// let err = respond(&mut Vec::new()).unwrap_err();
    /// assert!(matches!(err, Error::Io(_)));
    /// assert!(err.to_string().contains("three-digit"), "{err}");
    /// ```
    Io(std::io::Error),
    /// The store failed: I/O, a network error, a server that is down.
    Store {
        /// What the store was doing.
        context: String,
        /// The back-end's own error.
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

impl Error {
    /// Wraps a store back-end's error, saying what the store was doing.
    ///
    /// ```
    /// let io = std::io::Error::other("disk full");
    /// let err = http_session::Error::store("writing a session file", io);
    /// assert_eq!(err.to_string(), "session store failed while writing a session file: disk full");
    /// ```
    pub fn store(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Error::Store {
            context: context.into(),
            source: source.into(),
        }
    }

    pub(crate) fn config(reason: impl Into<String>) -> Self {
        Error::InvalidConfig {
            reason: reason.into(),
        }
    }

    pub(crate) fn attribute(attribute: &'static str, reason: &'static str) -> Self {
        Error::InvalidCookieAttribute { attribute, reason }
    }

    /// [`Error::Deserialize`] for `value` under `key`, read as `T`: the value's
    /// kind and the type's name, never the value itself.
    pub(crate) fn deserialize<T>(key: &str, value: &serde_json::Value) -> Self {
        Error::Deserialize {
            key: key.to_owned(),
            found: json_kind(value),
            expected: std::any::type_name::<T>(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotAnObject { found } => write!(
                f,
                "session data must serialize to a JSON object, but it serialized to {found}; \
                 wrap it in a struct or a map"
            ),
            Error::Serialize(e) => write!(f, "session data could not be serialized: {e}"),
            Error::Deserialize {
                key,
                found,
                expected,
            } => write!(
                f,
                "session value {key:?} ({found}) could not be read as {expected}; \
                 read it as serde_json::Value or fix the type"
            ),
            Error::DataTooLarge { size, limit } => write!(
                f,
                "session data is {size} bytes as JSON, over the limit of {limit}; \
                 store less in the session or raise SessionBuilder::max_data_size"
            ),
            Error::DataTooDeep { limit } => write!(
                f,
                "session data nests arrays and objects more than {limit} levels deep, too deep \
                 to be read back once stored; store flatter data"
            ),
            Error::InvalidSessionId => f.write_str(
                "not a well-formed session ID: expected 43 characters of base64url (A-Z a-z 0-9 - _)",
            ),
            Error::InvalidHandle => f.write_str(
                "not a revocation handle: expected 32 lowercase hex digits, as a listing gives",
            ),
            Error::InvalidUser { reason } => write!(f, "invalid user name: {reason}"),
            Error::NoUserIndex => f.write_str(
                "this store keeps no index of sessions by user: binding, listing and revoking \
                 a user's sessions need a store that implements UserIndex (every store of this \
                 crate does)",
            ),
            Error::InvalidCookieName { name } => write!(
                f,
                "invalid cookie name {name:?}: a cookie name must be a non-empty token of \
                 letters, digits and !#$%&'*+-.^_`|~"
            ),
            Error::InvalidCookieValue { position } => write!(
                f,
                "invalid cookie value: byte {position} is not allowed (no space, quote, comma, \
                 semicolon, backslash, control or non-ASCII characters)"
            ),
            Error::InvalidCookieAttribute { attribute, reason } => {
                write!(f, "invalid cookie attribute {attribute}: {reason}")
            }
            Error::InvalidConfig { reason } => write!(f, "invalid session configuration: {reason}"),
            Error::TimeOverflow => f.write_str(
                "time overflow: the clock or a lifetime is outside the supported range",
            ),
            Error::IdCollision { attempts } => write!(
                f,
                "{attempts} fresh session IDs all collided with existing ones: \
                 the random number generator or the store is broken"
            ),
            Error::CorruptRecord { reason } => write!(f, "corrupt session record: {reason}"),
            Error::Io(e) => write!(
                f,
                "reading the request or writing the response failed: {e}"
            ),
            Error::Store { context, source } => {
                write!(f, "session store failed while {context}: {source}")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Serialize(e) => Some(e),
            Error::Io(e) => Some(e),
            Error::Store { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

/// The kind of a JSON value, for messages that must not quote the value.
fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// For `?` on the CGI helpers' [`std::io::Result`]s: see [`Error::Io`].
impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Serialize(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_send_sync_static() {
        fn check<T: std::error::Error + Send + Sync + 'static>() {}
        check::<Error>();
    }

    #[test]
    fn store_error_keeps_its_source() {
        let err = Error::store("reading", std::io::Error::other("boom"));
        let source = std::error::Error::source(&err).map(|s| s.to_string());
        assert_eq!(source.as_deref(), Some("boom"));
    }
}

//! A signal for session-ID guessing: what [`SessionBuilder::on_rejection`] reports.
//!
//! [`SessionBuilder::on_rejection`]: crate::SessionBuilder::on_rejection

use std::fmt;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::sync::Arc;

use crate::SessionId;

/// Why a request's session cookie did not lead to a session.
///
/// Reported to the hook set with
/// [`SessionBuilder::on_rejection`](crate::SessionBuilder::on_rejection) by
/// [`Session::from_request`](crate::Session::from_request) and
/// [`Session::lookup`](crate::Session::lookup), at most
/// [`MAX_CANDIDATES`](crate::MAX_CANDIDATES)` + 1` times per request. A browser
/// whose session simply timed out sends one `UnknownId` now and then; a client
/// that sends many is guessing, or replaying stolen cookies: log it, count it per
/// client address, rate-limit it.
///
/// ```
/// use http_session::{Headers, Rejection, Session, SessionId};
/// use std::sync::{Arc, Mutex};
///
/// let reports = Arc::new(Mutex::new(Vec::new()));
/// let log = Arc::clone(&reports);
/// let session = Session::builder()
///     .on_rejection(move |r: Rejection| log.lock().unwrap().push(r.to_string()))
///     .build()?;
/// let guess = SessionId::generate();
/// let req = Headers::new().with("Cookie", &format!("session_id={guess}"));
/// assert_eq!(session.from_request(&req)?, None);
///
/// // The report names the ID only by a short prefix, safe for logs.
/// let reports = reports.lock().unwrap();
/// assert!(reports[0].starts_with("unknown or expired session ID"));
/// assert!(!reports[0].contains(guess.as_str()));
/// # Ok::<(), http_session::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rejection {
    /// A cookie with the session's name held something that is not a session ID
    /// at all (reported once per request, however many such cookies it had).
    MalformedCookie,
    /// A well-formed session ID that the store does not know, or whose session
    /// has expired.
    UnknownId {
        /// The ID's first four characters (24 of its 256 bits): enough to tell
        /// reports apart, useless for taking over a session.
        prefix: IdPrefix,
    },
    /// Two or more distinct session IDs in the request's cookies name live
    /// sessions. A browser holds one session cookie per name, path and domain;
    /// two known ones are the mark of cookie tossing (an attacker's own session
    /// cookie planted beside the victim's, by a sibling subdomain or a
    /// plain-HTTP response). None of them is used: the request is served
    /// without a session, and [`SessionHandle::commit`](crate::SessionHandle::commit)
    /// clears the cookie.
    SeveralKnownIds,
}

impl Rejection {
    /// The report for an ID the store does not know.
    pub(crate) fn unknown(id: &SessionId) -> Rejection {
        Rejection::UnknownId {
            prefix: IdPrefix::of(id),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::MalformedCookie => f.write_str("malformed session cookie"),
            Rejection::UnknownId { prefix } => {
                write!(f, "unknown or expired session ID {prefix}")
            }
            Rejection::SeveralKnownIds => f.write_str(
                "several live session IDs in one request's cookies (cookie tossing?): none used",
            ),
        }
    }
}

/// The first four characters of a session ID: a redacted form for logs.
///
/// [`Rejection::UnknownId`] carries one; [`IdPrefix::of`] gives the same form
/// for an ID you hold, so your own log lines can be matched with rejection
/// reports without ever logging a whole ID.
///
/// ```
/// use http_session::{IdPrefix, SessionId};
/// let id = SessionId::from_bytes([0; 32]);
/// assert_eq!(IdPrefix::of(&id).to_string(), "AAAA…");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct IdPrefix([u8; 4]);

impl IdPrefix {
    /// The prefix of `id`.
    pub fn of(id: &SessionId) -> IdPrefix {
        let mut prefix = [b'A'; 4];
        prefix.copy_from_slice(&id.as_str().as_bytes()[..4]);
        IdPrefix(prefix)
    }

    /// The four characters.
    pub fn as_str(&self) -> &str {
        // Taken from an ID's text, which is ASCII.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for IdPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}…", self.as_str())
    }
}

impl fmt::Debug for IdPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdPrefix({self})")
    }
}

/// The hook a [`Session`](crate::Session) reports rejections to.
#[derive(Clone, Default)]
pub(crate) struct RejectionHook(Option<Arc<Hook>>);

/// The hook's type: `UnwindSafe` so that a `Session` is too, and a server may
/// call it from inside `catch_unwind` without `AssertUnwindSafe`.
type Hook = dyn Fn(Rejection) + Send + Sync + UnwindSafe + RefUnwindSafe;

impl RejectionHook {
    pub(crate) fn new(
        hook: impl Fn(Rejection) + Send + Sync + UnwindSafe + RefUnwindSafe + 'static,
    ) -> Self {
        RejectionHook(Some(Arc::new(hook)))
    }

    pub(crate) fn report(&self, rejection: Rejection) {
        if let Some(hook) = &self.0 {
            hook(rejection);
        }
    }
}

impl fmt::Debug for RejectionHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Some(<hook>)"
        } else {
            "None"
        })
    }
}

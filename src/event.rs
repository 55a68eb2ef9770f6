//! What happens to sessions, as [`SessionBuilder::on_event`] reports it: for
//! logs, metrics and alerts. No event carries a session ID.
//!
//! [`SessionBuilder::on_event`]: crate::SessionBuilder::on_event

use std::fmt;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::sync::Arc;

use crate::store::RevocationHandle;
use crate::Rejection;

/// One thing that happened to a session.
///
/// Reported to the hook set with
/// [`SessionBuilder::on_event`](crate::SessionBuilder::on_event), on the
/// request's thread, after the store has done it. Events name a session only
/// by its user and its [`RevocationHandle`], never by its ID, so a log of
/// them hands out no cookie.
///
/// ```
/// use http_session::{Headers, Session, SessionEvent};
/// use std::sync::{Arc, Mutex};
///
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let log = Arc::clone(&seen);
/// let session = Session::builder()
///     .on_event(move |event: &SessionEvent| log.lock().unwrap().push(event.to_string()))
///     .build()?;
/// let id = session.create(serde_json::json!({}))?;
/// session.bind_user(&id, "ana")?;
/// session.delete(&id, &mut Headers::new())?;
///
/// let seen = seen.lock().unwrap();
/// assert_eq!(seen[0], "created");
/// assert!(seen[1].starts_with("bound to user \"ana\""));
/// assert_eq!(seen[2], "destroyed");
/// assert!(seen.iter().all(|line| !line.contains(id.as_str())));
/// # Ok::<(), http_session::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionEvent {
    /// A session was created.
    Created,
    /// A session moved to a fresh ID ([`Session::regenerate`](crate::Session::regenerate),
    /// [`SessionHandle::regenerate`](crate::SessionHandle::regenerate)).
    Regenerated {
        /// Its user, if it is bound to one.
        user: Option<String>,
    },
    /// A session was bound to a user (a login).
    Bound {
        /// The user.
        user: String,
        /// The session's handle in the user's listing.
        handle: RevocationHandle,
    },
    /// A session was ended by the application (a logout).
    Destroyed,
    /// A session was ended through its user: [`Session::revoke`](crate::Session::revoke),
    /// [`Session::revoke_all`](crate::Session::revoke_all), or the per-user
    /// cap ([`SessionBuilder::max_sessions_per_user`](crate::SessionBuilder::max_sessions_per_user)).
    Revoked {
        /// The user.
        user: String,
        /// The handle of the session ended.
        handle: RevocationHandle,
    },
    /// A request named a session that had expired; its record was removed.
    ExpiredOnRead,
    /// A request's session cookie led nowhere: the same reports as
    /// [`SessionBuilder::on_rejection`](crate::SessionBuilder::on_rejection).
    Rejected(Rejection),
    /// The store failed (it is down, or a record is corrupt); the call
    /// returned the error too.
    StoreError {
        /// The call that failed, such as `"commit"` or `"revoke_all"`.
        operation: &'static str,
        /// The error's message (errors never carry an ID or a value).
        message: String,
    },
}

impl fmt::Display for SessionEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionEvent::Created => f.write_str("created"),
            SessionEvent::Regenerated { user: None } => f.write_str("regenerated"),
            SessionEvent::Regenerated { user: Some(user) } => {
                write!(f, "regenerated (user {user:?})")
            }
            SessionEvent::Bound { user, handle } => {
                write!(f, "bound to user {user:?} as {handle:?}")
            }
            SessionEvent::Destroyed => f.write_str("destroyed"),
            SessionEvent::Revoked { user, handle } => {
                write!(f, "revoked {handle:?} of user {user:?}")
            }
            SessionEvent::ExpiredOnRead => f.write_str("expired (found on read)"),
            SessionEvent::Rejected(rejection) => write!(f, "rejected: {rejection}"),
            SessionEvent::StoreError { operation, message } => {
                write!(f, "store error in {operation}: {message}")
            }
        }
    }
}

/// The hook a [`Session`](crate::Session) reports events to.
#[derive(Clone, Default)]
pub(crate) struct EventHook(Option<Arc<Hook>>);

/// `UnwindSafe`, so that a `Session` stays so.
type Hook = dyn Fn(&SessionEvent) + Send + Sync + UnwindSafe + RefUnwindSafe;

impl EventHook {
    pub(crate) fn new(
        hook: impl Fn(&SessionEvent) + Send + Sync + UnwindSafe + RefUnwindSafe + 'static,
    ) -> Self {
        EventHook(Some(Arc::new(hook)))
    }

    /// Reports the event `make` builds, built only if there is a hook.
    pub(crate) fn report(&self, make: impl FnOnce() -> SessionEvent) {
        if let Some(hook) = &self.0 {
            hook(&make());
        }
    }
}

impl fmt::Debug for EventHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Some(<hook>)"
        } else {
            "None"
        })
    }
}

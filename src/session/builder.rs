//! [`SessionBuilder`]: a [`Session`]'s settings, their defaults, and the
//! checks that make a bad setting fail at start-up.

use std::fmt;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::time::Duration;

use super::Session;
use crate::cookie::{self, CookieOptions};
use crate::event::{EventHook, SessionEvent};
use crate::rejection::{Rejection, RejectionHook};
use crate::{Clock, Error, MemoryStore, SessionId, Store};

/// The default cookie name.
const DEFAULT_COOKIE_NAME: &str = "session_id";
/// Default idle timeout: 30 minutes, the upper end of OWASP's range for low-risk
/// applications (PHP's default is 24 minutes).
pub const DEFAULT_TTL: Duration = Duration::from_secs(30 * 60);
/// Default absolute lifetime: 12 hours, a working day with room to spare.
pub const DEFAULT_ABSOLUTE_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);
/// Default limit on a session's data: 64 KiB of JSON.
pub const DEFAULT_MAX_DATA_SIZE: usize = 64 * 1024;
/// Default share of the idle timeout that must pass before a read renews it:
/// half ([`SessionBuilder::renew_after`]).
const DEFAULT_RENEW_AFTER: f64 = 0.5;
/// Longest lifetime accepted at all: anything longer is a mistake.
const MAX_LIFETIME: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// Settings for a [`Session`]; [`build`](SessionBuilder::build) checks them all,
/// so a bad cookie name or option fails at start-up, not on the first request.
///
/// ```
/// use http_session::{cookie::CookieOptions, MemoryStore, Session};
/// use std::time::Duration;
///
/// let session = Session::builder()
///     .cookie_name("my_custom_cookie")
///     .store(MemoryStore::builder().max_sessions(100_000).build())
///     .ttl(Duration::from_secs(15 * 60))
///     .absolute_lifetime(Duration::from_secs(8 * 3600))
///     .cookie_options(CookieOptions::default().path("/app"))
///     .build()?;
/// assert_eq!(session.cookie_name(), "my_custom_cookie");
///
/// assert!(Session::builder().cookie_name("no spaces").build().is_err());
/// # Ok::<(), http_session::Error>(())
/// ```
pub struct SessionBuilder<S: Store = MemoryStore> {
    store: S,
    config: Config,
}

/// What a [`Session`] and its [`SessionBuilder`] share: the settings, and their
/// defaults in one place.
#[derive(Clone)]
pub(super) struct Config {
    pub(super) cookie_name: String,
    pub(super) cookie_options: CookieOptions,
    pub(super) ttl: Option<Duration>,
    pub(super) absolute_lifetime: Option<Duration>,
    /// Share of the idle timeout that must pass before a read renews it.
    pub(super) renew_after: f64,
    pub(super) max_data_size: usize,
    pub(super) clock: Clock,
    pub(super) on_rejection: RejectionHook,
    pub(super) on_event: EventHook,
    /// Most sessions one user may hold; binding one more ends the least
    /// recently seen.
    pub(super) max_sessions_per_user: Option<usize>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            cookie_name: DEFAULT_COOKIE_NAME.to_owned(),
            cookie_options: CookieOptions::default(),
            ttl: Some(DEFAULT_TTL),
            absolute_lifetime: Some(DEFAULT_ABSOLUTE_LIFETIME),
            renew_after: DEFAULT_RENEW_AFTER,
            max_data_size: DEFAULT_MAX_DATA_SIZE,
            clock: Clock::system(),
            on_rejection: RejectionHook::default(),
            on_event: EventHook::default(),
            max_sessions_per_user: None,
        }
    }
}

/// Settings only: never an ID or session data.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("cookie_name", &self.cookie_name)
            .field("cookie_options", &self.cookie_options)
            .field("ttl", &self.ttl)
            .field("absolute_lifetime", &self.absolute_lifetime)
            .field("renew_after", &self.renew_after)
            .field("max_data_size", &self.max_data_size)
            .field("clock", &self.clock)
            .field("on_rejection", &self.on_rejection)
            .field("on_event", &self.on_event)
            .field("max_sessions_per_user", &self.max_sessions_per_user)
            .finish()
    }
}

impl<S: Store + fmt::Debug> fmt::Debug for SessionBuilder<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionBuilder")
            .field("store", &self.store)
            .field("config", &self.config)
            .finish()
    }
}

impl Session<MemoryStore> {
    /// Settings for a session; [`SessionBuilder::store`] picks another store.
    ///
    /// ```
    /// let session = http_session::Session::builder().cookie_name("sid").build()?;
    /// assert_eq!(session.cookie_name(), "sid");
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn builder() -> SessionBuilder<MemoryStore> {
        SessionBuilder {
            store: MemoryStore::new(),
            config: Config::default(),
        }
    }
}

impl<S: Store> SessionBuilder<S> {
    /// The cookie's name (default `session_id`); must be an RFC 7230 token.
    pub fn cookie_name(mut self, name: &str) -> Self {
        self.config.cookie_name = name.to_owned();
        self
    }

    /// The store sessions live in (default: a new [`MemoryStore`]).
    pub fn store<T: Store>(self, store: T) -> SessionBuilder<T> {
        SessionBuilder {
            store,
            config: self.config,
        }
    }

    /// Idle timeout: a session unused for this long expires. `None` for none.
    /// Default [`DEFAULT_TTL`] (30 minutes); at least one second.
    ///
    /// "Used" means any request that reads or writes the session: writes roll
    /// the timeout forward, and so do reads once part of it has passed (see
    /// [`renew_after`](Self::renew_after)).
    pub fn ttl(mut self, ttl: impl Into<Option<Duration>>) -> Self {
        self.config.ttl = ttl.into();
        self
    }

    /// Absolute lifetime: a session expires this long after it was created,
    /// however active, and regeneration does not restart it. `None` for none.
    /// Default [`DEFAULT_ABSOLUTE_LIFETIME`] (12 hours); at least one second.
    pub fn absolute_lifetime(mut self, lifetime: impl Into<Option<Duration>>) -> Self {
        self.config.absolute_lifetime = lifetime.into();
        self
    }

    /// When a read renews the idle timeout: once this share of it has passed
    /// (default 0.5: when less than half is left).
    ///
    /// The cost is at most one store write per session per window (and, through
    /// [`SessionHandle::commit`](crate::SessionHandle::commit), one `Set-Cookie`
    /// that renews the cookie too), never past the absolute lifetime. `0.0`
    /// renews on every read (a write per read); `1.0` never renews on reads, so
    /// only writes and [`touch`](Session::touch) keep a session alive. Writes
    /// always renew: they write anyway. From 0.0 to 1.0.
    ///
    /// ```
    /// use http_session::{ManualClock, Session};
    /// use std::time::{Duration, SystemTime};
    ///
    /// let clock = ManualClock::new(SystemTime::now());
    /// let session = Session::builder()
    ///     .ttl(Duration::from_secs(30 * 60))
    ///     .clock(clock.clock())
    ///     .build()?; // renew_after(0.5), the default
    /// let id = session.create(serde_json::json!({"user": "ana"}))?;
    /// // Read every 10 minutes, never written: the session lives on.
    /// for _ in 0..12 {
    ///     clock.advance(Duration::from_secs(10 * 60));
    ///     assert!(session.get(&id)?.is_some());
    /// }
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn renew_after(mut self, share: f64) -> Self {
        self.config.renew_after = share;
        self
    }

    /// Attributes of the session cookie (default `Path=/; HttpOnly; Secure;
    /// SameSite=Lax`). `Max-Age` and `Expires` follow the session's lifetime
    /// unless set here.
    pub fn cookie_options(mut self, options: CookieOptions) -> Self {
        self.config.cookie_options = options;
        self
    }

    /// Largest session data accepted, in bytes of JSON (default 64 KiB).
    /// [`Session::create`] and [`Session::update`] refuse more with
    /// [`Error::DataTooLarge`].
    pub fn max_data_size(mut self, bytes: usize) -> Self {
        self.config.max_data_size = bytes;
        self
    }

    /// The clock that expiry is judged by (default: the system clock).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.config.clock = clock;
        self
    }

    /// Calls `hook` for each session cookie that leads nowhere: a malformed value,
    /// or a well-formed ID the store does not know (see [`Rejection`]). Servers
    /// count these per client to spot and rate-limit session-ID guessing. The
    /// hook gets a redacted ID only, never a whole one; it runs on the request's
    /// thread, so keep it quick. Default: none.
    ///
    /// ```
    /// use http_session::{Headers, Rejection, Session};
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let guesses = Arc::new(AtomicUsize::new(0));
    /// let counter = Arc::clone(&guesses);
    /// let session = Session::builder()
    ///     .on_rejection(move |rejection: Rejection| {
    ///         counter.fetch_add(1, Ordering::Relaxed);
    ///         eprintln!("session rejected: {rejection}"); // never a full ID
    ///     })
    ///     .build()?;
    ///
    /// let guess = http_session::SessionId::generate();
    /// let req = Headers::new().with("Cookie", &format!("session_id={guess}"));
    /// assert_eq!(session.from_request(&req)?, None);
    /// assert_eq!(guesses.load(Ordering::Relaxed), 1);
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn on_rejection(
        mut self,
        hook: impl Fn(Rejection) + Send + Sync + UnwindSafe + RefUnwindSafe + 'static,
    ) -> Self {
        self.config.on_rejection = RejectionHook::new(hook);
        self
    }

    /// Calls `hook` for each [`SessionEvent`]: created, regenerated, bound to
    /// a user, destroyed, revoked, expired on read, rejected (the reports of
    /// [`on_rejection`](Self::on_rejection), too) and store errors. Events
    /// never carry a session ID, only a user and a revocation handle. The hook
    /// runs on the request's thread after the store acted: keep it quick (log
    /// a line, bump a counter). Default: none.
    ///
    /// ```
    /// use http_session::{Session, SessionEvent};
    /// let session = Session::builder()
    ///     .on_event(|event: &SessionEvent| eprintln!("session: {event}"))
    ///     .build()?;
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn on_event(
        mut self,
        hook: impl Fn(&SessionEvent) + Send + Sync + UnwindSafe + RefUnwindSafe + 'static,
    ) -> Self {
        self.config.on_event = EventHook::new(hook);
        self
    }

    /// Most sessions one user may hold at once (default: no cap). Binding a
    /// session to a user who already has `max` ([`Session::bind_user`],
    /// [`SessionHandle::set_user`](crate::SessionHandle::set_user)) ends the
    /// least recently seen ones, so that `max` remain; concurrent logins
    /// agree on which, and leave exactly `max`. At least 1. Needs a store
    /// with a [`UserIndex`](crate::store::UserIndex).
    ///
    /// ```
    /// use http_session::{ManualClock, Session};
    /// use std::time::{Duration, SystemTime};
    ///
    /// let clock = ManualClock::new(SystemTime::now());
    /// let session = Session::builder()
    ///     .max_sessions_per_user(2)
    ///     .clock(clock.clock())
    ///     .build()?;
    /// let mut ids = Vec::new();
    /// for _ in 0..3 {
    ///     let id = session.create(serde_json::json!({}))?;
    ///     session.bind_user(&id, "ana")?;
    ///     ids.push(id);
    ///     clock.advance(Duration::from_secs(60));
    /// }
    /// // The first login is the least recently seen: it was ended.
    /// assert_eq!(session.get(&ids[0])?, None);
    /// assert_eq!(session.sessions_of("ana", None)?.len(), 2);
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn max_sessions_per_user(mut self, max: usize) -> Self {
        self.config.max_sessions_per_user = Some(max);
        self
    }

    /// Checks every setting and builds the session.
    pub fn build(self) -> Result<Session<S>, Error> {
        let config = self.config;
        for (what, value) in [
            ("ttl", config.ttl),
            ("absolute_lifetime", config.absolute_lifetime),
        ] {
            match value {
                Some(d) if d < Duration::from_secs(1) => {
                    return Err(Error::config(format!(
                        "{what} must be at least one second (a shorter one renders Max-Age=0, \
                         which deletes the cookie)"
                    )))
                }
                Some(d) if d > MAX_LIFETIME => {
                    return Err(Error::config(format!("{what} must be at most 100 years")))
                }
                _ => {}
            }
        }
        if !(0.0..=1.0).contains(&config.renew_after) {
            return Err(Error::config(
                "renew_after is a share of the idle timeout: from 0.0 to 1.0",
            ));
        }
        if let Some(max_age) = config.cookie_options.max_age {
            if max_age < Duration::from_secs(1) {
                return Err(Error::attribute(
                    "Max-Age",
                    "the session cookie's Max-Age must be at least one second",
                ));
            }
        }
        if config.max_sessions_per_user == Some(0) {
            return Err(Error::config("max_sessions_per_user must be at least 1"));
        }
        if config.max_data_size < 2 {
            return Err(Error::config("max_data_size must be at least 2 bytes ({})"));
        }
        // Rendering both cookies once proves the name and options are valid.
        cookie::serialize(
            &config.cookie_name,
            SessionId::from_bytes([0; 32]).as_str(),
            &config.cookie_options,
        )?;
        let removal_cookie =
            cookie::serialize_removal(&config.cookie_name, &config.cookie_options)?;
        Ok(Session {
            store: self.store,
            config,
            removal_cookie,
        })
    }
}

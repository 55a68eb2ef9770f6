//! [`Session`], the one object a server keeps, and its [`SessionBuilder`].

use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde_json::Value;

use crate::cookie::{self, CookieOptions, MAX_COOKIE_LIFETIME};
use crate::rejection::{Rejection, RejectionHook};
use crate::{Clock, Data, Error, MemoryStore, Record, Request, Response, SessionId, Store};

/// The default cookie name, as in the seed.
pub const DEFAULT_COOKIE_NAME: &str = "session_id";
/// Default idle timeout: 30 minutes, the upper end of OWASP's range for low-risk
/// applications (PHP's default is 24 minutes).
pub const DEFAULT_TTL: Duration = Duration::from_secs(30 * 60);
/// Default absolute lifetime: 12 hours, a working day with room to spare.
pub const DEFAULT_ABSOLUTE_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);
/// Default limit on a session's data: 64 KiB of JSON.
pub const DEFAULT_MAX_DATA_SIZE: usize = 64 * 1024;
/// At most this many candidate IDs from one request reach the store.
pub const MAX_CANDIDATES: usize = 4;
/// Fresh IDs tried before giving up with [`Error::IdCollision`].
const MAX_ID_ATTEMPTS: u32 = 4;
/// Longest lifetime accepted at all: anything longer is a mistake.
const MAX_LIFETIME: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// Server-side sessions: a random ID in a cookie, the data in a [`Store`].
///
/// Keep one `Session` for the whole server (it is `Send + Sync`; put it in an
/// `Arc` to share it across worker threads) and call it from each handler. The
/// calls mirror the seed's `Session` class:
///
/// ```
/// use http_session::{Headers, Request, Session};
/// use serde_json::json;
///
/// let session = Session::new(); // MemoryStore, cookie "session_id"
///
/// // GET /login
/// let mut res = Headers::new();
/// let id = session.create(json!({"userId": "123"}))?;
/// session.set_cookie(&mut res, &id)?;
///
/// // GET /profile, with the cookie the browser sends back
/// let cookie = res.get("Set-Cookie").unwrap().split(';').next().unwrap();
/// let req = Headers::new().with("Cookie", cookie);
/// assert_eq!(session.from_request(&req)?.unwrap()["userId"], "123");
///
/// // GET /update-role
/// let id = session.id_from_request(&req).unwrap();
/// assert!(session.update(&id, json!({"role": "admin"}))?);
/// assert_eq!(session.get(&id)?.unwrap()["role"], "admin");
///
/// // GET /logout
/// let mut res = Headers::new();
/// session.delete(&id, &mut res)?;
/// assert!(res.get("Set-Cookie").unwrap().contains("Max-Age=0"));
/// assert_eq!(session.from_request(&req)?, None);
/// # Ok::<(), http_session::Error>(())
/// ```
///
/// Expiry: each session has an idle timeout ([`DEFAULT_TTL`], rolled forward by
/// [`update`](Session::update) and [`touch`](Session::touch)) and an absolute
/// lifetime ([`DEFAULT_ABSOLUTE_LIFETIME`]) that activity never extends. An
/// expired session is never returned, revived or updated.
#[derive(Debug)]
pub struct Session<S: Store = MemoryStore> {
    store: S,
    cookie_name: String,
    cookie_options: CookieOptions,
    removal_cookie: String,
    ttl: Option<Duration>,
    absolute_lifetime: Option<Duration>,
    max_data_size: usize,
    clock: Clock,
    on_rejection: RejectionHook,
}

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
#[derive(Debug)]
pub struct SessionBuilder<S: Store = MemoryStore> {
    store: S,
    cookie_name: String,
    cookie_options: CookieOptions,
    ttl: Option<Duration>,
    absolute_lifetime: Option<Duration>,
    max_data_size: usize,
    clock: Clock,
    on_rejection: RejectionHook,
}

impl Session<MemoryStore> {
    /// A session on a fresh [`MemoryStore`], with cookie `session_id` and the
    /// secure defaults.
    ///
    /// ```
    /// let session = http_session::Session::new();
    /// assert_eq!(session.cookie_name(), "session_id");
    /// ```
    pub fn new() -> Session<MemoryStore> {
        Session::with_store(MemoryStore::new())
    }

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
            cookie_name: DEFAULT_COOKIE_NAME.to_owned(),
            cookie_options: CookieOptions::default(),
            ttl: Some(DEFAULT_TTL),
            absolute_lifetime: Some(DEFAULT_ABSOLUTE_LIFETIME),
            max_data_size: DEFAULT_MAX_DATA_SIZE,
            clock: Clock::system(),
            on_rejection: RejectionHook::default(),
        }
    }
}

impl Default for Session<MemoryStore> {
    fn default() -> Self {
        Session::new()
    }
}

impl<S: Store> SessionBuilder<S> {
    /// The cookie's name (default `session_id`); must be an RFC 7230 token.
    pub fn cookie_name(mut self, name: &str) -> Self {
        self.cookie_name = name.to_owned();
        self
    }

    /// The store sessions live in (default: a new [`MemoryStore`]).
    pub fn store<T: Store>(self, store: T) -> SessionBuilder<T> {
        SessionBuilder {
            store,
            cookie_name: self.cookie_name,
            cookie_options: self.cookie_options,
            ttl: self.ttl,
            absolute_lifetime: self.absolute_lifetime,
            max_data_size: self.max_data_size,
            clock: self.clock,
            on_rejection: self.on_rejection,
        }
    }

    /// Idle timeout: a session unused for this long expires. `None` for none.
    /// Default [`DEFAULT_TTL`] (30 minutes); at least one second.
    pub fn ttl(mut self, ttl: impl Into<Option<Duration>>) -> Self {
        self.ttl = ttl.into();
        self
    }

    /// Absolute lifetime: a session expires this long after it was created,
    /// however active. `None` for none. Default [`DEFAULT_ABSOLUTE_LIFETIME`]
    /// (12 hours); at least one second.
    pub fn absolute_lifetime(mut self, lifetime: impl Into<Option<Duration>>) -> Self {
        self.absolute_lifetime = lifetime.into();
        self
    }

    /// Attributes of the session cookie (default `Path=/; HttpOnly; Secure;
    /// SameSite=Lax`). `Max-Age` and `Expires` follow the session's lifetime
    /// unless set here.
    pub fn cookie_options(mut self, options: CookieOptions) -> Self {
        self.cookie_options = options;
        self
    }

    /// Largest session data accepted, in bytes of JSON (default 64 KiB).
    /// [`Session::create`] and [`Session::update`] refuse more with
    /// [`Error::DataTooLarge`].
    pub fn max_data_size(mut self, bytes: usize) -> Self {
        self.max_data_size = bytes;
        self
    }

    /// The clock that expiry is judged by (default: the system clock).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
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
    pub fn on_rejection(mut self, hook: impl Fn(Rejection) + Send + Sync + 'static) -> Self {
        self.on_rejection = RejectionHook::new(hook);
        self
    }

    /// Checks every setting and builds the session.
    pub fn build(self) -> Result<Session<S>, Error> {
        for (what, value) in [
            ("ttl", self.ttl),
            ("absolute_lifetime", self.absolute_lifetime),
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
        if let Some(max_age) = self.cookie_options.max_age {
            if max_age < Duration::from_secs(1) {
                return Err(Error::attribute(
                    "Max-Age",
                    "the session cookie's Max-Age must be at least one second",
                ));
            }
        }
        if self.max_data_size < 2 {
            return Err(Error::config("max_data_size must be at least 2 bytes ({})"));
        }
        // Rendering both cookies once proves the name and options are valid.
        cookie::serialize(
            &self.cookie_name,
            SessionId::from_bytes([0; 32]).as_str(),
            &self.cookie_options,
        )?;
        let removal_cookie = cookie::serialize_removal(&self.cookie_name, &self.cookie_options)?;
        Ok(Session {
            store: self.store,
            cookie_name: self.cookie_name,
            cookie_options: self.cookie_options,
            removal_cookie,
            ttl: self.ttl,
            absolute_lifetime: self.absolute_lifetime,
            max_data_size: self.max_data_size,
            clock: self.clock,
            on_rejection: self.on_rejection,
        })
    }
}

impl<S: Store> Session<S> {
    /// A session on `store`, with cookie `session_id` and the secure defaults.
    ///
    /// ```
    /// use http_session::{MemoryStore, Session};
    /// let session = Session::with_store(MemoryStore::new());
    /// ```
    pub fn with_store(store: S) -> Session<S> {
        let cookie_options = CookieOptions::default();
        // The defaults are valid, so this rendering cannot fail.
        let removal_cookie =
            cookie::serialize_removal(DEFAULT_COOKIE_NAME, &cookie_options).unwrap_or_default();
        Session {
            store,
            cookie_name: DEFAULT_COOKIE_NAME.to_owned(),
            cookie_options,
            removal_cookie,
            ttl: Some(DEFAULT_TTL),
            absolute_lifetime: Some(DEFAULT_ABSOLUTE_LIFETIME),
            max_data_size: DEFAULT_MAX_DATA_SIZE,
            clock: Clock::system(),
            on_rejection: RejectionHook::default(),
        }
    }

    /// Creates a session holding `data` (anything that serializes to a JSON
    /// object) under a fresh ID, and returns the ID. Nothing is stored if `data`
    /// is not an object or is too large.
    ///
    /// ```
    /// # let session = http_session::Session::new();
    /// #[derive(serde::Serialize)]
    /// struct Login { user_id: u64 }
    /// let id = session.create(Login { user_id: 123 })?;
    /// assert_eq!(session.get(&id)?.unwrap()["user_id"], 123);
    /// assert!(session.create(vec![1, 2]).is_err());
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn create(&self, data: impl Serialize) -> Result<SessionId, Error> {
        self.insert_new(|| {
            let data = to_object(&data)?;
            self.check_size(&data)?;
            self.new_record(data)
        })
    }

    /// The data of session `id`, or `None` if it is unknown or expired.
    ///
    /// ```
    /// # let session = http_session::Session::new();
    /// let id = session.create(serde_json::json!({"userId": "123"}))?;
    /// assert_eq!(session.get(&id)?.unwrap()["userId"], "123");
    /// assert_eq!(session.get(&http_session::SessionId::generate())?, None);
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn get(&self, id: &SessionId) -> Result<Option<Data>, Error> {
        Ok(self.load(id)?.map(|record| record.data))
    }

    /// Merges `data` (a JSON object) into session `id`, key by key, and rolls its
    /// idle timeout forward. Returns `false` if the session is unknown or expired.
    ///
    /// The merge runs inside [`Store::update`], so concurrent updates of one
    /// session lose nothing; if the result would be too large, nothing changes.
    ///
    /// ```
    /// # let session = http_session::Session::new();
    /// use serde_json::json;
    /// let id = session.create(json!({"userId": "123", "role": "user"}))?;
    /// assert!(session.update(&id, json!({"role": "admin"}))?);
    /// assert_eq!(session.get(&id)?.unwrap(), *json!({"userId": "123", "role": "admin"}).as_object().unwrap());
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn update(&self, id: &SessionId, data: impl Serialize) -> Result<bool, Error> {
        let patch = to_object(&data)?;
        self.check_size(&patch)?;
        let now = self.clock.now();
        let mut outcome = Ok(true);
        let found = self.store.update_at(id, now, &mut |record| {
            outcome = self.merge(record, &patch, now);
            matches!(outcome, Ok(true))
        })?;
        match outcome {
            Ok(true) => Ok(found),
            Ok(false) => {
                self.forget_expired(id);
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// Changes session `id`'s data in place with `f`, atomically, and rolls its
    /// idle timeout forward; returns what `f` returned, or `None` if the session
    /// is unknown or expired.
    ///
    /// This is the read-modify-write that [`update`](Session::update) (a merge of
    /// values computed beforehand) cannot express: the closure runs inside
    /// [`Store::update`], so concurrent calls on one session never lose a change.
    /// If the data would end up too large, nothing changes and the error says so.
    /// A store may run `f` more than once (optimistic stores retry), so `f`
    /// should compute only from the data it is given.
    ///
    /// ```
    /// # let session = http_session::Session::new();
    /// use serde_json::{json, Value};
    /// let id = session.create(json!({"visits": 1}))?;
    /// let visits = session.update_with(&id, |data| {
    ///     let visits = data.get("visits").and_then(Value::as_u64).unwrap_or(0) + 1;
    ///     data.insert("visits".into(), visits.into());
    ///     visits
    /// })?;
    /// assert_eq!(visits, Some(2));
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn update_with<T>(
        &self,
        id: &SessionId,
        mut f: impl FnMut(&mut Data) -> T,
    ) -> Result<Option<T>, Error> {
        let now = self.clock.now();
        let mut expired = false;
        let mut outcome = Ok(None);
        let found = self.store.update_at(id, now, &mut |record| {
            expired = record.is_expired(now);
            if expired {
                return false;
            }
            let value = f(&mut record.data);
            if let Err(too_large) = self.check_size(&record.data) {
                // Not stored: the session keeps the data it had.
                outcome = Err(too_large);
                return false;
            }
            self.roll(record, now);
            outcome = Ok(Some(value));
            true
        })?;
        if found && expired {
            self.forget_expired(id);
        }
        outcome
    }

    /// Deletes session `id` from the store and adds a `Set-Cookie` header that
    /// clears the cookie. If the store fails, the response is left untouched.
    ///
    /// ```
    /// use http_session::{Headers, Session};
    /// let session = Session::new();
    /// let id = session.create(serde_json::json!({"userId": "123"}))?;
    /// let mut res = Headers::new();
    /// session.delete(&id, &mut res)?;
    /// assert_eq!(session.get(&id)?, None);
    /// assert!(res.get("Set-Cookie").unwrap().starts_with("session_id=; Path=/; Max-Age=0;"));
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn delete(&self, id: &SessionId, res: &mut impl Response) -> Result<(), Error> {
        self.store.delete(id)?;
        self.clear_cookie(res);
        Ok(())
    }

    /// Adds a `Set-Cookie` header that clears the session cookie (same `Path`
    /// and `Domain`, `Max-Age=0`), without touching the store.
    ///
    /// ```
    /// use http_session::{Headers, Session};
    /// let mut res = Headers::new();
    /// Session::new().clear_cookie(&mut res);
    /// assert!(res.get("Set-Cookie").unwrap().contains("Max-Age=0"));
    /// ```
    pub fn clear_cookie(&self, res: &mut impl Response) {
        res.append_header("Set-Cookie", &self.removal_cookie);
    }

    /// Adds the `Set-Cookie` header for session `id`, with the session's cookie
    /// options; `Max-Age` and `Expires` follow the session's lifetime (capped at
    /// 400 days, as browsers do) unless the options set them.
    ///
    /// ```
    /// use http_session::{Headers, Session};
    /// let session = Session::new(); // idle timeout 30 minutes
    /// let id = session.create(serde_json::json!({}))?;
    /// let mut res = Headers::new();
    /// session.set_cookie(&mut res, &id)?;
    /// let header = res.get("Set-Cookie").unwrap();
    /// assert!(header.starts_with(&format!("session_id={id}; Path=/; Max-Age=1800; Expires=")));
    /// assert!(header.ends_with("; HttpOnly; Secure; SameSite=Lax"));
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn set_cookie(&self, res: &mut impl Response, id: &SessionId) -> Result<(), Error> {
        let options = &self.cookie_options;
        let (mut max_age, mut expires) = (options.max_age, options.expires);
        if max_age.is_none() && expires.is_none() {
            if let Some(lifetime) = self.cookie_lifetime() {
                let at = self
                    .clock
                    .now()
                    .checked_add(lifetime)
                    .ok_or(Error::TimeOverflow)?;
                (max_age, expires) = (Some(lifetime), Some(at));
            }
        }
        // The lifetime is stamped on a borrowed copy of the options: no clone.
        let header = cookie::serialize_with_lifetime(
            &self.cookie_name,
            id.as_str(),
            options,
            max_age,
            expires,
        )?;
        res.append_header("Set-Cookie", &header);
        Ok(())
    }

    /// Adds the `Set-Cookie` header for session `id` with exactly `options`, as
    /// the seed's `setCookie(res, id, options)` does. Invalid options are an
    /// error and no header is added.
    ///
    /// ```
    /// use http_session::{cookie::CookieOptions, Headers, Session};
    /// use std::time::Duration;
    ///
    /// let session = Session::new();
    /// let id = session.create(serde_json::json!({}))?;
    /// let mut res = Headers::new();
    /// session.set_cookie_with(&mut res, &id, &CookieOptions::default().max_age(Duration::from_secs(3600)))?;
    /// assert!(res.get("Set-Cookie").unwrap().contains("Max-Age=3600"));
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn set_cookie_with(
        &self,
        res: &mut impl Response,
        id: &SessionId,
        options: &CookieOptions,
    ) -> Result<(), Error> {
        let header = cookie::serialize(&self.cookie_name, id.as_str(), options)?;
        res.append_header("Set-Cookie", &header);
        Ok(())
    }

    /// The data of the session that the request's cookie names, or `None`.
    ///
    /// Every `Cookie` header is read; each well-formed ID under the session's
    /// cookie name is tried in order (at most [`MAX_CANDIDATES`]), and the first
    /// one the store knows wins. Malformed values never reach the store.
    ///
    /// ```
    /// use http_session::{Headers, Session};
    /// let session = Session::new();
    /// let id = session.create(serde_json::json!({"userId": "123"}))?;
    /// let req = Headers::new().with("Cookie", &format!("theme=dark; session_id={id}"));
    /// assert_eq!(session.from_request(&req)?.unwrap()["userId"], "123");
    /// assert_eq!(session.from_request(&Headers::new())?, None);
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn from_request(&self, req: &impl Request) -> Result<Option<Data>, Error> {
        Ok(self.lookup(req)?.map(|(_, data)| data))
    }

    /// Like [`from_request`](Session::from_request), with the ID that matched.
    ///
    /// Cookies that lead nowhere are reported to the
    /// [`on_rejection`](SessionBuilder::on_rejection) hook.
    ///
    /// ```
    /// use http_session::{Headers, Session, SessionId};
    /// let session = Session::new();
    /// let id = session.create(serde_json::json!({"n": 1}))?;
    /// // A stale cookie first (cookie tossing, path overlap): the known one wins.
    /// let stale = SessionId::generate();
    /// let req = Headers::new().with("Cookie", &format!("session_id={stale}; session_id={id}"));
    /// let (found, data) = session.lookup(&req)?.unwrap();
    /// assert_eq!((found, data["n"].as_i64()), (id, Some(1)));
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn lookup(&self, req: &impl Request) -> Result<Option<(SessionId, Data)>, Error> {
        for id in self.screen(req) {
            if let Some(record) = self.load(&id)? {
                return Ok(Some((id, record.data)));
            }
            self.reject_unknown(&id);
        }
        Ok(None)
    }

    /// The first well-formed session ID in the request's cookies, without asking
    /// the store whether it is known (the seed's `req.cookies.get("session_id")`).
    ///
    /// ```
    /// use http_session::{Headers, Session, SessionId};
    /// let session = Session::new();
    /// let id = SessionId::generate();
    /// let req = Headers::new().with("Cookie", &format!("session_id={id}"));
    /// assert_eq!(session.id_from_request(&req), Some(id));
    /// let junk = Headers::new().with("Cookie", "session_id=../../etc/passwd");
    /// assert_eq!(session.id_from_request(&junk), None);
    /// ```
    pub fn id_from_request(&self, req: &impl Request) -> Option<SessionId> {
        self.candidates(req).next()
    }

    /// Moves session `id`'s data to a fresh ID, deletes the old one and sets the
    /// new cookie; returns the new ID, or `None` if `id` is unknown or expired.
    ///
    /// Call it on login and on every privilege change: an ID an attacker planted
    /// or saw before login is worthless afterwards. The new session's idle timeout
    /// and absolute lifetime start afresh.
    ///
    /// ```
    /// use http_session::{Headers, Session};
    /// let session = Session::new();
    /// let before_login = session.create(serde_json::json!({"cart": [1]}))?;
    /// let mut res = Headers::new();
    /// let after_login = session.regenerate(&before_login, &mut res)?.unwrap();
    /// assert_eq!(session.get(&before_login)?, None);
    /// assert_eq!(session.get(&after_login)?.unwrap()["cart"][0], 1);
    /// assert!(res.get("Set-Cookie").unwrap().starts_with(&format!("session_id={after_login};")));
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn regenerate(
        &self,
        id: &SessionId,
        res: &mut impl Response,
    ) -> Result<Option<SessionId>, Error> {
        let Some(old) = self.load(id)? else {
            return Ok(None);
        };
        let new_id = self.insert_new(|| self.new_record(old.data.clone()))?;
        self.store.delete(id)?;
        self.set_cookie(res, &new_id)?;
        Ok(Some(new_id))
    }

    /// Rolls session `id`'s idle timeout forward without changing its data;
    /// `false` if it is unknown or expired.
    ///
    /// ```
    /// # let session = http_session::Session::new();
    /// let id = session.create(serde_json::json!({}))?;
    /// assert!(session.touch(&id)?);
    /// assert!(!session.touch(&http_session::SessionId::generate())?);
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn touch(&self, id: &SessionId) -> Result<bool, Error> {
        let now = self.clock.now();
        let mut alive = true;
        let found = self.store.update_at(id, now, &mut |record| {
            alive = !record.is_expired(now);
            if alive {
                self.roll(record, now);
            }
            alive
        })?;
        if found && !alive {
            self.forget_expired(id);
        }
        Ok(found && alive)
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The cookie's name.
    pub fn cookie_name(&self) -> &str {
        &self.cookie_name
    }

    /// The cookie options [`set_cookie`](Session::set_cookie) starts from.
    pub fn cookie_options(&self) -> &CookieOptions {
        &self.cookie_options
    }

    /// The idle timeout, if any.
    pub fn ttl(&self) -> Option<Duration> {
        self.ttl
    }

    /// The absolute lifetime, if any.
    pub fn absolute_lifetime(&self) -> Option<Duration> {
        self.absolute_lifetime
    }

    /// The clock expiry is judged by.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The largest session data accepted, in bytes of JSON.
    pub fn max_data_size(&self) -> usize {
        self.max_data_size
    }

    /// The well-formed IDs under the session's cookie name, at most
    /// [`MAX_CANDIDATES`] of them.
    pub(crate) fn candidates<'r>(
        &'r self,
        req: &'r impl Request,
    ) -> impl Iterator<Item = SessionId> + 'r {
        self.cookie_values(req)
            .filter_map(|value| value.parse::<SessionId>().ok())
            .take(MAX_CANDIDATES)
    }

    /// The distinct IDs among the first [`MAX_CANDIDATES`] well-formed values of
    /// the session cookie, in order: the IDs a request may look up. A malformed
    /// value among those read is reported to the `on_rejection` hook, once.
    pub(crate) fn screen(&self, req: &impl Request) -> impl Iterator<Item = SessionId> {
        let mut ids: [Option<SessionId>; MAX_CANDIDATES] = Default::default();
        let mut malformed = false;
        let well_formed = self.cookie_values(req).filter_map(|value| {
            let id = value.parse::<SessionId>().ok();
            malformed |= id.is_none();
            id
        });
        for (slot, id) in well_formed.take(MAX_CANDIDATES).enumerate() {
            if !ids[..slot].iter().flatten().any(|seen| *seen == id) {
                ids[slot] = Some(id);
            }
        }
        if malformed {
            self.on_rejection.report(Rejection::MalformedCookie);
        }
        ids.into_iter().flatten()
    }

    /// Reports a well-formed ID that named no live session.
    pub(crate) fn reject_unknown(&self, id: &SessionId) {
        self.on_rejection.report(Rejection::unknown(id));
    }

    /// The values of every cookie named like the session's, in order.
    fn cookie_values<'r>(&'r self, req: &'r impl Request) -> impl Iterator<Item = &'r str> + 'r {
        req.header_values("cookie")
            .flat_map(cookie::parse)
            .filter(|(name, _)| *name == self.cookie_name)
            .map(|(_, value)| value)
    }

    /// The live record of `id`; expiry is checked here too, so a store that
    /// forgets it never revives a session.
    fn load(&self, id: &SessionId) -> Result<Option<Record>, Error> {
        match self.store.get(id)? {
            Some(record) if record.is_expired(self.clock.now()) => {
                self.forget_expired(id);
                Ok(None)
            }
            other => Ok(other),
        }
    }

    /// Best-effort removal of a record found expired: the caller's answer is
    /// "no session" either way, and a failure here changes nothing for it.
    fn forget_expired(&self, id: &SessionId) {
        let _ = self.store.delete(id);
    }

    fn insert_new(
        &self,
        mut make_record: impl FnMut() -> Result<Record, Error>,
    ) -> Result<SessionId, Error> {
        for _ in 0..MAX_ID_ATTEMPTS {
            let id = SessionId::generate();
            if self.store.create(&id, make_record()?)? {
                return Ok(id);
            }
        }
        Err(Error::IdCollision {
            attempts: MAX_ID_ATTEMPTS,
        })
    }

    fn new_record(&self, data: Data) -> Result<Record, Error> {
        let now = self.clock.now();
        let after = |d: Option<Duration>| {
            d.map(|d| now.checked_add(d).ok_or(Error::TimeOverflow))
                .transpose()
        };
        let deadline = after(self.absolute_lifetime)?;
        let idle = after(self.ttl)?;
        Ok(Record {
            data,
            expires_at: earliest(idle, deadline),
            deadline,
        })
    }

    /// Rolls the idle timeout forward, never past the deadline.
    pub(crate) fn roll(&self, record: &mut Record, now: SystemTime) {
        if let Some(ttl) = self.ttl {
            // An overflow keeps the old expiry: it can only be later than now+ttl
            // if the clock is absurd, and then the old value is the safe one.
            if let Some(idle) = now.checked_add(ttl) {
                record.expires_at = earliest(Some(idle), record.deadline);
            }
        }
    }

    /// Merges `patch` into `record`; `Ok(false)` if it had expired; an error if
    /// the result is too large (the caller then does not store it).
    fn merge(&self, record: &mut Record, patch: &Data, now: SystemTime) -> Result<bool, Error> {
        if record.is_expired(now) {
            return Ok(false);
        }
        for (key, value) in patch {
            match record.data.get_mut(key) {
                Some(slot) => slot.clone_from(value),
                None => {
                    record.data.insert(key.clone(), value.clone());
                }
            }
        }
        self.check_size(&record.data)?;
        self.roll(record, now);
        Ok(true)
    }

    pub(crate) fn check_size(&self, data: &Data) -> Result<(), Error> {
        if let Some(size) = crate::data::len_over(data, self.max_data_size) {
            return Err(Error::DataTooLarge {
                size,
                limit: self.max_data_size,
            });
        }
        Ok(())
    }

    /// How long a freshly set cookie should live: the idle timeout, or the
    /// absolute lifetime if shorter or alone, capped at 400 days.
    fn cookie_lifetime(&self) -> Option<Duration> {
        let lifetime = match (self.ttl, self.absolute_lifetime) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        lifetime.map(|d| d.min(MAX_COOKIE_LIFETIME))
    }
}

fn earliest(a: Option<SystemTime>, b: Option<SystemTime>) -> Option<SystemTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Serializes `data` to a JSON object, or says what it was instead.
fn to_object(data: &impl Serialize) -> Result<Data, Error> {
    match serde_json::to_value(data)? {
        Value::Object(map) => Ok(map),
        other => Err(Error::NotAnObject {
            found: match other {
                Value::Null => "null",
                Value::Bool(_) => "a boolean",
                Value::Number(_) => "a number",
                Value::String(_) => "a string",
                Value::Array(_) => "an array",
                Value::Object(_) => "an object",
            },
        }),
    }
}

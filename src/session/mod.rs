//! [`Session`], the one object a server keeps: the ID-based calls, and the
//! one write path (expiry, renewal, size checks) that [`SessionHandle`]
//! shares. Its settings are in [`builder`].
//!
//! [`SessionHandle`]: crate::SessionHandle

use std::fmt;
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde_json::Value;

use crate::cookie::{self, CookieOptions, MAX_COOKIE_LIFETIME};
use crate::event::SessionEvent;
use crate::rejection::Rejection;
use crate::store::Owner;
use crate::{Clock, Data, Error, MemoryStore, Record, Request, Response, SessionId, Store};

mod builder;
mod users;

use builder::Config;
pub use builder::{SessionBuilder, DEFAULT_ABSOLUTE_LIFETIME, DEFAULT_MAX_DATA_SIZE, DEFAULT_TTL};
pub use users::SessionInfo;
pub(crate) use users::{check_user, Client};

/// At most this many candidate IDs from one request reach the store.
pub const MAX_CANDIDATES: usize = 4;
/// Deepest nesting of arrays and objects accepted in session data. Stores wrap
/// the data in a record a level or two deeper, and JSON readers stop at 128:
/// data nested this deep or less can always be read back.
const MAX_DEPTH: usize = 64;
/// Fresh IDs tried before giving up with [`Error::IdCollision`].
const MAX_ID_ATTEMPTS: u32 = 4;
/// Server-side sessions: a random ID in a cookie, the data in a [`Store`].
///
/// Keep one `Session` for the whole server (it is `Send + Sync`; put it in an
/// `Arc` to share it across worker threads) and call it from each handler.
///
/// In a handler, [`Session::handle`] is the main path: it loads the request's
/// session, reads and changes it, and writes back once. The calls below take
/// a [`SessionId`] and act at once, each its own store operation: the layer
/// the handle is built on, for code that works with IDs directly.
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
/// // GET /update-role: the ID the store knows
/// let (id, _) = session.lookup(&req)?.unwrap();
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
pub struct Session<S: Store = MemoryStore> {
    store: S,
    config: Config,
    /// The clearing `Set-Cookie` value, rendered once at start-up.
    removal_cookie: String,
}

/// Shows the settings and the store's own `Debug` (the stores of this crate
/// show counts and settings, never IDs or data).
impl<S: Store + fmt::Debug> fmt::Debug for Session<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("store", &self.store)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
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
}

impl Default for Session<MemoryStore> {
    fn default() -> Self {
        Session::new()
    }
}

impl<S: Store> Session<S> {
    /// A session on `store`, with cookie `session_id` and the secure defaults:
    /// the same as `Session::builder().store(store).build()`.
    ///
    /// ```
    /// use http_session::{MemoryStore, Session};
    /// let session = Session::with_store(MemoryStore::new());
    /// ```
    pub fn with_store(store: S) -> Session<S> {
        let config = Config::default();
        // The defaults are valid (a unit test builds them), so this rendering
        // cannot fail.
        let removal_cookie = cookie::serialize_removal(&config.cookie_name, &config.cookie_options)
            .unwrap_or_default();
        Session {
            store,
            config,
            removal_cookie,
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
        self.observe(
            "create",
            to_object(&data).and_then(|data| self.create_data(data)),
        )
    }

    /// [`create`](Session::create) of data already a JSON object: the
    /// handle's commit creates through here.
    pub(crate) fn create_data(&self, data: Data) -> Result<SessionId, Error> {
        self.check_data(&data)?;
        let now = self.config.clock.now();
        let record = self.new_record(data, now, None)?;
        let id = self.insert_new(record)?;
        self.emit(|| SessionEvent::Created);
        Ok(id)
    }

    /// The data of session `id`, or `None` if it is unknown or expired (and
    /// then reported to the [`on_rejection`](SessionBuilder::on_rejection)
    /// hook). Reading renews the idle timeout once part of it has passed
    /// ([`SessionBuilder::renew_after`]).
    ///
    /// ```
    /// # let session = http_session::Session::new();
    /// let id = session.create(serde_json::json!({"userId": "123"}))?;
    /// assert_eq!(session.get(&id)?.unwrap()["userId"], "123");
    /// assert_eq!(session.get(&http_session::SessionId::generate())?, None);
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn get(&self, id: &SessionId) -> Result<Option<Data>, Error> {
        self.observe(
            "get",
            (|| {
                let now = self.config.clock.now();
                let found = match self.fetch(id, now)? {
                    Some(record) => self.renew(id, record, now)?,
                    None => None,
                };
                if found.is_none() {
                    self.reject_unknown(id);
                }
                Ok(found.map(|(record, _)| record.data))
            })(),
        )
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
        self.observe(
            "update",
            (|| {
                let patch = to_object(&data)?;
                self.check_data(&patch)?;
                let modified = self.modify(id, Renewal::Always, &mut |data| {
                    merge(data, &patch);
                    Ok(())
                })?;
                Ok(self.done(id, modified)?.is_some())
            })(),
        )
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
    /// should compute only from the data it is given; the value returned is
    /// the one from the run that was stored.
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
        self.observe(
            "update_with",
            (|| {
                let modified = self.modify(id, Renewal::Always, &mut |data| Ok(f(data)))?;
                Ok(self.done(id, modified)?.map(|(value, _)| value))
            })(),
        )
    }

    /// Deletes session `id` from the store and adds a `Set-Cookie` header that
    /// clears the cookie. If the store fails, the response is left untouched.
    ///
    /// Take `id` from [`lookup`](Session::lookup), not from
    /// [`id_from_request`](Session::id_from_request): the first well-formed
    /// cookie may be a tossed one, and deleting it would leave the real session
    /// alive.
    ///
    /// ```
    /// use http_session::{Headers, Session};
    /// let session = Session::new();
    /// let id = session.create(serde_json::json!({"userId": "123"}))?;
    /// let req = Headers::new().with("Cookie", &format!("session_id={id}"));
    ///
    /// // GET /logout
    /// let mut res = Headers::new();
    /// if let Some((id, _)) = session.lookup(&req)? {
    ///     session.delete(&id, &mut res)?;
    /// }
    /// assert_eq!(session.from_request(&req)?, None);
    /// assert!(res.get("Set-Cookie").unwrap().starts_with("session_id=; Path=/; Max-Age=0;"));
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn delete(&self, id: &SessionId, res: &mut impl Response) -> Result<(), Error> {
        self.observe(
            "delete",
            (|| {
                self.store.delete(id)?;
                self.emit(|| SessionEvent::Destroyed);
                self.clear_cookie(res);
                Ok(())
            })(),
        )
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
        let options = &self.config.cookie_options;
        let max_age = options.max_age.or(match options.expires {
            None => self.cookie_lifetime(),
            Some(_) => None,
        });
        self.append_cookie(res, id, options, max_age)
    }

    /// Adds the `Set-Cookie` header for session `id` with `options` instead of
    /// the session's own cookie options. Invalid options are an error
    /// and no header is added. A `Max-Age` gets the matching `Expires` (by the
    /// session's clock) unless the options set one, for browsers that only
    /// know `Expires`, the same as [`set_cookie`](Session::set_cookie) writes.
    ///
    /// ```
    /// use http_session::{cookie::CookieOptions, Headers, Session};
    /// use std::time::Duration;
    ///
    /// let session = Session::new();
    /// let id = session.create(serde_json::json!({}))?;
    /// let mut res = Headers::new();
    /// session.set_cookie_with(&mut res, &id, &CookieOptions::default().max_age(Duration::from_secs(3600)))?;
    /// let header = res.get("Set-Cookie").unwrap();
    /// assert!(header.contains("; Max-Age=3600; Expires="));
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn set_cookie_with(
        &self,
        res: &mut impl Response,
        id: &SessionId,
        options: &CookieOptions,
    ) -> Result<(), Error> {
        self.append_cookie(res, id, options, options.max_age)
    }

    /// The data of the session that the request's cookie names, or `None`.
    ///
    /// Every `Cookie` header is read; each distinct well-formed ID under the
    /// session's cookie name is looked up (at most [`MAX_CANDIDATES`]).
    /// Malformed values never reach the store. Cookies that lead nowhere, and
    /// a request whose cookies name two or more live sessions (cookie tossing:
    /// then none is used), are reported to the
    /// [`on_rejection`](SessionBuilder::on_rejection) hook. Reading renews the
    /// idle timeout once part of it has passed ([`SessionBuilder::renew_after`]);
    /// the cookie itself is renewed only where there is a response to renew it
    /// in: use [`Session::handle`], whose commit sends it.
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

    /// Like [`from_request`](Session::from_request), with the ID that matched:
    /// the ID to pass to [`update`](Session::update),
    /// [`regenerate`](Session::regenerate) or [`delete`](Session::delete).
    ///
    /// ```
    /// use http_session::{Headers, Session, SessionId};
    /// let session = Session::new();
    /// let id = session.create(serde_json::json!({"n": 1}))?;
    /// // A stale cookie first (an old path, an expired session): the known one wins.
    /// let stale = SessionId::generate();
    /// let req = Headers::new().with("Cookie", &format!("session_id={stale}; session_id={id}"));
    /// let (found, data) = session.lookup(&req)?.unwrap();
    /// assert_eq!((found, data["n"].as_i64()), (id.clone(), Some(1)));
    ///
    /// // Two live sessions in one request's cookies: a tossed cookie. Neither is used.
    /// let other = session.create(serde_json::json!({"n": 2}))?;
    /// let req = Headers::new().with("Cookie", &format!("session_id={other}; session_id={id}"));
    /// assert_eq!(session.lookup(&req)?, None);
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn lookup(&self, req: &impl Request) -> Result<Option<(SessionId, Data)>, Error> {
        self.observe(
            "lookup",
            (|| {
                let now = self.config.clock.now();
                match self.find(req, now)? {
                    Found::One(id, record) => {
                        Ok(self.renew(&id, record, now)?.map(|(r, _)| (id, r.data)))
                    }
                    Found::None | Found::Several => Ok(None),
                }
            })(),
        )
    }

    /// The first well-formed session ID in the request's cookies, without asking
    /// the store whether it is known: what reading the cookie by name gives.
    ///
    /// It may name no session, or a tossed cookie planted before the real one:
    /// to act on the request's session, use [`lookup`](Session::lookup) (or
    /// [`Session::handle`]), which returns the ID the store knows.
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
        self.cookie_values(req)
            .filter_map(|value| value.parse::<SessionId>().ok())
            .next()
    }

    /// Moves session `id`'s data to a fresh ID and sets the new cookie; returns
    /// the new ID, or `None` if `id` is unknown or expired.
    ///
    /// Call it on login and on every privilege change: an ID an attacker planted
    /// or saw before login is worthless afterwards. The old record is taken out
    /// of the store in one atomic step ([`Store::take`]) and the session goes on
    /// under the fresh ID: nothing is written under the old ID, and of two
    /// concurrent regenerations exactly one gets the session. The idle timeout
    /// starts afresh; the absolute lifetime does not (regenerating cannot keep a
    /// session alive past it). If the store fails after the old record was
    /// taken out, the session is ended: the user logs in again.
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
        self.observe(
            "regenerate",
            (|| {
                let moved = self.move_to_fresh_id(id, None)?;
                match &moved {
                    Some(new_id) => self.set_cookie(res, new_id)?,
                    None => self.reject_unknown(id),
                }
                Ok(moved)
            })(),
        )
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
        self.observe(
            "touch",
            (|| {
                let modified = self.modify(id, Renewal::Only, &mut |_| Ok(()))?;
                Ok(self.done(id, modified)?.is_some())
            })(),
        )
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The cookie's name.
    pub fn cookie_name(&self) -> &str {
        &self.config.cookie_name
    }

    /// The cookie options [`set_cookie`](Session::set_cookie) starts from.
    pub fn cookie_options(&self) -> &CookieOptions {
        &self.config.cookie_options
    }

    /// The idle timeout, if any.
    pub fn ttl(&self) -> Option<Duration> {
        self.config.ttl
    }

    /// The absolute lifetime, if any.
    pub fn absolute_lifetime(&self) -> Option<Duration> {
        self.config.absolute_lifetime
    }

    /// The clock expiry is judged by.
    pub(crate) fn clock(&self) -> &Clock {
        &self.config.clock
    }

    /// The largest session data accepted, in bytes of JSON.
    pub fn max_data_size(&self) -> usize {
        self.config.max_data_size
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
            self.report_rejection(Rejection::MalformedCookie);
        }
        ids.into_iter().flatten()
    }

    /// Reports a rejection to both hooks.
    fn report_rejection(&self, rejection: Rejection) {
        self.config.on_rejection.report(rejection);
        self.emit(|| SessionEvent::Rejected(rejection));
    }

    /// Reports the event `make` builds to the event hook, if there is one.
    pub(crate) fn emit(&self, make: impl FnOnce() -> SessionEvent) {
        self.config.on_event.report(make);
    }

    /// Passes `result` through, reporting a store failure in it as a
    /// [`SessionEvent::StoreError`] of `operation`.
    pub(crate) fn observe<T>(
        &self,
        operation: &'static str,
        result: Result<T, Error>,
    ) -> Result<T, Error> {
        if let Err(e @ (Error::Store { .. } | Error::CorruptRecord { .. })) = &result {
            self.emit(|| SessionEvent::StoreError {
                operation,
                message: e.to_string(),
            });
        }
        result
    }

    /// Reports a well-formed ID that named no live session.
    pub(crate) fn reject_unknown(&self, id: &SessionId) {
        self.report_rejection(Rejection::unknown(id));
    }

    /// The values of every cookie named like the session's, in order.
    fn cookie_values<'r>(&'r self, req: &'r impl Request) -> impl Iterator<Item = &'r str> + 'r {
        req.header_values("cookie")
            .flat_map(cookie::parse)
            .filter(|(name, _)| *name == self.config.cookie_name)
            .map(|(_, value)| value)
    }

    /// Which of `candidates` name live sessions. Each is asked (at most
    /// [`MAX_CANDIDATES`]): the first known one is not enough, since two known
    /// ones mean a tossed cookie. Unknown and unreadable ones are reported.
    pub(crate) fn find_among(
        &self,
        candidates: impl IntoIterator<Item = SessionId>,
        now: SystemTime,
    ) -> Result<Found, Error> {
        let mut found = Found::None;
        for id in candidates {
            let record = match self.fetch(&id, now) {
                Ok(record) => record,
                // A record that cannot be read back leads nowhere, like an
                // unknown ID: the next candidate is tried.
                Err(Error::CorruptRecord { .. }) => None,
                Err(e) => return Err(e),
            };
            match (record, &found) {
                (None, _) => self.reject_unknown(&id),
                (Some(record), Found::None) => found = Found::One(id, record),
                (Some(_), _) => found = Found::Several,
            }
        }
        if matches!(found, Found::Several) {
            self.report_rejection(Rejection::SeveralKnownIds);
        }
        Ok(found)
    }

    fn find(&self, req: &impl Request, now: SystemTime) -> Result<Found, Error> {
        self.find_among(self.screen(req), now)
    }

    /// The live record of `id` as of `now`; expiry is checked here too, so a
    /// store that forgets it never revives a session.
    fn fetch(&self, id: &SessionId, now: SystemTime) -> Result<Option<Record>, Error> {
        match self.store.get(id)? {
            Some(record) if record.is_expired(now) => {
                self.forget_expired(id);
                Ok(None)
            }
            other => Ok(other),
        }
    }

    /// `record`, just read for `id`, with its idle timeout renewed if a read is
    /// due to renew it, and whether it was. `None` if the session went away
    /// meanwhile.
    pub(crate) fn renew(
        &self,
        id: &SessionId,
        mut record: Record,
        now: SystemTime,
    ) -> Result<Option<(Record, bool)>, Error> {
        if !self.renewal_due(&record, now) {
            return Ok(Some((record, false)));
        }
        let modified = self.modify_at(id, now, Renewal::IfDue, &mut |_| Ok(()))?;
        Ok(done_quietly(modified)?.map(|((), rolled)| {
            if rolled {
                // What the store now holds: `roll` computes the same.
                record.expires_at = earliest(self.idle_deadline(now), record.deadline);
            }
            (record, rolled)
        }))
    }

    /// Best-effort removal of a record found expired: the caller's answer is
    /// "no session" either way, and a failure here changes nothing for it.
    fn forget_expired(&self, id: &SessionId) {
        let _ = self.store.delete(id);
        self.emit(|| SessionEvent::ExpiredOnRead);
    }

    /// The one write path of an existing session: every change to a stored
    /// session goes through here, inside [`Store::update`]. In order: expiry
    /// check, `apply`, size and depth check, the idle timeout rolled (always, or
    /// only when a read is due to renew it). The closure starts afresh on every
    /// run, so a store that retries it (optimistic locking) gets the result of
    /// the run it stored, and a store that reports the session gone is believed
    /// whatever a discarded run computed.
    pub(crate) fn modify<T>(
        &self,
        id: &SessionId,
        renewal: Renewal,
        apply: &mut dyn FnMut(&mut Data) -> Result<T, Error>,
    ) -> Result<Modified<T>, Error> {
        self.modify_at(id, self.config.clock.now(), renewal, apply)
    }

    fn modify_at<T>(
        &self,
        id: &SessionId,
        now: SystemTime,
        renewal: Renewal,
        apply: &mut dyn FnMut(&mut Data) -> Result<T, Error>,
    ) -> Result<Modified<T>, Error> {
        let mut outcome: Option<Result<Modified<T>, Error>> = None;
        let found = self.store.update(id, &mut |record| {
            let (result, store) = self.step(record, now, renewal, apply);
            outcome = Some(result);
            store
        })?;
        match outcome {
            // Expired by this session's clock, though the store still had it.
            Some(Ok(Modified::Gone)) if found => {
                self.forget_expired(id);
                Ok(Modified::Gone)
            }
            Some(outcome) if found => outcome,
            // No live record: whatever a discarded run computed does not count.
            _ => Ok(Modified::Gone),
        }
    }

    /// One run of [`modify`](Self::modify)'s closure: what it comes to, and
    /// whether the store should store the record.
    fn step<T>(
        &self,
        record: &mut Record,
        now: SystemTime,
        renewal: Renewal,
        apply: &mut dyn FnMut(&mut Data) -> Result<T, Error>,
    ) -> (Result<Modified<T>, Error>, bool) {
        if record.is_expired(now) {
            return (Ok(Modified::Gone), false);
        }
        // Applied in place: a result that is refused is not stored, and the
        // stored session keeps the data it had.
        let value = match apply(&mut record.data) {
            Ok(value) => value,
            Err(e) => return (Err(e), false),
        };
        // Only a change of the data is checked: renewing a session stored
        // before a lower limit was set must not fail its reads.
        if renewal == Renewal::Always {
            if let Err(e) = self.check_data(&record.data) {
                return (Ok(Modified::Refused(e)), false);
            }
        }
        let before = record.expires_at;
        if renewal != Renewal::IfDue || self.renewal_due(record, now) {
            self.roll(record, now);
        }
        let rolled = record.expires_at != before;
        let store = renewal != Renewal::IfDue || rolled;
        (Ok(Modified::Done { value, rolled }), store)
    }

    /// [`modify`](Self::modify)'s outcome for a public ID-based call: the value
    /// and whether the lifetime rolled, `None` if the session is gone (reported
    /// as an unknown ID), or the refusal as an error.
    pub(crate) fn done<T>(
        &self,
        id: &SessionId,
        modified: Modified<T>,
    ) -> Result<Option<(T, bool)>, Error> {
        let done = done_quietly(modified)?;
        if done.is_none() {
            self.reject_unknown(id);
        }
        Ok(done)
    }

    /// Regeneration: takes session `id` out of the store in one atomic step,
    /// applies `changes` to its data, and stores the result under a fresh ID
    /// with the same absolute deadline. `None` if `id` names no live session (or
    /// a concurrent regeneration or logout took it first).
    ///
    /// Changes are first tried on the stored data without storing anything, so
    /// a change that is refused (too large, a value of another type) leaves the
    /// session as it was and nothing is taken out. Nothing is ever put back
    /// under the old ID: a logout that ran after the take must stay a logout.
    /// So if the changes fail after the take (the stored data changed in
    /// between), or the store fails, the session is ended: fail closed.
    pub(crate) fn move_to_fresh_id(
        &self,
        id: &SessionId,
        mut changes: Option<&mut Changes<'_>>,
    ) -> Result<Option<SessionId>, Error> {
        let now = self.config.clock.now();
        if let Some(apply) = changes.as_mut() {
            if !self.try_changes(id, now, &mut **apply)? {
                return Ok(None);
            }
        }
        let Some(Record {
            mut data,
            expires_at,
            deadline,
            owner,
            ..
        }) = self.store.take(id)?
        else {
            return Ok(None);
        };
        if expires_at.is_some_and(|at| at <= now) {
            return Ok(None); // taken out all the same: it was dead
        }
        // Only a change of the data is checked, as in `step`.
        if let Some(apply) = changes {
            apply(&mut data)?;
            self.check_data(&data)?;
        }
        let mut record = self.new_record(data, now, Some(deadline))?;
        // The binding goes on with the session; regenerating is activity.
        record.owner = owner.map(|owner| Owner {
            last_seen: now,
            ..owner
        });
        let owner = record.owner.clone();
        let new_id = self.insert_new(record)?;
        if let Some(owner) = owner.as_ref().filter(|_| self.store.user_index().is_some()) {
            // Revoked while it moved: it does not go on.
            if !self.rebind(owner, id, &new_id)? {
                return Ok(None);
            }
        }
        self.emit(|| SessionEvent::Regenerated {
            user: owner.map(|owner| owner.user),
        });
        Ok(Some(new_id))
    }

    /// Runs `apply` on session `id`'s stored data and checks the result,
    /// storing nothing: `Ok(false)` if there is no live session, the refusal
    /// as an error.
    fn try_changes(
        &self,
        id: &SessionId,
        now: SystemTime,
        apply: &mut Changes<'_>,
    ) -> Result<bool, Error> {
        let mut outcome = None;
        let found = self.store.update(id, &mut |record| {
            outcome = Some(match record.is_expired(now) {
                true => Ok(false),
                false => apply(&mut record.data)
                    .and_then(|()| self.check_data(&record.data))
                    .map(|()| true),
            });
            false // a trial: the store keeps the record exactly as it was
        })?;
        match outcome {
            Some(outcome) if found => outcome,
            _ => Ok(false),
        }
    }

    /// Stores `record` under a fresh ID, retrying on the (astronomically rare)
    /// collision with an existing one.
    fn insert_new(&self, record: Record) -> Result<SessionId, Error> {
        for _ in 0..MAX_ID_ATTEMPTS {
            let id = SessionId::generate();
            if self.store.create(&id, record.clone())? {
                return Ok(id);
            }
        }
        Err(Error::IdCollision {
            attempts: MAX_ID_ATTEMPTS,
        })
    }

    /// A record for `data` created at `now`: its deadline is `deadline` if
    /// given (a regenerated session keeps its own), else `now` plus the
    /// absolute lifetime.
    fn new_record(
        &self,
        data: Data,
        now: SystemTime,
        deadline: Option<Option<SystemTime>>,
    ) -> Result<Record, Error> {
        let deadline = match deadline {
            Some(kept) => kept,
            None => self
                .config
                .absolute_lifetime
                .map(|d| now.checked_add(d).ok_or(Error::TimeOverflow))
                .transpose()?,
        };
        let idle = self
            .config
            .ttl
            .map(|d| now.checked_add(d).ok_or(Error::TimeOverflow))
            .transpose()?;
        let mut record = Record::new(data);
        record.expires_at = earliest(idle, deadline);
        record.deadline = deadline;
        Ok(record)
    }

    /// `now` plus the idle timeout, if there is one and it does not overflow.
    fn idle_deadline(&self, now: SystemTime) -> Option<SystemTime> {
        self.config.ttl.and_then(|ttl| now.checked_add(ttl))
    }

    /// Rolls the idle timeout forward, never past the deadline.
    fn roll(&self, record: &mut Record, now: SystemTime) {
        // An overflow keeps the old expiry: it can only be later than now+ttl
        // if the clock is absurd, and then the old value is the safe one.
        if let Some(idle) = self.idle_deadline(now) {
            record.expires_at = earliest(Some(idle), record.deadline);
            // Seen now: kept only when the record is written anyway.
            if let Some(owner) = &mut record.owner {
                owner.last_seen = now;
            }
        }
    }

    /// Whether a read at `now` should renew `record`'s idle timeout: the set
    /// share of it has passed, and renewing would move the expiry at all (not
    /// when the absolute deadline already caps it).
    pub(crate) fn renewal_due(&self, record: &Record, now: SystemTime) -> bool {
        let (Some(ttl), Some(expires_at)) = (self.config.ttl, record.expires_at) else {
            return false;
        };
        let left = expires_at.duration_since(now).unwrap_or_default();
        let renew_when_left = ttl.mul_f64(1.0 - self.config.renew_after);
        left <= renew_when_left
            && earliest(self.idle_deadline(now), record.deadline)
                .is_some_and(|renewed| renewed > expires_at)
    }

    /// Refuses data that is too large, or nested too deeply to be read back.
    pub(crate) fn check_data(&self, data: &Data) -> Result<(), Error> {
        let limit = self.config.max_data_size;
        if let Some(size) = crate::data::len_over(data, limit) {
            return Err(Error::DataTooLarge { size, limit });
        }
        if crate::data::nested_deeper_than(data, MAX_DEPTH) {
            return Err(Error::DataTooDeep { limit: MAX_DEPTH });
        }
        Ok(())
    }

    /// Adds a `Set-Cookie` for `id` with `options`, `max_age`, and the
    /// options' `Expires` or else the one `max_age` comes to by the clock.
    fn append_cookie(
        &self,
        res: &mut impl Response,
        id: &SessionId,
        options: &CookieOptions,
        max_age: Option<Duration>,
    ) -> Result<(), Error> {
        let expires = match (options.expires, max_age) {
            (Some(at), _) => Some(at),
            (None, Some(age)) => Some(
                self.config
                    .clock
                    .now()
                    .checked_add(age)
                    .ok_or(Error::TimeOverflow)?,
            ),
            (None, None) => None,
        };
        // The lifetime is stamped on a borrowed copy of the options: no clone.
        let header = cookie::serialize_with_lifetime(
            &self.config.cookie_name,
            id.as_str(),
            options,
            max_age,
            expires,
        )?;
        res.append_header("Set-Cookie", &header);
        Ok(())
    }

    /// How long a freshly set cookie should live: the idle timeout, or the
    /// absolute lifetime if shorter or alone, capped at 400 days.
    fn cookie_lifetime(&self) -> Option<Duration> {
        let lifetime = match (self.config.ttl, self.config.absolute_lifetime) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        lifetime.map(|d| d.min(MAX_COOKIE_LIFETIME))
    }
}

/// A request's changes to a session's data, replayable on any copy of it.
pub(crate) type Changes<'a> = dyn FnMut(&mut Data) -> Result<(), Error> + 'a;

/// What [`Session::find_among`] found among a request's candidate IDs.
// One per request, moved once: boxing the record would cost an allocation
// to save a copy of 256 bytes.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Found {
    /// None of them names a live session.
    None,
    /// Exactly one does.
    One(SessionId, Record),
    /// Two or more do: a tossed cookie, so none is used.
    Several,
}

/// When [`Session::modify`] rolls the idle timeout forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Renewal {
    /// A change of the data, checked and stored; it renews the idle timeout
    /// too, since it writes anyway.
    Always,
    /// No change of the data, stored only to renew the idle timeout (`touch`).
    Only,
    /// No change of the data, stored only if a read is due to renew it.
    IfDue,
}

/// What [`Session::modify`] did.
pub(crate) enum Modified<T> {
    /// No live session under the ID (unknown, expired, or removed meanwhile).
    Gone,
    /// The change was refused (too large, too deep): nothing was stored.
    Refused(Error),
    /// Stored; `value` is what the stored run of the closure returned, and
    /// `rolled` whether the idle timeout moved (the cookie should follow).
    Done {
        /// What the closure returned.
        value: T,
        /// Whether the expiry moved.
        rolled: bool,
    },
}

/// Merges `patch` into `data`, key by key.
fn merge(data: &mut Data, patch: &Data) {
    for (key, value) in patch {
        match data.get_mut(key) {
            Some(slot) => slot.clone_from(value),
            None => {
                data.insert(key.clone(), value.clone());
            }
        }
    }
}

/// [`Session::modify`]'s outcome as the value and whether the lifetime rolled,
/// `None` if the session is gone, or the refusal as an error.
pub(crate) fn done_quietly<T>(modified: Modified<T>) -> Result<Option<(T, bool)>, Error> {
    match modified {
        Modified::Done { value, rolled } => Ok(Some((value, rolled))),
        Modified::Gone => Ok(None),
        Modified::Refused(e) => Err(e),
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

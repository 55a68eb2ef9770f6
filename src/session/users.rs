//! A user's sessions: binding a session to a user, listing, revoking, and
//! the per-user cap, on any store with a [`UserIndex`].
//!
//! Every step is either one compare-and-swap of one index entry or one
//! single-record store operation, in this order:
//!
//! - **bind**: the index entry first, then the record's owner. The index is
//!   therefore always a superset of the user's bound sessions: `revoke_all`
//!   can miss none. An entry whose record is gone is pruned; an entry whose
//!   record is not (yet) bound to it is skipped, never pruned, so a bind in
//!   progress is not undone.
//! - **regenerate** (in `move_to_fresh_id`): take the old record, create the
//!   new one, then swap the entry from the old key to the new one. If the
//!   swap fails, the entry was revoked meanwhile: the new record is deleted
//!   and the regeneration fails closed.
//! - **revoke**: delete the record the entry points to, then remove the entry
//!   only if it still points there. If a regeneration moved it meanwhile, the
//!   new record is deleted in turn, so a revoked session never survives by
//!   regenerating.

use std::time::SystemTime;

use super::Session;
use crate::event::SessionEvent;
use crate::store::{IndexEntry, Owner, RecordKey, RevocationHandle, UserIndex, UserIndexOf};
use crate::{Error, Record, SessionId, Store};

/// Longest user name accepted, in bytes.
const MAX_USER_LEN: usize = 256;
/// Longest `User-Agent` and address kept with a session, in bytes: longer
/// ones are cut (at a character boundary), so a client cannot grow a record.
pub(crate) const MAX_CLIENT_FIELD_LEN: usize = 256;
/// Times a revoke follows an entry that a concurrent regeneration moved,
/// before it reports the race as an error.
const MAX_REVOKE_ROUNDS: usize = 16;

/// One of a user's sessions, as [`Session::sessions_of`] lists it: what a
/// "your devices" page shows, and the [`handle`](SessionInfo::handle) that
/// ends it. It never holds the session's ID.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionInfo {
    /// Ends this session through [`Session::revoke`]; safe to put in a page.
    pub handle: RevocationHandle,
    /// When the session was bound to the user (the login).
    pub created_at: SystemTime,
    /// When the session was last seen (its idle timeout last rolled forward).
    pub last_seen: SystemTime,
    /// When the session expires unless it is used again.
    pub expires_at: Option<SystemTime>,
    /// The client's `User-Agent`, if recorded at login.
    pub user_agent: Option<String>,
    /// The client's address, if recorded at login.
    pub ip: Option<String>,
    /// Whether this is the session of the ID passed to
    /// [`Session::sessions_of`] as `current`: the request's own.
    pub current: bool,
}

/// What a bind records besides the user: the client's details, if known.
#[derive(Debug, Clone, Default)]
pub(crate) struct Client {
    pub(crate) user_agent: Option<String>,
    pub(crate) ip: Option<String>,
}

impl Client {
    /// Client details cut to [`MAX_CLIENT_FIELD_LEN`] bytes each.
    pub(crate) fn new(user_agent: Option<&str>, ip: Option<&str>) -> Client {
        Client {
            user_agent: user_agent.map(cut),
            ip: ip.map(cut),
        }
    }
}

/// `text` cut to at most [`MAX_CLIENT_FIELD_LEN`] bytes, at a character
/// boundary, without control characters.
fn cut(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().filter(|c| !c.is_control()) {
        if out.len() + c.len_utf8() > MAX_CLIENT_FIELD_LEN {
            break;
        }
        out.push(c);
    }
    out
}

/// Refuses user names the index cannot take: empty, longer than
/// [`MAX_USER_LEN`] bytes, or with control characters.
pub(crate) fn check_user(user: &str) -> Result<(), Error> {
    let reason = if user.is_empty() {
        "it is empty"
    } else if user.len() > MAX_USER_LEN {
        "it is longer than 256 bytes; bind a user ID, not a profile"
    } else if user.chars().any(char::is_control) {
        "it holds control characters"
    } else {
        return Ok(());
    };
    Err(Error::InvalidUser { reason })
}

impl<S: Store> Session<S> {
    /// Binds session `id` to `user`: from now on it shows in
    /// [`sessions_of(user)`](Session::sessions_of) and ends with
    /// [`revoke_all`](Session::revoke_all). Regenerating keeps the binding;
    /// destroying or expiring the session ends it. Binding to another user
    /// moves the session (with a fresh handle). Returns `false` if `id` names
    /// no live session.
    ///
    /// With [`max_sessions_per_user`](crate::SessionBuilder::max_sessions_per_user),
    /// binding a session past the cap ends the user's least recently seen
    /// sessions.
    ///
    /// Needs a store with a [`UserIndex`] (every store of this crate has
    /// one): [`Error::NoUserIndex`] otherwise. The user name is 1 to 256
    /// bytes without control characters: an account ID, not a profile.
    ///
    /// ```
    /// use http_session::{Headers, Session};
    /// let session = Session::new();
    /// let id = session.create(serde_json::json!({}))?;
    /// assert!(session.bind_user(&id, "ana")?);
    /// assert_eq!(session.sessions_of("ana", Some(&id))?.len(), 1);
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn bind_user(&self, id: &SessionId, user: &str) -> Result<bool, Error> {
        self.observe("bind_user", self.bind(id, user, Client::default()))
    }

    /// [`bind_user`](Session::bind_user), recording the client's `User-Agent`
    /// and address for a "your devices" page (each cut to 256 bytes, without
    /// control characters; `None` keeps what was recorded before).
    ///
    /// ```
    /// use http_session::{Headers, Request, Session};
    /// let session = Session::new();
    /// let request = Headers::new().with("User-Agent", "Firefox/140");
    /// let id = session.create(serde_json::json!({}))?;
    /// let agent = request.header_values("user-agent").next();
    /// session.bind_user_with(&id, "ana", agent, Some("192.0.2.7"))?;
    /// let listed = session.sessions_of("ana", None)?;
    /// assert_eq!(listed[0].user_agent.as_deref(), Some("Firefox/140"));
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn bind_user_with(
        &self,
        id: &SessionId,
        user: &str,
        user_agent: Option<&str>,
        ip: Option<&str>,
    ) -> Result<bool, Error> {
        self.observe(
            "bind_user",
            self.bind(id, user, Client::new(user_agent, ip)),
        )
    }

    /// The live sessions bound to `user`, most recently seen first. `current`
    /// (the request's session ID, from [`lookup`](Session::lookup)) marks its
    /// session with [`SessionInfo::current`]. Entries of sessions that ended
    /// are pruned from the index on the way. No entry carries a session ID.
    ///
    /// ```
    /// use http_session::Session;
    /// let session = Session::new();
    /// let laptop = session.create(serde_json::json!({}))?;
    /// let phone = session.create(serde_json::json!({}))?;
    /// session.bind_user(&laptop, "ana")?;
    /// session.bind_user(&phone, "ana")?;
    ///
    /// let listed = session.sessions_of("ana", Some(&phone))?;
    /// assert_eq!(listed.len(), 2);
    /// assert_eq!(listed.iter().filter(|s| s.current).count(), 1);
    /// assert!(session.sessions_of("bob", None)?.is_empty());
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn sessions_of(
        &self,
        user: &str,
        current: Option<&SessionId>,
    ) -> Result<Vec<SessionInfo>, Error> {
        self.observe(
            "sessions_of",
            (|| {
                check_user(user)?;
                let index = self.store.index()?;
                let current = current.map(RecordKey::of);
                let mut listed: Vec<SessionInfo> = self
                    .live_entries(index, user)?
                    .into_iter()
                    .map(|(entry, record, owner)| SessionInfo {
                        handle: entry.handle,
                        created_at: owner.created_at,
                        last_seen: owner.last_seen,
                        expires_at: record.expires_at,
                        user_agent: owner.user_agent,
                        ip: owner.ip,
                        current: current == Some(entry.key),
                    })
                    .collect();
                listed.sort_by(|a, b| {
                    (b.last_seen, b.created_at, b.handle).cmp(&(
                        a.last_seen,
                        a.created_at,
                        a.handle,
                    ))
                });
                Ok(listed)
            })(),
        )
    }

    /// Ends `user`'s session named by `handle` (from
    /// [`sessions_of`](Session::sessions_of)): its record is deleted, so no
    /// later request with its cookie is served, and a request in flight
    /// finds it gone when it commits. Returns `false` if `user` has no
    /// session with that handle (already ended, or another user's handle).
    ///
    /// ```
    /// use http_session::Session;
    /// let session = Session::new();
    /// let phone = session.create(serde_json::json!({}))?;
    /// session.bind_user(&phone, "ana")?;
    /// let handle = session.sessions_of("ana", None)?[0].handle;
    ///
    /// assert!(!session.revoke("bob", &handle)?); // not bob's
    /// assert!(session.revoke("ana", &handle)?);
    /// assert_eq!(session.get(&phone)?, None);
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn revoke(&self, user: &str, handle: &RevocationHandle) -> Result<bool, Error> {
        self.observe(
            "revoke",
            (|| {
                check_user(user)?;
                let index = self.store.index()?;
                let entry = index
                    .entries(user)?
                    .into_iter()
                    .find(|entry| entry.handle == *handle);
                match entry {
                    Some(entry) => self.end_entry(index, user, entry),
                    None => Ok(false),
                }
            })(),
        )
    }

    /// Ends every session of `user` but `except` (the request's own, for "log
    /// out everywhere else"; `None` ends them all, as after a password
    /// reset). Returns how many were ended.
    ///
    /// After it returns, no request with an ended session's cookie is served,
    /// including one already in flight: its commit finds the session gone. A
    /// session that was regenerating meanwhile is ended under its new ID. If
    /// the store fails part-way, the error is returned and calling again
    /// finishes the job.
    ///
    /// ```
    /// use http_session::Session;
    /// let session = Session::new();
    /// let (laptop, phone, tablet) = (
    ///     session.create(serde_json::json!({}))?,
    ///     session.create(serde_json::json!({}))?,
    ///     session.create(serde_json::json!({}))?,
    /// );
    /// for id in [&laptop, &phone, &tablet] {
    ///     session.bind_user(id, "ana")?;
    /// }
    /// // On the laptop, after a password change: log out everywhere else.
    /// assert_eq!(session.revoke_all("ana", Some(&laptop))?, 2);
    /// assert!(session.get(&laptop)?.is_some());
    /// assert_eq!(session.get(&phone)?, None);
    /// assert_eq!(session.sessions_of("ana", None)?.len(), 1);
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn revoke_all(&self, user: &str, except: Option<&SessionId>) -> Result<usize, Error> {
        self.observe(
            "revoke_all",
            (|| {
                check_user(user)?;
                let index = self.store.index()?;
                // The session kept is known by its handle: a regeneration of it
                // meanwhile moves its key, not its handle.
                let kept = match except {
                    Some(id) => self
                        .store
                        .get(id)?
                        .and_then(|record| record.owner)
                        .filter(|owner| owner.user == user)
                        .map(|owner| owner.handle),
                    None => None,
                };
                let mut ended = 0;
                for entry in index.entries(user)? {
                    if Some(entry.handle) != kept && self.end_entry(index, user, entry)? {
                        ended += 1;
                    }
                }
                Ok(ended)
            })(),
        )
    }

    /// Binds `id` to `user` with `client`'s details; see
    /// [`bind_user`](Session::bind_user).
    pub(crate) fn bind(&self, id: &SessionId, user: &str, client: Client) -> Result<bool, Error> {
        check_user(user)?;
        let index = self.store.index()?;
        let now = self.config.clock.now();
        let key = RecordKey::of(id);
        let Some(record) = self.store.get(id)? else {
            return Ok(false);
        };
        if record.is_expired(now) {
            return Ok(false);
        }
        // Bound to this user already: keep the handle and the login time.
        let owner = match record.owner {
            Some(owner) if owner.user == user => owner,
            Some(previous) => {
                // Unbound from the previous user first; its entry, if still
                // there, is pruned by that user's next listing otherwise.
                index.swap_entry(&previous.user, &previous.handle, Some(&key), None)?;
                Owner::new(user, now)
            }
            None => Owner::new(user, now),
        };
        let owner = Owner {
            user_agent: client.user_agent.or(owner.user_agent),
            ip: client.ip.or(owner.ip),
            ..owner
        };
        // The entry first: the index never misses a bound session.
        if !index.swap_entry(user, &owner.handle, None, Some(id))? {
            let present = index
                .entries(user)?
                .iter()
                .any(|entry| entry.handle == owner.handle && entry.key == key);
            if !present {
                // The handle points elsewhere: a revoke or a regeneration
                // is under way on this session. Leave it to them.
                return Ok(false);
            }
        }
        let handle = owner.handle;
        let mut owner = Some(owner);
        let bound = self.store.update(id, &mut |record| {
            if record.is_expired(now) {
                return false;
            }
            record.owner.clone_from(&owner);
            true
        })?;
        if !bound {
            index.swap_entry(user, &handle, Some(&key), None)?;
            owner = None;
        }
        if owner.is_some() {
            self.emit(|| SessionEvent::Bound {
                user: user.to_owned(),
                handle,
            });
            // Always: it prunes entries of ended sessions too, which keeps
            // the index bounded by logins and listings.
            let cap = self.config.max_sessions_per_user.unwrap_or(usize::MAX);
            self.enforce_cap(index, user, cap)?;
        }
        Ok(bound)
    }

    /// Ends the least recently seen sessions of `user` past `cap`, and
    /// prunes entries of ended ones. All concurrent binders agree on the
    /// order (last seen, then login time, then handle), so concurrent logins
    /// past the cap leave exactly `cap` sessions.
    fn enforce_cap(&self, index: &dyn UserIndex, user: &str, cap: usize) -> Result<(), Error> {
        let mut live = self.live_entries(index, user)?;
        if live.len() <= cap {
            return Ok(());
        }
        live.sort_by(|(a, _, a_owner), (b, _, b_owner)| {
            (b_owner.last_seen, b_owner.created_at, b.handle).cmp(&(
                a_owner.last_seen,
                a_owner.created_at,
                a.handle,
            ))
        });
        for (entry, _, _) in live.into_iter().skip(cap) {
            self.end_entry(index, user, entry)?;
        }
        Ok(())
    }

    /// `user`'s entries whose records are live and bound to them, with the
    /// record and its owner. Entries whose record is gone are pruned.
    fn live_entries(
        &self,
        index: &dyn UserIndex,
        user: &str,
    ) -> Result<Vec<(IndexEntry, Record, Owner)>, Error> {
        let now = self.config.clock.now();
        let mut live = Vec::new();
        for entry in index.entries(user)? {
            match index.record(user, &entry.key)? {
                None => {
                    index.swap_entry(user, &entry.handle, Some(&entry.key), None)?;
                }
                Some(record) if record.is_expired(now) => {
                    index.remove_record(user, &entry.key)?;
                    index.swap_entry(user, &entry.handle, Some(&entry.key), None)?;
                }
                Some(mut record) => {
                    // Not bound to this entry (yet): a bind in progress, or
                    // a stale entry. Skipped, never shown.
                    if let Some(owner) = record
                        .owner
                        .take()
                        .filter(|owner| owner.user == user && owner.handle == entry.handle)
                    {
                        live.push((entry, record, owner));
                    }
                }
            }
        }
        Ok(live)
    }

    /// Ends the session of `entry`: deletes its record, then removes the
    /// entry if it still points there; if a regeneration moved it, follows
    /// it. `true` if a record was ended.
    fn end_entry(
        &self,
        index: &dyn UserIndex,
        user: &str,
        mut entry: IndexEntry,
    ) -> Result<bool, Error> {
        let mut ended = false;
        for _ in 0..MAX_REVOKE_ROUNDS {
            ended |= index.remove_record(user, &entry.key)?;
            if index.swap_entry(user, &entry.handle, Some(&entry.key), None)? {
                if ended {
                    self.emit(|| SessionEvent::Revoked {
                        user: user.to_owned(),
                        handle: entry.handle,
                    });
                }
                return Ok(ended);
            }
            match index
                .entries(user)?
                .into_iter()
                .find(|moved| moved.handle == entry.handle)
            {
                Some(moved) => entry = moved,
                None => {
                    // Removed by a concurrent revoke, which reports it.
                    return Ok(ended);
                }
            }
        }
        Err(Error::store(
            "revoking a session",
            "the session kept moving to new IDs; call revoke again",
        ))
    }

    /// After a regeneration of a bound session created `new` (its record
    /// already stored, with `owner`): moves the index entry from `old` to
    /// `new`. If the entry was revoked meanwhile, deletes `new`'s record and
    /// returns `false`: a revoked session never goes on under a fresh ID.
    pub(crate) fn rebind(
        &self,
        owner: &Owner,
        old: &SessionId,
        new: &SessionId,
    ) -> Result<bool, Error> {
        let index = self.store.index()?;
        let old_key = RecordKey::of(old);
        if index.swap_entry(&owner.user, &owner.handle, Some(&old_key), Some(new))? {
            return Ok(true);
        }
        self.store.delete(new)?;
        Ok(false)
    }
}

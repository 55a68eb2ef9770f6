//! [`SessionHandle`]: one request's view of its session, written back by one
//! [`commit`](SessionHandle::commit).

use std::cell::RefCell;
use std::fmt;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::event::SessionEvent;
use crate::session::{check_user, done_quietly, Changes, Client, Found, Renewal};
use crate::{Data, Error, MemoryStore, Request, Response, Session, SessionId, Store};

/// One request's session: read and change it freely, then write it back once
/// with [`commit`](SessionHandle::commit).
///
/// Get one from [`Session::handle`]. Its life cycle:
///
/// 1. **Open**: `session.handle(&request)` reads the request's cookies and nothing
///    else; the store is not asked yet.
/// 2. **Use**: the first call that needs the data ([`get`](Self::get),
///    [`insert`](Self::insert), …) loads it from the store, once. Changes are kept
///    in the handle: [`update`](Self::update) (atomic per key: counters),
///    [`insert`](Self::insert) (last write wins), [`remove`](Self::remove),
///    [`take`](Self::take) (read and remove: flash messages), [`clear`](Self::clear),
///    [`destroy`](Self::destroy), [`regenerate`](Self::regenerate),
///    [`touch`](Self::touch).
/// 3. **Commit**: [`commit(&mut response)`](Self::commit) consumes the handle and
///    writes what changed:
///    - nothing changed: no store write, no `Set-Cookie`;
///    - an existing session changed: the changes are replayed, key by key, inside
///      [`Store::update`], never by writing back a copy loaded earlier, so what
///      other requests did meanwhile is kept, and a session deleted meanwhile (a
///      logout in another tab) stays deleted ([`CommitOutcome::Gone`]);
///    - no session yet: one is created, under a fresh ID, only if data was
///      inserted: a request that only reads never creates a session, and an ID
///      the client made up is never adopted;
///    - a regenerated session is taken out of the store atomically and goes on,
///      with the changes, under a fresh ID: nothing is written under the old one;
///    - a session only read is renewed (a store write, and its cookie sent
///      again) once part of its idle timeout has passed
///      ([`renew_after`](crate::SessionBuilder::renew_after));
///    - `Set-Cookie` is sent only when the session is new, regenerated, or its
///      idle timeout rolled forward (the cookie's lifetime follows it), and a
///      clearing cookie on [`destroy`](Self::destroy) or when the request's
///      cookies named several live sessions (cookie tossing: none is used).
///
///    A handle dropped without a commit changes nothing.
///
/// ```
/// use http_session::{CommitOutcome, Headers, Session};
///
/// let session = Session::new();
///
/// // First visit, no cookie: reading creates nothing.
/// let request = Headers::new();
/// let handle = session.handle(&request);
/// assert_eq!(handle.get::<String>("user")?, None);
/// let mut response = Headers::new();
/// assert_eq!(handle.commit(&mut response)?, CommitOutcome::Unchanged);
/// assert!(response.is_empty());
///
/// // Log in: the first insert creates the session, the commit sets its cookie.
/// let mut handle = session.handle(&request);
/// handle.insert("user", "ana")?;
/// handle.insert("flash", "Welcome!")?;
/// let mut response = Headers::new();
/// assert_eq!(handle.commit(&mut response)?, CommitOutcome::Created);
/// let cookie = response.get("Set-Cookie").unwrap().split(';').next().unwrap().to_owned();
///
/// // Next request: typed reads, a flash message read once.
/// let request = Headers::new().with("Cookie", &cookie);
/// let mut handle = session.handle(&request);
/// assert_eq!(handle.get::<String>("user")?.as_deref(), Some("ana"));
/// assert_eq!(handle.take::<String>("flash")?.as_deref(), Some("Welcome!"));
/// handle.commit(&mut Headers::new())?;
///
/// // Log out: the store entry goes, the cookie is cleared.
/// let mut handle = session.handle(&request);
/// handle.destroy()?;
/// let mut response = Headers::new();
/// assert_eq!(handle.commit(&mut response)?, CommitOutcome::Destroyed);
/// assert!(response.get("Set-Cookie").unwrap().contains("Max-Age=0"));
/// assert_eq!(session.from_request(&request)?, None);
/// # Ok::<(), http_session::Error>(())
/// ```
///
/// Values are stored as JSON: anything `Serialize` goes in, anything
/// `DeserializeOwned` comes out. The handle belongs to one request (it is not
/// `Sync`); the [`Session`] it came from is shared by all of them.
#[must_use = "changes are written only by commit()"]
pub struct SessionHandle<'s, S: Store = MemoryStore> {
    session: &'s Session<S>,
    /// Well-formed IDs from the request's cookies, in order, without repeats.
    candidates: Vec<SessionId>,
    /// Filled on first use: `RefCell` so that reads can take `&self`.
    state: RefCell<Option<Loaded>>,
    /// Changes to the loaded session, replayed inside `Store::update`.
    changes: Vec<Change>,
    /// The session [`destroy`](SessionHandle::destroy) ended, to delete on commit.
    destroyed: Option<SessionId>,
    destroy: bool,
    regenerate: bool,
    touch: bool,
    /// The user to bind the session to on commit ([`set_user`](Self::set_user)).
    user: Option<String>,
    /// The client's details recorded with that binding.
    client: Client,
}

/// The request's session as this handle sees it.
struct Loaded {
    /// The stored session the data came from; `None` if there is none (yet).
    id: Option<SessionId>,
    /// The data, with this handle's changes applied.
    data: Data,
    /// A read is due to renew the session's idle timeout.
    renew: bool,
    /// The cookies named several live sessions: none was used, and the
    /// commit clears the cookie.
    tossed: bool,
}

/// A per-key modification, replayed on the stored value at commit.
type Modify = Box<dyn Fn(&str, Option<&Value>) -> Result<Value, Error>>;

/// One change, replayable on any copy of the data.
enum Change {
    Insert(String, Value),
    Update(String, Modify),
    Remove(String),
    Clear,
}

impl Change {
    fn apply(&self, data: &mut Data) -> Result<(), Error> {
        match self {
            Change::Insert(key, value) => {
                data.insert(key.clone(), value.clone());
            }
            Change::Update(key, modify) => {
                let value = modify(key, data.get(key))?;
                data.insert(key.clone(), value);
            }
            Change::Remove(key) => {
                data.remove(key);
            }
            Change::Clear => data.clear(),
        }
        Ok(())
    }
}

/// Replays `changes`, in order, on `data`.
fn replay(changes: &[Change], data: &mut Data) -> Result<(), Error> {
    changes.iter().try_for_each(|change| change.apply(data))
}

/// What [`SessionHandle::commit`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommitOutcome {
    /// Nothing changed: no store write, no cookie.
    Unchanged,
    /// The existing session was updated (its cookie was sent again if its idle
    /// timeout rolled forward).
    Saved,
    /// A new session was created under a fresh ID and its cookie set; also after
    /// [`destroy`](SessionHandle::destroy) followed by inserts.
    Created,
    /// The session moved to a fresh ID (with any changes) and the new cookie was set.
    Regenerated,
    /// The session was deleted and its cookie cleared.
    Destroyed,
    /// The session was deleted or expired while the request ran (a logout in
    /// another tab): the changes were dropped, the session stays gone, and the
    /// cookie is left alone (it may already name a newer session).
    Gone,
    /// Nothing changed, but the session had been read past its renewal point
    /// ([`renew_after`](crate::SessionBuilder::renew_after)): its idle timeout
    /// rolled forward and its cookie was sent again.
    Renewed,
    /// The request's cookies named several live sessions (cookie tossing):
    /// none was used, nothing was stored, and the session cookie was cleared.
    Cleared,
}

impl<S: Store> Session<S> {
    /// A [`SessionHandle`] for this request: lazy (the store is asked on first
    /// use), with one [`commit`](SessionHandle::commit) that writes only what
    /// changed. Cookies that lead nowhere go to the
    /// [`on_rejection`](crate::SessionBuilder::on_rejection) hook: a malformed
    /// one now, unknown IDs when the session is first loaded.
    ///
    /// ```
    /// use http_session::{Headers, Session};
    ///
    /// let session = Session::new();
    /// let request = Headers::new();
    /// let mut handle = session.handle(&request);
    /// handle.insert("cart", vec!["apple"])?;
    /// let mut response = Headers::new();
    /// handle.commit(&mut response)?;
    /// assert!(response.get("Set-Cookie").is_some());
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn handle(&self, req: &impl Request) -> SessionHandle<'_, S> {
        let candidates: Vec<SessionId> = self.screen(req).collect();
        SessionHandle {
            session: self,
            candidates,
            state: RefCell::new(None),
            changes: Vec::new(),
            destroyed: None,
            destroy: false,
            regenerate: false,
            touch: false,
            user: None,
            client: Client::default(),
        }
    }
}

impl<S: Store> SessionHandle<'_, S> {
    /// The value under `key`, read as a `T`; `None` if there is no such key (or
    /// no session). A value of another shape is [`Error::Deserialize`].
    ///
    /// ```
    /// # let session = http_session::Session::new();
    /// # let mut handle = session.handle(&http_session::Headers::new());
    /// handle.insert("visits", 3)?;
    /// assert_eq!(handle.get::<u32>("visits")?, Some(3));
    /// assert_eq!(handle.get::<u32>("other")?, None);
    /// assert!(handle.get::<String>("visits").is_err());
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        self.with_data(|data| data.get(key).map(|value| read(key, value)).transpose())?
    }

    /// All of the session's data (empty if there is no session).
    pub fn data(&self) -> Result<Data, Error> {
        self.with_data(Data::clone)
    }

    /// The ID of the stored session this request belongs to, if any. `None`
    /// also after [`destroy`](Self::destroy), and for a session that
    /// [`commit`](Self::commit) has yet to create.
    pub fn id(&self) -> Result<Option<SessionId>, Error> {
        self.ensure_loaded()?;
        Ok(self
            .state
            .borrow()
            .as_ref()
            .and_then(|loaded| loaded.id.clone()))
    }

    /// Sets `key` to `value` (anything that serializes to JSON). The first insert
    /// into a request without a session makes [`commit`](Self::commit) create one.
    ///
    /// Last write wins: the commit stores `value` whatever another request
    /// stored under `key` meanwhile. For a value computed from the stored one
    /// (a counter), use [`update`](Self::update), which loses nothing.
    ///
    /// If the data would grow past the session's size limit, nothing changes and
    /// the error is [`Error::DataTooLarge`].
    pub fn insert<T: Serialize>(&mut self, key: &str, value: T) -> Result<(), Error> {
        let value = serde_json::to_value(value)?;
        if self.with_data(|data| data.get(key) == Some(&value))? {
            return Ok(());
        }
        self.set_checked(key, value.clone())?;
        self.changes.push(Change::Insert(key.to_owned(), value));
        Ok(())
    }

    /// Changes the value under `key` with `f`, atomically: `f` gets the value
    /// read as a `T` (`None` if there is none) and returns the new one, which
    /// is returned at once, for the page to show. [`commit`](Self::commit)
    /// runs `f` again inside [`Store::update`] on the value stored by then, so
    /// parallel requests that count lose no increment (where an
    /// [`insert`](Self::insert) of a value read earlier would).
    ///
    /// `f` may run more than once (at commit, optimistic stores retry), so it
    /// should compute only from the value it is given. A value of another shape
    /// is [`Error::Deserialize`], now or at commit.
    ///
    /// ```
    /// use http_session::{Headers, Session};
    ///
    /// let session = Session::new();
    /// let mut handle = session.handle(&Headers::new());
    /// let visits = handle.update("visits", |n: Option<u64>| n.unwrap_or(0) + 1)?;
    /// assert_eq!(visits, 1);
    /// let mut response = Headers::new();
    /// handle.commit(&mut response)?;
    /// let cookie = response.get("Set-Cookie").unwrap().split(';').next().unwrap().to_owned();
    ///
    /// // Two requests of one browser at once: each counts, neither overwrites.
    /// let request = Headers::new().with("Cookie", &cookie);
    /// let (mut first, mut second) = (session.handle(&request), session.handle(&request));
    /// assert_eq!(first.update("visits", |n: Option<u64>| n.unwrap_or(0) + 1)?, 2);
    /// assert_eq!(second.update("visits", |n: Option<u64>| n.unwrap_or(0) + 1)?, 2);
    /// first.commit(&mut Headers::new())?;
    /// second.commit(&mut Headers::new())?;
    /// assert_eq!(session.handle(&request).get::<u64>("visits")?, Some(3));
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn update<T, F>(&mut self, key: &str, f: F) -> Result<T, Error>
    where
        T: Serialize + DeserializeOwned,
        F: Fn(Option<T>) -> T + 'static,
    {
        let current = self.get::<T>(key)?;
        let new = f(current);
        self.set_checked(key, serde_json::to_value(&new)?)?;
        let modify: Modify = Box::new(move |key, stored| {
            let stored = stored.map(|value| read::<T>(key, value)).transpose()?;
            Ok(serde_json::to_value(f(stored))?)
        });
        self.changes.push(Change::Update(key.to_owned(), modify));
        Ok(new)
    }

    /// Sets `key` in the handle's data, unless that makes the data too large
    /// or too deep: then nothing changes.
    fn set_checked(&mut self, key: &str, value: Value) -> Result<(), Error> {
        let session = self.session;
        let loaded = self.loaded_mut()?;
        let previous = loaded.data.insert(key.to_owned(), value);
        if let Err(e) = session.check_data(&loaded.data) {
            match previous {
                Some(previous) => loaded.data.insert(key.to_owned(), previous),
                None => loaded.data.remove(key),
            };
            return Err(e);
        }
        Ok(())
    }

    /// Removes `key`; `true` if it was there.
    pub fn remove(&mut self, key: &str) -> Result<bool, Error> {
        let found = self.loaded_mut()?.data.remove(key).is_some();
        if found {
            self.changes.push(Change::Remove(key.to_owned()));
        }
        Ok(found)
    }

    /// Reads `key` as a `T` and removes it: a flash message, shown once. If the
    /// value does not fit `T`, it stays and the error is [`Error::Deserialize`].
    ///
    /// ```
    /// # let session = http_session::Session::new();
    /// # let mut handle = session.handle(&http_session::Headers::new());
    /// handle.insert("flash", "Saved.")?;
    /// assert_eq!(handle.take::<String>("flash")?.as_deref(), Some("Saved."));
    /// assert_eq!(handle.take::<String>("flash")?, None);
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn take<T: DeserializeOwned>(&mut self, key: &str) -> Result<Option<T>, Error> {
        let value = self.get(key)?;
        if value.is_some() {
            self.remove(key)?;
        }
        Ok(value)
    }

    /// Removes every key. The session itself lives on (empty); to end it, use
    /// [`destroy`](Self::destroy).
    pub fn clear(&mut self) -> Result<(), Error> {
        let loaded = self.loaded_mut()?;
        if !loaded.data.is_empty() {
            loaded.data.clear();
            self.changes.push(Change::Clear);
        }
        Ok(())
    }

    /// Ends the session: [`commit`](Self::commit) deletes it from the store and
    /// clears the cookie (log out). Inserts after this start a new session,
    /// under a fresh ID (a "you are logged out" flash message, say).
    pub fn destroy(&mut self) -> Result<(), Error> {
        let loaded = self.loaded_mut()?;
        let ended = loaded.id.take();
        loaded.data.clear();
        if ended.is_some() {
            self.destroyed = ended;
        }
        self.changes.clear();
        self.destroy = true;
        self.regenerate = false;
        self.touch = false;
        self.user = None;
        Ok(())
    }

    /// Binds the session to `user` on [`commit`](Self::commit): log in. The
    /// session then shows in [`Session::sessions_of`] and ends with
    /// [`Session::revoke`] and [`Session::revoke_all`]; a request without a
    /// session gets one. Call [`regenerate`](Self::regenerate) too (a fresh ID
    /// at every login); regenerating later keeps the binding.
    ///
    /// Refuses a user name of 0 or more than 256 bytes, or with control
    /// characters, and a store without a [`UserIndex`](crate::store::UserIndex)
    /// ([`Error::NoUserIndex`]), at once.
    ///
    /// ```
    /// use http_session::{Headers, Session};
    ///
    /// let session = Session::new();
    /// let request = Headers::new().with("User-Agent", "Firefox/140");
    /// let mut handle = session.handle(&request);
    /// handle.insert("user", "ana")?;
    /// handle.set_user("ana")?;
    /// handle.set_client(request.get("User-Agent"), Some("192.0.2.7"));
    /// handle.regenerate()?;
    /// handle.commit(&mut Headers::new())?;
    ///
    /// let devices = session.sessions_of("ana", None)?;
    /// assert_eq!(devices[0].user_agent.as_deref(), Some("Firefox/140"));
    /// assert_eq!(devices[0].ip.as_deref(), Some("192.0.2.7"));
    /// # Ok::<(), http_session::Error>(())
    /// ```
    pub fn set_user(&mut self, user: &str) -> Result<(), Error> {
        check_user(user)?;
        if self.session.store().user_index().is_none() {
            return Err(Error::NoUserIndex);
        }
        self.ensure_loaded()?;
        self.user = Some(user.to_owned());
        Ok(())
    }

    /// Records the client's `User-Agent` and address with the binding that
    /// [`set_user`](Self::set_user) makes, for a "your devices" page. Either
    /// may be `None`; each is cut to 256 bytes, without control characters.
    /// Call it with `set_user`, before or after; alone it does nothing.
    pub fn set_client(&mut self, user_agent: Option<&str>, ip: Option<&str>) {
        self.client = Client::new(user_agent, ip);
    }

    /// Moves the session to a fresh ID on [`commit`](Self::commit), which also
    /// sets the new cookie: call it on login and on every privilege change, so
    /// an ID seen or planted before is worthless. A session that does not exist
    /// yet gets a fresh ID anyway.
    ///
    /// The commit takes the old record out atomically and creates it, with this
    /// handle's changes, under the fresh ID ([`Session::regenerate`]). Changes
    /// the session would refuse (too large, a value of another type) are found
    /// on the stored data first and take nothing out; if the store fails after
    /// the take, the session ends (the user logs in again), and it is never
    /// put back under the old ID.
    pub fn regenerate(&mut self) -> Result<(), Error> {
        self.ensure_loaded()?;
        self.regenerate = true;
        Ok(())
    }

    /// Rolls the idle timeout forward on [`commit`](Self::commit) even if nothing
    /// else changed (a write, and the cookie sent again).
    pub fn touch(&mut self) -> Result<(), Error> {
        self.ensure_loaded()?;
        self.touch = true;
        Ok(())
    }

    /// Writes what changed and adds the `Set-Cookie` header it needs to `res`;
    /// see the [life cycle](SessionHandle). On an error the response gets no
    /// header, and the store is as it was, or as far as the write got.
    pub fn commit(self, res: &mut impl Response) -> Result<CommitOutcome, Error> {
        let session = self.session;
        session.observe("commit", self.write(res))
    }

    /// [`commit`](Self::commit)'s work.
    fn write(self, res: &mut impl Response) -> Result<CommitOutcome, Error> {
        let SessionHandle {
            session,
            state,
            changes,
            destroyed,
            destroy,
            regenerate,
            touch,
            user,
            client,
            ..
        } = self;
        let Some(loaded) = state.into_inner() else {
            return Ok(CommitOutcome::Unchanged); // never used
        };
        if let Some(ended) = &destroyed {
            session.store().delete(ended)?;
            session.emit(|| SessionEvent::Destroyed);
        }
        let (outcome, live) = match loaded.id {
            Some(id) if regenerate => {
                let mut apply = |data: &mut Data| replay(&changes, data);
                let apply = (!changes.is_empty()).then_some(&mut apply as &mut Changes<'_>);
                match session.move_to_fresh_id(&id, apply)? {
                    Some(new_id) => {
                        session.set_cookie(res, &new_id)?;
                        (CommitOutcome::Regenerated, Some(new_id))
                    }
                    None => (CommitOutcome::Gone, None),
                }
            }
            Some(id) if !changes.is_empty() || touch || loaded.renew => {
                let renewal = match (changes.is_empty(), touch) {
                    (false, _) => Renewal::Always,
                    (true, true) => Renewal::Only,
                    (true, false) => Renewal::IfDue, // only read: renew, if still due
                };
                let modified = session.modify(&id, renewal, &mut |data| replay(&changes, data))?;
                match done_quietly(modified)? {
                    None => (CommitOutcome::Gone, None),
                    Some(((), rolled)) => {
                        if rolled {
                            session.set_cookie(res, &id)?;
                        }
                        let outcome = match renewal {
                            Renewal::Always | Renewal::Only => CommitOutcome::Saved,
                            Renewal::IfDue if rolled => CommitOutcome::Renewed,
                            Renewal::IfDue => CommitOutcome::Unchanged,
                        };
                        (outcome, Some(id))
                    }
                }
            }
            Some(id) => (CommitOutcome::Unchanged, Some(id)),
            None if !loaded.data.is_empty() || user.is_some() => {
                let id = session.create_data(loaded.data)?;
                session.set_cookie(res, &id)?;
                (CommitOutcome::Created, Some(id))
            }
            None if destroy => {
                session.clear_cookie(res);
                (CommitOutcome::Destroyed, None)
            }
            None if loaded.tossed => {
                session.clear_cookie(res);
                (CommitOutcome::Cleared, None)
            }
            None => (CommitOutcome::Unchanged, None),
        };
        match (user, live) {
            (Some(user), Some(id)) => {
                if !session.bind(&id, &user, client)? {
                    return Ok(CommitOutcome::Gone); // ended meanwhile
                }
                Ok(match outcome {
                    CommitOutcome::Unchanged | CommitOutcome::Renewed => CommitOutcome::Saved,
                    other => other,
                })
            }
            _ => Ok(outcome),
        }
    }

    /// Runs `f` on the data, loading it first if needed.
    fn with_data<R>(&self, f: impl FnOnce(&Data) -> R) -> Result<R, Error> {
        self.ensure_loaded()?;
        let state = self.state.borrow();
        let empty = Data::new();
        Ok(f(state.as_ref().map_or(&empty, |loaded| &loaded.data)))
    }

    fn ensure_loaded(&self) -> Result<(), Error> {
        if self.state.borrow().is_none() {
            let loaded = load(self.session, &self.candidates)?;
            *self.state.borrow_mut() = Some(loaded);
        }
        Ok(())
    }

    fn loaded_mut(&mut self) -> Result<&mut Loaded, Error> {
        let state = self.state.get_mut();
        let loaded = match state.take() {
            Some(loaded) => loaded,
            None => load(self.session, &self.candidates)?,
        };
        Ok(state.insert(loaded))
    }
}

/// The session the request's cookies name: the one candidate the store knows
/// (expired ones are not known). None if none is known, or if several are
/// (cookie tossing): the commit then clears the cookie.
fn load<S: Store>(session: &Session<S>, candidates: &[SessionId]) -> Result<Loaded, Error> {
    let now = session.clock().now();
    let found = session.observe("load", session.find_among(candidates.iter().cloned(), now))?;
    let tossed = matches!(found, Found::Several);
    Ok(match found {
        Found::One(id, record) => Loaded {
            renew: session.renewal_due(&record, now),
            id: Some(id),
            data: record.data,
            tossed,
        },
        Found::None | Found::Several => Loaded {
            id: None,
            data: Data::new(),
            renew: false,
            tossed,
        },
    })
}

fn read<T: DeserializeOwned>(key: &str, value: &Value) -> Result<T, Error> {
    // serde's message quotes the value: the error keeps only its kind.
    T::deserialize(value).map_err(|_| Error::deserialize::<T>(key, value))
}

impl<S: Store> fmt::Debug for SessionHandle<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // IDs print redacted; values are left out (they may be personal).
        let state = self.state.try_borrow();
        let loaded = match state.as_deref() {
            Ok(Some(loaded)) => format!("{:?} with {} keys", loaded.id, loaded.data.len()),
            Ok(None) => "not yet".to_owned(),
            Err(_) => "in use".to_owned(),
        };
        f.debug_struct("SessionHandle")
            .field("candidates", &self.candidates)
            .field("loaded", &loaded)
            .field("changes", &self.changes.len())
            .field("destroy", &self.destroy)
            .field("regenerate", &self.regenerate)
            .field("touch", &self.touch)
            .field("bind", &self.user.is_some())
            .finish()
    }
}

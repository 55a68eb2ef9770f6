//! A user's sessions: the [`UserIndex`] a store keeps beside its records, the
//! [`RecordKey`] it names records by, and the [`RevocationHandle`] a listing
//! hands out instead of a session ID.
//!
//! The index maps each user to their sessions, one entry per session:
//! revocation handle → record key. Every change to it is one compare-and-swap
//! on one user's entries ([`UserIndex::swap_entry`]), and the records are
//! changed by the store's own single-record operations. [`Session`] builds
//! binding, listing, revoking and the per-user cap on those two kinds of step
//! alone, in an order that keeps the index a superset of the user's live
//! bound sessions at every moment (see [`Session::revoke_all`]). So a store
//! needs no transaction spanning a record and the index: Redis Cluster,
//! whose records and index live on different nodes, gets the same guarantees
//! as a mutex in memory.
//!
//! [`Session`]: crate::Session
//! [`Session::revoke_all`]: crate::Session::revoke_all

use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

use rand::Rng;

use crate::store::{at_rest, Record, Store};
use crate::{Error, SessionId};

/// The name a store keeps a session's record under: the SHA-256 of the
/// session ID's 32 bytes. Knowing it reads and revokes nothing through the
/// [`Session`](crate::Session); it is what a user index points to.
///
/// `Debug` and `Display` never show it (it is derived from an ID); stores
/// that need its text take [`to_hex`](RecordKey::to_hex).
///
/// ```
/// use http_session::store::RecordKey;
/// use http_session::SessionId;
///
/// let id = SessionId::generate();
/// let key = RecordKey::of(&id);
/// assert_eq!(key.to_hex().len(), 64);
/// assert_eq!(RecordKey::from_hex(&key.to_hex()), Some(key));
/// assert!(!format!("{key:?}").contains(&key.to_hex()));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordKey([u8; 32]);

impl RecordKey {
    /// The key of session `id`'s record.
    pub fn of(id: &SessionId) -> RecordKey {
        RecordKey(at_rest::hash(id))
    }

    /// The key's 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The key whose bytes are `bytes` ([`as_bytes`](RecordKey::as_bytes)),
    /// for a store that keeps keys as bytes and reads them back.
    ///
    /// ```
    /// use http_session::{store::RecordKey, SessionId};
    /// let key = RecordKey::of(&SessionId::generate());
    /// assert_eq!(RecordKey::from_bytes(*key.as_bytes()), key);
    /// ```
    pub fn from_bytes(bytes: [u8; 32]) -> RecordKey {
        RecordKey(bytes)
    }

    /// The key as 64 lowercase hex digits: the file name or Redis key suffix
    /// of the record.
    pub fn to_hex(&self) -> String {
        at_rest::hex(&self.0)
    }

    /// The key that [`to_hex`](RecordKey::to_hex) wrote; `None` for any other
    /// string.
    pub fn from_hex(text: &str) -> Option<RecordKey> {
        at_rest::parse(text).map(RecordKey)
    }
}

impl fmt::Debug for RecordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecordKey(..)")
    }
}

/// Names one of a user's sessions in a listing, so that the user can end it
/// ([`Session::revoke`](crate::Session::revoke)) without the listing ever
/// showing a session ID: 128 random bits, unrelated to the ID, drawn when the
/// session is bound to its user and kept when it is regenerated.
///
/// Its text form (32 lowercase hex digits) is safe to put in a page or a form.
/// It revokes only a session of the user it is presented for: a handle from
/// someone else's listing does nothing.
///
/// ```
/// use http_session::store::RevocationHandle;
///
/// let handle = RevocationHandle::generate();
/// let text = handle.to_string();
/// assert_eq!(text.len(), 32);
/// assert_eq!(text.parse::<RevocationHandle>()?, handle);
/// assert!("not a handle".parse::<RevocationHandle>().is_err());
/// # Ok::<(), http_session::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RevocationHandle([u8; 16]);

impl RevocationHandle {
    /// A fresh random handle.
    pub fn generate() -> RevocationHandle {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        RevocationHandle(bytes)
    }

    /// The handle's 16 bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The handle whose bytes are `bytes` ([`as_bytes`](RevocationHandle::as_bytes)),
    /// for a store that keeps handles as bytes and reads them back.
    ///
    /// ```
    /// use http_session::store::RevocationHandle;
    /// let handle = RevocationHandle::generate();
    /// assert_eq!(RevocationHandle::from_bytes(*handle.as_bytes()), handle);
    /// ```
    pub fn from_bytes(bytes: [u8; 16]) -> RevocationHandle {
        RevocationHandle(bytes)
    }
}

impl fmt::Display for RevocationHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// Shows the first 4 hex digits only: enough to tell handles apart in logs.
impl fmt::Debug for RevocationHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RevocationHandle({:02x}{:02x}…)", self.0[0], self.0[1])
    }
}

impl FromStr for RevocationHandle {
    type Err = Error;

    /// Reads the 32 lowercase hex digits that `Display` writes;
    /// [`Error::InvalidHandle`] for anything else.
    fn from_str(text: &str) -> Result<RevocationHandle, Error> {
        let digits = text.as_bytes();
        if digits.len() != 32 {
            return Err(Error::InvalidHandle);
        }
        let nibble = |c: u8| match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            _ => Err(Error::InvalidHandle),
        };
        let mut bytes = [0u8; 16];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            *byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
        }
        Ok(RevocationHandle(bytes))
    }
}

/// Who a session belongs to, kept in its [`Record`]: set when the application
/// binds the session to a user, and what a listing shows.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Owner {
    /// The user the session is bound to.
    pub user: String,
    /// The session's handle in the user's index.
    pub handle: RevocationHandle,
    /// When the session was bound to the user (the login).
    pub created_at: SystemTime,
    /// When the session was last seen: the last time its idle timeout rolled
    /// forward (so keeping it costs no extra write).
    pub last_seen: SystemTime,
    /// The client's `User-Agent`, if the application recorded it.
    pub user_agent: Option<String>,
    /// The client's address, if the application recorded it.
    pub ip: Option<String>,
}

impl Owner {
    /// An owner bound now: `created_at` and `last_seen` are `now`, with a
    /// fresh handle and no client details.
    pub fn new(user: &str, now: SystemTime) -> Owner {
        Owner {
            user: user.to_owned(),
            handle: RevocationHandle::generate(),
            created_at: now,
            last_seen: now,
            user_agent: None,
            ip: None,
        }
    }
}

/// One entry of a user's index: a session's handle and where its record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexEntry {
    /// The session's handle.
    pub handle: RevocationHandle,
    /// The key of the record the handle points to now (regeneration moves it).
    pub key: RecordKey,
}

/// A store that can find every session of one user. Optional: a store
/// without it is still a [`Store`]; [`Session::sessions_of`] and the other
/// user calls need it, and a store offers it through
/// [`Store::user_index`].
///
/// The index maps a user to entries `handle → record key`. Implementors keep
/// it per user (a map entry, a file, a Redis hash) and make each method
/// atomic on its own; no method needs to change a record and the index
/// together. Entries may outlive their records (a logout deletes only the
/// record): the [`Session`] prunes those it meets, so the index holds at most
/// the user's live sessions plus those that ended since the user's last
/// login or listing.
///
/// Every store of this crate implements it; the conformance suite's
/// user-index section checks an implementation.
///
/// [`Session`]: crate::Session
/// [`Session::sessions_of`]: crate::Session::sessions_of
pub trait UserIndex: Send + Sync {
    /// `user`'s entries, in any order.
    fn entries(&self, user: &str) -> Result<Vec<IndexEntry>, Error>;

    /// Compare-and-swap of one entry, atomically: if `handle` maps to
    /// `expected` in `user`'s index (`None`: it is absent), make it map to
    /// `new` (`None`: remove it) and return `true`; otherwise change nothing
    /// and return `false`. `new` is given as the session ID, so that a store
    /// keeping raw IDs in memory can find the record again; a store that
    /// persists the index keeps only its [`RecordKey`].
    fn swap_entry(
        &self,
        user: &str,
        handle: &RevocationHandle,
        expected: Option<&RecordKey>,
        new: Option<&SessionId>,
    ) -> Result<bool, Error>;

    /// The record under `key` (an entry of `user`'s index), unless absent or
    /// expired.
    fn record(&self, user: &str, key: &RecordKey) -> Result<Option<Record>, Error>;

    /// Removes the record under `key` (an entry of `user`'s index), and says
    /// whether there was one: revoking counts the sessions it ended by it,
    /// with no read before. Removing an absent record is not an error
    /// (`Ok(false)`).
    fn remove_record(&self, user: &str, key: &RecordKey) -> Result<bool, Error>;
}

/// The stores behind pointers share their index.
impl<S: Store + ?Sized> UserIndexOf for S {}

/// Internal shorthand: the store's index, or the error that says it has none.
pub(crate) trait UserIndexOf: Store {
    fn index(&self) -> Result<&dyn UserIndex, Error> {
        self.user_index().ok_or(Error::NoUserIndex)
    }
}

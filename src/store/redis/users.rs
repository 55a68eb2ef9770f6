//! RedisStore's [`UserIndex`]: one Redis hash per user.
//!
//! **Keys.** The index of user `u` is the hash at
//! `<prefix>user:<hex of SHA-256 of u's UTF-8 bytes>`: one field per session,
//! the [`RevocationHandle`] in hex, whose value is the [`RecordKey`] in hex
//! (the record is at `<prefix><record key>`). Neither the user name nor a
//! session ID is ever part of a key, a field or a value of the index. The
//! hash keeps names out of a `SCAN` in the clear; it is not a secret (a user
//! name is guessable, so whoever reads Redis can test whether a given user
//! has sessions). The record itself names its owner in its value
//! ([`Record::owner`]).
//!
//! An index key never collides with a record key of the same store: a record
//! key is the prefix followed by exactly 64 hex digits, an index key the
//! prefix followed by `user:` and 64 hex digits (a `:` is no hex digit). Two
//! stores must not share Redis with one's prefix equal to the other's plus
//! `user:`, as with any two prefixes where one extends the other.
//!
//! **Steps.** Each method is one command on one key, so every one of them
//! runs on Redis Cluster, where a user's hash and that user's records lie in
//! different slots (the [`Session`](crate::Session) never needs them in one
//! transaction):
//! - [`entries`](UserIndex::entries): `HGETALL`;
//! - [`swap_entry`](UserIndex::swap_entry): one Lua script on the hash
//!   (`HGET`, compare, then `HSET` or `HDEL`): atomic, and on every Redis
//!   version with scripting, not only those with newer hash commands;
//! - [`record`](UserIndex::record) and
//!   [`remove_record`](UserIndex::remove_record): `GET` and `DEL` of the
//!   record, with the liveness rules of [`Store::get`](crate::Store::get).
//!
//! **Lifetime of a hash.** Removing a hash's last field deletes it (Redis
//! deletes empty hashes by itself), and the [`Session`](crate::Session)
//! prunes the fields of ended sessions whenever the user logs in (binds a
//! session), lists or revokes their sessions. The hash has no time to live
//! of its own: a sound one would have to outlast every record it points to,
//! and a record's lifetime grows each time its idle timeout rolls forward,
//! in a write to the record alone (another slot on a cluster), with no upper
//! bound this store knows (the absolute lifetime is the
//! [`Session`](crate::Session)'s setting, and a record may have no expiry).
//! A hash that expired early would let [`revoke_all`] miss a live session;
//! one that stays holds only the fields of the sessions the user had at
//! their last login, listing or revoke, about 100 bytes each: a user who
//! never comes back leaves one small hash.
//!
//! **Faults.** The swap is never retried on a fresh connection after the old
//! one died (as the store's compare-and-set of a record): the script may have
//! run before the connection died, and its retry would then report a failed
//! comparison for a swap that was made. The error goes to the caller, and
//! [`revoke_all`] called again finishes the job.
//!
//! **Malformed fields.** A field or value that this store did not write (not
//! a handle and a record key in lowercase hex) makes
//! [`entries`](UserIndex::entries) fail with [`Error::CorruptRecord`] rather
//! than skip it: a skipped field could be a session that [`revoke_all`]
//! would then report ended while it goes on (a newer version's format, say).
//! The message names neither the user nor the field.
//!
//! [`revoke_all`]: crate::Session::revoke_all
//! [`Record::owner`]: crate::Record::owner

use std::collections::HashMap;

use super::RedisStore;
use crate::store::{at_rest, IndexEntry, Record, RecordKey, RevocationHandle, UserIndex};
use crate::{Error, SessionId};

/// What an index key adds to the prefix before the user's hash: a record key
/// adds 64 hex digits only, so the two never meet.
const INDEX_INFIX: &str = "user:";

/// Compare-and-swap of one field of a user's index hash.
/// `KEYS[1]`: the hash. `ARGV[1]`: the handle (the field); `ARGV[2]`: the
/// record key expected there (`''`: the field must be absent); `ARGV[3]`: the
/// record key to put there (`''`: remove the field). Returns 1 if swapped,
/// else 0.
/// One key, so it runs on Redis Cluster too; removing the last field deletes
/// the hash.
pub(super) const SWAP_ENTRY_SCRIPT: &str = r"
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  if ARGV[2] == '' or current ~= ARGV[2] then return 0 end
elseif ARGV[2] ~= '' then
  return 0
end
if ARGV[3] == '' then redis.call('HDEL', KEYS[1], ARGV[1])
else redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end
return 1
";

impl RedisStore {
    /// The key of `user`'s index hash: the prefix, `user:`, and the hex of
    /// the SHA-256 of the name (never the name itself).
    fn index_key(&self, user: &str) -> String {
        let name = at_rest::hex(&at_rest::user_hash(user));
        let mut key = String::with_capacity(self.prefix.len() + INDEX_INFIX.len() + name.len());
        key.push_str(&self.prefix);
        key.push_str(INDEX_INFIX);
        key.push_str(&name);
        key
    }

    /// The Redis key of the record named `key`: what
    /// [`key_of`](RedisStore::key_of) gives for its session ID.
    fn record_key(&self, key: &RecordKey) -> String {
        let name = key.to_hex();
        let mut full = String::with_capacity(self.prefix.len() + name.len());
        full.push_str(&self.prefix);
        full.push_str(&name);
        full
    }
}

/// One field of an index hash, as the store wrote it.
fn parse_entry(handle: &[u8], key: &[u8]) -> Result<IndexEntry, Error> {
    let handle = std::str::from_utf8(handle)
        .ok()
        .and_then(|text| text.parse::<RevocationHandle>().ok());
    let key = std::str::from_utf8(key).ok().and_then(RecordKey::from_hex);
    match (handle, key) {
        (Some(handle), Some(key)) => Ok(IndexEntry { handle, key }),
        _ => Err(Error::CorruptRecord {
            reason: "a user's session index in Redis holds a field that is not a \
                     revocation handle mapped to a record key; delete that field"
                .to_owned(),
        }),
    }
}

impl UserIndex for RedisStore {
    fn entries(&self, user: &str) -> Result<Vec<IndexEntry>, Error> {
        let key = self.index_key(user);
        let fields: HashMap<Vec<u8>, Vec<u8>> = self.run("reading a user's sessions", |conn| {
            redis::cmd("HGETALL").arg(&key).query(conn)
        })?;
        fields
            .iter()
            .map(|(handle, key)| parse_entry(handle, key))
            .collect()
    }

    fn swap_entry(
        &self,
        user: &str,
        handle: &RevocationHandle,
        expected: Option<&RecordKey>,
        new: Option<&SessionId>,
    ) -> Result<bool, Error> {
        let key = self.index_key(user);
        let field = handle.to_string();
        let expected = expected.map(RecordKey::to_hex).unwrap_or_default();
        let new = new.map(|id| RecordKey::of(id).to_hex()).unwrap_or_default();
        let swapped: i64 = self.run_once("changing a user's session index", |conn| {
            self.swap_entry
                .key(&key)
                .arg(&field)
                .arg(&expected)
                .arg(&new)
                .invoke(conn)
        })?;
        Ok(swapped == 1)
    }

    fn record(&self, _user: &str, key: &RecordKey) -> Result<Option<Record>, Error> {
        match self.read_raw(&self.record_key(key), "reading a user's session")? {
            Some(value) => self.live(&value),
            None => Ok(None),
        }
    }

    fn remove_record(&self, _user: &str, key: &RecordKey) -> Result<bool, Error> {
        let key = self.record_key(key);
        self.run("ending a user's session", |conn| {
            redis::cmd("DEL").arg(&key).query::<u64>(conn)
        })
        .map(|removed| removed > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(prefix: &str) -> RedisStore {
        RedisStore::builder("redis://127.0.0.1:1")
            .prefix(prefix)
            .build()
            .unwrap()
    }

    #[test]
    fn index_keys_hash_the_name_and_never_look_like_record_keys() {
        let store = store("app:");
        let key = store.index_key("ana");
        // SHA-256("ana"), a known answer.
        assert_eq!(
            key,
            "app:user:24d4b96f58da6d4a8512313bbd02a28ebf0ca95dec6e4c86ef78ce7f01e788ac"
        );
        assert!(!key.contains("ana"));
        for user in ["ana", "", "ü", &"x".repeat(256)] {
            let key = store.index_key(user);
            let tail = key.strip_prefix("app:").unwrap();
            assert_eq!(RecordKey::from_hex(tail), None, "not a record key");
            let hash = tail.strip_prefix(INDEX_INFIX).unwrap();
            assert!(RecordKey::from_hex(hash).is_some(), "64 hex digits");
        }
        assert_ne!(store.index_key("ana"), store.index_key("Ana"));
    }

    #[test]
    fn record_keys_are_where_get_looks() {
        let store = store("s:");
        let id = SessionId::generate();
        assert_eq!(store.record_key(&RecordKey::of(&id)), store.key_of(&id));
    }

    #[test]
    fn only_what_the_store_writes_parses() {
        let handle = RevocationHandle::generate();
        let key = RecordKey::of(&SessionId::generate());
        let entry = parse_entry(handle.to_string().as_bytes(), key.to_hex().as_bytes()).unwrap();
        assert_eq!(entry, IndexEntry { handle, key });
        let (handle_hex, key_hex) = (handle.to_string(), key.to_hex());
        let upper = handle_hex.to_uppercase();
        let bad: [(&[u8], &[u8]); 5] = [
            (b"ana", key_hex.as_bytes()),
            (handle_hex.as_bytes(), b""),
            (upper.as_bytes(), key_hex.as_bytes()),
            (handle_hex.as_bytes(), b"\xff\xfe"),
            (b"", b""),
        ];
        for (field, value) in bad {
            let err = parse_entry(field, value).unwrap_err();
            assert!(matches!(err, Error::CorruptRecord { .. }), "{err}");
            assert!(!err.to_string().contains(&key.to_hex()), "{err}");
        }
    }
}

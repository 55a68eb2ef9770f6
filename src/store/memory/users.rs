//! MemoryStore's [`UserIndex`]: per user, each session's handle, record key
//! and ID, in one map under its own lock.
//!
//! Lock order: the index lock and a shard lock are never held together. An
//! index call takes the index lock alone; [`UserIndex::record`] finds the ID
//! under it, lets it go, then locks the record's shard.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::MemoryStore;
use crate::store::{IndexEntry, Record, RecordKey, RevocationHandle, Store, UserIndex};
use crate::{Error, SessionId};

/// One entry: the ID is kept too, since the store keys records by raw ID
/// (its memory is the process's own).
struct Slot {
    handle: RevocationHandle,
    key: RecordKey,
    id: SessionId,
}

/// Users and their entries. No `Debug`: the IDs are working session IDs.
#[derive(Default)]
pub(super) struct Users(Mutex<HashMap<String, Vec<Slot>>>);

impl Users {
    /// The map, recovered if a thread panicked holding it: every change is
    /// one push, one overwrite or one removal, never half-done.
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Vec<Slot>>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The number of users with at least one entry.
    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }

    fn id_of(&self, user: &str, key: &RecordKey) -> Option<SessionId> {
        self.lock()
            .get(user)?
            .iter()
            .find(|slot| slot.key == *key)
            .map(|slot| slot.id.clone())
    }
}

impl UserIndex for MemoryStore {
    fn entries(&self, user: &str) -> Result<Vec<IndexEntry>, Error> {
        Ok(self.users.lock().get(user).map_or_else(Vec::new, |slots| {
            slots
                .iter()
                .map(|slot| IndexEntry {
                    handle: slot.handle,
                    key: slot.key,
                })
                .collect()
        }))
    }

    fn swap_entry(
        &self,
        user: &str,
        handle: &RevocationHandle,
        expected: Option<&RecordKey>,
        new: Option<&SessionId>,
    ) -> Result<bool, Error> {
        let mut users = self.users.lock();
        let slots = users.entry(user.to_owned()).or_default();
        let at = slots.iter().position(|slot| slot.handle == *handle);
        let swapped = match (at, expected, new) {
            (None, None, Some(id)) => {
                slots.push(Slot {
                    handle: *handle,
                    key: RecordKey::of(id),
                    id: id.clone(),
                });
                true
            }
            (None, None, None) => true,
            (Some(at), Some(expected), new) if slots[at].key == *expected => {
                match new {
                    Some(id) => {
                        slots[at].key = RecordKey::of(id);
                        slots[at].id = id.clone();
                    }
                    None => {
                        slots.swap_remove(at);
                    }
                }
                true
            }
            _ => false,
        };
        if slots.is_empty() {
            users.remove(user);
        }
        Ok(swapped)
    }

    fn record(&self, user: &str, key: &RecordKey) -> Result<Option<Record>, Error> {
        match self.users.id_of(user, key) {
            Some(id) => self.get(&id),
            None => Ok(None),
        }
    }

    fn remove_record(&self, user: &str, key: &RecordKey) -> Result<bool, Error> {
        match self.users.id_of(user, key) {
            Some(id) => Ok(self.remove(&id)),
            None => Ok(false),
        }
    }
}

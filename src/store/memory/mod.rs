//! The default store: sharded, bounded, in this process's memory.

use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasherDefault;
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::Duration;

mod codec;
mod slot;
mod users;

use crate::clock::{to_millis, Clock};
use crate::store::{Record, Store, UserIndex};
use crate::{Error, SessionId};

use slot::{Entry, IdHasher, Key, Padded, Scratch};

const DEFAULT_MAX_SESSIONS: usize = 1_000_000;
const DEFAULT_SWEEP_INTERVAL: Duration = Duration::from_secs(60);
const MAX_SHARDS: usize = 64;
/// Shards are halved until each holds at least this many sessions.
const MIN_PER_SHARD: usize = 64;
/// A full shard evicts this fraction (at least one) of its sessions at once,
/// so a flood of creates costs the same per create as a trickle.
const EVICT_FRACTION: usize = 64;

/// Sessions in this process's memory: fast, bounded, gone when the process exits.
///
/// The map is split into shards, each behind its own `Mutex`, so worker threads
/// rarely wait for each other. Data is kept in a compact binary form, about
/// the size of its compact JSON or less. Guarantees:
///
/// - **atomic updates**: [`Store::update`] runs under the shard lock; a panic in
///   the closure leaves the record as it was, and the lock is recovered, not
///   propagated;
/// - **expiry**: an expired record is never returned; each shard sweeps out
///   expired records on writes, at most once per sweep interval (default 60 s),
///   with no thread of its own, and [`Store::purge_expired`] sweeps everything;
/// - **bounded memory**: at most `max_sessions` (default 1,000,000); a full shard
///   frees 1/64 of its slots at a time, expired sessions first, then the
///   soonest-to-expire, so a flood of creates keeps the store at its bound;
/// - **bounded work per call**: a call locks one shard, and no call examines
///   more than three times the sessions of that shard (the interval sweep, then
///   a sweep and an eviction pass if it is full); a shard holds at most
///   `max_sessions / 64` sessions (rounded up), or 127 for small stores. A full
///   store pays that once per 1/64 of a shard, so a flood of creates costs at
///   most about 128 entries examined per create on average, whatever the expiry
///   pattern. Only [`Store::purge_expired`] walks every shard (one at a time).
///
/// ```
/// use http_session::{MemoryStore, Session};
///
/// let store = MemoryStore::builder().max_sessions(10_000).build();
/// let session = Session::with_store(store);
/// let id = session.create(serde_json::json!({"user": "ana"}))?;
/// assert_eq!(session.store().len(), 1);
/// # Ok::<(), http_session::Error>(())
/// ```
///
/// `Debug` shows the settings and the number of sessions, never an ID or any
/// session data: logging the store with `{:?}` must not hand out cookies.
pub struct MemoryStore {
    shards: Box<[Padded<Mutex<Shard>>]>,
    clock: Clock,
    sweep_interval_ms: u64,
    max_sessions: usize,
    /// The sessions of each user ([`UserIndex`]), under a lock of its own.
    users: users::Users,
}

/// Settings for a [`MemoryStore`].
///
/// ```
/// use http_session::MemoryStore;
/// use std::time::Duration;
///
/// let store = MemoryStore::builder()
///     .max_sessions(50_000)
///     .sweep_interval(Duration::from_secs(10))
///     .build();
/// assert!(store.is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct MemoryStoreBuilder {
    max_sessions: usize,
    sweep_interval: Duration,
    clock: Clock,
}

// No `Debug` on the shard and what it holds: its keys are working session IDs.
struct Shard {
    map: HashMap<Key, Entry, BuildHasherDefault<IdHasher>>,
    cap: usize,
    next_sweep_ms: u64,
    /// Entries examined by sweeps and evictions: the work that tests bound.
    #[cfg(test)]
    visited: usize,
}

impl Shard {
    /// Drops expired entries if the sweep interval has passed.
    fn maybe_sweep(&mut self, now_ms: u64, interval_ms: u64) {
        if now_ms >= self.next_sweep_ms {
            self.sweep(now_ms);
            self.next_sweep_ms = now_ms.saturating_add(interval_ms);
        }
    }

    fn sweep(&mut self, now_ms: u64) -> usize {
        let before = self.map.len();
        #[cfg(test)]
        {
            self.visited += before;
        }
        self.map.retain(|_, e| !e.is_expired(now_ms));
        before - self.map.len()
    }

    /// Inserts `entry`, making room first if the shard is full.
    fn insert(&mut self, key: Key, entry: Entry, now_ms: u64) {
        if self.map.len() >= self.cap && !self.map.contains_key(&key) {
            self.make_room(now_ms);
        }
        if self.cap > 0 {
            self.map.insert(key, entry);
        }
    }

    /// Frees a batch of slots (1/EVICT_FRACTION of the shard, at least one):
    /// expired entries first, then those that expire soonest. Freeing a whole
    /// batch every time matters: if a sweep that happened to free one slot were
    /// enough, an attacker timing creates to expiries would make every create
    /// walk the whole shard. This way each O(shard) pass pays for at least
    /// `cap / EVICT_FRACTION` creates.
    fn make_room(&mut self, now_ms: u64) {
        let batch = (self.cap / EVICT_FRACTION).max(1);
        let swept = self.sweep(now_ms);
        if swept < batch {
            self.evict_soonest(batch - swept);
        }
    }

    /// Removes the `count` entries that expire soonest.
    fn evict_soonest(&mut self, count: usize) {
        #[cfg(test)]
        {
            self.visited += self.map.len();
        }
        let mut by_expiry: Vec<(u64, Key)> =
            self.map.iter().map(|(k, e)| (e.expires_ms, *k)).collect();
        let count = count.min(by_expiry.len());
        if count == 0 {
            return;
        }
        if count < by_expiry.len() {
            by_expiry.select_nth_unstable_by_key(count - 1, |(expires_ms, _)| *expires_ms);
        }
        for (_, key) in &by_expiry[..count] {
            self.map.remove(key);
        }
    }
}

impl Default for MemoryStoreBuilder {
    fn default() -> Self {
        MemoryStoreBuilder {
            max_sessions: DEFAULT_MAX_SESSIONS,
            sweep_interval: DEFAULT_SWEEP_INTERVAL,
            clock: Clock::system(),
        }
    }
}

impl MemoryStoreBuilder {
    /// The most sessions kept at once (default 1,000,000; `usize::MAX` for no bound).
    /// A full store evicts the sessions that expire soonest.
    pub fn max_sessions(mut self, max_sessions: usize) -> Self {
        self.max_sessions = max_sessions;
        self
    }

    /// How often each shard sweeps out expired sessions, on its next write
    /// (default 60 s). Expired sessions are never returned in between; the sweep
    /// only frees their memory.
    pub fn sweep_interval(mut self, interval: Duration) -> Self {
        self.sweep_interval = interval;
        self
    }

    /// The clock expiry is judged by (default: the system clock).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Builds the store.
    pub fn build(self) -> MemoryStore {
        let max = self.max_sessions.max(1);
        let mut shards = MAX_SHARDS;
        while shards > 1 && max / shards < MIN_PER_SHARD {
            shards /= 2;
        }
        let (base, extra) = (max / shards, max % shards);
        let shards = (0..shards)
            .map(|i| {
                Padded(Mutex::new(Shard {
                    map: HashMap::default(),
                    cap: base + usize::from(i < extra),
                    next_sweep_ms: 0,
                    #[cfg(test)]
                    visited: 0,
                }))
            })
            .collect();
        MemoryStore {
            shards,
            clock: self.clock,
            sweep_interval_ms: u64::try_from(self.sweep_interval.as_millis()).unwrap_or(u64::MAX),
            max_sessions: max,
            users: users::Users::default(),
        }
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new()
    }
}

impl MemoryStore {
    /// A store with the default settings (up to 1,000,000 sessions).
    pub fn new() -> MemoryStore {
        MemoryStoreBuilder::default().build()
    }

    /// Settings for a store.
    pub fn builder() -> MemoryStoreBuilder {
        MemoryStoreBuilder::default()
    }

    /// The number of sessions held, including expired ones not yet swept.
    pub fn len(&self) -> usize {
        (0..self.shards.len()).map(|i| self.lock(i).map.len()).sum()
    }

    /// Whether the store holds no sessions.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn shard_of(&self, id: &SessionId) -> usize {
        // Bytes 8.. are independent of the hash (bytes ..8), and the shard count
        // is a power of two.
        usize::from(id.as_bytes()[8]) & (self.shards.len() - 1)
    }

    /// Locks a shard, recovering it if a thread panicked while holding it: every
    /// change to a shard is a single map operation, so it is never half-done.
    fn lock(&self, shard: usize) -> MutexGuard<'_, Shard> {
        self.shards[shard]
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Removes session `id`'s entry; says whether there was one.
    fn remove(&self, id: &SessionId) -> bool {
        self.lock(self.shard_of(id))
            .map
            .remove(&Key(*id.as_bytes()))
            .is_some()
    }

    fn now_ms(&self) -> u64 {
        to_millis(self.clock.now())
    }

    /// The number of sessions held, without waiting: `None` if a shard is
    /// locked (`Debug` may run inside an update closure, which holds one).
    fn len_now(&self) -> Option<usize> {
        self.shards
            .iter()
            .map(|shard| match shard.0.try_lock() {
                Ok(shard) => Some(shard.map.len()),
                Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner().map.len()),
                Err(TryLockError::WouldBlock) => None,
            })
            .sum()
    }
}

/// Settings and counts only: the keys are working session IDs, and the data
/// is the users'.
impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("len", &self.len_now())
            .field("max_sessions", &self.max_sessions)
            .field("shards", &self.shards.len())
            .field(
                "sweep_interval",
                &Duration::from_millis(self.sweep_interval_ms),
            )
            .field("clock", &self.clock)
            .field("users", &self.users.len())
            .finish()
    }
}

impl Store for MemoryStore {
    fn get(&self, id: &SessionId) -> Result<Option<Record>, Error> {
        let now = self.now_ms();
        let key = Key(*id.as_bytes());
        // Decoded under the lock: a small session decodes in about the time a
        // copy of its bytes would take to allocate, and this saves the copy.
        let mut shard = self.lock(self.shard_of(id));
        match shard.map.get(&key) {
            None => Ok(None),
            Some(e) if e.is_expired(now) => {
                shard.map.remove(&key);
                Ok(None)
            }
            Some(e) => e.decode().map(Some),
        }
    }

    fn set(&self, id: &SessionId, record: Record) -> Result<(), Error> {
        let entry = Entry::encode(&record);
        let now = self.now_ms();
        let mut shard = self.lock(self.shard_of(id));
        shard.maybe_sweep(now, self.sweep_interval_ms);
        shard.insert(Key(*id.as_bytes()), entry, now);
        Ok(())
    }

    fn delete(&self, id: &SessionId) -> Result<(), Error> {
        self.remove(id);
        Ok(())
    }

    fn update(
        &self,
        id: &SessionId,
        f: &mut dyn FnMut(&mut Record) -> bool,
    ) -> Result<bool, Error> {
        let now = self.now_ms();
        let key = Key(*id.as_bytes());
        let mut shard = self.lock(self.shard_of(id));
        let Some(entry) = shard.map.get_mut(&key) else {
            return Ok(false);
        };
        if entry.is_expired(now) {
            shard.map.remove(&key);
            return Ok(false);
        }
        let size = entry.data.as_bytes().len();
        Scratch::with(size, |scratch| entry.update(f, scratch))?;
        Ok(true)
    }

    /// Removes the entry under the shard lock; it is decoded after the lock is
    /// released, as nobody else can reach it any more.
    fn take(&self, id: &SessionId) -> Result<Option<Record>, Error> {
        let now = self.now_ms();
        let entry = self
            .lock(self.shard_of(id))
            .map
            .remove(&Key(*id.as_bytes()));
        match entry {
            // An expired entry is removed all the same.
            Some(entry) if !entry.is_expired(now) => entry.decode().map(Some),
            _ => Ok(None),
        }
    }

    fn create(&self, id: &SessionId, record: Record) -> Result<bool, Error> {
        let entry = Entry::encode(&record);
        let now = self.now_ms();
        let key = Key(*id.as_bytes());
        let mut shard = self.lock(self.shard_of(id));
        shard.maybe_sweep(now, self.sweep_interval_ms);
        if shard.map.get(&key).is_some_and(|e| !e.is_expired(now)) {
            return Ok(false);
        }
        shard.insert(key, entry, now);
        Ok(true)
    }

    fn purge_expired(&self) -> Result<usize, Error> {
        let now = self.now_ms();
        Ok((0..self.shards.len())
            .map(|i| self.lock(i).sweep(now))
            .sum())
    }

    fn user_index(&self) -> Option<&dyn UserIndex> {
        Some(self)
    }

    fn count(&self) -> Result<Option<u64>, Error> {
        Ok(Some(self.len() as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::slot::{Packed, MAX_SCRATCH_BYTES, NEVER, SCRATCH};
    use super::*;
    use crate::Data;
    use crate::ManualClock;
    use std::time::{SystemTime, UNIX_EPOCH};

    fn data(n: i64) -> Data {
        let mut d = Data::new();
        d.insert("n".into(), n.into());
        d
    }

    #[test]
    fn shard_count_follows_the_bound() {
        assert_eq!(MemoryStore::new().shards.len(), 64);
        assert_eq!(
            MemoryStore::builder().max_sessions(10).build().shards.len(),
            1
        );
        assert_eq!(
            MemoryStore::builder()
                .max_sessions(1000)
                .build()
                .shards
                .len(),
            8
        );
        let odd = MemoryStore::builder().max_sessions(10_007).build();
        let caps: usize = odd.shards.iter().map(|s| s.0.lock().unwrap().cap).sum();
        assert_eq!(caps, 10_007);
    }

    #[test]
    fn full_store_evicts_soonest_to_expire() {
        let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_000));
        let store = MemoryStore::builder()
            .max_sessions(3)
            .clock(clock.clock())
            .build();
        let now = clock.now();
        let ids: Vec<SessionId> = (0..4).map(|_| SessionId::generate()).collect();
        let expiries = [100, 10, 50, 70];
        for (id, secs) in ids.iter().zip(expiries) {
            let rec = Record::expiring(data(secs), now + Duration::from_secs(secs as u64));
            assert!(store.create(id, rec).unwrap());
        }
        assert_eq!(store.len(), 3);
        assert!(store.get(&ids[1]).unwrap().is_none(), "soonest was evicted");
        for i in [0, 2, 3] {
            assert!(store.get(&ids[i]).unwrap().is_some());
        }
    }

    #[test]
    fn sweep_runs_on_writes_after_the_interval() {
        let clock = ManualClock::new(SystemTime::now());
        let store = MemoryStore::builder()
            .max_sessions(100)
            .sweep_interval(Duration::from_secs(10))
            .clock(clock.clock())
            .build();
        let old = SessionId::generate();
        store
            .set(
                &old,
                Record::expiring(data(1), clock.now() + Duration::from_secs(1)),
            )
            .unwrap();
        clock.advance(Duration::from_secs(11));
        assert_eq!(store.len(), 1, "nothing swept without a write");
        store
            .set(&SessionId::generate(), Record::new(data(2)))
            .unwrap();
        assert_eq!(store.len(), 1, "the write swept the expired record");
    }

    /// An empty shard for `cap` sessions, alone (no store around it).
    fn shard(cap: usize) -> Shard {
        Shard {
            map: HashMap::default(),
            cap,
            next_sweep_ms: u64::MAX, // no interval sweeps: only the work of `insert`
            visited: 0,
        }
    }

    fn entry(expires_ms: u64) -> Entry {
        Entry {
            data: Packed::new(&[0]),
            expires_ms,
            deadline_ms: NEVER,
            owner: None,
        }
    }

    /// The worst expiry pattern for a full shard: exactly one session expires
    /// before each new one arrives, so a sweep frees a single slot. Every create
    /// must still cost O(EVICT_FRACTION) entries visited on average, not O(shard).
    #[test]
    fn full_shard_work_per_insert_is_amortized_whatever_the_expiry_pattern() {
        let cap = 6_400; // evicts in batches of cap / EVICT_FRACTION = 100
        let mut shard = shard(cap);
        for i in 0..cap as u64 {
            shard.insert(
                Key(SessionId::generate().as_bytes().to_owned()),
                entry(i + 1),
                0,
            );
        }
        assert_eq!(
            shard.visited, 0,
            "filling up to the cap costs nothing extra"
        );
        let inserts = 10 * cap as u64;
        for k in 1..=inserts {
            let key = Key(*SessionId::generate().as_bytes());
            shard.insert(key, entry(cap as u64 + k), k);
            assert!(shard.map.len() <= cap);
        }
        let per_insert = shard.visited as u64 / inserts;
        assert!(
            per_insert <= 2 * EVICT_FRACTION as u64,
            "{per_insert} entries visited per insert (shard of {cap})"
        );
    }

    /// No single call examines more than three times the sessions of its shard
    /// (an interval sweep, then a sweep and an eviction pass when full): the
    /// bound on how long one request can be held up.
    #[test]
    fn one_create_visits_at_most_three_times_its_shard() {
        let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_000));
        let store = MemoryStore::builder()
            .max_sessions(100) // one shard
            .sweep_interval(Duration::from_secs(1))
            .clock(clock.clock())
            .build();
        assert_eq!(store.shards.len(), 1);
        let later = clock.now() + Duration::from_secs(3600);
        for _ in 0..100 {
            assert!(store
                .create(&SessionId::generate(), Record::expiring(data(0), later))
                .unwrap());
        }
        clock.advance(Duration::from_secs(2)); // the interval sweep is due too
        let before = store.lock(0).visited;
        let id = SessionId::generate();
        assert!(store.create(&id, Record::new(data(1))).unwrap());
        let visited = store.lock(0).visited - before;
        assert!(visited <= 3 * 100, "{visited}");
        assert!(visited >= 200, "swept and evicted: {visited}");
        assert_eq!(store.len(), 100);
        assert!(store.get(&id).unwrap().is_some());
    }

    /// The per-thread scratch never keeps a large session's memory: not after
    /// reading or updating a 1 MB session, not after a 1 MB change that was
    /// not stored, not after a small session grew to 1 MB.
    #[test]
    fn a_large_session_is_not_kept_in_the_thread_scratch() {
        fn kept() -> usize {
            SCRATCH.with(|cell| {
                let scratch = cell.borrow();
                let strings: usize = scratch
                    .record
                    .data
                    .values()
                    .map(|v| v.as_str().map_or(0, str::len))
                    .sum();
                strings + scratch.bytes.capacity()
            })
        }
        const MB: usize = 1 << 20;
        let store = MemoryStore::builder().max_sessions(10).build();
        let (big, small) = (SessionId::generate(), SessionId::generate());
        let mut data_1mb = Data::new();
        data_1mb.insert("blob".into(), "x".repeat(MB).into());
        store.set(&big, Record::new(data_1mb)).unwrap();
        store.set(&small, Record::new(data(1))).unwrap();

        let read = store.get(&big).unwrap().unwrap();
        assert_eq!(read.data["blob"].as_str().unwrap().len(), MB);
        assert!(kept() <= MAX_SCRATCH_BYTES, "after a read: {}", kept());
        assert!(store
            .update(&big, &mut |r| {
                r.data.insert("n".into(), 1.into());
                true
            })
            .unwrap());
        assert!(kept() <= MAX_SCRATCH_BYTES, "after an update: {}", kept());

        assert!(store
            .update(&small, &mut |r| {
                r.data.insert("dropped".into(), "z".repeat(MB).into());
                false
            })
            .unwrap());
        assert!(
            kept() <= MAX_SCRATCH_BYTES,
            "after a dropped change: {}",
            kept()
        );
        assert_eq!(store.get(&small).unwrap().unwrap().data, data(1));

        assert!(store
            .update(&small, &mut |r| {
                r.data.insert("grown".into(), "y".repeat(MB).into());
                true
            })
            .unwrap());
        assert!(kept() <= MAX_SCRATCH_BYTES, "after growing: {}", kept());
        let grown = store.get(&small).unwrap().unwrap();
        assert_eq!(grown.data["grown"].as_str().unwrap().len(), MB);
    }

    #[test]
    fn poisoned_shard_is_recovered() {
        let store = std::sync::Arc::new(MemoryStore::builder().max_sessions(10).build());
        let id = SessionId::generate();
        store.set(&id, Record::new(data(1))).unwrap();
        let s = store.clone();
        let id2 = id.clone();
        let joined = std::thread::spawn(move || {
            let _ = s.update(&id2, &mut |_| panic!("boom"));
        })
        .join();
        assert!(joined.is_err());
        assert!(store.shards[0].0.is_poisoned());
        assert_eq!(store.get(&id).unwrap().unwrap().data, data(1));
        assert!(store
            .update(&id, &mut |r| {
                r.data = data(2);
                true
            })
            .unwrap());
        assert_eq!(store.get(&id).unwrap().unwrap().data, data(2));
    }
}

//! What one `MemoryStore` session takes in its shard's table: the [`Entry`]
//! (packed data and expiry times), the [`Key`] and its [`IdHasher`], the
//! per-thread [`Scratch`] that updates work in, and the [`Padded`] shards.

use std::cell::RefCell;
use std::hash::{Hash, Hasher};
use std::time::SystemTime;

use super::codec;
use crate::clock::{from_millis, to_millis};
use crate::store::{Owner, Record};
use crate::{Data, Error};

/// `expires_ms`/`deadline_ms` value for "not set".
pub(super) const NEVER: u64 = u64::MAX;

/// One shard per cache-line pair, so that two threads locking neighbouring
/// shards do not pass one line back and forth.
#[repr(align(128))]
pub(super) struct Padded<T>(pub(super) T);

pub(super) struct Entry {
    pub(super) data: Packed,
    pub(super) expires_ms: u64,
    pub(super) deadline_ms: u64,
    /// Boxed: most sessions have none, and the slot stays small.
    pub(super) owner: Option<Box<Owner>>,
}

/// Session data packing to at most this many bytes lives in the table's slot
/// itself, which makes the slot 96 bytes with its key.
pub(super) const INLINE: usize = 38;

/// A session's data in the packed form of [`codec`]: in the slot when short,
/// so an update allocates nothing and a lookup in a large store misses the
/// cache once instead of twice (slot, then data); on the heap otherwise.
pub(super) enum Packed {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<[u8]>),
}

impl Packed {
    pub(super) fn new(bytes: &[u8]) -> Packed {
        match u8::try_from(bytes.len()) {
            Ok(len) if bytes.len() <= INLINE => {
                let mut inline = [0; INLINE];
                inline[..bytes.len()].copy_from_slice(bytes);
                Packed::Inline { len, bytes: inline }
            }
            _ => Packed::Heap(bytes.into()),
        }
    }

    /// Replaces the contents, in place when they fit where the old ones were.
    pub(super) fn replace(&mut self, new: &[u8]) {
        match (self, u8::try_from(new.len())) {
            (Packed::Inline { len, bytes }, Ok(new_len)) if new.len() <= INLINE => {
                bytes[..new.len()].copy_from_slice(new);
                *len = new_len;
            }
            (Packed::Heap(old), _) if old.len() == new.len() => old.copy_from_slice(new),
            (packed, _) => *packed = Packed::new(new),
        }
    }

    pub(super) fn as_bytes(&self) -> &[u8] {
        match self {
            Packed::Inline { len, bytes } => bytes.get(..usize::from(*len)).unwrap_or_default(),
            Packed::Heap(bytes) => bytes,
        }
    }
}

/// The ID's 32 bytes. They are uniformly random (the store only ever sees IDs it
/// created or that a client sent; only created ones are inserted), so the first
/// eight of them already are a good hash: no need to run SipHash over all 32.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Key(pub(super) [u8; 32]);

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let mut word = [0u8; 8];
        word.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_le_bytes(word));
    }
}

#[derive(Debug, Default)]
pub(super) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only reached through `write_u64` above; fold anything else in anyway.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl Entry {
    pub(super) fn encode(record: &Record) -> Entry {
        Entry {
            data: Scratch::with(0, |scratch| {
                scratch.bytes.clear();
                codec::encode(&record.data, &mut scratch.bytes);
                Packed::new(&scratch.bytes)
            }),
            expires_ms: record.expires_at.map_or(NEVER, to_millis),
            deadline_ms: record.deadline.map_or(NEVER, to_millis),
            owner: record.owner.clone().map(Box::new),
        }
    }

    pub(super) fn decode(&self) -> Result<Record, Error> {
        // Decoded into this thread's scratch map (which usually has this
        // session's keys, and often its values) and cloned from there: a
        // clone copies strings already checked, where a fresh decode checks
        // every string's UTF-8 and inserts key by key.
        let data = Scratch::with(self.data.as_bytes().len(), |scratch| {
            codec::decode_into(self.data.as_bytes(), &mut scratch.record.data)?;
            Ok::<_, Error>(scratch.record.data.clone())
        })?;
        Ok(Record {
            data,
            expires_at: time(self.expires_ms),
            deadline: time(self.deadline_ms),
            owner: self.owner.as_deref().cloned(),
        })
    }

    pub(super) fn is_expired(&self, now_ms: u64) -> bool {
        self.expires_ms <= now_ms
    }

    /// Runs `f` on this entry's record (decoded into `scratch.record`) and
    /// stores the result if `f` says to.
    pub(super) fn update(
        &mut self,
        f: &mut dyn FnMut(&mut Record) -> bool,
        scratch: &mut Scratch,
    ) -> Result<(), Error> {
        let record = &mut scratch.record;
        codec::decode_into(self.data.as_bytes(), &mut record.data)?;
        let (expires_at, deadline) = (time(self.expires_ms), time(self.deadline_ms));
        record.expires_at = expires_at;
        record.deadline = deadline;
        copy_owner(&mut record.owner, self.owner.as_deref());
        // A panic in `f` unwinds before the entry is touched.
        if !f(record) {
            // Not stored (too large, expired: rare). What `f` left may be
            // large, and is not worth keeping.
            record.data.clear();
            return Ok(());
        }
        scratch.bytes.clear();
        codec::encode(&record.data, &mut scratch.bytes);
        self.data.replace(&scratch.bytes);
        // Times are converted back only if `f` moved them.
        if record.expires_at != expires_at {
            self.expires_ms = record.expires_at.map_or(NEVER, to_millis);
        }
        if record.deadline != deadline {
            self.deadline_ms = record.deadline.map_or(NEVER, to_millis);
        }
        // Only a bound session that rolled changes its owner (`last_seen`):
        // copied into the box it has, allocating nothing.
        if record.owner.as_ref() != self.owner.as_deref() {
            match (&mut self.owner, &record.owner) {
                (Some(kept), Some(owner)) => copy_into(kept, owner),
                (kept, owner) => *kept = owner.clone().map(Box::new),
            }
        }
        Ok(())
    }
}

/// Makes `dst` a copy of `src`, reusing the strings `dst` already holds (the
/// scratch record's owner, from the last update on this thread): an update
/// of a bound session then allocates nothing for its owner.
fn copy_owner(dst: &mut Option<Owner>, src: Option<&Owner>) {
    match (dst.as_mut(), src) {
        (Some(dst), Some(src)) => copy_into(dst, src),
        (_, src) => *dst = src.cloned(),
    }
}

/// `*dst = src.clone()`, field by field, into the strings `dst` has.
/// (Destructured whole, so that a field added to `Owner` fails to compile
/// here instead of being left behind.)
fn copy_into(dst: &mut Owner, src: &Owner) {
    let Owner {
        user,
        handle,
        created_at,
        last_seen,
        user_agent,
        ip,
    } = src;
    dst.user.clone_from(user);
    dst.handle = *handle;
    dst.created_at = *created_at;
    dst.last_seen = *last_seen;
    dst.user_agent.clone_from(user_agent);
    dst.ip.clone_from(ip);
}

fn time(ms: u64) -> Option<SystemTime> {
    (ms != NEVER).then(|| from_millis(ms))
}

/// What an update works in, kept per thread so that updates allocate nothing:
/// the record the last update decoded into (it usually has the keys of the
/// next session: one application's sessions mostly share a shape) and the
/// buffer the data is packed into.
pub(super) struct Scratch {
    pub(super) record: Record,
    pub(super) bytes: Vec<u8>,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            record: Record::new(Data::new()),
            bytes: Vec::new(),
        }
    }

    /// Runs `work` on this thread's scratch, or on a fresh one if it is in
    /// use (an update closure that updates another session) or if `size`
    /// (the packed session's) is too large to keep around afterwards.
    pub(super) fn with<R>(size: usize, work: impl FnOnce(&mut Scratch) -> R) -> R {
        if size > MAX_SCRATCH_BYTES {
            return work(&mut Scratch::new());
        }
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => {
                let result = work(&mut scratch);
                // A session that grew huge should not pin its memory either.
                if scratch.bytes.capacity() > MAX_SCRATCH_BYTES {
                    *scratch = Scratch::new();
                }
                result
            }
            Err(_) => work(&mut Scratch::new()),
        })
    }
}

thread_local! {
    pub(super) static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::new());
}

/// Sessions larger than this (packed) get a scratch of their own, dropped
/// after use, so a thread does not keep a huge session's memory.
pub(super) const MAX_SCRATCH_BYTES: usize = 64 * 1024;

//! The connections of a `SqliteStore`: a few idle ones kept for reuse, more
//! opened when more threads need one at once; and the process's write gate,
//! which lines up this process's writers before they ask SQLite for its lock.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::Error;

/// Idle connections, at most `keep` of them.
pub(super) struct Pool {
    idle: Mutex<Vec<Connection>>,
    pub(super) keep: usize,
}

/// A connection lent out by the pool. It goes back when dropped, unless the
/// pool is full or it is still inside a transaction (a rollback that failed):
/// then it is closed.
pub(super) struct Pooled<'p> {
    pool: &'p Pool,
    conn: Option<Connection>,
}

impl Pool {
    pub(super) fn new(first: Connection, keep: usize) -> Pool {
        Pool {
            idle: Mutex::new(vec![first]),
            keep,
        }
    }

    /// The idle list. A panic cannot leave it half-changed (every change is
    /// one push or pop), so a poisoned lock is taken over.
    fn lock(&self) -> MutexGuard<'_, Vec<Connection>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// An idle connection, or a new one from `open` if none is idle.
    pub(super) fn get(
        &self,
        open: impl FnOnce() -> Result<Connection, Error>,
    ) -> Result<Pooled<'_>, Error> {
        let idle = self.lock().pop();
        let conn = match idle {
            Some(conn) => conn,
            None => open()?,
        };
        Ok(Pooled {
            pool: self,
            conn: Some(conn),
        })
    }

    /// How many connections are idle now, without waiting for the lock.
    pub(super) fn idle_now(&self) -> Option<usize> {
        match self.idle.try_lock() {
            Ok(idle) => Some(idle.len()),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner().len()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }
}

impl Pooled<'_> {
    /// The connection. It is there until the `Pooled` is dropped; the error
    /// (never seen) only keeps the library free of panics.
    pub(super) fn connection(&mut self) -> Result<&mut Connection, Error> {
        self.conn
            .as_mut()
            .ok_or_else(|| Error::store("using a pooled connection", "it was returned already"))
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        if !conn.is_autocommit() {
            // Still inside a transaction: never lend it out again.
            return;
        }
        let mut idle = self.pool.lock();
        if idle.len() < self.pool.keep {
            idle.push(conn);
        }
    }
}

/// Lets one thread of this process write at a time. SQLite lets one
/// connection write at a time anyway; waiting here, woken the moment the
/// writer before is done, costs far less than SQLite's busy handler, which
/// polls with sleeps of a millisecond and more. Writers in other processes
/// still meet at SQLite's lock (and its busy timeout).
pub(super) struct Gate {
    state: Mutex<GateState>,
    freed: Condvar,
}

struct GateState {
    held: bool,
    /// Threads waiting: a writer leaving wakes one only if there is one (a
    /// wake-up is a system call).
    waiting: usize,
}

/// The gate, held until dropped.
pub(super) struct Entered<'g>(&'g Gate);

impl Gate {
    pub(super) fn new() -> Gate {
        Gate {
            state: Mutex::new(GateState {
                held: false,
                waiting: 0,
            }),
            freed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, GateState> {
        // A flag and a count, each changed in one step: a panic cannot leave
        // them half-changed.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits at most `wait` for the gate; `None` if it stayed held.
    pub(super) fn enter(&self, wait: Duration) -> Option<Entered<'_>> {
        let mut state = self.lock();
        if state.held {
            let deadline = Instant::now() + wait;
            state.waiting += 1;
            while state.held {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                state = self
                    .freed
                    .wait_timeout(state, left)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            state.waiting -= 1;
            if state.held {
                return None;
            }
        }
        state.held = true;
        Some(Entered(self))
    }
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.held = false;
        let waiting = state.waiting > 0;
        drop(state);
        if waiting {
            self.0.freed.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_lets_one_in_and_hands_over_to_a_waiter() {
        let gate = Gate::new();
        let first = gate.enter(Duration::from_millis(10));
        assert!(first.is_some());
        assert!(
            gate.enter(Duration::from_millis(10)).is_none(),
            "held: a second writer waits its time out"
        );
        std::thread::scope(|s| {
            let waiter = s.spawn(|| gate.enter(Duration::from_secs(60)).is_some());
            // The waiter gets in once the first leaves, whenever that is.
            let deadline = Instant::now() + Duration::from_secs(60);
            while gate.lock().waiting == 0 && Instant::now() < deadline {
                std::thread::yield_now();
            }
            assert_eq!(gate.lock().waiting, 1, "the waiter is waiting");
            drop(first);
            assert!(waiter.join().unwrap_or(false));
        });
        assert!(
            gate.enter(Duration::from_millis(10)).is_some(),
            "free again"
        );
        assert_eq!(gate.lock().waiting, 0);
    }
}

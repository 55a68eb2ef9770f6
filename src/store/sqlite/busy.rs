//! Waiting for another process's write lock: SQLite's busy handler, with
//! short sleeps bounded by the store's busy timeout.
//!
//! SQLite's own handler (`busy_timeout`) sleeps 1, 2, 5, 10, 15, 20, 25 ms
//! and more between tries, while a commit holds the lock for about one disk
//! sync (well under a millisecond to a few): CGI processes writing one
//! session queue behind sleeps far longer than the writes they wait for.
//! This one looks again after 100 µs, then less often as the wait grows.

use std::cell::Cell;
use std::time::{Duration, Instant};

thread_local! {
    /// The busy timeout of the call under way on this thread, and when its
    /// current wait began.
    static WAIT: Cell<(Duration, Option<Instant>)> =
        const { Cell::new((super::DEFAULT_BUSY_TIMEOUT, None)) };
}

/// Arms the handler for a call on this thread that may wait at most
/// `timeout` for a lock.
pub(super) fn arm(timeout: Duration) {
    WAIT.with(|wait| wait.set((timeout, None)));
}

/// Runs `f` with the handler giving up at once: for work that is skipped
/// when another connection holds the lock, not waited for. The call's own
/// timeout is back afterwards.
pub(super) fn without_waiting<T>(f: impl FnOnce() -> T) -> T {
    let outer = WAIT.with(|wait| wait.replace((Duration::ZERO, None)));
    let value = f();
    WAIT.with(|wait| wait.set(outer));
    value
}

/// The busy handler: `tries` is how many times it ran for this lock; `true`
/// tries again, `false` gives up (the call fails with "database is locked").
pub(super) fn handler(tries: i32) -> bool {
    WAIT.with(|wait| {
        let (timeout, began) = wait.get();
        let now = Instant::now();
        let began = match began {
            Some(began) if tries > 0 => began,
            _ => now,
        };
        wait.set((timeout, Some(began)));
        let waited = now.duration_since(began);
        if waited >= timeout {
            return false;
        }
        let pause = match tries {
            0..=19 => Duration::from_micros(100),
            20..=99 => Duration::from_micros(500),
            _ => Duration::from_millis(2),
        };
        std::thread::sleep(pause.min(timeout - waited));
        true
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_handler_gives_up_after_the_timeout_and_not_before() {
        arm(Duration::from_millis(30));
        let start = Instant::now();
        let mut tries = 0;
        while handler(tries) {
            tries += 1;
            assert!(tries < 10_000, "never gave up");
        }
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(30), "{waited:?}");
        // Short sleeps: many tries in 30 ms, not a handful.
        assert!(tries > 20, "{tries} tries");
    }
}

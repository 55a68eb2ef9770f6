//! The one source of time for expiry decisions, replaceable in tests.

use std::fmt;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where a session or a store reads the time from.
///
/// Every expiry decision reads [`Clock::now`], so a test can move time forward
/// with a [`ManualClock`] instead of sleeping. The default is the system clock.
///
/// ```
/// use http_session::{Clock, ManualClock};
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let manual = ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_000));
/// let clock: Clock = manual.clock();
/// manual.advance(Duration::from_secs(60));
/// assert_eq!(clock.now(), UNIX_EPOCH + Duration::from_secs(1_060));
/// ```
#[derive(Clone, Default)]
pub struct Clock {
    source: Source,
}

#[derive(Clone, Default)]
enum Source {
    #[default]
    System,
    Manual(Arc<AtomicU64>),
    // UnwindSafe, so that a `Session` holding the clock is too.
    Custom(Arc<dyn Fn() -> SystemTime + Send + Sync + UnwindSafe + RefUnwindSafe>),
}

impl Clock {
    /// The operating system's clock.
    ///
    /// ```
    /// let clock = http_session::Clock::system();
    /// assert!(clock.now() > std::time::UNIX_EPOCH);
    /// ```
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A clock that asks `now` for the time.
    ///
    /// ```
    /// use http_session::Clock;
    /// use std::time::UNIX_EPOCH;
    /// let frozen = Clock::from_fn(|| UNIX_EPOCH);
    /// assert_eq!(frozen.now(), UNIX_EPOCH);
    /// ```
    pub fn from_fn(
        now: impl Fn() -> SystemTime + Send + Sync + UnwindSafe + RefUnwindSafe + 'static,
    ) -> Clock {
        Clock {
            source: Source::Custom(Arc::new(now)),
        }
    }

    /// The current time by this clock.
    pub fn now(&self) -> SystemTime {
        match &self.source {
            Source::System => SystemTime::now(),
            Source::Manual(nanos) => {
                UNIX_EPOCH + Duration::from_nanos(nanos.load(Ordering::SeqCst))
            }
            Source::Custom(now) => now(),
        }
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Source::System => f.write_str("Clock::System"),
            Source::Manual(_) => write!(f, "Clock::Manual({:?})", self.now()),
            Source::Custom(_) => f.write_str("Clock::Custom"),
        }
    }
}

/// A clock that moves only when told to: for tests of expiry without sleeping.
///
/// Clones share one time; [`clock`](ManualClock::clock) hands out [`Clock`]s that
/// read it.
///
/// ```
/// use http_session::{ManualClock, Session};
/// use std::time::{Duration, SystemTime};
///
/// let time = ManualClock::new(SystemTime::now());
/// let session = Session::builder()
///     .ttl(Duration::from_secs(60))
///     .clock(time.clock())
///     .build()?;
/// let id = session.create(serde_json::json!({"user": "ana"}))?;
/// time.advance(Duration::from_secs(61));
/// assert_eq!(session.get(&id)?, None);
/// # Ok::<(), http_session::Error>(())
/// ```
#[derive(Clone)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock standing at `start` (times before 1970 stand at 1970; times past
    /// the year 2554 stand there).
    pub fn new(start: SystemTime) -> ManualClock {
        ManualClock {
            nanos: Arc::new(AtomicU64::new(to_nanos(start))),
        }
    }

    /// Moves the time forward by `by` (saturating).
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let _ = self
            .nanos
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                Some(n.saturating_add(by))
            });
    }

    /// Sets the time.
    pub fn set(&self, to: SystemTime) {
        self.nanos.store(to_nanos(to), Ordering::SeqCst);
    }

    /// The current time by this clock.
    pub fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }

    /// A [`Clock`] that reads this clock's time.
    pub fn clock(&self) -> Clock {
        Clock {
            source: Source::Manual(Arc::clone(&self.nanos)),
        }
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ManualClock").field(&self.now()).finish()
    }
}

impl From<ManualClock> for Clock {
    fn from(manual: ManualClock) -> Clock {
        manual.clock()
    }
}

fn to_nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Milliseconds since 1970 (0 before it, saturating far after it): the compact
/// form stores keep expiry times in.
pub(crate) fn to_millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The inverse of [`to_millis`].
pub(crate) fn from_millis(ms: u64) -> SystemTime {
    // Some platforms cannot represent u64::MAX milliseconds: stop at year 9999.
    const YEAR_9999_MS: u64 = 253_402_300_799_000;
    UNIX_EPOCH + Duration::from_millis(ms.min(YEAR_9999_MS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start = UNIX_EPOCH + Duration::from_secs(10);
        let manual = ManualClock::new(start);
        let clock = manual.clock();
        assert_eq!(clock.now(), start);
        manual.advance(Duration::from_millis(1500));
        assert_eq!(clock.now(), start + Duration::from_millis(1500));
        manual.advance(Duration::MAX);
        assert!(clock.now() > start);
        manual.set(start);
        assert_eq!(clock.now(), start);
    }

    #[test]
    fn millis_round_trip_and_saturate() {
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(from_millis(to_millis(t)), t);
        assert_eq!(to_millis(UNIX_EPOCH - Duration::from_secs(1)), 0);
    }
}

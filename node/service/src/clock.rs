//! The clock the chain service reads: wall-clock milliseconds for block times and the
//! future-drift rule, a monotonic [`Instant`] for expiry. Injected, so tests set the time.

use std::fmt::Debug;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A source of time.
pub trait Clock: Debug + Send + Sync + 'static {
    /// Milliseconds since the Unix epoch (0 before 1970).
    fn unix_ms(&self) -> u64;
    /// The current monotonic instant.
    fn now(&self) -> Instant;
}

/// The system's clocks.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn unix_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }

    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told to (tests, simulations).
#[derive(Debug)]
pub struct ManualClock {
    unix_ms: AtomicU64,
    monotonic: Mutex<Instant>,
}

impl ManualClock {
    /// A clock reading `unix_ms`, with its monotonic time starting at the real current instant.
    pub fn new(unix_ms: u64) -> Self {
        Self {
            unix_ms: AtomicU64::new(unix_ms),
            monotonic: Mutex::new(Instant::now()),
        }
    }

    /// Moves both clocks forward by `by`.
    pub fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.unix_ms.fetch_add(ms, Ordering::Relaxed);
        let mut now = self
            .monotonic
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *now += by;
    }

    /// Sets the wall clock (the monotonic one is unchanged: it never goes back).
    pub fn set_unix_ms(&self, unix_ms: u64) {
        self.unix_ms.store(unix_ms, Ordering::Relaxed);
    }
}

impl Clock for ManualClock {
    fn unix_ms(&self) -> u64 {
        self.unix_ms.load(Ordering::Relaxed)
    }

    fn now(&self) -> Instant {
        *self
            .monotonic
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(1_000);
        let start = clock.now();
        assert_eq!(clock.unix_ms(), 1_000);
        clock.advance(Duration::from_millis(250));
        assert_eq!(clock.unix_ms(), 1_250);
        assert_eq!(clock.now() - start, Duration::from_millis(250));
        clock.set_unix_ms(5);
        assert_eq!(clock.unix_ms(), 5);
        assert_eq!(clock.now() - start, Duration::from_millis(250));
        assert!(SystemClock.unix_ms() > 1_700_000_000_000);
    }
}

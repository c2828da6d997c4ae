//! Time as the capture thread sees it, and the signal that stops it.
//!
//! Pacing and preview rates are decided against a [`Clock`], not against
//! `Instant` directly, so tests drive them with a clock that advances only
//! when asked and assert on exact timestamps instead of wall-clock timing.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A monotonic clock whose waits end early when the session stops.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Time since the clock's start.
    fn now(&self) -> Duration;

    /// Waits until [`Clock::now`] reaches `deadline`, or until `stop` is
    /// raised. Returns `false` when stopped.
    fn sleep_until(&self, deadline: Duration, stop: &StopSignal) -> bool;
}

/// The real clock: `Instant` since creation, waits on the stop signal's
/// condition variable so a stop is seen at once rather than after a frame.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    start: Instant,
}

impl SystemClock {
    /// A clock starting now.
    #[must_use]
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    fn sleep_until(&self, deadline: Duration, stop: &StopSignal) -> bool {
        loop {
            let now = self.now();
            if now >= deadline {
                return !stop.is_raised();
            }
            if stop.wait(deadline - now) {
                return false;
            }
        }
    }
}

#[derive(Debug, Default)]
struct Flag {
    raised: Mutex<bool>,
    wake: Condvar,
}

/// Raised once to end a capture session; cloned into every place that
/// waits, so each wait ends as soon as it is raised.
#[derive(Debug, Clone, Default)]
pub struct StopSignal {
    flag: Arc<Flag>,
}

impl StopSignal {
    /// A signal not yet raised.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Raises the signal and wakes every waiter.
    pub fn raise(&self) {
        *self
            .flag
            .raised
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = true;
        self.flag.wake.notify_all();
    }

    /// Whether [`StopSignal::raise`] was called.
    #[must_use]
    pub fn is_raised(&self) -> bool {
        *self
            .flag
            .raised
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits up to `timeout` for the signal; returns whether it is raised.
    #[must_use]
    pub fn wait(&self, timeout: Duration) -> bool {
        let guard = self
            .flag
            .raised
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (guard, _) = self
            .flag
            .wake
            .wait_timeout_while(guard, timeout, |raised| !*raised)
            .unwrap_or_else(PoisonError::into_inner);
        *guard
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raised_signal_ends_a_long_sleep() {
        let clock = SystemClock::new();
        let stop = StopSignal::new();
        let raiser = stop.clone();
        let thread = std::thread::spawn(move || raiser.raise());
        // An hour-long sleep returns only because the signal ends it.
        assert!(!clock.sleep_until(Duration::from_secs(3600), &stop));
        thread.join().expect("raiser");
        assert!(stop.is_raised());
    }

    #[test]
    fn a_past_deadline_returns_at_once() {
        let clock = SystemClock::new();
        assert!(clock.sleep_until(Duration::ZERO, &StopSignal::new()));
    }
}

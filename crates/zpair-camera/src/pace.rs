//! Frame pacing for the virtual camera, as a camera's sensor would: frames
//! fall due at fixed times from the first, and a reader that comes late
//! gets the newest frame, not a backlog.

use std::time::Duration;

use crate::clock::{Clock, StopSignal};
use crate::source::FrameRate;

/// One frame slot that fell due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tick {
    /// Slot number since the first frame (0).
    pub index: u64,
    /// Slots that passed unread since the previous tick (a video skips
    /// those frames, as a live camera would have shown them).
    pub skipped: u64,
}

/// Hands out frame slots at a rate against a [`Clock`].
#[derive(Debug)]
pub(crate) struct Pacer {
    rate: FrameRate,
    start: Option<Duration>,
    last: u64,
}

impl Pacer {
    pub(crate) fn new(rate: FrameRate) -> Self {
        Self {
            rate,
            start: None,
            last: 0,
        }
    }

    /// Waits until the next slot is due. The first call returns slot 0 at
    /// once; `None` when `stop` was raised while waiting.
    pub(crate) fn wait(&mut self, clock: &dyn Clock, stop: &StopSignal) -> Option<Tick> {
        let Some(start) = self.start else {
            self.start = Some(clock.now());
            return (!stop.is_raised()).then_some(Tick {
                index: 0,
                skipped: 0,
            });
        };
        let elapsed = clock.now().saturating_sub(start);
        let index = (self.last + 1).max(self.slot_at(elapsed));
        if !clock.sleep_until(start + self.rate.frame_time(index), stop) {
            return None;
        }
        let skipped = index - self.last - 1;
        self.last = index;
        Some(Tick { index, skipped })
    }

    /// The newest slot due at `elapsed`.
    fn slot_at(&self, elapsed: Duration) -> u64 {
        let interval = self.rate.interval().as_nanos().max(1);
        u64::try_from(elapsed.as_nanos() / interval).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::ManualClock;

    #[test]
    fn slots_fall_due_at_the_rate() {
        let clock = ManualClock::new();
        let stop = StopSignal::new();
        let mut pacer = Pacer::new(FrameRate::per_second(10).expect("rate"));
        for n in 0..5 {
            let tick = pacer.wait(&clock, &stop).expect("tick");
            assert_eq!(
                tick,
                Tick {
                    index: n,
                    skipped: 0
                }
            );
            assert_eq!(clock.now(), Duration::from_millis(100 * n));
        }
    }

    #[test]
    fn a_late_reader_gets_the_newest_slot() {
        let clock = ManualClock::new();
        let stop = StopSignal::new();
        let mut pacer = Pacer::new(FrameRate::per_second(10).expect("rate"));
        assert_eq!(pacer.wait(&clock, &stop).map(|t| t.index), Some(0));
        // The reader spends 350 ms on frame 0: slots 1 and 2 are gone.
        clock.advance(Duration::from_millis(350));
        let tick = pacer.wait(&clock, &stop).expect("tick");
        assert_eq!(
            tick,
            Tick {
                index: 3,
                skipped: 2
            }
        );
        assert_eq!(clock.now(), Duration::from_millis(350));
        let tick = pacer.wait(&clock, &stop).expect("tick");
        assert_eq!(
            tick,
            Tick {
                index: 4,
                skipped: 0
            }
        );
        assert_eq!(clock.now(), Duration::from_millis(400));
    }

    #[test]
    fn a_raised_stop_ends_the_wait() {
        let clock = ManualClock::new();
        let stop = StopSignal::new();
        let mut pacer = Pacer::new(FrameRate::default());
        assert!(pacer.wait(&clock, &stop).is_some());
        stop.raise();
        assert_eq!(pacer.wait(&clock, &stop), None);
    }
}

//! Scanning a camera stream without ever holding the camera up.
//!
//! The camera thread calls [`LiveScanner::offer`], which copies the frame
//! into a one-frame mailbox and returns: it never waits for a scan. A worker
//! thread scans the newest frame with a time budget of one frame interval,
//! taking the cascade's costlier passes in turn ([`Scanner::scan_in_turn`]):
//! aiming at nothing costs a fraction of a core, not all of it. A
//! frame still in the mailbox when a newer one arrives is dropped and
//! counted — a queue would only make the preview lag further behind the
//! camera. Results go to a callback on the worker thread: a payload is
//! announced once while it stays in view, not once per frame, and where the
//! code is goes with every frame that reads it, so an outline can follow it.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::{Detection, GreyFrame, Scanner, ScannerConfig};
use crate::mailbox::Latest;

/// Live scanning settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveConfig {
    /// Time between camera frames. The worker's per-frame scan budget, so it
    /// keeps pace with the camera.
    pub frame_interval: Duration,
    /// A payload is announced again only after it was absent from this many
    /// consecutive processed frames; a single missed decode while the code
    /// stays in view must not announce it twice.
    pub forget_after: u32,
}

impl Default for LiveConfig {
    /// 30 fps; forget after half a second of absence.
    fn default() -> Self {
        Self {
            frame_interval: Duration::from_millis(33),
            forget_after: 15,
        }
    }
}

/// What one processed frame showed: codes new in view, and where the best
/// code read in it is.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveEvent {
    /// Sequence number of the frame (0 = first offered).
    pub frame: u64,
    /// Codes not seen in the recent frames, Z Monitor payloads first; empty
    /// when the frame only shows codes already announced.
    pub detections: Vec<Detection>,
    /// Corners of the best code read in this frame, announced or not.
    pub outline: Option<[(f32, f32); 4]>,
}

/// Counters since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LiveStats {
    /// Frames passed to [`LiveScanner::offer`].
    pub offered: u64,
    /// Frames scanned.
    pub processed: u64,
    /// Frames replaced by a newer one before the worker got to them.
    pub dropped: u64,
    /// Decoder panics contained.
    pub panics_caught: u64,
}

/// What [`LiveScanner::offer`] did with a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// The mailbox was empty; the frame waits for the worker.
    Accepted,
    /// The frame replaced one the worker had not started; that one is
    /// dropped.
    Replaced,
}

/// Why live scanning could not start.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The OS refused a worker thread.
    #[error("could not start the scanner thread: {0}; close other apps and retry")]
    Spawn(#[from] std::io::Error),
}

#[derive(Default)]
struct Pending {
    seq: u64,
    pixels: Vec<u8>,
    width: u32,
    height: u32,
}

#[derive(Default)]
struct Shared {
    mailbox: Latest<Pending>,
    offered: AtomicU64,
    processed: AtomicU64,
    dropped: AtomicU64,
    panics: AtomicU64,
}

impl Shared {
    fn stats(&self) -> LiveStats {
        LiveStats {
            offered: self.offered.load(Ordering::Acquire),
            processed: self.processed.load(Ordering::Acquire),
            dropped: self.dropped.load(Ordering::Acquire),
            panics_caught: self.panics.load(Ordering::Acquire),
        }
    }
}

/// A scanner on its own thread, fed frame by frame. Dropping it stops the
/// worker and discards an unprocessed frame; [`LiveScanner::finish`] scans
/// that frame first.
pub struct LiveScanner {
    shared: Arc<Shared>,
    worker: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for LiveScanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveScanner")
            .field("stats", &self.shared.stats())
            .finish_non_exhaustive()
    }
}

impl LiveScanner {
    /// Starts the worker. `on_event` runs on the worker thread for every
    /// processed frame that reads a code.
    ///
    /// # Errors
    /// [`LiveError::Spawn`] if the thread cannot be created.
    pub fn start<F>(config: LiveConfig, on_event: F) -> Result<Self, LiveError>
    where
        F: FnMut(LiveEvent) + Send + 'static,
    {
        let shared = Arc::new(Shared::default());
        let worker_shared = Arc::clone(&shared);
        let worker = std::thread::Builder::new()
            .name("zpair-scanner".into())
            .spawn(move || work(&worker_shared, &config, on_event))?;
        Ok(Self {
            shared,
            worker: Some(worker),
        })
    }

    /// Hands a frame to the worker without waiting for any scan: the cost is
    /// one copy of the pixels. Replaces (and counts as dropped) a frame the
    /// worker has not started.
    pub fn offer(&self, frame: GreyFrame<'_>) -> Offer {
        let seq = self.shared.offered.fetch_add(1, Ordering::AcqRel);
        let replaced = self.shared.mailbox.put(|pending| {
            pending.seq = seq;
            pending.pixels.clear();
            pending.pixels.extend_from_slice(frame.pixels());
            pending.width = frame.width();
            pending.height = frame.height();
        });
        if replaced {
            self.shared.dropped.fetch_add(1, Ordering::AcqRel);
            Offer::Replaced
        } else {
            Offer::Accepted
        }
    }

    /// Counters so far.
    #[must_use]
    pub fn stats(&self) -> LiveStats {
        self.shared.stats()
    }

    /// Scans the frame still in the mailbox, if any, stops the worker and
    /// returns the final counters (for when the camera closes).
    #[must_use]
    pub fn finish(mut self) -> LiveStats {
        self.stop(false);
        self.shared.stats()
    }

    fn stop(&mut self, discard_pending: bool) {
        if self.shared.mailbox.close(discard_pending) {
            self.shared.dropped.fetch_add(1, Ordering::AcqRel);
        }
        if let Some(worker) = self.worker.take() {
            // A panic in the caller's callback ends the worker; the scanner
            // itself cannot panic, and there is nothing left to clean up.
            let _ = worker.join();
        }
    }
}

impl Drop for LiveScanner {
    fn drop(&mut self) {
        self.stop(true);
    }
}

fn work<F: FnMut(LiveEvent)>(shared: &Shared, config: &LiveConfig, mut on_event: F) {
    let scanner = Scanner::new(ScannerConfig {
        budget: config.frame_interval,
    });
    // Text → index of the last processed frame that showed it.
    let mut recent: HashMap<String, u64> = HashMap::new();
    let mut index: u64 = 0;
    while let Some(frame) = shared.mailbox.take() {
        // Offers only take validated frames, so this always succeeds.
        if let Ok(grey) = GreyFrame::new(&frame.pixels, frame.width, frame.height) {
            // Counted in frames scanned, not offered: dropped frames must not
            // make some passes' turns never come.
            let outcome = scanner.scan_in_turn(grey, index);
            shared
                .panics
                .fetch_add(u64::from(outcome.panics_caught), Ordering::AcqRel);
            let forget = u64::from(config.forget_after.max(1));
            let outline = outcome.detections.first().and_then(|d| d.corners);
            let fresh: Vec<Detection> = outcome
                .detections
                .into_iter()
                .filter(|d| {
                    let announced = recent
                        .get(&d.text)
                        .is_some_and(|&last| index - last <= forget);
                    recent.insert(d.text.clone(), index);
                    !announced
                })
                .collect();
            recent.retain(|_, last| index - *last <= forget);
            index += 1;
            if !fresh.is_empty() || outline.is_some() {
                on_event(LiveEvent {
                    frame: frame.seq,
                    detections: fresh,
                    outline,
                });
            }
        }
        shared.mailbox.recycle(frame);
        // Counted last, so a caller that sees the count also sees the event.
        shared.processed.fetch_add(1, Ordering::AcqRel);
    }
}

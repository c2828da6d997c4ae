//! The capture loop: a thread that owns the camera, pulls frames at the
//! camera's pace and hands each one on without waiting for anyone.
//!
//! Per frame the capture thread does two cheap things: offer the grey frame
//! to [`LiveScanner`] (one copy into its one-frame mailbox; a frame replaced
//! before it was scanned is dropped and counted) and, when a preview is due,
//! copy it to the preview thread. Detections come back on the scanner's
//! thread, previews on the preview thread, the session's start and end on
//! the capture thread — each through its own callback.
//!
//! [`CaptureSession`] is the handle. [`CaptureSession::stop`], or dropping
//! it, raises the stop signal, joins the capture thread — which closes the
//! camera exactly once before it ends — and joins the scanner and preview
//! threads, so leaving the Scan screen always releases the camera.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use zpair_scanner::{Detection, LiveConfig, LiveError, LiveEvent, LiveScanner, LiveStats};

use crate::clock::{Clock, StopSignal};
use crate::error::CameraError;
use crate::preview::{OutlineCell, PreviewConfig, PreviewFrame, PreviewWorker};
use crate::source::{FrameSource, FrameStream, GreyBuffer, Next, StreamInfo};

/// Capture timestamps kept for matching detections to their frames; the
/// scanner works on the newest frame, so only the last few are ever asked
/// for.
const STAMPS_KEPT: usize = 256;

/// Session settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureConfig {
    /// The preview's rate and size.
    pub preview: PreviewConfig,
    /// A code is announced again only after this many scanned frames
    /// without it (see [`LiveConfig::forget_after`]).
    pub forget_after: u32,
    /// How long [`CaptureSession::stop`] waits for the capture thread. A
    /// camera normally answers within a frame; one whose driver hangs in a
    /// read (nokhwa sets no V4L2 timeout) must not hang the app with it, so
    /// after this the thread is left to close the camera when the read
    /// returns.
    pub stop_grace: Duration,
}

impl Default for CaptureConfig {
    fn default() -> Self {
        Self {
            preview: PreviewConfig::default(),
            forget_after: LiveConfig::default().forget_after,
            stop_grace: Duration::from_secs(3),
        }
    }
}

/// Codes newly in view.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectionEvent {
    /// The camera frame they were read from (0 = first captured).
    pub frame: u64,
    /// When that frame was captured, on the session's clock (`None` only if
    /// the scanner fell more than a few hundred frames behind).
    pub captured: Option<Duration>,
    /// From capture to this event, on the session's clock.
    pub latency: Option<Duration>,
    /// Frame columns, the space the corners are in.
    pub frame_width: u32,
    /// Frame rows.
    pub frame_height: u32,
    /// The codes, Z Monitor payloads first.
    pub detections: Vec<Detection>,
}

/// Counters of a session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaptureStats {
    /// Frames the source delivered (every one is offered to the scanner).
    pub captured: u64,
    /// The scanner's counters: offered, processed, dropped. Read as the
    /// session ends, before the scanner stops: a frame being scanned and
    /// one waiting then (at most two) are in neither `processed` nor
    /// `dropped`.
    pub scanner: LiveStats,
    /// Previews delivered to the preview callback.
    pub previews: u64,
    /// Previews replaced before they were encoded.
    pub previews_dropped: u64,
    /// Time the capture thread spent on frames between reads (checks,
    /// offers, preview copies): the per-frame cost a camera would wait on.
    pub work: Duration,
}

/// How a session ended.
#[derive(Debug)]
pub enum SessionEnd {
    /// [`CaptureSession::stop`] or drop.
    Stopped,
    /// The source failed mid-stream (camera unplugged, file removed).
    Failed(CameraError),
}

/// The session's life, reported on the capture thread.
#[derive(Debug)]
pub enum SessionStatus {
    /// The camera is open and frames flow.
    Started(StreamInfo),
    /// The camera is closed; the last word of the session.
    Ended {
        /// Why.
        end: SessionEnd,
        /// Final counters.
        stats: CaptureStats,
    },
}

type Callback<T> = Box<dyn FnMut(T) + Send>;

/// Where a session reports to. Each callback runs on a thread of the
/// session, so it should be quick (emit an event, send on a channel).
pub struct Handlers {
    on_detection: Callback<DetectionEvent>,
    on_preview: Callback<PreviewFrame>,
    on_status: Callback<SessionStatus>,
}

impl std::fmt::Debug for Handlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handlers").finish_non_exhaustive()
    }
}

impl Default for Handlers {
    fn default() -> Self {
        Self::new()
    }
}

impl Handlers {
    /// Handlers that ignore everything.
    #[must_use]
    pub fn new() -> Self {
        Self {
            on_detection: Box::new(|_| {}),
            on_preview: Box::new(|_| {}),
            on_status: Box::new(|_| {}),
        }
    }

    /// Called on the scanner's thread when codes come into view.
    #[must_use]
    pub fn on_detection(mut self, f: impl FnMut(DetectionEvent) + Send + 'static) -> Self {
        self.on_detection = Box::new(f);
        self
    }

    /// Called on the preview thread for each preview.
    #[must_use]
    pub fn on_preview(mut self, f: impl FnMut(PreviewFrame) + Send + 'static) -> Self {
        self.on_preview = Box::new(f);
        self
    }

    /// Called on the capture thread when the session starts and ends.
    #[must_use]
    pub fn on_status(mut self, f: impl FnMut(SessionStatus) + Send + 'static) -> Self {
        self.on_status = Box::new(f);
        self
    }
}

#[derive(Default)]
struct Shared {
    /// (frame, captured, width, height) of the latest frames.
    stamps: Mutex<VecDeque<(u64, Duration, u32, u32)>>,
    outline: Arc<OutlineCell>,
    captured: AtomicU64,
    work_nanos: AtomicU64,
    scanner: Mutex<LiveStats>,
    previews: Mutex<(u64, u64)>,
}

impl Shared {
    fn record(&self, frame: u64, captured: Duration, width: u32, height: u32) {
        let mut stamps = self.stamps.lock().unwrap_or_else(PoisonError::into_inner);
        if stamps.len() == STAMPS_KEPT {
            stamps.pop_front();
        }
        stamps.push_back((frame, captured, width, height));
    }

    fn stamp(&self, frame: u64) -> Option<(Duration, u32, u32)> {
        let stamps = self.stamps.lock().unwrap_or_else(PoisonError::into_inner);
        stamps
            .iter()
            .rev()
            .find(|s| s.0 == frame)
            .map(|&(_, at, w, h)| (at, w, h))
    }

    fn stats(&self) -> CaptureStats {
        let (previews, previews_dropped) =
            *self.previews.lock().unwrap_or_else(PoisonError::into_inner);
        CaptureStats {
            captured: self.captured.load(Ordering::Acquire),
            scanner: *self.scanner.lock().unwrap_or_else(PoisonError::into_inner),
            previews,
            previews_dropped,
            work: Duration::from_nanos(self.work_nanos.load(Ordering::Acquire)),
        }
    }
}

/// A running camera. Stopping or dropping it releases the camera.
pub struct CaptureSession {
    info: StreamInfo,
    stop: StopSignal,
    /// Raised by the capture thread as its last act.
    ended: StopSignal,
    stop_grace: Duration,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for CaptureSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureSession")
            .field("info", &self.info)
            .field("stats", &self.shared.stats())
            .finish_non_exhaustive()
    }
}

impl CaptureSession {
    /// Opens `source` on a new capture thread and starts scanning. Returns
    /// once the camera is open, so an error opening it (no camera, access
    /// denied, busy) comes back here rather than through `on_status`.
    ///
    /// # Errors
    /// The source's [`CameraError`] from opening, or
    /// [`CameraError::Thread`] if a thread cannot be started.
    pub fn start<S>(
        source: S,
        clock: Arc<dyn Clock>,
        config: CaptureConfig,
        handlers: Handlers,
    ) -> Result<Self, CameraError>
    where
        S: FrameSource + 'static,
    {
        let (stop, ended) = (StopSignal::new(), StopSignal::new());
        let shared = Arc::new(Shared::default());
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let thread = {
            let (stop, ended, shared) = (stop.clone(), ended.clone(), Arc::clone(&shared));
            std::thread::Builder::new()
                .name("zpair-camera".into())
                .spawn(move || {
                    run(source, &clock, config, handlers, &shared, &stop, &ready_tx);
                    ended.raise();
                })
                .map_err(CameraError::Thread)?
        };
        match ready_rx.recv() {
            Ok(Ok(info)) => Ok(Self {
                info,
                stop,
                ended,
                stop_grace: config.stop_grace,
                shared,
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(mpsc::RecvError) => {
                // The thread ended without a word: a camera backend that
                // panicked while opening (nokhwa asserts in places).
                let _ = thread.join();
                Err(CameraError::Thread(std::io::Error::other(
                    "the camera thread ended while opening",
                )))
            }
        }
    }

    /// What the source delivers.
    #[must_use]
    pub fn info(&self) -> &StreamInfo {
        &self.info
    }

    /// Counters so far.
    #[must_use]
    pub fn stats(&self) -> CaptureStats {
        self.shared.stats()
    }

    /// Whether the capture thread has ended (stopped, or the camera failed).
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Stops capturing, closes the camera and joins every thread of the
    /// session before returning the final counters — unless the camera is
    /// stuck in a read for longer than [`CaptureConfig::stop_grace`]; then
    /// it returns, and the capture thread closes the camera (and reports
    /// the end) once the read comes back.
    #[must_use]
    pub fn stop(mut self) -> CaptureStats {
        self.shutdown();
        self.shared.stats()
    }

    fn shutdown(&mut self) {
        self.stop.raise();
        let Some(thread) = self.thread.take() else {
            return;
        };
        if self.ended.wait(self.stop_grace) {
            // The capture loop cannot panic; a caller's status callback can,
            // and the camera was closed before it ran.
            let _ = thread.join();
        } else {
            tracing::warn!(
                camera = %self.info.name,
                "the camera did not answer within {:?}; it is released when it does",
                self.stop_grace
            );
        }
    }
}

impl Drop for CaptureSession {
    fn drop(&mut self) {
        self.shutdown();
    }
}

type Ready = mpsc::SyncSender<Result<StreamInfo, CameraError>>;

fn run<S: FrameSource>(
    mut source: S,
    clock: &Arc<dyn Clock>,
    config: CaptureConfig,
    handlers: Handlers,
    shared: &Arc<Shared>,
    stop: &StopSignal,
    ready: &Ready,
) {
    let Handlers {
        on_detection,
        on_preview,
        mut on_status,
    } = handlers;
    let (info, mut stream) = match source.open() {
        Ok(opened) => opened,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let workers = start_workers(&info, clock, config, on_detection, on_preview, shared);
    let (scanner, mut preview) = match workers {
        Ok(workers) => workers,
        Err(e) => {
            stream.close();
            let _ = ready.send(Err(e));
            return;
        }
    };
    let _ = ready.send(Ok(info.clone()));
    let camera_interval = info.rate.interval();
    on_status(SessionStatus::Started(info));

    let end = capture(
        stream.as_mut(),
        clock.as_ref(),
        config.preview,
        camera_interval,
        &scanner,
        preview.as_ref(),
        shared,
        stop,
    );
    // Release the camera first; the threads after it hold no device.
    stream.close();
    *shared
        .scanner
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = scanner.stats();
    drop(scanner);
    if let Some(preview) = preview.as_mut() {
        preview.stop();
        *shared
            .previews
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = preview.counts();
    }
    on_status(SessionStatus::Ended {
        end,
        stats: shared.stats(),
    });
}

fn start_workers(
    info: &StreamInfo,
    clock: &Arc<dyn Clock>,
    config: CaptureConfig,
    mut on_detection: Callback<DetectionEvent>,
    on_preview: Callback<PreviewFrame>,
    shared: &Arc<Shared>,
) -> Result<(LiveScanner, Option<PreviewWorker>), CameraError> {
    let live = LiveConfig {
        frame_interval: info.rate.interval(),
        forget_after: config.forget_after,
    };
    let (clock, scanner_shared) = (Arc::clone(clock), Arc::clone(shared));
    let scanner = LiveScanner::start(live, move |event: LiveEvent| {
        let stamp = scanner_shared.stamp(event.frame);
        let (captured, width, height) = match stamp {
            Some((at, w, h)) => (Some(at), w, h),
            None => (None, 0, 0),
        };
        if let (Some(at), Some(corners)) = (captured, event.outline) {
            scanner_shared.outline.set(corners, width, at);
        }
        // A code already announced only moved the outline.
        if event.detections.is_empty() {
            return;
        }
        on_detection(DetectionEvent {
            frame: event.frame,
            captured,
            latency: captured.map(|at| clock.now().saturating_sub(at)),
            frame_width: width,
            frame_height: height,
            detections: event.detections,
        });
    })
    .map_err(|e| match e {
        LiveError::Spawn(io) => CameraError::Thread(io),
    })?;
    let preview = if config.preview.max_fps == 0 {
        None
    } else {
        Some(
            PreviewWorker::start(config.preview, Arc::clone(&shared.outline), on_preview)
                .map_err(CameraError::Thread)?,
        )
    };
    Ok((scanner, preview))
}

#[allow(clippy::too_many_arguments)]
fn capture(
    stream: &mut dyn FrameStream,
    clock: &dyn Clock,
    preview_config: PreviewConfig,
    camera_interval: Duration,
    scanner: &LiveScanner,
    preview: Option<&PreviewWorker>,
    shared: &Shared,
    stop: &StopSignal,
) -> SessionEnd {
    let mut buffer = GreyBuffer::default();
    let preview_interval = Duration::from_secs(1) / preview_config.max_fps.max(1);
    // A camera's timestamps jitter; half a frame of slack keeps a 10 fps
    // preview at 10 fps on a 30 fps camera.
    let slack = camera_interval / 2;
    let mut next_preview = Duration::ZERO;
    let mut frame: u64 = 0;
    loop {
        match stream.next_frame(&mut buffer, stop) {
            Ok(Next::Frame) => {}
            Ok(Next::Stopped) => return SessionEnd::Stopped,
            Err(e) => return SessionEnd::Failed(e),
        }
        if stop.is_raised() {
            return SessionEnd::Stopped;
        }
        let work = Instant::now();
        let captured = clock.now();
        let grey = match buffer.frame() {
            Ok(grey) => grey,
            Err(e) => {
                return SessionEnd::Failed(CameraError::BadFrame {
                    detail: e.to_string(),
                });
            }
        };
        // Recorded before the offer, so the scanner finds it.
        shared.record(frame, captured, buffer.width, buffer.height);
        scanner.offer(grey);
        if let Some(preview) = preview
            && captured + slack >= next_preview
        {
            preview.offer(&buffer, frame, captured);
            next_preview = (next_preview + preview_interval)
                .max((captured + preview_interval).saturating_sub(slack));
        }
        frame += 1;
        shared.captured.store(frame, Ordering::Release);
        let nanos = u64::try_from(work.elapsed().as_nanos()).unwrap_or(u64::MAX);
        shared.work_nanos.fetch_add(nanos, Ordering::AcqRel);
        *shared
            .scanner
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = scanner.stats();
        if let Some(preview) = preview {
            *shared
                .previews
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = preview.counts();
        }
    }
}

#[cfg(test)]
mod tests;

use std::sync::atomic::AtomicU32;
use std::sync::mpsc;
use std::time::Instant;

use super::*;
use crate::clock::SystemClock;
use crate::preview::OUTLINE_HOLD;
use crate::source::FrameRate;
use crate::test_support::{ManualClock, blank_frame, png, qr_frame, write_atomically, y4m};
use crate::virtual_camera::{VirtualCamera, VirtualConfig};

/// How long a test waits for the threads before it gives up: generous, as
/// the scanner is unoptimised in test builds and the machine is shared.
/// Only a bound against hanging, never a timing assertion.
const PATIENCE: Duration = Duration::from_secs(120);

fn wait_until(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < PATIENCE, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[derive(Debug, Default)]
struct Counters {
    opens: AtomicU32,
    closes: AtomicU32,
    drops: AtomicU32,
}

impl Counters {
    fn get(&self) -> (u32, u32, u32) {
        (
            self.opens.load(Ordering::Acquire),
            self.closes.load(Ordering::Acquire),
            self.drops.load(Ordering::Acquire),
        )
    }
}

/// A camera faster than any real one: a frame the moment it is asked for,
/// recording how it is opened, closed and dropped.
struct TestSource {
    counters: Arc<Counters>,
    frame: GreyBuffer,
    /// After this many frames, wait for stop like a camera gone still.
    limit: Option<u64>,
    /// After this many frames, fail as an unplugged camera does.
    fail_after: Option<u64>,
    fail_open: bool,
}

impl TestSource {
    fn new(counters: &Arc<Counters>) -> Self {
        Self {
            counters: Arc::clone(counters),
            frame: qr_frame(7).1,
            limit: None,
            fail_after: None,
            fail_open: false,
        }
    }
}

impl FrameSource for TestSource {
    fn open(&mut self) -> Result<(StreamInfo, Box<dyn FrameStream>), CameraError> {
        self.counters.opens.fetch_add(1, Ordering::AcqRel);
        if self.fail_open {
            return Err(CameraError::Busy {
                device: "test".into(),
            });
        }
        let info = StreamInfo {
            name: "test".into(),
            width: self.frame.width,
            height: self.frame.height,
            rate: FrameRate::default(),
        };
        let stream = TestStream {
            counters: Arc::clone(&self.counters),
            frame: self.frame.clone(),
            delivered: 0,
            limit: self.limit,
            fail_after: self.fail_after,
        };
        Ok((info, Box::new(stream)))
    }
}

impl Drop for TestSource {
    fn drop(&mut self) {
        self.counters.drops.fetch_add(1, Ordering::AcqRel);
    }
}

struct TestStream {
    counters: Arc<Counters>,
    frame: GreyBuffer,
    delivered: u64,
    limit: Option<u64>,
    fail_after: Option<u64>,
}

impl FrameStream for TestStream {
    fn next_frame(
        &mut self,
        frame: &mut GreyBuffer,
        stop: &StopSignal,
    ) -> Result<Next, CameraError> {
        if self.fail_after == Some(self.delivered) {
            return Err(CameraError::Disconnected {
                device: "test".into(),
            });
        }
        if self.limit == Some(self.delivered) {
            while !stop.wait(Duration::from_secs(1)) {}
            return Ok(Next::Stopped);
        }
        frame.set(&self.frame.pixels, self.frame.width, self.frame.height);
        self.delivered += 1;
        Ok(Next::Frame)
    }

    fn close(self: Box<Self>) {
        self.counters.closes.fetch_add(1, Ordering::AcqRel);
    }
}

fn no_preview() -> CaptureConfig {
    CaptureConfig {
        preview: PreviewConfig {
            max_fps: 0,
            ..PreviewConfig::default()
        },
        ..CaptureConfig::default()
    }
}

fn manual() -> Arc<dyn Clock> {
    Arc::new(ManualClock::new())
}

/// Statuses as they arrive, for assertions after the session.
fn status_log() -> (Arc<Mutex<Vec<SessionStatus>>>, Handlers) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&log);
    let handlers = Handlers::new().on_status(move |s| sink.lock().expect("log").push(s));
    (log, handlers)
}

#[test]
fn frames_are_dropped_not_queued_when_the_scanner_is_slower() {
    const FRAMES: u64 = 300;
    let counters = Arc::new(Counters::default());
    let mut source = TestSource::new(&counters);
    source.limit = Some(FRAMES);
    let session =
        CaptureSession::start(source, manual(), no_preview(), Handlers::new()).expect("start");
    wait_until("every frame to be captured", || {
        session.stats().captured == FRAMES
    });
    let stats = session.stop();
    // Every frame was offered as it came: the camera never waited for a
    // scan, or it could not have captured more than were scanned.
    assert_eq!(stats.captured, FRAMES);
    assert_eq!(stats.scanner.offered, FRAMES);
    assert!(
        stats.scanner.processed < FRAMES,
        "a camera faster than the scanner must drop frames: {stats:?}"
    );
    assert!(stats.scanner.dropped > 0, "{stats:?}");
    // The frame being scanned and the one waiting when the session ended
    // are in neither count (see `CaptureStats::scanner`).
    let accounted = stats.scanner.processed + stats.scanner.dropped;
    assert!((FRAMES - 2..=FRAMES).contains(&accounted), "{stats:?}");
}

#[test]
fn stopping_releases_the_camera_exactly_once_and_joins_the_thread() {
    let counters = Arc::new(Counters::default());
    let (log, handlers) = status_log();
    let session =
        CaptureSession::start(TestSource::new(&counters), manual(), no_preview(), handlers)
            .expect("start");
    assert_eq!(counters.get(), (1, 0, 0));
    wait_until("frames", || session.stats().captured > 10);
    let stats = session.stop();
    // Closed once, and the source itself dropped: the thread has ended.
    assert_eq!(counters.get(), (1, 1, 1));
    assert!(stats.captured > 10);
    let log = log.lock().expect("log");
    assert!(matches!(log.first(), Some(SessionStatus::Started(_))));
    assert!(matches!(
        log.last(),
        Some(SessionStatus::Ended {
            end: SessionEnd::Stopped,
            ..
        })
    ));
    assert_eq!(log.len(), 2);
}

#[test]
fn dropping_the_session_releases_the_camera() {
    let counters = Arc::new(Counters::default());
    let session = CaptureSession::start(
        TestSource::new(&counters),
        manual(),
        CaptureConfig::default(),
        Handlers::new(),
    )
    .expect("start");
    wait_until("frames", || session.stats().captured > 0);
    drop(session);
    assert_eq!(counters.get(), (1, 1, 1));
}

#[test]
fn stopping_a_camera_waiting_for_its_next_frame_releases_it() {
    let counters = Arc::new(Counters::default());
    let mut source = TestSource::new(&counters);
    source.limit = Some(1);
    let session = CaptureSession::start(
        source,
        Arc::new(SystemClock::new()),
        no_preview(),
        Handlers::new(),
    )
    .expect("start");
    wait_until("the frame", || session.stats().captured == 1);
    drop(session);
    assert_eq!(counters.get(), (1, 1, 1));
}

#[test]
fn a_camera_that_fails_to_open_is_an_error_and_is_not_closed() {
    let counters = Arc::new(Counters::default());
    let mut source = TestSource::new(&counters);
    source.fail_open = true;
    let (log, handlers) = status_log();
    let error =
        CaptureSession::start(source, manual(), no_preview(), handlers).expect_err("busy camera");
    assert!(matches!(error, CameraError::Busy { .. }), "{error}");
    assert_eq!(counters.get(), (1, 0, 1));
    assert!(log.lock().expect("log").is_empty());
}

#[test]
fn a_camera_failing_mid_stream_ends_the_session_with_its_error() {
    let counters = Arc::new(Counters::default());
    let mut source = TestSource::new(&counters);
    source.fail_after = Some(5);
    let (log, handlers) = status_log();
    let session =
        CaptureSession::start(source, manual(), CaptureConfig::default(), handlers).expect("start");
    wait_until("the session to end", || session.is_finished());
    assert_eq!(counters.get(), (1, 1, 1));
    let stats = session.stop();
    assert_eq!(stats.captured, 5);
    assert_eq!(
        counters.get(),
        (1, 1, 1),
        "stop after the end closes nothing twice"
    );
    let log = log.lock().expect("log");
    assert!(
        matches!(
            log.last(),
            Some(SessionStatus::Ended {
                end: SessionEnd::Failed(CameraError::Disconnected { .. }),
                ..
            })
        ),
        "{log:?}"
    );
}

fn detections() -> (Arc<Mutex<Vec<DetectionEvent>>>, Handlers) {
    let found = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&found);
    let handlers = Handlers::new().on_detection(move |e| sink.lock().expect("found").push(e));
    (found, handlers)
}

fn texts(found: &Mutex<Vec<DetectionEvent>>) -> Vec<String> {
    found
        .lock()
        .expect("found")
        .iter()
        .flat_map(|e| e.detections.iter().map(|d| d.text.clone()))
        .collect()
}

#[test]
fn a_code_in_view_is_reported_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("qr.png");
    let (payload, frame) = qr_frame(11);
    std::fs::write(&path, png(&frame)).expect("write");
    // The real clock: at a real camera's pace the scanner keeps up, so each
    // detection finds its frame's capture time.
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
    let camera = VirtualCamera::new(&path, VirtualConfig::default(), Arc::clone(&clock));
    let (found, handlers) = detections();
    let session = CaptureSession::start(camera, clock, no_preview(), handlers).expect("start");
    wait_until("60 scanned frames", || {
        session.stats().scanner.processed >= 60
    });
    let stats = session.stop();
    assert_eq!(texts(&found), [payload], "{stats:?}");
    let found = found.lock().expect("found");
    let event = &found[0];
    assert_eq!((event.frame_width, event.frame_height), (640, 480));
    assert!(event.captured.is_some() && event.latency.is_some());
    assert!(event.detections[0].z_monitor);
}

#[test]
fn a_monitor_rewriting_its_qr_is_followed_through_the_session() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("qr.png");
    let (first, first_frame) = qr_frame(21);
    let (second, second_frame) = qr_frame(22);
    std::fs::write(&path, png(&first_frame)).expect("write");
    let clock = manual();
    let camera = VirtualCamera::new(&path, VirtualConfig::default(), Arc::clone(&clock));
    let (found, handlers) = detections();
    let session = CaptureSession::start(camera, clock, no_preview(), handlers).expect("start");
    wait_until("the first code", || !texts(&found).is_empty());
    // Half a file first, as a reader may catch a writer: tolerated.
    let whole = png(&second_frame);
    std::fs::write(&path, &whole[..whole.len() / 3]).expect("write part");
    let seen = session.stats().captured;
    wait_until("frames past the partial file", || {
        session.stats().captured > seen + 30
    });
    assert!(
        !session.is_finished(),
        "a half-written file ended the session"
    );
    write_atomically(&path, &whole);
    wait_until("the second code", || texts(&found).len() >= 2);
    drop(session);
    assert_eq!(texts(&found), [first, second]);
}

#[test]
fn previews_follow_their_rate_not_the_camera_rate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("qr.png");
    std::fs::write(&path, png(&qr_frame(31).1)).expect("write");
    let clock = manual();
    // 30 fps camera, 10 fps preview: one frame in three is offered.
    let camera = VirtualCamera::new(&path, VirtualConfig::default(), Arc::clone(&clock));
    let session = CaptureSession::start(camera, clock, CaptureConfig::default(), Handlers::new())
        .expect("start");
    wait_until("frames", || session.stats().captured >= 90);
    let stats = session.stop();
    assert_eq!(
        stats.previews + stats.previews_dropped,
        stats.captured.div_ceil(3),
        "{stats:?}"
    );
}

#[test]
fn previews_are_small_jpegs_outlining_the_found_code() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("qr.png");
    std::fs::write(&path, png(&qr_frame(41).1)).expect("write");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
    let camera = VirtualCamera::new(&path, VirtualConfig::default(), Arc::clone(&clock));
    let previews = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&previews);
    let config = CaptureConfig {
        preview: PreviewConfig {
            max_width: 320,
            ..PreviewConfig::default()
        },
        ..CaptureConfig::default()
    };
    let handlers = Handlers::new().on_preview(move |p| sink.lock().expect("previews").push(p));
    let session = CaptureSession::start(camera, clock, config, handlers).expect("start");
    wait_until("an outlined preview", || {
        previews
            .lock()
            .expect("previews")
            .iter()
            .any(|p| p.outline.is_some())
    });
    drop(session);
    let previews = previews.lock().expect("previews");
    let outlined = previews
        .iter()
        .find(|p| p.outline.is_some())
        .expect("outlined");
    assert_eq!((outlined.width, outlined.height), (320, 240));
    assert_eq!(&outlined.jpeg[..2], [0xFF, 0xD8]);
    for (x, y) in outlined.outline.expect("outline") {
        assert!(
            (0.0..=320.0).contains(&x) && (0.0..=240.0).contains(&y),
            "{x},{y}"
        );
    }
}

/// The outline follows a code that stays in view (the scanner reads it
/// again frame after frame, though it announces it once), well past the
/// hold that bridges missed reads, and leaves once the code does.
#[test]
fn the_outline_stays_while_the_code_is_in_view_and_leaves_with_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("qr.png");
    let (_, code) = qr_frame(43);
    std::fs::write(&path, png(&code)).expect("write");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
    let camera = VirtualCamera::new(&path, VirtualConfig::default(), Arc::clone(&clock));
    let previews = Arc::new(Mutex::new(Vec::<PreviewFrame>::new()));
    let sink = Arc::clone(&previews);
    let handlers = Handlers::new().on_preview(move |p| sink.lock().expect("previews").push(p));
    let session =
        CaptureSession::start(camera, clock, CaptureConfig::default(), handlers).expect("start");
    let first_outlined = || {
        previews
            .lock()
            .expect("previews")
            .iter()
            .find(|p| p.outline.is_some())
            .map(|p| p.captured)
    };
    wait_until("an outlined preview", || first_outlined().is_some());
    let since = first_outlined().expect("outlined");
    let outlined_after = |at: Duration| {
        previews
            .lock()
            .expect("previews")
            .iter()
            .any(|p| p.captured >= at && p.outline.is_some())
    };
    wait_until("the outline still there after three holds", || {
        outlined_after(since + 3 * OUTLINE_HOLD)
    });

    write_atomically(&path, &png(&blank_frame(code.width, code.height, 20)));
    let count = previews.lock().expect("previews").len();
    wait_until("a preview without the outline", || {
        previews.lock().expect("previews")[count..]
            .iter()
            .any(|p| p.outline.is_none())
    });
    drop(session);
}

#[test]
fn a_y4m_video_goes_the_camera_path_to_a_detection() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("monitor.y4m");
    let (payload, frame) = qr_frame(51);
    let blank = blank_frame(frame.width, frame.height, 20);
    // The code is in one frame of three, as if it flickered into view.
    std::fs::write(&path, y4m(&[blank.clone(), frame, blank], 30)).expect("write");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
    let camera = VirtualCamera::new(&path, VirtualConfig::default(), Arc::clone(&clock));
    let (found, handlers) = detections();
    let session = CaptureSession::start(camera, clock, no_preview(), handlers).expect("start");
    assert_eq!(
        session.info().rate,
        FrameRate::per_second(30).expect("rate")
    );
    wait_until("the code", || !texts(&found).is_empty());
    drop(session);
    assert_eq!(texts(&found)[0], payload);
}

/// A camera whose driver hangs in a read, ignoring the stop signal, until
/// the test lets it go.
struct StuckSource {
    counters: Arc<Counters>,
    release: Option<mpsc::Receiver<()>>,
}

struct StuckStream {
    counters: Arc<Counters>,
    release: mpsc::Receiver<()>,
}

impl FrameSource for StuckSource {
    fn open(&mut self) -> Result<(StreamInfo, Box<dyn FrameStream>), CameraError> {
        self.counters.opens.fetch_add(1, Ordering::AcqRel);
        let release = self.release.take().ok_or(CameraError::Busy {
            device: "stuck".into(),
        })?;
        let info = StreamInfo {
            name: "stuck".into(),
            width: 8,
            height: 8,
            rate: FrameRate::default(),
        };
        let stream = StuckStream {
            counters: Arc::clone(&self.counters),
            release,
        };
        Ok((info, Box::new(stream)))
    }
}

impl FrameStream for StuckStream {
    fn next_frame(&mut self, frame: &mut GreyBuffer, _: &StopSignal) -> Result<Next, CameraError> {
        let _ = self.release.recv();
        frame.set(&[0; 64], 8, 8);
        Ok(Next::Frame)
    }

    fn close(self: Box<Self>) {
        self.counters.closes.fetch_add(1, Ordering::AcqRel);
    }
}

#[test]
fn a_camera_stuck_in_a_read_does_not_hang_stop_and_is_closed_when_it_returns() {
    let counters = Arc::new(Counters::default());
    let (release, wait) = mpsc::channel();
    let source = StuckSource {
        counters: Arc::clone(&counters),
        release: Some(wait),
    };
    let config = CaptureConfig {
        stop_grace: Duration::from_millis(50),
        ..no_preview()
    };
    let session = CaptureSession::start(source, manual(), config, Handlers::new()).expect("start");
    let stats = session.stop();
    assert_eq!(stats.captured, 0);
    assert_eq!(counters.get().1, 0, "still stuck, not yet closed");
    release.send(()).expect("release");
    wait_until("the camera to be closed", || counters.get() == (1, 1, 0));
}

//! Camera benchmark: the virtual camera shows a simulated monitor's QR
//! screen (1280x720 at 30 fps), the way `--camera file:screen/qr.png` does,
//! and the QR appears and disappears; a new payload each time, written with
//! an atomic rename as the monitor writes it.
//!
//! ```text
//! cargo bench -p zpair-camera --bench camera -- [--appearances N]
//! ```
//!
//! It reports the time from the QR appearing in the file to the detection
//! callback (which includes waiting for the camera's next frame and the
//! file's decode, as a real camera's exposure and transfer would) and from
//! the detected frame's capture to the callback; the scanner's work per
//! frame with and without a code in view; the capture thread's work per
//! frame; the preview's encode per frame; and the process's CPU time per
//! second of wall time while scanning (from `/proc/self/stat`, Linux).
//! The target is under 300 ms p95 from appearance to detection.

use std::io::Cursor;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use qr_frames::Distortion;
use zpair_camera::{
    CaptureConfig, CaptureSession, Clock, GreyBuffer, Handlers, PreviewConfig, SystemClock,
    VirtualCamera, VirtualConfig, encode_preview,
};
use zpair_scanner::{Scanner, ScannerConfig};

const WIDTH: u32 = 1280;
const HEIGHT: u32 = 720;
const DEFAULT_APPEARANCES: usize = 60;
/// How long the code stays in view, and the gap after it.
const SHOWN: Duration = Duration::from_millis(600);
const HIDDEN: Duration = Duration::from_millis(300);
/// Scans timed per frame kind.
const SCANS: usize = 50;

/// Why the bench could not run.
#[derive(Debug, thiserror::Error)]
enum BenchError {
    /// The command line was wrong.
    #[error("{0}; see the doc comment for the arguments")]
    Usage(String),
    /// A monitor screen could not be rendered.
    #[error("rendering a monitor screen: {0}")]
    Render(#[from] qr_frames::FrameError),
    /// A screen could not be encoded as PNG.
    #[error("encoding a screen as PNG: {0}")]
    Png(#[from] image::ImageError),
    /// A rendered frame does not hold width × height pixels.
    #[error("a rendered frame does not match its size")]
    FrameSize,
    /// The screen file could not be written.
    #[error("writing the screen file: {0}")]
    Io(#[from] std::io::Error),
    /// The virtual camera did not start.
    #[error("starting the camera: {0}")]
    Camera(#[from] zpair_camera::CameraError),
}

fn main() -> ExitCode {
    let appearances = match parse_args() {
        Ok(n) => n,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    match run(appearances) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("camera bench failed: {message}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args() -> Result<usize, BenchError> {
    let mut appearances = DEFAULT_APPEARANCES;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--appearances" => {
                appearances = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&n: &usize| n > 0)
                    .ok_or_else(|| {
                        BenchError::Usage("--appearances needs a positive number".into())
                    })?;
            }
            // cargo bench passes --bench to every bench binary.
            "--bench" => {}
            other => return Err(BenchError::Usage(format!("unknown argument {other}"))),
        }
    }
    Ok(appearances)
}

struct Frames {
    payloads: Vec<String>,
    qr: Vec<GreyBuffer>,
    qr_png: Vec<Vec<u8>>,
    blank: GreyBuffer,
    blank_png: Vec<u8>,
}

fn render(appearances: usize) -> Result<Frames, BenchError> {
    let mut payloads = Vec::new();
    let mut qr = Vec::new();
    let mut qr_png = Vec::new();
    for seed in 0..appearances as u64 {
        let (payload, image) = qr_frames::monitor_frame(WIDTH, HEIGHT, Distortion::Clean, seed)?;
        let frame = GreyBuffer {
            pixels: image.pixels,
            width: image.width,
            height: image.height,
        };
        qr_png.push(png(&frame)?);
        qr.push(frame);
        payloads.push(payload);
    }
    // The monitor's dark UI without a code: what the camera sees between.
    let blank = GreyBuffer {
        pixels: vec![18; (WIDTH * HEIGHT) as usize],
        width: WIDTH,
        height: HEIGHT,
    };
    let blank_png = png(&blank)?;
    Ok(Frames {
        payloads,
        qr,
        qr_png,
        blank,
        blank_png,
    })
}

fn png(frame: &GreyBuffer) -> Result<Vec<u8>, BenchError> {
    let image = image::GrayImage::from_raw(frame.width, frame.height, frame.pixels.clone())
        .ok_or(BenchError::FrameSize)?;
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png)?;
    Ok(out.into_inner())
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), BenchError> {
    let temp = path.with_extension("tmp");
    std::fs::write(&temp, bytes)?;
    Ok(std::fs::rename(&temp, path)?)
}

/// CPU seconds (user + system) of this process so far.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of proc(5) (utime, stime), in USER_HZ = 100 ticks.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    #[allow(clippy::cast_precision_loss)]
    Some(ticks as f64 / 100.0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// (p50, p95) in ms.
fn percentiles(samples: &mut [Duration]) -> (f64, f64) {
    samples.sort();
    let at = |q: f64| {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let rank = ((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
        ms(samples[rank - 1])
    };
    if samples.is_empty() {
        (f64::NAN, f64::NAN)
    } else {
        (at(0.50), at(0.95))
    }
}

fn time_each(n: usize, mut f: impl FnMut()) -> Vec<Duration> {
    (0..n)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect()
}

fn row(what: &'static str, samples: &mut [Duration]) -> Row {
    let (p50, p95) = percentiles(samples);
    Row {
        what,
        p50,
        p95,
        n: samples.len(),
    }
}

struct Row {
    what: &'static str,
    p50: f64,
    p95: f64,
    n: usize,
}

#[allow(clippy::too_many_lines)]
fn run(appearances: usize) -> Result<(), BenchError> {
    eprintln!("rendering {appearances} monitor screens at {WIDTH}x{HEIGHT}…");
    let frames = render(appearances)?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("qr.png");
    write_atomically(&path, &frames.blank_png)?;

    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
    let camera = VirtualCamera::new(&path, VirtualConfig::default(), Arc::clone(&clock));
    let (found_tx, found_rx) = mpsc::channel();
    let handlers = Handlers::new().on_detection(move |event| {
        let at = Instant::now();
        for d in event.detections {
            let _ = found_tx.send((d.text, at, event.latency));
        }
    });
    let session = CaptureSession::start(camera, clock, CaptureConfig::default(), handlers)?;

    eprintln!("showing the QR {appearances} times…");
    let cpu_start = cpu_seconds();
    let wall_start = Instant::now();
    let mut appear_to_detect = Vec::new();
    let mut capture_to_detect = Vec::new();
    let mut missed = 0;
    for (payload, png) in frames.payloads.iter().zip(&frames.qr_png) {
        write_atomically(&path, png)?;
        let appeared = Instant::now();
        let deadline = appeared + SHOWN;
        let mut seen = false;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match found_rx.recv_timeout(left) {
                Ok((text, at, latency)) if &text == payload && !seen => {
                    seen = true;
                    appear_to_detect.push(at.duration_since(appeared));
                    capture_to_detect.extend(latency);
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        if !seen {
            missed += 1;
        }
        if let Some(rest) = deadline.checked_duration_since(Instant::now()) {
            std::thread::sleep(rest);
        }
        write_atomically(&path, &frames.blank_png)?;
        std::thread::sleep(HIDDEN);
    }
    let wall = wall_start.elapsed();
    let cpu = cpu_start.zip(cpu_seconds()).map(|(a, b)| b - a);
    let stats = session.stop();

    // Work per frame, outside the session: the scanner alone on the two
    // kinds of frame the camera delivered, as the live worker scans them
    // (the first pass and the others in turn), and the preview encoder.
    let scanner = Scanner::new(ScannerConfig {
        budget: VirtualConfig::default().rate.interval(),
    });
    let mut scan_qr = time_each(SCANS, {
        let mut n = 0;
        let qr = &frames.qr;
        let scanner = &scanner;
        move || {
            if let Ok(frame) = qr[n % qr.len()].frame() {
                let _ = scanner.scan_in_turn(frame, n as u64);
            }
            n += 1;
        }
    });
    let mut scan_blank = time_each(SCANS, {
        let mut n = 0;
        let scanner = &scanner;
        let blank = &frames.blank;
        move || {
            if let Ok(frame) = blank.frame() {
                let _ = scanner.scan_in_turn(frame, n);
            }
            n += 1;
        }
    });
    let preview_config = PreviewConfig::default();
    let mut jpeg_bytes = 0;
    let mut preview = time_each(SCANS, || {
        if let Ok(jpeg) = encode_preview(&frames.qr[0], &preview_config) {
            jpeg_bytes = jpeg.bytes.len();
        }
    });

    let rows = [
        row(
            "QR appears in file → detection callback",
            &mut appear_to_detect,
        ),
        row(
            "detected frame captured → detection callback",
            &mut capture_to_detect,
        ),
        row("scan per frame, QR in view", &mut scan_qr),
        row("scan per frame, no code", &mut scan_blank),
        row("preview per frame (downscale + JPEG 640 px)", &mut preview),
    ];
    println!("| measure | n | p50 ms | p95 ms |");
    println!("| --- | --- | --- | --- |");
    for row in &rows {
        println!(
            "| {} | {} | {:.1} | {:.1} |",
            row.what, row.n, row.p50, row.p95
        );
    }
    #[allow(clippy::cast_precision_loss)]
    let per_frame = ms(stats.work) / stats.captured.max(1) as f64;
    println!();
    println!("| session | value |");
    println!("| --- | --- |");
    println!(
        "| appearances detected | {} of {appearances} ({missed} missed) |",
        appear_to_detect.len()
    );
    println!(
        "| frames captured / scanned / dropped | {} / {} / {} |",
        stats.captured, stats.scanner.processed, stats.scanner.dropped
    );
    println!("| capture thread work per frame | {per_frame:.3} ms |");
    println!(
        "| previews sent / dropped | {} / {} ({jpeg_bytes} bytes each) |",
        stats.previews, stats.previews_dropped
    );
    match cpu {
        Some(cpu) => println!(
            "| CPU while scanning | {:.0} ms per second ({:.0}% of one core) |",
            1000.0 * cpu / wall.as_secs_f64(),
            100.0 * cpu / wall.as_secs_f64()
        ),
        None => println!("| CPU while scanning | not measured (no /proc/self/stat) |"),
    }
    let p95 = rows[0].p95;
    println!();
    println!(
        "appearance → detection p95 {p95:.1} ms ({} the 300 ms target)",
        if p95 < 300.0 { "within" } else { "over" }
    );
    Ok(())
}

//! Scan-to-pair benchmark: from a monitor's QR appearing in front of the
//! app's camera to the pair request leaving the app, with "pair as soon as
//! a monitor is found" on.
//!
//! ```text
//! cargo bench -p zpair-app --bench scan_to_pair -- [--appearances N]
//! ```
//!
//! The app's virtual camera (`--camera file:PATH`, 30 fps) is shown each of
//! N real monitors' QR screens in turn (copied in with an atomic rename,
//! with a blank screen between). The frame goes through the app's camera
//! session, the live scanner and the app's sightings to a `seen` event; the
//! bench answers it as the Scan screen does, with `pair_scanned` over IPC,
//! and stops the clock when that answers (the request is then on its way to
//! the station). The app runs on Tauri's mock runtime against a real
//! station and real monitors on loopback; the web view's own hop (event in,
//! invoke out) is not in it.

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::Cursor;
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use serde_json::json;
use tauri::Manager;
use tauri::ipc::{Channel, InvokeResponseBody};
use zpair_app::ipc::{CameraEvent, JobState, Pairing, Sighting};
use zpair_camera::CameraDesk;
use zpair_camera::CameraSpec;
use zpair_tests::World;

use support::{App, block_on};

const DEFAULT_APPEARANCES: usize = 50;
/// The blank screen between two monitors' QR codes.
const HIDDEN: Duration = Duration::from_millis(300);
/// Longest wait for one monitor to be found.
const FIND_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the bench could not run.
#[derive(Debug, thiserror::Error)]
enum BenchError {
    #[error("--appearances needs a positive number")]
    Usage,
    #[error("a file: {0}")]
    Io(#[from] std::io::Error),
    #[error("a screen image: {0}")]
    Image(#[from] image::ImageError),
    #[error("the camera: {0}")]
    Camera(#[from] zpair_camera::CameraDeskError),
    #[error("monitor {0} is not in provisioning mode")]
    NoScreen(String),
    #[error("monitor {0} was not found within {FIND_TIMEOUT:?}")]
    NotFound(String),
}

fn main() -> ExitCode {
    match parse_args().and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scan-to-pair bench failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args() -> Result<usize, BenchError> {
    let mut appearances = DEFAULT_APPEARANCES;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--appearances" {
            appearances = args
                .next()
                .and_then(|v| v.parse().ok())
                .filter(|&n: &usize| n > 0)
                .ok_or(BenchError::Usage)?;
        }
        // `cargo bench` passes --bench; anything else is ignored likewise.
    }
    Ok(appearances)
}

/// The monitors' dark screen without a code.
fn blank_png() -> Result<Vec<u8>, BenchError> {
    let mut out = Cursor::new(Vec::new());
    image::GrayImage::from_pixel(640, 360, image::Luma([18]))
        .write_to(&mut out, image::ImageFormat::Png)?;
    Ok(out.into_inner())
}

fn show(file: &Path, write: impl FnOnce(&Path) -> std::io::Result<()>) -> Result<(), BenchError> {
    let aside = file.with_extension("next.png");
    write(&aside)?;
    Ok(std::fs::rename(&aside, file)?)
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let index = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn run(appearances: usize) -> Result<(), BenchError> {
    eprintln!("starting a station and {appearances} monitors in provisioning mode…");
    let ids: Vec<String> = (0..appearances)
        .map(|i| format!("ZM-SCAN-{i:03}"))
        .collect();
    let world = block_on(async {
        let mut world = World::start().await;
        for id in &ids {
            let m = world.add_monitor(id).await;
            world.monitors[m]
                .enter_provisioning_mode()
                .await
                .expect("provisioning mode");
        }
        world
    });
    let data = tempfile::tempdir()?;
    let app = App::start_in(data.path(), Arc::default());
    app.trust_ca(&world);
    app.sign_in();

    let camera_dir = tempfile::tempdir()?;
    let file = camera_dir.path().join("view.png");
    let blank = blank_png()?;
    show(&file, |aside| std::fs::write(aside, &blank))?;
    let desk = CameraDesk::new(Some(CameraSpec::File(file.clone())));
    let (found_tx, found) = mpsc::channel();
    let events = Channel::new(move |body: InvokeResponseBody| {
        if let Ok(CameraEvent::Seen(seen)) = body.deserialize::<CameraEvent>()
            && let Sighting::Found(monitor) = seen.report.sighting
        {
            let _ = found_tx.send((monitor, Instant::now()));
        }
        Ok(())
    });
    let handlers = zpair_app::commands::camera::session_handlers(
        app.window.app_handle().clone(),
        desk.clone(),
        events,
    );
    desk.start(None, handlers)?;

    eprintln!("showing each monitor's QR to the camera…");
    let (mut to_found, mut to_request) = (Vec::new(), Vec::new());
    for (index, id) in ids.iter().enumerate() {
        let screen = world.monitors[index]
            .screen()
            .ok_or_else(|| BenchError::NoScreen(id.clone()))?;
        show(&file, |aside| {
            std::fs::copy(&screen.qr_png_path, aside).map(drop)
        })?;
        let appeared = Instant::now();
        let (monitor, found_at) = loop {
            let left = FIND_TIMEOUT
                .checked_sub(appeared.elapsed())
                .ok_or_else(|| BenchError::NotFound(id.clone()))?;
            let (monitor, at) = found
                .recv_timeout(left)
                .map_err(|_| BenchError::NotFound(id.clone()))?;
            if &monitor.device_id == id {
                break (monitor, at);
            }
        };
        let pairing: Pairing = app.ok("pair_scanned", json!({"scanId": monitor.scan_id}));
        to_request.push(appeared.elapsed());
        to_found.push(found_at.duration_since(appeared));
        assert_eq!(pairing.state, JobState::Submitting);
        show(&file, |aside| std::fs::write(aside, &blank))?;
        std::thread::sleep(HIDDEN);
    }
    let stats = desk.stop();

    // Every request went out and was acted on: the pairings finish.
    let deadline = Instant::now() + Duration::from_secs(60);
    let provisioned = loop {
        let pairings: Vec<Pairing> = app.ok("list_pairings", json!({}));
        let done = pairings.iter().filter(|p| p.state.is_finished()).count();
        if done == pairings.len() || Instant::now() > deadline {
            break pairings
                .iter()
                .filter(|p| p.state == JobState::Provisioned)
                .count();
        }
        std::thread::sleep(Duration::from_millis(200));
    };

    to_found.sort();
    to_request.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!();
    println!("| measure | n | p50 ms | p95 ms | max ms |");
    println!("| --- | --- | --- | --- | --- |");
    for (name, times) in [
        ("QR appears → monitor found (seen event)", &to_found),
        (
            "QR appears → pair request sent (pair_scanned answered)",
            &to_request,
        ),
    ] {
        println!(
            "| {name} | {} | {:.1} | {:.1} | {:.1} |",
            times.len(),
            ms(percentile(times, 0.5)),
            ms(percentile(times, 0.95)),
            ms(percentile(times, 1.0))
        );
    }
    if let Some(stats) = stats {
        println!(
            "\ncamera: {} frames captured, {} scanned, {} dropped; {provisioned}/{appearances} pairings PROVISIONED",
            stats.captured, stats.scanner.processed, stats.scanner.dropped
        );
    }
    Ok(())
}

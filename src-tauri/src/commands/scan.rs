//! Scanning QR codes in frames the web view captures (its camera, or an
//! image file the technician picked or dropped), and pairing what was found.

use tauri::State;
use tauri::ipc::{InvokeBody, Request};
use time::OffsetDateTime;
use zpair_core::pairing::PairTarget;

use crate::ipc::{AppError, Pairing, ScanReport};
use crate::scan::{self, FrameError};
use crate::state::AppState;

/// Header carrying the frame's width in pixels.
pub const WIDTH_HEADER: &str = "x-frame-width";
/// Header carrying the frame's height in pixels.
pub const HEIGHT_HEADER: &str = "x-frame-height";
/// Header carrying a camera frame's number in its stream (0, 1, 2, …); an
/// image file sends none.
pub const INDEX_HEADER: &str = "x-frame-index";

/// Scans one grey frame: the raw body is the pixels (one byte each,
/// row-major), the headers its size and, for a camera's frames, their number
/// in the stream: those take the cascade's passes in turn, as the app's own
/// camera does, while an image file gets every pass. Raw bytes, not JSON,
/// because a 1280x720 frame as a JSON array would cost more than decoding
/// it. The scan runs on a blocking thread, away from the IPC and UI threads.
#[tauri::command]
pub async fn scan_frame(
    state: State<'_, AppState>,
    request: Request<'_>,
) -> Result<ScanReport, AppError> {
    let InvokeBody::Raw(body) = request.body() else {
        return Err(FrameError::NotBinary.into());
    };
    let width = size_header(&request, WIDTH_HEADER)?;
    let height = size_header(&request, HEIGHT_HEADER)?;
    let index = index_header(&request)?;
    let pixels = body.clone();
    let scanner = state.scanner().clone();
    let outcome = tauri::async_runtime::spawn_blocking(move || {
        scan::scan_pixels(&scanner, &pixels, width, height, index)
    })
    .await
    .map_err(|_| FrameError::Stopped)??;
    let book = state.pairings().book();
    Ok(scan::report(
        &outcome.detections,
        state.sightings(),
        OffsetDateTime::now_utc(),
        |device_id| book.is_running(device_id),
    ))
}

/// Pairs a monitor found by scanning; its QR is never sent again.
#[tauri::command]
pub async fn pair_scanned(
    state: State<'_, AppState>,
    scan_id: String,
) -> Result<Pairing, AppError> {
    let session = state.signed_in_session().await?;
    let monitor = state
        .sightings()
        .take(&scan_id, OffsetDateTime::now_utc())?;
    let pairing = state
        .pairings()
        .start(session, PairTarget::Scanned(monitor))?;
    Ok(pairing.into())
}

/// Forgets a found monitor the technician does not want to pair.
#[tauri::command]
pub fn dismiss_scanned(state: State<'_, AppState>, scan_id: String) -> Result<(), AppError> {
    state.sightings().dismiss(&scan_id);
    Ok(())
}

/// The stream index of a camera frame; `None` for a single picture.
fn index_header(request: &Request<'_>) -> Result<Option<u64>, FrameError> {
    request
        .headers()
        .get(INDEX_HEADER)
        .map(|v| {
            v.to_str()
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .ok_or(FrameError::BadIndex)
        })
        .transpose()
}

fn size_header(request: &Request<'_>, name: &'static str) -> Result<u32, FrameError> {
    request
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .ok_or(FrameError::MissingSize(name))
}

//! The app's own camera on the Scan screen: which cameras there are, and a
//! session that streams previews and detections until the screen closes.

use std::sync::Arc;

use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Runtime, State};
use time::OffsetDateTime;
use zpair_camera::{
    CameraDesk, CameraDeskError, DetectionEvent, Handlers, PreviewFrame, SessionEnd, SessionStatus,
};

use crate::ipc::{
    AppError, CameraChoice, CameraEnded, CameraEvent, CameraSeen, CameraStarted, PreviewShown,
};
use crate::scan;
use crate::state::AppState;

/// The cameras to offer; empty when there is none (the screen then uses
/// the web view's camera, or says there is none).
#[tauri::command]
pub async fn list_cameras(state: State<'_, AppState>) -> Result<Vec<CameraChoice>, AppError> {
    let desk = state.camera().clone();
    let cameras = tauri::async_runtime::spawn_blocking(move || desk.cameras())
        .await
        .map_err(|_| CameraDeskError::Interrupted)?
        .map_err(CameraDeskError::from)?;
    Ok(cameras.into_iter().map(CameraChoice::from).collect())
}

/// Opens `cameraId` (or the default camera) and starts scanning: previews
/// (served on the `preview:` scheme), detections and the camera's end are
/// announced on `events`. Answers once the camera is open, with its name and
/// frame size.
#[tauri::command]
pub async fn start_camera<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    camera_id: Option<String>,
    events: Channel<CameraEvent>,
) -> Result<CameraStarted, AppError> {
    let desk: Arc<CameraDesk> = state.camera().clone();
    let handlers = session_handlers(app, desk.clone(), events);
    let info =
        tauri::async_runtime::spawn_blocking(move || desk.start(camera_id.as_deref(), handlers))
            .await
            .map_err(|_| CameraDeskError::Interrupted)??;
    Ok(CameraStarted {
        label: info.name,
        width: info.width,
        height: info.height,
    })
}

/// Stops the camera; it is closed when this answers.
#[tauri::command]
pub async fn stop_camera(state: State<'_, AppState>) -> Result<(), AppError> {
    let desk = state.camera().clone();
    tauri::async_runtime::spawn_blocking(move || desk.stop())
        .await
        .map_err(|_| CameraDeskError::Interrupted)?;
    Ok(())
}

/// Where a session's callbacks go: previews onto `desk`'s shelf and
/// announced on `events`, detections through the app's sightings to
/// `events`. Each runs on a
/// session thread and only sends: a closed channel (the screen went away) is
/// no error worth more than a debug line, since leaving the screen stops the
/// session anyway.
pub fn session_handlers<R: Runtime>(
    app: AppHandle<R>,
    desk: Arc<CameraDesk>,
    events: Channel<CameraEvent>,
) -> Handlers {
    let preview_events = events.clone();
    let status_events = events.clone();
    Handlers::new()
        .on_preview(move |preview: PreviewFrame| {
            let shown = PreviewShown {
                frame: preview.frame,
                width: preview.width,
                height: preview.height,
                outline: preview.outline.as_ref().map(scan::outline),
            };
            desk.previews().put(preview.frame, preview.jpeg);
            if preview_events.send(CameraEvent::Preview(shown)).is_err() {
                tracing::debug!("preview not delivered");
            }
        })
        .on_detection(move |event: DetectionEvent| {
            let state = app.state::<AppState>();
            let book = state.pairings().book();
            let report = scan::report(
                &event.detections,
                state.sightings(),
                OffsetDateTime::now_utc(),
                |device_id| book.is_running(device_id),
            );
            let seen = CameraSeen {
                report,
                frame_width: event.frame_width,
                frame_height: event.frame_height,
            };
            if events.send(CameraEvent::Seen(seen)).is_err() {
                tracing::debug!("detection not delivered");
            }
        })
        .on_status(move |status: SessionStatus| {
            if let SessionStatus::Ended {
                end: SessionEnd::Failed(error),
                ..
            } = status
            {
                tracing::warn!(error = %error, "camera failed");
                let ended = CameraEnded {
                    error: AppError::from(CameraDeskError::from(error)),
                };
                if status_events.send(CameraEvent::Ended(ended)).is_err() {
                    tracing::debug!("camera end not delivered");
                }
            }
        })
}

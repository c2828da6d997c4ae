//! The one camera session of the Scan screen.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use zpair_core::error::ErrorCode;

use zpair_camera::{
    CameraError, CameraSpec, CaptureConfig, CaptureSession, CaptureStats, Clock, Handlers,
    SourceConfig, StreamInfo, SystemClock, list_devices, source_for,
};
use zpair_proto::user_facing::UserFacing;

use super::PreviewShelf;
use crate::ipc::CameraChoice;

/// The choice ID of the virtual camera given with `--camera file:PATH`.
pub const VIRTUAL_CAMERA_ID: &str = "file";

/// Why a camera could not be chosen.
#[derive(Debug, thiserror::Error)]
pub enum CameraDeskError {
    /// The Scan screen asked for a camera that is not in the list.
    #[error("That camera is no longer connected. Choose another one from the list.")]
    UnknownChoice,
    /// The camera itself failed.
    #[error(transparent)]
    Camera(#[from] CameraError),
    /// Opening the camera was cut short (the app is closing).
    #[error("The camera could not be opened. Open the Scan screen again.")]
    Interrupted,
}

impl UserFacing for CameraDeskError {
    fn code(&self) -> ErrorCode {
        match self {
            CameraDeskError::UnknownChoice => ErrorCode::CameraNotFound,
            CameraDeskError::Camera(e) => e.code(),
            CameraDeskError::Interrupted => ErrorCode::CameraFailed,
        }
    }
}

/// Which camera the app uses, the running session, and its latest preview.
#[derive(Debug)]
pub struct CameraDesk {
    /// From `--camera`; `None` offers the cameras connected.
    spec: Option<CameraSpec>,
    running: Mutex<Option<CaptureSession>>,
    previews: PreviewShelf,
}

impl CameraDesk {
    /// A desk for the camera `--camera` chose (if any).
    pub fn new(spec: Option<CameraSpec>) -> Arc<Self> {
        Arc::new(Self {
            spec,
            running: Mutex::new(None),
            previews: PreviewShelf::default(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Option<CaptureSession>> {
        // Only ever replaced whole: nothing half-done after a panic.
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cameras the Scan screen offers: the virtual camera when one was
    /// given, else those connected now (possibly none).
    ///
    /// # Errors
    /// The system's refusal to list cameras.
    pub fn cameras(&self) -> Result<Vec<CameraChoice>, CameraError> {
        if let Some(CameraSpec::File(path)) = &self.spec {
            let name = path
                .file_name()
                .unwrap_or(path.as_os_str())
                .to_string_lossy();
            return Ok(vec![CameraChoice {
                id: VIRTUAL_CAMERA_ID.into(),
                label: format!("Virtual camera ({name})"),
            }]);
        }
        Ok(list_devices()?
            .into_iter()
            .map(|device| CameraChoice {
                id: device.index.to_string(),
                label: device.name,
            })
            .collect())
    }

    /// Stops any running session, then opens `choice` (or the camera
    /// `--camera` named, or the first one) and starts capturing. Blocks
    /// until the camera is open: call it off the UI thread.
    ///
    /// # Errors
    /// An unknown choice, or the camera's own error (none, denied, busy).
    pub fn start(
        &self,
        choice: Option<&str>,
        handlers: Handlers,
    ) -> Result<StreamInfo, CameraDeskError> {
        self.stop();
        let spec = self.spec_for(choice)?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
        let source = source_for(&spec, SourceConfig::default(), clock.clone())?;
        let session = CaptureSession::start(source, clock, CaptureConfig::default(), handlers)?;
        let info = session.info().clone();
        tracing::info!(camera = %info.name, width = info.width, height = info.height, "camera started");
        *self.lock() = Some(session);
        Ok(info)
    }

    /// The running session's latest preview, for the `preview:` scheme.
    pub fn previews(&self) -> &PreviewShelf {
        &self.previews
    }

    /// Stops the running session, if any: its threads are joined and the
    /// camera closed when this returns, and its last preview is gone.
    pub fn stop(&self) -> Option<CaptureStats> {
        let session = self.lock().take()?;
        let stats = session.stop();
        self.previews.clear();
        tracing::info!(
            captured = stats.captured,
            scanned = stats.scanner.processed,
            dropped = stats.scanner.dropped,
            "camera stopped"
        );
        Some(stats)
    }

    /// Whether a session is capturing now.
    pub fn is_running(&self) -> bool {
        self.lock().as_ref().is_some_and(|s| !s.is_finished())
    }

    fn spec_for(&self, choice: Option<&str>) -> Result<CameraSpec, CameraDeskError> {
        match choice {
            None => Ok(self.spec.clone().unwrap_or_default()),
            Some(VIRTUAL_CAMERA_ID) => match &self.spec {
                Some(spec @ CameraSpec::File(_)) => Ok(spec.clone()),
                _ => Err(CameraDeskError::UnknownChoice),
            },
            Some(index) => index
                .parse()
                .map(CameraSpec::Index)
                .map_err(|_| CameraDeskError::UnknownChoice),
        }
    }
}

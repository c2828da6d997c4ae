//! The one camera session of a scan screen: which cameras to offer, the
//! session that runs (opening one stops the last), and its latest preview.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use zpair_proto::ErrorCode;
use zpair_proto::user_facing::UserFacing;

use crate::{
    CameraError, CameraSpec, CaptureConfig, CaptureSession, CaptureStats, Clock, Handlers,
    SourceConfig, StreamInfo, SystemClock, list_devices, source_for,
};

/// A camera the technician can choose: `id` is what [`CameraDesk::start`]
/// takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraChoice {
    /// The device's index, or [`VIRTUAL_CAMERA_ID`].
    pub id: String,
    /// What the technician reads.
    pub label: String,
}

/// The latest preview JPEG of the running session, replaced whole by each
/// new one and emptied when the camera stops, for whatever shows it (the
/// app serves it on a URI scheme of its own).
#[derive(Debug, Default)]
pub struct PreviewShelf {
    latest: Mutex<Option<(u64, Arc<[u8]>)>>,
}

impl PreviewShelf {
    /// Puts the preview of camera frame `frame` on the shelf.
    pub fn put(&self, frame: u64, jpeg: Vec<u8>) {
        *self.lock() = Some((frame, jpeg.into()));
    }

    /// Empties the shelf: the camera stopped, and its last picture must not
    /// be shown to the next session.
    pub fn clear(&self) {
        *self.lock() = None;
    }

    /// The latest preview, when frame `asked` is it or an older one (a
    /// screen asks late, never early); `None` for a future frame or when
    /// the camera is off.
    pub fn for_frame(&self, asked: u64) -> Option<Arc<[u8]>> {
        match &*self.lock() {
            Some((frame, jpeg)) if asked <= *frame => Some(jpeg.clone()),
            _ => None,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<(u64, Arc<[u8]>)>> {
        // Only ever replaced whole: nothing half-done after a panic.
        self.latest.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

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

    /// The running session's latest preview.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shelf_keeps_the_latest_preview_until_the_camera_stops() {
        let shelf = PreviewShelf::default();
        assert!(shelf.for_frame(0).is_none());
        shelf.put(7, vec![1]);
        shelf.put(9, vec![2]);
        assert_eq!(shelf.for_frame(9).as_deref(), Some(&[2u8][..]));
        assert_eq!(
            shelf.for_frame(8).as_deref(),
            Some(&[2u8][..]),
            "late asks get the newer one"
        );
        assert!(shelf.for_frame(10).is_none(), "never a future frame");
        shelf.clear();
        assert!(shelf.for_frame(9).is_none());
    }

    #[test]
    fn a_choice_that_is_not_offered_is_refused() {
        let desk = CameraDesk::new(None);
        assert!(matches!(
            desk.spec_for(Some("front")),
            Err(CameraDeskError::UnknownChoice)
        ));
        assert!(matches!(
            desk.spec_for(Some(VIRTUAL_CAMERA_ID)),
            Err(CameraDeskError::UnknownChoice)
        ));
        assert_eq!(
            desk.spec_for(Some("2")).expect("an index"),
            CameraSpec::Index(2)
        );
    }
}

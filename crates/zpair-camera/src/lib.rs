//! ZPair's camera, without any UI: frames from a camera or a file, turned to
//! grey and handed to `zpair-core`'s live scanner, plus a small JPEG preview.
//!
//! The seam is [`FrameSource`]: open, then frames at the source's own rate,
//! then close. Two kinds sit behind it, and everything after the seam is the
//! same for both:
//!
//! - [`DeviceCamera`], a real camera through nokhwa (V4L2 on Linux), asking
//!   for about 1280x720 at 30 fps in the format cheapest to turn into grey;
//! - [`VirtualCamera`], `--camera file:PATH`: an image (re-read when a
//!   monitor rewrites it), a folder of images, or a Y4M or MJPEG video,
//!   paced at its frame rate on the capture thread exactly like a camera.
//!
//! [`CaptureSession::start`] runs the source on a thread of its own. Each
//! frame is offered to [`zpair_scanner::LiveScanner`], which copies it
//! into a one-frame mailbox and never blocks, so a slow scan drops frames
//! instead of holding the camera up. A second thread encodes a downscaled
//! JPEG preview at a modest rate. Detections, previews and the session's
//! status reach the caller through callbacks, which a Tauri command can turn
//! into events or channel messages; dropping or stopping the session joins
//! both threads and closes the camera.

mod capture;
mod clock;
mod desk;
mod device;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod grey;
mod open;
mod pace;
mod preview;
mod source;
mod spec;
mod virtual_camera;

#[cfg(test)]
mod test_support;

pub use capture::{
    CaptureConfig, CaptureSession, CaptureStats, DetectionEvent, Handlers, SessionEnd,
    SessionStatus,
};
pub use clock::{Clock, StopSignal, SystemClock};
pub use desk::{CameraChoice, CameraDesk, CameraDeskError, PreviewShelf, VIRTUAL_CAMERA_ID};
pub use device::{CameraMode, DeviceCamera, DeviceInfo, FormatChoice, choose_format, list_devices};
pub use error::CameraError;
pub use grey::{ConvertError, PixelFormat};
pub use open::{SourceConfig, source_for};
pub use preview::{OUTLINE_HOLD, PreviewConfig, PreviewFrame, PreviewJpeg, encode_preview};
pub use source::{
    FrameRate, FrameRateError, FrameSource, FrameStream, GreyBuffer, Next, StreamInfo,
};
pub use spec::{CameraSpec, SpecError};
pub use virtual_camera::{MjpegError, VirtualCamera, VirtualConfig, Y4mError};

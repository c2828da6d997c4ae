//! The app's own camera (zpair-camera's `CameraDesk`: nokhwa devices, or the virtual camera
//! `--camera file:PATH`) on a capture thread of its own. Detections go
//! through the same [`crate::scan::Sightings`] as the web view's frames;
//! previews reach the Scan screen as JPEG on the app's `preview:` URI scheme
//! ([`preview`]), announced with everything else as JSON events on a Tauri
//! channel.
//!
//! One session at a time: opening the Scan screen starts it, leaving the
//! screen (or closing the app) stops it, and stopping joins its threads and
//! closes the camera before returning.

mod preview;

pub use preview::{PREVIEW_SCHEME, not_found, respond};
